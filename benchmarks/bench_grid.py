"""Benchmark: (log m, log g) Delta chi^2 grid scans of the universal Z' model, six ESS detectors.

Usage::

    python benchmarks/bench_grid.py [--sizes 20,50,100] [--target-size 1000] [--out FILE]
                                    [--baseline-points 5] [--plain-points 2] [--plain-epsrel 1e-8]
                                    [--plain-repeats 2] [--methods fast,robust,general]
                                    [--devices auto|N] [--chunk N]

Run it from a checkout of the repository: the plain SciPy baseline imports
``tests/reference_scipy.py`` (the script puts the checkout's ``tests/``
directory on ``sys.path``; that module is not part of the installed package).

What it measures (see benchmarks/README.md):

1. ``build_kernel`` for the six ESS presets and ``likelihood.asimov_measurement``
   (the Asimov data and reference chi^2), timed separately.
2. Validation BEFORE any grid timing, against two baselines that share the
   chi^2 (eq. 4.1) and its (xi_S, xi_B) profile with ``scipy.optimize.minimize``
   (``ProfiledExperiment``) and differ in how they get the counts:

   a. "NumPy on the package's nodes" (``BaselineExperiment``,
      ``--baseline-points``): vectorised NumPy that reuses the package
      kernel's quadrature nodes, weights and response matrix and recomputes
      |q|, the Helm form factor, the eq. 2.3/2.4 couplings and the counts.
      Every method of ``scan.delta_chi2_grid`` is checked against it. It is
      fast (ms per point) but not an independent implementation of the rates.
   b. "plain SciPy (nested quad)" (``PlainScipyExperiment``,
      ``--plain-points``, ``--plain-epsrel``): the counts of each detector
      from ``tests/reference_scipy.counts_per_bin`` (nested
      ``scipy.integrate.quad`` of eq. 3.1, written from the paper and
      importing nothing of the package's rate machinery) with the universal
      Z' couplings of ``universal_couplings``; package inputs are only the
      kernel's bin edges, background and sigma_S/B. Its Asimov data are its
      own SM counts (g = 0, computed once, not in the per-point time) plus
      the background. This is the "plain SciPy implementation of the same
      rates and chi^2" of issue 7; about 2 s per point. The default method
      (fast) is checked against it.

   Exit status 1 if the package and either baseline disagree by more than
   1e-6 relative (1e-8 absolute for tiny Delta chi^2) or a fit did not
   converge.
3. The target grid (``--target-size``, default 1000 x 1000 = 1e6 points) with
   the default method, on all devices and on one device (the sharding
   speed-up), against the targets: run < 5 s after compilation, compilation
   < 30 s, peak RSS < 2 GB (the process peak right after it, before the
   method comparison).
4. For each grid size n of ``--sizes`` (n masses in 1..1000 MeV x n couplings
   in 1e-7..1e-2, log-spaced), all six detectors combined, pulls profiled per
   detector, and each method: ``scan.delta_chi2_grid`` called twice
   (GridResult.compile_s and .run_s of each call, and the number of XLA
   backend compilations each call triggered: the second call must not
   compile), points/s, convergence, peak RSS; the methods are compared with
   each other on the whole grid. Methods: ``fast`` (polynomial rows, fast
   warm-started profile: the package default), ``robust`` (polynomial rows,
   robust profile: the previous default), ``general`` (full rate and robust
   profile at every point).
5. Both baselines timed per point on their validation samples, right after
   the target grid in the same run (NumPy: best of 5 passes; plain SciPy:
   best of ``--plain-repeats`` passes; per point = the counts of the six
   detectors + the six profile fits), and the speed ratios baseline s/point
   over package s/point, at the target grid and at each size of the
   comparison: ``speed_ratio_plain_scipy`` (checked against the 1e4 target)
   and ``speed_ratio_numpy_nodes`` (reported, no target).

Devices: JAX fixes the number of CPU devices when it starts, so the script
sets ``XLA_FLAGS=--xla_force_host_platform_device_count=N`` before importing
JAX (``--devices auto``: one per available core; ignored by GPU backends,
whose devices are used as they are). The device kind, count and JAX version
are printed and recorded.

Writes a JSON file (default benchmarks/results/bench_grid.json) and prints a
table. Exit status: 0 ok, 1 validation failed, 2 a grid point did not
converge or the methods disagree.
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

from host_devices import configure_host_devices  # noqa: E402  (no JAX inside)

if __name__ == "__main__":
    configure_host_devices(sys.argv[1:])

import jax  # noqa: E402
import numpy as np  # noqa: E402
import scipy  # noqa: E402
from scipy import optimize, special  # noqa: E402

import zprime_jax  # noqa: E402

zprime_jax.enable_x64()

from zprime_jax import likelihood  # noqa: E402
from zprime_jax.inference import scan  # noqa: E402
from zprime_jax.kernels.rates import build_kernel  # noqa: E402
from zprime_jax.physics.models import MODELS  # noqa: E402

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
# Order in which the plain SciPy baseline (~2 s per point) takes the anchors: first the
# ones well above the round-off floor.
PLAIN_ANCHOR_ORDER = (2, 3, 4, 1, 0)


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
# Baselines: vectorised NumPy on the package's nodes, and plain SciPy (nested quad)
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


def universal_couplings(mass_mev, coupling):
    """(flavour, |q| [MeV]) -> (g_p, g_n) of the universal Z' (eqs. 2.4-2.5, corrected prefactor).

    g_u = g_u^SM + Q'_nu Q'_u g^2 / (sqrt(2) G_F (q^2 + m^2)), the same for g_d;
    g_p = 2 g_u + g_d, g_n = g_u + 2 g_d. Written here for the plain SciPy baseline.
    """
    gu_sm = 0.5 - 2.0 * SIN2_W * (2.0 / 3.0)
    gd_sm = -0.5 - 2.0 * SIN2_W * (-1.0 / 3.0)

    def couplings(flavour, q_mev):
        prop = coupling**2 / (math.sqrt(2.0) * G_F_MEV2 * (q_mev * q_mev + mass_mev**2))
        qnu = UNIVERSAL_QNU[flavour]
        gu = gu_sm + qnu * UNIVERSAL_QU * prop
        gd = gd_sm + qnu * UNIVERSAL_QD * prop
        return 2.0 * gu + gd, gu + 2.0 * gd

    return couplings


class ProfiledExperiment:
    """The chi^2 of eq. 4.1 and its (xi_S, xi_B) profile, shared by both baselines.

    A subclass sets ``name``, ``background``, ``sigma_s``, ``sigma_b`` and
    ``counts(mass_mev, coupling)`` (signal counts per bin), then calls
    ``_set_asimov()``: the Asimov data are its own SM counts (g = 0) plus the
    background, and ``chi2_ref`` is their profiled chi^2.
    """

    def _set_asimov(self):
        self.sm = self.counts(1.0, 0.0)
        self.data = self.sm + self.background
        self.chi2_ref, _ = self.profile(self.sm)

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


class BaselineExperiment(ProfiledExperiment):
    """One detector, vectorised NumPy on the package kernel's nodes ("NumPy on our nodes").

    Reused from the package kernel (converted to NumPy, fixed inputs): the
    recoil nodes e_r, the per-node weights (flux x kinematics x quadrature x
    N_T G_F^2 m_T/pi), the detector response, Z, N and the background.
    Recomputed here: |q| = sqrt(2 m_T E_r), the Helm form factor, the
    couplings of eq. 2.4, Q^2 of eq. 2.3, the counts, the Asimov data, and the
    chi^2 of eq. 4.1 with its (xi_S, xi_B) profile (scipy.optimize.minimize).
    Because it reuses the package's precomputed quadrature it is not an
    independent implementation of the rates: see PlainScipyExperiment.
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
        self.sigma_s = float(kernel.statistics.sigma_signal)
        self.sigma_b = float(kernel.statistics.sigma_background)
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
        self._set_asimov()

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


