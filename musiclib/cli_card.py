"""``python -m musiclib card GENERATED --train TRAIN --reference REFERENCE [--json]``.

Prints the musicality card (:func:`musiclib.card.musicality_card`) of the generated audio as a table,
or with ``--json`` one JSON object ``{"passed": bool, "checks": {name: {"value", "threshold", "passed",
"rule", "detail"}}, "files": {...}, ...}``. Each of GENERATED, TRAIN and REFERENCE is one or more
folders (searched recursively for audio) or audio files.

Exit status: 0 whatever the verdict; 2 on bad input (a missing folder, a file that is not audio, a
clip shorter than the card's minimum), with a message naming the file.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

__all__ = ["add_parser", "run", "main", "load_clips"]

EXIT_BAD_INPUT = 2


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register the ``card`` subcommand on an ``argparse`` subparsers object."""
    p = subparsers.add_parser(
        "card",
        help="measure generated audio with the musicality card",
        description=__doc__.split("\n\n")[1],
    )
    _arguments(p)
    p.set_defaults(func=run)
    return p


def _arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("generated", nargs="+", metavar="GENERATED", help="folder(s) or audio file(s) of generated clips")
    p.add_argument("--train", nargs="+", required=True, metavar="TRAIN", help="the audio the model learned from")
    p.add_argument("--reference", nargs="+", required=True, metavar="REFERENCE", help="held-out real audio")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    p.add_argument("--sr", type=int, default=22050, help="analysis sample rate in Hz (default 22050)")
    p.add_argument("--max-seconds", type=float, default=None, help="read at most this many seconds of each file")
    p.add_argument("--seed", type=int, default=0, help="seed of the shaped-noise ceiling and the bootstrap")


def load_clips(sources, *, role: str, sr: int = 22050, max_seconds=None) -> tuple[list, list[Path]]:
    """Load every audio file named by ``sources`` (folders or files), mono at ``sr``.

    Raises
    ------
    MusiclibError
        A missing path, a folder without audio, a file that cannot be decoded, or a clip shorter
        than :data:`musiclib.card.MIN_CLIP_SECONDS` (each message names the file and the role).
    """
    from musiclib import audio
    from musiclib.card import MIN_CLIP_SECONDS
    from musiclib.corpus import find_audio_files
    from musiclib.errors import AudioFileError, CorpusError

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


def run(args) -> int:
    """Run the ``card`` subcommand; returns the exit status (0, or 2 on bad input)."""
    from musiclib.card import musicality_card
    from musiclib.errors import MusiclibError

    try:
        if args.sr <= 0:
            raise MusiclibError(f"--sr={args.sr} must be a positive sample rate in Hz")
        loaded = {
            role: load_clips(src, role=role, sr=args.sr, max_seconds=args.max_seconds)
            for role, src in (("generated", args.generated), ("train", args.train), ("reference", args.reference))
        }
        card = musicality_card(
            loaded["generated"][0],
            training=loaded["train"][0],
            reference=loaded["reference"][0],
            sr=args.sr,
            seed=args.seed,
        )
    except MusiclibError as e:
        print(f"musiclib card: error: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    files = {role: [str(p) for p in paths] for role, (_, paths) in loaded.items()}
    if args.json:
        out = card.to_dict()
        out["files"] = files
        print(json.dumps(out, indent=2))
    else:
        print(
            f"musicality card: {len(files['generated'])} generated, {len(files['train'])} training, "
            f"{len(files['reference'])} reference files"
        )
        print(card)
    return 0


def main(argv=None) -> int:
    """Stand-alone entry (``python -m musiclib.cli_card ...``), same arguments as ``musiclib card``."""
    p = argparse.ArgumentParser(prog="python -m musiclib card", description=__doc__.split("\n\n")[1])
    _arguments(p)
    return run(p.parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
