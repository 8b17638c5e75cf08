"""Keras sequence models for next-frame generation: LSTM, feed-forward, dilated causal CNN, LSTM+VAE.

Four models read frames ``[shape=(batch, time, n_features)]`` and predict, at every step, the next frame:

======================= ======================================================================
:class:`NextFrameLSTM`  stacked LSTM layers and a linear read-out (which also sees the clock)
:class:`NextFrameMLP`   the feed-forward baseline on the flattened last ``context`` frames
:class:`DilatedCNN`     causal 1-D convolutions with dilations 1, 2, 4, ..., bands as channels
:class:`LSTMVAE`        per-frame encoder -> LSTM -> sampled latent -> decoder, with a KL term
======================= ======================================================================

All four follow the package's model protocol (``fit(X, Y)`` / ``predict(X)``) and train on whole
sequences from :func:`sequence_dataset`; standardise frames inside the model (:meth:`~_NextFrameModel.adapt`);
can read a **beat clock** (``clock_harmonics > 0``: the clock features of the frame to predict after each
frame); and generate with :meth:`~_NextFrameModel.rollout`, one compiled TensorFlow loop with the stability
guard (:func:`apply_guard`) and a counter-based generator inside, so the same seed gives the same frames.

Why residual vectors: an MSE-trained model predicts the conditional mean, and fed its own output it
falls into a fixed point, so all movement comes from the added noise. Independent Gaussian noise per
feature averages out over the bands (a drone); the model's real errors are heavy-tailed and shared
across bands. :meth:`~_NextFrameModel.calibrate` keeps :data:`RESIDUAL_BANK_SIZE` centred error vectors; each
roll-out step adds ``temperature`` times one (``noise="gaussian"``: ``temperature * residual_std * N(0, 1)``).

Strategy, seeds, saving: :mod:`musiclib.models`; resuming: :func:`fit_with_checkpoints`. Notebook ``04_lstm``.
"""

from __future__ import annotations

import functools
import itertools
import json
import math
import os
import shutil
import time
import zipfile
from pathlib import Path

import numpy as np

from musiclib.models._backend import keras, tf
from musiclib.errors import ParameterError, check_choice, check_fraction, check_int, check_ints, check_number
from musiclib.framing import N_PHASE, clock_features
from musiclib.tools import atomic_write


__all__ = [
    "NextFrameLSTM",
    "NextFrameMLP",
    "DilatedCNN",
    "LSTMVAE",
    "make_lstm",
    "make_mlp",
    "make_cnn",
    "make_lstm_vae",
    "strategy",
    "shard_by_worker",
    "set_seed",
    "sequence_dataset",
    "fit_with_checkpoints",
    "load_model",
    "guard_parameters",
    "apply_guard",
    "generate_audio",
    "RESIDUAL_BANK_SIZE",
    "NOISE_KINDS",
]

#: How many one-step error vectors :meth:`~_NextFrameModel.calibrate` keeps for the roll-out's noise.
RESIDUAL_BANK_SIZE = 2048
#: The roll-out noise of the LSTM, MLP and CNN (the module's "Why residual vectors").
NOISE_KINDS = ("residuals", "gaussian")

_PACKAGE = "musiclib"


# --- devices, seeds ---
def strategy():
    """The distribution strategy models are built under (the ``make_*`` builders and :func:`load_model`).

    ``MultiWorkerMirroredStrategy`` when ``TF_CONFIG`` names several workers (README, "Outgrowing one
    machine"; with :func:`shard_by_worker`), else ``MirroredStrategy`` with several GPUs, else the default.

    Raises
    ------
    ParameterError
        ``TF_CONFIG`` is set but is not JSON with a ``cluster`` mapping.
    """
    if _n_tf_config_workers() > 1:
        return _one(_MultiWorkerMirroredStrategy)
    if len(tf.config.list_logical_devices("GPU")) > 1:
        return _one(tf.distribute.MirroredStrategy)
    return tf.distribute.get_strategy()


@functools.cache
def _one(strategy_class):
    """The process's one instance of ``strategy_class``."""
    return strategy_class()


class _MultiWorkerMirroredStrategy(tf.distribute.MultiWorkerMirroredStrategy):
    """``MultiWorkerMirroredStrategy`` whose ``reduce`` takes the nests and scalars Keras 3's ``fit`` gives it
    (keras-team/keras#20585): each value is reduced on its own, a scalar across replicas only."""

    def reduce(self, reduce_op, value, axis=None):
        def one(v):
            local = v.values[0] if isinstance(v, tf.distribute.DistributedValues) else tf.convert_to_tensor(v)
            return super(_MultiWorkerMirroredStrategy, self).reduce(reduce_op, v, axis if local.shape.rank else None)

        return tf.nest.map_structure(one, value)


def _n_tf_config_workers() -> int:
    """How many workers (and chief) ``$TF_CONFIG`` names; 0 when it is unset."""
    text = os.environ.get("TF_CONFIG", "").strip()
    if not text:
        return 0
    try:
        cluster = json.loads(text)["cluster"]
        return len(cluster.get("worker", [])) + len(cluster.get("chief", []))
    except (ValueError, KeyError, TypeError, AttributeError):
        raise ParameterError(f"TF_CONFIG={text[:200]!r} must be JSON with a 'cluster' mapping, "
                             'e.g. {"cluster": {"worker": ["host1:12345", "host2:12345"]}, '
                             '"task": {"type": "worker", "index": 0}}') from None


try:  # the multi-worker strategy must exist before any other TensorFlow work
    if _n_tf_config_workers() > 1:
        strategy()
except ParameterError:  # a malformed TF_CONFIG is reported by strategy() when it is called
    pass


def shard_by_worker(dataset):
    """``dataset`` set to be split by worker (tf.data's ``DATA`` auto-shard policy) under :func:`strategy`.

    Every worker builds the same seeded dataset of *global* batches and trains on its part of each.

    Parameters
    ----------
    dataset : tf.data.Dataset
        Global batches, e.g. from :func:`sequence_dataset` with ``drop_remainder=True``.

    Returns
    -------
    tf.data.Dataset
    """
    if not isinstance(dataset, tf.data.Dataset):
        raise ParameterError(f"shard_by_worker() needs a tf.data.Dataset, got {type(dataset).__name__}")
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return dataset.with_options(options)


def set_seed(seed: int = 0, *, deterministic: bool | None = None) -> None:
    """Seed Python, NumPy and TensorFlow (``keras.utils.set_random_seed``).

    ``deterministic``: TensorFlow's op determinism (default: without a GPU, where it costs speed and some
    ops raise). Roll-outs are deterministic for a seed either way.
    """
    keras.utils.set_random_seed(int(seed))
    if deterministic is None:
        deterministic = not tf.config.list_logical_devices("GPU")
    if deterministic:
        tf.config.experimental.enable_op_determinism()


# --- small helpers used by the models and the compiled roll-outs ---
def update_metrics(metrics, losses: dict) -> dict:
    """Update each metric with ``losses[metric.name]``; their running results by name (what a step returns)."""
    for m in metrics:
        m.update_state(losses[m.name])
    return {m.name: m.result() for m in metrics}


