"""Tests for musiclib.evaluation.sweep: decode ceilings, the settings sweep and the rule (notebook 01)."""

from __future__ import annotations

import itertools

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from musiclib import representations as R  # noqa: E402
from musiclib import synth  # noqa: E402
from musiclib.errors import ParameterError  # noqa: E402
from musiclib.evaluation import metrics, sweep  # noqa: E402

SR = 22050


@pytest.fixture(scope="module")
def y():
    return synth.synthetic_mix(duration=1.0, sr=SR, seed=3)


@pytest.fixture(scope="module")
def rows(y):
    return sweep.sweep_settings(y, sr=SR, n_ffts=(256, 512, 1024), hop_lengths=(64, 128, 256), n_iters=(8,))


# -- the comparison -------------------------------------------------------------------------------
def test_reconstruction_error_is_compare_audio_averaged(y):
    noisy = y + 0.05 * np.random.default_rng(0).standard_normal(len(y)).astype(np.float32)
    got = sweep.reconstruction_error(y, noisy)
    each = [metrics.compare_audio(y, noisy, n_fft=n) for n in sweep.REFERENCE_N_FFTS]
    assert got["sc_db"] == pytest.approx(np.mean([e["sc_db"] for e in each]))
    assert got["lsd_db"] == pytest.approx(np.mean([e["lsd_db"] for e in each]))
    # a copy at 90 % of the level is 10 % off in norm at every resolution: -20 dB exactly
    assert sweep.reconstruction_error(y, 0.9 * y)["sc_db"] == pytest.approx(-20.0, abs=1e-4)
    assert sweep.reconstruction_error(y, y, n_ffts=(256,))["sc_db"] == metrics.SC_FLOOR_DB


@pytest.mark.parametrize(
    "rep, text",
    [
        (R.MelSpectrogram(n_fft=1024, n_mels=128), "mel-128 1024/256"),
        (R.LogFrequencySpectrogram(n_fft=2048, hop_length=512, bins_per_octave=48), "logfreq-48 2048/512"),
        (R.LogSpectrogram(n_fft=512, hop_length=64), "log 512/64"),
        (R.DCTBlocks(block_length=512), "dct 256"),
    ],
)
def test_label(rep, text):
    assert sweep.label(rep) == text


# -- 1. one clip, one representation ----------------------------------------------------------------
def test_decode_ceiling_keys_and_sizes(y):
    rep = R.MelSpectrogram(sr=SR, n_fft=512, n_mels=64, scale="db")
    r = sweep.decode_ceiling(y, sr=SR, rep=rep, n_iter=4, keep_audio=True)
    assert r["label"] == "mel-64 512/128" and r["representation"] == "mel"
    assert R.from_params(r["params"]) == rep
    assert (r["n_fft"], r["hop_length"], r["method"], r["n_iter"]) == (512, 128, "pghi+fgla", 4)
    assert r["n_features"] == 64 and r["frames_per_second"] == pytest.approx(SR / 128)
    assert r["features_per_second"] == pytest.approx(64 * SR / 128)
    assert r["audio_seconds"] == pytest.approx(len(y) / SR)
    assert r["y_hat"].shape == y.shape and r["y_hat"].dtype == np.float32
    assert sweep.reconstruction_error(y, r["y_hat"])["sc_db"] == pytest.approx(r["sc_db"])
    assert -40 < r["sc_db"] < -5 and r["lsd_db"] > 0
    again = sweep.decode_ceiling(y, sr=SR, rep=rep, n_iter=4)
    assert again["sc_db"] == r["sc_db"] and "y_hat" not in again  # seeded: the same audio


def test_decode_ceiling_times_encode_and_decode(y, monkeypatch):
    clock = itertools.count(start=10.0, step=0.5)  # every reading of the clock is half a second later
    monkeypatch.setattr(sweep.time, "perf_counter", lambda: next(clock))
    r = sweep.decode_ceiling(y, sr=SR, rep=R.LinearSpectrogram(sr=SR, n_fft=512), n_iter=0)
    assert (r["encode_seconds"], r["decode_seconds"], r["seconds"]) == (0.5, 0.5, 1.0)
    assert r["real_time_factor"] == pytest.approx(len(y) / SR / 1.0)


