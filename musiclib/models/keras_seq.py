"""Keras sequence models for next-frame generation: LSTM, LSTM+VAE and a dilated causal CNN.

Three models that read a sequence of frames ``[shape=(batch, time, n_features)]`` and predict,
at every step, the frame that follows:

================= ============================================================================
model             what it is
================= ============================================================================
:class:`NextFrameLSTM`  stacked LSTM layers and a linear read-out (the one neural approach an
                        earlier experiment had working, on mel frames)
:class:`LSTMVAE`        per-frame encoder -> LSTM -> latent mean / log-variance -> sampled
                        latent -> decoder; a KL term keeps the latent near N(0, 1), and at
                        generation time the latent is sampled with standard deviation
                        ``temperature`` around its mean (0 = deterministic)
:class:`DilatedCNN`     causal 1-D convolutions with dilations 1, 2, 4, ... and frequency bins
                        as channels, with residual connections
================= ============================================================================

All three

- follow the package's model protocol: ``fit(X, Y)`` / ``predict(X)`` with ``X [shape=(n,
  context, n_features)]`` and ``Y [shape=(n, n_features)]`` (the next frame), and also train on
  whole sequences ``Y [shape=(n, time, n_features)]`` (the frame after each step), which is what
  :func:`sequence_dataset` feeds them;
- take and return frames in the representation's own units: a per-feature standardisation
  (:meth:`adapt`) is part of the model and saved with it, and the loss is computed on
  standardised frames so every feature weighs the same;
- generate with :meth:`rollout`: the whole roll-out is one compiled TensorFlow function (a
  ``tf.while_loop``, XLA where it works), the recurrent state or the convolution's recent inputs
  carried in the loop, with temperature, a stability guard evaluated inside the loop (the same
  formula as :class:`musiclib.generate.StabilityGuard`) and a counter-based random generator, so
  the same seed gives the same frames;
- (LSTM and CNN) sample their randomness from the model's own measured one-step errors
  (:meth:`~_NextFrameModel.calibrate`): whole error vectors drawn from a bank of held-out residuals,
  not independent Gaussian noise per feature (see "Why residual vectors" below);
- save and load in Keras' native format (``model.save("x.keras")``,
  ``keras.models.load_model``), and :func:`fit_with_checkpoints` resumes training from the last
  finished epoch.

Why residual vectors
--------------------
An MSE-trained next-frame model predicts the conditional *mean* of the next frame. Fed its own
output, an LSTM's deterministic roll-out falls into a fixed point within a second (measured on the
default corpus: frame-to-frame change 0.00 dB after 60 s), so all movement at generation time comes
from the noise that is added. Independent Gaussian noise per feature averages out across 128 mel
bands: the frame energy barely moves (its spread over the last 10 s of a 60 s clip was 2.0 dB
against 7.3 dB in real music), the spectral flux is high but flat, and the card calls it a drone.
The model's real errors are not like that: they are heavy-tailed and shared across bands (an
onset is a broadband jump the model could not predict). :meth:`~_NextFrameModel.calibrate` keeps
:data:`RESIDUAL_BANK_SIZE` of those error vectors, centred, and each roll-out step adds
``temperature`` times one of them, drawn by the counter-based generator -- a residual bootstrap.
At ``temperature=1`` the added noise has the model's own error distribution, band correlations
and tails included. :func:`fit_with_checkpoints` calibrates on the validation data when it is
given: an over-fitted model's training error (MSE 0.08 against 0.22 held out in ``notebooks/04``)
understates the error it meets when it reads its own output. ``noise="gaussian"`` gives the
earlier per-feature Gaussian noise (``temperature * residual_std * N(0, 1)``).

Models are built inside :func:`strategy`'s scope, so one GPU is used when present and several
through ``tf.distribute.MirroredStrategy`` without changes to the calling code.

Importing this module imports TensorFlow (``import musiclib`` does not).

Notebook: ``notebooks/04_lstm``.
"""

from __future__ import annotations

import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import functools  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from musiclib.errors import ParameterError  # noqa: E402

if keras.backend.backend() != "tensorflow":  # pragma: no cover - depends on the user's environment
    raise ImportError(
        f"musiclib.models.keras_seq needs Keras' TensorFlow backend, but KERAS_BACKEND={keras.backend.backend()!r}"
    )

