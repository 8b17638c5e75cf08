"""Comparing models by the musicality card: within a notebook (02-07) and across them (``08_compare``).

Within a notebook: :func:`card_clips` and :func:`card_frame` (the cards side by side),
:func:`real_continuation` and :func:`first_clips` (the listening table), :func:`plot_frames` and
:func:`plot_onset_strength`, :func:`lag1_correlation`, and :func:`passes`, :func:`failed_checks`,
:func:`check_text`, :func:`check_change`, :func:`check_values` (checks in the words of a conclusion).

Across notebooks (:func:`model_runs`, :func:`ranking`, :func:`verdict`, :func:`time_frame`), one row
per model: the latest saved run (:mod:`musiclib.tools.outputs`) of every approach and
``parameters["model"]``, ``["variant"]`` and ``["clock"]`` (a run that saved several models' clips
together, ``parameters["models"]`` naming each clip's, gives a row per model).
"""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path

import numpy as np

from musiclib.errors import ParameterError, check_int, check_number
from musiclib.evaluation.card import (
    CHECKS, MIN_CLIP_SECONDS, RESULT_COLOURS, RESULT_WORDS, SR, Card, format_value, no_verdict,
)

__all__ = [
    "model_runs", "card_clips", "card_frame", "style_cards", "ranking", "verdict", "time_frame", "checks_passed",
    "passes", "failed_checks", "check_text", "check_change", "check_values", "real_continuation", "first_clips", "plot_frames",
    "plot_onset_strength", "lag1_correlation",
]


def _label(approach: str, model, variant, clock) -> str:
    parts = [approach] + [str(p) for p in (model, variant) if p not in (None, "")]
    if clock is not None:
        parts.append("clock" if clock else "no clock")
    return " · ".join(parts)


def model_runs(root=None, *, sr: int = SR, min_seconds: float = MIN_CLIP_SECONDS,
               mode: str | None = None) -> dict[str, dict]:
    """The latest run of every model of every approach under the outputs root, one entry per row.

    Parameters
    ----------
    root : path, optional
        Outputs root (default: :func:`musiclib.tools.outputs.outputs_root`).
    sr : int
        Sample rate (Hz) the clips are loaded at.
    min_seconds : float
        Shorter clips are left out, and rows with none left.
    mode : str, optional
        Only runs whose ``parameters["mode"]`` is this (runs that recorded no mode are kept).

    Returns
    -------
    dict
        ``label -> {"approach", "model", "variant", "clock", "clips": list of np.ndarray
        [shape=(n_samples,)], "sr", "meta", "run_dir"}`` in approach order, labels such as
        ``"02_linear_regression · ridge · clock"``.
    """
    from musiclib import audio
    from musiclib.tools import outputs

    base = outputs.outputs_root(root)
    if not base.is_dir():
        return {}
    rows: dict[str, dict] = {}
    for approach in sorted(p.name for p in base.iterdir() if p.is_dir() and not p.name.startswith(".")):
        try:
            runs = outputs.list_runs(approach, root=base)
        except ParameterError:  # a folder whose name is no approach
            continue
        mine: dict[str, dict] = {}
        for run_dir in reversed(runs):  # newest first: the first run of a label wins
            try:
                meta = json.loads((run_dir / "meta.json").read_text())
                entries = meta["clips"]
            except (OSError, ValueError, KeyError, TypeError) as e:
                warnings.warn(f"skipping {run_dir}: {e}", stacklevel=2)
                continue
            params = meta.get("parameters") or {}
            if mode is not None and params.get("mode", mode) != mode:
                continue
            models = params.get("models")
            if "model" not in params and isinstance(models, list) and len(models) == len(entries):
                per_clip = [str(m) for m in models]  # several models saved together: a row per clip's model
            else:
                per_clip = [params.get("model")] * len(entries)
            for model in dict.fromkeys(per_clip):
                label = _label(approach, model, params.get("variant"), params.get("clock"))
                if label in mine:
                    continue
                files = [run_dir / e["file"] for e, m in zip(entries, per_clip) if m == model]
                clips = [y for y in (audio.load(f, sr=sr, allow_silent=True)[0] for f in files) if len(y) >= min_seconds * sr]
                if clips:
                    mine[label] = {"approach": approach, "model": model, "variant": params.get("variant"),
                                   "clock": params.get("clock"), "clips": clips, "sr": sr, "meta": meta,
                                   "run_dir": Path(run_dir)}
        # within an approach, in the order the notebook saved them (oldest run first)
        rows.update(sorted(mine.items(), key=lambda kv: runs.index(kv[1]["run_dir"])))
    return rows


