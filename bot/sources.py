"""Frame sources: the screen (a monitor, a region, a window) and files (video, image, folder).

``open_source(spec)`` is the one place a source is chosen. Screen back ends are imported only
when chosen, so a headless machine can still analyse files.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np

from vocab.errors import CaptureError, ConfigError, SourceEnded, one_line
from vocab.protocols import CapturedFrame, FrameSource
from vocab.settings import IMAGE_SUFFIXES, SourceKind, SourceSpec

log = logging.getLogger(__name__)

VIDEO_SUFFIXES = {".mp4", ".avi", ".mkv", ".mov", ".webm", ".m4v", ".mpg", ".mpeg", ".wmv"}
NO_DISPLAY_HINT = ("no display found: screen capture needs a desktop session. "
                   "Analyse a recording instead: --source PATH (a video, an image or a folder of images)")


def display_available() -> bool:
    """Whether a screen can be captured here (X11/Wayland on Linux; always on Windows/macOS)."""
    if sys.platform.startswith("linux") or sys.platform.startswith("freebsd"):
        return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    return True


def open_source(spec: SourceSpec, fps: float = 0.0) -> FrameSource:
    """Open the source ``spec`` names (the one place a back end is chosen).

    ``fps`` samples a video at that rate in video time (0: every frame); live sources are
    paced by the run loop instead.
    """
    if spec.is_live and not display_available():
        raise CaptureError(NO_DISPLAY_HINT)
    if spec.kind is SourceKind.SCREEN:
        return ScreenSource(monitor=spec.monitor)
    if spec.kind is SourceKind.REGION:
        return ScreenSource(region_xywh=spec.region_xywh)
    if spec.kind is SourceKind.WINDOW:
        assert spec.window_title is not None
        return WindowSource(spec.window_title)
    assert spec.path is not None
    if spec.kind is SourceKind.FOLDER:
        return FolderSource(spec.path)
    if spec.kind is SourceKind.IMAGE:
        return ImageSource(spec.path)
    return VideoSource(spec.path, fps=fps)


def _bgra_to_bgr(shot: object) -> np.ndarray:
    # OpenCV's conversion, not a strided numpy copy of [:, :, :3]: 1080p in ~0.2 ms, not 6.5 ms.
    return cv2.cvtColor(np.asarray(shot), cv2.COLOR_BGRA2BGR)


class ScreenSource:
    """A monitor or a fixed region of the virtual screen, captured with mss."""

    is_live = True

    def __init__(self, monitor: int | None = None, region_xywh: tuple[int, int, int, int] | None = None) -> None:
        import mss  # chosen back end only

        try:
            self._mss = mss.MSS()
        except Exception as e:  # mss raises its own error type for no display / no permission
            raise CaptureError(f"cannot open the screen for capture: {e}") from None
        monitors = self._mss.monitors  # [0] is the union of all monitors
        if region_xywh is not None:
            x, y, w, h = region_xywh
            problem = region_problem(region_xywh, monitors)
            if problem is not None:
                self._mss.close()
                raise CaptureError(problem)
            self._area = {"left": x, "top": y, "width": w, "height": h}
            self._name = f"region:{x},{y},{w},{h}"
        else:
            index = 1 if monitor is None else monitor
            if not 1 <= index < len(monitors):
                self._mss.close()
                raise ConfigError(f"config: screen:{index} does not exist; "
                                  f"this machine has monitors 1..{len(monitors) - 1}")
            m = monitors[index]
            self._area = {k: m[k] for k in ("left", "top", "width", "height")}
            self._name = f"screen:{index} {m['width']}x{m['height']}"

    def grab(self) -> CapturedFrame:
        try:
            shot = self._mss.grab(self._area)
        except Exception as e:
            # mss's X errors span several lines; the status line and the log want one.
            raise CaptureError(f"screen capture failed ({self._name}; monitor switched off, unplugged or "
                               f"resized?): {one_line(e)}") from None
        a = self._area
        return CapturedFrame(_bgra_to_bgr(shot), (a["left"], a["top"], a["width"], a["height"]))

    def describe(self) -> str:
        return self._name

    def close(self) -> None:
        self._mss.close()


def region_problem(region_xywh: tuple[int, int, int, int], monitors: list[dict[str, int]]) -> str | None:
    """Why ``region:X,Y,W,H`` cannot be captured on these monitors (mss's list), or None if it can.

    The region must lie on the screen (``monitors[0]``, the box around every monitor): X11
    refuses to grab any part of it that is off the screen, and that would only show up as a
    capture error on every frame.
    """
    x, y, w, h = region_xywh
    screen = monitors[0]
    left, top, right, bottom = (screen["left"], screen["top"], screen["left"] + screen["width"],
                                screen["top"] + screen["height"])
    if left <= x and top <= y and x + w <= right and y + h <= bottom:
        return None
    where = ", ".join(f"{i}: {m['width']}x{m['height']} at {m['left']},{m['top']}" for i, m in enumerate(monitors)
                      if i > 0)
    return (f"region:{x},{y},{w},{h} is not on the screen ({right - left}x{bottom - top} at {left},{top}; "
            f"monitors {where}); choose a region inside it")


class WindowSource:
    """The client area of a window found by (part of) its title; X11 only.

    The window is looked up again on every grab, so moving or resizing it is followed, and a
    closed or minimised window raises ``CaptureError`` (the run pauses until it is back).
    """

    is_live = True

    def __init__(self, title: str) -> None:
        if not sys.platform.startswith("linux"):
            raise CaptureError(f"window capture by title is supported on Linux/X11 only; on {sys.platform} "
                               "use --source region:X,Y,W,H or screen")
        if not os.environ.get("DISPLAY"):
            raise CaptureError("window capture needs X11 (DISPLAY is not set); on Wayland use --source screen")
        from Xlib import X, display  # chosen back end only

        self._X = X
        self._display = display.Display()
        self._title = title
        import mss

        self._mss = mss.MSS()
        if self._find() is None:
            # A mistyped title must not wait forever: name the windows there are. One that exists
            # but is minimised (unmapped) is waited for, as when it is minimised during the run.
            viewable, hidden = self._titles()
            if not any(title.lower() in t.lower() for t in hidden):
                self.close()
                raise CaptureError(f"no window titled {title!r} is open; open windows: {_title_list(viewable)}")
            log.warning("window %r is minimised or hidden; waiting for it", title)

    def _windows(self) -> Iterator[tuple[str, bool, tuple[int, int, int, int]]]:
        """(title, viewable, client area x, y, w, h) of every named window of 16x16 or more."""
        root = self._display.screen().root
        stack = [root]
        while stack:
            win = stack.pop()
            try:
                name = win.get_wm_name()
                if isinstance(name, str) and name.strip():
                    geo = win.get_geometry()
                    if geo.width >= 16 and geo.height >= 16:
                        pos = win.translate_coords(root, 0, 0)
                        viewable = win.get_attributes().map_state == self._X.IsViewable
                        yield name, viewable, (-pos.x, -pos.y, geo.width, geo.height)
                stack.extend(win.query_tree().children)
            except Exception:  # windows vanish while we walk the tree
                continue

    def _find(self) -> tuple[int, int, int, int] | None:
        wanted = self._title.lower()
        return next((xywh for name, viewable, xywh in self._windows() if viewable and wanted in name.lower()), None)

    def _titles(self) -> tuple[list[str], list[str]]:
        """Titles of the viewable windows, and of the minimised/hidden ones."""
        viewable: set[str] = set()
        hidden: set[str] = set()
        for name, is_viewable, _ in self._windows():
            (viewable if is_viewable else hidden).add(name.strip())
        return sorted(viewable, key=str.lower), sorted(hidden, key=str.lower)

    def grab(self) -> CapturedFrame:
        geometry = self._find()
        if geometry is None:
            raise CaptureError(f"window {self._title!r} is not visible (closed or minimised)")
        x, y, w, h = geometry
        try:
            shot = self._mss.grab({"left": x, "top": y, "width": w, "height": h})
        except Exception as e:
            raise CaptureError(f"capture of window {self._title!r} failed: {one_line(e)}") from None
        return CapturedFrame(_bgra_to_bgr(shot), geometry)

    def describe(self) -> str:
        return f"window:{self._title}"

    def close(self) -> None:
        self._mss.close()
        self._display.close()


def _title_list(titles: list[str], most: int = 12) -> str:
    """``'Zoom Meeting', 'Terminal'`` (at most ``most``, then how many more), or a note that there are none."""
    if not titles:
        return "none (is the meeting window on this X display?)"
    shown = ", ".join(repr(t) for t in titles[:most])
    return shown if len(titles) <= most else f"{shown} and {len(titles) - most} more"


class VideoSource:
    """A video file, sampled at ``fps`` in video time (0: every frame)."""

    is_live = False

    def __init__(self, path: Path, fps: float = 0.0) -> None:
        self._path = path
        self._cap = cv2.VideoCapture(str(path))
        if not self._cap.isOpened():
            raise CaptureError(f"cannot read {path}: not a video or image ClassMood can decode")
        self._native_fps = self._cap.get(cv2.CAP_PROP_FPS) or 25.0
        self._step_s = 1.0 / fps if fps > 0 else 0.0
        self._index = -1
        self._next_t = 0.0

    def grab(self) -> CapturedFrame:
        while True:
            ok, frame = self._cap.read()
            if not ok or frame is None:
                raise SourceEnded(f"end of {self._path.name}")
            self._index += 1
            t = self._index / self._native_fps
            if t + 1e-9 >= self._next_t:
                self._next_t = t + self._step_s
                h, w = frame.shape[:2]
                return CapturedFrame(frame, (0, 0, w, h), media_time_s=t)

    def describe(self) -> str:
        return f"video:{self._path}"

    def close(self) -> None:
        self._cap.release()


def read_image(path: Path) -> np.ndarray:
    """An image file as BGR uint8, or ``CaptureError`` saying why not."""
    data = np.fromfile(str(path), dtype=np.uint8) if path.is_file() else None
    image = cv2.imdecode(data, cv2.IMREAD_COLOR) if data is not None and data.size else None
    if image is None:
        raise CaptureError(f"cannot read image {path}: missing, empty or not a supported image")
    return image


class ImageSource:
    """One image file: one frame, then the end."""

    is_live = False

    def __init__(self, path: Path) -> None:
        self._path = path
        self._done = False

    def grab(self) -> CapturedFrame:
        if self._done:
            raise SourceEnded(f"end of {self._path.name}")
        self._done = True
        image = read_image(self._path)
        h, w = image.shape[:2]
        return CapturedFrame(image, (0, 0, w, h), media_time_s=0.0)

    def describe(self) -> str:
        return f"image:{self._path}"

    def close(self) -> None:
        pass


def folder_images(folder: Path) -> list[Path]:
    """The image files of ``folder`` in name order, or ``CaptureError`` when it has none."""
    try:
        files = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    except OSError as e:
        raise CaptureError(f"cannot read folder {folder}: {e.strerror or one_line(e)}") from None
    if not files:
        raise CaptureError(f"no images in {folder} (looked for {', '.join(sorted(IMAGE_SUFFIXES))})")
    return files


class FolderSource:
    """The images of a folder in name order, one second apart in media time.

    An unreadable file raises ``CaptureError`` for that file only; the next grab moves on.
    """

    is_live = False

    def __init__(self, folder: Path, spacing_s: float = 1.0) -> None:
        self._files = folder_images(folder)
        self._folder = folder
        self._spacing_s = spacing_s
        self._i = 0

    def grab(self) -> CapturedFrame:
        if self._i >= len(self._files):
            raise SourceEnded(f"end of {self._folder}")
        path, t = self._files[self._i], self._i * self._spacing_s
        self._i += 1
        image = read_image(path)
        h, w = image.shape[:2]
        return CapturedFrame(image, (0, 0, w, h), media_time_s=t)

    def describe(self) -> str:
        n = len(self._files)
        return f"folder:{self._folder} ({n} image{'' if n == 1 else 's'})"

    def close(self) -> None:
        pass
