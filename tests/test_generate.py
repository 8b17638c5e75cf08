"""Tests for musiclib.generate: roll-out (with and without a clock), stability guard, frames to audio,
continuation, the frame-change measure."""

from __future__ import annotations

import numpy as np
import pytest

from musiclib import generate, synth
from musiclib.errors import MusiclibError, ParameterError
from musiclib.framing import Framing, frame_scaler, transform_each
from musiclib.generate import RolloutError, StabilityGuard, rollout, soft_limit
from musiclib.models.linear import RidgeNextFrame, UnstableLinear
from musiclib.representations import LinearSpectrogram, LogSpectrogram, MelSpectrogram, from_params

SR = 22050


@pytest.fixture(scope="module")
def rep():
    return generate.default_representation()


@pytest.fixture(scope="module")
def train(rep):
    return [rep.encode(synth.synthetic_mix(duration=6.0, sr=SR, seed=s)) for s in range(3)]


@pytest.fixture(scope="module")
def fitted(train, rep):
    scaler = frame_scaler(train)
    X, Y = Framing(context=3).dataset(transform_each(scaler, train))
    model = RidgeNextFrame(alpha=10.0).fit(X, Y)
    guard = StabilityGuard.fit(train, rep)
    return model, scaler, guard


def test_default_representation_is_one_constant(rep):
    assert rep.name == "logfreq" and rep.n_features < 256
    for k, v in generate.DEFAULT_REPRESENTATION.items():
        assert rep.params[k] == v


@pytest.mark.parametrize("temperature", [0.0, 0.8])
def test_rollout_shape_determinism_and_prime_untouched(fitted, train, temperature):
    model, scaler, guard = fitted
    prime = train[0][:20].copy()
    before = prime.copy()
    a = rollout(model, prime, n_frames=50, temperature=temperature, guard=guard, scaler=scaler, seed=3, progress=False)
    b = rollout(model, prime, n_frames=50, temperature=temperature, guard=guard, scaler=scaler, seed=3, progress=False)
    c = rollout(model, prime, n_frames=50, temperature=temperature, guard=guard, scaler=scaler, seed=4, progress=False)
    assert a.shape == (50, prime.shape[1]) and a.dtype == np.float32
    assert np.all(np.isfinite(a))
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(prime, before)
    if temperature == 0:
        np.testing.assert_array_equal(a, c)  # no randomness at temperature 0
    else:
        assert not np.allclose(a, c)


def test_rollout_matches_manual_steps(fitted, train):
    model, scaler, _ = fitted
    z = scaler.transform(train[1][:10])
    got = rollout(model, z, n_frames=5, temperature=0.0, progress=False)
    seq = z.copy()
    for _ in range(5):
        seq = np.vstack([seq, model.predict(seq[None, -3:])])
    np.testing.assert_allclose(got, seq[10:], rtol=1e-5, atol=1e-5)


def test_rollout_uses_residual_noise(fitted, train):
    model, scaler, _ = fitted
    z = scaler.transform(train[1][:10])
    res = np.zeros((4, z.shape[1]), np.float32)
    res[:, 0] = 1.0
    mean = rollout(model, z, n_frames=1, temperature=0.0, progress=False)
    noisy = rollout(model, z, n_frames=1, temperature=2.0, residuals=res, progress=False)
    np.testing.assert_allclose(noisy[0] - mean[0], np.r_[2.0, np.zeros(z.shape[1] - 1)], atol=1e-5)


def _energy(guard, frames):
    return guard.energy(frames)


