"""Does a sequence model stay music for ten minutes? A long roll-out, carded at its start, middle and end.

Next-frame models drift: they are trained on real frames and fed their own. This benchmark trains
the LSTM of ``notebooks/04_lstm`` (with the beat clock, at a small size so it runs in minutes on two
cores) on the corpus for ``--mode`` (``data.default_corpus_dir``), rolls it out for ``--minutes``
minutes from a held-out prime through the compiled loop (stability guard inside), inverts the
whole roll-out in one pass, and puts its first, middle and last minute through the musicality card
against the held-out songs. Printed per minute: the card's blow-up, drone, noise and rhythm values
and whether each passed; the run fails (exit 1) when any of those minutes fails blow-up, drone or
noise, or the audio holds a non-finite sample.

Run: ``.venv/bin/python benchmarks/long_rollout.py [--minutes 10] [--mode small|demo] [--epochs 4]``.
The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

CHECKED = ("blowup", "drone", "noise")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--minutes", type=float, default=10.0, help="length of the roll-out")
    p.add_argument("--mode", choices=("small", "demo"), default="small", help="which corpus (data.default_corpus_dir)")
    p.add_argument("--epochs", type=int, default=4)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args(argv)

    from musiclib.display import setup_notebook

    setup_notebook(seed=a.seed)  # quiet TensorFlow logs
    from musiclib import generate
    from musiclib.evaluation import card
    from musiclib.framing import load_next_frame_data
    from musiclib.models import keras_seq
    from musiclib.tools import data

    keras_seq.set_seed(a.seed)
    rep = generate.default_representation()
    nf = load_next_frame_data(data.default_corpus_dir(mode=a.mode), rep, max_duration=30.0, excerpt="middle",
                              seed=a.seed, clock=True)
    sr, fps = nf.sr, rep.frames_per_second
    harmonics = 4
    ds = keras_seq.sequence_dataset(nf.train_frames, window=64, hop=64, batch_size=32, seed=a.seed,
                                    phases=nf.train_phases, harmonics=harmonics)
    t0 = time.perf_counter()
    model = keras_seq.make_lstm(rep.n_features, units=(64,), clock_harmonics=harmonics).adapt(nf.train_frames)
    model.fit(ds, epochs=a.epochs, verbose=0)
    model.calibrate(ds, seed=a.seed)
    train_s = time.perf_counter() - t0

    n_prime = int(1.0 * fps)
    i = int(np.argmax([len(f) for f in nf.held_frames]))
    prime, phases = nf.held_frames[i][:n_prime], nf.held_phases[i][:n_prime]
    t0 = time.perf_counter()
    (y,), timing = keras_seq.generate_audio(
        model, [prime], rep, seconds=60.0 * a.minutes, temperature=0.7,
        guard=generate.StabilityGuard.fit(nf.train_frames, rep), seed=a.seed, bpm=nf.tempo, prime_phases=[phases])
    generate_s = time.perf_counter() - t0
    finite = bool(np.all(np.isfinite(y)))

    reference = [c.y for c in nf.held_out.clips if len(c.y) >= 1.5 * sr]
    training = [c.y for c in nf.train.clips if len(c.y) >= 1.5 * sr]
    minute = int(60 * sr)
    starts = {"first": 0, "middle": max(0, len(y) // 2 - minute // 2), "last": max(0, len(y) - minute)}
    features, rows, ok = {}, {}, finite
    for name, s in starts.items():
        c = card.musicality_card([y[s: s + minute]], training=training, reference=reference, sr=sr,
                                 label=f"LSTM, {name} minute", seed=a.seed, features=features)
        rows[name] = {k: {"value": c.checks[k]["value"], "passed": c.checks[k]["passed"]}
                      for k in (*CHECKED, "rhythm")}
        ok = ok and all(c.checks[k]["passed"] is not False for k in CHECKED)

    print(f"corpus: {a.mode} ({len(nf.train_frames)} training files); LSTM (64 units, clock at {nf.tempo:.1f} BPM), "
          f"{a.epochs} epochs in {train_s:.1f} s")
    print(f"{a.minutes:g} min generated in {generate_s:.1f} s ({timing['rtf']:.0f}x real time); finite: {finite}")
    print(f"{'minute':<8}" + "".join(f"{k:>16}" for k in (*CHECKED, "rhythm")))
    for name, r in rows.items():
        print(f"{name:<8}" + "".join(f"{r[k]['value']:>10.2f} {'pass' if r[k]['passed'] else 'FAIL':>5}"
                                     for k in (*CHECKED, "rhythm")))
    print("verdict:", "stays within blow-up, drone and noise to the end" if ok else "FAILS")
    print(json.dumps({"minutes": a.minutes, "mode": a.mode, "train_s": round(train_s, 1),
                      "generate_s": round(generate_s, 1), "finite": finite, "minutes_carded": rows, "passed": ok},
                     default=float))
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
