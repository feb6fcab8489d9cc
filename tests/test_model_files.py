"""U(1)' models as charge files (issue 16, item 1): the presets against the definitions they replace, the
general charged-lepton loop against closed forms and SciPy, and bad files with errors naming the field."""

import io
import json
import math
from contextlib import redirect_stdout

import jax.numpy as jnp
import numpy as np
import pytest
import reference_mixing
import scipy.integrate

from zprime_jax.errors import InputError
from zprime_jax.physics import model_files, models
from zprime_jax.physics.constants import ALPHA_EM, G_FERMI_MEV2, M_ELECTRON_MEV, M_MUON_MEV, M_TAU_MEV
from zprime_jax.physics.models import LightZPrime

Q = np.array([1.0, 10.0, 50.0, 150.0])       # |q| [MeV]: CEvNS at reactors to pion decay at rest


def _written_out(charges_q, charges_nu, loop, params, sm):
    """(g_p, g_n) per flavour from eqs. 2.3-2.5 written out here (the loop as the log of the mu/tau ratio,
    the form the package had before model files), (6, len(Q))."""
    gp_sm, gn_sm = (np.asarray(a) for a in sm.nucleon())
    prop = params.coupling**2 / (math.sqrt(2) * G_FERMI_MEV2 * (Q**2 + params.mass_mev**2))
    qu, qd = charges_q
    qp, qn = np.full_like(Q, 2 * qu + qd), np.full_like(Q, qu + 2 * qd)
    if loop:
        x, w = np.polynomial.legendre.leggauss(48)
        x, w = 0.5 * (x + 1), 0.5 * w
        xx = x * (1 - x)
        i = np.array([np.sum(w * xx * np.log((M_TAU_MEV**2 + q * q * xx) / (M_MUON_MEV**2 + q * q * xx))) for q in Q])
        qp = qp + 2 * ALPHA_EM / math.pi * i
    nu = np.asarray(charges_nu)[:, None]
    return gp_sm[:, None] + nu * qp * prop, gn_sm[:, None] + nu * qn * prop


@pytest.mark.parametrize("name, quarks, nus, loop", [
    ("universal", (1.0, 1.0), (1.0,) * 6, False),
    ("b-l", (1 / 3, 1 / 3), (-1.0,) * 6, False),
    ("lmu-ltau", (0.0, 0.0), (0.0, 1.0, -1.0, 0.0, 1.0, -1.0), True),
])
def test_preset_files_reproduce_the_built_in_models(name, quarks, nus, loop):
    """The universal, B-L and Lmu-Ltau files give the nucleon couplings of eqs. 2.3-2.5 as the package had
    them hard-coded, to 1e-12 relative (rounding: the loop is now a sum of logs, not the log of a ratio);
    counts are quadratic in these couplings, so they agree to the same precision."""
    m = models.get_model(name)
    params = LightZPrime(20.0, 3e-4)
    gp, gn = (np.asarray(a) for a in m.nucleon_couplings(params, jnp.asarray(Q)))
    wp, wn = _written_out(quarks, nus, loop, params, m.sm)
    np.testing.assert_allclose(gp, wp, rtol=1e-12)
    np.testing.assert_allclose(gn, wn, rtol=1e-12, atol=1e-15)


def test_counts_of_the_file_model_equal_the_hand_built_model():
    """ESS CsI counts of the Lmu-Ltau file and of a VectorMediator built by hand with the same charges:
    one engine, so equal to rounding (1e-12)."""
    from zprime_jax.kernels.rates import build_kernel, expected_counts

    k = build_kernel("ess-csi")
    by_hand = models.VectorMediator("x", "x", (0.0, 0.0), (0.0, 1.0, -1.0, 0.0, 1.0, -1.0), kinetic_loop=True,
                                    lepton_charges=(0.0, 1.0, -1.0))
    p = LightZPrime(30.0, 1e-3)
    np.testing.assert_allclose(np.asarray(expected_counts(p, k, models.get_model("lmu-ltau"))),
                               np.asarray(expected_counts(p, k, by_hand)), rtol=1e-12)


