"""Generation speed of the Keras sequence models (``musiclib.models.keras_seq``), inversion included.

For each model at the size ``notebooks/04_lstm`` trains in demo mode, times

- the compiled roll-out (:meth:`~musiclib.models.keras_seq.NextFrameLSTM.rollout`: one XLA-compiled
  ``tf.while_loop``, stability guard inside) of ``--seconds`` of frames, for one clip and for a batch
  of ``--clips`` clips generated together;
- the inversion of those frames to audio with :func:`musiclib.generate.frames_to_audio` and its
  generation defaults (:data:`musiclib.generate.GENERATION_INVERSION`; exact inverse for DCT frames);

and reports the real-time factor ``audio seconds / (roll-out + inversion seconds)``, median of
``--repeats`` runs, after one warm-up run (which pays the compilation; its time is recorded apart),
with the best run (``best``) and the RTF per second of this process's CPU time (``CPU``) beside it,
as ``benchmarks/generate.py`` does on a shared machine: a row passes when the median wall-clock RTF
or the CPU-time RTF reaches the target.
The models are trained briefly (:data:`TRAIN_EPOCHS` epochs) on 60 s of ``synth.synthetic_mix``,
so that the frames the inversion gets look like a model's output. Targets (issue "Sequence models in Keras"): 50x for the LSTM and the
CNN, 20x for the LSTM+VAE, on 2 CPU cores.

Not a script of its own: ``benchmarks/generate.py`` imports this file and calls :func:`register`,
so the Keras rows are measured once, in the same run and table as the other models (its options
``--seconds``, ``--clips``, ``--repeats`` apply; ``--no-keras`` leaves these rows out).
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import generate_timing  # noqa: E402

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

#: Epochs of training on synthetic music before timing (speed does not depend on the weights, but the
#: inversion's does a little on what the frames look like, so they should look like a model's output).
TRAIN_EPOCHS = 10

#: model name -> (builder name, builder keyword arguments, representation params, target RTF)
MODELS = {
    "keras-lstm": ("make_lstm", {"units": (128, 128)}, None, 50.0),
    "keras-cnn": ("make_cnn", {"filters": 128, "dilations": (1, 2, 4, 8, 16, 32)}, None, 50.0),
    "keras-lstm-vae-fft": (
        "make_lstm_vae", {"encoder_units": 256, "units": 256, "latent_dim": 32, "decoder_units": 256},
        {"name": "log", "n_fft": 1024, "scale": "db"}, 20.0,
    ),
    "keras-lstm-vae-dct": (
        "make_lstm_vae", {"encoder_units": 256, "units": 256, "latent_dim": 32, "decoder_units": 256},
        {"name": "dct", "block_length": 512}, 20.0,
    ),
}


def _representation(params):
    from musiclib import generate
    from musiclib.representations import from_params

    return from_params(params or generate.DEFAULT_REPRESENTATION)


def measure(name: str, *, seconds: float = 10.0, n_clips: int = 1, repeats: int = 3, seed: int = 0) -> dict:
    """Time one model's generation of ``n_clips`` clips of ``seconds`` each; return one table row."""
    from musiclib import generate, synth
    from musiclib.models import keras_seq

    builder, kwargs, rep_params, target = MODELS[name]
    rep = _representation(rep_params)
    tracks = [rep.encode(synth.synthetic_mix(duration=20.0, sr=rep.sr, bpm=bpm, seed=seed + i))
              for i, bpm in enumerate((100, 120, 140))]
    train = tracks[0]
    keras_seq.set_seed(seed)
    model = getattr(keras_seq, builder)(rep.n_features, **kwargs)
    model.adapt(tracks)
    # a short training, so the frames (and so the inversion's work) look like a trained model's
    t0 = time.perf_counter()
    data = keras_seq.sequence_dataset(tracks, window=64, batch_size=32, seed=seed)
    model.fit(data, epochs=TRAIN_EPOCHS, verbose=0, shuffle=False)
    model.calibrate(data)
    train_s = time.perf_counter() - t0
    guard = generate.StabilityGuard.fit(tracks, rep)
    n_frames = int(round(seconds * rep.frames_per_second))
    prime = np.stack([train[i * 20 : i * 20 + 32] for i in range(n_clips)])
    length = int(round(seconds * rep.sr))

    def make():
        t0 = time.perf_counter()
        frames = model.rollout(prime, n_frames=n_frames, temperature=0.5, guard=guard, seed=seed)
        model_s = time.perf_counter() - t0
        return [generate.frames_to_audio(f, rep, length=length, seed=seed) for f in frames], model_s

    inversion = "exact (inverse DCT)" if rep.name in ("dct", "raw") else json.dumps(generate.GENERATION_INVERSION)
    return generate_timing.time_generation(
        make, name=name, audio_s=seconds * n_clips, repeats=repeats, target=target,
        representation=rep.params["name"], n_features=rep.n_features, clips=n_clips, seconds=seconds,
        train_s=round(train_s, 2), inversion=inversion, data=f"synth.synthetic_mix, 3 x 20 s, {TRAIN_EPOCHS} epochs")


def rows(*, seconds: float = 10.0, clips: int = 8, repeats: int = 3, models=None) -> list[dict]:
    """Every model, for one clip and for a batch of ``clips``."""
    out = []
    for name in models or MODELS:
        for n in sorted({1, clips}):
            out.append(measure(name, seconds=seconds, n_clips=n, repeats=repeats))
    return out


register = generate_timing.registrar("keras", rows)
