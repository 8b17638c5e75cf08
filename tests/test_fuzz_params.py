"""Hypothesis fuzzing of the public numeric parameters of audio, phase, representations, postprocess, corpus
and the feature cache.

Each parameter gets hostile values (0, negative, NaN, inf, huge, wrong type, bools, strings, None) and
random numbers; the call may succeed (then any audio it returns is finite) or raise a ``MusiclibError``
naming the parameter, within :data:`TIME_BOUND` seconds. Anything else (a numpy, librosa, scipy or OS
error, a hang, a ``MemoryError``) fails.
"""

from __future__ import annotations

import math
import time

import numpy as np
import pytest
import soundfile as sf
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from musiclib import audio, corpus, phase, postprocess
from musiclib import representations as R
from musiclib.errors import MusiclibError
from musiclib.tools.cache import FeatureCache

SR = 8000
TIME_BOUND = 5.0

#: Values every number-taking parameter must survive.
HOSTILE = [0, -1, -7, 1, 2, 3, 0.5, -0.5, 5e-324, 2.2250738585072014e-308, 1e-300, -1e300, 1e300, 2.247116418577895e304, 2**31, 2**63, 10**12, -(10**12),
           math.nan, math.inf, -math.inf, np.float32("nan"), np.int64(-3), True, False, None, "hot", "1", [], [1],
           {}, 1j, b"x"]

#: Random numbers on top: integers around every bound in use, floats of every magnitude.
numbers = st.one_of(
    st.integers(min_value=-(10**6), max_value=10**6),
    st.floats(allow_nan=True, allow_infinity=True, width=64),
)