@pytest.mark.parametrize("space", ["scaled", "rep"])
def test_guard_bounds_energy_of_unstable_model_over_10000_frames(train, rep, space):
    guard = StabilityGuard.fit(train, rep)
    if space == "scaled":
        scaler = frame_scaler(train)
        model = UnstableLinear(1.05)
    else:
        scaler = None
        model = UnstableLinear(1.05, offset=2.0)  # dB frames grow without bound
    prime = train[0][:8]
    out = rollout(model, prime, n_frames=10_000, temperature=0.0, guard=guard, scaler=scaler, progress=False)
    assert np.all(np.isfinite(out))
    e = _energy(guard, out)
    assert e.max() <= guard.high + guard.knee * np.log(2) + 1e-3
    assert e.min() >= guard.low - guard.knee * np.log(2) - 1e-3
    assert np.all(out <= guard.feature_high + guard.feature_knee * np.log(2) + 1e-3)
    assert np.all(out >= guard.feature_low - guard.feature_knee * np.log(2) - 1e-3)
    # smooth: the energy never jumps between frames (no clicks), it settles
    assert np.max(np.abs(np.diff(e))) < 3.0
    assert np.max(np.abs(np.diff(e[-5000:]))) < 0.1
    # and without the guard the same model diverges
    with pytest.raises(RolloutError) as info:
        out_off = rollout(model, prime, n_frames=10_000, temperature=0.0, guard=None, scaler=scaler, progress=False)
        # (only reached if float32 did not overflow: then the energy must have left the range)
        assert _energy(guard, out_off).max() > guard.high + 100
        raise RolloutError("diverged", frames=out_off, step=len(out_off))
    assert np.all(np.isfinite(info.value.frames))
    assert info.value.step > 100


def test_guard_disabled_is_identity(train, rep):
    guard = StabilityGuard.fit(train, rep, enabled=False)
    x = train[0][:10] + 500
    np.testing.assert_array_equal(guard(x), x)


@pytest.mark.parametrize("make_rep", [generate.default_representation, lambda: LinearSpectrogram(n_fft=512)])
def test_guard_is_smooth_and_never_increases_changes(make_rep):
    rep = make_rep()
    frames = [rep.encode(synth.synthetic_mix(duration=3.0, sr=SR, seed=s)) for s in range(2)]
    guard = StabilityGuard.fit(frames, rep)
    base = frames[0][40]
    if guard.domain == "db":
        shifts = np.linspace(-150, 150, 601)
        xs = base[None] + shifts[:, None].astype(np.float32)
    else:
        shifts = np.linspace(-150, 150, 601)
        xs = base[None] * (10 ** (shifts / 20))[:, None].astype(np.float32)
    e_in = guard.energy(xs)
    e_out = guard.energy(guard(xs))
    d_in, d_out = np.diff(e_in), np.diff(e_out)
    # monotone ...
    assert np.all(d_out > -1e-4)
    # ... and soft, not a hard clip (which would give 0): just past the upper bound the output still
    # rises (less where the per-feature bounds act too, as for the many narrow bins of logfreq)
    near = (e_in[1:] > guard.high) & (e_in[1:] < guard.high + guard.knee)
    assert near.any() and np.all(d_out[near] > 0.05 * d_in[near])
    # ... and never steeper than the input (1-Lipschitz in the log domain)
    assert np.all(d_out <= d_in + 1e-3)
    assert e_out.max() <= guard.high + guard.knee * np.log(2) + 1e-3
    # inside the training range the guard barely acts
    mid = (e_in > guard.low + 4 * guard.knee) & (e_in < guard.high - 4 * guard.knee)
    if mid.any():
        assert np.max(np.abs(e_out[mid] - e_in[mid])) < 0.2


def test_soft_limit_properties():
    e = np.linspace(-200, 200, 4001)
    out = soft_limit(e, low=-50, high=0, knee=3)
    assert np.all(np.diff(out) >= -1e-9) and np.all(np.diff(out) <= np.diff(e) + 1e-9)
    # soft knee: a hard clip would be flat beyond the bound; this still has slope 1 - sigmoid(1)
    assert soft_limit(3.0 + 1e-3, high=0, knee=3) - soft_limit(3.0, high=0, knee=3) == pytest.approx(
        1e-3 * (1 - 1 / (1 + np.exp(-1))), rel=1e-3)
    assert out.max() <= 3 * np.log1p(np.exp(-50 / 3)) + 1e-9 and out.min() >= -50 - 1e-9
    np.testing.assert_allclose(soft_limit(-25.0, low=-50, high=0, knee=3), -25.0, atol=1e-3)


