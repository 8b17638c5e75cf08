"""Representations: one contract for turning audio into model-ready frames and back.

Every representation has

- ``encode(y) -> frames [shape=(n_frames, n_features)]``, float32, time first (what models eat);
- ``decode(frames) -> y [shape=(n_samples,)]``, using :mod:`musiclib.phase` where phase was dropped;
- ``params``: a JSON-able dict that records everything ``encode`` depends on, so a model trained on
  one representation can be paired with its inverse later (:func:`from_params` rebuilds it), and the
  feature cache can key on it.

=========== ===================================== ==============================================
name        frames                                inverse
=========== ===================================== ==============================================
``linear``  STFT magnitude                        phase reconstruction
``log``     dB or log1p of the magnitude          exponent, then phase reconstruction
``mel``     mel-band magnitude (or its dB)        non-negative least squares + phase reconstruction
``logfreq`` log-frequency filter bank (or its dB) non-negative least squares + phase reconstruction
``dct``     DCT-II of overlapping windowed blocks exact: inverse DCT and windowed overlap-add
``raw``     consecutive waveform blocks           exact: concatenation
=========== ===================================== ==============================================

See ``notebooks/01_spectrogram_settings`` for how the settings trade error, time and size.
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass

import librosa
import numpy as np
import scipy.fft
import scipy.sparse

from musiclib import phase as _phase
from musiclib.audio import DEFAULT_SR, MAX_SR
from musiclib.errors import ParameterError, check_choice, check_finite, check_int, check_number, check_signal, show

__all__ = [
    "Representation",
    "LinearSpectrogram",
    "LogSpectrogram",
    "MelSpectrogram",
    "LogFrequencySpectrogram",
    "DCTBlocks",
    "RawBlocks",
    "REPRESENTATIONS",
    "make_representation",
    "from_params",
    "mel_to_linear",
]

#: dB values above this are no audio level (an STFT magnitude of 1e10); decoding them is refused
MAX_DB = 200.0

#: Lowest ``floor_db`` accepted: below it the floor is no longer a float32 magnitude (1e-15).
MIN_FLOOR_DB = -300.0

#: Range of ``gain`` accepted by the log1p scale (beyond it ``log1p(gain * S)`` or its inverse loses all precision).
GAIN_RANGE = (1e-6, 1e6)

#: Most values a filter bank may hold (``n_features * n_bins``; 2**26 float32 = 256 MiB), checked before building it.
MAX_BASIS = 2**26

#: Most bands per octave of :class:`LogFrequencySpectrogram` (1200: one per cent).
MAX_BINS_PER_OCTAVE = 1200

#: Magnitudes above this are rescaled inside :func:`mel_to_linear` so its float32 products cannot overflow.
_NNLS_RESCALE = 1e30


def _check_pow2(name: str, value, *, low: int) -> int:
    value = check_int(name, value, low=low, high=_phase.MAX_N_FFT)
    if value & (value - 1):
        raise ParameterError(f"{name}={value!r} must be a power of two in [{low}, {_phase.MAX_N_FFT}]")
    return value


def _finite_audio(y: np.ndarray, frames: np.ndarray, what: str) -> np.ndarray:
    """``y`` as float32 when every sample is finite; else a ParameterError naming the frames' peak."""
    with np.errstate(over="ignore"):
        out = np.asarray(y).astype(np.float32)
    if not np.all(np.isfinite(out)):
        raise ParameterError(f"{what} frames reach {float(np.max(np.abs(frames))):.4g}: the audio they decode to is "
                             f"not finite in float32 (scale the frames down)")
    return out


