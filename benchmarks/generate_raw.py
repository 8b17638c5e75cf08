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
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
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

    def run():
        c0 = time.process_time()
        t0 = time.perf_counter()
        decode = 0.0
        for k in range(n_clips):
            y, info = raw_audio.generate_audio(model, latent, sr=sr, seconds=seconds, split=split,
                                               tempo=pieces.tempo, seed=seed + k)
            decode += info["decode_s"]
            if len(y) < seconds * sr or not np.all(np.isfinite(y)):
                raise RuntimeError(f"{name}-{split}: {len(y)} samples or non-finite audio")
        return decode, time.perf_counter() - t0, time.process_time() - c0

    t0 = time.perf_counter()
    run()
    warmup = time.perf_counter() - t0
    times = [run() for _ in range(repeats)]
    audio_s = seconds * n_clips
    total = statistics.median(t[1] for t in times)
    decode = statistics.median(t[0] for t in times)
    rtf = audio_s / total
    rtf_cpu = audio_s / statistics.median(t[2] for t in times)
    return {
        "benchmark": "generate", "model": f"{name}-{split}", "representation": "raw", "n_features": model.n_samples,
        "clips": n_clips, "seconds": seconds, "train_s": round(train_s, 2), "warmup_s": round(warmup, 3),
        "rollout_s": round(decode, 4), "inversion_s": round(total - decode, 4),
        "rtf_model": round(audio_s / max(decode, 1e-9), 1), "rtf": round(rtf, 1),
        "rtf_best": round(audio_s / min(t[1] for t in times), 1), "rtf_cpu": round(rtf_cpu, 1),
        "inversion": "none (waveform); stitch = stretch to the beat + cross-fade joins", "target": TARGET,
        "passed": bool(max(rtf, rtf_cpu) >= TARGET),
        "data": f"synth.synthetic_mix at {sr} Hz, 3 x 12 s, {len(pieces)} {split} pieces, {TRAIN_EPOCHS} epochs",
    }


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


def register(BENCHMARKS) -> None:  # noqa: N803 - the registry's name in benchmarks/generate.py
    """Add this file's rows to ``benchmarks/generate.py``'s registry (a dict or a list of callables)."""
    def run(seconds: float = 10.0, clips: int = 8, repeats: int = 3, **_ignored):
        return rows(seconds=seconds, clips=clips, repeats=repeats)

    if isinstance(BENCHMARKS, dict):
        BENCHMARKS["raw"] = run
    else:
        BENCHMARKS.append(run)
