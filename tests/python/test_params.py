"""Params from dicts (nested, flattened), argparse Namespaces and configs
(YAML/JSON files and dicts)."""

import argparse
import json
import os

import pytest

import cairn
from cairn import _lib
from cairn._params import flatten, typed


def test_flatten_nested_dict():
    assert flatten({"model": {"lr": 0.1, "opt": {"name": "adam", "beta": 0.9}}, "seed": 1}) == [
        ("model.lr", 0.1),
        ("model.opt.name", "adam"),
        ("model.opt.beta", 0.9),
        ("seed", 1),
    ]
    assert flatten({"empty": {}}) == [("empty", "{}")]
    assert flatten({1: "x"}) == [("1", "x")]
    assert flatten(None) == []
    with pytest.raises(TypeError):
        flatten(42)
    deep = {}
    cur = deep
    for _ in range(70):
        cur["k"] = {}
        cur = cur["k"]
    with pytest.raises(ValueError, match="nested"):
        flatten(deep)


def test_typed_values():
    np = pytest.importorskip("numpy")
    assert typed(True)[:2] == (_lib.TYPE_BOOL, 1)
    assert typed(np.int32(4))[:2] == (_lib.TYPE_INT, 4)
    assert typed(np.float64(0.5))[0] == _lib.TYPE_FLOAT  # a float subclass
    assert typed(np.float32(0.5))[:3] == (_lib.TYPE_FLOAT, 0, 0.5)
    assert typed(np.bool_(True))[:2] == (_lib.TYPE_BOOL, 1)
    assert typed((1, 2))[3] == "[1, 2]"
    assert typed({3, 1})[3] == "[1, 3]"
    assert typed(b"raw")[3] == "raw"
    import pathlib

    assert typed(pathlib.Path("/a/b"))[3] == "/a/b"


def test_params_from_dict(store):
    with cairn.init(params={"model": {"lr": 0.1, "layers": [64, 32]}, "epochs": 3, "aug": None}) as run:
        pass
    assert cairn.get_run(run.id).params == {
        "model.lr": 0.1,
        "model.layers": "[64, 32]",
        "epochs": 3,
        "aug": "None",
    }


def test_params_from_argparse(store):
    p = argparse.ArgumentParser()
    p.add_argument("--lr", type=float, default=0.01)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--optimizer", default="adam")
    p.add_argument("--augment", action="store_true")
    p.add_argument("--layers", type=int, nargs="+", default=[1, 2])
    p.add_argument("--resume", default=None)
    args = p.parse_args(["--lr", "0.1", "--augment"])
    with cairn.init(params=args) as run:
        pass
    assert cairn.get_run(run.id).params == {
        "lr": 0.1,
        "batch_size": 32,
        "optimizer": "adam",
        "augment": True,
        "layers": "[1, 2]",
        "resume": "None",
    }
    # log_params takes a Namespace too
    with cairn.init() as run2:
        run2.log_params(args)
    assert cairn.get_run(run2.id).params["batch_size"] == 32


def test_params_bad_type(store):
    with pytest.raises(TypeError, match="dict or an argparse.Namespace"):
        cairn.init(params=[("a", 1)])
    assert cairn.runs() == []  # nothing was created


def test_config_dict(store):
    with cairn.init(config={"data": {"path": "x.csv"}, "seed": 3}) as run:
        pass
    assert cairn.get_run(run.id).params == {"data.path": "x.csv", "seed": 3}


def _config_artifacts(r):
    return [a for a in r.artifacts if a.get("kind") == "config"]


def test_config_yaml_file_and_params_override(store, tmp_path):
    cfg = tmp_path / "config.yaml"
    cfg.write_text("model:\n  lr: 0.1\n  depth: 3\n  name: gbm\nseed: 7\ntags: [a, b]\n")
    with cairn.init(config=str(cfg), params={"model": {"lr": 0.5}}) as run:
        pass
    r = cairn.get_run(run.id)
    assert r.params["model.lr"] == 0.5  # params override the config
    assert r.params["model.depth"] == 3 and r.params["model.name"] == "gbm" and r.params["seed"] == 7
    assert json.loads(r.params["tags"]) == ["a", "b"]
    arts = _config_artifacts(r)
    assert len(arts) == 1 and arts[0]["path"].endswith("config.yaml")


def test_config_json_file(store, tmp_path):
    cfg = tmp_path / "cfg.json"
    cfg.write_text(json.dumps({"opt": {"name": "sgd", "momentum": 0.9}, "flag": True}))
    with cairn.init(config=cfg) as run:
        pass
    r = cairn.get_run(run.id)
    assert r.params == {"opt.name": "sgd", "opt.momentum": 0.9, "flag": True}
    assert len(_config_artifacts(r)) == 1


def test_config_url_credentials_are_masked(store, tmp_path):
    """The binding's config path is the library's: credentials inside URLs are
    masked in the params and in the stored copy, and stored nowhere."""
    y = tmp_path / "db.yaml"
    y.write_text("# old: redis://:hunt3r2-py@r\ndb:\n  url: postgres://bob:hunt3r2-py@db/x\n"
                 "  mirrors: [https://al:hunt3r2-py@m/a]\n")
    j = tmp_path / "api.json"
    j.write_text('{"api": "https:\\/\\/k:hunt3r2-py@api\\/v1", "n": 1}')
    with cairn.init(config=str(y)) as run:
        run.log_config(str(j))
    r = cairn.get_run(run.id)
    assert r.params["db.url"] == "postgres://***@db/x"
    assert json.loads(r.params["db.mirrors"]) == ["https://***@m/a"]
    assert r.params["api"] == "https://***@api/v1" and r.params["n"] == 1
    assert len(_config_artifacts(r)) == 2
    for root, _, files in os.walk(str(store)):
        for f in files:
            with open(os.path.join(root, f), "rb") as fh:
                assert b"hunt3r2" not in fh.read(), os.path.join(root, f)


def test_log_config_later(store, tmp_path):
    cfg = tmp_path / "late.yml"
    cfg.write_text("a: 1\n")
    with cairn.init() as run:
        run.log_config(str(cfg))
        run.log_config({"b": 2})
        run.log_config(None)
    assert cairn.get_run(run.id).params == {"a": 1, "b": 2}


def test_config_malformed_is_an_error_and_fails_the_run(store, tmp_path):
    cfg = tmp_path / "bad.yaml"
    cfg.write_text("model:\n  lr: [1, 2\n")
    with pytest.raises(cairn.Error, match="bad.yaml"):
        cairn.init(config=str(cfg))
    runs = cairn.runs()
    assert len(runs) == 1 and runs[0].status == "failed"


def test_config_missing_file(store, tmp_path):
    with pytest.raises((cairn.Error, OSError)):
        cairn.init(config=str(tmp_path / "nope.yaml"))
