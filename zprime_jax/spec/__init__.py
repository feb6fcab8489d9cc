"""Experiments declared as data: TOML presets, a schema, and a validating loader.

A preset file has four tables. Unknown keys, missing required keys, wrong
types and out-of-range values raise :class:`SpecError` naming the field
(e.g. ``detector.threshold_kev``) before anything is compiled. A user adds a
detector by writing a TOML file and passing its path wherever a preset name
is accepted.

    name = "ess-csi"
    description = "..."
    [source]      kind = "pion-dar" | "lbnf-beam-dump" | "reactor" | "radioactive", ...
    [detector]    material, mass_kg, threshold_kev, window_max_kev, ...
                  (or [[detector.parts]]: several materials, each with its own
                  mass and threshold, in one experiment)
                  | kind = "gas-tpc" (pressure-dependent targets, nuBDX-DRIFT)
                  | kind = "electron-scattering" (nu-e scattering in a volume
                    near a radioactive source: cylinder, density, Z, A, bins)
    [statistics]  chi2 = "pulls-poisson" (sigma_signal, sigma_background)
                  | "coherent-2017" (n_meas, b_0n, b_ss, sigma_a1, sigma_a2)
                  | "projection" / "projection-alt" (sigma_stat, sigma_sys)
                  | "gaussian-sm" (heavy-Z' paper eq. 23; no settings)

Exposure: a pion-DAR source takes either ``protons_per_year`` (times
``detector.exposure_years``) or ``protons_on_target`` (the whole exposure; then
no ``detector.exposure_years``); a reactor source carries its own
``exposure_days``. Windows: ``detector.window_max_kev`` may be left out: then
there is no upper cut (the kinematic end point closes the window).

Modules, in the order the data flows: ``schema`` (the frozen dataclasses and
the chi^2-form key table :data:`CHI2_FORMS`), ``validate`` (the checks, each
error naming its field), ``loader`` (:func:`parse_spec`,
:func:`load_experiment`, :func:`list_experiments`), ``groups`` (named groups of
presets such as ``ess-all``); the presets themselves are ``presets/*.toml``.
Everything is re-exported here.
"""

from __future__ import annotations

from ..errors import SpecError
from .loader import _preset_files, list_experiments, load_experiment, parse_spec
from .schema import (
    BINNINGS,
    CHI2_FORMS,
    DETECTOR_KINDS,
    SOURCE_KINDS,
    DetectorPart,
    DetectorSpec,
    ElectronDetectorSpec,
    ExperimentSpec,
    GasTPCDetectorSpec,
    LBNFBeamDumpSource,
    PionDARSource,
    RadioactiveSource,
    ReactorSource,
    StatisticsSpec,
    live_days_of,
    source_exposure_is_fixed,
)

__all__ = [
    "BINNINGS",
    "CHI2_FORMS",
    "DETECTOR_KINDS",
    "SOURCE_KINDS",
    "DetectorPart",
    "DetectorSpec",
    "ElectronDetectorSpec",
    "ExperimentSpec",
    "GasTPCDetectorSpec",
    "LBNFBeamDumpSource",
    "PionDARSource",
    "RadioactiveSource",
    "ReactorSource",
    "SpecError",
    "StatisticsSpec",
    "_preset_files",
    "list_experiments",
    "live_days_of",
    "load_experiment",
    "parse_spec",
    "source_exposure_is_fixed",
]
