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
# # 03 · Trees: decision tree, random forest and XGBoost next-frame models, with a beat clock
#
# **Can tree models generate music fast enough, without droning, and does a beat clock and a
# bar-long look-back give their roll-outs a pulse?**
#
# An earlier experiment found trees "excruciatingly slow" and their output "still drones". Both have
# a cause. *Slow*: a tree library's `predict` costs 0.05-25 ms per row and a roll-out calls it 86 times
# per second of audio; here the models work on a few **PCA components** of the frames and, after
# training, their trees are packed into flat arrays that NumPy walks together
# (`musiclib.models.trees.PackedTrees`). *Droning*: a regression tree predicts the **mean** of the
# training frames in a leaf, and averaged predictions fed back in converge to a steady mean frame;
# **sampling** a training example from the leaf (scikit-learn trees) or adding a training residual
# (XGBoost) with a temperature restores the movement.
#
# Four frames of context (46 ms) are far shorter than a beat, so such a model cannot keep time. Each
# model here also sees a **look-back summary** of the last bar (max, min and mean of every component
# over one bar at the corpus tempo, and which components were loudest), and the clock variant adds
# the **beat clock**: the phase of the frame to predict within its beat and bar, from beat tracking of
# the training songs (`musiclib.beats`), driven at generation time by a steady clock at the corpus's
# median tempo. The same models are trained with and without the clock and compared by ear, by their
# onset strength and by the musicality card's rhythm check.

# %% tags=["parameters"]
MODE = "demo"  # "small" (CI, seconds, sonic-pi-samples), "demo" (2 cores, under 2.5 minutes, nexuiz-music), "full"
SEED = 0
CORPUS_DIR = None  # None: the corpus for MODE (or $MUSICLIB_DATA); else a folder of audio files
TEMPERATURE = 1.0  # temperature of the clips (leaf sampling / residual noise)
BPM = None  # tempo of the generation clock; None: the training songs' median tempo

# %%
SETTINGS = {
    # max_duration / excerpt: seconds read per file and where from; context: frames the models see;
    # n_components: PCA components per frame; harmonics: of the beat and bar phase in the clock's
    # inputs; stride: every stride-th training pair; tree / forest / xgboost: settings per family;
    # n_clips / prime / seconds: clips per model, seconds of held-out audio primed with and generated
    "small": {"max_duration": 3.0, "excerpt": "start", "context": 4, "n_components": 8, "harmonics": 4, "stride": 1,
              "tree": {"max_depth": 6}, "forest": {"n_estimators": 4, "max_depth": 6},
              "xgboost": {"n_estimators": 5, "max_depth": 3},
              "n_clips": 2, "prime": 0.5, "seconds": 2.0},
    "demo": {"max_duration": 30.0, "excerpt": "middle", "context": 4, "n_components": 16, "harmonics": 8,
             "stride": 2, "tree": {"max_depth": 12}, "forest": {"n_estimators": 10, "max_depth": 12},
             "xgboost": {"n_estimators": 15, "max_depth": 4},
             "n_clips": 3, "prime": 1.0, "seconds": 8.0},
    "full": {"max_duration": 60.0, "excerpt": "middle", "context": 8, "n_components": 32, "harmonics": 8,
             "stride": 1, "tree": {"max_depth": 14}, "forest": {"n_estimators": 50, "max_depth": 14},
             "xgboost": {"n_estimators": 200, "max_depth": 6},
             "n_clips": 4, "prime": 2.0, "seconds": 20.0},
}[MODE]
SETTINGS

# %%
from musiclib.display import audio_table, headline, raw_and_processed, setup_notebook

rng = setup_notebook(seed=SEED)

import time

import numpy as np
import pandas as pd
from IPython.display import display

from musiclib import generate
from musiclib.evaluation import card, compare, sweep
from musiclib.framing import Framing, frame_scaler, load_next_frame_data, transform_each
from musiclib.models.trees import DecisionTreeNextFrame, RandomForestNextFrame, XGBoostNextFrame
from musiclib.postprocess import postprocess_params
from musiclib.tools import data, outputs

t_start = time.perf_counter()

