"""Neutrino-electron scattering with a 51Cr source in liquid xenon (heavy-Z' paper eqs. 6-7, 10, 14-15, 18-20, 23)."""

import dataclasses
import json
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import reference_nue as ref
from jax.test_util import check_grads
from scipy import integrate

from zprime_jax.inference import heavy
from zprime_jax.kernels import detectors, electron
from zprime_jax.kernels.rates import build_kernel, counts_polynomial, expected_counts
from zprime_jax.papers import published
from zprime_jax.physics import cross_sections as xs
from zprime_jax.physics import fluxes
from zprime_jax.physics.models import MODELS, RADIATIVE, HeavyZPrime, LightZPrime, get_model
from zprime_jax.spec import SpecError, _preset_files, load_experiment

BLIND = -math.sqrt(5.0 / 32.0)
SM_RADIATIVE = dataclasses.replace(MODELS["sm"], sm=RADIATIVE)


@pytest.fixture(scope="module")
def cr51():
    return {c: build_kernel(f"cr51-lxe-{c}") for c in "abc"}


# --- cross section -------------------------------------------------------------

@pytest.mark.parametrize("e_nu", [0.43, 0.75, 5.0])
def test_end_point_matches_two_body_kinematics(e_nu):
    # T_max = 2E^2/(2E + m_e) against a root of energy-momentum conservation; 1e-12: root-finder tolerance
    assert float(xs.electron_max_recoil_mev(e_nu)) == pytest.approx(ref.max_recoil_from_kinematics(e_nu), rel=1e-12)


@pytest.mark.parametrize("e_nu", [0.43, 0.75, 3.0])
def test_cross_section_integrates_to_the_closed_form_total(e_nu):
    gl, gr = ref.G_L_NUE, ref.G_R_NUE
    t_max = float(xs.electron_max_recoil_mev(e_nu))
    numeric, _ = integrate.quad(lambda t: float(xs.nue_dsigma_dte(e_nu, t, gl, gr)), 0.0, t_max,
                                epsabs=0, epsrel=1e-13)
    # quadrature of a quadratic polynomial: agreement to rounding
    assert float(xs.nue_total_cross_section(e_nu, gl, gr)) == pytest.approx(numeric, rel=1e-12)
    # and the package's eq. (6) is the reference's eq. (6), typed independently
    for t in np.linspace(0.0, t_max, 7):
        assert float(xs.nue_dsigma_dte(e_nu, t, gl, gr)) == pytest.approx(ref.dsigma_dt(e_nu, t, gl, gr), rel=1e-13)
    assert float(xs.nue_dsigma_dte(e_nu, 1.01 * t_max, gl, gr)) == 0.0     # beyond the end point


def test_high_energy_cross_section_scale():
    """E >> m_e: sigma/E -> 2 G_F^2 m_e/pi (g_L^2 + g_R^2/3), the textbook ~0.9e-44 cm^2 E/MeV for nu_e e."""
    gl, gr = ref.G_L_NUE, ref.G_R_NUE
    e = 1e4
    sigma_cm2 = float(xs.nue_total_cross_section(e, gl, gr)) * ref.HBARC_MEV_CM**2
    leading = 2 * ref.G_F**2 * ref.M_E / math.pi * (gl**2 + gr**2 / 3) * e * ref.HBARC_MEV_CM**2
    assert sigma_cm2 == pytest.approx(leading, rel=1e-3)        # O(m_e/E) corrections
    assert 0.85e-44 < sigma_cm2 / e < 1.0e-44


# --- source and geometry -------------------------------------------------------

def test_eq20_mean_inverse_square_against_direct_average():
    # eq. (20) is exact; dblquad at epsrel 1e-12
    assert detectors.cylinder_mean_inverse_square_m2(1.0, 1.38, 1.38) == pytest.approx(
        ref.mean_inverse_square_m2(), rel=1e-10)
    assert detectors.cylinder_mean_inverse_square_m2(1.0, 1.38, 1.38) ** -0.5 == pytest.approx(1.63173, abs=1e-5)
    assert detectors.cylinder_mean_inverse_square_m2(0.3, 2.0, 0.5) == pytest.approx(
        ref.mean_inverse_square_m2(0.3, 2.0, 0.5), rel=1e-10)
    with pytest.raises(ValueError, match="source_distance_m"):
        detectors.cylinder_mean_inverse_square_m2(0.0, 1.0, 1.0)


