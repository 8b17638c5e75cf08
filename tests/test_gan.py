"""Tests for musiclib.models.gan: tiny networks on synthetic patches, so the file runs in about a minute."""

from __future__ import annotations

import os

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

gan = pytest.importorskip("musiclib.models.gan")
import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

from musiclib.errors import ParameterError  # noqa: E402

T, F = 16, 12  # frames x bands per patch
SMALL = dict(latent_dim=8, channels=4, n_layers=2)


def _patches(n=64, seed=0):
    rng = np.random.default_rng(seed)
    # dB-like patches: a per-band level, a slow drift and some noise
    base = np.linspace(-20.0, -60.0, F)
    drift = np.cumsum(rng.standard_normal((n, T, 1)), axis=1)
    return (base + 2.0 * drift + 3.0 * rng.standard_normal((n, T, F))).astype(np.float32)


@pytest.fixture(scope="module")
def patches():
    return _patches()


def _spec(**kw):
    gan.set_seed(0)
    return gan.make_specgan(T, F, **{**SMALL, **kw})


# -- shapes -------------------------------------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.parametrize("architecture", gan.ARCHITECTURES)
@pytest.mark.parametrize("n_labels", [0, 3])
def test_specgan_shapes(patches, architecture, n_labels):
    m = _spec(architecture=architecture, n_labels=n_labels).adapt(patches)
    z = m.latents(5, seed=1)
    labels = np.arange(5) % 3 if n_labels else None
    x = m.generate(latents=z, labels=labels)
    assert x.shape == (5, T, F) and x.dtype == np.float32
    # tanh output, denormalised: within 3 standard deviations of each band's mean
    mean, std = m.band_mean.numpy(), m.band_std.numpy()
    assert np.all(np.abs(x - mean) <= gan.CLIP_STD * std + 1e-3)
    d_in = m.normalize(patches[:5])
    score, features = m.discriminator([d_in, labels] if n_labels else d_in)
    assert score.shape == (5, 1) and features.shape[0] == 5
    assert m.generator(z if not n_labels else [z, labels]).shape == (5, T, F)


@pytest.mark.slow
def test_wavegan_shapes():
    gan.set_seed(0)
    m = gan.make_wavegan(1024, latent_dim=8, channels=2, n_layers=3)
    y = m.generate(3, seed=0)
    assert y.shape == (3, 1024) and np.all(np.abs(y) <= 1.0)
    score, _ = m.discriminator(np.zeros((3, 1024, 1), np.float32))
    assert score.shape == (3, 1)
    assert any(isinstance(layer, gan.PhaseShuffle) for layer in m.discriminator.layers)


@pytest.mark.slow
def test_generate_is_seeded_and_ema_is_the_default(patches):
    m = _spec().adapt(patches)
    a, b = m.generate(4, seed=3), m.generate(4, seed=3)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, m.generate(4, seed=4))
    # before training the EMA generator is a copy of the generator
    np.testing.assert_allclose(a, m.generate(4, seed=3, ema=False), atol=1e-6)


# -- spectral normalisation ------------------------------------------------------------------------
@pytest.mark.slow
def test_spectral_norm_layers_bound_the_largest_singular_value(patches):
    m = _spec(loss="hinge").adapt(patches)
    sn = [layer for layer in m.discriminator.layers if isinstance(layer, keras.layers.SpectralNormalization)]
    assert len(sn) >= 3  # every convolution and the score
    x = m.normalize(patches[:8])
    for layer in sn:  # give the kernels a large scale, then let the power iteration converge
        layer.kernel.assign(layer.kernel * 50.0)
    for _ in range(30):
        m.discriminator(x, training=True)
    for layer in sn:
        w = layer.kernel.numpy().reshape(-1, layer.kernel.shape[-1])
        assert np.linalg.svd(w, compute_uv=False)[0] == pytest.approx(1.0, abs=0.02), layer.name
    # WGAN-GP's critic has none (the gradient penalty constrains it instead)
    c = _spec(loss="wgan-gp")
    assert not any(isinstance(layer, keras.layers.SpectralNormalization) for layer in c.discriminator.layers)


