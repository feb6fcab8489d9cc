"""``--hepdata DIR`` (issue 18 item 1): HEPData submissions that validate and hold the command's own numbers.

Each command runs in-process as in tests/test_cli.py, on the cheapest settings that still make every table
(ESS-Ar on an 8 x 12 grid, the 51Cr-LXe nu-e experiments). The submission is checked with
hepdata_validator's full-submission validator, and its tables against the command's JSON output.
"""

from __future__ import annotations

import gc
import json
import math
import warnings
from types import SimpleNamespace

import pytest
import yaml

from zprime_jax import __version__, cli
from zprime_jax.io import Column, HepTable, write_submission

with warnings.catch_warnings():      # hepdata_validator imports jsonschema.RefResolver, deprecated there
    warnings.simplefilter("ignore", DeprecationWarning)
    from hepdata_validator.full_submission_validator import FullSubmissionValidator

# write_submission keeps 10 significant digits (hepdata_lib's default would be 5): the tables equal the JSON
# output to a relative 5e-10 (half a unit of the 10th digit); 1e-9 leaves room for the float printing
WRITTEN = 1e-9


def run(capsys, *argv):
    code = cli.main([*argv, "--json", "--quiet"])
    return code, json.loads(capsys.readouterr().out)


def valid(folder) -> bool:
    v = FullSubmissionValidator()
    with warnings.catch_warnings():     # the validator leaves its files to the garbage collector
        warnings.simplefilter("ignore", ResourceWarning)
        ok = v.validate(directory=str(folder))
        gc.collect()
    if not ok:
        for f in v.get_messages():
            v.print_errors(f)
    return ok


def documents(folder) -> dict:
    """{table name: (its submission.yaml document, its data file)} of a submission folder."""
    docs = list(yaml.safe_load_all((folder / "submission.yaml").read_text()))
    return {d["name"]: (d, yaml.safe_load((folder / d["data_file"]).read_text())) for d in docs if "name" in d}


def values(var) -> list:
    return [v["value"] for v in var["values"]]


def quals(var) -> dict:
    return {q["name"]: q["value"] for q in var["qualifiers"]}


def same(written, expected) -> bool:
    """A written value equals the JSON one to the written precision ('-' where the JSON has null)."""
    if expected is None:
        return written == "-"
    return math.isclose(written, expected, rel_tol=WRITTEN)


def test_sensitivity_limit_curve_and_contour(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)                       # nothing may be written into the working folder
    folder = tmp_path / "hep"
    code, out = run(capsys, "sensitivity", "--experiment", "ess-ar", "--model", "universal", "--masses-mev",
                    "1,100", "--grid", "8,12", "--hepdata", str(folder))
    assert code == 0 and out["files"] == {"hepdata": str(folder / "submission.yaml")}    # works without --out
    assert valid(folder)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hep"]          # no archive left in the cwd
    tables = documents(folder)
    assert set(tables) == {"Coupling limit", "Contour ess-ar"}
    doc, data = tables["Coupling limit"]
    (mass,), (coupling,) = data["independent_variables"], data["dependent_variables"]
    assert mass["header"] == {"name": "$m_{Z'}$", "units": "MeV"} and "units" not in coupling["header"]
    assert values(mass) == [r["mass_mev"] for r in out["limits"]]
    assert all(same(w, r["coupling"]) for w, r in zip(values(coupling), out["limits"], strict=True))
    q = quals(coupling)
    assert q["CL"] == "90%" and q["model"] == "universal" and q["zprime_jax version"] == __version__
    assert q["experiments"] == "ess-ar" and q["likelihoods"] == "ess-ar: pulls-poisson"
    assert q["Delta chi2"] == pytest.approx(out["delta_chi2"], rel=WRITTEN)
    assert "dimensionless" in doc["description"] and "MeV" in doc["description"]
    _, contour = tables["Contour ess-ar"]
    segment, m = contour["independent_variables"]
    assert segment["header"]["name"] == "segment" and m["header"]["units"] == "MeV"
    g = contour["dependent_variables"][0]
    lo, hi = out["grid"]["mass_range_mev"]
    assert values(g) and all(isinstance(s, int) for s in values(segment))
    assert all(lo * (1 - WRITTEN) <= x <= hi * (1 + WRITTEN) for x in values(m))      # on the grid's range


def test_a_mass_without_limit_is_a_dash_with_its_reason(capsys, tmp_path):
    """The coupling range of test_cli.test_null_limits_come_with_a_reason: no limit at either mass."""
    folder = tmp_path / "hep"
    code, out = run(capsys, "sensitivity", "--experiment", "ess-ar", "--model", "b-l", "--masses-mev", "1,100",
                    "--coupling-range", "1e-8,1e-7", "--hepdata", str(folder))
    assert code == 0 and [r["coupling"] for r in out["limits"]] == [None, None]
    assert valid(folder)
    doc, data = documents(folder)["Coupling limit"]
    assert values(data["dependent_variables"][0]) == ["-", "-"]
    assert "'-': no limit at m_Z' = 1 MeV, m_Z' = 100 MeV" in doc["description"]
    assert "--coupling-range" in doc["description"]                       # the command's reason, not a bare '-'
    assert "nan" not in (folder / doc["data_file"]).read_text().lower()


