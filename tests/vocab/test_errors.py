"""What users read of a library fault: one short line naming it."""

from __future__ import annotations

import sqlite3

from vocab.errors import one_line


def test_a_real_multi_line_library_error_becomes_its_first_line(tmp_path) -> None:
    con = sqlite3.connect(tmp_path / "x.db")
    try:
        con.execute("SELEC nonsense\n-- second line of the statement")
    except sqlite3.Error as e:
        error = e
    text = one_line(RuntimeError(f"{error}\n  context line 1\n  context line 2"))
    assert "\n" not in text and "syntax error" in text


def test_empty_message_names_the_exception_and_long_text_is_cut() -> None:
    assert one_line(TimeoutError()) == "TimeoutError"
    cut = one_line(ValueError("x" * 1000), limit=50)
    assert len(cut) == 50 and cut.endswith("...")