@dataclass(frozen=True, kw_only=True)
class Representation:
    """Base class of the representations: see the module docstring for the contract.

    Parameters
    ----------
    sr : int
        Sample rate in Hz of the audio it encodes (recorded in :attr:`params`).
    """

    name = "base"
    sr: int = DEFAULT_SR

    def __post_init__(self):
        check_int("sr", self.sr, high=MAX_SR, note="Hz")

    @property
    def n_features(self) -> int:  # pragma: no cover - overridden
        """Values per frame."""
        raise NotImplementedError

    # subclasses provide ``hop_length`` (samples per frame) as a field or a property

    def n_frames(self, n_samples: int) -> int:  # pragma: no cover - overridden
        """How many frames ``encode`` makes from ``n_samples`` samples."""
        raise NotImplementedError

    def encode(self, y: np.ndarray) -> np.ndarray:  # pragma: no cover - overridden
        """Frames of a mono signal.

        Parameters
        ----------
        y : np.ndarray [shape=(n_samples,)]
            At least one frame's worth of finite samples at :attr:`sr`.

        Returns
        -------
        frames : np.ndarray [shape=(n_frames(n_samples), n_features)], float32
        """
        raise NotImplementedError

    def decode(self, frames: np.ndarray, **kwargs) -> np.ndarray:  # pragma: no cover - overridden
        """Audio from frames (see each representation for its keyword arguments).

        Parameters
        ----------
        frames : np.ndarray [shape=(n_frames, n_features)]
            Finite values, e.g. generated by a model.

        Returns
        -------
        y : np.ndarray [shape=(length,)], float32
        """
        raise NotImplementedError

    @property
    def params(self) -> dict:
        """Everything ``encode`` depends on, JSON-able, with ``"name"``."""
        return {"name": self.name, **{f.name: getattr(self, f.name) for f in dataclasses.fields(self)}}

    @property
    def frames_per_second(self) -> float:
        """Frames per second of audio (``sr / hop_length``)."""
        return self.sr / self.hop_length

    def _check_signal(self, y, *, min_samples: int) -> np.ndarray:
        return check_signal(f"{type(self).__name__}.encode() y", y, min_samples=min_samples)

    def _check_frames(self, frames) -> np.ndarray:
        frames = np.asarray(frames)
        if frames.ndim != 2 or frames.shape[1] != self.n_features or frames.shape[0] < 1:
            raise ParameterError(
                f"{type(self).__name__}.decode() needs frames of shape (n_frames, {self.n_features}), "
                f"got {frames.shape}"
            )
        return check_finite(f"{type(self).__name__}.decode() frames", frames)


