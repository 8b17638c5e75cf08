"""The same seed gives byte-identical WAV files from two separate processes, for every generating model.

One driver (this file, run as a script: ``python tests/test_determinism.py OUT --seed 0``) trains a
tiny version of every generating model of notebooks 02-07 on a few seconds of synthetic music
(``musiclib.synth``), generates about a second of audio from each through the public path its
notebook uses (``generate.generate_clips``, ``keras_seq.generate_audio``, ``sample`` +
``patches.sequence_to_audio``, ``CodePrior.sample`` + ``decode_codes``, ``generate``,
``raw_audio.generate_audio``) and saves it with ``outputs.save_clips``: clip 0 generated with the
seed, clip 1 with the seed + 1 (the same trained model). The test runs the driver in two processes
and compares the files byte for byte, model by model, and checks that the two generation seeds give
different audio (so a model that ignored its seed, or a comparison that could not fail, is caught).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # two child processes side by side, each training 23 tiny models

REPO = Path(__file__).resolve().parent.parent

#: Every generating model of the series, by notebook.
MODELS = {
    "02": ("ridge", "ridge-clock", "levels"),
    "03": ("tree", "forest", "xgboost", "xgboost-clock"),
    "04": ("mlp", "lstm-clock", "cnn", "lstm-vae-fft", "lstm-vae-dct"),
    "05": ("vae", "cvae", "vqvae-prior"),
    "06": ("specgan", "wgan-gp", "cspecgan", "vaegan", "wavegan"),
    "07": ("dense-ae", "conv-ae", "raw-vae"),
}
ALL = tuple(m for ms in MODELS.values() for m in ms)
SECONDS = 1.0  # generated per clip
SR = 22050


# ---------------------------------------------------------------------------------------------
# the driver (runs in a child process)
# ---------------------------------------------------------------------------------------------
def _data(seed):
    """Four 3-second synthetic songs at different tempi (three to train on, one to prime from), their frames
    in the series' representation and a steady beat clock for each."""
    from musiclib import beats, generate, synth

    rep = generate.default_representation()
    bpms = (110.0, 120.0, 125.0, 115.0)
    songs = [synth.synthetic_mix(duration=3.0, sr=SR, bpm=b, seed=seed + i) for i, b in enumerate(bpms)]
    frames = [rep.encode(y) for y in songs]
    phases = [beats.clock(n_frames=len(f), bpm=b, frames_per_second=rep.frames_per_second)
              for f, b in zip(frames, bpms)]
    return rep, songs, frames, phases, float(sum(bpms[:3]) / 3)


