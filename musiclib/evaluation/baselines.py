"""Baselines every approach is compared against: what "no model" sounds like.

- :func:`shaped_noise`: noise with the training clips' average spectrum (right colour, no structure);
- :func:`shuffled_frames`: the training audio's STFT frames in random order (right sounds, no time);
- :func:`training_excerpt`: verbatim excerpts of training audio (perfect sound, pure copying).

A model worth its training time should beat the first two on the musicality card
(:mod:`musiclib.evaluation.card`) and must not be mistaken for the third. See ``notebooks/08_compare``.
"""

from __future__ import annotations

import numpy as np

from musiclib.audio import DEFAULT_SR
from musiclib.errors import ParameterError

__all__ = ["shaped_noise", "shuffled_frames", "training_excerpt", "noise_with_spectrum", "average_spectrum"]

N_FFT = 2048
HOP = 512


def _clips(training, name="training") -> list[np.ndarray]:
    if isinstance(training, np.ndarray) and training.ndim == 1:
        training = [training]
    clips = [np.asarray(getattr(c, "y", c), dtype=np.float32) for c in getattr(training, "clips", training)]
    if not clips:
        raise ParameterError(f"{name} is empty; baselines need at least one clip")
    for i, c in enumerate(clips):
        if c.ndim != 1 or len(c) < N_FFT:
            raise ParameterError(f"{name}[{i}] must be a 1-D clip of at least {N_FFT} samples, got shape {c.shape}")
    return clips


def _durations(durations, sr) -> list[int]:
    if durations is None:
        durations = [5.0] * 5
    elif np.isscalar(durations):
        durations = [float(durations)] * 5
    out = []
    for d in durations:
        if not np.isfinite(d) or d <= 0:
            raise ParameterError(f"durations must be positive seconds, got {d!r}")
        out.append(int(round(d * sr)))
    return out


def average_spectrum(clips, *, n_fft: int = N_FFT, hop_length: int = HOP) -> np.ndarray:
    """Mean power spectrum ``[shape=(n_fft // 2 + 1,)]`` over every frame of every clip."""
    import librosa

    total, count = 0.0, 0
    for c in _clips(clips):
        S = np.abs(librosa.stft(c, n_fft=n_fft, hop_length=hop_length)) ** 2
        total = total + S.sum(axis=1)
        count += S.shape[1]
    return (total / max(count, 1)).astype(np.float64)


def noise_with_spectrum(
    spectrum: np.ndarray, *, n_samples: int, n_fft: int = N_FFT, rng=None, rms_db: float = -20.0
) -> np.ndarray:
    """Stationary Gaussian noise whose power spectrum follows ``spectrum [shape=(n_fft // 2 + 1,)]``.

    White noise filtered in the frequency domain by ``sqrt(spectrum)`` (interpolated to the noise's
    length), scaled to ``rms_db`` dBFS RMS. Returns float32 ``[shape=(n_samples,)]``.
    """
    rng = np.random.default_rng(rng)
    spectrum = np.asarray(spectrum, dtype=np.float64)
    if spectrum.ndim != 1 or len(spectrum) != n_fft // 2 + 1:
        raise ParameterError(f"spectrum must have shape ({n_fft // 2 + 1},), got {spectrum.shape}")
    if n_samples < 2:
        raise ParameterError(f"n_samples={n_samples!r} must be at least 2")
    X = np.fft.rfft(rng.standard_normal(n_samples))
    f = np.linspace(0, 1, len(X))
    gain = np.sqrt(np.interp(f, np.linspace(0, 1, len(spectrum)), np.maximum(spectrum, 0)))
    y = np.fft.irfft(X * gain, n=n_samples)
    r = np.sqrt(np.mean(y**2))
    if r > 0:
        y *= 10 ** (rms_db / 20) / r
    return y.astype(np.float32)


def shaped_noise(training, *, sr: int = DEFAULT_SR, durations=None, seed: int = 0) -> list[np.ndarray]:
    """Noise shaped with the training clips' :func:`average_spectrum`, one clip per duration.

    Parameters
    ----------
    training : list of np.ndarray [shape=(n_samples,)] or a Corpus
    sr : int
        Sample rate in Hz (of ``training`` and of the returned clips).
    durations : float or list of float, optional
        Seconds per returned clip (default: five clips of 5 s), as in every baseline below.
    seed : int

    Returns
    -------
    list of np.ndarray [shape=(round(duration * sr),)], float32 at -20 dBFS RMS
    """
    spectrum = average_spectrum(training)
    rng = np.random.default_rng(seed)
    return [noise_with_spectrum(spectrum, n_samples=n, rng=rng) for n in _durations(durations, sr)]


def shuffled_frames(training, *, sr: int = DEFAULT_SR, durations=None, seed: int = 0) -> list[np.ndarray]:
    """Training audio's STFT frames (magnitude and phase) in random order, resynthesised by overlap-add.

    Every frame is real training sound, but their order is lost: what a model that learned the frame
    distribution and nothing about time would produce. Returns one float32 clip per duration (s).
    """
    import librosa

    clips = _clips(training)
    D = np.concatenate([librosa.stft(c, n_fft=N_FFT, hop_length=HOP) for c in clips], axis=1)
    rng = np.random.default_rng(seed)
    out = []
    for n in _durations(durations, sr):
        n_frames = 1 + n // HOP
        pick = rng.integers(0, D.shape[1], n_frames)
        y = librosa.istft(D[:, pick], hop_length=HOP, length=n)
        out.append(np.clip(y, -1, 1).astype(np.float32))
    return out


def training_excerpt(training, *, sr: int = DEFAULT_SR, durations=None, seed: int = 0) -> list[np.ndarray]:
    """Verbatim excerpts of training clips at random offsets (a copying model's output).

    Each excerpt comes from a training clip at least that long when there is one (otherwise the
    longest clip is used whole). Returns one float32 clip per duration (s).
    """
    clips = _clips(training)
    rng = np.random.default_rng(seed)
    out = []
    for n in _durations(durations, sr):
        long = [c for c in clips if len(c) >= n]
        c = long[rng.integers(len(long))] if long else max(clips, key=len)
        start = int(rng.integers(0, len(c) - min(n, len(c)) + 1))
        out.append(c[start : start + n].copy())
    return out
