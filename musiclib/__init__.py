"""musiclib: the helper package behind the spectrogram-domain music generation notebooks.

The path data takes, with the module for each step and the notebook that shows it::

    audio files -> load -> represent -> model -> generate -> invert -> measure -> show

- load: :mod:`musiclib.audio` (one file), :mod:`musiclib.corpus` (a folder, split by file) -- 00_data_tour
- represent: :mod:`musiclib.representations` (``encode`` / ``decode``) -- 01_spectrogram_settings
- beats: :mod:`musiclib.beats` (tempo, beat clock, beat slices) -- 00, 02-04, 07
- frame: :mod:`musiclib.framing` (next-frame windows), :mod:`musiclib.patches` -- 02, 05
- model: :mod:`musiclib.models` (one file per family) -- 02-07
- generate: :mod:`musiclib.generate` (roll-out, temperature, stability guard) -- 02-04
- invert: :mod:`musiclib.phase` (Griffin-Lim family, PGHI) -- 01
- post: :mod:`musiclib.postprocess` (loudness, fades, EQ) -- 07_raw_audio
- measure: :mod:`musiclib.evaluation` (metrics, musicality card, baselines, sweep) -- 01, 08_compare
- show: :mod:`musiclib.display` (plots, player tables), :mod:`musiclib.widgets` -- every notebook

Off the data path: :mod:`musiclib.tools` (data fetch, feature cache, outputs, ``python -m musiclib``),
:mod:`musiclib.synth` (test signals) and :mod:`musiclib.errors` (the exception family, all ValueErrors).
"""

from musiclib.errors import (  # noqa: F401
    AudioFileError,
    CorpusError,
    DataUnavailableError,
    MusiclibError,
    ParameterError,
)

__version__ = "0.1.0"
