"""The musicality card: real music passes every check, each named failure fails its check.

The calibration cases of the issue are tests here: held-out (synthetic) music passes everything;
white noise fails ``noise``, shaped noise fails ``distribution`` and/or ``noise``, a sustained chord
fails ``drone``, an exponentially growing signal fails ``blowup``, silence fails ``dropout``, a
verbatim training excerpt fails ``copying`` and identical clips fail ``diversity``. A last test, run
only when the default corpus is present, repeats the calibration on the real Sonic Pi loops.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from musiclib import synth
from musiclib.evaluation import baselines, card
from musiclib.errors import MusiclibError, ParameterError

SR = 22050
SECONDS = 4.0


def _mixes(bpms, seed0):
    return [synth.synthetic_mix(duration=SECONDS, sr=SR, bpm=b, seed=seed0 + i) for i, b in enumerate(bpms)]


@pytest.fixture(scope="module")
def music():
    """Synthetic music in three disjoint sets, different tempi and seeds for each clip."""
    return {
        "training": _mixes([96, 112, 128], 0),
        "reference": _mixes([104, 120, 136], 10),
        "held_out": _mixes([100, 116, 132], 20),
    }


@pytest.fixture(scope="module")
def cards(music):
    """The card of every calibration case, against the same training and reference (features shared)."""
    cache: dict = {}
    cases = card.failure_cases(music["training"], music["held_out"], sr=SR, seed=0)
    return {
        name: card.musicality_card(clips, training=music["training"], reference=music["reference"], sr=SR, features=cache)
        for name, clips in cases.items()
    }


def test_held_out_music_passes_every_check(cards):
    c = cards["real"]
    assert c.passed, str(c)
    assert all(v["passed"] is True for v in c.checks.values()), str(c)


@pytest.mark.parametrize(
    "case, named",
    [
        ("white_noise", {"noise"}),
        ("shaped_noise", {"distribution", "noise"}),
        ("chord", {"drone"}),
        ("growing", {"blowup"}),
        ("silence", {"dropout"}),
        ("excerpt", {"copying"}),
        ("identical", {"diversity"}),
    ],
)
def test_failure_case_fails_its_named_check(cards, case, named):
    c = cards[case]
    assert not c.passed
    assert named & set(c.failed), f"{case} should fail one of {named}:\n{c}"


def test_white_noise_and_chord_have_no_rhythm(cards):
    for case in ("white_noise", "chord"):
        assert "rhythm" in cards[case].failed, str(cards[case])


def test_nonfinite_samples_are_a_blowup(music):
    y = music["held_out"][0].copy()
    y[1000:1010] = np.nan
    y[2000] = np.inf
    c = card.musicality_card([y, music["held_out"][1]], training=music["training"], reference=music["reference"], sr=SR)
    assert c.checks["blowup"]["value"] == math.inf
    assert c.checks["blowup"]["passed"] is False
    assert c.checks["blowup"]["detail"]["nonfinite_samples"][0] == 11


def test_unnormalised_growth_clips(music):
    t = np.arange(int(SECONDS * SR)) / SR
    y = (np.sin(2 * np.pi * 330 * t) * np.exp(3 * t) * 0.01).astype(np.float32)  # 52 dB up, peak 1.6
    c = card.musicality_card([np.clip(y, -1, 1)], training=music["training"], reference=music["reference"], sr=SR)
    assert {"blowup", "clipping"} <= set(c.failed)


def test_baselines_are_caught(music):
    tr, ref = music["training"], music["reference"]
    durs = [SECONDS] * 3
    noise = card.musicality_card(baselines.shaped_noise(tr, sr=SR, durations=durs), training=tr, reference=ref, sr=SR)
    shuffled = card.musicality_card(baselines.shuffled_frames(tr, sr=SR, durations=durs), training=tr, reference=ref, sr=SR)
    excerpt = card.musicality_card(baselines.training_excerpt(tr, sr=SR, durations=durs), training=tr, reference=ref, sr=SR)
    assert {"distribution", "noise"} & set(noise.failed)
    assert not shuffled.passed  # right sounds, no time: no rhythm, drone-free but structureless
    assert "copying" in excerpt.failed


def test_card_outputs(cards):
    c = cards["white_noise"]
    d = c.to_dict()
    text = json.dumps(d)  # JSON-able, inf/nan encoded
    assert set(d) >= {"passed", "checks"}
    assert set(d["checks"]) == set(card.CHECKS)
    for entry in d["checks"].values():
        assert set(entry) >= {"value", "threshold", "passed", "detail"}
    assert d["passed"] is False and "noise" in text
    s = str(c)
    assert "noise" in s and "FAIL" in s and s.count("\n") == len(card.CHECKS) + 1
    h = c._repr_html_()
    assert h.count("<tr") == len(card.CHECKS) + 1 and "#f8d0d0" in h and "#d4f4d4" in h
    row = c.summary_row()
    assert row["passed"] is False and set(row) == set(card.CHECKS) | {"passed"}


def test_distribution_reports_interval_floor_and_ceiling(cards):
    det = cards["real"].checks["distribution"]["detail"]
    for feat in ("logmel", "mfcc"):
        lo, hi = det[feat]["fd_interval_90"]
        assert lo <= hi
        assert det[feat]["floor"] < det[feat]["ceiling"]
    assert cards["shaped_noise"].checks["distribution"]["value"] > cards["real"].checks["distribution"]["value"]


def test_single_generated_clip_skips_diversity(music):
    c = card.musicality_card(music["held_out"][:1], training=music["training"], reference=music["reference"], sr=SR)
    assert c.checks["diversity"]["passed"] is None
    assert c.passed, str(c)
    assert "n/a" in str(c)


def test_other_sample_rate_is_resampled(music):
    import soxr

    gen = [soxr.resample(y, SR, 16000).astype(np.float32) for y in music["held_out"]]
    tr = [soxr.resample(y, SR, 16000).astype(np.float32) for y in music["training"]]
    ref = [soxr.resample(y, SR, 16000).astype(np.float32) for y in music["reference"]]
    assert card.musicality_card(gen, training=tr, reference=ref, sr=16000).passed


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"generated": []}, "generated is empty"),
        ({"generated": [np.zeros(1000, np.float32)]}, "at least 1.0 s"),
        ({"generated": [np.zeros((3, 3, 3))]}, "1-D"),
        ({"sr": 0}, "sr=0"),
        ({"training": []}, "training is empty"),
        ({"reference": None}, "reference is required"),
    ],
)
def test_bad_input(music, kwargs, match):
    args = {"generated": music["held_out"], "training": music["training"], "reference": music["reference"], "sr": SR}
    args.update(kwargs)
    with pytest.raises(ParameterError, match=match):
        card.musicality_card(args.pop("generated"), **args)
    assert issubclass(ParameterError, MusiclibError)


def test_frechet_distance_known_values():
    mu, C = np.zeros(3), np.eye(3)
    assert card.frechet_distance(mu, C, mu, C) == pytest.approx(0, abs=1e-9)
    # 1-D: (m1 - m2)^2 + (s1 - s2)^2
    assert card.frechet_distance(np.array([1.0]), np.array([[4.0]]), np.array([0.0]), np.array([[1.0]])) == pytest.approx(2.0)


def _assert_thresholds_separate(res):
    """Every threshold lies between real music's worst value and the named failures' best value."""
    for check, s in res.suggested.items():
        thr = s["current"]
        if card.CHECKS[check] == "max":
            assert s["real_worst"] <= thr < s["failure_best"], (check, s)
        else:
            assert s["failure_best"] < thr <= s["real_worst"], (check, s)


def test_thresholds_separate_the_synthetic_calibration():
    """The constants lie between real music's worst value and each named failure's best value."""
    music = {"synthetic": _mixes([96, 104, 112, 120, 128, 136], 30)}
    res = card.calibrate(music, n_splits=1, seed=0)
    _assert_thresholds_separate(res)
    assert "suggested" in str(res)


def test_calibrate_needs_three_clips():
    with pytest.raises(ParameterError, match="at least 3 clips"):
        card.calibrate([synth.synthetic_mix(duration=2, seed=0)] * 2, n_splits=1)


def _default_loops():
    try:
        from musiclib.tools.data import default_corpus_dir

        root = default_corpus_dir()
    except (ImportError, MusiclibError, OSError) as e:
        pytest.skip(f"default corpus not available ({e}); `make data` fetches it")
    if root is None:
        pytest.skip("default corpus not available; `make data` fetches it")
    return root


@pytest.mark.slow
def test_calibration_on_real_loops():
    """Held-out Sonic Pi loops pass, and each failure is caught, with the stored thresholds."""
    root = _default_loops()
    sets = card.calibration_sets(root)
    real = {k: v for k, v in sets.items() if k != "synthetic"}
    if not real or len(next(iter(real.values()))) < 6:
        pytest.skip(f"{root} holds fewer than 6 clips")
    res = card.calibrate(real, n_splits=2, seed=0, clip_seconds=None)
    _assert_thresholds_separate(res)
