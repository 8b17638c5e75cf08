"""Post-processing of generated audio: filters and EQ, reverb, de-clicking, fades, loudness, true peak.

:func:`postprocess` does in one call what one would do by hand in an audio editor, every step a
keyword option (``None`` or ``False`` switches it off), in this order::

    high-pass, low-pass (Butterworth, scipy.signal) -> low/high shelf (pedalboard) -> reverb (pedalboard)
    -> de-click at joins -> fade in/out -> loudness to a target (ITU-R BS.1770, pyloudnorm)
    -> true-peak limit (pedalboard's BrickwallLimiter, checked on the 4x oversampled signal)

Its settings (:func:`postprocess_params`) go into the clip's sidecar; the musicality card scores
the *raw* clip (:func:`musiclib.display.raw_and_processed` plays both). The same filters pre-process
training audio (``corpus.load_corpus(..., preprocess={"highpass_hz": 500.0})``, :func:`filter_audio`,
:func:`check_preprocess`).

Not pedalboard for everything: its pass filters are first order (6 dB/octave), too gentle, so they
are :func:`scipy.signal.butter` sections; its ``Limiter`` is a loudness maximiser, so the limit is
its ``BrickwallLimiter`` in true-peak mode with a safety margin and a final gain trim.

Nothing non-finite leaves these functions; silence (peak below -120 dBFS) stays silence.

Notebook: ``notebooks/07_raw_audio`` (and every generating notebook's listening section).
"""

from __future__ import annotations

import inspect
import math
import warnings

import numpy as np

from musiclib.errors import ParameterError, check_choice, check_int, check_number, check_signal, check_sr

__all__ = [
    "postprocess",
    "postprocess_params",
    "filter_audio",
    "check_preprocess",
    "PREPROCESS_KEYS",
    "declick",
    "fade",
    "layer",
    "loudness",
    "normalize_loudness",
    "true_peak_db",
    "limit_true_peak",
]

#: The options of :func:`filter_audio`, i.e. what ``load_corpus(..., preprocess=...)`` accepts.
PREPROCESS_KEYS = ("highpass_hz", "lowpass_hz", "low_shelf", "high_shelf", "filter_order")

#: BS.1770 absolute gate: :func:`loudness` reports anything quieter as -inf.
SILENCE_LUFS = -70.0
#: Oversampling of the true-peak measurement (BS.1770-4 Annex 2 uses 4x at 48 kHz).
TRUE_PEAK_OVERSAMPLE = 4
#: Margin (dB) under the true-peak limit at which the brick-wall limiter is set.
LIMITER_MARGIN_DB = 0.3
#: Rounds of (gain to the loudness target, then limit) before the final peak trim.
LOUDNESS_ROUNDS = 10
#: The most gain (dB) the loudness normalisation adds beyond its first step: what the limiter may take off.
MAX_LIMITER_GAIN_DB = 24.0
#: A clip whose sample peak is below this (-120 dBFS) is silence: never amplified.
SILENCE_PEAK = 1e-6

#: Lowest sample rate accepted (Hz): below it BS.1770's filters have no audio band to work on.
MIN_SR = 1000
#: Lowest filter or shelf frequency accepted (Hz): far below Nyquist the Butterworth design fails.
MIN_CUTOFF_HZ = 1.0

_REVERB_KEYS = ("room_size", "damping", "wet_level", "dry_level", "width")


# --- checks ---
def _check_signal(y, *, name: str = "y", nonfinite: str = "raise") -> np.ndarray:
    """``y`` as float64 (:func:`musiclib.errors.check_signal`); ``nonfinite="zero"``: NaN/inf samples become 0."""
    if nonfinite == "zero" and isinstance(y, np.ndarray) and y.dtype.kind == "f" and not np.all(np.isfinite(y)):
        bad = ~np.isfinite(y)
        warnings.warn(f"{name} holds {int(bad.sum())} NaN/inf samples; they are set to 0", stacklevel=3)
        y = np.where(bad, 0.0, y)
    return check_signal(name, y, dtype=np.float64, note="pass nonfinite='zero' to set them to 0")


