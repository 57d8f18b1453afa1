"""Calibration and sensitivity: fit parameters to published figures, measure what matters.

    calibrate(file, out=DIR, trials=, workers=, seed=, recover=) -> Calibration
    sensitivity(file, out=DIR, workers=, seed=) -> Sensitivity

Optuna finds the fit (its SQLite storage is the checkpoint), pyabc's ABC-SMC gives the posterior,
SALib computes Sobol or Morris indices. See docs/CALIBRATION.md.
"""

from __future__ import annotations

from .fit import Calibration, calibrate
from .sensitivity import Sensitivity, sensitivity

__all__ = ["Calibration", "Sensitivity", "calibrate", "sensitivity"]
