"""Tests for musiclib.tools.atomic_write: the one way musiclib writes a file."""

from __future__ import annotations

import os

import pytest

from musiclib.tools import atomic_write


def _listing(folder):
    return sorted(p.name for p in folder.iterdir())


def test_writes_whole_file_with_normal_permissions(tmp_path):
    path = tmp_path / "sub" / "notes.txt"
    with atomic_write(path) as tmp:
        assert tmp.parent == path.parent and tmp.suffix == ".txt" and tmp.name.startswith(".")
        tmp.write_text("all of it")
        assert not path.exists()  # nothing at the destination until the block ends
    assert path.read_text() == "all of it"
    assert _listing(path.parent) == ["notes.txt"]
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask


def test_failure_leaves_the_old_file_and_no_temporary(tmp_path):
    path = tmp_path / "state.json"
    path.write_text("old")
    with pytest.raises(RuntimeError, match="disk full"):
        with atomic_write(path) as tmp:
            tmp.write_text("half")
            raise RuntimeError("disk full")
    assert path.read_text() == "old" and _listing(tmp_path) == ["state.json"]


def test_overwrite_false_never_replaces(tmp_path):
    path = tmp_path / "clip.wav"
    path.write_text("mine")
    with pytest.raises(FileExistsError):
        with atomic_write(path, overwrite=False) as tmp:
            tmp.write_text("new")
    assert path.read_text() == "mine" and _listing(tmp_path) == ["clip.wav"]
    with atomic_write(path) as tmp:  # overwrite=True (the default) replaces
        tmp.write_text("new")
    assert path.read_text() == "new"
