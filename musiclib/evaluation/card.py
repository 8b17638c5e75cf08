"""The musicality card: objective checks for generated audio, calibrated on data.

Each failure heard in earlier experiments (noise, drones, blow-ups, clipping, dropouts, no pulse, a
drifting tempo, frames with no order, copying, clips all alike) is a measured statistic with a
threshold: :data:`CHECKS` names them in display order with their direction (``"max"``: passes when
value <= threshold), :data:`DESCRIPTIONS` says what each measures, :data:`THRESHOLDS` holds the
thresholds that :func:`musiclib.evaluation.calibration.calibrate` set (:data:`CALIBRATION` records
that run). Most checks are relative to held-out real music (ratios to the reference's statistic, or,
for blowup, clipping and dropout, margins over the reference's worst clip), so the thresholds carry
over from one corpus to another. Checks on a set of clips take the median over its clips (the level
checks: the worst clip); rhythm, tempo and structure compare generated and reference clips on windows
of the same length. What is measured on each clip is :mod:`musiclib.evaluation.features`.

With less reference than :data:`MIN_REFERENCE_FILES` clips holding :data:`MIN_REFERENCE_SECONDS`
analysed seconds, the card still measures every value but gives no verdict (:attr:`Card.refused`);
:func:`check_reference` raises instead. See ``notebooks/08_compare``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from threadpoolctl import threadpool_limits

from musiclib.audio import MAX_SR
from musiclib.errors import ParameterError, ReferenceTooSmallError, check_int
from musiclib.evaluation.features import (
    FPS,
    MAX_ANALYSIS_SECONDS,
    MIN_CLIP_SECONDS,
    N_FFT,
    SEGMENT_FRAMES,
    SILENCE_FLOOR_DBFS,
    SR,
    ClipFeatures,
    clip_features,
    time_statistics,
)

__all__ = ["Card", "CHECKS", "DESCRIPTIONS", "THRESHOLDS", "CALIBRATION", "musicality_card", "frechet_distance",
           "format_value", "MIN_REFERENCE_FILES", "MIN_REFERENCE_SECONDS", "reference_size", "check_reference",
           "no_verdict", "ReferenceTooSmallError"]

# Settings of the checks (the analysis settings are in musiclib.evaluation.features)
#: Percentile of the reference's loud-patch flatness that a "noisy" generated patch exceeds.
NOISE_PERCENTILE = 90.0
#: Bootstrap resamples for the distribution interval.
N_BOOTSTRAP = 100

#: The least reference the card gives a verdict against: this many clips holding this many analysed
#: seconds (each counts at most MAX_ANALYSIS_SECONDS); chosen by ``benchmarks/reference_size.py``.
MIN_REFERENCE_FILES = 3
MIN_REFERENCE_SECONDS = 30.0

#: The checks in display order, with the direction of each threshold.
CHECKS = {
    "distribution": "max",
    "noise": "max",
    "drone": "min",
    "blowup": "max",
    "clipping": "max",
    "dropout": "max",
    "rhythm": "min",
    "tempo": "min",
    "structure": "min",
    "copying": "min",
    "diversity": "min",
}

DESCRIPTIONS = {
    "distribution": "Fréchet distance of log-mel / MFCC+delta frames to the reference: 0 = reference vs itself, 1 = shaped noise",
    "noise": "share of loud octave x 0.19 s patches flatter (spectral flatness) than 90% of the reference's",
    "drone": "share of time the dominant spectral peaks move within 2 s, relative to the reference",
    "blowup": "worst clip's level growth, median level of the last quarter over the first (dB); inf = NaN/inf samples",
    "clipping": "worst clip's share of samples at full scale",
    "dropout": "worst clip's share of silent frames",
    "rhythm": "onset-strength periodicity above chance, relative to the reference",
    "tempo": "whole-clip over 3-s-window periodicity (tempo stability), relative to the reference",
    "structure": "information between frames 0.2-0.5 s apart, above chance, relative to the reference",
    "copying": "distance of generated seconds to their nearest training second, relative to reference clips'",
    "diversity": "distance between different generated clips, relative to that between reference clips",
}

#: Threshold of each check (blowup, clipping, dropout: a margin over the reference's worst clip).
THRESHOLDS = {
    "distribution": 0.5,
    "noise": 0.56,
    "drone": 0.74,
    "blowup": 26.0,
    "clipping": 0.019,
    "dropout": 0.5,
    "rhythm": 0.46,
    "tempo": 0.61,
    "structure": 0.17,
    "copying": 0.17,
    "diversity": 0.2,
}
#: The dropout threshold never exceeds this share of silent frames.
DROPOUT_CAP = 0.9

#: The calibration run behind THRESHOLDS, as ``python -m musiclib calibrate --corpus data/sonic-pi-samples
#: --corpus data/nexuiz-music`` printed it; each threshold is its suggestion to two significant digits.
CALIBRATION = """
distribution <=      0.5   suggested    0.498   real worst    0.367   named failures' best    0.629 (shaped_noise, white_noise)
noise        <=     0.56   suggested    0.556   real worst    0.233   named failures' best    0.879 (white_noise, shaped_noise)
drone        >=     0.74   suggested    0.742   real worst    0.866   named failures' best    0.637 (chord, held_tone)
blowup       <=       26   suggested     26.4   real worst     1.57   named failures' best     51.3 (growing)
clipping     <=    0.019   suggested   0.0189   real worst   0.0058   named failures' best   0.0321 (growing)
dropout      <=      0.5   suggested      0.5   real worst   0.0754   named failures' best    0.925 (silence)
rhythm       >=     0.46   suggested     0.46   real worst    0.663   named failures' best    0.319 (chord, white_noise, shuffled_frames)
tempo        >=     0.61   suggested    0.614   real worst    0.874   named failures' best    0.431 (tempo_drift)
structure    >=     0.17   suggested    0.173   real worst    0.474   named failures' best   0.0634 (shuffled_frames, white_noise)
copying      >=     0.17   suggested    0.171   real worst     0.54   named failures' best        0 (excerpt)
diversity    >=      0.2   suggested    0.201   real worst    0.636   named failures' best  0.00297 (identical)

               real  white_noise  shaped_noise   chord  held_tone  growing  silence  excerpt  identical  shuffled_frames  tempo_drift  suggested  current
