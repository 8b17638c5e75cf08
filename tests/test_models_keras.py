"""Tests for musiclib.models.keras_seq: tiny models, so the whole file runs in well under a minute."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

pytestmark = pytest.mark.slow

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

ks = pytest.importorskip("musiclib.models.keras_seq")
import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

from musiclib.errors import ParameterError  # noqa: E402

F = 12  # features per frame
KINDS = ["lstm", "mlp", "vae", "cnn"]
H = 2  # clock harmonics of the clocked models: 8 clock features


def _make(kind, clock_harmonics=0):
    if kind == "lstm":
        return ks.make_lstm(F, units=(8, 8), clock_harmonics=clock_harmonics)
    if kind == "mlp":
        return ks.make_mlp(F, context=4, units=(8, 8), clock_harmonics=clock_harmonics)
    if kind == "vae":
        return ks.make_lstm_vae(F, encoder_units=8, units=8, latent_dim=4, decoder_units=8,
                                clock_harmonics=clock_harmonics)
    return ks.make_cnn(F, filters=8, kernel_size=2, dilations=(1, 2, 4), clock_harmonics=clock_harmonics)


@pytest.fixture(scope="module")
def tracks():
    rng = np.random.default_rng(0)
    # smooth random walks with a per-feature offset and scale, 3 "files"
    return [
        (np.cumsum(rng.standard_normal((120, F)), axis=0) * 0.2 + np.arange(F) * 3.0).astype(np.float32)
        for _ in range(3)
    ]


@pytest.fixture(scope="module")
def phases(tracks):
    from musiclib import beats

    return [beats.clock(n_frames=len(t), bpm=120.0, frames_per_second=10.0, start_phase=i) for i, t in enumerate(tracks)]


@pytest.fixture(scope="module")
def clocked(tracks, phases):
    """Every kind with a clock, trained briefly on the tracks and their phases."""
    ks.set_seed(0)
    out = {}
    for kind in KINDS:
        m = _make(kind, clock_harmonics=H).adapt(tracks)
        m.fit(ks.sequence_dataset(tracks, window=16, batch_size=8, seed=0, phases=phases, harmonics=H), epochs=1,
              verbose=0)
        out[kind] = m
    return out


@pytest.fixture(scope="module")
def models(tracks):
    ks.set_seed(0)
    out = {}
    for kind in KINDS:
        m = _make(kind)
        m.adapt(tracks)
        m.fit(ks.sequence_dataset(tracks, window=16, batch_size=8, seed=0), epochs=1, verbose=0)
        m.calibrate(ks.sequence_dataset(tracks, window=16, batch_size=8, shuffle=False))
        out[kind] = m
    return out


# -- shapes, protocol, causality -------------------------------------------------------------------
@pytest.mark.parametrize("kind", KINDS)
def test_shapes(models, tracks, kind):
    m = models[kind]
    x = np.stack([tracks[0][:10], tracks[1][:10]])
    assert m(x).shape == (2, 10, F)
    assert m.predict(x).shape == (2, F)
    # the protocol's flattened input is accepted too
    np.testing.assert_allclose(m.predict(x.reshape(2, -1)), m.predict(x), rtol=1e-6, atol=1e-6)
    assert m.rollout(tracks[0][:8], n_frames=6, temperature=0.5, seed=1).shape == (6, F)
    assert m.rollout(x[:, :8], n_frames=6, temperature=0.5, seed=1).shape == (2, 6, F)


@pytest.mark.parametrize("kind", KINDS)
def test_causal_mask(models, tracks, kind):
    """The prediction at step t never depends on frames after t."""
    m = models[kind]
    x = tracks[0][None, :20].copy()
    y = m(x).numpy()
    x2 = x.copy()
    x2[:, 12:] += 100.0
    y2 = m(x2).numpy()
    np.testing.assert_allclose(y2[:, :12], y[:, :12], rtol=1e-5, atol=1e-5)
    assert not np.allclose(y2[:, 12:], y[:, 12:])


@pytest.mark.parametrize("kind", KINDS)
def test_compiled_rollout_matches_model(models, tracks, kind):
    """At temperature 0 the compiled loop reproduces predict() fed its own output."""
    m = models[kind]
    prime = tracks[1][:8]
    got = m.rollout(prime, n_frames=6, temperature=0.0)
    seq = prime.copy()
    for _ in range(6):
        seq = np.vstack([seq, m(seq[None]).numpy()[:, -1]])
    np.testing.assert_allclose(got, seq[8:], rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("kind", KINDS)
def test_compiled_rollout_with_a_clock_matches_model(clocked, tracks, kind):
    """With a clock, input step t carries the clock features of frame t + 1: the loop feeds them the same way."""
    from musiclib import beats
    from musiclib.framing import clock_features

    m = clocked[kind]
    assert m.n_inputs == F + 4 * H
    prime = tracks[1][:8]
    clock = beats.clock(n_frames=14, bpm=132.0, frames_per_second=10.0, start_phase=0.5)
    got = m.rollout(prime, n_frames=6, temperature=0.0, clock=clock)
    cf = clock_features(clock, harmonics=H)
    seq = prime.copy()
    for _ in range(6):
        n = len(seq)
        seq = np.vstack([seq, m(np.concatenate([seq, cf[1 : n + 1]], axis=1)[None]).numpy()[:, -1]])
    np.testing.assert_allclose(got, seq[8:], rtol=1e-4, atol=1e-4)
    # the clock matters: another phase gives other frames; a batch takes one clock per clip
    shifted = beats.clock(n_frames=14, bpm=132.0, frames_per_second=10.0, start_phase=2.5)
    assert not np.allclose(got, m.rollout(prime, n_frames=6, temperature=0.0, clock=shifted))
    both = m.rollout(np.stack([prime, prime]), n_frames=6, temperature=0.0, clock=np.stack([clock, shifted]))
    np.testing.assert_allclose(both[0], got, rtol=1e-5, atol=1e-5)


def test_clock_errors(clocked, models, tracks):
    from musiclib import beats

    clock = beats.clock(n_frames=14, bpm=120.0, frames_per_second=10.0)
    with pytest.raises(ParameterError, match="clock="):
        clocked["lstm"].rollout(tracks[0][:8], n_frames=6)
    with pytest.raises(ParameterError, match="shape"):
        clocked["lstm"].rollout(tracks[0][:8], n_frames=6, clock=clock[:-1])
    with pytest.raises(ParameterError, match="no clock"):
        models["lstm"].rollout(tracks[0][:8], n_frames=6, clock=clock)
    with pytest.raises(ParameterError, match="clock_harmonics"):
        ks.make_lstm(F, units=4, clock_harmonics=-1)
    with pytest.raises(ParameterError, match="clock features"):
        clocked["lstm"].predict(np.zeros((2, 5, F), np.float32))


def test_sequence_dataset_with_phases(tracks, phases):
    from musiclib.framing import clock_features

    ds = ks.sequence_dataset(tracks, window=10, batch_size=4, hop=10, shuffle=False, phases=phases, harmonics=H)
    x, y = next(iter(ds))
    x, y = x.numpy(), y.numpy()
    assert x.shape == (4, 10, F + 4 * H) and y.shape == (4, 10, F)
    np.testing.assert_array_equal(x[0, :, :F], tracks[0][:10])
    np.testing.assert_allclose(x[0, :, F:], clock_features(phases[0][1:11], harmonics=H))  # the frame predicted
    np.testing.assert_array_equal(y[0], tracks[0][1:11])
    with pytest.raises(ParameterError, match="phases"):
        ks.sequence_dataset(tracks, window=10, phases=[p[:-1] for p in phases])


def test_adapt_is_a_keras_normalization_with_a_floor(tracks):
    m = _make("lstm")
    frames = np.concatenate(tracks)
    frames[:, 3] = 7.0  # a feature that never moves
    m.adapt(frames)
    assert isinstance(m.normalizer, keras.layers.Normalization)
    z = m.normalizer(frames).numpy()
    np.testing.assert_allclose(np.delete(z, 3, axis=1).mean(0), 0, atol=1e-4)
    np.testing.assert_allclose(np.delete(z, 3, axis=1).std(0), 1, atol=1e-3)
    np.testing.assert_array_equal(z[:, 3], 0.0)
    moved = frames[:1].copy()
    moved[0, 3] += 1.0
    assert np.all(np.isfinite(m.normalizer(moved).numpy())) and abs(m.normalizer(moved).numpy()[0, 3]) < 1e3
    np.testing.assert_allclose(m.denormalizer(m.normalizer(frames)).numpy(), frames, rtol=1e-5, atol=1e-4)
    with pytest.raises(ParameterError, match="NaN"):
        m.adapt(np.full((10, F), np.nan, np.float32))


def test_cnn_receptive_field_prime(models, tracks):
    m = models["cnn"]
    assert m.receptive_field == 1 + (1 + 2 + 4)
    long_prime = tracks[0][:40]
    # frames beyond the receptive field cannot change the roll-out
    a = m.rollout(long_prime, n_frames=6, temperature=0.0)
    b = m.rollout(long_prime[-m.receptive_field:], n_frames=6, temperature=0.0)
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)


def test_vae_tracks_reconstruction_and_kl(tracks):
    m = _make("vae")
    m.adapt(tracks)
    hist = m.fit(ks.sequence_dataset(tracks, window=16, batch_size=8), epochs=1, verbose=0).history
    assert {"loss", "reconstruction_loss", "kl_loss"} <= set(hist)
    assert hist["loss"][0] == pytest.approx(hist["reconstruction_loss"][0] + hist["kl_loss"][0] / F, rel=1e-4)


def test_vae_temperature_zero_ignores_seed(models, tracks):
    m = models["vae"]
    a = m.rollout(tracks[0][:8], n_frames=6, temperature=0.0, seed=1)
    b = m.rollout(tracks[0][:8], n_frames=6, temperature=0.0, seed=2)
    np.testing.assert_array_equal(a, b)


# -- determinism -----------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", KINDS)
def test_same_seed_same_audio(models, tracks, kind):
    from musiclib.representations import DCTBlocks

    rep = DCTBlocks(block_length=16)
    assert rep.n_features == 16
    m = models[kind]
    # a model on the DCT domain's 16 coefficients would need its own weights; here the audio is
    # decoded from the frames' first 12 coefficients padded to 16: equality is what is tested
    def audio(seed):
        frames = m.rollout(tracks[2][:8], n_frames=6, temperature=1.0, seed=seed)
        return rep.decode(np.pad(frames, ((0, 0), (0, 16 - F))))

    a, b, c = audio(5), audio(5), audio(6)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


# -- save / load / resume --------------------------------------------------------------------------
@pytest.mark.parametrize("kind", KINDS)
def test_save_load_identical(models, tracks, kind, tmp_path):
    m = models[kind]
    path = tmp_path / f"{kind}.keras"
    m.save(path)
    m2 = ks.load_model(path)
    assert type(m2) is type(m) and m2.get_config() == m.get_config()
    x = np.stack([tracks[0][:10], tracks[2][5:15]])
    np.testing.assert_array_equal(m2(x).numpy(), m(x).numpy())
    np.testing.assert_array_equal(m2.residual_std.numpy(), m.residual_std.numpy())
    np.testing.assert_array_equal(
        m2.rollout(tracks[0][:8], n_frames=6, temperature=0.7, seed=3),
        m.rollout(tracks[0][:8], n_frames=6, temperature=0.7, seed=3),
    )


def test_load_missing_file(tmp_path):
    with pytest.raises(ParameterError, match="does not exist"):
        ks.load_model(tmp_path / "nope.keras")


class _Interrupt(keras.callbacks.Callback):
    """Stops training with an exception at the end of an epoch, as a killed process would."""

    def __init__(self, after_epoch):
        super().__init__()
        self.after_epoch = after_epoch
        self.weights = None

    def on_epoch_end(self, epoch, logs=None):
        if epoch + 1 == self.after_epoch:
            self.weights = [w.numpy() for w in self.model.trainable_weights]  # what the backup holds
            raise KeyboardInterrupt(f"interrupted after epoch {epoch + 1}")


def test_resume_after_an_interruption(tracks, tmp_path):
    ks.set_seed(1)
    ds = ks.sequence_dataset(tracks, window=16, batch_size=8, seed=0)
    steps = len(list(ds))
    interrupt = _Interrupt(2)
    with pytest.raises(KeyboardInterrupt):
        ks.fit_with_checkpoints(_make("lstm").adapt(tracks), ds, epochs=3, checkpoint_dir=tmp_path,
                                callbacks=[interrupt])
    assert (tmp_path / "backup").is_dir() and not (tmp_path / "model.keras").exists()

    # a fresh model: BackupAndRestore puts the weights, optimiser and epoch back, and training ends at 3
    m, h = ks.fit_with_checkpoints(_make("lstm").adapt(tracks), ds, epochs=3, checkpoint_dir=tmp_path)
    assert h["initial_epoch"] == 2 and len(h["loss"]) == 3 and len(h["epoch_seconds"]) == 3
    assert int(m.optimizer.iterations.numpy()) == 3 * steps  # two epochs restored, one trained
    assert not (tmp_path / "backup").exists() and (tmp_path / "model.keras").exists()
    assert not all(np.array_equal(a, b.numpy()) for a, b in zip(interrupt.weights, m.trainable_weights))

    # done: the saved model comes back, nothing is trained
    m2, h2 = ks.fit_with_checkpoints(_make("lstm"), ds, epochs=3, checkpoint_dir=tmp_path)
    assert h2["initial_epoch"] == 3 and h2["loss"] == h["loss"]
    for a, b in zip(m2.weights, m.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy())

    # more epochs asked for: training goes on from the saved model
    m3, h3 = ks.fit_with_checkpoints(_make("lstm"), ds, epochs=4, checkpoint_dir=tmp_path)
    assert h3["initial_epoch"] == 3 and len(h3["loss"]) == 4 and h3["loss"][:3] == h["loss"]
    assert int(m3.optimizer.iterations.numpy()) == 4 * steps


def test_resume_rejects_a_foreign_log(tracks, tmp_path):
    (tmp_path / "history.csv").write_text("not,a\nlog,file\n")
    with pytest.raises(ParameterError, match="history.csv"):
        ks.fit_with_checkpoints(_make("lstm"), ks.sequence_dataset(tracks, window=8), epochs=1,
                                checkpoint_dir=tmp_path)


# -- data pipeline ---------------------------------------------------------------------------------
def test_sequence_dataset_windows(tracks):
    ds = ks.sequence_dataset(tracks, window=10, batch_size=4, hop=10, shuffle=False)
    xs, ys = zip(*[(x.numpy(), y.numpy()) for x, y in ds])
    x, y = np.concatenate(xs), np.concatenate(ys)
    assert x.shape[1:] == (10, F) and y.shape == x.shape
    np.testing.assert_array_equal(x[:, 1:], y[:, :-1])
    # every window lies inside one track (no window crosses a file boundary)
    starts = np.arange(0, 120 - 10, 10)
    assert len(x) == 3 * len(starts)
    np.testing.assert_array_equal(x[len(starts)], tracks[1][:10])


def test_sequence_dataset_errors(tracks):
    with pytest.raises(ParameterError, match="window"):
        ks.sequence_dataset(tracks, window=500)
    with pytest.raises(ParameterError, match="same n_features"):
        ks.sequence_dataset([tracks[0], tracks[1][:, :5]], window=8)


# -- errors ----------------------------------------------------------------------------------------
def test_bad_inputs(models, tracks):
    m = models["lstm"]
    with pytest.raises(ParameterError, match="n_features=12"):
        m.predict(np.zeros((2, 5, F + 1), np.float32))
    with pytest.raises(ParameterError, match="temperature"):
        m.rollout(tracks[0][:4], n_frames=3, temperature=-1)
    with pytest.raises(ParameterError, match="n_frames"):
        m.rollout(tracks[0][:4], n_frames=0)
    with pytest.raises(ParameterError, match="NaN"):
        m.rollout(np.full((4, F), np.nan, np.float32), n_frames=2)
    with pytest.raises(ParameterError, match="units"):
        ks.make_lstm(F, units=())
    with pytest.raises(ParameterError, match="n_features"):
        ks.make_cnn(0)


def test_strategy_on_this_machine():
    s = ks.strategy()
    n_gpus = len(tf.config.list_logical_devices("GPU"))
    assert s.num_replicas_in_sync == max(1, n_gpus)


def test_import_musiclib_does_not_import_tensorflow():
    code = (
        "import sys, musiclib, musiclib.representations, musiclib.framing\n"
        "assert 'tensorflow' not in sys.modules, 'tensorflow imported'\n"
    )
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    subprocess.run([sys.executable, "-c", code], check=True, cwd=root,
                   env={**os.environ, "PYTHONPATH": root})


# -- stability guard inside the compiled loop ------------------------------------------------------
def _guard(domain, tracks):
    from musiclib import generate

    class _Rep:  # the guard only asks a representation for its name and scale
        def __init__(self, name, scale=None, gain=1.0):
            self.name, self.scale, self.gain = name, scale, gain

    rep = {"db": _Rep("mel", "db"), "log1p": _Rep("log", "log1p", 2.0), "magnitude": _Rep("linear"),
           "signed": _Rep("dct")}[domain]
    frames = np.concatenate(tracks)
    if domain == "db":
        frames = frames * 3.0 - 60.0
    elif domain in ("log1p", "magnitude"):
        frames = np.abs(frames) * 0.1
    else:
        frames = frames * 0.01
    return generate.StabilityGuard.fit(frames, rep), frames


@pytest.mark.parametrize("domain", ["db", "log1p", "magnitude", "signed"])
def test_guard_parity_with_numpy(tracks, domain):
    guard, frames = _guard(domain, tracks)
    rng = np.random.default_rng(1)
    x = frames[rng.integers(len(frames), size=40)]
    x = x * rng.uniform(0.5, 4.0, size=(40, 1)).astype(np.float32)  # some frames far beyond the range
    if domain == "db":
        x = x + rng.uniform(-60, 60, size=(40, 1)).astype(np.float32)
    spec, values = ks.guard_parameters(guard, F)
    got = ks.apply_guard(tf.constant(x), spec, {k: tf.constant(v) for k, v in values.items()}).numpy()
    want = guard(x)
    assert not np.allclose(want, x)  # the guard did something
    scale = np.abs(want).max()
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5 * scale)


def test_disabled_guard_is_no_guard(tracks):
    guard, _ = _guard("db", tracks)
    guard.enabled = False
    assert ks.guard_parameters(guard, F) == ((), {})
    assert ks.guard_parameters(None, F) == ((), {})
    with pytest.raises(ParameterError, match="StabilityGuard"):
        ks.guard_parameters(object(), F)


@pytest.mark.parametrize("kind", ["lstm", "cnn"])
def test_guarded_rollout_matches_stepwise(models, tracks, kind):
    """The guard inside the loop acts exactly as numpy's guard applied after each predicted frame."""
    from musiclib import generate

    guard = generate.StabilityGuard.fit(tracks, type("R", (), {"name": "dct", "scale": None})())
    guard.high = guard.low + 3.0  # tight, so the guard acts on every frame
    m = models[kind]
    prime = tracks[1][:8]
    got = m.rollout(prime, n_frames=6, temperature=0.0, guard=guard)
    seq = prime.copy()
    for _ in range(6):
        seq = np.vstack([seq, guard(m(seq[None]).numpy()[:, -1])])
    np.testing.assert_allclose(got, seq[8:], rtol=1e-4, atol=1e-3)
    unguarded = m.rollout(prime, n_frames=6, temperature=0.0)
    assert not np.allclose(got, unguarded)


