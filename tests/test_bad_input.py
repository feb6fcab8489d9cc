"""The bad-input catalogue (issue 14): every malformed input is one JSON error naming its field, exit 2.

Each case runs the command line in-process with ``--json`` and checks: status
2, stdout exactly one JSON object ``{"error", "field"}`` (no NaN token), the
field expected and named in the message, no traceback on stderr. Rejections
happen at the boundary: the command-line cases before any rate kernel is
built (enforced), the spec and data cases while the spec or the data file is
read (the whole catalogue runs in seconds). Add to it every bad input found later.
"""

from __future__ import annotations

import json
import re
from importlib import resources

import pytest

from zprime_jax import cli

S = ["sensitivity", "--experiment", "ess-csi", "--model", "universal"]
R = ["rates", "--experiment", "ess-csi"]
RL = [*R, "--model", "universal", "--mass-mev", "10", "--coupling", "1e-4"]
RH = ["rates", "--experiment", "cr51-lxe-a", "--model", "lr", "--mass-gev", "500"]
RH6 = ["rates", "--experiment", "cr51-lxe-a", "--mass-gev", "500", "--model"]     # + the model
M = ["mass-limit", "--experiment", "coherent-csi", "--model", "lr"]
M_ = ["mass-limit", "--experiment", "coherent-csi", "--model"]                   # + the model
M6 = ["mass-limit", "--experiment", "coherent-csi", "--model", "e6", "--cos-beta", "0.5"]
LS = ["limit-scan", "--experiment", "coherent-csi", "--model", "lr"]
E6P = ["e6-plane", "--experiment", "coherent-csi"]
P = ["posterior", "--experiment", "ess-csi", "--model", "universal"]
OP = ["optimize-pressure", "--objective", "sm-events"]
PS = ["pressure-scan"]

