"""What the post-class report shows, read from the database into plain dataclasses.

All the heavy lifting is ``GROUP BY`` in SQL (time bins x participants), so a 3-hour session
with 30 participants (~324k observation rows) comes back as a few thousand rows; numpy does the
rest. Nothing here draws or formats: ``report/plots.py`` and ``report/html.py`` do.

Definitions the report and its tests share:

- *faces seen*: the sum of ``class_snapshots.faces_seen`` (face observations over all frames).
- *duration*: as ``classmood sessions`` shows it (media time for files, wall time when live);
  paused time is part of it and is shown beside it.
- *emotion distribution*: mean smoothed probability per emotion over every readable face, i.e.
  ``SUM(p_x * w) / SUM(w)`` over the snapshots that have probabilities, ``w`` being
  ``faces_readable`` (``faces_seen`` in databases from before it existed).
- *presence*: frames in which a participant was there (face seen, covered by the host's overlay,
  or camera off with their name) / frames of the session. Paused time has no frames, so it
  counts neither way.
- *attention share*: share of attention readings (faces looking at the screen, masked or not).
- *moments*: see ``find_moments``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from sqlalchemy import Engine, Integer, case, cast, func, select
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql.elements import ColumnElement

from db.queries import SessionSummary, attention_readings, pause_rows, session_summary
from db.schema import ObservationRow, ParticipantRow, SnapshotRow, session_scope
from db.tables import PROB_COLUMNS
from vocab.labels import ATTENDING_STATES, AWAY_STATES, EMOTIONS, NEGATIVE_MASK, UNCERTAIN, VALENCE_VEC, mood_index
from vocab.settings import Privacy

NICE_BINS_S = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600)
TIMELINE_MAX_BINS = 720  # one point per ~1.5 px of a 1100 px wide plot
HEATMAP_MAX_BINS = 240
HEATMAP_MAX_ROWS = 60  # more participants than this: the most present ones get a row
MOMENTS = 5  # at most this many mood changes, and at most this many no-face/camera/attention stretches
MIN_MOMENT = 5.0  # mood index points: a smaller change is never a moment, however quiet the class
NOISE_K = 5.0  # a mood change is a moment when it is this many noise widths (robust sigma) big
GAP_MIN_S = 10.0  # no faces at all for this long is a moment (the overlay's default alert)
CAMERAS_OFF_MIN_S = 20.0  # at least CAMERAS_OFF_SHARE of the tiles without a face for this long
CAMERAS_OFF_SHARE = 0.5
AWAY_MIN_S = 60.0  # at least AWAY_SHARE of the faces not looking at the screen for this long
AWAY_SHARE = 1 / 3
# Heat-map codes besides the emotion indices (0..6); a bin where most of a person's faces were
# uncertain has the same code as an uncertain face.
PAUSED, NO_DATA, ABSENT, UNCERTAIN_CODE, PRESENT = -4, -3, -2, UNCERTAIN, len(EMOTIONS)
AWAY_CODE, UNREADABLE_CODE, HIDDEN_CODE, CAMERA_OFF_CODE = PRESENT + 1, PRESENT + 2, PRESENT + 3, PRESENT + 4
HEATMAP_CODES = (PAUSED, NO_DATA, ABSENT, UNCERTAIN_CODE, *range(len(EMOTIONS)), PRESENT, AWAY_CODE,
                 UNREADABLE_CODE, HIDDEN_CODE, CAMERA_OFF_CODE)

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Timeline:
    """The class over time in ``bin_s`` bins that hold frames; arrays are ``(b,)`` or ``(b, 7)``, NaN where unknown.

    Bins without a frame (capture gaps, pauses) are not in it: ``t_s`` is not evenly spaced.
    """

    bin_s: float
    t_s: np.ndarray  # bin starts
    frames: np.ndarray
    faces_mean: np.ndarray  # mean faces seen per frame
    tiles_mean: np.ndarray
    distribution: np.ndarray  # (b, 7) mean probability per emotion over readable faces
    mood_index: np.ndarray
    negative_share: np.ndarray
    attention_share: np.ndarray  # mean over frames with a reading; NaN: not measured
    cameras_off_mean: np.ndarray  # tiles without a face per frame
    hidden_mean: np.ndarray  # participants under the host's overlay per frame; NaN: not measured
    readable_mean: np.ndarray  # faces whose expression was read per frame; NaN: not measured


@dataclass(frozen=True)
class Moment:
    """A stretch worth a look.

    ``kind``: ``drop`` / ``rise`` (the mood index moved beyond the session's noise; ``mood_*`` are the
    means of the windows before and after, ``driver`` the expression whose share moved most in the
    direction of the change), ``no_faces`` (no face at all), ``cameras_off`` (most tiles without a
    face) or ``looking_away`` (many faces not looking at the screen; ``share`` is the mean share away).
    """

    kind: str
    t_from_s: float
    t_to_s: float
    mood_from: float | None = None
    mood_to: float | None = None
    driver: str | None = None
    driver_change: float | None = None  # its change in share, -1..1
    share: float | None = None  # looking_away: mean share not looking; cameras_off: share of tiles
    faces: float | None = None  # mean faces seen per frame during the stretch

    @property
    def change(self) -> float:
        if self.mood_from is None or self.mood_to is None:
            return 0.0
        return self.mood_to - self.mood_from

    @property
    def duration_s(self) -> float:
        return self.t_to_s - self.t_from_s


@dataclass(frozen=True)
class ParticipantStats:
    participant_id: int
    track_id: int
    name: str | None  # the display name read from the tile (untrusted text), None where unknown
    first_seen_s: float
    last_seen_s: float
    frames_seen: int  # frames with the face seen
    frames_hidden: int  # frames covered by the host's overlay (present, not seen)
    frames_camera_off: int
    presence: float  # 0..1, frames present (seen, covered or camera off) / frames
    top_label: str | None  # most frequent confident label (None in presence mode)
    top_label_share: float | None  # of the readable faces
    uncertain_share: float | None  # of the readable faces
    unreadable_share: float | None  # of the faces seen: looking away/down, eyes closed, covered
    happy_share: float | None  # mean probabilities over the participant's readable observations
    negative_share: float | None
    mood_index: float | None
    attention_readings: int = 0
    attention_share: float | None = None  # readings looking at the screen / readings; None: not measured
    longest_away_s: float | None = None
    eyes_closed_s: float | None = None

    @property
    def label(self) -> str:
        """What the report calls this person: their name where read, else the tracker's ``P<id>``."""
        return self.name if self.name else f"P{self.track_id}"

    @property
    def key(self) -> str:
        """The tracker's ``P<id>``: stable, and never the untrusted name."""
        return f"P{self.track_id}"