def card_clips(clips: dict, *, training, reference, sr: int = SR, seed: int = 0, prefix: str | None = None,
               features: dict | None = None) -> dict[str, Card]:
    """One musicality card per model, all against the same training and reference audio.

    Parameters
    ----------
    clips : dict
        label -> list of np.ndarray [shape=(n_samples,)], each model's clips at ``sr`` Hz.
    training, reference, sr, seed, features :
        As :func:`~musiclib.evaluation.card.musicality_card` (one seed for every model;
        ``features`` defaults to a new cache shared by these cards).
    prefix : str, optional
        Put before each label in the card's caption (the notebook's number, say ``"02"``).

    Returns
    -------
    dict
        label -> :class:`~musiclib.evaluation.card.Card`, in the order of ``clips``.

    Raises
    ------
    ParameterError
        ``clips`` is not a non-empty dict with string labels, a bad ``prefix``, or the card refuses.
    """
    from musiclib.evaluation.card import musicality_card

    if not isinstance(clips, dict) or not clips:
        raise ParameterError(f"clips must be a non-empty dict of label -> list of clips, not {clips!r:.80}")
    bad = [label for label in clips if not isinstance(label, str)]
    if bad:
        raise ParameterError(f"clips: every label must be a string, not {bad[0]!r}")
    if prefix is not None and not isinstance(prefix, str):
        raise ParameterError(f"prefix must be a string or None, not {prefix!r}")
    features = {} if features is None else features
    return {label: musicality_card(c, training=training, reference=reference, sr=sr, seed=seed, features=features,
                                   label=label if prefix is None else f"{prefix} {label}")
            for label, c in clips.items()}


def card_frame(cards: dict[str, Card], *, decode_ceiling: float | None = None, index_name: str = "approach · model"):
    """Cards side by side: one row per label, each check's value, then checks passed and failed.

    Parameters
    ----------
    cards : dict of label -> :class:`~musiclib.evaluation.card.Card`
    decode_ceiling : float, optional
        The representation's :func:`~musiclib.evaluation.sweep.decode_ceiling` (SC dB), added as the
        last column ``"decode ceiling SC dB"``.
    index_name : str
        Name of the index (``"model"`` within one notebook).

    Returns
    -------
    pandas.DataFrame
        Each check's value (NaN where it does not apply), ``passed`` (e.g. ``"9/11"``), ``failed``
        (names), and the decode ceiling when given.
    """
    import pandas as pd

    if not isinstance(index_name, str):
        raise ParameterError(f"index_name must be a string, not {index_name!r}")
    decode_ceiling = check_number("decode_ceiling", decode_ceiling, allow_none=True)
    frame = pd.DataFrame({label: c.summary_row() for label, c in cards.items()}).T
    frame = frame.drop(columns="passed").astype(float)
    frame["passed"] = ["no verdict" if c.refused else f"{checks_passed(c)}/{len(CHECKS)}" for c in cards.values()]
    frame["failed"] = [", ".join(c.failed) or "-" for c in cards.values()]
    if decode_ceiling is not None:
        frame["decode ceiling SC dB"] = decode_ceiling
    frame.index.name = index_name
    return frame


def style_cards(cards: dict[str, Card], *, index_name: str = "approach · model"):
    """:func:`card_frame` coloured by result (green pass, red fail, grey n/a), values to 3 digits.

    Returns
    -------
    pandas.io.formats.style.Styler
    """
    frame = card_frame(cards, index_name=index_name)
    colours = [[f"background-color: {RESULT_COLOURS[c.checks[k]['passed']]}" for k in CHECKS] + ["", ""]
               for c in cards.values()]
    return (frame.style.format({k: format_value for k in CHECKS})
            .apply(lambda _: np.array(colours, dtype=object), axis=None)
            .set_table_attributes('class="musicality-cards"'))