def test_generate_rollout_delegates(models, tracks):
    from musiclib import generate

    m = models["lstm"]
    a = generate.rollout(m, tracks[0][:8], n_frames=6, temperature=0.5, seed=2, progress=False)
    np.testing.assert_array_equal(a, m.rollout(tracks[0][:8], n_frames=6, temperature=0.5, seed=2))


@pytest.mark.parametrize("kind", ["lstm", "cnn"])
def test_graph_mode_equals_xla(models, tracks, kind):
    """Without XLA the same loop runs in plain graph mode (its random stream differs: temperature 0)."""
    m = models[kind]
    a = m.rollout(tracks[0][:8], n_frames=6, temperature=0.0, jit_compile=False)
    b = m.rollout(tracks[0][:8], n_frames=6, temperature=0.0)
    np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4)
    c = m.rollout(tracks[0][:8], n_frames=6, temperature=0.5, seed=4, jit_compile=False)
    np.testing.assert_array_equal(c, m.rollout(tracks[0][:8], n_frames=6, temperature=0.5, seed=4, jit_compile=False))


# -- the roll-out's noise: residual vectors keep the music moving ----------------------------------
def _flux_variation(frames):
    """The card's drone statistic on dB frames: median spread of the positive flux over ~0.25 s windows."""
    flux = np.mean(np.maximum(np.diff(frames, axis=0), 0.0), axis=1)
    w = 22
    return float(np.median([np.std(flux[s:s + w]) for s in range(0, len(flux) - w + 1, w)]))


