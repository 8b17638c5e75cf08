"""musiclib.patches: the patch maker (fixed grid and beats), the stitcher, nearest patches, labels, loading."""

from __future__ import annotations

import numpy as np
import pytest

from musiclib import generate, synth
from musiclib import patches as P
from musiclib.errors import ParameterError


@pytest.fixture(scope="module")
def rep():
    return generate.default_representation()


@pytest.fixture(scope="module")
def music_frames(rep):
    """Three files of synthetic music as log-mel frames (6 s each, different tempi)."""
    return [rep.encode(synth.synthetic_mix(duration=6.0, seed=s, bpm=b)) for s, b in [(0, 100), (1, 128), (2, 140)]]


# -- the fixed grid ------------------------------------------------------------------------------------


def test_grid_shapes_and_bookkeeping():
    f = [np.arange(100 * 3, dtype=np.float32).reshape(100, 3), np.zeros((50, 3)), np.ones((10, 3))]
    p = P.make_patches(f, n_frames=32, hop=16)
    assert p.x.shape == (7, 32, 3) and p.x.dtype == np.float32
    assert p.file_index.tolist() == [0, 0, 0, 0, 0, 1, 1]  # the 10-frame file gives none
    assert p.starts.tolist() == [0, 16, 32, 48, 64, 0, 16]
    assert p.lengths.tolist() == [32] * 7
    assert p.mode == "grid" and p.n_frames == 32 and p.n_features == 3 and len(p) == 7
    np.testing.assert_array_equal(p.x[2], f[0][32:64])
    # default hop: side by side
    q = P.make_patches(f, n_frames=32)
    assert q.starts.tolist() == [0, 32, 64, 0]


def test_grid_then_stitch_rebuilds_the_frames_exactly(music_frames):
    f = music_frames[0]
    for o in (0, 4, 8):
        p = P.make_patches([f], n_frames=32, hop=32 - o)
        back = P.stitch(p, overlap=o)
        assert back.shape == (P.stitched_length(p.x, overlap=o), f.shape[1])
        np.testing.assert_allclose(back, f[: len(back)], atol=1e-3)


def test_labels_default_given_and_unknown():
    f = [np.zeros((40, 2)), np.zeros((40, 2)), np.zeros((40, 2))]
    p = P.make_patches(f, n_frames=20)
    assert p.label_names == ["0", "1", "2"] and p.label.tolist() == [0, 0, 1, 1, 2, 2]
    p = P.make_patches(f, n_frames=20, labels=["rock", "jazz", "rock"])
    assert p.label_names == ["jazz", "rock"] and p.label.tolist() == [1, 1, 0, 0, 1, 1]
    held = P.make_patches(f[:2], n_frames=20, labels=["rock", "polka"], label_names=p.label_names)
    assert held.label.tolist() == [1, 1, P.UNKNOWN_LABEL, P.UNKNOWN_LABEL]
    with pytest.raises(ParameterError, match="one label per file"):
        P.make_patches(f, n_frames=20, labels=["a", "b"])
    with pytest.raises(ParameterError, match="distinct"):
        P.make_patches(f, n_frames=20, label_names=["a", "a"])


def test_subset_and_sequences():
    f = [np.random.default_rng(0).normal(size=(100, 4)), np.zeros((64, 4))]
    p = P.make_patches(f, n_frames=16)
    s = p.subset(p.file_index == 1)
    assert len(s) == 4 and set(s.file_index.tolist()) == {1} and s.label_names == p.label_names
    seqs = p.subset(np.array([7, 0, 2, 1])).sequences()
    assert [q.tolist() for q in seqs] == [[1, 3, 2], [0]]  # positions, time order within each file
    assert len(p.subset(np.array([7, 0, 2, 1])).sequences(min_length=2)) == 1
    with pytest.raises(ParameterError):
        p.subset(np.array([99]))
    assert "patches of 16 frames" in p.describe()


# -- beats ---------------------------------------------------------------------------------------------


def test_beat_patches_resampled_with_lengths_kept():
    f = [np.arange(200, dtype=np.float32)[:, None] * np.ones((1, 3), np.float32)]
    beats = [np.array([10, 30, 55, 80, 120, 150])]
    p = P.make_patches(f, n_frames=16, beats_list=beats)
    assert p.mode == "beats" and p.x.shape == (5, 16, 3)
    assert p.lengths.tolist() == [20, 25, 25, 40, 30] and p.starts.tolist() == [10, 30, 55, 80, 120]
    # a ramp stays a ramp: each patch runs from about its start to about its end
    assert p.x[0, 0, 0] == pytest.approx(10, abs=1) and p.x[0, -1, 0] == pytest.approx(29, abs=1)
    bars = P.make_patches(f, n_frames=16, beats_list=beats, beats_per_patch=2)
    assert bars.lengths.tolist() == [45, 65] and bars.beats_per_patch == 2