@dataclass(frozen=True, kw_only=True)
class _STFTBased(Representation):
    """Frames made from the STFT magnitude.

    Subclasses give ``_from_magnitude(S)``, features ``[shape=(n_features, n_frames)]`` of a magnitude
    ``S [shape=(n_bins, n_frames)]``, and its inverse ``_to_magnitude`` (an estimate where information
    was dropped).
    """

    n_fft: int = 1024
    hop_length: int | None = None

    def __post_init__(self):
        super().__post_init__()
        _check_pow2("n_fft", self.n_fft, low=16)
        hop = check_int("hop_length", self.hop_length, high=self.n_fft, note=f"n_fft={self.n_fft}",
                        allow_none=True)
        object.__setattr__(self, "hop_length", hop or self.n_fft // 4)

    @property
    def n_bins(self) -> int:
        """Frequency bins of the STFT, ``1 + n_fft // 2``."""
        return self.n_fft // 2 + 1

    @property
    def n_features(self) -> int:
        return self.n_bins

    def n_frames(self, n_samples: int) -> int:
        return 1 + n_samples // self.hop_length

    def magnitude(self, y: np.ndarray) -> np.ndarray:
        """STFT magnitude ``[shape=(n_bins, n_frames)]``, float32 (librosa's layout) of ``y [shape=(n_samples,)]``."""
        y = self._check_signal(y, min_samples=self.n_fft)
        return np.abs(_phase.stft(y, n_fft=self.n_fft, hop_length=self.hop_length))

    def encode(self, y):
        return np.ascontiguousarray(self._from_magnitude(self.magnitude(y)).T)

    def decode(self, frames, *, method="pghi+fgla", n_iter=32, length=None, seed=0):
        """Audio from frames: their magnitude, then :func:`musiclib.phase.reconstruct`.

        Parameters
        ----------
        frames : np.ndarray [shape=(n_frames, n_features)]
        method, n_iter, length, seed :
            As :func:`musiclib.phase.reconstruct` (``length=None``: ``hop_length * (n_frames - 1)``).

        Returns
        -------
        y : np.ndarray [shape=(length,)], float32
        """
        return self._invert_magnitude(self._to_magnitude(self._check_frames(frames).T), method=method,
                                      n_iter=n_iter, length=length, seed=seed)

    def _invert_magnitude(self, S, *, method, n_iter, length, seed):
        return _phase.reconstruct(S, method=method, n_iter=n_iter, hop_length=self.hop_length, length=length,
                                  seed=seed)


@dataclass(frozen=True, kw_only=True)
class LinearSpectrogram(_STFTBased):
    """STFT magnitude frames ``[shape=(n_frames, 1 + n_fft // 2)]``.

    Parameters
    ----------
    sr : int
        Sample rate in Hz (recorded; the transform itself does not depend on it).
    n_fft : int
        Window and FFT length in samples (a power of two >= 16).
    hop_length : int, optional
        Hop in samples (at most ``n_fft``); default ``n_fft // 4``.
    """

    name = "linear"

    def _from_magnitude(self, S):
        return S

    def _to_magnitude(self, M):
        return np.maximum(M, 0)


def _to_log(S, *, scale, floor_db, gain):
    if scale == "db":
        return librosa.amplitude_to_db(S, ref=1.0, amin=10 ** (floor_db / 20), top_db=None).astype(np.float32)
    return np.log1p(gain * S).astype(np.float32)


def _from_log(X, *, scale, floor_db, gain):
    top = float(np.max(X)) if np.size(X) else 0.0
    if scale == "db":
        if top > MAX_DB:
            raise ParameterError(
                f"frames reach {top:.4g} dB, beyond any audio level (> {MAX_DB:g} dB): an unguarded blow-up?"
            )
        return np.where(X > floor_db, librosa.db_to_amplitude(np.maximum(X, floor_db)), 0).astype(np.float32)
    top_log = float(np.log1p(gain * 10 ** (MAX_DB / 20)))
    if top > top_log:
        raise ParameterError(f"frames reach {top:.4g}, beyond any audio level (log1p of gain={gain:g} times "
                             f"{MAX_DB:g} dB is {top_log:.4g}): an unguarded blow-up?")
    return (np.expm1(np.maximum(X, 0)) / gain).astype(np.float32)


def _check_log_params(scale, floor_db, gain, *, scales=("db", "log1p")):
    check_choice("scale", scale, scales)
    check_number("floor_db", floor_db, low=MIN_FLOOR_DB, high=0, high_open=True)
    check_number("gain", gain, low=GAIN_RANGE[0], high=GAIN_RANGE[1])


@dataclass(frozen=True, kw_only=True)
class LogSpectrogram(_STFTBased):
    """Log-magnitude frames ``[shape=(n_frames, 1 + n_fft // 2)]``.

    ``20 log10(max(|X|, floor))`` (``scale="db"``, floor ``floor_db`` dB re. 1.0) or
    ``log1p(gain |X|)`` (``scale="log1p"``). The floor is absolute, not relative to each clip's
    maximum, so loudness is comparable across clips and the inverse is exact above the floor.

    Parameters
    ----------
    sr, n_fft, hop_length :
        As :class:`LinearSpectrogram`.
    scale : {"db", "log1p"}
    floor_db : float < 0
    gain : float > 0
    """

    name = "log"
    scale: str = "db"
    floor_db: float = -80.0
    gain: float = 1.0

    def __post_init__(self):
        super().__post_init__()
        _check_log_params(self.scale, self.floor_db, self.gain)

    def _from_magnitude(self, S):
        return _to_log(S, scale=self.scale, floor_db=self.floor_db, gain=self.gain)

    def _to_magnitude(self, M):
        return _from_log(M, scale=self.scale, floor_db=self.floor_db, gain=self.gain)


@functools.lru_cache(maxsize=16)
def _mel_basis(sr, n_fft, n_mels, fmin, fmax):
    return librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=n_mels, fmin=fmin, fmax=fmax).astype(np.float32)


