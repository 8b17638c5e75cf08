"""Beats: tempo with the tracker's octave and 2:3 errors checked, the beat clock, beat-synchronous pieces.

Built on librosa's beat tracker and onset envelope:

====================== ==========================================================================
:func:`track_beats`    tempo (BPM) and beat times (s) of a signal, as a :class:`Beats`
:func:`corpus_tempo`   the median tempo of several tracked signals (the clock's default tempo)
:func:`tempo_table`    librosa's default and the checked tempo of every clip with beats
:func:`whole_bars`     whether beat counts are whole numbers of bars
:func:`beat_phase`     sin/cos of the phase within the beat and the bar for every frame
:func:`clock`          the same features from a steady clock (what a roll-out feeds a model)
:func:`beat_frames`    beat positions as frame indices of a representation (beat-synchronous patches)
:func:`beat_slices`    sample bounds of consecutive beats or bars (beat-synchronous audio pieces)
:func:`stretch`        a piece time-stretched to a fixed number of samples, pitch kept (and back)
:func:`join`           pieces put back together with short cross-fades at the beats
====================== ==========================================================================

A representation's frame ``i`` sits at ``i / frames_per_second`` seconds (librosa's centred frames),
so :func:`beat_frames`, :func:`beat_phase` and :func:`clock` line up with its frames. Bad arguments
raise :class:`musiclib.errors.ParameterError`; Raises sections name only the other causes.

Notebooks: 00_data_tour (tempo check), 02-04 (the clock), 05_vae and 06_gan (beat patches),
07_raw_audio (slices, :func:`stretch`, :func:`join`).
"""

from __future__ import annotations

import functools
import warnings
from dataclasses import dataclass

import numpy as np
import scipy.stats

from musiclib.errors import MAX_SAMPLES, MAX_SR, ParameterError, check_int, check_number, check_signal, check_sr

__all__ = [
    "PHASE_FEATURES",
    "Beats",
    "track_beats",
    "corpus_tempo",
    "tempo_table",
    "whole_bars",
    "beat_phase",
    "clock",
    "beat_frames",
    "beat_slices",
    "stretch",
    "join",
]

#: Column names of :func:`beat_phase` and :func:`clock` features, in order.
PHASE_FEATURES = ("beat_sin", "beat_cos", "bar_sin", "bar_cos")

#: Tempo prior: log-normal around this tempo in BPM (librosa's ``start_bpm`` default) ...
PRIOR_BPM = 120.0
#: ... with this standard deviation in octaves: narrower than librosa's 1.0 because the metrical
#: score leans towards half the tempo (chosen on ``tests/test_beats.py``'s grooves).
PRIOR_OCTAVES = 0.85
#: The envelope's autocorrelation is read at lags up to this fraction of its length.
MAX_LAG_FRACTION = 2 / 3
#: Highest tempo (BPM) any parameter may name.
MAX_BPM = 1000.0
#: Most beats per bar accepted.
MAX_BEATS_PER_BAR = 64


def _check_beats(beats, name: str = "beats") -> "Beats":
    if not isinstance(beats, Beats):
        raise ParameterError(f"{name} must be a Beats (from track_beats); got {type(beats).__name__}")
    return beats


def _librosa_call(what: str, func, *args, **kwargs):
    """Run a librosa function; its ParameterError becomes ours, naming the call."""
    import librosa

    try:
        return func(*args, **kwargs)
    except librosa.util.exceptions.ParameterError as e:
        raise ParameterError(f"{what}: {e}") from None


