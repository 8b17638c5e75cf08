"""08_compare's helpers: one row per model, a ranking by the card, and a verdict that names the best."""

from __future__ import annotations

import math

import numpy as np
import pytest

from musiclib.evaluation import compare
from musiclib.evaluation.card import CHECKS, Card
from musiclib.tools import outputs

SR = 22050


def _save(root, approach, n_clips, seconds, *, run, **parameters):
    rng = np.random.default_rng(len(run))
    clips = [0.1 * rng.standard_normal(int(s * SR)) for s in ([seconds] * n_clips if np.isscalar(seconds) else seconds)]
    outputs.save_clips(approach, clips, sr=SR, representation={"name": "mel"}, parameters=parameters, seed=0,
                       train_seconds=2.0, generate_seconds=1.0, root=root, run=run)


def test_model_runs_gives_one_row_per_model(tmp_path):
    _save(tmp_path, "04_lstm", 2, 1.5, run="a-old", model="LSTM")
    _save(tmp_path, "04_lstm", 3, 1.5, run="b-new", model="LSTM")  # the newer LSTM run wins
    _save(tmp_path, "04_lstm", 2, 1.5, run="c", model="CNN")
    _save(tmp_path, "02_linear_regression", 2, 1.5, run="d", model="ridge", clock=True)
    _save(tmp_path, "02_linear_regression", 2, 1.5, run="e", model="ridge", clock=False)
    _save(tmp_path, "05_vae", 2, 1.5, run="f", model="VAE", variant="beta=4")
    _save(tmp_path, "03_trees", 3, [1.5, 1.5, 0.5], run="g", models=["tree", "forest", "forest"])
    runs = compare.model_runs(tmp_path, sr=SR)
    assert list(runs) == [
        "02_linear_regression · ridge · clock",
        "02_linear_regression · ridge · no clock",
        "03_trees · tree",
        "03_trees · forest",
        "04_lstm · LSTM",
        "04_lstm · CNN",
        "05_vae · VAE · beta=4",
    ]
    assert len(runs["04_lstm · LSTM"]["clips"]) == 3 and runs["04_lstm · LSTM"]["meta"]["run"] == "b-new"
    assert len(runs["03_trees · forest"]["clips"]) == 1  # its 0.5-s clip is under the card's minimum
    assert runs["02_linear_regression · ridge · no clock"]["clock"] is False
    times = compare.time_frame(runs)
    assert times.loc["04_lstm · CNN", "clips"] == 2 and times.loc["04_lstm · CNN", "audio (s)"] == pytest.approx(3.0)
    assert times.loc["04_lstm · CNN", "train (s)"] == 2.0


def test_model_runs_keeps_only_the_mode_asked_for(tmp_path):
    _save(tmp_path, "04_lstm", 2, 1.5, run="a-demo", model="LSTM", mode="demo")
    _save(tmp_path, "04_lstm", 2, 1.5, run="b-small", model="LSTM", mode="small")  # newer, but small mode
    _save(tmp_path, "04_lstm", 2, 1.5, run="c-small", model="old name", mode="small")
    _save(tmp_path, "04_lstm", 2, 1.5, run="d", model="CNN")  # no mode recorded: kept
    demo = compare.model_runs(tmp_path, sr=SR, mode="demo")
    assert list(demo) == ["04_lstm · LSTM", "04_lstm · CNN"]
    assert demo["04_lstm · LSTM"]["meta"]["run"] == "a-demo"
    assert compare.model_runs(tmp_path, sr=SR)["04_lstm · LSTM"]["meta"]["run"] == "b-small"


def test_model_runs_without_outputs(tmp_path):
    assert compare.model_runs(tmp_path / "nothing") == {}


def test_model_runs_skips_an_unreadable_sidecar(tmp_path):
    _save(tmp_path, "04_lstm", 2, 1.5, run="a", model="LSTM")
    bad = tmp_path / "04_lstm" / "b"
    bad.mkdir()
    (bad / "meta.json").write_text("{not json")
    with pytest.warns(UserWarning, match="skipping"):
        runs = compare.model_runs(tmp_path, sr=SR)
    assert list(runs) == ["04_lstm · LSTM"]


def _card(failed=(), distribution=0.2, unclipped=None, na=()):
    checks = {}
    for name, rule in CHECKS.items():
        passed = None if name in na else name not in failed
        value = distribution if name == "distribution" else (math.nan if name in na else 1.0)
        detail = {"unclipped_score": distribution if unclipped is None else unclipped} if name == "distribution" else {}
        checks[name] = {"value": value, "threshold": 0.5, "passed": passed, "rule": rule, "detail": detail}
    return Card(checks, seconds=6.0, n_clips=2)


def test_ranking_counts_passed_checks_then_distribution():
    cards = {
        "a": _card(failed=("rhythm", "tempo")),
        "b": _card(failed=("rhythm",), distribution=0.4),
        "c": _card(failed=("rhythm",), distribution=0.0, unclipped=-0.3),
        "d": _card(failed=("rhythm",), distribution=0.0, unclipped=-0.1),
    }
    ranked = compare.ranking(cards)
    assert list(ranked.index) == ["c", "d", "b", "a"]
    assert list(ranked["rank"]) == [1, 2, 3, 4]
    assert ranked.loc["c", "passed"] == len(CHECKS) - 1 and ranked.loc["a", "failed"] == "rhythm, tempo"


def test_verdict_names_the_best_and_why():
    base = {"baseline: shuffled frames": _card(failed=("rhythm", "structure"))}
    text = compare.verdict({"04 · LSTM": _card(failed=("tempo",)), "02 · ridge": _card(failed=("noise", "tempo"))},
                           baselines=base)
    n = len(CHECKS)
    assert text.startswith(f"Best by the card: 04 · LSTM, passing {n - 1} of {n} checks (all but tempo)")
    assert "more than any other model (next: 02 · ridge" in text
    assert f"it beats the best baseline, baseline: shuffled frames ({n - 2} of {n}, all but rhythm, structure)" in text
    tied = compare.verdict({"x": _card(), "y": _card()}, baselines=base)
    assert "tied on checks with y" in tied and "every check" in tied
    assert compare.verdict({}, baselines=base).startswith("No approach has saved outputs yet; the best baseline")


def test_card_frame_and_style():
    cards = {"a": _card(failed=("noise",), na=("tempo",)), "b": _card()}
    frame = compare.card_frame(cards)
    assert list(frame.columns) == [*CHECKS, "passed", "failed"]
    assert frame.loc["a", "passed"] == f"{len(CHECKS) - 1}/{len(CHECKS)}" and frame.loc["a", "failed"] == "noise"
    assert math.isnan(frame.loc["a", "tempo"])
    html = compare.style_cards(cards).to_html()
    assert html.count("#f8d0d0") >= 1 and "#eeeeee" in html and "n/a" in html and "np.float64" not in html
