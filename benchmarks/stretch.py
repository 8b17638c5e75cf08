"""Stretching beat slices to a fixed length and back: which method keeps the audio cleanest?

``musiclib.beats.stretch`` makes every beat slice the same length for a model and puts the model's
output back at each slice's own length. This benchmark cuts real beat slices out of the corpora
(``data/sonic-pi-samples`` loops, and the middle 30 s of up to 6 ``data/nexuiz-music`` tracks when
fetched; else synthetic drum loops at several tempi), stretches each to the median beat length of
all slices and back, with:

- ``rubberband``: Rubber Band through ``pedalboard.time_stretch`` (``high_quality=True``, its default);
- ``rubberband_fast``: the same with ``high_quality=False`` (its faster engine; what ``beats.stretch`` uses);
- ``phase_vocoder``: ``librosa.effects.time_stretch`` (n_fft 2048, hop 512);
- ``phase_vocoder_512``: the same with n_fft 512, hop 128 (shorter windows, crisper attacks);
- ``resample``: ``librosa.resample`` (soxr), which changes the pitch with the length.

Measured per method (median over slices):

- ``sc_db``: spectral convergence of the round trip against the original slice, in dB
  (20 log10 ||S - S'||_F / ||S||_F on |STFT| with n_fft 1024, hop 256; lower is closer);
- ``onset_ms``: onsets of the round trip against the original's (mean distance to the nearest, ms);
- ``onset_one_way_ms``: onsets of the stretched slice against the original's scaled by the ratio;
- ``pitch_cents``: pitch change of the stretched slice: the shift (cents, 20-cent steps) that best
  aligns its time-averaged constant-Q spectrum with the original's (0 = pitch kept; resampling
  moves it by the stretch ratio);
- ``ms_per_slice``: time per stretch (one way).

Prints a table and, as the last line, one JSON object per method.

Run: ``.venv/bin/python benchmarks/stretch.py [--max-slices 120]``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import librosa  # noqa: E402
import pedalboard  # noqa: E402

from musiclib import beats, synth  # noqa: E402
from musiclib.corpus import load_corpus  # noqa: E402

SR = 22050
ROOT = Path(__file__).resolve().parent.parent / "data"


def _fit(y, n):
    return librosa.util.fix_length(np.asarray(y, dtype=np.float32), size=n)


def rubberband(y, n, high_quality=True):
    out = pedalboard.time_stretch(y[None, :], float(SR), stretch_factor=len(y) / n, high_quality=high_quality)
    return _fit(out[0], n)


def phase_vocoder(y, n, n_fft=2048):
    return _fit(librosa.effects.time_stretch(y, rate=len(y) / n, n_fft=n_fft, hop_length=n_fft // 4), n)


def resample(y, n):
    return _fit(librosa.resample(y, orig_sr=len(y), target_sr=n, res_type="soxr_hq"), n)


METHODS = {
    "rubberband": rubberband,
    "rubberband_fast": lambda y, n: rubberband(y, n, high_quality=False),
    "phase_vocoder": phase_vocoder,
    "phase_vocoder_512": lambda y, n: phase_vocoder(y, n, n_fft=512),
    "resample": resample,
}


def clips() -> tuple[list[np.ndarray], str]:
    out, what = [], []
    loops = ROOT / "sonic-pi-samples"
    if loops.is_dir():
        c = load_corpus(sorted(loops.glob("loop_*.flac")), sr=SR, progress=False)
        out += [x.y for x in c]
        what.append(f"{len(c)} sonic-pi loops")
    songs = ROOT / "nexuiz-music"
    if songs.is_dir():
        c = load_corpus(sorted(songs.glob("*.ogg"))[:6], sr=SR, max_duration=30, excerpt="middle", progress=False)
        out += [x.y for x in c]
        what.append(f"{len(c)} nexuiz-music excerpts (30 s)")
    if not out:
        out = [synth.drum_loop(duration=8.0, bpm=bpm, seed=i) for i, bpm in enumerate((96, 120, 137, 150))]
        what.append("4 synthetic drum loops")
    return out, ", ".join(what)


def slices(ys, max_slices: int, seed: int = 0) -> list[np.ndarray]:
    pieces = []
    for y in ys:
        try:
            b = beats.track_beats(y, sr=SR)
        except ValueError:  # too short or silent
            continue
        if b.periodicity < 0.2:  # no clear pulse (drones, textures)
            continue
        pieces += [y[s:e] for s, e in beats.beat_slices(y, sr=SR, beats=b)]
    rng = np.random.default_rng(seed)
    if len(pieces) > max_slices:
        pieces = [pieces[i] for i in sorted(rng.choice(len(pieces), max_slices, replace=False))]
    return [p for p in pieces if np.max(np.abs(p)) > 1e-3]


def sc_db(a, b):
    A = np.abs(librosa.stft(a, n_fft=1024, hop_length=256))
    B = np.abs(librosa.stft(b, n_fft=1024, hop_length=256))
    return float(20 * np.log10(np.linalg.norm(A - B) / max(np.linalg.norm(A), 1e-12)))


def onsets(y):
    return librosa.onset.onset_detect(y=y, sr=SR, hop_length=128, units="time", backtrack=False)


def onset_error_ms(ref, got):
    if len(ref) == 0 or len(got) == 0:
        return float("nan")
    return float(1000 * np.mean([np.min(np.abs(got - r)) for r in ref]))


BINS_PER_OCTAVE = 60  # 20 cents per bin


def log_spectrum(y):
    """Time-averaged log-magnitude constant-Q spectrum, 55 Hz to 3.5 kHz at 20 cents per bin."""
    C = np.abs(librosa.cqt(y, sr=SR, hop_length=256, fmin=55.0, n_bins=6 * BINS_PER_OCTAVE,
                           bins_per_octave=BINS_PER_OCTAVE))
    return np.log(np.mean(C, axis=1) + 1e-6)


def pitch_shift_cents(a, b, max_bins=BINS_PER_OCTAVE // 3):
    """The shift (cents) of ``b``'s constant-Q spectrum that best matches ``a``'s (0: pitch kept)."""
    x, z = log_spectrum(a), log_spectrum(b)
    x, z = x - x.mean(), z - z.mean()
    shifts = np.arange(-max_bins, max_bins + 1)
    score = [np.dot(x[max_bins:-max_bins], np.roll(z, -k)[max_bins:-max_bins]) for k in shifts]
    return float(shifts[int(np.argmax(score))] * 1200 / BINS_PER_OCTAVE)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--max-slices", type=int, default=120)
    args = p.parse_args()
    ys, what = clips()
    pieces = slices(ys, args.max_slices)
    n = int(np.median([len(s) for s in pieces]))
    pieces = [s for s in pieces if abs(len(s) - n) > 0.01 * n]  # those the stretch leaves alone tell nothing
    ratios = np.array([n / len(s) for s in pieces])
    print(f"{len(pieces)} beat slices from {what}; all stretched to {n} samples ({n / SR:.3f} s), "
          f"ratios {ratios.min():.2f}..{ratios.max():.2f} (median |log2| {np.median(np.abs(np.log2(ratios))):.3f})")
    rows = {}
    for name, f in METHODS.items():
        sc, on, on1, cents, secs = [], [], [], [], []
        for s in pieces:
            t = time.perf_counter()
            out = f(s, n)
            secs.append(time.perf_counter() - t)
            back = f(out, len(s))
            sc.append(sc_db(s, back))
            ref = onsets(s)
            on.append(onset_error_ms(ref, onsets(back)))
            on1.append(onset_error_ms(ref * n / len(s), onsets(out)))
            cents.append(pitch_shift_cents(s, out))
        rows[name] = {
            "method": name,
            "sc_db": round(float(np.median(sc)), 2),
            "onset_ms": round(float(np.nanmedian(on)), 2),
            "onset_one_way_ms": round(float(np.nanmedian(on1)), 2),
            "pitch_cents": round(float(np.median(np.abs(cents))), 1),
            "ms_per_slice": round(1000 * float(np.median(secs)), 2),
        }
    print(f"{'method':<20} {'round-trip SC dB':>17} {'onsets ms':>10} {'one-way onsets ms':>18} "
          f"{'|pitch| cents':>14} {'ms/slice':>9}")
    for r in rows.values():
        print(f"{r['method']:<20} {r['sc_db']:>17.2f} {r['onset_ms']:>10.2f} {r['onset_one_way_ms']:>18.2f} "
              f"{r['pitch_cents']:>14.1f} {r['ms_per_slice']:>9.2f}")
    print(json.dumps(list(rows.values())))


if __name__ == "__main__":
    main()