def gradient_step(model, compute):
    """One optimiser step on the ``"loss"`` of ``compute()`` (a dict or a tuple ending in one); returns it.

    The loss is divided by the replicas, whose gradients are summed.
    """
    with tf.GradientTape() as tape:
        out = compute()
        losses = out if isinstance(out, dict) else out[-1]
        scaled = losses["loss"] / tf.distribute.get_strategy().num_replicas_in_sync
    grads = tape.gradient(scaled, model.trainable_weights)
    model.optimizer.apply_gradients(zip(grads, model.trainable_weights))
    return out


def _bucket(n: int, *, minimum: int = 16) -> int:
    """``n`` rounded up to a power of two (at least ``minimum``): the compiled roll-outs' shapes."""
    return max(minimum, 1 << (int(n) - 1).bit_length())


def _conv_taps(buf, conv, dilation: int):
    """A causal ``Conv1D``'s output for the newest step of ``buf [shape=(batch, (k-1) d + 1, channels)]``
    only: one matrix product of its ``k`` taps side by side."""
    k = conv.kernel_size[0]
    taps = tf.reshape(buf[:, ::dilation], (-1, k * buf.shape[-1]))  # inputs at t - (k-1-i) d
    z = tf.matmul(taps, tf.reshape(conv.kernel, (k * buf.shape[-1], conv.filters)))
    if conv.use_bias:
        z = z + conv.bias
    return conv.activation(z)


# --- stability guard, inside the compiled loop ---
_LN10_10 = math.log(10.0) / 10.0
_GUARD_DOMAINS = ("db", "log1p", "magnitude", "signed")


def guard_parameters(guard, n_features: int) -> tuple[tuple, dict]:
    """Split a :class:`musiclib.generate.StabilityGuard` into what shapes the compiled loop and its numbers.

    Returns ``(spec, values)``: ``spec`` hashable (``domain`` and which per-feature bounds exist; ``()``:
    no guard or a disabled one), ``values`` a dict of float32 arrays (the guard's attributes).
    """
    if guard is None or not getattr(guard, "enabled", True):
        return (), {}
    try:
        domain = guard.domain
        values = {k: np.float32(getattr(guard, k)) for k in ("low", "high", "knee", "feature_knee", "log1p_gain")}
        bounds = {k: getattr(guard, k) for k in ("feature_low", "feature_high")}
    except AttributeError:
        raise ParameterError(f"guard={guard!r} is not a musiclib.generate.StabilityGuard") from None
    check_choice("guard.domain", domain, _GUARD_DOMAINS)
    for k, v in bounds.items():
        if v is not None:
            v = np.asarray(v, dtype=np.float32)
            if v.shape != (n_features,):
                raise ParameterError(f"guard.{k} has shape {v.shape}; the model has n_features={n_features}")
            values[k] = v
    return (domain, bounds["feature_low"] is not None, bounds["feature_high"] is not None), values


def _soft_limit(e, *, low=None, high=None, knee):
    if high is not None:
        e = e - knee * tf.nn.softplus((e - high) / knee)
    if low is not None:
        e = e + knee * tf.nn.softplus((low - e) / knee)
    return e


def _log10(x):
    return tf.math.log(x) / math.log(10.0)


def apply_guard(frame, spec: tuple, values: dict):
    """:class:`musiclib.generate.StabilityGuard`'s formula, term for term, in TensorFlow (for roll-outs).

    Parameters
    ----------
    frame : tf.Tensor [shape=(batch, n_features)]
        Frames in the representation's units.
    spec, values :
        From :func:`guard_parameters`.
    """
    if not spec:
        return frame
    domain, has_low, has_high = spec
    v = values
    flo = v["feature_low"] if has_low else None
    fhi = v["feature_high"] if has_high else None
    x = frame
    if domain == "db":
        z = x * _LN10_10
        m = tf.reduce_max(z, axis=1, keepdims=True)
        e = (m[:, 0] + tf.math.log(tf.reduce_mean(tf.exp(z - m), axis=1))) / _LN10_10
    elif domain == "log1p":
        mag = tf.math.expm1(tf.maximum(x, 0.0))
        e = 10.0 * _log10(tf.reduce_mean(tf.square(mag / v["log1p_gain"]), axis=1) + 1e-20)
    else:  # magnitude, signed
        e = 10.0 * _log10(tf.reduce_mean(tf.square(x), axis=1) + 1e-20)
    g = _soft_limit(e, low=v["low"], high=v["high"], knee=v["knee"]) - e  # the frame's gain, dB
    if domain == "db":
        return _soft_limit(x + g[:, None], low=flo, high=fhi, knee=v["feature_knee"])
    if domain == "log1p":
        x = tf.math.log1p(mag * tf.pow(10.0, g / 20.0)[:, None])
        return _soft_limit(x, low=flo, high=fhi, knee=v["feature_knee"])
    x = x * tf.pow(10.0, g / 20.0)[:, None]
    if fhi is not None:
        lv = 20.0 * _log10(tf.abs(x) + 1e-20)
        x = x * tf.pow(10.0, (_soft_limit(lv, high=fhi, knee=v["feature_knee"]) - lv) / 20.0)
    return x


