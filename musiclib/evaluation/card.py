"""The musicality card: objective checks for generated audio, calibrated on data.

Every earlier experiment judged its output by ear, and its failures had names: noise, drones,
blow-ups, dropouts, no pulse, frames with no order, and models that hand back their training data.
The card turns each failure into a measured statistic with a threshold:

============ ======================================================================== =====================
check        statistic (value)                                                        passes when
============ ======================================================================== =====================
distribution Fréchet distance of log-mel (and MFCC + delta) frame statistics to the    value <= threshold
             reference, rescaled so 0 is the reference against itself and 1 is noise
             shaped with the reference's average spectrum; the worse of the two,
             clipped at 0 (closer to the reference than its own halves are)
noise        share of loud time-frequency patches (octave x 0.19 s) whose spectral    value <= threshold
             flatness exceeds 90 % of the reference's
drone        turnover of the dominant partials (the four most prominent spectral       value >= threshold
             peaks of each frame: the share gone two seconds later), relative to the
             reference's; the frame's energy plays no part, so a held tone under
             flickering low bands is a drone
blowup       worst clip's level growth (median dB of the last quarter minus the       value <= ref + margin
             first); infinite when a clip holds NaN/inf samples
clipping     worst clip's share of samples at full scale (abs >= 0.999)               value <= ref + margin
dropout      worst clip's share of silent frames (50 dB below its loud level, or      value <= ref + margin
             below -80 dBFS)
rhythm       onset-strength periodicity (autocorrelation peak at 0.25-1.5 s lags)     value >= threshold
             above chance (the same clip's envelope shuffled), relative to the
             reference's
tempo        tempo stability: the whole clip's periodicity over the mean periodicity  value >= threshold
             of its 3-s windows (a drifting tempo smears the whole clip's peak),
             relative to the reference's; n/a for clips under 6 s
structure    time structure: Gaussian mutual information between 8-band log-mel      value >= threshold
             frames 0.2-0.5 s apart, above that of the same frames shuffled,
             relative to the reference's (frames in random order have none)
copying      10th percentile of each generated second's distance to its nearest       value >= threshold
             training second, relative to the same for the reference clips
diversity    each generated second's distance to the nearest second of the other      value >= threshold
             generated clips, relative to the same among the reference clips
============ ======================================================================== =====================

Checks on a set of clips take the median over its clips (the level checks: the worst clip). Most
thresholds are relative to the reference (ratios, or margins over its worst clip), so they carry
over from one corpus to another. :data:`THRESHOLDS` were set by
:func:`musiclib.evaluation.calibration.calibrate`; :data:`CALIBRATION` records that run.

Analysis: 22050 Hz, n_fft 2048, hop 512, 64 mel bands (an 80 dB range per clip). The level checks
(blowup, clipping, dropout) see each clip whole and as given; every other check sees at most
:data:`MAX_ANALYSIS_SECONDS` of it (the middle), scaled to -20 dBFS RMS so that gain differences
between a model's output and the corpus do not count. See ``notebooks/08_compare``.
"""

from __future__ import annotations

import contextlib
import functools
import math
from dataclasses import dataclass, field

import numpy as np

from musiclib.audio import DEFAULT_SR, resample
from musiclib.errors import ParameterError

__all__ = [
    "Card",
    "CHECKS",
    "DESCRIPTIONS",
    "THRESHOLDS",
    "CALIBRATION",
    "ClipFeatures",
    "musicality_card",
    "clip_features",
    "onset_envelope",
    "time_statistics",
    "frechet_distance",
    "format_value",
    "MIN_CLIP_SECONDS",
    "MAX_ANALYSIS_SECONDS",
]

# --------------------------------------------------------------------------------------------------
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
#: Percentile of the reference's loud-patch flatness that a "noisy" generated patch exceeds.
NOISE_PERCENTILE = 90.0
#: Dominant partials per frame (drone): the most prominent spectral peaks between these
#: frequencies (Hz), standing this many dB over the spectrum averaged across PROMINENCE_BINS bins
#: and within PARTIAL_RANGE_DB of the frame's strongest bin.
N_PARTIALS = 4
PARTIAL_BAND_HZ = (50.0, 8000.0)
PARTIAL_PROMINENCE_DB = 10.0
PROMINENCE_BINS = 31
PARTIAL_RANGE_DB = 50.0
#: How far apart the drone check compares partials (s; half the clip when that is shorter).
DRONE_LAG_SECONDS = 2.0
#: Onset-periodicity lags searched (s): 40-240 BPM.
RHYTHM_LAGS = (0.25, 1.5)
#: Shuffles of a clip's own onset envelope (or frames) that give the chance level: blocks of
#: NULL_BLOCK_FRAMES frames (twice the analysis window, so overlapping windows stay together and the
#: chance level sees the same short-range correlation as the clip) in random order.
N_NULL_SHUFFLES = 8
NULL_BLOCK_FRAMES = 8
#: Windows over which local periodicity is measured for tempo stability (s; hop: half of it).
TEMPO_WINDOW_SECONDS = 3.0
#: Time structure: log-mel bands pooled to this many, compared at these lags (s).
STRUCTURE_BANDS = 8
STRUCTURE_LAGS = (0.2, 0.3, 0.5)
#: Length of the segments compared by the copying and diversity checks (s; hop: half of it).
SEGMENT_SECONDS = 1.0
#: Bootstrap resamples for the distribution interval.
N_BOOTSTRAP = 100

