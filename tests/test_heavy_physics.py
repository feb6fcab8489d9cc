"""Heavy-Z' building blocks: radiative SM couplings, Left-Right and E6 models,
the symmetrized Fermi form factor, SNS and reactor sources.

Spec: Miranda, Papoulias, Tortola, Valle, arXiv:2002.01482 (the heavy-Z'
paper, /work/shared/papers/neutral-gauge-bosons-miranda-2020.txt), section 2
(eqs. 1-5, 7-15) and section 3.1, with /work/shared/paper-notes.md. The
reference values below are re-derived here from the printed equations, not
taken from the package. Every tolerance carries its reason.
"""

from __future__ import annotations

import dataclasses
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.test_util import check_grads
from scipy import integrate

from zprime_jax.kernels import rates
from zprime_jax.physics import constants, cross_sections, fluxes, form_factors, models, nuclei
from zprime_jax.physics.models import MODELS, HeavyZPrime

# --- the paper's numbers (eq. 3 and below it; eq. 7) ------------------------
S2Z, RHO, KAPPA = 0.2312, 1.0082, 0.9972
LUL, LDL, LDR = -0.0031, -0.0025, 3.7e-5
LUR = LDR / 2.0
RHO_E, KAPPA_E = 1.0128, 0.9963
M_Z_GEV = 91.1876
BLIND_BOTH = -math.sqrt(5.0 / 32.0)
HEAVY = ("lr", "e6-chi", "e6-psi", "e6-eta", "e6")

# Machine-precision tolerance for couplings of size ~1 built from a handful of
# float64 operations in a different order than the reference.
EXACT = 1e-14


def paper_chiral_sm():
    """(g_u^L, g_d^L, g_u^R, g_d^R) of eq. (3), written out."""
    return (RHO * (0.5 - 2.0 / 3.0 * KAPPA * S2Z) + LUL,
            RHO * (-0.5 + 1.0 / 3.0 * KAPPA * S2Z) + LDL,
            RHO * (-2.0 / 3.0 * KAPPA * S2Z) + LUR,
            RHO * (1.0 / 3.0 * KAPPA * S2Z) + LDR)


def paper_weak_charge(Z, N, uL, dL, uR, dR):
    """Q_V of eq. (2)."""
    return (2 * (uL + uR) + (dL + dR)) * Z + ((uL + uR) + 2 * (dL + dR)) * N


def gamma(m_gev):
    return (M_Z_GEV / m_gev) ** 2


def paper_e6_eps(m_gev, c):
    """(eps_u^L, eps_d^L, eps_u^R, eps_d^R) of eq. (13), sin beta >= 0."""
    s = math.sqrt(1.0 - c * c)
    g = gamma(m_gev)
    x = c / math.sqrt(24) - s / 3 * math.sqrt(5 / 8)
    y = 3 * c / (2 * math.sqrt(24)) + s / 6 * math.sqrt(5 / 8)
    eul = -4 * g * S2Z * RHO * x * y
    edr = -8 * g * S2Z * RHO * y * y
    return eul, eul, -eul, edr


def first(x):
    """Flavour 0 of a per-flavour coupling (all flavours are equal for CEvNS)."""
    return float(np.asarray(x).reshape(models.N_FLAVOURS, -1)[0, 0])


def nucleon(model, params, q=0.0):
    gp, gn = model.nucleon_couplings(params, jnp.asarray(q))
    return np.asarray(gp), np.asarray(gn)


# ---------------------------------------------------------------------------
# radiatively corrected SM couplings
# ---------------------------------------------------------------------------

def test_radiative_set_registry_and_values():
    assert set(models.SM_COUPLING_SETS) == {"tree", "radiative"}
    assert models.SM_COUPLING_SETS["tree"] is models.TREE_LEVEL
    r = models.SM_COUPLING_SETS["radiative"]
    uL, dL, uR, dR = paper_chiral_sm()
    np.testing.assert_allclose(r.quark_chiral(), (uL, dL, uR, dR), rtol=0, atol=EXACT)
    gu, gd = r.quark()
    gp, gn = r.nucleon()
    for arr in (gu, gd, gp, gn):
        assert arr.shape == (models.N_FLAVOURS,)
        assert np.ptp(np.asarray(arr)) == 0.0     # the same for every flavour
    np.testing.assert_allclose([gu[0], gd[0]], [uL + uR, dL + dR], rtol=0, atol=EXACT)
    # Hand values: g_p^V = rho (1/2 - 2 kappa s^2) + 2 lambda_u + lambda_d,
    # g_n^V = -rho/2 + lambda_u + 2 lambda_d (s^2 cancels exactly).
    assert float(gp[0]) == pytest.approx(0.030587656704, abs=1e-12)
    assert float(gn[0]) == pytest.approx(-0.5121075, abs=1e-12)
    assert float(gu[0]) == pytest.approx(0.191094271136, abs=1e-12)
    assert float(gd[0]) == pytest.approx(-0.351600885568, abs=1e-12)
    with pytest.raises(ValueError, match="sm_couplings"):
        models.get_sm_couplings("one-loop")


