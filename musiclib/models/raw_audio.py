"""Autoencoders on raw audio: dense, 1-D convolutional and variational, on fixed or beat-synchronous pieces.

Mono audio at :data:`SR` Hz, cut into equal-length pieces (``notebooks/07_raw_audio``):

- cut: :func:`make_pieces`, with consecutive windows (:func:`fixed_pieces`) or one piece per beat or
  bar stretched to ``n_samples`` (:func:`beat_pieces`);
- model: :class:`RawAutoencoder`, built by :func:`make_dense_ae`, :func:`make_conv_ae` or :func:`make_vae`;
- train: :func:`piece_dataset` and :func:`fit_with_checkpoints`;
- sample: :class:`LatentGaussian`, :func:`interpolate_codes`;
- back to audio: :func:`stitch` (each piece stretched back to a beat, the joins cross-faded);
  :func:`generate_audio` does it all.

The models divide pieces by one number they keep (:meth:`RawAutoencoder.adapt`), so they see
unit-variance audio and give audio back at the corpus's level. Keras conventions: :mod:`musiclib.models`;
generation speed: ``benchmarks/generate_raw.py``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from musiclib import beats as beats_module
from musiclib.models._backend import keras, tf
from musiclib.errors import (ParameterError, check_choice, check_finite, check_int, check_ints, check_number,
                             check_signal, check_sr)
from musiclib.models.keras_seq import (fit_with_checkpoints, gradient_step, load_model, set_seed,  # noqa: F401
                                       strategy, update_metrics)


__all__ = [
    "SR",
    "N_SAMPLES",
    "SPLITS",
    "PieceSet",
    "fixed_pieces",
    "beat_pieces",
    "make_pieces",
    "RawAutoencoder",
    "make_dense_ae",
    "make_conv_ae",
    "make_vae",
    "piece_dataset",
    "fit_with_checkpoints",
    "load_model",
    "set_seed",
    "strategy",
    "LatentGaussian",
    "interpolate_codes",
    "stitch",
    "generate_audio",
]

#: The sample rate of the raw-audio models (Hz): mono at 10 kHz, as in the earlier experiment.
SR = 10_000
#: Samples per piece (0.41 s at 10 kHz, about one beat at 146 BPM).
N_SAMPLES = 4096
#: How the training audio is cut.
SPLITS = ("fixed", "beat")
KINDS = ("dense", "conv")


@dataclass
class PieceSet:
    """Equal-length pieces of audio cut from a set of clips.

    Attributes
    ----------
    pieces : np.ndarray [shape=(n_pieces, n_samples)], float32
    lengths, source, starts : np.ndarray [shape=(n_pieces,)], int
        Per piece: its length in its clip before stretching, the clip's index, and its first sample.
    split : {"fixed", "beat"}
    sr, beats_per_slice : int
    tempi : list of float
        Per clip, its tempo in BPM (beat splits; empty for fixed splits).
    skipped : list of (int, str)
        Clips that gave no piece (index, why).
    """

    pieces: np.ndarray
    lengths: np.ndarray
    source: np.ndarray
    starts: np.ndarray
    split: str
    sr: int
    tempi: list = field(default_factory=list)
    beats_per_slice: int = 1
    skipped: list = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.pieces)

    @property
    def n_samples(self) -> int:
        """Samples per piece."""
        return int(self.pieces.shape[1])

    @property
    def tempo(self) -> float | None:
        """Median tempo of the clips (BPM): the tempo generated beat pieces are stretched back to."""
        return float(np.median(self.tempi)) if self.tempi else None

    @property
    def piece_seconds(self) -> float:
        """Median length of a piece in the clips, in seconds."""
        return float(np.median(self.lengths)) / self.sr

    def describe(self) -> str:
        """One line: how many pieces, how long, how much stretched, at what tempo."""
        stretch = self.n_samples / np.asarray(self.lengths, dtype=float)
        text = f"{len(self)} {self.split} pieces of {self.n_samples} samples ({self.n_samples / self.sr:.3f} s)"
        if self.split == "beat":
            text += (f" from beats of {self.piece_seconds:.3f} s (median; stretched x{stretch.min():.2f}"
                     f"-x{stretch.max():.2f}); median tempo {self.tempo:.1f} BPM")
        if self.skipped:
            text += f"; {len(self.skipped)} clips gave none"
        return text


def fixed_pieces(y: np.ndarray, *, n_samples: int = N_SAMPLES, hop: int | None = None) -> np.ndarray:
    """Consecutive windows ``[shape=(n_pieces, n_samples)]`` of ``y``, ``hop`` apart (default: ``n_samples``).

    The tail is dropped; 0 rows when ``y`` is shorter than one piece.
    """
    y = check_signal("y", y)
    n_samples = check_int("n_samples", n_samples, low=16)
    hop = n_samples if hop is None else check_int("hop", hop)
    if len(y) < n_samples:
        return np.zeros((0, n_samples), dtype=np.float32)
    return np.lib.stride_tricks.sliding_window_view(y, n_samples)[::hop].astype(np.float32)


def beat_pieces(y: np.ndarray, *, sr: int, n_samples: int = N_SAMPLES, beats_per_slice: int = 1, beats=None):
    """One piece per beat (or group of beats) of ``y``, stretched to ``n_samples`` (:mod:`musiclib.beats`).

    Returns
    -------
    pieces : np.ndarray [shape=(n_pieces, n_samples)], float32
    slices : list of (start, end)
        Where each piece was in ``y`` (samples).
    beats : musiclib.beats.Beats
    """
    y = check_signal("y", y)
    n_samples = check_int("n_samples", n_samples, low=16)
    beats_per_slice = check_int("beats_per_slice", beats_per_slice)
    if beats is None:
        beats = beats_module.track_beats(y, sr=sr)
    slices = [(int(a), int(b)) for a, b in
              beats_module.beat_slices(y, sr=sr, beats=beats, beats_per_slice=beats_per_slice) if b - a >= 16]
    pieces = [beats_module.stretch(y[a:b], n_samples=n_samples, sr=sr) for a, b in slices]
    return np.array(pieces, dtype=np.float32).reshape(-1, n_samples), slices, beats


def make_pieces(clips, *, sr: int, split: str = "fixed", n_samples: int = N_SAMPLES, hop: int | None = None,
                beats_per_slice: int = 1) -> PieceSet:
    """Cut every clip into equal-length pieces, on a fixed grid or at its beats.

    Parameters
    ----------
    clips : list of np.ndarray [shape=(n_samples_i,)] (or a Corpus / Clip objects)
        Mono audio at ``sr`` Hz.
    sr : int
    split : {"fixed", "beat"}
        :func:`fixed_pieces` or :func:`beat_pieces`.
    n_samples : int
    hop : int, optional
        Fixed splits only: samples between piece starts (default ``n_samples``).
    beats_per_slice : int
        Beat splits only: beats per piece (4 = a bar in 4/4).

    Returns
    -------
    PieceSet
        Clips that give no piece are listed in its ``skipped`` (none at all: ParameterError).
    """
    check_choice("split", split, SPLITS)
    sr = check_sr(sr)
    n_samples = check_int("n_samples", n_samples, low=16)
    beats_per_slice = check_int("beats_per_slice", beats_per_slice)
    clips = getattr(clips, "clips", clips)
    if isinstance(clips, np.ndarray) and clips.ndim == 1:
        clips = [clips]
    clips = [check_signal(f"clips[{i}]", getattr(c, "y", c)) for i, c in enumerate(clips)]
    if not clips:
        raise ParameterError("make_pieces() got no clips")
    pieces, lengths, source, starts, tempi, skipped = [], [], [], [], [], []
    for i, y in enumerate(clips):
        if split == "fixed":
            p = fixed_pieces(y, n_samples=n_samples, hop=hop)
            step = n_samples if hop is None else hop
            slices = [(k * step, k * step + n_samples) for k in range(len(p))]
            why = f"shorter than one piece ({len(y)} < {n_samples} samples)"
        else:
            try:
                p, slices, beats = beat_pieces(y, sr=sr, n_samples=n_samples, beats_per_slice=beats_per_slice)
            except ParameterError as e:  # no beats in this clip (silence, a constant, too short to track)
                skipped.append((i, str(e)))
                continue
            why = f"fewer than two beat edges ({len(beats)} beats)"
        if not len(p):
            skipped.append((i, why))
            continue
        if split == "beat":
            tempi.append(float(beats.tempo))
        pieces.append(p)
        lengths += [b - a for a, b in slices]
        starts += [a for a, _ in slices]
        source += [i] * len(p)
    if not pieces:
        why = "; ".join(f"clips[{i}]: {w}" for i, w in skipped[:3])
        raise ParameterError(
            f"no clip gave a {split} piece of {n_samples} samples (longest clip: {max(map(len, clips))} samples; {why})")
    ints = [np.asarray(v, dtype=np.int64) for v in (lengths, source, starts)]
    return PieceSet(np.concatenate(pieces), *ints, split, sr, tempi, beats_per_slice, skipped)


def _stft_l1(a, b, n_fft):
    """Mean L1 distance of log-magnitude STFTs (Hann, hop n_fft/4) of two batches of waveforms."""
    def logmag(x):
        return tf.math.log(tf.abs(tf.signal.stft(x, frame_length=n_fft, frame_step=n_fft // 4,
                                                 fft_length=n_fft)) + 1e-3)

    return tf.reduce_mean(tf.abs(logmag(a) - logmag(b)))


@keras.saving.register_keras_serializable(package="musiclib")
class RawAutoencoder(keras.Model):
    """An autoencoder of raw-audio pieces ``[shape=(batch, n_samples)]``: dense or 1-D convolutional, optionally a VAE.

    ``kind="dense"``: ``n_samples -> units... -> latent_dim`` and back (ReLU, linear output).
    ``kind="conv"``: strided 1-D convolutions down to ``n_samples / stride**len(filters)`` steps, a
    dense latent, and transposed convolutions back up. ``variational=True``: a Gaussian latent
    (reparameterised while training; its means are the codes).

    The loss, on pieces divided by ``scale`` (:meth:`adapt`): ``MSE + spectral_weight * (log-STFT L1 at
    two resolutions) + beta * KL / n_samples`` (KL of a VAE's latent to N(0, 1), nats per piece);
    metrics ``reconstruction_loss`` (the MSE), ``spectral_loss`` and ``kl_loss``.

    Parameters
    ----------
    n_samples : int
        Samples per piece (a multiple of ``stride**len(filters)`` for ``kind="conv"``).
    kind : {"dense", "conv"}
    latent_dim, kernel_size, stride : int
    units, filters : int or sequence of int
        Dense layer widths (dense kind) or convolution channels (conv kind), mirrored in the decoder.
    variational : bool
    beta, spectral_weight : float
        Weights of the KL term and of the log-STFT term (0: waveform MSE only, which learns mostly
        the low, loud partials).
    """

    def __init__(self, n_samples=N_SAMPLES, *, kind="dense", latent_dim=32, units=(512,), filters=(16, 32, 64, 64),
                 kernel_size=9, stride=4, variational=False, beta=1.0, spectral_weight=1.0, name=None, **kwargs):
        super().__init__(name=name, **kwargs)
        self.n_samples = check_int("n_samples", n_samples, low=16)
        self.kind = check_choice("kind", kind, KINDS)
        self.latent_dim = check_int("latent_dim", latent_dim)
        self.units = check_ints("units", units)
        self.filters = check_ints("filters", filters)
        self.kernel_size = check_int("kernel_size", kernel_size)
        self.stride = check_int("stride", stride)
        self.variational = bool(variational)
        self.beta = check_number("beta", beta, low=0.0)
        self.spectral_weight = check_number("spectral_weight", spectral_weight, low=0.0)
        # the spectral term's two resolutions: 256 and 1024 samples, or shorter for short pieces
        self._fft_sizes = sorted({max(4, min(256, self.n_samples // 4)), max(8, min(1024, self.n_samples // 2))})
        if kind == "conv":
            down = self.stride ** len(self.filters)
            if self.n_samples % down:
                raise ParameterError(
                    f"n_samples={self.n_samples} must be a multiple of stride**len(filters) = {down} for kind='conv'")
            self._steps = self.n_samples // down
        L = keras.layers
        code_size = 2 * self.latent_dim if self.variational else self.latent_dim
        if kind == "dense":
            self.encoder = keras.Sequential(
                [L.Dense(u, activation="relu", name=f"enc_dense_{i}") for i, u in enumerate(self.units)]
                + [L.Dense(code_size, name="code")], name="encoder")
            self.decoder = keras.Sequential(
                [L.Dense(u, activation="relu", name=f"dec_dense_{i}") for i, u in enumerate(reversed(self.units))]
                + [L.Dense(self.n_samples, name="waveform")], name="decoder")
        else:
            conv = [L.Conv1D(f, self.kernel_size, strides=self.stride, padding="same", activation="gelu",
                             name=f"enc_conv_{i}") for i, f in enumerate(self.filters)]
            self.encoder = keras.Sequential([L.Reshape((self.n_samples, 1), name="to_channels"), *conv,
                                             L.Flatten(name="flatten"), L.Dense(code_size, name="code")],
                                            name="encoder")
            up = [L.Conv1DTranspose(f, self.kernel_size, strides=self.stride, padding="same", activation="gelu",
                                    name=f"dec_conv_{i}") for i, f in enumerate(reversed(self.filters))]
            self.decoder = keras.Sequential(
                [L.Dense(self._steps * self.filters[-1], activation="gelu", name="from_code"),
                 L.Reshape((self._steps, self.filters[-1]), name="to_steps"), *up,
                 L.Conv1D(1, self.kernel_size, padding="same", name="waveform"),
                 L.Reshape((self.n_samples,))], name="decoder")
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.reconstruction_tracker = keras.metrics.Mean(name="reconstruction_loss")
        self.spectral_tracker = keras.metrics.Mean(name="spectral_loss")
        self.kl_tracker = keras.metrics.Mean(name="kl_loss")
        self._sample_seed = keras.random.SeedGenerator(0)
        self._decode_fn = None

    def get_config(self):
        config = {k: getattr(self, k) for k in ("n_samples", "kind", "latent_dim", "kernel_size", "stride",
                                                 "variational", "beta", "spectral_weight", "name")}
        return {**config, "units": list(self.units), "filters": list(self.filters)}

    def build(self, input_shape=None):
        if self.built:
            return
        self.scale = self.add_weight(shape=(), initializer="ones", trainable=False, name="scale")
        self.encoder.build((None, self.n_samples))
        self.decoder.build((None, self.latent_dim))
        self.built = True

    def adapt(self, pieces) -> "RawAutoencoder":
        """Set ``scale`` to the standard deviation of ``pieces [shape=(n, n_samples)]`` (or a PieceSet)."""
        pieces = self._check_pieces(getattr(pieces, "pieces", pieces), "adapt")
        self.build()
        self.scale.assign(max(float(np.std(pieces)), 1e-6))
        return self

    def _check_pieces(self, x, what) -> np.ndarray:
        x = check_finite("pieces", x, ndim=2)
        if x.shape[1] != self.n_samples:
            raise ParameterError(
                f"RawAutoencoder.{what}() needs pieces of shape (n, n_samples={self.n_samples}), got shape {x.shape}")
        return x

    def _moments(self, xn):
        code = self.encoder(xn)
        if not self.variational:
            return code, None
        mean, log_var = tf.split(code, 2, axis=-1)
        return mean, tf.clip_by_value(log_var, -20.0, 10.0)

    def call(self, x, training=False):
        """Reconstructions ``[shape=(batch, n_samples)]`` of pieces ``x``, in audio units (the latent mean for a VAE)."""
        mean, _ = self._moments(x / self.scale)
        return self.decoder(mean) * self.scale

    def _compute_losses(self, x, training):
        xn = x / self.scale
        mean, log_var = self._moments(xn)
        z = mean
        if self.variational and training:
            z = mean + tf.exp(0.5 * log_var) * keras.random.normal(tf.shape(mean), seed=self._sample_seed)
        out = self.decoder(z, training=training)
        reconstruction = tf.reduce_mean(tf.square(xn - out))
        spectral = tf.constant(0.0)
        if self.spectral_weight > 0:
            spectral = tf.add_n([_stft_l1(xn, out, n) for n in self._fft_sizes]) / len(self._fft_sizes)
        kl = tf.constant(0.0)
        if self.variational:
            kl = tf.reduce_mean(tf.reduce_sum(-0.5 * (1 + log_var - tf.square(mean) - tf.exp(log_var)), axis=-1))
        loss = reconstruction + self.spectral_weight * spectral + self.beta * kl / self.n_samples
        return {"loss": loss, "reconstruction_loss": reconstruction, "spectral_loss": spectral, "kl_loss": kl}

    @property
    def metrics(self):
        return [self.loss_tracker, self.reconstruction_tracker, self.spectral_tracker, self.kl_tracker]

    def train_step(self, data):
        x, _, _ = keras.utils.unpack_x_y_sample_weight(data)
        return update_metrics(self.metrics, gradient_step(self, lambda: self._compute_losses(x, training=True)))

    def test_step(self, data):
        x, _, _ = keras.utils.unpack_x_y_sample_weight(data)
        return update_metrics(self.metrics, self._compute_losses(x, training=False))

    def encode(self, pieces, *, batch_size: int = 256) -> np.ndarray:
        """Latent codes ``[shape=(n, latent_dim)]`` of pieces ``[shape=(n, n_samples)]`` (a VAE's latent means)."""
        x = self._check_pieces(getattr(pieces, "pieces", pieces), "encode")
        batch_size = check_int("batch_size", batch_size)
        self.build()
        out = [self._moments(tf.constant(x[i : i + batch_size]) / self.scale)[0].numpy()
               for i in range(0, len(x), batch_size)]
        return np.concatenate(out).astype(np.float32)

    def decode(self, codes) -> np.ndarray:
        """Pieces ``[shape=(n, n_samples)]`` (audio units) decoded from codes ``[shape=(n, latent_dim)]``, in one call."""
        codes = check_finite("codes", codes, ndim=2)
        if codes.shape[1] != self.latent_dim:
            raise ParameterError(f"decode() needs codes of shape (n, latent_dim={self.latent_dim}), got {codes.shape}")
        self.build()
        if self._decode_fn is None:  # one graph per model, for any batch size (benchmarks/generate_raw.py times it)
            self._decode_fn = tf.function(lambda z: self.decoder(z, training=False) * self.scale,
                                          input_signature=[tf.TensorSpec((None, self.latent_dim), tf.float32)])
        return self._decode_fn(tf.constant(codes)).numpy()

    def reconstruct(self, pieces, *, batch_size: int = 256) -> np.ndarray:
        """Decode the codes of ``pieces``: the model's reconstruction ``[shape=(n, n_samples)]``."""
        return self.decode(self.encode(pieces, batch_size=batch_size))


def _make(n_samples, *, learning_rate, **params) -> RawAutoencoder:
    learning_rate = check_number("learning_rate", learning_rate, low=0.0, low_open=True, high=1.0)
    with strategy().scope():
        model = RawAutoencoder(n_samples, **params)
        model.build()
        model.compile(optimizer=keras.optimizers.Adam(learning_rate=learning_rate, clipnorm=1.0))
    return model


def make_dense_ae(n_samples: int = N_SAMPLES, *, units=(512,), latent_dim: int = 32, spectral_weight: float = 1.0,
                  learning_rate: float = 1e-3) -> RawAutoencoder:
    """A compiled dense autoencoder (:class:`RawAutoencoder`, ``kind="dense"``), built under :func:`strategy`."""
    return _make(n_samples, kind="dense", units=units, latent_dim=latent_dim, spectral_weight=spectral_weight,
                 learning_rate=learning_rate)


def make_conv_ae(n_samples: int = N_SAMPLES, *, filters=(16, 32, 64, 64), kernel_size: int = 9, stride: int = 4,
                 latent_dim: int = 32, spectral_weight: float = 1.0, learning_rate: float = 1e-3) -> RawAutoencoder:
    """A compiled 1-D convolutional autoencoder (``kind="conv"``), built under :func:`strategy`."""
    return _make(n_samples, kind="conv", filters=filters, kernel_size=kernel_size, stride=stride,
                 latent_dim=latent_dim, spectral_weight=spectral_weight, learning_rate=learning_rate)


def make_vae(n_samples: int = N_SAMPLES, *, kind: str = "conv", units=(512,), filters=(16, 32, 64, 64),
             kernel_size: int = 9, stride: int = 4, latent_dim: int = 32, beta: float = 1.0,
             spectral_weight: float = 1.0, learning_rate: float = 1e-3) -> RawAutoencoder:
    """A compiled variational autoencoder (``variational=True``; dense or conv), built under :func:`strategy`."""
    return _make(n_samples, kind=kind, units=units, filters=filters, kernel_size=kernel_size, stride=stride,
                 latent_dim=latent_dim, variational=True, beta=beta, spectral_weight=spectral_weight,
                 learning_rate=learning_rate)


def piece_dataset(pieces, *, batch_size: int = 32, shuffle: bool = True, seed: int = 0):
    """A ``tf.data.Dataset`` of ``(x, x)`` batches of pieces ``[shape=(batch, n_samples)]`` for training.

    Parameters
    ----------
    pieces : np.ndarray [shape=(n_pieces, n_samples)] or PieceSet
    batch_size, seed : int
    shuffle : bool
        Reshuffle every epoch (seeded by ``seed``).
    """
    x = check_finite("pieces", getattr(pieces, "pieces", pieces), ndim=2)
    batch_size = check_int("batch_size", batch_size)
    ds = tf.data.Dataset.from_tensor_slices(x)
    if shuffle:
        ds = ds.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
    return ds.batch(batch_size).map(lambda b: (b, b)).prefetch(tf.data.AUTOTUNE)


class LatentGaussian:
    """A full-covariance Gaussian fitted to latent codes, to sample new codes from.

    Parameters
    ----------
    shrinkage : float in [0, 1]
        How far the covariance is pulled toward its diagonal (keeps it invertible with few codes).

    Attributes
    ----------
    mean_ : np.ndarray [shape=(latent_dim,)]
    cov_ : np.ndarray [shape=(latent_dim, latent_dim)]
    """

    def __init__(self, *, shrinkage: float = 0.05):
        self.shrinkage = check_number("shrinkage", shrinkage, low=0.0, high=1.0)
        self.mean_ = self.cov_ = None

    def fit(self, codes) -> "LatentGaussian":
        """Fit to codes ``[shape=(n, latent_dim)]`` (n >= 2)."""
        codes = np.asarray(codes, dtype=np.float64)
        if codes.ndim != 2 or len(codes) < 2 or not np.all(np.isfinite(codes)):
            raise ParameterError(f"LatentGaussian.fit() needs at least 2 finite codes of shape (n, d), got {codes.shape}")
        self.mean_ = codes.mean(axis=0)
        cov = np.atleast_2d(np.cov(codes, rowvar=False))
        cov = (1 - self.shrinkage) * cov + self.shrinkage * np.diag(np.diag(cov))
        self.cov_ = cov + 1e-9 * np.eye(len(cov))
        self._chol = np.linalg.cholesky(self.cov_)
        return self

    def sample(self, n: int, *, temperature: float = 1.0, seed: int = 0) -> np.ndarray:
        """``n`` codes ``[shape=(n, latent_dim)]``: the mean plus ``temperature`` times a seeded draw of the spread."""
        if self.mean_ is None:
            raise ParameterError("LatentGaussian.sample() called before fit()")
        n = check_int("n", n)
        temperature = check_number("temperature", temperature, low=0.0, high=100.0)
        eps = np.random.default_rng(seed).standard_normal((n, len(self.mean_)))
        return (self.mean_ + temperature * eps @ self._chol.T).astype(np.float32)


def interpolate_codes(a, b, *, n: int) -> np.ndarray:
    """``n`` codes ``[shape=(n, latent_dim)]`` on the straight line from code ``a`` to code ``b`` (both included)."""
    a, b = (np.asarray(v, dtype=np.float32).reshape(-1) for v in (a, b))
    if a.shape != b.shape or a.size == 0 or not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        raise ParameterError(f"interpolate_codes() needs two finite codes of one length, got {a.shape} and {b.shape}")
    n = check_int("n", n, low=2)
    t = np.linspace(0.0, 1.0, n, dtype=np.float32)[:, None]
    return (1 - t) * a + t * b


def stitch(pieces, *, sr: int, lengths=None, crossfade: float = 0.01) -> tuple[np.ndarray, list[int]]:
    """Join decoded pieces into one clip: each stretched to its length, joined with cross-fades.

    Parameters
    ----------
    pieces : np.ndarray [shape=(n_pieces, n_samples)]
    sr : int
        Sample rate in Hz.
    lengths : int or sequence of int, optional
        Samples from the start of each piece to the next (a beat at the generation tempo): each
        piece is stretched to its length plus the cross-fade, so piece ``k`` starts at
        ``sum(lengths[:k])``. Default: the pieces as they are, overlapping by the cross-fade.
    crossfade : float
        Seconds of cross-fade at each join (:func:`musiclib.beats.join`).

    Returns
    -------
    y : np.ndarray [shape=(n,)], float32
    joins : list of int
        Sample index of the start of each piece after the first.
    """
    pieces = check_finite("pieces", pieces, ndim=2)
    sr = check_sr(sr)
    crossfade = check_number("crossfade", crossfade, low=0.0, high=1.0)
    fade = int(round(crossfade * sr))
    if lengths is None:
        slices = list(pieces)
        steps = [len(p) - fade for p in pieces]
    else:
        if np.ndim(lengths) == 0:
            lengths = [lengths] * len(pieces)
        lengths = [check_int("lengths", n, low=2 * fade + 2) for n in lengths]
        if len(lengths) != len(pieces):
            raise ParameterError(f"lengths has {len(lengths)} entries for {len(pieces)} pieces")
        slices = [beats_module.stretch(p, n_samples=n + fade, sr=sr) for p, n in zip(pieces, lengths)]
        steps = lengths
    y = np.asarray(beats_module.join(slices, sr=sr, crossfade=crossfade), dtype=np.float32)
    return y, [int(j) for j in np.cumsum(steps[:-1])]


def generate_audio(model: RawAutoencoder, latent: LatentGaussian, *, sr: int = SR, seconds: float = 30.0,
                   split: str = "fixed", tempo: float | None = None, beats_per_slice: int = 1,
                   temperature: float = 1.0, seed: int = 0, crossfade: float = 0.01, codes=None):
    """Sample the latent space, decode the pieces in one batch, and stitch them into at least ``seconds``.

    Parameters
    ----------
    model : RawAutoencoder
    latent : LatentGaussian
        Fitted to the model's training codes (ignored when ``codes`` is given).
    sr : int
        The model's sample rate (Hz).
    seconds : float
        At least this much audio is made (whole pieces).
    split : {"fixed", "beat"}
        How the training pieces were cut: ``"beat"`` stretches each decoded piece back to
        ``beats_per_slice`` beats at ``tempo`` BPM (e.g. :attr:`PieceSet.tempo`).
    tempo, beats_per_slice : float, int
    temperature : float
        Spread of the sampled codes relative to the training codes' (0: the mean code).
    seed : int
    crossfade : float
        Seconds of cross-fade at each join.
    codes : np.ndarray [shape=(n, latent_dim)], optional
        Decode these codes, repeated in order, instead of sampling (e.g. :func:`interpolate_codes`).

    Returns
    -------
    y : np.ndarray [shape=(n >= seconds * sr,)], float32
    info : dict
        ``joins`` (sample indices), ``n_pieces``, ``piece_samples``, ``decode_s``, ``stitch_s``,
        ``rtf`` (seconds of audio per second spent).
    """
    check_choice("split", split, SPLITS)
    seconds = check_number("seconds", seconds, low=0.0, low_open=True, high=24 * 3600.0)
    crossfade = check_number("crossfade", crossfade, low=0.0, high=1.0)
    if split == "beat":
        if tempo is None:
            raise ParameterError("split='beat' needs the tempo (BPM) to stretch the pieces back to")
        tempo = check_number("tempo", tempo, low=20.0, high=400.0)
        piece = int(round(60.0 / tempo * check_int("beats_per_slice", beats_per_slice) * sr))
    else:
        piece = model.n_samples
    fade = int(round(crossfade * sr))
    if piece <= 2 * fade + 1:
        raise ParameterError(f"crossfade={crossfade} s is too long for pieces of {piece} samples")
    step = piece if split == "beat" else piece - fade  # beat pieces are stretched to a beat plus the fade
    n_pieces = max(1, int(np.ceil((seconds * sr - fade) / step)))
    t0 = time.perf_counter()
    if codes is None:
        codes = latent.sample(n_pieces, temperature=temperature, seed=seed)
    else:
        codes = check_finite("codes", codes, ndim=2)
        codes = codes[np.arange(n_pieces) % len(codes)]
    pieces = model.decode(codes)
    t1 = time.perf_counter()
    y, joins = stitch(pieces, sr=sr, lengths=piece if split == "beat" else None, crossfade=crossfade)
    t2 = time.perf_counter()
    return y, {"joins": joins, "n_pieces": n_pieces, "piece_samples": piece, "decode_s": t1 - t0,
               "stitch_s": t2 - t1, "rtf": len(y) / sr / max(t2 - t0, 1e-9)}
