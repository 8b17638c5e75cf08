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
# # 01 · Spectrogram settings: representation, window, hop and phase
#
# **Which representation, window, hop and phase reconstruction should the generation notebooks use,
# and how much of the music does each lose before any model sees it?**
#
# Every later notebook turns audio into frames, lets a model produce new frames, and turns those back
# into audio. The frames keep only a magnitude, often pooled into bands, so the way back has to guess
# what was dropped, and a model can never sound better than its representation decodes. Here we run
# that round trip with no model in between, on real songs, and measure for each setting:
#
# - **the decode ceiling**: the *spectral convergence* (SC) between the reconstruction's STFT
#   magnitude and the original's, $20\log_{10}\lVert S-\hat S\rVert_F/\lVert S\rVert_F$ dB (lower is
#   better; around −20 dB sounds close to the original, around −10 dB is audibly dull or phasey), and
#   the log-spectral distance (LSD), which weights quiet bins more. Waveforms are never compared: a
#   reconstruction with another phase sounds the same and has a huge waveform error.
# - **on fixed reference STFTs**: every setting is judged on the same three STFTs (windows 512, 1024
#   and 2048, hop a quarter of each; `sweep.REFERENCE_N_FFTS`), their dB averaged. Judged on its own
#   grid, a setting with a hop of half its window would look best, because few magnitudes are easy to
#   match while the audio between them is wrong; and one reference would favour the window equal to it.
# - **size**: features per frame (the width a model must predict) and frames per second (a sequence
#   model's steps per second of audio); **time**: encode plus decode, as a real-time factor.
#
# The measurement is `musiclib.evaluation.sweep.decode_ceiling(y, sr=sr, rep=rep)`, one call that
# every generating notebook can use to report the ceiling of its representation beside its card.

# %% tags=["parameters"]
MODE = "demo"  # "small" (CI, sonic-pi loops, seconds), "demo" (nexuiz songs, 2 cores, ~2 min), "full" (more of everything)
SEED = 0
CORPUS_DIR = None  # None: the default corpus for MODE (or $MUSICLIB_DATA); else a folder of audio files
METHOD = "pghi+fgla"  # phase reconstruction of the representation and window studies
N_ITER = 32  # its iterations
MAX_FEATURES = 256  # budget: features per frame a model predicts (what the 2-core demo trains in time)
MAX_FRAMES_PER_SECOND = 90  # budget: frames per second of audio (hop 256 at 22.05 kHz gives 86)
COMPACT_FEATURES = 160  # budget of the compact alternative, for models that must stay as small as mel-128
TOLERANCE_DB = 1.0  # SC differences up to this count as ties (broken by fewer features per second)
LISTEN_SECONDS = 4.0  # length of the players (the first seconds of an excerpt)

# %%
GRID = {
    # clips x clip_seconds: the excerpts (middle of each file) the representations are measured on;
    # reps: the candidates (n_fft 1024, hop 256 unless given; every list holds mel-128 in dB, the
    # series' earlier default, and logfreq-48, the generation default); windows x hops: the STFT sweep on one
    # excerpt of excerpt_seconds; curve_iters: the phase methods' iterations at n_fft 1024, hop 256;
    # widget: how many settings of widgets.DEFAULT_GRID the static form of the panel measures
    "small": {
        "clips": 3, "clip_seconds": 2.5, "excerpt_seconds": 2.5,
        "reps": [{"name": "mel", "n_mels": 128, "scale": "db"}, {"name": "logfreq", "bins_per_octave": 24},
                 {"name": "logfreq", "bins_per_octave": 48}, {"name": "log"}],
        "windows": (256, 1024, 4096), "hops": (256, 1024), "curve_iters": (0, 4), "widget": 2,
    },
    "demo": {
        "clips": 6, "clip_seconds": 6.0, "excerpt_seconds": 10.0,
        "reps": [{"name": "mel", "n_mels": 128, "scale": "db"}, {"name": "mel", "n_mels": 256, "scale": "db"},
                 {"name": "logfreq", "bins_per_octave": 24}, {"name": "logfreq", "bins_per_octave": 48},
                 {"name": "logfreq", "bins_per_octave": 96}, {"name": "log"},
                 {"name": "log", "n_fft": 2048, "hop_length": 512}, {"name": "log", "n_fft": 2048}],
        "windows": (256, 512, 1024, 2048, 4096, 8192), "hops": (128, 256, 512, 1024), "curve_iters": (0, 4, 8, 16, 32, 64),
        "widget": 7,
    },
    "full": {
        "clips": 17, "clip_seconds": 10.0, "excerpt_seconds": 10.0,
        "reps": [{"name": "mel", "n_mels": m, "scale": "db"} for m in (64, 128, 256, 384)]
                + [{"name": "logfreq", "bins_per_octave": b} for b in (12, 24, 48, 96)]
                + [{"name": "logfreq", "n_fft": 2048, "bins_per_octave": b} for b in (24, 48)]
                + [{"name": "log"}, {"name": "log", "n_fft": 2048, "hop_length": 512}, {"name": "log", "n_fft": 2048}],
        "windows": (128, 256, 512, 1024, 2048, 4096, 8192, 16384), "hops": (64, 128, 256, 512, 1024, 2048),
        "curve_iters": (0, 4, 8, 16, 32, 64, 128, 256), "widget": 7,
    },
}[MODE]