def test_radiative_reduces_to_tree_without_corrections():
    plain = dataclasses.replace(models.RADIATIVE, sin2_theta_w=0.23857, rho_nu_n=1.0, kappa_nu_n=1.0,
                                lambda_u_l=0.0, lambda_d_l=0.0, lambda_u_r=0.0, lambda_d_r=0.0)
    for a, b in zip(plain.nucleon(), models.TREE_LEVEL.nucleon()):
        np.testing.assert_allclose(a, b, rtol=0, atol=EXACT)
    # tree chiral couplings sum to the tree vector couplings
    uL, dL, uR, dR = models.TREE_LEVEL.quark_chiral()
    gu, gd = models.TREE_LEVEL.quark()
    np.testing.assert_allclose([uL + uR, dL + dR], [gu[0], gd[0]], rtol=0, atol=EXACT)


def test_weak_charge_cs133_and_normalisation():
    cs = nuclei.ISOTOPES["Cs133"]
    gp, gn = (float(x[0]) for x in models.RADIATIVE.nucleon())
    q_pkg = float(cross_sections.coherent_charge(cs.Z, cs.N, gp, gn, 1.0))
    q_paper = paper_weak_charge(cs.Z, cs.N, *paper_chiral_sm())
    # 1e-12: Q ~ 38 from ~10 float64 operations
    assert q_pkg == pytest.approx(q_paper, abs=1e-12)
    assert q_pkg == pytest.approx(-38.26206388128, abs=1e-9)
    # Q_W = -2 Q_V = 76.52 (tree level with s^2 = 0.23857: 75.49)
    assert -2 * q_pkg == pytest.approx(76.52412776, abs=1e-7)
    # The package's cross section with this Q is the paper's eq. (1) at F = 1.
    e_nu, e_r, m_t = 30.0, 0.01, cs.mass_mev
    sigma = float(cross_sections.cevns_dsigma_der(e_nu, e_r, m_t, q_pkg))
    paper = constants.G_FERMI_MEV2**2 * m_t / math.pi * q_paper**2 * (1 - m_t * e_r / (2 * e_nu**2))
    assert sigma == pytest.approx(paper, rel=1e-14)
    # Tree level: Q_V = -Q_W/2 with Q_W = N - (1 - 4 s^2) Z (no factor between the papers).
    gpt, gnt = (float(x[0]) for x in models.TREE_LEVEL.nucleon())
    s2 = models.TREE_LEVEL.sin2_theta_w
    assert cs.Z * gpt + cs.N * gnt == pytest.approx(-(cs.N - (1 - 4 * s2) * cs.Z) / 2, abs=1e-12)


def test_sm_electron_couplings():
    gl, gr = models.sm_electron_couplings(models.RADIATIVE)
    nc_l = RHO_E * (-0.5 + KAPPA_E * S2Z)
    want_l = [nc_l + (1.0 if f in ("nu_e", "nubar_e") else 0.0) for f in models.FLAVOURS]
    np.testing.assert_allclose(gl, want_l, rtol=0, atol=EXACT)
    np.testing.assert_allclose(gr, RHO_E * KAPPA_E * S2Z, rtol=0, atol=EXACT)
    gl0, gr0 = MODELS["sm"].electron_couplings(None)
    s2 = models.TREE_LEVEL.sin2_theta_w
    assert float(gl0[1]) == pytest.approx(-0.5 + s2, abs=EXACT)
    assert float(gr0[1]) == pytest.approx(s2, abs=EXACT)


# ---------------------------------------------------------------------------
# Left-Right and E6 models
# ---------------------------------------------------------------------------

def test_heavy_models_registered():
    for name in HEAVY:
        model = MODELS[name]
        assert model.name == name
        assert model.sm is models.RADIATIVE
        hash(model)                                          # static under jit
    assert models.HEAVY_MODELS == HEAVY
    assert MODELS["e6-chi"].cos_beta == 1.0
    assert MODELS["e6-psi"].cos_beta == 0.0
    assert MODELS["e6-eta"].cos_beta == pytest.approx(math.sqrt(3 / 8), abs=0)
    assert MODELS["e6"].cos_beta is None
    assert models.MODELS["sm"].sm is models.TREE_LEVEL      # light models keep tree level
    assert models.get_model("lr", sm_couplings="tree").sm is models.TREE_LEVEL
    assert models.get_model("lr", 0.24).sm.sin2_theta_w == 0.24
    assert models.get_model("lr", 0.24).sm.rho_nu_n == RHO
    with pytest.raises(ValueError, match="cos_beta"):
        models.E6(cos_beta=1.5)


