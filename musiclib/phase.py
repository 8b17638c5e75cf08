"""Phase: reconstruction of audio from a magnitude spectrogram (Griffin-Lim family, Le Roux, PGHI).

Notebook ``01_spectrogram_settings``; ``benchmarks/phase.py`` measures the methods against librosa.
Conventions are librosa's: ``S [shape=(n_bins, n_frames)]`` with ``n_fft = 2 * (n_bins - 1)``,
centred frames, periodic Hann window, hop ``n_fft // 4`` by default.

Methods (:data:`METHODS`, deterministic for a given ``seed``): ``"gla"`` Griffin & Lim (1984);
``"fgla"`` fast Griffin-Lim (Perraudin, Balazs & Søndergaard 2013); ``"le_roux"`` (Le Roux et al.
2008, 2010); ``"pghi"`` phase-gradient heap integration (Průša, Balazs & Søndergaard 2017);
``"pghi+fgla"``, the default of :func:`reconstruct`.

Not ``librosa.griffinlim``: it cannot start from a PGHI phase, and it calls the full STFT pair every
iteration; the iterative methods here share one lean STFT pair (:class:`_Plan`).
"""

from __future__ import annotations

import os
import warnings

import librosa
import numpy as np
import scipy.fft

from musiclib.errors import (MAX_SAMPLES, ParameterError, check_choice, check_finite, check_fraction, check_int,
                             check_number, check_signal, check_size, show)

__all__ = [
    "METHODS",
    "HANN_GAMMA",
    "stft",
    "istft",
    "griffin_lim",
    "fast_griffin_lim",
    "le_roux",
    "pghi",
    "reconstruct",
]

#: Names accepted by :func:`reconstruct` (``method=``).
METHODS = ("gla", "fgla", "le_roux", "pghi", "pghi+fgla")

#: Gaussian-equivalent time-frequency ratio of the Hann window: lambda = HANN_GAMMA * n_fft**2
#: (Průša et al. 2017, Table I).
HANN_GAMMA = 0.25645

#: Threads for ``scipy.fft``.
FFT_WORKERS = max(1, min(4, os.cpu_count() or 1))

#: Momentum of :func:`reconstruct`'s fast Griffin-Lim stage after PGHI (chosen on ``benchmarks/phase.py``).
RECONSTRUCT_MOMENTUM = 0.95

#: Relative tolerance of :func:`pghi`: bins below ``tol * max(S)`` (-60 dB) get random phase.
PGHI_TOL = 1e-3

_INITS = ("random", "zeros", "pghi")

#: Largest FFT length accepted (samples).
MAX_N_FFT = 2**16

#: Most iterations an iterative method accepts.
MAX_N_ITER = 1_000

#: Most values one spectrogram or signal may hold (``n_bins * n_frames``, ``length``).
MAX_VALUES = MAX_SAMPLES

#: Range of :func:`pghi`'s ``gamma``, in units of ``n_fft**2``; beyond it the phase gradients overflow.
GAMMA_RANGE = (1e-6, 1e6)

#: Most neighbouring bins the truncated consistency operator of :func:`le_roux` sums over.
MAX_NEIGHBORS = 256


def _check_magnitude(S) -> np.ndarray:
    """A magnitude spectrogram as a float array (float32 unless float64) [shape=(n_bins, n_frames)]."""
    S = np.asarray(S)
    if np.iscomplexobj(S):
        raise ParameterError(f"S has complex dtype {S.dtype}; pass the magnitude np.abs(D), not the complex STFT")
    S = check_finite("S", S, ndim=2, dtype=np.float64 if S.dtype == np.float64 else np.float32)
    if S.shape[0] < 2:
        raise ParameterError(f"S has n_bins={S.shape[0]}; at least 2 frequency bins are needed")
    if S.min() < 0:
        raise ParameterError(f"S must be a non-negative magnitude; its minimum is {float(S.min()):g}")
    return S


def _check_size(n: float, *, what: str) -> None:
    check_size(n, what=what, itemsize=8, advice="use a larger hop_length, a smaller n_fft or a shorter signal")


def _check_n_fft(n_fft, *, name: str = "n_fft") -> int:
    return check_int(name, n_fft, low=2, high=MAX_N_FFT)


def _check_n_iter(n_iter, *, name: str = "n_iter") -> int:
    return check_int(name, n_iter, low=0, high=MAX_N_ITER)


def _check_length(length) -> int | None:
    return check_int("length", length, high=MAX_VALUES, allow_none=True, note="samples")


def _finite_signal(y: np.ndarray, S: np.ndarray, again) -> np.ndarray:
    """``y`` when finite; else ``again(S as float64)`` cast back, or a ParameterError naming S's peak.

    Magnitudes near float32's limit overflow inside the FFTs; the audio they imply usually fits float32.
    """
    if np.all(np.isfinite(y)):
        return y
    if S.dtype != np.float64:
        with np.errstate(over="ignore", invalid="ignore"):
            y = again(np.asarray(S, dtype=np.float64)).astype(S.dtype)
        if np.all(np.isfinite(y)):
            return y
    raise ParameterError(f"S reaches {float(np.max(S)):.4g}: the audio it implies is not finite in {S.dtype} "
                         f"(scale the magnitudes down)")