def test_decode_ceiling_orders_what_is_lost(y):
    """More bands keep more, the exact magnitude keeps most, and phase iterations help."""

    def sc(rep, **kw):
        return sweep.decode_ceiling(y, sr=SR, rep=rep, **kw)["sc_db"]

    mel32, mel128 = (sc(R.MelSpectrogram(sr=SR, n_fft=1024, n_mels=m)) for m in (32, 128))
    log = sc(R.LogSpectrogram(sr=SR, n_fft=1024))
    assert log < mel128 < mel32 - 1
    assert sc(R.LogSpectrogram(sr=SR, n_fft=1024), n_iter=32) < sc(R.LogSpectrogram(sr=SR, n_fft=1024), n_iter=0) - 1
    logfreq = R.LogFrequencySpectrogram(sr=SR, n_fft=1024, bins_per_octave=48)
    assert sc(logfreq, nnls_iter=60) < sc(logfreq, nnls_iter=1)  # passed to filter-bank decoders only
    assert sc(R.LogSpectrogram(sr=SR, n_fft=1024), nnls_iter=1) == log


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(sr=16000), "sr=16000 differs"),
        (dict(sr=0), "sr=0"),
        (dict(rep="mel"), "representation as rep"),
        (dict(method="magic"), "magic"),
        (dict(n_iter=-1), "n_iter"),
    ],
)
def test_decode_ceiling_bad_parameters(y, kwargs, match):
    kw = dict(sr=SR, rep=R.LinearSpectrogram(sr=SR, n_fft=512))
    kw.update(kwargs)
    with pytest.raises(ParameterError, match=match):
        sweep.decode_ceiling(y, **kw)


@pytest.mark.parametrize(
    "signal, match",
    [
        (np.zeros((2, 4096), np.float32), "mono"),
        (np.zeros(4096, np.float32), "all zeros"),
        (np.array([0.1, np.nan] * 2048, np.float32), "NaN"),
        (np.ones(100, np.float32), "shorter than one frame"),
        (np.array([], np.float32), "shorter than one frame"),
    ],
)
def test_decode_ceiling_bad_signal(signal, match):
    with pytest.raises(ParameterError, match=match):
        sweep.decode_ceiling(signal, sr=SR, rep=R.LinearSpectrogram(sr=SR, n_fft=512))


# -- 2. clips × representations ---------------------------------------------------------------------
def test_decode_ceilings_and_table(y):
    clips = {"mix": y, "tone": synth.tone(330.0, duration=1.0, sr=SR, n_harmonics=4)}
    reps = [R.MelSpectrogram(sr=SR, n_fft=512, n_mels=32), R.LogSpectrogram(sr=SR, n_fft=512)]
    long = sweep.decode_ceilings(clips, sr=SR, reps=reps, n_iter=4)
    assert list(zip(long["label"], long["clip"])) == [
        ("mel-32 512/128", "mix"), ("mel-32 512/128", "tone"), ("log 512/128", "mix"), ("log 512/128", "tone"),
    ]
    table = sweep.ceiling_table(long)
    assert list(table.index) == ["mel-32 512/128", "log 512/128"]
    for name, group in long.groupby("label"):
        assert table.loc[name, "sc_db"] == pytest.approx(group["sc_db"].median())
        assert table.loc[name, "sc_worst_db"] == group["sc_db"].max()
        assert table.loc[name, "sc_best_db"] == group["sc_db"].min()
        assert table.loc[name, "real_time_factor"] == pytest.approx(group["audio_seconds"].sum() / group["seconds"].sum())
    assert table["n_features"].tolist() == [32, 257]
    assert [R.from_params(p) for p in table["params"]] == reps
    unnamed = sweep.decode_ceilings([y], sr=SR, reps=reps[:1], n_iter=0)
    assert unnamed["clip"].tolist() == ["clip 0"]
    ax = sweep.plot_ceilings(table)
    assert len(ax.containers) == 2  # one error bar per representation family
    plt.close("all")


def test_decode_ceilings_bad_input(y):
    with pytest.raises(ParameterError, match="clips"):
        sweep.decode_ceilings([], sr=SR, reps=[R.LogSpectrogram(sr=SR)])
    with pytest.raises(ParameterError, match="reps"):
        sweep.decode_ceilings([y], sr=SR, reps=[])
    with pytest.raises(ParameterError, match="ceiling_table"):
        sweep.ceiling_table(pd.DataFrame())