def test_guard_parameters_exposed(train, rep):
    g = StabilityGuard.fit(train, rep)
    d = g.to_dict()
    for k in ("low", "high", "knee", "feature_low", "feature_high", "feature_knee", "domain", "enabled"):
        assert k in d
    assert d["domain"] == "db" and d["low"] < d["high"]
    with pytest.raises(ParameterError):
        StabilityGuard(low=0.0, high=-1.0)
    with pytest.raises(ParameterError):
        StabilityGuard(low=0.0, high=1.0, domain="weird")


class _NaNModel:
    n_context_ = 2

    def __init__(self, after):
        self.after, self.calls = after, 0

    def predict(self, X):
        self.calls += 1
        y = np.asarray(X)[:, -1] * 1.0
        return y * np.nan if self.calls > self.after else y


def test_rollout_raises_clear_error_on_nan(train):
    with pytest.raises(RolloutError, match="NaN/inf at frame 5") as info:
        rollout(_NaNModel(5), train[0][:4], n_frames=20, temperature=0.0, progress=False)
    assert info.value.step == 5 and info.value.frames.shape == (5, train[0].shape[1])
    assert isinstance(info.value, MusiclibError)


class _Delegating:
    def __init__(self):
        self.kw = None

    def rollout(self, prime, **kw):
        self.kw = kw
        return np.tile(prime[-1], (kw["n_frames"], 1))


def test_rollout_delegates_to_model_rollout(train, rep):
    m = _Delegating()
    guard = StabilityGuard.fit(train, rep)
    out = rollout(m, train[0][:4], n_frames=7, temperature=0.3, guard=guard, seed=9, progress=False)
    assert out.shape == (7, train[0].shape[1])
    assert m.kw["guard"] is guard and m.kw["seed"] == 9 and m.kw["temperature"] == 0.3


@pytest.mark.parametrize(
    "kwargs, match",
    [({"n_frames": 0}, "n_frames"), ({"n_frames": 5, "temperature": -1}, "temperature"),
     ({"n_frames": 5, "framing": 50}, "prime has")],
)
def test_rollout_errors(fitted, train, kwargs, match):
    model, scaler, _ = fitted
    with pytest.raises(ParameterError, match=match):
        rollout(model, train[0][:10], scaler=scaler, progress=False, **kwargs)


def test_frames_to_audio_quality_and_errors(rep):
    y = synth.synthetic_mix(duration=4.0, sr=SR, seed=5)
    frames = rep.encode(y)
    out = generate.frames_to_audio(frames, rep, length=len(y))
    assert out.shape == y.shape and out.dtype == np.float32 and np.all(np.isfinite(out))
    # spectral convergence against the true magnitude (the default representation has no filter bank)
    S_ref, S_out = rep.magnitude(y), rep.magnitude(out)
    sc = 20 * np.log10(np.linalg.norm(S_ref - S_out) / np.linalg.norm(S_ref))
    assert sc < -15
    with pytest.raises(ParameterError, match="NaN"):
        generate.frames_to_audio(np.full_like(frames, np.nan), rep)
    with pytest.raises(ParameterError, match="dB"):
        generate.frames_to_audio(frames + 1000, rep)
    with pytest.raises(ParameterError, match="shape"):
        generate.frames_to_audio(frames[:, :5], rep)


@pytest.mark.parametrize("params", [generate.DEFAULT_REPRESENTATION, {"name": "mel", "n_fft": 1024, "n_mels": 128}])
def test_frames_to_audio_is_the_representations_inverse_with_generation_settings(params):
    rep = from_params(params)
    y = synth.synthetic_mix(duration=2.0, sr=SR, seed=6)
    frames = rep.encode(y)
    inv = generate.GENERATION_INVERSION
    nnls = {"nnls_iter": inv["nnls_iter"]} if hasattr(rep, "to_linear") else {}
    expected = rep.decode(frames, method=inv["method"], n_iter=inv["n_iter"], length=len(y), seed=3, **nnls)
    np.testing.assert_array_equal(generate.frames_to_audio(frames, rep, length=len(y), seed=3), expected)


