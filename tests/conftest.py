"""Shared fixtures: synthetic audio (no network, no fetched data) and the notebook-time report.

Fixtures
--------
sr : the sample rate the synthetic fixtures use (22050 Hz).
mix : 4 s of :func:`musiclib.synth.synthetic_mix` (float32, mono).
corpus_dir : a session-wide folder of small synthetic audio files in several formats, rates and
    channel counts (read-only: copy it if a test needs to change it).
"""

from __future__ import annotations

import os

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")  # before anything imports pyplot

from musiclib import synth  # noqa: E402

SR = 22050

#: seconds each executed notebook took, filled by tests/test_notebooks.py, printed at the end
NOTEBOOK_TIMES: dict[str, tuple[float, str]] = {}

#: seconds the whole series may take in small mode (CI, 2 cores)
SERIES_BUDGET_S = 180


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if not NOTEBOOK_TIMES:
        return
    terminalreporter.section("notebook times (small mode)")
    total = 0.0
    for name, (seconds, status) in sorted(NOTEBOOK_TIMES.items()):
        total += seconds
        terminalreporter.write_line(f"{name:<40} {seconds:7.1f} s  {status}")
    terminalreporter.write_line(f"{'total':<40} {total:7.1f} s")
    if total > SERIES_BUDGET_S:
        terminalreporter.write_line(
            f"the series took {total:.0f} s in small mode, over its {SERIES_BUDGET_S} s budget: "
            "shrink the slowest notebook's small settings", yellow=True
        )


def pytest_ignore_collect(collection_path, config):
    """Under ``-m "not slow"`` (``make test-fast``), a test module marked slow as a whole
    (``pytestmark = pytest.mark.slow``) is not even imported: its imports (TensorFlow) cost seconds."""
    if collection_path.suffix == ".py" and config.getoption("markexpr", "").replace(" ", "") == "notslow":
        text = collection_path.read_text(encoding="utf-8", errors="replace")
        return "\npytestmark = pytest.mark.slow\n" in text or None
    return None


@pytest.fixture(scope="session")
def sr() -> int:
    return SR


@pytest.fixture(scope="session")
def mix() -> np.ndarray:
    """4 s of seeded synthetic music at 22050 Hz."""
    return synth.synthetic_mix(duration=4.0, sr=SR, seed=0)


@pytest.fixture(scope="session")
def corpus_dir(tmp_path_factory):
    """A small folder of synthetic music files, like a user's corpus.

    Holds ``mix_a.wav`` (6 s, mono, 22050 Hz, 16-bit), ``mix_b.flac`` (5 s, stereo, 44100 Hz),
    ``drums.wav`` (4 s, mono, 22050 Hz, float), ``sub/mix_c.ogg`` (4 s, mono, 16000 Hz) and
    ``tone.aiff`` (2 s, mono, 22050 Hz): five files, all loadable.
    """
    import soundfile as sf

    root = tmp_path_factory.mktemp("corpus")
    (root / "sub").mkdir()
    sf.write(root / "mix_a.wav", synth.synthetic_mix(duration=6.0, sr=SR, seed=1), SR, subtype="PCM_16")
    b = synth.synthetic_mix(duration=5.0, sr=44100, bpm=100, seed=2)
    sf.write(root / "mix_b.flac", np.stack([b, 0.5 * b], axis=1), 44100)
    sf.write(root / "drums.wav", synth.drum_loop(duration=4.0, sr=SR, bpm=128, seed=3), SR, subtype="FLOAT")
    sf.write(root / "sub" / "mix_c.ogg", synth.synthetic_mix(duration=4.0, sr=16000, bpm=90, seed=4), 16000)
    sf.write(root / "tone.aiff", synth.tone(220.0, duration=2.0, sr=SR, n_harmonics=4), SR)
    for p in root.rglob("*"):
        if p.is_file():
            os.chmod(p, 0o444)
    return root