@pytest.mark.parametrize("m_gev", [80.0, 200.0, 1500.0])
def test_left_right_against_eq8(m_gev):
    g = gamma(m_gev)
    A = 1 + S2Z**2 / (1 - 2 * S2Z) * g
    B = S2Z * (1 - S2Z) / (1 - 2 * S2Z) * g
    fuL = RHO * A * (0.5 - 2 / 3 * KAPPA * S2Z) - B * 2 / 3 * S2Z + LUL
    fdL = RHO * A * (-0.5 + 1 / 3 * KAPPA * S2Z) + B * 1 / 3 * S2Z + LDL
    fuR = RHO * A * (-2 / 3 * KAPPA * S2Z) + B * (0.5 - 2 / 3 * S2Z) + LUR
    fdR = RHO * A * (1 / 3 * KAPPA * S2Z) + B * (-0.5 + 1 / 3 * S2Z) + LDR
    lr = MODELS["lr"]
    p = HeavyZPrime(m_gev)
    np.testing.assert_allclose(lr.lr_factors(p), (A, B), rtol=1e-15)
    np.testing.assert_allclose(lr.quark_chiral(p), (fuL, fdL, fuR, fdR), rtol=0, atol=EXACT)
    q = jnp.linspace(0.0, 200.0, 7).reshape(7, 1) * jnp.ones((1, 3))
    gp, gn = nucleon(lr, p, q)
    assert gp.shape == gn.shape == (models.N_FLAVOURS, 7, 3)
    assert np.ptp(gp) == 0.0 and np.ptp(gn) == 0.0          # contact limit: no q, no flavour dependence
    assert gp.flat[0] == pytest.approx(2 * (fuL + fuR) + fdL + fdR, abs=EXACT)
    assert gn.flat[0] == pytest.approx(fuL + fuR + 2 * (fdL + fdR), abs=EXACT)


@pytest.mark.parametrize("c", [1.0, 0.0, math.sqrt(3 / 8), 0.3, -0.7, BLIND_BOTH, -1.0])
def test_e6_against_eq13(c):
    m = 250.0
    eps = paper_e6_eps(m, c)
    e6 = MODELS["e6"]
    p = HeavyZPrime(m, c)
    np.testing.assert_allclose(e6.quark_epsilons(p), eps, rtol=0, atol=EXACT)
    uL, dL, uR, dR = paper_chiral_sm()
    fu = uL + uR + eps[0] + eps[2]
    fd = dL + dR + eps[1] + eps[3]
    gp, gn = nucleon(e6, p)
    assert first(gp) == pytest.approx(2 * fu + fd, abs=EXACT)
    assert first(gn) == pytest.approx(fu + 2 * fd, abs=EXACT)


@pytest.mark.parametrize("name,c", [("e6-chi", 1.0), ("e6-psi", 0.0), ("e6-eta", math.sqrt(3 / 8))])
def test_named_e6_points_equal_generic(name, c):
    for m in (120.0, 700.0):
        a = nucleon(MODELS[name], HeavyZPrime(m))            # cos_beta ignored (NaN default)
        b = nucleon(MODELS["e6"], HeavyZPrime(m, c))
        np.testing.assert_array_equal(a[0], b[0])
        np.testing.assert_array_equal(a[1], b[1])


def test_cevns_blind_points():
    """Paper after eq. 13 / paper-notes 1: CEvNS is blind at cos beta = 0 (psi) AND at -sqrt(5/32).

    psi: eps_u^V = eps_d^V = 0 although the chiral eps are not zero. At
    cos beta = -sqrt(5/32) the neutrino's Z' charge vanishes, so all four
    eps_q^{L,R} vanish. Nowhere else on [-1, 1] does the CEvNS coupling move.
    """
    sm = nucleon(MODELS["sm"].__class__(sm=models.RADIATIVE), None)
    for m in (50.0, 100.0, 1000.0):
        psi = nucleon(MODELS["e6-psi"], HeavyZPrime(m))
        np.testing.assert_allclose(psi[0], sm[0], rtol=0, atol=EXACT)
        np.testing.assert_allclose(psi[1], sm[1], rtol=0, atol=EXACT)
        eps_psi = MODELS["e6-psi"].quark_epsilons(HeavyZPrime(m))
        assert abs(float(eps_psi[0])) > 1e-4                 # chiral parts do not vanish
        eps_b = MODELS["e6"].quark_epsilons(HeavyZPrime(m, BLIND_BOTH))
        np.testing.assert_allclose(eps_b, 0.0, rtol=0, atol=1e-16)
        blind = nucleon(MODELS["e6"], HeavyZPrime(m, BLIND_BOTH))
        np.testing.assert_allclose(blind[0], sm[0], rtol=0, atol=EXACT)
        np.testing.assert_allclose(blind[1], sm[1], rtol=0, atol=EXACT)
    # eps_d^V = -16 gamma s^2 rho c (3c/(2 sqrt24) + s/6 sqrt(5/8)) / sqrt24: zero only at the two points
    cs = np.linspace(-1, 1, 400)                       # step 2/399, avoids hitting a root exactly
    shift = np.array([first(nucleon(MODELS["e6"], HeavyZPrime(100.0, c))[1]) for c in cs]) - first(sm[1])
    sign_changes = cs[:-1][np.sign(shift[:-1]) != np.sign(shift[1:])]
    np.testing.assert_allclose(np.sort(sign_changes), [BLIND_BOTH, 0.0], atol=2 / 399)  # one grid step
    assert np.all(np.abs(shift[(np.abs(cs) > 0.01) & (np.abs(cs - BLIND_BOTH) > 0.01)]) > 1e-5)
    assert models.E6_BLIND_COS_BETA_CEVNS == (0.0, BLIND_BOTH)


