"""The background writer: one thread drains a bounded queue and commits about once a second.

Rows are built from ``FrameResult`` at this edge. A failed commit (database locked, read-only,
disk full, server gone) keeps the rows in memory and retries with back-off, so nothing is lost
while the fault lasts and nothing already committed is ever touched; a kill loses at most the
last commit interval.
"""

from __future__ import annotations

import json
import logging
import math
import os
import queue
import socket
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np
from sqlalchemy import CursorResult, Engine, bindparam, insert, select, update
from sqlalchemy.exc import SQLAlchemyError

from db.tables import PROB_COLUMNS, class_snapshots, observations, participants, pauses, sessions
from vocab.errors import StorageError, one_line
from vocab.labels import attention_text, eyes_text, label_text
from vocab.settings import Privacy
from vocab.timefmt import aware_utc
from vocab.types import FrameResult

log = logging.getLogger(__name__)

STALE_HEARTBEAT_S = 120.0
_STOP = object()


@dataclass(frozen=True)
class _Pause:
    paused: bool
    t_mono: float
    t_utc: datetime


@dataclass(frozen=True)
class SessionInfo:
    """What is stored about a run when it starts."""

    source: str  # the source's own description, e.g. "screen:1 1920x1080"
    live: bool  # a live capture (its length is wall time) or a file (media time)
    privacy: Privacy
    settings: dict
    model_sha256: str | None


@dataclass
class RecorderHealth:
    """What the UI shows about storage: rows waiting, the last error (None when all is well)."""

    frames_committed: int = 0
    frames_pending: int = 0
    last_error: str | None = None
    dropped_frames: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


def mark_interrupted_sessions(engine: Engine) -> list[int]:
    """Close sessions left 'running' by a process that died (killed, crashed, power cut).

    A session is dead when its process on this host is gone, or (other hosts, PostgreSQL)
    when it has not written a heartbeat for ``STALE_HEARTBEAT_S``.
    """
    host = socket.gethostname()
    now = datetime.now(UTC)
    closed = []
    with engine.begin() as conn:
        # In id order, so that two processes doing this at once lock rows in the same order.
        running = select(sessions).where(sessions.c.status == "running").order_by(sessions.c.id)
        for row in conn.execute(running).all():
            beat = aware_utc(row.heartbeat_utc or row.started_utc)
            dead = (row.host == host and row.pid != os.getpid() and not _pid_alive(row.pid)) or \
                   (now - beat).total_seconds() > STALE_HEARTBEAT_S
            if dead:
                conn.execute(update(sessions).where(sessions.c.id == row.id)
                             .values(status="interrupted", ended_utc=beat))
                closed.append(row.id)
    for sid in closed:
        log.warning("session %d did not end cleanly; marked as interrupted", sid)
    return closed


