"""Recall per condition of the detection stage on simulated meeting screens: ``python -m bench.detect``.

A fixed set of screens from ``tools.screensim`` (seeds and overrides below, so anyone gets the
same pictures) goes through the project's detection path (``bot.detect.FaceFinder`` over
``models.face_detector.MediaPipeFaceDetector``). Each screen is shown ``FRAMES`` times, 4 s
apart (live cameras move a little, the UI and camera-off tiles do not), and the last frame is
scored (``--score-last K``: each of the last K), so a detector that keeps state across frames is
measured as it runs.

Printed: recall per condition (frontal-to-45° faces ≥ 32 px per layout; masked, ~60° yaw,
looking down, 24-32 px, ... over all screens), false positives by where they land (camera-off
tiles, profile photos, panel/chat avatars, the rest of the UI, live tiles), and milliseconds
per screen. ``--timing`` prints the older per-gallery-size timing table instead; ``--cost`` the
CPU time of a first and of later frames per layout against one detector call per tile.

A detection matches a face when at least half of the smaller box lies in the other and their
areas are within 4x (the truth boxes are approximate, see ``tools.screensim.truth``). A box
that fails that test only on the areas or the overlap but lies over a face no other box matched
is counted apart ("loose box on a missed face": the participant is found, once, with a box too
large or shifted for the expression crop); the face still counts as missed.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np

from bot.detect import SCAN_MIN_SCORE, TILE_MIN_SCORE, FaceFinder
from models.face_detector import FULL_RANGE_MODEL_PATH, SHORT_RANGE_MODEL_PATH, MediaPipeFaceDetector
from tools.screensim import Screen, load_pool, random_spec, simulate_screen
from vocab.geometry import Overlap, box_overlap
from vocab.types import FrameResult

FRAMES = 3
FRAME_DT_S = 4.0

# The fixed screen sets: name -> (overrides, seeds). Hard-condition shares are raised in the
# "hard" set so masked / turned / small faces are numerous enough to measure.
_QUIET = {"panels": (), "windowed": False}
SCREEN_SETS: dict[str, tuple[dict[str, Any], tuple[int, ...]]] = {
    "gallery": ({"layout": "gallery", **_QUIET}, tuple(range(100, 108))),
    "speaker+filmstrip": ({"layout": "speaker", **_QUIET}, tuple(range(200, 206))),
    "share+strip": ({"layout": "share", **_QUIET}, tuple(range(300, 310))),
    "windowed": ({"windowed": True, "panels": ()}, tuple(range(400, 405))),
    "panels open": ({"panels": ("people", "chat"), "windowed": False, "off_photo_frac": 0.6},
                    tuple(range(500, 505))),
    "hard": ({"layout": "gallery", "rows": 4, "cols": 4, "n_tiles": 16, "masked_frac": 0.3, "turned_frac": 0.25,
              "down_frac": 0.2, "small_frac": 0.25, "camera_off_frac": 0.0, "panels": ()}, tuple(range(600, 606))),
    "cameras off": ({"layout": "gallery", "rows": 5, "cols": 5, "n_tiles": 25, "camera_off_frac": 0.6,
                     "off_photo_frac": 0.7, "panels": ("people",)}, tuple(range(700, 703))),
}


@dataclass
class Tally:
    """Found / total faces per row, false positives per place, milliseconds per screen."""

    found: dict[str, int] = field(default_factory=dict)
    total: dict[str, int] = field(default_factory=dict)
    false_pos: dict[str, int] = field(default_factory=dict)
    ms: list[float] = field(default_factory=list)
    misses: list[str] = field(default_factory=list)

    def add(self, row: str, hit: bool) -> None:
        self.total[row] = self.total.get(row, 0) + 1
        self.found[row] = self.found.get(row, 0) + int(hit)

    def recall(self, row: str) -> float:
        return self.found.get(row, 0) / max(1, self.total.get(row, 0))


def bench_screens(sets: Iterable[str] = tuple(SCREEN_SETS), frames: int = FRAMES) -> list[tuple[str, list[Screen]]]:
    """The fixed screens of each set, ``frames`` frames per screen (deterministic)."""
    pool = load_pool()
    out = []
    for name in sets:
        overrides, seeds = SCREEN_SETS[name]
        for seed in seeds:
            spec = random_spec(seed, **overrides)
            out.append((name, [simulate_screen(spec, frame_index=k, pool=pool) for k in range(frames)]))
    return out


def match(pred_xyxy: np.ndarray, true_xyxy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Greedy one-to-one matching; ``(hit (n_true,) bool, used (n_pred,) bool)``."""
    hit = np.zeros(len(true_xyxy), bool)
    used = np.zeros(len(pred_xyxy), bool)
    if len(pred_xyxy) == 0 or len(true_xyxy) == 0:
        return hit, used
    ios = box_overlap(pred_xyxy, true_xyxy, Overlap.IOS)
    area_p = np.prod(pred_xyxy[:, 2:] - pred_xyxy[:, :2], axis=1)
    area_t = np.prod(true_xyxy[:, 2:] - true_xyxy[:, :2], axis=1)
    ratio = area_p[:, None] / np.maximum(area_t[None, :], 1e-6)
    ok = (ios >= 0.5) & (ratio > 0.25) & (ratio < 4)
    for i, j in sorted(zip(*np.nonzero(ok), strict=True), key=lambda ij: -ios[ij[0], ij[1]]):
        if not used[i] and not hit[j]:
            used[i], hit[j] = True, True
    return hit, used


