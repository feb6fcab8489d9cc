"""The shipped JSON Schemas of experiment specs and model files: generated, valid, and in step with the loaders."""

import copy
import json
import tomllib
from pathlib import Path

import jsonschema
import pytest

from zprime_jax.cli.main import main
from zprime_jax.errors import InputError, SpecError
from zprime_jax.physics.model_files import _preset_files as model_files
from zprime_jax.physics.model_files import parse_model
from zprime_jax.spec import _preset_files as preset_files
from zprime_jax.spec import json_schema, parse_spec

SCHEMAS = Path(json_schema.__file__).parent / "schemas"
PRESETS = sorted(preset_files().items())
MODELS = sorted(model_files().items())


def _toml(path):
    with open(path, "rb") as fh:
        return tomllib.load(fh)


def _validator(kind):
    return jsonschema.Draft202012Validator(json.loads((SCHEMAS / f"{kind}.schema.json").read_text()))


@pytest.mark.parametrize("kind", json_schema.KINDS)
def test_shipped_schema_is_what_the_generator_makes(kind):
    """Regenerate with ``zprime-jax schema KIND > zprime_jax/spec/schemas/KIND.schema.json``."""
    assert (SCHEMAS / f"{kind}.schema.json").read_text() == json_schema.dumps(json_schema.generate(kind)) + "\n"
    jsonschema.Draft202012Validator.check_schema(json_schema.generate(kind))


@pytest.mark.parametrize("kind", json_schema.KINDS)
def test_cli_prints_the_shipped_schema(kind, capsys):
    shipped = (SCHEMAS / f"{kind}.schema.json").read_text()
    assert main(["schema", kind]) == 0
    assert capsys.readouterr().out == shipped
    assert main(["schema", kind, "--json"]) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and json.loads(out) == json.loads(shipped)


def test_cli_unknown_kind_names_the_argument(capsys):
    assert main(["schema", "detector", "--json"]) == 2
    out = json.loads(capsys.readouterr().out)
    assert out["field"] == "kind" and "invalid choice" in out["error"]


@pytest.mark.parametrize("name,path", PRESETS, ids=[n for n, _ in PRESETS])
def test_every_preset_validates(name, path):
    errors = list(_validator("experiment").iter_errors(_toml(path)))
    assert not errors, [(list(e.absolute_path), e.message) for e in errors]


@pytest.mark.parametrize("name,path", MODELS, ids=[n for n, _ in MODELS])
def test_every_model_file_validates(name, path):
    errors = list(_validator("model").iter_errors(_toml(path)))
    assert not errors, [(list(e.absolute_path), e.message) for e in errors]


def _set(doc, path, value):
    doc = copy.deepcopy(doc)
    *parents, last = path
    target = doc
    for p in parents:
        target = target[p]
    if value is KeyError:
        del target[last]
    else:
        target[last] = value
    return doc


