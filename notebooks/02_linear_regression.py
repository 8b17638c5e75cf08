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
# # 02 · Linear next-frame models: ridge regression and logistic regression of levels
#
# **Can a linear model that predicts the next spectrogram frame from the previous few generate
# music, and what makes such a roll-out blow up or drone?**
#
# An earlier experiment predicted the next frame with logistic regression: the amplitude "blew up"
# to infinity, and clamping it gave clicks. Here we do the two linear models properly:
#
# - **ridge regression** of the next frame on the last `context` frames. Its roll-out is a linear
#   recursion; with noise it wanders, and nothing stops it leaving the range of real music. The
#   **stability guard** (`musiclib.generate.StabilityGuard`) keeps every frame's energy inside the
#   training range with a smooth, soft-knee gain in the log domain: no hard clipping, so no clicks.
# - **logistic regression in its proper form**: each band's next level is quantised into classes, a
#   multinomial (softmax) model predicts the class, and generation *samples* from that distribution
#   with a temperature, the char-rnn trick. Its outputs are class centres, so it cannot blow up.
#
# We show the blow-up with the guard off and its absence with the guard on, continue a held-out
# loop, and measure training and generation times.

# %% tags=["parameters"]
MODE = "demo"  # "small" (CI, seconds), "demo" (a 2-core laptop, about a minute), "full" (longer)
SEED = 0
CORPUS_DIR = None  # None: the default corpus (or $MUSICLIB_DATA); else a folder of audio files
PRIME_FILE = None  # None: the longest held-out loop; else a held-out file name or stem
TEMPERATURE = 1.0  # temperature of the ridge clips (residual noise scale)
LEVELS_TEMPERATURE = 0.5  # temperature of the logistic levels clips (softmax temperature)

# %%
SETTINGS = {
    # max_duration: seconds read per file; context: frames the models see; alpha: ridge penalty;
    # levels: the logistic model; prime / seconds: seconds of held-out audio primed with and generated;
    # long: frames of the long roll-outs that show the blow-up; temperatures: the sweep of the levels model
    "small": {"max_duration": 3.0, "context": 4, "alpha": 10.0,
              "levels": {"n_levels": 8, "n_components": 32, "epochs": 2},
              "prime": 0.5, "seconds": 2.0, "long": 1500, "temperatures": (0.0, 1.0)},
    "demo": {"max_duration": None, "context": 4, "alpha": 10.0,
             "levels": {"n_levels": 16, "n_components": 64, "epochs": 8},
             "prime": 1.0, "seconds": 8.0, "long": 10000, "temperatures": (0.0, 0.5, 1.0, 1.5)},
    "full": {"max_duration": None, "context": 8, "alpha": 10.0,
             "levels": {"n_levels": 24, "n_components": 128, "epochs": 20},
             "prime": 2.0, "seconds": 20.0, "long": 20000, "temperatures": (0.0, 0.5, 0.75, 1.0, 1.5)},
}[MODE]
SETTINGS

# %%
import dataclasses
import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from IPython.display import display

from musiclib import generate
from musiclib.evaluation import metrics
from musiclib.tools import data, outputs
from musiclib.display import audio_table, plot_representation, setup_notebook
from musiclib.framing import FrameScaler, Framing, load_next_frame_data
from musiclib.models.linear import LevelsNextFrame, RidgeNextFrame

rng = setup_notebook(seed=SEED)
t_start = time.perf_counter()

# %% [markdown]
# ## The representation
#
# Every generation notebook works in one representation, `generate.DEFAULT_REPRESENTATION`: a
# **log-frequency filter bank in dB** (every FFT bin below ~1.5 kHz, 48 bands per octave above; 209
# features), n_fft 1024, hop 256 (86 frames per second), chosen in `01_spectrogram_settings` because,
# of the representations small enough for every model of the series to train on two cores, it loses
# the least before any model sees it. Why dB values: the model's errors are relative (a 3 dB error is
# as audible in a quiet band as in a loud one), and the stability guard's gain is an addition. The
# inverse is a sparse non-negative least-squares fit for the linear magnitude, PGHI phase and 4 fast
# Griffin-Lim iterations (`generate.GENERATION_INVERSION`). Measured here on a held-out clip, against
# `rep.decode` with 32 iterations:

