# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 06 · GANs: SpecGAN, conditional SpecGAN, VAE-GAN and WaveGAN
#
# **Can a generative adversarial network trained for about a minute on two CPU cores generate
# spectrogram patches that become music -- not noise, not copies of its training data, not one sound
# over and over -- and does it do better on spectrograms than on raw audio?**
#
# An earlier attempt at a GAN in this project produced "rhythmic noise". GANs fail in ways that
# are easy to miss until the end of a long run: the generator collapses onto a few outputs, or the
# two networks settle on textures that fool a weak discriminator but sound like hiss. So here every
# model is *watched* while it trains: every few hundred steps a callback renders a few clips from the
# generator, plays them, and runs the musicality card's noise and diversity checks on them.
#
# | model | what it generates | from |
# |---|---|---|
# | **SpecGAN** (DCGAN, hinge loss + spectral normalisation) | spectrogram patches (log-frequency, dB), stitched and inverted once | noise |
# | **SpecGAN, WGAN-GP** (the alternative objective) | the same | noise |
# | **conditional SpecGAN** (projection discriminator) | spectrogram patches of one source file | noise + a label |
# | **VAE-GAN**: the VAE of notebook 05 + a discriminator | spectrogram patches | the VAE's prior |
# | **WaveGAN** (phase shuffle) | 16 384 samples of raw audio at 16 kHz | noise |
#
# The spectrogram models use the patches of `musiclib.patches` (the representation of notebook 05),
# so a sequence of generated patches is stitched into one spectrogram with cross-faded seams and
# inverted to audio in one pass. The models live in `musiclib.models.gan`.

# %% tags=["parameters"]
MODE = "demo"  # "small" (CI, seconds), "demo" (a 2-core laptop, minutes), "full" (a GPU, longer)
SEED = 0
CORPUS_DIR = None  # None: the default corpus of MODE (or $MUSICLIB_DATA); else a folder of audio files
RESUME = True  # continue from the checkpoints of an earlier run with the same settings

# %%
SETTINGS = {
    # patches: n_frames x the representation's bands, cut every `hop` frames, stitched with `overlap` frames of cross-fade;
    # steps: generator updates; every: steps between the monitor's snapshots; clips: n_clips x clip_patches;
    # vae_stride: the VAEs train on every vae_stride-th patch;
    # eager: run TensorFlow functions eagerly (small mode trains each model for a handful of steps, fewer than
    # it would take to pay back the 3-7 s of tracing a GAN's training step into a graph)
    "small": {
        "max_duration": 4.0, "max_files": 8, "n_frames": 32, "hop": 16, "overlap": 4, "batch_size": 16,
        "eager": True, "spec": {"channels": 8, "latent_dim": 16, "n_layers": 2}, "steps": 8, "every": 4,
        "wgan_steps": 2, "wgan_every": 1, "n_critic": 2, "cond_steps": 4,
        "vae": {"latent_dim": 8, "filters": (8, 16), "warmup_steps": 10}, "vae_epochs": 1, "vae_stride": 1,
        "vaegan": {"d_channels": 8},
        "wave": {"n_samples": 16384, "channels": 2, "latent_dim": 16}, "wave_steps": 2, "wave_every": 2,
        "wave_batch": 8, "monitor_clips": 2, "monitor_patches": 3,
        "n_clips": 2, "clip_patches": 4, "walk_seconds": 8.0, "walk_anchors": 3, "per_label": 2, "n_near": 2,
    },
    "demo": {
        "max_duration": 30.0, "max_files": None, "n_frames": 64, "hop": 16, "overlap": 8, "batch_size": 32,
        "eager": False, "spec": {"channels": 32, "latent_dim": 64, "n_layers": 3}, "steps": 1200, "every": 300,
        "wgan_steps": 150, "wgan_every": 50, "n_critic": 5, "cond_steps": 400,
        "vae": {"latent_dim": 32, "filters": (64, 64, 64), "warmup_steps": 50}, "vae_epochs": 4, "vae_stride": 1,
        "vaegan": {"d_channels": 32},
        "wave": {"n_samples": 16384, "channels": 4, "latent_dim": 64}, "wave_steps": 150, "wave_every": 75,
        "wave_batch": 16, "monitor_clips": 4, "monitor_patches": 2,
        "n_clips": 6, "clip_patches": 12, "walk_seconds": 62.0, "walk_anchors": 12, "per_label": 6, "n_near": 4,
    },
    "full": {
        "max_duration": None, "max_files": None, "n_frames": 64, "hop": 8, "overlap": 8, "batch_size": 64,
        "eager": False, "spec": {"channels": 64, "latent_dim": 128, "n_layers": 3}, "steps": 20000, "every": 1000,
        "wgan_steps": 4000, "wgan_every": 200, "n_critic": 5, "cond_steps": 20000,
        "vae": {"latent_dim": 64, "filters": (128, 128, 128), "warmup_steps": 2000}, "vae_epochs": 30, "vae_stride": 1,
        "vaegan": {"d_channels": 64},
        "wave": {"n_samples": 16384, "channels": 32, "latent_dim": 100}, "wave_steps": 20000, "wave_every": 1000,
        "wave_batch": 32, "monitor_clips": 6, "monitor_patches": 3,
        "n_clips": 8, "clip_patches": 16, "walk_seconds": 120.0, "walk_anchors": 24, "per_label": 8, "n_near": 6,
    },
}[MODE]
SETTINGS

