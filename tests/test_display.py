"""Tests for musiclib.display: plots return the axes they drew on; players embed playable WAV."""

from __future__ import annotations

import base64
import io
import random
import re

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest
import soundfile as sf

from musiclib import display, synth
from musiclib.errors import ParameterError

matplotlib.use("Agg")


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def S(mix):
    import librosa

    return np.abs(librosa.stft(mix, n_fft=1024, hop_length=256))


def _drew(ax) -> bool:
    return len(ax.images) + len(ax.collections) + len(ax.lines) > 0


def _decode_players(html_text):
    uris = re.findall(r'<audio[^>]*src="data:audio/wav;base64,([A-Za-z0-9+/=]+)"', html_text)
    return [sf.read(io.BytesIO(base64.b64decode(u)), dtype="float32") for u in uris]


# -- setup_notebook --------------------------------------------------------------------------------


def test_setup_notebook_seeds_everything():
    rng = display.setup_notebook(seed=3)
    a = (rng.random(), np.random.random(), random.random())
    rng = display.setup_notebook(seed=3)
    b = (rng.random(), np.random.random(), random.random())
    assert a == b
    assert isinstance(rng, np.random.Generator)
    assert matplotlib.rcParams["figure.dpi"] == 100
    assert matplotlib.rcParams["figure.autolayout"]
    c = display.setup_notebook(seed=4).random()
    assert c != a[0]


@pytest.mark.parametrize("seed", [-1, 1.5, "0", True])
def test_setup_notebook_rejects_bad_seed(seed):
    with pytest.raises(ParameterError, match="seed"):
        display.setup_notebook(seed=seed)


# -- plots -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("y_axis", ["log", "linear", None])
@pytest.mark.parametrize("db", [True, False])
def test_plot_spectrogram_uses_given_axes(S, sr, y_axis, db):
    fig, ax = plt.subplots()
    out = display.plot_spectrogram(S, sr=sr, hop_length=256, ax=ax, y_axis=y_axis, db=db, title="t")
    assert out is ax
    assert _drew(ax)
    assert ax.get_title() == "t"
    mesh = ax.collections[0]
    if db:  # 0 dB at the maximum, down to vmin_db
        assert mesh.get_clim() == (-80.0, 0.0)


def test_plot_spectrogram_creates_axes(S, sr):
    ax = display.plot_spectrogram(S, sr=sr, hop_length=256, colorbar=False)
    assert ax is not None and _drew(ax)
    # time axis spans the signal (frames * hop / sr seconds)
    assert ax.get_xlim()[1] == pytest.approx(S.shape[1] * 256 / sr, rel=0.05)


def test_plot_spectrogram_accepts_complex_and_mel(mix, sr):
    import librosa

    D = librosa.stft(mix, n_fft=512, hop_length=128)
    assert _drew(display.plot_spectrogram(D, sr=sr, hop_length=128))
    M = librosa.feature.melspectrogram(y=mix, sr=sr, n_fft=1024, hop_length=256, n_mels=64, power=1)
    assert _drew(display.plot_spectrogram(M, sr=sr, hop_length=256, y_axis="mel"))


@pytest.mark.parametrize(
    "bad, match",
    [(np.ones(10), "2-D"), (np.full((5, 5), np.nan), "NaN"), (np.zeros((0, 3)), "non-empty")],
)
def test_plot_spectrogram_rejects_bad_input(sr, bad, match):
    with pytest.raises(ParameterError, match=match):
        display.plot_spectrogram(bad, sr=sr, hop_length=256)


def test_plot_spectrogram_rejects_bad_hop(S, sr):
    with pytest.raises(ParameterError, match="hop_length"):
        display.plot_spectrogram(S, sr=sr, hop_length=0)


@pytest.mark.parametrize(
    "name, params",
    [
        ("linear", {"n_fft": 512}),
        ("log", {"n_fft": 512}),
        ("mel", {"n_fft": 1024, "n_mels": 64}),
        ("mel", {"n_fft": 1024, "n_mels": 64, "scale": "db"}),
        ("dct", {"block_length": 256}),
        ("raw", {"block_length": 256}),
    ],
)
def test_plot_representation(mix, name, params):
    from musiclib.representations import make_representation

    rep = make_representation(name, **params)
    frames = rep.encode(mix[:22050])
    fig, ax = plt.subplots()
    assert display.plot_representation(frames, rep, ax=ax) is ax
    assert _drew(ax)
    assert name in ax.get_title()
    assert _drew(display.plot_representation(frames, rep, colorbar=False))


def test_plot_representation_checks_shape(mix):
    from musiclib.representations import make_representation

    rep = make_representation("log", n_fft=512)
    frames = rep.encode(mix[:22050])
    with pytest.raises(ParameterError, match="features"):
        display.plot_representation(frames.T, rep)


