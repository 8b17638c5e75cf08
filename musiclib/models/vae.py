"""Latent-variable models on spectrogram patches: VAE, conditional VAE, VQ-VAE and a prior over its codes.

Each reads patches ``x [shape=(batch, n_frames, n_features)]`` from :mod:`musiclib.patches` and gives
patches back in the same units (a per-feature standardisation, :meth:`adapt`, is saved with the model).
The convolutions run along time with the bands as channels (1-D, stride 2), and every decoder is a
Gaussian with a learned standard deviation per band (Rybkin et al. 2021): reconstructions show its
mean, sampling (``noise_scale=1``) draws from it.

:class:`PatchVAE`
    Convolutional VAE (keras-io style ``train_step``) with two guards against posterior collapse: KL
    warm-up and free bits (:func:`free_bits_kl`); :func:`active_units` counts the informative units.
    ``n_labels > 0`` makes it conditional: a label embedding (row 0 = "any label", used for unknown
    labels and, with probability ``label_dropout``, in training) enters the encoder and the decoder.
:class:`PatchVQVAE`
    VQ-VAE: ``codes_per_patch`` codes along time from a :class:`VectorQuantizer` (straight-through,
    EMA codebook, dead codes restarted); codebook use as :func:`codebook_perplexity`.
:class:`CodePrior`
    An autoregressive LSTM over the VQ-VAE's code sequences; :meth:`CodePrior.sample` is one traced loop.

Strategy, seeds, saving, :func:`fit_with_checkpoints`: :mod:`musiclib.models`. Notebooks 05_vae, 06_gan.
"""

from __future__ import annotations

import math

import numpy as np

from musiclib.models._backend import keras, tf
from musiclib.errors import (ParameterError, check_fraction, check_int, check_ints, check_number,
                             check_positive)
from musiclib.models.keras_seq import (_chain, _lstm_layers, _lstm_steps, _make,  # noqa: F401
                                       fit_with_checkpoints, gradient_step, load_model, set_seed, strategy,
                                       update_metrics)
from musiclib.patches import as_patch_array

__all__ = [
    "PatchVAE",
    "PatchVQVAE",
    "VectorQuantizer",
    "CodePrior",
    "make_vae",
    "make_vqvae",
    "make_prior",
    "gaussian_kl",
    "free_bits_kl",
    "patch_dataset",
    "code_dataset",
    "fit_with_checkpoints",
    "active_units",
    "reconstruction_error",
    "codebook_perplexity",
    "load_model",
    "set_seed",
    "strategy",
]

_PACKAGE = "musiclib"
_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


def _patch_array(x, model, what) -> np.ndarray:
    x = getattr(x, "x", x)
    if np.ndim(x) == 2:  # one patch
        x = np.asarray(x)[None]
    return as_patch_array(x, n_frames=model.n_frames, n_features=model.n_features,
                          what=f"{type(model).__name__}.{what}()")


# --- the KL term and free bits ---
def gaussian_kl(mean, log_var):
    """KL divergence of ``N(mean, exp(log_var))`` from ``N(0, 1)`` per latent unit, in nats.

    ``0.5 * (mean**2 + exp(log_var) - 1 - log_var)``, element-wise: ``[shape=(batch, latent_dim)]``.
    """
    return 0.5 * (tf.square(mean) + tf.exp(log_var) - 1.0 - log_var)


def free_bits_kl(kl_per_unit, free_bits: float):
    """The KL term with free bits: ``sum over units of max(KL_u, free_bits)`` (Kingma et al. 2016).

    Parameters
    ----------
    kl_per_unit : tf.Tensor [shape=(latent_dim,)]
        Each unit's KL averaged over the batch (nats).
    free_bits : float >= 0
        Nats each unit may use for free (no gradient pushes a unit below them onto the prior).

    Returns
    -------
    tf.Tensor, scalar (nats)
    """
    return tf.reduce_sum(tf.maximum(kl_per_unit, tf.cast(free_bits, kl_per_unit.dtype)))


# --- the shared patch model: standardisation, convolution stacks, numpy API ---
def _unpack(data):
    """``x`` or ``(x, labels)`` (what :func:`patch_dataset` yields) -> ``(x, labels or None)``."""
    if isinstance(data, (tuple, list)):
        return data[0], data[1] if len(data) > 1 else None
    return data, None