# -- 3. the sweep -----------------------------------------------------------------------------------
def test_sweep_grid_order_and_hops(rows):
    # hops longer than half the window are left out: 256 has 64 and 128 only
    assert rows[["n_fft", "hop_length"]].values.tolist() == [
        [256, 64], [256, 128], [512, 64], [512, 128], [512, 256], [1024, 64], [1024, 128], [1024, 256],
    ]
    assert (rows["n_features"] == rows["n_fft"] // 2 + 1).all()
    assert (rows["method"] == "pghi+fgla").all() and (rows["n_iter"] == 8).all()
    assert rows["sc_db"].lt(0).all() and np.isfinite(rows["lsd_db"]).all()


def test_sweep_sparse_hop_judged_on_the_reference(rows):
    """Half-window hops look good on their own grid and bad on the reference STFTs."""
    r = rows.set_index(["n_fft", "hop_length"])
    assert r.loc[(512, 256), "sc_db"] > r.loc[(512, 128), "sc_db"] + 3


def test_sweep_methods_representations_and_audio(y):
    rows = sweep.sweep_settings(
        y, sr=SR, n_ffts=(512,), representations=("log", {"name": "mel", "n_mels": 32}),
        methods=("pghi", "fgla"), n_iters=(0, 4), keep_audio=True,
    )
    # PGHI does not iterate, so it runs once
    assert rows[["label", "method", "n_iter"]].values.tolist() == [
        ["log 512/128", "pghi", 0], ["log 512/128", "fgla", 0], ["log 512/128", "fgla", 4],
        ["mel-32 512/128", "pghi", 0], ["mel-32 512/128", "fgla", 0], ["mel-32 512/128", "fgla", 4],
    ]
    assert all(a.shape == y.shape for a in rows["y_hat"])
    ax = sweep.plot_iteration_curve(rows[rows["representation"] == "log"])
    assert len(ax.lines) == 2  # fgla's curve and PGHI's level
    plt.close("all")


def test_sweep_tradeoff_plot(rows):
    axes = sweep.plot_tradeoffs(rows)
    assert len(axes) == 3 and all(len(ax.lines) == 3 for ax in axes)  # one line per hop
    plt.close("all")


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(sr=0), "sr=0"),
        (dict(n_ffts=(1000,)), "n_fft=1000"),
        (dict(n_ffts=(8,)), "n_ffts=8"),
        (dict(n_ffts=()), "n_ffts"),
        (dict(hop_lengths=(0,)), "hop_lengths=0"),
        (dict(n_ffts=(256,), hop_lengths=(512,)), "half its window"),
        (dict(representations=("dct",)), "n_fft"),
        (dict(representations=({"n_mels": 32},)), "no 'name'"),
        (dict(representations=({"name": "mel", "n_mels": 0},)), "n_mels=0"),
        (dict(methods=("magic",)), "magic"),
        (dict(n_iters=(-1,)), "n_iter"),
        (dict(n_ffts=(4096,)), "shorter than one frame"),
    ],
)
def test_sweep_bad_parameters(y, kwargs, match):
    kw = dict(sr=SR, n_ffts=(256,), n_iters=(1,))
    kw.update(kwargs)
    with pytest.raises(ParameterError, match=match):
        sweep.sweep_settings(y[:2048], **kw)


