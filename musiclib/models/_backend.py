"""Keras on TensorFlow for the Keras model modules: ``from musiclib.models._backend import keras, tf``.

Sets ``KERAS_BACKEND=tensorflow`` unless the user chose one; another backend is an ImportError.
"""

import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

if keras.backend.backend() != "tensorflow":  # pragma: no cover - depends on the user's environment
    raise ImportError(f"musiclib.models needs Keras' TensorFlow backend, but KERAS_BACKEND={keras.backend.backend()!r}")

__all__ = ["keras", "tf"]