def test_continue_audio_keeps_prime_exactly(fitted, rep):
    model, scaler, guard = fitted
    y = synth.synthetic_mix(duration=6.0, sr=SR, seed=7)
    start, prime_s, seconds = 0.5, 1.5, 2.0
    out = generate.continue_audio(model, rep, y, sr=SR, start=start, prime_seconds=prime_s, seconds=seconds,
                                  scaler=scaler, guard=guard, temperature=0.5, seed=1, progress=False)
    a, seam = int(round(start * SR)), int(round((start + prime_s) * SR))
    n = seam - a
    assert out.shape == (n + int(round(seconds * SR)),)
    np.testing.assert_array_equal(out[:n], y[a:seam])
    assert np.all(np.isfinite(out))
    # no click: the step across the seam is no larger than the original's own largest step
    assert abs(out[n] - out[n - 1]) <= np.max(np.abs(np.diff(y)))
    # deterministic
    again = generate.continue_audio(model, rep, y, sr=SR, start=start, prime_seconds=prime_s, seconds=seconds,
                                    scaler=scaler, guard=guard, temperature=0.5, seed=1, progress=False)
    np.testing.assert_array_equal(out, again)
    with pytest.raises(ParameterError, match="past the end"):
        generate.continue_audio(model, rep, y, sr=SR, start=5.5, prime_seconds=1.0, seconds=1.0, scaler=scaler)
    with pytest.raises(ParameterError, match="sr="):
        generate.continue_audio(model, rep, y, sr=16000, start=0, prime_seconds=1.0, seconds=1.0, scaler=scaler)


def test_mean_frame_change_measures_drone(rep, train):
    drone = np.tile(train[0][10], (50, 1))
    assert generate.mean_frame_change_db(drone, rep) == pytest.approx(0.0)
    assert generate.mean_frame_change_db(train[0], rep) > 1.0
    with pytest.raises(ParameterError):
        generate.mean_frame_change_db(train[0][:1], rep)


def test_guarded_rollout_through_a_scaler_is_the_guard_in_representation_units(fitted, train):
    """The roll-out applies an affine scaler as one matrix product; it must equal the scaler's own methods."""
    model, scaler, guard = fitted
    prime = train[1][:10]
    got = rollout(model, prime, n_frames=8, temperature=0.0, guard=guard, scaler=scaler, progress=False)
    seq = scaler.transform(prime).astype(np.float32)
    for _ in range(8):
        y = model.predict(seq[None, -3:])
        seq = np.vstack([seq, scaler.transform(guard(scaler.inverse_transform(y)))])
    np.testing.assert_allclose(got, scaler.inverse_transform(seq[10:]), rtol=1e-4, atol=1e-3)


class _NotAffine:
    """A scaler whose transform is not affine: the roll-out must call its methods."""

    def transform(self, x):
        return np.tanh(np.asarray(x, np.float32) / 50.0)

    def inverse_transform(self, z):
        return np.arctanh(np.clip(np.asarray(z, np.float32), -0.999999, 0.999999)) * 50.0


def test_rollout_with_a_scaler_that_is_not_affine(train, rep):
    guard = StabilityGuard.fit(train, rep)
    sc = _NotAffine()
    model = RidgeNextFrame(alpha=10.0).fit(*Framing(context=2).dataset(transform_each(sc, train)))
    out = rollout(model, train[0][:5], n_frames=6, temperature=0.0, guard=guard, scaler=sc, progress=False)
    seq = sc.transform(train[0][:5])
    for _ in range(6):
        seq = np.vstack([seq, sc.transform(guard(sc.inverse_transform(model.predict(seq[None, -2:]))))])
    np.testing.assert_allclose(out, sc.inverse_transform(seq[5:]), rtol=1e-4, atol=1e-3)


# -- the clock ------------------------------------------------------------------------------------


