"""Reconstruction metrics, in dB: how close a rebuilt signal or spectrogram is to the original.

:func:`spectral_convergence` and :func:`log_spectral_distance` (lower is better) compare magnitudes,
so a phase that differs but sounds the same is not punished; :func:`snr` (higher is better) is for
when the true phase is known; :func:`compare_audio` applies the first two to two signals.
"""

from __future__ import annotations

import numpy as np

from musiclib.errors import ParameterError, check_finite, check_positive, check_signal

__all__ = [
    "SC_FLOOR_DB",
    "SNR_CEIL_DB",
    "spectral_convergence",
    "log_spectral_distance",
    "snr",
    "compare_audio",
]

#: :func:`spectral_convergence` never returns less than this (identical inputs give it, not ``-inf``).
SC_FLOOR_DB = -200.0

#: :func:`snr` never returns more than this (identical signals give exactly this value).
SNR_CEIL_DB = 200.0


def _magnitudes(name: str, S) -> np.ndarray:
    S = np.asarray(S)
    S = check_finite(name, np.abs(S) if np.iscomplexobj(S) else S, dtype=np.float64)
    if S.min() < 0:
        raise ParameterError(
            f"{name} must hold magnitudes (>= 0); its minimum is {S.min():.4g} "
            "(a dB spectrogram? pass linear magnitudes)"
        )
    return S


def _pair(S_ref, S_est):
    S_ref = _magnitudes("S_ref", S_ref)
    S_est = _magnitudes("S_est", S_est)
    if S_ref.shape != S_est.shape:
        raise ParameterError(
            f"S_ref has shape {S_ref.shape} but S_est has shape {S_est.shape}; they must match"
        )
    return S_ref, S_est


def spectral_convergence(S_ref: np.ndarray, S_est: np.ndarray) -> float:
    """Spectral convergence in dB: ``20 log10(||S_ref - S_est||_F / ||S_ref||_F)``.

    Parameters
    ----------
    S_ref, S_est : np.ndarray [shape=(n_bins, n_frames)]
        Reference and estimated magnitude spectrograms (complex input is reduced to its magnitude).

    Returns
    -------
    float
        dB, at least :data:`SC_FLOOR_DB`; -20 dB is an error of 10 % in norm.

    Raises
    ------
    ParameterError
        Shapes differ, values are negative or not finite, or ``S_ref`` is all zeros.
    """
    S_ref, S_est = _pair(S_ref, S_est)
    ref = float(np.linalg.norm(S_ref))
    if ref == 0.0:
        raise ParameterError("S_ref is all zeros; spectral convergence is undefined")
    err = float(np.linalg.norm(S_ref - S_est))
    if err == 0.0:
        return SC_FLOOR_DB
    return float(max(SC_FLOOR_DB, 20.0 * np.log10(err / ref)))


def log_spectral_distance(S_ref: np.ndarray, S_est: np.ndarray, *, eps: float = 1e-8) -> float:
    """Log-spectral distance in dB between two magnitude spectrograms: with ``L(S) = 20 log10(S + eps)``
    and frames ``t``::

        d_t = sqrt( mean_k ( L(S_ref)[k, t] - L(S_est)[k, t] )**2 )   # per-frame RMS dB difference
        LSD = sqrt( mean_t d_t**2 )                                   # RMS over frames

    Parameters
    ----------
    S_ref, S_est : np.ndarray [shape=(n_bins, n_frames)]
        Magnitude spectrograms of the same shape (complex input is reduced to its magnitude).
    eps : float > 0

    Returns
    -------
    float
        dB, >= 0; 0 for identical inputs.
    """
    S_ref, S_est = _pair(S_ref, S_est)
    check_positive("eps", eps)
    diff = 20.0 * (np.log10(S_ref + eps) - np.log10(S_est + eps))
    if diff.ndim == 1:
        diff = diff[:, None]
    per_frame = np.sqrt(np.mean(diff**2, axis=0))
    return float(np.sqrt(np.mean(per_frame**2)))


def snr(y_ref: np.ndarray, y_est: np.ndarray) -> float:
    """Signal-to-noise ratio in dB, ``10 log10(sum y_ref**2 / sum (y_ref - y_est)**2)``: meaningful only
    when the estimate should match sample by sample (a round trip with the true phase).

    Parameters
    ----------
    y_ref, y_est : np.ndarray [shape=(n_samples,)]

    Returns
    -------
    float
        dB, at most :data:`SNR_CEIL_DB` (which identical signals give).

    Raises
    ------
    ParameterError
        Lengths differ, a signal is not 1-D or not finite, or ``y_ref`` is silent.
    """
    y_ref = check_signal("y_ref", y_ref, dtype=np.float64)
    y_est = check_signal("y_est", y_est, dtype=np.float64)
    if y_ref.shape != y_est.shape:
        raise ParameterError(
            f"y_ref has {y_ref.shape[0]} samples but y_est has {y_est.shape[0]}; they must match"
        )
    p_ref = float(np.sum(y_ref**2))
    if p_ref == 0.0:
        raise ParameterError("y_ref is silent (all zeros); SNR is undefined")
    p_err = float(np.sum((y_ref - y_est) ** 2))
    if p_err == 0.0:
        return SNR_CEIL_DB
    return float(min(SNR_CEIL_DB, 10.0 * np.log10(p_ref / p_err)))


def compare_audio(
    y_ref: np.ndarray,
    y_est: np.ndarray,
    *,
    n_fft: int = 1024,
    hop_length: int | None = None,
) -> dict:
    """Compare two signals through their STFT magnitudes (:func:`musiclib.phase.stft`), ``y_est``
    trimmed or zero-padded to ``len(y_ref)``.

    Parameters
    ----------
    y_ref : np.ndarray [shape=(n_samples,)]
    y_est : np.ndarray [shape=(m_samples,)]
    n_fft : int > 0
    hop_length : int > 0 or None
        None: ``n_fft // 4``.

    Returns
    -------
    dict
        ``{"sc_db": spectral_convergence, "lsd_db": log_spectral_distance}`` (floats, dB).
    """
    import librosa

    from musiclib import phase

    y_ref = check_signal("y_ref", y_ref, dtype=np.float64)
    y_est = librosa.util.fix_length(check_signal("y_est", y_est, dtype=np.float64), size=len(y_ref))
    S_ref = np.abs(phase.stft(y_ref, n_fft=n_fft, hop_length=hop_length))
    S_est = np.abs(phase.stft(y_est, n_fft=n_fft, hop_length=hop_length))
    return {
        "sc_db": spectral_convergence(S_ref, S_est),
        "lsd_db": log_spectral_distance(S_ref, S_est),
    }