# --- the models ---
class _NextFrameModel(keras.Model):
    """What the models share: standardisation, the clock inputs, losses, protocol, compiled roll-out.

    Subclasses implement ``_forward(xin, training) -> (pred_n, extras)`` on inputs ``[shape=(batch, time,
    n_inputs)]`` (standardised frames, then the clock) and, for the roll-out, ``_initial_state(batch)`` and
    ``_step(xin, state, temperature, noise_seed) -> (pred_n, state)`` on ``xin [shape=(batch, n_inputs)]``.
    """

    def __init__(self, n_features, *, clock_harmonics=0, noise="residuals", name=None, **kwargs):
        super().__init__(name=name, **kwargs)
        self.n_features = check_int("n_features", n_features)
        self.clock_harmonics = check_int("clock_harmonics", clock_harmonics, low=0, note="0: no clock")
        self.noise = check_choice("noise", noise, NOISE_KINDS)
        self.normalizer = keras.layers.Normalization(axis=-1, name="normalize")
        self.denormalizer = keras.layers.Normalization(axis=-1, invert=True, name="denormalize")
        self.loss_tracker = keras.metrics.Mean(name="loss")
        object.__setattr__(self, "_rollout_fns", {})  # compiled roll-outs, not saved (nor tracked by Keras)

    #: the constructor arguments :meth:`get_config` saves (each subclass adds its own)
    _config = ("n_features", "clock_harmonics", "name")

    def get_config(self):
        config = {k: getattr(self, k) for k in self._config}
        return {k: list(v) if isinstance(v, tuple) else v for k, v in config.items()}

    @property
    def n_clock(self) -> int:
        """Clock features after each input frame (``4 * clock_harmonics``; 0 without a clock)."""
        return N_PHASE * self.clock_harmonics

    @property
    def n_inputs(self) -> int:
        """Values per input step: the frame's ``n_features``, then :attr:`n_clock` clock features."""
        return self.n_features + self.n_clock

    # -- weights --------------------------------------------------------------------------------
    def build(self, input_shape=None):
        if self.built:
            return
        F = self.n_features
        self.normalizer.build((None, F))
        self.denormalizer.build((None, F))
        self.residual_std = self.add_weight(shape=(F,), initializer="ones", trainable=False, name="residual_std")
        if self._uses_bank:  # N(0, 1) draws until calibrate() fills it
            self.residual_bank = self.add_weight(
                shape=(RESIDUAL_BANK_SIZE, F), initializer=keras.initializers.RandomNormal(seed=0), trainable=False,
                name="residual_bank")
        self._forward(tf.zeros((1, 2, self.n_inputs)), training=False)  # builds every sub-layer
        self.built = True

    def adapt(self, frames) -> "_NextFrameModel":
        """Adapt the standardisation to training frames (a constant feature's std rises to 1 % of the median).

        Parameters
        ----------
        frames : np.ndarray [shape=(n_frames, n_features)] or a list of them (one per track)
        """
        if isinstance(frames, (list, tuple)):
            frames = np.concatenate([np.asarray(f, dtype=np.float32) for f in frames], axis=0)
        frames = np.asarray(frames, dtype=np.float32)
        if frames.ndim == 3:
            frames = frames.reshape(-1, frames.shape[-1])
        self._check_frames(frames, "adapt", ndim=2)
        if not np.all(np.isfinite(frames)):
            raise ParameterError(f"{type(self).__name__}.adapt() got NaN or infinite values")
        self.build()
        self.normalizer.adapt(frames)
        variance = self.normalizer.adapt_variance.numpy()
        floor = max(float(np.median(np.sqrt(variance))) * 1e-2, 1e-6)
        self.normalizer.adapt_variance.assign(np.maximum(variance, floor**2))
        self.normalizer.finalize_state()
        self.denormalizer.adapt_mean.assign(self.normalizer.adapt_mean)
        self.denormalizer.adapt_variance.assign(self.normalizer.adapt_variance)
        self.denormalizer.finalize_state()
        self._rollout_fns.clear()  # compiled roll-outs captured the old statistics
        return self

    def _inputs(self, x):
        """Model inputs: the frames standardised, the clock features as they are."""
        F = self.n_features
        if not self.n_clock:
            return self.normalizer(x)
        return tf.concat([self.normalizer(x[..., :F]), x[..., F:]], axis=-1)

    def _check_frames(self, x, what, *, ndim, width=None):
        shape = np.shape(x)
        width = self.n_features if width is None else width
        if len(shape) != ndim or shape[-1] != width:
            want = "(n_frames, n_features)" if ndim == 2 else "(n, time, n_features)"
            clock = f" + {self.n_clock} clock features" if width != self.n_features else ""
            raise ParameterError(
                f"{type(self).__name__}.{what}() needs an array of shape {want} with "
                f"n_features={self.n_features}{clock}, got shape {shape}"
            )

    # -- forward pass and losses ----------------------------------------------------------------
    def call(self, x, training=False):
        """Next-frame predictions at every step ``[shape=(batch, time, n_features)]``, in frame units."""
        pred_n, _ = self._forward(self._inputs(x), training=training)
        return self.denormalizer(pred_n)

    def _errors(self, x, y, training):
        """Standardised errors ``y - prediction`` (the last step's only when ``y`` is one frame), extras."""
        pred_n, extras = self._forward(self._inputs(x), training=training)
        if len(y.shape) == 2:  # (batch, n_features): the frame after the last step only
            pred_n, extras = pred_n[:, -1], {k: v[:, -1] for k, v in extras.items()}
        return self.normalizer(y) - pred_n, extras

    def _step_losses(self, x, y, training):
        reconstruction = tf.reduce_mean(tf.square(self._errors(x, y, training)[0]))
        return {"loss": reconstruction, "reconstruction_loss": reconstruction}

    @property
    def metrics(self):
        return [self.loss_tracker]

    def train_step(self, data):
        x, y, _ = keras.utils.unpack_x_y_sample_weight(data)
        return update_metrics(self.metrics, gradient_step(self, lambda: self._step_losses(x, y, training=True)))

    def test_step(self, data):
        x, y, _ = keras.utils.unpack_x_y_sample_weight(data)
        return update_metrics(self.metrics, self._step_losses(x, y, training=False))

    def predict_step(self, data):
        x, _, _ = keras.utils.unpack_x_y_sample_weight(data)
        return self(x, training=False)[:, -1]

    # -- scikit-learn style protocol ------------------------------------------------------------
    def predict(self, x, batch_size=256, verbose=0, **kwargs):
        """The frame after each context ``[shape=(n, n_features)]`` for ``x [shape=(n, context, n_inputs)]``."""
        x = np.asarray(x, dtype=np.float32)
        if x.ndim == 2 and x.shape[1] % self.n_inputs == 0 and x.shape[1] > 0:  # flattened (n, context * n_inputs)
            x = x.reshape(len(x), -1, self.n_inputs)
        self._check_frames(x, "predict", ndim=3, width=self.n_inputs)
        return np.asarray(super().predict(x, batch_size=batch_size, verbose=verbose, **kwargs))

    def calibrate(self, dataset, *, max_batches: int = 50, seed: int = 0) -> np.ndarray:
        """Measure the one-step errors (standardised units) on ``dataset``, which the roll-out's noise copies.

        Sets and returns ``residual_std`` (per feature) and (all but the VAE) fills ``residual_bank``
        with :data:`RESIDUAL_BANK_SIZE` centred error vectors drawn (seeded) from the first
        ``max_batches`` batches. Held-out data is best: training error understates a roll-out's.
        """
        self.build()
        total, total_sq, count = np.zeros(self.n_features), np.zeros(self.n_features), 0
        rng = np.random.default_rng(seed)
        kept = []  # a random subset of each batch's error vectors, at most a bank's worth
        for x, y in itertools.islice(dataset, max_batches):
            r = tf.reshape(self._errors(x, y, False)[0], (-1, self.n_features)).numpy().astype(np.float64)
            total += r.sum(axis=0)
            total_sq += (r * r).sum(axis=0)
            count += len(r)
            if self._uses_bank:
                kept.append(r[rng.permutation(len(r))[:RESIDUAL_BANK_SIZE]].astype(np.float32))
        if count == 0:
            raise ParameterError("calibrate() got an empty dataset")
        if self._uses_bank:
            pool = np.concatenate(kept)
            pool -= (total / count).astype(np.float32)  # centred: the noise adds spread, not a bias
            pick = rng.choice(len(pool), size=RESIDUAL_BANK_SIZE, replace=len(pool) < RESIDUAL_BANK_SIZE)
            self.residual_bank.assign(pool[pick])
        var = np.maximum(total_sq / count - (total / count) ** 2, 0)
        std = np.sqrt(var).astype(np.float32)
        self.residual_std.assign(np.maximum(std, 1e-4))
        return std

    # -- generation -----------------------------------------------------------------------------
    #: The fewest prime frames a roll-out needs (1: the models take any context length).
    n_context_ = 1
    #: How many past frames a prediction can depend on (``None``: unbounded, recurrent).
    receptive_field = None

    def _clock_inputs(self, clock, *, n_clips: int, n_total: int) -> np.ndarray:
        """The clock features of every frame ``[shape=(n_clips, n_total, n_clock)]`` (zero columns without a clock)."""
        if not self.n_clock:
            if clock is not None:
                raise ParameterError(f"{type(self).__name__} has no clock (clock_harmonics=0); do not pass clock=")
            return np.zeros((n_clips, n_total, 0), dtype=np.float32)
        if clock is None:
            raise ParameterError(
                f"{type(self).__name__} reads a clock (clock_harmonics={self.clock_harmonics}): pass clock= with the "
                "beat and bar phase of every frame, prime and generated (e.g. musiclib.beats.clock(...))")
        clock = np.asarray(clock, dtype=np.float32)
        if clock.ndim == 2:
            clock = np.broadcast_to(clock, (n_clips, *clock.shape))
        if clock.shape != (n_clips, n_total, N_PHASE):
            raise ParameterError(
                f"clock must have shape (n_prime + n_frames, {N_PHASE}) = ({n_total}, {N_PHASE}) or one such per "
                f"clip, got {clock.shape}")
        flat = clock_features(clock.reshape(-1, N_PHASE), harmonics=self.clock_harmonics)
        return flat.reshape(n_clips, n_total, self.n_clock)

    def rollout(self, prime, *, n_frames: int, temperature: float = 1.0, guard=None, seed: int = 0,
                jit_compile: bool | None = None, scaler=None, clock=None, **_ignored) -> np.ndarray:
        """Generate ``n_frames`` frames after ``prime`` with one compiled TensorFlow loop (seeded per step).

        Parameters
        ----------
        prime : np.ndarray [shape=(n_prime, n_features)] or [shape=(n_clips, n_prime, n_features)]
            Frames to continue, in the representation's units (a batch makes several clips at once).
        n_frames, seed : int
        temperature : float
            Scale of the noise added to each predicted frame (the bank of :meth:`calibrate`'s error
            vectors, or Gaussian); LSTM+VAE: the latent's standard deviation. ``0`` is deterministic.
        guard : musiclib.generate.StabilityGuard, optional
            Applied to every generated frame inside the loop (:func:`apply_guard`).
        jit_compile : bool, optional
            Compile with XLA (default); ``False``: plain graph mode (slower, another random stream).
        scaler : optional
            Must be ``None`` with a guard (the models standardise frames themselves).
        clock : np.ndarray [shape=(n_prime + n_frames, 4)] or [shape=(n_clips, n_prime + n_frames, 4)]
            A model with a clock only: the beat and bar phase of every frame, prime and generated
            (e.g. :func:`musiclib.generate.continue_clock`).

        Returns
        -------
        frames : np.ndarray [shape=(n_frames, n_features)] or [shape=(n_clips, n_frames, n_features)], float32
        """
        prime = np.asarray(prime, dtype=np.float32)
        single = prime.ndim == 2
        if single:
            prime = prime[None]
        self._check_frames(prime, "rollout", ndim=3)
        if prime.shape[1] < 1:
            raise ParameterError("rollout() needs a prime of at least one frame, got 0")
        n_frames = check_int("n_frames", n_frames)
        temperature = check_number("temperature", temperature, low=0)
        seed = check_int("seed", seed, low=0)
        if not np.all(np.isfinite(prime)):
            raise ParameterError("rollout() got NaN or infinite values in prime")
        self.build()
        spec, values = guard_parameters(guard, self.n_features)
        if spec and scaler is not None:
            raise ParameterError(
                f"{type(self).__name__}.rollout() standardises frames itself: give it frames in the "
                "representation's units and no scaler, so the guard sees those units"
            )
        n_clips, n_prime = prime.shape[0], prime.shape[1]
        clock_in = self._clock_inputs(clock, n_clips=n_clips, n_total=n_prime + n_frames)
        jit = True if jit_compile is None else bool(jit_compile)
        rf = self.receptive_field
        if rf is not None and n_prime > rf:
            prime, clock_in = prime[:, -rf:], clock_in[:, n_prime - rf:]
            n_prime = rf
        # power-of-two shapes share compilations: the prime is padded in front, the output cut to n_frames
        prime_size, out_size = _bucket(n_prime), _bucket(n_frames)
        padded = np.zeros((n_clips, prime_size, self.n_features), dtype=np.float32)
        padded[:, prime_size - n_prime:] = prime
        clock_padded = np.zeros((n_clips, prime_size + out_size, self.n_clock), dtype=np.float32)
        clock_padded[:, prime_size - n_prime: prime_size + n_frames] = clock_in
        fn = self._rollout_function(jit, spec, out_size)
        out = fn(
            tf.constant(padded),
            tf.constant(clock_padded),
            tf.constant(prime_size - n_prime, dtype=tf.int32),
            tf.constant(n_frames, dtype=tf.int32),
            tf.constant(float(temperature), dtype=tf.float32),
            tf.constant(int(seed) % (2**31 - 1), dtype=tf.int32),
            {k: tf.constant(v) for k, v in values.items()},
        ).numpy()[:, :n_frames]
        return out[0] if single else out

    def _rollout_function(self, jit, guard_spec, out_size):
        key = (jit, guard_spec, out_size)
        if key not in self._rollout_fns:
            self._rollout_fns[key] = tf.function(
                functools.partial(self._rollout_graph, guard_spec=guard_spec, out_size=out_size, jit=jit),
                jit_compile=jit, reduce_retracing=True,
            )
        return self._rollout_fns[key]

    def _add_noise(self, pred_n, temperature, step_seed):
        """The roll-out's noise: one whole residual vector per clip and step, or Gaussian per feature."""
        if self._uses_bank:
            pick = tf.random.stateless_uniform(tf.shape(pred_n)[:1], seed=step_seed, minval=0,
                                               maxval=RESIDUAL_BANK_SIZE, dtype=tf.int32, alg="philox")
            return pred_n + temperature * tf.gather(self.residual_bank, pick)
        if self._noise_in_frames:
            noise = tf.random.stateless_normal(tf.shape(pred_n), seed=step_seed, alg="philox")
            return pred_n + temperature * self.residual_std * noise
        return pred_n

    def _rollout_graph(self, prime, clock, start, n_frames, temperature, seed, guard, *, guard_spec, out_size, jit):
        batch, n_prime = tf.shape(prime)[0], tf.shape(prime)[1]
        prime_n = self.normalizer(prime)

        # the input at step t: frame t, standardised, with the clock of frame t + 1 (the one predicted)
        def step_input(frame_n, t):
            return tf.concat([frame_n, clock[:, t + 1]], axis=-1)

        def prime_body(t, state):
            _, state = self._step(step_input(prime_n[:, t], t), state, 0.0, tf.stack([seed, -1]))
            return t + 1, state

        _, state = tf.while_loop(lambda t, _: t < n_prime - 1, prime_body,
                                 (start, self._initial_state(batch)))

        out = tf.TensorArray(tf.float32, size=out_size, element_shape=tf.TensorShape([None, self.n_features]))

        def body(i, x, state, out):
            step_seed = tf.stack([seed, i])
            pred_n, state = self._step(step_input(x, n_prime - 1 + i), state, temperature, step_seed)
            pred_n = self._add_noise(pred_n, temperature, step_seed)
            frame = apply_guard(self.denormalizer(pred_n), guard_spec, guard)
            return i + 1, self.normalizer(frame), state, out.write(i, frame)

        _, _, _, out = tf.while_loop(
            lambda i, *_: i < n_frames, body, (tf.constant(0), prime_n[:, -1], state, out),
        )
        # XLA needs static shapes: the whole buffer (rollout() cuts the unwritten slots)
        stacked = out.stack() if jit else out.gather(tf.range(n_frames))
        return tf.transpose(stacked, (1, 0, 2))

    #: whether :meth:`rollout` adds noise to each predicted frame (else the model samples it inside)
    _noise_in_frames = True

    @property
    def _uses_bank(self) -> bool:
        return self._noise_in_frames and self.noise == "residuals"