@dataclass(frozen=True)
class Heatmap:
    """``codes`` ``(p, b)`` int8: one of ``HEATMAP_CODES``."""

    bin_s: float
    t_s: np.ndarray
    names: list[str]
    codes: np.ndarray
    omitted: int  # participants without a row (beyond HEATMAP_MAX_ROWS)


@dataclass(frozen=True)
class ReportData:
    meta: SessionSummary
    frames: int
    faces_seen: int
    faces_per_frame_mean: float
    faces_per_frame_max: int
    participants: int
    distribution: dict[str, float] | None  # None when no emotion was stored
    label_shares: dict[str, float] | None  # share of readable faces per label, Uncertain included
    timeline: Timeline | None
    moments: list[Moment] = field(default_factory=list)  # in time order
    swings: list[Moment] = field(default_factory=list)  # mood moments, shaded on the timeline
    people: list[ParticipantStats] = field(default_factory=list)
    heatmap: Heatmap | None = None
    observations: int = 0
    pauses: list[tuple[float, float]] = field(default_factory=list)  # (t_from_s, t_to_s)
    unreadable_share: float | None = None  # faces seen whose expression could not be read
    attention_share: float | None = None  # the whole session; None: not measured
    frame_interval_s: float = 1.0
    mood_threshold: float | None = None  # the smallest mood change this session counts as a moment

    @property
    def has_emotions(self) -> bool:
        return self.distribution is not None

    @property
    def has_participants(self) -> bool:
        return self.meta.privacy.per_person

    @property
    def has_attention(self) -> bool:
        return self.attention_share is not None

    @property
    def paused_s(self) -> float:
        return float(sum(b - a for a, b in self.pauses))

    @property
    def empty(self) -> bool:
        return self.frames == 0


