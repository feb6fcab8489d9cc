"""The analysis layer: likelihood forms, measurements, analyses, shared nuisances, one Delta chi^2 for all."""

import dataclasses
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.optimize import minimize

from zprime_jax import likelihood
from zprime_jax.inference import heavy, limits
from zprime_jax.kernels.rates import build_kernel, counts_polynomial, expected_counts
from zprime_jax.physics.models import MODELS, HeavyZPrime, LightZPrime
from zprime_jax.spec import load_experiment

E6_CHI = MODELS["e6-chi"]
UNIVERSAL = MODELS["universal"]


@pytest.fixture(scope="module")
def coherent_csi():
    return build_kernel("coherent-csi")


@pytest.fixture(scope="module")
def ar(kernels):
    return kernels["ess-ar"]


def _numerical_profile(form, signal, data):
    """min over the nuisances of data_chi2 + Gaussian constraints, by SciPy (an independent minimiser)."""
    nominal, sigma = np.asarray(form.nominal()), np.asarray(form.sigmas())

    def f(nu):
        pulls = np.where(sigma > 0, (nu - nominal) / np.where(sigma > 0, sigma, 1.0), 0.0)
        return float(form.data_chi2(jnp.asarray(nu), signal, data)) + float(np.sum(pulls**2))
    if nominal.size == 0:
        return f(nominal)
    return minimize(f, nominal, method="Nelder-Mead", options={"xatol": 1e-10, "fatol": 1e-12, "maxiter": 4000}).fun


@pytest.mark.parametrize("name, form", [("ess-ar", None), ("coherent-csi", None), ("coherent-csi", "projection"),
                                        ("coherent-csi", "projection-alt"), ("cr51-lxe-a", None)])
def test_every_form_profile_is_the_minimum_of_its_fixed_nuisance_chi2(name, form):
    """Each form's profiled chi^2 equals a SciPy minimisation of its chi^2 at fixed nuisances + constraints,
    at a point away from the data (Nelder-Mead to 1e-12 in chi^2; relative 1e-7 allows its stopping rule)."""
    k = build_kernel(name)
    model = E6_CHI if name != "ess-ar" else UNIVERSAL
    params = HeavyZPrime(300.0, 0.0) if name != "ess-ar" else LightZPrime(10.0, 2e-5)
    m = likelihood.measurement(k, model, likelihood=likelihood.likelihood_for(k, form=form))
    signal = expected_counts(params, k, model)
    prof = m.likelihood.profile(signal, m.data)
    assert bool(prof.converged)
    assert float(prof.chi2) == pytest.approx(_numerical_profile(m.likelihood, signal, m.data), rel=1e-7, abs=1e-9)
    # the returned nuisances are the minimiser
    at = float(likelihood.joint_chi2(prof.nuisances, [signal], likelihood.Analysis((m,)))[0])
    assert at == pytest.approx(float(prof.chi2), rel=1e-9, abs=1e-10)


def test_asimov_data_are_the_sm_of_the_model_own_couplings(coherent_csi):
    """Trap 1 of the issue: Asimov data built for a heavy model use its radiative SM couplings, so M -> inf
    is the SM exactly; the tree-level SM's data would put Delta chi^2 = 0.015 there (eq. 22, COHERENT CsI)."""
    form = likelihood.likelihood_for(coherent_csi, form="projection")
    own = likelihood.asimov_measurement(coherent_csi, E6_CHI, form)
    tree = likelihood.asimov_measurement(coherent_csi, None, form)
    at_sm = HeavyZPrime(jnp.inf, 0.0)
    assert abs(float(likelihood.delta_chi2(at_sm, (own,), E6_CHI).value)) < 1e-12
    assert float(likelihood.delta_chi2(at_sm, (tree,), E6_CHI).value) == pytest.approx(0.0154, rel=0.01)


def test_declared_measurement_only_with_the_spec_form(coherent_csi):
    """COHERENT CsI declares eq. 21 with 142 events; read as a projection (heavy-Z' Fig. 6) it is Asimov."""
    own = likelihood.measurement(coherent_csi, E6_CHI)
    assert own.likelihood.form == "coherent-2017" and not own.asimov and float(own.data[0]) == 142.0
    proj = likelihood.measurement(coherent_csi, E6_CHI, likelihood=likelihood.likelihood_for(coherent_csi,
                                                                                              form="projection"))
    assert proj.asimov and float(proj.data[0]) == pytest.approx(float(expected_counts(
        HeavyZPrime(jnp.inf, 0.0), coherent_csi, E6_CHI)[0]), rel=1e-14)


