"""Generation speed of the GANs of ``notebooks/06_gan`` (``musiclib.models.gan``), inversion included.

For each model at the size ``notebooks/06_gan`` trains in demo mode, times the making of
``--seconds`` of audio per clip, for one clip and for a batch of ``--clips`` clips:

- **SpecGAN** and **VAE-GAN**: the generator (the EMA generator; the VAE-GAN's decoder mean on
  prior samples, as the notebook samples it) makes as many 64-frame patches of the generation
  representation as the clip needs, :func:`musiclib.patches.stitch` cross-fades them (8 frames) into one spectrogram, and :func:`musiclib.generate.frames_to_audio`
  inverts it once with the generation settings (:data:`musiclib.generate.GENERATION_INVERSION`);
- **WaveGAN**: the generator makes 16 384-sample windows at 16 kHz, which are the audio (no
  inversion), laid end to end.

Each row reports the real-time factor ``audio seconds / (generation + inversion seconds)``, median
of ``--repeats`` runs after one warm-up run (which pays tracing), with the best run and the RTF per
second of this process's CPU time beside it, as ``benchmarks/generate.py`` does on a shared
machine: a row passes when the median wall-clock RTF or the CPU-time RTF reaches the target, 50x
(issue "GANs on spectrogram patches and on raw audio").

The models are trained briefly (:data:`TRAIN_STEPS` steps, :data:`VAE_EPOCHS` epochs for the
VAE-GAN) on ``synth.synthetic_mix`` audio, so that the frames the inversion gets look like a
model's output; speed does not depend on the weights otherwise.

Not a script of its own: ``benchmarks/generate.py`` imports this file and calls :func:`register`,
so these rows are measured once, in the same run and table as the other models (its options
``--seconds``, ``--clips``, ``--repeats`` apply; ``--no-gan`` leaves these rows out).
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

#: Generator steps of training before timing.
TRAIN_STEPS = 60
#: VAE-GAN epochs of training before timing.
VAE_EPOCHS = 2
#: Patch length and cross-fade (frames), as notebooks/06_gan in demo mode.
N_FRAMES, OVERLAP = 64, 8
#: model name -> (kind, parameters at notebooks/06_gan's demo size, target RTF)
MODELS = {
    "gan-specgan": ("spec", {"channels": 32, "latent_dim": 64, "n_layers": 3}, 50.0),
    "gan-vaegan": ("vaegan", {"latent_dim": 32, "filters": (64, 64, 64), "warmup_steps": 50, "d_channels": 32}, 50.0),
    "gan-wavegan": ("wave", {"n_samples": 16384, "channels": 4, "latent_dim": 64}, 50.0),
}


def _music(rep_sr: int, *, seed: int):
    from musiclib import synth

    return [synth.synthetic_mix(duration=20.0, sr=rep_sr, bpm=bpm, seed=seed + i) for i, bpm in enumerate((100, 120, 140))]


def _train(kind: str, params: dict, *, seed: int):
    """A briefly trained model and a function ``make(n_clips, seconds) -> list of clips``."""
    import tempfile

    from musiclib import audio, generate, patches
    from musiclib.models import gan, vae

    rep = generate.default_representation()
    music = _music(rep.sr, seed=seed)
    gan.set_seed(seed)
    with tempfile.TemporaryDirectory() as tmp:
        if kind == "wave":
            windows = gan.wave_windows([audio.resample(y, orig_sr=rep.sr, target_sr=gan.WAVEGAN_SR) for y in music],
                                       n_samples=params["n_samples"])
            model = gan.make_wavegan(seed=seed, **params)
            gan.fit_gan(model, gan.patch_dataset(windows, batch_size=16, seed=seed), steps=TRAIN_STEPS,
                        checkpoint_dir=tmp)
            sr = gan.WAVEGAN_SR

            def make(n_clips, seconds, run_seed):
                n_win = int(np.ceil(seconds * sr / model.n_samples))
                y = model.generate(n_clips * n_win, seed=run_seed).reshape(n_clips, -1)
                return [c[: int(round(seconds * sr))] for c in y], 0.0

            return model, make, "none (raw audio)"
        train = patches.make_patches([rep.encode(y) for y in music], n_frames=N_FRAMES, hop=16)
        if kind == "spec":
            model = gan.make_specgan(N_FRAMES, rep.n_features, seed=seed, **params).adapt(train.x)
            gan.fit_gan(model, gan.patch_dataset(train.x, batch_size=32, seed=seed), steps=TRAIN_STEPS,
                        checkpoint_dir=tmp)

            def draw(n, run_seed):
                return model.generate(n, seed=run_seed)
        else:
            model = gan.make_vaegan(N_FRAMES, rep.n_features, seed=seed, **params).adapt(train.x)
            vae.fit_with_checkpoints(model, vae.patch_dataset(train, batch_size=32, seed=seed, drop_remainder=True),
                                     epochs=VAE_EPOCHS, checkpoint_dir=tmp)

            def draw(n, run_seed):
                return model.sample(n, seed=run_seed, noise_scale=0.0)

    def make(n_clips, seconds, run_seed):
        n_frames = int(np.ceil(seconds * rep.frames_per_second)) + 1
        per_clip = int(np.ceil((n_frames - OVERLAP) / (N_FRAMES - OVERLAP)))
        t0 = time.perf_counter()
        x = draw(n_clips * per_clip, run_seed).reshape(n_clips, per_clip, N_FRAMES, rep.n_features)
        model_s = time.perf_counter() - t0
        length = int(round(seconds * rep.sr))
        clips = [generate.frames_to_audio(patches.stitch(p, overlap=OVERLAP)[:n_frames], rep, length=length,
                                          seed=run_seed) for p in x]
        return clips, model_s

    return model, make, json.dumps(generate.GENERATION_INVERSION)


def measure(name: str, *, seconds: float = 10.0, clip_counts=(1, 8), repeats: int = 3, seed: int = 0) -> list[dict]:
    """Train one model and time its generation of ``n`` clips of ``seconds`` for each ``n`` in ``clip_counts``."""
    kind, params, target = MODELS[name]
    t0 = time.perf_counter()
    model, make, inversion = _train(kind, params, seed=seed)
    from musiclib import generate

    rep_name = generate.default_representation().params["name"]
    train_s = time.perf_counter() - t0
    data = (f"synth.synthetic_mix, 3 x 20 s, {TRAIN_STEPS} steps" if kind != "vaegan"
            else f"synth.synthetic_mix, 3 x 20 s, {VAE_EPOCHS} epochs")
    rows = []
    for n_clips in clip_counts:
        row = generate_timing.time_generation(
            lambda: make(n_clips, seconds, seed), name=name, audio_s=seconds * n_clips, repeats=repeats,
            target=target, representation="raw" if kind == "wave" else rep_name, clips=n_clips, seconds=seconds,
            train_s=round(train_s, 2), inversion=inversion, data=data)
        if kind == "wave":  # the generator makes the audio itself: all of it is the model's time
            row["rtf_model"] = row["rtf"]
        rows.append(row)
    return rows


def rows(*, seconds: float = 10.0, clips: int = 8, repeats: int = 3, models=None) -> list[dict]:
    """Every model, for one clip and for a batch of ``clips``."""
    out = []
    for name in models or MODELS:
        out += measure(name, seconds=seconds, clip_counts=sorted({1, clips}), repeats=repeats)
    return out


register = generate_timing.registrar("gan", rows)
