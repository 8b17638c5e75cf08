"""The exception family for mistakes a user can make, and the checks that raise it.

Every error musiclib raises on bad input derives from :class:`MusiclibError`, a :class:`ValueError`.
Messages name the file or the parameter and echo the value (``"hop_length=-4 must be a positive
integer"``). The ``check_*`` functions are the one place parameters are validated: each takes the
parameter's name and value and returns the value converted, or raises :class:`ParameterError`.
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
    "check_sr",
    "check_ints",
    "check_frames_list",
    "check_duration",
    "check_size",
    "MAX_AMPLITUDE",
    "MAX_SR",
    "MAX_SAMPLES",
]

#: Largest sample magnitude :func:`check_signal` accepts: 200 dB above full scale, beyond any audio level;
#: larger values overflow float32 in the transforms.
MAX_AMPLITUDE = 1e10

#: Highest sample rate accepted anywhere (Hz): the highest rate audio hardware uses (768 kHz).
MAX_SR = 768_000

#: Most samples musiclib allocates for one signal (2**28: 1 GiB as float32, 3.4 h at 22.05 kHz),
#: checked before allocating, so a huge rate or length is an error, not an out-of-memory crash.
MAX_SAMPLES = 2**28


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

    Attributes ``files``, ``seconds`` (what there is) and ``min_files``, ``min_seconds`` (what is needed).
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
        Not an integer (``bool`` and ``2.0`` are refused), or out of range.
    """
    if value is None and allow_none:
        return None
    if not _is_int(value) or value < low or (high is not None and value > high):
        kind = (f"an integer in [{low}, {high}]" if high is not None
                else "a positive integer" if low == 1 else f"an integer >= {low}")
        raise ParameterError(f"{name}={show(value)} must be {kind}" + (f" ({note})" if note else ""))
    return int(value)


