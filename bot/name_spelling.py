"""Look-alike characters in a read display name, settled by how names are spelled.

In most sans-serif fonts a capital I and a small l are the same vertical stroke, and the digit 0
is an O with other proportions: on 10-16 px labels the recogniser often cannot tell them apart
and reads "Ian Li" as "lan Li" (every time, on rendered labels in six fonts) or "Ivy" as "lvy".
Where the recogniser itself ranked the other character second (``RankedRead.runner_up``), the
spelling around it decides:

- a word (after a space, or the name's first) that starts with ``l`` becomes ``I...`` when the
  next letter is a consonant no name starts ``l``-and-then with ("lvy", "lgor", "lsabel"), or
  when the name is written in capitalised words and this one of three letters or more would be
  the only one starting small ("lan Li"; not the particles of "Marine le Pen", "Ana de los Rios");
- an ``I`` inside a word of small letters next to an ``l`` is that ``l`` ("WiIliam", "AIlan");
  an I elsewhere stays ("DiIulio", "McIver");
- a ``0`` between two letters, or starting a word before a small letter, is the letter ("0m"
  was "Om"); an ``O`` or ``o`` between two digits (a student number) is the digit, and so is an
  ``O`` after a digit and not before a letter (ending a user name's number: "nørgaard6O"), but
  not a small ``o`` there: "3o ano", "2o B" are Portuguese ordinals;
- a currency sign next to a letter, or before the full stop of an initial, whose runner-up is a
  letter given at least ``SYMBOL_MIN_PROB`` is that letter: the recogniser reads a small "Ş" as
  "$" (12 of 54 labels of "João Ş.", with Ş second at 0.05-0.24). A sign on its own ("Café €
  Bar") or a clear one stays.

Nothing changes where the recogniser had no doubt, so a name really spelled "lisa" or "O'Neil"
stays as read.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

# Letters that do not follow a word-initial "l" in the names of the alphabets the recogniser reads
# (l + consonant: "Lj" in Croatian and "Ll" in Welsh and Spanish names do; "Ly" is a vowel sound).
_NOT_AFTER_INITIAL_L = set("bcdfgkmnpqrstvwxz")
# Small words that start with l inside capitalised names: particles, not misread capitals.
_PARTICLES = {"la", "le", "lo", "las", "les", "los", "lu", "li", "lou", "lui"}
SYMBOL_MIN_PROB = 0.04


def _is_small(ch: str) -> bool:
    return ch.isalpha() and ch.islower()


def _words(text: str) -> list[tuple[int, str]]:
    """``(start, word)`` of each whitespace-separated word."""
    return [(m.start(), m.group()) for m in re.finditer(r"\S+", text)]


def _capital_i(i: int, words: list[tuple[int, str]]) -> bool:
    """Whether the ``l`` starting a word at ``i`` reads better as a capital I (see the module notes)."""
    word = next(w for s, w in words if s == i)
    after = word[1:2]
    if not _is_small(after):
        return False
    if after in _NOT_AFTER_INITIAL_L:
        return True
    letters = "".join(ch for ch in word if ch.isalpha())
    others = [w for s, w in words if s != i and w[:1].isalpha()]
    return len(letters) >= 3 and letters.lower() not in _PARTICLES and bool(others) \
        and all(w[0].isupper() for w in others)


def settle_lookalikes(text: str, runner_up: str, runner_up_prob: Sequence[float]) -> str:
    """``text`` with the look-alikes above settled; ``runner_up`` is one character per character
    of ``text`` (a space where the recogniser had no second choice), ``runner_up_prob`` their
    probabilities (``RankedRead``)."""
    if not len(runner_up) == len(runner_up_prob) == len(text):
        return text
    out = list(text)
    words = _words(text)
    starts = {s for s, _ in words}
    for i, (ch, alt) in enumerate(zip(text, runner_up, strict=True)):
        before = text[i - 1] if i > 0 else ""
        after = text[i + 1] if i + 1 < len(text) else ""
        if ch == "l" and alt == "I" and i in starts:
            if _capital_i(i, words):
                out[i] = "I"
        elif ch == "I" and alt == "l" and _is_small(before) and _is_small(after) and "l" in (before, after):
            out[i] = "l"
        elif ch == "0" and alt in "Oo" and ((before.isalpha() and after.isalpha())
                                            or (i in starts and _is_small(after))):
            out[i] = alt
        elif ch in "Oo" and alt == "0" and before.isdigit() and (after.isdigit()
                                                                  or (ch == "O" and not after.isalpha())):
            out[i] = "0"
        elif unicodedata.category(ch) == "Sc" and alt.isalpha() \
                and runner_up_prob[i] >= SYMBOL_MIN_PROB \
                and (before.isalpha() or after.isalpha() or after == "."):
            out[i] = alt
    return "".join(out)
