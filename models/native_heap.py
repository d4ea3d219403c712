"""Give the memory native libraries freed back to the operating system (glibc's malloc; no-op elsewhere).

The model runtimes (ONNX Runtime with its arena off, MediaPipe, OpenCV) allocate and free large
blocks on every call, from several threads. glibc keeps freed memory in its heaps for reuse and
gives one malloc arena to each thread that allocates at the same time as another, so a long run
holds far more resident memory than it uses: measured on the live 7x7 class, the text reader
alone stayed ~125 MB resident after it was closed, 19 MB after ``malloc_trim``. Two calls fix it:

- ``limit_arenas(n)``: at most ``n`` malloc arenas (``M_ARENA_MAX``; what ``MALLOC_ARENA_MAX``
  sets from the environment). Takes effect for arenas not created yet: call it at start-up,
  before the models' and the GUI's threads exist.
- ``trim()``: ``malloc_trim(0)``, which returns the free pages of every arena to the system.
  ``HeapTrimmer`` calls it every so often from the pipeline's thread.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import platform
import time
from collections.abc import Callable

log = logging.getLogger(__name__)

M_ARENA_MAX = -8  # glibc's malloc.h
# Every 5 s: the frames' own working memory (the grab, its grey copies, the runtimes' activations,
# ~20 MB) is taken back from the system after each trim, page by page, so trimming is a trade
# of CPU for memory. Measured on the live 7x7 class at 1 Hz (bench.live_cpu, 100 s runs one after
# the other on an idle machine): every 30 s 51 ms a frame / 329 MB at the end, every 10 s 46 / 301,
# every 5 s 48 / 281 (the run-to-run spread of the CPU figure is ~3 ms). After every frame the
# median of a run's last minute falls to 284 MB but a frame costs 55-58 ms (the kernel faults the
# frame's working memory back in every frame); every 5 s: 44 ms, 290 MB median.
TRIM_EVERY_S = 5.0


def _glibc() -> ctypes.CDLL | None:
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None
    return libc if hasattr(libc, "malloc_trim") and hasattr(libc, "mallopt") else None


_LIBC = _glibc()


def limit_arenas(n: int = 2) -> bool:
    """At most ``n`` glibc malloc arenas from now on; False where that is not possible (not glibc)."""
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    if _LIBC is None:
        return False
    return bool(_LIBC.mallopt(ctypes.c_int(M_ARENA_MAX), ctypes.c_int(n)))


def trim() -> bool:
    """Return freed heap memory to the system now; True if some was (False: none, or not glibc)."""
    if _LIBC is None:
        return False
    return bool(_LIBC.malloc_trim(ctypes.c_size_t(0)))


class HeapTrimmer:
    """Called after each frame; trims the heap at most every ``every_s`` seconds (of ``clock``).

    ``malloc_trim`` walks every free block and the next frames fault the memory they reuse back
    in, so it runs now and then rather than on every frame (see ``TRIM_EVERY_S``).
    """

    def __init__(self, every_s: float = TRIM_EVERY_S, clock: Callable[[], float] = time.monotonic) -> None:
        self.every_s = every_s
        self._clock = clock
        self._next = clock() + every_s
        self.trims = 0

    def __call__(self) -> None:
        now = self._clock()
        if now < self._next:
            return
        self._next = now + self.every_s
        trim()
        self.trims += 1
