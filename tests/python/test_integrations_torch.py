"""cairn.torch: a tiny MLP trained for 3 epochs through cairn.torch.watch,
log_step and epoch records its parameter count, the optimizer's settings,
every step's loss and learning rate (through a scheduler), and each epoch's
time and mean loss, read back through the query API; several parameter groups, log_every,
an epoch that raises and bad arguments; the SummaryWriter with torch
tensors; and the example."""

import os
import subprocess

import pytest

import cairn
from conftest import PYTHON, ROOT

torch = pytest.importorskip("torch")  # a guard only: scripts/install-deps installs python3-torch

import cairn.torch  # noqa: E402
from test_images import decode_png, stored_bytes  # noqa: E402


def _run():
    return cairn.init(project="torch", capture_code=False, capture_env=False)


def _mlp():
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 1))


def _data():
    g = torch.Generator().manual_seed(1)
    x = torch.randn(48, 4, generator=g)
    return x, (x[:, 0] > 0).float()[:, None]


def test_three_epochs_of_a_tiny_mlp(store):
    model = _mlp()
    x, y = _data()
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    losses, lrs, epoch_means = [], [], []
    with _run() as run:
        w = cairn.torch.watch(model, opt)
        for epoch in range(3):
            with w.epoch() as n:
                assert n == epoch
                mine = []
                for i in range(0, 48, 16):
                    loss = torch.nn.functional.binary_cross_entropy_with_logits(model(x[i:i + 16]), y[i:i + 16])
                    opt.zero_grad()
                    loss.backward()
                    opt.step()
                    w.log_step(loss, grad_steps=i // 16)
                    losses.append(loss.item())
                    lrs.append(opt.param_groups[0]["lr"])
                    mine.append(loss.item())
                epoch_means.append(sum(mine) / len(mine))
            sched.step()
        assert w.step == 9 and w.epochs == 3
    r = cairn.get_run(run.id)
    n = sum(p.numel() for p in model.parameters())
    assert n == 4 * 8 + 8 + 8 + 1
    assert r.params["torch.parameters"] == n and r.params["torch.trainable_parameters"] == n
    assert r.params["torch.model"] == "Sequential" and r.params["torch.optimizer"] == "SGD"
    assert r.params["torch.optimizer.lr"] == 0.1 and r.params["torch.optimizer.momentum"] == 0.9
    loss_h = r.metric_history("loss")
    assert [p.step for p in loss_h] == list(range(9))
    assert [p.value for p in loss_h] == pytest.approx(losses, rel=1e-6)
    assert [p.value for p in r.metric_history("lr")] == lrs == [0.1] * 3 + [0.05] * 3 + [0.025] * 3
    assert [p.value for p in r.metric_history("grad_steps")] == [0, 1, 2] * 3
    t = r.metric_history("epoch_time")
    assert [p.step for p in t] == [0, 1, 2] and all(0 < p.value < 60 for p in t)
    assert [p.value for p in r.metric_history("epoch_loss")] == pytest.approx(epoch_means, rel=1e-5)


def test_param_groups_log_every_and_frozen_parameters(store):
    model = _mlp()
    model[0].weight.requires_grad_(False)
    opt = torch.optim.Adam([{"params": model[0].parameters(), "lr": 0.01},
                            {"params": model[2].parameters(), "lr": 0.001}])
    x, y = _data()
    with _run() as run:
        w = cairn.torch.watch(model, opt, log_every=2)
        with w.epoch():
            for i in range(5):
                w.log_step(torch.nn.functional.mse_loss(model(x), y))
    r = cairn.get_run(run.id)
    assert r.params["torch.trainable_parameters"] == r.params["torch.parameters"] - 32
    assert r.params["torch.optimizer"] == "Adam" and r.params["torch.optimizer.betas"] == "[0.9, 0.999]"
    assert [p.step for p in r.metric_history("loss")] == [0, 2, 4]
    assert r.metrics["lr/0"] == 0.01 and r.metrics["lr/1"] == 0.001 and "lr" not in r.metrics
    # the epoch's mean is over all five losses, logged or not
    assert r.metrics["epoch_loss"] == pytest.approx(torch.nn.functional.mse_loss(model(x), y).item())


def test_an_epoch_that_raises_logs_no_time(store):
    with _run() as run:
        w = cairn.torch.watch(_mlp())
        with pytest.raises(RuntimeError):
            with w.epoch():
                w.log_step(1.0)
                raise RuntimeError("diverged")
        with w.epoch(7):
            w.log_step(0.5, step=100)
        assert w.epochs == 8 and w.step == 101
    r = cairn.get_run(run.id)
    assert [p.step for p in r.metric_history("epoch_time")] == [7]
    assert r.metrics["epoch_loss"] == 0.5 and "lr" not in r.metrics
    assert [p.step for p in r.metric_history("loss")] == [0, 100]


def test_bad_arguments(store):
    with _run():
        with pytest.raises(TypeError, match="torch.nn.Module"):
            cairn.torch.watch(object())
        with pytest.raises(TypeError, match="torch.optim.Optimizer"):
            cairn.torch.watch(_mlp(), optimizer="sgd")
        with pytest.raises(ValueError, match="log_every"):
            cairn.torch.watch(_mlp(), log_every=0)
        w = cairn.torch.watch(_mlp())
        with pytest.raises(ValueError, match="one number, not a tensor of shape \\(3,\\)"):
            w.log_step(torch.ones(3))
        with pytest.raises(TypeError, match="loss: expected one number"):
            w.log_step("0.5")
        with pytest.raises(ValueError, match="step must be"):
            w.log_step(0.5, step=-1)


def test_no_active_run_starts_one(store):
    w = cairn.torch.watch(_mlp(), project="auto-torch")
    w.log_step(torch.tensor(0.25))
    run = cairn.active_run()
    assert run is w.run and run.project == "auto-torch"
    run.finish()
    r = cairn.get_run(run.id)
    assert r.metrics["loss"] == 0.25 and r.params["torch.parameters"] == 49


def test_summary_writer_with_tensors(store):
    with _run() as run:
        with cairn.torch.SummaryWriter() as writer:
            assert writer.run is run
            writer.add_scalar("loss", torch.tensor(0.5, requires_grad=True) * 1, 0)
            writer.add_scalars("acc", {"train": torch.tensor([0.75]), "valid": 0.5}, 1)
            img = torch.zeros(3, 4, 5)
            img[0] = 1.0  # the first channel full, CHW floats in [0, 1]
            writer.add_image("rgb", img, 2)
            writer.add_images("batch", torch.ones(3, 1, 2, 2), 0)
            writer.add_hparams({"lr": torch.tensor(0.1), "layers": torch.tensor(3)}, {"hp/acc": torch.tensor(0.9)})
        assert not run.finished  # the writer did not start it: close() only flushes
    r = cairn.get_run(run.id)
    assert r.metrics["loss"] == 0.5 and r.metrics["acc/train"] == 0.75 and r.metrics["acc/valid"] == 0.5
    assert r.params["lr"] == 0.1 and r.params["layers"] == 3 and r.metrics["hp/acc"] == pytest.approx(0.9)
    px, _ = decode_png(stored_bytes(run.id, "images/rgb/00000002.png")[0])
    assert px.shape == (4, 5, 3) and (px[..., 0] == 255).all() and (px[..., 1:] == 0).all()
    px, _ = decode_png(stored_bytes(run.id, "images/batch/00000000.png")[0])
    assert px.shape == (2, 6, 1) and (px == 255).all()


def test_example(store):
    env = dict(os.environ)
    env["PYTHONPATH"] = os.path.join(ROOT, "python") + os.pathsep + env.get("PYTHONPATH", "")
    p = subprocess.run([PYTHON, os.path.join(ROOT, "examples", "torch", "train.py"), "--epochs", "3"],
                       capture_output=True, text=True, env=env, timeout=300)
    assert p.returncode == 0, p.stderr
    (only,) = cairn.runs(project="torch")
    r = cairn.get_run(only.id)
    assert r.status == "finished" and r.params["epochs"] == 3 and r.params["torch.parameters"] == 65
    assert r.metric_summaries["loss"]["count"] == 3 * 16 and r.metric_summaries["epoch_time"]["count"] == 3
    assert [p.value for p in r.metric_history("lr")][::16] == [0.05, 0.05, 0.025]
    assert r.metric_summaries["valid/accuracy"]["count"] == 3 and r.metrics["valid/accuracy"] > 0.6
    assert any(a["path"] == "images/decision_surface/00000002.png" for a in r.artifacts)
    assert r.id[:8] in p.stdout