# (argv, field): the field must be reported and named in the message
COMMAND_LINE = [
    # numbers: not a number, not finite, out of range; negative numbers are values, not flags
    ([*R, "--sin2w", "nan"], "--sin2w"),
    ([*R, "--sin2w", "1.5"], "--sin2w"),
    ([*R, "--sin2w", "abc"], "--sin2w"),
    ([*R, "--model", "universal", "--mass-mev", "-1", "--coupling", "1e-5"], "--mass-mev"),
    ([*R, "--model", "universal", "--mass-mev", "inf", "--coupling", "1e-5"], "--mass-mev"),
    ([*R, "--model", "universal", "--mass-mev", "10", "--coupling", "-1e-3"], "--coupling"),
    ([*R, "--model", "universal", "--mass-mev", "10", "--coupling", "1e300"], "--coupling"),
    ([*R, "--model", "universal", "--mass-mev", "10", "--coupling", "-inf"], "--coupling"),
    ([*R, "--model", "universal", "--mass-mev", "", "--coupling", "1e-4"], "--mass-mev"),
    ([*RH, "--mass-gev", "0.01"], "--mass-gev"),
    (["rates", "--experiment", "cr51-lxe-a", "--model", "e6", "--mass-gev", "500", "--cos-beta", "1.5"],
     "--cos-beta"),
    (["rates", "--experiment", "cr51-lxe-a", "--model", "e6", "--mass-gev", "500", "--beta", "-0.1"], "--beta"),
    ([*R, "--model", "universal", "--mass-mev", "10", "--coupling", "1e-4", "--pressure-torr", "-5"],
     "--pressure-torr"),
    ([*S, "--cl", "0"], "--cl"),
    ([*S, "--cl", "1"], "--cl"),
    ([*S, "--cl", "nan"], "--cl"),
    ([*S, "--delta-chi2", "nan"], "--delta-chi2"),
    ([*S, "--delta-chi2", "-1"], "--delta-chi2"),
    ([*S, "--masses-mev", "-5"], "--masses-mev"),
    ([*S, "--masses-mev", "1,,10"], "--masses-mev"),
    ([*S, "--masses-mev", ""], "--masses-mev"),
    ([*S, "--masses-mev", "1,nan"], "--masses-mev"),
    ([*S, "--masses-mev", ",".join(["1"] * 10_001)], "--masses-mev"),
    ([*S, "--coupling-range", "1,0.1"], "--coupling-range"),
    ([*S, "--coupling-range", "-1,10"], "--coupling-range"),
    ([*S, "--coupling-range", "1e-8,100"], "--coupling-range"),
    ([*S, "--coupling-range", "1e-8"], "--coupling-range"),
    ([*S, "--mass-range-mev", "-1,10", "--grid", "3,3"], "--mass-range-mev"),
    ([*S, "--grid", "1,5"], "--grid"),
    ([*S, "--grid", "100000,100000"], "--grid"),
    ([*S, "--grid", "3"], "--grid"),
    ([*S, "--method", "lasso"], "--method"),
    ([*M, "--luminosity-ratio", "inf"], "--luminosity-ratio"),
    ([*M, "--luminosity-ratio", "0"], "--luminosity-ratio"),
    ([*M, "--sigma-stat", "-0.1", "--chi2", "projection"], "--sigma-stat"),
    ([*M, "--mass-range-gev", "0.1,10"], "--mass-range-gev"),
    ([*M, "--mass-range-gev", "100,10"], "--mass-range-gev"),
    ([*M, "--chi2", "pulls"], "--chi2"),
    ([*LS, "--parameter", "uncertainty", "--values", "0.1,-0.2"], "--values"),
    ([*LS, "--parameter", "luminosity", "--values", "0"], "--values"),
    ([*LS, "--parameter", "luminosity", "--values", "1e9"], "--values"),
    ([*E6P, "--grid", "2,1"], "--grid"),
    ([*P, "--samples", "0"], "--samples"),
    ([*P, "--chains", "-1"], "--chains"),
    ([*P, "--seed", "-1"], "--seed"),
    ([*P, "--samples", "1.5"], "--samples"),
    ([*P, "--samples", "1000000", "--chains", "1000"], "--samples"),
    ([*P, "--cl", "1.5"], "--cl"),
    ([*OP, "--steps", "0"], "--steps"),
    ([*OP, "--start-torr", "-100"], "--start-torr"),
    ([*PS, "--points", "0"], "--points"),
    ([*PS, "--points", "1000000000"], "--points"),
    ([*PS, "--pressures-torr", "0,10"], "--pressures-torr"),
    ([*PS, "--pressures-torr", "1,1e300"], "--pressures-torr"),     # the thresholds pass the window (eq. 3.4)
    ([*OP, "--start-torr", "1e300"], "--start-torr"),
    ([*OP, "--steps", "1000000000"], "--steps"),
    ([*S, "--grid="], "--grid"),
    ([*R, "--out", ""], "--out"),
    ([*M, "--hepdata", __file__], "--hepdata"),                              # a file, not a folder
    ([*M, "--hepdata", ""], "--hepdata"),                                    # no path
    (["fit", "--experiment", "coherent-csi-2021", "--hepdata", f"{__file__}/sub"], "--hepdata"),   # under a file
    (["schema", "nonsense"], "kind"),                                         # neither experiment nor model
    ([*P, "--seed", str(2**70)], "--seed"),
    ([*P, "--warmup", "1000000000"], "--warmup"),
    ([*R, "--model", "universal", "--mass-mev", "1e300", "--coupling", "1e-4"], "--mass-mev"),
    (["optimize-pressure", "--objective", "limit", "--model", "universal", "--mass-mev", "-3"], "--mass-mev"),
    (["experiments", "extra"], "extra"),
    (["reproduce", "--figure", "light-fig1", "--all", "--out", "/tmp/x"], "--all"),
    # unknown names, missing options, unknown options
    ([*R, "--model", "warp-drive"], "--model"),
    (["rates", "--experiment", "nope"], "--experiment"),
    (["rates", "--experiment", "./nope.toml"], "--experiment"),
    (["rates", "--experiment", "ess-all"], "--experiment"),
    (["rates", "--experiment", "ess-csi", "--experiment", "ess-ar"], "--experiment"),     # not "the last wins"
    ([*R, "--jso"], "--jso"),                                                # no abbreviations
    (["reproduce", "--out", "/tmp/x"], "--figure"),
    (["limit-scan", "--experiment", "coherent-csi", "--model", "lr", "--parameter", "uncertainty", "--values",
      "0,1"], "--parameter"),                       # eq. 21 has no sigma_stat/sigma_sys: the scan would be flat
    ([*M, "--sigma-stat", "0.3"], "--sigma-stat"),
    (["posterior", "--experiment", "coherent-csi", "--model", "lr", "--samples", "2"], "--samples"),
    (["posterior", "--experiment", "coherent-csi", "--model", "lr", "--slices", "3"], "--slices"),
    (["rates", "--experiment", "nubdx-drift", "--pressure-torr", "1e-20"], "--pressure-torr"),
    ([*PS, "--pressures-torr", "1e-12,10"], "--pressures-torr"),
    ([*S, "--cl", "0.9", "--cl", "0.95"], "--cl"),
    (["rates"], "--experiment"),
    (["sensitivity", "--model", "universal"], "--experiment"),
    # a multi-process run needs all three of coordinator, process count and id, in range
    (["sensitivity", "--experiment", "ess-csi", "--model", "universal", "--coordinator", "127.0.0.1:1"],
     "--num-processes"),
    (["sensitivity", "--experiment", "ess-csi", "--model", "universal", "--coordinator", "127.0.0.1:1",
      "--num-processes", "2", "--process-id", "2"], "--process-id"),
    (["e6-plane", "--experiment", "coherent-csi", "--coordinator", "localhost", "--num-processes", "1",
      "--process-id", "0"], "--coordinator"),
    # parts: I/N with 1 <= I <= N, only with --out, not for a traced contour
    (["sensitivity", "--experiment", "ess-csi", "--model", "universal", "--shard", "0/2", "--out", "x"], "--shard"),
    (["e6-plane", "--experiment", "coherent-csi", "--shard", "1/2"], "--shard"),
    ([*LS, "--parameter", "luminosity", "--values", "1,2", "--shard", "1/2"], "--shard"),   # no --out
    (["merge", "parts", "--out", "x", "--hepdata", ""], "--hepdata"),                    # no path
    (["e6-plane", "--experiment", "coherent-csi", "--method", "trace", "--shard", "1/2", "--out", "x"], "--shard"),
    ([*S, "--experiment", "ess-csi"], "--experiment"),
    ([*S, "--experiment", "ess-all"], "--experiment"),
    ([*R, "--frobnicate"], "--frobnicate"),
    (["frobnicate"], "command"),
    ([*S, "--data", "/nonexistent/counts.csv"], "--data"),
    (["reproduce", "--figure", "light-fig1", "--out", "/tmp", "--overlay", "/nonexistent.csv"], "--overlay"),
    # options that do not apply, contradictory options
    ([*R, "--mass-mev", "3"], "--mass-mev"),
    ([*R, "--model", "lr", "--mass-mev", "3"], "--mass-mev"),
    ([*R, "--model", "universal", "--mass-gev", "300", "--mass-mev", "3", "--coupling", "1e-4"], "--mass-gev"),
    ([*RH, "--cos-beta", "0.3"], "--cos-beta"),
    ([*RH6, "e6-chi", "--beta", "0.3"], "--beta"),
    ([*RH6, "e6"], "--cos-beta"),
    (["rates", "--experiment", "cr51-lxe-a", "--model", "e6", "--mass-gev", "500", "--beta", "1",
      "--cos-beta", "0.5"], "--beta"),
    ([*R, "--model", "lr", "--mass-gev", "500", "--lr-electron-reading", "nc-only"], "--lr-electron-reading"),
    ([*RH6, "e6-chi", "--lr-electron-reading", "nc-only"], "--lr-electron-reading"),
    ([*RL, "--pressure-torr", "100"], "--pressure-torr"),
    ([*S, "--cl", "0.9", "--delta-chi2", "2.7"], "--delta-chi2"),
    ([*S, "--method", "trace", "--grid", "10,10"], "--grid"),
    ([*S, "--toys", "500"], "--toys"),                                   # --toys, --seed need --method toys
    ([*M, "--seed", "3"], "--seed"),
    ([*S, "--method", "toys", "--toys", "50"], "--toys"),                # too few for a 90% quantile
    ([*S, "--method", "toys", "--delta-chi2", "2.7"], "--delta-chi2"),   # toys take their level from --cl
    # (--method toys with a Gaussian form is refused once the measurements are built: tests/test_toys.py)
    ([*S, "--mass-range-mev", "1,10"], "--mass-range-mev"),
    (["sensitivity", "--experiment", "ess-csi", "--model", "lr"], "--model"),
    ([*S, "--data", __file__, "--data", __file__], "--data"),
    ([*M, "--cos-beta", "0.5"], "--cos-beta"),
    ([*M_, "e6-eta", "--beta", "0.5"], "--beta"),
    (["mass-limit", "--experiment", "coherent-csi", "--model", "e6"], "--cos-beta"),
    ([*M_, "universal"], "--model"),
    ([*M, "--model", "e6-chi"], "--model"),
    ([*M, "--separate"], "--separate"),
    ([*M6, "--lr-electron-reading", "nc-only"], "--lr-electron-reading"),
    ([*M, "--cl", "0.9", "--delta-chi2", "2.7"], "--delta-chi2"),
    ([*LS, "--parameter", "uncertainty", "--values", "0.1", "--sigma-stat", "0.3"], "--sigma-stat"),
    ([*LS, "--parameter", "luminosity", "--values", "2", "--luminosity-ratio", "3"], "--luminosity-ratio"),
    ([*LS, "--parameter", "luminosity", "--values", "2", "--combined"], "--combined"),
    ([*E6P, "--method", "trace", "--grid", "11,11"], "--grid"),
    (["posterior", "--experiment", "ess-csi", "--model", "sm"], "--model"),
    ([*P, "--mass-range-gev", "10,100"], "--mass-range-gev"),
    (["posterior", "--experiment", "coherent-csi", "--model", "lr", "--coupling-range", "1e-5,1e-3"],
     "--coupling-range"),
    (["posterior", "--experiment", "coherent-csi", "--model", "lr", "--mass-range-mev", "1,10"],
     "--mass-range-mev"),
    ([*OP, "--model", "universal"], "--model"),
    ([*OP, "--mass-mev", "10"], "--mass-mev"),
    ([*OP, "--sin2w", "0.24"], "--sin2w"),
    (["optimize-pressure", "--objective", "limit", "--mass-mev", "10"], "--model"),
    (["optimize-pressure", "--objective", "limit", "--model", "universal"], "--mass-mev"),
    (["optimize-pressure", "--objective", "limit", "--model", "lr", "--mass-mev", "10"], "--model"),
    ([*OP, "--experiment", "ess-csi"], "--experiment"),
    ([*PS, "--experiment", "ess-csi"], "--experiment"),
]


