"""The musicality card: real music passes every check, each named failure fails its check.

The calibration cases are tests here: held-out (synthetic) music passes everything, and every
failure case fails each check that :data:`calibration.NAMED_FAILURES` names it for (white noise:
noise, distribution, rhythm, structure; a sustained chord and a held tone under flickering low bands:
drone; growth: blowup; silence: dropout; a training excerpt: copying; identical clips: diversity;
shuffled frames: structure and rhythm; a gliding tempo: tempo). The last tests, run only when the
fetched corpora are present, repeat this on the Sonic Pi loops and Nexuiz excerpts.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from musiclib import synth
from musiclib.evaluation import baselines, calibration, card, features
from musiclib.errors import MusiclibError, ParameterError

SR = 22050
SECONDS = 6.0  # the tempo check needs two 3-s windows
REF_SECONDS = card.MIN_REFERENCE_SECONDS / card.MIN_REFERENCE_FILES  # the least reference that gets a verdict


def _mixes(bpms, seed0, seconds=SECONDS):
    return [synth.synthetic_mix(duration=seconds, sr=SR, bpm=b, seed=seed0 + i) for i, b in enumerate(bpms)]


@pytest.fixture(scope="module")
def music():
    """Synthetic music in three disjoint sets, different tempi and seeds for each clip."""
    return {
        "training": _mixes([96, 112, 128], 0),
        "reference": _mixes([104, 120, 136], 10, seconds=REF_SECONDS),
        "held_out": _mixes([100, 116, 132], 20),
    }


@pytest.fixture(scope="module")
def cards(music):
    """The card of every calibration case, against the same training and reference (features shared)."""
    cache: dict = {}
    cases = calibration.failure_cases(music["training"], music["held_out"], sr=SR, seed=0)
    return {
        name: card.musicality_card(clips, training=music["training"], reference=music["reference"], sr=SR, features=cache)
        for name, clips in cases.items()
    }


def test_held_out_music_passes_every_check(cards):
    c = cards["real"]
    assert c.passed, str(c)
    assert all(v["passed"] is True for v in c.checks.values()), str(c)


@pytest.mark.parametrize(
    "check, case", [(check, case) for check, cases in calibration.NAMED_FAILURES.items() for case in cases]
)
def test_failure_case_fails_its_named_check(cards, check, case):
    assert check in cards[case].failed, f"{case} should fail {check}:\n{cards[case]}"


def test_shuffled_frames_fail_only_on_time(cards):
    """Right sounds in random order: time structure and rhythm fail, frame distribution and copying do not.

    (Drone may fail too on these synthetic mixes: their four chords share partials, so frames drawn
    at random hold them; on real music shuffled frames pass it, see the calibration record.)"""
    c = cards["shuffled_frames"]
    assert {"structure", "rhythm"} <= set(c.failed), str(c)
    assert c.checks["distribution"]["passed"] and c.checks["copying"]["passed"], str(c)


def test_held_tone_is_a_drone_although_its_energy_moves(cards):
    """The frames' energy and low bands flicker, the partials stay: a drone by partials, not by flux."""
    tone = features.clip_features(calibration.held_tone(int(SECONDS * SR), sr=SR), sr=SR)
    real = features.clip_features(_mixes([120], 40)[0], sr=SR)
    assert np.median(features.onset_envelope(tone.logmel)) > 0.5 * np.median(features.onset_envelope(real.logmel))
    assert tone.drone_share > 0.9 and real.drone_share < 0.5
    # with a real prime in front, as 04's CNN roll-outs: a drone for much of the clip
    share = cards["held_tone"].checks["drone"]["detail"]["generated_drone_share"]
    assert share > 3 * cards["real"].checks["drone"]["detail"]["generated_drone_share"] and share > 0.3


def test_held_tone_begins_with_its_prime():
    prime = _mixes([120], 41, seconds=1.0)[0]
    y = calibration.held_tone(3 * SR, sr=SR, prime=prime)
    assert len(y) == 3 * SR and np.allclose(y[:SR] / np.max(np.abs(y[:SR])), prime / np.max(np.abs(prime)), atol=1e-6)