def _check_cutoff(name, hz, sr):
    if hz is None or hz is False:
        return None
    hz = check_number(name, hz, low=MIN_CUTOFF_HZ)
    if sr is not None and hz >= sr / 2:
        raise ParameterError(f"{name}={hz!r} must be below the Nyquist frequency sr/2 = {sr / 2:g} Hz")
    return hz


def _check_shelf(name, shelf, sr):
    """``(hz, gain_db)`` or ``{"hz":, "gain_db":, "q":}`` -> ``{"hz", "gain_db", "q"}`` (or None)."""
    if shelf is None or shelf is False:
        return None
    if isinstance(shelf, dict):
        unknown = set(shelf) - {"hz", "gain_db", "q"}
        if unknown or "hz" not in shelf or "gain_db" not in shelf:
            raise ParameterError(
                f"{name}={shelf!r} must be (hz, gain_db) or a dict with keys 'hz', 'gain_db' and optionally 'q'"
            )
        hz, gain, q = shelf["hz"], shelf["gain_db"], shelf.get("q", 1 / math.sqrt(2))
    elif isinstance(shelf, (tuple, list)) and len(shelf) in (2, 3):
        hz, gain, q = (*shelf, 1 / math.sqrt(2))[:3]
    else:
        raise ParameterError(f"{name}={shelf!r} must be (hz, gain_db) or a dict with keys 'hz' and 'gain_db'")
    return {
        "hz": _check_cutoff(f"{name}[hz]", hz, sr),
        "gain_db": check_number(f"{name}[gain_db]", gain, low=-60.0, high=30.0),
        "q": check_number(f"{name}[q]", q, low=0.05, high=20.0),
    }


def _check_reverb(reverb):
    if reverb is None or reverb is False:
        return None
    if reverb is True:
        reverb = {}
    if not isinstance(reverb, dict):
        raise ParameterError(f"reverb={reverb!r} must be None, True or a dict of {', '.join(_REVERB_KEYS)}")
    unknown = set(reverb) - set(_REVERB_KEYS)
    if unknown:
        raise ParameterError(f"reverb has unknown keys {sorted(unknown)}; known: {', '.join(_REVERB_KEYS)}")
    defaults = {"room_size": 0.5, "damping": 0.5, "wet_level": 0.25, "dry_level": 0.75, "width": 1.0}
    return {**defaults, **{k: check_number(f"reverb[{k}]", v, low=0.0, high=1.0) for k, v in reverb.items()}}


def check_preprocess(preprocess, *, sr: int | None = None) -> dict | None:
    """Validate pre-processing settings for training audio; return them normalised (or None).

    Parameters
    ----------
    preprocess : dict or None
        Keyword options of :func:`filter_audio` (keys :data:`PREPROCESS_KEYS`), e.g.
        ``{"highpass_hz": 500.0}``. ``None`` or ``{}``: no pre-processing.
    sr : int, optional
        Sample rate in Hz the filters will run at (the cutoffs are checked against Nyquist).

    Returns
    -------
    dict or None
        The settings with every key present, numbers as floats (the feature cache's key), or None
        when nothing is switched on.

    Raises
    ------
    ParameterError
        Not a dict, an unknown key, or a bad value (named).
    """
    if preprocess is None:
        return None
    if not isinstance(preprocess, dict):
        raise ParameterError(f"preprocess={preprocess!r} must be a dict of {', '.join(PREPROCESS_KEYS)} or None")
    unknown = set(preprocess) - set(PREPROCESS_KEYS)
    if unknown:
        raise ParameterError(f"preprocess has unknown keys {sorted(unknown)}; known: {', '.join(PREPROCESS_KEYS)}")
    if sr is not None:
        sr = check_sr(sr, low=MIN_SR)
    out = {
        "highpass_hz": _check_cutoff("highpass_hz", preprocess.get("highpass_hz"), sr),
        "lowpass_hz": _check_cutoff("lowpass_hz", preprocess.get("lowpass_hz"), sr),
        "low_shelf": _check_shelf("low_shelf", preprocess.get("low_shelf"), sr),
        "high_shelf": _check_shelf("high_shelf", preprocess.get("high_shelf"), sr),
        "filter_order": check_int("filter_order", preprocess.get("filter_order", 4), high=12),
    }
    if out["highpass_hz"] and out["lowpass_hz"] and out["highpass_hz"] >= out["lowpass_hz"]:
        raise ParameterError(
            f"highpass_hz={out['highpass_hz']:g} must be below lowpass_hz={out['lowpass_hz']:g} (nothing would pass)"
        )
    if all(out[k] is None for k in ("highpass_hz", "lowpass_hz", "low_shelf", "high_shelf")):
        return None
    return out


