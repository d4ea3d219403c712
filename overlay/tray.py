"""The tray icon: pause/resume, click-through, badges, settings and quit, from outside the panel.

It is the way back from click-through mode (the panel then takes no click). Not every desktop
has a system tray (``QSystemTrayIcon.isSystemTrayAvailable()``); without one there is no icon
and the panel does not offer click-through.
"""

from __future__ import annotations

from PyQt5.QtCore import Qt
from PyQt5.QtGui import QColor, QIcon, QPainter, QPixmap
from PyQt5.QtWidgets import QAction, QMenu, QSystemTrayIcon

from overlay.theme import apply_theme
from overlay.window import OverlayWindow


def tray_available() -> bool:
    return QSystemTrayIcon.isSystemTrayAvailable()


def _icon(paused: bool) -> QIcon:
    pix = QPixmap(32, 32)
    pix.fill(Qt.GlobalColor.transparent)
    p = QPainter(pix)
    p.setRenderHint(QPainter.Antialiasing)
    p.setBrush(QColor(158, 158, 158) if paused else QColor(67, 160, 71))
    p.setPen(QColor(30, 30, 30))
    p.drawEllipse(3, 3, 26, 26)
    p.end()
    return QIcon(pix)


def make_tray(window: OverlayWindow) -> QSystemTrayIcon | None:
    """A tray icon bound to ``window``, shown; None when the desktop has no tray."""
    if not tray_available():
        return None
    tray = QSystemTrayIcon(_icon(False), window)
    tray.setToolTip("ClassMood")
    menu = tray_menu(window)

    def on_pause(paused: bool) -> None:
        tray.setIcon(_icon(paused))
        tray.setToolTip("ClassMood (paused)" if paused else "ClassMood")

    window.pause_toggled.connect(on_pause)
    tray.setContextMenu(menu)

    def on_activated(reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason == QSystemTrayIcon.ActivationReason.Trigger:  # a click on the icon brings the panel back
            window.show()
            window.raise_()

    tray.activated.connect(on_activated)
    tray.show()
    return tray


def tray_menu(window: OverlayWindow) -> QMenu:
    """The tray icon's menu, bound to ``window`` and kept in step with the panel's toggles."""
    menu = QMenu(window)
    apply_theme(menu)  # the desktop may draw it natively; where Qt draws it, in the overlay's colours
    pause = QAction("Pause", menu)
    pause.toggled.connect(window.set_paused)
    through = QAction("Click-through", menu)
    through.toggled.connect(window.set_click_through)
    badges = QAction("Badges", menu)
    for action in (pause, through, badges):
        action.setCheckable(True)
    badges.setChecked(window.badges_button.isChecked())
    badges.toggled.connect(window.set_badges_enabled)
    badges.setVisible(window.badge_layer is not None)
    settings = QAction("Settings...", menu)
    settings.triggered.connect(window.open_settings)
    quit_ = QAction("Stop and quit", menu)
    quit_.triggered.connect(window.close_panel)  # says what it does, so it stops without asking
    for action in (pause, through, badges, settings):
        menu.addAction(action)
    menu.addSeparator()
    menu.addAction(quit_)

    def on_pause(paused: bool) -> None:
        pause.blockSignals(True)
        pause.setChecked(paused)
        pause.blockSignals(False)

    def on_through(on: bool) -> None:
        through.blockSignals(True)
        through.setChecked(on)
        through.blockSignals(False)

    def on_badges(on: bool) -> None:
        badges.blockSignals(True)
        badges.setChecked(on)
        badges.blockSignals(False)

    window.pause_toggled.connect(on_pause)
    window.badges_button.toggled.connect(on_badges)
    window.click_through_changed.connect(on_through)
    return menu
