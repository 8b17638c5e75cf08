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
# # 05 · Latent-variable models: VAE, conditional VAE and VQ-VAE with a learned prior
#
# **Can a model of one-beat spectrogram patches with a latent space generate music that is neither a
# copy of its training data nor noise -- and, with a learned prior over its codes, minutes of it?**
#
# Earlier experiments show how this fails: a spectrogram VAE that handed back its training data,
# autoencoders whose samples were noise, and a VQ-VAE whose codes were never given a prior, so nothing
# longer than one patch could be sampled. Here, on spectrogram patches of one beat each
# (`musiclib.patches`), we train in Keras (`musiclib.models.vae`):
#
# | model | latent | generating |
# |---|---|---|
# | **VAE**: 1-D convolutions along time, bands as channels; KL warm-up and free bits | 32 Gaussian units | `z ~ N(0, 1)`, then a draw from the decoder's Gaussian |
# | **cVAE**: the same with a label embedding (the source song, or a sub-folder of your own corpus) | 8 units, KL weight 40: the label carries the song | one label at a time |
# | **VQ-VAE**: EMA codebook, dead-code restarts, straight-through gradients | a few codes per beat | an LSTM **prior** over the code sequence, beat after beat |
#
# and check each against the musicality card, and every generated patch against its nearest training
# patch, so that "it is not a copy" is measured, not claimed.

# %% tags=["parameters"]
MODE = "demo"  # "small" (CI, seconds), "demo" (a 2-core laptop, minutes), "full" (a GPU, longer)
SEED = 0
CORPUS_DIR = None  # None: the default corpus for MODE (or $MUSICLIB_DATA); else a folder of audio files
TEMPERATURE = 1.0  # standard deviation of the (c)VAE's latent draws
PRIOR_TEMPERATURE = 1.0  # the VQ-VAE prior's sampling temperature (divides its logits; 1: its own distribution)
RESUME = True  # reuse (or continue) the checkpoints of an earlier run with the same settings

# %%
SETTINGS = {
    # max_duration: seconds per file (the middle of each song); n_frames: frames a beat is resampled to;
    # epochs of the patch models and of the prior; clips: generated clips per model, of `seconds` each;
    # long: seconds from the VQ-VAE prior in one piece; labels: conditional samples shown;
    # save_every: epochs between checkpoints (a resumed run continues from the last one);
    # eager: train without tracing graphs (Keras' run_eagerly: faster for a handful of batches only)
    "small": {
        "max_duration": 4.0, "max_files": 10, "n_frames": 16, "batch_size": 32, "epochs": 1, "latent_dim": 8, "cvae_latent_dim": 4, "cvae_beta": 40.0,
        "filters": (32, 32), "vq_filters": (32, 32), "codebook_size": 32, "prior_units": (32,), "prior_epochs": 1,
        "prior_window": 16, "warmup_steps": 10, "clips": 2, "seconds": 1.5, "long": 3.0, "labels": 2,
        "prime_beats": 2, "explorer": 2, "interpolation_steps": 4, "nearest_shown": 1,
        "save_every": 1, "eager": True,
    },
    "demo": {
        "max_duration": 30.0, "max_files": None, "n_frames": 32, "batch_size": 64, "epochs": 40, "latent_dim": 32, "cvae_latent_dim": 8, "cvae_beta": 40.0,
        "filters": (128, 128, 128), "vq_filters": (128, 128, 128), "codebook_size": 256, "prior_units": (256,),
        "prior_epochs": 25, "prior_window": 64, "warmup_steps": 200, "clips": 4, "seconds": 8.0, "long": 60.0,
        "labels": 4, "prime_beats": 8, "explorer": 4, "interpolation_steps": 8, "nearest_shown": 2,
        "save_every": 10, "eager": False,
    },
    "full": {
        "max_duration": None, "max_files": None, "n_frames": 32, "batch_size": 64, "epochs": 150, "latent_dim": 64, "cvae_latent_dim": 16, "cvae_beta": 40.0,
        "filters": (256, 256, 256), "vq_filters": (256, 256, 256), "codebook_size": 512, "prior_units": (512, 512),
        "prior_epochs": 60, "prior_window": 128, "warmup_steps": 1000, "clips": 8, "seconds": 20.0, "long": 180.0,
        "labels": 8, "prime_beats": 16, "explorer": 6, "interpolation_steps": 12, "nearest_shown": 3,
        "save_every": 5, "eager": False,
    },
}[MODE]
OVERLAP = 4  # frames of cross-fade between consecutive beats (musiclib.patches.stitch)
SETTINGS

# %%
import functools
import time

