"""The musicality card: objective checks for generated audio, calibrated on data.

Every earlier experiment judged its output by ear, and its failures had names: noise (with or without
a rhythm in it), drones, blow-ups, dropouts, and models that hand back their training data. The card
turns each failure into a measured statistic with a threshold:

============== ============================================================== ==========================
check          statistic (value)                                              passes when
============== ============================================================== ==========================
distribution   Fréchet distance of log-mel (and MFCC + delta) frame           value <= DISTRIBUTION_MAX
               statistics to the reference, rescaled so 0 is the reference
               against itself (floor) and 1 is noise shaped with the
               reference's average spectrum (ceiling); the worse of the two
noise          share of loud time-frequency patches (octave x 0.19 s) whose   value <= NOISE_MAX
               spectral flatness exceeds 90 % of the reference's
drone          spectral flux of the generated clips relative to the           value >= DRONE_MIN
               reference: min(median-flux ratio, flux-variation ratio)
blowup         worst clip's level growth (median dB of the last quarter       value <= ref + BLOWUP_MARGIN_DB
               minus the first); infinite when a clip holds NaN/inf samples
clipping       worst clip's share of samples at full scale (abs >= 0.999)     value <= ref + CLIPPING_MARGIN
dropout        worst clip's share of silent frames (50 dB below its loud      value <= ref + DROPOUT_MARGIN
               level, or below -80 dBFS)
rhythm         onset-strength periodicity (autocorrelation peak at            value >= RHYTHM_MIN
               0.25-1.5 s lags) relative to the reference's
copying        10th percentile of each generated second's distance to its     value >= COPYING_MIN
               nearest training second, relative to the same for the
               reference clips
diversity      each generated second's distance to the nearest second of      value >= DIVERSITY_MIN
               the *other* generated clips, relative to the same among the
               reference clips
============== ============================================================== ==========================

Most thresholds are relative to the reference (ratios or shares of the reference's own distribution),
so they carry over from one corpus to another. The constants below were set by :func:`calibrate`
(see its docstring and ``notebooks/08_compare``): held-out real music passes every check, and white
noise, shaped noise, a sustained chord, an exponentially growing signal, silence, a verbatim training
excerpt and identical clips each fail the check named for them.

Features are computed at 22050 Hz (n_fft 2048, hop 512, 64 mel bands); every clip is first scaled to
-20 dBFS RMS for the spectral checks, so gain differences between a model's output and the corpus do
not count, while the level checks (blowup, clipping, dropout) see the clips as given.
"""

from __future__ import annotations

import functools
import html
import math
from dataclasses import dataclass, field

import numpy as np

from musiclib.audio import DEFAULT_SR, resample
from musiclib.errors import ParameterError

__all__ = [
    "Card",
    "CHECKS",
    "musicality_card",
    "clip_features",
    "frechet_distance",
    "calibrate",
    "CalibrationResult",
    "MIN_CLIP_SECONDS",
]

# --------------------------------------------------------------------------------------------------
# Analysis settings
SR = DEFAULT_SR
N_FFT = 2048
HOP = 512
N_MELS = 64
N_MFCC = 20
#: Length of the segments compared by the copying and diversity checks (s).
SEGMENT_SECONDS = 1.0
#: Shortest clip the card accepts (s): one segment.
MIN_CLIP_SECONDS = 1.0
#: Level every clip is scaled to before the spectral checks (dBFS RMS).
ANALYSIS_RMS_DB = -20.0
#: Frames quieter than this below a clip's loud level (its 95th-percentile frame) are silent.
SILENCE_BELOW_DB = 50.0
#: ... and anything under this absolute level (dBFS) is silent too.
SILENCE_FLOOR_DBFS = -80.0
#: Frames within this many dB of a clip's loud level count as "loud" for the noise check.
LOUD_WITHIN_DB = 30.0
#: Frames per time-frequency patch of the noise check (8 x 512 samples = 0.19 s).
PATCH_FRAMES = 8
#: Percentile of the reference's loud-frame flatness that a "noisy" generated frame exceeds.
NOISE_PERCENTILE = 90.0
#: Onset-periodicity lags searched (s): 40-240 BPM.
RHYTHM_LAGS = (0.25, 1.5)
#: Bootstrap resamples for the distribution interval.
N_BOOTSTRAP = 100

# --------------------------------------------------------------------------------------------------
# Thresholds, set by ``calibrate()`` (the procedure is in its docstring; the choice of point between
# real music and failure is :func:`suggest_threshold`), rounded to two significant digits. The run:
#
#   python -m musiclib calibrate --corpus data/sonic-pi-samples --corpus data/nexuiz-music --splits 6
#
# i.e. calibrate(calibration_sets([...]), n_splits=6, seed=0, clip_seconds=None) on three sets of
# real music: nine synthetic mixes (musiclib.synth, 4 s, 96-136 BPM), the 17 Sonic Pi loops
# (loop_*.flac, CC0, tiled to >= 4 s) and 17 Nexuiz soundtrack songs (GPL, 8-s excerpts from a
# third of the way in). CALIBRATION below holds the printed table. "Real" is the worst value over
# the 3 sets x 6 splits; a failure's value is the one nearest to passing.
#: distribution: normalised Fréchet score; 0 = reference vs itself, 1 = shaped noise.
#: Real music at worst 0.56 (a Nexuiz split), shaped noise at best 0.61 (a Sonic Pi split): the
#: narrowest gap of the card -- shaped noise is caught more surely by ``noise``.
DISTRIBUTION_MAX = 0.59
#: noise: share of loud patches flatter than 90 % of the reference's. Real at worst 0.33, shaped noise 0.86.
NOISE_MAX = 0.59
#: drone: flux ratio to the reference. Real at worst 0.37, a sustained chord at best 0.045.
DRONE_MIN = 0.13
#: blowup: dB of growth allowed beyond the reference's worst clip. Real +9.3 dB, exponential growth +49 dB.
BLOWUP_MARGIN_DB = 29.0
#: clipping: share of full-scale samples allowed beyond the reference's worst clip. Real +0.006, growth +0.032.
CLIPPING_MARGIN = 0.019
#: dropout: share of silent frames allowed beyond the reference's worst clip (capped at DROPOUT_CAP).
#: Real +0.07, silence +0.93.
DROPOUT_MARGIN = 0.5
DROPOUT_CAP = 0.9
#: rhythm: onset periodicity relative to the reference's. Real at worst 0.71, white noise at best 0.41.
RHYTHM_MIN = 0.54
#: copying: nearest-training-distance ratio. Real at worst 0.61, a verbatim excerpt at best 0.10.
COPYING_MIN = 0.25
#: diversity: spread among generated clips relative to the reference clips'. Real at worst 0.72,
#: identical clips 0.002 (the suggestion caps the gap at a factor of ten).
DIVERSITY_MIN = 0.23