TESTS_DIR = Path(__file__).resolve().parents[1] / "tests"


def reference_scipy():
    """The repository's tests/reference_scipy.py (nested scipy.integrate.quad); needs a checkout."""
    if not (TESTS_DIR / "reference_scipy.py").is_file():
        raise SystemExit(f"plain SciPy baseline: {TESTS_DIR / 'reference_scipy.py'} not found "
                         "(run the benchmark from a checkout of the repository)")
    if str(TESTS_DIR) not in sys.path:
        sys.path.insert(0, str(TESTS_DIR))
    import reference_scipy as ref
    return ref


class PlainScipyExperiment(ProfiledExperiment):
    """One detector, plain SciPy: counts from nested ``scipy.integrate.quad``.

    The counts per bin come from ``tests/reference_scipy.counts_per_bin``
    (eq. 3.1: the E_r integral of response x [sum over flavours of the E_nu
    integral of flux x dsigma/dE_r], with its own constants, isotopes, fluxes,
    Helm form factor and response; it imports nothing from the package's rate
    machinery) and the universal-Z' couplings of ``universal_couplings``. The
    only package inputs are the bin edges, the background and sigma_S, sigma_B
    of the kernel. The Asimov data are its own SM counts (g = 0) + background,
    computed once in the constructor; the chi^2 and its profile are those of
    ProfiledExperiment, as for BaselineExperiment.
    """

    def __init__(self, preset, kernel, epsrel):
        self.ref = reference_scipy()
        self.name = preset
        self.epsrel = float(epsrel)
        self.edges_kev = np.asarray(kernel.edges_kev)
        self.background = np.asarray(kernel.background)
        self.sigma_s = float(kernel.statistics.sigma_signal)
        self.sigma_b = float(kernel.statistics.sigma_background)
        self._set_asimov()

    def counts(self, mass_mev, coupling):
        return self.ref.counts_per_bin(self.name, self.edges_kev, universal_couplings(mass_mev, coupling),
                                       epsrel=self.epsrel)


