"""The settings dialog: source, rate, privacy and alert thresholds, edited into a new ``Config``.

The form never validates by itself: it builds a ``Config`` with ``dataclasses.replace``, whose
``__post_init__`` (vocab.settings) accepts or refuses it; a refusal is shown in the dialog, in
vocab.settings's own words, and the dialog stays open.
"""

from __future__ import annotations

import dataclasses

from PyQt5.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from overlay.theme import ERROR_RGB, apply_theme, css_color
from vocab.errors import ConfigError
from vocab.settings import PRIVACY_MODES, Config, Privacy, SourceKind, SourceSpec

SOURCE_KINDS = (("screen", "Whole monitor"), ("region", "Screen region"), ("window", "Window by title"),
                ("file", "Recording (file or folder)"))
PRIVACY_HELP = {"full": "full: per-participant emotions are stored",
                "aggregate": "aggregate: only class-level numbers are stored",
                "presence": "presence: faces are counted, no emotion is analysed"}


def form_kind(spec: SourceSpec) -> str:
    """Which page of the form shows ``spec``: one of the keys of ``SOURCE_KINDS``."""
    return spec.kind.value if spec.kind in (SourceKind.SCREEN, SourceKind.REGION, SourceKind.WINDOW) else "file"


def build_config(base: Config, *, source: str, fps: float, privacy: str, alerts: dict[str, float]) -> Config:
    """``base`` with these settings, parsed and validated by ``vocab.settings`` (``ConfigError`` when refused)."""
    alert_cfg = dataclasses.replace(base.alerts, **alerts)
    return dataclasses.replace(base, source=SourceSpec.parse(source), fps=fps, privacy=Privacy(privacy),
                               alerts=alert_cfg)


class SettingsDialog(QDialog):
    """Edit ``config``; after ``accept()``, ``.config`` is the new, valid ``Config``."""

    def __init__(self, config: Config, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        apply_theme(self)  # its own colours: never the panel's light text on a desktop's light grey
        self.setWindowTitle("ClassMood settings")
        self.config = config
        form = QFormLayout()

        self.source_kind = QComboBox()
        for key, text in SOURCE_KINDS:
            self.source_kind.addItem(text, key)
        self.monitor = QSpinBox()
        self.monitor.setRange(1, 16)
        self.region = [QSpinBox() for _ in range(4)]
        for spin, (lo, hi) in zip(self.region, ((0, 32767), (0, 32767), (1, 32767), (1, 32767)), strict=True):
            spin.setRange(lo, hi)
        self.window_title = QLineEdit()
        self.window_title.setPlaceholderText("Zoom Meeting")
        self.path = QLineEdit()
        self.source_pages = QStackedWidget()
        region_row = QWidget()
        row = QHBoxLayout(region_row)
        row.setContentsMargins(0, 0, 0, 0)
        for label, spin in zip(("x", "y", "w", "h"), self.region, strict=True):
            row.addWidget(QLabel(label))
            row.addWidget(spin)
        for page in (self.monitor, region_row, self.window_title, self.path):
            self.source_pages.addWidget(page)
        self.source_kind.currentIndexChanged.connect(self.source_pages.setCurrentIndex)
        form.addRow("Source", self.source_kind)
        form.addRow("", self.source_pages)

        self.fps = QDoubleSpinBox()
        self.fps.setRange(0.0, 1000.0)  # vocab.settings decides what is allowed
        self.fps.setDecimals(2)
        self.fps.setSingleStep(0.5)
        self.fps.setSuffix(" frames/s")
        form.addRow("Rate", self.fps)

        self.privacy = QComboBox()
        for mode in PRIVACY_MODES:
            self.privacy.addItem(PRIVACY_HELP.get(mode, mode), mode)
        form.addRow("Privacy", self.privacy)

        self.negative_share = _percent_spin()
        self.negative_for = _seconds_spin()
        self.cameras_off_share = _percent_spin()
        self.no_faces_for = _seconds_spin()
        self.looking_away_share = _percent_spin()
        self.looking_away_for = _seconds_spin()
        form.addRow("Alert: negative share above", self.negative_share)
        form.addRow("... held for", self.negative_for)
        form.addRow("Alert: looking away above", self.looking_away_share)
        form.addRow("... held for", self.looking_away_for)
        form.addRow("Alert: cameras off above", self.cameras_off_share)
        form.addRow("Alert: no faces for", self.no_faces_for)

        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setStyleSheet(f"color: {css_color(ERROR_RGB)};")
        self.error.hide()
        self.note = QLabel("Source, rate and privacy apply to the next run; alerts apply now.")
        self.note.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.note)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        self._load(config)

    def _load(self, config: Config) -> None:
        spec = config.source
        self.source_kind.setCurrentIndex([k for k, _ in SOURCE_KINDS].index(form_kind(spec)))
        self.source_pages.setCurrentIndex(self.source_kind.currentIndex())
        if spec.kind is SourceKind.SCREEN:
            self.monitor.setValue(spec.monitor or 1)
        elif spec.region_xywh is not None:
            for spin, v in zip(self.region, spec.region_xywh, strict=True):
                spin.setValue(v)
        elif spec.window_title is not None:
            self.window_title.setText(spec.window_title)
        elif spec.path is not None:
            self.path.setText(str(spec.path))
        self.fps.setValue(config.fps)
        self.privacy.setCurrentIndex(list(PRIVACY_MODES).index(config.privacy))
        a = config.alerts
        self.negative_share.setValue(a.negative_share_above * 100)
        self.negative_for.setValue(a.negative_for_s)
        self.cameras_off_share.setValue(a.cameras_off_share_above * 100)
        self.no_faces_for.setValue(a.no_faces_for_s)
        self.looking_away_share.setValue(a.looking_away_share_above * 100)
        self.looking_away_for.setValue(a.looking_away_for_s)

    def source_text(self) -> str:
        kind = self.source_kind.currentData()
        if kind == "screen":
            return f"screen:{self.monitor.value()}"
        if kind == "region":
            return "region:" + ",".join(str(s.value()) for s in self.region)
        if kind == "window":
            return f"window:{self.window_title.text().strip()}"
        return self.path.text().strip()

    def form_config(self) -> Config:
        """The ``Config`` the form describes; ``ConfigError`` if vocab.settings refuses it."""
        alerts = {"negative_share_above": self.negative_share.value() / 100,
                  "negative_for_s": self.negative_for.value(),
                  "cameras_off_share_above": self.cameras_off_share.value() / 100,
                  "no_faces_for_s": self.no_faces_for.value(),
                  "looking_away_share_above": self.looking_away_share.value() / 100,
                  "looking_away_for_s": self.looking_away_for.value()}
        return build_config(self.config, source=self.source_text(), fps=self.fps.value(),
                            privacy=str(self.privacy.currentData()), alerts=alerts)

    def accept(self) -> None:
        try:
            self.config = self.form_config()
        except ConfigError as e:
            self.error.setText(str(e))
            self.error.show()
            return
        self.error.hide()
        super().accept()


def _percent_spin() -> QDoubleSpinBox:
    spin = QDoubleSpinBox()
    spin.setRange(0.0, 100.0)
    spin.setDecimals(0)
    spin.setSingleStep(5.0)
    spin.setSuffix(" %")
    return spin


def _seconds_spin() -> QDoubleSpinBox:
    spin = QDoubleSpinBox()
    spin.setRange(0.0, 100000.0)  # vocab.settings decides what is allowed
    spin.setDecimals(0)
    spin.setSuffix(" s")
    return spin

