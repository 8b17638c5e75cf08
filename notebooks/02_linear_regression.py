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
# # 02 · Linear next-frame models: ridge regression, logistic regression of levels, and a beat clock
#
# **Can a linear model that predicts the next spectrogram frame from the previous few generate
# music, what makes such a roll-out blow up or drone, and does a beat clock give it a pulse?**
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
# A few frames (46 ms) are far shorter than a beat, so nothing in such a model can keep time. The
# **beat clock** gives it the time: beat tracking of every training song (`musiclib.beats`) tells each
# frame where it falls in its beat and bar, and the ridge model with the clock reads sines and
# cosines of that phase (and their harmonics) beside the frames. While generating, a steady clock at
# the corpus's median tempo drives them. We train the same ridge model with and without the clock
# and compare them by ear, by their onset strength and by the musicality card's rhythm check.

# %% tags=["parameters"]
MODE = "demo"  # "small" (CI, seconds, sonic-pi-samples), "demo" (2 cores, under 2 minutes, nexuiz-music), "full"
SEED = 0
CORPUS_DIR = None  # None: the corpus for MODE (or $MUSICLIB_DATA); else a folder of audio files
TEMPERATURE = 1.0  # temperature of the ridge clips (residual noise scale)
LEVELS_TEMPERATURE = 0.5  # temperature of the logistic levels clips (softmax temperature)
BPM = None  # tempo of the generation clock; None: the training songs' median tempo

# %%
SETTINGS = {
    # max_duration / excerpt: seconds read per file and where from; context: frames the models see;
    # harmonics: of the beat and bar phase in the clock's inputs; alpha: ridge penalty; stride: every
    # stride-th training pair; levels: the logistic model; n_clips / prime / seconds: clips per model,
    # seconds of held-out audio primed with and generated; long: frames of the long blow-up roll-outs
    "small": {"max_duration": 3.0, "excerpt": "start", "context": 4, "harmonics": 8, "alpha": 10.0, "stride": 1,
              "levels": {"n_levels": 8, "n_components": 32, "epochs": 2},
              "n_clips": 2, "prime": 0.5, "seconds": 2.0, "long": 1500},
    "demo": {"max_duration": 30.0, "excerpt": "middle", "context": 4, "harmonics": 8, "alpha": 10.0, "stride": 2,
             "levels": {"n_levels": 16, "n_components": 64, "epochs": 2},
             "n_clips": 3, "prime": 1.0, "seconds": 8.0, "long": 8000},
    "full": {"max_duration": 60.0, "excerpt": "middle", "context": 8, "harmonics": 8, "alpha": 10.0, "stride": 1,
             "levels": {"n_levels": 24, "n_components": 128, "epochs": 20},
             "n_clips": 4, "prime": 2.0, "seconds": 20.0, "long": 20000},
}[MODE]
SETTINGS

# %%
import time

t_start = time.perf_counter()  # the notebook's clock, imports included

from musiclib.display import audio_table, headline, raw_and_processed, setup_notebook

rng = setup_notebook(seed=SEED)

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import display

from musiclib import generate
from musiclib.evaluation import card, compare, sweep
from musiclib.framing import Framing, frame_scaler, load_next_frame_data, transform_each
from musiclib.models.linear import LevelsNextFrame, RidgeNextFrame
from musiclib.postprocess import postprocess_params
from musiclib.tools import data, outputs

# %% [markdown]
# ## The data, the representation and the beats
#
# The corpus for `MODE` (`data.default_corpus_dir`: the 17 songs of nexuiz-music in demo mode, the
# Sonic Pi loops in small mode) is split by file: models learn from the train files, every clip is
# primed with and judged against held-out files. In demo mode each song contributes `max_duration`
# seconds from its middle. Frames come through the feature cache, in the series' representation
# (`generate.DEFAULT_REPRESENTATION`: a log-frequency filter bank in dB, 209 features, 86 frames per
# second, chosen in `01_spectrogram_settings`). Its decode ceiling -- how close encoding and decoding
# a held-out clip with the generation inversion gets, with no model at all -- bounds every model below.
#
# Every file's beats are tracked (`beats.track_beats`, which checks the tracker's tempo against the
# onset envelope's bar periodicity), giving each frame its phase in the beat and the bar.

