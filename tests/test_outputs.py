"""Generated clips on disk: atomic runs with sidecars, never overwritten, latest run loaded back."""

from __future__ import annotations

import json

import numpy as np
import pytest

from musiclib import synth
from musiclib.tools import outputs
from musiclib.tools.data import project_root
from musiclib.errors import MusiclibError, ParameterError

SR = 22050


def _clips(n=2, seconds=1.5):
    return [synth.synthetic_mix(duration=seconds, sr=SR, seed=i) for i in range(n)]


def _save(root, approach="02_linear_regression", clips=None, **kw):
    args = dict(
        sr=SR,
        representation={"name": "mel", "n_mels": 128},
        parameters={"alpha": np.float32(0.5), "layers": (64, 64), "n": np.int64(3)},
        seed=0,
        train_seconds=1.25,
        generate_seconds=0.5,
        root=root,
    )
    args.update(kw)
    return outputs.save_clips(approach, clips if clips is not None else _clips(), **args)


def test_save_writes_clips_and_sidecar(tmp_path):
    paths = _save(tmp_path, run="r1")
    run_dir = tmp_path / "02_linear_regression" / "r1"
    assert paths == [run_dir / "clip_00.wav", run_dir / "clip_01.wav"]
    assert all(p.is_file() for p in paths)
    meta = json.loads((run_dir / "meta.json").read_text())
    assert meta["approach"] == "02_linear_regression" and meta["run"] == "r1"
    assert meta["representation"] == {"name": "mel", "n_mels": 128}
    assert meta["parameters"] == {"alpha": 0.5, "layers": [64, 64], "n": 3}
    assert meta["seed"] == 0 and meta["sr"] == SR
    assert meta["train_seconds"] == 1.25 and meta["generate_seconds"] == 0.5
    assert [c["file"] for c in meta["clips"]] == ["clip_00.wav", "clip_01.wav"]
    assert meta["clips"][0]["seconds"] == pytest.approx(1.5)
    # nothing temporary left behind
    assert sorted(p.name for p in (tmp_path / "02_linear_regression").iterdir()) == ["r1"]


def test_default_run_id_has_seed_and_runs_do_not_collide(tmp_path):
    a = _save(tmp_path, seed=7)
    b = _save(tmp_path, seed=7)
    assert a[0].parent != b[0].parent
    assert a[0].parent.name.endswith("seed7")


def test_never_overwrites_a_run(tmp_path):
    _save(tmp_path, run="same")
    before = (tmp_path / "02_linear_regression" / "same" / "clip_00.wav").read_bytes()
    with pytest.raises(MusiclibError, match="exists already"):
        _save(tmp_path, run="same", clips=_clips(1, 2.0))
    assert (tmp_path / "02_linear_regression" / "same" / "clip_00.wav").read_bytes() == before
    assert len(list((tmp_path / "02_linear_regression").iterdir())) == 1


def test_approaches_are_separate(tmp_path):
    _save(tmp_path, "02_linear_regression", run="r")
    _save(tmp_path, "03_trees", run="r", clips=_clips(3))
    loaded = outputs.load_outputs(tmp_path)
    assert list(loaded) == ["02_linear_regression", "03_trees"]
    assert len(loaded["02_linear_regression"]["clips"]) == 2
    assert len(loaded["03_trees"]["clips"]) == 3


def test_load_picks_the_latest_run_and_ignores_temporary_and_broken(tmp_path):
    _save(tmp_path, run="a-old", clips=_clips(1))
    _save(tmp_path, run="b-new", clips=_clips(2))
    base = tmp_path / "02_linear_regression"
    (base / ".c-crashed.123.tmp").mkdir()  # an interrupted write
    broken = base / "z-broken"
    broken.mkdir()
    # the newest sidecar, but its clip is missing: skipped with a warning, the previous run is used
    (broken / "meta.json").write_text(json.dumps({"created": "9999", "sr": SR, "clips": [{"file": "clip_00.wav"}]}))
    (base / "y-garbled").mkdir()
    (base / "y-garbled" / "meta.json").write_text("{not json")
    with pytest.warns(UserWarning, match="z-broken"):
        loaded = outputs.load_outputs(tmp_path)
    got = loaded["02_linear_regression"]
    assert got["meta"]["run"] == "b-new" and len(got["clips"]) == 2
    np.testing.assert_allclose(got["clips"][0], _clips(1)[0], atol=2e-4)  # 16-bit round trip
    assert [p.name for p in outputs.list_runs("02_linear_regression", root=tmp_path)][-1] == "z-broken"


def test_nonfinite_and_loud_samples_are_recorded(tmp_path):
    y = _clips(1)[0].astype(np.float64) * 3
    y[10:20] = np.nan
    _save(tmp_path, run="r", clips=[y])
    meta = outputs.load_outputs(tmp_path)["02_linear_regression"]["meta"]
    assert meta["clips"][0]["nonfinite_samples"] == 10
    assert meta["clips"][0]["peak"] > 1.0


