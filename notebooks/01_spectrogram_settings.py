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
# # 01 · Spectrogram settings: window, hop, representation and phase
#
# **Which window length, hop, representation (linear magnitude, or mel with 64, 128 or 256 bands) and
# phase-reconstruction method should the generation notebooks use?**
#
# Every later notebook turns audio into spectrogram frames, lets a model produce new frames, and turns
# those back into audio. The frames keep only the magnitude, so the way back needs a phase, and the
# settings decide how much is lost on the way, how long the way back takes, and how many numbers a
# model must predict per second. Here we measure all three for each setting on a 10 s excerpt of the
# corpus, with no model in between: whatever a setting loses here, every model that uses it loses too.
#
# How we measure, and why:
#
# - **Error** is the *spectral convergence* (SC) between the STFT magnitude of the reconstruction and
#   the true magnitude of the original at the same window and hop,
#   $20\log_{10}\lVert S-\hat S\rVert_F/\lVert S\rVert_F$ dB (lower is better; around −20 dB and below
#   sounds close to the original, around −10 dB is audibly phasey or smeared), and the *log-spectral
#   distance* (LSD), which weights quiet bins more. We do **not** compare waveforms: a reconstruction
#   with another phase sounds the same and has a huge waveform error, so waveform error after
#   Griffin-Lim measures the phase, not the sound.
# - For **mel** frames we also report the SC measured between mel bands (as close as the bands can
#   tell) and the **ceiling**: the SC of the linear magnitude that non-negative least squares recovers
#   from the bands, before any phase is involved. No phase method can undo what the bands leave out.
# - **Time** is wall time (`time.perf_counter`) of encode and decode, as seconds of compute per second
#   of audio; the hop is always a quarter of the window, which keeps the cost per iteration roughly
#   flat across windows.
# - **Size** is the float32 frames in kB per second of audio, and the number of features per frame
#   (the width a model must predict).

# %% tags=["parameters"]
MODE = "demo"  # "small" (CI, seconds), "demo" (a 2-core laptop, under a minute), "full" (every combination)
SEED = 0
CORPUS_DIR = None  # None: the default corpus (or $MUSICLIB_DATA); else a folder of audio files
EXCERPT_SECONDS = 10.0  # length of the study excerpt (small mode uses at most 2.5 s)
METHOD = "pghi+fgla"  # the phase method of the window sweep
N_ITER = 32  # phase iterations of the sweep
MAX_SECONDS_PER_SECOND = 0.1  # time budget of the recommendation: compute s per s of audio (0.1 = 10x real time)
MAX_FEATURES = 513  # size budget of the recommendation: features per frame a model must predict

# %%
ALL_WINDOWS = (64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384)
GRID = {
    # windows: the window sweep of the linear magnitude; mel_windows x mel_bands: the same for mel
    # frames; band_window x n_mels: every band count at one window; method_windows: all phase methods
    # (linear); curve_n_fft / curve_iters: error vs iterations; listen_seconds: length of the players
    "small": {
        "excerpt_seconds": min(EXCERPT_SECONDS, 2.5), "windows": (128, 512, 2048), "mel_windows": (64, 512),
        "mel_bands": (128,), "band_window": 512, "n_mels": (64, 128), "method_windows": (512,),
        "curve_n_fft": 512, "curve_iters": (0, 4, 16, 32), "listen_seconds": 2.5,
    },
    "demo": {
        "excerpt_seconds": EXCERPT_SECONDS, "windows": ALL_WINDOWS, "mel_windows": (256, 1024, 4096),
        "mel_bands": (128,), "band_window": 1024, "n_mels": (64, 128, 256), "method_windows": (512, 2048),
        "curve_n_fft": 1024, "curve_iters": (0, 4, 8, 16, 32, 64), "listen_seconds": 5.0,
    },
    "full": {
        "excerpt_seconds": EXCERPT_SECONDS, "windows": ALL_WINDOWS, "mel_windows": ALL_WINDOWS,
        "mel_bands": (64, 128, 256), "band_window": 1024, "n_mels": (64, 128, 256), "method_windows": ALL_WINDOWS,
        "curve_n_fft": 1024, "curve_iters": (0, 4, 8, 16, 32, 64, 128, 256), "listen_seconds": EXCERPT_SECONDS,
    },
}[MODE]
GRID

# %%
import os
import time
import warnings
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from IPython.display import display

from musiclib import phase
from musiclib.evaluation import sweep
from musiclib.tools import data
from musiclib.corpus import find_audio_files, load_corpus
from musiclib.display import audio_table, plot_spectrogram, setup_notebook
from musiclib.errors import ParameterError
from musiclib.representations import LinearSpectrogram
from musiclib.widgets import compare_settings