def check_number(name: str, value, *, low: float | None = None, high: float | None = None,
                 low_open: bool = False, high_open: bool = False, allow_none: bool = False):
    """``value`` as a finite ``float`` between ``low`` and ``high`` (either may be ``None``; ``low_open`` /
    ``high_open`` exclude the bound itself).

    Raises
    ------
    ParameterError
        Not a real number, NaN or infinite, or out of range.
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


def check_finite(name: str, x, *, ndim: int | None = None, dtype=np.float32, allow_empty: bool = False,
                 note: str = "") -> np.ndarray:
    """``x`` as a finite, real array of ``dtype`` (no copy when it is one), of ``ndim`` dimensions when given.

    ``note`` ends the message about NaN/inf values (e.g. what to pass to accept them).

    Raises
    ------
    ParameterError
        Wrong number of dimensions, complex or non-numeric values, no elements (unless ``allow_empty``),
        or NaN/inf values (the message counts them); a ragged nested list.
    """
    try:
        x = np.asarray(x)
    except ValueError as e:  # ragged nested sequences
        raise ParameterError(f"{name} is not an array of one shape ({e})") from None
    if ndim is not None and x.ndim != ndim:
        raise ParameterError(f"{name} must be {ndim}-D; got {name}.ndim={x.ndim} with shape {x.shape}")
    if np.iscomplexobj(x) or not np.issubdtype(x.dtype, np.number):
        raise ParameterError(f"{name} has dtype {x.dtype}; expected real numbers")
    if x.size == 0 and not allow_empty:
        raise ParameterError(f"{name} is empty (shape {x.shape})")
    x = x.astype(dtype, copy=False)
    if not np.all(np.isfinite(x)):
        raise ParameterError(
            f"{name} must be finite; it holds {int(np.isnan(x).sum())} NaN and {int(np.isinf(x).sum())} inf values"
            + (f" ({note})" if note else ""))
    return x


def check_signal(name: str, y, *, min_samples: int = 1, dtype=np.float32, need: str = "one frame",
                 note: str = "") -> np.ndarray:
    """A mono signal ``y [shape=(n_samples,)]`` of ``min_samples`` to :data:`MAX_SAMPLES` finite samples, as ``dtype``.

    ``need`` names what ``min_samples`` is (the message reads "shorter than one frame (64 samples)");
    ``note`` ends the message about NaN/inf samples.

    Raises
    ------
    ParameterError
        As :func:`check_finite`, fewer than ``min_samples`` or more than :data:`MAX_SAMPLES` samples (the
        message gives both counts), or a sample beyond :data:`MAX_AMPLITUDE`.
    """
    if not isinstance(y, (np.ndarray, list, tuple)) and not hasattr(y, "__array__"):
        raise ParameterError(f"{name} must be a mono signal, a 1-D numpy array of samples; got {type(y).__name__}")
    y = np.asarray(y)
    if y.ndim != 1:
        raise ParameterError(f"{name} must be a mono signal of shape (n_samples,); got shape {y.shape}")
    if y.shape[0] < min_samples:
        raise ParameterError(f"{name} has 0 samples (empty)" if min_samples == 1 else
                             f"{name} has {y.shape[0]} samples{' (empty)' if not y.shape[0] else ''}, "
                             f"shorter than {need} ({min_samples} samples)")
    if y.shape[0] > MAX_SAMPLES:
        raise ParameterError(f"{name} has {y.shape[0]} samples, more than the {MAX_SAMPLES} musiclib handles at once")
    y = check_finite(name, y, dtype=dtype, note=note)
    peak = float(np.max(np.abs(y)))
    if peak > MAX_AMPLITUDE:
        raise ParameterError(f"{name} reaches {peak:.4g}, beyond any audio level (|y| <= {MAX_AMPLITUDE:g}, 200 dB "
                             f"above full scale): scale it down first (musiclib.audio.normalize_peak)")
    return y


def check_sr(sr, *, name: str = "sr", low: int = 1, allow_none: bool = False):
    """A sample rate in Hz as an ``int`` in ``[low, MAX_SR]`` (see :func:`check_int`)."""
    return check_int(name, sr, low=low, high=MAX_SR, allow_none=allow_none, note="Hz")


def check_ints(name: str, values, *, low: int = 1) -> tuple[int, ...]:
    """One integer ``>= low`` or a non-empty sequence of them (layer widths, filters), as a tuple; else
    :class:`ParameterError`."""
    try:
        out = (values,) if _is_int(values) else tuple(values)
    except TypeError:
        out = ()
    if not out or any(not _is_int(v) or v < low for v in out):
        raise ParameterError(f"{name}={show(values)} must be an integer >= {low} or a non-empty list of them")
    return tuple(int(v) for v in out)


def check_frames_list(name: str, frames_list, *, width: int | None = None) -> list[np.ndarray]:
    """Per-file feature frames as a list of finite float32 ``(n_frames, n_features)`` arrays of one width.

    One 2-D array is taken as a list of one. ``width``: the number of features every array must have
    (default: the first array's).

    Raises
    ------
    ParameterError
        Not a non-empty list of real 2-D arrays with at least one feature, of ``width`` features
        (the message names the index and both widths), or NaN/inf values.
    """
    if isinstance(frames_list, np.ndarray):
        if frames_list.ndim != 2:
            raise ParameterError(f"{name} must be a list of (n_frames, n_features) arrays, "
                                 f"got one array of shape {frames_list.shape}")
        frames_list = [frames_list]
    try:
        frames_list = list(frames_list)
    except TypeError:
        raise ParameterError(f"{name} must be a list of (n_frames, n_features) arrays, "
                             f"got {type(frames_list).__name__}") from None
    if not frames_list:
        raise ParameterError(f"{name} is empty")
    out, first = [], False
    for i, f in enumerate(frames_list):
        f = np.asarray(f)
        if f.ndim != 2 or f.shape[1] == 0 or not np.issubdtype(f.dtype, np.number) or np.iscomplexobj(f):
            raise ParameterError(f"{name}[{i}] has shape {f.shape} and dtype {f.dtype}; need real (n_frames, n_features)")
        if width is None:
            width, first = f.shape[1], True
        if f.shape[1] != width:
            raise ParameterError(f"{name}[{i}] has {f.shape[1]} features (columns), "
                                 + (f"the first has {width}" if first else f"expected {width}"))
        out.append(check_finite(f"{name}[{i}]", f, ndim=2) if f.size else f.astype(np.float32))
    return out


def check_duration(name: str, seconds, *, sr: int) -> float:
    """``seconds`` as a ``float > 0`` whose samples at ``sr`` Hz stay within :data:`MAX_SAMPLES`; else
    :class:`ParameterError` (giving the samples it would take)."""
    seconds = check_positive(name, seconds)
    if seconds * sr > MAX_SAMPLES:
        raise ParameterError(f"{name}={show(seconds)} s is {seconds * sr:.3g} samples at {sr} Hz, more than the "
                             f"{MAX_SAMPLES} musiclib allocates for one signal")
    return seconds


def check_size(n: float, *, what: str, itemsize: int = 4, advice: str = "") -> None:
    """Refuse, before allocating, an array of ``n`` values (``what``, in words) beyond :data:`MAX_SAMPLES`:
    a :class:`ParameterError` naming ``what``, ``n``, its memory (``itemsize`` bytes each) and ``advice``."""
    if n > MAX_SAMPLES:
        raise ParameterError(f"{what} would hold {n:.3g} values ({itemsize * n / 2**30:.1f} GiB), more than the "
                             f"{MAX_SAMPLES} musiclib allocates for one array" + (f"; {advice}" if advice else ""))