def test_continue_clock_goes_on_from_the_prime():
    from musiclib import beats

    prime = beats.clock(n_frames=30, bpm=100.0, frames_per_second=20.0, start_phase=1.25)
    c = generate.continue_clock(prime, n_frames=50, bpm=100.0, frames_per_second=20.0)
    np.testing.assert_allclose(c, beats.clock(n_frames=80, bpm=100.0, frames_per_second=20.0, start_phase=1.25),
                               atol=1e-5)
    faster = generate.continue_clock(prime, n_frames=50, bpm=150.0, frames_per_second=20.0)
    np.testing.assert_array_equal(faster[:30], prime)
    beat = np.unwrap(np.arctan2(faster[29:, 0], faster[29:, 1]))
    np.testing.assert_allclose(np.diff(beat), 2 * np.pi * 150 / 60 / 20, rtol=1e-4)  # 150 BPM after the prime
    with pytest.raises(ParameterError, match="prime_phase"):
        generate.continue_clock(np.zeros((0, 4)), n_frames=5, bpm=100.0, frames_per_second=20.0)
    with pytest.raises(ParameterError, match="bpm"):
        generate.continue_clock(prime, n_frames=5, bpm=-1.0, frames_per_second=20.0)


def _click_frames(rep, *, bpm, seconds, seed=0):
    import librosa

    rng = np.random.default_rng(seed)
    times = np.arange(0.25, seconds, 60.0 / bpm)
    y = librosa.clicks(times=times, sr=SR, length=int(seconds * SR), click_duration=0.05)
    y = (y + 0.01 * rng.standard_normal(len(y))).astype(np.float32)
    return y, rep.encode(y)


def _onset_tempo(frames, rep, *, min_bpm=60.0):
    """Tempo of the onsets in dB frames: the slope of the onset envelope's peak times (beats per minute)."""
    import scipy.signal

    env = np.maximum(np.diff(frames, axis=0), 0).mean(axis=1)
    fps = rep.frames_per_second
    peaks, _ = scipy.signal.find_peaks(env, height=0.5 * env.max(), distance=int(0.4 * 60 / 200 * fps))
    times = peaks / fps
    assert len(times) >= 8, f"only {len(times)} onsets"
    slope = np.polyfit(np.arange(len(times)), times, 1)[0]
    return 60.0 / slope, times


@pytest.fixture(scope="module")
def click_model(rep, tmp_path_factory):
    """Ridge with a clock, trained on a 120 BPM click track whose beats were tracked."""
    import os

    from musiclib.framing import track_phases

    os.environ.setdefault("MUSICLIB_CACHE", str(tmp_path_factory.mktemp("cache")))
    y, frames = _click_frames(rep, bpm=120.0, seconds=20.0)
    (phase,), (b,) = track_phases([y], sr=SR, n_frames=[len(frames)], frames_per_second=rep.frames_per_second)
    assert b.tempo == pytest.approx(120.0, rel=0.01)
    scaler = frame_scaler([frames])
    framing = Framing(context=4, clock=True, harmonics=4)
    model = RidgeNextFrame(alpha=10.0).fit(*framing.dataset(transform_each(scaler, [frames]), phases=[phase]))
    return model, scaler, framing, frames, StabilityGuard.fit([frames], rep)


@pytest.mark.parametrize("bpm", [105.0, 120.0, 138.0])
def test_generated_onsets_follow_the_clock_tempo(click_model, rep, bpm):
    """A model trained on clicks at 120 BPM, driven by a clock at another tempo, makes onsets at that tempo (2 %)."""
    from musiclib import beats

    model, scaler, framing, frames, guard = click_model
    prime = frames[:20]
    n = int(20 * rep.frames_per_second)
    clock = beats.clock(n_frames=len(prime) + n, bpm=bpm, frames_per_second=rep.frames_per_second)
    out = rollout(model, prime, n_frames=n, temperature=0.0, guard=guard, scaler=scaler, framing=framing,
                  clock=clock, progress=False)
    tempo, times = _onset_tempo(out, rep)
    assert tempo == pytest.approx(bpm, rel=0.02)
    # and the onsets sit on the clock's beats (phase 0), not just at its rate
    beat_cos = clock[len(prime) + np.round(times * rep.frames_per_second).astype(int), 1]
    assert np.median(beat_cos) > 0.8


