"""JSON Schema documents (draft 2020-12) of experiment specs and model files, generated from the spec definitions.

One source of truth: every table of :func:`experiment_schema` comes from a dataclass of ``schema`` (its fields,
their annotations as ``validate._check_table`` reads them, their defaults, its docstring), every closed set
from the declaration the validation itself uses (``SOURCE_KINDS``, ``DETECTOR_KINDS``, ``CHI2_FORMS``,
``BINNINGS``, ``QUENCHING_KINDS``, ..., ``nuclei.MATERIALS``, ``form_factors.FORM_FACTORS``), and the rules
between the keys of a table from ``schema.EXACTLY_ONE``, ``TOGETHER`` and ``NEEDS``. :func:`model_schema`
comes from the key tables of :mod:`zprime_jax.physics.model_files` and its docstring. Units in the
descriptions follow the naming convention of the fields (``threshold_kev``: keV).

The documents are shipped as ``spec/schemas/experiment.schema.json`` and ``spec/schemas/model.schema.json``
(for editors: point a TOML language server such as Taplo or Even Better TOML at them);
``tests/test_schema_files.py`` fails when they differ from what this module generates. Regenerate them with

    zprime-jax schema experiment > zprime_jax/spec/schemas/experiment.schema.json
    zprime-jax schema model > zprime_jax/spec/schemas/model.schema.json

What a schema cannot say is said in its top-level ``description`` (:data:`EXPERIMENT_LOADER_ONLY`,
:data:`MODEL_LOADER_ONLY`): the loader remains the authority, and its error messages name the field.
"""

from __future__ import annotations

import inspect
import json
import re
from dataclasses import MISSING, fields, is_dataclass

from . import schema as S
from . import validate as V

DIALECT = "https://json-schema.org/draft/2020-12/schema"
KINDS = ("experiment", "model")

# unit of a field from its name's suffix (design.md: "keV only at the edges and always named"); longest first
_UNITS = (("_pe_per_kevee", "photoelectrons per keVee"), ("_per_kevee", "per keVee"), ("_per_kevnr", "per keVnr"),
          ("_sqrt_kevee", "sqrt(keVee)"), ("_per_us", "per us"), ("_g_cm3", "g/cm^3"), ("_g_mol", "g/mol"),
          ("_kev", "keV"), ("_mev", "MeV"), ("_gev", "GeV"), ("_kg", "kg"), ("_m3", "m^3"), ("_m", "m"),
          ("_ns", "ns"), ("_us", "us"), ("_days", "days"), ("_years", "years"), ("_mw", "MW"),
          ("_torr", "Torr"), ("_mci", "MCi"), ("_pe", "photoelectrons"))

EXPERIMENT_LOADER_ONLY = (
    "value ranges (> 0, in (0, 1], bin edges increasing, at most 8 quenching coefficients, ...) and finiteness "
    "(TOML's inf and nan)",
    "rules across tables: who carries the exposure (detector.exposure_years is required with a per-year source "
    "and not allowed with source.protons_on_target or a reactor / radioactive source), which chi^2 form fits "
    "which detector kind (gaussian-sm: electron-scattering only; templates-poisson: scintillator only), that an "
    "electron-scattering detector needs a radioactive source and a radioactive source an electron-scattering "
    "detector, that a scintillator needs a pion-dar source with pulse_mean_ns and pulse_sigma_ns, that "
    "templates and data belong to a scintillator detector",
    "rules that depend on values: binning = 'single' and smearing = false with [[detector.parts]], "
    "resolution_at_threshold > 0 with smearing or resolution binning, light_yield_pe_per_kevee required with "
    "reconstructed = 'pe' and not allowed with 'kevee', the photoelectron acceptance functions needing "
    "light_yield_pe_per_kevee and quenching_factor, the keys of detector.thresholds_kev_at_reference (the "
    "targets of the material), the Helm form factor needing charge radii, time_shape only with events, shape "
    "variants of a template only with its pdf, unique names and part labels",
    "that the data files a spec names exist",
)
MODEL_LOADER_ONLY = (
    "finiteness (TOML's inf and nan) and renormalization_scale_mev > 0",
    "that a model charges a neutrino, or is a pure dark photon (every charge 0 and "
    "kinetic_mixing.epsilon_per_coupling != 0)",
    "that renormalization_scale_mev is needed where loop = true and Q'_e + Q'_mu + Q'_tau != 0",
)


