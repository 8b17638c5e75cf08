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
# # 07 · Raw-audio autoencoders, split at the beat
#
# **Can autoencoders trained directly on the waveform generate music by sampling their latent space,
# and does cutting the training audio at the beats (each piece time-stretched to one length) give the
# generated audio a steadier rhythm than cutting it into fixed-length pieces?**
#
# Every other notebook in the series models spectrogram frames. An earlier experiment skipped the
# spectrogram and trained autoencoders on the samples themselves (mono, 10 kHz): first on
# fixed-length splits, then on splits at the beat, stretched so that every piece had the same
# length. Here the same idea runs end to end, three models on the same files:
#
# | model | encoder -> latent -> decoder |
# |---|---|
# | **dense AE** | 4096 samples -> dense layer -> 32 numbers -> dense layer -> 4096 samples |
# | **conv AE** | strided 1-D convolutions (x4 per layer) -> 32 numbers -> transposed convolutions |
# | **VAE** | the dense AE (demo) or the conv AE (full) with a Gaussian latent (custom `train_step`, reconstruction + KL) |
#
# each trained twice: on **fixed** pieces (consecutive 0.41 s windows) and on **beat** pieces (one
# beat each, from `musiclib.beats`, stretched to the same 4096 samples). New audio comes from codes
# drawn from a Gaussian fitted to the training codes, decoded in one batch and stitched together:
# fixed pieces as they are, beat pieces stretched back to one beat at the corpus's tempo and
# joined with short cross-fades at the beats. The musicality card (`musiclib.evaluation.card`)
# scores every clip, its rhythm check above all.

# %% tags=["parameters"]
MODE = "demo"  # "small" (CI, seconds), "demo" (a 2-core laptop, minutes), "full" (a GPU, longer)
SEED = 0
CORPUS_DIR = None  # None: the default corpus for MODE (or $MUSICLIB_DATA); else a folder of audio files
TEMPERATURE = 1.0  # spread of the sampled codes relative to the training codes' (0: the mean code)
RESUME = True  # continue from the checkpoints of an earlier run with the same settings

# %%
SETTINGS = {
    # max_duration: seconds read per file (the middle of longer files); min_duration: shorter files
    # (one-shots, which have no beats to cut at) are left out; n_samples: samples per piece;
    # models: which are trained (small mode: one, to stay within CI's seconds; each model's first
    # training step costs seconds of graph building); epochs and batch_size: training;
    # dense/conv/vae: model sizes; seconds: generated per clip;
    # n_clips: clips per model and split (the card's diversity check needs two); steps: codes in
    # the interpolation; excerpt: seconds of held-out audio reconstructed
    "small": {
        "max_duration": 6.0, "min_duration": 2.0, "n_samples": 4096, "models": ("dense AE",), "epochs": 1, "batch_size": 32,
        "dense": {"units": (32,), "latent_dim": 8}, "conv": {"filters": (4, 4, 8, 8), "latent_dim": 8},
        "vae": {"kind": "dense", "units": (32,), "latent_dim": 8},
        "seconds": 6.0, "n_clips": 2, "steps": 6, "excerpt": 3.0,
    },
    "demo": {
        "max_duration": 30.0, "min_duration": 2.0, "n_samples": 4096, "models": ("dense AE", "conv AE", "VAE"),
        "epochs": 5, "batch_size": 64, "dense": {"units": (512,), "latent_dim": 32},
        "conv": {"filters": (8, 16, 32, 32), "kernel_size": 5, "latent_dim": 32},
        "vae": {"kind": "dense", "units": (512,), "latent_dim": 32},
        "seconds": 30.0, "n_clips": 2, "steps": 12, "excerpt": 6.0,
    },
    "full": {
        "max_duration": None, "min_duration": 2.0, "n_samples": 4096, "models": ("dense AE", "conv AE", "VAE"),
        "epochs": 40, "batch_size": 64, "dense": {"units": (1024, 512), "latent_dim": 64},
        "conv": {"filters": (16, 32, 64, 64), "latent_dim": 64},
        "vae": {"kind": "conv", "filters": (16, 32, 64, 64), "latent_dim": 64},
        "seconds": 60.0, "n_clips": 3, "steps": 16, "excerpt": 8.0,
    },
}[MODE]
SETTINGS

# %%
import functools
import time

t_start = time.perf_counter()
from musiclib.display import audio_table, headline, plot_beats, plot_spectrogram, plot_waveform, setup_notebook

