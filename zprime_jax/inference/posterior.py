"""Bayesian posterior of any Z' model with NumPyro NUTS: every likelihood form read with priors.

Parameters and priors (the model's plane, :mod:`.planes`):

* light models: log10(m_Z'/MeV) ~ Uniform(mass range), log10 g ~ Uniform(coupling range);
* heavy models: log10(M_Z'/GeV) ~ Uniform(mass range), and for the generic E6
  model cos beta ~ Uniform(-1, 1);
* every nuisance of the analysis (shared ones once) as a positive site with
  its Gaussian constraint N(1, sigma) as prior, truncated to > 0 (the
  truncation removes < 1e-11 of the prior mass for sigma <= 0.15); nuisances
  with sigma = 0 are fixed at 1.

Likelihood: exp(-chi2_data/2) of each measurement's form at fixed nuisances
(``form.data_chi2``): for eq. 4.1 that is the Poisson likelihood ratio (the
posterior equals Poisson x priors up to a constant, for real counts too), for
eqs. 21-23 the Gaussian. -2 log(likelihood x priors) is the chi^2 the
frequentist analysis minimises; the posterior marginalises the nuisances
where the frequentist analysis profiles them.

**Credible limits depend on the prior.** With a log-uniform prior in g and no
signal, the likelihood is flat in log g below the sensitivity, so the
posterior of log g is a plateau from the lower end of the coupling range up
to about the frequentist limit: lowering the lower end lowers the credible
limit (ESS-Ar at 10 MeV: credible/frequentist = 0.79, 0.58, 0.45 for a lower
end of 1e-6, 1e-7 (the default), 1e-8). For a heavy model the flat
direction is M_Z' -> inf and the credible *lower* mass limit depends on the
upper end of the mass range in the same way. The ranges are recorded in the
settings of every result. Prefer the frequentist curve for exclusions.

Reparametrisation (``reparam=True``, the default): for each measurement's
signal normalisation (its first nuisance, when no other measurement shares
it) the sampler draws eta = xi S(theta)/S_SM (S: total signal counts), which
the data fix whatever theta is; xi = eta S_SM/S(theta) is deterministic and
its prior enters with the Jacobian S_SM/S(theta), so the posterior is
unchanged. Without it chains stick on the curved (xi_S, g) ridge near the
sensitivity (ESS-Ar: largest split R-hat 1.78 without, 1.01 with).

Sampling: ``num_chains`` NUTS chains vectorised on one device
(``chain_method="vectorized"``; on a GPU the same), dense mass matrix, fixed
seeds, chains started from a gridded profile posterior exp(-chi2/2) (a
raster over the plane, nuisances profiled). NUTS does not cross wide
low-probability barriers (blind-spot strips); the split R-hat flags it.

NumPyro is imported inside the functions only (``import zprime_jax`` never imports it).
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from statistics import NormalDist

import numpy as np

from ..errors import InputError
from .planes import COUPLING_RANGE, Plane, plane_for
from .posterior_output import summary_dict, write_outputs

__all__ = ["credible_level_delta_chi2", "credible_limits", "credible_mass_limits", "run_posterior", "slice_quantiles",
           "summary_dict", "write_outputs"]


def credible_level_delta_chi2(cred: float) -> float:
    """Delta chi^2 of the frequentist limit at the same level, one parameter (0.9 -> 2.7055)."""
    return NormalDist().inv_cdf(0.5 * (1.0 + cred)) ** 2


def _resolve(experiments, data, zmodel):
    """An Analysis and per-measurement "asimov"/"observed" labels from names/paths, kernels or Measurements."""
    from ..kernels.rates import build_kernel
    from ..likelihood import Analysis, Measurement, measurement

    if isinstance(experiments, Analysis):
        items = list(experiments.measurements)
    elif isinstance(experiments, str | Path | Measurement) or hasattr(experiments, "edges_kev"):
        items = [experiments]
    else:
        items = list(experiments)
    if not items:
        raise InputError("experiment: at least one experiment is required")
    if data is None:
        data = [None] * len(items)
    elif isinstance(data, str | Path) or hasattr(data, "shape"):     # one file or array: one experiment
        data = [data]
    data = list(data)
    if len(data) != len(items):
        raise InputError(f"data: {len(data)} data sets for {len(items)} experiments")
    ms = []
    for item, d in zip(items, data):
        if isinstance(item, Measurement) and d is None:
            ms.append(item)
            continue
        kernel = item.kernel if isinstance(item, Measurement) else \
            build_kernel(str(item)) if isinstance(item, str | Path) else item
        if isinstance(d, str | Path):
            from ..likelihood.observed import load_observed_counts

            d = load_observed_counts(d, kernel)
        ms.append(measurement(kernel, zmodel, data=d))
    return Analysis(tuple(ms))


def _ranges(plane: Plane, mass_range, coupling_range):
    """(mass range, u range, v range) of the priors (:meth:`planes.Plane.box`; cos beta over [-1, 1])."""
    mass_range = plane.default_mass_range if mass_range is None else mass_range
    lo, hi = plane.box(mass_range, coupling_range)
    return mass_range, (float(lo[0]), float(hi[0])), (float(lo[1]), float(hi[1]))


def _nuisance_layout(analysis, reparam: bool):
    """(names, sigmas, reparametrised {measurement index: nuisance name}) of the analysis' nuisances."""
    from ..likelihood.measurement import nuisance_layout

    names, index = nuisance_layout(analysis)
    sigmas = np.ones(len(names))
    for m, idx in zip(analysis, index):
        if idx.size:
            sigmas[idx] = np.asarray(m.likelihood.sigmas())
    shared = set(analysis.shared)
    reparametrised = {}
    if reparam:
        for i, m in enumerate(analysis):
            own = m.likelihood.nuisance_names
            if own and own[0] not in shared and sigmas[names.index(own[0])] > 0:
                reparametrised[i] = own[0]
    return names, sigmas, index, reparametrised


