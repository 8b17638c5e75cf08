"""Tests for musiclib.representations: the encode/decode contract of every representation."""

from __future__ import annotations

import json
import os
import warnings

import librosa
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from musiclib import phase, synth
from musiclib import representations as R
from musiclib.errors import ParameterError

SR = 22050


@pytest.fixture(scope="module")
def mix3():
    """3 s of synthetic music."""
    return synth.synthetic_mix(duration=3.0, sr=SR, seed=0)


def spectral_convergence_db(S_ref, S_est):
    return 20 * np.log10(np.linalg.norm(S_ref - S_est) / np.linalg.norm(S_ref))


# --------------------------------------------------------------------------------------------------
# exact representations
# --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("block_length", [4, 64, 512])
@pytest.mark.parametrize("n", [512, 513, 700, 1000, 1023, 4096, 4097, 5001])
def test_dct_blocks_round_trip_exact(mix3, block_length, n):
    rep = R.DCTBlocks(block_length=block_length)
    y = mix3[:n]
    frames = rep.encode(y)
    assert frames.shape == (rep.n_frames(n), block_length) and frames.dtype == np.float32
    back = rep.decode(frames, length=n)
    assert back.shape == (n,)
    assert np.max(np.abs(back - y)) < 1e-5
    # without length the output covers the input (and the padding beyond it is silent)
    full = rep.decode(frames)
    assert len(full) >= n
    assert np.max(np.abs(full[:n] - y)) < 1e-5 and np.max(np.abs(full[n:]), initial=0) < 1e-5


def test_dct_blocks_is_orthonormal_per_frame(mix3):
    rep = R.DCTBlocks(block_length=256)
    frames = rep.encode(mix3[:4096])
    # energy is preserved: the windowed blocks' squared windows sum to one at 50 % overlap
    assert np.sum(frames.astype(np.float64) ** 2) == pytest.approx(np.sum(mix3[:4096].astype(np.float64) ** 2), rel=1e-4)