@pytest.mark.parametrize("dt", [1.0, 50.0, 100.0])
def test_eq18_time_average(dt):
    assert float(fluxes.time_averaged_activity(5.0, dt)) == pytest.approx(ref.mean_activity(5.0, dt), rel=1e-12)


def test_flux_normalisation_is_the_isotropic_megacurie():
    # 1 MCi = 3.7e16 decays/s, one neutrino each, spread over 4 pi m^2 at 1 m; the paper rounds to 2.94e15
    assert fluxes.CR51_FLUX_PER_MCI_AT_1M == pytest.approx(3.7e16 / (4 * math.pi), rel=2e-3)


# --- counts --------------------------------------------------------------------

@pytest.mark.parametrize("config, r0, dt", [("a", 5.0, 100.0), ("c", 10.0, 50.0)])
def test_sm_counts_against_independent_scipy(cr51, config, r0, dt):
    k = cr51[config]
    ours = np.asarray(expected_counts(None, k, SM_RADIATIVE))
    theirs = ref.counts_per_bin(r0, dt, np.asarray(k.edges_kev) / 1e3)
    # closed-form bin integrals vs quad; geometry/time averages vs quadrature: agreement to ~1e-10
    np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-9)
    assert ours.sum() > 9e3


def test_bins_above_the_end_point_are_empty_and_masked(cr51):
    k = cr51["a"]
    n = np.asarray(expected_counts(None, k, SM_RADIATIVE))
    t_end = 1e3 * float(xs.electron_max_recoil_mev(0.75))              # 559.4 keV
    lo = np.asarray(k.edges_kev)[:-1]
    assert k.n_bins == 120 and np.asarray(k.edges_kev)[-1] == pytest.approx(600.0)
    assert np.all(n[lo >= t_end] == 0.0) and np.all(n[lo < t_end] > 0.0)
    np.testing.assert_array_equal(np.asarray(k.has_events), (lo < t_end).astype(float))
    assert int(np.asarray(k.has_events).sum()) == 112


def test_counts_scale_with_configuration(cr51):
    """Configurations differ only by <R> dt: N ~ tau R0 (1 - exp(-dt/tau)) (eq. 18 times dt)."""
    n = {c: float(expected_counts(None, cr51[c], SM_RADIATIVE).sum()) for c in "abc"}
    f = {c: r0 * (1 - math.exp(-dt / 39.96)) for c, r0, dt in (("a", 5, 100), ("b", 5, 50), ("c", 10, 50))}
    assert n["a"] / n["b"] == pytest.approx(f["a"] / f["b"], rel=1e-12)
    assert n["c"] / n["b"] == pytest.approx(2.0, rel=1e-12)


@pytest.mark.parametrize("name", ["lr", "e6-chi", "e6-eta", "e6-psi"])
def test_heavy_mediator_decouples_to_the_sm(cr51, name):
    k = cr51["b"]
    model = get_model(name)
    sm = np.asarray(expected_counts(None, k, SM_RADIATIVE))
    np.testing.assert_allclose(expected_counts(HeavyZPrime(jnp.inf), k, model), sm, rtol=1e-15)
    far = np.asarray(expected_counts(HeavyZPrime(1e6), k, model))
    np.testing.assert_allclose(far, sm, rtol=1e-7)                 # gamma ~ 8e-9
    near = np.asarray(expected_counts(HeavyZPrime(300.0), k, model))
    assert np.max(np.abs(near / np.where(sm > 0, sm, 1) - 1)) > 1e-3


def test_e6_blind_point_for_nu_e(cr51):
    k = cr51["a"]
    sm = np.asarray(expected_counts(None, k, SM_RADIATIVE))
    at_blind = np.asarray(expected_counts(HeavyZPrime(100.0, BLIND), k, MODELS["e6"]))
    np.testing.assert_allclose(at_blind, sm, rtol=1e-14)          # eq. 15: both epsilons vanish identically
    psi = np.asarray(expected_counts(HeavyZPrime(100.0, 0.0), k, MODELS["e6"]))
    assert abs(psi.sum() / sm.sum() - 1) > 1e-2                    # psi is not blind in nu-e


