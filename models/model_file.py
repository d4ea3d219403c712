"""Reading a shipped model file: its bytes, its sha256, a warning when it is not the shipped one.

Every runtime wrapper loads its file the same way, so a missing file is one ``ModelError`` line
that names the file and the fix, and a replaced file is used but never silently.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Collection
from pathlib import Path

from vocab.errors import ModelError

log = logging.getLogger(__name__)


def read_model(path: Path, what: str, shipped_sha256: Collection[str]) -> tuple[bytes, str]:
    """``(bytes, sha256 hex)`` of the model file ``path``; ``what`` names it in messages ("eye state").

    ``shipped_sha256``: the digests of the files ClassMood ships; another file is used with a
    warning (someone may be trying a retrained model on purpose). Empty: no check.
    """
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ModelError(f"{what} model not readable: {path} ({exc.strerror}); reinstall ClassMood") from None
    digest = hashlib.sha256(data).hexdigest()
    if shipped_sha256 and digest not in shipped_sha256:
        log.warning("%s model %s has sha256 %s, not the shipped %s; using it anyway",
                    what, path, digest[:12], ", ".join(sorted(h[:12] for h in shipped_sha256)))
    return data, digest