def ranking(cards: dict[str, Card]):
    """The labels ranked: most checks passed first, ties broken by the distribution score before it
    is clipped at 0 (so two cards at 0 are still told apart).

    Returns
    -------
    pandas.DataFrame
        Index: label, best first; columns ``rank``, ``passed``, ``distribution``, ``failed``.
    """
    import pandas as pd

    columns = ["rank", "passed", "distribution", "failed"]
    if not cards:
        return pd.DataFrame(columns=columns)
    frame = pd.DataFrame(
        {
            "passed": [checks_passed(c) for c in cards.values()],
            "distribution": [c.checks["distribution"]["value"] for c in cards.values()],
            "failed": [", ".join(c.failed) or "-" for c in cards.values()],
            "key": [c.checks["distribution"]["detail"].get("unclipped_score", c.checks["distribution"]["value"])
                    for c in cards.values()],
        },
        index=list(cards),
    ).sort_values(["passed", "key"], ascending=[False, True], kind="stable")
    frame.insert(0, "rank", np.arange(1, len(frame) + 1))
    return frame[columns]


def verdict(cards: dict[str, Card], *, baselines: dict[str, Card]) -> str:
    """One computed sentence: which model is best by the card, why, and how it compares with the baselines.

    Parameters
    ----------
    cards : dict of label -> Card
        Each model's card.
    baselines : dict of label -> Card
        Each baseline a model must beat (not a training excerpt, which passes all but copying).

    Returns
    -------
    str
    """
    n = len(CHECKS)
    refused = no_verdict({**cards, **baselines})
    if refused:
        return refused

    def fails(row):
        return "every check" if row.failed == "-" else f"all but {row.failed}"

    base = ranking(baselines).iloc[0] if baselines else None
    if not cards:
        return ("No approach has saved outputs yet; " + (f"the best baseline, {base.name}, passes {base.passed} of {n} "
                f"checks ({fails(base)})." if base is not None else "there is nothing to rank."))
    ranked = ranking(cards)
    top = ranked.iloc[0]
    text = f"Best by the card: {top.name}, passing {top.passed} of {n} checks ({fails(top)})"
    if len(ranked) > 1:
        second = ranked.iloc[1]
        text += (f", more than any other model (next: {second.name}, {second.passed})" if top.passed > second.passed
                 else f", tied on checks with {second.name} and ranked first for frame statistics nearer the held-out music")
    if base is not None:
        verb = "beats" if top.passed > base.passed else "ties with" if top.passed == base.passed else "falls short of"
        text += f"; it {verb} the best baseline, {base.name} ({base.passed} of {n}, {fails(base)})"
    return text + "."


def checks_passed(card: Card) -> float:
    """How many checks ``card`` passed (checks that do not apply count as passed); NaN when it gives no
    verdict (:attr:`~musiclib.evaluation.card.Card.refused`)."""
    return math.nan if card.refused else len(CHECKS) - len(card.failed)


def time_frame(runs: dict[str, dict]):
    """Training and generation time of each row, as recorded in its run's sidecar.

    Parameters
    ----------
    runs : dict
        :func:`model_runs`' result.

    Returns
    -------
    pandas.DataFrame
        Index: label; columns representation, seed, train (s), generate (s), clips, audio (s), run.
    """
    import pandas as pd

    reps = [r["meta"].get("representation") for r in runs.values()]
    return pd.DataFrame(
        {
            "representation": [str(rep.get("name", rep) if isinstance(rep, dict) else rep) for rep in reps],
            "seed": [r["meta"].get("seed") for r in runs.values()],
            "train (s)": [float(r["meta"].get("train_seconds", math.nan)) for r in runs.values()],
            "generate (s)": [float(r["meta"].get("generate_seconds", math.nan)) for r in runs.values()],
            "clips": [len(r["clips"]) for r in runs.values()],
            "audio (s)": [sum(len(y) for y in r["clips"]) / r["sr"] for r in runs.values()],
            "run": [r["meta"].get("run", "") for r in runs.values()],
        },
        index=pd.Index(list(runs), name="approach · model"),
    )