def _numpyro_model(analysis, plane: Plane, u_range, v_range, reparam: bool):
    import jax.numpy as jnp
    import numpyro
    import numpyro.distributions as dist
    from numpyro.distributions import constraints

    from ..kernels.rates import expected_counts
    from ..likelihood.measurement import sm_counts

    names, sigmas, index, reparametrised = _nuisance_layout(analysis, reparam)
    sm_totals = [jnp.sum(sm_counts(m.kernel, plane.model)) for m in analysis]
    free_u = plane.free[0]

    def positive(name):
        return numpyro.sample(name, dist.ImproperUniform(constraints.positive, (), ()))

    def model():
        u = numpyro.sample(plane.names[0], dist.Uniform(*u_range)) if free_u else 0.0
        v = numpyro.sample(plane.names[1], dist.Uniform(*v_range))
        params = plane.params(u, v)
        signals = [expected_counts(params, m.kernel, plane.model) for m in analysis]
        values = {}
        for i, name in reparametrised.items():
            # eta = xi S(theta)/S_SM, sampled in place of xi: the data fix eta whatever theta; the prior of
            # xi is kept exactly, N(xi; 1, sigma) times the Jacobian |d xi / d eta| = S_SM/S(theta).
            eta = positive(f"eta[{name}]")
            ratio = sm_totals[i] / jnp.maximum(jnp.sum(signals[i]), 1e-300)
            values[name] = numpyro.deterministic(name, eta * ratio)
            numpyro.factor(f"jacobian[{name}]", jnp.log(ratio))
        for name, sigma in zip(names, sigmas):
            if sigma <= 0:
                values[name] = jnp.ones(())
                continue
            if name not in values:
                values[name] = positive(name)
            numpyro.factor(f"prior[{name}]", -0.5 * ((1.0 - values[name]) / sigma) ** 2)
        nu = jnp.stack([values[n] for n in names]) if names else jnp.zeros(0)
        for m, idx, signal in zip(analysis, index, signals):
            numpyro.factor(f"likelihood[{m.name}]", -0.5 * m.likelihood.data_chi2(nu[idx], signal, m.data))

    return model, names, sigmas, reparametrised