def nice_bin_s(duration_s: float, max_bins: int) -> float:
    """The smallest round bin width that cuts ``duration_s`` into at most ``max_bins`` bins."""
    for b in NICE_BINS_S:
        if duration_s / b <= max_bins:
            return float(b)
    return float(np.ceil(duration_s / max_bins / 3600) * 3600)


def _bin(col: ColumnElement[float] | InstrumentedAttribute[float], bin_s: float, dialect: str) -> ColumnElement[int]:
    # SQLite's CAST truncates (t_s >= 0, so it floors); PostgreSQL's rounds, so floor first.
    q = col / bin_s
    return cast(q if dialect == "sqlite" else func.floor(q), Integer)


def _weight() -> ColumnElement[int]:
    """How many faces a snapshot's distribution is the mean of (``faces_seen`` before schema 3)."""
    return func.coalesce(SnapshotRow.faces_readable, SnapshotRow.faces_seen)


def load_report_data(engine: Engine, session_id: int, progress: Progress | None = None,
                     meta: SessionSummary | None = None) -> ReportData:
    """Everything the report needs about one session; ``UnknownSession`` if there is none.

    ``meta``: the session's summary when the caller has already read it.
    """
    step = progress or (lambda _msg: None)
    dialect = engine.dialect.name
    meta = meta if meta is not None else session_summary(engine, session_id)
    step("session totals")
    Snap, Obs = SnapshotRow, ObservationRow  # noqa: N806
    with session_scope(engine) as s:
        frames, faces, faces_max, t_min, t_max, att_sum, att_n = s.execute(
            select(func.count(), func.sum(Snap.faces_seen), func.max(Snap.faces_seen), func.min(Snap.t_s),
                   func.max(Snap.t_s), func.sum(Snap.attention_share), func.count(Snap.attention_share))
            .where(Snap.session_id == session_id)).one()
        classified = func.sum(case((Snap.p_neutral.is_not(None), _weight()), else_=0))
        dist_row = s.execute(select(classified, *[func.sum(getattr(Snap, c) * _weight()) for c in PROB_COLUMNS])
                             .where(Snap.session_id == session_id)).one()
        labels = {label: n for label, n in s.execute(select(Obs.label, func.count()).where(Obs.session_id == session_id)
                                                     .group_by(Obs.label))}
    frames, faces = int(frames or 0), int(faces or 0)
    n_obs = sum(labels.values())
    distribution = None
    if dist_row[0]:
        distribution = {e: float(v or 0.0) / float(dist_row[0]) for e, v in zip(EMOTIONS, dist_row[1:], strict=True)}
    label_shares, unreadable_share = None, None
    readable = sum(labels.get(k, 0) for k in _LABELS)
    face_rows = n_obs - labels.get("Hidden", 0) - labels.get("Camera off", 0)
    if meta.privacy is Privacy.FULL and readable:
        label_shares = {k: labels.get(k, 0) / readable for k in _LABELS}
    if meta.privacy is Privacy.FULL and face_rows:
        unreadable_share = labels.get("Unreadable", 0) / face_rows
    span_s = max(float(t_max or 0.0), 1.0)
    pauses = _pauses(engine, session_id, float(t_max or 0.0), meta)
    interval = _frame_interval_s(engine, session_id) if frames > 1 else 1.0
    data = ReportData(meta=meta, frames=frames, faces_seen=faces,
                      faces_per_frame_mean=faces / frames if frames else 0.0, faces_per_frame_max=int(faces_max or 0),
                      participants=meta.participants, distribution=distribution, label_shares=label_shares,
                      timeline=None, observations=n_obs, pauses=pauses, unreadable_share=unreadable_share,
                      attention_share=float(att_sum or 0.0) / att_n if att_n else None,
                      frame_interval_s=max(interval, 1e-3))
    if not frames:
        return data
    step("class timeline")
    timeline = _timeline(engine, session_id, nice_bin_s(span_s, TIMELINE_MAX_BINS), dialect)
    moments, swings = find_moments(timeline, span_s, pauses, with_mood=distribution is not None)
    threshold = mood_threshold(timeline, span_s) if distribution is not None else None
    people: list[ParticipantStats] = []
    heatmap = None
    if data.has_participants and meta.participants:
        step("participants")
        people, heatmap = _participants(engine, session_id, data, nice_bin_s(span_s, HEATMAP_MAX_BINS), span_s,
                                        dialect)
    return dataclasses.replace(data, timeline=timeline, moments=moments, swings=swings, people=people,
                               heatmap=heatmap, mood_threshold=threshold)