# %% [markdown]
# ## Data: frames reduced to principal components, and the beats
#
# The corpus for `MODE` (the 17 songs of nexuiz-music in demo mode, `max_duration` seconds from the
# middle of each; the Sonic Pi loops in small mode) is split by file. Frames are in the series'
# representation (`generate.DEFAULT_REPRESENTATION`, chosen in `01_spectrogram_settings`; its decode
# ceiling on a held-out clip bounds every model below), standardised and projected onto their first
# principal components, both fitted on the training files only; the trees predict those components
# and the roll-out maps them back. Every file's beats are tracked (`beats.track_beats`).

# %%
rep = generate.default_representation()
nf = load_next_frame_data(CORPUS_DIR or data.default_corpus_dir(mode=MODE), rep,
                          max_duration=SETTINGS["max_duration"], excerpt=SETTINGS["excerpt"], seed=SEED, clock=True)
bar = max(SETTINGS["context"], nf.bar_frames())  # frames of the look-back: one bar at the corpus tempo
fps, sr, train, held_out = rep.frames_per_second, nf.sr, nf.train, nf.held_out
bpm = BPM or nf.tempo
print(nf.describe())
print(f"the clock runs at {bpm:.1f} BPM; one bar = {bar} frames ({bar / fps:.2f} s)")
ceiling = sweep.decode_ceiling(nf.prime_clip.y, sr=sr, rep=rep, **generate.GENERATION_INVERSION)["sc_db"]
print(f"decode ceiling of the representation on {nf.prime_clip.name}: SC {ceiling:.1f} dB")

pca = frame_scaler(nf.train_frames, n_components=SETTINGS["n_components"], seed=SEED)
z_train, z_held = transform_each(pca, nf.train_frames), transform_each(pca, nf.held_frames)
guard = generate.StabilityGuard.fit(nf.train_frames, rep)
print(f"{SETTINGS['n_components']} components explain {pca[-1].explained_variance_ratio_.sum():.1%} of the "
      "standardised training variance")

# %% [markdown]
# ## Three families, with and without the clock
#
# Every model is multi-output (one tree predicts the whole frame of components, so a sampled leaf
# example is a whole frame that really followed a similar context). Both variants read the context
# and the bar-long summary rows; the clock variant also reads `harmonics` harmonics of the beat and
# bar phase of the frame to predict. Training time, held-out one-step error (PCA units; "repeat last
# frame" for scale) and trees walked per frame:

# %%
framings = {
    "no clock": Framing(context=SETTINGS["context"], lookback=bar, summary=True),
    "clock": Framing(context=SETTINGS["context"], lookback=bar, summary=True, clock=True,
                     harmonics=SETTINGS["harmonics"]),
}
phases = {"no clock": (None, None), "clock": (nf.train_phases, nf.held_phases)}
FAMILIES = {"tree": DecisionTreeNextFrame, "forest": RandomForestNextFrame, "xgboost": XGBoostNextFrame}
models, train_seconds, mse = {}, {}, {}
for variant, framing in framings.items():
    X, Y = framing.dataset(z_train, phases=phases[variant][0], stride=SETTINGS["stride"])
    Xh, Yh = framing.dataset(z_held, phases=phases[variant][1])
    for family, cls in FAMILIES.items():
        label = f"{family}, {variant}"
        models[label] = cls(per_output=False, seed=SEED, **SETTINGS[family]).fit(X, Y)
        train_seconds[label] = models[label].fit_seconds_
        mse[label] = float(np.mean((models[label].predict(Xh) - Yh) ** 2))
mse["repeat last frame"] = float(np.mean((Xh[:, SETTINGS["context"] - 1] - Yh) ** 2))
print(f"{len(X)} training pairs of {X.shape[1]} rows x {X.shape[2]} components (clock variant)")
pd.DataFrame({"train s": train_seconds, "trees": {k: m.n_trees for k, m in models.items()},
              "held-out MSE": mse}).round(3)

# %% [markdown]
# ## Clips
#
# Each model continues the first `prime` seconds of `n_clips` held-out songs at `TEMPERATURE`, with
# the stability guard on; only the generated audio is kept. A clip's clock starts from its prime's
# own tracked beat and bar phase and runs on at the clock's tempo (`generate.continue_clock`).
# The drone is measured as the mean frame-to-frame change (`generate.mean_frame_change_db`, dB):
# temperature 0 (the trees' mean prediction) against `TEMPERATURE` and real held-out music.

