"""Heavy-Z' statistics (heavy-Z' paper eqs. 21-22), mass limits and their gradients."""

import jax.numpy as jnp
import numpy as np
import pytest
from scipy.optimize import minimize

import zprime_jax
from zprime_jax import likelihood
from zprime_jax.inference import heavy, sharding
from zprime_jax.kernels.rates import build_kernel, counts_polynomial, expected_counts
from zprime_jax.papers import published
from zprime_jax.physics.models import MODELS, HeavyZPrime

zprime_jax.enable_x64()


@pytest.fixture(scope="module")
def csi():
    return build_kernel("ess-csi")


@pytest.fixture(scope="module")
def ar():
    return build_kernel("ess-ar")


def _numeric_eq21(n_th, c):
    s2 = c["n_meas"] + c["b_0n"] + 2 * c["b_ss"]

    def f(a):
        r = c["n_meas"] - n_th * (1 + a[0]) - c["b_0n"] * (1 + a[1])
        return r * r / s2 + (a[0] / c["sigma_a1"]) ** 2 + (a[1] / c["sigma_a2"]) ** 2
    return minimize(f, [0.0, 0.0], method="BFGS", options={"gtol": 1e-12}).fun


def _numeric_eq22(n_th, n_sm, stat, sys):
    f = lambda a: (n_sm - n_th * (1 + a[0])) ** 2 / ((1 + stat) * n_sm) + (a[0] / sys) ** 2  # noqa: E731
    return minimize(f, [0.0], method="BFGS", options={"gtol": 1e-12}).fun


@pytest.mark.parametrize("n_th", [100.0, 136.0, 173.0, 250.0])
def test_eq21_closed_form_equals_numerical_minimum(n_th):
    k = build_kernel("coherent-csi")
    m = likelihood.measurement(k, MODELS["lr"])                # the preset's eq. 21 with its 142 events
    st = k.statistics
    c = {"n_meas": st.n_meas, "b_0n": st.b_0n, "b_ss": st.b_ss, "sigma_a1": st.sigma_a1, "sigma_a2": st.sigma_a2}
    assert m.likelihood.form == "coherent-2017" and float(m.data[0]) == 142.0 and not m.asimov
    prof = m.likelihood.profile(jnp.asarray([n_th]), m.data)
    # BFGS on a 2-d quadratic reaches the minimum to ~1e-12
    assert float(prof.chi2) == pytest.approx(_numeric_eq21(n_th, c), rel=1e-8, abs=1e-10)
    # the closed-form nuisances are the minimiser: chi^2 at fixed nuisances + constraints equals the minimum
    a = np.asarray(prof.nuisances) - 1.0
    fixed = float(m.likelihood.data_chi2(prof.nuisances, jnp.asarray([n_th]), m.data))
    assert fixed + (a[0] / c["sigma_a1"]) ** 2 + (a[1] / c["sigma_a2"]) ** 2 == pytest.approx(float(prof.chi2),
                                                                                               rel=1e-10)


@pytest.mark.parametrize("n_th, stat, sys", [(900.0, 0.2, 0.2), (1100.0, 0.05, 0.05), (1000.0, 0.2, 0.01)])
def test_eq22_closed_form_equals_numerical_minimum(csi, n_th, stat, sys):
    form = likelihood.likelihood_for(csi, form="projection", sigma_stat=stat, sigma_sys=sys)
    got = float(form.profile(jnp.asarray([n_th]), jnp.asarray([1000.0])).chi2)
    assert got == pytest.approx(_numeric_eq22(n_th, 1000.0, stat, sys), rel=1e-8, abs=1e-10)
    assert float(form.profile(jnp.asarray([1000.0]), jnp.asarray([1000.0])).chi2) == 0.0   # Asimov at truth


@pytest.mark.parametrize("name, cos_beta", [("lr", 0.0), ("e6-chi", 0.0), ("e6-eta", 0.0), ("e6", -0.7),
                                            ("e6", 0.31)])
def test_gamma_polynomial_equals_full_rate(ar, name, cos_beta):
    model = MODELS[name]
    c = counts_polynomial(ar, model, cos_beta).sum(axis=-1)
    for mass in (60.0, 150.0, 1000.0):
        g = (heavy.M_Z_GEV / mass) ** 2
        direct = float(jnp.sum(expected_counts(HeavyZPrime(mass, cos_beta), ar, model)))
        # exact identity (couplings linear in gamma); rounding only
        assert float(c[0] + g * c[1] + g * g * c[2]) == pytest.approx(direct, rel=1e-12)
    sm = float(jnp.sum(expected_counts(HeavyZPrime(jnp.inf, cos_beta), ar, model)))
    assert float(c[0]) == pytest.approx(sm, rel=1e-14)       # gamma = 0 is the model's SM


