"""Tests of musiclib.tools.data: install, verify, atomic move, idempotence, provenance. No network.

The download step of :func:`musiclib.tools.data.fetch` is injectable (``acquire=``): these tests hand it a
fake extracted package (a temporary tree of small FLAC/Ogg files written by soundfile, plus a copyright
file) and check everything that happens after the download.
"""

from __future__ import annotations

import dataclasses
import io
import json
import subprocess
import tarfile
import zipfile
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from musiclib.tools import data
from musiclib.tools.cli import main as cli_main
from musiclib.errors import CorpusError, DataUnavailableError, ParameterError

SR = 8000
NAME = "sonic-pi-samples"


def _write_audio(path: Path, *, seconds: float = 0.5, freq: float = 220.0, fmt: str | None = None) -> Path:
    t = np.arange(int(seconds * SR)) / SR
    y = 0.3 * np.sin(2 * np.pi * freq * t)
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), y, SR, format=fmt)
    return path


def _snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    """Every file under folder: bytes and mtime (to prove nothing was touched)."""
    return {
        str(p.relative_to(folder)): (p.read_bytes(), p.stat().st_mtime_ns) for p in folder.rglob("*") if p.is_file()
    }


@pytest.fixture
def small_spec(monkeypatch):
    """The sonic-pi-samples spec, needing only 3 files (the fake package holds 3 that match)."""
    spec = dataclasses.replace(data.CORPORA[NAME], min_files=3)
    monkeypatch.setitem(data.CORPORA, NAME, spec)
    return spec


@pytest.fixture
def fake_package(tmp_path):
    """A fake extracted sonic-pi-samples package: 3 matching files, 1 that is not wanted, docs."""
    tree = tmp_path / "pkg"
    audio = tree / "usr/share/sonic-pi/samples"
    _write_audio(audio / "loop_a.flac", freq=220)
    _write_audio(audio / "loop_b.flac", freq=330, seconds=0.75)
    _write_audio(audio / "drum_c.flac", freq=110, seconds=0.25)
    _write_audio(audio / "ambi_x.flac", freq=440)  # not a loop_ or drum_: left out
    doc = tree / "usr/share/doc/sonic-pi-samples"
    doc.mkdir(parents=True)
    (doc / "copyright").write_text("Files: *\nLicense: CC0\n")
    (audio / "README.md").write_text("# Samples\n")
    return tree


class FakeAcquire:
    """An ``acquire`` step returning the fake package; counts its calls."""

    def __init__(self, tree: Path, *, audio: str = "usr/share/sonic-pi/samples", copyright: bool = True):
        self.tree, self.audio, self.copyright, self.calls = tree, audio, copyright, 0

    def __call__(self, spec, workdir, progress):
        self.calls += 1
        assert workdir.parent.name.startswith(f".tmp-{spec.name}-")  # downloads land in the tmp folder
        docs = {"SOURCES.md": self.tree / "usr/share/sonic-pi/samples/README.md"}
        if self.copyright:
            docs["COPYRIGHT"] = self.tree / f"usr/share/doc/{spec.package}/copyright"
        return data.Extracted(
            audio=self.tree / self.audio,
            docs=docs,
            source={"source": "fake", "package": spec.package, "version": "1.0-1", "url": None,
                    "archive": "fake.deb", "archive_sha256": "0" * 64},
        )


def _unavailable(reason):
    def acquire(spec, workdir, progress):
        raise data._SourceUnavailable(reason)

    return acquire


def _tmp_dirs(root: Path) -> list[str]:
    return sorted(p.name for p in root.iterdir() if p.name.startswith(".tmp-"))


# -- install, provenance, idempotence -------------------------------------------------------------------


def test_fetch_installs_selected_audio_with_provenance(tmp_path, small_spec, fake_package):
    root = tmp_path / "data"
    acquire = FakeAcquire(fake_package)
    folder = data.fetch(NAME, root=root, progress=False, acquire=acquire)

    assert folder == root / NAME
    assert sorted(p.name for p in folder.glob("*.flac")) == ["drum_c.flac", "loop_a.flac", "loop_b.flac"]
    assert (folder / "COPYRIGHT").read_text().startswith("Files: *")
    assert (folder / "SOURCES.md").is_file()
    prov = json.loads((folder / data.PROVENANCE_NAME).read_text())
    assert prov["package"] == NAME and prov["version"] == "1.0-1" and prov["licence"] == "CC0-1.0"
    assert prov["archive_sha256"] == "0" * 64 and prov["fetched"]
    by_name = {f["name"]: f for f in prov["files"]}
    assert set(by_name) == {"drum_c.flac", "loop_a.flac", "loop_b.flac"}
    assert by_name["loop_b.flac"]["size"] == (folder / "loop_b.flac").stat().st_size
    assert by_name["loop_b.flac"]["samplerate"] == SR
    assert by_name["loop_b.flac"]["duration_s"] == pytest.approx(0.75, abs=1e-3)
    assert prov["n_files"] == 3 and prov["duration_s"] == pytest.approx(1.5, abs=1e-2)
    assert data.verify_corpus(folder) == []
    assert _tmp_dirs(root) == []


