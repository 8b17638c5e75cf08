"""Tests for musiclib.display: plots return the axes they drew on; players embed playable, compressed
audio in one pandas table; setup_notebook keeps notebooks quiet; headlines, listings, progress lines."""

from __future__ import annotations

import base64
import io
import logging
import os
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


@pytest.fixture(autouse=True)
def _restore_globals(monkeypatch):
    """setup_notebook changes process-wide settings; put them back after each test."""
    printoptions = np.get_printoptions()
    tf_level = logging.getLogger("tensorflow").level
    monkeypatch.delenv("TF_CPP_MIN_LOG_LEVEL", raising=False)  # restored by monkeypatch afterwards
    yield
    np.set_printoptions(**printoptions)
    logging.getLogger("tensorflow").setLevel(tf_level)


@pytest.fixture(scope="module")
def S(mix):
    import librosa

    return np.abs(librosa.stft(mix, n_fft=1024, hop_length=256))


def _drew(ax) -> bool:
    return len(ax.images) + len(ax.collections) + len(ax.lines) > 0


def _decode_players(html_text, mime="audio/ogg"):
    uris = re.findall(rf'<audio[^>]*src="data:{mime};base64,([A-Za-z0-9+/=]+)"', html_text)
    return [sf.read(io.BytesIO(base64.b64decode(u)), dtype="float32") for u in uris]


def _decode_uri(uri):
    head, _, payload = uri.partition(",")
    return head, sf.read(io.BytesIO(base64.b64decode(payload)), dtype="float32")


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


def test_setup_notebook_quiets_tensorflow_and_numpy_reprs():
    assert "np.float64" in repr({"flux": np.float64(4.05)})  # NumPy 2's repr, before
    display.setup_notebook(seed=0)
    assert os.environ["TF_CPP_MIN_LOG_LEVEL"] == "3"  # read by TensorFlow's C++ logging at import
    assert logging.getLogger("tensorflow").getEffectiveLevel() == logging.ERROR
    assert repr({"flux": np.float64(4.05), "n": np.int64(3)}) == "{'flux': 4.05, 'n': 3}"
    assert str(np.array([1.5, 2.0])) == "[1.5 2. ]"  # arrays print as before


def test_setup_notebook_keeps_a_chosen_tf_log_level(monkeypatch):
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "1")
    display.setup_notebook(seed=0)
    assert os.environ["TF_CPP_MIN_LOG_LEVEL"] == "1"


def test_figure_alt_text_from_titles():
    fig, (a, b) = plt.subplots(1, 2)
    a.set_title("held out")
    b.set_title("LSTM")
    assert display._figure_alt(fig) == "Figure: held out; LSTM"
    fig.suptitle("log-mel spectrograms")
    assert display._figure_alt(fig) == "Figure: log-mel spectrograms (held out; LSTM)"
    b.set_visible(False)
    assert display._figure_alt(fig) == "Figure: log-mel spectrograms (held out)"
    fig2, ax = plt.subplots()
    assert display._figure_alt(fig2) == "Figure"
    ax.set(xlabel="epoch", ylabel="MSE")
    assert display._figure_alt(fig2) == "Figure: MSE against epoch"
    ax.set_title("x" * 500)
    text = display._figure_alt(fig2, max_chars=100)
    assert len(text) == 100 and text.endswith("\u2026")


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
    [(np.ones(10), "2-D"), (np.full((5, 5), np.nan), "NaN"), (np.zeros((0, 3)), "empty")],
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
    assert text.count("<audio") == 3 and text.count('preload="none"') == 3
    assert "three &lt;clips&gt;" in text  # escaped
    assert "data:audio/wav" not in text  # compressed, not WAV
    decoded = _decode_players(text)
    assert len(decoded) == 3
    for (label, y), (data, file_sr) in zip(clips.items(), decoded):
        assert file_sr == sr
        assert data.shape == (len(y),)  # mono, same length
        assert np.max(np.abs(data)) == pytest.approx(display.PEAK, abs=0.03)  # peak-normalised per clip
        assert np.max(np.abs(data)) < 1.0  # the codec's overshoot stays below full scale
        assert label in text
        ref = y / np.max(np.abs(y)) * display.PEAK
        assert np.corrcoef(data, ref)[0, 1] > 0.99  # the same sound, through a lossy codec
    assert text == table._repr_html_()  # the same clips give the same page