def test_electron_blind_point_and_eq15():
    """nu-e (eq. 15): only cos beta = -sqrt(5/32) is blind; psi is not."""
    e6 = MODELS["e6"]
    m = 300.0
    for c in (1.0, 0.0, 0.5, -0.8, BLIND_BOTH):
        s = math.sqrt(1 - c * c)
        pre = 2 * gamma(m) * S2Z * RHO_E
        el = pre * (3 * c / (2 * math.sqrt(6)) + s / 3 * math.sqrt(5 / 8)) ** 2
        er = pre * (c / (2 * math.sqrt(6)) - s / 3 * math.sqrt(5 / 8)) * (
            3 * c / math.sqrt(24) + s / 3 * math.sqrt(5 / 8))
        np.testing.assert_allclose(e6.electron_epsilons(HeavyZPrime(m, c)), (el, er), rtol=0, atol=EXACT)
        gl, gr = e6.electron_couplings(HeavyZPrime(m, c))
        sl, sr = models.sm_electron_couplings(models.RADIATIVE)
        np.testing.assert_allclose(gl, sl + el, rtol=0, atol=EXACT)
        np.testing.assert_allclose(gr, sr + er, rtol=0, atol=EXACT)
    np.testing.assert_allclose(e6.electron_epsilons(HeavyZPrime(m, BLIND_BOTH)), 0.0, rtol=0, atol=1e-16)
    assert float(MODELS["e6-psi"].electron_epsilons(HeavyZPrime(m))[0]) > 1e-3
    assert models.E6_BLIND_COS_BETA_ELECTRON == (BLIND_BOTH,)


def test_left_right_electron_readings():
    """Eq. (10). Default 'as-printed': g_e^L of eq. (7) including the CC +1 of nu_e (reproduces
    the paper's Table III); 'nc-only': A, B act on the neutral-current couplings, the +1 untouched."""
    p = HeavyZPrime(400.0)
    lr = MODELS["lr"]
    assert lr.electron_lr_reading == "as-printed"
    A, B = (float(x) for x in lr.lr_factors(p))
    gl_nc, gr = RHO_E * (-0.5 + KAPPA_E * S2Z), RHO_E * KAPPA_E * S2Z
    cc = np.array([1.0 if f in ("nu_e", "nubar_e") else 0.0 for f in models.FLAVOURS])
    nc_only = dataclasses.replace(lr, electron_lr_reading="nc-only")
    fl, fr = nc_only.electron_couplings(p)
    np.testing.assert_allclose(fl, A * gl_nc + B * gr + cc, rtol=0, atol=EXACT)
    np.testing.assert_allclose(fr, A * gr + B * gl_nc, rtol=0, atol=EXACT)
    pl, pr = lr.electron_couplings(p)
    np.testing.assert_allclose(pl, A * (gl_nc + cc) + B * gr, rtol=0, atol=EXACT)
    np.testing.assert_allclose(pr, A * gr + B * (gl_nc + cc), rtol=0, atol=EXACT)
    mu = models.FLAVOURS.index("nu_mu")
    assert float(pl[mu]) == float(fl[mu]) and float(pr[mu]) == float(fr[mu])
    with pytest.raises(ValueError, match="electron_lr_reading"):
        dataclasses.replace(lr, electron_lr_reading="other")


@pytest.mark.parametrize("name", HEAVY)
def test_decoupling_limit_gives_sm(name):
    model = MODELS[name]
    sm_model = models.StandardModel(sm=model.sm)
    sm_p, sm_n = nucleon(sm_model, None, jnp.array([0.0, 50.0]))
    for m in (1e9, math.inf):                      # gamma = 8e-15 and exactly 0
        p = HeavyZPrime(m, 0.4)
        gp, gn = nucleon(model, p, jnp.array([0.0, 50.0]))
        np.testing.assert_allclose(gp, sm_p, rtol=0, atol=1e-12)
        np.testing.assert_allclose(gn, sm_n, rtol=0, atol=1e-12)
        el, er = model.electron_couplings(p)
        sl, sr = models.sm_electron_couplings(model.sm)
        np.testing.assert_allclose(el, sl, rtol=0, atol=1e-12)
        np.testing.assert_allclose(er, sr, rtol=0, atol=1e-12)


@pytest.mark.parametrize("name,mass,c", [("lr", 150.0, 0.0), ("e6-chi", 300.0, 0.0), ("e6", 300.0, 0.3),
                                         ("e6", 120.0, -0.9), ("e6", 500.0, BLIND_BOTH)])
def test_coupling_gradients(name, mass, c):
    model = MODELS[name]
    q = jnp.array([0.0, 30.0])

    def f(m, cb):
        gp, gn = model.nucleon_couplings(HeavyZPrime(m, cb), q)
        el, er = model.electron_couplings(HeavyZPrime(m, cb))
        return gp, gn, el, er

    # eps: central differences, step 1e-3 on O(100) GeV and O(1) cos beta
    check_grads(f, (mass, c), order=2, modes=("fwd", "rev"), eps=1e-3)
    g = jax.jacfwd(f, argnums=(0, 1))(mass, c)
    assert all(np.all(np.isfinite(np.asarray(x))) for x in jax.tree_util.tree_leaves(g))
    # d gamma/dM = -2 gamma/M: d g_n/dM = -2 (g_n - g_n^SM) / M for every model
    sm_n = first(models.RADIATIVE.nucleon()[1])
    gn = first(f(mass, c)[1])
    assert first(g[1][0]) == pytest.approx(-2 * (gn - sm_n) / mass, rel=1e-10, abs=1e-15)