def _flux_level(frames):
    return float(np.sqrt(np.mean(np.diff(frames, axis=0) ** 2)))


@pytest.fixture(scope="module")
def music_lstm():
    """A tiny LSTM trained on log-mel frames of synthetic music (3 mixes), calibrated on a 4th."""
    from musiclib import generate, synth
    from musiclib.representations import MelSpectrogram

    rep = MelSpectrogram(n_mels=128, scale="db")
    tracks = [rep.encode(synth.synthetic_mix(duration=8.0, seed=s, bpm=100 + 10 * s)) for s in range(4)]
    train, held = tracks[:3], tracks[3:]
    ks.set_seed(0)
    m = ks.make_lstm(rep.n_features, units=(32,)).adapt(train)
    m.fit(ks.sequence_dataset(train, window=32, batch_size=16, seed=0), epochs=20, verbose=0)
    m.calibrate(ks.sequence_dataset(held, window=32, shuffle=False))
    return m, train, held, generate.StabilityGuard.fit(train, rep)


def test_residual_noise_keeps_flux_moving(music_lstm):
    """The roll-out's frame-to-frame flux stays near the training data's, in level and in variation.

    With independent Gaussian noise per band (the earlier default, rebuilt here with the same
    weights) the flux level is as high but flat -- the card's drone -- so the variation assertion
    fails for it: that is checked too, so this test can tell the two apart.
    """
    m, train, held, guard = music_lstm
    assert m.noise == "residuals" and m.residual_bank.shape == (ks.RESIDUAL_BANK_SIZE, m.n_features)
    gaussian = ks.NextFrameLSTM.from_config({**m.get_config(), "noise": "gaussian"})
    gaussian.build()
    ours = {w.path.split("/", 1)[1]: w for w in m.weights if "residual_bank" not in w.path}
    assert len(ours) == len(gaussian.weights)
    for a in gaussian.weights:
        a.assign(ours[a.path.split("/", 1)[1]].numpy())
    for layer in (gaussian.normalizer, gaussian.denormalizer):  # Normalization reads its statistics when finalised
        layer.finalize_state()

    level = np.mean([_flux_level(f) for f in train])
    variation = np.mean([_flux_variation(f) for f in train])
    for model, expect_moving in ((m, True), (gaussian, False)):
        frames = model.rollout(held[0][:40], n_frames=400, temperature=0.7, guard=guard, seed=0)[-200:]
        assert np.all(np.isfinite(frames))
        assert 0.5 < _flux_level(frames) / level < 2.0, model.noise
        ratio = _flux_variation(frames) / variation
        if expect_moving:
            assert ratio > 0.35, f"residual noise: flux variation {ratio:.2f} of the training data's"
        else:
            assert ratio < 0.25, f"Gaussian noise: flux variation {ratio:.2f} (expected a flat, drone-like flux)"


