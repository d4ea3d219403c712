"""Made-up display names for teaching the name reader the letters of Europe's alphabets.

The shipped text recogniser (PP-OCRv6) was trained mostly on Chinese and English text: on
rendered name labels it reads "Małgorzata" as "Malgorzata", "Nørgaard" as "Norgaard", "Björn"
as "Bjöm" and "Anaïs" as "Anais" even at 14-16 px, where the marks are plain to see. Real
classes are full of such names. This module makes names to train on that are *not* anyone's
list: words are built from syllables of the letter inventories of fifteen languages and of the plain alphabet (each with
its own diacritics and clusters, "rn" and "m" side by side, capital I and small l), then put in
the shapes people give their meeting names (student numbers, roles in brackets, pronouns,
underscores and digits, surnames in capitals, initials). A caller passes the words that a
benchmark's names are made of as ``exclude``, so no benchmark word is ever trained on.

Deterministic from the seed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Letters:
    """One language's syllable parts: onsets, vowels (nuclei) and codas; "" allows none."""

    onsets: tuple[str, ...]
    vowels: tuple[str, ...]
    codas: tuple[str, ...]


def _split(text: str) -> tuple[str, ...]:
    """Space-separated parts; two spaces in a row give an empty part (a syllable may lack one)."""
    return tuple(text.split(" ")) if text else ("",)


# Letters a name of each language uses. Empty strings (two spaces) allow a syllable without onset
# or coda.
LANGUAGES: dict[str, Letters] = {
    "english": Letters(_split("b br c ch d f g gr h j k l m n p qu r s sh st t th tr v w wh x y z  "),
                       _split("a e i o u ea ee oo ai ay"), _split("  n rn m rm ll ck ng r s th x")),
    # Every letter of the plain alphabet, evenly: q, x, w and v are rare in the languages below,
    # and a letter the refit never sees is one it learns to lose (q was read as ą).
    "latin": Letters(_split("b c d f g h j k l m n p q qu qv r s t v w x y z  "), _split("a e i o u y"),
                     _split("  b c d f g k l m n p q r s t v w x z")),
    "polish": Letters(_split("b c ć cz d dz f g h j k l ł m n p r rz s sz ś t w z ż ź  "),
                      _split("a ą e ę i o ó u y a e o"), _split("  ł k n ń sz ć ś ż c j")),
    "czech": Letters(_split("b c č d ď f h ch j k l m n p r ř s š t ť v z ž  "),
                     _split("a á e é ě i í o u ú ů y ý a e o"), _split("  k l n ň r š č ž")),
    "nordic": Letters(_split("b bj d f g h hj j k kj l m n p r s sk sv t v  "),
                      _split("a e i o u y å æ ø ä ö a e o"), _split("  n rn nd rd ld st g k r")),
    "german": Letters(_split("b d f g h k kl l m n p r s sch st t w z  "),
                      _split("a e i o u ä ö ü ie ei au a e"), _split("  n r rn ß tz ck ch ng l")),
    "french": Letters(_split("b c ch d f g gu j l m n p qu r s t v  "),
                      _split("a e i o u é è ê ë ï î ô û ou ai a e"), _split("  n l r s ç x t")),
    # Portuguese writes its nasal diphthongs with the tilde on the first vowel (ão, ãe, õe: João,
    # Magalhães, Simões); a syllable of single vowels never shows a tilde before another vowel,
    # and at 10-12 px a tilde is a line that reads as a macron (ā, Baltic) without that context.
    "iberian": Letters(_split("b c ch d f g j l ll lh m n nh ñ p r s t v z  "),
                       _split("a e i o u á é í ó ú ã õ â ê ô a o ão ãe õe ão"), _split("  n s r l z ç")),
    "turkish": Letters(_split("b c ç d f g ğ h k l m n p r s ş t v y z  "),
                       _split("a e ı i o ö u ü a e"), _split("  n r k l ş t z m")),
    "hungarian": Letters(_split("b cs d f g gy h k l m n ny p r s sz t v zs  "),
                         _split("a á e é i í o ó ö ő u ú ü ű a e"), _split("  n r sz s l k")),
    # Romanian's s and t with a comma below are written with a cedilla (ş, ţ) as often, and the two
    # marks are one or two pixels at label sizes: taught both, the refit flipped Turkish ş to ș.
    "romanian": Letters(_split("b c d f g h l m n p r s ş t ţ v z  "),
                        _split("a ă â e i î o u a e"), _split("  n r u l ş")),
    "icelandic": Letters(_split("b d f g h k l m n p r s t v þ  "),
                         _split("a á e é i í o ó u ú y ý æ ö a"), _split("  ð r n ll s")),
    "baltic": Letters(_split("b č d g ģ j k ķ l ļ m n ņ p r s š t v z ž  "),
                      _split("a ā e ē ė i ī į o u ū ų a e"), _split("  s š n r")),
    "croatian": Letters(_split("b c č ć d dž đ g h j k l lj m n nj p r s š t v z ž  "),
                        _split("a e i o u a e"), _split("  ć č n k r")),
    "italian": Letters(_split("b c ch d f g gl gn l m n p r s t v z  "),
                       _split("a e i o u à è é ì ò ù a e o"), _split("  n l r")),
    "dutch": Letters(_split("b d g h j k l m n p r s t v w z  "),
                     _split("a e i o u aa ee oe ij ë ï a e"), _split("  n rn k s rt l")),
}
ROLES = ("TA", "Host", "Prof", "Guest", "Tutor", "Co-host", "Dr", "Staff", "Mod")
PRONOUNS = ("she/her", "he/him", "they/them", "she/they", "he/they")
DEVICES = ("iPhone de {0}", "{0}'s iPad", "Galaxy de {0}", "{0} (phone)", "{0}'s MacBook")


