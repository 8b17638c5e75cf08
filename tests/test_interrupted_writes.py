"""Writes killed part-way and writers running at once: nothing the user had is lost, nothing half-written is trusted.

Each kill is a real ``SIGKILL`` of a child Python process at a chosen step (a rename of ``fetch --force``,
the cache's atomic write), so no ``finally`` block or ``atexit`` handler gets to tidy up.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from musiclib.errors import DataUnavailableError
from musiclib.representations import LogSpectrogram
from musiclib.tools import data
from musiclib.tools.cache import FeatureCache

REPO = Path(__file__).resolve().parents[1]
NAME = "sonic-pi-samples"
SR = 8000


def _python(code: str, *args, timeout: float = 60) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh Python that imports this checkout's musiclib; ``sys.argv[1:]`` are ``args``."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code), *map(str, args)], env=env,
                          capture_output=True, text=True, timeout=timeout)


# -- fetch --force killed at each rename ------------------------------------------------------------------

#: The child: fetch once normally (version 1.0-1), then ``fetch --force`` (version 2.0-1) killed at one step.
_FETCH_CHILD = """
import dataclasses, os, shutil, signal, sys
from pathlib import Path
from musiclib.tools import data

root, pkg, point = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
data.CORPORA["sonic-pi-samples"] = dataclasses.replace(data.CORPORA["sonic-pi-samples"], min_files=3)

def acquire_version(version):
    def acquire(spec, workdir, progress):
        return data.Extracted(audio=pkg / "samples", docs={"COPYRIGHT": pkg / "copyright"},
                              source={"source": "fake", "package": spec.package, "version": version})
    return acquire

data.fetch("sonic-pi-samples", root=root, progress=False, acquire=acquire_version("1.0-1"))

def die():
    os.kill(os.getpid(), signal.SIGKILL)

real_rename, real_rmtree, calls = os.rename, shutil.rmtree, []

def rename(src, dst):
    calls.append((src, dst))
    if point == f"before-rename-{len(calls)}":
        die()
    real_rename(src, dst)
    if point == f"after-rename-{len(calls)}":
        die()

def rmtree(path, *a, **k):
    if point == "during-rmtree" and "-old-" in str(path):
        next(p for p in sorted(Path(path).iterdir()) if p.is_file()).unlink()  # half deleted
        die()
    real_rmtree(path, *a, **k)

os.rename, shutil.rmtree = rename, rmtree
data.fetch("sonic-pi-samples", root=root, progress=False, force=True, acquire=acquire_version("2.0-1"))
print("not killed")
"""


@pytest.fixture
def small_spec(monkeypatch):
    monkeypatch.setitem(data.CORPORA, NAME, dataclasses.replace(data.CORPORA[NAME], min_files=3))


@pytest.fixture
def fake_package(tmp_path):
    pkg = tmp_path / "pkg"
    (pkg / "samples").mkdir(parents=True)
    t = np.arange(SR // 4) / SR
    for i, name in enumerate(["loop_a.flac", "loop_b.flac", "drum_c.flac"]):
        sf.write(str(pkg / "samples" / name), 0.3 * np.sin(2 * np.pi * 110 * (i + 1) * t), SR)
    (pkg / "copyright").write_text("Files: *\nLicense: CC0\n")
    return pkg


def _offline(spec, workdir, progress):
    raise data._SourceUnavailable("offline (test)")


@pytest.mark.parametrize("point, version", [
    ("before-rename-1", "1.0-1"),   # nothing moved yet
    ("after-rename-1", "1.0-1"),    # between the renames: no corpus in place, the old one aside
    ("after-rename-2", "2.0-1"),    # the new one in place, the old one not yet removed
    ("during-rmtree", "2.0-1"),     # the old one half removed
])
def test_fetch_force_killed_at_each_rename_loses_nothing(tmp_path, small_spec, fake_package, point, version):
    root = tmp_path / "data"
    child = _python(_FETCH_CHILD, root, fake_package, point)
    assert child.returncode == -9, (child.returncode, child.stdout, child.stderr)
    # offline now: the next fetch must find a corpus (recovered from the old copy when it was moved aside)
    folder = data.fetch(NAME, root=root, progress=False, acquire=_offline)
    assert folder == root / NAME
    assert data.verify_corpus(folder) == []
    assert data.read_provenance(folder)["version"] == version
    assert sorted(p.name for p in root.iterdir() if p.name.startswith(".tmp-")) == []
    # a forced fetch that cannot download leaves the corpus where it is
    with pytest.raises(DataUnavailableError):
        data.fetch(NAME, root=root, progress=False, force=True, acquire=_offline)
    assert data.verify_corpus(folder) == []


def test_default_corpus_dir_recovers_a_corpus_moved_aside(tmp_path, small_spec, fake_package, monkeypatch):
    root = tmp_path / "data"
    assert _python(_FETCH_CHILD, root, fake_package, "after-rename-1").returncode == -9
    assert not (root / NAME).exists()
    monkeypatch.setenv(data.ENV_DATA_ROOT, str(root))
    monkeypatch.delenv(data.ENV_DATA, raising=False)
    assert data.default_corpus_dir(mode="small") == root / NAME
    assert data.read_provenance(root / NAME)["version"] == "1.0-1"


def test_old_copy_is_kept_while_the_corpus_in_place_does_not_verify(tmp_path, small_spec, fake_package):
    root = tmp_path / "data"
    assert _python(_FETCH_CHILD, root, fake_package, "after-rename-2").returncode == -9
    (old,) = [p for p in root.iterdir() if p.name.startswith(f".tmp-{NAME}-old-")]
    (root / NAME / "loop_a.flac").write_bytes(b"damaged")
    with pytest.raises(DataUnavailableError):
        data.fetch(NAME, root=root, progress=False, acquire=_offline)
    assert old.is_dir() and data.verify_corpus(old) == []


# -- the feature cache: killed writes, concurrent writers, clear() --------------------------------------------

_CACHE_CHILD = """
import os, signal, sys
import numpy as np
from musiclib.representations import LogSpectrogram
from musiclib.tools import cache as cache_mod
from musiclib.tools.cache import FeatureCache

