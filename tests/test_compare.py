"""The comparison helpers: 08_compare's rows, ranking and verdict, and the generating notebooks' cards,
listening rows and plots."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from musiclib.errors import ParameterError
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


# -- helpers of the generating notebooks (02-07) -----------------------------------------------------


def test_card_frame_adds_the_decode_ceiling_and_names_the_index():
    cards = {"ridge, clock": _card(failed=("rhythm",)), "ridge, no clock": _card()}
    frame = compare.card_frame(cards, decode_ceiling=-18.25, index_name="model")
    assert list(frame.columns) == [*CHECKS, "passed", "failed", "decode ceiling SC dB"]
    assert frame.index.name == "model" and list(frame.index) == ["ridge, clock", "ridge, no clock"]
    assert (frame["decode ceiling SC dB"] == -18.25).all()
    assert compare.card_frame(cards).index.name == "approach · model"  # 08's rows name both
    for bad in (math.nan, math.inf, "loud"):
        with pytest.raises(ParameterError, match="decode_ceiling"):
            compare.card_frame(cards, decode_ceiling=bad)
    with pytest.raises(ParameterError, match="index_name"):
        compare.card_frame(cards, index_name=3)


@pytest.fixture(scope="module")
def songs():
    from musiclib import synth

    # 10-s mixes: three of them are the card's minimum reference (card.MIN_REFERENCE_FILES / _SECONDS)
    return [synth.synthetic_mix(duration=10, bpm=b, seed=s, sr=SR) for s, b in enumerate([100, 112, 124, 136, 118, 130])]


@pytest.mark.slow  # three real cards
def test_card_clips_is_one_card_per_model_against_the_same_audio(songs):
    from musiclib.evaluation.card import musicality_card

    training, reference = songs[2:3], songs[3:]
    clips = {"real": songs[:2], "noise": [0.1 * np.random.default_rng(0).standard_normal(10 * SR) for _ in range(2)]}
    features = {}
    cards = compare.card_clips(clips, training=training, reference=reference, sr=SR, seed=3, prefix="02",
                               features=features)
    assert list(cards) == ["real", "noise"]
    assert cards["real"].label == "02 real" and cards["noise"].label == "02 noise"
    assert {"training", "reference"} <= set(features)  # the shared cache was filled once, for both
    direct = musicality_card(clips["noise"], training=training, reference=reference, sr=SR, seed=3)
    for k in CHECKS:
        a, b = cards["noise"].checks[k]["value"], direct.checks[k]["value"]
        assert (math.isnan(a) and math.isnan(b)) or a == pytest.approx(b), k
    assert cards["real"].checks["noise"]["passed"] and not cards["noise"].checks["noise"]["passed"]


def test_card_clips_passes_each_model_s_clips_and_a_caption(monkeypatch):
    from musiclib.evaluation import card

    calls = []
    monkeypatch.setattr(card, "musicality_card", lambda clips, **kw: calls.append((clips, kw)) or kw["label"])
    a, b, t, r = [np.zeros(3)], [np.ones(3)], [np.full(3, 2.0)], [np.full(3, 3.0)]
    assert compare.card_clips({"LSTM": a, "CNN": b}, training=t, reference=r, sr=SR, seed=4) == {"LSTM": "LSTM",
                                                                                                 "CNN": "CNN"}
    assert [c for c, _ in calls] == [a, b]
    assert calls[0][1]["features"] is calls[1][1]["features"] == {}  # one cache for every model's card
    assert calls[0][1] | {"features": None} == {"training": t, "reference": r, "sr": SR, "seed": 4, "features": None,
                                                "label": "LSTM"}


@pytest.mark.parametrize("clips, match", [({}, "non-empty dict"), ([np.zeros(SR)], "non-empty dict"),
                                          ({1: [np.zeros(SR)]}, "label must be a string")])
def test_card_clips_refuses_what_is_not_a_dict_of_labelled_clips(clips, match, songs):
    with pytest.raises(ParameterError, match=match):
        compare.card_clips(clips, training=songs[2:4], reference=songs[4:], sr=SR)


def test_card_clips_passes_the_card_s_refusals_on(songs):
    with pytest.raises(ParameterError, match="prefix"):
        compare.card_clips({"a": songs[:1]}, training=songs[2:4], reference=songs[4:], sr=SR, prefix=2)
    with pytest.raises(ParameterError):  # a clip shorter than the card's minimum
        compare.card_clips({"a": [songs[0][:100]]}, training=songs[2:4], reference=songs[4:], sr=SR)


def test_checks_in_words():
    cards = {"VAE": _card(failed=("noise", "rhythm"), na=("tempo",)), "cVAE": _card(distribution=0.25)}
    assert compare.passes(cards["cVAE"], ("noise", "drone")) and not compare.passes(cards["VAE"], "noise")
    assert compare.passes(cards["VAE"], ["tempo", "drone"])  # a check that does not apply does not fail
    assert compare.failed_checks(cards, ("noise", "tempo", "rhythm")) == {"VAE": ["noise", "rhythm"], "cVAE": []}
    assert compare.check_text(cards["VAE"], ("noise", "drone", "tempo")) == "noise 1.00 FAIL, drone 1.00 pass, tempo nan n/a"
    assert compare.check_values(cards, "distribution") == "VAE 0.20, cVAE 0.25 (pass <= 0.50)"
    assert compare.check_values(cards, "drone").endswith("(pass >= 0.50)")
    for bad in ("loudness", (), ("noise", "nope"), 3):
        with pytest.raises(ParameterError, match="checks must name card checks"):
            compare.passes(cards["VAE"], bad)
    with pytest.raises(ParameterError, match="cards"):
        compare.check_values({}, "noise")
    refused = _card()
    refused.refused = "2 held-out clips (20 s); the card needs 3 (30 s)"  # too little reference: no verdict
    assert not compare.passes(refused, "noise") and compare.check_text(refused, "noise") == "noise 1.00 no verdict"
    before, after = _card(failed=("rhythm",), distribution=0.25), _card()
    assert compare.check_change(before, after, "rhythm") == "1.00 (fails) to 1.00 (passes; threshold 0.50)"
    assert compare.check_change(cards["VAE"], after, "tempo") == "nan (not judged) to 1.00 (passes; threshold 0.50)"
    assert compare.check_change(refused, after, "noise") == "1.00 (no verdict) to 1.00 (passes; threshold 0.50)"
    for bad in (("rhythm",), "loudness"):
        with pytest.raises(ParameterError, match="check"):
            compare.check_change(before, after, bad)


def _clip(name, n):
    from musiclib.corpus import Clip

    return Clip(path=Path(name), y=np.arange(n, dtype=np.float32), sr=SR, file_sr=SR, channels=1)


def test_real_continuation_is_the_first_long_enough_clip_after_the_prime():
    clips = [_clip("short.wav", 100), _clip("song.ogg", 1000), _clip("other.ogg", 5000)]
    name, y = compare.real_continuation(clips, start=100, n_samples=50)
    assert name == "song.ogg" and np.array_equal(y, np.arange(100, 150))
    assert len(compare.real_continuation(clips, start=900, n_samples=500)[1]) == 100  # what is left of it
    with pytest.raises(ParameterError, match="no clip is longer than start=6000"):
        compare.real_continuation(clips, start=6000, n_samples=10)
    for kw in ({"start": -1, "n_samples": 10}, {"start": 0, "n_samples": 0}, {"start": 1.5, "n_samples": 10},
               {"start": 0, "n_samples": math.nan}):
        with pytest.raises(ParameterError, match="start|n_samples"):
            compare.real_continuation(clips, **kw)


def test_first_clips_rows_of_a_listening_table():
    a, b, r = np.zeros(3), np.ones(3), np.full(3, 2.0)
    rows = compare.first_clips({"LSTM": [a, b], "CNN": [b]}, real=("song.ogg", r), suffix=" (T=0.7)")
    assert list(rows) == ["real: song.ogg (after the prime)", "LSTM (T=0.7)", "CNN (T=0.7)"]
    assert rows["LSTM (T=0.7)"] is a and rows["CNN (T=0.7)"] is b and rows["real: song.ogg (after the prime)"] is r
    assert list(compare.first_clips({"LSTM": [a]})) == ["LSTM"]
    for clips, match in (({}, "non-empty dict"), ({"LSTM": []}, "'LSTM' has no clips")):
        with pytest.raises(ParameterError, match=match):
            compare.first_clips(clips)
    with pytest.raises(ParameterError, match="suffix"):
        compare.first_clips({"LSTM": [a]}, suffix=0.7)


def test_plot_frames_one_spectrogram_per_entry():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from musiclib.generate import default_representation

    rep = default_representation()
    frames = {"real": np.zeros((40, rep.n_features)), "ridge": np.full((30, rep.n_features), -20.0)}
    axes = compare.plot_frames(frames, rep, title="first clips", height=1.7)
    assert [ax.get_title() for ax in axes] == ["real", "ridge"]
    assert axes[0].figure.get_suptitle() == "first clips" and axes[0].figure.get_size_inches()[1] == pytest.approx(3.4)
    fig, given = plt.subplots(2, 1)
    assert compare.plot_frames(frames, rep, axes=given)[1] is given[1]
    with pytest.raises(ParameterError, match="axes: 1 given for 2"):
        compare.plot_frames(frames, rep, axes=[given[0]])
    for bad in ({}, [np.zeros((3, 4))]):
        with pytest.raises(ParameterError, match="frames"):
            compare.plot_frames(bad, rep)
    plt.close("all")


def test_plot_onset_strength_draws_each_clip_s_envelope_and_the_beats():
    import librosa
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from musiclib import synth

    clips = {"ridge, clock": synth.drum_loop(duration=2, sr=SR, bpm=120), "ridge, no clock": np.zeros(2 * SR)}
    axes = compare.plot_onset_strength(clips, sr=SR, beat_times=np.array([0.0, 0.5, 1.0]), bpm=120)
    assert [ax.get_title() for ax in axes] == ["ridge, clock: onset strength", "ridge, no clock: onset strength"]
    line = axes[0].get_lines()[0]
    assert np.allclose(line.get_ydata(), librosa.onset.onset_strength(y=clips["ridge, clock"], sr=SR))
    assert axes[0].get_legend().get_texts()[0].get_text() == "clock beats (120 BPM)"
    assert axes[-1].get_xlabel() == "seconds generated"
    with pytest.raises(ParameterError, match="bpm"):
        compare.plot_onset_strength(clips, sr=SR, beat_times=[0.5], bpm=0)
    with pytest.raises(ParameterError, match="axes"):
        compare.plot_onset_strength(clips, sr=SR, beat_times=[0.5], bpm=120, axes=[axes[0]])
    plt.close("all")


def test_lag1_correlation():
    ramp = np.arange(20.0)[:, None] * np.ones((1, 3))
    alternating = np.where(np.arange(20) % 2, 1.0, -1.0)[:, None] * np.ones((1, 3))
    assert compare.lag1_correlation([ramp]) == pytest.approx(1.0)
    assert compare.lag1_correlation([alternating]) == pytest.approx(-1.0)
    # two files: the pair across the boundary (a jump from 19 down to 0) is never formed
    assert compare.lag1_correlation([ramp, ramp]) == pytest.approx(1.0)
    assert compare.lag1_correlation([np.ones((5, 2))]) == 0.0  # features that never change
    rng = np.random.default_rng(0)
    assert abs(compare.lag1_correlation([rng.standard_normal((4000, 5))])) < 0.05
    for bad in ([], np.ones((5, 2)), [np.ones(5)], [np.ones((1, 2))], [np.ones((5, 2)), np.ones((5, 3))],
                [np.full((5, 2), np.nan)]):
        with pytest.raises(ParameterError, match="frames_list"):
            compare.lag1_correlation(bad)


def test_helpers_name_bad_arguments():
    """Hostile arguments to the listening and headline helpers are musiclib errors naming the argument."""
    from musiclib.corpus import Clip

    clip = Clip(Path("a.wav"), np.zeros(2205, np.float32), 22050, 22050, 1)
    for bad in (0, None, float("nan"), "x", [np.zeros(10)]):
        with pytest.raises(ParameterError, match="clips"):
            compare.real_continuation(bad, start=0, n_samples=10)
    assert compare.real_continuation([clip], start=100, n_samples=10)[1].shape == (10,)
    for bad in (0, "x", [], ("a", "b"), ("a", np.zeros((2, 2)))):
        with pytest.raises(ParameterError, match="real"):
            compare.first_clips({"m": [np.zeros(10)]}, real=bad)
    for bad in (0, None, "x", np.zeros(3)):
        with pytest.raises(ParameterError, match="before"):
            compare.check_change(bad, bad, "rhythm")
    with pytest.raises(ParameterError, match="numeric"):
        compare.lag1_correlation([[["x", "y"], ["z", "w"]]])
