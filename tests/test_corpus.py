"""Tests for musiclib.corpus: discovery, loading with a skipped-file report, split by file, summary."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from _audio_fixtures import truncate, write_tone
from musiclib import corpus
from musiclib.errors import CorpusError, ParameterError

SR = 22050


def _touch_tree(root: Path, names) -> None:
    for name in names:
        p = root / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(b"x")


# --------------------------------------------------------------------------------------------------
# discovery
# --------------------------------------------------------------------------------------------------
def test_find_audio_files(tmp_path):
    _touch_tree(
        tmp_path,
        [
            "b.wav", "A.WAV", "c.Flac", "sub/d.mp3", "sub/deeper/e.ogg", "f.aiff",
            "notes.txt", "cover.jpg", ".hidden.wav", ".git/g.wav", "sub/.cache/h.flac", "wav",
        ],
    )
    found = corpus.find_audio_files(tmp_path)
    rel = [str(p.relative_to(tmp_path)) for p in found]
    assert rel == ["A.WAV", "b.wav", "c.Flac", "f.aiff", "sub/d.mp3", "sub/deeper/e.ogg"]
    assert found == sorted(found)
    flat = corpus.find_audio_files(tmp_path, recursive=False)
    assert [p.name for p in flat] == ["A.WAV", "b.wav", "c.Flac", "f.aiff"]
    only_wav = corpus.find_audio_files(tmp_path, extensions=(".WAV",))
    assert [p.name for p in only_wav] == ["A.WAV", "b.wav"]


def test_find_audio_files_under_a_hidden_root(tmp_path):
    root = tmp_path / ".cache" / "music"
    _touch_tree(root, ["a.wav", "sub/b.flac", ".c.wav"])
    assert [p.name for p in corpus.find_audio_files(root)] == ["a.wav", "b.flac"]
    assert corpus.find_audio_files(root / "a.wav") == [root / "a.wav"]  # a single file is its own corpus


def test_find_audio_files_errors(tmp_path):
    with pytest.raises(CorpusError, match=r"missing.*not found"):
        corpus.find_audio_files(tmp_path / "missing")
    _touch_tree(tmp_path, ["readme.txt", "sub/image.png", ".hidden.wav"])
    with pytest.raises(CorpusError, match=rf"{tmp_path.name}.*no audio files"):
        corpus.find_audio_files(tmp_path)
    with pytest.raises(CorpusError, match="no audio files"):
        corpus.load_corpus(tmp_path, progress=False)
    with pytest.raises(CorpusError, match="empty"):
        corpus.load_corpus([], progress=False)


def test_corpus_error_is_value_error(tmp_path):
    with pytest.raises(ValueError):
        corpus.find_audio_files(tmp_path)


# --------------------------------------------------------------------------------------------------
# loading
# --------------------------------------------------------------------------------------------------
@pytest.fixture
def mixed_folder(tmp_path):
    """Three good files (different rates/channels) and four bad ones."""
    write_tone(tmp_path / "good_a.wav", duration=0.3, sr=44100, channels=2)
    (tmp_path / "sub").mkdir()
    write_tone(tmp_path / "sub" / "good_b.flac", duration=0.5, sr=22050)
    write_tone(tmp_path / "good_c.ogg", duration=0.4, sr=16000)
    (tmp_path / "empty.wav").write_bytes(b"")
    (tmp_path / "text.wav").write_text("not audio at all\n" * 20)
    sf.write(str(tmp_path / "silent.wav"), np.zeros(4000), SR)
    write_tone(tmp_path / "cut.wav", duration=0.5)
    truncate(tmp_path / "cut.wav")
    return tmp_path


def test_load_corpus_skips_bad_files(mixed_folder):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        c = corpus.load_corpus(mixed_folder, progress=False, n_jobs=2)
    assert [clip.name for clip in c] == ["good_a.wav", "good_c.ogg", "good_b.flac"]
    assert len(c) == 3 and c.sr == SR
    reasons = {p.name: why for p, why in c.skipped}
    assert set(reasons) == {"empty.wav", "text.wav", "silent.wav", "cut.wav"}
    assert "empty" in reasons["empty.wav"]
    assert "not a readable audio file" in reasons["text.wav"]
    assert "silent" in reasons["silent.wav"]
    assert "truncated" in reasons["cut.wav"]
    # exactly one warning per bad file, naming it
    messages = [str(w.message) for w in caught if issubclass(w.category, UserWarning)]
    assert len(messages) == 4
    for name in reasons:
        assert sum(name in m for m in messages) == 1
    a = c.find("good_a")
    assert a.file_sr == 44100 and a.channels == 2 and a.sr == SR
    assert a.y.dtype == np.float32 and a.y.ndim == 1
    assert a.duration == pytest.approx(0.3, abs=1e-3)
    assert c.find("good_b.flac").file_sr == 22050
    with pytest.raises(CorpusError, match="nope"):
        c.find("nope")


def test_load_corpus_all_bad(tmp_path):
    (tmp_path / "a.wav").write_bytes(b"")
    (tmp_path / "b.flac").write_bytes(np.random.default_rng(0).bytes(1000))
    with pytest.warns(UserWarning, match="skipping"):
        with pytest.raises(CorpusError, match=r"none of the 2 audio files.*a\.wav.*b\.flac"):
            corpus.load_corpus(tmp_path, progress=False)


def test_load_corpus_durations(tmp_path):
    write_tone(tmp_path / "long.wav", duration=1.0)
    write_tone(tmp_path / "short.wav", duration=0.2)
    with pytest.warns(UserWarning, match=r"short\.wav.*min_duration=0\.5"):
        c = corpus.load_corpus(tmp_path, min_duration=0.5, max_duration=0.6, progress=False)
    assert [clip.name for clip in c] == ["long.wav"]
    assert len(c[0].y) == int(0.6 * SR)
    assert [p.name for p, _ in c.skipped] == ["short.wav"]
    with pytest.raises(ParameterError, match=r"min_duration=-1"):
        corpus.load_corpus(tmp_path, min_duration=-1, progress=False)


def test_load_corpus_from_list_and_rate(tmp_path):
    files = [tmp_path / f"t{i}.wav" for i in range(3)]
    for i, f in enumerate(files):
        write_tone(f, freq=300.0 + 100 * i, duration=0.25, sr=44100)
    c = corpus.load_corpus(files[::-1], sr=16000, progress=False)
    assert c.sr == 16000 and all(clip.sr == 16000 for clip in c)
    assert sorted(c.paths) == sorted(files)
    assert all(abs(len(clip.y) - 4000) <= 1 for clip in c)
    assert c.total_duration == pytest.approx(0.75, abs=1e-3)


def test_summary(mixed_folder):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        c = corpus.load_corpus(mixed_folder, progress=False)
    rows = c.summary()
    assert rows == [
        {"file": "good_a.wav", "duration": 0.3, "rate": 44100, "channels": 2},
        {"file": "good_c.ogg", "duration": 0.4, "rate": 16000, "channels": 1},
        {"file": "good_b.flac", "duration": 0.5, "rate": 22050, "channels": 1},
    ]
    text = c.summary_text()
    assert "good_a.wav" in text and "3 files" in text and "skipped" in text and "cut.wav" in text
    html = c._repr_html_()
    assert html.count("<tr>") == 4 and "Skipped" in html and "text.wav" in html


# --------------------------------------------------------------------------------------------------
# split by file
# --------------------------------------------------------------------------------------------------
PATHS = [Path(f"/music/song_{i:02d}.flac") for i in range(20)]


@pytest.mark.parametrize("n", [2, 3, 5, 10, 20])
@pytest.mark.parametrize("held_out", [0.1, 0.2, 0.5, 0.9])
def test_split_by_file_properties(n, held_out):
    paths = PATHS[:n]
    train, test = corpus.split_by_file(paths, held_out=held_out, seed=3)
    assert train and test  # at least one each side
    assert not set(train) & set(test)  # disjoint
    assert sorted(train + test) == sorted(paths)  # covers all
    assert train == sorted(train) and test == sorted(test)
    # the fraction is respected (nearest whole file), within the at-least-one-each-side rule and the
    # at-least-MIN_HELD_OUT_FILES rule (for corpora of three times that many files)
    floor = min(corpus.MIN_HELD_OUT_FILES, n // 3)
    assert len(test) == min(n - 1, max(1, round(held_out * n), floor))
    if max(1, floor) <= held_out * n <= n - 1:
        assert abs(len(test) - held_out * n) <= 0.5


def test_split_by_file_deterministic_and_order_independent():
    a = corpus.split_by_file(PATHS, held_out=0.25, seed=7)
    b = corpus.split_by_file(PATHS[::-1], held_out=0.25, seed=7)
    c = corpus.split_by_file([str(p) for p in np.random.default_rng(1).permutation(PATHS)], held_out=0.25, seed=7)
    assert a == b == c
    others = {tuple(corpus.split_by_file(PATHS, held_out=0.25, seed=s)[1]) for s in range(10)}
    assert len(others) > 1  # the seed matters


def test_split_by_file_duplicates_stay_disjoint():
    paths = PATHS[:4] + PATHS[:4]
    train, test = corpus.split_by_file(paths, held_out=0.5, seed=0)
    assert not set(train) & set(test)
    assert sorted(set(train) | set(test)) == PATHS[:4]


@pytest.mark.parametrize("held_out", [0, 1, -0.2, 1.5])
def test_split_by_file_bad_fraction(held_out):
    with pytest.raises(ParameterError, match=rf"held_out={held_out}"):
        corpus.split_by_file(PATHS, held_out=held_out)


def test_split_by_file_too_few():
    with pytest.raises(CorpusError, match=r"^/music has 1 distinct audio file \(song_00.flac\)\. Splitting by file "
                                          r"needs at least 2 files .*add audio files"):
        corpus.split_by_file(PATHS[:1])
    with pytest.raises(CorpusError, match=r"has 0 distinct audio files \(none\)"):
        corpus.split_by_file([])


def test_corpus_split_keeps_clips_intact(tmp_path):
    files = [tmp_path / f"clip{i}.wav" for i in range(6)]
    for i, f in enumerate(files):
        write_tone(f, freq=200.0 + 50 * i, duration=0.1 + 0.02 * i, subtype="FLOAT")
    c = corpus.load_corpus(tmp_path, min_duration=0, progress=False)
    with pytest.warns(UserWarning, match="give no verdict"):  # 0.1-0.2 s clips: nothing the card can measure
        train, test = c.split(held_out=0.34, seed=1)
    assert len(train) == 4 and len(test) == 2
    assert c.root == tmp_path and train.root == test.root == tmp_path
    assert {cl.path for cl in train}.isdisjoint(cl.path for cl in test)
    by_path = {cl.path: cl for cl in c}
    for clip in list(train) + list(test):
        original = by_path[clip.path]
        assert clip is original  # whole clips move, never cut
        assert len(clip.y) == len(original.y)
    with pytest.warns(UserWarning, match="give no verdict"):
        t2, h2 = c.split(held_out=0.34, seed=1)
    assert t2.paths == train.paths and h2.paths == test.paths
    expected_train, expected_test = corpus.split_by_file(c.paths, held_out=0.34, seed=1)
    assert train.paths == expected_train and test.paths == expected_test


# --------------------------------------------------------------------------------------------------
# a user's own folder: every readable format, the rest reported
# --------------------------------------------------------------------------------------------------
def test_readable_extensions_follow_libsndfile():
    exts = corpus.readable_extensions()
    assert {".wav", ".flac", ".ogg", ".mp3", ".aiff"} <= set(exts)
    if "OPUS" in sf.available_subtypes("OGG"):
        assert ".opus" in exts
    assert not set(exts) & set(corpus.UNREADABLE_EXTENSIONS)


@pytest.mark.skipif("OPUS" not in sf.available_subtypes("OGG"), reason="libsndfile without Opus")
def test_opus_files_are_loaded(tmp_path):
    y = (0.3 * np.sin(2 * np.pi * 440 * np.arange(48000) / 48000)).astype(np.float32)
    sf.write(str(tmp_path / "song.opus"), y, 48000, format="OGG", subtype="OPUS")
    write_tone(tmp_path / "other.ogg", duration=0.5)
    c = corpus.load_corpus(tmp_path, progress=False)
    assert sorted(clip.name for clip in c) == ["other.ogg", "song.opus"]
    assert c.find("song").duration == pytest.approx(1.0, abs=0.01)


def test_unusable_audio_paths_are_reported_as_skipped(tmp_path):
    write_tone(tmp_path / "good.wav", duration=0.5)
    (tmp_path / "track.m4a").write_bytes(b"\0" * 100)
    (tmp_path / "TRACK2.WMA").write_bytes(b"\0" * 100)
    (tmp_path / "album.flac").mkdir()  # a folder named like an audio file
    (tmp_path / "gone.wav").symlink_to(tmp_path / "nowhere.wav")  # a link that points nowhere
    (tmp_path / "notes.txt").write_text("not audio")
    files, skipped = corpus.discover(tmp_path)
    assert [p.name for p in files] == ["good.wav"]
    reasons = {p.name: why for p, why in skipped}
    assert set(reasons) == {"track.m4a", "TRACK2.WMA", "album.flac", "gone.wav"}
    assert "ffmpeg" in reasons["track.m4a"] and "convert" in reasons["TRACK2.WMA"]
    assert "folder" in reasons["album.flac"] and "does not exist" in reasons["gone.wav"]
    with pytest.warns(UserWarning, match="skipping"):
        c = corpus.load_corpus(tmp_path, progress=False)
    assert [clip.name for clip in c] == ["good.wav"]
    assert {p.name for p, _ in c.skipped} == set(reasons)
    # a folder of nothing but unusable audio says why it found nothing
    for p in tmp_path.glob("good.wav"):
        p.unlink()
    with pytest.raises(CorpusError, match=r"no audio files.*skipped.*convert"):
        corpus.find_audio_files(tmp_path)


def test_a_dangling_link_as_the_corpus_root(tmp_path):
    (tmp_path / "music").symlink_to(tmp_path / "unmounted")
    with pytest.raises(CorpusError, match="does not exist"):
        corpus.load_corpus(tmp_path / "music", progress=False)


def test_files_shorter_than_one_frame_are_skipped_by_default(tmp_path):
    write_tone(tmp_path / "ok.wav", duration=0.5)
    sf.write(str(tmp_path / "one_sample.wav"), np.array([0.5]), SR)
    write_tone(tmp_path / "blip.wav", duration=0.05)
    with pytest.warns(UserWarning, match="too short"):
        c = corpus.load_corpus(tmp_path, progress=False)
    assert [clip.name for clip in c] == ["ok.wav"]
    reasons = dict((p.name, why) for p, why in c.skipped)
    assert set(reasons) == {"one_sample.wav", "blip.wav"}
    assert all("too short" in why and "min_duration" in why for why in reasons.values())


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"min_duration": float("nan")}, "min_duration"),
        ({"min_duration": float("inf")}, "min_duration"),
        ({"min_duration": "long"}, "min_duration"),
        ({"max_duration": 0}, "max_duration"),
        ({"max_duration": -1.0}, "max_duration"),
        ({"max_duration": float("nan")}, "max_duration"),
        ({"sr": 0}, "sr"),
        ({"sr": 22050.5}, "sr"),
        ({"n_jobs": 0}, "n_jobs"),
        ({"n_jobs": -2}, "n_jobs"),
        ({"n_jobs": 1.5}, "n_jobs"),
        ({"excerpt": "end"}, "excerpt"),
    ],
)
def test_load_corpus_rejects_bad_parameters(tmp_path, kwargs, name):
    write_tone(tmp_path / "a.wav", duration=0.5)
    with pytest.raises(ParameterError, match=name):
        corpus.load_corpus(tmp_path, progress=False, **kwargs)


def test_n_jobs_minus_one_means_every_cpu(tmp_path):
    for i in range(3):
        write_tone(tmp_path / f"t{i}.wav", duration=0.3)
    assert len(corpus.load_corpus(tmp_path, n_jobs=-1, progress=False)) == 3


def test_middle_excerpt_comes_from_the_middle(tmp_path):
    sr = 8000
    y = np.concatenate([np.full(sr, 0.1), np.full(sr, 0.5), np.full(sr, 0.1)]).astype(np.float32)
    sf.write(str(tmp_path / "steps.wav"), y, sr, subtype="FLOAT")
    c = corpus.load_corpus(tmp_path, sr=sr, max_duration=1.0, excerpt="middle", progress=False)
    assert np.allclose(c[0].y[100:-100], 0.5, atol=1e-3)
    c = corpus.load_corpus(tmp_path, sr=sr, max_duration=1.0, progress=False)
    assert np.allclose(c[0].y[100:-100], 0.1, atol=1e-3)


def test_split_holds_out_at_least_three_files_when_it_can():
    paths = [Path(f"f{i:02d}.wav") for i in range(14)]
    train, test = corpus.split_by_file(paths, held_out=0.1, seed=0)
    assert len(test) == 3 and len(train) == 11
    train, test = corpus.split_by_file(paths[:4], held_out=0.2, seed=0)
    assert len(test) == 1 and len(train) == 3  # a third at most from the floor
    for bad in (-1, 1.5, "0"):
        with pytest.raises(ParameterError, match="seed"):
            corpus.split_by_file(paths, seed=bad)
    with pytest.raises(ParameterError, match="held_out"):
        corpus.split_by_file(paths, held_out="a fifth")


# --------------------------------------------------------------------------------------------------
# enough held-out audio for the card's verdict (card.MIN_REFERENCE_FILES / MIN_REFERENCE_SECONDS)
# --------------------------------------------------------------------------------------------------
def _minimum():
    from musiclib.evaluation import card

    return card.MIN_REFERENCE_FILES, card.MIN_REFERENCE_SECONDS


def _measurable(test, durations, paths):
    """Files of ``test`` the card can measure (>= 1 s) and their analysed seconds (<= 30 s each)."""
    from musiclib.evaluation.features import MAX_ANALYSIS_SECONDS, MIN_CLIP_SECONDS

    d = dict(zip(paths, durations))
    usable = [min(d[p], MAX_ANALYSIS_SECONDS) for p in test if d[p] >= MIN_CLIP_SECONDS]
    return len(usable), sum(usable)


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("n, seconds", [(20, 10.0), (12, 12.0), (40, 4.0), (9, 45.0)])
def test_split_holds_out_enough_seconds_when_the_corpus_can_spare_them(n, seconds, seed):
    min_files, min_seconds = _minimum()
    paths = PATHS[:n] if n <= len(PATHS) else [Path(f"/music/loop_{i:02d}.flac") for i in range(n)]
    durations = [seconds] * n
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # large enough: no warning
        train, test = corpus.split_by_file(paths, held_out=0.2, seed=seed, durations=durations)
    files, held = _measurable(test, durations, paths)
    assert files >= min_files and held >= min_seconds
    assert len(test) <= max(n // 2, round(0.2 * n))  # never more than MAX_HELD_OUT_SHARE of the files
    _, by_count = corpus.split_by_file(paths, held_out=0.2, seed=seed)
    assert set(by_count) <= set(test)  # the same shuffle, extended: the count-only split's files stay held out
    assert sorted(train + test) == sorted(paths) and not set(train) & set(test)


def test_split_of_songs_that_are_enough_already_is_unchanged():
    """17 songs x 30 s (demo mode): 3 held out, 90 s, exactly as the split by count."""
    paths = [Path(f"/songs/s{i:02d}.ogg") for i in range(17)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = corpus.split_by_file(paths, held_out=0.2, seed=0, durations=[30.0] * 17)
    assert got == corpus.split_by_file(paths, held_out=0.2, seed=0) and len(got[1]) == 3


def test_one_shots_do_not_count_as_reference():
    """Files shorter than the card's shortest clip hold nothing it can measure: more files are held out."""
    min_files, min_seconds = _minimum()
    paths = [Path(f"/kit/f{i:02d}.wav") for i in range(30)]
    durations = [0.5 if i % 2 else 20.0 for i in range(30)]
    train, test = corpus.split_by_file(paths, held_out=0.2, seed=1, durations=durations)
    files, held = _measurable(test, durations, paths)
    assert files >= min_files and held >= min_seconds


