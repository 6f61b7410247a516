"""Reading runs back: cairn.runs (sort, limit, project, queries), get_run,
metric histories as lists and numpy arrays, to_pandas, cairn.diff, and the
data calls (log_dataset, hash_path)."""

import math
import sys

import pytest

import cairn


@pytest.fixture
def three_runs(store):
    made = []
    for i, (lr, auc, model) in enumerate([(0.1, 0.90, "gbm"), (0.3, 0.95, "gbm"), (0.2, float("nan"), "rf")]):
        with cairn.init(project="p" if i < 2 else "q", params={"lr": lr, "model": model}, tags=["t%d" % i]) as run:
            for step in range(3):
                run.log_metric("valid_auc", auc - 0.1 * (2 - step), step=step)
        made.append(run.id)
    return made


def test_runs_all_newest_first(three_runs):
    rs = cairn.runs()
    assert isinstance(rs, cairn.RunList) and [r.id for r in rs] == three_runs[::-1]
    assert all(isinstance(r, cairn.RunRecord) for r in rs)
    assert rs.total == 3


def test_runs_sort_limit_project(three_runs):
    best = cairn.runs(sort="-metrics.valid_auc")
    assert [r.params["lr"] for r in best] == [0.3, 0.1, 0.2]  # NaN sorts last
    assert [r.params["lr"] for r in cairn.runs(sort="metrics.valid_auc")] == [0.1, 0.3, 0.2]
    assert [r.params["lr"] for r in cairn.runs(sort="params.lr", limit=2)] == [0.1, 0.2]
    assert [r.params["lr"] for r in cairn.runs(sort="-params.model,params.lr")] == [0.2, 0.1, 0.3]
    assert len(cairn.runs(limit=1)) == 1
    with pytest.raises(ValueError, match="limit must be at least 1"):
        cairn.runs(limit=0)  # never "no limit"
    assert {r.id for r in cairn.runs(project="p")} == set(three_runs[:2])
    assert cairn.runs(project="none") == []
    assert cairn.query is cairn.runs


def test_bare_names(three_runs):
    # the library resolves valid_auc to metrics.valid_auc, model to params.model
    assert [r.params["lr"] for r in cairn.runs("valid_auc > 0.5 and model = gbm", sort="-valid_auc")] == [0.3, 0.1]
    with pytest.raises(ValueError, match=r"unknown field 'valid_aux'.*did you mean metrics.valid_auc\?"):
        cairn.runs("valid_aux > 0.5")
    with cairn.init(project="p", params={"valid_auc": 1}):
        pass
    with pytest.raises(ValueError, match="ambiguous name 'valid_auc': did you mean metrics.valid_auc or params.valid_auc"):
        cairn.runs("valid_auc > 0.5")
    assert len(cairn.runs("valid_auc > 0.5", project="q")) == 0  # only a metric there: it resolves


def test_tags_are_one_word(store):
    with pytest.raises(ValueError, match="contains a comma"):
        cairn.init(tags=["a,b"])
    with cairn.init() as run:
        with pytest.raises(ValueError, match="contains a space"):
            run.set_tag("two words")
    assert [r.tags for r in cairn.runs()] == [[]]


def test_records(three_runs):
    r = cairn.get_run(three_runs[1][:8])
    assert r.id == three_runs[1] and r.project == "p" and r.status == "finished"
    assert r.params == {"lr": 0.3, "model": "gbm"} and r.tags == ["t1"]
    assert r.metrics["valid_auc"] == pytest.approx(0.95)
    assert isinstance(r.metrics["valid_auc"], float)
    assert r.start_time <= r.end_time
    assert r.to_dict()["id"] == r.id
    nan_run = cairn.get_run(three_runs[2])
    assert math.isnan(nan_run.metrics["valid_auc"]) and math.isnan(nan_run.metric_summaries["valid_auc"]["last"])


def test_metric_history_list_and_numpy(three_runs):
    np = pytest.importorskip("numpy")
    r = cairn.get_run(three_runs[0])
    h = r.metric_history("valid_auc")
    assert [p.step for p in h] == [0, 1, 2] and h[2].value == pytest.approx(0.9)
    assert isinstance(h[0], cairn.MetricPoint)
    a = r.metric_history("valid_auc", numpy=True)
    assert a.shape == (3, 3) and a.dtype == np.float64
    assert a[:, 0].tolist() == [0, 1, 2] and a[2, 2] == pytest.approx(0.9)
    assert r.metric_history("absent") == []
    assert r.metric_history("absent", numpy=True).shape == (0, 3)


def test_to_pandas_without_pandas(three_runs, monkeypatch):
    monkeypatch.setitem(sys.modules, "pandas", None)  # import pandas -> ImportError
    with pytest.raises(ImportError, match="needs pandas"):
        cairn.runs().to_pandas()


