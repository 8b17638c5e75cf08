"""Linear next-frame models: ridge regression, and multinomial logistic regression of quantised levels.

See ``notebooks/02_linear_regression``. Both follow the model protocol of :mod:`musiclib.models`.

- :class:`RidgeNextFrame` regresses the next frame on the previous ones (scikit-learn's ``Ridge``).
  Its roll-out is a linear recursion: it is stable only if the spectral radius of its companion
  matrix (:meth:`RidgeNextFrame.spectral_radius`) is below one, and with noise added it drifts;
  that is the "blow-up" the original experiments saw, and what
  :class:`musiclib.generate.StabilityGuard` contains.
- :class:`LevelsNextFrame` is logistic regression in its proper form: each band's next value is
  quantised into ``n_levels`` classes (equal-frequency bins fitted on the training frames,
  scikit-learn's ``KBinsDiscretizer``), a softmax per band predicts the class, and generation
  samples a class from the predicted distribution with a temperature (the char-rnn trick). Its
  outputs are class centres, so they can never leave the training range.

Both predict with their fitted weights as one matrix product (not the estimator's ``predict``,
whose input checks cost more than the product for the single rows of a roll-out).
"""

from __future__ import annotations

import time
import warnings

import numpy as np
import scipy.special

from musiclib.errors import ParameterError, check_fraction, check_int, check_number, check_positive
from musiclib.models import check_fitted, check_xy, pick_rows

__all__ = ["RidgeNextFrame", "LevelsNextFrame", "UnstableLinear"]


class RidgeNextFrame:
    """Ridge regression of the next frame on the flattened context: ``y = x @ coef_ + intercept_``.

    Parameters
    ----------
    alpha : float >= 0
        L2 penalty on the coefficients (``sklearn.linear_model.Ridge``'s).
    max_residuals : int
        At most this many training residual rows are kept in ``residuals_``.
    seed : int
        Which residual rows are kept.

    Attributes
    ----------
    model_ : sklearn.linear_model.Ridge
    coef_ : np.ndarray [shape=(n_rows * n_features, n_features)], float32
        ``model_.coef_.T``: inputs by outputs.
    intercept_ : np.ndarray [shape=(n_features,)], float32
    residuals_ : np.ndarray [shape=(m, n_features)]
    n_context_ : int
        Rows per input seen in ``fit``.
    fit_seconds_ : float
    """

    def __init__(self, *, alpha: float = 1.0, max_residuals: int = 20000, seed: int = 0):
        self.alpha = check_number("alpha", alpha, low=0)
        self.max_residuals = max_residuals
        self.seed = seed

    def fit(self, X, Y) -> "RidgeNextFrame":
        """Fit on inputs ``X [shape=(n, n_rows, n_features)]`` and next frames ``Y [shape=(n, n_features)]``."""
        from sklearn.linear_model import Ridge

        t0 = time.perf_counter()
        Xf, Y, self.n_context_ = check_xy(X, Y)
        self.n_inputs_, self.n_features_ = Xf.shape[1], Y.shape[1]
        self.model_ = Ridge(alpha=self.alpha).fit(Xf.astype(np.float64), Y.astype(np.float64))
        self.coef_ = np.ascontiguousarray(self.model_.coef_.T, dtype=np.float32)
        self.intercept_ = self.model_.intercept_.astype(np.float32)
        rows = pick_rows(len(Xf), self.max_residuals, self.seed)
        self.residuals_ = (Y[rows] - self.predict(Xf[rows])).astype(np.float32)
        self.fit_seconds_ = time.perf_counter() - t0
        return self

    def predict(self, X) -> np.ndarray:
        """Next frames ``[shape=(n, n_features)]`` for inputs ``X [shape=(n, n_rows, n_features)]``."""
        return check_fitted(self, "coef_", X) @ self.coef_ + self.intercept_

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

    Parameters
    ----------
    factor : float
        Gain per step.
    offset : float
        Added per step.
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