# %%
rep = generate.default_representation()
nf = load_next_frame_data(Path(CORPUS_DIR) if CORPUS_DIR else data.default_corpus_dir(), rep,
                          max_duration=SETTINGS["max_duration"], seed=SEED, prime_file=PRIME_FILE)
corpus, train, held_out, sr = nf.corpus, nf.train, nf.held_out, nf.sr
train_frames, held_frames, prime_clip = nf.train_frames, nf.held_frames, nf.prime_clip
print(nf.describe())

y_ref = prime_clip.y
frames_ref = rep.encode(y_ref)
inv = {}
for label, fn in {"generation default": lambda: generate.frames_to_audio(frames_ref, rep, length=len(y_ref)),
                  "rep.decode, 32 iterations": lambda: rep.decode(frames_ref, n_iter=32, length=len(y_ref))}.items():
    t0 = time.perf_counter()
    z = fn()
    seconds = time.perf_counter() - t0
    S_true, S_z = rep.magnitude(y_ref), rep.magnitude(z)
    inv[label] = (seconds, metrics.spectral_convergence(S_true, S_z))
for label, (s, sc) in inv.items():
    print(f"{label:<28} {len(y_ref) / sr / s:6.0f}x real time   SC {sc:6.1f} dB")

# %% [markdown]
# ## Ridge regression of the next frame
#
# Frames are standardised per band with a scaler fitted on the training files only; the training
# pairs are windows of `context` frames and the frame after, never crossing a file boundary
# (`musiclib.framing`). We compare the one-step error on held-out files with the simplest
# predictor, "the next frame equals the last one".

# %%
scaler = FrameScaler().fit(train_frames)
framing = Framing(context=SETTINGS["context"])
X, Y = framing.dataset(scaler.transform(train_frames))
Xh, Yh = framing.dataset(scaler.transform(held_frames))
ridge = RidgeNextFrame(alpha=SETTINGS["alpha"], seed=SEED).fit(X, Y)
train_seconds = {"ridge": ridge.fit_seconds_}
mse = {"ridge": float(np.mean((ridge.predict(Xh) - Yh) ** 2)), "repeat last frame": float(np.mean((Xh[:, -1] - Yh) ** 2))}
print(f"{len(X)} training pairs of {X.shape[1]} x {X.shape[2]}; ridge trained in {ridge.fit_seconds_:.2f} s")
print(f"held-out one-step MSE (standardised units): ridge {mse['ridge']:.3f}, repeat last frame {mse['repeat last frame']:.3f}")
print(f"spectral radius of the roll-out's linear recursion: {ridge.spectral_radius():.4f} (< 1: it decays to a fixed point)")

# %% [markdown]
# ## The blow-up, and the guard
#
# Three roll-outs from the same held-out prime:
#
# - **temperature 0**: the deterministic recursion. Its spectral radius is just below one, so it
#   slides to a fixed point: a drone.
# - **temperature 1, guard off**: each step adds a residual drawn from the training residuals. A
#   recursion this close to instability accumulates the noise, and the energy wanders far outside
#   anything in the training data: the "blow-up".
# - **temperature 1, guard on**: the same noise, the same seed, with the guard fitted on the training
#   frames. The guard computes each frame's energy (a log-sum-exp of its dB values), maps it through a
#   soft knee towards the training range (`low`, `high` below) and adds the difference as a gain;
#   per-band soft bounds do the same for single bands. Its slope never exceeds one, so it never makes
#   a frame-to-frame change larger than the model made it.