# --------------------------------------------------------------------------------------------------
# The checks, their thresholds, and the calibration that set them

#: The checks in display order, with the direction of each threshold.
CHECKS = {
    "distribution": "max",
    "noise": "max",
    "drone": "min",
    "blowup": "max",
    "clipping": "max",
    "dropout": "max",
    "rhythm": "min",
    "tempo": "min",
    "structure": "min",
    "copying": "min",
    "diversity": "min",
}

DESCRIPTIONS = {
    "distribution": "Fréchet distance of log-mel / MFCC+delta frames to the reference: 0 = reference vs itself, 1 = shaped noise",
    "noise": "share of loud octave x 0.19 s patches flatter (spectral flatness) than 90% of the reference's",
    "drone": "turnover of the dominant spectral peaks over 2 s, relative to the reference",
    "blowup": "worst clip's level growth, median level of the last quarter over the first (dB); inf = NaN/inf samples",
    "clipping": "worst clip's share of samples at full scale",
    "dropout": "worst clip's share of silent frames",
    "rhythm": "onset-strength periodicity above chance, relative to the reference",
    "tempo": "whole-clip over 3-s-window periodicity (tempo stability), relative to the reference",
    "structure": "information between frames 0.2-0.5 s apart, above chance, relative to the reference",
    "copying": "distance of generated seconds to their nearest training second, relative to reference clips'",
    "diversity": "distance between different generated clips, relative to that between reference clips",
}

#: Threshold of each check (blowup, clipping, dropout: a margin over the reference's worst clip).
#: Set by ``python -m musiclib calibrate --corpus data/sonic-pi-samples --corpus data/nexuiz-music``;
#: :data:`CALIBRATION` holds its table.
THRESHOLDS = {
    "distribution": 0.5,
    "noise": 0.56,
    "drone": 0.35,
    "blowup": 26.0,
    "clipping": 0.019,
    "dropout": 0.5,
    "rhythm": 0.46,
    "tempo": 0.61,
    "structure": 0.17,
    "copying": 0.17,
    "diversity": 0.2,
}
#: The dropout threshold never exceeds this share of silent frames.
DROPOUT_CAP = 0.9

#: The calibration run behind THRESHOLDS, as ``python -m musiclib calibrate --corpus data/sonic-pi-samples
#: --corpus data/nexuiz-music`` printed it (6 splits of each set, seed 0, 8-s clips: 9 synthetic mixes
#: of ``musiclib.synth`` at 96-136 BPM, the 17 Sonic Pi loops repeated to 8 s, and the middle 8 s of
#: the 17 Nexuiz songs). Each threshold is the suggestion rounded to two significant digits.
CALIBRATION = """
distribution <=      0.5   suggested    0.498   real worst    0.367   named failures' best    0.629 (shaped_noise, white_noise)
noise        <=     0.56   suggested    0.556   real worst    0.233   named failures' best    0.879 (white_noise, shaped_noise)
drone        >=     0.35   suggested    0.349   real worst    0.867   named failures' best     0.14 (chord, held_tone)
blowup       <=       26   suggested     26.4   real worst     1.57   named failures' best     51.3 (growing)
clipping     <=    0.019   suggested   0.0189   real worst   0.0058   named failures' best   0.0321 (growing)
dropout      <=      0.5   suggested      0.5   real worst   0.0754   named failures' best    0.925 (silence)
rhythm       >=     0.46   suggested     0.46   real worst    0.663   named failures' best    0.319 (chord, white_noise, shuffled_frames)
tempo        >=     0.61   suggested    0.614   real worst    0.874   named failures' best    0.431 (tempo_drift)
structure    >=     0.17   suggested    0.173   real worst    0.474   named failures' best   0.0634 (shuffled_frames, white_noise)
copying      >=     0.17   suggested    0.171   real worst     0.54   named failures' best        0 (excerpt)
diversity    >=      0.2   suggested    0.201   real worst    0.636   named failures' best  0.00297 (identical)

               real  white_noise  shaped_noise   chord  held_tone  growing  silence  excerpt  identical  shuffled_frames  tempo_drift  suggested  current
check                                                                                                                                                    
distribution  0.367         1.04         0.629    1.41      0.216    0.236     15.5        0          0                0        0.789      0.498      0.5
noise         0.233            1         0.879       0          0        0      n/a  0.00465          0                0            0      0.556     0.56
drone         0.867         1.26          1.21 0.00983       0.14    0.852      n/a     1.14       1.21              1.2         1.17      0.349     0.35
blowup         1.57        -8.85         -8.87    -8.9      -7.91     51.3    -8.83    -9.57      -11.1            -8.44        -4.47       26.4       26
clipping     0.0058      -0.0058       -0.0058 -0.0058    -0.0058   0.0321  -0.0058  -0.0058    -0.0058          -0.0058      -0.0058     0.0189    0.019
dropout      0.0754      -0.0754       -0.0754 -0.0754    -0.0754    0.226    0.925  -0.0754    -0.0754          -0.0754        0.159        0.5      0.5
rhythm        0.663       0.0109       0.00795       0      0.164     5.76        0     5.38       4.93            0.319        0.741       0.46     0.46
tempo         0.874        0.636         0.668   0.015      0.657     2.19        0     1.13       1.23            0.713        0.431      0.614     0.61
structure     0.474       0.0538        0.0307    2.47     0.0509     9.15        0     2.45       1.54           0.0634            1      0.173     0.17
copying        0.54         5.69           3.9    6.27       5.29      5.5      n/a        0       2.88             3.35         6.04      0.171     0.17
diversity     0.636        0.365          0.44 0.00769       1.17    0.346      n/a      1.3    0.00297             1.75        0.372      0.201      0.2
cells: real = the worst value over splits; each failure = its value closest to passing; blowup/clipping/dropout are margins above the reference's worst clip
"""