def test_heavy_models_jit_vmap_and_rates(kernels):
    model = MODELS["e6"]
    masses = jnp.array([100.0, 200.0, 400.0])
    cbs = jnp.array([0.1, -0.5, 0.9])
    q = jnp.ones((2, 5))
    gp, gn = jax.jit(jax.vmap(lambda m, c: model.nucleon_couplings(HeavyZPrime(m, c), q)))(masses, cbs)
    assert gp.shape == (3, models.N_FLAVOURS, 2, 5)
    assert first(gp[1]) == pytest.approx(first(nucleon(model, HeavyZPrime(200.0, -0.5))[0]), abs=EXACT)
    # Through the rate kernel: M -> inf is the radiative SM; psi is blind; LR changes the counts.
    k = kernels["ess-ar"]
    sm_counts = rates.expected_counts(None, k, models.get_model("sm", sm_couplings="radiative"))
    np.testing.assert_allclose(rates.expected_counts(HeavyZPrime(math.inf), k, MODELS["lr"]), sm_counts,
                               rtol=1e-15)
    np.testing.assert_allclose(rates.expected_counts(HeavyZPrime(100.0), k, MODELS["e6-psi"]), sm_counts,
                               rtol=1e-14)
    assert float(rates.expected_counts(HeavyZPrime(100.0), k, MODELS["lr"])[0]) > 1.5 * float(sm_counts[0])


def test_check_heavy_params():
    models.check_heavy_params(HeavyZPrime(100.0), MODELS["lr"])
    models.check_heavy_params(HeavyZPrime(math.inf, 0.5), MODELS["e6"])
    with pytest.raises(ValueError, match="mass_gev"):
        models.check_heavy_params(HeavyZPrime(-1.0), MODELS["lr"])
    with pytest.raises(ValueError, match="cos_beta"):
        models.check_heavy_params(HeavyZPrime(100.0), MODELS["e6"])          # NaN default
    with pytest.raises(ValueError, match="cos_beta"):
        models.check_heavy_params(HeavyZPrime(100.0, 1.2), MODELS["e6"])
    models.check_heavy_params(HeavyZPrime(100.0, 1.2), MODELS["e6-chi"])    # ignored there
    assert np.all(np.isnan(nucleon(MODELS["e6"], HeavyZPrime(100.0))[0]))   # forgotten cos_beta is loud


# ---------------------------------------------------------------------------
# symmetrized Fermi form factor (eqs. 4-5)
# ---------------------------------------------------------------------------

def sf_density(r, c, a):
    return math.sinh(c / a) / (math.cosh(r / a) + math.cosh(c / a))


def sf_numerical(q_mev, c, a):
    """F(q) = int rho r sin(qr) dr / (q int rho r^2 dr), by scipy quad (QAWF-like sin weight)."""
    k = q_mev / constants.HBARC_MEV_FM
    r_max = c + 50 * a                                  # density < e^-50 of its centre beyond
    norm = integrate.quad(lambda r: sf_density(r, c, a) * r * r, 0, r_max, epsabs=0, epsrel=1e-12,
                          limit=200)[0]
    num = integrate.quad(lambda r: sf_density(r, c, a) * r, 0, r_max, weight="sin", wvar=k,
                         epsabs=1e-14, epsrel=1e-12, limit=400)[0]
    return num / (k * norm)


def sf_printed(q_mev, c, a):
    """Eq. (4) as printed (loses digits at small q)."""
    Q = q_mev / constants.HBARC_MEV_FM
    x, y = Q * c, math.pi * Q * a
    return 3 / (x * (x * x + y * y)) * (y / math.sinh(y)) * (y * math.sin(x) / math.tanh(y) - x * math.cos(x))


def test_sf_parameters_eq5():
    c, a = form_factors.symmetrized_fermi_parameters(133)
    assert float(c) == pytest.approx(1.23 * 133 ** (1 / 3) - 0.60, rel=1e-15)
    assert a == 0.52
    # its rms radius, sqrt(3/5 c^2 + 7/5 pi^2 a^2), is 4.8045 fm: Cs's 4.80 of [LM] Table 1
    assert float(form_factors.symmetrized_fermi_rms_radius_fm(c, a)) == pytest.approx(4.8045219, abs=1e-6)


@pytest.mark.parametrize("A", [28, 40, 72, 133])
def test_sf_unity_at_zero_and_numerical_transform(A):
    c, a = (float(x) for x in form_factors.symmetrized_fermi_parameters(A))
    assert float(form_factors.symmetrized_fermi(0.0, c, a)) == 1.0
    assert np.asarray(form_factors.symmetrized_fermi(jnp.zeros(3), c, a)).tolist() == [1.0] * 3
    qs = [0.5, 2.0, 10.0, 30.0, 60.0, 100.0, 150.0, 250.0, 400.0]
    got = np.asarray(form_factors.symmetrized_fermi_mass_number(jnp.asarray(qs), A))
    want = np.array([sf_numerical(q, c, a) for q in qs])
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-8)    # the brief's tolerance (found: ~1e-14)
    # and the printed closed form where it is well conditioned (q >= 10 MeV)
    np.testing.assert_allclose(got[2:], [sf_printed(q, c, a) for q in qs[2:]], rtol=0, atol=1e-13)


