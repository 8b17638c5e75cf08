"""Tools off the data path, and :func:`atomic_write`, the one way musiclib writes a file.

:mod:`~musiclib.tools.data` fetches the corpora; :mod:`~musiclib.tools.cache` is the feature cache;
:mod:`~musiclib.tools.outputs` holds generated clips and checkpoints; :mod:`~musiclib.tools.parallel`
maps over a corpus locally or on Dask; :mod:`~musiclib.tools.cli` is ``python -m musiclib``.
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

    A crash or an exception inside the block leaves ``path`` as it was and no temporary file behind.

    Parameters
    ----------
    path : path-like
        The destination; its folder is created when missing.
    overwrite : bool
        Replace an existing file. When False, an existing ``path`` (even one that appeared during the
        write: the move is a hard link) is never replaced.

    Yields
    ------
    Path
        An empty, hidden temporary file beside ``path`` with its suffix (so ``np.savez`` and ``soundfile``
        see the right extension).

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