__all__ = [
    "NextFrameLSTM",
    "LSTMVAE",
    "DilatedCNN",
    "make_lstm",
    "make_lstm_vae",
    "make_cnn",
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
#: The roll-out noise of the LSTM and the CNN: ``"residuals"`` (default) adds ``temperature`` times an
#: error vector drawn from the calibration residuals; ``"gaussian"`` adds ``temperature *
#: residual_std * N(0, 1)``, independently per feature.
NOISE_KINDS = ("residuals", "gaussian")

_PACKAGE = "musiclib"


# ---------------------------------------------------------------------------------------------
# devices, seeds
# ---------------------------------------------------------------------------------------------
def strategy():
    """The distribution strategy models are built under.

    ``tf.distribute.MultiWorkerMirroredStrategy`` when ``TF_CONFIG`` names several workers (one
    process per machine, see the README, "Outgrowing one machine"), else
    ``tf.distribute.MirroredStrategy`` over all GPUs when there is more than one, else the default
    strategy (one GPU when present, else the CPU). The ``make_*`` builders and
    :func:`fit_with_checkpoints` use it, so notebook code does not change with the hardware. Made
    once per process (TensorFlow allows one multi-worker strategy, created before other ops), so
    importing this module makes it when ``TF_CONFIG`` is set (import it before other TensorFlow
    work). Pair it with :func:`shard_by_worker` on the data.

    Raises
    ------
    ParameterError
        ``TF_CONFIG`` is set but is not JSON with a ``cluster`` mapping.
    """
    if _n_tf_config_workers() > 1:
        kind = "multi_worker"
    elif len(tf.config.list_logical_devices("GPU")) > 1:
        kind = "mirrored"
    else:
        return tf.distribute.get_strategy()
    if kind not in _STRATEGIES:
        _STRATEGIES[kind] = _MultiWorkerMirroredStrategy() if kind == "multi_worker" else tf.distribute.MirroredStrategy()
    return _STRATEGIES[kind]


_STRATEGIES: dict = {}


class _MultiWorkerMirroredStrategy(tf.distribute.MultiWorkerMirroredStrategy):
    """``MultiWorkerMirroredStrategy`` whose ``reduce`` takes what Keras 3's ``fit`` gives it.

    Keras 3 (keras-team/keras#20585) reduces a whole ``(x, y)`` batch in one call before it builds
    the model, and the per-step losses (scalars) along ``axis=0``; TensorFlow's multi-worker
    ``reduce`` refuses both. Here each value of a nest is reduced on its own, a scalar across
    replicas only.
    """

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


def _strategy_at_import():
    """Make the multi-worker strategy now, when ``TF_CONFIG`` names several workers: TensorFlow needs it
    before any other TensorFlow work (:func:`set_seed`, for one, lists the devices)."""
    try:
        if _n_tf_config_workers() > 1:
            strategy()
    except ParameterError:  # a malformed TF_CONFIG is reported by strategy() when it is called
        pass


_strategy_at_import()


def shard_by_worker(dataset):
    """``dataset`` set to be split by worker when a model trains under :func:`strategy`.

    Every worker builds the same, identically seeded dataset of *global* batches; under a
    multi-worker strategy each one then trains on its own part of every global batch (tf.data's
    ``DATA`` auto-shard policy), so one step sees the same examples as a single process would.
    Without several workers the dataset is unchanged.

    Parameters
    ----------
    dataset : tf.data.Dataset
        Batches of the global batch size, e.g. from :func:`sequence_dataset` with
        ``drop_remainder=True`` (a smaller last batch splits unevenly between workers).

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

    ``deterministic`` switches on TensorFlow's op determinism, so training and generation give the
    same numbers for the same seed; default: on when there is no GPU (on a GPU it costs speed, and
    ops without a deterministic GPU kernel would raise). The roll-outs are deterministic for a seed
    either way (their noise is counter-based).
    """
    keras.utils.set_random_seed(int(seed))
    if deterministic is None:
        deterministic = not tf.config.list_logical_devices("GPU")
    if deterministic:
        tf.config.experimental.enable_op_determinism()


# ---------------------------------------------------------------------------------------------
# small helpers used by the models and the compiled roll-outs
# ---------------------------------------------------------------------------------------------
def _check_units(name, units) -> tuple[int, ...]:
    if isinstance(units, (int, np.integer)):
        units = (int(units),)
    units = tuple(units)
    if not units or any(isinstance(u, bool) or not isinstance(u, (int, np.integer)) or u < 1 for u in units):
        raise ParameterError(f"{name}={units!r} must be a positive integer or a non-empty list of them")
    return tuple(int(u) for u in units)


def _check_positive_int(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ParameterError(f"{name}={value!r} must be a positive integer")
    return int(value)


def _bucket(n: int, *, minimum: int = 16) -> int:
    """``n`` rounded up to a power of two (at least ``minimum``): the compiled roll-outs' shapes."""
    return max(minimum, 1 << (int(n) - 1).bit_length())


def _dense(layer, x):
    """A Keras ``Dense`` layer's mathematics on a 2-D tensor, for use inside compiled loops."""
    y = tf.matmul(x, layer.kernel.value)
    if layer.use_bias:
        y = y + layer.bias.value
    return layer.activation(y)


def _lstm_weights(cell):
    """A Keras ``LSTMCell``'s input and recurrent kernels stacked, so a step is one matrix product."""
    w = tf.concat([cell.kernel.value, cell.recurrent_kernel.value], axis=0)
    b = cell.bias.value if cell.use_bias else tf.zeros((4 * cell.units,))
    return w, b


def _lstm_step(cell, weights, x, h, c):
    """One step of a Keras ``LSTMCell`` (gate order i, f, c, o) on 2-D tensors."""
    w, b = weights
    z = tf.matmul(tf.concat([x, h], axis=-1), w) + b
    zi, zf, zc, zo = tf.split(z, 4, axis=-1)
    i = cell.recurrent_activation(zi)
    f = cell.recurrent_activation(zf)
    c = f * c + i * cell.activation(zc)
    o = cell.recurrent_activation(zo)
    return o * cell.activation(c), c


# ---------------------------------------------------------------------------------------------
# stability guard, inside the compiled loop
# ---------------------------------------------------------------------------------------------
_LN10_10 = math.log(10.0) / 10.0
_GUARD_DOMAINS = ("db", "log1p", "magnitude", "signed")


def guard_parameters(guard, n_features: int) -> tuple[tuple, dict]:
    """Split a :class:`musiclib.generate.StabilityGuard` into what shapes the compiled loop and its numbers.

    Returns ``(spec, values)``: ``spec`` is hashable and static (``domain``, which per-feature bounds
    exist; ``()`` for no guard or a disabled one), ``values`` a dict of float32 arrays (``low``,
    ``high``, ``knee``, ``feature_low``, ``feature_high``, ``feature_knee``, ``log1p_gain``).
    """
    if guard is None or not getattr(guard, "enabled", True):
        return (), {}
    try:
        domain = guard.domain
        values = {k: np.float32(getattr(guard, k)) for k in ("low", "high", "knee", "feature_knee", "log1p_gain")}
        bounds = {k: getattr(guard, k) for k in ("feature_low", "feature_high")}
    except AttributeError:
        raise ParameterError(f"guard={guard!r} is not a musiclib.generate.StabilityGuard") from None
    if domain not in _GUARD_DOMAINS:
        raise ParameterError(f"guard.domain={domain!r} must be one of {_GUARD_DOMAINS}")
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
    """TensorFlow version of :class:`musiclib.generate.StabilityGuard`, for compiled roll-outs.

    The same formula, term for term (see that class): a smooth frame gain from a soft limit on the
    frame's energy in dB, then soft per-feature bounds.

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
        g = _soft_limit(e, low=v["low"], high=v["high"], knee=v["knee"]) - e
        x = x + g[:, None]
        return _soft_limit(x, low=flo, high=fhi, knee=v["feature_knee"])
    if domain == "log1p":
        mag = tf.math.expm1(tf.maximum(x, 0.0))
        e = 10.0 * _log10(tf.reduce_mean(tf.square(mag / v["log1p_gain"]), axis=1) + 1e-20)
        g = _soft_limit(e, low=v["low"], high=v["high"], knee=v["knee"]) - e
        x = tf.math.log1p(mag * tf.pow(10.0, g / 20.0)[:, None])
        return _soft_limit(x, low=flo, high=fhi, knee=v["feature_knee"])
    # magnitude, signed
    e = 10.0 * _log10(tf.reduce_mean(tf.square(x), axis=1) + 1e-20)
    g = _soft_limit(e, low=v["low"], high=v["high"], knee=v["knee"]) - e
    x = x * tf.pow(10.0, g / 20.0)[:, None]
    if fhi is not None:
        lv = 20.0 * _log10(tf.abs(x) + 1e-20)
        x = x * tf.pow(10.0, (_soft_limit(lv, high=fhi, knee=v["feature_knee"]) - lv) / 20.0)
    return x


# ---------------------------------------------------------------------------------------------
# the models
# ---------------------------------------------------------------------------------------------
class _NextFrameModel(keras.Model):
    """What the three models share: standardisation, losses, protocol, compiled roll-out.

    Subclasses implement ``_forward(xn, training) -> (pred_n, extras)`` on standardised frames
    ``[shape=(batch, time, n_features)]`` and the roll-out pieces ``_initial_state(batch)`` and
    ``_step(xn, state, temperature, noise_seed, weights) -> (pred_n, state)``, where ``weights`` is
    what ``_step_weights()`` returns (computed once, outside the loop).
    """

    def __init__(self, n_features, *, noise="residuals", name=None, **kwargs):
        super().__init__(name=name, **kwargs)
        self.n_features = _check_positive_int("n_features", n_features)
        if noise not in NOISE_KINDS:
            raise ParameterError(f"noise={noise!r} must be one of {NOISE_KINDS}")
        self.noise = noise
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self._rollout_fns = None

    # -- weights --------------------------------------------------------------------------------
    def build(self, input_shape=None):
        if self.built:
            return
        F = self.n_features
        self.feature_mean = self.add_weight(shape=(F,), initializer="zeros", trainable=False, name="feature_mean")
        self.feature_std = self.add_weight(shape=(F,), initializer="ones", trainable=False, name="feature_std")
        # standard deviation of the one-step prediction error (standardised units), for temperature
        self.residual_std = self.add_weight(shape=(F,), initializer="ones", trainable=False, name="residual_std")
        if self._uses_bank:
            # centred one-step error vectors (standardised units) that the roll-out draws from; until
            # calibrate() fills it, seeded N(0, 1) draws (the same noise as an uncalibrated Gaussian)
            self.residual_bank = self.add_weight(
                shape=(RESIDUAL_BANK_SIZE, F), initializer=keras.initializers.RandomNormal(seed=0), trainable=False,
                name="residual_bank")
        self._forward(tf.zeros((1, 2, F)), training=False)  # builds every sub-layer
        self.built = True

    def adapt(self, frames) -> "_NextFrameModel":
        """Set the per-feature mean and standard deviation from training frames.

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
        self.build()
        mean = frames.mean(axis=0)
        std = frames.std(axis=0)
        # features that never move would divide by zero; give them the median spread instead
        floor = max(float(np.median(std)) * 1e-2, 1e-6)
        self.feature_mean.assign(mean)
        self.feature_std.assign(np.maximum(std, floor))
        return self

    def _normalize(self, x):
        return (x - self.feature_mean) / self.feature_std

    def _denormalize(self, xn):
        return xn * self.feature_std + self.feature_mean

    def _check_frames(self, x, what, *, ndim):
        shape = np.shape(x)
        if len(shape) != ndim or shape[-1] != self.n_features:
            want = "(n_frames, n_features)" if ndim == 2 else "(n, time, n_features)"
            raise ParameterError(
                f"{type(self).__name__}.{what}() needs an array of shape {want} with "
                f"n_features={self.n_features}, got shape {shape}"
            )

    # -- forward pass and losses ----------------------------------------------------------------
    def call(self, x, training=False):
        """Next-frame predictions at every step ``[shape=(batch, time, n_features)]``, in frame units."""
        pred_n, _ = self._forward(self._normalize(x), training=training)
        return self._denormalize(pred_n)

    def _step_losses(self, x, y, training):
        pred_n, extras = self._forward(self._normalize(x), training=training)
        yn = self._normalize(y)
        if y.shape.rank == 2:  # (batch, n_features): the frame after the last step only
            pred_n = pred_n[:, -1]
        reconstruction = tf.reduce_mean(tf.square(yn - pred_n))
        return {"loss": reconstruction, "reconstruction_loss": reconstruction}

    @property
    def metrics(self):
        return [self.loss_tracker]

    def _update(self, losses):
        for m in self.metrics:
            m.update_state(losses[m.name])
        return {m.name: m.result() for m in self.metrics}

    def train_step(self, data):
        x, y, _ = keras.utils.unpack_x_y_sample_weight(data)
        with tf.GradientTape() as tape:
            losses = self._step_losses(x, y, training=True)
            # gradients are summed over replicas under MirroredStrategy: average instead
            scaled = losses["loss"] / tf.distribute.get_strategy().num_replicas_in_sync
        grads = tape.gradient(scaled, self.trainable_weights)
        self.optimizer.apply_gradients(zip(grads, self.trainable_weights))
        return self._update(losses)

    def test_step(self, data):
        x, y, _ = keras.utils.unpack_x_y_sample_weight(data)
        return self._update(self._step_losses(x, y, training=False))

    def predict_step(self, data):
        x, _, _ = keras.utils.unpack_x_y_sample_weight(data)
        return self(x, training=False)[:, -1]

    # -- scikit-learn style protocol ------------------------------------------------------------
    def predict(self, x, batch_size=256, verbose=0, **kwargs):
        """The frame after each context ``[shape=(n, n_features)]`` for ``x [shape=(n, context, n_features)]``."""
        x = np.asarray(x, dtype=np.float32)
        if x.ndim == 2 and x.shape[1] % self.n_features == 0 and x.shape[1] > 0:  # flattened (n, context * F)
            x = x.reshape(len(x), -1, self.n_features)
        self._check_frames(x, "predict", ndim=3)
        return np.asarray(super().predict(x, batch_size=batch_size, verbose=verbose, **kwargs))

    def calibrate(self, dataset, *, max_batches: int = 50, seed: int = 0) -> np.ndarray:
        """Measure the model's one-step errors (standardised units), which the roll-out's noise copies.

        Sets ``residual_std``, the per-feature standard deviation of the error, and (LSTM, CNN)
        fills ``residual_bank`` with :data:`RESIDUAL_BANK_SIZE` centred error vectors drawn, with a
        seeded generator, from all steps of the first ``max_batches`` batches. :meth:`rollout` adds
        ``temperature`` times one of them to each frame (``noise="residuals"``) or ``temperature *
        residual_std * N(0, 1)`` (``noise="gaussian"``), so ``temperature=1`` adds errors as large as
        the model's own on ``dataset``. Calibrate on held-out data where there is any: a model's
        error on its training data understates the error it makes on its own output. Returns
        ``residual_std``.
        """
        self.build()
        total = np.zeros(self.n_features)
        total_sq = np.zeros(self.n_features)
        count = 0
        rng = np.random.default_rng(seed)
        kept = []  # a random subset of each batch's error vectors, at most a bank's worth
        for i, (x, y) in enumerate(dataset):
            if i >= max_batches:
                break
            pred_n, _ = self._forward(self._normalize(x), training=False)
            yn = self._normalize(y)
            if len(y.shape) == 2:
                pred_n = pred_n[:, -1]
            r = tf.reshape(yn - pred_n, (-1, self.n_features)).numpy().astype(np.float64)
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
    @property
    def n_context_(self) -> int:
        """The fewest prime frames a roll-out needs (1: the models take any context length)."""
        return 1

    @property
    def receptive_field(self) -> int | None:
        """How many past frames a prediction can depend on (``None``: unbounded, recurrent)."""
        return None

    def rollout(self, prime, *, n_frames: int, temperature: float = 1.0, guard=None, seed: int = 0,
                jit_compile: bool | None = None, scaler=None, **_ignored) -> np.ndarray:
        """Generate ``n_frames`` frames after ``prime`` with one compiled TensorFlow loop.

        The loop first runs through the prime (building the recurrent state, or the convolution's
        recent inputs), then feeds each generated frame back in. Each step's noise comes from a
        counter-based generator keyed by ``(seed, step)``, so a seed always gives the same frames.

        Parameters
        ----------
        prime : np.ndarray [shape=(n_prime, n_features)] or [shape=(n_clips, n_prime, n_features)]
            Frames to continue, in the representation's units (a batch makes several clips at once).
        n_frames : int
            How many frames to generate after the prime.
        temperature : float
            LSTM and CNN: ``temperature`` times one of the model's own one-step error vectors
            (drawn from the bank :meth:`calibrate` fills; ``noise="gaussian"``: Gaussian noise of
            ``temperature`` times the error's per-feature standard deviation) is added to each
            predicted frame. LSTM+VAE: the latent is sampled
            with standard deviation ``temperature`` around its mean. ``0`` is deterministic.
        guard : musiclib.generate.StabilityGuard, optional
            Keeps the roll-out within the training data's energy range: the same formula, applied
            to every generated frame inside the compiled loop (:func:`apply_guard`).
        seed : int
            Seed of the noise.
        jit_compile : bool, optional
            Compile with XLA (default: on the CPU and GPU alike; ``False`` for plain graph mode,
            which is slower and draws a different, equally deterministic, random stream).
        scaler : optional
            What :func:`musiclib.generate.rollout` passes on; these models standardise frames
            themselves, so it must be ``None`` when a guard is used.

        Returns
        -------
        frames : np.ndarray [shape=(n_frames, n_features)] or [shape=(n_clips, n_frames, n_features)]
            The generated frames only (not the prime), float32.
        """
        prime = np.asarray(prime, dtype=np.float32)
        single = prime.ndim == 2
        if single:
            prime = prime[None]
        self._check_frames(prime, "rollout", ndim=3)
        if prime.shape[1] < 1:
            raise ParameterError("rollout() needs a prime of at least one frame, got 0")
        n_frames = _check_positive_int("n_frames", n_frames)
        if not np.isfinite(temperature) or temperature < 0:
            raise ParameterError(f"rollout() temperature={temperature!r} must be a finite number >= 0")
        if not np.all(np.isfinite(prime)):
            raise ParameterError("rollout() got NaN or infinite values in prime")
        self.build()
        spec, values = guard_parameters(guard, self.n_features)
        if spec and scaler is not None:
            raise ParameterError(
                f"{type(self).__name__}.rollout() standardises frames itself: give it frames in the "
                "representation's units and no scaler, so the guard sees those units"
            )
        jit = True if jit_compile is None else bool(jit_compile)
        # the receptive field of a convolution bounds how much of a long prime matters
        rf = self.receptive_field
        if rf is not None and prime.shape[1] > rf:
            prime = prime[:, -rf:]
        # shapes are rounded up to powers of two so that a notebook's many lengths share a few
        # compilations: the prime is padded in front (the loop starts at the first real frame)
        # and the output buffer is cut to n_frames
        n_prime = prime.shape[1]
        prime_size, out_size = _bucket(n_prime), _bucket(n_frames)
        padded = np.zeros((prime.shape[0], prime_size, self.n_features), dtype=np.float32)
        padded[:, prime_size - n_prime:] = prime
        fn = self._rollout_function(jit, spec, out_size)
        out = fn(
            tf.constant(padded),
            tf.constant(prime_size - n_prime, dtype=tf.int32),
            tf.constant(n_frames, dtype=tf.int32),
            tf.constant(float(temperature), dtype=tf.float32),
            tf.constant(int(seed) % (2**31 - 1), dtype=tf.int32),
            {k: tf.constant(v) for k, v in values.items()},
        ).numpy()[:, :n_frames]
        return out[0] if single else out

    def _rollout_function(self, jit, guard_spec, out_size):
        if self._rollout_fns is None:
            object.__setattr__(self, "_rollout_fns", {})
        key = (jit, guard_spec, out_size)
        if key not in self._rollout_fns:
            self._rollout_fns[key] = tf.function(
                functools.partial(self._rollout_graph, guard_spec=guard_spec, out_size=out_size, jit=jit),
                jit_compile=jit, reduce_retracing=True,
            )
        return self._rollout_fns[key]

    def _rollout_graph(self, prime, start, n_frames, temperature, seed, guard, *, guard_spec, out_size, jit):
        batch = tf.shape(prime)[0]
        n_prime = tf.shape(prime)[1]
        F = self.n_features
        prime_n = self._normalize(prime)
        weights = self._step_weights()
        bank = self.residual_bank.value if self._uses_bank else None

        # 1. run through the prime: only the state matters
        def prime_body(t, state):
            _, state = self._step(prime_n[:, t], state, 0.0, tf.stack([seed, -1]), weights)
            return t + 1, state

        _, state = tf.while_loop(lambda t, _: t < n_prime - 1, prime_body,
                                 (start, self._initial_state(batch)))

        # 2. generate, feeding each (noisy, guarded) frame back in
        out = tf.TensorArray(tf.float32, size=out_size, element_shape=tf.TensorShape([None, F]))

        def body(i, x, state, out):
            step_seed = tf.stack([seed, i])
            pred_n, state = self._step(x, state, temperature, step_seed, weights)
            if bank is not None:  # residual bootstrap: one whole error vector per clip and step
                pick = tf.random.stateless_uniform(tf.shape(pred_n)[:1], seed=step_seed, minval=0,
                                                   maxval=RESIDUAL_BANK_SIZE, dtype=tf.int32, alg="philox")
                pred_n = pred_n + temperature * tf.gather(bank, pick)
            elif self._noise_in_frames:
                noise = tf.random.stateless_normal(tf.shape(pred_n), seed=step_seed, alg="philox")
                pred_n = pred_n + temperature * self.residual_std * noise
            frame = apply_guard(self._denormalize(pred_n), guard_spec, guard)
            return i + 1, self._normalize(frame), state, out.write(i, frame)

        _, _, _, out = tf.while_loop(
            lambda i, *_: i < n_frames, body, (tf.constant(0), prime_n[:, -1], state, out),
        )
        # XLA needs static shapes: stack the whole buffer (the slots after n_frames were never
        # written and hold zeros; rollout() cuts them); plain graph mode reads the written ones
        stacked = out.stack() if jit else out.gather(tf.range(n_frames))
        return tf.transpose(stacked, (1, 0, 2))

    #: whether :meth:`rollout` adds noise to each predicted frame (else the model samples it inside)
    _noise_in_frames = True

    @property
    def _uses_bank(self) -> bool:
        return self._noise_in_frames and self.noise == "residuals"


@keras.saving.register_keras_serializable(package=_PACKAGE)
class NextFrameLSTM(_NextFrameModel):
    """Stacked LSTM layers and a linear read-out that predict the next frame.

    Parameters
    ----------
    n_features : int
        Features per frame (``rep.n_features``).
    units : int or sequence of int
        Units of each LSTM layer, bottom first (``(128, 128)`` = two layers of 128).
    dropout : float
        Dropout on each LSTM layer's output during training.
    noise : {"residuals", "gaussian"}
        The roll-out's noise: the model's own one-step error vectors (default) or independent
        Gaussian noise per feature (see the module's "Why residual vectors").

    Examples
    --------
    >>> model = make_lstm(128, units=(128, 128))             # doctest: +SKIP
    >>> model.adapt(train_frames)                            # doctest: +SKIP
    >>> model.fit(sequence_dataset(tracks, window=64), epochs=5)  # doctest: +SKIP
    >>> frames = model.rollout(prime, n_frames=860, temperature=0.5, seed=0)  # doctest: +SKIP
    """

    def __init__(self, n_features, *, units=(128, 128), dropout=0.0, noise="residuals", name=None, **kwargs):
        super().__init__(n_features, noise=noise, name=name, **kwargs)
        self.units = _check_units("units", units)
        if not 0 <= dropout < 1:
            raise ParameterError(f"dropout={dropout!r} must lie in [0, 1)")
        self.dropout = float(dropout)
        self.lstms = [keras.layers.LSTM(u, return_sequences=True, name=f"lstm_{i}") for i, u in enumerate(self.units)]
        self.drops = [keras.layers.Dropout(self.dropout) for _ in self.units]
        self.readout = keras.layers.Dense(self.n_features, name="readout")

    def get_config(self):
        return {"n_features": self.n_features, "units": list(self.units), "dropout": self.dropout, "noise": self.noise,
                "name": self.name}

    def _forward(self, xn, training=False):
        h = xn
        for lstm, drop in zip(self.lstms, self.drops):
            h = drop(lstm(h, training=training), training=training)
        return self.readout(h), {}

    def _initial_state(self, batch):
        return [(tf.zeros((batch, u)), tf.zeros((batch, u))) for u in self.units]

    def _step_weights(self):
        return [_lstm_weights(lstm.cell) for lstm in self.lstms]

    def _step(self, xn, state, temperature, noise_seed, weights):
        h = xn
        new_state = []
        for lstm, w, (hp, cp) in zip(self.lstms, weights, state):
            h, c = _lstm_step(lstm.cell, w, h, hp, cp)
            new_state.append((h, c))
        return _dense(self.readout, h), new_state


@keras.saving.register_keras_serializable(package=_PACKAGE)
class LSTMVAE(_NextFrameModel):
    """LSTM with a variational latent: per-frame encoder -> LSTM -> latent -> decoder -> next frame.

    Each frame is encoded by dense layers, an LSTM runs over the encodings, and its output gives
    the mean and log-variance of a latent ``z``; a sample of ``z`` is decoded into the next frame.
    Training minimises ``MSE + beta * KL / n_features`` (standardised frames; KL of the latent to
    N(0, 1), summed over latent dimensions and averaged over steps), with both parts tracked as
    metrics. At generation time ``z = mean + temperature * N(0, 1)``: the temperature is the
    latent's standard deviation.

    Parameters
    ----------
    n_features : int
    encoder_units, units, decoder_units : int or sequence of int
        Dense encoder layers, LSTM layers, dense decoder layers.
    latent_dim : int
    beta : float
        Weight of the KL term.
    """

    _noise_in_frames = False

    def __init__(self, n_features, *, encoder_units=(256,), units=(256,), latent_dim=32, decoder_units=(256,),
                 beta=1.0, name=None, **kwargs):
        super().__init__(n_features, name=name, **kwargs)
        self.encoder_units = _check_units("encoder_units", encoder_units)
        self.units = _check_units("units", units)
        self.decoder_units = _check_units("decoder_units", decoder_units)
        self.latent_dim = _check_positive_int("latent_dim", latent_dim)
        if not np.isfinite(beta) or beta < 0:
            raise ParameterError(f"beta={beta!r} must be a finite number >= 0")
        self.beta = float(beta)
        self.encoder = [keras.layers.Dense(u, activation="relu", name=f"encoder_{i}")
                        for i, u in enumerate(self.encoder_units)]
        self.lstms = [keras.layers.LSTM(u, return_sequences=True, name=f"lstm_{i}") for i, u in enumerate(self.units)]
        self.z_mean = keras.layers.Dense(self.latent_dim, name="z_mean")
        self.z_log_var = keras.layers.Dense(self.latent_dim, name="z_log_var")
        self.decoder = [keras.layers.Dense(u, activation="relu", name=f"decoder_{i}")
                        for i, u in enumerate(self.decoder_units)]
        self.readout = keras.layers.Dense(self.n_features, name="readout")
        self.reconstruction_tracker = keras.metrics.Mean(name="reconstruction_loss")
        self.kl_tracker = keras.metrics.Mean(name="kl_loss")
        self._sample_seed = keras.random.SeedGenerator(0)

    def get_config(self):
        return {
            "n_features": self.n_features, "encoder_units": list(self.encoder_units), "units": list(self.units),
            "latent_dim": self.latent_dim, "decoder_units": list(self.decoder_units), "beta": self.beta,
            "name": self.name,
        }

    @property
    def metrics(self):
        return [self.loss_tracker, self.reconstruction_tracker, self.kl_tracker]

    def _decode(self, z):
        h = z
        for layer in self.decoder:
            h = layer(h)
        return self.readout(h)

    def _forward(self, xn, training=False):
        h = xn
        for layer in self.encoder:
            h = layer(h)
        for lstm in self.lstms:
            h = lstm(h, training=training)
        mean = self.z_mean(h)
        log_var = tf.clip_by_value(self.z_log_var(h), -20.0, 10.0)
        if training:
            z = mean + tf.exp(0.5 * log_var) * keras.random.normal(tf.shape(mean), seed=self._sample_seed)
        else:
            z = mean
        return self._decode(z), {"mean": mean, "log_var": log_var}

    def _step_losses(self, x, y, training):
        pred_n, extras = self._forward(self._normalize(x), training=training)
        yn = self._normalize(y)
        mean, log_var = extras["mean"], extras["log_var"]
        if y.shape.rank == 2:
            pred_n, mean, log_var = pred_n[:, -1], mean[:, -1], log_var[:, -1]
        reconstruction = tf.reduce_mean(tf.square(yn - pred_n))
        kl = tf.reduce_mean(tf.reduce_sum(-0.5 * (1 + log_var - tf.square(mean) - tf.exp(log_var)), axis=-1))
        loss = reconstruction + self.beta * kl / self.n_features
        return {"loss": loss, "reconstruction_loss": reconstruction, "kl_loss": kl}

    def _initial_state(self, batch):
        return [(tf.zeros((batch, u)), tf.zeros((batch, u))) for u in self.units]

    def _step_weights(self):
        return [_lstm_weights(lstm.cell) for lstm in self.lstms]

    def _step(self, xn, state, temperature, noise_seed, weights):
        h = xn
        for layer in self.encoder:
            h = _dense(layer, h)
        new_state = []
        for lstm, w, (hp, cp) in zip(self.lstms, weights, state):
            h, c = _lstm_step(lstm.cell, w, h, hp, cp)
            new_state.append((h, c))
        mean = _dense(self.z_mean, h)
        z = mean + temperature * tf.random.stateless_normal(tf.shape(mean), seed=noise_seed, alg="philox")
        h = z
        for layer in self.decoder:
            h = _dense(layer, h)
        return _dense(self.readout, h), new_state


@keras.saving.register_keras_serializable(package=_PACKAGE)
class DilatedCNN(_NextFrameModel):
    """Dilated causal 1-D convolutions over time with frequency bins as channels.

    A 1x1 convolution maps each frame's ``n_features`` bins to ``filters`` channels; each residual
    block adds ``Dense(Conv1D(filters, kernel_size, dilation, causal, relu))`` to its input; a 1x1
    convolution reads out the next frame. With dilations ``1, 2, 4, ...`` the receptive field
    grows exponentially with depth: ``1 + (kernel_size - 1) * sum(dilations)`` frames.

    Parameters
    ----------
    n_features : int
    filters : int
        Channels inside the network.
    kernel_size : int
    dilations : sequence of int
        One residual block per dilation.
    noise : {"residuals", "gaussian"}
        As :class:`NextFrameLSTM`.
    """

    def __init__(self, n_features, *, filters=128, kernel_size=2, dilations=(1, 2, 4, 8, 16, 32),
                 noise="residuals", name=None, **kwargs):
        super().__init__(n_features, noise=noise, name=name, **kwargs)
        self.filters = _check_positive_int("filters", filters)
        self.kernel_size = _check_positive_int("kernel_size", kernel_size)
        self.dilations = _check_units("dilations", dilations)
        self.inp = keras.layers.Dense(self.filters, name="input_projection")
        self.convs = [
            keras.layers.Conv1D(self.filters, self.kernel_size, dilation_rate=d, padding="causal", activation="relu",
                                name=f"conv_{i}")
            for i, d in enumerate(self.dilations)
        ]
        self.projs = [keras.layers.Dense(self.filters, name=f"residual_{i}") for i in range(len(self.dilations))]
        self.readout = keras.layers.Dense(self.n_features, name="readout")

    def get_config(self):
        return {"n_features": self.n_features, "filters": self.filters, "kernel_size": self.kernel_size,
                "dilations": list(self.dilations), "noise": self.noise, "name": self.name}

    @property
    def receptive_field(self) -> int:
        return 1 + (self.kernel_size - 1) * sum(self.dilations)

    def _forward(self, xn, training=False):
        h = self.inp(xn)
        for conv, proj in zip(self.convs, self.projs):
            h = h + proj(conv(h))
        return self.readout(h), {}

    def _initial_state(self, batch):
        # each block keeps the last (kernel_size - 1) * dilation + 1 inputs it has seen
        return [tf.zeros((batch, (self.kernel_size - 1) * d + 1, self.filters)) for d in self.dilations]

    def _step_weights(self):
        # a causal convolution's output at t is one matrix product of its k taps, side by side
        return [tf.reshape(conv.kernel.value, (self.kernel_size * self.filters, self.filters)) for conv in self.convs]

    def _step(self, xn, state, temperature, noise_seed, weights):
        h = _dense(self.inp, xn)
        new_state = []
        for conv, proj, d, buf, w in zip(self.convs, self.projs, self.dilations, state, weights):
            buf = tf.concat([buf[:, 1:], h[:, None]], axis=1)
            taps = tf.reshape(buf[:, ::d], (-1, self.kernel_size * self.filters))  # inputs at t - (k-1-i) d
            z = tf.matmul(taps, w)
            if conv.use_bias:
                z = z + conv.bias.value
            h = h + _dense(proj, conv.activation(z))
            new_state.append(buf)
        return _dense(self.readout, h), new_state


# ---------------------------------------------------------------------------------------------
# builders (inside the distribution strategy)
# ---------------------------------------------------------------------------------------------
def _make(cls, n_features, *, learning_rate, clipnorm, **params):
    with strategy().scope():
        model = cls(n_features, **params)
        model.build((None, None, n_features))
        model.compile(optimizer=keras.optimizers.Adam(learning_rate=learning_rate, clipnorm=clipnorm))
    return model


def make_lstm(n_features: int, *, units=(128, 128), dropout: float = 0.0, noise: str = "residuals",
              learning_rate: float = 1e-3, clipnorm: float | None = 1.0) -> NextFrameLSTM:
    """A compiled :class:`NextFrameLSTM`, built under :func:`strategy` (Adam optimiser)."""
    return _make(NextFrameLSTM, n_features, units=units, dropout=dropout, noise=noise, learning_rate=learning_rate,
                 clipnorm=clipnorm)


def make_lstm_vae(n_features: int, *, encoder_units=(256,), units=(256,), latent_dim: int = 32,
                  decoder_units=(256,), beta: float = 1.0, learning_rate: float = 1e-3,
                  clipnorm: float | None = 1.0) -> LSTMVAE:
    """A compiled :class:`LSTMVAE`, built under :func:`strategy` (Adam optimiser)."""
    return _make(LSTMVAE, n_features, encoder_units=encoder_units, units=units, latent_dim=latent_dim,
                 decoder_units=decoder_units, beta=beta, learning_rate=learning_rate, clipnorm=clipnorm)


def make_cnn(n_features: int, *, filters: int = 128, kernel_size: int = 2, dilations=(1, 2, 4, 8, 16, 32),
             noise: str = "residuals", learning_rate: float = 1e-3, clipnorm: float | None = 1.0) -> DilatedCNN:
    """A compiled :class:`DilatedCNN`, built under :func:`strategy` (Adam optimiser)."""
    return _make(DilatedCNN, n_features, filters=filters, kernel_size=kernel_size, dilations=dilations, noise=noise,
                 learning_rate=learning_rate, clipnorm=clipnorm)


def load_model(path):
    """Load a model saved with ``model.save(path)`` (Keras' native ``.keras`` format), under :func:`strategy`."""
    path = Path(path)
    if not path.exists():
        raise ParameterError(f"load_model(): {path} does not exist")
    with strategy().scope():
        return keras.models.load_model(path)


# ---------------------------------------------------------------------------------------------
# data: per-file frames (musiclib.framing.load_frames, through the feature cache) -> tf.data
# ---------------------------------------------------------------------------------------------
def sequence_dataset(tracks, *, window: int = 64, batch_size: int = 32, hop: int | None = None,
                     shuffle: bool = True, seed: int = 0, drop_remainder: bool = False):
    """A ``tf.data.Dataset`` of ``(x, y)`` sequence pairs cut from tracks of frames.

    ``x`` is ``window`` consecutive frames and ``y`` the same frames one step later, both
    ``[shape=(batch, window, n_features)]``, so a model learns the next frame at every step. Windows
    never cross from one track into the next.

    Parameters
    ----------
    tracks : list of np.ndarray [shape=(n_frames_i, n_features)]
        E.g. from :func:`musiclib.framing.load_frames`. Tracks shorter than ``window + 1`` frames are skipped.
    window : int
        Frames per training sequence.
    batch_size : int
    hop : int, optional
        Frames between window starts (default ``window // 2``).
    shuffle : bool
        Shuffle the windows every epoch (seeded).
    seed : int
    drop_remainder : bool
        Drop the last, smaller batch.
    """
    window = _check_positive_int("window", window)
    batch_size = _check_positive_int("batch_size", batch_size)
    hop = max(1, window // 2) if hop is None else _check_positive_int("hop", hop)
    if isinstance(tracks, np.ndarray) and tracks.ndim == 2:
        tracks = [tracks]
    tracks = [np.asarray(t, dtype=np.float32) for t in tracks]
    if not tracks or any(t.ndim != 2 for t in tracks) or len({t.shape[1] for t in tracks}) != 1:
        raise ParameterError(
            f"sequence_dataset() needs a non-empty list of (n_frames, n_features) arrays with the same n_features, "
            f"got shapes {[t.shape for t in tracks]}"
        )
    starts, offset = [], 0
    for t in tracks:
        if len(t) >= window + 1:
            starts.append(offset + np.arange(0, len(t) - window, hop))
        offset += len(t)
    if not starts:
        raise ParameterError(
            f"sequence_dataset(): no track has window + 1 = {window + 1} frames "
            f"(longest: {max(len(t) for t in tracks)})"
        )
    starts = np.concatenate(starts).astype(np.int64)
    data = tf.constant(np.concatenate(tracks, axis=0))
    steps = tf.range(window + 1, dtype=tf.int64)

    def cut(s):
        seq = tf.gather(data, s[:, None] + steps[None, :])
        return seq[:, :-1], seq[:, 1:]

    ds = tf.data.Dataset.from_tensor_slices(starts)
    if shuffle:
        ds = ds.shuffle(len(starts), seed=seed, reshuffle_each_iteration=True)
    return ds.batch(batch_size, drop_remainder=drop_remainder).map(cut).prefetch(tf.data.AUTOTUNE)


# ---------------------------------------------------------------------------------------------
# training with checkpoints
# ---------------------------------------------------------------------------------------------
_STATE = "state.json"


def _write_json_atomic(path: Path, obj) -> None:
    fd, tmp = tempfile.mkstemp(prefix=".state.", suffix=".json", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(obj, f, indent=1)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


class _EpochCheckpoint(keras.callbacks.Callback):
    """Save the model (``epoch_NNNN.keras``) and then ``state.json`` after each epoch, atomically."""

    def __init__(self, directory: Path, history: dict, epoch_seconds: list, verbose: bool):
        super().__init__()
        self.directory = directory
        self.history = history
        self.epoch_seconds = epoch_seconds
        self.verbose = verbose
        self._t0 = None

    def on_epoch_begin(self, epoch, logs=None):
        self._t0 = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        seconds = time.perf_counter() - self._t0
        self.epoch_seconds.append(seconds)
        for k, v in (logs or {}).items():
            self.history.setdefault(k, []).append(float(v))
        name = f"epoch_{epoch + 1:04d}.keras"
        tmp = self.directory / f".tmp_{name}"
        self.model.save(tmp)
        os.replace(tmp, self.directory / name)
        _write_json_atomic(self.directory / _STATE, {
            "epoch": epoch + 1, "checkpoint": name, "history": self.history, "epoch_seconds": self.epoch_seconds,
        })
        for old in self.directory.glob("epoch_*.keras"):
            if old.name != name:
                old.unlink()
        if self.verbose:
            shown = ", ".join(f"{k} {v:.4f}" for k, v in (logs or {}).items())
            print(f"epoch {epoch + 1}: {seconds:.1f} s, {shown}", flush=True)


def fit_with_checkpoints(model, data, *, epochs: int, checkpoint_dir, validation_data=None,
                         calibrate: bool = True, verbose: bool = True):
    """Train ``model`` on ``data`` for ``epochs`` epochs in all, saving after every epoch; resume if saved.

    After each epoch the model (with its optimiser state) is written to
    ``checkpoint_dir/epoch_NNNN.keras`` and then ``checkpoint_dir/state.json`` records the epoch,
    the loss history and the seconds each epoch took (both written atomically). When
    ``state.json`` exists, the saved model is loaded instead of ``model`` and training continues
    at the saved epoch (``initial_epoch``); when it already reached ``epochs``, nothing is trained.

    Parameters
    ----------
    model : NextFrameLSTM, LSTMVAE or DilatedCNN
        A compiled model (from ``make_*``), already :meth:`~_NextFrameModel.adapt`-ed.
    data : tf.data.Dataset
        ``(x, y)`` batches, e.g. from :func:`sequence_dataset`.
    epochs : int
        Total epochs, counting those done before a restart.
    checkpoint_dir : str or Path
    validation_data : tf.data.Dataset, optional
    calibrate : bool
        Measure the one-step error for the temperature (:meth:`~_NextFrameModel.calibrate`)
        at the end, on ``validation_data`` when given (held-out errors are what a roll-out meets;
        an over-fitted model's training errors are smaller), else on ``data``, and save the model
        once more.
    verbose : bool
        Print one line per epoch with its time and losses.

    Returns
    -------
    model : the trained model (the loaded one after a restart)
    history : dict
        ``{"loss": [...], ..., "epoch_seconds": [...], "initial_epoch": int}`` over all epochs.
    """
    epochs = _check_positive_int("epochs", epochs)
    directory = Path(checkpoint_dir)
    directory.mkdir(parents=True, exist_ok=True)
    state_path = directory / _STATE
    history, epoch_seconds, initial_epoch = {}, [], 0
    if state_path.exists():
        try:
            state = json.loads(state_path.read_text())
            saved = directory / state["checkpoint"]
            initial_epoch = int(state["epoch"])
            history = {k: list(v) for k, v in state["history"].items()}
            epoch_seconds = list(state["epoch_seconds"])
        except (KeyError, ValueError, TypeError) as e:
            raise ParameterError(
                f"{state_path} is not a checkpoint state written by fit_with_checkpoints ({e})"
            ) from None
        model = load_model(saved)
        if verbose:
            print(f"resuming from {saved} (epoch {initial_epoch} of {epochs})", flush=True)
    if initial_epoch < epochs:
        callback = _EpochCheckpoint(directory, history, epoch_seconds, verbose)
        model.fit(data, epochs=epochs, initial_epoch=initial_epoch, validation_data=validation_data,
                  callbacks=[callback], verbose=0, shuffle=False)  # the dataset shuffles itself
        if calibrate:
            model.calibrate(data if validation_data is None else validation_data)
            final = directory / f"epoch_{epochs:04d}.keras"
            tmp = directory / f".tmp_{final.name}"
            model.save(tmp)
            os.replace(tmp, final)
    return model, {**history, "epoch_seconds": epoch_seconds, "initial_epoch": initial_epoch}


# ---------------------------------------------------------------------------------------------
# generation to audio
# ---------------------------------------------------------------------------------------------
def generate_audio(model, primes, rep, *, seconds: float, temperature: float = 1.0, guard=None, seed: int = 0,
                   inversion: dict | None = None) -> tuple[list[np.ndarray], dict]:
    """Generate one clip per prime in a single batched roll-out, then invert each to audio.

    Parameters
    ----------
    model : NextFrameLSTM, LSTMVAE or DilatedCNN
    primes : list of np.ndarray [shape=(n_prime_i, rep.n_features)]
        Frames to continue (representation units); they are cut to the shortest one's length so
        the clips are generated together.
    rep : Representation
        The model's representation (for the inversion).
    seconds : float
        Audio to generate per clip (after the prime).
    temperature, guard, seed :
        As :meth:`~_NextFrameModel.rollout`.
    inversion : dict, optional
        Keyword arguments for :func:`musiclib.generate.frames_to_audio` (default: its generation
        settings, :data:`musiclib.generate.GENERATION_INVERSION`).

    Returns
    -------
    clips : list of np.ndarray [shape=(round(seconds * rep.sr),)], float32
        The generated audio only (the prime is not included).
    timing : dict
        ``rollout_s``, ``inversion_s``, ``seconds`` (audio made) and ``rtf`` (real-time factor,
        inversion included).
    """
    from musiclib.generate import frames_to_audio

    if not np.isfinite(seconds) or seconds <= 0:
        raise ParameterError(f"seconds={seconds!r} must be a positive number")
    if isinstance(primes, np.ndarray) and primes.ndim == 2:
        primes = [primes]
    if len(primes) == 0:
        raise ParameterError("generate_audio() needs at least one prime")
    n_prime = min(len(p) for p in primes)
    batch = np.stack([np.asarray(p, dtype=np.float32)[len(p) - n_prime:] for p in primes])
    n_frames = int(math.ceil(seconds * rep.frames_per_second)) + 1
    length = int(round(seconds * rep.sr))
    t0 = time.perf_counter()
    frames = model.rollout(batch, n_frames=n_frames, temperature=temperature, guard=guard, seed=seed)
    t1 = time.perf_counter()
    clips = [frames_to_audio(f, rep, length=length, seed=seed, **(inversion or {})) for f in frames]
    t2 = time.perf_counter()
    made = seconds * len(clips)
    return clips, {"rollout_s": t1 - t0, "inversion_s": t2 - t1, "seconds": made, "rtf": made / (t2 - t0)}
