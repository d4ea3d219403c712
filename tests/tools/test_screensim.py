"""The simulated meeting screens: deterministic, and their ground truth agrees with the pixels."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tools.screensim import CONDITIONS, load_pool, random_spec, simulate_screen
from tools.screensim.__main__ import main
from tools.screensim.text import ELLIPSIS, fit
from tools.screensim.tiles import initials


@pytest.fixture(scope="module")
def pool():
    return load_pool()


def _inside(inner, outer, slack=0.5):
    return (inner[0] >= outer[0] - slack and inner[1] >= outer[1] - slack
            and inner[2] <= outer[2] + slack and inner[3] <= outer[3] + slack)


@pytest.mark.parametrize("overrides", [
    {}, {"layout": "share", "app": "meet"}, {"layout": "speaker", "app": "teams", "strip_side": "right"},
    {"layout": "gallery", "rows": 7, "cols": 7, "n_tiles": 45, "size_wh": (1280, 720)},
    {"windowed": True, "panels": ("people", "chat"), "os_name": "mac"},
])
def test_same_seed_same_screen(pool, overrides):
    a = simulate_screen(random_spec(11, **overrides), pool=pool)
    b = simulate_screen(random_spec(11, **overrides), pool=pool)
    assert np.array_equal(a.image, b.image)
    assert a.truth_dict() == b.truth_dict()


def test_a_moment_later_only_live_tiles_change(pool):
    spec = random_spec(5, layout="gallery", rows=4, cols=4, n_tiles=16, camera_off_frac=0.4, panels=("people",))
    s0, s1 = simulate_screen(spec, 0, pool), simulate_screen(spec, 1, pool)
    assert s0.truth_dict()["tiles"] == s1.truth_dict()["tiles"]
    changed = np.abs(s0.image.astype(int) - s1.image.astype(int)).max(axis=2) > 0
    for t in s0.tiles:
        x0, y0, x1, y1 = t.xyxy
        # Labels are drawn over the picture; look at the tile's upper part only.
        inner = changed[y0 + 2:(y0 + y1) // 2, x0 + 2:x1 - 2]
        assert inner.any() == (t.camera == "on"), t
    outside = np.ones(changed.shape, bool)
    for t in s0.tiles:
        x0, y0, x1, y1 = t.xyxy
        outside[y0:y1, x0:x1] = False
    assert not changed[outside].any(), "the UI around the tiles is the same on every frame"


@pytest.mark.parametrize("seed", range(20, 44))
def test_truth_is_consistent(pool, seed):
    s = simulate_screen(seed, pool=pool)
    h, w = s.image.shape[:2]
    assert s.image.dtype == np.uint8 and (w, h) == tuple(s.truth_dict()["size_wh"])
    assert 1280 <= w <= 2560 and 720 <= h <= 1440
    assert _inside(s.window_xyxy, (0, 0, w, h)) and _inside(s.stage_xyxy, s.window_xyxy)
    live = [t for t in s.tiles if t.camera == "on"]
    assert len(live) == len(s.faces)
    for k, t in enumerate(s.tiles):
        assert _inside(t.xyxy, s.stage_xyxy) and t.camera in ("on", "off-name", "off-initials", "off-photo")
        assert (t.face_index is None) == (t.camera != "on")
        if t.face_index is not None:
            f = s.faces[t.face_index]
            assert f.tile_index == k and _inside(f.xyxy, t.xyxy, slack=1)
            assert f.xyxy[2] > f.xyxy[0] and f.xyxy[3] > f.xyxy[1]
            assert set(f.conditions) <= set(CONDITIONS)
            assert ("frontal" in f.conditions) != bool({"yaw", "down"} & set(f.conditions))
            assert ("small" in f.conditions) == (24 <= f.height_px < 32)
            if "yaw" in f.conditions:
                assert abs(f.yaw_deg) >= 45
            if "down" in f.conditions:
                assert f.pitch_deg <= -20
        if t.name_xyxy is not None and t.name_xyxy[2] > t.name_xyxy[0]:
            assert _inside(t.name_xyxy, t.xyxy, slack=2)
            assert t.name_text == t.name or (t.name_text.endswith(ELLIPSIS)
                                             and t.name.startswith(t.name_text[:-1].rstrip()))
    for d in s.decoys:  # avatars and profile photos lie off every live face
        for f in s.faces:
            assert min(d.xyxy[2], f.xyxy[2]) <= max(d.xyxy[0], f.xyxy[0]) or \
                min(d.xyxy[3], f.xyxy[3]) <= max(d.xyxy[1], f.xyxy[1])
    assert all(d.kind != "profile-photo" or any(t.camera == "off-photo" for t in s.tiles) for d in s.decoys)


def test_every_layout_app_and_condition_occurs(pool):
    seen: dict[str, set] = {"app": set(), "layout": set(), "camera": set(), "cond": set(), "role": set(),
                            "decoy": set()}
    for seed in range(60):
        spec = random_spec(seed, masked_frac=0.2, turned_frac=0.15, down_frac=0.1, small_frac=0.3,
                           lowlight_frac=0.1, backlight_frac=0.1, motion_frac=0.1, pillarbox_frac=0.1,
                           camera_off_frac=0.4)
        s = simulate_screen(spec, pool=pool)
        seen["app"].add(s.app)
        seen["layout"].add(s.layout)
        seen["camera"] |= {t.camera for t in s.tiles}
        seen["role"] |= {t.role for t in s.tiles}
        seen["cond"] |= {c for f in s.faces for c in f.conditions}
        seen["decoy"] |= {d.kind for d in s.decoys}
    assert seen["app"] == {"zoom", "teams", "meet"} and seen["layout"] == {"gallery", "speaker", "share"}
    assert seen["camera"] == {"on", "off-name", "off-initials", "off-photo"}
    assert {"gallery", "speaker", "strip", "self"} <= seen["role"]
    assert {"profile-photo", "panel-avatar", "chat-avatar"} <= seen["decoy"]
    expected = {"frontal", "masked", "small", "tiny", "lowlight", "backlight", "motionblur", "pillarbox",
                "offcentre"}
    if pool.turned:  # pose photos come from ../shared/data/headpose
        expected |= {"yaw", "down"}
    assert expected <= seen["cond"]


def test_hard_names_are_drawn_and_cut(pool):
    names = set()
    for seed in range(12):
        s = simulate_screen(random_spec(seed, layout="gallery", rows=5, cols=5, n_tiles=25), pool=pool)
        names |= {t.name for t in s.tiles}
        assert any(tx.kind == "tile-name" for tx in s.texts)
    assert {"[TA] Omar", "Zoë Ångström"} & names
    assert fit("20231047_Ana M. Souza Ferreira", 14, 120).endswith(ELLIPSIS)
    assert initials("[TA] Omar") == "O" and initials("Zoë Ångström") == "ZÅ"


def test_without_shared_folder_it_still_runs(tmp_path):
    pool = load_pool(tmp_path)  # no data/faces there: Grace Hopper alone, no pose photos
    assert len(pool.frontal) == 1 and not pool.turned and not pool.down
    s = simulate_screen(random_spec(3, turned_frac=0.5), pool=pool)
    assert len(s.faces) == sum(t.camera == "on" for t in s.tiles)
    assert not any("yaw" in f.conditions for f in s.faces)


def test_unknown_spec_field_is_refused():
    with pytest.raises(ValueError, match="unknown"):
        random_spec(1, colour="red")
    with pytest.raises(ValueError, match="do not fit"):
        random_spec(1, layout="gallery", rows=2, cols=2, n_tiles=5)


def test_cli_writes_image_and_truth(tmp_path, capsys):
    out = tmp_path / "x.png"
    assert main(["--seed", "4", "--set", "layout=share", "--set", "size_wh=1366x768",
                 "--set", "panels=people,chat", "--out", str(out)]) == 0
    truth = json.loads(out.with_suffix(".json").read_text())
    assert truth["layout"] == "share" and truth["size_wh"] == [1366, 768]
    assert truth["panels"] == ["people", "chat"] and "share" in truth["regions"]
    assert out.stat().st_size > 10_000 and "wrote" in capsys.readouterr().out
    assert main(["--seed", "4", "--set", "nonsense=1", "--out", str(out)]) == 2
