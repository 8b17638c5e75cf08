"""Generation: autoregressive roll-out, temperature, a stability guard, continuation, frames to audio.

Any model that follows the protocol of :mod:`musiclib.models` can be rolled out (notebooks
02_linear_regression, 03_trees): ``frames = rollout(model, prime, n_frames=860, guard=guard,
scaler=scaler, seed=0)``, then ``y = frames_to_audio(frames, rep)``. The same ``seed`` gives the
same frames; a roll-out never emits NaN or infinity (:class:`RolloutError`); the
:class:`StabilityGuard` acts in the representation's units as a smooth gain in the log domain, never
as hard clipping; :func:`frames_to_audio` inverts with cheaper settings than ``rep.decode``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from musiclib.errors import (MAX_SAMPLES, MusiclibError, ParameterError, check_duration, check_int,
                             check_number, check_positive)
from musiclib.framing import Framing

__all__ = [
    "DEFAULT_REPRESENTATION",
    "GENERATION_INVERSION",
    "default_representation",
    "RolloutError",
    "StabilityGuard",
    "soft_limit",
    "rollout",
    "continue_clock",
    "clock_beats",
    "generate_clips",
    "frames_to_audio",
    "continue_audio",
    "mean_frame_change_db",
    "frame_energy_db",
]

#: The generation notebooks' representation: a log-frequency filter bank in dB (209 features, 86 frames
#: per second), the best decode ceiling within the series' budgets (``notebooks/01_spectrogram_settings``).
DEFAULT_REPRESENTATION = {"name": "logfreq", "n_fft": 1024, "hop_length": 256, "bins_per_octave": 48, "scale": "db"}

#: Inversion settings :func:`frames_to_audio` uses by default: PGHI phase, 4 fast Griffin-Lim
#: iterations, 10 NNLS updates for filter banks (quality and speed: ``benchmarks/generate.py``).
GENERATION_INVERSION = {"method": "pghi+fgla", "n_iter": 4, "nnls_iter": 10}


def default_representation():
    """The :data:`DEFAULT_REPRESENTATION` as a representation object."""
    from musiclib.representations import from_params

    return from_params(DEFAULT_REPRESENTATION)


class RolloutError(MusiclibError):
    """A model produced NaN or infinity during a roll-out.

    Attributes
    ----------
    frames : np.ndarray [shape=(step, n_features)]
        The finite frames generated before the failure (in the roll-out's output space).
    step : int
        Index of the frame that failed.
    """

    def __init__(self, message, *, frames, step):
        super().__init__(message)
        self.frames = frames
        self.step = step


def soft_limit(e, *, low=None, high=None, knee: float = 3.0):
    """Smoothly limit ``e`` towards ``[low, high]``: identity well inside, asymptotes at the bounds.

    ``e1 = e - knee * softplus((e - high) / knee)``, then ``e2 = e1 + knee * softplus((low - e1) / knee)``:
    smooth and 1-Lipschitz, within the bounds up to ``knee * log(2)``.

    Parameters
    ----------
    e : float or np.ndarray
    low, high : float or np.ndarray broadcastable to ``e``, optional
        None: not applied.
    knee : float >= 0
        Width of the transition, in the units of ``e`` (dB for the guard); 0 clips hard at the bounds.
    """
    knee = check_number("knee", knee, low=0)
    e = np.asarray(e, dtype=np.float64)
    if knee == 0:
        return np.clip(e, low, high) if (low is not None or high is not None) else e
    if high is not None:
        e = e - knee * np.logaddexp(0.0, (e - high) / knee)
    if low is not None:
        e = e + knee * np.logaddexp(0.0, (low - e) / knee)
    return e


def _domain_of(rep) -> tuple[str, float]:
    name = getattr(rep, "name", None)
    scale = getattr(rep, "scale", None)
    if name in ("mel", "log", "logfreq") and scale == "db":
        return "db", 1.0
    if name == "log" and scale == "log1p":
        return "log1p", float(rep.gain)
    if name in ("linear", "mel", "logfreq"):
        return "magnitude", 1.0
    if name in ("dct", "raw"):
        return "signed", 1.0
    raise ParameterError(f"StabilityGuard does not know the domain of representation {name!r} (scale={scale!r})")


_LN10_10 = np.log(10.0) / 10.0


def frame_energy_db(frames, *, domain: str = "db", log1p_gain: float = 1.0) -> np.ndarray:
    """Per-frame energy in dB ``[shape=(n_frames,)]``: ``10 log10(mean over features of power)``.

    ``domain`` says what the values are: ``"db"`` (magnitude in dB, power ``10**(x/10)``; computed as
    a log-sum-exp, so it stays finite for any finite input), ``"log1p"``, ``"magnitude"`` or
    ``"signed"`` (power ``x**2``).
    """
    x = np.atleast_2d(np.asarray(frames, dtype=np.float64))
    if domain == "db":
        z = x * _LN10_10
        m = z.max(axis=1, keepdims=True)
        lse = m[:, 0] + np.log(np.exp(z - m).mean(axis=1))
        return lse / _LN10_10
    if domain == "log1p":
        mag = np.expm1(np.maximum(x, 0.0)) / log1p_gain
        return 10 * np.log10(np.mean(mag * mag, axis=1) + 1e-20)
    if domain in ("magnitude", "signed"):
        return 10 * np.log10(np.mean(x * x, axis=1) + 1e-20)
    raise ParameterError(f"domain={domain!r} must be 'db', 'log1p', 'magnitude' or 'signed'")


@dataclass
class StabilityGuard:
    """Keep generated frames inside the energy range of the training data, smoothly.

    Each frame (in the representation's units) gets the gain
    ``soft_limit(e, low=low, high=high, knee=knee) - e`` dB on its energy ``e``
    (:func:`frame_energy_db`), then per-feature soft bounds (for ``"magnitude"``/``"signed"`` an
    upper one on ``20 log10|x|``). Both are smooth and 1-Lipschitz in the log domain, so the guard
    never makes a frame-to-frame change larger (no clicks). The parameters are public so that a
    compiled roll-out can replicate the guard.

    Parameters
    ----------
    low, high : float
        Energy range in dB (:meth:`fit`: percentiles of the training frames' energies).
    knee : float
        Softness of the energy limit, dB.
    feature_low, feature_high : np.ndarray [shape=(n_features,)] or None
        Per-feature bounds in the values' units (dB for ``"magnitude"``/``"signed"``, which ignore
        ``feature_low``).
    feature_knee : float
    domain : {"db", "log1p", "magnitude", "signed"}
    log1p_gain : float
        The representation's ``gain`` for ``domain="log1p"``.
    enabled : bool
        False: frames pass through unchanged.
    """

    low: float
    high: float
    knee: float = 3.0
    feature_low: np.ndarray | None = None
    feature_high: np.ndarray | None = None
    feature_knee: float = 3.0
    domain: str = "db"
    log1p_gain: float = 1.0
    enabled: bool = True

    def __post_init__(self):
        if self.domain not in ("db", "log1p", "magnitude", "signed"):
            raise ParameterError(f"domain={self.domain!r} must be 'db', 'log1p', 'magnitude' or 'signed'")
        if not (np.isfinite(self.low) and np.isfinite(self.high) and self.low < self.high):
            raise ParameterError(f"need finite low < high, got low={self.low}, high={self.high}")
        for name in ("feature_low", "feature_high"):
            v = getattr(self, name)
            if v is not None:
                setattr(self, name, np.asarray(v, dtype=np.float32))
        if not (self.knee > 0 and self.feature_knee > 0):
            raise ParameterError(f"knee={self.knee} and feature_knee={self.feature_knee} must be > 0")

    @classmethod
    def fit(cls, frames, rep, *, percentiles=(0.5, 99.5), knee: float = 3.0, feature_margin: float = 6.0,
            feature_knee: float = 3.0, enabled: bool = True) -> "StabilityGuard":
        """Fit the ranges on training frames (representation units).

        Parameters
        ----------
        frames : np.ndarray [shape=(n_frames, n_features)] or list of them
        rep : Representation
        percentiles : (float, float)
            Energy percentiles that become ``low`` and ``high``.
        feature_margin : float
            Added beyond each feature's training min/max (dB, or value units for ``log1p``).
        """
        if isinstance(frames, (list, tuple)):
            frames = np.concatenate([np.asarray(f) for f in frames])
        frames = np.asarray(frames, dtype=np.float64)
        if frames.ndim != 2 or len(frames) < 2 or not np.all(np.isfinite(frames)):
            raise ParameterError(f"StabilityGuard.fit needs finite frames of shape (n >= 2, n_features), got {frames.shape}")
        domain, g = _domain_of(rep)
        e = frame_energy_db(frames, domain=domain, log1p_gain=g)
        low, high = np.percentile(e, percentiles)
        if high - low < 1.0:
            low, high = low - 0.5, high + 0.5
        if domain in ("db", "log1p"):
            flo, fhi = frames.min(axis=0) - feature_margin, frames.max(axis=0) + feature_margin
        else:
            flo, fhi = None, 20 * np.log10(np.abs(frames).max(axis=0) + 1e-10) + feature_margin
        return cls(low=float(low), high=float(high), knee=float(knee), feature_low=flo, feature_high=fhi,
                   feature_knee=float(feature_knee), domain=domain, log1p_gain=g, enabled=enabled)

    def energy(self, frames) -> np.ndarray:
        """Per-frame energy in dB, as the guard measures it."""
        return frame_energy_db(frames, domain=self.domain, log1p_gain=self.log1p_gain)

    def gain_db(self, frames) -> np.ndarray:
        """The frame gain in dB ``[shape=(n_frames,)]``."""
        e = self.energy(frames)
        return soft_limit(e, low=self.low, high=self.high, knee=self.knee) - e

    def __call__(self, frames) -> np.ndarray:
        """Guarded frames, float32, same shape as given (1-D: one frame)."""
        x = np.asarray(frames)
        if not self.enabled:
            return x
        one = x.ndim == 1
        x = np.atleast_2d(x).astype(np.float32)
        d = self.domain
        k = np.float32(self.feature_knee)
        if d == "db":
            # energy by log-sum-exp of the dB values, then a soft limit: all in a few passes
            z = x * np.float32(_LN10_10)
            m = z.max(axis=1, keepdims=True)
            z -= m
            np.exp(z, out=z)
            e = (m[:, 0] + np.log(z.mean(axis=1))) / _LN10_10
            g = (soft_limit(e, low=self.low, high=self.high, knee=self.knee) - e).astype(np.float32)
            x += g[:, None]
            # per-feature soft bounds, in place
            if self.feature_high is not None:
                t = (x - self.feature_high) / k
                x -= k * np.logaddexp(np.float32(0), t)
            if self.feature_low is not None:
                t = (self.feature_low - x) / k
                x += k * np.logaddexp(np.float32(0), t)
        else:
            x = x.astype(np.float64)
            g = self.gain_db(x)[:, None]
            if d == "log1p":
                x = np.log1p(np.expm1(np.maximum(x, 0.0)) * 10 ** (g / 20))
                x = soft_limit(x, low=self.feature_low, high=self.feature_high, knee=self.feature_knee)
            else:
                x = x * 10 ** (g / 20)
                if self.feature_high is not None:
                    lv = 20 * np.log10(np.abs(x) + 1e-20)
                    x = x * 10 ** ((soft_limit(lv, high=self.feature_high, knee=self.feature_knee) - lv) / 20)
            x = x.astype(np.float32)
        return x[0] if one else x

    def to_dict(self) -> dict:
        """Every parameter, JSON-able (arrays as lists)."""
        names = ("low", "high", "knee", "feature_knee", "domain", "log1p_gain", "enabled")
        out = {k: getattr(self, k) for k in names}
        for k in ("feature_low", "feature_high"):
            v = getattr(self, k)
            out[k] = None if v is None else np.asarray(v, dtype=float).tolist()
        return out


# ---------------------------------------------------------------------------------------------
# roll-out


def _context_of(model, framing):
    if framing is not None:
        if isinstance(framing, (int, np.integer)):
            return Framing(context=int(framing))
        if not isinstance(framing, Framing):
            raise ParameterError(f"framing={framing!r} must be a Framing or an int (context frames)")
        return framing
    f = getattr(model, "framing", None)
    if isinstance(f, Framing):
        return f
    c = getattr(model, "n_context_", None)
    if c is None:
        raise ParameterError(
            f"cannot tell the context length of {type(model).__name__}: pass framing= (a Framing or an int)"
        )
    return Framing(context=int(c))


def _check_n_frames(n_frames, n_features: int) -> int:
    """``n_frames`` as an int whose ``(n_frames, n_features)`` float32 buffer stays within :data:`MAX_SAMPLES` values."""
    n_features = max(int(n_features), 1)
    return check_int("n_frames", n_frames, low=1, high=MAX_SAMPLES // n_features,
                     note=f"at most {MAX_SAMPLES // n_features} frames of {n_features} features")


def _check_clock(clock, *, n_total: int) -> np.ndarray:
    clock = np.asarray(clock, dtype=np.float32)
    if clock.shape != (n_total, 4) or not np.all(np.isfinite(clock)):
        raise ParameterError(
            f"clock must be finite beat and bar phases of shape (len(prime) + n_frames, 4) = ({n_total}, 4) "
            f"(e.g. musiclib.beats.clock(n_frames={n_total}, ...)), got shape {clock.shape}"
        )
    return clock


def _unscaled(frames, scaler):
    return np.asarray(scaler.inverse_transform(frames), dtype=np.float32) if scaler is not None else frames.copy()


def _delegated_rollout(model, z_prime, *, n_frames, temperature, guard, seed, scaler, clock):
    """A model with its own (compiled) roll-out makes every frame; check what it gives back."""
    kwargs = {} if clock is None else {"clock": _check_clock(clock, n_total=len(z_prime) + n_frames)}
    out = np.asarray(model.rollout(z_prime, n_frames=int(n_frames), temperature=float(temperature), guard=guard,
                                   seed=seed, scaler=scaler, **kwargs), dtype=np.float32)
    if out.shape != (n_frames, z_prime.shape[1]):
        raise ParameterError(
            f"{type(model).__name__}.rollout returned shape {out.shape}, expected {(n_frames, z_prime.shape[1])}")
    bad = ~np.all(np.isfinite(out), axis=1)
    if np.any(bad):
        step = int(np.argmax(bad))
        raise RolloutError(f"{type(model).__name__}.rollout returned NaN/inf at frame {step}",
                           frames=_unscaled(out[:step], scaler), step=step)
    return _unscaled(out, scaler)


def _clock_rows(framing, clock, *, n_prime, n_frames, n_features):
    """The clock rows of every frame to generate ``[shape=(n_frames, rows, n_features)]`` (None: no clock)."""
    if not framing.clock:
        if clock is not None:
            raise ParameterError("clock= was given but the model's framing has no clock (Framing(clock=False))")
        return None
    if clock is None:
        raise ParameterError(
            "the model reads a clock (Framing(clock=True)): pass clock= with the phase of every frame, e.g. "
            "musiclib.beats.clock(n_frames=len(prime) + n_frames, bpm=..., frames_per_second=rep.frames_per_second)"
        )
    clock = _check_clock(clock, n_total=n_prime + n_frames)
    return framing.clock_rows(clock[n_prime:], n_features)


def _residual_noise(model, residuals, *, n_frames, n_features, temperature, rng):
    """``temperature`` x a training residual row for each step (None for models that sample)."""
    if getattr(model, "sample", None) is not None or temperature == 0:
        return None
    res = residuals if residuals is not None else getattr(model, "residuals_", None)
    if res is None:
        return None
    res = np.asarray(res, dtype=np.float32)
    if res.ndim != 2 or res.shape[1] != n_features or len(res) == 0:
        raise ParameterError(f"residuals must have shape (m, {n_features}), got {res.shape}")
    return res[rng.integers(len(res), size=n_frames)] * np.float32(temperature)


def _affine(fn, n_in: int, rng):
    """``(A, b)`` with ``fn(x) == x @ A + b`` if ``fn`` is affine (a scaler, a PCA), checked on a random input; else None."""
    try:
        b = np.asarray(fn(np.zeros((1, n_in), np.float32)), dtype=np.float64)[0]
        A = np.asarray(fn(np.eye(n_in, dtype=np.float32)), dtype=np.float64) - b
        x = rng.standard_normal((2, n_in)).astype(np.float32)
        if np.allclose(np.asarray(fn(x), dtype=np.float64), x @ A + b, rtol=1e-4, atol=1e-4):
            return A.astype(np.float32), b.astype(np.float32)
    except (ValueError, TypeError):
        pass
    return None


def _guard_step(guard, scaler, n_features):
    """One frame ``(F,)`` in the model's space -> guarded in representation units -> back (None: no guard)."""
    if guard is None or not guard.enabled:
        return None
    if scaler is None:
        return guard
    probe = np.random.default_rng(0)
    n_rep = np.asarray(scaler.inverse_transform(np.zeros((1, n_features), np.float32))).shape[1]
    inverse = _affine(scaler.inverse_transform, n_features, probe)
    forward = _affine(scaler.transform, n_rep, probe)
    if inverse is None or forward is None:  # any other transformer: its own methods, step by step
        return lambda y: np.asarray(scaler.transform(guard(scaler.inverse_transform(y[None]))), np.float32)[0]
    (Ai, bi), (Af, bf) = inverse, forward
    return lambda y: guard(y @ Ai + bi) @ Af + bf


def continue_clock(prime_phase, *, n_frames: int, bpm: float, frames_per_second: float,
                   beats_per_bar: int = 4) -> np.ndarray:
    """A roll-out's clock: the prime's own beat and bar phase, then a steady clock that goes on from it.

    Parameters
    ----------
    prime_phase : np.ndarray [shape=(n_prime, 4)]
        The prime frames' phase (:func:`musiclib.beats.beat_phase` or :func:`musiclib.beats.clock`).
    n_frames : int
        Frames to generate after the prime.
    bpm : float
        Tempo of the clock after the prime.
    frames_per_second : float
    beats_per_bar : int

    Returns
    -------
    np.ndarray [shape=(n_prime + n_frames, 4)], float32
        :func:`rollout`'s ``clock=``: the prime's phase, then :func:`musiclib.beats.clock` on from it.
    """
    from musiclib.beats import clock

    n_frames = _check_n_frames(n_frames, 4)
    p = np.asarray(prime_phase, dtype=np.float64)
    if p.ndim != 2 or p.shape[1] != 4 or len(p) < 1 or not np.all(np.isfinite(p)):
        raise ParameterError(f"prime_phase must be finite phases of shape (n_prime >= 1, 4), got shape {p.shape}")
    position = beats_per_bar * (np.arctan2(p[-1, 2], p[-1, 3]) / (2 * np.pi) % 1.0)  # beats into the bar
    ahead = clock(n_frames=n_frames, bpm=bpm, frames_per_second=frames_per_second, beats_per_bar=beats_per_bar,
                  start_phase=position + bpm / 60.0 / frames_per_second)
    return np.concatenate([p.astype(np.float32), ahead])


def clock_beats(clock, *, frames_per_second: float) -> np.ndarray:
    """Times (s) of the beats of a clock: the frames where its beat phase passes zero.

    Parameters
    ----------
    clock : np.ndarray [shape=(n_frames, 4)]
        Beat and bar phase per frame (:func:`continue_clock`, :func:`musiclib.beats.clock`).
    frames_per_second : float

    Returns
    -------
    np.ndarray [shape=(n_beats,)]
        Seconds from the clock's first frame (e.g. for :func:`musiclib.display.plot_beats`).
    """
    c = np.asarray(clock, dtype=np.float64)
    if c.ndim != 2 or c.shape[1] != 4 or not np.all(np.isfinite(c)):
        raise ParameterError(f"clock must be finite phases of shape (n_frames, 4), got shape {c.shape}")
    position = np.unwrap(np.arctan2(c[:, 0], c[:, 1])) / (2 * np.pi)  # beats, increasing
    first = np.ceil(position[0] - 1e-6)
    marks = np.arange(first, position[-1] + 1e-9)
    return np.interp(marks, position, np.arange(len(c))) / frames_per_second


def generate_clips(model, primes, rep, *, seconds: float, temperature: float = 1.0, guard=None, scaler=None,
                   framing=None, seed: int = 0, bpm: float | None = None, prime_phases=None,
                   inversion: dict | None = None) -> tuple[list, list, dict]:
    """One clip per prime: :func:`rollout` (driving the clock when the model reads one), then :func:`frames_to_audio`.

    Parameters
    ----------
    model, temperature, guard, scaler, framing :
        As :func:`rollout`.
    primes : list of np.ndarray [shape=(n_prime_i, rep.n_features)]
        Frames to continue, representation units.
    rep : Representation
    seconds : float
        Audio to generate per clip, after its prime.
    seed : int
        Clip ``i`` uses ``seed + i``.
    bpm : float, optional
        The clock's tempo, for a model that reads a clock.
    prime_phases : list of np.ndarray [shape=(n_prime_i, 4)], optional
        Each prime's phase, which the clock continues (:func:`continue_clock`); default: the primes
        start on a downbeat.
    inversion : dict, optional
        Keyword arguments for :func:`frames_to_audio`.

    Returns
    -------
    clips : list of np.ndarray [shape=(round(seconds * rep.sr),)]
        Generated audio only.
    frames : list of np.ndarray [shape=(n_frames, rep.n_features)]
    info : dict
        ``rollout_s``, ``inversion_s``, ``rtf`` (audio seconds per second of both) and ``clocks``
        (each clip's clock, prime included, or None).
    """
    import time

    from musiclib.beats import clock as steady_clock

    seconds = check_duration("seconds", seconds, sr=rep.sr)
    if isinstance(primes, np.ndarray) and primes.ndim == 2:
        primes = [primes]
    if len(primes) == 0:
        raise ParameterError("generate_clips() needs at least one prime")
    fps = rep.frames_per_second
    n_frames = _check_n_frames(int(np.ceil(seconds * fps)) + 1, rep.n_features * 2)
    length = int(round(seconds * rep.sr))
    if prime_phases is not None and len(prime_phases) != len(primes):
        raise ParameterError(f"{len(prime_phases)} prime_phases for {len(primes)} primes")
    clips, frames, clocks, roll_s, inv_s = [], [], [], 0.0, 0.0
    for i, prime in enumerate(primes):
        clock = None
        if bpm is not None:
            phase = prime_phases[i] if prime_phases is not None else steady_clock(
                n_frames=len(prime), bpm=bpm, frames_per_second=fps)
            clock = continue_clock(phase, n_frames=n_frames, bpm=bpm, frames_per_second=fps)
        t0 = time.perf_counter()
        fr = rollout(model, prime, n_frames=n_frames, temperature=temperature, guard=guard, scaler=scaler,
                     framing=framing, seed=seed + i, progress=False, clock=clock)
        t1 = time.perf_counter()
        clips.append(frames_to_audio(fr, rep, length=length, seed=seed + i, **(inversion or {})))
        inv_s += time.perf_counter() - t1
        roll_s += t1 - t0
        frames.append(fr)
        clocks.append(clock)
    return clips, frames, {"rollout_s": roll_s, "inversion_s": inv_s, "rtf": seconds * len(clips) / (roll_s + inv_s),
                           "clocks": clocks}


def rollout(model, prime, *, n_frames: int, temperature: float = 1.0, guard: StabilityGuard | None = None,
            residuals=None, seed: int = 0, progress: bool = True, scaler=None, framing=None,
            clock=None) -> np.ndarray:
    """Generate ``n_frames`` frames autoregressively after ``prime``.

    Parameters
    ----------
    model : object
        Follows the protocol of :mod:`musiclib.models`. A model with a ``rollout`` method makes
        every frame itself: ``model.rollout(prime_z, n_frames=, temperature=, guard=, seed=,
        scaler=)`` (and ``clock=``), in the model's feature space.
    prime : np.ndarray [shape=(n_prime >= framing.history, n_features)]
        Frames to start from: representation units if ``scaler`` is given, else the model's space.
    n_frames : int >= 1
        New frames to generate.
    temperature : float >= 0
        ``sample(..., temperature=)`` for models that have it, else the scale of a random training
        residual row added to each prediction; 0: the point prediction.
    guard : StabilityGuard, optional
        Applied to every generated frame in representation units.
    residuals : np.ndarray [shape=(m, n_features)], optional
        Noise rows to draw from; default ``model.residuals_`` (no noise if neither exists).
    seed : int
    progress : bool
        Show a tqdm progress bar (roll-outs of 2000 frames or more).
    scaler : object with ``transform``/``inverse_transform``, optional
        Maps representation units to the model's space (:func:`musiclib.framing.frame_scaler`).
    framing : Framing or int, optional
        Default ``model.framing`` or ``Framing(context=model.n_context_)``.
    clock : np.ndarray [shape=(n_prime + n_frames, 4)], optional
        Beat and bar phase of every frame, prime included (:func:`continue_clock`,
        :func:`musiclib.beats.clock`); needed exactly when ``framing.clock``.

    Returns
    -------
    frames : np.ndarray [shape=(n_frames, n_features)], float32
        Only the new frames, never NaN or infinite.

    Raises
    ------
    RolloutError
        The model returned NaN or infinity.
    ParameterError
        Bad arguments (short prime, wrong widths, negative temperature, a missing or unwanted clock).
    """
    from tqdm.auto import tqdm

    check_number("temperature", temperature, low=0)
    prime = np.asarray(prime, dtype=np.float32)
    if prime.ndim != 2 or prime.shape[1] < 1 or not np.all(np.isfinite(prime)):
        raise ParameterError(
            f"prime must be finite frames of shape (n_prime, n_features), got shape {prime.shape}")
    _check_n_frames(n_frames, prime.shape[1] * 2)  # the buffer, and the scaled copy the result is made from
    z_prime = prime if scaler is None else np.asarray(scaler.transform(prime), dtype=np.float32)
    if callable(getattr(model, "rollout", None)):
        return _delegated_rollout(model, z_prime, n_frames=n_frames, temperature=temperature, guard=guard,
                                  seed=seed, scaler=scaler, clock=clock)

    framing = _context_of(model, framing)
    if len(prime) < framing.history:
        raise ParameterError(f"prime has {len(prime)} frames; the model needs at least {framing.history}")
    F = z_prime.shape[1]
    rng = np.random.default_rng(seed)
    clock_rows = _clock_rows(framing, clock, n_prime=len(prime), n_frames=n_frames, n_features=F)
    noise = _residual_noise(model, residuals, n_frames=n_frames, n_features=F, temperature=temperature, rng=rng)
    guarded = _guard_step(guard, scaler, F)
    sampler = getattr(model, "sample", None)

    h, c = framing.history, framing.context
    buf = np.empty((h + n_frames, F), dtype=np.float32)  # the last h prime frames, then each new frame
    buf[:h] = z_prime[len(z_prime) - h :]
    plain = not (framing.summary or framing.clock)
    quiet = not (progress and n_frames >= 2000)
    for t in tqdm(range(n_frames), desc="roll-out", mininterval=0.5, disable=quiet):
        pos = h + t
        if plain:
            x = buf[pos - c : pos][None]
        else:
            x = framing.window(buf[pos - h : pos], clock_rows=None if clock_rows is None else clock_rows[t])
        y = sampler(x, temperature=temperature, rng=rng) if sampler is not None else model.predict(x)
        y = np.asarray(y, dtype=np.float32).reshape(-1)
        if noise is not None:
            y = y + noise[t]
        if guarded is not None:
            y = np.asarray(guarded(y), dtype=np.float32)
        with np.errstate(over="ignore", invalid="ignore"):
            finite = np.isfinite(y.sum())  # one reduction: NaN/inf anywhere (or overflow) propagates
        if not finite:
            raise RolloutError(
                f"{type(model).__name__} returned NaN/inf at frame {t} of the roll-out "
                f"({'guard on' if guarded is not None else 'guard off'}): the recursion diverged; "
                "use a StabilityGuard, a lower temperature or a more regularised model",
                frames=_unscaled(buf[h:pos], scaler), step=t)
        buf[pos] = y
    return _unscaled(buf[h:], scaler)


def frames_to_audio(frames, rep, *, method: str = GENERATION_INVERSION["method"],
                    n_iter: int = GENERATION_INVERSION["n_iter"], nnls_iter: int = GENERATION_INVERSION["nnls_iter"],
                    length: int | None = None, seed: int = 0) -> np.ndarray:
    """Audio ``[shape=(n_samples,)]`` from frames of ``rep``, with the generation inversion settings.

    Parameters
    ----------
    frames : np.ndarray [shape=(n_frames, rep.n_features)]
    rep : Representation
    method, n_iter : str, int
        Phase reconstruction (:func:`musiclib.phase.reconstruct`).
    nnls_iter : int
        Filter-bank frames: NNLS updates of :func:`musiclib.representations.mel_to_linear`.
    length : int, optional
        Output length in samples (default ``hop_length * (n_frames - 1)``).
    seed : int

    Raises
    ------
    ParameterError
        Frames of the wrong width, or NaN/inf values.
    RolloutError
        Frames so large (> +200 dB) that the audio overflows (an unguarded blow-up).
    """
    frames = np.asarray(frames, dtype=np.float32)
    if frames.ndim != 2 or frames.shape[1] != rep.n_features or len(frames) < 1:
        raise ParameterError(f"frames must have shape (n_frames, {rep.n_features}), got {frames.shape}")
    if not np.all(np.isfinite(frames)):
        raise ParameterError(f"frames hold {int(np.count_nonzero(~np.isfinite(frames)))} NaN/inf values")
    hop = int(getattr(rep, "hop_length", 1))
    check_int("len(frames)", len(frames), high=MAX_SAMPLES // max(hop, 1), note=f"hop_length={hop}")
    length = check_int("length", length, high=MAX_SAMPLES, allow_none=True)
    kwargs = {"nnls_iter": nnls_iter} if hasattr(rep, "to_linear") else {}
    y = np.asarray(rep.decode(frames, method=method, n_iter=n_iter, length=length, seed=seed, **kwargs),
                   dtype=np.float32)
    if not np.all(np.isfinite(y)):  # finite frames within +200 dB decode to finite audio; never hand back NaN
        raise RolloutError(f"frames_to_audio: {int(np.count_nonzero(~np.isfinite(y)))} samples decoded to NaN/inf",
                           frames=frames, step=len(frames))
    return y


def continue_audio(model, rep, y, *, sr: int, start: float = 0.0, prime_seconds: float = 2.0, seconds: float = 5.0,
                   scaler=None, framing=None, guard: StabilityGuard | None = None, temperature: float = 1.0,
                   residuals=None, seed: int = 0, crossfade: float = 0.05, progress: bool = True,
                   inversion: dict | None = None, bpm: float | None = None, start_phase: float = 0.0) -> np.ndarray:
    """Continue a piece of audio: the original from ``start`` to the seam, then generated audio.

    The prime ``y[start : start + prime_seconds]`` is encoded, primes :func:`rollout`, and is
    inverted together with the generated frames, so the phase runs on across the seam; after the
    seam the original's own continuation fades out over ``crossfade`` seconds.

    Parameters
    ----------
    model, scaler, framing, guard, temperature, residuals, seed, progress :
        As :func:`rollout`.
    rep : Representation
    y : np.ndarray [shape=(n_samples,)] or path
        Audio at ``sr``, or a file to load at ``sr``.
    sr : int
    start, prime_seconds, seconds : float
        Where the prime starts, how long it is, and how much to generate (seconds).
    crossfade : float
        Seconds of equal-power crossfade after the seam (0: none).
    inversion : dict, optional
        Keyword arguments for :func:`frames_to_audio`.
    bpm, start_phase : float
        For a model that reads a clock: its tempo, and the prime's first frame's position in the
        bar in beats (:func:`musiclib.beats.clock`).

    Returns
    -------
    y_out : np.ndarray [shape=(n_prime + round(seconds * sr),)], float32
        ``y_out[:n_prime] == y[start_sample:seam_sample]`` exactly.
    """
    from musiclib import audio
    from musiclib.beats import clock as steady_clock

    if not isinstance(y, np.ndarray):
        y, _ = audio.load(y, sr=sr)
    y = np.asarray(y, dtype=np.float32)
    if y.ndim != 1:
        raise ParameterError(f"y must be mono audio of shape (n_samples,), got {y.shape}")
    if sr != rep.sr:
        raise ParameterError(f"sr={sr} differs from the representation's sr={rep.sr}")
    start = check_number("start", start, low=0)
    crossfade = check_number("crossfade", crossfade, low=0)
    prime_seconds = check_positive("prime_seconds", prime_seconds)
    seconds = check_duration("seconds", seconds, sr=sr)
    a = int(round(start * sr))
    seam = a + int(round(prime_seconds * sr))
    if seam > len(y):
        raise ParameterError(
            f"start={start} s + prime_seconds={prime_seconds} s runs past the end of the audio ({len(y) / sr:.2f} s)"
        )
    prime_audio = y[a:seam]
    n_prime = len(prime_audio)
    hop = rep.hop_length
    edge = -(-getattr(rep, "n_fft", 0) // 2 // hop) if hasattr(rep, "n_fft") else 1
    P = rep.encode(prime_audio)
    m = len(P) - edge
    own_rollout = callable(getattr(model, "rollout", None))
    if own_rollout and framing is None and getattr(model, "n_context_", None) is None:
        framing_, need = None, 1  # the model's own roll-out takes any prime length
    else:
        framing_ = _context_of(model, framing)
        need = framing_.history
    if m < need:
        raise ParameterError(f"prime_seconds={prime_seconds} gives {m} usable frames; the model needs {need}")
    total = n_prime + int(round(seconds * sr))
    n_total_frames = -(-total // hop) + 1
    clock = None if bpm is None else steady_clock(n_frames=n_total_frames, bpm=bpm, start_phase=start_phase,
                                                  frames_per_second=rep.frames_per_second)
    G = rollout(model, P[:m], n_frames=n_total_frames - m, temperature=temperature, guard=guard,
                residuals=residuals, seed=seed, progress=progress, scaler=scaler, framing=framing_, clock=clock)
    frames = np.concatenate([P[:m], G])
    gen = frames_to_audio(frames, rep, length=total, seed=seed, **(inversion or {}))[n_prime:].copy()
    L = min(int(round(crossfade * sr)), len(gen), len(y) - seam)
    if L > 0:
        t = (np.arange(L, dtype=np.float64) + 0.5) / L
        fade_in, fade_out = np.sin(0.5 * np.pi * t), np.cos(0.5 * np.pi * t)
        gen[:L] = (fade_out * y[seam : seam + L] + fade_in * gen[:L]).astype(np.float32)
    return np.concatenate([prime_audio, gen])


def mean_frame_change_db(frames, rep=None, *, floor_db: float | None = None) -> float:
    """Mean frame-to-frame change of a spectrogram, in dB: the drone measure of the next-frame notebooks.

    ``mean over t of sqrt(mean over features of (d[t] - d[t-1])**2)`` of the floored frames in dB,
    read from a model's frames before any inversion (unlike the card's audio flux); a drone scores
    near 0.

    Parameters
    ----------
    frames : np.ndarray [shape=(n_frames >= 2, n_features)]
    rep : Representation, optional
        Tells the units; default: frames are already in dB.
    floor_db : float, optional
        Floor applied before differencing (default: the representation's ``floor_db``, else -80).
    """
    x = np.asarray(frames, dtype=np.float64)
    if x.ndim != 2 or len(x) < 2:
        raise ParameterError(f"mean_frame_change_db needs frames of shape (n_frames >= 2, n_features), got {x.shape}")
    floor = floor_db if floor_db is not None else float(getattr(rep, "floor_db", -80.0))
    if rep is not None:
        domain, g = _domain_of(rep)
        if domain == "log1p":
            x = 20 * np.log10(np.expm1(np.maximum(x, 0)) / g + 1e-10)
        elif domain in ("magnitude", "signed"):
            x = 20 * np.log10(np.abs(x) + 1e-10)
    x = np.maximum(x, floor)
    return float(np.mean(np.sqrt(np.mean(np.diff(x, axis=0) ** 2, axis=1))))
