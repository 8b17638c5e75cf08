"""The exception family for mistakes a user can make, and the checks that raise it.

Every error musiclib raises on bad input derives from :class:`MusiclibError`, which derives from
:class:`ValueError`, so ``except ValueError`` keeps working. Messages name the file or the parameter
and echo the offending value, e.g. ``"hop_length=-4 must be a positive integer"``.

The ``check_*`` functions are the one place parameters are validated: each takes the parameter's
name and value, returns the value converted (``int``, ``float``, a float array) and raises
:class:`ParameterError` naming both when the value is unusable.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "MusiclibError",
    "ParameterError",
    "AudioFileError",
    "CorpusError",
    "ReferenceTooSmallError",
    "DataUnavailableError",
    "CacheError",
    "show",
    "check_int",
    "check_number",
    "check_positive",
    "check_fraction",
    "check_choice",
    "check_finite",
    "check_signal",
    "MAX_AMPLITUDE",
]

#: Largest sample magnitude :func:`check_signal` accepts: 200 dB above full scale (``1e10``), beyond any audio
#: level (as ``musiclib.representations.MAX_DB``); larger values overflow float32 in the transforms.
MAX_AMPLITUDE = 1e10


class MusiclibError(ValueError):
    """Base class of every error musiclib raises for bad input."""


class ParameterError(MusiclibError):
    """A parameter has a value musiclib cannot use (names the parameter and the value)."""


class AudioFileError(MusiclibError):
    """An audio file cannot be read or holds unusable audio (names the file and the problem)."""

    def __init__(self, path, problem: str):
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")

    def __reduce__(self):  # pickle with both arguments (errors cross process pools intact)
        return type(self), (self.path, self.problem)


class CorpusError(MusiclibError):
    """A folder or list of files does not make a usable corpus."""


class ReferenceTooSmallError(CorpusError):
    """Too little held-out reference music for the musicality card to give a verdict.

    Attributes ``files``, ``seconds`` (what there is) and ``min_files``, ``min_seconds`` (what is
    needed), as in the message.
    """

    def __init__(self, message: str, *, files: int = 0, seconds: float = 0.0, min_files: int = 0,
                 min_seconds: float = 0.0):
        self.files, self.seconds, self.min_files, self.min_seconds = files, seconds, min_files, min_seconds
        super().__init__(message)

    def __reduce__(self):  # pickle with every argument (errors cross process pools intact)
        return type(self), (str(self),), {"files": self.files, "seconds": self.seconds,
                                          "min_files": self.min_files, "min_seconds": self.min_seconds}


class DataUnavailableError(MusiclibError):
    """The default data cannot be fetched here, with what to do instead."""


class CacheError(MusiclibError):
    """The feature cache's folder cannot hold entries (names the path and what is wrong there)."""


# -- checks ------------------------------------------------------------------------------------------


def show(value) -> str:
    """``repr`` of a parameter value for messages (numpy scalars shown as plain numbers)."""
    return repr(value.item() if isinstance(value, np.generic) else value)


def _is_int(value) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def check_int(name: str, value, *, low: int = 1, high: int | None = None, allow_none: bool = False,
              note: str = ""):
    """``value`` as an ``int`` in ``[low, high]`` (``high=None``: no upper bound).

    ``note`` is added to the message in parentheses (e.g. ``"n_fft=512"``, where a bound comes from).

    Raises
    ------
    ParameterError
        Not an integer (``bool`` and ``2.0`` are refused), or out of range; the message reads
        e.g. ``"n_fft=0 must be a positive integer"``.

    Examples
    --------
    >>> check_int("n_iter", 32, low=0)
    32
    """
    if value is None and allow_none:
        return None
    if not _is_int(value) or value < low or (high is not None and value > high):
        if high is not None:
            kind = f"an integer in [{low}, {high}]"
        else:
            kind = "a positive integer" if low == 1 else f"an integer >= {low}"
        raise ParameterError(f"{name}={show(value)} must be {kind}" + (f" ({note})" if note else ""))
    return int(value)


