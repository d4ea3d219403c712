"""What the post-class report shows, read from the database into plain dataclasses.

All the heavy lifting is ``GROUP BY`` in SQL (time bins x participants), so a 3-hour session
with 30 participants (~324k observation rows) comes back as a few thousand rows; numpy does the
rest. Nothing here draws or formats: ``report/plots.py`` and ``report/render.py`` do.

Definitions the report and its tests share:

- *faces seen*: the sum of ``class_snapshots.faces_seen`` (face observations over all frames).
- *duration*: as ``classmood sessions`` shows it (media time for files, wall time when live).
- *emotion distribution*: mean smoothed probability per emotion over every classified face,
  i.e. ``SUM(p_x * faces_seen) / SUM(faces_seen)`` over the snapshots that have probabilities.
- *presence*: frames in which a participant's face was seen / frames of the session.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from sqlalchemy import Engine, Integer, case, cast, func, select
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql.elements import ColumnElement

from db.engine import session_scope
from db.queries import SessionSummary, session_summary
from db.schema import PROB_COLUMNS, ObservationRow, ParticipantRow, SnapshotRow
from vocab.labels import EMOTIONS, NEGATIVE_MASK, UNCERTAIN, mood_index
from vocab.settings import Privacy

NICE_BINS_S = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600)
TIMELINE_MAX_BINS = 720  # one point per ~1.5 px of a 1100 px wide plot
HEATMAP_MAX_BINS = 240
HEATMAP_MAX_ROWS = 60  # more participants than this: the most present ones get a row
MOMENTS = 5
MIN_MOMENT = 3.0  # mood index points: smaller changes are noise, not moments
# Heat-map codes besides the emotion indices; a bin where most of a person's faces were uncertain
# has the same code as an uncertain face.
ABSENT, UNCERTAIN_CODE, PRESENT = -2, UNCERTAIN, len(EMOTIONS)

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Timeline:
    """The class over time in ``bin_s`` bins; arrays are ``(b,)`` or ``(b, 7)``, NaN where unknown."""

    bin_s: float
    t_s: np.ndarray  # bin starts
    frames: np.ndarray
    faces_mean: np.ndarray  # mean faces seen per frame
    tiles_mean: np.ndarray
    distribution: np.ndarray  # (b, 7) mean probability per emotion over classified faces
    mood_index: np.ndarray
    negative_share: np.ndarray


@dataclass(frozen=True)
class Moment:
    """A stretch where the class mood index moved a lot."""

    t_from_s: float
    t_to_s: float
    mood_from: float
    mood_to: float
    driver: str  # the emotion whose share moved most
    driver_change: float  # its change in share, -1..1

    @property
    def change(self) -> float:
        return self.mood_to - self.mood_from


@dataclass(frozen=True)
class ParticipantStats:
    participant_id: int
    name: str  # "P<track id>": the tracker's id, no identity
    first_seen_s: float
    last_seen_s: float
    frames_seen: int
    presence: float  # 0..1
    top_label: str | None  # most frequent confident label (None in presence mode)
    top_label_share: float | None
    uncertain_share: float | None
    happy_share: float | None  # mean probabilities over the participant's observations
    negative_share: float | None
    mood_index: float | None


@dataclass(frozen=True)
class Heatmap:
    """``codes`` ``(p, b)`` int8: emotion index, ``UNCERTAIN``, ``PRESENT`` or ``ABSENT``."""

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
    label_shares: dict[str, float] | None  # share of observations per label, Uncertain included
    timeline: Timeline | None
    moments: list[Moment] = field(default_factory=list)
    swings: list[Moment] = field(default_factory=list)  # the largest drops, marked on the timeline
    people: list[ParticipantStats] = field(default_factory=list)
    heatmap: Heatmap | None = None
    observations: int = 0

    @property
    def has_emotions(self) -> bool:
        return self.distribution is not None

    @property
    def has_participants(self) -> bool:
        return self.meta.privacy.per_person

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


def load_report_data(engine: Engine, session_id: int, progress: Progress | None = None) -> ReportData:
    """Everything the report needs about one session; ``UnknownSession`` if there is none."""
    step = progress or (lambda _msg: None)
    dialect = engine.dialect.name
    meta = session_summary(engine, session_id)
    step("session totals")
    Snap, Obs = SnapshotRow, ObservationRow  # noqa: N806
    with session_scope(engine) as s:
        frames, faces, faces_max, t_max = s.execute(
            select(func.count(), func.sum(Snap.faces_seen), func.max(Snap.faces_seen), func.max(Snap.t_s))
            .where(Snap.session_id == session_id)).one()
        participants = s.scalar(select(func.count()).select_from(ParticipantRow)
                                .where(ParticipantRow.session_id == session_id)) or 0
        classified = func.sum(case((Snap.p_neutral.is_not(None), Snap.faces_seen), else_=0))
        dist_row = s.execute(select(classified, *[func.sum(getattr(Snap, c) * Snap.faces_seen) for c in PROB_COLUMNS])
                             .where(Snap.session_id == session_id)).one()
        labels = {label: n for label, n in s.execute(select(Obs.label, func.count()).where(Obs.session_id == session_id)
                                                     .group_by(Obs.label))}
    frames, faces = int(frames or 0), int(faces or 0)
    n_obs = sum(labels.values())
    distribution = None
    if dist_row[0]:
        distribution = {e: float(v or 0.0) / float(dist_row[0]) for e, v in zip(EMOTIONS, dist_row[1:], strict=True)}
    label_shares = None
    if n_obs and meta.privacy is Privacy.FULL:
        label_shares = {k: labels.get(k, 0) / n_obs for k in (*EMOTIONS, "Uncertain")}
    data = ReportData(meta=meta, frames=frames, faces_seen=faces,
                      faces_per_frame_mean=faces / frames if frames else 0.0, faces_per_frame_max=int(faces_max or 0),
                      participants=int(participants), distribution=distribution, label_shares=label_shares,
                      timeline=None, observations=n_obs)
    if not frames:
        return data
    span_s = max(float(t_max or 0.0), 1.0)
    step("class timeline")
    timeline = _timeline(engine, session_id, nice_bin_s(span_s, TIMELINE_MAX_BINS), dialect)
    moments: list[Moment] = []
    swings: list[Moment] = []
    if distribution is not None:
        moments, swings = find_moments(timeline, span_s)
    people: list[ParticipantStats] = []
    heatmap = None
    if data.has_participants and participants:
        step("participants")
        people, heatmap = _participants(engine, session_id, frames, nice_bin_s(span_s, HEATMAP_MAX_BINS),
                                        span_s, meta, dialect)
    return dataclasses.replace(data, timeline=timeline, moments=moments, swings=swings, people=people,
                               heatmap=heatmap)


def _timeline(engine: Engine, session_id: int, bin_s: float, dialect: str) -> Timeline:
    Snap = SnapshotRow  # noqa: N806
    b = _bin(Snap.t_s, bin_s, dialect).label("b")
    classified = func.sum(case((Snap.p_neutral.is_not(None), Snap.faces_seen), else_=0))
    stmt = (select(b, func.count(), func.sum(Snap.faces_seen), func.sum(Snap.tiles_seen), classified,
                   *[func.sum(getattr(Snap, c) * Snap.faces_seen) for c in PROB_COLUMNS])
            .where(Snap.session_id == session_id).group_by(b).order_by(b))
    with session_scope(engine) as s:
        rows = np.array([[float(v or 0.0) for v in r] for r in s.execute(stmt)], np.float64).reshape(-1, 12)
    frames = rows[:, 1]
    with np.errstate(invalid="ignore", divide="ignore"):
        dist = rows[:, 5:12] / rows[:, 4:5]
    dist[rows[:, 4] == 0] = np.nan
    return Timeline(bin_s=bin_s, t_s=rows[:, 0] * bin_s, frames=frames.astype(np.int64),
                    faces_mean=rows[:, 2] / frames, tiles_mean=rows[:, 3] / frames, distribution=dist,
                    mood_index=mood_index(dist), negative_share=dist[:, NEGATIVE_MASK].sum(axis=1))


def _smooth(values: np.ndarray, k: int) -> np.ndarray:
    """Moving mean over ``k`` bins along axis 0, skipping NaN; NaN where a window has no value."""
    ok = np.isfinite(values)
    kernel = np.ones(k)
    filled = np.where(ok, values, 0.0)
    if values.ndim == 1:
        num, den = np.convolve(filled, kernel, "same"), np.convolve(ok.astype(float), kernel, "same")
    else:
        num = np.stack([np.convolve(c, kernel, "same") for c in filled.T], axis=1)
        den = np.stack([np.convolve(c, kernel, "same") for c in ok.T.astype(float)], axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return num / den


def find_moments(tl: Timeline, span_s: float, count: int = MOMENTS) -> tuple[list[Moment], list[Moment]]:
    """The biggest mood changes (either way) and the biggest drops (at most ``count`` and 3).

    The change is measured across a window of about a thirtieth of the session (10 s to 5 min)
    on a moving mean of a third of that, so one noisy bin does not make a moment. Windows do
    not overlap; touching windows that move the same way are one moment.
    """
    w = max(1, int(round(float(np.clip(span_s / 30.0, 10.0, 300.0)) / tl.bin_s)))
    if np.isfinite(tl.mood_index).sum() < 2:
        return [], []
    k = max(1, w // 3)
    mood, dist = _smooth(tl.mood_index, k), _smooth(tl.distribution, k)
    w = min(w, len(mood) - 1)
    delta = np.nan_to_num(mood[w:] - mood[:-w])

    def moment(i: int, j: int) -> Moment:
        d = np.nan_to_num(dist[j] - dist[i])
        d[EMOTIONS.index("Neutral")] = 0.0  # what moved the mood is the emotion that came or went
        e = int(np.argmax(np.abs(d)))
        return Moment(float(tl.t_s[i]), float(tl.t_s[j] + tl.bin_s), float(mood[i]), float(mood[j]),
                      EMOTIONS[e], float(d[e]))

    def pick(score: np.ndarray, limit: int) -> list[Moment]:
        starts: list[int] = []
        taken = np.zeros(len(score), bool)
        floor = max(MIN_MOMENT, 0.25 * float(score.max()))
        for i in np.argsort(-score, kind="stable"):
            if len(starts) >= limit or score[i] < floor:
                break
            if not taken[max(0, i - w + 1):i + w].any():
                taken[i] = True
                starts.append(int(i))
        spans: list[list[int]] = []
        for i in sorted(starts):
            if spans and i <= spans[-1][1] and np.sign(delta[i]) == np.sign(delta[spans[-1][0]]):
                spans[-1][1] = i + w
            else:
                spans.append([i, i + w])
        return [moment(i, j) for i, j in spans]

    return pick(np.abs(delta), count), pick(-delta, 3)


_LABELS = (*EMOTIONS, "Uncertain")


def _participants(engine: Engine, session_id: int, frames: int, bin_s: float, span_s: float,
                  meta: SessionSummary, dialect: str) -> tuple[list[ParticipantStats], Heatmap]:
    """Per-participant numbers and the heat map from one scan: GROUP BY participant, time bin."""
    Obs, Part = ObservationRow, ParticipantRow  # noqa: N806
    b = _bin(Obs.t_s, bin_s, dialect).label("b")
    stmt = (select(Obs.participant_id, b, func.count(), func.min(Obs.t_s), func.max(Obs.t_s), func.count(Obs.p_neutral),
                   *[func.sum(getattr(Obs, c)) for c in PROB_COLUMNS],
                   *[func.sum(case((Obs.label == k, 1), else_=0)) for k in _LABELS])
            .where(Obs.session_id == session_id).group_by(Obs.participant_id, b))
    with session_scope(engine) as s:
        tracks = {pid: track for pid, track in
                  s.execute(select(Part.id, Part.track_id).where(Part.session_id == session_id))}
        rows = s.execute(stmt).all()
    # columns: 0 pid, 1 bin, 2 n, 3 t_min, 4 t_max, 5 n_prob, 6..12 prob sums, 13..20 label counts
    a = np.array([[float(v) if v is not None else np.nan for v in r] for r in rows], np.float64).reshape(-1, 21)
    a[:, 6:13] = np.nan_to_num(a[:, 6:13])
    pids = a[:, 0].astype(np.int64)
    people = []
    for pid in np.unique(pids):
        r = a[pids == pid]
        n, n_prob = int(r[:, 2].sum()), int(r[:, 5].sum())
        counts = {k: float(v) for k, v in zip(_LABELS, r[:, 13:21].sum(axis=0), strict=True)}
        confident = {k: v for k, v in counts.items() if k in EMOTIONS and v > 0}
        top = max(confident, key=lambda k: (confident[k], -EMOTIONS.index(k))) if confident else None
        mean = r[:, 6:13].sum(axis=0) / n_prob if n_prob else None
        track = tracks.get(int(pid), int(pid))
        people.append(ParticipantStats(
            participant_id=int(pid), name=f"P{track}", first_seen_s=float(r[:, 3].min()),
            last_seen_s=float(r[:, 4].max()), frames_seen=n, presence=min(1.0, n / frames),
            top_label=top, top_label_share=confident[top] / n if top else None,
            uncertain_share=counts["Uncertain"] / n if meta.privacy is Privacy.FULL else None,
            happy_share=float(mean[EMOTIONS.index("Happy")]) if mean is not None else None,
            negative_share=float(mean[NEGATIVE_MASK].sum()) if mean is not None else None,
            mood_index=float(mood_index(mean)) if mean is not None else None))
    people.sort(key=lambda p: (p.first_seen_s, int(p.name[1:])))
    return people, _heatmap(people, a, bin_s, span_s)


def _heatmap(people: list[ParticipantStats], a: np.ndarray, bin_s: float, span_s: float) -> Heatmap:
    n_bins = int(span_s // bin_s) + 1
    shown_ids = {p.participant_id for p in sorted(people, key=lambda p: -p.frames_seen)[:HEATMAP_MAX_ROWS]}
    shown = [p for p in people if p.participant_id in shown_ids]  # back in first-seen order
    row_of = {p.participant_id: i for i, p in enumerate(shown)}
    codes = np.full((len(shown), n_bins), ABSENT, np.int8)
    for r in a:
        row, bi = row_of.get(int(r[0])), int(r[1])
        if row is None or not 0 <= bi < n_bins:
            continue
        n, n_uncertain, n_prob = r[2], r[20], r[5]
        if not n_prob:
            codes[row, bi] = PRESENT
        elif n_uncertain * 2 > n:
            codes[row, bi] = UNCERTAIN_CODE
        else:
            codes[row, bi] = int(np.argmax(r[6:13]))
    return Heatmap(bin_s=bin_s, t_s=np.arange(n_bins) * bin_s, names=[p.name for p in shown], codes=codes,
                   omitted=len(people) - len(shown))
