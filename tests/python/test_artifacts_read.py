"""Reading artifacts back (issue 18, checkpoints): Run.download_artifact and
open_artifact, the same on a RunRecord from cairn.get_run, a directory
artifact, a missing one, a bad path, and a write mode refused."""

import os

import pytest

import cairn


def test_checkpoint_round_trip(store, tmp_path):
    ck = tmp_path / "model.pt"
    payload = bytes(range(256)) * 4096  # 1 MiB, not text
    ck.write_bytes(payload)
    with cairn.init(project="ckpt", store=store) as run:
        run.log_artifact(str(ck), name="ckpt/epoch-3.pt")
        out = run.download_artifact("ckpt/epoch-3.pt", str(tmp_path / "back.pt"))
        assert out == str(tmp_path / "back.pt")
        assert (tmp_path / "back.pt").read_bytes() == payload
        with run.open_artifact("ckpt/epoch-3.pt") as f:
            assert f.read() == payload
        run_id = run.id
    rec = cairn.get_run(run_id, store=store)
    d = tmp_path / "into"
    d.mkdir()
    got = rec.download_artifact("ckpt/epoch-3.pt", str(d))
    assert got == str(d / "epoch-3.pt")
    assert (d / "epoch-3.pt").read_bytes() == payload


def test_directory_and_text(store, tmp_path, monkeypatch):
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    (src / "a.txt").write_text("alpha\n")
    (src / "sub" / "b.txt").write_text("beta\n")
    with cairn.init(project="ckpt", store=store) as run:
        run.log_artifact(str(src), name="weights")
        run.log_text("notes/summary.md", "héllo\n")
        monkeypatch.chdir(tmp_path)
        out = run.download_artifact("weights")
        assert out == "weights"
        assert (tmp_path / "weights" / "a.txt").read_text() == "alpha\n"
        assert (tmp_path / "weights" / "sub" / "b.txt").read_text() == "beta\n"
        with run.open_artifact("notes/summary.md", "r") as f:
            assert f.read() == "héllo\n"
        with pytest.raises(cairn.InvalidError, match="is a directory"):
            run.open_artifact("weights")


def test_bad_requests(store, tmp_path):
    with cairn.init(project="ckpt", store=store) as run:
        run.log_text("x.txt", "x")
        with pytest.raises(cairn.NotFoundError, match="no artifact 'missing.pt'"):
            run.download_artifact("missing.pt", str(tmp_path / "m"))
        assert not os.path.exists(tmp_path / "m")
        for bad in ("../x.txt", "/etc/passwd", "", "a/../x.txt"):
            with pytest.raises(cairn.InvalidError):
                run.download_artifact(bad, str(tmp_path / "m"))
        with pytest.raises(cairn.InvalidError, match="reading only"):
            run.open_artifact("x.txt", "wb")
