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
# # 04 · Sequence models: LSTM, LSTM+VAE and a dilated causal CNN
#
# **Can a sequence model, trained to predict the next spectrogram frame, keep generating music for a
# minute, and does a variational LSTM sound better in the DCT domain than in the FFT domain?**
#
# Recurrent next-frame generation was the one neural approach an earlier experiment had working
# (one-layer LSTMs on mel frames). Another added a VAE to a char-rnn style LSTM so that audio could
# be sampled with a temperature, and found the DCT domain "narrower and clearer" than the FFT
# domain. A convolutional generator was still on the wish list. Here we train, in Keras:
#
# | model | representation | randomness at generation time |
# |---|---|---|
# | **LSTM**: stacked LSTMs and a linear read-out | log-mel (the series' default) | `temperature` x one of its own one-step error vectors |
# | **CNN**: dilated causal 1-D convolutions, frequency bins as channels | log-mel | the same |
# | **LSTM+VAE**: frame encoder -> LSTM -> latent mean/log-variance -> sample -> decoder | FFT magnitude (dB) *and* DCT blocks | the latent is sampled with standard deviation `temperature` |
#
# Every model generates through one compiled TensorFlow loop (`musiclib.models.keras_seq`), with
# the stability guard of `musiclib.generate` inside the loop, and is judged by ear, by spectrogram,
# and by the musicality card, including on the *last* ten seconds of a one-minute clip.

# %% tags=["parameters"]
MODE = "demo"  # "small" (CI, seconds), "demo" (a 2-core laptop, minutes), "full" (a GPU, longer)
SEED = 0
CORPUS_DIR = None  # None: the default corpus (or $MUSICLIB_DATA); else a folder of audio files
TEMPERATURE = 0.7  # temperature of the clips that are compared across models
RESUME = True  # continue from the checkpoints of an earlier run with the same settings

# %%
SETTINGS = {
    # max_duration: seconds read per file; window/batch: training sequences; epochs per model;
    # prime: seconds of held-out audio each clip continues; seconds: generated per clip;
    # long: the long clip's length, and tail: the seconds at its end that get their own card
    "small": {
        "max_duration": 4.0, "max_files": 10, "window": 32, "batch_size": 32, "epochs": 1,
        "lstm": {"units": (16,)}, "cnn": {"filters": 16, "dilations": (1, 2, 4)},
        "vae": {"encoder_units": 16, "units": 16, "latent_dim": 8, "decoder_units": 16},
        "n_clips": 1, "prime": 0.5, "seconds": 2.0, "long": 2.5, "tail": 1.5,
        "temperatures": (0.0, 1.0),
    },
    "demo": {
        "max_duration": 30.0, "max_files": None, "window": 64, "batch_size": 32, "epochs": 40,
        "lstm": {"units": (128, 128)}, "cnn": {"filters": 128, "dilations": (1, 2, 4, 8, 16, 32)},
        "vae": {"encoder_units": 256, "units": 256, "latent_dim": 32, "decoder_units": 256},
        "n_clips": 3, "prime": 1.0, "seconds": 8.0, "long": 60.0, "tail": 10.0,
        "temperatures": (0.0, 0.5, 1.0, 1.5),
    },
    "full": {
        "max_duration": None, "max_files": None, "window": 128, "batch_size": 64, "epochs": 60,
        "lstm": {"units": (512, 512, 512)}, "cnn": {"filters": 256, "dilations": (1, 2, 4, 8, 16, 32, 64, 128)},
        "vae": {"encoder_units": (512, 512), "units": (512, 512), "latent_dim": 64, "decoder_units": (512, 512)},
        "n_clips": 4, "prime": 2.0, "seconds": 20.0, "long": 120.0, "tail": 10.0,
        "temperatures": (0.0, 0.5, 1.0, 1.5),
    },
}[MODE]
SETTINGS

# %%
import hashlib
import json
import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from IPython.display import display