@pytest.mark.parametrize("name, cos_beta", [("lr", 0.0), ("e6", 0.3), ("e6", -0.9), ("e6-chi", 0.0)])
def test_gamma_polynomial_equals_full_counts(cr51, name, cos_beta):
    k = cr51["c"]
    model = get_model(name)
    c = counts_polynomial(k, model, cos_beta)
    assert c.shape == (3, k.n_bins)
    for mass in (95.0, 400.0, 3000.0):
        g = (91.1876 / mass) ** 2
        full = expected_counts(HeavyZPrime(mass, cos_beta), k, model)
        np.testing.assert_allclose(c[0] + g * (c[1] + g * c[2]), full, rtol=1e-12, atol=1e-9)


def test_antineutrino_source_swaps_chiralities(tmp_path):
    """eq. (6) for nubar_e: g_L and g_R exchanged; checked against the cross section directly."""
    text = _preset_files()["cr51-lxe-a"].read_text()
    path = tmp_path / "anti.toml"
    path.write_text(text.replace('flavour = "nu_e"', 'flavour = "nubar_e"').replace('"cr51-lxe-a"', '"anti"'))
    k = build_kernel(load_experiment(str(path)))
    gl, gr = ref.G_L_NUE, ref.G_R_NUE
    n = np.asarray(expected_counts(None, k, SM_RADIATIVE))
    swapped = ref.counts_per_bin(5.0, 100.0, np.asarray(k.edges_kev) / 1e3, gl=gr, gr=gl)
    np.testing.assert_allclose(n, swapped, rtol=1e-9, atol=1e-9)


# --- statistics and Table III ----------------------------------------------------

def test_eq23_is_zero_for_the_sm_and_positive_otherwise(cr51):
    m = heavy.measurement(cr51["a"])
    assert m.likelihood.form == "gaussian-sm"
    chi2 = heavy.chi2_of_mass(jnp.asarray([jnp.inf, 1e4, 500.0]), (m,), MODELS["e6-chi"])
    assert float(chi2[0]) == 0.0 and 0 < float(chi2[1]) < float(chi2[2])
    # by hand from the counts
    k = cr51["a"]
    sm = np.asarray(expected_counts(None, k, SM_RADIATIVE))
    th = np.asarray(expected_counts(HeavyZPrime(500.0), k, MODELS["e6-chi"]))
    ok = sm > 0
    assert float(chi2[2]) == pytest.approx(np.sum((sm[ok] - th[ok]) ** 2 / sm[ok]), rel=1e-10)


# Heavy-Z' paper Table III, 51Cr-LXe column (A, B, C) [GeV], from the package's data file.
TABLE_III_CR51 = {m: tuple(published.table_iii()[(f"cr51-lxe-{c}", m)] for c in "abc")
                  for m in ("e6-chi", "e6-eta", "e6-psi", "lr")}


@pytest.mark.parametrize("name", sorted(TABLE_III_CR51))
def test_table_iii_cr51_column(cr51, name):
    """Within 4% of the paper (we find +0.5% to +3.2%: the paper's exact constants/binning are not all
    stated -- docs/results.md). LR uses eq. 10 as printed (the nc-only reading gives ~0.57x)."""
    model = get_model(name)
    ours = [heavy.mass_limit((heavy.measurement(cr51[c]),), model)["mass_limit_gev"] for c in "abc"]
    for got, paper in zip(ours, TABLE_III_CR51[name]):
        assert got == pytest.approx(paper, rel=0.04)
    assert ours[1] < ours[0] < ours[2]                                # B < A < C, as in the paper


def test_lr_nc_only_reading_is_much_weaker(cr51):
    m = (heavy.measurement(cr51["a"]),)
    printed = heavy.mass_limit(m, MODELS["lr"])["mass_limit_gev"]
    nc = heavy.mass_limit(m, dataclasses.replace(MODELS["lr"], electron_lr_reading="nc-only"))["mass_limit_gev"]
    assert 0.5 < nc / printed < 0.65


def test_combined_analysis_beats_each_experiment(cr51):
    """Sec. 4.3: COHERENT CsI + CONNIE + Cr-C, chi^2 summed, each with its own pulls."""
    ms = [heavy.measurement(build_kernel(n)) for n in ("coherent-csi", "connie")] + [heavy.measurement(cr51["c"])]
    model = MODELS["e6-chi"]
    alone = [heavy.mass_limit((m,), model)["mass_limit_gev"] for m in ms]
    both = heavy.mass_limit(tuple(ms), model)["mass_limit_gev"]
    assert both > max(alone)
    # scanning the CEvNS uncertainties down to zero leaves the nu-e part alone and tightens the combination
    limits = [heavy.mass_limit(heavy.with_uncertainty(tuple(ms), s), model)["mass_limit_gev"] for s in (0.2, 0.05, 0.0)]
    assert limits[0] < limits[1] < limits[2]
    nue_only = [heavy.mass_limit(heavy.with_uncertainty((ms[2],), s), model)["mass_limit_gev"] for s in (0.2, 0.0)]
    assert nue_only[0] == nue_only[1]