# --- filters and EQ ---
def _pedalboard(y: np.ndarray, sr: int, plugins) -> np.ndarray:
    import pedalboard

    board = pedalboard.Pedalboard(list(plugins))
    out = board(np.ascontiguousarray(y, dtype=np.float32), sr)
    return np.asarray(out, dtype=np.float64).reshape(-1)[: len(y)]


def filter_audio(
    y: np.ndarray,
    *,
    sr: int,
    highpass_hz: float | None = None,
    lowpass_hz: float | None = None,
    low_shelf=None,
    high_shelf=None,
    filter_order: int = 4,
) -> np.ndarray:
    """High-/low-pass filter and shelving EQ: the filters shared by post- and pre-processing.

    Parameters
    ----------
    y : np.ndarray [shape=(n_samples,)]
        Mono audio.
    sr : int
        Sample rate in Hz.
    highpass_hz, lowpass_hz : float, optional
        Cutoffs (-3 dB points) in Hz of causal Butterworth filters of order ``filter_order``
        (:func:`scipy.signal.butter`; order 4 falls off at 24 dB per octave).
    low_shelf, high_shelf : (hz, gain_db) or dict, optional
        Shelving EQ (``pedalboard.LowShelfFilter`` / ``HighShelfFilter``): boost or cut by ``gain_db``
        below (low) or above (high) ``hz``; a dict may also give ``q`` (default 0.707).
    filter_order : int
        Order of the pass filters, 1-12.

    Returns
    -------
    np.ndarray [shape=(n_samples,)], float32
        The filtered audio (``y`` itself when no filter is set).

    Raises
    ------
    ParameterError
        Bad audio, a cutoff at or above Nyquist, or highpass_hz >= lowpass_hz (each named).
    """
    sr = check_sr(sr, low=MIN_SR)
    y = _check_signal(y)
    settings = check_preprocess(
        {"highpass_hz": highpass_hz, "lowpass_hz": lowpass_hz, "low_shelf": low_shelf, "high_shelf": high_shelf,
         "filter_order": filter_order}, sr=sr)
    return (y if settings is None else _filter(y, sr, settings)).astype(np.float32)


def _filter(y: np.ndarray, sr: int, s: dict) -> np.ndarray:
    import scipy.signal

    for kind, hz in (("highpass", s["highpass_hz"]), ("lowpass", s["lowpass_hz"])):
        if hz:
            sos = scipy.signal.butter(s["filter_order"], hz, btype=kind, fs=sr, output="sos")
            y = scipy.signal.sosfilt(sos, y)
    import pedalboard

    shelves = (("low_shelf", pedalboard.LowShelfFilter), ("high_shelf", pedalboard.HighShelfFilter))
    plugins = [f(cutoff_frequency_hz=s[k]["hz"], gain_db=s[k]["gain_db"], q=s[k]["q"])
               for k, f in shelves if s[k]]
    if plugins:
        y = _pedalboard(y, sr, plugins)
    return np.asarray(y, dtype=np.float64)