def _initial_points(analysis, plane: Plane, u_range, v_range, init_grid, num_chains, rng, progress):
    """Chain starts drawn from the gridded profile posterior exp(-chi2/2) (flat priors in (u, v))."""
    us, vs = plane.axes((u_range[0], v_range[0]), (u_range[1], v_range[1]), *init_grid)
    grid = plane.raster(analysis, us, vs, progress=progress)
    chi2 = np.where(np.isfinite(grid.delta_chi2), grid.delta_chi2, np.inf)
    w = np.exp(-0.5 * (chi2 - chi2.min())).ravel()
    pick = rng.choice(w.size, size=num_chains, p=w / w.sum())
    i_u, i_v = np.unravel_index(pick, chi2.shape)
    du = (us[1] - us[0]) if us.size > 1 else 0.0
    dv = (vs[1] - vs[0]) if vs.size > 1 else 0.0
    x_u = us[i_u] + du * rng.uniform(-0.5, 0.5, num_chains)
    x_v = vs[i_v] + dv * rng.uniform(-0.5, 0.5, num_chains)
    eps_u, eps_v = 1e-6 * (u_range[1] - u_range[0]), 1e-6 * (v_range[1] - v_range[0])
    return (np.clip(x_u, u_range[0] + eps_u, u_range[1] - eps_u),
            np.clip(x_v, v_range[0] + eps_v, v_range[1] - eps_v))


def _unconstrained_init(plane, names, sigmas, reparametrised, x_u, x_v, u_range, v_range):
    import jax.numpy as jnp
    from numpyro.distributions import constraints
    from numpyro.distributions.transforms import biject_to

    init = {plane.names[1]: biject_to(constraints.interval(*v_range)).inv(jnp.asarray(x_v))}
    if plane.free[0]:
        init[plane.names[0]] = biject_to(constraints.interval(*u_range)).inv(jnp.asarray(x_u))
    positive = biject_to(constraints.positive)
    ones = positive.inv(jnp.ones(x_v.shape))                # nuisances start at their nominal value 1
    for name, sigma in zip(names, sigmas):
        if sigma > 0:
            init[f"eta[{name}]" if name in reparametrised.values() else name] = ones
    return init


MIN_SLICE_SAMPLES = 50     # samples a slice needs for its credible limit (a quantile of fewer is noise)


def slice_quantiles(u, v, edges_u, cred: float = 0.9, min_samples: int = MIN_SLICE_SAMPLES,
                    upper: bool = True) -> dict:
    """Per slice of u, 10 ** the ``cred`` quantile of v (``upper``) or of its 1 - ``cred`` quantile (lower).

    Slices with fewer than ``min_samples`` samples get NaN. Returns arrays (S,):
    ``u_lo``, ``u_hi``, ``u_center``, ``limit``, ``n_samples``.
    """
    edges = np.asarray(edges_u, dtype=float)
    which = np.digitize(u, edges[1:-1])
    q = cred if upper else 1.0 - cred
    out, counts = [], []
    for s in range(edges.size - 1):
        sel = v[which == s]
        counts.append(int(sel.size))
        out.append(float(10.0 ** np.quantile(sel, q)) if sel.size >= min_samples else math.nan)
    return {"u_lo": edges[:-1], "u_hi": edges[1:], "u_center": 0.5 * (edges[:-1] + edges[1:]),
            "limit": np.asarray(out), "n_samples": np.asarray(counts)}


def credible_limits(log_m, log_g, edges_log_m, cred: float = 0.9, min_samples: int = MIN_SLICE_SAMPLES) -> dict:
    """Light models: per mass slice, the ``cred`` quantile of g among the samples in it (an upper limit).

    Returns arrays (S,): ``mass_lo_mev``, ``mass_hi_mev``, ``mass_center_mev`` (geometric centre),
    ``coupling_upper`` (NaN with fewer than ``min_samples`` samples), ``n_samples``; and ``cred``.
    """
    q = slice_quantiles(log_m, log_g, edges_log_m, cred, min_samples, upper=True)
    return {"mass_lo_mev": 10.0 ** q["u_lo"], "mass_hi_mev": 10.0 ** q["u_hi"],
            "mass_center_mev": 10.0 ** q["u_center"], "coupling_upper": q["limit"], "n_samples": q["n_samples"],
            "cred": cred}