class _PatchModel(keras.Model):
    """What the patch models share: standardisation and the Gaussian decoder's scale (saved with the model),
    the convolution stacks (1-D, not 2-D over (time, band): each band keeps its own weights and blurs
    less), batched numpy helpers.
    """

    def __init__(self, n_frames, n_features, *, filters, name=None, **kwargs):
        super().__init__(name=name, **kwargs)
        self.n_frames = check_int("n_frames", n_frames, low=2)
        self.n_features = check_int("n_features", n_features)
        self.filters = check_ints("filters", filters)
        factor = 2 ** len(self.filters)
        if self.n_frames % factor:
            raise ParameterError(
                f"n_frames={self.n_frames} must be a multiple of 2**len(filters)={factor} (each convolution "
                "halves the time axis)"
            )
        self._steps = self.n_frames // factor  # time steps after the encoder
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.reconstruction_tracker = keras.metrics.Mean(name="reconstruction_loss")
        object.__setattr__(self, "_fns", {})  # compiled helpers, not saved (and not tracked by Keras)

    # -- convolution stacks ----------------------------------------------------------------------
    def _make_encoder(self):
        return [keras.layers.Conv1D(f, 3, strides=2, padding="same", activation="relu", name=f"encoder_conv_{i}")
                for i, f in enumerate(self.filters)]

    def _make_decoder(self):
        up = list(reversed(self.filters))[1:] + [self.filters[0]]
        layers = [keras.layers.Conv1DTranspose(f, 3, strides=2, padding="same", activation="relu",
                                               name=f"decoder_deconv_{i}") for i, f in enumerate(up)]
        return layers, keras.layers.Conv1D(self.n_features, 3, padding="same", name="decoder_out")

    def _run_encoder(self, xn):
        return _chain(self.encoder_convs, xn)  # (batch, time / 2**k, filters[-1])

    def _run_decoder(self, h):
        return self.decoder_out(_chain(self.decoder_deconvs, h))  # standardised (batch, n_frames, n_features)

    # -- standardisation and the Gaussian decoder ------------------------------------------------
    def build(self, input_shape=None):
        if self.built:
            return
        F = self.n_features
        self.feature_mean = self.add_weight(shape=(F,), initializer="zeros", trainable=False, name="feature_mean")
        self.feature_std = self.add_weight(shape=(F,), initializer="ones", trainable=False, name="feature_std")
        self.decoder_log_scale = self.add_weight(shape=(F,), initializer="zeros", trainable=True,
                                                 name="decoder_log_scale")
        self._build_layers()
        self.built = True

    def adapt(self, patches):
        """Set the per-feature mean and standard deviation from training patches (returns ``self``).

        Parameters
        ----------
        patches : np.ndarray [shape=(n, n_frames, n_features)] or musiclib.patches.Patches
        """
        x = _patch_array(patches, self, "adapt")
        self.build()
        flat = x.reshape(-1, self.n_features).astype(np.float64)
        std = flat.std(axis=0)
        floor = max(float(np.median(std)) * 1e-2, 1e-6)  # a band that never moves is shifted, not blown up
        self.feature_mean.assign(flat.mean(axis=0).astype(np.float32))
        self.feature_std.assign(np.maximum(std, floor).astype(np.float32))
        return self

    def _normalize(self, x):
        return (x - self.feature_mean) / self.feature_std

    def _denormalize(self, xn):
        return xn * self.feature_std + self.feature_mean

    def _log_scale(self):
        return tf.clip_by_value(self.decoder_log_scale, -5.0, 3.0)

    def _nll(self, xn, xh):
        """Gaussian negative log-likelihood per value (nats), standardised units, learned scale per band."""
        log_s = self._log_scale()
        return tf.reduce_mean(0.5 * tf.square((xn - xh) * tf.exp(-log_s)) + log_s + _HALF_LOG_2PI)

    def _observe(self, xh, noise_scale, seed):
        """Decoder mean ``xh`` (standardised) plus ``noise_scale`` times its learned noise, in input units."""
        eps = tf.random.stateless_normal(tf.shape(xh), seed=seed)
        return self._denormalize(xh + noise_scale * tf.exp(self._log_scale()) * eps)

    def decoder_std(self) -> np.ndarray:
        """The decoder's standard deviation per band ``[shape=(n_features,)]``, in input units (dB)."""
        return (np.exp(self._log_scale().numpy()) * self.feature_std.numpy()).astype(np.float32)

    @property
    def metrics(self):
        return [self.loss_tracker, self.reconstruction_tracker]

    # -- batched numpy helpers -------------------------------------------------------------------
    def _fn(self, name, body):
        """A ``tf.function`` of ``body``, traced once per model (not saved)."""
        if name not in self._fns:
            self._fns[name] = tf.function(body, reduce_retracing=True)
        return self._fns[name]

    @staticmethod
    def _batched(fn, arrays, batch_size):
        n = len(arrays[0])
        outs = [fn(*[tf.constant(a[i : i + batch_size]) for a in arrays]) for i in range(0, n, batch_size)]
        if isinstance(outs[0], (tuple, list)):
            return tuple(np.concatenate([np.asarray(o[k]) for o in outs]) for k in range(len(outs[0])))
        return np.concatenate([np.asarray(o) for o in outs])

    def _decode_batches(self, decode, arrays, *, noise_scale, seed, batch_size):
        """``decode(*arrays)`` in batches plus ``noise_scale`` times the decoder's noise, seeded per batch."""
        scale = tf.constant(check_number("noise_scale", noise_scale, low=0), tf.float32)
        fn = self._fn("decode", lambda a, s, k: self._observe(decode(*a), s, k))
        return np.concatenate([np.asarray(fn(tuple(tf.constant(x[i : i + batch_size]) for x in arrays), scale,
                                             tf.constant([int(seed) % (2**31 - 1), i], tf.int32)))
                               for i in range(0, len(arrays[0]), batch_size)])


