"""musiclib: the helper package behind the spectrogram-domain music generation notebooks.

The path data takes, with the module for each step and the notebook that shows it::

    audio files -> load -> represent -> model -> generate -> invert -> measure -> show

=========== ======================================================= ===================================
step        module                                                  notebook
=========== ======================================================= ===================================
load        :mod:`musiclib.audio` (one file), :mod:`musiclib.corpus` 00_data_tour
            (a folder: discovery, skipped files, split by file)
represent   :mod:`musiclib.representations` (linear, log, mel,      01_spectrogram_settings
            log-frequency, DCT, raw blocks: ``encode`` / ``decode``)
beats       :mod:`musiclib.beats` (tempo, beat clock, beat slices)   00_data_tour, 02-04, 07
frame       :mod:`musiclib.framing` (next-frame windows, scaling),   02_linear_regression, 05_vae
            :mod:`musiclib.patches` (patches and the stitcher)
model       :mod:`musiclib.models` (one file per family)             02-07
generate    :mod:`musiclib.generate` (roll-out, temperature,         02-04
            stability guard, continuation)
invert      :mod:`musiclib.phase` (Griffin-Lim family, PGHI)         01_spectrogram_settings
post        :mod:`musiclib.postprocess` (loudness, fades, EQ)        07_raw_audio
measure     :mod:`musiclib.evaluation` (metrics, musicality card,    01, 08_compare
            baselines, settings sweep)
show        :mod:`musiclib.display` (plots, player tables),          every notebook
            :mod:`musiclib.widgets` (interactive comparisons)
=========== ======================================================= ===================================

Off the data path, :mod:`musiclib.tools` holds the data fetch, the feature cache, generated outputs
and the command line (``python -m musiclib {fetch,card,calibrate}``); :mod:`musiclib.synth` makes
test signals; :mod:`musiclib.errors` is the exception family (every error derives from
:class:`ValueError`).
"""

from musiclib.errors import (  # noqa: F401
    AudioFileError,
    CorpusError,
    DataUnavailableError,
    MusiclibError,
    ParameterError,
)

__version__ = "0.1.0"