def face_rows(conditions: Sequence[str], screen_set: str) -> list[str]:
    """The table rows a face with these conditions counts in."""
    c = set(conditions)
    rows = []
    easy = "frontal" in c and not c & {"small", "tiny", "masked", "occluded"}
    if easy and screen_set not in ("hard",):
        rows.append(f"frontal>=32px {screen_set}")
    if easy:
        rows.append("frontal>=32px all")
    for cond, row in (("masked", "masked"), ("yaw", "yaw 45-75deg"), ("down", "looking down"),
                      ("small", "faces 24-32px"), ("tiny", "faces <24px (no target)"),
                      ("lowlight", "low light"), ("backlight", "backlight"), ("motionblur", "motion blur"),
                      ("pillarbox", "pillarboxed"), ("offcentre", "off-centre"), ("occluded", "occluded")):
        if cond in c:
            rows.append(row)
    return rows


def false_positive_place(box: np.ndarray, screen: Screen) -> str:
    """Where an unmatched detection lies: profile photo, camera-off tile, avatar, UI, live tile."""
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2

    def inside(b: Sequence[float]) -> bool:
        return b[0] <= cx < b[2] and b[1] <= cy < b[3]

    for d in screen.decoys:
        if inside(d.xyxy):
            return "profile photo" if d.kind == "profile-photo" else "panel/chat avatar"
    for t in screen.tiles:
        if inside(t.xyxy):
            return "camera-off tile" if t.camera != "on" else "live tile (not a face)"
    for key, region in screen.regions.items():
        if key.startswith("panel") and inside(region):
            return "panel (not avatar)"
    return "chrome/desktop/slide"


def evaluate(finder_factory: Callable[[], Callable[[FrameResult], FrameResult]],
             screens: list[tuple[str, list[Screen]]], frame_dt_s: float = FRAME_DT_S, score_last: int = 1) -> Tally:
    """Run a fresh finder over each screen's frames, ``frame_dt_s`` apart; score the last
    ``score_last`` of them (each face on each of those frames counts once)."""
    tally = Tally()
    for set_name, frames in screens:
        finder = finder_factory()
        for k, screen in enumerate(frames):
            frame = FrameResult(k, k * frame_dt_s, datetime.now(UTC), (0, 0, screen.image.shape[1],
                                                                      screen.image.shape[0]), image=screen.image)
            t = time.perf_counter()
            result = finder(frame)
            if k == len(frames) - 1:
                tally.ms.append((time.perf_counter() - t) * 1000)
            if k >= len(frames) - score_last:
                _score(tally, set_name, screen, result)
    return tally


def _score(tally: Tally, set_name: str, screen: Screen, result: FrameResult) -> None:
    """Count each face of ``screen`` found or missed by ``result``, and each box that is no face."""
    pred = result.faces.xyxy.astype(np.float32).reshape(-1, 4)
    hit, used = match(pred, screen.faces_xyxy())
    for face, h in zip(screen.faces, hit, strict=True):
        for row in face_rows(face.conditions, set_name):
            tally.add(row, bool(h))
        if not h:
            tally.misses.append(f"{set_name} seed {screen.seed} frame {screen.frame_index}: {face.photo} "
                                f"{int(face.height_px)}px {','.join(face.conditions)}")
    missed = screen.faces_xyxy()[~hit]
    for box in pred[~used]:
        if len(missed) and float(box_overlap(box[None], missed, Overlap.IOS).max()) >= 0.5:
            place = LOOSE  # the participant is there, counted once: a box too large or shifted
        else:
            place = false_positive_place(box, screen)
        tally.false_pos[place] = tally.false_pos.get(place, 0) + 1