# --------------------------------------------------------------------------------------------------
# What the card measures on one clip


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
    partial_persistence: float  # share of dominant partials still in place DRONE_LAG_SECONDS later
    onset_env: np.ndarray  # (n_frames,) onset strength (rhythm, tempo; see time_statistics)
    bands: np.ndarray  # (n_frames, STRUCTURE_BANDS) pooled log-mel (structure; see time_statistics)
    segments: np.ndarray  # (n_segments, L * N_MELS // 2) mean-removed log-mel seconds
    loud_segments: np.ndarray  # (n_segments,) bool
    coarse: np.ndarray  # (n_frames, N_MELS // 2) log-mel whose sliding windows the segments are matched to


def clip_features(y: np.ndarray, *, sr: int = SR, what: str = "clip") -> ClipFeatures:
    """Measure one clip for the card.

    The steps: validate and resample (:func:`_prepared`), level statistics of the whole clip
    (:func:`_level_features`), then on the analysed excerpt: spectrogram (:func:`_spectrogram`),
    timbre (MFCC, flatness), dominant partials, onset rhythm and tempo, time structure, and the
    one-second segments of the copying and diversity checks.

    Parameters
    ----------
    y : np.ndarray [shape=(n_samples,)]
        May hold NaN/inf (counted, then treated as zeros).
    sr : int
        Sample rate of ``y`` in Hz; resampled to 22050 Hz when different.
    what : str
        Name of the clip in error messages.

    Returns
    -------
    ClipFeatures

    Raises
    ------
    ParameterError
        ``y`` is not a 1-D numeric signal or is shorter than :data:`MIN_CLIP_SECONDS`.
    """
    import librosa

    y, n_nonfinite = _prepared(y, sr=sr, what=what)
    levels = _level_features(y, n_nonfinite=n_nonfinite)
    y = _middle(y, MAX_ANALYSIS_SECONDS)
    frame_db = _frame_level_db(y)
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
        partial_persistence=_partial_persistence(S, loud=loud, seconds=len(y) / SR),
        onset_env=onset_envelope(logmel),
        bands=logmel.reshape(len(logmel), STRUCTURE_BANDS, -1).mean(axis=2),
        **_segment_features(logmel, frame_db),
    )


def _prepared(y, *, sr: int, what: str) -> tuple[np.ndarray, int]:
    """``y`` as a finite mono float64 signal at :data:`SR`, and how many samples were NaN/inf."""
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
    n_nonfinite = int(np.count_nonzero(bad))
    if n_nonfinite:
        y[bad] = 0.0
    if sr != SR:
        y = resample(y.astype(np.float32), orig_sr=sr, target_sr=SR).astype(np.float64)
    return y, n_nonfinite


def _frame_level_db(y: np.ndarray) -> np.ndarray:
    """Level of each analysis frame in dBFS ``[shape=(n_frames,)]`` (RMS over n_fft samples)."""
    import librosa

    rms = librosa.feature.rms(y=y, frame_length=N_FFT, hop_length=HOP)[0]
    return 20 * np.log10(np.maximum(rms, 1e-10))


def _loud_floor(frame_db: np.ndarray, within_db: float) -> float:
    """Level (dBFS) above which a frame counts: ``within_db`` below the loud level, at least -80."""
    return max(SILENCE_FLOOR_DBFS, float(np.percentile(frame_db, 95)) - within_db)


def _level_features(y: np.ndarray, *, n_nonfinite: int) -> dict:
    """Duration, level, clipping, growth and silence of the whole clip as given."""
    level = _frame_level_db(y)
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


