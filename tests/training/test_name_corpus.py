"""Made-up names to train the name reader on: varied, marked, readable by the model, never the benchmark's."""

from __future__ import annotations

import re

from models.text_reader import DEFAULT_DICT_PATH
from tools.name_labels import name_words, sample_names, short_names
from training.name_corpus import NameMaker


def test_same_seed_same_names_and_other_seed_other_names() -> None:
    assert NameMaker(3).names(50) == NameMaker(3).names(50)
    assert NameMaker(3).names(50) != NameMaker(4).names(50)


def test_no_benchmark_word_is_ever_used() -> None:
    bench = name_words()
    assert {"Małgorzata", "Nørgaard", "Björn", "Li", "Åsa", "Ferreira", "Rodríguez"} <= bench
    # Words as made (hyphenated and particle parts split, as name_words splits the benchmark's).
    maker = NameMaker(7, exclude=bench)

    words = {w.casefold() for n in maker.names(3000) for w in re.split(r"[\s'\-_.,()\[\]/0-9]+", n) if w}
    particles = {"van", "der", "de", "da", "von", "di", "del", "le", "o", "d", "mc"}  # name shapes, not names
    assert not (words - particles) & {w.casefold() for w in bench}
    # ...and the benchmark's own names still hold their words (the check above is not vacuous).
    assert "małgorzata" in {w.casefold() for n in sample_names(400, seed=1) for w in n.split()}
    assert short_names(5, seed=1)


def test_names_mix_marked_and_plain_letters_in_every_shape() -> None:
    names = NameMaker(11).names(2000)
    marked = sum(not n.isascii() for n in names) / len(names)
    assert 0.3 < marked < 0.9, marked
    assert any(n[0] == "[" for n in names) and any("_" in n and n[:4].isdigit() for n in names)
    assert any("(she/her)" in n or "(he/him)" in n or "(they/them)" in n for n in names)
    letters = set("".join(names))
    assert {"ł", "ø", "ö", "ï", "ş", "ř", "ő", "ð"} <= letters


def test_every_character_is_one_the_recogniser_can_write() -> None:
    known = set(DEFAULT_DICT_PATH.read_text(encoding="utf-8").splitlines()) | {" "}
    unknown = set("".join(NameMaker(5).names(3000))) - known
    assert not unknown, unknown