# %%
rep = generate.default_representation()
nf = load_next_frame_data(CORPUS_DIR or data.default_corpus_dir(mode=MODE), rep,
                          max_duration=SETTINGS["max_duration"], excerpt=SETTINGS["excerpt"], seed=SEED, clock=True)
fps, sr, train, held_out = rep.frames_per_second, nf.sr, nf.train, nf.held_out
bpm = BPM or nf.tempo
print(nf.describe())
print(f"tempi of the training files (BPM): {sorted(round(b.tempo) for b in nf.train_beats if b is not None)}; "
      f"the clock runs at {bpm:.1f} BPM")
ceiling = sweep.decode_ceiling(nf.prime_clip.y, sr=sr, rep=rep, **generate.GENERATION_INVERSION)["sc_db"]
print(f"decode ceiling of the representation on {nf.prime_clip.name}: SC {ceiling:.1f} dB")

# %% [markdown]
# ## Ridge regression, with and without the clock
#
# Frames are standardised per band (scikit-learn's `StandardScaler`, fitted on the training files
# only); the training pairs are windows of `context` frames and the frame after, never crossing a
# file boundary (`musiclib.framing`). With the clock, each input also holds the clock's inputs for
# the frame to predict: `harmonics` harmonics of the beat phase and of the bar phase
# (`framing.clock_features`); the clock is an input, never predicted. Both are compared on held-out
# files with the simplest predictor, "the next frame equals the last one".

# %%
scaler = frame_scaler(nf.train_frames)
z_train, z_held = transform_each(scaler, nf.train_frames), transform_each(scaler, nf.held_frames)
framings = {"no clock": Framing(context=SETTINGS["context"]),
            "clock": Framing(context=SETTINGS["context"], clock=True, harmonics=SETTINGS["harmonics"])}
phases = {"no clock": (None, None), "clock": (nf.train_phases, nf.held_phases)}
ridge, mse, train_seconds = {}, {}, {}
for variant, framing in framings.items():
    X, Y = framing.dataset(z_train, phases=phases[variant][0], stride=SETTINGS["stride"])
    Xh, Yh = framing.dataset(z_held, phases=phases[variant][1])
    ridge[variant] = RidgeNextFrame(alpha=SETTINGS["alpha"], seed=SEED).fit(X, Y)
    train_seconds[f"ridge, {variant}"] = ridge[variant].fit_seconds_
    mse[f"ridge, {variant}"] = float(np.mean((ridge[variant].predict(Xh) - Yh) ** 2))
    print(f"ridge, {variant}: {len(X)} training pairs of {X.shape[1]} x {X.shape[2]}, trained in "
          f"{ridge[variant].fit_seconds_:.1f} s")
mse["repeat last frame"] = float(np.mean((Xh[:, SETTINGS["context"] - 1] - Yh) ** 2))
print("held-out one-step MSE (standardised units):", {k: round(v, 3) for k, v in mse.items()})
radius = ridge["no clock"].spectral_radius()
print(f"spectral radius of the roll-out's linear recursion (no clock): {radius:.4f} (< 1: it decays to a fixed point)")

