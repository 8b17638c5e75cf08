"""Audio in and out: load, save, mono, resample, normalise, trim, fragments (``notebooks/00_data_tour``).

Signals are float32 ``y [shape=(n_samples,)]`` at ``sr`` Hz, or ``[shape=(n_channels, n_samples)]``
where stated. A problem with a file raises :class:`musiclib.errors.AudioFileError` naming the file.
"""

from __future__ import annotations

import os
import struct
import warnings
from pathlib import Path

import librosa
import numpy as np
import soundfile as sf

from musiclib.errors import (MAX_AMPLITUDE, MAX_SAMPLES, MAX_SR, AudioFileError, ParameterError, check_finite,
                             check_int, check_number, check_positive, check_size, check_sr)

__all__ = [
    "AUDIO_EXTENSIONS",
    "DEFAULT_SR",
    "load",
    "info",
    "save",
    "to_mono",
    "resample",
    "normalize_peak",
    "normalize_rms",
    "trim_silence",
    "fragment",
    "loud_fragments",
    "rms_db",
    "frame_level_db",
]

#: File extensions treated as audio when discovering files (formats libsndfile reads).
AUDIO_EXTENSIONS = (".wav", ".flac", ".ogg", ".oga", ".mp3", ".aiff", ".aif", ".aifc", ".w64", ".caf")

#: The sample rate every notebook works at unless told otherwise (Hz).
DEFAULT_SR = 22050

#: Peak below which a signal counts as silent (about -120 dBFS).
SILENCE_PEAK = 1e-6

#: Largest ``peak`` the normalisers accept (far above any audio scale, far below float32's limit).
MAX_PEAK = 1e30

#: Longest analysis frame or hop accepted by the frame-wise helpers (samples; 47 s at 22.05 kHz).
MAX_FRAME = 2**20


def _check_n_samples(n: float, *, what: str):
    check_size(n, what=what, advice="use a lower sample rate or a shorter duration")


def _ogg_truncation(path: Path) -> str | None:
    """Say whether an Ogg file (Vorbis, Opus, FLAC in Ogg) stops before its end-of-stream page.

    libsndfile decodes whatever pages are present; a file whose last page is incomplete, or complete
    but not flagged end-of-stream, was cut.
    """
    try:
        with open(path, "rb") as f:
            if f.read(4) != b"OggS":
                return None
            f.seek(max(0, os.fstat(f.fileno()).st_size - 70_000))  # an Ogg page is at most 65 307 bytes
            tail = f.read()
    except OSError:
        return None
    start = len(tail)
    while True:
        start = tail.rfind(b"OggS", 0, start)
        if start < 0:
            return "truncated: no complete Ogg page at the end of the file"
        header = tail[start : start + 27]
        if len(header) == 27 and header[4] == 0:
            n_segments = header[26]
            lacing = tail[start + 27 : start + 27 + n_segments]
            if len(lacing) == n_segments:
                end = start + 27 + n_segments + sum(lacing)
                if end > len(tail):
                    return "truncated: the last Ogg page is cut short"
                return None if header[5] & 0x04 else "truncated: the Ogg stream has no end-of-stream page"
        # "OggS" inside packet data, or a cut header: look further back


def _wav_truncation(path: Path) -> str | None:
    """Say whether a RIFF/WAVE (or AIFF) file's data chunk is shorter than its header declares
    (libsndfile silently reads what is present)."""
    try:
        with open(path, "rb") as f:
            head = f.read(12)
            if len(head) == 12 and head[:4] == b"RIFF" and head[8:12] == b"WAVE":
                endian, data_id = "<", b"data"
            elif len(head) == 12 and head[:4] == b"FORM" and head[8:12] in (b"AIFF", b"AIFC"):
                endian, data_id = ">", b"SSND"
            else:
                return None
            size = os.fstat(f.fileno()).st_size
            while True:
                chunk = f.read(8)
                if len(chunk) < 8:
                    return None
                cid, clen = chunk[:4], struct.unpack(endian + "I", chunk[4:])[0]
                if cid == data_id:
                    present = size - f.tell()
                    if clen != 0xFFFFFFFF and present < clen:
                        return f"truncated: the header declares {clen} bytes of audio but only {present} are present"
                    return None
                f.seek(clen + (clen & 1), os.SEEK_CUR)
    except OSError:
        return None


