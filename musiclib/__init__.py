"""musiclib: the helper package behind the spectrogram-domain music generation notebooks."""

from musiclib.errors import (  # noqa: F401
    AudioFileError,
    CorpusError,
    DataUnavailableError,
    MusiclibError,
    ParameterError,
)

__version__ = "0.1.0"