class LevelsNextFrame:
    """Multinomial logistic regression of quantised per-band levels, sampled with a temperature.

    Each of the ``n_features`` outputs (bands) is quantised into ``n_levels`` equal-frequency
    classes fitted on the training targets (``KBinsDiscretizer(strategy="quantile")``); each class
    stands for the mean training value that fell into it (``centres_``). One softmax per band, all
    sharing the same input (projected onto its whitened principal components, scikit-learn's
    ``PCA``), is trained by mini-batch Adam on the mean cross-entropy plus an L2 penalty.

    Parameters
    ----------
    n_levels : int >= 2
        Classes per band (fewer where a band's training values have too many ties).
    n_components : int, optional
        Principal components of the flattened input kept (faster training and generation);
        ``None`` keeps them all.
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
        Shuffling, the PCA's rows and the residual rows.
    progress : bool
        A progress bar over the epochs.

    Attributes
    ----------
    discretizer_ : sklearn.preprocessing.KBinsDiscretizer
        The quantisation (``bin_edges_`` per band).
    pca_ : sklearn.decomposition.PCA
    centres_ : np.ndarray [shape=(n_features, n_levels)]
    proj_ : np.ndarray [shape=(n_rows * n_features, n_components)]
        The whitening projection of the centred input.
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

    def _fit_levels(self, Y) -> np.ndarray:
        """Fit the quantisation and the class centres; return the training classes."""
        from sklearn.preprocessing import KBinsDiscretizer

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
        return cls

    def _fit_projection(self, Xf) -> np.ndarray:
        """Fit the whitening PCA of the input (on at most 20000 rows); return the projected input."""
        from sklearn.decomposition import PCA

        rows = pick_rows(len(Xf), 20000, self.seed)
        k = min(self.n_components or Xf.shape[1], Xf.shape[1], len(rows))
        self.pca_ = PCA(n_components=k, random_state=self.seed).fit(Xf[rows])
        self.x_mean_ = self.pca_.mean_.astype(np.float32)
        scale = 1.0 / np.sqrt(np.maximum(self.pca_.explained_variance_, 1e-12))
        self.proj_ = np.ascontiguousarray(self.pca_.components_.T * scale, dtype=np.float32)
        return (Xf - self.x_mean_) @ self.proj_

    def _train(self, Z, cls, rng) -> tuple[np.ndarray, np.ndarray]:
        """Mini-batch Adam on the mean cross-entropy plus ``alpha`` L2; return weights and biases."""
        n, F, L = len(Z), self.n_features_, self.n_levels
        W = np.zeros((Z.shape[1], F * L), np.float32)
        prior = np.bincount((np.arange(F)[None] * L + cls).ravel(), minlength=F * L) + 1.0
        b = np.log(prior / (n + L)).astype(np.float32)  # start from the class frequencies
        moments = [(np.zeros_like(p), np.zeros_like(p)) for p in (W, b)]
        b1, b2, eps, step = 0.9, 0.999, 1e-8, 0
        bs = max(1, min(self.batch_size, n))
        self.loss_history_ = []
        epochs = range(self.epochs)
        if self.progress:
            from tqdm.auto import tqdm

            epochs = tqdm(epochs, desc="levels model")
        for _ in epochs:
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
                    m *= b1
                    m += (1 - b1) * g
                    v *= b2
                    v += (1 - b2) * g * g
                    p -= (lr * m / (np.sqrt(v) + eps)).astype(np.float32)
            self.loss_history_.append(total / (n * F))
        return W, b

    def fit(self, X, Y) -> "LevelsNextFrame":
        """Fit on inputs ``X [shape=(n, n_rows, n_features)]`` and next frames ``Y [shape=(n, n_features)]``."""
        t0 = time.perf_counter()
        Xf, Y, self.n_context_ = check_xy(X, Y)
        self.n_inputs_, self.n_features_ = Xf.shape[1], Y.shape[1]
        Z = self._fit_projection(Xf)
        cls = self._fit_levels(Y)
        self.W_, self.b_ = self._train(Z, cls, np.random.default_rng(self.seed))
        # the projection folded into one matrix, logits = Xf @ A_ + c_, when that is the cheaper product
        self.A_ = self.c_ = None
        if Xf.shape[1] <= 4 * Z.shape[1]:
            self.A_ = np.ascontiguousarray(self.proj_ @ self.W_, dtype=np.float32)
            self.c_ = (self.b_ - self.x_mean_ @ self.A_).astype(np.float32)
        rows = pick_rows(len(Xf), self.max_residuals, self.seed)
        logits = self._logits(Xf[rows])
        self.accuracy_ = float(np.mean(logits.argmax(-1) == cls[rows]))
        self.residuals_ = (Y[rows] - self._expect(logits)).astype(np.float32)
        self.fit_seconds_ = time.perf_counter() - t0
        return self

    def _logits(self, Xf):
        if self.A_ is not None:
            out = Xf @ self.A_ + self.c_
        else:
            out = ((Xf - self.x_mean_) @ self.proj_) @ self.W_ + self.b_
        return out.reshape(len(Xf), self.n_features_, self.n_levels)

    def _expect(self, logits):
        return (scipy.special.softmax(logits, axis=-1) * self.centres_[None]).sum(-1).astype(np.float32)

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities ``[shape=(n, n_features, n_levels)]`` for ``X [shape=(n, n_rows, n_features)]``."""
        return scipy.special.softmax(self._logits(check_fitted(self, "W_", X)), axis=-1)

    def predict(self, X) -> np.ndarray:
        """Expected value of the next frame ``[shape=(n, n_features)]`` under the predicted distribution."""
        return self._expect(self._logits(check_fitted(self, "W_", X)))

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
            Class centres, always inside the training range.
        """
        temperature = check_number("temperature", temperature, low=0)
        logits = self._logits(check_fitted(self, "W_", X))
        if temperature == 0:
            cls = logits.argmax(-1)
        else:
            rng = np.random.default_rng(rng)
            cdf = np.cumsum(scipy.special.softmax(logits / np.float32(temperature), axis=-1), axis=-1)
            c = self.band_correlation
            if c > 0:
                shared = rng.standard_normal((cdf.shape[0], 1))
                z = np.sqrt(c) * shared + np.sqrt(1 - c) * rng.standard_normal(cdf.shape[:2])
                u = scipy.special.ndtr(z).astype(np.float32)[..., None] * cdf[..., -1:]
            else:
                u = rng.random(cdf.shape[:2], dtype=np.float32)[..., None] * cdf[..., -1:]
            cls = np.minimum((cdf < u).sum(-1), self.n_levels - 1)
        return self.centres_[np.arange(self.n_features_)[None, :], cls]