# %%
n_prime = max(bar, int(SETTINGS["prime"] * fps))
primes = [(f[:n_prime], p[:n_prime]) for f, p in zip(nf.held_frames, nf.held_phases) if len(f) > n_prime]
primes = primes[: SETTINGS["n_clips"]]
# the first of those songs' own next seconds, to listen to beside the clips
real_name, real = compare.real_continuation(held_out.clips, start=n_prime * rep.hop_length,
                                           n_samples=int(SETTINGS["seconds"] * sr))
clips, frames_of, gen = {}, {}, {}
for label, model in models.items():
    variant = label.split(", ")[1]
    clock = variant == "clock"
    clips[label], frames_of[label], gen[label] = generate.generate_clips(
        model, [p for p, _ in primes], rep, seconds=SETTINGS["seconds"], temperature=TEMPERATURE, guard=guard,
        scaler=pca, framing=framings[variant], seed=SEED, bpm=bpm if clock else None,
        prime_phases=[ph for _, ph in primes] if clock else None)
n_gen = len(frames_of["tree, no clock"][0])
change = {label: {"T=0": generate.mean_frame_change_db(generate.rollout(
              models[label], primes[0][0], n_frames=n_gen, temperature=0.0, guard=guard, scaler=pca,
              framing=framings["no clock"], seed=SEED, progress=False), rep),
          f"T={TEMPERATURE}": np.mean([generate.mean_frame_change_db(f, rep) for f in frames_of[label]])}
          for label in models if label.endswith("no clock")}
real_change = float(np.mean([generate.mean_frame_change_db(f, rep) for f in nf.held_frames]))
print(f"frame change of real held-out music: {real_change:.2f} dB")
pd.DataFrame(change).T.round(2)

# %% [markdown]
# ## Listening
#
# The first clip of each model, beside the held-out song it continues (its next seconds).

# %%
display(audio_table(compare.first_clips(clips, real=(real_name, real), suffix=f" (T={TEMPERATURE})"), sr=sr,
                    title="the tree models, without and with the clock"))

# %% [markdown]
# Raw and post-processed: the card scores the raw clips; `musiclib.postprocess` (a 30 Hz high-pass,
# fades, -14 LUFS under a -1 dBTP true-peak limit) is what a listener would publish. The settings are
# saved with the clips.

# %%
POSTPROCESS = postprocess_params(highpass_hz=30.0, fade_in=0.01, fade_out=1.0)
display(raw_and_processed(compare.first_clips(clips), sr=sr, **POSTPROCESS,
                          title="the first clip of each model, raw and post-processed"))

# %%
first_frames = {f"real: {real_name}": rep.encode(real)} | {label: f[0] for label, f in frames_of.items()}
axes = compare.plot_frames(first_frames, rep, title="spectrograms of the first clip of each model", height=1.7)

# %% [markdown]
# ## The musicality card
#
# Each model's clips against the training songs and the held-out songs
# (`musiclib.evaluation.card`); the rhythm check compares the periodicity of the clips' onset
# strength, above chance, with that of real held-out music.

# %%
reference = [c.y for c in held_out.clips if len(c.y) >= 1.5 * sr]
training_audio = [c.y for c in train.clips if len(c.y) >= 1.5 * sr]
cards = compare.card_clips(clips, training=training_audio, reference=reference, sr=sr, seed=SEED, prefix="03")
compare.card_frame(cards, decode_ceiling=ceiling, index_name="model").round(2)

# %%
best = max(FAMILIES, key=lambda f: cards[f"{f}, clock"].checks["rhythm"]["value"])
for variant in framings:
    display(cards[f"{best}, {variant}"])

# %% [markdown]
# ## Where the energy falls: onset strength against the clock
#
# The onset strength (`librosa.onset.onset_strength`) of the first clip of the family whose clock
# variant has the highest rhythm value, without and with the clock; the clock's beats are marked.

# %%
beat_times = generate.clock_beats(gen[f"{best}, clock"]["clocks"][0][n_prime:], frames_per_second=fps)
axes = compare.plot_onset_strength({f"{best}, {variant}": clips[f"{best}, {variant}"][0] for variant in framings},
                                   sr=sr, beat_times=beat_times, bpm=bpm)