# -- gradient penalty ---------------------------------------------------------------------------------
def test_gradient_penalty_of_a_linear_critic_is_known():
    # f(x) = <w, x>: the gradient is w everywhere, so the penalty is (||w|| - 1)^2 whatever alpha is
    rng = np.random.default_rng(0)
    w = tf.constant(rng.standard_normal((1, 5, 3)).astype(np.float32))

    def critic(x, training=True):
        return tf.reduce_sum(w * x, axis=[1, 2])[:, None]

    real = rng.standard_normal((4, 5, 3)).astype(np.float32)
    fake = rng.standard_normal((4, 5, 3)).astype(np.float32)
    gp = float(gan.gradient_penalty(critic, real, fake, seed=1))
    assert gp == pytest.approx((np.linalg.norm(w.numpy()) - 1.0) ** 2, rel=1e-5)
    # a 1-Lipschitz linear critic is not penalised
    w = w / tf.norm(w)
    assert float(gan.gradient_penalty(critic, real, fake, seed=1)) == pytest.approx(0.0, abs=1e-8)


def test_gradient_penalty_of_a_quadratic_critic_at_the_data():
    # f(x) = ||x||^2 / 2 has gradient x; with fake == real the interpolate is the data point itself
    def critic(x, training=True):
        return [0.5 * tf.reduce_sum(tf.square(x), axis=[1, 2])[:, None], x]  # (score, features) like ours

    x = np.random.default_rng(1).standard_normal((6, 4, 2)).astype(np.float32)
    norms = np.linalg.norm(x.reshape(6, -1), axis=1)
    gp = float(gan.gradient_penalty(critic, x, x, seed=0))
    assert gp == pytest.approx(np.mean((norms - 1.0) ** 2), rel=1e-5)


# -- EMA ------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_ema_update_follows_the_formula(patches):
    m = _spec().adapt(patches)
    rng = np.random.default_rng(0)
    for w in m.generator.weights:
        w.assign(rng.standard_normal(w.shape).astype(np.float32))
    before = [e.numpy().copy() for e in m.ema_generator.weights]
    m.step.assign(90)
    d = min(m.ema_decay, (1 + 90) / (10 + 90))
    assert float(m.ema_decay_at(90)) == pytest.approx(d)
    m.update_ema()
    for e, b, w in zip(m.ema_generator.weights, before, m.generator.weights):
        want = d * b + (1 - d) * w.numpy() if e.trainable else w.numpy()
        np.testing.assert_allclose(e.numpy(), want, rtol=1e-5, atol=1e-6)
    # the warm-up: early on the average follows the weights closely, later it is the set decay
    assert float(m.ema_decay_at(0)) == pytest.approx(0.1)
    assert float(m.ema_decay_at(10**6)) == pytest.approx(m.ema_decay)


# -- training, saving, resuming -------------------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.parametrize("loss", gan.LOSSES)
def test_train_step_moves_both_networks(patches, loss):
    m = _spec(loss=loss, n_critic=2 if loss == "wgan-gp" else None).adapt(patches)
    g0 = [w.numpy().copy() for w in m.generator.trainable_weights]
    d0 = [w.numpy().copy() for w in m.discriminator.trainable_weights]
    logs = m.train_step(tf.constant(patches[:8]))
    assert np.isfinite(float(logs["d_loss"])) and np.isfinite(float(logs["g_loss"]))
    assert ("gp" in logs) == (loss == "wgan-gp")
    assert int(m.step.numpy()) == 1
    assert any(not np.allclose(a, b.numpy()) for a, b in zip(g0, m.generator.trainable_weights))
    assert any(not np.allclose(a, b.numpy()) for a, b in zip(d0, m.discriminator.trainable_weights))