rng = setup_notebook(seed=SEED)  # before TensorFlow is imported: it quiets its logs

import warnings
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import display

from musiclib.corpus import load_corpus
from musiclib.evaluation import card, compare
from musiclib.evaluation.metrics import spectral_convergence
from musiclib.models import raw_audio
from musiclib.postprocess import loudness, postprocess, postprocess_params, true_peak_db
from musiclib.representations import LinearSpectrogram
from musiclib.tools import data, outputs

raw_audio.set_seed(SEED)  # Python, NumPy, TensorFlow; op determinism on the CPU
import tensorflow as tf  # noqa: E402  (raw_audio has imported it already)

tf.get_logger().setLevel("ERROR")  # each new model traces its training step: TF's retracing notices are expected

print("TensorFlow", tf.__version__, "| devices:", [d.name for d in tf.config.list_logical_devices()],
      "| replicas:", raw_audio.strategy().num_replicas_in_sync)

# %% [markdown]
# ## Data: the same files, cut two ways
#
# The corpus is loaded mono at 10 kHz (the middle `max_duration` seconds of each file) and split by
# file: the models learn from the train files; the held-out files are what reconstructions and the
# card's yardstick come from. Every train file is then cut twice:
#
# - **fixed**: consecutive windows of 4096 samples (0.41 s), wherever the music happens to be;
# - **beat**: from one tracked beat to the next (`musiclib.beats.track_beats`, with its tempo
#   check), each slice time-stretched to 4096 samples (`musiclib.beats.stretch`, pitch kept), so
#   every piece starts on a beat.

# %%
root = Path(CORPUS_DIR) if CORPUS_DIR else data.default_corpus_dir(mode=MODE)
with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # skipped files are listed in corpus.skipped
    corpus = load_corpus(root, sr=raw_audio.SR, max_duration=SETTINGS["max_duration"], excerpt="middle",
                         min_duration=SETTINGS["min_duration"], progress=False)
train, held_out = corpus.split(held_out=0.2, seed=SEED)
sr = corpus.sr
N = SETTINGS["n_samples"]
SPLITS = raw_audio.SPLITS  # ("fixed", "beat")
t0 = time.perf_counter()
pieces = {split: raw_audio.make_pieces(train, sr=sr, split=split, n_samples=N) for split in SPLITS}
held_pieces = {split: raw_audio.make_pieces(held_out, sr=sr, split=split, n_samples=N) for split in SPLITS}
tempo = pieces["beat"].tempo  # the corpus's median tempo: generated beats are stretched back to it
print(f"{root.name}: {len(train)} train files ({train.total_duration:.0f} s), "
      f"{len(held_out)} held-out files ({held_out.total_duration:.0f} s) at {sr} Hz; "
      f"cut in {time.perf_counter() - t0:.1f} s")
for split in SPLITS:
    print(f"{split:>5}: train {pieces[split].describe()}; held out {len(held_pieces[split])} pieces")

# %%
# the held-out file with the most beat pieces is the one shown and reconstructed
ci = int(np.bincount(held_pieces["beat"].source).argmax())
clip = held_out[ci]
hp = held_pieces["beat"]
show = slice(0, int(min(len(clip.y), 4 * sr)))
fig, axes = plt.subplots(2, 1, figsize=(12, 4.5), sharex=True)
for ax, split in zip(axes, SPLITS):
    plot_waveform(clip.y[show], sr=sr, ax=ax, title=f"{clip.name}: {split} cuts")
    if split == "fixed":
        cuts = np.arange(0, show.stop, N) / sr
    else:
        cuts = hp.starts[hp.source == ci] / sr
    plot_beats(cuts[cuts < show.stop / sr], ax=ax, label=f"{split} cuts")
    ax.legend(loc="upper right")
fig.tight_layout()

# %%
# the card compares seconds of audio: its training and reference sets hold the files of at least 1.5 s
training_audio = [c.y for c in train if len(c.y) >= 1.5 * sr]
reference = [c.y for c in held_out if len(c.y) >= 1.5 * sr]

# %% [markdown]
# ## Training
#
# Each model learns to reproduce its pieces: the loss is the waveform's mean squared error plus a
# distance between log-magnitude spectrograms at two resolutions (what is heard rather than the
# exact phase), and the VAE adds its KL term. The audio is divided by one scale (the pieces'
# standard deviation), kept in the model. `fit_with_checkpoints` saves every model after each epoch
# (Keras' `.keras` format) and resumes where it stopped when this notebook runs again with the same
# settings; models are built inside `keras_seq.strategy()`, so several GPUs are used when present.

