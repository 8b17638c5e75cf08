"""Tests for musiclib.synth: seeded synthetic music for tests and benchmarks."""

from __future__ import annotations

import numpy as np
import pytest

from _audio_fixtures import peak_frequency
from musiclib import synth
from musiclib.errors import ParameterError

SR = 22050


@pytest.mark.parametrize("freq", [55.0, 440.0, 3000.0])
def test_tone(freq):
    y = synth.tone(freq, duration=0.5, sr=SR, amplitude=0.3)
    assert y.shape == (SR // 2,) and y.dtype == np.float32
    assert np.max(np.abs(y)) == pytest.approx(0.3, rel=1e-6)
    assert abs(peak_frequency(y, SR) - freq) <= SR / len(y)


def test_tone_harmonics_stay_below_nyquist():
    y = synth.tone(4000.0, duration=0.5, sr=SR, n_harmonics=5)  # 3rd harmonic 12 kHz > 11.025 kHz
    spectrum = np.abs(np.fft.rfft(y))
    freqs = np.fft.rfftfreq(len(y), 1 / SR)
    strong = freqs[spectrum > 0.05 * spectrum.max()]
    assert strong.min() >= 3900 and strong.max() <= 8100  # 4 kHz and 8 kHz only, nothing aliased
    h = synth.tone(220.0, duration=0.5, sr=SR, n_harmonics=3)
    s = np.abs(np.fft.rfft(h * np.hanning(len(h))))
    bins = [int(round(k * 220 * len(h) / SR)) for k in (1, 2, 3)]
    ratios = s[bins] / s[bins[0]]
    np.testing.assert_allclose(ratios, [1, 1 / 2, 1 / 3], rtol=0.05)


@pytest.mark.parametrize("freq", [0.0, -10.0, 11025.0, 20000.0])
def test_tone_bad_frequency(freq):
    with pytest.raises(ParameterError, match=rf"freq={freq}"):
        synth.tone(freq, sr=SR)


def test_drum_loop_beats():
    y = synth.drum_loop(duration=4.0, sr=SR, bpm=120, seed=0)
    assert y.shape == (4 * SR,) and y.dtype == np.float32
    assert np.max(np.abs(y)) == pytest.approx(0.9, rel=1e-6)
    # an onset (kick) every 0.5 s: energy just after each beat far above the energy just before it
    for b in np.arange(0.5, 3.6, 0.5):
        i = int(b * SR)
        after = np.mean(y[i : i + 500] ** 2)
        before = np.mean(y[i - 600 : i - 100] ** 2)
        assert after > 4 * before
    np.testing.assert_array_equal(y, synth.drum_loop(duration=4.0, sr=SR, bpm=120, seed=0))
    assert not np.array_equal(y, synth.drum_loop(duration=4.0, sr=SR, bpm=120, seed=1))


def test_synthetic_mix():
    y = synth.synthetic_mix(duration=2.0, sr=SR, seed=3)
    assert y.shape == (2 * SR,) and y.dtype == np.float32 and np.all(np.isfinite(y))
    assert np.max(np.abs(y)) == pytest.approx(0.9, rel=1e-6)
    np.testing.assert_array_equal(y, synth.synthetic_mix(duration=2.0, sr=SR, seed=3))
    assert not np.array_equal(y, synth.synthetic_mix(duration=2.0, sr=SR, seed=4))
    assert synth.synthetic_mix(duration=1.0, sr=16000).shape == (16000,)
    # music, not noise: most energy below 2 kHz
    spectrum = np.abs(np.fft.rfft(y)) ** 2
    freqs = np.fft.rfftfreq(len(y), 1 / SR)
    assert spectrum[freqs < 2000].sum() > 0.7 * spectrum.sum()


@pytest.mark.parametrize("duration", [0, -1.0])
def test_synthetic_mix_bad_duration(duration):
    with pytest.raises(ParameterError, match=rf"duration={duration}"):
        synth.synthetic_mix(duration=duration)


@pytest.mark.parametrize("make, kwargs, match", [
    (lambda **k: synth.tone(440.0, **k), {"duration": 1e9}, "more than the"),
    (lambda **k: synth.tone(440.0, **k), {"duration": float("nan")}, "duration=nan"),
    (lambda **k: synth.tone(440.0, **k), {"sr": 0}, "sr=0"),
    (lambda **k: synth.tone(440.0, **k), {"n_harmonics": 0}, "n_harmonics=0"),
    (lambda **k: synth.tone(20000.0, **k), {"sr": 22050}, "freq=20000"),
    (synth.synthetic_mix, {"duration": 1e9}, "more than the"),
    (synth.synthetic_mix, {"duration": float("inf")}, "duration=inf"),
    (synth.synthetic_mix, {"bpm": 0}, "bpm=0"),
    (synth.drum_loop, {"seed": -1}, "seed=-1"),
])
def test_bad_parameters_are_named_before_allocating(make, kwargs, match):
    with pytest.raises(ParameterError, match=match):
        make(**kwargs)
