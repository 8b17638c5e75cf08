"""Generation speed of the next-frame models of notebooks 02 and 03, inversion to audio included.

For each model (trained at the notebooks' demo settings on the default corpus when it is there,
else on ``synth.synthetic_mix`` audio), times

- the roll-out of ``--seconds`` of frames (86 frames per second on the default representation)
  with the stability guard on and the notebooks' default temperature, and
- the inversion of those frames to audio with :func:`musiclib.generate.frames_to_audio` and its
  generation defaults (:data:`musiclib.generate.GENERATION_INVERSION`),

and reports the real-time factor ``audio seconds / (roll-out + inversion seconds)`` for one clip,
median of ``--repeats`` runs, with 2 threads for BLAS/OpenMP/FFT (the project's 2-core target).
Because the machines this runs on are shared, each row also gives the best run (``best``) and the
real-time factor per second of this process's CPU time (``CPU``: both threads' time summed, so it is
never better than an idle machine's wall clock, and other users' load barely moves it). A row
passes when the median wall-clock RTF or the CPU-time RTF reaches the target; the load average
is printed with the table.
Targets (issue "Next-frame generation framework"): 50x for the linear models, 20x for the trees.
It also measures the inversion settings themselves: time and spectral convergence (SC) against the
true linear magnitude and in the representation's own bands (``rep.basis @ S``: mel or log-frequency),
next to ``rep.decode``'s 32 iterations.

Other benchmark files join the same table through the registry :data:`BENCHMARKS`
(name -> callable(seconds=, clips=, repeats=) returning a list of row dicts with at least
``model``, ``rtf``, ``target``, ``passed``); ``benchmarks/generate_keras.py`` adds the Keras
models with ``register(BENCHMARKS)`` when it can be imported, ``benchmarks/generate_raw.py`` the
raw-audio autoencoders (rows ``raw-...``) the same way (``--no-keras`` skips both),
``benchmarks/generate_vae.py`` the patch models of notebook 05 (``--no-vae``) and
``benchmarks/generate_gan.py`` the GANs of notebook 06 (``--no-gan``).

Real-time factors move with the machine (the same run measured 3x lower on a slower one), so the
same run also times librosa's ``griffinlim`` (32 iterations, momentum 0.99) on the linear magnitude
of ``--seconds`` of audio (n_fft 1024, hop 256) and reports every row's RTF as a multiple of
librosa's (``rtf_vs_librosa``; the series aims at 10x for every model).

Run: ``.venv/bin/python benchmarks/generate.py [--seconds 10] [--repeats 3] [--no-keras] [--only vae]``.
The last line printed is one JSON object: ``{"rtf": {model: value}, "targets": {model: {"target",
"passed"}}, "inversion": {...}, "train_seconds": {...}}``.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "2")

import argparse  # noqa: E402
import importlib  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

#: name -> callable(seconds=, clips=, repeats=) -> list of rows
BENCHMARKS: dict = {}

#: The models of notebooks 02 and 03 at their demo settings: name -> (family, space, factory, target, temperature)
#: ``space`` is the feature space the model works in: "scaled" frames or "pca" components.
CONTEXT = 4
N_COMPONENTS = 16


def _models():
    from musiclib.models.linear import LevelsNextFrame, RidgeNextFrame
    from musiclib.models.trees import DecisionTreeNextFrame, RandomForestNextFrame, XGBoostNextFrame

    return {
        "ridge": ("linear", "scaled", lambda: RidgeNextFrame(alpha=10.0), 50.0, 0.5),
        "logistic-levels": ("linear", "scaled",
                            lambda: LevelsNextFrame(n_levels=16, n_components=64, epochs=6, seed=0), 50.0, 0.7),
        "tree-per-output": ("tree", "pca", lambda: DecisionTreeNextFrame(per_output=True, max_depth=10), 20.0, 1.0),
        "tree-multi-output": ("tree", "pca", lambda: DecisionTreeNextFrame(per_output=False, max_depth=12), 20.0, 1.0),
        "forest-per-output": ("tree", "pca", lambda: RandomForestNextFrame(per_output=True, n_estimators=10,
                                                                           max_depth=10), 20.0, 1.0),
        "forest-multi-output": ("tree", "pca", lambda: RandomForestNextFrame(per_output=False, n_estimators=30,
                                                                             max_depth=12), 20.0, 1.0),
        "xgboost-per-output": ("tree", "pca", lambda: XGBoostNextFrame(per_output=True, n_estimators=60,
                                                                       max_depth=5), 20.0, 1.0),
        "xgboost-multi-output": ("tree", "pca", lambda: XGBoostNextFrame(per_output=False, n_estimators=60,
                                                                         max_depth=5), 20.0, 1.0),
    }


def training_frames(rep, *, seed: int = 0):
    """Per-file frames for training and a held-out clip to prime from: the default corpus, else synth."""
    from musiclib import synth
    from musiclib.tools import data
    from musiclib.corpus import load_corpus
    from musiclib.framing import load_frames

    try:
        corpus = load_corpus(data.default_corpus_dir(), progress=False)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            train, held = corpus.split(held_out=0.2, seed=seed)
        source = f"default corpus ({len(corpus)} files, {corpus.total_duration / 60:.1f} min)"
        return load_frames(train, rep), load_frames(held, rep), source
    except Exception as e:  # noqa: BLE001 - no corpus here: synthetic music instead
        ys = [synth.synthetic_mix(duration=20.0, sr=rep.sr, seed=seed + s) for s in range(5)]
        return [rep.encode(y) for y in ys[:4]], [rep.encode(ys[4])], f"synthetic ({type(e).__name__}: no corpus)"


def measure_inversion(rep, *, repeats: int = 3, seed: int = 0) -> dict:
    """Time and spectral convergence of the generation inversion vs ``rep.decode`` (32 iterations)."""
    from musiclib import generate, synth

    y = synth.synthetic_mix(duration=10.0, sr=rep.sr, seed=seed + 11)
    frames = rep.encode(y)
    S_true = rep.magnitude(y)

    def sc(a, b):
        return float(20 * np.log10(np.linalg.norm(a - b) / np.linalg.norm(a)))

    out = {"settings": dict(generate.GENERATION_INVERSION)}
    for label, fn in (
        ("generation", lambda: generate.frames_to_audio(frames, rep, length=len(y), seed=seed)),
        ("decode_32", lambda: rep.decode(frames, n_iter=32, length=len(y), seed=seed)),
    ):
        ts = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            z = fn()
            ts.append(time.perf_counter() - t0)
        S = rep.magnitude(z)
        out[label] = {"seconds_per_10s": round(statistics.median(ts), 4), "sc_db": round(sc(S_true, S), 2),
                      "band_sc_db": round(sc(rep.basis @ S_true, rep.basis @ S), 2)}
    # the ceiling the bands leave: the best linear magnitude the NNLS finds from the true bands
    from musiclib.representations import mel_to_linear

    S_nnls = mel_to_linear(rep.basis @ S_true, basis=rep.basis, n_iter=60)
    out["band_ceiling_sc_db"] = round(sc(S_true, S_nnls), 2)
    return out


def next_frame_rows(*, seconds: float = 10.0, repeats: int = 3, seed: int = 0, models=None, **_ignored) -> list[dict]:
    """Train each model of notebooks 02/03 and time its generation of one clip of ``seconds``."""
    from musiclib import generate
    from musiclib.framing import Framing, frame_scaler, transform_each

    rep = generate.default_representation()
    train, held, source = training_frames(rep, seed=seed)
    guard = generate.StabilityGuard.fit(train, rep)
    scaled = frame_scaler(train)
    pca = frame_scaler(train, n_components=N_COMPONENTS, seed=seed)
    framing = Framing(context=CONTEXT)
    spaces = {"scaled": scaled, "pca": pca}
    datasets = {k: framing.dataset(transform_each(v, train)) for k, v in spaces.items()}
    prime = max(held, key=len)[: 4 * CONTEXT + 8]
    n_frames = int(round(seconds * rep.frames_per_second))
    length = int(round(seconds * rep.sr))
    rows = []
    for name, (family, space, make, target, temperature) in _models().items():
        if models and name not in models:
            continue
        X, Y = datasets[space]
        t0 = time.perf_counter()
        model = make().fit(X, Y)
        train_s = time.perf_counter() - t0

        def run():
            c0 = time.process_time()
            t0 = time.perf_counter()
            frames = generate.rollout(model, prime, n_frames=n_frames, temperature=temperature, guard=guard,
                                      scaler=spaces[space], framing=framing, seed=seed, progress=False)
            t1 = time.perf_counter()
            y = generate.frames_to_audio(frames, rep, length=length, seed=seed)
            t2 = time.perf_counter()
            c2 = time.process_time()
            if not np.all(np.isfinite(y)):
                raise RuntimeError(f"{name}: non-finite audio")
            return t1 - t0, t2 - t1, c2 - c0

        run()  # warm-up (first-call allocations, FFT plans)
        times = [run() for _ in range(repeats)]
        roll = statistics.median(t[0] for t in times)
        inv = statistics.median(t[1] for t in times)
        rtf = seconds / (roll + inv)
        rtf_best = seconds / min(t[0] + t[1] for t in times)
        rtf_cpu = seconds / statistics.median(t[2] for t in times)
        rows.append({
            "benchmark": "generate", "model": name, "family": family, "space": space,
            "representation": rep.params["name"], "n_features": rep.n_features, "clips": 1, "seconds": seconds,
            "train_s": round(train_s, 2), "rollout_s": round(roll, 4), "inversion_s": round(inv, 4),
            "rtf_model": round(seconds / roll, 1), "rtf": round(rtf, 1), "rtf_best": round(rtf_best, 1),
            "rtf_cpu": round(rtf_cpu, 1), "target": target, "passed": bool(max(rtf, rtf_cpu) >= target),
            "data": source, "temperature": temperature,
        })
    return rows


BENCHMARKS["next-frame"] = next_frame_rows


def librosa_reference(*, seconds: float = 10.0, repeats: int = 3, seed: int = 0) -> dict:
    """Real-time factor of ``librosa.griffinlim`` (32 iterations) on ``seconds`` of audio: the run's yardstick."""
    import librosa

    from musiclib import synth

    y = synth.synthetic_mix(duration=seconds, sr=22050, seed=seed + 13)
    S = np.abs(librosa.stft(y, n_fft=1024, hop_length=256))
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        librosa.griffinlim(S, n_iter=32, hop_length=256, n_fft=1024, rng=seed)
        times.append(time.perf_counter() - t0)
    return {"method": "librosa.griffinlim, 32 iterations, n_fft 1024, hop 256", "seconds": seconds,
            "median_s": round(statistics.median(times), 4), "rtf": round(seconds / statistics.median(times), 2)}


