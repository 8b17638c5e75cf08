"""Generative adversarial networks on spectrogram patches and on raw audio: SpecGAN, conditional
SpecGAN, VAE-GAN and WaveGAN.

================================ =================================================================
model                            what it is
================================ =================================================================
:class:`SpecGAN`                 a DCGAN on spectrogram patches ``[shape=(n_frames, n_features)]``
                                 (the patches of :mod:`musiclib.patches`); with ``n_labels > 0``
                                 the conditional SpecGAN: a label embedding joins the generator's
                                 latent, a projection term the discriminator's output (Miyato &
                                 Koyama 2018)
:class:`WaveGAN`                 the same training on raw audio windows (16 384 samples at 16 kHz),
                                 stride-4 1-D transposed convolutions, phase shuffle in the
                                 discriminator (Donahue et al. 2019)
:class:`VAEGAN`                  the VAE of ``notebooks/05_vae`` whose decoder is also trained
                                 against a discriminator (Larsen et al. 2016)
================================ =================================================================

Training is one custom ``train_step`` (keras-io style): ``loss="hinge"`` (default: spectral
normalisation on every discriminator layer, one discriminator step per generator step) or
``loss="wgan-gp"`` (:func:`gradient_penalty`, ``n_critic`` critic steps). Both use two time-scale
learning rates (Adam, ``beta_1 = 0``, ``beta_2 = 0.9``) and sample from an exponential moving
average of the generator's weights (:meth:`_GAN.update_ema`). Hinge is the default because it is
the cheaper per generator update for the same card result (``notebooks/06_gan``, "Hinge or WGAN-GP?").

SpecGAN normalisation: each band is standardised with the training patches' statistics (weights of
the model, :meth:`SpecGAN.adapt`), clipped at three standard deviations and scaled to [-1, 1]; the
generator ends in ``tanh``. The SpecGAN networks convolve over time with the bands as channels,
an order of magnitude cheaper on CPUs than 2-D convolutions (``architecture="2d"`` builds those
for a GPU), and the generator upsamples by resize-convolution (Odena et al. 2016), as transposed
convolutions' uneven overlap comes out of the inversion as noise.

:func:`fit_gan` trains for a number of steps and resumes after an interruption; :class:`GANMonitor`
records the losses at every step and, every ``every`` steps, generated patches, clips and the
musicality card's checks on them (:class:`TrainingRecord`). Notebook: ``notebooks/06_gan``.

References
----------
Donahue, McAuley, Puckette (2019): Adversarial audio synthesis (WaveGAN, SpecGAN). ICLR.
Miyato, Kataoka, Koyama, Yoshida (2018): Spectral normalization for GANs. ICLR.
Miyato, Koyama (2018): cGANs with projection discriminator. ICLR.
Gulrajani et al. (2017): Improved training of Wasserstein GANs (WGAN-GP). NeurIPS.
Heusel et al. (2017): GANs trained by a two time-scale update rule. NeurIPS.
Odena, Dumoulin, Olah (2016): Deconvolution and checkerboard artifacts. Distill.
Larsen et al. (2016): Autoencoding beyond pixels using a learned similarity metric (VAE-GAN). ICML.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from musiclib.models._backend import keras, tf
from musiclib.errors import ParameterError, check_choice, check_finite, check_int, check_number
from musiclib.tools import atomic_write
from musiclib.models import keras_seq
from musiclib.models.keras_seq import load_model, set_seed, strategy
from musiclib.models.vae import PatchVAE, free_bits_kl, gaussian_kl

__all__ = [
    "SpecGAN",
    "WaveGAN",
    "VAEGAN",
    "PhaseShuffle",
    "make_specgan",
    "make_wavegan",
    "make_vaegan",
    "gradient_penalty",
    "fit_gan",
    "load_model",
    "save_model",
    "GANMonitor",
    "fit_monitored",
    "describe_training",
    "plot_training",
    "seconds_per_step",
    "snapshots_summary",
    "spec_renderer",
    "wave_renderer",
    "shift_indices",
    "TrainingRecord",
    "slerp",
    "latent_walk",
    "patch_dataset",
    "wave_windows",
    "LOSSES",
    "ARCHITECTURES",
    "WAVEGAN_SAMPLES",
    "WAVEGAN_SR",
    "set_seed",
    "strategy",
]

_PACKAGE = "musiclib"

#: The objectives: hinge loss with spectral normalisation, or WGAN with the gradient penalty.
LOSSES = ("hinge", "wgan-gp")
#: SpecGAN network shapes: "1d" convolves over time with the bands as channels; "2d" over the image.
ARCHITECTURES = ("1d", "2d")
#: WaveGAN's window (samples) and sample rate (Hz), as in the paper.
WAVEGAN_SAMPLES = 16384
WAVEGAN_SR = 16000
#: SpecGAN normalisation: standardised bands are clipped at this many standard deviations.
CLIP_STD = 3.0


# --- input checks ---
def _as_batch(x, *, what, shape_tail):
    """A finite float32 array ``(n, *shape_tail)``; ``shape_tail`` entries of None match anything."""
    x = check_finite(what, x)
    if x.ndim != 1 + len(shape_tail) or any(s is not None and a != s for a, s in zip(x.shape[1:], shape_tail)):
        want = "(n, " + ", ".join("any" if s is None else str(s) for s in shape_tail) + ")"
        raise ParameterError(f"{what} must have shape {want}, got {x.shape}")
    return x


# --- layers ---
@keras.saving.register_keras_serializable(package=_PACKAGE)
class PhaseShuffle(keras.layers.Layer):
    """WaveGAN's phase shuffle: shift each example along time by a random ``-radius..radius`` samples.

    Only while training; the samples shifted in are reflections of the edge, so the discriminator
    cannot learn the generator's upsampling artefacts from their exact phase. Shifts are drawn
    counter-based from ``(seed, training calls)``; the counter is a weight, so a resumed training
    draws what an uninterrupted one would.

    Parameters
    ----------
    radius : int
        Largest shift in samples (0: the identity).
    seed : int

    Input and output: ``[shape=(batch, time, channels)]``.
    """

    def __init__(self, radius: int = 2, *, seed: int = 0, **kwargs):
        super().__init__(**kwargs)
        self.radius = check_int("radius", radius, low=0)
        self.seed = check_int("seed", seed, low=0)

    def build(self, input_shape):
        self.calls = self.add_weight(shape=(), initializer="zeros", dtype="int64", trainable=False, name="calls")

    def call(self, x, training=False):
        if not training or self.radius == 0:
            return x
        batch, length = tf.shape(x)[0], tf.shape(x)[1]
        seed = tf.stack([tf.constant(self.seed, tf.int64), self.calls.value])
        self.calls.assign_add(1)
        shift = tf.random.stateless_uniform((batch, 1), seed, minval=-self.radius, maxval=self.radius + 1,
                                            dtype=tf.int32)
        return tf.gather(x, shift_indices(length, shift), batch_dims=1)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "radius": self.radius, "seed": self.seed}


def shift_indices(length, shift):
    """Indices ``[shape=(batch, length)]`` that shift a sequence by ``shift`` with reflection at the edges.

    ``y[t] = x[t - s]``, where an index below 0 or past ``length - 1`` is reflected back into range
    (``-1 -> 1``, ``length -> length - 2``). ``shift [shape=(batch, 1)]`` int32, ``|s| < length``.
    """
    t = tf.range(length, dtype=tf.int32)[None, :] - tf.cast(shift, tf.int32)
    last = tf.cast(length, tf.int32) - 1
    return last - tf.abs(last - tf.abs(t))


def _sn(layer, spectral_norm: bool):
    return keras.layers.SpectralNormalization(layer, name=f"sn_{layer.name}") if spectral_norm else layer


# --- networks ---
def _inputs(shape, n_labels, name):
    x = keras.Input(shape, name=name)
    return x, (keras.Input((), dtype="int32", name="label") if n_labels else None)


def _conditioned_latent(z, label, n_labels, latent_dim):
    """The generator's input: the latent, joined by a learned label embedding for a conditional model."""
    if label is None:
        return z
    e = keras.layers.Embedding(n_labels, latent_dim, name="label_embedding")(label)
    return keras.layers.Concatenate(name="latent_and_label")([z, e])


def _discriminator(x, label, h, *, n_labels, spectral_norm, name):
    """The model ``x (and label) -> [score, features]``: a linear score of flattened ``h`` + projection."""
    features = keras.layers.Flatten(name="features")(h)
    score = _sn(keras.layers.Dense(1, name="score"), spectral_norm)(features)
    if label is not None:
        # a one-hot row pick, not an Embedding: SpectralNormalization casts its output to the input's
        # dtype, so around integer labels it returns integers and no gradient (Keras 3.15)
        one_hot = keras.layers.CategoryEncoding(n_labels, output_mode="one_hot", name="label_one_hot")(label)
        e = _sn(keras.layers.Dense(features.shape[-1], use_bias=False, name="label_projection"),
                spectral_norm)(one_hot)
        proj = keras.layers.Dot(axes=1, name="projection")([e, features])
        score = keras.layers.Add(name="score_with_projection")([score, proj])
    return keras.Model([x, label] if label is not None else x, [score, features], name=name)


