"""A text reader that gives its memory back while names are not being read.

Display names change rarely: after the first look at a gallery, the names stage reads text
only when a tile's label changed (someone joins, leaves or renames). The OCR models hold about
85 MB once loaded and as much again after their first calls (measured on the live 7x7 class),
the largest part of ClassMood's memory, for nothing most of the class. ``IdleTextReader`` loads
the reader when it is made (so a broken model file is reported at start, not mid-class), closes
it when ``release_if_idle()`` finds it unused for ``idle_s`` seconds, and loads it again on the
next call (~140 ms of CPU, about a frame's worth, when a name must be read again).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from types import TracebackType

import numpy as np

from models import native_heap
from models.text_reader import OnnxTextReader, RankedRead
from vocab.errors import ModelError

log = logging.getLogger(__name__)

# Measured on the live 7x7 class (bench.live_cpu, 120 s, a join, a leave and a swap planted):
# released after 30 s, the reader was loaded through most of the last minute (median 320-324
# MB); after 10 s, with the tiles without a name re-read together (bot.names), 304 MB for the
# same CPU; after 5 s, no lower (304 MB) for ~3 ms more a frame of reloading.
IDLE_S = 10.0


class IdleTextReader:
    """``find_lines`` and ``read_lines`` of the ``OnnxTextReader`` that ``load()`` makes, loaded
    only while in use (see the module notes). Not thread-safe: call it from one thread.

    Args:
        load: makes the reader (e.g. ``lambda: OnnxTextReader(threads=1)``); called now and
            again after each release.
        idle_s: seconds without a call after which ``release_if_idle`` closes the reader.
        clock: the seconds ``idle_s`` is counted in.

    ``loads`` counts how many times the reader was loaded.
    """

    def __init__(self, load: Callable[[], OnnxTextReader], idle_s: float = IDLE_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if idle_s <= 0:
            raise ValueError(f"idle_s must be > 0, got {idle_s}")
        self._load = load
        self.idle_s = idle_s
        self._clock = clock
        self._closed = False
        self.loads = 0
        self._reader: OnnxTextReader | None = None
        self._loaded()  # now: a broken model file is reported at start

    @property
    def loaded(self) -> bool:
        return self._reader is not None

    def _loaded(self) -> OnnxTextReader:
        if self._closed:
            raise ModelError("text reader is closed")
        self._last_use = self._clock()
        if self._reader is None:
            self._reader = self._load()
            self.loads += 1
            if self.loads > 1:
                log.debug("text reader loaded again (load %d)", self.loads)
        return self._reader

    def find_lines(self, image_bgr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``OnnxTextReader.find_lines`` with its default thresholds."""
        return self._loaded().find_lines(image_bgr)

    def read_lines(self, images: list[np.ndarray]) -> list[tuple[str, float]]:
        """``OnnxTextReader.read_lines``."""
        return self._loaded().read_lines(images)

    def read_lines_ranked(self, images: list[np.ndarray]) -> list[RankedRead]:
        """``OnnxTextReader.read_lines_ranked``."""
        return self._loaded().read_lines_ranked(images)

    def release_if_idle(self) -> bool:
        """Close the reader if it was not called for ``idle_s``; True if it was closed now."""
        if self._reader is None or self._clock() - self._last_use < self.idle_s:
            return False
        self._release()
        log.debug("text reader released after %.0f s unused", self.idle_s)
        return True

    def _release(self) -> None:
        if self._reader is not None:
            self._reader.close()
            self._reader = None
            native_heap.trim()  # its sessions' memory is free now; give it back to the system

    def close(self) -> None:
        """Release the reader for good; safe to call twice."""
        self._closed = True
        self._release()

    def __enter__(self) -> IdleTextReader:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()
