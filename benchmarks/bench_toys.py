"""Benchmark: profiled Feldman-Cousins toys per second (issue 16, item 3), with the ratio to a NumPy/SciPy loop.

Usage::

    python benchmarks/bench_toys.py [--toys 20000] [--baseline-toys 40] [--coherent-toys 0] [--out FILE]

Each toy is one pseudo-experiment at a tested coupling: nuisances drawn from their constraints, Poisson
counts per bin, and the Feldman-Cousins statistic q = chi2(x) - min_{x' >= 0} chi2(x') with every chi^2
profiled over the nuisances (``inference.toys.toy_statistics``: 16 grid points, x' = 0 and the tested x
warm-started along the row, 2 + 16 golden-section points). Cases:

1. ``one-bin``: ESS-CsI reduced to one bin at 4 g (2.6 signal + 0.55 background events), B-L at 10 MeV:
   the low-count case of the coverage tests. Baseline: the same statistic in a Python loop over toys with
   NumPy draws and ``tests/reference_toys.py`` (Nelder-Mead profile of (xi_S, xi_B) >= 0 at every point of
   the same 16-point grid, bounded Brent refinement), timed on ``--baseline-toys`` toys; it is checked against the
   package on those toys (1e-4) before any ratio is printed.
2. ``ess-csi``: the full ESS-CsI spectrum (pulls-poisson), same model and mass.
3. ``coherent-csi-2021`` (``--coherent-toys N`` > 0): the released CsI data, energy x time templates with
   every nuisance profiled, Left-Right model near its mass limit.

Throughput is toys / run time after compilation (compile time reported apart), on whatever devices JAX
sees; the machine is printed.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import sys
import time

import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

from zprime_jax.inference import limits, toys  # noqa: E402
from zprime_jax.kernels.rates import build_kernel, counts_polynomial  # noqa: E402
from zprime_jax.likelihood import Analysis, measurement  # noqa: E402
from zprime_jax.physics.models import MODELS  # noqa: E402
from zprime_jax.spec import _preset_files, load_experiment  # noqa: E402

T_RANGE = (-7.0, -2.0)


def one_bin_spec(folder: pathlib.Path) -> pathlib.Path:
    text = _preset_files()["ess-csi"].read_text()
    text = (text.replace('binning = "resolution"', 'binning = "single"').replace("smearing = true", "smearing = false")
            .replace("mass_kg = 22.5", "mass_kg = 0.004").replace("background_per_day = 406.0",
                                                                 "background_per_day = 0.0005")
            .replace('"ess-csi"', '"one-bin"'))
    path = folder / "one-bin.toml"
    path.write_text(text)
    return path


def time_package(analysis, polys, x, n_toys, axis=limits.LIGHT_AXIS, t_range=T_RANGE):
    f = jax.jit(lambda k, a, p, xx: toys.toy_statistics(k, a, p, xx, n_toys, jnp.asarray(t_range), axis))
    t0 = time.perf_counter()
    compiled = f.lower(jax.random.PRNGKey(0), analysis, polys, x).compile()
    compile_s = time.perf_counter() - t0
    compiled(jax.random.PRNGKey(1), analysis, polys, x).block_until_ready()        # warm
    t0 = time.perf_counter()
    q = compiled(jax.random.PRNGKey(2), analysis, polys, x).block_until_ready()
    run_s = time.perf_counter() - t0
    return {"toys": n_toys, "compile_s": compile_s, "run_s": run_s, "toys_per_s": n_toys / run_s,
            "q90": float(np.quantile(np.asarray(q), 0.9))}


def baseline(analysis, polys, x, n_toys, seed=5):
    """The NumPy/SciPy toy loop; returns its timing and the max |q - package q| on the same toys."""
    form = analysis[0].likelihood
    c = [float(v[0]) for v in polys[0]]
    b, ss, sb = float(form.background[0]), float(form.sigma_signal), float(form.sigma_background)
    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "tests"))
    import reference_toys

    rng = np.random.default_rng(seed)
    t0 = time.perf_counter()
    ns, qs = [], []
    for _ in range(n_toys):
        xi_s, xi_b = max(rng.normal(1, ss), 0.0), max(rng.normal(1, sb), 0.0)
        n = int(rng.poisson(xi_s * (c[0] + x * (c[1] + x * c[2])) + xi_b * b))
        ns.append(n)
        qs.append(reference_toys.statistic(n, c, b, ss, sb, x, T_RANGE, toys.GRID_POINTS))
    run_s = time.perf_counter() - t0
    ours = jax.jit(jax.vmap(lambda d: toys.fc_statistic(toys._with_data(analysis, (d,)), polys, x,
                                                         jnp.asarray(T_RANGE), limits.LIGHT_AXIS)[0]))(
        jnp.asarray(ns, dtype=float)[:, None])
    return {"toys": n_toys, "run_s": run_s, "toys_per_s": n_toys / run_s,
            "max_abs_diff": float(np.max(np.abs(np.asarray(ours) - np.asarray(qs))))}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--toys", type=int, default=20000)
    ap.add_argument("--baseline-toys", type=int, default=40)
    ap.add_argument("--coherent-toys", type=int, default=0)
    ap.add_argument("--out")
    args = ap.parse_args(argv)
    import tempfile

    report = {"devices": [str(d) for d in jax.devices()], "cases": {}}
    model, mass = MODELS["b-l"], 10.0
    with tempfile.TemporaryDirectory() as tmp:
        kernel = build_kernel(load_experiment(str(one_bin_spec(pathlib.Path(tmp)))))
    analysis = Analysis((measurement(kernel, model),))
    polys = [counts_polynomial(kernel, model, mass)]
    x = (3e-5) ** 2
    ours = time_package(analysis, polys, x, args.toys)
    base = baseline(analysis, polys, x, args.baseline_toys)
    if base["max_abs_diff"] > 1e-4:
        print(f"package and baseline disagree: max |dq| = {base['max_abs_diff']:.3g}", file=sys.stderr)
        return 1
    ours["ratio_to_numpy_scipy_loop"] = ours["toys_per_s"] / base["toys_per_s"]
    report["cases"]["one-bin"] = {"package": ours, "numpy_scipy_loop": base}
    print(f"one-bin: {ours['toys_per_s']:.3g} toys/s (compile {ours['compile_s']:.1f} s), NumPy/SciPy loop "
          f"{base['toys_per_s']:.3g} toys/s: ratio {ours['ratio_to_numpy_scipy_loop']:.3g} "
          f"(agree to {base['max_abs_diff']:.1e})", file=sys.stderr)

    kernel = build_kernel("ess-csi")
    analysis = Analysis((measurement(kernel, model),))
    polys = [counts_polynomial(kernel, model, mass)]
    res = time_package(analysis, polys, (1.2e-5) ** 2, min(args.toys, 4000))
    res["bins"] = int(kernel.n_bins)
    report["cases"]["ess-csi"] = {"package": res}
    print(f"ess-csi ({res['bins']} bins): {res['toys_per_s']:.3g} toys/s (compile {res['compile_s']:.1f} s)",
          file=sys.stderr)

    if args.coherent_toys > 0:
        from zprime_jax.inference import heavy

        kernel = build_kernel("coherent-csi-2021")
        lr = MODELS["lr"]
        analysis = Analysis((heavy.measurement(kernel, model=lr),))
        polys = [counts_polynomial(kernel, lr, 0.0)]
        gamma = (limits.M_Z_GEV / 210.0) ** 2
        res = time_package(analysis, polys, gamma, args.coherent_toys, axis=limits.HEAVY_AXIS, t_range=(1.0, 5.0))
        res["nuisances"] = len(analysis[0].likelihood.nuisance_names)
        report["cases"]["coherent-csi-2021"] = {"package": res}
        print(f"coherent-csi-2021 ({res['nuisances']} nuisances): {res['toys_per_s']:.3g} toys/s "
              f"(compile {res['compile_s']:.1f} s)", file=sys.stderr)
    text = json.dumps(report, indent=1)
    if args.out:
        pathlib.Path(args.out).write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
