"""Tests for musiclib.audio: loading every format and failure, atomic saving, signal helpers."""

from __future__ import annotations

import os
import warnings

import numpy as np
import pytest
import soundfile as sf

from _audio_fixtures import listing, peak_frequency, truncate, write_tone
from musiclib import audio, synth
from musiclib.errors import AudioFileError, MusiclibError, ParameterError

SR = audio.DEFAULT_SR


# --------------------------------------------------------------------------------------------------
# bad files
# --------------------------------------------------------------------------------------------------
def test_missing_file(tmp_path):
    p = tmp_path / "nope.wav"
    with pytest.raises(AudioFileError, match="nope.wav.*not found"):
        audio.load(p)


def test_empty_file(tmp_path):
    p = tmp_path / "empty.wav"
    p.write_bytes(b"")
    with pytest.raises(AudioFileError, match="empty.wav.*empty"):
        audio.load(p)
    with pytest.raises(AudioFileError, match="empty.wav"):
        audio.info(p)


def test_directory_is_not_audio(tmp_path):
    d = tmp_path / "folder.wav"
    d.mkdir()
    with pytest.raises(AudioFileError, match="folder.wav.*directory"):
        audio.load(d)


def test_truncated_wav_is_detected(tmp_path):
    p = tmp_path / "cut.wav"
    write_tone(p, duration=1.0)
    # libsndfile itself reads the remaining half without complaint ...
    assert sf.info(str(truncate(p, fraction=0.5))).frames > 0
    # ... so load() must check the data chunk against the header
    with pytest.raises(AudioFileError, match=r"cut\.wav.*truncated"):
        audio.load(p)


@pytest.mark.parametrize("subtype", ["PCM_16", "FLOAT"])
@pytest.mark.parametrize("fraction", [0.2, 0.9, 0.999])
def test_truncated_wav_any_cut(tmp_path, subtype, fraction):
    p = tmp_path / "cut.wav"
    write_tone(p, duration=0.5, subtype=subtype)
    truncate(p, fraction=fraction)
    with pytest.raises(AudioFileError, match=r"cut\.wav.*truncated"):
        audio.load(p)


def test_truncated_aiff_is_detected(tmp_path):
    p = tmp_path / "cut.aiff"
    write_tone(p, duration=1.0)
    truncate(p, fraction=0.5)
    with pytest.raises(AudioFileError, match=r"cut\.aiff.*truncated"):
        audio.load(p)


@pytest.mark.parametrize("ext", ["flac", "mp3"])
@pytest.mark.parametrize("fraction", [0.3, 0.5, 0.8])
def test_truncated_compressed(tmp_path, ext, fraction):
    p = tmp_path / f"cut.{ext}"
    write_tone(p, duration=1.0)
    audio.load(p)  # intact: fine
    truncate(p, fraction=fraction)
    with pytest.raises(AudioFileError, match=rf"cut\.{ext}"):
        audio.load(p)


def test_text_in_wav(tmp_path):
    p = tmp_path / "x.wav"
    p.write_text("this is not audio, just words\n" * 50)
    with pytest.raises(AudioFileError, match=r"x\.wav.*not a readable audio file"):
        audio.load(p)


def test_random_bytes_in_flac(tmp_path):
    p = tmp_path / "x.flac"
    p.write_bytes(np.random.default_rng(0).bytes(4096))
    with pytest.raises(AudioFileError, match=r"x\.flac"):
        audio.load(p)


def test_silent_file(tmp_path):
    p = tmp_path / "quiet.wav"
    sf.write(str(p), np.zeros(2048), SR)
    with pytest.raises(AudioFileError, match=r"quiet\.wav.*silent"):
        audio.load(p)
    y, sr = audio.load(p, allow_silent=True)
    assert sr == SR and y.shape == (2048,) and not np.any(y)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nonfinite_samples(tmp_path, bad):
    p = tmp_path / "nan.wav"
    y = synth.tone(440, duration=0.1).astype(np.float32)
    y[100] = bad
    sf.write(str(p), y, SR, subtype="FLOAT")
    with pytest.raises(AudioFileError, match=r"nan\.wav.*1 NaN or infinite"):
        audio.load(p)


