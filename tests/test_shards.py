"""``--shard I/N`` and ``zprime-jax merge``: three parts merged write exactly what the whole command writes.

The command is run in-process (as in test_cli.py): the whole run, its three parts into three folders (as
three batch jobs would), then the merge. Every file the whole command writes is compared byte for byte;
its JSON on stdout is compared key by key, the timings and the folder names aside (the only values that
depend on the run).
"""

import json
import shutil

from zprime_jax import cli
from zprime_jax.cli import shards

COMMAND = ["sensitivity", "--experiment", "ess-csi", "--model", "universal", "--masses-mev", "1,3,10,100",
           "--grid", "7,6", "--mass-range-mev", "1,300", "--coupling-range", "1e-7,1e-2", "--quiet", "--json"]
TIMINGS = {"compile_s", "run_s"}


def run(capsys, *argv):
    code = cli.main(list(argv))
    out = capsys.readouterr().out
    return code, (json.loads(out) if out.strip() else None)


def _without_run_details(obj):
    """The JSON without the timings and the output file names."""
    if isinstance(obj, dict):
        return {k: _without_run_details(v) for k, v in obj.items() if k not in TIMINGS | {"files"}}
    if isinstance(obj, list):
        return [_without_run_details(v) for v in obj]
    return obj


def _whole_parts_merged(capsys, folder):
    """The whole run and the merge also write a HEPData submission; the parts do not (--hepdata is where a run
    reports, not part of its settings)."""
    code, whole = run(capsys, *COMMAND, "--out", str(folder / "whole"), "--hepdata", str(folder / "whole-hepdata"))
    assert code == 0
    parts = []
    for i in (1, 2, 3):
        code, part = run(capsys, *COMMAND, "--out", str(folder / f"part{i}"), "--shard", f"{i}/3")
        assert code == 0, part
        parts.append(part)
    code, merged = run(capsys, "merge", *(str(folder / f"part{i}") for i in (3, 1, 2)), "--out",
                       str(folder / "merged"), "--hepdata", str(folder / "merged-hepdata"), "--json", "--quiet")
    assert code == 0, merged
    return whole, parts, merged


def test_three_parts_merge_into_the_whole_output(capsys, tmp_path):
    whole, parts, merged = _whole_parts_merged(capsys, tmp_path)
    # each part: its block of every scan (4 masses of limits, 7 mass rows of the grid), nothing else written
    assert [p["shard"] for p in parts] == [[1, 3], [2, 3], [3, 3]]
    assert [[s["rows"] for s in p["scans"]] for p in parts] == [[[0, 1], [0, 2]], [[1, 2], [2, 4]],
                                                                 [[2, 4], [4, 7]]]
    assert len({p["inputs_sha256"] for p in parts}) == 1
    assert sorted(f.name for f in (tmp_path / "part2").iterdir()) == ["shard-2-of-3.json", "shard-2-of-3.npz"]
    # the merge writes what the whole command writes, its HEPData submission included
    for whole_dir, merged_dir in (("whole", "merged"), ("whole-hepdata", "merged-hepdata")):
        names = sorted(f.name for f in (tmp_path / whole_dir).iterdir())
        assert names == sorted(f.name for f in (tmp_path / merged_dir).iterdir())
        assert whole_dir == "whole" or "submission.yaml" in names
        for name in names:
            a, b = (tmp_path / whole_dir / name).read_bytes(), (tmp_path / merged_dir / name).read_bytes()
            if name.endswith(".json"):
                a, b = (_without_run_details(json.loads(x)) for x in (a, b))
            assert a == b, name
    assert _without_run_details(merged) == _without_run_details(whole)
    assert whole["grid"]["converged_fraction"] == 1.0 and all(r["coupling"] for r in whole["limits"])

    # --- the merge refuses parts that do not belong together or are incomplete ------------------------
    def refused(*parts, match):
        code, out = run(capsys, "merge", *map(str, parts), "--out", str(tmp_path / "refused"), "--json")
        assert code == 2 and out["field"] == "PARTS" and match in out["error"], out

    p1, p2, p3 = (tmp_path / f"part{i}" for i in (1, 2, 3))
    refused(p1, p2, match="incomplete: parts [3] of 3 are missing")
    refused(p1, p2, p3, p2 / "shard-2-of-3.json", match="part 2 of 3 given twice")
    other = tmp_path / "other"
    code, _ = run(capsys, *[("1,3,10,300" if a == "1,3,10,100" else a) for a in COMMAND], "--out", str(other),
                  "--shard", "3/3")
    assert code == 0
    refused(p1, p2, other, match="come from different runs (their command lines differ)")
    # the inputs changed since the parts were computed (their hash, recomputed now, differs)
    changed = tmp_path / "changed"
    for i in (1, 2, 3):
        shutil.copytree(tmp_path / f"part{i}", changed / f"part{i}")
        manifest = changed / f"part{i}" / f"shard-{i}-of-3.json"
        manifest.write_text(manifest.read_text().replace(parts[0]["inputs_sha256"], "0" * 64))
    refused(*(changed / f"part{i}" for i in (1, 2, 3)), match="the inputs have changed")


