"""Feature cache: how much faster is loading cached frames than computing them?

Loads every file of the default corpus (``data/sonic-pi-samples``, or the folder ``$MUSICLIB_DATA``
names; when neither is there, 20 synthetic 10 s stereo 44.1 kHz FLAC files written to a temporary
folder) as ``MelSpectrogram(n_mels=128)`` frames through :class:`musiclib.tools.cache.FeatureCache`:

- cold: an empty cache folder, so every file is decoded, resampled, transformed and stored;
- warm: a second pass over the same folder with a new cache object and the in-process digest memo
  emptied, i.e. what a fresh session (a notebook run the next day) pays: hash each file, read and
  verify each entry;
- warm, memoised: the same within one session, where the file digests are remembered.

Then the cold pass (an empty cache each time) spread over workers with
:func:`musiclib.framing.load_frames` / :func:`musiclib.tools.parallel.map`: 1 local worker (in this
process), 2 local worker processes (joblib), and a ``distributed.LocalCluster`` of 2 worker
processes (joblib's Dask backend, as ``MUSICLIB_DASK_SCHEDULER`` would give); the pools are started
and warmed by one untimed pass first, and their start-up is printed apart.

Prints a table (median of ``--repeats`` passes, with a breakdown of the warm pass), the workers'
table with speed-ups against 1 worker and, as the last line, one JSON object: ``{"cold_s",
"warm_s", "speedup", "target": 20, "passed", "workers": {...}}``; the target is a warm pass at least
20 times faster than a cold one. Report the machine's load beside the speed-ups (``uptime``).

Run: ``.venv/bin/python benchmarks/cache.py [--repeats 3] [--files 20] [--only cache|workers]``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import zlib
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from musiclib import audio, corpus, synth  # noqa: E402
from musiclib.tools import cache
from musiclib.representations import MelSpectrogram  # noqa: E402

TARGET = 20.0


def corpus_files(n_synthetic: int, tmp: Path) -> tuple[list[Path], str]:
    """The default corpus's files if it is present, else synthetic ones written under ``tmp``."""
    folder = None
    try:
        from musiclib.tools import data

        folder = Path(data.default_corpus_dir(fetch_if_missing=False))
    except Exception:  # noqa: BLE001 - no data module, or no data: fall back below
        env = os.environ.get("MUSICLIB_DATA")
        candidates = [Path(env)] if env else []
        candidates.append(Path(__file__).resolve().parent.parent / "data" / "sonic-pi-samples")
        folder = next((c for c in candidates if c.is_dir()), None)
    if folder is not None and folder.is_dir():
        try:
            return corpus.find_audio_files(folder), f"corpus {folder}"
        except Exception:  # noqa: BLE001 - an empty folder: synthesise instead
            pass
    import soundfile as sf

    files = []
    for i in range(n_synthetic):
        y = synth.synthetic_mix(duration=10.0, sr=44100, bpm=90 + 3 * i, seed=i)
        p = tmp / f"synthetic_{i:02d}.flac"
        sf.write(str(p), np.stack([y, 0.8 * y], axis=1), 44100)
        files.append(p)
    # age the files, as a real corpus is: digests of freshly written files are never memoised
    old = time.time() - 3600
    for p in files:
        os.utime(p, (old, old))
    return files, f"{n_synthetic} synthetic 10 s stereo 44.1 kHz FLAC files"


def one_pass(files, rep, root) -> tuple[float, cache.FeatureCache]:
    fc = cache.FeatureCache(root)
    t0 = time.perf_counter()
    for p in files:
        fc.features(p, rep)
    return time.perf_counter() - t0, fc


def warm_breakdown(files, rep, root) -> dict[str, float]:
    """Seconds spent in each step of a warm pass (digest memo emptied)."""
    fc = cache.FeatureCache(root)
    cache._DIGESTS.clear()
    t = {"hash files": 0.0, "key": 0.0, "np.load": 0.0, "crc32": 0.0}
    for p in files:
        t0 = time.perf_counter()
        digest = cache.file_digest(p)
        t1 = time.perf_counter()
        key = fc.key(p, rep)
        t2 = time.perf_counter()
        with np.load(fc._entry(key), allow_pickle=False) as z:
            frames = z["frames"]
            json.loads(str(z["meta"]))
        t3 = time.perf_counter()
        zlib.crc32(np.ascontiguousarray(frames).tobytes())
        t4 = time.perf_counter()
        assert digest
        t["hash files"] += t1 - t0
        t["key"] += t2 - t1
        t["np.load"] += t3 - t2
        t["crc32"] += t4 - t3
    return t