# %%
BUILDERS = {
    "dense AE": (raw_audio.make_dense_ae, SETTINGS["dense"]),
    "conv AE": (raw_audio.make_conv_ae, SETTINGS["conv"]),
    "VAE": (raw_audio.make_vae, SETTINGS["vae"]),
}
MODELS = {label: BUILDERS[label] for label in SETTINGS["models"]}
# the key names the settings, the train files and the model code: a change to any retrains
setup_key = outputs.run_key(MODE, SEED, str(root), SETTINGS, [c.path.name for c in train], code=[raw_audio])
checkpoint_dir = functools.partial(outputs.checkpoint_dir, "07_raw_audio", key=setup_key, resume=RESUME)

models, histories, train_seconds = {}, {}, {}
for label, (make, params) in MODELS.items():
    for split in SPLITS:
        folder = checkpoint_dir(f"{label.replace(' ', '_')}-{split}")
        raw_audio.set_seed(SEED)
        t0 = time.perf_counter()
        model = make(N, **params).adapt(pieces[split])
        ds = raw_audio.piece_dataset(pieces[split], batch_size=SETTINGS["batch_size"], seed=SEED)
        val = raw_audio.piece_dataset(held_pieces[split], batch_size=256, shuffle=False)
        model, history = raw_audio.fit_with_checkpoints(model, ds, epochs=SETTINGS["epochs"], checkpoint_dir=folder,
                                                        validation_data=val, calibrate=False, verbose=False)
        key = (label, split)
        models[key], histories[key], train_seconds[key] = model, history, time.perf_counter() - t0
        print(f"{label:>8} {split:>5}: {model.count_params():,} parameters, {len(history['loss'])} epochs, "
              f"{train_seconds[key]:.1f} s; held-out MSE {history['val_reconstruction_loss'][-1]:.3f}, "
              f"spectral {history['val_spectral_loss'][-1]:.3f}")

# %%
fig, axes = plt.subplots(1, len(MODELS), figsize=(4.2 * len(MODELS), 3), squeeze=False)
for ax, label in zip(axes[0], MODELS):
    for i, split in enumerate(SPLITS):
        h = histories[(label, split)]
        epochs = np.arange(1, len(h["loss"]) + 1)
        ax.plot(epochs, h["spectral_loss"], "o-", color=f"C{i}", label=f"{split}: train")
        ax.plot(epochs, h["val_spectral_loss"], "s--", color=f"C{i}", label=f"{split}: held out")
    ax.set(title=label, xlabel="epoch", ylabel="log-STFT L1 (the loss's spectral term)")
    ax.legend(fontsize=8)
fig.tight_layout()

# %% [markdown]
# ## Reconstructions of held-out audio
#
# The longest held-out file, cut the way each model was trained, encoded, decoded and put back
# together: fixed pieces end to end, beat pieces each stretched back to its own beat length. Two
# measures: the waveform's relative MSE (1 is what silence scores; a signal with the right spectrum
# but unrelated phase scores 2) and the spectral convergence of the magnitude spectrogram (SC, dB;
# lower is closer), which is what the spectral term of the loss asks for.

# %%
n_ex = int(SETTINGS["excerpt"] * sr)
recon = {}
for split in SPLITS:
    hp = held_pieces[split]
    rows = np.flatnonzero(hp.source == ci)
    k = max(1, int(np.searchsorted(np.cumsum(hp.lengths[rows]), n_ex)))
    rows = rows[:k]
    start = int(hp.starts[rows[0]])
    original = clip.y[start : start + int(hp.lengths[rows].sum())]
    for label in MODELS:
        decoded = models[(label, split)].reconstruct(hp.pieces[rows])
        y, _ = raw_audio.stitch(decoded, sr=sr, lengths=None if split == "fixed" else hp.lengths[rows], crossfade=0.0)
        recon[(label, split)] = y[: len(original)]
    recon[("original", split)] = original

# %%
spec = LinearSpectrogram(n_fft=512, hop_length=128)
err, sc = {}, {}
for (label, split), y in recon.items():
    if label != "original":
        ref = recon[("original", split)][: len(y)]
        err[(label, split)] = float(np.mean((y - ref) ** 2) / np.var(ref))
        sc[(label, split)] = spectral_convergence(spec.magnitude(ref), spec.magnitude(y))