def mel_to_linear(M: np.ndarray, *, basis: np.ndarray, n_iter: int = 60) -> np.ndarray:
    """Non-negative least-squares estimate of a linear magnitude from mel-band magnitudes.

    Solves ``min_S ||basis @ S - M||^2, S >= 0`` with multiplicative updates (Lee & Seung 2001),
    started from the normalised transpose of the basis. Faster than
    ``librosa.feature.inverse.mel_to_stft`` at no higher error (``benchmarks/phase.py``, mel section).

    Parameters
    ----------
    M : np.ndarray [shape=(n_mels, n_frames)]
        Mel-band magnitudes (power 1).
    basis : np.ndarray [shape=(n_mels, n_bins)]
        The mel filter bank used to make ``M``.
    n_iter : int in [0, :data:`musiclib.phase.MAX_N_ITER`]
        Multiplicative update steps.

    Returns
    -------
    S : np.ndarray [shape=(n_bins, n_frames)], float32, non-negative

    Raises
    ------
    ParameterError
        ``M`` or ``basis`` is not finite or their shapes disagree, ``n_iter`` is out of range, or the
        magnitude is too large for float32.
    """
    n_iter = _phase._check_n_iter(n_iter)
    M = np.maximum(check_finite("M", M, ndim=2), 0)
    basis = check_finite("basis", basis, ndim=2)
    if basis.shape[0] != M.shape[0]:
        raise ParameterError(f"basis has {basis.shape[0]} bands but M has {M.shape[0]} (shapes {basis.shape}, {M.shape})")
    top = float(M.max())
    if top > _NNLS_RESCALE:  # NNLS is scale-equivariant: solve at unit scale, where float32 cannot overflow
        S = mel_to_linear(M / np.float32(top), basis=basis, n_iter=n_iter).astype(np.float64) * top
        if not np.all(np.isfinite(S.astype(np.float32))):
            raise ParameterError(f"M reaches {top:.4g}: the linear magnitude it implies is not finite in float32")
        return S.astype(np.float32)
    B = scipy.sparse.csr_matrix(np.asarray(basis, dtype=np.float32))  # each bin is in <= 2 bands
    Bt = B.T.tocsr()
    eps = np.float32(1e-10)
    colsum = np.asarray(B.sum(axis=0)).reshape(-1, 1).astype(np.float32)
    BtM = np.asarray(Bt @ M, dtype=np.float32)
    # bins no filter covers (e.g. above fmax) stay zero
    S = BtM / np.maximum(colsum * colsum, eps) * (colsum > 0)
    for _ in range(n_iter):
        S *= BtM / (Bt @ (B @ S) + eps)
    return np.asarray(S, dtype=np.float32)


@dataclass(frozen=True, kw_only=True)
class _FilterBank(_STFTBased):
    """Frames of a filter bank on the STFT magnitude, optionally in dB.

    Subclasses give ``basis [shape=(n_features, n_bins)]``. ``decode`` rebuilds the linear magnitude
    by non-negative least squares (:func:`mel_to_linear`, which takes any basis), then its phase.
    """

    scale: str = "linear"
    floor_db: float = -80.0

    def __post_init__(self):
        super().__post_init__()
        _check_log_params(self.scale, self.floor_db, 1.0, scales=("linear", "db"))

    @property
    def n_features(self) -> int:
        return self.basis.shape[0]

    def _from_magnitude(self, S):
        M = (self.basis @ S).astype(np.float32)
        return _to_log(M, scale="db", floor_db=self.floor_db, gain=1.0) if self.scale == "db" else M

    def _bands(self, M):
        return _from_log(M, scale="db", floor_db=self.floor_db, gain=1.0) if self.scale == "db" else M

    def _to_magnitude(self, M, *, nnls_iter: int = 60):
        return mel_to_linear(self._bands(M), basis=self.basis, n_iter=nnls_iter)

    def _check_basis_size(self, n_features: float) -> None:
        if n_features * self.n_bins > MAX_BASIS:
            raise ParameterError(f"{type(self).__name__} with n_fft={self.n_fft} and {n_features:.0f} bands would "
                                 f"hold a filter bank of {n_features * self.n_bins:.3g} values, more than {MAX_BASIS}: "
                                 f"use fewer bands or a smaller n_fft")

    def to_linear(self, frames, *, n_iter: int = 60) -> np.ndarray:
        """Linear magnitude estimate ``[shape=(n_bins, n_frames)]`` from frames (no phase).

        ``frames [shape=(n_frames, n_features)]``; ``n_iter``: the NNLS updates of :func:`mel_to_linear`.
        """
        return self._to_magnitude(self._check_frames(frames).T, nnls_iter=_phase._check_n_iter(n_iter))

    def decode(self, frames, *, method="pghi+fgla", n_iter=32, length=None, seed=0, nnls_iter=60):
        """Audio from frames: :meth:`to_linear` with ``nnls_iter`` updates, then
        :func:`musiclib.phase.reconstruct` (``method``, ``n_iter``, ``length``, ``seed``).

        Returns ``y [shape=(length,)]``, float32.
        """
        return self._invert_magnitude(self.to_linear(frames, n_iter=nnls_iter), method=method, n_iter=n_iter,
                                      length=length, seed=seed)


