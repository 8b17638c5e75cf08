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
# # 00 · A tour of the data
#
# **What is in the default corpus, and what does music look like as a spectrogram?**
#
# Every later notebook learns from a folder of audio and turns it into spectrogram frames. Before
# modelling anything we look at that folder the way a user first meets it: which files there are and
# how long, what one loop looks and sounds like as a waveform, a spectrogram and a loudness curve,
# where its beats fall, and which files later notebooks train on and which they hold out.
#
# The default corpus is a set of CC0 loops and drum one-shots from Sonic Pi (`make data` fetches it;
# point the environment variable `MUSICLIB_DATA` at any folder of your own audio to use that instead).

# %% tags=["parameters"]
MODE = "demo"  # "small" (CI, seconds), "demo" (a laptop, a minute), "full" (everything)
SEED = 0
CORPUS_DIR = None  # None: the default corpus (or $MUSICLIB_DATA); else a folder of audio files
TRACK = None  # None: the longest amen-break loop (else the longest loop_* file); or a file name or stem

# %%
SETTINGS = {
    # max_duration: seconds read from each file (None: all); overview: clips in the grid of
    # spectrograms; n_loops, n_shots, n_fragments, n_bars: rows of each kind in the listening table;
    # fragment: seconds per loud fragment
    "small": {"max_duration": 8.0, "overview": 3, "n_loops": 2, "n_shots": 1, "n_fragments": 2, "fragment": 1.5, "n_bars": 2},
    "demo": {"max_duration": None, "overview": 6, "n_loops": 4, "n_shots": 2, "n_fragments": 3, "fragment": 2.0, "n_bars": 3},
    "full": {"max_duration": None, "overview": 9, "n_loops": 8, "n_shots": 4, "n_fragments": 4, "fragment": 2.0, "n_bars": 4},
}[MODE]
SETTINGS

# %%
import time
from pathlib import Path

import librosa
import matplotlib
import matplotlib.pyplot as plt
import numpy as np
from IPython.display import display

from musiclib import audio
from musiclib.tools import data
from musiclib.corpus import find_audio_files, load_corpus
from musiclib.display import (
    audio_table,
    plot_beats,
    plot_loudness,
    plot_onsets,
    plot_spectrogram,
    plot_waveform,
    setup_notebook,
)
from musiclib.representations import LinearSpectrogram, MelSpectrogram

rng = setup_notebook(seed=SEED)
t_start = time.perf_counter()

# %% [markdown]
# ## The corpus
#
# `load_corpus` reads every audio file under the folder (any format libsndfile reads), mixes it to
# mono and resamples it to 22 050 Hz. A file it cannot use is skipped with the reason, never silently.

# %%
root = Path(CORPUS_DIR) if CORPUS_DIR else data.default_corpus_dir()
files = find_audio_files(root)
corpus = load_corpus(root, max_duration=SETTINGS["max_duration"], progress=False)
sr = corpus.sr
print(f"{root}: {len(files)} audio files, {len(corpus)} loaded, {len(corpus.skipped)} skipped")
limit = "whole files" if SETTINGS["max_duration"] is None else f"at most {SETTINGS['max_duration']} s per file"
print(f"{corpus.total_duration:.1f} s of audio loaded ({limit}) at {sr} Hz")
display(corpus)

# %% [markdown]
# Files differ in length by orders of magnitude: loops last seconds, drum one-shots a fraction of a
# second. Their levels differ too, which matters when a model learns from all of them at once.

# %%
names = [c.path.stem for c in corpus]
durations = np.array([c.duration for c in corpus])
levels = np.array([audio.rms_db(c.y) for c in corpus])
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 0.2 * len(corpus) + 1.2), sharey=True)
ax1.barh(names, durations, color="C0")
ax1.set_xscale("log")
ax1.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda x, _: f"{x:g}"))
ax1.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
ax1.set_xlabel("duration loaded (s, log scale)")
ax1.invert_yaxis()
ax2.barh(names, levels, color="C1")
ax2.set_xlabel("RMS level (dBFS)")
plt.show()

