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


def _objects(store):
    """Object files of the store (the fixture keeps them in store/objects
    on SQLite and on PostgreSQL alike)."""
    n = 0
    for root, dirs, files in os.walk(os.path.join(store, "objects")):
        dirs[:] = [d for d in dirs if d != "tmp"]
        n += len(files)
    return n


def test_keep_last_versions(store, tmp_path):
    ck = tmp_path / "ck.pt"
    with cairn.init(project="ckpt", store=store) as run:
        before = _objects(tmp_path / "store")
        for epoch in range(1, 6):
            ck.write_bytes(b"weights of epoch %d" % epoch)
            run.log_artifact(str(ck), name="ckpt/model.pt", keep_last=3)
        names = sorted(a["path"] for a in cairn.get_run(run.id, store=store).artifacts)
        assert [n for n in names if n.startswith("ckpt/")] == [
            "ckpt/model.pt",
            "ckpt/model.pt@v3",
            "ckpt/model.pt@v4",
            "ckpt/model.pt@v5",
        ]
        with run.open_artifact("ckpt/model.pt") as f:
            assert f.read() == b"weights of epoch 5"
        with run.open_artifact("ckpt/model.pt@v3") as f:
            assert f.read() == b"weights of epoch 3"
        # epochs 1 and 2 are gone from the disk too
        assert _objects(tmp_path / "store") - before == 3
        for bad in (0, -1, 1.5, True):
            with pytest.raises(cairn.InvalidError):
                run.log_artifact(str(ck), name="ckpt/model.pt", keep_last=bad)
        with pytest.raises(cairn.InvalidError, match="only a file has versions"):
            run.log_artifact(str(tmp_path), name="dir", keep_last=2)


def test_delete_frees_bytes(store, tmp_path):
    a = tmp_path / "a.bin"
    a.write_bytes(os.urandom(4096))
    with cairn.init(project="ckpt", store=store) as run:
        before = _objects(tmp_path / "store")
        run.log_artifact(str(a), name="one.bin")
        run.log_artifact(str(a), name="two.bin")
        assert _objects(tmp_path / "store") == before + 1
        assert run.delete_artifact("one.bin") == 1
        assert _objects(tmp_path / "store") == before + 1  # two.bin still names the bytes
        assert run.delete_artifact("two.bin") == 1
        assert _objects(tmp_path / "store") == before
