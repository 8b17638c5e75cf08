"""Tests for musiclib.postprocess: loudness and true peak, filters' frequency response, fades, de-clicking,
layering, the recorded settings, pre-processing of training audio (corpus and feature cache), bad input."""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pytest

from musiclib import postprocess as pp
from musiclib import synth
from musiclib.errors import ParameterError

SR = 22050


def _noise(seconds=4.0, scale=1.0, seed=0):
    return scale * np.random.default_rng(seed).standard_normal(int(seconds * SR))


INPUTS = {
    "music": lambda: synth.synthetic_mix(duration=8.0, sr=SR, seed=0),
    "drums": lambda: synth.drum_loop(duration=8.0, sr=SR, bpm=120, seed=1),
    "very loud": lambda: 40.0 * synth.synthetic_mix(duration=6.0, sr=SR, seed=2),  # +32 dB, far beyond full scale
    "very quiet": lambda: 1e-4 * synth.synthetic_mix(duration=6.0, sr=SR, seed=3),  # -96 dB, under BS.1770's gate
    "loud noise": lambda: _noise(4.0, 3.0),
    "near Nyquist": lambda: 0.9 * np.sin(2 * np.pi * (SR / 4 + 17) * np.arange(3 * SR) / SR + 0.3),
}


# -- loudness and true peak -------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(INPUTS))
@pytest.mark.parametrize("target, limit", [(-14.0, -1.0), (-23.0, -2.0)])
def test_loudness_reaches_target_and_true_peak_stays_below_limit(name, target, limit):
    y = INPUTS[name]()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # reaching the target must not need the "limit wins" warning
        z = pp.postprocess(y, sr=SR, loudness_lufs=target, true_peak_db=limit)
    assert z.dtype == np.float32 and z.shape == y.shape and np.all(np.isfinite(z))
    assert abs(pp.loudness(z, sr=SR) - target) <= 1.0
    assert pp.true_peak_db(z) <= limit
    assert pp.true_peak_db(z, oversample=8) <= limit + 0.1  # a finer estimate agrees


def test_true_peak_exceeds_sample_peak_near_nyquist():
    """The 4x oversampled peak sees inter-sample peaks that the sample peak misses."""
    n = np.arange(SR)
    y = 0.5 * np.sin(2 * np.pi * (SR / 4) * n / SR + np.pi / 4)  # samples at +-0.354, waveform at +-0.5
    assert 20 * np.log10(np.max(np.abs(y))) == pytest.approx(-9.03, abs=0.05)
    assert pp.true_peak_db(y) == pytest.approx(-6.02, abs=0.2)  # (the abrupt start rings a little)


def test_limit_true_peak_alone():
    y = 4.0 * synth.synthetic_mix(duration=3.0, sr=SR)
    z = pp.limit_true_peak(y, sr=SR, true_peak_db=-3.0)
    assert pp.true_peak_db(z) <= -3.0
    quiet = 0.01 * y
    assert np.allclose(pp.limit_true_peak(quiet, sr=SR), quiet.astype(np.float32))  # below the limit: unchanged


def test_normalize_loudness_without_limit_is_a_pure_gain():
    y = synth.synthetic_mix(duration=4.0, sr=SR)
    z = pp.normalize_loudness(y, sr=SR, loudness_lufs=-30.0, true_peak_db=None)
    ratio = z / np.where(y == 0, 1, y)
    assert np.allclose(ratio[np.abs(y) > 1e-3], ratio[np.abs(y) > 1e-3][0], rtol=1e-4)
    assert pp.loudness(z, sr=SR) == pytest.approx(-30.0, abs=0.05)


def test_impossible_target_warns_and_still_respects_the_limit():
    rng = np.random.default_rng(0)
    clicks = np.where(rng.random(SR * 4) < 0.0005, 1.0, 0.0)  # sparse clicks: almost all crest
    with pytest.warns(UserWarning, match="true-peak limit"):
        z = pp.postprocess(clicks, sr=SR, loudness_lufs=-6.0, true_peak_db=-1.0, fade_in=0, fade_out=0)
    assert pp.true_peak_db(z) <= -1.0 and np.all(np.isfinite(z))


@pytest.mark.parametrize("y", [np.zeros(SR), np.zeros(1), np.full(SR, 1e-9)], ids=["zeros", "one zero", "1e-9"])
def test_silence_stays_silent(y):
    z = pp.postprocess(y, sr=SR)
    assert np.all(np.isfinite(z)) and np.max(np.abs(z)) <= np.max(np.abs(y)) + 1e-12
    assert pp.loudness(y, sr=SR) == -math.inf