def _chain(layers, x):
    """``x`` through ``layers`` in order."""
    return functools.reduce(lambda h, layer: layer(h), layers, x)


def _lstm_layers(units):
    return [keras.layers.LSTM(u, return_sequences=True, name=f"lstm_{i}") for i, u in enumerate(units)]


def _lstm_steps(lstms, x, state):
    """One step of stacked LSTM layers, each through its own cell: ``cell(x, [h, c]) -> (h, [h, c])``."""
    new_state = []
    for lstm, (h, c) in zip(lstms, state):
        x, (h, c) = lstm.cell(x, [h, c])
        new_state.append((h, c))
    return x, new_state


@keras.saving.register_keras_serializable(package=_PACKAGE)
class NextFrameLSTM(_NextFrameModel):
    """Stacked LSTM layers and a linear read-out (of the top layer and the clock) that predict the next frame.

    Parameters
    ----------
    n_features : int
        Features per frame (``rep.n_features``).
    units : int or sequence of int
        Units of each LSTM layer, bottom first.
    dropout : float
        Dropout on each LSTM layer's output during training.
    clock_harmonics : int
        Harmonics of the clock features after each frame (0: no clock).
    noise : {"residuals", "gaussian"}
        The roll-out's noise (:data:`NOISE_KINDS`; the module's "Why residual vectors").

    Examples
    --------
    >>> model = make_lstm(209).adapt(train_frames)  # doctest: +SKIP
    >>> model.fit(sequence_dataset(tracks, window=192), epochs=5)  # doctest: +SKIP
    >>> frames = model.rollout(prime, n_frames=860, temperature=0.5, seed=0)  # doctest: +SKIP
    """

    def __init__(self, n_features, *, units=(128, 128), dropout=0.0, clock_harmonics=0, noise="residuals", name=None,
                 **kwargs):
        super().__init__(n_features, clock_harmonics=clock_harmonics, noise=noise, name=name, **kwargs)
        self.units = check_ints("units", units)
        self.dropout = check_fraction("dropout", dropout, high_open=True)
        self.lstms = _lstm_layers(self.units)
        self.drops = [keras.layers.Dropout(self.dropout) for _ in self.units]
        self.readout = keras.layers.Dense(self.n_features, name="readout")

    _config = _NextFrameModel._config + ("units", "dropout", "noise")

    def _readout(self, h, xin):
        """The read-out of the top layer's output and of the clock features (bar position acts directly)."""
        if self.n_clock:
            h = tf.concat([h, xin[..., self.n_features:]], axis=-1)
        return self.readout(h)

    def _forward(self, xin, training=False):
        h = xin
        for lstm, drop in zip(self.lstms, self.drops):
            h = drop(lstm(h, training=training), training=training)
        return self._readout(h, xin), {}

    def _initial_state(self, batch):
        return [(tf.zeros((batch, u)), tf.zeros((batch, u))) for u in self.units]

    def _step(self, xin, state, temperature, noise_seed):
        h, state = _lstm_steps(self.lstms, xin, state)
        return self._readout(h, xin), state


