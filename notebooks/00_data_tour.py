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
# **What is in the corpus, what does music look like as a spectrogram, and where are its beats?**
#
# Every later notebook learns from a folder of audio and turns it into spectrogram frames. Before
# modelling anything we look at that folder the way a user first meets it: which files there are and
# how long, what one clip looks and sounds like as a waveform, a spectrogram and a loudness curve,
# at what tempo it runs and where its beats fall, and which files later notebooks train on and which
# they hold out.
#
# The corpus depends on `MODE`: real songs in demo and full mode (`nexuiz-music`, 17 tracks, of which
# demo mode loads the middle 30 s), Sonic Pi's CC0 loops and drum one-shots in small mode
# (`sonic-pi-samples`). `make data` fetches them; point the environment variable `MUSICLIB_DATA` at
# any folder of your own audio to use that instead.

# %% tags=["parameters"]
MODE = "demo"  # "small" (CI, seconds), "demo" (a laptop, a minute), "full" (everything)
SEED = 0
CORPUS_DIR = None  # None: the corpus for MODE (or $MUSICLIB_DATA); else a folder of audio files
TRACK = None  # None: the longest amen-break loop, else the clip with the steadiest beat; or a file name or stem

# %%
SETTINGS = {
    # max_duration: seconds read from each file (None: all), taken from its middle when longer;
    # overview: clips in the grid of spectrograms; n_starts, n_shots, n_fragments, n_bars: rows of
    # each kind in the listening table; fragment: seconds per loud fragment
    "small": {"max_duration": 8.0, "overview": 3, "n_starts": 2, "n_shots": 1, "n_fragments": 2, "fragment": 1.5, "n_bars": 2},
    "demo": {"max_duration": 30.0, "overview": 6, "n_starts": 4, "n_shots": 2, "n_fragments": 3, "fragment": 2.0, "n_bars": 3},
    "full": {"max_duration": None, "overview": 9, "n_starts": 8, "n_shots": 4, "n_fragments": 4, "fragment": 2.0, "n_bars": 4},
}[MODE]
SETTINGS

# %%
import time
import warnings
from fractions import Fraction
from pathlib import Path

import librosa
import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import display

from musiclib import audio, beats
from musiclib.corpus import evenly_spaced, find_audio_files, load_corpus
from musiclib.display import (
    audio_table,
    headline,
    plot_beats,
    plot_loudness,
    plot_onsets,
    plot_spectrogram,
    plot_waveform,
    setup_notebook,
)
from musiclib.errors import MusiclibError
from musiclib.representations import LinearSpectrogram, MelSpectrogram
from musiclib.tools import data

rng = setup_notebook(seed=SEED)
t_start = time.perf_counter()

# %% [markdown]
# ## The corpus
#
# `load_corpus` reads every audio file under the folder (any format libsndfile reads), mixes it to
# mono and resamples it to 22 050 Hz. A file it cannot use is skipped with the reason, never silently.

# %%
root = Path(CORPUS_DIR) if CORPUS_DIR else data.default_corpus_dir(mode=MODE)
files = find_audio_files(root)
corpus = load_corpus(root, max_duration=SETTINGS["max_duration"], excerpt="middle", progress=False)
sr = corpus.sr
print(f"{root}: {len(files)} audio files, {len(corpus)} loaded, {len(corpus.skipped)} skipped")
limit = "whole files" if SETTINGS["max_duration"] is None else f"at most {SETTINGS['max_duration']:g} s per file"
print(f"{corpus.total_duration / 60:.1f} min of audio loaded ({limit}) at {sr} Hz")
display(corpus)

# %% [markdown]
# Files differ in length (loops last seconds, drum one-shots a fraction of a second, songs minutes)
# and in level, which matters when a model learns from all of them at once.

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
# ## Tempo and beats
#
# The later notebooks cut audio at beats and give their models the phase within the beat and the
# bar, so the tempo has to be right. librosa's beat tracker, with its defaults, reads the tempo off
# the onset envelope's tempogram weighted towards 120 BPM, and on syncopated drums it often locks
# onto a slower pulse. `musiclib.beats.track_beats` checks that tempo: it scores every tempo from
# 60 to 200 BPM by how periodic the onset envelope is at one beat, two beats and one bar, and
# re-tracks the beats at the best. Both are listed for every clip long enough to hold a few beats.

