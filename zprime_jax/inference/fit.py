"""Best fit of a Z' model to observed data, and the exclusion relative to it; any form, any model.

With chi2(theta) the chi^2 of the analysis minimised over every nuisance at
the Z' parameters theta (a point of the model's plane, :mod:`.planes`):

* chi2_SM = chi2 at the Standard Model (g -> 0, or M_Z' -> inf);
* chi2_best = min over theta of chi2: the best fit, found by :func:`best_fit`
  (a raster over the plane, then damped Newton in the plane coordinates); if
  the SM fits at least as well, the best fit is the SM;
* the exclusion uses Delta chi2(theta) = chi2(theta) - chi2_best (>= 0);
  Delta chi2_SM = chi2_SM - chi2_best measures the preference for a Z'.

Each measurement's ``chi2_ref`` becomes its own chi^2 at the common best fit
(:func:`reference_to_best_fit`; the references sum to chi2_best), so the limit
searches and grids then give the observed exclusion directly.
"""

from __future__ import annotations

import math
from functools import partial
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from ..errors import InputError
from ..kernels.rates import expected_counts
from ..likelihood import Analysis, as_analysis, joint_chi2, observed_measurement
from ..likelihood.combine import profile_analysis
from ..likelihood.observed import load_observed_counts
from .planes import COUPLING_RANGE, Plane, plane_for


@partial(jax.jit, static_argnums=2)
def _evaluate(z, analysis: Analysis, plane: Plane):
    """Profiled chi^2 at plane point z = (u, v): per measurement, converged, gradient (2,), Hessian (2, 2).

    The derivatives of the profiled chi^2 follow from the joint derivatives in
    (z, nuisances) at the profiled nuisances: gradient = d chi2/dz (envelope
    theorem), Hessian = H_zz - H_zn H_nn^-1 H_nz (Schur complement; exact at
    converged nuisances). Nuisances with sigma = 0 are held fixed.
    """
    def signals(w):
        params = plane.params(w[0], w[1])
        return [expected_counts(params, m.kernel, plane.model) for m in analysis]

    prof = profile_analysis(signals(z), analysis)
    nu = jax.lax.stop_gradient(prof.nuisances)
    _, _, sigma = joint_chi2(nu, signals(z), analysis)
    free = (sigma > 0).astype(z.dtype)

    def joint(w):
        return joint_chi2(w[2:], signals(w[:2]), analysis)[0]

    w = jnp.concatenate([z, nu])
    grad = jax.grad(joint)(w)
    h = jax.hessian(joint)(w)
    h_nn = h[2:, 2:] * free[:, None] * free[None, :] + jnp.diag(1.0 - free)
    h_zn = h[:2, 2:] * free[None, :]
    hess = h[:2, :2] - h_zn @ jnp.linalg.solve(h_nn, h_zn.T)
    return prof.parts, prof.converged, grad[:2], hess


def _value(z, analysis, plane) -> float:
    return float(jnp.sum(_evaluate(jnp.asarray(z, dtype=float), analysis, plane)[0]))


def _refine(z0, analysis, plane, lo, hi, max_steps: int, tol: float):
    """Damped (Levenberg-Marquardt) Newton in the plane coordinates inside the box [lo, hi].

    Coordinates the model does not depend on (``plane.free``) stay where they
    are. Returns (z, chi2, steps, converged): converged when a step changes
    chi^2 by less than ``tol`` or no damping gives a decrease.
    """
    z = np.clip(np.asarray(z0, dtype=float), lo, hi)
    movable = np.asarray(plane.free)
    f = _value(z, analysis, plane)
    for step in range(1, max_steps + 1):
        g, h = (np.asarray(a) for a in _evaluate(jnp.asarray(z), analysis, plane)[2:])
        if not (np.all(np.isfinite(g)) and np.all(np.isfinite(h))):
            return z, f, step, False
        free = movable & ~(((z <= lo) & (g > 0)) | ((z >= hi) & (g < 0)))   # pinned at the box boundary
        if not free.any():
            return z, f, step, True
        scale = max(float(np.max(np.abs(np.diag(h)[free]))), 1e-12)
        moved = False
        for lam in (0.0, 1e-6, 1e-4, 1e-2, 1.0, 1e2, 1e4):
            hh = h[np.ix_(free, free)] + lam * scale * np.eye(int(free.sum()))
            try:
                d = -np.linalg.solve(hh, g[free])
            except np.linalg.LinAlgError:
                continue
            if not np.all(np.isfinite(d)) or g[free] @ d >= 0:
                continue
            d = np.clip(d, -1.0, 1.0)                      # at most one unit (a decade) per step
            trial = z.copy()
            trial[free] += d
            trial = np.clip(trial, lo, hi)
            f_new = _value(trial, analysis, plane)
            if np.isfinite(f_new) and f_new < f:
                moved, z_old, z, f_old, f = True, z, trial, f, f_new
                break
        if not moved:
            return z, f, step, True
        if f_old - f < tol and np.max(np.abs(z - z_old)) < 1e-6:
            return z, f, step, True
    return z, f, max_steps, False