@dataclass(frozen=True, kw_only=True)
class MelSpectrogram(_FilterBank):
    """Mel-band magnitude frames ``[shape=(n_frames, n_mels)]``, optionally in dB.

    Parameters
    ----------
    sr, n_fft, hop_length :
        As :class:`LinearSpectrogram`.
    n_mels : int
        Number of bands (at most the number of STFT bins).
    fmin, fmax : float
        Band edges in Hz (``fmax=None``: ``sr / 2``).
    scale : {"linear", "db"}
        Band magnitudes as they are, or ``20 log10`` with an absolute floor of ``floor_db``.
    floor_db : float < 0
    """

    name = "mel"
    n_mels: int = 128
    fmin: float = 0.0
    fmax: float | None = None

    def __post_init__(self):
        super().__post_init__()
        check_int("n_mels", self.n_mels, high=self.n_bins, note=f"the frequency bins of n_fft={self.n_fft}")
        self._check_basis_size(self.n_mels)
        check_number("fmin", self.fmin, low=0)
        check_number("fmax", self.fmax, low=0, allow_none=True)
        fmax = self.sr / 2 if self.fmax is None else self.fmax
        if not (0 <= self.fmin < fmax <= self.sr / 2):
            raise ParameterError(
                f"need 0 <= fmin < fmax <= sr/2, got fmin={self.fmin}, fmax={self.fmax} at sr={self.sr}"
            )

    @property
    def n_features(self) -> int:
        return self.n_mels

    @property
    def basis(self) -> np.ndarray:
        """The mel filter bank ``[shape=(n_mels, n_bins)]`` (librosa's, Slaney-normalised)."""
        return _mel_basis(self.sr, self.n_fft, self.n_mels, float(self.fmin), self.fmax)

    def mel(self, S: np.ndarray) -> np.ndarray:
        """Mel-band magnitudes ``[shape=(n_mels, n_frames)]`` of a linear magnitude ``S [shape=(n_bins, n_frames)]``."""
        return (self.basis @ S).astype(np.float32)

    def decode(self, frames, *, method="pghi+fgla", n_iter=32, length=None, seed=0, refit=False, nnls_iter=60):
        """Audio from mel frames.

        Parameters
        ----------
        frames : np.ndarray [shape=(n_frames, n_mels)]
        method, n_iter, length, seed :
            As :func:`musiclib.phase.reconstruct`.
        refit : bool
            Re-fit the magnitude to the mel bands during fast Griffin-Lim (:class:`_MelRefit`;
            only for ``method`` "pghi+fgla" and "fgla"). It matches the mel bands better but the true
            linear magnitude worse (``benchmarks/phase.py``, mel section).
        nnls_iter : int
            Multiplicative updates of :func:`mel_to_linear`.

        Returns
        -------
        y : np.ndarray [shape=(length,)], float32
        """
        nnls_iter = _phase._check_n_iter(nnls_iter, name="nnls_iter")
        if not refit or n_iter == 0 or method not in ("pghi+fgla", "fgla"):
            return super().decode(frames, method=method, n_iter=n_iter, length=length, seed=seed, nnls_iter=nnls_iter)
        M = self._bands(self._check_frames(frames).T)
        return _phase.fast_griffin_lim(
            mel_to_linear(M, basis=self.basis, n_iter=nnls_iter), n_iter=n_iter, momentum=_phase.RECONSTRUCT_MOMENTUM,
            hop_length=self.hop_length, length=length, init="pghi" if method == "pghi+fgla" else "random", seed=seed,
            refit=_MelRefit(M, self.basis),
        )


class _MelRefit:
    """Magnitude target that keeps a consistent estimate's fine structure but matches the mel bands.

    Each bin of the estimate ``A`` is scaled by the filter-weighted mean, over the bands it belongs
    to, of ``target band / estimated band``. Works frame-major: ``A [shape=(n_frames, n_bins)]``.
    """

    def __init__(self, M, basis):
        self.M_fm = np.ascontiguousarray(M.T, dtype=np.float32)  # (n_frames, n_mels)
        B = np.asarray(basis, dtype=np.float32)  # (n_mels, n_bins); each bin in <= 2 bands
        colsum = B.sum(axis=0)
        # frame-major products as (sparse @ dense.T).T keep the sparse operand on the left
        self.B = scipy.sparse.csr_matrix(B)
        self.Bt = scipy.sparse.csr_matrix(B.T * np.where(colsum > 0, 1.0 / np.maximum(colsum, 1e-10), 0.0)[:, None])

    def __call__(self, A):
        bands = (self.B @ A.T).T  # (n_frames, n_mels)
        ratio = self.M_fm / (bands + np.float32(1e-10))
        return A * (self.Bt @ ratio.T).T