# --- the VAE and the conditional VAE ---
@keras.saving.register_keras_serializable(package=_PACKAGE)
class PatchVAE(_PatchModel):
    """Convolutional (conditional) VAE on spectrogram patches, with KL warm-up and free bits.

    Encoder: stride-2 ``Conv1D`` layers, flatten, [label embedding,] dense mean and log-variance.
    Decoder: dense [from ``z`` and the label embedding], stride-2 ``Conv1DTranspose`` layers, a linear
    ``Conv1D`` to the bands. Loss per value (standardised units; the negative ELBO when ``beta=1``)::

        loss = NLL(x | x_hat, sigma) + beta_t * free_bits_kl(mean_batch(KL_u), free_bits) / (n_frames * n_features)

    with ``beta_t = beta * min(1, step / warmup_steps)`` (KL warm-up). Metrics: ``loss``,
    ``reconstruction_loss`` (MSE of the mean), ``kl_loss`` (nats per patch, without free bits), ``kl_weight``.

    Parameters
    ----------
    n_frames, n_features : int
        Patch shape; ``n_frames`` a multiple of ``2 ** len(filters)``.
    latent_dim, label_dim : int
        Sizes of the latent and of the label embedding.
    filters : sequence of int
        Channels of the stride-2 convolutions (the decoder mirrors them).
    n_labels : int
        0: unconditional; else a conditional VAE over that many labels (``Patches.label_names``).
    beta : float > 0
        Weight of the KL term.
    free_bits : float >= 0
        Nats per latent unit (batch mean) that cost nothing (0: off).
    warmup_steps : int >= 0
        Training steps over which the KL weight rises from 0 to ``beta`` (0: no warm-up).
    label_dropout : float in [0, 1)
        Conditional only: probability that a training patch's label is replaced by "any label".
    seed : int
        Seed of the latent noise and label dropout in training.

    Examples
    --------
    >>> model = make_vae(32, rep.n_features, latent_dim=32).adapt(train)          # doctest: +SKIP
    >>> model, history = fit_with_checkpoints(model, patch_dataset(train), epochs=20,
    ...                                       checkpoint_dir="ckpt/vae")           # doctest: +SKIP
    >>> x = model.sample(8, temperature=1.0, seed=0)   # (8, 32, n_features), dB  # doctest: +SKIP
    """

    def __init__(self, n_frames, n_features, *, latent_dim=32, filters=(128, 128, 128), n_labels=0, label_dim=16,
                 beta=1.0, free_bits=0.1, warmup_steps=500, label_dropout=0.2, seed=0, name=None, **kwargs):
        super().__init__(n_frames, n_features, filters=filters, name=name, **kwargs)
        self.latent_dim = check_int("latent_dim", latent_dim)
        self.n_labels = check_int("n_labels", n_labels, low=0)
        self.label_dim = check_int("label_dim", label_dim)
        self.beta = check_positive("beta", beta)
        self.free_bits = check_number("free_bits", free_bits, low=0)
        self.warmup_steps = check_int("warmup_steps", warmup_steps, low=0)
        self.label_dropout = check_fraction("label_dropout", label_dropout, high_open=True)
        self.seed = check_int("seed", seed, low=0)
        self.encoder_convs = self._make_encoder()
        self.flatten = keras.layers.Flatten(name="encoder_flatten")
        self.z_mean = keras.layers.Dense(self.latent_dim, name="z_mean")
        self.z_log_var = keras.layers.Dense(self.latent_dim, name="z_log_var", kernel_initializer="zeros",
                                            bias_initializer=keras.initializers.Constant(-2.0))
        self.decoder_dense = keras.layers.Dense(self._steps * self.filters[-1], activation="relu",
                                                name="decoder_dense")
        self.decoder_deconvs, self.decoder_out = self._make_decoder()
        self.label_embedding = (keras.layers.Embedding(self.n_labels + 1, self.label_dim, name="label_embedding")
                                if self.n_labels else None)
        self.kl_tracker = keras.metrics.Mean(name="kl_loss")
        self.kl_weight_tracker = keras.metrics.Mean(name="kl_weight")
        self._noise_seed = keras.random.SeedGenerator(self.seed)

    def get_config(self):
        return {"n_frames": self.n_frames, "n_features": self.n_features, "latent_dim": self.latent_dim,
                "filters": list(self.filters), "n_labels": self.n_labels, "label_dim": self.label_dim,
                "beta": self.beta, "free_bits": self.free_bits, "warmup_steps": self.warmup_steps,
                "label_dropout": self.label_dropout, "seed": self.seed, "name": self.name}

    @property
    def conditional(self) -> bool:
        return self.n_labels > 0

    @property
    def metrics(self):
        return [self.loss_tracker, self.reconstruction_tracker, self.kl_tracker, self.kl_weight_tracker]

    def _build_layers(self):
        lab = tf.zeros((1,), tf.int32)
        self._decode(self._encode(tf.zeros((1, self.n_frames, self.n_features)), lab)[0], lab)

    def _label_vectors(self, labels, batch, training=False):
        """Embedding rows for ``labels`` (-1 = any label -> row 0; label k -> row k + 1)."""
        if not self.conditional:
            return None
        if labels is None:
            idx = tf.zeros((batch,), tf.int32)
        else:
            idx = tf.clip_by_value(tf.cast(tf.reshape(labels, (-1,)), tf.int32) + 1, 0, self.n_labels)
            if training and self.label_dropout > 0:
                keep = keras.random.uniform(tf.shape(idx), seed=self._noise_seed) >= self.label_dropout
                idx = tf.where(keep, idx, tf.zeros_like(idx))
        return self.label_embedding(idx)

    def _encode(self, xn, labels, training=False, emb=None):
        h = self.flatten(self._run_encoder(xn))
        if self.conditional:
            emb = self._label_vectors(labels, tf.shape(xn)[0], training) if emb is None else emb
            h = tf.concat([h, emb], axis=-1)
        return self.z_mean(h), tf.clip_by_value(self.z_log_var(h), -12.0, 6.0)

    def _decode(self, z, labels, training=False, emb=None):
        if self.conditional:
            emb = self._label_vectors(labels, tf.shape(z)[0], training) if emb is None else emb
            z = tf.concat([z, emb], axis=-1)
        h = tf.reshape(self.decoder_dense(z), (-1, self._steps, self.filters[-1]))
        return self._run_decoder(h)

    def call(self, inputs, training=False):
        """Reconstructions ``[shape=(batch, n_frames, n_features)]`` (decoder mean of the posterior mean), input units."""
        x, labels = _unpack(inputs)
        mean, _ = self._encode(self._normalize(x), labels)
        return self._denormalize(self._decode(mean, labels))

    def kl_weight(self):
        """The KL weight at the current training step: ``beta * min(1, step / warmup_steps)``."""
        if self.warmup_steps == 0:
            return tf.constant(self.beta)
        step = tf.cast(self.optimizer.iterations, tf.float32) if self.optimizer is not None else 0.0
        return self.beta * tf.minimum(1.0, (step + 1.0) / float(self.warmup_steps))

    def _compute_losses(self, x, labels, training):
        xn = self._normalize(x)
        # one draw of label dropout for the encoder and the decoder alike
        emb = self._label_vectors(labels, tf.shape(xn)[0], training)
        mean, log_var = self._encode(xn, labels, emb=emb)
        if training:
            z = mean + tf.exp(0.5 * log_var) * keras.random.normal(tf.shape(mean), seed=self._noise_seed)
        else:
            z = mean
        xh = self._decode(z, labels, emb=emb)
        kl_units = tf.reduce_mean(gaussian_kl(mean, log_var), axis=0)
        weight = self.kl_weight() if training else tf.constant(self.beta)
        n_values = float(self.n_frames * self.n_features)
        loss = self._nll(xn, xh) + weight * free_bits_kl(kl_units, self.free_bits) / n_values
        return {"loss": loss, "reconstruction_loss": tf.reduce_mean(tf.square(xn - xh)),
                "kl_loss": tf.reduce_sum(kl_units), "kl_weight": weight}

    def train_step(self, data):
        x, labels = _unpack(data)
        return update_metrics(self.metrics, gradient_step(self, lambda: self._compute_losses(x, labels, training=True)))

    def test_step(self, data):
        x, labels = _unpack(data)
        return update_metrics(self.metrics, self._compute_losses(x, labels, training=False))

    # -- numpy API -------------------------------------------------------------------------------
    def _labels_array(self, labels, n):
        if labels is None:
            return np.full(n, -1, dtype=np.int32)
        labels = np.asarray(labels)
        if labels.ndim == 0:
            labels = np.full(n, int(labels))
        if labels.shape != (n,) or not np.issubdtype(labels.dtype, np.integer):
            raise ParameterError(f"labels must be {n} integers, got shape {labels.shape} and dtype {labels.dtype}")
        if self.conditional and (labels.min() < -1 or labels.max() >= self.n_labels):
            raise ParameterError(f"labels must lie in [-1, {self.n_labels - 1}], got {labels.min()}..{labels.max()}")
        return labels.astype(np.int32)

    def encode(self, x, labels=None, *, batch_size: int = 256) -> tuple[np.ndarray, np.ndarray]:
        """Posterior mean and log-variance ``[shape=(n, latent_dim)]`` of patches ``x [shape=(n, n_frames, n_features)]``.

        ``labels`` (conditional VAE): one label index per patch (default: the patches' own labels
        when ``x`` is a :class:`~musiclib.patches.Patches`, else -1, "any label").
        """
        if labels is None:
            labels = getattr(x, "label", None)
        x = _patch_array(x, self, "encode")
        lab = self._labels_array(labels, len(x))
        fn = self._fn("encode", lambda a, b: self._encode(self._normalize(a), b))
        return self._batched(fn, (x, lab), batch_size)

    def decode(self, z, labels=None, *, noise_scale: float = 0.0, seed: int = 0, batch_size: int = 256) -> np.ndarray:
        """Patches ``[shape=(n, n_frames, n_features)]`` (input units) from latents ``z [shape=(n, latent_dim)]``.

        ``noise_scale`` times the decoder's noise (:meth:`decoder_std`) is added, seeded (0: its mean).
        """
        z = np.asarray(z, dtype=np.float32)
        if z.ndim == 1:
            z = z[None]
        if z.ndim != 2 or z.shape[1] != self.latent_dim or len(z) == 0 or not np.all(np.isfinite(z)):
            raise ParameterError(f"z must be finite, of shape (n, {self.latent_dim}), got {z.shape}")
        return self._decode_batches(self._decode, (z, self._labels_array(labels, len(z))),
                                    noise_scale=noise_scale, seed=seed, batch_size=batch_size)

    def reconstruct(self, x, labels=None, *, batch_size: int = 256) -> np.ndarray:
        """The decoder's mean for each patch's posterior mean: ``[shape=(n, n_frames, n_features)]``."""
        if labels is None:
            labels = getattr(x, "label", None)
        mean, _ = self.encode(x, labels, batch_size=batch_size)
        return self.decode(mean, labels, batch_size=batch_size)

    def sample(self, n: int, *, labels=None, temperature: float = 1.0, noise_scale: float = 1.0,
               seed: int = 0) -> np.ndarray:
        """Patches ``[shape=(n, n_frames, n_features)]`` from the model: ``z ~ N(0, temperature**2)``, then ``x ~ p(x | z)``.

        ``noise_scale`` scales the decoder's noise (0: its mean). ``labels`` (conditional VAE): one
        label index per sample, or one for all (default -1: any label).
        """
        n = check_int("n", n)
        temperature = check_number("temperature", temperature, low=0)
        z = np.random.default_rng(seed).standard_normal((n, self.latent_dim)).astype(np.float32) * temperature
        return self.decode(z, labels, noise_scale=noise_scale, seed=seed)