# %% [markdown]
# ## One loop, three views
#
# The waveform shows where the energy is in time; the spectrogram (the magnitude of the short-time
# Fourier transform, in dB) also shows at which frequencies; the loudness curve is the waveform's
# energy per 23 ms frame. The dashed lines are the beats librosa's beat tracker finds, the dotted
# ones the note onsets.

# %%
if TRACK is not None:
    clip = corpus.find(TRACK)
else:
    loops = [c for c in corpus if c.path.stem.startswith("loop_")]
    amen = [c for c in loops if "amen" in c.path.stem]
    clip = max(amen or loops or list(corpus), key=lambda c: c.duration)
y = clip.y
tempo, beat_frames = librosa.beat.beat_track(y=y, sr=sr, hop_length=512)
tempo = float(np.atleast_1d(tempo)[0])
beat_times = librosa.frames_to_time(beat_frames, sr=sr, hop_length=512)
onset_times = librosa.onset.onset_detect(y=y, sr=sr, hop_length=512, units="time")
print(f"{clip.name}: {clip.duration:.2f} s, file at {clip.file_sr} Hz with {clip.channels} channel(s)")
print(f"tempo {tempo:.1f} BPM, {len(beat_times)} beats, {len(onset_times)} onsets")

# %%
rep = LinearSpectrogram(sr=sr, n_fft=2048, hop_length=512)
fig, axes = plt.subplots(3, 1, figsize=(11, 8), sharex=True, gridspec_kw={"height_ratios": [1, 2, 1]})
plot_waveform(y, sr=sr, ax=axes[0], title=f"{clip.name}: waveform, beats (dashed) and onsets (dotted)")
plot_beats(beat_times, ax=axes[0])
plot_onsets(onset_times, ax=axes[0])
plot_spectrogram(rep.magnitude(y), sr=sr, hop_length=rep.hop_length, ax=axes[1], colorbar=False,
                 title="spectrogram: n_fft 2048, log frequency, dB from the loudest bin (0) down to -80")
plot_beats(beat_times, ax=axes[1], color="w", label=None)
plot_loudness(y, sr=sr, ax=axes[2], title="loudness")
plot_beats(beat_times, ax=axes[2], label=None)
axes[0].legend(loc="upper right")
for ax in axes[:-1]:
    ax.set_xlabel("")
plt.show()

# %% [markdown]
# Drums are vertical stripes (short and broadband), pitched sounds horizontal lines (long and
# narrow); the beats fall on the strongest stripes. A model that predicts the next frame of this
# picture has to learn both.
#
# ## Many clips as mel spectrograms
#
# A mel spectrogram pools the frequency bins into bands spaced the way pitch is heard, which is the
# compact picture many of the later models learn from. Here are the first seconds of several loops,
# picked across the alphabet so they differ.

# %%
def spread(items, n):
    """``n`` items evenly spaced through ``items``, in order."""
    if len(items) <= n:
        return list(items)
    return [items[int(i)] for i in np.linspace(0, len(items) - 1, n).round()]


mel = MelSpectrogram(sr=sr, n_fft=2048, hop_length=512, n_mels=128)
loops = [c for c in corpus if c.path.stem.startswith("loop_") and c.duration >= 2.0 and c is not clip]
loops = loops or [c for c in corpus if c.duration >= 2.0 and c is not clip] or [c for c in corpus if c is not clip]
shown = spread(loops, SETTINGS["overview"])
n_cols = 3
n_rows = int(np.ceil(len(shown) / n_cols))
fig, axes = plt.subplots(n_rows, n_cols, figsize=(12, 2.6 * n_rows), squeeze=False)
for ax, c in zip(axes.flat, shown):
    excerpt = c.y[: 4 * sr]
    if len(excerpt) < mel.n_fft:
        excerpt = np.pad(excerpt, (0, mel.n_fft - len(excerpt)))
    M = mel.encode(excerpt).T
    plot_spectrogram(M, sr=sr, hop_length=mel.hop_length, ax=ax, y_axis="mel", title=c.path.stem, colorbar=False)
