"""Measuring, off the data path.

- :mod:`~musiclib.evaluation.metrics`: reconstruction metrics (spectral convergence, LSD, SNR);
- :mod:`~musiclib.evaluation.card`: the musicality card (``python -m musiclib card``);
- :mod:`~musiclib.evaluation.features`: what the card measures on one clip;
- :mod:`~musiclib.evaluation.calibration`: the card's failure cases and thresholds (``... calibrate``);
- :mod:`~musiclib.evaluation.compare`: cards side by side, ranked, with a verdict;
- :mod:`~musiclib.evaluation.baselines`: clips that know nothing about music, scored beside models;
- :mod:`~musiclib.evaluation.sweep`: the spectrogram-settings sweep (``notebooks/01``).
"""