def test_sf_small_q_expansion_and_branch_continuity():
    c, a = (float(x) for x in form_factors.symmetrized_fermi_parameters(133))
    r2 = float(form_factors.symmetrized_fermi_rms_radius_fm(c, a)) ** 2
    # F = 1 - q^2 <r^2>/6 + ...: F''(0) = -<r^2>/3 (q in fm^-1)
    d2 = jax.grad(jax.grad(form_factors.symmetrized_fermi))(0.0, c, a) * constants.HBARC_MEV_FM**2
    assert float(d2) == pytest.approx(-r2 / 3, rel=1e-12)
    assert float(jax.grad(form_factors.symmetrized_fermi)(0.0, c, a)) == 0.0
    # the series branches switch at pi q a = 0.1 and at x, y = 1e-3: no jump
    for arg in (0.1, 1e-3):
        for scale in (math.pi * a, c):
            q0 = arg / scale * constants.HBARC_MEV_FM
            dq = 1e-4 * q0      # central difference: O(dq^3) error, far below 1e-14 here
            lo, hi = (float(form_factors.symmetrized_fermi(q0 + s * dq, c, a)) for s in (-1, 1))
            slope = float(jax.grad(form_factors.symmetrized_fermi)(q0, c, a))
            # A jump would show here. Allowed: the closed form of 3(y coth y - 1)/y^2 is good to
            # ~3 eps/y^2 = 7e-14 at the switch y = 0.1, weighted by w_y = 0.08 in F -> ~5e-15.
            assert hi - lo == pytest.approx(2 * dq * slope, abs=1e-14)


def test_sf_gradients():
    c, a = (float(x) for x in form_factors.symmetrized_fermi_parameters(133))
    # q = 0 (series branches), 1e-4 MeV (series, q != 0), 40 MeV (closed forms)
    for q, order in ((0.0, 2), (1e-4, 1), (40.0, 2)):
        check_grads(form_factors.symmetrized_fermi, (q, c, a), order=order, modes=("fwd", "rev"), eps=1e-4)
    check_grads(form_factors.symmetrized_fermi_mass_number, (0.0, 133.0), order=1, modes=("fwd", "rev"))
    g = jax.jacfwd(form_factors.symmetrized_fermi, argnums=(0, 1, 2))(jnp.linspace(0, 300, 31), c, a)
    assert all(np.all(np.isfinite(np.asarray(x))) for x in g)


def test_sf_close_to_helm_for_cs():
    cs = nuclei.ISOTOPES["Cs133"]
    q = jnp.linspace(0.0, 60.0, 61)        # |q| at ESS/COHERENT CEvNS recoils (< ~45 keV on Cs)
    sf = np.asarray(form_factors.form_factor_for("symmetrized-fermi", cs)(q))
    helm = np.asarray(form_factors.form_factor_for("helm", cs)(q))
    np.testing.assert_allclose(sf, helm, rtol=0.03)    # sanity; found < 0.05%
    assert np.max(np.abs(sf / helm - 1)) < 1e-3


def test_form_factor_registry():
    cs = nuclei.ISOTOPES["Cs133"]
    q = jnp.array([0.0, 20.0, 80.0])
    # "helm" keeps its (q, rms radius) call (rates.py) and also takes the isotope
    np.testing.assert_array_equal(form_factors.FORM_FACTORS["helm"](q, cs.rms_charge_radius_fm),
                                  form_factors.helm(q, cs.rms_charge_radius_fm))
    np.testing.assert_array_equal(form_factors.FORM_FACTORS["helm"](q, cs),
                                  form_factors.helm(q, cs.rms_charge_radius_fm))
    np.testing.assert_array_equal(form_factors.FORM_FACTORS["symmetrized-fermi"](q, cs),
                                  form_factors.symmetrized_fermi_mass_number(q, 133))
    np.testing.assert_array_equal(form_factors.form_factor_for("symmetrized-fermi", cs)(q),
                                  form_factors.symmetrized_fermi_mass_number(q, 133))
    with pytest.raises(TypeError, match="needs the isotope"):
        form_factors.FORM_FACTORS["symmetrized-fermi"](q, cs.rms_charge_radius_fm)
    with pytest.raises(ValueError, match="allowed"):
        form_factors.form_factor_for("gaussian", cs)
    # usable under jit with the isotope static
    f = jax.jit(form_factors.form_factor_for("symmetrized-fermi", cs))
    np.testing.assert_allclose(f(q), form_factors.symmetrized_fermi_mass_number(q, 133), rtol=1e-15)


# ---------------------------------------------------------------------------
# sources: SNS and reactor
# ---------------------------------------------------------------------------

HM = {  # the brief's Huber-Mueller coefficients, E in MeV
    "U235": (4.367, -4.577, 2.100, -5.294e-1, 6.186e-2, -2.777e-3),
    "Pu239": (4.757, -5.392, 2.563, -6.596e-1, 7.820e-2, -3.536e-3),
    "Pu241": (2.990, -2.882, 1.278, -3.343e-1, 3.905e-2, -1.754e-3),
    "U238": (4.833e-1, 1.927e-1, -1.283e-1, -6.762e-3, 2.233e-3, -1.536e-4),
}
FRACTIONS = {"U235": 0.58, "U238": 0.07, "Pu239": 0.30, "Pu241": 0.05}
E_FISSION = {"U235": 201.92, "U238": 205.52, "Pu239": 209.99, "Pu241": 213.60}


