"""cairn.tensorboard.SummaryWriter with numpy arrays: every method records
what docs/python.md says (scalars, groups of them, images in every layout
with TensorBoard's conversion, grids, figures, texts, hparams), read back
through the query API and the object store; the run it starts is finished
by close() and the context manager (failed on an exception), one it finds
is not; unsupported methods warn once; bad shapes, formats and values raise
clear errors; and none of it imports torch."""

import json

import pytest

import cairn
from conftest import cli, run_python

np = pytest.importorskip("numpy")

from cairn.tensorboard import SummaryWriter, to_hwc_uint8  # noqa: E402
from test_images import decode_png, stored_bytes  # noqa: E402


def _run():
    return cairn.init(project="tb", capture_code=False, capture_env=False)


def test_every_method(store, tmp_path):
    with _run() as run:
        w = SummaryWriter(log_dir=tmp_path / "runs" / "exp1", comment="x", flush_secs=5)
        assert w.run is run and w.get_logdir() == str(tmp_path / "runs" / "exp1")
        for step in range(3):
            w.add_scalar("Loss/train", 1.0 / (step + 1), step)
        w.add_scalar("Loss/valid", np.float32(0.25), 7, walltime=1700000000.5)
        w.add_scalar("auto", 1)
        w.add_scalar("auto", 2)
        w.add_scalars("run_14h", {"xsinx": 0.5, "xcosx": np.float64(-0.5), "tanx": 2}, 4)
        chw = np.zeros((3, 2, 4), dtype=np.float32)
        chw[2] = 0.5  # blue at half: float * 255 -> 127
        w.add_image("chw", chw, 0)
        w.add_image("hwc", np.full((2, 3, 3), 200, dtype=np.uint8), 1, dataformats="HWC")
        w.add_image("hw", np.array([[0.0, 1.0], [2.0, -1.0]]), dataformats="HW")  # clipped as TensorBoard
        w.add_image("wh", np.arange(6, dtype=np.uint8).reshape(3, 2), dataformats="WH")
        w.add_images("grid", np.ones((10, 1, 2, 3)), 5)
        w.add_text("notes", "# hello\n*markdown*", 3)
        w.add_text("summary", "once")
        w.add_hparams({"lr": 0.01, "optimizer": "adam", "layers": np.int64(3), "bn": True},
                      {"hparam/accuracy": 0.875, "hparam/loss": np.float32(0.5)})
        w.flush()
        w.close()
        w.close()  # idempotent
        assert not run.finished  # the active run is not the writer's to finish
    r = cairn.get_run(run.id)
    assert r.properties["tensorboard.log_dir"] == str(tmp_path / "runs" / "exp1")
    h = r.metric_history("Loss/train")
    assert [(p.step, p.value) for p in h] == [(0, 1.0), (1, 0.5), (2, pytest.approx(1 / 3))]
    (p,) = r.metric_history("Loss/valid")
    assert (p.step, p.value, p.timestamp) == (7, 0.25, pytest.approx(1700000000.5))
    assert [(p.step, p.value) for p in r.metric_history("auto")] == [(0, 1.0), (1, 2.0)]
    assert {k: r.metrics[k] for k in r.metrics if k.startswith("run_14h/")} == {
        "run_14h/xsinx": 0.5, "run_14h/xcosx": -0.5, "run_14h/tanx": 2.0}
    assert r.metric_summaries["run_14h/tanx"]["step"] == 4
    assert r.params == {"lr": 0.01, "optimizer": "adam", "layers": 3, "bn": True}
    assert r.metrics["hparam/accuracy"] == 0.875 and r.metrics["hparam/loss"] == 0.5

    px, _ = decode_png(stored_bytes(run.id, "images/chw/00000000.png")[0])
    assert px.shape == (2, 4, 3) and (px[..., 2] == 127).all() and (px[..., :2] == 0).all()
    px, _ = decode_png(stored_bytes(run.id, "images/hwc/00000001.png")[0])
    assert px.shape == (2, 3, 3) and (px == 200).all()
    px, _ = decode_png(stored_bytes(run.id, "images/hw.png")[0])
    assert px[..., 0].tolist() == [[0, 255], [255, 0]]
    px, _ = decode_png(stored_bytes(run.id, "images/wh.png")[0])
    assert px[..., 0].tolist() == [[0, 2, 4], [1, 3, 5]]  # (W, H) transposed to (H, W)
    px, _ = decode_png(stored_bytes(run.id, "images/grid/00000005.png")[0])
    assert px.shape == (4, 24, 1)  # 10 images of 2x3, 8 per row: 2 rows
    assert (px[:2] == 255).all() and (px[2:, :6] == 255).all() and (px[2:, 6:] == 0).all()

    data, art = stored_bytes(run.id, "text/notes/00000003.md")
    assert data == b"# hello\n*markdown*" and art["media_type"] == "text/markdown"
    assert stored_bytes(run.id, "text/summary.md")[0] == b"once"
    shown = json.loads(cli("show", run.id, "--json"))
    assert shown["metrics"]["Loss/valid"]["last"] == 0.25


def test_figure(store):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(1, 1))
    with _run() as run, SummaryWriter() as w:
        w.add_figure("fig", fig, 2)
    assert not plt.fignum_exists(fig.number)  # close=True, as TensorBoard's
    assert stored_bytes(run.id, "images/fig/00000002.png")[0][:4] == b"\x89PNG"


