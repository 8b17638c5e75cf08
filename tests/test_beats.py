"""Tests for musiclib.beats: tempo (with the 2:3 correction), the beat clock, slicing, stretching, joining."""

from __future__ import annotations

from pathlib import Path

import librosa
import numpy as np
import pytest
import scipy.signal

from musiclib import beats
from musiclib.beats import Beats
from musiclib.errors import MusiclibError, ParameterError
from musiclib.tools import data

SR = 22050
HOP = 512
FPS = SR / HOP
LOOPS = data.corpus_dir("sonic-pi-samples")  # honours MUSICLIB_DATA_ROOT


# --------------------------------------------------------------------------------------------------
# test signals: click tracks and a drum groove, built from librosa.clicks
# --------------------------------------------------------------------------------------------------
def click_track(bpm, *, duration=10.0, start=0.0, accent_every=None):
    """Clicks on every beat from ``start``; with ``accent_every``, a low kick on every that-many beats too."""
    times = np.arange(start, duration - 0.05, 60.0 / bpm)
    n = int(duration * SR)
    y = librosa.clicks(times=times, sr=SR, length=n)
    if accent_every:
        y = y + librosa.clicks(times=times[::accent_every], sr=SR, length=n, click_freq=60.0, click_duration=0.15)
    return (0.8 * y / np.max(np.abs(y))).astype(np.float32), times