def info(path) -> dict:
    """Describe an audio file without decoding it.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    dict
        ``{"path", "duration" (s), "sr" (Hz), "channels", "frames", "format", "subtype"}``.

    Raises
    ------
    AudioFileError
        The file is missing, empty, or not audio libsndfile can read.
    """
    path = Path(path)
    if not path.exists():
        raise AudioFileError(path, "file not found")
    if path.is_dir():
        raise AudioFileError(path, "is a directory, not an audio file")
    if path.stat().st_size == 0:
        raise AudioFileError(path, "file is empty (0 bytes)")
    try:
        i = sf.info(str(path))
    except (sf.LibsndfileError, RuntimeError, TypeError) as e:
        raise AudioFileError(path, f"not a readable audio file ({e})") from None
    return {
        "path": str(path),
        "duration": i.frames / i.samplerate if i.samplerate else 0.0,
        "sr": int(i.samplerate),
        "channels": int(i.channels),
        "frames": int(i.frames),
        "format": i.format,
        "subtype": i.subtype,
    }


def load(
    path,
    *,
    sr: int | None = DEFAULT_SR,
    mono: bool = True,
    offset: float = 0.0,
    duration: float | None = None,
    allow_silent: bool = False,
) -> tuple[np.ndarray, int]:
    """Load an audio file (any format libsndfile reads) as float32, mixed to mono and resampled by default.

    Parameters
    ----------
    path : str or Path
    sr : int or None
        Target sample rate in Hz; ``None`` keeps the file's rate.
    mono : bool
        Mix down to one channel (mean of the channels).
    offset, duration : float
        Start time and length to read, in seconds (``duration=None`` reads to the end).
    allow_silent : bool
        Accept a file whose samples are all (near) zero (by default an error: nothing learns from silence).

    Returns
    -------
    y : np.ndarray [shape=(n_samples,) or (n_channels, n_samples)], float32
    sr : int
        The sample rate of ``y``.

    Raises
    ------
    AudioFileError
        Missing, empty, truncated, non-audio or silent file, or one holding NaN/inf samples.
    """
    check_sr(sr, allow_none=True)
    check_number("offset", offset, low=0)
    check_positive("duration", duration, allow_none=True)
    meta = info(path)
    path = Path(path)
    problem = _wav_truncation(path) or _ogg_truncation(path)
    if problem:
        raise AudioFileError(path, problem)
    file_sr = meta["sr"]
    start = offset * file_sr  # a float until it is known to lie in the file (offset=1e304 would overflow int)
    if (meta["frames"] and start >= meta["frames"]) or not np.isfinite(start):
        raise AudioFileError(path, f"offset={offset} s is past the end of the file ({meta['duration']:.3f} s)")
    start = int(round(start))
    stop = None if duration is None else start + max(1, int(round(min(duration, 1e7) * file_sr)))
    n_read = (min(stop, meta["frames"]) if stop is not None else meta["frames"]) - start
    _check_n_samples(n_read * meta["channels"], what=f"reading {path}")
    if sr is not None:
        _check_n_samples(n_read * sr / file_sr, what=f"{path} resampled to sr={sr}")
    try:
        data, _ = sf.read(str(path), start=start, stop=stop, dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError) as e:
        raise AudioFileError(path, f"cannot be decoded, probably truncated or corrupt ({e})") from None
    if data.shape[0] == 0:
        raise AudioFileError(path, "contains no audio samples")
    if n_read > 0 and data.shape[0] < 0.99 * n_read:
        raise AudioFileError(path, f"truncated: {n_read} samples declared but only {data.shape[0]} could be "
                                   f"decoded")
    if not np.all(np.isfinite(data)):
        raise AudioFileError(path, f"contains {np.count_nonzero(~np.isfinite(data))} NaN or infinite samples")
    y = np.ascontiguousarray(data.T)  # (channels, n)
    if mono:
        y = to_mono(y)
    if sr is not None and sr != file_sr:
        y = resample(y, orig_sr=file_sr, target_sr=sr)
    else:
        sr = file_sr
    if not allow_silent and float(np.max(np.abs(y))) < SILENCE_PEAK:
        raise AudioFileError(path, "is silent (every sample is zero or below -120 dBFS)")
    return y.astype(np.float32, copy=False), int(sr)


