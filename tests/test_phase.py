"""Tests for musiclib.phase: STFT/iSTFT against librosa, reconstruction quality, errors."""

from __future__ import annotations

import warnings

import librosa
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from musiclib import phase
from musiclib.evaluation import metrics
from musiclib.errors import ParameterError

SR = 22050


def harmonic(n: int = int(1.5 * SR), f0: float = 220.0, seed: int = 0) -> np.ndarray:
    """A decaying harmonic tone with a little vibrato (float32)."""
    rng = np.random.default_rng(seed)
    t = np.arange(n) / SR
    ph = 2 * np.pi * f0 * np.cumsum(1 + 0.004 * np.sin(2 * np.pi * 5 * t)) / SR
    y = sum(0.7**k * np.sin((k + 1) * ph + rng.uniform(0, 2 * np.pi)) for k in range(6))
    env = np.minimum(1, t / 0.05) * np.exp(-t / 1.5)
    return (0.3 * y * env).astype(np.float32)


def sc_of(S, y_hat, hop):
    n_fft = 2 * (S.shape[0] - 1)
    return metrics.spectral_convergence(S, np.abs(phase.stft(y_hat, n_fft=n_fft, hop_length=hop)))


@pytest.fixture(scope="module")
def tone():
    y = harmonic()
    S = np.abs(phase.stft(y, n_fft=512, hop_length=128))
    return y, S


# ---------------------------------------------------------------------------------------------
# STFT / iSTFT


@pytest.mark.parametrize("n_fft", [256, 512, 1024, 2048])
@pytest.mark.parametrize("hop_div", [4, 2, 8, None])
def test_stft_matches_librosa(n_fft, hop_div):
    rng = np.random.default_rng(n_fft)
    y = rng.standard_normal(7001).astype(np.float32)
    hop = n_fft // hop_div if hop_div else (3 * n_fft) // 10  # a hop that divides nothing
    D = phase.stft(y, n_fft=n_fft, hop_length=hop)
    L = librosa.stft(y, n_fft=n_fft, hop_length=hop, window="hann", center=True,
                     pad_mode="constant")
    assert D.shape == L.shape
    assert D.dtype == np.complex64
    np.testing.assert_allclose(D, L, rtol=0, atol=2e-6 * np.abs(L).max())