def test_plot_waveform_beats_onsets_loudness(mix, sr):
    fig, (a1, a2) = plt.subplots(2, 1)
    assert display.plot_waveform(mix, sr=sr, ax=a1, title="w") is a1
    assert _drew(a1)
    n = len(a1.lines)
    assert display.plot_beats([0.5, 1.0, 1.5], ax=a1) is a1
    assert len(a1.lines) == n + 3
    assert display.plot_onsets(np.array([0.25]), ax=a1) is a1
    assert len(a1.lines) == n + 4
    assert display.plot_loudness(mix, sr=sr, ax=a2) is a2
    (line,) = a2.lines
    level = line.get_ydata()
    assert np.all(np.isfinite(level)) and level.max() <= 0.0 and level.max() > -30.0
    assert _drew(display.plot_waveform(mix, sr=sr))
    assert _drew(display.plot_loudness(mix, sr=sr))


def test_plot_loudness_of_silence_is_floored(sr):
    ax = display.plot_loudness(np.zeros(sr, dtype=np.float32), sr=sr, floor_db=-90.0)
    assert np.allclose(ax.lines[0].get_ydata(), -90.0)


def test_plot_beats_needs_axes():
    with pytest.raises(TypeError):
        display.plot_beats([1.0])  # ax is a required keyword
    with pytest.raises(ParameterError, match="ax"):
        display.plot_beats([1.0], ax=None)


def test_plot_waveform_rejects_nan(sr):
    y = np.zeros(100, dtype=np.float32)
    y[3] = np.nan
    with pytest.raises(ParameterError, match="NaN"):
        display.plot_waveform(y, sr=sr)


# -- players ---------------------------------------------------------------------------------------


def test_audio_table_one_table_n_players(sr):
    clips = {
        "tone": synth.tone(440.0, duration=0.5, sr=sr),
        "quiet": 0.01 * synth.tone(220.0, duration=0.25, sr=sr),
        "drums": synth.drum_loop(duration=1.0, sr=sr),
    }
    table = display.audio_table(clips, sr=sr, title="three <clips>")
    text = table._repr_html_()
    assert text.count("<table") == 1 and text.count("</table>") == 1
    assert text.count("<audio") == 3
    assert "three &lt;clips&gt;" in text  # escaped
    decoded = _decode_players(text)
    assert len(decoded) == 3
    for (label, y), (data, file_sr) in zip(clips.items(), decoded):
        assert file_sr == sr
        assert data.shape == (len(y),)  # mono, same length
        assert np.max(np.abs(data)) == pytest.approx(0.99, abs=1e-3)  # peak-normalised per clip
        assert label in text
    # the waveform survives 16-bit encoding (up to the normalisation gain)
    y = clips["tone"]
    assert np.allclose(decoded[0][0], y / np.max(np.abs(y)) * 0.99, atol=1e-3)


def test_audio_table_pairs_extra_columns_and_no_normalize(sr):
    y = 0.25 * synth.tone(330.0, duration=0.2, sr=sr)
    table = display.audio_table(
        [("a", (y, {"SC (dB)": -21.5, "n_fft": 1024})), ("b", (y, {"SC (dB)": -9.25}))],
        sr=sr,
        normalize=False,
    )
    assert table.columns == ["SC (dB)", "n_fft"]
    text = table._repr_html_()
    assert "-21.5" in text and "-9.25" in text and "1024" in text
    assert text.count("<audio") == 2
    data, _ = _decode_players(text)[0]
    assert np.max(np.abs(data)) == pytest.approx(np.max(np.abs(y)), abs=1e-3)  # level kept
    assert "2 clips" in repr(table)


@pytest.mark.parametrize(
    "clips, match",
    [
        ({"nan": np.array([0.0, np.nan, 0.1], dtype=np.float32)}, "NaN"),
        ({"inf": np.array([0.0, np.inf], dtype=np.float32)}, "NaN or infinite"),
        ({"stereo": np.zeros((2, 100), dtype=np.float32)}, "1-D"),
        ({"empty": np.zeros(0, dtype=np.float32)}, "non-empty"),
        ({}, "no clips"),
        ([("a",)], "pairs"),
    ],
)
def test_audio_table_rejects_bad_clips(sr, clips, match):
    with pytest.raises(ParameterError, match=match):
        display.audio_table(clips, sr=sr)


def test_audio_table_rejects_bad_sr():
    with pytest.raises(ParameterError, match="sr"):
        display.audio_table({"a": np.zeros(10)}, sr=0)


def test_audio_table_clips_without_normalize_warns(sr):
    table = display.audio_table({"loud": np.array([0.0, 2.0, -2.0], dtype=np.float32)}, sr=sr, normalize=False)
    with pytest.warns(UserWarning, match="clipped"):
        text = table._repr_html_()
    data, _ = _decode_players(text)[0]
    assert np.max(np.abs(data)) <= 1.0


def test_audio_player(sr):
    y = synth.tone(440.0, duration=0.3, sr=sr)
    text = display.audio_player(y, sr=sr)._repr_html_()
    assert text.count("<audio") == 1
    (data, file_sr), = _decode_players(text)
    assert file_sr == sr and len(data) == len(y)
    with pytest.raises(ParameterError, match="NaN"):
        display.audio_player(np.array([np.nan]), sr=sr)
