"""Framing: model-ready arrays for next-frame learning (notebooks 02_linear_regression, 03_trees, 04_lstm).

- :func:`load_frames`, :func:`load_split`, :func:`load_next_frame_data`: per-file frames through the
  feature cache, a split by file, and (``clock=True``) every frame's beat and bar phase
  (:func:`track_phases`).
- :class:`Framing`, :func:`next_frame_dataset`: windows of ``context`` previous frames, optional
  summary rows of a longer look-back window, and optional clock rows (:func:`clock_features` of the
  phase of the frame to predict). Windows never cross a file boundary.
- :func:`frame_scaler`, :func:`transform_each`: a scaler (then PCA) fitted on the training files.

A dataset is ``X [shape=(n, n_rows, n_features)]`` and ``Y [shape=(n, n_features)]``: row
``i < context`` of ``X[j]`` is frame ``t - context + i`` for target frame ``t``; then the summary
rows (per-feature max, min and mean of the ``lookback`` frames before ``t``, and a 1/0 indicator of
the ``n_loudest`` features with the highest mean); then the clock rows, zero-padded to whole rows.
The clock is an input only: a roll-out drives it from :func:`musiclib.beats.clock`.
:meth:`Framing.window` builds one roll-out step's input, so training and generation see the same
features.
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass, field

import numpy as np

from musiclib.errors import ParameterError, check_frames_list, check_int

__all__ = [
    "SplitFrames",
    "load_split",
    "NextFrameData",
    "load_next_frame_data",
    "Framing",
    "next_frame_dataset",
    "clock_features",
    "track_phases",
    "frame_scaler",
    "transform_each",
    "load_frames",
    "N_SUMMARY_ROWS",
    "N_PHASE",
]

#: Number of summary rows appended to the context when ``summary=True``.
N_SUMMARY_ROWS = 4
#: Columns of a phase array (:data:`musiclib.beats.PHASE_FEATURES`: sin/cos of the beat and bar phase).
N_PHASE = 4


def clock_features(phase, *, harmonics: int = 4) -> np.ndarray:
    """Harmonics of the beat and bar phase: what a model with a clock reads.

    The phase's own sine and cosine let a linear model rise and fall once per beat; a sharp onset
    at one phase takes higher harmonics.

    Parameters
    ----------
    phase : np.ndarray [shape=(n_frames, 4)]
        Columns :data:`musiclib.beats.PHASE_FEATURES`, from :func:`musiclib.beats.beat_phase` or
        :func:`musiclib.beats.clock`.
    harmonics : int >= 1

    Returns
    -------
    np.ndarray [shape=(n_frames, 4 * harmonics)], float32
        For each ``k = 1 .. harmonics``: ``sin(k b), cos(k b), sin(k B), cos(k B)`` of the beat
        and bar phase angles ``b``, ``B`` (``harmonics=1``: the phase itself).
    """
    harmonics = check_int("harmonics", harmonics)
    p = np.asarray(phase, dtype=np.float64)
    if p.ndim != 2 or p.shape[1] != N_PHASE:
        raise ParameterError(f"phase must have shape (n_frames, {N_PHASE}) (beats.PHASE_FEATURES), got {p.shape}")
    if not np.all(np.isfinite(p)):
        raise ParameterError("phase holds NaN or infinite values")
    angles = np.stack([np.arctan2(p[:, 0], p[:, 1]), np.arctan2(p[:, 2], p[:, 3])], axis=1)  # (n, 2)
    k = np.arange(1, harmonics + 1, dtype=np.float64)
    ka = angles[:, None, :] * k[None, :, None]  # (n, K, 2): beat, bar
    out = np.stack([np.sin(ka[..., 0]), np.cos(ka[..., 0]), np.sin(ka[..., 1]), np.cos(ka[..., 1])], axis=2)
    return out.reshape(len(p), 4 * harmonics).astype(np.float32)


@dataclass(frozen=True)
class Framing:
    """How a model sees the past: ``context`` frames, optional look-back summary rows and a clock.

    Parameters
    ----------
    context : int
        Previous frames given to the model (>= 1).
    lookback : int, optional
        Frames of the window the summary rows describe (>= context; default ``4 * context`` with
        ``summary``), e.g. a bar (:meth:`NextFrameData.bar_frames`).
    summary : bool
        Append the :data:`N_SUMMARY_ROWS` summary rows.
    n_loudest : int
        How many features the loudest-features indicator marks.
    clock : bool
        Append the clock rows; datasets then need ``phases=`` and roll-outs ``clock=``.
    harmonics : int
        Harmonics of the beat and bar phase in the clock rows.
    """

    context: int = 4
    lookback: int | None = None
    summary: bool = False
    n_loudest: int = 8
    clock: bool = False
    harmonics: int = 4

    def __post_init__(self):
        check_int("context", self.context)
        lb = self.lookback if self.lookback is not None else (4 if self.summary else 1) * int(self.context)
        if isinstance(lb, bool) or not isinstance(lb, (int, np.integer)) or lb < self.context:
            raise ParameterError(f"lookback={self.lookback!r} must be an integer >= context={self.context}")
        object.__setattr__(self, "lookback", int(lb))
        check_int("n_loudest", self.n_loudest)
        check_int("harmonics", self.harmonics)
        if not isinstance(self.clock, (bool, np.bool_)):
            raise ParameterError(f"clock={self.clock!r} must be True or False")

    @property
    def n_clock(self) -> int:
        """Clock values per input (``4 * harmonics``, or 0 without a clock)."""
        return N_PHASE * self.harmonics if self.clock else 0

    def n_rows(self, n_features: int) -> int:
        """Rows of one model input for frames of ``n_features``: context, summary and clock rows."""
        clock_rows = -(-self.n_clock // int(n_features)) if self.clock else 0
        return self.context + (N_SUMMARY_ROWS if self.summary else 0) + clock_rows

    @property
    def history(self) -> int:
        """Frames of history one step needs: ``max(context, lookback)``."""
        return max(self.context, self.lookback) if self.summary else self.context

    def _summary_rows(self, win: np.ndarray) -> np.ndarray:
        """``(..., lookback, F)`` -> ``(..., 4, F)``: max, min, mean and the loudest-features indicator."""
        mean = win.mean(axis=-2)
        k = min(self.n_loudest, win.shape[-1])
        loud = np.zeros_like(mean)
        np.put_along_axis(loud, np.argpartition(-mean, k - 1, axis=-1)[..., :k], 1.0, axis=-1)
        return np.stack([win.max(axis=-2), win.min(axis=-2), mean, loud], axis=-2).astype(np.float32)

    def clock_rows(self, phase, n_features: int) -> np.ndarray:
        """:func:`clock_features` of ``phase [shape=(n, 4)]`` laid out in zero-padded rows of
        ``n_features``: ``[shape=(n, n_clock_rows, n_features)]``, float32."""
        c = clock_features(phase, harmonics=self.harmonics)
        n_rows = -(-c.shape[1] // n_features)
        out = np.zeros((len(c), n_rows * n_features), dtype=np.float32)
        out[:, : c.shape[1]] = c
        return out.reshape(len(c), n_rows, n_features)

    def _phases_for(self, phases, frames_list) -> list:
        if not self.clock:
            if phases is not None:
                raise ParameterError("phases were given but this Framing has clock=False")
            return [None] * len(frames_list)
        if phases is None:
            raise ParameterError("this Framing has clock=True: pass phases= (one (n_frames, 4) array per file)")
        phases = check_frames_list("phases", phases, width=N_PHASE)
        if len(phases) != len(frames_list):
            raise ParameterError(f"{len(phases)} phase arrays for {len(frames_list)} files")
        for i, (p, f) in enumerate(zip(phases, frames_list)):
            if len(p) != len(f):
                raise ParameterError(f"phases[{i}] has {len(p)} frames, frames_list[{i}] {len(f)}")
        return phases

    def dataset(self, frames_list, *, phases=None, stride: int = 1) -> tuple[np.ndarray, np.ndarray]:
        """Training pairs from per-file frames, never crossing a file boundary.

        Parameters
        ----------
        frames_list : list of np.ndarray [shape=(n_frames_i, n_features)]
            One array per file (already scaled as the model needs).
        phases : list of np.ndarray [shape=(n_frames_i, 4)], optional
            Every frame's beat and bar phase (:func:`track_phases`); needed when ``clock=True``.
        stride : int
            Keep every ``stride``-th target frame.

        Returns
        -------
        X : np.ndarray [shape=(n, n_rows(n_features), n_features)], float32
        Y : np.ndarray [shape=(n, n_features)], float32

        Raises
        ------
        ParameterError
            No file longer than :attr:`history` frames, arrays that disagree in width or length, or
            ``phases`` missing (``clock=True``) or given (``clock=False``).
        """
        frames_list = check_frames_list("frames_list", frames_list)
        phases = self._phases_for(phases, frames_list)
        stride = check_int("stride", stride)
        h = self.history
        Xs, Ys = [], []
        for f, p in zip(frames_list, phases):
            if len(f) <= h:
                continue
            targets = np.arange(h, len(f), stride)
            ctx = np.lib.stride_tricks.sliding_window_view(f, (self.context, f.shape[1]))[:, 0]
            parts = [ctx[targets - self.context]]  # ctx[i] = f[i : i + context]
            if self.summary:
                lb = np.lib.stride_tricks.sliding_window_view(f, (self.lookback, f.shape[1]))[:, 0]
                parts.append(self._summary_rows(lb[targets - self.lookback]))
            if self.clock:
                parts.append(self.clock_rows(p[targets], f.shape[1]))
            Xs.append(np.ascontiguousarray(np.concatenate(parts, axis=1), dtype=np.float32))
            Ys.append(f[targets])
        if not Xs:
            raise ParameterError(
                f"no file has more than history={h} frames (lengths {[len(f) for f in frames_list]}); "
                "use shorter context/lookback or longer files"
            )
        return np.concatenate(Xs), np.concatenate(Ys).astype(np.float32)

    def window(self, history: np.ndarray, *, clock_rows=None) -> np.ndarray:
        """The model input for the frame after ``history`` (the last frames generated or primed).

        Parameters
        ----------
        history : np.ndarray [shape=(n >= history, n_features)]
        clock_rows : np.ndarray [shape=(n_clock_rows, n_features)], optional
            The frame to predict's element of :meth:`clock_rows`; needed when ``clock=True``.

        Returns
        -------
        x : np.ndarray [shape=(1, n_rows(n_features), n_features)], float32
        """
        if len(history) < self.history:
            raise ParameterError(f"need at least {self.history} frames of history, got {len(history)}")
        if self.clock and clock_rows is None:
            raise ParameterError("this Framing has clock=True: pass clock_rows= for the frame to predict")
        parts = [history[len(history) - self.context :]]
        if self.summary:
            parts.append(self._summary_rows(history[len(history) - self.lookback :]))
        if self.clock:
            parts.append(np.asarray(clock_rows, dtype=np.float32).reshape(-1, history.shape[1]))
        x = parts[0] if len(parts) == 1 else np.concatenate(parts, axis=0)
        return x[None].astype(np.float32, copy=False)


def next_frame_dataset(frames_list, *, context: int, lookback: int | None = None, summary: bool = False,
                       phases=None, harmonics: int = 4, stride: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """``(X, Y)`` next-frame pairs from per-file frames, with a clock when ``phases`` is given.

    The parameters are :class:`Framing`'s and :meth:`Framing.dataset`'s.
    """
    framing = Framing(context=context, lookback=lookback, summary=summary, clock=phases is not None,
                      harmonics=harmonics)
    return framing.dataset(frames_list, phases=phases, stride=stride)


def frame_scaler(frames_list, *, n_components=None, seed: int = 0):
    """A standardisation (then PCA) of frames, fitted on the training files' frames together.

    Parameters
    ----------
    frames_list : list of np.ndarray [shape=(n_frames_i, n_features)]
        The training files' frames (or one array).
    n_components : int or float, optional
        Principal components to keep (a float in (0, 1): that fraction of the variance); None:
        standardise only.
    seed : int
        For the PCA's randomised solver.

    Returns
    -------
    sklearn.preprocessing.StandardScaler or sklearn.pipeline.Pipeline
        Fitted: the ``scaler`` of :func:`musiclib.generate.rollout`; the pipeline's last step is the PCA.

    Raises
    ------
    ParameterError
        Bad frames, or ``n_components`` out of range.
    """
    from sklearn.decomposition import PCA
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    allf = np.concatenate(check_frames_list("frames_list", frames_list))
    if n_components is None:
        return StandardScaler().fit(allf)
    if isinstance(n_components, (float, np.floating)):
        if not 0 < n_components < 1:
            raise ParameterError(f"n_components={n_components!r}: a float must be a fraction in (0, 1)")
    else:
        n_components = check_int("n_components", n_components)
        if n_components > min(allf.shape):
            raise ParameterError(f"n_components={n_components} exceeds min(n_frames, n_features)={min(allf.shape)}")
    return make_pipeline(StandardScaler(), PCA(n_components=n_components, random_state=seed)).fit(allf)


def transform_each(transformer, frames_list) -> list[np.ndarray]:
    """``transformer.transform`` applied to each file's frames, as float32 (the per-file lists datasets take)."""
    return [np.asarray(transformer.transform(f), dtype=np.float32) for f in check_frames_list("frames_list", frames_list)]