def check_number(name: str, value, *, low: float | None = None, high: float | None = None,
                 low_open: bool = False, high_open: bool = False, allow_none: bool = False):
    """``value`` as a finite ``float`` between ``low`` and ``high`` (either may be ``None``).

    ``low_open`` / ``high_open`` exclude the bound itself.

    Raises
    ------
    ParameterError
        Not a real number, NaN or infinite, or out of range; the message reads e.g.
        ``"tol=0 must be a finite number in (0, 1)"``.
    """
    if value is None and allow_none:
        return None
    ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))
    x = float(value) if ok else float("nan")
    if (np.isfinite(x) and (low is None or x > low or (x == low and not low_open))
            and (high is None or x < high or (x == high and not high_open))):
        return x
    if low is not None and high is not None:
        bounds = f" in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
    elif low is not None:
        bounds = f" {'>' if low_open else '>='} {low:g}"
    elif high is not None:
        bounds = f" {'<' if high_open else '<='} {high:g}"
    else:
        bounds = ""
    raise ParameterError(f"{name}={show(value)} must be a finite number{bounds}")


def check_positive(name: str, value, *, allow_none: bool = False):
    """``value`` as a finite ``float > 0`` (see :func:`check_number`)."""
    return check_number(name, value, low=0, low_open=True, allow_none=allow_none)


def check_fraction(name: str, value, *, low_open: bool = False, high_open: bool = False) -> float:
    """``value`` as a ``float`` in ``[0, 1]`` (bounds excluded as asked; see :func:`check_number`)."""
    return check_number(name, value, low=0, high=1, low_open=low_open, high_open=high_open)


def check_choice(name: str, value, choices):
    """``value`` itself when it is one of ``choices``; the message lists them otherwise."""
    if not isinstance(value, (str, int, float, type(None))) or value not in choices:
        raise ParameterError(f"{name}={show(value)} is not one of {', '.join(map(str, choices))}")
    return value


def check_finite(name: str, x, *, ndim: int | None = None, dtype=np.float32) -> np.ndarray:
    """``x`` as a non-empty, finite, real array of ``dtype`` (and ``ndim`` dimensions when given).

    Returns
    -------
    np.ndarray
        ``x`` converted to ``dtype`` (no copy when it already is).

    Raises
    ------
    ParameterError
        Wrong number of dimensions (the message gives the shape), complex or non-numeric values,
        no elements, or NaN/inf values (the message counts them).
    """
    x = np.asarray(x)
    if ndim is not None and x.ndim != ndim:
        raise ParameterError(f"{name} must be {ndim}-D; got {name}.ndim={x.ndim} with shape {x.shape}")
    if np.iscomplexobj(x) or not np.issubdtype(x.dtype, np.number):
        raise ParameterError(f"{name} has dtype {x.dtype}; expected real numbers")
    if x.size == 0:
        raise ParameterError(f"{name} is empty (shape {x.shape})")
    x = x.astype(dtype, copy=False)
    if not np.all(np.isfinite(x)):
        raise ParameterError(
            f"{name} must be finite; it holds {int(np.isnan(x).sum())} NaN and {int(np.isinf(x).sum())} inf values"
        )
    return x


def check_signal(name: str, y, *, min_samples: int = 1, dtype=np.float32) -> np.ndarray:
    """A mono signal ``y [shape=(n_samples,)]`` of at least ``min_samples`` finite samples, as ``dtype``.

    Raises
    ------
    ParameterError
        As :func:`check_finite`, fewer than ``min_samples`` samples (the message gives both counts), or a
        sample beyond :data:`MAX_AMPLITUDE`.
    """
    y = np.asarray(y)
    if y.ndim != 1:
        raise ParameterError(f"{name} must be a mono signal of shape (n_samples,); got shape {y.shape}")
    if y.shape[0] < min_samples:
        raise ParameterError(f"{name} has {y.shape[0]} samples, shorter than one frame ({min_samples} samples)")
    y = check_finite(name, y, dtype=dtype)
    peak = float(np.max(np.abs(y)))
    if peak > MAX_AMPLITUDE:
        raise ParameterError(f"{name} reaches {peak:.4g}, beyond any audio level (|y| <= {MAX_AMPLITUDE:g}, 200 dB "
                             f"above full scale): scale it down first (musiclib.audio.normalize_peak)")
    return y
