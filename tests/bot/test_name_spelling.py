"""Look-alike letters in read names, settled by spelling where the recogniser itself hesitated."""

from __future__ import annotations

import pytest

from bot.name_spelling import settle_lookalikes


def _second(text: str, at: dict[int, str], prob: float = 0.2) -> tuple[str, tuple[float, ...]]:
    """Runner-ups for ``text`` as the reader gives them: the given second choices at ``prob``
    (a hesitant read), no doubt elsewhere."""
    return "".join(at.get(i, " ") for i in range(len(text))), tuple(prob if i in at else 0.0 for i in range(len(text)))


@pytest.mark.parametrize(("read", "doubt", "expected"), [
    ("lan Li", {0: "I"}, "Ian Li"),  # the only capitalised-looking word that starts small
    ("lvy", {0: "I"}, "Ivy"),  # no name starts "lv"
    ("lgor Petrov", {0: "I"}, "Igor Petrov"),
    ("Bill lsabel", {5: "I"}, "Bill Isabel"),
    ("WiIliam Chen", {2: "l"}, "William Chen"),  # an I beside an l inside a small word
    ("0m Kaya", {0: "O"}, "Om Kaya"),
    ("J0hn", {1: "o"}, "John"),
    ("2O231047_Ana", {1: "0"}, "20231047_Ana"),
    ("jürgen_nørgaard6O", {16: "0"}, "jürgen_nørgaard60"),  # the number ending a user name
    ("Mateus $. $ahin", {7: "Ş", 10: "S"}, "Mateus Ş. Sahin"),  # a currency sign the model saw a letter in
])
def test_a_hesitant_lookalike_is_read_as_names_are_spelled(read: str, doubt: dict[int, str], expected: str) -> None:
    assert settle_lookalikes(read, *_second(read, doubt)) == expected


@pytest.mark.parametrize(("read", "doubt"), [
    ("lisa_m", {0: "I"}),  # a user name in small letters: the l may well be one
    ("lan", {0: "I"}),  # one word, nothing says it is capitalised
    ("Ljubica Horvat", {}),  # a real Lj, and no doubt anyway
    ("Lan Li", {0: "I"}),  # only an l is settled, never an L
    ("McIntyre", {2: "l"}),  # Mc/Mac before a capital I
    ("lvy", {}),  # the recogniser did not hesitate: its read stands
    ("Omar 2024", {0: "0"}),  # a letter O beside a space, not between digits
    ("Studio 4Oslo", {8: "0"}),  # an O after a digit but starting letters
    ("Maria 3o ano", {7: "0"}),  # a Portuguese ordinal: a small o after a digit stays
    ("João (1o ano)", {7: "0"}),
    ("priya_novák68", {11: "B"}),  # a runner-up that is no look-alike
    ("Ana + Bo", {4: "t"}),  # a sign people type
    ("Marine le Pen", {7: "I"}),  # particles inside capitalised names
    ("Ana de los Rios", {7: "I"}),
    ("Anne-lise Berg", {5: "I"}),  # a word starts after a space, not after a hyphen
    ("John DiIulio", {7: "l"}),  # an I with no l beside it
    ("mcIver", {2: "l"}),
    ("Café € Bar", {5: "E"}),  # a sign on its own
    ("Ana ©", {4: "C"}),  # not a currency sign
    ("Group 0A", {6: "O"}),  # a 0 before a capital: an id, not a name's letter
])
def test_a_name_is_left_as_read_when_spelling_says_nothing(read: str, doubt: dict[int, str]) -> None:
    assert settle_lookalikes(read, *_second(read, doubt)) == read


def test_a_runner_up_string_of_another_length_changes_nothing() -> None:
    assert settle_lookalikes("lvy", "I", (0.2,)) == "lvy"


def test_a_clear_sign_stays_and_a_hesitant_one_is_the_letter() -> None:
    assert settle_lookalikes("Ke$ha", *_second("Ke$ha", {2: "S"}, prob=0.01)) == "Ke$ha"
    assert settle_lookalikes("Ay$e", *_second("Ay$e", {2: "ş"}, prob=0.2)) == "Ayşe"