# %% [markdown]
# ## The blow-up, and the guard
#
# Three long roll-outs of the clock-less ridge from the same held-out prime:
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
guard = generate.StabilityGuard.fit(nf.train_frames, rep)
print({k: (round(v, 2) if isinstance(v, float) else v) for k, v in guard.to_dict().items() if not k.startswith("feature_")})
n_prime = max(SETTINGS["context"], int(SETTINGS["prime"] * fps))
primes = [(f[:n_prime], p[:n_prime]) for f, p in zip(nf.held_frames, nf.held_phases) if len(f) > n_prime]
primes = primes[: SETTINGS["n_clips"]]
prime = primes[0][0]
long_runs = {}
t0 = time.perf_counter()
for label, temperature, g in (("T=0, guard on", 0.0, guard), ("T=1, guard off", 1.0, None),
                              ("T=1, guard on", 1.0, guard)):
    try:
        long_runs[label] = (generate.rollout(ridge["no clock"], prime, n_frames=SETTINGS["long"],
                                             temperature=temperature, guard=g, scaler=scaler, seed=SEED,
                                             progress=False), None)
    except generate.RolloutError as err:  # the guard-off recursion overflowed: keep what it made
        long_runs[label] = (err.frames, err.step)
print(f"3 roll-outs of {SETTINGS['long']} frames ({SETTINGS['long'] / fps:.0f} s each) in {time.perf_counter() - t0:.1f} s")

# %%
fig, ax = plt.subplots(figsize=(11, 3.2))
ax.axhspan(guard.low, guard.high, color="0.85", label="training range (guard low..high)")
for label, (fr, failed) in long_runs.items():
    ax.plot(np.arange(len(fr)) / fps, guard.energy(fr), lw=0.8,
            label=label + (f" (overflowed at frame {failed})" if failed else ""))
ax.set(xlabel="seconds generated", ylabel="frame energy (dB)", title="energy of long ridge roll-outs (no clock)")
ax.legend(loc="upper left", fontsize=8)
fig.tight_layout()

# %%
energy_table = pd.DataFrame({
    label: {"max dB": guard.energy(fr).max(), "min dB": guard.energy(fr).min(),
            "largest energy step dB": np.abs(np.diff(guard.energy(fr))).max(),
            "frame change dB": generate.mean_frame_change_db(fr, rep)}
    for label, (fr, _) in long_runs.items()}).T
real_change = float(np.mean([generate.mean_frame_change_db(f, rep) for f in nf.held_frames]))
real_step = max(float(np.abs(np.diff(guard.energy(f))).max()) for f in nf.held_frames)
print(f"training range {guard.low:.1f} .. {guard.high:.1f} dB; real held-out music: frame change "
      f"{real_change:.2f} dB, largest frame-to-frame energy step {real_step:.1f} dB")
energy_table.round(2)

# %% [markdown]
# ## Logistic regression of quantised levels
#
# Each band's next value is put into one of `n_levels` equal-frequency classes (edges fitted on the
# training targets), a softmax per band predicts the class from the context (first projected onto
# its principal components), trained by mini-batch Adam on the cross-entropy. To generate, each
# band's class is drawn from `softmax(logits / temperature)`: temperature 0 takes the most likely
# class, 1 samples the model's own distribution, above 1 flattens it. It sees the plain context
# (no clock).

# %%
X, Y = framings["no clock"].dataset(z_train, stride=SETTINGS["stride"])
Xh, Yh = framings["no clock"].dataset(z_held)
levels = LevelsNextFrame(seed=SEED, **SETTINGS["levels"]).fit(X, Y)
train_seconds["logistic levels"] = levels.fit_seconds_
mse["logistic levels (expected value)"] = float(np.mean((levels.predict(Xh) - Yh) ** 2))
print(f"trained in {levels.fit_seconds_:.1f} s; cross-entropy per epoch (chance "
      f"{np.log(SETTINGS['levels']['n_levels']):.2f}): {[round(v, 3) for v in levels.loss_history_]}; "
      f"held-out MSE of the expected value {mse['logistic levels (expected value)']:.3f}")

# %% [markdown]
# ## Clips
#
# Each model continues the first `prime` seconds of `n_clips` held-out songs; only the generated
# audio is kept. The clock of a clip starts from its prime's own tracked beat and bar phase and runs
# on at the clock's tempo (`generate.continue_clock`).