def save(path, y: np.ndarray, *, sr: int, overwrite: bool = False, subtype: str | None = None) -> Path:
    """Write audio atomically (:func:`musiclib.tools.atomic_write`); keep an existing file unless asked.

    Parameters
    ----------
    path : str or Path
        Destination; the format follows the extension (``.wav``, ``.flac``, ``.ogg``, ...).
    y : np.ndarray [shape=(n_samples,) or (n_channels, n_samples)]
    sr : int
        Sample rate in Hz.
    overwrite : bool
        Replace an existing file.
    subtype : str, optional
        libsndfile subtype (default: the format's default, e.g. PCM_16 for wav).

    Returns
    -------
    path : Path

    Raises
    ------
    AudioFileError
        ``path`` exists and ``overwrite`` is false.
    ParameterError
        ``y`` is not finite or not 1-D/2-D, a bad ``sr``, or no format for the extension or ``subtype``.
    """
    from musiclib.tools import atomic_write

    path = Path(path)
    check_sr(sr)
    y = np.asarray(y)
    if y.ndim not in (1, 2) or y.size == 0:
        raise ParameterError(f"y must be a non-empty 1-D or 2-D array, got shape {y.shape}")
    if not np.all(np.isfinite(y)):
        raise ParameterError(f"y holds NaN or infinite samples; refusing to write {path}")
    ext = path.suffix[1:].upper()
    fmt = {"OGA": "OGG", "AIF": "AIFF", "AIFC": "AIFF"}.get(ext, ext)
    if fmt not in sf.available_formats():
        raise ParameterError(f"cannot save {path}: its extension {path.suffix!r} names no audio format (.wav, .flac, ...)")
    if subtype is not None and not sf.check_format(fmt, subtype):
        raise ParameterError(f"cannot save {path}: subtype={subtype!r} is not valid for {fmt}")
    exists = AudioFileError(path, "already exists; pass overwrite=True to replace it")
    if path.exists() and not overwrite:  # refuse before encoding (and before a read-only folder's error)
        raise exists
    try:
        with atomic_write(path, overwrite=overwrite) as tmp:
            sf.write(tmp, y.T if y.ndim == 2 else y, sr, subtype=subtype, format=fmt)
    except FileExistsError:  # created meanwhile: atomic_write never replaces a file unless asked
        raise exists from None
    return path


def to_mono(y: np.ndarray) -> np.ndarray:
    """Mix a signal down to one channel by the channel mean.

    Parameters
    ----------
    y : np.ndarray [shape=(n_channels, n_samples) or (n_samples,)]

    Returns
    -------
    np.ndarray [shape=(n_samples,)]
        float32 (a mono ``y`` is returned as it is).
    """
    y = np.asarray(y)
    if y.ndim == 1:
        return y
    if y.ndim != 2:
        raise ParameterError(f"y must be 1-D or (n_channels, n_samples), got shape {y.shape}")
    return y.mean(axis=0, dtype=np.float64).astype(np.float32)