t_start = time.perf_counter()
from musiclib.display import audio_table, headline, plot_representation, raw_and_processed, setup_notebook

rng = setup_notebook(seed=SEED)  # before TensorFlow is imported: it quiets its logs

import os
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import display

from musiclib import generate, patches, widgets
from musiclib.evaluation import card, compare
from musiclib.models import vae
from musiclib.tools import data, outputs

vae.set_seed(SEED)  # Python, NumPy, TensorFlow; op determinism on the CPU
import tensorflow as tf  # noqa: E402  (musiclib.models.vae has imported it already)

print("TensorFlow", tf.__version__, "| devices:", [d.name for d in tf.config.list_logical_devices()],
      "| replicas:", vae.strategy().num_replicas_in_sync)

# %% [markdown]
# ## Data: one beat per patch
#
# The corpus is split by file. Each file's frames (the series' generation representation,
# `generate.default_representation()`, in dB, from the feature cache) are cut at its tracked beats
# (`musiclib.beats`); each beat becomes one patch, resampled along time to `n_frames` frames. The original length of every beat is kept, so a
# sequence of patches can be put back at its own tempo. Generated sequences use the corpus's median
# beat. The label of a patch is its song (a corpus of sub-folders would give the sub-folder names).
# Every generated sequence passes the series' stability guard (`generate.StabilityGuard`, fitted on
# the training songs) before its one inversion: a smooth limit on the frame energy and on each band,
# which a decoder fed a combination of codes it never saw can overshoot.

# %%
rep = generate.default_representation()
root = Path(CORPUS_DIR) if CORPUS_DIR else data.default_corpus_dir(mode=MODE)
D = patches.load_patch_data(root, rep, n_frames=SETTINGS["n_frames"], beats_per_patch=1,
                            max_duration=SETTINGS["max_duration"], excerpt="middle", seed=SEED,
                            max_files=SETTINGS["max_files"])
train, held = D.train_patches, D.held_patches
sr, fps = rep.sr, rep.frames_per_second
beat = train.median_length()  # frames per beat of the corpus
print(f"representation: {rep.params} ({rep.n_features} features, {fps:.1f} frames per second)")
print(D.describe())
print(f"median beat: {beat} frames = {beat / fps:.3f} s ({60 * fps / beat:.0f} BPM); labels: {train.label_names}")
training_audio = [c.y for c in D.train.clips if len(c.y) >= 1.5 * sr]  # the card's copying check needs >= 1 s
reference = [c.y for c in D.held_out.clips if len(c.y) >= 1.5 * sr]


guard = generate.StabilityGuard.fit(D.train_frames, rep)  # the training songs' energy and per-band range


def to_clip(x, lengths=None):
    """A sequence of patches -> one spectrogram with cross-faded seams (guarded) -> audio, in ONE inversion."""
    lengths = np.full(len(x), beat) if lengths is None else lengths
    return patches.sequence_to_audio(x, rep, lengths=lengths, overlap=OVERLAP, guard=guard, seed=SEED)


def n_beats(seconds):
    return max(2, int(round(seconds * fps / beat)))


# %% [markdown]
# What the models see, and what the patch pipeline alone costs: a held-out passage cut into beats,
# each squeezed or stretched to `n_frames` frames, then stitched back at its own beat lengths and
# inverted once. This is the ceiling for every model below.

# %%
seq = max(held.sequences(), key=len)
passage = seq[: n_beats(SETTINGS["seconds"])]
start, stop = held.starts[passage[0]], held.starts[passage[-1]] + held.lengths[passage[-1]]
original_frames = D.held_frames[held.file_index[passage[0]]][start:stop]
ceiling = to_clip(held.x[passage], held.lengths[passage])
original = generate.frames_to_audio(original_frames, rep, seed=SEED)

fig, axes = plt.subplots(1, 6, figsize=(15, 2.8), sharey=True)
for ax, i in zip(axes, rng.choice(len(train), size=6, replace=False)):
    plot_representation(train.x[i], rep, ax=ax, colorbar=False,
                        title=f"{train.label_names[train.label[i]][:14]}\nbeat of {train.lengths[i]} frames")
    ax.label_outer()
fig.suptitle(f"training patches: one beat each, resampled to {train.n_frames} frames")
display(audio_table([("held-out passage (same inversion)", original), ("its beats as patches, stitched back", ceiling)],
                    sr=sr, title="the patch pipeline without a model"))