@pytest.mark.slow
def test_conditional_needs_labels(patches):
    m = _spec(n_labels=2).adapt(patches)
    with pytest.raises(ParameterError, match="labels"):
        m.train_step(tf.constant(patches[:8]))
    logs = m.train_step((tf.constant(patches[:8]), tf.constant(np.arange(8) % 2)))
    assert np.isfinite(float(logs["d_loss"]))
    # every weight of both networks learns, the label's projection and embedding included
    labels = tf.constant(np.arange(8) % 2, tf.int32)
    with tf.GradientTape(persistent=True) as tape:
        fake = m.generator([tf.constant(m.latents(8)), labels], training=True)
        score = m.discriminator([fake, labels], training=True)[0]
    for net in (m.generator, m.discriminator):
        grads = tape.gradient(score, net.trainable_variables)
        assert all(g is not None for g in grads), [v.path for v, g in zip(net.trainable_variables, grads) if g is None]


@pytest.mark.slow
def test_save_load_identical(patches, tmp_path):
    m = _spec(n_labels=2, loss="hinge").adapt(patches)
    for _ in range(2):
        m.train_step((tf.constant(patches[:8]), tf.constant(np.arange(8) % 2)))
    path = gan.save_model(m, tmp_path / "m.keras")
    m2 = gan.load_model(path)
    assert type(m2) is gan.SpecGAN and m2.get_config() == m.get_config()
    for a, b in zip(m.variables, m2.variables):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    for opt in ("d_optimizer", "g_optimizer"):
        for a, b in zip(getattr(m, opt).variables, getattr(m2, opt).variables):
            np.testing.assert_array_equal(a.numpy(), b.numpy())
    labels = np.array([0, 1, 1])
    np.testing.assert_array_equal(m.generate(3, labels=labels, seed=2), m2.generate(3, labels=labels, seed=2))
    np.testing.assert_array_equal(m.generate(3, labels=labels, seed=2, ema=False),
                                  m2.generate(3, labels=labels, seed=2, ema=False))
    # nothing the user owns is overwritten
    with pytest.raises(ParameterError, match="exists"):
        gan.save_model(m, path)
    with pytest.raises(ParameterError, match=".keras"):
        gan.save_model(m, tmp_path / "m.h5")
    with pytest.raises(ParameterError, match="does not exist"):
        gan.load_model(tmp_path / "missing.keras")


@pytest.mark.slow
def test_resume_is_the_uninterrupted_run_and_seeded_runs_repeat(patches, tmp_path):
    # two trainings from the same seed, one of them interrupted and resumed from its checkpoint,
    # end with identical weights: the run is seeded and the resume exact (noise, gradient-penalty
    # draws and the data order all continue where they stopped)
    def train(folder, steps, model=None):
        model = model or _spec(loss="wgan-gp", n_critic=1).adapt(patches)
        data = gan.patch_dataset(patches, batch_size=8, seed=0)
        return gan.fit_gan(model, data, steps=steps, steps_per_epoch=3, checkpoint_dir=folder)

    full, h = train(tmp_path / "full", 6)
    assert h["steps"] == 6 and h["initial_step"] == 0 and len(h["seconds_per_step"]) == 2
    half, _ = train(tmp_path / "half", 3)  # interrupted after 3 steps ...
    resumed, h2 = train(tmp_path / "half", 6, model=gan.load_model(tmp_path / "half" / "model.keras"))
    assert h2["initial_step"] == 3 and h2["steps"] == 6  # ... and resumed
    assert any(not np.array_equal(a.numpy(), b.numpy()) for a, b in zip(half.variables, full.variables) if a.trainable)
    for a, c in zip(full.variables, resumed.variables):
        np.testing.assert_array_equal(a.numpy(), c.numpy())
    # a finished run trains no further
    _, h3 = train(tmp_path / "full", 6)
    assert h3["steps"] == 6 and h3["seconds_per_step"] == []


# -- phase shuffle ----------------------------------------------------------------------------------
def test_shift_indices_reflect_at_the_edges():
    idx = gan.shift_indices(5, tf.constant([[0], [2], [-2]])).numpy()
    np.testing.assert_array_equal(idx[0], [0, 1, 2, 3, 4])
    np.testing.assert_array_equal(idx[1], [2, 1, 0, 1, 2])  # y[t] = x[t - 2], x[-1] -> x[1], x[-2] -> x[2]
    np.testing.assert_array_equal(idx[2], [2, 3, 4, 3, 2])  # y[t] = x[t + 2], x[5] -> x[3], x[6] -> x[2]