# %%
guard = generate.StabilityGuard.fit(train_frames, rep)
print({k: (round(v, 2) if isinstance(v, float) else v) for k, v in guard.to_dict().items() if not k.startswith("feature_")})
n_prime = framing.history
prime = frames_ref[: max(n_prime, int(SETTINGS["prime"] * rep.frames_per_second))]
n_long = SETTINGS["long"]


def long_rollout(temperature, g):
    """A long roll-out; where the model overflows (guard off), the frames up to that point."""
    try:
        return generate.rollout(ridge, prime, n_frames=n_long, temperature=temperature, guard=g, scaler=scaler,
                                seed=SEED, progress=False), None
    except generate.RolloutError as err:
        return err.frames, err.step


t0 = time.perf_counter()
long_runs = {"ridge, T=0, guard on": long_rollout(0.0, guard),
             "ridge, T=1, guard off": long_rollout(1.0, None),
             "ridge, T=1, guard on": long_rollout(1.0, guard)}
print(f"3 roll-outs of {n_long} frames ({n_long / rep.frames_per_second:.0f} s each) in {time.perf_counter() - t0:.1f} s")

fig, ax = plt.subplots(figsize=(11, 3.2))
ax.axhspan(guard.low, guard.high, color="0.85", label="training range (guard low..high)")
for label, (fr, failed) in long_runs.items():
    t = np.arange(len(fr)) / rep.frames_per_second
    ax.plot(t, guard.energy(fr), lw=0.8, label=label + (f" (overflowed at frame {failed})" if failed else ""))
ax.set(xlabel="seconds generated", ylabel="frame energy (dB)", title="energy of long ridge roll-outs")
ax.legend(loc="upper left", fontsize=8)
fig.tight_layout()

energy_table = {}
for label, (fr, failed) in long_runs.items():
    e = guard.energy(fr)
    gain_steps = np.abs(np.diff(e))
    energy_table[label] = {"max dB": round(float(e.max()), 1), "min dB": round(float(e.min()), 1),
                           "largest frame-to-frame energy step dB": round(float(gain_steps.max()), 2),
                           "flux dB/frame": round(generate.spectral_flux(fr, rep), 2)}
    print(f"{label:<24}", energy_table[label])
real_steps = max(float(np.abs(np.diff(guard.energy(f))).max()) for f in held_frames if len(f) > 2)
print(f"training range: {guard.low:.1f} .. {guard.high:.1f} dB; real held-out music: flux "
      f"{np.mean([generate.spectral_flux(f, rep) for f in held_frames if len(f) > 2]):.2f} dB/frame, "
      f"largest frame-to-frame energy step {real_steps:.1f} dB")

# %% [markdown]
# ## Logistic regression of quantised levels
#
# Each band's next value is put into one of `n_levels` equal-frequency classes (edges fitted on the
# training targets), a softmax per band predicts the class from the context (first projected onto
# its principal components), trained by mini-batch Adam on the cross-entropy. To generate, each
# band's class is drawn from `softmax(logits / temperature)`: temperature 0 takes the most likely
# class, 1 samples the model's own distribution, above 1 flattens it.

# %%
levels = LevelsNextFrame(seed=SEED, **SETTINGS["levels"]).fit(X, Y)
train_seconds["logistic levels"] = levels.fit_seconds_
chance = np.log(SETTINGS["levels"]["n_levels"])
print(f"trained in {levels.fit_seconds_:.1f} s; cross-entropy per epoch (chance {chance:.2f}): "
      f"{[round(v, 3) for v in levels.loss_history_]}; most-likely-class accuracy {levels.accuracy_:.2f}")
mse["logistic levels (expected value)"] = float(np.mean((levels.predict(Xh) - Yh) ** 2))
print(f"held-out one-step MSE of the expected value: {mse['logistic levels (expected value)']:.3f}")