def test_make_excerpt():
    a = synth.drum_loop(duration=1.0, sr=SR, seed=1)
    b = synth.tone(220.0, duration=3.0, sr=SR)
    silent = np.zeros(SR, np.float32)
    y = sweep.make_excerpt([a, silent, b], sr=SR, duration=5.0, piece_seconds=2.0)
    assert y.shape == (5 * SR,) and y.dtype == np.float32
    # a (1 s, whole), then 2 s of b, then a again, then b cut short: silent clips are skipped
    np.testing.assert_allclose(y[SR // 2 : SR // 2 + 100], a[SR // 2 : SR // 2 + 100])
    np.testing.assert_allclose(y[3 * SR + SR // 2 : 3 * SR + SR // 2 + 100], a[SR // 2 : SR // 2 + 100])
    assert np.max(np.abs(y[: SR // 100])) < np.max(np.abs(a[: SR // 100])) + 1e-6  # faded in
    assert abs(y[-1]) < 1e-3 * np.max(np.abs(y))  # faded out at the end
    with pytest.raises(ParameterError, match="no clips with sound"):
        sweep.make_excerpt([silent], sr=SR)
    with pytest.raises(ParameterError, match="duration=0"):
        sweep.make_excerpt([a], sr=SR, duration=0)
    with pytest.raises(ParameterError, match="piece_seconds=-1"):
        sweep.make_excerpt([a], sr=SR, piece_seconds=-1)
    with pytest.raises(ParameterError, match="mono"):
        sweep.make_excerpt([np.ones((2, 10))], sr=SR)


# -- 4. the rule ------------------------------------------------------------------------------------
def _fake(text, sc, n_features, fps, rtf=10.0, rep="log"):
    return {"label": text, "representation": rep, "sc_db": sc, "lsd_db": 5.0, "n_features": n_features,
            "frames_per_second": fps, "features_per_second": n_features * fps, "real_time_factor": rtf}


@pytest.fixture
def fake_rows():
    return pd.DataFrame([
        _fake("wide", -30.0, 1025, 43.0),  # over the feature cap
        _fake("fast-frames", -28.0, 513, 172.0),  # over the frame-rate cap
        _fake("good", -25.0, 513, 86.0),
        _fake("tie-small", -24.5, 209, 86.0, rep="logfreq"),  # within 1 dB of "good", fewer features
        _fake("slow", -24.8, 128, 86.0, rtf=0.5, rep="mel"),  # slower than real time
        _fake("poor", -15.0, 128, 86.0, rep="mel"),
    ])


def test_recommend_picks_within_budget_and_explains(fake_rows):
    rec = sweep.recommend(fake_rows, max_features=513, max_frames_per_second=90)
    assert rec["setting"]["label"] == "slow" and rec["n_candidates"] == 4
    rec = sweep.recommend(fake_rows, max_features=513, max_frames_per_second=90, min_real_time_factor=1)
    assert rec["setting"]["label"] == "tie-small" and rec["best_sc_db"] == -25.0
    assert "-25.0 dB" in rec["reason"] and "max_features=513" in rec["reason"] and "tie-small" in rec["reason"]
    # the best of all is named with the budget that left it out
    assert rec["best_overall"]["label"] == "wide"
    assert "best of all is left out by the budgets (more than 513 features per frame): wide (1025 features" in rec["reason"]
    strict = sweep.recommend(fake_rows, tolerance_db=0.0, max_features=513, max_frames_per_second=90)
    assert strict["setting"]["label"] == "good"
    assert sweep.recommend(fake_rows)["setting"]["label"] == "wide"
    assert "best of all" not in sweep.recommend(fake_rows)["reason"]
    assert sweep.recommend(fake_rows, max_frames_per_second=90)["setting"]["label"] == "wide"
    mel = sweep.recommend(fake_rows, representations=("mel",), min_real_time_factor=1)
    assert mel["setting"]["label"] == "poor"
    assert "more than 513" not in mel["reason"] and "not one of mel" in mel["reason"]
    assert len(sweep.within_budget(fake_rows, max_features=200)) == 2


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(max_features=10), "none of the 6 settings fits"),
        (dict(max_features=0), r"max_features=0 must be a finite number > 0"),
        (dict(min_real_time_factor=-1), r"min_real_time_factor=-1 must be a finite number > 0"),
        (dict(max_frames_per_second=float("nan")), "frames_per_second"),
        (dict(tolerance_db=-1), "tolerance_db=-1"),
        (dict(representations="log"), "representations="),
    ],
)
def test_recommend_errors(fake_rows, kwargs, match):
    with pytest.raises(ParameterError, match=match):
        sweep.recommend(fake_rows, **kwargs)


def test_recommend_needs_a_dataframe():
    with pytest.raises(ParameterError, match="DataFrame"):
        sweep.recommend([{"sc_db": -20.0}])


def test_recommend_on_real_rows(rows):
    rec = sweep.recommend(rows, max_features=257)
    fits = rows[rows["n_features"] <= 257]
    assert rec["setting"]["n_features"] <= 257
    assert rec["setting"]["sc_db"] <= fits["sc_db"].min() + 1.0