# %%
import time
import warnings
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import display

from musiclib import generate, phase
from musiclib.corpus import find_audio_files, load_corpus
from musiclib.display import audio_table, headline, plot_spectrogram, setup_notebook
from musiclib.evaluation import sweep
from musiclib.representations import LinearSpectrogram, make_representation
from musiclib.tools import data
from musiclib.widgets import DEFAULT_GRID, compare_settings

rng = setup_notebook(seed=SEED)
t_start = time.perf_counter()
pd.set_option("display.precision", 1)
# librosa warns when a mel band is narrower than one FFT bin (mel-256 at n_fft 1024 has a few at the
# bottom): those settings stay in the study, and their ceiling shows what the empty bands cost.
warnings.filterwarnings("ignore", message="Empty filters detected in mel frequency basis")

# %% [markdown]
# ## The audio
#
# Excerpts from the middle of several tracks (whole songs in demo mode, whose first seconds are often
# an intro; short loops in small mode), one per track, spread over the corpus. The window and hop
# study runs on one excerpt made of the loudest seconds of the first few (`sweep.make_excerpt`).

# %%
root = Path(CORPUS_DIR) if CORPUS_DIR else data.default_corpus_dir(mode=MODE)
files = find_audio_files(root)
loops = [p for p in files if p.stem.startswith("loop_")] or files  # the small corpus: loops, not one-shots
step = max(1, len(loops) // GRID["clips"])
corpus = load_corpus(loops[::step][: GRID["clips"]], max_duration=GRID["clip_seconds"], excerpt="middle", progress=False)
sr = corpus.sr
clips = {clip.path.stem: clip.y for clip in corpus}
y = sweep.make_excerpt(list(clips.values()), sr=sr, duration=GRID["excerpt_seconds"], piece_seconds=2.5)
print(f"{root.name}: {len(clips)} excerpts of up to {GRID['clip_seconds']:g} s at {sr} Hz from {', '.join(clips)}; "
      f"the sweep excerpt is {len(y) / sr:.1f} s")
plot_spectrogram(LinearSpectrogram(n_fft=1024, sr=sr).magnitude(y), sr=sr, hop_length=256,
                 title="the sweep excerpt (n_fft 1024, hop 256)")
plt.show()

# %% [markdown]
# ## 1 · The decode ceiling of each representation
#
# The candidates, each at n_fft 1024 and hop 256 (86 frames per second) unless named otherwise:
#
# - **mel** bands (128 was the series' generation default before this study; 256);
#   decoded by non-negative least squares (NNLS) to a linear magnitude, then phase reconstruction.
# - **logfreq**: a log-frequency filter bank on the STFT (`representations.LogFrequencySpectrogram`):
#   24, 48 or 96 filters per octave where that is wider than an FFT bin, and every bin kept as it is
#   below (the bass and the fundamentals of sustained parts); decoded like mel. The 48-band bank is
#   the generation default now (`generate.DEFAULT_REPRESENTATION`), chosen by the rule at the end. A constant-Q transform
#   (`librosa.cqt` with `librosa.griffinlim_cqt`) would be the textbook log-frequency representation,
#   but its inverse costs tens of seconds per 10 s clip here, far outside any budget of the series.
# - **log**: the log-magnitude STFT, every bin (513 at n_fft 1024, 1025 at 2048): only the phase is
#   lost, so this is the ceiling of phase reconstruction itself.
#
# All are decoded the same way: PGHI phase, then 32 iterations of fast Griffin-Lim (`pghi+fgla`).

# %%
reps = [make_representation(**{"sr": sr, "n_fft": 1024, "hop_length": 256, **spec}) for spec in GRID["reps"]]
default = sweep.label(generate.default_representation())
mel128 = sweep.label(make_representation(name="mel", sr=sr, n_fft=1024, hop_length=256, n_mels=128, scale="db"))
t0 = time.perf_counter()
ceilings = sweep.decode_ceilings(clips, sr=sr, reps=reps, method=METHOD, n_iter=N_ITER, seed=SEED)
ceiling_seconds = time.perf_counter() - t0
table = sweep.ceiling_table(ceilings)
columns = ["n_features", "frames_per_second", "sc_db", "sc_worst_db", "sc_best_db", "lsd_db", "real_time_factor"]
display(table[columns].rename(columns={"frames_per_second": "frames/s", "real_time_factor": "× real time"}))
print(f"{len(reps)} representations × {len(clips)} excerpts in {ceiling_seconds:.0f} s; "
      f"sc_db is the median over excerpts, sc_worst_db / sc_best_db the worst and best excerpt")

# %% [markdown]
# Per excerpt (SC in dB): where the bands hurt most. Songs with sustained tonal parts lose most in
# mel bands, whose low bands pool several FFT bins where the partials are sparse.

# %%
display(ceilings.pivot(index="clip", columns="label", values="sc_db")[list(table.index)])
sweep.plot_ceilings(table)
plt.show()

# %% [markdown]
# ## 2 · Window and hop
#
# The log-magnitude STFT (every bin, so only the phase is lost) at every window with every hop up to
# half of it: a hop of half the window gives half the frames of a quarter, and a window twice as long
# doubles the features. The table reads SC in dB by window (rows) and hop (columns).

# %%
t0 = time.perf_counter()
rows = sweep.sweep_settings(y, sr=sr, n_ffts=GRID["windows"], hop_lengths=GRID["hops"], representations=("log",),
                            methods=(METHOD,), n_iters=(N_ITER,), seed=SEED)
sweep_seconds = time.perf_counter() - t0
display(rows.pivot(index="n_fft", columns="hop_length", values="sc_db"))
print(f"{len(rows)} settings on {len(y) / sr:.1f} s in {sweep_seconds:.0f} s")
sweep.plot_tradeoffs(rows)
plt.show()

# %% [markdown]
# ## 3 · Phase method and iterations
#
# Every method of `musiclib.phase.METHODS` at n_fft 1024, hop 256, against the number of iterations:
# Griffin-Lim (`gla`), its fast form with momentum (`fgla`), Le Roux's consistency method (`le_roux`),
# phase-gradient heap integration alone (`pghi`, no iterations) and as the start of fast Griffin-Lim.

# %%
t0 = time.perf_counter()
curve = sweep.sweep_settings(y, sr=sr, n_ffts=(1024,), hop_lengths=(256,), representations=("log",),
                             methods=phase.METHODS, n_iters=GRID["curve_iters"], seed=SEED)
curve_seconds = time.perf_counter() - t0
display(curve.pivot(index="method", columns="n_iter", values="sc_db"))
print(f"{len(curve)} reconstructions in {curve_seconds:.0f} s")
sweep.plot_iteration_curve(curve)
plt.show()

# %% [markdown]
# ## Listening
#
# The first seconds of the excerpt where mel-128 (the earlier default) decodes worst, and their round trip
# through each representation (all at the same peak level). Listen for the dull, "underwater" sound of too few
# bands, and for how close the full STFT comes.

# %%
worst = ceilings[ceilings["label"] == mel128].sort_values("sc_db")["clip"].iloc[-1]
listen = clips[worst][: int(LISTEN_SECONDS * sr)]
listened = [sweep.decode_ceiling(listen, sr=sr, rep=rep, method=METHOD, n_iter=N_ITER, seed=SEED, keep_audio=True)
            for rep in reps]
players = [("original: " + worst, listen)]
players += [(r["label"], (r["y_hat"], {"features": r["n_features"], "SC dB": round(r["sc_db"], 1)})) for r in listened]
display(audio_table(players, sr=sr, title=f"{worst}: the original and its round trip through each representation "
                                          f"(SC of these {len(listen) / sr:g} s)"))

# %% [markdown]
# ## Try it yourself
#
# Pick a window, hop, representation, bands, phase method and iterations; see the original's
# spectrogram beside the reconstruction's and hear both, with the error, time and size
# (`musiclib.widgets.compare_settings`, on the first seconds of the excerpt). An exported HTML page
# cannot run the panel, so there it shows the same for a few settings instead: one change at a time
# from the log STFT at n_fft 1024, hop 256, including a hop of half the window, mel-128 and logfreq-48.

# %%
compare_settings(y[: int(min(2.5, len(y) / sr) * sr)], sr=sr, seed=SEED, settings=DEFAULT_GRID[: GRID["widget"]])

# %% [markdown]
# ## Conclusion: the representation for the generation notebooks
#
# The rule (`sweep.recommend`): among the settings within the budgets, the best median SC; settings
# within `TOLERANCE_DB` of it count as ties, and the tie that gives a model the fewest numbers per
# second wins. Two budgets decide it, both about the models rather than the audio: at most
# `MAX_FEATURES` features per frame (256: a next-frame model is as wide as its output, and every model
# of notebooks 02-07 must train on two cores within the demo's time; the 513 bins of the full STFT at
# n_fft 1024 made the linear notebook several times slower), and at most `MAX_FRAMES_PER_SECOND` frames
# per second (hop 256, the rate the sequence models' contexts are sized for). Without them the longest
# windows with the shortest hops win, at several times the features or twice the steps. Speed does not
# decide: every candidate decodes faster than real time with 32 iterations, and generation inverts with
# fewer
# (`generate.GENERATION_INVERSION`). The same rule with at most `COMPACT_FEATURES` features gives the
# alternative for models that must stay as small as mel-128. The numbers below are
# computed from this run.

# %%
budgets = {"max_features": MAX_FEATURES, "max_frames_per_second": MAX_FRAMES_PER_SECOND}
choice = sweep.recommend(table, tolerance_db=TOLERANCE_DB, **budgets)
compact = sweep.recommend(table, tolerance_db=TOLERANCE_DB, **dict(budgets, max_features=COMPACT_FEATURES))
stft = sweep.recommend(rows, tolerance_db=TOLERANCE_DB, max_frames_per_second=MAX_FRAMES_PER_SECOND)  # bins are pooled later
best, small = choice["setting"], compact["setting"]
print("RECOMMENDED REPRESENTATION:", choice["reason"], "\n")
print("COMPACT ALTERNATIVE:", compact["reason"], "\n")
print("WINDOW AND HOP (log STFT):", stft["reason"], "\n")
d, m = table.loc[default], table.loc[mel128]
print(f"THE GENERATION DEFAULT, {default} ({d['n_features']} features), decodes to {d['sc_db']:.1f} dB median "
      f"(worst excerpt {d['sc_worst_db']:.1f} dB); it {'is' if default == best.name else 'is NOT'} the "
      f"recommendation of this run. Mel-128, the earlier default, decodes to {m['sc_db']:.1f} dB "
      f"(worst {m['sc_worst_db']:.1f} dB): {m['sc_db'] - d['sc_db']:.1f} dB above the default "
      f"({m['sc_worst_db'] - d['sc_worst_db']:.1f} dB on the worst excerpt).")
RECOMMENDED = best["params"]  # representations.from_params(RECOMMENDED) rebuilds it
RECOMMENDED

# %% [markdown]
# The generation notebooks invert generated frames with fewer phase iterations and NNLS updates
# (`generate.GENERATION_INVERSION`). The same ceilings at those settings are what a generating notebook
# reports beside its card: `sweep.decode_ceiling(y, sr=sr, rep=rep, **generate.GENERATION_INVERSION)`.

# %%
by_label = {sweep.label(rep): rep for rep in reps}
at_generation = sweep.ceiling_table(sweep.decode_ceilings(
    clips, sr=sr, reps=[by_label[k] for k in dict.fromkeys([default, best.name, small.name, mel128])], seed=SEED,
    **generate.GENERATION_INVERSION))
display(at_generation[["n_features", "sc_db", "sc_worst_db", "sc_best_db", "real_time_factor"]]
        .rename(columns={"real_time_factor": "× real time"}))

# %% [markdown]
# ## Summary
#
# - Every setting is judged on the same reference STFTs; on its own grid a hop of half the window
#   looks best and is in fact the worst (section 2).
# - The representation decides more than the phase method: at the same 86 frames per second, pooling
#   the STFT into bands costs several dB before any model is trained (section 1), while PGHI plus fast
#   Griffin-Lim already comes close to what more iterations give (section 3).
# - Within the budgets the 48-band log-frequency bank keeps most; the full log STFT keeps more, at
#   513 features. Where a model needs mel-128's size, the
#   log-frequency bank of the same size keeps more in the median and far more on the worst excerpts
#   (songs with sustained tonal parts, whose partials mel's low bands pool), though mel's finer bands
#   between 1 and 8 kHz win on some bright excerpts (the per-excerpt table). The printed lines above
#   give the numbers; the headline below states the choice.
#
# Previous: [00 · A tour of the data](00_data_tour.ipynb). Next: [02 · Linear next-frame
# models](02_linear_regression.ipynb), the first notebook that generates frames.

# %%
display(headline(
    f"Recommended: {best.name} ({best['n_features']} features, {best['frames_per_second']:.0f} frames/s), "
    f"decode ceiling {best['sc_db']:.1f} dB SC (median of {len(clips)} excerpts); the generation notebooks use "
    f"{default} ({d['sc_db']:.1f} dB), where the earlier mel-128 default reached {m['sc_db']:.1f} dB."
))
print(f"notebook ran in {time.perf_counter() - t_start:.0f} s")