@pytest.mark.slow
def test_phase_shuffle():
    layer = gan.PhaseShuffle(2, seed=0)
    x = tf.constant(np.random.default_rng(0).standard_normal((32, 10, 3)).astype(np.float32))
    np.testing.assert_array_equal(layer(x, training=False).numpy(), x.numpy())
    y = layer(x, training=True).numpy()
    assert y.shape == x.shape
    found = set()
    for b in range(len(x)):
        matches = [s for s in range(-2, 3)
                   if np.array_equal(y[b], x.numpy()[b][gan.shift_indices(10, tf.constant([[s]])).numpy()[0]])]
        assert matches, f"example {b} is not a reflected shift of its input"
        found.add(matches[0])
    assert len(found) >= 3  # each example draws its own shift
    assert int(layer.calls.numpy()) == 1
    # the same seed and call count give the same shifts
    other = gan.PhaseShuffle(2, seed=0)
    np.testing.assert_array_equal(other(x, training=True).numpy(), y)
    assert gan.PhaseShuffle(0)(x, training=True) is x
    with pytest.raises(ParameterError):
        gan.PhaseShuffle(-1)


# -- latent paths ---------------------------------------------------------------------------------------
def test_slerp():
    a, b = np.array([2.0, 0.0]), np.array([0.0, 4.0])
    np.testing.assert_allclose(gan.slerp(a, b, 0.0), a)
    np.testing.assert_allclose(gan.slerp(a, b, 1.0), b, atol=1e-12)
    mid = gan.slerp(a, b, 0.5)
    assert np.linalg.norm(mid) == pytest.approx(3.0)  # the norm moves linearly
    np.testing.assert_allclose(mid / np.linalg.norm(mid), [np.sqrt(0.5), np.sqrt(0.5)])  # half the angle
    assert gan.slerp(a, b, np.linspace(0, 1, 7)).shape == (7, 2)
    np.testing.assert_allclose(gan.slerp(a, 3 * a, 0.5), 2 * a)  # parallel latents
    for bad in (dict(a=a, b=b[:1], t=0.5), dict(a=a, b=b, t=1.5), dict(a=a, b=b, t=np.nan),
                dict(a=np.zeros(2), b=b, t=0.5), dict(a=np.array([np.inf, 0]), b=b, t=0.5)):
        with pytest.raises(ParameterError):
            gan.slerp(bad["a"], bad["b"], bad["t"])


def test_latent_walk():
    z = gan.latent_walk(31, latent_dim=16, n_anchors=4, seed=2)
    assert z.shape == (31, 16) and z.dtype == np.float32
    anchors = np.random.default_rng(2).standard_normal((4, 16))
    np.testing.assert_allclose(z[0], anchors[0], rtol=1e-5)
    np.testing.assert_allclose(z[10], anchors[1], rtol=1e-5)
    np.testing.assert_allclose(z[-1], anchors[-1], rtol=1e-5)
    steps = np.linalg.norm(np.diff(z, axis=0), axis=1)
    assert steps.max() < 0.5 * np.linalg.norm(anchors[1] - anchors[0])  # small steps, no jumps
    np.testing.assert_array_equal(z, gan.latent_walk(31, latent_dim=16, n_anchors=4, seed=2))
    for bad in (dict(n_points=1), dict(n_points=10, n_anchors=1), dict(n_points=10, latent_dim=0)):
        with pytest.raises(ParameterError):
            gan.latent_walk(**{"latent_dim": 4, **bad})


# -- data -------------------------------------------------------------------------------------------------
def test_patch_dataset(patches):
    x, y = next(iter(gan.patch_dataset(patches, labels=np.arange(len(patches)) % 3, batch_size=5)))
    assert x.shape == (5, T, F) and y.shape == (5,) and y.dtype == tf.int32
    assert next(iter(gan.patch_dataset(patches, batch_size=4))).shape == (4, T, F)
    for bad in (dict(patches=patches[:0]), dict(patches=np.full((4, 2, 2), np.nan)),
                dict(patches=patches, batch_size=0), dict(patches=patches, batch_size=10**6),
                dict(patches=patches, labels=np.zeros(3, int)), dict(patches=patches, labels=np.zeros(len(patches)))):
        with pytest.raises(ParameterError):
            gan.patch_dataset(**{"batch_size": 4, **bad})


