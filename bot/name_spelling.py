"""Look-alike characters in a read display name, settled by how names are spelled.

In most sans-serif fonts a capital I and a small l are the same vertical stroke, and the digit 0
is an O with other proportions: on 10-16 px labels the recogniser often cannot tell them apart
and reads "Ian Li" as "lan Li" (every time, on rendered labels in six fonts) or "Ivy" as "lvy".
Where the recogniser itself ranked the other character second (``RankedRead.runner_up``), the
spelling around it decides:

- a word that starts with ``l`` becomes ``I...`` when the next letter is a consonant no word
  starts ``l``-and-then with ("lvy", "lgor", "lsabel"), or when the name is written in
  capitalised words and this one would be the only one starting small ("lan Li");
- an ``I`` between two small letters is an ``l`` ("WiIliam"), except after "Mc"/"Mac";
- a ``0`` between letters, or starting a word of letters, is the letter; an ``O`` or ``o``
  between two digits (a student number) is the digit;
- a currency sign or other pictorial symbol (``$``, ``€``, ``£``, ``©``; not ``+`` or ``=``,
  which people do type) whose runner-up is a letter is that letter: display names are
  letters, and the recogniser reads a small "Ş" as "$" (12 of 54 labels of "João Ş.", with
  Ş second at 0.05-0.24).

Nothing changes where the recogniser had no doubt, so a name really spelled "lisa" or "O'Neil"
stays as read.
"""

from __future__ import annotations

import unicodedata

# Letters that do not follow a word-initial "l" in the names of the alphabets the recogniser reads
# (l + consonant: "Lj" in Croatian and "Ll" in Welsh and Spanish names do; "Ly" is a vowel sound).
_NOT_AFTER_INITIAL_L = set("bcdfgkmnpqrstvwxz")


def _is_small(ch: str) -> bool:
    return ch.isalpha() and ch.islower()


def _word_starts(text: str) -> list[int]:
    """Indexes where a run of letters starts."""
    return [i for i, ch in enumerate(text) if ch.isalpha() and (i == 0 or not text[i - 1].isalpha())]


def settle_lookalikes(text: str, runner_up: str) -> str:
    """``text`` with the look-alikes above settled; ``runner_up`` is one character per character
    of ``text`` (a space where the recogniser had no second choice)."""
    if len(runner_up) != len(text):
        return text
    out = list(text)
    starts = _word_starts(text)
    capitalised = [i for i in starts if text[i].isupper()]
    for i, (ch, alt) in enumerate(zip(text, runner_up, strict=True)):
        before = text[i - 1] if i > 0 else ""
        after = text[i + 1] if i + 1 < len(text) else ""
        if ch == "l" and alt == "I" and i in starts and _is_small(after):
            only_small_word = capitalised and all(j == i or text[j].isupper() for j in starts)
            if after in _NOT_AFTER_INITIAL_L or only_small_word:
                out[i] = "I"
        elif ch == "I" and alt == "l" and _is_small(before) and _is_small(after) \
                and not text[:i].endswith(("Mc", "Mac")):
            out[i] = "l"
        elif ch == "0" and alt in "Oo" and not before.isdigit() and not after.isdigit() \
                and (before.isalpha() or after.isalpha()):
            out[i] = alt
        elif ch in "Oo" and alt == "0" and before.isdigit() and after.isdigit():
            out[i] = "0"
        elif unicodedata.category(ch) in ("Sc", "So") and alt.isalpha():
            out[i] = alt
    return "".join(out)