def _frame_interval_s(engine: Engine, session_id: int) -> float:
    """The median time between frames (a capture gap or a pause does not stretch it)."""
    with session_scope(engine) as s:
        t = np.array(s.scalars(select(SnapshotRow.t_s).where(SnapshotRow.session_id == session_id)
                               .order_by(SnapshotRow.t_s)).all(), np.float64)
    steps = np.diff(t)
    steps = steps[steps > 0]
    return float(np.median(steps)) if len(steps) else 1.0


def _pauses(engine: Engine, session_id: int, t_max: float, meta: SessionSummary) -> list[tuple[float, float]]:
    """Pauses as closed ``(from, to)`` stretches; one never resumed lasts to the session's end."""
    end = max(t_max, meta.duration_s)
    out = []
    for a, b in pause_rows(engine, session_id):
        b = end if b is None else b
        if b > a:
            out.append((a, b))
    return out


def _timeline(engine: Engine, session_id: int, bin_s: float, dialect: str) -> Timeline:
    Snap = SnapshotRow  # noqa: N806
    b = _bin(Snap.t_s, bin_s, dialect).label("b")
    classified = func.sum(case((Snap.p_neutral.is_not(None), _weight()), else_=0))
    cams = func.coalesce(Snap.cameras_off, Snap.tiles_seen - Snap.faces_seen)
    stmt = (select(b, func.count(), func.sum(Snap.faces_seen), func.sum(Snap.tiles_seen), classified,
                   *[func.sum(getattr(Snap, c) * _weight()) for c in PROB_COLUMNS],
                   func.sum(Snap.attention_share), func.count(Snap.attention_share), func.sum(cams),
                   func.sum(Snap.hidden_by_overlay), func.count(Snap.hidden_by_overlay),
                   func.sum(Snap.faces_readable), func.count(Snap.faces_readable))
            .where(Snap.session_id == session_id).group_by(b).order_by(b))
    with session_scope(engine) as s:
        rows = np.array([[float(v or 0.0) for v in r] for r in s.execute(stmt)], np.float64).reshape(-1, 19)
    frames = rows[:, 1]
    with np.errstate(invalid="ignore", divide="ignore"):
        dist = rows[:, 5:12] / rows[:, 4:5]
        att = np.where(rows[:, 13] > 0, rows[:, 12] / rows[:, 13], np.nan)
        hidden = np.where(rows[:, 16] > 0, rows[:, 15] / rows[:, 16], np.nan)
        readable = np.where(rows[:, 18] > 0, rows[:, 17] / rows[:, 18], np.nan)
    dist[rows[:, 4] == 0] = np.nan
    return Timeline(bin_s=bin_s, t_s=rows[:, 0] * bin_s, frames=frames.astype(np.int64),
                    faces_mean=rows[:, 2] / frames, tiles_mean=rows[:, 3] / frames, distribution=dist,
                    mood_index=mood_index(dist), negative_share=dist[:, NEGATIVE_MASK].sum(axis=1),
                    attention_share=att, cameras_off_mean=rows[:, 14] / frames, hidden_mean=hidden,
                    readable_mean=readable)