# %% [markdown]
# ## Training
#
# Each model reads patches from a `tf.data` feed (`vae.patch_dataset`); the VAE and the VQ-VAE
# standardise each band inside the model and decode to a Gaussian with a learned spread per band.
# The VAE's KL weight rises over `warmup_steps` steps, and each latent unit's first 0.1 nats are free,
# the two guards against posterior collapse. The cVAE has fewer latent units and a KL weight of 40:
# with the VAE's 32 units and weight 1 it ignored its label (its samples were no nearer to the song
# asked for than chance), because a few more bits in `z` cost almost nothing; when they cost more,
# what tells one song from another is left to the label. The VQ-VAE's codebook follows exponential
# moving averages of the codes assigned to it, and codes nobody uses are moved onto the data. The prior is
# an LSTM over each training song's code sequence, beat after beat. `vae.fit_with_checkpoints`
# (Keras' `BackupAndRestore` and `ModelCheckpoint`) resumes an interrupted run and reuses a finished
# one; the models are built inside `vae.strategy()`, one or several GPUs when there are any.

# %%
S = SETTINGS
# the key names the settings, the train files and the model code: a change to any retrains
setup_key = outputs.run_key(MODE, SEED, str(root), S, list(D.train.paths), code=[vae])
checkpoint_dir = functools.partial(outputs.checkpoint_dir, "05_vae", key=setup_key, resume=RESUME)
feed = vae.patch_dataset(train, batch_size=S["batch_size"], seed=SEED)
held_feed = vae.patch_dataset(held, batch_size=S["batch_size"], shuffle=False)
common = {"filters": S["filters"], "warmup_steps": S["warmup_steps"], "seed": SEED, "run_eagerly": S["eager"]}
untrained = {
    "VAE": vae.make_vae(train.n_frames, rep.n_features, latent_dim=S["latent_dim"], **common),
    # a smaller latent whose bits cost more (beta) leaves what tells one song from another to the label
    "cVAE": vae.make_vae(train.n_frames, rep.n_features, latent_dim=S["cvae_latent_dim"], beta=S["cvae_beta"],
                         n_labels=train.n_labels, **common),
    "VQ-VAE": vae.make_vqvae(train.n_frames, rep.n_features, codebook_size=S["codebook_size"], filters=S["vq_filters"],
                             seed=SEED, run_eagerly=S["eager"]),
}

# %%
models, histories, train_seconds = {}, {}, {}
for name, model in untrained.items():
    t0 = time.perf_counter()
    models[name], histories[name] = vae.fit_with_checkpoints(
        model.adapt(train), feed, epochs=S["epochs"], validation_data=held_feed, save_every=S["save_every"],
        checkpoint_dir=checkpoint_dir(name))
    train_seconds[name] = time.perf_counter() - t0

# %%
vq = models["VQ-VAE"]
K, cpp = vq.codebook_size, vq.codes_per_patch
train_codes, held_codes = vq.encode_codes(train), vq.encode_codes(held)
code_feed = vae.code_dataset([train_codes[i] for i in train.sequences()], codebook_size=K, codes_per_patch=cpp,
                             window=S["prior_window"], seed=SEED)
held_code_feed = vae.code_dataset([held_codes[i] for i in held.sequences()], codebook_size=K, codes_per_patch=cpp,
                                  window=S["prior_window"], shuffle=False)
t0 = time.perf_counter()
prior, histories["prior"] = vae.fit_with_checkpoints(
    vae.make_prior(K, cpp, units=S["prior_units"], embed_dim=32, dropout=0.3, run_eagerly=S["eager"]), code_feed,
    epochs=S["prior_epochs"], validation_data=held_code_feed, save_every=S["save_every"],
    checkpoint_dir=checkpoint_dir("prior"))
train_seconds["prior"] = time.perf_counter() - t0
pd.DataFrame.from_dict({name: {"epochs": len(h["loss"]), "s per epoch": np.median(h["epoch_seconds"]),
                               "loaded from a checkpoint": h["resumed"]} for name, h in histories.items()},
                       orient="index").round(2)

# %%
fig, axes = plt.subplots(1, 4, figsize=(16, 3.2))
for ax, name in zip(axes[:3], models):
    h = histories[name]
    e = np.arange(1, len(h["loss"]) + 1)
    ax.plot(e, h["reconstruction_loss"], "o-", ms=3, label="train")
    ax.plot(e, h["val_reconstruction_loss"], "s--", ms=3, label="held out")
    ax.set(title=name, xlabel="epoch", ylabel="reconstruction MSE (standardised)")
    ax.legend(loc="upper right")
    ax2 = ax.twinx()
    extra = "kl_loss" if "kl_loss" in h else "perplexity"
    ax2.plot(e, h[extra], ":", color="C3")
    ax2.set_ylabel("KL (nats per patch)" if extra == "kl_loss" else "codebook perplexity (batch)", color="C3")
