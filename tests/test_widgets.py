"""Tests for musiclib.widgets: one setting measured, the static fallback, and the live panel's construction."""

from __future__ import annotations

import matplotlib
import numpy as np
import pandas as pd
import pytest

from musiclib import synth, widgets
from musiclib.errors import ParameterError
from musiclib.evaluation import sweep

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402


@pytest.fixture(scope="module")
def tone(sr):
    """1 s harmonic tone with a fade, so the magnitude has structure in time and frequency."""
    y = synth.tone(330.0, duration=1.0, sr=sr, n_harmonics=5)
    return (y * np.linspace(1.0, 0.3, len(y))).astype(np.float32)


@pytest.mark.parametrize(
    "representation, n_fft, hop, params, n_features",
    [
        ("linear", 512, 128, {}, 257),
        ("log", 1024, 512, {}, 513),
        ("mel", 1024, 256, {"n_mels": 64}, 64),
        ("logfreq", 1024, 256, {"bins_per_octave": 24}, 129),
    ],
)
def test_evaluate_setting_is_the_decode_ceiling(tone, sr, representation, n_fft, hop, params, n_features):
    r = widgets.evaluate_setting(
        tone, sr=sr, representation=representation, n_fft=n_fft, hop_length=hop, method="pghi+fgla", n_iter=4,
        **params,
    )
    assert r["y_hat"].shape == tone.shape and r["y_hat"].dtype == np.float32
    assert r["sc_db"] == pytest.approx(sweep.reconstruction_error(tone, r["y_hat"])["sc_db"])
    assert r["sc_db"] < -5  # a reconstruction, not noise
    assert r["n_features"] == n_features and r["hop_length"] == hop and r["n_fft"] == n_fft
    assert r["representation"] == representation and r["params"] == params
    assert r["seconds"] == pytest.approx(r["encode_seconds"] + r["decode_seconds"])


def test_evaluate_setting_default_hop(tone, sr):
    assert widgets.evaluate_setting(tone, sr=sr, representation="linear", n_fft=512, n_iter=0)["hop_length"] == 128


def test_more_iterations_lower_sc(tone, sr):
    common = dict(sr=sr, representation="log", n_fft=512, hop_length=128, method="gla", seed=0)
    few = widgets.evaluate_setting(tone, n_iter=2, **common)
    many = widgets.evaluate_setting(tone, n_iter=40, **common)
    assert many["sc_db"] < few["sc_db"] - 1.0


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"representation": "mel", "n_fft": 256, "n_mels": 200}, "n_mels"),
        ({"representation": "dct"}, "representation"),
        ({"representation": "log", "n_mels": 64}, "no parameter"),
        ({"method": "magic"}, "magic"),
        ({"n_fft": 1000}, "n_fft"),
        ({"n_iter": -1}, "n_iter"),
        ({"hop_length": 0}, "hop_length"),
        ({"sr": 0}, "sr"),
    ],
)
def test_evaluate_setting_rejects_bad_parameters(tone, sr, kwargs, match):
    kw = {"sr": sr, **kwargs}
    with pytest.raises(ParameterError, match=match):
        widgets.evaluate_setting(tone, **kw)


@pytest.mark.parametrize("signal, match", [(np.zeros((2, 4096)), "mono"), (np.zeros(4096), "all zeros")])
def test_evaluate_setting_rejects_bad_signals(sr, signal, match):
    with pytest.raises(ParameterError, match=match):
        widgets.evaluate_setting(signal.astype(np.float32), sr=sr)


