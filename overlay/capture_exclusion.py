"""Keep the overlay's own windows out of screen captures where the system allows it (Windows).

Windows 10 2004 and later let a window ask to be left out of every capture
(``SetWindowDisplayAffinity(hwnd, WDA_EXCLUDEFROMCAPTURE)``): the host still sees the panel,
while ClassMood's capture (and Zoom's screen share) see what is under it, so nobody is hidden.
X11 and macOS offer no such thing to another program's capture, so there the panel is
captured: ClassMood places it off the gallery's tiles and counts the people under it as hidden
(``RunControl.set_occluders``). Elsewhere ``exclude_from_capture`` does nothing and says so.
"""

from __future__ import annotations

import ctypes
import logging
import sys
from typing import Any

from PyQt5.QtWidgets import QWidget

log = logging.getLogger(__name__)

WDA_EXCLUDEFROMCAPTURE = 0x11


def _user32() -> Any:
    return ctypes.windll.user32  # type: ignore[attr-defined]  # exists on Windows only


def exclude_from_capture(widget: QWidget) -> bool:
    """Ask Windows to leave ``widget``'s window out of screen captures; True when it agreed.

    Call again whenever Qt re-creates the native window (a change of window flags does). On
    other systems, and on Windows versions without the flag, returns False (logged on Windows).
    """
    if sys.platform != "win32":
        return False
    hwnd = int(widget.winId())  # creates the native window if needed
    try:
        ok = bool(_user32().SetWindowDisplayAffinity(hwnd, WDA_EXCLUDEFROMCAPTURE))
    except (AttributeError, OSError) as e:
        log.warning("could not keep the overlay out of screen captures: %s", e)
        return False
    if not ok:
        error = getattr(ctypes, "GetLastError", lambda: 0)()
        log.warning("Windows refused to keep the overlay out of screen captures (error %s; needs Windows 10 "
                    "2004 or later): participants under it are counted as hidden", error)
    return ok