# %%
tempi, tracked = beats.tempo_table(corpus)
changed = tempi[(tempi["checked (BPM)"] / tempi["librosa default (BPM)"] - 1).abs() > 0.04]
print(f"{len(tempi)} of {len(corpus)} clips hold beats; the check changed the tempo of {len(changed)} "
      f"(by more than 4 %); median tempo {beats.corpus_tempo(tracked.values()):.1f} BPM")
display(tempi)

# %% [markdown]
# ### Checked against what is known: Sonic Pi's loops
#
# A loop is cut to a whole number of bars, so its length times its tempo must give a whole number
# of bars of 4 beats (the amen break is also known to run at about 136-140 BPM). Sonic Pi's
# 17 loops (the small corpus, also fetched by `make demo`) are that check: for each, the beats the
# loop would hold at librosa's default tempo and at the checked one.

# %%
loop_paths = [p for p in files if p.stem.startswith("loop_")]
if not loop_paths:  # this corpus holds no loops: check against the small corpus's, when fetched
    try:
        loop_paths = sorted(Path(data.default_corpus_dir(mode="small")).glob("loop_*"))
    except MusiclibError as e:
        print(f"no loops to check against: {e}")
with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # an unreadable file is simply not checked
    loop_corpus = list(load_corpus(loop_paths, progress=False)) if loop_paths else []
loops = [c for c in loop_corpus if c.duration <= 60.0]  # loops, not songs named loop_*
loop_tempi, _ = beats.tempo_table(loops, known=tracked)
if len(loop_tempi):
    loop_tempi["librosa / checked"] = [str(Fraction(r).limit_denominator(5))
                                       for r in loop_tempi["librosa default (BPM)"] / loop_tempi["checked (BPM)"]]
    for col, name in (("librosa default (BPM)", "librosa"), ("checked (BPM)", "checked")):
        loop_tempi[f"beats in loop ({name})"] = (loop_tempi["seconds"] * loop_tempi[col] / 60).round(2)
        loop_tempi[f"whole bars ({name})"] = beats.whole_bars(loop_tempi[f"beats in loop ({name})"].to_numpy())
    on_bars = {name: int(loop_tempi[f"whole bars ({name})"].sum()) for name in ("librosa", "checked")}
    print(f"loops whose length holds a whole number of 4-beat bars: librosa's default tempo "
          f"{on_bars['librosa']} of {len(loop_tempi)}, checked tempo {on_bars['checked']} of {len(loop_tempi)}")
    display(loop_tempi.drop(columns=["periodicity", "beats"]))
    amen = loop_tempi.loc[[i for i in loop_tempi.index if "amen" in i]]
    for name, row in amen.iterrows():
        ratio = Fraction(row["librosa default (BPM)"] / row["checked (BPM)"]).limit_denominator(5)
        print(f"{name}: librosa's default {row['librosa default (BPM)']:.1f} BPM is {ratio} of the checked "
              f"{row['checked (BPM)']:.1f} BPM, which puts {row['beats in loop (checked)']:.2f} beats in the loop")
else:
    on_bars, amen = {}, pd.DataFrame()

# %% [markdown]
# Where librosa's default is a simple fraction of the checked tempo (column `librosa / checked`:
# 2/3 on the full amen break, as the tempo alone suggested), the loop holds no whole number of bars
# at librosa's tempo and does at the checked one. The loops that miss at both are those with little
# pulse (drones and textures, with a low periodicity in the table above) or a rhythm in threes.
#
# ## One clip, three views
#
# The waveform shows where the energy is in time; the spectrogram (the magnitude of the short-time
# Fourier transform, in dB) also shows at which frequencies; the loudness curve is the waveform's
# energy per 23 ms frame. The dashed lines are the tracked beats (at the checked tempo), the dotted
# ones the note onsets.