def test_dc_offset_stays_within_the_limit():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a constant cannot reach -14 LUFS under -1 dBTP
        z = pp.postprocess(np.full(SR, 0.5), sr=SR, fade_in=0, fade_out=0)
    assert np.all(np.isfinite(z)) and pp.true_peak_db(z) <= -1.0
    z = pp.postprocess(0.5 + 0.1 * synth.synthetic_mix(duration=3.0, sr=SR), sr=SR, highpass_hz=20.0)
    assert abs(float(np.mean(z[SR:]))) < 0.01 and abs(pp.loudness(z, sr=SR) + 14.0) <= 1.0  # the high-pass takes the DC


def test_one_sample_and_short_clips():
    for n in (1, 2, 100, 5000):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the shortest cannot reach the target under the limit
            z = pp.postprocess(0.3 * np.sin(np.arange(n) * 0.3) + 0.1, sr=SR)
        assert z.shape == (n,) and np.all(np.isfinite(z))
        assert n < 2 or pp.true_peak_db(z) <= -1.0


def test_loudness_of_a_known_tone():
    """BS.1770: a 1 kHz sine at -3.01 dBFS RMS (full-scale peak) reads about -3 LUFS (K-weighting ~ +0.7 dB at 1 kHz)."""
    y = np.sin(2 * np.pi * 1000 * np.arange(5 * SR) / SR)
    assert pp.loudness(y, sr=SR) == pytest.approx(-3.0, abs=0.8)
    assert pp.loudness(0.1 * y, sr=SR) == pytest.approx(pp.loudness(y, sr=SR) - 20, abs=0.01)


# -- filters and EQ ---------------------------------------------------------------------------------


def _response_db(freqs, **filters):
    """Magnitude response in dB at ``freqs`` of filter_audio's filters, from its impulse response."""
    n = 1 << 16
    impulse = np.zeros(n)
    impulse[0] = 1.0
    h = pp.filter_audio(impulse, sr=SR, **filters).astype(np.float64)
    H = np.abs(np.fft.rfft(h))
    f = np.fft.rfftfreq(n, 1 / SR)
    return 20 * np.log10(np.interp(freqs, f, H) + 1e-300)


@pytest.mark.parametrize("cutoff", [100.0, 500.0, 2000.0])
def test_highpass_response(cutoff):
    at, two_octaves_below, two_octaves_above = _response_db([cutoff, cutoff / 4, cutoff * 4], highpass_hz=cutoff)
    assert at == pytest.approx(-3.0, abs=0.3)
    assert two_octaves_below < -40.0  # 4th order: 24 dB per octave
    assert abs(two_octaves_above) < 0.1


@pytest.mark.parametrize("cutoff", [500.0, 2000.0, 6000.0])
def test_lowpass_response(cutoff):
    at, below, above = _response_db([cutoff, cutoff / 4, min(cutoff * 4, SR / 2 - 1)], lowpass_hz=cutoff)
    assert at == pytest.approx(-3.0, abs=0.3)
    assert above < -40.0
    assert abs(below) < 0.1


def test_filter_order_sets_the_slope():
    first, second = (_response_db([125.0], highpass_hz=500.0, filter_order=k)[0] for k in (1, 2))
    assert first == pytest.approx(-12.3, abs=0.5) and second == pytest.approx(-24.1, abs=0.5)


def test_band_pass_and_shelves():
    low, mid, high = _response_db([50.0, 1000.0, 8000.0], highpass_hz=200.0, lowpass_hz=3000.0)
    assert low < -30 and abs(mid) < 0.5 and high < -30
    lo, hi = _response_db([40.0, 9000.0], low_shelf=(300.0, 6.0))
    assert lo == pytest.approx(6.0, abs=0.5) and abs(hi) < 0.5
    lo, hi = _response_db([40.0, 9000.0], high_shelf={"hz": 3000.0, "gain_db": -9.0, "q": 0.7071})
    assert abs(lo) < 0.5 and hi == pytest.approx(-9.0, abs=0.7)


def test_filter_audio_without_filters_is_identity():
    y = synth.synthetic_mix(duration=1.0, sr=SR)
    assert np.array_equal(pp.filter_audio(y, sr=SR), y.astype(np.float32))