def hm_mixture(e):
    return sum(f * math.exp(sum(a * e**k for k, a in enumerate(HM[iso]))) for iso, f in FRACTIONS.items())


def test_sns_source():
    got = fluxes.sns_source(1.5e23, 19.3)
    want = fluxes.pion_dar_source(0.08, 1.5e23, 19.3)
    assert got == want
    assert got[0].fluence_per_cm2 == pytest.approx(0.08 * 1.5e23 / (4 * math.pi * 1930.0**2), rel=1e-15)


def test_reactor_spectrum_values_and_join():
    for e in (2.0, 3.3, 5.0, 7.9, 9.5):
        assert float(fluxes.reactor_spectrum_per_fission(e)) == pytest.approx(hm_mixture(e), rel=1e-13)
    # Kopeikin part: the table points and linear in between
    for (e0, v0), (e1, v1) in zip(fluxes.KOPEIKIN_TABLE[:-1], fluxes.KOPEIKIN_TABLE[1:]):
        assert float(fluxes.reactor_spectrum_per_fission(e0)) == pytest.approx(v0, rel=1e-15)
        mid = 0.5 * (e0 + e1)
        assert float(fluxes.reactor_spectrum_per_fission(mid)) == pytest.approx(0.5 * (v0 + v1), rel=1e-12)
    below = float(fluxes.reactor_spectrum_per_fission(2.0 - 1e-12))
    above = float(fluxes.reactor_spectrum_per_fission(2.0))
    assert below == pytest.approx(1.30, rel=1e-9)
    assert above == pytest.approx(1.2540952172, rel=1e-9)
    assert abs(below / above - 1) < 0.04                    # the join: ratio 1.0366
    # outside the support: zero
    out = np.asarray(fluxes.reactor_spectrum_per_fission(jnp.array([0.0, 0.005, 10.0001, 12.0])))
    assert out.tolist() == [0.0, 0.0, 0.0, 0.0]


def test_reactor_positivity():
    bp = fluxes.reactor_breakpoints_mev()
    e = jnp.linspace(bp[0], bp[-1], 20001)
    s = np.asarray(fluxes.reactor_spectrum_per_fission(e))
    assert np.all(s > 0)
    (comp,) = fluxes.reactor_source(3900.0, 17.0, 365.25)
    assert np.all(np.asarray(comp.spectrum(e)) > 0)


def test_neutrinos_per_fission():
    kop = np.trapezoid([v for _, v in fluxes.KOPEIKIN_TABLE], [e for e, _ in fluxes.KOPEIKIN_TABLE])
    assert fluxes.kopeikin_neutrinos_per_fission() == pytest.approx(kop, rel=1e-14)
    assert kop == pytest.approx(5.0858695, rel=1e-12)
    hm10 = integrate.quad(hm_mixture, 2.0, 10.0, epsabs=0, epsrel=1e-13)[0]
    hm8 = integrate.quad(hm_mixture, 2.0, 8.0, epsabs=0, epsrel=1e-13)[0]
    assert fluxes.huber_mueller_neutrinos_per_fission() == pytest.approx(hm10, rel=1e-12)
    assert fluxes.huber_mueller_neutrinos_per_fission(e_max_mev=8.0) == pytest.approx(hm8, rel=1e-12)
    assert hm10 == pytest.approx(1.5955832, rel=1e-7)
    assert hm8 == pytest.approx(1.5951445, rel=1e-7)
    assert fluxes.neutrinos_per_fission() == pytest.approx(kop + hm10, rel=1e-14)   # 6.6814527
    assert fluxes.mean_energy_per_fission_mev() == pytest.approx(
        sum(FRACTIONS[i] * E_FISSION[i] for i in FRACTIONS), rel=1e-15)            # 205.177 MeV


def test_reactor_source_normalisation_and_fluence():
    p_mw, l_m, days = 3900.0, 17.0, 365.25
    (comp,) = fluxes.reactor_source(p_mw, l_m, days)
    assert comp.flavour == "nubar_e" and comp.line_energy_mev is None
    bp = comp.breakpoints_mev
    assert bp == fluxes.reactor_breakpoints_mev()
    assert bp[0] == 0.010 and bp[-1] == 10.0 and 2.0 in bp
    norm = sum(integrate.quad(lambda e: float(comp.spectrum(e)), lo, hi, epsabs=0, epsrel=1e-12)[0]
               for lo, hi in zip(bp[:-1], bp[1:]))
    assert norm == pytest.approx(1.0, abs=1e-12)
    fissions = p_mw * 1e6 / (205.177 * 1.602176634e-13)
    n_nu = fissions * fluxes.neutrinos_per_fission() * days * 86400.0
    assert comp.fluence_per_cm2 == pytest.approx(n_nu / (4 * math.pi * (l_m * 100) ** 2), rel=1e-12)
    # ~2.3e13 /cm^2/s at 17 m from 3.9 GW, the usual CONUS-like figure
    assert comp.fluence_per_cm2 / (days * 86400) == pytest.approx(2.18e13, rel=0.01)
    # one spectrum object per (fractions, e_max): jit caches keyed on the source are reused
    assert fluxes.reactor_source(10.0, 2.0, 1.0)[0].spectrum is comp.spectrum