def test_onset_envelope_is_the_positive_log_mel_rise():
    f = features.clip_features(_mixes([120], 50, seconds=2.0)[0], sr=SR)
    by_hand = np.concatenate([[0.0], np.maximum(np.diff(f.logmel, axis=0), 0).mean(axis=1)])
    np.testing.assert_allclose(features.onset_envelope(f.logmel), by_hand, rtol=1e-5, atol=1e-5)


def _time(y):
    return {k: float(v[0]) for k, v in features.time_statistics(features.clip_features(y, sr=SR)).items()}


def test_rhythm_is_corrected_for_chance():
    """A click track's periodicity stands far above its chance level; white noise's does not."""
    clicks = _time(synth.drum_loop(duration=SECONDS, sr=SR, bpm=120, seed=0))
    assert clicks["periodicity"] > 0.5
    assert clicks["periodicity"] == pytest.approx(clicks["periodicity_raw"] - clicks["periodicity_null"])
    assert min(abs(clicks["beat_period"] - p) for p in (0.25, 0.5, 1.0)) < 0.03  # eighths, beats or bars of 2
    noise = _time(0.1 * np.random.default_rng(0).standard_normal(int(SECONDS * SR)))
    assert noise["periodicity_raw"] > 0.05  # chance alone gives some periodicity on a short clip ...
    assert noise["periodicity"] < 0.1  # ... which the correction removes


def test_tempo_stability_needs_two_windows_and_sees_a_glide():
    steady = _time(synth.drum_loop(duration=SECONDS, sr=SR, bpm=120, seed=0))
    glide = _time(calibration.tempo_drift(int(SECONDS * SR), sr=SR))
    short = _time(synth.drum_loop(duration=4.0, sr=SR, bpm=120, seed=0))
    assert steady["tempo_stability"] > 0.9
    assert glide["tempo_stability"] < 0.7 * steady["tempo_stability"]
    assert math.isnan(short["tempo_stability"])