def _offsets(paths, *, max_duration, excerpt) -> list[float]:
    """Where each file's excerpt starts (s): as :func:`musiclib.corpus.load_corpus` cuts it."""
    from musiclib import audio

    if excerpt not in ("start", "middle"):
        raise ParameterError(f"excerpt={excerpt!r} must be 'start' or 'middle'")
    if excerpt == "start" or max_duration is None:
        return [0.0] * len(paths)
    return [max((audio.info(p)["duration"] - max_duration) / 2, 0.0) for p in paths]


def _features(item, *, cache, rep, duration, preprocess):
    """One file's frames through the cache: ``item`` is ``(path, offset in seconds)``."""
    path, offset = item
    return cache.features(path, rep, offset=offset, duration=duration, preprocess=preprocess)


def load_frames(paths, rep, *, cache=None, max_duration: float | None = None, excerpt: str = "start",
                progress: bool = False, preprocess: dict | None = None, n_jobs: int | None = 1,
                scheduler=None) -> list[np.ndarray]:
    """Per-file frames ``[shape=(n_frames_i, rep.n_features)]`` of ``paths`` through the feature cache.

    Parameters
    ----------
    paths : list of paths, or a :class:`musiclib.corpus.Corpus`
    rep : Representation
    cache : FeatureCache, optional
    max_duration : float, optional
        Seconds of each file.
    excerpt : {"start", "middle"}
        Where those seconds come from, as in :func:`musiclib.corpus.load_corpus`.
    progress : bool
    preprocess : dict, optional
        Filters applied before encoding (``musiclib.postprocess.filter_audio``); default: the
        Corpus's own ``preprocess``.
    n_jobs, scheduler :
        As :func:`musiclib.tools.parallel.map`.
    """
    from musiclib.tools import parallel
    from musiclib.tools.cache import FeatureCache

    if preprocess is None:
        preprocess = getattr(paths, "preprocess", None)
    paths = getattr(paths, "paths", paths)
    cache = cache if cache is not None else FeatureCache()
    offsets = _offsets(paths, max_duration=max_duration, excerpt=excerpt)
    encode = functools.partial(_features, cache=cache, rep=rep, duration=max_duration, preprocess=preprocess)
    return parallel.map(encode, list(zip(paths, offsets)), n_jobs=n_jobs, scheduler=scheduler, progress=progress,
                        desc="features")