h = histories["prior"]
e = np.arange(1, len(h["loss"]) + 1)
axes[3].plot(e, h["loss"], "o-", ms=3, label="train")
axes[3].plot(e, h["val_loss"], "s--", ms=3, label="held out")
axes[3].axhline(np.log(vae.codebook_perplexity(train_codes, K)), color="gray", ls=":", label="code frequencies alone")
axes[3].set(title="prior", xlabel="epoch", ylabel="cross-entropy (nats per code)")
axes[3].legend()
fig.tight_layout()

# %% [markdown]
# The numbers behind the curves: reconstruction error in dB on training and on held-out patches (a
# gap means memorised detail), how many of the VAE's latent units carry information (variance of the
# posterior mean across patches above 0.01), and how much of the codebook the VQ-VAE uses.

# %%
metrics = {}
for name, m in models.items():
    metrics[name] = {"train_db": vae.reconstruction_error(m, train), "held_db": vae.reconstruction_error(m, held),
                     "decoder_std_db": float(np.median(m.decoder_std()))}
    if name != "VQ-VAE":
        metrics[name]["active_units"], _ = vae.active_units(m, train)
        metrics[name]["kl"] = histories[name]["val_kl_loss"][-1]
metrics["VQ-VAE"]["perplexity"] = vae.codebook_perplexity(train_codes, K)
prior_ce = {"train": histories["prior"]["loss"][-1], "held": histories["prior"]["val_loss"][-1],
            "unigram": float(np.log(vae.codebook_perplexity(train_codes, K)))}
latent = {name: f"{r['active_units']} of {models[name].latent_dim} units active, KL {r['kl']:.1f} nats (held out)"
          if "active_units" in r else f"codebook perplexity {r['perplexity']:.1f} of {K} codes, {cpp} codes per beat"
          for name, r in metrics.items()}
display(pd.DataFrame.from_dict({name: {"train dB": r["train_db"], "held-out dB": r["held_db"],
                                       "decoder σ dB": r["decoder_std_db"], "latent": latent[name]}
                                for name, r in metrics.items()}, orient="index").round(2))
print(f"prior: {prior_ce['train']:.2f} nats per code on training songs, {prior_ce['held']:.2f} on held-out songs; "
      f"the code frequencies alone give {prior_ce['unigram']:.2f}")

# %% [markdown]
# ## Held-out reconstructions
#
# The passage above through each model (decoder means: the blur a model adds, before any noise is
# drawn), stitched at its own beat lengths.

# %%
recon = {"patches (no model)": held.x[passage]}
recon["VAE"] = models["VAE"].reconstruct(held.x[passage])
recon["cVAE (label: any)"] = models["cVAE"].reconstruct(held.x[passage], np.full(len(passage), -1))
recon["VQ-VAE"] = vq.reconstruct(held.x[passage])
recon_audio = {k: to_clip(x, held.lengths[passage]) for k, x in recon.items()}
fig, axes = plt.subplots(len(recon), 1, figsize=(12, 1.9 * len(recon)), sharex=True)
for ax, (k, x) in zip(axes, recon.items()):
    err = np.sqrt(np.mean((x - held.x[passage]) ** 2))
    plot_representation(patches.stitch(x, lengths=held.lengths[passage], overlap=OVERLAP), rep, ax=ax,
                        colorbar=False, title=f"{k}: {err:.1f} dB RMS from the patches")
    ax.label_outer()
fig.tight_layout()
display(audio_table(recon_audio, sr=sr, title="a held-out passage through each model"))

# %% [markdown]
# ## Sampling
#
# **VAE**: each beat is decoded from its own `z ~ N(0, TEMPERATURE²)` and drawn from the decoder's
# Gaussian; beats follow each other at the corpus's tempo. **cVAE**: the same, with one label per
# clip. **VQ-VAE**: the prior samples the code sequence beat after beat (`PRIOR_TEMPERATURE` divides
# its logits), and the decoder turns each beat's codes into a patch. Every clip is stitched and inverted
# once; the generation time is measured from sampling to audio. Each clip is heard raw (what the card
# scores) and post-processed (`musiclib.postprocess`: loudness, true-peak limit, fades), so the
# post-processing cannot hide a failure.

# %%
nb = n_beats(S["seconds"])
generated, gen_patches, gen_seconds = {}, {}, {}

t0 = time.perf_counter()
x = models["VAE"].sample(S["clips"] * nb, temperature=TEMPERATURE, seed=SEED)
generated["VAE"] = [to_clip(x[k * nb : (k + 1) * nb]) for k in range(S["clips"])]
gen_patches["VAE"], gen_seconds["VAE"] = x, time.perf_counter() - t0

