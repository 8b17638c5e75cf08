"""The spectrogram-settings study: window length, hop, representation and phase method, measured.

Every setting is run the way a generation notebook would run it: ``rep.encode(y)`` makes the frames
a model would see, ``rep.decode(frames, method=..., n_iter=...)`` turns them back into audio, and the
reconstruction is judged against the *true* STFT magnitude of the input at the same window and hop:

- ``sc_db``: spectral convergence ``||S - S_hat||_F / ||S||_F`` in dB (lower is better; what the
  ear hears as "same spectrum, no phasiness" tracks it far better than waveform error after
  Griffin-Lim, which mostly measures the phase that was thrown away);
- ``lsd_db``: log-spectral distance in dB (weights quiet bins more than SC does);
- for mel settings also ``sc_mel_db`` (the same measured between mel bands, i.e. as close as the
  bands can say) and ``ceiling_sc_db`` (the linear magnitude that non-negative least squares gets
  back from the bands, before any phase: the information the bands leave);
- wall time of encode and decode (:func:`time.perf_counter`), the real-time factor, and the size of
  the frames in float32.

Notebook: 01_spectrogram_settings
"""

from __future__ import annotations

import html
import math
import numbers
import time

import numpy as np

from musiclib.evaluation import metrics as _metrics
from musiclib import phase as _phase
from musiclib import representations as _reps
from musiclib.errors import ParameterError

__all__ = [
    "DEFAULT_N_FFTS",
    "DEFAULT_COLUMNS",
    "make_excerpt",
    "sweep_settings",
    "iteration_curve",
    "recommend",
    "rows_to_table",
    "plot_tradeoffs",
    "plot_iteration_curve",
]

#: Window lengths of the default study: 64 ... 16384 samples (2.9 ms ... 743 ms at 22.05 kHz).
DEFAULT_N_FFTS = tuple(2**k for k in range(6, 15))

#: Representations the sweep understands (all STFT-based).
SWEEP_REPRESENTATIONS = ("linear", "log", "mel")

#: Columns :func:`rows_to_table` shows by default.
DEFAULT_COLUMNS = (
    "representation",
    "n_fft",
    "hop_length",
    "n_mels",
    "method",
    "n_iter",
    "sc_db",
    "ceiling_sc_db",
    "sc_mel_db",
    "lsd_db",
    "seconds",
    "real_time_factor",
    "n_features",
    "kbytes_per_second",
)


# ------------------------------------------------------------------------------------------------
# parameter checks
# ------------------------------------------------------------------------------------------------
def _check_signal(y, *, func) -> np.ndarray:
    y = np.asarray(y)
    if y.ndim != 1 or y.size == 0:
        raise ParameterError(f"{func}() needs a mono signal of shape (n_samples,), got shape {y.shape}")
    if not np.issubdtype(y.dtype, np.number):
        raise ParameterError(f"{func}() needs numeric samples, got dtype {y.dtype}")
    y = y.astype(np.float32, copy=False)
    if not np.all(np.isfinite(y)):
        raise ParameterError(f"{func}() got {int(np.count_nonzero(~np.isfinite(y)))} NaN or infinite samples")
    if not np.any(y):
        raise ParameterError(f"{func}() got a silent signal: spectral convergence is undefined for it")
    return y


