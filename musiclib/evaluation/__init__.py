"""Measuring, off the data path: reconstruction metrics, the musicality card, baselines, the settings sweep.

:mod:`~musiclib.evaluation.metrics`
    Spectral convergence, log-spectral distance, SNR, :func:`~musiclib.evaluation.metrics.compare_audio`.
:mod:`~musiclib.evaluation.card`
    The musicality card: calibrated checks for generated audio (``python -m musiclib card``).
:mod:`~musiclib.evaluation.features`
    What the card measures on one clip (levels, spectrum, partials, onsets, time statistics).
:mod:`~musiclib.evaluation.calibration`
    The failure cases and the calibration run behind the card's thresholds (``python -m musiclib calibrate``).
:mod:`~musiclib.evaluation.compare`
    One card per saved model, ranked, with a verdict: the tables of ``notebooks/08_compare``.
:mod:`~musiclib.evaluation.baselines`
    Clips that know nothing about music (shaped noise, shuffled frames, training excerpts), scored beside models.
:mod:`~musiclib.evaluation.sweep`
    The spectrogram-settings sweep of ``notebooks/01_spectrogram_settings``.
"""