def test_rollout_clock_errors(click_model, fitted, train, rep):
    from musiclib import beats

    model, scaler, framing, frames, _ = click_model
    with pytest.raises(ParameterError, match="clock="):
        rollout(model, frames[:20], n_frames=10, scaler=scaler, framing=framing, progress=False)
    with pytest.raises(ParameterError, match="shape"):
        rollout(model, frames[:20], n_frames=10, scaler=scaler, framing=framing, clock=np.zeros((29, 4)),
                progress=False)
    plain, plain_scaler, _ = fitted
    clock = beats.clock(n_frames=30, bpm=120.0, frames_per_second=rep.frames_per_second)
    with pytest.raises(ParameterError, match="no clock"):
        rollout(plain, train[0][:20], n_frames=10, scaler=plain_scaler, clock=clock, progress=False)


def test_continue_audio_drives_the_clock(click_model, rep):
    model, scaler, framing, frames, guard = click_model
    y, _ = _click_frames(rep, bpm=120.0, seconds=4.0, seed=1)
    out = generate.continue_audio(model, rep, y, sr=SR, prime_seconds=1.0, seconds=6.0, scaler=scaler,
                                  framing=framing, guard=guard, temperature=0.0, bpm=140.0, progress=False)
    from musiclib.beats import track_beats

    assert track_beats(out[SR:], sr=SR).tempo == pytest.approx(140.0, rel=0.02)  # the audio after the seam
    with pytest.raises(ParameterError, match="clock"):
        generate.continue_audio(model, rep, y, sr=SR, prime_seconds=1.0, seconds=1.0, scaler=scaler,
                                framing=framing, progress=False)


@pytest.mark.parametrize("call, match", [
    (lambda rep, prime, model: generate.rollout(model, prime, n_frames=2**40), "n_frames"),
    (lambda rep, prime, model: generate.rollout(model, prime, n_frames=0), "n_frames"),
    (lambda rep, prime, model: generate.generate_clips(model, [prime], rep, seconds=1e9), "seconds"),
    (lambda rep, prime, model: generate.generate_clips(model, [prime], rep, seconds=float("nan")), "seconds"),
    (lambda rep, prime, model: generate.continue_clock(np.zeros((2, 4)), n_frames=2**40, bpm=120.0,
                                                       frames_per_second=10.0), "n_frames"),
    (lambda rep, prime, model: generate.frames_to_audio(prime, rep, length=2**40), "length"),
    (lambda rep, prime, model: generate.frames_to_audio(prime, rep, length=0), "length"),
])
def test_sizes_are_checked_before_allocating(fitted, train, rep, call, match):
    """A huge or empty size is a ParameterError naming the parameter, never a MemoryError."""
    model, scaler, _ = fitted
    prime = scaler.transform(train[0][:20]).astype(np.float32)
    with pytest.raises(ParameterError, match=match):
        call(rep, train[0][:20] if match == "length" else prime, model)


def test_frames_to_audio_is_finite_at_the_guard_limits(rep):
    """Frames at the representation's extremes (silence floor to +150 dB) still decode to finite audio."""
    frames = np.full((20, rep.n_features), -120.0, dtype=np.float32)
    frames[10:] = 150.0
    y = generate.frames_to_audio(frames, rep)
    assert y.dtype == np.float32 and np.all(np.isfinite(y))


def test_soft_limit_knee_zero_clips_and_bad_knees_are_named():
    e = np.linspace(-10, 10, 50)
    out = soft_limit(e, low=-1.0, high=1.0, knee=0)
    assert np.all(np.isfinite(out)) and out.min() == -1.0 and out.max() == 1.0
    np.testing.assert_array_equal(soft_limit(e, knee=0), e)
    for knee in (float("nan"), -1.0, "wide"):
        with pytest.raises(ParameterError, match="knee"):
            soft_limit(e, low=-1.0, high=1.0, knee=knee)
