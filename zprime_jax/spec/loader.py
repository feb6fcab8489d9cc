"""The loader: presets by name or TOML files by path, validated into an :class:`ExperimentSpec`.

:func:`parse_spec` takes a parsed TOML document through the checks of
``validate`` (source, detector, exposure, statistics) and builds the
``schema`` dataclasses; :func:`load_experiment` reads a shipped preset
(``spec/presets/*.toml``) or a user's file first.
"""

from __future__ import annotations

import tomllib
from dataclasses import fields
from pathlib import Path

from ..errors import SpecError
from ..toml_files import preset_or_path, shipped
from .schema import DEFAULT_DETECTOR_KIND, DETECTOR_KINDS, SOURCE_KINDS, TOP_LEVEL_REQUIRED, ExperimentSpec
from .validate import (
    _check_common_detector,
    _check_electron_detector,
    _check_exposure,
    _check_gas_tpc,
    _check_source,
    _check_standard_detector,
    _check_table,
    _parse_data,
    _parse_scintillator,
    _parse_standard_detector,
    _parse_statistics,
    _parse_templates,
)


def parse_spec(data: dict, origin: str = "<spec>", base: Path | None = None) -> ExperimentSpec:
    """Validate a parsed TOML document and build an :class:`ExperimentSpec`.

    ``base``: the folder that relative data-file paths of the spec (efficiency tables, templates,
    data) are taken from: the spec file's own; None for the current directory.
    """
    top = {f.name for f in fields(ExperimentSpec)}
    for key in data:
        if key not in top:
            raise SpecError(f"{key}: unknown top-level key in {origin}; allowed: {sorted(top)}")
    for key in TOP_LEVEL_REQUIRED:
        if key not in data:
            raise SpecError(f"{key}: required top-level key is missing in {origin}")

    source_table = dict(data["source"]) if isinstance(data["source"], dict) else data["source"]
    if not isinstance(source_table, dict):
        raise SpecError("source: must be a table")
    kind = source_table.pop("kind", None)
    if kind not in SOURCE_KINDS:
        raise SpecError(f"source.kind: unknown source {kind!r}; allowed: {sorted(SOURCE_KINDS)}")
    source_cls = SOURCE_KINDS[kind]
    source = source_cls(**_check_table(source_table, source_cls, "source", skip=("kind",)))
    _check_source(source)

    det_table = data["detector"]
    if not isinstance(det_table, dict):
        raise SpecError("detector: must be a table")
    det_table = dict(det_table)
    det_kind = det_table.pop("kind", DEFAULT_DETECTOR_KIND)
    if det_kind not in DETECTOR_KINDS:
        raise SpecError(f"detector.kind: unknown kind {det_kind!r}; allowed: {sorted(DETECTOR_KINDS)}")
    det_cls = DETECTOR_KINDS[det_kind]
    if det_kind == "standard":
        det = _parse_standard_detector(det_table)
        _check_standard_detector(det)
    elif det_kind == "scintillator":
        det = _parse_scintillator(det_table, base)
    else:
        det = det_cls(**_check_table(det_table, det_cls, "detector", skip=("kind",)))
    if det_kind == "gas-tpc":
        _check_gas_tpc(det)
    if det_kind == "electron-scattering":
        _check_electron_detector(det, source)
    else:
        if source.kind == "radioactive":
            raise SpecError(f"source.kind: a 'radioactive' line source is implemented for nu-e scattering "
                            f"only (detector.kind = 'electron-scattering'), got detector.kind = {det_kind!r}")
        _check_common_detector(det)
    _check_exposure(source, det)

    stats = _parse_statistics(data.get("statistics", {"chi2": "gaussian-sm"}
                                       if det_kind == "electron-scattering" else {}))
    electron_form = stats.chi2 == "gaussian-sm"
    if electron_form != (det_kind == "electron-scattering"):
        raise SpecError(f"statistics.chi2: {stats.chi2!r} does not apply to detector.kind = {det_kind!r} "
                        "('gaussian-sm', eq. 23, is the chi^2 of electron-scattering detectors, and only it)")
    template_form = stats.chi2 == "templates-poisson"
    if template_form != (det_kind == "scintillator"):
        raise SpecError(f"statistics.chi2: {stats.chi2!r} does not apply to detector.kind = {det_kind!r} "
                        "('templates-poisson' is the chi^2 of scintillator detectors, and only it)")
    if ("templates" in data or "data" in data) and det_kind != "scintillator":
        key = "templates" if "templates" in data else "data"
        raise SpecError(f"{key}: background templates and shipped data belong to detector.kind = 'scintillator'")
    if det_kind == "scintillator":
        if source.kind != "pion-dar" or source.pulse_mean_ns is None or source.pulse_sigma_ns is None:
            raise SpecError("source.pulse_mean_ns: a scintillator detector has a time axis and needs a pion-dar "
                            "source with source.pulse_mean_ns and source.pulse_sigma_ns")
    for key in ("name", "description", "reference"):
        if key in data and not isinstance(data[key], str):
            raise SpecError(f"{key}: must be a string")
    templates = _parse_templates(data.get("templates", []), base)
    observed = _parse_data(data["data"], base) if "data" in data else None
    return ExperimentSpec(data["name"], data["description"], source, det, stats,
                          data.get("reference", ""), templates, observed)


def _preset_files() -> dict[str, Path]:
    return shipped(__package__, "presets")


def list_experiments() -> list[dict]:
    """Name and description of every shipped preset, sorted by name."""
    out = []
    for name, path in sorted(_preset_files().items()):
        with open(path, "rb") as fh:
            out.append({"name": name, "description": tomllib.load(fh)["description"]})
    return out


def experiment_path(name_or_path: str) -> Path:
    """The TOML file of a preset name (``"ess-csi"``) or of a path to a spec file.

    A name with a ``.toml`` suffix or a ``/`` is a path. Raises SpecError (field ``experiment``) for an
    unknown name or a missing file.
    """
    presets = _preset_files()
    path = preset_or_path(name_or_path, presets, SpecError, "experiment", "spec")
    if path is not None:
        return path
    raise SpecError(f"experiment: unknown experiment {name_or_path!r}; "
                    f"allowed: {sorted(presets)} or a path to a .toml file")


def load_experiment(name_or_path: str, **detector_overrides) -> ExperimentSpec:
    """Load a preset by name (``"ess-csi"``) or a TOML file by path, validated.

    ``detector_overrides`` replace keys of the ``[detector]`` table before
    validation (e.g. ``threshold_kev=2.0``). The message of an error in a
    user's file ends with the file's path.
    """
    path = experiment_path(name_or_path)
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise SpecError(f"experiment: {path} is not valid TOML ({err})") from None
    except OSError as err:
        raise SpecError(f"experiment: cannot read {path} ({err.strerror or err})") from None
    if detector_overrides:
        data.setdefault("detector", {}).update(detector_overrides)
    try:
        return parse_spec(data, origin=str(path), base=path.parent)
    except SpecError as err:
        if name_or_path in _preset_files():        # a shipped preset: its name says which
            raise
        raise SpecError(f"{err} (in {path})", field=err.field) from None
