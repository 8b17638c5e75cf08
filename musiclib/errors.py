"""The exception family for mistakes a user can make.

Every error musiclib raises on bad input derives from :class:`MusiclibError`, which derives from
:class:`ValueError`, so ``except ValueError`` keeps working. Messages name the file or the parameter
and echo the offending value, e.g. ``"hop_length=-4 must be a positive integer"``.
"""

from __future__ import annotations

__all__ = [
    "MusiclibError",
    "ParameterError",
    "AudioFileError",
    "CorpusError",
    "DataUnavailableError",
]


class MusiclibError(ValueError):
    """Base class of every error musiclib raises for bad input."""


class ParameterError(MusiclibError):
    """A parameter has a value musiclib cannot use (names the parameter and the value)."""


class AudioFileError(MusiclibError):
    """An audio file cannot be read or holds unusable audio (names the file and the problem)."""

    def __init__(self, path, problem: str):
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")

    def __reduce__(self):  # pickle with both arguments (errors cross process pools intact)
        return type(self), (self.path, self.problem)


class CorpusError(MusiclibError):
    """A folder or list of files does not make a usable corpus."""


class DataUnavailableError(MusiclibError):
    """The default data cannot be fetched here, with what to do instead."""
