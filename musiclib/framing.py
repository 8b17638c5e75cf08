"""Framing: model-ready arrays for next-frame learning.

The stretch of the path between the feature cache and ``model.fit`` (see
``notebooks/02_linear_regression`` and ``notebooks/03_trees``):

- :class:`Framing` / :func:`next_frame_dataset`: windows of ``context`` previous frames, and
  optionally *summary rows* that describe a longer look-back window (its max, min and mean per
  feature, and which features were loudest). Windows never cross a file boundary: the functions
  take a list of per-file frame arrays.
- :class:`FrameScaler`: per-feature standardisation, fitted on the training files only.
- :class:`FramePCA`: principal components of frames, with an inverse, for models that need few
  features (trees).
- :class:`Chain`: several of those applied in turn (scaler, then PCA), with one inverse.
- :func:`load_frames`: per-file frames of a list of files through the feature cache.

Shapes
------
A dataset is ``X [shape=(n, n_rows, n_features)]`` and ``Y [shape=(n, n_features)]`` where
``n_rows = context`` (+ 4 summary rows when ``summary=True``). Row ``i < context`` of ``X[j]`` is
frame ``t - context + i`` for target frame ``t``; the summary rows, in this order, are the
per-feature maximum, minimum and mean of the ``lookback`` frames before ``t``, and an indicator
(1.0 or 0.0) of the ``n_loudest`` features with the highest mean over that window. The same
:class:`Framing` builds the model input for one step of a roll-out
(:meth:`Framing.window`), so training and generation see identical features.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from musiclib.errors import ParameterError

__all__ = [
    "NextFrameData",
    "load_next_frame_data",
    "Framing",
    "next_frame_dataset",
    "FrameScaler",
    "FramePCA",
    "Chain",
    "load_frames",
    "N_SUMMARY_ROWS",
]

#: Number of summary rows appended to the context when ``summary=True``.
N_SUMMARY_ROWS = 4


def _check_frames_list(frames_list) -> list[np.ndarray]:
    if isinstance(frames_list, np.ndarray):
        if frames_list.ndim != 2:
            raise ParameterError(
                f"frames_list must be a list of (n_frames, n_features) arrays, got one array of shape {frames_list.shape}"
            )
        frames_list = [frames_list]
    out = []
    n_features = None
    for i, f in enumerate(frames_list):
        f = np.asarray(f, dtype=np.float32)
        if f.ndim != 2:
            raise ParameterError(f"frames_list[{i}] has shape {f.shape}; need (n_frames, n_features)")
        if n_features is None:
            n_features = f.shape[1]
        elif f.shape[1] != n_features:
            raise ParameterError(f"frames_list[{i}] has {f.shape[1]} features, the first file has {n_features}")
        if not np.all(np.isfinite(f)):
            raise ParameterError(f"frames_list[{i}] holds NaN or infinite values")
        out.append(f)
    if not out:
        raise ParameterError("frames_list is empty")
    return out


@dataclass(frozen=True)
class Framing:
    """How a model sees the past: ``context`` frames, plus optional look-back summary rows.

    Parameters
    ----------
    context : int
        Previous frames given to the model (>= 1).
    lookback : int, optional
        Length in frames of the longer window that the summary rows describe (>= context).
        Default: ``4 * context`` when ``summary`` is on.
    summary : bool
        Append the :data:`N_SUMMARY_ROWS` summary rows (max, min, mean over the look-back window,
        and a loudest-features indicator).
    n_loudest : int
        How many features the loudest-features indicator marks.

    Notes
    -----
    A training example needs ``max(context, lookback)`` frames before its target, so a file of
    ``n`` frames yields ``n - max(context, lookback)`` examples. Used by
    ``notebooks/02_linear_regression`` and ``notebooks/03_trees``.
    """

    context: int = 4
    lookback: int | None = None
    summary: bool = False
    n_loudest: int = 8

    def __post_init__(self):
        if isinstance(self.context, bool) or not isinstance(self.context, (int, np.integer)) or self.context < 1:
            raise ParameterError(f"context={self.context!r} must be an integer >= 1 (frames)")
        lb = self.lookback
        if lb is None:
            lb = 4 * int(self.context) if self.summary else int(self.context)
        if isinstance(lb, bool) or not isinstance(lb, (int, np.integer)) or lb < self.context:
            raise ParameterError(f"lookback={self.lookback!r} must be an integer >= context={self.context}")
        object.__setattr__(self, "lookback", int(lb))
        if not isinstance(self.n_loudest, (int, np.integer)) or self.n_loudest < 1:
            raise ParameterError(f"n_loudest={self.n_loudest!r} must be an integer >= 1")

    @property
    def n_rows(self) -> int:
        """Rows of one model input: ``context`` (+ summary rows)."""
        return self.context + (N_SUMMARY_ROWS if self.summary else 0)

    @property
    def history(self) -> int:
        """Frames of history one step needs: ``max(context, lookback)``."""
        return max(self.context, self.lookback) if self.summary else self.context

    def _summary_rows(self, win: np.ndarray) -> np.ndarray:
        # win: (..., lookback, F) -> (..., 4, F)
        mx = win.max(axis=-2)
        mn = win.min(axis=-2)
        mean = win.mean(axis=-2)
        k = min(self.n_loudest, win.shape[-1])
        idx = np.argpartition(-mean, k - 1, axis=-1)[..., :k]
        loud = np.zeros_like(mean)
        np.put_along_axis(loud, idx, 1.0, axis=-1)
        return np.stack([mx, mn, mean, loud], axis=-2).astype(np.float32)

    def dataset(self, frames_list, *, stride: int = 1) -> tuple[np.ndarray, np.ndarray]:
        """Training pairs from per-file frames, never crossing a file boundary.

        Parameters
        ----------
        frames_list : list of np.ndarray [shape=(n_frames_i, n_features)]
            One array per file (already scaled or reduced as the model needs).
        stride : int
            Keep every ``stride``-th target frame (thins highly redundant data).

        Returns
        -------
        X : np.ndarray [shape=(n, n_rows, n_features)], float32
        Y : np.ndarray [shape=(n, n_features)], float32

        Raises
        ------
        ParameterError
            No file is longer than :attr:`history` frames, or the arrays disagree in width.
        """
        frames_list = _check_frames_list(frames_list)
        if not isinstance(stride, (int, np.integer)) or stride < 1:
            raise ParameterError(f"stride={stride!r} must be an integer >= 1")
        h = self.history
        Xs, Ys = [], []
        for f in frames_list:
            if len(f) <= h:
                continue
            targets = np.arange(h, len(f), stride)
            ctx = np.lib.stride_tricks.sliding_window_view(f, (self.context, f.shape[1]))[:, 0]
            # ctx[i] = f[i : i + context]; the window before target t starts at t - context
            x = ctx[targets - self.context]
            if self.summary:
                lb = np.lib.stride_tricks.sliding_window_view(f, (self.lookback, f.shape[1]))[:, 0]
                x = np.concatenate([x, self._summary_rows(lb[targets - self.lookback])], axis=1)
            Xs.append(np.ascontiguousarray(x, dtype=np.float32))
            Ys.append(f[targets])
        if not Xs:
            raise ParameterError(
                f"no file has more than history={h} frames (lengths {[len(f) for f in frames_list]}); "
                "use shorter context/lookback or longer files"
            )
        return np.concatenate(Xs), np.concatenate(Ys).astype(np.float32)

    def window(self, history: np.ndarray) -> np.ndarray:
        """The model input for the frame after ``history`` (the last frames generated or primed).

        Parameters
        ----------
        history : np.ndarray [shape=(n >= history, n_features)]

        Returns
        -------
        x : np.ndarray [shape=(1, n_rows, n_features)], float32
        """
        if len(history) < self.history:
            raise ParameterError(f"need at least {self.history} frames of history, got {len(history)}")
        x = history[len(history) - self.context :]
        if self.summary:
            x = np.concatenate([x, self._summary_rows(history[len(history) - self.lookback :])], axis=0)
        return x[None].astype(np.float32, copy=False)


def next_frame_dataset(frames_list, *, context: int, lookback: int | None = None, summary: bool = False,
                       stride: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """``(X, Y)`` next-frame pairs from per-file frames; see :meth:`Framing.dataset`.

    Examples
    --------
    >>> f = [np.arange(20, dtype=np.float32).reshape(10, 2), np.zeros((6, 2), np.float32)]
    >>> X, Y = next_frame_dataset(f, context=3)
    >>> X.shape, Y.shape            # 10 - 3 + 6 - 3 examples
    ((10, 3, 2), (10, 2))
    """
    return Framing(context=context, lookback=lookback, summary=summary).dataset(frames_list, stride=stride)


class FrameScaler:
    """Per-feature standardisation ``(x - mean) / std``, fitted on training frames only.

    Features with (near) zero spread in training get ``std = 1`` so they are shifted, not blown up.

    Attributes
    ----------
    mean_, std_ : np.ndarray [shape=(n_features,)], float32
    """

    def __init__(self, *, min_std: float = 1e-3):
        self.min_std = float(min_std)

    def fit(self, frames_list) -> "FrameScaler":
        """Fit on a list of per-file frames (or one array)."""
        allf = np.concatenate(_check_frames_list(frames_list)).astype(np.float64)
        self.mean_ = allf.mean(axis=0).astype(np.float32)
        std = allf.std(axis=0)
        self.std_ = np.where(std < self.min_std, 1.0, std).astype(np.float32)
        return self

    def _check(self):
        if not hasattr(self, "mean_"):
            raise ParameterError("FrameScaler is not fitted; call fit(train_frames) first")

    def transform(self, frames):
        """Scale one array ``(n, n_features)`` or a list of them."""
        self._check()
        if isinstance(frames, (list, tuple)):
            return [self.transform(f) for f in frames]
        return ((np.asarray(frames, dtype=np.float32) - self.mean_) / self.std_).astype(np.float32)

    def inverse_transform(self, z):
        """Back to representation units."""
        self._check()
        if isinstance(z, (list, tuple)):
            return [self.inverse_transform(f) for f in z]
        return (np.asarray(z, dtype=np.float32) * self.std_ + self.mean_).astype(np.float32)

    def fit_transform(self, frames_list):
        return self.fit(frames_list).transform(frames_list)

    @property
    def n_features_out(self) -> int:
        self._check()
        return len(self.mean_)


class FramePCA:
    """Principal components of frames (scikit-learn's PCA) with an inverse.

    Parameters
    ----------
    n_components : int or float
        Components to keep, or the fraction of variance to explain (0 < float < 1).
    seed : int
        For the randomised solver on large data.

    Attributes
    ----------
    pca_ : sklearn.decomposition.PCA
    explained_variance_ratio_ : float
        Total fraction of training variance the kept components explain.
    """

    def __init__(self, n_components=16, *, seed: int = 0):
        if isinstance(n_components, float):
            if not 0 < n_components < 1:
                raise ParameterError(f"n_components={n_components!r}: a float must be a fraction in (0, 1)")
        elif isinstance(n_components, bool) or not isinstance(n_components, (int, np.integer)) or n_components < 1:
            raise ParameterError(f"n_components={n_components!r} must be an integer >= 1 or a fraction in (0, 1)")
        self.n_components = n_components
        self.seed = seed

    def fit(self, frames_list) -> "FramePCA":
        from sklearn.decomposition import PCA

        allf = np.concatenate(_check_frames_list(frames_list))
        if isinstance(self.n_components, (int, np.integer)) and self.n_components > min(allf.shape):
            raise ParameterError(
                f"n_components={self.n_components} exceeds min(n_frames, n_features)={min(allf.shape)}"
            )
        self.pca_ = PCA(n_components=self.n_components, random_state=self.seed).fit(allf)
        self.components_ = self.pca_.components_.astype(np.float32)
        self.mean_ = self.pca_.mean_.astype(np.float32)
        self.explained_variance_ratio_ = float(np.sum(self.pca_.explained_variance_ratio_))
        return self

    def _check(self):
        if not hasattr(self, "pca_"):
            raise ParameterError("FramePCA is not fitted; call fit(train_frames) first")

    def transform(self, frames):
        self._check()
        if isinstance(frames, (list, tuple)):
            return [self.transform(f) for f in frames]
        return ((np.asarray(frames, dtype=np.float32) - self.mean_) @ self.components_.T).astype(np.float32)

    def inverse_transform(self, z):
        self._check()
        if isinstance(z, (list, tuple)):
            return [self.inverse_transform(f) for f in z]
        return (np.asarray(z, dtype=np.float32) @ self.components_ + self.mean_).astype(np.float32)

    def fit_transform(self, frames_list):
        return self.fit(frames_list).transform(frames_list)

    @property
    def n_features_out(self) -> int:
        self._check()
        return self.components_.shape[0]


class Chain:
    """Transforms applied in turn (``Chain(FrameScaler(), FramePCA(16))``); inverse in reverse order."""

    def __init__(self, *steps):
        if not steps:
            raise ParameterError("Chain needs at least one step")
        self.steps = list(steps)

    def fit(self, frames_list) -> "Chain":
        data = _check_frames_list(frames_list)
        for s in self.steps:
            data = s.fit(data).transform(data)
        return self

    def transform(self, frames):
        for s in self.steps:
            frames = s.transform(frames)
        return frames

    def inverse_transform(self, z):
        for s in reversed(self.steps):
            z = s.inverse_transform(z)
        return z

    def fit_transform(self, frames_list):
        return self.fit(frames_list).transform(frames_list)

    @property
    def n_features_out(self) -> int:
        return self.steps[-1].n_features_out


def load_frames(paths, rep, *, cache=None, max_duration: float | None = None,
                progress: bool = False, preprocess: dict | None = None, n_jobs: int | None = 1,
                scheduler=None) -> list[np.ndarray]:
    """Per-file frames ``[shape=(n_frames_i, rep.n_features)]`` of ``paths`` through the feature cache.

    Parameters
    ----------
    paths : list of paths (or a :class:`musiclib.corpus.Corpus`, whose clip paths are used)
    rep : Representation
    cache : FeatureCache, optional
        Default ``FeatureCache()``.
    max_duration : float, optional
        Seconds from the start of each file.
    preprocess : dict, optional
        Filters applied to the audio before encoding (``musiclib.postprocess.filter_audio``; part of
        the cache key); default: the corpus's own ``preprocess`` when ``paths`` is a Corpus.
    """
    from musiclib.tools.cache import FeatureCache

    if preprocess is None:
        preprocess = getattr(paths, "preprocess", None)
    if hasattr(paths, "paths"):
        paths = paths.paths
    cache = cache if cache is not None else FeatureCache()
    from musiclib.tools import parallel

    encode = functools.partial(cache.features, rep=rep, duration=max_duration, preprocess=preprocess)
    return parallel.map(encode, paths, n_jobs=n_jobs, scheduler=scheduler, progress=progress, desc="features")


@dataclass
class NextFrameData:
    """A corpus split by file, with each side's frames under one representation, and a prime clip.

    Attributes
    ----------
    corpus, train, held_out : musiclib.corpus.Corpus
    rep : Representation
    train_frames, held_frames : list of np.ndarray [shape=(n_frames_i, rep.n_features)]
        One array per file, from the feature cache.
    prime_clip : musiclib.corpus.Clip
        The held-out clip that continuations start from.
    """

    corpus: object
    train: object
    held_out: object
    rep: object
    train_frames: list
    held_frames: list
    prime_clip: object

    @property
    def sr(self) -> int:
        return self.corpus.sr

    def describe(self) -> str:
        """One line: files and frames on each side, and the prime clip."""
        return (f"{len(self.train)} train files ({sum(map(len, self.train_frames))} frames), "
                f"{len(self.held_out)} held-out files ({sum(map(len, self.held_frames))} frames); "
                f"prime: {self.prime_clip.name}")


def load_next_frame_data(root, rep, *, max_duration: float | None = None, held_out: float = 0.2, seed: int = 0,
                         prime_file: str | None = None, progress: bool = False) -> NextFrameData:
    """Load a corpus, split it by file, and get every file's frames through the feature cache.

    The prime clip is ``prime_file`` (a held-out file's name or stem) if given, else the longest
    held-out loop (a file named ``loop_*``), else the longest held-out clip. Files that cannot be
    loaded are skipped (listed in ``corpus.skipped``) without a warning per file.

    Notebook: 02_linear_regression, 03_trees
    """
    import warnings

    from musiclib.corpus import load_corpus

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # skipped files are listed in corpus.skipped
        corpus = load_corpus(root, sr=rep.sr, max_duration=max_duration, progress=progress)
    train, held = corpus.split(held_out=held_out, seed=seed)
    if prime_file:
        prime = held.find(prime_file)
    else:
        loops = [c for c in held.clips if c.name.startswith("loop_")] or list(held.clips)
        prime = max(loops, key=lambda c: len(c.y))
    return NextFrameData(
        corpus=corpus, train=train, held_out=held, rep=rep,
        train_frames=load_frames(train, rep, max_duration=max_duration, progress=progress),
        held_frames=load_frames(held, rep, max_duration=max_duration, progress=progress),
        prime_clip=prime,
    )