# %%
if TRACK is not None:
    clip = corpus.find(TRACK)
else:
    amen_clips = [c for c in corpus if "amen" in c.path.stem and c.path.stem in tracked]
    steadiest = max(tracked, key=lambda k: tracked[k].periodicity if np.isfinite(tracked[k].periodicity) else -1,
                    default=None)
    clip = (max(amen_clips, key=lambda c: c.duration) if amen_clips
            else corpus.find(steadiest) if steadiest else max(corpus, key=lambda c: c.duration))
y = clip.y
b = tracked.get(clip.path.stem) or beats.track_beats(y, sr=sr)
onset_times = librosa.onset.onset_detect(y=y, sr=sr, hop_length=512, units="time")
print(f"{clip.name}: {clip.duration:.2f} s, file at {clip.file_sr} Hz with {clip.channels} channel(s)")
print(f"tempo {b.tempo:.1f} BPM (librosa's default {b.tracker_tempo:.1f}), {len(b)} beats, {len(onset_times)} onsets")

# %%
shown_s = min(clip.duration, 12.0)  # a few bars are enough to see the beat grid
n_shown = int(shown_s * sr)
rep = LinearSpectrogram(sr=sr, n_fft=2048, hop_length=512)
beat_times = b.times[b.times < shown_s]
fig, axes = plt.subplots(3, 1, figsize=(11, 8), sharex=True, gridspec_kw={"height_ratios": [1, 2, 1]})
plot_waveform(y[:n_shown], sr=sr, ax=axes[0], title=f"{clip.name}: waveform, beats (dashed) and onsets (dotted)")
plot_beats(beat_times, ax=axes[0])
plot_onsets(onset_times[onset_times < shown_s], ax=axes[0])
plot_spectrogram(rep.magnitude(y[:n_shown]), sr=sr, hop_length=rep.hop_length, ax=axes[1], colorbar=False,
                 title="spectrogram: n_fft 2048, log frequency, dB from the loudest bin (0) down to -80")
plot_beats(beat_times, ax=axes[1], color="w", label=None)
plot_loudness(y[:n_shown], sr=sr, ax=axes[2], title="loudness")
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
# compact picture many of the later models learn from. Here are the first seconds of several clips,
# picked across the alphabet so they differ.

# %%
mel = MelSpectrogram(sr=sr, n_fft=2048, hop_length=512, n_mels=128)
longer = [c for c in corpus if c.duration >= 2.0 and c is not clip]
longer = [c for c in longer if c.path.stem.startswith("loop_")] or longer or [c for c in corpus if c is not clip]
shown = evenly_spaced(longer, n=SETTINGS["overview"])
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
# Kinds of excerpt that later notebooks use as training material or as prompts: the first seconds
# of a few clips, drum one-shots where the corpus has them, the loudest fragments of the clip above
# (`audio.loud_fragments`, which never picks silence), and that clip cut at every bar
# (`beats.beat_slices` with 4 beats per slice, starting on the downbeat). Every player is
# normalised to the same peak.

# %%
rows = []
for c in evenly_spaced(longer, n=SETTINGS["n_starts"]):
    rows.append((c.path.stem, (c.y[: 4 * sr], {"kind": "start", "start (s)": 0.0, "seconds": min(4.0, c.duration)})))
shots = [c for c in corpus if c.path.stem.startswith("drum_")] or [c for c in corpus if c.duration < 2.0]
for c in evenly_spaced(shots, n=SETTINGS["n_shots"]):
    rows.append((c.path.stem, (c.y, {"kind": "one-shot", "start (s)": 0.0, "seconds": c.duration})))
fragment = min(SETTINGS["fragment"], clip.duration / 2)
for start, frag in audio.loud_fragments(y, sr=sr, duration=fragment, n=SETTINGS["n_fragments"]):
    rows.append((f"{clip.path.stem} @ {start:.2f} s", (frag, {"kind": "loud fragment", "start (s)": start, "seconds": len(frag) / sr})))