def _hop(hop_length, n_fft: int) -> int:
    if hop_length is None:
        return max(1, n_fft // 4)
    return check_int("hop_length", hop_length, high=n_fft, note=f"n_fft={n_fft}")


def _check_momentum(momentum) -> float:
    m = check_number("momentum", momentum, low=0)
    if m > 1:
        warnings.warn(f"momentum={m} > 1 can make fast Griffin-Lim unstable; values in [0.9, 1] are safe",
                      stacklevel=3)
    return m


def _rng(seed) -> np.random.Generator:
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0):
        raise ParameterError(f"seed={show(seed)} must be an integer >= 0, None or a numpy Generator")
    return np.random.default_rng(seed)


def _is_hann(window) -> bool:
    return isinstance(window, str) and window.lower() in ("hann", "hanning")


def _window(window, n_fft: int) -> np.ndarray:
    """The analysis/synthesis window as float64 [shape=(n_fft,)] (``librosa.filters.get_window``).

    Hann comes from ``np.hanning``: librosa would import the slow ``scipy.signal`` for it.
    """
    if _is_hann(window):
        return np.hanning(n_fft + 1)[:-1]
    what = f"an array of shape {window.shape}" if isinstance(window, np.ndarray) else show(window)
    try:
        w = librosa.filters.get_window(window, n_fft, fftbins=True).astype(np.float64)
    except (librosa.util.exceptions.ParameterError, ValueError, TypeError) as e:
        raise ParameterError(f"window={what} gives no window of n_fft={n_fft} samples ({e})") from None
    if w.shape != (n_fft,) or not np.all(np.isfinite(w)):
        raise ParameterError(f"window={what} must give n_fft={n_fft} finite samples")
    return w