check                                                                                                                                                    
distribution  0.367         1.04         0.629    1.41          0    0.236     15.5        0          0                0        0.789      0.498      0.5
noise         0.233            1         0.879       0          0        0      n/a  0.00465          0                0            0      0.556     0.56
drone         0.866         1.34          1.32       0      0.637     1.23      n/a     1.25        1.2             1.32         1.29      0.742     0.74
blowup         1.57        -8.85         -8.87    -8.9      -8.49     51.3    -8.83    -9.57      -11.1            -8.44        -4.47       26.4       26
clipping     0.0058      -0.0058       -0.0058 -0.0058    -0.0058   0.0321  -0.0058  -0.0058    -0.0058          -0.0058      -0.0058     0.0189    0.019
dropout      0.0754      -0.0754       -0.0754 -0.0754    -0.0754    0.226    0.925  -0.0754    -0.0754          -0.0754        0.159        0.5      0.5
rhythm        0.663       0.0109       0.00795       0       3.07     5.76        0     5.38       4.93            0.319        0.741       0.46     0.46
tempo         0.874        0.636         0.668   0.015       1.49     2.19        0     1.13       1.23            0.713        0.431      0.614     0.61
structure     0.474       0.0538        0.0307    2.47       2.71     9.15        0     2.45       1.54           0.0634            1      0.173     0.17
copying        0.54         5.69           3.9    6.27       3.05      5.5      n/a        0       2.88             3.35         6.04      0.171     0.17
diversity     0.636        0.365          0.44 0.00769       1.28    0.346      n/a      1.3    0.00297             1.75        0.372      0.201      0.2
cells: real = the worst value over splits; each failure = its value closest to passing; blowup/clipping/dropout are margins above the reference's worst clip
"""

def _gauss(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    X = np.asarray(X, dtype=np.float64)
    return X.mean(axis=0), np.cov(X, rowvar=False)


def _sqrtm_psd(C: np.ndarray) -> np.ndarray:
    w, V = np.linalg.eigh((C + C.T) / 2)
    return (V * np.sqrt(np.clip(w, 0, None))) @ V.T


def frechet_distance(mu1, C1, mu2, C2, *, sqrt_C2: np.ndarray | None = None) -> float:
    """Fréchet distance between two Gaussians: ``|mu1-mu2|^2 + tr(C1 + C2 - 2 (C1 C2)^(1/2))``.

    Parameters
    ----------
    mu1, mu2 : np.ndarray [shape=(d,)]
    C1, C2 : np.ndarray [shape=(d, d)]
        Covariance matrices (symmetric positive semi-definite).
    sqrt_C2 : np.ndarray [shape=(d, d)], optional
        The symmetric square root of ``C2``, when it is reused across many calls.

    Returns
    -------
    float
        The squared 2-Wasserstein distance, >= 0.
    """
    R = _sqrtm_psd(C2) if sqrt_C2 is None else sqrt_C2
    w = np.linalg.eigvalsh(R @ C1 @ R)
    tr_cov = float(np.sum(np.sqrt(np.clip(w, 0, None))))
    d = np.sum((mu1 - mu2) ** 2) + np.trace(C1) + np.trace(C2) - 2 * tr_cov
    return float(max(d, 0.0))


def _nn_distance(queries: np.ndarray, sources: list[np.ndarray]) -> np.ndarray:
    """RMS (dB) distance from each mean-removed segment ``queries [shape=(n, L * d)]`` to its nearest
    mean-removed window of L frames of any log-mel in ``sources`` (each ``(n_frames, d)``), in blocks."""
    L = SEGMENT_FRAMES
    n, dim = queries.shape
    best = np.full(n, np.inf)
    if n == 0:
        return best
    q = queries.astype(np.float32)
    qn = np.sum(q.astype(np.float64) ** 2, axis=1)
    for src in sources:
        if len(src) < L:
            continue
        win = np.lib.stride_tricks.sliding_window_view(src, L, axis=0)  # (m, d, L)
        win = win[:: 1 if len(win) * n < 4e6 else 2]
        for a in range(0, len(win), 2048):
            w = np.ascontiguousarray(win[a : a + 2048].transpose(0, 2, 1)).reshape(-1, dim)
            w = w - w.mean(axis=1, keepdims=True)
            d2 = qn[:, None] + np.sum(w.astype(np.float64) ** 2, axis=1)[None, :] - 2 * (q @ w.T).astype(np.float64)
            best = np.minimum(best, np.min(d2, axis=1))
    return np.sqrt(np.maximum(best, 0.0) / dim)


def _nanmedian(values) -> float:
    """Median of the finite values (nan when there are none: a statistic undefined on every clip)."""
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    return float(np.median(v)) if len(v) else math.nan


def _result(name: str, value: float, *, base: float = 0.0, threshold: float | None = None, **detail) -> dict:
    thr = THRESHOLDS[name] if threshold is None else threshold
    return {"value": float(value), "base": float(base), "threshold": float(thr), "detail": detail}


def _ratio_check(name: str, generated: float, reference: float, **detail) -> dict:
    """A check whose value is the generated statistic over the reference's (n/a when either is undefined)."""
    if not np.isfinite(generated) or not np.isfinite(reference) or reference <= 1e-9:
        why = "the reference has none" if np.isfinite(reference) else "not measurable on these clips"
        return _result(name, math.nan, reason=why, generated=generated, reference=reference, **detail)
    return _result(name, generated / reference, generated=generated, reference=reference, **detail)