CALIBRATION = """
check                 real  white_noise shaped_noise        chord      growing      silence      excerpt    identical  suggested
distribution         0.561         1.02        0.614         1.08        0.592         4.28        -3.48         -3.3      0.588
noise                0.326            1        0.859            0            0          n/a            0            0      0.592
drone                0.368        0.115        0.117        0.045        0.116            0         1.19         1.23      0.129
blowup                 9.3        -11.8        -11.5        -11.8         48.6        -11.8        -10.8        -24.5       28.9
clipping           0.00588     -0.00588     -0.00588     -0.00588       0.0318     -0.00588     -0.00588     -0.00588     0.0189
dropout             0.0694      -0.0694      -0.0694      -0.0694        0.231        0.931      -0.0694      -0.0694        0.5
rhythm               0.707        0.414        0.457       0.0195         2.62            0         2.35         2.12      0.541
copying              0.607         5.54          3.8          5.6         5.39          n/a        0.104         2.55      0.251
diversity            0.724         0.39        0.487      0.00602        0.381          n/a         1.17      0.00185      0.229
cells: the real column shows the worst value over splits, the failure columns the value closest to passing; blowup/clipping/dropout are margins above the reference's worst clip
"""

#: The checks in display order, with the direction of each threshold.
CHECKS = {
    "distribution": "max",
    "noise": "max",
    "drone": "min",
    "blowup": "max",
    "clipping": "max",
    "dropout": "max",
    "rhythm": "min",
    "copying": "min",
    "diversity": "min",
}

DESCRIPTIONS = {
    "distribution": "Fréchet distance of log-mel / MFCC+delta frames to the reference: 0 = reference vs itself, 1 = shaped noise",
    "noise": "share of loud octave x 0.19 s patches flatter (spectral flatness) than 90% of the reference's",
    "drone": "spectral flux (level and variation over time) relative to the reference",
    "blowup": "worst clip's level growth, median level of the last quarter over the first (dB); inf = NaN/inf samples",
    "clipping": "worst clip's share of samples at full scale",
    "dropout": "worst clip's share of silent frames",
    "rhythm": "onset-strength periodicity relative to the reference",
    "copying": "distance of generated seconds to their nearest training second, relative to reference clips'",
    "diversity": "distance between different generated clips, relative to that between reference clips",
}


# --------------------------------------------------------------------------------------------------
# Features


@functools.lru_cache(maxsize=4)
def _mel_basis(sr: int, n_fft: int, n_mels: int) -> np.ndarray:
    import librosa

    return librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=n_mels, fmin=30.0, fmax=sr / 2).astype(np.float32)


@functools.lru_cache(maxsize=4)
def _flatness_bands(sr: int, n_fft: int) -> list[tuple[int, int]]:
    edges = np.geomspace(100.0, min(10000.0, sr / 2 * 0.95), 9)
    bins = np.round(edges * n_fft / sr).astype(int)
    return [(int(a), int(b)) for a, b in zip(bins[:-1], bins[1:]) if b - a >= 4]


