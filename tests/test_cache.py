"""Tests for musiclib.tools.cache: hits and misses, corrupt entries, atomic writes, where the cache lives."""

from __future__ import annotations

import os
import time
import warnings
import zipfile

import numpy as np
import pytest

from _audio_fixtures import listing, write_tone
from musiclib import audio
from musiclib.tools import cache
from musiclib.errors import AudioFileError, CacheError, ParameterError
from musiclib.representations import DCTBlocks, LinearSpectrogram, LogSpectrogram, MelSpectrogram

REP = MelSpectrogram(n_fft=512, n_mels=32)


@pytest.fixture
def song(tmp_path):
    p = tmp_path / "audio" / "song.wav"
    p.parent.mkdir()
    write_tone(p, freq=330.0, duration=0.5, subtype="FLOAT")
    return p


@pytest.fixture
def fc(tmp_path):
    return cache.FeatureCache(tmp_path / "cache")


def _entries(fc):
    return sorted(fc.root.glob("??/*.npz"))


def test_miss_then_hit(fc, song):
    first = fc.features(song, REP)
    assert (fc.hits, fc.misses) == (0, 1)
    assert len(_entries(fc)) == 1
    second = fc.features(song, REP)
    assert (fc.hits, fc.misses) == (1, 1)
    np.testing.assert_array_equal(first, second)
    assert second.dtype == np.float32 and second.shape == (REP.n_frames(int(0.5 * REP.sr)), REP.n_features)
    # the cached frames are exactly what the representation computes
    np.testing.assert_array_equal(second, REP.encode(audio.load(song, sr=REP.sr)[0]))
    # a new cache object on the same folder hits too (entries persist)
    other = cache.FeatureCache(fc.root)
    np.testing.assert_array_equal(other.features(song, REP), first)
    assert other.hits == 1 and other.misses == 0


def test_same_content_elsewhere_hits(fc, song, tmp_path):
    fc.features(song, REP)
    copy = tmp_path / "copy.wav"
    copy.write_bytes(song.read_bytes())
    fc.features(copy, REP)
    assert fc.hits == 1  # keyed by content, not by path


@pytest.mark.parametrize(
    "changed",
    [
        MelSpectrogram(n_fft=512, n_mels=40),
        MelSpectrogram(n_fft=1024, n_mels=32),
        MelSpectrogram(n_fft=512, n_mels=32, hop_length=64),
        MelSpectrogram(n_fft=512, n_mels=32, fmin=50.0),
        MelSpectrogram(n_fft=512, n_mels=32, fmax=8000.0),
        MelSpectrogram(n_fft=512, n_mels=32, scale="db"),
        MelSpectrogram(n_fft=512, n_mels=32, scale="db", floor_db=-60.0),
        MelSpectrogram(n_fft=512, n_mels=32, sr=16000),
        LinearSpectrogram(n_fft=512),
        LogSpectrogram(n_fft=512),
        DCTBlocks(block_length=512),
    ],
    ids=lambda r: "-".join(f"{k}={v}" for k, v in r.params.items() if v != getattr(REP, k, None)),
)
def test_any_parameter_change_misses(fc, song, changed):
    base = fc.features(song, REP)
    out = fc.features(song, changed)
    assert (fc.hits, fc.misses) == (0, 2)
    assert len(_entries(fc)) == 2
    np.testing.assert_array_equal(out, changed.encode(audio.load(song, sr=changed.sr)[0]))
    assert out.shape != base.shape or not np.array_equal(out, base)


def test_excerpt_is_part_of_the_key(fc, song):
    whole = fc.features(song, REP)
    part = fc.features(song, REP, offset=0.1, duration=0.2)
    assert fc.misses == 2 and part.shape[0] < whole.shape[0]
    fc.features(song, REP, offset=0.1, duration=0.2)
    assert fc.hits == 1