def _distribution(gen, ref, noise, *, seed: int) -> dict:
    """Fréchet distance of frame statistics, between the reference's own halves (0) and shaped noise (1)."""
    out = {}
    rng = np.random.default_rng(seed)
    L = SEGMENT_FRAMES
    for attr in ("logmel", "mfcc"):
        mu_r, C_r = _gauss(np.concatenate([getattr(f, attr) for f in ref]))
        sq = _sqrtm_psd(C_r)
        G = np.concatenate([getattr(f, attr) for f in gen]).astype(np.float64)
        fd = frechet_distance(*_gauss(G), mu_r, C_r, sqrt_C2=sq)
        if len(ref) >= 2:
            halves = [np.concatenate([getattr(f, attr) for f in ref[i::2]]) for i in (0, 1)]
        else:
            X = getattr(ref[0], attr)
            halves = [X[: len(X) // 2], X[len(X) // 2 :]]
        floor = frechet_distance(*_gauss(halves[0]), *_gauss(halves[1]))
        ceiling = frechet_distance(*_gauss(np.concatenate([getattr(f, attr) for f in noise])), mu_r, C_r, sqrt_C2=sq)
        offset, scale = (floor, ceiling - floor) if ceiling > floor * 1.01 else (0.0, max(ceiling, 1e-9))
        # block bootstrap over one-second blocks of generated frames, from per-block sums
        blocks = [G[s : s + L] for s in range(0, len(G), L)]
        counts = np.array([len(b) for b in blocks], dtype=np.float64)
        sums = np.stack([b.sum(axis=0) for b in blocks])
        outer = np.stack([b.T @ b for b in blocks])
        boots = []
        for _ in range(N_BOOTSTRAP):
            w = np.bincount(rng.integers(0, len(blocks), len(blocks)), minlength=len(blocks)).astype(np.float64)
            n = w @ counts
            if n > 2:
                mu = (w @ sums) / n
                C = (np.tensordot(w, outer, axes=1) - n * np.outer(mu, mu)) / (n - 1)
                boots.append(frechet_distance(mu, C, mu_r, C_r, sqrt_C2=sq))
        lo, hi = np.percentile(boots, [5, 95]) if boots else (fd, fd)
        out[attr] = {
            "fd": fd,
            "fd_interval_90": [float(lo), float(hi)],
            "floor": floor,
            "ceiling": ceiling,
            "score": (fd - offset) / scale,
            "score_interval_90": [float((lo - offset) / scale), float((hi - offset) / scale)],
        }
    score = max(out["logmel"]["score"], out["mfcc"]["score"])
    # below 0 = closer to the reference than its own halves are to each other: as good as real
    return _result("distribution", max(0.0, score), unclipped_score=score, **out)


def _noise(gen, ref) -> dict:
    """Share of the generated loud patches flatter than NOISE_PERCENTILE % of the reference's."""
    rf = np.concatenate([f.flatness for f in ref])
    gf = np.concatenate([f.flatness for f in gen])
    if len(rf) == 0 or len(gf) == 0:
        return _result("noise", math.nan, reason="no loud frames")
    cut = float(np.percentile(rf, NOISE_PERCENTILE))
    return _result(
        "noise",
        float(np.mean(gf > cut)),
        reference_p90_log10_flatness=cut,
        generated_median_log10_flatness=float(np.median(gf)),
        reference_median_log10_flatness=float(np.median(rf)),
    )


def _drone(gen, ref) -> dict:
    """Share of time the dominant partials move (1 - drone share), generated over reference."""
    g, r = (_nanmedian([f.drone_share for f in feats]) for feats in (gen, ref))
    return _ratio_check("drone", 1 - g, 1 - r, generated_drone_share=g, reference_drone_share=r)


def _level_checks(gen, ref) -> dict:
    """Blow-up, clipping and dropout: the worst generated clip against the reference's worst plus a margin."""
    out = {}
    for name, attr in (("blowup", "growth_db"), ("clipping", "clip_ratio"), ("dropout", "silence_ratio")):
        base = max(getattr(f, attr) for f in ref)
        base = max(base, 0.0) if name == "blowup" else base
        threshold = base + THRESHOLDS[name]
        if name == "dropout":
            threshold = min(DROPOUT_CAP, threshold)
        per_clip = [getattr(f, attr) for f in gen]
        out[name] = _result(name, max(per_clip), base=base, threshold=threshold, per_clip=per_clip, reference_worst=base)
    out["blowup"]["detail"]["nonfinite_samples"] = [f.n_nonfinite for f in gen]
    return out


def _time_checks(gen, ref, *, cache: dict) -> dict:
    """Rhythm, tempo and structure on windows of the shorter of the sets' median analysed lengths."""
    frames = int(min(np.median([len(f.onset_env) for f in gen]), np.median([len(f.onset_env) for f in ref])))

    def pooled(feats):
        stats = [time_statistics(f, frames=frames) for f in feats]
        return {k: np.concatenate([st[k] for st in stats]) for k in stats[0]}

    if ("reference_time_statistics", frames) not in cache:
        cache["reference_time_statistics", frames] = pooled(ref)
    g, r = pooled(gen), cache["reference_time_statistics", frames]
    window = round(frames / FPS, 2)
    return {
        "rhythm": _ratio_check("rhythm", _nanmedian(g["periodicity"]), _nanmedian(r["periodicity"]), window_s=window,
                               generated_raw=_nanmedian(g["periodicity_raw"]), generated_chance=_nanmedian(g["periodicity_null"]),
                               generated_beat_period_s=[round(x, 3) for x in g["beat_period"] if np.isfinite(x)]),
        "tempo": _ratio_check("tempo", _nanmedian(g["tempo_stability"]), _nanmedian(r["tempo_stability"]), window_s=window),
        "structure": _ratio_check("structure", _nanmedian(g["temporal_information"]), _nanmedian(r["temporal_information"]),
                                  window_s=window),
    }


def _loud(f: ClipFeatures) -> np.ndarray:
    return f.segments[f.loud_segments]


def _copying(gen, ref, train, *, cache: dict) -> dict:
    """How close generated seconds come to training seconds, against how close held-out real ones come."""
    sources = [f.coarse for f in train]
    dg = _nn_distance(np.concatenate([_loud(f) for f in gen]), sources)
    if "reference_to_training_db" not in cache:
        cache["reference_to_training_db"] = _nn_distance(np.concatenate([_loud(f) for f in ref]), sources)
    dr = cache["reference_to_training_db"]
    if len(dg) == 0 or len(dr) == 0:
        return _result("copying", math.nan, reason="no loud segments")
    qg, qr = float(np.percentile(dg, 10)), float(np.percentile(dr, 10))
    return _ratio_check("copying", qg, qr, unit="dB (p10 distance)", generated_median_distance_db=float(np.median(dg)),
                        near_copy_share=float(np.mean(dg < THRESHOLDS["copying"] * qr)))


def _spread(feats) -> np.ndarray:
    """Each clip's loud seconds against the other clips' windows (one clip: its halves)."""
    if len(feats) >= 2:
        return np.concatenate(
            [_nn_distance(_loud(f), [g.coarse for j, g in enumerate(feats) if j != i]) for i, f in enumerate(feats)]
        )
    f = feats[0]
    half = len(f.coarse) // 2
    L = SEGMENT_FRAMES
    return _nn_distance(_loud(f)[: max(1, (half - L) // max(1, L // 2))], [f.coarse[half:]])


def _diversity(gen, ref, *, cache: dict) -> dict:
    """How far generated clips lie from each other, against how far the reference clips do."""
    if len(gen) < 2:
        return _result("diversity", math.nan, reason="needs 2 or more generated clips")
    if "reference_spread_db" not in cache:
        cache["reference_spread_db"] = _spread(ref)
    dg, dr = _spread(gen), cache["reference_spread_db"]
    dg, dr = dg[np.isfinite(dg)], dr[np.isfinite(dr)]
    if len(dg) == 0 or len(dr) == 0:
        return _result("diversity", math.nan, reason="no loud segments")
    return _ratio_check("diversity", float(np.median(dg)), float(np.median(dr)), unit="dB (median distance)")


def format_value(x) -> str:
    """A card value as text: 3 significant digits, ``n/a`` for nan, ``inf``, ``-`` for None."""
    if x is None:
        return "-"
    if isinstance(x, (float, np.floating)):
        x = float(x)
        if math.isnan(x):
            return "n/a"
        if math.isinf(x):
            return "inf" if x > 0 else "-inf"
        return f"{x:.3g}" if abs(x) >= 1e-3 or x == 0 else f"{x:.1e}"
    return str(x)


def _jsonable(x):
    if isinstance(x, dict):
        return {k: _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, (float, np.floating)):
        x = float(x)
        return None if math.isnan(x) else ("inf" if x == math.inf else "-inf" if x == -math.inf else x)
    return x.item() if isinstance(x, np.generic) else x


RESULT_WORDS = {True: "pass", False: "FAIL", None: "n/a"}
RESULT_COLOURS = {True: "#d4f4d4", False: "#f8d0d0", None: "#eeeeee"}


@dataclass
class Card:
    """A musicality card: per-check value, threshold, pass/fail and detail.

    Attributes
    ----------
    checks : dict
        ``name -> {"value", "threshold", "passed", "rule", "detail"}``; ``passed`` is None where the
        check does not apply (e.g. diversity with one clip, tempo on clips under 6 s).
    seconds : float
        Seconds of generated audio measured.
    n_clips : int
    label : str, optional
        Shown as the table's caption.
    refused : str, optional
        Why the card gives no verdict (too little reference); then every ``passed`` is None.
    """

    checks: dict
    seconds: float = 0.0
    n_clips: int = 0
    label: str | None = None
    meta: dict = field(default_factory=dict)
    refused: str | None = None

    @property
    def passed(self) -> bool | None:
        """True when no check failed (checks that do not apply do not fail); None when :attr:`refused`."""
        if self.refused:
            return None
        return all(c["passed"] is not False for c in self.checks.values())

    @property
    def failed(self) -> list[str]:
        """Names of the failed checks, in display order."""
        return [k for k, c in self.checks.items() if c["passed"] is False]

    def to_dict(self) -> dict:
        """JSON-able: ``{"passed", "n_clips", "seconds", "checks": {name: {"value", "threshold", "passed", "rule",
        "detail"}}}``, plus ``"refused"`` (the reason) when the card gives no verdict."""
        out = {"passed": self.passed, "n_clips": self.n_clips, "seconds": self.seconds, "checks": self.checks}
        return _jsonable({**out, "refused": self.refused} if self.refused else out)

    def summary_row(self) -> dict:
        """``{check: value}`` plus ``passed``: one row of a comparison table."""
        return {**{k: c["value"] for k, c in self.checks.items()}, "passed": self.passed}

    def to_frame(self):
        """The card as a pandas DataFrame: one row per check (value, rule, threshold, result, measures)."""
        import pandas as pd

        return pd.DataFrame(
            {
                "value": [c["value"] for c in self.checks.values()],
                "rule": ["<=" if c["rule"] == "max" else ">=" for c in self.checks.values()],
                "threshold": [c["threshold"] for c in self.checks.values()],
                "result": ["no verdict" if self.refused else RESULT_WORDS[c["passed"]] for c in self.checks.values()],
                "measures": [DESCRIPTIONS.get(k, "") for k in self.checks],
            },
            index=pd.Index(list(self.checks), name="check"),
        )

    def verdict(self) -> str:
        """``"PASS"``, ``"FAIL (check, ...)"`` or ``"NO VERDICT (reason)"`` (:attr:`refused`)."""
        if self.refused:
            return f"NO VERDICT ({self.refused})"
        return "PASS" if self.passed else f"FAIL ({', '.join(self.failed)})"

    def __str__(self) -> str:
        table = self.to_frame().drop(columns="measures").rename_axis(None).to_string(
            formatters={"value": format_value, "threshold": format_value}, na_rep="n/a"
        )
        return f"{table}\noverall: {self.verdict()}  [{self.n_clips} clips, {self.seconds:.1f} s]"

    def _repr_html_(self) -> str:
        frame = self.to_frame().rename_axis(None)
        colours = [f"background-color: {RESULT_COLOURS[c['passed']]}" for c in self.checks.values()]
        styler = frame.style.format({"value": format_value, "threshold": format_value}).apply(lambda col: colours, axis=0)
        if self.label:
            styler = styler.set_caption(self.label)
        return f"{styler.to_html()}<p><b>{self.verdict()}</b> ({self.n_clips} clips, {self.seconds:.1f} s)</p>"


def no_verdict(cards) -> str:
    """The sentence to show beside results that cards without a verdict would otherwise seem to give.

    Parameters
    ----------
    cards : dict of label -> Card, or list of Card

    Returns
    -------
    str
        ``""`` when every card has a verdict, else ``"No verdict for <labels, or any card>: <why>."``.
    """
    if not isinstance(cards, dict):
        if isinstance(cards, (str, bytes)) or not hasattr(cards, "__iter__"):
            raise ParameterError(f"cards must be a dict of label -> Card or a list of Card, not {type(cards).__name__}")
        cards = {getattr(c, "label", None) or f"card {i}": c for i, c in enumerate(cards)}
    wrong = [label for label, c in cards.items() if not isinstance(c, Card)]
    if wrong:
        raise ParameterError(f"cards[{wrong[0]!r}] must be a Card (from musicality_card), "
                             f"not {type(cards[wrong[0]]).__name__}")
    refused = [label for label, c in cards.items() if c.refused]
    if not refused:
        return ""
    which = "any card" if len(refused) == len(cards) else ", ".join(refused)
    return f"No verdict for {which}: {cards[refused[0]].refused}."


def _as_clips(x, *, name: str) -> list:
    if x is None:
        raise ParameterError(f"{name} is required (a list of clips)")
    if isinstance(x, np.ndarray) and x.ndim == 1:
        x = [x]
    x = getattr(x, "clips", x)
    if isinstance(x, (str, bytes)) or not hasattr(x, "__iter__"):
        raise ParameterError(f"{name} must be a list of clips (1-D arrays), not {type(x).__name__}")
    clips = list(x)
    if not clips:
        raise ParameterError(f"{name} is empty; the card needs at least one clip")
    return clips


def _features(clips, *, sr: int, name: str) -> list[ClipFeatures]:
    return [clip_features(c, sr=sr, what=f"{name}[{i}]") for i, c in enumerate(_as_clips(clips, name=name))]


def _yardstick(clips, *, sr: int, name: str) -> list[ClipFeatures]:
    """Features of the training or reference clips, refusing any that cannot serve as real music."""
    feats = _features(clips, sr=sr, name=name)
    for i, f in enumerate(feats):
        if f.n_nonfinite:
            raise ParameterError(f"{name}[{i}] holds {f.n_nonfinite} NaN/inf samples; the card measures against "
                                 "real music, so every training and reference clip must be finite")
        if f.rms_db < SILENCE_FLOOR_DBFS:
            raise ParameterError(f"{name}[{i}] is silent (RMS {f.rms_db:.0f} dBFS, below {SILENCE_FLOOR_DBFS:.0f}); "
                                 "the card measures against real music, not silence")
    return feats


def _reference_message(files: int, seconds: float) -> str | None:
    """Why a reference of ``files`` clips and ``seconds`` analysed seconds is too small, or None."""
    if files >= MIN_REFERENCE_FILES and seconds >= MIN_REFERENCE_SECONDS:
        return None
    return (f"the reference is {seconds:.1f} s of held-out music in {files} clip{'s' if files != 1 else ''}; a verdict "
            f"needs at least {MIN_REFERENCE_SECONDS:g} s in at least {MIN_REFERENCE_FILES} clips (each counts at most "
            f"{MAX_ANALYSIS_SECONDS:g} s): hold out more files (benchmarks/reference_size.py measured this minimum)")


def reference_size(reference, *, sr: int = SR) -> tuple[int, float]:
    """How much reference the card would measure against: clips, and their analysed seconds.

    Parameters
    ----------
    reference : list of np.ndarray [shape=(n_samples,)]
        Held-out real clips (or a Corpus, or Clip objects).
    sr : int
        Their sample rate in Hz.

    Returns
    -------
    files : int
    seconds : float
        The sum of the clips' durations, each at most ``MAX_ANALYSIS_SECONDS``.

    Raises
    ------
    ParameterError
        An empty ``reference``, a clip that is not a 1-D array, or a bad ``sr``.
    """
    sr = check_int("sr", sr, low=1, high=MAX_SR)
    clips = _as_clips(reference, name="reference")
    seconds = 0.0
    for i, c in enumerate(clips):
        y = np.asarray(getattr(c, "y", c))
        if y.ndim != 1:
            raise ParameterError(f"reference[{i}] must be a 1-D signal (n_samples,), got shape {y.shape}")
        seconds += min(len(y) / sr, MAX_ANALYSIS_SECONDS)
    return len(clips), float(seconds)


def check_reference(reference, *, sr: int = SR) -> tuple[int, float]:
    """Raise unless ``reference`` is enough for a verdict (:data:`MIN_REFERENCE_FILES` clips holding
    :data:`MIN_REFERENCE_SECONDS` analysed seconds); return :func:`reference_size`.

    Raises
    ------
    ReferenceTooSmallError
        Too little reference; the message and attributes say how much there is and is needed.
    ParameterError
        As :func:`reference_size`.
    """
    files, seconds = reference_size(reference, sr=sr)
    why = _reference_message(files, seconds)
    if why:
        raise ReferenceTooSmallError(f"no verdict: {why}", files=files, seconds=seconds,
                                     min_files=MIN_REFERENCE_FILES, min_seconds=MIN_REFERENCE_SECONDS)
    return files, seconds


def musicality_card(
    generated,
    *,
    training,
    reference,
    sr: int = SR,
    label: str | None = None,
    seed: int = 0,
    features: dict | None = None,
) -> Card:
    """Measure generated clips against the music a model learned from and unseen real music.

    Parameters
    ----------
    generated : list of np.ndarray [shape=(n_samples,)]
        The model's clips (at least :data:`MIN_CLIP_SECONDS` each). A Corpus or Clip objects work too.
    training : list of np.ndarray
        The clips the model learned from (for the copying check).
    reference : list of np.ndarray
        Held-out real clips (the yardstick for every relative check): finite and not silent.
    sr : int
        Sample rate of every clip in Hz (resampled to 22050 Hz for analysis).
    label : str, optional
        A name shown in the card's caption.
    seed : int
        Seeds the shaped-noise ceiling and the bootstrap.
    features : dict, optional
        A cache of what depends only on ``training`` and ``reference``, to reuse across cards against
        the same data: pass the same empty dict to each (the first fills it in).

    Returns
    -------
    Card
        With a pass/fail per check, or no verdict (:attr:`Card.refused`) when ``reference`` is too
        small (:func:`check_reference`).

    Raises
    ------
    ParameterError
        Empty lists, non-1-D clips, clips shorter than :data:`MIN_CLIP_SECONDS`, a bad ``sr``, or a
        training or reference clip that holds NaN/inf samples or is silent.

    Examples
    --------
    >>> from musiclib import synth
    >>> bpms = [100, 112, 124, 136, 118, 130, 106, 128]
    >>> real = [synth.synthetic_mix(duration=10, bpm=b, seed=s) for s, b in enumerate(bpms)]
    >>> musicality_card(real[:2], training=real[2:5], reference=real[5:]).passed
    True
    """
    sr = check_int("sr", sr, high=MAX_SR)
    seed = check_int("seed", seed, low=0)
    if features is not None and not isinstance(features, dict):
        raise ParameterError(f"features must be a dict (a cache shared by cards) or None, not {type(features).__name__}")
    cache = features if features is not None else {}
    # one BLAS thread: the matrices are small, and more threads on a busy machine cost more
    with threadpool_limits(limits=1, user_api="blas"):
        gen = _features(generated, sr=sr, name="generated")
        if "training" not in cache:
            cache["training"] = _yardstick(training, sr=sr, name="training")
        if "reference" not in cache:
            cache["reference"] = _yardstick(reference, sr=sr, name="reference")
        train, ref = cache["training"], cache["reference"]
        if "ceiling" not in cache:
            cache["ceiling"] = _shaped_noise_features(ref, seed=seed + 1)
        results = {
            "distribution": _distribution(gen, ref, cache["ceiling"], seed=seed),
            "noise": _noise(gen, ref),
            "drone": _drone(gen, ref),
            **_level_checks(gen, ref),
            **_time_checks(gen, ref, cache=cache),
            "copying": _copying(gen, ref, train, cache=cache),
            "diversity": _diversity(gen, ref, cache=cache),
        }
    refused = _reference_message(len(ref), float(sum(min(f.duration, MAX_ANALYSIS_SECONDS) for f in ref)))
    checks = {}
    for name, rule in CHECKS.items():
        r = results[name]
        v, thr = r["value"], r["threshold"]
        passed = None if math.isnan(v) or refused else bool(v <= thr) if rule == "max" else bool(v >= thr)
        checks[name] = {"value": v, "threshold": thr, "passed": passed, "rule": rule,
                        "detail": dict(r["detail"], reference_base=r["base"])}
    return Card(checks, seconds=float(sum(f.duration for f in gen)), n_clips=len(gen), label=label, refused=refused)


def _shaped_noise_features(ref: list[ClipFeatures], *, seed: int) -> list[ClipFeatures]:
    """The distribution check's ceiling: noise with the reference's average spectrum, two clips per
    reference clip (each as long as it, at most 10 s)."""
    from musiclib.evaluation.baselines import noise_with_spectrum

    spectrum = np.mean([f.spectrum for f in ref], axis=0)
    rng = np.random.default_rng(seed)
    return [
        clip_features(noise_with_spectrum(spectrum, n_samples=int(min(f.duration, 10.0) * SR), n_fft=N_FFT, rng=rng))
        for f in ref * 2
    ]