def test_to_pandas(three_runs):
    pd = pytest.importorskip("pandas")
    df = cairn.runs(sort="-metrics.valid_auc").to_pandas()
    assert list(df["params.lr"]) == [0.3, 0.1, 0.2]
    assert "metrics.valid_auc" in df.columns and str(df["start_time"].dtype).startswith("datetime64")
    assert isinstance(df, pd.DataFrame)


def test_get_run_sees_unflushed_metrics(store):
    run = cairn.init()
    run.log_metric("fresh", 1.0)  # still in the writer's buffer
    assert cairn.get_run(run.id).metrics == {"fresh": 1.0}
    assert run.get().metrics == {"fresh": 1.0}
    run.finish()


def test_runs_accepts_run_objects(store):
    with cairn.init() as run:
        pass
    assert cairn.get_run(run).id == run.id
    assert cairn.get_run(cairn.get_run(run.id)).id == run.id
    with pytest.raises(TypeError):
        cairn.get_run(42)


def test_query_language(three_runs):
    rs = cairn.runs('metrics.valid_auc > 0.92 and params.model = "gbm"')
    assert [r.params["lr"] for r in rs] == [0.3]
    rs = cairn.runs("params.lr < 0.25", sort="-params.lr")
    assert [r.params["lr"] for r in rs] == [0.2, 0.1]
    assert len(cairn.runs("tags.t2")) == 1
    with pytest.raises(cairn.InvalidError):
        cairn.runs("metrics.valid_auc >")


def test_diff(three_runs):
    d = cairn.diff(three_runs[0], cairn.get_run(three_runs[1]))
    assert isinstance(d, dict)
    assert d["a"]["id"] == three_runs[0] and d["b"]["id"] == three_runs[1]
    changed = {c["key"]: (c["a"], c["b"]) for c in d["params"]["changed"]}
    assert changed == {"lr": (0.1, 0.3)}
    assert [c["key"] for c in d["metrics"]["changed"]] == ["valid_auc"]
    same = cairn.diff(three_runs[0], three_runs[0])
    assert same["identical"] is True
    with pytest.raises(cairn.NotFoundError):
        cairn.diff(three_runs[0], "ffffffff")


def test_log_dataset(store, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "a.csv").write_text("x,y\n1,2\n")
    (data / "b.csv").write_text("x,y\n3,4\n")
    with cairn.init() as run:
        run.log_dataset("train", str(data))
        run.log_dataset("out", str(data / "a.csv"), role="output")
        with pytest.raises(cairn.Error):
            run.log_dataset("missing", str(tmp_path / "none"))
    ds = {d["name"]: d for d in cairn.get_run(run.id).datasets}
    assert ds["train"]["files"] == 2 and ds["train"]["role"] == "input"
    assert ds["train"]["algo"] == "xxh128" and len(ds["train"]["digest"]) == 32
    assert ds["out"]["role"] == "output" and ds["out"]["files"] == 1


def test_hash_path(store, tmp_path):
    f = tmp_path / "f.bin"
    f.write_bytes(b"abc")
    d = cairn.hash_path(f)
    assert isinstance(d, cairn.Digest) and isinstance(d, str)
    assert d.startswith("xxh128:") and d.algo == "xxh128" and d.files == 1 and d.bytes == 3
    s = cairn.hash_path(str(f), digest="sha256")
    assert s == "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    with cairn.init() as run:  # with a run active, its store's hash cache is used
        run.set_property("data_version", cairn.hash_path(tmp_path))
    assert cairn.get_run(run.id).properties["data_version"].startswith("xxh128:")
    with pytest.raises(cairn.Error):
        cairn.hash_path(tmp_path / "missing")
    with pytest.raises(cairn.InvalidError):
        cairn.hash_path(f, digest="crc7")


def test_typed_params_round_trip(store):
    """A float param NaN / +-Inf and a string param "NaN" / "Infinity" come
    back with their own types from get_run and runs (the JSON carries
    {"$float": "NaN"} for the floats)."""
    params = {"fn": float("nan"), "fi": float("inf"), "fm": float("-inf"), "f2": 2.0,
              "sn": "NaN", "si": "Infinity", "sm": "-Infinity", "i": 3, "b": True}
    with cairn.init(project="typed", params=params) as run:
        pass
    for r in (cairn.get_run(run.id), cairn.runs(project="typed")[0]):
        p = r.params
        assert isinstance(p["fn"], float) and math.isnan(p["fn"])
        assert p["fi"] == float("inf") and isinstance(p["fi"], float)
        assert p["fm"] == float("-inf")
        assert p["f2"] == 2.0 and isinstance(p["f2"], float)
        assert p["sn"] == "NaN" and p["si"] == "Infinity" and p["sm"] == "-Infinity"
        assert p["i"] == 3 and isinstance(p["i"], int) and p["b"] is True
        assert r.data["params"]["fn"] == {"$float": "NaN"}