def test_lepton_loop_closed_form_and_quadrature():
    """Le-Lmu: Pi(0) = ln(m_mu^2/m_e^2)/6 (closed form, 1e-13); at |q| = 50 MeV SciPy's quad of
    sum_l Q_l Q'_l x(1-x) ln(m_l^2 + q^2 x(1-x)) (1e-6: the 48 Gauss-Legendre nodes resolve the electron's
    log, which turns over at x ~ m_e^2/q^2 ~ 1e-4, to 1.5e-7).
    A divergent loop depends on its scale as -sum_l Q_l Q'_l ln(mu1^2/mu2^2)/6 (exact)."""
    pi0 = float(models.lepton_loop_integral(0.0, (1.0, -1.0, 0.0)))
    assert pi0 == pytest.approx(math.log(M_MUON_MEV**2 / M_ELECTRON_MEV**2) / 6, rel=1e-13)
    q = 50.0

    def integrand(x):
        xx = x * (1 - x)
        return xx * (-math.log(M_ELECTRON_MEV**2 + q * q * xx) + math.log(M_MUON_MEV**2 + q * q * xx))

    quad = scipy.integrate.quad(integrand, 0, 1, epsabs=1e-14)[0]
    assert float(models.lepton_loop_integral(q, (1.0, -1.0, 0.0))) == pytest.approx(quad, rel=1e-6)
    b_l = (-1.0, -1.0, -1.0)                                   # sum_l Q_l Q'_l = 3
    a, b = (float(models.lepton_loop_integral(q, b_l, s)) for s in (100.0, 1000.0))
    assert a - b == pytest.approx(-3 * math.log(100.0**2 / 1000.0**2) / 6, rel=1e-12)


def test_every_preset_loads_and_the_cli_lists_them():
    from zprime_jax.cli.main import main

    names = model_files.preset_model_names()
    assert set(names) >= {"universal", "b-l", "lmu-ltau", "le-lmu", "le-ltau", "b-3le", "b-3lmu", "b-3ltau",
                          "dark-photon", "protophobic"}
    for n in names:
        assert models.get_model(n).name == n
    buf = io.StringIO()
    with redirect_stdout(buf):
        assert main(["models", "--json"]) == 0
    out = json.loads(buf.getvalue())
    assert [m["name"] for m in out["light"]] == list(names)
    assert {m["name"] for m in out["heavy"]} == set(models.HEAVY_MODELS)


GOOD = {"name": "x", "description": "y",
        "charges": {"u": 0, "d": 0, "e": 1, "mu": -1, "tau": 0, "nu_e": 1, "nu_mu": -1, "nu_tau": 0},
        "kinetic_mixing": {"loop": True}}


def _with(**edits):
    data = json.loads(json.dumps(GOOD))
    for path, value in edits.items():
        table, _, key = path.rpartition("__")
        target = data[table] if table else data
        if value is None:
            target.pop(key)
        else:
            target[key] = value
    return data


@pytest.mark.parametrize("edits, field", [
    ({"charges__tau": None}, "charges.tau"),
    ({"charges__top": 1.0}, "charges.top"),
    ({"charges__u": "one"}, "charges.u"),
    ({"charges__u": float("nan")}, "charges.u"),
    ({"charges__nu_e": 0, "charges__nu_mu": 0}, "charges.nu_e"),
    ({"kinetic_mixing__loop": "yes"}, "kinetic_mixing.loop"),
    ({"charges__mu": 0}, "kinetic_mixing.renormalization_scale_mev"),     # e alone: a divergent loop
    ({"kinetic_mixing__renormalization_scale_mev": -5.0}, "kinetic_mixing.renormalization_scale_mev"),
    ({"colour": "blue"}, "colour"),
    ({"kinetic_mixing__epsilon_per_coupling": "big"}, "kinetic_mixing.epsilon_per_coupling"),
    ({"charges__nu_e": 0, "charges__nu_mu": 0, "kinetic_mixing__epsilon_per_coupling": 1.0}, "charges.e"),
    ({"name": None}, "name"),
])
def test_bad_model_files_name_the_field(edits, field):
    with pytest.raises(InputError) as err:
        model_files.parse_model(_with(**edits))
    assert str(err.value).startswith(field), str(err.value)


def test_a_users_model_file_on_the_command_line(tmp_path, capsys):
    """A file written from scratch (Le-Lmu) runs through `rates`; a broken one is a JSON error naming
    --model and the field, with the file's path."""
    from zprime_jax.cli.main import main

    good = tmp_path / "mine.toml"
    good.write_text('name = "mine"\ndescription = "Le-Lmu by hand"\n[charges]\nu = 0\nd = 0\ne = 1\nmu = -1\n'
                    'tau = 0\nnu_e = 1\nnu_mu = -1\nnu_tau = 0\n[kinetic_mixing]\nloop = true\n')
    assert main(["rates", "--experiment", "ess-csi", "--model", str(good), "--mass-mev", "10", "--coupling",
                 "1e-3", "--json", "--quiet"]) == 0
    mine = json.loads(capsys.readouterr().out)
    assert main(["rates", "--experiment", "ess-csi", "--model", "le-lmu", "--mass-mev", "10", "--coupling",
                 "1e-3", "--json", "--quiet"]) == 0
    preset = json.loads(capsys.readouterr().out)
    assert mine["total"] == pytest.approx(preset["total"], rel=1e-14)
    bad = tmp_path / "bad.toml"
    bad.write_text(good.read_text().replace("\ntau = 0\n", "\n"))
    assert main(["rates", "--experiment", "ess-csi", "--model", str(bad), "--json"]) == 2
    obj = json.loads(capsys.readouterr().out)
    assert obj["field"] == "--model" and "charges.tau" in obj["error"] and str(bad) in obj["error"]


