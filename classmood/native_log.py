"""Keep the native libraries' INFO/WARNING chatter (MediaPipe, LiteRT, TFLite, absl) off the terminal.

MediaPipe 1.2.3 carries its own statically linked absl, LiteRT and TFLite loggers, and they write
straight to file descriptor 2 from C++: "INFO: [environment.cc:36] Creating LiteRT environment",
"INFO: Created TensorFlow Lite XNNPACK delegate for CPU.", "W0000 00:00:… inference_runner_litert.cc…",
"WARNING: Logging before InitGoogle() is written to STDERR". None of GLOG_minloglevel,
TF_CPP_MIN_LOG_LEVEL or GOOGLE_STDERRTHRESHOLD changes that (tried, set before import), so the
filter works where the lines go: fd 2 becomes a pipe read by a thread that drops those lines
and passes every other line (native errors, Qt warnings) on to the real stderr. Python's own
``sys.stderr`` (logging, tracebacks, the live status line) is re-opened on the real stderr, so
it is neither delayed nor reordered and still knows when it is a terminal.

``--verbose`` leaves stderr untouched.
"""

from __future__ import annotations

import atexit
import os
import re
import sys
import threading

# Native lines at INFO or WARNING level: TFLite/LiteRT ("INFO: …", "WARNING: …"), absl/glog
# ("I1129 …", "W0000 …"), and TFLite's sparsity notice.
NOISE = re.compile(rb"^(?:INFO: |WARNING: |[IW]\d{4} |.*Sparsity tensors may not yet be fully supported)")

_installed = False


def quiet_native_stderr() -> bool:
    """Filter native INFO/WARNING lines out of fd 2 for the rest of the process; True if installed.

    Only when ``sys.stderr`` is the process's own stderr (not a test's capture), once per process.
    """
    global _installed
    stderr = sys.stderr
    if _installed or stderr is not sys.__stderr__ or stderr is None:
        return False
    try:
        stderr.flush()
        real_fd = os.dup(2)
        read_fd, write_fd = os.pipe()
        os.dup2(write_fd, 2)
        os.close(write_fd)
    except OSError:
        return False
    encoding = getattr(stderr, "encoding", None) or "utf-8"
    sys.stderr = open(real_fd, "w", buffering=1, encoding=encoding, errors="backslashreplace",  # noqa: SIM115
                      closefd=False)
    reader = threading.Thread(target=_pass_on, args=(read_fd, real_fd), name="native-stderr", daemon=True)
    reader.start()

    def restore() -> None:
        # Native code that writes after this goes straight to the terminal; the pipe's last
        # lines are passed on before the interpreter exits.
        try:
            os.dup2(real_fd, 2)
        except OSError:
            return
        reader.join(timeout=1.0)

    atexit.register(restore)
    _installed = True
    return True


def _pass_on(read_fd: int, real_fd: int) -> None:
    """Copy lines from the pipe to the real stderr, dropping the noise; ends when the pipe closes."""
    pending = b""
    with open(read_fd, "rb", buffering=0) as pipe:
        while chunk := pipe.read(65536):
            *lines, pending = (pending + chunk).split(b"\n")
            kept = b"".join(line + b"\n" for line in lines if not NOISE.match(line))
            if kept:
                _write_all(real_fd, kept)
    if pending and not NOISE.match(pending):
        _write_all(real_fd, pending)


def _write_all(fd: int, data: bytes) -> None:
    try:
        while data:
            data = data[os.write(fd, data):]
    except OSError:  # the terminal went away: nothing left to tell
        pass