def _run(capsys, argv):
    code = cli.main([*argv, "--json"])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _one_error_object(out: str) -> dict:
    """stdout is exactly one strict-JSON object with the error keys (json.loads fails on trailing data)."""
    def no_constants(token):
        raise AssertionError(f"non-JSON token {token} in the output")

    obj = json.loads(out, parse_constant=no_constants)
    assert isinstance(obj, dict) and {"error", "field"} <= set(obj)
    return obj


def _check_rejected(capsys, argv, field):
    code, out, err = _run(capsys, argv)
    assert code == 2, (code, out)
    obj = _one_error_object(out)
    assert obj["field"] == field, obj
    assert field in obj["error"], obj
    assert "Traceback" not in err
    return obj


@pytest.mark.parametrize("argv, field", COMMAND_LINE, ids=lambda x: " ".join(x)[:70] if isinstance(x, list) else x)
def test_command_line_rejections(capsys, monkeypatch, argv, field):
    """Rejected before any rate kernel is built (build_kernel is made to fail)."""
    from zprime_jax.kernels import rates

    def no_kernels(*args, **kwargs):
        raise AssertionError("a rate kernel was built before the input was rejected")

    monkeypatch.setattr(rates, "build_kernel", no_kernels)
    _check_rejected(capsys, argv, field)


