"""A folder of audio as a collection: discovery, loading, a skipped-file report, split by file, summary.

See ``notebooks/00_data_tour``. A corpus with some bad files loads the rest: each bad file is
skipped with a warning and listed in :attr:`Corpus.skipped` with the reason. A split by file
(:func:`split_by_file`) holds out enough audio for the musicality card's verdict whenever the corpus
can spare it, and warns, naming the folder and the numbers, when it cannot.
"""

from __future__ import annotations

import html
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from musiclib import audio
from musiclib.errors import (AudioFileError, CorpusError, ParameterError, check_choice, check_fraction,
                             check_int, check_number, check_positive, check_sr)

__all__ = ["Clip", "Corpus", "discover", "find_audio_files", "readable_extensions", "load_corpus", "split_by_file",
           "UNREADABLE_EXTENSIONS", "MIN_DURATION", "MIN_HELD_OUT_FILES", "MAX_HELD_OUT_SHARE", "evenly_spaced"]

#: Shortest file :func:`load_corpus` keeps by default (s): one frame of every representation in the
#: series (n_fft 4096 at 22050 Hz is 0.19 s).
MIN_DURATION = 0.2

#: Fewest files a split by file holds out when the corpus has enough (see :func:`split_by_file`).
MIN_HELD_OUT_FILES = 3

#: Most of a corpus (share of its files; of its seconds, give or take one file) a split holds out to
#: reach the card's minimum reference (see :func:`split_by_file`).
MAX_HELD_OUT_SHARE = 0.5


@dataclass(frozen=True)
class Clip:
    """One loaded file: ``y [shape=(n_samples,)]`` at ``sr`` Hz, with what the file itself held."""

    path: Path
    y: np.ndarray
    sr: int
    file_sr: int
    channels: int

    @property
    def name(self) -> str:
        """The file's name (no folder)."""
        return self.path.name

    @property
    def duration(self) -> float:
        """Length of the loaded audio in seconds."""
        return len(self.y) / self.sr


