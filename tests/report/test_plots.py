"""The report's figures: participants' names in any script are drawn in a font that has their letters."""

from __future__ import annotations

import logging

import numpy as np
import pytest
from matplotlib import font_manager
from matplotlib.ft2font import FT2Font

from report.data import PRESENT, Heatmap
from report.plots import heatmap_png, name_font_families

# A script no font of the report's has (Egyptian hieroglyphs): matplotlib draws its empty box.
NO_FONT_HAS = "\U00013000\U00013001\U00013002"


def _has_glyphs(font_path: str, text: str) -> bool:
    try:
        charmap = FT2Font(font_path).get_charmap()
    except (OSError, RuntimeError):
        return False
    return all(ord(ch) in charmap for ch in text if not ch.isspace())


def _heatmap(name: str) -> Heatmap:
    return Heatmap(bin_s=1.0, t_s=np.arange(10.0), names=[name, "Ana Souza"],
                   codes=np.full((2, 10), PRESENT, np.int8), omitted=0)


@pytest.mark.parametrize("name", ["김민수", "王小明", "张伟 陈静"], ids=["korean", "chinese", "simplified-chinese"])
def test_names_in_other_scripts_are_drawn_with_their_letters(name: str, caplog: pytest.LogCaptureFixture) -> None:
    """DejaVu Sans has no Hangul or Han: such names drew as empty boxes. They are drawn from an
    installed font that has them; families not installed here are not asked for (no warnings)."""
    if not any(_has_glyphs(path, name) for path in font_manager.findSystemFonts()):
        pytest.skip(f"no installed font has the letters of {name!r} "
                    "(bootstrap.py installs fonts-nanum and fonts-wqy-microhei)")
    caplog.set_level(logging.WARNING, logger="matplotlib")
    drawn = heatmap_png(_heatmap(name))  # warnings are errors: a glyph missing from the fonts fails here
    chosen = [font_manager.findfont(font_manager.FontProperties(family=f)) for f in name_font_families()]
    assert any(_has_glyphs(path, name) for path in chosen), chosen
    with pytest.warns(UserWarning, match="missing from font"):
        boxes = heatmap_png(_heatmap(NO_FONT_HAS[:len(name)]))
    assert drawn != boxes, "the name is drawn as the empty boxes of a script no font has"
    assert not [r for r in caplog.records if r.name.startswith("matplotlib")], caplog.text
