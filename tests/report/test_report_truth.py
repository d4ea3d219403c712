"""The report tells the truth (issue 12 items 2-5 and 13, issue 15's report part, issue 16's hostile names).

Sessions here are planted (``report_synthetic.record_planted``): every event is placed by hand, so
the expected moments and numbers are written out below, and the rest is compared with SQL written
here, independently of ``report/data.py``.
"""

from __future__ import annotations

import csv
import io
import json
import re
import time
import zipfile
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from report_synthetic import HIGH, LOW, RISE, STEADY, STEADY_DIP, Plan, record_planted
from sqlalchemy import Engine, text
from test_report import check_page_matches_sql, open_in_chromium, parse_page, sql_truth, write_report

from db.engine import open_engine
from vocab.labels import EMOTIONS

# The planted class: 10 minutes at 1 fps, 12 people. Mood +42 until a 15 s gap with no faces at
# 3:20, -3 after it (the drop is measured across the gap), paused 4:40-5:10, +63 from 6:20;
# P1-P6 look away 7:30-9:00 (half the class: the mood of the rest does not move), P3 closes their
# eyes 9:20-9:40, P12 is under the host's overlay 1:40-2:40; five seconds get no frame.
PLANTED = Plan(600, 12, mix=[(0, HIGH), (215, LOW), (380, RISE)], no_faces=[(200, 215)], pauses=[(280, 310)],
               away=[(450, 540, {1, 2, 3, 4, 5, 6}, "away"), (560, 580, {3}, "eyes_closed")],
               hidden=[(100, 160, 12)], skipped_s={40, 42, 44, 100, 133})
# (kind, t_from range, t_to range, change range, driver): each must be found, and nothing else.
# HIGH -> LOW: Happy -25 and Sad +36 points pull the mood down, Angry -6 pushes it up (not the driver).
# LOW -> RISE: Happy +45 and Sad -30 both lift it; Happy moved most.
EXPECTED_MOMENTS = [
    ("drop", (175, 200), (215, 240), (-55, -35), "Sad"),
    ("no_faces", (199, 201), (214, 216), None, None),
    ("rise", (355, 380), (380, 405), (55, 80), "Happy"),
    ("looking_away", (449, 451), (539, 541), None, None),
]
# A steady class whose mix dips by 3 mood points half-way (within noise), with capture gaps.
STEADY_PLAN = Plan(600, 12, mix=[(0, STEADY), (300, STEADY_DIP)], skipped_s={40, 42, 44, 301})
# The trial: 41 s at 1 fps with seconds 8, 10, 12, 28, 33, 36 missing; P5 leaves at 0:20.
GAPPY_PLAN = Plan(41, 5, mix=[(0, STEADY)], skipped_s={8, 10, 12, 28, 33, 36}, leave={5: 20})


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Engine, dict[str, int]]]:
    """The planted class in full and presence mode, and the steady class, recorded once."""
    url = f"sqlite:///{tmp_path_factory.mktemp('planted') / 'planted.sqlite3'}"
    engine = open_engine(url)
    sids = {"full": record_planted(engine, PLANTED, seed=1),
            "presence": record_planted(engine, PLANTED, privacy="presence", seed=2),
            "aggregate": record_planted(engine, PLANTED, privacy="aggregate", seed=3),
            "steady": record_planted(engine, STEADY_PLAN, seed=4)}
    yield url, engine, sids
    engine.dispose()


def _report(url: str, sid: int, out: Path, fmt: str) -> Path:
    assert write_report(url, sid, out, fmt) == 0
    return out


def _json(url: str, sid: int, tmp_path: Path) -> dict:
    return json.loads(_report(url, sid, tmp_path / f"r{sid}.json", "json").read_text())


def _rows(engine: Engine, sql: str, **params: object) -> list:
    with engine.connect() as c:
        return list(c.execute(text(sql), params))


def _visible_text(html: str) -> str:
    return re.sub(r"<[^>]+>", " ", re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S))