# --- joins, fades, layers ---
def _check_joins(joins, n: int) -> np.ndarray:
    if joins is None:
        return np.zeros(0, dtype=np.int64)
    arr = np.atleast_1d(joins)
    if arr.ndim != 1 or (arr.size and not np.issubdtype(arr.dtype, np.integer)):
        raise ParameterError(f"joins={joins!r} must be a list of integer sample indices")
    if arr.size and (arr.min() < 1 or arr.max() > n - 1):
        raise ParameterError(f"joins={joins!r} must lie within 1..{n - 1} (sample indices inside y)")
    return np.unique(arr.astype(np.int64))


def declick(y: np.ndarray, *, sr: int, joins, width: float = 0.005) -> np.ndarray:
    """Remove the step at each join of pieces of audio, by spreading it smoothly over ``width`` seconds.

    The step at a join ``j`` is ``y[j]`` minus the straight-line prediction from ``y[j-2], y[j-1]``;
    half is added to the left piece and half subtracted from the right, with raised-cosine tapers
    (1 at the join, 0 ``width`` seconds away). A join without a step is left as it is.

    Parameters
    ----------
    y : np.ndarray [shape=(n_samples,)]
    sr : int
        Sample rate in Hz.
    joins : list of int
        Sample indices where one piece ends and the next begins (1 .. n_samples - 1).
    width : float
        Seconds on each side of a join over which the step is spread (> 0).

    Returns
    -------
    np.ndarray [shape=(n_samples,)], float32

    Raises
    ------
    ParameterError
        Bad audio, joins outside the signal or not integers, width not positive.
    """
    sr = check_sr(sr, low=MIN_SR)
    y = _check_signal(y).copy()
    width = check_number("width", width, low=0.0, low_open=True, high=10.0)
    joins = _check_joins(joins, len(y))
    return _declick(y, sr, joins, width).astype(np.float32)


def _declick(y, sr, joins, width):
    w = max(1, int(round(width * sr)))
    for j in joins:
        predicted = 2 * y[j - 1] - y[j - 2] if j >= 2 else y[j - 1]
        step = y[j] - predicted
        if step == 0:
            continue
        left = min(w, j)
        right = min(w, len(y) - j)
        taper_l = 0.5 * (1 - np.cos(np.pi * np.arange(1, left + 1) / left)) if left > 1 else np.ones(left)
        taper_r = 0.5 * (1 + np.cos(np.pi * np.arange(right) / right))
        y[j - left : j] += 0.5 * step * taper_l
        y[j : j + right] -= 0.5 * step * taper_r
    return y


def fade(y: np.ndarray, *, sr: int, fade_in: float = 0.01, fade_out: float = 0.5) -> np.ndarray:
    """Raised-cosine fade-in and fade-out of ``fade_in`` / ``fade_out`` seconds (0 = none).

    When the clip is shorter than both fades together, both shrink in proportion to fit.

    Returns
    -------
    np.ndarray [shape=(n_samples,)], float32
    """
    sr = check_sr(sr, low=MIN_SR)
    y = _check_signal(y)
    fade_in = check_number("fade_in", fade_in, low=0.0)
    fade_out = check_number("fade_out", fade_out, low=0.0)
    return _fade(y, sr, fade_in, fade_out).astype(np.float32)


def _fade(y, sr, fade_in, fade_out):
    n = len(y)
    # in floats, capped, until they fit the clip: a fade of 1e304 s would overflow int()
    a, b = float(round(min(fade_in * sr, 1e18))), float(round(min(fade_out * sr, 1e18)))
    scale = min(1.0, n / (a + b)) if a + b else 1.0
    a, b = int(a * scale), int(b * scale)
    y = y.copy()
    if a:
        y[:a] *= 0.5 * (1 - np.cos(np.pi * np.arange(a) / a))
    if b:
        y[n - b :] *= 0.5 * (1 + np.cos(np.pi * np.arange(1, b + 1) / b))
    return y


