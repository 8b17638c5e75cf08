"""What the musicality card (:mod:`musiclib.evaluation.card`) measures on one clip.

:func:`clip_features` makes the clip finite, mono and 22050 Hz; measures the levels of the whole clip
as given (growth, clipping, silence); then, on at most :data:`MAX_ANALYSIS_SECONDS` of it (the
middle) scaled to :data:`ANALYSIS_RMS_DB`: the log-mel spectrogram, MFCC + deltas, the flatness of
octave x 0.19 s patches, the share of frames whose dominant partials stay put, the onset envelope,
pooled log-mel bands and the one-second segments of the copying and diversity checks.
:func:`time_statistics` turns the onset envelope and pooled bands into rhythm, tempo and structure
statistics over windows of a chosen length, so that clips of different lengths compare on equal terms.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

from musiclib.audio import DEFAULT_SR, frame_level_db, resample
from musiclib.errors import ParameterError, check_int

__all__ = ["ClipFeatures", "clip_features", "onset_envelope", "time_statistics", "MIN_CLIP_SECONDS",
           "MAX_ANALYSIS_SECONDS"]

# Analysis settings
SR = DEFAULT_SR
N_FFT = 2048
HOP = 512
FPS = SR / HOP  # frames per second
N_MELS = 64
#: Dynamic range of each clip's log-mel spectrogram (dB below its maximum).
TOP_DB = 80.0
N_MFCC = 20
#: Shortest clip the card accepts (s).
MIN_CLIP_SECONDS = 1.0
#: Longest stretch of a clip the spectral and time checks analyse (its middle; s). The level checks
#: see the whole clip. Keeps a card of whole songs to seconds.
MAX_ANALYSIS_SECONDS = 30.0
#: Level every clip is scaled to before the spectral checks (dBFS RMS).
ANALYSIS_RMS_DB = -20.0
#: Frames quieter than this below a clip's loud level (its 95th-percentile frame) are silent ...
SILENCE_BELOW_DB = 50.0
#: ... and anything under this absolute level (dBFS) is silent too.
SILENCE_FLOOR_DBFS = -80.0
#: Frames within this many dB of a clip's loud level are "loud" (noise and drone checks).
LOUD_WITHIN_DB = 30.0
#: Frames per time-frequency patch of the noise check (8 x 512 samples = 0.19 s).
PATCH_FRAMES = 8
#: Partials (drone): spectral peaks in PARTIAL_BAND_HZ standing PARTIAL_PROMINENCE_DB over the
#: spectrum averaged across PROMINENCE_BINS bins, within PARTIAL_RANGE_DB of the frame's strongest
#: bin; a frame is held when HELD_SHARE of its N_PARTIALS most prominent are still partials
#: DRONE_LAG_SECONDS later.
N_PARTIALS = 4
HELD_SHARE = 0.75
PARTIAL_BAND_HZ = (50.0, 8000.0)
PARTIAL_PROMINENCE_DB = 10.0
PROMINENCE_BINS = 31
PARTIAL_RANGE_DB = 50.0
#: How far apart the drone check compares partials (s; half the clip when that is shorter).
DRONE_LAG_SECONDS = 2.0
#: Onset-periodicity lags searched (s): 40-240 BPM.
RHYTHM_LAGS = (0.25, 1.5)
#: Shuffles of a clip's own onset envelope (or frames) that give the chance level: blocks of
#: NULL_BLOCK_FRAMES frames (so that the chance level keeps the clip's short-range correlation).
N_NULL_SHUFFLES = 8
NULL_BLOCK_FRAMES = 8
#: Windows over which local periodicity is measured for tempo stability (s; hop: half of it).
TEMPO_WINDOW_SECONDS = 3.0
#: Time structure: log-mel bands pooled to this many, compared at these lags (s).
STRUCTURE_BANDS = 8
STRUCTURE_LAGS = (0.2, 0.3, 0.5)
#: Length of the segments compared by the copying and diversity checks (s; hop: half of it).
SEGMENT_SECONDS = 1.0
SEGMENT_FRAMES = int(round(SEGMENT_SECONDS * FPS))


@dataclass
class ClipFeatures:
    """What the card measures on one clip (frames at hop 512 / 22050 Hz).

    The level fields describe the whole clip as given; the rest describe at most
    :data:`MAX_ANALYSIS_SECONDS` of it, scaled to :data:`ANALYSIS_RMS_DB`.
    """

    duration: float  # whole clip (s)
    n_nonfinite: int  # NaN/inf samples (analysed as zeros)
    rms_db: float  # whole clip's RMS level (dBFS)
    clip_ratio: float  # share of samples at full scale
    growth_db: float  # median level of the last quarter minus the first (dB)
    silence_ratio: float  # share of silent frames
    logmel: np.ndarray  # (n_frames, N_MELS) dB
    mfcc: np.ndarray  # (n_frames, 2 * N_MFCC) MFCC and deltas
    spectrum: np.ndarray  # (n_bins,) mean power spectrum
    flatness: np.ndarray  # (n_loud_patches,) energy-weighted log10 flatness of octave x 0.19 s patches
    drone_share: float  # share of loud frames whose dominant partials stay put DRONE_LAG_SECONDS
    onset_env: np.ndarray  # (n_frames,) onset strength (rhythm, tempo; see time_statistics)
    bands: np.ndarray  # (n_frames, STRUCTURE_BANDS) pooled log-mel (structure; see time_statistics)
    segments: np.ndarray  # (n_segments, L * N_MELS // 2) mean-removed log-mel seconds
    loud_segments: np.ndarray  # (n_segments,) bool
    coarse: np.ndarray  # (n_frames, N_MELS // 2) log-mel whose sliding windows the segments are matched to


def clip_features(y: np.ndarray, *, sr: int = SR, what: str = "clip") -> ClipFeatures:
    """Measure one clip for the card (the steps are in the module docstring).

    Parameters
    ----------
    y : np.ndarray [shape=(n_samples,)]
        May hold NaN/inf (counted, then treated as zeros).
    sr : int
        Sample rate of ``y`` in Hz (resampled to :data:`SR`).
    what : str
        Name of the clip in error messages.

    Returns
    -------
    ClipFeatures

    Raises
    ------
    ParameterError
        A bad ``sr``, or ``y`` is not a 1-D numeric signal of at least :data:`MIN_CLIP_SECONDS`.
    """
    import librosa

    y, n_nonfinite = _prepared(y, sr=sr, what=what)
    levels = _level_features(y, n_nonfinite=n_nonfinite)
    n = int(MAX_ANALYSIS_SECONDS * SR)
    start = max(0, (len(y) - n) // 2)
    y = y[start : start + n]
    frame_db = frame_level_db(y, frame_length=N_FFT, hop_length=HOP)
    loud = frame_db > _loud_floor(frame_db, LOUD_WITHIN_DB)
    S, logmel = _spectrogram(y)
    mfcc = librosa.feature.mfcc(S=logmel.T, n_mfcc=N_MFCC)
    mfcc = np.concatenate([mfcc, librosa.feature.delta(mfcc, width=9)]).T
    return ClipFeatures(
        **levels,
        logmel=logmel,
        mfcc=mfcc.astype(np.float32),
        spectrum=S.mean(axis=1),
        flatness=_patch_flatness(S, frame_db),
        drone_share=_drone_share(S, loud=loud, seconds=len(y) / SR),
        onset_env=onset_envelope(logmel),
        bands=logmel.reshape(len(logmel), STRUCTURE_BANDS, -1).mean(axis=2),
        **_segment_features(logmel, frame_db),
    )


def _prepared(y, *, sr: int, what: str) -> tuple[np.ndarray, int]:
    """``y`` as a finite mono float64 signal at :data:`SR`, and how many samples were NaN/inf."""
    sr = check_int("sr", sr, note="Hz")
    y = np.asarray(getattr(y, "y", y))
    if y.ndim == 2 and min(y.shape) <= 8:  # (channels, n) or (n, channels) -> mono
        y = y.mean(axis=0) if y.shape[0] <= 8 else y.mean(axis=1)
    if y.ndim != 1:
        raise ParameterError(f"{what} must be a 1-D signal (n_samples,), got shape {y.shape}")
    if not np.issubdtype(y.dtype, np.number):
        raise ParameterError(f"{what} must hold numbers, got dtype {y.dtype}")
    if len(y) < MIN_CLIP_SECONDS * sr:
        raise ParameterError(f"{what} is {len(y) / sr:.3f} s long; the card needs clips of at least {MIN_CLIP_SECONDS} s")
    y = y.astype(np.float64)
    bad = ~np.isfinite(y)
    y[bad] = 0.0
    if sr != SR:
        y = resample(y.astype(np.float32), orig_sr=sr, target_sr=SR).astype(np.float64)
    return y, int(np.count_nonzero(bad))


def _loud_floor(frame_db: np.ndarray, within_db: float) -> float:
    """Level (dBFS) above which a frame counts: ``within_db`` below the loud level, at least -80."""
    return max(SILENCE_FLOOR_DBFS, float(np.percentile(frame_db, 95)) - within_db)


def _level_features(y: np.ndarray, *, n_nonfinite: int) -> dict:
    """Duration, level, clipping, growth and silence of the whole clip as given."""
    level = frame_level_db(y, frame_length=N_FFT, hop_length=HOP)
    # growth: median frame level of the last quarter over the first (floor -100 dBFS); medians of
    # dB levels, so a blow-up that saturates at full scale still shows its climb
    quarter = max(1, len(level) // 4)
    floored = np.maximum(level, -100.0)
    growth = float(np.median(floored[-quarter:]) - np.median(floored[:quarter]))
    return {
        "duration": len(y) / SR,
        "n_nonfinite": n_nonfinite,
        "rms_db": float(10 * np.log10(max(np.mean(y**2), 1e-20))),
        "clip_ratio": float(np.mean(np.abs(y) >= 0.999)),
        "growth_db": math.inf if n_nonfinite else growth,
        "silence_ratio": float(np.mean(level < _loud_floor(level, SILENCE_BELOW_DB))),
    }


def _spectrogram(y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Power spectrogram ``(n_bins, n_frames)`` and log-mel ``(n_frames, N_MELS)`` (dB, TOP_DB range)
    of ``y`` scaled to :data:`ANALYSIS_RMS_DB`."""
    import librosa

    power = float(np.mean(y**2))
    if power > 1e-14:
        y = y * (10 ** (ANALYSIS_RMS_DB / 20) / math.sqrt(power))
    S = np.abs(librosa.stft(y.astype(np.float32), n_fft=N_FFT, hop_length=HOP)) ** 2
    logmel = librosa.power_to_db(_mel_basis() @ S, ref=1.0, amin=1e-10, top_db=TOP_DB)
    return S, logmel.T.astype(np.float32)