@dataclass(frozen=True, eq=False)
class Beats:
    """Beats tracked in one signal.

    Attributes
    ----------
    tempo : float
        Tempo in BPM (see :func:`track_beats`).
    times : np.ndarray [shape=(n_beats,)]
        Beat times in seconds from the start of the signal, increasing (read-only).
    beats_per_bar : int
    downbeat : int
        Index into ``times`` of the first beat that starts a bar (``0 <= downbeat < beats_per_bar``).
    tracker_tempo : float
        librosa's default tempo estimate, before the check (NaN when not from :func:`track_beats`).
    periodicity : float
        Mean normalised autocorrelation of the onset envelope at one beat, two beats and one bar
        at ``tempo``, in [-1, 1] (near 1: a steady pulse); NaN when too short to measure.
    duration : float
        Seconds of the signal the beats were tracked in (NaN when unknown).
    """

    tempo: float
    times: np.ndarray
    beats_per_bar: int = 4
    downbeat: int = 0
    tracker_tempo: float = float("nan")
    periodicity: float = float("nan")
    duration: float = float("nan")

    def __post_init__(self):
        tempo = check_number("tempo", self.tempo, low=0, high=MAX_BPM, low_open=True)
        bpb = check_int("beats_per_bar", self.beats_per_bar, low=1, high=MAX_BEATS_PER_BAR)
        times = np.array(self.times, dtype=np.float64)  # a copy, made read-only below
        if times.ndim != 1:
            raise ParameterError(f"times must be 1-D (seconds); got shape {times.shape}")
        if not np.all(np.isfinite(times)) or np.any(times < 0) or np.any(np.diff(times) <= 0):
            raise ParameterError(f"times must be finite, non-negative and increasing (seconds); got {times[:8]}")
        downbeat = check_int("downbeat", self.downbeat, low=0, high=bpb - 1)
        times.setflags(write=False)
        values = {"tempo": tempo, "beats_per_bar": bpb, "downbeat": downbeat, "times": times}
        values.update({k: float(getattr(self, k)) for k in ("tracker_tempo", "periodicity", "duration")})
        for name, value in values.items():
            object.__setattr__(self, name, value)

    def __len__(self) -> int:
        return len(self.times)

    def __repr__(self) -> str:
        return (f"Beats(tempo={self.tempo:.1f} BPM, {len(self.times)} beats, {self.beats_per_bar}/bar, "
                f"downbeat={self.downbeat}, tracker_tempo={self.tracker_tempo:.1f}, "
                f"periodicity={self.periodicity:.2f})")


def _metrical_periodicity(ac: np.ndarray, tempi: np.ndarray, *, frames_per_second: float,
                          beats_per_bar: int) -> np.ndarray:
    """Mean autocorrelation at one beat, two beats and one bar for each tempo (NaN: under two lags fit)."""
    multiples = sorted({1, 2, beats_per_bar})
    max_lag = MAX_LAG_FRACTION * (len(ac) - 1)
    lags = (60.0 * frames_per_second / tempi)[:, None] * np.array(multiples)[None, :]
    values = np.interp(lags, np.arange(len(ac)), ac)
    values[lags > max_lag] = np.nan
    enough = np.sum(np.isfinite(values), axis=1) >= min(2, len(multiples))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rows
        score = np.nanmean(values, axis=1)
    score[~enough] = np.nan
    return score


def _fold(tempo: float, lo: float, hi: float) -> float:
    """``tempo`` moved by octaves into ``[lo, hi]`` (clipped when the range is narrower than an octave)."""
    while tempo > hi and tempo / 2 >= lo:
        tempo /= 2
    while tempo < lo and tempo * 2 <= hi:
        tempo *= 2
    return float(np.clip(tempo, lo, hi))


def _settle_ends(frames: np.ndarray, envelope: np.ndarray) -> np.ndarray:
    """The first and last beat moved to the strongest onset within 15 % of a beat of where their
    neighbours' spacing places them (librosa places them loosely), or dropped without one."""
    if len(frames) < 4:
        return frames
    period = float(np.median(np.diff(frames)))
    reach = max(1, int(round(0.15 * period)))
    frames = frames.copy()
    keep = np.ones(len(frames), bool)
    for end, neighbour, direction in ((len(frames) - 1, len(frames) - 2, 1), (0, 1, -1)):
        centre = int(round(frames[neighbour] + direction * period))
        lo, hi = max(centre - reach, 0), min(centre + reach, len(envelope) - 1)
        if lo > hi or not np.any(envelope[lo : hi + 1] > 0):
            keep[end] = False
        else:
            frames[end] = lo + int(np.argmax(envelope[lo : hi + 1]))
    return np.unique(frames[keep])


@functools.lru_cache(maxsize=32)
def _envelope_delay(sr: int, hop_length: int, n_fft: int) -> float:
    """Mean seconds by which the onset envelope's peak follows a click (measured at 8 sub-frame positions)."""
    import librosa

    delays = []
    for k in range(8):
        t = 0.25 + k * hop_length / (8 * sr) + n_fft / sr
        y = librosa.clicks(times=[t], sr=sr, length=int(2 * (t * sr + n_fft)))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            env = librosa.onset.onset_strength(y=y, sr=sr, hop_length=hop_length, n_fft=n_fft, aggregate=np.median)
        delays.append(np.argmax(env) * hop_length / sr - t)
    return float(max(np.mean(delays), 0.0))