def layer(clips, *, gains_db=None) -> np.ndarray:
    """Stack several generations into one clip: the sum of the clips, each at its gain.

    Parameters
    ----------
    clips : list of np.ndarray [shape=(n_samples_i,)]
        Mono clips at one sample rate; shorter ones are padded with silence at the end.
    gains_db : list of float, optional
        Gain of each clip in dB (default 0 dB each).

    Returns
    -------
    np.ndarray [shape=(max n_samples_i,)], float32
        The mix, not normalised (see :func:`postprocess`).

    Raises
    ------
    ParameterError
        No clips, a bad clip, or gains_db of another length or with non-finite values.
    """
    if isinstance(clips, np.ndarray) and clips.ndim == 1:
        clips = [clips]
    if not isinstance(clips, (list, tuple)) or not clips:
        raise ParameterError("layer() needs a non-empty list of 1-D clips")
    clips = [_check_signal(c, name=f"clips[{i}]") for i, c in enumerate(clips)]
    gains_db = [0.0] * len(clips) if gains_db is None else gains_db
    if not isinstance(gains_db, (list, tuple, np.ndarray)) or len(gains_db) != len(clips):
        raise ParameterError(f"gains_db={gains_db!r} must give one gain (dB) per clip ({len(clips)})")
    gains = [check_number(f"gains_db[{i}]", g, low=-120.0, high=60.0) for i, g in enumerate(gains_db)]
    out = np.zeros(max(len(c) for c in clips))
    for c, g in zip(clips, gains):
        out[: len(c)] += c * 10 ** (g / 20)
    with np.errstate(over="ignore"):
        out = out.astype(np.float32)
    if not np.all(np.isfinite(out)):
        raise ParameterError("the layered clips exceed float32's range (about 3.4e38): scale them down first")
    return out


# --- loudness and true peak ---
def _loudness(y: np.ndarray, sr: int) -> float:
    import pyloudnorm

    block = 0.4
    n = int(math.ceil(block * sr)) + 1
    if len(y) < n:  # shorter than one gating block: measured as if looped
        y = np.tile(y, int(math.ceil(n / len(y))))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pyloudnorm warns on silence (log of zero)
        value = float(pyloudnorm.Meter(sr, block_size=block).integrated_loudness(y))
    return value if math.isfinite(value) and value > SILENCE_LUFS else -math.inf


def loudness(y: np.ndarray, *, sr: int) -> float:
    """Integrated loudness in LUFS (ITU-R BS.1770-4, K-weighted and gated; ``pyloudnorm``).

    A clip shorter than one 400 ms gating block is measured as if looped. Silence, and anything
    quieter than the absolute gate (-70 LUFS), gives ``-inf``.
    """
    return _loudness(_check_signal(y), check_sr(sr, low=MIN_SR))


def true_peak_db(y: np.ndarray, *, oversample: int = TRUE_PEAK_OVERSAMPLE) -> float:
    """True peak in dBTP: the peak of ``y`` oversampled ``oversample`` times (:func:`scipy.signal.resample_poly`).

    BS.1770-4's estimate of the analogue peak (above the sample peak near Nyquist); ``-inf`` for silence.
    """
    y = _check_signal(y)
    return _true_peak_db(y, check_int("oversample", oversample, high=32))


def _true_peak_db(y, oversample=TRUE_PEAK_OVERSAMPLE):
    import scipy.signal

    up = scipy.signal.resample_poly(y, oversample, 1) if oversample > 1 and len(y) > 1 else y
    peak = max(float(np.max(np.abs(up))), float(np.max(np.abs(y))))
    return 20 * math.log10(peak) if peak > 0 else -math.inf


def _gain(y, db):
    return y * 10 ** (db / 20)