@functools.lru_cache(maxsize=1)
def _mel_basis() -> np.ndarray:
    """librosa's mel filterbank ``(N_MELS, n_bins)``, for a plain product (faster than melspectrogram)."""
    import librosa

    return librosa.filters.mel(sr=SR, n_fft=N_FFT, n_mels=N_MELS, fmin=30.0, fmax=SR / 2).astype(np.float32)


def onset_envelope(logmel: np.ndarray) -> np.ndarray:
    """Onset strength: the mean rise of the log-mel bands from one frame to the next, in which the
    rhythm and tempo checks look for a pulse.

    Parameters
    ----------
    logmel : np.ndarray [shape=(n_frames, n_mels)]
        Log-mel spectrogram in dB (``ClipFeatures.logmel``).

    Returns
    -------
    np.ndarray [shape=(n_frames,)]
    """
    import librosa

    return librosa.onset.onset_strength(S=np.asarray(logmel).T, lag=1, max_size=1, center=False)


def _patch_flatness(S: np.ndarray, frame_db: np.ndarray) -> np.ndarray:
    """Energy-weighted sub-band log10 flatness of the loud octave x PATCH_FRAMES patches (noise has
    i.i.d. exponential power in every bin, log10 flatness -0.25; tones and hits are peaky)."""
    n = S.shape[1] // PATCH_FRAMES
    if n == 0:
        return np.empty(0, np.float32)
    edges = np.round(np.geomspace(100.0, min(10000.0, SR / 2 * 0.95), 9) * N_FFT / SR).astype(int)
    flat, weight = [], []
    for a, b in zip(edges[:-1], edges[1:]):
        if b - a < 4:
            continue
        P = S[a:b, : n * PATCH_FRAMES].astype(np.float64) + 1e-12
        P = P.reshape(b - a, n, PATCH_FRAMES).transpose(1, 0, 2).reshape(n, -1)
        flat.append(np.mean(np.log10(P), axis=1) - np.log10(np.mean(P, axis=1)))
        weight.append(np.sum(P, axis=1))
    flat, weight = np.array(flat), np.array(weight)
    patch = np.sum(flat * weight, axis=0) / np.maximum(np.sum(weight, axis=0), 1e-30)
    patch_db = 10 * np.log10(np.mean(10 ** (frame_db[: n * PATCH_FRAMES] / 10).reshape(n, PATCH_FRAMES), axis=1))
    return patch[patch_db > _loud_floor(frame_db, LOUD_WITHIN_DB)].astype(np.float32)


