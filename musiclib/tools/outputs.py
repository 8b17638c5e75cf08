"""Generated clips on disk, each run with a JSON sidecar: what ``notebooks/08_compare`` reads.

Layout (the root is ``$MUSICLIB_OUTPUTS`` or ``<repo>/outputs``, which git ignores)::

    outputs/<approach>/<run-id>/clip_00.wav, clip_01.wav, ..., meta.json

``meta.json`` records the approach, representation, parameters, seed, training and generation time,
the sample rate and, per clip, its length, peak and how many NaN/inf samples the model produced
(written as zeros). A run is written into a hidden temporary folder and renamed into place when
complete, so a crash never leaves half a run, and an existing run is never overwritten.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import math
import os
import re
import shutil
import tempfile
import warnings
from pathlib import Path

import numpy as np

from musiclib import audio
from musiclib.errors import MusiclibError, ParameterError, check_int, check_number

__all__ = ["outputs_root", "save_clips", "load_outputs", "list_runs", "run_key", "checkpoint_dir",
           "EXPECTED_APPROACHES"]

#: The generating notebooks, in series order (``08_compare`` says which of them have no outputs yet).
EXPECTED_APPROACHES = (
    "02_linear_regression",
    "03_trees",
    "04_lstm",
    "05_vae",
    "06_gan",
    "07_raw_audio",
)

_SLUG = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")


def outputs_root(root=None) -> Path:
    """The outputs folder: ``root`` if given, else ``$MUSICLIB_OUTPUTS``, else ``outputs/`` in
    :func:`musiclib.tools.data.project_root` (it need not exist yet)."""
    if root is not None:
        return Path(root)
    env = os.environ.get("MUSICLIB_OUTPUTS")
    if env:
        return Path(env)
    from musiclib.tools.data import project_root

    return project_root() / "outputs"


def _check_slug(name: str, value) -> str:
    if not isinstance(value, str) or not _SLUG.match(value) or value in (".", ".."):
        raise ParameterError(
            f"{name}={value!r} must be a short name of letters, digits, '_', '-' or '.', "
            "not starting with '.' (it becomes a folder name)"
        )
    return value


def _jsonable(x):
    if isinstance(x, (np.ndarray, np.generic)):
        x = x.tolist()  # Python numbers and lists
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, float):
        return x if math.isfinite(x) else str(x)
    if x is None or isinstance(x, (str, int)):
        return x
    if isinstance(x, Path):
        return str(x)
    params = getattr(x, "params", None)  # a Representation
    return _jsonable(params) if isinstance(params, dict) else repr(x)


def save_clips(
    approach: str,
    clips,
    *,
    sr: int,
    representation,
    parameters: dict,
    seed: int,
    train_seconds: float,
    generate_seconds: float,
    root=None,
    run: str | None = None,
) -> list[Path]:
    """Write one run of generated clips with its sidecar, atomically.

    Parameters
    ----------
    approach : str
        The notebook's name, e.g. ``"02_linear_regression"`` (letters, digits, ``_-.``).
    clips : list of np.ndarray [shape=(n_samples,)]
        Generated audio; clipped to +-1 in the file, NaN/inf written as 0 and counted in the sidecar.
    sr : int
        Sample rate in Hz.
    representation : dict, str or Representation
        What the model worked on (a Representation is recorded by its ``params``).
    parameters : dict
        Model and generation settings (JSON-able values; numpy scalars are converted).
    seed : int
    train_seconds, generate_seconds : float
        Wall-clock seconds spent training and generating.
    root : path, optional
        Outputs root (default: :func:`outputs_root`).
    run : str, optional
        Run id (default: UTC timestamp and seed, ``20260101T120000-123456Z-seed0``).

    Returns
    -------
    list of Path
        The written clip files, in order.

    Raises
    ------
    ParameterError
        Bad approach/run name, no clips, a clip that is not a non-empty 1-D array, bad sr.
    MusiclibError
        The run folder exists already (nothing is overwritten).
    """
    _check_slug("approach", approach)
    check_int("sr", sr, high=audio.MAX_SR)
    clips = _check_clips(clips)
    if not isinstance(parameters, dict):
        raise ParameterError(f"parameters must be a dict, got {type(parameters).__name__}")
    check_number("train_seconds", train_seconds, low=0)
    check_number("generate_seconds", generate_seconds, low=0)
    now = _dt.datetime.now(_dt.timezone.utc)
    run = _check_slug("run", run if run is not None else f"{now:%Y%m%dT%H%M%S-%f}Z-seed{seed}")
    final = outputs_root(root) / approach / run
    exists = MusiclibError(f"{final}: this run exists already; pass another run= (nothing was overwritten)")
    if final.exists():
        raise exists
    final.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f".{run}.", suffix=".tmp", dir=final.parent,
                                     ignore_cleanup_errors=True) as tmp:
        meta = {"approach": approach, "run": run, "created": now.isoformat(),
                "representation": _jsonable(representation), "parameters": _jsonable(parameters),
                "seed": _jsonable(seed), "train_seconds": float(train_seconds),
                "generate_seconds": float(generate_seconds), "sr": int(sr),
                "clips": [_write_clip(Path(tmp) / f"clip_{i:02d}.wav", c, sr=int(sr)) for i, c in enumerate(clips)]}
        (Path(tmp) / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")
        try:
            os.rename(tmp, final)  # fails if final appeared meanwhile (a non-empty directory)
        except OSError:
            raise exists from None
    return [final / e["file"] for e in meta["clips"]]


def _check_clips(clips) -> list[np.ndarray]:
    """The clips as a non-empty list of non-empty 1-D float64 arrays (one array is one clip)."""
    if isinstance(clips, np.ndarray) and clips.ndim == 1:
        clips = [clips]
    clips = [np.asarray(c, dtype=np.float64) for c in clips]
    if not clips:
        raise ParameterError("clips is empty; nothing to save")
    for i, c in enumerate(clips):
        if c.ndim != 1 or c.size == 0:
            raise ParameterError(f"clips[{i}] must be a non-empty 1-D array, got shape {c.shape}")
    return clips


def _write_clip(path: Path, c: np.ndarray, *, sr: int) -> dict:
    """Write one clip (NaN/inf as 0, clipped to +-1) and return its sidecar entry."""
    bad = ~np.isfinite(c)
    c = np.where(bad, 0.0, c)
    audio.save(path, np.clip(c, -1.0, 1.0).astype(np.float32), sr=sr)
    return {"file": path.name, "seconds": round(len(c) / sr, 4), "peak": float(np.max(np.abs(c))),
            "nonfinite_samples": int(np.count_nonzero(bad))}


def list_runs(approach: str, *, root=None) -> list[Path]:
    """Complete run folders (those with a ``meta.json``) of ``approach`` under ``root`` (as
    :func:`save_clips`), oldest first."""
    _check_slug("approach", approach)
    base = outputs_root(root) / approach
    if not base.is_dir():
        return []
    runs = [p for p in base.iterdir() if p.is_dir() and not p.name.startswith(".") and (p / "meta.json").is_file()]
    return sorted(runs, key=lambda p: (_created(p), p.name))


def _created(run_dir: Path) -> str:
    try:
        return str(json.loads((run_dir / "meta.json").read_text()).get("created", ""))
    except (OSError, ValueError):
        return ""


def load_outputs(root=None, *, approaches=None) -> dict:
    """The latest complete run of every approach under the outputs root.

    Parameters
    ----------
    root : path, optional
        Outputs root (default: :func:`outputs_root`).
    approaches : list of str, optional
        Only these approaches.

    Returns
    -------
    dict
        ``approach -> {"meta": dict, "clips": list of np.ndarray, "paths": list of Path, "run_dir": Path}``,
        sorted by approach name. Runs with an unreadable sidecar or clip are skipped with a warning.
    """
    root = outputs_root(root)
    out = {}
    if not root.is_dir():
        return out
    names = sorted(p.name for p in root.iterdir() if p.is_dir() and _SLUG.match(p.name))
    if approaches is not None:
        names = [n for n in names if n in set(approaches)]
    for name in names:
        for run_dir in reversed(list_runs(name, root=root)):
            try:
                meta = json.loads((run_dir / "meta.json").read_text())
                sr = int(meta["sr"])
                paths = [run_dir / e["file"] for e in meta["clips"]]
                clips = [audio.load(p, sr=sr, allow_silent=True)[0] for p in paths]
            except (OSError, ValueError, KeyError, TypeError) as e:
                warnings.warn(f"skipping {run_dir}: {e}", stacklevel=2)
                continue
            out[name] = {"meta": meta, "clips": clips, "paths": paths, "run_dir": run_dir}
            break
    return out


def run_key(*settings, code=()) -> str:
    """A short name for what a training run depends on: a change to any of it gives a new key.

    Parameters
    ----------
    *settings
        Anything JSON can write (mode, seed, the settings dict, the training files' names, ...);
        other objects count by their ``str``.
    code : sequence of modules
        Modules whose source the run depends on (the model code): an edit to one changes the key.

    Returns
    -------
    str
        12 hex digits.
    """
    sources = [hashlib.sha256(Path(m.__file__).read_bytes()).hexdigest() for m in code]
    text = json.dumps([list(settings), sources], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def checkpoint_dir(approach: str, name: str, *, key: str, resume: bool = True, root=None) -> Path:
    """The folder of one model's checkpoints: ``<root>/<approach>/checkpoints/<key>/<name>``.

    Parameters
    ----------
    approach : str
        The notebook (``"04_lstm"``).
    name : str
        The model (``"LSTM-clock"``), a folder name: letters, digits, ``_ . -``.
    key : str
        :func:`run_key` of the run's settings, so a run with other settings never resumes from these.
    resume : bool
        False: the folder (only checkpoints a notebook wrote) is emptied first: training starts afresh.
    root : path, optional
        The outputs root (default :func:`outputs_root`).

    Returns
    -------
    Path
        Not created here (the training function creates it).
    """
    folder = (outputs_root(root) / _check_slug("approach", approach) / "checkpoints" / _check_slug("key", key)
              / _check_slug("name", name))
    if not isinstance(resume, bool):
        raise ParameterError(f"resume must be True or False, not {resume!r}")
    if not resume and folder.is_dir():
        shutil.rmtree(folder)
    return folder
