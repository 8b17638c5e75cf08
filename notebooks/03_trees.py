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
# # 03 · Trees: decision tree, random forest and XGBoost next-frame models
#
# **Can tree models predict the next spectrogram frame fast enough to generate music, and can we
# stop them droning?**
#
# An earlier experiment found trees "excruciatingly slow" and their output "still drones"; a
# multi-output tree gave "a steady droning output". Both have a cause:
#
# - *slow*: a tree library's `predict` costs 0.05-25 ms for a single row (input checks, a Python loop
#   over the trees), and a roll-out calls it once per frame, 86 times per second of audio. Here the
#   models work on a few **PCA components** of the frames, and after training all their trees are
#   packed into flat arrays that NumPy walks together (`musiclib.models.trees.PackedTrees`).
# - *droning*: a regression tree predicts the **mean** of the training frames in a leaf; averaged
#   predictions fed back in converge to a steady mean frame. We measure the drone as the
#   frame-to-frame **spectral flux** (mean change per frame in dB) of generated versus real audio,
#   and reduce it by **sampling** (a training example from the leaf instead of the leaf mean), a
#   **temperature** between the two, and a **richer context** (look-back summary features).
#
# We compare one model per output (one per PCA component) with one multi-output model, for each of
# the three families.

# %% tags=["parameters"]
MODE = "demo"  # "small" (CI, seconds), "demo" (a 2-core laptop, a couple of minutes), "full" (longer)
SEED = 0
CORPUS_DIR = None  # None: the default corpus (or $MUSICLIB_DATA); else a folder of audio files
PRIME_FILE = None  # None: the longest held-out loop; else a held-out file name or stem
TEMPERATURE = 1.0  # temperature of the clips compared at the end

# %%
SETTINGS = {
    # max_duration: seconds read per file; context: frames the models see; n_components: PCA
    # components per frame; models: settings per family; lookback: the summary window of the
    # richer context; prime / seconds: seconds primed with and generated
    "small": {"max_duration": 3.0, "context": 4, "n_components": 8, "lookback": 16,
              "tree": {"max_depth": 6}, "forest": {"n_estimators": 4, "max_depth": 6},
              "xgboost": {"n_estimators": 10, "max_depth": 3},
              "prime": 0.5, "seconds": 2.0, "temperatures": (0.0, 1.0)},
    "demo": {"max_duration": None, "context": 4, "n_components": 16, "lookback": 32,
             "tree": {"max_depth": 10}, "forest": {"n_estimators": 10, "max_depth": 10},
             "xgboost": {"n_estimators": 60, "max_depth": 5},
             "prime": 1.0, "seconds": 8.0, "temperatures": (0.0, 0.5, 1.0)},
    "full": {"max_duration": None, "context": 8, "n_components": 32, "lookback": 64,
             "tree": {"max_depth": 14}, "forest": {"n_estimators": 50, "max_depth": 14},
             "xgboost": {"n_estimators": 200, "max_depth": 6},
             "prime": 2.0, "seconds": 20.0, "temperatures": (0.0, 0.25, 0.5, 0.75, 1.0)},
}[MODE]
SETTINGS

# %%
import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from IPython.display import display

from musiclib import generate
from musiclib.tools import data, outputs
from musiclib.display import audio_table, plot_representation, setup_notebook
from musiclib.framing import Chain, FramePCA, FrameScaler, Framing, load_next_frame_data
from musiclib.models.trees import DecisionTreeNextFrame, RandomForestNextFrame, XGBoostNextFrame

rng = setup_notebook(seed=SEED)
t_start = time.perf_counter()

# %% [markdown]
# ## Data: log-mel frames, reduced to principal components
#
# The representation is the series' default (`generate.DEFAULT_REPRESENTATION`, 128 log-mel bands;
# see [02](02_linear_regression.ipynb) for why). Frames are standardised and projected onto their
# first principal components, both fitted on the training files only; the trees predict those
# components, and the roll-out maps them back to mel frames.

# %%
rep = generate.default_representation()
nf = load_next_frame_data(Path(CORPUS_DIR) if CORPUS_DIR else data.default_corpus_dir(), rep,
                          max_duration=SETTINGS["max_duration"], seed=SEED, prime_file=PRIME_FILE)
corpus, train, held_out, sr = nf.corpus, nf.train, nf.held_out, nf.sr
train_frames, held_frames, prime_clip = nf.train_frames, nf.held_frames, nf.prime_clip
y_ref = prime_clip.y
frames_ref = rep.encode(y_ref)