# %%
import functools
import time

t_start = time.perf_counter()
S = SETTINGS
from musiclib.display import audio_table, headline, plot_representation, raw_and_processed, setup_notebook

rng = setup_notebook(seed=SEED)  # before TensorFlow is imported: it quiets its logs

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import display

from musiclib import audio, generate, patches
from musiclib.evaluation import card, compare, sweep
from musiclib.models import gan, vae
from musiclib.tools import data, outputs

gan.set_seed(SEED)  # Python, NumPy, TensorFlow; op determinism on the CPU
import tensorflow as tf  # noqa: E402  (musiclib.models.gan has imported it already)

tf.config.run_functions_eagerly(S["eager"])

print("TensorFlow", tf.__version__, "| devices:", [d.name for d in tf.config.list_logical_devices()],
      "| replicas:", gan.strategy().num_replicas_in_sync)

# %% [markdown]
# ## Data: patches of spectrogram frames, split by file
#
# Each file is read as an excerpt from its middle, split by file into training and held-out songs,
# and cut into patches of `n_frames` frames of the series' generation representation (a
# log-frequency spectrogram in dB, 209 bands, 86 frames per second) every `hop`
# frames, through the feature cache (`patches.load_patch_data`). The labels of the conditional model
# are the training files. The held-out songs are the card's yardstick.

# %%
T, OVERLAP = S["n_frames"], S["overlap"]
rep = generate.default_representation()
root = Path(CORPUS_DIR) if CORPUS_DIR else data.default_corpus_dir(mode=MODE)
pdata = patches.load_patch_data(root, rep, n_frames=T, hop=S["hop"], max_duration=S["max_duration"], excerpt="middle",
                                seed=SEED, max_files=S["max_files"])
train_p, held_p = pdata.train_patches, pdata.held_patches
F, sr = train_p.n_features, pdata.sr
print(pdata.describe())
# the card compares seconds of audio: clips shorter than 1.5 s (drum one-shots) are left out of its yardsticks
training_audio = [c.y for c in pdata.train.clips if len(c.y) >= 1.5 * sr]
reference = [c.y for c in pdata.held_out.clips if len(c.y) >= 1.5 * sr]
print(f"card: {len(training_audio)} training clips ({sum(map(len, training_audio)) / sr:.0f} s), "
      f"{len(reference)} held-out clips ({sum(map(len, reference)) / sr:.0f} s)")

# the key names the training settings, the training files and the model code: a change to any retrains
# (the settings of what is generated after training are left out of it)
SAMPLING_ONLY = ("n_clips", "clip_patches", "walk_seconds", "walk_anchors", "per_label", "n_near")
setup_key = outputs.run_key(MODE, SEED, str(root), {k: v for k, v in S.items() if k not in SAMPLING_ONLY},
                            [c.path.name for c in pdata.train.clips], code=[gan, vae])
checkpoint_dir = functools.partial(outputs.checkpoint_dir, "06_gan", key=setup_key, resume=RESUME)
features = {}  # the card's features of the training and held-out audio, computed once for every card
# what the monitor of every model judges its snapshots against, with the card
judge = {"training": training_audio, "reference": reference, "sr": sr, "n_clips": S["monitor_clips"], "seed": SEED,
         "features": features}
spec_render = gan.spec_renderer(rep, patches_per_clip=S["monitor_patches"], overlap=OVERLAP)

# %% [markdown]
# ## SpecGAN: watching it train
#
# The generator maps a 64-dimensional Gaussian latent to a patch; the discriminator scores patches.
# Both are 1-D convolutions over time with the frequency bands as channels (a 2-D DCGAN of
# SpecGAN's shape costs over an order of magnitude more per step on two cores, see
# `musiclib.models.gan`); the generator upsamples by repeating frames and convolving, since a
# transposed convolution's frame-to-frame checkerboard comes out of the inversion as noise. Each
# band is standardised, clipped at 3 standard deviations and scaled to [-1, 1] (SpecGAN's
# normalisation). Hinge loss with spectral normalisation in the discriminator, the discriminator
# learning twice as fast as the generator (two time-scale update rule), and a moving average of the
# generator's weights that all samples below come from. Every `every` steps the monitor renders the
# *same* latents into clips, plays them and puts them through the card's noise and diversity checks.

# %%
spec = gan.make_specgan(T, F, seed=SEED, **S["spec"]).adapt(train_p.x)
t0 = time.perf_counter()
spec, spec_history, spec_record = gan.fit_monitored(
    spec, gan.patch_dataset(train_p.x, batch_size=S["batch_size"], seed=SEED), steps=S["steps"], every=S["every"],
    render=spec_render, checkpoint_dir=checkpoint_dir("SpecGAN"), **judge)
print(f"SpecGAN: {gan.describe_training(spec, spec_history, spec_record)}; {time.perf_counter() - t0:.1f} s with "
      "the monitor")

# %%
gan.plot_training(spec_record, title="SpecGAN losses (hinge): discriminator and generator")
axes = spec_record.plot_grid()
axes[0, 0].figure.suptitle("the same latents through the EMA generator during training (rows: steps)", y=1.01)
rows, record_sr = spec_record.players()
display(audio_table(rows, sr=record_sr, title="what the monitor heard: clip 0 at each snapshot"))
display(spec_record.table())