class Recorder:
    """Stores a run: its session row, participants, observations and class snapshots."""

    CLOSE_RETRY_S = 15.0  # how long close() keeps retrying a failing database before frames are lost

    def __init__(self, engine: Engine, info: SessionInfo, commit_interval_s: float = 1.0,
                 max_pending_frames: int = 7200) -> None:
        self._engine = engine
        self._info = info
        self._interval = commit_interval_s
        self._max_pending = max_pending_frames
        self._queue: queue.Queue[object] = queue.Queue(maxsize=256)
        self._pending: list[FrameResult] = []
        self._participant_ids: dict[int, int] = {}
        self._t0: float | None = None
        self._open_pause: int | None = None
        # Each participant's name as stored, and how often each name was read for them: the name
        # stored is the one read most (a misread on the first frame is corrected, a rename followed).
        self._stored_names: dict[int, str] = {}
        self._name_reads: dict[int, Counter[str]] = {}
        self._retrying = False  # the last commit of frames failed: it may have reached the database
        self.health = RecorderHealth()
        self.session_id = self._create_session()
        self._thread = threading.Thread(target=self._run, name="classmood-db-writer", daemon=True)
        self._thread.start()

    def _create_session(self) -> int:
        now = datetime.now(UTC)
        try:
            mark_interrupted_sessions(self._engine)
            with self._engine.begin() as conn:
                # PostgreSQL enforces VARCHAR lengths (SQLite does not): a long path must not stop a class.
                row = dict(started_utc=now, heartbeat_utc=now, source=self._info.source[:500],
                           settings_json=json.dumps(self._info.settings, default=str, sort_keys=True),
                           model_sha256=self._info.model_sha256, privacy=self._info.privacy.value,
                           live=self._info.live, status="running", host=socket.gethostname()[:255],
                           pid=os.getpid(), frames=0)
                return _inserted_id(conn.execute(insert(sessions).values(row)))
        except SQLAlchemyError as e:
            raise StorageError(f"cannot start a session in the database: {one_line(e)}") from None

    def submit(self, frame: FrameResult) -> None:
        """Queue one frame for storage; never blocks the pipeline for long."""
        try:
            self._queue.put(frame, timeout=1.0)
        except queue.Full:
            with self.health.lock:
                self.health.dropped_frames += 1
            log.error("storage is not keeping up; frame %d was not stored", frame.frame_id)

    def mark_paused(self, paused: bool, t_mono: float) -> None:
        """The host paused (or resumed) the run at ``t_mono`` (the frames' clock): kept as a pause row."""
        self._queue.put(_Pause(paused, t_mono, datetime.now(UTC)))

    def close(self, status: str = "complete") -> int:
        """Flush everything, then mark the session ``status`` with its end time; returns the frames not stored.

        A session that stored no frame at all is marked ``no frames`` instead of ``complete``.
        A database that still refuses writes at exit (another program holds its lock, the disk
        is full) gets ``CLOSE_RETRY_S`` more; frames it still refuses then are lost. Their count,
        plus any frames dropped earlier because storage fell behind, is returned so that the
        caller can say so rather than report a complete recording (0: everything is stored).
        """
        self._queue.put(_STOP)
        self._thread.join()
        if status == "complete" and self.health.frames_committed == 0 and not self._pending:
            status = "no frames"
        self._flush_before_close()
        if self._pending:
            log.error("%d frames could not be stored: %s", len(self._pending), self.health.last_error)
        with self.health.lock:
            not_stored = len(self._pending) + self.health.dropped_frames
        try:
            with self._engine.begin() as conn:
                conn.execute(update(sessions).where(sessions.c.id == self.session_id).values(
                    status=status, ended_utc=datetime.now(UTC)))
        except SQLAlchemyError as e:
            log.error("could not close session %d: %s", self.session_id, one_line(e))
        return not_stored

    def _flush_before_close(self) -> None:
        """Commit the buffered frames, retrying with back-off for up to ``CLOSE_RETRY_S``.

        A lock held by a backup tool or a second writer is often gone within seconds; giving up
        at once would lose frames that a short wait at exit saves.
        """
        deadline = time.monotonic() + self.CLOSE_RETRY_S
        attempt = 0
        while not self._commit_pending():
            left_s = deadline - time.monotonic()
            if left_s <= 0:
                return
            if attempt == 0:
                log.warning("storing %d buffered frames before exit: retrying for up to %.0f s",
                            len(self._pending), left_s)
            time.sleep(min(0.5 * 2**attempt, 4.0, left_s))
            attempt += 1

    def _run(self) -> None:
        next_commit = time.monotonic() + self._interval
        backoff = self._interval
        while True:
            timeout = max(0.0, next_commit - time.monotonic())
            try:
                item = self._queue.get(timeout=timeout)
            except queue.Empty:
                item = None
            if item is _STOP:
                return
            if isinstance(item, _Pause):
                self._store_pause(item)
            if isinstance(item, FrameResult):
                if self._t0 is None:
                    self._t0 = item.t_mono  # the session's second 0: t_s of rows and pauses counts from here
                self._pending.append(item)
                if len(self._pending) > self._max_pending:
                    del self._pending[0]
                    with self.health.lock:
                        self.health.dropped_frames += 1
            if time.monotonic() >= next_commit:
                ok = self._commit_pending() if self._pending else self._heartbeat()
                backoff = self._interval if ok else min(backoff * 2, 30.0)
                next_commit = time.monotonic() + backoff

    def _store_pause(self, p: _Pause) -> None:
        t_s = p.t_mono - self._t0 if self._t0 is not None else 0.0
        try:
            with self._engine.begin() as conn:
                if p.paused and self._open_pause is None:
                    self._open_pause = _inserted_id(conn.execute(insert(pauses).values(
                        session_id=self.session_id, started_utc=p.t_utc, t_from_s=max(t_s, 0.0))))
                elif not p.paused and self._open_pause is not None:
                    conn.execute(update(pauses).where(pauses.c.id == self._open_pause)
                                 .values(ended_utc=p.t_utc, t_to_s=max(t_s, 0.0)))
                    self._open_pause = None
        except SQLAlchemyError as e:  # a pause row is context for the report, never worth stopping for
            log.error("could not store a pause: %s", one_line(e))

    def _heartbeat(self) -> bool:
        try:
            with self._engine.begin() as conn:
                conn.execute(update(sessions).where(sessions.c.id == self.session_id)
                             .values(heartbeat_utc=datetime.now(UTC)))
            return True
        except SQLAlchemyError as e:
            self._fail(e)
            return False

    def _fail(self, e: Exception) -> None:
        msg = one_line(e)
        with self.health.lock:
            first = self.health.last_error is None
            kept = f", {len(self._pending)} frames kept in memory" if self._pending else ""
            self.health.last_error = f"database write failed{kept}: {msg}"
            self.health.frames_pending = len(self._pending)
        (log.error if first else log.debug)("%s", self.health.last_error)

    def _commit_pending(self) -> bool:
        frames = list(self._pending)
        if not frames:
            return True
        new_ids: list[int] = []
        per_person = self._info.privacy.per_person
        # Names are personal data: kept only in the full privacy mode (the pipeline reads none otherwise).
        names_kept = self._info.privacy is Privacy.FULL
        names: dict[int, str] = {}  # participants whose name to store changes with this commit
        reads: dict[int, Counter[str]] = {}  # the reads of these frames, added once they are stored
        try:
            with self._engine.begin() as conn:
                # Idempotent: a retry after a connection lost during COMMIT finds the frames that
                # commit did store (one snapshot per session and frame) and skips them. Only a
                # retry can meet such rows, so a writer that has not failed does not look.
                stored = set(conn.scalars(select(class_snapshots.c.frame_id).where(
                    class_snapshots.c.session_id == self.session_id,
                    class_snapshots.c.frame_id.in_([fr.frame_id for fr in frames])))) if self._retrying else set()
                obs, snaps, t_s = [], [], []
                first_seen: dict[int, datetime] = {}
                last_seen: dict[int, datetime] = {}
                assert self._t0 is not None  # set by the writer thread when the first frame came in
                fresh = [fr for fr in frames if fr.frame_id not in stored]
                for fr in fresh:
                    t_s.append(fr.t_mono - self._t0)
                    snaps.append(_snapshot_row(self.session_id, fr, t_s[-1]))
                    if per_person and fr.faces.track_id is not None:
                        for tid in [*fr.faces.track_id.tolist(), *fr.camera_off_track_ids.tolist()]:
                            first_seen.setdefault(tid, fr.t_utc)
                            last_seen[tid] = fr.t_utc
                        if names_kept:
                            for tid, name in _names_read(fr):
                                reads.setdefault(tid, Counter())[name] += 1
                for tid, counts in reads.items():
                    best = (self._name_reads.get(tid, Counter()) + counts).most_common(1)[0][0]
                    if best != self._stored_names.get(tid):
                        names[tid] = best
                new = [tid for tid in first_seen if tid not in self._participant_ids]
                if new and self._retrying:
                    # Participants a lost-connection commit did store keep their rows.
                    for tid, pid in conn.execute(select(participants.c.track_id, participants.c.id).where(
                            participants.c.session_id == self.session_id, participants.c.track_id.in_(new))):
                        self._participant_ids[tid] = pid
                        new_ids.append(tid)
                    new = [tid for tid in new if tid not in self._participant_ids]
                if new:
                    # One multi-row INSERT ... RETURNING; ids come from the database (a PostgreSQL
                    # sequence), so concurrent writers never collide.
                    rows = [{"session_id": self.session_id, "track_id": tid, "first_seen_utc": first_seen[tid],
                             "last_seen_utc": last_seen[tid], "name": names.get(tid)} for tid in new]
                    if self._engine.dialect.insert_returning:
                        returning = insert(participants).returning(participants.c.track_id, participants.c.id)
                        got = [(tid, pid) for tid, pid in conn.execute(returning, rows)]
                    else:  # SQLite before 3.35 has no RETURNING: one INSERT per participant
                        got = [(r["track_id"], _inserted_id(conn.execute(insert(participants).values(r))))
                               for r in rows]
                    for tid, pid in got:
                        self._participant_ids[tid] = pid
                        new_ids.append(tid)
                old = [tid for tid in last_seen if tid not in new]
                # One UPDATE per distinct time, not one per participant: a commit usually holds
                # one frame, so everyone seen shares its time (49 faces: ~1 ms less a commit
                # than the ORM's per-row bulk update).
                by_time: dict[datetime, list[int]] = {}
                for tid in old:
                    by_time.setdefault(last_seen[tid], []).append(self._participant_ids[tid])
                for seen, pids in by_time.items():
                    conn.execute(update(participants).where(participants.c.id.in_(pids)).values(last_seen_utc=seen))
                learned = [tid for tid in old if tid in names]  # a name read later, or read more now
                if learned:  # one statement, executed for every such participant
                    conn.execute(update(participants).where(participants.c.id == bindparam("pid"))
                                 .values(name=bindparam("new_name")),
                                 [{"pid": self._participant_ids[tid], "new_name": names[tid]} for tid in learned])
                if per_person:
                    for fr, t in zip(fresh, t_s, strict=True):
                        obs.extend(_observation_rows(self.session_id, fr, t, self._participant_ids))
                # Core inserts: the same rows and types as the ORM's bulk path without its per-row
                # bookkeeping (49 faces a frame: ~1 ms less a commit).
                if obs:
                    conn.execute(insert(observations), obs)
                if snaps:
                    conn.execute(insert(class_snapshots), snaps)
                conn.execute(update(sessions).where(sessions.c.id == self.session_id).values(
                    heartbeat_utc=datetime.now(UTC), frames=sessions.c.frames + len(fresh)))
        except SQLAlchemyError as e:
            for tid in new_ids:  # rolled back with the transaction
                del self._participant_ids[tid]
            self._retrying = True
            self._fail(e)
            return False
        del self._pending[:len(frames)]
        self._retrying = False
        self._stored_names.update(names)
        for tid, counts in reads.items():
            self._name_reads.setdefault(tid, Counter()).update(counts)
        with self.health.lock:
            if self.health.last_error:
                log.info("database writes work again; %d buffered frames stored", len(frames))
            self.health.last_error = None
            self.health.frames_committed += len(frames)
            self.health.frames_pending = len(self._pending)
        return True


