"""Linear next-frame models: ridge regression, and multinomial logistic regression of quantised levels.

See ``notebooks/02_linear_regression``. Both follow the model protocol of :mod:`musiclib.models`.

- :class:`RidgeNextFrame` regresses the next frame on the previous ones (closed-form ridge). Its
  roll-out is a linear recursion: it is stable only if the spectral radius of its companion matrix
  (:meth:`RidgeNextFrame.spectral_radius`) is below one, and with noise added it drifts; that is
  the "blow-up" the original experiments saw, and what :class:`musiclib.generate.StabilityGuard`
  contains.
- :class:`LevelsNextFrame` is logistic regression in its proper form: each band's next value is
  quantised into ``n_levels`` classes (equal-frequency bins fitted on the training frames), a
  softmax per band predicts the class, and generation samples a class from the predicted
  distribution with a temperature (the char-rnn trick). Its outputs are class centres, so they
  can never leave the training range.
"""

from __future__ import annotations

import time

import numpy as np

from musiclib.errors import ParameterError
from musiclib.models import check_xy, flatten

__all__ = ["RidgeNextFrame", "LevelsNextFrame", "UnstableLinear"]


def _pick_rows(n: int, m: int | None, seed: int) -> np.ndarray:
    if m is None or n <= m:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size=m, replace=False))


class RidgeNextFrame:
    """Ridge regression of the next frame on the flattened context: ``y = x @ coef_ + intercept_``.

    Parameters
    ----------
    alpha : float
        L2 penalty on the coefficients (scikit-learn's convention: added to the diagonal of
        ``X^T X`` of centred data).
    max_residuals : int
        At most this many training residual rows are kept in ``residuals_``.
    seed : int
        Which residual rows are kept.

    Attributes
    ----------
    coef_ : np.ndarray [shape=(n_rows * n_features, n_features)], float32
    intercept_ : np.ndarray [shape=(n_features,)], float32
    residuals_ : np.ndarray [shape=(m, n_features)]
    n_context_ : int
        Rows per input seen in ``fit``.
    fit_seconds_ : float
    """

    def __init__(self, *, alpha: float = 1.0, max_residuals: int = 20000, seed: int = 0):
        if not np.isfinite(alpha) or alpha < 0:
            raise ParameterError(f"alpha={alpha!r} must be a finite number >= 0")
        self.alpha = float(alpha)
        self.max_residuals = max_residuals
        self.seed = seed

    def fit(self, X, Y) -> "RidgeNextFrame":
        t0 = time.perf_counter()
        Xf, Y, n_rows = check_xy(X, Y)
        X64 = Xf.astype(np.float64)
        mx = X64.mean(axis=0)
        my = Y.astype(np.float64).mean(axis=0)
        Xc = X64 - mx
        G = Xc.T @ Xc
        G[np.diag_indices_from(G)] += self.alpha + 1e-9 * max(np.trace(G) / len(G), 1.0)
        import scipy.linalg

        W = scipy.linalg.solve(G, Xc.T @ (Y - my), assume_a="pos")
        self.coef_ = W.astype(np.float32)
        self.intercept_ = (my - mx @ W).astype(np.float32)
        self.n_context_ = n_rows
        self.n_features_ = Y.shape[1]
        rows = _pick_rows(len(Xf), self.max_residuals, self.seed)
        self.residuals_ = (Y[rows] - self.predict(Xf[rows])).astype(np.float32)
        self.fit_seconds_ = time.perf_counter() - t0
        return self

    def predict(self, X) -> np.ndarray:
        """Next frames ``[shape=(n, n_features)]`` for inputs ``X [shape=(n, n_rows, n_features)]``."""
        if not hasattr(self, "coef_"):
            raise ParameterError("RidgeNextFrame is not fitted; call fit(X, Y) first")
        Xf = flatten(X)
        if Xf.shape[1] != self.coef_.shape[0]:
            raise ParameterError(f"X has {Xf.shape[1]} values per example, the model was fitted on {self.coef_.shape[0]}")
        return Xf @ self.coef_ + self.intercept_

    def spectral_radius(self, context: int | None = None) -> float:
        """Largest |eigenvalue| of the roll-out's companion matrix (> 1: the recursion grows).

        Valid for inputs made of ``context`` frames only (no summary rows); default: all rows.
        """
        if not hasattr(self, "coef_"):
            raise ParameterError("RidgeNextFrame is not fitted; call fit(X, Y) first")
        F = self.n_features_
        c = self.n_context_ if context is None else int(context)
        if c * F != self.coef_.shape[0]:
            raise ParameterError(
                f"context={c} does not match the model's {self.coef_.shape[0] // F} input rows; "
                "the spectral radius is defined for context-only inputs"
            )
        M = np.zeros((c * F, c * F))
        M[: (c - 1) * F, F:] = np.eye((c - 1) * F)  # shift: new state row i = old row i + 1
        M[(c - 1) * F :, :] = self.coef_.astype(np.float64).T  # the predicted frame
        return float(np.max(np.abs(np.linalg.eigvals(M))))