def credible_mass_limits(cos_beta, log_m, edges_cos_beta, cred: float = 0.9,
                         min_samples: int = MIN_SLICE_SAMPLES) -> dict:
    """Heavy models: per cos beta slice, the 1 - ``cred`` quantile of M_Z' (a credible lower limit [GeV]).

    Returns arrays (S,): ``cos_beta_lo``, ``cos_beta_hi``, ``cos_beta_center``, ``mass_lower_gev``,
    ``n_samples``; and ``cred``.
    """
    q = slice_quantiles(cos_beta, log_m, edges_cos_beta, cred, min_samples, upper=False)
    return {"cos_beta_lo": q["u_lo"], "cos_beta_hi": q["u_hi"], "cos_beta_center": q["u_center"],
            "mass_lower_gev": q["limit"], "n_samples": q["n_samples"], "cred": cred}


def _null_warnings(limits: dict, freq: dict | None, fit: dict | None, heavy: bool) -> list[str]:
    """Why a credible or frequentist limit or the best-fit mass is missing (NaN or None: null in JSON)."""
    from .limits import STATUS_MEANING

    out = []
    key, axis, unit = ("mass_lower_gev", "cos_beta", "") if heavy else ("coupling_upper", "mass", " MeV")
    lo, hi = limits[f"{axis}_lo" if heavy else "mass_lo_mev"], limits[f"{axis}_hi" if heavy else "mass_hi_mev"]
    for i, (x, n) in enumerate(zip(limits[key], limits["n_samples"])):
        if not np.isfinite(x):
            out.append(f"credible_limits.{key}[{i}] is null: the slice {axis} in [{lo[i]:.4g}, {hi[i]:.4g}]{unit} "
                       f"holds {n} samples, fewer than the {MIN_SLICE_SAMPLES} a quantile needs (more --samples or "
                       "fewer --slices)")
    if freq is not None:
        fkey = "mass_limit_gev" if heavy else "coupling"
        for i, (x, status) in enumerate(zip(freq[fkey], freq["status"])):
            if not np.isfinite(x):
                out.append(f"frequentist.{fkey}[{i}] is null ({status}): {STATUS_MEANING[status]} (the prior range)")
    if fit is not None and fit.get("at_sm"):
        out.append(f"best_fit.{'mass_gev' if heavy else 'mass_mev'} is null: the best fit is the SM "
                   f"({'M -> infinity' if heavy else 'g = 0'}), where the mass is not defined")
    return out


def _frequentist(analysis, plane: Plane, mass_range, coupling_range, level, centres, progress):
    """Frequentist limits for the same data (SM reference for Asimov data, else the best fit)."""
    from .fit import best_fit, reference_to_best_fit
    from .limits import coupling_limits, mass_limits
    from .scan import contour_lines, delta_chi2_grid

    fit = None
    if not all(m.asimov for m in analysis):
        fit = best_fit(analysis, plane.model, mass_range=mass_range, coupling_range=coupling_range,
                       progress=progress)
        analysis = reference_to_best_fit(analysis, fit)
    reference = "best-fit" if fit else "sm"
    if plane.heavy:
        res = mass_limits(analysis, plane.model, centres, level=level, mass_range_gev=mass_range, progress=progress)
        return {"cos_beta": centres, "mass_limit_gev": 10.0 ** res.t, "status": res.status, "delta_chi2": level,
                "reference": reference}, fit
    masses = 10.0 ** centres
    lim = coupling_limits(analysis, plane.model, masses, level=level, coupling_range=coupling_range,
                          progress=progress)
    grid = delta_chi2_grid(analysis, plane.model, masses, np.logspace(*np.log10(coupling_range), 121),
                           progress=progress)
    return {"mass_mev": lim["mass_mev"], "coupling": lim["coupling"], "below_range": lim["below_range"],
            "converged": lim["converged"], "status": lim["status"], "delta_chi2": level, "reference": reference,
            "contour": contour_lines(grid, level)}, fit


