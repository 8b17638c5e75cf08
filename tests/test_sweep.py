"""Tests for musiclib.evaluation.sweep: the spectrogram-settings study (notebook 01)."""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from musiclib import phase, synth  # noqa: E402
from musiclib.evaluation import metrics, sweep
from musiclib.errors import ParameterError  # noqa: E402

SR = 22050
METHOD = "pghi+fgla" if "pghi+fgla" in phase.METHODS else phase.METHODS[0]


@pytest.fixture(scope="module")
def y():
    return synth.synthetic_mix(duration=1.0, sr=SR, seed=3)


@pytest.fixture(scope="module")
def rows(y):
    # n_fft 128 has 65 bins: mel 128 is invalid there and must be reported, not run
    return sweep.sweep_settings(
        y, sr=SR, n_ffts=(128, 512), representations=("linear", "mel"), n_mels=(32, 128),
        methods=(METHOD,), n_iters=(4,), progress=False,
    )


RAN_KEYS = {
    "representation", "n_fft", "hop_length", "n_mels", "method", "n_iter", "label", "sr", "audio_seconds",
    "skipped", "sc_db", "lsd_db", "sc_mel_db", "ceiling_sc_db", "encode_seconds", "decode_seconds", "seconds",
    "real_time_factor", "n_frames", "n_features", "nbytes", "kbytes_per_second", "frames_per_second",
}


def test_rows_cover_grid_in_order(rows):
    got = [(r["n_fft"], r["representation"], r["n_mels"]) for r in rows]
    assert got == [
        (128, "linear", None), (128, "mel", 32), (128, "mel", 128),
        (512, "linear", None), (512, "mel", 32), (512, "mel", 128),
    ]
    for r in rows:
        assert r["method"] == METHOD and r["n_iter"] == 4
        assert r["hop_length"] == r["n_fft"] // 4


def test_invalid_combo_reported_not_run(rows):
    bad = [r for r in rows if r["skipped"]]
    assert len(bad) == 1
    assert bad[0]["n_fft"] == 128 and bad[0]["n_mels"] == 128
    assert "n_mels=128" in bad[0]["skipped"] and "65" in bad[0]["skipped"]
    assert "sc_db" not in bad[0]


def test_ran_rows_have_keys_and_sizes(rows, y):
    ran = [r for r in rows if not r["skipped"]]
    assert len(ran) == 5
    for r in ran:
        assert RAN_KEYS <= set(r), RAN_KEYS - set(r)
        n_features = r["n_mels"] if r["representation"] == "mel" else r["n_fft"] // 2 + 1
        assert r["n_features"] == n_features
        assert r["n_frames"] == 1 + len(y) // r["hop_length"]
        assert r["nbytes"] == 4 * r["n_frames"] * r["n_features"]
        assert r["kbytes_per_second"] == pytest.approx(r["nbytes"] / (len(y) / SR) / 1000)
        assert r["seconds"] == pytest.approx(r["encode_seconds"] + r["decode_seconds"])
        assert r["real_time_factor"] == pytest.approx((len(y) / SR) / r["seconds"])


def test_errors_finite_and_negative(rows):
    for r in rows:
        if r["skipped"]:
            continue
        assert math.isfinite(r["sc_db"]) and r["sc_db"] < 0, r
        assert math.isfinite(r["lsd_db"]) and r["lsd_db"] > 0, r
        if r["representation"] == "mel":
            assert math.isfinite(r["ceiling_sc_db"]) and r["ceiling_sc_db"] < 0
            assert math.isfinite(r["sc_mel_db"]) and r["sc_mel_db"] < 0
        else:
            assert r["ceiling_sc_db"] is None and r["sc_mel_db"] is None


def test_more_bands_leave_more(rows):
    mel = {r["n_mels"]: r for r in rows if r["representation"] == "mel" and r["n_fft"] == 512}
    assert mel[128]["ceiling_sc_db"] < mel[32]["ceiling_sc_db"]


def test_deterministic_and_audio_kept(y):
    kw = dict(sr=SR, n_ffts=(256,), representations=("linear",), methods=(METHOD,), n_iters=(3,), seed=5,
              progress=False)
    a = sweep.sweep_settings(y, keep_audio=True, **kw)
    b = sweep.sweep_settings(y, **kw)
    assert a[0]["sc_db"] == b[0]["sc_db"] and a[0]["lsd_db"] == b[0]["lsd_db"]
    assert a[0]["audio"].shape == y.shape and a[0]["audio"].dtype == np.float32
    assert "audio" not in b[0]