def test_mass_limit_per_experiment_and_profiles(capsys, tmp_path):
    folder = tmp_path / "hep"
    code, out = run(capsys, "mass-limit", "--experiment", "cr51-lxe-a", "--experiment", "cr51-lxe-b", "--model",
                    "lr", "--hepdata", str(folder))
    assert code == 0 and out["files"]["hepdata"] == str(folder / "submission.yaml")
    assert valid(folder)
    tables = documents(folder)
    _, data = tables["Mass limit"]
    (analysis,), (limit,) = data["independent_variables"], data["dependent_variables"]
    assert values(analysis) == ["cr51-lxe-a", "cr51-lxe-b", "combined: cr51-lxe-a + cr51-lxe-b"]
    expected = [out["per_experiment"]["cr51-lxe-a"], out["per_experiment"]["cr51-lxe-b"], out["mass_limit_gev"]]
    assert all(same(w, e) for w, e in zip(values(limit), expected, strict=True))
    assert limit["header"]["units"] == "GeV"
    q = quals(limit)
    assert q["model"] == "lr" and q["CL"] == "90%" and q["zprime_jax version"] == __version__
    assert q["likelihoods"] == "cr51-lxe-a: gaussian-sm, cr51-lxe-b: gaussian-sm"
    _, profile = tables["Delta chi2 profile"]
    assert [quals(v)["experiments"] for v in profile["dependent_variables"]] == \
        ["cr51-lxe-a", "cr51-lxe-b", "cr51-lxe-a, cr51-lxe-b"]
    assert profile["independent_variables"][0]["header"]["units"] == "GeV"


def test_e6_plane_limit_versus_cos_beta(capsys, tmp_path):
    folder = tmp_path / "hep"
    code, out = run(capsys, "e6-plane", "--experiment", "cr51-lxe-a", "--grid", "21,31", "--hepdata", str(folder))
    assert code == 0 and valid(folder)
    doc, data = documents(folder)["Mass limit versus cos beta"]
    (cb,), (limit,) = data["independent_variables"], data["dependent_variables"]
    assert all(same(w, e) for w, e in zip(values(cb), out["cos_beta"], strict=True))
    assert all(same(w, e) for w, e in zip(values(limit), out["mass_limit_gev"], strict=True))
    assert quals(limit)["model"] == "e6" and quals(limit)["likelihoods"] == "cr51-lxe-a: gaussian-sm"
    if None in out["mass_limit_gev"]:                 # nu-e is blind at cos beta = -sqrt(5/32)
        assert "'-': no limit" in doc["description"]


def test_fit_table_with_its_error(tmp_path):
    """The fit's table from a fit result (the fit itself is tests/test_observed.py's; here only the writing)."""
    from zprime_jax.cli.fit import _fit_hepdata

    out = {"experiments": ["coherent-lar-2020"], "sm_cevns": {"coherent-lar-2020": 121.7},
           "best_fit_cevns": {"coherent-lar-2020": 140.9}, "best_fit_cevns_error": {"coherent-lar-2020": 41.5},
           "null_significance_sigma": 3.51, "converged": True}
    path = _fit_hepdata(SimpleNamespace(hepdata=str(tmp_path / "fit")), out, {"coherent-lar-2020": "templates-poisson"})
    assert valid(tmp_path / "fit")
    assert path == str(tmp_path / "fit" / "submission.yaml")
    _, data = documents(tmp_path / "fit")["CEvNS normalisation"]
    fitted = data["dependent_variables"][0]
    assert fitted["values"] == [{"value": 140.9, "errors": [{"symerror": 41.5, "label": "fit 1 sigma"}]}]
    assert values(data["dependent_variables"][2]) == [pytest.approx(140.9 / 121.7, rel=WRITTEN)]


def test_reproduce_table_iii_and_figure(tmp_path):
    """Table III and Fig. 4 on one 51Cr experiment (the setting of tests/test_reproduce.py's small run)."""
    from zprime_jax.cli.reproduce import write_reproduce_hepdata
    from zprime_jax.papers import reproduce

    res = reproduce.main_reproduce(["heavy-table3", "heavy-fig4"], tmp_path / "out", quick=True,
                                   experiments=["cr51-lxe-b"])
    write_reproduce_hepdata(str(tmp_path / "hep"), res)
    assert valid(tmp_path / "hep")
    tables = documents(tmp_path / "hep")
    assert set(tables) == {"Heavy Table III", "heavy fig4"}
    _, table3 = tables["Heavy Table III"]
    assert values(table3["independent_variables"][0]) == ["cr51-lxe-b"]
    rows = {(r["model"]): r for r in res["figures"]["heavy-table3"]["rows"]}
    for var in table3["dependent_variables"]:
        q = quals(var)
        key = "ours_gev" if q["source"] == "zprime_jax" else "paper_gev"
        assert same(values(var)[0], rows[q["model"]][key])
    _, fig4 = tables["heavy fig4"]
    assert {quals(v)["model"] for v in fig4["dependent_variables"]} == {"lr", "e6-chi", "e6-eta", "e6-psi"}