def _power_stft(y: np.ndarray) -> np.ndarray:
    """Power spectrogram [shape=(n_fft//2+1, n_frames)], Hann window, centred frames."""
    import scipy.signal

    win = scipy.signal.get_window("hann", N_FFT).astype(np.float32)
    pad = np.pad(y, N_FFT // 2, mode="constant")
    n_frames = 1 + (len(pad) - N_FFT) // HOP
    frames = np.lib.stride_tricks.sliding_window_view(pad, N_FFT)[::HOP][:n_frames]
    spec = np.fft.rfft(frames * win, axis=1)
    return (spec.real**2 + spec.imag**2).T.astype(np.float32)


@dataclass
class ClipFeatures:
    """What the card measures on one clip (frames at hop 512 / 22050 Hz)."""

    duration: float
    n_nonfinite: int
    clip_ratio: float
    growth_db: float
    silence_ratio: float
    logmel: np.ndarray  # (n_frames, N_MELS) dB of the level-normalised clip
    mfcc: np.ndarray  # (n_frames, 2 * N_MFCC): MFCC and deltas
    flatness: np.ndarray  # (n_loud_patches,) energy-weighted log10 flatness of octave x 0.19 s patches
    flux: np.ndarray  # (n_frames - 1,) positive log-mel flux (dB)
    periodicity: float  # autocorrelation peak of the onset envelope, in [0, 1]
    tempo_lag: float  # lag of that peak (s)
    segments: np.ndarray  # (n_segments, seg_dim) mean-removed log-mel seconds (hop: half a second)
    windows_source: np.ndarray  # (n_frames, N_MELS // 2) log-mel used for sliding windows
    loud_segments: np.ndarray  # (n_segments,) bool
    spectrum: np.ndarray  # (n_bins,) mean power spectrum of the normalised clip


def _as_float_clip(y, *, what: str) -> np.ndarray:
    y = np.asarray(getattr(y, "y", y))
    if y.ndim == 2 and min(y.shape) <= 8:  # (channels, n) -> mono
        y = y.mean(axis=0) if y.shape[0] <= 8 else y.mean(axis=1)
    if y.ndim != 1:
        raise ParameterError(f"{what} must be a 1-D signal (n_samples,), got shape {y.shape}")
    if not np.issubdtype(y.dtype, np.number):
        raise ParameterError(f"{what} must hold numbers, got dtype {y.dtype}")
    return y.astype(np.float64, copy=False)


def clip_features(y: np.ndarray, *, sr: int = SR, what: str = "clip") -> ClipFeatures:
    """Measure one clip for the card.

    Parameters
    ----------
    y : np.ndarray [shape=(n_samples,)]
        May hold NaN/inf (counted, then treated as zeros).
    sr : int
        Sample rate of ``y`` in Hz; resampled to 22050 Hz when different.

    Returns
    -------
    ClipFeatures

    Raises
    ------
    ParameterError
        ``y`` is not 1-D or is shorter than :data:`MIN_CLIP_SECONDS`.
    """
    import librosa

    y = _as_float_clip(y, what=what)
    bad = ~np.isfinite(y)
    n_nonfinite = int(np.count_nonzero(bad))
    if n_nonfinite:
        y = np.where(bad, 0.0, y)
    if len(y) < MIN_CLIP_SECONDS * sr:
        raise ParameterError(
            f"{what} is {len(y) / sr:.3f} s long; the card needs clips of at least {MIN_CLIP_SECONDS} s"
        )
    if sr != SR:
        y = resample(y.astype(np.float32), orig_sr=sr, target_sr=SR).astype(np.float64)
    duration = len(y) / SR

    # level checks on the clip as given
    clip_ratio = float(np.mean(np.abs(y) >= 0.999))
    pad = np.pad(y, N_FFT // 2)
    n_frames = 1 + (len(pad) - N_FFT) // HOP
    power = np.mean(np.lib.stride_tricks.sliding_window_view(pad**2, N_FFT)[::HOP][:n_frames], axis=1)
    level = 10 * np.log10(np.maximum(power, 1e-20))
    loud_level = float(np.percentile(level, 95))
    silent = level < max(SILENCE_FLOOR_DBFS, loud_level - SILENCE_BELOW_DB)
    silence_ratio = float(np.mean(silent))
    # growth: median frame level of the last quarter over the first (dB, floor -100 dBFS); medians
    # of dB levels, so a blow-up that saturates at full scale still shows its climb
    quarter = max(1, len(level) // 4)
    floor_level = np.maximum(level, -100.0)
    growth_db = float(np.median(floor_level[-quarter:]) - np.median(floor_level[:quarter]))
    if n_nonfinite:
        growth_db = math.inf

    # spectral checks on the clip scaled to ANALYSIS_RMS_DB
    total = float(np.mean(y**2))
    if total > 1e-14:
        y = y * (10 ** (ANALYSIS_RMS_DB / 20) / math.sqrt(total))
    y32 = y.astype(np.float32)
    S = _power_stft(y32)  # (n_bins, n_frames)
    mel = _mel_basis(SR, N_FFT, N_MELS) @ S
    logmel = (10 * np.log10(np.maximum(mel, 1e-10))).T  # (n_frames, n_mels), floor -100 dB
    mfcc = librosa.feature.mfcc(S=logmel.T, n_mfcc=N_MFCC)
    width = min(9, mfcc.shape[1] - (1 - mfcc.shape[1] % 2))
    delta = librosa.feature.delta(mfcc, width=max(3, width)) if mfcc.shape[1] >= 3 else np.zeros_like(mfcc)
    mfcc_d = np.concatenate([mfcc, delta]).T.astype(np.float32)

    # noise: energy-weighted sub-band flatness of loud time-frequency patches (octave x ~0.19 s).
    # Noise has i.i.d. exponential power in every bin of such a patch (log10 flatness -0.25, the
    # highest a random signal reaches); tones are peaky along frequency, drum hits along time.
    flatness = _patch_flatness(S, level, loud_level)

    # drone + rhythm: positive log-mel flux with an 80 dB range per clip
    clamped = np.maximum(logmel, logmel.max() - 80.0)
    flux = np.mean(np.maximum(np.diff(clamped, axis=0), 0.0), axis=1).astype(np.float32)
    periodicity, tempo_lag = _periodicity(flux, duration)

    # copying + diversity: mean-removed log-mel seconds (32 bands: adjacent pairs averaged)
    coarse = clamped.reshape(len(clamped), N_MELS // 2, 2).mean(axis=2).astype(np.float32)
    L = _segment_frames()
    starts = np.arange(0, max(1, len(coarse) - L + 1), max(1, L // 2))
    segs = np.stack([coarse[s : s + L] for s in starts if s + L <= len(coarse)]) if len(coarse) >= L else np.empty(
        (0, L, coarse.shape[1]), np.float32
    )
    seg_level = np.array([np.max(level[s : s + L]) for s in starts[: len(segs)]]) if len(segs) else np.empty(0)
    loud_segs = seg_level > max(SILENCE_FLOOR_DBFS, loud_level - SILENCE_BELOW_DB)
    segments = (segs - segs.mean(axis=(1, 2), keepdims=True)).reshape(len(segs), -1) if len(segs) else np.empty(
        (0, L * coarse.shape[1]), np.float32
    )
    return ClipFeatures(
        duration=duration,
        n_nonfinite=n_nonfinite,
        clip_ratio=clip_ratio,
        growth_db=growth_db,
        silence_ratio=silence_ratio,
        logmel=logmel.astype(np.float32),
        mfcc=mfcc_d,
        flatness=flatness,
        flux=flux,
        periodicity=periodicity,
        tempo_lag=tempo_lag,
        segments=segments.astype(np.float32),
        windows_source=coarse,
        loud_segments=loud_segs,
        spectrum=S.mean(axis=1),
    )


def _patch_flatness(S: np.ndarray, level: np.ndarray, loud_level: float) -> np.ndarray:
    T = PATCH_FRAMES
    n = S.shape[1] // T
    if n == 0:
        return np.empty(0, np.float32)
    flat, weight = [], []
    for a, b in _flatness_bands(SR, N_FFT):
        P = S[a:b, : n * T].astype(np.float64) + 1e-12
        P = P.reshape(b - a, n, T).transpose(1, 0, 2).reshape(n, -1)
        flat.append(np.mean(np.log10(P), axis=1) - np.log10(np.mean(P, axis=1)))
        weight.append(np.sum(P, axis=1))
    flat, weight = np.array(flat), np.array(weight)
    patch = np.sum(flat * weight, axis=0) / np.maximum(np.sum(weight, axis=0), 1e-30)
    patch_level = 10 * np.log10(np.mean(10 ** (level[: n * T] / 10).reshape(n, T), axis=1))
    loud = patch_level > max(SILENCE_FLOOR_DBFS, loud_level - LOUD_WITHIN_DB)
    return patch[loud].astype(np.float32)


def _segment_frames() -> int:
    return int(round(SEGMENT_SECONDS * SR / HOP))


def _periodicity(env: np.ndarray, duration: float) -> tuple[float, float]:
    """Peak of the normalised autocorrelation of an onset envelope within RHYTHM_LAGS."""
    fps = SR / HOP
    x = env.astype(np.float64) - np.mean(env)
    if len(x) < 8 or np.sum(x**2) < 1e-12:
        return 0.0, math.nan
    n = len(x)
    f = np.fft.rfft(x, 2 * n)
    ac = np.fft.irfft(f * np.conj(f))[:n]
    ac /= ac[0]
    # unbiased: correct for the shrinking overlap, then limit lags to half the clip
    lo = max(1, int(RHYTHM_LAGS[0] * fps))
    hi = min(int(RHYTHM_LAGS[1] * fps), n // 2)
    if hi <= lo:
        return 0.0, math.nan
    lags = np.arange(lo, hi + 1)
    vals = ac[lags] * n / (n - lags)
    i = int(np.argmax(vals))
    return float(np.clip(vals[i], 0.0, 1.0)), float(lags[i] / fps)


# --------------------------------------------------------------------------------------------------
# Statistics


def _gauss(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    X = np.asarray(X, dtype=np.float64)
    return X.mean(axis=0), np.cov(X, rowvar=False)


def _sqrtm_psd(C: np.ndarray) -> np.ndarray:
    w, V = np.linalg.eigh((C + C.T) / 2)
    return (V * np.sqrt(np.clip(w, 0, None))) @ V.T


def frechet_distance(mu1, C1, mu2, C2, *, sqrt_C2: np.ndarray | None = None) -> float:
    """Fréchet distance between two Gaussians: ``|mu1-mu2|^2 + tr(C1 + C2 - 2 (C1 C2)^(1/2))``."""
    R = _sqrtm_psd(C2) if sqrt_C2 is None else sqrt_C2
    w = np.linalg.eigvalsh(R @ C1 @ R)
    tr_cov = float(np.sum(np.sqrt(np.clip(w, 0, None))))
    d = np.sum((mu1 - mu2) ** 2) + np.trace(C1) + np.trace(C2) - 2 * tr_cov
    return float(max(d, 0.0))


def _nn_distance(queries: np.ndarray, sources: list[np.ndarray], *, exclude=None) -> np.ndarray:
    """RMS (dB) distance from each query segment to its nearest sliding window of any source.

    queries : (n, L * d) mean-removed segments; sources: list of (n_frames, d) log-mel arrays, whose
    windows of L frames at every frame offset are mean-removed the same way.
    """
    L = _segment_frames()
    n, dim = queries.shape
    best = np.full(n, np.inf)
    if n == 0:
        return best
    q = queries.astype(np.float32)
    qn = np.sum(q.astype(np.float64) ** 2, axis=1)
    for src in sources:
        if len(src) < L:
            continue
        win = np.lib.stride_tricks.sliding_window_view(src, L, axis=0)  # (m, d, L)
        step = 1 if len(win) * n < 4e6 else 2
        win = win[::step]
        for a in range(0, len(win), 2048):
            w = np.ascontiguousarray(win[a : a + 2048].transpose(0, 2, 1)).reshape(-1, dim)
            w = w - w.mean(axis=1, keepdims=True)
            wn = np.sum(w.astype(np.float64) ** 2, axis=1)
            d2 = qn[:, None] + wn[None, :] - 2 * (q @ w.T).astype(np.float64)
            best = np.minimum(best, np.min(d2, axis=1))
    return np.sqrt(np.maximum(best, 0.0) / dim)


def _shaped_noise_features(ref: list[ClipFeatures], durations: list[float], *, seed: int) -> list[ClipFeatures]:
    """Noise with the reference's average power spectrum, clip for clip as long as ``durations``."""
    from musiclib.evaluation.baselines import noise_with_spectrum

    spectrum = np.mean([f.spectrum for f in ref], axis=0)
    rng = np.random.default_rng(seed)
    return [
        clip_features(noise_with_spectrum(spectrum, n_samples=int(d * SR), n_fft=N_FFT, rng=rng), sr=SR)
        for d in durations
    ]


def _split_halves(feats: list[ClipFeatures], attr: str) -> tuple[np.ndarray, np.ndarray]:
    if len(feats) >= 2:
        a = np.concatenate([getattr(f, attr) for f in feats[0::2]])
        b = np.concatenate([getattr(f, attr) for f in feats[1::2]])
        return a, b
    X = getattr(feats[0], attr)
    return X[: len(X) // 2], X[len(X) // 2 :]


def _distribution(gen, ref, noise, *, seed: int) -> dict:
    out = {}
    rng = np.random.default_rng(seed)
    L = _segment_frames()
    for attr in ("logmel", "mfcc"):
        R = np.concatenate([getattr(f, attr) for f in ref])
        mu_r, C_r = _gauss(R)
        sq = _sqrtm_psd(C_r)
        G = np.concatenate([getattr(f, attr) for f in gen])
        fd = frechet_distance(*_gauss(G), mu_r, C_r, sqrt_C2=sq)
        a, b = _split_halves(ref, attr)
        floor = frechet_distance(*_gauss(a), *_gauss(b))
        ceiling = frechet_distance(*_gauss(np.concatenate([getattr(f, attr) for f in noise])), mu_r, C_r, sqrt_C2=sq)
        scale = ceiling - floor if ceiling > floor * 1.01 else max(ceiling, 1e-9)
        offset = floor if ceiling > floor * 1.01 else 0.0
        # block bootstrap over one-second blocks of generated frames, from per-block sums
        Gd = G.astype(np.float64)
        edges = list(range(0, len(Gd), L))
        counts = np.array([min(L, len(Gd) - s) for s in edges], dtype=np.float64)
        sums = np.stack([Gd[s : s + L].sum(axis=0) for s in edges])
        outer = np.stack([Gd[s : s + L].T @ Gd[s : s + L] for s in edges])
        boots = []
        for _ in range(N_BOOTSTRAP):
            w = np.bincount(rng.integers(0, len(edges), len(edges)), minlength=len(edges)).astype(np.float64)
            n = w @ counts
            if n > 2:
                mu = (w @ sums) / n
                C = (np.tensordot(w, outer, axes=1) - n * np.outer(mu, mu)) / (n - 1)
                boots.append(frechet_distance(mu, C, mu_r, C_r, sqrt_C2=sq))
        lo, hi = np.percentile(boots, [5, 95]) if boots else (fd, fd)
        out[attr] = {
            "fd": fd,
            "fd_interval_90": [float(lo), float(hi)],
            "floor": floor,
            "ceiling": ceiling,
            "score": (fd - offset) / scale,
            "score_interval_90": [float((lo - offset) / scale), float((hi - offset) / scale)],
        }
    value = max(out["logmel"]["score"], out["mfcc"]["score"])
    return {"value": value, "base": 0.0, "threshold": DISTRIBUTION_MAX, "detail": out}


def _noise(gen, ref) -> dict:
    rf = np.concatenate([f.flatness for f in ref])
    gf = np.concatenate([f.flatness for f in gen])
    if len(rf) == 0 or len(gf) == 0:
        return {"value": math.nan, "base": 0.0, "threshold": NOISE_MAX, "detail": {"reason": "no loud frames"}}
    cut = float(np.percentile(rf, NOISE_PERCENTILE))
    value = float(np.mean(gf > cut))
    return {
        "value": value,
        "base": 0.0,
        "threshold": NOISE_MAX,
        "detail": {
            "reference_p90_log10_flatness": cut,
            "generated_median_log10_flatness": float(np.median(gf)),
            "reference_median_log10_flatness": float(np.median(rf)),
        },
    }


def _flux_stats(feats) -> tuple[float, float]:
    fl = np.concatenate([f.flux for f in feats])
    # variation over time: spread of the flux across half-second windows of each clip
    w = max(2, int(0.5 * SR / HOP))
    spreads = []
    for f in feats:
        x = f.flux
        for s in range(0, len(x) - w + 1, w):
            spreads.append(np.std(x[s : s + w]))
    return float(np.median(fl)) if len(fl) else 0.0, float(np.median(spreads)) if spreads else 0.0


def _drone(gen, ref) -> dict:
    gl, gv = _flux_stats(gen)
    rl, rv = _flux_stats(ref)
    level = gl / rl if rl > 1e-9 else math.inf
    variation = gv / rv if rv > 1e-9 else math.inf
    return {
        "value": float(min(level, variation)),
        "base": 0.0,
        "threshold": DRONE_MIN,
        "detail": {
            "flux_ratio": level,
            "flux_variation_ratio": variation,
            "generated_median_flux_db": gl,
            "reference_median_flux_db": rl,
        },
    }


def _level_checks(gen, ref) -> dict:
    out = {}
    ref_growth = max(max(f.growth_db for f in ref), 0.0)
    gen_growth = max(f.growth_db for f in gen)
    out["blowup"] = {
        "value": gen_growth,
        "base": ref_growth,
        "threshold": ref_growth + BLOWUP_MARGIN_DB,
        "detail": {
            "per_clip_growth_db": [f.growth_db for f in gen],
            "nonfinite_samples": [f.n_nonfinite for f in gen],
            "reference_worst_growth_db": ref_growth,
        },
    }
    ref_clip = max(f.clip_ratio for f in ref)
    out["clipping"] = {
        "value": max(f.clip_ratio for f in gen),
        "base": ref_clip,
        "threshold": ref_clip + CLIPPING_MARGIN,
        "detail": {"per_clip": [f.clip_ratio for f in gen], "reference_worst": ref_clip},
    }
    ref_sil = max(f.silence_ratio for f in ref)
    out["dropout"] = {
        "value": max(f.silence_ratio for f in gen),
        "base": ref_sil,
        "threshold": min(DROPOUT_CAP, ref_sil + DROPOUT_MARGIN),
        "detail": {"per_clip": [f.silence_ratio for f in gen], "reference_worst": ref_sil},
    }
    return out


def _rhythm(gen, ref) -> dict:
    g = float(np.median([f.periodicity for f in gen]))
    r = float(np.median([f.periodicity for f in ref]))
    value = g / r if r > 1e-6 else math.inf
    lags = [f.tempo_lag for f in gen if np.isfinite(f.tempo_lag)]
    return {
        "value": value,
        "base": 0.0,
        "threshold": RHYTHM_MIN,
        "detail": {
            "generated_periodicity": g,
            "reference_periodicity": r,
            "generated_beat_period_s": [round(x, 3) for x in lags],
            "tempo_spread": float(np.std(lags) / np.mean(lags)) if len(lags) > 1 else 0.0,
        },
    }


def _loud(f: ClipFeatures) -> np.ndarray:
    return f.segments[f.loud_segments]


def _copying(gen, ref, train) -> dict:
    sources = [f.windows_source for f in train]
    dg = np.concatenate([_nn_distance(_loud(f), sources) for f in gen])
    dr = np.concatenate([_nn_distance(_loud(f), sources) for f in ref])
    if len(dg) == 0 or len(dr) == 0:
        return {"value": math.nan, "base": 0.0, "threshold": COPYING_MIN, "detail": {"reason": "no loud segments"}}
    qg, qr = float(np.percentile(dg, 10)), float(np.percentile(dr, 10))
    return {
        "value": qg / qr if qr > 1e-9 else math.inf,
        "base": 0.0,
        "threshold": COPYING_MIN,
        "detail": {
            "generated_p10_distance_db": qg,
            "reference_p10_distance_db": qr,
            "generated_median_distance_db": float(np.median(dg)),
            "near_copy_share": float(np.mean(dg < COPYING_MIN * qr)),
        },
    }


def _spread(feats) -> np.ndarray:
    if len(feats) >= 2:
        groups = feats
        out = []
        for i, f in enumerate(groups):
            others = [g.windows_source for j, g in enumerate(groups) if j != i]
            out.append(_nn_distance(_loud(f), others))
        return np.concatenate(out)
    # one clip: its first half against its second half
    f = feats[0]
    half = len(f.windows_source) // 2
    L = _segment_frames()
    segs = f.segments[f.loud_segments]
    first = segs[: max(1, (half - L) // max(1, L // 2))]
    return _nn_distance(first, [f.windows_source[half:]])


def _diversity(gen, ref) -> dict:
    if len(gen) < 2:
        return {"value": math.nan, "base": 0.0, "threshold": DIVERSITY_MIN, "detail": {"reason": "needs 2 or more generated clips"}}
    dg, dr = _spread(gen), _spread(ref)
    dg, dr = dg[np.isfinite(dg)], dr[np.isfinite(dr)]
    if len(dg) == 0 or len(dr) == 0:
        return {"value": math.nan, "base": 0.0, "threshold": DIVERSITY_MIN, "detail": {"reason": "no loud segments"}}
    g, r = float(np.median(dg)), float(np.median(dr))
    return {
        "value": g / r if r > 1e-9 else math.inf,
        "base": 0.0,
        "threshold": DIVERSITY_MIN,
        "detail": {"generated_median_distance_db": g, "reference_median_distance_db": r},
    }


# --------------------------------------------------------------------------------------------------
# The card


def _fmt(x) -> str:
    if x is None:
        return "-"
    if isinstance(x, float):
        if math.isnan(x):
            return "n/a"
        if math.isinf(x):
            return "inf" if x > 0 else "-inf"
        return f"{x:.3g}" if abs(x) >= 1e-3 or x == 0 else f"{x:.1e}"
    return str(x)


def _jsonable(x):
    if isinstance(x, dict):
        return {k: _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, (np.floating, float)):
        x = float(x)
        return None if math.isnan(x) else ("inf" if x == math.inf else "-inf" if x == -math.inf else x)
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, np.bool_):
        return bool(x)
    return x


@dataclass
class Card:
    """A musicality card: per-check value, threshold, pass/fail and detail.

    Attributes
    ----------
    checks : dict
        ``name -> {"value", "threshold", "passed", "rule", "detail"}``; ``passed`` is None where the
        check does not apply (e.g. diversity with one clip, noise on silence).
    seconds : float
        Seconds of generated audio measured.
    """

    checks: dict
    seconds: float = 0.0
    n_clips: int = 0
    label: str | None = None
    meta: dict = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        """True when no check failed (checks that do not apply count as not failed)."""
        return all(c["passed"] is not False for c in self.checks.values())

    @property
    def failed(self) -> list[str]:
        return [k for k, c in self.checks.items() if c["passed"] is False]

    def to_dict(self) -> dict:
        """JSON-able: ``{"passed", "checks": {name: {"value", "threshold", "passed", "rule", "detail"}}, ...}``."""
        return _jsonable(
            {"passed": self.passed, "n_clips": self.n_clips, "seconds": self.seconds, "checks": self.checks}
        )

    def summary_row(self) -> dict:
        """``{check: value}`` plus ``passed``: one row of a comparison table."""
        row = {k: c["value"] for k, c in self.checks.items()}
        row["passed"] = self.passed
        return row

    def __str__(self) -> str:
        w = max(len(k) for k in self.checks)
        lines = [f"{'check':<{w}}  {'value':>10}  {'rule':<4} {'threshold':>10}  result"]
        for k, c in self.checks.items():
            rule = "<=" if c["rule"] == "max" else ">="
            res = {True: "pass", False: "FAIL", None: "n/a"}[c["passed"]]
            lines.append(f"{k:<{w}}  {_fmt(c['value']):>10}  {rule:<4} {_fmt(c['threshold']):>10}  {res}")
        lines.append(f"overall: {'PASS' if self.passed else 'FAIL (' + ', '.join(self.failed) + ')'}"
                     f"  [{self.n_clips} clips, {self.seconds:.1f} s]")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        colour = {True: "#d4f4d4", False: "#f8d0d0", None: "#eeeeee"}
        word = {True: "pass", False: "FAIL", None: "n/a"}
        rows = []
        for k, c in self.checks.items():
            rule = "&le;" if c["rule"] == "max" else "&ge;"
            rows.append(
                f"<tr style='background:{colour[c['passed']]}'><td title='{html.escape(DESCRIPTIONS.get(k, ''))}'>"
                f"{html.escape(k)}</td><td>{_fmt(c['value'])}</td><td>{rule} {_fmt(c['threshold'])}</td>"
                f"<td><b>{word[c['passed']]}</b></td><td style='font-size:smaller'>{html.escape(DESCRIPTIONS.get(k, ''))}</td></tr>"
            )
        title = f"<caption>{html.escape(self.label)}</caption>" if self.label else ""
        verdict = "PASS" if self.passed else "FAIL: " + ", ".join(self.failed)
        return (
            f"<table class='musicality-card'>{title}<thead><tr><th>check</th><th>value</th><th>threshold</th>"
            f"<th>result</th><th>measures</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
            f"<p><b>{verdict}</b> ({self.n_clips} clips, {self.seconds:.1f} s)</p>"
        )


def _as_clips(x, *, name: str) -> list:
    if x is None:
        raise ParameterError(f"{name} is required (a list of clips)")
    if isinstance(x, np.ndarray) and x.ndim == 1:
        x = [x]
    clips = list(getattr(x, "clips", x))
    if not clips:
        raise ParameterError(f"{name} is empty; the card needs at least one clip")
    return clips


def _features(clips, *, sr, name) -> list[ClipFeatures]:
    return [clip_features(c, sr=sr, what=f"{name}[{i}]") for i, c in enumerate(clips)]


def musicality_card(
    generated,
    *,
    training,
    reference,
    sr: int = SR,
    label: str | None = None,
    seed: int = 0,
    features: dict | None = None,
) -> Card:
    """Measure generated clips against the music a model learned from and unseen real music.

    Parameters
    ----------
    generated : list of np.ndarray [shape=(n_samples,)]
        The model's clips (at least :data:`MIN_CLIP_SECONDS` each). A Corpus or Clip objects work too.
    training : list of np.ndarray
        The clips the model learned from (for the copying check).
    reference : list of np.ndarray
        Held-out real clips (the yardstick for every relative check).
    sr : int
        Sample rate of every clip in Hz (resampled to 22050 Hz for analysis).
    label : str, optional
        A name shown in the card's caption.
    seed : int
        Seeds the shaped-noise ceiling and the bootstrap.
    features : dict, optional
        A cache ``{"training": [...], "reference": [...]}`` of :class:`ClipFeatures` to reuse across
        several cards against the same data (filled in when empty).

    Returns
    -------
    Card

    Raises
    ------
    ParameterError
        Empty lists, non-1-D clips, or clips shorter than :data:`MIN_CLIP_SECONDS`.

    Examples
    --------
    >>> from musiclib import synth
    >>> real = [synth.synthetic_mix(duration=4, bpm=b, seed=s) for s, b in enumerate([100, 112, 124, 136, 118, 130])]
    >>> card = musicality_card(real[:2], training=real[2:4], reference=real[4:])
    >>> card.passed
    True
    """
    if isinstance(sr, bool) or not isinstance(sr, (int, np.integer)) or sr <= 0:
        raise ParameterError(f"sr={sr!r} must be a positive integer (Hz)")
    gen_clips = _as_clips(generated, name="generated")
    # the card's matrices are small: one BLAS thread is ~15x faster than several on a busy machine
    with _one_blas_thread():
        return _card(gen_clips, training, reference, sr=sr, label=label, seed=seed, features=features)


def _one_blas_thread():
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
        import contextlib

        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


def _card(gen_clips, training, reference, *, sr, label, seed, features) -> Card:
    cache = features if features is not None else {}
    if "training" not in cache:
        cache["training"] = _features(_as_clips(training, name="training"), sr=sr, name="training")
    if "reference" not in cache:
        cache["reference"] = _features(_as_clips(reference, name="reference"), sr=sr, name="reference")
    gen = _features(gen_clips, sr=sr, name="generated")
    train, ref = cache["training"], cache["reference"]
    if "ceiling" not in cache:
        cache["ceiling"] = _shaped_noise_features(ref, [min(f.duration, 10.0) for f in ref] * 2, seed=seed + 1)
    results = {"distribution": _distribution(gen, ref, cache["ceiling"], seed=seed)}
    results["noise"] = _noise(gen, ref)
    results["drone"] = _drone(gen, ref)
    results.update(_level_checks(gen, ref))
    results["rhythm"] = _rhythm(gen, ref)
    results["copying"] = _copying(gen, ref, train)
    results["diversity"] = _diversity(gen, ref)
    checks = {}
    for name, rule in CHECKS.items():
        r = results[name]
        v = float(r["value"])
        if math.isnan(v):
            passed = None
        else:
            passed = bool(v <= r["threshold"]) if rule == "max" else bool(v >= r["threshold"])
        checks[name] = {
            "value": v,
            "threshold": float(r["threshold"]),
            "passed": passed,
            "rule": rule,
            "detail": dict(r["detail"], reference_base=r["base"]),
        }
    return Card(checks, seconds=float(sum(f.duration for f in gen)), n_clips=len(gen), label=label)


# --------------------------------------------------------------------------------------------------
# Calibration

#: Which failure case each check must catch (the calibration places thresholds against these).
NAMED_FAILURES = {
    "distribution": ["shaped_noise", "white_noise"],
    "noise": ["white_noise", "shaped_noise"],
    "drone": ["chord"],
    "blowup": ["growing"],
    "clipping": ["growing"],
    "dropout": ["silence"],
    "rhythm": ["chord", "white_noise"],
    "copying": ["excerpt"],
    "diversity": ["identical"],
}


def failure_cases(training: list, held_out: list, *, sr: int = SR, seed: int = 0) -> dict[str, list[np.ndarray]]:
    """The calibration cases, each a list of clips as long as the held-out clips.

    ``real`` (the held-out clips themselves), ``white_noise``, ``shaped_noise`` (training's average
    spectrum), ``chord`` (a sustained A-minor chord of harmonic tones), ``growing`` (a tone under noise
    growing exponentially by 80 dB, clipped at full scale as a file would be), ``silence``,
    ``excerpt`` (verbatim excerpts of training clips) and ``identical`` (one held-out clip repeated).
    """
    from musiclib import synth
    from musiclib.evaluation import baselines

    rng = np.random.default_rng(seed)
    durs = [len(np.asarray(getattr(c, "y", c))) / sr for c in held_out]
    n = [int(d * sr) for d in durs]
    cases = {"real": [np.asarray(getattr(c, "y", c), dtype=np.float32) for c in held_out]}
    cases["white_noise"] = [(0.1 * rng.standard_normal(k)).astype(np.float32) for k in n]
    cases["shaped_noise"] = baselines.shaped_noise(training, sr=sr, durations=durs, seed=seed)
    cases["chord"] = [
        sum(synth.tone(f, duration=d, sr=sr, n_harmonics=6, amplitude=0.25) for f in (220.0, 261.63, 329.63))
        for d in durs
    ]
    grow = []
    for k in n:
        t = np.arange(k) / sr
        x = np.sin(2 * np.pi * 220 * t) + 0.3 * rng.standard_normal(k)
        env = 10 ** ((-80 + 80 * t / t[-1] + 6) / 20)  # -74 dBFS to +6 dBFS
        grow.append(np.clip(x * env, -1, 1).astype(np.float32))
    cases["growing"] = grow
    cases["silence"] = [np.zeros(k, np.float32) for k in n]
    cases["excerpt"] = baselines.training_excerpt(training, sr=sr, durations=durs, seed=seed)
    cases["identical"] = [cases["real"][0].copy() for _ in held_out] if len(held_out) >= 2 else [
        cases["real"][0].copy(), cases["real"][0].copy()
    ]
    return cases


@dataclass
class CalibrationResult:
    """Statistic values per (split, case, check), with the thresholds they suggest."""

    values: list[dict]  # rows: {"split", "case", check: margin-space value, ...}
    suggested: dict  # check -> {"real_worst", "failure_best", "suggested", "current"}

    def table(self) -> str:
        cases = list(dict.fromkeys(r["case"] for r in self.values))
        lines = [f"{'check':<13}" + "".join(f"{c:>13}" for c in cases) + f"{'suggested':>11}{'current':>9}"]
        for check in CHECKS:
            cells = []
            for case in cases:
                vals = [r[check] for r in self.values if r["case"] == case]
                worst = _worst(vals, CHECKS[check], real=(case == "real"))
                cells.append(f"{_fmt(worst):>13}")
            s = self.suggested[check]
            lines.append(f"{check:<13}" + "".join(cells) + f"{_fmt(s['suggested']):>11}{_fmt(s['current']):>9}")
        lines.append("cells: the real column shows the worst value over splits, the failure columns the value "
                     "closest to passing; blowup/clipping/dropout are margins above the reference's worst clip")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.table()


def _worst(vals, rule, *, real: bool) -> float:
    vals = [v for v in vals if not (isinstance(v, float) and math.isnan(v))]
    if not vals:
        return math.nan
    # for real music the worst is the one nearest failing; for a failure case, the one nearest passing
    if rule == "max":
        return max(vals) if real else min(vals)
    return min(vals) if real else max(vals)


_CURRENT = {
    "distribution": lambda: DISTRIBUTION_MAX,
    "noise": lambda: NOISE_MAX,
    "drone": lambda: DRONE_MIN,
    "blowup": lambda: BLOWUP_MARGIN_DB,
    "clipping": lambda: CLIPPING_MARGIN,
    "dropout": lambda: DROPOUT_MARGIN,
    "rhythm": lambda: RHYTHM_MIN,
    "copying": lambda: COPYING_MIN,
    "diversity": lambda: DIVERSITY_MIN,
}


RATIO_CHECKS = ("drone", "rhythm", "copying", "diversity")


def suggest_threshold(check: str, real_worst: float, failure_best: float) -> float:
    """Where :func:`calibrate` puts a threshold: between real music's worst and the failure's best.

    Ratio checks (drone, rhythm, copying, diversity): the geometric mean of the real worst and the
    failure best, the latter raised to at least a tenth of the former (so a failure at ~0 does not
    drag the threshold down to ~0). Other checks: the arithmetic midpoint.
    """
    if math.isnan(real_worst) or math.isnan(failure_best):
        return math.nan
    if check in RATIO_CHECKS:
        if real_worst <= 0:
            return math.nan
        if math.isinf(failure_best):
            return math.nan
        return math.sqrt(real_worst * max(failure_best, real_worst / 10))
    if math.isinf(failure_best):
        return real_worst + 1.0
    return (real_worst + failure_best) / 2


def calibrate(
    clips,
    *,
    sr: int = SR,
    n_splits: int = 3,
    seed: int = 0,
    clip_seconds: float | None = 4.0,
    progress: bool = False,
) -> CalibrationResult:
    """Measure every statistic on held-out real music and on each failure case; suggest thresholds.

    Procedure: for each set of real music, ``n_splits`` times, shuffle its clips (seeded) and cut
    them into thirds by clip: training, reference, and held-out real music playing the part of
    "generated". For each split, compute the card of the held-out real clips and of every case in
    :func:`failure_cases`, and record each check's value in threshold space (value minus the
    reference-derived base for blowup/clipping/dropout). For each check, the suggestion
    (:func:`suggest_threshold`) lies between the worst value real music reached over all sets and
    splits, and the value nearest to passing that the failures named for the check
    (:data:`NAMED_FAILURES`) reached.

    Parameters
    ----------
    clips : list of np.ndarray, a Corpus, or dict name -> list
        Real music, at least 3 clips per set (6 or more is better).
    clip_seconds : float, optional
        Cut each clip to its first ``clip_seconds`` (tests use short clips); None keeps them whole.

    Returns
    -------
    CalibrationResult
        ``print(result)`` shows the table.
    """
    sets = clips if isinstance(clips, dict) else {"music": clips}
    rows = []
    for set_name, set_clips in sets.items():
        cl = [np.asarray(getattr(c, "y", c), dtype=np.float32) for c in _as_clips(set_clips, name=set_name)]
        if clip_seconds:
            cl = [c[: int(clip_seconds * sr)] for c in cl]
        if len(cl) < 3:
            raise ParameterError(f"calibrate() needs at least 3 clips of real music in {set_name!r}, got {len(cl)}")
        rng = np.random.default_rng(seed)
        for split in range(n_splits):
            order = rng.permutation(len(cl))
            k = len(cl) // 3
            train = [cl[i] for i in order[: len(cl) - 2 * k]]
            ref = [cl[i] for i in order[len(cl) - 2 * k : len(cl) - k]]
            held = [cl[i] for i in order[len(cl) - k :]]
            cache: dict = {}
            for case, gen in failure_cases(train, held, sr=sr, seed=seed + split).items():
                card = musicality_card(gen, training=train, reference=ref, sr=sr, seed=seed, features=cache)
                row = {"set": set_name, "split": split, "case": case}
                for name, c in card.checks.items():
                    row[name] = c["value"] - c["detail"]["reference_base"]
                rows.append(row)
                if progress:
                    print(f"{set_name} split {split} {case}: failed {card.failed}")
    return CalibrationResult(rows, _suggest(rows))


def _suggest(rows) -> dict:
    suggested = {}
    for check, rule in CHECKS.items():
        real = _worst([r[check] for r in rows if r["case"] == "real"], rule, real=True)
        fails = [_worst([r[check] for r in rows if r["case"] == c], rule, real=False) for c in NAMED_FAILURES[check]]
        fails = [f for f in fails if not math.isnan(f)]
        fail = (min(fails) if rule == "max" else max(fails)) if fails else math.nan
        suggested[check] = {
            "real_worst": real,
            "failure_best": fail,
            "suggested": suggest_threshold(check, real, fail),
            "current": _CURRENT[check](),
        }
    return suggested


def _tile_to(y: np.ndarray, seconds: float, sr: int) -> np.ndarray:
    n = int(seconds * sr)
    return np.tile(y, int(np.ceil(n / len(y))))[:n] if len(y) < n else y


def calibration_sets(corpus_dirs=None, *, sr: int = SR, pattern: str = "loop_*", excerpt_seconds: float = 8.0):
    """The music :func:`calibrate` was run on: nine synthetic mixes, plus each given folder's clips.

    From each folder the files matching ``pattern`` (all audio files when none match) are loaded
    mono at ``sr``; clips shorter than 4 s are tiled to 4 s (the Sonic Pi loops are 0.9-10.7 s
    long), and clips longer than ``2 * excerpt_seconds`` are cut to ``excerpt_seconds`` starting a
    third of the way in (whole songs, such as the Nexuiz soundtrack).

    Returns
    -------
    dict
        set name (``"synthetic"`` or the folder's name) -> list of np.ndarray
    """
    from pathlib import Path

    from musiclib import synth
    from musiclib.corpus import find_audio_files, load_corpus

    sets = {
        "synthetic": [
            synth.synthetic_mix(duration=4, sr=sr, bpm=b, seed=s)
            for s, b in enumerate([96, 104, 112, 120, 128, 136, 100, 116, 132])
        ]
    }
    if corpus_dirs is None:
        corpus_dirs = []
    elif isinstance(corpus_dirs, (str, Path)):
        corpus_dirs = [corpus_dirs]
    for d in corpus_dirs:
        files = find_audio_files(d)
        picked = [f for f in files if Path(f).match(pattern)] or files
        clips = []
        for c in load_corpus(picked, sr=sr, progress=False).clips:
            y = c.y
            if len(y) > 2 * excerpt_seconds * sr:
                a = len(y) // 3
                y = y[a : a + int(excerpt_seconds * sr)]
            clips.append(_tile_to(y, 4.0, sr))
        sets[Path(d).name] = clips
    return sets