def test_errors_are_value_errors(tmp_path):
    p = tmp_path / "empty.wav"
    p.write_bytes(b"")
    with pytest.raises(ValueError):
        audio.load(p)
    with pytest.raises(MusiclibError):
        audio.load(p)


# --------------------------------------------------------------------------------------------------
# bad parameters
# --------------------------------------------------------------------------------------------------
@pytest.fixture
def tone_wav(tmp_path):
    p = tmp_path / "tone.wav"
    write_tone(p, duration=0.5, subtype="FLOAT")
    return p


@pytest.mark.parametrize(
    "kwargs, pattern",
    [
        ({"offset": -1.0}, r"offset=-1\.0"),
        ({"offset": float("nan")}, r"offset=nan"),
        ({"duration": 0}, r"duration=0\b"),
        ({"duration": -0.5}, r"duration=-0\.5"),
        ({"sr": 0}, r"sr=0\b"),
        ({"sr": -8000}, r"sr=-8000"),
        ({"sr": 22050.5}, r"sr=22050\.5"),
    ],
)
def test_load_bad_parameters(tone_wav, kwargs, pattern):
    with pytest.raises(ParameterError, match=pattern):
        audio.load(tone_wav, **kwargs)


def test_offset_past_end(tone_wav):
    with pytest.raises(AudioFileError, match=r"tone\.wav.*offset=2\.0"):
        audio.load(tone_wav, offset=2.0)


