"""The names stage: each tile's display name, and each face's name from its tile.

Names are read by ``bot.names.NameReader`` (OCR, cached per tile label, so a steady gallery
costs about a millisecond a frame). Names are personal data: the pipeline builds this stage
only in the full privacy mode and when reading names is on.
"""

from __future__ import annotations

import dataclasses
from collections import Counter

import numpy as np

from bot.names import NameReader
from vocab.types import FrameResult


class NamesStage:
    """Writes ``tile_names`` and ``faces.name``."""

    def __init__(self, reader: NameReader) -> None:
        self._reader = reader

    def fresh(self) -> NamesStage:
        """The same reader with nothing cached (for an unrelated image or stream)."""
        self._reader.clear()
        return self

    def __call__(self, frame: FrameResult) -> FrameResult:
        if frame.image is None or len(frame.tiles_xyxy) == 0:
            names: tuple[str | None, ...] = ()
        else:
            names = self._reader.read(frame.image, frame.tiles_xyxy).names
        by_tile = {tuple(t): n for t, n in zip(frame.tiles_xyxy.tolist(), names, strict=True)}
        face_tiles = [tuple(t) for t in frame.faces.tile_xyxy.tolist()]
        # A name belongs to the one face of its tile. A tile with several (two tiles the tile finder
        # took for one, or a room camera) gives its name to none of them: each is then told
        # apart by place and looks, instead of all becoming the one named person.
        faces_in = Counter(face_tiles)
        face_names = np.array([by_tile.get(t) if faces_in[t] == 1 else None for t in face_tiles], dtype=object)
        return dataclasses.replace(frame, tile_names=names,
                                   faces=dataclasses.replace(frame.faces, name=face_names.reshape(-1)))