def _widths(channels, n_layers, *, grow):
    """Channel widths of the layers, ``channels`` at full resolution, doubled per step away from it (capped)."""
    return [channels * min(2 ** i, grow) for i in range(n_layers)]


def build_spec_generator(n_frames: int, n_features: int, *, latent_dim: int, channels: int, n_layers: int = 3,
                         n_labels: int = 0, architecture: str = "1d", name: str = "generator") -> keras.Model:
    """SpecGAN generator: latent (and label) -> patch ``[shape=(batch, n_frames, n_features)]`` in [-1, 1].

    The output is in the networks' normalised units (see :meth:`SpecGAN.normalize`).
    """
    z, label = _inputs((latent_dim,), n_labels, "latent")
    h = _conditioned_latent(z, label, n_labels, latent_dim)
    down = 2 ** n_layers
    widths = _widths(channels, n_layers, grow=4)[::-1]  # widest first
    start = (n_frames // down,) if architecture == "1d" else (n_frames // down, n_features // down)
    h = keras.layers.Dense(math.prod(start) * widths[0], name="project")(h)
    h = keras.layers.Reshape((*start, widths[0]))(h)
    h = keras.layers.BatchNormalization(name="project_norm")(h)
    h = keras.layers.ReLU()(h)
    for i, w in enumerate(widths):
        if architecture == "1d":  # resize-convolution (see the module docstring)
            h = keras.layers.UpSampling1D(2, name=f"up_{i}_resize")(h)
            h = keras.layers.Conv1D(w, 5, padding="same", name=f"up_{i}")(h)
        else:
            h = keras.layers.Conv2DTranspose(w, 5, strides=2, padding="same", name=f"up_{i}")(h)
        h = keras.layers.BatchNormalization(name=f"up_{i}_norm")(h)
        h = keras.layers.ReLU()(h)
    if architecture == "1d":
        out = keras.layers.Conv1D(n_features, 5, padding="same", activation="tanh", name="to_bands")(h)
    else:
        h = keras.layers.Conv2D(1, 5, padding="same", activation="tanh", name="to_image")(h)
        out = keras.layers.Reshape((n_frames, n_features))(h)
    return keras.Model([z, label] if label is not None else z, out, name=name)


def build_spec_discriminator(n_frames: int, n_features: int, *, channels: int, n_layers: int = 3, n_labels: int = 0,
                             spectral_norm: bool = True, architecture: str = "1d",
                             name: str = "discriminator") -> keras.Model:
    """SpecGAN discriminator: normalised patch (and label) -> ``[score (batch, 1), features (batch, d)]``.

    ``features`` (the flattened last convolution) are what :class:`VAEGAN`'s feature-matching loss compares.
    """
    x, label = _inputs((n_frames, n_features), n_labels, "patch")
    h = x if architecture == "1d" else keras.layers.Reshape((n_frames, n_features, 1))(x)
    conv = keras.layers.Conv1D if architecture == "1d" else keras.layers.Conv2D
    kernel = 4 if architecture == "1d" else 5
    for i, w in enumerate(_widths(channels, n_layers, grow=4)):
        h = _sn(conv(w, kernel, strides=2, padding="same", name=f"down_{i}"), spectral_norm)(h)
        h = keras.layers.LeakyReLU(0.2)(h)
    return _discriminator(x, label, h, n_labels=n_labels, spectral_norm=spectral_norm, name=name)


def build_wave_generator(n_samples: int, *, latent_dim: int, channels: int, n_layers: int = 5, n_labels: int = 0,
                         name: str = "generator") -> keras.Model:
    """WaveGAN generator: latent -> audio ``[shape=(batch, n_samples, 1)]`` in [-1, 1] (stride-4 upsampling)."""
    z, label = _inputs((latent_dim,), n_labels, "latent")
    h = _conditioned_latent(z, label, n_labels, latent_dim)
    widths = _widths(channels, n_layers, grow=16)[::-1]
    t0 = n_samples // 4 ** n_layers
    h = keras.layers.Dense(t0 * widths[0] * 2, name="project")(h)
    h = keras.layers.Reshape((t0, widths[0] * 2))(h)
    h = keras.layers.ReLU()(h)
    for i, w in enumerate(widths[1:] + [1]):
        h = keras.layers.Conv1DTranspose(w, 25, strides=4, padding="same", name=f"up_{i}")(h)
        h = keras.layers.ReLU()(h) if i < n_layers - 1 else keras.layers.Activation("tanh")(h)
    return keras.Model([z, label] if label is not None else z, h, name=name)


def build_wave_discriminator(n_samples: int, *, channels: int, n_layers: int = 5, n_labels: int = 0,
                             spectral_norm: bool = True, phase_shuffle: int = 2, seed: int = 0,
                             name: str = "discriminator") -> keras.Model:
    """WaveGAN discriminator: audio ``(batch, n_samples, 1)`` -> ``[score, features]``, phase shuffle between layers."""
    x, label = _inputs((n_samples, 1), n_labels, "audio")
    h = x
    for i, w in enumerate(_widths(channels, n_layers, grow=16)):
        h = _sn(keras.layers.Conv1D(w, 25, strides=4, padding="same", name=f"down_{i}"), spectral_norm)(h)
        h = keras.layers.LeakyReLU(0.2)(h)
        if i < n_layers - 1 and phase_shuffle:
            h = PhaseShuffle(phase_shuffle, seed=seed + i, name=f"phase_shuffle_{i}")(h)
    return _discriminator(x, label, h, n_labels=n_labels, spectral_norm=spectral_norm, name=name)


# --- losses ---
def gradient_penalty(critic, real, fake, *, labels=None, seed=0):
    """WGAN-GP's gradient penalty: ``mean((||grad_x critic(x_hat)||_2 - 1)^2)`` on random interpolates.

    ``x_hat = real + alpha (fake - real)``, one ``alpha ~ U(0, 1)`` per example (Gulrajani et al. 2017).

    Parameters
    ----------
    critic : callable
        ``critic(x)`` (or ``critic([x, labels])``) returning ``score [shape=(batch, 1)]`` or
        ``[score, features]``.
    real, fake : tf.Tensor [shape=(batch, ...)]
    labels : tf.Tensor [shape=(batch,)], optional
        For a conditional critic.
    seed : int or tf.Tensor [shape=(2,)]
        Seed of the (stateless) draw of ``alpha``.

    Returns
    -------
    tf.Tensor, scalar
    """
    real = tf.convert_to_tensor(real)
    fake = tf.cast(fake, real.dtype)
    batch = tf.shape(real)[0]
    seed = tf.cast(tf.stack([0, seed]) if np.ndim(seed) == 0 else seed, tf.int64)
    alpha = tf.random.stateless_uniform(tf.concat([[batch], tf.ones([tf.rank(real) - 1], tf.int32)], axis=0), seed,
                                        dtype=real.dtype)
    x_hat = real + alpha * (fake - real)
    with tf.GradientTape() as tape:
        tape.watch(x_hat)
        out = critic([x_hat, labels] if labels is not None else x_hat, training=True)
        score = out[0] if isinstance(out, (list, tuple)) else out
    grads = tape.gradient(score, x_hat)
    norm = tf.sqrt(tf.reduce_sum(tf.reshape(tf.square(grads), (batch, -1)), axis=1) + 1e-12)
    return tf.reduce_mean(tf.square(norm - 1.0))


# --- the GAN training shared by SpecGAN and WaveGAN ---
class _GAN(keras.Model):
    """Discriminator and generator trained with a custom ``train_step``; an EMA copy of the generator samples.

    Subclasses build ``self.generator``, ``self.ema_generator`` (same architecture) and
    ``self.discriminator`` in ``_build_networks()``, implement ``_to_model(x)`` / ``_from_model(x)``
    (data units <-> the networks' normalised units) and name their own arguments in ``_ARGS``.
    """

    _ARGS = ()

    def __init__(self, *, latent_dim=64, n_labels=0, loss="hinge", n_critic=None, gp_weight=10.0,
                 ema_decay=0.999, d_learning_rate=4e-4, g_learning_rate=2e-4, seed=0, name=None, **kwargs):
        super().__init__(name=name, **kwargs)
        self.latent_dim = check_int("latent_dim", latent_dim)
        self.n_labels = check_int("n_labels", n_labels, low=0)
        self.loss_name = check_choice("loss", loss, LOSSES)
        self.n_critic = check_int("n_critic", (1 if loss == "hinge" else 5) if n_critic is None else n_critic,
                                  high=16)
        self.gp_weight = check_number("gp_weight", gp_weight, low=0.0)
        self.ema_decay = check_number("ema_decay", ema_decay, low=0.0, high=1.0, high_open=True)
        self.d_learning_rate = check_number("d_learning_rate", d_learning_rate, low=0.0, low_open=True)
        self.g_learning_rate = check_number("g_learning_rate", g_learning_rate, low=0.0, low_open=True)
        self.seed = check_int("seed", seed, low=0)
        self.d_loss_tracker = keras.metrics.Mean(name="d_loss")
        self.g_loss_tracker = keras.metrics.Mean(name="g_loss")
        self._build_networks()
        self.step = self.add_weight(shape=(), initializer="zeros", dtype="int64", trainable=False, name="step")
        for e, w in zip(self.ema_generator.weights, self.generator.weights):
            e.assign(w)
        self.built = True  # every network is built with its inputs' shapes

    def build(self, input_shape=None):
        self.built = True

    # -- configuration and compilation ----------------------------------------------------------
    def get_config(self):
        names = self._ARGS + ("latent_dim", "n_labels", "n_critic", "gp_weight", "ema_decay",
                              "d_learning_rate", "g_learning_rate", "seed", "name")
        return {**{k: getattr(self, k) for k in names}, "loss": self.loss_name}

    def compile(self, *, jit_compile=False, **kwargs):
        """Two Adam optimisers (two time-scale learning rates, ``beta_1 = 0``, ``beta_2 = 0.9``), built at once."""
        self.d_optimizer = keras.optimizers.Adam(self.d_learning_rate, beta_1=0.0, beta_2=0.9, name="d_adam")
        self.g_optimizer = keras.optimizers.Adam(self.g_learning_rate, beta_1=0.0, beta_2=0.9, name="g_adam")
        # Keras' own optimizer slot holds the generator's (fit() needs one; it is the same object)
        super().compile(optimizer=self.g_optimizer, jit_compile=jit_compile, **kwargs)
        self.d_optimizer.build(self.discriminator.trainable_variables)
        self.g_optimizer.build(self.generator.trainable_variables)

    def get_compile_config(self):
        return {"jit_compile": bool(self.jit_compile)} if self.compiled else {}

    def compile_from_config(self, config):
        self.compile(**config)

    @property
    def metrics(self):
        return [self.d_loss_tracker, self.g_loss_tracker]

    # -- EMA generator --------------------------------------------------------------------------
    def ema_decay_at(self, step):
        """The EMA's decay after ``step`` updates: ``min(ema_decay, (1 + step) / (10 + step))``.

        The warm-up averages a short training run over its own steps, not towards the initial weights.
        """
        step = tf.cast(step, tf.float32)
        return tf.minimum(self.ema_decay, (1.0 + step) / (10.0 + step))

    def update_ema(self):
        """EMA update: ``ema = d ema + (1 - d) w``, ``d = ema_decay_at(step)``; other weights are copied."""
        d = self.ema_decay_at(self.step)
        for e, w in zip(self.ema_generator.weights, self.generator.weights):
            if e.trainable:
                e.assign(d * e + (1.0 - d) * w)
            else:
                e.assign(w)

    # -- training -------------------------------------------------------------------------------
    def _seed(self, k):
        """Seed of the ``k``-th random draw of this training step (counter-based: ``(seed, 64 step + k)``)."""
        return tf.stack([tf.constant(self.seed, tf.int64), self.step.value * 64 + k])

    def _noise(self, batch, k):
        return tf.random.stateless_normal((batch, self.latent_dim), self._seed(k))

    def _with_labels(self, x, labels):
        return [x, labels] if self.n_labels else x

    def _unpack(self, data):
        x, y, _ = keras.utils.unpack_x_y_sample_weight(data)
        if self.n_labels:
            if y is None:
                raise ParameterError(f"{type(self).__name__} is conditional (n_labels={self.n_labels}): "
                                     "the data must be (x, label) pairs")
            return self._to_model(x), tf.cast(tf.reshape(y, (-1,)), tf.int32)
        return self._to_model(x), None

    def _score(self, x, labels, training=True):
        return self.discriminator(self._with_labels(x, labels), training=training)[0]

    def d_loss(self, real, fake, labels, k=0):
        """The discriminator's loss on one batch (hinge, or Wasserstein + gradient penalty); ``(loss, parts)``."""
        s_real = self._score(real, labels)
        s_fake = self._score(fake, labels)
        if self.loss_name == "hinge":
            loss = tf.reduce_mean(tf.nn.relu(1.0 - s_real)) + tf.reduce_mean(tf.nn.relu(1.0 + s_fake))
            return loss, {}
        gp = gradient_penalty(self.discriminator, real, fake, labels=labels, seed=self._seed(32 + k))
        loss = tf.reduce_mean(s_fake) - tf.reduce_mean(s_real) + self.gp_weight * gp
        return loss, {"gp": gp}

    def train_step(self, data):
        real, labels = self._unpack(data)
        batch = tf.shape(real)[0]
        replicas = tf.distribute.get_strategy().num_replicas_in_sync
        for k in range(self.n_critic):
            z = self._noise(batch, k)
            with tf.GradientTape() as tape:
                fake = self.generator(self._with_labels(z, labels), training=True)
                d_loss, parts = self.d_loss(real, fake, labels, k)
                scaled = d_loss / replicas
            grads = tape.gradient(scaled, self.discriminator.trainable_variables)
            self.d_optimizer.apply_gradients(zip(grads, self.discriminator.trainable_variables))
        z = self._noise(batch, 31)
        with tf.GradientTape() as tape:
            fake = self.generator(self._with_labels(z, labels), training=True)
            g_loss = -tf.reduce_mean(self._score(fake, labels))
            scaled = g_loss / replicas
        grads = tape.gradient(scaled, self.generator.trainable_variables)
        self.g_optimizer.apply_gradients(zip(grads, self.generator.trainable_variables))
        self.step.assign_add(1)
        self.update_ema()
        self.d_loss_tracker.update_state(d_loss)
        self.g_loss_tracker.update_state(g_loss)
        # this step's values (not the epoch's running mean), so a per-step record can be kept
        return {"d_loss": d_loss, "g_loss": g_loss, **parts}

    # -- sampling -------------------------------------------------------------------------------
    def call(self, inputs, training=False):
        """Generated data (data units) for latents ``[shape=(batch, latent_dim)]`` (and labels), trained generator."""
        return self._from_model(self.generator(inputs, training=training))

    def latents(self, n: int, *, seed: int = 0) -> np.ndarray:
        """``n`` standard normal latents ``[shape=(n, latent_dim)]``, float32, drawn by NumPy from ``seed``."""
        n = check_int("n", n)
        return np.random.default_rng(seed).standard_normal((n, self.latent_dim)).astype(np.float32)

    def generate(self, n: int | None = None, *, latents=None, labels=None, seed: int = 0, ema: bool = True,
                 batch_size: int = 256) -> np.ndarray:
        """Generate ``n`` examples (or one per row of ``latents``), in data units, as a NumPy array.

        Parameters
        ----------
        n : int, optional
            How many (with latents drawn by :meth:`latents` from ``seed``); omit when ``latents`` is given.
        latents : np.ndarray [shape=(n, latent_dim)], optional
        labels : int or array of int [shape=(n,)], optional
            Required for a conditional model (``0 <= label < n_labels``).
        seed : int
        ema : bool
            Sample from the moving average of the generator's weights (default) or the trained weights.
        batch_size : int
        """
        if latents is None:
            if n is None:
                raise ParameterError("generate() needs n or latents")
            latents = self.latents(n, seed=seed)
        latents = _as_batch(latents, what="latents", shape_tail=(self.latent_dim,))
        batch_size = check_int("batch_size", batch_size)
        if self.n_labels:
            if labels is None:
                raise ParameterError(f"this model is conditional (n_labels={self.n_labels}): pass labels=")
            labels = np.broadcast_to(np.asarray(labels), (len(latents),))
            if labels.dtype.kind not in "iu" or labels.min() < 0 or labels.max() >= self.n_labels:
                raise ParameterError(f"labels must be integers in [0, {self.n_labels}), got {np.unique(labels)[:8]}")
            labels = labels.astype(np.int32)
        elif labels is not None:
            raise ParameterError("labels= was given but this model is not conditional (n_labels=0)")
        net = self.ema_generator if ema else self.generator
        out = []
        for i in range(0, len(latents), batch_size):
            z = tf.constant(latents[i : i + batch_size])
            inputs = [z, tf.constant(labels[i : i + batch_size])] if self.n_labels else z
            out.append(self._from_model(self._sample_fn(net, inputs)).numpy())
        return np.concatenate(out, axis=0)

    def _sample_fn(self, net, inputs):
        if not hasattr(self, "_compiled_samplers"):
            self._compiled_samplers = {}
        if net.name not in self._compiled_samplers:  # one trace per network, whatever the batch size
            spec = [tf.TensorSpec((None, self.latent_dim), tf.float32)]
            if self.n_labels:
                spec = [spec + [tf.TensorSpec((None,), tf.int32)]]
            self._compiled_samplers[net.name] = tf.function(lambda x: net(x, training=False),
                                                            input_signature=spec, autograph=False)
        return self._compiled_samplers[net.name](inputs)

    def warm_start(self, other) -> "_GAN":
        """Start from the weights of another model of the same kind and shape (e.g. the unconditional one).

        Weights (and band statistics) are copied into the layers of the same name where the shapes
        agree; the label parts of a conditional model (the latent layer's label rows, the label
        projection) start at zero, so a conditional model warm-started from an unconditional one
        begins as exactly that model. The optimiser state starts afresh. Returns ``self``.

        Raises
        ------
        ParameterError
            ``other`` is not the same kind of model, or no weight could be copied.
        """
        if type(other) is not type(self) or other.latent_dim != self.latent_dim:
            raise ParameterError(f"warm_start() needs a {type(self).__name__} with latent_dim={self.latent_dim}, "
                                 f"got {type(other).__name__}")
        copied = 0
        for mine, theirs in ((self.generator, other.generator), (self.ema_generator, other.ema_generator),
                             (self.discriminator, other.discriminator)):
            source = {layer.name: layer for layer in theirs.layers}
            for layer in mine.layers:
                if layer.name in ("label_projection", "sn_label_projection"):
                    for w in layer.trainable_weights:  # no projection yet: the score starts as the other's
                        w.assign(tf.zeros_like(w))
                if layer.name not in source:
                    continue
                for w, v in zip(layer.weights, source[layer.name].weights):
                    if w.shape == v.shape:
                        w.assign(v)
                        copied += 1
                    elif len(w.shape) == 2 and w.shape[1] == v.shape[1] and w.shape[0] > v.shape[0]:
                        # the latent's rows; the label embedding's rows start at zero
                        w.assign(tf.concat([v, tf.zeros_like(w[v.shape[0]:])], axis=0))
                        copied += 1
        for name in ("band_mean", "band_std"):
            if hasattr(self, name) and hasattr(other, name) and getattr(self, name).shape == getattr(other, name).shape:
                getattr(self, name).assign(getattr(other, name))
        if not copied:
            raise ParameterError("warm_start(): no weight of the other model fits this one")
        return self

    def count_params_of(self, part: str) -> int:
        """Trainable parameters of ``"generator"`` or ``"discriminator"``."""
        net = {"generator": self.generator, "discriminator": self.discriminator}[part]
        return int(sum(np.prod(w.shape) for w in net.trainable_weights))


@keras.saving.register_keras_serializable(package=_PACKAGE)
class SpecGAN(_GAN):
    """SpecGAN (and conditional SpecGAN) on spectrogram patches ``[shape=(n_frames, n_features)]``.

    Parameters
    ----------
    n_frames, n_features : int
        Patch shape; ``n_frames`` (and, for ``architecture="2d"``, ``n_features``) must be divisible
        by ``2 ** n_layers``.
    latent_dim : int
    channels : int
        Width of the full-resolution layers; the others are 2 or 4 times wider.
    n_layers : int
        Up- and down-sampling steps (factor 2 each).
    n_labels : int
        0: unconditional; else a conditional SpecGAN over labels ``0..n_labels-1``.
    architecture : {"1d", "2d"}
        Convolutions over time with bands as channels (CPU-friendly), or SpecGAN's 2-D image convolutions.
    loss : {"hinge", "wgan-gp"}
    n_critic : int, optional
        Discriminator steps per generator step (default 1 for hinge, 5 for WGAN-GP).
    gp_weight : float
        Gradient-penalty weight (WGAN-GP).
    ema_decay : float
        Decay of the sampling generator's moving average (after the warm-up).
    d_learning_rate, g_learning_rate : float
        The two time-scale learning rates (Adam).
    seed : int
        Seeds the training noise, drawn counter-based from ``(seed, step)`` (``step`` is a weight, so
        a resumed training draws what an uninterrupted one would).
    """

    _ARGS = ("n_frames", "n_features", "channels", "n_layers", "architecture")

    def __init__(self, n_frames: int, n_features: int, *, latent_dim: int = 64, channels: int = 32,
                 n_layers: int = 3, architecture: str = "1d", **kwargs):
        self.n_frames = check_int("n_frames", n_frames)
        self.n_features = check_int("n_features", n_features)
        self.channels = check_int("channels", channels)
        self.n_layers = check_int("n_layers", n_layers)
        self.architecture = check_choice("architecture", architecture, ARCHITECTURES)
        down = 2 ** self.n_layers
        if self.n_frames % down or (architecture == "2d" and self.n_features % down):
            raise ParameterError(
                f"n_frames={n_frames}{' and n_features=' + str(n_features) if architecture == '2d' else ''} "
                f"must be divisible by 2 ** n_layers = {down}")
        super().__init__(latent_dim=latent_dim, **kwargs)

    def _build_networks(self):
        g_args = dict(latent_dim=self.latent_dim, channels=self.channels, n_layers=self.n_layers,
                      n_labels=self.n_labels, architecture=self.architecture)
        self.generator = build_spec_generator(self.n_frames, self.n_features, **g_args)
        self.ema_generator = build_spec_generator(self.n_frames, self.n_features, name="ema_generator", **g_args)
        self.discriminator = build_spec_discriminator(
            self.n_frames, self.n_features, channels=self.channels, n_layers=self.n_layers, n_labels=self.n_labels,
            spectral_norm=self.loss_name == "hinge", architecture=self.architecture)
        self.band_mean = self.add_weight(shape=(self.n_features,), initializer="zeros", trainable=False,
                                         name="band_mean")
        self.band_std = self.add_weight(shape=(self.n_features,), initializer="ones", trainable=False, name="band_std")

    def adapt(self, patches) -> "SpecGAN":
        """Set the per-band mean and standard deviation from training patches ``[shape=(n, n_frames, n_features)]``."""
        x = _as_batch(patches, what="patches", shape_tail=(None, self.n_features))
        frames = x.reshape(-1, self.n_features)
        std = frames.std(axis=0)
        floor = max(float(np.median(std)) * 1e-2, 1e-6)  # a band that never moves would divide by zero
        self.band_mean.assign(frames.mean(axis=0))
        self.band_std.assign(np.maximum(std, floor))
        return self

    def _to_model(self, x):
        xn = (tf.cast(x, tf.float32) - self.band_mean) / self.band_std
        return tf.clip_by_value(xn, -CLIP_STD, CLIP_STD) / CLIP_STD

    def _from_model(self, xn):
        return xn * CLIP_STD * self.band_std + self.band_mean

    def normalize(self, patches) -> np.ndarray:
        """Patches in the networks' units (standardised per band, clipped at 3 std, scaled to [-1, 1])."""
        return self._to_model(_as_batch(patches, what="patches", shape_tail=(self.n_frames, self.n_features))).numpy()


@keras.saving.register_keras_serializable(package=_PACKAGE)
class WaveGAN(_GAN):
    """WaveGAN on raw audio windows ``[shape=(n_samples,)]`` (Donahue et al. 2019).

    Parameters
    ----------
    n_samples : int
        Window length in samples (default :data:`WAVEGAN_SAMPLES`); divisible by ``4 ** n_layers``.
    latent_dim : int
    channels : int
        Width of the full-resolution layers (the paper's ``d``); the others are up to 16 times wider.
    n_layers : int
        Stride-4 transposed convolutions (5 in the paper).
    phase_shuffle : int
        Phase-shuffle radius in the discriminator (2 in the paper; 0 switches it off).
    **kwargs :
        As :class:`SpecGAN` (``loss``, ``n_labels``, learning rates, ``ema_decay``, ``seed``, ...).
    """

    _ARGS = ("n_samples", "channels", "n_layers", "phase_shuffle")

    def __init__(self, n_samples: int = WAVEGAN_SAMPLES, *, latent_dim: int = 100, channels: int = 16,
                 n_layers: int = 5, phase_shuffle: int = 2, **kwargs):
        self.n_samples = check_int("n_samples", n_samples)
        self.channels = check_int("channels", channels)
        self.n_layers = check_int("n_layers", n_layers)
        self.phase_shuffle = check_int("phase_shuffle", phase_shuffle, low=0)
        if self.n_samples % 4 ** self.n_layers:
            raise ParameterError(f"n_samples={n_samples} must be divisible by 4 ** n_layers = {4 ** self.n_layers}")
        super().__init__(latent_dim=latent_dim, **kwargs)

    def _build_networks(self):
        g_args = dict(latent_dim=self.latent_dim, channels=self.channels, n_layers=self.n_layers,
                      n_labels=self.n_labels)
        self.generator = build_wave_generator(self.n_samples, **g_args)
        self.ema_generator = build_wave_generator(self.n_samples, name="ema_generator", **g_args)
        self.discriminator = build_wave_discriminator(
            self.n_samples, channels=self.channels, n_layers=self.n_layers, n_labels=self.n_labels,
            spectral_norm=self.loss_name == "hinge", phase_shuffle=self.phase_shuffle, seed=self.seed)

    def _to_model(self, x):
        x = tf.cast(x, tf.float32)
        return x[..., None] if x.shape.rank == 2 else x

    def _from_model(self, x):
        return x[..., 0]


def _compiled(cls, *args, **params):
    with strategy().scope():
        model = cls(*args, **params)
        model.compile()
    return model


def make_specgan(n_frames: int, n_features: int, **params) -> SpecGAN:
    """A compiled :class:`SpecGAN`, built under :func:`strategy`; :meth:`SpecGAN.adapt` it before training."""
    return _compiled(SpecGAN, n_frames, n_features, **params)


def make_wavegan(n_samples: int = WAVEGAN_SAMPLES, **params) -> WaveGAN:
    """A compiled :class:`WaveGAN`, built under :func:`strategy`."""
    return _compiled(WaveGAN, n_samples, **params)


# --- VAE-GAN: the VAE of notebook 05, its decoder also trained against a discriminator ---
@keras.saving.register_keras_serializable(package=_PACKAGE)
class VAEGAN(PatchVAE):
    """The convolutional VAE of ``notebooks/05_vae`` (:class:`musiclib.models.vae.PatchVAE`) with a discriminator.

    One forward pass per step updates both: the discriminator (hinge loss, spectral normalisation)
    tells training patches from reconstructions and prior samples, and the VAE minimises
    (standardised units)::

        loss = NLL(x | x_rec, sigma) + beta_t * free_bits_kl / (n_frames * n_features)  # the VAE's own loss
             + adversarial_weight * -(D(x_rec) + D(x_prior)) / 2                        # look real
             + feature_weight * mean((D_features(x) - D_features(x_rec))^2)              # learned similarity

    where ``x_rec`` and ``x_prior`` are the decoder's means. The feature-matching term (Larsen et
    al. 2016) forgives small shifts in time and frequency, where the MSE averages them into blur.
    Everything else is the VAE's. Unconditional only.

    Parameters
    ----------
    n_frames, n_features : int
    adversarial_weight, feature_weight : float >= 0
    d_channels : int
        Width of the discriminator (as :class:`SpecGAN`'s ``channels``).
    d_learning_rate : float
        The discriminator's Adam learning rate.
    **vae_params :
        :class:`~musiclib.models.vae.PatchVAE` parameters (``latent_dim``, ``filters``, ``beta``,
        ``free_bits``, ``warmup_steps``, ``seed``).
    """

    def __init__(self, n_frames, n_features, *, adversarial_weight: float = 0.05, feature_weight: float = 0.1,
                 d_channels: int = 32, d_learning_rate: float = 4e-4, **vae_params):
        if vae_params.get("n_labels", 0):
            raise ParameterError("VAEGAN is unconditional: n_labels must be 0")
        super().__init__(n_frames, n_features, **vae_params)
        self.adversarial_weight = check_number("adversarial_weight", adversarial_weight, low=0.0)
        self.feature_weight = check_number("feature_weight", feature_weight, low=0.0)
        self.d_channels = check_int("d_channels", d_channels)
        self.d_learning_rate = check_number("d_learning_rate", d_learning_rate, low=0.0, low_open=True)
        n_layers = max(1, min(3, int(math.log2(self.n_frames & -self.n_frames))))
        self.discriminator = build_spec_discriminator(self.n_frames, self.n_features, channels=self.d_channels,
                                                      n_layers=n_layers, spectral_norm=True)
        self.d_optimizer = keras.optimizers.Adam(self.d_learning_rate, beta_1=0.0, beta_2=0.9, name="d_adam")
        self.d_optimizer.build(self.discriminator.trainable_variables)
        self.d_loss_tracker = keras.metrics.Mean(name="d_loss")
        self.adversarial_tracker = keras.metrics.Mean(name="adversarial_loss")
        self.feature_tracker = keras.metrics.Mean(name="feature_loss")

    def get_config(self):
        config = super().get_config()
        config.pop("n_labels", None), config.pop("label_dim", None), config.pop("label_dropout", None)
        return {**config, "adversarial_weight": self.adversarial_weight, "feature_weight": self.feature_weight,
                "d_channels": self.d_channels, "d_learning_rate": self.d_learning_rate}

    @property
    def metrics(self):
        return super().metrics + [self.d_loss_tracker, self.adversarial_tracker, self.feature_tracker]

    def train_step(self, data):
        x, _, _ = keras.utils.unpack_x_y_sample_weight(data)
        xn = self._normalize(tf.cast(x, tf.float32))
        batch = tf.shape(xn)[0]
        replicas = tf.distribute.get_strategy().num_replicas_in_sync
        d_vars = self.discriminator.trainable_variables
        skip = {id(v) for v in d_vars}
        vae_vars = [v for v in self.trainable_variables if id(v) not in skip]
        with tf.GradientTape(persistent=True) as tape:  # one forward pass serves both updates
            mean, log_var = self._encode(xn, None, training=True)
            z = mean + tf.exp(0.5 * log_var) * keras.random.normal(tf.shape(mean), seed=self._noise_seed)
            z_prior = keras.random.normal(tf.shape(mean), seed=self._noise_seed)
            x_rec = self._decode(z, None)
            x_prior = self._decode(z_prior, None)
            judged = tf.concat([xn, x_rec, x_prior], axis=0) / CLIP_STD
            scores, feats = self.discriminator(judged, training=True)
            s_real, s_rec, s_prior = scores[:batch], scores[batch : 2 * batch], scores[2 * batch :]
            d_loss = tf.reduce_mean(tf.nn.relu(1.0 - s_real)) + 0.5 * (
                tf.reduce_mean(tf.nn.relu(1.0 + s_rec)) + tf.reduce_mean(tf.nn.relu(1.0 + s_prior)))
            reconstruction = tf.reduce_mean(tf.square(xn - x_rec))
            kl_units = tf.reduce_mean(gaussian_kl(mean, log_var), axis=0)
            weight = self.kl_weight()
            vae_loss = self._nll(xn, x_rec) + weight * free_bits_kl(kl_units, self.free_bits) / float(
                self.n_frames * self.n_features)
            adversarial = -0.5 * (tf.reduce_mean(s_rec) + tf.reduce_mean(s_prior))
            feature = tf.reduce_mean(tf.square(tf.stop_gradient(feats[:batch]) - feats[batch : 2 * batch]))
            loss = vae_loss + self.adversarial_weight * adversarial + self.feature_weight * feature
            d_scaled, scaled = d_loss / replicas, loss / replicas
        d_grads = tape.gradient(d_scaled, d_vars)
        grads = tape.gradient(scaled, vae_vars)
        del tape
        self.d_optimizer.apply_gradients(zip(d_grads, d_vars))
        self.optimizer.apply_gradients(zip(grads, vae_vars))
        return keras_seq.update_metrics(self.metrics, {
            "loss": loss, "reconstruction_loss": reconstruction, "kl_loss": tf.reduce_sum(kl_units), "kl_weight": weight,
            "d_loss": d_loss, "adversarial_loss": adversarial, "feature_loss": feature})

    def test_step(self, data):
        x, _, _ = keras.utils.unpack_x_y_sample_weight(data)
        return dict(self._compute_losses(tf.cast(x, tf.float32), None, training=False))


def make_vaegan(n_frames: int, n_features: int, *, learning_rate: float = 1e-3, clipnorm: float | None = 1.0,
                **params) -> VAEGAN:
    """A compiled :class:`VAEGAN` under :func:`strategy`; the VAE's Adam as in :func:`.vae.make_vae`."""
    with strategy().scope():
        model = VAEGAN(n_frames, n_features, **params)
        model.build((None, n_frames, n_features))
        model.compile(optimizer=keras.optimizers.Adam(learning_rate=learning_rate, clipnorm=clipnorm))
        # built over every trainable variable (the discriminator's get no gradient from it), as Keras
        # builds it when the model is loaded, so a saved optimiser state loads back
        model.optimizer.build(model.trainable_variables)
    return model


# --- data ---
def patch_dataset(patches, *, labels=None, batch_size: int = 32, seed: int = 0, repeat: bool = True):
    """A shuffled ``tf.data.Dataset`` of batches of patches (or audio windows), with labels if given.

    Parameters
    ----------
    patches : np.ndarray [shape=(n, ...)]
        E.g. ``make_patches(...).x`` or :func:`wave_windows`.
    labels : np.ndarray [shape=(n,)] of int, optional
    batch_size : int
        Batches are full (the last partial batch of an epoch is dropped).
    seed : int
    repeat : bool
        Repeat forever (what :func:`fit_gan` expects).
    """
    x = check_finite("patches", patches)
    if x.ndim < 2:
        raise ParameterError(f"patches must be an array of shape (n, ...) with n >= 1, got {x.shape}")
    batch_size = check_int("batch_size", batch_size)
    if batch_size > len(x):
        raise ParameterError(f"batch_size={batch_size} is more than the {len(x)} patches")
    items = x
    if labels is not None:
        labels = np.asarray(labels)
        if labels.shape != (len(x),) or labels.dtype.kind not in "iu":
            raise ParameterError(f"labels must be {len(x)} integers, got shape {labels.shape} dtype {labels.dtype}")
        items = (x, labels.astype(np.int32))
    ds = tf.data.Dataset.from_tensor_slices(items).shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
    if repeat:
        ds = ds.repeat()
    return ds.batch(batch_size, drop_remainder=True).prefetch(tf.data.AUTOTUNE)


def wave_windows(clips, *, n_samples: int = WAVEGAN_SAMPLES, hop: int | None = None) -> np.ndarray:
    """Windows ``[shape=(n, n_samples)]`` cut from audio clips (float32), ``hop`` apart (default ``n_samples // 4``).

    Clips shorter than one window are skipped.
    """
    n_samples = check_int("n_samples", n_samples)
    hop = n_samples // 4 if hop is None else check_int("hop", hop)
    if isinstance(clips, np.ndarray) and clips.ndim == 1:
        clips = [clips]
    out = []
    for i, y in enumerate(clips):
        y = check_finite(f"clips[{i}]", getattr(y, "y", y), ndim=1, allow_empty=True)
        if len(y) >= n_samples:
            out.append(np.lib.stride_tricks.sliding_window_view(y, n_samples)[::hop])
    if not out:
        raise ParameterError(f"no clip holds one window of n_samples={n_samples}")
    return np.ascontiguousarray(np.concatenate(out, axis=0))


# --- latent paths ---
def slerp(a, b, t) -> np.ndarray:
    """Spherical interpolation between latents ``a`` and ``b`` ``[shape=(latent_dim,)]`` at ``t`` in [0, 1].

    The direction follows the great circle and the norm moves linearly, so no point falls near the
    origin, where the generator has seen nothing. An array ``t`` gives ``[shape=(len(t), latent_dim)]``.
    """
    a = check_finite("a", a, ndim=1, dtype=np.float64)
    b = check_finite("b", b, ndim=1, dtype=np.float64)
    if a.shape != b.shape:
        raise ParameterError(f"slerp() needs two latents of the same shape (latent_dim,), got {a.shape} and {b.shape}")
    t = np.asarray(t, dtype=np.float64)
    if not np.all(np.isfinite(t)) or np.any(t < 0) or np.any(t > 1):
        raise ParameterError(f"slerp() t must lie in [0, 1], got {t}")
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    if na == 0 or nb == 0:
        raise ParameterError("slerp() latents must be non-zero")
    ua, ub = a / na, b / nb
    omega = np.arccos(np.clip(ua @ ub, -1.0, 1.0))
    tt = t[..., None]
    if omega < 1e-6:
        direction = (1 - tt) * ua + tt * ub
    else:
        direction = (np.sin((1 - tt) * omega) * ua + np.sin(tt * omega) * ub) / np.sin(omega)
    direction /= np.linalg.norm(direction, axis=-1, keepdims=True)
    return ((1 - tt) * na + tt * nb) * direction


def latent_walk(n_points: int, *, latent_dim: int, n_anchors: int = 4, seed: int = 0) -> np.ndarray:
    """Latents ``[shape=(n_points, latent_dim)]`` along spherical paths through ``n_anchors`` random points.

    The anchors are seeded standard normal draws; each leg gets the same number of points.
    """
    n_points = check_int("n_points", n_points, low=2)
    latent_dim = check_int("latent_dim", latent_dim)
    n_anchors = check_int("n_anchors", n_anchors, low=2)
    anchors = np.random.default_rng(seed).standard_normal((n_anchors, latent_dim))
    pos = np.linspace(0.0, n_anchors - 1, n_points)
    leg = np.minimum(pos.astype(int), n_anchors - 2)
    return np.stack([slerp(anchors[k], anchors[k + 1], p - k) for k, p in zip(leg, pos)]).astype(np.float32)


# --- saving, loading, training with checkpoints ---
def save_model(model, path, *, overwrite: bool = False) -> Path:
    """Save ``model`` in Keras' native format at ``path`` (``.keras``), atomically.

    Raises
    ------
    ParameterError
        ``path`` does not end in ``.keras``, or exists and ``overwrite`` is False.
    """
    path = Path(path)
    if path.suffix != ".keras":
        raise ParameterError(f"save_model(): path={str(path)!r} must end in .keras")
    if path.exists() and not overwrite:
        raise ParameterError(f"save_model(): {path} exists; pass overwrite=True to replace it")
    with atomic_write(path) as tmp:
        model.save(tmp)
    return path


class _StepTimer(keras.callbacks.Callback):
    """Wall-clock and CPU seconds per training step, per epoch (the first epoch includes tracing and compilation).

    Time spent in other callbacks' ``on_train_batch_end`` (a monitor's snapshots) is not counted.
    """

    def __init__(self):
        super().__init__()
        self.seconds_per_step, self.cpu_seconds_per_step = [], []

    def on_epoch_begin(self, epoch, logs=None):
        self._times = []

    def on_train_batch_begin(self, batch, logs=None):
        self._t = (time.perf_counter(), time.process_time())

    def on_train_batch_end(self, batch, logs=None):
        self._times.append((time.perf_counter() - self._t[0], time.process_time() - self._t[1]))

    def on_epoch_end(self, epoch, logs=None):
        if self._times:
            wall, cpu = np.mean(self._times, axis=0)
            self.seconds_per_step.append(float(wall))
            self.cpu_seconds_per_step.append(float(cpu))


def fit_gan(model, data, *, steps: int, checkpoint_dir, steps_per_epoch: int | None = None, callbacks=(),
            verbose: bool = False):
    """Train a GAN for ``steps`` generator updates in all, resuming from ``checkpoint_dir`` when it holds a backup.

    ``keras.callbacks.BackupAndRestore`` saves weights, optimiser and random-generator state to
    ``checkpoint_dir/backup`` after every epoch of ``steps_per_epoch`` steps, so an interrupted run
    continues where it stopped (a finished one trains no further); the finished model is saved to
    ``checkpoint_dir/model.keras``.

    Parameters
    ----------
    model : SpecGAN, WaveGAN or VAEGAN
        Compiled (``make_*``), adapted where needed.
    data : tf.data.Dataset
        Batches, repeated (:func:`patch_dataset`).
    steps : int
        Total training steps (counting those done before a restart); rounded up to whole epochs.
    checkpoint_dir : str or Path
    steps_per_epoch : int, optional
        Steps between backups (default: ``steps``, one backup at the end).
    callbacks : list of keras.callbacks.Callback
        E.g. a :class:`GANMonitor`; they run after the backup is restored.
    verbose : bool
        Print one line per epoch.

    Returns
    -------
    model
    history : dict
        Per epoch of this run: the last step's ``"d_loss"``, ``"g_loss"``, ..., and
        ``"seconds_per_step"``, ``"cpu_seconds_per_step"`` (callbacks' work excluded); then
        ``"initial_step"`` (steps restored from the backup) and ``"steps"`` (the step counter at the end).
    """
    steps = check_int("steps", steps)
    steps_per_epoch = steps if steps_per_epoch is None else check_int("steps_per_epoch", steps_per_epoch)
    epochs = -(-steps // steps_per_epoch)
    directory = Path(checkpoint_dir)
    directory.mkdir(parents=True, exist_ok=True)
    backup = keras.callbacks.BackupAndRestore(str(directory / "backup"), save_freq="epoch", delete_checkpoint=False)
    meta = directory / "backup" / "training_metadata.json"
    try:
        done = int(json.loads(meta.read_text())["epoch"]) if meta.exists() else 0
    except (KeyError, ValueError, TypeError) as e:
        raise ParameterError(f"{meta} is not a Keras BackupAndRestore record ({e})") from None
    if done:  # skip the restored epochs' batches: a resumed run sees what an uninterrupted one would
        data = data.skip(min(done, epochs) * steps_per_epoch)
    timer = _StepTimer()
    start = int(model.step.numpy())
    history = model.fit(data, epochs=epochs, steps_per_epoch=steps_per_epoch, callbacks=[backup, timer, *callbacks],
                        verbose=2 if verbose else 0, shuffle=False)  # the dataset shuffles itself
    save_model(model, directory / "model.keras", overwrite=True)
    restored = int(model.step.numpy()) - len(timer.seconds_per_step) * steps_per_epoch
    out = {k: [float(v) for v in vals] for k, vals in history.history.items()}
    out.update(seconds_per_step=timer.seconds_per_step, cpu_seconds_per_step=timer.cpu_seconds_per_step,
               initial_step=max(restored, start), steps=int(model.step.numpy()))
    return model, out


# --- watching it train ---
@dataclass
class TrainingRecord:
    """What :class:`GANMonitor` saw: losses at every step and snapshots every ``every`` steps.

    Attributes
    ----------
    steps : list of int
        The generator step after which each loss value was taken.
    train_seconds : list of float
        Wall-clock seconds spent in training steps up to each entry of ``steps`` (snapshots excluded).
    losses : dict of str -> list of float
        ``"d_loss"``, ``"g_loss"`` (and ``"gp"`` for WGAN-GP), one value per entry of ``steps``.
    snapshots : list of dict
        ``{"step", "train_seconds", "images" [shape=(n, time, bands)], "clips" (list of 1-D
        arrays), "sr", "noise", "diversity", "noise_passed", "diversity_passed", "card" and
        "card_passed" (every check's value and verdict), "seconds" (what the snapshot cost)}``,
        from the EMA generator on the same latents every time.
    """

    steps: list = field(default_factory=list)
    train_seconds: list = field(default_factory=list)
    losses: dict = field(default_factory=dict)
    snapshots: list = field(default_factory=list)

    def truncate(self, step: int) -> "TrainingRecord":
        """Drop what was recorded after ``step`` (a restored backup's step)."""
        keep = [i for i, s in enumerate(self.steps) if s <= step]
        self.steps = [self.steps[i] for i in keep]
        self.train_seconds = [self.train_seconds[i] for i in keep]
        self.losses = {k: [v[i] for i in keep] for k, v in self.losses.items()}
        self.snapshots = [s for s in self.snapshots if s["step"] <= step]
        return self

    # -- persistence ------------------------------------------------------------------------------
    def save(self, path) -> Path:
        """Write the record to ``path`` (``.npz``), atomically."""
        path = Path(path)
        arrays = {"steps": np.asarray(self.steps, dtype=np.int64),
                  "train_seconds": np.asarray(self.train_seconds, dtype=np.float64),
                  **{f"loss__{k}": np.asarray(v, dtype=np.float64) for k, v in self.losses.items()}}
        meta = []
        for i, s in enumerate(self.snapshots):
            arrays[f"images__{i}"] = np.asarray(s["images"], dtype=np.float32)
            for j, c in enumerate(s["clips"]):
                arrays[f"clip__{i}__{j}"] = np.asarray(c, dtype=np.float32)
            meta.append({k: v for k, v in s.items() if k not in ("images", "clips")} | {"n_clips": len(s["clips"])})
        arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
        with atomic_write(path) as tmp:
            np.savez(tmp, **arrays)
        return path

    @classmethod
    def load(cls, path) -> "TrainingRecord":
        """Read a record written by :meth:`save`."""
        with np.load(path) as f:
            meta = json.loads(f["meta"].tobytes().decode())
            losses = {k[len("loss__"):]: f[k].tolist() for k in f.files if k.startswith("loss__")}
            snaps = []
            for i, m in enumerate(meta):
                n = m.pop("n_clips")
                snaps.append({**m, "images": f[f"images__{i}"], "clips": [f[f"clip__{i}__{j}"] for j in range(n)]})
            return cls(steps=f["steps"].tolist(), train_seconds=f["train_seconds"].tolist(), losses=losses,
                       snapshots=snaps)

    # -- views ----------------------------------------------------------------------------------
    def table(self):
        """One row per snapshot: step, training seconds so far, noise, diversity and whether each passes,
        seconds the snapshot took (a DataFrame)."""
        import pandas as pd

        cols = ["step", "train_seconds", "noise", "noise_passed", "diversity", "diversity_passed", "seconds"]
        return pd.DataFrame([{k: s.get(k) for k in cols} for s in self.snapshots], columns=cols)

    def plot_losses(self, *, ax=None, smooth: int = 25):
        """Discriminator and generator loss per step (thin) and their running mean over ``smooth`` steps."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(7, 3))
        steps = np.asarray(self.steps)
        for i, (name, vals) in enumerate(self.losses.items()):
            v = np.asarray(vals, dtype=float)
            ax.plot(steps, v, color=f"C{i}", alpha=0.25, lw=0.7)
            k = max(1, min(smooth, len(v)))
            if len(v) >= k:
                ax.plot(steps[k - 1:], np.convolve(v, np.ones(k) / k, mode="valid"), color=f"C{i}", label=name)
        ax.set(xlabel="generator step", ylabel="loss")
        ax.legend(loc="upper right")
        return ax

    def plot_checks(self, *, ax=None, x: str = "step", checks=("noise", "diversity"), label: str | None = None,
                    marker: str = "o"):
        """The card's values at each snapshot against ``x`` ("step" or "train_seconds"), thresholds dotted.

        ``label`` prefixes the legend entries, so two records can share one axes (e.g. two objectives).
        """
        import matplotlib.pyplot as plt

        from musiclib.evaluation import card

        check_choice("x", x, ("step", "train_seconds"))
        if ax is None:
            _, ax = plt.subplots(figsize=(7, 3))
        xs = [s[x] for s in self.snapshots]
        for check in checks:
            colour = {"noise": "C3", "diversity": "C2"}.get(check, f"C{list(card.CHECKS).index(check) % 10}")
            rule = "lower" if card.CHECKS[check] == "max" else "higher"
            ax.plot(xs, [s["card"][check] for s in self.snapshots], marker=marker, ls="-", color=colour,
                    label=f"{label + ': ' if label else ''}{check} ({rule} is better)")
            threshold = card.THRESHOLDS.get(check)
            if threshold is not None:
                ax.axhline(threshold, color=colour, ls=":", lw=1)
        ax.set(xlabel="generator step" if x == "step" else "training seconds", ylabel="card value",
               title="card checks while training (dotted: thresholds)")
        ax.legend(loc="best", fontsize=8)
        return ax

    def plot_grid(self, *, axes=None, n_columns: int | None = None, vmin=None, vmax=None):
        """The generated spectrograms, a row per snapshot and a column per example; returns the axes array."""
        import matplotlib.pyplot as plt

        if not self.snapshots:
            raise ParameterError("the record has no snapshots to plot")
        n_rows, n_cols = len(self.snapshots), n_columns or len(self.snapshots[0]["images"])
        if axes is None:
            _, axes = plt.subplots(n_rows, n_cols, figsize=(1.6 * n_cols, 1.3 * n_rows), squeeze=False)
        axes = np.atleast_2d(axes)
        allv = np.concatenate([np.ravel(s["images"]) for s in self.snapshots])
        vmin = np.percentile(allv, 2) if vmin is None else vmin
        vmax = np.percentile(allv, 99.5) if vmax is None else vmax
        for r, s in enumerate(self.snapshots):
            for c in range(n_cols):
                ax = axes[r, c]
                if c < len(s["images"]):
                    ax.imshow(np.asarray(s["images"][c]).T, origin="lower", aspect="auto", cmap="magma",
                              vmin=vmin, vmax=vmax)
                ax.set(xticks=[], yticks=[])
                if c == 0:
                    ax.set_ylabel(f"step {s['step']}", fontsize=8)
        return axes

    def players(self, *, per_snapshot: int = 1):
        """Rows ``(label, clip)`` for :func:`musiclib.display.audio_table`, ``per_snapshot`` each; and the rate."""
        rows = [(f"step {s['step']}, clip {j}", c)
                for s in self.snapshots for j, c in enumerate(s["clips"][:per_snapshot])]
        sr = self.snapshots[0]["sr"] if self.snapshots else None
        return rows, sr


class GANMonitor(keras.callbacks.Callback):
    """Record a GAN's losses at every step and look at what it generates every ``every`` steps.

    At each snapshot the EMA generator renders the same ``n_clips`` examples and the card
    (:func:`musiclib.evaluation.card.musicality_card`) measures them; a :class:`TrainingRecord`
    keeps both. With ``path``, the record is written after every snapshot and reloaded (cut at the
    restored step) when training resumes.

    Parameters
    ----------
    render : callable
        ``render(model, n_clips, seed) -> (images [shape=(n, time, bands)], clips)``, the clips 1-D
        audio of at least one second at ``sr`` (:func:`spec_renderer`, :func:`wave_renderer`).
    every : int
        Steps between snapshots (a snapshot is also taken at the last step of training).
    training, reference : list of np.ndarray
        Training and held-out audio for the card, at ``sr``.
    sr : int
    n_clips : int
        Clips per snapshot (at least 2, for the diversity check).
    seed : int
    features : dict, optional
        The card's feature cache (see :func:`~musiclib.evaluation.card.musicality_card`).
    path : str or Path, optional
        Where the record is kept (``.npz``).
    """

    def __init__(self, render, *, every: int, training, reference, sr: int, n_clips: int = 4, seed: int = 0,
                 features: dict | None = None, path=None):
        super().__init__()
        if not callable(render):
            raise ParameterError(f"render must be callable, got {type(render).__name__}")
        self.render = render
        self.every = check_int("every", every)
        self.n_clips = check_int("n_clips", n_clips, low=2)
        self.sr = check_int("sr", sr)
        self.training, self.reference = training, reference
        self.seed = int(seed)
        self.features = features if features is not None else {}
        self.path = Path(path) if path is not None else None
        self.record = TrainingRecord()

    def on_train_begin(self, logs=None):
        step = int(self.model.step.numpy())
        resume = self.path is not None and self.path.exists()
        self.record = TrainingRecord.load(self.path).truncate(step) if resume else TrainingRecord()
        if step == 0:
            self.snapshot(0)

    def on_train_batch_begin(self, batch, logs=None):
        self._t = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        step = int(self.model.step.numpy())
        spent = time.perf_counter() - self._t
        self.record.steps.append(step)
        self.record.train_seconds.append((self.record.train_seconds[-1] if self.record.train_seconds else 0.0) + spent)
        for k, v in (logs or {}).items():
            self.record.losses.setdefault(k, []).append(float(v))
        if step % self.every == 0:
            self.snapshot(step)

    def on_train_end(self, logs=None):
        step = int(self.model.step.numpy())
        if not self.record.snapshots or self.record.snapshots[-1]["step"] != step:
            self.snapshot(step)

    def snapshot(self, step: int) -> dict:
        """Render, measure and record the EMA generator's output now."""
        from musiclib.evaluation import card

        t0 = time.perf_counter()
        images, clips = self.render(self.model, self.n_clips, self.seed)
        c = card.musicality_card(clips, training=self.training, reference=self.reference, sr=self.sr,
                                 seed=self.seed, features=self.features)
        snap = {
            "step": int(step), "train_seconds": self.record.train_seconds[-1] if self.record.train_seconds else 0.0,
            "card": {k: v["value"] for k, v in c.checks.items()},
            "card_passed": {k: v["passed"] for k, v in c.checks.items()},
            "images": np.asarray(images, dtype=np.float32), "clips": [np.asarray(x) for x in clips],
            "sr": self.sr, "noise": c.checks["noise"]["value"], "diversity": c.checks["diversity"]["value"],
            "noise_passed": c.checks["noise"]["passed"], "diversity_passed": c.checks["diversity"]["passed"],
            "seconds": time.perf_counter() - t0,
        }
        self.record.snapshots.append(snap)
        if self.path is not None:
            self.record.save(self.path)
        return snap


# --- renderers: what a monitor (or a notebook) hears of a model ---
def spec_renderer(rep, *, patches_per_clip: int = 2, overlap: int = 8, inversion: dict | None = None):
    """A :class:`GANMonitor` renderer for a :class:`SpecGAN`: clips of stitched generated patches.

    ``render(model, n_clips, seed)`` stitches ``patches_per_clip`` generated patches per clip (a
    conditional model cycles through its labels, one per clip) and inverts each clip once
    (:func:`musiclib.patches.sequence_to_audio`); it returns the stitched spectrograms
    ``[shape=(n_clips, time, rep.n_features)]`` and the clips.

    Parameters
    ----------
    rep : Representation
        The patches' representation (e.g. :func:`musiclib.generate.default_representation`).
    patches_per_clip : int
    overlap : int
        Frames of cross-fade at each seam.
    inversion : dict, optional
        Keyword arguments for :func:`musiclib.generate.frames_to_audio`.
    """
    patches_per_clip = check_int("patches_per_clip", patches_per_clip)
    overlap = check_int("overlap", overlap, low=0)

    def render(model, n_clips, seed):
        from musiclib.patches import sequence_to_audio, stitch

        labels = np.repeat(np.arange(n_clips) % model.n_labels, patches_per_clip) if model.n_labels else None
        x = model.generate(n_clips * patches_per_clip, labels=labels, seed=seed)
        x = x.reshape(n_clips, patches_per_clip, *x.shape[1:])
        images = np.stack([stitch(p, overlap=overlap) for p in x])
        clips = [sequence_to_audio(p, rep, overlap=overlap, seed=seed, inversion=inversion) for p in x]
        return images, clips

    return render


def wave_renderer(*, sr: int | None = None, rep=None):
    """A :class:`GANMonitor` renderer for a :class:`WaveGAN`: one generated window per clip.

    ``render(model, n_clips, seed)`` returns the windows' spectrograms under ``rep`` (default: 64
    mel bands in dB) and the windows, resampled from :data:`WAVEGAN_SR` to ``sr`` when given.
    """
    from musiclib.audio import resample
    from musiclib.representations import MelSpectrogram

    sr = check_int("sr", sr, allow_none=True)
    rep = rep if rep is not None else MelSpectrogram(sr=sr or WAVEGAN_SR, n_fft=1024, n_mels=64, scale="db")

    def render(model, n_clips, seed):
        y = list(model.generate(n_clips, seed=seed))
        if sr is not None and sr != WAVEGAN_SR:
            y = [resample(c, orig_sr=WAVEGAN_SR, target_sr=sr) for c in y]
        return np.stack([rep.encode(c) for c in y]), y

    return render


# --- a watched training run, as 06_gan trains each of its models ---
def seconds_per_step(record: TrainingRecord) -> float:
    """Median wall-clock seconds of a training step in ``record``, the first (which traces the step)
    left out; NaN with fewer than two steps recorded."""
    t = np.diff(np.asarray([0.0, *record.train_seconds], dtype=float))[1:]
    return float(np.median(t)) if len(t) else math.nan


def fit_monitored(model, data, *, steps: int, every: int, render, checkpoint_dir, training, reference, sr: int,
                  n_clips: int = 4, seed: int = 0, features: dict | None = None):
    """:func:`fit_gan` with a :class:`GANMonitor` watching, a snapshot (and a backup) every ``every`` steps.

    Parameters are those of :func:`fit_gan` and :class:`GANMonitor`; the record is kept as
    ``checkpoint_dir/record.npz``, so a resumed run continues it. Returns ``(model, history, record)``
    (:func:`fit_gan`'s ``history``, the :class:`TrainingRecord`).
    """
    monitor = GANMonitor(render, every=every, training=training, reference=reference, sr=sr, n_clips=n_clips,
                         seed=seed, features=features, path=Path(checkpoint_dir) / "record.npz")
    model, history = fit_gan(model, data, steps=steps, steps_per_epoch=every, checkpoint_dir=checkpoint_dir,
                             callbacks=[monitor])
    return model, history, monitor.record


def describe_training(model, history: dict, record: TrainingRecord) -> str:
    """One line: both networks' parameter counts, the steps (and how many a checkpoint restored), the
    median seconds per step."""
    return (f"generator {model.count_params_of('generator'):,} / discriminator "
            f"{model.count_params_of('discriminator'):,} parameters; {history['steps']} steps "
            f"({history['initial_step']} restored from a checkpoint); {seconds_per_step(record):.3f} s per step")


def plot_training(record: TrainingRecord, *, title: str, axes=None):
    """Losses (left, titled ``title``) and the card's checks per snapshot (right); returns the 2 axes."""
    import matplotlib.pyplot as plt

    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(13, 3.2))
    record.plot_losses(ax=axes[0])
    axes[0].set_title(title)
    record.plot_checks(ax=axes[1])
    axes[0].figure.tight_layout()
    return axes


def snapshots_summary(record: TrainingRecord, *, until_seconds: float, ignore=("rhythm",)) -> dict:
    """What a run's snapshots said up to ``until_seconds`` of training: to compare objectives at equal time.

    Step 0 (the untrained generator) is left out; a snapshot up to 5 % past ``until_seconds`` counts.

    Parameters
    ----------
    record : TrainingRecord
    until_seconds : float
        Seconds of training (``snapshot["train_seconds"]``), >= 0.
    ignore : sequence of str
        Card checks that do not count (the monitor's clips are too short for the rhythm check).

    Returns
    -------
    dict
        ``snapshots`` (how many), ``s per step`` (:func:`seconds_per_step`), ``snapshots passing every
        check`` (``"2 of 3"``), ``share passing``, ``mean noise``, ``mean distribution``, ``mean
        diversity`` (NaN without snapshots) and ``checks failed at some snapshot`` (names, or ``"-"``).
    """
    until = check_number("until_seconds", until_seconds, low=0)
    snaps = [s for s in record.snapshots if s["step"] > 0 and s["train_seconds"] <= 1.05 * until]
    ok = [all(v is not False for k, v in s["card_passed"].items() if k not in ignore) for s in snaps]
    failed = sorted({k for s in snaps for k, v in s["card_passed"].items() if v is False and k not in ignore})
    return {"snapshots": len(snaps), "s per step": seconds_per_step(record),
            "snapshots passing every check": f"{sum(ok)} of {len(ok)}",
            "share passing": float(np.mean(ok)) if ok else math.nan,
            **{f"mean {k}": float(np.mean([s["card"][k] for s in snaps])) if snaps else math.nan
               for k in ("noise", "distribution", "diversity")},
            "checks failed at some snapshot": ", ".join(failed) or "-"}