def test_time_statistics_per_window():
    f = features.clip_features(_mixes([120], 70, seconds=8.0)[0], sr=SR)
    whole, halves = features.time_statistics(f), features.time_statistics(f, frames=len(f.onset_env) // 2)
    assert all(len(v) == 1 for v in whole.values()) and all(len(v) == 2 for v in halves.values())
    assert np.all(halves["periodicity"] > 0.3) and np.all(halves["temporal_information"] > 0)


def test_time_checks_compare_equal_lengths(music):
    """Short generated clips are measured against windows of the reference just as long: short
    excerpts of real music still have real music's rhythm and structure."""
    short = [y[: int(2.5 * SR)] for y in music["held_out"]]
    c = card.musicality_card(short, training=music["training"], reference=music["reference"], sr=SR)
    assert c.checks["rhythm"]["detail"]["window_s"] == pytest.approx(2.5, abs=0.05)
    assert c.checks["rhythm"]["passed"] and c.checks["structure"]["passed"], str(c)


def test_short_clips_leave_tempo_not_applicable(music):
    short = [y[: 4 * SR] for y in music["held_out"]]
    c = card.musicality_card(short, training=music["training"], reference=music["reference"], sr=SR)
    assert c.checks["tempo"]["passed"] is None and "tempo" not in c.failed


def test_nonfinite_samples_are_a_blowup(music):
    y = music["held_out"][0].copy()
    y[1000:1010] = np.nan
    y[2000] = np.inf
    c = card.musicality_card([y, music["held_out"][1]], training=music["training"], reference=music["reference"], sr=SR)
    assert c.checks["blowup"]["value"] == math.inf
    assert c.checks["blowup"]["passed"] is False
    assert c.checks["blowup"]["detail"]["nonfinite_samples"][0] == 11


@pytest.mark.parametrize("role", ["reference", "training"])
@pytest.mark.parametrize("spoil, match", [("nan", "NaN/inf"), ("silent", "is silent")])
def test_spoilt_yardstick_is_refused(music, role, spoil, match):
    clips = [y.copy() for y in music[role]]
    if spoil == "nan":
        clips[1][500] = np.nan
    else:
        clips[1][:] = 0.0
    args = {"training": music["training"], "reference": music["reference"], role: clips}
    with pytest.raises(ParameterError, match=rf"{role}\[1\].*{match}"):
        card.musicality_card(music["held_out"], sr=SR, **args)


def test_unnormalised_growth_clips(music):
    t = np.arange(int(SECONDS * SR)) / SR
    y = (np.sin(2 * np.pi * 330 * t) * np.exp(2 * t) * 0.01).astype(np.float32)  # 52 dB up, peak 1.6
    c = card.musicality_card([np.clip(y, -1, 1)], training=music["training"], reference=music["reference"], sr=SR)
    assert {"blowup", "clipping"} <= set(c.failed)


def test_baselines_are_caught(music):
    tr, ref = music["training"], music["reference"]
    durs = [SECONDS] * 3
    noise = card.musicality_card(baselines.shaped_noise(tr, sr=SR, durations=durs), training=tr, reference=ref, sr=SR)
    shuffled = card.musicality_card(baselines.shuffled_frames(tr, sr=SR, durations=durs), training=tr, reference=ref, sr=SR)
    excerpt = card.musicality_card(baselines.training_excerpt(tr, sr=SR, durations=durs), training=tr, reference=ref, sr=SR)
    assert {"distribution", "noise"} <= set(noise.failed)
    assert "structure" in shuffled.failed
    assert "copying" in excerpt.failed


def test_long_clips_are_analysed_in_part(music):
    """Spectral checks see at most MAX_ANALYSIS_SECONDS (the middle); the level checks see everything."""
    y = np.concatenate([synth.synthetic_mix(duration=20.0, sr=SR, seed=60)] * 2)  # 40 s
    y[-SR:] *= 10 ** (40 / 20)  # a late blow-up
    f = features.clip_features(np.clip(y, -1, 1), sr=SR)
    assert f.duration == pytest.approx(40.0)
    assert len(f.logmel) == pytest.approx(features.MAX_ANALYSIS_SECONDS * features.FPS, abs=2)
    assert f.clip_ratio > 0.001  # the clipped last second counts


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
    frame = c.to_frame()
    assert list(frame.index) == list(card.CHECKS) and frame.loc["noise", "result"] == "FAIL"
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
    for c in cards.values():  # clipped at the floor
        d = c.checks["distribution"]
        assert d["value"] == max(0.0, d["detail"]["unclipped_score"])


def test_distribution_of_the_reference_itself_is_zero(music):
    c = card.musicality_card(music["reference"], training=music["training"], reference=music["reference"], sr=SR)
    d = c.checks["distribution"]
    assert d["detail"]["unclipped_score"] < 0 and d["value"] == 0.0


def test_single_generated_clip_skips_diversity(music):
    c = card.musicality_card(music["held_out"][:1], training=music["training"], reference=music["reference"], sr=SR)
    assert c.checks["diversity"]["passed"] is None
    assert c.passed, str(c)
    assert "n/a" in str(c)


def test_other_sample_rate_is_resampled(music):
    import soxr

    def at_16k(clips):
        return [soxr.resample(y, SR, 16000).astype(np.float32) for y in clips]

    c = card.musicality_card(at_16k(music["held_out"]), training=at_16k(music["training"]),
                             reference=at_16k(music["reference"]), sr=16000)
    assert c.passed, str(c)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"generated": []}, "generated is empty"),
        ({"generated": [np.zeros(1000, np.float32)]}, "at least 1.0 s"),
        ({"generated": [np.zeros((3, 3, 3))]}, "1-D"),
        ({"generated": [np.array(["a"] * SR * 2)]}, "numbers"),
        ({"sr": 0}, "sr=0"),
        ({"sr": 22050.5}, "sr=22050.5"),
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