def _downbeat(beat_frames: np.ndarray, low_envelope: np.ndarray, beats_per_bar: int) -> int:
    """Which of the first ``beats_per_bar`` beats starts a bar: the one whose beats carry most low-band onsets."""
    if beats_per_bar == 1 or len(beat_frames) == 0:
        return 0
    strength = low_envelope[np.clip(beat_frames, 0, len(low_envelope) - 1)]
    means = [strength[k::beats_per_bar].mean() if len(strength[k::beats_per_bar]) else -np.inf
             for k in range(beats_per_bar)]
    return int(np.argmax(means))


def track_beats(
    y: np.ndarray,
    *,
    sr: int,
    hop_length: int = 512,
    tempo_range: tuple[float, float] = (60.0, 200.0),
    beats_per_bar: int = 4,
) -> Beats:
    """Track the beats of a signal, with the tempo checked against the onset envelope's periodicity.

    librosa's tracker often locks onto 2/3, 3/4 or 1/2 of the beat, so every tempo in ``tempo_range``
    is scored by the onset envelope's autocorrelation at one beat, two beats and one bar (a 2:3 or
    3:4 confusion scores low: the bar does not repeat at the wrong period) times a log-normal prior
    around :data:`PRIOR_BPM`; librosa then re-tracks the beats at the best tempo, and they are moved
    back by the envelope's delay onto the attacks. Where music is as periodic at half the tempo,
    the prior picks the reading nearer 120 BPM (``tempo_range`` settles the octave when known). The
    downbeat is the beat position whose beats carry the strongest low-band (< 200 Hz) onsets.

    Parameters
    ----------
    y : np.ndarray [shape=(n_samples,)]
    sr : int
        Sample rate in Hz.
    hop_length : int
        Hop of the onset envelope in samples (the beat times' resolution).
    tempo_range : (float, float)
        Lowest and highest tempo in BPM the answer may have.
    beats_per_bar : int

    Returns
    -------
    Beats
        ``tempo`` is the tracked beats' own rate when they span two bars or more.

    Raises
    ------
    ParameterError
        ``y`` shorter than two beats at ``tempo_range[1]``, or silent (no onsets).

    Examples
    --------
    >>> import librosa
    >>> sr = 22050
    >>> y = librosa.clicks(times=np.arange(0, 10, 60 / 137), sr=sr, length=10 * sr)
    >>> b = track_beats(y, sr=sr)
    >>> round(b.tempo)
    137
    """
    import librosa

    sr = check_sr(sr)
    hop_length = check_int("hop_length", hop_length, low=1, high=MAX_SR)
    try:
        lo, hi = tempo_range
    except (TypeError, ValueError):
        raise ParameterError(
            f"tempo_range={tempo_range!r} must be a pair (low, high) of tempi in BPM") from None
    lo = check_number("tempo_range[0]", lo, low=0, high=MAX_BPM, low_open=True)
    hi = check_number("tempo_range[1]", hi, low=0, high=MAX_BPM, low_open=True)
    if not hi > lo:
        raise ParameterError(f"tempo_range={tempo_range!r} must have low < high (BPM)")
    bpb = check_int("beats_per_bar", beats_per_bar, low=1, high=MAX_BEATS_PER_BAR)
    y = check_signal("y", y, min_samples=2, need="two samples")
    min_seconds = 2 * 60.0 / hi
    if len(y) / sr < min_seconds:
        raise ParameterError(
            f"y lasts {len(y) / sr:.3f} s, shorter than two beats at tempo_range[1]={hi:g} BPM ({min_seconds:.3f} s)"
        )
    if hop_length > len(y) // 4:
        raise ParameterError(f"hop_length={hop_length} gives fewer than 4 frames for y of {len(y)} samples")
    fps = sr / hop_length
    n_fft = int(min(2048, 2 ** np.floor(np.log2(len(y)))))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # librosa's "n_fft too large" / empty-filter notes
        envelope = _librosa_call("onset envelope of y", librosa.onset.onset_strength, y=y, sr=sr,
                                 hop_length=hop_length, n_fft=n_fft, aggregate=np.median)
        low = _librosa_call("low-band onset envelope of y", librosa.onset.onset_strength, y=y, sr=sr,
                            hop_length=hop_length, n_fft=n_fft, n_mels=16, fmax=min(200.0, sr / 2))
    if not np.any(envelope > 0):
        raise ParameterError("y has no onsets (silent or constant): there are no beats to track")

    tracker_tempo, _ = _librosa_call("beat_track on y", librosa.beat.beat_track, onset_envelope=envelope,
                                     sr=sr, hop_length=hop_length)
    tracker_tempo = float(np.atleast_1d(tracker_tempo)[0])

    e = envelope.astype(np.float64) - envelope.mean()
    ac = librosa.autocorrelate(e) / (len(e) - np.arange(len(e)))  # unbiased, then 1 at lag 0
    ac = ac / ac[0] if ac[0] > 0 else np.zeros_like(ac)
    tempi = np.arange(lo, hi + 1e-9, 0.25)
    periodicity = _metrical_periodicity(ac, tempi, frames_per_second=fps, beats_per_bar=bpb)
    score = periodicity * np.exp(-0.5 * (np.log2(tempi / PRIOR_BPM) / PRIOR_OCTAVES) ** 2)
    if np.any(np.isfinite(score)):
        best = int(np.nanargmax(score))
        tempo, strength = float(tempi[best]), float(periodicity[best])
    else:  # too short for two lags at any tempo: librosa's estimate, in range
        tempo = _fold(tracker_tempo if tracker_tempo > 0 else PRIOR_BPM, lo, hi)
        strength = float("nan")

    _, frames = _librosa_call(f"beat_track on y at bpm={tempo:g}", librosa.beat.beat_track,
                              onset_envelope=envelope, sr=sr, hop_length=hop_length, bpm=tempo)
    frames = _settle_ends(np.unique(np.asarray(frames, dtype=int)), envelope)
    # the envelope peaks a little after an attack: move the beats back onto the attacks
    times = np.unique(np.maximum(frames / fps - _envelope_delay(sr, hop_length, n_fft), 0.0))
    if len(times) > 2 * bpb:  # two bars or more: their own rate, finer than the score's grid
        slope = scipy.stats.theilslopes(times)[0]  # robust to a misplaced first or last beat
        tempo = float(60.0 / slope) if slope > 0 else tempo
    return Beats(
        tempo=tempo,
        times=times,
        beats_per_bar=bpb,
        downbeat=_downbeat(frames, low, bpb),
        tracker_tempo=tracker_tempo,
        periodicity=strength,
        duration=len(y) / sr,
    )