# --- gradients -------------------------------------------------------------------

@pytest.mark.parametrize("cos_beta", [0.3, BLIND, -0.9])
def test_gradients_of_nue_chi2(cr51, cos_beta):
    m = (heavy.measurement(cr51["a"]),)
    model = MODELS["e6"]

    sm = expected_counts(None, cr51["a"], SM_RADIATIVE)

    @jax.jit
    def chi2(log_mass, cb):          # eq. 23 from the full counts (not the gamma polynomial)
        n = expected_counts(HeavyZPrime(10.0**log_mass, cb), cr51["a"], model)
        return electron.chi2_gaussian_sm(n, sm, m[0].kernel.has_events)

    check_grads(chi2, (2.6, cos_beta), order=2, modes=["fwd", "rev"], rtol=1e-5)
    g = jax.grad(chi2, argnums=(0, 1))(2.6, cos_beta)
    assert all(np.isfinite(float(x)) for x in g)


def test_gradient_at_the_sm_point_is_finite_and_zero(cr51):
    """gamma = 0 (M -> inf) is the minimum of eq. 23: the derivative in gamma exists and vanishes."""
    m = heavy.measurement(cr51["a"], model=MODELS["e6-chi"])
    c = counts_polynomial(cr51["a"], MODELS["e6-chi"], 0.0)
    d = jax.grad(lambda g: m.likelihood.profile(c[0] + g * (c[1] + g * c[2]), m.data).chi2)(0.0)
    assert float(d) == 0.0


def test_counts_gradient_in_the_end_point_bin(cr51):
    """The bin holding T_e^max of the 750 keV line: counts smooth in the couplings."""
    k = cr51["a"]
    i = int(np.asarray(k.has_events).sum()) - 1

    def n_end(log_mass):
        return expected_counts(HeavyZPrime(10.0**log_mass), k, MODELS["e6-chi"])[i]

    check_grads(n_end, (2.5,), order=2, modes=["fwd", "rev"], rtol=1e-6)


# --- specs -------------------------------------------------------------------------

def _spec_with(tmp_path, old, new):
    text = _preset_files()["cr51-lxe-a"].read_text()
    assert old in text
    path = tmp_path / "bad.toml"
    path.write_text(text.replace(old, new))
    return str(path)


@pytest.mark.parametrize("old, new, field", [
    ("threshold_kev = 0.0", "threshold_kev = 600.0", "detector.threshold_kev"),
    ("line_fractions = [0.10, 0.90]", "line_fractions = [0.10]", "source.line_fractions"),
    ("line_fractions = [0.10, 0.90]", "line_fractions = [0.5, 0.90]", "source.line_fractions"),
    ("line_energies_kev = [430.0, 750.0]", "line_energies_kev = [430.0, -750.0]", "source.line_energies_kev[1]"),
    ("n_bins = 120", "n_bins = 12.5", "detector.n_bins"),
    ("height_m = 1.38", "height_m = -1.0", "detector.height_m"),
    ("efficiency = 1.0", "efficiency = 1.5", "detector.efficiency"),
    ('flavour = "nu_e"', 'flavour = "nu_x"', "source.flavour"),
    ('chi2 = "gaussian-sm"', 'chi2 = "pulls-poisson"', "statistics.chi2"),
    ("initial_activity_mci = 5.0", "initial_activity_mci = 0.0", "source.initial_activity_mci"),
])
def test_bad_specs_name_the_field(tmp_path, old, new, field):
    with pytest.raises(SpecError, match=field.replace("[", r"\[").replace("]", r"\]")):
        load_experiment(_spec_with(tmp_path, old, new))