def _causal_buffers(batch, convs, dilations, channels):
    """Per causal convolution, the last ``(k - 1) d + 1`` inputs it has seen (zeros before the start)."""
    return [tf.zeros((batch, (conv.kernel_size[0] - 1) * d + 1, c)) for conv, d, c in zip(convs, dilations, channels)]


def _push(buf, x):
    """``buf`` with its oldest step dropped and ``x [shape=(batch, channels)]`` appended."""
    return tf.concat([buf[:, 1:], x[:, None]], axis=1)


@keras.saving.register_keras_serializable(package=_PACKAGE)
class NextFrameMLP(_NextFrameModel):
    """The plain feed-forward network: the last ``context`` frames, flattened, through dense layers.

    The first layer, a causal ``Conv1D`` as wide as the context, is that dense layer at every step at once.

    Parameters
    ----------
    n_features, context : int
        ``context``: frames the network sees (its receptive field).
    units : int or sequence of int
        Width of each hidden layer.
    clock_harmonics, noise :
        As :class:`NextFrameLSTM`.
    """

    def __init__(self, n_features, *, context=16, units=(256, 256), clock_harmonics=0, noise="residuals", name=None,
                 **kwargs):
        super().__init__(n_features, clock_harmonics=clock_harmonics, noise=noise, name=name, **kwargs)
        self.context = check_int("context", context)
        self.units = check_ints("units", units)
        self.flat = keras.layers.Conv1D(self.units[0], self.context, padding="causal", activation="relu",
                                        name="context_dense")
        self.hidden = [keras.layers.Dense(u, activation="relu", name=f"dense_{i + 1}")
                       for i, u in enumerate(self.units[1:])]
        self.readout = keras.layers.Dense(self.n_features, name="readout")
        self.receptive_field = self.context

    _config = _NextFrameModel._config + ("context", "units", "noise")

    def _forward(self, xin, training=False):
        return self.readout(_chain(self.hidden, self.flat(xin))), {}

    def _initial_state(self, batch):
        return _causal_buffers(batch, [self.flat], [1], [self.n_inputs])

    def _step(self, xin, state, temperature, noise_seed):
        (buf,) = state
        buf = _push(buf, xin)
        return self.readout(_chain(self.hidden, _conv_taps(buf, self.flat, 1))), [buf]