def resample(y: np.ndarray, *, orig_sr: int, target_sr: int) -> np.ndarray:
    """Resample along the last axis with soxr's high-quality filter.

    Parameters
    ----------
    y : np.ndarray [shape=(..., n_samples)]
    orig_sr, target_sr : int
        Sample rates in Hz.

    Returns
    -------
    np.ndarray [shape=(..., ceil(n_samples * target_sr / orig_sr))], float32
    """
    import soxr

    check_sr(orig_sr, name="orig_sr")
    check_sr(target_sr, name="target_sr")
    y = check_finite("resample() y", y, allow_empty=True)
    if y.ndim == 0 or y.ndim > 2 or y.shape[-1] == 0:
        raise ParameterError(f"resample() y must have shape (n_samples,) or (n_channels, n_samples) with "
                             f"n_samples >= 1; got shape {y.shape}")
    if float(np.max(np.abs(y))) > MAX_AMPLITUDE:
        raise ParameterError(f"resample() y reaches {float(np.max(np.abs(y))):.4g}, beyond any audio level "
                             f"(|y| <= {MAX_AMPLITUDE:g}): scale it down first (normalize_peak)")
    _check_n_samples(y.size * target_sr / orig_sr, what=f"resampling {y.shape} from {orig_sr} to {target_sr} Hz")
    if orig_sr == target_sr:
        return y
    out = soxr.resample(np.ascontiguousarray(y.T), orig_sr, target_sr, quality="HQ")  # time first
    return np.ascontiguousarray(out.T, dtype=np.float32)


def frame_level_db(y: np.ndarray, *, frame_length: int = 2048, hop_length: int = 512, center: bool = True,
                   floor_db: float = -200.0, dtype=np.float32) -> np.ndarray:
    """RMS level of each frame of ``y`` in dBFS ``[shape=(n_frames,)]``, at least ``floor_db``.

    ``librosa.feature.rms`` (0 dB: a full-scale square wave), computed in ``dtype``.
    """
    rms = librosa.feature.rms(y=y, frame_length=frame_length, hop_length=hop_length, center=center, dtype=dtype)[0]
    return 20.0 * np.log10(np.maximum(rms, 10 ** (floor_db / 20)))


def rms_db(y: np.ndarray) -> float:
    """Root-mean-square level of a whole signal ``y [shape=(..., n_samples)]`` in dBFS (``-inf`` for silence)."""
    r = float(np.sqrt(np.mean(np.square(np.asarray(y, dtype=np.float64))))) if np.size(y) else 0.0
    return 20.0 * np.log10(r) if r > 0 else -np.inf


def normalize_peak(y: np.ndarray, *, peak: float = 0.99) -> np.ndarray:
    """Scale ``y [shape=(..., n_samples)]`` so its largest absolute sample is ``peak`` (> 0).

    Returns a float32 array shaped like ``y``; silence is returned unchanged, with a warning.
    """
    check_number("peak", peak, low=0, low_open=True, high=MAX_PEAK)
    y = check_finite("normalize_peak() y", y, allow_empty=True)
    m = float(np.max(np.abs(y))) if y.size else 0.0
    if m < SILENCE_PEAK:
        warnings.warn("normalize_peak() got a silent signal; returning it unchanged", stacklevel=2)
        return y.copy()
    return (y * (peak / m)).astype(np.float32)


def normalize_rms(y: np.ndarray, *, target_db: float = -20.0, peak: float = 0.99) -> np.ndarray:
    """Scale ``y`` to an RMS level of ``target_db`` dBFS, then rescale (no clipping) to a peak <= ``peak``.

    Parameters
    ----------
    y : np.ndarray [shape=(..., n_samples)]
    target_db : float <= 0
        RMS level in dBFS.
    peak : float
        Largest absolute sample allowed.

    Returns
    -------
    np.ndarray, float32, shaped like ``y`` (silence is returned unchanged, with a warning)
    """
    check_number("target_db", target_db, high=0)
    check_number("peak", peak, low=0, low_open=True, high=MAX_PEAK)
    y = check_finite("normalize_rms() y", y, allow_empty=True)
    level = rms_db(y)
    if not np.isfinite(level) or float(np.max(np.abs(y))) < SILENCE_PEAK:
        warnings.warn("normalize_rms() got a silent signal; returning it unchanged", stacklevel=2)
        return y.copy()
    out = y * np.float32(10 ** ((target_db - level) / 20))
    m = float(np.max(np.abs(out)))
    if m > peak:
        out *= np.float32(peak / m)
    return out.astype(np.float32)


