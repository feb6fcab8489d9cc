"""Measurements, analyses and the one Delta chi^2 every consumer calls.

A :class:`Measurement` is one experiment in an analysis: its kernel (the
parameter-independent rate), its likelihood form (a frozen pytree from
:mod:`.poisson`, :mod:`.totals` or :mod:`.gaussian`), its data (counts per
bin: Asimov, the spec's declared measurement, or observed) and the reference
chi^2 subtracted from it. An :class:`Analysis` is a tuple of measurements;
its Delta chi^2 is the sum over them, each profiled over its own nuisances,
except that nuisances of the same name in two measurements are one parameter
(profiled jointly: :func:`profile_signals`).

The form of an experiment is read from its spec's ``[statistics]`` table in
one place, :func:`likelihood_for`; nothing downstream asks which form a
measurement has.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from ..errors import InputError
from .gaussian import GaussianSM
from .poisson import CONVERGENCE_TOL, PoissonPulls
from .totals import Coherent2017, Projection

PROFILE_METHODS = ("robust", "fast")      # profilers of eq. 4.1 (the closed forms are exact with either)
# Defaults below eq. 22 of the heavy-Z' paper.
PROJECTION_DEFAULTS = {"sigma_stat": 0.2, "sigma_sys": 0.2}


def _named(names, experiment: str) -> tuple[str, ...]:
    """Nuisance names qualified by the experiment (``signal_norm[ess-csi]``): not shared by default."""
    return tuple(f"{n}[{experiment}]" for n in names)


def likelihood_for(kernel, *, form: str | None = None, sigma_stat: float | None = None,
                   sigma_sys: float | None = None, luminosity_ratio: float = 1.0):
    """The likelihood form of an experiment, from its spec's ``[statistics]`` (the one place that reads it).

    Args:
      kernel: from ``build_kernel`` (its ``statistics`` is the spec's table).
      form: another total-count form for a CEvNS experiment ("projection",
        "projection-alt"; heavy-Z' paper eq. 22); default the spec's own.
      sigma_stat, sigma_sys: override the projection uncertainties (eq. 22).
      luminosity_ratio: F'/F for the heavy-Z' forms (Fig. 3).
    Raises:
      InputError: a setting that does not apply to the form.
    """
    st = kernel.statistics
    if st is None:
        raise InputError(f"experiment: kernel {kernel.name!r} carries no [statistics] table")
    name = kernel.name or "experiment"
    chosen = form or st.chi2
    if not (luminosity_ratio > 0 and np.isfinite(luminosity_ratio)):
        raise InputError(f"luminosity_ratio: must be finite and > 0, got {luminosity_ratio}")
    lum = jnp.asarray(float(luminosity_ratio))
    if st.chi2 == "gaussian-sm" or chosen == "gaussian-sm":
        if chosen != st.chi2:
            raise InputError(f"chi2: {name} uses eq. 23 ('{st.chi2}'), not {chosen!r}")
        if sigma_stat is not None or sigma_sys is not None:
            raise InputError(f"sigma_stat: {name} uses eq. 23 (delta N = sqrt(N)), which has no such uncertainties")
        return GaussianSM(lum)
    if chosen == "pulls-poisson":
        if sigma_stat is not None or sigma_sys is not None:
            raise InputError(f"sigma_stat: {name} uses eq. 4.1 (pulls sigma_signal, sigma_background), "
                             "not the projection uncertainties")
        if luminosity_ratio != 1.0:
            raise InputError(f"luminosity_ratio: does not apply to {name} (eq. 4.1); scale the exposure instead")
        return PoissonPulls(kernel.background, jnp.asarray(st.sigma_signal), jnp.asarray(st.sigma_background),
                            names=_named(("signal_norm", "background_norm"), name))
    if chosen == "coherent-2017":
        if chosen != st.chi2:
            raise InputError(f"chi2: {name} declares no COHERENT 2017 measurement (eq. 21 needs n_meas, b_0n, "
                             "b_ss, sigma_a1, sigma_a2 in its [statistics])")
        if sigma_stat is not None or sigma_sys is not None:
            raise InputError(f"sigma_stat: {name} uses eq. 21 with the published uncertainties")
        return Coherent2017(jnp.asarray(st.b_0n), jnp.asarray(st.b_ss), jnp.asarray(st.sigma_a1),
                            jnp.asarray(st.sigma_a2), lum, names=_named(("signal_norm", "neutron_norm"), name))
    if chosen in ("projection", "projection-alt"):
        own = st.chi2 in ("projection", "projection-alt")
        stat = sigma_stat if sigma_stat is not None else (st.sigma_stat if own else PROJECTION_DEFAULTS["sigma_stat"])
        sys_ = sigma_sys if sigma_sys is not None else (st.sigma_sys if own else PROJECTION_DEFAULTS["sigma_sys"])
        for key, value in (("sigma_stat", stat), ("sigma_sys", sys_)):
            if not (np.isfinite(value) and value >= 0):
                raise InputError(f"{key}: must be finite and >= 0, got {value}")
        return Projection(jnp.asarray(float(stat)), jnp.asarray(float(sys_)), lum,
                          alternative=chosen == "projection-alt", names=_named(("signal_norm",), name))
    raise InputError(f"chi2: unknown form {chosen!r}; allowed: coherent-2017, projection, projection-alt, "
                     "pulls-poisson, gaussian-sm")


def declared_data(kernel):
    """The measurement a spec declares in its ``[statistics]`` (COHERENT 2017: N_meas as one bin), or None."""
    st = kernel.statistics
    if st is not None and st.chi2 == "coherent-2017":
        return jnp.asarray([float(st.n_meas)])
    return None


@jax.tree_util.register_dataclass
@dataclass(frozen=True)
class Measurement:
    """One experiment in an analysis (a pytree).

    ``kernel``: the rate kernel; ``likelihood``: its form; ``data``: counts
    per bin compared with; ``chi2_ref``: the profiled chi^2 of the reference
    hypothesis (the SM, or the best fit), so that Delta chi^2 = chi2_min - chi2_ref;
    ``asimov`` (static): the data are the model's own SM expectation.
    """

    kernel: object
    likelihood: object
    data: jax.Array
    chi2_ref: jax.Array
    asimov: bool = field(default=True, metadata={"static": True})

    @property
    def name(self) -> str:
        return self.kernel.name

    def with_reference(self, chi2_ref) -> Measurement:
        return Measurement(self.kernel, self.likelihood, self.data, jnp.asarray(chi2_ref, dtype=self.data.dtype),
                           self.asimov)


def _sm_counts(kernel, model):
    from ..kernels.rates import expected_counts, model_family, sm_params

    if model is None:
        from ..physics.models import MODELS

        model = MODELS["sm"]
    params = None if model_family(model) == "sm" else sm_params(model)
    return expected_counts(params, kernel, model)


def _profiled_sm(kernel, likelihood, data, model):
    return likelihood.profile(_sm_counts(kernel, model), data).chi2


_profiled_sm_jit = jax.jit(_profiled_sm, static_argnums=3)


def asimov_measurement(kernel, model=None, likelihood=None) -> Measurement:
    """The Asimov measurement: data = the form's Asimov data for the SM of ``model``'s own coupling set.

    ``model``: the model the analysis will test (its SM couplings define the
    no-signal hypothesis: the radiatively corrected set for LR/E6, tree level
    for the light mediators); None for the tree-level SM. ``likelihood``:
    default :func:`likelihood_for` (the spec's form). chi2_ref is the chi^2
    of the SM itself (0 up to rounding).
    """
    form = likelihood_for(kernel) if likelihood is None else likelihood
    data = form.asimov_data(_sm_counts(kernel, model))
    chi2_ref = _profiled_sm_jit(kernel, form, data, model)
    return Measurement(kernel, form, data, chi2_ref, asimov=True)


def observed_measurement(kernel, counts, model=None, likelihood=None, chi2_ref=None) -> Measurement:
    """A measurement of observed ``counts`` per bin (checked against the kernel's binning).

    ``chi2_ref`` defaults to the chi^2 of these data under the SM of ``model``
    (nuisances profiled): Delta chi^2 is then relative to the SM and can be
    negative where a Z' fits better. For the exclusion relative to the best
    fit use ``inference.fit.reference_to_best_fit``.
    """
    from .observed import check_counts

    form = likelihood_for(kernel) if likelihood is None else likelihood
    data = jnp.asarray(check_counts(counts, kernel))
    ref = _profiled_sm_jit(kernel, form, data, model) if chi2_ref is None else jnp.asarray(chi2_ref)
    return Measurement(kernel, form, data, jnp.asarray(ref, dtype=data.dtype), asimov=False)


def measurement(kernel, model=None, data=None, likelihood=None) -> Measurement:
    """The measurement of an experiment as its spec declares it, for testing ``model``.

    ``data`` None: the spec's declared measurement (COHERENT 2017 CsI: 142
    events, eq. 21) where it has one and ``likelihood`` is the spec's own form,
    else the Asimov data of the model's SM (e.g. COHERENT CsI as a projection,
    eq. 22, in the heavy-Z' paper's Fig. 6).
    ``data`` given (counts per bin): observed. The JSON ``likelihoods`` key of
    the CLI reports ``likelihood.form`` per experiment.
    """
    if data is None:
        own_form = likelihood is None or likelihood.form == kernel.statistics.chi2
        data = declared_data(kernel) if own_form else None    # another form (e.g. a projection): Asimov
        if data is None:
            return asimov_measurement(kernel, model, likelihood)
    return observed_measurement(kernel, data, model, likelihood)


@dataclass(frozen=True)
class Analysis:
    """A tuple of measurements whose Delta chi^2 add, nuisances of the same name shared (a pytree).

    ``shared`` (static): the nuisance names that occur in more than one
    measurement; where it is empty each measurement is profiled on its own.
    """

    measurements: tuple[Measurement, ...]

    @property
    def shared(self) -> tuple[str, ...]:
        seen: dict[str, int] = {}
        for m in self.measurements:
            for n in m.likelihood.nuisance_names:
                seen[n] = seen.get(n, 0) + 1
        return tuple(n for n, c in seen.items() if c > 1)

    def __iter__(self):
        return iter(self.measurements)

    def __len__(self) -> int:
        return len(self.measurements)

    def __getitem__(self, i):
        return self.measurements[i]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(m.name for m in self.measurements)

    @property
    def likelihoods(self) -> dict[str, str]:
        """{experiment: form} (e.g. ``{"coherent-csi": "coherent-2017"}``)."""
        return {m.name: m.likelihood.form for m in self.measurements}

    def with_references(self, refs) -> Analysis:
        return Analysis(tuple(m.with_reference(r) for m, r in zip(self.measurements, refs)))

    def absolute(self) -> Analysis:
        """The same analysis with every chi2_ref = 0 (Delta chi^2 is then the absolute chi^2)."""
        return self.with_references([0.0] * len(self.measurements))


jax.tree_util.register_dataclass(Analysis, data_fields=["measurements"], meta_fields=[])


def as_analysis(measurements) -> Analysis:
    """An :class:`Analysis` from an Analysis, one Measurement or a sequence of them."""
    if isinstance(measurements, Analysis):
        return measurements
    if isinstance(measurements, Measurement):
        return Analysis((measurements,))
    ms = tuple(measurements)
    if not ms:
        raise InputError("measurements: an analysis needs at least one measurement (one per experiment)")
    for i, m in enumerate(ms):
        if not isinstance(m, Measurement):
            raise InputError(f"measurements[{i}]: expected a Measurement, got {type(m).__name__}")
    return Analysis(ms)


class DeltaChi2(NamedTuple):
    """Delta chi^2 of an analysis at a point and whether every profile converged."""

    value: jax.Array
    converged: jax.Array


# --- joint profile over shared nuisances ------------------------------------------------------------
JOINT_ITERATIONS = 24
_JOINT_STEPS = jnp.asarray([1.0, 0.5, 0.25, 0.0625, 0.0])


def _layout(analysis: Analysis):
    """Union of nuisance names (first-seen order) and, per measurement, the indices of its own in it."""
    names: list[str] = []
    for m in analysis:
        for n in m.likelihood.nuisance_names:
            if n not in names:
                names.append(n)
    index = [np.asarray([names.index(n) for n in m.likelihood.nuisance_names], dtype=int) for m in analysis]
    return names, index


def joint_chi2(nuisances, signals, analysis: Analysis):
    """Sum of the measurements' chi^2 at fixed nuisances (the union vector), each constraint counted once.

    Constraint of nuisance k: ((nu_k - nominal_k)/sigma_k)^2; a nuisance with
    sigma = 0 is fixed at its nominal value (contributes nothing; hold it there).
    """
    names, index = _layout(analysis)
    total = 0.0
    nominal = jnp.ones(len(names))
    sigma = jnp.ones(len(names))
    for sig, m, idx in zip(signals, analysis, index):
        form = m.likelihood
        total = total + form.data_chi2(nuisances[idx], sig, m.data)
        if idx.size:
            nominal = nominal.at[idx].set(form.nominal())
            sigma = sigma.at[idx].set(form.sigmas())
    pulls = jnp.where(sigma > 0, (nuisances - nominal) / jnp.where(sigma > 0, sigma, 1.0), 0.0)
    return total + jnp.sum(pulls * pulls), nominal, sigma


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
    return tuple(_layout(as_analysis(analysis))[0])


def _parts(nuisances, signals, analysis: Analysis):
    """Per-measurement chi^2 at fixed union nuisances, each constraint counted once (first owner)."""
    _, index = _layout(analysis)
    owned: set[int] = set()
    parts = []
    for sig, m, idx in zip(signals, analysis, index):
        form = m.likelihood
        value = form.data_chi2(nuisances[idx], sig, m.data)
        if idx.size:
            mine = np.asarray([k not in owned for k in idx])
            owned.update(int(k) for k in idx)
            sigma = form.sigmas()
            pulls = jnp.where(sigma > 0, (nuisances[idx] - form.nominal()) / jnp.where(sigma > 0, sigma, 1.0), 0.0)
            value = value + jnp.sum(jnp.where(jnp.asarray(mine), pulls * pulls, 0.0))
        parts.append(value)
    return jnp.stack(parts)


def _joint_profile(signals, analysis: Analysis, own) -> tuple[jax.Array, jax.Array]:
    """Nuisances minimising the joint chi^2: damped Newton on autodiff derivatives, started from the
    per-measurement profiles ``own`` (shared nuisances averaged); sigma = 0 nuisances stay fixed.
    Returns (nuisances, converged)."""
    names, index = _layout(analysis)
    start = jnp.zeros(len(names))
    count = jnp.zeros(len(names))
    for p, idx in zip(own, index):
        if idx.size:
            start = start.at[idx].add(p.nuisances)
            count = count.at[idx].add(1.0)
    start = start / jnp.maximum(count, 1.0)
    _, _, sigma = joint_chi2(start, signals, analysis)
    free = (sigma > 0).astype(start.dtype)

    def f(nu):
        return joint_chi2(nu, signals, analysis)[0]

    def direction(nu):
        g = jax.grad(f)(nu) * free
        h = jax.hessian(f)(nu) * free[:, None] * free[None, :] + jnp.diag(1.0 - free)
        d = jnp.linalg.solve(h, g)
        return jnp.where(jnp.isfinite(d), d, 0.0), g

    def step(_, nu):
        d, _g = direction(nu)
        candidates = nu[None, :] - _JOINT_STEPS[:, None] * d[None, :]
        values = jax.vmap(f)(candidates)
        values = jnp.where(jnp.isnan(values), jnp.inf, values)
        better = values < f(nu)
        pick = jnp.where(jnp.any(better), jnp.argmax(better), _JOINT_STEPS.shape[0] - 1)
        return candidates[pick]

    nu = jax.lax.fori_loop(0, JOINT_ITERATIONS, step, start)
    d, g = direction(jax.lax.stop_gradient(nu))
    decrement = 0.5 * jnp.dot(g, d)
    return nu, jnp.isfinite(decrement) & (jnp.abs(decrement) < CONVERGENCE_TOL)


def profile_analysis(signals, analysis, method: str = "robust") -> AnalysisProfile:
    """Profile ``analysis`` for given expected signals (one (B,) array per measurement).

    Each measurement is profiled over its own nuisances (``method``: "robust"
    or "fast" for eq. 4.1; closed forms are exact); nuisances shared between
    measurements make the profile joint (damped Newton over the union).
    """
    analysis = as_analysis(analysis)
    if method not in PROFILE_METHODS:
        raise InputError(f"method: the profile method must be one of {PROFILE_METHODS}, got {method!r}")
    names, index = _layout(analysis)
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