# --- kinetic mixing: tree level, the dark photon, the protophobic boson ---------------------------------

FERMION_CHARGES = {"u": 2 / 3, "d": -1 / 3, "e": -1.0}


@pytest.mark.parametrize("f", ["u", "d", "e"])
@pytest.mark.parametrize("mass, q", [(10.0, 20.0), (100.0, 20.0), (1000.0, 50.0)])
def test_dark_photon_against_the_exact_neutral_boson_exchange(f, mass, q):
    """delta g_V^f = 2 eps^2 s_W^2 Q_f m^2/(q^2 + m^2) against the exact (B, W3, X) propagator of
    tests/reference_mixing.py (no expansion in eps or m/m_Z). Both use the tree-level sqrt2 G_F here
    (the package's eps^2 term is written with e = g_Z s_W c_W). Tolerance 1e-3: the neglected O(eps^2)
    and O(m^2/m_Z^2) terms are 1e-4 at eps = 1e-2 and m <= 1 GeV (measured 1e-4 to 2.4e-4)."""
    eps = 1e-2
    exact = reference_mixing.delta_amplitude(f, q, mass, eps=eps) / reference_mixing.SQRT2_GF_TREE
    ours = float(models.MODELS["dark-photon"].vector_shift(LightZPrime(mass, eps), jnp.asarray(q), 0.0,
                                                             FERMION_CHARGES[f])[0])
    assert ours == pytest.approx(exact, rel=1e-3)


@pytest.mark.parametrize("f, b_minus_l", [("u", 1 / 3), ("d", 1 / 3), ("e", -1.0)])
@pytest.mark.parametrize("mass", [10.0, 300.0])
def test_tree_level_mixing_against_the_exact_neutral_boson_exchange(f, b_minus_l, mass):
    """B-L with eps = 3 g: the Z' couples to g Q'_f + eps e Q_f (the sign convention of docs/conventions.md),
    so delta g_V^f = g Q'_nu (g Q'_f + eps e Q_f) / (sqrt2 G_F (q^2 + m^2)); against the exact exchange,
    in units of the measured G_F (the normalisation of the SM g_V). 1e-6: neglected O(q^2/m_Z^2, eps^2)."""
    from zprime_jax.physics.constants import G_FERMI_MEV2

    g, q = 1e-4, 20.0
    model = models.VectorMediator("b-l+eps", "", (1 / 3, 1 / 3), (-1.0,) * 6, epsilon_per_coupling=3.0)
    exact = reference_mixing.delta_amplitude(f, q, mass, g_x=g, eps=3.0 * g, q_nu=-1.0, q_f=b_minus_l)
    charge = b_minus_l + FERMION_CHARGES[f] * model.photon_mixing(q)
    ours = float(model.vector_shift(LightZPrime(mass, g), jnp.asarray(q), charge, FERMION_CHARGES[f])[0])
    assert ours * math.sqrt(2) * G_FERMI_MEV2 == pytest.approx(exact, rel=1e-6)
    without = reference_mixing.delta_amplitude(f, q, mass, g_x=g, q_nu=-1.0, q_f=b_minus_l)
    assert abs(exact / without - 1) > 0.5                  # the mixing is a large effect here, not a rounding


def test_dark_photon_and_protophobic_presets():
    """The dark photon couples to the proton (Q = 1) and not the neutron; the protophobic boson (B - L - Q)
    to the neutron and not the proton or the electron; both are zero at g = 0 (the SM, bit for bit)."""
    q = jnp.asarray([5.0, 50.0])
    dp, pp = models.MODELS["dark-photon"], models.MODELS["protophobic"]
    sm_p, sm_n = (np.asarray(a)[:, None] for a in dp.sm.nucleon())
    gp, gn = dp.nucleon_couplings(LightZPrime(30.0, 0.1), q)
    np.testing.assert_array_equal(np.asarray(gn), np.broadcast_to(sm_n, gn.shape))
    expected = 2 * 0.1**2 * dp.sm.sin2_theta_w * 30.0**2 / (np.asarray(q) ** 2 + 30.0**2)
    np.testing.assert_allclose(np.asarray(gp) - sm_p, np.broadcast_to(expected, gp.shape), rtol=1e-12)
    qp, qn = pp.nucleon_charges(q)
    assert np.all(np.asarray(qp) == 0.0) and np.allclose(qn, 1.0, rtol=1e-15)
    assert pp.lepton_charges == (0.0, 0.0, 0.0) and pp.neutrino_charges == (-1.0,) * 6
    for model in (dp, pp):
        gp0, gn0 = model.nucleon_couplings(LightZPrime(30.0, 0.0), q)
        np.testing.assert_array_equal(np.asarray(gp0), np.broadcast_to(sm_p, gp0.shape))
