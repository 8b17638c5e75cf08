"""Tests for musiclib.widgets: the pure evaluation, the static fallback, and the live panel's construction."""

from __future__ import annotations

import re

import matplotlib
import numpy as np
import pytest

from musiclib import synth, widgets
from musiclib.errors import ParameterError

matplotlib.use("Agg")

KEYS = {"y_hat", "sc_db", "lsd_db", "seconds", "n_frames", "n_features", "nbytes", "real_time_factor"}


@pytest.fixture(scope="module")
def tone(sr):
    """1 s harmonic tone with a fade, so the magnitude has structure in time and frequency."""
    y = synth.tone(330.0, duration=1.0, sr=sr, n_harmonics=5)
    return (y * np.linspace(1.0, 0.3, len(y))).astype(np.float32)


@pytest.mark.parametrize(
    "representation, n_fft, hop, n_mels, n_features",
    [("linear", 512, 128, 64, 257), ("log", 1024, 512, 64, 513), ("mel", 1024, 256, 64, 64)],
)
def test_evaluate_setting_keys_and_sizes(tone, sr, representation, n_fft, hop, n_mels, n_features):
    r = widgets.evaluate_setting(
        tone, sr=sr, representation=representation, n_fft=n_fft, hop_length=hop, n_mels=n_mels,
        method="pghi+fgla", n_iter=4,
    )
    assert KEYS <= set(r)
    assert r["y_hat"].shape == tone.shape and r["y_hat"].dtype == np.float32
    assert np.isfinite(r["sc_db"]) and np.isfinite(r["lsd_db"])
    assert r["sc_db"] < 0  # a reconstruction, not noise
    assert r["n_features"] == n_features
    assert r["n_frames"] == 1 + len(tone) // hop
    assert r["nbytes"] == r["n_frames"] * r["n_features"] * 4
    assert r["seconds"] > 0 and r["real_time_factor"] == pytest.approx(len(tone) / sr / r["seconds"])
    assert r["hop_length"] == hop and r["n_fft"] == n_fft
    assert r["n_mels"] == (n_mels if representation == "mel" else None)


def test_evaluate_setting_default_hop(tone, sr):
    r = widgets.evaluate_setting(tone, sr=sr, representation="linear", n_fft=512, n_iter=0)
    assert r["hop_length"] == 128


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
        ({"method": "magic"}, "method"),
        ({"n_fft": 1000}, "n_fft"),
        ({"n_iter": -1}, "n_iter"),
        ({"hop_length": 0}, "hop_length"),
    ],
)
def test_evaluate_setting_rejects_bad_parameters(tone, sr, kwargs, match):
    with pytest.raises(ParameterError, match=match):
        widgets.evaluate_setting(tone, sr=sr, **kwargs)


def test_evaluate_setting_rejects_stereo(sr):
    with pytest.raises(ParameterError, match="mono"):
        widgets.evaluate_setting(np.zeros((2, 4096), dtype=np.float32), sr=sr)


def test_static_comparison_table(tone, sr):
    grid = [
        {"representation": "log", "n_fft": 512, "hop_length": 128, "method": "pghi", "n_iter": 0},
        {"representation": "mel", "n_fft": 512, "hop_length": 128, "n_mels": 40, "method": "pghi+fgla", "n_iter": 4},
    ]
    comp = widgets.static_comparison(tone, sr=sr, settings=grid)
    assert len(comp.results) == 2
    text = comp._repr_html_()
    assert text.count("<table") == 1
    assert text.count("<audio") == 3  # the original + one per setting
    assert len(re.findall(r'src="data:audio/ogg;base64,', text)) == 3  # players hold Ogg Vorbis (display.audio_data_uri)
    for r in comp.results:
        assert f"{round(r['sc_db'], 1):.3g}" in text
        assert f"{r['n_frames']} × {r['n_features']}" in text
    rows = comp.rows()
    assert "y_hat" not in rows[0] and rows[1]["n_mels"] == 40
    assert "mel n_fft=512" in repr(comp)


def test_static_comparison_rejects_empty_grid(tone, sr):
    with pytest.raises(ParameterError, match="empty"):
        widgets.static_comparison(tone, sr=sr, settings=[])


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
    assert set(found) >= {"n_fft", "hop / n_fft", "representation", "n_mels", "phase", "iterations"}
    assert found["n_mels"].disabled  # only for mel
    found["representation"].value = "mel"  # triggers a recomputation
    assert not found["n_mels"].disabled