def robust_sigma(values: np.ndarray) -> float:
    """1.4826 x the median absolute deviation: the standard deviation of the bulk, blind to a few outliers."""
    v = values[np.isfinite(values)]
    if not len(v):
        return 0.0
    return float(1.4826 * np.median(np.abs(v - np.median(v))))


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """``[start, stop)`` index ranges where ``mask`` is true."""
    edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(edges == 1).tolist(), np.flatnonzero(edges == -1).tolist(), strict=True))


def split_at_pauses(t_s: np.ndarray, bin_s: float, pauses: list[tuple[float, float]]) -> np.ndarray:
    """``(b,)`` bool: True where a pause lies between bin i-1 and bin i.

    The one rule for "this stretch may not run across": moments and away-stretches are split there
    and the report's lines are broken there. Two adjacent bins are never split (nothing was lost).
    """
    cut = np.zeros(len(t_s), bool)
    for a, b in pauses:
        cut[1:] |= (t_s[:-1] + bin_s <= b) & (t_s[1:] >= a) & (t_s[1:] > t_s[:-1] + bin_s)
    return cut


def _stretches(tl: Timeline, mask: np.ndarray, min_s: float, cut: np.ndarray) -> list[tuple[int, int]]:
    """Runs of bins where ``mask`` holds, not across a pause, lasting at least ``min_s``; ``[i, j)``."""
    out = []
    for i, j in _runs(mask):
        start = i
        for k in [*[k for k in range(i + 1, j) if cut[k]], j]:
            if tl.t_s[k - 1] + tl.bin_s - tl.t_s[start] >= min_s:
                out.append((start, k))
            start = k
    return out


def find_moments(tl: Timeline, span_s: float, pauses: list[tuple[float, float]] | None = None,
                 with_mood: bool = True, count: int = MOMENTS) -> tuple[list[Moment], list[Moment]]:
    """Moments worth a look, in time order, and the mood moments among them (shaded on the timeline).

    *Mood changes*: the bins with readable faces are taken in order, skipping bins without faces
    (a change across a no-face gap or a pause is compared directly). At each split the mean mood
    of the ``w`` readable bins after it minus that of the ``w`` before it is the change there
    (``w`` about a thirtieth of the session, 10 s to 5 min). The session's own noise is the robust
    spread (MAD) of those changes over the whole session; a change is a moment when it is at least
    ``NOISE_K`` times that and at least ``MIN_MOMENT`` points. Peaks closer than ``w`` are one;
    neighbouring peaks of the same sign are one longer moment. The driver is the expression whose
    share changed most among those that moved the mood the same way (an emotion of negative
    valence that grew, or Happy/Surprise that shrank, for a drop); Neutral never drives.

    *Stretches*: no face at all for ``GAP_MIN_S``; at least half the tiles without a face for
    ``CAMERAS_OFF_MIN_S`` (while some faces are seen); at least ``AWAY_SHARE`` of the faces with an
    attention reading not looking at the screen for ``AWAY_MIN_S``. A stretch never runs across a pause.
    """
    pauses = pauses or []
    cut = split_at_pauses(tl.t_s, tl.bin_s, pauses)
    events: list[Moment] = []

    def stretch(kind: str, mask: np.ndarray, min_s: float, share: np.ndarray | None = None) -> None:
        for i, j in _stretches(tl, mask, min_s, cut):
            frames = tl.frames[i:j].astype(float)
            events.append(Moment(kind, float(tl.t_s[i]), float(min(tl.t_s[j - 1] + tl.bin_s, span_s)),
                                 share=float(np.average(share[i:j], weights=frames)) if share is not None else None,
                                 faces=float(np.average(tl.faces_mean[i:j], weights=frames))))

    no_faces = tl.faces_mean == 0
    stretch("no_faces", no_faces, GAP_MIN_S)
    with np.errstate(invalid="ignore", divide="ignore"):
        off_share = np.where(tl.tiles_mean > 0, tl.cameras_off_mean / tl.tiles_mean, 0.0)
    stretch("cameras_off", (off_share >= CAMERAS_OFF_SHARE) & ~no_faces, CAMERAS_OFF_MIN_S, off_share)
    away = 1.0 - tl.attention_share
    stretch("looking_away", np.nan_to_num(away, nan=0.0) >= AWAY_SHARE, AWAY_MIN_S, away)
    events = sorted(events, key=lambda m: -m.duration_s)[:count]
    mood = _mood_moments(tl, span_s, count) if with_mood else []
    return sorted(mood + events, key=lambda m: m.t_from_s), mood


