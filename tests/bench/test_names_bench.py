"""The name bench's grouping of wrong reads (pure logic, no models)."""

from __future__ import annotations

import numpy as np

from bench.names import Read, error_groups

LABEL = np.zeros((12, 40, 3), np.uint8)


def _read(truth: str | None, read: str | None, label: np.ndarray | None = LABEL) -> Read:
    return Read("zoom", 10, "DejaVu Sans", truth, read, 0.95, label)


def test_wrong_reads_are_grouped_by_what_went_wrong() -> None:
    rows = [
        _read("Ana Souza", "ANA SOUZA"),  # exact: case and spaces do not count
        _read("Małgorzata Białek", "Malgorzata Bialek"),  # accents only
        _read("20231047_Søren", "20231047 Soren"),  # accents only (punctuation does not count)
        _read("Björn", "Bjöm"),  # rn read as m: look-alikes, the same identity key
        _read("Ivan", "Iwan"),  # v read as w
        _read("Şahin", "$ahin"),  # a letter read as a symbol
        _read("Li", None, label=None),  # nothing read
        _read(None, None, label=None),  # a tile without a label, rightly unnamed
    ]
    groups = error_groups(rows)
    assert [r.truth for r in groups["accents or look-alikes"]] == ["Małgorzata Białek", "20231047_Søren", "Björn"]
    assert [r.truth for r in groups["other letters"]] == ["Ivan", "Şahin"]
    assert [r.truth for r in groups["nothing read"]] == ["Li"]