def test_out_must_be_writable_before_any_work(capsys, tmp_path):
    """--out that is a file, or cannot be created, fails at once (no computation first)."""
    afile = tmp_path / "a-file"
    afile.write_text("x")
    for out in (str(afile), str(afile / "sub"), "/proc/zprime-jax-out"):
        obj = _check_rejected(capsys, [*R, "--out", out], "--out")
        assert out in obj["error"]


def _preset_text(name: str) -> str:
    return (resources.files("zprime_jax.spec") / "presets" / f"{name}.toml").read_text()


def _edited(tmp_path, preset: str, key: str, value: str, section: str = "detector"):
    """The preset with ``key = value`` in ``[section]`` (replacing the key's line, or added)."""
    text = _preset_text(preset)
    pattern = re.compile(rf"^{re.escape(key)}\s*=.*$", re.MULTILINE)
    if pattern.search(text):
        text = pattern.sub(f"{key} = {value}", text, count=1)
    else:
        text = text.replace(f"[{section}]\n", f"[{section}]\n{key} = {value}\n", 1)
    path = tmp_path / f"{preset}-{key}.toml"
    path.write_text(text)
    return str(path)


# (preset, key, TOML value, section, field)
SPEC_FILES = [
    ("ess-csi", "mass_kg", "inf", "detector", "detector.mass_kg"),
    ("ess-csi", "mass_kg", "nan", "detector", "detector.mass_kg"),
    ("ess-csi", "mass_kg", "-3", "detector", "detector.mass_kg"),
    ("ess-csi", "mass_kg", '"heavy"', "detector", "detector.mass_kg"),
    ("ess-csi", "mass_kg", "1e300", "detector", "spec"),                     # finite, but the counts overflow
    ("ess-csi", "threshold_kev", "1e-30", "detector", "detector.threshold_kev"),
    ("ess-csi", "threshold_kev", "0", "detector", "detector.threshold_kev"),
    ("ess-csi", "threshold_kev", "1e6", "detector", "detector.window_max_kev"),  # the window ends below it
    ("ess-csi", "window_max_kev", "inf", "detector", "detector.window_max_kev"),
    ("ess-csi", "window_max_kev", "0.5", "detector", "detector.window_max_kev"),
    ("ess-csi", "resolution_at_threshold", "1e-9", "detector", "detector.resolution_at_threshold"),  # 1e9 bins
    ("ess-csi", "acceptance", "1.5", "detector", "detector.acceptance"),
    ("ess-csi", "material", '"unobtainium"', "detector", "detector.material"),
    ("ess-csi", "colour", '"blue"', "detector", "detector.colour"),
    ("ess-csi", "exposure_years", "-1", "detector", "detector.exposure_years"),
    ("ess-csi", "distance_m", "inf", "source", "source.distance_m"),
    ("ess-csi", "distance_m", "0", "source", "source.distance_m"),
    ("ess-csi", "kind", '"supernova"', "source", "source.kind"),
    ("cr51-lxe-a", "threshold_kev", "1e4", "detector", "detector.threshold_kev"),
    ("cr51-lxe-a", "n_bins", "2.5", "detector", "detector.n_bins"),
    ("nubdx-drift", "pressure_torr", "-1", "detector", "detector.pressure_torr"),
    ("cr51-lxe-a", "n_bins", "1e8", "detector", "detector.n_bins"),
    ("ess-csi", "protons_per_year", "inf", "source", "source.protons_per_year"),
    ("conus", "max_energy_mev", "1e300", "source", "source.max_energy_mev"),
    ("conus", "thermal_power_mw", "inf", "source", "source.thermal_power_mw"),
    ("nubdx-drift", "window_max_kev", "nan", "detector", "detector.window_max_kev"),
    # the real-data scintillators (issue 15)
    ("coherent-lar-2020", "mass_kg", "-1", "detector", "detector.mass_kg"),
    ("coherent-csi-2021", "light_yield_pe_per_kevee", "0", "detector", "detector.light_yield_pe_per_kevee"),
    ("coherent-csi-2021", "pulse_sigma_ns", "-5", "source", "source.pulse_sigma_ns"),
    ("coherent-csi-2021", "time_edges_us", "[0.0, 3.0, 1.0]", "detector", "detector.time_edges_us"),
    ("coherent-csi-2021", "reconstructed", '"photons"', "detector", "detector.reconstructed"),
    ("coherent-csi-2021", "time_shape", '"sideways"', "templates", "templates[0].time_shape"),
    ("coherent-csi-2021", "sigma_source", "-0.1", "statistics", "statistics.sigma_source"),
]