rng = setup_notebook(seed=SEED)
t_start = time.perf_counter()
# librosa warns when a mel band is narrower than one FFT bin (few bins, many bands): those settings
# stay in the study, and their ceiling shows what the empty bands cost.
warnings.filterwarnings("ignore", message="Empty filters detected in mel frequency basis")

# %% [markdown]
# ## The excerpt
#
# The loudest stretch of each loop in turn, joined with 10 ms fades until the excerpt is long enough
# (`sweep.make_excerpt`): breakbeats, house and ambient loops, so the excerpt has both sharp drum hits
# (which favour short windows) and sustained tones (which favour long ones).

# %%
root = Path(CORPUS_DIR) if CORPUS_DIR else data.default_corpus_dir()
files = find_audio_files(root)
loops = [p for p in files if p.stem.startswith("loop_")] or files
n_pieces = 4
corpus = load_corpus(loops, max_duration=30.0, progress=False)
sr = corpus.sr
piece_seconds = GRID["excerpt_seconds"] / n_pieces
y = sweep.make_excerpt([c.y for c in corpus], sr=sr, duration=GRID["excerpt_seconds"], piece_seconds=piece_seconds)
used, total = [], 0.0  # which loops the excerpt holds (make_excerpt takes them in order, skipping silent ones)
for clip in (c for c in corpus if np.any(c.y)):
    if total >= GRID["excerpt_seconds"]:
        break
    used.append(clip.path.stem)
    total += min(clip.duration, piece_seconds)
print(f"{root}: {len(loops)} loops; excerpt of {len(y) / sr:.1f} s at {sr} Hz from {', '.join(used)}")
ax = plot_spectrogram(LinearSpectrogram(n_fft=1024, sr=sr).magnitude(y), sr=sr, hop_length=256,
                      title="the excerpt (n_fft 1024, hop 256)")
plt.show()

# %% [markdown]
# ## The sweep
#
# Every window from 64 to 16 384 samples (2.9 ms to 743 ms at 22 050 Hz), hop a quarter of the window,
# for the linear magnitude and for mel frames with 64, 128 and 256 bands, decoded with PGHI as the
# initial phase and 32 iterations of fast Griffin-Lim (`pghi+fgla`, `musiclib.representations`'
# default). Then every phase method of `musiclib.phase.METHODS` at 32 iterations at a few windows, and
# the error against the number of iterations for every method at one window.
#
# **What the demo grid leaves out, and why.** The whole demo sweep has to run in under 30 s on a 2-core
# laptop, and decoding mel frames costs several times more than decoding a linear magnitude: the
# linear magnitude has to be recovered from the bands first (non-negative least squares), and the
# phase iterations re-fit it to the bands at every step. So in demo mode the mel sweep runs 128 bands
# at three windows (256, 1024, 4096) and all three band counts at 1024, and the method comparison uses
# two windows plus the iteration curve (which runs every method at 32 iterations at 1024).
# `MODE = "full"` runs every combination. Settings
# that cannot exist (more mel bands than frequency bins) are listed with the reason, not run.

# %%
timings = {}
t0 = time.perf_counter()
rows_linear = sweep.sweep_settings(
    y, sr=sr, n_ffts=GRID["windows"], representations=("linear",), methods=(METHOD,), n_iters=(N_ITER,),
    seed=SEED, keep_audio=True, progress=False,
)
timings["window sweep, linear"] = time.perf_counter() - t0
t0 = time.perf_counter()
mel_kwargs = dict(sr=sr, representations=("mel",), methods=(METHOD,), n_iters=(N_ITER,), seed=SEED,
                  keep_audio=True, progress=False)
rows_mel = sweep.sweep_settings(y, n_ffts=GRID["mel_windows"], n_mels=GRID["mel_bands"], **mel_kwargs)
done = {(r["n_fft"], r["n_mels"]) for r in rows_mel}
more_bands = tuple(m for m in GRID["n_mels"] if (GRID["band_window"], m) not in done)
if more_bands:
    rows_mel += sweep.sweep_settings(y, n_ffts=(GRID["band_window"],), n_mels=more_bands, **mel_kwargs)