pca = Chain(FrameScaler(), FramePCA(SETTINGS["n_components"], seed=SEED)).fit(train_frames)
framing = Framing(context=SETTINGS["context"])
X, Y = framing.dataset(pca.transform(train_frames))
Xh, Yh = framing.dataset(pca.transform(held_frames))
guard = generate.StabilityGuard.fit(train_frames, rep)
print(f"{len(train)} train files, {len(held_out)} held out; prime: {prime_clip.name}")
print(f"{SETTINGS['n_components']} components explain {pca.steps[1].explained_variance_ratio_:.1%} of the "
      f"standardised training variance; {len(X)} training pairs of {X.shape[1]} x {X.shape[2]}")

# %% [markdown]
# ## Six models: three families, per output or multi-output
#
# Training time, held-out one-step error (in PCA units; "repeat last frame" for scale) and the
# number of trees each model walks per generated frame.

# %%
FAMILIES = {"tree": DecisionTreeNextFrame, "forest": RandomForestNextFrame, "xgboost": XGBoostNextFrame}
models, train_seconds, mse = {}, {}, {}
for family, cls in FAMILIES.items():
    for per_output in (True, False):
        label = f"{family}, {'per output' if per_output else 'multi-output'}"
        m = cls(per_output=per_output, seed=SEED, **SETTINGS[family]).fit(X, Y)
        models[label], train_seconds[label] = m, m.fit_seconds_
        mse[label] = float(np.mean((m.predict(Xh) - Yh) ** 2))
mse_repeat = float(np.mean((Xh[:, -1] - Yh) ** 2))
print(f"{'model':<26}{'train s':>9}{'trees':>7}{'held-out MSE':>14}")
for label, m in models.items():
    print(f"{label:<26}{train_seconds[label]:>9.2f}{m.n_trees:>7}{mse[label]:>14.3f}")
print(f"{'repeat last frame':<26}{'':>9}{'':>7}{mse_repeat:>14.3f}")

# %% [markdown]
# ## Generation speed
#
# One clip of `seconds` from a held-out prime, with the guard on, timed as roll-out and inversion to
# audio (`benchmarks/generate.py` does the same on fixed settings, median of several runs).

# %%
prime = frames_ref[: max(framing.history, int(SETTINGS["prime"] * rep.frames_per_second))]
n_gen = int(SETTINGS["seconds"] * rep.frames_per_second)
gen_seconds, rolled = {}, {}
for label, m in models.items():
    t0 = time.perf_counter()
    fr = generate.rollout(m, prime, n_frames=n_gen, temperature=0.0, guard=guard, scaler=pca, seed=SEED,
                          progress=False)
    t1 = time.perf_counter()
    generate.frames_to_audio(fr, rep, seed=SEED)
    t2 = time.perf_counter()
    gen_seconds[label], rolled[label] = (t1 - t0, t2 - t1), fr
    print(f"{label:<26} roll-out {1e3 * (t1 - t0) / n_gen:5.2f} ms/frame, {SETTINGS['seconds'] / (t2 - t0):5.0f}x real time with inversion")

# %% [markdown]
# ## The drone, measured and reduced
#
# Spectral flux (dB per frame) of roll-outs against the flux of the real held-out music:
#
# - **mean** (temperature 0): the trees' point prediction;
# - **sampled**: scikit-learn trees return a training example from the leaf they reach, in a randomly
#   chosen tree, mixed with the mean by the temperature (`(1 - T) mean + T example`). XGBoost's
#   boosted leaves are corrections, not examples, so it gets the roll-out's residual noise instead
#   (a training residual times T);
# - **richer context**: the same models with look-back summary rows (max, min, mean over
#   `lookback` frames and the loudest components).

# %%
real_flux = float(np.mean([generate.spectral_flux(f, rep) for f in held_frames if len(f) > 2]))
flux = {label: {} for label in models}
for label, m in models.items():
    for T in SETTINGS["temperatures"]:
        fr = rolled[label] if T == 0 else generate.rollout(m, prime, n_frames=n_gen, temperature=T, guard=guard,
                                                            scaler=pca, seed=SEED, progress=False)
        flux[label][T] = generate.spectral_flux(fr, rep)