@pytest.mark.parametrize("n, seconds", [(10, 3.0), (5, 20.0), (4, 40.0)])
def test_split_of_a_corpus_too_small_warns_with_the_numbers(n, seconds):
    """It cannot spare the card's minimum (it would hold out more than half): split by count, and say so."""
    min_files, min_seconds = _minimum()
    paths = [Path(f"/small/f{i}.flac") for i in range(n)]
    durations = [seconds] * n
    with pytest.warns(UserWarning) as record:
        got = corpus.split_by_file(paths, held_out=0.2, seed=0, durations=durations, where="my folder")
    assert got == corpus.split_by_file(paths, held_out=0.2, seed=0)
    files, held = _measurable(got[1], durations, paths)
    text = str(record[0].message)
    assert text.startswith(f"my folder: the held-out part holds {held:.1f} s in {files} file")
    assert f"(the whole corpus: {n * min(seconds, 30):.1f} s in {n} such of {n} files)" in text
    assert f"needs at least {min_seconds:g} s in {min_files} held-out files" in text and "no verdict" in text


def test_one_usable_file_names_the_folder_and_what_was_skipped(tmp_path):
    folder = tmp_path / "my songs"
    folder.mkdir()
    write_tone(folder / "song.wav", freq=220.0, duration=2.0)
    write_tone(folder / "blip.wav", freq=220.0, duration=0.05)  # shorter than MIN_DURATION
    (folder / "track.m4a").write_bytes(b"not decodable here")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        c = corpus.load_corpus(folder, progress=False)
    assert len(c) == 1 and len(c.skipped) == 2
    with pytest.raises(CorpusError) as e:
        c.split(held_out=0.2, seed=0)
    text = str(e.value)
    assert text.startswith(f"{folder} has 1 usable audio file (song.wav (2.0 s)); skipped 2: ")
    assert "blip.wav: too short" in text and "track.m4a" in text and "ffmpeg" in text
    n, secs = _minimum()
    assert "needs at least 2 files" in text and f"needs at least {n} held-out files holding {secs:g} s" in text
    assert text.endswith("add audio files to the folder")