# (preset, change at a path, the schema error's path, the start of the loader's message)
EXPERIMENT_BREAKS = [
    ("ess-csi", (["detector", "threshold"], 1.0), ["detector"], "detector.threshold: unknown key"),
    ("ess-csi", (["bogus"], 1), [], "bogus: unknown top-level key"),
    ("ess-csi", (["detector", "mass_kg"], "heavy"), ["detector", "mass_kg"], "detector.mass_kg: must be a number"),
    ("ess-csi", (["detector", "smearing"], 1), ["detector", "smearing"], "detector.smearing: must be true or false"),
    ("ess-csi", (["source", "distance_m"], KeyError), ["source"], "source.distance_m: required key is missing"),
    ("ess-csi", (["description"], KeyError), [], "description: required top-level key is missing"),
    ("ess-csi", (["detector", "binning"], "fine"), ["detector", "binning"], "detector.binning: must be one of"),
    ("ess-csi", (["detector", "material"], "Unobtainium"), ["detector", "material"],
     "detector.material: unknown material"),
    ("ess-csi", (["source", "kind"], "pulsar"), ["source", "kind"], "source.kind: unknown source"),
    ("ess-csi", (["statistics", "chi2"], "gauss"), ["statistics", "chi2"], "statistics.chi2: unknown form"),
    ("ess-csi", (["statistics", "n_meas"], 142.0), ["statistics"], "statistics.n_meas: not a setting of"),
    ("coherent-csi", (["statistics", "n_meas"], KeyError), ["statistics"],
     "statistics.n_meas: required key is missing for chi2"),
    ("coherent-csi-2021", (["detector", "quenching", "kind"], "cubic"), ["detector", "quenching", "kind"],
     "detector.quenching.kind: unknown"),
    ("coherent-csi-2021", (["detector", "efficiency", "value"], 0.5), ["detector", "efficiency"],
     "detector.efficiency.value: not a setting of kind"),
    ("coherent-csi-2021", (["detector", "reconstructed"], "kevee"), ["detector", "resolution", "kind"],
     "detector.resolution.kind: reconstructed = 'kevee' takes"),
    ("coherent-csi-2021", (["templates", 0, "time_shape"], "flat"), ["templates", 0, "time_shape"],
     "templates[0].time_shape: must be one of"),
    ("coherent-csi-2021", (["templates", 1, "time_pdf"], KeyError), ["templates", 1],
     "templates[1]: give exactly one of events"),
    ("coherent-csi-2021", (["statistics", "source_name"], KeyError), ["statistics"],
     "statistics.source_name: statistics.sigma_source and statistics.source_name go together"),
    ("coherent-csi-2021", (["detector", "variants", 3, "pulse_mean_ns_minus"], KeyError), ["detector", "variants", 3],
     "detector.variants[3].pulse_mean_ns_minus: required with"),
    ("coherent-csi-2021", (["data", "counts"], "x.csv"), ["data"], "data: give exactly one of events"),
    ("coherent-csi", (["source", "protons_per_year"], 1e23), ["source"],
     "source.protons_per_year: give exactly one of"),
    ("conus", (["source", "fission_fractions"], {"U235": 0.5, "Th232": 0.5}), ["source", "fission_fractions"],
     "source.fission_fractions: unknown isotopes"),
]


@pytest.mark.parametrize("preset,change,schema_path,message", EXPERIMENT_BREAKS,
                         ids=[f"{p}:{'.'.join(map(str, c[0]))}" for p, c, _, _ in EXPERIMENT_BREAKS])
def test_broken_spec_is_rejected_by_schema_and_loader(preset, change, schema_path, message):
    doc = _set(_toml(preset_files()[preset]), *change)
    errors = list(_validator("experiment").iter_errors(doc))
    assert errors, "the schema accepts it"
    paths = [list(e.absolute_path) for err in errors for e in (err, *err.context)]
    assert schema_path in paths, paths
    with pytest.raises(SpecError) as info:
        parse_spec(doc, base=preset_files()[preset].parent)
    assert str(info.value).startswith(message), str(info.value)


MODEL_BREAKS = [
    ((["flavour"], "x"), [], "flavour: unknown key in"),
    ((["charges", "top"], 1.0), ["charges"], "charges.top: unknown fermion"),
    ((["charges", "mu"], "one"), ["charges", "mu"], "charges.mu: must be a finite number"),
    ((["charges", "tau"], KeyError), ["charges"], "charges.tau: missing"),
    ((["name"], KeyError), [], "name: the model file needs a non-empty string"),
    ((["description"], "  "), ["description"], "description: the model file needs a non-empty string"),
    ((["kinetic_mixing"], {"loop": "yes"}), ["kinetic_mixing", "loop"], "kinetic_mixing.loop: must be true or false"),
    ((["kinetic_mixing"], {"renormalization_scale_mev": 1e3}), ["kinetic_mixing"],
     "kinetic_mixing.renormalization_scale_mev: applies only with loop = true"),
]


@pytest.mark.parametrize("change,schema_path,message", MODEL_BREAKS, ids=[".".join(c[0]) for c, _, _ in MODEL_BREAKS])
def test_broken_model_file_is_rejected_by_schema_and_loader(change, schema_path, message):
    doc = _set(_toml(model_files()["b-l"]), *change)
    errors = list(_validator("model").iter_errors(doc))
    assert errors, "the schema accepts it"
    assert schema_path in [list(e.absolute_path) for e in errors]
    with pytest.raises(InputError) as info:
        parse_model(doc, "the model file")
    assert str(info.value).startswith(message), str(info.value)


def test_schema_states_what_it_cannot_express():
    for kind, rules in (("experiment", json_schema.EXPERIMENT_LOADER_ONLY), ("model", json_schema.MODEL_LOADER_ONLY)):
        description = json_schema.generate(kind)["description"]
        assert "Not expressed by this schema" in description and all(r in description for r in rules)
