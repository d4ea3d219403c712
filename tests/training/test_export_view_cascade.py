"""``training.export --view-cascade``: a graph of one view that the runtime reads with the
mirror and zoomed views where a face is unsure, giving the four-view graph's answer."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from models.emotion_classifier import OnnxEmotionClassifier
from models.view_cascade import ViewCascade
from training.export import export_checkpoint, main
from training.model import EmotionNet, ExportedEmotionNet, ModelConfig

SMALL = ModelConfig(widths=(8, 8, 16, 16), blocks=(1, 1, 1, 1))


def _checkpoint(path: Path) -> tuple[Path, EmotionNet]:
    torch.manual_seed(0)
    net = EmotionNet(SMALL).eval()
    with torch.no_grad():  # random BatchNorm statistics, so views of a face read differently
        for m in net.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.2, 0.2)
                m.running_var.uniform_(0.5, 1.5)
        net.head.weight.mul_(20)
    torch.save({"model": net.state_dict(), "model_config": SMALL.to_dict(), "epoch": 1, "public_acc": 0.0}, path)
    return path, net


def test_all_views_of_the_cascade_are_the_four_view_graph(tmp_path: Path, fer2013_npz: Path) -> None:
    ck, net = _checkpoint(tmp_path / "net.pt")
    out = tmp_path / "cascade.onnx"
    res = export_checkpoint(ck, out, flip_average=False, data=fer2013_npz, view_cascade=ViewCascade.of_views(0.8, 0.6))
    assert res.parity_max_abs_diff < 1e-4
    faces = np.load(fer2013_npz)["images"][:64, None].astype(np.float32) / 255
    with torch.no_grad():
        four = ExportedEmotionNet(net, True, True)(torch.from_numpy(faces)).numpy()
        one = ExportedEmotionNet(net, False, False)(torch.from_numpy(faces)).numpy()
    with OnnxEmotionClassifier(out, threads=1) as clf:
        assert clf.view_cascade == ViewCascade.of_views(0.8, 0.6) and not clf.flip_average
        cascaded = clf.predict(faces)
        assert 64 < clf.views_read < 4 * 64  # some faces read once, some more
        clf.view_cascade = ViewCascade.of_views(1.0, 1.0)  # every face unsure: all four views
        np.testing.assert_allclose(clf.predict(faces), four, atol=1e-5)
        clf.view_cascade = ViewCascade.of_views(0.0, 0.0)  # every face sure: the face alone
        np.testing.assert_allclose(clf.predict(faces), one, atol=1e-5)
    assert (cascaded.argmax(1) == four.argmax(1)).mean() >= 0.9


def test_a_cascade_with_graph_views_is_refused(tmp_path: Path, fer2013_npz: Path,
                                               caplog: pytest.LogCaptureFixture) -> None:
    ck, _ = _checkpoint(tmp_path / "net.pt")
    with pytest.raises(ValueError, match="one view"):
        export_checkpoint(ck, tmp_path / "x.onnx", flip_average=True, data=fer2013_npz,
                          view_cascade=ViewCascade.of_views(0.8, 0.6))
    assert main([str(ck), "--view-cascade", "0.8", "0.6", "--zoom-average", "--out", str(tmp_path / "x.onnx"),
                 "--data", str(fer2013_npz)]) == 1
    assert "one view" in caplog.text and not (tmp_path / "x.onnx").exists()


def test_a_shipped_file_exports_again_in_another_shape_without_its_checkpoint(shipped_model: Path, tmp_path: Path,
                                                                              fer2013_npz: Path) -> None:
    """The float file's weights read back (``training.onnx_weights``) and written as a four-view
    graph again give the shipped file's probabilities: a shipped file is its own checkpoint."""
    import onnxruntime as ort

    out = tmp_path / "again.onnx"
    assert main([str(shipped_model), "--zoom-average", "--out", str(out), "--data", str(fer2013_npz)]) == 0
    faces = np.load(fer2013_npz)["images"][:128, None].astype(np.float32) / 255
    read = [ort.InferenceSession(str(p), providers=["CPUExecutionProvider"]).run(None, {"face": faces})[0]
            for p in (shipped_model, out)]
    assert np.abs(read[0] - read[1]).max() < 1e-4
    assert (read[0].argmax(1) == read[1].argmax(1)).all()