def test_window_longer_than_signal_is_skipped():
    y = synth.tone(440.0, duration=0.02, sr=SR)  # 441 samples
    rows = sweep.sweep_settings(y, sr=SR, n_ffts=(256, 1024), representations=("linear",), methods=(METHOD,),
                                n_iters=(1,), progress=False)
    assert rows[0]["skipped"] is None
    assert "longer than the signal" in rows[1]["skipped"]


def test_iteration_curve(y):
    curve = sweep.iteration_curve(y, sr=SR, n_fft=512, methods=(METHOD,), n_iters=(8, 0, 2), progress=False)
    assert [c["n_iter"] for c in curve] == [0, 2, 8]
    assert all(c["method"] == METHOD and c["hop_length"] == 128 and c["sc_db"] < 0 for c in curve)
    # more iterations of a consistent-magnitude method improve the match
    assert curve[-1]["sc_db"] < curve[0]["sc_db"]
    ax = sweep.plot_iteration_curve(curve)
    assert len(ax.lines) == 1
    plt.close("all")


def _fake(label, sc, seconds, n_features, rep="linear", n_fft=1024, kbps=100.0):
    return {
        "representation": rep, "n_fft": n_fft, "hop_length": n_fft // 4, "n_mels": None, "method": "m", "n_iter": 32,
        "label": label, "sr": SR, "audio_seconds": 10.0, "skipped": None, "sc_db": sc, "lsd_db": 5.0,
        "sc_mel_db": None, "ceiling_sc_db": None, "seconds": seconds, "real_time_factor": 10.0 / seconds,
        "n_features": n_features, "kbytes_per_second": kbps, "frames_per_second": SR / (n_fft // 4),
    }


def test_recommend_picks_within_budget_and_explains():
    rows = [
        _fake("slow-best", -30.0, 5.0, 513, n_fft=2048),  # 0.5 s/s: over the time budget
        _fake("wide", -28.0, 0.5, 1025, n_fft=4096),  # too many features
        _fake("good", -25.0, 0.6, 513, n_fft=1024),
        _fake("tie-fast", -24.5, 0.3, 257, n_fft=512),  # within 1 dB of "good" and faster
        _fake("poor", -15.0, 0.1, 129, n_fft=256),
        {"representation": "mel", "n_fft": 64, "n_mels": 64, "skipped": "too many bands"},
    ]
    rec = sweep.recommend(rows, max_seconds_per_second=0.1, max_features=513, tolerance_db=1.0)
    assert rec["setting"]["label"] == "tie-fast"
    assert rec["n_candidates"] == 3
    assert "-24.5 dB" in rec["reason"] and "0.1 s of compute" in rec["reason"] and "513 features" in rec["reason"]
    rec0 = sweep.recommend(rows, max_seconds_per_second=0.1, max_features=513, tolerance_db=0.0)
    assert rec0["setting"]["label"] == "good"
    assert rec0["runner_up"]["label"] == "tie-fast"
    wide = sweep.recommend(rows, max_seconds_per_second=0.1, max_features=None)
    assert wide["setting"]["label"] == "wide"
    assert sweep.recommend(rows, max_seconds_per_second=1.0, max_features=None)["setting"]["label"] == "slow-best"
    rows.append(_fake("compact", -20.0, 0.2, 64, rep="mel", kbps=20.0))
    compact = sweep.recommend(rows, max_seconds_per_second=0.1, max_kbytes_per_second=50)
    assert compact["setting"]["label"] == "compact" and "50 kB per second" in compact["reason"]


def test_recommend_errors():
    rows = [_fake("a", -20.0, 1.0, 513)]
    with pytest.raises(ParameterError, match="none of the 1 settings fits"):
        sweep.recommend(rows, max_seconds_per_second=0.01)
    with pytest.raises(ParameterError, match="none of the 1 settings fits"):
        sweep.recommend(rows, max_kbytes_per_second=50)
    with pytest.raises(ParameterError, match="max_seconds_per_second=-1"):
        sweep.recommend(rows, max_seconds_per_second=-1)
    with pytest.raises(ParameterError, match="max_features=0"):
        sweep.recommend(rows, max_features=0)
    with pytest.raises(ParameterError, match="no rows that ran"):
        sweep.recommend([{"skipped": "x"}])


def test_recommend_on_real_rows(rows):
    rec = sweep.recommend(rows, max_seconds_per_second=100.0, max_features=None)
    ran = [r for r in rows if not r["skipped"]]
    assert rec["setting"]["sc_db"] <= min(r["sc_db"] for r in ran) + 1.0
    mel = sweep.recommend(rows, max_seconds_per_second=100.0, representations=("mel",))
    assert mel["setting"]["representation"] == "mel" and "ceiling" in mel["reason"]


def test_table_and_tradeoff_plot(rows):
    table = sweep.rows_to_table(rows)
    html = table._repr_html_()
    assert html.count("<tr>") == len(rows) + 1 and "skipped" in html
    assert "n_mels=128 is more than" in str(table)
    only_ran = sweep.rows_to_table(rows, ["label", "sc_db"], skipped=False)
    assert len(only_ran) == 5 and only_ran.columns == ["label", "sc_db"]
    axes = sweep.plot_tradeoffs(rows)
    assert len(axes) == 3
    # linear + mel32 + mel128 series, plus dashed ceilings for the two mel series
    assert len(axes[0].lines) == 5 and len(axes[1].lines) == 3
    plt.close("all")


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(sr=0), "sr=0"),
        (dict(n_ffts=(1000,)), "n_ffts containing 1000"),
        (dict(n_ffts=(8,)), "n_ffts containing 8"),
        (dict(n_ffts=()), "n_ffts=()"),
        (dict(representations=("dct",)), "representations="),
        (dict(n_mels=(0,)), "n_mels containing 0"),
        (dict(methods=("magic",)), "method 'magic'"),
        (dict(n_iters=(-1,)), "n_iters containing -1"),
        (dict(hop_fraction=0.0), "hop_fraction=0.0"),
        (dict(hop_fraction=1.5), "hop_fraction=1.5"),
        (dict(seed=-2), "seed=-2"),
    ],
)
def test_sweep_bad_parameters(y, kwargs, match):
    kw = dict(sr=SR, n_ffts=(256,), methods=(METHOD,), n_iters=(1,), progress=False)
    kw.update(kwargs)
    with pytest.raises(ParameterError, match=match.replace("(", r"\(").replace(")", r"\)")):
        sweep.sweep_settings(y, **kw)