n_gen = int(SETTINGS["seconds"] * rep.frames_per_second)
sweep = {}
for T in SETTINGS["temperatures"]:
    fr = generate.rollout(levels, prime, n_frames=n_gen, temperature=T, guard=guard, scaler=scaler, seed=SEED,
                          progress=False)
    sweep[T] = fr
    e = guard.energy(fr)
    print(f"temperature {T:4.2f}: flux {generate.spectral_flux(fr, rep):5.2f} dB/frame, energy {e.min():6.1f} .. {e.max():5.1f} dB")

# %% [markdown]
# ## Clips and a continuation of a held-out loop
#
# The clips to listen to are made at `TEMPERATURE` (ridge) and `LEVELS_TEMPERATURE` (levels). The
# continuation primes each model with the first seconds of the held-out loop and returns those
# seconds unchanged followed by the continuation; the two are joined by a short equal-power
# crossfade at the seam.

# %%
gen_seconds, clips, frames_of = {}, {}, {}
temperature_of = {"ridge": TEMPERATURE, "logistic levels": LEVELS_TEMPERATURE}
for label, model in {"ridge": ridge, "logistic levels": levels}.items():
    t0 = time.perf_counter()
    fr = generate.rollout(model, prime, n_frames=n_gen, temperature=temperature_of[label], guard=guard, scaler=scaler,
                          seed=SEED, progress=False)
    t1 = time.perf_counter()
    y = generate.frames_to_audio(fr, rep, seed=SEED)
    t2 = time.perf_counter()
    gen_seconds[label] = (t1 - t0, t2 - t1)
    clips[label], frames_of[label] = y, fr
blow = long_runs["ridge, T=1, guard off"][0][:n_gen]
clips["ridge, guard off"] = generate.frames_to_audio(blow, rep, seed=SEED)
frames_of["ridge, guard off"] = blow
clips["ridge, T=0 (drone)"] = generate.frames_to_audio(long_runs["ridge, T=0, guard on"][0][:n_gen], rep, seed=SEED)
frames_of["ridge, T=0 (drone)"] = long_runs["ridge, T=0, guard on"][0][:n_gen]

continuations = {}
prime_s = min(SETTINGS["prime"], len(y_ref) / sr - 0.25)
for label, model in {"ridge": ridge, "logistic levels": levels}.items():
    continuations[label] = generate.continue_audio(
        model, rep, y_ref, sr=sr, start=0.0, prime_seconds=prime_s, seconds=SETTINGS["seconds"], scaler=scaler,
        guard=guard, temperature=temperature_of[label], seed=SEED, progress=False)
seam = int(round(prime_s * sr))
assert all(np.array_equal(c[:seam], y_ref[:seam]) for c in continuations.values())  # the prime is returned unchanged

# %% [markdown]
# ## Listening
#
# Players are peak-normalised so that every clip can be heard; the guard-off clip's true level is in
# the energy plot above (and in its peak below).

# %%
display(audio_table({f"real: {prime_clip.name}": y_ref,
                     **{f"{k} (T={temperature_of[k]})": v for k, v in clips.items() if k in temperature_of},
                     "ridge, T=0: the drone": clips["ridge, T=0 (drone)"],
                     f"ridge, guard off (peak {np.abs(clips['ridge, guard off']).max():.0f} before normalising)":
                         clips["ridge, guard off"],
                     **{f"continuation, {k} (seam at {prime_s:.2f} s)": v for k, v in continuations.items()}},
                    sr=sr, title="generated by the linear models"))

# %%
show = {f"real: {prime_clip.name}": frames_ref, **frames_of,
        **{f"continuation, {k}": rep.encode(v) for k, v in continuations.items()}}
fig, axes = plt.subplots(len(show), 1, figsize=(11, 1.9 * len(show)))
for ax, (label, fr) in zip(axes, show.items()):
    plot_representation(fr, rep, ax=ax, title=label, colorbar=False)
    if label.startswith("continuation"):
        ax.axvline(prime_s, color="w", ls="--", lw=1)
fig.tight_layout()

# %% [markdown]
# ## Measured results
#
# Real-time factor = seconds of audio / seconds of roll-out and inversion (`benchmarks/generate.py`
# measures the same on fixed settings, median of several runs).