# %%
MODELS = {  # label -> (model, framing, temperature, clock)
    "ridge, no clock": (ridge["no clock"], framings["no clock"], TEMPERATURE, False),
    "ridge, clock": (ridge["clock"], framings["clock"], TEMPERATURE, True),
    "logistic levels": (levels, framings["no clock"], LEVELS_TEMPERATURE, False),
}
clips, frames_of, gen = {}, {}, {}
for label, (model, framing, temperature, clock) in MODELS.items():
    clips[label], frames_of[label], gen[label] = generate.generate_clips(
        model, [p for p, _ in primes], rep, seconds=SETTINGS["seconds"], temperature=temperature, guard=guard,
        scaler=scaler, framing=framing, seed=SEED, bpm=bpm if clock else None,
        prime_phases=[ph for _, ph in primes] if clock else None)
    print(f"{label:<18} {len(clips[label])} clips, {gen[label]['rtf']:.0f}x real time (roll-out and inversion)")
n_gen = len(frames_of["ridge, no clock"][0])
drone = long_runs["T=0, guard on"][0][:n_gen]
blow = long_runs["T=1, guard off"][0][:n_gen]
extra = {"ridge, T=0: the drone": generate.frames_to_audio(drone, rep, seed=SEED),
         "ridge, guard off": generate.frames_to_audio(blow, rep, seed=SEED)}

# %% [markdown]
# ## Listening
#
# The first clip of each model, with the held-out song it continues (its next seconds) for
# comparison. Players are peak-normalised so every clip can be heard; the guard-off clip's true level
# is in the energy plot above (and in its peak below).

# %%
real_name, real = compare.real_continuation(held_out.clips, start=n_prime * rep.hop_length,
                                           n_samples=int(SETTINGS["seconds"] * sr))
display(audio_table({f"real: {real_name} (after the prime)": real,
                     **{f"{label} (T={MODELS[label][2]})": c[0] for label, c in clips.items()},
                     **{k if "guard off" not in k else f"{k} (peak {np.abs(v).max():.0f} before normalising)": v
                        for k, v in extra.items()}},
                    sr=sr, title="the linear models, side by side"))

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
axes = compare.plot_frames(first_frames, rep, title="spectrograms of the first clip of each model", height=1.9)

# %% [markdown]
# ## Where the energy falls: onset strength against the clock
#
# The onset strength of the audio (`librosa.onset.onset_strength`) of the ridge clips without and
# with the clock; the clock's beats are marked. With the clock the attacks should line up with them.

# %%
beat_times = generate.clock_beats(gen["ridge, clock"]["clocks"][0][n_prime:], frames_per_second=fps)
axes = compare.plot_onset_strength({label: clips[label][0] for label in ("ridge, no clock", "ridge, clock")},
                                   sr=sr, beat_times=beat_times, bpm=bpm)

# %% [markdown]
# ## The musicality card
#
# Each model's clips measured against the training songs and the held-out songs
# (`musiclib.evaluation.card`); the rhythm check compares the periodicity of the clips' onset
# strength with that of real held-out music.

# %%
reference = [c.y for c in held_out.clips if len(c.y) >= 1.5 * sr]
training_audio = [c.y for c in train.clips if len(c.y) >= 1.5 * sr]
cards = compare.card_clips(clips, training=training_audio, reference=reference, sr=sr, seed=SEED, prefix="02")
compare.card_frame(cards, decode_ceiling=ceiling, index_name="model").round(2)

# %%
for label in ("ridge, no clock", "ridge, clock"):
    display(cards[label])

# %% [markdown]
# ## Measured results and saved clips
#
# Real-time factor = seconds of audio / seconds of roll-out and inversion (`benchmarks/generate.py`
# measures the same on fixed settings, median of several runs). The clips are saved with the model
# and variant in their parameters (`08_compare` shows one row per model and variant).

# %%
results = pd.DataFrame({
    label: {"train s": train_seconds[label],
            "roll-out s": gen[label]["rollout_s"], "inversion s": gen[label]["inversion_s"], "RTF": gen[label]["rtf"],
            "frame change dB": np.mean([generate.mean_frame_change_db(f, rep) for f in frames_of[label]]),
            "rhythm": cards[label].checks["rhythm"]["value"]}
    for label in MODELS}).T