def _drum(kind, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(int(0.15 * SR)) / SR
    if kind == "kick":
        return (np.sin(2 * np.pi * np.cumsum(50 + 100 * np.exp(-t * 30)) / SR) * np.exp(-t * 12)).astype(np.float32)
    if kind == "snare":
        return (0.6 * rng.standard_normal(len(t)) * np.exp(-t * 25)).astype(np.float32)
    return (0.25 * np.diff(rng.standard_normal(len(t)) * np.exp(-t * 80), prepend=0)).astype(np.float32)


def groove(bpm, *, kicks, snares, hats, duration=10.0, swing=0.0):
    """A drum pattern over one 4/4 bar, positions in eighth notes; ``swing`` delays the off-beat eighths."""
    eighth = 60.0 / bpm / 2
    n = int(duration * SR)
    y = np.zeros(n, dtype=np.float32)
    bars = int(np.ceil(duration / (8 * eighth)))
    for kind, positions in (("kick", kicks), ("snare", snares), ("hat", hats)):
        times = [(bar * 8 + p + (swing if p % 2 == 1 else 0.0)) * eighth for bar in range(bars) for p in positions]
        times = [t for t in times if t < duration - 0.05]
        y += librosa.clicks(times=times, sr=SR, length=n, click=_drum(kind))
    return (0.8 * y / np.max(np.abs(y))).astype(np.float32)


#: kick on 1 and on the "and" of 3, snare on 2 and 4, hats on the off-beats: librosa hears 2/3 of it
TWO_STEP = {"kicks": [0, 5], "snares": [2, 6], "hats": [1, 3, 5, 7]}
#: kick on 1 and 3, snare on 2 and 4, hats on every eighth
ROCK = {"kicks": [0, 4], "snares": [2, 6], "hats": list(range(8))}


@pytest.fixture(scope="module")
def click120():
    y, times = click_track(120, duration=8.0, accent_every=4)
    return y, times, beats.track_beats(y, sr=SR)


# --------------------------------------------------------------------------------------------------
# tempo
# --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("bpm", [90, 120, 137, 174])
def test_tempo_of_click_tracks(bpm):
    y, times = click_track(bpm, start=0.23)
    b = beats.track_beats(y, sr=SR)
    assert b.tempo == pytest.approx(bpm, rel=0.02)
    # every click is found, on time (within one frame), apart from a first/last beat the tracker trims
    assert len(b) >= len(times) - 2
    nearest = np.min(np.abs(b.times[:, None] - times[None, :]), axis=1)
    assert np.max(nearest) < 1.0 / FPS
    assert b.periodicity > 0.5
    assert b.duration == pytest.approx(10.0)


@pytest.mark.parametrize("bpm, swing", [(120, 0.0), (137, 0.0), (120, 1 / 3)])
def test_two_three_error_corrected(bpm, swing):
    y = groove(bpm, swing=swing, **TWO_STEP)
    b = beats.track_beats(y, sr=SR)
    # the premise: librosa's default tracker hears a slower pulse (2/3 or 1/2 of the tempo) ...
    assert b.tracker_tempo / bpm < 0.7, f"librosa's default no longer errs here ({b.tracker_tempo:.1f} BPM)"
    # ... which the periodicity check corrects
    assert b.tempo == pytest.approx(bpm, rel=0.02)


@pytest.mark.parametrize("bpm", [90, 120, 137])
def test_grooves_tracked_with_and_without_swing(bpm):
    for swing in (0.0, 1 / 3):
        assert beats.track_beats(groove(bpm, swing=swing, **ROCK), sr=SR).tempo == pytest.approx(bpm, rel=0.02)


def test_tempo_range_settles_the_octave_of_fast_grooves():
    # a rock beat at 174 BPM is just as periodic at 87 (half time), and the prior around 120 BPM
    # prefers that reading; tempo_range is how a user says which octave the music is in
    y = groove(174, **ROCK)
    assert beats.track_beats(y, sr=SR).tempo == pytest.approx(87, rel=0.02)
    assert beats.track_beats(y, sr=SR, tempo_range=(100, 200)).tempo == pytest.approx(174, rel=0.02)


@pytest.mark.parametrize("name, n_beats", [("loop_amen", 4), ("loop_amen_full", 16)])
def test_amen_loops(name, n_beats):
    path = LOOPS / f"{name}.flac"
    if not path.exists():
        pytest.skip(f"{path} not fetched (make data)")
    from musiclib import audio

    y, sr = audio.load(path, sr=SR)
    b = beats.track_beats(y, sr=sr)
    # a loop holds a whole number of bars: the amen loop is one bar of 4/4, the full break four
    assert len(y) / sr * b.tempo / 60 == pytest.approx(n_beats, rel=0.02)
    assert 134 <= b.tempo <= 142  # the amen break is known to run at about 136-140 BPM
    assert abs(b.tracker_tempo - b.tempo) > 10  # librosa's default is wrong on both (172.3 and 92.3)


def test_corpus_tempo():
    bs = [Beats(tempo=t, times=[0.5, 1.0]) for t in (100.0, 120.0, 180.0)]
    assert beats.corpus_tempo(bs) == 120.0
    assert beats.corpus_tempo(iter(bs[:2])) == 110.0
    with pytest.raises(ParameterError, match="empty"):
        beats.corpus_tempo([])
    with pytest.raises(ParameterError, match=r"beats_list\[1\]"):
        beats.corpus_tempo([bs[0], 120.0])
    with pytest.raises(ParameterError, match="list of Beats"):
        beats.corpus_tempo(bs[0])


def test_beats_is_frozen_and_validated():
    b = Beats(tempo=120.0, times=[0.5, 1.0, 1.5], downbeat=1)
    with pytest.raises(AttributeError):
        b.tempo = 100.0
    with pytest.raises(ValueError):
        b.times[0] = 0.0  # read-only
    for kwargs, match in [
        ({"tempo": 0.0, "times": [0.5]}, "tempo=0.0"),
        ({"tempo": float("nan"), "times": [0.5]}, "tempo=nan"),
        ({"tempo": 120.0, "times": [1.0, 0.5]}, "increasing"),
        ({"tempo": 120.0, "times": [-1.0, 0.5]}, "non-negative"),
        ({"tempo": 120.0, "times": [[0.5]]}, "1-D"),
        ({"tempo": 120.0, "times": [0.5], "beats_per_bar": 0}, "beats_per_bar=0"),
        ({"tempo": 120.0, "times": [0.5], "downbeat": 4}, "downbeat=4"),
    ]:
        with pytest.raises(ParameterError, match=match):
            Beats(**kwargs)


# --------------------------------------------------------------------------------------------------
# the beat clock
# --------------------------------------------------------------------------------------------------
def _circular_error(phase, target):
    """Distance between phases given as fractions of a cycle."""
    return np.abs((phase - target + 0.5) % 1 - 0.5)


def test_beat_phase_of_a_click_track(click120):
    y, times, b = click120
    assert b.tempo == pytest.approx(120, rel=0.01)
    # the accented (kick) clicks, every fourth from the first, are the downbeats
    assert np.argmin(np.abs(times - b.times[b.downbeat])) % 4 == 0
    n = int(len(y) / HOP) + 1
    f = beats.beat_phase(b, n_frames=n, frames_per_second=FPS)
    assert f.shape == (n, 4) and f.dtype == np.float32
    np.testing.assert_allclose(f[:, 0] ** 2 + f[:, 1] ** 2, 1, atol=1e-5)
    np.testing.assert_allclose(f[:, 2] ** 2 + f[:, 3] ** 2, 1, atol=1e-5)
    # every frame's phase against the true grid: a click every 0.5 s from 0, a bar every 4 clicks
    t = np.arange(n) / FPS
    position = t / 0.5
    beat_phase = np.arctan2(f[:, 0], f[:, 1]) / (2 * np.pi) % 1
    bar_phase = np.arctan2(f[:, 2], f[:, 3]) / (2 * np.pi) % 1
    # tracked beats sit within half a frame (12 ms, 0.023 of a beat at 120 BPM) of the clicks
    assert _circular_error(beat_phase, position % 1).max() < 0.05
    assert _circular_error(bar_phase, position / 4 % 1).max() < 0.05 / 4
    # and the phase really turns: a quarter beat off would be caught
    assert _circular_error(beat_phase, (position + 0.25) % 1).min() > 0.15


def test_beat_phase_extrapolates_at_the_tempo():
    b = Beats(tempo=120.0, times=[1.0, 1.5, 2.0])
    f = beats.beat_phase(b, n_frames=400, frames_per_second=100.0)
    for t, beat_phase, bar_phase in [(0.0, 0.0, 0.5), (0.75, 0.5, 0.875), (3.25, 0.5, 0.125), (1.25, 0.5, 0.125)]:
        assert _circular_error(np.arctan2(f[int(t * 100), 0], f[int(t * 100), 1]) / (2 * np.pi) % 1, beat_phase) < 1e-3
        assert _circular_error(np.arctan2(f[int(t * 100), 2], f[int(t * 100), 3]) / (2 * np.pi) % 1, bar_phase) < 1e-3
    one = beats.beat_phase(Beats(tempo=60.0, times=[1.0]), n_frames=300, frames_per_second=100.0)
    np.testing.assert_allclose(one[[0, 100, 200], 1], 1.0, atol=1e-6)  # a beat every second, either side
    with pytest.raises(ParameterError, match="no beat times"):
        beats.beat_phase(Beats(tempo=120.0, times=[]), n_frames=10, frames_per_second=100.0)


def test_clock_matches_beat_phase_of_a_steady_click_track(click120):
    y, times, b = click120
    n = int(len(y) / HOP) + 1
    tracked = beats.beat_phase(b, n_frames=n, frames_per_second=FPS)
    steady = beats.clock(n_frames=n, bpm=120.0, frames_per_second=FPS, start_phase=0.0)
    assert steady.shape == (n, 4) and steady.dtype == np.float32
    diff = np.abs(tracked - steady)
    assert diff.mean() < 0.05 and diff.max() < 0.3
    # the comparison can fail: a clock 3 % off, or a beat late, is far from the tracked phase
    assert np.abs(tracked - beats.clock(n_frames=n, bpm=123.6, frames_per_second=FPS)).mean() > 0.2
    assert np.abs(tracked - beats.clock(n_frames=n, bpm=120.0, frames_per_second=FPS, start_phase=1.0)).mean() > 0.2


def test_clock_counts_beats_and_bars():
    f = beats.clock(n_frames=1000, bpm=150.0, frames_per_second=50.0, beats_per_bar=3, start_phase=0.5)
    beat = np.arctan2(f[:, 0], f[:, 1]) / (2 * np.pi) % 1
    bar = np.arctan2(f[:, 2], f[:, 3]) / (2 * np.pi) % 1
    assert beat[0] == pytest.approx(0.5) and bar[0] == pytest.approx(0.5 / 3)
    # 20 s at 150 BPM from half a beat in: 50.45 beats, 16.8 bars (counted as phase wraps)
    assert np.sum(np.diff(beat) < 0) == 50
    assert np.sum(np.diff(bar) < 0) == 16
    # continuing a sequence from its last frame's features, as the docstring says
    start = 3 * (np.arctan2(f[499, 2], f[499, 3]) / (2 * np.pi) % 1) + 150.0 / 60 / 50.0
    np.testing.assert_allclose(
        beats.clock(n_frames=500, bpm=150.0, frames_per_second=50.0, beats_per_bar=3, start_phase=start), f[500:], atol=1e-4
    )


def test_beat_frames():
    b = Beats(tempo=120.0, times=[0.0, 0.5, 1.0, 1.5])
    fps = SR / 256
    np.testing.assert_array_equal(
        beats.beat_frames(b, frames_per_second=fps), librosa.time_to_frames(b.times, sr=SR, hop_length=256)
    )
    assert beats.beat_frames(b, frames_per_second=fps).dtype.kind == "i"


# --------------------------------------------------------------------------------------------------
# slicing, stretching, joining
# --------------------------------------------------------------------------------------------------
def test_beat_slices_on_a_click_track(click120):
    y, times, b = click120
    bounds = beats.beat_slices(y, sr=SR, beats=b)
    assert len(bounds) == len(b) - 1
    starts = np.array([s for s, _ in bounds])
    np.testing.assert_array_equal(starts, np.round(b.times[:-1] * SR).astype(int))
    assert all(e == s2 for (_, e), (s2, _) in zip(bounds[:-1], bounds[1:]))  # consecutive
    assert np.median(np.diff(starts)) / SR == pytest.approx(0.5, abs=0.012)
    bars = beats.beat_slices(y, sr=SR, beats=b, beats_per_slice=4)
    assert bars[0][0] == starts[b.downbeat]  # bars start on the downbeat
    assert np.median([e - s for s, e in bars]) / SR == pytest.approx(2.0, abs=0.03)
    over = beats.beat_slices(y, sr=SR, beats=b, overlap=0.01)
    assert [s for s, _ in over] == list(starts)
    assert all(e - e0 == round(0.01 * SR) for (_, e), (_, e0) in zip(over[:-1], bounds[:-1]))
    assert beats.beat_slices(y, sr=SR, beats=Beats(tempo=120.0, times=[1.0])) == []


def test_beat_slices_refuses_beats_of_another_signal(click120):
    y, _, b = click120
    with pytest.raises(ParameterError, match="past the end of y"):
        beats.beat_slices(y[: SR], sr=SR, beats=b)


def test_stretch_length_and_pitch():
    tone = (0.5 * np.sin(2 * np.pi * 440 * np.arange(SR) / SR)).astype(np.float32)
    for n in (int(0.8 * SR), int(1.25 * SR), SR):
        out = beats.stretch(tone, n_samples=n, sr=SR)
        assert out.shape == (n,) and out.dtype == np.float32
        mid = out[n // 4 : 3 * n // 4]
        spectrum = np.abs(np.fft.rfft(mid * np.hanning(len(mid))))
        assert np.argmax(spectrum) * SR / len(mid) == pytest.approx(440, rel=0.01)  # pitch kept
    assert np.array_equal(beats.stretch(tone, n_samples=SR, sr=SR), tone)


def test_slice_stretch_join_round_trip():
    y = groove(132, duration=8.0, **ROCK)
    b = beats.track_beats(y, sr=SR)
    fade = 0.01
    bounds = beats.beat_slices(y, sr=SR, beats=b, overlap=fade)
    fixed = int(np.median([e - s for s, e in bounds]) * 1.1)  # every slice stretched to one length ...
    pieces = [beats.stretch(y[s:e], n_samples=fixed, sr=SR) for s, e in bounds]
    assert {len(p) for p in pieces} == {fixed}
    back = [beats.stretch(p, n_samples=e - s, sr=SR) for p, (s, e) in zip(pieces, bounds)]  # ... and back
    assert [len(p) for p in back] == [e - s for s, e in bounds]
    out = beats.join(back, sr=SR, crossfade=fade)
    assert len(out) == bounds[-1][1] - bounds[0][0]  # length restored
    again = beats.track_beats(out, sr=SR)
    assert again.tempo == pytest.approx(b.tempo, rel=0.02)  # tempo restored
    # beats still where they were (within a frame), relative to the first slice's start
    moved = again.times + bounds[0][0] / SR
    assert np.median(np.min(np.abs(moved[:, None] - b.times[None, :]), axis=1)) < 1.0 / FPS


def test_join_without_stretching_gives_back_the_audio():
    y = groove(120, duration=4.0, **ROCK)
    b = beats.track_beats(y, sr=SR)
    bounds = beats.beat_slices(y, sr=SR, beats=b, overlap=0.01)
    out = beats.join([y[s:e] for s, e in bounds], sr=SR, crossfade=0.01)
    np.testing.assert_allclose(out, y[bounds[0][0] : bounds[-1][1]], atol=1e-5)
    np.testing.assert_array_equal(beats.join([y[:100], y[100:300]], sr=SR, crossfade=0), y[:300])


def _levels_db(y, width):
    """RMS level in dB of consecutive windows of ``width`` samples."""
    n = len(y) // width
    return 20 * np.log10(np.sqrt(np.mean(y[: n * width].reshape(n, width) ** 2, axis=1)) + 1e-12)


def test_join_has_no_click_and_no_level_step():
    # unrelated pieces at one level: tones of different pitch, starting at random phases
    rng = np.random.default_rng(0)
    t = np.arange(int(0.3 * SR)) / SR
    pieces = [(0.5 * np.sin(2 * np.pi * f * t + rng.uniform(0, 2 * np.pi))).astype(np.float32)
              for f in (1000, 1300, 1700, 1100, 1500)]
    c = int(0.01 * SR)
    joined = beats.join(pieces, sr=SR, crossfade=0.01)
    assert len(joined) == sum(len(p) for p in pieces) - 4 * c
    overlaps = np.cumsum([len(p) - c for p in pieces[:-1]])  # where each cross-fade starts
    near = np.zeros(len(joined), bool)
    for j in overlaps:
        near[j - c : j + 2 * c] = True
    # no click: a step in the waveform is broadband; the tones are all below 2 kHz, so whatever
    # the joined signal has above 5 kHz near a join is the click
    highpass = scipy.signal.butter(8, 5000, "highpass", fs=SR, output="sos")
    clicks = np.abs(scipy.signal.sosfiltfilt(highpass, joined))
    assert max(clicks[j - 2 * c : j + 3 * c].max() for j in overlaps) < 0.002  # below -54 dBFS
    # no dip or bump: level steps between 5 ms windows over a join are no larger than inside a piece
    w = int(0.005 * SR)
    steps = np.abs(np.diff(_levels_db(joined, w)))
    at_join = np.array([near[k * w : (k + 2) * w].any() for k in range(len(steps))])
    assert steps[at_join].max() <= steps[~at_join].max() + 0.5
    # butted end to end (no cross-fade) the same pieces click: the measure above can fail
    butted = np.abs(scipy.signal.sosfiltfilt(highpass, beats.join(pieces, sr=SR, crossfade=0)))
    ends = np.cumsum([len(p) for p in pieces[:-1]])
    assert max(butted[e - c : e + c].max() for e in ends) > 0.1


def test_join_equal_power_for_unrelated_pieces():
    rng = np.random.default_rng(1)
    a, b = (rng.standard_normal(SR).astype(np.float32) for _ in range(2))
    c = int(0.1 * SR)
    out = beats.join([a, b], sr=SR, crossfade=0.1)
    overlap = out[len(a) - c : len(a)]
    # uncorrelated noise at one level keeps its power through an equal-power fade; a linear fade
    # (gains summing to 1) would lose 1.8 dB over the overlap on average, 3 dB in its middle
    assert 20 * np.log10(np.std(overlap) / np.std(a)) == pytest.approx(0.0, abs=0.5)
    middle = overlap[c // 3 : 2 * c // 3]
    assert 20 * np.log10(np.std(middle) / np.std(a)) == pytest.approx(0.0, abs=0.8)


# --------------------------------------------------------------------------------------------------
# bad input: every public function raises a musiclib error naming the value
# --------------------------------------------------------------------------------------------------
GOOD_Y = click_track(120, duration=3.0)[0]
GOOD_B = Beats(tempo=120.0, times=[0.5, 1.0, 1.5, 2.0])
NAN_Y = GOOD_Y.copy()
NAN_Y[5] = np.nan
INF_Y = GOOD_Y.copy()
INF_Y[5] = np.inf


def _calls():
    """(function, kwargs) with good arguments, to be spoiled one at a time."""
    return {
        "track_beats": (beats.track_beats, {"y": GOOD_Y, "sr": SR}),
        "beat_phase": (beats.beat_phase, {"beats": GOOD_B, "n_frames": 100, "frames_per_second": FPS}),
        "clock": (beats.clock, {"n_frames": 100, "bpm": 120.0, "frames_per_second": FPS}),
        "beat_frames": (beats.beat_frames, {"beats": GOOD_B, "frames_per_second": FPS}),
        "beat_slices": (beats.beat_slices, {"y": GOOD_Y, "sr": SR, "beats": GOOD_B}),
        "stretch": (beats.stretch, {"y": GOOD_Y[:4000], "n_samples": 5000, "sr": SR}),
        "join": (beats.join, {"slices": [GOOD_Y[:1000], GOOD_Y[1000:2000]], "sr": SR}),
    }


def _call(func, kwargs):
    """Call with the data argument (the first in ``kwargs``) positional, as users do; ``clock`` has none."""
    if func is beats.clock:
        return func(**kwargs)
    data, *rest = kwargs
    return func(kwargs[data], **{k: kwargs[k] for k in rest})


BAD = [
    # (function name, parameter, bad value, text the message must hold)
    ("track_beats", "y", np.zeros(0, np.float32), "0 samples"),
    ("track_beats", "y", np.zeros(1, np.float32), "1 samples"),
    ("track_beats", "y", NAN_Y, "must be finite; it holds"),
    ("track_beats", "y", INF_Y, "must be finite; it holds"),
    ("track_beats", "y", np.zeros((2, 100), np.float32), "mono"),
    ("track_beats", "y", "loop.wav", "mono"),
    ("track_beats", "y", np.array(["a", "b"]), "dtype"),
    ("track_beats", "y", GOOD_Y[:5000], "shorter than two beats"),
    ("track_beats", "y", np.zeros(SR * 2, np.float32), "no onsets"),
    ("track_beats", "sr", 0, "sr=0"),
    ("track_beats", "sr", -22050, "sr=-22050"),
    ("track_beats", "sr", 22050.5, "sr=22050.5"),
    ("track_beats", "sr", 10**9, "sr=1000000000"),
    ("track_beats", "sr", "22050", "sr='22050'"),
    ("track_beats", "hop_length", 0, "hop_length=0"),
    ("track_beats", "hop_length", 10**6, "hop_length=1000000"),
    ("track_beats", "tempo_range", (0, 200), r"tempo_range\[0\]=0"),
    ("track_beats", "tempo_range", (60, float("inf")), r"tempo_range\[1\]=inf"),
    ("track_beats", "tempo_range", (60, float("nan")), r"tempo_range\[1\]=nan"),
    ("track_beats", "tempo_range", (200, 60), "low < high"),
    ("track_beats", "tempo_range", (60, 1e9), r"tempo_range\[1\]=1000000000.0"),
    ("track_beats", "tempo_range", 120, "pair"),
    ("track_beats", "beats_per_bar", 0, "beats_per_bar=0"),
    ("track_beats", "beats_per_bar", -3, "beats_per_bar=-3"),
    ("track_beats", "beats_per_bar", 4.0, "beats_per_bar=4.0"),
    ("track_beats", "beats_per_bar", 10**6, "beats_per_bar=1000000"),
    ("beat_phase", "beats", [0.5, 1.0], "Beats"),
    ("beat_phase", "n_frames", 0, "n_frames=0"),
    ("beat_phase", "n_frames", -1, "n_frames=-1"),
    ("beat_phase", "n_frames", 2.5, "n_frames=2.5"),
    ("beat_phase", "n_frames", 10**12, "n_frames=1000000000000"),
    ("beat_phase", "frames_per_second", 0.0, "frames_per_second=0.0"),
    ("beat_phase", "frames_per_second", float("nan"), "frames_per_second=nan"),
    ("beat_phase", "frames_per_second", float("inf"), "frames_per_second=inf"),
    ("beat_phase", "frames_per_second", "86", "frames_per_second='86'"),
    ("clock", "bpm", 0, "bpm=0"),
    ("clock", "bpm", -120.0, r"bpm=-120\.0"),
    ("clock", "bpm", float("nan"), "bpm=nan"),
    ("clock", "bpm", 1e6, r"bpm=1000000\.0"),
    ("clock", "bpm", None, "bpm=None"),
    ("clock", "n_frames", 0, "n_frames=0"),
    ("clock", "frames_per_second", -1.0, r"frames_per_second=-1\.0"),
    ("clock", "beats_per_bar", 0, "beats_per_bar=0"),
    ("clock", "start_phase", float("inf"), "start_phase=inf"),
    ("clock", "start_phase", "0", "start_phase='0'"),
    ("beat_frames", "beats", None, "Beats"),
    ("beat_frames", "frames_per_second", 0, "frames_per_second=0"),
    ("beat_slices", "y", np.zeros(0, np.float32), "0 samples"),
    ("beat_slices", "y", NAN_Y, "must be finite; it holds"),
    ("beat_slices", "sr", 0, "sr=0"),
    ("beat_slices", "beats", np.array([0.5, 1.0]), "Beats"),
    ("beat_slices", "beats_per_slice", 0, "beats_per_slice=0"),
    ("beat_slices", "beats_per_slice", 1.5, "beats_per_slice=1.5"),
    ("beat_slices", "beats_per_slice", 10**6, "beats_per_slice=1000000"),
    ("beat_slices", "overlap", -0.01, r"overlap=-0\.01"),
    ("beat_slices", "overlap", float("nan"), "overlap=nan"),
    ("beat_slices", "overlap", 1e9, r"overlap=1000000000\.0"),
    ("stretch", "y", np.zeros(0, np.float32), "0 samples"),
    ("stretch", "y", np.zeros(1, np.float32), "1 samples"),
    ("stretch", "y", INF_Y[:4000], "must be finite; it holds"),
    ("stretch", "y", np.ones((2, 10), np.float32), "mono"),
    ("stretch", "n_samples", 0, "n_samples=0"),
    ("stretch", "n_samples", -5, "n_samples=-5"),
    ("stretch", "n_samples", 5000.0, r"n_samples=5000\.0"),
    ("stretch", "n_samples", 10**12, "n_samples=1000000000000"),
    ("stretch", "n_samples", 40_000, "n_samples=40000"),  # 10x: beyond what a stretcher does well
    ("stretch", "sr", 0, "sr=0"),
    ("stretch", "sr", float("nan"), "sr=nan"),
    ("join", "slices", [], "empty"),
    ("join", "slices", GOOD_Y, "list"),
    ("join", "slices", 3, "list"),
    ("join", "slices", [GOOD_Y[:1000], NAN_Y[:1000]], r"slices\[1\].*NaN"),
    ("join", "slices", [GOOD_Y[:1000], np.zeros(0, np.float32)], r"slices\[1\] has 0 samples"),
    ("join", "slices", [GOOD_Y[:1000], GOOD_Y[:100], GOOD_Y[:1000]], r"slices\[1\] has 100 samples"),
    ("join", "slices", [GOOD_Y[:1000], np.ones((2, 500))], r"slices\[1\] must be a mono"),
    ("join", "sr", 0, "sr=0"),
    ("join", "crossfade", -0.01, r"crossfade=-0\.01"),
    ("join", "crossfade", float("nan"), "crossfade=nan"),
    ("join", "crossfade", 1e9, r"crossfade=1000000000\.0"),
]


@pytest.mark.parametrize("name, param, value, match", BAD, ids=[f"{b[0]}-{b[1]}-{i}" for i, b in enumerate(BAD)])
def test_bad_input_raises_a_musiclib_error(name, param, value, match):
    func, kwargs = _calls()[name]
    kwargs = dict(kwargs, **{param: value})
    with pytest.raises(ParameterError, match=match):
        _call(func, kwargs)


@pytest.mark.parametrize("name", list(_calls()))
def test_good_calls_work(name):
    func, kwargs = _calls()[name]
    _call(func, kwargs)


@pytest.mark.parametrize("sr, hop", [(8000, 128), (4000, 512), (96000, 4096), (22050, 128), (1000, 16)])
def test_odd_but_legal_settings_never_leak_librosa_errors(sr, hop):
    y = librosa.clicks(times=np.arange(0.1, 3.0, 0.5), sr=sr, length=3 * sr)
    try:
        b = beats.track_beats(y, sr=sr, hop_length=hop)
    except MusiclibError:
        return
    except librosa.util.exceptions.ParameterError as e:  # pragma: no cover - what the test forbids
        pytest.fail(f"librosa's error escaped: {e}")
    assert isinstance(b, Beats) and 60 <= b.tempo <= 200


def test_tempo_table_and_whole_bars():
    from musiclib import synth
    from musiclib.corpus import Clip

    sr = 22050
    clicks = synth.drum_loop(duration=8.0, bpm=120, sr=sr, seed=0)
    clip = Clip(Path("groove.wav"), clicks.astype(np.float32), sr, sr, 1)
    shot = Clip(Path("shot.wav"), np.zeros(sr // 10, dtype=np.float32), sr, sr, 1)  # silent one-shot: no row
    table, tracked = beats.tempo_table([clip, shot])
    assert list(table.index) == ["groove"] and set(tracked) == {"groove"}
    assert abs(table.loc["groove", "checked (BPM)"] - 120) < 3 and table.loc["groove", "beats"] == len(tracked["groove"])
    again, _ = beats.tempo_table([clip], known=tracked)  # reused, not re-tracked
    assert again.equals(table)
    empty, none = beats.tempo_table([shot])
    assert empty.empty and none == {} and "checked (BPM)" in empty.columns
    for bad in (None, 3, "groove.wav", [np.zeros(100)]):
        with pytest.raises(ParameterError, match="clips"):
            beats.tempo_table(bad)
    with pytest.raises(ParameterError, match="known"):
        beats.tempo_table([clip], known=[1])
    assert beats.whole_bars([8.0, 7.9, 6.0, 2.0]).tolist() == [True, True, False, False]
    assert beats.whole_bars([6.0], beats_per_bar=3).tolist() == [True]
    for bad in ({"tolerance": 0}, {"tolerance": float("nan")}, {"beats_per_bar": 0}):
        with pytest.raises(ParameterError):
            beats.whole_bars([4.0], **bad)
    with pytest.raises(ParameterError, match="finite"):
        beats.whole_bars([np.inf])


def test_whole_bars_refuses_what_is_not_a_beat_count():
    for bad in ("x", ["a"], [-4.0], [np.nan], None):
        with pytest.raises(ParameterError, match="n_beats"):
            beats.whole_bars(bad)
    assert beats.whole_bars([]).shape == (0,)