from musiclib import generate
from musiclib.evaluation import card
from musiclib.tools import data, outputs
from musiclib.corpus import load_corpus
from musiclib.display import audio_table, plot_representation, setup_notebook
from musiclib.framing import load_frames
from musiclib.models import keras_seq
from musiclib.representations import DCTBlocks, LogSpectrogram

rng = setup_notebook(seed=SEED)
keras_seq.set_seed(SEED)  # Python, NumPy, TensorFlow; op determinism on the CPU
t_start = time.perf_counter()
import tensorflow as tf  # noqa: E402  (keras_seq has imported it already)

print("TensorFlow", tf.__version__, "| devices:", [d.name for d in tf.config.list_logical_devices()],
      "| replicas:", keras_seq.strategy().num_replicas_in_sync)

# %% [markdown]
# ## Data and representations
#
# The corpus is split by file; models learn from the train files, and every generated clip is primed
# with, and judged against, held-out files. Frames come through the feature cache, so a second run
# skips the transforms. Three representations:
#
# - **log-mel** (`generate.DEFAULT_REPRESENTATION`: 128 bands in dB, n_fft 1024, hop 256) for the
#   LSTM and the CNN;
# - **FFT**: the dB magnitude of the same STFT, 513 bins (decoded with phase reconstruction);
# - **DCT**: orthonormal DCT of 512-sample blocks at hop 256, 512 signed coefficients (exact inverse,
#   no phase to guess).

# %%
root = Path(CORPUS_DIR) if CORPUS_DIR else data.default_corpus_dir()
corpus = load_corpus(root, max_duration=SETTINGS["max_duration"], progress=False)
train, held_out = corpus.split(held_out=0.2, seed=SEED)
train_clips = list(train.clips)[: SETTINGS["max_files"]]
held_clips = list(held_out.clips)[: SETTINGS["max_files"]]
sr = corpus.sr
# the clips we prime with and judge against must hold a prime plus a few seconds
long_enough = [c for c in held_clips if len(c.y) >= (SETTINGS["prime"] + 1.0) * sr] or held_clips
reference = [c.y for c in long_enough]
training_audio = [c.y for c in train_clips if len(c.y) >= 1.5 * sr]  # the card's copying check needs >= 1 s

REPS = {
    "mel": generate.default_representation(),
    "fft": LogSpectrogram(n_fft=1024, scale="db"),
    "dct": DCTBlocks(block_length=512),
}
frames = {
    name: {"train": load_frames([c.path for c in train_clips], rep, max_duration=SETTINGS["max_duration"]),
           "held": load_frames([c.path for c in long_enough], rep, max_duration=SETTINGS["max_duration"])}
    for name, rep in REPS.items()
}
print(f"{len(train_clips)} train files ({sum(len(c.y) for c in train_clips) / sr:.0f} s), "
      f"{len(long_enough)} held-out files ({sum(len(y) for y in reference) / sr:.0f} s)")
for name, rep in REPS.items():
    print(f"{name:>4}: {rep.n_features} features x {sum(map(len, frames[name]['train']))} train frames")

# %% [markdown]
# ## Training
#
# Each model reads windows of consecutive frames from a `tf.data` pipeline and learns the next frame
# at every step (teacher forcing). The frames are standardised inside the model, so losses are in
# units of each feature's spread. `fit_with_checkpoints` saves the model after every epoch (Keras'
# native `.keras` format) and resumes from the last one when this notebook runs again with the same
# settings. The models are built inside `keras_seq.strategy()`, which spreads training over several
# GPUs when there are any. After training, each model measures its one-step errors on the held-out
# files (`calibrate`): the LSTM and the CNN keep a bank of those error vectors and add `temperature`
# times one of them to every generated frame. Whole error vectors, not independent Gaussian noise
# per band: an MSE-trained LSTM fed its own output settles on a fixed point, and per-band noise
# averages out over 128 bands into a flat, drone-like flux, while its real errors (onsets it could
# not predict) are broadband and heavy-tailed (see `musiclib.models.keras_seq`, "Why residual vectors").