@dataclass
class Corpus:
    """Loaded clips plus the files that were skipped and why.

    Attributes
    ----------
    clips : list of Clip
        In sorted path order.
    skipped : list of (Path, str)
        Files that could not be used and the reason for each.
    sr : int
        Sample rate of every clip.
    preprocess : dict or None
        The filters applied to every clip when loading (see :func:`load_corpus`).
    root : Path or None
        The folder (or file) it was loaded from, when it was loaded from one.
    """

    clips: list[Clip]
    skipped: list[tuple[Path, str]] = field(default_factory=list)
    sr: int = audio.DEFAULT_SR
    preprocess: dict | None = None
    root: Path | None = None

    def __len__(self) -> int:
        return len(self.clips)

    def __iter__(self):
        return iter(self.clips)

    def __getitem__(self, i) -> Clip:
        return self.clips[i]

    @property
    def paths(self) -> list[Path]:
        return [c.path for c in self.clips]

    @property
    def total_duration(self) -> float:
        """Seconds of audio in the corpus."""
        return float(sum(c.duration for c in self.clips))

    def find(self, name: str) -> Clip:
        """The clip whose file name (or stem) is ``name``."""
        for c in self.clips:
            if name in (c.path.name, c.path.stem):
                return c
        raise CorpusError(f"no clip named {name!r} in this corpus; have {[c.path.name for c in self.clips]}")

    def split(self, *, held_out: float = 0.2, seed: int = 0) -> tuple["Corpus", "Corpus"]:
        """Split by file into (train, held-out) corpora with the clips' durations; see :func:`split_by_file`.

        Raises
        ------
        CorpusError
            Fewer than 2 clips: the message names the folder, the files found and skipped, and what is needed.

        Warns
        -----
        UserWarning
            The held-out part is less than the card needs for a verdict (as :func:`split_by_file`).
        """
        if len(self.clips) < 2:
            raise CorpusError(self._too_small(f"has {len(self.clips)} usable audio file{'s' * (len(self.clips) != 1)}"))
        train, test = split_by_file(self.paths, held_out=held_out, seed=seed,
                                    durations=[c.duration for c in self.clips], where=self._where())
        keep = {p: c for p, c in zip(self.paths, self.clips)}
        return (
            Corpus([keep[p] for p in train], list(self.skipped), self.sr, self.preprocess, self.root),
            Corpus([keep[p] for p in test], [], self.sr, self.preprocess, self.root),
        )

    def _where(self) -> str:
        return str(self.root) if self.root is not None else _folder_of(self.paths)

    def _too_small(self, what: str) -> str:
        found = ", ".join(f"{c.name} ({c.duration:.1f} s)" for c in self.clips[:5])
        skipped = "; ".join(f"{p.name}: {why}" for p, why in self.skipped[:5])
        more = f" and {len(self.skipped) - 5} more" if len(self.skipped) > 5 else ""
        return (f"{self._where()} {what}" + (f" ({found})" if found else "")
                + (f"; skipped {len(self.skipped)}: {skipped}{more}" if self.skipped else "")
                + f". {_needed_text()}: add audio files to the folder")

    def summary(self) -> list[dict]:
        """One row per clip: file, duration (s), file's rate (Hz), file's channels."""
        return [
            {"file": c.path.name, "duration": round(c.duration, 3), "rate": c.file_sr, "channels": c.channels}
            for c in self.clips
        ]

    def summary_text(self) -> str:
        """The summary as a plain-text table, with the total and the skipped files."""
        rows = self.summary()
        w = max([len(r["file"]) for r in rows] + [4])
        lines = [f"{'file':<{w}}  {'duration':>9}  {'rate':>6}  {'ch':>2}"]
        lines += [f"{r['file']:<{w}}  {r['duration']:>8.2f}s  {r['rate']:>6}  {r['channels']:>2}" for r in rows]
        lines.append(f"{len(rows)} files, {self.total_duration / 60:.1f} min at {self.sr} Hz")
        lines += [f"skipped {p}: {why}" for p, why in self.skipped]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><td>{html.escape(r['file'])}</td><td>{r['duration']:.2f} s</td>"
            f"<td>{r['rate']} Hz</td><td>{r['channels']}</td></tr>"
            for r in self.summary()
        )
        skipped = "".join(
            f"<li>{html.escape(str(p))}: {html.escape(why)}</li>" for p, why in self.skipped
        )
        return (
            "<table><thead><tr><th>file</th><th>duration</th><th>rate</th><th>channels</th></tr></thead>"
            f"<tbody>{rows}</tbody></table>"
            f"<p>{len(self)} files, {self.total_duration / 60:.1f} min at {self.sr} Hz</p>"
            + (f"<p>Skipped:</p><ul>{skipped}</ul>" if skipped else "")
        )


#: Extensions of each container/format libsndfile reads (``soundfile.available_formats()``).
_FORMAT_EXTENSIONS = {
    "WAV": (".wav",), "WAVEX": (".wav",), "RF64": (".rf64",), "W64": (".w64",), "FLAC": (".flac",),
    "OGG": (".ogg", ".oga"), "MP3": (".mp3",), "AIFF": (".aiff", ".aif", ".aifc"), "CAF": (".caf",),
    "AU": (".au", ".snd"), "SVX": (".8svx", ".iff"), "VOC": (".voc",), "IRCAM": (".sf",),
}

#: Extensions of audio that libsndfile cannot read: listed as skipped, with what to do.
UNREADABLE_EXTENSIONS = (".m4a", ".m4b", ".mp4", ".aac", ".wma", ".ape", ".wv", ".alac", ".mka", ".webm",
                         ".mpc", ".dsf", ".dff", ".amr", ".ra", ".tta", ".shn", ".mid", ".midi")


