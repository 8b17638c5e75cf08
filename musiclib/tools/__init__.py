"""Tools off the data path: where data lives, the feature cache, generated outputs, the command line.

:mod:`~musiclib.tools.data`
    Fetching the corpora from the package registries, provenance, the data and project folders.
:mod:`~musiclib.tools.cache`
    The feature cache, keyed by file content and representation parameters.
:mod:`~musiclib.tools.outputs`
    Generated clips with JSON sidecars, written atomically, never overwritten.
:mod:`~musiclib.tools.parallel`
    One parallel map for corpus passes: local processes (joblib), or a Dask cluster.
:mod:`~musiclib.tools.cli`
    ``python -m musiclib {fetch,card,calibrate}``.

And :func:`atomic_write`, the one way musiclib writes a file.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

__all__ = ["atomic_write"]


@contextlib.contextmanager
def atomic_write(path, *, overwrite: bool = True):
    """Write a file atomically: the block writes a temporary file, which then takes ``path``'s place.

    A crash or an exception inside the block leaves ``path`` as it was (absent, or the old file) and
    no temporary file behind.

    Parameters
    ----------
    path : path-like
        The destination; its folder is created when missing.
    overwrite : bool
        Replace an existing file. When False the move fails if ``path`` exists at that moment (a
        hard link, so a file that appeared during the write is never replaced either).

    Yields
    ------
    Path
        An empty temporary file beside ``path`` (hidden, same suffix, so ``np.savez`` and
        ``soundfile`` see the right extension), with the permissions any new file gets.

    Raises
    ------
    FileExistsError
        ``path`` exists and ``overwrite`` is False.

    Examples
    --------
    >>> with atomic_write("data/notes.txt") as tmp:  # doctest: +SKIP
    ...     tmp.write_text("written whole or not at all")
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{path.stem}.{secrets.token_hex(6)}{path.suffix}"
    tmp.touch(exist_ok=False)  # created exclusively, with the permissions of any new file (umask)
    try:
        yield Path(tmp)
        if overwrite:
            os.replace(tmp, path)
        else:
            try:
                os.link(tmp, path)  # FileExistsError when path exists
            except FileExistsError:
                raise
            except OSError:  # a file system without hard links
                if path.exists():
                    raise FileExistsError(path) from None
                os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