# -- item 2: moments ----------------------------------------------------------------------------

def test_planted_moments_are_found_and_nothing_else(planted, tmp_path) -> None:
    url, _engine, sids = planted
    doc = _json(url, sids["full"], tmp_path)
    found = sorted(doc["moments"], key=lambda m: m["t_from_s"])
    assert [m["kind"] for m in found] == [k for k, *_ in EXPECTED_MOMENTS], found
    for m, (kind, t_from, t_to, change, driver) in zip(found, EXPECTED_MOMENTS, strict=True):
        assert t_from[0] <= m["t_from_s"] <= t_from[1], (kind, m)
        assert t_to[0] <= m["t_to_s"] <= t_to[1], (kind, m)
        if change is not None:
            assert change[0] <= m["change"] <= change[1], (kind, m)
            assert m["driver"] == driver, (kind, m)
            assert np.sign(m["driver_change"]) == (1 if driver in ("Happy", "Sad") and
                                                   (kind == "rise") == (driver == "Happy") else -1), m
    away = found[3]
    assert away["share"] == pytest.approx(0.5, abs=0.01)  # 6 of 12
    # the page lists the same moments, mood changes with their numbers
    page = (tmp_path / "r.html")
    html = _report(url, sids["full"], page, "html").read_text()
    rows = re.findall(r'<tr data-kind="([a-z_]+)" data-t-from-s="([\d.]+)"', html)
    assert [(k, float(t)) for k, t in rows] == [(m["kind"], round(m["t_from_s"], 1)) for m in found]
    assert "Sad +36 points" in html and "Happy +4" in html


def test_steady_class_has_no_moment_and_no_shading(planted, tmp_path) -> None:
    """A 3-point dip and missing seconds are noise: no moment, no red band, and the page says why."""
    url, _engine, sids = planted
    doc = _json(url, sids["steady"], tmp_path)
    assert doc["moments"] == []
    threshold = doc["summary"]["mood_moment_threshold"]
    assert threshold is not None and threshold >= 5
    html = _report(url, sids["steady"], tmp_path / "s.html", "html").read_text()
    assert 'id="no-moments"' in html and "Nothing stood out" in html
    assert f"no change of {threshold:.0f} points or more" in html
    assert "red bands" not in html


def test_moments_in_presence_mode_are_stretches_only(planted, tmp_path) -> None:
    url, _engine, sids = planted
    doc = _json(url, sids["presence"], tmp_path)
    assert [m["kind"] for m in doc["moments"]] == ["no_faces", "looking_away"]
    assert all(m["change"] is None and m["driver"] is None for m in doc["moments"])


# -- item 3: the heat map bins by frames ----------------------------------------------------------

def test_heatmap_no_frame_is_no_data_not_absence(db, tmp_path) -> None:
    url, engine = db
    sid = record_planted(engine, GAPPY_PLAN)
    doc = _json(url, sid, tmp_path)
    hm = doc["heatmap"]
    assert hm["bin_s"] == 1.0 and hm["participants"] == ["P1", "P2", "P3", "P4", "P5"]
    legend = hm["legend"]
    frames = {int(b): n for b, n in _rows(engine, "SELECT CAST(t_s AS INTEGER), COUNT(*) FROM class_snapshots "
                                                  "WHERE session_id = :sid GROUP BY 1", sid=sid)}
    seen = {(f"P{track}", int(b)) for track, b in _rows(
        engine, "SELECT p.track_id, CAST(o.t_s AS INTEGER) FROM observations o JOIN participants p "
                "ON p.id = o.participant_id WHERE o.session_id = :sid", sid=sid)}
    assert sorted(set(range(41)) - set(frames)) == [8, 10, 12, 28, 33, 36]
    for name, row in zip(hm["participants"], hm["codes"], strict=True):
        for b, code in enumerate(row[:41]):
            shown = legend[str(code)]
            if b not in frames:
                assert shown == "no frame captured", (name, b, shown)
            elif (name, b) not in seen:
                assert shown == "not seen", (name, b, shown)
            else:
                assert shown not in ("not seen", "no frame captured", "paused"), (name, b, shown)
    # P5 after 0:20: seconds 20-40 less the missing 28, 33 and 36 had frames without their face
    assert sum(legend[str(c)] == "not seen" for row in hm["codes"] for c in row) == 18
    html = _report(url, sid, tmp_path / "r.html", "html").read_text()
    assert "<b>no frame captured</b>" in html and "<b>not seen</b>" in html