@functools.lru_cache(maxsize=16)
def _log_frequency_basis(n_fft, bins_per_octave):
    n_bins = n_fft // 2 + 1
    # centres every 1/bins_per_octave octave from the first bin up, snapped to bins: where that
    # spacing is narrower than a bin (low frequencies) every bin is its own filter
    n_centres = int(np.floor(bins_per_octave * np.log2(n_bins - 1))) + 1
    centres = np.unique(np.rint(2.0 ** (np.arange(n_centres) / bins_per_octave)).astype(int))
    nodes = np.concatenate([[-1, 0], centres[centres < n_bins - 1], [n_bins - 1, n_bins]])
    k = np.arange(n_bins)
    basis = np.stack([np.interp(k, nodes[i - 1 : i + 2], [0.0, 1.0, 0.0]) for i in range(1, len(nodes) - 1)])
    return (basis / basis.sum(axis=1, keepdims=True)).astype(np.float32)


@dataclass(frozen=True, kw_only=True)
class LogFrequencySpectrogram(_FilterBank):
    """Log-frequency filter-bank frames ``[shape=(n_frames, n_features)]``, optionally in dB.

    Triangular filters on the STFT magnitude, centred every ``1 / bins_per_octave`` octave and
    snapped to FFT bins; where that spacing is narrower than one bin, every bin is its own filter,
    so the low end (bass lines, fundamentals) is kept exactly and only the upper octaves are pooled.
    Each filter averages its bins (weights sum to one).

    Parameters
    ----------
    n_fft, hop_length :
        As :class:`LinearSpectrogram`.
    bins_per_octave : int
        Filters per octave in the log-spaced range; more keep more detail and make more features.
    scale, floor_db :
        As :class:`MelSpectrogram`.
    """

    name = "logfreq"
    bins_per_octave: int = 48
    scale: str = "db"

    def __post_init__(self):
        super().__post_init__()
        check_int("bins_per_octave", self.bins_per_octave, high=MAX_BINS_PER_OCTAVE)
        self._check_basis_size(self.bins_per_octave * np.log2(self.n_bins - 1) + 3)  # an upper bound on the bands

    @property
    def basis(self) -> np.ndarray:
        """The filter bank ``[shape=(n_features, n_bins)]``, rows summing to one."""
        return _log_frequency_basis(self.n_fft, int(self.bins_per_octave))