@keras.saving.register_keras_serializable(package=_PACKAGE)
class DilatedCNN(_NextFrameModel):
    """Dilated causal 1-D convolutions over time with frequency bins as channels.

    Input projection to ``filters`` channels, residual blocks ``h + Dense(Conv1D(h, dilation, causal,
    relu))``, a dense read-out; receptive field ``1 + (kernel_size - 1) * sum(dilations)`` frames.

    Parameters
    ----------
    n_features, filters, kernel_size : int
        ``filters``: channels inside the network.
    dilations : sequence of int
        One residual block per dilation.
    clock_harmonics, noise :
        As :class:`NextFrameLSTM`.
    """

    def __init__(self, n_features, *, filters=128, kernel_size=2, dilations=(1, 2, 4, 8, 16, 32), clock_harmonics=0,
                 noise="residuals", name=None, **kwargs):
        super().__init__(n_features, clock_harmonics=clock_harmonics, noise=noise, name=name, **kwargs)
        self.filters = check_int("filters", filters)
        self.kernel_size = check_int("kernel_size", kernel_size)
        self.dilations = check_ints("dilations", dilations)
        self.inp = keras.layers.Dense(self.filters, name="input_projection")
        self.convs = [
            keras.layers.Conv1D(self.filters, self.kernel_size, dilation_rate=d, padding="causal", activation="relu",
                                name=f"conv_{i}")
            for i, d in enumerate(self.dilations)
        ]
        self.projs = [keras.layers.Dense(self.filters, name=f"residual_{i}") for i in range(len(self.dilations))]
        self.readout = keras.layers.Dense(self.n_features, name="readout")
        self.receptive_field = 1 + (self.kernel_size - 1) * sum(self.dilations)

    _config = _NextFrameModel._config + ("filters", "kernel_size", "dilations", "noise")

    def _forward(self, xin, training=False):
        h = self.inp(xin)
        for conv, proj in zip(self.convs, self.projs):
            h = h + proj(conv(h))
        return self.readout(h), {}

    def _initial_state(self, batch):
        return _causal_buffers(batch, self.convs, self.dilations, [self.filters] * len(self.convs))

    def _step(self, xin, state, temperature, noise_seed):
        h = self.inp(xin)
        new_state = []
        for conv, proj, d, buf in zip(self.convs, self.projs, self.dilations, state):
            buf = _push(buf, h)
            h = h + proj(_conv_taps(buf, conv, d))
            new_state.append(buf)
        return self.readout(h), new_state


@keras.saving.register_keras_serializable(package=_PACKAGE)
class LSTMVAE(_NextFrameModel):
    """LSTM with a variational latent: per-frame dense encoder -> LSTM -> latent ``z`` -> decoder.

    Loss ``MSE + beta * KL / n_features`` (standardised frames; KL to N(0, 1) summed over latent units,
    averaged over steps). Generation samples ``z = mean + temperature * N(0, 1)``.

    Parameters
    ----------
    n_features, latent_dim : int
    encoder_units, units, decoder_units : int or sequence of int
        Dense encoder layers, LSTM layers, dense decoder layers.
    beta : float
        Weight of the KL term.
    clock_harmonics :
        As :class:`NextFrameLSTM`.
    """

    _noise_in_frames = False

    def __init__(self, n_features, *, encoder_units=(256,), units=(256,), latent_dim=32, decoder_units=(256,),
                 beta=1.0, clock_harmonics=0, name=None, **kwargs):
        kwargs.pop("noise", None)
        super().__init__(n_features, clock_harmonics=clock_harmonics, name=name, **kwargs)
        self.encoder_units = check_ints("encoder_units", encoder_units)
        self.units = check_ints("units", units)
        self.decoder_units = check_ints("decoder_units", decoder_units)
        self.latent_dim = check_int("latent_dim", latent_dim)
        self.beta = check_number("beta", beta, low=0)
        self.encoder = [keras.layers.Dense(u, activation="relu", name=f"encoder_{i}")
                        for i, u in enumerate(self.encoder_units)]
        self.lstms = _lstm_layers(self.units)
        self.z_mean = keras.layers.Dense(self.latent_dim, name="z_mean")
        self.z_log_var = keras.layers.Dense(self.latent_dim, name="z_log_var")
        self.decoder = [keras.layers.Dense(u, activation="relu", name=f"decoder_{i}")
                        for i, u in enumerate(self.decoder_units)]
        self.readout = keras.layers.Dense(self.n_features, name="readout")
        self.reconstruction_tracker = keras.metrics.Mean(name="reconstruction_loss")
        self.kl_tracker = keras.metrics.Mean(name="kl_loss")
        self._sample_seed = keras.random.SeedGenerator(0)

    _config = _NextFrameModel._config + ("encoder_units", "units", "latent_dim", "decoder_units", "beta")
    @property
    def metrics(self):
        return [self.loss_tracker, self.reconstruction_tracker, self.kl_tracker]

    def _forward(self, xin, training=False):
        h = _chain(self.encoder, xin)
        for lstm in self.lstms:
            h = lstm(h, training=training)
        mean = self.z_mean(h)
        log_var = tf.clip_by_value(self.z_log_var(h), -20.0, 10.0)
        if training:
            z = mean + tf.exp(0.5 * log_var) * keras.random.normal(tf.shape(mean), seed=self._sample_seed)
        else:
            z = mean
        return self.readout(_chain(self.decoder, z)), {"mean": mean, "log_var": log_var}

    def _step_losses(self, x, y, training):
        err, extras = self._errors(x, y, training)
        mean, log_var = extras["mean"], extras["log_var"]
        reconstruction = tf.reduce_mean(tf.square(err))
        kl = tf.reduce_mean(tf.reduce_sum(-0.5 * (1 + log_var - tf.square(mean) - tf.exp(log_var)), axis=-1))
        loss = reconstruction + self.beta * kl / self.n_features
        return {"loss": loss, "reconstruction_loss": reconstruction, "kl_loss": kl}

    _initial_state = NextFrameLSTM._initial_state

    def _step(self, xin, state, temperature, noise_seed):
        h, state = _lstm_steps(self.lstms, _chain(self.encoder, xin), state)
        mean = self.z_mean(h)
        z = mean + temperature * tf.random.stateless_normal(tf.shape(mean), seed=noise_seed, alg="philox")
        return self.readout(_chain(self.decoder, z)), state


# --- builders (inside the distribution strategy) ---
def _make(cls, *args, learning_rate, clipnorm, run_eagerly=False, loss=None, **params):
    """``cls(*args, **params)``, built and compiled (Adam) under :func:`strategy` (:mod:`.vae`'s too)."""
    if not isinstance(run_eagerly, (bool, np.bool_)):
        raise ParameterError(f"run_eagerly={run_eagerly!r} must be True or False")
    with strategy().scope():
        model = cls(*args, **params)
        model.build()
        model.compile(optimizer=keras.optimizers.Adam(learning_rate=learning_rate, clipnorm=clipnorm),
                      loss=loss, run_eagerly=bool(run_eagerly))
    return model


def make_lstm(n_features: int, *, units=(128, 128), dropout: float = 0.0, clock_harmonics: int = 0,
              noise: str = "residuals", learning_rate: float = 1e-3, clipnorm: float | None = 1.0) -> NextFrameLSTM:
    """A compiled :class:`NextFrameLSTM`, built under :func:`strategy` (Adam optimiser)."""
    return _make(NextFrameLSTM, n_features, units=units, dropout=dropout, clock_harmonics=clock_harmonics, noise=noise,
                 learning_rate=learning_rate, clipnorm=clipnorm)


def make_mlp(n_features: int, *, context: int = 16, units=(256, 256), clock_harmonics: int = 0,
             noise: str = "residuals", learning_rate: float = 1e-3, clipnorm: float | None = 1.0) -> NextFrameMLP:
    """A compiled :class:`NextFrameMLP`, built under :func:`strategy` (Adam optimiser)."""
    return _make(NextFrameMLP, n_features, context=context, units=units, clock_harmonics=clock_harmonics, noise=noise,
                 learning_rate=learning_rate, clipnorm=clipnorm)


