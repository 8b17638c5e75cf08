"""Spectrogram patches for the patch models (notebooks 05_vae, 06_gan), and the one stitcher.

A patch is ``n_frames`` consecutive frames of a representation, cut on a fixed grid (every ``hop``
frames) or from beat to beat, resampled along time to ``n_frames`` (each patch's original length is
kept, so a sequence can be put back at its own tempo). :func:`sequence_to_audio` stitches a
sequence into ONE spectrogram and inverts it in one pass, so the phase runs on across the seams.

============================ ===================================================================
:func:`make_patches`         per-file frames -> :class:`Patches` (grid or beats, labels)
:func:`resample_frames`      stretch or squeeze frames along time to a given count
:func:`stitch`               a sequence of patches -> one spectrogram, cross-faded seams
:func:`stitched_length`      the frames :func:`stitch` returns
:func:`sequence_to_audio`    stitch, then one inversion to audio
:func:`nearest_patches`      each query patch's nearest training patch and its distance
:func:`as_patch_array`       check patches (shape, numbers, finite) for any function that takes them
:func:`file_labels`          the label of each file: its sub-folder, else the file itself
:func:`load_patch_data`      a corpus split by file, frames through the feature cache, patches
============================ ===================================================================

Patches are ``x [shape=(n, n_frames, n_features)]``, time first, in the representation's units.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from musiclib.errors import ParameterError, check_frames_list, check_int
from musiclib.framing import SplitFrames, load_split

__all__ = [
    "Patches",
    "PatchData",
    "make_patches",
    "resample_frames",
    "stitch",
    "stitched_length",
    "sequence_to_audio",
    "nearest_patches",
    "as_patch_array",
    "file_labels",
    "load_patch_data",
    "UNKNOWN_LABEL",
]

#: The label of a patch whose file's label is not among ``label_names``.
UNKNOWN_LABEL = -1


@dataclass
class Patches:
    """Fixed-length patches of frames with where each came from.

    Attributes
    ----------
    x : np.ndarray [shape=(n, n_frames, n_features)], float32
    file_index : np.ndarray [shape=(n,)], int
        Position of each patch's file in the ``frames_list`` given to :func:`make_patches`.
    label : np.ndarray [shape=(n,)], int
        Index into :attr:`label_names`, or :data:`UNKNOWN_LABEL`.
    label_names : list of str
    lengths : np.ndarray [shape=(n,)], int
        Frames each patch covered in its file before it was resampled to ``n_frames``.
    starts : np.ndarray [shape=(n,)], int
        First frame of each patch in its file.
    mode : {"grid", "beats"}
    beats_per_patch : int or None
    """

    x: np.ndarray
    file_index: np.ndarray
    label: np.ndarray
    label_names: list
    lengths: np.ndarray
    starts: np.ndarray
    mode: str = "grid"
    beats_per_patch: int | None = None

    def __len__(self) -> int:
        return len(self.x)

    @property
    def n_frames(self) -> int:
        """Frames per patch."""
        return int(self.x.shape[1])

    @property
    def n_features(self) -> int:
        """Features per frame (the representation's ``n_features``)."""
        return int(self.x.shape[2])

    @property
    def n_labels(self) -> int:
        """Number of distinct labels (files) the patches carry."""
        return len(self.label_names)

    def subset(self, index) -> "Patches":
        """The patches at ``index`` (an integer array or a boolean mask), with their bookkeeping."""
        index = np.asarray(index)
        if index.dtype == bool:
            if index.shape != (len(self),):
                raise ParameterError(f"a boolean index must have shape ({len(self)},), got {index.shape}")
            index = np.flatnonzero(index)
        if index.ndim != 1 or (index.size and (index.min() < -len(self) or index.max() >= len(self))):
            raise ParameterError(f"index out of range for {len(self)} patches")
        return Patches(self.x[index], self.file_index[index], self.label[index], list(self.label_names),
                       self.lengths[index], self.starts[index], self.mode, self.beats_per_patch)

    def sequences(self, *, min_length: int = 1) -> list[np.ndarray]:
        """Indices of each file's patches in time order: one array per file with ``min_length`` or more."""
        out = []
        for f in np.unique(self.file_index):
            idx = np.flatnonzero(self.file_index == f)
            idx = idx[np.argsort(self.starts[idx], kind="stable")]
            if len(idx) >= min_length:
                out.append(idx)
        return out

    def median_length(self) -> int:
        """The median original length in frames (the corpus's beat or bar length on beats)."""
        return int(np.median(self.lengths)) if len(self) else self.n_frames

    def describe(self) -> str:
        """One line: how many patches of what shape, from how many files, cut how."""
        how = "fixed grid" if self.mode == "grid" else f"{self.beats_per_patch} beat(s) per patch"
        return (f"{len(self)} patches of {self.n_frames} frames x {self.n_features} features from "
                f"{len(np.unique(self.file_index))} files ({how}; original lengths {int(self.lengths.min())}-"
                f"{int(self.lengths.max())} frames, median {self.median_length()}); {self.n_labels} labels")


def resample_frames(frames, *, n_frames: int) -> np.ndarray:
    """Stretch or squeeze frames along time to ``n_frames`` frames (linear interpolation).

    Output frame ``j`` samples the input at ``(j + 0.5) * n_in / n_frames - 0.5`` (cell centres to
    cell centres).

    Parameters
    ----------
    frames : np.ndarray [shape=(n_in >= 1, n_features)]
    n_frames : int >= 1

    Returns
    -------
    np.ndarray [shape=(n_frames, n_features)], float32
        ``frames`` itself (as float32) when ``n_in == n_frames``.
    """
    n_frames = check_int("n_frames", n_frames)
    frames = np.asarray(frames, dtype=np.float32)
    if frames.ndim != 2 or len(frames) < 1:
        raise ParameterError(f"frames must have shape (n_frames >= 1, n_features), got {frames.shape}")
    n_in = len(frames)
    if n_in == n_frames:
        return frames
    if n_in == 1:
        return np.repeat(frames, n_frames, axis=0)
    from scipy.interpolate import make_interp_spline

    pos = np.clip((np.arange(n_frames) + 0.5) * (n_in / n_frames) - 0.5, 0.0, n_in - 1.0)
    return make_interp_spline(np.arange(n_in, dtype=np.float64), frames, k=1, axis=0)(pos).astype(np.float32)


def _beat_edges(beats, n_total: int, beats_per_patch: int, i: int) -> np.ndarray:
    b = np.asarray(beats)
    if b.ndim != 1 or not np.issubdtype(b.dtype, np.number):
        raise ParameterError(f"beats_list[{i}] must be a 1-D array of beat positions in frames, got shape {b.shape}")
    if b.size and not np.all(np.isfinite(b)):
        raise ParameterError(f"beats_list[{i}] holds NaN or infinite values")
    b = np.round(b).astype(np.int64)
    if b.size and (np.any(np.diff(b) < 0) or b[0] < 0):
        raise ParameterError(f"beats_list[{i}] must be non-negative and increasing (frame indices), got {b[:8]}...")
    return np.unique(b[b <= n_total])[::beats_per_patch]


def make_patches(frames_list, *, n_frames: int, hop: int | None = None, beats_list=None, beats_per_patch: int = 1,
                 labels=None, label_names=None, min_length: int = 2) -> Patches:
    """Cut per-file frames into fixed-length patches, on a fixed grid or on beats, never across files.

    Parameters
    ----------
    frames_list : list of np.ndarray [shape=(n_frames_i, n_features)]
    n_frames : int >= 2
        Frames per patch.
    hop : int, optional
        Fixed grid only: frames between patch starts (default ``n_frames``: side by side).
    beats_list : list of np.ndarray [shape=(n_beats_i,)], optional
        Beat-synchronous patches: per file, increasing beat positions in frames. Each group of
        ``beats_per_patch`` beats, up to the next group's first beat, becomes one patch resampled
        to ``n_frames`` (:func:`resample_frames`).
    beats_per_patch : int >= 1
        Beats per patch (4: a bar of 4/4).
    labels : list of str, optional
        One label per file (e.g. :func:`file_labels`); default ``"0"``, ``"1"``, ...
    label_names : list of str, optional
        The label vocabulary (e.g. the training patches', so held-out patches share the numbers);
        default: the sorted distinct ``labels``. Other labels get :data:`UNKNOWN_LABEL`.
    min_length : int >= 1
        Beat patches covering fewer frames are dropped (a double-tracked beat).

    Returns
    -------
    Patches

    Raises
    ------
    ParameterError
        Bad shapes or values, ``hop`` given with ``beats_list``, or no file long enough for a patch.

    Examples
    --------
    >>> f = [np.zeros((100, 8), np.float32), np.ones((50, 8), np.float32)]
    >>> make_patches(f, n_frames=16, beats_list=[np.array([0, 20, 45, 70]), np.array([5, 30])]).lengths
    array([20, 25, 25, 25])
    """
    frames_list = check_frames_list("frames_list", frames_list)
    n_frames = check_int("n_frames", n_frames, low=2)
    min_length = check_int("min_length", min_length)
    n_files = len(frames_list)
    if labels is None:
        labels = range(n_files)
    elif isinstance(labels, (str, bytes)) or len(labels) != n_files:
        raise ParameterError(f"labels must hold one label per file ({n_files}), got {labels!r:.200}")
    labels = [str(v) for v in labels]
    label_names = sorted(set(labels)) if label_names is None else [str(v) for v in label_names]
    if len(set(label_names)) != len(label_names):
        raise ParameterError(f"label_names must be distinct, got {label_names!r:.200}")
    lookup = {name: k for k, name in enumerate(label_names)}

    xs, fi, starts, lengths = [], [], [], []
    if beats_list is None:
        mode, bpp = "grid", None
        hop = n_frames if hop is None else check_int("hop", hop)
        for i, f in enumerate(frames_list):
            if len(f) < n_frames:
                continue
            s = np.arange(0, len(f) - n_frames + 1, hop)
            xs.append(np.lib.stride_tricks.sliding_window_view(f, (n_frames, f.shape[1]))[s, 0])
            fi.append(np.full(len(s), i))
            starts.append(s)
            lengths.append(np.full(len(s), n_frames))
    else:
        if hop is not None:
            raise ParameterError(f"hop={hop!r} applies to the fixed grid only; beat patches go from beat to beat")
        mode, bpp = "beats", check_int("beats_per_patch", beats_per_patch)
        if isinstance(beats_list, np.ndarray) and beats_list.ndim == 1:
            beats_list = [beats_list]
        beats_list = list(beats_list)
        if len(beats_list) != n_files:
            raise ParameterError(f"beats_list has {len(beats_list)} entries for {n_files} files")
        for i, (f, beats) in enumerate(zip(frames_list, beats_list)):
            edges = _beat_edges(beats, len(f), bpp, i)
            keep = [(a, b) for a, b in zip(edges[:-1], edges[1:]) if b - a >= min_length]
            if not keep:
                continue
            xs.append(np.stack([resample_frames(f[a:b], n_frames=n_frames) for a, b in keep]))
            fi.append(np.full(len(keep), i))
            starts.append(np.array([a for a, _ in keep]))
            lengths.append(np.array([b - a for a, b in keep]))
    if not xs:
        shortest = f"lengths {[len(f) for f in frames_list][:10]}"
        raise ParameterError(f"no file gives a patch of n_frames={n_frames} ({mode}; file {shortest})")
    file_index = np.concatenate(fi).astype(np.int64)
    label = np.array([lookup.get(labels[i], UNKNOWN_LABEL) for i in file_index], dtype=np.int64)
    return Patches(np.ascontiguousarray(np.concatenate(xs), dtype=np.float32), file_index, label, label_names,
                   np.concatenate(lengths).astype(np.int64), np.concatenate(starts).astype(np.int64), mode, bpp)


def as_patch_array(patches, *, n_frames: int | None = None, n_features: int | None = None,
                   what: str | None = None) -> np.ndarray:
    """Check patches and return them as float32 ``[shape=(n >= 1, n_frames, n_features)]``.

    Parameters
    ----------
    patches : np.ndarray or Patches
    n_frames, n_features : int, optional
        The shape the caller needs (a model's); checked when given.
    what : str, optional
        Names the caller in the error message.

    Raises
    ------
    ParameterError
        Not 3-D, empty, the wrong patch shape, not real numbers, or NaN/inf values.
    """
    x = np.asarray(getattr(patches, "x", patches))
    who = f"{what} " if what else ""
    want = (n_frames if n_frames is not None else "n_frames", n_features if n_features is not None else "n_features")
    if (x.ndim != 3 or x.shape[0] < 1 or x.shape[1] < 1 or x.shape[2] < 1
            or (n_frames is not None and x.shape[1] != n_frames) or (n_features is not None and x.shape[2] != n_features)):
        raise ParameterError(f"{who}needs patches of shape (n >= 1, {want[0]}, {want[1]}), got {x.shape}")
    if not np.issubdtype(x.dtype, np.number) or np.iscomplexobj(x):
        raise ParameterError(f"{who}needs patches of real numbers, got dtype {x.dtype}")
    x = x.astype(np.float32, copy=False)
    if not np.all(np.isfinite(x)):
        raise ParameterError(f"{who}got patches with {int(np.count_nonzero(~np.isfinite(x)))} NaN or infinite values")
    return x


def _advances(n: int, n_frames: int, lengths, overlap) -> tuple[np.ndarray, int]:
    overlap = check_int("overlap", overlap, low=0)
    if lengths is None:
        if 2 * overlap > n_frames:
            raise ParameterError(f"overlap={overlap} must be at most half of n_frames={n_frames}")
        return np.full(n, n_frames - overlap, dtype=np.int64), overlap
    lengths = np.asarray(lengths)
    if lengths.shape != (n,) or not np.issubdtype(lengths.dtype, np.number) or not np.all(np.isfinite(lengths)):
        raise ParameterError(f"lengths must hold one finite length per patch ({n}), got shape {lengths.shape}")
    if np.any(lengths != np.round(lengths)) or np.any(lengths < 1):
        raise ParameterError(f"lengths must be positive whole frame counts, got {lengths[:8]}...")
    lengths = lengths.astype(np.int64)
    if n > 1 and overlap > lengths[1:].min():
        raise ParameterError(f"overlap={overlap} exceeds the shortest patch length {int(lengths[1:].min())}")
    return lengths, overlap


def stitched_length(patches, *, lengths=None, overlap: int = 4) -> int:
    """Frames :func:`stitch` returns for these patches: ``sum(advances) + overlap``."""
    x = as_patch_array(patches)
    adv, o = _advances(len(x), x.shape[1], lengths, overlap)
    return int(adv.sum() + o)


def stitch(patches, *, lengths=None, overlap: int = 4) -> np.ndarray:
    """One spectrogram from a sequence of patches, neighbours cross-faded over ``overlap`` frames.

    Patch ``i`` starts at frame ``sum(advance[:i])`` and lasts ``advance[i] + overlap`` frames, its
    last ``overlap`` frames faded linearly into the next patch's first. ``advance[i]`` is
    ``lengths[i]`` when lengths are given (each patch resampled to ``lengths[i] + overlap``
    frames, so beat patches come back at their own tempo), else ``n_frames - overlap``
    (``make_patches(hop=n_frames - overlap)`` then stitches back exactly).

    Parameters
    ----------
    patches : np.ndarray [shape=(n, n_frames, n_features)] or Patches
        In time order.
    lengths : np.ndarray [shape=(n,)], optional
        Frames each patch should cover (e.g. ``Patches.lengths``, or a tempo's beat length).
    overlap : int >= 0
        Frames of cross-fade at each seam (at most the shortest length; at most ``n_frames / 2``
        without lengths).

    Returns
    -------
    frames : np.ndarray [shape=(sum(advance) + overlap, n_features)], float32
    """
    x = as_patch_array(patches)
    n, n_frames, F = x.shape
    adv, o = _advances(n, n_frames, lengths, overlap)
    offsets = np.concatenate([[0], np.cumsum(adv)])
    out = np.zeros((int(offsets[-1] + o), F), dtype=np.float64)
    up = (np.arange(1, o + 1) / (o + 1))[:, None]  # the incoming patch's weights over a seam
    for i in range(n):
        p = (x[i] if lengths is None else resample_frames(x[i], n_frames=int(adv[i]) + o)).astype(np.float64)
        if o and i > 0:
            p[:o] *= up
        if o and i < n - 1:
            p[-o:] *= up[::-1]
        out[offsets[i] : offsets[i] + len(p)] += p
    return out.astype(np.float32)


def sequence_to_audio(patches, rep, *, lengths=None, overlap: int = 4, guard=None, seed: int = 0,
                      inversion: dict | None = None, length: int | None = None) -> np.ndarray:
    """Stitch a sequence of patches (:func:`stitch`) and invert the result to audio in one pass.

    Parameters
    ----------
    patches : np.ndarray [shape=(n, n_frames, rep.n_features)] or Patches
    rep : Representation
        The patches' representation.
    lengths, overlap :
        As :func:`stitch`.
    guard : musiclib.generate.StabilityGuard, optional
        Applied to the stitched frames before the inversion.
    seed : int
        For the phase reconstruction's random start.
    inversion : dict, optional
        Keyword arguments for :func:`musiclib.generate.frames_to_audio`.
    length : int, optional
        Samples to return (default ``rep.hop_length * (n_stitched - 1)``).

    Returns
    -------
    y : np.ndarray [shape=(n_samples,)], float32
    """
    from musiclib.generate import frames_to_audio

    frames = stitch(patches, lengths=lengths, overlap=overlap)
    if frames.shape[1] != rep.n_features:
        raise ParameterError(f"patches have {frames.shape[1]} features, the representation {rep.n_features}")
    if guard is not None:
        frames = guard(frames)
    return frames_to_audio(frames, rep, length=length, seed=seed, **(inversion or {}))


def nearest_patches(queries, patches, *, batch_size: int = 512) -> tuple[np.ndarray, np.ndarray]:
    """Each query patch's nearest patch in ``patches`` and the distance: "is it a copy?".

    Parameters
    ----------
    queries : np.ndarray [shape=(m, n_frames, n_features)] or Patches
    patches : np.ndarray [shape=(n, n_frames, n_features)] or Patches
        The training patches.
    batch_size : int
        Queries compared at a time (bounds memory).

    Returns
    -------
    index : np.ndarray [shape=(m,)], int
        Position in ``patches`` of each query's nearest patch.
    distance : np.ndarray [shape=(m,)], float
        RMS difference to it over all frames and features, in the representation's units (0: a copy).
    """
    from sklearn.metrics import pairwise_distances_argmin_min

    q = as_patch_array(queries)
    p = as_patch_array(patches)
    if q.shape[1:] != p.shape[1:]:
        raise ParameterError(f"queries have patch shape {q.shape[1:]}, patches {p.shape[1:]}")
    batch_size = check_int("batch_size", batch_size)
    d = q.shape[1] * q.shape[2]
    P = p.reshape(len(p), d).astype(np.float64)
    idx, dist = [], []
    for a in range(0, len(q), batch_size):
        i, e = pairwise_distances_argmin_min(q[a : a + batch_size].reshape(-1, d).astype(np.float64), P)
        idx.append(i)
        dist.append(e / np.sqrt(d))
    return np.concatenate(idx).astype(np.int64), np.concatenate(dist)


def file_labels(paths, *, root=None) -> list[str]:
    """The label of each file: its sub-folder's name when the corpus has sub-folders, else the file's stem.

    Files directly under ``root`` in a corpus that has sub-folders get ``"."``.

    Parameters
    ----------
    paths : list of paths
    root : path, optional
        The corpus folder (default: the files' common parent).
    """
    import os

    paths = [Path(p) for p in paths]
    if not paths:
        raise ParameterError("file_labels() got no paths")
    root = Path(root) if root is not None else Path(os.path.commonpath([str(p.parent) for p in paths]))
    outside = [p for p in paths if not p.is_relative_to(root)]
    if outside:
        raise ParameterError(f"{outside[0]} is not under root={root}")
    rel = [p.relative_to(root) for p in paths]
    if any(len(r.parts) > 1 for r in rel):
        return [r.parts[0] if len(r.parts) > 1 else "." for r in rel]
    return [p.stem for p in paths]


@dataclass
class PatchData(SplitFrames):
    """:class:`musiclib.framing.SplitFrames` cut into patches, for the patch models.

    Attributes
    ----------
    train_patches, held_patches : Patches
        The held-out patches share the training patches' label numbers.
    labels : dict
        ``{"train": [...], "held_out": [...]}``: each file's label (:func:`file_labels`).
    beats : dict or None
        The same for each file's beat positions in frames (beat patches only).
    beatless : list of (str, str)
        Files without trackable beats, and why: they give no patches.
    """

    train_patches: Patches = None
    held_patches: Patches = None
    labels: dict = field(default_factory=dict)
    beats: dict | None = None
    beatless: list = field(default_factory=list)

    def describe(self) -> str:
        """Two lines: files and patches on each side."""
        text = (f"train: {len(self.train)} files, {self.train_patches.describe()}\n"
                f"held out: {len(self.held_out)} files, {len(self.held_patches)} patches")
        if self.beatless:
            text += f"\n{len(self.beatless)} files too short to track beats in (no patches): " + ", ".join(
                name for name, _ in self.beatless[:5]) + (" ..." if len(self.beatless) > 5 else "")
        return text


def load_patch_data(root, rep, *, n_frames: int, hop: int | None = None, beats_per_patch: int | None = None,
                    max_duration: float | None = None, excerpt: str = "start", held_out: float = 0.2, seed: int = 0,
                    max_files: int | None = None, cache=None, progress: bool = False) -> PatchData:
    """:func:`musiclib.framing.load_split`, then patches of each side's frames.

    Parameters
    ----------
    root, rep, max_duration, excerpt, held_out, seed, max_files, cache, progress :
        As :func:`musiclib.framing.load_split`.
    n_frames, hop :
        As :func:`make_patches`.
    beats_per_patch : int, optional
        ``None``: a fixed grid; else patches of that many beats (:func:`musiclib.beats.track_beats`).
    """
    split = load_split(root, rep, max_duration=max_duration, excerpt=excerpt, held_out=held_out, seed=seed,
                       max_files=max_files, cache=cache, progress=progress)
    corpus, train, held = split.corpus, split.train, split.held_out
    by_path = dict(zip(corpus.paths, file_labels(corpus.paths, root=root if Path(root).is_dir() else None)))
    labels = {"train": [by_path[p] for p in train.paths], "held_out": [by_path[p] for p in held.paths]}
    beats, beatless = None, []
    if beats_per_patch is not None:
        bpp = check_int("beats_per_patch", beats_per_patch)
        beats = {"train": _track(train, rep, bpp, beatless), "held_out": _track(held, rep, bpp, beatless)}
    tp = make_patches(split.train_frames, n_frames=n_frames, hop=hop, labels=labels["train"],
                      beats_list=None if beats is None else beats["train"], beats_per_patch=beats_per_patch or 1)
    hp = make_patches(split.held_frames, n_frames=n_frames, hop=hop, labels=labels["held_out"], label_names=tp.label_names,
                      beats_list=None if beats is None else beats["held_out"], beats_per_patch=beats_per_patch or 1)
    return PatchData(**split.fields(), train_patches=tp, held_patches=hp, labels=labels, beats=beats, beatless=beatless)


def _track(side, rep, beats_per_patch: int, skipped: list) -> list[np.ndarray]:
    """Beat positions in ``rep``'s frames for each clip, from the first downbeat when
    ``beats_per_patch > 1``; a clip without beats gets none and is added to ``skipped``."""
    from musiclib import beats as _beats

    out = []
    for c in side.clips:
        try:
            b = _beats.track_beats(c.y, sr=c.sr)
        except ParameterError as e:
            skipped.append((c.name, str(e)))
            out.append(np.empty(0, dtype=np.int64))
            continue
        frames = np.asarray(_beats.beat_frames(b, frames_per_second=rep.frames_per_second))
        if beats_per_patch > 1 and len(frames) == len(b.times):
            frames = frames[b.downbeat :]
        out.append(frames)
    return out