# %%
MODELS = {
    "LSTM": ("mel", keras_seq.make_lstm, SETTINGS["lstm"]),
    "CNN": ("mel", keras_seq.make_cnn, SETTINGS["cnn"]),
    "VAE-FFT": ("fft", keras_seq.make_lstm_vae, SETTINGS["vae"]),
    "VAE-DCT": ("dct", keras_seq.make_lstm_vae, SETTINGS["vae"]),
}
# the key names the settings, the train files and the model code: a change to any retrains
setup_key = hashlib.sha256(json.dumps(
    [MODE, SEED, str(root), SETTINGS, [c.path.name for c in train_clips],
     hashlib.sha256(Path(keras_seq.__file__).read_bytes()).hexdigest()], sort_keys=True, default=str
).encode()).hexdigest()[:12]
checkpoints = outputs.outputs_root() / "04_lstm" / "checkpoints" / setup_key

models, histories, guards, train_seconds = {}, {}, {}, {}
for label, (rep_name, make, params) in MODELS.items():
    rep = REPS[rep_name]
    tr = frames[rep_name]["train"]
    ds = keras_seq.sequence_dataset(tr, window=SETTINGS["window"], batch_size=SETTINGS["batch_size"], seed=SEED)
    val = keras_seq.sequence_dataset(frames[rep_name]["held"], window=SETTINGS["window"],
                                     batch_size=SETTINGS["batch_size"], shuffle=False)
    folder = checkpoints / label
    if not RESUME and (folder / "state.json").exists():
        (folder / "state.json").unlink()
    print(f"--- {label} on {rep_name} ({rep.n_features} features)")
    t0 = time.perf_counter()
    model = make(rep.n_features, **params).adapt(tr)
    model, history = keras_seq.fit_with_checkpoints(model, ds, epochs=SETTINGS["epochs"], checkpoint_dir=folder,
                                                    validation_data=val)
    train_seconds[label] = time.perf_counter() - t0
    models[label], histories[label] = model, history
    guards[label] = generate.StabilityGuard.fit(tr, rep)
    print(f"{sum(int(np.prod(w.shape)) for w in model.trainable_weights):,} trained parameters; {np.median(history['epoch_seconds']):.2f} s per epoch "
          f"(median of {len(history['epoch_seconds'])})")

# %%
def mse(h, split=""):
    """Next-frame MSE per epoch (the VAE's loss also holds its KL term, so use its reconstruction part)."""
    return h.get(f"{split}reconstruction_loss", h.get(f"{split}loss", [float("nan")]))


fig, axes = plt.subplots(1, len(MODELS), figsize=(4 * len(MODELS), 3), squeeze=False)
for ax, (label, h) in zip(axes[0], histories.items()):
    epochs = np.arange(1, len(h["loss"]) + 1)
    ax.plot(epochs, mse(h), "o-", label="train")
    ax.plot(epochs, mse(h, "val_"), "s--", label="held out")
    if "kl_loss" in h:
        ax2 = ax.twinx()
        ax2.plot(epochs, h["kl_loss"], ":", color="C3", label="KL")
        ax2.set_ylabel("KL (nats per step)", color="C3")
    ax.set(title=label, xlabel="epoch", ylabel="next-frame MSE (standardised)")
    ax.legend(loc="upper right")
fig.tight_layout()

# %%
print(f"{'model':<9}{'epochs':>7}{'s/epoch':>9}{'train MSE':>11}{'held-out MSE':>14}")
for label, h in histories.items():
    print(f"{label:<9}{len(h['loss']):>7}{np.median(h['epoch_seconds']):>9.2f}"
          f"{mse(h)[-1]:>11.3f}{mse(h, 'val_')[-1]:>14.3f}")

# %% [markdown]
# ## Listening: every model from the same held-out primes
#
# Each clip continues the first `prime` seconds of a held-out file; all clips of a model are
# generated together in one batched roll-out and then inverted to audio with the generation
# settings of `musiclib.generate` (PGHI + 8 fast Griffin-Lim iterations for the spectrogram
# domains, the exact inverse for DCT). The real continuation is in the first row for comparison.