rich = Framing(context=SETTINGS["context"], lookback=SETTINGS["lookback"], summary=True)
Xr, Yr = rich.dataset(pca.transform(train_frames))
prime_rich = frames_ref[: max(rich.history, len(prime))]
rich_models, rich_flux = {}, {}
for family in ("tree", "forest"):
    label = f"{family}, multi-output, look-back"
    m = FAMILIES[family](per_output=False, seed=SEED, **SETTINGS[family]).fit(Xr, Yr)
    rich_models[label], train_seconds[label] = m, m.fit_seconds_
    rich_flux[label] = {T: generate.spectral_flux(generate.rollout(
        m, prime_rich, n_frames=n_gen, temperature=T, guard=guard, scaler=pca, framing=rich, seed=SEED,
        progress=False), rep) for T in SETTINGS["temperatures"]}

table = {**flux, **rich_flux}
print(f"{'model':<34}" + "".join(f"{f'T={T}':>9}" for T in SETTINGS["temperatures"]))
for label, row in table.items():
    print(f"{label:<34}" + "".join(f"{row[T]:>9.2f}" for T in SETTINGS["temperatures"]))
print(f"{'real held-out music':<34}{real_flux:>9.2f}")

fig, ax = plt.subplots(figsize=(10, 3.2))
for label, row in table.items():
    ax.plot(list(row), list(row.values()), marker="o", label=label)
ax.axhline(real_flux, color="k", ls="--", label="real music")
ax.set(xlabel="temperature", ylabel="spectral flux (dB / frame)", yscale="log",
       title="the drone (low flux) and how sampling removes it")
ax.legend(fontsize=7, ncol=2)
fig.tight_layout()

# %% [markdown]
# ## Clips and a continuation of a held-out loop
#
# For listening we take, per family, the model whose flux at `TEMPERATURE` is closest to real
# music's, plus the multi-output decision tree's mean roll-out (the drone). The continuation primes
# the best of them with the first seconds of the held-out loop.

# %%
def closeness(label):
    return abs(np.log(table[label][TEMPERATURE] / real_flux)) if TEMPERATURE in table[label] else np.inf


all_models = {**models, **rich_models}
chosen = {}
for family in FAMILIES:
    options = [label for label in all_models if label.startswith(family)]
    chosen[family] = min(options, key=closeness)
best = min(chosen.values(), key=closeness)
framing_of = {label: (rich if label in rich_models else framing) for label in all_models}

clips, frames_of = {}, {}
for family, label in chosen.items():
    p = prime_rich if label in rich_models else prime
    fr = generate.rollout(all_models[label], p, n_frames=n_gen, temperature=TEMPERATURE, guard=guard, scaler=pca,
                          framing=framing_of[label], seed=SEED, progress=False)
    clips[f"{label}, T={TEMPERATURE}"] = generate.frames_to_audio(fr, rep, seed=SEED)
    frames_of[f"{label}, T={TEMPERATURE}"] = fr
drone = rolled["tree, multi-output"]
clips["tree, multi-output, T=0: the drone"] = generate.frames_to_audio(drone, rep, seed=SEED)
frames_of["tree, multi-output, T=0: the drone"] = drone

prime_s = min(max(SETTINGS["prime"], (framing_of[best].history + 4) / rep.frames_per_second), len(y_ref) / sr - 0.25)
t0 = time.perf_counter()
continuation = generate.continue_audio(all_models[best], rep, y_ref, sr=sr, start=0.0, prime_seconds=prime_s,
                                       seconds=SETTINGS["seconds"], scaler=pca, framing=framing_of[best], guard=guard,
                                       temperature=TEMPERATURE, seed=SEED, progress=False)
continuation_seconds = time.perf_counter() - t0
seam = int(round(prime_s * sr))
assert np.array_equal(continuation[:seam], y_ref[:seam])  # the prime is returned unchanged
print(f"continuation by {best}: {prime_s:.2f} s of {prime_clip.name} + {SETTINGS['seconds']} s in {continuation_seconds:.2f} s")

# %% [markdown]
# ## Listening

# %%
display(audio_table({f"real: {prime_clip.name}": y_ref, **clips,
                     f"continuation, {best} (seam at {prime_s:.2f} s)": continuation},
                    sr=sr, title="generated by the tree models"))

