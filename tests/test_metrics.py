"""Tests for musiclib.evaluation.metrics: known values, clamping, errors."""

from __future__ import annotations

import numpy as np
import pytest

from musiclib.evaluation import metrics
from musiclib.errors import ParameterError

RNG = np.random.default_rng(0)
S = RNG.random((65, 30)) + 0.1


# ---------------------------------------------------------------------------------------------
# spectral convergence


def test_sc_identical_is_the_floor():
    assert metrics.spectral_convergence(S, S) == metrics.SC_FLOOR_DB == -200.0


@pytest.mark.parametrize(
    "est,expected",
    [(0.9 * S, -20.0), (0.99 * S, -40.0), (np.zeros_like(S), 0.0), (2 * S, 0.0), (1.5 * S, -6.0206)],
)
def test_sc_known_values(est, expected):
    assert metrics.spectral_convergence(S, est) == pytest.approx(expected, abs=1e-3)


def test_sc_is_frobenius_ratio():
    est = S + RNG.standard_normal(S.shape) * 0.01
    ratio = np.linalg.norm(S - est) / np.linalg.norm(S)
    assert metrics.spectral_convergence(S, est) == pytest.approx(20 * np.log10(ratio))


def test_sc_complex_input_uses_magnitude():
    phase = np.exp(2j * np.pi * RNG.random(S.shape))
    assert metrics.spectral_convergence(S * phase, 0.9 * S) == pytest.approx(-20.0)


def test_sc_tiny_error_is_finite_and_clamped():
    assert metrics.spectral_convergence(S, S * (1 + 1e-15)) >= -200.0


# ---------------------------------------------------------------------------------------------
# log-spectral distance


def test_lsd_identical_is_zero():
    assert metrics.log_spectral_distance(S, S) == 0.0


def test_lsd_constant_gain():
    assert metrics.log_spectral_distance(S, 10 * S, eps=1e-12) == pytest.approx(20.0, abs=1e-6)


def test_lsd_is_rms_over_frames_of_per_frame_rms():
    ref = np.ones((4, 2))
    est = np.ones((4, 2))
    est[:, 0] = 10.0  # frame 0: 20 dB in every bin
    est[0, 1] = 10.0  # frame 1: one bin of four at 20 dB -> per-frame RMS 10 dB
    per_frame = np.array([20.0, np.sqrt(400 / 4)])
    expected = np.sqrt(np.mean(per_frame**2))
    assert metrics.log_spectral_distance(ref, est, eps=1e-12) == pytest.approx(expected, abs=1e-6)


def test_lsd_eps_sets_the_floor_for_silent_bins():
    ref = np.ones((3, 3))
    est = ref.copy()
    est[0, 0] = 0.0
    # one bin of nine at 20 log10(1 / eps) = 80 dB for eps = 1e-4
    value = metrics.log_spectral_distance(ref, est, eps=1e-4)
    expected = np.sqrt((20 * np.log10((1 + 1e-4) / 1e-4)) ** 2 / 9)
    assert value == pytest.approx(expected, rel=1e-9)


# ---------------------------------------------------------------------------------------------
# SNR


def test_snr_of_scaled_noise():
    y = RNG.standard_normal(10000)
    noise = RNG.standard_normal(10000)
    noise *= np.sqrt(np.sum(y**2) / np.sum(noise**2)) * 0.1  # noise power = 1 % of signal power
    assert metrics.snr(y, y + noise) == pytest.approx(20.0, abs=1e-9)
    assert metrics.snr(y, 0.5 * y) == pytest.approx(20 * np.log10(2), abs=1e-9)


def test_snr_identical_is_the_ceiling():
    y = RNG.standard_normal(100)
    assert metrics.snr(y, y) == metrics.SNR_CEIL_DB == 200.0


# ---------------------------------------------------------------------------------------------
# compare_audio


def test_compare_audio_keys_and_identity():
    y = RNG.standard_normal(8000).astype(np.float32)
    out = metrics.compare_audio(y, y)
    assert set(out) == {"sc_db", "lsd_db"}
    assert out["sc_db"] == -200.0 and out["lsd_db"] == 0.0


def test_compare_audio_trims_and_pads():
    y = np.sin(2 * np.pi * 440 * np.arange(8000) / 22050)
    longer = metrics.compare_audio(y, np.concatenate([y, np.ones(500)]))
    assert longer["sc_db"] == -200.0  # the extra samples are cut off
    shorter = metrics.compare_audio(y, y[:7000], n_fft=512, hop_length=128)
    assert -60 < shorter["sc_db"] < 0 and shorter["lsd_db"] > 0
    assert all(isinstance(v, float) for v in shorter.values())


def test_compare_audio_is_phase_blind():
    """A sign flip changes the waveform completely but not the magnitudes."""
    y = RNG.standard_normal(4096)
    assert metrics.compare_audio(y, -y)["sc_db"] < -100
    assert metrics.snr(y, -y) < -6.0


# ---------------------------------------------------------------------------------------------
# errors


@pytest.mark.parametrize(
    "call,match",
    [
        (lambda: metrics.spectral_convergence(S, S[:, :-1]), r"shape \(65, 30\).*\(65, 29\)"),
        (lambda: metrics.log_spectral_distance(S, S[:-1]), r"shape"),
        (lambda: metrics.spectral_convergence(np.zeros((3, 3)), np.ones((3, 3))), r"all zeros"),
        (lambda: metrics.spectral_convergence(S, -S), r"S_est must hold magnitudes"),
        (lambda: metrics.spectral_convergence(S * np.nan, S), r"S_ref must be finite"),
        (lambda: metrics.log_spectral_distance(S, S, eps=0), r"eps=0"),
        (lambda: metrics.snr(np.ones(10), np.ones(9)), r"10 samples.*9"),
        (lambda: metrics.snr(np.zeros(10), np.ones(10)), r"silent"),
        (lambda: metrics.snr(np.ones((2, 5)), np.ones((2, 5))), r"y_ref must be a mono signal.*\(2, 5\)"),
        (lambda: metrics.compare_audio(np.ones(2000), np.array([np.inf] * 10)), r"y_est must be finite"),
    ],
)
def test_errors(call, match):
    with pytest.raises(ParameterError, match=match):
        call()