def _doc(obj) -> str:
    """A docstring as paragraphs of single-spaced text."""
    text = inspect.cleandoc(obj.__doc__ or "")
    return "\n\n".join(" ".join(p.split()) for p in text.split("\n\n") if p.strip())


def _sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<!e\.g\.)(?<!i\.e\.)(?<=[.;])\s+(?=[A-Z`(\"])", " ".join(text.split())) if s]


def _unit(name: str) -> str | None:
    base = name.removesuffix("_plus").removesuffix("_minus")
    return next((unit for suffix, unit in _UNITS if base.endswith(suffix)), None)


def _clause(sentence: str, pattern: str) -> str:
    """What ``sentence`` says of the key ``pattern``: its parenthesis, its ": ..." clause, else the sentence."""
    rest = sentence[sentence.index(pattern) + len(pattern):]
    if rest.startswith(" ("):
        depth = 0
        for i, ch in enumerate(rest[1:], 1):
            depth += {"(": 1, ")": -1}.get(ch, 0)
            if depth == 0:
                return rest[2:i] if i > 14 else sentence
    if rest.startswith(": "):
        return re.split(r";\s|\.$", rest[2:])[0]
    return sentence


def _field_description(cls, name: str) -> str:
    """What the class docstring says of ``name`` (or of its ``*_plus`` pattern), with the unit."""
    pattern = "``*_plus``" if name.endswith(("_plus", "_minus")) else f"``{name}``"
    said = [_clause(s, pattern) for s in _sentences(cls.__doc__ or "") if pattern in s]
    unit = _unit(name)
    head = name.replace("_", " ") + (f" [{unit}]" if unit else "")
    return (head + (": " + " ".join(said) if said else "")).replace("``", "`")


def _closed_sets() -> dict:
    """{dataclass: {field: allowed values}}: the closed sets the validation checks, from its own declarations."""
    from ..kernels.detectors import EFFICIENCY_FUNCTIONS
    from ..physics.form_factors import FORM_FACTORS
    from ..physics.models import FLAVOURS
    from ..physics.nuclei import MATERIALS

    targets = {"material": sorted(MATERIALS), "isotopes": list(S.ISOTOPE_OPTIONS)}
    nuclear = {**targets, "form_factor": sorted(FORM_FACTORS)}
    return {
        S.DetectorSpec: {**nuclear, "acceptance": sorted(EFFICIENCY_FUNCTIONS), "binning": list(S.BINNINGS)},
        S.DetectorPart: {**targets, "acceptance": sorted(EFFICIENCY_FUNCTIONS)},
        S.GasTPCDetectorSpec: nuclear,
        S.ScintillatorDetectorSpec: {**nuclear, "reconstructed": sorted(V.RECONSTRUCTED)},
        S.LBNFBeamDumpSource: {"flavours": list(S.LBNF_FLAVOURS)},
        S.RadioactiveSource: {"flavour": list(FLAVOURS)},
        S.TemplateSpec: {"time_shape": list(S.TEMPLATE_TIME_SHAPES)},
        S.TimeEfficiencySpec: {"kind": list(V.TIME_EFFICIENCY_KINDS)},
    }


def _closed_keys() -> dict:
    """{(dataclass, field): allowed keys} of the tables of numbers (``tuple`` fields) with a closed key set."""
    from ..physics.reactor import REACTOR_ISOTOPES

    return {(S.ReactorSource, "fission_fractions"): list(REACTOR_ISOTOPES)}


def _ref(name: str) -> dict:
    return {"$ref": f"#/$defs/{name}"}


def _value_schema(cls, f, enums: dict, keys: dict) -> dict:
    """The schema of one field's value from its annotation (the strings ``validate._check_table`` reads)."""
    kind = f.type.removesuffix(" | None")
    allowed = enums.get(cls, {}).get(f.name)
    if kind == "float":
        out = {"type": "number"}
    elif kind == "float | str":
        out = {"anyOf": [{"type": "number"}, {"type": "string", **({"enum": allowed} if allowed else {})}]}
        allowed = None
    elif kind == "bool":
        out = {"type": "boolean"}
    elif kind == "str":
        out = {"type": "string"}
    elif kind == "list":
        out = {"type": "array", "items": {"type": "number"}, "minItems": 1}
    elif kind == "tuple":
        out = {"type": "object", "additionalProperties": {"type": "number"}, "minProperties": 1}
        if (cls, f.name) in keys:
            out["propertyNames"] = {"enum": keys[(cls, f.name)]}
    elif m := re.fullmatch(r"tuple\[(\w+), \.\.\.\]", kind):
        out = {"type": "array", "items": _ref(m.group(1))}
    elif is_dataclass(getattr(S, kind, None)):
        out = _ref(kind)
    else:
        raise TypeError(f"{cls.__name__}.{f.name}: no JSON Schema for the annotation {f.type!r}")
    if allowed:
        out["enum"] = allowed
    return out


def _table(cls, enums: dict, keys: dict, *, kind: str | None = None, skip=()) -> dict:
    """A dataclass as a closed object: its fields (``kind`` fixed to ``kind``), their defaults, the required ones."""
    props, required = {}, []
    for f in fields(cls):
        if f.name in skip:
            continue
        if f.name == "kind" and kind is not None:
            props["kind"] = {"const": kind, "description": "kind of the table"}
            continue
        prop = {"description": _field_description(cls, f.name), **_value_schema(cls, f, enums, keys)}
        if f.default is not MISSING and f.default is not None and f.default != ():
            prop["default"] = f.default
        props[f.name] = prop
        if f.default is MISSING and f.default_factory is MISSING:
            required.append(f.name)
    out = {"type": "object", "description": _doc(cls), "properties": props, "additionalProperties": False}
    if required:
        out["required"] = required
    return out


def _both_ways(pairs) -> dict:
    """dependentRequired for keys that go together (each needs the others)."""
    return {k: [o for o in keys if o != k] for keys in pairs for k in keys}


def _dispatch(kinds: dict, description: str, default: str | None = None) -> dict:
    """A table whose ``kind`` selects its dataclass (``$defs`` of the same name); ``default``: a kind the
    table has when it gives none."""
    branches = []
    for name, cls in kinds.items():
        cond = {"properties": {"kind": {"const": name}}}
        if name != default:
            cond["required"] = ["kind"]
        branches.append({"if": cond, "then": _ref(cls.__name__)})
    out = {"type": "object", "description": description,
           "properties": {"kind": {"enum": sorted(kinds), "description": "selects the table's keys"
                                   + (f" (default: {default!r})" if default else "")}},
           "allOf": branches}
    if default is None:
        out["required"] = ["kind"]
    return out


def _kinded(cls, kinds: dict, enums: dict, keys: dict, optional: dict | None = None) -> dict:
    """A sub-table with a ``kind`` whose keys are ``kinds[kind]`` (required) and ``optional[kind]``
    (as ``validate._kinded`` checks it)."""
    out = _table(cls, enums, keys)
    out["properties"]["kind"]["enum"] = sorted(kinds)
    out["allOf"] = [{"if": {"properties": {"kind": {"const": k}}},
                     "then": {"propertyNames": {"enum": ["kind", *needed, *(optional or {}).get(k, ())]},
                              **({"required": list(needed)} if needed else {})}}
                    for k, needed in kinds.items()]
    return out


def experiment_schema() -> dict:
    """The JSON Schema of an experiment spec (a TOML file of ``spec/presets`` or a user's)."""
    enums, keys = _closed_sets(), _closed_keys()
    defs = {}
    kind_of = {cls: name for table in (S.SOURCE_KINDS, S.DETECTOR_KINDS) for name, cls in table.items()}
    for cls, name in kind_of.items():
        defs[cls.__name__] = table = _table(cls, enums, keys, kind=name)
        if name != S.DEFAULT_DETECTOR_KIND:          # only the default detector kind may leave out ``kind``
            table["required"] = ["kind", *table.get("required", [])]
    for cls in (S.DetectorPart, S.TimeEfficiencySpec, S.TemplateVariant, S.TemplateSpec, S.DataSpec,
                S.SignalVariant, S.StatisticsSpec):
        defs[cls.__name__] = _table(cls, enums, keys)

    # keys of which exactly one is given, keys that go together, a key that needs another
    for cls, one_of in S.EXACTLY_ONE.items():
        defs[cls.__name__]["oneOf"] = [{"required": [k]} for k in one_of]
    for cls, together in S.TOGETHER.items():
        defs[cls.__name__].setdefault("dependentRequired", {}).update(_both_ways([together]))
    for cls, needs in S.NEEDS.items():
        defs[cls.__name__].setdefault("dependentRequired", {}).update({k: [n] for k, n in needs.items()})
    defs["DataSpec"]["oneOf"] = [{"required": [f.name]} for f in fields(S.DataSpec)]   # validate: one key

    # the standard detector: one material or [[detector.parts]]; a keVnr key or its photoelectron twin
    det = defs["DetectorSpec"]
    det["properties"]["parts"]["minItems"] = 1
    det["allOf"] = [
        {"if": {"required": ["parts"]},
         "then": {"not": {"anyOf": [{"required": [k]} for k in V._SINGLE_ONLY_KEYS]}},
         "else": {"required": list(V._SINGLE_REQUIRED),
                  "anyOf": [{"required": [k]} for k in V._PE_ALTERNATIVES[0]]}},
        *({"not": {"required": list(pair)}} for pair in V._PE_ALTERNATIVES)]
    det["dependentRequired"].update({pe: list(S.TOGETHER[S.DetectorSpec]) for _, pe in V._PE_ALTERNATIVES})

    # the scintillator's response sub-tables; its reconstructed quantity fixes the resolution model
    defs["QuenchingSpec"] = _kinded(S.QuenchingSpec, V.QUENCHING_KINDS, enums, keys)
    defs["ResolutionSpec"] = _kinded(S.ResolutionSpec, V.RESOLUTION_KINDS, enums, keys)
    defs["EfficiencySpec"] = _kinded(S.EfficiencySpec, V.EFFICIENCY_KINDS, enums, keys, V.EFFICIENCY_OPTIONAL)
    defs["ScintillatorDetectorSpec"]["allOf"] = [
        {"if": {"properties": {"reconstructed": {"const": r}}, "required": ["reconstructed"]},
         "then": {"properties": {"resolution": {"properties": {"kind": {"const": res}}}}}}
        for r, res in V.RECONSTRUCTED.items()]

    # a shape systematic of the signal: exactly one setting, as *_plus and *_minus
    variant = defs["SignalVariant"]
    settings = sorted({f.name.rsplit("_", 1)[0] for f in fields(S.SignalVariant) if f.name != "name"})
    variant["oneOf"] = [{"required": [f"{s}_plus", f"{s}_minus"],
                         "propertyNames": {"enum": ["name", f"{s}_plus", f"{s}_minus"]}} for s in settings]

    # the chi^2 form fixes the statistics keys (CHI2_FORMS) and which of them are required
    stats = defs["StatisticsSpec"]
    stats["properties"]["chi2"]["enum"] = sorted(S.CHI2_FORMS)
    default_form = next(f.default for f in fields(S.StatisticsSpec) if f.name == "chi2")
    defaults = {f.name: f.default for f in fields(S.StatisticsSpec)}
    stats["allOf"] = []
    for form, needed in S.CHI2_FORMS.items():
        cond = {"properties": {"chi2": {"const": form}}, **({} if form == default_form else {"required": ["chi2"]})}
        required = [] if form in S.CHI2_OPTIONAL_KEYS else [k for k in needed if defaults[k] is None]
        stats["allOf"].append({"if": cond, "then": {"propertyNames": {"enum": ["chi2", *needed]},
                                                     **({"required": required} if required else {})}})

    top = _table(S.ExperimentSpec, enums, keys, skip=("source", "detector"))
    props = {**top["properties"],
             "source": {"description": _field_description(S.ExperimentSpec, "source"), **_ref("source")},
             "detector": {"description": _field_description(S.ExperimentSpec, "detector"), **_ref("detector")}}
    defs["source"] = _dispatch(S.SOURCE_KINDS, "The neutrino source; its kind selects its keys.")
    defs["detector"] = _dispatch(S.DETECTOR_KINDS, "The detector; its kind selects its keys.", S.DEFAULT_DETECTOR_KIND)
    from . import __doc__ as spec_doc

    return {
        "$schema": DIALECT,
        "$id": "urn:zprime-jax:schema:experiment",
        "title": "zprime_jax experiment spec",
        "description": (" ".join(spec_doc.split("\n\n")[0].split()) + "\n\nGenerated by "
                        "zprime_jax.spec.json_schema from the spec definitions. Not expressed by this schema (checked "
                        "by the loader, whose error names the field): " + "; ".join(EXPERIMENT_LOADER_ONLY) + "."),
        "type": "object",
        "properties": {k: props[k] for k in [f.name for f in fields(S.ExperimentSpec)]},
        "required": list(S.TOP_LEVEL_REQUIRED),
        "additionalProperties": False,
        "$defs": dict(sorted(defs.items())),
    }


def _example_comments(doc: str) -> dict[str, str]:
    """{key or [table]: comment} of the commented lines of the TOML example in a module docstring."""
    out = {}
    for line in doc.splitlines():
        m = re.match(r"\s*(\[\w+\]|\w+)\s*(?:=[^#]*)?#\s*(.+)$", line)
        if m:
            out[m.group(1).strip("[]")] = m.group(2).strip()
    return out


def model_schema() -> dict:
    """The JSON Schema of a model file (``physics/model_files/*.toml`` or a user's ``--model PATH``)."""
    from ..physics import model_files as M

    said = _example_comments(M.__doc__)
    text = {k: {"type": "string", "pattern": r"\S", "description": f"{k} (a non-empty string)"} for k in M.TEXT_KEYS}
    charges = {k: {"type": "number", "description": f"U(1)' charge of {k} in units of the coupling g"}
               for k in M.CHARGE_KEYS}
    # the loader reads epsilon_per_coupling and renormalization_scale_mev as numbers, loop as true/false
    mixing = {k: {"type": "boolean" if k == "loop" else "number",
                  "description": k.replace("_", " ") + (f" [{_unit(k)}]" if _unit(k) else "")
                  + (f": {said[k]}" if k in said else "")} for k in M.MIXING_KEYS}
    mixing["loop"]["default"] = False
    mixing["epsilon_per_coupling"]["default"] = 0.0
    props = {**text,
             "reference": {"type": "string", "description": "where the model comes from (free text, optional; "
                                                           "the loader does not read it)"},
             "charges": {"type": "object", "description": said.get("charges", "the U(1)' charges"),
                         "properties": charges, "required": list(M.CHARGE_KEYS), "additionalProperties": False},
             "kinetic_mixing": {"type": "object", "description": said.get("kinetic_mixing", "kinetic mixing")
                                + " (optional)", "properties": mixing, "additionalProperties": False,
                                # the scale applies only with loop = true (parse_model)
                                "dependentSchemas": {"renormalization_scale_mev": {
                                    "properties": {"loop": {"const": True}}, "required": ["loop"]}}}}
    return {
        "$schema": DIALECT,
        "$id": "urn:zprime-jax:schema:model",
        "title": "zprime_jax model file",
        "description": (" ".join(M.__doc__.split("\n\n")[0].split()) + "\n\nGenerated by "
                        "zprime_jax.spec.json_schema from zprime_jax.physics.model_files. Not expressed by this "
                        "schema (checked by the loader, whose error names the field): "
                        + "; ".join(MODEL_LOADER_ONLY) + "."),
        "type": "object",
        "properties": {k: props[k] for k in M.TOP_KEYS},
        "required": [*M.TEXT_KEYS, "charges"],
        "additionalProperties": False,
    }


def generate(kind: str) -> dict:
    """The JSON Schema of ``kind``: "experiment" or "model"."""
    if kind not in KINDS:
        raise ValueError(f"kind: must be one of {KINDS}, got {kind!r}")
    return experiment_schema() if kind == "experiment" else model_schema()


def dumps(document: dict) -> str:
    """The text of a shipped schema file (what ``zprime-jax schema KIND`` prints, without its final newline)."""
    return json.dumps(document, indent=2, ensure_ascii=False)