def _track(y, sr, version):
    """:func:`musiclib.beats.track_beats`, or None without beats; ``version`` (of beats.py) keys the cache."""
    from musiclib.beats import track_beats

    try:
        return track_beats(y, sr=sr)
    except ParameterError:
        return None


def track_phases(signals, *, sr: int, n_frames, frames_per_second: float, cache: bool = True, n_jobs: int = 2):
    """Beat tracking of each signal, and the beat and bar phase of each of its frames.

    Parameters
    ----------
    signals : list of np.ndarray [shape=(n_samples_i,)]
        Mono audio.
    sr : int
        Their sample rate (Hz).
    n_frames : list of int
        Frames of each signal's representation.
    frames_per_second : float
        The representation's frame rate.
    cache : bool
        Keep the beats in a ``joblib.Memory`` under the feature cache's folder (``beats/``).
    n_jobs : int
        Signals tracked at once (joblib threads).

    Returns
    -------
    phases : list of np.ndarray [shape=(n_frames_i, 4)], float32
        :func:`musiclib.beats.beat_phase` of each signal's frames; for a signal without beats
        (silent, too short, a held tone) a steady clock at the others' median tempo.
    beats : list of musiclib.beats.Beats or None
        The tracked beats (None where there were none).

    Raises
    ------
    ParameterError
        Lists of different lengths, or not one signal with beats to track.
    """
    import hashlib
    import inspect

    import joblib

    from musiclib import beats
    from musiclib.tools.cache import default_cache_dir

    signals = list(signals)
    n_frames = list(n_frames)
    if len(signals) != len(n_frames):
        raise ParameterError(f"{len(signals)} signals but {len(n_frames)} frame counts")
    if not signals:
        raise ParameterError("signals is empty")
    track = joblib.Memory(default_cache_dir() / "beats", verbose=0).cache(_track) if cache else _track
    version = hashlib.sha256(inspect.getsource(beats).encode()).hexdigest()[:16]
    found = joblib.Parallel(n_jobs=n_jobs, prefer="threads")(
        joblib.delayed(track)(np.asarray(y, dtype=np.float32), int(sr), version) for y in signals)
    tracked = [b for b in found if b is not None]
    if not tracked:
        raise ParameterError(f"none of the {len(signals)} signals has beats to track (silent, too short or no onsets)")
    tempo = beats.corpus_tempo(tracked)
    phases = [beats.beat_phase(b, n_frames=n, frames_per_second=frames_per_second) if b is not None
              else beats.clock(n_frames=n, bpm=tempo, frames_per_second=frames_per_second)
              for b, n in zip(found, n_frames)]
    return phases, list(found)