def test_wave_windows():
    y = np.arange(10000, dtype=np.float32) / 10000
    w = gan.wave_windows([y, y[:100]], n_samples=4096, hop=1024)
    assert w.shape == (6, 4096)
    np.testing.assert_array_equal(w[1], y[1024 : 1024 + 4096])
    with pytest.raises(ParameterError, match="no clip"):
        gan.wave_windows([y[:100]], n_samples=4096)
    with pytest.raises(ParameterError):
        gan.wave_windows([np.full(5000, np.nan)], n_samples=4096)
    with pytest.raises(ParameterError):
        gan.wave_windows([y], n_samples=0)


# -- bad input -------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_bad_parameters_raise(patches):
    for bad in (dict(n_frames=15), dict(loss="bce"), dict(ema_decay=1.0), dict(ema_decay=np.nan), dict(latent_dim=0),
                dict(architecture="3d"), dict(n_critic=0), dict(n_critic=100), dict(d_learning_rate=-1.0),
                dict(channels=2.5), dict(n_labels=-1), dict(seed=-1)):
        args = {"n_frames": T, "n_features": F, **SMALL, **bad}
        with pytest.raises(ParameterError):
            gan.SpecGAN(args.pop("n_frames"), args.pop("n_features"), **args)
    with pytest.raises(ParameterError, match="divisible"):
        gan.WaveGAN(1000, n_layers=3)
    m = _spec()
    with pytest.raises(ParameterError):
        m.adapt(np.full((2, T, F), np.nan))
    with pytest.raises(ParameterError):
        m.adapt(np.zeros((2, T, F + 1)))
    with pytest.raises(ParameterError, match="not conditional"):
        m.generate(2, labels=[0, 1])
    with pytest.raises(ParameterError):
        m.generate(0)
    with pytest.raises(ParameterError):
        m.generate(latents=np.zeros((2, 3)))
    c = _spec(n_labels=2)
    with pytest.raises(ParameterError, match="conditional"):
        c.generate(2)
    with pytest.raises(ParameterError, match="labels"):
        c.generate(2, labels=[0, 2])


# -- the monitor ------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_monitor_records_losses_snapshots_and_survives_a_resume(patches, tmp_path, sr):
    from musiclib import synth

    real = [synth.synthetic_mix(duration=1.5, sr=sr, seed=s) for s in range(4)]

    def render(model, n_clips, seed):
        x = model.generate(n_clips, seed=seed)
        # a stand-in for an inversion: a tone whose level follows the patch's mean level
        t = np.arange(int(1.2 * sr)) / sr
        clips = [0.1 * (1 + np.tanh(p.mean() / 40)) * np.sin(2 * np.pi * (220 + 50 * i) * t) for i, p in enumerate(x)]
        return x, clips

    def run(steps):
        monitor = gan.GANMonitor(render, every=2, training=real[:2], reference=real[2:], sr=sr, n_clips=2,
                                 path=tmp_path / "record.npz")
        model = _spec().adapt(patches)
        gan.fit_gan(model, gan.patch_dataset(patches, batch_size=8), steps=steps, steps_per_epoch=2,
                    checkpoint_dir=tmp_path / "ckpt", callbacks=[monitor])
        return monitor.record

    rec = run(2)
    assert rec.steps == [1, 2] and set(rec.losses) == {"d_loss", "g_loss"}
    assert [s["step"] for s in rec.snapshots] == [0, 2]
    s = rec.snapshots[-1]
    assert s["images"].shape == (2, T, F) and len(s["clips"]) == 2 and s["sr"] == sr
    assert np.isfinite(s["noise"]) and np.isfinite(s["diversity"])
    rec = run(4)  # resumed from the backup at step 2: the record continues
    assert rec.steps == [1, 2, 3, 4] and [s["step"] for s in rec.snapshots] == [0, 2, 4]
    loaded = gan.TrainingRecord.load(tmp_path / "record.npz")
    assert loaded.steps == rec.steps and len(loaded.snapshots) == 3
    np.testing.assert_array_equal(loaded.snapshots[1]["images"], rec.snapshots[1]["images"])
    assert list(loaded.table()["step"]) == [0, 2, 4]
    assert loaded.truncate(2).steps == [1, 2]
    with pytest.raises(ParameterError):
        gan.GANMonitor(render, every=0, training=real, reference=real, sr=sr)