def make_cnn(n_features: int, *, filters: int = 128, kernel_size: int = 2, dilations=(1, 2, 4, 8, 16, 32),
             clock_harmonics: int = 0, noise: str = "residuals", learning_rate: float = 1e-3,
             clipnorm: float | None = 1.0) -> DilatedCNN:
    """A compiled :class:`DilatedCNN`, built under :func:`strategy` (Adam optimiser)."""
    return _make(DilatedCNN, n_features, filters=filters, kernel_size=kernel_size, dilations=dilations,
                 clock_harmonics=clock_harmonics, noise=noise, learning_rate=learning_rate, clipnorm=clipnorm)


def make_lstm_vae(n_features: int, *, encoder_units=(256,), units=(256,), latent_dim: int = 32,
                  decoder_units=(256,), beta: float = 1.0, clock_harmonics: int = 0, learning_rate: float = 1e-3,
                  clipnorm: float | None = 1.0) -> LSTMVAE:
    """A compiled :class:`LSTMVAE`, built under :func:`strategy` (Adam optimiser)."""
    return _make(LSTMVAE, n_features, encoder_units=encoder_units, units=units, latent_dim=latent_dim,
                 decoder_units=decoder_units, beta=beta, clock_harmonics=clock_harmonics, learning_rate=learning_rate,
                 clipnorm=clipnorm)


def load_model(path):
    """Load a model saved with ``model.save(path)`` (Keras' native ``.keras`` format), under :func:`strategy`."""
    path = Path(path)
    if not path.exists():
        raise ParameterError(f"load_model(): {path} does not exist")
    if not zipfile.is_zipfile(path):
        raise ParameterError(f"load_model(): {path} is not a Keras .keras archive (truncated, or another kind of file)")
    try:
        with strategy().scope():
            return keras.models.load_model(path)
    except (ValueError, OSError, KeyError, TypeError, zipfile.BadZipFile) as e:
        raise ParameterError(f"load_model(): {path} could not be loaded as a Keras model: {e}") from e


# --- data: per-file frames (musiclib.framing.load_frames, through the feature cache) -> tf.data ---
def _with_clock(tracks, phases, harmonics):
    """Each track's frames with, on row t, the clock features of frame t + 1 (the frame it predicts)."""
    if phases is None:
        return tracks
    if isinstance(phases, np.ndarray) and phases.ndim == 2:
        phases = [phases]
    if len(phases) != len(tracks):
        raise ParameterError(f"{len(phases)} phase arrays for {len(tracks)} tracks")
    out = []
    for i, (t, p) in enumerate(zip(tracks, phases)):
        p = np.asarray(p, dtype=np.float32)
        if p.shape != (len(t), N_PHASE):
            raise ParameterError(f"phases[{i}] has shape {p.shape}; its track needs ({len(t)}, {N_PHASE})")
        c = clock_features(p, harmonics=harmonics)
        nxt = np.concatenate([c[1:], c[-1:]])  # the last row is never an input (it has no next frame)
        out.append(np.concatenate([t, nxt], axis=1))
    return out