# %%
def primes_for(rep_name, n):
    """The first `prime` seconds of the first n held-out files, as frames of that representation."""
    rep = REPS[rep_name]
    n_prime = max(2, int(SETTINGS["prime"] * rep.frames_per_second))
    return [f[:n_prime] for f in frames[rep_name]["held"][:n]]


n_clips = min(SETTINGS["n_clips"], len(long_enough))
clips, timings = {}, {}
for label, (rep_name, _, _) in MODELS.items():
    clips[label], timings[label] = keras_seq.generate_audio(
        models[label], primes_for(rep_name, n_clips), REPS[rep_name], seconds=SETTINGS["seconds"],
        temperature=TEMPERATURE, guard=guards[label], seed=SEED)

a = int(SETTINGS["prime"] * sr)
real = [y[a : a + int(SETTINGS["seconds"] * sr)] for y in reference[:n_clips]]
rows = [("held out (real continuation)", real[0])] + [(label, c[0]) for label, c in clips.items()]
display(audio_table(rows, sr=sr, title=f"first clip of each model, temperature {TEMPERATURE}"))

# %%
fig, axes = plt.subplots(1, len(MODELS) + 1, figsize=(4 * (len(MODELS) + 1), 3.2))
mel = REPS["mel"]
plot_representation(mel.encode(real[0]), mel, ax=axes[0], title="held out", colorbar=False)
for ax, (label, c) in zip(axes[1:], clips.items()):
    plot_representation(mel.encode(c[0]), mel, ax=ax, title=label, colorbar=False)
fig.suptitle("log-mel spectrograms of the generated audio (every model shown in the same representation)")
fig.tight_layout()

# %% [markdown]
# ### Continuing a held-out track
#
# `generate.continue_audio` keeps the original audio up to the seam and hands over to the model
# after it, with a short crossfade. Listen for the seam and for how long the model keeps the
# track's character.

# %%
track = long_enough[0]
continuations = {
    label: generate.continue_audio(
        models[label], REPS[rep_name], track.y, sr=sr, prime_seconds=SETTINGS["prime"], seconds=SETTINGS["seconds"],
        guard=guards[label], temperature=TEMPERATURE, seed=SEED, progress=False)
    for label, (rep_name, _, _) in MODELS.items()
}
n_cont = len(next(iter(continuations.values())))
display(audio_table([(f"{track.name} (original)", track.y[:n_cont])] + list(continuations.items()), sr=sr,
                    title=f"continuations of {track.name} after {SETTINGS['prime']} s"))

# %% [markdown]
# ## FFT or DCT for the LSTM+VAE?
#
# The same LSTM+VAE learns in both domains. Its losses are in standardised units of each domain, so
# they compare how predictable each domain is to the model, not how good the audio is; for that we
# listen and measure the generated audio the same way (log-mel spectrogram, spectral flux, card).

# %%
fig, axes = plt.subplots(2, 2, figsize=(11, 6))
for row, label in enumerate(["VAE-FFT", "VAE-DCT"]):
    rep = REPS[MODELS[label][0]]
    plot_representation(rep.encode(clips[label][0]), rep, ax=axes[row, 0], title=f"{label}: its own domain")
    plot_representation(mel.encode(clips[label][0]), mel, ax=axes[row, 1], title=f"{label}: log-mel of the audio")
fig.tight_layout()
display(audio_table([("held out", real[0]), ("VAE-FFT", clips["VAE-FFT"][0]), ("VAE-DCT", clips["VAE-DCT"][0])],
                    sr=sr, title="FFT vs DCT"))
for label in ("VAE-FFT", "VAE-DCT"):
    h = histories[label]
    flux = np.mean([generate.spectral_flux(mel.encode(y), mel) for y in clips[label]])
    print(f"{label}: train MSE {mse(h)[-1]:.3f}, held-out MSE {mse(h, 'val_')[-1]:.3f}, KL {h['kl_loss'][-1]:.1f}, "
          f"spectral flux of the audio {flux:.2f} dB/frame "
          f"(held out: {np.mean([generate.spectral_flux(mel.encode(y), mel) for y in real]):.2f})")