def _inserted_id(result: CursorResult) -> int:
    """The primary key of the one row an ``INSERT`` just stored."""
    key = result.inserted_primary_key
    assert key is not None and key[0] is not None
    return int(key[0])


def _probs(p: object) -> dict[str, float | None]:
    if p is None:
        return dict.fromkeys(PROB_COLUMNS)
    return {c: float(v) for c, v in zip(PROB_COLUMNS, p, strict=True)}  # type: ignore[call-overload]


def _finite(v: float) -> float | None:
    return float(v) if math.isfinite(v) else None


def _names_read(fr: FrameResult) -> list[tuple[int, str]]:
    """``(track id, name)`` of every participant whose name was read on this frame: the faces',
    and those of camera-off participants, from the name on their tile."""
    out: list[tuple[int, str]] = []
    if fr.faces.track_id is not None and fr.faces.name is not None:
        out += [(tid, name) for tid, name in zip(fr.faces.track_id.tolist(), fr.faces.name, strict=True)
                if isinstance(name, str) and name]
    if len(fr.camera_off_track_ids) and fr.tile_names:
        on_tile = {tuple(t): n for t, n in zip(fr.tiles_xyxy.tolist(), fr.tile_names, strict=True)}
        for tid, box in zip(fr.camera_off_track_ids.tolist(), fr.camera_off_xyxy.tolist(), strict=True):
            name = on_tile.get(tuple(int(round(v)) for v in box))
            if isinstance(name, str) and name:
                out.append((tid, name))
    return out