@dataclass
class SplitFrames:
    """A corpus split by file, with each side's frames under one representation.

    Attributes
    ----------
    corpus, train, held_out : musiclib.corpus.Corpus
    rep : Representation
    train_frames, held_frames : list of np.ndarray [shape=(n_frames_i, rep.n_features)]
    """

    corpus: object
    train: object
    held_out: object
    rep: object
    train_frames: list
    held_frames: list

    @property
    def sr(self) -> int:
        """The corpus's sample rate (Hz)."""
        return self.corpus.sr

    def fields(self) -> dict:
        """The split's fields by name (to build a subclass around it)."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(SplitFrames)}


def load_split(root, rep, *, max_duration: float | None = None, excerpt: str = "start", held_out: float = 0.2,
               seed: int = 0, max_files: int | None = None, cache=None, progress: bool = False) -> SplitFrames:
    """Load a corpus, split it by file, and get each side's frames through the feature cache.

    Files that cannot be loaded are skipped (listed in ``corpus.skipped``) without a warning per file.

    Parameters
    ----------
    root : path
        A folder of audio.
    rep : Representation
    max_duration, excerpt :
        As :func:`load_frames`.
    held_out, seed :
        The split by file (:meth:`musiclib.corpus.Corpus.split`).
    max_files : int, optional
        Train on at most this many files; the held-out side is kept whole (sized for the card).
    cache : FeatureCache, optional
    progress : bool
    """
    import warnings

    from musiclib.corpus import load_corpus

    max_files = check_int("max_files", max_files, allow_none=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # skipped files are listed in corpus.skipped
        corpus = load_corpus(root, sr=rep.sr, max_duration=max_duration, excerpt=excerpt, progress=progress)
    train, held = corpus.split(held_out=held_out, seed=seed)
    if max_files is not None:
        train = dataclasses.replace(train, clips=list(train.clips)[:max_files])
    frames = [load_frames(side, rep, cache=cache, max_duration=max_duration, excerpt=excerpt, progress=progress)
              for side in (train, held)]
    return SplitFrames(corpus, train, held, rep, *frames)


@dataclass
class NextFrameData(SplitFrames):
    """:class:`SplitFrames` with a prime clip and, with ``clock=True``, every frame's beat phase.

    Attributes
    ----------
    prime_clip : musiclib.corpus.Clip
        The held-out clip that continuations start from.
    train_phases, held_phases : list of np.ndarray [shape=(n_frames_i, 4)] or None
    train_beats, held_beats : list of musiclib.beats.Beats or None
    tempo : float or None
        The training files' median tempo in BPM: the clock's default tempo.
    """

    prime_clip: object = None
    train_phases: list | None = None
    held_phases: list | None = None
    train_beats: list | None = field(default=None, repr=False)
    held_beats: list | None = field(default=None, repr=False)
    tempo: float | None = None

    def bar_frames(self, beats_per_bar: int = 4) -> int:
        """Frames in one bar at :attr:`tempo` (needs ``clock=True``)."""
        if self.tempo is None:
            raise ParameterError("no tempo: load the data with clock=True")
        return int(round(beats_per_bar * 60.0 / self.tempo * self.rep.frames_per_second))

    def describe(self) -> str:
        """One line: files and seconds on each side, the prime clip, and the tempo."""
        fps = self.rep.frames_per_second
        text = (f"{len(self.train)} train files ({sum(map(len, self.train_frames)) / fps:.0f} s), "
                f"{len(self.held_out)} held-out files ({sum(map(len, self.held_frames)) / fps:.0f} s); "
                f"prime: {self.prime_clip.name}")
        if self.tempo is not None:
            text += f"; median training tempo {self.tempo:.1f} BPM"
        return text


def load_next_frame_data(root, rep, *, max_duration: float | None = None, excerpt: str = "start",
                         held_out: float = 0.2, seed: int = 0, prime_file: str | None = None, clock: bool = False,
                         progress: bool = False) -> NextFrameData:
    """:func:`load_split`, a prime clip, and (``clock=True``) every frame's beat phase.

    The prime clip is ``prime_file`` (a held-out file's name or stem) if given, else the longest
    held-out loop (a file named ``loop_*``), else the longest held-out clip.

    Parameters
    ----------
    root, rep, max_duration, excerpt, held_out, seed, progress :
        As :func:`load_split`.
    prime_file : str, optional
    clock : bool
        Also give every frame its beat phase (:func:`track_phases`).
    """
    split = load_split(root, rep, max_duration=max_duration, excerpt=excerpt, held_out=held_out, seed=seed,
                       progress=progress)
    train, held, corpus = split.train, split.held_out, split.corpus
    if prime_file:
        prime = held.find(prime_file)
    else:
        loops = [c for c in held.clips if c.name.startswith("loop_")] or list(held.clips)
        prime = max(loops, key=lambda c: len(c.y))
    data = NextFrameData(**split.fields(), prime_clip=prime)
    if clock:
        from musiclib.beats import corpus_tempo

        fps = rep.frames_per_second
        data.train_phases, data.train_beats = track_phases(
            [c.y for c in train.clips], sr=corpus.sr, n_frames=map(len, data.train_frames), frames_per_second=fps)
        data.held_phases, data.held_beats = track_phases(
            [c.y for c in held.clips], sr=corpus.sr, n_frames=map(len, data.held_frames), frames_per_second=fps)
        data.tempo = corpus_tempo([b for b in data.train_beats if b is not None])
    return data
