"""Next-frame models, one file per family.

The model protocol
------------------
Every next-frame model that :func:`musiclib.generate.rollout` can drive has

``fit(X, Y) -> self``
    ``X [shape=(n, n_rows, n_features)]`` model inputs built by :class:`musiclib.framing.Framing`
    (``n_rows`` = context frames, plus summary rows if any), ``Y [shape=(n, n_features)]`` the next
    frames, both in the model's feature space (scaled frames, or PCA components: whatever
    transform the notebook applied).
``predict(X) -> Y``
    Point prediction of the next frame, same shapes and space. Models also accept a flattened
    ``X [shape=(n, n_rows * n_features)]``.

and optionally

``residuals_ : np.ndarray [shape=(m, n_features)]``
    Training residuals ``Y - predict(X)`` (a sample of them). ``rollout`` adds a randomly drawn
    residual row, scaled by the temperature, to each prediction: noise with the model's own
    error statistics, correlations across features included.
``sample(X, *, temperature, rng) -> Y``
    For models that predict a distribution (the quantised logistic "levels" model, trees that
    sample from their leaves): one draw per row; ``temperature=0`` gives the most likely or mean
    value. ``rollout`` prefers ``sample`` over ``predict`` + residuals when it exists.
``rollout(prime, *, n_frames, temperature, guard, seed, scaler) -> frames``
    A model that can generate a whole sequence by itself faster than step-by-step Python (a
    compiled Keras/TensorFlow roll-out) implements this; :func:`musiclib.generate.rollout` then
    delegates to it entirely: it passes the prime in the model's feature space (``scaler`` already
    applied), the :class:`musiclib.generate.StabilityGuard` (whose public numeric parameters the
    model must replicate term for term, in representation units, i.e. after undoing ``scaler``),
    the seed, and ``scaler`` itself (``None`` when the model works in representation units). It
    expects only the ``n_frames`` new frames back, shape ``(n_frames, n_features)``, in the model's
    feature space; ``generate.rollout`` undoes ``scaler`` and raises
    :class:`~musiclib.generate.RolloutError` if they hold NaN/inf.
``framing : musiclib.framing.Framing``
    If present, ``rollout`` builds each step's input with it (else it uses
    ``Framing(context=n_context_)`` where ``n_context_`` is recorded by ``fit``).

Families
--------
:mod:`musiclib.models.linear`
    :class:`~musiclib.models.linear.RidgeNextFrame` (ridge regression of the next frame) and
    :class:`~musiclib.models.linear.LevelsNextFrame` (multinomial logistic regression of quantised
    per-band levels, sampled with a temperature). ``notebooks/02_linear_regression``.
:mod:`musiclib.models.trees`
    :class:`~musiclib.models.trees.DecisionTreeNextFrame`,
    :class:`~musiclib.models.trees.RandomForestNextFrame`,
    :class:`~musiclib.models.trees.XGBoostNextFrame`: one model per output (on PCA components) or
    one multi-output model. ``notebooks/03_trees``.
:mod:`musiclib.models.keras_seq` (imports TensorFlow; importing :mod:`musiclib` does not)
    :class:`~musiclib.models.keras_seq.NextFrameLSTM`, :class:`~musiclib.models.keras_seq.LSTMVAE`
    (FFT or DCT domain; temperature = the latent's standard deviation) and
    :class:`~musiclib.models.keras_seq.DilatedCNN`, each with a compiled ``rollout`` (one XLA
    ``tf.while_loop``) that :func:`musiclib.generate.rollout` delegates to. ``notebooks/04_lstm``.
:mod:`musiclib.models.vae` (imports TensorFlow; patch models, not next-frame models)
    :class:`~musiclib.models.vae.PatchVAE` (VAE and conditional VAE), :class:`~musiclib.models.vae.PatchVQVAE`
    and :class:`~musiclib.models.vae.CodePrior` (an LSTM prior over its codes) on the patches of
    :mod:`musiclib.patches`: they sample whole patches (``sample``, ``decode``, ``decode_codes``)
    that :func:`musiclib.patches.sequence_to_audio` stitches and inverts. ``notebooks/05_vae``.
:mod:`musiclib.models.gan` (imports TensorFlow)
    Patch and audio generators, not next-frame models: :class:`~musiclib.models.gan.SpecGAN`
    (and the conditional SpecGAN) on the patches of :mod:`musiclib.patches`,
    :class:`~musiclib.models.gan.VAEGAN` (the patch VAE with a discriminator) and
    :class:`~musiclib.models.gan.WaveGAN` on raw audio; ``generate``/``sample`` give patches or
    windows, :func:`musiclib.patches.sequence_to_audio` turns patch sequences into audio.
    ``notebooks/06_gan``.

Keras models (all of the TensorFlow modules above)
--------------------------------------------------
Built inside :func:`musiclib.models.keras_seq.strategy`'s scope (one GPU when present, several through
``tf.distribute.MirroredStrategy``, with no change to the calling code); seeded by
:func:`musiclib.models.keras_seq.set_seed` (op determinism on the CPU, so a CPU run repeats exactly);
saved in Keras' ``.keras`` format, atomically (no pickles; :func:`musiclib.models.keras_seq.load_model`);
trained with custom ``train_step`` methods (:func:`musiclib.models.keras_seq.gradient_step`) and resumable
checkpoints (``keras.callbacks.BackupAndRestore``). Importing one of them imports TensorFlow.
"""

