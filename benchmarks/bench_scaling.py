"""Benchmark: scaling of the grid scan with the number of points, and the heavy-Z' (cos beta, M) plane.

Usage::

    python benchmarks/bench_scaling.py [--sizes 10,32,100,316,1000] [--plane-sizes 100,500]
                                       [--repeats 3] [--devices auto|N] [--out FILE]

1. Grid scaling: ``scan.delta_chi2_grid`` (default method: polynomial rows,
   warm-started fast profile) for the universal Z' and the six ESS detectors
   combined, on n x n grids (n masses in 1..1000 MeV x n couplings in
   1e-7..1e-2) from 10^2 to 10^6 points. Per size: the compilation (call 1,
   ``GridResult.compile_s``; every size is a new shape, so it compiles), the
   run time (best of ``--repeats`` calls after the first), us/point, and the
   cost relative to the largest grid: time ratio / point ratio (1.0 = linear).
2. The heavy-Z' plane: ``heavy.delta_chi2_plane`` (generic E6 model) for
   COHERENT CsI, CONNIE and 51Cr-LXe (C) combined, on n x n grids
   (cos beta in [-1, 1] x M_Z' in 10..10^4 GeV): compilation
   (``lower().compile()``) and run time (best of ``--repeats``), against the
   2 s target at 500 x 500.

Devices as in bench_grid.py (``--devices``, set before JAX starts; printed).
Writes benchmarks/results/bench_scaling.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from host_devices import configure_host_devices  # noqa: E402  (no JAX inside)

if __name__ == "__main__":
    configure_host_devices(sys.argv[1:])

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
from bench_grid import (  # noqa: E402
    describe,
    environment,
    ess_measurements,
    grid_axes,
    load_warning,
    loadavg,
    peak_rss_mb,
)

from zprime_jax.inference import heavy, scan  # noqa: E402
from zprime_jax.kernels.rates import build_kernel  # noqa: E402
from zprime_jax.physics.models import MODELS, get_model  # noqa: E402

DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "bench_scaling.json"
PLANE_PRESETS = ("coherent-csi", "connie", "cr51-lxe-c")
PLANE_TARGET_S = 2.0


def grid_scaling(measurements, sizes, repeats):
    model = MODELS["universal"]
    rows = []
    for n in sizes:
        masses, couplings = grid_axes(n)
        first = scan.delta_chi2_grid(measurements, model, masses, couplings, progress=None)
        runs = []
        for _ in range(repeats):
            r = scan.delta_chi2_grid(measurements, model, masses, couplings, progress=None)
            runs.append(r.run_s)
        rows.append({"n": n, "points": n * n, "compile_s": first.compile_s, "run1_s": first.run_s,
                     "run_s": min(runs), "runs_s": runs, "us_per_point": 1e6 * min(runs) / (n * n),
                     "devices": r.devices, "all_converged": bool(r.converged.all()), "refined": r.refined,
                     "loadavg": loadavg()})
        print(f"  grid {n}x{n}: compile {first.compile_s:.2f} s, run {min(runs):.4f} s "
              f"({rows[-1]['us_per_point']:.2f} us/point)", flush=True)
    big = rows[-1]
    for row in rows:
        row["cost_vs_largest"] = (row["run_s"] / big["run_s"]) / (row["points"] / big["points"])
    return rows


def plane(sizes, repeats):
    ms = tuple(heavy.measurement(build_kernel(p)) for p in PLANE_PRESETS)
    model = get_model("e6")
    rows = []
    for n in sizes:
        cbs = jnp.linspace(-1.0, 1.0, n)
        masses = jnp.logspace(1.0, 4.0, n)
        t0 = time.perf_counter()
        jax.block_until_ready(heavy.delta_chi2_plane(ms, model, cbs, masses))   # compiles (a sharded raster)
        first_s = time.perf_counter() - t0
        runs = []
        for i in range(repeats):
            t0 = time.perf_counter()
            d = jax.block_until_ready(heavy.delta_chi2_plane(ms, model, cbs * (1 - 1e-3 * i), masses))
            runs.append(time.perf_counter() - t0)
        excluded = float(np.mean(np.asarray(d) >= scan.CL90_1DOF))
        compile_s = first_s - min(runs)              # the first call less a warm one
        rows.append({"n": n, "points": n * n, "compile_s": compile_s, "run_s": min(runs), "runs_s": runs,
                     "us_per_point": 1e6 * min(runs) / (n * n), "excluded_fraction_90cl": excluded,
                     "loadavg": loadavg()})
        print(f"  plane {n}x{n}: compile {compile_s:.2f} s, run {min(runs):.4f} s", flush=True)
    return rows


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="10,32,100,316,1000", help="grid sizes n (n x n points)")
    ap.add_argument("--plane-sizes", default="100,500", help="(cos beta, M) plane sizes n (n x n points)")
    ap.add_argument("--repeats", type=int, default=3, help="timed calls after the first (best taken)")
    ap.add_argument("--devices", default="auto", help="host (CPU) devices: 'auto' or N (set before JAX starts)")
    ap.add_argument("--out", default=str(DEFAULT_OUT))
    args = ap.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    plane_sizes = [int(s) for s in args.plane_sizes.split(",") if s.strip()]
    env = environment()
    print(describe(env), flush=True)
    warn = load_warning(env)
    if warn:
        print(warn, flush=True)
    _, measurements, build_s, asimov_s = ess_measurements()
    print(f"build_kernel x6 {build_s:.2f} s; asimov_measurement x6 {asimov_s:.2f} s", flush=True)
    grid = grid_scaling(measurements, sizes, args.repeats) if sizes else []
    planes = plane(plane_sizes, args.repeats) if plane_sizes else []

    print()
    print(describe(env))
    if grid:
        print("grid scan, universal Z', six ESS detectors (scan.delta_chi2_grid, default method):")
        print(f"{'n x n':>11} {'points':>9} {'compile s':>10} {'run s':>9} {'us/point':>9} "
              f"{'cost/linear':>11} {'conv':>5}")
        for r in grid:
            print(f"{r['n']:>5}x{r['n']:<5} {r['points']:>9} {r['compile_s']:>10.2f} {r['run_s']:>9.4f} "
                  f"{r['us_per_point']:>9.2f} {r['cost_vs_largest']:>11.2f} {'yes' if r['all_converged'] else 'NO':>5}")
        print("  cost/linear = (run time / run time of the largest grid) / (points / its points): 1 = linear")
    if planes:
        print(f"(cos beta, M_Z') plane, E6, {' + '.join(PLANE_PRESETS)} (heavy.delta_chi2_plane):")
        for r in planes:
            verdict = ""
            if r["n"] == 500:
                verdict = f"  target < {PLANE_TARGET_S} s: {'met' if r['run_s'] < PLANE_TARGET_S else 'NOT met'}"
            print(f"  {r['n']}x{r['n']}: compile {r['compile_s']:.2f} s, run {r['run_s']:.4f} s "
                  f"({r['us_per_point']:.3f} us/point){verdict}")
    env["loadavg_end"] = loadavg()
    if warn:
        print(warn)
    out = {"env": env, "build_kernels_s": build_s, "asimov_measurements_s": asimov_s, "grid": grid,
           "plane": planes, "plane_presets": list(PLANE_PRESETS), "peak_rss_mb": peak_rss_mb()}
    path = Path(args.out)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, indent=2) + "\n")
    print(f"wrote {path}")
    return 0 if all(r["all_converged"] for r in grid) else 2


if __name__ == "__main__":
    sys.exit(main())