def test_changed_file_bytes_miss(fc, song):
    before = fc.features(song, REP)
    st = song.stat()
    # same size, same modification time, different samples: must not be served the old frames
    write_tone(song, freq=660.0, duration=0.5, subtype="FLOAT")
    os.utime(song, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert song.stat().st_size == st.st_size and song.stat().st_mtime_ns == st.st_mtime_ns
    after = fc.features(song, REP)
    assert fc.misses == 2 and fc.hits == 0
    assert not np.array_equal(before, after)
    np.testing.assert_array_equal(after, REP.encode(audio.load(song, sr=REP.sr)[0]))


def test_digest_is_remembered_for_settled_files(song):
    old = time.time() - 3600
    os.utime(song, (old, old))
    d1 = cache.file_digest(song)
    key = (str(song.resolve()), song.stat().st_size, song.stat().st_mtime_ns)
    assert cache._DIGESTS[key] == d1
    import hashlib

    assert d1 == hashlib.sha256(song.read_bytes()).hexdigest()


def _flip_frame_bytes(entry):
    """Invert bytes in the middle of the stored frames array (leaving the zip structure intact)."""
    with zipfile.ZipFile(entry) as z:
        info = z.getinfo("frames.npy")
    data = bytearray(entry.read_bytes())
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra) + 128  # past the npy header
    middle = start + (info.file_size - 128) // 2
    for i in range(middle, middle + 16):
        data[i] ^= 0xFF
    entry.write_bytes(bytes(data))


@pytest.mark.parametrize(
    "damage, message",
    [
        (lambda e: e.write_bytes(e.read_bytes()[: len(e.read_bytes()) // 2]), "unreadable"),
        (lambda e: e.write_bytes(b""), "unreadable"),
        (_flip_frame_bytes, "recomputing"),
    ],
    ids=["truncated", "emptied", "flipped-bytes"],
)
def test_corrupt_entry_is_recomputed(fc, song, damage, message):
    good = fc.features(song, REP)
    (entry,) = _entries(fc)
    damage(entry)
    with pytest.warns(UserWarning, match=rf"{entry.name}.*{message}"):
        again = fc.features(song, REP)
    np.testing.assert_array_equal(again, good)
    assert fc.misses == 2 and fc.hits == 0
    # rewritten: the next call is a clean hit
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_array_equal(fc.features(song, REP), good)
    assert fc.hits == 1
    assert _entries(fc) == [entry]


def test_entry_with_wrong_checksum_fails_verification(fc, song):
    good = fc.features(song, REP)
    (entry,) = _entries(fc)
    with np.load(entry) as z:
        meta = str(z["meta"])
    bad = good.copy()
    bad[0, 0] += 1.0
    np.savez(entry, frames=bad, meta=np.array(meta))  # a valid file whose frames do not match its checksum
    with pytest.warns(UserWarning, match="failed verification"):
        again = fc.features(song, REP)
    np.testing.assert_array_equal(again, good)


def test_write_is_atomic(fc, song, monkeypatch):
    real_savez = np.savez

    def savez_then_crash(file, **arrays):
        real_savez(file, frames=arrays["frames"][:1])  # part of an entry reaches the disk ...
        raise OSError("disk full")  # ... then the write fails

    monkeypatch.setattr(np, "savez", savez_then_crash)
    with pytest.raises(CacheError, match="disk full"):
        fc.features(song, REP)
    assert [p for p in fc.root.rglob("*") if p.is_file()] == []  # neither an entry nor a temporary file
    monkeypatch.setattr(np, "savez", real_savez)
    fc.features(song, REP)
    assert len(_entries(fc)) == 1
    assert len(listing(fc.root)) == 1


def test_short_file_names_the_file(fc, tmp_path):
    p = tmp_path / "blip.wav"
    write_tone(p, duration=100 / 22050)
    assert audio.info(p)["frames"] == 100
    with pytest.raises(ParameterError, match=r"blip\.wav.*100 samples.*1024"):
        fc.features(p, MelSpectrogram(n_fft=1024))
    assert _entries(fc) == []


def test_bad_file_raises_audio_file_error(fc, tmp_path):
    p = tmp_path / "broken.wav"
    p.write_text("nope")
    with pytest.raises(AudioFileError, match=r"broken\.wav"):
        fc.features(p, REP)


def test_env_var_sets_the_cache_dir(tmp_path, monkeypatch, song):
    monkeypatch.setenv("MUSICLIB_CACHE", str(tmp_path / "elsewhere"))
    assert cache.default_cache_dir() == tmp_path / "elsewhere"
    fc = cache.FeatureCache()
    assert fc.root == tmp_path / "elsewhere"
    fc.features(song, REP)
    assert len(list((tmp_path / "elsewhere").glob("??/*.npz"))) == 1
    monkeypatch.delenv("MUSICLIB_CACHE")
    assert cache.default_cache_dir().parts[-2:] == ("data", "cache")


def test_clear(fc, song):
    fc.features(song, REP)
    fc.features(song, LinearSpectrogram(n_fft=256))
    assert fc.clear() == 2
    assert _entries(fc) == []
    fc.features(song, REP)
    assert fc.misses == 3