def test_stft_defaults_and_float64():
    y = np.random.default_rng(0).standard_normal(5000)
    D = phase.stft(y)  # n_fft 1024, hop 256
    L = librosa.stft(y, n_fft=1024, hop_length=256, pad_mode="constant")
    assert D.dtype == np.complex128 and D.shape == L.shape == (513, 1 + 5000 // 256)
    np.testing.assert_allclose(D, L, rtol=0, atol=1e-10 * np.abs(L).max())


def test_stft_center_false_and_window_array():
    y = np.random.default_rng(1).standard_normal(4000).astype(np.float32)
    w = np.hamming(512).astype(np.float32)
    D = phase.stft(y, n_fft=512, hop_length=128, center=False, window=w)
    L = librosa.stft(y, n_fft=512, hop_length=128, center=False, window=w)
    np.testing.assert_allclose(D, L, rtol=0, atol=2e-6 * np.abs(L).max())
    D2 = phase.stft(y, n_fft=512, hop_length=128, window="hamming")
    L2 = librosa.stft(y, n_fft=512, hop_length=128, window="hamming", pad_mode="constant")
    np.testing.assert_allclose(D2, L2, rtol=0, atol=2e-6 * np.abs(L2).max())


@pytest.mark.parametrize("n_fft,hop", [(512, 128), (1024, 256), (1024, 512), (2048, 300)])
@pytest.mark.parametrize("length", [None, 6000, 9001])
def test_istft_matches_librosa(n_fft, hop, length):
    y = np.random.default_rng(2).standard_normal(9001).astype(np.float32)
    D = librosa.stft(y, n_fft=n_fft, hop_length=hop, pad_mode="constant")
    ours = phase.istft(D, hop_length=hop, length=length)
    ref = librosa.istft(D, hop_length=hop, length=length)
    assert ours.shape == ref.shape and ours.dtype == ref.dtype
    np.testing.assert_allclose(ours, ref, rtol=0, atol=1e-5)


@pytest.mark.parametrize("n", [1000, 4097, 12345, 22050])
@pytest.mark.parametrize("n_fft,hop", [(256, 64), (512, 128), (1024, 256), (1024, 512), (512, 100)])
@pytest.mark.parametrize("kind", ["noise", "sine"])
def test_istft_round_trip_exact(n, n_fft, hop, kind):
    if kind == "noise":
        y = np.random.default_rng(n).standard_normal(n).astype(np.float32)
    else:
        y = np.sin(2 * np.pi * 441.3 * np.arange(n) / SR).astype(np.float32)
    y2 = phase.istft(phase.stft(y, n_fft=n_fft, hop_length=hop), hop_length=hop, length=n)
    assert y2.shape == y.shape and y2.dtype == np.float32
    assert np.linalg.norm(y2 - y) / np.linalg.norm(y) <= 1e-5


def test_istft_default_length():
    D = phase.stft(np.zeros(5000, np.float32), n_fft=512, hop_length=128)
    assert phase.istft(D, hop_length=128).shape == (128 * (D.shape[1] - 1),)


# ---------------------------------------------------------------------------------------------
# reconstruction quality


def test_every_method_beats_random_phase(tone):
    y, S = tone
    hop = 128
    rng = np.random.default_rng(1)
    baseline = sc_of(S, phase.istft(S * np.exp(2j * np.pi * rng.random(S.shape)), hop_length=hop,
                                    length=len(y)), hop)
    for method in phase.METHODS:
        y_hat = phase.reconstruct(S, method=method, n_iter=16, hop_length=hop, length=len(y))
        assert sc_of(S, y_hat, hop) < baseline - 5.0, method


def test_momentum_and_pghi_help(tone):
    y, S = tone
    kw = dict(n_iter=16, hop_length=128, length=len(y))
    gla = sc_of(S, phase.griffin_lim(S, **kw), 128)
    fgla = sc_of(S, phase.fast_griffin_lim(S, **kw), 128)
    both = sc_of(S, phase.reconstruct(S, **kw), 128)
    assert fgla < gla - 2.0
    assert both < fgla - 5.0


def test_pghi_plus_fgla_reaches_minus_20_db(tone):
    y, S = tone
    y_hat = phase.reconstruct(S, hop_length=128, length=len(y))
    assert sc_of(S, y_hat, 128) <= -20.0


def test_pghi_alone(tone):
    y, S = tone
    p = phase.pghi(S, hop_length=128)
    assert p.shape == S.shape and p.dtype == np.float32
    assert np.all(p >= -np.pi) and np.all(p < np.pi)
    assert sc_of(S, phase.istft(S * np.exp(1j * p), hop_length=128, length=len(y)), 128) < -20.0
    # n_iter=0 with the default method is PGHI alone; "pghi" ignores n_iter
    a = phase.reconstruct(S, n_iter=0, hop_length=128, length=len(y))
    b = phase.reconstruct(S, method="pghi", n_iter=7, hop_length=128, length=len(y))
    np.testing.assert_array_equal(a, b)


def test_pghi_other_window_uses_gaussian_equivalent():
    y = harmonic()
    w = "hamming"
    S = np.abs(phase.stft(y, n_fft=512, hop_length=128, window=w))
    p = phase.pghi(S, hop_length=128, window=w)
    y_hat = phase.istft(S * np.exp(1j * p), hop_length=128, window=w, length=len(y))
    S_hat = np.abs(phase.stft(y_hat, n_fft=512, hop_length=128, window=w))
    assert metrics.spectral_convergence(S, S_hat) < -15.0


def test_le_roux_local_operator_approximates_projection():
    """The truncated time-frequency operator equals STFT(iSTFT(.)) away from the edges."""
    rng = np.random.default_rng(3)
    S = rng.random((129, 40)).astype(np.float32)
    plan, S_fm, _, _ = phase._prepare(S, n_iter=1, hop_length=64, window="hann", length=None, init="zeros",
                                      seed=0)
    X = (S_fm * np.exp(2j * np.pi * rng.random(S_fm.shape))).astype(np.complex64)
    X[:, [0, -1]] = X[:, [0, -1]].real  # DC and Nyquist of a real signal are real
    exact = plan.project(X)[8:-8]
    for q, tol in ((2, 0.05), (16, 1e-3)):
        op = phase._LocalConsistency(phase._window("hann", 256), 256, 64, 40, q, np.complex64)
        local = op.apply(X)[8:-8]
        assert np.linalg.norm(local - exact) / np.linalg.norm(exact) < tol


def test_all_zero_magnitude_gives_silence():
    S = np.zeros((257, 20), np.float32)
    for method in phase.METHODS:
        y = phase.reconstruct(S, method=method, n_iter=2, length=2000)
        assert y.shape == (2000,) and np.all(y == 0)


# ---------------------------------------------------------------------------------------------
# determinism, lengths


@pytest.mark.parametrize("method", phase.METHODS)
def test_same_seed_same_output(tone, method):
    y, S = tone
    S = S[:, :40]
    a = phase.reconstruct(S, method=method, n_iter=4, hop_length=128, seed=3)
    b = phase.reconstruct(S, method=method, n_iter=4, hop_length=128, seed=3)
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("method", ["gla", "fgla", "le_roux"])
def test_different_seed_different_output(tone, method):
    _, S = tone
    S = S[:, :40]
    a = phase.reconstruct(S, method=method, n_iter=4, hop_length=128, seed=1)
    b = phase.reconstruct(S, method=method, n_iter=4, hop_length=128, seed=2)
    assert not np.allclose(a, b)


@pytest.mark.parametrize("method", phase.METHODS)
@pytest.mark.parametrize("length", [None, 1, 3000, 5119, 9000])
def test_reconstruct_length(tone, method, length):
    _, S = tone
    S = S[:, :40]
    y = phase.reconstruct(S, method=method, n_iter=2, hop_length=128, length=length)
    expected = 128 * (S.shape[1] - 1) if length is None else length
    assert y.shape == (expected,) and y.dtype == np.float32 and np.all(np.isfinite(y))


def test_init_options(tone):
    y, S = tone
    kw = dict(n_iter=2, hop_length=128, length=len(y))
    for init in ("random", "zeros", "pghi", phase.pghi(S, hop_length=128)):
        out = phase.fast_griffin_lim(S, init=init, **kw)
        assert out.shape == (len(y),) and np.all(np.isfinite(out))
    # zero iterations from the PGHI phase == istft of S with that phase
    p = phase.pghi(S, hop_length=128)
    np.testing.assert_allclose(
        phase.fast_griffin_lim(S, n_iter=0, init=p, hop_length=128, length=len(y)),
        phase.istft(S * np.exp(1j * p).astype(np.complex64), hop_length=128, length=len(y)),
        atol=1e-6,
    )


# ---------------------------------------------------------------------------------------------
# errors and warnings

GOOD = np.ones((257, 10), np.float32)


def _with(value, where=(3, 4)):
    S = GOOD.copy()
    S[where] = value
    return S


@pytest.mark.parametrize(
    "call,match",
    [
        (lambda: phase.reconstruct(GOOD, hop_length=-4), r"hop_length=-4"),
        (lambda: phase.reconstruct(GOOD, hop_length=0), r"hop_length=0"),
        (lambda: phase.reconstruct(GOOD, hop_length=600), r"hop_length=600 must be an integer in \[1, 512\] \(n_fft=512\)"),
        (lambda: phase.reconstruct(GOOD, hop_length=2.5), r"hop_length=2.5"),
        (lambda: phase.reconstruct(_with(np.nan)), r"1 NaN"),
        (lambda: phase.reconstruct(_with(np.inf)), r"1 inf"),
        (lambda: phase.reconstruct(_with(-1.0)), r"minimum is -1"),
        (lambda: phase.reconstruct(np.ones(257)), r"ndim=1"),
        (lambda: phase.reconstruct(np.ones((1, 10))), r"n_bins=1"),
        (lambda: phase.reconstruct(GOOD.astype(np.complex64)), r"complex"),
        (lambda: phase.reconstruct(GOOD, method="bogus"), r"method='bogus'.*gla, fgla, le_roux"),
        (lambda: phase.reconstruct(GOOD, n_iter=-1), r"n_iter=-1"),
        (lambda: phase.reconstruct(GOOD, length=0), r"length=0"),
        (lambda: phase.fast_griffin_lim(GOOD, momentum=-0.5), r"momentum=-0.5"),
        (lambda: phase.griffin_lim(GOOD, init="nope"), r"init='nope'"),
        (lambda: phase.griffin_lim(GOOD, init=np.zeros((3, 3))), r"shape \(3, 3\)"),
        (lambda: phase.griffin_lim(GOOD, seed="x"), r"seed='x'"),
        (lambda: phase.le_roux(GOOD, self_weight=2), r"self_weight=2"),
        (lambda: phase.le_roux(GOOD, n_neighbors=-1), r"n_neighbors=-1"),
        (lambda: phase.pghi(GOOD, tol=0), r"tol=0"),
        (lambda: phase.pghi(GOOD, gamma=-1.0), r"gamma=-1.0"),
        (lambda: phase.stft(np.ones((2, 100))), r"shape \(2, 100\)"),
        (lambda: phase.stft(np.ones(100), n_fft=0), r"n_fft=0"),
        (lambda: phase.stft(np.ones(10), n_fft=64, center=False), r"10 samples, shorter than one frame \(64"),
        (lambda: phase.stft(np.array([0.0, np.nan] * 600)), r"finite"),
        (lambda: phase.stft(np.ones(1000), n_fft=64, window=np.ones(10)), r"window=an array of shape \(10,\)"),
        (lambda: phase.stft(np.ones(1000), n_fft=64, window="nope"), r"window='nope'"),
        (lambda: phase.istft(np.ones(10, np.complex64)), r"ndim=1"),
    ],
)
def test_parameter_errors(call, match):
    with pytest.raises(ParameterError, match=match):
        call()


def test_parameter_error_is_value_error():
    with pytest.raises(ValueError):
        phase.reconstruct(GOOD, n_iter=-3)


def test_momentum_above_one_warns():
    with pytest.warns(UserWarning, match="momentum=1.5"):
        phase.fast_griffin_lim(GOOD, momentum=1.5, n_iter=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        phase.fast_griffin_lim(GOOD, momentum=0.99, n_iter=1)
        phase.reconstruct(GOOD, n_iter=1)


# ---------------------------------------------------------------------------------------------
# property test


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    log_n_fft=st.integers(min_value=1, max_value=7),
    n_frames=st.integers(min_value=1, max_value=8),
    hop_div=st.sampled_from([1, 2, 4]),
    method=st.sampled_from(phase.METHODS),
    length=st.one_of(st.none(), st.integers(min_value=1, max_value=600)),
    seed=st.integers(min_value=0, max_value=2**16),
    zeros=st.booleans(),
)
def test_property_finite_and_right_length(log_n_fft, n_frames, hop_div, method, length, seed,
                                          zeros):
    n_fft = 2**log_n_fft
    hop = max(1, n_fft // hop_div)
    rng = np.random.default_rng(seed)
    S = (rng.random((n_fft // 2 + 1, n_frames)) * 10.0 ** rng.uniform(-3, 3)).astype(np.float32)
    if zeros:
        S[rng.random(S.shape) < 0.5] = 0.0
    y = phase.reconstruct(S, method=method, n_iter=3, hop_length=hop, length=length, seed=seed)
    expected = hop * (n_frames - 1) if length is None else length
    assert y.shape == (expected,)
    assert np.all(np.isfinite(y))
