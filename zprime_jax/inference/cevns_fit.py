"""The Standard-Model-shaped CEvNS normalisation fitted to observed data, every other nuisance profiled.

For each measurement with background templates (the COHERENT releases) the
signal normalisation xi_S becomes unconstrained (sigma = inf): the fitted
number of CEvNS events is N = xi_S xi_src [s0 + sum_v I(theta_v)] at the
minimum of the joint chi^2 (the source normalisation shared between
measurements of one source), its error the delta-method propagation of the
nuisances' covariance 2 H^-1 (H the Hessian of chi^2 = -2 ln L at the
minimum) to N. The no-CEvNS hypothesis is every signal set to zero, the
other nuisances profiled; its significance is the Gaussian equivalent of
Delta chi^2 = chi^2_null - chi^2_best for as many degrees of freedom as
measurements (sqrt(Delta chi^2) for one).
"""

from __future__ import annotations

import math
import time

import jax
import jax.numpy as jnp
import numpy as np
from jax.scipy.special import gammaincc, ndtri

from ..errors import InputError
from ..likelihood import Analysis, Measurement, as_analysis
from ..likelihood.combine import joint_chi2, nuisance_layout, profile_analysis
from ..likelihood.templates import TemplatePoisson


def free_signal_analysis(measurements) -> Analysis:
    """The measurements with their signal normalisation unconstrained and chi2_ref = 0."""
    analysis = as_analysis(measurements)
    out = []
    for m in analysis:
        if not isinstance(m.likelihood, TemplatePoisson):
            raise InputError(f"experiment: {m.name} is not a binned measurement with templates "
                             f"({m.likelihood.form}); the CEvNS fit needs one (coherent-csi-2021, coherent-lar-2020)")
        if m.asimov:
            raise InputError(f"experiment: {m.name} has no observed data to fit")
        out.append(Measurement(m.kernel, m.likelihood.with_free_signal(), m.data, jnp.zeros(()), asimov=False))
    return Analysis(tuple(out))


def _cevns_counts(nu, signals, analysis):
    """Fitted CEvNS events per measurement at the union nuisances ``nu``, (E,)."""
    _, index = nuisance_layout(analysis)
    out = []
    for s, m, idx in zip(signals, analysis, index):
        form = m.likelihood
        out.append(jnp.sum(form.signal_expected(nu[idx], s)))
    return jnp.stack(out)


@jax.jit
def _fit(signals, analysis: Analysis):
    best = profile_analysis(signals, analysis)
    null = profile_analysis([0.0 * s for s in signals], analysis)
    nu = jax.lax.stop_gradient(best.nuisances)
    _, _, sigma = joint_chi2(nu, signals, analysis)
    free = (sigma > 0).astype(nu.dtype)
    h = jax.hessian(lambda x: joint_chi2(x, signals, analysis)[0])(nu)
    h = h * free[:, None] * free[None, :] + jnp.diag(1.0 - free)
    cov = 2.0 * jnp.linalg.inv(h) * free[:, None] * free[None, :]
    n_best = _cevns_counts(nu, signals, analysis)
    jac = jax.jacobian(lambda x: _cevns_counts(x, signals, analysis))(nu)           # (E, P)
    n_err = jnp.sqrt(jnp.diag(jac @ cov @ jac.T))
    return best.chi2, null.chi2, best.converged & null.converged, nu, jnp.sqrt(jnp.diag(cov)), n_best, n_err


def significance(delta_chi2: float, dof: int) -> float:
    """Gaussian-equivalent significance of Delta chi^2 for ``dof`` degrees of freedom (two-sided convention
    of sqrt(Delta chi^2) at one degree of freedom)."""
    if not delta_chi2 > 0:
        return 0.0
    if dof == 1:
        return math.sqrt(delta_chi2)
    p = float(gammaincc(0.5 * dof, 0.5 * delta_chi2))
    return float(-ndtri(0.5 * p)) if p > 0 else math.sqrt(delta_chi2)


def fit_cevns(measurements, model=None) -> dict:
    """Fit the CEvNS normalisation of each measurement to its observed data (module docstring).

    Args:
      measurements: observed measurements with templates (``likelihood.measurement(kernel)`` of
        ``coherent-csi-2021`` / ``coherent-lar-2020``), or an Analysis of them.
      model: the model whose Standard Model gives the signal shape (default: tree-level SM).
    Returns {"experiments", "sm_cevns", "best_fit_cevns", "best_fit_cevns_error",
    "null_significance_sigma", "chi2_best", "chi2_null", "converged", "nuisances" {name: {"value",
    "error"}}, "fit_s"}.
    """
    from ..likelihood.measurement import sm_counts

    analysis = free_signal_analysis(measurements)
    t0 = time.perf_counter()
    signals = [sm_counts(m.kernel, model) for m in analysis]
    chi2_best, chi2_null, converged, nu, nu_err, n_best, n_err = jax.block_until_ready(_fit(signals, analysis))
    elapsed = time.perf_counter() - t0
    names = analysis.names
    sm = {n: float(jnp.sum(s if s.ndim == 1 else s[0])) for n, s in zip(names, signals)}
    delta = float(chi2_null - chi2_best)
    union, _ = nuisance_layout(analysis)
    return {
        "experiments": list(names),
        "sm_cevns": sm,
        "best_fit_cevns": {n: float(v) for n, v in zip(names, np.asarray(n_best))},
        "best_fit_cevns_error": {n: float(v) for n, v in zip(names, np.asarray(n_err))},
        "null_significance_sigma": significance(delta, len(names)),
        "chi2_best": float(chi2_best),
        "chi2_null": float(chi2_null),
        "converged": bool(converged),
        "nuisances": {n: {"value": float(v), "error": float(e)}
                      for n, v, e in zip(union, np.asarray(nu), np.asarray(nu_err))},
        "fit_s": elapsed,
    }


def fitted_components(kernel, fit: dict, model=None) -> dict:
    """Expected counts per cell (B,) of every component of ``kernel`` at the nuisances of ``fit`` (from
    :func:`fit_cevns`): {"cevns": ..., template name: ...}, and "observed"."""
    from ..likelihood.measurement import sm_counts, templates_form

    form = templates_form(kernel)
    nu = jnp.asarray([fit["nuisances"][n]["value"] for n in form.names])
    out = {"cevns": np.asarray(form.signal_expected(nu, sm_counts(kernel, model)))}
    for name, comp in zip(kernel.templates.names, np.asarray(form.template_components(nu))):
        out[name] = comp
    out["observed"] = np.asarray(kernel.observed)
    return out
