"""Representations: one contract for turning audio into model-ready frames and back.

Every representation has

- ``encode(y) -> frames [shape=(n_frames, n_features)]``, float32, time first (what models eat);
- ``decode(frames) -> y [shape=(n_samples,)]``, using :mod:`musiclib.phase` where phase was dropped;
- ``params``: a JSON-able dict that records everything ``encode`` depends on, so a model trained on
  one representation can be paired with its inverse later (:func:`from_params` rebuilds it), and the
  feature cache can key on it.

=========== ============================== =============================================
name        frames                         inverse
=========== ============================== =============================================
``linear``  STFT magnitude                 phase reconstruction
``log``     dB or log1p of the magnitude   exponent, then phase reconstruction
``mel``     mel-band magnitude (or its dB) non-negative least squares + phase iterations
                                           that keep the magnitude consistent with the
                                           mel bands
``logfreq`` log-frequency filter bank on   non-negative least squares + phase reconstruction
            the STFT, bins kept below the
            knee (or its dB)
``dct``     orthonormal DCT-II of          exact: inverse DCT and windowed overlap-add
            overlapping windowed blocks
``raw``     consecutive waveform blocks    exact: concatenation
=========== ============================== =============================================

See ``notebooks/01_spectrogram_settings`` for how the settings trade error, time and size.
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass, field

import numpy as np
import scipy.fft

from musiclib import phase as _phase
from musiclib.audio import DEFAULT_SR
from musiclib.errors import ParameterError

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


def _is_pow2(n) -> bool:
    return isinstance(n, (int, np.integer)) and not isinstance(n, bool) and n > 0 and (n & (n - 1)) == 0


def _check_int(name, value, *, minimum=1):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ParameterError(f"{name}={value!r} must be an integer >= {minimum}")


def _check_signal(y, *, min_samples: int, what: str) -> np.ndarray:
    y = np.asarray(y)
    if y.ndim != 1:
        raise ParameterError(f"{what}.encode() needs a mono signal of shape (n_samples,), got shape {y.shape}")
    if not np.issubdtype(y.dtype, np.number):
        raise ParameterError(f"{what}.encode() needs numeric samples, got dtype {y.dtype}")
    if len(y) < min_samples:
        raise ParameterError(
            f"{what}.encode() got a signal of {len(y)} samples, shorter than one frame ({min_samples} samples)"
        )
    y = y.astype(np.float32, copy=False)
    if not np.all(np.isfinite(y)):
        raise ParameterError(f"{what}.encode() got {int(np.count_nonzero(~np.isfinite(y)))} NaN or infinite samples")
    return y


def _check_length(length):
    if length is not None and (isinstance(length, bool) or not np.isfinite(length) or int(length) < 1):
        raise ParameterError(f"length={length!r} must be a positive number of samples")


@dataclass(frozen=True, kw_only=True)
class Representation:
    """Base class: see the module docstring for the contract."""

    name = "base"
    sr: int = DEFAULT_SR

    def __post_init__(self):
        _check_int("sr", self.sr)

    # -- the contract -------------------------------------------------------------------------
    @property
    def n_features(self) -> int:  # pragma: no cover - overridden
        raise NotImplementedError

    # subclasses provide ``hop_length`` (samples per frame) as a field or a property

    def encode(self, y: np.ndarray) -> np.ndarray:  # pragma: no cover - overridden
        raise NotImplementedError

    def decode(self, frames: np.ndarray, **kwargs) -> np.ndarray:  # pragma: no cover - overridden
        raise NotImplementedError

    # -- shared helpers -----------------------------------------------------------------------
    @property
    def params(self) -> dict:
        """Everything ``encode`` depends on, JSON-able, with ``"name"``."""
        return {"name": self.name, **{f.name: getattr(self, f.name) for f in dataclasses.fields(self)}}

    @property
    def frames_per_second(self) -> float:
        return self.sr / self.hop_length

    def n_frames(self, n_samples: int) -> int:
        """How many frames ``encode`` makes from ``n_samples`` samples."""
        raise NotImplementedError  # pragma: no cover

    def _check_frames(self, frames) -> np.ndarray:
        frames = np.asarray(frames)
        if frames.ndim != 2 or frames.shape[1] != self.n_features or frames.shape[0] < 1:
            raise ParameterError(
                f"{type(self).__name__}.decode() needs frames of shape (n_frames, {self.n_features}), "
                f"got {frames.shape}"
            )
        frames = frames.astype(np.float32, copy=False)
        if not np.all(np.isfinite(frames)):
            raise ParameterError(
                f"{type(self).__name__}.decode() got {int(np.count_nonzero(~np.isfinite(frames)))} "
                "NaN or infinite values"
            )
        return frames


@dataclass(frozen=True, kw_only=True)
class _STFTBased(Representation):
    n_fft: int = 1024
    hop_length: int | None = None

    def __post_init__(self):
        super().__post_init__()
        if not _is_pow2(self.n_fft) or self.n_fft < 16:
            raise ParameterError(f"n_fft={self.n_fft!r} must be a power of two >= 16")
        hop = self.hop_length
        if hop is None:
            object.__setattr__(self, "hop_length", self.n_fft // 4)
        else:
            if isinstance(hop, bool) or not isinstance(hop, (int, np.integer)) or hop <= 0:
                raise ParameterError(f"hop_length={hop!r} must be a positive integer (samples)")
            if hop > self.n_fft:
                raise ParameterError(f"hop_length={hop} must not exceed n_fft={self.n_fft}")
            object.__setattr__(self, "hop_length", int(hop))

    @property
    def n_bins(self) -> int:
        return self.n_fft // 2 + 1

    def n_frames(self, n_samples: int) -> int:
        return 1 + n_samples // self.hop_length

    def magnitude(self, y: np.ndarray) -> np.ndarray:
        """STFT magnitude ``[shape=(n_bins, n_frames)]`` (librosa's layout)."""
        y = _check_signal(y, min_samples=self.n_fft, what=type(self).__name__)
        return np.abs(_phase.stft(y, n_fft=self.n_fft, hop_length=self.hop_length)).astype(np.float32)

    def _invert_magnitude(self, S, *, method, n_iter, length, seed):
        return _phase.reconstruct(
            S, method=method, n_iter=n_iter, hop_length=self.hop_length, length=length, seed=seed
        )


@dataclass(frozen=True, kw_only=True)
class LinearSpectrogram(_STFTBased):
    """STFT magnitude frames ``[shape=(n_frames, 1 + n_fft // 2)]``.

    Parameters
    ----------
    sr : int
        Sample rate in Hz (recorded; the transform itself does not depend on it).
    n_fft : int
        Window and FFT length in samples (a power of two).
    hop_length : int, optional
        Hop in samples; default ``n_fft // 4``.

    Examples
    --------
    >>> rep = LinearSpectrogram(n_fft=1024)
    >>> y = np.sin(2 * np.pi * 440 * np.arange(22050) / 22050).astype(np.float32)
    >>> rep.encode(y).shape
    (87, 513)
    """

    name = "linear"

    @property
    def n_features(self) -> int:
        return self.n_bins

    def encode(self, y):
        return np.ascontiguousarray(self.magnitude(y).T)

    def decode(self, frames, *, method="pghi+fgla", n_iter=32, length=None, seed=0):
        """Audio from magnitude frames via :func:`musiclib.phase.reconstruct`."""
        S = np.maximum(self._check_frames(frames), 0).T
        return self._invert_magnitude(S, method=method, n_iter=n_iter, length=length, seed=seed)


def _to_log(S, *, scale, floor_db, gain):
    if scale == "db":
        return (20.0 * np.log10(np.maximum(S, np.float32(10 ** (floor_db / 20))))).astype(np.float32)
    return np.log1p(gain * S).astype(np.float32)


#: dB values above this are no audio level (an STFT magnitude of 1e10); decoding them is refused
MAX_DB = 200.0


def _from_log(X, *, scale, floor_db, gain):
    if scale == "db":
        top = float(np.max(X)) if np.size(X) else 0.0
        if top > MAX_DB:
            raise ParameterError(
                f"frames reach {top:.4g} dB, beyond any audio level (> {MAX_DB:g} dB): an unguarded blow-up?"
            )
        S = np.power(np.float32(10.0), np.maximum(X, floor_db) / np.float32(20.0))
        S[X <= floor_db] = 0.0
        return S.astype(np.float32)
    return (np.expm1(np.maximum(X, 0)) / gain).astype(np.float32)


def _check_log_params(scale, floor_db, gain):
    if scale not in ("db", "log1p"):
        raise ParameterError(f"scale={scale!r} must be 'db' or 'log1p'")
    if not np.isfinite(floor_db) or floor_db >= 0:
        raise ParameterError(f"floor_db={floor_db!r} must be a finite negative level in dB")
    if not np.isfinite(gain) or gain <= 0:
        raise ParameterError(f"gain={gain!r} must be a positive number")


@dataclass(frozen=True, kw_only=True)
class LogSpectrogram(_STFTBased):
    """Log-magnitude frames: ``20 log10(max(|X|, floor))`` (``scale="db"``) or ``log1p(gain |X|)``.

    The floor is absolute (``floor_db`` dB re. 1.0), not relative to each clip's maximum, so
    loudness is comparable across clips and the inverse is exact above the floor.
    """

    name = "log"
    scale: str = "db"
    floor_db: float = -80.0
    gain: float = 1.0

    def __post_init__(self):
        super().__post_init__()
        _check_log_params(self.scale, self.floor_db, self.gain)

    @property
    def n_features(self) -> int:
        return self.n_bins

    def encode(self, y):
        S = self.magnitude(y)
        return np.ascontiguousarray(_to_log(S, scale=self.scale, floor_db=self.floor_db, gain=self.gain).T)

    def decode(self, frames, *, method="pghi+fgla", n_iter=32, length=None, seed=0):
        S = _from_log(self._check_frames(frames).T, scale=self.scale, floor_db=self.floor_db, gain=self.gain)
        return self._invert_magnitude(S, method=method, n_iter=n_iter, length=length, seed=seed)


@functools.lru_cache(maxsize=16)
def _mel_basis(sr, n_fft, n_mels, fmin, fmax):
    import librosa

    return librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=n_mels, fmin=fmin, fmax=fmax).astype(np.float32)