root, wav, point = sys.argv[1], sys.argv[2], sys.argv[3]

def die():
    os.kill(os.getpid(), signal.SIGKILL)

real_savez, real_replace = np.savez, os.replace

def savez(file, **arrays):
    if point == "mid-write":
        with open(file, "wb") as fh:
            fh.write(b"PK\\x03\\x04 half an npz")
        die()
    real_savez(file, **arrays)

def replace(src, dst):
    if point == "before-replace":
        die()
    real_replace(src, dst)
    if point == "after-replace":
        die()

np.savez, os.replace = savez, replace
FeatureCache(root).features(wav, LogSpectrogram(n_fft=256, sr=8000))
print("not killed")
"""


@pytest.fixture
def wav(tmp_path):
    path = tmp_path / "a.wav"
    rng = np.random.default_rng(0)
    sf.write(str(path), (0.1 * rng.standard_normal(SR)).astype(np.float32), SR)
    return path


@pytest.mark.slow  # a child process importing librosa: about 4 s each on 2 loaded cores
@pytest.mark.parametrize("point", ["mid-write", "before-replace", "after-replace"])
def test_cache_write_killed_leaves_no_trusted_half_entry(tmp_path, wav, point):
    root = tmp_path / "cache"
    child = _python(_CACHE_CHILD, root, wav, point)
    assert child.returncode == -9, (child.stdout, child.stderr)
    rep = LogSpectrogram(n_fft=256, sr=SR)
    expected = rep.encode(__import__("musiclib").audio.load(wav, sr=SR)[0])
    cache = FeatureCache(root)
    frames = cache.features(wav, rep)
    np.testing.assert_array_equal(frames, expected)
    assert (cache.hits, cache.misses) == ((1, 0) if point == "after-replace" else (0, 1))
    entries = [p for p in root.glob("??/*.npz") if not p.name.startswith(".")]
    assert len(entries) == 1
    # the killed writer's temporary file is not an entry; clear() removes it once it is stale
    leftovers = list(root.glob("??/.*.npz"))
    assert len(leftovers) == (0 if point == "after-replace" else 1)
    assert cache.clear(stale_after=0) == 1 + len(leftovers)
    assert list(root.rglob("*")) == []


_WRITER = """
import sys
import numpy as np
from musiclib.representations import LogSpectrogram
from musiclib.tools.cache import FeatureCache

root, wav, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
rep = LogSpectrogram(n_fft=256, sr=8000)
for _ in range(n):
    cache = FeatureCache(root)
    cache._entry(cache.key(wav, rep)).unlink(missing_ok=True)  # force a write every time
    frames = cache.features(wav, rep)
    assert frames.shape[1] == rep.n_features and np.isfinite(frames).all()
