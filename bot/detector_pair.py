"""Two instances of one face detector answering the windows of a frame together.

A frame that has to be looked at whole (the first one, a page change, a reflow, every frame
when pushed) asks the tile detector once per tile: 49 calls of ~1 ms on a 7x7 gallery, one
after the other. MediaPipe's calls release the interpreter, so a second instance of the same
model on a second thread answers half of them at the same time: measured on the 7x7 1080p
class, 49 tiles 51-56 ms alone, 29-31 ms as a pair on 2 cores. Few windows (a steady live
frame re-detects a tile or two) are not worth a thread hop and are asked in the caller's
thread.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from vocab.protocols import FaceDetector

PAIR_MIN_WINDOWS = 8  # fewer windows than this are asked in the caller's thread alone

Answer = tuple[np.ndarray, np.ndarray]


class DetectorPair:
    """``detect_all(images)``: ``first``'s answers for every image, half of them given by
    ``second`` (the same model and threshold) on a worker thread. Neither detector is closed
    here; ``close()`` stops the worker."""

    def __init__(self, first: FaceDetector, second: FaceDetector) -> None:
        self.first = first
        self.second = second
        self._pool: ThreadPoolExecutor | None = None

    def detect_all(self, images: Sequence[np.ndarray]) -> list[Answer]:
        if len(images) < PAIR_MIN_WINDOWS:
            return [self.first.detect(im) for im in images]
        if self._pool is None:
            self._pool = ThreadPoolExecutor(1, thread_name_prefix="classmood-detect")
        theirs = self._pool.submit(lambda: [self.second.detect(im) for im in images[1::2]])
        mine = [self.first.detect(im) for im in images[::2]]
        out: list[Answer] = []
        for k, answer in enumerate(theirs.result()):
            out += [mine[k], answer]
        return out + mine[len(out) // 2:]

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