def _check_limiter(true_peak_db, release_ms, *, allow_none=False) -> tuple[float | None, float]:
    return (check_number("true_peak_db", true_peak_db, low=-60.0, high=0.0, allow_none=allow_none),
            check_number("release_ms", release_ms, low=1.0, high=5000.0))


def limit_true_peak(y: np.ndarray, *, sr: int, true_peak_db: float = -1.0, release_ms: float = 100.0) -> np.ndarray:
    """Keep the true peak of ``y`` below ``true_peak_db``: a brick-wall limiter, then a safety trim.

    ``pedalboard.BrickwallLimiter`` (true-peak mode) is set :data:`LIMITER_MARGIN_DB` under the
    limit; if its output still overshoots (its docs warn it can), the whole clip is turned down by
    the excess. A clip already below the limit is returned unchanged.

    Returns
    -------
    np.ndarray [shape=(n_samples,)], float32
    """
    sr = check_sr(sr, low=MIN_SR)
    limit, release_ms = _check_limiter(true_peak_db, release_ms)
    y = _check_signal(y)
    return _limit(y, sr, limit, release_ms).astype(np.float32)


def _limit(y, sr, limit, release_ms):
    import pedalboard

    if _true_peak_db(y) <= limit:
        return y
    limiter = pedalboard.BrickwallLimiter(ceiling_db=limit - LIMITER_MARGIN_DB, release_ms=release_ms,
                                          true_peak=True)
    y = _pedalboard(y, sr, [limiter])
    return _trim(y, limit)


def _trim(y, limit):
    # the output is float32 in the end: measure what will be delivered
    tp = _true_peak_db(y.astype(np.float32).astype(np.float64))
    if tp > limit:
        y = _gain(y, limit - tp - 0.01)
    return y


def normalize_loudness(y: np.ndarray, *, sr: int, loudness_lufs: float = -14.0, true_peak_db: float | None = -1.0,
                       release_ms: float = 100.0) -> np.ndarray:
    """Bring ``y`` to ``loudness_lufs`` (BS.1770, pyloudnorm) with its true peak below ``true_peak_db``.

    Gain and limiter (:func:`limit_true_peak`) alternate, up to :data:`LOUDNESS_ROUNDS` times, since
    the limiter lowers the loudness. The limit wins: a clip that cannot reach the target under it
    ends quieter, with a warning. Clips below BS.1770's -70 LUFS gate are measured on a scaled copy;
    silence (peak below :data:`SILENCE_PEAK`) is returned as it is.

    Returns
    -------
    np.ndarray [shape=(n_samples,)], float32
    """
    sr = check_sr(sr, low=MIN_SR)
    target = check_number("loudness_lufs", loudness_lufs, low=-70.0, high=0.0)
    limit, release_ms = _check_limiter(true_peak_db, release_ms, allow_none=True)
    y = _check_signal(y)
    return _normalize(y, sr, target, limit, release_ms).astype(np.float32)


def _normalize(y, sr, target, limit, release_ms):
    peak = float(np.max(np.abs(y)))
    if peak < SILENCE_PEAK:
        return y
    g = 0.5 / peak  # measured on a scaled copy: a clip below the absolute gate has a level too
    level = _loudness(y * g, sr) - 20 * math.log10(g)
    if not math.isfinite(level):
        return y  # nothing the K-weighting lets through (e.g. pure DC) stays as it is

    # small repeated gain steps, each limited, reach the target of a clip with a high crest factor
    # (a drum loop) where one big gain into one limiter pass does not
    z, measured, extra = y, level, 0.0
    for i in range(LOUDNESS_ROUNDS):
        step = target - measured
        if i:
            step = min(step, MAX_LIMITER_GAIN_DB - extra)
            if abs(step) <= 0.01:
                break
            extra += step
        z = _gain(z, step)
        if limit is not None:
            z = _limit(z, sr, limit, release_ms)
        before, measured = measured, _loudness(z, sr)
        if not math.isfinite(measured) or abs(measured - target) <= 0.05:
            break
        if i and measured - before < 0.02:
            break  # the limiter takes all that is added: nothing more to gain
    if limit is not None:
        z = _trim(z, limit)
        measured = _loudness(z, sr)
    if math.isfinite(measured) and abs(measured - target) > 1.0:
        warnings.warn(
            f"loudness reached {measured:.1f} LUFS, not the target {target:.1f} LUFS: the true-peak limit "
            f"{limit} dBTP wins (the limiter may take at most {MAX_LIMITER_GAIN_DB:g} dB off the peaks)",
            stacklevel=3)
    return z