def corpus_tempo(beats_list) -> float:
    """The median tempo in BPM of several tracked signals (the default tempo of a generation clock).

    Parameters
    ----------
    beats_list : sequence of Beats
    """
    if isinstance(beats_list, Beats) or not hasattr(beats_list, "__iter__"):
        raise ParameterError(f"beats_list must be a list of Beats; got {type(beats_list).__name__}")
    items = [_check_beats(b, f"beats_list[{i}]") for i, b in enumerate(beats_list)]
    if not items:
        raise ParameterError("beats_list is empty: no tempo to take the median of")
    return float(np.median([b.tempo for b in items]))


def _phase_features(position: np.ndarray, beats_per_bar: int) -> np.ndarray:
    """sin/cos of the phase within the beat and the bar for positions counted in beats from a downbeat."""
    beat = 2 * np.pi * np.mod(position, 1.0)
    bar = 2 * np.pi * np.mod(position / beats_per_bar, 1.0)
    return np.stack([np.sin(beat), np.cos(beat), np.sin(bar), np.cos(bar)], axis=1).astype(np.float32)


def _check_frames(n_frames, frames_per_second) -> tuple[int, float]:
    n_frames = check_int("n_frames", n_frames, low=1, high=MAX_SAMPLES)
    fps = check_number("frames_per_second", frames_per_second, low=0, high=MAX_SR, low_open=True)
    return n_frames, fps