def test_reactor_source_options_and_errors():
    (u5,) = fluxes.reactor_source(1.0, 2.0, 1.0, fission_fractions={"U235": 1.0})
    assert fluxes.mean_energy_per_fission_mev({"U235": 1.0}) == 201.92
    assert float(u5.spectrum(5.0)) * fluxes.neutrinos_per_fission({"U235": 1.0}) == pytest.approx(
        math.exp(sum(a * 5.0**k for k, a in enumerate(HM["U235"]))), rel=1e-13)
    with pytest.raises(ValueError, match="fission_fractions"):
        fluxes.reactor_source(1.0, 2.0, 1.0, fission_fractions={"U235": 0.5})
    with pytest.raises(ValueError, match="fission_fractions"):
        fluxes.reactor_source(1.0, 2.0, 1.0, fission_fractions={"Th232": 1.0})
    with pytest.raises(ValueError, match="distance_m"):
        fluxes.reactor_source(1.0, 0.0, 1.0)
    with pytest.raises(ValueError, match="flavour"):
        fluxes.reactor_source(1.0, 2.0, 1.0, flavour="nubar_x")
    with pytest.raises(ValueError, match="e_max_mev"):
        fluxes.reactor_breakpoints_mev(1.5)


@pytest.mark.parametrize("iso,e_r_kev", [("Ge72", 0.1), ("Ge72", 1.0), ("Xe132", 0.5), ("Si28", 0.028)])
def test_reactor_folded_weight_against_quad(iso, e_r_kev):
    (comp,) = fluxes.reactor_source(3900.0, 17.0, 1.0)
    m_t = nuclei.ISOTOPES[iso].mass_mev
    e_r = e_r_kev / 1e3
    got = float(fluxes.folded_kinematic_weight(comp, jnp.asarray(e_r), m_t))
    e_min = math.sqrt(m_t * e_r / 2)
    pts = [e_min] + [b for b in comp.breakpoints_mev if b > e_min]
    want = sum(integrate.quad(lambda e: float(comp.spectrum(e)) * (1 - m_t * e_r / (2 * e * e)), lo, hi,
                              epsabs=0, epsrel=1e-12)[0] for lo, hi in zip(pts[:-1], pts[1:]))
    assert got == pytest.approx(want, rel=1e-10)    # 16-node GL per segment; found ~1e-15


def test_cos_beta_gradient_is_finite_at_the_end_points():
    """Issue 14: d/d cos beta at exactly +-1 (the e6-plane grid's end points) is finite.

    There d sin(beta)/d cos(beta) = -c/s is infinite; the convention (docs/conventions.md) takes it
    as 0, so the gradient is the partial derivative at fixed sin beta = 0. Closed form from eq. 13:
    eps_u^L = -4 pre x y with x = c/sqrt24 - s/3 sqrt(5/8), y = 3c/(2 sqrt24) + s/6 sqrt(5/8), so
    d eps_u^L/dc at s = 0 is -4 pre (y + 1.5 x)/sqrt24 = -pre c/2 (c = +-1). Inside (-1, 1) the
    derivative is the exact one (checked against central differences).
    """
    from zprime_jax.physics.heavy_models import sin_beta

    model = MODELS["e6"]
    mass = 300.0
    pre = float(models.heavy_gamma(mass)) * model.sm.sin2_theta_w * model.sm.rho_nu_n

    def eps_ul(c):
        return model.quark_epsilons(HeavyZPrime(mass, c))[0]

    for c in (-1.0, 1.0):
        # the closed form is exact: rounding of a handful of float64 products only
        assert float(jax.grad(eps_ul)(c)) == pytest.approx(-0.5 * pre * c, rel=1e-12)
    # every coupling and its derivatives of first and second order, finite on a grid with the end points
    grid = jnp.linspace(-1.0, 1.0, 9)
    q = jnp.array([0.0, 30.0])

    def couplings(c):
        gp, gn = model.nucleon_couplings(HeavyZPrime(mass, c), q)
        el, er = model.electron_couplings(HeavyZPrime(mass, c))
        return jnp.concatenate([gp.ravel(), gn.ravel(), el.ravel(), er.ravel()])

    for f in (jax.jacfwd(couplings), jax.jacrev(couplings), jax.jacfwd(jax.jacrev(couplings))):
        assert np.all(np.isfinite(np.asarray(jax.vmap(f)(grid))))
    # just inside the end point the derivative is the exact one, d sin(beta)/dc = -c/s ~ -1/sqrt(2 (1 - c)):
    # large, as it should be (the convention changes only the value at exactly c = 1)
    c_in = 1.0 - 1e-10
    s_in = math.sqrt(1.0 - c_in * c_in)
    assert float(jax.grad(sin_beta)(c_in)) == pytest.approx(-c_in / s_in, rel=1e-6)
    assert abs(float(jax.grad(sin_beta)(c_in))) > 7e4
    # inside: central differences with h = 1e-6 (truncation ~h^2 |f'''| ~ 1e-12 relative)
    c, h = 0.7, 1e-6
    fd = (couplings(c + h) - couplings(c - h)) / (2 * h)
    np.testing.assert_allclose(jax.jacfwd(couplings)(c), fd, rtol=1e-6, atol=1e-12)