@pytest.mark.parametrize("preset, key, value, section, field", SPEC_FILES,
                         ids=[f"{p}:{k}={v}" for p, k, v, _, _ in SPEC_FILES])
def test_spec_file_rejections(capsys, tmp_path, preset, key, value, section, field):
    path = _edited(tmp_path, preset, key, value, section)
    _check_rejected(capsys, ["rates", "--experiment", path], field)


def test_unreadable_spec_files(capsys, tmp_path):
    garbage = tmp_path / "garbage.toml"
    garbage.write_bytes(b"\xff\xfe\x00binary\x80")
    obj = _check_rejected(capsys, ["rates", "--experiment", str(garbage)], "experiment")
    assert "not valid TOML" in obj["error"] and str(garbage) in obj["error"]
    extra = tmp_path / "extra.toml"
    extra.write_text("colour = 'blue'\n" + _preset_text("ess-ar"))
    _check_rejected(capsys, ["rates", "--experiment", str(extra)], "colour")
    broken = tmp_path / "broken.toml"
    broken.write_text("name = \n")
    _check_rejected(capsys, ["rates", "--experiment", str(broken)], "experiment")


_MODEL = ('name = "mine"\ndescription = "Le-Lmu by hand"\n[charges]\nu = 0\nd = 0\ne = 1\nmu = -1\ntau = 0\n'
          'nu_e = 1\nnu_mu = -1\nnu_tau = 0\n[kinetic_mixing]\nloop = true\n')