from __future__ import annotations

import numpy as np

from musiclib.errors import ParameterError

__all__ = ["check_xy", "check_fitted", "flatten", "pick_rows"]


def pick_rows(n: int, m: int | None, seed: int) -> np.ndarray:
    """Sorted indices of ``min(n, m)`` of ``n`` rows, drawn without replacement (all rows when ``m`` is None)."""
    if m is None or n <= m:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size=m, replace=False))


def flatten(X) -> np.ndarray:
    """``X [shape=(n, n_rows, n_features)]`` or ``(n, d)`` -> ``(n, d)`` float32, C-contiguous."""
    if type(X) is np.ndarray and X.dtype == np.float32 and X.ndim == 3 and X.flags.c_contiguous:
        return X.reshape(len(X), -1)
    X = np.asarray(X, dtype=np.float32)
    if X.ndim == 3:
        X = X.reshape(len(X), -1)
    if X.ndim != 2:
        raise ParameterError(f"model input X must have shape (n, n_rows, n_features) or (n, d), got {X.shape}")
    return np.ascontiguousarray(X)


def check_xy(X, Y) -> tuple[np.ndarray, np.ndarray, int]:
    """Validate a training pair; return flattened X, Y as float32 and the number of rows per input."""
    X = np.asarray(X, dtype=np.float32)
    Y = np.asarray(Y, dtype=np.float32)
    if X.ndim not in (2, 3):
        raise ParameterError(f"X must have shape (n, n_rows, n_features), got {X.shape}")
    if Y.ndim != 2:
        raise ParameterError(f"Y must have shape (n, n_features), got {Y.shape}")
    if len(X) != len(Y):
        raise ParameterError(f"X has {len(X)} examples but Y has {len(Y)}")
    if len(X) < 2:
        raise ParameterError(f"need at least 2 training examples, got {len(X)}")
    if not (np.all(np.isfinite(X)) and np.all(np.isfinite(Y))):
        raise ParameterError("X or Y holds NaN or infinite values")
    n_rows = X.shape[1] if X.ndim == 3 else 1
    return flatten(X), np.ascontiguousarray(Y), n_rows


def check_fitted(model, attribute: str, X) -> np.ndarray:
    """``X`` flattened to ``(n, d)``, once ``model`` has ``attribute`` (is fitted) and ``d == model.n_inputs_``."""
    if not hasattr(model, attribute):
        raise ParameterError(f"{type(model).__name__} is not fitted; call fit(X, Y) first")
    Xf = flatten(X)
    if Xf.shape[1] != model.n_inputs_:
        raise ParameterError(f"X has {Xf.shape[1]} values per example, the model was fitted on {model.n_inputs_}")
    return Xf