def _drive(out: Path, seed: int, only) -> dict:
    """Train every model in ``only`` and save two clips each (generation seeds ``seed``, ``seed + 1``) under ``out``."""
    from musiclib.display import setup_notebook

    setup_notebook(seed=seed)  # quiet TensorFlow logs, seed Python and NumPy
    import numpy as np

    from musiclib import generate, patches
    from musiclib.tools import outputs

    rep, songs, frames, phases, bpm = _data(seed)
    train, train_ph, held, held_ph = frames[:3], phases[:3], frames[3], phases[3]
    fps = rep.frames_per_second
    guard = generate.StabilityGuard.fit(train, rep)
    n_prime = int(0.5 * fps)
    prime, prime_ph = held[:n_prime], held_ph[:n_prime]
    timings = {}

    def save(name, clips, sr, t0):
        outputs.save_clips(f"det_{name}", clips, sr=sr, representation=rep, parameters={"model": name}, seed=seed,
                           train_seconds=0.0, generate_seconds=0.0, root=out, run=f"seed{seed}")
        timings[name] = round(time.perf_counter() - t0, 2)

    def wanted(names):
        return [n for n in names if n in only]

    # -- 02 and 03: scikit-learn / NumPy next-frame models, generate.generate_clips -------------------------------
    if wanted(MODELS["02"] + MODELS["03"]):
        from musiclib.framing import Framing, frame_scaler, transform_each
        from musiclib.models.linear import LevelsNextFrame, RidgeNextFrame
        from musiclib.models.trees import DecisionTreeNextFrame, RandomForestNextFrame, XGBoostNextFrame

        def clips_of(model, framing, scaler, clock, temperature=1.0):
            n = max(n_prime, framing.history)  # the trees read a bar
            return [generate.generate_clips(
                model, [held[:n]], rep, seconds=SECONDS, temperature=temperature, guard=guard, scaler=scaler,
                framing=framing, seed=s, bpm=bpm if clock else None, prime_phases=[held_ph[:n]] if clock else None)[0][0]
                for s in (seed, seed + 1)]

        scaler = frame_scaler(train)
        z = transform_each(scaler, train)
        plain, clocked = Framing(context=4), Framing(context=4, clock=True, harmonics=2)
        for name, model, framing, clock in (
                ("ridge", lambda: RidgeNextFrame(alpha=1.0, seed=seed), plain, False),
                ("ridge-clock", lambda: RidgeNextFrame(alpha=1.0, seed=seed), clocked, True),
                ("levels", lambda: LevelsNextFrame(n_levels=8, n_components=16, epochs=2, seed=seed), plain, False)):
            if name in only:
                t0 = time.perf_counter()
                X, Y = framing.dataset(z, phases=train_ph if clock else None)
                save(name, clips_of(model().fit(X, Y), framing, scaler, clock), rep.sr, t0)

        pca = frame_scaler(train, n_components=8, seed=seed)
        zp = transform_each(pca, train)
        bar = int(round(4 * 60 / bpm * fps))
        plain = Framing(context=4, lookback=bar, summary=True)
        clocked = Framing(context=4, lookback=bar, summary=True, clock=True, harmonics=2)
        for name, model, framing, clock in (
                ("tree", lambda: DecisionTreeNextFrame(per_output=False, max_depth=6, seed=seed), plain, False),
                ("forest", lambda: RandomForestNextFrame(per_output=False, n_estimators=4, max_depth=6, seed=seed),
                 plain, False),
                ("xgboost", lambda: XGBoostNextFrame(per_output=False, n_estimators=5, max_depth=3, seed=seed),
                 plain, False),
                ("xgboost-clock", lambda: XGBoostNextFrame(per_output=False, n_estimators=5, max_depth=3, seed=seed),
                 clocked, True)):
            if name in only:
                t0 = time.perf_counter()
                X, Y = framing.dataset(zp, phases=train_ph if clock else None)
                save(name, clips_of(model().fit(X, Y), framing, pca, clock), rep.sr, t0)

    # -- 04: Keras next-frame models, keras_seq.generate_audio ------------------------------------------------------
    if wanted(MODELS["04"]):
        from musiclib.models import keras_seq
        from musiclib.representations import DCTBlocks, LogSpectrogram

        def rolled(model, r, primes, guard_, clock):
            return [keras_seq.generate_audio(model, primes, r, seconds=SECONDS, temperature=1.0, guard=guard_, seed=s,
                                             bpm=bpm if clock else None,
                                             prime_phases=[prime_ph] if clock else None)[0][0]
                    for s in (seed, seed + 1)]

        makers = {"mlp": lambda h: keras_seq.make_mlp(rep.n_features, context=4, units=(16,), clock_harmonics=h),
                  "lstm-clock": lambda h: keras_seq.make_lstm(rep.n_features, units=(16,), clock_harmonics=h),
                  "cnn": lambda h: keras_seq.make_cnn(rep.n_features, filters=8, dilations=(1, 2), clock_harmonics=h)}
        for name, make in makers.items():
            if name in only:
                t0 = time.perf_counter()
                keras_seq.set_seed(seed)
                h = 2 if name.endswith("-clock") else 0
                clock = dict(phases=train_ph, harmonics=h) if h else {}
                ds = keras_seq.sequence_dataset(train, window=32, hop=32, batch_size=8, seed=seed, **clock)
                model = make(h).adapt(train)
                model.run_eagerly = True  # one epoch of a few batches does not pay back tracing
                model.fit(ds, epochs=1, verbose=0)
                model.calibrate(ds, seed=seed)
                save(name, rolled(model, rep, [prime], guard, bool(h)), rep.sr, t0)
        domains = {"lstm-vae-fft": LogSpectrogram(sr=SR, n_fft=1024, hop_length=rep.hop_length, scale="db"),
                   "lstm-vae-dct": DCTBlocks(sr=SR, block_length=512)}
        for name, r in domains.items():
            if name in only:
                t0 = time.perf_counter()
                keras_seq.set_seed(seed)
                tr = [r.encode(y) for y in songs[:3]]
                ds = keras_seq.sequence_dataset(tr, window=32, hop=32, batch_size=8, seed=seed)
                model = keras_seq.make_lstm_vae(r.n_features, encoder_units=(16,), units=(16,), latent_dim=4,
                                                decoder_units=(16,)).adapt(tr)
                model.run_eagerly = True
                model.fit(ds, epochs=1, verbose=0)
                n_p = int(0.5 * r.frames_per_second)
                save(name, rolled(model, r, [r.encode(songs[3])[:n_p]], generate.StabilityGuard.fit(tr, r), False),
                     r.sr, t0)

    # -- 05 and 06: patch models (VAE, cVAE, VQ-VAE + code prior; the GANs), patches.sequence_to_audio ---------------
    T = 16
    train_p = patches.make_patches(train, n_frames=T, labels=["a", "b", "c"])
    n_patches = int(np.ceil(SECONDS * fps / T))

    def to_audio(x):
        return patches.sequence_to_audio(np.asarray(x), rep, overlap=4, guard=guard, seed=seed)

    if wanted(MODELS["05"] + ("vaegan",)):
        from musiclib.models import keras_seq, vae

        common = {"filters": (4, 8), "warmup_steps": 10, "seed": seed, "run_eagerly": True}
        feed = vae.patch_dataset(train_p, batch_size=16, seed=seed)
        for name in wanted(("vae", "cvae")):
            t0 = time.perf_counter()
            keras_seq.set_seed(seed)
            labels = {"n_labels": train_p.n_labels, "beta": 40.0, "latent_dim": 4} if name == "cvae" else {"latent_dim": 8}
            m = vae.make_vae(T, rep.n_features, **common, **labels).adapt(train_p)
            m.fit(feed, epochs=1, verbose=0)
            kw = {"labels": 1} if name == "cvae" else {}
            save(name, [to_audio(m.sample(n_patches, temperature=1.0, seed=s, **kw)) for s in (seed, seed + 1)],
                 rep.sr, t0)
        if "vqvae-prior" in only:
            t0 = time.perf_counter()
            keras_seq.set_seed(seed)
            vq = vae.make_vqvae(T, rep.n_features, codebook_size=16, filters=(4, 8), seed=seed, run_eagerly=True)
            vq = vq.adapt(train_p)
            vq.fit(feed, epochs=1, verbose=0)
            codes = vq.encode_codes(train_p)
            K, cpp = vq.codebook_size, vq.codes_per_patch
            prior = vae.make_prior(K, cpp, units=(16,), embed_dim=8, dropout=0.3, run_eagerly=True)
            prior.fit(vae.code_dataset([codes[i] for i in train_p.sequences()], codebook_size=K, codes_per_patch=cpp,
                                       window=8, seed=seed), epochs=1, verbose=0)
            save("vqvae-prior", [to_audio(vq.decode_codes(prior.sample(n_patches * cpp, temperature=1.0, seed=s)[0],
                                                          noise_scale=1.0, seed=s))
                                 for s in (seed, seed + 1)], rep.sr, t0)

    if wanted(MODELS["06"]):
        import tensorflow as tf

        from musiclib import audio
        from musiclib.models import gan, vae

        tf.config.run_functions_eagerly(True)  # as 06's small mode: a few steps do not pay back tracing
        ckpt = Path(tempfile.mkdtemp(prefix="det-gan-"))
        small = {"channels": 4, "latent_dim": 8, "n_layers": 2}
        data = gan.patch_dataset(train_p.x, batch_size=8, seed=seed)
        spec = None
        for name in wanted(("specgan", "wgan-gp", "cspecgan")):
            t0 = time.perf_counter()
            gan.set_seed(seed)
            if name == "cspecgan":
                if spec is None:
                    spec = gan.make_specgan(T, rep.n_features, seed=seed, **small).adapt(train_p.x)
                m = gan.make_specgan(T, rep.n_features, n_labels=train_p.n_labels, seed=seed, **small).warm_start(spec)
                feed = gan.patch_dataset(train_p.x, labels=train_p.label, batch_size=8, seed=seed)
            else:
                loss = {"loss": "wgan-gp", "n_critic": 2} if name == "wgan-gp" else {}
                m = gan.make_specgan(T, rep.n_features, seed=seed, **small, **loss).adapt(train_p.x)
                feed = data
            m, _ = gan.fit_gan(m, feed, steps=2, steps_per_epoch=2, checkpoint_dir=ckpt / name)
            if name == "specgan":
                spec = m
            kw = {"labels": np.ones(n_patches, dtype=int)} if name == "cspecgan" else {}
            save(name, [to_audio(m.generate(n_patches, seed=s, **kw)) for s in (seed, seed + 1)], rep.sr, t0)
        if "vaegan" in only:
            t0 = time.perf_counter()
            gan.set_seed(seed)
            m = gan.make_vaegan(T, rep.n_features, seed=seed, latent_dim=8, filters=(4, 8), warmup_steps=10,
                                d_channels=4).adapt(train_p.x)
            m, _ = vae.fit_with_checkpoints(m, vae.patch_dataset(train_p, batch_size=16, seed=seed), epochs=1,
                                            checkpoint_dir=ckpt / "vaegan")
            save("vaegan", [to_audio(m.sample(n_patches, seed=s, noise_scale=1.0)) for s in (seed, seed + 1)],
                 rep.sr, t0)
        if "wavegan" in only:
            t0 = time.perf_counter()
            gan.set_seed(seed)
            windows = gan.wave_windows([audio.resample(y, orig_sr=SR, target_sr=gan.WAVEGAN_SR) for y in songs[:3]],
                                       n_samples=gan.WAVEGAN_SAMPLES)
            m = gan.make_wavegan(seed=seed, channels=2, latent_dim=8)
            m, _ = gan.fit_gan(m, gan.patch_dataset(windows, batch_size=4, seed=seed), steps=2, steps_per_epoch=2,
                               checkpoint_dir=ckpt / "wavegan")
            save("wavegan", [m.generate(1, seed=s)[0] for s in (seed, seed + 1)], gan.WAVEGAN_SR, t0)
        tf.config.run_functions_eagerly(False)

    # -- 07: raw-audio autoencoders, raw_audio.generate_audio --------------------------------------------------------
    if wanted(MODELS["07"]):
        from musiclib import audio
        from musiclib.models import raw_audio

        raw = [audio.resample(y, orig_sr=SR, target_sr=raw_audio.SR) for y in songs[:3]]
        makers = {"dense-ae": lambda: raw_audio.make_dense_ae(units=(32,), latent_dim=8),
                  "conv-ae": lambda: raw_audio.make_conv_ae(filters=(4, 4, 8, 8), latent_dim=8),
                  "raw-vae": lambda: raw_audio.make_vae(kind="dense", units=(32,), latent_dim=8)}
        for name, make in makers.items():
            if name in only:
                t0 = time.perf_counter()
                raw_audio.set_seed(seed)
                pieces = raw_audio.make_pieces(raw, sr=raw_audio.SR, split="fixed")
                model = make().adapt(pieces)
                model.run_eagerly = True  # one epoch of a few batches does not pay back tracing (as small mode)
                model.fit(raw_audio.piece_dataset(pieces, batch_size=16, seed=seed), epochs=1, verbose=0)
                latent = raw_audio.LatentGaussian().fit(model.encode(pieces))
                save(name, [raw_audio.generate_audio(model, latent, sr=raw_audio.SR, seconds=SECONDS, temperature=1.0,
                                                     seed=s)[0]
                            for s in (seed, seed + 1)], raw_audio.SR, t0)
    return timings