def _observation_rows(session_id: int, fr: FrameResult, t_s: float, pids: dict[int, int]) -> list[dict]:
    """One row per face, and one "Hidden" row per participant under the host's overlay."""
    f = fr.faces
    if f.track_id is None:
        return []
    rows = []
    n = len(f)
    # Whole columns to Python lists once: indexing numpy arrays face by face cost ~1 ms a commit.
    boxes = np.rint(f.xyxy).astype(np.int64).tolist()
    probs_all = f.smoothed_probs.tolist() if f.smoothed_probs is not None else [None] * n
    readable = np.isfinite(f.smoothed_probs).all(axis=1).tolist() if f.smoothed_probs is not None else [False] * n
    labels = f.label.tolist() if f.label is not None else [None] * n
    poses = f.head_pose_deg.tolist() if f.head_pose_deg is not None else [[np.nan] * 3] * n
    eyes_all = f.eyes_closed.astype(np.int64).tolist() if f.eyes_closed is not None else [-1] * n
    attention = f.attention.tolist() if f.attention is not None else [None] * n
    for i, (x1, y1, x2, y2) in enumerate(boxes):
        probs = probs_all[i] if readable[i] else None  # unreadable: no expression is stored for it
        code, looks = labels[i], attention[i]
        label = "Present" if code is None else label_text(code)
        yaw, pitch, roll = poses[i]
        rows.append({"session_id": session_id, "participant_id": pids[f.track_id[i].item()], "frame_id": fr.frame_id,
                     "t_utc": fr.t_utc, "t_s": t_s, "x": x1, "y": y1, "w": x2 - x1, "h": y2 - y1,
                     "detection_score": float(f.score[i]), "label": label,
                     "confidence": max(probs) if probs is not None else None, **_probs(probs),
                     "attention": attention_text(looks) if looks is not None else None,
                     "yaw_deg": _finite(yaw), "pitch_deg": _finite(pitch), "roll_deg": _finite(roll),
                     "eyes": eyes_text(eyes_all[i])})
    for label, ids, boxes in (("Hidden", fr.hidden_track_ids, fr.hidden_xyxy),
                              ("Camera off", fr.camera_off_track_ids, fr.camera_off_xyxy)):
        for tid, box in zip(ids.tolist(), boxes, strict=True):
            if tid not in pids:
                continue
            x1, y1, x2, y2 = (int(round(v)) for v in box)
            rows.append({"session_id": session_id, "participant_id": pids[tid], "frame_id": fr.frame_id,
                         "t_utc": fr.t_utc, "t_s": t_s, "x": x1, "y": y1, "w": x2 - x1, "h": y2 - y1,
                         "detection_score": 0.0, "label": label, "confidence": None, **_probs(None),
                         "attention": None, "yaw_deg": None, "pitch_deg": None, "roll_deg": None, "eyes": None})
    return rows


def _snapshot_row(session_id: int, fr: FrameResult, t_s: float) -> dict:
    m = fr.mood
    return {"session_id": session_id, "frame_id": fr.frame_id, "t_utc": fr.t_utc, "t_s": t_s,
            "faces_seen": m.faces_seen if m else len(fr.faces), "tiles_seen": m.tiles_seen if m else len(fr.tiles_xyxy),
            "participants_known": m.participants_known if m else 0,
            "mood_index": m.mood_index if m else None, "negative_share": m.negative_share if m else None,
            "faces_readable": m.faces_readable if m else None, "attention_share": m.attention_share if m else None,
            "hidden_by_overlay": m.hidden_by_overlay if m else None, "cameras_off": m.cameras_off if m else None,
            **_probs(m.distribution if m else None)}