def time_passes(experiments, masses, couplings, passes):
    """Wall time [s] of each of ``passes`` passes of :func:`baseline_delta_chi2` over the sample."""
    times = []
    for _ in range(passes):
        t0 = time.perf_counter()
        for m, g in zip(masses, couplings, strict=True):
            baseline_delta_chi2(experiments, m, g)
        times.append(time.perf_counter() - t0)
    return times


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
METHODS = {
    "fast": {"method": "polynomial", "profile": "fast"},
    "robust": {"method": "polynomial", "profile": "robust"},
    "general": {"method": "general"},
}
# The 1e4 per-point target is checked against the plain SciPy baseline (issue 7: "a plain
# SciPy implementation of the same rates and chi^2"); the ratio to the NumPy baseline on the
# package's nodes is reported without a target.
TARGETS = {"run_s": 5.0, "compile_s": 30.0, "peak_rss_mb": 2048.0, "speed_ratio_plain_scipy": 1.0e4}


def run_grid(measurements, model, masses, couplings, chunk, method, devices=None):
    kw = dict(METHODS[method])
    if chunk is not None:
        kw["chunk"] = chunk
    return scan.delta_chi2_grid(measurements, model, masses, couplings, progress=None, devices=devices, **kw)


def peak_rss_mb():
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / (1024.0**2 if sys.platform == "darwin" else 1024.0)  # bytes on macOS, KiB on Linux


def grid_axes(n):
    return (np.logspace(*np.log10(MASS_RANGE_MEV), n),
            np.logspace(*np.log10(COUPLING_RANGE), n))


def sample_points(k, order=None):
    anchors = ANCHOR_POINTS if order is None else tuple(ANCHOR_POINTS[i] for i in order)
    pts = list(anchors[:k])
    rng = np.random.default_rng(0)
    while len(pts) < k:   # extra points: log-uniform over the grid's box
        lm = rng.uniform(*np.log10(MASS_RANGE_MEV))
        lg = rng.uniform(*np.log10(COUPLING_RANGE))
        pts.append((10.0**lm, 10.0**lg))
    return np.array([p[0] for p in pts]), np.array([p[1] for p in pts])


def agree(pkg, ref):
    return abs(pkg - ref) <= max(REL_TOL * abs(ref), ABS_TOL)


def loadavg():
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


def environment():
    """Versions, device and machine, for the JSON and the printout."""
    dev = jax.devices()[0]
    return {
        "jax_version": jax.__version__,
        "jaxlib_version": _jaxlib_version(),
        "numpy_version": np.__version__,
        "scipy_version": scipy.__version__,
        "python_version": platform.python_version(),
        "zprime_jax_version": zprime_jax.__version__,
        "backend": jax.default_backend(),
        "device_platform": dev.platform,
        "device_kind": dev.device_kind,
        "device_count": jax.device_count(),
        "devices": [str(d) for d in jax.devices()],
        "xla_flags": os.environ.get("XLA_FLAGS", ""),
        "cpu_count": os.cpu_count(),
        "cpu_affinity": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "x64": bool(jax.config.jax_enable_x64),
        "machine": platform.machine(),
        "processor": platform.processor(),
        "loadavg_start": loadavg(),
        "bin_pass": _bin_pass(dev.platform),
    }


def _bin_pass(device_platform: str) -> str:
    """Which sums the fast profile's passes take: the native pass (CPU) or XLA's (likelihood.native_pass)."""
    from zprime_jax.likelihood import native_pass

    return native_pass.status() if device_platform == "cpu" else f"xla ({device_platform})"


def describe(env):
    return (f"device: {env['device_platform']} / {env['device_kind']} x {env['device_count']} "
            f"(backend {env['backend']}); jax {env['jax_version']} (jaxlib {env['jaxlib_version']}); "
            f"{env['cpu_count']} CPUs ({env['cpu_affinity']} usable); x64={env['x64']}; "
            f"load average {env['loadavg_start']}; pass over the bins: {env['bin_pass']}")


def load_warning(env):
    busy = (env["loadavg_start"] or [0])[0]
    n = env["cpu_affinity"] or env["cpu_count"] or 1
    if busy > 0.5 * n:
        return (f"WARNING: 1-min load average {busy:.1f} on {n} CPUs at the start: other processes were "
                "running, absolute timings are inflated and noisy (ratios measured in this run are less so)")
    return None