def test_postprocess_applies_the_highpass():
    y = 0.3 * np.sin(2 * np.pi * 60 * np.arange(2 * SR) / SR) + 0.3 * np.sin(2 * np.pi * 2000 * np.arange(2 * SR) / SR)
    z = pp.postprocess(y, sr=SR, highpass_hz=500.0, loudness_lufs=None, true_peak_db=None, fade_in=0, fade_out=0)
    spec = np.abs(np.fft.rfft(z[SR // 2 :]))
    f = np.fft.rfftfreq(len(z) - SR // 2, 1 / SR)
    assert spec[np.argmin(np.abs(f - 60))] < 1e-3 * spec[np.argmin(np.abs(f - 2000))]


def test_reverb_adds_a_tail():
    y = np.zeros(SR)
    y[1000:1100] = 0.5
    z = pp.postprocess(y, sr=SR, reverb={"room_size": 0.8, "wet_level": 0.5}, loudness_lufs=None,
                       true_peak_db=None, fade_in=0, fade_out=0)
    assert z.shape == y.shape and np.all(np.isfinite(z))
    assert np.sqrt(np.mean(z[5000:15000] ** 2)) > 1e-3  # energy long after the burst


# -- fades, joins, layers ---------------------------------------------------------------------------


def test_fades():
    y = np.ones(SR)
    z = pp.fade(y, sr=SR, fade_in=0.1, fade_out=0.2)
    assert z[0] == 0 and z[-1] == pytest.approx(0, abs=1e-12)
    assert np.all(np.diff(z[: int(0.1 * SR)]) >= 0) and np.all(np.diff(z[-int(0.2 * SR) :]) <= 0)
    assert np.all(z[int(0.1 * SR) : -int(0.2 * SR)] == 1.0)
    assert z[int(0.05 * SR)] == pytest.approx(0.5, abs=0.01)  # raised cosine: half way at the middle
    short = pp.fade(np.ones(100), sr=SR, fade_in=0.01, fade_out=0.01)  # 441 + 441 samples > 100: scaled to fit
    assert short[0] == 0 and short[-1] < 0.05 and np.max(short) > 0.9
    assert np.array_equal(pp.fade(y, sr=SR, fade_in=0, fade_out=0), y.astype(np.float32))


def _step_signal():
    n = np.arange(SR)
    y = 0.4 * np.sin(2 * np.pi * 220 * n / SR)
    y[SR // 2 :] += 0.5  # a piece joined 0.5 higher: a click
    return y, SR // 2


def test_declick_removes_a_step():
    y, j = _step_signal()
    typical = np.max(np.abs(np.diff(y[: j - 10])))
    assert abs(y[j] - y[j - 1]) > 5 * typical
    z = pp.declick(y, sr=SR, joins=[j], width=0.005).astype(np.float64)
    assert np.max(np.abs(np.diff(z))) <= 1.2 * typical  # no jump left anywhere
    w = int(0.005 * SR)
    assert np.allclose(z[: j - w - 1], y[: j - w - 1], atol=1e-6)  # untouched away from the join
    assert np.allclose(z[j + w + 1 :], y[j + w + 1 :], atol=1e-6)


def test_declick_leaves_a_smooth_join_alone():
    y = 0.4 * np.sin(2 * np.pi * 220 * np.arange(SR) / SR)
    z = pp.declick(y, sr=SR, joins=[1000, 5000])
    assert np.max(np.abs(z - y)) < 1e-3


def test_postprocess_declicks_joins():
    y, j = _step_signal()
    z = pp.postprocess(y, sr=SR, joins=[j], loudness_lufs=None, true_peak_db=None, fade_in=0, fade_out=0)
    assert np.max(np.abs(np.diff(z.astype(np.float64)))) <= 1.2 * np.max(np.abs(np.diff(y[: j - 10])))


def test_layer():
    a, b = np.ones(10), np.ones(6)
    mix = pp.layer([a, b], gains_db=[0.0, -6.0206])
    assert mix.shape == (10,) and mix.dtype == np.float32
    assert np.allclose(mix[:6], 1.5, atol=1e-4) and np.allclose(mix[6:], 1.0)
    assert np.array_equal(pp.layer([a, b]), np.r_[np.full(6, 2.0), np.ones(4)].astype(np.float32))
    x = synth.synthetic_mix(duration=2.0, sr=SR, seed=0)
    assert np.allclose(pp.layer([x, -x]), 0.0, atol=1e-6)  # layers are summed sample by sample
    assert np.array_equal(pp.layer(x), x.astype(np.float32))


# -- recorded settings ------------------------------------------------------------------------------


def test_postprocess_params_round_trip_and_sidecar(tmp_path):
    from musiclib.tools import outputs

    params = pp.postprocess_params(highpass_hz=40, low_shelf=(120, 2), reverb=True, fade_out=1)
    assert params["highpass_hz"] == 40.0
    assert params["low_shelf"] == {"hz": 120.0, "gain_db": 2.0, "q": pytest.approx(0.7071, abs=1e-4)}
    assert params["reverb"]["room_size"] == 0.5 and params["loudness_lufs"] == -14.0
    assert pp.postprocess_params(**params) == params  # idempotent
    y = synth.synthetic_mix(duration=3.0, sr=SR)
    assert np.array_equal(pp.postprocess(y, sr=SR, **params),
                          pp.postprocess(y, sr=SR, highpass_hz=40, low_shelf=(120, 2), reverb=True, fade_out=1))
    json.dumps(params)  # JSON-able as it is
    paths = outputs.save_clips("07_raw_audio", [pp.postprocess(y, sr=SR, **params)], sr=SR, representation="raw",
                               parameters={"model": "test", "postprocess": params}, seed=0, train_seconds=0,
                               generate_seconds=0, root=tmp_path)
    meta = json.loads((paths[0].parent / "meta.json").read_text())
    assert meta["parameters"]["postprocess"] == json.loads(json.dumps(params))


def test_postprocess_params_rejects_unknown_options():
    with pytest.raises(ParameterError, match="loudnes"):
        pp.postprocess_params(loudnes=-14)
    with pytest.raises(ParameterError, match="sr"):
        pp.postprocess_params(sr=SR)


# -- pre-processing of training audio ---------------------------------------------------------------


def _low_share(y, sr, hz=300.0):
    S = np.abs(np.fft.rfft(y)) ** 2
    f = np.fft.rfftfreq(len(y), 1 / sr)
    return S[f < hz].sum() / S.sum()


def test_corpus_preprocess(corpus_dir):
    from musiclib.corpus import load_corpus

    plain = load_corpus(corpus_dir, progress=False)
    high = load_corpus(corpus_dir, progress=False, preprocess={"highpass_hz": 500})
    assert plain.preprocess is None and high.preprocess["highpass_hz"] == 500.0
    for a, b in zip(plain, high):
        assert a.y.shape == b.y.shape and np.all(np.isfinite(b.y))
        assert _low_share(b.y, b.sr) < 0.2 * _low_share(a.y, a.sr) + 1e-9
    train, held = high.split(held_out=0.4, seed=0)
    assert train.preprocess == held.preprocess == high.preprocess
    with pytest.raises(ParameterError, match="hipass"):
        load_corpus(corpus_dir, progress=False, preprocess={"hipass_hz": 500})
    with pytest.raises(ParameterError, match="highpass_hz"):
        load_corpus(corpus_dir, progress=False, preprocess={"highpass_hz": 20000})  # above Nyquist at 22050 Hz


def test_feature_cache_keys_preprocess(tmp_path, corpus_dir):
    from musiclib.framing import load_frames
    from musiclib.representations import MelSpectrogram
    from musiclib.tools.cache import FeatureCache

    rep = MelSpectrogram(n_fft=512, n_mels=32)
    fc = FeatureCache(tmp_path / "cache")
    song = corpus_dir / "mix_a.wav"
    plain_key = fc.key(song, rep)
    assert fc.key(song, rep, preprocess=None) == plain_key == fc.key(song, rep, preprocess={})
    hp = fc.key(song, rep, preprocess={"highpass_hz": 500})
    assert hp != plain_key and hp != fc.key(song, rep, preprocess={"highpass_hz": 600})
    assert hp == fc.key(song, rep, preprocess={"highpass_hz": 500.0, "filter_order": 4})
    plain = fc.features(song, rep)
    filtered = fc.features(song, rep, preprocess={"highpass_hz": 500})
    assert fc.misses == 2 and not np.allclose(plain, filtered)
    again = fc.features(song, rep, preprocess={"highpass_hz": 500})
    assert fc.hits == 1 and np.array_equal(again, filtered)
    # load_frames takes the corpus's own preprocess settings
    from musiclib.corpus import load_corpus

    corpus = load_corpus([song], progress=False, preprocess={"highpass_hz": 500})
    assert np.array_equal(load_frames(corpus, rep, cache=fc)[0], filtered)
    assert fc.hits == 2


# -- bad input --------------------------------------------------------------------------------------

BAD_OPTIONS = [
    ("loudness_lufs", float("nan")), ("loudness_lufs", float("inf")), ("loudness_lufs", 3.0),
    ("loudness_lufs", -200.0), ("loudness_lufs", "loud"), ("true_peak_db", 0.5), ("true_peak_db", float("nan")),
    ("highpass_hz", 0.0), ("highpass_hz", -10.0), ("highpass_hz", float("nan")), ("highpass_hz", SR / 2),
    ("highpass_hz", 1e12), ("lowpass_hz", float("inf")), ("lowpass_hz", "1k"), ("low_shelf", (100.0,)),
    ("low_shelf", "bass"), ("low_shelf", {"hz": 100.0}), ("high_shelf", (3000.0, 100.0)),
    ("high_shelf", (0.0, 3.0)), ("filter_order", 0), ("filter_order", 2.5), ("filter_order", True),
    ("reverb", "hall"), ("reverb", {"size": 0.5}), ("reverb", {"room_size": 2.0}), ("joins", [0]),
    ("joins", [1.5]), ("joins", [[1, 2]]), ("declick_width", 0.0), ("declick_width", float("nan")),
    ("fade_in", -0.1), ("fade_out", float("inf")), ("release_ms", 0.0), ("nonfinite", "ignore"),
]


@pytest.mark.parametrize("name, value", BAD_OPTIONS, ids=[f"{n}={v!r}" for n, v in BAD_OPTIONS])
def test_bad_option_is_a_parameter_error_naming_it(name, value):
    y = synth.synthetic_mix(duration=1.0, sr=SR)
    with pytest.raises(ParameterError, match=name):
        pp.postprocess(y, sr=SR, **{name: value})
    if not (name == "highpass_hz" and value in (SR / 2, 1e12)):  # only postprocess knows sr (Nyquist)
        with pytest.raises(ParameterError, match=name):
            pp.postprocess_params(**{name: value})


def test_highpass_above_lowpass():
    with pytest.raises(ParameterError, match="highpass_hz"):
        pp.postprocess(np.ones(100), sr=SR, highpass_hz=2000.0, lowpass_hz=1000.0)


def test_join_beyond_the_clip():
    with pytest.raises(ParameterError, match="joins"):
        pp.postprocess(np.ones(100), sr=SR, joins=[100])
    with pytest.raises(ParameterError, match="joins"):
        pp.declick(np.ones(100), sr=SR, joins=[5000])


@pytest.mark.parametrize("sr", [0, -1, 22050.0, True, None, "22050"])
def test_bad_sr(sr):
    for fn in (pp.postprocess, pp.filter_audio, pp.fade, pp.loudness):
        with pytest.raises(ParameterError, match="sr"):
            fn(np.ones(100), sr=sr)
    with pytest.raises(ParameterError, match="sr"):
        pp.declick(np.ones(100), sr=sr, joins=[50])


@pytest.mark.parametrize("y, what", [
    (np.zeros(0), "empty"), (np.zeros((2, 100)), "mono"), ("audio", "numpy array"),
    (np.ones(10, dtype=complex), "real"), (np.ones(10, dtype=bool), "real"),
    (np.array([0.1, np.nan, 0.2]), "NaN"), (np.array([0.1, np.inf]), "NaN"),
])
def test_bad_audio(y, what):
    for fn in (pp.postprocess, pp.filter_audio, pp.fade, pp.loudness):
        with pytest.raises(ParameterError, match=what):
            fn(y, sr=SR)
    with pytest.raises(ParameterError, match=what):
        pp.true_peak_db(y)
    with pytest.raises(ParameterError, match=what):
        pp.layer([np.ones(5), y])


def test_nonfinite_zero_option():
    y = synth.synthetic_mix(duration=2.0, sr=SR)
    y[100:200] = np.nan
    y[300] = np.inf
    with pytest.warns(UserWarning, match="101 NaN/inf"):
        z = pp.postprocess(y, sr=SR, nonfinite="zero")
    assert np.all(np.isfinite(z)) and pp.true_peak_db(z) <= -1.0


def test_list_input_and_bad_layer_gains():
    assert pp.postprocess([0.1, 0.2, -0.1], sr=SR).shape == (3,)
    with pytest.raises(ParameterError, match="gains_db"):
        pp.layer([np.ones(5), np.ones(5)], gains_db=[0.0])
    with pytest.raises(ParameterError, match="gains_db"):
        pp.layer([np.ones(5), np.ones(5)], gains_db=[0.0, float("nan")])
    with pytest.raises(ParameterError, match="layer"):
        pp.layer([])
    with pytest.raises(ParameterError, match="oversample"):
        pp.true_peak_db(np.ones(5), oversample=0)
