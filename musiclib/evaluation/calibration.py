"""Setting the musicality card's thresholds on data: the failure cases, the calibration run, its table.

Procedure (:func:`calibrate`): for each set of real music, several times, shuffle its clips (seeded)
and cut them into thirds: training, reference, and held-out real music playing "generated". For each
split, card the held-out clips and every case of :func:`failure_cases`, and record each check's value
in threshold space (minus the reference's base for blowup/clipping/dropout). Each suggested threshold
(:func:`suggest_threshold`) lies between the worst value real music reached and the value nearest to
passing that the check's :data:`NAMED_FAILURES` reached. It records values, not verdicts (a third of
a set is often too little reference for one). The thresholds in use are
:data:`musiclib.evaluation.card.THRESHOLDS`, set by ``python -m musiclib calibrate --corpus DIR ...``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from musiclib.errors import ParameterError, check_int
from musiclib.evaluation import baselines
from musiclib.evaluation.card import CHECKS, SR, THRESHOLDS, format_value, musicality_card

__all__ = [
    "NAMED_FAILURES",
    "failure_cases",
    "held_tone",
    "tempo_drift",
    "calibrate",
    "calibration_sets",
    "suggest_threshold",
    "CalibrationResult",
]

#: Which failure cases each check must catch (the calibration places thresholds against these).
NAMED_FAILURES = {
    "distribution": ["shaped_noise", "white_noise"],
    "noise": ["white_noise", "shaped_noise"],
    "drone": ["chord", "held_tone"],
    "blowup": ["growing"],
    "clipping": ["growing"],
    "dropout": ["silence"],
    "rhythm": ["chord", "white_noise", "shuffled_frames"],
    "tempo": ["tempo_drift"],
    "structure": ["shuffled_frames", "white_noise"],
    "copying": ["excerpt"],
    "diversity": ["identical"],
}

#: Checks whose value is a ratio to the reference's (thresholds placed on a log scale).
RATIO_CHECKS = ("drone", "rhythm", "tempo", "structure", "copying", "diversity")


def held_tone(n_samples: int, *, sr: int = SR, seed: int = 0, prime: np.ndarray | None = None) -> np.ndarray:
    """A drone that moves: a held 3.3-4 kHz tone whose level jumps by up to 12 dB every 23 ms, over
    noise below 400 Hz that jumps by up to 30 dB and carries most of the energy (the frames' energy
    moves all the time, the partials never do).

    Parameters
    ----------
    n_samples : int
    sr : int
        Sample rate in Hz.
    seed : int
    prime : np.ndarray [shape=(n_prime,)], optional
        Real audio the clip begins with (as a roll-out does), at most ``n_samples``.

    Returns
    -------
    np.ndarray [shape=(n_samples,)], float32
    """
    import scipy.signal

    rng = np.random.default_rng(seed)
    start = 0 if prime is None else min(len(prime), n_samples)
    n = n_samples - start
    t = np.arange(n) / sr
    block = 512

    def flicker(range_db):
        gains = 10 ** (rng.uniform(-range_db, 0, n // block + 1) / 20)
        return np.repeat(gains, block)[:n]

    tone = sum(np.sin(2 * np.pi * f * t) / (k + 1) for k, f in enumerate((3300.0, 3520.0, 3960.0)))
    low = scipy.signal.sosfilt(scipy.signal.butter(4, 400.0, fs=sr, output="sos"), rng.standard_normal(n))
    y = 0.1 * tone * flicker(12.0) + 0.5 * low * flicker(30.0)
    y = 0.5 * y / max(np.max(np.abs(y)), 1e-9)
    if prime is not None:
        head = np.asarray(prime[:start], dtype=np.float64)
        peak = np.max(np.abs(head)) if start else 0.0
        y = np.concatenate([0.5 * head / peak if peak > 0 else head, y])
    return y.astype(np.float32)


def tempo_drift(n_samples: int, *, sr: int = SR, seed: int = 0, bpm: float = 90.0, ratio: float = 1.6) -> np.ndarray:
    """Drums whose tempo glides from ``bpm`` to ``ratio * bpm`` over the clip: a pulse with no steady tempo.

    A kick and hat on every beat and a hat between, as in :func:`musiclib.synth.drum_loop`; the
    tempo rises exponentially. Returns float32 ``[shape=(n_samples,)]``.
    """
    from musiclib import synth

    seconds = n_samples / sr
    loop = synth.drum_loop(duration=1.0, sr=sr, bpm=150.0, seed=seed)  # half-beat = 0.2 s
    on_beat, off_beat = loop[: int(0.2 * sr)], loop[int(0.2 * sr) : int(0.4 * sr)]
    # half-beat k falls where the tempo integral reaches k / 2 beats
    rate = math.log(ratio) / seconds
    k_max = int(bpm / 60 * (ratio - 1) / rate * 2)
    times = np.log1p(np.arange(k_max + 1) / 2 * 60 / bpm * rate) / rate
    y = np.zeros(n_samples, np.float64)
    for k, t0 in enumerate(times):
        hit = on_beat if k % 2 == 0 else off_beat
        a = int(t0 * sr)
        m = min(len(hit), n_samples - a)
        if m > 0:
            y[a : a + m] += hit[:m]
    return (0.9 * y / max(np.max(np.abs(y)), 1e-9)).astype(np.float32)


def failure_cases(training: list, held_out: list, *, sr: int = SR, seed: int = 0) -> dict[str, list[np.ndarray]]:
    """The calibration cases, one clip per held-out clip (``identical``: at least two), as long as it.

    ``real`` (the held-out clips), ``white_noise``, ``shaped_noise``, ``chord`` (a sustained A-minor
    chord), ``held_tone`` (the first 3/8 of each held-out clip, then :func:`held_tone`), ``growing``
    (a tone under noise growing by 80 dB, clipped at full scale), ``silence``, ``excerpt``
    (:func:`~musiclib.evaluation.baselines.training_excerpt`), ``identical`` (one held-out clip
    repeated), ``shuffled_frames`` and ``tempo_drift`` (:func:`tempo_drift` from 90 BPM).

    Parameters
    ----------
    training, held_out : list of np.ndarray [shape=(n_samples,)]
    sr : int
        Sample rate in Hz.
    seed : int

    Returns
    -------
    dict of case name -> list of np.ndarray
    """
    from musiclib import synth

    rng = np.random.default_rng(seed)
    real = [np.asarray(getattr(c, "y", c), dtype=np.float32) for c in held_out]
    n = [len(c) for c in real]
    durs = [k / sr for k in n]
    cases = {"real": real}
    cases["white_noise"] = [(0.1 * rng.standard_normal(k)).astype(np.float32) for k in n]
    cases["shaped_noise"] = baselines.shaped_noise(training, sr=sr, durations=durs, seed=seed)
    cases["chord"] = [
        sum(synth.tone(f, duration=d, sr=sr, n_harmonics=6, amplitude=0.25) for f in (220.0, 261.63, 329.63))
        for d in durs
    ]
    cases["held_tone"] = [held_tone(k, sr=sr, seed=seed + i, prime=c[: 3 * k // 8]) for i, (k, c) in enumerate(zip(n, real))]
    grow = []
    for k in n:
        t = np.arange(k) / sr
        x = np.sin(2 * np.pi * 220 * t) + 0.3 * rng.standard_normal(k)
        env = 10 ** ((-80 + 80 * t / t[-1] + 6) / 20)  # -74 dBFS to +6 dBFS
        grow.append(np.clip(x * env, -1, 1).astype(np.float32))
    cases["growing"] = grow
    cases["silence"] = [np.zeros(k, np.float32) for k in n]
    cases["excerpt"] = baselines.training_excerpt(training, sr=sr, durations=durs, seed=seed)
    cases["identical"] = [real[0].copy() for _ in range(max(2, len(real)))]
    cases["shuffled_frames"] = baselines.shuffled_frames(training, sr=sr, durations=durs, seed=seed)
    cases["tempo_drift"] = [tempo_drift(k, sr=sr, seed=seed + i) for i, k in enumerate(n)]
    return cases


@dataclass
class CalibrationResult:
    """Statistic values per (set, split, case, check), with the thresholds they suggest.

    Attributes
    ----------
    values : list of dict
        One row per card: ``{"set", "split", "case", check: value in threshold space, ...}``.
    suggested : dict
        ``check -> {"real_worst", "failure_best", "suggested", "current"}``.
    """

    values: list[dict]
    suggested: dict

    def frame(self):
        """The calibration table as a DataFrame: one row per check; per case the worst real value over
        splits and, for failures, the value nearest to passing; then the suggested and current threshold."""
        import pandas as pd

        groups = pd.DataFrame(self.values).groupby("case", sort=False)
        out = pd.DataFrame({case: {c: _worst(g[c].tolist(), CHECKS[c], real=(case == "real")) for c in CHECKS}
                            for case, g in groups})
        out["suggested"] = [self.suggested[c]["suggested"] for c in out.index]
        out["current"] = [self.suggested[c]["current"] for c in out.index]
        out.index.name = "check"
        return out

    def table(self) -> str:
        """:meth:`frame` as text, with a line saying how to read it."""
        text = self.frame().to_string(float_format=lambda x: f"{x:.3g}", na_rep="n/a")
        return (f"{text}\ncells: real = the worst value over splits; each failure = its value closest to passing; "
                "blowup/clipping/dropout are margins above the reference's worst clip")

    def thresholds(self) -> str:
        """One line per check: rule, threshold in use, suggestion, and the values it lies between."""
        lines = []
        for check, s in self.suggested.items():
            rule = "<=" if CHECKS[check] == "max" else ">="
            lines.append(f"{check:<13}{rule} {format_value(s['current']):>8}   suggested {format_value(s['suggested']):>8}   "
                         f"real worst {format_value(s['real_worst']):>8}   named failures' best "
                         f"{format_value(s['failure_best']):>8} ({', '.join(NAMED_FAILURES[check])})")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.table()


def _worst(vals, rule: str, *, real: bool) -> float:
    """For real music the value nearest failing; for a failure case, the one nearest passing."""
    vals = [v for v in vals if not math.isnan(v)]
    if not vals:
        return math.nan
    return (max(vals) if rule == "max" else min(vals)) if real else (min(vals) if rule == "max" else max(vals))


def suggest_threshold(check: str, real_worst: float, failure_best: float) -> float:
    """Where :func:`calibrate` puts a threshold between real music's worst and the failure's best:
    for :data:`RATIO_CHECKS` their geometric mean, the failure's raised to at least a tenth of the
    real (so a failure at ~0 does not drag the threshold to ~0); for others the midpoint (real worst
    + 1 when the failure is infinite).

    Parameters
    ----------
    check : str
        A name in :data:`musiclib.evaluation.card.CHECKS`.
    real_worst, failure_best : float
        Values in threshold space.

    Returns
    -------
    float
        nan when either value is nan, or a ratio check's real worst is not positive.
    """
    if check not in CHECKS:
        raise ParameterError(f"check={check!r} is not one of the card's checks {list(CHECKS)}")
    if math.isnan(real_worst) or math.isnan(failure_best):
        return math.nan
    if check in RATIO_CHECKS:
        if real_worst <= 0 or math.isinf(failure_best):
            return math.nan
        return math.sqrt(real_worst * max(failure_best, real_worst / 10))
    if math.isinf(failure_best):
        return real_worst + 1.0
    return (real_worst + failure_best) / 2


def calibrate(
    clips,
    *,
    sr: int = SR,
    n_splits: int = 3,
    seed: int = 0,
    clip_seconds: float | None = None,
    progress: bool = False,
) -> CalibrationResult:
    """Measure every card statistic on held-out real music and on each failure case; suggest thresholds
    (the procedure is in the module docstring).

    Parameters
    ----------
    clips : list of np.ndarray, a Corpus, or dict name -> list
        Real music, at least 3 clips per set.
    sr : int
        Sample rate of the clips in Hz.
    n_splits : int
        Random splits of each set.
    seed : int
        Seeds the splits and the failure cases.
    clip_seconds : float, optional
        Cut each clip to its first ``clip_seconds`` (None: whole).
    progress : bool
        Print a line per card.

    Returns
    -------
    CalibrationResult
    """
    n_splits = check_int("n_splits", n_splits)
    sets = clips if isinstance(clips, dict) else {"music": clips}
    rows = []
    for set_name, set_clips in sets.items():
        if isinstance(set_clips, np.ndarray) and set_clips.ndim == 1:
            set_clips = [set_clips]
        cl = [np.asarray(getattr(c, "y", c), dtype=np.float32) for c in getattr(set_clips, "clips", set_clips)]
        cl = [c[: int(clip_seconds * sr)] for c in cl] if clip_seconds else cl
        if len(cl) < 3:
            raise ParameterError(f"calibrate() needs at least 3 clips of real music in {set_name!r}, got {len(cl)}")
        rng = np.random.default_rng(seed)
        for split in range(n_splits):
            order = rng.permutation(len(cl))
            k = len(cl) // 3
            train, ref, held = ([cl[i] for i in part] for part in np.split(order, [len(cl) - 2 * k, len(cl) - k]))
            cache: dict = {}
            for case, gen in failure_cases(train, held, sr=sr, seed=seed + split).items():
                card = musicality_card(gen, training=train, reference=ref, sr=sr, seed=seed, features=cache)
                rows.append({"set": set_name, "split": split, "case": case,
                             **{name: c["value"] - c["detail"]["reference_base"] for name, c in card.checks.items()}})
                if progress:
                    print(f"{set_name} split {split} {case}: past the threshold {_past_threshold(card)}", flush=True)
    return CalibrationResult(rows, _suggest(rows))


def _past_threshold(card) -> list[str]:
    """Checks whose value is on the failing side of its threshold (also on a card without a verdict)."""
    return [name for name, c in card.checks.items() if not math.isnan(c["value"])
            and (c["value"] > c["threshold"] if c["rule"] == "max" else c["value"] < c["threshold"])]


def _suggest(rows) -> dict:
    suggested = {}
    for check, rule in CHECKS.items():
        real = _worst([r[check] for r in rows if r["case"] == "real"], rule, real=True)
        # the named failures' value nearest to passing
        fail = _worst([r[check] for r in rows if r["case"] in NAMED_FAILURES[check]], rule, real=False)
        suggested[check] = {
            "real_worst": real,
            "failure_best": fail,
            "suggested": suggest_threshold(check, real, fail),
            "current": THRESHOLDS[check],
        }
    return suggested


def calibration_sets(corpus_dirs=None, *, sr: int = SR, pattern: str = "loop_*", seconds: float = 8.0) -> dict:
    """The music :func:`calibrate` was run on: nine synthetic mixes, plus each given folder's clips:
    the middle ``seconds`` of each file matching ``pattern`` (all when none match), shorter clips
    repeated to ``seconds``.

    Parameters
    ----------
    corpus_dirs : path or list of paths, optional
    sr : int
        Sample rate in Hz.
    pattern : str
        Glob of the music files of a folder (default: Sonic Pi's loops, not its one-shots).
    seconds : float

    Returns
    -------
    dict
        set name (``"synthetic"`` or the folder's name) -> list of np.ndarray
    """
    from musiclib import synth
    from musiclib.corpus import find_audio_files, load_corpus

    bpms = [96, 104, 112, 120, 128, 136, 100, 116, 132]
    sets = {"synthetic": [synth.synthetic_mix(duration=seconds, sr=sr, bpm=b, seed=s) for s, b in enumerate(bpms)]}
    if corpus_dirs is None:
        corpus_dirs = []
    elif isinstance(corpus_dirs, (str, Path)):
        corpus_dirs = [corpus_dirs]
    n = int(seconds * sr)
    for d in corpus_dirs:
        files = find_audio_files(d)
        picked = [f for f in files if Path(f).match(pattern)] or files
        corpus = load_corpus(picked, sr=sr, max_duration=seconds, excerpt="middle", progress=False)
        sets[Path(d).name] = [np.tile(c.y, -(-n // len(c.y)))[:n] for c in corpus.clips]
    return sets
