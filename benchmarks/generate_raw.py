"""Generation speed of the raw-audio autoencoders (``musiclib.models.raw_audio``), rows ``raw-...``.

For each model of ``notebooks/07_raw_audio`` at its demo size (dense AE, 1-D convolutional AE,
dense VAE; and the full-mode convolutional VAE) and each way of cutting the training audio (``fixed`` pieces, ``beat`` pieces
stretched to one length), times :func:`musiclib.models.raw_audio.generate_audio`: sampling codes from
the Gaussian fitted to the training codes, decoding every piece in one batch, and stitching them
(stretched back to the tempo for ``beat``) with cross-fades into ``--seconds`` of audio at 10 kHz.
There is no phase to reconstruct: the decoder's output is the waveform.

The real-time factor is ``audio seconds / generation seconds`` for one clip and for ``--clips``
clips, median of ``--repeats`` runs after a warm-up, with the best run and the RTF per second of
this process's CPU time beside it, as in ``benchmarks/generate.py``. Target (issue 13): 50x on 2
CPU cores. The models are trained briefly (:data:`TRAIN_EPOCHS`) on ``synth.synthetic_mix`` at
10 kHz so their output looks like a trained model's.

Not a script of its own: ``benchmarks/generate.py`` imports this file and calls :func:`register`,
so these rows join its table (its ``--seconds``, ``--clips`` and ``--repeats`` apply).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import generate_timing  # noqa: E402

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

#: Epochs of training on synthetic music before timing (speed does not depend on the weights).
TRAIN_EPOCHS = 2
TARGET = 50.0

#: row name -> (builder name, keyword arguments); the sizes notebooks/07_raw_audio uses in demo mode
MODELS = {
    "raw-dense": ("make_dense_ae", {"units": (512,), "latent_dim": 32}),
    "raw-conv": ("make_conv_ae", {"filters": (8, 16, 32, 32), "kernel_size": 5, "latent_dim": 32}),
    "raw-vae": ("make_vae", {"kind": "dense", "units": (512,), "latent_dim": 32}),
    "raw-vae-conv": ("make_vae", {"kind": "conv", "filters": (16, 32, 64, 64), "latent_dim": 32}),
}


def _training_audio(sr: int, seed: int):
    from musiclib import synth

    return [synth.synthetic_mix(duration=12.0, sr=sr, bpm=bpm, seed=seed + i) for i, bpm in enumerate((100, 120, 140))]


def measure(name: str, split: str, *, seconds: float = 10.0, n_clips: int = 1, repeats: int = 3, seed: int = 0,
            pieces=None) -> dict:
    """Time one model's generation of ``n_clips`` clips of ``seconds`` each; return one table row."""
    from musiclib.models import raw_audio

    builder, kwargs = MODELS[name]
    sr = raw_audio.SR
    if pieces is None:
        pieces = raw_audio.make_pieces(_training_audio(sr, seed), sr=sr, split=split)
    raw_audio.set_seed(seed)
    t0 = time.perf_counter()
    model = getattr(raw_audio, builder)(**kwargs).adapt(pieces)
    model.fit(raw_audio.piece_dataset(pieces, batch_size=64, seed=seed), epochs=TRAIN_EPOCHS, verbose=0, shuffle=False)
    latent = raw_audio.LatentGaussian().fit(model.encode(pieces))
    train_s = time.perf_counter() - t0

    def make():
        clips, decode = [], 0.0
        for k in range(n_clips):
            y, info = raw_audio.generate_audio(model, latent, sr=sr, seconds=seconds, split=split,
                                               tempo=pieces.tempo, seed=seed + k)
            if len(y) < seconds * sr:
                raise RuntimeError(f"{name}-{split}: {len(y)} samples, fewer than {seconds} s")
            clips.append(y)
            decode += info["decode_s"]
        return clips, decode

    return generate_timing.time_generation(
        make, name=f"{name}-{split}", audio_s=seconds * n_clips, repeats=repeats, target=TARGET,
        representation="raw", n_features=model.n_samples, clips=n_clips, seconds=seconds, train_s=round(train_s, 2),
        inversion="none (waveform); stitch = stretch to the beat + cross-fade joins",
        data=f"synth.synthetic_mix at {sr} Hz, 3 x 12 s, {len(pieces)} {split} pieces, {TRAIN_EPOCHS} epochs")


def rows(*, seconds: float = 10.0, clips: int = 8, repeats: int = 3, models=None, splits=("fixed", "beat")) -> list:
    """Every model and split, for one clip and for ``clips`` clips ("roll-out s" = decoding, "invert s" = stitching)."""
    from musiclib.models import raw_audio

    out = []
    for split in splits:
        try:
            pieces = raw_audio.make_pieces(_training_audio(raw_audio.SR, 0), sr=raw_audio.SR, split=split)
        except ImportError as e:  # musiclib.beats not there yet
            print(f"raw-* {split} rows skipped: {e}")
            continue
        for name in models or MODELS:
            for n in sorted({1, clips}):
                out.append(measure(name, split, seconds=seconds, n_clips=n, repeats=repeats, pieces=pieces))
    return out


register = generate_timing.registrar("raw", rows)