def test_shared_nuisances_are_one_parameter(ar):
    """An experiment twice with the same nuisance names is one experiment with twice the exposure: the
    Poisson deviance is homogeneous (D(2 mu; 2 n) = 2 D(mu; n)) and the constraints are counted once."""
    m = likelihood.asimov_measurement(ar)
    twice = likelihood.Analysis((m, m))
    assert twice.shared == m.likelihood.nuisance_names
    k2 = dataclasses.replace(ar, weight=2.0 * ar.weight, background=2.0 * ar.background)
    doubled = likelihood.asimov_measurement(k2)
    for g in (3e-6, 1e-5, 3e-5):
        p = LightZPrime(10.0, g)
        joint = float(likelihood.delta_chi2(p, twice, UNIVERSAL).value)
        # both profiles stop within CONVERGENCE_TOL = 1e-9 of their minimum in chi^2 (abs), the deviance's
        # homogeneity holds to rounding (rel)
        assert joint == pytest.approx(float(likelihood.delta_chi2(p, (doubled,), UNIVERSAL).value), rel=1e-9,
                                      abs=1e-9)
    # different names: independent nuisances, the sum of two profiles
    other = dataclasses.replace(m, likelihood=dataclasses.replace(m.likelihood, names=("s2", "b2")))
    independent = likelihood.Analysis((m, other))
    assert independent.shared == ()
    p = LightZPrime(10.0, 1e-5)
    assert float(likelihood.delta_chi2(p, independent, UNIVERSAL).value) == pytest.approx(
        2.0 * float(likelihood.delta_chi2(p, (m,), UNIVERSAL).value), rel=1e-12)
    # limits and grids take the joint path too: the shared-nuisance limit equals the doubled-exposure one
    coarse = dict(coupling_range=(1e-7, 1e-3), n_coarse=21, bisections=40)   # small scans: fast to compile
    lim_joint = limits.coupling_limits(twice, UNIVERSAL, [10.0], **coarse)["coupling"][0]
    lim_doubled = limits.coupling_limits((doubled,), UNIVERSAL, [10.0], **coarse)["coupling"][0]
    assert lim_joint == pytest.approx(lim_doubled, rel=1e-8)


def test_heavy_mass_limit_with_a_binned_poisson_form(ar):
    """The one limit search serves a heavy model on an eq. 4.1 experiment (a combination no paper made)."""
    m = likelihood.measurement(ar, E6_CHI)
    assert m.likelihood.form == "pulls-poisson"
    res = heavy.mass_limit((m,), E6_CHI)
    lim = res["mass_limit_gev"]
    assert lim is not None and res["status"] == "limit"
    chi2 = heavy.chi2_of_mass(jnp.array([lim, 1.05 * lim]), (m,), E6_CHI) - float(m.chi2_ref)
    # Asimov: the scan minimum is the SM (chi2 - chi2_ref = 0); 50 bisections put the limit on the level
    assert float(chi2[0]) == pytest.approx(likelihood.CL90_1DOF, abs=1e-6)
    assert float(chi2[1]) < likelihood.CL90_1DOF


def test_the_two_polynomials_are_one(ar, coherent_csi):
    """counts_polynomial in g^2 (light, fixed mass) and in gamma (heavy, fixed cos beta) reproduce the rate."""
    for kernel, model, fixed, params_of in (
            (ar, UNIVERSAL, 30.0, lambda x: LightZPrime(30.0, math.sqrt(x))),
            (coherent_csi, MODELS["e6"], 0.4, lambda x: HeavyZPrime(91.1876 / math.sqrt(x), 0.4))):
        c = counts_polynomial(kernel, model, fixed)
        for x in (1e-10, 1e-4, 0.3):
            np.testing.assert_allclose(c[0] + x * (c[1] + x * c[2]), expected_counts(params_of(x), kernel, model),
                                       rtol=1e-11, atol=1e-10)


@pytest.mark.parametrize("name", ["ess-ar", "coherent-csi", "connie", "cr51-lxe-a"])
def test_gradients_finite_at_the_sm_and_jit_equals_eager(name):
    """d Delta chi^2/d g at g = 0 (light) and d/d mass at M -> large (heavy) are finite, for every form."""
    k = build_kernel(name)
    if name == "ess-ar":
        model = UNIVERSAL
        m = likelihood.measurement(k, model)

        def f(g):
            return likelihood.delta_chi2(LightZPrime(10.0, g), (m,), model).value
        x0 = 0.0
    else:
        model = E6_CHI
        m = likelihood.measurement(k, model)

        def f(log_m):
            return likelihood.delta_chi2(HeavyZPrime(10.0**log_m, 0.0), (m,), model).value
        x0 = 6.0
    g = jax.grad(f)(x0)
    assert np.isfinite(float(g))
    assert float(jax.jit(f)(x0)) == pytest.approx(float(f(x0)), rel=1e-12, abs=1e-12)


def test_nubdx_sigma_signal_is_exact():
    """Trap 2 of the issue: 10% (+) 10% in quadrature, not the rounded 0.141."""
    # the preset writes sqrt(0.02) as a 17-digit decimal: equal to 1 ulp (the old 0.141 is 1.5e-3 off)
    assert load_experiment("nubdx-drift").statistics.sigma_signal == pytest.approx(math.sqrt(0.1**2 + 0.1**2),
                                                                                   rel=3e-16)


def test_bad_settings_name_the_field(coherent_csi, ar):
    with pytest.raises(ValueError, match="^chi2: "):
        likelihood.likelihood_for(ar, form="coherent-2017")           # ESS declares no COHERENT measurement
    with pytest.raises(ValueError, match="^sigma_stat: "):
        likelihood.likelihood_for(ar, sigma_stat=0.1)                  # eq. 4.1 has its own pulls
    with pytest.raises(ValueError, match="^luminosity_ratio: "):
        likelihood.likelihood_for(coherent_csi, luminosity_ratio=-1.0)
    with pytest.raises(ValueError, match="^method: "):
        likelihood.delta_chi2(LightZPrime(1.0, 1e-5), (likelihood.measurement(ar),), UNIVERSAL, method="newton")
    with pytest.raises(ValueError, match="^measurements"):
        likelihood.as_analysis([])