# %% [markdown]
# ## Measured results and saved clips
#
# Real-time factor = seconds of audio / seconds of roll-out and inversion (`benchmarks/generate.py`
# measures the same on fixed settings). The clips are saved with the model and variant in their
# parameters (`08_compare` shows one row per model and variant).

# %%
results = pd.DataFrame({
    label: {"train s": train_seconds[label], "roll-out ms/frame": 1e3 * gen[label]["rollout_s"] / (n_gen * len(primes)),
            "RTF": gen[label]["rtf"],
            "frame change dB": np.mean([generate.mean_frame_change_db(f, rep) for f in frames_of[label]]),
            "rhythm": cards[label].checks["rhythm"]["value"], "rhythm passed": cards[label].checks["rhythm"]["passed"]}
    for label in models}).T
display(results)

saved = {}
for label in models:
    family, variant = label.split(", ")
    saved[label] = outputs.save_clips(
        "03_trees", clips[label], sr=sr, representation=rep,
        parameters={"model": family, "variant": variant, "clock_bpm": bpm if variant == "clock" else None,
                    "context": SETTINGS["context"], "lookback": bar, "n_components": SETTINGS["n_components"],
                    "harmonics": SETTINGS["harmonics"] if variant == "clock" else None, family: SETTINGS[family],
                    "temperature": TEMPERATURE, "mode": MODE, "inversion": generate.GENERATION_INVERSION,
                    "decode_ceiling_sc_db": ceiling, "postprocess": POSTPROCESS},
        seed=SEED, train_seconds=train_seconds[label], generate_seconds=gen[label]["rollout_s"] + gen[label]["inversion_s"])
print("saved:", {k: len(v) for k, v in saved.items()}, "clips under", saved[label][0].parent.parent)

# %% [markdown]
# ## Summary

# %%
rhythm = {label: cards[label].checks["rhythm"] for label in models}
passing = [label for label in models if label.endswith(", clock") and rhythm[label]["passed"]]
summary = {
    "mode": MODE,
    "training audio (s)": round(sum(map(len, nf.train_frames)) / fps),
    "clock tempo (BPM)": round(bpm, 1),
    "rhythm without / with the clock": {f: (round(rhythm[f"{f}, no clock"]["value"], 2),
                                            round(rhythm[f"{f}, clock"]["value"], 2)) for f in FAMILIES},
    "rhythm threshold": rhythm[f"{best}, clock"]["threshold"],
    "frame change T=0 / T=1 / real (dB, median over families)": (
        round(float(np.median([v["T=0"] for v in change.values()])), 2),
        round(float(np.median([v[f"T={TEMPERATURE}"] for v in change.values()])), 2), round(real_change, 2)),
    "cards failing blow-up": [label for label, c in cards.items() if c.checks["blowup"]["passed"] is False],
    "slowest generation (x real time, with inversion)": round(min(g["rtf"] for g in gen.values()), 1),
    "seconds to run this notebook": round(time.perf_counter() - t_start, 1),
}
display(pd.Series(summary, name="value", dtype=object).to_frame())  # every row computed above

# %%
display(headline(
    f"With a beat clock at {bpm:.0f} BPM the {best}'s rhythm value goes from "
    f"{compare.check_change(cards[f'{best}, no clock'], cards[f'{best}, clock'], 'rhythm')}; {len(passing)} of {len(FAMILIES)} tree families pass rhythm "
    f"with the clock, and {len(summary['cards failing blow-up'])} of {len(cards)} models fail blow-up. "
    f"{card.no_verdict(cards)}".strip()))

# %% [markdown]
# - Trees are not slow when they are used as a generator should use them: on a few PCA components,
#   with all trees packed and walked together, a frame costs about a millisecond or less (the
#   "roll-out ms/frame" column), and a clip with its inversion is made faster than real time (the
#   slowest model's factor is in the summary).
# - The drone is real and measurable: the trees' mean prediction fed back in loses most of the
#   frame-to-frame change of real music (the T=0 column against the real music's); sampling a
#   training example from the leaf, or a residual for XGBoost, restores it.
# - The clock tells each tree where in the bar the frame to predict falls, so a sampled leaf example
#   comes from frames at the same place in the bar of the training songs; the card's rhythm values
#   above measure whether that gives the clips a pulse, and the onset-strength plot shows where their
#   attacks fall against the clock's beats.
# - Every model here is bounded by the representation's decode ceiling, printed beside the cards.