# --- the whole chain ---
def postprocess(
    y: np.ndarray,
    *,
    sr: int,
    loudness_lufs: float | None = -14.0,
    true_peak_db: float | None = -1.0,
    highpass_hz: float | None = None,
    lowpass_hz: float | None = None,
    low_shelf=None,
    high_shelf=None,
    filter_order: int = 4,
    reverb=None,
    joins=None,
    declick_width: float = 0.005,
    fade_in: float | None = 0.01,
    fade_out: float | None = 0.5,
    release_ms: float = 100.0,
    nonfinite: str = "raise",
) -> np.ndarray:
    """Clean a generated clip: filters, EQ, reverb, de-clicked joins, fades, loudness and a true-peak limit.

    Steps run in the module docstring's order; ``None`` (or ``False``, or 0 for the fades) switches
    a step off.

    Parameters
    ----------
    y : np.ndarray [shape=(n_samples,)]
        Mono audio (any scale; a model's raw output).
    sr : int
        Sample rate in Hz.
    loudness_lufs : float or None
        Integrated loudness target in LUFS (:func:`normalize_loudness`; -14 is the streaming
        services' level), in [-70, 0]. None: no loudness normalisation.
    true_peak_db : float or None
        Ceiling for the true peak in dBTP, in [-60, 0] (:func:`limit_true_peak`). None: no limit.
    highpass_hz, lowpass_hz, low_shelf, high_shelf, filter_order :
        The filters and shelving EQ of :func:`filter_audio`.
    reverb : True, dict or None
        ``pedalboard.Reverb`` (Freeverb); a dict sets any of ``room_size``, ``damping``,
        ``wet_level``, ``dry_level``, ``width`` (each 0-1; defaults 0.5, 0.5, 0.25, 0.75, 1).
        The clip keeps its length (the tail is cut; the fade-out hides it).
    joins : list of int or None
        Sample indices where generated pieces were joined (:func:`declick`).
    declick_width : float
        Seconds each side of a join.
    fade_in, fade_out : float or None
        Raised-cosine fades in seconds (default 10 ms in, 0.5 s out).
    release_ms : float
        Release of the limiter in ms.
    nonfinite : {"raise", "zero"}
        NaN/inf samples in ``y``: raise a ParameterError (default) or set them to 0 with a warning.

    Returns
    -------
    np.ndarray [shape=(n_samples,)], float32
        Finite; its loudness within 1 LU of ``loudness_lufs`` unless the peak limit forbids it
        (then a warning); its true peak at most ``true_peak_db``. Silence stays silent.

    Raises
    ------
    ParameterError
        Bad audio or any bad setting (named, with its value).

    Examples
    --------
    >>> from musiclib import synth
    >>> y = 3.0 * synth.synthetic_mix(duration=4.0)
    >>> z = postprocess(y, sr=22050, highpass_hz=40.0)
    >>> round(loudness(z, sr=22050)), true_peak_db(z) <= -1.0
    (-14, True)
    """
    params = _check_params(dict(
        loudness_lufs=loudness_lufs, true_peak_db=true_peak_db, highpass_hz=highpass_hz, lowpass_hz=lowpass_hz,
        low_shelf=low_shelf, high_shelf=high_shelf, filter_order=filter_order, reverb=reverb, joins=joins,
        declick_width=declick_width, fade_in=fade_in, fade_out=fade_out, release_ms=release_ms, nonfinite=nonfinite,
    ), sr=sr)
    sr = check_sr(sr, low=MIN_SR)
    y = _check_signal(y, nonfinite=params["nonfinite"])
    if any(params[k] for k in ("highpass_hz", "lowpass_hz", "low_shelf", "high_shelf")):
        y = _filter(y, sr, params)
    if params["reverb"] is not None:
        import pedalboard

        y = _pedalboard(y, sr, [pedalboard.Reverb(**params["reverb"])])
    joins = _check_joins(params["joins"], len(y))
    if joins.size:
        y = _declick(y.copy(), sr, joins, params["declick_width"])
    if params["fade_in"] or params["fade_out"]:
        y = _fade(y, sr, params["fade_in"] or 0.0, params["fade_out"] or 0.0)
    if params["loudness_lufs"] is not None:
        y = _normalize(y, sr, params["loudness_lufs"], params["true_peak_db"], params["release_ms"])
    elif params["true_peak_db"] is not None:
        y = _limit(y, sr, params["true_peak_db"], params["release_ms"])
    y = y.astype(np.float32)
    if not np.all(np.isfinite(y)):  # pragma: no cover - every step above is finite for finite input
        raise RuntimeError("postprocess produced non-finite samples; please report this with the input")
    return y