def _main(argv=None) -> int:
    p = argparse.ArgumentParser(description="train every generating model tiny, save two seeded clips each")
    p.add_argument("out", type=Path)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--only", nargs="*", default=list(ALL), choices=ALL)
    a = p.parse_args(argv)
    t0 = time.perf_counter()
    timings = _drive(a.out, a.seed, set(a.only))
    print(json.dumps({"seconds": round(time.perf_counter() - t0, 1), "per_model": timings}))
    return 0


# ---------------------------------------------------------------------------------------------
# the test
# ---------------------------------------------------------------------------------------------
def _digests(root: Path) -> dict:
    """``{model: [sha256 of clip 0, sha256 of clip 1]}`` for every saved run under ``root``."""
    out = {}
    for run in sorted(root.glob("det_*/seed*")):
        out[run.parent.name[4:]] = [hashlib.sha256(f.read_bytes()).hexdigest() for f in sorted(run.glob("clip_*.wav"))]
    return out


def _run_driver(out: Path, seed: int):
    """Start the driver in a new process writing under ``out`` (its output in ``out.log``, so no pipe fills up)."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "MUSICLIB_OUTPUTS": str(out), "TF_CPP_MIN_LOG_LEVEL": "2"}
    log = open(out.with_suffix(".log"), "w")
    return subprocess.Popen([sys.executable, str(Path(__file__).resolve()), str(out), "--seed", str(seed)],
                            env=env, stdout=log, stderr=subprocess.STDOUT), log


def test_every_generating_model_gives_byte_identical_wavs_in_two_processes(tmp_path):
    outs = [tmp_path / "one", tmp_path / "two"]
    started = [_run_driver(o, 0) for o in outs]  # side by side: about a minute on 2 quiet cores
    for proc, log in started:
        proc.wait(timeout=900)
        log.close()
    logs = [o.with_suffix(".log").read_text()[-3000:] for o in outs]
    assert [proc.returncode for proc, _ in started] == [0, 0], logs
    one, two = (_digests(o) for o in outs)
    assert sorted(one) == sorted(two) == sorted(ALL)  # every model of the series wrote its two clips
    assert all(len(d) == 2 for d in one.values())
    differ = [m for m in ALL if one[m] != two[m]]
    assert not differ, f"not byte-identical across two processes with the same seed: {differ}"
    same_for_both_seeds = [m for m in ALL if one[m][0] == one[m][1]]
    assert not same_for_both_seeds, f"seed and seed + 1 give the same audio: {same_for_both_seeds}"


if __name__ == "__main__":
    raise SystemExit(_main())
