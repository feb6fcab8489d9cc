"""Measurements and analyses: an experiment's likelihood form, its data and its reference chi^2.

A :class:`Measurement` is one experiment in an analysis: its kernel (the
parameter-independent rate), its likelihood form (a frozen pytree from
:mod:`.poisson`, :mod:`.totals` or :mod:`.gaussian`), its data (counts per
bin: Asimov, the spec's declared measurement, or observed) and the reference
chi^2 subtracted from it. An :class:`Analysis` is a tuple of measurements;
its Delta chi^2 is the sum over them, each profiled over its own nuisances,
except that nuisances of the same name in two measurements are one parameter
(profiled jointly: :mod:`.combine`, which also holds the one ``delta_chi2``).

The form of an experiment is read from its spec's ``[statistics]`` table in
one place, :func:`likelihood_for`; nothing downstream asks which form a
measurement has.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import jax
import jax.numpy as jnp
import numpy as np

from ..errors import InputError
from .gaussian import GaussianSM
from .poisson import PoissonPulls
from .templates import TemplatePoisson
from .totals import Coherent2017, Projection

# Defaults below eq. 22 of the heavy-Z' paper.
PROJECTION_DEFAULTS = {"sigma_stat": 0.2, "sigma_sys": 0.2}


def _named(names, experiment: str) -> tuple[str, ...]:
    """Nuisance names qualified by the experiment (``signal_norm[ess-csi]``): not shared by default."""
    return tuple(f"{n}[{experiment}]" for n in names)


# the total-count forms with the projection uncertainties sigma_stat, sigma_sys (heavy-Z' paper eq. 22)
PROJECTION_FORMS = ("projection", "projection-alt")


def chosen_form(statistics, form: str | None = None) -> str:
    """The chi^2 form an experiment gets: ``form`` where given (``likelihood_for``'s override), else its spec's."""
    return form or statistics.chi2


def likelihood_for(kernel, *, form: str | None = None, sigma_stat: float | None = None,
                   sigma_sys: float | None = None, luminosity_ratio: float = 1.0):
    """The likelihood form of an experiment, from its spec's ``[statistics]`` (the one place that reads it).

    Args:
      kernel: from ``build_kernel`` (its ``statistics`` is the spec's table).
      form: another total-count form for a CEvNS experiment ("projection",
        "projection-alt"; heavy-Z' paper eq. 22); default the spec's own.
      sigma_stat: overrides the statistical projection uncertainty (eq. 22).
      sigma_sys: overrides the systematic projection uncertainty (eq. 22).
      luminosity_ratio: F'/F for the heavy-Z' forms (Fig. 3).
    Raises:
      InputError: a setting that does not apply to the form.
    """
    st = kernel.statistics
    if st is None:
        raise InputError(f"experiment: kernel {kernel.name!r} carries no [statistics] table")
    name = kernel.name or "experiment"
    chosen = chosen_form(st, form)
    if not (luminosity_ratio > 0 and np.isfinite(luminosity_ratio)):
        raise InputError(f"luminosity_ratio: must be finite and > 0, got {luminosity_ratio}")
    lum = jnp.asarray(float(luminosity_ratio))
    if st.chi2 == "gaussian-sm" or chosen == "gaussian-sm":
        if chosen != st.chi2:
            raise InputError(f"chi2: {name} uses eq. 23 ('{st.chi2}'), not {chosen!r}")
        if sigma_stat is not None or sigma_sys is not None:
            raise InputError(f"sigma_stat: {name} uses eq. 23 (delta N = sqrt(N)), which has no such uncertainties")
        return GaussianSM(lum)
    if st.chi2 == "templates-poisson" or chosen == "templates-poisson":
        if chosen != st.chi2:
            raise InputError(f"chi2: {name} is a binned measurement with templates ('{st.chi2}'), not {chosen!r}")
        if sigma_stat is not None or sigma_sys is not None:
            raise InputError(f"sigma_stat: {name} uses its templates' nuisances, not the projection uncertainties")
        if luminosity_ratio != 1.0:
            raise InputError(f"luminosity_ratio: does not apply to {name} (templates-poisson)")
        return templates_form(kernel)
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
    if chosen in PROJECTION_FORMS:
        own = st.chi2 in PROJECTION_FORMS
        stat = sigma_stat if sigma_stat is not None else (st.sigma_stat if own else PROJECTION_DEFAULTS["sigma_stat"])
        sys_ = sigma_sys if sigma_sys is not None else (st.sigma_sys if own else PROJECTION_DEFAULTS["sigma_sys"])
        for key, value in (("sigma_stat", stat), ("sigma_sys", sys_)):
            if not (np.isfinite(value) and value >= 0):
                raise InputError(f"{key}: must be finite and >= 0, got {value}")
        return Projection(jnp.asarray(float(stat)), jnp.asarray(float(sys_)), lum,
                          alternative=chosen == "projection-alt", names=_named(("signal_norm",), name))
    raise InputError(f"chi2: unknown form {chosen!r}; allowed: coherent-2017, projection, projection-alt, "
                     "pulls-poisson, gaussian-sm")


def templates_form(kernel) -> TemplatePoisson:
    """The :class:`TemplatePoisson` form of a scintillator kernel: its templates, its shape variants and
    the spec's priors; the source normalisation (``statistics.source_name``) is shared by name."""
    st, name, tpl = kernel.statistics, kernel.name, kernel.templates
    names = [f"signal_norm[{name}]"]
    sigma = [float(st.sigma_signal)]
    if st.source_name is not None:
        names.append(f"source_norm[{st.source_name}]")
        sigma.append(float(st.sigma_source))
    n_signal_norms = len(names)
    names += [f"{t}_norm[{name}]" for t in tpl.names]
    names += [f"{v}[{name}]" for v in kernel.variant_names]
    names += [f"{v}[{name}]" for v in tpl.shape_names]
    sig = jnp.concatenate([jnp.asarray(sigma), jnp.asarray(tpl.sigma, dtype=float),
                           jnp.ones(len(kernel.variant_names) + len(tpl.shape_names))])
    return TemplatePoisson(tpl.nominal, tpl.plus, tpl.minus, sig, names=tuple(names),
                           n_signal_norms=n_signal_norms, shape_of=tpl.shape_of)


def declares_measurement(statistics) -> bool:
    """Whether a spec's ``[statistics]`` carries its own measured data (COHERENT 2017: eq. 21's N_meas)."""
    return statistics is not None and statistics.chi2 == "coherent-2017"


def declared_data(kernel):
    """The measurement a spec declares in its ``[statistics]`` (COHERENT 2017: N_meas as one bin), or None."""
    st = kernel.statistics
    if declares_measurement(st):
        return jnp.asarray([float(st.n_meas)])
    return getattr(kernel, "observed", None)


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


def sm_counts(kernel, model):
    from ..kernels.rates import expected_counts, model_family, sm_params

    if model is None:
        from ..physics.models import MODELS

        model = MODELS["sm"]
    params = None if model_family(model) == "sm" else sm_params(model)
    return expected_counts(params, kernel, model)


def _profiled_sm(kernel, likelihood, data, model):
    return likelihood.profile(sm_counts(kernel, model), data).chi2


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
    data = form.asimov_data(sm_counts(kernel, model))
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


def nuisance_layout(analysis):
    """Union of nuisance names (first-seen order) and, per measurement, the indices of its own in it."""
    names: list[str] = []
    for m in analysis:
        for n in m.likelihood.nuisance_names:
            if n not in names:
                names.append(n)
    index = [np.asarray([names.index(n) for n in m.likelihood.nuisance_names], dtype=int) for m in analysis]
    return names, index


@dataclass(frozen=True)
class Analysis:
    """A tuple of measurements whose Delta chi^2 add, nuisances of the same name shared (a pytree).

    ``shared`` (static): the nuisance names that occur in more than one
    measurement; where it is empty each measurement is profiled on its own.
    """

    measurements: tuple[Measurement, ...]

    @property
    def shared(self) -> tuple[str, ...]:
        names, index = nuisance_layout(self)
        counts = np.bincount(np.concatenate([np.zeros(0, dtype=int), *index]), minlength=len(names))
        return tuple(n for n, c in zip(names, counts) if c > 1)

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