# %%
show = {f"real: {prime_clip.name}": frames_ref, **frames_of, f"continuation, {best}": rep.encode(continuation)}
fig, axes = plt.subplots(len(show), 1, figsize=(11, 1.9 * len(show)))
for ax, (label, fr) in zip(axes, show.items()):
    plot_representation(fr, rep, ax=ax, title=label, colorbar=False)
    if label.startswith("continuation"):
        ax.axvline(prime_s, color="w", ls="--", lw=1)
fig.tight_layout()

# %% [markdown]
# ## Measured results

# %%
print(f"{'model':<34}{'train s':>9}{'roll-out s':>12}{'invert s':>10}{'RTF':>7}{'flux T=0':>11}"
      f"{'flux T=' + str(TEMPERATURE):>13}")
for label in all_models:
    row = table[label]
    if label in gen_seconds:
        r, i = gen_seconds[label]
        speed = f"{r:>12.3f}{i:>10.3f}{SETTINGS['seconds'] / (r + i):>7.0f}"
    else:  # the look-back models were timed only as part of the flux sweep
        speed = f"{'-':>12}{'-':>10}{'-':>7}"
    print(f"{label:<34}{train_seconds[label]:>9.2f}{speed}{row[0.0]:>11.2f}{row.get(TEMPERATURE, np.nan):>13.2f}")
print(f"real held-out music flux: {real_flux:.2f} dB/frame")

# %% [markdown]
# ## Saved clips and the musicality card

# %%
saved = outputs.save_clips(
    "03_trees", [*clips.values(), continuation[seam:]], sr=sr, representation=rep,
    parameters={"models": [*clips, f"continuation, {best}"], "context": SETTINGS["context"],
                "n_components": SETTINGS["n_components"], "lookback": SETTINGS["lookback"],
                **{f: SETTINGS[f] for f in FAMILIES}, "temperature": TEMPERATURE,
                "inversion": generate.GENERATION_INVERSION, "mode": MODE},
    seed=SEED, train_seconds=sum(train_seconds.values()),
    generate_seconds=sum(sum(v) for v in gen_seconds.values()) + continuation_seconds)
print("saved:", [p.name for p in saved], "in", saved[0].parent)

# %%
try:
    from musiclib.evaluation import card
except ImportError:  # the card module is optional for this notebook
    card = None
if card is not None:
    reference = [c.y for c in held_out.clips if len(c.y) >= 1.5 * sr] or [y_ref]
    training_audio = [c.y for c in train.clips if len(c.y) >= 1.5 * sr]
    features = {}
    for label in (f"{chosen[f]}, T={TEMPERATURE}" for f in FAMILIES):
        display(card.musicality_card([clips[label]], training=training_audio, reference=reference, sr=sr,
                                     label=f"03 {label}", seed=SEED, features=features))
    display(card.musicality_card([clips["tree, multi-output, T=0: the drone"]], training=training_audio,
                                 reference=reference, sr=sr, label="03 the drone (T=0)", seed=SEED, features=features))

# %% [markdown]
# ## Summary

# %%
summary = {
    "mode": MODE,
    "training seconds (max over models)": round(max(train_seconds.values()), 1),
    "flux at T=0 / at T=1 (median over models) / real": (
        round(float(np.median([r[0.0] for r in table.values()])), 2),
        round(float(np.median([r[max(SETTINGS["temperatures"])] for r in table.values()])), 2), round(real_flux, 2)),
    "slowest generation (x real time, with inversion)": round(min(SETTINGS["seconds"] / sum(v) for v in gen_seconds.values()), 1),
    "continued with": best,
    "seconds to run this notebook": round(time.perf_counter() - t_start, 1),
}
for k, v in summary.items():
    print(f"{k:>50}: {v}")

# %% [markdown]
# - Trees are not slow when they are used as a generator should use them: on a few PCA components,
#   with all trees packed and walked together, one frame costs well under a millisecond, and the
#   whole clip, inversion included, is made many times faster than real time.
# - The drone is real and measurable: mean predictions from trees fed back in lose most of the
#   frame-to-frame change of real music (a flux far below the real music's). Sampling a training
#   example from the leaf restores it, and the temperature sets how much; a per-output model samples
#   each component from a different example, a multi-output model returns whole frames that really
#   followed a similar context.
# - Richer context (look-back summaries) changes which leaf a frame lands in, not the averaging, so it
#   matters less than sampling.
#
# **Previous:** [02 · Linear regression](02_linear_regression.ipynb) · **Next:** [04 · Sequence models](04_lstm.ipynb)
