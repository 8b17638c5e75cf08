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
# (`musiclib.tools.outputs`). This notebook loads whatever is there and puts each approach through the
# same **musicality card** (`musiclib.evaluation.card`): nine checks, each named after a failure the earlier
# experiments met -- noise, drones, blow-ups, dropouts, no rhythm, copying the training data, and
# several clips that are really one clip. Next to the approaches stand three baselines that need no
# model at all: noise shaped with the corpus's average spectrum, the training audio's STFT frames in
# random order, and a verbatim excerpt of training audio. An approach earns its training time by
# beating the first two without turning into the third.
#
# The card's thresholds were calibrated on data (`musiclib.evaluation.card.calibrate`): held-out real music
# passes every check, and white noise, shaped noise, a sustained chord, an exponentially growing
# signal, silence, a training excerpt and identical clips each fail the check named for them.

# %% tags=["parameters"]
MODE = "demo"  # "small" (CI, seconds), "demo" (a laptop, a minute), "full" (everything)
SEED = 0
CORPUS_DIR = None  # None: the default corpus (or $MUSICLIB_DATA); else a folder of audio files
OUTPUTS_DIR = None  # None: $MUSICLIB_OUTPUTS or <repo>/outputs

# %%
SETTINGS = {
    # max_duration: seconds read per corpus file; n_baseline / baseline_seconds: clips per baseline;
    # spectrogram_seconds: length shown in the grid
    "small": {"max_duration": 8.0, "n_baseline": 2, "baseline_seconds": 3.0, "spectrogram_seconds": 3.0},
    "demo": {"max_duration": 30.0, "n_baseline": 3, "baseline_seconds": 6.0, "spectrogram_seconds": 6.0},
    "full": {"max_duration": None, "n_baseline": 5, "baseline_seconds": 10.0, "spectrogram_seconds": 10.0},
}[MODE]
SETTINGS

# %%
import html
import time

import matplotlib.pyplot as plt
import numpy as np
from IPython.display import HTML, display

from musiclib.evaluation import baselines, card
from musiclib.tools import data, outputs
from musiclib.corpus import load_corpus
from musiclib.display import audio_table, plot_spectrogram, setup_notebook

rng = setup_notebook(seed=SEED)
t_start = time.perf_counter()

# %% [markdown]
# ## The yardsticks: training and held-out music
#
# The same split by file as every other notebook (`Corpus.split(held_out=0.2, seed=SEED)`): the card
# measures copying against the **training** files and everything else against the **held-out** ones,
# which no model has heard. When the corpus has loops (`loop_*`), only the loops are the yardstick
# (a cymbal one-shot is not music to compare with); clips shorter than the card's minimum (one
# second) are left out.

# %%
root = CORPUS_DIR or data.default_corpus_dir()
corpus = load_corpus(root, max_duration=SETTINGS["max_duration"], progress=False)
train, held_out = corpus.split(held_out=0.2, seed=SEED)
SR = corpus.sr


def music(clips):
    """Clips long enough for the card; only the loops when the corpus has loops (not one-shots)."""
    long = [c for c in clips if c.duration >= card.MIN_CLIP_SECONDS]
    loops = [c for c in long if c.path.stem.startswith("loop_")]
    return loops or long


training = [c.y for c in music(train)]
reference = [c.y for c in music(held_out)]
print(f"corpus: {root}")
print(f"training: {len(training)} clips, {sum(map(len, training)) / SR:.1f} s")
print(f"reference (held out): {len(reference)} clips, {sum(map(len, reference)) / SR:.1f} s: "
      + ", ".join(c.path.name for c in music(held_out)))

# %% [markdown]
# ## What the approaches left in `outputs/`
#
# `load_outputs` returns the latest complete run of each approach. The comparison works with any
# subset: an approach that has not been run yet is listed as missing.

# %%
found = outputs.load_outputs(OUTPUTS_DIR)
usable = {}
for name, run in found.items():
    clips = [y for y in run["clips"] if len(y) >= card.MIN_CLIP_SECONDS * run["meta"]["sr"]]
    if not clips:
        print(f"{name}: every clip is shorter than {card.MIN_CLIP_SECONDS} s; left out")
        continue
    if run["meta"]["sr"] != SR:
        from musiclib.audio import resample

        clips = [resample(y, orig_sr=run["meta"]["sr"], target_sr=SR) for y in clips]
    usable[name] = {"clips": clips, "meta": run["meta"]}
missing = [a for a in outputs.EXPECTED_APPROACHES if a not in usable]
print(f"outputs root: {outputs.outputs_root(OUTPUTS_DIR)}")
print(f"approaches with outputs: {', '.join(usable) or 'none'}")
print(f"missing (run their notebooks to add them): {', '.join(missing) or 'none'}")
if not usable:
    print("No approach has outputs yet, so only the baselines are compared below.")

# %% [markdown]
# ## Baselines
#
# Three ways to make audio without a model (`musiclib.evaluation.baselines`), as many clips and as long as set
# above.

# %%
durations = [SETTINGS["baseline_seconds"]] * SETTINGS["n_baseline"]
t0 = time.perf_counter()
baseline_clips = {
    "baseline: shaped noise": baselines.shaped_noise(training, sr=SR, durations=durations, seed=SEED),
    "baseline: shuffled frames": baselines.shuffled_frames(training, sr=SR, durations=durations, seed=SEED),
    "baseline: training excerpt": baselines.training_excerpt(training, sr=SR, durations=durations, seed=SEED),
}
print(f"baselines made in {time.perf_counter() - t0:.1f} s")

