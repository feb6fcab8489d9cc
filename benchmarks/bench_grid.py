"""Benchmark: (log m, log g) Delta chi^2 grid scans of the universal Z' model, six ESS detectors.

Usage::

    python benchmarks/bench_grid.py [--sizes 20,50,100] [--out FILE] [--baseline-points 5]
                                    [--chunk 2048]

What it measures (see benchmarks/README.md):

1. ``build_kernel`` for the six ESS presets and ``stats.asimov_measurement``
   (the Asimov data and reference chi^2), timed separately.
2. Validation BEFORE any grid timing: Delta chi^2 from the package at a few
   (m, g) points against an independent plain NumPy/SciPy implementation of
   the same rates (eq. 3.1 with eq. 2.3/2.4 couplings, Helm form factor) and
   of the same chi^2 (eq. 4.1) profiled over (xi_S, xi_B) with
   ``scipy.optimize.minimize``. Exit status 1 if they disagree by more than
   1e-6 relative (1e-8 absolute for tiny Delta chi^2).
3. For each grid size n (n masses in 1..1000 MeV x n couplings in 1e-7..1e-2,
   log-spaced): ``scan.delta_chi2_grid`` called twice (compile_s and run_s of
   each call, and the number of XLA backend compilations each call
   triggered), then the same chunked evaluation through one long-lived
   ``jax.jit`` function (a "warm" path: its second pass must not compile).
4. The NumPy/SciPy baseline timed per point on the validation sample, and
   the speed ratio package/baseline.

Writes a JSON file (default benchmarks/results/bench_grid.json) and prints
a table. Device-agnostic: it runs on whatever ``jax.devices()[0]`` is.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import resource
import sys
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import scipy
from scipy import optimize, special

import zprime_jax

zprime_jax.enable_x64()

from zprime_jax import scan, stats  # noqa: E402
from zprime_jax.models import MODELS, LightZPrime  # noqa: E402
from zprime_jax.rates import build_kernel  # noqa: E402

PRESETS = ("ess-csi", "ess-si", "ess-xe", "ess-ge", "ess-ar", "ess-c3f8")
MASS_RANGE_MEV = (1.0, 1000.0)
COUPLING_RANGE = (1e-7, 1e-2)
REL_TOL, ABS_TOL = 1e-6, 1e-8
DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "bench_grid.json"

# Validation / baseline-timing points (m [MeV], g): one per regime of Delta chi^2.
ANCHOR_POINTS = (
    (1000.0, 1e-7),     # Delta chi^2 ~ 1e-10: at the round-off floor (absolute tolerance)
    (10.0, 1e-6),       # ~ 3e-3: small
    (31.6227766, 1e-5),  # ~ 3: near the 90% CL level
    (100.0, 1e-4),      # ~ 3e3: strong, xi_S pulled well away from 1
    (3.16227766, 1e-2),  # ~ 2e3: saturated, signal x1e4, profiled xi_S << 1
)


# ---------------------------------------------------------------------------
# Compilation counter (XLA backend compilations, via jax.monitoring)
# ---------------------------------------------------------------------------
class CompileCounter:
    """Counts '/jax/core/compile/backend_compile_duration' events and their seconds."""

    EVENT = "/jax/core/compile/backend_compile_duration"

    def __init__(self):
        self.count = 0
        self.seconds = 0.0
        self.durations = []
        jax.monitoring.register_event_duration_secs_listener(self._listen)

    def _listen(self, name, duration, **_):
        if name == self.EVENT:
            self.count += 1
            self.seconds += duration
            self.durations.append(duration)

    def snapshot(self):
        return self.count, self.seconds

    def since(self, snap):
        return self.count - snap[0], self.seconds - snap[1]

    def durations_since(self, snap):
        return [round(d, 4) for d in self.durations[snap[0]:]]


# ---------------------------------------------------------------------------
# Plain NumPy/SciPy baseline
# ---------------------------------------------------------------------------
# Constants, hard-coded from their primary sources (not imported from the package).
G_F_MEV2 = 1.1663787e-11          # G_F [MeV^-2], PDG 2020
SIN2_W = 0.23857                  # low-energy MS-bar s_W^2
HBARC_MEV_FM = 197.3269804        # CODATA 2018
HELM_SKIN_FM = 0.9                # paper eq. 2.6
AMU_MEV = 931.49410242            # CODATA 2018
M_E_MEV = 0.51099895
# Isotopes: Z, A, atomic mass [u] (AME2016), rms charge radius [fm] (paper Table 1).
ISOTOPES = {
    "Cs133": (55, 133, 132.905451961, 4.80),
    "I127": (53, 127, 126.904472592, 4.75),
    "Si28": (14, 28, 27.976926535, 3.12),
    "Xe132": (54, 132, 131.904155086, 4.79),
    "Ge72": (32, 72, 71.922075826, 4.06),
    "Ar40": (18, 40, 39.962383124, 3.43),
    "C12": (6, 12, 12.0, 2.47),
    "F19": (9, 19, 18.998403163, 2.90),
}
# Universal Z': Q'_u = Q'_d = 1, Q'_nu = 1 for every (anti)neutrino flavour.
UNIVERSAL_QU, UNIVERSAL_QD = 1.0, 1.0
UNIVERSAL_QNU = {"nu_e": 1.0, "nu_mu": 1.0, "nu_tau": 1.0,
                 "nubar_e": 1.0, "nubar_mu": 1.0, "nubar_tau": 1.0}


def helm_np(q_mev, rms_fm):
    """Helm form factor 3 j1(qR0)/(qR0) exp(-q^2 s^2/2), R0^2 = 5/3 r^2 - 5 s^2."""
    r0 = math.sqrt(5.0 / 3.0 * rms_fm**2 - 5.0 * HELM_SKIN_FM**2)
    qf = q_mev / HBARC_MEV_FM
    x = qf * r0
    return 3.0 * special.spherical_jn(1, x) / x * np.exp(-0.5 * (qf * HELM_SKIN_FM) ** 2)


class BaselineExperiment:
    """One detector, evaluated with NumPy only.

    Reused from the package kernel (converted to NumPy, fixed inputs): the
    recoil nodes e_r, the per-node weights (flux x kinematics x quadrature x
    N_T G_F^2 m_T/pi), the detector response, Z, N and the background.
    Recomputed here: |q| = sqrt(2 m_T E_r), the Helm form factor, the
    couplings of eq. 2.4, Q^2 of eq. 2.3, the counts, the Asimov data, and the
    chi^2 of eq. 4.1 with its (xi_S, xi_B) profile (scipy.optimize.minimize).
    """

    def __init__(self, kernel):
        self.name = kernel.name
        self.flavours = tuple(kernel.flavours)
        self.e_r = np.asarray(kernel.e_r_mev)            # (T, K)
        self.weight = np.asarray(kernel.weight)          # (F, T, K)
        self.response = np.asarray(kernel.response)      # (T, B, K)
        self.Z = np.asarray(kernel.Z)
        self.N = np.asarray(kernel.N)
        self.background = np.asarray(kernel.background)
        self.sigma_s = float(kernel.sigma_signal)
        self.sigma_b = float(kernel.sigma_background)
        m_t, radius = [], []
        for name, z, n in zip(kernel.targets, self.Z, self.N, strict=True):
            iz, ia, mass_u, rms = ISOTOPES[name]
            if (iz, ia - iz) != (int(z), int(n)):
                raise SystemExit(f"baseline: isotope table mismatch for {name}")
            m_t.append(mass_u * AMU_MEV - iz * M_E_MEV)
            radius.append(rms)
        self.q = np.sqrt(2.0 * np.asarray(m_t)[:, None] * self.e_r)
        self.ff = np.stack([helm_np(self.q[t], radius[t]) for t in range(len(m_t))])
        # Sanity of the recomputed inputs against the kernel (only nodes with weight).
        live = np.any(self.weight != 0.0, axis=0)
        self.max_rel_q = float(np.max(np.abs(self.q[live] / np.asarray(kernel.q_mev)[live] - 1.0)))
        self.max_rel_ff = float(np.max(np.abs(
            self.ff[live] / np.asarray(kernel.form_factor)[live] - 1.0)))
        # Asimov data from the baseline's own SM counts, and the reference chi^2.
        self.sm = self.counts(1.0, 0.0)
        self.data = self.sm + self.background
        self.chi2_ref, _ = self.profile(self.sm)

    def counts(self, mass_mev, coupling):
        """Expected signal counts per bin at (m, g): loop over flavours and targets."""
        prop = coupling**2 / (math.sqrt(2.0) * G_F_MEV2 * (self.q**2 + mass_mev**2))  # (T, K)
        gu_sm = 0.5 - 2.0 * SIN2_W * (2.0 / 3.0)
        gd_sm = -0.5 - 2.0 * SIN2_W * (-1.0 / 3.0)
        out = np.zeros(self.background.shape[0])
        for f, flav in enumerate(self.flavours):
            qnu = UNIVERSAL_QNU[flav]
            gu = gu_sm + qnu * UNIVERSAL_QU * prop
            gd = gd_sm + qnu * UNIVERSAL_QD * prop
            gp, gn = 2.0 * gu + gd, gu + 2.0 * gd
            for t in range(self.e_r.shape[0]):
                q2 = (self.ff[t] * (self.Z[t] * gp[t] + self.N[t] * gn[t])) ** 2
                out += self.response[t] @ (self.weight[f, t] * q2)
        return out

    def profile(self, signal):
        """min over (xi_S, xi_B) of eq. 4.1 with scipy.optimize.minimize (trust-exact)."""
        n, bkg, ss, sb = self.data, self.background, self.sigma_s, self.sigma_b
        nlogn = special.xlogy(n, n)

        def mu_of(xi):
            return xi[0] * signal + xi[1] * bkg

        def fun(xi):
            mu = mu_of(xi)
            if np.any((mu <= 0) & (n > 0)):
                return np.inf
            dev = 2.0 * np.sum(mu - n + nlogn - special.xlogy(n, mu))
            return dev + ((1 - xi[0]) / ss) ** 2 + ((1 - xi[1]) / sb) ** 2

        def jac(xi):
            r = 2.0 * (1.0 - n / mu_of(xi))
            return np.array([r @ signal - 2 * (1 - xi[0]) / ss**2,
                             r @ bkg - 2 * (1 - xi[1]) / sb**2])

        def hess(xi):
            w = 2.0 * n / mu_of(xi) ** 2
            hsb = w @ (signal * bkg)
            return np.array([[w @ (signal * signal) + 2 / ss**2, hsb],
                             [hsb, w @ (bkg * bkg) + 2 / sb**2]])

        # Start from (1, 1), or from the xi_S that matches the total counts if better
        # (far from the SM the optimum xi_S is many orders of magnitude below 1).
        total = signal.sum()
        ratio = (n.sum() - bkg.sum()) / total if total > 0 else 1.0
        x0 = min([np.array([1.0, 1.0]), np.array([ratio if ratio > 0 else 1.0, 1.0])], key=fun)
        # Diagonal preconditioning, x = x0 + y / d with d = sqrt(diag H(x0)): without it
        # trust-exact stalls when xi_S ~ 1e-12 (signal x 1e4 above the SM). In y the
        # Hessian is O(1), so |grad_y| < 1e-6 leaves a chi^2 decrease of ~1e-12 at most;
        # a tighter gtol sits below the round-off of chi^2 itself (~1e-12 for 1e5
        # counts), where trust-exact shrinks its radius until it overflows.
        d = np.sqrt(np.diag(hess(x0)))
        last = [np.zeros(2)]
        if np.linalg.norm(jac(x0) / d) > 1e-6:
            try:
                res = optimize.minimize(lambda y: fun(x0 + y / d), np.zeros(2),
                                        jac=lambda y: jac(x0 + y / d) / d,
                                        hess=lambda y: hess(x0 + y / d) / np.outer(d, d),
                                        method="trust-exact", callback=lambda y: last.append(y),
                                        options={"gtol": 1e-6, "maxiter": 500})
                last.append(res.x)
            except ValueError:   # keep the last iterate; convergence judged below
                pass
        x = x0 + last[-1] / d
        g = jac(x)
        decrement = 0.5 * g @ np.linalg.solve(hess(x), g)   # predicted chi^2 decrease left
        return float(fun(x)), bool(abs(decrement) < 1e-9)

    def chi2_min(self, mass_mev, coupling):
        return self.profile(self.counts(mass_mev, coupling))


def baseline_delta_chi2(experiments, mass_mev, coupling):
    total, ok = 0.0, True
    for e in experiments:
        c, conv = e.chi2_min(mass_mev, coupling)
        total += c - e.chi2_ref
        ok &= conv
    return total, ok


# ---------------------------------------------------------------------------
# Package paths
# ---------------------------------------------------------------------------
def make_pointwise(measurements, model):
    """One long-lived jitted, vmapped Delta chi^2 (same code path as scan.delta_chi2_grid)."""
    measurements = tuple(measurements)

    def one(mass, coupling):
        return stats.delta_chi2(LightZPrime(mass, coupling), measurements, model)

    return jax.jit(jax.vmap(one))


def run_chunked(fn, masses, couplings, chunk):
    """Evaluate fn chunk by chunk, padding the last chunk like scan.chunked_map."""
    n = masses.size
    n_chunks = max(1, math.ceil(n / chunk))
    pad = n_chunks * chunk - n
    mm = np.concatenate([masses, np.repeat(masses[:1], pad)])
    gg = np.concatenate([couplings, np.repeat(couplings[:1], pad)])
    outs = []
    for i in range(n_chunks):
        sl = slice(i * chunk, (i + 1) * chunk)
        outs.append(fn(jnp.asarray(mm[sl]), jnp.asarray(gg[sl])))
    jax.block_until_ready(outs)
    d = np.concatenate([np.asarray(o[0]) for o in outs])[:n]
    c = np.concatenate([np.asarray(o[1]) for o in outs])[:n]
    return d, c


def peak_rss_mb():
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / (1024.0**2 if sys.platform == "darwin" else 1024.0)  # bytes on macOS, KiB on Linux


def grid_axes(n):
    return (np.logspace(*np.log10(MASS_RANGE_MEV), n),
            np.logspace(*np.log10(COUPLING_RANGE), n))


def sample_points(k):
    pts = list(ANCHOR_POINTS[:k])
    rng = np.random.default_rng(0)
    while len(pts) < k:   # extra points: log-uniform over the grid's box
        lm = rng.uniform(*np.log10(MASS_RANGE_MEV))
        lg = rng.uniform(*np.log10(COUPLING_RANGE))
        pts.append((10.0**lm, 10.0**lg))
    return np.array([p[0] for p in pts]), np.array([p[1] for p in pts])


def agree(pkg, ref):
    return abs(pkg - ref) <= max(REL_TOL * abs(ref), ABS_TOL)


# ---------------------------------------------------------------------------
def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="20,50,100",
                    help="comma-separated grid sizes n (n x n points), default 20,50,100")
    ap.add_argument("--out", default=str(DEFAULT_OUT), help=f"JSON output (default {DEFAULT_OUT})")
    ap.add_argument("--baseline-points", type=int, default=5,
                    help="points for the NumPy/SciPy validation and timing (default 5)")
    ap.add_argument("--chunk", type=int, default=2048,
                    help="chunk size passed to scan.delta_chi2_grid (default 2048)")
    args = ap.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    if not sizes or min(sizes) < 2 or args.baseline_points < 1:
        ap.error("--sizes needs integers >= 2 and --baseline-points >= 1")

    counter = CompileCounter()
    dev = jax.devices()[0]
    env = {
        "jax_version": jax.__version__,
        "jaxlib_version": getattr(jax.lib, "__version__", None) or _jaxlib_version(),
        "numpy_version": np.__version__,
        "scipy_version": scipy.__version__,
        "python_version": platform.python_version(),
        "zprime_jax_version": zprime_jax.__version__,
        "backend": jax.default_backend(),
        "device_platform": dev.platform,
        "device_kind": dev.device_kind,
        "device_count": jax.device_count(),
        "cpu_count": os.cpu_count(),
        "cpu_affinity": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "x64": bool(jax.config.jax_enable_x64),
        "machine": platform.machine(),
        "loadavg_start": _loadavg(),
    }
    print(f"device: {dev.platform} / {dev.device_kind} ({jax.device_count()} device(s)); "
          f"jax {jax.__version__}; {env['cpu_count']} CPUs; x64={env['x64']}", flush=True)

    # --- 1. kernels and Asimov measurements -------------------------------
    t0 = time.perf_counter()
    kernels = [build_kernel(p) for p in PRESETS]
    jax.block_until_ready(kernels)
    build_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    measurements = [stats.asimov_measurement(k) for k in kernels]
    jax.block_until_ready(measurements)
    asimov_s = time.perf_counter() - t0
    print(f"build_kernel x6: {build_s:.2f} s   asimov_measurement x6: {asimov_s:.2f} s", flush=True)
    model = MODELS["universal"]

    # --- 2. validation against the NumPy/SciPy baseline (before timing) ---
    t0 = time.perf_counter()
    base = [BaselineExperiment(k) for k in kernels]
    base_setup_s = time.perf_counter() - t0
    input_checks = {e.name: {"max_rel_q": e.max_rel_q, "max_rel_form_factor": e.max_rel_ff,
                             "max_rel_asimov_data": float(np.max(np.abs(
                                 e.data / np.asarray(m.data) - 1.0))),
                             "chi2_ref_pkg": float(m.chi2_ref), "chi2_ref_baseline": e.chi2_ref}
                    for e, m in zip(base, measurements, strict=True)}
    sm_, sg_ = sample_points(args.baseline_points)
    warm_fn = make_pointwise(measurements, model)
    t0 = time.perf_counter()
    pkg_d, pkg_c = jax.block_until_ready(warm_fn(jnp.asarray(sm_), jnp.asarray(sg_)))
    pkg_sample_first_s = time.perf_counter() - t0
    pkg_d, pkg_c = np.asarray(pkg_d), np.asarray(pkg_c)
    ref = [baseline_delta_chi2(base, m, g) for m, g in zip(sm_, sg_, strict=True)]
    rows, ok = [], True
    print("\nvalidation: package vs NumPy/SciPy baseline "
          f"(|diff| <= max({REL_TOL:g} rel, {ABS_TOL:g} abs))")
    print(f"  {'m [MeV]':>10} {'g':>10} {'package':>22} {'baseline':>22} {'|diff|':>9}  ok")
    for m, g, dp, cp, (dr, cr) in zip(sm_, sg_, pkg_d, pkg_c, ref, strict=True):
        good = agree(float(dp), dr) and bool(cp) and cr
        ok &= good
        rows.append({"mass_mev": float(m), "coupling": float(g), "package": float(dp),
                     "baseline": dr, "abs_diff": abs(float(dp) - dr),
                     "package_converged": bool(cp), "baseline_converged": cr, "ok": good})
        print(f"  {m:10.4g} {g:10.3g} {float(dp):22.15g} {dr:22.15g} {abs(float(dp) - dr):9.2e}"
              f"  {'yes' if good else 'NO'}")
    for name, c in input_checks.items():
        if max(c["max_rel_q"], c["max_rel_form_factor"], c["max_rel_asimov_data"]) > 1e-10:
            print(f"  note {name}: recomputed inputs differ from the kernel's: {c}")
    if not ok:
        print("\nFAIL: package and baseline disagree (or a fit did not converge); "
              "no timings taken.", file=sys.stderr)
        return 1
    print("  all points agree", flush=True)

    # --- 3. grid scans ------------------------------------------------------
    results = []
    for n in sizes:
        masses, couplings = grid_axes(n)
        npts = n * n
        chunk = min(args.chunk, npts)
        calls = []
        grids = []
        for _ in range(2):
            snap = counter.snapshot()
            r = scan.delta_chi2_grid(measurements, model, masses, couplings,
                                     chunk=args.chunk, progress=None)
            nc, cs = counter.since(snap)
            grids.append(r)
            calls.append({"compile_s": r.compile_s, "run_s": r.run_s,
                          "points_per_s": npts / r.run_s,
                          "backend_compiles": nc, "backend_compile_s": cs,
                          "backend_compile_durations_s": counter.durations_since(snap),
                          "all_converged": bool(np.all(r.converged))})
        # scan.chunked_map pads the grid to a whole number of chunks of exactly `chunk`
        # points (current code: no min(chunk, n), so a 20x20 grid runs 2048 points).
        pkg_chunk = args.chunk
        mm, gg = np.meshgrid(masses, couplings, indexing="ij")
        passes = []
        for _ in range(2):
            snap = counter.snapshot()
            t0 = time.perf_counter()
            d, c = run_chunked(warm_fn, mm.ravel(), gg.ravel(), chunk)
            dt = time.perf_counter() - t0
            nc, _ = counter.since(snap)
            passes.append({"wall_s": dt, "backend_compiles": nc, "points_per_s": npts / dt})
        same_calls = bool(np.array_equal(grids[0].delta_chi2, grids[1].delta_chi2))
        warm_diff = float(np.max(np.abs(d.reshape(n, n) - grids[1].delta_chi2)))
        entry = {
            "n_mass": n, "n_coupling": n, "points": npts, "chunk": pkg_chunk,
            "n_chunks": math.ceil(npts / pkg_chunk),
            "evaluated_points": math.ceil(npts / pkg_chunk) * pkg_chunk,
            "warm_chunk": chunk,
            "warm_evaluated_points": math.ceil(npts / chunk) * chunk,
            "call1": calls[0], "call2": calls[1],
            "compile_s": calls[1]["compile_s"], "run_s": calls[1]["run_s"],
            "points_per_s": calls[1]["points_per_s"],
            "warm_first_pass": passes[0], "warm_second_pass": passes[1],
            "warm_run_s": passes[1]["wall_s"], "warm_points_per_s": passes[1]["points_per_s"],
            "all_converged": bool(np.all(grids[0].converged) and np.all(grids[1].converged)
                                  and np.all(c)),
            "calls_identical": same_calls, "warm_max_abs_diff": warm_diff,
            "delta_chi2_min": float(grids[1].delta_chi2.min()),
            "delta_chi2_max": float(grids[1].delta_chi2.max()),
            "peak_rss_mb": peak_rss_mb(),
        }
        results.append(entry)
        print(f"  {n}x{n}: compile {calls[0]['compile_s']:.2f}/{calls[1]['compile_s']:.2f} s, "
              f"run {calls[0]['run_s']:.3f}/{calls[1]['run_s']:.3f} s, "
              f"warm {passes[1]['wall_s']:.3f} s", flush=True)

    # --- 4. baseline timing ------------------------------------------------
    t0 = time.perf_counter()
    for m, g in zip(sm_, sg_, strict=True):
        baseline_delta_chi2(base, m, g)
    base_per_point = (time.perf_counter() - t0) / len(sm_)
    reps = 20
    t0 = time.perf_counter()
    for _ in range(reps):
        jax.block_until_ready(warm_fn(jnp.asarray(sm_), jnp.asarray(sg_)))
    pkg_sample_per_point = (time.perf_counter() - t0) / reps / len(sm_)
    best = max(results, key=lambda e: e["points"])
    pkg_per_point = best["run_s"] / best["points"]
    pkg_warm_per_point = best["warm_run_s"] / best["points"]
    baseline = {
        "points": len(sm_), "setup_s": base_setup_s, "per_point_s": base_per_point,
        "validation": rows, "input_checks": input_checks,
        "package_sample_first_call_s": pkg_sample_first_s,
        "package_sample_per_point_s": pkg_sample_per_point,
        "package_grid_per_point_s": pkg_per_point,
        "package_grid_warm_per_point_s": pkg_warm_per_point,
        "ratio_grid_size": f"{best['n_mass']}x{best['n_coupling']}",
        # speed ratio package/baseline = baseline time per point / package time per point
        "speed_ratio_grid": base_per_point / pkg_per_point,
        "speed_ratio_grid_warm": base_per_point / pkg_warm_per_point,
        "speed_ratio_same_sample": base_per_point / pkg_sample_per_point,
    }
    for e in results:
        e["speed_ratio_vs_baseline"] = base_per_point * e["points_per_s"]

    # --- 5. report -----------------------------------------------------------
    print()
    print(f"device {dev.platform}/{dev.device_kind}, jax {jax.__version__}, "
          f"{env['cpu_count']} CPUs; build_kernel x6 {build_s:.2f} s; "
          f"asimov_measurement x6 {asimov_s:.2f} s")
    hdr = (f"{'grid':>8} {'points':>7} {'chunk':>6} {'evald':>6} | {'compile1':>8} {'run1':>7} "
           f"{'#c1':>3} | {'compile2':>8} {'run2':>7} {'#c2':>3} | {'pts/s':>8} | "
           f"{'wchunk':>6} {'warm run':>8} {'#cw':>3} {'pts/s':>8} | {'conv':>4} {'RSS MB':>7} {'xBase':>6}")
    print(hdr)
    print("-" * len(hdr))
    for e in results:
        c1, c2, w = e["call1"], e["call2"], e["warm_second_pass"]
        print(f"{e['n_mass']:>3}x{e['n_coupling']:<4} {e['points']:>7} {e['chunk']:>6} "
              f"{e['evaluated_points']:>6} | {c1['compile_s']:8.2f} {c1['run_s']:7.3f} "
              f"{c1['backend_compiles']:>3} | {c2['compile_s']:8.2f} {c2['run_s']:7.3f} "
              f"{c2['backend_compiles']:>3} | {e['points_per_s']:8.0f} | "
              f"{e['warm_chunk']:>6} {w['wall_s']:8.3f} "
              f"{w['backend_compiles']:>3} {w['points_per_s']:8.0f} | "
              f"{'yes' if e['all_converged'] else 'NO':>4} {e['peak_rss_mb']:7.0f} "
              f"{e['speed_ratio_vs_baseline']:6.0f}")
    print("  compile/run in s (call 1 and 2 of scan.delta_chi2_grid); #c = XLA backend "
          "compilations during the call;\n  pts/s = points / run2; warm = second chunked pass "
          "through one long-lived jax.jit (no compilation expected);\n  evald = points actually "
          "evaluated by the package (padded to whole chunks); wchunk = min(chunk, points)\n"
          "  used by the warm path; xBase = pts/s x baseline s/point.")
    print(f"baseline (NumPy/SciPy, {len(sm_)} points): {base_per_point * 1e3:.1f} ms/point; "
          f"package {best['n_mass']}x{best['n_coupling']} grid: {pkg_per_point * 1e6:.1f} us/point "
          f"(warm {pkg_warm_per_point * 1e6:.1f}); speed ratio package/baseline = "
          f"{baseline['speed_ratio_grid']:.0f}x (warm {baseline['speed_ratio_grid_warm']:.0f}x; "
          f"on the {len(sm_)}-point sample itself {baseline['speed_ratio_same_sample']:.0f}x)")
    for e in results:
        if e["call2"]["backend_compiles"] > 0:
            print(f"note: {e['n_mass']}x{e['n_coupling']}: the second delta_chi2_grid call "
                  f"compiled again ({e['call2']['backend_compiles']} XLA compilations, "
                  f"{e['call2']['compile_s']:.2f} s)")
        if not e["all_converged"]:
            print(f"WARNING: {e['n_mass']}x{e['n_coupling']}: not all points converged")

    env["loadavg_end"] = _loadavg()
    busy = max((env["loadavg_start"] or [0])[0], (env["loadavg_end"] or [0])[0])
    if env["cpu_count"] and busy > 0.5 * env["cpu_count"]:
        print(f"WARNING: 1-min load average {busy:.1f} on {env['cpu_count']} CPUs: other "
              "processes were running, timings are inflated and noisy")
    out = {"env": env, "build_kernels_s": build_s, "asimov_measurements_s": asimov_s,
           "model": "universal", "presets": list(PRESETS),
           "mass_range_mev": MASS_RANGE_MEV, "coupling_range": COUPLING_RANGE,
           "sizes": results, "baseline": baseline, "peak_rss_mb": peak_rss_mb()}
    path = Path(args.out)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, indent=2) + "\n")
    print(f"wrote {path}")
    return 0 if all(e["all_converged"] for e in results) else 2


def _loadavg():
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:  # pragma: no cover
        return None


def _jaxlib_version():
    try:
        import jaxlib
        return jaxlib.__version__
    except Exception:  # pragma: no cover
        return None


if __name__ == "__main__":
    sys.exit(main())
