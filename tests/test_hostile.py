"""Hostile input: random bytes and truncations under every audio extension, extreme parameters.

Only musiclib errors (``MusiclibError``, a ``ValueError``) may come out, each naming the file or the
parameter, and each within a time bound; a truncated file is never decoded as if it were whole.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from musiclib import audio, corpus, phase, postprocess, synth
from musiclib.errors import AudioFileError, CacheError, MusiclibError
from musiclib.representations import (DCTBlocks, LinearSpectrogram, LogFrequencySpectrogram, LogSpectrogram,
                                      MelSpectrogram, RawBlocks, from_params)
from musiclib.tools.cache import FeatureCache
from musiclib.tools.cli import main as cli_main

SR = 22050
#: seconds any one hostile call may take
TIME_BOUND = 5.0

EXTENSIONS = sorted(set(corpus.readable_extensions()) | {".wav", ".flac", ".ogg", ".mp3", ".aiff", ".opus"})


def _good_bytes(tmp: Path, fmt_ext: str) -> bytes | None:
    """A valid 1 s file in the format of ``fmt_ext`` (None when libsndfile cannot write it)."""
    y = synth.synthetic_mix(duration=1.0, sr=SR, seed=0)
    kwargs = {
        ".wav": {}, ".flac": {}, ".ogg": {"format": "OGG", "subtype": "VORBIS"},
        ".opus": {"format": "OGG", "subtype": "OPUS"}, ".mp3": {"format": "MP3"}, ".aiff": {},
    }.get(fmt_ext)
    if kwargs is None:
        return None
    path = tmp / f"good{fmt_ext}"
    sr = 48000 if fmt_ext == ".opus" else SR
    if sr != SR:
        y = audio.resample(y, orig_sr=SR, target_sr=sr)
    try:
        sf.write(str(path), y, sr, **kwargs)
    except (sf.LibsndfileError, TypeError, ValueError):
        return None
    return path.read_bytes()


def _load_is_musiclib_or_ok(path: Path):
    t0 = time.perf_counter()
    try:
        y, sr = audio.load(path)
    except MusiclibError as e:
        assert str(path.name) in str(e), f"error does not name the file: {e}"
        y = None
    assert time.perf_counter() - t0 < TIME_BOUND
    if y is not None:
        assert y.ndim == 1 and np.all(np.isfinite(y))
    return y


@pytest.mark.parametrize("ext", EXTENSIONS)
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(min_size=0, max_size=4096))
def test_random_bytes_under_every_extension(tmp_path, ext, data):
    path = tmp_path / f"random{ext}"
    path.write_bytes(data)
    _load_is_musiclib_or_ok(path)


@pytest.mark.parametrize("ext", [".wav", ".flac", ".ogg", ".opus", ".mp3", ".aiff"])
@pytest.mark.parametrize("fraction", [0.02, 0.5, 0.9, 0.99])
def test_truncated_files_are_detected(tmp_path, ext, fraction):
    good = _good_bytes(tmp_path, ext)
    if good is None:
        pytest.skip(f"libsndfile here cannot write {ext}")
    path = tmp_path / f"cut{ext}"
    path.write_bytes(good[: int(len(good) * fraction)])
    with pytest.raises(AudioFileError, match=r"cut" + ext.replace(".", r"\.")):
        audio.load(path)


@pytest.mark.parametrize("ext", [".wav", ".flac", ".ogg", ".opus", ".mp3", ".aiff"])
def test_whole_files_still_load(tmp_path, ext):
    good = _good_bytes(tmp_path, ext)
    if good is None:
        pytest.skip(f"libsndfile here cannot write {ext}")
    path = tmp_path / f"whole{ext}"
    path.write_bytes(good)
    y, sr = audio.load(path)
    assert abs(len(y) / sr - 1.0) < 0.1


@pytest.mark.parametrize("offset", [1e304, 1e9, 0.6])
def test_offsets_past_the_end_are_refused(tmp_path, offset):  # 1e304 s overflowed int() on main (the fuzzing)
    path = tmp_path / "a.wav"
    sf.write(str(path), synth.tone(440.0, duration=0.5, sr=SR), SR)
    with pytest.raises(AudioFileError, match=r"offset=.*past the end"):
        audio.load(path, offset=offset)


@pytest.mark.parametrize("sr", [10**9, 2**31, 10**7])
def test_extreme_sample_rates_are_refused_quickly(tmp_path, sr):
    path = tmp_path / "a.wav"
    sf.write(str(path), synth.tone(440.0, duration=0.5, sr=SR), SR)
    t0 = time.perf_counter()
    with pytest.raises(MusiclibError, match="sr"):
        audio.load(path, sr=sr)
    assert time.perf_counter() - t0 < TIME_BOUND


# -- the feature cache -----------------------------------------------------------------------------------------


@pytest.fixture
def short_wav(tmp_path):
    path = tmp_path / "clip.wav"
    sf.write(str(path), synth.tone(440.0, duration=0.5, sr=SR), SR)
    return path


def test_cache_entry_with_nan_frames_is_not_a_hit(tmp_path, short_wav):
    rep = LogSpectrogram(n_fft=256)
    cache = FeatureCache(tmp_path / "cache")
    key = cache.key(short_wav, rep)
    good = cache.features(short_wav, rep)
    bad = good.copy()
    bad[1, 2] = np.nan
    cache._write(cache._entry(key), key, bad)  # a well-formed entry, checksum and all, holding NaN
    with pytest.warns(UserWarning, match="failed verification"):
        frames = FeatureCache(cache.root).features(short_wav, rep)
    np.testing.assert_array_equal(frames, good)
    again = FeatureCache(cache.root)
    again.features(short_wav, rep)
    assert again.hits == 1  # the recomputed entry replaced the bad one


def test_cache_entry_that_is_a_folder_is_a_clear_error(tmp_path, short_wav):
    rep = LogSpectrogram(n_fft=256)
    cache = FeatureCache(tmp_path / "cache")
    cache._entry(cache.key(short_wav, rep)).mkdir(parents=True)
    with pytest.raises(CacheError, match=r"is a folder"):
        cache.features(short_wav, rep)


def test_cache_root_that_is_a_file_is_a_clear_error(tmp_path, short_wav):
    root = tmp_path / "cache"
    root.write_text("not a folder")
    with pytest.raises(CacheError, match=r"cache.*is a file"):
        FeatureCache(root).features(short_wav, LogSpectrogram(n_fft=256))
    with pytest.raises(CacheError, match=r"is a file"):
        FeatureCache(root).clear()
    assert root.read_text() == "not a folder"


# -- the cases, one by one (tests/test_fuzz_params.py sweeps every parameter) --------------------------


@pytest.fixture(scope="module")
def warm():
    """First-use imports (librosa's filters, scipy.signal, pedalboard) cost seconds on a loaded machine:
    pay them before timing anything."""
    y = synth.tone(440.0, duration=0.2, sr=SR)
    phase.reconstruct(np.abs(phase.stft(y, n_fft=256)), n_iter=1)
    postprocess.postprocess(y * 4, sr=SR)


def _quick_musiclib_error(f, match):
    t0 = time.perf_counter()
    with pytest.raises(MusiclibError, match=match):
        f()
    assert time.perf_counter() - t0 < TIME_BOUND


@pytest.mark.parametrize("call, match", [
    (lambda: phase.stft(np.zeros(10**7, np.float32), n_fft=4096, hop_length=1), r"hop_length=1.*more than"),
    (lambda: phase.stft(np.zeros(100, np.float32), n_fft=2**40), r"n_fft=1099511627776"),
    (lambda: phase.istft(np.ones((33, 4), np.complex64), length=10**12), r"length=1000000000000"),
    (lambda: phase.reconstruct(np.ones((33, 4), np.float32), n_iter=10**9), r"n_iter=1000000000"),
    (lambda: phase.reconstruct(np.ones((33, 4), np.float32), seed=-1), r"seed=-1"),
    (lambda: phase.reconstruct(np.ones((33, 4), np.float32), seed=float("nan")), r"seed=nan"),
    (lambda: MelSpectrogram().decode(np.ones((4, 128), np.float32), nnls_iter=-1), r"nnls_iter=-1"),
    (lambda: LogSpectrogram(sr=10**9), r"sr=1000000000"),
    (lambda: LogFrequencySpectrogram(bins_per_octave=10**6), r"bins_per_octave=1000000"),
    (lambda: RawBlocks().decode(np.zeros((2, 256), np.float32), length=10**12), r"length=1000000000000"),
    (lambda: from_params(None), r"params=None"),
    (lambda: audio.normalize_peak(np.full(100, np.nan, np.float32)), r"100 NaN"),
    (lambda: audio.normalize_rms(np.full(100, np.inf, np.float32)), r"100 inf"),
    (lambda: audio.trim_silence(np.ones(100, np.float32), frame_length=2**40), r"frame_length=1099511627776"),
    (lambda: audio.fragment(np.ones(100, np.float32), sr=10**9, start=0, duration=1), r"sr=1000000000"),
    (lambda: postprocess.postprocess(np.ones(4000, np.float32), sr=1), r"sr=1 "),  # took 20 s on main
    (lambda: postprocess.postprocess(np.ones(4000, np.float32), sr=8000, lowpass_hz=5e-324), r"lowpass_hz"),
])
def test_extreme_parameters_are_refused_quickly(warm, call, match):
    _quick_musiclib_error(call, match)


@pytest.mark.parametrize("peak", [1e30, 3e38, np.finfo(np.float32).max])
def test_reconstruct_near_float32_max_returns_finite_audio_or_refuses(peak):
    y = synth.synthetic_mix(duration=0.5, sr=SR, seed=0)
    S = np.abs(phase.stft(y, n_fft=512, hop_length=128))
    S = (S / S.max() * peak).astype(np.float32)
    for method in phase.METHODS:
        try:
            out = phase.reconstruct(S, method=method, n_iter=2, hop_length=128)
        except MusiclibError as e:
            assert "S reaches" in str(e)
        else:
            assert np.all(np.isfinite(out)) and out.dtype == np.float32


@pytest.mark.parametrize("rep", [LinearSpectrogram(n_fft=256), DCTBlocks(block_length=256), RawBlocks(block_length=256),
                                 MelSpectrogram(n_fft=256, n_mels=32, scale="linear")])
def test_decoders_never_return_non_finite_audio(rep):
    frames = np.full((8, rep.n_features), np.finfo(np.float32).max / 2, np.float32)
    try:
        out = rep.decode(frames, n_iter=1)
    except MusiclibError as e:
        assert "reach" in str(e)
    else:
        assert np.all(np.isfinite(out))


# -- the command line: one line on stderr, exit status 2 -------------------------------------------------------


@pytest.fixture
def clips(tmp_path):
    for name in "abc":
        sf.write(str(tmp_path / f"{name}.wav"), synth.synthetic_mix(duration=2.0, sr=SR, seed=ord(name)), SR)
    return tmp_path


@pytest.mark.parametrize("argv, match", [
    (["fetch", "--root", "{file}"], r"root=.*is a file"),
    (["fetch", "--root", "{file}/sub"], r"Not a directory"),
    (["card", "{dir}/a.wav", "--train", "{dir}/b.wav", "--reference", "{dir}/c.wav", "--seed", "-1"], r"--seed=-1"),
    (["card", "{dir}/a.wav", "--train", "{dir}/b.wav", "--reference", "{dir}/c.wav", "--sr", "1000000000"],
     r"sr=1000000000"),
    (["card", "{dir}/a.wav", "--train", "{dir}/b.wav", "--reference", "{dir}/c.wav", "--max-seconds", "nan"],
     r"duration=nan"),
    (["calibrate", "--corpus", "{dir}", "--seed", "-1"], r"--seed=-1"),
    (["calibrate", "--corpus", "{dir}", "--seconds", "inf"], r"--seconds=inf"),
])
def test_command_line_bad_input_is_one_line_and_exit_2(clips, tmp_path, capsys, argv, match):
    (tmp_path / "afile").write_text("not a folder")
    argv = [a.format(file=tmp_path / "afile", dir=clips) for a in argv]
    assert cli_main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith(f"musiclib {argv[0]}: error: ")
    assert re.search(match, err), err


@pytest.mark.parametrize("kwargs, match", [
    ({"max_duration": 0}, r"max_duration=0"),
    ({"min_duration": float("nan")}, r"min_duration=nan"),
    ({"n_jobs": 0}, r"n_jobs=0"),
    ({"sr": 10**9}, r"sr=1000000000"),
    ({"excerpt": "end"}, r"excerpt='end'"),
])
def test_load_corpus_names_the_bad_parameter(warm, short_wav, kwargs, match):
    _quick_musiclib_error(lambda: corpus.load_corpus([short_wav], progress=False, **kwargs), match)


def test_load_corpus_n_jobs_minus_one_means_every_cpu(short_wav):
    assert len(corpus.load_corpus([short_wav], progress=False, n_jobs=-1)) == 1


@pytest.mark.parametrize("seed", [-1, float("nan"), "0", True])
def test_split_by_file_refuses_bad_seeds(tmp_path, seed):
    _quick_musiclib_error(lambda: corpus.split_by_file([tmp_path / f"{i}.wav" for i in range(3)], seed=seed), "seed=")


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(blobs=st.lists(st.tuples(st.sampled_from(EXTENSIONS + [".m4a", ".txt"]), st.binary(max_size=2048)),
                      min_size=1, max_size=5), cut=st.floats(min_value=0.0, max_value=1.0))
def test_load_corpus_on_a_folder_of_junk_skips_each_file_with_a_reason(tmp_path_factory, blobs, cut):
    folder = tmp_path_factory.mktemp("junk")
    good = _good_bytes(folder, ".wav")
    (folder / "whole.wav").write_bytes(good)
    (folder / "cut.flac").write_bytes(_good_bytes(folder, ".flac")[: int(cut * 3000)])
    for p in folder.glob("good.*"):
        p.unlink()
    for i, (ext, data) in enumerate(blobs):
        (folder / f"junk{i}{ext}").write_bytes(data)
    t0 = time.perf_counter()
    c = corpus.load_corpus(folder, sr=SR, progress=False)
    assert time.perf_counter() - t0 < 4 * TIME_BOUND
    assert [clip.path.name for clip in c.clips] == ["whole.wav"]
    skipped = {Path(p).name: why for p, why in c.skipped}
    assert "cut.flac" in skipped
    for i, (ext, _) in enumerate(blobs):
        if ext != ".txt":
            assert skipped.get(f"junk{i}{ext}"), f"junk{i}{ext} neither loaded nor skipped with a reason"


@pytest.mark.parametrize("root", [5, 1.5, ["a"], b"\xff"])
def test_cache_and_fetch_roots_of_the_wrong_type(root):
    from musiclib.tools import data

    _quick_musiclib_error(lambda: FeatureCache(root), "root=")
    _quick_musiclib_error(lambda: data.fetch("sonic-pi-samples", root=root, progress=False), "root=")