def _is_int(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _check_int(func, name, value, *, minimum):
    if not _is_int(value) or value < minimum:
        raise ParameterError(f"{func}() called with {name}={value!r}: must be an integer >= {minimum}")
    return int(value)


def _check_int_tuple(func, name, values, *, minimum, pow2=False):
    if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
        raise ParameterError(f"{func}() called with {name}={values!r}: must be a sequence of integers")
    values = tuple(values)
    if not values:
        raise ParameterError(f"{func}() called with {name}=(): needs at least one value")
    for v in values:
        if not _is_int(v) or v < minimum or (pow2 and (v & (v - 1)) != 0):
            what = "a power of two" if pow2 else "an integer"
            raise ParameterError(
                f"{func}() called with {name} containing {v!r}: each must be {what} >= {minimum}"
            )
    return tuple(dict.fromkeys(int(v) for v in values))


def _check_methods(func, methods):
    if methods is None:
        return tuple(_phase.METHODS)
    if isinstance(methods, str):
        methods = (methods,)
    methods = tuple(methods)
    if not methods:
        raise ParameterError(f"{func}() called with methods=(): needs at least one phase method")
    for m in methods:
        if m not in _phase.METHODS:
            raise ParameterError(f"{func}() called with method {m!r}: must be one of {tuple(_phase.METHODS)}")
    return tuple(dict.fromkeys(methods))


def _check_sr(func, sr):
    return _check_int(func, "sr", sr, minimum=1)


def _hop(n_fft, hop_fraction):
    return max(1, int(round(n_fft * hop_fraction)))


def _progress(iterable, *, enabled, total, desc):
    if not enabled:
        return iterable
    from tqdm.auto import tqdm

    return tqdm(iterable, total=total, desc=desc, leave=False)


# ------------------------------------------------------------------------------------------------
# the sweep
# ------------------------------------------------------------------------------------------------
def _skip_reason(rep_name, n_fft, n_mel, n_samples):
    if n_fft > n_samples:
        return f"n_fft={n_fft} is longer than the signal ({n_samples} samples)"
    n_bins = n_fft // 2 + 1
    if rep_name == "mel" and n_mel > n_bins:
        return f"n_mels={n_mel} is more than the {n_bins} frequency bins of n_fft={n_fft}"
    return None


def _plan(n_ffts, representations, n_mels, methods, n_iters):
    """The settings of the grid, in the order they run: by window, then representation."""
    plan = []
    for n_fft in n_ffts:
        for rep_name in representations:
            for n_mel in n_mels if rep_name == "mel" else (None,):
                for method in methods:
                    for n_iter in n_iters:
                        plan.append((rep_name, n_fft, n_mel, method, n_iter))
    return plan


def _empty_row(rep_name, n_fft, hop, n_mel, method, n_iter, *, sr, n_samples):
    return {
        "representation": rep_name,
        "n_fft": n_fft,
        "hop_length": hop,
        "n_mels": n_mel,
        "method": method,
        "n_iter": n_iter,
        "label": _label(rep_name, n_fft, n_mel, method, n_iter),
        "sr": sr,
        "audio_seconds": n_samples / sr,
        "skipped": None,
    }


def _label(rep_name, n_fft, n_mel, method, n_iter):
    rep = f"mel{n_mel}" if rep_name == "mel" else rep_name
    return f"{rep} n_fft={n_fft} {method}×{n_iter}"


def make_excerpt(
    clips,
    *,
    sr: int,
    duration: float = 10.0,
    piece_seconds: float = 2.5,
    fade_seconds: float = 0.01,
) -> np.ndarray:
    """A study excerpt: the loudest piece of each clip in turn, joined with short fades.

    Takes the loudest ``piece_seconds`` of each clip (:func:`musiclib.audio.loud_fragments`; a
    shorter clip is taken whole), in the given order, cycling through the clips again if they do
    not reach ``duration``. Pieces are joined with ``fade_seconds`` raised-cosine fades so that
    the joins add no clicks the reconstructions would be judged on.

    Parameters
    ----------
    clips : sequence of np.ndarray [shape=(n_samples,)]
        Mono clips at ``sr`` (e.g. ``[clip.y for clip in corpus.clips]``); silent clips are skipped.
    sr : int
        Sample rate in Hz.
    duration : float
        Length of the excerpt in seconds.
    piece_seconds : float
        Longest piece taken from one clip, in seconds.
    fade_seconds : float
        Fade in and out of each piece, in seconds.

    Returns
    -------
    y : np.ndarray [shape=(round(duration * sr),)], float32

    Raises
    ------
    ParameterError
        No clips, bad durations, or every clip silent.

    Notes
    -----
    Notebook: 01_spectrogram_settings
    """
    from musiclib import audio as _audio

    func = "make_excerpt"
    sr = _check_sr(func, sr)
    for name, value in (("duration", duration), ("piece_seconds", piece_seconds)):
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not value > 0:
            raise ParameterError(f"{func}() called with {name}={value!r}: must be a positive number of seconds")
    if isinstance(fade_seconds, bool) or not isinstance(fade_seconds, numbers.Real) or not 0 <= fade_seconds < piece_seconds / 2:
        raise ParameterError(f"{func}() called with fade_seconds={fade_seconds!r}: must lie in [0, piece_seconds / 2)")
    pieces = []
    for i, c in enumerate(clips):
        c = np.asarray(c, dtype=np.float32)
        if c.ndim != 1:
            raise ParameterError(f"{func}() needs mono clips, clip {i} has shape {c.shape}")
        if c.size == 0 or not np.any(c):
            continue
        if len(c) / sr <= piece_seconds:
            piece = c
        else:
            found = _audio.loud_fragments(c, sr=sr, duration=piece_seconds, n=1)
            piece = found[0][1] if found else c[: int(round(piece_seconds * sr))]
        piece = piece.copy()
        n_fade = min(int(round(fade_seconds * sr)), len(piece) // 2)
        if n_fade:
            ramp = (0.5 - 0.5 * np.cos(np.pi * (np.arange(n_fade) + 0.5) / n_fade)).astype(np.float32)
            piece[:n_fade] *= ramp
            piece[-n_fade:] *= ramp[::-1]
        pieces.append(piece)
    if not pieces:
        raise ParameterError(f"{func}() got no clips with sound")
    n = int(round(duration * sr))
    out, total, i = [], 0, 0
    while total < n:
        out.append(pieces[i % len(pieces)])
        total += len(out[-1])
        i += 1
    y = np.concatenate(out)[:n].astype(np.float32)
    n_fade = min(int(round(fade_seconds * sr)), n // 2)
    if n_fade:  # the last piece may be cut short: fade it out too
        y[-n_fade:] *= np.linspace(1.0, 0.0, n_fade, dtype=np.float32)
    return y


def _warm_up(y, plan, *, sr, hop_fraction, seed):
    """Run the first valid setting once on a short slice, untimed, so that one-off costs (lazy
    imports, FFT plans) are not charged to whichever setting happens to run first."""
    for rep_name, n_fft, n_mel, method, n_iter in plan:
        if _skip_reason(rep_name, n_fft, n_mel, len(y)) is None:
            params = {"sr": sr, "n_fft": n_fft, "hop_length": _hop(n_fft, hop_fraction)}
            if rep_name == "mel":
                params["n_mels"] = n_mel
            rep = _reps.make_representation(rep_name, **params)
            part = y[: min(len(y), max(4 * n_fft, sr // 4))]
            rep.decode(rep.encode(part), method=method, n_iter=min(n_iter, 2), length=len(part), seed=seed)
            return


def sweep_settings(
    y: np.ndarray,
    *,
    sr: int,
    n_ffts=DEFAULT_N_FFTS,
    representations=("linear", "mel"),
    n_mels=(64, 128, 256),
    methods=None,
    n_iters=(32,),
    hop_fraction: float = 0.25,
    seed: int = 0,
    keep_audio: bool = False,
    progress: bool = True,
) -> list[dict]:
    """Encode, decode and measure ``y`` under every combination of the given settings.

    The grid is ``n_ffts × representations (× n_mels for "mel") × methods × n_iters``. Each
    setting builds its representation with :func:`musiclib.representations.make_representation`,
    times ``rep.encode(y)`` and ``rep.decode(frames, method=..., n_iter=..., length=len(y))``
    separately, and compares the STFT magnitude of the reconstruction with the true magnitude of
    ``y`` at the same window and hop.

    Parameters
    ----------
    y : np.ndarray [shape=(n_samples,)]
        The excerpt, mono; it must not be silent.
    sr : int
        Sample rate in Hz.
    n_ffts : sequence of int
        Window (and FFT) lengths in samples, powers of two >= 16.
    representations : sequence of {"linear", "log", "mel"}
        Which representations to run.
    n_mels : sequence of int
        Band counts for ``"mel"``; a count above the window's ``n_fft // 2 + 1`` bins is skipped
        and reported (``row["skipped"]`` says why).
    methods : sequence of str, optional
        Phase methods from :data:`musiclib.phase.METHODS` (default: all of them).
    n_iters : sequence of int
        Phase iterations (0 allowed: the initial phase only).
    hop_fraction : float
        Hop as a fraction of the window, in (0, 1]; the hop is ``round(n_fft * hop_fraction)``
        samples. Keeping it proportional keeps the per-iteration cost flat across windows.
    seed : int
        Seed for the methods that draw a random initial phase.
    keep_audio : bool
        Also return each reconstruction in ``row["audio"]`` (float32, ``len(y)`` samples).
    progress : bool
        Show a progress bar (tqdm).

    Returns
    -------
    rows : list of dict
        One per setting, in grid order. Every row has ``representation``, ``n_fft``,
        ``hop_length``, ``n_mels`` (None unless mel), ``method``, ``n_iter``, ``label``, ``sr``,
        ``audio_seconds`` and ``skipped`` (None, or why the setting was not run). Rows that ran also
        have

        - ``sc_db``, ``lsd_db``: the reconstruction's STFT magnitude vs the true linear magnitude;
        - ``sc_mel_db``, ``ceiling_sc_db``: mel rows only (None otherwise), see the module notes;
        - ``encode_seconds``, ``decode_seconds``, ``seconds`` (their sum) and
          ``real_time_factor`` = audio seconds / ``seconds``;
        - ``n_frames``, ``n_features``, ``nbytes`` = ``4 * n_frames * n_features`` (float32
          frames), ``kbytes_per_second`` and ``frames_per_second``.

    Raises
    ------
    ParameterError
        For a bad signal or parameter (the message names it and echoes the value).

    See Also
    --------
    iteration_curve, recommend, rows_to_table, plot_tradeoffs

    Notes
    -----
    Notebook: 01_spectrogram_settings

    Examples
    --------
    >>> from musiclib import synth
    >>> y = synth.synthetic_mix(duration=1.0, sr=22050)
    >>> rows = sweep_settings(y, sr=22050, n_ffts=(512,), methods=("pghi+fgla",), n_mels=(64,),
    ...                       progress=False)
    >>> [(r["representation"], r["n_mels"]) for r in rows]
    [('linear', None), ('mel', 64)]
    """
    func = "sweep_settings"
    y = _check_signal(y, func=func)
    sr = _check_sr(func, sr)
    n_ffts = _check_int_tuple(func, "n_ffts", n_ffts, minimum=16, pow2=True)
    if isinstance(representations, str):
        representations = (representations,)
    representations = tuple(dict.fromkeys(representations))
    if not representations or any(r not in SWEEP_REPRESENTATIONS for r in representations):
        raise ParameterError(
            f"{func}() called with representations={representations!r}: each must be one of {SWEEP_REPRESENTATIONS}"
        )
    n_mels = _check_int_tuple(func, "n_mels", n_mels, minimum=1)
    methods = _check_methods(func, methods)
    n_iters = _check_int_tuple(func, "n_iters", n_iters, minimum=0)
    if isinstance(hop_fraction, bool) or not isinstance(hop_fraction, numbers.Real) or not 0 < hop_fraction <= 1:
        raise ParameterError(f"{func}() called with hop_fraction={hop_fraction!r}: must lie in (0, 1]")
    seed = _check_int(func, "seed", seed, minimum=0)

    n = len(y)
    plan = _plan(n_ffts, representations, n_mels, methods, n_iters)
    truth: dict[tuple[int, int], np.ndarray] = {}  # (n_fft, hop) -> true magnitude
    encoded: dict[tuple, tuple] = {}  # (rep params) -> (rep, frames, encode seconds)
    ceilings: dict[tuple, float] = {}
    rows = []
    _warm_up(y, plan, sr=sr, hop_fraction=hop_fraction, seed=seed)
    for rep_name, n_fft, n_mel, method, n_iter in _progress(plan, enabled=progress, total=len(plan), desc="settings"):
        hop = _hop(n_fft, hop_fraction)
        row = _empty_row(rep_name, n_fft, hop, n_mel, method, n_iter, sr=sr, n_samples=n)
        row["skipped"] = _skip_reason(rep_name, n_fft, n_mel, n)
        rows.append(row)
        if row["skipped"]:
            continue
        key = (rep_name, n_fft, hop, n_mel)
        if key not in encoded:
            params = {"sr": sr, "n_fft": n_fft, "hop_length": hop}
            if rep_name == "mel":
                params["n_mels"] = n_mel
            rep = _reps.make_representation(rep_name, **params)
            t0 = time.perf_counter()
            frames = rep.encode(y)
            encoded[key] = (rep, frames, time.perf_counter() - t0)
        rep, frames, encode_seconds = encoded[key]
        if (n_fft, hop) not in truth:
            truth[n_fft, hop] = np.abs(_phase.stft(y, n_fft=n_fft, hop_length=hop)).astype(np.float32)
        S = truth[n_fft, hop]

        t0 = time.perf_counter()
        y_hat = rep.decode(frames, method=method, n_iter=n_iter, length=n, seed=seed)
        decode_seconds = time.perf_counter() - t0

        S_hat = np.abs(_phase.stft(np.asarray(y_hat, dtype=np.float32), n_fft=n_fft, hop_length=hop))
        S_hat = S_hat[:, : S.shape[1]].astype(np.float32)
        row["sc_db"] = float(_metrics.spectral_convergence(S, S_hat))
        row["lsd_db"] = float(_metrics.log_spectral_distance(S, S_hat))
        row["sc_mel_db"] = None
        row["ceiling_sc_db"] = None
        if rep_name == "mel":
            M = rep.mel(S)
            row["sc_mel_db"] = float(_metrics.spectral_convergence(M, rep.mel(S_hat)))
            if key not in ceilings:
                ceilings[key] = float(_metrics.spectral_convergence(S, rep.to_linear(frames)))
            row["ceiling_sc_db"] = ceilings[key]
        seconds = encode_seconds + decode_seconds
        n_frames, n_features = frames.shape
        row.update(
            encode_seconds=encode_seconds,
            decode_seconds=decode_seconds,
            seconds=seconds,
            real_time_factor=(n / sr) / seconds if seconds > 0 else math.inf,
            n_frames=int(n_frames),
            n_features=int(n_features),
            nbytes=int(4 * n_frames * n_features),
            kbytes_per_second=4 * n_frames * n_features / (n / sr) / 1000,
            frames_per_second=sr / hop,
        )
        if keep_audio:
            row["audio"] = np.asarray(y_hat, dtype=np.float32)
    return rows


# ------------------------------------------------------------------------------------------------
# error against iterations
# ------------------------------------------------------------------------------------------------
#: How :func:`musiclib.phase.reconstruct` runs the Griffin-Lim family: (momentum, initial phase).
def iteration_curve(
    y: np.ndarray,
    *,
    sr: int,
    n_fft: int = 1024,
    methods=None,
    n_iters=(0, 4, 8, 16, 32, 64),
    hop_fraction: float = 0.25,
    seed: int = 0,
    progress: bool = True,
) -> list[dict]:
    """Spectral convergence of a linear-magnitude reconstruction against the number of iterations.

    Parameters
    ----------
    y : np.ndarray [shape=(n_samples,)]
        The excerpt, mono, not silent.
    sr : int
        Sample rate in Hz (recorded in the rows).
    n_fft : int
        Window length in samples (power of two >= 16); hop ``round(n_fft * hop_fraction)``.
    methods : sequence of str, optional
        Phase methods from :data:`musiclib.phase.METHODS` (default all).
    n_iters : sequence of int
        Iteration counts to report, >= 0.
    hop_fraction, seed, progress :
        As :func:`sweep_settings`.

    Returns
    -------
    curve : list of dict
        One row per (method, n_iter) with ``method``, ``n_iter``, ``n_fft``, ``hop_length``,
        ``sc_db``, ``lsd_db`` and ``seconds`` (wall time of that reconstruction).

    Notes
    -----
    Every row is exactly what ``decode(..., n_iter=k)`` gives: each count is its own run of
    :func:`musiclib.phase.reconstruct`. ``"pghi"``, which does not iterate, runs once in all (its
    rows repeat that value, marked ``iterative=False``).

    Notebook: 01_spectrogram_settings
    """
    func = "iteration_curve"
    y = _check_signal(y, func=func)
    sr = _check_sr(func, sr)
    (n_fft,) = _check_int_tuple(func, "n_fft", (n_fft,), minimum=16, pow2=True)
    if n_fft > len(y):
        raise ParameterError(f"{func}() called with n_fft={n_fft}, longer than the signal ({len(y)} samples)")
    methods = _check_methods(func, methods)
    n_iters = sorted(_check_int_tuple(func, "n_iters", n_iters, minimum=0))
    if isinstance(hop_fraction, bool) or not isinstance(hop_fraction, numbers.Real) or not 0 < hop_fraction <= 1:
        raise ParameterError(f"{func}() called with hop_fraction={hop_fraction!r}: must lie in (0, 1]")
    seed = _check_int(func, "seed", seed, minimum=0)
    hop = _hop(n_fft, hop_fraction)
    n = len(y)
    S = np.abs(_phase.stft(y, n_fft=n_fft, hop_length=hop)).astype(np.float32)

    def measure(y_hat):
        S_hat = np.abs(_phase.stft(np.asarray(y_hat, dtype=np.float32), n_fft=n_fft, hop_length=hop))[:, : S.shape[1]]
        return float(_metrics.spectral_convergence(S, S_hat)), float(_metrics.log_spectral_distance(S, S_hat))

    curve = []
    for method in _progress(methods, enabled=progress, total=len(methods), desc="iteration curve"):
        base = {"method": method, "n_fft": n_fft, "hop_length": hop, "sr": sr, "iterative": method != "pghi"}
        if method == "pghi":
            t0 = time.perf_counter()
            y_hat = _phase.reconstruct(S, method=method, n_iter=0, hop_length=hop, length=n, seed=seed)
            seconds = time.perf_counter() - t0
            sc, lsd = measure(y_hat)
            curve += [dict(base, n_iter=k, sc_db=sc, lsd_db=lsd, seconds=seconds) for k in n_iters]
            continue
        for k in n_iters:  # one run per count: a few ms per iteration, and exactly what decode gives
            t0 = time.perf_counter()
            y_hat = _phase.reconstruct(S, method=method, n_iter=k, hop_length=hop, length=n, seed=seed)
            seconds = time.perf_counter() - t0
            sc, lsd = measure(y_hat)
            curve.append(dict(base, n_iter=k, sc_db=sc, lsd_db=lsd, seconds=seconds))
    return curve


# ------------------------------------------------------------------------------------------------
# the recommendation
# ------------------------------------------------------------------------------------------------
def _ran(rows):
    return [r for r in rows if not r.get("skipped") and r.get("sc_db") is not None]


def recommend(
    rows: list[dict],
    *,
    max_seconds_per_second: float | None = 0.1,
    max_kbytes_per_second: float | None = None,
    max_features: int | None = 513,
    representations=None,
    tolerance_db: float = 1.0,
) -> dict:
    """Pick a setting by a stated rule: the best spectral convergence within time and size budgets.

    Rule: keep the rows that ran, whose representation is allowed, whose compute time per second
    of audio (``seconds / audio_seconds``) is at most ``max_seconds_per_second``, whose frames
    have at most ``max_features`` features (the width a model must predict per frame) and take
    at most ``max_kbytes_per_second`` kB per second of audio. Among those, take every row whose
    ``sc_db`` is within ``tolerance_db`` of the best, and of these the fastest: differences
    smaller than the tolerance are not audible and not reliable on a busy machine.

    Parameters
    ----------
    rows : list of dict
        Rows from :func:`sweep_settings` (skipped rows are ignored).
    max_seconds_per_second : float, optional
        Time budget: compute seconds (encode + decode) per second of audio; 0.1 means at least
        10× faster than real time. None: no limit.
    max_kbytes_per_second : float, optional
        Size budget in kB (float32 frames) per second of audio; None: no limit.
    max_features : int, optional
        Most features per frame; None: no limit.
    representations : sequence of str, optional
        Only consider these representations (e.g. ``("mel",)`` for a compact alternative).
    tolerance_db : float
        SC differences below this many dB count as ties, broken by speed.

    Returns
    -------
    dict
        ``setting`` (the chosen row), ``reason`` (the rule and the numbers, as text),
        ``n_candidates`` (rows within budget), ``runner_up`` (the best row within budget that
        differs in representation or window, or None).

    Raises
    ------
    ParameterError
        For bad budgets, or when no row fits the budgets (the message says which budgets and the
        closest rows).

    Notes
    -----
    Notebook: 01_spectrogram_settings
    """
    func = "recommend"
    if not isinstance(rows, (list, tuple)):
        raise ParameterError(f"{func}() needs the list of rows from sweep_settings(), got {type(rows).__name__}")

    def _pos(name, value, allow_none):
        if value is None and allow_none:
            return None
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not value > 0 or not math.isfinite(value):
            raise ParameterError(f"{func}() called with {name}={value!r}: must be a positive finite number")
        return float(value)

    max_sps = _pos("max_seconds_per_second", max_seconds_per_second, True)
    max_kbps = _pos("max_kbytes_per_second", max_kbytes_per_second, True)
    if max_features is not None:
        max_features = _check_int(func, "max_features", max_features, minimum=1)
    if isinstance(tolerance_db, bool) or not isinstance(tolerance_db, numbers.Real) or not tolerance_db >= 0:
        raise ParameterError(f"{func}() called with tolerance_db={tolerance_db!r}: must be a number >= 0")
    if isinstance(representations, str):
        representations = (representations,)

    ran = _ran(rows)
    if not ran:
        raise ParameterError(f"{func}() got no rows that ran ({len(rows)} rows, all skipped or empty)")
    fits = []
    for r in ran:
        if representations is not None and r["representation"] not in representations:
            continue
        if max_sps is not None and r["seconds"] / r["audio_seconds"] > max_sps:
            continue
        if max_features is not None and r["n_features"] > max_features:
            continue
        if max_kbps is not None and r["kbytes_per_second"] > max_kbps:
            continue
        fits.append(r)
    parts = []
    if max_sps is not None:
        parts.append(f"at most {max_sps:g} s of compute per second of audio ({1 / max_sps:g}× real time)")
    if max_features is not None:
        parts.append(f"at most {max_features} features per frame")
    if max_kbps is not None:
        parts.append(f"at most {max_kbps:g} kB per second of audio")
    if representations is not None:
        parts.append(f"representation in {tuple(representations)}")
    budgets = ", ".join(parts) or "no budgets"
    if not fits:
        fastest = min(ran, key=lambda r: r["seconds"])
        raise ParameterError(
            f"{func}(): none of the {len(ran)} settings fits the budgets ({budgets}); the fastest, "
            f"{fastest['label']}, took {fastest['seconds'] / fastest['audio_seconds']:.3f} s per second of audio"
        )
    best_sc = min(r["sc_db"] for r in fits)
    ties = [r for r in fits if r["sc_db"] <= best_sc + tolerance_db]
    choice = min(ties, key=lambda r: (r["seconds"], r["sc_db"]))
    others = [
        r for r in fits if (r["representation"], r["n_fft"], r["n_mels"]) != (choice["representation"], choice["n_fft"], choice["n_mels"])
    ]
    runner_up = min(others, key=lambda r: r["sc_db"]) if others else None

    def _desc(r):
        text = (
            f"{r['representation']}"
            + (f" with {r['n_mels']} bands" if r["n_mels"] else "")
            + f", n_fft={r['n_fft']} ({1000 * r['n_fft'] / r['sr']:.1f} ms), hop_length={r['hop_length']}"
            + f", phase {r['method']} with {r['n_iter']} iterations"
        )
        nums = (
            f"SC {r['sc_db']:.1f} dB, LSD {r['lsd_db']:.1f} dB"
            + (f" (mel-domain SC {r['sc_mel_db']:.1f} dB, ceiling {r['ceiling_sc_db']:.1f} dB)" if r["n_mels"] else "")
            + f", {r['seconds']:.2f} s for {r['audio_seconds']:.1f} s of audio ({r['real_time_factor']:.0f}× real time)"
            + f", {r['n_features']} features × {r['frames_per_second']:.1f} frames/s = {r['kbytes_per_second']:.0f} kB/s"
        )
        return text, nums

    text, nums = _desc(choice)
    reason = (
        f"Rule: best spectral convergence among the {len(fits)} of {len(ran)} settings within the budgets "
        f"({budgets}); settings within {tolerance_db:g} dB of the best count as ties, and the fastest tie wins. "
        f"Chosen: {text}: {nums}. Best SC within budget: {best_sc:.1f} dB ({len(ties)} tie(s))."
    )
    if runner_up is not None:
        rtext, rnums = _desc(runner_up)
        reason += f" Runner-up with another window or representation: {rtext}: {rnums}."
    return {"setting": choice, "reason": reason, "n_candidates": len(fits), "runner_up": runner_up}


# ------------------------------------------------------------------------------------------------
# tables and plots
# ------------------------------------------------------------------------------------------------
def _fmt(value):
    if value is None:
        return "–"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real):
        v = float(value)
        if not math.isfinite(v):
            return str(v)
        if abs(v) >= 100:
            return f"{v:.0f}"
        if abs(v) >= 1:
            return f"{v:.2f}" if abs(v) < 10 else f"{v:.1f}"
        return f"{v:.3f}"
    return str(value)


class Table:
    """A small table that renders as HTML in a notebook and as aligned text elsewhere."""

    def __init__(self, columns, cells, *, title=None):
        self.columns = list(columns)
        self.cells = [list(c) for c in cells]
        self.title = title

    def __len__(self):
        return len(self.cells)

    def _repr_html_(self):
        head = "".join(f"<th>{html.escape(c)}</th>" for c in self.columns)
        body = "".join(
            "<tr>" + "".join(f"<td>{html.escape(v)}</td>" for v in row) + "</tr>" for row in self.cells
        )
        caption = f"<caption>{html.escape(self.title)}</caption>" if self.title else ""
        return f'<table class="musiclib-table">{caption}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'

    def __str__(self):
        widths = [max([len(c)] + [len(row[i]) for row in self.cells]) for i, c in enumerate(self.columns)]
        lines = [self.title] if self.title else []
        lines.append("  ".join(c.rjust(w) for c, w in zip(self.columns, widths)))
        lines.extend("  ".join(v.rjust(w) for v, w in zip(row, widths)) for row in self.cells)
        return "\n".join(lines)

    __repr__ = __str__


def rows_to_table(rows: list[dict], columns=DEFAULT_COLUMNS, *, title: str | None = None, skipped: bool = True) -> Table:
    """A table of sweep rows: HTML in a notebook (``display(table)``), aligned text with ``print``.

    Parameters
    ----------
    rows : list of dict
        Rows from :func:`sweep_settings` or :func:`iteration_curve`.
    columns : sequence of str
        Keys to show, in order; a key a row lacks shows as "–".
    title : str, optional
        Caption.
    skipped : bool
        Also list skipped settings, with the reason in the last column.

    Returns
    -------
    Table
        With ``_repr_html_`` and ``__str__``.

    Notes
    -----
    Notebook: 01_spectrogram_settings
    """
    if isinstance(columns, str) or not all(isinstance(c, str) for c in columns):
        raise ParameterError(f"rows_to_table() called with columns={columns!r}: must be a sequence of key names")
    columns = list(columns)
    shown = [r for r in rows if skipped or not r.get("skipped")]
    if any(r.get("skipped") for r in shown):
        columns = columns + ["skipped"]
    cells = [[_fmt(r.get(c)) for c in columns] for r in shown]
    return Table(columns, cells, title=title)


def _series(rows):
    """Group ran rows into plot series keyed by (representation, n_mels, method, n_iter)."""
    groups: dict[tuple, list[dict]] = {}
    for r in _ran(rows):
        groups.setdefault((r["representation"], r["n_mels"], r["method"], r["n_iter"]), []).append(r)
    return {k: sorted(v, key=lambda r: r["n_fft"]) for k, v in groups.items()}


def _series_label(key):
    rep, n_mel, method, n_iter = key
    return (f"mel{n_mel}" if n_mel else rep) + f" {method}×{n_iter}"


def plot_tradeoffs(rows: list[dict], *, axes=None):
    """Three panels against window length: error (SC, with the mel ceilings dashed), time, size.

    Parameters
    ----------
    rows : list of dict
        Rows from :func:`sweep_settings`; one line per (representation, n_mels, method, n_iter)
        that ran at two or more windows (single points are drawn as markers).
    axes : sequence of 3 matplotlib Axes, optional
        Where to draw; a new 1×3 figure when None.

    Returns
    -------
    axes : np.ndarray of 3 Axes

    Notes
    -----
    Notebook: 01_spectrogram_settings
    """
    import matplotlib.pyplot as plt

    if axes is None:
        _, axes = plt.subplots(1, 3, figsize=(15, 4.2), constrained_layout=True)
    axes = np.asarray(axes).ravel()
    if axes.size != 3:
        raise ParameterError(f"plot_tradeoffs() needs 3 axes, got {axes.size}")
    ax_err, ax_time, ax_size = axes
    series = _series(rows)
    for i, (key, rs) in enumerate(series.items()):
        x = [r["n_fft"] for r in rs]
        color = f"C{i % 10}"
        kw = dict(marker="o", ms=3, color=color, label=_series_label(key))
        ax_err.plot(x, [r["sc_db"] for r in rs], **kw)
        if key[1]:
            ax_err.plot(x, [r["ceiling_sc_db"] for r in rs], ls="--", lw=1, marker="_", ms=8, color=color)
        ax_time.plot(x, [r["seconds"] / r["audio_seconds"] for r in rs], **kw)
        ax_size.plot(x, [r["kbytes_per_second"] for r in rs], **kw)
    ax_err.set(ylabel="spectral convergence vs true |STFT| (dB)", title="error (dashed: mel ceiling, no phase)")
    ax_time.set(ylabel="compute s per s of audio", title="time (encode + decode)", yscale="log")
    ax_size.set(ylabel="kB per s of audio (float32 frames)", title="size", yscale="log")
    for ax in axes:
        ax.set_xscale("log", base=2)
        ax.set_xlabel("window n_fft (samples)")
        ax.grid(True, which="major", alpha=0.3)
    if series:
        ax_err.legend(fontsize=7, ncol=1)
    return axes


def plot_iteration_curve(curve: list[dict], *, ax=None):
    """Spectral convergence against phase iterations, one line per method.

    Parameters
    ----------
    curve : list of dict
        Rows from :func:`iteration_curve`.
    ax : matplotlib Axes, optional
        Where to draw; a new figure when None.

    Returns
    -------
    ax : matplotlib Axes

    Notes
    -----
    Notebook: 01_spectrogram_settings
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4), constrained_layout=True)
    methods = list(dict.fromkeys(r["method"] for r in curve))
    for i, m in enumerate(methods):
        rs = sorted((r for r in curve if r["method"] == m), key=lambda r: r["n_iter"])
        ax.plot([r["n_iter"] for r in rs], [r["sc_db"] for r in rs], marker="o", ms=3, color=f"C{i % 10}", label=m)
    n_fft = curve[0]["n_fft"] if curve else None
    ax.set(
        xlabel="phase iterations",
        ylabel="spectral convergence (dB)",
        title=f"error vs iterations (n_fft={n_fft})" if n_fft else "error vs iterations",
    )
    ax.set_xscale("symlog", base=2, linthresh=4)
    ax.grid(True, alpha=0.3)
    if methods:
        ax.legend(fontsize=8)
    return ax