def test_beat_patches_put_back_at_their_own_tempo(music_frames):
    f = music_frames[1]
    beats = np.arange(7, len(f) - 40, 40) + np.array([0, 3, -2, 5, 1, 0, 2, -3, 4, 0, 1, 2, 0])[: len(np.arange(7, len(f) - 40, 40))]
    p = P.make_patches([f], n_frames=32, beats_list=[beats])
    back = P.stitch(p, lengths=p.lengths, overlap=0)
    a, b = beats[0], beats[-1]
    assert back.shape == (b - a, f.shape[1])
    # resampled to 32 frames and back: the level contour is kept (dB), detail is smoothed a little
    err = np.sqrt(np.mean((back - f[a:b]) ** 2))
    assert err < 6.0, err
    # each patch starts on its beat: the onsets are where they were
    e_back, e_true = generate.frame_energy_db(back), generate.frame_energy_db(f[a:b])
    assert np.corrcoef(e_back, e_true)[0, 1] > 0.8


def test_beat_errors():
    f = [np.zeros((100, 2))]
    with pytest.raises(ParameterError, match="hop"):
        P.make_patches(f, n_frames=8, hop=4, beats_list=[np.array([0, 10])])
    with pytest.raises(ParameterError, match="entries"):
        P.make_patches(f, n_frames=8, beats_list=[np.array([0, 10]), np.array([0, 10])])
    with pytest.raises(ParameterError, match="increasing"):
        P.make_patches(f, n_frames=8, beats_list=[np.array([0, 30, 10])])
    with pytest.raises(ParameterError, match="NaN"):
        P.make_patches(f, n_frames=8, beats_list=[np.array([0, np.nan])])
    with pytest.raises(ParameterError, match="beats_per_patch"):
        P.make_patches(f, n_frames=8, beats_list=[np.array([0, 10])], beats_per_patch=0)
    with pytest.raises(ParameterError, match="no file"):
        P.make_patches(f, n_frames=8, beats_list=[np.array([5])])
    # a double-tracked beat (one frame apart) is dropped, not stretched 8-fold
    p = P.make_patches(f, n_frames=8, beats_list=[np.array([0, 1, 20, 40])], min_length=2)
    assert p.lengths.tolist() == [19, 20]


@pytest.mark.parametrize("bad", [0, 1, -3, 2.5, True, None, "32"])
def test_bad_n_frames(bad):
    with pytest.raises(ParameterError, match="n_frames"):
        P.make_patches([np.zeros((100, 2))], n_frames=bad)


@pytest.mark.parametrize("frames_list, match", [
    ([], "empty"),
    ([np.zeros(100)], "shape"),
    ([np.zeros((100, 2)), np.zeros((100, 3))], "features"),
    ([np.full((100, 2), np.nan)], "NaN"),
    ([np.full((100, 2), np.inf)], "NaN"),
    ([np.zeros((100, 0))], "shape"),
    ([np.array([["a", "b"]])], "dtype"),
    (42, "list"),
    ([np.zeros((5, 2))], "no file"),
])
def test_bad_frames(frames_list, match):
    with pytest.raises(ParameterError, match=match):
        P.make_patches(frames_list, n_frames=8)


def test_bad_hop():
    for hop in (0, -1, 1.5):
        with pytest.raises(ParameterError, match="hop"):
            P.make_patches([np.zeros((100, 2))], n_frames=8, hop=hop)


# -- resampling ----------------------------------------------------------------------------------------


def test_resample_frames():
    x = np.random.default_rng(0).normal(size=(20, 5)).astype(np.float32)
    assert P.resample_frames(x, n_frames=20) is x or np.array_equal(P.resample_frames(x, n_frames=20), x)
    assert P.resample_frames(x[:1], n_frames=7).shape == (7, 5)
    up = P.resample_frames(x, n_frames=80)
    assert up.shape == (80, 5) and up.min() >= x.min() - 1e-6 and up.max() <= x.max() + 1e-6
    # a smooth signal survives a round trip
    t = np.linspace(0, 1, 40)[:, None]
    s = np.sin(2 * np.pi * t).astype(np.float32)
    np.testing.assert_allclose(P.resample_frames(P.resample_frames(s, n_frames=32), n_frames=40), s, atol=0.05)
    for bad in (0, -2, 1.5):
        with pytest.raises(ParameterError):
            P.resample_frames(x, n_frames=bad)
    with pytest.raises(ParameterError):
        P.resample_frames(np.zeros((0, 3)), n_frames=4)


# -- the stitcher --------------------------------------------------------------------------------------