def test_writer_replaces_an_earlier_submission_and_refuses_nan(tmp_path):
    folder = tmp_path / "hep"

    def table(name, ys):
        return HepTable(name, f"{name}: a test table", (Column("x", "MeV", [1.0, 2.0]),), (Column("y", "", ys),))

    write_submission(folder, [table("First", [1.0, None]), table("First", [3.0, 4.0])], "test")
    assert sorted(p.name for p in folder.iterdir()) == ["first.yaml", "first_(2).yaml", "submission.yaml"]
    assert values(documents(folder)["First"][1]["dependent_variables"][0]) == [1.0, "-"]
    write_submission(folder, [table("Second", [1.0, 2.0])], "test")      # the earlier submission is replaced
    assert sorted(p.name for p in folder.iterdir()) == ["second.yaml", "submission.yaml"] and valid(folder)
    with pytest.raises(ValueError, match="not finite"):
        write_submission(folder, [table("Third", [1.0, float("nan")])], "test")
    assert (folder / "second.yaml").exists()                              # a failed write leaves it as it was


def test_parts_write_no_hepdata_and_the_merge_does(capsys, tmp_path):
    """--shard parts write only their part files; the merge writes what the whole command writes, HEPData too."""
    hep, parts = tmp_path / "hep", tmp_path / "parts"
    s = ["sensitivity", "--experiment", "ess-ar", "--model", "universal", "--masses-mev", "1,100",
         "--hepdata", str(hep)]
    for i in (1, 2):
        code, out = run(capsys, *s, "--shard", f"{i}/2", "--out", str(parts))
        assert code == 0 and "hepdata" not in out["files"] and not hep.exists()
    code, merged = run(capsys, "merge", str(parts), "--out", str(tmp_path / "whole"))
    assert code == 0 and merged["files"]["hepdata"] == str(hep / "submission.yaml") and valid(hep)
    _, data = documents(hep)["Coupling limit"]
    assert all(same(w, r["coupling"]) for w, r in zip(values(data["dependent_variables"][0]), merged["limits"],
                                                      strict=True))
    # --hepdata is where a run reports, not part of its settings: parts that name different folders still
    # belong together, and the merge then needs its own
    other = tmp_path / "other"
    code, _ = run(capsys, *s[:-1], str(other), "--shard", "2/2", "--out", str(parts))
    assert code == 0 and not other.exists()
    code, out = run(capsys, "merge", str(parts), "--out", str(tmp_path / "again"), "--json")
    assert code == 2 and out["field"] == "--hepdata" and "different --hepdata folders" in out["error"], out
    own = tmp_path / "own"
    code, out = run(capsys, "merge", str(parts), "--out", str(tmp_path / "again"), "--hepdata", str(own), "--json")
    assert code == 0 and out["files"]["hepdata"] == str(own / "submission.yaml") and valid(own)
    assert documents(own)["Coupling limit"] == documents(hep)["Coupling limit"]


def _rejected(capsys, argv) -> str:
    code = cli.main([*argv, "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 2 and out["field"] == "--hepdata", out
    return out["error"]


def test_bad_hepdata_folders(capsys, tmp_path, monkeypatch):
    """A file, a path under a file, a folder of other files, the --out folder: refused before any work."""
    from zprime_jax.kernels import rates

    def no_kernels(*args, **kwargs):
        raise AssertionError("a rate kernel was built before the input was rejected")

    monkeypatch.setattr(rates, "build_kernel", no_kernels)
    afile = tmp_path / "a-file"
    afile.write_text("x")
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    m = ["mass-limit", "--experiment", "cr51-lxe-a", "--model", "lr"]
    assert "not a folder" in _rejected(capsys, [*m, "--hepdata", str(afile)])
    assert "cannot create" in _rejected(capsys, [*m, "--hepdata", str(afile / "sub")])
    assert "notes.txt" in _rejected(capsys, [*m, "--hepdata", str(other)])
    assert (other / "notes.txt").read_text() == "mine"
    assert "of its own" in _rejected(capsys, [*m, "--out", str(tmp_path / "o"), "--hepdata", str(tmp_path / "o")])
    assert "of its own" in _rejected(capsys, ["reproduce", "--figure", "heavy-fig4", "--out", str(tmp_path / "o" / "x"),
                                              "--hepdata", str(tmp_path / "o")])
    assert "empty path" in _rejected(capsys, [*m, "--hepdata", ""])