ROW_ORDER = ("frontal>=32px all", "frontal>=32px gallery", "frontal>=32px speaker+filmstrip",
             "frontal>=32px share+strip", "frontal>=32px windowed", "frontal>=32px panels open",
             "frontal>=32px cameras off", "masked", "yaw 45-75deg", "looking down", "faces 24-32px",
             "faces <24px (no target)", "low light", "backlight", "motion blur", "pillarboxed", "off-centre",
             "occluded")
LOOSE = "loose box on a missed face"
FP_PLACES = ("camera-off tile", "profile photo", "panel/chat avatar", "panel (not avatar)",
             "chrome/desktop/slide", "live tile (not a face)", LOOSE)


def format_table(tally: Tally) -> str:
    lines = [f"{'condition':34s} {'recall':>7s}  found/total"]
    for row in ROW_ORDER:
        if tally.total.get(row):
            lines.append(f"{row:34s} {100 * tally.recall(row):6.1f}%  {tally.found[row]}/{tally.total[row]}")
    lines.append("false positives (on the frames scored):")
    for place in FP_PLACES:
        lines.append(f"  {place:32s} {tally.false_pos.get(place, 0)}")
    ms = np.array(tally.ms)
    lines.append(f"ms per screen: median {np.median(ms):.1f}, p90 {np.percentile(ms, 90):.1f}, "
                 f"max {ms.max():.1f} over {len(ms)} screens")
    return "\n".join(lines)


class make_finder_factory:  # noqa: N801 (a context manager used like a function)
    """The project's detection path, as the pipeline builds it: BlazeFace short range on the
    tiles and full range for the scale scan. ``with make_finder_factory() as new_finder: ...``"""

    def __enter__(self) -> Callable[[], FaceFinder]:
        self.tile = MediaPipeFaceDetector(SHORT_RANGE_MODEL_PATH, min_score=TILE_MIN_SCORE)
        self.scan = MediaPipeFaceDetector(FULL_RANGE_MODEL_PATH, min_score=SCAN_MIN_SCORE)
        return lambda: FaceFinder(self.tile, scan_detector=self.scan)

    def __exit__(self, *exc: object) -> None:
        self.tile.close()
        self.scan.close()