display(audio_table(
    [(f"{clip.name} ({split} cut, original)", recon[("original", split)]) for split in SPLITS]
    + [(f"{label}, {split}", (recon[(label, split)], {"relative MSE": err[(label, split)],
                                                       "SC (dB)": sc[(label, split)]}))
       for label in MODELS for split in SPLITS],
    sr=sr, title=f"held-out reconstructions, first {SETTINGS['excerpt']:.0f} s"))

# %%
fig = plt.figure(figsize=(3.6 * (len(MODELS) + 1), 5.4))
grid = fig.add_gridspec(2, len(MODELS) + 1)
ax = fig.add_subplot(grid[0, :])
zoom = slice(int(0.5 * sr), int(0.6 * sr))  # 100 ms: the samples themselves
t = np.arange(zoom.start, zoom.stop) / sr
ax.plot(t, recon[("original", "beat")][zoom], "k", lw=1.5, label="original")
for i, label in enumerate(MODELS):
    ax.plot(t, recon[(label, "beat")][zoom], color=f"C{i}", lw=0.9, label=label)
ax.set(xlabel="seconds", ylabel="amplitude", title="100 ms of the waveforms (beat cut)")
ax.legend(fontsize=8, ncol=len(MODELS) + 1)
for col, label in enumerate(["original"] + list(MODELS)):
    plot_spectrogram(spec.magnitude(recon[(label, "beat")]), sr=sr, hop_length=spec.hop_length,
                     ax=fig.add_subplot(grid[1, col]), colorbar=False, title=f"{label} (beat cut)")
fig.tight_layout()

# %% [markdown]
# ## Generation: sampling the latent space
#
# For each model a Gaussian (full covariance) is fitted to the codes of its training pieces; codes
# drawn from it (`TEMPERATURE` scales their spread) are decoded in one batch. Fixed pieces are
# joined as they are, with a 10 ms cross-fade; beat pieces are first stretched back to one beat at
# the corpus's median tempo, so a new piece, and with it whatever onset the model learned to put at
# the start of a piece, falls on every beat.

# %%
latents, clips, infos, generate_seconds = {}, {}, {}, {}
for key, model in models.items():
    label, split = key
    latents[key] = raw_audio.LatentGaussian().fit(model.encode(pieces[split]))
    made = [raw_audio.generate_audio(model, latents[key], sr=sr, seconds=SETTINGS["seconds"], split=split,
                                     tempo=tempo, temperature=TEMPERATURE, seed=SEED + i)
            for i in range(SETTINGS["n_clips"])]
    clips[key] = [y for y, _ in made]
    infos[key] = [info for _, info in made]
    generate_seconds[key] = sum(info["decode_s"] + info["stitch_s"] for info in infos[key])
print(f"tempo of the beat-synchronous clips: {tempo:.1f} BPM (one piece every {60 / tempo:.3f} s); "
      f"fixed clips: one piece every {(N - 0.01 * sr) / sr:.3f} s")
pd.DataFrame([{"model": label, "split": split, "seconds": len(clips[(label, split)][0]) / sr,
               "pieces": info[0]["n_pieces"], "RTF": info[0]["rtf"]}
              for (label, split), info in infos.items()]).set_index(["model", "split"]).round(1)

# %% [markdown]
# ### An interpolation between two pieces
#
# The codes of two held-out beat pieces from different files, and `steps` codes on the straight
# line between them, each decoded into one beat: the VAE's latent space (the first model's in small
# mode) heard as a walk from one piece to the other.

# %%
walker = "VAE" if "VAE" in MODELS else next(iter(MODELS))
vae = models[(walker, "beat")]
hp = held_pieces["beat"]
a = int(np.argmax(hp.source == 0))
b = int(np.argmax(hp.source == hp.source.max())) if hp.source.max() > 0 else len(hp) - 1
ends = vae.encode(hp.pieces[[a, b]])
path = raw_audio.interpolate_codes(ends[0], ends[1], n=SETTINGS["steps"])
walk, _ = raw_audio.generate_audio(vae, latents[(walker, "beat")], sr=sr, seconds=SETTINGS["steps"] * 60 / tempo,
                                   split="beat", tempo=tempo, codes=path)
fig, ax = plt.subplots(figsize=(12, 2.6))
plot_spectrogram(spec.magnitude(walk), sr=sr, hop_length=spec.hop_length, ax=ax, colorbar=False,
                 title=f"{walker}: {SETTINGS['steps']} beats from held-out piece {a} to piece {b}")