def best_fit(measurements, model, mass_range=None, coupling_range=COUPLING_RANGE, cos_beta_range=(-1.0, 1.0),
             n_fixed: int = 31, n_x: int = 161, n_starts: int = 3, max_steps: int = 60, tol: float = 1e-9,
             sm_tol: float = 1e-6, progress=None, mass_range_mev=None) -> dict:
    """Global best fit of a Z' model to the data of ``measurements`` (every nuisance profiled).

    A raster of ``n_fixed`` fixed values (masses [MeV] for light models, cos
    beta for the generic E6 model, one value for a named heavy model) x
    ``n_x`` log-spaced couplings (or masses [GeV]) seeds a damped Newton
    refinement in the plane coordinates, started from the ``n_starts`` best
    raster points. The SM is compared as well: when it is worse than the fit
    by less than ``sm_tol`` the best fit is the SM.

    Args:
      mass_range: [MeV] for light models (default (1, 1000)), [GeV] for heavy
        ones (default (10, 1e5)); ``mass_range_mev`` is accepted as its name
        for light models.
      coupling_range: light models only; cos_beta_range: the generic E6 model only.

    Returns a JSON-friendly dict: ``mass_mev`` and ``coupling`` (light) or
    ``mass_gev`` and ``cos_beta`` (heavy), None/0 at the SM (``at_sm``);
    ``chi2_best``, ``chi2_sm``, ``delta_chi2_sm``; ``chi2_best_per_experiment``,
    ``chi2_sm_per_experiment`` (summing to the totals); ``at_boundary``;
    ``converged``; ``steps``; the ranges.
    """
    analysis = as_analysis(measurements).absolute()
    plane = plane_for(model)
    if mass_range is None:
        mass_range = mass_range_mev if mass_range_mev is not None else plane.default_mass_range
    for name, rng in (("mass_range", mass_range), ("coupling_range", coupling_range)):
        if not (0 < rng[0] < rng[1] and math.isfinite(rng[1])):
            raise InputError(f"{name}: need finite 0 < LO < HI, got {tuple(rng)}")
    lo, hi = plane.box(mass_range, coupling_range, cos_beta_range)
    us, vs = plane.axes(lo, hi, n_fixed, n_x)
    grid = plane.raster(analysis, us, vs, progress=progress)
    chi2 = np.where(np.isfinite(grid.delta_chi2), grid.delta_chi2, np.inf)
    row_best = np.argmin(chi2, axis=1)
    order = np.argsort(chi2[np.arange(us.size), row_best])
    best = None
    for i in order[:n_starts]:
        z, f, steps, ok = _refine([us[i], vs[row_best[i]]], analysis, plane, lo, hi, max_steps, tol)
        if best is None or f < best[1]:
            best = (z, f, steps, ok)
    z, f, steps, ok = best
    parts, pulls_ok = (np.asarray(a) for a in _evaluate(jnp.asarray(z), analysis, plane)[:2])
    sm_parts, sm_ok = (np.asarray(a) for a in _evaluate(jnp.asarray([z[0], plane.sm_v]), analysis, plane)[:2])
    at_sm = float(sm_parts.sum()) <= float(parts.sum()) + sm_tol
    if at_sm:
        parts = sm_parts
    if plane.heavy:
        point = {"mass_gev": None if at_sm else float(10.0 ** z[1]),
                 **({"cos_beta": float(z[0])} if plane.free[0] else {})}
    else:
        point = {"mass_mev": None if at_sm else float(10.0 ** z[0]), "coupling": 0.0 if at_sm else float(10.0 ** z[1])}
    free = np.asarray(plane.free)
    return {
        **point,
        "chi2_best": float(parts.sum()),
        "chi2_sm": float(sm_parts.sum()),
        "delta_chi2_sm": float(sm_parts.sum() - parts.sum()),
        "chi2_best_per_experiment": [float(c) for c in parts],
        "chi2_sm_per_experiment": [float(c) for c in sm_parts],
        "at_sm": bool(at_sm),
        "at_boundary": bool(not at_sm and (np.any(np.isclose(z, lo, atol=1e-9) & free) or
                                           np.any(np.isclose(z, hi, atol=1e-9) & free))),
        "converged": bool(ok and bool(pulls_ok) and bool(sm_ok)),
        "steps": int(steps),
        ("mass_range_gev" if plane.heavy else "mass_range_mev"): [float(v) for v in mass_range],
        **({} if plane.heavy else {"coupling_range": [float(v) for v in coupling_range]}),
    }


def reference_to_best_fit(measurements, fit: dict) -> Analysis:
    """The measurements with ``chi2_ref`` = each experiment's chi^2 at the common best fit (``fit``:
    the dict of :func:`best_fit` for them). Limits and grids then give chi2(theta) - chi2_best."""
    refs = fit["chi2_best_per_experiment"]
    analysis = as_analysis(measurements)
    if len(refs) != len(analysis):
        raise InputError(f"fit: chi2_best_per_experiment has {len(refs)} entries for {len(analysis)} measurements")
    return analysis.with_references(refs)


def observed_analysis(kernels, counts, model, **fit_kwargs):
    """Measurements for observed ``counts`` (one array or file path per kernel), referenced to their best fit.

    Returns (analysis, fit): the analysis ready for the limit searches and
    grids (Delta chi2 relative to the best fit) and the dict of :func:`best_fit`.
    """
    kernels = tuple(kernels)
    counts = list(counts)
    if len(counts) != len(kernels):
        raise InputError(f"data: {len(counts)} data sets for {len(kernels)} experiments")
    arrays = [load_observed_counts(c, k) if isinstance(c, str | Path) else c for c, k in zip(counts, kernels)]
    analysis = Analysis(tuple(observed_measurement(k, c, model) for k, c in zip(kernels, arrays)))
    fit = best_fit(analysis, model, **fit_kwargs)
    return reference_to_best_fit(analysis, fit), fit
