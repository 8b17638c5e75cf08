"""``python -m musiclib card``: a table or JSON on good input (exit 0 whatever the verdict), a clear
message and a non-zero exit on bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from musiclib import synth
from musiclib.tools import cli
from musiclib.evaluation.card import CHECKS, MIN_REFERENCE_FILES, MIN_REFERENCE_SECONDS

REPO = Path(__file__).resolve().parent.parent
SR = 22050


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli_card")
    # the reference: the least the card gives a verdict against (card.MIN_REFERENCE_FILES clips, MIN_REFERENCE_SECONDS)
    ref_seconds = MIN_REFERENCE_SECONDS / MIN_REFERENCE_FILES
    sets = {"gen": ([100, 132], 20, 6.0), "train": ([96, 112, 128], 0, 3.0), "ref": ([104, 120, 136], 10, ref_seconds)}
    for name, (bpms, seed, seconds) in sets.items():
        (root / name).mkdir()
        for i, bpm in enumerate(bpms):
            y = synth.synthetic_mix(duration=seconds, sr=SR, bpm=bpm, seed=seed + i)
            sf.write(root / name / f"{name}_{i}.wav", y, SR, subtype="PCM_16")
    (root / "noise").mkdir()
    rng = np.random.default_rng(0)
    for i in range(2):
        sf.write(root / "noise" / f"n{i}.flac", 0.1 * rng.standard_normal(3 * SR), SR)
    return root


def _cli(*args):
    """Run the real command line in a subprocess, from the repository root."""
    return subprocess.run(
        [sys.executable, "-m", "musiclib", "card", *map(str, args)],
        cwd=REPO, capture_output=True, text=True, timeout=300,
    )


def test_table(folders):
    r = _cli(folders / "gen", "--train", folders / "train", "--reference", folders / "ref")
    assert r.returncode == 0, r.stderr
    for name in CHECKS:
        assert name in r.stdout
    assert "overall: PASS" in r.stdout
    assert "2 generated, 3 training, 3 reference files" in r.stdout


def test_json_with_file_lists(folders):
    gen = sorted((folders / "gen").glob("*.wav"))
    r = _cli(*gen, "--train", folders / "train", "--reference", *sorted((folders / "ref").glob("*.wav")), "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["passed"] is True
    assert set(out["checks"]) == set(CHECKS)
    for c in out["checks"].values():
        assert {"value", "threshold", "passed"} <= set(c)
        assert isinstance(c["threshold"], float)
    assert out["files"]["generated"] == [str(p) for p in gen]


def test_failing_verdict_still_exits_zero(folders):
    r = _cli(folders / "noise", "--train", folders / "train", "--reference", folders / "ref", "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["passed"] is False
    assert out["checks"]["noise"]["passed"] is False


def test_in_process(folders, capsys):
    code = cli.main(["card", str(folders / "gen"), "--train", str(folders / "train"), "--reference", str(folders / "ref")])
    assert code == 0
    assert "overall:" in capsys.readouterr().out


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda root, tmp: [tmp / "missing", "--train", root / "train", "--reference", root / "ref"], "does not exist"),
        (lambda root, tmp: [root / "gen", "--train", tmp / "missing", "--reference", root / "ref"], "train"),
        (lambda root, tmp: [_text_folder(tmp), "--train", root / "train", "--reference", root / "ref"], "no audio files"),
        (lambda root, tmp: [_fake_wav(tmp), "--train", root / "train", "--reference", root / "ref"], "not a readable audio file"),
        (lambda root, tmp: [_short_clip(tmp), "--train", root / "train", "--reference", root / "ref"], "at least 1.0 s"),
        (lambda root, tmp: [root / "gen", "--train", root / "train", "--reference", _short_clip(tmp)], "reference"),
    ],
    ids=["missing-generated", "missing-train", "no-audio", "non-audio-file", "too-short", "too-short-reference"],
)
def test_bad_input(folders, tmp_path, make, match, capsys):
    code = cli.main(["card", *(str(a) for a in make(folders, tmp_path))])
    out, err = capsys.readouterr()
    assert code == cli.EXIT_BAD_INPUT
    assert err.startswith("musiclib card: error:") and match in err, err
    assert out == ""


def test_too_little_reference_is_one_line_and_exit_2(folders):
    """Two of the three reference clips: no pass/fail, one line saying how much there is and how much is needed."""
    r = _cli(folders / "gen", "--train", folders / "train", "--reference", *sorted((folders / "ref").glob("*.wav"))[:2])
    assert r.returncode == cli.EXIT_BAD_INPUT, r.stderr
    assert r.stdout == "" and r.stderr.count("\n") == 1 and "Traceback" not in r.stderr
    assert f"{2 * MIN_REFERENCE_SECONDS / MIN_REFERENCE_FILES:.1f} s" in r.stderr and "in 2 clips" in r.stderr, r.stderr
    assert f"at least {MIN_REFERENCE_SECONDS:g} s in at least {MIN_REFERENCE_FILES} clips" in r.stderr, r.stderr


def test_bad_input_through_the_command_line(tmp_path, folders):
    r = _cli(_fake_wav(tmp_path), "--train", folders / "train", "--reference", folders / "ref")
    assert r.returncode != 0
    assert "error" in r.stderr and "fake.wav" in r.stderr, r.stderr
    assert "Traceback" not in r.stderr
    assert r.stdout == ""


def test_missing_required_option(folders):
    r = _cli(folders / "gen", "--reference", folders / "ref")
    assert r.returncode == 2 and "--train" in r.stderr


def _text_folder(tmp: Path) -> Path:
    d = tmp / "texts"
    d.mkdir()
    (d / "notes.txt").write_text("not audio")
    return d


def _fake_wav(tmp: Path) -> Path:
    p = tmp / "fake.wav"
    p.write_text("this is not a wav file")
    return p


def _short_clip(tmp: Path) -> Path:
    p = tmp / "short.wav"
    sf.write(p, synth.synthetic_mix(duration=0.5, sr=SR, seed=1), SR)
    return p


@pytest.mark.parametrize(
    "options, match",
    [(["--splits", "0"], "--splits=0"), (["--seconds", "nan"], "--seconds=nan"), (["--seconds", "0.5"], "--seconds=0.5")],
)
def test_calibrate_bad_options(options, match, capsys):
    code = cli.main(["calibrate", *options])
    out, err = capsys.readouterr()
    assert code == cli.EXIT_BAD_INPUT and err.startswith("musiclib calibrate: error:") and match in err, err


@pytest.mark.slow
def test_calibrate_prints_every_threshold_and_the_table(folders, capsys):
    code = cli.main(["calibrate", "--corpus", str(folders / "train"), "--splits", "1", "--seconds", "6"])
    out = capsys.readouterr().out
    assert code == 0
    thresholds, table = out.split("\n\n", 1)
    assert "synthetic (9 clips)" in thresholds and "train (3 clips)" in thresholds
    for name in CHECKS:
        assert f"\n{name}" in thresholds and f"\n{name}" in table
    for case in ("real", "held_tone", "shuffled_frames", "tempo_drift", "suggested", "current"):
        assert case in table.splitlines()[0]