def _drone_share(S: np.ndarray, *, loud: np.ndarray, seconds: float) -> float:
    """Share of the loud frames whose dominant partials are still peaks (within a bin) later, as the
    constants above define (levels play no part, so a held tone under flickering bands still counts)."""
    import librosa
    import scipy.ndimage

    lag = int(min(DRONE_LAG_SECONDS, seconds / 2) * FPS)
    lo, hi = (int(f * N_FFT / SR) for f in PARTIAL_BAND_HZ)
    D = librosa.power_to_db(S[lo:hi], ref=1.0, amin=1e-10, top_db=None)
    prominence = D - scipy.ndimage.uniform_filter1d(D, PROMINENCE_BINS, axis=0, mode="nearest")
    partials = librosa.util.localmax(D, axis=0) & (prominence >= PARTIAL_PROMINENCE_DB) & loud[None, :]
    partials &= D >= D.max(axis=0, keepdims=True) - PARTIAL_RANGE_DB
    score = np.where(partials, prominence, -np.inf)
    dominant = partials & (score >= -np.partition(-score, N_PARTIALS - 1, axis=0)[N_PARTIALS - 1])
    now = dominant[:, : dominant.shape[1] - lag]
    later = scipy.ndimage.maximum_filter1d(partials, 3, axis=0)[:, lag:]
    n = now.sum(axis=0)
    if lag == 0 or not n.any():
        return math.nan
    held = (now & later).sum(axis=0)[n > 0] / n[n > 0]
    return float(np.mean(held >= HELD_SHARE))


