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


class UnknownSession(ClassMoodError):
    """The asked-for session id is not in the database."""

    def __init__(self, session_id: int, message: str | None = None) -> None:
        super().__init__(message or f"no session {session_id}")
        self.session_id = session_id


# The exit code of every command for each kind of fault (the most specific class wins):
# 2 bad settings or an unknown session, 3 storage, 4 model, 5 capture/source, 1 anything else.
EXIT_CODES: dict[type[ClassMoodError], int] = {ConfigError: 2, UnknownSession: 2, StorageError: 3,
                                               ModelError: 4, CaptureError: 5}


def exit_code(error: ClassMoodError) -> int:
    """The exit code a command returns for ``error`` (see ``EXIT_CODES``)."""
    for cls in type(error).__mro__:
        if cls in EXIT_CODES:
            return EXIT_CODES[cls]
    return 1


def one_line(error: object, limit: int = 200) -> str:
    """The first line of an exception's text, shortened: what ClassMood shows users is one line.

    Library errors (SQLAlchemy, ONNX Runtime, X11) often carry pages of context; the first
    line names the fault, and a line of text stays readable in the status and the overlay.
    """
    text = str(error).strip()
    first = text.splitlines()[0] if text else type(error).__name__
    return first if len(first) <= limit else first[: limit - 3] + "..."
