"""Show audio in notebooks: spectrograms, waveforms, beats, loudness, and tables of players.

The last stretch of the path data takes (see ``notebooks/00_data_tour``). Plot helpers follow one
pattern: they take ``ax=None``, create a figure only when no axes are given, and return the axes
they drew on, so a notebook composes several of them into one figure::

    fig, (ax1, ax2) = plt.subplots(2, 1, sharex=True)
    plot_waveform(y, sr=sr, ax=ax1)
    plot_spectrogram(S, sr=sr, hop_length=256, ax=ax2)
    plot_beats(beat_times, ax=ax2)

Audio is shown as ONE table of labelled players (:func:`audio_table`), so a reader compares A and B
side by side. The WAV data is embedded as base64 ``data:`` URIs, so the players keep working in an
exported HTML page (``make demo`` writes ``build/report/``).
"""

from __future__ import annotations

import base64
import html
import io
import random
import warnings
from collections.abc import Mapping

import numpy as np

from musiclib.errors import ParameterError

__all__ = [
    "setup_notebook",
    "plot_spectrogram",
    "plot_representation",
    "plot_waveform",
    "plot_beats",
    "plot_onsets",
    "plot_loudness",
    "AudioTable",
    "audio_table",
    "audio_player",
    "headline",
    "Headline",
    "wav_data_uri",
]

#: matplotlib settings every notebook starts from (see :func:`setup_notebook`).
NOTEBOOK_RC = {
    "figure.figsize": (10.0, 3.5),
    "figure.dpi": 100,
    "savefig.dpi": 100,
    "figure.autolayout": True,
    "axes.grid": False,
    "image.cmap": "magma",
    "axes.spines.top": False,
    "axes.spines.right": False,
}


def setup_notebook(*, seed: int = 0, rc: Mapping | None = None) -> np.random.Generator:
    """Prepare a notebook: plotting defaults and seeded random number generators.

    Call it in every notebook's first code cell. It sets matplotlib's figure size, resolution and
    tight layout (:data:`NOTEBOOK_RC`, updated by ``rc``), seeds NumPy's legacy global generator and
    Python's :mod:`random` with ``seed`` (and Keras/TensorFlow when they are already imported), and
    returns a fresh :class:`numpy.random.Generator` for the notebook's own draws. Nothing depends on
    ``PYTHONHASHSEED``: seeds are integers, never hashes of strings.

    Parameters
    ----------
    seed : int
        Non-negative seed.
    rc : mapping, optional
        Extra matplotlib ``rcParams``.

    Returns
    -------
    np.random.Generator
        ``np.random.default_rng(seed)``.

    Raises
    ------
    ParameterError
        ``seed`` is not a non-negative integer.

    Notes
    -----
    Notebook: every notebook, first code cell (e.g. ``00_data_tour``).

    Examples
    --------
    >>> rng = setup_notebook(seed=0)
    >>> float(rng.random()) == float(np.random.default_rng(0).random())
    True
    """
    import sys

    import matplotlib

    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ParameterError(f"setup_notebook() called with seed={seed!r}; need a non-negative integer")
    seed = int(seed)
    matplotlib.rcParams.update(NOTEBOOK_RC)
    if rc:
        matplotlib.rcParams.update(dict(rc))
    np.random.seed(seed % 2**32)
    random.seed(seed)
    if "keras" in sys.modules:  # seeds Python, NumPy and the backend together
        sys.modules["keras"].utils.set_random_seed(seed)
    elif "tensorflow" in sys.modules:
        sys.modules["tensorflow"].random.set_seed(seed)
    return np.random.default_rng(seed)


# -- plots ---------------------------------------------------------------------------------------


def _axes(ax):
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, ax = plt.subplots()
    return ax