def run_posterior(experiments, model="universal", data=None, mass_range=None, coupling_range=COUPLING_RANGE,
                  num_samples: int = 1000, num_warmup: int = 500, num_chains: int = 4, seed: int = 0,
                  n_slices: int = 12, cred: float = 0.9, init_grid=(24, 60), target_accept_prob: float = 0.9,
                  frequentist: bool = True, n_frequentist: int = 48, dense_mass: bool = True, reparam: bool = True,
                  out_dir=None, progress=None, mass_range_mev=None) -> dict:
    """Sample the posterior of a Z' model and every nuisance with NUTS; credible limits per slice.

    Args:
      experiments: preset names / spec paths, kernels, :class:`likelihood.Measurement` s or an Analysis
        (their data are used unless ``data`` says otherwise).
      model: a model name or object, light or heavy.
      data: None (each experiment as its spec declares it: Asimov, or the
        declared measurement) or one entry per experiment: None, counts per bin, or a CSV/JSON path.
      mass_range: prior range of the mass ([MeV] light, default (1, 1000); [GeV] heavy, default (10, 1e5));
        ``mass_range_mev`` is accepted for light models. coupling_range: light models.
      n_slices: slices in log10 m (light) or cos beta (generic E6; one slice for named heavy models).
      cred: credible level; the frequentist curve uses the matching Delta chi^2 (2.7055 at 0.9).
      init_grid: (n_u, n_v) of the raster the chain starts are drawn from.
      frequentist: also compute the frequentist limits at ``n_frequentist`` points (light) or the slice
        centres (heavy).
      out_dir: write ``posterior_samples.npz``, ``posterior_summary.json``, ``posterior.png`` and
        ``posterior.nc`` (ArviZ InferenceData) there.
      progress: a stream for progress bars (NumPyro's bar when not None).

    Returns a dict: ``experiments``, ``model``, ``plane`` (site names), ``likelihoods`` ({experiment:
    form}), ``settings``, ``samples`` (site -> (num_chains, num_samples)), ``diagnostics``, ``max_r_hat``,
    ``min_n_eff``, ``divergences``, ``mean_steps``, ``credible_limits``, ``frequentist``, ``best_fit``,
    ``init``, ``timing`` and ``files`` with ``out_dir``.
    """
    import jax

    if not jax.config.read("jax_enable_x64"):
        raise RuntimeError("run_posterior needs float64: call zprime_jax.enable_x64() first")
    import numpyro
    from numpyro.diagnostics import summary
    from numpyro.infer import MCMC, NUTS

    from ..physics.models import get_model

    zmodel = get_model(model) if isinstance(model, str) else model
    plane = plane_for(zmodel)
    mass_range = mass_range if mass_range is not None else mass_range_mev
    for label, rng_ in (("mass_range", mass_range), ("coupling_range", coupling_range)):
        if rng_ is not None and not (math.isfinite(rng_[0]) and math.isfinite(rng_[1]) and 0 < rng_[0] < rng_[1]):
            raise InputError(f"{label}: need finite 0 < lo < hi, got {tuple(rng_)}")
    if not 0 < cred < 1:
        raise InputError(f"cred: must be in (0, 1), got {cred}")
    if num_chains < 1 or num_samples < 1 or num_warmup < 0:
        raise InputError("num_chains: num_chains and num_samples must be >= 1, num_warmup >= 0")
    analysis = _resolve(experiments, data, zmodel)
    mass_range, u_range, v_range = _ranges(plane, mass_range, coupling_range)
    rng = np.random.default_rng(seed)

    t0 = time.perf_counter()
    x_u, x_v = _initial_points(analysis, plane, u_range, v_range, init_grid, num_chains, rng, progress)
    model_fn, names, sigmas, reparametrised = _numpyro_model(analysis, plane, u_range, v_range, reparam)
    init = _unconstrained_init(plane, names, sigmas, reparametrised, x_u, x_v, u_range, v_range)
    t1 = time.perf_counter()

    nuts = NUTS(model_fn, dense_mass=dense_mass, target_accept_prob=target_accept_prob)
    mcmc = MCMC(nuts, num_warmup=num_warmup, num_samples=num_samples, num_chains=num_chains,
                chain_method="vectorized", progress_bar=progress is not None)
    with numpyro.validation_enabled(False):
        mcmc.run(jax.random.PRNGKey(seed), init_params=init if num_chains > 1 else
                 {k: v[0] for k, v in init.items()}, extra_fields=("diverging", "num_steps"))
    by_chain = {k: np.asarray(v).reshape(num_chains, num_samples)
                for k, v in mcmc.get_samples(group_by_chain=True).items()}
    extra = mcmc.get_extra_fields()
    t2 = time.perf_counter()

    stats = summary(by_chain, prob=cred, group_by_chain=True)
    diagnostics = {site: {key: float(stats[site][key]) for key in ("mean", "std", "median", "n_eff", "r_hat")}
                   for site in by_chain}
    samples = dict(by_chain)
    v = by_chain[plane.names[1]]
    u = by_chain[plane.names[0]] if plane.free[0] else np.zeros_like(v)
    if plane.heavy:
        samples["mass_gev"] = 10.0 ** v
    else:
        samples["mass_mev"], samples["coupling"] = 10.0 ** u, 10.0**v
    n_u = n_slices if plane.free[0] else 1
    edges = np.linspace(*u_range, n_u + 1) if plane.free[0] else np.array([-1.0, 1.0])
    limits = credible_mass_limits(u.ravel(), v.ravel(), edges, cred) if plane.heavy else \
        credible_limits(u.ravel(), v.ravel(), edges, cred)

    freq, fit = None, None
    if frequentist:
        centres = np.linspace(*u_range, n_frequentist) if not plane.heavy else \
            (limits["cos_beta_center"] if plane.free[0] else np.array([0.0]))
        freq, fit = _frequentist(analysis, plane, mass_range, coupling_range, credible_level_delta_chi2(cred),
                                 centres, progress)
    t3 = time.perf_counter()
    warnings = _null_warnings(limits, freq, fit, plane.heavy)

    settings = {
        "model": zmodel.name, "experiments": list(analysis.names),
        "data": ["asimov" if m.asimov else "observed" for m in analysis],
        "mass_range_gev" if plane.heavy else "mass_range_mev": list(map(float, mass_range)),
        **({} if plane.heavy else {"coupling_range": list(map(float, coupling_range))}),
        "prior": f"{plane.names[1]} ~ Uniform, " + (f"{plane.names[0]} ~ Uniform, " if plane.free[0] else "")
                 + "every nuisance ~ N(1, sigma) truncated to > 0",
        "prior_note": "credible limits depend on the prior range along the flat direction (g -> 0, or "
                      "M -> inf): see the module docstring",
        "nuisances": {n: float(s) for n, s in zip(names, sigmas)},
        "num_samples": num_samples, "num_warmup": num_warmup, "num_chains": num_chains, "seed": seed,
        "chain_method": "vectorized", "dense_mass": dense_mass, "reparam": reparam,
        "target_accept_prob": target_accept_prob, "n_slices": n_u, "cred": cred, "init_grid": list(init_grid),
    }
    result = {
        "experiments": list(analysis.names), "model": zmodel.name, "plane": list(plane.names),
        "heavy": plane.heavy, "likelihoods": analysis.likelihoods, "settings": settings, "samples": samples,
        "diagnostics": diagnostics,
        "max_r_hat": float(max(d["r_hat"] for d in diagnostics.values())),
        "min_n_eff": float(min(d["n_eff"] for d in diagnostics.values())),
        "divergences": int(np.sum(np.asarray(extra["diverging"]))),
        "mean_steps": float(np.mean(np.asarray(extra["num_steps"]))),
        "credible_limits": limits, "frequentist": freq, "best_fit": fit,
        "init": {plane.names[0]: x_u, plane.names[1]: x_v},
        "timing": {"init_s": t1 - t0, "sample_s": t2 - t1, "frequentist_s": t3 - t2},
    }
    if warnings:
        result["warnings"] = warnings
    if out_dir is not None:
        result["files"] = write_outputs(result, out_dir, mcmc)
    return result
