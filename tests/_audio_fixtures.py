"""Small helpers shared by the foundation tests: write test audio files, measure a tone's frequency.

Imported by ``tests/test_audio.py``, ``tests/test_corpus.py`` and ``tests/test_cache.py``; kept out of
``conftest.py`` so the helpers are explicit at the call site.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf

from musiclib import synth


def write_tone(
    path, *, freq: float = 440.0, duration: float = 0.5, sr: int = 22050, channels: int = 1,
    subtype: str | None = None, amplitude: float = 0.5,
) -> np.ndarray:
    """Write a sine tone (each channel a different level) and return what was written, ``(n, channels)``."""
    y = synth.tone(freq, duration=duration, sr=sr, amplitude=amplitude).astype(np.float64)
    data = np.stack([y * (1.0 - 0.1 * c) for c in range(channels)], axis=1)
    sf.write(str(path), data if channels > 1 else data[:, 0], sr, subtype=subtype)
    return data


def peak_frequency(y: np.ndarray, sr: int) -> float:
    """Frequency in Hz of the largest bin of a Hann-windowed spectrum of ``y``."""
    spectrum = np.abs(np.fft.rfft(y * np.hanning(len(y))))
    return float(np.argmax(spectrum) * sr / len(y))


def truncate(path, *, fraction: float = 0.5) -> Path:
    """Cut a file to ``fraction`` of its bytes in place; return the path."""
    path = Path(path)
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * fraction)])
    return path


def listing(folder) -> list[str]:
    """Every file name under ``folder`` (hidden ones too), sorted."""
    return sorted(str(p.relative_to(folder)) for p in Path(folder).rglob("*") if p.is_file())