# --- the VQ-VAE ---
@keras.saving.register_keras_serializable(package=_PACKAGE)
class VectorQuantizer(keras.layers.Layer):
    """A codebook with exponential-moving-average updates, dead-code restarts and straight-through gradients.

    ``call(z)`` replaces each vector by its nearest entry ``e_k`` and returns ``(z + stop_gradient(e_k -
    z), e_k, k)`` (straight-through). :meth:`ema_update` moves each entry to the moving average of the
    vectors assigned to it (van den Oord et al. 2017, appendix)::

        N_k <- decay N_k + (1 - decay) n_k        m_k <- decay m_k + (1 - decay) sum_{i: k_i = k} z_i
        e_k = m_k / N~_k,   N~_k = (N_k + eps) / (sum N + K eps) * sum N   (Laplace smoothing)

    :meth:`restart_dead_codes` moves entries used less than ``dead_threshold`` times per batch onto
    random vectors of the batch (at the first step all are dead: the codebook starts from data).

    Parameters
    ----------
    codebook_size, code_dim, seed : int
    decay, epsilon, dead_threshold : float
        In [0, 1), > 0, >= 0.
    """

    def __init__(self, codebook_size, code_dim, *, decay=0.99, epsilon=1e-5, dead_threshold=0.1, seed=0, **kwargs):
        super().__init__(**kwargs)
        self.codebook_size = check_int("codebook_size", codebook_size, low=2)
        self.code_dim = check_int("code_dim", code_dim)
        self.decay = check_fraction("decay", decay, high_open=True)
        self.epsilon = check_positive("epsilon", epsilon)
        self.dead_threshold = check_number("dead_threshold", dead_threshold, low=0)
        self.seed = check_int("seed", seed, low=0)
        self._restart_seed = keras.random.SeedGenerator(self.seed)

    def get_config(self):
        return {**super().get_config(), "codebook_size": self.codebook_size, "code_dim": self.code_dim,
                "decay": self.decay, "epsilon": self.epsilon, "dead_threshold": self.dead_threshold, "seed": self.seed}

    def build(self, input_shape=None):
        if self.built:
            return
        K, D = self.codebook_size, self.code_dim
        init = keras.initializers.RandomNormal(stddev=1.0, seed=self.seed)
        self.codebook = self.add_weight(shape=(K, D), initializer=init, trainable=False, name="codebook")
        self.cluster_size = self.add_weight(shape=(K,), initializer="zeros", trainable=False, name="ema_cluster_size")
        self.code_sum = self.add_weight(shape=(K, D), initializer="zeros", trainable=False, name="ema_code_sum")
        self.built = True

    def codes(self, z):
        """Index of the nearest codebook entry for each vector: ``z [shape=(..., code_dim)]`` -> ``(...)`` int32."""
        flat = tf.reshape(z, (-1, self.code_dim))
        e = self.codebook.value
        d = (tf.reduce_sum(tf.square(flat), axis=1, keepdims=True) - 2.0 * tf.matmul(flat, e, transpose_b=True)
             + tf.reduce_sum(tf.square(e), axis=1)[None, :])
        return tf.reshape(tf.argmin(d, axis=1, output_type=tf.int32), tf.shape(z)[:-1])

    def lookup(self, codes):
        """Codebook entries ``[shape=(..., code_dim)]`` for integer ``codes``."""
        return tf.gather(self.codebook.value, codes)

    def call(self, z):
        k = self.codes(z)
        zq = self.lookup(k)
        return z + tf.stop_gradient(zq - z), zq, k

    def ema_update(self, z, codes):
        """One EMA step of counts, sums and entries from vectors ``z [shape=(n, code_dim)]`` and their ``codes (n,)``."""
        z = tf.reshape(tf.stop_gradient(z), (-1, self.code_dim))
        onehot = tf.one_hot(tf.reshape(codes, (-1,)), self.codebook_size, dtype=z.dtype)
        d = self.decay
        size = d * self.cluster_size + (1.0 - d) * tf.reduce_sum(onehot, axis=0)
        total = d * self.code_sum + (1.0 - d) * tf.matmul(onehot, z, transpose_a=True)
        n = tf.reduce_sum(size)
        smoothed = (size + self.epsilon) / (n + self.codebook_size * self.epsilon) * n
        self.cluster_size.assign(size)
        self.code_sum.assign(total)
        self.codebook.assign(total / smoothed[:, None])

    def restart_dead_codes(self, z):
        """Move codes whose count fell below ``dead_threshold`` onto random vectors of ``z``; returns how many."""
        z = tf.reshape(tf.stop_gradient(z), (-1, self.code_dim))
        dead = self.cluster_size < self.dead_threshold
        pick = keras.random.randint((self.codebook_size,), 0, tf.shape(z)[0], seed=self._restart_seed)
        fresh = tf.gather(z, pick)
        self.codebook.assign(tf.where(dead[:, None], fresh, self.codebook))
        self.code_sum.assign(tf.where(dead[:, None], fresh, self.code_sum))
        self.cluster_size.assign(tf.where(dead, tf.ones_like(self.cluster_size), self.cluster_size))
        return tf.reduce_sum(tf.cast(dead, tf.int32))


