"""Detection on whole simulated meeting screens and on real screenshots: recall per condition
with floors a little under what was measured, no faces on UI, avatars or camera-off tiles.

The screens are ``bench.detect``'s fixed set (``python -m bench.detect`` prints the full
table), shown twice 3 s apart so the finder's still-picture test can work, as in a run.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import cv2
import numpy as np
import pytest

from bench.detect import FRAME_DT_S, SCREEN_SETS, bench_screens, evaluate, format_table, make_finder_factory
from tools.compose_gallery import shared_dir
from tools.screensim import chrome, load_pool, random_spec, simulate_screen
from vocab.types import FrameResult

# Measured 2026-11-29 on these 43 screens (2 frames): the figure beside each floor. The floors
# sit ~3 misses under the measurement, so one unlucky face does not fail the suite. (Before the
# tile finder looked inside windows, each model had its own threshold and dark faces in grid
# tiles stopped being taken for flat UI: frontal 202/229, masked 40/61, yaw 39/51, down 31/35,
# 24-32 px 24/46.)
# Dim rooms' tiles put back on the gallery's lattice and told from camera-off ones by their
# movement, strips beside a white slide cut strictly, a close look at tiles still without a face,
# and 15-19 px boxes kept inside camera tiles: frontal 222 -> 227, low light 23 -> 30 of 32,
# yaw 46 -> 49, 24-32 px 39 -> 44, masked 56 -> 57. Faces followed from the first frame to the
# second in the window that found them (2026-11-29, second pass): the figures below.
RECALL_FLOORS = {
    "frontal>=32px all": 0.97,  # 228/229 = 99.6 %
    "masked": 0.88,  # 58/61 = 95.1 %
    "yaw 45-75deg": 0.9,  # 48/51 = 94.1 %
    "looking down": 0.85,  # 33/35 = 94.3 %
    "faces 24-32px": 0.9,  # 44/46 = 95.7 % (41 before small boxes were kept in camera tiles)
    "low light": 0.84,  # 30/32 = 93.8 %
}
# Every layout row: gallery 92/92, speaker+filmstrip 22/22, share+strip 19/20, windowed 25/25,
# panels open 31/31, cameras off 18/18 (the smallest rows have 18-25 such faces).
LAYOUT_FLOOR = 0.85
NEVER_FACES = ("camera-off tile", "profile photo", "panel/chat avatar", "panel (not avatar)", "chrome/desktop/slide")


def _needs_shared() -> Path:
    shared = shared_dir()
    if shared is None:
        pytest.skip("../shared/data/faces not found (set CLASSMOOD_SHARED): the screens need real photos")
    return shared


@pytest.fixture(scope="module")
def finder_factory():
    with make_finder_factory() as factory:
        yield factory


@pytest.fixture(scope="module")
def tally(finder_factory):
    _needs_shared()
    screens = bench_screens(tuple(SCREEN_SETS), frames=2)
    result = evaluate(finder_factory, screens, frame_dt_s=FRAME_DT_S)
    print("\n" + format_table(result))
    return result


@pytest.mark.parametrize("row", sorted(RECALL_FLOORS))
def test_recall_per_condition(tally, row):
    assert tally.total[row] >= 30, f"too few faces in {row!r} for the floor to mean something"
    assert tally.recall(row) >= RECALL_FLOORS[row], f"{row}: {tally.found[row]}/{tally.total[row]}"


def test_recall_in_every_layout(tally):
    rows = [r for r in tally.total if r.startswith("frontal>=32px ") and r != "frontal>=32px all"]
    assert len(rows) == 6
    low = {r: f"{tally.found[r]}/{tally.total[r]}" for r in rows if tally.recall(r) < LAYOUT_FLOOR}
    assert not low


@pytest.mark.parametrize("place", NEVER_FACES)
def test_no_faces_on_ui_avatars_or_camera_off_tiles(tally, place):
    assert tally.false_pos.get(place, 0) == 0


def test_few_false_faces_inside_live_tiles(tally):
    # Measured: 8 boxes on no face at all (a blurred backdrop, a shoulder; 5 before the close
    # look, whose windows also take the shirt under a face too small or blurred to find: the
    # participant is there, their box is not on their face), and 2 too large or shifted over a
    # face no other box matched (a participant found once, with a poor box; the face counts as
    # missed above; 7 before small boxes were kept in camera tiles). With faces followed: 5 and 1.
    assert tally.false_pos.get("live tile (not a face)", 0) <= 9
    assert tally.false_pos.get("loose box on a missed face", 0) <= 11


def _run(factory, images: list[np.ndarray], dt_s: float = 4.5) -> FrameResult:
    finder = factory()
    out = None
    for k, image in enumerate(images):
        out = finder(FrameResult(k, k * dt_s, datetime.now(UTC), (0, 0, image.shape[1], image.shape[0]),
                                 image=image))
    assert out is not None
    return out


def test_chrome_only_screen_has_no_faces(finder_factory):
    """A meeting window with its toolbar, participants and chat panels (avatar photos) and the
    taskbar, but no video at all (the stage painted over): no faces."""
    _needs_shared()
    spec = random_spec(3, panels=("people", "chat"), windowed=True)
    frames = []
    for k in range(2):
        screen = simulate_screen(spec, k)
        image = screen.image.copy()
        x0, y0, x1, y1 = screen.stage_xyxy
        image[y0:y1, x0:x1] = chrome.PALETTES[(screen.app, screen.theme)].stage
        frames.append(image)
    assert any(d.kind == "panel-avatar" for d in screen.decoys)
    out = _run(finder_factory, frames)
    assert len(out.faces) == 0


def test_slide_share_without_strip_has_no_faces(finder_factory):
    rng = np.random.default_rng(2)
    image = np.full((1080, 1920, 3), 30, np.uint8)
    chrome.slide(image, (0, 0, 1920, 1030), rng, [])
    chrome.taskbar(image, "windows", rng, [])
    out = _run(finder_factory, [image, image])
    assert len(out.faces) == 0


@pytest.mark.parametrize("app", ["zoom", "teams", "meet"])
def test_all_cameras_off_gallery_has_no_faces(finder_factory, app):
    """Names, initials and still profile photos only: after a few seconds, no faces at all."""
    _needs_shared()
    spec = random_spec(8, app=app, layout="gallery", rows=4, cols=5, n_tiles=20, camera_off_frac=1.0,
                       off_photo_frac=0.6, panels=("people",))
    frames = [simulate_screen(spec, k).image for k in range(3)]
    assert sum(t.camera == "off-photo" for t in simulate_screen(spec).tiles) >= 5
    out = _run(finder_factory, frames, dt_s=2.5)
    assert len(out.faces) == 0


# --------------------------------------------------------------------------- one frame: a screenshot

# Measured 2026-11-29 on the bench's 43 screens, first frame alone (no history, so the still-picture
# test cannot work; `python -m bench.detect --frames 1`): profile photos counted as faces 46 before
# the one-frame camera-off rule, 1 after (a strip tile the tile finder merged with the speaker's
# pillarbox bar); recall unchanged: frontal 221/229, low light 24/32, backlight 17/18.
FIRST_FRAME_FLOORS = {
    "frontal>=32px all": 0.96,  # 225/229 = 98.3 %
    "low light": 0.78,  # 28/32 = 87.5 %
    "backlight": 0.88,  # 17/18 = 94.4 %
}
FIRST_FRAME_MAX_PHOTOS = 3  # of 46 profile photos on these first frames; 0 measured (1 before the strict cut)


@pytest.fixture(scope="module")
def first_frames(finder_factory):
    _needs_shared()
    screens = bench_screens(tuple(SCREEN_SETS), frames=1)
    photos = sum(d.kind == "profile-photo" for _, frames in screens for d in frames[0].decoys)
    result = evaluate(finder_factory, screens)
    print("\nfirst frames\n" + format_table(result))
    return photos, result


def test_one_frame_profile_photos_are_not_faces(first_frames):
    """A screenshot shows no history: a profile photo on a camera-off tile (a small centred
    picture on a painted tile) is told from a webcam face by its tile alone."""
    photos, tally = first_frames
    assert photos >= 40
    assert tally.false_pos.get("profile photo", 0) <= FIRST_FRAME_MAX_PHOTOS
    assert all(tally.false_pos.get(place, 0) == 0 for place in NEVER_FACES if place != "profile photo")


@pytest.mark.parametrize("row", sorted(FIRST_FRAME_FLOORS))
def test_one_frame_keeps_live_faces(first_frames, row):
    """Dark and backlit webcam tiles are partly flat too: they must not be taken for camera-off tiles."""
    _, tally = first_frames
    assert tally.recall(row) >= FIRST_FRAME_FLOORS[row], f"{row}: {tally.found[row]}/{tally.total[row]}"


@pytest.mark.parametrize("app", ["zoom", "teams", "meet"])
def test_all_cameras_off_screenshot_has_no_faces(finder_factory, app):
    """One frame of a gallery of names, initials and profile photos: no faces, with no history."""
    _needs_shared()
    spec = random_spec(8, app=app, layout="gallery", rows=4, cols=5, n_tiles=20, camera_off_frac=1.0,
                       off_photo_frac=0.6, panels=("people",))
    screen = simulate_screen(spec)
    assert sum(t.camera == "off-photo" for t in screen.tiles) >= 5
    out = _run(finder_factory, [screen.image])
    assert len(out.faces) == 0
    assert len(out.tiles_xyxy) >= 20


# --------------------------------------------------------------------------- real screenshots


def _screens_readme() -> dict[str, int]:
    """File -> face count from ../shared/data/screens/README.md (counted by eye)."""
    shared = shared_dir()
    readme = shared / "data" / "screens" / "README.md" if shared else None
    if readme is None or not readme.is_file():
        pytest.skip("../shared/data/screens not found (set CLASSMOOD_SHARED): no real screenshots to check")
    counts = {}
    for line in readme.read_text().splitlines():
        cells = [c.strip() for c in line.split("|")]
        if len(cells) > 6 and cells[1].startswith("`") and (m := re.match(r"(\d+)", cells[5])):
            counts[cells[1].strip("`")] = int(m.group(1))
    return counts


def test_real_screenshots_every_counted_face(finder_factory):
    counts = _screens_readme()
    assert len(counts) >= 5
    root = shared_dir() / "data" / "screens"  # type: ignore[operator]
    found = {}
    for name, n in counts.items():
        image = cv2.imread(str(root / name))
        assert image is not None, name
        out = _run(finder_factory, [image])
        found[name] = (len(out.faces), n)
        assert ((out.faces.xyxy[:, 3] - out.faces.xyxy[:, 1]) >= 30).all(), name
        # The reported tiles are participants' tiles: not the title bar or the tool bar (on the
        # 2560 px window 2560x34, 787x49 and 850x41 px), which a frame-wide cut sets loose too.
        # Every participant tile on these screens is 195 px or more each way.
        assert ((out.tiles_xyxy[:, 2:] - out.tiles_xyxy[:, :2]) >= 60).all(), f"{name}: a bar reported as a tile"
        if name == "zoom_6tiles_1172x699.png":  # 5 cameras on and one off (initials on a dark tile,
            assert len(out.tiles_xyxy) == 6      # which the cut trims to 582x156): all six reported
    assert all(got == want for got, want in found.values()), found


def test_faces_in_dim_rooms(finder_factory):
    """Galleries where most cameras are in dim rooms, two frames 4 s apart: a dark picture is
    partly one grey like a camera-off tile, and within a few levels of a dark app's
    background; its face is found all the same, and no face is reported on the camera-off
    tiles (profile photos included) beside it. Measured on these 12 screens: low light 86/97
    faces (79 before dim tiles were put back on the lattice and told from camera-off ones by
    their movement), frontal >= 32 px 103/108 (99), no false face."""
    _needs_shared()
    pool = load_pool()
    screens = []
    for seed in range(800, 812):
        spec = random_spec(seed, layout="gallery", rows=4, cols=4, n_tiles=16, lowlight_frac=0.6, backlight_frac=0.0,
                           camera_off_frac=0.2, off_photo_frac=0.5, panels=(), windowed=False)
        screens.append(("gallery", [simulate_screen(spec, frame_index=k, pool=pool) for k in range(2)]))
    tally = evaluate(finder_factory, screens, frame_dt_s=FRAME_DT_S)
    assert tally.total["low light"] >= 90
    assert tally.recall("low light") >= 0.85, f"low light {tally.found['low light']}/{tally.total['low light']}"
    assert tally.recall("frontal>=32px all") >= 0.92
    assert all(tally.false_pos.get(place, 0) == 0 for place in NEVER_FACES)


def test_a_masked_face_filling_a_live_speaker_tile(finder_factory):
    """The speaker tile is no grid tile, so its boxes were judged by the flat test for UI pieces
    (a weak box partly one grey): a masked face filling it, found by the full-range scan at 0.57,
    was dropped for its mask. A tile that changes from frame to frame is a camera and is judged
    like a grid tile (the bench screen where this was seen: speaker+filmstrip seed 205)."""
    _needs_shared()
    overrides, _ = SCREEN_SETS["speaker+filmstrip"]
    frames = [simulate_screen(random_spec(205, **overrides), frame_index=k, pool=load_pool()) for k in range(3)]
    out = _run(finder_factory, [f.image for f in frames], dt_s=FRAME_DT_S)
    speaker = [f for f in frames[-1].faces if "speaker" in f.conditions and "masked" in f.conditions]
    assert speaker, "the screen's speaker is masked"
    for face in speaker:
        centre = np.array([(face.xyxy[0] + face.xyxy[2]) / 2, (face.xyxy[1] + face.xyxy[3]) / 2])
        inside = ((out.faces.xyxy[:, :2] <= centre) & (out.faces.xyxy[:, 2:] >= centre)).all(axis=1)
        assert inside.any(), f"masked speaker {face.photo} not found"


def test_a_dim_face_in_a_strip_tile_cut_at_another_size(finder_factory):
    """A filmstrip tile the gap finder ran into the bar above it is no equal tile, so it was only
    scanned, whose colour filter does not see a face in a dim room. A piece shaped like a
    participant's tile that moves is a camera and is looked at per tile (the bench screen where
    this was seen: share+strip seed 308; its tile came out 168 px tall instead of 111)."""
    _needs_shared()
    overrides, _ = SCREEN_SETS["share+strip"]
    frames = [simulate_screen(random_spec(308, **overrides), frame_index=k, pool=load_pool()) for k in range(3)]
    out = _run(finder_factory, [f.image for f in frames], dt_s=FRAME_DT_S)
    dim = [f for f in frames[-1].faces if "strip" in f.conditions and "lowlight" in f.conditions and f.height_px >= 32]
    assert dim, "the screen has a dim strip face"
    for face in dim:
        centre = np.array([(face.xyxy[0] + face.xyxy[2]) / 2, (face.xyxy[1] + face.xyxy[3]) / 2])
        inside = ((out.faces.xyxy[:, :2] <= centre) & (out.faces.xyxy[:, 2:] >= centre)).all(axis=1)
        assert inside.any(), f"dim strip face {face.photo} not found"


@pytest.mark.parametrize(("set_name", "seed"), [("speaker+filmstrip", 204), ("windowed", 401)])
def test_people_moving_in_their_cameras_are_followed_not_searched_again(finder_factory, set_name, seed):
    """After the first frame, a class whose people sway in their cameras costs about one detector
    call per face: each face's own window is asked again, the windows around it keep their
    answers (measured: 40 and 53 calls on the first frame, then 4-5 and 2-3 a frame; 27-31 a
    frame when every changed window was asked again). Every face stays found."""
    _needs_shared()
    overrides, _ = SCREEN_SETS[set_name]
    spec = random_spec(seed, **overrides)
    finder = finder_factory()
    found, calls = [], []
    for k in range(4):
        image = simulate_screen(spec, k, pool=load_pool()).image
        before = finder.detector_calls
        region = (0, 0, image.shape[1], image.shape[0])
        result = finder(FrameResult(k, float(k), datetime.now(UTC), region, image=image))
        calls.append(finder.detector_calls - before)
        found.append(len(result.faces))
    assert found[0] >= 4 and found[1:] == [found[0]] * 3
    assert calls[0] > 4 * found[0]
    assert max(calls[1:]) <= 2 * found[0], calls
