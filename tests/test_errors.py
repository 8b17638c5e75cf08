"""Tests for musiclib.errors: one exception family, all ValueErrors, messages naming file and value."""

from __future__ import annotations

import pickle

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


def test_parameter_error_message():
    with pytest.raises(errors.MusiclibError, match=r"hop_length=-4"):
        raise errors.ParameterError("hop_length=-4 must be a positive integer")


def test_errors_pickle():
    # errors cross process boundaries (joblib, multiprocessing) intact
    e = pickle.loads(pickle.dumps(errors.ParameterError("n_fft=1000 must be a power of two")))
    assert isinstance(e, errors.ParameterError) and "n_fft=1000" in str(e)
    a = pickle.loads(pickle.dumps(errors.AudioFileError("/music/a.wav", "truncated")))
    assert isinstance(a, errors.AudioFileError)
    assert a.path == "/music/a.wav" and a.problem == "truncated" and str(a) == "/music/a.wav: truncated"