_rng = np.random.default_rng(0)
Y = (0.3 * np.sin(2 * np.pi * 220 * np.arange(SR // 2) / SR) + 0.01 * _rng.standard_normal(SR // 2)).astype(
    np.float32)
S = np.abs(phase.stft(Y, n_fft=64, hop_length=16))  # 33 bins x 251 frames: cheap iterations


def _times(x, v):
    """``x * v`` for a real number ``v``; ``x`` itself otherwise (the scale cases fuzz the data, not the type)."""
    if isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool):
        with np.errstate(over="ignore", invalid="ignore"):
            return (np.asarray(x, dtype=np.float64) * float(v)).astype(np.float32)
    return x


def _wav(tmp_path_factory):
    path = tmp_path_factory.mktemp("fuzz") / "clip.wav"
    sf.write(str(path), Y, SR)
    return path


# (id, function of (value, wav path) -> result). Each case varies ONE parameter of one public function.
CASES = {
    # audio
    "audio.load sr": lambda v, p: audio.load(p, sr=v),
    "audio.load offset": lambda v, p: audio.load(p, offset=v),
    "audio.load duration": lambda v, p: audio.load(p, duration=v),
    "audio.resample target_sr": lambda v, p: audio.resample(Y, orig_sr=SR, target_sr=v),
    "audio.resample orig_sr": lambda v, p: audio.resample(Y, orig_sr=v, target_sr=SR),
    "audio.normalize_peak peak": lambda v, p: audio.normalize_peak(Y, peak=v),
    "audio.normalize_rms target_db": lambda v, p: audio.normalize_rms(Y, target_db=v),
    "audio.normalize_rms peak": lambda v, p: audio.normalize_rms(Y, peak=v),
    "audio.trim_silence top_db": lambda v, p: audio.trim_silence(Y, top_db=v),
    "audio.trim_silence frame_length": lambda v, p: audio.trim_silence(Y, frame_length=v),
    "audio.trim_silence hop_length": lambda v, p: audio.trim_silence(Y, hop_length=v),
    "audio.fragment sr": lambda v, p: audio.fragment(Y, sr=v, start=0.0, duration=0.1),
    "audio.fragment start": lambda v, p: audio.fragment(Y, sr=SR, start=v, duration=0.1),
    "audio.fragment duration": lambda v, p: audio.fragment(Y, sr=SR, start=0.0, duration=v),
    "audio.loud_fragments duration": lambda v, p: audio.loud_fragments(Y, sr=SR, duration=v),
    "audio.loud_fragments n": lambda v, p: audio.loud_fragments(Y, sr=SR, duration=0.1, n=v),
    "audio.loud_fragments min_db": lambda v, p: audio.loud_fragments(Y, sr=SR, duration=0.1, min_db=v),
    "audio.save sr": lambda v, p: audio.save(p.with_name(f"out{time.perf_counter_ns()}.wav"), Y, sr=v),
    # phase
    "phase.stft n_fft": lambda v, p: phase.stft(Y, n_fft=v),
    "phase.stft hop_length": lambda v, p: phase.stft(Y, n_fft=64, hop_length=v),
    "phase.istft hop_length": lambda v, p: phase.istft(phase.stft(Y, n_fft=64), hop_length=v),
    "phase.istft length": lambda v, p: phase.istft(phase.stft(Y, n_fft=64), length=v),
    "phase.griffin_lim n_iter": lambda v, p: phase.griffin_lim(S, n_iter=v, hop_length=16),
    "phase.fast_griffin_lim momentum": lambda v, p: phase.fast_griffin_lim(S, momentum=v, n_iter=4, hop_length=16),
    "phase.le_roux n_neighbors": lambda v, p: phase.le_roux(S, n_neighbors=v, n_iter=2, hop_length=16),
    "phase.le_roux self_weight": lambda v, p: phase.le_roux(S, self_weight=v, n_iter=2, hop_length=16),
    "phase.pghi tol": lambda v, p: phase.pghi(S, tol=v, hop_length=16),
    "phase.pghi gamma": lambda v, p: phase.pghi(S, gamma=v, hop_length=16),
    "phase.reconstruct seed": lambda v, p: phase.reconstruct(S, seed=v, n_iter=2, hop_length=16),
    "phase.reconstruct length": lambda v, p: phase.reconstruct(S, length=v, n_iter=2, hop_length=16),
    "phase.reconstruct n_iter": lambda v, p: phase.reconstruct(S, n_iter=v, hop_length=16),
    "phase.reconstruct magnitude scale": lambda v, p: phase.reconstruct(_times(S, v), n_iter=2, hop_length=16),
    # representations
    "LinearSpectrogram sr": lambda v, p: R.LinearSpectrogram(sr=v, n_fft=64).encode(Y),
    "LinearSpectrogram n_fft": lambda v, p: R.LinearSpectrogram(n_fft=v).n_features,
    "LinearSpectrogram hop_length": lambda v, p: R.LinearSpectrogram(n_fft=64, hop_length=v).encode(Y),
    "LogSpectrogram floor_db": lambda v, p: R.LogSpectrogram(n_fft=64, floor_db=v).encode(Y),
    "LogSpectrogram gain": lambda v, p: R.LogSpectrogram(n_fft=64, scale="log1p", gain=v).encode(Y),
    "LogSpectrogram scale": lambda v, p: R.LogSpectrogram(n_fft=64, scale=v),
    "MelSpectrogram n_mels": lambda v, p: R.MelSpectrogram(sr=SR, n_fft=256, n_mels=v).n_features,
    "MelSpectrogram fmin": lambda v, p: R.MelSpectrogram(sr=SR, n_fft=256, n_mels=16, fmin=v).n_features,
    "MelSpectrogram fmax": lambda v, p: R.MelSpectrogram(sr=SR, n_fft=256, n_mels=16, fmax=v).n_features,
    "LogFrequencySpectrogram bins_per_octave": lambda v, p: R.LogFrequencySpectrogram(n_fft=256,
                                                                                      bins_per_octave=v).n_features,
    "DCTBlocks block_length": lambda v, p: R.DCTBlocks(block_length=v).n_features,
    "RawBlocks block_length": lambda v, p: R.RawBlocks(block_length=v).n_features,
    "decode n_iter": lambda v, p: R.LinearSpectrogram(n_fft=64).decode(np.abs(S.T), n_iter=v),
    "decode length": lambda v, p: R.LinearSpectrogram(n_fft=64).decode(np.abs(S.T), length=v, n_iter=1),
    "decode seed": lambda v, p: R.LinearSpectrogram(n_fft=64).decode(np.abs(S.T), seed=v, n_iter=1),
    "decode frames scale": lambda v, p: R.LinearSpectrogram(n_fft=64).decode(_times(np.abs(S.T), v), n_iter=1),
    "mel decode nnls_iter": lambda v, p: R.MelSpectrogram(sr=SR, n_fft=256, n_mels=16).decode(
        np.ones((8, 16), np.float32), nnls_iter=v, n_iter=1),
    "mel decode frames scale": lambda v, p: R.MelSpectrogram(sr=SR, n_fft=256, n_mels=16, scale="linear").decode(
        _times(np.ones((8, 16), np.float32), v), n_iter=1),
    "dct decode frames scale": lambda v, p: R.DCTBlocks(block_length=64).decode(_times(np.ones((8, 64), np.float32), v)),
    "raw decode length": lambda v, p: R.RawBlocks(block_length=64).decode(np.ones((8, 64), np.float32), length=v),
    "from_params": lambda v, p: R.from_params(v),
    # postprocess
    "postprocess sr": lambda v, p: postprocess.postprocess(Y, sr=v),
    "postprocess loudness_lufs": lambda v, p: postprocess.postprocess(Y, sr=SR, loudness_lufs=v),
    "postprocess true_peak_db": lambda v, p: postprocess.postprocess(Y, sr=SR, true_peak_db=v),
    "postprocess highpass_hz": lambda v, p: postprocess.postprocess(Y, sr=SR, highpass_hz=v),
    "postprocess lowpass_hz": lambda v, p: postprocess.postprocess(Y, sr=SR, lowpass_hz=v),
    "postprocess filter_order": lambda v, p: postprocess.postprocess(Y, sr=SR, highpass_hz=100.0, filter_order=v),
    "postprocess fade_in": lambda v, p: postprocess.postprocess(Y, sr=SR, fade_in=v),
    "postprocess fade_out": lambda v, p: postprocess.postprocess(Y, sr=SR, fade_out=v),
    "postprocess release_ms": lambda v, p: postprocess.postprocess(Y, sr=SR, release_ms=v),
    "postprocess declick_width": lambda v, p: postprocess.postprocess(Y, sr=SR, joins=[100], declick_width=v),
    "postprocess joins": lambda v, p: postprocess.postprocess(Y, sr=SR, joins=v),
    "postprocess reverb": lambda v, p: postprocess.postprocess(Y, sr=SR, reverb=v),
    "postprocess low_shelf": lambda v, p: postprocess.postprocess(Y, sr=SR, low_shelf=v),
    "postprocess y scale": lambda v, p: postprocess.postprocess(_times(Y, v), sr=SR),
    "limit_true_peak true_peak_db": lambda v, p: postprocess.limit_true_peak(Y, sr=SR, true_peak_db=v),
    "normalize_loudness loudness_lufs": lambda v, p: postprocess.normalize_loudness(Y, sr=SR, loudness_lufs=v),
    "true_peak_db oversample": lambda v, p: postprocess.true_peak_db(Y, oversample=v),
    "fade fade_out": lambda v, p: postprocess.fade(Y, sr=SR, fade_out=v),
    "layer gains_db": lambda v, p: postprocess.layer([Y, Y], gains_db=[0.0, v]),
    "loudness sr": lambda v, p: postprocess.loudness(Y, sr=v),
    # corpus and the feature cache
    "load_corpus sr": lambda v, p: corpus.load_corpus([p], sr=v, progress=False),
    "load_corpus max_duration": lambda v, p: corpus.load_corpus([p], max_duration=v, progress=False),
    "load_corpus min_duration": lambda v, p: corpus.load_corpus([p], min_duration=v, progress=False),
    "load_corpus n_jobs": lambda v, p: corpus.load_corpus([p], n_jobs=v, progress=False),
    "load_corpus excerpt": lambda v, p: corpus.load_corpus([p], max_duration=0.2, excerpt=v, progress=False),
    "split_by_file held_out": lambda v, p: corpus.split_by_file([p, p.with_name("b.wav"), p.with_name("c.wav")],
                                                                 held_out=v),
    "split_by_file seed": lambda v, p: corpus.split_by_file([p, p.with_name("b.wav"), p.with_name("c.wav")], seed=v),
    "FeatureCache offset": lambda v, p: FeatureCache(p.parent / "cache").features(p, R.LogSpectrogram(n_fft=64,
                                                                                                      sr=SR), offset=v),
    "FeatureCache duration": lambda v, p: FeatureCache(p.parent / "cache").features(
        p, R.LogSpectrogram(n_fft=64, sr=SR), duration=v),
    "FeatureCache.clear stale_after": lambda v, p: FeatureCache(p.parent / "cache").clear(stale_after=v),
}


def _finite_outputs(result):
    """Every float array in ``result`` (nested in tuples, lists and Corpus clips) is finite."""
    if isinstance(result, np.ndarray):
        if np.issubdtype(result.dtype, np.floating) or np.iscomplexobj(result):
            assert np.all(np.isfinite(result)), "non-finite values returned"
    elif isinstance(result, (tuple, list)):
        for r in result:
            _finite_outputs(r)
    elif hasattr(result, "clips"):
        _finite_outputs(list(result.clips))


@pytest.fixture(scope="module")
def wav(tmp_path_factory):
    path = _wav(tmp_path_factory)
    # first-use imports (scipy.signal, pedalboard, pyloudnorm) take seconds on a loaded machine: not the call's time
    postprocess.postprocess(Y, sr=SR, highpass_hz=100.0, reverb=True)
    postprocess.limit_true_peak(Y * 4, sr=SR)
    corpus.load_corpus([path], progress=False)
    return path


def _call(case, value, wav):
    t0 = time.perf_counter()
    try:
        result = CASES[case](value, wav)
    except MusiclibError:
        pass
    else:
        _finite_outputs(result)
    assert time.perf_counter() - t0 < TIME_BOUND, f"{case}={value!r} took {time.perf_counter() - t0:.1f} s"


@pytest.mark.parametrize("case", sorted(CASES))
def test_hostile_parameter_values(case, wav):
    for value in HOSTILE:
        try:
            _call(case, value, wav)
        except AssertionError:
            raise
        except BaseException as e:  # name the value that let a foreign error out
            raise AssertionError(f"{case}={value!r}: {type(e).__name__}: {e}") from e


@pytest.mark.parametrize("case", sorted(CASES))
@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(value=numbers)
def test_random_parameter_values(case, value, wav):
    _call(case, value, wav)


#: Arrays every audio-taking function must survive (or refuse with a musiclib error).
HOSTILE_ARRAYS = [np.zeros(0, np.float32), np.zeros(1, np.float32), np.full(4000, np.nan, np.float32),
                  np.full(4000, np.inf), np.zeros((2, 2000), np.float32), np.ones(4000, np.complex64),
                  np.array(["a"] * 10), np.array([None] * 10, dtype=object), np.ones(4000, np.int16),
                  np.ones(4000, bool), np.float32(1.0), [0.1] * 4000, "not audio", None,
                  np.full(4000, np.finfo(np.float32).max, np.float32)]

ARRAY_CASES = {
    "audio.resample": lambda y: audio.resample(y, orig_sr=SR, target_sr=4000),
    "audio.normalize_peak": lambda y: audio.normalize_peak(y),
    "audio.normalize_rms": lambda y: audio.normalize_rms(y),
    "audio.trim_silence": lambda y: audio.trim_silence(y),
    "audio.loud_fragments": lambda y: audio.loud_fragments(y, sr=SR, duration=0.1),
    "phase.stft": lambda y: phase.stft(y, n_fft=64),
    "phase.reconstruct": lambda y: phase.reconstruct(y, n_iter=2),
    "phase.pghi": lambda y: phase.pghi(y),
    "LinearSpectrogram.encode": lambda y: R.LinearSpectrogram(n_fft=64).encode(y),
    "MelSpectrogram.encode": lambda y: R.MelSpectrogram(sr=SR, n_fft=256, n_mels=16).encode(y),
    "LogFrequencySpectrogram.encode": lambda y: R.LogFrequencySpectrogram(n_fft=256).encode(y),
    "DCTBlocks.encode": lambda y: R.DCTBlocks(block_length=64).encode(y),
    "RawBlocks.encode": lambda y: R.RawBlocks(block_length=64).encode(y),
    "LinearSpectrogram.decode": lambda y: R.LinearSpectrogram(n_fft=64).decode(y, n_iter=1),
    "DCTBlocks.decode": lambda y: R.DCTBlocks(block_length=64).decode(y),
    "postprocess": lambda y: postprocess.postprocess(y, sr=SR),
    "postprocess.loudness": lambda y: postprocess.loudness(y, sr=SR),
    "postprocess.true_peak_db": lambda y: postprocess.true_peak_db(y),
    "postprocess.fade": lambda y: postprocess.fade(y, sr=SR),
    "postprocess.layer": lambda y: postprocess.layer([y, y]),
}


@pytest.mark.parametrize("case", sorted(ARRAY_CASES))
def test_hostile_arrays(case, wav):
    for y in HOSTILE_ARRAYS:
        t0 = time.perf_counter()
        try:
            result = ARRAY_CASES[case](y)
        except MusiclibError:
            pass
        except BaseException as e:
            raise AssertionError(f"{case}({np.asarray(y, dtype=object).shape} {getattr(y, 'dtype', type(y))}): "
                                 f"{type(e).__name__}: {e}") from e
        else:
            _finite_outputs(result)
        assert time.perf_counter() - t0 < TIME_BOUND
