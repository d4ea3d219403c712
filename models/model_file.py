"""Reading a shipped model file: its bytes, its sha256, a warning when it is not the shipped one.

Every runtime wrapper loads its file the same way, so a missing file is one ``ModelError`` line
that names the file and the fix, and a replaced file is used but never silently.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Collection
from pathlib import Path

from models.ort_session import inference_session, ort, session_options
from vocab.errors import ModelError, one_line

log = logging.getLogger(__name__)


REINSTALL = "reinstall ClassMood"


def read_model(path: Path, what: str, shipped_sha256: Collection[str], fix: str = REINSTALL) -> tuple[bytes, str]:
    """``(bytes, sha256 hex)`` of the model file ``path``; ``what`` names it in messages ("eye state").

    ``shipped_sha256``: the digests of the files ClassMood ships; another file is used with a
    warning (someone may be trying a retrained model on purpose). Empty: no check.
    ``fix``: what the user can do, ending each error line.
    """
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ModelError(f"{what} model not found: {path}; {fix}") from None
    except OSError as exc:
        raise ModelError(f"{what} model not readable: {path} ({exc.strerror or one_line(exc)}); {fix}") from None
    digest = hashlib.sha256(data).hexdigest()
    if shipped_sha256 and digest not in shipped_sha256:
        log.warning("%s model %s has sha256 %s, not the shipped %s; using it anyway",
                    what, path, digest[:12], ", ".join(sorted(h[:12] for h in shipped_sha256)))
    return data, digest


def open_session(path: Path, what: str, shipped_sha256: Collection[str],
                 threads: int | None = 1, fix: str = REINSTALL) -> tuple[ort.InferenceSession, str]:
    """``(session, sha256 hex)`` for the model file ``path``: ``read_model``, then a session with
    the product's options (``models.ort_session``; ``threads`` None: ONNX Runtime's choice); a
    file ONNX Runtime cannot load is one ``ModelError`` line naming ``what``, the file and ``fix``.
    The session runs the very bytes that were hashed."""
    data, digest = read_model(path, what, shipped_sha256, fix)
    try:
        return inference_session(data, session_options(threads)), digest
    except Exception as exc:  # ORT raises its own types (InvalidProtobuf, Fail, ...)
        raise ModelError(f"{what} model {path} is not a valid ONNX file ({one_line(exc)}); {fix}") from None