def _middle(y: np.ndarray, seconds: float) -> np.ndarray:
    n = int(seconds * SR)
    start = max(0, (len(y) - n) // 2)
    return y[start : start + n]


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
    """librosa's mel filterbank ``(N_MELS, n_bins)``, applied as a plain matrix product (several times
    faster than ``librosa.feature.melspectrogram``'s einsum on one thread)."""
    import librosa

    return librosa.filters.mel(sr=SR, n_fft=N_FFT, n_mels=N_MELS, fmin=30.0, fmax=SR / 2).astype(np.float32)


def onset_envelope(logmel: np.ndarray) -> np.ndarray:
    """Onset strength ``[shape=(n_frames,)]``: mean rise of the log-mel bands from one frame to the next (dB).

    The measure the rhythm and tempo checks look for a pulse in (``librosa.onset.onset_strength``
    on the card's log-mel; not to be confused with the frame-to-frame change that
    :mod:`musiclib.generate` uses to spot a drone in a model's frames).

    Parameters
    ----------
    logmel : np.ndarray [shape=(n_frames, n_mels)]
        Log-mel spectrogram in dB (``ClipFeatures.logmel``).
    """
    import librosa

    return librosa.onset.onset_strength(S=np.asarray(logmel).T, lag=1, max_size=1, center=False)


def _patch_flatness(S: np.ndarray, frame_db: np.ndarray) -> np.ndarray:
    """Energy-weighted sub-band log10 flatness of the loud octave x PATCH_FRAMES patches.

    Noise has i.i.d. exponential power in every bin of such a patch (log10 flatness -0.25, the
    highest a random signal reaches); tones are peaky along frequency, drum hits along time.
    """
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


def _partial_persistence(S: np.ndarray, *, loud: np.ndarray, seconds: float) -> float:
    """Share of each loud frame's dominant partials still present (within a bin) DRONE_LAG_SECONDS later."""
    import librosa
    import scipy.ndimage

    lag = int(min(DRONE_LAG_SECONDS, seconds / 2) * FPS)
    lo, hi = (int(f * N_FFT / SR) for f in PARTIAL_BAND_HZ)
    D = librosa.power_to_db(S[lo:hi], ref=1.0, amin=1e-10, top_db=None)
    prominence = D - scipy.ndimage.uniform_filter1d(D, PROMINENCE_BINS, axis=0, mode="nearest")
    peaks = librosa.util.localmax(D, axis=0) & (prominence >= PARTIAL_PROMINENCE_DB) & loud[None, :]
    peaks &= D >= D.max(axis=0, keepdims=True) - PARTIAL_RANGE_DB
    score = np.where(peaks, prominence, -np.inf)
    peaks &= score >= -np.partition(-score, N_PARTIALS - 1, axis=0)[N_PARTIALS - 1]
    now = peaks[:, : peaks.shape[1] - lag]
    later = scipy.ndimage.maximum_filter1d(peaks, 3, axis=0)[:, lag:]
    n = int(np.count_nonzero(now))
    return float(np.count_nonzero(now & later) / n) if n and lag > 0 else math.nan


def _periodicity(env: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Peak of the normalised, overlap-corrected autocorrelation of onset envelopes within RHYTHM_LAGS.

    ``env`` has shape ``(..., n_frames)``; returns the peak value in [0, 1] and its lag (s), each
    of shape ``env.shape[:-1]``. Lags are searched up to half the envelope's length.
    """
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
    """N_NULL_SHUFFLES orders of ``n`` frames ``[shape=(N_NULL_SHUFFLES, n)]``: blocks of NULL_BLOCK_FRAMES
    frames in random order (seeded, so a clip's features do not vary from call to call)."""
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
    """Mean information between pooled log-mel frames STRUCTURE_LAGS apart, minus that of the frames
    shuffled in blocks (nats, >= 0)."""
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
    """Rhythm, tempo and time-structure statistics of a clip, one value per window of ``frames`` frames.

    The card compares generated and reference clips on windows of the same length, since every
    one of these statistics depends on how long a stretch it sees.

    Parameters
    ----------
    f : ClipFeatures
    frames : int, optional
        Window length in frames (hop 512 at 22050 Hz); consecutive windows from the start, the
        remainder left out. Default (or when the clip is shorter): the whole clip.

    Returns
    -------
    dict
        ``"periodicity"`` (onset periodicity above chance, >= 0), ``"periodicity_raw"`` (peak of the
        onset envelope's autocorrelation in RHYTHM_LAGS), ``"periodicity_null"`` (its chance level),
        ``"beat_period"`` (lag of that peak, s), ``"tempo_stability"`` (whole-window periodicity over
        that of its 3-s sub-windows; nan for windows under 6 s) and ``"temporal_information"`` (nats
        between frames STRUCTURE_LAGS apart, above chance) -> np.ndarray [shape=(n_windows,)].
    """
    n = len(f.onset_env)
    frames = n if frames is None or frames >= n else int(frames)
    rows = []
    for start in range(0, n - frames + 1, frames):
        window = slice(start, start + frames)
        rows.append({**_rhythm_statistics(f.onset_env[window]), "temporal_information": _temporal_information(f.bands[window])})
    return {k: np.array([r[k] for r in rows]) for k in rows[0]}


def _segment_frames() -> int:
    return int(round(SEGMENT_SECONDS * SR / HOP))


def _segment_features(logmel: np.ndarray, frame_db: np.ndarray) -> dict:
    """Mean-removed one-second log-mel segments (32 bands, hop half a second) and which are loud."""
    import librosa

    coarse = logmel.reshape(len(logmel), N_MELS // 2, 2).mean(axis=2)
    L = _segment_frames()
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


# --------------------------------------------------------------------------------------------------
# Statistics


def _gauss(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    X = np.asarray(X, dtype=np.float64)
    return X.mean(axis=0), np.cov(X, rowvar=False)


def _sqrtm_psd(C: np.ndarray) -> np.ndarray:
    w, V = np.linalg.eigh((C + C.T) / 2)
    return (V * np.sqrt(np.clip(w, 0, None))) @ V.T


def frechet_distance(mu1, C1, mu2, C2, *, sqrt_C2: np.ndarray | None = None) -> float:
    """Fréchet distance between two Gaussians: ``|mu1-mu2|^2 + tr(C1 + C2 - 2 (C1 C2)^(1/2))``.

    Parameters
    ----------
    mu1, mu2 : np.ndarray [shape=(d,)]
    C1, C2 : np.ndarray [shape=(d, d)]
        Covariance matrices (symmetric positive semi-definite).
    sqrt_C2 : np.ndarray [shape=(d, d)], optional
        The symmetric square root of ``C2``, when it is reused across many calls.

    Returns
    -------
    float
        The squared 2-Wasserstein distance, >= 0.
    """
    R = _sqrtm_psd(C2) if sqrt_C2 is None else sqrt_C2
    w = np.linalg.eigvalsh(R @ C1 @ R)
    tr_cov = float(np.sum(np.sqrt(np.clip(w, 0, None))))
    d = np.sum((mu1 - mu2) ** 2) + np.trace(C1) + np.trace(C2) - 2 * tr_cov
    return float(max(d, 0.0))


def _nn_distance(queries: np.ndarray, sources: list[np.ndarray]) -> np.ndarray:
    """RMS (dB) distance from each query segment to its nearest sliding window of any source.

    ``queries``: (n, L * d) mean-removed segments; ``sources``: (n_frames, d) log-mel arrays whose
    windows of L frames, at every frame offset, are mean-removed the same way. Computed in blocks
    (a long training set has too many windows to hold at once).
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
        win = win[:: 1 if len(win) * n < 4e6 else 2]
        for a in range(0, len(win), 2048):
            w = np.ascontiguousarray(win[a : a + 2048].transpose(0, 2, 1)).reshape(-1, dim)
            w = w - w.mean(axis=1, keepdims=True)
            d2 = qn[:, None] + np.sum(w.astype(np.float64) ** 2, axis=1)[None, :] - 2 * (q @ w.T).astype(np.float64)
            best = np.minimum(best, np.min(d2, axis=1))
    return np.sqrt(np.maximum(best, 0.0) / dim)


def _nanmedian(values) -> float:
    """Median of the finite values (nan when there are none: a statistic undefined on every clip)."""
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    return float(np.median(v)) if len(v) else math.nan


# --------------------------------------------------------------------------------------------------
# The checks: each returns {"value", "base", "threshold", "detail"}


def _result(name: str, value: float, *, base: float = 0.0, threshold: float | None = None, **detail) -> dict:
    thr = THRESHOLDS[name] if threshold is None else threshold
    return {"value": float(value), "base": float(base), "threshold": float(thr), "detail": detail}


def _ratio_check(name: str, generated: float, reference: float, **detail) -> dict:
    """A check whose value is the generated statistic over the reference's (n/a when either is undefined)."""
    if not np.isfinite(generated) or not np.isfinite(reference) or reference <= 1e-9:
        why = "the reference has none" if np.isfinite(reference) else "not measurable on these clips"
        return _result(name, math.nan, reason=why, generated=generated, reference=reference, **detail)
    return _result(name, generated / reference, generated=generated, reference=reference, **detail)


def _distribution(gen, ref, noise, *, seed: int) -> dict:
    """Fréchet distance of frame statistics, between the reference's own halves (0) and shaped noise (1)."""
    out = {}
    rng = np.random.default_rng(seed)
    L = _segment_frames()
    for attr in ("logmel", "mfcc"):
        mu_r, C_r = _gauss(np.concatenate([getattr(f, attr) for f in ref]))
        sq = _sqrtm_psd(C_r)
        G = np.concatenate([getattr(f, attr) for f in gen]).astype(np.float64)
        fd = frechet_distance(*_gauss(G), mu_r, C_r, sqrt_C2=sq)
        if len(ref) >= 2:
            halves = [np.concatenate([getattr(f, attr) for f in ref[i::2]]) for i in (0, 1)]
        else:
            X = getattr(ref[0], attr)
            halves = [X[: len(X) // 2], X[len(X) // 2 :]]
        floor = frechet_distance(*_gauss(halves[0]), *_gauss(halves[1]))
        ceiling = frechet_distance(*_gauss(np.concatenate([getattr(f, attr) for f in noise])), mu_r, C_r, sqrt_C2=sq)
        offset, scale = (floor, ceiling - floor) if ceiling > floor * 1.01 else (0.0, max(ceiling, 1e-9))
        # block bootstrap over one-second blocks of generated frames, from per-block sums
        blocks = [G[s : s + L] for s in range(0, len(G), L)]
        counts = np.array([len(b) for b in blocks], dtype=np.float64)
        sums = np.stack([b.sum(axis=0) for b in blocks])
        outer = np.stack([b.T @ b for b in blocks])
        boots = []
        for _ in range(N_BOOTSTRAP):
            w = np.bincount(rng.integers(0, len(blocks), len(blocks)), minlength=len(blocks)).astype(np.float64)
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
    score = max(out["logmel"]["score"], out["mfcc"]["score"])
    # below 0 = closer to the reference than its own halves are to each other: as good as real
    return _result("distribution", max(0.0, score), unclipped_score=score, **out)


def _noise(gen, ref) -> dict:
    """Share of the generated loud patches flatter than NOISE_PERCENTILE % of the reference's."""
    rf = np.concatenate([f.flatness for f in ref])
    gf = np.concatenate([f.flatness for f in gen])
    if len(rf) == 0 or len(gf) == 0:
        return _result("noise", math.nan, reason="no loud frames")
    cut = float(np.percentile(rf, NOISE_PERCENTILE))
    return _result(
        "noise",
        float(np.mean(gf > cut)),
        reference_p90_log10_flatness=cut,
        generated_median_log10_flatness=float(np.median(gf)),
        reference_median_log10_flatness=float(np.median(rf)),
    )


def _drone(gen, ref) -> dict:
    """Turnover of the dominant partials (1 - persistence), generated over reference."""
    g, r = (_nanmedian([f.partial_persistence for f in feats]) for feats in (gen, ref))
    return _ratio_check("drone", 1 - g, 1 - r, generated_persistence=g, reference_persistence=r)


def _level_checks(gen, ref) -> dict:
    """Blow-up, clipping and dropout: the worst generated clip against the reference's worst plus a margin."""
    out = {}
    for name, attr in (("blowup", "growth_db"), ("clipping", "clip_ratio"), ("dropout", "silence_ratio")):
        base = max(getattr(f, attr) for f in ref)
        base = max(base, 0.0) if name == "blowup" else base
        threshold = base + THRESHOLDS[name]
        if name == "dropout":
            threshold = min(DROPOUT_CAP, threshold)
        per_clip = [getattr(f, attr) for f in gen]
        out[name] = _result(name, max(per_clip), base=base, threshold=threshold, per_clip=per_clip, reference_worst=base)
    out["blowup"]["detail"]["nonfinite_samples"] = [f.n_nonfinite for f in gen]
    return out


def _time_checks(gen, ref, *, cache: dict) -> dict:
    """Rhythm, tempo and structure, generated against reference on windows of the same length
    (the shorter of the two sets' median analysed lengths)."""
    frames = int(min(np.median([len(f.onset_env) for f in gen]), np.median([len(f.onset_env) for f in ref])))

    def pooled(feats):
        stats = [time_statistics(f, frames=frames) for f in feats]
        return {k: np.concatenate([st[k] for st in stats]) for k in stats[0]}

    if ("reference_time_statistics", frames) not in cache:
        cache["reference_time_statistics", frames] = pooled(ref)
    g, r = pooled(gen), cache["reference_time_statistics", frames]
    window = round(frames / FPS, 2)
    return {
        "rhythm": _ratio_check("rhythm", _nanmedian(g["periodicity"]), _nanmedian(r["periodicity"]), window_s=window,
                               generated_raw=_nanmedian(g["periodicity_raw"]), generated_chance=_nanmedian(g["periodicity_null"]),
                               generated_beat_period_s=[round(x, 3) for x in g["beat_period"] if np.isfinite(x)]),
        "tempo": _ratio_check("tempo", _nanmedian(g["tempo_stability"]), _nanmedian(r["tempo_stability"]), window_s=window),
        "structure": _ratio_check("structure", _nanmedian(g["temporal_information"]), _nanmedian(r["temporal_information"]),
                                  window_s=window),
    }


def _loud(f: ClipFeatures) -> np.ndarray:
    return f.segments[f.loud_segments]


def _copying(gen, ref, train, *, cache: dict) -> dict:
    """How close generated seconds come to training seconds, against how close held-out real ones come."""
    sources = [f.coarse for f in train]
    dg = _nn_distance(np.concatenate([_loud(f) for f in gen]), sources)
    if "reference_to_training_db" not in cache:
        cache["reference_to_training_db"] = _nn_distance(np.concatenate([_loud(f) for f in ref]), sources)
    dr = cache["reference_to_training_db"]
    if len(dg) == 0 or len(dr) == 0:
        return _result("copying", math.nan, reason="no loud segments")
    qg, qr = float(np.percentile(dg, 10)), float(np.percentile(dr, 10))
    return _ratio_check("copying", qg, qr, unit="dB (p10 distance)", generated_median_distance_db=float(np.median(dg)),
                        near_copy_share=float(np.mean(dg < THRESHOLDS["copying"] * qr)))


def _spread(feats) -> np.ndarray:
    """Each clip's loud seconds against the other clips' windows (one clip: its halves)."""
    if len(feats) >= 2:
        return np.concatenate(
            [_nn_distance(_loud(f), [g.coarse for j, g in enumerate(feats) if j != i]) for i, f in enumerate(feats)]
        )
    f = feats[0]
    half = len(f.coarse) // 2
    L = _segment_frames()
    return _nn_distance(_loud(f)[: max(1, (half - L) // max(1, L // 2))], [f.coarse[half:]])


def _diversity(gen, ref, *, cache: dict) -> dict:
    """How far generated clips lie from each other, against how far the reference clips do."""
    if len(gen) < 2:
        return _result("diversity", math.nan, reason="needs 2 or more generated clips")
    if "reference_spread_db" not in cache:
        cache["reference_spread_db"] = _spread(ref)
    dg, dr = _spread(gen), cache["reference_spread_db"]
    dg, dr = dg[np.isfinite(dg)], dr[np.isfinite(dr)]
    if len(dg) == 0 or len(dr) == 0:
        return _result("diversity", math.nan, reason="no loud segments")
    return _ratio_check("diversity", float(np.median(dg)), float(np.median(dr)), unit="dB (median distance)")


# --------------------------------------------------------------------------------------------------
# The card


def format_value(x) -> str:
    """A card value as text: 3 significant digits, ``n/a`` for nan, ``inf``, ``-`` for None."""
    if x is None:
        return "-"
    if isinstance(x, (float, np.floating)):
        x = float(x)
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
    if isinstance(x, (float, np.floating)):
        x = float(x)
        return None if math.isnan(x) else ("inf" if x == math.inf else "-inf" if x == -math.inf else x)
    if isinstance(x, np.integer):
        return int(x)
    if isinstance(x, np.bool_):
        return bool(x)
    return x


RESULT_WORDS = {True: "pass", False: "FAIL", None: "n/a"}
RESULT_COLOURS = {True: "#d4f4d4", False: "#f8d0d0", None: "#eeeeee"}


@dataclass
class Card:
    """A musicality card: per-check value, threshold, pass/fail and detail.

    Attributes
    ----------
    checks : dict
        ``name -> {"value", "threshold", "passed", "rule", "detail"}``; ``passed`` is None where the
        check does not apply (e.g. diversity with one clip, tempo on clips under 6 s).
    seconds : float
        Seconds of generated audio measured.
    n_clips : int
    label : str, optional
        Shown as the table's caption.
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
        """Names of the failed checks, in display order."""
        return [k for k, c in self.checks.items() if c["passed"] is False]

    def to_dict(self) -> dict:
        """JSON-able: ``{"passed", "n_clips", "seconds", "checks": {name: {"value", "threshold", "passed", "rule", "detail"}}}``."""
        return _jsonable({"passed": self.passed, "n_clips": self.n_clips, "seconds": self.seconds, "checks": self.checks})

    def summary_row(self) -> dict:
        """``{check: value}`` plus ``passed``: one row of a comparison table."""
        return {**{k: c["value"] for k, c in self.checks.items()}, "passed": self.passed}

    def to_frame(self):
        """The card as a pandas DataFrame: one row per check (value, rule, threshold, result, measures)."""
        import pandas as pd

        return pd.DataFrame(
            {
                "value": [c["value"] for c in self.checks.values()],
                "rule": ["<=" if c["rule"] == "max" else ">=" for c in self.checks.values()],
                "threshold": [c["threshold"] for c in self.checks.values()],
                "result": [RESULT_WORDS[c["passed"]] for c in self.checks.values()],
                "measures": [DESCRIPTIONS.get(k, "") for k in self.checks],
            },
            index=pd.Index(list(self.checks), name="check"),
        )

    def verdict(self) -> str:
        """``"PASS"`` or ``"FAIL (check, ...)"``."""
        return "PASS" if self.passed else f"FAIL ({', '.join(self.failed)})"

    def __str__(self) -> str:
        table = self.to_frame().drop(columns="measures").rename_axis(None).to_string(
            formatters={"value": format_value, "threshold": format_value}, na_rep="n/a"
        )
        return f"{table}\noverall: {self.verdict()}  [{self.n_clips} clips, {self.seconds:.1f} s]"

    def _repr_html_(self) -> str:
        frame = self.to_frame().rename_axis(None)
        colours = [f"background-color: {RESULT_COLOURS[c['passed']]}" for c in self.checks.values()]
        styler = frame.style.format({"value": format_value, "threshold": format_value}).apply(lambda col: colours, axis=0)
        if self.label:
            styler = styler.set_caption(self.label)
        return f"{styler.to_html()}<p><b>{self.verdict()}</b> ({self.n_clips} clips, {self.seconds:.1f} s)</p>"


def _as_clips(x, *, name: str) -> list:
    if x is None:
        raise ParameterError(f"{name} is required (a list of clips)")
    if isinstance(x, np.ndarray) and x.ndim == 1:
        x = [x]
    clips = list(getattr(x, "clips", x))
    if not clips:
        raise ParameterError(f"{name} is empty; the card needs at least one clip")
    return clips


def _features(clips, *, sr: int, name: str) -> list[ClipFeatures]:
    return [clip_features(c, sr=sr, what=f"{name}[{i}]") for i, c in enumerate(_as_clips(clips, name=name))]


def _yardstick(clips, *, sr: int, name: str) -> list[ClipFeatures]:
    """Features of the training or reference clips, refusing any that cannot serve as real music."""
    feats = _features(clips, sr=sr, name=name)
    for i, f in enumerate(feats):
        if f.n_nonfinite:
            raise ParameterError(f"{name}[{i}] holds {f.n_nonfinite} NaN/inf samples; the card measures against "
                                 "real music, so every training and reference clip must be finite")
        if f.rms_db < SILENCE_FLOOR_DBFS:
            raise ParameterError(f"{name}[{i}] is silent (RMS {f.rms_db:.0f} dBFS, below {SILENCE_FLOOR_DBFS:.0f}); "
                                 "the card measures against real music, not silence")
    return feats


def _one_blas_thread():
    """One BLAS thread: the card's matrices are small, and several threads on a busy machine cost more."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


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
        Held-out real clips (the yardstick for every relative check): finite and not silent.
    sr : int
        Sample rate of every clip in Hz (resampled to 22050 Hz for analysis).
    label : str, optional
        A name shown in the card's caption.
    seed : int
        Seeds the shaped-noise ceiling and the bootstrap.
    features : dict, optional
        A cache of what depends only on ``training`` and ``reference`` (their :class:`ClipFeatures`,
        the shaped-noise ceiling, the reference's distances), to reuse across several cards against
        the same data: pass the same empty dict to each (it is filled in by the first).

    Returns
    -------
    Card

    Raises
    ------
    ParameterError
        Empty lists, non-1-D clips, clips shorter than :data:`MIN_CLIP_SECONDS`, a bad ``sr``, or a
        training or reference clip that holds NaN/inf samples or is silent.

    Examples
    --------
    >>> from musiclib import synth
    >>> real = [synth.synthetic_mix(duration=6, bpm=b, seed=s) for s, b in enumerate([100, 112, 124, 136, 118, 130])]
    >>> card = musicality_card(real[:2], training=real[2:4], reference=real[4:])
    >>> card.passed
    True
    """
    if isinstance(sr, bool) or not isinstance(sr, (int, np.integer)) or sr <= 0:
        raise ParameterError(f"sr={sr!r} must be a positive integer (Hz)")
    cache = features if features is not None else {}
    with _one_blas_thread():
        gen = _features(generated, sr=sr, name="generated")
        if "training" not in cache:
            cache["training"] = _yardstick(training, sr=sr, name="training")
        if "reference" not in cache:
            cache["reference"] = _yardstick(reference, sr=sr, name="reference")
        train, ref = cache["training"], cache["reference"]
        if "ceiling" not in cache:
            cache["ceiling"] = _shaped_noise_features(ref, seed=seed + 1)
        results = {
            "distribution": _distribution(gen, ref, cache["ceiling"], seed=seed),
            "noise": _noise(gen, ref),
            "drone": _drone(gen, ref),
            **_level_checks(gen, ref),
            **_time_checks(gen, ref, cache=cache),
            "copying": _copying(gen, ref, train, cache=cache),
            "diversity": _diversity(gen, ref, cache=cache),
        }
    checks = {}
    for name, rule in CHECKS.items():
        r = results[name]
        v, thr = r["value"], r["threshold"]
        passed = None if math.isnan(v) else bool(v <= thr) if rule == "max" else bool(v >= thr)
        checks[name] = {"value": v, "threshold": thr, "passed": passed, "rule": rule,
                        "detail": dict(r["detail"], reference_base=r["base"])}
    return Card(checks, seconds=float(sum(f.duration for f in gen)), n_clips=len(gen), label=label)


def _shaped_noise_features(ref: list[ClipFeatures], *, seed: int) -> list[ClipFeatures]:
    """The distribution check's ceiling: noise with the reference's average spectrum, two clips per
    reference clip (each as long as it, at most 10 s)."""
    from musiclib.evaluation.baselines import noise_with_spectrum

    spectrum = np.mean([f.spectrum for f in ref], axis=0)
    rng = np.random.default_rng(seed)
    return [
        clip_features(noise_with_spectrum(spectrum, n_samples=int(min(f.duration, 10.0) * SR), n_fft=N_FFT, rng=rng))
        for f in ref * 2
    ]
