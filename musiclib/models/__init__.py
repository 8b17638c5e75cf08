"""Next-frame models, one file per family.

The model protocol
------------------
Every next-frame model that :func:`musiclib.generate.rollout` can drive has

``fit(X, Y) -> self``
    ``X [shape=(n, n_rows, n_features)]`` inputs built by :class:`musiclib.framing.Framing` (context
    frames, plus summary rows if any), ``Y [shape=(n, n_features)]`` the next frames, both in the
    model's feature space (scaled frames or PCA components).
``predict(X) -> Y``
    Point prediction of the next frame; a flattened ``X [shape=(n, n_rows * n_features)]`` works too.

and optionally

``residuals_ : np.ndarray [shape=(m, n_features)]``
    Training residuals; ``rollout`` adds a random row of them, times the temperature, to each prediction.
``sample(X, *, temperature, rng) -> Y``
    One draw per row (``temperature=0``: the most likely or mean value), preferred over residuals.
``rollout(prime, *, n_frames, temperature, guard, seed, scaler) -> frames``
    A compiled roll-out that :func:`musiclib.generate.rollout` delegates to. Prime and the
    ``(n_frames, n_features)`` result are in the model's feature space; the
    :class:`~musiclib.generate.StabilityGuard` is replicated in representation units (after undoing
    ``scaler``, ``None`` when the model works in them).
``framing : musiclib.framing.Framing``
    How ``rollout`` builds each step's input (default ``Framing(context=n_context_)``).

Families
--------
:mod:`~musiclib.models.linear` (``notebooks/02_linear_regression``), :mod:`~musiclib.models.trees`
(``03_trees``), :mod:`~musiclib.models.keras_seq` (``04_lstm``), :mod:`~musiclib.models.vae`
(``05_vae``, patch models), :mod:`~musiclib.models.gan` (``06_gan``, patch and audio generators) and
:mod:`~musiclib.models.raw_audio` (``07_raw_audio``, waveform autoencoders).

The Keras modules import TensorFlow (:mod:`musiclib` itself does not) and share the conventions of
:mod:`musiclib.models.keras_seq`: ``strategy()`` scope, ``set_seed``, custom ``train_step`` methods,
resumable checkpoints, atomic ``.keras`` saves.
"""

from __future__ import annotations

import time

import numpy as np

from musiclib.errors import ParameterError, check_finite

__all__ = ["NextFrameModel", "check_xy", "check_fitted", "flatten", "pick_rows"]


def pick_rows(n: int, m: int | None, seed: int) -> np.ndarray:
    """Sorted indices of ``min(n, m)`` of ``n`` rows, drawn without replacement (all rows when ``m`` is None)."""
    if m is None or n <= m:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size=m, replace=False))


def flatten(X) -> np.ndarray:
    """``X [shape=(n, n_rows, n_features)]`` or ``(n, d)`` -> ``(n, d)`` float32, C-contiguous."""
    if type(X) is np.ndarray and X.dtype == np.float32 and X.ndim == 3 and X.flags.c_contiguous:
        return X.reshape(X.shape[0], X.shape[1] * X.shape[2])  # explicit: an empty X has no -1
    X = np.asarray(X, dtype=np.float32)
    if X.ndim == 3:
        X = X.reshape(X.shape[0], X.shape[1] * X.shape[2])
    if X.ndim != 2:
        raise ParameterError(f"model input X must have shape (n, n_rows, n_features) or (n, d), got {X.shape}")
    return np.ascontiguousarray(X)


def check_xy(X, Y) -> tuple[np.ndarray, np.ndarray, int]:
    """Validate a training pair; return flattened X, Y as float32 and the number of rows per input."""
    X = check_finite("X", X, allow_empty=True)
    Xf, Y = flatten(X), check_finite("Y", Y, ndim=2, allow_empty=True)
    if len(Xf) != len(Y):
        raise ParameterError(f"X has {len(Xf)} examples but Y has {len(Y)}")
    if len(Xf) < 2:
        raise ParameterError(f"need at least 2 training examples, got {len(Xf)}")
    return Xf, np.ascontiguousarray(Y), X.shape[1] if X.ndim == 3 else 1


def check_fitted(model, attribute: str, X) -> np.ndarray:
    """``X`` flattened to ``(n, d)``, once ``model`` has ``attribute`` (is fitted) and ``d == model.n_inputs_``."""
    if not hasattr(model, attribute):
        raise ParameterError(f"{type(model).__name__} is not fitted; call fit(X, Y) first")
    Xf = flatten(X)
    if Xf.shape[1] != model.n_inputs_:
        raise ParameterError(f"X has {Xf.shape[1]} values per example, the model was fitted on {model.n_inputs_}")
    return Xf


class NextFrameModel:
    """The ``fit`` of the NumPy/scikit-learn next-frame models: checks, bookkeeping, residuals.

    Subclasses set ``max_residuals`` and ``seed`` and implement ``_fit(Xf, Y)`` on the flattened inputs.
    """

    def fit(self, X, Y):
        """Fit on inputs ``X [shape=(n, n_rows, n_features)]`` and next frames ``Y [shape=(n, n_features)]``.

        Sets ``n_context_``, ``n_inputs_``, ``n_features_``, ``residuals_`` and ``fit_seconds_``.
        """
        t0 = time.perf_counter()
        Xf, Y, self.n_context_ = check_xy(X, Y)
        self.n_inputs_, self.n_features_ = Xf.shape[1], Y.shape[1]
        self._fit(Xf, Y)
        rows = pick_rows(len(Xf), self.max_residuals, self.seed)
        self.residuals_ = (Y[rows] - self.predict(Xf[rows])).astype(np.float32)
        self.fit_seconds_ = time.perf_counter() - t0
        return self
