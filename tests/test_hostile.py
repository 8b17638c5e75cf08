"""Hostile input: random bytes and truncations under every audio extension, extreme parameters.

Only musiclib errors (``MusiclibError``, a ``ValueError``) may come out, each naming the file or the
parameter, and each within a time bound; a truncated file is never decoded as if it were whole.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from musiclib import audio, corpus, synth
from musiclib.errors import AudioFileError, MusiclibError

SR = 22050
#: seconds any one hostile call may take
TIME_BOUND = 5.0

EXTENSIONS = sorted(set(corpus.readable_extensions()) | {".wav", ".flac", ".ogg", ".mp3", ".aiff", ".opus"})


def _good_bytes(tmp: Path, fmt_ext: str) -> bytes | None:
    """A valid 1 s file in the format of ``fmt_ext`` (None when libsndfile cannot write it)."""
    y = synth.synthetic_mix(duration=1.0, sr=SR, seed=0)
    kwargs = {
        ".wav": {}, ".flac": {}, ".ogg": {"format": "OGG", "subtype": "VORBIS"},
        ".opus": {"format": "OGG", "subtype": "OPUS"}, ".mp3": {"format": "MP3"}, ".aiff": {},
    }.get(fmt_ext)
    if kwargs is None:
        return None
    path = tmp / f"good{fmt_ext}"
    sr = 48000 if fmt_ext == ".opus" else SR
    if sr != SR:
        y = audio.resample(y, orig_sr=SR, target_sr=sr)
    try:
        sf.write(str(path), y, sr, **kwargs)
    except (sf.LibsndfileError, TypeError, ValueError):
        return None
    return path.read_bytes()


def _load_is_musiclib_or_ok(path: Path):
    t0 = time.perf_counter()
    try:
        y, sr = audio.load(path)
    except MusiclibError as e:
        assert str(path.name) in str(e), f"error does not name the file: {e}"
        y = None
    assert time.perf_counter() - t0 < TIME_BOUND
    if y is not None:
        assert y.ndim == 1 and np.all(np.isfinite(y))
    return y


@pytest.mark.parametrize("ext", EXTENSIONS)
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(min_size=0, max_size=4096))
def test_random_bytes_under_every_extension(tmp_path, ext, data):
    path = tmp_path / f"random{ext}"
    path.write_bytes(data)
    _load_is_musiclib_or_ok(path)


@pytest.mark.parametrize("ext", [".wav", ".flac", ".ogg", ".opus", ".mp3", ".aiff"])
@pytest.mark.parametrize("fraction", [0.02, 0.5, 0.9, 0.99])
def test_truncated_files_are_detected(tmp_path, ext, fraction):
    good = _good_bytes(tmp_path, ext)
    if good is None:
        pytest.skip(f"libsndfile here cannot write {ext}")
    path = tmp_path / f"cut{ext}"
    path.write_bytes(good[: int(len(good) * fraction)])
    with pytest.raises(AudioFileError, match=r"cut" + ext.replace(".", r"\.")):
        audio.load(path)


@pytest.mark.parametrize("ext", [".wav", ".flac", ".ogg", ".opus", ".mp3", ".aiff"])
def test_whole_files_still_load(tmp_path, ext):
    good = _good_bytes(tmp_path, ext)
    if good is None:
        pytest.skip(f"libsndfile here cannot write {ext}")
    path = tmp_path / f"whole{ext}"
    path.write_bytes(good)
    y, sr = audio.load(path)
    assert abs(len(y) / sr - 1.0) < 0.1


@pytest.mark.parametrize("sr", [10**9, 2**31, 10**7])
def test_extreme_sample_rates_are_refused_quickly(tmp_path, sr):
    path = tmp_path / "a.wav"
    sf.write(str(path), synth.tone(440.0, duration=0.5, sr=SR), SR)
    t0 = time.perf_counter()
    with pytest.raises(MusiclibError, match="sr"):
        audio.load(path, sr=sr)
    assert time.perf_counter() - t0 < TIME_BOUND