def test_split_of_a_list_names_its_folder(tmp_path):
    write_tone(tmp_path / "only.wav", freq=220.0, duration=1.5)
    c = corpus.load_corpus([tmp_path / "only.wav"], progress=False)
    assert c.root is None
    with pytest.raises(CorpusError, match=rf"^{tmp_path} has 1 usable audio file \(only.wav"):
        c.split()


@pytest.mark.parametrize(
    "durations, match",
    [
        ([1.0] * 3, "must be 4 finite numbers"),
        ([1.0, 2.0, float("nan"), 3.0], "nan"),
        ([1.0, 2.0, float("inf"), 3.0], "inf"),
        ([1.0, -2.0, 3.0, 4.0], "-2"),
        (["a", "b", "c", "d"], "durations="),
        ([[1.0, 2.0]] * 4, "must be 4 finite numbers"),
        (5.0, "must be 4 finite numbers"),
        ([], "must be 4 finite numbers"),
        ([1e308 * 10] * 4, "inf"),
    ],
)
def test_split_bad_durations(durations, match):
    with pytest.raises(ParameterError, match=match):
        corpus.split_by_file(PATHS[:4], durations=durations)


@pytest.mark.parametrize("paths", ["/music/a.wav", None, b"/music"])
def test_split_paths_must_be_a_list(paths):
    with pytest.raises(ParameterError, match="paths="):
        corpus.split_by_file(paths)


@pytest.mark.parametrize("where", [5, b"folder", ["a"]])
def test_split_where_must_be_a_name(where):
    with pytest.raises(ParameterError, match="where="):
        corpus.split_by_file(PATHS[:4], where=where)


def test_evenly_spaced_picks_across_the_list():
    from musiclib.corpus import evenly_spaced

    assert evenly_spaced(list("abcdefg"), n=3) == ["a", "d", "g"]
    assert evenly_spaced("ab", n=5) == ["a", "b"] and evenly_spaced([], n=2) == []
    assert evenly_spaced(range(10), n=1) == [0]
    for bad in (0, -1, 1.5, None):
        with pytest.raises(ParameterError, match="n="):
            evenly_spaced([1, 2], n=bad)