# -- item 4: pauses --------------------------------------------------------------------------------

def test_pauses_are_shown_and_left_out(planted, tmp_path) -> None:
    url, engine, sids = planted
    sid = sids["full"]
    (t_from, t_to), = _rows(engine, "SELECT t_from_s, t_to_s FROM pauses WHERE session_id = :sid", sid=sid)
    assert (t_from, t_to) == (280.0, 310.0)
    doc = _json(url, sid, tmp_path)
    assert doc["pauses"] == [{"t_from_s": 280.0, "t_to_s": 310.0}] and doc["summary"]["paused_s"] == 30.0
    assert not [t for t in doc["timeline"]["t_s"] if 280 <= t < 310], "bins inside a pause"
    hm = doc["heatmap"]
    paused_bins = [i for i in range(len(hm["codes"][0])) if 280 <= i * hm["bin_s"] and (i + 1) * hm["bin_s"] <= 310]
    assert paused_bins and all(hm["legend"][str(row[i])] == "paused" for row in hm["codes"] for i in paused_bins)
    html = _report(url, sid, tmp_path / "r.html", "html").read_text()
    page = parse_page(html)
    truth = sql_truth(engine, sid)
    check_page_matches_sql(page, truth)  # presence = frames present / frames: paused time has none
    assert page.metrics["paused"][0] == "30.0" and "paused 0:00:30" in page.metrics["paused"][1]
    assert 'data-t-from-s="280.0" data-t-to-s="310.0">Paused 0:04:40 &ndash; 0:05:10 (0:00:30)' in html
    assert "<b>paused</b>" in html  # in the heat map's legend
    # P1 was in every frame but those of the no-face gap: 550 of 565, not 550 of 595 (the 30 paused s)
    assert float(page.participants["P1"]["data-presence"]) == pytest.approx(550 / 565, abs=1e-6)


def test_lines_are_not_drawn_across_a_pause(planted) -> None:
    from report.data import load_report_data
    from report.plots import _broken

    _url, engine, sids = planted
    data = load_report_data(engine, sids["full"])
    assert data.timeline is not None
    x, mood = _broken(data.timeline, data.pauses, data.timeline.mood_index)
    breaks = x[np.isnan(x)]
    assert len(breaks) >= 1
    i = int(np.flatnonzero(np.isnan(x))[0])
    assert x[i - 1] < 280 and x[i + 1] > 310 and np.isnan(mood[i])


# -- item 5: every explanation matches what is shown -------------------------------------------

@pytest.mark.parametrize("mode", ["full", "aggregate", "presence"])
def test_every_explanation_matches_what_is_shown(planted, tmp_path, mode) -> None:
    url, _engine, sids = planted
    html = _report(url, sids[mode], tmp_path / "r.html", "html").read_text()
    shown = set(re.findall(r'data-col="([a-z-]+)"', html)) | set(re.findall(r'data-metric="([a-z-]+)"', html)) \
        | set(re.findall(r'<section id="([a-z-]+)"', html))
    explained = set(re.findall(r'data-explains="([a-z-]+)"', html))
    assert explained, "nothing is explained"
    assert explained <= shown, f"explains what is not shown: {explained - shown}"
    words = _visible_text(html)
    if mode == "aggregate":
        assert "Labelled" not in words and "Participants are numbers" not in words and "Present" not in words
    if mode == "presence":
        assert not [e for e in EMOTIONS if re.search(rf"\b{e}\b", words)], "an emotion on a presence report"
        assert "mood index" not in words.lower() and "Labelled" not in words
        assert {"attention", "longest-away", "eyes-closed"} <= explained
    # the heat map's legend lists exactly the colours the map holds
    doc = _json(url, sids[mode], tmp_path)
    if doc["heatmap"] is not None:
        held = {doc["heatmap"]["legend"][str(c)] for row in doc["heatmap"]["codes"] for c in row}
        assert set(re.findall(r'<li data-code="-?\d+"><span[^>]*></span><b>([^<]+)</b>', html)) == held