def _mood_changes(tl: Timeline, span_s: float) -> tuple[int, np.ndarray, np.ndarray, np.ndarray, float] | None:
    """``w``, split indices, window means before and after each split, and the moment threshold."""
    mood = tl.mood_index[np.isfinite(tl.mood_index)]
    n = len(mood)
    w = min(max(2, int(round(float(np.clip(span_s / 30.0, 10.0, 300.0)) / tl.bin_s))), n // 2)
    if w < 2:
        return None
    c = np.concatenate([[0.0], np.cumsum(mood)])
    splits = np.arange(w, n - w + 1)  # split i: bins [i-w, i) before, [i, i+w) after
    before, after = (c[splits] - c[splits - w]) / w, (c[splits + w] - c[splits]) / w
    return w, splits, before, after, max(MIN_MOMENT, NOISE_K * robust_sigma(after - before))


def mood_threshold(tl: Timeline, span_s: float) -> float | None:
    """The smallest change of the mood index that is a moment in this session (None: too short to tell)."""
    changes = _mood_changes(tl, span_s)
    return changes[4] if changes is not None else None


def _mood_moments(tl: Timeline, span_s: float, count: int) -> list[Moment]:
    ok = np.isfinite(tl.mood_index)
    dist, t = tl.distribution[ok], tl.t_s[ok]
    changes = _mood_changes(tl, span_s)
    if changes is None:
        return []
    w, splits, before, after, threshold = changes
    delta = after - before
    size = np.abs(delta)
    peaks: list[int] = []
    taken = np.zeros(len(delta), bool)
    for k in np.argsort(-size, kind="stable"):
        if size[k] < threshold or len(peaks) >= 3 * count:
            break
        if not taken[max(0, k - w + 1):k + w].any():
            taken[k] = True
            peaks.append(int(k))
    groups: list[list[int]] = []
    for k in sorted(peaks):
        if groups and k - groups[-1][-1] <= 2 * w and np.sign(delta[k]) == np.sign(delta[groups[-1][0]]):
            groups[-1].append(k)
        else:
            groups.append([k])
    out = []
    for g in groups:
        first, last = g[0], g[-1]
        sign = float(np.sign(delta[first]))
        # the stretch: from where the change reached half its size to where it fell back to half
        half = 0.5 * float(size[g].max())
        a, b = first, last
        while a > 0 and sign * delta[a - 1] >= half:
            a -= 1
        while b < len(delta) - 1 and sign * delta[b + 1] >= half:
            b += 1
        i0, i1 = int(splits[a]), int(splits[b])
        d = np.nanmean(dist[splits[last]:splits[last] + w], axis=0) - np.nanmean(dist[splits[first] - w:splits[first]],
                                                                                   axis=0)
        d = np.nan_to_num(d)
        moved = np.flatnonzero(d * VALENCE_VEC * sign > 0)
        e = int(moved[np.argmax(np.abs(d[moved]))]) if len(moved) else None
        out.append(Moment("rise" if sign > 0 else "drop", float(t[i0 - 1]), float(t[i1] + tl.bin_s),
                          float(before[first]), float(after[last]), EMOTIONS[e] if e is not None else None,
                          float(d[e]) if e is not None else None))
    return sorted(out, key=lambda m: -abs(m.change))[:count]


_LABELS = (*EMOTIONS, "Uncertain")
_EXTRA = ("Uncertain", "Unreadable", "Hidden", "Camera off")


def _participants(engine: Engine, session_id: int, data: ReportData, bin_s: float, span_s: float,
                  dialect: str) -> tuple[list[ParticipantStats], Heatmap]:
    """Per-participant numbers and the heat map from one scan: GROUP BY participant, time bin."""
    Obs, Part, Snap = ObservationRow, ParticipantRow, SnapshotRow  # noqa: N806
    b = _bin(Obs.t_s, bin_s, dialect).label("b")
    stmt = (select(Obs.participant_id, b, func.count(), func.min(Obs.t_s), func.max(Obs.t_s), func.count(Obs.p_neutral),
                   *[func.sum(getattr(Obs, c)) for c in PROB_COLUMNS],
                   *[func.sum(case((Obs.label == k, 1), else_=0)) for k in (*EMOTIONS, *_EXTRA)],
                   func.count(Obs.attention), func.sum(case((Obs.attention.in_(ATTENDING_STATES), 1), else_=0)),
                   func.sum(case((Obs.eyes == "closed", 1), else_=0)),
                   func.min(case((Obs.label.not_in(("Hidden", "Camera off")), Obs.t_s))),
                   func.max(case((Obs.label.not_in(("Hidden", "Camera off")), Obs.t_s))))
            .where(Obs.session_id == session_id).group_by(Obs.participant_id, b))
    sb = _bin(Snap.t_s, bin_s, dialect).label("b")
    with session_scope(engine) as s:
        tracks = {pid: (track, name) for pid, track, name in
                  s.execute(select(Part.id, Part.track_id, Part.name).where(Part.session_id == session_id))}
        rows = s.execute(stmt).all()
        frame_bins = dict(s.execute(select(sb, func.count()).where(Snap.session_id == session_id).group_by(sb)).all())
    # columns: 0 pid, 1 bin, 2 n, 3 t_min, 4 t_max, 5 n_prob, 6..12 prob sums, 13..19 emotion counts,
    # 20 uncertain, 21 unreadable, 22 hidden, 23 camera off, 24 readings, 25 attending, 26 eyes closed,
    # 27 first face t, 28 last face t
    a = np.array([[float(v) if v is not None else np.nan for v in r] for r in rows], np.float64).reshape(-1, 29)
    a[:, 6:27] = np.nan_to_num(a[:, 6:27])
    pids = a[:, 0].astype(np.int64)
    longest = _longest_away(engine, session_id, data)
    people = []
    for pid in np.unique(pids):
        r = a[pids == pid]
        n, n_prob = int(r[:, 2].sum()), int(r[:, 5].sum())
        emotions = r[:, 13:20].sum(axis=0)
        uncertain, unreadable, hidden, cam_off, readings, attending, closed = r[:, 20:27].sum(axis=0)
        readable = float(emotions.sum() + uncertain)
        seen = n - int(hidden) - int(cam_off)
        confident = {k: float(v) for k, v in zip(EMOTIONS, emotions, strict=True) if v > 0}
        top = max(confident, key=lambda k: (confident[k], -EMOTIONS.index(k))) if confident else None
        mean = r[:, 6:13].sum(axis=0) / n_prob if n_prob else None
        track, name = tracks.get(int(pid), (int(pid), None))
        full = data.meta.privacy is Privacy.FULL
        first = np.nanmin(r[:, 27]) if np.isfinite(r[:, 27]).any() else np.nanmin(r[:, 3])
        last = np.nanmax(r[:, 28]) if np.isfinite(r[:, 28]).any() else np.nanmax(r[:, 4])
        people.append(ParticipantStats(
            participant_id=int(pid), track_id=int(track), name=name, first_seen_s=float(first),
            last_seen_s=float(last), frames_seen=seen, frames_hidden=int(hidden), frames_camera_off=int(cam_off),
            presence=min(1.0, n / data.frames),
            top_label=top, top_label_share=confident[top] / readable if top and readable else None,
            uncertain_share=float(uncertain) / readable if full and readable else None,
            unreadable_share=float(unreadable) / seen if full and seen else None,
            happy_share=float(mean[EMOTIONS.index("Happy")]) if mean is not None else None,
            negative_share=float(mean[NEGATIVE_MASK].sum()) if mean is not None else None,
            mood_index=float(mood_index(mean)) if mean is not None else None,
            attention_readings=int(readings),
            attention_share=float(attending / readings) if readings else None,
            longest_away_s=longest.get(int(pid), 0.0) if readings else None,
            eyes_closed_s=float(closed) * data.frame_interval_s if readings else None))
    people.sort(key=lambda p: (p.first_seen_s, p.track_id))
    return people, _heatmap(people, a, frame_bins, bin_s, span_s, data)


def _longest_away(engine: Engine, session_id: int, data: ReportData) -> dict[int, float]:
    """Each participant's longest run of readings not looking at the screen, in seconds.

    A run is broken by a reading looking at the screen, by a pause, or by no reading for longer
    than ``max(10 s, 5 frame intervals)`` (the person left, or the camera went off). Its length is
    from its first to its last reading plus one frame interval (one away frame at 1 fps is 1 s).
    """
    step = data.frame_interval_s
    gap = max(10.0, 5 * step)
    out: dict[int, float] = {}
    pid_now, run_start, run_last = None, None, None

    def close() -> None:
        if pid_now is not None and run_start is not None and run_last is not None:
            out[pid_now] = max(out.get(pid_now, 0.0), run_last - run_start + step)

    for pid, t, state in attention_readings(engine, session_id):
        if pid != pid_now:
            close()
            pid_now, run_start, run_last = pid, None, None
        broken = run_last is not None and (t - run_last > gap or any(run_last < a_ <= t for a_, _ in data.pauses))
        if state not in AWAY_STATES or broken:
            close()
            run_start = run_last = None
        if state in AWAY_STATES:
            if run_start is None:
                run_start = t
            run_last = t
    close()
    return out


def _heatmap(people: list[ParticipantStats], a: np.ndarray, frame_bins: dict[int, int], bin_s: float,
             span_s: float, data: ReportData) -> Heatmap:
    """Codes per participant and bin, from the frames there were: no frame is "no data", not absence."""
    n_bins = int(span_s // bin_s) + 1
    t_bins = np.arange(n_bins) * bin_s
    shown_ids = {p.participant_id for p in sorted(people, key=lambda p: -p.presence)[:HEATMAP_MAX_ROWS]}
    shown = [p for p in people if p.participant_id in shown_ids]  # back in first-seen order
    row_of = {p.participant_id: i for i, p in enumerate(shown)}
    has_frames = np.zeros(n_bins, bool)
    for bi, _n in frame_bins.items():
        if 0 <= int(bi) < n_bins:
            has_frames[int(bi)] = True
    empty_row = np.where(has_frames, ABSENT, NO_DATA).astype(np.int8)
    for p_from, p_to in data.pauses:
        # a bin with no frame that a pause covers at least half of was paused, not lost
        overlap = np.clip(np.minimum(t_bins + bin_s, p_to) - np.maximum(t_bins, p_from), 0, None)
        empty_row[~has_frames & (overlap >= 0.5 * bin_s)] = PAUSED
    codes = np.tile(empty_row, (len(shown), 1))
    for r in a:
        row, bi = row_of.get(int(r[0])), int(r[1])
        if row is None or not 0 <= bi < n_bins:
            continue
        n, n_prob = r[2], r[5]
        emotions, uncertain, unreadable, hidden, cam_off, readings, attending = \
            r[13:20].sum(), r[20], r[21], r[22], r[23], r[24], r[25]
        faces = n - hidden - cam_off
        if faces <= 0:
            codes[row, bi] = HIDDEN_CODE if hidden >= cam_off else CAMERA_OFF_CODE
        elif n_prob or emotions or uncertain or unreadable:
            if unreadable * 2 > faces:
                codes[row, bi] = UNREADABLE_CODE
            elif uncertain * 2 > emotions + uncertain or not n_prob:
                codes[row, bi] = UNCERTAIN_CODE
            else:
                codes[row, bi] = int(np.argmax(r[6:13]))
        else:
            codes[row, bi] = AWAY_CODE if readings and (readings - attending) * 2 > readings else PRESENT
    return Heatmap(bin_s=bin_s, t_s=t_bins, names=[p.label for p in shown], codes=codes,
                   omitted=len(people) - len(shown))
