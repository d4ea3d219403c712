"""The last few minutes of one number (the mood index, or faces present), for the trend line.

Pure and Qt-free: the trend widget asks ``points()`` on each throttled repaint and draws them.
"""

from __future__ import annotations

from collections import deque


class TrendBuffer:
    """``(t_s, value)`` samples of the last ``window_s`` seconds, oldest first.

    A gap (pause, lost source) is kept as a ``None`` value so the line breaks there instead of
    drawing a straight segment across time nobody observed.
    """

    def __init__(self, window_s: float = 600.0, gap_s: float = 5.0) -> None:
        if window_s <= 0:
            raise ValueError(f"window_s must be positive, not {window_s!r}")
        self.window_s = window_s
        self.gap_s = gap_s
        self._samples: deque[tuple[float, float | None]] = deque()

    def __len__(self) -> int:
        return len(self._samples)

    def add(self, t_s: float, value: float | None) -> None:
        """Append one sample (``None``: no value in this frame) and forget what fell out."""
        if self._samples and t_s < self._samples[-1][0]:
            self._samples.clear()  # a new run or clock: an old trend would mislead
        if self._samples and t_s - self._samples[-1][0] > self.gap_s and self._samples[-1][1] is not None:
            self._samples.append((self._samples[-1][0], None))
        self._samples.append((t_s, value))
        while self._samples and self._samples[0][0] < t_s - self.window_s:
            self._samples.popleft()

    def clear(self) -> None:
        self._samples.clear()

    def points(self) -> list[tuple[float, float | None]]:
        """The samples, oldest first; ``None`` values mark breaks in the line."""
        return list(self._samples)

    @property
    def last_t_s(self) -> float | None:
        return self._samples[-1][0] if self._samples else None
