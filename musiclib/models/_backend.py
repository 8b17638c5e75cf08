"""Keras on TensorFlow: the one place the Keras model modules choose and check the backend.

``from musiclib.models._backend import keras, tf`` sets ``KERAS_BACKEND=tensorflow`` unless the user
chose one, imports both, and refuses another backend with an ImportError that names it.
"""

import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

if keras.backend.backend() != "tensorflow":  # pragma: no cover - depends on the user's environment
    raise ImportError(f"musiclib.models needs Keras' TensorFlow backend, but KERAS_BACKEND={keras.backend.backend()!r}")

__all__ = ["keras", "tf"]