@pytest.mark.parametrize("block_length", [1, 7, 256])
@pytest.mark.parametrize("n", [256, 257, 1000, 2048])
def test_raw_blocks_exact(mix3, block_length, n):
    rep = R.RawBlocks(block_length=block_length)
    y = mix3[:n]
    frames = rep.encode(y)
    assert frames.shape == (rep.n_frames(n), block_length) == (-(-n // block_length), block_length)
    np.testing.assert_array_equal(rep.decode(frames, length=n), y)
    assert rep.hop_length == block_length and rep.frames_per_second == SR / block_length


# --------------------------------------------------------------------------------------------------
# STFT representations
# --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("n_fft, hop", [(512, None), (1024, 256), (2048, 300)])
def test_linear_matches_librosa(mix3, n_fft, hop):
    rep = R.LinearSpectrogram(n_fft=n_fft, hop_length=hop)
    frames = rep.encode(mix3)
    ref = np.abs(librosa.stft(mix3, n_fft=n_fft, hop_length=rep.hop_length, center=True, pad_mode="constant")).T
    assert frames.shape == ref.shape == (rep.n_frames(len(mix3)), n_fft // 2 + 1)
    assert frames.dtype == np.float32
    np.testing.assert_allclose(frames, ref, rtol=1e-4, atol=1e-5 * float(ref.max()))
    np.testing.assert_array_equal(rep.magnitude(mix3), frames.T)


def test_true_phase_inverts_exactly(mix3):
    rep = R.LinearSpectrogram(n_fft=1024)
    D = phase.stft(mix3, n_fft=rep.n_fft, hop_length=rep.hop_length)
    np.testing.assert_allclose(np.abs(D).T, rep.encode(mix3), rtol=1e-5, atol=1e-5)
    magnitude_with_true_phase = rep.encode(mix3).T * np.exp(1j * np.angle(D))
    y = phase.istft(magnitude_with_true_phase, hop_length=rep.hop_length, length=len(mix3))
    assert np.max(np.abs(y - mix3)) < 1e-4


def test_linear_decode_is_close(mix3):
    rep = R.LinearSpectrogram(n_fft=1024)
    y = mix3[: SR]
    back = rep.decode(rep.encode(y), n_iter=16, length=len(y))
    assert back.shape == y.shape and back.dtype == np.float32
    assert spectral_convergence_db(rep.magnitude(y), rep.magnitude(back)) < -15


@pytest.mark.parametrize("floor_db", [-80.0, -40.0])
def test_log_helpers_exact_above_floor(floor_db):
    rng = np.random.default_rng(0)
    S = (10 ** rng.uniform(-6, 2, size=(65, 40))).astype(np.float32)
    floor = 10 ** (floor_db / 20)
    X = R._to_log(S, scale="db", floor_db=floor_db, gain=1.0)
    back = R._from_log(X, scale="db", floor_db=floor_db, gain=1.0)
    above = S > floor * 1.0001
    np.testing.assert_allclose(back[above], S[above], rtol=1e-5)
    assert np.all(back[~above] <= floor * 1.0001)
    assert np.all(back[S < floor * 0.9999] == 0)
    for gain in (1.0, 100.0):
        Y = R._to_log(S, scale="log1p", floor_db=floor_db, gain=gain)
        np.testing.assert_allclose(R._from_log(Y, scale="log1p", floor_db=floor_db, gain=gain), S, rtol=1e-4, atol=1e-7)


@pytest.mark.parametrize("scale", ["db", "log1p"])
def test_log_spectrogram_frames(mix3, scale):
    y = mix3[:SR]
    lin = R.LinearSpectrogram(n_fft=512)
    rep = R.LogSpectrogram(n_fft=512, scale=scale, floor_db=-60.0)
    S = lin.encode(y)
    X = rep.encode(y)
    assert X.shape == S.shape and X.dtype == np.float32
    if scale == "db":
        np.testing.assert_allclose(X, 20 * np.log10(np.maximum(S, 1e-3)), atol=1e-4)
        assert X.min() >= -60.0 - 1e-4
    else:
        np.testing.assert_allclose(X, np.log1p(S), rtol=1e-5)
    # magnitudes above the floor come back exactly
    back = R._from_log(X, scale=rep.scale, floor_db=rep.floor_db, gain=rep.gain)
    above = S > 1e-3 * 1.001
    np.testing.assert_allclose(back[above], S[above], rtol=1e-4)
    out = rep.decode(X, n_iter=8, length=len(y))
    assert out.shape == y.shape and np.all(np.isfinite(out))


def test_mel_to_linear_is_consistent_in_mel_domain(mix3):
    rep = R.MelSpectrogram(n_fft=1024, n_mels=128)
    M = rep.encode(mix3)
    S = rep.to_linear(M)
    assert S.shape == (rep.n_bins, M.shape[0]) and S.dtype == np.float32 and np.all(S >= 0)
    err = np.linalg.norm(rep.mel(S) - M.T) / np.linalg.norm(M)
    assert err < 0.05
    # and the dB variant agrees after undoing the dB
    rep_db = R.MelSpectrogram(n_fft=1024, n_mels=128, scale="db")
    S_db = rep_db.to_linear(rep_db.encode(mix3))
    loud = M.T > 1e-3
    np.testing.assert_allclose(rep.mel(S_db)[loud], M.T[loud], rtol=0.05, atol=1e-3 * float(M.max()))


def test_mel_frames_are_mel_of_magnitude(mix3):
    rep = R.MelSpectrogram(n_fft=1024, n_mels=64, fmin=30.0, fmax=8000.0)
    M = rep.encode(mix3)
    ref = librosa.feature.melspectrogram(
        y=mix3, sr=SR, n_fft=1024, hop_length=256, power=1.0, n_mels=64, fmin=30.0, fmax=8000.0, pad_mode="constant"
    )
    np.testing.assert_allclose(M, ref.T, rtol=1e-3, atol=1e-5 * float(ref.max()))


def test_mel_decode_beats_librosa(mix3):
    """Against the TRUE linear magnitude, our mel inverse is at least as good as librosa's."""
    rep = R.MelSpectrogram(n_fft=1024, n_mels=128)
    n_iter = 32
    M = rep.encode(mix3)
    truth = rep.magnitude(mix3)
    ours = rep.decode(M, n_iter=n_iter, length=len(mix3))
    theirs = librosa.feature.inverse.mel_to_audio(
        M.T, sr=SR, n_fft=rep.n_fft, hop_length=rep.hop_length, power=1.0, n_iter=n_iter, length=len(mix3)
    )
    sc_ours = spectral_convergence_db(truth, rep.magnitude(ours))
    sc_theirs = spectral_convergence_db(truth, rep.magnitude(theirs))
    assert ours.shape == mix3.shape and ours.dtype == np.float32
    assert sc_ours <= sc_theirs, (sc_ours, sc_theirs)
    assert sc_ours < -12


@pytest.mark.parametrize("method", ["pghi", "fgla", "gla"])
def test_mel_decode_other_methods(mix3, method):
    rep = R.MelSpectrogram(n_fft=512, n_mels=40, scale="db")
    y = mix3[: SR // 2]
    out = rep.decode(rep.encode(y), method=method, n_iter=4, length=len(y))
    assert out.shape == y.shape and np.all(np.isfinite(out))
    out0 = rep.decode(rep.encode(y), n_iter=0, length=len(y))
    assert out0.shape == y.shape and np.all(np.isfinite(out0))


# --------------------------------------------------------------------------------------------------
# params, construction and errors
# --------------------------------------------------------------------------------------------------
ALL = [
    R.LinearSpectrogram(n_fft=512, hop_length=100),
    R.LogSpectrogram(n_fft=256, scale="log1p", gain=10.0),
    R.MelSpectrogram(n_fft=1024, n_mels=80, fmin=20.0, fmax=9000.0, scale="db", floor_db=-90.0),
    R.MelSpectrogram(sr=16000),
    R.DCTBlocks(block_length=128, sr=44100),
    R.RawBlocks(block_length=100),
]


@pytest.mark.parametrize("rep", ALL, ids=lambda r: r.name)
def test_params_round_trip(rep):
    params = json.loads(json.dumps(rep.params))
    assert params["name"] == rep.name
    again = R.from_params(params)
    assert again == rep and type(again) is type(rep)
    assert again.params == rep.params
    assert R.make_representation(**params) == rep
    assert rep.frames_per_second == rep.sr / rep.hop_length


def test_defaults():
    rep = R.MelSpectrogram()
    assert rep.n_fft == 1024 and rep.hop_length == 256 and rep.n_mels == 128 and rep.sr == SR
    assert rep.n_features == 128 and rep.basis.shape == (128, 513)
    assert R.LinearSpectrogram(n_fft=2048).n_features == 1025
    assert R.DCTBlocks().hop_length == 256
    assert set(R.REPRESENTATIONS) == {"linear", "log", "mel", "logfreq", "dct", "raw"}


@pytest.mark.parametrize(
    "factory, pattern",
    [
        (lambda: R.LinearSpectrogram(hop_length=-4), r"hop_length=-4"),
        (lambda: R.LinearSpectrogram(hop_length=0), r"hop_length=0"),
        (lambda: R.LinearSpectrogram(n_fft=512, hop_length=1024), r"hop_length=1024.*n_fft=512"),
        (lambda: R.LinearSpectrogram(n_fft=1000), r"n_fft=1000"),
        (lambda: R.LogSpectrogram(n_fft=8), r"n_fft=8"),
        (lambda: R.MelSpectrogram(n_fft=256, n_mels=200), r"n_mels=200.*129"),
        (lambda: R.MelSpectrogram(n_mels=0), r"n_mels=0"),
        (lambda: R.MelSpectrogram(fmax=20000.0), r"fmax=20000\.0"),
        (lambda: R.MelSpectrogram(fmin=5000.0, fmax=4000.0), r"fmin=5000\.0"),
        (lambda: R.MelSpectrogram(scale="log"), r"scale='log'"),
        (lambda: R.LogSpectrogram(scale="ln"), r"scale='ln'"),
        (lambda: R.LogSpectrogram(floor_db=10.0), r"floor_db=10\.0"),
        (lambda: R.LogSpectrogram(gain=0.0), r"gain=0\.0"),
        (lambda: R.DCTBlocks(block_length=500), r"block_length=500"),
        (lambda: R.RawBlocks(block_length=0), r"block_length=0"),
        (lambda: R.LinearSpectrogram(sr=-1), r"sr=-1"),
        (lambda: R.make_representation("wavelet"), r"name='wavelet'"),
        (lambda: R.make_representation("mel", n_bands=64), r"n_bands"),
        (lambda: R.from_params({"n_fft": 1024}), r"name"),
    ],
)
def test_bad_parameters(factory, pattern):
    with pytest.raises(ParameterError, match=pattern):
        factory()


@pytest.mark.parametrize(
    "rep, n, min_len",
    [
        (R.LinearSpectrogram(n_fft=1024), 100, 1024),
        (R.MelSpectrogram(n_fft=2048), 2047, 2048),
        (R.DCTBlocks(block_length=512), 300, 512),
        (R.RawBlocks(block_length=256), 10, 256),
    ],
    ids=lambda x: getattr(x, "name", str(x)),
)
def test_short_signal(rep, n, min_len):
    with pytest.raises(ParameterError, match=rf"{n} samples.*one frame \({min_len} samples\)"):
        rep.encode(np.ones(n, dtype=np.float32))


@pytest.mark.parametrize("rep", ALL[:1] + ALL[-2:], ids=lambda r: r.name)
def test_bad_signals_and_frames(rep):
    with pytest.raises(ParameterError, match=r"shape \(2, 4096\)"):
        rep.encode(np.zeros((2, 4096)))
    y = np.zeros(4096, dtype=np.float32)
    y[7] = np.nan
    with pytest.raises(ParameterError, match="1 NaN"):
        rep.encode(y)
    with pytest.raises(ParameterError, match=rf"\(n_frames, {rep.n_features}\).*\(3, 5\)"):
        rep.decode(np.zeros((3, 5)))
    frames = np.zeros((4, rep.n_features), dtype=np.float32)
    frames[1, 2] = np.inf
    with pytest.raises(ParameterError, match="1 inf"):
        rep.decode(frames)
    with pytest.raises(ParameterError, match=r"length=-5"):
        rep.decode(np.zeros((4, rep.n_features), dtype=np.float32), length=-5)


# --------------------------------------------------------------------------------------------------
# property tests: the contract holds for any sizes
# --------------------------------------------------------------------------------------------------
@st.composite
def representations(draw):
    kind = draw(st.sampled_from(["linear", "log", "mel", "dct", "raw"]))
    if kind in ("dct", "raw"):
        block = 2 ** draw(st.integers(2, 10)) if kind == "dct" else draw(st.integers(1, 1000))
        return R.make_representation(kind, block_length=block)
    n_fft = 2 ** draw(st.integers(4, 11))
    hop = draw(st.one_of(st.none(), st.integers(max(1, n_fft // 16), n_fft)))  # bounded: keeps the test fast
    params = {"n_fft": n_fft, "hop_length": hop}
    if kind == "log":
        params["scale"] = draw(st.sampled_from(["db", "log1p"]))
    if kind == "mel":
        params["n_mels"] = draw(st.integers(1, min(n_fft // 2 + 1, 128)))
        params["scale"] = draw(st.sampled_from(["linear", "db"]))
    return R.make_representation(kind, **params)


@settings(max_examples=int(os.environ.get("MUSICLIB_HYPOTHESIS_EXAMPLES", 25)), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rep=representations(), extra=st.integers(0, 3000), seed=st.integers(0, 2**16))
def test_contract_property(rep, extra, seed):
    min_len = getattr(rep, "n_fft", None) or rep.block_length
    n = min_len + extra
    y = (np.random.default_rng(seed).standard_normal(n) * 0.3).astype(np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # librosa warns about empty mel filters at tiny n_fft
        frames = rep.encode(y)
        assert frames.shape == (rep.n_frames(n), rep.n_features)
        assert frames.dtype == np.float32 and np.all(np.isfinite(frames))
        length = max(1, n + seed % 50 - 25)
        out = rep.decode(frames, n_iter=2, length=length)
    assert out.shape == (length,)
    assert np.all(np.isfinite(out))
    assert R.from_params(json.loads(json.dumps(rep.params))) == rep


# --------------------------------------------------------------------------------------------------
# log-frequency filter bank
# --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("n_fft", [64, 512, 1024, 2048])
@pytest.mark.parametrize("bins_per_octave", [1, 12, 48, 96])
def test_logfreq_basis(n_fft, bins_per_octave):
    rep = R.LogFrequencySpectrogram(n_fft=n_fft, bins_per_octave=bins_per_octave)
    B = rep.basis
    assert B.shape == (rep.n_features, n_fft // 2 + 1) and B.dtype == np.float32
    np.testing.assert_allclose(B.sum(axis=1), 1.0, rtol=1e-6)  # each filter averages its bins
    assert np.all(B >= 0) and np.all(B.sum(axis=0) > 0)  # every bin is in some filter
    centres = B.argmax(axis=1)
    assert np.all(np.diff(centres) > 0)  # centres rise
    # below the knee (log spacing narrower than a bin) every bin is its own filter
    knee = int(bins_per_octave / np.log(2))
    low = min(knee, n_fft // 2 - 1)
    np.testing.assert_array_equal(B[:low, :low], np.eye(low, dtype=np.float32))
    # above it the filters are about 1 / bins_per_octave octave apart
    top = centres[centres > 4 * knee]
    if len(top) > 2 and bins_per_octave >= 12:
        assert np.median(np.diff(np.log2(top))) == pytest.approx(1 / bins_per_octave, rel=0.2)


def test_logfreq_more_bins_per_octave_keep_more(mix3):
    counts, errors = [], []
    for bpo in (12, 24, 48, 96):
        rep = R.LogFrequencySpectrogram(sr=SR, n_fft=1024, bins_per_octave=bpo)
        S = rep.magnitude(mix3)
        counts.append(rep.n_features)
        errors.append(spectral_convergence_db(S, rep.to_linear(rep.encode(mix3))))
    assert counts == sorted(counts) and errors == sorted(errors, reverse=True)
    assert errors[-1] < errors[0] - 3


@pytest.mark.parametrize("scale", ["db", "linear"])
def test_logfreq_encode_decode(mix3, scale):
    rep = R.LogFrequencySpectrogram(sr=SR, n_fft=1024, bins_per_octave=24, scale=scale)
    frames = rep.encode(mix3)
    assert frames.shape == (rep.n_frames(len(mix3)), rep.n_features) and frames.dtype == np.float32
    S = rep.magnitude(mix3)
    expected = rep.basis @ S
    if scale == "db":
        expected = 20 * np.log10(np.maximum(expected, 1e-4))
    np.testing.assert_allclose(frames.T, expected, rtol=1e-4, atol=1e-4)
    # the bins below the knee come back exactly; above it, a least-squares estimate
    S_hat = rep.to_linear(frames)
    knee = int(24 / np.log(2))
    np.testing.assert_allclose(S_hat[:knee], S[:knee], rtol=1e-3, atol=1e-4)
    assert spectral_convergence_db(S, S_hat) < -10
    y = rep.decode(frames, n_iter=8, length=len(mix3))
    assert y.shape == mix3.shape and np.all(np.isfinite(y))
    S_y = np.abs(phase.stft(y, n_fft=1024, hop_length=256))
    assert spectral_convergence_db(S, S_y) < -8
    fewer = rep.decode(frames, n_iter=8, length=len(mix3), nnls_iter=1)
    assert not np.allclose(fewer, y)  # nnls_iter reaches the least-squares inverse
    assert R.from_params(json.loads(json.dumps(rep.params))) == rep
    assert R.make_representation("logfreq", sr=SR, n_fft=1024, bins_per_octave=24, scale=scale) == rep


@pytest.mark.parametrize(
    "params, match",
    [
        ({"bins_per_octave": 0}, "bins_per_octave"),
        ({"bins_per_octave": 2.5}, "bins_per_octave"),
        ({"bins_per_octave": True}, "bins_per_octave"),
        ({"scale": "log1p"}, "scale"),
        ({"floor_db": 10.0}, "floor_db"),
        ({"n_fft": 1000}, "n_fft"),
        ({"hop_length": 0}, "hop_length"),
    ],
)
def test_logfreq_bad_parameters(params, match):
    with pytest.raises(ParameterError, match=match):
        R.LogFrequencySpectrogram(**params)


def test_logfreq_bad_frames():
    rep = R.LogFrequencySpectrogram(n_fft=512, bins_per_octave=12)
    with pytest.raises(ParameterError, match="frames of shape"):
        rep.decode(np.zeros((10, rep.n_features + 1), np.float32))
    with pytest.raises(ParameterError, match="NaN"):
        rep.decode(np.full((10, rep.n_features), np.nan, np.float32))
    with pytest.raises(ParameterError, match="shorter than one frame"):
        rep.encode(np.zeros(100, np.float32))