shown_labels = list(range(min(S["labels"], train.n_labels)))
label_of_clip = [shown_labels[k % len(shown_labels)] for k in range(S["clips"])]
t0 = time.perf_counter()
x = np.concatenate([models["cVAE"].sample(nb, labels=lab, temperature=TEMPERATURE, seed=SEED + k)
                    for k, lab in enumerate(label_of_clip)])
generated["cVAE"] = [to_clip(x[k * nb : (k + 1) * nb]) for k in range(S["clips"])]
gen_patches["cVAE"], gen_seconds["cVAE"] = x, time.perf_counter() - t0

t0 = time.perf_counter()
codes = prior.sample(nb * cpp, n_sequences=S["clips"], temperature=PRIOR_TEMPERATURE, seed=SEED)
x = np.concatenate([vq.decode_codes(c, noise_scale=1.0, seed=SEED + k) for k, c in enumerate(codes)])
generated["VQ-VAE"] = [to_clip(x[k * nb : (k + 1) * nb]) for k in range(S["clips"])]
gen_patches["VQ-VAE"], gen_seconds["VQ-VAE"] = x, time.perf_counter() - t0

# %%
rows = [("held out (real)", reference[0][: len(generated["VAE"][0])])]
rows += [(f"{name} 1" + (f" (label {train.label_names[label_of_clip[0]]})" if name == "cVAE" else ""), clips[0])
         for name, clips in generated.items()]
# raw: what the card scores and 08 compares; post-processed (loudness, true-peak limit, fades): what one would publish
display(raw_and_processed(rows, sr=sr, title=f"samples, {S['seconds']:.0f} s each (the first clip of each model)"))
fig, axes = plt.subplots(1, 4, figsize=(16, 3), sharey=True)
plot_representation(rep.encode(rows[0][1]), rep, ax=axes[0], title="held out (real)", colorbar=False)
for ax, name in zip(axes[1:], generated):
    plot_representation(rep.encode(generated[name][0]), rep, ax=ax, title=name, colorbar=False)
    ax.label_outer()
fig.tight_layout()

# %% [markdown]
# ### Is it a copy? Each generated beat beside its nearest training beat
#
# `patches.nearest_patches` finds, for every generated patch, the training patch with the smallest
# RMS difference (dB). For scale: a held-out patch -- real music the models never saw -- lies at the
# median distance printed below from its nearest training patch. A model that copies would sit far
# below it.

# %%
_, held_dist = patches.nearest_patches(held, train)
nearest = {name: patches.nearest_patches(x, train) for name, x in gen_patches.items()}
print(f"median distance to the nearest training beat: held-out real beats {np.median(held_dist):.1f} dB; "
      + ", ".join(f"{name} {np.median(d):.1f} dB (closest {d.min():.1f})" for name, (_, d) in nearest.items()))
shown = [(n, k) for n in gen_patches for k in range(S["nearest_shown"])]
fig, axes = plt.subplots(2, len(shown), figsize=(2.5 * len(shown), 5), sharey=True)
players = []
for col, (name, k) in enumerate(shown):
    idx, dist = nearest[name]
    j = idx[k]
    plot_representation(gen_patches[name][k], rep, ax=axes[0, col], colorbar=False, title=f"{name} beat {k + 1}")
    plot_representation(train.x[j], rep, ax=axes[1, col], colorbar=False,
                        title=f"nearest: {train.label_names[train.label[j]][:12]}\n{dist[k]:.1f} dB away")
    players.append((f"{name} beat {k + 1} (x4)", (to_clip(np.repeat(gen_patches[name][k : k + 1], 4, axis=0)),
                                                   {"distance (dB)": round(float(dist[k]), 1)})))
    players.append((f"  its nearest training beat (x4)", to_clip(np.repeat(train.x[j : j + 1], 4, axis=0))))
for ax in axes.flat:
    ax.label_outer()
fig.tight_layout()
display(audio_table(players, sr=sr, title="generated beats and their nearest training beats, each played 4 times"))

# %% [markdown]
# ### Conditional samples, one clip per label
#
# Does the label steer the sound? For every label the cVAE makes `nb` beats; their average spectrum
# is compared with each training song's average spectrum. If the label is used, the nearest song is
# the one asked for more often than by chance (one in `n_labels`); and each generated beat's nearest
# training beat comes from that song more often than by chance.

# %%
song_mean = np.stack([train.x[train.label == k].mean(axis=(0, 1)) for k in range(train.n_labels)])
per_label = np.stack([models["cVAE"].sample(nb, labels=k, temperature=TEMPERATURE, seed=SEED + 100 + k)
                      for k in range(train.n_labels)])