@dataclass(frozen=True, kw_only=True)
class DCTBlocks(Representation):
    """Orthonormal DCT-II of overlapping raw-audio blocks, with an exact inverse.

    Each block of ``block_length`` samples (hop ``block_length // 2``) is multiplied by a
    square-root periodic Hann window and transformed with an orthonormal DCT-II; the squared window
    sums to one at 50 % overlap, so windowing the inverse DCT and overlap-adding is exact. Frames are
    ``[shape=(n_frames, block_length)]``, real: a model predicts the signal itself, with no phase.

    Parameters
    ----------
    sr : int
        Sample rate in Hz (recorded).
    block_length : int
        Samples per block, a power of two >= 4.
    """

    name = "dct"
    block_length: int = 512

    def __post_init__(self):
        super().__post_init__()
        _check_pow2("block_length", self.block_length, low=4)

    @property
    def n_features(self) -> int:
        return self.block_length

    @property
    def hop_length(self) -> int:
        """Samples per frame: half a block."""
        return self.block_length // 2

    @property
    def _window(self) -> np.ndarray:
        # periodic Hann at 50 % overlap sums to one, so its square root makes an orthogonal lapped pair
        return np.sqrt(np.hanning(self.block_length + 1)[:-1]).astype(np.float32)

    def n_frames(self, n_samples: int) -> int:
        return -(-n_samples // self.hop_length) + 1

    def encode(self, y):
        y = self._check_signal(y, min_samples=self.block_length)
        h = self.hop_length
        n_frames = self.n_frames(len(y))
        padded = np.zeros((n_frames + 1) * h, dtype=np.float32)
        padded[h : h + len(y)] = y
        blocks = np.lib.stride_tricks.sliding_window_view(padded, self.block_length)[::h][:n_frames]
        return scipy.fft.dct(blocks * self._window, type=2, norm="ortho", axis=1).astype(np.float32)

    def decode(self, frames, *, length=None, **_ignored):
        """Exact inverse of :meth:`encode` (least-squares overlap-add for any frames).

        Parameters
        ----------
        frames : np.ndarray [shape=(n_frames, block_length)]
        length : int > 0, optional
            Output length in samples (default: every sample the frames cover).
        **_ignored :
            Phase-reconstruction settings (``method``, ``n_iter``, ...), accepted and unused.

        Returns
        -------
        y : np.ndarray [shape=(length,)], float32
        """
        _phase._check_length(length)
        frames = self._check_frames(frames)
        h = self.hop_length
        # in float64: frames near float32's limit would overflow in the transform
        blocks = scipy.fft.idct(frames.astype(np.float64), type=2, norm="ortho", axis=1) * self._window
        out = np.zeros((len(frames) + 1) * h, dtype=np.float64)
        # two interleaved sets of non-overlapping blocks: add each set with one reshape
        for parity in (0, 1):
            sel = blocks[parity::2]
            start = parity * h
            seg = out[start : start + len(sel) * self.block_length]
            seg += sel.reshape(-1)[: len(seg)]
        y = _finite_audio(out[h:], frames, "DCTBlocks.decode()")
        n = len(y) if length is None else int(length)
        return np.pad(y, (0, max(0, n - len(y))))[:n]


@dataclass(frozen=True, kw_only=True)
class RawBlocks(Representation):
    """Consecutive, non-overlapping waveform blocks ``[shape=(n_frames, block_length)]``.

    The last block is zero-padded; ``decode(frames, length=n)`` trims it back.

    Parameters
    ----------
    sr : int
        Sample rate in Hz (recorded).
    block_length : int
        Samples per block (>= 1).
    """

    name = "raw"
    block_length: int = 256

    def __post_init__(self):
        super().__post_init__()
        check_int("block_length", self.block_length, high=_phase.MAX_N_FFT)

    @property
    def n_features(self) -> int:
        return self.block_length

    @property
    def hop_length(self) -> int:
        """Samples per frame: one block."""
        return self.block_length

    def n_frames(self, n_samples: int) -> int:
        return -(-n_samples // self.block_length)

    def encode(self, y):
        y = self._check_signal(y, min_samples=self.block_length)
        n = self.n_frames(len(y)) * self.block_length
        return np.pad(y, (0, n - len(y))).reshape(-1, self.block_length)

    def decode(self, frames, *, length=None, **_ignored):
        """The blocks joined, trimmed or zero-padded to ``length`` samples (as :meth:`DCTBlocks.decode`)."""
        _phase._check_length(length)
        y = self._check_frames(frames).reshape(-1)
        return y if length is None else np.pad(y, (0, max(0, int(length) - len(y))))[: int(length)]


#: Representation classes by name.
REPRESENTATIONS = {
    cls.name: cls
    for cls in (LinearSpectrogram, LogSpectrogram, MelSpectrogram, LogFrequencySpectrogram, DCTBlocks, RawBlocks)
}


def make_representation(name: str, **params) -> Representation:
    """Build a representation by name: ``make_representation("mel", n_fft=1024, n_mels=128)``.

    Raises
    ------
    ParameterError
        Unknown ``name`` or a parameter the representation does not have (the message lists the valid ones).
    """
    if name not in REPRESENTATIONS:
        raise ParameterError(f"representation name={name!r} is not one of {sorted(REPRESENTATIONS)}")
    cls = REPRESENTATIONS[name]
    valid = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(params) - valid)
    if unknown:
        raise ParameterError(f"{name!r} representation has no parameter(s) {unknown}; valid: {sorted(valid)}")
    return cls(**params)


def from_params(params: dict) -> Representation:
    """Rebuild a representation from its :attr:`Representation.params` (a dict with ``"name"``).

    Raises
    ------
    ParameterError
        ``params`` is not a dict, has no ``"name"``, or names an unknown representation or parameter.
    """
    if not isinstance(params, dict):
        raise ParameterError(f"representation params={show(params)} must be a dict with a 'name' "
                             f"(a Representation's .params)")
    params = dict(params)
    try:
        name = params.pop("name")
    except KeyError:
        raise ParameterError(f"representation params {params!r} lack a 'name'") from None
    return make_representation(name, **params)