def test_offset_and_duration(tmp_path):
    p = tmp_path / "ramp.wav"
    ramp = (np.arange(SR) / SR).astype(np.float32) * 0.5 + 0.1
    sf.write(str(p), ramp, SR, subtype="FLOAT")
    y, _ = audio.load(p, offset=0.25, duration=0.5)
    assert len(y) == SR // 2
    np.testing.assert_allclose(y, ramp[SR // 4 : SR // 4 + SR // 2], atol=1e-7)
    y, _ = audio.load(p, offset=0.75)  # to the end
    np.testing.assert_allclose(y, ramp[int(round(0.75 * SR)) :], atol=1e-7)


# --------------------------------------------------------------------------------------------------
# formats, rates, channels
# --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "subtype, atol",
    [("PCM_U8", 1 / 64), ("PCM_16", 1e-4), ("PCM_24", 1e-6), ("PCM_32", 1e-7), ("FLOAT", 1e-7), ("DOUBLE", 1e-7)],
)
def test_wav_sample_types(tmp_path, subtype, atol):
    p = tmp_path / f"{subtype}.wav"
    written = write_tone(p, duration=0.2, subtype=subtype)[:, 0]
    assert sf.info(str(p)).subtype == subtype
    y, sr = audio.load(p)
    assert sr == SR and y.dtype == np.float32 and y.shape == written.shape
    np.testing.assert_allclose(y, written, atol=atol)


@pytest.mark.parametrize("file_sr", [8000, 11025, 16000, 22050, 44100, 48000, 88200, 96000])
def test_sample_rates_resample(tmp_path, file_sr):
    p = tmp_path / f"tone_{file_sr}.wav"
    n = int(0.5 * file_sr)
    write_tone(p, freq=1000.0, duration=0.5, sr=file_sr, subtype="FLOAT")
    y, sr = audio.load(p)
    assert sr == SR and y.dtype == np.float32
    assert abs(len(y) - n * SR / file_sr) <= 1
    assert abs(peak_frequency(y, SR) - 1000.0) <= SR / len(y)
    # sr=None keeps the file's rate
    y0, sr0 = audio.load(p, sr=None)
    assert sr0 == file_sr and len(y0) == n


@pytest.mark.parametrize("channels", [1, 2, 3, 4, 5, 6])
def test_channels_mix_to_mean(tmp_path, channels):
    p = tmp_path / f"ch{channels}.wav"
    written = write_tone(p, duration=0.1, channels=channels, subtype="FLOAT")
    y, _ = audio.load(p)
    assert y.shape == (written.shape[0],)
    np.testing.assert_allclose(y, written.mean(axis=1), atol=1e-6)
    ym, _ = audio.load(p, mono=False)
    assert ym.shape == (channels, written.shape[0])
    np.testing.assert_allclose(ym, written.T, atol=1e-6)


@pytest.mark.parametrize("ext", ["flac", "ogg", "mp3", "aiff"])
def test_compressed_and_other_formats(tmp_path, ext):
    p = tmp_path / f"tone.{ext}"
    written = write_tone(p, freq=660.0, duration=0.5, sr=44100)[:, 0]
    y, sr = audio.load(p)
    assert sr == SR and y.dtype == np.float32
    assert abs(len(y) - len(written) * SR / 44100) <= 1
    assert abs(peak_frequency(y, SR) - 660.0) <= 2 * SR / len(y)
    meta = audio.info(p)
    assert meta["sr"] == 44100 and meta["channels"] == 1 and meta["duration"] == pytest.approx(0.5, abs=0.01)


def test_to_mono_and_resample():
    y = np.stack([np.ones(10), np.zeros(10), -np.ones(10) * 0.5])
    np.testing.assert_allclose(audio.to_mono(y), np.full(10, 0.5 / 3), rtol=1e-6)
    assert audio.to_mono(np.ones(5)).shape == (5,)
    with pytest.raises(ParameterError, match=r"shape \(2, 2, 2\)"):
        audio.to_mono(np.zeros((2, 2, 2)))
    x = synth.tone(500, duration=1.0, sr=44100)
    r = audio.resample(x, orig_sr=44100, target_sr=SR)
    assert r.dtype == np.float32 and abs(len(r) - SR) <= 1
    with pytest.raises(ParameterError, match=r"target_sr=-1"):
        audio.resample(x, orig_sr=44100, target_sr=-1)
    st = audio.resample(np.stack([x, x]), orig_sr=44100, target_sr=SR)
    assert st.shape == (2, len(r))


# --------------------------------------------------------------------------------------------------
# save
# --------------------------------------------------------------------------------------------------
def test_save_load_round_trip(tmp_path):
    y = synth.synthetic_mix(duration=0.5)
    p = audio.save(tmp_path / "out.wav", y, sr=SR, subtype="FLOAT")
    y2, sr = audio.load(p)
    assert sr == SR
    np.testing.assert_array_equal(y2, y)
    p16 = audio.save(tmp_path / "out16.wav", y, sr=SR)
    np.testing.assert_allclose(audio.load(p16)[0], y, atol=1e-4)
    st = np.stack([y, -y])
    ps = audio.save(tmp_path / "st.flac", st, sr=SR)
    y3, _ = audio.load(ps, mono=False)
    np.testing.assert_allclose(y3, st, atol=1e-4)
    assert listing(tmp_path) == ["out.wav", "out16.wav", "st.flac"]


def test_save_refuses_to_overwrite(tmp_path):
    p = tmp_path / "keep.wav"
    audio.save(p, synth.tone(440, duration=0.1), sr=SR)
    before = p.read_bytes()
    with pytest.raises(AudioFileError, match=r"keep\.wav.*already exists.*overwrite=True"):
        audio.save(p, synth.tone(880, duration=0.2), sr=SR)
    assert p.read_bytes() == before
    assert listing(tmp_path) == ["keep.wav"]  # no temporary file left behind
    audio.save(p, synth.tone(880, duration=0.2), sr=SR, overwrite=True)
    assert p.read_bytes() != before
    assert abs(peak_frequency(audio.load(p)[0], SR) - 880) < 10
    assert listing(tmp_path) == ["keep.wav"]


def test_save_is_atomic_when_writing_fails(tmp_path, monkeypatch):
    p = tmp_path / "crash.wav"
    old = tmp_path / "old.wav"
    audio.save(old, synth.tone(440, duration=0.1), sr=SR)
    before = old.read_bytes()
    real_write = sf.write

    def half_write(file, data, samplerate, **kw):  # write part of the file, then fail
        real_write(file, data[: len(data) // 2], samplerate, **kw)
        raise RuntimeError("disk full")

    monkeypatch.setattr(sf, "write", half_write)
    with pytest.raises(RuntimeError, match="disk full"):
        audio.save(p, synth.tone(440, duration=0.2), sr=SR)
    with pytest.raises(RuntimeError, match="disk full"):
        audio.save(old, synth.tone(440, duration=0.2), sr=SR, overwrite=True)
    assert not p.exists()
    assert old.read_bytes() == before
    assert listing(tmp_path) == ["old.wav"]


@pytest.mark.parametrize(
    "y, kwargs, pattern",
    [
        (np.zeros(0), {"sr": SR}, r"shape \(0,\)"),
        (np.zeros((1, 2, 3)), {"sr": SR}, r"shape \(1, 2, 3\)"),
        (np.array([0.0, np.nan]), {"sr": SR}, r"NaN.*bad\.wav"),
        (np.zeros(10), {"sr": 0}, r"sr=0"),
    ],
)
def test_save_bad_input(tmp_path, y, kwargs, pattern):
    with pytest.raises(ParameterError, match=pattern):
        audio.save(tmp_path / "bad.wav", y, **kwargs)
    assert listing(tmp_path) == []


@pytest.mark.parametrize("ext", audio.AUDIO_EXTENSIONS)
def test_save_every_listed_extension(tmp_path, ext):
    y = synth.tone(440, duration=0.2)
    p = audio.save(tmp_path / f"out{ext}", y, sr=SR)
    back, sr = audio.load(p)
    assert sr == SR and abs(len(back) - len(y)) <= 1
    assert abs(peak_frequency(back, SR) - 440) <= 2 * SR / len(y)
    assert listing(tmp_path) == [f"out{ext}"]


@pytest.mark.parametrize(
    "name, subtype, pattern",
    [
        ("out.xyz", None, r"out\.xyz.*'\.xyz'"),
        ("noextension", None, r"noextension.*extension ''"),
        ("out.flac", "FLOAT", r"out\.flac.*subtype='FLOAT'"),
    ],
)
def test_save_bad_format(tmp_path, name, subtype, pattern):
    with pytest.raises(ParameterError, match=pattern):
        audio.save(tmp_path / name, synth.tone(440, duration=0.1), sr=SR, subtype=subtype)
    assert listing(tmp_path) == []


# --------------------------------------------------------------------------------------------------
# levels, trimming, fragments, beats
# --------------------------------------------------------------------------------------------------
def test_normalize_peak():
    y = synth.tone(440, duration=0.2, amplitude=0.1)
    out = audio.normalize_peak(y, peak=0.5)
    assert out.dtype == np.float32
    assert np.max(np.abs(out)) == pytest.approx(0.5, rel=1e-6)
    np.testing.assert_allclose(out / 5.0, y, rtol=1e-5, atol=1e-7)
    with pytest.warns(UserWarning, match="silent"):
        z = audio.normalize_peak(np.zeros(100))
    assert not np.any(z)
    with pytest.raises(ParameterError, match=r"peak=-1"):
        audio.normalize_peak(y, peak=-1)


def test_normalize_rms():
    y = synth.synthetic_mix(duration=1.0) * 0.01
    out = audio.normalize_rms(y, target_db=-30.0)
    assert audio.rms_db(out) == pytest.approx(-30.0, abs=0.01)
    assert out.dtype == np.float32
    loud = audio.normalize_rms(y, target_db=-3.0, peak=0.9)  # peak limit wins
    assert np.max(np.abs(loud)) == pytest.approx(0.9, rel=1e-5)
    assert audio.rms_db(loud) < -3.0
    with pytest.raises(ParameterError, match=r"target_db=3"):
        audio.normalize_rms(y, target_db=3)
    with pytest.warns(UserWarning, match="silent"):
        audio.normalize_rms(np.zeros(100))
    assert audio.rms_db(np.zeros(10)) == -np.inf
    assert audio.rms_db(np.ones(10)) == pytest.approx(0.0)


def test_trim_silence_boundaries():
    pad_a, pad_b = int(0.7 * SR), int(1.1 * SR)
    tone = synth.tone(440, duration=1.0)
    y = np.concatenate([np.zeros(pad_a), tone, np.zeros(pad_b)]).astype(np.float32)
    trimmed, (start, end) = audio.trim_silence(y, frame_length=1024, hop_length=256)
    # boundaries within one frame of the truth, and the whole tone kept
    assert pad_a - 1024 <= start <= pad_a
    assert pad_a + len(tone) <= end <= pad_a + len(tone) + 1024
    np.testing.assert_array_equal(trimmed, y[start:end])
    # nothing to trim
    _, (s2, e2) = audio.trim_silence(tone)
    assert (s2, e2) == (0, len(tone))
    # all silence
    t3, (s3, e3) = audio.trim_silence(np.zeros(5000))
    assert len(t3) == 0 and s3 == e3 == 0
    with pytest.raises(ParameterError, match=r"hop_length=0"):
        audio.trim_silence(y, hop_length=0)
    with pytest.raises(ParameterError, match=r"shape \(2, 10\)"):
        audio.trim_silence(np.zeros((2, 10)))


def test_fragment_bounds():
    y = np.arange(SR * 2, dtype=np.float32)
    f = audio.fragment(y, sr=SR, start=0.5, duration=1.0)
    np.testing.assert_array_equal(f, y[SR // 2 : SR // 2 + SR])
    assert len(audio.fragment(y, sr=SR, start=1.0, duration=1.0)) == SR  # exactly to the end
    with pytest.raises(ParameterError, match=r"start=1\.5 s \+ duration=1\.0 s.*2\.000 s"):
        audio.fragment(y, sr=SR, start=1.5, duration=1.0)
    with pytest.raises(ParameterError, match=r"start=-0\.1"):
        audio.fragment(y, sr=SR, start=-0.1, duration=1.0)
    with pytest.raises(ParameterError, match=r"duration=0\b"):
        audio.fragment(y, sr=SR, start=0.0, duration=0)
    st = np.stack([y, y])
    assert audio.fragment(st, sr=SR, start=0.0, duration=0.5).shape == (2, SR // 2)


def test_loud_fragments_picks_loud_never_silent():
    seg = SR // 2
    rng = np.random.default_rng(0)
    levels = [0.0, 0.5, 0.0, 0.05, 0.0, 0.9, 0.0, 0.2]  # eight half-second segments
    y = np.concatenate([lv * rng.standard_normal(seg) for lv in levels]).astype(np.float32)
    frags = audio.loud_fragments(y, sr=SR, duration=0.5, n=3)
    starts = [s for s, _ in frags]
    assert starts == sorted(starts)
    assert [round(s * 2) for s in starts] == [1, 5, 7]  # the three loudest segments, in time order
    for s, f in frags:
        assert len(f) == seg
        np.testing.assert_array_equal(f, y[int(round(s * SR)) : int(round(s * SR)) + seg])
    # ask for more than there are loud segments: silent ones are never picked
    frags = audio.loud_fragments(y, sr=SR, duration=0.5, n=8)
    assert len(frags) == 4
    for _, f in frags:
        assert audio.rms_db(f) > -50
    assert audio.loud_fragments(np.zeros(SR), sr=SR, duration=0.25) == []
    with pytest.raises(ParameterError, match=r"duration=2\.0"):
        audio.loud_fragments(y[:SR], sr=SR, duration=2.0)


def test_no_warnings_on_clean_load(tone_wav):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y, sr = audio.load(tone_wav)
    assert len(y) == int(0.5 * SR)
    assert os.path.exists(tone_wav)