# %% [markdown]
# ## The temperature
#
# Same seed, same prime, several temperatures. For the LSTM the temperature scales the error
# vectors it draws from its own held-out one-step errors; for the LSTM+VAE it is the standard deviation of the latent sample
# (0: the latent mean, a deterministic roll-out).

# %%
temps = SETTINGS["temperatures"]
fig, axes = plt.subplots(2, len(temps), figsize=(3.6 * len(temps), 5.6), squeeze=False)
players = []
for row, label in enumerate(["LSTM", "VAE-DCT"]):
    rep_name = MODELS[label][0]
    for col, T in enumerate(temps):
        (y,), _ = keras_seq.generate_audio(models[label], primes_for(rep_name, 1), REPS[rep_name],
                                           seconds=SETTINGS["seconds"], temperature=T, guard=guards[label], seed=SEED)
        players.append((f"{label}, T={T}", y))
        m = mel.encode(y)
        plot_representation(m, mel, ax=axes[row, col], title=f"{label}, T={T}", colorbar=False)
        print(f"{label:<8} T={T:<4} level {20 * np.log10(np.sqrt(np.mean(y**2)) + 1e-12):6.1f} dBFS, "
              f"spectral flux {generate.spectral_flux(m, mel):5.2f} dB/frame")
fig.tight_layout()
display(audio_table(players, sr=sr, title="temperature (same seed)"))

# %% [markdown]
# ## A long clip: does it stay music to the end?
#
# Next-frame models drift: their own output is not what they were trained on. Each model generates
# `long` seconds from one prime; the card is computed on the whole clip and on its last `tail`
# seconds alone, where a blow-up, a drone or noise would show.

# %%
features = {}  # the card's features of the training and reference audio, computed once
long_clips, tails, long_timing = {}, {}, {}
for label, (rep_name, _, _) in MODELS.items():
    (y,), long_timing[label] = keras_seq.generate_audio(
        models[label], primes_for(rep_name, 1), REPS[rep_name], seconds=SETTINGS["long"],
        temperature=TEMPERATURE, guard=guards[label], seed=SEED)
    long_clips[label] = y
    tails[label] = y[-int(SETTINGS["tail"] * sr):]
display(audio_table([(f"{label}: last {SETTINGS['tail']:.0f} s of {SETTINGS['long']:.0f} s", y)
                     for label, y in tails.items()], sr=sr, title="the end of the long clips"))

KEY_CHECKS = ("blowup", "drone", "noise")
RESULT = {True: "pass", False: "FAIL", None: "n/a"}
tail_cards = {}
for label in MODELS:
    whole = card.musicality_card([long_clips[label]], training=training_audio, reference=reference, sr=sr,
                                 label=f"{label}, {SETTINGS['long']:.0f} s", seed=SEED, features=features)
    tail_cards[label] = card.musicality_card([tails[label]], training=training_audio, reference=reference, sr=sr,
                                             label=f"{label}, last {SETTINGS['tail']:.0f} s", seed=SEED,
                                             features=features)
    for part, c in (("whole", whole), ("tail", tail_cards[label])):
        shown = ", ".join(f"{k} {c.checks[k]['value']:.2f} {RESULT[c.checks[k]['passed']]}" for k in KEY_CHECKS)
        print(f"{label:<8} {part:<5} {shown}")

# %%
fig, axes = plt.subplots(len(MODELS), 1, figsize=(12, 2.2 * len(MODELS)))
for ax, (label, y) in zip(np.atleast_1d(axes), long_clips.items()):
    plot_representation(mel.encode(y), mel, ax=ax, title=f"{label}: {SETTINGS['long']:.0f} s", colorbar=False)
fig.tight_layout()