# -- VAE-GAN ------------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_vaegan_trains_decoder_and_discriminator_and_saves(patches, tmp_path):
    gan.set_seed(0)
    m = gan.make_vaegan(T, F, latent_dim=4, filters=(4, 8), d_channels=4, warmup_steps=0).adapt(patches)
    assert m.sample(3, seed=0).shape == (3, T, F)
    dec0 = [w.numpy().copy() for w in m.decoder_dense.trainable_weights]
    d0 = [w.numpy().copy() for w in m.discriminator.trainable_weights]
    logs = m.train_step((tf.constant(patches[:8]), tf.constant(np.full(8, -1))))
    for k in ("loss", "reconstruction_loss", "kl_loss", "d_loss", "adversarial_loss", "feature_loss"):
        assert np.isfinite(float(logs[k])), k
    assert any(not np.allclose(a, b.numpy()) for a, b in zip(dec0, m.decoder_dense.trainable_weights))
    assert any(not np.allclose(a, b.numpy()) for a, b in zip(d0, m.discriminator.trainable_weights))
    path = gan.save_model(m, tmp_path / "vaegan.keras")
    m2 = gan.load_model(path)
    assert type(m2) is gan.VAEGAN and m2.get_config() == m.get_config()
    np.testing.assert_array_equal(m.sample(3, seed=1), m2.sample(3, seed=1))
    for a, b in zip(m.d_optimizer.variables, m2.d_optimizer.variables):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    with pytest.raises(ParameterError, match="unconditional"):
        gan.VAEGAN(T, F, n_labels=2)
    with pytest.raises(ParameterError):
        gan.VAEGAN(T, F, adversarial_weight=-1.0)


# -- warm start and renderers ------------------------------------------------------------------------------
@pytest.mark.slow
def test_warm_start_makes_the_conditional_model_begin_as_the_unconditional_one(patches):
    base = _spec().adapt(patches)
    for _ in range(2):
        base.train_step(tf.constant(patches[:8]))
    cond = _spec(n_labels=3).warm_start(base)
    z = base.latents(4, seed=1)
    want = base.generate(latents=z)
    for label in range(3):  # whatever the label: the label rows start at zero
        np.testing.assert_allclose(cond.generate(latents=z, labels=label), want, rtol=1e-5, atol=1e-4)
    x = cond.normalize(patches[:4])
    np.testing.assert_allclose(cond.discriminator([x, np.array([0, 1, 2, 0])])[0].numpy(),
                               base.discriminator(x)[0].numpy(), rtol=1e-5, atol=1e-5)
    with pytest.raises(ParameterError):
        cond.warm_start(gan.make_wavegan(1024, latent_dim=8, channels=2, n_layers=3))


@pytest.mark.slow
def test_renderers(patches, sr):
    from musiclib.representations import MelSpectrogram

    rep = MelSpectrogram(n_fft=256, n_mels=F, scale="db")
    m = _spec(n_labels=2).adapt(patches)
    images, clips = gan.spec_renderer(rep, patches_per_clip=3, overlap=2)(m, 2, 0)
    assert images.shape == (2, 3 * (T - 2) + 2, F) and len(clips) == 2
    assert all(c.ndim == 1 and len(c) > 0 and np.all(np.isfinite(c)) for c in clips)
    w = gan.make_wavegan(1024, latent_dim=8, channels=2, n_layers=3)
    images, clips = gan.wave_renderer(sr=sr)(w, 2, 0)
    assert len(clips) == 2 and len(clips[0]) == round(1024 * sr / gan.WAVEGAN_SR) and images.ndim == 3
    with pytest.raises(ParameterError):
        gan.spec_renderer(rep, patches_per_clip=0)


