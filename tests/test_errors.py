"""Tests for musiclib.errors: one exception family, all ValueErrors, messages naming file and value."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

import musiclib
from musiclib import errors


@pytest.mark.parametrize(
    "cls", [errors.ParameterError, errors.AudioFileError, errors.CorpusError, errors.DataUnavailableError]
)
def test_family(cls):
    assert issubclass(cls, errors.MusiclibError)
    assert issubclass(cls, ValueError)
    assert getattr(musiclib, cls.__name__) is cls


def test_audio_file_error_names_file_and_problem(tmp_path):
    p = tmp_path / "x.wav"
    e = errors.AudioFileError(p, "is silent")
    assert e.path == str(p) and e.problem == "is silent"
    assert str(e) == f"{p}: is silent"
    with pytest.raises(ValueError, match=r"x\.wav: is silent"):
        raise e


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: errors.check_int("hop_length", -4), r"^hop_length=-4 must be a positive integer$"),
        (lambda: errors.check_int("n_iter", -1, low=0), r"^n_iter=-1 must be an integer >= 0$"),
        (lambda: errors.check_int("n", 2.0), r"^n=2\.0 must be a positive integer$"),
        (lambda: errors.check_int("n", True), r"^n=True must be"),
        (lambda: errors.check_int("n", "3"), r"^n='3' must be"),
        (lambda: errors.check_int("hop", 600, high=512, note="n_fft=512"),
         r"^hop=600 must be an integer in \[1, 512\] \(n_fft=512\)$"),
        (lambda: errors.check_int("n", np.int64(0)), r"^n=0 must be"),  # numpy scalars shown plainly
        (lambda: errors.check_number("x", float("nan")), r"^x=nan must be a finite number$"),
        (lambda: errors.check_number("x", float("inf"), low=0), r"^x=inf must be a finite number >= 0$"),
        (lambda: errors.check_number("x", 1e301, high=1), r"^x=1e\+301 must be a finite number <= 1$"),
        (lambda: errors.check_number("x", "1"), r"^x='1' must be a finite number$"),
        (lambda: errors.check_number("db", 3, high=0), r"^db=3 must be a finite number <= 0$"),
        (lambda: errors.check_positive("gain", 0.0), r"^gain=0\.0 must be a finite number > 0$"),
        (lambda: errors.check_fraction("tol", 1.0, high_open=True), r"^tol=1\.0 must be a finite number in \[0, 1\)$"),
        (lambda: errors.check_choice("method", "bogus", ("gla", "fgla")), r"^method='bogus' is not one of gla, fgla$"),
        (lambda: errors.check_choice("method", ["gla"], ("gla",)), r"method=\['gla'\]"),
        (lambda: errors.check_finite("S", np.ones((2, 2, 2)), ndim=2), r"S must be 2-D; got S.ndim=3 with shape \(2, 2, 2\)"),
        (lambda: errors.check_finite("S", np.array([1.0, np.nan, np.inf, np.nan])), r"2 NaN and 1 inf"),
        (lambda: errors.check_finite("S", np.zeros((0, 3))), r"S is empty \(shape \(0, 3\)\)"),
        (lambda: errors.check_finite("S", np.ones(3, complex)), r"S has dtype complex128"),
        (lambda: errors.check_finite("S", np.array(["a"])), r"S has dtype <U1"),
        (lambda: errors.check_signal("y", np.ones((2, 5))), r"y must be a mono signal.*shape \(2, 5\)"),
        (lambda: errors.check_signal("y", np.ones(1), min_samples=64), r"y has 1 samples, shorter than one frame \(64"),
        (lambda: errors.check_signal("y", np.zeros(0)), r"y has 0 samples"),
        (lambda: errors.check_signal("y", "loop.wav"), r"^y must be a mono signal, a 1-D numpy array of samples; got str$"),
        (lambda: errors.check_signal("y", np.zeros(1), min_samples=2, need="two samples"),
         r"^y has 1 samples, shorter than two samples \(2 samples\)$"),
        (lambda: errors.check_signal("y", np.array([0.0, np.nan]), note="pass nonfinite='zero'"),
         r"1 NaN and 0 inf values \(pass nonfinite='zero'\)$"),
        (lambda: errors.check_sr(0), r"^sr=0 must be an integer in \[1, 768000\] \(Hz\)$"),
        (lambda: errors.check_sr(44100.0, name="target_sr"), r"^target_sr=44100\.0 must be"),
        (lambda: errors.check_sr(800, low=1000), r"^sr=800 must be an integer in \[1000, 768000\]"),
        (lambda: errors.check_ints("units", []), r"^units=\[\] must be an integer >= 1 or a non-empty list of them$"),
        (lambda: errors.check_ints("units", (64, 0)), r"^units=\(64, 0\) must be"),
        (lambda: errors.check_ints("units", (64, True)), r"^units=\(64, True\) must be"),
        (lambda: errors.check_ints("units", None), r"^units=None must be"),
        (lambda: errors.check_frames_list("frames_list", []), r"^frames_list is empty$"),
        (lambda: errors.check_frames_list("frames_list", 3), r"list of \(n_frames, n_features\) arrays, got int"),
        (lambda: errors.check_frames_list("frames_list", np.zeros(4)), r"got one array of shape \(4,\)"),
        (lambda: errors.check_frames_list("f", [np.zeros((2, 3)), np.zeros((2, 4))]),
         r"^f\[1\] has 4 features \(columns\), the first has 3$"),
        (lambda: errors.check_frames_list("phases", [np.zeros((2, 3))], width=4), r"phases\[0\] has 3 .*expected 4$"),
        (lambda: errors.check_frames_list("f", [np.full((2, 2), np.inf)]), r"^f\[0\] must be finite; it holds 0 NaN and 4 inf"),
        (lambda: errors.check_duration("seconds", 0, sr=22050), r"^seconds=0 must be a finite number > 0$"),
        (lambda: errors.check_duration("seconds", 1e6, sr=22050), r"^seconds=1000000\.0 s is 2\.2e\+10 samples at 22050 Hz"),
        (lambda: errors.check_size(2.0**30, what="the STFT", advice="use a larger hop"),
         r"^the STFT would hold 1\.07e\+09 values \(4\.0 GiB\), more than the 268435456 .*; use a larger hop$"),
    ],
)
def test_checks_name_the_parameter_and_value(call, match):
    with pytest.raises(errors.ParameterError, match=match):
        call()


def test_checks_return_converted_values():
    assert errors.check_int("n", np.int32(7)) == 7 and type(errors.check_int("n", np.int32(7))) is int
    assert errors.check_int("n", None, allow_none=True) is None
    assert errors.check_number("x", np.float32(0.5), low=0, high=1) == 0.5
    assert errors.check_number("x", 0, low=0) == 0.0  # closed bound
    assert errors.check_positive("d", None, allow_none=True) is None
    assert errors.check_fraction("w", 1) == 1.0
    assert errors.check_choice("scale", "db", ("db", "log1p")) == "db"
    x = errors.check_finite("S", [[1, 2]], ndim=2)
    assert x.dtype == np.float32 and x.shape == (1, 2)
    y = np.arange(4, dtype=np.float64)
    assert errors.check_signal("y", y, dtype=np.float64) is y  # no copy when nothing changes
    assert errors.check_sr(np.int64(22050)) == 22050 and errors.check_sr(None, allow_none=True) is None
    assert errors.check_ints("units", np.int64(3)) == (3,) and errors.check_ints("f", [2, 4], low=2) == (2, 4)
    frames = errors.check_frames_list("frames_list", np.ones((3, 2)))  # one array: a list of one
    assert len(frames) == 1 and frames[0].dtype == np.float32 and frames[0].shape == (3, 2)
    assert errors.check_duration("d", 2, sr=100) == 2.0
    assert errors.check_size(2**28, what="x") is None  # at the limit: allowed
    assert errors.check_finite("y", np.zeros(0), allow_empty=True).size == 0


def test_errors_pickle():
    # errors cross process boundaries (joblib, multiprocessing) intact
    e = pickle.loads(pickle.dumps(errors.ParameterError("n_fft=1000 must be a power of two")))
    assert isinstance(e, errors.ParameterError) and "n_fft=1000" in str(e)
    a = pickle.loads(pickle.dumps(errors.AudioFileError("/music/a.wav", "truncated")))
    assert isinstance(a, errors.AudioFileError)
    assert a.path == "/music/a.wav" and a.problem == "truncated" and str(a) == "/music/a.wav: truncated"
