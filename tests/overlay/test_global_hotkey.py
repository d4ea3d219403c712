"""The desktop-wide pause shortcut on a real X server: the key press reaches ClassMood while
another program has the focus (here: nobody does, as on a desktop where Zoom is focused)."""

from __future__ import annotations

import pytest

pytest.importorskip("Xlib", reason="python-xlib is installed on Linux only")


def _press_ctrl_shift(display_name: str, key: str) -> None:
    """Type Ctrl+Shift+key through the XTEST extension, as a real keyboard would."""
    from Xlib import XK, X, display
    from Xlib.ext import xtest

    d = display.Display(display_name)
    codes = [d.keysym_to_keycode(XK.string_to_keysym(k)) for k in ("Control_L", "Shift_L", key)]
    for code in codes:
        xtest.fake_input(d, X.KeyPress, code)
    for code in reversed(codes):
        xtest.fake_input(d, X.KeyRelease, code)
    d.sync()
    d.close()


def test_ctrl_shift_p_anywhere_on_the_desktop_fires(qapp, wait_until, xvfb_display: str) -> None:
    from overlay.global_hotkey import GlobalHotkey

    hotkey = GlobalHotkey(display_name=xvfb_display)
    pressed: list[int] = []
    hotkey.activated.connect(lambda: pressed.append(1))
    assert hotkey.start(), hotkey.error
    try:
        _press_ctrl_shift(xvfb_display, "p")
        wait_until(lambda: len(pressed) == 1, 5.0, "the pause shortcut")
        _press_ctrl_shift(xvfb_display, "o")  # another key: not ours
        _press_ctrl_shift(xvfb_display, "p")
        wait_until(lambda: len(pressed) == 2, 5.0, "the second press")
    finally:
        hotkey.stop()
    assert len(pressed) == 2


def test_a_taken_shortcut_is_reported_not_fatal(qapp, xvfb_display: str) -> None:
    from overlay.global_hotkey import GlobalHotkey

    first = GlobalHotkey(display_name=xvfb_display)
    assert first.start()
    try:
        second = GlobalHotkey(display_name=xvfb_display)
        assert not second.start()
        assert second.error is not None and "taken" in second.error
    finally:
        first.stop()


def test_the_shortcut_costs_no_cpu_while_nobody_presses_it(qapp, xvfb_display: str) -> None:
    """It runs for the whole class: the watching thread sleeps until X has something for it
    (polling X every 50 ms cost ~2.6 ms of CPU a second), and stopping it is immediate."""
    import time

    from overlay.global_hotkey import GlobalHotkey

    hotkey = GlobalHotkey(display_name=xvfb_display)
    assert hotkey.start(), hotkey.error
    try:
        assert hotkey.thread_ident is not None
        clock = time.pthread_getcpuclockid(hotkey.thread_ident)
        cpu0 = time.clock_gettime(clock)
        time.sleep(2.0)
        cpu_ms = (time.clock_gettime(clock) - cpu0) * 1000
    finally:
        t = time.monotonic()
        hotkey.stop()
        stop_s = time.monotonic() - t
    assert cpu_ms < 1.5, f"{cpu_ms:.2f} ms of CPU in 2 s idle"
    assert stop_s < 0.5