# -- a watched run, as 06_gan trains its models ---------------------------------------------------------------
def _record(train_seconds, snapshots=()):
    return gan.TrainingRecord(steps=list(range(1, len(train_seconds) + 1)), train_seconds=list(train_seconds),
                              losses={"d_loss": [0.0] * len(train_seconds)}, snapshots=list(snapshots))


def test_seconds_per_step_leaves_out_the_first_step():
    assert gan.seconds_per_step(_record([5.0, 5.5, 6.5, 7.0])) == pytest.approx(0.5)  # 0.5, 1.0, 0.5
    assert np.isnan(gan.seconds_per_step(_record([5.0])))
    assert np.isnan(gan.seconds_per_step(_record([])))


def test_snapshots_summary_at_equal_training_time():
    def snap(step, seconds, noise, passed):
        checks = {"noise": passed, "diversity": True, "rhythm": False}
        return {"step": step, "train_seconds": seconds, "card": {"noise": noise, "distribution": 0.4, "diversity": 0.2},
                "card_passed": checks}

    rec = _record([1.0, 2.0, 3.0], [snap(0, 0.0, 0.9, False), snap(2, 2.0, 0.5, True), snap(4, 4.0, 0.3, True),
                                    snap(6, 10.0, 0.1, False)])
    out = gan.snapshots_summary(rec, until_seconds=4.0)
    assert out["snapshots"] == 2  # step 0 and the one at 10 s left out
    assert out["snapshots passing every check"] == "2 of 2" and out["share passing"] == 1.0  # rhythm ignored
    assert out["mean noise"] == pytest.approx(0.4) and out["checks failed at some snapshot"] == "-"
    assert out["s per step"] == pytest.approx(1.0)
    late = gan.snapshots_summary(rec, until_seconds=10.0)
    assert late["snapshots passing every check"] == "2 of 3" and late["checks failed at some snapshot"] == "noise"
    assert gan.snapshots_summary(rec, until_seconds=10.0, ignore=())["checks failed at some snapshot"] == "noise, rhythm"
    none = gan.snapshots_summary(rec, until_seconds=1.0)
    assert none["snapshots"] == 0 and np.isnan(none["share passing"]) and np.isnan(none["mean noise"])
    with pytest.raises(ParameterError, match="until_seconds"):
        gan.snapshots_summary(rec, until_seconds=-1)


@pytest.mark.slow
def test_fit_monitored_trains_watches_and_describes(patches, tmp_path, sr):
    import matplotlib

    matplotlib.use("Agg")
    from musiclib import synth

    real = [synth.synthetic_mix(duration=1.5, sr=sr, seed=s) for s in range(4)]

    def render(model, n_clips, seed):
        x = model.generate(n_clips, seed=seed)
        t = np.arange(int(1.2 * sr)) / sr
        return x, [0.1 * np.sin(2 * np.pi * (220 + 50 * i) * t) for i in range(len(x))]

    model, history, record = gan.fit_monitored(
        _spec().adapt(patches), gan.patch_dataset(patches, batch_size=8), steps=4, every=2, render=render,
        checkpoint_dir=tmp_path / "ckpt", training=real[:2], reference=real[2:], sr=sr, n_clips=2)
    assert history["steps"] == 4 and record.steps == [1, 2, 3, 4]
    assert [s["step"] for s in record.snapshots] == [0, 2, 4]
    assert (tmp_path / "ckpt" / "record.npz").exists() and (tmp_path / "ckpt" / "model.keras").exists()
    text = gan.describe_training(model, history, record)
    assert text.startswith(f"generator {model.count_params_of('generator'):,} / discriminator "
                           f"{model.count_params_of('discriminator'):,} parameters; 4 steps (0 restored")
    assert text.endswith(f"{gan.seconds_per_step(record):.3f} s per step")
    axes = gan.plot_training(record, title="losses")
    assert axes[0].get_title() == "losses" and len(axes[1].get_lines()) >= 2