def readable_extensions() -> tuple[str, ...]:
    """File extensions (lower case) of every audio format the installed libsndfile reads, from
    ``soundfile.available_formats()`` (so a newer libsndfile widens discovery without a code change)."""
    import soundfile as sf

    formats = sf.available_formats()
    exts = {e for fmt, es in _FORMAT_EXTENSIONS.items() if fmt.strip() in formats for e in es}
    if "OGG" in formats and "OPUS" in sf.available_subtypes("OGG"):
        exts.add(".opus")
    return tuple(sorted(exts))


def discover(root, *, extensions=None, recursive: bool = True) -> tuple[list[Path], list[tuple[Path, str]]]:
    """Audio files under ``root``, and the audio-looking paths that cannot be used, with why.

    An audio file is a regular file (or a link to one) whose extension, in any case, is one of
    ``extensions`` (default :func:`readable_extensions`); hidden files and folders are left out.
    Skipped, with the reason: dangling links, folders named like audio files, and formats libsndfile
    cannot read (:data:`UNREADABLE_EXTENSIONS`).

    Parameters
    ----------
    root : path-like
        A folder (or a single file, which is its own corpus).
    extensions : iterable of str, optional
        Extensions to accept instead of :func:`readable_extensions`.
    recursive : bool
        Search sub-folders too.

    Returns
    -------
    files : list of Path
    skipped : list of (Path, str)
        Each with the reason it cannot be used; both lists sorted.

    Raises
    ------
    CorpusError
        ``root`` does not exist.
    """
    root = Path(root)
    if root.is_symlink() and not root.exists():
        raise CorpusError(f"{root}: is a link to {os.readlink(root)}, which does not exist")
    if not root.exists():
        raise CorpusError(f"{root}: folder not found")
    if root.is_file():
        return [root], []
    exts = {e.lower() for e in (readable_extensions() if extensions is None else extensions)}
    files, skipped = [], []
    for p in root.glob("**/*" if recursive else "*"):
        suffix = p.suffix.lower()
        hidden = any(part.startswith(".") for part in p.relative_to(root).parts)
        if hidden or (suffix not in exts and suffix not in UNREADABLE_EXTENSIONS):
            continue
        if p.is_symlink() and not p.exists():
            skipped.append((p, f"is a link to {os.readlink(p)}, which does not exist"))
        elif p.is_dir():
            skipped.append((p, "is a folder named like an audio file, not a file"))
        elif suffix in UNREADABLE_EXTENSIONS and suffix not in exts:
            skipped.append((p, f"{suffix} audio cannot be read here (libsndfile does not decode it); convert "
                               f"it, e.g. `ffmpeg -i '{p.name}' '{p.stem}.flac'`"))
        elif p.is_file():
            files.append(p)
    return sorted(files), sorted(skipped)


def find_audio_files(root, *, extensions=None, recursive: bool = True) -> list[Path]:
    """Audio files under ``root`` (see :func:`discover`), sorted.

    Raises
    ------
    CorpusError
        ``root`` does not exist, or holds no audio files (the message lists what was skipped).
    """
    files, skipped = discover(root, extensions=extensions, recursive=recursive)
    if not files:
        exts = sorted(readable_extensions() if extensions is None else {e.lower() for e in extensions})
        why = "; ".join(f"{p.name}: {r}" for p, r in skipped[:3])
        raise CorpusError(f"{root}: no audio files ({', '.join(exts)}) found" + (f" (skipped {why})" if why else ""))
    return files


def _resolve_files(source) -> tuple[list[Path], list[tuple[Path, str]]]:
    if isinstance(source, (str, os.PathLike)):
        files, skipped = discover(source)
        if not files:
            find_audio_files(source)  # raises with the reason
        return files, skipped
    if isinstance(source, (bytes, int, float)) or source is None:
        raise CorpusError(f"source={source!r} must be a folder, a file or a list of audio files")
    files = [Path(p) for p in source]
    if not files:
        raise CorpusError("the list of audio files is empty")
    return files, []