def test_audio_table_is_a_pandas_frame(sr):
    y = 0.25 * synth.tone(330.0, duration=0.2, sr=sr)
    table = display.audio_table(
        [("a <b>", (y, {"SC (dB)": -21.5, "n_fft": 1024, "note": "x&y"})), ("b", (y, {"SC (dB)": -9.25}))], sr=sr
    )
    frame = table.to_frame()
    assert list(frame.columns) == ["SC (dB)", "n_fft", "note", "listen"]
    assert list(frame.index) == ["a <b>", "b"]
    assert frame.loc["a <b>", "n_fft"] == 1024 and np.isnan(frame.loc["b", "n_fft"])
    assert all(u.startswith("data:audio/ogg;base64,") for u in frame["listen"])
    text = table._repr_html_()
    assert "a &lt;b&gt;" in text and "x&amp;y" in text and "a <b>" not in text
    assert ">1024<" in text and ">-21.5<" in text and "NaN" not in text and "nan" not in text


def test_audio_table_pairs_extra_columns_and_no_normalize(sr):
    y = 0.25 * synth.tone(330.0, duration=0.2, sr=sr)
    table = display.audio_table(
        [("a", (y, {"SC (dB)": -21.5, "n_fft": 1024})), ("b", (y, {"SC (dB)": -9.25}))],
        sr=sr,
        normalize=False,
    )
    assert table.columns == ["SC (dB)", "n_fft"]
    assert len(table) == 2
    text = table._repr_html_()
    assert "-21.5" in text and "-9.25" in text and "1024" in text
    assert text.count("<audio") == 2
    data, _ = _decode_players(text)[0]
    assert np.max(np.abs(data)) == pytest.approx(np.max(np.abs(y)), abs=0.02)  # level kept
    assert "2 clips" in repr(table)


@pytest.mark.parametrize("fmt, mime", [("wav", "audio/wav"), ("flac", "audio/flac")])
def test_audio_data_uri_lossless_formats_round_trip(sr, fmt, mime):
    y = synth.synthetic_mix(duration=1.0, sr=sr, seed=0)
    head, (data, file_sr) = _decode_uri(display.audio_data_uri(y, sr=sr, format=fmt))
    assert head == f"data:{mime};base64" and file_sr == sr
    assert np.allclose(data, y / np.max(np.abs(y)) * display.PEAK, atol=1e-4)  # 16-bit


def test_audio_data_uri_ogg_is_much_smaller_than_wav(mix, sr):
    ogg = display.audio_data_uri(mix, sr=sr)
    wav = display.audio_data_uri(mix, sr=sr, format="wav")
    assert ogg.startswith("data:audio/ogg;base64,")
    assert base64.b64decode(ogg.partition(",")[2])[:4] == b"OggS"
    assert len(ogg) * 4 < len(wav), (len(ogg), len(wav))
    _, (data, file_sr) = _decode_uri(ogg)
    assert file_sr == sr and len(data) == len(mix)


def test_audio_data_uri_rejects_bad_input(sr):
    with pytest.raises(ParameterError, match="format"):
        display.audio_data_uri(np.zeros(10), sr=sr, format="mp4")
    with pytest.raises(ParameterError, match="sr"):
        display.audio_data_uri(np.zeros(10), sr=-1)
    with pytest.raises(ParameterError, match="NaN"):
        display.audio_data_uri(np.array([0.0, np.inf]), sr=sr)


