"""musiclib.models.vae: the KL term and free bits, the vector quantiser, the models, saving, resuming, the prior.

The Keras training tests are marked ``slow``; the rest build small models or compute on tensors only.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

tf = pytest.importorskip("tensorflow")
keras = pytest.importorskip("keras")

from musiclib import patches as P  # noqa: E402
from musiclib.errors import ParameterError  # noqa: E402
from musiclib.models import vae  # noqa: E402

T, F = 8, 16  # a tiny patch: 8 frames x 16 bands
SMALL = {"filters": (4, 8)}


def _toy_patches(n=96, seed=0, n_files=3):
    """Patches with structure a VAE can learn: a few spectral shapes at random levels, in dB."""
    shapes = np.random.default_rng(0).normal(0, 10, size=(4, 1, F))  # the same shapes for every seed
    rng = np.random.default_rng(seed)
    k = rng.integers(0, 4, size=n)
    x = -40 + shapes[k] + rng.normal(0, 8, size=(n, 1, 1)) + rng.normal(0, 1, size=(n, T, F))
    per = n // n_files
    frames = [x[i * per : (i + 1) * per].reshape(-1, F) for i in range(n_files)]
    return P.make_patches(frames, n_frames=T, labels=[f"song{i}" for i in range(n_files)])


@pytest.fixture(scope="module")
def toy():
    return _toy_patches()


# -- the KL term and free bits ---------------------------------------------------------------------------


def test_gaussian_kl_closed_form_and_monte_carlo():
    mean = tf.constant([[0.0, 1.0, -2.0]])
    log_var = tf.constant([[0.0, 0.0, np.log(0.25)]], dtype=tf.float32)
    kl = vae.gaussian_kl(mean, log_var).numpy()[0]
    assert kl[0] == pytest.approx(0.0, abs=1e-7)  # the prior itself
    assert kl[1] == pytest.approx(0.5, abs=1e-6)
    expected = 0.5 * (4.0 + 0.25 - 1.0 - np.log(0.25))
    assert kl[2] == pytest.approx(expected, rel=1e-5)
    # Monte Carlo: E_q[log q(z) - log p(z)]
    rng = np.random.default_rng(0)
    z = -2.0 + 0.5 * rng.standard_normal(400_000)
    log_q = -0.5 * ((z + 2.0) / 0.5) ** 2 - np.log(0.5)
    log_p = -0.5 * z**2
    assert np.mean(log_q - log_p) == pytest.approx(expected, rel=0.01)


def test_free_bits_value_and_gradient():
    kl = tf.Variable([0.01, 0.5, 2.0])
    with tf.GradientTape() as tape:
        total = vae.free_bits_kl(kl, 0.25)
    assert float(total) == pytest.approx(0.25 + 0.5 + 2.0)
    grad = tape.gradient(total, kl).numpy()
    np.testing.assert_allclose(grad, [0.0, 1.0, 1.0])  # no reason to push a unit below its free bits
    assert float(vae.free_bits_kl(kl, 0.0)) == pytest.approx(2.51)


def test_kl_warmup_weight():
    model = vae.make_vae(T, F, latent_dim=4, beta=0.8, warmup_steps=10, **SMALL)
    assert float(model.kl_weight()) == pytest.approx(0.08)  # step 0 counts as the first step
    model.optimizer.iterations.assign(4)
    assert float(model.kl_weight()) == pytest.approx(0.4)
    model.optimizer.iterations.assign(100)
    assert float(model.kl_weight()) == pytest.approx(0.8)
    flat = vae.make_vae(T, F, latent_dim=4, beta=0.8, warmup_steps=0, **SMALL)
    assert float(flat.kl_weight()) == pytest.approx(0.8)


def test_vae_loss_is_reconstruction_plus_weighted_free_bits_kl(toy):
    model = vae.make_vae(T, F, latent_dim=4, beta=0.5, free_bits=0.3, warmup_steps=0, **SMALL).adapt(toy)
    x = tf.constant(toy.x[:16])
    xn = model._normalize(x)
    mean, log_var = model._encode(xn, None)
    xh = model._decode(mean, None)
    model.decoder_log_scale.assign(np.linspace(-1, 1, F).astype(np.float32))
    losses = model._compute_losses(x, None, training=False)
    err = (xn - xh).numpy()
    rec = float(np.mean(err**2))
    log_s = np.linspace(-1, 1, F)
    nll = np.mean(0.5 * (err / np.exp(log_s)) ** 2 + log_s + 0.5 * np.log(2 * np.pi))  # Gaussian, per value
    kl_units = tf.reduce_mean(vae.gaussian_kl(mean, log_var), axis=0).numpy()
    assert float(losses["reconstruction_loss"]) == pytest.approx(rec, rel=1e-5)
    assert float(losses["kl_loss"]) == pytest.approx(kl_units.sum(), rel=1e-5)
    expected = nll + 0.5 * np.maximum(kl_units, 0.3).sum() / (T * F)
    assert float(losses["loss"]) == pytest.approx(expected, rel=1e-5)
    np.testing.assert_allclose(model.decoder_std(), np.exp(log_s) * model.feature_std.numpy(), rtol=1e-5)


# -- the vector quantiser ----------------------------------------------------------------------------


def _toy_quantizer(**kwargs):
    vq = vae.VectorQuantizer(2, 2, **kwargs)
    vq.build()
    vq.codebook.assign([[0.0, 0.0], [10.0, 10.0]])
    return vq


def test_vq_nearest_code_and_straight_through_gradient():
    vq = _toy_quantizer()
    z = tf.Variable([[1.0, -1.0], [9.0, 8.0], [4.0, 4.0]])
    w = tf.constant([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    with tf.GradientTape() as tape:
        st, zq, codes = vq(z)
        out = tf.reduce_sum(st * w)
    assert codes.numpy().tolist() == [0, 1, 0]
    np.testing.assert_allclose(st.numpy(), [[0, 0], [10, 10], [0, 0]], atol=1e-6)  # forward: the codes
    np.testing.assert_allclose(zq.numpy(), st.numpy(), atol=1e-6)
    # backward: straight through, as if the quantiser were the identity
    np.testing.assert_allclose(tape.gradient(out, z).numpy(), w.numpy())
    # the codebook gets no gradient (it is learned by EMA)
    assert not vq.trainable_weights


def test_vq_ema_update_matches_the_formula_and_converges():
    vq = _toy_quantizer(decay=0.5, epsilon=1e-5)
    vq.cluster_size.assign([1.0, 1.0])
    vq.code_sum.assign([[0.0, 0.0], [10.0, 10.0]])
    z = tf.constant([[2.0, 2.0], [4.0, 0.0], [8.0, 8.0]])
    codes = tf.constant([0, 0, 1])
    vq.ema_update(z, codes)
    size = np.array([0.5 * 1 + 0.5 * 2, 0.5 * 1 + 0.5 * 1])
    total = np.array([[0.5 * 0 + 0.5 * 6, 0.5 * 0 + 0.5 * 2], [0.5 * 10 + 0.5 * 8, 0.5 * 10 + 0.5 * 8]])
    n = size.sum()
    smoothed = (size + 1e-5) / (n + 2e-5) * n
    np.testing.assert_allclose(vq.cluster_size.numpy(), size, rtol=1e-6)
    np.testing.assert_allclose(vq.code_sum.numpy(), total, rtol=1e-6)
    np.testing.assert_allclose(vq.codebook.numpy(), total / smoothed[:, None], rtol=1e-5)
    for _ in range(60):
        vq.ema_update(z, codes)
    np.testing.assert_allclose(vq.codebook.numpy(), [[3.0, 1.0], [8.0, 8.0]], atol=1e-3)  # the cluster means


def test_vq_dead_code_restart():
    vq = _toy_quantizer(dead_threshold=0.5)
    vq.cluster_size.assign([3.0, 0.1])  # code 1 is dead
    z = tf.constant([[7.0, -7.0], [7.0, -7.0]])
    assert int(vq.restart_dead_codes(z)) == 1
    np.testing.assert_allclose(vq.codebook.numpy(), [[0.0, 0.0], [7.0, -7.0]])
    np.testing.assert_allclose(vq.cluster_size.numpy(), [3.0, 1.0])
    assert int(vq.restart_dead_codes(z)) == 0


def test_codebook_perplexity():
    assert vae.codebook_perplexity(np.zeros(50, int), 8) == pytest.approx(1.0)
    assert vae.codebook_perplexity(np.arange(64) % 8, 8) == pytest.approx(8.0)
    codes = np.array([0, 0, 1, 2, 2, 2, 3])
    assert float(vae.codebook_perplexity(tf.constant(codes), 4)) == pytest.approx(vae.codebook_perplexity(codes, 4),
                                                                                  rel=1e-5)


# -- shapes and bad input ----------------------------------------------------------------------------


def test_shapes(toy):
    m = vae.make_vae(T, F, latent_dim=5, **SMALL).adapt(toy)
    mean, log_var = m.encode(toy.x[:7])
    assert mean.shape == log_var.shape == (7, 5)
    assert m.decode(mean).shape == (7, T, F) and m.reconstruct(toy.x[:3]).shape == (3, T, F)
    assert m.sample(4, seed=0).shape == (4, T, F)
    np.testing.assert_array_equal(m.sample(3, seed=5), m.sample(3, seed=5))
    z = np.zeros((300, 5), np.float32)
    noisy, mean = m.decode(z, noise_scale=1.0, seed=1), m.decode(z)
    np.testing.assert_allclose(mean[0], mean[1])  # the mean is the mean
    np.testing.assert_allclose((noisy - mean).std(axis=(0, 1)), m.decoder_std(), rtol=0.15)  # the draw has its spread
    assert m(tf.constant(toy.x[:2])).shape == (2, T, F)
    c = vae.make_vae(T, F, latent_dim=5, n_labels=toy.n_labels, **SMALL).adapt(toy)
    assert c.conditional and c.encode(toy)[0].shape == (len(toy), 5)
    assert c.sample(3, labels=np.array([0, 1, -1]), seed=0).shape == (3, T, F)
    assert c.sample(2, labels=2, seed=0).shape == (2, T, F)
    q = vae.make_vqvae(T, F, codebook_size=16, code_dim=6, **SMALL).adapt(toy)
    assert q.codes_per_patch == T // 4
    codes = q.encode_codes(toy.x[:5])
    assert codes.shape == (5, 2) and codes.dtype == np.int64
    assert q.decode_codes(codes).shape == (5, T, F) and q.decode_codes(codes.reshape(-1)).shape == (5, T, F)
    ds = vae.patch_dataset(toy, batch_size=10, shuffle=False)
    x, lab = next(iter(ds))
    assert x.shape == (10, T, F) and lab.numpy().tolist() == toy.label[:10].tolist()


def test_bad_input(toy):
    with pytest.raises(ParameterError, match="multiple"):
        vae.make_vae(10, F, **SMALL)
    with pytest.raises(ParameterError, match="multiple"):
        vae.make_vqvae(6, F, **SMALL)
    for kwargs, match in [({"latent_dim": 0}, "latent_dim"), ({"beta": 0.0}, "beta"), ({"beta": np.nan}, "beta"),
                          ({"free_bits": -1.0}, "free_bits"), ({"warmup_steps": -1}, "warmup_steps"),
                          ({"label_dropout": 1.0}, "label_dropout"), ({"filters": ()}, "filters"),
                          ({"filters": (4, 0)}, "filters"), ({"n_labels": -2}, "n_labels")]:
        with pytest.raises(ParameterError, match=match):
            vae.make_vae(T, F, **{**SMALL, **kwargs})
    for kwargs, match in [({"codebook_size": 1}, "codebook_size"), ({"decay": 1.0}, "decay"),
                          ({"commitment": -0.1}, "commitment")]:
        with pytest.raises(ParameterError, match=match):
            vae.make_vqvae(T, F, **{**SMALL, **kwargs})
    m = vae.make_vae(T, F, latent_dim=4, **SMALL)
    with pytest.raises(ParameterError, match="shape"):
        m.encode(np.zeros((3, T, F + 1)))
    bad = toy.x[:2].copy()
    bad[0, 0, 0] = np.nan
    with pytest.raises(ParameterError, match="NaN"):
        m.encode(bad)
    with pytest.raises(ParameterError, match="z must"):
        m.decode(np.zeros((2, 3)))
    with pytest.raises(ParameterError, match="temperature"):
        m.sample(2, temperature=-1.0)
    with pytest.raises(ParameterError, match="n="):
        m.sample(0)
    c = vae.make_vae(T, F, latent_dim=4, n_labels=2, **SMALL)
    with pytest.raises(ParameterError, match="labels"):
        c.sample(2, labels=np.array([0, 5]))
    q = vae.make_vqvae(T, F, codebook_size=8, **SMALL)
    with pytest.raises(ParameterError, match="codes"):
        q.decode_codes(np.array([[0, 9]]))
    with pytest.raises(ParameterError, match="codes"):
        q.decode_codes(np.zeros((2, 3), int))
    with pytest.raises(ParameterError):
        vae.patch_dataset(np.zeros((0, T, F)))
    with pytest.raises(ParameterError):
        vae.code_dataset([np.array([1, 2, 3])], codebook_size=8, codes_per_patch=2)  # not whole patches
    with pytest.raises(ParameterError):
        vae.code_dataset([np.array([1, 9])], codebook_size=8, codes_per_patch=2)
    with pytest.raises(ParameterError, match="epochs"):
        vae.fit_with_checkpoints(m, vae.patch_dataset(toy), epochs=0, checkpoint_dir="unused")


# -- training, saving, resuming (slow) ---------------------------------------------------------------


def _fit(model, data, tmp_path, name, epochs=4, **kwargs):
    return vae.fit_with_checkpoints(model, data, epochs=epochs, checkpoint_dir=tmp_path / name, **kwargs)


@pytest.mark.slow
def test_vae_learns_and_reports_active_units(toy, tmp_path):
    vae.set_seed(0)
    held = _toy_patches(n=30, seed=1)
    model = vae.make_vae(T, F, latent_dim=6, beta=0.2, free_bits=0.05, warmup_steps=20, learning_rate=1e-2,
                         **SMALL).adapt(toy)
    before = vae.reconstruction_error(model, held)
    model, h = _fit(model, vae.patch_dataset(toy, batch_size=16), tmp_path, "vae", epochs=12,
                    validation_data=vae.patch_dataset(held, shuffle=False))
    assert len(h["loss"]) == 12 and len(h["val_loss"]) == 12 and len(h["epoch_seconds"]) == 12
    assert h["reconstruction_loss"][-1] < 0.6 * h["reconstruction_loss"][0]
    assert h["kl_weight"][0] < h["kl_weight"][-1] == pytest.approx(0.2)  # the warm-up
    assert vae.reconstruction_error(model, held) < 0.8 * before
    n_active, var = vae.active_units(model, toy)
    assert 1 <= n_active <= 6 and var.shape == (6,)


@pytest.mark.slow
def test_save_load_identical_outputs(toy, tmp_path):
    vae.set_seed(0)
    data = vae.patch_dataset(toy, batch_size=32)
    models = {
        "vae": vae.make_vae(T, F, latent_dim=4, **SMALL).adapt(toy),
        "cvae": vae.make_vae(T, F, latent_dim=4, n_labels=toy.n_labels, **SMALL).adapt(toy),
        "vq": vae.make_vqvae(T, F, codebook_size=8, code_dim=4, **SMALL).adapt(toy),
    }
    z = np.random.default_rng(0).normal(size=(5, 4)).astype(np.float32)
    for name, m in models.items():
        m.fit(data, epochs=1, verbose=0)
        path = tmp_path / f"{name}.keras"
        m.save(path)
        back = vae.load_model(path)
        assert type(back) is type(m) and back.get_config() == m.get_config()
        np.testing.assert_array_equal(back.reconstruct(toy.x[:6], toy.label[:6]), m.reconstruct(toy.x[:6], toy.label[:6]))
        if name == "vq":
            np.testing.assert_array_equal(back.vq.codebook.numpy(), m.vq.codebook.numpy())
            np.testing.assert_array_equal(back.encode_codes(toy), m.encode_codes(toy))
        else:
            labels = np.arange(5) % 3 if name == "cvae" else None
            np.testing.assert_array_equal(back.decode(z, labels), m.decode(z, labels))
    q = models["vq"]
    seqs = [q.encode_codes(toy.x[i]) for i in toy.sequences()]
    prior = vae.make_prior(8, q.codes_per_patch, embed_dim=8, units=(16,))
    prior.fit(vae.code_dataset(seqs, codebook_size=8, codes_per_patch=2, window=8), epochs=1, verbose=0)
    prior.save(tmp_path / "prior.keras")
    back = vae.load_model(tmp_path / "prior.keras")
    np.testing.assert_array_equal(back.sample(20, seed=3), prior.sample(20, seed=3))


@pytest.mark.slow
def test_training_is_deterministic(toy, tmp_path):
    out = []
    for run in range(2):
        vae.set_seed(0)
        m = vae.make_vqvae(T, F, codebook_size=8, code_dim=4, **SMALL).adapt(toy)
        m, _ = _fit(m, vae.patch_dataset(toy, batch_size=16, seed=0), tmp_path, f"run{run}", epochs=2)
        out.append((m.vq.codebook.numpy(), m.reconstruct(toy.x[:4])))
    np.testing.assert_array_equal(out[0][0], out[1][0])
    np.testing.assert_array_equal(out[0][1], out[1][1])


@pytest.mark.slow
def test_eager_training_matches_graph_training(toy):
    # run_eagerly skips graph tracing (small mode); it must train the same model
    out = []
    for eager in (False, True):
        vae.set_seed(0)
        m = vae.make_vae(T, F, latent_dim=4, warmup_steps=5, run_eagerly=eager, **SMALL).adapt(toy)
        assert m.run_eagerly is eager
        h = m.fit(vae.patch_dataset(toy, batch_size=32, seed=0), epochs=2, verbose=0)
        out.append((h.history["loss"], m.decode(np.zeros((2, 4), np.float32), noise_scale=0.0)))
    np.testing.assert_allclose(out[0][0], out[1][0], rtol=1e-4)
    np.testing.assert_allclose(out[0][1], out[1][1], rtol=1e-4, atol=1e-3)
    with pytest.raises(ParameterError, match="run_eagerly"):
        vae.make_prior(8, 2, run_eagerly="yes")


class _Interrupt(keras.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        if epoch == 2:
            raise KeyboardInterrupt


@pytest.mark.slow
def test_fit_with_checkpoints_resumes_and_reuses(toy, tmp_path, monkeypatch):
    vae.set_seed(0)
    data = vae.patch_dataset(toy, batch_size=32)
    folder = tmp_path / "ckpt"
    # an interrupted run: three epochs finished (checkpoints every second epoch), then a crash
    model = vae.make_vae(T, F, latent_dim=4, **SMALL).adapt(toy)
    real_fit = keras.Model.fit

    def crashing_fit(self, *args, callbacks=None, **kwargs):
        return real_fit(self, *args, callbacks=[*callbacks, _Interrupt()], **kwargs)

    monkeypatch.setattr(keras.Model, "fit", crashing_fit)
    with pytest.raises(KeyboardInterrupt):
        vae.fit_with_checkpoints(model, data, epochs=4, checkpoint_dir=folder, save_every=2)
    monkeypatch.setattr(keras.Model, "fit", real_fit)
    first = pd.read_csv(folder / "history.csv")
    assert list(first["epoch"]) == [0, 1, 2] and (folder / "backup").exists() and not (folder / "model.keras").exists()
    assert json.loads((folder / "backup" / "training_metadata.json").read_text())["epoch"] == 2
    # the rerun continues at epoch 3 from the backup of epoch 2 (a fresh model, as a restarted notebook has)
    fresh = vae.make_vae(T, F, latent_dim=4, **SMALL).adapt(toy)
    model, h = vae.fit_with_checkpoints(fresh, data, epochs=4, checkpoint_dir=folder, save_every=2)
    assert len(h["loss"]) == 4 and not h["resumed"] and h["initial_epoch"] == 2
    assert h["loss"][:2] == pytest.approx(list(first["loss"][:2]))
    assert (folder / "model.keras").exists() and not (folder / "backup").exists()
    # run again: nothing is trained, the saved model comes back
    again, h2 = vae.fit_with_checkpoints(vae.make_vae(T, F, latent_dim=4, **SMALL), data, epochs=4,
                                         checkpoint_dir=folder)
    assert h2["resumed"] and h2["loss"] == h["loss"]
    np.testing.assert_array_equal(again.reconstruct(toy.x[:3]), model.reconstruct(toy.x[:3]))
    # more epochs: training continues from the saved model
    more, h3 = vae.fit_with_checkpoints(again, data, epochs=5, checkpoint_dir=folder)
    assert len(h3["loss"]) == 5 and h3["loss"][:4] == pytest.approx(h["loss"])


@pytest.mark.slow
def test_vqvae_trains_with_restarts_and_prior_samples(toy, tmp_path):
    vae.set_seed(0)
    q = vae.make_vqvae(T, F, codebook_size=16, code_dim=4, learning_rate=3e-3, **SMALL).adapt(toy)
    q, h = _fit(q, vae.patch_dataset(toy, batch_size=16), tmp_path, "vq", epochs=6)
    assert h["restarts"][0] > 0  # the first step initialises the codebook from data
    assert h["reconstruction_loss"][-1] < h["reconstruction_loss"][0]
    codes = q.encode_codes(toy)
    assert vae.codebook_perplexity(codes, 16) > 2.0
    seqs = [codes[i] for i in toy.sequences()]
    prior = vae.make_prior(16, q.codes_per_patch, embed_dim=8, units=(32,))
    ds = vae.code_dataset(seqs, codebook_size=16, codes_per_patch=q.codes_per_patch, window=16, batch_size=8)
    (tok, slot), target = next(iter(ds))
    assert tok.shape == slot.shape == target.shape
    np.testing.assert_array_equal(tok.numpy()[:, 1:], target.numpy()[:, :-1])
    prior, ph = _fit(prior, ds, tmp_path, "prior", epochs=5)
    assert ph["loss"][-1] < ph["loss"][0]
    s = prior.sample(10, n_sequences=3, seed=0)
    assert s.shape == (3, 10) and s.min() >= 0 and s.max() < 16
    np.testing.assert_array_equal(s, prior.sample(10, n_sequences=3, seed=0))
    assert not np.array_equal(s, prior.sample(10, n_sequences=3, seed=1))
    primed = prior.sample(4, prime=seqs[0][:3].reshape(-1), seed=0)
    assert primed.shape == (1, 4)
    assert prior.cross_entropy(ds) < np.log(16)
    with pytest.raises(ParameterError, match="whole patches"):
        prior.sample(4, prime=np.array([1, 2, 3]))
    with pytest.raises(ParameterError, match="temperature"):
        prior.sample(4, temperature=0.0)
    with pytest.raises(ParameterError, match="prime codes"):
        prior.sample(4, prime=np.array([1, 99]))
