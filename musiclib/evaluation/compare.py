"""Comparing approaches by the musicality card: the rows, the table and the verdict of ``notebooks/08_compare``.

One row per model: the latest saved run of every (approach, model, variant, clock) found under the
outputs root (:mod:`musiclib.tools.outputs`), where model, variant and clock come from the run's
``parameters`` (``parameters["model"]``, ``parameters.get("variant")``, ``parameters.get("clock")``).
A run that saved several models' clips together (``parameters["models"]``, one name per clip) gives
one row per clip. The rows are ranked by the number of card checks they pass, ties broken by the
distribution score (lower is nearer the real music).
"""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path

import numpy as np

from musiclib.errors import ParameterError
from musiclib.evaluation.card import CHECKS, MIN_CLIP_SECONDS, RESULT_COLOURS, SR, Card, format_value, no_verdict

__all__ = ["model_runs", "card_frame", "style_cards", "ranking", "verdict", "time_frame", "checks_passed"]


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
        Clips shorter than this are left out (the card's minimum by default); a row with none left
        is left out.
    mode : str, optional
        Only runs whose ``parameters["mode"]`` is this (``"small"``, ``"demo"``, ``"full"``), so a
        demo comparison never scores a small-mode run (runs that recorded no mode are kept).

    Returns
    -------
    dict
        ``label -> {"approach", "model", "variant", "clock", "clips": list of np.ndarray
        [shape=(n_samples,)], "meta": dict, "run_dir": Path}``, in approach order, labels such as
        ``"04_lstm · CNN"`` or ``"02_linear_regression · ridge · clock"``; ``"sr"`` is ``sr``.
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
        first = len(rows)
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
                if label in rows:
                    continue
                files = [run_dir / e["file"] for e, m in zip(entries, per_clip) if m == model]
                clips = [y for y in (audio.load(f, sr=sr, allow_silent=True)[0] for f in files) if len(y) >= min_seconds * sr]
                if clips:
                    rows[label] = {"approach": approach, "model": model, "variant": params.get("variant"),
                                   "clock": params.get("clock"), "clips": clips, "sr": sr, "meta": meta,
                                   "run_dir": Path(run_dir)}
        # within an approach, in the order the notebook saved them (oldest run first)
        mine = sorted(list(rows.items())[first:], key=lambda kv: runs.index(kv[1]["run_dir"]))
        rows = dict(list(rows.items())[:first] + mine)
    return rows


def card_frame(cards: dict[str, Card]):
    """Cards side by side: one row per label, each check's value, then checks passed and failed.

    Parameters
    ----------
    cards : dict
        label -> :class:`~musiclib.evaluation.card.Card`

    Returns
    -------
    pandas.DataFrame
        Columns: every check in :data:`~musiclib.evaluation.card.CHECKS` (its value; NaN where it
        does not apply), ``passed`` (e.g. ``"9/11"``) and ``failed`` (the failed checks' names).
    """
    import pandas as pd

    frame = pd.DataFrame({label: c.summary_row() for label, c in cards.items()}).T.drop(columns="passed")
    frame = frame.astype(float)
    frame["passed"] = ["no verdict" if c.refused else f"{checks_passed(c)}/{len(CHECKS)}" for c in cards.values()]
    frame["failed"] = [", ".join(c.failed) or "-" for c in cards.values()]
    frame.index.name = "approach · model"
    return frame


def style_cards(cards: dict[str, Card]):
    """:func:`card_frame` coloured by result (green pass, red fail, grey n/a), values to 3 digits.

    Returns
    -------
    pandas.io.formats.style.Styler
    """
    frame = card_frame(cards)
    colours = [[f"background-color: {RESULT_COLOURS[c.checks[k]['passed']]}" for k in CHECKS] + ["", ""]
               for c in cards.values()]
    return (frame.style.format({k: format_value for k in CHECKS})
            .apply(lambda _: np.array(colours, dtype=object), axis=None)
            .set_table_attributes('class="musicality-cards"'))


def ranking(cards: dict[str, Card]):
    """The labels ranked: most checks passed first, ties broken by the distribution score.

    The tie-break uses the score before it is clipped at 0 (below 0: frames nearer the held-out
    music than its own halves are to each other), so two cards at 0 are still told apart.

    Returns
    -------
    pandas.DataFrame
        Index: label, best first; columns ``rank``, ``passed`` (count), ``distribution`` (the card's
        value), ``failed`` (names).
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
    cards : dict
        label -> Card of each model.
    baselines : dict
        label -> Card of each baseline a model must beat (shaped noise and shuffled frames, say;
        not a training excerpt, which passes all but copying by construction).

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
    """How many checks ``card`` passed (checks that do not apply count as passed); NaN when the card gives
    no verdict (:attr:`~musiclib.evaluation.card.Card.refused`: too little reference)."""
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

    def representation(meta):
        rep = meta.get("representation")
        return str(rep.get("name", rep) if isinstance(rep, dict) else rep)

    return pd.DataFrame(
        {
            "representation": [representation(r["meta"]) for r in runs.values()],
            "seed": [r["meta"].get("seed") for r in runs.values()],
            "train (s)": [float(r["meta"].get("train_seconds", math.nan)) for r in runs.values()],
            "generate (s)": [float(r["meta"].get("generate_seconds", math.nan)) for r in runs.values()],
            "clips": [len(r["clips"]) for r in runs.values()],
            "audio (s)": [sum(len(y) for y in r["clips"]) / r["sr"] for r in runs.values()],
            "run": [r["meta"].get("run", "") for r in runs.values()],
        },
        index=pd.Index(list(runs), name="approach · model"),
    )