# %% [markdown]
# ## Samples from the EMA generator
#
# Each clip is `clip_patches` patches from independent latents, stitched with cross-faded seams and
# inverted once (`patches.sequence_to_audio`); each is played raw (what the card scores) and
# post-processed (loudness, true-peak limit, fades: `musiclib.postprocess`).

# %%
n_clips, per_clip = S["n_clips"], S["clip_patches"]
t0 = time.perf_counter()
spec_x = spec.generate(n_clips * per_clip, seed=SEED + 1).reshape(n_clips, per_clip, T, F)
spec_clips = [patches.sequence_to_audio(p, rep, overlap=OVERLAP, seed=SEED) for p in spec_x]
spec_gen_s = time.perf_counter() - t0
spec_rtf = sum(map(len, spec_clips)) / sr / spec_gen_s
display(raw_and_processed([(f"SpecGAN clip {i}", y) for i, y in enumerate(spec_clips[:3])], sr=sr,
                          title=f"SpecGAN: {per_clip} stitched patches per clip (the card scores the raw clips)"))
fig, axes = plt.subplots(1, min(3, n_clips), figsize=(13, 3), squeeze=False)
for i, ax in enumerate(axes[0]):
    plot_representation(patches.stitch(spec_x[i], overlap=OVERLAP), rep, ax=ax, title=f"SpecGAN clip {i}",
                        colorbar=False)
fig.tight_layout()

# %% [markdown]
# ### Is it a copy? Each sample beside its nearest training patch
#
# The distance is the RMS difference in dB over the whole patch. A held-out patch's distance to its
# nearest training patch is what unseen real music scores; a copy would score near 0.

