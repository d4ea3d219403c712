"""One root exception with a subclass per kind of fault, each carrying a one-line message."""

from __future__ import annotations


class ClassMoodError(Exception):
    """Root of every error ClassMood reports to the user in one line."""


class ConfigError(ClassMoodError):
    """A setting or flag has a value ClassMood cannot use."""


class CaptureError(ClassMoodError):
    """The frame source failed (no display, window closed, unreadable file)."""


class SourceEnded(CaptureError):
    """A finite source (video, image, folder) has no more frames."""


class ModelError(ClassMoodError):
    """A model file is missing, corrupt or does not follow its contract."""


class StorageError(ClassMoodError):
    """The database cannot be opened or written."""


def one_line(error: object, limit: int = 200) -> str:
    """The first line of an exception's text, shortened: what ClassMood shows users is one line.

    Library errors (SQLAlchemy, ONNX Runtime, X11) often carry pages of context; the first
    line names the fault, and a line of text stays readable in the status and the overlay.
    """
    text = str(error).strip()
    first = text.splitlines()[0] if text else type(error).__name__
    return first if len(first) <= limit else first[: limit - 3] + "..."