# %% [markdown]
# ## Each model's card
#
# The musicality card measures the clips of the listening section against the training audio and
# the held-out audio (see `musiclib.evaluation.card`).

# %%
cards = {}
for label in MODELS:
    cards[label] = card.musicality_card(clips[label], training=training_audio, reference=reference, sr=sr,
                                        label=label, seed=SEED, features=features)
    display(cards[label])

# %% [markdown]
# ## Speed and saved clips
#
# Real-time factor of generation = seconds of audio made / seconds spent, roll-out and inversion
# together (`benchmarks/generate.py` measures the same on fixed settings, for one clip and a batch).

# %%
warm = {}  # the listening batch once more: compiled already, so this is the steady-state speed
for label, (rep_name, _, _) in MODELS.items():
    _, warm[label] = keras_seq.generate_audio(
        models[label], primes_for(rep_name, n_clips), REPS[rep_name], seconds=SETTINGS["seconds"],
        temperature=TEMPERATURE, guard=guards[label], seed=SEED)
print(f"{'model':<9}{'params':>10}{'s/epoch':>9}{'clips':>6}{'RTF first call':>16}{'RTF compiled':>14}"
      f"{'of which roll-out s':>21}{'inversion s':>13}{'RTF long clip':>15}")
for label in MODELS:
    w = warm[label]
    print(f"{label:<9}{sum(int(np.prod(w.shape)) for w in models[label].trainable_weights):>10,}{np.median(histories[label]['epoch_seconds']):>9.2f}"
          f"{len(clips[label]):>6}{timings[label]['rtf']:>16.1f}{w['rtf']:>14.1f}{w['rollout_s']:>21.3f}"
          f"{w['inversion_s']:>13.3f}{long_timing[label]['rtf']:>15.1f}")
print("'first call' includes compiling the roll-out loop (once per model and shape bucket)")

saved = {}
for label, (rep_name, _, params) in MODELS.items():
    saved[label] = outputs.save_clips(
        "04_lstm", clips[label] + [long_clips[label]], sr=sr, representation=REPS[rep_name],
        parameters={"model": label, **models[label].get_config(), "temperature": TEMPERATURE, "mode": MODE,
                    "epochs": len(histories[label]["loss"]), "long_seconds": SETTINGS["long"]},
        seed=SEED, train_seconds=train_seconds[label],
        generate_seconds=timings[label]["rollout_s"] + timings[label]["inversion_s"] + long_timing[label]["rollout_s"]
        + long_timing[label]["inversion_s"])
print("saved under", Path(saved["LSTM"][0]).parent.parent)

# %% [markdown]
# ## Summary

# %%
summary = {
    "mode": MODE,
    "train / held-out files": (len(train_clips), len(long_enough)),
    "epochs per model": SETTINGS["epochs"],
    "cards passed (clips)": {label: c.passed for label, c in cards.items()},
    f"blow-up, drone, noise pass in the last {SETTINGS['tail']:.0f} s": {
        label: all(c.checks[k]["passed"] is not False for k in KEY_CHECKS) for label, c in tail_cards.items()},
    "seconds to run this notebook": round(time.perf_counter() - t_start, 1),
}
for k, v in summary.items():
    print(f"{k:>50}: {v}")

# %% [markdown]
# - All three models train in minutes on two cores and generate far faster than real time, because
#   the whole roll-out is one compiled loop; inverting the frames to audio costs more than the model.
# - The stability guard keeps the level in the training range for a minute and more; whether the
#   *content* stays musical at the end of the clip is what the tail cards above say.
# - The LSTM+VAE's temperature is a direct knob: 0 is the deterministic roll-out, larger values
#   sample further from the latent mean.
# - Compare the FFT and DCT versions by ear and by their cards above: the DCT needs no phase
#   reconstruction, so whatever it generates is heard as it was predicted.
#
# **Previous:** [03 · Trees](03_trees.ipynb) · **Next:** [08 · Compare](08_compare.ipynb) (05 VAE, 06 GAN and 07 raw-audio autoencoders are planned)