print("ok")
"""


@pytest.mark.slow  # three child processes: about 10 s
def test_concurrent_writers_of_one_entry_leave_one_valid_entry(tmp_path, wav):
    root = tmp_path / "cache"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    procs = [subprocess.Popen([sys.executable, "-c", textwrap.dedent(_WRITER), str(root), str(wav), "10"], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(3)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], outs
    entries = list(root.rglob("*"))
    assert [p.suffix for p in entries if p.is_file()] == [".npz"]
    cache = FeatureCache(root)
    rep = LogSpectrogram(n_fft=256, sr=SR)
    frames = cache.features(wav, rep)
    assert cache.hits == 1
    np.testing.assert_array_equal(frames, rep.encode(__import__("musiclib").audio.load(wav, sr=SR)[0]))


def test_clear_removes_only_its_own_entries(tmp_path, wav):
    root = tmp_path / "cache"
    cache = FeatureCache(root)
    cache.features(wav, LogSpectrogram(n_fft=256, sr=SR))
    (entry,) = root.glob("??/*.npz")
    # a user's files that look like entries: a foreign .npz with a 64-hex name, one not in its key's folder,
    # a plain file, a folder
    foreign = root / entry.parent.name / f"{entry.parent.name}{'0' * 62}.npz"
    np.savez(foreign, frames=np.zeros((2, 2)))
    misplaced = root / "zz" / entry.name
    misplaced.parent.mkdir()
    misplaced.write_bytes(entry.read_bytes())
    notes = root / "ab" / "notes.npz"
    notes.parent.mkdir()
    notes.write_text("mine")
    (root / "cd" / ("c" * 64 + ".npz")).mkdir(parents=True)
    assert cache.clear() == 1
    assert not entry.exists()
    assert foreign.exists() and misplaced.exists() and notes.exists() and (root / "cd").exists()
    assert json.loads(json.dumps(cache.clear())) == 0


# -- determinism across processes ---------------------------------------------------------------------------

_DECODE_CHILD = """
import sys
from pathlib import Path
from musiclib import audio, synth
from musiclib.representations import REPRESENTATIONS

out = Path(sys.argv[1])
y = synth.synthetic_mix(duration=1.0, sr=22050, seed=0)
for name, cls in sorted(REPRESENTATIONS.items()):
    rep = cls()
    frames = rep.encode(y)
    audio.save(out / f"{name}.wav", rep.decode(frames[::-1].copy(), n_iter=4, seed=3, length=len(y)), sr=rep.sr)
"""


@pytest.mark.slow  # two child processes: about 15 s on 2 loaded cores
def test_decoding_with_a_seed_gives_byte_identical_wavs_in_two_processes(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    outs = [tmp_path / "one", tmp_path / "two"]
    for o in outs:
        o.mkdir()
    procs = [subprocess.Popen([sys.executable, "-c", textwrap.dedent(_DECODE_CHILD), str(o)], env=env,
                              stderr=subprocess.PIPE, text=True) for o in outs]
    errs = [p.communicate(timeout=120)[1] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], errs
    names = sorted(p.name for p in outs[0].iterdir())
    assert len(names) == 6 and names == sorted(p.name for p in outs[1].iterdir())
    for name in names:
        assert (outs[0] / name).read_bytes() == (outs[1] / name).read_bytes(), name


# -- generated clips: save_clips killed at its rename ------------------------------------------------------------

_CLIPS_CHILD = """
import os, signal, sys
import numpy as np
from musiclib.tools import outputs

root, point = sys.argv[1], sys.argv[2]
real_rename = os.rename

def rename(src, dst):
    if point == "before-rename":
        os.kill(os.getpid(), signal.SIGKILL)
    real_rename(src, dst)
    if point == "after-rename":
        os.kill(os.getpid(), signal.SIGKILL)

os.rename = rename
clip = 0.1 * np.sin(np.arange(800) / 5.0)
outputs.save_clips("02_test", [clip, clip], sr=8000, representation="raw", parameters={}, seed=0, train_seconds=0.0,
                   generate_seconds=0.0, root=root, run="r1")
print("not killed")
"""


@pytest.mark.parametrize("point, complete", [("before-rename", False), ("after-rename", True)])
def test_save_clips_killed_at_its_rename_leaves_no_half_run(tmp_path, point, complete):
    from musiclib.tools import outputs

    root = tmp_path / "outputs"
    child = _python(_CLIPS_CHILD, root, point)
    assert child.returncode == -9, (child.stdout, child.stderr)
    runs = outputs.list_runs("02_test", root=root)
    assert runs == ([root / "02_test" / "r1"] if complete else [])
    if complete:
        meta = json.loads((runs[0] / "meta.json").read_text())
        assert [c["file"] for c in meta["clips"]] == ["clip_00.wav", "clip_01.wav"]
        assert all(sf.info(str(runs[0] / c["file"])).frames == 800 for c in meta["clips"])
    else:  # the same run id can be written again
        clip = np.zeros(800)
        outputs.save_clips("02_test", [clip], sr=8000, representation="raw", parameters={}, seed=0,
                           train_seconds=0.0, generate_seconds=0.0, root=root, run="r1")
        assert outputs.list_runs("02_test", root=root) == [root / "02_test" / "r1"]