bars = beats.beat_slices(y, sr=sr, beats=b, beats_per_slice=b.beats_per_bar)
for i, (s0, s1) in enumerate(bars[: SETTINGS["n_bars"]]):
    rows.append((f"{clip.path.stem} bar {i + 1}", (y[s0:s1], {"kind": f"bar ({b.beats_per_bar} beats)", "start (s)": s0 / sr, "seconds": (s1 - s0) / sr})))
display(audio_table(rows, sr=sr, title="Clip starts, one-shots, loud fragments and bars"))
if bars:
    print(f"{len(bars)} bars in {clip.name}, median {np.median([s1 - s0 for s0, s1 in bars]) / sr:.2f} s "
          f"({b.beats_per_bar} beats at {b.tempo:.1f} BPM would be {b.beats_per_bar * 60 / b.tempo:.2f} s)")
else:
    print(f"{clip.name} is shorter than one bar of {b.beats_per_bar} tracked beats")

# %% [markdown]
# ## Train and held-out files
#
# Every later notebook splits the corpus **by file**: frames of one file never land on both sides,
# otherwise a model could score well by remembering neighbouring frames of the same clip. The split
# is seeded, so the same `SEED` gives the same lists in every notebook.

# %%
train, held_out = corpus.split(held_out=0.2, seed=SEED)
print(f"train ({len(train)} files, {train.total_duration:.1f} s): {', '.join(c.path.stem for c in train)}")
print(f"held out ({len(held_out)} files, {held_out.total_duration:.1f} s): {', '.join(c.path.stem for c in held_out)}")

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
    "clips with beats": len(tempi),
    "median tempo (BPM)": round(beats.corpus_tempo(tracked.values()), 1) if tracked else None,
    "tempi changed by the check": len(changed),
    "loops on whole bars, librosa / checked": (on_bars.get("librosa"), on_bars.get("checked")) if on_bars else None,
    "track": clip.name,
    "its tempo (BPM), librosa / checked": (round(b.tracker_tempo, 1), round(b.tempo, 1)),
    "train / held-out files": (len(train), len(held_out)),
    "seconds to run this notebook": round(time.perf_counter() - t_start, 1),
}
for k, v in summary.items():
    print(f"{k:>40}: {v}")

# %% [markdown]
# - The corpus is what every later notebook learns from; its clips differ in length and level, so
#   later notebooks cut fixed-length fragments and normalise.
# - In a spectrogram, drum hits are vertical stripes and pitched notes horizontal lines; the beat
#   grid is visible, which is the structure a generator has to keep.
# - librosa's default tempo is often a fraction (2/3, 3/4, 1/2) of the beat on syncopated music;
#   checked against the onset envelope's periodicity at the beat, two beats and the bar, the loops'
#   lengths come out as whole bars far more often (the counts above), so the later notebooks take
#   their beats from `musiclib.beats`.
# - Models train on the train files only; the held-out files are for judging what they generate.
#
# **Next:** [01 · Spectrogram settings](01_spectrogram_settings.ipynb): which window, hop,
# representation and phase reconstruction to use, measured by error, time and size.

# %%
if on_bars:
    amen_note = "".join(f"; {name} {row['librosa default (BPM)']:.1f} -> {row['checked (BPM)']:.1f} BPM"
                        for name, row in amen.iterrows())
    loops_note = (f"Sonic Pi's loops hold whole bars at librosa's default tempo in {on_bars['librosa']} of "
                  f"{len(loop_tempi)} cases and at the checked tempo in {on_bars['checked']}{amen_note}")
else:
    loops_note = "no Sonic Pi loops were available to check the tempo against"
display(headline(f"{len(corpus)} files ({corpus.total_duration / 60:.1f} min) at a median "
                 f"{beats.corpus_tempo(tracked.values()):.0f} BPM; {loops_note}."))