# (what to replace in the model file, by what, the field the message must name)
MODEL_FILES = [
    ("\ntau = 0\n", "\n", "charges.tau"),
    ("u = 0\n", "u = 0\ntop = 1\n", "charges.top"),
    ("u = 0\n", 'u = "one"\n', "charges.u"),
    ("nu_e = 1\nnu_mu = -1", "nu_e = 0\nnu_mu = 0", "charges.nu_e"),
    ("loop = true", 'loop = "yes"', "kinetic_mixing.loop"),
    ("mu = -1\n", "mu = 0\n", "kinetic_mixing.renormalization_scale_mev"),    # the e loop alone diverges
    ('name = "mine"\n', 'name = "mine"\ncolour = "blue"\n', "colour"),
    ("[charges]", "[charges", "not valid TOML"),
    ("loop = true", 'loop = true\nepsilon_per_coupling = "big"', "kinetic_mixing.epsilon_per_coupling"),
    # kinetic mixing and no neutrino charge: only a pure dark photon is allowed
    ("nu_e = 1\nnu_mu = -1\nnu_tau = 0\n[kinetic_mixing]\nloop = true",
     "nu_e = 0\nnu_mu = 0\nnu_tau = 0\n[kinetic_mixing]\nepsilon_per_coupling = 1.0", "charges.e"),
]


@pytest.mark.parametrize("old, new, field", MODEL_FILES, ids=[m[2] for m in MODEL_FILES])
def test_model_file_rejections(capsys, tmp_path, old, new, field):
    """A broken model file: one JSON error naming --model, the field inside the file, and the file."""
    assert old in _MODEL
    path = tmp_path / "mine.toml"
    path.write_text(_MODEL.replace(old, new, 1))
    obj = _check_rejected(capsys, ["rates", "--experiment", "ess-csi", "--model", str(path)], "--model")
    assert field in obj["error"] and str(path) in obj["error"], obj