def test_the_inputs_hash_covers_the_files_named(tmp_path):
    """A model file named on the command line is part of the fingerprint; where the output goes is not."""
    model = tmp_path / "mine.toml"
    model.write_text("a = 1\n")
    argv = ["sensitivity", "--model", str(model), "--out", "x", "--hepdata", "h", "--shard", "1/2", "--json"]
    settings = shards.settings_of(argv)
    assert settings == ["sensitivity", "--model", str(model)]
    before = shards.inputs_hash(settings)
    assert shards.inputs_hash(shards.settings_of([*argv[:3], "--out", "y", "--quiet"])) == before
    model.write_text("a = 2\n")
    assert shards.inputs_hash(settings) != before
    assert [shards.rows_of(i, 3, 7) for i in (1, 2, 3)] == [slice(0, 2), slice(2, 4), slice(4, 7)]
    assert [shards.rows_of(i, 4, 2) for i in (1, 2, 3, 4)] == [slice(0, 0), slice(0, 1), slice(1, 1), slice(1, 2)]


def test_shard_options_are_checked(capsys, tmp_path):
    for argv, field, match in (
            ([*COMMAND, "--shard", "4/3", "--out", str(tmp_path)], "--shard", "1 <= I <= N"),
            ([*COMMAND, "--shard", "one/3", "--out", str(tmp_path)], "--shard", "expected I/N"),
            ([*COMMAND, "--shard", "1/3"], "--shard", "needs --out"),
            (["sensitivity", "--experiment", "ess-csi", "--model", "universal", "--method", "trace", "--json",
              "--shard", "1/2", "--out", str(tmp_path)], "--shard", "does not split"),
            (["merge", str(tmp_path), "--out", str(tmp_path / "m"), "--json"], "PARTS", "no shard-I-of-N.json")):
        code, out = run(capsys, *argv)
        assert code == 2 and out["field"] == field and match in out["error"], (argv, out)


def test_limit_scan_parts_merge_into_the_whole_output(capsys, tmp_path):
    """limit-scan splits its --values: two parts merged write what the whole command writes."""
    command = ["limit-scan", "--experiment", "coherent-csi", "--model", "lr", "--parameter", "luminosity",
               "--values", "0.5,1,2", "--json", "--quiet"]
    code, whole = run(capsys, *command, "--out", str(tmp_path / "whole"))
    assert code == 0 and all(x is not None for x in whole["mass_limit_gev"]["coherent-csi"])
    for i in (1, 2):
        code, part = run(capsys, *command, "--out", str(tmp_path / f"part{i}"), "--shard", f"{i}/2")
        assert code == 0 and [s["rows"] for s in part["scans"]] == [[[0, 1], [1, 3]][i - 1]], part
    code, merged = run(capsys, "merge", str(tmp_path / "part2"), str(tmp_path / "part1"), "--out",
                       str(tmp_path / "merged"), "--json", "--quiet")
    paths = {"plot", "csv"}                                                # where the files went
    assert code == 0 and ({k: v for k, v in merged.items() if k not in paths}
                          == {k: v for k, v in whole.items() if k not in paths})
    names = sorted(f.name for f in (tmp_path / "whole").iterdir())
    assert names == sorted(f.name for f in (tmp_path / "merged").iterdir()) and any(n.endswith(".csv") for n in names)
    for name in names:
        assert (tmp_path / "whole" / name).read_bytes() == (tmp_path / "merged" / name).read_bytes(), name