# -- item 13: local time on the page, UTC in the exports ----------------------------------------

@pytest.fixture
def kolkata(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The computer's zone is Asia/Kolkata (UTC+05:30, no daylight saving) for one test."""
    monkeypatch.setenv("TZ", "Asia/Kolkata")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_page_shows_local_time_exports_keep_utc(db, tmp_path, kolkata) -> None:
    url, engine = db
    sid = record_planted(engine, GAPPY_PLAN, source="screen:1 1280x720")
    started = _rows(engine, "SELECT started_utc FROM sessions WHERE id = :sid", sid=sid)[0][0]
    started = datetime.fromisoformat(str(started)).replace(tzinfo=ZoneInfo("UTC"))
    local = started.astimezone(ZoneInfo("Asia/Kolkata"))
    html = _report(url, sid, tmp_path / "r.html", "html").read_text()
    assert f"{local:%H:%M} IST (UTC+05:30)" in html
    assert parse_page(html).metrics["started-local"][0] == local.isoformat()
    doc = _json(url, sid, tmp_path)
    assert doc["session"]["started_utc"] == started.isoformat() and doc["session"]["started_utc"].endswith("+00:00")
    with zipfile.ZipFile(_report(url, sid, tmp_path / "r.zip", "csv")) as z:
        snaps = list(csv.DictReader(io.TextIOWrapper(z.open("snapshots.csv"), encoding="utf-8")))
    assert snaps and all(r["t_utc"].endswith("+00:00") for r in snaps)


# -- issue 15: attention in the report --------------------------------------------------------------

def test_attention_per_person_matches_sql(planted, tmp_path) -> None:
    url, engine, sids = planted
    sid = sids["full"]
    per = {f"P{t}": (n, a, c, h) for t, n, a, c, h in _rows(
        engine, "SELECT p.track_id, COUNT(o.attention), SUM(o.attention IN ('screen', 'hidden')), "
                "SUM(o.eyes = 'closed'), SUM(o.label = 'Hidden') FROM participants p JOIN observations o "
                "ON o.participant_id = p.id WHERE p.session_id = :sid GROUP BY p.track_id", sid=sid)}
    html = _report(url, sid, tmp_path / "r.html", "html").read_text()
    page = parse_page(html)
    doc = _json(url, sid, tmp_path)
    people = {p["participant"]: p for p in doc["participants"]}
    for name, (readings, attending, closed, hidden) in per.items():
        row = page.participants[name]
        assert float(row["data-attention"]) == pytest.approx(attending / readings, abs=1e-6)
        assert float(row["data-eyes-closed-s"]) == pytest.approx(closed * 1.0, abs=0.05)  # 1 fps
        assert int(row["data-frames-hidden"]) == hidden
        assert people[name]["attention_share"] == pytest.approx(attending / readings, abs=1e-9)
        # planted: P1-P6 away 7:30-9:00 (90 readings), P3's eyes closed 9:20-9:40 a separate stretch
        assert float(row["data-longest-away-s"]) == pytest.approx(90.0 if name in {f"P{i}" for i in range(1, 7)}
                                                                  else 0.0, abs=0.05)
    assert per["P3"][2] == 20 and per["P12"][3] == 58  # 1:40-2:40 less the two missing seconds
    assert "present but covered by your own ClassMood overlay" in html and 'data-col="hidden"' in html
    # the class's attention over time, and the summary card, against SQL
    (share,), = _rows(engine, "SELECT AVG(attention_share) FROM class_snapshots WHERE session_id = :sid", sid=sid)
    assert float(page.metrics["attention"][0]) == pytest.approx(share, abs=1e-6)
    att = doc["timeline"]["attention_share"]
    t = doc["timeline"]["t_s"]
    assert all(a == pytest.approx(0.5) for a, ts in zip(att, t, strict=True) if 450 <= ts < 540)
    assert all(a == pytest.approx(1.0) for a, ts in zip(att, t, strict=True) if ts < 200)


def test_unreadable_faces_are_not_expressions(planted, tmp_path) -> None:
    url, engine, sids = planted
    sid = sids["full"]
    labels = dict(_rows(engine, "SELECT label, COUNT(*) FROM observations WHERE session_id = :sid GROUP BY label",
                        sid=sid))
    assert labels["Unreadable"] == 6 * 90 + 20 and labels["Hidden"] == 58
    readable = sum(labels.get(k, 0) for k in (*EMOTIONS, "Uncertain"))
    doc = _json(url, sid, tmp_path)
    for k in (*EMOTIONS, "Uncertain"):
        assert doc["label_shares"][k] == pytest.approx(labels.get(k, 0) / readable, abs=1e-9)
    faces = sum(labels.values()) - labels["Hidden"]
    assert doc["summary"]["unreadable_share"] == pytest.approx(labels["Unreadable"] / faces, abs=1e-6)
    assert all(p["top_label"] in EMOTIONS for p in doc["participants"])
    html = _report(url, sid, tmp_path / "r.html", "html").read_text()
    assert f'id="unreadable-share" data-value="{labels["Unreadable"] / faces:.6f}"' in html
    check_page_matches_sql(parse_page(html), sql_truth(engine, sid))  # the mix: readable faces only


def test_presence_mode_shows_attention_and_no_emotions(planted, tmp_path) -> None:
    url, engine, sids = planted
    sid = sids["presence"]
    html = _report(url, sid, tmp_path / "r.html", "html").read_text()
    page = parse_page(html)
    check_page_matches_sql(page, sql_truth(engine, sid))
    assert float(page.participants["P1"]["data-longest-away-s"]) == pytest.approx(90.0, abs=0.05)
    assert "<b>looking away / down, eyes closed</b>" in html  # the heat map shows where people looked
    assert "share of faces looking at the screen" in html
    doc = _json(url, sid, tmp_path)
    assert doc["distribution"] is None and doc["timeline"]["mood_index"] is None
    assert doc["timeline"]["attention_share"] and all(p["top_label"] is None for p in doc["participants"])


def test_csv_carries_attention_head_pose_and_eyes(planted, tmp_path) -> None:
    url, engine, sids = planted
    sid = sids["full"]
    with zipfile.ZipFile(_report(url, sid, tmp_path / "r.zip", "csv")) as z:
        obs = list(csv.DictReader(io.TextIOWrapper(z.open("observations.csv"), encoding="utf-8")))
        snaps = list(csv.DictReader(io.TextIOWrapper(z.open("snapshots.csv"), encoding="utf-8")))
        people = list(csv.DictReader(io.TextIOWrapper(z.open("participants.csv"), encoding="utf-8")))
        pauses = list(csv.DictReader(io.TextIOWrapper(z.open("pauses.csv"), encoding="utf-8")))
    truth = {(f"P{t}", fid): (a, y, p, r, e) for t, fid, a, y, p, r, e in _rows(
        engine, "SELECT p.track_id, o.frame_id, o.attention, o.yaw_deg, o.pitch_deg, o.roll_deg, o.eyes "
                "FROM observations o JOIN participants p ON p.id = o.participant_id WHERE o.session_id = :sid",
        sid=sid)}
    assert len(obs) == len(truth)
    for row in obs:
        a, y, p, r, e = truth[(row["participant"], int(row["frame_id"]))]
        assert row["attention"] == (a or "") and row["eyes"] == (e or "")
        for got, want in ((row["yaw_deg"], y), (row["pitch_deg"], p), (row["roll_deg"], r)):
            assert (got == "" and want is None) or float(got) == pytest.approx(want, abs=1e-5)
    assert any(r["attention"] == "away" and float(r["yaw_deg"]) == 45.0 for r in obs)
    assert {"faces_readable", "attention_share", "hidden_by_overlay", "cameras_off"} <= set(snaps[0])
    p3 = next(p for p in people if p["participant"] == "P3")
    assert float(p3["longest_away_s"]) == 90.0 and float(p3["eyes_closed_s"]) == 20.0
    assert pauses == [{"t_from_s": "280.0", "t_to_s": "310.0"}]


# -- issue 16: names are untrusted input -------------------------------------------------------------

HOSTILE = {1: "<script>alert(1)</script>", 2: '=HYPERLINK("http://evil.example","x")', 3: "+1 555 0100",
           4: "-2+3", 5: "@SUM(A1)", 6: "\tTabbed", 7: "$\\frac{1}{0}$ Ana"}


@pytest.mark.parametrize(("value", "expected"), [
    ("=1+2", "'=1+2"), ("+1", "'+1"), ("-1", "'-1"), ("@x", "'@x"), ("\tx", "'\tx"), ("\rx", "'\rx"),
    ("Ana", "Ana"), ("", ""), (3, 3), (-1.5, -1.5), (None, None),
])
def test_csv_cells_that_would_be_formulas_are_neutralised(value, expected) -> None:
    from report.csv_sink import safe_cell

    assert safe_cell(value) == expected


def test_hostile_names_show_inertly(db, tmp_path) -> None:
    url, engine = db
    sid = record_planted(engine, Plan(30, 8, mix=[(0, STEADY)]))
    with engine.begin() as c:
        for track, name in HOSTILE.items():
            c.execute(text("UPDATE participants SET name = :n WHERE session_id = :sid AND track_id = :t"),
                      {"n": name, "sid": sid, "t": track})
    html = _report(url, sid, tmp_path / "r.html", "html").read_text()
    assert "<script>alert(1)" not in html and html.count("<script") == 1  # only the page's own sorter
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    page = parse_page(html)
    for track, name in HOSTILE.items():
        assert page.participants[f"P{track}"]["data-name"] == name  # shown as the text it is
    assert page.participants["P8"].get("data-name") is None  # no name read: "P8"
    with zipfile.ZipFile(_report(url, sid, tmp_path / "r.zip", "csv")) as z:
        people = {r[0]: r[1] for r in csv.reader(io.TextIOWrapper(z.open("participants.csv"), encoding="utf-8"))}
        names = {r[0]: r[-1] for r in csv.reader(io.TextIOWrapper(z.open("observations.csv"), encoding="utf-8"))}
    for track, name in HOSTILE.items():
        want = "'" + name if name[0] in "=+-@\t" else name
        assert people[f"P{track}"] == want and names[f"P{track}"] == want
    doc = _json(url, sid, tmp_path)
    assert {p["participant"]: p["name"] for p in doc["participants"]}["P1"] == HOSTILE[1]


# -- the planted class in a real browser: the screenshot to look at -----------------------------------

@pytest.mark.parametrize("mode", ["full", "presence"])
def test_planted_class_in_chromium(planted, tmp_path, mode) -> None:
    """Saves ``tests/artifacts/report-planted-<mode>.png``: moments, pauses, attention, covered faces."""
    url, engine, sids = planted
    out = _report(url, sids[mode], tmp_path / "r.html", "html")
    page = open_in_chromium(out, f"report-planted-{mode}.png", 4200, tmp_path / "profile")
    check_page_matches_sql(page, sql_truth(engine, sids[mode]))


def _step_timeline(before: list[float], after: list[float], n: int = 120, noise: float = 0.01) -> object:
    """A 1 s-binned class whose mix steps from ``before`` to ``after`` half-way (a little noise)."""
    from report.data import Timeline
    from vocab.labels import NEGATIVE_MASK, mood_index

    rng = np.random.default_rng(0)
    dist = np.array([before] * (n // 2) + [after] * (n - n // 2)) + rng.normal(0, noise, (n, 7))
    ones, nan = np.ones(n), np.full(n, np.nan)
    return Timeline(bin_s=1.0, t_s=np.arange(n, dtype=float), frames=np.ones(n, np.int64), faces_mean=ones * 10,
                    tiles_mean=ones * 10, distribution=dist, mood_index=mood_index(dist),
                    negative_share=dist[:, NEGATIVE_MASK].sum(axis=1), attention_share=nan,
                    cameras_off_mean=ones * 0, hidden_mean=nan, readable_mean=nan)


@pytest.mark.parametrize(("before", "after", "kind", "driver"), [
    # Angry falls most (-40 points) but that lifts the mood; the drop is Happy's (-35)
    ([0.40, 0, 0, 0.45, 0, 0, 0.15], [0, 0, 0, 0.10, 0.20, 0, 0.70], "drop", "Happy"),
    # Fear grows most (+40 points) but that pulls the mood down; of Sad leaving (-35) and Happy coming (+30)
    # that lift it, Sad moved more (mood -24.5 -> +6)
    ([0, 0, 0, 0, 0.35, 0, 0.65], [0, 0, 0.40, 0.30, 0, 0, 0.30], "rise", "Sad"),
])
def test_the_driver_moved_the_mood_the_way_it_went(before, after, kind, driver) -> None:
    from report.data import find_moments

    moments, _ = find_moments(_step_timeline(before, after), 120.0)
    assert [(m.kind, m.driver) for m in moments] == [(kind, driver)]


@pytest.mark.parametrize(("after", "expected"), [
    ([0.03, 0.01, 0.03, 0.22, 0.06, 0.05, 0.60], []),  # steady, but few faces: each bin wobbles a lot
    ([0.0, 0.0, 0.0, 0.70, 0.0, 0.0, 0.30], ["rise"]),  # +56 points: far beyond that wobble
])
def test_a_noisy_class_is_judged_by_its_own_noise(after, expected) -> None:
    """With 2-3 faces a bin's mood swings by ~10 points: a fixed few-point rule would see moments everywhere."""
    from report.data import MIN_MOMENT, find_moments, mood_threshold

    tl = _step_timeline([0.03, 0.01, 0.03, 0.22, 0.06, 0.05, 0.60], after, n=300, noise=0.08)
    moments, _ = find_moments(tl, 300.0)
    assert [m.kind for m in moments] == expected
    threshold = mood_threshold(tl, 300.0)
    assert threshold is not None and threshold > 2 * MIN_MOMENT


def test_a_session_without_attention_says_not_measured(db, tmp_path) -> None:
    """Databases from before schema 3 (and runs without the attention engine) have NULL attention."""
    url, engine = db
    sid = record_planted(engine, Plan(30, 3, mix=[(0, STEADY)], attention=False))
    (readings,), = _rows(engine, "SELECT COUNT(attention) FROM observations WHERE session_id = :sid", sid=sid)
    assert readings == 0
    html = _report(url, sid, tmp_path / "r.html", "html").read_text()
    page = parse_page(html)
    assert page.metrics["attention"][0] == "" and "not measured in this session" in html
    assert 'data-col="attention"' not in html and 'data-explains="attention"' not in html
    doc = _json(url, sid, tmp_path)
    assert doc["summary"]["attention_share"] is None
    assert all(p["attention_share"] is None and p["longest_away_s"] is None for p in doc["participants"])