@pytest.mark.parametrize("y, sr, match", [(np.zeros(SR), 0, "sr=0"), (np.zeros(SR), -1, "sr=-1"),
                                          (np.zeros(SR), 8000.0, "sr=8000.0"), (np.zeros(10), SR, "at least 1.0 s")])
def test_clip_features_bad_input(y, sr, match):
    with pytest.raises(ParameterError, match=match):
        features.clip_features(y, sr=sr)


def test_frechet_distance_known_values():
    mu, C = np.zeros(3), np.eye(3)
    assert card.frechet_distance(mu, C, mu, C) == pytest.approx(0, abs=1e-9)
    # 1-D: (m1 - m2)^2 + (s1 - s2)^2
    assert card.frechet_distance(np.array([1.0]), np.array([[4.0]]), np.array([0.0]), np.array([[1.0]])) == pytest.approx(2.0)


def test_suggest_threshold():
    assert calibration.suggest_threshold("rhythm", 0.9, 0.1) == pytest.approx(0.3)
    assert calibration.suggest_threshold("rhythm", 0.9, 0.0) == pytest.approx(math.sqrt(0.9 * 0.09))
    assert calibration.suggest_threshold("noise", 0.2, 0.8) == pytest.approx(0.5)
    assert calibration.suggest_threshold("blowup", 9.0, math.inf) == pytest.approx(10.0)
    assert math.isnan(calibration.suggest_threshold("drone", math.nan, 0.1))
    with pytest.raises(ParameterError, match="loudness"):
        calibration.suggest_threshold("loudness", 1.0, 2.0)


def _assert_thresholds_separate(res, *, skip=()):
    """Every threshold lies between real music's worst value and the named failures' best value."""
    for check, s in res.suggested.items():
        if check in skip:
            continue
        thr = s["current"]
        if card.CHECKS[check] == "max":
            assert s["real_worst"] <= thr < s["failure_best"], (check, s)
        else:
            assert s["failure_best"] < thr <= s["real_worst"], (check, s)


@pytest.mark.slow
def test_thresholds_separate_the_synthetic_calibration():
    """The thresholds lie between real music's worst value and each named failure's best value."""
    music = {"synthetic": _mixes([96, 104, 112, 120, 128, 136], 30)}
    res = calibration.calibrate(music, n_splits=1, seed=0)
    _assert_thresholds_separate(res)
    text = str(res)
    assert "suggested" in text and all(case in text for case in ("held_tone", "tempo_drift", "shuffled_frames"))
    assert all(check in res.thresholds() for check in card.CHECKS)


def test_calibrate_needs_three_clips():
    with pytest.raises(ParameterError, match="at least 3 clips"):
        calibration.calibrate([synth.synthetic_mix(duration=2, seed=0)] * 2, n_splits=1)
    with pytest.raises(ParameterError, match="n_splits=0"):
        calibration.calibrate([synth.synthetic_mix(duration=2, seed=0)] * 3, n_splits=0)


def _corpus(name):
    from musiclib.tools.data import corpus_dir

    try:
        root = corpus_dir(name)
    except (MusiclibError, OSError) as e:
        pytest.skip(f"{name} not available ({e}); `make data CORPUS=full` fetches it")
    if not root.is_dir() or not any(root.iterdir()):
        pytest.skip(f"{name} not fetched; `make data CORPUS=full` fetches it")
    return root


@pytest.mark.slow
@pytest.mark.parametrize("name", ["sonic-pi-samples", "nexuiz-music"])
def test_calibration_on_real_music(name):
    """Held-out real music passes and each failure is caught, with the stored thresholds."""
    sets = calibration.calibration_sets(_corpus(name))
    real = {name: sets[name]}
    if len(real[name]) < 6:
        pytest.skip(f"{name} holds fewer than 6 clips")
    res = calibration.calibrate(real, n_splits=1, seed=0)
    _assert_thresholds_separate(res)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["sonic-pi-samples", "nexuiz-music"])