def tempo_table(clips, *, known=None):
    """librosa's default tempo and the checked one (:func:`track_beats`) for every clip that holds beats.

    Parameters
    ----------
    clips : iterable of musiclib.corpus.Clip
    known : dict of str to Beats, optional
        Beats already tracked, by file stem; reused where the clip is as long.

    Returns
    -------
    table : pandas.DataFrame
        Indexed by file stem: ``seconds``, ``librosa default (BPM)``, ``checked (BPM)``,
        ``periodicity``, ``beats``; clips too short or silent (one-shots) are left out.
    tracked : dict of str to Beats
        The beats of every row, by file stem.
    """
    import pandas as pd

    from musiclib.errors import MusiclibError

    if isinstance(clips, (str, bytes)) or not hasattr(clips, "__iter__"):
        raise ParameterError(f"clips must be a list of corpus clips; got {type(clips).__name__}")
    if known is not None and not isinstance(known, dict):
        raise ParameterError(f"known must be a dict of Beats by file stem; got {type(known).__name__}")
    rows, tracked = [], {}
    for i, c in enumerate(clips):
        if not all(hasattr(c, a) for a in ("path", "y", "sr", "duration")):
            raise ParameterError(f"clips[{i}] must be a corpus Clip (path, y, sr); got {type(c).__name__}")
        b = (known or {}).get(c.path.stem)
        try:
            b = b if b is not None and b.duration == c.duration else track_beats(c.y, sr=c.sr)
        except MusiclibError:  # too short for two beats, or silent: a one-shot
            continue
        tracked[c.path.stem] = b
        rows.append({"file": c.path.stem, "seconds": round(c.duration, 2), "librosa default (BPM)": round(b.tracker_tempo, 1),
                     "checked (BPM)": round(b.tempo, 1), "periodicity": round(b.periodicity, 2), "beats": len(b)})
    columns = ["file", "seconds", "librosa default (BPM)", "checked (BPM)", "periodicity", "beats"]
    return pd.DataFrame(rows, columns=columns).set_index("file"), tracked


def whole_bars(n_beats, *, beats_per_bar: int = 4, tolerance: float = 0.03) -> np.ndarray:
    """Whether each beat count lies within ``tolerance`` (relative) of a whole number of bars (at least one).

    Parameters
    ----------
    n_beats : array_like [shape=(n,)]
        Beats a loop holds at some tempo (its length in s times the tempo / 60).
    beats_per_bar : int
    tolerance : float
        In (0, 1).

    Returns
    -------
    np.ndarray [shape=(n,), dtype=bool]
    """
    beats_per_bar = check_int("beats_per_bar", beats_per_bar)
    tolerance = check_number("tolerance", tolerance, low=0, high=1, low_open=True, high_open=True)
    try:
        n_beats = np.asarray(n_beats, dtype=float)
    except (TypeError, ValueError):
        raise ParameterError(f"n_beats must be numbers of beats, not {n_beats!r:.80}") from None
    if not np.all(np.isfinite(n_beats)) or np.any(n_beats < 0):
        raise ParameterError("n_beats must be finite beat counts >= 0")
    bars = np.maximum(np.round(n_beats / beats_per_bar), 1)
    return np.abs(n_beats / (bars * beats_per_bar) - 1) <= tolerance


def beat_phase(beats: Beats, *, n_frames: int, frames_per_second: float) -> np.ndarray:
    """Phase within the beat and within the bar of every frame, as sin/cos features.

    The position in beats is interpolated linearly between tracked beats and extrapolated at
    ``beats.tempo`` outside them; bars start at ``beats.times[beats.downbeat]``.

    Parameters
    ----------
    beats : Beats
        From :func:`track_beats` on the signal the frames come from.
    n_frames : int
    frames_per_second : float
        The representation's frame rate (``sr / hop_length``).

    Returns
    -------
    np.ndarray [shape=(n_frames, 4), dtype=float32]
        Columns :data:`PHASE_FEATURES`: sin and cos of 2π × the phase within the beat, then within
        the bar; phase 0 (sin 0, cos 1) on a beat / a downbeat.

    Raises
    ------
    ParameterError
        ``beats`` without beat times.
    """
    beats = _check_beats(beats)
    n_frames, fps = _check_frames(n_frames, frames_per_second)
    times = beats.times
    if len(times) == 0:
        raise ParameterError("beats holds no beat times: there is no phase to interpolate")
    t = np.arange(n_frames) / fps
    rate = beats.tempo / 60.0  # beats per second outside the tracked beats
    index = np.arange(len(times), dtype=np.float64)
    position = np.interp(t, times, index) if len(times) > 1 else np.zeros(n_frames)
    before, after = t < times[0], t > times[-1]
    position[before] = (t[before] - times[0]) * rate
    position[after] = index[-1] + (t[after] - times[-1]) * rate
    return _phase_features(position - beats.downbeat, beats.beats_per_bar)