# %%
real_flux = np.mean([generate.spectral_flux(f, rep) for f in held_frames if len(f) > 2])
print(f"{'model':<18}{'train s':>9}{'roll-out s':>12}{'invert s':>10}{'RTF':>7}{'flux dB/frame':>15}")
for label in ("ridge", "logistic levels"):
    r, i = gen_seconds[label]
    print(f"{label:<18}{train_seconds[label]:>9.2f}{r:>12.3f}{i:>10.3f}{SETTINGS['seconds'] / (r + i):>7.0f}"
          f"{generate.spectral_flux(frames_of[label], rep):>15.2f}")
print(f"{'real (held out)':<18}{'':>9}{'':>12}{'':>10}{'':>7}{real_flux:>15.2f}")
print("one-step held-out MSE:", {k: round(v, 3) for k, v in mse.items()})

# %% [markdown]
# ## Saved clips and the musicality card

# %%
saved = outputs.save_clips(
    "02_linear_regression", [clips["ridge"], clips["logistic levels"], *continuations.values()], sr=sr,
    representation=rep,
    parameters={"models": ["ridge", "logistic levels", "ridge continuation", "logistic levels continuation"],
                "context": SETTINGS["context"], "alpha": SETTINGS["alpha"], **SETTINGS["levels"],
                "temperature": temperature_of, "guard": {k: v for k, v in guard.to_dict().items() if not k.startswith("feature_")},
                "inversion": generate.GENERATION_INVERSION, "mode": MODE},
    seed=SEED, train_seconds=sum(train_seconds.values()), generate_seconds=sum(sum(v) for v in gen_seconds.values()))
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
    for label in ("ridge", "logistic levels"):
        display(card.musicality_card([clips[label], continuations[label][seam:]], training=training_audio,
                                     reference=reference, sr=sr, label=f"02 {label}", seed=SEED, features=features))

# %% [markdown]
# ## Summary

# %%
summary = {
    "mode": MODE,
    "ridge spectral radius": round(ridge.spectral_radius(), 4),
    "max energy, guard off / on (dB)": (energy_table["ridge, T=1, guard off"]["max dB"],
                                        energy_table["ridge, T=1, guard on"]["max dB"]),
    "training energy range (dB)": (round(guard.low, 1), round(guard.high, 1)),
    "flux T=0 / T=1 ridge / real (dB/frame)": (energy_table["ridge, T=0, guard on"]["flux dB/frame"],
                                               round(generate.spectral_flux(frames_of["ridge"], rep), 2), round(real_flux, 2)),
    "training seconds": {k: round(v, 2) for k, v in train_seconds.items()},
    "seconds to run this notebook": round(time.perf_counter() - t_start, 1),
}
for k, v in summary.items():
    print(f"{k:>42}: {v}")

# %% [markdown]
# - Ridge regression of the next log-mel frame is a linear recursion with a spectral radius just
#   below one: without noise it settles into a drone, with noise it drifts tens of dB beyond anything
#   in the training data (the "blow-up"). The stability guard keeps the energy inside the training
#   range over thousands of frames, smoothly: its slope never exceeds one, so it adds no jumps of its
#   own (the largest frame-to-frame energy step of the guarded roll-out is that of real music, the
#   unguarded one's is larger), and there are no clicks.
# - Logistic regression works when it is used as a classifier: quantised levels, a softmax per band
#   and sampling with a temperature. It cannot blow up (every output is a class centre), and the
#   temperature is a direct knob on how much it varies. Its draws are correlated across the bands of
#   a frame but not across frames, so at temperature 1 it sounds noisy (a flux far above real
#   music's); around 0.5 it is closer. As a point predictor it is weaker than ridge.
# - Both train in seconds and generate far faster than real time; inverting the frames to audio
#   costs more than the models.
#
# **Previous:** [01 · Spectrogram settings](01_spectrogram_settings.ipynb) · **Next:** [03 · Trees](03_trees.ipynb)