# %%
samples = spec_x[: S["n_near"], 0]
near_idx, near_dist = patches.nearest_patches(samples, train_p)
_, held_dist = patches.nearest_patches(held_p.x[:: max(1, len(held_p) // 200)], train_p)
fig, axes = plt.subplots(2, len(samples), figsize=(3.2 * len(samples), 5), squeeze=False)
near_rows = []
for i, (x, j, d) in enumerate(zip(samples, near_idx, near_dist)):
    plot_representation(x, rep, ax=axes[0, i], title=f"sample {i}", colorbar=False)
    plot_representation(train_p.x[j], rep, ax=axes[1, i], colorbar=False,
                        title=f"nearest: {train_p.label_names[train_p.label[j]]}, {d:.1f} dB")
    near_rows += [(f"sample {i}", generate.frames_to_audio(x, rep, seed=SEED)),
                  (f"nearest training patch ({d:.1f} dB away)", generate.frames_to_audio(train_p.x[j], rep, seed=SEED))]
fig.tight_layout()
display(audio_table(near_rows, sr=sr, title="each sample, then its nearest training patch"))
print(f"distance to the nearest training patch: samples median {np.median(near_dist):.1f} dB (min "
      f"{near_dist.min():.1f}); held-out real patches median {np.median(held_dist):.1f} dB (min {held_dist.min():.1f})")

# %% [markdown]
# ## A latent walk: a minute of audio
#
# A path through the latent space along great circles between random anchor points (spherical
# interpolation keeps every point at the norm a Gaussian latent has), one patch per step, stitched
# into one spectrogram and inverted once. The anchors lie a few seconds apart: a walk between fewer
# anchors changes so slowly that the card's drone check hears one held sound.

# %%
fps = rep.frames_per_second
n_walk = int(np.ceil((S["walk_seconds"] * fps - OVERLAP) / (T - OVERLAP)))
t0 = time.perf_counter()
walk_latents = gan.latent_walk(n_walk, latent_dim=spec.latent_dim, n_anchors=S["walk_anchors"], seed=SEED)
walk_frames = patches.stitch(spec.generate(latents=walk_latents), overlap=OVERLAP)
walk = generate.frames_to_audio(walk_frames, rep, seed=SEED)
walk_s = time.perf_counter() - t0
print(f"{n_walk} patches -> {len(walk) / sr:.1f} s of audio in {walk_s:.2f} s ({len(walk) / sr / walk_s:.0f}x real time)")
display(audio_table([("SpecGAN latent walk", walk)], sr=sr, title="a walk through the latent space"))
fig, ax = plt.subplots(figsize=(13, 3))
plot_representation(walk_frames, rep, ax=ax, title="the latent walk", colorbar=False)
fig.tight_layout()

# %% [markdown]
# ## SpecGAN on the card
#
# The `n_clips` clips above, and the walk cut into 10-second pieces, measured against the training
# and held-out songs.

# %%
spec_card = card.musicality_card(spec_clips, training=training_audio, reference=reference, sr=sr,
                                 label="SpecGAN clips", seed=SEED, features=features)
display(spec_card)
piece = int(min(10.0, len(walk) / sr / 2) * sr)
walk_pieces = [walk[i : i + piece] for i in range(0, len(walk) - piece + 1, piece)]
walk_card = card.musicality_card(walk_pieces, training=training_audio, reference=reference, sr=sr,
                                 label=f"SpecGAN latent walk, {len(walk_pieces)} pieces", seed=SEED, features=features)
display(walk_card)
# the representation's own ceiling: a held-out clip encoded and decoded with the generation inversion, no model
ceiling_db = float(np.mean([sweep.decode_ceiling(y[: int(10 * sr)], sr=sr, rep=rep, seed=SEED,
                                                 **generate.GENERATION_INVERSION)["sc_db"] for y in reference[:2]]))
print(f"decode ceiling of the representation (spectral convergence, held-out audio, generation inversion): "
      f"{ceiling_db:.1f} dB")

# %% [markdown]
# ## Hinge or WGAN-GP?
#
# The same networks trained with the Wasserstein loss and a gradient penalty (no spectral
# normalisation, `n_critic` critic steps per generator step). Each WGAN-GP step costs several
# hinge steps, so the fair comparison is at equal *training time*: the monitor records the seconds
# spent training at every snapshot, and the card's checks are compared where the two runs had
# trained equally long.

# %%
wgan = gan.make_specgan(T, F, seed=SEED, loss="wgan-gp", n_critic=S["n_critic"], **S["spec"]).adapt(train_p.x)
wgan, wgan_history, wgan_record = gan.fit_monitored(
    wgan, gan.patch_dataset(train_p.x, batch_size=S["batch_size"], seed=SEED), steps=S["wgan_steps"],
    every=S["wgan_every"], render=spec_render,
    checkpoint_dir=checkpoint_dir("SpecGAN-WGAN-GP"), **judge)

fig, axes = plt.subplots(1, 2, figsize=(13, 3.2))
wgan_record.plot_losses(ax=axes[0])
axes[0].set_title("WGAN-GP losses (critic includes the penalty)")
spec_record.plot_checks(ax=axes[1], x="train_seconds", label="hinge", checks=("noise",))
wgan_record.plot_checks(ax=axes[1], x="train_seconds", label="WGAN-GP", checks=("noise",), marker="s")
axes[1].set_title("noise check against training time")
fig.tight_layout()

# the snapshots both runs reached in the same training time (the first, at step 0, left out); rhythm is
# left out too, as the monitor's clips are shorter than the rhythm check's longest beat period
horizon = min(spec_record.snapshots[-1]["train_seconds"], wgan_record.snapshots[-1]["train_seconds"])
objectives = pd.DataFrame({name: gan.snapshots_summary(record, until_seconds=horizon)
                           for name, record in (("hinge + SN", spec_record), ("WGAN-GP", wgan_record))}).T
print(f"the first {horizon:.0f} s of training of each objective:")
display(objectives)
step_cost = gan.seconds_per_step(wgan_record) / gan.seconds_per_step(spec_record)

# %% [markdown]
# ## Conditional SpecGAN: one label per training file
#
# The label (here: which training file a patch came from; a corpus sorted into sub-folders gets
# the folder names) is embedded and joined to the generator's latent, and the discriminator adds
# the projection of a learned label vector onto its features to its score (Miyato & Koyama 2018).
# It starts from the unconditional SpecGAN's weights (`warm_start`: the label embedding and
# projection start fresh), so its steps go into learning the labels rather than learning
# spectrograms again. Whether the conditioning works is measured: for each generated patch, is its
# nearest training patch from the file it was asked to sound like?

# %%
n_labels = train_p.n_labels
present = np.unique(train_p.label)  # the labels that have training patches (a file shorter than a patch has none)
cspec = gan.make_specgan(T, F, n_labels=n_labels, seed=SEED, **S["spec"]).warm_start(spec)
cspec, cspec_history, cspec_record = gan.fit_monitored(
    cspec, gan.patch_dataset(train_p.x, labels=train_p.label, batch_size=S["batch_size"], seed=SEED),
    steps=S["cond_steps"], every=S["cond_steps"], render=spec_render,
    checkpoint_dir=checkpoint_dir("cSpecGAN"), **judge)
print(f"conditional SpecGAN: {len(present)} labels, {cspec_history['steps']} steps, "
      f"{gan.seconds_per_step(cspec_record):.3f} s per step")

# %%
k = max(S["per_label"], int(np.ceil(1.2 * rep.frames_per_second / (T - OVERLAP))))  # >= 1.2 s per label for the card
labels = np.repeat(present, k)
t0 = time.perf_counter()
cond_x = cspec.generate(len(labels), labels=labels, seed=SEED + 2)
cond_clips = [patches.sequence_to_audio(cond_x[labels == c], rep, overlap=OVERLAP, seed=SEED) for c in present]
cond_gen_s = time.perf_counter() - t0
nearest_label = train_p.label[patches.nearest_patches(cond_x, train_p)[0]]
agreement = float(np.mean(nearest_label == labels))
uncond_label = train_p.label[patches.nearest_patches(spec.generate(len(labels), seed=SEED + 2), train_p)[0]]
print(f"nearest training patch from the asked-for file: {agreement:.0%} of {len(labels)} patches "
      f"(chance {1 / len(present):.0%}; the unconditional SpecGAN's most common file takes "
      f"{np.bincount(uncond_label).max() / len(uncond_label):.0%} of its samples)")

# %%
shown = present[:4]
display(audio_table([(f"label {c}: {train_p.label_names[c]}", cond_clips[i]) for i, c in enumerate(shown)], sr=sr,
                    title=f"conditional samples: {k} patches per label"))
fig, axes = plt.subplots(2, len(shown), figsize=(3.3 * len(shown), 5), squeeze=False)
for i, c in enumerate(shown):
    plot_representation(patches.stitch(cond_x[labels == c], overlap=OVERLAP), rep, ax=axes[0, i], colorbar=False,
                        title=f"generated: {train_p.label_names[c]}"[:40])
    real = train_p.x[train_p.label == c][:k]
    plot_representation(patches.stitch(real, overlap=OVERLAP), rep, ax=axes[1, i], colorbar=False,
                        title=f"training: {train_p.label_names[c]}"[:40])
fig.tight_layout()
cond_card = card.musicality_card(cond_clips, training=training_audio, reference=reference, sr=sr,
                                 label="conditional SpecGAN, one clip per label", seed=SEED, features=features)
display(cond_card)

# %% [markdown]
# ## VAE-GAN against the plain VAE
#
# The VAE of notebook 05 (`musiclib.models.vae.PatchVAE`: 1-D convolutions along time, KL warm-up,
# free bits, a Gaussian decoder with a learned spread per band) trained twice on the same patches
# (every `vae_stride`-th) for the same number of epochs: once as it is, once with its decoder also
# trained against a discriminator (adversarial and feature-matching losses beside the
# reconstruction and KL terms, `gan.VAEGAN`). The question is whether the adversarial term makes the
# VAE's output less blurred. Blur is measured on the decoders' means as the mean frame change
# (`generate.mean_frame_change_db`: how much each frame differs from the one before, dB per frame): averaging away detail lowers it. The plain
# VAE is sampled as notebook 05 samples it (its mean plus its learned Gaussian noise per band); the
# VAE-GAN twice: as its decoder's mean (what the discriminator judged) and the same way as the VAE,
# so that one comparison on the card is like for like.

# %%
vae_train = train_p.subset(np.arange(0, len(train_p), S["vae_stride"]))
vae_data = vae.patch_dataset(vae_train, batch_size=S["batch_size"], seed=SEED, drop_remainder=True)
vae_steps = S["vae_epochs"] * (len(vae_train) // S["batch_size"])
t0 = time.perf_counter()
plain = vae.make_vae(T, F, seed=SEED, **S["vae"]).adapt(train_p.x)
plain, plain_history = vae.fit_with_checkpoints(plain, vae_data, epochs=S["vae_epochs"],
                                                checkpoint_dir=checkpoint_dir("VAE"))
vae_train_s = time.perf_counter() - t0
t0 = time.perf_counter()
vaegan = gan.make_vaegan(T, F, seed=SEED, **S["vae"], **S["vaegan"]).adapt(train_p.x)
vaegan, vaegan_history = vae.fit_with_checkpoints(vaegan, vae_data, epochs=S["vae_epochs"],
                                                  checkpoint_dir=checkpoint_dir("VAE-GAN"))
vaegan_train_s = time.perf_counter() - t0

# %%
vae_models = {"VAE": plain, "VAE-GAN": vaegan}
# how each is sampled (see above): model and the scale of the decoder's noise (0: its mean)
vae_variants = {"VAE": (plain, 1.0), "VAE-GAN": (vaegan, 0.0), "VAE-GAN, sampled": (vaegan, 1.0)}
vae_x, vae_mean, vae_clips, vae_gen_s = {}, {}, {}, {}
for name, (m, scale) in vae_variants.items():
    t0 = time.perf_counter()
    vae_x[name] = m.sample(n_clips * per_clip, seed=SEED + 3, noise_scale=scale).reshape(n_clips, per_clip, T, F)
    vae_clips[name] = [patches.sequence_to_audio(p, rep, overlap=OVERLAP, seed=SEED) for p in vae_x[name]]
    vae_gen_s[name] = time.perf_counter() - t0
for name, m in vae_models.items():
    vae_mean[name] = m.sample(n_clips * per_clip, seed=SEED + 3, noise_scale=0.0)
display(audio_table([(f"{name} clip {i}", vae_clips[name][i]) for i in range(min(2, n_clips)) for name in vae_variants],
                    sr=sr, title="plain VAE and VAE-GAN, the same latents"))
fig, axes = plt.subplots(1, 4, figsize=(14, 3))
plot_representation(patches.stitch(train_p.x[: per_clip * 4 : 4], overlap=OVERLAP), rep, ax=axes[0],
                    title="training patches", colorbar=False)
plot_representation(patches.stitch(vae_mean["VAE"][:per_clip], overlap=OVERLAP), rep, ax=axes[1],
                    title="VAE: decoder mean", colorbar=False)
plot_representation(patches.stitch(vae_x["VAE"][0], overlap=OVERLAP), rep, ax=axes[2],
                    title="VAE: sampled (mean + noise)", colorbar=False)
plot_representation(patches.stitch(vae_x["VAE-GAN"][0], overlap=OVERLAP), rep, ax=axes[3],
                    title="VAE-GAN: decoder mean", colorbar=False)
fig.tight_layout()

# %%
flux = {"training patches": float(np.mean([generate.mean_frame_change_db(p, rep) for p in train_p.x[::7][:200]]))}
for name in vae_models:
    flux[name] = float(np.mean([generate.mean_frame_change_db(p, rep) for p in vae_mean[name]]))
flux["SpecGAN"] = float(np.mean([generate.mean_frame_change_db(p, rep) for p in spec_x.reshape(-1, T, F)]))
vae_cards = compare.card_clips(vae_clips, training=training_audio, reference=reference, sr=sr, seed=SEED,
                               features=features)
model_stats = {name: {"held-out reconstruction RMS (dB)": vae.reconstruction_error(m, held_p),
                      "active latent units": vae.active_units(m, train_p)[0],
                      "mean frame change of the decoder mean (dB)": flux[name],
                      "train s": vae_train_s if name == "VAE" else vaegan_train_s}
               for name, m in vae_models.items()}
vae_table = pd.DataFrame({
    name: {"decoder noise": scale, **model_stats["VAE" if m is plain else "VAE-GAN"],
           "card checks passed": sum(c["passed"] is True for c in vae_cards[name].checks.values()),
           "failed": ", ".join(vae_cards[name].failed) or "-",
           **{k: vae_cards[name].checks[k]["value"] for k in ("noise", "distribution", "diversity")}}
    for name, (m, scale) in vae_variants.items()}).T
display(vae_table.round(3))
print("mean frame change of single patches (dB; the VAEs' decoder means):", {k: round(v, 2) for k, v in flux.items()})
for c in vae_cards.values():
    display(c)

# %% [markdown]
# ## WaveGAN: raw audio
#
# The same adversarial training on 16 384-sample windows of the training songs resampled to 16 kHz
# (about one second), with 1-D transposed convolutions of stride 4 and phase shuffle in the
# discriminator (Donahue et al. 2019). It has to learn the waveform, phase included, that the
# spectrogram models leave to the inversion. Its windows are resampled to the series' rate for the
# monitor and the card (the card analyses everything at 22 050 Hz).

# %%
wave_sr = gan.WAVEGAN_SR
wave_n = S["wave"]["n_samples"]
windows = gan.wave_windows([audio.resample(y, orig_sr=sr, target_sr=wave_sr) for y in training_audio], n_samples=wave_n)
print(f"{len(windows)} windows of {wave_n} samples ({wave_n / wave_sr:.2f} s)")
# the monitor and the card hear WaveGAN's windows at the series' rate, so the card's features of the
# training and held-out audio are shared with the spectrogram models
wave_render = gan.wave_renderer(sr=sr)
wave = gan.make_wavegan(seed=SEED, **S["wave"])
wave, wave_history, wave_record = gan.fit_monitored(
    wave, gan.patch_dataset(windows, batch_size=S["wave_batch"], seed=SEED), steps=S["wave_steps"],
    every=S["wave_every"], render=wave_render,
    checkpoint_dir=checkpoint_dir("WaveGAN"), **judge)
print(f"WaveGAN: {gan.describe_training(wave, wave_history, wave_record)}")
gan.plot_training(wave_record, title="WaveGAN losses")

t0 = time.perf_counter()
wave_raw = list(wave.generate(max(n_clips, 2), seed=SEED + 4))  # at 16 kHz, as generated
wave_gen_s = time.perf_counter() - t0
wave_clips = [audio.resample(y, orig_sr=wave_sr, target_sr=sr) for y in wave_raw]
wave_card = card.musicality_card(wave_clips, training=training_audio, reference=reference, sr=sr,
                                 label="WaveGAN windows", seed=SEED, features=features)
# SpecGAN measured the same way: the first second of each of its clips
spec_short = [y[: len(wave_clips[0])] for y in spec_clips]
spec_short_card = card.musicality_card(spec_short, training=training_audio, reference=reference, sr=sr,
                                       label="SpecGAN, the first second of each clip", seed=SEED, features=features)

# %% [markdown]
# ### WaveGAN beside SpecGAN

# %%
display(audio_table([row for i in range(min(2, len(wave_clips)))
                     for row in ((f"WaveGAN {i}", wave_clips[i]), (f"SpecGAN {i}", spec_short[i]))],
                    sr=sr, title="one second each"))
fig, axes = plt.subplots(1, 4, figsize=(13, 2.8))
for i, ax in enumerate(axes):
    y, name = (wave_clips[i // 2], "WaveGAN") if i % 2 == 0 else (spec_short[i // 2], "SpecGAN")
    plot_representation(rep.encode(y), rep, ax=ax, title=f"{name} {i // 2}", colorbar=False)
fig.tight_layout()
display(compare.card_frame({c.label: c for c in (wave_card, spec_short_card)}, index_name="model").round(2))
display(wave_card)

# %% [markdown]
# ## Speed, and the clips saved
#
# Training seconds per step (wall clock, after the first step that builds the graph) and the
# real-time factor of generation: seconds of audio made per second spent, generator and inversion
# together (`benchmarks/generate.py` measures the same on fixed settings).

# %%
speed = pd.DataFrame({
    "SpecGAN": {"s/step": gan.seconds_per_step(spec_record), "steps": spec_history["steps"],
                "RTF incl. inversion": spec_rtf},
    "SpecGAN (WGAN-GP)": {"s/step": gan.seconds_per_step(wgan_record), "steps": wgan_history["steps"],
                          "RTF incl. inversion": float("nan")},
    "cSpecGAN": {"s/step": gan.seconds_per_step(cspec_record), "steps": cspec_history["steps"],
                 "RTF incl. inversion": sum(map(len, cond_clips)) / sr / cond_gen_s},
    "VAE": {"s/step": float(np.median(plain_history.get("epoch_seconds", [np.nan]))) * S["vae_epochs"] / vae_steps,
            "steps": vae_steps,
            "RTF incl. inversion": sum(map(len, vae_clips["VAE"])) / sr / vae_gen_s["VAE"]},
    "VAE-GAN": {"s/step": float(np.median(vaegan_history.get("epoch_seconds", [np.nan]))) * S["vae_epochs"] / vae_steps,
                "steps": vae_steps,
                "RTF incl. inversion": sum(map(len, vae_clips["VAE-GAN"])) / sr / vae_gen_s["VAE-GAN"]},
    "WaveGAN": {"s/step": gan.seconds_per_step(wave_record), "steps": wave_history["steps"],
                "RTF incl. inversion": len(wave_clips) * wave_n / wave_sr / wave_gen_s},
}).T
print("training seconds per step and generation speed:")
display(speed.round(3))

# %%
common = {"mode": MODE, "n_frames": T, "overlap": OVERLAP, "hop": S["hop"]}
saved = {
    "SpecGAN": outputs.save_clips(
        "06_gan", spec_clips, sr=sr, representation=rep,
        parameters={**spec.get_config(), "model": "SpecGAN", "variant": "hinge, independent latents", **common,
                    "steps": spec_history["steps"], "clip_patches": per_clip},
        seed=SEED, train_seconds=spec_record.train_seconds[-1], generate_seconds=spec_gen_s),
    "SpecGAN walk": outputs.save_clips(
        "06_gan", [walk], sr=sr, representation=rep,
        parameters={**spec.get_config(), "model": "SpecGAN", "variant": "latent walk", **common,
                    "steps": spec_history["steps"], "walk_seconds": len(walk) / sr, "walk_anchors": S["walk_anchors"]},
        seed=SEED, train_seconds=spec_record.train_seconds[-1], generate_seconds=walk_s),
    "cSpecGAN": outputs.save_clips(
        "06_gan", cond_clips, sr=sr, representation=rep,
        parameters={**cspec.get_config(), "model": "cSpecGAN", "variant": "projection, one clip per label", **common,
                    "steps": cspec_history["steps"], "labels": list(train_p.label_names)},
        seed=SEED, train_seconds=cspec_record.train_seconds[-1], generate_seconds=cond_gen_s),
    "VAE-GAN": outputs.save_clips(
        "06_gan", vae_clips["VAE-GAN"], sr=sr, representation=rep,
        parameters={**vaegan.get_config(), "model": "VAE-GAN", "variant": "decoder mean", **common,
                    "epochs": S["vae_epochs"]},
        seed=SEED, train_seconds=vaegan_train_s, generate_seconds=vae_gen_s["VAE-GAN"]),
    "VAE-GAN, sampled": outputs.save_clips(
        "06_gan", vae_clips["VAE-GAN, sampled"], sr=sr, representation=rep,
        parameters={**vaegan.get_config(), "model": "VAE-GAN", "variant": "sampled (mean + decoder noise)", **common,
                    "epochs": S["vae_epochs"]},
        seed=SEED, train_seconds=vaegan_train_s, generate_seconds=vae_gen_s["VAE-GAN, sampled"]),
    "WaveGAN": outputs.save_clips(
        "06_gan", wave_raw, sr=wave_sr, representation={"name": "raw", "sr": wave_sr},
        parameters={**wave.get_config(), "model": "WaveGAN", "variant": "phase shuffle", "mode": MODE,
                    "steps": wave_history["steps"]},
        seed=SEED, train_seconds=wave_record.train_seconds[-1], generate_seconds=wave_gen_s),
}
print("saved under", Path(saved["SpecGAN"][0]).parent.parent)

# %% [markdown]
# ## Summary

# %%
cards = {"SpecGAN": spec_card, "SpecGAN walk": walk_card, "cSpecGAN": cond_card, **vae_cards, "WaveGAN": wave_card}
display(compare.card_frame(cards, index_name="model").round(2))
KEY = ("noise", "diversity", "copying", "drone", "blowup")
noise_at_start = spec_record.snapshots[0]["card"]["noise"]
hinge_share, wgan_share = objectives.loc["hinge + SN", "share passing"], objectives.loc["WGAN-GP", "share passing"]
conclusions = [
    f"SpecGAN ({spec_history['steps']} steps, {spec_record.train_seconds[-1]:.0f} s of training, "
    f"{1000 * gan.seconds_per_step(spec_record):.0f} ms per step): {compare.check_text(spec_card, KEY)} -- "
    f"{'every key check passes' if compare.passes(spec_card, KEY) else 'a key check fails'}; reported: "
    f"{compare.check_text(spec_card, ('rhythm', 'distribution'))}. The monitor saw the noise check go from "
    f"{noise_at_start:.2f} at step 0 to {spec_record.snapshots[-1]['card']['noise']:.2f}.",
    f"The {len(walk) / sr:.0f}-second latent walk: {compare.check_text(walk_card, KEY + ('rhythm',))}. The representation's "
    f"decode ceiling (no model) is {ceiling_db:.1f} dB spectral convergence.",
    f"Samples are {np.median(near_dist):.1f} dB (median) from their nearest training patch; held-out real patches "
    f"{np.median(held_dist):.1f} dB.",
    f"Hinge vs WGAN-GP over the first {horizon:.0f} s of training: snapshots passing every check (rhythm aside) "
    f"{objectives.loc['hinge + SN', 'snapshots passing every check']} vs "
    f"{objectives.loc['WGAN-GP', 'snapshots passing every check']}, mean noise "
    f"{objectives.loc['hinge + SN', 'mean noise']:.2f} vs {objectives.loc['WGAN-GP', 'mean noise']:.2f}; "
    f"a WGAN-GP step costs {step_cost:.1f} hinge steps.",
    f"Conditional SpecGAN: {agreement:.0%} of its patches are nearest to a patch of the asked-for file "
    f"(chance {1 / len(present):.0%}); {compare.check_text(cond_card, KEY)}.",
    f"VAE-GAN vs VAE: the adversarial term {'sharpens' if flux['VAE-GAN'] > flux['VAE'] else 'does not sharpen'} "
    f"the decoder: mean frame change of the decoder means {flux['VAE-GAN']:.2f} vs {flux['VAE']:.2f} dB/frame (training "
    f"patches {flux['training patches']:.2f}); noise {vae_cards['VAE-GAN'].checks['noise']['value']:.2f} (mean) and "
    f"{vae_cards['VAE-GAN, sampled'].checks['noise']['value']:.2f} (sampled) vs "
    f"{vae_cards['VAE'].checks['noise']['value']:.2f}; card checks failed: VAE-GAN mean "
    f"{', '.join(vae_cards['VAE-GAN'].failed) or 'none'}, VAE-GAN sampled "
    f"{', '.join(vae_cards['VAE-GAN, sampled'].failed) or 'none'}, VAE {', '.join(vae_cards['VAE'].failed) or 'none'}; "
    f"held-out reconstruction "
    f"{vae_table.loc['VAE-GAN', 'held-out reconstruction RMS (dB)']:.1f} vs "
    f"{vae_table.loc['VAE', 'held-out reconstruction RMS (dB)']:.1f} dB RMS.",
    f"WaveGAN ({wave_history['steps']} steps, {wave_record.train_seconds[-1]:.0f} s): fails "
    f"{', '.join(wave_card.failed) or 'nothing'}; SpecGAN's first seconds, measured the same way, fail "
    f"{', '.join(spec_short_card.failed) or 'nothing'}.",
]
for line in conclusions:
    print("-", line)
print(f"seconds to run this notebook: {time.perf_counter() - t_start:.1f}")

# %% [markdown]
# What the lines above say, and what to take from them:
#
# - **SpecGAN is not noise and not a copy.** The monitor shows the generator's output start as
#   noise (the noise check fails at step 0) and leave it within the first few hundred steps; the
#   clips of the trained EMA generator are judged on the key checks, and its samples sit about as far
#   from the training patches as unseen real music does. Stitched patches from *independent*
#   latents share no beat, which the rhythm check hears; a latent *walk* changes slowly from patch
#   to patch, and the walk's rhythm is printed beside it.
# - **Hinge is the default objective** because its steps are several times cheaper (one
#   discriminator step, no second backward pass for the penalty: the cost ratio is printed above),
#   so a demo's minutes buy several times as many generator updates. At equal training time the two
#   objectives are close on the card (a handful of snapshots each, so the shares passing are coarse);
#   where either fails, it fails a level check (clipping or distribution), not noise or diversity.
# - **The conditional SpecGAN hears its labels** when its label agreement is well above chance.
# - **Whether the adversarial term sharpens the VAE** is read from the decoders' mean frame change: an
#   MSE- or Gaussian-trained decoder outputs averages (frame-to-frame change a fraction of real
#   music's); the plain VAE makes up the detail with independent noise per band, the VAE-GAN's
#   decoder would have to put it into its mean. The VAE-GAN line above says whether it did in the
#   epochs a demo affords, and the reconstruction error what the adversarial term cost.
# - **WaveGAN** has to learn the waveform and its phase; in the steps a demo can afford it does not
#   get there, which is why the series generates spectrograms and leaves the phase to the inversion.

# %%
display(headline(card.no_verdict([spec_card, walk_card, wave_card]) or (
    f"SpecGAN ({spec_history['steps']} steps on two CPU cores) "
    f"{'passes' if compare.passes(spec_card, KEY) else 'fails'} the card's noise, diversity, copying, drone and blow-up checks "
    f"(noise {spec_card.checks['noise']['value']:.2f}, threshold {card.THRESHOLDS['noise']}, {noise_at_start:.2f} at step 0; "
    f"rhythm {spec_card.checks['rhythm']['value']:.2f}, {'pass' if spec_card.checks['rhythm']['passed'] else 'fail'}) "
    f"and its {len(walk) / sr:.0f}-second latent walk "
    f"{'passes every check' if walk_card.passed else 'fails ' + ', '.join(walk_card.failed)}; "
    f"the VAE-GAN's decoder changes {flux['VAE-GAN'] / max(flux['VAE'], 1e-9):.1f}x as much per frame as the plain "
    f"VAE's; WaveGAN fails {', '.join(wave_card.failed) or 'nothing'}.")))