def _register(module: str, enabled: bool, flag: str) -> str:
    """Import ``benchmarks/<module>.py`` and let it add its rows to :data:`BENCHMARKS`."""
    if not enabled:
        return f"skipped ({flag})"
    try:
        registrar = importlib.import_module(module)
    except ImportError as e:
        return f"not available ({e})"
    registrar.register(BENCHMARKS)
    return "registered"


def _table(rows: list[dict]) -> str:
    head = (f"{'model':<24}{'clips':>6}{'train s':>9}{'roll-out s':>12}{'invert s':>10}{'RTF model':>11}"
            f"{'RTF':>8}{'best':>7}{'CPU':>7}{'x librosa':>10}{'target':>8}  ok")
    lines = [head, "-" * len(head)]
    for r in rows:
        train = r.get("train_s")
        lines.append(
            f"{r['model']:<24}{r.get('clips', 1):>6}{'' if train is None else f'{train:.1f}':>9}"
            f"{r.get('rollout_s', float('nan')):>12.3f}{r.get('inversion_s', float('nan')):>10.3f}"
            f"{r.get('rtf_model', float('nan')):>11.1f}{r['rtf']:>8.1f}{r.get('rtf_best', float('nan')):>7.1f}"
            f"{r.get('rtf_cpu', float('nan')):>7.1f}{r.get('rtf_vs_librosa', float('nan')):>10.2f}{r['target']:>8.0f}  "
            f"{'yes' if r['passed'] else 'NO'}"
        )
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seconds", type=float, default=10.0, help="seconds of audio per clip")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--clips", type=int, default=8, help="batch size for benchmarks that also time batches")
    p.add_argument("--models", nargs="*", default=None, help="only these next-frame models")
    p.add_argument("--no-keras", action="store_true", help="skip benchmarks/generate_keras.py")
    p.add_argument("--no-vae", action="store_true", help="skip benchmarks/generate_vae.py")
    p.add_argument("--no-gan", action="store_true", help="skip benchmarks/generate_gan.py")
    p.add_argument("--only", nargs="*", default=None, metavar="BENCHMARK",
                   help="only these registered benchmarks: next-frame, keras, raw, vae, gan (default: all)")
    a = p.parse_args(argv)
    from musiclib import generate

    keras_status = _register("generate_keras", not a.no_keras, "--no-keras")
    gan_status = _register("generate_gan", not a.no_gan, "--no-gan")
    raw_status = _register("generate_raw", not a.no_keras, "--no-keras")  # the raw-audio autoencoders' rows
    vae_status = _register("generate_vae", not a.no_vae, "--no-vae")
    reference = librosa_reference(seconds=a.seconds, repeats=a.repeats)
    rep = generate.default_representation()
    inversion = measure_inversion(rep, repeats=a.repeats)
    rows = []
    unknown = set(a.only or ()) - set(BENCHMARKS)
    if unknown:
        p.error(f"--only {' '.join(sorted(unknown))}: not registered here (registered: {', '.join(BENCHMARKS)})")
    for name, fn in BENCHMARKS.items():
        if a.only is not None and name not in a.only:
            continue
        if name == "next-frame":
            rows += fn(seconds=a.seconds, repeats=a.repeats, models=a.models)
        else:
            try:
                rows += fn(seconds=a.seconds, clips=a.clips, repeats=a.repeats)
            except Exception as e:  # noqa: BLE001 - one broken benchmark must not hide the others
                print(f"benchmark {name!r} failed: {type(e).__name__}: {e}")
    for r in rows:
        r["rtf_vs_librosa"] = round(r["rtf"] / reference["rtf"], 2)
    print(f"representation: {rep.params}")
    if rows:
        print(f"data: {rows[0].get('data')}")
    print(f"keras benchmarks: {keras_status}; raw-audio benchmarks: {raw_status}; vae benchmarks: {vae_status}; "
          f"gan benchmarks: {gan_status}")
    print(f"reference: {reference['method']} on {reference['seconds']:.0f} s: {reference['median_s']:.3f} s, "
          f"{reference['rtf']:.1f}x real time (column 'x librosa' = RTF / this)")
    print(f"load average (1, 5, 15 min): {os.getloadavg()} on {os.cpu_count()} CPUs")
    print(_table(rows))
    g, d = inversion["generation"], inversion["decode_32"]
    print(
        f"inversion {inversion['settings']}: {g['seconds_per_10s']:.3f} s per 10 s, SC {g['sc_db']:.1f} dB "
        f"(in the representation's bands {g['band_sc_db']:.1f} dB); rep.decode with 32 iterations: "
        f"{d['seconds_per_10s']:.3f} s, SC {d['sc_db']:.1f} dB (bands {d['band_sc_db']:.1f} dB); ceiling the bands "
        f"leave: {inversion['band_ceiling_sc_db']:.1f} dB"
    )

    def key(r):
        clips = r.get("clips", 1)
        return r["model"] if clips == 1 else f"{r['model']}@{clips}clips"

    summary = {
        "rtf": {key(r): r["rtf"] for r in rows},
        "rtf_cpu": {key(r): r["rtf_cpu"] for r in rows if "rtf_cpu" in r},
        "rtf_vs_librosa": {key(r): r["rtf_vs_librosa"] for r in rows},
        "librosa_reference": reference,
        "targets": {key(r): {"target": r["target"], "passed": r["passed"]} for r in rows},
        "train_seconds": {key(r): r["train_s"] for r in rows if "train_s" in r},
        "inversion": inversion,
    }
    print(json.dumps(summary))
    return 0 if all(r["passed"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