def test_static_comparison_table_and_spectrograms(tone, sr):
    grid = [
        {"representation": "log", "n_fft": 512, "hop_length": 128, "method": "pghi", "n_iter": 0},
        {"representation": "mel", "n_fft": 512, "hop_length": 128, "n_mels": 40, "method": "pghi+fgla", "n_iter": 4},
    ]
    comp = widgets.static_comparison(tone, sr=sr, settings=grid)
    text = comp._repr_html_()
    assert text.count("<table") == 1
    assert text.count("<audio") == 3  # the original + one per setting
    assert text.count('src="data:audio/ogg;base64,') == 3  # players hold Ogg Vorbis (display.audio_data_uri)
    for r in comp.results:
        assert f">{round(r['sc_db'], 1)}</td>" in text  # a cell of the pandas-rendered table
        assert f"{r['n_features']} × {r['frames_per_second']:.1f}" in text
    rows = comp.rows()
    assert isinstance(rows, pd.DataFrame) and "y_hat" not in rows and rows["n_features"].tolist() == [257, 40]
    assert "mel-40 512/128, pghi+fgla × 4" in repr(comp)
    axes = widgets.plot_reconstructions(tone, comp.results, sr=sr)
    titles = [ax.get_title() for ax in axes if ax.get_visible()]
    assert titles[0] == "original" and len(titles) == 3
    assert titles[2].startswith("mel-40 512/128") and f"SC {comp.results[1]['sc_db']:.1f} dB" in titles[2]
    plt.close("all")


def test_static_comparison_shows_figure_then_table(tone, sr, monkeypatch):
    import IPython.display

    shown = []
    monkeypatch.setattr(IPython.display, "display", lambda obj: shown.append(obj))
    grid = [{"representation": "linear", "n_fft": 256, "hop_length": 64, "method": "pghi", "n_iter": 0}]
    widgets.static_comparison(tone, sr=sr, settings=grid)._ipython_display_()
    assert isinstance(shown[0], matplotlib.figure.Figure) and len(shown[0].axes) == 2
    assert shown[1]._repr_html_().count("<audio") == 2


def test_plot_reconstructions_needs_enough_axes(tone, sr):
    r = widgets.evaluate_setting(tone, sr=sr, representation="linear", n_fft=256, n_iter=0)
    _, ax = plt.subplots()
    with pytest.raises(ParameterError, match="needs 2 axes"):
        widgets.plot_reconstructions(tone, [r], sr=sr, axes=[ax])
    plt.close("all")


@pytest.mark.parametrize("settings", [[], [("log", 512)]])
def test_static_comparison_rejects_bad_grid(tone, sr, settings):
    with pytest.raises(ParameterError, match="settings"):
        widgets.static_comparison(tone, sr=sr, settings=settings)


def test_compare_settings_falls_back_without_kernel(tone, sr):
    assert not widgets.widgets_available()  # pytest runs no IPython kernel
    grid = [{"representation": "linear", "n_fft": 256, "hop_length": 64, "method": "pghi", "n_iter": 0}]
    out = widgets.compare_settings(tone[: sr // 2], sr=sr, settings=grid)
    assert isinstance(out, widgets.StaticComparison)
    assert out._repr_html_().count("<audio") == 2


def test_headless_means_static(monkeypatch):
    monkeypatch.setenv(widgets.ENV_HEADLESS, "1")
    assert not widgets.widgets_available()


def test_compare_settings_builds_live_panel(tone, sr):
    ipywidgets = pytest.importorskip("ipywidgets")
    panel = widgets.compare_settings(
        tone[: sr // 2], sr=sr, static=False, n_ffts=(256, 512), n_mels_options=(32,), methods=("pghi", "fgla")
    )
    assert isinstance(panel, ipywidgets.VBox)
    controls, out = panel.children
    assert isinstance(out, ipywidgets.Output)
    found = {w.description: w for box in controls.children for w in getattr(box, "children", [box])}
    assert set(found) >= {"n_fft", "hop / n_fft", "representation", "n_mels", "bins/octave", "phase", "iterations"}
    assert found["n_mels"].disabled and found["bins/octave"].disabled  # only for mel, logfreq
    found["representation"].value = "logfreq"  # triggers a recomputation
    assert found["n_mels"].disabled and not found["bins/octave"].disabled
    plt.close("all")
