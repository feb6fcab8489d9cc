"""Benchmark: the ``zprime-jax`` command as a new user meets it, cold and warm, beside a previous version.

Usage::

    python benchmarks/bench_cli.py [--baseline REV] [--repeats 2] [--grid 1000,1000] [--out FILE]

For this checkout and for ``--baseline`` (a git revision, checked out into a temporary worktree;
default ``HEAD~1``; ``none`` to time this checkout alone), in one run and alternating between the
two so that both see the same machine:

1. ``sensitivity --experiment ess-csi --model universal --masses-mev 1,10,100 --json``: cold (an
   empty compilation cache folder, and an empty ``ZPRIME_JAX_NATIVE_DIR``: the first run on a new
   machine, which also compiles the native pass over the bins) and warm (the same folders again);
2. ``sensitivity --experiment ess-all --model universal --grid NM,NG --out DIR --json`` (the six ESS
   detectors: the limits, the combined grid and each detector's contour, the plot, the CSVs): cold
   and warm, with the combined grid's own ``compile_s`` and ``run_s`` from the JSON (the native pass
   already built by 1.).

Each command runs as its own process (``python -m zprime_jax.cli``, the version chosen by
``PYTHONPATH``), from an empty working folder, ``--repeats`` times; the best wall time is kept
(and, for the six-detector grid, the ``run_s`` and ``compile_s`` of that run). The ratios are
baseline / this checkout. Writes a JSON file (default ``benchmarks/results/bench_cli.json``) and
prints a table. Issue 17's targets (2 cores): ess-csi cold <= 8 s, warm <= 3 s; six detectors warm
<= 12 s, grid ``run_s`` <= 1.0 s, ``compile_s`` <= 2.5 s.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "benchmarks" / "results" / "bench_cli.json"
TARGETS = {"csi_cold_s": 8.0, "csi_warm_s": 3.0, "ess_warm_s": 12.0, "ess_grid_run_s": 1.0,
           "ess_grid_compile_s": 2.5}


def run_cli(tree: Path, argv: list[str], cache: Path, work: Path, native: Path) -> tuple[float, dict]:
    """(wall seconds, JSON output) of ``python -m zprime_jax.cli ARGV`` with the package from ``tree``
    (``native``: its ZPRIME_JAX_NATIVE_DIR; versions before the native pass ignore it)."""
    env = dict(os.environ, PYTHONPATH=str(tree), ZPRIME_JAX_CACHE_DIR=str(cache), MPLBACKEND="Agg",
               ZPRIME_JAX_NATIVE_DIR=str(native))
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "zprime_jax.cli", *argv], cwd=work, env=env,
                          capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if done.returncode != 0:
        raise SystemExit(f"{tree}: zprime-jax {' '.join(argv)} failed:\n{done.stderr[-3000:]}")
    return wall, json.loads(done.stdout)


def measure(tree: Path, grid: str, scratch: Path, repeat: int) -> dict:
    """One round of the four timings for the package at ``tree`` (fresh cache folders)."""
    csi = ["sensitivity", "--experiment", "ess-csi", "--model", "universal", "--masses-mev", "1,10,100",
           "--json", "--quiet"]
    ess = ["sensitivity", "--experiment", "ess-all", "--model", "universal", "--grid", grid,
           "--out", "out", "--json", "--quiet"]
    out = {}
    native = scratch / f"native-{repeat}"
    shutil.rmtree(native, ignore_errors=True)
    for name, argv in (("csi", csi), ("ess", ess)):
        cache = scratch / f"cache-{name}-{repeat}"
        work = scratch / f"work-{name}-{repeat}"
        shutil.rmtree(cache, ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        for when in ("cold", "warm"):
            wall, result = run_cli(tree, argv, cache, work, native)
            out[f"{name}_{when}_s"] = wall
            if name == "ess":
                out[f"ess_{when}_grid_run_s"] = result["grid"]["run_s"]
                out[f"ess_{when}_grid_compile_s"] = result["grid"]["compile_s"]
    return out


def best(rounds: list[dict]) -> dict:
    """The best wall time of each command; the grid timings of the fastest warm six-detector run."""
    keys = [k for k in rounds[0] if not k.startswith("ess_warm_grid") and not k.startswith("ess_cold_grid")]
    out = {k: min(r[k] for r in rounds) for k in keys}
    fastest = min(rounds, key=lambda r: r["ess_warm_s"])
    out["ess_grid_run_s"] = fastest["ess_warm_grid_run_s"]
    out["ess_grid_compile_s"] = fastest["ess_warm_grid_compile_s"]
    out["ess_cold_grid_compile_s"] = min(r["ess_cold_grid_compile_s"] for r in rounds)
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--baseline", default="HEAD~1", help="git revision to compare with ('none': this checkout only)")
    ap.add_argument("--repeats", type=int, default=2, help="rounds per version (the best is kept)")
    ap.add_argument("--grid", default="1000,1000", help="NM,NG of the six-detector grid")
    ap.add_argument("--out", default=str(DEFAULT_OUT), help=f"JSON output (default {DEFAULT_OUT})")
    args = ap.parse_args(argv)
    import platform

    scratch = Path(tempfile.mkdtemp(prefix="bench_cli-"))
    trees = {"current": ROOT}
    try:
        if args.baseline != "none":
            base = scratch / "baseline"
            subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(base), args.baseline],
                           check=True, capture_output=True)
            trees["baseline"] = base
        rounds = {k: [] for k in trees}
        for r in range(args.repeats):
            for name, tree in trees.items():
                print(f"round {r + 1}/{args.repeats}: {name}", file=sys.stderr, flush=True)
                rounds[name].append(measure(tree, args.grid, scratch / name, r))
    finally:
        if "baseline" in trees:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(trees["baseline"])],
                           capture_output=True)
        shutil.rmtree(scratch, ignore_errors=True)
    results = {k: best(v) for k, v in rounds.items()}
    report = {"machine": {"cores": os.cpu_count(), "python": platform.python_version()},
              "baseline": args.baseline, "grid": args.grid, "repeats": args.repeats, "targets": TARGETS,
              "results": results, "rounds": rounds}
    if "baseline" in results:
        report["speedup"] = {k: results["baseline"][k] / results["current"][k] for k in results["current"]}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, indent=2) + "\n")
    print(f"{'timing [s]':<26}{'current':>10}{'baseline':>10}{'ratio':>8}{'target':>8}")
    for k, v in results["current"].items():
        b = results.get("baseline", {}).get(k)
        t = TARGETS.get(k)
        print(f"{k:<26}{v:>10.2f}" + (f"{b:>10.2f}{b / v:>8.2f}" if b is not None else " " * 18)
              + (f"{t:>8.1f}" if t is not None else ""))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