def _level_steps(frames, seams, overlap):
    """|change of frame level| (dB) across each seam region, and everywhere else."""
    d = np.abs(np.diff(generate.frame_energy_db(frames)))
    mask = np.ones(len(d), bool)
    seam_steps = []
    for s in seams:
        seam_steps.append(d[s - 1 : s + overlap].max())
        mask[s - 1 : s + overlap] = False
    return np.array(seam_steps), d[mask]


def test_stitch_seams_are_no_bigger_steps_than_the_music_makes(music_frames):
    """No click: the level steps at the seams of independent patches stay within the steps inside patches.

    The patches come from three songs in random order with levels 6 dB apart (as a generator's
    patches may be). Put side by side, 90 % of the seams step by up to twice the largest step inside
    any patch, and the median seam by more than 99 % of the steps inside; cross-faded over 4 frames,
    90 % of the seams step by no more than the largest step inside, the median seam by no more than
    the 99th percentile inside, and the largest seam (which also holds the music's own steps
    near it) by at most a quarter more than the largest inside.
    """
    p = P.make_patches(music_frames, n_frames=32)
    rng = np.random.default_rng(0)
    x = p.x[rng.permutation(len(p))].copy()
    x[1::2] -= 6.0
    inside = np.concatenate([np.abs(np.diff(generate.frame_energy_db(q))) for q in p.x])
    largest_inside = inside.max()

    naive = np.concatenate(list(x))
    seam_naive, _ = _level_steps(naive, [32 * i for i in range(1, len(x))], 0)
    # the test can fail: plain concatenation clicks
    assert np.percentile(seam_naive, 90) > 2 * largest_inside
    assert np.median(seam_naive) > np.percentile(inside, 99)

    o = 4
    stitched = P.stitch(x, overlap=o)
    seam, within = _level_steps(stitched, [(32 - o) * i for i in range(1, len(x))], o)
    assert len(seam) == len(x) - 1
    assert np.percentile(seam, 90) <= largest_inside, (np.percentile(seam, 90), largest_inside)
    assert np.median(seam) <= np.percentile(inside, 99)
    assert seam.max() <= 1.25 * largest_inside


def test_stitch_with_lengths_keeps_each_patch_on_its_beat():
    x = np.zeros((3, 8, 1), np.float32)
    x[:, 0] = 10.0  # an "onset" in the first frame of each patch
    out = P.stitch(x, lengths=[20, 30, 25], overlap=0)
    assert out.shape == (75, 1)
    loud = out[:, 0] > 5
    assert np.flatnonzero(loud & ~np.r_[False, loud[:-1]]).tolist() == [0, 20, 50]  # onsets on the beats
    out = P.stitch(x, lengths=[20, 30, 25], overlap=3)
    assert out.shape == (78, 1) == (P.stitched_length(x, lengths=[20, 30, 25], overlap=3), 1)
    assert out[20, 0] > 2 and out[50, 0] > 2  # the onsets are faded in, still on their beats


def test_stitch_one_patch_and_errors():
    x = np.random.default_rng(0).normal(size=(1, 16, 3)).astype(np.float32)
    np.testing.assert_array_equal(P.stitch(x, overlap=4), x[0])
    x2 = np.repeat(x, 3, axis=0)
    for bad in (-1, 1.5, True, 9):
        with pytest.raises(ParameterError, match="overlap"):
            P.stitch(x2, overlap=bad)
    with pytest.raises(ParameterError, match="overlap"):
        P.stitch(x2, lengths=[10, 3, 10], overlap=4)
    with pytest.raises(ParameterError, match="lengths"):
        P.stitch(x2, lengths=[10, 10], overlap=2)
    with pytest.raises(ParameterError, match="lengths"):
        P.stitch(x2, lengths=[10, 0, 10], overlap=0)
    with pytest.raises(ParameterError, match="lengths"):
        P.stitch(x2, lengths=[10, 2.5, 10], overlap=0)
    with pytest.raises(ParameterError, match="shape"):
        P.stitch(x[0], overlap=0)
    with pytest.raises(ParameterError, match="shape"):
        P.stitch(np.zeros((0, 16, 3)), overlap=0)
    bad = x2.copy()
    bad[1, 3, 0] = np.nan
    with pytest.raises(ParameterError, match="NaN"):
        P.stitch(bad, overlap=0)


