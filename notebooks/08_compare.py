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
# # 08 · Comparing the approaches
#
# **Which approach makes the most music-like audio, measured rather than judged by ear, and at what cost in time?**
#
# Every generating notebook (02-07) saves its clips with a small JSON sidecar under `outputs/`
# (`musiclib.tools.outputs`). This notebook loads the latest run of every **model** there (04 alone
# trains seven; a model with and without the beat clock makes two rows) and puts each through the same
# **musicality card** (`musiclib.evaluation.card`): eleven checks, each named after a failure the
# earlier experiments met -- noise, drones, blow-ups, clipping, dropouts, no pulse, a wandering tempo,
# frames with no order, copying the training data, and several clips that are really one clip.
# Next to the models stand three baselines that need no model at all: noise shaped with the corpus's
# average spectrum, the training audio's STFT frames in random order, and a verbatim excerpt of
# training audio. A model earns its training time by beating the first two without turning into the
# third.
#
# The card's thresholds were calibrated on data (`musiclib.evaluation.calibration`): on synthetic
# music, the Sonic Pi loops and excerpts of the Nexuiz songs, held-out real music passes every check,
# and each failure case -- white and shaped noise, a sustained chord, a held tone under flickering low
# bands, an exponentially growing signal, silence, a training excerpt, identical clips, shuffled
# frames and a gliding tempo -- fails the check named for it.

# %% tags=["parameters"]
MODE = "demo"  # "small" (CI, seconds), "demo" (a laptop, a minute), "full" (everything)
SEED = 0
CORPUS_DIR = None  # None: the mode's default corpus (or $MUSICLIB_DATA); else a folder of audio files
OUTPUTS_DIR = None  # None: $MUSICLIB_OUTPUTS or <repo>/outputs

# %%
SETTINGS = {
    # max_duration: seconds read per corpus file (the middle of a song); n_baseline / baseline_seconds:
    # clips per baseline (the tempo check needs 6 s); show_seconds: seconds of each clip heard and shown
    "small": {"max_duration": 8.0, "n_baseline": 2, "baseline_seconds": 3.0, "show_seconds": 3.0},
    "demo": {"max_duration": 20.0, "n_baseline": 3, "baseline_seconds": 8.0, "show_seconds": 6.0},
    "full": {"max_duration": 60.0, "n_baseline": 5, "baseline_seconds": 15.0, "show_seconds": 10.0},
}[MODE]
SETTINGS

# %%
import time

import librosa
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import display

from musiclib.corpus import load_corpus
from musiclib.display import audio_table, headline, plot_spectrogram, setup_notebook
from musiclib.evaluation import baselines, card, compare
from musiclib.tools import data, outputs

rng = setup_notebook(seed=SEED)
t_start = time.perf_counter()

# %% [markdown]
# ## The yardsticks: training and held-out music
#
# The same split by file as every other notebook (`Corpus.split(held_out=0.2, seed=SEED)`): the card
# measures copying against the **training** files and everything else against the **held-out** ones,
# which no model has heard. Demo mode measures against the real songs of `nexuiz-music`
# (`data.default_corpus_dir(mode=MODE)`), the middle of each; small mode against the Sonic Pi loops
# (only the loops when the corpus has them: a cymbal one-shot is not music to compare with).

# %%
root = CORPUS_DIR or data.default_corpus_dir(mode=MODE)
corpus = load_corpus(root, max_duration=SETTINGS["max_duration"], excerpt="middle", progress=False)
SR = corpus.sr
train, held_out = corpus.split(held_out=0.2, seed=SEED)
has_loops = any(c.path.stem.startswith("loop_") for c in corpus.clips)


def is_music(clip):
    """Long enough for the card, and a loop when the corpus has loops (a cymbal one-shot is no music)."""
    return clip.duration >= card.MIN_CLIP_SECONDS and (clip.path.stem.startswith("loop_") or not has_loops)


training = [c.y for c in train.clips if is_music(c)]
reference = [c.y for c in held_out.clips if is_music(c)]
print(f"corpus: {root}")
print(f"training: {len(training)} clips, {sum(map(len, training)) / SR:.0f} s")
print(f"reference (held out): {len(reference)} clips, {sum(map(len, reference)) / SR:.0f} s: "
      + ", ".join(c.path.name for c in held_out.clips if is_music(c)))

# %% [markdown]
# ## What the approaches left in `outputs/`
#
# The latest run in this `MODE` of every model of every approach (`compare.model_runs`); rows are told apart by the
# run's `parameters["model"]`, `parameters["variant"]` and `parameters["clock"]`. The comparison
# works with any subset: an approach that has not been run yet is listed as missing.

# %%
runs = compare.model_runs(OUTPUTS_DIR, sr=SR, mode=MODE)  # this mode's runs only
missing = [a for a in outputs.EXPECTED_APPROACHES if not any(r["approach"] == a for r in runs.values())]
print(f"outputs root: {outputs.outputs_root(OUTPUTS_DIR)}")
print(f"models with outputs: {len(runs)}")
print(f"missing (run their notebooks to add them): {', '.join(missing) or 'none'}")
if not runs:
    print("No approach has outputs yet, so only the baselines are compared below.")
compare.time_frame(runs)[["clips", "audio (s)", "run"]].round(1)

# %% [markdown]
# ## Baselines
#
# Three ways to make audio without a model (`musiclib.evaluation.baselines`), as many clips and as long
# as set above.