def ess_measurements():
    """(kernels, measurements, build_s, asimov_s) for the six ESS presets."""
    t0 = time.perf_counter()
    kernels = [build_kernel(p) for p in PRESETS]
    jax.block_until_ready(kernels)
    build_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    measurements = [likelihood.asimov_measurement(k) for k in kernels]
    jax.block_until_ready(measurements)
    return kernels, measurements, build_s, time.perf_counter() - t0


def grid_call_record(r, npts, counter, snap):
    nc, cs = counter.since(snap)
    return {"compile_s": r.compile_s, "run_s": r.run_s, "points_per_s": npts / r.run_s,
            "us_per_point": 1e6 * r.run_s / npts, "backend_compiles": nc, "backend_compile_s": cs,
            "backend_compile_durations_s": counter.durations_since(snap),
            "all_converged": bool(np.all(r.converged)),
            "all_decided": bool(np.all(r.decided)) if r.decided is not None else None,
            "refined": int(getattr(r, "refined", 0)), "devices": int(getattr(r, "devices", 1)),
            "peak_rss_mb": peak_rss_mb()}


# ---------------------------------------------------------------------------
def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="20,50,100",
                    help="comma-separated grid sizes n (n x n points) for the method comparison, default 20,50,100")
    ap.add_argument("--target-size", type=int, default=1000,
                    help="n of the n x n target grid (default method only; 0 to skip), default 1000")
    ap.add_argument("--out", default=str(DEFAULT_OUT), help=f"JSON output (default {DEFAULT_OUT})")
    ap.add_argument("--baseline-points", type=int, default=5,
                    help="points for the validation and timing of the NumPy baseline on the package's nodes "
                         "(default 5)")
    ap.add_argument("--plain-points", type=int, default=2,
                    help="points for the validation and timing of the plain SciPy (nested quad) baseline, "
                         "about 2 s each (default 2: (31.6 MeV, 1e-5) and (100 MeV, 1e-4))")
    ap.add_argument("--plain-epsrel", type=float, default=1e-8,
                    help="epsrel of the plain SciPy baseline's quad calls (default 1e-8)")
    ap.add_argument("--plain-repeats", type=int, default=2,
                    help="timed passes over the plain SciPy points, best one kept (default 2)")
    ap.add_argument("--chunk", type=int, default=None,
                    help="chunk= passed to scan.delta_chi2_grid (default: the package default)")
    ap.add_argument("--methods", default="fast,robust,general",
                    help="methods to compare: fast (default method), robust, general (default: all three)")
    ap.add_argument("--devices", default="auto",
                    help="host (CPU) devices to create: 'auto' (one per usable core) or N; set before JAX starts")
    args = ap.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    if not sizes or min(sizes) < 2 or args.baseline_points < 1:
        ap.error("--sizes needs integers >= 2 and --baseline-points >= 1")
    if args.plain_points < 1 or args.plain_repeats < 1 or not 0.0 < args.plain_epsrel < 1e-3:
        ap.error("--plain-points and --plain-repeats need >= 1, --plain-epsrel in (0, 1e-3)")
    methods = [m for m in args.methods.split(",") if m]
    if not methods or any(m not in METHODS for m in methods):
        ap.error(f"--methods: choose from {sorted(METHODS)}")
    if "fast" in methods:             # the package default first: it is what a plain call runs
        methods.remove("fast")
        methods.insert(0, "fast")

    counter = CompileCounter()
    env = environment()
    print(describe(env) + f"; methods: {', '.join(methods)}", flush=True)
    warn = load_warning(env)
    if warn:
        print(warn, flush=True)

    # --- 1. kernels and Asimov measurements -------------------------------
    kernels, measurements, build_s, asimov_s = ess_measurements()
    print(f"build_kernel x6: {build_s:.2f} s   asimov_measurement x6: {asimov_s:.2f} s", flush=True)
    model = MODELS["universal"]

    # --- 2. validation against the NumPy/SciPy baseline (before timing) ---
    # The package values come from scan.delta_chi2_grid itself (every method timed
    # below) on the k x k grid spanned by the sample masses and couplings; the
    # sample points are its diagonal.
    t0 = time.perf_counter()
    base = [BaselineExperiment(k) for k in kernels]
    base_setup_s = time.perf_counter() - t0
    input_checks = {e.name: {"max_rel_q": e.max_rel_q, "max_rel_form_factor": e.max_rel_ff,
                             "max_rel_asimov_data": float(np.max(np.abs(
                                 e.data / np.asarray(m.data) - 1.0))),
                             "chi2_ref_pkg": float(m.chi2_ref), "chi2_ref_baseline": e.chi2_ref}
                    for e, m in zip(base, measurements, strict=True)}
    sm_, sg_ = sample_points(args.baseline_points)
    pkg, validation_calls = {}, {}
    for method in methods:
        snap = counter.snapshot()
        r = run_grid(measurements, model, sm_, sg_, args.chunk, method)
        validation_calls[method] = {"compile_s": r.compile_s, "run_s": r.run_s,
                                    "backend_compiles": counter.since(snap)[0]}
        pkg[method] = (np.diag(r.delta_chi2), np.diag(r.converged))
    t0 = time.perf_counter()
    ref = [baseline_delta_chi2(base, m, g) for m, g in zip(sm_, sg_, strict=True)]
    base_first_s = time.perf_counter() - t0
    rows, ok = [], True
    print("\nvalidation: package (scan.delta_chi2_grid) vs NumPy baseline on the package's nodes "
          f"(|diff| <= max({REL_TOL:g} rel, {ABS_TOL:g} abs))")
    print(f"  {'m [MeV]':>10} {'g':>10} {'method':>8} {'package':>22} {'baseline':>22} {'|diff|':>9}  ok")
    for i, (m, g, (dr, cr)) in enumerate(zip(sm_, sg_, ref, strict=True)):
        for method in methods:
            dp, cp = float(pkg[method][0][i]), bool(pkg[method][1][i])
            good = agree(dp, dr) and cp and cr
            ok &= good
            rows.append({"mass_mev": float(m), "coupling": float(g), "method": method,
                         "package": dp, "baseline": dr, "abs_diff": abs(dp - dr),
                         "package_converged": cp, "baseline_converged": cr, "ok": good})
            print(f"  {m:10.4g} {g:10.3g} {method:>8} {dp:22.15g} {dr:22.15g} {abs(dp - dr):9.2e}  "
                  f"{'yes' if good else 'NO'}")
    for name, c in input_checks.items():
        if max(c["max_rel_q"], c["max_rel_form_factor"], c["max_rel_asimov_data"]) > 1e-10:
            print(f"  note {name}: recomputed inputs differ from the kernel's: {c}")
    if not ok:
        print("\nFAIL: package and NumPy baseline disagree (or a fit did not converge); no timings taken.",
              file=sys.stderr)
        return 1
    print("  all points agree; compile/run of these first grid calls "
          f"({len(sm_)}x{len(sm_)} points): " + ", ".join(
              f"{m} {v['compile_s']:.2f}/{v['run_s']:.3f} s" for m, v in validation_calls.items()),
          flush=True)

    # --- 2b. validation against the plain SciPy (nested quad) baseline -----
    # Its SM counts (the Asimov data) are computed once here, outside the per-point time.
    t0 = time.perf_counter()
    plain = [PlainScipyExperiment(p, k, args.plain_epsrel) for p, k in zip(PRESETS, kernels, strict=True)]
    plain_setup_s = time.perf_counter() - t0
    plain_checks = {e.name: {"max_rel_sm_counts_vs_kernel": float(np.max(np.abs(
                                 e.sm / (np.asarray(m.data) - e.background) - 1.0))),
                             "chi2_ref_pkg": float(m.chi2_ref), "chi2_ref_plain": e.chi2_ref}
                    for e, m in zip(plain, measurements, strict=True)}
    pm_, pg_ = sample_points(args.plain_points, PLAIN_ANCHOR_ORDER)
    snap = counter.snapshot()
    r = run_grid(measurements, model, pm_, pg_, args.chunk, "fast")
    plain_grid_call = {"compile_s": r.compile_s, "run_s": r.run_s, "backend_compiles": counter.since(snap)[0]}
    pkg_plain = (np.diag(r.delta_chi2), np.diag(r.converged))
    t0 = time.perf_counter()
    ref_plain = [baseline_delta_chi2(plain, m, g) for m, g in zip(pm_, pg_, strict=True)]
    plain_first_s = time.perf_counter() - t0
    plain_rows, ok = [], True
    print(f"\nvalidation: package (scan.delta_chi2_grid, fast) vs plain SciPy baseline (nested quad, "
          f"epsrel {args.plain_epsrel:g}; its SM counts/Asimov data took {plain_setup_s:.1f} s)")
    print(f"  {'m [MeV]':>10} {'g':>10} {'method':>8} {'package':>22} {'plain SciPy':>22} {'|diff|':>9}  ok")
    for i, (m, g, (dr, cr)) in enumerate(zip(pm_, pg_, ref_plain, strict=True)):
        dp, cp = float(pkg_plain[0][i]), bool(pkg_plain[1][i])
        good = agree(dp, dr) and cp and cr
        ok &= good
        plain_rows.append({"mass_mev": float(m), "coupling": float(g), "method": "fast",
                           "package": dp, "baseline": dr, "abs_diff": abs(dp - dr),
                           "rel_diff": abs(dp - dr) / abs(dr) if dr else None,
                           "package_converged": cp, "baseline_converged": cr, "ok": good})
        print(f"  {m:10.4g} {g:10.3g} {'fast':>8} {dp:22.15g} {dr:22.15g} {abs(dp - dr):9.2e}  "
              f"{'yes' if good else 'NO'}")
    worst_sm = max(c["max_rel_sm_counts_vs_kernel"] for c in plain_checks.values())
    print(f"  plain SciPy SM counts vs the kernel's: max relative difference {worst_sm:.1e} (six detectors)")
    if not ok:
        print("\nFAIL: package and plain SciPy baseline disagree (or a fit did not converge); no timings taken.",
              file=sys.stderr)
        return 1
    print(f"  all points agree; first pass {plain_first_s / len(pm_):.2f} s/point; package grid call "
          f"({len(pm_)}x{len(pm_)} points): compile {plain_grid_call['compile_s']:.2f} s, "
          f"run {plain_grid_call['run_s']:.3f} s", flush=True)

    # --- 3. the target grid (default method), all devices and one ---------
    # First after the validation, so that the peak RSS recorded here is that of this scan
    # (plus the kernels and the validation calls), not of the general method's batches.
    target = None
    if args.target_size:
        n = args.target_size
        masses, couplings = grid_axes(n)
        npts = n * n
        target = {"n_mass": n, "n_coupling": n, "points": npts, "method": "fast", "loadavg_before": loadavg()}
        for label, devices in (("all_devices", None), ("one_device", 1)):
            calls = []
            for _ in range(2):
                snap = counter.snapshot()
                t0 = time.perf_counter()
                r = run_grid(measurements, model, masses, couplings, args.chunk, "fast", devices=devices)
                rec = grid_call_record(r, npts, counter, snap)
                rec["wall_s"] = time.perf_counter() - t0
                calls.append(rec)
            target[label] = {"call1": calls[0], "call2": calls[1], "compile_s": calls[0]["compile_s"],
                             "run_s": calls[1]["run_s"], "devices": calls[1]["devices"],
                             "all_converged": calls[1]["all_converged"], "all_decided": calls[1]["all_decided"],
                             "refined": calls[1]["refined"]}
            print(f"  target {n}x{n} fast, {calls[1]['devices']} device(s): compile {calls[0]['compile_s']:.2f} s, "
                  f"run {calls[0]['run_s']:.3f}/{calls[1]['run_s']:.3f} s", flush=True)
            if jax.device_count() == 1:
                break
        target["loadavg_after"] = loadavg()
        target["peak_rss_mb"] = peak_rss_mb()
        if "one_device" in target:
            target["sharding_speedup"] = target["one_device"]["run_s"] / target["all_devices"]["run_s"]

    # Baseline timings right after the target grid (the load on a shared machine drifts). NumPy on
    # the package's nodes: best of 5 passes over its sample (a pass takes only tens of ms).
    base_reps = time_passes(base, sm_, sg_, 5)
    base_per_point = min(base_reps) / len(sm_)
    base_loadavg = loadavg()
    # Plain SciPy baseline: best of --plain-repeats passes (about 2 s per point each).
    plain_loadavg_before = loadavg()
    plain_reps = time_passes(plain, pm_, pg_, args.plain_repeats)
    plain_per_point = min(plain_reps) / len(pm_)
    plain_loadavg = loadavg()
    print(f"  baselines timed: NumPy on the package's nodes {base_per_point * 1e3:.2f} ms/point, "
          f"plain SciPy {plain_per_point:.3f} s/point", flush=True)

    # --- 4. method comparison ---------------------------------------------
    results = []
    for n in sizes:
        masses, couplings = grid_axes(n)
        npts = n * n
        entry = {"n_mass": n, "n_coupling": n, "points": npts, "chunk": args.chunk, "methods": {}}
        grids = {}
        for method in methods:
            calls, gr = [], []
            for _ in range(2):
                snap = counter.snapshot()
                r = run_grid(measurements, model, masses, couplings, args.chunk, method)
                gr.append(r)
                calls.append(grid_call_record(r, npts, counter, snap))
            grids[method] = gr[1].delta_chi2
            entry["methods"][method] = {
                "call1": calls[0], "call2": calls[1],
                "compile_s": calls[0]["compile_s"], "run_s": calls[1]["run_s"],
                "points_per_s": calls[1]["points_per_s"], "us_per_point": calls[1]["us_per_point"],
                "second_call_recompiled": calls[1]["backend_compiles"] > 0,
                "all_converged": calls[0]["all_converged"] and calls[1]["all_converged"],
                "calls_identical": bool(np.array_equal(gr[0].delta_chi2, gr[1].delta_chi2)),
                "delta_chi2_min": float(gr[1].delta_chi2.min()),
                "delta_chi2_max": float(gr[1].delta_chi2.max()),
                "peak_rss_mb": peak_rss_mb(),
            }
            print(f"  {n}x{n} {method}: compile {calls[0]['compile_s']:.2f}/{calls[1]['compile_s']:.2f} s, "
                  f"run {calls[0]['run_s']:.3f}/{calls[1]['run_s']:.3f} s", flush=True)
        ref_method = "general" if "general" in grids else methods[-1]
        entry["reference_method"] = ref_method
        entry["max_abs_diff"] = {m: float(np.max(np.abs(grids[m] - grids[ref_method]))) for m in methods}
        entry["methods_agree"] = bool(all(np.all(np.abs(grids[m] - grids[ref_method])
                                                 <= np.maximum(REL_TOL * np.abs(grids[ref_method]), ABS_TOL))
                                          for m in methods))
        if "fast" in entry["methods"]:
            fast = entry["methods"]["fast"]["run_s"]
            entry["speedup_fast_over"] = {m: entry["methods"][m]["run_s"] / fast for m in methods}
        entry["peak_rss_mb"] = peak_rss_mb()
        results.append(entry)

    # --- 5. speed ratios ---------------------------------------------------
    for e in results:
        for v in e["methods"].values():
            v["speed_ratio_plain_scipy"] = plain_per_point * v["points_per_s"]
            v["speed_ratio_numpy_nodes"] = base_per_point * v["points_per_s"]
    if target:
        for key in ("all_devices", "one_device"):
            if key in target:
                t = target[key]
                t["us_per_point"] = 1e6 * t["run_s"] / target["points"]
                t["speed_ratio_plain_scipy"] = plain_per_point / (t["run_s"] / target["points"])
                t["speed_ratio_numpy_nodes"] = base_per_point / (t["run_s"] / target["points"])
    ratio_def = "baseline s/point / package s/point (package: run_s of the second call / points)"
    above = [r["abs_diff"] / abs(r["baseline"]) for r in plain_rows if abs(r["baseline"]) >= ABS_TOL / REL_TOL]
    plain_max_rel = max(above) if above else None
    baseline = {
        "kind": "numpy_nodes",
        "description": "vectorised NumPy on the package kernel's quadrature nodes, weights and response "
                       "(recomputes q, form factor, couplings, counts); chi^2 profiled with scipy.optimize",
        "points": len(sm_), "setup_s": base_setup_s, "first_pass_s": base_first_s,
        "per_point_s": base_per_point, "pass_s": base_reps, "loadavg": base_loadavg, "validation": rows,
        "validation_grid_calls": validation_calls, "input_checks": input_checks,
        "speed_ratio_key": "speed_ratio_numpy_nodes", "speed_ratio_definition": ratio_def,
    }
    baseline_plain = {
        "kind": "plain_scipy",
        "description": "tests/reference_scipy.counts_per_bin (nested scipy.integrate.quad of eq. 3.1, "
                       "independent of the package's rate machinery; package inputs: bin edges, background, "
                       "sigma_S/B) with universal-Z' couplings, six detectors; chi^2 profiled with "
                       "scipy.optimize as for the NumPy baseline",
        "epsrel": args.plain_epsrel, "points": len(pm_),
        "setup_s": plain_setup_s, "setup_definition": "SM counts (Asimov data) of the six detectors, once",
        "first_pass_s": plain_first_s, "per_point_s": plain_per_point, "pass_s": plain_reps,
        "loadavg_before": plain_loadavg_before, "loadavg": plain_loadavg, "validation": plain_rows,
        "max_rel_diff": plain_max_rel, "max_rel_diff_definition": (
            "over the points with |Delta chi^2| >= ABS_TOL/REL_TOL = 0.01, where the relative tolerance applies"),
        "max_abs_diff": max(r["abs_diff"] for r in plain_rows),
        "validation_grid_call": plain_grid_call, "input_checks": plain_checks,
        "speed_ratio_key": "speed_ratio_plain_scipy", "speed_ratio_definition": ratio_def,
    }

    # --- 6. report -----------------------------------------------------------
    print()
    print(describe(env))
    print(f"build_kernel x6 {build_s:.2f} s; asimov_measurement x6 {asimov_s:.2f} s")
    hdr = (f"{'grid':>9} {'points':>7} {'method':>8} | {'compile1':>8} {'run1':>7} {'#c1':>3} | "
           f"{'compile2':>8} {'run2':>7} {'#c2':>3} | {'us/pt':>7} | {'conv':>4} {'RSS MB':>7} "
           f"{'xPlain':>8} {'xNumPy':>6}")
    print(hdr)
    print("-" * len(hdr))
    for e in results:
        for method, v in e["methods"].items():
            c1, c2 = v["call1"], v["call2"]
            print(f"{e['n_mass']:>4}x{e['n_coupling']:<4} {e['points']:>7} {method:>8} | "
                  f"{c1['compile_s']:8.2f} {c1['run_s']:7.3f} {c1['backend_compiles']:>3} | "
                  f"{c2['compile_s']:8.2f} {c2['run_s']:7.3f} {c2['backend_compiles']:>3} | "
                  f"{v['us_per_point']:7.2f} | {'yes' if v['all_converged'] else 'NO':>4} "
                  f"{v['peak_rss_mb']:7.0f} {v['speed_ratio_plain_scipy']:8.3g} {v['speed_ratio_numpy_nodes']:6.0f}")
    print("  compile/run [s] of call 1 and call 2 of scan.delta_chi2_grid (GridResult.compile_s, .run_s);\n"
          "  #c = XLA backend compilations during the call; us/pt = run2 / points; conv = every point\n"
          "  converged; RSS = process peak so far; xPlain, xNumPy = speed ratio per point of the package\n"
          "  over the plain SciPy (nested quad) baseline and over the NumPy baseline on the package's nodes.")
    for e in results:
        sp = e.get("speedup_fast_over")
        print(f"{e['n_mass']}x{e['n_coupling']}: methods agree with {e['reference_method']}: {e['methods_agree']} "
              f"(max |diff| " + ", ".join(f"{m} {d:.1e}" for m, d in e["max_abs_diff"].items()) + ")"
              + (("; run-time ratio to fast: " + ", ".join(f"{m} {x:.1f}x" for m, x in sp.items())) if sp else ""))
        for method, v in e["methods"].items():
            if v["second_call_recompiled"]:
                print(f"note: {e['n_mass']}x{e['n_coupling']} {method}: the second call compiled again "
                      f"({v['call2']['backend_compiles']} XLA compilations)")
            if not v["all_converged"]:
                print(f"WARNING: {e['n_mass']}x{e['n_coupling']} {method}: not all points converged")
    print(f"baseline plain SciPy (nested quad, epsrel {args.plain_epsrel:g}, {len(pm_)} points, best of "
          f"{args.plain_repeats}): {plain_per_point:.3f} s/point; Delta chi^2 agreement with the package: "
          + (f"max rel {plain_max_rel:.1e} (points with Delta chi^2 >= 0.01), " if plain_max_rel is not None
             else "") + f"max abs {baseline_plain['max_abs_diff']:.1e}")
    print(f"baseline NumPy on the package's nodes ({len(sm_)} points, best of 5): "
          f"{base_per_point * 1e3:.2f} ms/point; max abs diff "
          f"{max(r['abs_diff'] for r in rows):.1e}")
    verdicts = {}
    if target:
        a = target["all_devices"]
        print(f"target {target['n_mass']}x{target['n_coupling']} ({target['points']:.0e} points), fast, "
              f"{a['devices']} device(s): compile {a['compile_s']:.2f} s, run {a['run_s']:.3f} s "
              f"({a['us_per_point']:.2f} us/point), peak RSS {target['peak_rss_mb']:.0f} MB, "
              f"converged {a['all_converged']}, refined {a['refined']}")
        if "one_device" in target:
            o = target["one_device"]
            print(f"  one device: run {o['run_s']:.3f} s -> sharding speed-up {target['sharding_speedup']:.2f}x "
                  f"on {a['devices']} devices")
        one = target.get("one_device")
        for key, label in (("speed_ratio_plain_scipy", "plain SciPy (nested quad), target 1e4"),
                           ("speed_ratio_numpy_nodes", "NumPy on the package's nodes, no target")):
            print(f"  {key} (package vs {label}): {a[key]:.4g}x"
                  + (f" (one device: {one[key]:.4g}x)" if one else ""))
        verdicts = {"run_s": a["run_s"] < TARGETS["run_s"], "compile_s": a["compile_s"] < TARGETS["compile_s"],
                    "peak_rss_mb": target["peak_rss_mb"] < TARGETS["peak_rss_mb"],
                    "speed_ratio_plain_scipy": (a["speed_ratio_plain_scipy"]
                                                >= TARGETS["speed_ratio_plain_scipy"]),
                    "all_converged": a["all_converged"]}
        print("  targets: " + ", ".join(f"{k} {'met' if v else 'NOT met'}" for k, v in verdicts.items()))
        target["targets"] = TARGETS
        target["verdicts"] = verdicts

    env["loadavg_end"] = loadavg()   # includes this benchmark's own load
    if warn:
        print(warn)
    out = {"env": env, "build_kernels_s": build_s, "asimov_measurements_s": asimov_s,
           "model": "universal", "presets": list(PRESETS), "grid_methods": methods,
           "mass_range_mev": MASS_RANGE_MEV, "coupling_range": COUPLING_RANGE,
           "sizes": results, "target": target, "baseline": baseline, "baseline_plain_scipy": baseline_plain,
           "peak_rss_mb": peak_rss_mb()}
    path = Path(args.out)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, indent=2) + "\n")
    print(f"wrote {path}")
    ok = all(v["all_converged"] for e in results for v in e["methods"].values())
    ok &= all(e.get("methods_agree", True) for e in results)
    ok &= (target is None) or target["all_devices"]["all_converged"]
    return 0 if ok else 2


if __name__ == "__main__":
    sys.exit(main())