timings["mel sweep"] = time.perf_counter() - t0
t0 = time.perf_counter()
other_methods = tuple(m for m in phase.METHODS if m != METHOD)
rows_methods = sweep.sweep_settings(
    y, sr=sr, n_ffts=GRID["method_windows"], representations=("linear",), methods=other_methods,
    n_iters=(N_ITER,), seed=SEED, keep_audio=True, progress=False,
)
timings["phase methods"] = time.perf_counter() - t0
t0 = time.perf_counter()
curve = sweep.iteration_curve(
    y, sr=sr, n_fft=GRID["curve_n_fft"], methods=phase.METHODS, n_iters=GRID["curve_iters"], seed=SEED,
    progress=False,
)
timings["iteration curve"] = time.perf_counter() - t0
sweep_seconds = sum(timings.values())
rows = rows_linear + rows_mel + rows_methods
ran = [r for r in rows if not r["skipped"]]
load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
print(f"{len(ran)} settings run, {len(rows) - len(ran)} skipped, iteration curve of {len(curve)} points")
print(f"whole sweep on the {len(y) / sr:.1f} s excerpt: {sweep_seconds:.1f} s "
      f"({os.cpu_count()} cores, load average {load:.1f} while it ran)")
for what, seconds in timings.items():
    print(f"  {what:<22} {seconds:6.1f} s")

# %% [markdown]
# ## Results
#
# One row per setting. `sc_db` and `lsd_db` compare with the true linear magnitude; for mel rows,
# `ceiling_sc_db` is what the bands leave before phase and `sc_mel_db` the error between mel bands.
# `seconds` is encode plus decode, `real_time_factor` audio seconds per compute second.

# %%
display(sweep.rows_to_table(ran, title=f"{len(ran)} settings on {len(y) / sr:.1f} s of audio"))
skipped = [r for r in rows if r["skipped"]]
if skipped:
    print("not run:")
    for r in skipped:
        print(f"  {r['label']}: {r['skipped']}")

# %% [markdown]
# ## Listening
#
# The original and a selection of reconstructions (the first seconds of each, all at the same peak
# level). Listen for smeared drum hits at long windows, a buzzy, rough top end at short ones, and a
# dull, "underwater" sound where the mel bands are too few.

# %%
def pick(representation, n_fft, method=METHOD, n_mels=None):
    for r in ran:
        if (r["representation"], r["n_fft"], r["method"], r["n_mels"]) == (representation, n_fft, method, n_mels):
            return r
    return None


listen = int(GRID["listen_seconds"] * sr)
mid = GRID["curve_n_fft"]
wanted = [("linear", min(GRID["windows"]), METHOD, None), ("linear", mid, METHOD, None),
          ("linear", max(GRID["windows"]), METHOD, None)]
wanted += [("linear", GRID["method_windows"][0], m, None) for m in ("gla", "pghi")]
wanted += [("mel", GRID["band_window"], METHOD, m) for m in GRID["n_mels"]]
clips = [("original", y[:listen])]
for key in wanted:
    r = pick(*key)
    if r is not None:
        columns = {"SC dB": round(r["sc_db"], 1)}
        if r["ceiling_sc_db"] is not None:
            columns["ceiling dB"] = round(r["ceiling_sc_db"], 1)
        columns["× real time"] = round(r["real_time_factor"], 1)
        clips.append((r["label"], (r["audio"][:listen], columns)))
display(audio_table(clips, sr=sr, title="original and reconstructions from the magnitude frames alone"))

# %% [markdown]
# ## Trade-offs
#
# Error, time and size against the window length (log scale). The dashed lines are the mel ceilings:
# a mel line cannot go below its dashed line by better phase alone. Then the error against the number
# of phase iterations for every method at one window.

# %%
fig = plt.figure(figsize=(15, 8.5), constrained_layout=True)
grid_spec = fig.add_gridspec(2, 3)
axes = [fig.add_subplot(grid_spec[0, i]) for i in range(3)]
sweep.plot_tradeoffs(rows_linear + rows_mel, axes=axes)
ax_curve = fig.add_subplot(grid_spec[1, 0:2])
sweep.plot_iteration_curve(curve, ax=ax_curve)
ax_methods = fig.add_subplot(grid_spec[1, 2])
method_rows = sorted((r for r in ran if r["representation"] == "linear" and r["n_fft"] in GRID["method_windows"]),
                     key=lambda r: (r["n_fft"], r["method"]))
labels = [f"{r['method']}\n{r['n_fft']}" for r in method_rows]
ax_methods.barh(labels, [r["sc_db"] for r in method_rows],
                color=[f"C{phase.METHODS.index(r['method'])}" for r in method_rows])
ax_methods.invert_yaxis()
ax_methods.set(xlabel="spectral convergence (dB)", title=f"phase methods at {N_ITER} iterations")
plt.show()