def mel_to_linear(M: np.ndarray, *, basis: np.ndarray, n_iter: int = 60) -> np.ndarray:
    """Non-negative least-squares estimate of a linear magnitude from mel-band magnitudes.

    Solves ``min_S ||basis @ S - M||^2, S >= 0`` with multiplicative updates (Lee & Seung 2001),
    started from the normalised transpose of the basis, which spreads each band's energy over its
    bins in proportion to the filter's weight. Much faster than per-frame NNLS for the same error.

    Parameters
    ----------
    M : np.ndarray [shape=(n_mels, n_frames)]
        Mel-band magnitudes (power 1).
    basis : np.ndarray [shape=(n_mels, n_bins)]
        The mel filter bank used to make ``M``.
    n_iter : int
        Multiplicative update steps.

    Returns
    -------
    S : np.ndarray [shape=(n_bins, n_frames)], float32, non-negative
    """
    import scipy.sparse

    M = np.maximum(np.asarray(M, dtype=np.float32), 0)
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
class MelSpectrogram(_STFTBased):
    """Mel-band magnitude frames ``[shape=(n_frames, n_mels)]``, optionally in dB.

    Parameters
    ----------
    n_mels : int
        Number of bands (at most the number of STFT bins).
    fmin, fmax : float
        Band edges in Hz (``fmax=None``: ``sr / 2``).
    scale : {"linear", "db"}
        Band magnitudes as they are, or ``20 log10`` with an absolute floor of ``floor_db``.

    Notes
    -----
    ``decode`` rebuilds the linear magnitude by non-negative least squares
    (:func:`mel_to_linear`), then reconstructs its phase (PGHI + fast Griffin-Lim by default).
    With ``refit=True`` the fast Griffin-Lim iterations also re-fit the magnitude to the mel
    bands at each step: each bin keeps the fine structure that the consistent spectrogram
    suggests, scaled so that the bands it belongs to match the target. The mel bands do not hold
    the fine structure within a band, so the error against the true linear magnitude has a floor
    (the "ceiling" SC of :meth:`to_linear`); ``notebooks/01`` and ``benchmarks/phase.py`` report it.
    """

    name = "mel"
    n_mels: int = 128
    fmin: float = 0.0
    fmax: float | None = None
    scale: str = "linear"
    floor_db: float = -80.0

    def __post_init__(self):
        super().__post_init__()
        _check_int("n_mels", self.n_mels)
        if self.n_mels > self.n_bins:
            raise ParameterError(
                f"n_mels={self.n_mels} is more than the {self.n_bins} frequency bins of n_fft={self.n_fft}"
            )
        nyquist = self.sr / 2
        fmax = nyquist if self.fmax is None else self.fmax
        if not (0 <= self.fmin < fmax <= nyquist):
            raise ParameterError(
                f"need 0 <= fmin < fmax <= sr/2, got fmin={self.fmin}, fmax={self.fmax} at sr={self.sr}"
            )
        if self.scale not in ("linear", "db"):
            raise ParameterError(f"scale={self.scale!r} must be 'linear' or 'db'")
        _check_log_params("db", self.floor_db, 1.0)

    @property
    def n_features(self) -> int:
        return self.n_mels

    @property
    def basis(self) -> np.ndarray:
        """The mel filter bank ``[shape=(n_mels, n_bins)]`` (librosa's, Slaney-normalised)."""
        return _mel_basis(self.sr, self.n_fft, self.n_mels, float(self.fmin), self.fmax)

    def mel(self, S: np.ndarray) -> np.ndarray:
        """Mel-band magnitudes ``[shape=(n_mels, n_frames)]`` of a linear magnitude ``S``."""
        return (self.basis @ S).astype(np.float32)

    def encode(self, y):
        M = self.mel(self.magnitude(y))
        if self.scale == "db":
            M = _to_log(M, scale="db", floor_db=self.floor_db, gain=1.0)
        return np.ascontiguousarray(M.T)

    def to_linear(self, frames, *, n_iter: int = 60) -> np.ndarray:
        """Linear magnitude estimate ``[shape=(n_bins, n_frames)]`` from mel frames (no phase)."""
        M = self._check_frames(frames).T
        if self.scale == "db":
            M = _from_log(M, scale="db", floor_db=self.floor_db, gain=1.0)
        return mel_to_linear(M, basis=self.basis, n_iter=n_iter)

    def decode(self, frames, *, method="pghi+fgla", n_iter=32, length=None, seed=0, refit=False, nnls_iter=60):
        """Audio from mel frames.

        Parameters
        ----------
        method, n_iter, seed :
            As :func:`musiclib.phase.reconstruct`.
        refit : bool
            Re-fit the magnitude to the mel bands during fast Griffin-Lim (see Notes of the
            class; only for ``method`` "pghi+fgla" and "fgla"). Measured on drum loops and
            techno at n_fft 512-2048 (``benchmarks/phase.py``), the re-fit matches the mel bands
            2-9 dB better but the true linear magnitude 0.3-1.5 dB worse, so the default is
            plain phase reconstruction on the NNLS magnitude.
        nnls_iter : int
            Multiplicative updates of :func:`mel_to_linear` (10 is within 0.3 dB of 60 and is
            what generation uses, see :data:`musiclib.generate.GENERATION_INVERSION`).
        """
        M = self._check_frames(frames).T
        if self.scale == "db":
            M = _from_log(M, scale="db", floor_db=self.floor_db, gain=1.0)
        S = mel_to_linear(M, basis=self.basis, n_iter=nnls_iter)
        if not refit or n_iter == 0 or method not in ("pghi+fgla", "fgla"):
            return self._invert_magnitude(S, method=method, n_iter=n_iter, length=length, seed=seed)
        return _phase.fast_griffin_lim(
            S, n_iter=n_iter, momentum=_phase.RECONSTRUCT_MOMENTUM, hop_length=self.hop_length,
            length=length, init="pghi" if method == "pghi+fgla" else "random", seed=seed,
            refit=_MelRefit(M, self.basis),
        )


