"""Delta chi^2 of an analysis: each measurement profiled on its own, or jointly over shared nuisances.

:func:`delta_chi2` is the one function every consumer calls (limits, grids,
planes, contour tracing, best fit, implicit derivatives); :func:`profile_analysis`
also returns the chi^2 per measurement and the nuisances at the minimum.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from ..errors import InputError
from .measurement import Analysis, as_analysis, nuisance_layout
from .profile import constraint_derivatives, constraint_terms, damped_newton

PROFILE_METHODS = ("robust", "fast")      # profilers of eq. 4.1 (the closed forms are exact with either)


class DeltaChi2(NamedTuple):
    """Delta chi^2 of an analysis at a point and whether every profile converged."""

    value: jax.Array
    converged: jax.Array


# --- joint profile over shared nuisances ------------------------------------------------------------
JOINT_ITERATIONS = 24


def joint_chi2(nuisances, signals, analysis: Analysis):
    """Sum of the measurements' chi^2 at fixed nuisances (the union vector), each constraint counted once.

    Constraint of nuisance k: ((nu_k - nominal_k)/sigma_k)^2; a nuisance with
    sigma = 0 is fixed at its nominal value (contributes nothing; hold it there).
    Returns (chi^2, nominal values, sigmas), the last two as union vectors.
    """
    names, index = nuisance_layout(analysis)
    nominal = jnp.ones(len(names))
    sigma = jnp.ones(len(names))
    for m, idx in zip(analysis, index):
        if idx.size:
            nominal = nominal.at[idx].set(m.likelihood.nominal())
            sigma = sigma.at[idx].set(m.likelihood.sigmas())
    return jnp.sum(_parts(nuisances, signals, analysis)), nominal, sigma


class AnalysisProfile(NamedTuple):
    """An analysis profiled at one point: absolute chi^2, its parts per measurement, the nuisances.

    ``parts`` (E,): each measurement's chi^2 (a shared nuisance's constraint
    counted with the first measurement that has it), summing to ``chi2``;
    ``nuisances``: the union vector in :func:`nuisance_names` order.
    """

    chi2: jax.Array
    parts: jax.Array
    nuisances: jax.Array
    converged: jax.Array


def nuisance_names(analysis) -> tuple[str, ...]:
    """Every nuisance of the analysis once, in first-seen order (shared ones once)."""
    return tuple(nuisance_layout(as_analysis(analysis))[0])


def _parts(nuisances, signals, analysis: Analysis):
    """Per-measurement chi^2 at fixed union nuisances, each constraint counted once (first owner)."""
    _, index = nuisance_layout(analysis)
    owned: set[int] = set()
    parts = []
    for sig, m, idx in zip(signals, analysis, index):
        form = m.likelihood
        value = form.data_chi2(nuisances[idx], sig, m.data)
        if idx.size:
            mine = np.asarray([k not in owned for k in idx])
            owned.update(int(k) for k in idx)
            terms = constraint_terms(nuisances[idx], form.nominal(), form.sigmas())
            value = value + jnp.sum(jnp.where(jnp.asarray(mine), terms, 0.0))
        parts.append(value)
    return jnp.stack(parts)


def _joint_profile(signals, analysis: Analysis, own) -> tuple[jax.Array, jax.Array]:
    """Nuisances minimising the joint chi^2, started from the per-measurement profiles ``own`` (shared
    nuisances averaged). Returns (nuisances, converged)."""
    names, index = nuisance_layout(analysis)
    start = jnp.zeros(len(names))
    count = jnp.zeros(len(names))
    for p, idx in zip(own, index):
        if idx.size:
            start = start.at[idx].add(p.nuisances)
            count = count.at[idx].add(1.0)
    return joint_newton(signals, analysis, start / jnp.maximum(count, 1.0), JOINT_ITERATIONS)


def joint_newton(signals, analysis: Analysis, start, iterations: int) -> tuple[jax.Array, jax.Array]:
    """Damped Newton on the joint chi^2 from the union nuisances ``start`` (closed-form derivatives where
    the forms give them, else autodiff); sigma = 0 nuisances stay fixed. Returns (nuisances, converged)."""
    _, nominal, sigma = joint_chi2(start, signals, analysis)
    free = (sigma > 0).astype(start.dtype)
    nu, _, converged = damped_newton(lambda x: joint_chi2(x, signals, analysis)[0], start, free, iterations,
                                     derivatives=_joint_derivatives(signals, analysis, nominal, sigma))
    return nu, converged


def _joint_derivatives(signals, analysis: Analysis, nominal, sigma):
    """x -> (gradient, Hessian, Gauss-Newton Hessian) of :func:`joint_chi2` in closed form, where every
    measurement's form has them (``data_derivatives``: the templates form); else None (autodiff)."""
    if not all(hasattr(m.likelihood, "data_derivatives") for m in analysis):
        return None
    _, index = nuisance_layout(analysis)

    def derivatives(x):
        g, h_diag = constraint_derivatives(x, nominal, sigma)
        h = h_gn = jnp.diag(h_diag)
        for sig, m, idx in zip(signals, analysis, index):
            if idx.size:
                gm, hm, gnm = m.likelihood.data_derivatives(x[idx], sig, m.data)
                g = g.at[idx].add(gm)
                h = h.at[jnp.ix_(idx, idx)].add(hm)
                h_gn = h_gn.at[jnp.ix_(idx, idx)].add(gnm)
        return g, h, h_gn

    return derivatives