def _check_names(checks, *, one: bool = False) -> tuple[str, ...]:
    if one and not isinstance(checks, str):
        raise ParameterError(f"check must name one card check ({', '.join(CHECKS)}), not {checks!r}")
    names = (checks,) if isinstance(checks, str) else checks if isinstance(checks, (list, tuple)) else ()
    if not names or any(not isinstance(k, str) or k not in CHECKS for k in names):
        raise ParameterError(f"checks must name card checks ({', '.join(CHECKS)}), not {checks!r}")
    return tuple(names)


def passes(card: Card, checks) -> bool:
    """Whether none of ``checks`` fails on ``card`` (a check that does not apply does not fail; a card
    with no verdict passes nothing).

    Parameters
    ----------
    card : Card
    checks : str or sequence of str
        Names in :data:`~musiclib.evaluation.card.CHECKS` (as in every function below).

    Returns
    -------
    bool
    """
    names = _check_names(checks)
    return not card.refused and all(card.checks[k]["passed"] is not False for k in names)


def failed_checks(cards: dict[str, Card], checks) -> dict[str, list[str]]:
    """Which of ``checks`` fail on each card: label -> their names, in the order of ``checks``.

    Parameters
    ----------
    cards : dict of label -> Card
    checks : str or sequence of str

    Returns
    -------
    dict
    """
    names = _check_names(checks)
    return {label: [k for k in names if c.checks[k]["passed"] is False] for label, c in cards.items()}


def check_text(card: Card, checks) -> str:
    """Checks of one card in words: ``"noise 0.41 pass, drone 0.62 FAIL, tempo nan n/a"`` (``"no
    verdict"`` for every check of a card that gives none).

    Parameters
    ----------
    card : Card
    checks : str or sequence of str

    Returns
    -------
    str
    """
    return ", ".join(f"{k} {card.checks[k]['value']:.2f} "
                     + ("no verdict" if card.refused else RESULT_WORDS[card.checks[k]["passed"]])
                     for k in _check_names(checks))


def check_change(before: Card, after: Card, check: str) -> str:
    """One check from one card to another, in words: ``"0.01 (fails) to 0.74 (passes; threshold 0.46)"``
    (or ``no verdict``, or ``not judged`` where the check does not apply).

    Parameters
    ----------
    before, after : Card
        The model without and with the change (the beat clock, say).
    check : str

    Returns
    -------
    str
    """
    (check,) = _check_names(check, one=True)
    for name, c in (("before", before), ("after", after)):
        if not isinstance(c, Card):
            raise ParameterError(f"{name} must be a Card (from musicality_card), not {type(c).__name__}")

    def said(c: Card) -> str:
        result = c.checks[check]
        word = "no verdict" if c.refused else {True: "passes", False: "fails", None: "not judged"}[result["passed"]]
        return f"{result['value']:.2f} ({word}"

    return f"{said(before)}) to {said(after)}; threshold {after.checks[check]['threshold']:.2f})"


def check_values(cards: dict[str, Card], check: str) -> str:
    """One check across cards, with the first card's threshold: ``"VAE 0.31, cVAE 0.42 (pass <= 0.56)"``.

    Parameters
    ----------
    cards : dict of label -> Card
        Not empty.
    check : str

    Returns
    -------
    str
    """
    (check,) = _check_names(check, one=True)
    if not isinstance(cards, dict) or not cards:
        raise ParameterError(f"cards must be a non-empty dict of label -> Card, not {cards!r:.80}")
    first = next(iter(cards.values())).checks[check]
    bound = f" (pass {'>=' if first['rule'] == 'min' else '<='} {first['threshold']:.2f})"
    return ", ".join(f"{label} {c.checks[check]['value']:.2f}" for label, c in cards.items()) + bound