def workers_table(files, rep, tmp: Path, repeats: int) -> dict:
    """Cold corpus passes over 1 and 2 local workers and a 2-worker Dask LocalCluster (seconds, medians)."""
    from distributed import LocalCluster

    from musiclib.framing import load_frames

    def cold(name, **where):
        times = []
        for r in range(repeats + 1):  # pass 0 starts and warms the workers: not counted
            t0 = time.perf_counter()
            load_frames(files, rep, cache=cache.FeatureCache(tmp / f"{name}_{r}"), **where)
            times.append(time.perf_counter() - t0)
        return {"start_s": times[0] - statistics.median(times[1:]), "s": statistics.median(times[1:])}

    out = {"1 local worker": cold("one", n_jobs=1), "2 local workers (joblib)": cold("two", n_jobs=2)}
    t0 = time.perf_counter()
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                      silence_logs=40) as cluster:
        started = time.perf_counter() - t0
        out["2-worker Dask LocalCluster"] = cold("dask", scheduler=cluster.scheduler_address)
        out["2-worker Dask LocalCluster"]["start_s"] += started
    return out


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="passes of each kind (median reported)")
    parser.add_argument("--files", type=int, default=20, help="synthetic files when there is no corpus")
    parser.add_argument("--only", choices=("cache", "workers"), help="run one part only")
    args = parser.parse_args(argv)

    rep = MelSpectrogram(n_mels=128)
    with tempfile.TemporaryDirectory(prefix="musiclib-cache-bench-") as tmp:
        tmp = Path(tmp)
        files, what = corpus_files(args.files, tmp)
        seconds = sum(audio.info(p)["duration"] for p in files)
        size_mb = sum(p.stat().st_size for p in files) / 1e6
        if args.only == "workers":
            print(f"data: {what}: {len(files)} files, {seconds:.0f} s of audio, {size_mb:.1f} MB")
            result = {"workers": print_workers(workers_table(files, rep, tmp, args.repeats), len(files))}
            print(json.dumps(result))
            return result

        cold, warm, memo = [], [], []
        for r in range(args.repeats):
            root = tmp / f"cache_{r}"  # empty: cold
            cache._DIGESTS.clear()
            t, fc = one_pass(files, rep, root)
            assert fc.misses == len(files), (fc.hits, fc.misses)
            cold.append(t)
            for _ in range(2):
                cache._DIGESTS.clear()  # a fresh session: nothing remembered
                t, fc = one_pass(files, rep, root)
                assert fc.hits == len(files), (fc.hits, fc.misses)
                warm.append(t)
                t, fc = one_pass(files, rep, root)  # same session: digests remembered
                memo.append(t)
        breakdown = warm_breakdown(files, rep, tmp / "cache_0")
        entry_mb = sum(p.stat().st_size for p in (tmp / "cache_0").glob("??/*.npz")) / 1e6
        workers = None if args.only == "cache" else workers_table(files, rep, tmp, args.repeats)

    cold_s, warm_s, memo_s = (statistics.median(x) for x in (cold, warm, memo))
    speedup = cold_s / warm_s
    print(f"feature cache, {rep.params}")
    print(f"data: {what}: {len(files)} files, {seconds:.0f} s of audio, {size_mb:.1f} MB; cache {entry_mb:.1f} MB")
    print(f"{'pass':<28}{'seconds':>9}{'ms/file':>9}{'speed-up':>10}")
    for name, s in [("cold (empty cache)", cold_s), ("warm (fresh session)", warm_s), ("warm (digests memoised)", memo_s)]:
        print(f"{name:<28}{s:>9.3f}{1000 * s / len(files):>9.2f}{cold_s / s:>9.1f}x")
    print("warm pass, where the time goes:")
    for step, s in breakdown.items():
        print(f"  {step:<26}{s:>9.3f}")
    result = {
        "cold_s": round(cold_s, 4),
        "warm_s": round(warm_s, 4),
        "warm_memoised_s": round(memo_s, 4),
        "speedup": round(speedup, 1),
        "target": int(TARGET),
        "passed": bool(speedup >= TARGET),
    }
    if workers is not None:
        result["workers"] = print_workers(workers, len(files))
    print(json.dumps(result))
    return result


def print_workers(workers: dict, n_files: int) -> dict:
    """Print the workers' table; return ``{name: {"s", "start_s", "speedup"}}`` (speed-up against 1 worker)."""
    one = workers["1 local worker"]["s"]
    print(f"cold corpus pass across workers (median; pools started and warmed by one untimed pass; "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f})")
    print(f"{'workers':<30}{'seconds':>9}{'ms/file':>9}{'speed-up':>10}{'start-up s':>12}")
    out = {}
    for name, w in workers.items():
        out[name] = {"s": round(w["s"], 4), "start_s": round(w["start_s"], 3), "speedup": round(one / w["s"], 2)}
        print(f"{name:<30}{w['s']:>9.3f}{1000 * w['s'] / n_files:>9.2f}{one / w['s']:>9.2f}x{w['start_s']:>12.2f}")
    return out


if __name__ == "__main__":
    main()