def codebook_perplexity(codes, codebook_size: int):
    """``exp(entropy)`` of the code histogram (NumPy or TensorFlow): 1 to ``codebook_size`` (all used)."""
    if isinstance(codes, np.ndarray) or not tf.is_tensor(codes):
        counts = np.bincount(np.asarray(codes, dtype=np.int64).reshape(-1), minlength=codebook_size).astype(np.float64)
        p = counts / max(counts.sum(), 1.0)
        nz = p[p > 0]
        return float(np.exp(-np.sum(nz * np.log(nz))))
    p = tf.reduce_mean(tf.one_hot(tf.reshape(codes, (-1,)), codebook_size), axis=0)
    return tf.exp(-tf.reduce_sum(p * tf.math.log(p + 1e-10)))


@keras.saving.register_keras_serializable(package=_PACKAGE)
class PatchVQVAE(_PatchModel):
    """VQ-VAE on spectrogram patches: ``codes_per_patch`` codes along time, EMA codebook, straight-through.

    Each of the encoder's ``n_frames / 2**len(filters)`` steps is mapped to a ``code_dim`` vector and
    quantised by :class:`VectorQuantizer`; the decoder mirrors :class:`PatchVAE`'s. Loss per value::

        loss = NLL(x | x_hat, sigma) + commitment * mean((z_e - stop_gradient(e))**2)

    then the codebook's EMA update and dead-code restarts. Metrics: ``loss``, ``reconstruction_loss``,
    ``commitment_loss``, ``perplexity`` (of the batch) and ``restarts`` (dead codes moved per step).

    Parameters
    ----------
    n_frames, n_features, codebook_size, code_dim : int
    filters : sequence of int
    commitment : float >= 0
        Weight of the commitment term (0.25 in van den Oord et al.).
    decay, dead_threshold, seed :
        Of the :class:`VectorQuantizer`.
    """

    def __init__(self, n_frames, n_features, *, codebook_size=128, code_dim=64, filters=(128, 128), commitment=0.25,
                 decay=0.99, dead_threshold=0.1, seed=0, name=None, **kwargs):
        super().__init__(n_frames, n_features, filters=filters, name=name, **kwargs)
        self.codebook_size = check_int("codebook_size", codebook_size, low=2)
        self.code_dim = check_int("code_dim", code_dim)
        self.commitment = check_number("commitment", commitment, low=0)
        self.seed = check_int("seed", seed, low=0)
        self.encoder_convs = self._make_encoder()
        self.to_code = keras.layers.Dense(self.code_dim, name="encoder_to_code")
        self.vq = VectorQuantizer(self.codebook_size, self.code_dim, decay=decay, dead_threshold=dead_threshold,
                                  seed=self.seed, name="vector_quantizer")
        self.from_code = keras.layers.Dense(self.filters[-1], activation="relu", name="decoder_from_code")
        self.decoder_deconvs, self.decoder_out = self._make_decoder()
        self.commitment_tracker = keras.metrics.Mean(name="commitment_loss")
        self.perplexity_tracker = keras.metrics.Mean(name="perplexity")
        self.restart_tracker = keras.metrics.Mean(name="restarts")

    def get_config(self):
        return {"n_frames": self.n_frames, "n_features": self.n_features, "codebook_size": self.codebook_size,
                "code_dim": self.code_dim, "filters": list(self.filters), "commitment": self.commitment,
                "decay": self.vq.decay, "dead_threshold": self.vq.dead_threshold, "seed": self.seed, "name": self.name}

    @property
    def codes_per_patch(self) -> int:
        """Codes each patch is made of (its time steps after the encoder)."""
        return self._steps

    @property
    def metrics(self):
        return [self.loss_tracker, self.reconstruction_tracker, self.commitment_tracker, self.perplexity_tracker,
                self.restart_tracker]

    def _build_layers(self):
        self.vq.build()
        self._decode(self._encode(tf.zeros((1, self.n_frames, self.n_features))))

    def _encode(self, xn):
        return self.to_code(self._run_encoder(xn))  # (batch, codes_per_patch, code_dim)

    def _decode(self, zq):
        return self._run_decoder(self.from_code(zq))

    def call(self, inputs, training=False):
        """Reconstructions through the codebook ``[shape=(batch, n_frames, n_features)]``, in input units."""
        x, _ = _unpack(inputs)
        st, _, _ = self.vq(self._encode(self._normalize(x)))
        return self._denormalize(self._decode(st))

    def _compute_losses(self, x):
        xn = self._normalize(x)
        ze = self._encode(xn)
        st, zq, codes = self.vq(ze)
        xh = self._decode(st)
        reconstruction = tf.reduce_mean(tf.square(xn - xh))
        commit = tf.reduce_mean(tf.square(ze - tf.stop_gradient(zq)))
        return ze, codes, {"loss": self._nll(xn, xh) + self.commitment * commit, "reconstruction_loss": reconstruction,
                           "commitment_loss": commit,
                           "perplexity": codebook_perplexity(codes, self.codebook_size)}

    def train_step(self, data):
        x, _ = _unpack(data)
        ze, codes, losses = gradient_step(self, lambda: self._compute_losses(x))
        self.vq.ema_update(ze, codes)
        losses["restarts"] = tf.cast(self.vq.restart_dead_codes(ze), tf.float32)
        return update_metrics(self.metrics, losses)

    def test_step(self, data):
        x, _ = _unpack(data)
        _, _, losses = self._compute_losses(x)
        losses["restarts"] = tf.constant(0.0)
        return update_metrics(self.metrics, losses)

    # -- numpy API -------------------------------------------------------------------------------
    def encode_codes(self, x, *, batch_size: int = 256) -> np.ndarray:
        """Codes ``[shape=(n, codes_per_patch)]`` (int) of patches ``x [shape=(n, n_frames, n_features)]``."""
        x = _patch_array(x, self, "encode_codes")
        fn = self._fn("codes", lambda a: self.vq.codes(self._encode(self._normalize(a))))
        return self._batched(fn, (x,), batch_size).astype(np.int64)

    def decode_codes(self, codes, *, noise_scale: float = 0.0, seed: int = 0, batch_size: int = 256) -> np.ndarray:
        """Patches ``[shape=(n, n_frames, n_features)]`` (input units) from codes ``[shape=(n, codes_per_patch)]``.

        Flat ``n * codes_per_patch`` codes are accepted too; ``noise_scale`` as :meth:`PatchVAE.decode`.
        """
        codes = np.asarray(codes)
        if codes.ndim == 1 and len(codes) % self.codes_per_patch == 0 and len(codes):
            codes = codes.reshape(-1, self.codes_per_patch)
        if (codes.ndim != 2 or codes.shape[1] != self.codes_per_patch or len(codes) == 0
                or not np.issubdtype(codes.dtype, np.integer)):
            raise ParameterError(f"codes must be integers of shape (n, {self.codes_per_patch}), got {codes.shape} "
                                 f"{codes.dtype}")
        if codes.min() < 0 or codes.max() >= self.codebook_size:
            raise ParameterError(f"codes must lie in [0, {self.codebook_size - 1}], got {codes.min()}..{codes.max()}")
        return self._decode_batches(lambda c: self._decode(self.vq.lookup(c)), (codes.astype(np.int32),),
                                    noise_scale=noise_scale, seed=seed, batch_size=batch_size)

    def reconstruct(self, x, labels=None, *, batch_size: int = 256) -> np.ndarray:
        """Patches through the codebook: ``decode_codes(encode_codes(x))``."""
        return self.decode_codes(self.encode_codes(x, batch_size=batch_size), batch_size=batch_size)


