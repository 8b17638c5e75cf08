"""Linear next-frame models (``notebooks/02_linear_regression``; protocol: :mod:`musiclib.models`).

- :class:`RidgeNextFrame`: ridge regression; its roll-out is stable only while
  :meth:`RidgeNextFrame.spectral_radius` is below one.
- :class:`LevelsNextFrame`: logistic regression of quantised per-band levels, sampled with a
  temperature; its outputs are class centres, so they never leave the training range.
- :class:`UnstableLinear`: a deliberately growing model, for tests and demonstrations.

Both fitted models predict with one matrix product: the estimators' ``predict`` checks cost more
than that for the single rows of a roll-out.
"""

from __future__ import annotations

import warnings

import numpy as np
import scipy.special

from musiclib.errors import ParameterError, check_fraction, check_int, check_number, check_positive
from musiclib.models import NextFrameModel, check_fitted, pick_rows

__all__ = ["RidgeNextFrame", "LevelsNextFrame", "UnstableLinear"]


class RidgeNextFrame(NextFrameModel):
    """Ridge regression of the next frame on the flattened context: ``y = x @ coef_ + intercept_``.

    Parameters
    ----------
    alpha : float >= 0
        L2 penalty on the coefficients (``sklearn.linear_model.Ridge``'s).
    max_residuals, seed : int
        How many training residual rows ``residuals_`` keeps, and which.

    Attributes
    ----------
    model_ : sklearn.linear_model.Ridge
    coef_ : np.ndarray [shape=(n_rows * n_features, n_features)], float32
    intercept_ : np.ndarray [shape=(n_features,)], float32
    residuals_, n_context_, fit_seconds_
        As :meth:`musiclib.models.NextFrameModel.fit` sets them.
    """

    def __init__(self, *, alpha: float = 1.0, max_residuals: int = 20000, seed: int = 0):
        self.alpha = check_number("alpha", alpha, low=0)
        self.max_residuals = max_residuals
        self.seed = seed

    def _fit(self, Xf, Y):
        from sklearn.linear_model import Ridge

        self.model_ = Ridge(alpha=self.alpha).fit(Xf.astype(np.float64), Y.astype(np.float64))
        self.coef_ = np.ascontiguousarray(self.model_.coef_.T, dtype=np.float32)
        self.intercept_ = self.model_.intercept_.astype(np.float32)

    def predict(self, X) -> np.ndarray:
        """Next frames ``[shape=(n, n_features)]`` for inputs ``X [shape=(n, n_rows, n_features)]``."""
        return check_fitted(self, "coef_", X) @ self.coef_ + self.intercept_

    def spectral_radius(self, context: int | None = None) -> float:
        """Largest |eigenvalue| of the roll-out's companion matrix (> 1: the recursion grows).

        For inputs of ``context`` frames only (no summary rows; default: all rows).
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
        M = np.eye(c * F, k=F)  # shift: new state row i = old row i + 1
        M[(c - 1) * F :] = self.coef_.astype(np.float64).T  # the predicted frame
        return float(np.max(np.abs(np.linalg.eigvals(M))))


class UnstableLinear:
    """A deliberately unstable next-frame model: the last frame times ``factor`` (> 1 grows).

    Parameters
    ----------
    factor, offset : float
        Gain and offset per step.
    """

    def __init__(self, factor: float = 1.05, *, offset: float = 0.0):
        self.factor = float(factor)
        self.offset = float(offset)
        self.n_context_ = 1

    def fit(self, X, Y):
        """Record the context length of ``X [shape=(n, n_rows, n_features)]``; nothing is learned."""
        self.n_context_ = np.asarray(X).shape[1] if np.asarray(X).ndim == 3 else 1
        return self

    def predict(self, X):
        """``factor * X[:, -1] + offset`` ``[shape=(n, n_features)]``."""
        X = np.asarray(X, dtype=np.float32)
        last = X[:, -1] if X.ndim == 3 else X
        return (self.factor * last + self.offset).astype(np.float32)


class LevelsNextFrame(NextFrameModel):
    """Multinomial logistic regression of quantised per-band levels, sampled with a temperature.

    Each band's next value is quantised into ``n_levels`` equal-frequency classes
    (``KBinsDiscretizer(strategy="quantile")``), each standing for the mean training value in it
    (``centres_``). One softmax per band, all on the whitened principal components of the input, is
    trained by mini-batch Adam on the mean cross-entropy plus an L2 penalty.

    Parameters
    ----------
    n_levels : int >= 2
        Classes per band (fewer where a band's training values have too many ties).
    n_components : int, optional
        Principal components of the flattened input kept; ``None`` keeps them all.
    alpha : float
        L2 penalty on the weights.
    epochs, batch_size, learning_rate : int, int, float
        Adam schedule.
    max_residuals, seed : int
        Training residual rows kept (of :meth:`predict`), and seeding.
    band_correlation : float in [0, 1)
        How alike the bands' draws are: each band's class is taken at the quantile
        ``Phi(sqrt(c) z + sqrt(1 - c) z_b)`` of its distribution, ``z`` shared by the frame's bands
        (a Gaussian copula). 0 draws bands independently (a hissing frame); near 1 a frame is loud
        or quiet as a whole, as real frames are.
    progress : bool
        A progress bar over the epochs.

    Attributes
    ----------
    discretizer_, pca_ : sklearn.preprocessing.KBinsDiscretizer, sklearn.decomposition.PCA
    centres_ : np.ndarray [shape=(n_features, n_levels)]
    proj_ : np.ndarray [shape=(n_rows * n_features, n_components)]
        Whitening projection of the centred input.
    loss_history_ : list of float
        Mean training cross-entropy per epoch (nats; ``log(n_levels)`` is chance).
    accuracy_ : float
        Fraction of training band values whose most likely class is right.
    """

    def __init__(self, *, n_levels: int = 16, n_components: int | None = 64, alpha: float = 1e-4,
                 epochs: int = 8, batch_size: int = 256, learning_rate: float = 1e-2,
                 max_residuals: int = 20000, band_correlation: float = 0.9, seed: int = 0, progress: bool = False):
        self.n_levels = check_int("n_levels", n_levels, low=2)
        self.n_components = check_int("n_components", n_components, allow_none=True)
        self.alpha = check_number("alpha", alpha, low=0)
        self.epochs = check_int("epochs", epochs)
        self.batch_size = check_int("batch_size", batch_size)
        self.learning_rate = check_positive("learning_rate", learning_rate)
        self.band_correlation = check_fraction("band_correlation", band_correlation, high_open=True)
        self.max_residuals = max_residuals
        self.seed = seed
        self.progress = progress

    def quantise(self, Y) -> np.ndarray:
        """Class index ``[shape=(n, n_features)]`` (int) of each value of ``Y [shape=(n, n_features)]``."""
        return self.discretizer_.transform(np.asarray(Y, dtype=np.float32)).astype(np.intp)

    def _fit(self, Xf, Y):
        from sklearn.decomposition import PCA
        from sklearn.preprocessing import KBinsDiscretizer

        # the input: whitened principal components (fitted on at most 20000 rows)
        rows = pick_rows(len(Xf), 20000, self.seed)
        k = min(self.n_components or Xf.shape[1], Xf.shape[1], len(rows))
        self.pca_ = PCA(n_components=k, random_state=self.seed).fit(Xf[rows])
        self.x_mean_ = self.pca_.mean_.astype(np.float32)
        scale = 1.0 / np.sqrt(np.maximum(self.pca_.explained_variance_, 1e-12))
        self.proj_ = np.ascontiguousarray(self.pca_.components_.T * scale, dtype=np.float32)
        Z = (Xf - self.x_mean_) @ self.proj_
        L, F = self.n_levels, Y.shape[1]
        with warnings.catch_warnings():  # bands with many ties get fewer classes: expected, not a problem
            warnings.filterwarnings("ignore", message="Bins whose width are too small")
            self.discretizer_ = KBinsDiscretizer(n_bins=L, encode="ordinal", strategy="quantile",
                                                 random_state=self.seed).fit(Y)
        cls = self.quantise(Y)
        flat = (np.arange(F)[None, :] * L + cls).ravel()
        sums = np.bincount(flat, weights=Y.ravel().astype(np.float64), minlength=F * L).reshape(F, L)
        counts = np.bincount(flat, minlength=F * L).reshape(F, L)
        # a class no training value fell into stands for the middle of its edges
        edges = np.stack([np.pad(e, (0, L + 1 - len(e)), mode="edge") for e in self.discretizer_.bin_edges_])
        mid = 0.5 * (edges[:, :-1] + edges[:, 1:])
        self.centres_ = np.where(counts > 0, sums / np.maximum(counts, 1), mid).astype(np.float32)
        self.W_, self.b_ = self._train(Z, cls, counts, np.random.default_rng(self.seed))
        # the projection folded into one matrix, logits = Xf @ A_ + c_, when that is the cheaper product
        self.A_ = self.c_ = None
        if Xf.shape[1] <= 4 * Z.shape[1]:
            self.A_ = np.ascontiguousarray(self.proj_ @ self.W_, dtype=np.float32)
            self.c_ = (self.b_ - self.x_mean_ @ self.A_).astype(np.float32)
        rows = pick_rows(len(Xf), self.max_residuals, self.seed)
        self.accuracy_ = float(np.mean(self._logits(Xf[rows]).argmax(-1) == cls[rows]))

    def _train(self, Z, cls, counts, rng) -> tuple[np.ndarray, np.ndarray]:
        """Mini-batch Adam on the mean cross-entropy plus ``alpha`` L2; return weights and biases."""
        from tqdm.auto import tqdm

        n, F, L = len(Z), self.n_features_, self.n_levels
        W = np.zeros((Z.shape[1], F * L), np.float32)
        b = np.log((counts.ravel() + 1.0) / (n + L)).astype(np.float32)  # start from the class frequencies
        moments = [(np.zeros_like(p), np.zeros_like(p)) for p in (W, b)]
        b1, b2, eps, step = 0.9, 0.999, 1e-8, 0
        bs = max(1, min(self.batch_size, n))
        self.loss_history_ = []
        for _ in tqdm(range(self.epochs), desc="levels model", disable=not self.progress):
            total = 0.0
            for idx in np.array_split(rng.permutation(n), range(bs, n, bs)):
                zb, cb = Z[idx], cls[idx]
                P = scipy.special.softmax((zb @ W + b).reshape(len(idx), F, L), axis=-1)
                picked = np.take_along_axis(P, cb[:, :, None], axis=-1)
                total += float(-np.log(np.maximum(picked, 1e-12)).sum())
                np.put_along_axis(P, cb[:, :, None], picked - 1.0, axis=-1)  # d loss / d logits
                G = P.reshape(len(idx), F * L) / np.float32(len(idx) * F)
                step += 1
                lr = self.learning_rate * np.sqrt(1 - b2**step) / (1 - b1**step)
                for p, g, (m, v) in zip((W, b), (zb.T @ G + np.float32(2 * self.alpha) * W, G.sum(axis=0)), moments):
                    m[:] = b1 * m + (1 - b1) * g
                    v[:] = b2 * v + (1 - b2) * g * g
                    p -= (lr * m / (np.sqrt(v) + eps)).astype(np.float32)
            self.loss_history_.append(total / (n * F))
        return W, b

    def _logits(self, Xf):
        if self.A_ is not None:
            out = Xf @ self.A_ + self.c_
        else:
            out = ((Xf - self.x_mean_) @ self.proj_) @ self.W_ + self.b_
        return out.reshape(len(Xf), self.n_features_, self.n_levels)

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities ``[shape=(n, n_features, n_levels)]`` for ``X [shape=(n, n_rows, n_features)]``."""
        return scipy.special.softmax(self._logits(check_fitted(self, "W_", X)), axis=-1)

    def predict(self, X) -> np.ndarray:
        """Expected value of the next frame ``[shape=(n, n_features)]`` under the predicted distribution."""
        return (self.predict_proba(X) * self.centres_[None]).sum(-1).astype(np.float32)

    def sample(self, X, *, temperature: float = 1.0, rng=None) -> np.ndarray:
        """One draw per band from ``softmax(logits / temperature)``; ``temperature=0``: the most likely class.

        Parameters
        ----------
        X : np.ndarray [shape=(n, n_rows, n_features)]
        temperature : float >= 0
        rng : int, np.random.Generator or None

        Returns
        -------
        np.ndarray [shape=(n, n_features)]
            Class centres.
        """
        temperature = check_number("temperature", temperature, low=0)
        logits = self._logits(check_fitted(self, "W_", X))
        if temperature == 0:
            cls = logits.argmax(-1)
        else:
            rng = np.random.default_rng(rng)
            cdf = np.cumsum(scipy.special.softmax(logits / np.float32(temperature), axis=-1), axis=-1)
            c, (n, F) = self.band_correlation, cdf.shape[:2]
            if c > 0:
                z = np.sqrt(c) * rng.standard_normal((n, 1)) + np.sqrt(1 - c) * rng.standard_normal((n, F))
                u = scipy.special.ndtr(z).astype(np.float32)
            else:
                u = rng.random((n, F), dtype=np.float32)
            cls = np.minimum((cdf < u[..., None] * cdf[..., -1:]).sum(-1), self.n_levels - 1)
        return self.centres_[np.arange(self.n_features_)[None, :], cls]