def test_line_source_needs_an_electron_detector(tmp_path):
    text = _preset_files()["cr51-lxe-a"].read_text()
    head = text[:text.index("[detector]")]
    path = tmp_path / "cevns.toml"
    path.write_text(head + '[detector]\nmaterial = "Xe"\nmass_kg = 10.0\nthreshold_kev = 1.0\n'
                    'binning = "single"\nsmearing = false\n')
    with pytest.raises(SpecError, match="source.kind"):
        load_experiment(str(path))


# --- light mediators in nu-e scattering (issue 16, item 2) ---------------------------------------------

S2W_TREE = 0.23857                      # the light models' tree-level s_W^2 (paper-notes 3), typed in


def _light_couplings(g, mass, q_nu, q_e, loop=None):
    """Tree-level nu_e (g_L, g_R) plus delta = g^2 Q'_nu Q'_e(q) / (2 sqrt2 G_F (2 m_e T + m^2)) as functions
    of T_e [MeV], written out here; ``loop(q)`` adds the photon-mixing charge (2 alpha/pi) Pi(q) Q_e."""
    def delta(t):
        q2 = 2 * ref.M_E * t
        charge = q_e + (0.0 if loop is None else -2 / 137.035999084 / math.pi * loop(math.sqrt(q2)))
        return g * g * q_nu * charge / (2 * math.sqrt(2) * ref.G_F * (q2 + mass * mass))
    return (lambda t: -0.5 + S2W_TREE + 1.0 + delta(t)), (lambda t: S2W_TREE + delta(t))


def _le_lmu_loop(q):
    """Pi(q) of Le-Lmu by SciPy quad, written out: sum_l Q_l Q'_l int x(1-x) ln(m_l^2 + q^2 x(1-x)) dx."""
    def integrand(x):
        xx = x * (1 - x)
        return xx * (-math.log(ref.M_E**2 + q * q * xx) + math.log(105.6583755**2 + q * q * xx))
    return integrate.quad(integrand, 0.0, 1.0, epsabs=0, epsrel=1e-12)[0]


@pytest.mark.parametrize("name, mass, g, q_nu, q_e, loop", [
    ("b-l", 0.01, 1e-7, -1.0, -1.0, None),         # m << sqrt(2 m_e T): the 1/T_e rise of a light mediator
    ("b-l", 1.0, 3e-6, -1.0, -1.0, None),
    ("b-l", 100.0, 1e-4, -1.0, -1.0, None),        # close to the contact limit
    ("le-lmu", 10.0, 1e-5, 1.0, 1.0, _le_lmu_loop),  # direct coupling plus the e/mu loop at q^2 = 2 m_e T
])
def test_light_mediator_counts_against_scipy(cr51, name, mass, g, q_nu, q_e, loop):
    """Counts per bin with a light vector against SciPy quad of eq. (6) with recoil-dependent couplings
    (tests/reference_nue.py); 1e-9: the reference's quad tolerances (measured ~1e-15 for B-L)."""
    k = cr51["a"]
    ours = np.asarray(expected_counts(LightZPrime(mass, g), k, get_model(name)))
    gl, gr = _light_couplings(g, mass, q_nu, q_e, loop)
    theirs = ref.counts_per_bin(5.0, 100.0, np.asarray(k.edges_kev) / 1e3, gl=gl, gr=gr)
    np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-9)
    sm = np.asarray(expected_counts(LightZPrime(mass, 0.0), k, get_model(name)))
    assert abs(ours.sum() / sm.sum() - 1) > 1e-3                   # a visible effect, not a rounding


def test_light_mediator_heavy_limit_is_a_contact_interaction(cr51):
    """m_Z'^2 >> 2 m_e T_e: constant delta = g^2 Q'_nu Q'_e / (2 sqrt2 G_F m^2), i.e. the closed form at
    shifted couplings; 1e-9: q^2/m^2 <= 6e-11 and the reference's quad."""
    k = cr51["b"]
    mass, g = 1e5, 0.3
    delta = g * g / (2 * math.sqrt(2) * ref.G_F * mass * mass)                # B-L: Q'_nu Q'_e = +1
    ours = np.asarray(expected_counts(LightZPrime(mass, g), k, get_model("b-l")))
    theirs = ref.counts_per_bin(5.0, 50.0, np.asarray(k.edges_kev) / 1e3, gl=-0.5 + S2W_TREE + 1.0 + delta,
                                gr=S2W_TREE + delta)
    np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-9)
    assert delta > 1e-2


