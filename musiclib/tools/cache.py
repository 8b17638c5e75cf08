"""Feature cache: precompute representation frames once, load them fast afterwards.

An entry is keyed by the SHA-256 of the audio file's bytes and every parameter that changes the
result (the representation's :attr:`~musiclib.representations.Representation.params`, the sample
rate, the excerpt). Entries are written atomically (temporary file, then rename) and carry a
checksum of their frames; an entry that fails to load or to verify is recomputed, never trusted.

The cache lives in ``$MUSICLIB_CACHE`` if set, else ``data/cache`` in the repository.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
import warnings
import zlib
from pathlib import Path

import numpy as np

from musiclib import audio
from musiclib.errors import ParameterError
from musiclib.tools import atomic_write

__all__ = ["FeatureCache", "file_digest", "default_cache_dir"]

#: Bump when the stored format or a representation's computation changes.
CACHE_VERSION = 1


def default_cache_dir() -> Path:
    """``$MUSICLIB_CACHE``, else ``cache/`` in the data folder (:func:`musiclib.tools.data.data_root`,
    which honours ``$MUSICLIB_DATA_ROOT``)."""
    from musiclib.tools.data import data_root

    env = os.environ.get("MUSICLIB_CACHE")
    if env:
        return Path(env)
    return data_root() / "cache"


_DIGESTS: dict[tuple, str] = {}
_RACY_NS = 3_000_000_000  # 3 s: coarser than any file system's timestamps (FAT: 2 s)


def file_digest(path) -> str:
    """SHA-256 of a file's bytes, as 64 hex digits.

    Remembered in this process per path, size and modification time, once the file has not been
    modified for a few seconds.
    """
    path = Path(path)
    st = path.stat()
    memo = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    digest = _DIGESTS.get(memo)
    if digest is None:
        with open(path, "rb") as f:
            digest = hashlib.file_digest(f, "sha256").hexdigest()
        # A file modified in the last seconds may change again without its size or (coarse, on
        # some file systems) modification time changing, so only remember settled files' digests.
        if time.time_ns() - st.st_mtime_ns > _RACY_NS:
            _DIGESTS[memo] = digest
    return digest


class FeatureCache:
    """Frames of audio files under a representation, computed once and stored.

    Parameters
    ----------
    root : str or Path, optional
        Folder for the entries (default :func:`default_cache_dir`).

    Examples
    --------
    >>> from musiclib.representations import MelSpectrogram
    >>> cache = FeatureCache()                                   # doctest: +SKIP
    >>> frames = cache.features("loop_amen.flac", MelSpectrogram())  # doctest: +SKIP
    """

    def __init__(self, root=None):
        self.root = Path(root) if root is not None else default_cache_dir()
        self.hits = 0
        self.misses = 0

    def key(self, path, rep, *, offset: float = 0.0, duration: float | None = None,
            preprocess: dict | None = None) -> str:
        """The entry name (64 hex digits) for ``path`` under ``rep``, from the file's bytes and every setting.

        Parameters
        ----------
        path : path-like
            An audio file.
        rep : musiclib.representations.Representation
        offset, duration : float
            The excerpt, in seconds (``duration=None``: to the end).
        preprocess : dict, optional
            Filters applied to the audio before encoding (see
            :func:`musiclib.postprocess.check_preprocess`): part of the key when given; without it the
            key is what it always was, so existing entries stay valid.
        """
        spec = {
            "version": CACHE_VERSION,
            "file": file_digest(path),
            "rep": rep.params,
            "offset": float(offset),
            "duration": None if duration is None else float(duration),
        }
        if preprocess is not None:
            from musiclib.postprocess import check_preprocess

            preprocess = check_preprocess(preprocess, sr=rep.sr)
            if preprocess is not None:
                spec["preprocess"] = preprocess
        return hashlib.sha256(json.dumps(spec, sort_keys=True, default=str).encode()).hexdigest()

    def _entry(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.npz"

    def _read(self, entry: Path, key: str, n_features: int) -> np.ndarray | None:
        try:
            with np.load(entry, allow_pickle=False) as z:
                frames = z["frames"]
                meta = json.loads(str(z["meta"]))
        except Exception as e:  # noqa: BLE001 - any unreadable entry is recomputed
            warnings.warn(f"feature cache entry {entry} is unreadable ({type(e).__name__}); recomputing", stacklevel=3)
            return None
        ok = (
            meta.get("key") == key
            and frames.ndim == 2
            and frames.shape[1] == n_features
            and meta.get("crc32") == zlib.crc32(np.ascontiguousarray(frames).tobytes())
        )
        if not ok:
            warnings.warn(f"feature cache entry {entry} failed verification; recomputing", stacklevel=3)
            return None
        return frames

    def _write(self, entry: Path, key: str, frames: np.ndarray) -> None:
        meta = json.dumps({"key": key, "crc32": zlib.crc32(np.ascontiguousarray(frames).tobytes())})
        with atomic_write(entry) as tmp:
            np.savez(tmp, frames=frames, meta=np.array(meta))

    def features(self, path, rep, *, offset: float = 0.0, duration: float | None = None,
                 preprocess: dict | None = None) -> np.ndarray:
        """Frames of ``path`` under ``rep``, from the cache when possible.

        The audio is loaded with :func:`musiclib.audio.load` at ``rep.sr`` (mono) and, when
        ``preprocess`` is given (e.g. ``{"highpass_hz": 500.0}``), filtered with
        :func:`musiclib.postprocess.filter_audio` before encoding; the settings are part of the key.

        Parameters
        ----------
        path, rep, offset, duration, preprocess :
            As :meth:`key`.

        Returns
        -------
        frames : np.ndarray [shape=(n_frames, rep.n_features)], float32

        Raises
        ------
        AudioFileError
            The file cannot be loaded.
        ParameterError
            The file is shorter than one frame of ``rep`` (the message names the file).
        """
        key = self.key(path, rep, offset=offset, duration=duration, preprocess=preprocess)
        entry = self._entry(key)
        if entry.exists():
            frames = self._read(entry, key, rep.n_features)
            if frames is not None:
                self.hits += 1
                return frames
        self.misses += 1
        y, _ = audio.load(path, sr=rep.sr, offset=offset, duration=duration)
        if preprocess is not None:
            from musiclib.postprocess import filter_audio

            y = filter_audio(y, sr=rep.sr, **preprocess)
        try:
            frames = rep.encode(y)
        except ParameterError as e:
            raise ParameterError(f"{path}: {e}") from None
        self._write(entry, key, frames)
        return frames

    def clear(self) -> int:
        """Delete every entry (only ``*.npz`` files this cache wrote); return how many."""
        n = 0
        if self.root.exists():
            for p in self.root.glob("??/*.npz"):
                p.unlink()
                n += 1
        return n