def test_calibrate_fills_residual_bank(music_lstm):
    m, train, held, _ = music_lstm
    bank = m.residual_bank.numpy()
    # centred held-out one-step errors, their spread matching residual_std
    assert np.all(np.isfinite(bank)) and np.abs(bank.mean(axis=0)).max() < 0.2
    np.testing.assert_allclose(np.median(bank.std(axis=0)), np.median(m.residual_std.numpy()), rtol=0.2)
    # the bank is part of the saved model (checked for every kind in test_save_load_identical)
    assert "residual_bank" in {w.path.split("/")[-1] for w in m.weights}


def test_noise_parameter(tracks):
    with pytest.raises(ParameterError, match="noise"):
        ks.make_lstm(F, units=8, noise="pink")
    g = ks.make_cnn(F, filters=8, dilations=(1,), noise="gaussian")
    assert g.get_config()["noise"] == "gaussian" and not any("residual_bank" in w.path for w in g.weights)
    g.adapt(tracks)
    a = g.rollout(tracks[0][:8], n_frames=6, temperature=1.0, seed=1)
    np.testing.assert_array_equal(a, g.rollout(tracks[0][:8], n_frames=6, temperature=1.0, seed=1))
    assert not np.array_equal(a, g.rollout(tracks[0][:8], n_frames=6, temperature=1.0, seed=2))