def test_a_writer_without_a_run_starts_and_finishes_one(store):
    with SummaryWriter(project="tb-own") as w:
        assert cairn.active_run() is w.run and w.run.project == "tb-own"
        w.add_scalar("x", 1.0, 0)
    assert w.run.finished and cairn.active_run() is None
    assert cairn.get_run(w.run.id).status == "finished"
    with pytest.raises(cairn.Error, match="SummaryWriter is closed"):
        w.add_scalar("x", 2.0, 1)

    with pytest.raises(ZeroDivisionError):
        with SummaryWriter(project="tb-own") as w2:
            w2.add_scalar("x", 1.0, 0)
            1 / 0
    assert cairn.get_run(w2.run.id).status == "failed"

    w3 = SummaryWriter(project="tb-own")
    w3.close()
    assert cairn.get_run(w3.run.id).status == "finished"


def test_explicit_run(store):
    other = cairn.init(project="elsewhere", capture_code=False, capture_env=False)
    with _run() as active:
        with SummaryWriter(run=other) as w:
            w.add_scalar("y", 3.0)
        assert not other.finished
    other.finish()
    assert cairn.get_run(other.id).metrics["y"] == 3.0 and "y" not in cairn.get_run(active.id).metrics


def test_unsupported_methods_warn_once_and_record_nothing(store):
    with _run() as run, SummaryWriter() as w:
        with pytest.warns(cairn.IntegrationWarning, match="records no histogram"):
            w.add_histogram("weights", np.zeros(10), 0)
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("error")
            w.add_histogram("weights", np.zeros(10), 1)  # the second one is silent
        with pytest.warns(cairn.IntegrationWarning, match="records no graph"):
            w.add_graph(object())
    r = cairn.get_run(run.id)
    assert not [k for k in r.metrics if not k.startswith("sys/")] and not r.artifacts


@pytest.mark.parametrize("img,fmt,exc,msg", [
    (np.zeros((2, 3, 4, 5)), "CHW", ValueError, "add_image 'bad': dataformats 'CHW' needs a 3-D array, not one of shape \\(2, 3, 4, 5\\)"),
    (np.zeros((5, 3, 4)), "CHW", ValueError, "5 channels \\(shape \\(5, 3, 4\\) as CHW\\); an image has 1 \\(grey\\), 3 \\(RGB\\) or 4 \\(RGBA\\)"),
    (np.zeros((3, 4)), "CHW", ValueError, "needs a 3-D array"),
    (np.zeros((3, 4)), "HX", ValueError, "must be made of N, C, H, W"),
    (np.zeros((3, 4, 4)), "CCW", ValueError, "must be made of N, C, H, W"),
    (np.zeros((3, 4)), "CH", ValueError, "H and W required"),
    (np.zeros((3, 0, 4)), "CHW", ValueError, "empty"),
    (np.array([["a", "b"]]), "HW", TypeError, "dtype"),
])
def test_add_image_bad_input_raises_and_logs_nothing(store, img, fmt, exc, msg):
    with _run() as run, SummaryWriter() as w:
        with pytest.raises(exc, match=msg):
            w.add_image("bad", img, 0, dataformats=fmt)
    assert not cairn.get_run(run.id).artifacts


def test_bad_values_raise(store):
    with _run(), SummaryWriter() as w:
        with pytest.raises(TypeError, match="not a number"):
            w.add_scalar("x", "0.5")
        with pytest.raises(TypeError, match="not a number"):
            w.add_scalar("x", np.zeros(3))
        with pytest.raises(TypeError, match="must be a dict"):
            w.add_scalars("g", [("a", 1)])
        with pytest.raises(TypeError, match="must be dicts"):
            w.add_hparams([("lr", 1)], {})
        with pytest.raises(ValueError, match="no N"):
            w.add_images("b", np.zeros((3, 2, 2)), dataformats="CHW")
        with pytest.raises(ValueError, match="negative global_step"):
            w.add_text("t", "x", -1)
        with pytest.raises(cairn.InvalidError, match="not a relative name"):
            w.add_scalar("/abs", 1.0)


def test_conversion_follows_tensorboard():
    # uint8 as is; other types times 255, clipped; NaN 0; bool 0/255
    assert to_hwc_uint8(np.array([[[0.5, 2.0, -1.0, np.nan]]]), "CHW").ravel().tolist() == [127, 255, 0, 0]
    assert to_hwc_uint8(np.array([[7, 300]], dtype=np.int32), "HW").ravel().tolist() == [255, 255]
    assert to_hwc_uint8(np.array([[7, 9]], dtype=np.uint8), "HW").ravel().tolist() == [7, 9]
    assert to_hwc_uint8(np.array([[True, False]]), "HW").ravel().tolist() == [255, 0]
    a = to_hwc_uint8(np.zeros((2, 5, 3, 4), dtype=np.uint8), "NHWC")
    assert a.shape == (5, 6, 4)


def test_writer_never_imports_torch(store):
    out = run_python(
        "import sys, numpy as np, cairn\n"
        "from cairn.tensorboard import SummaryWriter\n"
        "import cairn.torch\n"
        "with SummaryWriter() as w:\n"
        "    w.add_scalar('a', np.float32(1), 0)\n"
        "    w.add_image('i', np.zeros((3, 2, 2)), 0)\n"
        "    w.add_hparams({'lr': np.float32(0.1)}, {'m': 1})\n"
        "print('torch' in sys.modules)\n"
    ).stdout
    assert out.strip() == "False"
    (only,) = cairn.runs()
    r = cairn.get_run(only.id)
    assert r.status == "finished" and r.params["lr"] == 0.1  # the float32's shortest decimal