def profile_analysis(signals, analysis, method: str = "robust") -> AnalysisProfile:
    """Profile ``analysis`` for given expected signals (one (B,) array per measurement).

    Each measurement is profiled over its own nuisances (``method``: "robust"
    or "fast" for eq. 4.1; closed forms are exact); nuisances shared between
    measurements make the profile joint (damped Newton over the union).
    """
    analysis = as_analysis(analysis)
    if method not in PROFILE_METHODS:
        raise InputError(f"method: the profile method must be one of {PROFILE_METHODS}, got {method!r}")
    names, index = nuisance_layout(analysis)
    own = [m.likelihood.profile(s, m.data, method=method) for s, m in zip(signals, analysis)]
    if analysis.shared:
        nu, conv = _joint_profile(signals, analysis, own)
        parts = _parts(nu, signals, analysis)
        return AnalysisProfile(jnp.sum(parts), parts, nu, conv)
    nu = jnp.zeros(len(names))
    for p, idx in zip(own, index):
        if idx.size:
            nu = nu.at[idx].set(p.nuisances)
    parts = jnp.stack([p.chi2 for p in own])
    converged = jnp.all(jnp.stack([p.converged for p in own]))
    return AnalysisProfile(jnp.sum(parts), parts, nu, converged)


def profile_signals(signals, analysis, method: str = "robust") -> DeltaChi2:
    """Delta chi^2 of ``analysis`` for given expected signals: :func:`profile_analysis` minus the references."""
    analysis = as_analysis(analysis)
    prof = profile_analysis(signals, analysis, method)
    return DeltaChi2(prof.chi2 - sum(m.chi2_ref for m in analysis), prof.converged)


def delta_chi2(params, analysis, model, method: str = "robust") -> DeltaChi2:
    """Delta chi^2 = sum over measurements of chi2_min(params) - chi2_ref: the one function every consumer calls.

    Args:
      params: model parameters (``LightZPrime(mass_mev, coupling)``,
        ``HeavyZPrime(mass_gev, cos_beta)``; ignored by the SM).
      analysis: an :class:`Analysis` (or a sequence of :class:`Measurement`).
      model: a model object (static under jit).
      method: "robust" (default) or "fast" profile of eq. 4.1 (both
        differentiable; see :mod:`.poisson`).
    Returns :class:`DeltaChi2` (value, converged): scalars, jit/vmap/grad friendly.
    """
    from ..kernels.rates import expected_counts

    analysis = as_analysis(analysis)
    signals = [expected_counts(params, m.kernel, model) for m in analysis]
    return profile_signals(signals, analysis, method)