# --- the prior over code sequences ---
@keras.saving.register_keras_serializable(package=_PACKAGE)
class CodePrior(keras.Model):
    """An autoregressive LSTM over a VQ-VAE's code sequences: the prior that samples sequences of patches.

    Input: the embedding of the code (or of the start token ``codebook_size``) plus one of its position
    in its patch; stacked LSTMs and a dense read-out give the next code's logits. Trained with
    cross-entropy (nats per code) on each file's codes in order (:func:`code_dataset`).

    Parameters
    ----------
    codebook_size, codes_per_patch, embed_dim : int
    units : int or sequence of int
        LSTM layers.
    dropout : float in [0, 1)
        Between the LSTM layers and before the read-out, during training.
    """

    def __init__(self, codebook_size, codes_per_patch, *, embed_dim=64, units=(256,), dropout=0.0, name=None,
                 **kwargs):
        super().__init__(name=name, **kwargs)
        self.codebook_size = check_int("codebook_size", codebook_size, low=2)
        self.codes_per_patch = check_int("codes_per_patch", codes_per_patch)
        self.embed_dim = check_int("embed_dim", embed_dim)
        self.units = check_ints("units", units)
        self.dropout = check_fraction("dropout", dropout, high_open=True)
        self.token_embedding = keras.layers.Embedding(self.codebook_size + 1, self.embed_dim, name="code_embedding")
        self.slot_embedding = keras.layers.Embedding(self.codes_per_patch, self.embed_dim, name="slot_embedding")
        self.lstms = _lstm_layers(self.units)
        self.drops = [keras.layers.Dropout(self.dropout) for _ in self.units]
        self.readout = keras.layers.Dense(self.codebook_size, name="readout")
        spec = [tf.TensorSpec((None, None), tf.int32), tf.TensorSpec((), tf.int32),
                tf.TensorSpec((), tf.float32), tf.TensorSpec((), tf.int32)]  # one trace for every call
        object.__setattr__(self, "_sample_fn", tf.function(self._sample_graph, input_signature=spec))

    def get_config(self):
        return {"codebook_size": self.codebook_size, "codes_per_patch": self.codes_per_patch,
                "embed_dim": self.embed_dim, "units": list(self.units), "dropout": self.dropout, "name": self.name}

    @property
    def start_token(self) -> int:
        return self.codebook_size

    def build(self, input_shape=None):
        if self.built:
            return
        self.call((tf.zeros((1, 2), tf.int32), tf.zeros((1, 2), tf.int32)))
        self.built = True

    def call(self, inputs, training=False):
        """Logits ``[shape=(batch, time, codebook_size)]`` of the code after each ``(tokens, slots)`` step."""
        tokens, slots = inputs
        h = self.token_embedding(tokens) + self.slot_embedding(slots)
        for lstm, drop in zip(self.lstms, self.drops):
            h = drop(lstm(h, training=training), training=training)
        return self.readout(h)

    # -- sampling --------------------------------------------------------------------------------
    def sample(self, n_codes: int, *, prime=None, n_sequences: int = 1, temperature: float = 1.0,
               seed: int = 0) -> np.ndarray:
        """Sample code sequences, one compiled loop for all steps.

        Parameters
        ----------
        n_codes : int
            Codes to generate per sequence (a multiple of ``codes_per_patch`` makes whole patches).
        prime : np.ndarray [shape=(n_prime,)] or [shape=(n_sequences, n_prime)], optional
            Whole patches of codes to continue (default: start from the start token).
        n_sequences : int
            Sequences to sample together (ignored when ``prime`` is 2-D).
        temperature : float > 0
            Divides the logits (lower: more likely codes).
        seed : int

        Returns
        -------
        codes : np.ndarray [shape=(n_sequences, n_codes)], int
            The new codes only.
        """
        n_codes = check_int("n_codes", n_codes)
        temperature = check_positive("temperature", temperature)
        self.build()
        if prime is None:
            n_sequences = check_int("n_sequences", n_sequences)
            prime = np.full((n_sequences, 0), 0, dtype=np.int32)
        prime = np.asarray(prime)
        if prime.ndim == 1:
            prime = prime[None]
        if prime.ndim != 2 or not np.issubdtype(prime.dtype, np.integer):
            raise ParameterError(f"prime must hold integer codes of shape (n_prime,) or (n_sequences, n_prime), "
                                 f"got {prime.shape} {prime.dtype}")
        if prime.size and (prime.min() < 0 or prime.max() >= self.codebook_size):
            raise ParameterError(f"prime codes must lie in [0, {self.codebook_size - 1}]")
        if prime.shape[1] % self.codes_per_patch:
            raise ParameterError(f"prime has {prime.shape[1]} codes; give whole patches "
                                 f"(a multiple of codes_per_patch={self.codes_per_patch})")
        tokens = np.concatenate([np.full((len(prime), 1), self.start_token), prime], axis=1).astype(np.int32)
        out = self._sample_fn(tf.constant(tokens), tf.constant(n_codes, tf.int32), tf.constant(temperature, tf.float32),
                              tf.constant(int(seed) % (2**31 - 1), tf.int32))
        return out.numpy().astype(np.int64)

    def _sample_graph(self, tokens, n_codes, temperature, seed):
        batch, n_in = tf.shape(tokens)[0], tf.shape(tokens)[1]
        state = [(tf.zeros((batch, u)), tf.zeros((batch, u))) for u in self.units]
        cpp = self.codes_per_patch

        def step(token, position, state):
            # the input at stream position j (0 = the start token) sits in slot (j - 1) mod codes_per_patch
            slot = tf.fill((batch,), tf.math.floormod(position - 1, cpp))
            h, state = _lstm_steps(self.lstms, self.token_embedding(token) + self.slot_embedding(slot), state)
            return self.readout(h), state

        logits, state = step(tokens[:, 0], 0, state)
        _, logits, state = tf.while_loop(
            lambda j, *_: j < n_in, lambda j, lg, st: (j + 1, *step(tokens[:, j], j, st)), (1, logits, state))
        out = tf.TensorArray(tf.int32, size=n_codes)

        def body(i, logits, state, out):
            code = tf.random.stateless_categorical(logits / temperature, 1, seed=tf.stack([seed, i]),
                                                   dtype=tf.int32)[:, 0]
            logits, state = step(code, n_in + i, state)
            return i + 1, logits, state, out.write(i, code)

        _, _, _, out = tf.while_loop(lambda i, *_: i < n_codes, body, (0, logits, state, out))
        return tf.transpose(out.stack())

    def cross_entropy(self, dataset) -> float:
        """Mean cross-entropy (nats per code) of the next code on a :func:`code_dataset`."""
        total, count = 0.0, 0
        for (tokens, slots), targets in dataset:
            logits = self((tokens, slots), training=False)
            ce = keras.losses.sparse_categorical_crossentropy(targets, logits, from_logits=True)
            total += float(tf.reduce_sum(ce))
            count += int(tf.size(ce))
        if count == 0:
            raise ParameterError("cross_entropy() got an empty dataset")
        return total / count


