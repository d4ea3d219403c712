"""The settings dialog: source, rate, privacy and alert thresholds, edited into a new ``Config``.

The form never validates by itself: it builds a ``Config`` with ``dataclasses.replace``, whose
``__post_init__`` (bot.config) accepts or refuses it; a refusal is shown in the dialog, in
bot.config's own words, and the dialog stays open.
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

from bot.config import PRIVACY_MODES, Config
from bot.errors import ConfigError

SOURCE_KINDS = (("screen", "Whole monitor"), ("region", "Screen region"), ("window", "Window by title"),
                ("file", "Recording (file or folder)"))
PRIVACY_HELP = {"full": "full: per-participant emotions are stored",
                "aggregate": "aggregate: only class-level numbers are stored",
                "presence": "presence: faces are counted, no emotion is analysed"}


def parse_source(source: str) -> tuple[str, str]:
    """``config.source`` as ``(kind, argument)``, kind one of ``SOURCE_KINDS``."""
    kind, _, arg = source.partition(":")
    if kind == "screen" and (not arg or arg.isdigit()):
        return "screen", arg or "1"
    if kind in ("region", "window"):
        return kind, arg
    return "file", source


def build_config(base: Config, *, source: str, fps: float, privacy: str, alerts: dict[str, float]) -> Config:
    """``base`` with these settings, validated by bot.config (``ConfigError`` when refused)."""
    if source.startswith("window:") and not source[len("window:"):].strip():
        raise ConfigError('config: source window: needs a title, e.g. "Zoom Meeting"')
    alert_cfg = dataclasses.replace(base.alerts, **alerts)
    return dataclasses.replace(base, source=source, fps=fps, privacy=privacy, alerts=alert_cfg)  # type: ignore[arg-type]


class SettingsDialog(QDialog):
    """Edit ``config``; after ``accept()``, ``.config`` is the new, valid ``Config``."""

    def __init__(self, config: Config, parent: QWidget | None = None) -> None:
        super().__init__(parent)
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
        self.fps.setRange(0.0, 1000.0)  # bot.config decides what is allowed
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
        form.addRow("Alert: negative share above", self.negative_share)
        form.addRow("... held for", self.negative_for)
        form.addRow("Alert: cameras off above", self.cameras_off_share)
        form.addRow("Alert: no faces for", self.no_faces_for)

        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #e53935;")
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
        kind, arg = parse_source(config.source)
        self.source_kind.setCurrentIndex([k for k, _ in SOURCE_KINDS].index(kind))
        self.source_pages.setCurrentIndex(self.source_kind.currentIndex())
        if kind == "screen":
            self.monitor.setValue(int(arg))
        elif kind == "region":
            parts = arg.split(",")
            if len(parts) == 4 and all(p.strip().lstrip("-").isdigit() for p in parts):
                for spin, v in zip(self.region, parts, strict=True):
                    spin.setValue(int(v))
        elif kind == "window":
            self.window_title.setText(arg.strip('"'))
        else:
            self.path.setText(arg)
        self.fps.setValue(config.fps)
        self.privacy.setCurrentIndex(list(PRIVACY_MODES).index(config.privacy))
        a = config.alerts
        self.negative_share.setValue(a.negative_share_above * 100)
        self.negative_for.setValue(a.negative_for_s)
        self.cameras_off_share.setValue(a.cameras_off_share_above * 100)
        self.no_faces_for.setValue(a.no_faces_for_s)

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
        """The ``Config`` the form describes; ``ConfigError`` if bot.config refuses it."""
        alerts = {"negative_share_above": self.negative_share.value() / 100,
                  "negative_for_s": self.negative_for.value(),
                  "cameras_off_share_above": self.cameras_off_share.value() / 100,
                  "no_faces_for_s": self.no_faces_for.value()}
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
    spin.setRange(0.0, 100000.0)  # bot.config decides what is allowed
    spin.setDecimals(0)
    spin.setSuffix(" s")
    return spin

