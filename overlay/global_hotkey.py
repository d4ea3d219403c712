"""A desktop-wide pause shortcut on X11: Ctrl+Shift+P works while Zoom has the focus.

Qt's own shortcuts fire only while a ClassMood window is focused, which is exactly when the
host does not need them. On X11 the key is grabbed on the root window with python-xlib and
watched from a small thread; elsewhere (Wayland, Windows, macOS) ``start_global_hotkey``
returns None and the in-app shortcut and the tray remain.
"""

from __future__ import annotations

import logging
import os
import select
import sys
import threading
from typing import Any

from PyQt5.QtCore import QObject, pyqtSignal

log = logging.getLogger(__name__)

WAKE_S = 1.0  # the longest the watching thread sleeps without a key press or a stop


class GlobalHotkey(QObject):
    """Emits ``activated`` (in the GUI thread) each time the key is pressed anywhere on the desktop."""

    activated = pyqtSignal()

    def __init__(self, keysym: str = "p", control: bool = True, shift: bool = True,
                 display_name: str | None = None) -> None:
        super().__init__()
        self._keysym, self._control, self._shift = keysym, control, shift
        self._display_name = display_name
        self._stop = threading.Event()
        self._wake_r, self._wake_w = os.pipe()  # written by stop(): ends the thread's wait at once
        self._ready = threading.Event()
        self.error: str | None = None
        self._thread = threading.Thread(target=self._run, name="classmood-hotkey", daemon=True)

    @property
    def thread_ident(self) -> int | None:
        """The watching thread's ident (None before ``start``), e.g. for its CPU clock."""
        return self._thread.ident

    def start(self) -> bool:
        """Grab the key; False (with ``error`` set) when another program holds it or X is absent."""
        self._thread.start()
        self._ready.wait(5.0)
        return self.error is None and self._thread.is_alive()

    def stop(self) -> None:
        self._stop.set()
        try:
            os.write(self._wake_w, b"x")
        except OSError:
            pass  # already closed: stopped before
        if self._thread.is_alive():
            self._thread.join(2.0)
        for fd in (self._wake_r, self._wake_w):
            try:
                os.close(fd)
            except OSError:
                pass

    def _run(self) -> None:
        try:
            from Xlib import XK, X, display, error
        except ImportError:
            self.error = "python-xlib is not installed"
            self._ready.set()
            return
        try:
            d = display.Display(self._display_name)
        except Exception as e:  # no X server
            self.error = f"cannot open the X display: {e}"
            self._ready.set()
            return
        root = d.screen().root
        keycode = d.keysym_to_keycode(XK.string_to_keysym(self._keysym))
        mods = (X.ControlMask if self._control else 0) | (X.ShiftMask if self._shift else 0)
        # The grab must also match with Caps Lock (LockMask) and Num Lock (Mod2Mask) on.
        variants = [mods | extra for extra in (0, X.LockMask, X.Mod2Mask, X.LockMask | X.Mod2Mask)]
        catcher = error.CatchError(error.BadAccess)
        for m in variants:
            root.grab_key(keycode, m, True, X.GrabModeAsync, X.GrabModeAsync, onerror=catcher)
        d.sync()
        if catcher.get_error():
            self.error = "the global pause shortcut is taken by another program"
            d.close()
            self._ready.set()
            return
        self._ready.set()
        try:
            # Sleep on the X connection's socket (and the stop pipe) instead of polling: the
            # thread wakes only for a key press, so a class-long run costs it no CPU (polling
            # every 50 ms cost 2.6 ms of CPU a second).
            while not self._stop.is_set():
                while d.pending_events():
                    event: Any = d.next_event()
                    if event.type == X.KeyPress and event.detail == keycode:
                        self.activated.emit()
                select.select([d.fileno(), self._wake_r], [], [], WAKE_S)
        finally:
            for m in variants:
                root.ungrab_key(keycode, m)
            d.sync()
            d.close()


def start_global_hotkey() -> GlobalHotkey | None:
    """The desktop-wide Ctrl+Shift+P where the platform allows it, else None (logged)."""
    if not sys.platform.startswith("linux") or not os.environ.get("DISPLAY"):
        log.info("global pause shortcut needs X11; use the tray icon or the panel's Pause button")
        return None
    hotkey = GlobalHotkey()
    if not hotkey.start():
        log.warning("global pause shortcut unavailable: %s", hotkey.error)
        return None
    return hotkey
