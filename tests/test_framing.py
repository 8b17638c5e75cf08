"""Tests for musiclib.framing: next-frame datasets, scalers, PCA."""

from __future__ import annotations

import numpy as np
import pytest

from musiclib import framing
from musiclib.errors import ParameterError
from musiclib.framing import N_SUMMARY_ROWS, Chain, FramePCA, FrameScaler, Framing, next_frame_dataset


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
    assert fr.n_rows == 2 + N_SUMMARY_ROWS
    assert X.shape == (12 - 5 + 7 - 5, fr.n_rows, 3)
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
    sc = FrameScaler().fit(train)
    z = np.concatenate(sc.transform(train))
    np.testing.assert_allclose(z.mean(0), 0, atol=1e-5)
    np.testing.assert_allclose(z.std(0), 1, atol=1e-4)
    assert sc.transform(test).mean() > 10  # test data is not used for the fit
    np.testing.assert_allclose(sc.inverse_transform(sc.transform(test)), test, rtol=1e-5)
    const = FrameScaler().fit([np.ones((5, 2), np.float32)])
    np.testing.assert_array_equal(const.std_, 1.0)
    with pytest.raises(ParameterError, match="not fitted"):
        FrameScaler().transform(test)


def test_pca_and_chain():
    rng = np.random.default_rng(2)
    basis = rng.standard_normal((3, 10))
    frames = (rng.standard_normal((200, 3)) @ basis).astype(np.float32)
    pca = FramePCA(3).fit([frames])
    assert pca.explained_variance_ratio_ > 0.999
    np.testing.assert_allclose(pca.inverse_transform(pca.transform(frames)), frames, atol=1e-4)
    ch = Chain(FrameScaler(), FramePCA(0.99)).fit([frames])
    assert ch.n_features_out == 3
    np.testing.assert_allclose(ch.inverse_transform(ch.transform(frames)), frames, atol=1e-3)
    with pytest.raises(ParameterError):
        FramePCA(0)
    with pytest.raises(ParameterError):
        FramePCA(1.5)
    with pytest.raises(ParameterError, match="exceeds"):
        FramePCA(50).fit([frames[:20]])


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
