"""The one way ClassMood opens an ONNX Runtime session: CPU only, with ONNX Runtime's telemetry off.

Why this module exists: official ONNX Runtime wheels collect telemetry. On Windows it goes through
the system's event tracing (ETW), which ``disable_telemetry_events()`` turns off for the sessions
created after it. On Linux (and macOS, by ONNX Runtime's notes; not tried here) ONNX Runtime 1.32
starts Microsoft's 1DS client *when the library is imported*: it
writes a persistent device id (``~/.cache/Microsoft/DeveloperTools/.onnxruntime/deviceid``, or under
``$XDG_CACHE_HOME``), an offline event queue beside it (``onnxruntime.db``, a SQLite file with a
``ProcessInfo`` event: OS, CPU, executable path, container/VM) and tries to upload it to
``mobile.events.data.microsoft.com``. The only switch that stops all of that is the environment
variable ``ORT_DISABLE_TELEMETRY=1`` set *before* ``onnxruntime`` is first imported (read once per
process). So this module sets it, then imports ``onnxruntime``, and every model wrapper imports
``ort`` from here instead of importing ``onnxruntime`` itself.

A user who sets ``ORT_DISABLE_TELEMETRY`` themselves keeps their value.
"""

from __future__ import annotations

import logging
import os
import sys

TELEMETRY_ENV = "ORT_DISABLE_TELEMETRY"

_loaded_before = "onnxruntime" in sys.modules
os.environ.setdefault(TELEMETRY_ENV, "1")

import onnxruntime as ort  # noqa: E402  (must come after the environment variable above)

__all__ = ["TELEMETRY_ENV", "inference_session", "ort", "session_options"]

log = logging.getLogger(__name__)

# Windows (ETW) events; on other systems this only quiets events of a client that already started.
ort.disable_telemetry_events()
if _loaded_before:  # someone imported onnxruntime before this module: too late for the env switch
    log.debug("onnxruntime was imported before models.ort_session; its telemetry may have started")


def session_options(threads: int | None = 1) -> ort.SessionOptions:
    """The options every ClassMood session starts from (callers may add to them).

    ``threads``: intra-op threads (``None``: ONNX Runtime's choice, one per core). Operators run
    one after another (no inter-op pool), ONNX Runtime's own warnings stay quiet (errors still
    raise), and worker threads sleep between calls instead of spinning: the default pool spins
    after each run, which at one frame a second burns CPU waiting for nothing.
    """
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads or 0
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.log_severity_level = 3
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    opts.add_session_config_entry("session.inter_op.allow_spinning", "0")
    return opts


def inference_session(model: bytes, options: ort.SessionOptions) -> ort.InferenceSession:
    """An ONNX Runtime CPU session for the model ``model`` (the file's bytes, so what was hashed runs).

    The CPU memory arena is off: the product's inputs change shape all the time (a batch per
    frame's faces, a text line's width) and the arena keeps every size it has seen, so memory
    would creep up over a class; without it allocation costs a few percent of speed.

    Raises whatever ONNX Runtime raises for a bad model; callers turn that into ``ModelError``.
    """
    options.enable_cpu_mem_arena = False
    session = ort.InferenceSession(model, sess_options=options, providers=["CPUExecutionProvider"])
    _forget_model_bytes(session)
    return session


def _forget_model_bytes(session: ort.InferenceSession) -> None:
    """Let go of the model file's bytes the Python wrapper keeps after the session is built.

    ``InferenceSession`` made from bytes keeps them for as long as the session lives (its own
    comment: "bad as we're holding the memory indefinitely"), only to rebuild the session on
    another execution provider after a failure: ClassMood runs on the CPU provider alone, which
    has nothing to fall back to. The session holds its own copy of the weights, so the bytes
    are dead weight: 21 MB for the text recogniser, 4 MB for the landmark and emotion models,
    for the whole run. Where a future ONNX Runtime names the attribute differently this does
    nothing (the memory test in ``tests/models`` then fails and says so).
    """
    if isinstance(getattr(session, "_model_bytes", None), bytes):
        session._model_bytes = None