def clock(*, n_frames: int, bpm: float, frames_per_second: float, beats_per_bar: int = 4,
          start_phase: float = 0.0) -> np.ndarray:
    """:func:`beat_phase` features of a steady clock, beats ``60 / bpm`` s apart (what a roll-out reads).

    Parameters
    ----------
    n_frames : int
    bpm : float
        Tempo in BPM (e.g. :func:`corpus_tempo` of the training audio).
    frames_per_second : float
        Frame rate of the representation (``sr / hop_length``).
    beats_per_bar : int
    start_phase : float
        Position of frame 0 in the bar, in beats (0: on a downbeat; 1.5: halfway through the second
        beat); :func:`musiclib.generate.continue_clock` continues a prime's phase.

    Returns
    -------
    np.ndarray [shape=(n_frames, 4), dtype=float32]
        Columns :data:`PHASE_FEATURES`.
    """
    n_frames, fps = _check_frames(n_frames, frames_per_second)
    bpm = check_number("bpm", bpm, low=0, high=MAX_BPM, low_open=True)
    bpb = check_int("beats_per_bar", beats_per_bar, low=1, high=MAX_BEATS_PER_BAR)
    start = check_number("start_phase", start_phase)
    position = start + np.arange(n_frames) / fps * bpm / 60.0
    return _phase_features(position, bpb)


def beat_frames(beats: Beats, *, frames_per_second: float) -> np.ndarray:
    """Beat positions as frame indices of a representation (for beat-synchronous patches).

    Parameters
    ----------
    beats : Beats
    frames_per_second : float
        Frame rate of the representation (``sr / hop_length``).

    Returns
    -------
    np.ndarray [shape=(n_beats,), dtype=int]
        ``round(times * frames_per_second)``, without repeats.
    """
    beats = _check_beats(beats)
    fps = check_number("frames_per_second", frames_per_second, low=0, high=MAX_SR, low_open=True)
    return np.unique(np.round(beats.times * fps).astype(int))


def beat_slices(y: np.ndarray, *, sr: int, beats: Beats, beats_per_slice: int = 1,
                overlap: float = 0.0) -> list[tuple[int, int]]:
    """Sample bounds of consecutive groups of beats (one beat, two, a bar ...).

    Slices run from one group's first beat to the next group's; the audio outside the first and
    last edge is left out. When ``beats_per_slice`` divides ``beats.beats_per_bar`` (or is a
    multiple of it) every downbeat is an edge, so ``beats_per_slice=beats.beats_per_bar`` gives bars.

    Parameters
    ----------
    y : np.ndarray [shape=(n_samples,)]
        The signal ``beats`` were tracked in.
    sr : int
        Sample rate in Hz.
    beats : Beats
    beats_per_slice : int
    overlap : float
        Seconds each slice runs past the next one's start: :func:`join` with ``crossfade=overlap``
        gives back the sliced stretch of ``y``.

    Returns
    -------
    list of (int, int)
        ``(start, end)`` sample indices of each slice; empty when fewer than two edges fall inside ``y``.

    Raises
    ------
    ParameterError
        Beat times beyond the end of ``y`` (beats tracked in another signal or at another ``sr``).
    """
    sr = check_sr(sr)
    y = check_signal("y", y, min_samples=2, need="two samples")
    beats = _check_beats(beats)
    bps = check_int("beats_per_slice", beats_per_slice, low=1, high=MAX_BEATS_PER_BAR)
    overlap = check_number("overlap", overlap, low=0, high=len(y) / sr)
    samples = np.round(beats.times * sr).astype(np.int64)
    if len(samples) and samples[-1] >= len(y):
        raise ParameterError(
            f"beats.times reach {beats.times[-1]:.3f} s, past the end of y ({len(y) / sr:.3f} s at sr={sr}): "
            "were the beats tracked in this signal at this sample rate?"
        )
    first = beats.downbeat % bps if (beats.beats_per_bar % bps == 0 or bps % beats.beats_per_bar == 0) else 0
    edges = samples[first::bps]
    extra = int(round(overlap * sr))
    return [(int(a), int(min(b + extra, len(y)))) for a, b in zip(edges[:-1], edges[1:]) if b > a]