def test_limits_sit_on_the_level_and_psi_is_blind(csi):
    ms = (heavy.measurement(csi, form="projection"),)
    for name in ("lr", "e6-chi", "e6-eta"):
        res = heavy.mass_limit(ms, MODELS[name])
        lim = res["mass_limit_gev"]
        assert lim is not None and 50 < lim < 1000
        chi2 = heavy.chi2_of_mass(jnp.array([lim, 1.05 * lim, 3 * lim]), ms, MODELS[name])
        # chi2_min = 0 for Asimov data (at the SM); bisection -> level to ~1e-9
        assert float(chi2[0]) == pytest.approx(2.705543454095404, abs=1e-6)
        assert np.all(np.asarray(chi2[1:]) < 2.705543454095404)   # not excluded above the limit
    assert heavy.mass_limit(ms, MODELS["e6-psi"])["mass_limit_gev"] is None
    blind = heavy.mass_limit(ms, MODELS["e6"], cos_beta=-(5 / 32) ** 0.5)
    assert blind["mass_limit_gev"] is None


def test_limit_grows_as_uncertainty_shrinks_and_saturates_with_luminosity(csi):
    ms = (heavy.measurement(csi, form="projection"),)
    lims = [heavy.mass_limit(heavy.with_uncertainty(ms, s), MODELS["e6-chi"])["mass_limit_gev"]
            for s in (0.2, 0.1, 0.05)]
    assert lims[0] < lims[1] < lims[2]
    # at sigma_sys = 5% more exposure barely helps (the paper's remark for Fig. 3)
    base = heavy.with_uncertainty(ms, 0.05)
    l1 = heavy.mass_limit(base, MODELS["e6-chi"])["mass_limit_gev"]
    l100 = heavy.mass_limit(heavy.with_luminosity(base, 100.0), MODELS["e6-chi"])["mass_limit_gev"]
    assert l1 < l100 < 1.1 * l1


def test_mass_limit_gradient_matches_finite_difference(csi):
    model = MODELS["lr"]
    ms = (heavy.measurement(csi, form="projection"),)
    lim = heavy.mass_limit(ms, model)["mass_limit_gev"]
    grads = heavy.mass_limit_gradient(ms, model, 0.0, lim)
    h = 1e-4
    for field in ("sigma_sys", "sigma_stat"):
        def limit_at(delta, field=field):
            from dataclasses import replace
            form = ms[0].likelihood
            m = replace(ms[0], likelihood=replace(form, **{field: getattr(form, field) + delta}))
            return heavy.mass_limit((m,), model)["mass_limit_gev"]
        fd = (limit_at(h) - limit_at(-h)) / (2 * h)
        # limits located by 50 bisections (~1e-12 relative); central difference O(h^2)
        assert float(getattr(grads[0].likelihood, field)) == pytest.approx(fd, rel=1e-4)
    assert float(grads[0].likelihood.sigma_sys) < 0      # a larger systematic uncertainty weakens the limit


def test_plane_is_one_sharded_raster_and_matches_pointwise(ar):
    ms = (heavy.measurement(ar, form="projection"),)
    cbs = jnp.array([-1.0, -0.3, 0.0, 0.5, 1.0])
    masses = jnp.array([80.0, 200.0, 500.0])
    d = np.asarray(heavy.delta_chi2_plane(ms, MODELS["e6"], cbs, masses))
    for i, cb in enumerate(cbs):
        ref = np.asarray(heavy.chi2_of_mass(masses, ms, MODELS["e6"], cb))
        np.testing.assert_allclose(d[i], ref, rtol=1e-10, atol=1e-12)   # chi2_min = 0 (Asimov)
    np.testing.assert_allclose(d[2], 0.0, atol=1e-12)                   # psi: blind
    programs = len(sharding._COMPILED)
    sizes = [f._cache_size() for f in sharding._COMPILED.values()]
    heavy.delta_chi2_plane(ms, MODELS["e6"], cbs * 0.9, masses * 1.1)
    assert len(sharding._COMPILED) == programs                           # no new program ...
    assert [f._cache_size() for f in sharding._COMPILED.values()] == sizes   # ... and no recompilation


# Heavy-Z' paper Table III (90% CL mass limits, GeV) for a few presets, from the published-numbers file.
TABLE_III = {e: {m: v for (e2, m), v in published.table_iii().items() if e2 == e and v is not None}
             for e in ("coherent-csi", "coherent-lar", "conus")}


@pytest.mark.parametrize("preset", sorted(TABLE_III))
def test_table_iii_reproduced(preset):
    m = (heavy.measurement(build_kernel(preset)),)
    for model, paper in TABLE_III[preset].items():
        ours = heavy.mass_limit(m, MODELS[model])["mass_limit_gev"]
        # 7%: our COHERENT-CsI SM prediction (179 events with the radiative couplings)
        # differs from the paper's, which shifts the eq. 21 fit (largest deviation,
        # chi model: +6.4%); the projections are sigma_sys-dominated and agree to ~3%
        assert ours == pytest.approx(paper, rel=0.07), (model, ours, paper)
    assert heavy.mass_limit(m, MODELS["e6-psi"])["mass_limit_gev"] is None   # "-" in Table III