def load_corpus(
    source,
    *,
    sr: int = audio.DEFAULT_SR,
    max_duration: float | None = None,
    excerpt: str = "start",
    min_duration: float = MIN_DURATION,
    n_jobs: int | None = None,
    progress: bool = True,
    preprocess: dict | None = None,
    scheduler=None,
) -> Corpus:
    """Load every audio file under a folder (or in a list), mono at ``sr``, skipping bad files.

    Parameters
    ----------
    source : str, Path or list of paths
        A folder (searched recursively, see :func:`discover`) or explicit files.
    sr : int
        Sample rate in Hz for every clip.
    max_duration : float, optional
        Keep at most this many seconds of each file.
    excerpt : {"start", "middle"}
        Where in a longer file the ``max_duration`` seconds come from: its start, or centred on its
        middle (whole songs often open with an intro).
    min_duration : float
        Skip files shorter than this many seconds (default :data:`MIN_DURATION`).
    n_jobs : int, optional
        Threads for decoding; default (None or -1): the CPU count, at most 8.
    progress : bool
        Show a progress bar.
    preprocess : dict, optional
        Filters applied to every clip after loading (:func:`musiclib.postprocess.filter_audio`), e.g.
        ``{"highpass_hz": 500.0}``; pass the same dict to :func:`musiclib.framing.load_frames`.
    scheduler : str or distributed.Client, optional
        Decode on this Dask cluster (see :func:`musiclib.tools.parallel.map`).

    Returns
    -------
    Corpus
        ``skipped`` lists every file that could not be used and why, with what :func:`discover` set aside.

    Raises
    ------
    CorpusError
        No audio files, or none of them could be loaded (the message lists why).
    ParameterError
        A bad ``sr``, ``max_duration``, ``excerpt``, ``min_duration`` or ``n_jobs``.

    Warns
    -----
    UserWarning
        Once per skipped file, naming it and the reason.
    """
    from musiclib.tools import parallel

    check_sr(sr)
    check_positive("max_duration", max_duration, allow_none=True)
    check_number("min_duration", min_duration, low=0)
    check_choice("excerpt", excerpt, ("start", "middle"))
    if n_jobs is not None and (isinstance(n_jobs, bool) or not isinstance(n_jobs, (int, np.integer))
                               or not (n_jobs >= 1 or n_jobs == -1)):
        raise ParameterError(f"n_jobs={n_jobs!r} must be a positive integer, -1 (every CPU) or None")
    if preprocess is not None:
        from musiclib.postprocess import check_preprocess, filter_audio

        preprocess = check_preprocess(preprocess, sr=sr)
    files, set_aside = _resolve_files(source)

    def one(path):
        try:
            meta = audio.info(path)
            middle = excerpt == "middle" and max_duration is not None
            offset = max(0.0, (meta["duration"] - max_duration) / 2) if middle else 0.0
            y, _ = audio.load(path, sr=sr, offset=offset, duration=max_duration)
        except AudioFileError as e:
            return path, None, e.problem
        if len(y) < min_duration * sr:
            return path, None, (f"too short: {len(y) / sr:.3f} s, less than min_duration={min_duration} s "
                                "(what the pipeline needs for one frame and its context)")
        if preprocess is not None:
            y = filter_audio(y, sr=sr, **preprocess)
        return path, Clip(Path(path), y, sr, meta["sr"], meta["channels"]), None

    workers = min(8, os.cpu_count() or 1) if n_jobs in (None, -1) else int(n_jobs)
    results = parallel.map(one, files, n_jobs=workers, scheduler=scheduler, prefer="threads",
                           progress=progress and len(files) >= 8, desc="loading audio")
    clips = [c for _, c, _ in results if c is not None]
    skipped = sorted(set_aside + [(Path(p), why) for p, c, why in results if c is None])
    for p, why in skipped:
        warnings.warn(f"skipping {p}: {why}", stacklevel=2)
    if not clips:
        reasons = "; ".join(f"{p.name}: {why}" for p, why in skipped[:5])
        raise CorpusError(f"none of the {len(files)} audio files could be loaded ({reasons})")
    root = Path(source) if isinstance(source, (str, os.PathLike)) else None
    return Corpus(clips, skipped, sr, preprocess, root)