def real_continuation(clips, *, start: int, n_samples: int) -> tuple[str, np.ndarray]:
    """What the real music does after a prime: the first clip longer than ``start`` samples, from there
    (to listen to beside the models' continuations of the same prime).

    Parameters
    ----------
    clips : sequence of musiclib.corpus.Clip
        Candidates in order (e.g. ``held_out.clips``).
    start : int
        Samples of the prime (``n_prime_frames * rep.hop_length``), >= 0.
    n_samples : int
        Samples wanted after it, >= 1 (fewer when the clip ends sooner).

    Returns
    -------
    name : str
    y : np.ndarray [shape=(<= n_samples,)]

    Raises
    ------
    ParameterError
        A bad ``start`` or ``n_samples``, or no clip longer than ``start`` samples.
    """
    start = check_int("start", start, low=0)
    n_samples = check_int("n_samples", n_samples, low=1)
    if isinstance(clips, (str, bytes, np.ndarray)) or not hasattr(clips, "__iter__"):
        raise ParameterError(f"clips must be a sequence of corpus clips, not {type(clips).__name__}")
    for i, clip in enumerate(clips):
        if not (hasattr(clip, "name") and isinstance(getattr(clip, "y", None), np.ndarray)):
            raise ParameterError(f"clips[{i}] must be a corpus Clip (name, y), not {type(clip).__name__}")
        if len(clip.y) > start:
            return clip.name, clip.y[start : start + n_samples]
    raise ParameterError(f"no clip is longer than start={start} samples")


def first_clips(clips: dict, *, real: tuple[str, np.ndarray] | None = None, suffix: str = "") -> dict:
    """The first clip of each model, after the real music they continue: the rows of a listening table.

    Parameters
    ----------
    clips : dict
        label -> non-empty list of np.ndarray [shape=(n_samples,)], each model's clips.
    real : (str, np.ndarray), optional
        :func:`real_continuation`'s result, the first row (``"real: <name> (after the prime)"``).
    suffix : str
        Added to every model's label (its temperature, say: ``" (T=0.7)"``).

    Returns
    -------
    dict
        label -> np.ndarray [shape=(n_samples,)], for :func:`musiclib.display.audio_table`.
    """
    if not isinstance(clips, dict) or not clips:
        raise ParameterError(f"clips must be a non-empty dict of label -> list of clips, not {clips!r:.80}")
    empty = [label for label, c in clips.items() if len(c) == 0]
    if empty:
        raise ParameterError(f"clips: {empty[0]!r} has no clips")
    if not isinstance(suffix, str):
        raise ParameterError(f"suffix must be a string, not {suffix!r}")
    rows = {}
    if real is not None:
        if not (isinstance(real, tuple) and len(real) == 2 and isinstance(real[0], str)
                and isinstance(real[1], np.ndarray) and real[1].ndim == 1):
            raise ParameterError(f"real must be a (name, y) pair from real_continuation, not {real!r:.80}")
        rows[f"real: {real[0]} (after the prime)"] = real[1]
    return rows | {f"{label}{suffix}": c[0] for label, c in clips.items()}


def _stacked_axes(n: int, axes, *, height, what: str, sharex: bool = False) -> list:
    """``axes`` as a list of ``n`` (a ParameterError naming ``what`` otherwise), or a new figure of ``n``
    axes one above the other, ``height`` inches each."""
    import matplotlib.pyplot as plt

    height = check_number("height", height, low=0, low_open=True, high=20)
    if axes is None:
        _, grid = plt.subplots(n, 1, figsize=(11, height * n), sharex=sharex, squeeze=False)
        return list(grid[:, 0])
    axes = list(np.ravel(axes))
    if len(axes) != n:
        raise ParameterError(f"axes: {len(axes)} given for {n} {what}")
    return axes