def test_missing_model_file(capsys, tmp_path):
    obj = _check_rejected(capsys, ["rates", "--experiment", "ess-csi", "--model", str(tmp_path / "no.toml")],
                          "--model")
    assert "not found" in obj["error"], obj


# (file name, content, what the message must also say)
DATA_FILES = [
    ("short.csv", "count\n1\n2\n", "bins"),
    ("negative.csv", "count\n" + "\n".join(["-1"] + ["3"] * 18) + "\n", "negative"),
    ("nan.json", json.dumps({"counts": [float("nan")] * 19}).replace("NaN", "NaN"), "finite"),
    ("words.csv", "count\n" + "\n".join(["many"] * 19) + "\n", "not a number"),
    ("object.json", '{"counts": {"a": 1}}', "list"),
    ("wrong-experiment.json", json.dumps({"experiment": "ess-xe", "counts": [1.0] * 19}), "ess-xe"),
    ("bad.json", "{not json", "not valid JSON"),
]


@pytest.mark.parametrize("name, content, says", DATA_FILES, ids=[d[0] for d in DATA_FILES])
def test_data_file_rejections(capsys, tmp_path, name, content, says):
    """A data file that does not match the binning (or is not data): the option, the file and the reason."""
    path = tmp_path / name
    path.write_text(content)
    obj = _check_rejected(capsys, [*S, "--data", str(path)], "--data")
    assert str(path) in obj["error"] and says in obj["error"], obj


def test_binary_data_file(capsys, tmp_path):
    path = tmp_path / "counts.csv"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\xff")
    obj = _check_rejected(capsys, [*S, "--data", str(path)], "--data")
    assert str(path) in obj["error"] and "not a text file" in obj["error"]


@pytest.mark.parametrize("variable, value", [("ZPRIME_JAX_HOST_DEVICES", "0"), ("ZPRIME_JAX_HOST_DEVICES", "two"),
                                             ("ZPRIME_JAX_HOST_DEVICES", "100000"),
                                             ("ZPRIME_JAX_CACHE_DIR", "/proc/zprime-jax-cache"),
                                             ("ZPRIME_JAX_NATIVE", "maybe")])
def test_environment_rejections(capsys, monkeypatch, variable, value):
    monkeypatch.setenv(variable, value)
    _check_rejected(capsys, ["experiments"], variable)


def test_argparse_errors_are_json_too(capsys):
    """argparse's own failures (a missing value, a bad choice) are the same one JSON object."""
    for argv, field in ((["rates", "--experiment"], "--experiment"),
                        ([*M, "--chi2"], "--chi2"),
                        ([*S, "--method", "x"], "--method")):
        obj = _check_rejected(capsys, argv, field)
        assert "usage:" not in obj["error"]


def test_strict_json_replaces_non_finite_numbers_and_says_where():
    from zprime_jax.io import strict_result

    out = strict_result({"a": float("nan"), "b": [1.0, float("inf")], "c": {"d": -float("inf")}, "e": 2})
    assert out["a"] is None and out["b"] == [1.0, None] and out["c"]["d"] is None and out["e"] == 2
    assert [w.split(":")[0] for w in out["warnings"]] == ["a", "b[1]", "c.d"]
    json.dumps(out, allow_nan=False)
    # a null the result explains itself (its warning starts with the path) is not explained again
    own = strict_result({"b": [1.0, float("nan")], "bb": float("nan"), "warnings": ["b[1] is null: not reached"]})
    assert own["warnings"] == ["b[1] is null: not reached",
                               "bb: not a finite number (the computation gave no value there); reported as null"]


def test_output_into_a_closed_pipe_is_quiet():
    """``zprime-jax ... --json | head -c 1``: the reader has gone; the write is dropped, no BrokenPipeError."""
    import os

    from zprime_jax.cli.main import _emit

    read_end, write_end = os.pipe()
    os.close(read_end)
    with os.fdopen(write_end, "w") as stream:
        _emit("x" * 100_000, stream)        # raises BrokenPipeError inside; handled
        _emit("again", stream)              # the stream now points at /dev/null
