"""The timing loop and the registry hook shared by the ``generate_*.py`` benchmarks.

:func:`time_generation` times a ``make()`` that generates clips (one untimed warm-up, then
``repeats`` runs; medians of wall-clock and CPU time) and returns the table columns every
generation row has; :func:`registrar` gives a file's ``register(BENCHMARKS)`` for ``generate.py``.
"""

from __future__ import annotations

import statistics
import time

import numpy as np


def time_generation(make, *, name: str, audio_s: float | None = None, sr: int | None = None, repeats: int = 3,
                    target: float, **columns) -> dict:
    """One table row: ``make() -> (clips, model_s)`` timed ``repeats`` times after one warm-up.

    ``model_s`` is the part of the run spent in the model (the rest is the inversion and stitching);
    ``audio_s`` the seconds of audio one run makes (default: the clips' total length at ``sr``).
    ``columns`` (representation, clips, seconds, train_s, inversion, data, ...) are added to the row.
    The row passes when the median wall-clock or CPU-time real-time factor reaches ``target``.
    """
    def run():
        c0, t0 = time.process_time(), time.perf_counter()
        clips, model_s = make()
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        if not all(np.all(np.isfinite(c)) for c in clips):
            raise RuntimeError(f"{name}: non-finite audio")
        return model_s, wall, cpu, sum(len(c) for c in clips)

    t0 = time.perf_counter()
    run()
    warmup = time.perf_counter() - t0
    times = [run() for _ in range(repeats)]
    audio_s = times[0][3] / sr if audio_s is None else audio_s
    columns.setdefault("seconds", round(audio_s / columns.get("clips", 1), 2))
    model_s, total, cpu = (statistics.median(t[i] for t in times) for i in range(3))
    rtf, rtf_cpu = audio_s / total, audio_s / cpu
    return {
        "benchmark": "generate", "model": name, **columns, "warmup_s": round(warmup, 3),
        "rollout_s": round(model_s, 4), "inversion_s": round(total - model_s, 4),
        "rtf_model": round(audio_s / max(model_s, 1e-9), 1), "rtf": round(rtf, 1),
        "rtf_best": round(audio_s / min(t[1] for t in times), 1), "rtf_cpu": round(rtf_cpu, 1),
        "target": target, "passed": bool(max(rtf, rtf_cpu) >= target),
    }


def registrar(key: str, rows):
    """A ``register(BENCHMARKS)`` that adds ``rows(seconds=, clips=, repeats=)`` to ``generate.py``'s registry.

    The registry is a dict (name -> callable) or a list of callables.
    """
    def register(BENCHMARKS) -> None:  # noqa: N803 - the registry's name in benchmarks/generate.py
        def run(seconds: float = 10.0, clips: int = 8, repeats: int = 3, **_ignored):
            return rows(seconds=seconds, clips=clips, repeats=repeats)

        if isinstance(BENCHMARKS, dict):
            BENCHMARKS[key] = run
        else:
            BENCHMARKS.append(run)

    return register
