"""Synthetic music for tests and benchmarks (no corpus needed); the same seed gives the same audio."""

from __future__ import annotations

import numpy as np

from musiclib.audio import DEFAULT_SR
from musiclib.errors import check_duration, check_int, check_number, check_sr

__all__ = ["tone", "synthetic_mix", "drum_loop"]


def _length(duration, sr) -> tuple[int, int]:
    """``(n_samples, sr)`` after checking both (:func:`musiclib.errors.check_duration`)."""
    sr = check_sr(sr)
    return max(1, int(round(check_duration("duration", duration, sr=sr) * sr))), sr


def tone(
    freq: float, *, duration: float = 1.0, sr: int = DEFAULT_SR, n_harmonics: int = 1, amplitude: float = 0.5
) -> np.ndarray:
    """A harmonic tone ``[shape=(round(duration * sr),)]``, float32, with 1/k harmonic amplitudes."""
    n, sr = _length(duration, sr)
    freq = check_number("freq", freq, low=0, high=sr / 2, low_open=True, high_open=True)
    n_harmonics = check_int("n_harmonics", n_harmonics, high=1000)
    amplitude = check_number("amplitude", amplitude, low=0, high=1e3)
    t = np.arange(n) / sr
    y = sum(np.sin(2 * np.pi * k * freq * t) / k for k in range(1, n_harmonics + 1) if k * freq < sr / 2)
    y = np.asarray(y, dtype=np.float64)
    peak = np.max(np.abs(y)) if y.size else 0.0
    return (amplitude * y / peak if peak > 0 else y).astype(np.float32)


def drum_loop(*, duration: float = 4.0, sr: int = DEFAULT_SR, bpm: float = 120.0, seed: int = 0) -> np.ndarray:
    """Kick on every beat, noise snare on 2 and 4, closed hat on eighths: float32, peak 0.9."""
    n, sr = _length(duration, sr)
    bpm = check_number("bpm", bpm, low=1, high=1000)
    rng = np.random.default_rng(check_int("seed", seed, low=0))
    y = np.zeros(n)
    k = np.arange(int(0.25 * sr)) / sr
    kick = np.sin(2 * np.pi * (50 + 100 * np.exp(-k * 30)) * k) * np.exp(-k * 12)
    snare = rng.standard_normal(len(k)) * np.exp(-k * 25) * 0.5
    hat = rng.standard_normal(int(0.05 * sr)) * np.exp(-np.arange(int(0.05 * sr)) / sr * 80) * 0.2
    hat = np.diff(hat, prepend=0)  # brighter
    for i, t0 in enumerate(np.arange(0, duration, 60.0 / bpm / 2)):  # eighth notes
        a = int(t0 * sr)
        for p, on in ((hat, True), (kick, i % 2 == 0), (snare, i % 4 == 2)):
            if on:
                m = min(len(p), n - a)
                y[a : a + m] += p[:m]
    return (0.9 * y / max(np.max(np.abs(y)), 1e-9)).astype(np.float32)


def synthetic_mix(*, duration: float = 10.0, sr: int = DEFAULT_SR, bpm: float = 120.0, seed: int = 0) -> np.ndarray:
    """A short piece of music: chords with vibrato and envelopes, a bass line, and a drum loop.

    Deterministic for a given ``seed``; float32, peak 0.9.
    """
    n, sr = _length(duration, sr)
    bpm = check_number("bpm", bpm, low=1, high=1000)
    rng = np.random.default_rng(check_int("seed", seed, low=0))
    t = np.arange(n) / sr
    beat = 60.0 / bpm
    bar = 4 * beat
    roots = 110.0 * 2 ** (np.array([0, 5, 7, 3]) / 12)  # A, D, E, C
    y = np.zeros(n)
    for b, t0 in enumerate(np.arange(0, duration, bar)):
        seg = (t >= t0) & (t < t0 + bar)
        tt = t[seg] - t0
        env = np.minimum(1, tt / 0.02) * np.exp(-tt / (1.5 * bar))
        root = roots[b % len(roots)]
        for interval in (0, 4 if b % 2 == 0 else 3, 7):
            f = 2 * root * 2 ** (interval / 12)
            vib = 1 + 0.004 * np.sin(2 * np.pi * 5.5 * tt + rng.uniform(0, 2 * np.pi))
            phase = 2 * np.pi * np.cumsum(f * vib) / sr
            y[seg] += 0.12 * env * sum(np.sin(k * phase) / k**1.5 for k in range(1, 6))
        for q in range(4):  # bass on the beats
            bs = (tt >= q * beat) & (tt < (q + 1) * beat)
            tb = tt[bs] - q * beat
            y[np.flatnonzero(seg)[bs]] += 0.25 * np.sin(2 * np.pi * root / 2 * tb) * np.exp(-tb * 4)
    y += 0.5 * drum_loop(duration=duration, sr=sr, bpm=bpm, seed=seed)[:n]
    return (0.9 * y / np.max(np.abs(y))).astype(np.float32)
