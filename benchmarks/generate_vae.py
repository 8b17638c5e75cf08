"""Generation speed of the patch models (``musiclib.models.vae``), inversion included.

For the VAE, the conditional VAE and the VQ-VAE with its LSTM prior, at the sizes
``notebooks/05_vae`` trains in demo mode, times the generation of ``--seconds`` of audio as the
notebook makes it:

- VAE / cVAE: ``model.sample`` of one beat-long patch per beat (latent draw, decoder mean and noise);
- VQ-VAE: ``prior.sample`` of the code sequence (one traced loop), then ``decode_codes``;

then :func:`musiclib.patches.sequence_to_audio` (stitching with cross-faded seams, and ONE inversion
with :func:`musiclib.generate.frames_to_audio`'s generation settings), for one clip and for a batch
of ``--clips`` clips. Reported like ``benchmarks/generate_keras.py``: the real-time factor ``audio
seconds / generation seconds``, median of ``--repeats`` runs after a warm-up run (which pays the
tracing; recorded apart), the best run and the RTF per second of CPU time; ``benchmarks/generate.py``
adds ``rtf_vs_librosa``, the same RTF as a multiple of librosa's Griffin-Lim (32 iterations) on the
same length, measured in the same run.

The models are trained briefly (:data:`TRAIN_EPOCHS` epochs) on patches of ``synth.synthetic_mix``
so the decoded frames look like a model's output (the inversion's cost depends a little on them).
Target (issue "Latent-variable models on spectrogram patches"): 50x on 2 CPU cores, inversion
included.

Not a script of its own: ``benchmarks/generate.py`` imports this file and calls :func:`register`
(``--no-vae`` leaves these rows out).
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

#: Epochs of training on synthetic patches before timing.
TRAIN_EPOCHS = 3
#: Frames per patch and frames per beat (about 129 BPM at 86 frames per second, the demo corpus's median).
N_FRAMES, BEAT = 32, 40
#: The notebook's demo sizes.
VAE_PARAMS = {"latent_dim": 32, "filters": (128, 128, 128)}
VQ_PARAMS = {"codebook_size": 256, "filters": (128, 128, 128)}
PRIOR_PARAMS = {"units": (256,)}
TARGET = 50.0
MODELS = ("vae", "cvae", "vq-vae+prior")


def _train(seed: int = 0):
    """The three models (and the prior), trained briefly on synthetic patches; returns them and seconds."""
    from musiclib import generate, patches, synth
    from musiclib.models import vae

    rep = generate.default_representation()
    frames = [rep.encode(synth.synthetic_mix(duration=20.0, sr=rep.sr, bpm=bpm, seed=seed + i))
              for i, bpm in enumerate((100, 120, 140))]
    p = patches.make_patches(frames, n_frames=N_FRAMES, hop=N_FRAMES // 2, labels=["a", "b", "c"])
    vae.set_seed(seed)
    t0 = time.perf_counter()
    feed = vae.patch_dataset(p, batch_size=64, seed=seed)
    models = {
        "vae": vae.make_vae(N_FRAMES, rep.n_features, **VAE_PARAMS).adapt(p),
        "cvae": vae.make_vae(N_FRAMES, rep.n_features, n_labels=p.n_labels, **VAE_PARAMS).adapt(p),
        "vq": vae.make_vqvae(N_FRAMES, rep.n_features, **VQ_PARAMS).adapt(p),
    }
    for m in models.values():
        m.fit(feed, epochs=TRAIN_EPOCHS, verbose=0, shuffle=False)
    q = models["vq"]
    codes = q.encode_codes(p)
    prior = vae.make_prior(q.codebook_size, q.codes_per_patch, **PRIOR_PARAMS)
    prior.fit(vae.code_dataset([codes[i] for i in p.sequences()], codebook_size=q.codebook_size,
                               codes_per_patch=q.codes_per_patch, window=64, seed=seed),
              epochs=TRAIN_EPOCHS, verbose=0, shuffle=False)
    models["prior"] = prior
    return rep, models, time.perf_counter() - t0


def measure(name: str, trained, *, seconds: float = 10.0, n_clips: int = 1, repeats: int = 3, seed: int = 0) -> dict:
    """Time one model's generation of ``n_clips`` clips of ``seconds`` each; return one table row."""
    from musiclib import generate, patches

    rep, models, train_s = trained
    n_beats = max(2, int(round(seconds * rep.frames_per_second / BEAT)))
    lengths = np.full(n_beats, BEAT)

    def patches_of_clips():
        if name == "vae":
            x = models["vae"].sample(n_clips * n_beats, seed=seed)
            return [x[k * n_beats : (k + 1) * n_beats] for k in range(n_clips)]
        if name == "cvae":
            return [models["cvae"].sample(n_beats, labels=k % 3, seed=seed + k) for k in range(n_clips)]
        q, prior = models["vq"], models["prior"]
        codes = prior.sample(n_beats * q.codes_per_patch, n_sequences=n_clips, seed=seed)
        return [q.decode_codes(c, noise_scale=1.0, seed=seed + k) for k, c in enumerate(codes)]

    def make():
        t0 = time.perf_counter()
        xs = patches_of_clips()
        model_s = time.perf_counter() - t0
        return [patches.sequence_to_audio(x, rep, lengths=lengths, overlap=4, seed=seed) for x in xs], model_s

    return generate_timing.time_generation(
        make, name=name, sr=rep.sr, repeats=repeats, target=TARGET, representation=rep.params["name"],
        n_features=rep.n_features, clips=n_clips, train_s=round(train_s, 2),
        inversion=f"stitch (overlap 4) + {generate.GENERATION_INVERSION}",
        data=f"synth.synthetic_mix patches, {TRAIN_EPOCHS} epochs")


def rows(*, seconds: float = 10.0, clips: int = 8, repeats: int = 3, models=None) -> list[dict]:
    """Every model, for one clip and for a batch of ``clips`` (the models trained once)."""
    trained = _train()
    out = []
    for name in models or MODELS:
        for n in sorted({1, clips}):
            out.append(measure(name, trained, seconds=seconds, n_clips=n, repeats=repeats))
    return out


register = generate_timing.registrar("vae", rows)