def test_fetch_is_idempotent(tmp_path, small_spec, fake_package):
    root = tmp_path / "data"
    acquire = FakeAcquire(fake_package)
    folder = data.fetch(NAME, root=root, progress=False, acquire=acquire)
    before = _snapshot(folder)
    assert data.fetch(NAME, root=root, progress=False, acquire=acquire) == folder
    assert acquire.calls == 1
    assert _snapshot(folder) == before


def test_force_fetches_again(tmp_path, small_spec, fake_package):
    root = tmp_path / "data"
    acquire = FakeAcquire(fake_package)
    data.fetch(NAME, root=root, progress=False, acquire=acquire)
    folder = data.fetch(NAME, root=root, progress=False, acquire=acquire, force=True)
    assert acquire.calls == 2
    assert data.verify_corpus(folder) == []
    assert _tmp_dirs(root) == []


# -- verification ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("damage", ["truncate", "flip", "delete"])
def test_verify_catches_damaged_file_and_fetch_repairs_it(tmp_path, small_spec, fake_package, damage):
    root = tmp_path / "data"
    acquire = FakeAcquire(fake_package)
    folder = data.fetch(NAME, root=root, progress=False, acquire=acquire)
    target = folder / "loop_a.flac"
    good = target.read_bytes()
    if damage == "truncate":
        target.write_bytes(good[: len(good) // 2])
    elif damage == "flip":  # same size, different content: only the sha256 sees it
        target.write_bytes(good[:-1] + bytes([good[-1] ^ 0xFF]))
    else:
        target.unlink()

    problems = data.verify_corpus(folder)
    assert len(problems) == 1 and "loop_a.flac" in problems[0]
    assert (data.verify_corpus(folder, quick=True) == []) == (damage == "flip")

    data.fetch(NAME, root=root, progress=False, acquire=acquire)
    assert acquire.calls == 2
    assert target.read_bytes() == good
    assert data.verify_corpus(folder) == []
    assert _tmp_dirs(root) == []


@pytest.mark.parametrize("bad", ["truncated", "garbage", "empty"])
def test_unusable_audio_in_package_fails_without_leaving_anything(tmp_path, small_spec, fake_package, bad):
    path = fake_package / "usr/share/sonic-pi/samples/loop_a.flac"
    raw = path.read_bytes()
    path.write_bytes({"truncated": raw[: len(raw) // 2], "garbage": b"not audio" * 50, "empty": b""}[bad])
    root = tmp_path / "data"
    with pytest.raises(CorpusError, match="loop_a.flac"):
        data.fetch(NAME, root=root, progress=False, acquire=FakeAcquire(fake_package))
    assert not (root / NAME).exists()
    assert _tmp_dirs(root) == []


def test_too_few_files_is_an_error(tmp_path, monkeypatch, fake_package):
    monkeypatch.setitem(data.CORPORA, NAME, dataclasses.replace(data.CORPORA[NAME], min_files=4))
    with pytest.raises(CorpusError, match="3 audio files .* at least 4"):
        data.fetch(NAME, root=tmp_path / "data", progress=False, acquire=FakeAcquire(fake_package))
    assert not (tmp_path / "data" / NAME).exists()


def test_no_copyright_file_is_an_error(tmp_path, small_spec, fake_package):
    with pytest.raises(CorpusError, match="copyright"):
        data.fetch(NAME, root=tmp_path / "data", progress=False, acquire=FakeAcquire(fake_package, copyright=False))
    assert not (tmp_path / "data" / NAME).exists()


def test_read_provenance_errors(tmp_path):
    with pytest.raises(CorpusError, match="missing"):
        data.read_provenance(tmp_path)
    (tmp_path / data.PROVENANCE_NAME).write_text("{not json")
    with pytest.raises(CorpusError, match="unreadable"):
        data.read_provenance(tmp_path)
    assert data.verify_corpus(tmp_path)  # reports the problem instead of raising


# -- atomicity and other people's files -------------------------------------------------------------------


def test_stale_tmp_dir_is_cleaned(tmp_path, small_spec, fake_package):
    root = tmp_path / "data"
    stale = root / f".tmp-{NAME}-k1ll3d_x"
    (stale / "corpus").mkdir(parents=True)
    (stale / "corpus" / "loop_a.flac").write_bytes(b"half")
    other = root / ".tmp-nexuiz-music-abcdefgh"  # another corpus's: not ours to clean
    other.mkdir()
    data.fetch(NAME, root=root, progress=False, acquire=FakeAcquire(fake_package))
    assert not stale.exists()
    assert other.exists()
    # also on the fast path, when the corpus is already there
    stale.mkdir()
    data.fetch(NAME, root=root, progress=False, acquire=FakeAcquire(fake_package))
    assert not stale.exists()


def test_failed_acquire_leaves_no_half_corpus(tmp_path, small_spec, fake_package):
    def crash(spec, workdir, progress):
        (workdir / "half.deb").write_bytes(b"x" * 100)
        raise RuntimeError("network died")

    root = tmp_path / "data"
    with pytest.raises(RuntimeError):
        data.fetch(NAME, root=root, progress=False, acquire=crash)
    assert not (root / NAME).exists()
    assert _tmp_dirs(root) == []


def test_user_folder_without_provenance_is_never_modified(tmp_path, small_spec, fake_package, monkeypatch):
    root = tmp_path / "data"
    user = root / NAME
    _write_audio(user / "my_song.wav")
    (user / "notes.txt").write_text("mine")
    before = _snapshot(user)
    acquire = FakeAcquire(fake_package)
    for force in (False, True):
        with pytest.raises(CorpusError, match="left untouched.*MUSICLIB_DATA"):
            data.fetch(NAME, root=root, progress=False, acquire=acquire, force=force)
    monkeypatch.delenv("MUSICLIB_DATA", raising=False)
    monkeypatch.setenv("MUSICLIB_DATA_ROOT", str(root))
    with pytest.raises(CorpusError, match="left untouched"):
        data.default_corpus_dir(fetch_if_missing=True)
    assert acquire.calls == 0
    assert _snapshot(user) == before
    assert sorted(p.name for p in user.iterdir()) == ["my_song.wav", "notes.txt"]


def test_damaged_corpus_with_user_files_is_left_alone(tmp_path, small_spec, fake_package):
    root = tmp_path / "data"
    acquire = FakeAcquire(fake_package)
    folder = data.fetch(NAME, root=root, progress=False, acquire=acquire)
    (folder / "loop_a.flac").write_bytes(b"broken")
    (folder / "my_own.wav").write_bytes(b"user data")
    before = _snapshot(folder)
    with pytest.raises(CorpusError, match="my_own.wav"):
        data.fetch(NAME, root=root, progress=False, acquire=acquire)
    assert acquire.calls == 1
    assert _snapshot(folder) == before


# -- where data lives --------------------------------------------------------------------------------------


def test_musiclib_data_is_honoured(tmp_path, monkeypatch):
    monkeypatch.setenv("MUSICLIB_DATA", str(tmp_path))
    monkeypatch.setenv("MUSICLIB_DATA_ROOT", str(tmp_path / "nowhere"))
    assert data.default_corpus_dir() == tmp_path
    monkeypatch.setenv("MUSICLIB_DATA", str(tmp_path / "missing"))
    with pytest.raises(DataUnavailableError, match="MUSICLIB_DATA="):
        data.default_corpus_dir()


def test_default_corpus_missing_says_what_to_do(tmp_path, monkeypatch):
    monkeypatch.delenv("MUSICLIB_DATA", raising=False)
    monkeypatch.setenv("MUSICLIB_DATA_ROOT", str(tmp_path))
    with pytest.raises(DataUnavailableError, match="MUSICLIB_DATA") as info:
        data.default_corpus_dir()
    assert "make data" in str(info.value) and "\n" not in str(info.value)


def test_default_corpus_dir_returns_fetched_corpus(tmp_path, monkeypatch, small_spec, fake_package):
    monkeypatch.delenv("MUSICLIB_DATA", raising=False)
    monkeypatch.setenv("MUSICLIB_DATA_ROOT", str(tmp_path))
    folder = data.fetch(NAME, progress=False, acquire=FakeAcquire(fake_package))
    assert folder == tmp_path / NAME
    assert data.default_corpus_dir() == folder
    (folder / "loop_b.flac").unlink()
    with pytest.raises(DataUnavailableError, match="damaged"):
        data.default_corpus_dir()


def test_no_source_raises_data_unavailable_with_instructions(tmp_path, small_spec):
    root = tmp_path / "data"
    acquirers = [_unavailable("apt: apt-get not found"), _unavailable("npm: npm not found")]
    with pytest.raises(DataUnavailableError) as info:
        data.fetch(NAME, root=root, progress=False, acquire=acquirers)
    msg = str(info.value)
    assert "MUSICLIB_DATA" in msg and "apt-get install sonic-pi-samples" in msg
    assert "apt-get not found" in msg and "npm not found" in msg and "\n" not in msg
    assert not (root / NAME).exists() and _tmp_dirs(root) == []


def test_falls_back_to_the_next_source(tmp_path, small_spec, fake_package):
    acquire = FakeAcquire(fake_package)
    folder = data.fetch(NAME, root=tmp_path, progress=False, acquire=[_unavailable("apt: none"), acquire])
    assert acquire.calls == 1 and data.verify_corpus(folder) == []


def test_data_root_and_corpus_dir(tmp_path, monkeypatch):
    monkeypatch.delenv("MUSICLIB_DATA_ROOT", raising=False)
    assert data.data_root() == Path(data.__file__).resolve().parents[2] / "data"
    monkeypatch.setenv("MUSICLIB_DATA_ROOT", str(tmp_path))
    assert data.data_root() == tmp_path
    assert data.corpus_dir("nexuiz-music") == tmp_path / "nexuiz-music"
    assert data.corpus_dir(NAME, root=tmp_path / "x") == tmp_path / "x" / NAME
    with pytest.raises(ParameterError, match="name='nope'"):
        data.corpus_dir("nope")
    with pytest.raises(ParameterError):
        data.fetch("nope", root=tmp_path, progress=False)


def test_corpora_describe_both_corpora():
    assert set(data.CORPORA) == {"sonic-pi-samples", "nexuiz-music"}
    spi, nex = data.CORPORA["sonic-pi-samples"], data.CORPORA["nexuiz-music"]
    assert spi.selects("loop_amen.flac") and spi.selects("drum_roll.flac") and not spi.selects("ambi_drone.flac")
    assert nex.selects("stairs.ogg") and not nex.selects("thunder.ogg")
    assert spi.licence == "CC0-1.0" and nex.licence.startswith("GPL-2.0")


# -- the pk3 (zip) of the full corpus ---------------------------------------------------------------------


def _make_pk3(path: Path, tmp: Path) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for i, name in enumerate(["stairs.ogg", "ninesix.ogg", "thunder.ogg"]):
            src = _write_audio(tmp / name, freq=200 + 50 * i, fmt="OGG")
            zf.write(src, f"sound/cdtracks/{name}")
        zf.writestr("sound/cdtracks/", "")
        zf.writestr("sound/misc/ambient.ogg", _write_audio(tmp / "amb.ogg", fmt="OGG").read_bytes())
        zf.writestr("readme.txt", "not audio")
    return path


def test_zip_extraction_leaves_out_thunder(tmp_path):
    pk3 = _make_pk3(tmp_path / "music.pk3", tmp_path / "src")
    spec = data.CORPORA["nexuiz-music"]
    out = data.extract_audio_from_zip(pk3, tmp_path / "out", include=spec.include, exclude=spec.exclude,
                                      member_dir=spec.archive_dir)
    assert [p.name for p in out] == ["ninesix.ogg", "stairs.ogg"]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["ninesix.ogg", "stairs.ogg"]
    with pytest.raises(CorpusError, match="not a readable zip"):
        data.extract_audio_from_zip(tmp_path / "src" / "stairs.ogg", tmp_path / "out2")


def test_fetch_full_corpus_from_fake_pk3(tmp_path, monkeypatch):
    monkeypatch.setitem(data.CORPORA, "nexuiz-music", dataclasses.replace(data.CORPORA["nexuiz-music"], min_files=2))
    tree = tmp_path / "pkg"
    pk3 = tree / "usr/share/games/nexuiz/data/music.pk3"
    pk3.parent.mkdir(parents=True)
    _make_pk3(pk3, tmp_path / "src")
    (tree / "usr/share/doc/nexuiz-music").mkdir(parents=True)
    (tree / "usr/share/doc/nexuiz-music/copyright").write_text("GPL-2+\n")
    folder = data.fetch("nexuiz-music", root=tmp_path / "data", progress=False,
                        acquire=FakeAcquire(tree, audio="usr/share/games/nexuiz/data/music.pk3"))
    assert sorted(p.name for p in folder.iterdir()) == ["COPYRIGHT", "PROVENANCE.json", "ninesix.ogg", "stairs.ogg"]
    assert data.read_provenance(folder)["licence"] == "GPL-2.0-or-later"


# -- package unpacking helpers ----------------------------------------------------------------------------


def test_tar_extraction_takes_wanted_members_only_and_never_escapes(tmp_path):
    spec = data.CORPORA[NAME]
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, payload in [("package/samples/loop_x.flac", b"a"), ("package/samples/ambi_y.flac", b"b"),
                              ("package/LICENSE", b"CC0"), ("package/../../evil.txt", b"x"),
                              ("/abs/evil.txt", b"x"), ("package/samples/drum_z.flac", b"c")]:
            info = tarfile.TarInfo(name)
            info.size = len(payload)
            tar.addfile(info, io.BytesIO(payload))
    buf.seek(0)
    wanted = data._wanted(spec, spec.npm_audio_path, ["package/LICENSE", "/abs/evil.txt"])
    dest = tmp_path / "tree"
    with tarfile.open(fileobj=buf, mode="r|*") as tar:
        n = data._extract_tar(tar, dest, wanted)
    found = sorted(str(p.relative_to(dest)) for p in dest.rglob("*") if p.is_file())
    assert n == 3 and found == ["package/LICENSE", "package/samples/drum_z.flac", "package/samples/loop_x.flac"]
    assert not (tmp_path / "evil.txt").exists()


def test_apt_print_uris_line_parses():
    line = ("'http://archive.example.invalid/debian/pool/main/s/sonic-pi/sonic-pi-samples_3.2.2%7erepack-8_all.deb' "
            "sonic-pi-samples_3.2.2~repack-8_all.deb 21882696 SHA256:25f2312d2fae")
    m = data._URI_RE.match(line)
    assert m["file"] == "sonic-pi-samples_3.2.2~repack-8_all.deb" and m["size"] == "21882696"
    assert m["hash"] == "SHA256:25f2312d2fae"


@pytest.mark.parametrize("root_user", [True, False])
def test_apt_updates_missing_package_lists_only_as_root(monkeypatch, root_user):
    line = "'http://x/p_1.0_all.deb' p_1.0_all.deb 1234 SHA256:ABCDEF"
    calls = []

    def fake_run(cmd, *, cwd=None):
        calls.append(cmd[:2])
        updated = ["apt-get", "update"] in calls
        if cmd[:2] == ["apt-get", "update"]:
            return subprocess.CompletedProcess(cmd, 0, "", "")
        if updated:
            return subprocess.CompletedProcess(cmd, 0, line + "\n", "")
        return subprocess.CompletedProcess(cmd, 100, "", "E: Unable to locate package p\n")

    monkeypatch.setattr(data, "_run", fake_run)
    monkeypatch.setattr(data.os, "geteuid", lambda: 0 if root_user else 1000)
    if root_user:
        assert data._apt_uri("p") == {"url": "http://x/p_1.0_all.deb", "file": "p_1.0_all.deb", "size": 1234,
                                      "sha256": "abcdef"}
        assert ["apt-get", "update"] in calls
    else:
        with pytest.raises(data._SourceUnavailable, match="sudo apt-get update"):
            data._apt_uri("p")
        assert ["apt-get", "update"] not in calls


# -- command line --------------------------------------------------------------------------------------------


def test_cli_fetch_reports_files_and_minutes(tmp_path, monkeypatch, small_spec, fake_package, capsys):
    monkeypatch.setattr(data, "ACQUIRERS", (FakeAcquire(fake_package),))
    assert cli_main(["fetch", NAME, "--root", str(tmp_path), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert f"{NAME}: 3 files" in out and "min of audio" in out and "fetched in" in out
    assert cli_main(["fetch", "--root", str(tmp_path), "--quiet"]) == 0
    assert "already there, verified" in capsys.readouterr().out


def test_cli_fetch_unavailable_exits_nonzero_with_one_line(tmp_path, monkeypatch, small_spec, capsys):
    monkeypatch.setattr(data, "ACQUIRERS", (_unavailable("apt: apt-get not found"),))
    assert cli_main(["fetch", "--root", str(tmp_path), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("musiclib fetch: error: ") and "MUSICLIB_DATA" in err and err.count("\n") == 1


def test_cli_rejects_unknown_corpus(capsys):
    with pytest.raises(SystemExit) as info:
        cli_main(["fetch", "nope"])
    assert info.value.code == 2
    assert "invalid choice" in capsys.readouterr().err