def stft(y: np.ndarray, *, n_fft: int = 1024, hop_length: int | None = None,
         window: str | np.ndarray = "hann", center: bool = True) -> np.ndarray:
    """Short-time Fourier transform: ``librosa.stft`` with musiclib's checks and defaults.

    Parameters
    ----------
    y : np.ndarray [shape=(n_samples,)]
        Mono signal. float64 input gives a complex128 result, anything else complex64.
    n_fft : int >= 2
        FFT length and window length, in samples.
    hop_length : int in [1, n_fft] or None
        Frame step in samples; ``None`` means ``n_fft // 4``.
    window : str, tuple or np.ndarray [shape=(n_fft,)]
        Anything ``librosa.filters.get_window`` takes (default: periodic Hann).
    center : bool
        Pad ``n_fft // 2`` zeros at both ends so that frame ``t`` is centred at ``t * hop_length``.

    Returns
    -------
    D : np.ndarray [shape=(1 + n_fft // 2, n_frames), dtype=complex64 or complex128]
    """
    n_fft = _check_n_fft(n_fft)
    dtype = np.float64 if np.asarray(y).dtype == np.float64 else np.float32
    y = check_signal("y", y, min_samples=1 if center else n_fft, dtype=dtype)
    hop = _hop(hop_length, n_fft)
    n_frames = 1 + (len(y) + (2 * (n_fft // 2) if center else 0) - n_fft) // hop
    _check_size(float(n_frames) * (1 + n_fft // 2), what=f"the STFT of {len(y)} samples (n_fft={n_fft}, hop_length={hop})")
    # a window of the signal's precision keeps librosa's FFT in float32 for float32 input
    return librosa.stft(y, n_fft=n_fft, hop_length=hop, window=_window(window, n_fft).astype(dtype),
                        center=bool(center), pad_mode="constant")


def istft(D: np.ndarray, *, hop_length: int | None = None, window: str | np.ndarray = "hann",
          center: bool = True, length: int | None = None) -> np.ndarray:
    """Inverse STFT by least-squares overlap-add: ``librosa.istft`` with musiclib's checks.

    Parameters
    ----------
    D : np.ndarray [shape=(n_bins, n_frames), complex]
        STFT matrix; ``n_fft = 2 * (n_bins - 1)``.
    hop_length, window, center :
        As in :func:`stft`.
    length : int > 0 or None
        Output length in samples (zero-padded or trimmed); ``None`` gives
        ``hop_length * (n_frames - 1)`` when centred.

    Returns
    -------
    y : np.ndarray [shape=(n_samples,)]
        float32 for complex64 input, float64 for complex128.
    """
    D = np.asarray(D)
    if D.ndim != 2 or D.shape[0] < 2 or D.shape[1] < 1:
        raise ParameterError(f"D must be 2-D (n_bins >= 2, n_frames >= 1); got D.ndim={D.ndim} with shape {D.shape}")
    n_fft = _check_n_fft(2 * (D.shape[0] - 1), name="n_fft = 2 * (D.shape[0] - 1)")
    hop = _hop(hop_length, n_fft)
    length = _check_length(length)
    _check_size(length if length is not None else float(hop) * D.shape[1] + n_fft, what="the iSTFT's signal")
    w = _window(window, n_fft).astype(np.float64 if D.dtype == np.complex128 else np.float32)
    return librosa.istft(D, hop_length=hop, window=w, center=bool(center), length=length)


class _Plan:
    """Window, window-sum normalisation and buffers for one (centred) STFT geometry, computed once.

    Spectrograms are frame-major ``(n_frames, n_bins)`` so each FFT runs over contiguous rows; frames
    are overlap-added as ``R = ceil(n_fft / hop)`` blocks of ``hop`` samples.
    """

    def __init__(self, *, n_fft: int, hop: int, window: np.ndarray, n_frames: int, length: int | None, dtype):
        self.n_fft, self.hop, self.n_frames = n_fft, hop, n_frames
        self.win = window.astype(dtype)
        self.R = -(-n_fft // hop)
        self.n_blocks = n_frames + self.R - 1
        self.offset = n_fft // 2
        self.length = hop * (n_frames - 1) if length is None else length
        # the least-squares normalisation: 1 / overlap-added squared window, where not negligible
        wsum = np.zeros(self.n_blocks * hop)
        wsum[: n_fft + hop * (n_frames - 1)] = librosa.filters.window_sumsquare(
            window=window, n_frames=n_frames, hop_length=hop, n_fft=n_fft, dtype=np.float64)
        tiny = np.finfo(dtype).tiny
        inv = np.where(wsum > tiny, 1.0 / np.maximum(wsum, tiny), 0.0)
        self.inv_wsum = inv.astype(dtype)
        # for the projection STFT(iSTFT(X)): samples outside the signal are zero (stft pads with zeros)
        inv[: self.offset] = 0.0
        inv[self.offset + self.length :] = 0.0
        self.inv_wsum_proj = inv.astype(dtype)
        self.x = np.zeros(self.n_blocks * hop, dtype=dtype)
        self.syn = np.zeros((n_frames, self.R * hop), dtype=dtype)
        self.ana = np.empty((n_frames, n_fft), dtype=dtype)
        self.x_frames = np.lib.stride_tricks.sliding_window_view(self.x, n_fft)[::hop][:n_frames]

    def synthesise(self, X: np.ndarray, inv_wsum: np.ndarray) -> np.ndarray:
        """Least-squares overlap-add of frame-major X into ``self.x`` (padded domain)."""
        hop, F = self.hop, self.n_frames
        frames = scipy.fft.irfft(X, n=self.n_fft, axis=-1, workers=FFT_WORKERS)
        np.multiply(frames, self.win, out=self.syn[:, : self.n_fft])
        syn = self.syn.reshape(F, self.R, hop)
        xb = self.x.reshape(self.n_blocks, hop)
        np.copyto(xb[:F], syn[:, 0])
        xb[F:] = 0.0
        for k in range(1, self.R):
            xb[k : k + F] += syn[:, k]
        self.x *= inv_wsum
        return self.x

    def project(self, X: np.ndarray) -> np.ndarray:
        """STFT(iSTFT(X)), frame-major: the projection onto consistent spectrograms of ``length`` samples."""
        self.synthesise(X, self.inv_wsum_proj)
        np.multiply(self.x_frames, self.win, out=self.ana)
        return scipy.fft.rfft(self.ana, axis=-1, workers=FFT_WORKERS, overwrite_x=True)

    def to_signal(self, X: np.ndarray) -> np.ndarray:
        """iSTFT of frame-major X, trimmed or zero-padded to ``length`` samples (a new array)."""
        x = self.synthesise(X, self.inv_wsum)
        return librosa.util.fix_length(x[self.offset :], size=self.length).copy()


def _initial_phasors(init, S: np.ndarray, *, rng, hop: int, window) -> np.ndarray:
    """Initial unit phasors, frame-major [shape=(n_frames, n_bins)], complex64/128."""
    cdtype = np.complex128 if S.dtype == np.float64 else np.complex64
    if isinstance(init, np.ndarray):
        if init.shape != S.shape:
            raise ParameterError(f"init array has shape {init.shape}; expected S's shape {S.shape} (phase angles)")
        phi = check_finite("init", init, dtype=np.float64).T
    elif isinstance(init, str) and init == "random":
        phi = rng.random(size=(S.shape[1], S.shape[0]), dtype=np.float64) * (2.0 * np.pi)
    elif isinstance(init, str) and init == "zeros":
        return np.ones((S.shape[1], S.shape[0]), dtype=cdtype)
    elif isinstance(init, str) and init == "pghi":
        phi = pghi(S, hop_length=hop, window=window, seed=rng).T
    else:
        raise ParameterError(f"init={show(init)} must be one of {_INITS} or an array of phase angles shaped like S")
    out = np.empty(phi.shape, dtype=cdtype)
    np.cos(phi, out=out.real)
    np.sin(phi, out=out.imag)
    return out


def _prepare(S, *, n_iter, hop_length, window, length, init, seed):
    """Checked input of an iterative method: (plan, frame-major S, S times the initial phasors, n_iter)."""
    S = _check_magnitude(S)
    n_iter = _check_n_iter(n_iter)
    n_fft = _check_n_fft(2 * (S.shape[0] - 1), name="n_fft = 2 * (S.shape[0] - 1)")
    hop = _hop(hop_length, n_fft)
    length = _check_length(length)
    _check_size(float(S.shape[1]) * n_fft + hop * (S.shape[1] + n_fft // hop), what=f"the overlap-add of {S.shape[1]} "
                f"frames (n_fft={n_fft}, hop_length={hop})")
    plan = _Plan(n_fft=n_fft, hop=hop, window=_window(window, n_fft), n_frames=S.shape[1], length=length, dtype=S.dtype)
    S_fm = np.ascontiguousarray(S.T)
    X = _initial_phasors(init, S, rng=_rng(seed), hop=plan.hop, window=window)
    X *= S_fm
    return plan, S_fm, X, n_iter


def _iterate(X: np.ndarray, S_fm: np.ndarray, project, n_iter: int, momentum: float, refit=None) -> np.ndarray:
    """Projections with momentum, in place on frame-major ``X`` (holding S * initial phasors).

    Perraudin's update ``t_n = c_n + alpha (c_n - c_{n-1})``, ``c_n = project(t_{n-1})``; only the
    phase of ``t_n`` is kept, so it is computed as ``c_n - alpha/(1+alpha) c_{n-1}`` (librosa's form).
    ``project`` returns a new array each call; ``refit`` as in :func:`fast_griffin_lim`.
    """
    mag = np.empty(S_fm.shape, dtype=S_fm.dtype)
    # |X| is floored so that S * X / |X| cannot overflow where a consistent estimate is (nearly) zero
    floor = S_fm.dtype.type(max(float(np.finfo(S_fm.dtype).tiny), float(S_fm.max(initial=0.0)) * 1e-30))
    beta = momentum / (1.0 + momentum)
    prev = None
    target = S_fm
    for _ in range(n_iter):
        C = project(X)
        if refit is not None:
            np.abs(C, out=mag)
            target = np.asarray(refit(mag), dtype=S_fm.dtype)
        if prev is not None and beta != 0.0:
            np.multiply(prev, beta, out=X)
            np.subtract(C, X, out=X)
        else:
            np.copyto(X, C)
        prev = C
        np.abs(X, out=mag)  # magnitude projection: X <- target * X / |X|
        np.maximum(mag, floor, out=mag)
        np.divide(target, mag, out=mag)
        X *= mag
    return X


def griffin_lim(S: np.ndarray, *, n_iter: int = 32, hop_length: int | None = None,
                window: str | np.ndarray = "hann", length: int | None = None,
                init: str | np.ndarray = "random", seed: int | None = 0) -> np.ndarray:
    """Classic Griffin-Lim phase reconstruction (alternating projections, no momentum).

    Parameters
    ----------
    S : np.ndarray [shape=(n_bins, n_frames)], non-negative
        Linear magnitude spectrogram; ``n_fft = 2 * (n_bins - 1)``.
    n_iter : int >= 0
        Number of iterations (0 returns the inverse STFT of the initial estimate).
    hop_length : int in [1, n_fft] or None
        Frame step in samples; ``None`` means ``n_fft // 4``.
    window : str or np.ndarray
        As in :func:`stft`.
    length : int > 0 or None
        Output length in samples; ``None`` gives ``hop_length * (n_frames - 1)``.
    init : {"random", "zeros", "pghi"} or np.ndarray [shape=(n_bins, n_frames)]
        Initial phase: uniform random, all zero, :func:`pghi`, or given angles in radians.
    seed : int, np.random.Generator or None
        Seed of ``np.random.default_rng`` for the random initial phase.

    Returns
    -------
    y : np.ndarray [shape=(length,)]
        float32 (float64 when ``S`` is float64).
    """
    return fast_griffin_lim(S, n_iter=n_iter, momentum=0.0, hop_length=hop_length, window=window,
                            length=length, init=init, seed=seed)


def fast_griffin_lim(S: np.ndarray, *, n_iter: int = 32, momentum: float = 0.99,
                     hop_length: int | None = None, window: str | np.ndarray = "hann",
                     length: int | None = None, init: str | np.ndarray = "random", seed: int | None = 0,
                     refit=None) -> np.ndarray:
    """Fast Griffin-Lim (Perraudin et al. 2013): Griffin-Lim with inertial momentum.

    Parameters
    ----------
    S, n_iter, hop_length, window, length, init, seed :
        As in :func:`griffin_lim`.
    momentum : float >= 0
        Inertia ``alpha``; 0 is classic Griffin-Lim, 0.99 is Perraudin's choice. Values above 1
        are allowed with a warning (they can diverge).
    refit : callable, optional
        For magnitudes known only partly (e.g. through mel bands): ``refit(A)`` gets the current
        consistent estimate's magnitude ``A [shape=(n_frames, n_bins)]`` (a reused buffer) and returns
        this iteration's magnitude target, same shape; ``S`` is then only the start.

    Returns
    -------
    y : np.ndarray [shape=(length,)]
        float32 (float64 when ``S`` is float64).
    """
    momentum = _check_momentum(momentum)
    if refit is not None and not callable(refit):
        raise ParameterError(f"refit={show(refit)} must be a callable or None")
    plan, S_fm, X, n_iter = _prepare(S, n_iter=n_iter, hop_length=hop_length, window=window, length=length,
                                     init=init, seed=seed)
    _iterate(X, S_fm, plan.project, n_iter, momentum, refit=refit)
    return _finite_signal(plan.to_signal(X), S, lambda S64: fast_griffin_lim(
        S64, n_iter=n_iter, momentum=momentum, hop_length=hop_length, window=window, length=length, init=init,
        seed=seed, refit=refit))


class _LocalConsistency:
    """The truncated consistency operator, applied to frame-major spectrograms (preallocated).

    For centred frames, STFT(iSTFT(X))(m, n) =
    ``sum_k exp(-2j pi m k hop / n_fft) sum_q c_k(q) X(m - q, n + k)``
    with ``c_k(q) = exp(2j pi q k hop / n_fft) / (n_fft W0) * sum_l w(l) w(l - k hop)
    exp(-2j pi q l / n_fft)`` (W0: the interior squared-window sum). The sum over ``q`` is
    truncated to ``|q| <= n_neighbors``; ``|k| < n_fft / hop`` is exact.
    """

    def __init__(self, window, n_fft, hop, n_frames, n_neighbors, cdtype):
        n_bins = n_fft // 2 + 1
        self.Q = Q = min(n_neighbors, max(0, n_bins - 2))
        self.K = K = -(-n_fft // hop) - 1
        self.ks, self.qs = np.arange(-K, K + 1), np.arange(-Q, Q + 1)
        # interior value of the squared-window overlap-add (mean over one hop for odd ratios)
        wsq = np.zeros((K + 1) * hop)
        wsq[:n_fft] = window**2
        W0 = float(wsq.reshape(K + 1, hop).sum(axis=0).mean())
        l = np.arange(n_fft)
        coef = np.empty((self.ks.size, self.qs.size), dtype=np.complex128)
        for i, k in enumerate(self.ks):
            shifted = np.zeros(n_fft)
            src = l - k * hop
            ok = (src >= 0) & (src < n_fft)
            shifted[ok] = window[src[ok]]
            prod = window * shifted
            for j, q in enumerate(self.qs):
                beta = np.sum(prod * np.exp(-2j * np.pi * q * l / n_fft)) / (n_fft * W0)
                coef[i, j] = beta * np.exp(2j * np.pi * q * k * hop / n_fft)
        self.coef = coef.astype(cdtype)
        self.mod = np.exp(-2j * np.pi * np.outer(self.ks, np.arange(n_bins)) * hop / n_fft).astype(cdtype)
        self.F, self.B = n_frames, n_bins
        self.pad = np.zeros((n_frames + 2 * K, n_bins + 2 * Q), dtype=cdtype)
        self.acc, self.z, self.tmp = (np.empty((n_frames, n_bins), dtype=cdtype) for _ in range(3))
        self.center_coef = complex(coef[K, Q])

    def apply(self, X: np.ndarray) -> np.ndarray:
        K, Q, F, B = self.K, self.Q, self.F, self.B
        pad = self.pad
        pad[K : K + F, Q : Q + B] = X
        if Q:
            # negative and above-Nyquist bins of a real signal: conjugate mirror images
            np.conjugate(X[:, Q:0:-1], out=pad[K : K + F, :Q])
            np.conjugate(X[:, B - 2 : B - 2 - Q : -1], out=pad[K : K + F, Q + B :])
        acc, z, tmp = self.acc, self.z, self.tmp
        for i, k in enumerate(self.ks):
            rows = slice(K + k, K + k + F)
            for j, q in enumerate(self.qs):
                np.multiply(pad[rows, Q - q : Q - q + B], self.coef[i, j], out=tmp if j else z)
                if j:
                    z += tmp
            np.multiply(z, self.mod[i], out=tmp if i else acc)
            if i:
                acc += tmp
        return acc


def le_roux(S: np.ndarray, *, n_iter: int = 32, n_neighbors: int = 2, self_weight: float = 0.5,
            momentum: float = 0.95, hop_length: int | None = None, window: str | np.ndarray = "hann",
            length: int | None = None, init: str | np.ndarray = "random", seed: int | None = 0) -> np.ndarray:
    """Consistency-based phase reconstruction with the local consistency operator (Le Roux).

    ``STFT(iSTFT(X))`` is a small convolution over the bins, applied without FFTs and truncated to
    ``n_neighbors`` bins either side. All bins are updated at once (Le Roux's Gauss-Seidel sweep does
    not vectorise), with momentum as in :func:`fast_griffin_lim`.

    Parameters
    ----------
    S, n_iter, hop_length, window, length, init, seed :
        As in :func:`griffin_lim`.
    n_neighbors : int >= 0
        Frequency half-width ``Q`` of the truncated operator (``2 * Q + 1`` bins per frame).
    self_weight : float in [0, 1]
        Fraction of each bin's own term ``c_0(0) X`` removed from its update: 1 is Le Roux's update
        from the neighbours alone, 0 the local Griffin-Lim.
    momentum : float >= 0
        As in :func:`fast_griffin_lim`, on the operator's output.

    Returns
    -------
    y : np.ndarray [shape=(length,)]
        float32 (float64 when ``S`` is float64).
    """
    n_neighbors = check_int("n_neighbors", n_neighbors, low=0, high=MAX_NEIGHBORS)
    self_weight = check_fraction("self_weight", self_weight)
    momentum = _check_momentum(momentum)
    plan, S_fm, X, n_iter = _prepare(S, n_iter=n_iter, hop_length=hop_length, window=window, length=length,
                                     init=init, seed=seed)
    op = _LocalConsistency(_window(window, plan.n_fft), plan.n_fft, plan.hop, plan.n_frames, n_neighbors, X.dtype)
    own = op.center_coef * self_weight
    _iterate(X, S_fm, lambda X: op.apply(X) - own * X, n_iter, momentum)
    return _finite_signal(plan.to_signal(X), S, lambda S64: le_roux(
        S64, n_iter=n_iter, n_neighbors=n_neighbors, self_weight=self_weight, momentum=momentum,
        hop_length=hop_length, window=window, length=length, init=init, seed=seed))


def _gaussian_equivalent_gamma(window, n_fft: int) -> float:
    """``lambda`` (samples²) of the Gaussian ``exp(-pi t² / lambda)`` standing in for the window.

    Hann: :data:`HANN_GAMMA`; others: the same time spread of the squared window, ``4 pi var(t; w²)``.
    """
    if _is_hann(window):
        return HANN_GAMMA * n_fft**2
    w2 = _window(window, n_fft) ** 2
    if not np.any(w2 > 0):
        raise ParameterError("window is all zeros")
    t = np.arange(n_fft) - n_fft / 2
    return float(4.0 * np.pi * np.sum(t**2 * w2) / np.sum(w2))


def _pghi_tgrad(logs: np.ndarray, idx: np.ndarray, *, hop: int, n_fft: int, gamma: float) -> np.ndarray:
    """Phase advance per frame (rad) at the flat indices ``idx`` of the frame-major ``logs``.

    ``(hop n_fft / (2 gamma)) (log s[m+1] - log s[m-1]) + 2 pi hop m / n_fft``; the difference is 0
    at DC and Nyquist, where a real signal's magnitude is symmetric.
    """
    B = logs.shape[1]
    flat = logs.ravel()
    m = idx % B
    inner = (m > 0) & (m < B - 1)
    d = np.zeros(idx.shape)
    d[inner] = flat[idx[inner] + 1] - flat[idx[inner] - 1]
    return d * (hop * n_fft / (2.0 * gamma)) + (2.0 * np.pi * hop / n_fft) * m


def _tree_path_sums(n_nodes: int, lo: np.ndarray, hi: np.ndarray, delta: np.ndarray):
    """Values ``c`` on the nodes of a forest with ``c[hi] - c[lo] = delta`` on every edge.

    A breadth-first order from a virtual root joined to the first node of every tree (``c = 0``)
    gives the levels; the Python loop runs once per level, each a vectorised gather-and-add.
    """
    import scipy.sparse
    from scipy.sparse.csgraph import breadth_first_order, connected_components

    edges = scipy.sparse.csr_matrix(
        (np.ones(lo.size, dtype=np.int8), (lo, hi)), shape=(n_nodes, n_nodes)
    )
    n_comp, label = connected_components(edges, directed=False)
    root = np.empty(n_comp, dtype=np.int64)
    root[label[::-1]] = np.arange(n_nodes)[::-1]  # first node of every tree
    rows = np.concatenate([lo, hi, np.full(n_comp, n_nodes)])  # node n_nodes: the virtual root
    cols = np.concatenate([hi, lo, root])
    graph = scipy.sparse.csr_matrix(
        (np.ones(rows.size, dtype=np.int8), (rows, cols)), shape=(n_nodes + 1, n_nodes + 1)
    )
    order, pred = breadth_first_order(graph, n_nodes, directed=True, return_predecessors=True)
    # offset of every node from its parent
    child_is_hi = pred[hi] == lo
    d_node = np.zeros(n_nodes + 1)
    d_node[np.where(child_is_hi, hi, lo)] = np.where(child_is_hi, delta, -delta)
    pos = np.empty(n_nodes + 1, dtype=np.int64)
    pos[order] = np.arange(order.size)
    par_pos = pos[np.maximum(pred[order], 0)]  # BFS position of the parent (root: itself)
    d_ord = d_node[order]
    c = np.zeros(order.size)
    stop = 1 + n_comp  # order[0] is the virtual root, then the tree roots with c = 0
    while stop < order.size:
        # the next level: every node whose parent lies in the levels done so far
        nxt = int(par_pos.searchsorted(stop))
        np.add(c[par_pos[stop:nxt]], d_ord[stop:nxt], out=c[stop:nxt])
        stop = nxt
    out = np.empty(n_nodes + 1)
    out[order] = c
    return out[:n_nodes]


def _boruvka_frequency_edges(wf: np.ndarray, wt: np.ndarray) -> np.ndarray:
    """The frequency edges ``[shape=(F, B - 1)]`` that are the strongest edge of a bin they touch,
    hence in the maximum spanning tree (one vectorised Borůvka step)."""
    F, B = wf.shape[0], wf.shape[1] + 1
    best_t = np.full((F, B), -np.inf)  # each bin's strongest time edge
    best_t[:-1] = wt
    np.maximum(best_t[1:], wt, out=best_t[1:])
    left = np.pad(wf, ((0, 0), (1, 0)), constant_values=-np.inf)
    right = np.pad(wf, ((0, 0), (0, 1)), constant_values=-np.inf)
    right_best = (right >= left) & (right > best_t)
    left_best = (left > right) & (left > best_t)
    return (right_best[:, :-1] | left_best[:, 1:]) & np.isfinite(wf)


def _without_square_minima(wf: np.ndarray, wt: np.ndarray):
    """Copies of ``wf``, ``wt`` without the weakest edge of every grid square (``-inf``): by the cycle
    property it is in no maximum spanning tree, and dropping it makes Kruskal cheaper."""
    sq = np.stack([wf[:-1], wf[1:], wt[:, :-1], wt[:, 1:]])
    weakest = np.argmin(sq, axis=0)
    full = np.isfinite(sq.min(axis=0))
    wf, wt = wf.copy(), wt.copy()  # copies: measured faster than writing in place
    wf[:-1][full & (weakest == 0)] = -np.inf
    wf[1:][full & (weakest == 1)] = -np.inf
    wt[:, :-1][full & (weakest == 2)] = -np.inf
    wt[:, 1:][full & (weakest == 3)] = -np.inf
    return wf, wt


def _pghi_mst(sig, logs, fgrad, tgrad_at):
    """Integrate along the maximum spanning tree of the bin grid (weights |S_u| |S_v|).

    1. A Borůvka step merges bins into runs along frequency, in which the phase is the frequency
       integral ``Fc`` plus one offset per run.
    2. Kruskal (``scipy.sparse.csgraph``) over the runs: edges are the frequency edges between runs
       and the strongest time edge of each pair of runs overlapping in adjacent frames.
    3. Offsets: a frequency edge carries 0; a time edge ``(m, n) -> (m, n + 1)`` carries
       ``Fc(m, n) + (tgrad(m, n) + tgrad(m, n + 1)) / 2 - Fc(m, n + 1)``, summed from each tree's root.
    """
    import scipy.sparse
    from scipy.sparse.csgraph import minimum_spanning_tree

    F, B = sig.shape
    Fc = np.zeros((F, B))  # the phase integrated along frequency in each frame (trapezoid rule)
    np.cumsum(0.5 * (fgrad[:, :-1] + fgrad[:, 1:]), axis=1, out=Fc[:, 1:])
    # log weights of the frequency edges wf [shape=(F, B - 1)] and time edges wt [shape=(F - 1, B)],
    # -inf at weak bins; ties broken by position make the tree unique, so the shortcuts below agree with it
    lw = np.where(sig, logs, -np.inf)
    wf = lw[:, :-1] + lw[:, 1:]
    wt = lw[:-1] + lw[1:]
    tie = 1e-9 / (F * B)
    wf += tie * np.arange(wf.size).reshape(wf.shape)
    wt -= tie * np.arange(wt.size).reshape(wt.shape)
    # 1. runs along frequency; a weak bin is a run of its own and gets no id
    contract = _boruvka_frequency_edges(wf, wt)
    if F > 1 and B > 2:
        wf, wt = _without_square_minima(wf, wt)
    start = np.ones((F, B), dtype=bool)
    start[:, 1:] = ~contract
    sig_flat = sig.ravel()
    strong_start = start.ravel() & sig_flat
    run_of = np.cumsum(strong_start) - 1  # run id of every strong bin
    run_first = np.flatnonzero(strong_start)  # first bin of every run
    n_runs = run_first.size
    # 2. the maximum spanning tree over the runs; of the time edges between two runs overlapping in
    # adjacent frames (a pair, which starts wherever a run starts in either frame) only the strongest
    pair_start = (start[:-1] | start[1:]).ravel()
    ps = np.flatnonzero(pair_start)
    wt_flat = wt.ravel()
    pair_w = np.maximum.reduceat(wt_flat, ps)
    pair_id = np.cumsum(pair_start) - 1  # the pair of every time edge
    at_max = np.where(wt_flat == pair_w[pair_id], np.arange(wt_flat.size), wt_flat.size)
    pair_bin = np.minimum.reduceat(at_max, ps)  # the first strongest edge of each pair
    ok = np.isfinite(pair_w)
    t_bin, t_w = pair_bin[ok], pair_w[ok]
    f_between = (~contract & np.isfinite(wf)).ravel()
    f_bin = np.flatnonzero(f_between)
    f_bin = (f_bin // (B - 1)) * B + f_bin % (B - 1)  # (n, m) in the (F, B) grid
    rows = np.concatenate([run_of[t_bin], run_of[f_bin]])
    cols = np.concatenate([run_of[t_bin + B], run_of[f_bin + 1]])
    w = np.concatenate([t_w, wf.ravel()[f_between]])
    if w.size == 0:  # nothing to connect (or no strong bin): every run keeps its own frequency integral
        return Fc
    cost = (w.max() + 1.0) - w  # > 0: minimum spanning tree of cost = maximum of weight
    tree = minimum_spanning_tree(scipy.sparse.csr_matrix((cost, (rows, cols)), shape=(n_runs, n_runs)),
                                 overwrite=True).tocoo()
    lo = np.minimum(tree.row, tree.col).astype(np.int64)
    hi = np.maximum(tree.row, tree.col).astype(np.int64)
    # 3. offsets along the tree edges (time edges only; frequency edges carry 0)
    first_lo, first_hi = run_first[lo], run_first[hi]
    is_time = (first_hi // B) != (first_lo // B)
    Fc_flat = Fc.ravel()
    delta = np.zeros(lo.size)
    # the strongest time edge of the pair starts where the later of the two runs starts
    sb = np.maximum(first_lo[is_time] % B, first_hi[is_time] % B)
    m = pair_bin[pair_id[(first_lo[is_time] // B) * B + sb]]
    tg = tgrad_at(np.concatenate([m, m + B]))
    delta[is_time] = Fc_flat[m] + 0.5 * (tg[: m.size] + tg[m.size :]) - Fc_flat[m + B]
    np.remainder(delta, 2.0 * np.pi, out=delta)  # keeps the sums small; nothing lost mod 2 pi
    offset = _tree_path_sums(n_runs, lo, hi, delta)
    phase = Fc_flat.copy()
    phase[sig_flat] += offset[run_of[sig_flat]]
    return phase.reshape(F, B)


def pghi(S: np.ndarray, *, hop_length: int | None = None, window: str | np.ndarray = "hann",
         tol: float = PGHI_TOL, gamma: float | None = None, seed: int | None = 0) -> np.ndarray:
    """Phase from magnitude by phase-gradient heap integration (PGHI, Průša et al. 2017).

    For a Gaussian window the STFT's phase gradient follows from the log-magnitude's; it is integrated
    through the strongest bins, along the maximum spanning tree of the bin grid (the global form of
    heap integration, built without a Python loop over bins). Bins below ``tol * max(S)`` get uniform
    random phase.

    Parameters
    ----------
    S, hop_length :
        As in :func:`griffin_lim`.
    window : str or np.ndarray
        The analysis window of ``S``; sets ``gamma`` when it is not given.
    tol : float in (0, 1)
        Relative magnitude below which bins get random phase.
    gamma : float > 0 or None
        Time-frequency ratio ``lambda`` of the equivalent Gaussian window (samples², within
        :data:`GAMMA_RANGE` times ``n_fft**2``); ``None`` derives it from ``window``.
    seed : int, np.random.Generator or None
        Seed for the random phase of the weak bins.

    Returns
    -------
    phase : np.ndarray [shape=(n_bins, n_frames)]
        Phase angles in radians, in ``[-pi, pi)``; float32 (float64 when ``S`` is float64).
    """
    S = _check_magnitude(S)
    n_bins = S.shape[0]
    n_fft = 2 * (n_bins - 1)
    hop = _hop(hop_length, n_fft)
    tol = check_number("tol", tol, low=0, high=1, low_open=True, high_open=True)
    gamma = check_number("gamma", gamma, low=GAMMA_RANGE[0] * n_fft**2, high=GAMMA_RANGE[1] * n_fft**2,
                         allow_none=True)
    if gamma is None:
        gamma = _gaussian_equivalent_gamma(window, n_fft)
    rng = _rng(seed)

    s = np.ascontiguousarray(S.T, dtype=np.float64)
    smax = float(s.max())
    if smax <= 0:
        return (rng.random(S.shape) * (2 * np.pi) - np.pi).astype(S.dtype)
    floor = tol * smax
    sig = s > floor
    logs = np.log(np.maximum(s, floor))
    # phase change per bin (rad): -(gamma / (2 hop n_fft)) (log s[n+1] - log s[n-1]), one-sided at the ends
    fgrad = 2.0 * np.gradient(logs, axis=0) if len(logs) > 1 else np.zeros_like(logs)
    fgrad *= -gamma / (2.0 * hop * n_fft)
    phase = _pghi_mst(sig, logs, fgrad, lambda idx: _pghi_tgrad(logs, idx, hop=hop, n_fft=n_fft, gamma=gamma))
    phase[~sig] = rng.random(int(np.count_nonzero(~sig))) * (2.0 * np.pi)  # weak bins
    # centred-window phase -> librosa's window starting at the frame position
    phase += np.pi * np.arange(n_bins)
    phase += np.pi
    np.remainder(phase, 2.0 * np.pi, out=phase)
    phase -= np.pi
    return np.ascontiguousarray(phase.T, dtype=S.dtype)


def reconstruct(S: np.ndarray, *, method: str = "pghi+fgla", n_iter: int = 32, hop_length: int | None = None,
                window: str | np.ndarray = "hann", length: int | None = None,
                seed: int | None = 0) -> np.ndarray:
    """Turn a linear magnitude spectrogram into audio.

    The default, ``"pghi+fgla"``, starts fast Griffin-Lim (momentum :data:`RECONSTRUCT_MOMENTUM`)
    from the :func:`pghi` phase; with ``n_iter=0`` it is PGHI alone.

    Parameters
    ----------
    S, hop_length, window, length :
        As in :func:`griffin_lim`.
    method : {"gla", "fgla", "le_roux", "pghi", "pghi+fgla"}
        See :data:`METHODS` and the module docstring. ``"pghi"`` ignores ``n_iter``.
    n_iter : int >= 0
        Iterations of the iterative stage.
    seed : int or None
        Seed for every random choice (initial or weak-bin phase).

    Returns
    -------
    y : np.ndarray [shape=(length,)]
        float32 (float64 when ``S`` is float64).

    Raises
    ------
    ParameterError
        Unknown ``method`` (the message lists :data:`METHODS`), or any invalid parameter.

    Examples
    --------
    >>> S = np.abs(stft(y, n_fft=1024, hop_length=256))
    >>> y_hat = reconstruct(S, hop_length=256, length=len(y))
    """
    check_choice("method", method, METHODS)
    common = dict(hop_length=hop_length, window=window, length=length, seed=seed)
    iterative = {"gla": griffin_lim, "fgla": fast_griffin_lim, "le_roux": le_roux}
    if method in iterative:
        return iterative[method](S, n_iter=n_iter, **common)
    return fast_griffin_lim(S, n_iter=0 if method == "pghi" else n_iter, momentum=RECONSTRUCT_MOMENTUM,
                            init="pghi", **common)