def test_shuffled_frames_baseline_fails_time_structure_on_real_music(name):
    clips = calibration.calibration_sets(_corpus(name), seconds=12.0)[name]  # a third of them: >= 60 s of reference
    third = len(clips) // 3
    train, ref, held = clips[: len(clips) - 2 * third], clips[-2 * third : -third], clips[-third:]
    shuffled = baselines.shuffled_frames(train, sr=SR, durations=[len(y) / SR for y in held], seed=0)
    cache: dict = {}
    real = card.musicality_card(held, training=train, reference=ref, sr=SR, features=cache)
    base = card.musicality_card(shuffled, training=train, reference=ref, sr=SR, features=cache)
    assert real.checks["structure"]["passed"] is True, str(real)
    assert base.checks["structure"]["passed"] is False, str(base)


@pytest.mark.parametrize("kwargs, match", [({"seed": -1}, "seed=-1"), ({"seed": 1.5}, "seed=1.5"),
                                           ({"sr": 10**9}, "sr="), ({"features": []}, "features")])
def test_bad_card_parameters_are_named(kwargs, match):
    y = synth.synthetic_mix(duration=4.0, seed=0)
    with pytest.raises(ParameterError, match=match):
        card.musicality_card([y], training=[y], reference=[y, y, y], **kwargs)


# --------------------------------------------------------------------------------------------------
# Too little reference: no verdict (benchmarks/reference_size.py measured the minimum)


@pytest.fixture(scope="module")
def refused(music):
    """The held-out music against two of the three reference clips: values measured, no verdict."""
    return card.musicality_card(music["held_out"], training=music["training"], reference=music["reference"][:2], sr=SR)


def test_too_little_reference_gives_no_verdict(refused):
    c = refused
    n = card.MIN_REFERENCE_FILES
    have = 2 * REF_SECONDS
    assert c.refused and c.passed is None and c.failed == []
    assert f"{have:.1f} s of held-out music in 2 clips" in c.refused
    assert f"at least {card.MIN_REFERENCE_SECONDS:g} s in at least {n} clips" in c.refused
    assert all(v["passed"] is None for v in c.checks.values())
    assert all(np.isfinite(v["value"]) for k, v in c.checks.items() if k != "tempo")  # still measured
    assert c.verdict().startswith("NO VERDICT (the reference is")
    assert "PASS" not in str(c) and "FAIL" not in str(c) and "NO VERDICT" in str(c)
    assert set(c.to_frame()["result"]) == {"no verdict"}
    d = json.loads(json.dumps(c.to_dict()))
    assert d["passed"] is None and d["refused"] == c.refused
    assert c.summary_row()["passed"] is None
    h = c._repr_html_()
    assert "NO VERDICT" in h and "#d4f4d4" not in h and "#f8d0d0" not in h


def test_short_reference_clips_give_no_verdict(music):
    """Enough clips but too few seconds: refused, naming the seconds."""
    short = [y[: 6 * SR] for y in music["reference"]]
    c = card.musicality_card(music["held_out"][:1], training=music["training"], reference=short, sr=SR)
    assert c.passed is None and "18.0 s of held-out music in 3 clips" in c.refused


def test_at_the_minimum_the_card_gives_a_verdict(music, cards):
    assert card.check_reference(music["reference"], sr=SR) == (card.MIN_REFERENCE_FILES,
                                                               pytest.approx(card.MIN_REFERENCE_SECONDS))
    assert all(c.refused is None and c.passed is not None for c in cards.values())
    assert cards["real"].passed is True and cards["white_noise"].passed is False