def plot_frames(frames: dict, rep, *, title: str | None = None, axes=None, height: float = 1.7):
    """Spectrograms one above the other (:func:`musiclib.display.plot_representation`).

    Parameters
    ----------
    frames : dict
        label -> np.ndarray [shape=(n_frames, rep.n_features)], frames in ``rep``'s representation.
    rep : Representation
    title : str, optional
        The figure's title.
    axes : sequence of matplotlib Axes, optional
        One per entry of ``frames``; by default a new figure, ``height`` inches per entry.
    height : float

    Returns
    -------
    list of matplotlib Axes
    """
    from musiclib.display import plot_representation

    if not isinstance(frames, dict) or not frames:
        raise ParameterError(f"frames must be a non-empty dict of label -> frames, not {frames!r:.80}")
    axes = _stacked_axes(len(frames), axes, height=height, what="spectrograms")
    for ax, (label, fr) in zip(axes, frames.items()):
        plot_representation(fr, rep, ax=ax, title=label, colorbar=False)
    fig = axes[0].figure
    if title is not None:
        fig.suptitle(title)
    fig.tight_layout()
    return axes


def plot_onset_strength(clips: dict, *, sr: int, beat_times, bpm: float, axes=None, height: float = 2.3):
    """Each clip's onset strength against a clock, with the clock's beats marked.

    Parameters
    ----------
    clips : dict
        label -> np.ndarray [shape=(n_samples,)], one clip per model.
    sr : int
        Sample rate of the clips in Hz.
    beat_times : np.ndarray [shape=(n_beats,)]
        The clock's beats in seconds from the clips' start (:func:`musiclib.generate.clock_beats`).
    bpm : float
        The clock's tempo, for the legend.
    axes, height :
        As :func:`plot_frames` (a new figure shares the time axis).

    Returns
    -------
    list of matplotlib Axes
    """
    import librosa

    from musiclib.display import plot_beats

    if not isinstance(clips, dict) or not clips:
        raise ParameterError(f"clips must be a non-empty dict of label -> audio, not {clips!r:.80}")
    sr = check_int("sr", sr)
    bpm = check_number("bpm", bpm, low=0, low_open=True)
    axes = _stacked_axes(len(clips), axes, height=height, what="clips", sharex=True)
    for ax, (label, y) in zip(axes, clips.items()):
        env = librosa.onset.onset_strength(y=np.asarray(y, dtype=np.float32), sr=sr)
        ax.plot(librosa.times_like(env, sr=sr), env, lw=0.8)
        plot_beats(beat_times, ax=ax, label=f"clock beats ({bpm:.0f} BPM)")
        ax.set(title=f"{label}: onset strength", ylabel="onset strength")
    axes[0].legend(loc="upper right", fontsize=8)
    axes[-1].set_xlabel("seconds generated")
    axes[0].figure.tight_layout()
    return axes


def lag1_correlation(frames_list) -> float:
    """How predictable a representation's frames are from the one before: the median over features of
    the correlation between a feature's value in a frame and in the next (never across files).

    Parameters
    ----------
    frames_list : list of np.ndarray [shape=(n_frames_i, n_features)]
        One array per file, each of at least 2 frames.

    Returns
    -------
    float
        In [-1, 1]; a feature that never changes counts as 0.
    """
    if not isinstance(frames_list, (list, tuple)) or not frames_list:
        raise ParameterError("frames_list must be a non-empty list of arrays of shape (n_frames, n_features)")
    try:
        arrays = [np.asarray(f, dtype=np.float64) for f in frames_list]
    except (TypeError, ValueError):
        raise ParameterError("frames_list must hold numeric arrays of shape (n_frames, n_features)") from None
    widths = {f.shape[1] if f.ndim == 2 else None for f in arrays}
    if None in widths or len(widths) != 1 or any(len(f) < 2 for f in arrays):
        raise ParameterError(f"frames_list: every array must be 2-D with >= 2 frames and the same width, got shapes "
                             f"{sorted({f.shape for f in arrays})[:3]}")
    if not all(np.isfinite(f).all() for f in arrays):
        raise ParameterError("frames_list holds NaN or infinite values")
    a = np.concatenate([f[:-1] for f in arrays])
    b = np.concatenate([f[1:] for f in arrays])
    a, b = a - a.mean(axis=0), b - b.mean(axis=0)
    norm = np.sqrt((a**2).sum(axis=0) * (b**2).sum(axis=0))
    corr = np.divide((a * b).sum(axis=0), norm, out=np.zeros(a.shape[1]), where=norm > 0)
    return float(np.median(corr))