print(f"real held-out music: frame change {real_change:.2f} dB")
display(results.round(2))

saved = {}
for label, (model, framing, temperature, clock) in MODELS.items():
    name, variant = ("ridge", "clock" if clock else "no clock") if label.startswith("ridge") else ("logistic levels", "no clock")
    saved[label] = outputs.save_clips(
        "02_linear_regression", clips[label], sr=sr, representation=rep,
        parameters={"model": name, "variant": variant, "clock_bpm": bpm if clock else None,
                    "context": SETTINGS["context"], "harmonics": SETTINGS["harmonics"] if clock else None,
                    "alpha": SETTINGS["alpha"], "temperature": temperature, "mode": MODE,
                    "inversion": generate.GENERATION_INVERSION, "decode_ceiling_sc_db": ceiling, "postprocess": POSTPROCESS,
                    **({"levels": SETTINGS["levels"]} if name == "logistic levels" else {})},
        seed=SEED, train_seconds=train_seconds[label], generate_seconds=gen[label]["rollout_s"] + gen[label]["inversion_s"])
print("saved:", {k: len(v) for k, v in saved.items()}, "clips under", saved["ridge, clock"][0].parent.parent)

# %% [markdown]
# ## Summary

# %%
rhythm = {label: cards[label].checks["rhythm"] for label in MODELS}
summary = {
    "mode": MODE,
    "training audio (s)": round(sum(map(len, nf.train_frames)) / fps),
    "clock tempo (BPM)": round(bpm, 1),
    "ridge spectral radius (no clock)": round(radius, 4),
    "max energy, guard off / on (dB)": (round(energy_table.loc["T=1, guard off", "max dB"], 1),
                                        round(energy_table.loc["T=1, guard on", "max dB"], 1)),
    "rhythm, ridge without / with the clock": (round(rhythm["ridge, no clock"]["value"], 2),
                                               round(rhythm["ridge, clock"]["value"], 2)),
    "rhythm threshold": rhythm["ridge, clock"]["threshold"],
    "cards failing blow-up": [label for label, c in cards.items() if c.checks["blowup"]["passed"] is False],
    "seconds to run this notebook": round(time.perf_counter() - t_start, 1),
}
display(pd.Series(summary, name="value", dtype=object).to_frame())  # every row computed above

# %%
display(headline(
    f"With a beat clock at {bpm:.0f} BPM the ridge model's rhythm value goes from "
    f"{compare.check_change(cards['ridge, no clock'], cards['ridge, clock'], 'rhythm')}, and the guard holds the clock-less roll-out's peak energy at "
    f"{energy_table.loc['T=1, guard on', 'max dB']:.0f} dB where it otherwise reaches "
    f"{energy_table.loc['T=1, guard off', 'max dB']:.0f} dB. {card.no_verdict(cards)}".strip()))

# %% [markdown]
# - Ridge regression of the next frame is a linear recursion with a spectral radius just below one:
#   without noise it settles into a drone, with noise it drifts far beyond anything in the training
#   data (the "blow-up"). The stability guard keeps the energy inside the training range over
#   thousands of frames, smoothly: its slope never exceeds one, so it adds no jumps of its own.
# - A few frames of context cannot keep time; the beat clock can. With the phase of the beat and the
#   bar (and their harmonics) as inputs, the same ridge model puts its attacks where the training
#   songs put theirs, relative to the beat: the onset strength of its clips peaks on the clock's
#   beats, and the card's rhythm value above says by how much more than without the clock.
# - Logistic regression works when it is used as a classifier: quantised levels, a softmax per band
#   and sampling with a temperature. It cannot blow up (every output is a class centre); its draws
#   are correlated across the bands of a frame but not across frames, so it sounds noisier.
# - Every model here is bounded by the representation's decode ceiling, printed beside the cards.