def trim_silence(
    y: np.ndarray, *, top_db: float = 60.0, frame_length: int = 2048, hop_length: int = 512
) -> tuple[np.ndarray, tuple[int, int]]:
    """Cut leading and trailing stretches quieter than ``top_db`` below the loudest frame.

    ``librosa.effects.trim`` (frame RMS, centred frames), except that a silent signal (peak below
    :data:`SILENCE_PEAK`) is trimmed to nothing rather than kept whole.

    Parameters
    ----------
    y : np.ndarray [shape=(n_samples,)]
    top_db : float > 0
        Threshold in dB below the loudest frame's RMS.
    frame_length, hop_length : int > 0
        RMS frames, in samples.

    Returns
    -------
    y_trimmed : np.ndarray [shape=(end - start,)]
    (start, end) : tuple of int
        Sample indices of the kept part in ``y``.
    """
    check_positive("top_db", top_db)
    check_int("frame_length", frame_length, high=MAX_FRAME)
    check_int("hop_length", hop_length, high=MAX_FRAME)
    y = check_finite("trim_silence() y", y, allow_empty=True)
    if y.ndim != 1:
        raise ParameterError(f"trim_silence() needs a mono signal, got shape {y.shape}")
    if np.max(np.abs(y), initial=0) < SILENCE_PEAK:
        return y[:0], (0, 0)
    trimmed, (start, end) = librosa.effects.trim(y, top_db=top_db, frame_length=frame_length, hop_length=hop_length)
    return trimmed, (int(start), int(end))


def fragment(y: np.ndarray, *, sr: int, start: float, duration: float) -> np.ndarray:
    """Cut ``duration`` seconds from ``start`` seconds (both must lie inside ``y``).

    Parameters
    ----------
    y : np.ndarray [shape=(..., n_samples)]
    sr : int
        Sample rate in Hz.
    start, duration : float
        Seconds; ``start >= 0``, ``duration > 0``.

    Returns
    -------
    np.ndarray [shape=(..., round(duration * sr))]
        A view of ``y``.
    """
    check_sr(sr)
    check_positive("duration", duration)
    check_number("start", start, low=0)
    n = np.shape(y)[-1]
    # the float test first: int() of start=1e304 would overflow
    if (start + duration) * sr > n + 0.5 or int(round(start * sr)) + int(round(duration * sr)) > n:
        raise ParameterError(
            f"fragment start={start} s + duration={duration} s runs past the signal's end ({n / sr:.3f} s)"
        )
    a = int(round(start * sr))
    b = a + int(round(duration * sr))
    return np.asarray(y)[..., a:b]


def loud_fragments(
    y: np.ndarray, *, sr: int, duration: float, n: int = 4, min_db: float = -50.0
) -> list[tuple[float, np.ndarray]]:
    """Pick up to ``n`` non-overlapping fragments with the highest RMS level, none below ``min_db`` dBFS.

    Levels are frame RMS (:func:`frame_level_db`) over windows of ``duration`` at a quarter hop.

    Parameters
    ----------
    y : np.ndarray [shape=(n_samples,)]
        At least ``duration`` seconds.
    sr : int
        Sample rate in Hz.
    duration : float > 0
        Seconds per fragment.
    n : int > 0
        Fragments wanted at most.
    min_db : float
        Quietest level in dBFS a fragment may have.

    Returns
    -------
    list of (start_seconds, fragment [shape=(round(duration * sr),)])
        Sorted by start time.
    """
    check_sr(sr)
    check_positive("duration", duration)
    check_int("n", n)
    check_number("min_db", min_db)
    y = check_finite("loud_fragments() y", y, allow_empty=True)
    length = int(round(min(duration * sr, y.size + 1)))  # capped before int(): duration=1e304 would overflow
    if y.ndim != 1 or len(y) < length:
        raise ParameterError(
            f"loud_fragments() needs a mono signal of at least duration={duration} s, "
            f"got shape {y.shape} ({y.size / sr:.3f} s)"
        )
    hop = max(1, length // 4)
    level = frame_level_db(y, frame_length=length, hop_length=hop, center=False, dtype=np.float64)
    picked: list[int] = []
    for i in np.argsort(-level, kind="stable"):
        if level[i] < min_db or len(picked) == n:
            break
        s = int(i) * hop
        if all(abs(s - p) >= length for p in picked):
            picked.append(s)
    return [(p / sr, y[p : p + length]) for p in sorted(picked)]