nearest_song = np.argmin(((per_label.mean(axis=(1, 2))[:, None] - song_mean[None]) ** 2).sum(axis=2), axis=1)
song_hits = int(np.sum(nearest_song == np.arange(train.n_labels)))
idx, _ = patches.nearest_patches(per_label.reshape(-1, *per_label.shape[2:]), train)
beat_hit = float(np.mean(train.label[idx] == np.repeat(np.arange(train.n_labels), nb)))
print(f"cVAE: for {song_hits} of {train.n_labels} labels the generated beats' average spectrum is nearest to the "
      f"song asked for; {100 * beat_hit:.0f} % of generated beats lie nearest to a beat of that song "
      f"(chance: {100 / train.n_labels:.0f} % for both)")
display(audio_table([(f"label {train.label_names[lab]}", y) for lab, y in zip(label_of_clip, generated["cVAE"])],
                    sr=sr, title="cVAE: one clip per label"))

# %% [markdown]
# ### An interpolation between two held-out beats
#
# Two beats from different held-out songs are encoded by the VAE; the latent moves in a straight line
# from one to the other, one beat per step, and the decoded beats are played in a row.

# %%
seqs = held.sequences()
a, b = seqs[0][len(seqs[0]) // 2], seqs[-1][len(seqs[-1]) // 3]
za, zb = models["VAE"].encode(held.x[[a, b]])[0]
w = np.linspace(0, 1, S["interpolation_steps"])[:, None]
path = models["VAE"].decode((1 - w) * za + w * zb, noise_scale=1.0, seed=SEED)
interpolation = to_clip(path)
fig, ax = plt.subplots(figsize=(12, 2.6))
song_a, song_b = (D.held_out.clips[held.file_index[i]].name for i in (a, b))
plot_representation(patches.stitch(path, lengths=np.full(len(path), beat), overlap=OVERLAP), rep, ax=ax,
                    title=f"VAE: from a beat of {song_a} (A) to a beat of {song_b} (B), {len(path)} steps")
display(audio_table([("beat A (x2)", to_clip(held.x[[a, a]])), ("A -> B through the latent", interpolation),
                     ("beat B (x2)", to_clip(held.x[[b, b]]))], sr=sr, title="interpolation"))

# %% [markdown]
# ## The VQ-VAE prior: a continuation and a minute of music
#
# **Continuation**: the first `prime_beats` beats of a held-out song are encoded into codes; the prior
# reads them and carries on. Only the generated part is a model's output (it is what is saved); the
# real start and the real continuation are there to compare.

# %%
track = max(seqs, key=len)
pb = S["prime_beats"]
prime_idx = track[:pb]
prime_codes = held_codes[prime_idx].reshape(-1)
cont_codes = prior.sample(nb * cpp, prime=prime_codes, temperature=PRIOR_TEMPERATURE, seed=SEED)[0]
track_beat = int(np.median(held.lengths[track]))
continuation = to_clip(vq.decode_codes(cont_codes, noise_scale=1.0, seed=SEED), np.full(nb, track_beat))
clip = D.held_out.clips[held.file_index[track[0]]]
hop = rep.hop_length
a0, a1 = held.starts[track[0]] * hop, held.starts[track[pb]] * hop
display(audio_table([
    (f"{clip.name}: the first {pb} beats (real)", clip.y[a0:a1]),
    ("VQ-VAE prior: its continuation", continuation),
    ("the real continuation", clip.y[a1 : a1 + len(continuation)]),
], sr=sr, title="continuing a held-out song from its codes"))

# %% [markdown]
# **A minute (or more) from the prior**, in one piece: the prior samples `long` seconds of codes in
# one traced loop, the decoder makes the beats, and the whole sequence is stitched and inverted once.

# %%
t0 = time.perf_counter()
long_beats = int(np.ceil(S["long"] * fps / beat))  # at least S["long"] seconds
long_codes = prior.sample(long_beats * cpp, temperature=PRIOR_TEMPERATURE, seed=SEED + 1)[0]
long_patches = vq.decode_codes(long_codes, noise_scale=1.0, seed=SEED + 1)
long_clip = to_clip(long_patches)
long_seconds = time.perf_counter() - t0
print(f"{len(long_clip) / sr:.1f} s of audio ({long_beats} beats, {long_beats * cpp} codes) in {long_seconds:.2f} s: "
      f"{len(long_clip) / sr / long_seconds:.0f}x real time, inversion included")
fig, ax = plt.subplots(figsize=(14, 2.6))
plot_representation(rep.encode(long_clip), rep, ax=ax, title=f"VQ-VAE prior: {len(long_clip) / sr:.0f} s", colorbar=False)
display(audio_table([("VQ-VAE prior, one piece", long_clip)], sr=sr))

# %% [markdown]
# ## The latent explorer
#
# The top principal components of the VAE's training codes as sliders (after Avant-Garfield's
# "network driven by switches"): move one and hear the decoded beat, played four times. Exported
# to HTML (or run headless), the panel becomes a grid: each component at -2, 0 and +2 standard
# deviations.

# %%
train_z = models["VAE"].encode(train)[0]
widgets.latent_explorer(models["VAE"], train_z, rep=rep, n_components=S["explorer"], beat_frames=beat, guard=guard,
                        seed=SEED)

# %% [markdown]
# ## The musicality card of every model
#
# Each model's clips (the VQ-VAE's include the long piece and the continuation) against the
# training songs and the held-out songs (`musiclib.evaluation.card`). The checks that say "not a
# copy, not noise" are copying, diversity, noise, drone and blow-up; rhythm and distribution say how
# music-like it is. These are the clips saved for `08_compare`, one row per model.

# %%
clips_of = {"VAE": generated["VAE"], "cVAE": generated["cVAE"],
            "VQ-VAE": generated["VQ-VAE"] + [long_clip, continuation]}
cards = compare.card_clips(clips_of, training=training_audio, reference=reference, sr=sr, seed=SEED)
for c in cards.values():
    display(c)

# %%
KEY_CHECKS = ("copying", "diversity", "noise", "drone", "blowup")
MUSIC_CHECKS = [k for k in ("rhythm", "tempo", "structure", "distribution") if k in card.CHECKS]
compare.style_cards(cards, index_name="model")

# %% [markdown]
# ## Speed and saved clips
#
# Real-time factor = seconds of audio / seconds from sampling to audio (the inversion included);
# `benchmarks/generate_vae.py` measures the same on fixed settings beside librosa's Griffin-Lim.

# %%
rtf = {name: sum(len(y) for y in generated[name]) / sr / gen_seconds[name] for name in generated}
rtf["VQ-VAE (long)"] = len(long_clip) / sr / long_seconds
print("real-time factor of generation: " + ", ".join(f"{k} {v:.0f}x" for k, v in rtf.items())
      + f" (load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs: other work slows it)")
# one row per model in 08_compare: parameters "model" and "variant" name it
VARIANT = {"VAE": "latent draws", "cVAE": "one label per clip", "VQ-VAE": "LSTM prior"}
saved = {}
for name, clips in clips_of.items():
    m = models[name]
    params = {"model": name, "variant": VARIANT[name], **m.get_config(), "mode": MODE, "epochs": S["epochs"],
              "temperature": PRIOR_TEMPERATURE if name == "VQ-VAE" else TEMPERATURE,
              "beat_frames": beat, "overlap": OVERLAP, "patches": "one beat each"}
    if name == "cVAE":
        params["labels"] = [train.label_names[lab] for lab in label_of_clip]
    if name == "VQ-VAE":
        params.update(prior=prior.get_config(), prior_epochs=S["prior_epochs"], long_seconds=len(long_clip) / sr,
                      continuation=f"last clip: primed with {clip.name}'s first {pb} beats", guard=guard.to_dict())
    train_s = train_seconds[name] + (train_seconds["prior"] if name == "VQ-VAE" else 0.0)
    gen_s = gen_seconds[name] + (long_seconds if name == "VQ-VAE" else 0.0)
    saved[name] = outputs.save_clips("05_vae", clips, sr=sr, representation=rep, parameters=params, seed=SEED,
                                     train_seconds=train_s, generate_seconds=gen_s)
print("saved under", Path(saved["VAE"][0]).parent.parent)

# %% [markdown]
# ## Summary

# %%
passed_key = {name: compare.passes(c, KEY_CHECKS) for name, c in cards.items()}
summary = {
    "mode": MODE,
    "train / held-out files, beats": (len(D.train), len(D.held_out), len(train), len(held)),
    "reconstruction dB (train / held out)": {n: (round(r["train_db"], 1), round(r["held_db"], 1))
                                             for n, r in metrics.items()},
    "VAE active units": f"{metrics['VAE']['active_units']} of {S['latent_dim']}",
    "cVAE labels heard (nearest song by average spectrum)": f"{song_hits} of {train.n_labels}",
    "VQ-VAE codebook perplexity": f"{metrics['VQ-VAE']['perplexity']:.0f} of {K}",
    "prior nats per code (held out / code frequencies)": (round(prior_ce["held"], 2), round(prior_ce["unigram"], 2)),
    "median distance to nearest training beat (dB)": {"held-out real": round(float(np.median(held_dist)), 1),
                                                      **{n: round(float(np.median(d)), 1) for n, (_, d) in nearest.items()}},
    "copying, diversity, noise, drone, blow-up all pass": passed_key,
    **{k: {n: round(c.checks[k]["value"], 2) for n, c in cards.items()} for k in MUSIC_CHECKS},
    "real-time factor": {k: round(v) for k, v in rtf.items()},
    "seconds to run this notebook": round(time.perf_counter() - t_start, 1),
}
display(pd.Series(summary, name="value", dtype=object).to_frame())  # every row computed above
n_pass = sum(passed_key.values())
closest = min(float(np.median(d)) for _, d in nearest.values())
display(headline(
    f"{n_pass} of {len(cards)} latent-variable models ({', '.join(n for n, p in passed_key.items() if p) or 'none'}) "
    f"pass the copying, diversity, noise, drone and blow-up checks; their beats lie at a median "
    f"{closest:.1f} dB or more from the nearest training beat (held-out real music: "
    f"{np.median(held_dist):.1f} dB), and the VQ-VAE prior made {len(long_clip) / sr:.0f} s in one piece at "
    f"{rtf['VQ-VAE (long)']:.0f}x real time. {card.no_verdict(cards)}".strip()))

# %% [markdown]
# ## Conclusion
#
# The answer, in this run's numbers:

# %%
failed_key, failed_music = compare.failed_checks(cards, KEY_CHECKS), compare.failed_checks(cards, MUSIC_CHECKS)
value = {k: compare.check_values(cards, k) for k in card.CHECKS}  # e.g. "VAE 0.31, cVAE 0.42 (pass <= 0.56)"
print("\n".join([
    f"Not copies: median distance of generated beats to the nearest training beat "
    + ", ".join(f"{n} {np.median(d):.1f} dB" for n, (_, d) in nearest.items())
    + f", against {np.median(held_dist):.1f} dB for unseen real beats; card copying: {value['copying']}.",
    f"Not noise: card noise {value['noise']}; drone {value['drone']}; blow-up {value['blowup']} dB; "
    f"diversity {value['diversity']}. Key checks failed: "
    + ("; ".join(f"{n}: {', '.join(f)}" for n, f in failed_key.items() if f) or "none") + ".",
    "Music-like: " + "; ".join(f"{k} {value[k]}" for k in MUSIC_CHECKS) + ". Failed: "
    + ("; ".join(f"{n}: {', '.join(f)}" for n, f in failed_music.items() if f) or "none") + ".",
    "Distribution before clipping at 0 (below 0: nearer the held-out songs than their own halves are to each "
    "other): " + ", ".join(f"{n} {c.checks['distribution']['detail'].get('unclipped_score', np.nan):.2f}"
                           for n, c in cards.items()) + ".",
    f"Length: the VQ-VAE prior made {len(long_clip) / sr:.1f} s in one piece; it predicts held-out songs' codes "
    f"with {prior_ce['held']:.2f} nats per code, against {prior_ce['unigram']:.2f} from the code frequencies alone.",
    f"Labels: the cVAE's beats are nearest in average spectrum to the song asked for in {song_hits} of "
    f"{train.n_labels} labels, and {100 * beat_hit:.0f} % of them lie nearest to a beat of it "
    f"(chance: 1 label, {100 / train.n_labels:.0f} %).",
]))

# %% [markdown]
# What the numbers say, and why. **Copies**: none of the models hands back its training data; their
# beats sit further from the nearest training beat than unseen real music does, which is also what
# the card's copying check measures on whole seconds. **Noise**: the decoders' means are smoothed
# across the frequency bands (the held-out reconstructions above are means), and a smooth spectrum
# inverts to audio the card's noise check calls noise; drawing from each decoder's learned Gaussian
# restores the band-to-band detail, and the stability guard keeps what a decoder overshoots (the
# VQ-VAE's, fed code combinations it never saw) inside the training songs' range. **Rhythm and
# tempo** come from the beat grid: every patch starts on a beat and sequences are played at the
# corpus's tempo, so even the VAE's independent beats keep a pulse; the VQ-VAE's prior has to learn
# which beat follows which, and its rhythm and structure values say how well it did in this much
# training (on two cores, demo mode). **Distribution** compares the frames' statistics with real
# music's (0 = as close as the reference's own halves, 1 = shaped noise). The **prior** is what makes
# length possible: a minute in one piece, and a continuation of a held-out start.
#
# Every approach side by side: [08 · Compare](08_compare.ipynb).