def _check_params(p: dict, *, sr=None) -> dict:
    out = dict(p)
    out["loudness_lufs"] = check_number("loudness_lufs", p["loudness_lufs"], low=-70.0, high=0.0, allow_none=True)
    out["true_peak_db"], out["release_ms"] = _check_limiter(p["true_peak_db"], p["release_ms"], allow_none=True)
    filters = check_preprocess({k: p[k] for k in PREPROCESS_KEYS}, sr=sr)
    out.update(filters or dict.fromkeys(("highpass_hz", "lowpass_hz", "low_shelf", "high_shelf")))
    out["filter_order"] = check_int("filter_order", p["filter_order"], high=12)
    out["reverb"] = _check_reverb(p["reverb"])
    if p["joins"] is not None:
        joins = np.asarray(p["joins"])
        if joins.ndim > 1 or (joins.size and not np.issubdtype(joins.dtype, np.integer)) or (
                joins.size and joins.min() < 1):
            raise ParameterError(f"joins={p['joins']!r} must be a list of positive integer sample indices")
        out["joins"] = [int(j) for j in joins.reshape(-1)]
    out["declick_width"] = check_number("declick_width", p["declick_width"], low=0.0, low_open=True, high=10.0)
    for k in ("fade_in", "fade_out"):
        out[k] = 0.0 if p[k] is None or p[k] is False else check_number(k, p[k], low=0.0, high=3600.0)
    check_choice("nonfinite", p["nonfinite"], ("raise", "zero"))
    return out


def postprocess_params(**options) -> dict:
    """The complete, validated settings of :func:`postprocess`: defaults filled in, JSON-able.

    Pass them back with ``postprocess(y, sr=sr, **params)`` and record them in the output sidecar
    (``save_clips(..., parameters={..., "postprocess": params})``).

    Parameters
    ----------
    **options
        Any keyword option of :func:`postprocess` (not ``sr``).

    Returns
    -------
    dict
        Every option, normalised (floats, shelves as dicts, ``reverb`` as its full settings or None).

    Raises
    ------
    ParameterError
        An unknown option or a bad value.
    """
    sig = inspect.signature(postprocess)
    names = [n for n, p in sig.parameters.items() if p.kind is inspect.Parameter.KEYWORD_ONLY and n != "sr"]
    unknown = set(options) - set(names)
    if unknown:
        raise ParameterError(f"postprocess has no option(s) {sorted(unknown)}; options: {', '.join(names)}")
    full = {n: options.get(n, sig.parameters[n].default) for n in names}
    return _check_params(full)