@pytest.mark.parametrize("name", ["b-l", "universal", "le-ltau", "dark-photon"])
def test_light_polynomial_equals_full_counts(cr51, name):
    """delta g is proportional to g^2, so the counts are exactly quadratic in x = g^2 at fixed mass."""
    k, model = cr51["c"], get_model(name)
    for mass in (0.05, 20.0):
        c = counts_polynomial(k, model, mass)
        for g in ((1e-6, 1e-5) if name != "dark-photon" else (0.1, 0.5)):
            full = np.asarray(expected_counts(LightZPrime(mass, g), k, model))
            np.testing.assert_allclose(c[0] + g * g * (c[1] + g * g * c[2]), full, rtol=1e-12, atol=1e-9)


def test_light_mediator_g0_is_the_sm_and_gradients_are_finite(cr51):
    """g = 0 gives the tree-level SM counts bit for bit; the gradient of eq. (23) in (m, g) is finite at
    g = 0 (zero in g) and at the end-point bin, and matches finite differences at a point."""
    k, model = cr51["a"], get_model("b-l")
    sm = expected_counts(None, k, MODELS["sm"])
    np.testing.assert_array_equal(np.asarray(expected_counts(LightZPrime(3.0, 0.0), k, model)), np.asarray(sm))

    def chi2(m, g):
        return electron.chi2_gaussian_sm(expected_counts(LightZPrime(m, g), k, model), sm, k.has_events)

    grad = jax.grad(chi2, argnums=(0, 1))(3.0, 0.0)
    assert all(np.isfinite(float(x)) for x in grad) and float(grad[1]) == 0.0
    dm, dg = jax.grad(chi2, argnums=(0, 1))(3.0, 2e-6)
    h_m, h_g = 3e-4, 2e-10                            # central differences at 1e-4 relative steps: O(h^2) ~ 1e-8
    assert float(dm) == pytest.approx(float(chi2(3.0 + h_m, 2e-6) - chi2(3.0 - h_m, 2e-6)) / (2 * h_m), rel=1e-6)
    assert float(dg) == pytest.approx(float(chi2(3.0, 2e-6 + h_g) - chi2(3.0, 2e-6 - h_g)) / (2 * h_g), rel=1e-6)
    end_bin = int(np.asarray(k.has_events).sum()) - 1
    d = jax.grad(lambda g: expected_counts(LightZPrime(3.0, g), k, model)[end_bin])(2e-6)
    assert np.isfinite(float(d)) and float(d) != 0.0


def test_light_mediator_with_an_antineutrino_source(tmp_path):
    """nubar_e: g_L and g_R exchange roles in eq. (6), the light mediator's delta included."""
    text = _preset_files()["cr51-lxe-a"].read_text()
    path = tmp_path / "anti.toml"
    path.write_text(text.replace('flavour = "nu_e"', 'flavour = "nubar_e"').replace('"cr51-lxe-a"', '"anti"'))
    k = build_kernel(load_experiment(str(path)))
    ours = np.asarray(expected_counts(LightZPrime(1.0, 3e-6), k, get_model("b-l")))
    gl, gr = _light_couplings(3e-6, 1.0, -1.0, -1.0)
    theirs = ref.counts_per_bin(5.0, 100.0, np.asarray(k.edges_kev) / 1e3, gl=gr, gr=gl)
    np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-9)


def test_light_nue_combines_with_cevns_in_one_analysis(capsys):
    """sensitivity with the 51Cr-LXe nu-e experiment and a CEvNS one: the combined Delta chi^2 is the sum,
    so the combined limit is below each alone (B-L couples to electrons and quarks)."""
    from zprime_jax.cli.main import main

    def limit(*names):
        argv = ["sensitivity", "--model", "b-l", "--masses-mev", "10", "--json", "--quiet"]
        for n in names:
            argv += ["--experiment", n]
        assert main(argv) == 0
        return json.loads(capsys.readouterr().out)["limits"][0]["coupling"]

    nue, cevns, both = limit("cr51-lxe-c"), limit("ess-csi"), limit("cr51-lxe-c", "ess-csi")
    assert both < min(nue, cevns) and 0.3 < nue / cevns < 3      # comparable reach: the combination matters


def test_measurement_refuses_cevns_settings(cr51):
    with pytest.raises(ValueError, match="chi2"):
        heavy.measurement(cr51["a"], form="projection")
    with pytest.raises(ValueError, match="sigma_stat"):
        heavy.measurement(cr51["a"], sigma_stat=0.1)