def _reference_minimum() -> tuple[int, float, float, float]:
    """The card's minimum reference (files, seconds), the shortest clip it measures and the most it analyses (s)."""
    from musiclib.evaluation.card import MIN_REFERENCE_FILES, MIN_REFERENCE_SECONDS
    from musiclib.evaluation.features import MAX_ANALYSIS_SECONDS, MIN_CLIP_SECONDS

    return MIN_REFERENCE_FILES, MIN_REFERENCE_SECONDS, MIN_CLIP_SECONDS, MAX_ANALYSIS_SECONDS


def _needed_text() -> str:
    files, seconds, _, _ = _reference_minimum()
    return (f"Splitting by file needs at least 2 files (one to learn from, one held out); a musicality card verdict "
            f"needs at least {files} held-out files holding {seconds:g} s, so a corpus that can spare them holds "
            f"at least {int(np.ceil(files / MAX_HELD_OUT_SHARE))} files and {seconds / MAX_HELD_OUT_SHARE:g} s")


def split_by_file(paths, *, held_out: float = 0.2, seed: int = 0, durations=None,
                  where: str | None = None) -> tuple[list[Path], list[Path]]:
    """Split files into train and held-out lists, never splitting a file (no leakage between frames of one song).

    The first files of a seeded shuffle of the sorted paths are held out: at least one, and at least
    :data:`MIN_HELD_OUT_FILES` when the corpus has three times as many (a card judged against one track
    says more about that track than about the model). With ``durations``, more are held out until they
    hold the card's minimum reference (:data:`~musiclib.evaluation.card.MIN_REFERENCE_FILES` clips the
    card can measure, :data:`~musiclib.evaluation.card.MIN_REFERENCE_SECONDS` analysed seconds), as long as
    that is at most :data:`MAX_HELD_OUT_SHARE` of the corpus; else ``held_out`` alone decides, with a warning.

    Parameters
    ----------
    paths : list of paths
        Two or more distinct files.
    held_out : float
        Fraction of files held out, in (0, 1).
    seed : int
    durations : list of float, optional
        Seconds of audio of each path (in the order of ``paths``), e.g. ``[c.duration for c in corpus]``.
    where : str, optional
        The folder's name in messages (default: the files' folder).

    Returns
    -------
    train, held_out : list of Path
        Each sorted.

    Raises
    ------
    CorpusError
        Fewer than 2 distinct files (names the folder and what is needed).
    ParameterError
        A bad ``held_out``, ``seed`` or ``durations`` (not one finite number >= 0 per path).

    Warns
    -----
    UserWarning
        With ``durations``: the held-out files hold less than the card needs for a verdict.
    """
    check_fraction("held_out", held_out, low_open=True, high_open=True)
    check_int("seed", seed, low=0)
    if isinstance(paths, (str, bytes, os.PathLike)) or paths is None:
        raise ParameterError(f"paths={paths!r} must be a list of audio files")
    if where is not None and not isinstance(where, str):
        raise ParameterError(f"where={where!r} must be a folder's name (str) or None")
    given = [Path(p) for p in paths]
    if durations is not None:
        durations = _check_durations(durations, len(given))
        seconds_of = dict(zip(given, durations))
    paths = sorted(set(given))  # a file listed twice must not land on both sides
    where = _folder_of(paths) if where is None else where
    if len(paths) < 2:
        names = ", ".join(p.name for p in paths) or "none"
        raise CorpusError(f"{where} has {len(paths)} distinct audio file{'s' * (len(paths) != 1)} ({names}). "
                          f"{_needed_text()}: add audio files to the folder")
    order = np.random.default_rng(seed).permutation(len(paths))
    n_test = max(1, int(round(held_out * len(paths))), min(MIN_HELD_OUT_FILES, len(paths) // 3))
    n_test = min(len(paths) - 1, n_test)
    if durations is not None:
        n_test = _enough_seconds(paths, order, n_test, [seconds_of[p] for p in paths], where=where)
    test = sorted(paths[i] for i in order[:n_test])
    train = sorted(paths[i] for i in order[n_test:])
    return train, test


def _folder_of(paths) -> str:
    """The files' folder, for messages."""
    parents = sorted({str(p.parent) for p in paths})
    return parents[0] if len(parents) == 1 else f"the {len(paths)} files given"


def _check_durations(durations, n: int) -> list[float]:
    try:
        d = np.asarray(durations, dtype=np.float64)
    except (TypeError, ValueError):
        raise ParameterError(f"durations={durations!r} must be seconds, one number per path") from None
    if d.ndim != 1 or len(d) != n or not np.all(np.isfinite(d)) or np.any(d < 0):
        raise ParameterError(f"durations must be {n} finite numbers of seconds >= 0 (one per path), got "
                             f"{np.array2string(d.ravel()[:8], precision=3) if d.size else 'none'}"
                             + (f" ({d.size} values)" if d.ndim == 1 and len(d) != n else ""))
    return [float(x) for x in d]


def _enough_seconds(paths, order, n_test: int, durations: list[float], *, where: str) -> int:
    """How many files of the shuffle ``order`` to hold out so the card gets enough reference (see split_by_file)."""
    min_files, min_seconds, shortest, longest = _reference_minimum()
    usable = np.array([min(d, longest) if d >= shortest else 0.0 for d in durations])[order]
    files_at = np.concatenate([[0], np.cumsum(usable > 0)])  # files_at[k]: measurable files among the first k
    seconds_at = np.concatenate([[0.0], np.cumsum(usable)])
    enough = np.flatnonzero((files_at >= min_files) & (seconds_at >= min_seconds - 1e-9))
    k = int(enough[0]) if len(enough) else len(paths)
    if k <= max(n_test, int(MAX_HELD_OUT_SHARE * len(paths))) and seconds_at[k] <= MAX_HELD_OUT_SHARE * seconds_at[-1] + longest:
        return max(k, n_test)
    files, seconds = int(files_at[n_test]), float(seconds_at[n_test])
    warnings.warn(
        f"{where}: the held-out part holds {seconds:.1f} s in {files} file{'s' * (files != 1)} the musicality card "
        f"can measure (the whole corpus: {seconds_at[-1]:.1f} s in {int(files_at[-1])} such of {len(paths)} files); "
        f"a card verdict needs at least {min_seconds:g} s in {min_files} held-out files, so cards against this split "
        f"give no verdict (a corpus that can spare that holds at least {int(np.ceil(min_files / MAX_HELD_OUT_SHARE))} "
        f"such files and {min_seconds / MAX_HELD_OUT_SHARE:g} s)", stacklevel=4)
    return n_test


def evenly_spaced(items, *, n: int) -> list:
    """``n`` items evenly spaced through ``items``, in order (all of them when there are ``n`` or fewer).

    Parameters
    ----------
    items : sequence
        E.g. a corpus's clips, sorted by name: the picks then differ across the alphabet.
    n : int

    Examples
    --------
    >>> evenly_spaced(list("abcdefg"), n=3)
    ['a', 'd', 'g']
    """
    n = check_int("n", n)
    items = list(items)
    if len(items) <= n:
        return items
    return [items[int(i)] for i in np.linspace(0, len(items) - 1, n).round()]