# --- builders (inside the distribution strategy) ---
def make_vae(n_frames: int, n_features: int, *, learning_rate: float = 1e-3, clipnorm: float | None = 1.0,
             run_eagerly: bool = False, **params) -> PatchVAE:
    """A compiled :class:`PatchVAE` (``n_labels > 0``: conditional), built under :func:`strategy`.

    ``run_eagerly=True``: train without tracing a graph, which pays for a handful of batches (small
    mode) and costs for many; sampling and coding are traced either way.
    """
    return _make(PatchVAE, n_frames, n_features, learning_rate=learning_rate, clipnorm=clipnorm,
                 run_eagerly=run_eagerly, **params)


def make_vqvae(n_frames: int, n_features: int, *, learning_rate: float = 1e-3, clipnorm: float | None = 1.0,
               run_eagerly: bool = False, **params) -> PatchVQVAE:
    """A compiled :class:`PatchVQVAE`, built under :func:`strategy` (``run_eagerly`` as :func:`make_vae`)."""
    return _make(PatchVQVAE, n_frames, n_features, learning_rate=learning_rate, clipnorm=clipnorm,
                 run_eagerly=run_eagerly, **params)


def make_prior(codebook_size: int, codes_per_patch: int, *, learning_rate: float = 2e-3,
               clipnorm: float | None = 1.0, run_eagerly: bool = False, **params) -> CodePrior:
    """A compiled :class:`CodePrior` (cross-entropy loss in nats per code), built under :func:`strategy`
    (``run_eagerly`` as :func:`make_vae`)."""
    return _make(CodePrior, codebook_size, codes_per_patch, learning_rate=learning_rate, clipnorm=clipnorm,
                 run_eagerly=run_eagerly, loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                 **params)


