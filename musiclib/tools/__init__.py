"""Tools off the data path: where data lives, the feature cache, generated outputs, the command line.

:mod:`~musiclib.tools.data`
    Fetching the corpora from the package registries, provenance, the data and project folders.
:mod:`~musiclib.tools.cache`
    The feature cache, keyed by file content and representation parameters.
:mod:`~musiclib.tools.outputs`
    Generated clips with JSON sidecars, written atomically, never overwritten.
:mod:`~musiclib.tools.cli`
    ``python -m musiclib {fetch,card,calibrate}``.
"""
