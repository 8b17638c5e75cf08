"""Tests for musiclib.framing: next-frame datasets, the clock rows, scalers and PCA, beat phases."""

from __future__ import annotations

import numpy as np
import pytest

from musiclib import framing
from musiclib.errors import ParameterError
from musiclib.framing import (N_SUMMARY_ROWS, Framing, clock_features, frame_scaler, next_frame_dataset,
                              transform_each)


def _files():
    # values encode (file, frame, feature) so windows can be checked exactly
    return [
        np.array([[1000 * f + 10 * t + k for k in range(3)] for t in range(n)], np.float32)
        for f, n in enumerate([12, 7, 3])
    ]


@pytest.mark.parametrize("context", [1, 2, 4])
def test_dataset_windows_never_cross_files(context):
    files = _files()
    X, Y = next_frame_dataset(files, context=context)
    expected = sum(max(0, len(f) - context) for f in files)
    assert X.shape == (expected, context, 3) and Y.shape == (expected, 3)
    assert X.dtype == np.float32 and Y.dtype == np.float32
    # every row of a window and its target come from the same file, consecutive frames
    file_of = lambda v: int(v // 1000)  # noqa: E731
    for x, y in zip(X, Y):
        assert {file_of(v) for v in x[:, 0]} == {file_of(y[0])}
        np.testing.assert_array_equal(np.diff(np.r_[x[:, 0], y[0]]), 10)


def test_dataset_stride_and_summary_rows():
    files = _files()
    fr = Framing(context=2, lookback=5, summary=True, n_loudest=1)
    X, Y = fr.dataset(files)
    assert fr.n_rows(3) == 2 + N_SUMMARY_ROWS
    assert X.shape == (12 - 5 + 7 - 5, fr.n_rows(3), 3)
    f0 = files[0]
    # first example of file 0: target frame 5, context frames 3-4, look-back frames 0-4
    np.testing.assert_array_equal(X[0, :2], f0[3:5])
    np.testing.assert_array_equal(Y[0], f0[5])
    np.testing.assert_array_equal(X[0, 2], f0[0:5].max(0))
    np.testing.assert_array_equal(X[0, 3], f0[0:5].min(0))
    np.testing.assert_allclose(X[0, 4], f0[0:5].mean(0))
    np.testing.assert_array_equal(X[0, 5], [0, 0, 1])  # loudest feature is the last
    Xs, Ys = fr.dataset(files, stride=3)
    np.testing.assert_array_equal(Xs[0], X[0])
    assert len(Xs) == len(range(5, 12, 3)) + len(range(5, 7, 3))


def test_window_matches_dataset():
    f = np.random.default_rng(0).standard_normal((40, 5)).astype(np.float32)
    fr = Framing(context=3, lookback=8, summary=True)
    X, _ = fr.dataset([f])
    # the input for target t=20 is example 20 - history
    np.testing.assert_allclose(fr.window(f[:20])[0], X[20 - fr.history], rtol=1e-6)
    fr2 = Framing(context=3)
    X2, _ = fr2.dataset([f])
    np.testing.assert_array_equal(fr2.window(f[:10])[0], X2[10 - 3])


@pytest.mark.parametrize(
    "kwargs", [{"context": 0}, {"context": 2.5}, {"context": 4, "lookback": 2, "summary": True}, {"context": 2, "n_loudest": 0}]
)
def test_framing_bad_parameters(kwargs):
    with pytest.raises(ParameterError):
        Framing(**kwargs)


def test_dataset_errors():
    with pytest.raises(ParameterError, match="history"):
        next_frame_dataset([np.zeros((3, 2), np.float32)], context=3)
    with pytest.raises(ParameterError, match="features"):
        next_frame_dataset([np.zeros((9, 2)), np.zeros((9, 3))], context=2)
    with pytest.raises(ParameterError, match="NaN"):
        next_frame_dataset([np.full((9, 2), np.nan)], context=2)
    with pytest.raises(ParameterError, match="empty"):
        next_frame_dataset([], context=2)
    with pytest.raises(ParameterError, match="history"):
        Framing(context=4).window(np.zeros((3, 2), np.float32))


def test_scaler_fits_train_only_and_inverts():
    rng = np.random.default_rng(1)
    train = [rng.normal(5, 2, (50, 4)).astype(np.float32), rng.normal(5, 2, (30, 4)).astype(np.float32)]
    test = rng.normal(100, 1, (20, 4)).astype(np.float32)
    sc = frame_scaler(train)
    z = np.concatenate(transform_each(sc, train))
    assert z.dtype == np.float32
    np.testing.assert_allclose(z.mean(0), 0, atol=1e-5)
    np.testing.assert_allclose(z.std(0), 1, atol=1e-4)
    assert sc.transform(test).mean() > 10  # test data is not used for the fit
    np.testing.assert_allclose(sc.inverse_transform(sc.transform(test)), test, rtol=1e-5)
    const = frame_scaler([np.ones((5, 2), np.float32)])
    np.testing.assert_array_equal(const.transform(np.ones((3, 2), np.float32)), 0.0)  # shifted, not blown up
    with pytest.raises(ParameterError, match="NaN"):
        frame_scaler([np.full((5, 2), np.nan)])
    with pytest.raises(ParameterError, match="empty"):
        frame_scaler([])


def test_scaler_with_pca():
    rng = np.random.default_rng(2)
    basis = rng.standard_normal((3, 10))
    frames = (rng.standard_normal((200, 3)) @ basis).astype(np.float32)
    pca = frame_scaler([frames], n_components=3)
    assert pca[-1].explained_variance_ratio_.sum() > 0.999
    np.testing.assert_allclose(pca.inverse_transform(pca.transform(frames)), frames, atol=1e-4)
    by_fraction = frame_scaler([frames], n_components=0.99)
    assert by_fraction.transform(frames).shape == (200, 3)
    for bad in (0, 1.5, -1, True):
        with pytest.raises(ParameterError):
            frame_scaler([frames], n_components=bad)
    with pytest.raises(ParameterError, match="exceeds"):
        frame_scaler([frames[:20]], n_components=50)


# -- the clock --------------------------------------------------------------------------------------


def test_clock_features_are_harmonics_of_the_phase():
    from musiclib import beats

    p = beats.clock(n_frames=50, bpm=100.0, frames_per_second=20.0, start_phase=0.3)
    np.testing.assert_allclose(clock_features(p, harmonics=1), p, atol=1e-6)
    c = clock_features(p, harmonics=3)
    assert c.shape == (50, 12) and c.dtype == np.float32
    beat = np.arctan2(p[:, 0], p[:, 1])
    bar = np.arctan2(p[:, 2], p[:, 3])
    np.testing.assert_allclose(c[:, 8], np.sin(3 * beat), atol=1e-5)  # k = 3: sin(3 b), cos(3 b), sin(3 B), cos(3 B)
    np.testing.assert_allclose(c[:, 11], np.cos(3 * bar), atol=1e-5)
    for bad in (np.zeros((5, 3)), np.full((5, 4), np.nan)):
        with pytest.raises(ParameterError, match="phase"):
            clock_features(bad)
    with pytest.raises(ParameterError, match="harmonics"):
        clock_features(p, harmonics=0)


def test_dataset_clock_rows_hold_the_target_phase():
    from musiclib import beats

    files = _files()
    phases = [beats.clock(n_frames=len(f), bpm=120.0, frames_per_second=8.0, start_phase=i) for i, f in enumerate(files)]
    fr = Framing(context=2, clock=True, harmonics=2)  # 8 clock values in rows of 3: 3 clock rows
    assert fr.n_clock == 8 and fr.n_rows(3) == 2 + 3
    X, Y = fr.dataset(files, phases=phases)
    assert X.shape == (12 - 2 + 7 - 2 + 3 - 2, 5, 3)
    np.testing.assert_array_equal(X[:, :2], next_frame_dataset(files, context=2)[0])  # the context is unchanged
    # example 0 predicts frame 2 of file 0: its clock rows hold frame 2's clock features, zero-padded
    flat = X[0, 2:].reshape(-1)
    np.testing.assert_allclose(flat[:8], clock_features(phases[0][2:3], harmonics=2)[0], atol=1e-6)
    np.testing.assert_array_equal(flat[8:], 0.0)
    # the window for one roll-out step is the same input
    step = fr.window(files[0][:2], clock_rows=fr.clock_rows(phases[0][2:3], 3)[0])
    np.testing.assert_array_equal(step[0], X[0])
    with pytest.raises(ParameterError, match="phases"):
        fr.dataset(files)
    with pytest.raises(ParameterError, match="frames"):
        fr.dataset(files, phases=[p[:-1] for p in phases])
    with pytest.raises(ParameterError, match="clock=False"):
        Framing(context=2).dataset(files, phases=phases)
    with pytest.raises(ParameterError, match="clock_rows"):
        fr.window(files[0][:2])


def test_track_phases_on_a_click_track(tmp_path, monkeypatch):
    """Beat-phase features of a click track at a known tempo: phase 0 on every click, a bar every 4 clicks."""
    import librosa

    monkeypatch.setenv("MUSICLIB_CACHE", str(tmp_path / "cache"))
    sr, bpm, fps = 22050, 120.0, 22050 / 256
    clicks = np.arange(0.5, 12.0, 60.0 / bpm)
    y = librosa.clicks(times=clicks, sr=sr, length=12 * sr).astype(np.float32)
    n_frames = 1 + len(y) // 256
    (phase,), (beats_,) = framing.track_phases([y], sr=sr, n_frames=[n_frames], frames_per_second=fps)
    assert beats_.tempo == pytest.approx(bpm, rel=0.01)
    assert phase.shape == (n_frames, 4) and phase.dtype == np.float32
    at_clicks = np.round(clicks[1:-1] * fps).astype(int)
    assert np.all(phase[at_clicks, 1] > 0.95)  # cos of the beat phase: 1 on a beat
    between = np.round((clicks[1:-1] + 30.0 / bpm) * fps).astype(int)
    assert np.all(phase[between, 1] < -0.95)  # -1 half-way between beats
    bar_cos = phase[at_clicks, 3]
    assert np.sum(bar_cos > 0.95) == pytest.approx(len(at_clicks) / 4, abs=1)  # one downbeat in four
    # the second call comes from the cache, identical
    (again,), _ = framing.track_phases([y], sr=sr, n_frames=[n_frames], frames_per_second=fps)
    np.testing.assert_array_equal(again, phase)
    assert any((tmp_path / "cache" / "beats").rglob("*.pkl"))
    with pytest.raises(ParameterError, match="frame counts"):
        framing.track_phases([y], sr=sr, n_frames=[], frames_per_second=fps)


def test_load_next_frame_data_splits_by_file_and_picks_a_held_out_prime(corpus_dir, tmp_path, monkeypatch):
    from musiclib.tools.cache import FeatureCache
    from musiclib.errors import CorpusError
    from musiclib.representations import MelSpectrogram

    rep = MelSpectrogram(n_fft=512, n_mels=32, scale="db")
    monkeypatch.setenv("MUSICLIB_CACHE", str(tmp_path / "cache"))
    nf = framing.load_next_frame_data(corpus_dir, rep, held_out=0.4, seed=3)
    train, held = set(nf.train.paths), set(nf.held_out.paths)
    assert train and held and not train & held and len(train | held) == 5
    assert len(nf.train_frames) == len(nf.train) and len(nf.held_frames) == len(nf.held_out)
    for clip, frames in zip(nf.held_out.clips, nf.held_frames):
        assert frames.shape == (rep.n_frames(len(clip.y)), rep.n_features)
    # no loop_* files here: the prime is the longest held-out clip
    assert nf.prime_clip.path in held
    assert len(nf.prime_clip.y) == max(len(c.y) for c in nf.held_out.clips)
    named = framing.load_next_frame_data(corpus_dir, rep, held_out=0.4, seed=3,
                                         prime_file=nf.held_out.clips[-1].path.stem)
    assert named.prime_clip.path == nf.held_out.clips[-1].path
    with pytest.raises(CorpusError, match="no clip named"):
        framing.load_next_frame_data(corpus_dir, rep, held_out=0.4, seed=3, prime_file="not_there")
    assert FeatureCache(tmp_path / "cache").clear() == 5


def test_load_next_frame_data_with_clock_and_middle_excerpts(corpus_dir, tmp_path, monkeypatch):
    from musiclib import audio
    from musiclib.representations import MelSpectrogram

    rep = MelSpectrogram(n_fft=512, n_mels=32, scale="db")
    monkeypatch.setenv("MUSICLIB_CACHE", str(tmp_path / "cache"))
    nf = framing.load_next_frame_data(corpus_dir, rep, held_out=0.4, seed=3, max_duration=1.5, excerpt="middle",
                                      clock=True)
    assert nf.tempo > 0 and len(nf.train_beats) == len(nf.train)
    for frames, phase, clip in zip(nf.train_frames, nf.train_phases, nf.train.clips):
        assert phase.shape == (len(frames), 4)
        # the cached frames are those of the middle excerpt the corpus loaded
        np.testing.assert_allclose(frames, rep.encode(clip.y), atol=1e-4)
    assert len(nf.held_phases) == len(nf.held_frames)
    assert nf.bar_frames() == round(4 * 60 / nf.tempo * rep.frames_per_second)
    assert "BPM" in nf.describe()
    plain = framing.load_next_frame_data(corpus_dir, rep, held_out=0.4, seed=3, max_duration=1.5)
    assert plain.train_phases is None and plain.tempo is None
    with pytest.raises(ParameterError, match="clock=True"):
        plain.bar_frames()
    with pytest.raises(ParameterError, match="excerpt"):
        framing.load_frames(plain.train, rep, max_duration=1.0, excerpt="end")
    assert audio.info(nf.train.clips[0].path)["duration"] >= len(nf.train.clips[0].y) / rep.sr


def test_load_split_is_the_base_of_both_loaders(corpus_dir, tmp_path, monkeypatch):
    from musiclib.representations import MelSpectrogram
    from musiclib.tools.cache import FeatureCache

    rep = MelSpectrogram(n_fft=512, n_mels=32, scale="db")
    monkeypatch.setenv("MUSICLIB_CACHE", str(tmp_path / "cache"))
    split = framing.load_split(corpus_dir, rep, held_out=0.4, seed=3, max_files=2)
    assert len(split.train) == len(split.train_frames) <= 2 and len(split.held_out) == len(split.held_frames)
    # max_files trims the training side only: the held-out side is the whole split's (the card's reference)
    whole = framing.load_split(corpus_dir, rep, held_out=0.4, seed=3)
    assert split.held_out.paths == whole.held_out.paths and split.train.paths == whole.train.paths[:2]
    assert split.held_out.root == whole.corpus.root
    assert not set(split.train.paths) & set(split.held_out.paths) and split.sr == rep.sr
    for clip, frames in zip(split.train.clips, split.train_frames):
        assert frames.shape == (rep.n_frames(len(clip.y)), rep.n_features)
    nf = framing.load_next_frame_data(corpus_dir, rep, held_out=0.4, seed=3)
    assert isinstance(nf, framing.SplitFrames) and set(nf.fields()) == set(split.fields())
    for bad in (0, -1, 1.5, "2"):
        with pytest.raises(ParameterError, match="max_files"):
            framing.load_split(corpus_dir, rep, max_files=bad)
    assert FeatureCache(tmp_path / "cache").clear() >= 1