for ax in axes.flat[len(shown):]:
    ax.set_axis_off()
plt.show()

# %% [markdown]
# ## Listening
#
# Four kinds of excerpt that later notebooks use as training material or as prompts: the start of
# a few loops, a few drum one-shots, the loudest fragments of the loop above
# (`audio.loud_fragments`, which never picks silence), and that loop cut at every bar
# (`audio.beat_slices` with 4 beats per slice). Every player is normalised to the same peak.

# %%
rows = []
for c in spread(loops, SETTINGS["n_loops"]):
    rows.append((c.path.stem, (c.y[: 4 * sr], {"kind": "loop start", "start (s)": 0.0, "seconds": min(4.0, c.duration)})))
shots = [c for c in corpus if c.path.stem.startswith("drum_")] or [c for c in corpus if c.duration < 2.0]
for c in spread(shots, SETTINGS["n_shots"]):
    rows.append((c.path.stem, (c.y, {"kind": "one-shot", "start (s)": 0.0, "seconds": c.duration})))
fragment = min(SETTINGS["fragment"], clip.duration / 2)
for start, frag in audio.loud_fragments(y, sr=sr, duration=fragment, n=SETTINGS["n_fragments"]):
    rows.append((f"{clip.path.stem} @ {start:.2f} s", (frag, {"kind": "loud fragment", "start (s)": start, "seconds": len(frag) / sr})))
bars, bar_beats = audio.beat_slices(y, sr=sr, beats_per_slice=4)
for i, (start, bar) in enumerate(zip(bar_beats[::4], bars[: SETTINGS["n_bars"]])):
    rows.append((f"{clip.path.stem} bar {i + 1}", (bar, {"kind": "bar (4 beats)", "start (s)": float(start), "seconds": len(bar) / sr})))
display(audio_table(rows, sr=sr, title="Loops, one-shots, loud fragments and bars"))
if bars:
    print(f"{len(bars)} bars in {clip.name}, median {np.median([len(b) for b in bars]) / sr:.2f} s "
          f"(4 beats at {tempo:.1f} BPM would be {4 * 60 / tempo:.2f} s)")
else:
    print(f"{clip.name} is shorter than one bar of 4 tracked beats")

# %% [markdown]
# ## Train and held-out files
#
# Every later notebook splits the corpus **by file**: frames of one file never land on both sides,
# otherwise a model could score well by remembering neighbouring frames of the same loop. The split
# is seeded, so the same `SEED` gives the same lists in every notebook.

# %%
train, held_out = corpus.split(held_out=0.2, seed=SEED)
print(f"train ({len(train)} files, {train.total_duration:.1f} s):")
for c in train:
    print(f"  {c.name}")
print(f"held out ({len(held_out)} files, {held_out.total_duration:.1f} s):")
for c in held_out:
    print(f"  {c.name}")

# %% [markdown]
# ## Summary
#
# The numbers below are measured on the corpus this notebook loaded.

# %%
summary = {
    "files": len(files),
    "loaded": len(corpus),
    "skipped": len(corpus.skipped),
    "minutes loaded": round(corpus.total_duration / 60, 2),
    "shortest / longest (s)": (round(float(durations.min()), 2), round(float(durations.max()), 2)),
    "track": clip.name,
    "tempo (BPM)": round(tempo, 1),
    "train / held-out files": (len(train), len(held_out)),
    "seconds to run this notebook": round(time.perf_counter() - t_start, 1),
}
for k, v in summary.items():
    print(f"{k:>30}: {v}")

# %% [markdown]
# - The corpus is short, percussive, loop-based music at one sample rate; loops and one-shots differ
#   in length by two orders of magnitude, so later notebooks cut fixed-length fragments.
# - In a spectrogram, drum hits are vertical stripes and pitched notes horizontal lines; the beat
#   grid is visible, which is the structure a generator has to keep.
# - Models train on the train files only; the held-out files are for judging what they generate.
#
# **Next:** [01 · Spectrogram settings](01_spectrogram_settings.ipynb): which window, hop,
# representation and phase reconstruction to use, measured by error, time and size.