display(audio_table([("piece A (held out)", hp.pieces[a]), ("piece B (held out)", hp.pieces[b]),
                     ("walk A -> B", walk)], sr=sr, title=f"interpolation in the {walker}'s latent space"))

# %% [markdown]
# ## Fixed or beat pieces: the card and the ear
#
# Each model's clips (the raw generated audio, nothing post-processed) are scored by the
# musicality card against the training files and the held-out files. The rhythm check measures how
# periodic the onset-strength envelope is (autocorrelation peak at 0.25-1.5 s) relative to the
# held-out music; the pass mark is `card.THRESHOLDS["rhythm"]` (the dashed line below).

# %%
# one card per (model, split)
captioned = {f"{label}, {split} pieces": clips[(label, split)] for label, split in models}
cards = dict(zip(models, compare.card_clips(captioned, training=training_audio, reference=reference, sr=sr,
                                            seed=SEED).values()))
rhythm = {key: c.checks["rhythm"]["value"] for key, c in cards.items()}
rhythm_rows = {label: {f"rhythm, {split}": rhythm[(label, split)] for split in SPLITS}
               | {f"failed, {split}": ", ".join(cards[(label, split)].failed) or "-" for split in SPLITS}
               for label in MODELS}
display(pd.DataFrame.from_dict(rhythm_rows, orient="index").round(2))

fig, ax = plt.subplots(figsize=(6, 3))
x = np.arange(len(MODELS))
for i, split in enumerate(SPLITS):
    ax.bar(x + (i - 0.5) * 0.38, [rhythm[(label, split)] for label in MODELS], 0.38, label=f"{split} pieces")
ax.axhline(card.THRESHOLDS["rhythm"], color="k", ls="--", lw=1, label=f"pass ({card.THRESHOLDS['rhythm']})")
ax.set(xticks=x, xticklabels=list(MODELS), ylabel="card rhythm (1 = as periodic as held-out music)")
ax.legend(fontsize=8)
fig.tight_layout()

# %%
display(audio_table([(f"{label}, {split} pieces", (clips[(label, split)][0][: int(10 * sr)],
                                                    {"rhythm": rhythm[(label, split)]}))
                     for label in MODELS for split in SPLITS],
                    sr=sr, title="the first 10 s of each model's first clip: fixed vs beat pieces"))
for label in MODELS:
    display(cards[(label, "beat")])

# %%
fig, axes = plt.subplots(len(SPLITS), 1, figsize=(12, 4.6), sharex=True)
best = max(MODELS, key=lambda label: rhythm[(label, "beat")])
shown = min(8.0, SETTINGS["seconds"])
for ax, split in zip(axes, SPLITS):
    y = clips[(best, split)][0][: int(shown * sr)]
    plot_spectrogram(spec.magnitude(y), sr=sr, hop_length=spec.hop_length, ax=ax, colorbar=False,
                     title=f"{best}, {split} pieces: first {shown:.0f} s (joins dashed)")
    joins = np.asarray(infos[(best, split)][0]["joins"]) / sr
    plot_beats(joins[joins < shown], ax=ax, color="w", label=None, alpha=0.4)
fig.tight_layout()

# %% [markdown]
# ## Listening: raw and post-processed
#
# `musiclib.postprocess` cleans a clip the way the earlier experiment did by hand: a 30 Hz
# high-pass (the decoders leave some DC and rumble), the steps at the joins smoothed
# (`declick`), fades, and the loudness brought to -14 LUFS (ITU-R BS.1770, pyloudnorm) under a
# -1 dBTP true-peak limit. Both versions play at their own level (no normalisation in the table).
# The card above scored the raw clip, so post-processing cannot hide a failure.

# %%
pp = postprocess_params(highpass_hz=30.0, fade_in=0.01, fade_out=1.0)
listen = {}
for split in SPLITS:
    y = clips[(best, split)][0]
    listen[split] = (y, postprocess(y, sr=sr, **{**pp, "joins": infos[(best, split)][0]["joins"]}))
display(audio_table([(f"{best}, {split} pieces: {kind}",
                      (y, {"LUFS": loudness(y, sr=sr), "true peak (dBTP)": true_peak_db(y)}))
                     for split, pair in listen.items() for kind, y in zip(("raw", "post-processed"), pair)],
                    sr=sr, normalize=False, title=f"{best}: raw and post-processed ({SETTINGS['seconds']:.0f} s)"))