class _CountingDetector:
    def __init__(self, inner: MediaPipeFaceDetector):
        self.inner, self.calls, self.ms = inner, 0, 0.0

    def detect(self, image_bgr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        t = time.perf_counter()
        out = self.inner.detect(image_bgr)
        self.ms += (time.perf_counter() - t) * 1000
        self.calls += 1
        return out

    def close(self) -> None:
        pass


def timing(repeats: int) -> None:
    """The per-gallery-size timing table (composed 1080p galleries, all cameras on): the tile
    detector alone, then with its twin on a second thread (``bot.detector_pair``, as a pushed
    run or a file source builds it)."""
    from tools.compose_gallery import compose_gallery, load_face_photos

    photos = load_face_photos()
    print("tiles  detector_ms  calls  ms_per_call  stage_ms  stage_ms_paired")
    with make_finder_factory() as factory, \
            MediaPipeFaceDetector(SHORT_RANGE_MODEL_PATH, min_score=TILE_MIN_SCORE) as twin_model:
        base = factory()
        tile, scan = _CountingDetector(base.detector), _CountingDetector(base.scan_detector)  # type: ignore[arg-type]
        twin = _CountingDetector(twin_model)
        for grid in ((1, 1), (3, 3), (5, 5), (7, 7)):
            g = compose_gallery(photos, grid=grid, size_wh=(1920, 1080), seed=1, camera_off_frac=0)
            det_ms, stage_ms, paired_ms, calls = [], [], [], 0
            for k in range(repeats + 1):
                for paired in (False, True):
                    finder = FaceFinder(tile, scan_detector=scan, twin=twin if paired else None)
                    frame = FrameResult(k, 0.0, datetime.now(UTC), (0, 0, 1920, 1080), image=g.image)
                    tile.calls = scan.calls = twin.calls = 0
                    tile.ms = scan.ms = 0.0
                    t = time.perf_counter()
                    finder(frame)
                    finder.close()
                    if k and paired:  # the first is a warm-up
                        paired_ms.append((time.perf_counter() - t) * 1000)
                    elif k:
                        stage_ms.append((time.perf_counter() - t) * 1000)
                        det_ms.append(tile.ms + scan.ms)
                        calls = tile.calls + scan.calls
            det = float(np.median(det_ms))
            print(f"{len(g.tiles):5d}  {det:11.1f}  {calls:5d}  {det / max(calls, 1):11.2f}  "
                  f"{np.median(stage_ms):8.1f}  {np.median(paired_ms):15.1f}")


def cost(frames: int = 6) -> None:
    """Per layout: the CPU time (``time.process_time``, one process; the finder as the bench
    builds it, no twin) of detection on a screen's first frame and on its later frames, 1 s
    apart as a live run sees them (people sway, video noise changes, the UI stays), against one
    short-range detector call per true tile of the same frame (a participant tile, camera off
    or not: the per-tile cost). Medians over the set's screens; the ratio's worst screen too."""
    rows: dict[str, list[tuple[float, float, float, float, int]]] = {}
    with make_finder_factory() as factory:
        for set_name, shots in bench_screens(tuple(SCREEN_SETS), frames=max(2, frames)):
            image0 = shots[0].image
            factory()(FrameResult(0, 0.0, datetime.now(UTC), (0, 0, image0.shape[1], image0.shape[0]), image=image0))
            finder = factory()
            spent, calls = [], []
            for k, shot in enumerate(shots):
                frame = FrameResult(k, float(k), datetime.now(UTC), (0, 0, shot.image.shape[1], shot.image.shape[0]),
                                    image=shot.image)
                before, t = finder.detector_calls, time.process_time()
                finder(frame)
                spent.append((time.process_time() - t) * 1000)
                calls.append(finder.detector_calls - before)
            passes = []
            for _ in range(3):  # the median of three passes: one pass of a few calls varies by ~15 %
                t = time.process_time()
                for tile in shots[-1].tiles:
                    x0, y0, x1, y1 = (int(v) for v in tile.xyxy)
                    finder.detector.detect(shots[-1].image[y0:y1, x0:x1])
                passes.append((time.process_time() - t) * 1000)
            per_tile = float(np.median(passes))
            rows.setdefault(set_name, []).append((spent[0], float(np.mean(spent[1:])), per_tile,
                                                  float(np.mean(calls[1:])), len(shots[-1].tiles)))
    print("layout               first_ms  later_ms  per_tile_ms  first_x  later_x  worst_later_x  "
          "later_calls  tiles")
    for set_name, r in rows.items():
        a = np.array(r, np.float64)
        tiles = np.median(a[:, 4])
        print(f"{set_name:18s}  {np.median(a[:, 0]):8.1f}  {np.median(a[:, 1]):8.1f}  {np.median(a[:, 2]):11.1f}  "
              f"{np.median(a[:, 0] / a[:, 2]):7.2f}  {np.median(a[:, 1] / a[:, 2]):7.2f}  "
              f"{np.max(a[:, 1] / a[:, 2]):13.2f}  {np.median(a[:, 3]):11.1f}  {tiles:5.0f}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.detect", description=__doc__.splitlines()[0])
    parser.add_argument("--timing", type=int, default=0, metavar="N",
                        help="print the per-gallery-size timing table (N repeats) instead")
    parser.add_argument("--cost", action="store_true",
                        help="print the first-frame and later-frame cost per layout against one call per tile instead")
    parser.add_argument("--sets", default=",".join(SCREEN_SETS), help="comma-separated screen sets")
    parser.add_argument("--misses", action="store_true", help="list every missed face")
    parser.add_argument("--score-last", type=int, default=1, metavar="K",
                        help="score each of the last K frames of a screen, not only the last (more samples: "
                             "a marginal face found on one frame and not the next counts as often as it is seen)")
    parser.add_argument("--frames", type=int, default=FRAMES, metavar="N",
                        help=f"frames per screen, the last scored (default {FRAMES}; 1: a single screenshot, "
                             "no history for the still-picture test)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)
    if args.timing:
        timing(args.timing)
        return 0
    if args.cost:
        cost()
        return 0
    screens = bench_screens(args.sets.split(","), frames=max(1, args.frames))
    with make_finder_factory() as factory:
        factory()(FrameResult(0, 0.0, datetime.now(UTC), (0, 0, 64, 64), image=screens[0][1][0].image))  # warm-up
        tally = evaluate(factory, screens, score_last=max(1, min(args.score_last, args.frames)))
    scored = "last scored" if args.score_last <= 1 else f"last {min(args.score_last, args.frames)} scored"
    print(f"{sum(len(f[-1].faces) for _, f in screens)} faces on {len(screens)} screens, "
          f"{max(1, args.frames)} frames each, {scored}")
    print(format_table(tally))
    if args.misses:
        print("\n".join(tally.misses))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