def test_root_from_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("MUSICLIB_OUTPUTS", str(tmp_path / "env"))
    assert outputs.outputs_root() == tmp_path / "env"
    outputs.save_clips("03_trees", _clips(1), sr=SR, representation="log", parameters={}, seed=1,
                       train_seconds=0, generate_seconds=0)
    assert list(outputs.load_outputs()) == ["03_trees"]
    monkeypatch.delenv("MUSICLIB_OUTPUTS")
    assert outputs.outputs_root().name == "outputs"


def test_load_missing_root_is_empty(tmp_path):
    assert outputs.load_outputs(tmp_path / "nothing") == {}


@pytest.mark.parametrize("approach", ["", "../escape", ".hidden", "a/b", "with space", None])
def test_bad_approach(tmp_path, approach):
    with pytest.raises(ParameterError, match="approach"):
        _save(tmp_path, approach)
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"clips": []}, "clips is empty"),
        ({"clips": [np.zeros((2, 100))]}, "1-D"),
        ({"sr": 0}, "sr=0"),
        ({"parameters": [1, 2]}, "parameters must be a dict"),
        ({"train_seconds": -1}, "train_seconds"),
        ({"run": "a/b"}, "run="),
    ],
)
def test_bad_arguments(tmp_path, kwargs, match):
    with pytest.raises(ParameterError, match=match):
        _save(tmp_path, **kwargs)


def test_expected_approaches_are_valid_names():
    for name in outputs.EXPECTED_APPROACHES:
        assert outputs._check_slug("approach", name) == name


def test_default_root_is_outputs_in_the_project(monkeypatch):
    monkeypatch.delenv("MUSICLIB_OUTPUTS", raising=False)
    assert outputs.outputs_root() == project_root() / "outputs"
    assert (project_root() / "pyproject.toml").is_file()  # run from the checkout: the repository


# -- checkpoints of a notebook's training runs --------------------------------------------------------


def test_run_key_changes_with_any_setting_or_the_code(tmp_path):
    import types

    key = outputs.run_key("demo", 0, {"epochs": 8, "units": (16,)}, ["a.ogg", "b.ogg"])
    assert len(key) == 12 and int(key, 16) >= 0
    assert outputs.run_key("demo", 0, {"units": (16,), "epochs": 8}, ["a.ogg", "b.ogg"]) == key  # key order: no matter
    assert outputs.run_key("demo", 0, {"epochs": 9, "units": (16,)}, ["a.ogg", "b.ogg"]) != key
    assert outputs.run_key("demo", 0, {"epochs": 8, "units": (16,)}, ["a.ogg"]) != key
    assert outputs.run_key("small", 0, {"epochs": 8, "units": (16,)}, ["a.ogg", "b.ogg"]) != key
    source = tmp_path / "model.py"
    source.write_text("x = 1\n")
    module = types.SimpleNamespace(__file__=str(source))
    with_code = outputs.run_key("demo", code=[module])
    assert with_code != outputs.run_key("demo") and with_code == outputs.run_key("demo", code=[module])
    source.write_text("x = 2\n")  # the model code changed: a new key, a fresh training
    assert outputs.run_key("demo", code=[module]) != with_code
    assert outputs.run_key(tmp_path) == outputs.run_key(str(tmp_path))  # a path counts by its text


def test_checkpoint_dir_is_per_run_and_emptied_only_when_not_resuming(tmp_path):
    folder = outputs.checkpoint_dir("04_lstm", "LSTM-clock", key="abc123", root=tmp_path)
    assert folder == tmp_path / "04_lstm" / "checkpoints" / "abc123" / "LSTM-clock" and not folder.exists()
    folder.mkdir(parents=True)
    (folder / "model.keras").write_bytes(b"weights")
    assert outputs.checkpoint_dir("04_lstm", "LSTM-clock", key="abc123", root=tmp_path) == folder
    assert (folder / "model.keras").exists()  # resumed: kept
    other = outputs.checkpoint_dir("04_lstm", "MLP-clock", key="abc123", root=tmp_path)
    other.mkdir()
    assert outputs.checkpoint_dir("04_lstm", "LSTM-clock", key="abc123", root=tmp_path, resume=False) == folder
    assert not folder.exists() and other.exists()  # only this model's folder was emptied


@pytest.mark.parametrize("kwargs, match", [
    ({"approach": "../x"}, "approach"), ({"name": "a/b"}, "name"), ({"name": ""}, "name"), ({"key": ".."}, "key"),
    ({"key": 12}, "key"), ({"resume": "no"}, "resume"),
])
def test_checkpoint_dir_refuses_what_is_no_folder_name(tmp_path, kwargs, match):
    args = {"approach": "05_vae", "name": "VAE", "key": "abc", "resume": True} | kwargs
    with pytest.raises(ParameterError, match=match):
        outputs.checkpoint_dir(args.pop("approach"), args.pop("name"), root=tmp_path, **args)
