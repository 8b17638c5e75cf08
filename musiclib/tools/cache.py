"""Feature cache: precompute representation frames once, load them fast afterwards.

An entry is keyed by the SHA-256 of the audio file's bytes and every setting that changes the result
(the representation's ``params``, the excerpt, the pre-processing). Entries are written atomically and
carry a checksum of their frames; one that fails to load or verify, or holds NaN or inf, is recomputed,
never trusted. Processes computing one entry at once each write their own temporary file and the last
rename wins. :meth:`FeatureCache.clear` removes only entries it can verify as its own.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import time
import warnings
import zlib
from pathlib import Path

import numpy as np

from musiclib import audio
from musiclib.errors import AudioFileError, CacheError, ParameterError, check_number, check_positive
from musiclib.tools import atomic_write

__all__ = ["FeatureCache", "file_digest", "default_cache_dir"]

#: Bump when the stored format or a representation's computation changes.
CACHE_VERSION = 1

_ENTRY_RE = re.compile(r"^[0-9a-f]{64}\.npz$")
_TMP_RE = re.compile(r"^\.[0-9a-f]{64}\.[0-9a-f]{12}\.npz$")  # atomic_write's temporary files of entries
_FOLDER_RE = re.compile(r"^[0-9a-f]{2}$")


def default_cache_dir() -> Path:
    """``$MUSICLIB_CACHE``, else ``cache/`` in :func:`musiclib.tools.data.data_root`."""
    from musiclib.tools.data import data_root

    env = os.environ.get("MUSICLIB_CACHE")
    return Path(env) if env else data_root() / "cache"


_DIGESTS: dict[tuple, str] = {}
#: Ignore a file another process removed first (concurrent clears and writes).
_missing_ok = contextlib.suppress(FileNotFoundError)
_RACY_NS = 3_000_000_000  # 3 s: coarser than any file system's timestamps (FAT: 2 s)


def file_digest(path) -> str:
    """SHA-256 of a file's bytes, as 64 hex digits (remembered per path, size and mtime once it settles)."""
    path = Path(path)
    st = path.stat()
    memo = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    digest = _DIGESTS.get(memo)
    if digest is None:
        with open(path, "rb") as f:
            digest = hashlib.file_digest(f, "sha256").hexdigest()
        # a file modified in the last seconds may change again without its (coarse) mtime changing
        if time.time_ns() - st.st_mtime_ns > _RACY_NS:
            _DIGESTS[memo] = digest
    return digest


class FeatureCache:
    """Frames of audio files under a representation, computed once and stored.

    Parameters
    ----------
    root : str or Path, optional
        Folder for the entries (default :func:`default_cache_dir`).

    """

    def __init__(self, root=None):
        if root is not None and not isinstance(root, (str, os.PathLike)):
            raise ParameterError(f"root={root!r} must be a path (str or os.PathLike) of a folder")
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
            Filters applied before encoding (:func:`musiclib.postprocess.filter_audio`); in the key only
            when given, so entries made without it stay valid.
        """
        spec = {
            "offset": check_number("offset", offset, low=0),  # checked before reading the file
            "duration": check_positive("duration", duration, allow_none=True),
            "version": CACHE_VERSION,
            "file": file_digest(path),
            "rep": rep.params,
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
            isinstance(meta, dict)
            and meta.get("key") == key
            and frames.ndim == 2
            and frames.shape[1] == n_features
            and np.issubdtype(frames.dtype, np.floating)
            and meta.get("crc32") == zlib.crc32(np.ascontiguousarray(frames).tobytes())
            and bool(np.all(np.isfinite(frames)))
        )
        if not ok:
            warnings.warn(f"feature cache entry {entry} failed verification; recomputing", stacklevel=3)
            return None
        return frames

    def _check_root(self) -> None:
        if self.root.exists() and not self.root.is_dir():
            raise CacheError(f"feature cache folder {self.root} is a file, not a folder: move it away, or point "
                             f"$MUSICLIB_CACHE (or FeatureCache(root=...)) at a folder")

    def _write(self, entry: Path, key: str, frames: np.ndarray) -> None:
        meta = json.dumps({"key": key, "crc32": zlib.crc32(np.ascontiguousarray(frames).tobytes())})
        try:
            with atomic_write(entry) as tmp:
                np.savez(tmp, frames=frames, meta=np.array(meta))
        except OSError as e:
            raise CacheError(f"cannot write feature cache entry {entry} ({type(e).__name__}: {e.strerror or e}): "
                             f"make {self.root} a writable folder, or point $MUSICLIB_CACHE elsewhere") from None

    def features(self, path, rep, *, offset: float = 0.0, duration: float | None = None,
                 preprocess: dict | None = None) -> np.ndarray:
        """Frames of ``path`` under ``rep``, from the cache when possible (else loaded mono at ``rep.sr``).

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
        self._check_root()
        key = self.key(path, rep, offset=offset, duration=duration, preprocess=preprocess)
        entry = self._entry(key)
        if entry.is_dir() or (entry.parent.exists() and not entry.parent.is_dir()):
            bad = entry if entry.is_dir() else entry.parent
            raise CacheError(f"feature cache entry {bad} is a {'folder' if bad.is_dir() else 'file'} the cache did "
                             f"not write: remove it, or point $MUSICLIB_CACHE at another folder")
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
        if not np.all(np.isfinite(frames)):  # never stored, never returned
            raise AudioFileError(path, f"encodes to {int(np.sum(~np.isfinite(frames)))} non-finite values under "
                                       f"{rep.params}")
        self._write(entry, key, frames)
        return frames

    def _is_own_entry(self, p: Path) -> bool:
        """Whether ``p`` is an entry this cache wrote: named by its key, in the key's folder, holding that key."""
        if not (_ENTRY_RE.match(p.name) and p.parent.name == p.name[:2] and p.is_file() and not p.is_symlink()):
            return False
        try:
            with np.load(p, allow_pickle=False) as z:
                meta = json.loads(str(z["meta"]))
        except Exception:  # noqa: BLE001 - not a readable entry: not provably ours
            return False
        return isinstance(meta, dict) and meta.get("key") == p.stem

    def clear(self, *, stale_after: float = 600.0) -> int:
        """Delete every entry this cache can verify as its own; return how many files were removed.

        An entry is its own when named by a key, in that key's folder, recording that key; anything else
        (your files, unreadable entries) is left alone. Temporary files of killed writes go once older than
        ``stale_after`` (a younger one may be a write in progress), and so do key folders left empty.

        Parameters
        ----------
        stale_after : float
            Age in seconds from which a temporary file counts as left by a killed write.
        """
        stale_after = check_number("stale_after", stale_after, low=0)
        self._check_root()
        if not self.root.exists():
            return 0
        n = 0
        now = time.time()
        for folder in sorted(self.root.iterdir()):
            if not (_FOLDER_RE.match(folder.name) and folder.is_dir() and not folder.is_symlink()):
                continue
            for p in sorted(folder.iterdir()):
                own = self._is_own_entry(p)
                if not own and _TMP_RE.match(p.name) and p.name[1:3] == folder.name and p.is_file():
                    with _missing_ok:
                        own = now - p.stat().st_mtime >= stale_after
                if own:
                    with _missing_ok:
                        p.unlink()
                        n += 1
            with _missing_ok:
                if not any(folder.iterdir()):
                    folder.rmdir()
        return n
