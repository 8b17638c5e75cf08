"""Show audio in notebooks: spectrograms, waveforms, beats, loudness, and tables of players.

Plot helpers take ``ax=None``, create a figure only when no axes are given, and return the axes
they drew on, so a notebook composes several into one figure::

    fig, (ax1, ax2) = plt.subplots(2, 1, sharex=True)
    plot_waveform(y, sr=sr, ax=ax1)
    plot_spectrogram(S, sr=sr, hop_length=256, ax=ax2)
    plot_beats(beat_times, ax=ax2)

Audio is shown as ONE table of labelled players (:func:`audio_table`), embedded as Ogg Vorbis
``data:`` URIs (:func:`audio_data_uri`) so an exported HTML page (``build/report/``) keeps playing
and stays light. :func:`setup_notebook` keeps executed notebooks quiet; :func:`headline`,
:func:`listing` and :func:`training_progress` show a result, a long list and Keras training in one
line each.

Notebook: ``00_data_tour`` (and every notebook's listening section).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import html
import io
import logging
import os
import random
import sys
import time
import warnings
from collections.abc import Mapping

import numpy as np

from musiclib.errors import ParameterError, check_finite, check_int, check_signal

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
    "raw_and_processed",
    "audio_data_uri",
    "headline",
    "Headline",
    "listing",
    "Listing",
    "training_progress",
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
    """Prepare a notebook: plotting defaults, seeded random number generators, and no noise.

    Call it first in every notebook, before anything imports TensorFlow: it sets :data:`NOTEBOOK_RC`,
    seeds NumPy, :mod:`random` and Keras/TensorFlow (when imported), silences TensorFlow's logs,
    prints NumPy scalars as plain numbers (``4.05``), and gives each inline figure an ``alt`` text
    made of its titles (the report's image alt).

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
    """
    import matplotlib

    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ParameterError(f"setup_notebook() called with seed={seed!r}; need a non-negative integer")
    seed = int(seed)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # read by TF's C++ logging when TF is imported
    logging.getLogger("tensorflow").setLevel(logging.ERROR)
    with contextlib.suppress(ImportError):  # absl comes with TensorFlow; cheap to import
        import absl.logging

        absl.logging.set_verbosity(absl.logging.ERROR)
    np.set_printoptions(legacy="1.25")  # np.float64(4.05) prints as 4.05
    matplotlib.rcParams.update({**NOTEBOOK_RC, **(rc or {})})
    _figure_alt_text_in_ipython()
    np.random.seed(seed % 2**32)
    random.seed(seed)
    if "keras" in sys.modules:  # seeds Python, NumPy and the backend together
        sys.modules["keras"].utils.set_random_seed(seed)
    elif "tensorflow" in sys.modules:
        sys.modules["tensorflow"].random.set_seed(seed)
    return np.random.default_rng(seed)


def _figure_alt(fig, *, max_chars: int = 300) -> str:
    """``"Figure: <suptitle> (<axes titles>)"``, axis labels when untitled, ``"Figure"`` when unlabelled;
    cut to ``max_chars`` with an ellipsis."""
    sup = fig.get_suptitle().strip() if hasattr(fig, "get_suptitle") else ""
    titles, labels = [], []
    for ax in fig.axes:
        if not ax.get_visible():
            continue
        for loc in ("center", "left", "right"):
            t = ax.get_title(loc=loc).strip()
            if t and t not in titles:
                titles.append(t)
        xl, yl = ax.get_xlabel().strip(), ax.get_ylabel().strip()
        if (xl or yl) and not labels:
            labels.append(f"{yl or 'values'} against {xl or 'index'}")
    if sup and titles:
        text = f"{sup} ({'; '.join(titles)})"
    else:
        text = sup or "; ".join(titles) or "; ".join(labels)
    text = "Figure: " + " ".join(text.split()) if text else "Figure"
    return text if len(text) <= max_chars else text[: max_chars - 1].rstrip() + "\u2026"


def _figure_alt_text_in_ipython() -> None:
    """Wrap IPython's PNG formatter for figures so each PNG carries ``{"alt": _figure_alt(fig)}`` metadata."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    if shell is None or not hasattr(shell, "display_formatter"):
        return
    import matplotlib
    import matplotlib.pyplot as plt
    from matplotlib.figure import Figure

    png = shell.display_formatter.formatters["image/png"]
    try:
        current = png.lookup_by_type(Figure)
    except KeyError:
        backend = matplotlib.get_backend()
        if "inline" not in backend or plt.get_fignums():
            return  # not the inline backend: no figure PNGs to describe
        # the inline backend registers its PNG formatter when matplotlib loads it (at the first
        # figure): load it now, while no figure is open
        plt.switch_backend(backend)
        try:
            current = png.lookup_by_type(Figure)
        except KeyError:
            return
    if getattr(current, "_musiclib_alt", False):
        return

    def with_alt(fig):
        out = current(fig)
        data, meta = out if isinstance(out, tuple) else (out, {})
        if data is None:
            return None
        return data, {**(meta or {}), "alt": _figure_alt(fig)}

    with_alt._musiclib_alt = True
    png.for_type(Figure, with_alt)


# -- plots ---------------------------------------------------------------------------------------


def _axes(ax):
    import matplotlib.pyplot as plt

    return ax if ax is not None else plt.subplots()[1]


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
        Magnitudes (``db=True``; complex input by its magnitude), or values on any scale (``db=False``).
    sr : int
        Sample rate in Hz.
    hop_length : int
        Samples between frames.
    ax : matplotlib.axes.Axes, optional
    y_axis : str or None
        librosa's axis type: ``"log"``, ``"linear"`` (``"hz"``), ``"mel"``, or ``None``.
    db : bool
        Convert to dB relative to the largest magnitude (0 dB at the top), shown down to ``vmin_db``.
    vmin_db : float
        Lowest level shown, in dB below the maximum (``db=True`` only).
    fmin, fmax : float, optional
        Band edges for ``y_axis="mel"``.
    title, colorbar, cmap : optional

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    ParameterError
        ``S`` is not 2-D, holds NaN/inf, or ``sr``/``hop_length`` are not positive.
    """
    import librosa
    import librosa.display

    check_int("sr", sr)
    check_int("hop_length", hop_length)
    S = check_finite("S", np.abs(S) if np.iscomplexobj(S) else S, ndim=2)
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

    Spectrogram-like representations (``linear``, ``log``, ``mel``) get a frequency axis;
    coefficient representations (``dct``, ``raw``, any other) are shown as signed coefficients
    with a symmetric logarithmic colour scale, so small coefficients stay visible.
    Notebook: 01_spectrogram_settings.

    Parameters
    ----------
    frames : np.ndarray [shape=(n_frames, n_features)]
        What ``rep.encode(y)`` returned.
    rep : musiclib.representations.Representation
        The representation that made ``frames``.
    ax, colorbar :
        As in :func:`plot_spectrogram`; returns ``ax``.
    title : str, optional
        Default: the representation's name and main settings.

    Raises
    ------
    ParameterError
        ``frames`` is not 2-D with ``rep.n_features`` columns, or holds NaN/inf.
    """
    import librosa.display
    from matplotlib.colors import SymLogNorm

    frames = check_finite("frames", frames, ndim=2)
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
    title, color : str, optional

    Returns
    -------
    matplotlib.axes.Axes
    """
    import librosa.display

    check_int("sr", sr)
    y = check_finite("y", y, ndim=1)
    ax = _axes(ax)
    librosa.display.waveshow(y, sr=sr, ax=ax, color=color)
    ax.set_ylabel("amplitude")
    return _time_axes(ax, seconds=len(y) / sr, title=title)


def _time_axes(ax, *, seconds: float, title: str | None):
    ax.set_xlim(0, seconds)
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
    color, alpha : optional
    label : str, optional
        Legend label (given to the first line only).

    Returns
    -------
    matplotlib.axes.Axes
    """
    return _plot_times(beat_times, ax=ax, color=color, linestyle="--", label=label, alpha=alpha, what="plot_beats")


def plot_onsets(onset_times, *, ax, color: str = "C2", label: str | None = "onsets", alpha: float = 0.6):
    """Overlay onset positions as dotted vertical lines (see :func:`plot_beats`)."""
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
    y, sr, ax :
        As in :func:`plot_waveform` (``y [shape=(n_samples,)]``, ``sr`` in Hz).
    frame_length, hop_length : int
        RMS window and hop in samples.
    floor_db : float
        Levels below this are drawn at it (silence would be ``-inf``).
    title, label : str, optional

    Returns
    -------
    matplotlib.axes.Axes
    """
    import librosa

    from musiclib.audio import frame_level_db

    check_int("sr", sr)
    check_int("frame_length", frame_length)
    check_int("hop_length", hop_length)
    y = check_finite("y", y, ndim=1)
    level = frame_level_db(y, frame_length=frame_length, hop_length=hop_length, floor_db=floor_db)
    times = librosa.times_like(level, sr=sr, hop_length=hop_length)
    ax = _axes(ax)
    ax.plot(times, level, label=label)
    ax.set_xlabel("Time (s)")
    ax.set_ylabel("RMS level (dBFS)")
    return _time_axes(ax, seconds=len(y) / sr, title=title)


# -- players -------------------------------------------------------------------------------------


#: Peak level :func:`audio_data_uri` normalises clips to (-0.9 dBFS: lossy codecs overshoot a little).
PEAK = 0.9

#: How :func:`audio_data_uri` encodes each format: soundfile format, subtype, MIME type, and the
#: libsndfile compression level (for Vorbis, 0 = best quality; 0.5 is about 60 kbit/s mono at 22 kHz).
AUDIO_FORMATS = {
    "ogg": ("OGG", "VORBIS", "audio/ogg", 0.5),
    "flac": ("FLAC", "PCM_16", "audio/flac", None),
    "wav": ("WAV", "PCM_16", "audio/wav", None),
}


def audio_data_uri(y: np.ndarray, *, sr: int, normalize: bool = True, label: str = "y", format: str = "ogg") -> str:
    """Encode a mono signal as a base64 ``data:`` URI a browser's ``<audio>`` element plays.

    Parameters
    ----------
    y : np.ndarray [shape=(n_samples,)]
    sr : int
        Sample rate in Hz (kept: no resampling).
    normalize : bool
        Scale to a peak of :data:`PEAK` (silence is left silent). Without it, samples beyond
        [-1, 1] are clipped, with a warning.
    label : str
        Names the clip in error messages.
    format : {"ogg", "flac", "wav"}
        Ogg Vorbis (light pages), or lossless 16-bit FLAC or WAV.

    Returns
    -------
    str
        ``"data:audio/ogg;base64,..."`` (or ``audio/flac``, ``audio/wav``).

    Raises
    ------
    ParameterError
        ``y`` is not 1-D, is empty or holds NaN/inf; ``sr`` is not a positive integer; unknown ``format``.
    """
    import soundfile as sf

    check_int("sr", sr)
    if format not in AUDIO_FORMATS:
        raise ParameterError(f"format={format!r} must be one of {sorted(AUDIO_FORMATS)}")
    y = check_signal(f"clip {label!r}", y)
    peak = float(np.max(np.abs(y)))
    if normalize and peak > 1e-6:
        y = y * np.float32(PEAK / peak)
    elif peak > 1.0:
        warnings.warn(f"clip {label!r} peaks at {peak:.3f} > 1 and is clipped; pass normalize=True", stacklevel=3)
        y = np.clip(y, -1.0, 1.0)
    container, subtype, mime, level = AUDIO_FORMATS[format]
    buf = io.BytesIO()
    extra = {} if level is None else {"compression_level": level}
    sf.write(buf, y, int(sr), format=container, subtype=subtype, **extra)
    return f"data:{mime};base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _audio_tag(uri: str) -> str:
    return f'<audio controls preload="none" src="{uri}"></audio>'


def _cell(value) -> str:
    """One table cell's text: floats to 3 significant digits (large ones whole), anything else as ``str``."""
    if isinstance(value, (float, np.floating)):
        return f"{float(value):.3g}" if abs(value) < 1e4 else f"{float(value):.0f}"
    return str(value)


class AudioTable:
    """One table of labelled audio players, rendered by pandas; made by :func:`audio_table`.

    Attributes
    ----------
    rows : list of (label, y, extra)
        ``y [shape=(n_samples,)]`` float32; ``extra`` a dict of further columns.
    sr, title, normalize :
        As given to :func:`audio_table`.
    """

    def __init__(self, rows, *, sr: int, title: str | None = None, normalize: bool = True):
        self.rows, self.sr, self.title, self.normalize = rows, sr, title, normalize
        self._html: str | None = None

    def __len__(self) -> int:
        return len(self.rows)

    @property
    def columns(self) -> list[str]:
        """The extra columns, in the order they first appear."""
        return list(dict.fromkeys(k for _, _, extra in self.rows for k in extra))

    def to_frame(self):
        """The table as a :class:`pandas.DataFrame` indexed by label: the extra columns (missing
        values NaN), then ``"listen"``, each clip as a ``data:`` URI (:func:`audio_data_uri`)."""
        import pandas as pd

        cols = self.columns
        frame = pd.DataFrame(
            [[extra.get(c, np.nan) for c in cols] for _, _, extra in self.rows],
            columns=cols,
            index=pd.Index([str(label) for label, _, _ in self.rows]),
            dtype=object,
        )
        frame["listen"] = [
            audio_data_uri(y, sr=self.sr, normalize=self.normalize, label=str(label)) for label, y, _ in self.rows
        ]
        return frame

    def to_html(self) -> str:
        """The table as HTML: ONE ``<table>`` (pandas' ``Styler``) with an ``<audio>`` player per row."""
        if self._html is not None:
            return self._html
        from pandas.io.formats.style import Styler

        frame = self.to_frame()
        # an id from the players (Ogg streams carry a random serial number, so it varies between runs)
        uuid = hashlib.sha1("".join(frame["listen"]).encode("ascii")).hexdigest()[:10]
        styler = (
            Styler(frame, cell_ids=False)
            .format(_cell, subset=self.columns, na_rep="", escape="html")
            .format(_audio_tag, subset=["listen"])
            .format_index(escape="html", axis=0)
            .format_index(escape="html", axis=1)
            .set_table_attributes('class="musiclib-audio-table"')
            .set_table_styles([{"selector": "th.row_heading", "props": "text-align: left"}])
        )
        if self.title:
            styler = styler.set_caption(html.escape(self.title))
        self._html = styler.to_html(table_uuid=f"audio-{uuid}")
        return self._html

    def _repr_html_(self) -> str:
        return self.to_html()

    def __repr__(self) -> str:
        labels = ", ".join(repr(str(label)) for label, _, _ in self.rows)
        return f"AudioTable({len(self)} clips at {self.sr} Hz: {labels})"


def audio_table(clips, *, sr: int, title: str | None = None, normalize: bool = True) -> AudioTable:
    """A table of labelled players, one row per clip, for listening to A and B side by side.

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
        Renders as ONE HTML ``<table>`` with an ``<audio controls preload="none">`` per row.

    Raises
    ------
    ParameterError
        No clips; a clip that is not 1-D, empty, or holds NaN/inf; a bad ``sr``.
    """
    check_int("sr", sr)
    rows = []
    for label, value in _labelled_clips(clips, what="audio_table"):
        extra = {}
        if isinstance(value, tuple) and len(value) == 2 and isinstance(value[1], Mapping):
            value, extra = value[0], dict(value[1])
        rows.append((label, check_signal(f"clip {label!r}", value), extra))
    return AudioTable(rows, sr=int(sr), title=title, normalize=normalize)


def _labelled_clips(clips, *, what: str) -> list[tuple]:
    """``[(label, clip), ...]`` from a dict or a list of pairs; a ParameterError naming ``what()`` if none or not pairs."""
    items = list(clips.items()) if isinstance(clips, Mapping) else list(clips)
    if not items:
        raise ParameterError(f"{what}() got no clips")
    for item in items:
        if not isinstance(item, (tuple, list)) or len(item) != 2:
            raise ParameterError(f"{what}() needs (label, audio) pairs, got {type(item).__name__}")
    return items


def raw_and_processed(clips, *, sr: int, title: str | None = None, **options) -> AudioTable:
    """Each generated clip raw and post-processed, side by side, with their loudness and true peak.

    The card scores the raw clip, so post-processing (:func:`musiclib.postprocess.postprocess`)
    cannot hide a failure. Both play at their own level. Notebooks: 02-07 (listening sections).

    Parameters
    ----------
    clips : dict or list of pairs
        ``label -> y`` or ``[(label, y), ...]``, ``y [shape=(n_samples,)]`` mono audio.
    sr : int
        Sample rate in Hz.
    title : str, optional
        Caption above the table.
    **options
        Keyword options of :func:`musiclib.postprocess.postprocess`; record them in a clip's sidecar
        with :func:`musiclib.postprocess.postprocess_params`.

    Returns
    -------
    AudioTable
        Rows ``"<label>: raw"`` and ``"<label>: post-processed"`` per clip, with columns ``LUFS``
        and ``true peak (dBTP)``. A raw clip peaking above full scale is scaled in the player only.

    Raises
    ------
    ParameterError
        No clips, a bad clip (not 1-D, empty, NaN/inf), a bad ``sr`` or a bad post-processing option.
    """
    from musiclib.postprocess import loudness, postprocess, true_peak_db

    check_int("sr", sr)
    rows = []
    for label, y in _labelled_clips(clips, what="raw_and_processed"):
        y = check_signal(f"clip {label!r}", y)
        z = postprocess(y, sr=int(sr), **options)
        for kind, x in (("raw", y), ("post-processed", z)):
            peak = float(np.max(np.abs(x)))
            shown = x / np.float32(peak) if peak > 1.0 else x
            rows.append((f"{label}: {kind}", shown, {"LUFS": round(loudness(x, sr=int(sr)), 1),
                                                      "true peak (dBTP)": round(true_peak_db(x), 1)}))
    return AudioTable(rows, sr=int(sr), title=title, normalize=False)


class _Shown:
    """Renders as ``html`` in a notebook and as ``text`` elsewhere."""

    def __init__(self, html: str, text: str):
        self.html, self.text = html, text

    def _repr_html_(self) -> str:
        return self.html

    def __repr__(self) -> str:
        return self.text


def audio_player(y: np.ndarray, *, sr: int, normalize: bool = True):
    """A single embedded player for ``y [shape=(n_samples,)]`` (Ogg Vorbis; see :func:`audio_table`)."""
    sr = check_int("sr", sr)
    y = check_signal("y", y)
    text = f"audio_player({len(y) / sr:.2f} s at {sr} Hz)"
    return _Shown(_audio_tag(audio_data_uri(y, sr=sr, normalize=normalize)), text)


# -- the headline, long lists and training --------------------------------------------------------


class Headline:
    """A notebook's one-sentence result (``<p class="musiclib-headline">``); made by :func:`headline`."""

    def __init__(self, text: str):
        self.text = text

    def _repr_html_(self) -> str:
        return f'<p class="musiclib-headline"><b>Result:</b> {html.escape(self.text)}</p>'

    def __repr__(self) -> str:
        return f"Result: {self.text}"


def headline(text: str) -> Headline:
    """A notebook's headline: one computed sentence that answers its question.

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
    """
    if not isinstance(text, str) or not text.strip():
        raise ParameterError(f"headline() needs a non-empty sentence, got {text!r}")
    return Headline(" ".join(text.split()))


class Listing:
    """A long list shown as its first items and a count; made by :func:`listing`.

    In HTML a ``<details>`` element (the summary line, every item one click away); as text the
    summary line.
    """

    def __init__(self, items: list[str], *, head: int, name: str):
        self.items, self.head, self.name = items, head, name

    def __len__(self) -> int:
        return len(self.items)

    def summary(self) -> str:
        """``"37 files: a, b, c, d, e and 32 more"``."""
        more = len(self.items) - self.head
        text = f"{len(self.items)} {self.name}"
        if not self.items:
            return text
        return f"{text}: {', '.join(self.items[: self.head])}" + (f" and {more} more" if more > 0 else "")

    def _repr_html_(self) -> str:
        summary = html.escape(self.summary())
        if len(self.items) <= self.head:
            return f'<p class="musiclib-listing">{summary}</p>'
        body = "".join(f"<li>{html.escape(item)}</li>" for item in self.items)
        return f'<details class="musiclib-listing"><summary>{summary}</summary><ol>{body}</ol></details>'

    def __repr__(self) -> str:
        return self.summary()

    __str__ = __repr__


def listing(items, *, head: int = 5, name: str = "items") -> Listing:
    """Show a long list (files, settings, clips) as its first ``head`` items and how many there are.

    Parameters
    ----------
    items : iterable
        Each item is shown as ``str(item)`` (a :class:`pathlib.Path` by its name).
    head : int
        How many items the summary line shows (positive).
    name : str
        What the items are, plural (``"files"``).

    Returns
    -------
    Listing

    Raises
    ------
    ParameterError
        ``items`` is not iterable, ``head`` is not a positive integer, or ``name`` is not a string.
    """
    import pathlib

    check_int("head", head)
    if not isinstance(name, str):
        raise ParameterError(f"listing() needs name= to be a string, got {name!r}")
    if isinstance(items, (str, bytes)) or not hasattr(items, "__iter__"):
        raise ParameterError(f"listing() needs an iterable of items, got {type(items).__name__}")
    shown = [item.name if isinstance(item, pathlib.PurePath) else str(item) for item in items]
    return Listing(shown, head=int(head), name=name)


def training_progress(epochs: int, *, label: str = "training"):
    """A Keras callback that shows training as ONE line, updated in place, instead of a log per epoch.

    In a notebook the line is a display each epoch replaces, so the report keeps only the last
    state (``LSTM: epoch 40/40, 52.1 s, loss 0.231, val_loss 0.301``); outside IPython the line is
    printed when training ends. Imports Keras when called. Notebook: 04_lstm and the other Keras ones.

    Parameters
    ----------
    epochs : int
        Epochs ``fit`` will run (positive).
    label : str
        Names the model in the line.

    Returns
    -------
    keras.callbacks.Callback

    Raises
    ------
    ParameterError
        ``epochs`` is not a positive integer.
    """
    import keras

    check_int("epochs", epochs)
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None

    class _Progress(keras.callbacks.Callback):
        def shown(self):
            return _Shown(f'<pre class="musiclib-progress">{html.escape(self.line)}</pre>', self.line)

        def on_train_begin(self, logs=None):
            self.t0 = time.perf_counter()
            self.line = f"{label}: starting ({epochs} epochs)"
            self.handle = None
            if shell is not None:
                from IPython.display import display as ipy_display

                self.handle = ipy_display(self.shown(), display_id=True)

        def on_epoch_end(self, epoch, logs=None):
            seconds = time.perf_counter() - self.t0
            logs = sorted((logs or {}).items())
            metrics = ", ".join(f"{k} {float(v):.4g}" for k, v in logs if np.ndim(v) == 0)
            self.line = f"{label}: epoch {epoch + 1}/{epochs}, {seconds:.1f} s" + (f", {metrics}" if metrics else "")
            if self.handle is not None:
                self.handle.update(self.shown())

        def on_train_end(self, logs=None):
            if self.handle is None:
                print(self.line, flush=True)

    return _Progress()