@pytest.mark.parametrize(
    "clips, match",
    [
        ({"nan": np.array([0.0, np.nan, 0.1], dtype=np.float32)}, "NaN"),
        ({"inf": np.array([0.0, np.inf], dtype=np.float32)}, "clip 'inf' must be finite; it holds 0 NaN and 1 inf"),
        ({"stereo": np.zeros((2, 100), dtype=np.float32)}, "clip 'stereo' must be a mono signal"),
        ({"empty": np.zeros(0, dtype=np.float32)}, r"clip 'empty' has 0 samples \(empty\)"),
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
    assert np.max(np.abs(data)) <= 1.05  # clipped to full scale (plus the codec's overshoot)


def test_audio_player(sr):
    y = synth.tone(440.0, duration=0.3, sr=sr)
    text = display.audio_player(y, sr=sr)._repr_html_()
    assert text.count("<audio") == 1
    (data, file_sr), = _decode_players(text)
    assert file_sr == sr and len(data) == len(y)
    with pytest.raises(ParameterError, match="NaN"):
        display.audio_player(np.array([np.nan]), sr=sr)


# -- headline, listing, training progress -----------------------------------------------------------


def test_headline_renders_for_the_report_index():
    h = display.headline("Ridge  passes\n7 of 10 <checks>.")
    assert repr(h) == "Result: Ridge passes 7 of 10 <checks>."
    assert h._repr_html_() == '<p class="musiclib-headline"><b>Result:</b> Ridge passes 7 of 10 &lt;checks&gt;.</p>'


@pytest.mark.parametrize("bad", ["", "   ", None, 3])
def test_headline_rejects_empty(bad):
    with pytest.raises(ParameterError, match="sentence"):
        display.headline(bad)


def test_listing_shows_head_and_count(tmp_path):
    from pathlib import Path

    files = [Path(f"/data/loop_{i:02d}.flac") for i in range(37)]
    shown = display.listing(files, head=3, name="files")
    assert len(shown) == 37
    assert str(shown) == repr(shown) == "37 files: loop_00.flac, loop_01.flac, loop_02.flac and 34 more"
    text = shown._repr_html_()
    assert text.startswith('<details class="musiclib-listing"><summary>37 files:')
    assert text.count("<li>") == 37 and "loop_36.flac" in text
    short = display.listing(["a <b>", "c"], head=5)
    assert str(short) == "2 items: a <b>, c"
    assert short._repr_html_() == '<p class="musiclib-listing">2 items: a &lt;b&gt;, c</p>'
    assert str(display.listing([], name="clips")) == "0 clips"


@pytest.mark.parametrize(
    "kwargs, match", [({"items": "abc"}, "iterable"), ({"items": 3}, "iterable"),
                      ({"items": [1], "head": 0}, "head"), ({"items": [1], "name": 2}, "name")]
)
def test_listing_rejects_bad_input(kwargs, match):
    with pytest.raises(ParameterError, match=match):
        display.listing(**kwargs)


@pytest.mark.slow
def test_training_progress_prints_one_line(capsys):
    keras = pytest.importorskip("keras")
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    x = np.random.default_rng(0).standard_normal((16, 3)).astype("float32")
    model.fit(x, x[:, :1], epochs=3, verbose=0, callbacks=[display.training_progress(3, label="dense")])
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1 and re.fullmatch(r"dense: epoch 3/3, [0-9.]+ s, loss [0-9.e+-]+", lines[0]), lines
    with pytest.raises(ParameterError, match="epochs"):
        display.training_progress(0)


# ---------------------------------------------------------------------------------------------
# raw_and_processed: the listening table of every generating notebook
# ---------------------------------------------------------------------------------------------
def test_raw_and_processed_pairs_each_clip_with_its_levels():
    from musiclib.display import raw_and_processed
    from musiclib.postprocess import loudness
    from musiclib.synth import synthetic_mix

    sr = 22050
    quiet = 0.05 * synthetic_mix(duration=3.0, seed=0)
    loud = 2.5 * synthetic_mix(duration=3.0, seed=1)  # beyond full scale, as a raw model output can be
    t = raw_and_processed({"quiet": quiet, "loud": loud}, sr=sr, loudness_lufs=-16.0)
    assert [label for label, _, _ in t.rows] == ["quiet: raw", "quiet: post-processed",
                                                 "loud: raw", "loud: post-processed"]
    assert t.columns == ["LUFS", "true peak (dBTP)"]
    raw_q, pp_q = t.rows[0], t.rows[1]
    assert raw_q[2]["LUFS"] == pytest.approx(loudness(quiet, sr=sr), abs=0.1)
    assert pp_q[2]["LUFS"] == pytest.approx(-16.0, abs=1.0)
    assert pp_q[2]["true peak (dBTP)"] <= -1.0 + 0.05
    assert t.rows[2][2]["true peak (dBTP)"] > 0.0  # the raw loud clip's true level is reported...
    assert np.max(np.abs(t.rows[2][1])) <= 1.0 + 1e-6  # ...and only the player is scaled
    assert not t.normalize and t._repr_html_().count("<audio") == 4


def test_raw_and_processed_rejects_bad_input():
    from musiclib.display import raw_and_processed

    y = np.zeros(100, dtype=np.float32) + 0.1
    with pytest.raises(ParameterError, match="no clips"):
        raw_and_processed({}, sr=22050)
    with pytest.raises(ParameterError, match="bad"):
        raw_and_processed({"bad": np.array([0.1, np.nan])}, sr=22050)
    with pytest.raises(ParameterError):
        raw_and_processed({"a": y}, sr=0)
    with pytest.raises(ParameterError):
        raw_and_processed({"a": y}, sr=22050, loudness_lufs="loud")
