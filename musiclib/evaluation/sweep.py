"""The spectrogram-settings study: what each representation and setting loses, measured.

Every measurement is a round trip with no model in between: ``rep.encode(y)``, then
``rep.decode(frames, ...)``, compared with the original by
:func:`musiclib.evaluation.metrics.compare_audio`. Whatever a setting loses here, every model that
uses it loses too: this is the setting's *decode ceiling*. The comparison averages the dB of fixed
reference STFTs (:data:`REFERENCE_N_FFTS`), whatever the setting's own grid: judged on its own grid,
a sparse grid looks best (few magnitudes are easy to match), and one reference favours its window.

The steps, in the order ``notebooks/01_spectrogram_settings`` takes them:

1. :func:`decode_ceiling` - one clip, one representation: error, time, size (also used beside the
   cards of the generating notebooks);
2. :func:`decode_ceilings` and :func:`ceiling_table` - clips × representations, as DataFrames;
3. :func:`sweep_settings` - a grid of windows, hops, phase methods and iterations on one excerpt;
4. :func:`within_budget` and :func:`recommend` - the stated rule that picks a setting;
5. :func:`plot_ceilings`, :func:`plot_tradeoffs`, :func:`plot_iteration_curve`.
"""

from __future__ import annotations

import itertools
import numbers
import time
from collections.abc import Mapping

import numpy as np
import pandas as pd

from musiclib import representations as _reps
from musiclib.errors import ParameterError, check_int, check_number, check_positive, check_sr
from musiclib.evaluation import metrics as _metrics

__all__ = [
    "REFERENCE_N_FFTS",
    "reconstruction_error",
    "label",
    "decode_ceiling",
    "decode_ceilings",
    "ceiling_table",
    "make_excerpt",
    "sweep_settings",
    "within_budget",
    "recommend",
    "plot_ceilings",
    "plot_tradeoffs",
    "plot_iteration_curve",
]

#: Windows of the reference STFTs every reconstruction is judged on (hop a quarter of each).
REFERENCE_N_FFTS = (512, 1024, 2048)

#: Fade in and out of each piece of :func:`make_excerpt`, in seconds.
EXCERPT_FADE_SECONDS = 0.01


# -- checks (kept minimal: the representation, phase and metrics modules check their own parameters)
def _check_sequence(name, values):
    if isinstance(values, (str, bytes, Mapping)) or not hasattr(values, "__iter__"):
        raise ParameterError(f"{name}={values!r} must be a non-empty sequence")
    values = list(values)
    if not values:
        raise ParameterError(f"{name}=[] must be a non-empty sequence")
    return list(dict.fromkeys(values)) if all(isinstance(v, (str, numbers.Number)) for v in values) else values


# -- 1. one clip, one representation ------------------------------------------------------------
def reconstruction_error(y: np.ndarray, y_hat: np.ndarray, *, n_ffts=REFERENCE_N_FFTS) -> dict:
    """Spectral convergence and log-spectral distance of ``y_hat`` against ``y``, in dB:
    :func:`musiclib.evaluation.metrics.compare_audio` at each window of ``n_ffts``, averaged.

    Parameters
    ----------
    y, y_hat : np.ndarray [shape=(n_samples,)]
        The original and the reconstruction (trimmed or padded to ``len(y)``).
    n_ffts : sequence of int
        Reference windows in samples.

    Returns
    -------
    dict
        ``sc_db`` (lower is better) and ``lsd_db``.
    """
    scores = [_metrics.compare_audio(y, y_hat, n_fft=n_fft) for n_fft in _check_sequence("n_ffts", n_ffts)]
    return {key: float(np.mean([s[key] for s in scores])) for key in ("sc_db", "lsd_db")}


def label(rep) -> str:
    """A short name for a representation: ``"mel-128 1024/256"``, ``"logfreq-48 1024/256"``, ``"log 2048/512"``."""
    name = {"mel": f"mel-{getattr(rep, 'n_mels', '')}", "logfreq": f"logfreq-{getattr(rep, 'bins_per_octave', '')}"}
    text = name.get(rep.name, rep.name)
    return f"{text} {rep.n_fft}/{rep.hop_length}" if hasattr(rep, "n_fft") else f"{text} {rep.hop_length}"