def test_rollout_refuses_bad_seed_and_temperature_and_load_model_a_broken_file(tmp_path):
    rng = np.random.default_rng(0)
    model = ks.make_lstm(8, units=(4,)).adapt([rng.standard_normal((40, 8)).astype("float32")])
    prime = np.zeros((5, 8), "float32")
    for kwargs, match in (({"seed": -1}, "seed=-1"), ({"temperature": "hot"}, "temperature"),
                          ({"temperature": float("nan")}, "temperature")):
        with pytest.raises(ParameterError, match=match):
            model.rollout(prime, n_frames=3, **kwargs)
    path = tmp_path / "m.keras"
    model.save(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])  # a save cut short
    with pytest.raises(ParameterError, match="m.keras"):
        ks.load_model(path)
    path.write_text("not a model")
    with pytest.raises(ParameterError, match="not a Keras"):
        ks.load_model(path)


@pytest.mark.parametrize("data", [None, "frames.npy", 3])
def test_fit_with_checkpoints_names_data_that_is_no_dataset(tmp_path, data):
    model = ks.make_lstm(4, units=(8,))
    with pytest.raises(ParameterError, match="not a dataset"):
        ks.fit_with_checkpoints(model, data, epochs=1, checkpoint_dir=tmp_path)
    assert not (tmp_path / "model.keras").exists()