def test_check_reference_raises_with_the_numbers(music):
    from musiclib.errors import CorpusError, ReferenceTooSmallError

    have = f"{2 * REF_SECONDS:.1f}".replace(".", r"\.")
    with pytest.raises(ReferenceTooSmallError, match=rf"no verdict: the reference is {have} s .* in 2 clips") as e:
        card.check_reference(music["reference"][:2], sr=SR)
    err = e.value
    assert isinstance(err, (ValueError, CorpusError, MusiclibError))
    assert (err.files, err.seconds, err.min_files, err.min_seconds) == (2, pytest.approx(2 * REF_SECONDS),
                                                                     card.MIN_REFERENCE_FILES, card.MIN_REFERENCE_SECONDS)
    import pickle

    again = pickle.loads(pickle.dumps(err))
    assert str(again) == str(err) and again.files == 2 and again.min_seconds == card.MIN_REFERENCE_SECONDS


def test_reference_size_counts_the_analysed_seconds():
    """A clip counts at most MAX_ANALYSIS_SECONDS (what the card analyses); Clip-like objects work too."""
    long = np.zeros(int(45 * SR), np.float32)
    files, seconds = card.reference_size([long, long[: 10 * SR]], sr=SR)
    assert files == 2 and seconds == pytest.approx(features.MAX_ANALYSIS_SECONDS + 10)

    class Clip:  # noqa: D401 - a stand-in for musiclib.corpus.Clip
        y = long[: 5 * SR]

    assert card.reference_size([Clip()], sr=SR) == (1, pytest.approx(5.0))
    assert card.reference_size(long, sr=SR)[0] == 1  # one 1-D array is one clip
    # at another sample rate, the seconds follow sr
    assert card.reference_size([long], sr=2 * SR)[1] == pytest.approx(22.5)


@pytest.mark.parametrize(
    "reference, sr, match",
    [
        ([], SR, "reference is empty"),
        (None, SR, "reference is required"),
        ([np.zeros((2, SR * 5, 2))], SR, "1-D"),
        ([np.zeros(SR)], 0, "sr=0"),
        ([np.zeros(SR)], -1, "sr=-1"),
        ([np.zeros(SR)], math.nan, "sr=nan"),
        ([np.zeros(SR)], math.inf, "sr=inf"),
        ([np.zeros(SR)], 10**12, "sr="),
        ([np.zeros(SR)], "22050", "sr='22050'"),
        ([np.zeros(SR)], True, "sr=True"),
    ],
)
def test_reference_size_bad_input(reference, sr, match):
    with pytest.raises(ParameterError, match=match):
        card.reference_size(reference, sr=sr)
    with pytest.raises(ParameterError, match=match):
        card.check_reference(reference, sr=sr)


def test_comparison_shows_no_verdict(refused, cards):
    """08's table and verdict never turn a refused card into passes."""
    from musiclib.evaluation import compare

    frame = compare.card_frame({"model": refused, "noise": cards["white_noise"]})
    assert frame.loc["model", "passed"] == "no verdict" and frame.loc["model", "failed"] == "-"
    assert frame.loc["noise", "passed"] != "no verdict"
    assert math.isnan(compare.checks_passed(refused)) and compare.checks_passed(cards["real"]) == len(card.CHECKS)
    text = compare.verdict({"model": refused}, baselines={"noise": cards["white_noise"]})
    assert text == f"No verdict for model: {refused.refused}."
    assert card.no_verdict({"a": refused, "b": refused}).startswith("No verdict for any card: the reference is")
    assert card.no_verdict([refused, cards["real"]]) == f"No verdict for card 0: {refused.refused}."
    assert card.no_verdict({"real": cards["real"]}) == "" and card.no_verdict([]) == ""
    assert compare.ranking({"model": refused}).loc["model", "passed"] != len(card.CHECKS)


def test_reference_size_and_no_verdict_name_bad_arguments():
    for bad in (0, -1, float("nan"), float("inf"), 10**12):
        with pytest.raises(ParameterError, match="reference"):
            card.reference_size(bad)
    for bad in (0, None, float("nan"), "x", [1.0], {"a": 3}):
        with pytest.raises(ParameterError, match="cards"):
            card.no_verdict(bad)
    assert card.no_verdict([]) == ""