def decode_ceiling(
    y: np.ndarray,
    *,
    sr: int,
    rep,
    method: str = "pghi+fgla",
    n_iter: int = 32,
    nnls_iter: int | None = None,
    seed: int = 0,
    keep_audio: bool = False,
) -> dict:
    """The best a model in ``rep`` can sound on ``y``: encode, decode, and measure, with no model.

    Parameters
    ----------
    y : np.ndarray [shape=(n_samples,)]
        Mono audio at ``sr``, at least one window long and not silent.
    sr : int
        Sample rate in Hz; must equal ``rep.sr``.
    rep : musiclib.representations.Representation
    method, n_iter, seed :
        Phase reconstruction, passed to ``rep.decode`` (``**generate.GENERATION_INVERSION`` for the
        generation path's own ceiling).
    nnls_iter : int, optional
        For filter-bank representations (mel, logfreq): the NNLS inverse's updates (None: the default).
    keep_audio : bool
        Also return the reconstruction as ``y_hat``.

    Returns
    -------
    dict
        ``label`` (:func:`label`), ``representation``, ``params`` (``rep.params``), ``n_fft`` (None
        for non-STFT representations), ``hop_length``, ``method``, ``n_iter``; ``sc_db`` and
        ``lsd_db`` (:func:`reconstruction_error`); ``n_features``, ``frames_per_second``,
        ``features_per_second``; ``encode_seconds``, ``decode_seconds``, ``seconds`` (wall time),
        ``audio_seconds``, ``real_time_factor``; and ``y_hat [shape=(n_samples,)]`` when ``keep_audio``.

    Raises
    ------
    ParameterError
        ``sr`` differs from ``rep.sr``, ``rep`` is not a representation, or a bad signal or setting.
    """
    if not isinstance(rep, _reps.Representation):
        raise ParameterError(f"decode_ceiling() needs a musiclib representation as rep, got {type(rep).__name__}")
    if check_sr(sr) != rep.sr:
        raise ParameterError(f"sr={sr} differs from the representation's sr={rep.sr}")
    y = np.asarray(y)
    kwargs = {"method": method, "n_iter": n_iter, "seed": seed}
    if nnls_iter is not None and hasattr(rep, "to_linear"):  # the filter-bank representations
        kwargs["nnls_iter"] = nnls_iter
    t0 = time.perf_counter()
    frames = rep.encode(y)
    t1 = time.perf_counter()
    y_hat = np.asarray(rep.decode(frames, length=len(y), **kwargs), dtype=np.float32)
    t2 = time.perf_counter()
    n_frames, n_features = frames.shape
    result = {
        "label": label(rep),
        "representation": rep.name,
        "params": rep.params,
        "n_fft": getattr(rep, "n_fft", None),
        "hop_length": int(rep.hop_length),
        "method": method,
        "n_iter": n_iter,
        **reconstruction_error(y, y_hat),
        "n_features": int(n_features),
        "frames_per_second": rep.frames_per_second,
        "features_per_second": n_features * rep.frames_per_second,
        "encode_seconds": t1 - t0,
        "decode_seconds": t2 - t1,
        "seconds": t2 - t0,
        "audio_seconds": len(y) / sr,
        "real_time_factor": len(y) / sr / (t2 - t0),
    }
    if keep_audio:
        result["y_hat"] = y_hat
    return result