def stretch(y: np.ndarray, *, n_samples: int, sr: int) -> np.ndarray:
    """Time-stretch a piece to exactly ``n_samples`` samples, keeping its pitch.

    Rubber Band (``pedalboard.time_stretch``, faster engine): of the pitch-keeping methods it
    round-trips closest to the original and keeps onsets tightest (``benchmarks/stretch.py``).

    Parameters
    ----------
    y : np.ndarray [shape=(n_in >= 2,)]
    n_samples : int
    sr : int
        Sample rate in Hz.

    Returns
    -------
    np.ndarray [shape=(n_samples,), dtype=float32]

    Raises
    ------
    ParameterError
        A ratio ``n_samples / len(y)`` outside [1/8, 8].
    """
    import librosa
    import pedalboard

    sr = check_sr(sr)
    y = check_signal("y", y, min_samples=2, need="two samples")
    n_samples = check_int("n_samples", n_samples, low=2, high=MAX_SAMPLES)
    ratio = n_samples / len(y)
    if not 1 / 8 <= ratio <= 8:
        raise ParameterError(
            f"n_samples={n_samples} would stretch {len(y)} samples by {ratio:.3g}x; keep it within 1/8x..8x"
        )
    if n_samples == len(y):
        return y.copy()
    out = pedalboard.time_stretch(y[None, :], float(sr), stretch_factor=len(y) / n_samples, high_quality=False)[0]
    return librosa.util.fix_length(np.asarray(out, dtype=np.float32), size=n_samples)


def join(slices, *, sr: int, crossfade: float = 0.01) -> np.ndarray:
    """Put pieces back together, each overlapping the next by ``crossfade`` seconds.

    Quarter-sine fades scaled by the two overlaps' correlation: equal power for unrelated pieces,
    constant amplitude for identical ones, so a join neither dips nor bumps. Cut pieces with
    ``beat_slices(..., overlap=crossfade)`` to keep every beat where it was.

    Parameters
    ----------
    slices : sequence of np.ndarray [shape=(n_i,)]
        Mono pieces in order, each at least as long as its cross-fades.
    sr : int
        Sample rate in Hz.
    crossfade : float
        Seconds of each overlap (0: pieces laid end to end).

    Returns
    -------
    np.ndarray [shape=(sum(n_i) - (len(slices) - 1) * round(crossfade * sr),), dtype=float32]

    Raises
    ------
    ParameterError
        No pieces, or a piece too short for its cross-fades.
    """
    sr = check_sr(sr)
    if isinstance(slices, np.ndarray) and slices.ndim == 1 or not hasattr(slices, "__iter__"):
        raise ParameterError(f"slices must be a list of mono signals; got {type(slices).__name__}")
    pieces = [check_signal(f"slices[{i}]", s).astype(np.float64) for i, s in enumerate(slices)]
    if not pieces:
        raise ParameterError("slices is empty: nothing to join")
    crossfade = check_number("crossfade", crossfade, low=0, high=10.0)
    c = int(round(crossfade * sr))
    n = len(pieces)
    for i, p in enumerate(pieces):
        need = c * ((i > 0) + (i < n - 1))
        if len(p) < need:
            raise ParameterError(
                f"slices[{i}] has {len(p)} samples, fewer than its cross-fades need "
                f"({need} at crossfade={crossfade:g} s, sr={sr})"
            )
    if c > 0:
        t = (np.arange(c) + 0.5) / c
        fade_in, fade_out = np.sin(np.pi / 2 * t), np.cos(np.pi / 2 * t)
        for i in range(1, n):
            a, b = pieces[i - 1][-c:], pieces[i][:c]
            denom = np.sqrt(np.sum(a * a) * np.sum(b * b))
            r = float(np.clip(np.sum(a * b) / denom, 0.0, 1.0)) if denom > 0 else 0.0
            scale = np.sqrt(fade_in ** 2 + fade_out ** 2 + 2 * r * fade_in * fade_out)
            pieces[i - 1][-c:] = a * fade_out / scale
            pieces[i][:c] = b * fade_in / scale
    out = np.zeros(sum(len(p) for p in pieces) - (n - 1) * c)
    pos = 0
    for p in pieces:
        out[pos : pos + len(p)] += p
        pos += len(p) - c
    return out.astype(np.float32)