PLAIN_SHARE = 0.6  # of letter choices made among unmarked parts only: most letters of a name carry no mark


def _pick(rng: np.random.Generator, options: tuple[str, ...]) -> str:
    """One of ``options``; with ``PLAIN_SHARE`` chance one without diacritics, where there is one."""
    if rng.random() < PLAIN_SHARE:
        plain = [o for o in options if o.isascii()]
        if plain:
            return str(plain[int(rng.integers(len(plain)))])
    return str(options[int(rng.integers(len(options)))])


def word(rng: np.random.Generator, letters: Letters, syllables: int) -> str:
    """One capitalised word of ``syllables`` syllables in ``letters``."""
    parts = []
    for s in range(syllables):
        coda = _pick(rng, letters.codas) if s == syllables - 1 or rng.random() < 0.3 else ""
        parts.append(_pick(rng, letters.onsets) + _pick(rng, letters.vowels) + coda)
    text = "".join(parts)
    return text[:1].upper() + text[1:]


def corpus_digest() -> str:
    """A short hash of the letter inventories: shards made from another corpus are not reused."""
    return hashlib.sha256(repr(sorted(LANGUAGES.items())).encode("utf-8")).hexdigest()[:12]


class NameMaker:
    """Display names from made-up words, never one of ``exclude`` (compared casefolded).

    Args:
        seed: the names are the same for the same seed.
        exclude: words that must not appear in any name (e.g. the words a benchmark's names
            are made of), so that a score on that benchmark is a score on unseen names.
    """

    def __init__(self, seed: int, exclude: Iterable[str] = ()):
        self.rng = np.random.default_rng(seed)
        self.exclude = {w.casefold() for w in exclude}
        self.languages = list(LANGUAGES.values())

    def _word(self, letters: Letters) -> str:
        for _ in range(50):
            text = word(self.rng, letters, int(self.rng.choice([1, 2, 2, 3, 3, 4])))
            if len(text) >= 2 and text.casefold() not in self.exclude:
                return text
        raise ValueError("fifty words in a row were excluded: the exclude list blocks the name maker")

    def person(self) -> tuple[str, str]:
        """(given name, surname) of one language, the surname sometimes double or with a particle."""
        letters = self.languages[int(self.rng.integers(len(self.languages)))]
        first, last = self._word(letters), self._word(letters)
        r = self.rng.random()
        if r < 0.12:
            last = f"{last}-{self._word(letters)}"
        elif r < 0.2:
            last = f"{self.rng.choice(['van der', 'de', 'da', 'von', 'di', 'del', 'le'])} {last}"
        elif r < 0.26:
            last = f"{self.rng.choice(['O', 'D', 'Mc'])}{'' if self.rng.random() < 0.3 else chr(39)}{last}"
        elif r < 0.34:
            first = f"{first} {self._word(letters)}"
        return first, last

    def name(self) -> str:
        """One display name, in one of the shapes people give theirs."""
        first, last = self.person()
        rng = self.rng
        kind = int(rng.integers(0, 12))
        surname = last.split()[-1]
        if kind <= 2:
            return f"{first} {last}"
        if kind == 3:
            return f"{int(rng.integers(2015, 2031))}{int(rng.integers(0, 10**4)):04d}_{first} {surname[0]}. {last}"
        if kind == 4:
            return f"[{rng.choice(ROLES)}] {first}"
        if kind == 5:
            return f"{first} {surname[0]}."
        if kind == 6:
            sep = str(rng.choice(["_", ".", ""]))
            return f"{first.split()[0].lower()}{sep}{surname.lower()}{int(rng.integers(0, 1000))}"
        if kind == 7:
            return f"{first} ({rng.choice(PRONOUNS)})"
        if kind == 8:
            return first
        if kind == 9:
            return f"{surname.upper()} {first}"
        if kind == 10:
            return str(rng.choice(DEVICES)).format(first)
        return f"{surname}, {first}"

    def names(self, count: int) -> list[str]:
        """``count`` display names."""
        return [self.name() for _ in range(count)]