def _check_positive_int(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ParameterError(f"{name}={value!r} must be a positive integer")


def _finite_array(name, x, *, ndim):
    x = np.asarray(x)
    if x.ndim != ndim or x.size == 0:
        raise ParameterError(f"{name} must be a non-empty {ndim}-D array, got shape {x.shape}")
    if not np.issubdtype(x.dtype, np.number) or np.iscomplexobj(x):
        raise ParameterError(f"{name} must hold real numbers, got dtype {x.dtype}")
    if not np.all(np.isfinite(x)):
        raise ParameterError(f"{name} holds {int(np.count_nonzero(~np.isfinite(x)))} NaN or infinite values")
    return x


def plot_spectrogram(
    S: np.ndarray,
    *,
    sr: int,
    hop_length: int,
    ax=None,
    y_axis: str | None = "log",
    db: bool = True,
    title: str | None = None,
    vmin_db: float = -80.0,
    fmin: float | None = None,
    fmax: float | None = None,
    colorbar: bool = True,
    cmap: str = "magma",
):
    """Draw a magnitude spectrogram against time in seconds.

    Parameters
    ----------
    S : np.ndarray [shape=(n_bins or n_mels, n_frames)]
        Magnitudes (``db=True``), or values already in dB or any other scale (``db=False``).
        Complex input is shown by its magnitude.
    sr : int
        Sample rate in Hz.
    hop_length : int
        Samples between frames.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure is made when omitted.
    y_axis : str or None
        librosa's axis type: ``"log"``, ``"linear"`` (``"hz"``), ``"mel"``, or ``None``.
    db : bool
        Convert to dB relative to the largest magnitude (0 dB at the top), shown down to ``vmin_db``.
    title : str, optional
    vmin_db : float
        Lowest level shown, in dB below the maximum (``db=True`` only).
    fmin, fmax : float, optional
        Band edges for ``y_axis="mel"``.
    colorbar : bool
        Add a colour bar beside the axes.
    cmap : str

    Returns
    -------
    matplotlib.axes.Axes
        ``ax`` (or the new one).

    Raises
    ------
    ParameterError
        ``S`` is not 2-D, holds NaN/inf, or ``sr``/``hop_length`` are not positive.

    Notes
    -----
    Notebook: 00_data_tour, 01_spectrogram_settings.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> S = np.abs(np.random.default_rng(0).standard_normal((513, 40)))
    >>> ax = plot_spectrogram(S, sr=22050, hop_length=256)
    """
    import librosa
    import librosa.display

    _check_positive_int("sr", sr)
    _check_positive_int("hop_length", hop_length)
    S = np.asarray(S)
    if np.iscomplexobj(S):
        S = np.abs(S)
    S = _finite_array("S", S, ndim=2)
    if not np.isfinite(vmin_db) or vmin_db >= 0:
        raise ParameterError(f"vmin_db={vmin_db!r} must be a negative level in dB")
    ax = _axes(ax)
    kwargs = {}
    if db:
        S = librosa.amplitude_to_db(np.maximum(S, 0), ref=np.max, top_db=None)
        kwargs.update(vmin=vmin_db, vmax=0.0)
    if y_axis == "mel":
        kwargs.update(fmin=fmin if fmin is not None else 0.0, fmax=fmax if fmax is not None else sr / 2)
    img = librosa.display.specshow(
        S, sr=sr, hop_length=hop_length, x_axis="time", y_axis=y_axis, ax=ax, cmap=cmap, **kwargs
    )
    if colorbar:
        ax.figure.colorbar(img, ax=ax, format="%+.0f dB" if db else "%.3g")
    if title:
        ax.set_title(title)
    return ax


def plot_representation(frames: np.ndarray, rep, *, ax=None, title: str | None = None, colorbar: bool = True):
    """Draw any musiclib representation's frames as an image against time.

    Spectrogram-like representations get a frequency axis (log-frequency for ``linear`` and ``log``,
    mel for ``mel``); magnitudes are shown in dB, representations already in dB as they are.
    Coefficient representations (``dct``, ``raw`` and any other) are shown as signed coefficients
    per frame with a symmetric logarithmic colour scale, so small coefficients stay visible.

    Parameters
    ----------
    frames : np.ndarray [shape=(n_frames, n_features)]
        What ``rep.encode(y)`` returned.
    rep : musiclib.representations.Representation
        The representation that made ``frames``.
    ax : matplotlib.axes.Axes, optional
    title : str, optional
        Default: the representation's name and main settings.
    colorbar : bool

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    ParameterError
        ``frames`` is not 2-D with ``rep.n_features`` columns, or holds NaN/inf.

    Notes
    -----
    Notebook: 01_spectrogram_settings.
    """
    import librosa.display
    from matplotlib.colors import SymLogNorm

    frames = _finite_array("frames", frames, ndim=2)
    n_features = getattr(rep, "n_features", frames.shape[1])
    if frames.shape[1] != n_features:
        raise ParameterError(
            f"frames have {frames.shape[1]} features but {type(rep).__name__} makes {n_features}; "
            "pass frames of shape (n_frames, n_features)"
        )
    name = getattr(rep, "name", type(rep).__name__)
    sr, hop = int(rep.sr), int(rep.hop_length)
    if title is None:
        shown = {k: v for k, v in getattr(rep, "params", {}).items() if k in ("n_fft", "hop_length", "n_mels", "scale", "block_length")}
        title = f"{name} " + ", ".join(f"{k}={v}" for k, v in shown.items())
    X = frames.T
    scale = getattr(rep, "scale", "linear")
    if name in ("linear", "log", "mel"):
        y_axis = "mel" if name == "mel" else "log"
        extra = {"fmin": getattr(rep, "fmin", None), "fmax": getattr(rep, "fmax", None)} if name == "mel" else {}
        if name == "linear" or (name == "mel" and scale == "linear"):
            return plot_spectrogram(X, sr=sr, hop_length=hop, ax=ax, y_axis=y_axis, db=True, title=title, colorbar=colorbar, **extra)
        ax = plot_spectrogram(X, sr=sr, hop_length=hop, ax=ax, y_axis=y_axis, db=False, title=title, colorbar=False, **extra)
        img = ax.collections[-1]
        if scale == "db":  # log-domain frames: show the representation's own floor up to its maximum
            floor = float(getattr(rep, "floor_db", X.min()))
            img.set_clim(max(floor, float(X.max()) - 100.0), float(X.max()))
        if colorbar:
            ax.figure.colorbar(img, ax=ax, format="%+.0f dB" if scale == "db" else "%.3g")
        return ax
    ax = _axes(ax)
    m = float(np.max(np.abs(X))) or 1.0
    norm = SymLogNorm(linthresh=m * 1e-3, linscale=0.5, vmin=-m, vmax=m)
    img = librosa.display.specshow(X, sr=sr, hop_length=hop, x_axis="time", ax=ax, cmap="coolwarm", norm=norm)
    ax.set_ylabel("coefficient")
    if colorbar:
        ticks = [-m, -m / 10, -m / 100, 0.0, m / 100, m / 10, m]
        ax.figure.colorbar(img, ax=ax, ticks=ticks, format="%.2g")
    ax.set_title(title)
    return ax


def plot_waveform(y: np.ndarray, *, sr: int, ax=None, title: str | None = None, color: str = "C0"):
    """Draw a waveform against time in seconds (librosa's adaptive ``waveshow``).

    Parameters
    ----------
    y : np.ndarray [shape=(n_samples,)]
    sr : int
        Sample rate in Hz.
    ax : matplotlib.axes.Axes, optional
    title : str, optional
    color : str

    Returns
    -------
    matplotlib.axes.Axes

    Notes
    -----
    Notebook: 00_data_tour.
    """
    import librosa.display

    _check_positive_int("sr", sr)
    y = _finite_array("y", y, ndim=1)
    ax = _axes(ax)
    librosa.display.waveshow(np.asarray(y, dtype=np.float32), sr=sr, ax=ax, color=color)
    ax.set_ylabel("amplitude")
    ax.set_xlim(0, len(y) / sr)
    if title:
        ax.set_title(title)
    return ax


def _plot_times(times, *, ax, color, linestyle, label, alpha, what):
    if ax is None:
        raise ParameterError(f"{what}() needs the axes to draw on: pass ax=...")
    times = np.asarray(times, dtype=float).ravel()
    if times.size and not np.all(np.isfinite(times)):
        raise ParameterError(f"{what}() got NaN or infinite times")
    for i, t in enumerate(times):
        ax.axvline(t, color=color, linestyle=linestyle, alpha=alpha, linewidth=1.0, label=label if i == 0 else None)
    return ax


def plot_beats(beat_times, *, ax, color: str = "C3", label: str | None = "beats", alpha: float = 0.8):
    """Overlay beat positions as dashed vertical lines.

    Parameters
    ----------
    beat_times : array-like [shape=(n_beats,)]
        Seconds.
    ax : matplotlib.axes.Axes
        Axes with time in seconds on x (e.g. from :func:`plot_spectrogram` or :func:`plot_waveform`).
    color : str
    label : str, optional
        Legend label (given to the first line only).
    alpha : float

    Returns
    -------
    matplotlib.axes.Axes

    Notes
    -----
    Notebook: 00_data_tour.
    """
    return _plot_times(beat_times, ax=ax, color=color, linestyle="--", label=label, alpha=alpha, what="plot_beats")


def plot_onsets(onset_times, *, ax, color: str = "C2", label: str | None = "onsets", alpha: float = 0.6):
    """Overlay onset positions as dotted vertical lines (see :func:`plot_beats`).

    Notes
    -----
    Notebook: 00_data_tour.
    """
    return _plot_times(onset_times, ax=ax, color=color, linestyle=":", label=label, alpha=alpha, what="plot_onsets")


def plot_loudness(
    y: np.ndarray,
    *,
    sr: int,
    ax=None,
    frame_length: int = 2048,
    hop_length: int = 512,
    floor_db: float = -100.0,
    title: str | None = None,
    label: str | None = None,
):
    """Draw the RMS level in dBFS (0 dB = a full-scale square wave) over time.

    Parameters
    ----------
    y : np.ndarray [shape=(n_samples,)]
    sr : int
    ax : matplotlib.axes.Axes, optional
    frame_length, hop_length : int
        RMS window and hop in samples.
    floor_db : float
        Levels below this are drawn at it (silence would be ``-inf``).
    title, label : str, optional

    Returns
    -------
    matplotlib.axes.Axes

    Notes
    -----
    Notebook: 00_data_tour.
    """
    import librosa

    _check_positive_int("sr", sr)
    _check_positive_int("frame_length", frame_length)
    _check_positive_int("hop_length", hop_length)
    y = _finite_array("y", y, ndim=1).astype(np.float32, copy=False)
    rms = librosa.feature.rms(y=y, frame_length=frame_length, hop_length=hop_length)[0]
    level = 20.0 * np.log10(np.maximum(rms, 10 ** (floor_db / 20)))
    times = librosa.times_like(level, sr=sr, hop_length=hop_length)
    ax = _axes(ax)
    ax.plot(times, level, label=label)
    ax.set_xlabel("Time (s)")
    ax.set_ylabel("RMS level (dBFS)")
    ax.set_xlim(0, len(y) / sr)
    if title:
        ax.set_title(title)
    return ax


# -- players -------------------------------------------------------------------------------------


def _check_clip(label, y) -> np.ndarray:
    y = np.asarray(y)
    if y.ndim != 1 or y.size == 0:
        raise ParameterError(f"clip {label!r} must be a non-empty 1-D array (mono), got shape {y.shape}")
    if not np.issubdtype(y.dtype, np.number) or np.iscomplexobj(y):
        raise ParameterError(f"clip {label!r} must hold real samples, got dtype {y.dtype}")
    if not np.all(np.isfinite(y)):
        raise ParameterError(
            f"clip {label!r} holds {int(np.count_nonzero(~np.isfinite(y)))} NaN or infinite samples"
        )
    return y.astype(np.float32, copy=False)


def wav_data_uri(y: np.ndarray, *, sr: int, normalize: bool = True, label: str = "y") -> str:
    """Encode a mono signal as a 16-bit WAV ``data:audio/wav;base64,...`` URI.

    Parameters
    ----------
    y : np.ndarray [shape=(n_samples,)]
    sr : int
    normalize : bool
        Scale to a peak of 0.99 (silence is left silent). Without it, samples beyond [-1, 1] are
        clipped, with a warning.
    label : str
        Names the clip in error messages.

    Returns
    -------
    str
    """
    import soundfile as sf

    _check_positive_int("sr", sr)
    y = _check_clip(label, y)
    peak = float(np.max(np.abs(y)))
    if normalize and peak > 1e-6:
        y = y * np.float32(0.99 / peak)
    elif peak > 1.0:
        warnings.warn(f"clip {label!r} peaks at {peak:.3f} > 1 and is clipped; pass normalize=True", stacklevel=3)
        y = np.clip(y, -1.0, 1.0)
    buf = io.BytesIO()
    sf.write(buf, y, int(sr), format="WAV", subtype="PCM_16")
    return "data:audio/wav;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _audio_tag(uri: str) -> str:
    return f'<audio controls preload="none" src="{uri}"></audio>'


def _fmt(value) -> str:
    if isinstance(value, (float, np.floating)):
        return f"{float(value):.3g}" if abs(value) < 1e4 else f"{float(value):.0f}"
    return html.escape(str(value))


class AudioTable:
    """One HTML table of labelled audio players; made by :func:`audio_table`.

    Attributes
    ----------
    rows : list of (label, y, extra)
        ``y [shape=(n_samples,)]`` float32; ``extra`` a dict of further columns.
    sr : int
    title : str or None
    normalize : bool
    """

    def __init__(self, rows, *, sr: int, title: str | None = None, normalize: bool = True):
        self.rows = rows
        self.sr = sr
        self.title = title
        self.normalize = normalize

    def __len__(self) -> int:
        return len(self.rows)

    @property
    def columns(self) -> list[str]:
        """The extra columns, in the order they first appear."""
        cols: list[str] = []
        for _, _, extra in self.rows:
            cols += [k for k in extra if k not in cols]
        return cols

    def to_html(self) -> str:
        """The table as an HTML string (players embed their WAV data)."""
        cols = self.columns
        head = "".join(f"<th>{html.escape(str(c))}</th>" for c in ["", *cols, "listen"])
        body = []
        for label, y, extra in self.rows:
            cells = [f"<td style='text-align:left'><b>{html.escape(str(label))}</b></td>"]
            cells += [f"<td>{_fmt(extra[c]) if c in extra else ''}</td>" for c in cols]
            uri = wav_data_uri(y, sr=self.sr, normalize=self.normalize, label=str(label))
            cells.append(f"<td>{_audio_tag(uri)}</td>")
            body.append("<tr>" + "".join(cells) + "</tr>")
        caption = f"<caption>{html.escape(self.title)}</caption>" if self.title else ""
        return (
            f"<table class='musiclib-audio-table'>{caption}<thead><tr>{head}</tr></thead>"
            f"<tbody>{''.join(body)}</tbody></table>"
        )

    def _repr_html_(self) -> str:
        return self.to_html()

    def __repr__(self) -> str:
        labels = ", ".join(repr(str(label)) for label, _, _ in self.rows)
        return f"AudioTable({len(self)} clips at {self.sr} Hz: {labels})"


def audio_table(clips, *, sr: int, title: str | None = None, normalize: bool = True) -> AudioTable:
    """A table of labelled players, one row per clip, for listening to A and B side by side.

    Display it in a notebook with ``display(audio_table(...))`` (or as a cell's last expression).

    Parameters
    ----------
    clips : dict or list of pairs
        ``label -> y`` or ``[(label, y), ...]`` where ``y [shape=(n_samples,)]`` is mono audio.
        A value may also be ``(y, {"column": value, ...})`` to add columns (e.g. a measured error).
    sr : int
        Sample rate in Hz of every clip.
    title : str, optional
        Caption above the table.
    normalize : bool
        Scale each clip to the same peak, so quiet and loud clips are heard alike (default).

    Returns
    -------
    AudioTable
        Renders as ONE HTML ``<table>`` with an ``<audio controls>`` per row whose source is an
        embedded 16-bit WAV (``data:audio/wav;base64,...``).

    Raises
    ------
    ParameterError
        No clips; a clip that is not 1-D, empty, or holds NaN/inf; a bad ``sr``.

    Notes
    -----
    Notebook: 00_data_tour (and every notebook's listening section).

    Examples
    --------
    >>> from musiclib.synth import tone
    >>> t = audio_table({"A4": tone(440.0, duration=0.5), "A5": tone(880.0, duration=0.5)}, sr=22050)
    >>> t._repr_html_().count("<audio")
    2
    """
    _check_positive_int("sr", sr)
    items = list(clips.items()) if isinstance(clips, Mapping) else list(clips)
    if not items:
        raise ParameterError("audio_table() got no clips")
    rows = []
    for item in items:
        try:
            label, value = item
        except (TypeError, ValueError):
            raise ParameterError(f"audio_table() needs (label, audio) pairs, got {type(item).__name__}") from None
        extra = {}
        if isinstance(value, tuple) and len(value) == 2 and isinstance(value[1], Mapping):
            value, extra = value[0], dict(value[1])
        rows.append((label, _check_clip(label, value), extra))
    return AudioTable(rows, sr=int(sr), title=title, normalize=normalize)


class _AudioPlayer:
    def __init__(self, y, sr, normalize):
        self.y, self.sr, self.normalize = y, sr, normalize

    def _repr_html_(self) -> str:
        return _audio_tag(wav_data_uri(self.y, sr=self.sr, normalize=self.normalize))

    def __repr__(self) -> str:
        return f"audio_player({len(self.y) / self.sr:.2f} s at {self.sr} Hz)"


def audio_player(y: np.ndarray, *, sr: int, normalize: bool = True):
    """A single embedded player for ``y [shape=(n_samples,)]`` (see :func:`audio_table`).

    Notes
    -----
    Notebook: 00_data_tour.
    """
    _check_positive_int("sr", sr)
    return _AudioPlayer(_check_clip("y", y), int(sr), normalize)



# -- the headline ---------------------------------------------------------------------------------


class Headline:
    """A notebook's one-sentence result; made by :func:`headline`.

    Renders as ``<p class="musiclib-headline">`` (the report's index collects it) and as plain text.
    """

    def __init__(self, text: str):
        self.text = text

    def _repr_html_(self) -> str:
        return f'<p class="musiclib-headline"><b>Result:</b> {html.escape(self.text)}</p>'

    def __repr__(self) -> str:
        return f"Result: {self.text}"


def headline(text: str) -> Headline:
    """A notebook's headline: one computed sentence that answers its question.

    Every notebook shows one in its summary (``display(headline(f"... {value:.1f} dB ..."))``);
    ``scripts/run_notebooks.py`` puts it beside the notebook in the report's index.

    Parameters
    ----------
    text : str
        One sentence, built from the notebook's measured values (non-empty).

    Returns
    -------
    Headline

    Raises
    ------
    ParameterError
        ``text`` is not a non-empty string.

    Examples
    --------
    >>> headline("Ridge passes 7 of 10 checks.")
    Result: Ridge passes 7 of 10 checks.
    """
    if not isinstance(text, str) or not text.strip():
        raise ParameterError(f"headline() needs a non-empty sentence, got {text!r}")
    return Headline(" ".join(text.split()))