@pytest.mark.parametrize(
    "signal, match",
    [
        (np.zeros((2, 100), np.float32), "shape"),
        (np.zeros(1000, np.float32), "silent"),
        (np.array([0.1, np.nan] * 500, np.float32), "NaN"),
    ],
)
def test_sweep_bad_signal(signal, match):
    with pytest.raises(ParameterError, match=match):
        sweep.sweep_settings(signal, sr=SR, n_ffts=(256,), progress=False)


def test_iteration_curve_bad_parameters(y):
    with pytest.raises(ParameterError, match="n_fft"):
        sweep.iteration_curve(y, sr=SR, n_fft=1000, progress=False)
    with pytest.raises(ParameterError, match="longer than the signal"):
        sweep.iteration_curve(y[:500], sr=SR, n_fft=1024, progress=False)
    with pytest.raises(ParameterError, match="method 'x'"):
        sweep.iteration_curve(y, sr=SR, methods=("x",), progress=False)


@pytest.mark.parametrize("method", ["gla", "fgla", "pghi+fgla"])
def test_iteration_curve_rows_are_what_reconstruct_gives(y, method):
    curve = sweep.iteration_curve(y, sr=SR, n_fft=256, methods=(method,), n_iters=(0, 2, 5), seed=7, progress=False)
    assert [r["n_iter"] for r in curve] == [0, 2, 5]
    S = np.abs(phase.stft(y, n_fft=256, hop_length=64))
    for row in curve:
        y_k = phase.reconstruct(S, method=method, n_iter=row["n_iter"], hop_length=64, length=len(y), seed=7)
        S_k = np.abs(phase.stft(y_k, n_fft=256, hop_length=64))
        assert row["sc_db"] == pytest.approx(metrics.spectral_convergence(S, S_k), abs=1e-6)
        assert row["seconds"] >= 0


def test_make_excerpt():
    a = synth.drum_loop(duration=1.0, sr=SR, seed=1)
    b = synth.tone(220.0, duration=3.0, sr=SR)
    silent = np.zeros(SR, np.float32)
    y = sweep.make_excerpt([a, silent, b], sr=SR, duration=5.0, piece_seconds=2.0)
    assert y.shape == (5 * SR,) and y.dtype == np.float32
    # a (1 s, whole), then 2 s of b, then a again, then b cut short: silent clips are skipped
    np.testing.assert_allclose(y[SR // 2 : SR // 2 + 100], a[SR // 2 : SR // 2 + 100])
    assert np.max(np.abs(y[: SR // 100])) < np.max(np.abs(a[: SR // 100])) + 1e-6  # faded in
    assert y[-1] == 0.0  # faded out at the end
    with pytest.raises(ParameterError, match="no clips with sound"):
        sweep.make_excerpt([silent], sr=SR)
    with pytest.raises(ParameterError, match="duration=0"):
        sweep.make_excerpt([a], sr=SR, duration=0)
    with pytest.raises(ParameterError, match="mono"):
        sweep.make_excerpt([np.ones((2, 10))], sr=SR)
