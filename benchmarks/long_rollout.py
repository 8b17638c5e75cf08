"""Does each sequence model stay music for ten minutes? Long roll-outs, carded at their start, middle and end.

Next-frame models drift: they are trained on real frames and fed their own. This benchmark trains
every autoregressive model of the series on the corpus for ``--corpus`` (``data.default_corpus_dir``:
sonic-pi-samples for ``small``, nexuiz-music for ``demo``; 30 s from the middle of each file), at
sizes that train in a minute or two on two cores, and rolls each one out for ``--minutes`` minutes
in one piece through the path its notebook uses:

=============== ==================================================================================
model           notebook, what is rolled out
=============== ==================================================================================
ridge           02: ridge regression with the beat clock, residual noise (``generate.generate_clips``)
levels          02: logistic regression of quantised levels, softmax sampling
tree / forest   03: decision tree / random forest on PCA components, with the clock; leaf sampling
xgboost         03: gradient-boosted trees, the same framing
mlp / lstm      04: Keras next-frame models with the clock, residual-bootstrap noise
cnn             04: the dilated causal CNN, with the clock (``keras_seq.generate_audio``)
lstm-vae        04: the LSTM+VAE (here in the series' representation, not FFT/DCT), sampled latent
vqvae-prior     05: the LSTM prior over VQ-VAE codes, beat after beat, decoded and stitched
=============== ==================================================================================

Each roll-out starts from the first second of the longest held-out file, runs with the stability
guard fitted on the training frames, is inverted to audio in one pass, and its first, middle and
last minute go through the musicality card against the held-out songs. Printed: a table of model x
minute x check (blow-up, drone, noise: value and threshold, and rhythm for information) and the wall
time of each model (training, generation, cards). The run fails (exit 1) when any minute of any
model fails blow-up, drone or noise, or holds a non-finite sample.

Run: ``.venv/bin/python benchmarks/long_rollout.py [--corpus small|demo] [--minutes 10] [--only lstm ridge]``.
The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

CHECKED = ("blowup", "drone", "noise")
SHOWN = (*CHECKED, "rhythm")
MODELS = ("ridge", "levels", "tree", "forest", "xgboost", "mlp", "lstm", "cnn", "lstm-vae", "vqvae-prior")
#: Temperatures as the notebooks' defaults (02 TEMPERATURE / LEVELS_TEMPERATURE, 03, 04, 05 PRIOR_TEMPERATURE).
TEMPERATURE = {"ridge": 1.0, "levels": 0.5, "tree": 1.0, "forest": 1.0, "xgboost": 1.0, "mlp": 0.7, "lstm": 0.7,
               "cnn": 0.7, "lstm-vae": 0.7, "vqvae-prior": 1.0}
HARMONICS = 4  # of the beat and bar phase in the clock's inputs


def _numpy_model(name, nf, rep, seed):
    """02 / 03: fit the model on the training frames; return ``(model, framing, scaler)``."""
    from musiclib.framing import Framing, frame_scaler, transform_each
    from musiclib.models.linear import LevelsNextFrame, RidgeNextFrame
    from musiclib.models.trees import DecisionTreeNextFrame, RandomForestNextFrame, XGBoostNextFrame

    if name in ("ridge", "levels"):  # 02's demo settings
        scaler = frame_scaler(nf.train_frames)
        if name == "ridge":
            framing, model = Framing(context=4, clock=True, harmonics=8), RidgeNextFrame(alpha=10.0, seed=seed)
        else:
            framing = Framing(context=4)
            model = LevelsNextFrame(n_levels=16, n_components=64, epochs=2, seed=seed)
    else:  # 03's demo settings, the clock variant
        scaler = frame_scaler(nf.train_frames, n_components=16, seed=seed)
        framing = Framing(context=4, lookback=max(4, nf.bar_frames()), summary=True, clock=True, harmonics=8)
        model = {"tree": lambda: DecisionTreeNextFrame(per_output=False, max_depth=12, seed=seed),
                 "forest": lambda: RandomForestNextFrame(per_output=False, n_estimators=10, max_depth=12, seed=seed),
                 "xgboost": lambda: XGBoostNextFrame(per_output=False, n_estimators=15, max_depth=4, seed=seed)}[name]()
    z = transform_each(scaler, nf.train_frames)
    X, Y = framing.dataset(z, phases=nf.train_phases if framing.clock else None, stride=2)
    return model.fit(X, Y), framing, scaler


def _keras_model(name, nf, rep, seed, epochs, calibrate):
    """04: build, train and calibrate the Keras model (small sizes: minutes on two cores), as 04 does."""
    from musiclib.models import keras_seq

    keras_seq.set_seed(seed)
    h = 0 if name == "lstm-vae" else HARMONICS
    clock = dict(phases=nf.train_phases, harmonics=h) if h else {}
    ds = keras_seq.sequence_dataset(nf.train_frames, window=64, hop=64, batch_size=32, seed=seed, **clock)
    make = {"mlp": lambda: keras_seq.make_mlp(rep.n_features, context=8, units=(128,), clock_harmonics=h),
            "lstm": lambda: keras_seq.make_lstm(rep.n_features, units=(64,), clock_harmonics=h),
            "cnn": lambda: keras_seq.make_cnn(rep.n_features, filters=32, dilations=(1, 2, 4, 8, 16, 32),
                                              clock_harmonics=h),
            "lstm-vae": lambda: keras_seq.make_lstm_vae(rep.n_features, encoder_units=(64,), units=(64,),
                                                        latent_dim=16, decoder_units=(64,))}[name]
    held_clock = dict(phases=nf.held_phases, harmonics=h) if h else {}
    val = keras_seq.sequence_dataset(nf.held_frames, window=64, hop=64, batch_size=32, shuffle=False, **held_clock)
    with tempfile.TemporaryDirectory(prefix="long-rollout-") as folder:
        # as 04: trained with checkpoints; the roll-out noise calibrated on the held-out files' one-step
        # errors (what a roll-out meets) or, with calibrate="train", on the training windows' smaller ones
        model, _ = keras_seq.fit_with_checkpoints(make().adapt(nf.train_frames), ds, epochs=epochs,
                                                  checkpoint_dir=folder,
                                                  validation_data=val if calibrate == "held" else None)
    return model


def _vq_prior(root, rep, seed, epochs, seconds):
    """05: a VQ-VAE on beat patches and the LSTM prior over its codes; sample ``seconds`` of codes, decode, stitch.

    Returns ``(audio, train_s, generate_s)``."""
    from musiclib import generate, patches
    from musiclib.models import keras_seq, vae

    keras_seq.set_seed(seed)
    t0 = time.perf_counter()
    D = patches.load_patch_data(root, rep, n_frames=16, beats_per_patch=1, max_duration=30.0, excerpt="middle",
                                seed=seed)
    train = D.train_patches
    beat = train.median_length()
    feed = vae.patch_dataset(train, batch_size=32, seed=seed)
    vq = vae.make_vqvae(train.n_frames, rep.n_features, codebook_size=64, filters=(32, 32), seed=seed).adapt(train)
    vq.fit(feed, epochs=epochs, verbose=0)
    K, cpp = vq.codebook_size, vq.codes_per_patch
    codes = vq.encode_codes(train)
    prior = vae.make_prior(K, cpp, units=(64,), embed_dim=32, dropout=0.3)
    prior.fit(vae.code_dataset([codes[i] for i in train.sequences()], codebook_size=K, codes_per_patch=cpp,
                               window=32, seed=seed), epochs=2 * epochs, verbose=0)
    train_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    fps = rep.frames_per_second
    n_beats = int(np.ceil(seconds * fps / (beat - 4))) + 1  # consecutive beats overlap by 4 frames
    long_codes = prior.sample(n_beats * cpp, temperature=TEMPERATURE["vqvae-prior"], seed=seed)[0]
    x = vq.decode_codes(long_codes, noise_scale=1.0, seed=seed)
    y = patches.sequence_to_audio(x, rep, lengths=np.full(len(x), beat), overlap=4,
                                  guard=generate.StabilityGuard.fit(D.train_frames, rep), seed=seed)
    return y[: int(seconds * rep.sr)], train_s, time.perf_counter() - t0


def run_model(name, nf, rep, *, root, seconds, seed, epochs, calibrate="held"):
    """Train ``name`` and roll it out for ``seconds``: ``(audio, train_s, generate_s)``."""
    from musiclib import generate
    from musiclib.models import keras_seq

    if name == "vqvae-prior":
        return _vq_prior(root, rep, seed, epochs, seconds)
    i = int(np.argmax([len(f) for f in nf.held_frames]))
    guard = generate.StabilityGuard.fit(nf.train_frames, rep)
    t0 = time.perf_counter()
    if name in ("ridge", "levels", "tree", "forest", "xgboost"):
        model, framing, scaler = _numpy_model(name, nf, rep, seed)
        train_s = time.perf_counter() - t0
        n_prime = max(framing.history, int(1.0 * rep.frames_per_second))
        prime, phases = nf.held_frames[i][:n_prime], nf.held_phases[i][:n_prime]
        t0 = time.perf_counter()
        (y,), _, _ = generate.generate_clips(
            model, [prime], rep, seconds=seconds, temperature=TEMPERATURE[name], guard=guard, scaler=scaler,
            framing=framing, seed=seed, bpm=nf.tempo if framing.clock else None,
            prime_phases=[phases] if framing.clock else None)
        return y, train_s, time.perf_counter() - t0
    model = _keras_model(name, nf, rep, seed, epochs, calibrate)
    train_s = time.perf_counter() - t0
    n_prime = int(1.0 * rep.frames_per_second)
    prime, phases = nf.held_frames[i][:n_prime], nf.held_phases[i][:n_prime]
    clock = name != "lstm-vae"
    t0 = time.perf_counter()
    (y,), _ = keras_seq.generate_audio(
        model, [prime], rep, seconds=seconds, temperature=TEMPERATURE[name], guard=guard, seed=seed,
        bpm=nf.tempo if clock else None, prime_phases=[phases] if clock else None)
    return y, train_s, time.perf_counter() - t0


def card_minutes(y, *, sr, training, reference, seed, features, label):
    """The card's checks on the first, middle and last minute of ``y``: ``{minute: {check: {value, threshold,
    passed}}}``, and whether blow-up, drone and noise passed in all three (and every sample is finite)."""
    from musiclib.evaluation import card

    minute = int(60 * sr)
    starts = {"first": 0, "middle": max(0, len(y) // 2 - minute // 2), "last": max(0, len(y) - minute)}
    rows, ok = {}, bool(np.all(np.isfinite(y)))
    for name, s in starts.items():
        c = card.musicality_card([y[s: s + minute]], training=training, reference=reference, sr=sr,
                                 label=f"{label}, {name} minute", seed=seed, features=features)
        rows[name] = {k: {"value": c.checks[k]["value"], "threshold": c.checks[k]["threshold"],
                          "passed": c.checks[k]["passed"]} for k in SHOWN}
        ok = ok and all(c.checks[k]["passed"] is not False for k in CHECKED)
    return rows, ok


def _rows(name, minutes) -> str:
    """One line per carded minute: each check's value / threshold and pass, FAIL or "n/a" (no verdict)."""
    verdict = {True: "pass", False: "FAIL", None: "n/a"}
    return "\n".join(f"{name:<12}{minute:<8}  " + "".join(
        f"{c['value']:>9.2f} /{c['threshold']:>6.2f} {verdict[c['passed']]:>5}  " for c in checks.values())
        for minute, checks in minutes.items())


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--minutes", type=float, default=10.0, help="length of each roll-out")
    p.add_argument("--corpus", "--mode", dest="corpus", choices=("small", "demo"), default="small",
                   help="which corpus (data.default_corpus_dir(mode=...))")
    p.add_argument("--only", nargs="+", choices=MODELS, default=list(MODELS), help="models to run (default: all)")
    p.add_argument("--epochs", type=int, default=4, help="epochs of the Keras models (the VQ prior gets twice this)")
    p.add_argument("--calibrate", choices=("held", "train"), default="held",
                   help="Keras models: measure the roll-out noise on the held-out files (04's way) or the training windows")
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args(argv)

    from musiclib.display import setup_notebook

    setup_notebook(seed=a.seed)  # seeds; quiet TensorFlow logs
    from musiclib import generate
    from musiclib.framing import load_next_frame_data
    from musiclib.tools import data

    rep = generate.default_representation()
    root = data.default_corpus_dir(mode=a.corpus)
    nf = load_next_frame_data(root, rep, max_duration=30.0, excerpt="middle", seed=a.seed, clock=True)
    sr = nf.sr
    reference = [c.y for c in nf.held_out.clips if len(c.y) >= 1.5 * sr]
    training = [c.y for c in nf.train.clips if len(c.y) >= 1.5 * sr]
    print(f"corpus: {a.corpus} ({len(nf.train_frames)} training files, {len(reference)} held out); "
          f"clock at {nf.tempo:.1f} BPM; {a.minutes:g} min per model; Keras epochs {a.epochs}, noise calibrated "
          f"on the {a.calibrate} frames", flush=True)

    features, results, all_ok = {}, {}, True
    for name in a.only:
        t_start = time.perf_counter()
        y, train_s, generate_s = run_model(name, nf, rep, root=root, seconds=60.0 * a.minutes, seed=a.seed,
                                           epochs=a.epochs, calibrate=a.calibrate)
        t0 = time.perf_counter()
        rows, ok = card_minutes(y, sr=sr, training=training, reference=reference, seed=a.seed, features=features,
                                label=name)
        card_s = time.perf_counter() - t0
        all_ok = all_ok and ok
        results[name] = {"passed": ok, "finite": bool(np.all(np.isfinite(y))), "seconds_of_audio": len(y) / sr,
                         "train_s": round(train_s, 1), "generate_s": round(generate_s, 1), "card_s": round(card_s, 1),
                         "wall_s": round(time.perf_counter() - t_start, 1), "minutes": rows}
        print(f"{name:<12} {'ok' if ok else 'FAILS':<6} {len(y) / sr / 60:.1f} min: train {train_s:.1f} s, "
              f"generate {generate_s:.1f} s, cards {card_s:.1f} s\n{_rows(name, rows)}", flush=True)

    print(f"\n{'model':<12}{'minute':<8}" + "".join(f"{k + ' (value/thr)':>24}" for k in SHOWN))
    for name, r in results.items():
        print(_rows(name, r["minutes"]))
    print(f"\n{'model':<12}{'train s':>9}{'generate s':>12}{'cards s':>9}{'wall s':>9}")
    for name, r in results.items():
        print(f"{name:<12}{r['train_s']:>9.1f}{r['generate_s']:>12.1f}{r['card_s']:>9.1f}{r['wall_s']:>9.1f}")
    failed = [n for n, r in results.items() if not r["passed"]]
    print("verdict:", "every model stays within blow-up, drone and noise to the end" if all_ok
          else f"FAILS: {', '.join(failed)}")
    print(json.dumps({"minutes": a.minutes, "corpus": a.corpus, "epochs": a.epochs, "calibrate": a.calibrate,
                      "passed": all_ok,
                      "models": results}, default=float))
    return 0 if all_ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
