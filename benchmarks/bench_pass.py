"""Benchmark: the cost of one pass of the fast profile (eq. 4.1 with its derivatives) per point and bin.

Usage::

    python benchmarks/bench_pass.py [--lanes 131] [--bins 70] [--steps 1000]

A ``lax.scan`` of ``--steps`` steps, each evaluating eq. 4.1 (chi^2 with its logarithms, the gradient
and the Hessian in (xi_S, xi_B): the sums of ``likelihood.poisson_fast._evaluate``) on ``--lanes``
points x ``--bins`` bins, one device. Two layouts, lanes x bins (what ``vmap`` gives) and bins x lanes,
timed in one run: the ratio says whether the layout matters. The grid benchmark's run time divided by
this cost gives the evaluations per point and bin a scan really does (benchmarks/README.md, issue 17).
"""

from __future__ import annotations

import argparse
import time

import jax
import jax.numpy as jnp
import numpy as np


def evaluate(xs, xb, s, b, n, axis: int):
    """The six bin sums of one pass (as ``poisson_fast._evaluate`` with chi^2), reduced along ``axis``."""
    mu = xs * s + xb * b
    v = 1.0 / jnp.where(mu > 0, mu, 1.0)
    r = n * v
    rv = r * v
    omr = 1.0 - r
    terms = [s * omr, b * omr, rv * s * s, rv * s * b, rv * b * b, (mu - n) + n * jnp.log(jnp.where(n > 0, r, 1.0))]
    return [jnp.sum(t, axis=axis) for t in terms]


def scan_of(axis: int, lanes: int, steps: int):
    shape = (lanes, 1) if axis == 1 else (1, lanes)

    def run(s, b, n):
        def step(carry, x):
            xs, xb = carry
            out = evaluate(xs, xb, s * (1.0 + x), b, n, axis)
            return (xs - 1e-9 * out[0].reshape(shape), xb - 1e-9 * out[1].reshape(shape)), out[5]

        return jax.lax.scan(step, (jnp.ones(shape), jnp.ones(shape)), jnp.linspace(0.0, 1e-3, steps))[1]

    return jax.jit(run)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--lanes", type=int, default=131, help="points per step (the grid's rows per batch)")
    ap.add_argument("--bins", type=int, default=70, help="bins per point (ESS Ge: 70)")
    ap.add_argument("--steps", type=int, default=1000, help="scan steps (the grid's couplings)")
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args(argv)
    jax.config.update("jax_enable_x64", True)
    rng = np.random.default_rng(0)
    s, b, n = (jnp.asarray(rng.uniform(lo, hi, (args.lanes, args.bins))) for lo, hi in ((1, 10), (1, 10), (1, 20)))
    cost = {}
    for axis, name, arrays in ((1, "lanes x bins", (s, b, n)), (0, "bins x lanes", (s.T, b.T, n.T))):
        f = scan_of(axis, args.lanes, args.steps)
        f(*arrays).block_until_ready()
        t0 = time.perf_counter()
        for _ in range(args.repeats):
            f(*arrays).block_until_ready()
        cost[name] = (time.perf_counter() - t0) / args.repeats / (args.lanes * args.bins * args.steps) * 1e9
        print(f"{name}: {cost[name]:.2f} ns per point and bin")
    print(f"ratio (lanes x bins) / (bins x lanes): {cost['lanes x bins'] / cost['bins x lanes']:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
