"""How much held-out reference does the musicality card need before its verdicts can be trusted?

The card judges generated clips against a reference of held-out real music; most of its thresholds
are relative to that reference. With too little of it, a check's pass/fail says more about the few
seconds that happened to be held out than about the clips. This script measures that:

1. A corpus is cut (seeded, ``--partitions`` times) into candidate songs, training songs and a
   reference pool (every other song).
2. A fixed set of candidates is carded against the **whole pool** (the verdict a large reference
   gives): ``real`` (clips of the candidate songs, unheard by the reference), ``shuffled_frames``
   (:func:`musiclib.evaluation.baselines.shuffled_frames` of the training songs), ``shaped_noise``,
   ``white_noise`` and ``training_excerpt``.
3. The same candidates are carded against ``--draws`` seeded random draws of ``k`` pool files,
   each cut to at most ``L`` seconds (middle), for every ``k`` in ``--files`` and ``L`` in
   ``--seconds``.

For each reference size the table gives how often each check's pass/fail (and the card's overall
verdict) agrees with the whole pool's, over every draw and candidate ("agree" columns), and the
spread (median absolute deviation over draws, pooled over candidates) of each check's value. The
minimum reference :data:`musiclib.evaluation.card.MIN_REFERENCE_FILES` /
:data:`musiclib.evaluation.card.MIN_REFERENCE_SECONDS` is the smallest size at which the overall
verdict agrees in at least ``--target`` of draws on every corpus measured.

Run (about 10-20 minutes on 2 busy cores with the defaults)::

    MUSICLIB_DATA_ROOT=data python benchmarks/reference_size.py --corpus nexuiz-music
    MUSICLIB_DATA_ROOT=data python benchmarks/reference_size.py --corpus sonic-pi-samples

``nexuiz-music``: whole songs, ``--clip-seconds`` 30 from the middle (demo mode's excerpts).
``sonic-pi-samples``: its loops only (the one-shot drum hits are not music to judge against), at
most 8 s of each (small mode reads 3 s; see ``--clip-seconds``).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from musiclib.evaluation import baselines, card  # noqa: E402
from musiclib.evaluation import features as cfeatures  # noqa: E402


class _Memo:
    """Features of the clips this script reuses (candidates and reference excerpts), computed once.

    The card's per-clip analysis is deterministic, so reusing it changes no value; clips not
    registered here (the card's shaped-noise ceiling) are analysed as usual.
    """

    def __init__(self):
        self.table: dict[int, tuple[np.ndarray, cfeatures.ClipFeatures]] = {}
        self._orig = card.clip_features

    def register(self, clips, *, sr):
        for y in clips:
            if id(y) not in self.table:
                self.table[id(y)] = (y, self._orig(y, sr=sr))

    def __call__(self, y, *, sr=cfeatures.SR, what="clip"):
        hit = self.table.get(id(y))
        if hit is not None and hit[0] is y:
            return hit[1]
        return self._orig(y, sr=sr, what=what)


def load(name: str, *, clip_seconds: float, sr: int) -> list[tuple[str, np.ndarray]]:
    from musiclib.corpus import find_audio_files, load_corpus
    from musiclib.tools import data

    root = Path(data.data_root()) / name
    files = find_audio_files(root)
    loops = [f for f in files if f.stem.startswith("loop_")]
    corpus = load_corpus(loops or files, sr=sr, max_duration=clip_seconds, excerpt="middle", progress=False)
    return [(c.name, c.y) for c in corpus.clips if c.duration >= 2.0]


def middle(y: np.ndarray, n: int) -> np.ndarray:
    if len(y) <= n:
        return y
    a = (len(y) - n) // 2
    return y[a:a + n]


def candidates(cand_songs, train_songs, *, sr, seconds, seed) -> dict[str, list[np.ndarray]]:
    n = int(seconds * sr)
    real = [middle(y, n) for y in cand_songs]
    durs = [len(y) / sr for y in real]
    rng = np.random.default_rng(seed)
    return {
        "real": real,
        "shuffled_frames": baselines.shuffled_frames(train_songs, sr=sr, durations=durs, seed=seed),
        "shaped_noise": baselines.shaped_noise(train_songs, sr=sr, durations=durs, seed=seed),
        "white_noise": [(0.1 * rng.standard_normal(len(y))).astype(np.float32) for y in real],
        "training_excerpt": baselines.training_excerpt(train_songs, sr=sr, durations=durs, seed=seed),
    }


def cards(cands, *, training, reference, sr, seed) -> dict[str, card.Card]:
    shared = {}
    return {name: card.musicality_card(clips, training=training, reference=reference, sr=sr, seed=seed,
                                       features=shared)
            for name, clips in cands.items()}


def judged(c: card.Card) -> dict:
    """Each check's pass/fail from its value and threshold, as the card rules (also on a card that refused
    a verdict because its reference is below the minimum), and the overall verdict under "card"."""
    out = {}
    for name, r in c.checks.items():
        v = r["value"]
        out[name] = None if math.isnan(v) else bool(v <= r["threshold"]) if r["rule"] == "max" else bool(v >= r["threshold"])
    out["card"] = all(p is not False for p in out.values())
    return out


def run(name: str, *, clip_seconds: float, files: list[int], seconds: list[float], draws: int, partitions: int,
        n_candidates: int, n_training: int, candidate_seconds: float, seed: int, sr: int = cfeatures.SR):
    songs = load(name, clip_seconds=clip_seconds, sr=sr)
    memo = _Memo()
    card.clip_features = memo
    rows = []
    for part in range(partitions):
        rng = np.random.default_rng([seed, part])
        order = rng.permutation(len(songs))
        cand = [songs[i][1] for i in order[:n_candidates]]
        train = [songs[i][1] for i in order[n_candidates:n_candidates + n_training]]
        pool = [songs[i][1] for i in order[n_candidates + n_training:]]
        cands = candidates(cand, train, sr=sr, seconds=candidate_seconds, seed=seed + part)
        for clips in (*cands.values(), train, pool):
            memo.register(clips, sr=sr)
        full_cards = cards(cands, training=train, reference=pool, sr=sr, seed=seed)
        full = {k: judged(c) for k, c in full_cards.items()}
        pool_s = sum(min(len(y) / sr, cfeatures.MAX_ANALYSIS_SECONDS) for y in pool)
        print(f"{name} partition {part}: {len(cand)} candidate, {len(train)} training, {len(pool)} pool files "
              f"({pool_s:.0f} s); whole-pool verdicts: "
              + ", ".join(f"{k} {'pass' if v['card'] else 'FAIL ' + ','.join(c for c, p in v.items() if p is False)}"
                          for k, v in full.items()), flush=True)
        for k in files:
            if k > len(pool):
                continue
            for L in seconds:
                pool_L = [middle(y, int(L * sr)) for y in pool]
                memo.register(pool_L, sr=sr)
                for d in range(draws):
                    pick = np.random.default_rng([seed, part, k, int(L * 10), d]).choice(len(pool), k, replace=False)
                    ref = [pool_L[i] for i in pick]
                    got = cards(cands, training=train, reference=ref, sr=sr, seed=seed)
                    ref_s = sum(min(len(y) / sr, cfeatures.MAX_ANALYSIS_SECONDS) for y in ref)
                    for cname, c in got.items():
                        j, f = judged(c), full[cname]
                        row = {"set": name, "partition": part, "files": k, "per_file_s": L, "seconds": ref_s,
                               "draw": d, "candidate": cname, "verdict_agrees": j["card"] == f["card"]}
                        for check, r in c.checks.items():
                            row[f"{check}_agrees"] = j[check] == f[check]
                            row[f"{check}_value"] = r["value"]
                            row[f"{check}_full"] = full_cards[cname].checks[check]["value"]
                        rows.append(row)
            print(f"  k={k} done", flush=True)
    card.clip_features = memo._orig
    return rows


def table(rows):
    import pandas as pd

    df = pd.DataFrame(rows)
    checks = list(card.CHECKS)
    agree = df.groupby(["set", "files", "per_file_s"]).agg(
        seconds=("seconds", "median"), cards=("verdict_agrees", "size"), verdict=("verdict_agrees", "mean"),
        **{c: (f"{c}_agrees", "mean") for c in checks})

    def spread(g):
        out = {}
        for c in checks:
            v = g[f"{c}_value"].replace([np.inf, -np.inf], np.nan)
            dev = (v - g.groupby(["partition", "candidate"])[f"{c}_value"].transform("median")).abs()
            out[c] = float(np.nanmedian(dev)) if dev.notna().any() else math.nan
        return pd.Series(out)

    spread_t = df.groupby(["set", "files", "per_file_s"])[[f"{c}_value" for c in checks] + ["partition", "candidate"]] \
        .apply(spread)
    by_candidate = df.groupby(["set", "files", "per_file_s", "candidate"])["verdict_agrees"].mean().unstack()
    return agree, spread_t, by_candidate


def minimum(agree, *, target: float) -> dict:
    """Per corpus: the fewest files from which every size measured agrees in >= ``target`` of draws, and the
    least total seconds measured at that many files that does."""
    out = {}
    for set_name, g in agree.reset_index().groupby("set"):
        worst = g.groupby("files")["verdict"].min().sort_index()
        ok = [k for k in worst.index if (worst[worst.index >= k] >= target).all()]
        if not ok:
            out[set_name] = (math.nan, math.nan)
            continue
        rows = g[(g["files"] == ok[0]) & (g["verdict"] >= target)]
        out[set_name] = (int(ok[0]), float(rows["seconds"].min()))
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--corpus", default="nexuiz-music", help="a folder name under the data root")
    p.add_argument("--clip-seconds", type=float, default=None,
                   help="seconds read per file (default: 30 for songs, 8 for sonic-pi-samples)")
    p.add_argument("--files", default="1,2,3,5,8", help="reference sizes in files")
    p.add_argument("--seconds", default=None, help="per-file seconds of the reference (default: 10,30 / 3,8)")
    p.add_argument("--draws", type=int, default=12)
    p.add_argument("--partitions", type=int, default=2)
    p.add_argument("--candidates", type=int, default=3, help="candidate real songs per partition")
    p.add_argument("--training", type=int, default=4, help="training songs per partition")
    p.add_argument("--candidate-seconds", type=float, default=None, help="length of each candidate clip (s)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--target", type=float, default=0.9, help="agreement a reference size must reach")
    p.add_argument("--json", type=Path, default=None, help="also write every row here")
    p.add_argument("--from-json", type=Path, nargs="+", default=None,
                   help="print the tables of earlier runs' rows (their --json files) instead of measuring")
    a = p.parse_args(argv)
    if a.from_json:
        t0 = time.perf_counter()
        rows = [r for f in a.from_json for r in json.loads(f.read_text())]
        return report(rows, target=a.target, t0=t0)
    songs_like = "sonic" not in a.corpus
    clip_s = a.clip_seconds or (30.0 if songs_like else 8.0)
    per_file = [float(x) for x in (a.seconds or ("10,30" if songs_like else "3,8")).split(",")]
    cand_s = a.candidate_seconds or (8.0 if songs_like else 3.0)
    t0 = time.perf_counter()
    rows = run(a.corpus, clip_seconds=clip_s, files=[int(x) for x in a.files.split(",")], seconds=per_file,
               draws=a.draws, partitions=a.partitions, n_candidates=a.candidates, n_training=a.training,
               candidate_seconds=cand_s, seed=a.seed)
    if a.json:
        a.json.write_text(json.dumps(rows, default=float))
    return report(rows, target=a.target, t0=t0)


def report(rows, *, target: float, t0: float) -> int:
    import pandas as pd

    agree, spread_t, by_candidate = table(rows)
    with pd.option_context("display.width", 250, "display.max_columns", 40):
        print("\nagreement with the whole pool's pass/fail (share of draws x candidates)")
        print(agree.round(2).to_string())
        print("\noverall verdict agreement by candidate")
        print(by_candidate.round(2).to_string())
        print("\nspread of each check's value over draws (median absolute deviation from the median)")
        print(spread_t.to_string(float_format=lambda x: f"{x:.3g}"))
    for set_name, (files, seconds) in minimum(agree, target=target).items():
        print(f"\n{set_name}: the overall verdict agrees in >= {target:.0%} of draws from {files} files "
              f"(and at every larger size measured), {seconds:.0f} s (the least total measured at that many files)")
    print(f"the card's minimum: {card.MIN_REFERENCE_FILES} files, {card.MIN_REFERENCE_SECONDS:g} s "
          "(the larger of the corpora's minima)")
    print(f"[{time.perf_counter() - t0:.0f} s]")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