class _MelRefit:
    """Magnitude target that keeps a consistent estimate's fine structure but matches the mel bands.

    Each bin of the estimate ``A`` is scaled by the filter-weighted mean, over the bands it belongs
    to, of ``target band / estimated band``. Works frame-major: ``A [shape=(n_frames, n_bins)]``.
    """

    def __init__(self, M, basis):
        import scipy.sparse

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
class LogFrequencySpectrogram(_STFTBased):
    """Log-frequency filter-bank frames ``[shape=(n_frames, n_features)]``, optionally in dB.

    Triangular filters on the STFT magnitude, centred every ``1 / bins_per_octave`` octave and
    snapped to FFT bins. Where that spacing is narrower than one bin (below about
    ``bins_per_octave * sr / n_fft / ln 2`` Hz) every bin is its own filter, so the low end, where
    bass lines and the fundamentals of sustained parts lie, is kept exactly as the linear STFT
    has it, and only the wide upper octaves are pooled. Each filter averages its bins (weights
    sum to one), so a flat spectrum gives flat frames at the magnitude's own level. The inverse is
    the mel path's: non-negative least squares (:func:`mel_to_linear`, which takes any basis),
    then phase reconstruction.

    Parameters
    ----------
    n_fft, hop_length :
        As :class:`LinearSpectrogram`.
    bins_per_octave : int
        Filters per octave in the log-spaced range; more keep more detail and make more features.
    scale : {"linear", "db"}
        Filter outputs as they are, or ``20 log10`` with an absolute floor of ``floor_db``.

    Notes
    -----
    ``notebooks/01_spectrogram_settings`` measures its decode ceiling beside mel and the linear
    STFT (:func:`musiclib.evaluation.sweep.decode_ceiling`).

    Examples
    --------
    >>> rep = LogFrequencySpectrogram(n_fft=1024, bins_per_octave=24)
    >>> rep.encode(np.ones(4096, dtype=np.float32)).shape[1] == rep.n_features
    True
    """

    name = "logfreq"
    bins_per_octave: int = 48
    scale: str = "db"
    floor_db: float = -80.0

    def __post_init__(self):
        super().__post_init__()
        bpo = self.bins_per_octave  # (becomes errors.check_int once the shared validation module lands)
        if isinstance(bpo, bool) or not isinstance(bpo, (int, np.integer)) or bpo < 1:
            raise ParameterError(f"bins_per_octave={bpo!r} must be an integer >= 1")
        if self.scale not in ("linear", "db"):
            raise ParameterError(f"scale={self.scale!r} must be 'linear' or 'db'")
        _check_log_params("db", self.floor_db, 1.0)

    @property
    def basis(self) -> np.ndarray:
        """The filter bank ``[shape=(n_features, n_bins)]``, rows summing to one."""
        return _log_frequency_basis(self.n_fft, int(self.bins_per_octave))

    @property
    def n_features(self) -> int:
        return self.basis.shape[0]

    def encode(self, y):
        X = self.basis @ self.magnitude(y)
        if self.scale == "db":
            X = _to_log(X, scale="db", floor_db=self.floor_db, gain=1.0)
        return np.ascontiguousarray(X.T, dtype=np.float32)

    def to_linear(self, frames, *, n_iter: int = 60) -> np.ndarray:
        """Linear magnitude estimate ``[shape=(n_bins, n_frames)]`` from the frames (no phase)."""
        X = self._check_frames(frames).T
        if self.scale == "db":
            X = _from_log(X, scale="db", floor_db=self.floor_db, gain=1.0)
        return mel_to_linear(X, basis=self.basis, n_iter=n_iter)

    def decode(self, frames, *, method="pghi+fgla", n_iter=32, length=None, seed=0, nnls_iter=60):
        """Audio from the frames: :meth:`to_linear` with ``nnls_iter`` updates, then
        :func:`musiclib.phase.reconstruct` (``method``, ``n_iter``, ``seed``)."""
        S = self.to_linear(frames, n_iter=nnls_iter)
        return self._invert_magnitude(S, method=method, n_iter=n_iter, length=length, seed=seed)