def _periodicity(env: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Peak in [0, 1] of the normalised, overlap-corrected autocorrelation of onset envelopes
    ``(..., n_frames)`` within RHYTHM_LAGS (at most half the length), and its lag (s)."""
    import librosa

    x = env - env.mean(axis=-1, keepdims=True)
    n = x.shape[-1]
    lo, hi = max(1, int(RHYTHM_LAGS[0] * FPS)), min(int(RHYTHM_LAGS[1] * FPS), n // 2)
    if hi <= lo:
        return np.zeros(x.shape[:-1]), np.full(x.shape[:-1], np.nan)
    ac = librosa.autocorrelate(x, max_size=hi + 1, axis=-1)
    lags = np.arange(lo, hi + 1)
    vals = ac[..., lags] / np.maximum(ac[..., :1], 1e-12) * n / (n - lags)
    best = np.argmax(vals, axis=-1)
    peak = np.take_along_axis(vals, best[..., None], axis=-1)[..., 0]
    return np.clip(peak, 0.0, 1.0), lags[best] / FPS


def _rhythm_statistics(env: np.ndarray) -> dict:
    """Periodicity of an onset envelope, its chance level, its beat period, and how stable its tempo is."""
    import librosa

    peak, period = (float(v) for v in _periodicity(env))
    null = float(np.mean(_periodicity(env[_block_shuffles(len(env))])[0]))
    w = int(TEMPO_WINDOW_SECONDS * FPS)
    stability = math.nan
    if len(env) >= 2 * w:
        local = float(np.mean(_periodicity(librosa.util.frame(env, frame_length=w, hop_length=w // 2, axis=0))[0]))
        stability = peak / local if local > 1e-6 else 0.0
    return {
        "periodicity": max(0.0, peak - null),
        "periodicity_raw": peak,
        "periodicity_null": null,
        "beat_period": period,
        "tempo_stability": stability,
    }


def _block_shuffles(n: int) -> np.ndarray:
    """N_NULL_SHUFFLES orders of ``n`` frames: blocks of NULL_BLOCK_FRAMES in random order (seeded)."""
    rng = np.random.default_rng(0)
    n_blocks = n // NULL_BLOCK_FRAMES
    blocks = np.arange(n_blocks * NULL_BLOCK_FRAMES).reshape(n_blocks, NULL_BLOCK_FRAMES)
    tail = np.arange(n_blocks * NULL_BLOCK_FRAMES, n)
    return np.stack([np.concatenate([blocks[rng.permutation(n_blocks)].ravel(), tail]) for _ in range(N_NULL_SHUFFLES)])


def _gaussian_information(a: np.ndarray, b: np.ndarray) -> float:
    """Mutual information (nats) between two sets of paired vectors under a joint Gaussian model."""
    d = a.shape[1]
    C = np.cov(np.hstack([a, b]), rowvar=False)
    C += np.eye(2 * d) * (1e-3 * np.trace(C) / (2 * d) + 1e-9)
    logdet = [np.linalg.slogdet(M)[1] for M in (C[:d, :d], C[d:, d:], C)]
    return max(0.0, 0.5 * (logdet[0] + logdet[1] - logdet[2]))


def _temporal_information(bands: np.ndarray) -> float:
    """Mean information (nats) between pooled log-mel frames STRUCTURE_LAGS apart, above chance."""
    n = len(bands)
    X = bands.astype(np.float64)
    lags = [k for k in (int(round(s * FPS)) for s in STRUCTURE_LAGS) if 0 < k < n // 2]
    if not lags:
        return math.nan

    def information(Z):
        return np.mean([_gaussian_information(Z[:-k], Z[k:]) for k in lags])

    null = np.mean([information(X[order]) for order in _block_shuffles(n)])
    return float(max(0.0, information(X) - null))


def time_statistics(f: ClipFeatures, *, frames: int | None = None) -> dict[str, np.ndarray]:
    """Rhythm, tempo and time-structure statistics of a clip, one value per window of ``frames`` frames
    (each depends on how long a stretch it sees, so the card compares clips on equal windows).

    Parameters
    ----------
    f : ClipFeatures
    frames : int, optional
        Window length in frames, windows from the start (the remainder left out); by default, or
        when the clip is shorter, the whole clip.

    Returns
    -------
    dict of str -> np.ndarray [shape=(n_windows,)]
        ``"periodicity"`` (onset periodicity above chance, >= 0), ``"periodicity_raw"`` (the peak of
        the onset envelope's autocorrelation in RHYTHM_LAGS), ``"periodicity_null"`` (its chance
        level), ``"beat_period"`` (its lag, s), ``"tempo_stability"`` (whole-window periodicity over
        that of its 3-s sub-windows; nan under 6 s), ``"temporal_information"`` (nats between frames
        STRUCTURE_LAGS apart, above chance).
    """
    n = len(f.onset_env)
    frames = n if frames is None or frames >= n else int(frames)
    rows = []
    for start in range(0, n - frames + 1, frames):
        window = slice(start, start + frames)
        rows.append({**_rhythm_statistics(f.onset_env[window]), "temporal_information": _temporal_information(f.bands[window])})
    return {k: np.array([r[k] for r in rows]) for k in rows[0]}


def _segment_features(logmel: np.ndarray, frame_db: np.ndarray) -> dict:
    """Mean-removed one-second log-mel segments (32 bands, hop half a second) and which are loud."""
    import librosa

    coarse = logmel.reshape(len(logmel), N_MELS // 2, 2).mean(axis=2)
    L = SEGMENT_FRAMES
    if len(coarse) < L:
        return {"segments": np.empty((0, L * coarse.shape[1]), np.float32), "loud_segments": np.empty(0, bool),
                "coarse": coarse}
    segs = librosa.util.frame(coarse, frame_length=L, hop_length=L // 2, axis=0)  # (n_segments, L, bands)
    seg_db = librosa.util.frame(frame_db[: len(coarse)], frame_length=L, hop_length=L // 2, axis=0).max(axis=1)
    return {
        "segments": (segs - segs.mean(axis=(1, 2), keepdims=True)).reshape(len(segs), -1).astype(np.float32),
        "loud_segments": seg_db > _loud_floor(frame_db, SILENCE_BELOW_DB),
        "coarse": coarse,
    }