# %% [markdown]
# ## One table of cards
#
# One row per approach, one column per check (green: passed, red: failed, grey: does not apply, e.g.
# diversity with a single clip). The numbers are the check's value; hover over a column title for
# what it measures and its threshold.

# %%
rows = {name: u["clips"] for name, u in usable.items()}
rows.update(baseline_clips)
cache = {}  # training and reference features, shared by every card
cards = {}
t0 = time.perf_counter()
for name, clips in rows.items():
    cards[name] = card.musicality_card(clips, training=training, reference=reference, sr=SR, label=name,
                                       seed=SEED, features=cache)
card_seconds = time.perf_counter() - t0


def card_table(cards):
    colour = {True: "#d4f4d4", False: "#f8d0d0", None: "#eeeeee"}
    first = next(iter(cards.values()))
    head = "".join(
        f"<th title='{html.escape(card.DESCRIPTIONS[k])}; {'&le;' if c['rule'] == 'max' else '&ge;'} "
        f"{c['threshold']:.3g}'>{k}</th>"
        for k, c in first.checks.items()
    )
    body = ""
    for name, cd in cards.items():
        cells = "".join(
            f"<td style='background:{colour[c['passed']]}'>{card._fmt(c['value'])}</td>" for c in cd.checks.values()
        )
        verdict = "pass" if cd.passed else f"fail ({len(cd.failed)})"
        body += (f"<tr><th style='text-align:left'>{html.escape(name)}</th>{cells}"
                 f"<td style='background:{colour[cd.passed]}'><b>{verdict}</b></td></tr>")
    return HTML(f"<table><thead><tr><th>approach</th>{head}<th>card</th></tr></thead><tbody>{body}</tbody></table>")


display(card_table(cards))
for name, cd in cards.items():
    print(f"{name}: {'passes every check' if cd.passed else 'fails ' + ', '.join(cd.failed)}")
print(f"{len(cards)} cards in {card_seconds:.1f} s")

# %% [markdown]
# The thresholds, and where each check's value has to lie:

# %%
for k, c in next(iter(cards.values())).checks.items():
    print(f"{k:<13} {'<=' if c['rule'] == 'max' else '>='} {c['threshold']:.3g}   {card.DESCRIPTIONS[k]}")

# %% [markdown]
# ## Listening: one clip per approach
#
# The first clip of each approach and baseline, next to a held-out real clip, each scaled to the same
# peak.

# %%
listen = [("held-out real", reference[0][: int(SETTINGS["baseline_seconds"] * SR)])]
listen += [(name, clips[0]) for name, clips in rows.items()]
display(audio_table(listen, sr=SR, title="one clip per approach"))

# %% [markdown]
# ## Spectrograms
#
# The same clips as mel spectrograms (dB), the first few seconds of each, on one colour scale.

# %%
import librosa

n = len(listen)
cols = 2 if n > 1 else 1
nrows = int(np.ceil(n / cols))
fig, axes = plt.subplots(nrows, cols, figsize=(6 * cols, 2.4 * nrows), squeeze=False)
for ax, (name, y) in zip(axes.flat, listen):
    y = y[: int(SETTINGS["spectrogram_seconds"] * SR)]
    M = librosa.feature.melspectrogram(y=np.nan_to_num(y), sr=SR, n_fft=2048, hop_length=512, n_mels=96)
    plot_spectrogram(np.sqrt(M), sr=SR, hop_length=512, ax=ax, y_axis="mel", title=name, colorbar=False)
for ax in list(axes.flat)[n:]:
    ax.set_visible(False)
fig.tight_layout()
plt.show()

# %% [markdown]
# ## Time
#
# Training and generation time as each notebook recorded them in its sidecar (wall-clock seconds on
# the machine that ran it, so compare rows from the same machine only).

# %%
if usable:
    lines = ["<table><thead><tr><th>approach</th><th>representation</th><th>seed</th><th>train (s)</th>"
             "<th>generate (s)</th><th>clips</th><th>audio (s)</th><th>run</th></tr></thead><tbody>"]
    for name, u in usable.items():
        m = u["meta"]
        rep = m.get("representation")
        rep = rep.get("name", rep) if isinstance(rep, dict) else rep
        lines.append(
            f"<tr><td>{html.escape(name)}</td><td>{html.escape(str(rep))}</td><td>{m.get('seed')}</td>"
            f"<td>{m.get('train_seconds', float('nan')):.1f}</td><td>{m.get('generate_seconds', float('nan')):.1f}</td>"
            f"<td>{len(u['clips'])}</td><td>{sum(map(len, u['clips'])) / SR:.1f}</td><td>{html.escape(m.get('run', ''))}</td></tr>"
        )
    display(HTML("".join(lines) + "</tbody></table>"))
else:
    print("no approach has outputs yet: no times to show")
print(f"this notebook: {time.perf_counter() - t_start:.1f} s")

# %% [markdown]
# ## Summary
#
# - The card turns the failures we used to hear into numbers: each row above says which of them an
#   approach still has. The baselines fail where they should -- shaped noise on noise and
#   distribution, shuffled frames on rhythm and drone, the training excerpt on copying -- so a model
#   that passes where they fail has learned something beyond the corpus's average colour and its
#   frames, and has not simply memorised it.
# - The same card is available from the command line:
#   `python -m musiclib card outputs/<approach>/<run> --train <folder> --reference <folder> [--json]`.
# - Missing approaches appear as soon as their notebooks have run (`make demo` runs them all in
#   order, then this one).
#
# Start: [00_data_tour](00_data_tour.ipynb) ·
# Series: [README](README.md)