# %%
durations = [SETTINGS["baseline_seconds"]] * SETTINGS["n_baseline"]
baseline_clips = {
    "baseline: shaped noise": baselines.shaped_noise(training, sr=SR, durations=durations, seed=SEED),
    "baseline: shuffled frames": baselines.shuffled_frames(training, sr=SR, durations=durations, seed=SEED),
    "baseline: training excerpt": baselines.training_excerpt(training, sr=SR, durations=durations, seed=SEED),
}

# %%
features = {}  # training and reference features, shared by every card
t0 = time.perf_counter()
model_cards = {label: card.musicality_card(r["clips"], training=training, reference=reference, sr=SR, label=label,
                                           seed=SEED, features=features) for label, r in runs.items()}
baseline_cards = {label: card.musicality_card(clips, training=training, reference=reference, sr=SR, label=label,
                                              seed=SEED, features=features) for label, clips in baseline_clips.items()}
card_seconds = time.perf_counter() - t0

# %% [markdown]
# ## Results
#
# The verdict first: the models ranked by the number of checks they pass (ties broken by the
# distribution score, lower being nearer the held-out music), set against the baselines a model must
# beat (shaped noise and shuffled frames; the training excerpt passes all but copying by
# construction, so it is ranked but not a bar to clear).

# %%
to_beat = {label: c for label, c in baseline_cards.items() if label != "baseline: training excerpt"}
verdict = compare.verdict(model_cards, baselines=to_beat)
display(headline(verdict))
compare.ranking({**model_cards, **baseline_cards}).round(2)

# %% [markdown]
# ### One table of cards
#
# One row per model and baseline, one column per check: the check's value, green where it passed,
# red where it failed, grey where it does not apply (diversity with a single clip, tempo on clips
# under 6 s). How to read the values:
#
# - **distribution**: 0 means the frames are as close to the held-out music as its own two halves
#   are to each other (anything closer is shown as 0), 1 means as far as noise with the music's
#   average spectrum.
# - **noise, dropout, clipping**: shares of patches, frames or samples; **blowup**: dB of growth.
# - **drone, rhythm, tempo, structure, copying, diversity**: ratios to the same statistic on the
#   held-out music, so about 1 is "like real music".

# %%
cards = {**model_cards, **baseline_cards}
display(compare.style_cards(cards))
for label, c in cards.items():
    print(f"{label}: {c.verdict()}")
print(f"{len(cards)} cards in {card_seconds:.1f} s")

# %% [markdown]
# The thresholds, and what each check measures:

# %%
next(iter(cards.values())).to_frame()[["rule", "threshold", "measures"]].round(3)

# %% [markdown]
# ## Listening: one clip per model
#
# The first seconds of the first clip of each model and baseline, next to a held-out real clip, each
# scaled to the same peak.

# %%
seconds = int(SETTINGS["show_seconds"] * SR)
listen = [("held-out real", reference[0][:seconds])]
listen += [(label, r["clips"][0][:seconds]) for label, r in runs.items()]
listen += [(label, clips[0][:seconds]) for label, clips in baseline_clips.items()]
display(audio_table(listen, sr=SR, title="one clip per model"))

# %% [markdown]
# ## Spectrograms
#
# The held-out clip, the four best-ranked models and the baselines as mel spectrograms (dB): the
# seconds heard above.

# %%
best = list(compare.ranking(model_cards).index[:4])
shown = [(label, y) for label, y in listen if label in best or label.startswith(("held-out", "baseline"))]
cols = 2
fig, axes = plt.subplots(-(-len(shown) // cols), cols, figsize=(6 * cols, 2.4 * -(-len(shown) // cols)), squeeze=False)
for ax, (label, y) in zip(axes.flat, shown):
    M = librosa.feature.melspectrogram(y=y, sr=SR, n_fft=2048, hop_length=512, n_mels=96)
    plot_spectrogram(np.sqrt(M), sr=SR, hop_length=512, ax=ax, y_axis="mel", title=label, colorbar=False)
for ax in list(axes.flat)[len(shown):]:
    ax.set_visible(False)
fig.tight_layout()
plt.show()

# %% [markdown]
# ## Time
#
# Training and generation time as each notebook recorded them in its sidecar (wall-clock seconds on
# the machine that ran it, so compare rows from the same machine only).

# %%
compare.time_frame(runs).round(1)

# %% [markdown]
# ## Summary
#
# Computed from the table above:

# %%
shuffled = baseline_cards["baseline: shuffled frames"]
passing = [label for label, c in model_cards.items() if c.passed]
lines = [
    verdict,
    f"The shuffled-frames baseline (right sounds, no order) {'fails ' + ', '.join(shuffled.failed) if shuffled.failed else 'passes every check'}; "
    f"shaped noise fails {', '.join(baseline_cards['baseline: shaped noise'].failed) or 'nothing'}; "
    f"the training excerpt fails {', '.join(baseline_cards['baseline: training excerpt'].failed) or 'nothing'}.",
    f"{len(passing)} of {len(model_cards)} models pass every check{': ' + ', '.join(passing) if passing else ''}.",
    f"Missing approaches: {', '.join(missing) or 'none'}. This notebook ran in {time.perf_counter() - t_start:.0f} s.",
]
if card.no_verdict(cards):  # too little held-out reference: no pass/fail to report
    lines = [verdict, lines[-1]]
print("\n".join(f"- {line}" for line in lines))

# %% [markdown]
# The same card is available from the command line:
# `python -m musiclib card outputs/<approach>/<run> --train <folder> --reference <folder> [--json]`,
# and `python -m musiclib calibrate --corpus <folder>` repeats the calibration behind its thresholds.
# Missing approaches appear as soon as their notebooks have run (`make demo` runs them all in order,
# then this one).
#
# Start: [00_data_tour](00_data_tour.ipynb) ·
# Series: [README](README.md)