# %% [markdown]
# ## Saved clips
#
# The raw clips of every model and split go to `outputs/07_raw_audio/` with a sidecar that records
# the model, the split, the tempo and the post-processing settings a listener can apply
# (`postprocess(y, sr=sr, **meta["parameters"]["postprocess"])`). The beat-synchronous clips of the
# model with the best rhythm are saved last, so `08_compare` scores them.

# %%
order = [k for k in models if k != (best, "beat")] + [(best, "beat")]
for key in order:
    label, split = key
    saved = outputs.save_clips(
        "07_raw_audio", clips[key], sr=sr,
        representation={"name": "raw", "sr": sr, "n_samples": N, "split": split},
        parameters={"model": label, "split": split, **models[key].get_config(), "tempo_bpm": tempo,
                    "temperature": TEMPERATURE, "epochs": len(histories[key]["loss"]), "mode": MODE,
                    "postprocess": pp},
        seed=SEED, train_seconds=train_seconds[key], generate_seconds=generate_seconds[key])
print("saved under", Path(saved[0]).parent.parent)

# %% [markdown]
# ## Summary

# %%
higher = [label for label in MODELS if rhythm[(label, "beat")] > rhythm[(label, "fixed")]]
median_fixed = float(np.median([rhythm[(label, "fixed")] for label in MODELS]))
median_beat = float(np.median([rhythm[(label, "beat")] for label in MODELS]))
passed = {key: c.passed for key, c in cards.items()}
summary = {
    "mode": MODE,
    "train / held-out files": (len(train), len(held_out)),
    "pieces (fixed, beat)": (len(pieces["fixed"]), len(pieces["beat"])),
    "corpus tempo (BPM)": round(tempo, 1),
    "rhythm, fixed -> beat": {label: (round(rhythm[(label, "fixed")], 2), round(rhythm[(label, "beat")], 2))
                              for label in MODELS},
    "held-out SC dB (fixed, beat)": {label: (round(sc[(label, "fixed")], 1), round(sc[(label, "beat")], 1))
                                     for label in MODELS},
    "cards passed": {f"{k[0]}, {k[1]}": v for k, v in passed.items()},
    "seconds to run this notebook": round(time.perf_counter() - t_start, 1),
}
display(pd.Series(summary, name="value", dtype=object).to_frame())  # every row computed above

verdict = ("higher" if len(higher) == len(MODELS) else "not higher" if not higher else "higher for some models")
print(f"\nBeat-synchronous pieces gave a card rhythm value {verdict} than fixed pieces: "
      f"{len(higher)} of {len(MODELS)} models ({', '.join(higher) or 'none'}), median {median_beat:.2f} "
      f"against {median_fixed:.2f} (pass at {card.THRESHOLDS['rhythm']}). The best beat-synchronous model, {best}, "
      f"reached {rhythm[(best, 'beat')]:.2f}; its card: {cards[(best, 'beat')].verdict()}. "
      f"Held-out reconstructions reached a spectral convergence of {min(sc.values()):.1f} dB at best "
      f"(waveform relative MSE {min(err.values()):.2f}: the phase is not reproduced).")
display(headline(
    f"Beat-synchronous splits gave a card rhythm of {median_beat:.2f} against {median_fixed:.2f} for fixed "
    f"splits (median of {len(MODELS)} raw-audio autoencoders; higher for {len(higher)} of {len(MODELS)}), best {best} at "
    f"{rhythm[(best, 'beat')]:.2f}. {card.no_verdict(cards)}".strip()))

# %% [markdown]
# What the numbers above say, and what they do not:
#
# - Cutting at the beats moves the pieces' onsets to their start; stitched back at one tempo, every
#   generated piece then opens on a beat, which is what the card's rhythm check (periodicity of the
#   onset envelope) rewards. Whether that held for each model is the rhythm table above, and the
#   sentence printed above answers the question with its numbers.
# - Waveform autoencoders this small reconstruct little of held-out audio: the waveform itself is
#   not reproduced (relative MSE at or above 1), and what survives is loudness, the broad spectrum
#   and the attack at the start of a piece (the SC in the reconstruction table). The spectrogram
#   models of notebooks 04-06 keep far more of a sound's timbre for the same training time.
# - The VAE's latent is shaped to be sampled; the plain autoencoders' codes are not, so a Gaussian
#   fitted to them can put samples where the decoder never learned anything (the card's noise and
#   distribution checks show when it does).
#
# [08 · Compare](08_compare.ipynb) scores these clips beside every other approach.