# --- data: Patches -> tf.data ---
def patch_dataset(patches, *, batch_size: int = 64, shuffle: bool = True, seed: int = 0,
                  drop_remainder: bool = False):
    """A ``tf.data.Dataset`` of ``(x, label)`` batches from :class:`musiclib.patches.Patches`.

    ``x [shape=(batch, n_frames, n_features)]`` float32 and ``label [shape=(batch,)]`` int32 (-1: unknown,
    or an array without labels).

    Parameters
    ----------
    patches : musiclib.patches.Patches or np.ndarray [shape=(n, n_frames, n_features)]
    batch_size : int
    shuffle, seed, drop_remainder :
        Reshuffle every epoch (seeded); drop the last, smaller batch.
    """
    batch_size = check_int("batch_size", batch_size)
    x = np.asarray(getattr(patches, "x", patches), dtype=np.float32)
    if x.ndim != 3 or len(x) == 0:
        raise ParameterError(f"patch_dataset() needs patches of shape (n, n_frames, n_features), got {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ParameterError("patch_dataset() got NaN or infinite values")
    labels = getattr(patches, "label", None)
    labels = np.full(len(x), -1, np.int32) if labels is None else np.asarray(labels, dtype=np.int32)
    ds = tf.data.Dataset.from_tensor_slices((x, labels))
    if shuffle:
        ds = ds.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
    return ds.batch(batch_size, drop_remainder=drop_remainder).prefetch(tf.data.AUTOTUNE)


def code_dataset(code_sequences, *, codebook_size: int, codes_per_patch: int, window: int = 64,
                 batch_size: int = 32, hop: int | None = None, shuffle: bool = True, seed: int = 0):
    """A ``tf.data.Dataset`` of ``((tokens, slots), targets)`` windows for :class:`CodePrior`.

    Each sequence (one file's codes) is preceded by the start token (``codebook_size``); ``window``
    inputs predict the ``window`` codes after them. ``slots``: each input's position in its patch.

    Parameters
    ----------
    code_sequences : list of np.ndarray [shape=(n_patches_i, codes_per_patch)] or [shape=(n_codes_i,)]
    codebook_size, codes_per_patch, batch_size : int
    window : int
        Steps per training sequence (at most the longest sequence's); shorter sequences are skipped.
    hop : int, optional
        Steps between window starts (default ``window // 2``).
    shuffle, seed :
    """
    codebook_size = check_int("codebook_size", codebook_size, low=2)
    cpp = check_int("codes_per_patch", codes_per_patch)
    window = check_int("window", window)
    batch_size = check_int("batch_size", batch_size)
    if isinstance(code_sequences, np.ndarray):
        code_sequences = [code_sequences]
    streams = []
    for i, c in enumerate(code_sequences):
        c = np.asarray(c)
        if not np.issubdtype(c.dtype, np.integer) or c.size == 0:
            raise ParameterError(f"code_sequences[{i}] must be non-empty integer codes, got {c.shape} {c.dtype}")
        c = c.reshape(-1)
        if c.min() < 0 or c.max() >= codebook_size or len(c) % cpp:
            raise ParameterError(f"code_sequences[{i}] must hold whole patches of codes in [0, {codebook_size - 1}]")
        streams.append(np.concatenate([[codebook_size], c]).astype(np.int32))
    if not streams:
        raise ParameterError("code_sequences is empty")
    window = min(window, max(len(s) for s in streams) - 1)
    hop = max(1, window // 2) if hop is None else check_int("hop", hop)
    toks, slots, targets = [], [], []
    for s in streams:
        if len(s) < window + 1:
            continue
        slot = (np.arange(len(s)) - 1) % cpp
        for a in range(0, len(s) - window, hop):
            toks.append(s[a : a + window])
            slots.append(slot[a : a + window])
            targets.append(s[a + 1 : a + window + 1])
    ds = tf.data.Dataset.from_tensor_slices(((np.stack(toks), np.stack(slots).astype(np.int32)), np.stack(targets)))
    if shuffle:
        ds = ds.shuffle(len(toks), seed=seed, reshuffle_each_iteration=True)
    return ds.batch(batch_size).prefetch(tf.data.AUTOTUNE)


# --- measures ---
def active_units(model: PatchVAE, patches, *, threshold: float = 0.01, labels=None) -> tuple[int, np.ndarray]:
    """How many latent units carry information: ``Var_x(E[z_u | x]) > threshold`` (Burda et al. 2016).

    Returns the count and each unit's variance of the posterior mean ``[shape=(latent_dim,)]``.
    """
    mean, _ = model.encode(patches, labels)
    var = mean.var(axis=0)
    return int(np.sum(var > threshold)), var


def reconstruction_error(model, patches, *, labels=None) -> float:
    """Root-mean-square difference (input units: dB for the default representation) between patches and their
    reconstructions."""
    xh = model.reconstruct(patches, labels)
    return float(np.sqrt(np.mean((xh - np.asarray(getattr(patches, "x", patches), dtype=np.float32)) ** 2)))