class UnstableLinear:
    """A deliberately unstable next-frame model: the last frame times ``factor`` (> 1 grows).

    For tests and for showing what :class:`musiclib.generate.StabilityGuard` prevents.
    """

    def __init__(self, factor: float = 1.05, *, offset: float = 0.0):
        self.factor = float(factor)
        self.offset = float(offset)
        self.n_context_ = 1

    def fit(self, X, Y):
        self.n_context_ = np.asarray(X).shape[1] if np.asarray(X).ndim == 3 else 1
        return self

    def predict(self, X):
        X = np.asarray(X, dtype=np.float32)
        last = X[:, -1] if X.ndim == 3 else X
        return (self.factor * last + self.offset).astype(np.float32)


def _softmax(z, axis=-1):
    z = z - z.max(axis=axis, keepdims=True)
    np.exp(z, out=z)
    z /= z.sum(axis=axis, keepdims=True)
    return z


class LevelsNextFrame:
    """Multinomial logistic regression of quantised per-band levels, sampled with a temperature.

    Each of the ``n_features`` outputs (bands) is quantised into ``n_levels`` equal-frequency
    classes fitted on the training targets; each class stands for the mean training value that
    fell into it (``centres_``). One softmax per band, all sharing the same (optionally
    PCA-projected) input, is trained by mini-batch Adam on the mean cross-entropy plus an L2
    penalty.

    Parameters
    ----------
    n_levels : int
        Classes per band (>= 2).
    n_components : int, optional
        Project the flattened input onto this many principal components first (faster training
        and generation); ``None`` uses the input as it is.
    alpha : float
        L2 penalty on the weights.
    epochs, batch_size, learning_rate : int, int, float
        Adam schedule.
    max_residuals : int
        Training residual rows kept (of the expected value).
    band_correlation : float in [0, 1)
        How alike the bands' draws are when sampling: each band's class is taken at the quantile
        ``u_b = Phi(sqrt(c) z + sqrt(1 - c) z_b)`` of its predicted distribution, with ``z`` shared by
        all bands of a frame and ``z_b`` its own (a Gaussian copula). 0 draws every band
        independently (a noisy, hissing frame); near 1 a frame is loud or quiet as a whole, as real
        frames are.
    seed : int
        Initial shuffling and residual rows.

    Attributes
    ----------
    edges_ : np.ndarray [shape=(n_features, n_levels - 1)]
    centres_ : np.ndarray [shape=(n_features, n_levels)]
    loss_history_ : list of float
        Mean training cross-entropy per epoch (nats; ``log(n_levels)`` is chance).
    accuracy_ : float
        Fraction of training band values whose most likely class is right.
    """

    def __init__(self, *, n_levels: int = 16, n_components: int | None = 64, alpha: float = 1e-4,
                 epochs: int = 8, batch_size: int = 256, learning_rate: float = 1e-2,
                 max_residuals: int = 20000, band_correlation: float = 0.9, seed: int = 0, progress: bool = False):
        if not isinstance(n_levels, (int, np.integer)) or n_levels < 2:
            raise ParameterError(f"n_levels={n_levels!r} must be an integer >= 2")
        if n_components is not None and (not isinstance(n_components, (int, np.integer)) or n_components < 1):
            raise ParameterError(f"n_components={n_components!r} must be None or an integer >= 1")
        if not isinstance(epochs, (int, np.integer)) or epochs < 1:
            raise ParameterError(f"epochs={epochs!r} must be an integer >= 1")
        if not np.isfinite(learning_rate) or learning_rate <= 0:
            raise ParameterError(f"learning_rate={learning_rate!r} must be positive")
        if not 0 <= band_correlation < 1:
            raise ParameterError(f"band_correlation={band_correlation!r} must lie in [0, 1)")
        self.band_correlation = float(band_correlation)
        self.n_levels = int(n_levels)
        self.n_components = n_components
        self.alpha = float(alpha)
        self.epochs = int(epochs)
        self.batch_size = int(batch_size)
        self.learning_rate = float(learning_rate)
        self.max_residuals = max_residuals
        self.seed = seed
        self.progress = progress

    # -- quantisation -----------------------------------------------------------------------
    def quantise(self, Y) -> np.ndarray:
        """Class index ``[shape=(n, n_features)]`` (int) of each value of ``Y``."""
        Y = np.asarray(Y, dtype=np.float32)
        return (Y[:, :, None] > self.edges_[None]).sum(axis=-1)

    def _fit_levels(self, Y):
        L = self.n_levels
        qs = np.arange(1, L) / L
        self.edges_ = np.quantile(Y, qs, axis=0).T.astype(np.float32)  # (F, L-1)
        cls = self.quantise(Y)
        F = Y.shape[1]
        flat = (np.arange(F)[None, :] * L + cls).ravel()
        sums = np.bincount(flat, weights=Y.ravel().astype(np.float64), minlength=F * L)
        counts = np.bincount(flat, minlength=F * L)
        centres = (sums / np.maximum(counts, 1)).reshape(F, L)
        # empty classes (ties in the quantiles): the nearest edge value
        empty = counts.reshape(F, L) == 0
        if np.any(empty):
            lo = np.concatenate([Y.min(axis=0)[:, None], self.edges_], axis=1)
            hi = np.concatenate([self.edges_, Y.max(axis=0)[:, None]], axis=1)
            centres = np.where(empty, 0.5 * (lo + hi), centres)
        self.centres_ = centres.astype(np.float32)
        return cls

    # -- input projection -------------------------------------------------------------------
    def _features(self, Xf):
        Z = (Xf - self.x_mean_) @ self.proj_
        Z *= self.z_scale_
        return Z

    def fit(self, X, Y) -> "LevelsNextFrame":
        t0 = time.perf_counter()
        Xf, Y, n_rows = check_xy(X, Y)
        rng = np.random.default_rng(self.seed)
        self.n_context_ = n_rows
        self.n_features_ = F = Y.shape[1]
        L = self.n_levels
        self.x_mean_ = Xf.mean(axis=0)
        if self.n_components is not None and self.n_components < Xf.shape[1]:
            rows = _pick_rows(len(Xf), 20000, self.seed)
            _, _, Vt = np.linalg.svd(Xf[rows] - self.x_mean_, full_matrices=False)
            self.proj_ = np.ascontiguousarray(Vt[: self.n_components].T.astype(np.float32))
        else:
            self.proj_ = np.eye(Xf.shape[1], dtype=np.float32)
        self.z_scale_ = np.float32(1.0)
        Z = self._features(Xf)
        self.z_scale_ = (1.0 / np.maximum(Z.std(axis=0), 1e-6)).astype(np.float32)
        Z = Z * self.z_scale_
        cls = self._fit_levels(Y)
        k = Z.shape[1]
        W = np.zeros((k, F * L), np.float32)
        b = np.log((np.bincount((np.arange(F)[None] * L + cls).ravel(), minlength=F * L) + 1.0)
                   .reshape(F, L) / (len(Y) + L)).astype(np.float32).ravel()
        mW, vW = np.zeros_like(W), np.zeros_like(W)
        mb, vb = np.zeros_like(b), np.zeros_like(b)
        b1, b2, eps = 0.9, 0.999, 1e-8
        step = 0
        self.loss_history_ = []
        n = len(Z)
        bs = max(1, min(self.batch_size, n))
        epochs = range(self.epochs)
        if self.progress:
            from tqdm.auto import tqdm

            epochs = tqdm(epochs, desc="levels model")
        for _ in epochs:
            order = rng.permutation(n)
            total = 0.0
            for s in range(0, n, bs):
                idx = order[s : s + bs]
                zb, cb = Z[idx], cls[idx]
                P = _softmax((zb @ W + b).reshape(len(idx), F, L))
                picked = np.take_along_axis(P, cb[:, :, None], axis=-1)[..., 0]
                total += float(-np.log(np.maximum(picked, 1e-12)).sum())
                G = P
                np.put_along_axis(G, cb[:, :, None], picked[:, :, None] - 1.0, axis=-1)
                G = G.reshape(len(idx), F * L) / np.float32(len(idx) * F)
                gW = zb.T @ G + np.float32(2 * self.alpha) * W
                gb = G.sum(axis=0)
                step += 1
                lr = self.learning_rate * np.sqrt(1 - b2**step) / (1 - b1**step)
                for p, g, m, v in ((W, gW, mW, vW), (b, gb, mb, vb)):
                    m *= b1
                    m += (1 - b1) * g
                    v *= b2
                    v += (1 - b2) * g * g
                    p -= (lr * m / (np.sqrt(v) + eps)).astype(np.float32)
            self.loss_history_.append(total / (n * F))
        # fold the projection into one matrix for fast prediction: logits = Xf @ A + c
        self.W_ = W
        self.b_ = b
        self.A_ = np.ascontiguousarray((self.proj_ * self.z_scale_) @ W).astype(np.float32)
        self.c_ = (b - (self.x_mean_ @ self.A_)).astype(np.float32)
        if self.A_.shape[0] > 4 * k:  # the factored form is cheaper per step
            self.A_ = None
        rows = _pick_rows(n, self.max_residuals, self.seed)
        logits = self._logits(Xf[rows])
        self.accuracy_ = float(np.mean(logits.argmax(-1) == cls[rows]))
        self.residuals_ = (Y[rows] - self._expect(logits)).astype(np.float32)
        self.fit_seconds_ = time.perf_counter() - t0
        return self

    def _logits(self, Xf):
        if self.A_ is not None:
            out = Xf @ self.A_ + self.c_
        else:
            out = self._features(Xf) @ self.W_ + self.b_
        return out.reshape(len(Xf), self.n_features_, self.n_levels)

    def _expect(self, logits):
        return (_softmax(logits) * self.centres_[None]).sum(-1).astype(np.float32)

    def _check(self, X):
        if not hasattr(self, "W_"):
            raise ParameterError("LevelsNextFrame is not fitted; call fit(X, Y) first")
        Xf = flatten(X)
        if Xf.shape[1] != self.proj_.shape[0]:
            raise ParameterError(f"X has {Xf.shape[1]} values per example, the model was fitted on {self.proj_.shape[0]}")
        return Xf

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities ``[shape=(n, n_features, n_levels)]``."""
        return _softmax(self._logits(self._check(X)))

    def predict(self, X) -> np.ndarray:
        """Expected value of the next frame under the predicted distribution."""
        return self._expect(self._logits(self._check(X)))

    def sample(self, X, *, temperature: float = 1.0, rng=None) -> np.ndarray:
        """One draw per band from ``softmax(logits / temperature)``; ``temperature=0``: the most likely class.

        Returns class centres ``[shape=(n, n_features)]``, always inside the training range.
        """
        if not np.isfinite(temperature) or temperature < 0:
            raise ParameterError(f"temperature={temperature!r} must be a finite number >= 0")
        logits = self._logits(self._check(X))
        if temperature == 0:
            cls = logits.argmax(-1)
        else:
            rng = np.random.default_rng(rng)
            P = _softmax(logits / np.float32(temperature))
            cdf = np.cumsum(P, axis=-1)
            c = self.band_correlation
            if c > 0:
                from scipy.special import ndtr

                shared = rng.standard_normal((cdf.shape[0], 1))
                z = np.sqrt(c) * shared + np.sqrt(1 - c) * rng.standard_normal(cdf.shape[:2])
                u = ndtr(z).astype(np.float32)[..., None] * cdf[..., -1:]
            else:
                u = rng.random(cdf.shape[:2], dtype=np.float32)[..., None] * cdf[..., -1:]
            cls = np.minimum((cdf < u).sum(-1), self.n_levels - 1)
        return self.centres_[np.arange(self.n_features_)[None, :], cls]