# %%
display(sweep.rows_to_table(
    [c for c in curve if c["n_iter"] in (0, N_ITER, max(GRID["curve_iters"]))],
    ["method", "n_iter", "sc_db", "lsd_db", "seconds"],
    title=f"error vs iterations at n_fft {GRID['curve_n_fft']} (seconds: the reconstruction alone)",
))

# %% [markdown]
# ## Try it yourself
#
# Pick a window, hop, representation, bands, phase method and iterations, and hear the result with its
# error, time and size (`musiclib.widgets.compare_settings`, on the first seconds of the excerpt). An
# exported HTML page cannot run the panel, so there it shows a static table of a few settings instead
# (one change at a time from n_fft 1024, including a hop of half the window and the log magnitude).

# %%
# the static form (an exported page, or a run without a live kernel) measures STATIC_GRID
STATIC_GRID = {
    "small": [
        {"representation": "linear", "n_fft": 512, "method": "pghi+fgla", "n_iter": 32},
        {"representation": "linear", "n_fft": 512, "method": "gla", "n_iter": 32},
    ],
}.get(MODE, [
    {"representation": "linear", "n_fft": 1024, "method": "pghi+fgla", "n_iter": 32},
    {"representation": "linear", "n_fft": 1024, "method": "pghi", "n_iter": 0},
    {"representation": "linear", "n_fft": 1024, "method": "gla", "n_iter": 32},
    {"representation": "linear", "n_fft": 1024, "hop_length": 512, "method": "pghi+fgla", "n_iter": 32},
    {"representation": "log", "n_fft": 1024, "method": "pghi+fgla", "n_iter": 32},
    {"representation": "mel", "n_fft": 1024, "n_mels": 128, "method": "pghi+fgla", "n_iter": 32},
])
compare_settings(y[: int(min(3.0, GRID["excerpt_seconds"]) * sr)], sr=sr, seed=SEED, settings=STATIC_GRID)

# %% [markdown]
# ## Conclusion: the setting for the generation notebooks
#
# The rule (`sweep.recommend`): among the settings that decode at least 10× faster than real time
# (`MAX_SECONDS_PER_SECOND`) and give a model at most `MAX_FEATURES` features per frame, take the best
# spectral convergence; settings within 1 dB of the best count as ties, and the fastest tie wins. The
# same rule restricted to mel frames gives the compact alternative for models that need fewer
# features. The numbers below are computed from this run, not written by hand; on a busy machine the
# times, and with them the choice among near-ties, can move.

# %%
def recommend_or_explain(**kwargs):
    try:
        return sweep.recommend(ran, max_features=MAX_FEATURES, **kwargs)
    except ParameterError as error:  # nothing fits the time budget on a very busy machine
        print(f"{error}\n-> the same rule without the time budget:")
        return sweep.recommend(ran, max_features=MAX_FEATURES, **dict(kwargs, max_seconds_per_second=None))


choice = recommend_or_explain(max_seconds_per_second=MAX_SECONDS_PER_SECOND)
compact = recommend_or_explain(max_seconds_per_second=MAX_SECONDS_PER_SECOND, representations=("mel",))
print("RECOMMENDED:", choice["reason"], "\n")
print("COMPACT ALTERNATIVE (mel):", compact["reason"])
RECOMMENDED = {k: choice["setting"][k] for k in ("representation", "n_fft", "hop_length", "n_mels", "method", "n_iter")}
RECOMMENDED

# %% [markdown]
# ## Summary
#
# - Error is measured against the true STFT magnitude (spectral convergence and log-spectral distance),
#   never as waveform error after phase reconstruction; mel settings carry their ceiling beside them.
# - The hop is a fixed quarter of the window, so the time per setting stays in the same range from 64 to
#   16 384 samples; the sweep's measured total is printed above.
# - The recommended setting and the compact mel alternative are printed above with their numbers; the
#   generation notebooks start from `RECOMMENDED`.
#
# Previous: [00 · A tour of the data](00_data_tour.ipynb). Next: [02 · Linear next-frame
# models](02_linear_regression.ipynb), the first notebook that generates frames; it and the later
# models choose between the recommended linear setting and the compact mel alternative by how many
# features per frame their model can predict.

# %%
summary = {
    "excerpt seconds": round(len(y) / sr, 1),
    "settings run / skipped": (len(ran), len(rows) - len(ran)),
    "sweep seconds": round(sweep_seconds, 1),
    "recommended": choice["setting"]["label"],
    "recommended SC dB": round(choice["setting"]["sc_db"], 1),
    "compact alternative": compact["setting"]["label"],
    "seconds to run this notebook": round(time.perf_counter() - t_start, 1),
}
summary