def sequence_dataset(tracks, *, window: int = 64, batch_size: int = 32, hop: int | None = None,
                     shuffle: bool = True, seed: int = 0, drop_remainder: bool = False, phases=None,
                     harmonics: int = 4):
    """A ``tf.data.Dataset`` of ``(x, y)``: ``window`` frames of a track and the same frames one step later.

    With ``phases``, each step of ``x`` also carries the clock features of the frame it predicts.

    Parameters
    ----------
    tracks : list of np.ndarray [shape=(n_frames_i, n_features)]
        E.g. from :func:`musiclib.framing.load_frames`; tracks under ``window + 1`` frames are skipped.
    window, batch_size, hop : int
        ``hop``: frames between window starts (default ``window // 2``).
    shuffle, seed, drop_remainder :
        Shuffle the windows every epoch, seeded; drop the last, smaller batch.
    phases : list of np.ndarray [shape=(n_frames_i, 4)], optional
        Every frame's beat and bar phase (:func:`musiclib.framing.track_phases`).
    harmonics : int

    Returns
    -------
    tf.data.Dataset
        ``x [shape=(batch, window, n_features + 4 * harmonics)]``, ``y [shape=(batch, window, n_features)]``.
    """
    window = check_int("window", window)
    batch_size = check_int("batch_size", batch_size)
    hop = max(1, window // 2) if hop is None else check_int("hop", hop)
    if isinstance(tracks, np.ndarray) and tracks.ndim == 2:
        tracks = [tracks]
    tracks = [np.asarray(t, dtype=np.float32) for t in tracks]
    if not tracks or any(t.ndim != 2 for t in tracks) or len({t.shape[1] for t in tracks}) != 1:
        raise ParameterError(
            f"sequence_dataset() needs a non-empty list of (n_frames, n_features) arrays with the same n_features, "
            f"got shapes {[t.shape for t in tracks]}"
        )
    n_features = tracks[0].shape[1]
    rows = _with_clock(tracks, phases, harmonics)
    offsets = np.cumsum([0] + [len(t) for t in tracks])
    starts = [o + np.arange(0, len(t) - window, hop) for o, t in zip(offsets, tracks) if len(t) > window]
    if not starts:
        raise ParameterError(
            f"sequence_dataset(): no track has window + 1 = {window + 1} frames "
            f"(longest: {max(len(t) for t in tracks)})"
        )
    starts = np.concatenate(starts).astype(np.int64)
    data = tf.constant(np.concatenate(rows, axis=0))
    steps = tf.range(window + 1, dtype=tf.int64)

    def cut(s):
        seq = tf.gather(data, s[:, None] + steps[None, :])
        return seq[:, :-1], seq[:, 1:, :n_features]

    ds = tf.data.Dataset.from_tensor_slices(starts)
    if shuffle:
        ds = ds.shuffle(len(starts), seed=seed, reshuffle_each_iteration=True)
    return ds.batch(batch_size, drop_remainder=drop_remainder).map(cut).prefetch(tf.data.AUTOTUNE)


# --- training with checkpoints: Keras' BackupAndRestore (resume), ModelCheckpoint and CSVLogger ---
class _EpochSeconds(keras.callbacks.Callback):
    """Puts each epoch's seconds into its logs (for ``CSVLogger``) and notes the first epoch trained."""

    first = None

    def on_epoch_begin(self, epoch, logs=None):
        self._t0 = time.perf_counter()
        if self.first is None:
            self.first = epoch

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["epoch_seconds"] = time.perf_counter() - self._t0


class _BackupEvery(keras.callbacks.BackupAndRestore):
    """``BackupAndRestore`` after every ``every``-th epoch and the last, kept when training ends."""

    def __init__(self, backup_dir, *, every: int):
        super().__init__(backup_dir, double_checkpoint=True, delete_checkpoint=False)
        self.every = every

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every == 0 or epoch + 1 >= self.params.get("epochs", 0):
            super().on_epoch_end(epoch, logs)


def _read_history(path: Path) -> dict:
    """``CSVLogger``'s file as ``{column: [value per epoch]}``, one row per epoch (a resumed epoch's last row)."""
    import pandas as pd

    if not path.exists():
        return {}
    try:
        table = pd.read_csv(path)
    except (ValueError, pd.errors.ParserError) as e:
        raise ParameterError(f"{path} is not a training log written by fit_with_checkpoints ({e})") from None
    if "epoch" not in table.columns:
        raise ParameterError(f"{path} is not a training log written by fit_with_checkpoints (no 'epoch' column)")
    table = table.drop_duplicates("epoch", keep="last").sort_values("epoch")
    return {c: [float(v) for v in table[c]] for c in table.columns if c != "epoch"}


def fit_with_checkpoints(model, data, *, epochs: int, checkpoint_dir, validation_data=None,
                         calibrate: bool = True, callbacks=(), verbose: bool = False, save_every: int = 1):
    """Train ``model`` for ``epochs`` epochs in all, resuming an interrupted run and reusing a finished one.

    In ``checkpoint_dir``: ``backup/`` (``keras.callbacks.BackupAndRestore`` after every ``save_every``-th
    epoch and the last, from which an interrupted run continues; deleted once ``model.keras`` is saved);
    ``history.csv`` (``CSVLogger``: each epoch's losses and seconds); ``model.keras`` once done (atomically).
    With ``epochs`` reached, that model is loaded instead of training; with more, training continues from it.

    Parameters
    ----------
    model : keras.Model
        Compiled (a ``make_*`` builder of this module, :mod:`.vae` or :mod:`.raw_audio`), adapted.
    data, validation_data : tf.data.Dataset
        ``(x, y)`` batches, e.g. from :func:`sequence_dataset`.
    epochs : int
        Total epochs, counting those done before a restart.
    checkpoint_dir : str or Path
    calibrate : bool
        Call the model's ``calibrate`` (:meth:`~_NextFrameModel.calibrate`), if it has one, at the end on
        ``validation_data`` when given (held-out errors are what a roll-out meets), else on ``data``.
    callbacks : sequence of keras.callbacks.Callback
        More callbacks for ``fit`` (e.g. :func:`musiclib.display.training_progress`).
    verbose : bool
        Keras' own one line per epoch (``fit(verbose=2)``).
    save_every : int
        Epochs between backups.

    Returns
    -------
    model : the trained model (a loaded one when training was done before)
    history : dict
        ``{"loss": [...], ..., "epoch_seconds": [...]}`` over all epochs, ``"initial_epoch"`` (epochs
        done before this call) and ``"resumed"`` (the saved model was loaded, nothing trained).
    """
    epochs = check_int("epochs", epochs)
    save_every = check_int("save_every", save_every)
    if data is None or isinstance(data, (str, bytes, int, float)):
        raise ParameterError(f"data={data!r} is not a dataset of training batches (e.g. sequence_dataset(...))")
    directory = Path(checkpoint_dir)
    directory.mkdir(parents=True, exist_ok=True)
    final, backup, log = directory / "model.keras", directory / "backup", directory / "history.csv"
    history = _read_history(log)
    done = len(history.get("loss", []))
    if final.exists() and done >= epochs and not backup.exists():
        return load_model(final), {**history, "initial_epoch": done, "resumed": True}
    initial_epoch = 0
    if done and final.exists() and not backup.exists():
        # a finished run asked for more epochs: go on from its model (BackupAndRestore has nothing)
        model, initial_epoch = load_model(final), done
    timer = _EpochSeconds()
    model.fit(data, epochs=epochs, initial_epoch=initial_epoch, validation_data=validation_data,
              verbose=2 if verbose else 0, shuffle=False,  # the datasets shuffle themselves
              callbacks=[timer, _BackupEvery(str(backup), every=save_every),
                         keras.callbacks.CSVLogger(log, append=True), *callbacks])
    if calibrate and hasattr(model, "calibrate"):
        model.calibrate(data if validation_data is None else validation_data)
    with atomic_write(final) as tmp:
        model.save(tmp)
    shutil.rmtree(backup, ignore_errors=True)
    return model, {**_read_history(log), "initial_epoch": epochs if timer.first is None else timer.first,
                   "resumed": False}


# --- generation to audio ---
def generate_audio(model, primes, rep, *, seconds: float, temperature: float = 1.0, guard=None, seed: int = 0,
                   inversion: dict | None = None, bpm: float | None = None,
                   prime_phases=None) -> tuple[list[np.ndarray], dict]:
    """Generate one clip per prime in a single batched roll-out, then invert each to audio.

    Parameters
    ----------
    model : NextFrameLSTM, NextFrameMLP, DilatedCNN or LSTMVAE
    primes : list of np.ndarray [shape=(n_prime_i, rep.n_features)]
        Frames to continue (representation units), cut to the shortest one's length.
    rep : Representation
    seconds : float
        Audio to generate per clip (after the prime).
    temperature, guard, seed :
        As :meth:`~_NextFrameModel.rollout`.
    inversion : dict, optional
        Keyword arguments for :func:`musiclib.generate.frames_to_audio`.
    bpm : float, optional
        For a model with a clock: the tempo of the clock that drives the roll-out.
    prime_phases : list of np.ndarray [shape=(n_prime_i, 4)], optional
        For a model with a clock: each prime's beat and bar phase, continued by
        :func:`musiclib.generate.continue_clock` (default: the primes start on a downbeat).

    Returns
    -------
    clips : list of np.ndarray [shape=(round(seconds * rep.sr),)], float32
        The generated audio only.
    timing : dict
        ``rollout_s``, ``inversion_s``, ``seconds`` (audio made) and ``rtf`` (real-time factor).
    """
    from musiclib.beats import clock as steady_clock
    from musiclib.generate import continue_clock, frames_to_audio

    if not np.isfinite(seconds) or seconds <= 0:
        raise ParameterError(f"seconds={seconds!r} must be a positive number")
    if isinstance(primes, np.ndarray) and primes.ndim == 2:
        primes = [primes]
    if len(primes) == 0:
        raise ParameterError("generate_audio() needs at least one prime")
    n_prime = min(len(p) for p in primes)
    batch = np.stack([np.asarray(p, dtype=np.float32)[len(p) - n_prime:] for p in primes])
    fps = rep.frames_per_second
    n_frames = int(math.ceil(seconds * fps)) + 1
    clock = None
    if bpm is not None:
        if prime_phases is None:
            prime_phases = [steady_clock(n_frames=n_prime, bpm=bpm, frames_per_second=fps)] * len(primes)
        if len(prime_phases) != len(primes):
            raise ParameterError(f"{len(prime_phases)} prime_phases for {len(primes)} primes")
        clock = np.stack([continue_clock(np.asarray(p)[len(p) - n_prime:], n_frames=n_frames, bpm=bpm,
                                         frames_per_second=fps) for p in prime_phases])
    length = int(round(seconds * rep.sr))
    t0 = time.perf_counter()
    frames = model.rollout(batch, n_frames=n_frames, temperature=temperature, guard=guard, seed=seed, clock=clock)
    t1 = time.perf_counter()
    clips = [frames_to_audio(f, rep, length=length, seed=seed, **(inversion or {})) for f in frames]
    t2 = time.perf_counter()
    made = seconds * len(clips)
    return clips, {"rollout_s": t1 - t0, "inversion_s": t2 - t1, "seconds": made, "rtf": made / (t2 - t0)}