def _sqrt_hann(n: int) -> np.ndarray:
    # periodic Hann at 50 % overlap sums to one, so its square root makes an orthogonal lapped pair
    return np.sqrt(0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n) / n)).astype(np.float32)


@dataclass(frozen=True, kw_only=True)
class DCTBlocks(Representation):
    """Orthonormal DCT-II of overlapping raw-audio blocks, with an exact inverse.

    Each block of ``block_length`` samples (hop ``block_length // 2``) is multiplied by a
    square-root periodic Hann window and transformed with an orthonormal DCT-II. Because the
    squared window sums to one at 50 % overlap, windowing the inverse DCT again and overlap-adding
    gives back the signal exactly. Frames are ``[shape=(n_frames, block_length)]``.

    The DCT domain is real, so a model predicts the signal itself, sign and all: no phase to
    reconstruct, and the spectrum is narrower and clearer than an FFT magnitude for tonal music.
    """

    name = "dct"
    block_length: int = 512

    def __post_init__(self):
        super().__post_init__()
        if not _is_pow2(self.block_length) or self.block_length < 4:
            raise ParameterError(f"block_length={self.block_length!r} must be a power of two >= 4")

    @property
    def n_features(self) -> int:
        return self.block_length

    @property
    def hop_length(self) -> int:
        return self.block_length // 2

    def n_frames(self, n_samples: int) -> int:
        return -(-n_samples // self.hop_length) + 1

    def encode(self, y):
        y = _check_signal(y, min_samples=self.block_length, what="DCTBlocks")
        h = self.hop_length
        n_frames = self.n_frames(len(y))
        padded = np.zeros((n_frames + 1) * h, dtype=np.float32)
        padded[h : h + len(y)] = y
        blocks = np.lib.stride_tricks.sliding_window_view(padded, self.block_length)[::h][:n_frames]
        return scipy.fft.dct(blocks * _sqrt_hann(self.block_length), type=2, norm="ortho", axis=1).astype(np.float32)

    def decode(self, frames, *, length=None, **_ignored):
        """Exact inverse of :meth:`encode` (least-squares overlap-add for any frames)."""
        _check_length(length)
        frames = self._check_frames(frames)
        h = self.hop_length
        blocks = scipy.fft.idct(frames, type=2, norm="ortho", axis=1).astype(np.float32) * _sqrt_hann(self.block_length)
        out = np.zeros((len(frames) + 1) * h, dtype=np.float32)
        # two interleaved sets of non-overlapping blocks: add each set with one reshape
        for parity in (0, 1):
            sel = blocks[parity::2]
            start = parity * h
            seg = out[start : start + len(sel) * self.block_length]
            seg += sel.reshape(-1)[: len(seg)]
        y = out[h:]
        n = len(y) if length is None else int(length)
        return np.pad(y, (0, max(0, n - len(y))))[:n]


@dataclass(frozen=True, kw_only=True)
class RawBlocks(Representation):
    """Consecutive, non-overlapping waveform blocks ``[shape=(n_frames, block_length)]``.

    The last block is zero-padded; ``decode(frames, length=n)`` trims it back.
    """

    name = "raw"
    block_length: int = 256

    def __post_init__(self):
        super().__post_init__()
        _check_int("block_length", self.block_length)

    @property
    def n_features(self) -> int:
        return self.block_length

    @property
    def hop_length(self) -> int:
        return self.block_length

    def n_frames(self, n_samples: int) -> int:
        return -(-n_samples // self.block_length)

    def encode(self, y):
        y = _check_signal(y, min_samples=self.block_length, what="RawBlocks")
        n = self.n_frames(len(y)) * self.block_length
        return np.pad(y, (0, n - len(y))).reshape(-1, self.block_length)

    def decode(self, frames, *, length=None, **_ignored):
        _check_length(length)
        y = self._check_frames(frames).reshape(-1)
        return y if length is None else np.pad(y, (0, max(0, int(length) - len(y))))[: int(length)]


#: Representation classes by name.
REPRESENTATIONS = {
    cls.name: cls
    for cls in (LinearSpectrogram, LogSpectrogram, MelSpectrogram, LogFrequencySpectrogram, DCTBlocks, RawBlocks)
}


def make_representation(name: str, **params) -> Representation:
    """Build a representation by name: ``make_representation("mel", n_fft=1024, n_mels=128)``."""
    if name not in REPRESENTATIONS:
        raise ParameterError(f"representation name={name!r} is not one of {sorted(REPRESENTATIONS)}")
    cls = REPRESENTATIONS[name]
    valid = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(params) - valid)
    if unknown:
        raise ParameterError(f"{name!r} representation has no parameter(s) {unknown}; valid: {sorted(valid)}")
    return cls(**params)


def from_params(params: dict) -> Representation:
    """Rebuild a representation from its :attr:`Representation.params`."""
    params = dict(params)
    try:
        name = params.pop("name")
    except KeyError:
        raise ParameterError(f"representation params {params!r} lack a 'name'") from None
    return make_representation(name, **params)
