"""The overlay's own colours: a complete dark palette and style sheet for every window it opens.

Without a desktop theme (an X server with no window manager, a fresh Windows user, a remote
session) Qt's default light palette met the panel's light text colour, which a style sheet
passes on to child windows such as the settings dialog and the tray menu: light grey on light
grey. So each overlay window sets *every* colour role itself (all three colour groups) and a
style sheet that names both a text and a background colour for each kind of widget it uses;
nothing is left to the desktop. The pairs are chosen for WCAG AA (text contrast >= 4.5:1),
which ``tests/overlay`` measures on rendered pixels.
"""

from __future__ import annotations

from PyQt5.QtGui import QColor, QPalette
from PyQt5.QtWidgets import QWidget

# (r, g, b). Contrast against BG_RGB: TEXT 13.5:1, MUTED 8.6:1, ACCENT 9.3:1, ERROR 5.6:1, STALE 5.4:1.
BG_RGB = (32, 33, 38)  # windows and dialogs
BASE_RGB = (22, 23, 27)  # input fields, lists, menus
BUTTON_RGB = (52, 54, 61)
TEXT_RGB = (235, 235, 235)
MUTED_RGB = (189, 189, 189)  # secondary lines (captions, status)
STALE_RGB = (150, 150, 150)  # readings that are no longer current (paused)
ACCENT_RGB = (255, 183, 77)  # the alert line, checked buttons
ERROR_RGB = (239, 115, 110)
HIGHLIGHT_RGB = (58, 110, 165)
DISABLED_TEXT_RGB = (140, 140, 140)


def css_color(rgb: tuple[int, int, int]) -> str:
    """``(r, g, b)`` as a style sheet colour, ``#rrggbb``."""
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def overlay_palette() -> QPalette:
    """Every colour role of every group set, so no role falls back to the desktop's."""
    pal = QPalette()
    roles = {
        QPalette.ColorRole.Window: BG_RGB, QPalette.ColorRole.WindowText: TEXT_RGB,
        QPalette.ColorRole.Base: BASE_RGB, QPalette.ColorRole.AlternateBase: BG_RGB,
        QPalette.ColorRole.Text: TEXT_RGB, QPalette.ColorRole.Button: BUTTON_RGB,
        QPalette.ColorRole.ButtonText: TEXT_RGB, QPalette.ColorRole.BrightText: (255, 255, 255),
        QPalette.ColorRole.ToolTipBase: BASE_RGB, QPalette.ColorRole.ToolTipText: TEXT_RGB,
        QPalette.ColorRole.Highlight: HIGHLIGHT_RGB, QPalette.ColorRole.HighlightedText: (255, 255, 255),
        QPalette.ColorRole.PlaceholderText: MUTED_RGB, QPalette.ColorRole.Link: (130, 177, 255),
        QPalette.ColorRole.LinkVisited: (179, 157, 219), QPalette.ColorRole.Light: (80, 82, 90),
        QPalette.ColorRole.Midlight: (64, 66, 74), QPalette.ColorRole.Mid: (44, 45, 51),
        QPalette.ColorRole.Dark: (16, 16, 19), QPalette.ColorRole.Shadow: (0, 0, 0),
    }
    disabled_text = (QPalette.ColorRole.WindowText, QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText)
    for group in (QPalette.ColorGroup.Active, QPalette.ColorGroup.Inactive, QPalette.ColorGroup.Disabled):
        for role, rgb in roles.items():
            if group == QPalette.ColorGroup.Disabled and role in disabled_text:
                rgb = DISABLED_TEXT_RGB
            pal.setColor(group, role, QColor(*rgb))
    return pal


# Shared by every overlay window. Each rule gives text and background together: a rule with
# only a text colour is what made the settings dialog unreadable.
STYLE_SHEET = f"""
QDialog, QMessageBox, QMenu {{ background: {css_color(BG_RGB)}; color: {css_color(TEXT_RGB)}; }}
QLabel {{ color: {css_color(TEXT_RGB)}; background: transparent; }}
QLineEdit, QSpinBox, QDoubleSpinBox, QComboBox {{
    background: {css_color(BASE_RGB)}; color: {css_color(TEXT_RGB)}; border: 1px solid #5a5d66;
    border-radius: 3px; padding: 2px 4px; selection-background-color: {css_color(HIGHLIGHT_RGB)}; }}
QAbstractSpinBox::up-button, QAbstractSpinBox::down-button {{ background: {css_color(BUTTON_RGB)}; width: 14px;
    border-left: 1px solid #5a5d66; }}
QAbstractSpinBox::up-arrow {{ width: 0; height: 0; border-left: 4px solid transparent;
    border-right: 4px solid transparent; border-bottom: 5px solid {css_color(TEXT_RGB)}; }}
QAbstractSpinBox::down-arrow {{ width: 0; height: 0; border-left: 4px solid transparent;
    border-right: 4px solid transparent; border-top: 5px solid {css_color(TEXT_RGB)}; }}
QComboBox QAbstractItemView {{ background: {css_color(BASE_RGB)}; color: {css_color(TEXT_RGB)};
    selection-background-color: {css_color(HIGHLIGHT_RGB)}; }}
QPushButton {{ background: {css_color(BUTTON_RGB)}; color: {css_color(TEXT_RGB)}; border: 1px solid #6a6d77;
    border-radius: 4px; padding: 3px 12px; }}
QPushButton:hover {{ background: #454852; }}
QPushButton:default {{ border: 1px solid {css_color(ACCENT_RGB)}; }}
QMenu {{ border: 1px solid #5a5d66; }}
QMenu::item {{ padding: 4px 18px; color: {css_color(TEXT_RGB)}; background: transparent; }}
QMenu::item:selected {{ background: {css_color(HIGHLIGHT_RGB)}; color: #ffffff; }}
QMenu::item:disabled {{ color: {css_color(DISABLED_TEXT_RGB)}; }}
QToolTip {{ background: {css_color(BASE_RGB)}; color: {css_color(TEXT_RGB)}; border: 1px solid #5a5d66; padding: 3px; }}
"""


def apply_theme(widget: QWidget, extra_style: str = "") -> None:
    """Give ``widget`` (a window of the overlay) the overlay's palette and style sheet.

    Child widgets inherit both; a window opened with ``widget`` as parent (dialog, menu) inherits
    the style sheet, which is why the sheet names background and text for those too.
    """
    widget.setPalette(overlay_palette())
    widget.setStyleSheet(STYLE_SHEET + extra_style)


def contrast_ratio(rgb_a: tuple[float, float, float], rgb_b: tuple[float, float, float]) -> float:
    """WCAG 2 contrast ratio of two sRGB colours (0..255): 1 (same) .. 21 (black on white)."""

    def luminance(rgb: tuple[float, float, float]) -> float:
        lin = [(c / 255) / 12.92 if c / 255 <= 0.04045 else ((c / 255 + 0.055) / 1.055) ** 2.4 for c in rgb]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]

    la, lb = luminance(rgb_a), luminance(rgb_b)
    return (max(la, lb) + 0.05) / (min(la, lb) + 0.05)