def _warm_up(y, rep, **kwargs):
    """Run once on a short slice, untimed, so one-off costs are not charged to the first setting."""
    n = min(len(y), max(4 * getattr(rep, "n_fft", 1024), rep.sr // 4))
    decode_ceiling(y[:n], sr=rep.sr, rep=rep, **kwargs)


# -- 2. clips × representations -----------------------------------------------------------------
def decode_ceilings(
    clips,
    *,
    sr: int,
    reps,
    **options,
) -> pd.DataFrame:
    """:func:`decode_ceiling` of every representation on every clip.

    Parameters
    ----------
    clips : mapping of str to np.ndarray [shape=(n_samples,)], or sequence of arrays
        Mono clips at ``sr`` (a sequence is named ``clip 0``, ``clip 1``, ...).
    sr : int
        Sample rate in Hz.
    reps : sequence of Representation
    **options
        ``method``, ``n_iter``, ``nnls_iter``, ``seed`` of :func:`decode_ceiling`.

    Returns
    -------
    pandas.DataFrame
        One row per (representation, clip), in that order: ``clip`` and :func:`decode_ceiling`'s keys.
    """
    clips = dict(clips) if isinstance(clips, Mapping) else {f"clip {i}": c for i, c in enumerate(_check_sequence("clips", clips))}
    reps = _check_sequence("reps", reps)
    if not clips:
        raise ParameterError("decode_ceilings() got no clips")
    if "keep_audio" in options:
        raise ParameterError("decode_ceilings() keeps no audio: call decode_ceiling(keep_audio=True) on one clip")
    _warm_up(np.asarray(next(iter(clips.values()))), reps[0], **options)
    return pd.DataFrame([
        {"clip": name, **decode_ceiling(y, sr=sr, rep=rep, **options)}
        for rep, (name, y) in itertools.product(reps, clips.items())
    ])


def ceiling_table(ceilings: pd.DataFrame) -> pd.DataFrame:
    """One row per representation, indexed by ``label``: :func:`decode_ceilings`' size columns, the
    median ``sc_db`` and ``lsd_db`` over clips, ``sc_worst_db``, ``sc_best_db``, and
    ``real_time_factor`` (all the audio over all the time).

    Parameters
    ----------
    ceilings : pandas.DataFrame
        :func:`decode_ceilings`' rows.

    Returns
    -------
    pandas.DataFrame
    """
    if not isinstance(ceilings, pd.DataFrame) or ceilings.empty:
        raise ParameterError("ceiling_table() needs the DataFrame of decode_ceilings()")
    groups = ceilings.groupby("label", sort=False)
    table = groups[["representation", "params", "n_fft", "hop_length", "n_features", "frames_per_second",
                    "features_per_second"]].first()
    table["sc_db"] = groups["sc_db"].median()
    table["sc_worst_db"] = groups["sc_db"].max()
    table["sc_best_db"] = groups["sc_db"].min()
    table["lsd_db"] = groups["lsd_db"].median()
    table["real_time_factor"] = groups["audio_seconds"].sum() / groups["seconds"].sum()
    return table


# -- 3. a grid of settings on one excerpt -------------------------------------------------------
def make_excerpt(clips, *, sr: int, duration: float = 10.0, piece_seconds: float = 2.5) -> np.ndarray:
    """A study excerpt: the loudest ``piece_seconds`` of each clip in turn (a shorter clip whole),
    cycling through the clips until ``duration``, each piece faded in and out over
    :data:`EXCERPT_FADE_SECONDS` so that the joins add no clicks.

    Parameters
    ----------
    clips : sequence of np.ndarray [shape=(n_samples,)]
        Mono clips at ``sr``; silent clips are skipped.
    sr : int
        Sample rate in Hz.
    duration, piece_seconds : float
        Length of the excerpt, and the longest piece taken from one clip, in seconds.

    Returns
    -------
    y : np.ndarray [shape=(round(duration * sr),)], float32

    Raises
    ------
    ParameterError
        Bad durations, a clip that is not mono, or every clip silent.
    """
    from musiclib import audio as _audio

    sr = check_sr(sr)
    duration = check_positive("duration", duration)
    piece_seconds = check_positive("piece_seconds", piece_seconds)
    n_fade = max(1, int(round(EXCERPT_FADE_SECONDS * sr)))
    ramp = (0.5 - 0.5 * np.cos(np.pi * (np.arange(n_fade) + 0.5) / n_fade)).astype(np.float32)
    pieces = []
    for i, c in enumerate(clips):
        c = np.asarray(c, dtype=np.float32)
        if c.ndim != 1:
            raise ParameterError(f"make_excerpt() needs mono clips, clip {i} has shape {c.shape}")
        found = _audio.loud_fragments(c, sr=sr, duration=piece_seconds, n=1) if len(c) / sr > piece_seconds else []
        piece = (found[0][1] if found else c[: int(round(piece_seconds * sr))]).copy()
        if np.any(piece) and len(piece) > 2 * n_fade:
            piece[:n_fade] *= ramp
            piece[-n_fade:] *= ramp[::-1]
            pieces.append(piece)
    if not pieces:
        raise ParameterError("make_excerpt() got no clips with sound (longer than two fades)")
    n = int(round(duration * sr))
    y = np.concatenate(pieces * (n // sum(map(len, pieces)) + 1))[:n]
    y[-min(n_fade, n):] *= ramp[::-1][-min(n_fade, n):]  # the last piece may be cut short
    return y


def _plan(representations, n_ffts, hop_lengths, methods, n_iters, *, sr):
    """The grid's (representation, method, n_iter) in run order; hops over half the window are left out
    (too little overlap), and "pghi" runs once, at n_iter 0.
    """
    plan = []
    for spec, n_fft in itertools.product(representations, n_ffts):
        params = {"name": spec} if isinstance(spec, str) else dict(spec)
        if "name" not in params:
            raise ParameterError(f"representation {spec!r} has no 'name'")
        name = params.pop("name")
        for hop in hop_lengths or (n_fft // 4,):
            if hop <= n_fft // 2:
                rep = _reps.make_representation(name, sr=sr, n_fft=n_fft, hop_length=hop, **params)
                plan += [(rep, m, k) for m in methods for k in ((0,) if m == "pghi" else n_iters)]
    if not plan:
        raise ParameterError(f"no setting has a hop of at most half its window (n_ffts={n_ffts}, hop_lengths={hop_lengths})")
    return plan


def sweep_settings(
    y: np.ndarray,
    *,
    sr: int,
    n_ffts=(256, 512, 1024, 2048, 4096),
    hop_lengths=None,
    representations=("linear",),
    methods=("pghi+fgla",),
    n_iters=(32,),
    seed: int = 0,
    keep_audio: bool = False,
) -> pd.DataFrame:
    """:func:`decode_ceiling` of ``y`` on the grid representations × n_ffts × hop_lengths × methods × n_iters.

    Parameters
    ----------
    y : np.ndarray [shape=(n_samples,)]
        The excerpt, mono, not silent, at least as long as the longest window.
    sr : int
        Sample rate in Hz.
    n_ffts : sequence of int
        Window lengths in samples, powers of two >= 16.
    hop_lengths : sequence of int, optional
        Hops in samples (None: a quarter of each window); hops over half the window are left out.
    representations : sequence of str or dict
        Names (``"linear"``, ...) or parameter dicts (``{"name": "mel", "n_mels": 128}``).
    methods : sequence of str
        Phase methods from :data:`musiclib.phase.METHODS` (``"pghi"`` runs at 0 iterations only).
    n_iters : sequence of int
    seed, keep_audio :
        As :func:`decode_ceiling`.

    Returns
    -------
    pandas.DataFrame
        One row per setting, in grid order, with :func:`decode_ceiling`'s keys.

    Examples
    --------
    >>> from musiclib import synth
    >>> y = synth.synthetic_mix(duration=1.0, sr=22050)
    >>> rows = sweep_settings(y, sr=22050, n_ffts=(512, 1024), hop_lengths=(128, 256, 512), n_iters=(4,))
    >>> rows[["n_fft", "hop_length"]].values.tolist()
    [[512, 128], [512, 256], [1024, 128], [1024, 256], [1024, 512]]
    """
    sr = check_sr(sr)
    n_ffts = [check_int("n_ffts", n, low=16) for n in _check_sequence("n_ffts", n_ffts)]
    hop_lengths = None if hop_lengths is None else [check_int("hop_lengths", h, low=1) for h in _check_sequence("hop_lengths", hop_lengths)]
    plan = _plan(_check_sequence("representations", representations), n_ffts, hop_lengths,
                 _check_sequence("methods", methods), _check_sequence("n_iters", n_iters), sr=sr)
    _warm_up(np.asarray(y), plan[0][0], method=plan[0][1], n_iter=min(plan[0][2], 2), seed=seed)
    return pd.DataFrame([
        decode_ceiling(y, sr=sr, rep=rep, method=method, n_iter=n_iter, seed=seed, keep_audio=keep_audio)
        for rep, method, n_iter in plan
    ])


# -- 4. the rule --------------------------------------------------------------------------------
def within_budget(
    rows: pd.DataFrame,
    *,
    max_features: int | None = None,
    max_frames_per_second: float | None = None,
    min_real_time_factor: float | None = None,
    representations=None,
) -> pd.DataFrame:
    """The rows of a sweep or a ceiling table that fit the budgets (None: no limit).

    Parameters
    ----------
    rows : pandas.DataFrame
        :func:`sweep_settings`' rows or a :func:`ceiling_table`.
    max_features : int, optional
        Most features per frame (what a model predicts at each step).
    max_frames_per_second : float, optional
        Most frames (a sequence model's steps) per second of audio.
    min_real_time_factor : float, optional
        Least seconds of audio per second of encode + decode time.
    representations : sequence of str, optional
        Only these representation names.

    Returns
    -------
    pandas.DataFrame
    """
    over = _over_budget(rows, max_features=max_features, max_frames_per_second=max_frames_per_second,
                        min_real_time_factor=min_real_time_factor, representations=representations)
    return rows[~np.any([np.zeros(len(rows), bool), *over.values()], axis=0)]


def _over_budget(rows, *, max_features=None, max_frames_per_second=None, min_real_time_factor=None,
                 representations=None) -> dict:
    """For each budget given, what it excludes (in words) and which rows (a boolean Series)."""
    if not isinstance(rows, pd.DataFrame):
        raise ParameterError(f"the rule needs a DataFrame of settings, got {type(rows).__name__}")
    over = {}
    for text, column, name, limit, sign in (
            ("more than {} features per frame", "n_features", "max_features", max_features, 1),
            ("more than {} frames per second", "frames_per_second", "max_frames_per_second", max_frames_per_second, 1),
            ("slower than {}× real time", "real_time_factor", "min_real_time_factor", min_real_time_factor, -1)):
        if check_positive(name, limit, allow_none=True) is not None:
            over[text.format(f"{limit:g}")] = sign * rows[column] > sign * limit
    if representations is not None:
        names = _check_sequence("representations", representations)
        over[f"not one of {', '.join(names)}"] = ~rows["representation"].isin(names)
    return over


def _describe(row) -> str:
    return (
        f"{row['label'] if 'label' in row else row.name} ({row['n_features']} features × {row['frames_per_second']:.1f} frames/s): "
        f"SC {row['sc_db']:.1f} dB, LSD {row['lsd_db']:.1f} dB, {row['real_time_factor']:.0f}× real time"
    )


def recommend(rows: pd.DataFrame, *, tolerance_db: float = 1.0, **budgets) -> dict:
    """Pick a setting by a stated rule: among the rows within the budgets (:func:`within_budget`), those
    within ``tolerance_db`` of the best ``sc_db`` tie (smaller differences do not hold across
    excerpts), and the tie with the fewest ``features_per_second`` wins.

    Parameters
    ----------
    rows : pandas.DataFrame
        :func:`sweep_settings`' rows or a :func:`ceiling_table`.
    tolerance_db : float
        SC differences up to this many dB count as ties.
    **budgets :
        :func:`within_budget`'s keywords.

    Returns
    -------
    dict
        ``setting`` (the chosen row, a Series), ``reason`` (the rule and its numbers in sentences,
        with the budgets that leave out the best row of all), ``n_candidates`` (rows within the
        budgets), ``best_sc_db`` (the best SC within them), ``best_overall`` (the best row of all).

    Raises
    ------
    ParameterError
        A bad budget or tolerance, or no row within the budgets.
    """
    check_number("tolerance_db", tolerance_db, low=0)
    over = _over_budget(rows, **budgets)
    fits = within_budget(rows, **budgets)
    stated = ", ".join(f"{k}={v}" for k, v in budgets.items() if v is not None) or "no budgets"
    if fits.empty:
        raise ParameterError(f"recommend(): none of the {len(rows)} settings fits the budgets ({stated})")
    best = float(fits["sc_db"].min())
    ties = fits[fits["sc_db"] <= best + tolerance_db]
    choice = ties.sort_values(["features_per_second", "sc_db"], kind="stable").iloc[0]
    reason = (
        f"Among the {len(fits)} of {len(rows)} settings within the budgets ({stated}), the best SC is "
        f"{best:.1f} dB; of the {len(ties)} within {tolerance_db:g} dB of it, the one with the fewest features "
        f"per second is {_describe(choice)}."
    )
    overall = rows.loc[rows["sc_db"].idxmin()]
    limits = [text for text, excluded in over.items() if excluded.loc[overall.name]]
    if limits:
        reason += f" The best of all is left out by the budgets ({'; '.join(limits)}): {_describe(overall)}."
    return {"setting": choice, "reason": reason, "n_candidates": len(fits), "best_sc_db": best, "best_overall": overall}


# -- 5. plots -----------------------------------------------------------------------------------
def _axes(ax, **kwargs):
    import matplotlib.pyplot as plt

    return plt.subplots(**kwargs)[1] if ax is None else ax


def _ticks(ax, values, *, scale):
    """A log (base 2) or symlog x axis labelled at ``values`` as plain numbers."""
    values = sorted({int(v) for v in values})
    ax.set_xscale(scale, base=2, **({"linthresh": 4} if scale == "symlog" else {}))
    ax.set_xticks(values, [str(v) for v in values], minor=False)
    ax.set_xticks([], minor=True)


def plot_ceilings(table: pd.DataFrame, *, ax=None):
    """Decode ceiling against features per frame: one point per representation, the bar spanning
    its best and worst clip.

    Parameters
    ----------
    table : pandas.DataFrame
        A :func:`ceiling_table`.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib Axes
    """
    ax = _axes(ax, figsize=(8, 4.5))
    for i, (name, group) in enumerate(table.groupby("representation", sort=False)):
        err = [group["sc_db"] - group["sc_best_db"], group["sc_worst_db"] - group["sc_db"]]
        ax.errorbar(group["n_features"], group["sc_db"], yerr=err, fmt="o", capsize=3, color=f"C{i}", label=name)
        for text, row in group.iterrows():
            ax.annotate(text, (row["n_features"], row["sc_db"]), xytext=(4, 4), textcoords="offset points", fontsize=7)
    _ticks(ax, [2**k for k in range(4, 16) if table["n_features"].min() / 2 < 2**k < 2 * table["n_features"].max()],
           scale="log")
    ax.set(xlabel="features per frame (log scale)", ylabel="SC vs the true magnitude (dB)",
           title="decode ceiling: median over clips, bars from best to worst clip")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    return ax


def plot_tradeoffs(rows: pd.DataFrame, *, axes=None):
    """Error (SC), speed (real-time factor) and size (features per second) against window length, one
    line per hop (and representation, method, iterations).

    Parameters
    ----------
    rows : pandas.DataFrame
        :func:`sweep_settings`' rows.
    axes : sequence of 3 matplotlib Axes, optional

    Returns
    -------
    np.ndarray of 3 Axes
    """
    axes = np.ravel(_axes(axes, ncols=3, figsize=(15, 4.2), constrained_layout=True))
    if axes.size != 3:
        raise ParameterError(f"plot_tradeoffs() needs 3 axes, got {axes.size}")
    keys = ["representation", "hop_length", "method", "n_iter"]
    for i, (key, group) in enumerate(rows.sort_values("n_fft").groupby(keys, sort=False)):
        kw = {"marker": "o", "ms": 3, "color": f"C{i % 10}", "label": f"{key[0]} hop {key[1]}, {key[2]}×{key[3]}"}
        for ax, column in zip(axes, ("sc_db", "real_time_factor", "features_per_second")):
            ax.plot(group["n_fft"], group[column], **kw)
    titles = ("error (SC vs the true magnitude, dB)", "speed (× real time, encode + decode)",
              "size (features per second of audio)")
    for ax, title in zip(axes, titles):
        _ticks(ax, rows["n_fft"], scale="log")
        ax.set(xlabel="window n_fft (samples)", title=title)
        ax.grid(True, alpha=0.3)
    axes[1].set_yscale("log")
    axes[2].set_yscale("log")
    axes[0].legend(fontsize=7)
    return axes


def plot_iteration_curve(rows: pd.DataFrame, *, ax=None):
    """Spectral convergence against phase iterations, one line per method (a method that does not
    iterate as a dashed level).

    Parameters
    ----------
    rows : pandas.DataFrame
        :func:`sweep_settings`' rows at one window and hop.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib Axes
    """
    ax = _axes(ax, figsize=(7, 4))
    for i, (method, group) in enumerate(rows.sort_values("n_iter").groupby("method", sort=False)):
        if group["n_iter"].nunique() > 1:
            ax.plot(group["n_iter"], group["sc_db"], marker="o", ms=3, color=f"C{i}", label=method)
        else:
            ax.axhline(group["sc_db"].iloc[0], ls="--", color=f"C{i}", label=f"{method} (no iterations)")
    _ticks(ax, rows["n_iter"], scale="symlog")
    ax.set(xlim=(0, max(1, rows["n_iter"].max())), xlabel="phase iterations", ylabel="SC (dB)",
           title="error vs iterations")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    return ax