def test_sequence_to_audio_inverts_once(rep, music_frames):
    p = P.make_patches(music_frames[:1], n_frames=32, beats_list=[np.arange(0, 400, 37)])
    y = P.sequence_to_audio(p, rep, lengths=p.lengths, overlap=4, seed=0)
    n = P.stitched_length(p, lengths=p.lengths, overlap=4)
    assert y.dtype == np.float32 and y.shape == (rep.hop_length * (n - 1),) and np.all(np.isfinite(y))
    assert np.sqrt(np.mean(y**2)) > 1e-3
    np.testing.assert_array_equal(y, P.sequence_to_audio(p, rep, lengths=p.lengths, overlap=4, seed=0))
    with pytest.raises(ParameterError, match="features"):
        P.sequence_to_audio(p.x[:, :, :10], rep)


# -- nearest patches -----------------------------------------------------------------------------------


def test_nearest_patches():
    rng = np.random.default_rng(0)
    train = rng.normal(size=(50, 8, 4)).astype(np.float32)
    q = np.stack([train[7], train[3] + 0.5, rng.normal(size=(8, 4))]).astype(np.float32)
    idx, dist = P.nearest_patches(q, train, batch_size=2)
    assert idx[:2].tolist() == [7, 3]
    assert dist[0] == pytest.approx(0, abs=1e-5) and dist[1] == pytest.approx(0.5, abs=1e-5)
    brute = np.sqrt(((train - q[2]) ** 2).mean(axis=(1, 2)))
    assert idx[2] == brute.argmin() and dist[2] == pytest.approx(brute.min(), rel=1e-5)
    with pytest.raises(ParameterError, match="patch shape"):
        P.nearest_patches(q[:, :4], train)
    with pytest.raises(ParameterError, match="batch_size"):
        P.nearest_patches(q, train, batch_size=0)


# -- labels and loading --------------------------------------------------------------------------------


def test_file_labels(tmp_path):
    flat = [tmp_path / "a.wav", tmp_path / "b.flac"]
    assert P.file_labels(flat, root=tmp_path) == ["a", "b"]
    assert P.file_labels(flat) == ["a", "b"]
    nested = [tmp_path / "jazz" / "x.wav", tmp_path / "rock" / "y.wav", tmp_path / "rock" / "deep" / "z.wav",
              tmp_path / "loose.wav"]
    assert P.file_labels(nested, root=tmp_path) == ["jazz", "rock", "rock", "."]
    with pytest.raises(ParameterError, match="not under"):
        P.file_labels([tmp_path / "a.wav"], root=tmp_path / "elsewhere")
    with pytest.raises(ParameterError):
        P.file_labels([])


def test_load_patch_data_grid(corpus_dir, rep, tmp_path):
    from musiclib.tools.cache import FeatureCache

    cache = FeatureCache(tmp_path / "cache")
    d = P.load_patch_data(corpus_dir, rep, n_frames=32, hop=16, max_duration=3.0, excerpt="middle", seed=0,
                          cache=cache)
    assert len(d.train) + len(d.held_out) == 5 and set(d.train.paths).isdisjoint(d.held_out.paths)
    assert d.train_patches.x.shape[1:] == (32, rep.n_features)
    assert d.held_patches.label_names == d.train_patches.label_names
    # corpus_dir has a sub-folder: labels are folder names ("." for loose files)
    assert set(d.labels["train"] + d.labels["held_out"]) == {".", "sub"}
    # frames came from the cache and match the clips (the middle excerpt)
    assert cache.misses == 5
    clip = d.train.clips[0]
    np.testing.assert_allclose(d.train_frames[0], rep.encode(clip.y), atol=1e-3)
    d2 = P.load_patch_data(corpus_dir, rep, n_frames=32, hop=16, max_duration=3.0, excerpt="middle", seed=0,
                           cache=cache)
    assert cache.hits == 5
    np.testing.assert_array_equal(d2.train_patches.x, d.train_patches.x)
    assert "train:" in d.describe()
    with pytest.raises(ParameterError, match="excerpt"):
        P.load_patch_data(corpus_dir, rep, n_frames=32, excerpt="end")


def test_sequence_to_audio_guard_limits_an_overshoot(rep, music_frames):
    p = P.make_patches(music_frames, n_frames=32)
    guard = generate.StabilityGuard.fit(music_frames, rep)
    x = p.x[:6].copy()
    x[3] += 40.0  # one beat 40 dB too loud, as a decoder fed unseen codes can make
    loose = P.sequence_to_audio(x, rep, overlap=4)
    held = P.sequence_to_audio(x, rep, overlap=4, guard=guard)
    seg = slice(3 * 28 * rep.hop_length, 4 * 28 * rep.hop_length)

    def level(y, part=seg):
        return 20 * np.log10(np.sqrt(np.mean(y[part] ** 2)) + 1e-12)

    assert level(loose) - level(held) > 20  # the guard takes most of the overshoot out
    first = slice(0, 28 * rep.hop_length)
    assert abs(level(loose, first) - level(held, first)) < 1.5  # and leaves ordinary beats alone
