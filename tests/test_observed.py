"""Observed data: file formats, validation messages, best fit and the best-fit-referenced exclusion."""

import json

import jax
import numpy as np
import pytest

from zprime_jax import likelihood
from zprime_jax.inference import fit as fit_mod
from zprime_jax.inference import limits, scan
from zprime_jax.kernels.rates import expected_counts
from zprime_jax.likelihood import observed
from zprime_jax.physics.models import LightZPrime, get_model

UNIVERSAL = get_model("universal")


@pytest.fixture(scope="module")
def csi(kernels):
    return kernels["ess-csi"]


@pytest.fixture(scope="module")
def asimov_counts(csi):
    return np.asarray(likelihood.asimov_measurement(csi).data)


def test_round_trip_csv_and_json(tmp_path, csi, asimov_counts):
    """Asimov SM counts written as CSV (with edges), JSON (with edges) and in the short forms read back exactly."""
    files = [observed.write_counts_csv(tmp_path / "a.csv", asimov_counts, csi),
             observed.write_counts_json(tmp_path / "a.json", asimov_counts, csi)]
    (tmp_path / "one_column.csv").write_text("count\n" + "\n".join(repr(float(n)) for n in asimov_counts))
    (tmp_path / "no_header.txt").write_text("# comment\n\n" + "\n".join(repr(float(n)) for n in asimov_counts))
    (tmp_path / "bare.json").write_text(json.dumps(asimov_counts.tolist()))
    files += [tmp_path / "one_column.csv", tmp_path / "no_header.txt", tmp_path / "bare.json"]
    for f in files:
        np.testing.assert_array_equal(observed.load_observed_counts(f, csi), asimov_counts, err_msg=str(f))
    # An observed measurement of Asimov data is the Asimov measurement (SM reference).
    m = likelihood.observed_measurement(csi, observed.load_observed_counts(files[0], csi))
    np.testing.assert_allclose(float(m.chi2_ref), float(likelihood.asimov_measurement(csi).chi2_ref), atol=1e-9)


def _bad(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_validation_messages_name_file_and_field(tmp_path, csi, asimov_counts):
    b = csi.n_bins
    good = [repr(float(n)) for n in asimov_counts]
    edges = [float(e) for e in np.asarray(csi.edges_kev)]
    cases = [
        # (file name, content, words the message must contain)
        ("short.csv", "count\n" + "\n".join(good[:-1]), ["count", f"expected {b} bins", f"got {b - 1}",
                                                          f"{b + 1} bin edges", "ess-csi"]),
        ("short.json", json.dumps({"counts": [1.0] * (b + 2)}), ["counts", f"expected {b} bins", f"got {b + 2}"]),
        ("negative.csv", "count\n" + "\n".join(["-1"] + good[1:]), ["count", ">= 0", "bins [0]"]),
        ("nan.json", json.dumps({"counts": [1.0] * (b - 1) + [float("nan")]}), ["counts", "finite", f"[{b - 1}]"]),
        ("string.json", json.dumps({"counts": ["1"] * b}), ["counts", "element 0", "not a number"]),
        ("edgestring.json", json.dumps({"counts": [1.0] * b, "edges_kev": "1-46"}), ["edges_kev", "list"]),
        ("inf.csv", "count\n" + "\n".join(good[:-1] + ["inf"]), ["count", "finite", f"bins [{b - 1}]"]),
        ("nan.csv", "count\n" + "\n".join(["nan"] + good[1:]), ["count", "finite"]),
        ("columns.csv", "lo_kev,hi_kev,count,error\n", ["columns", "unknown", "'error'"]),
        ("nocount.csv", "lo_kev,hi_kev\n1,2\n", ["count", "required column missing"]),
        ("halfedges.csv", "lo_kev,count\n1,2\n", ["lo_kev/hi_kev", "both"]),
        ("notnumber.csv", "count\n" + "\n".join(good[:3] + ["abc"] + good[4:]), ["count", "data row 4", "'abc'"]),
        ("multicol.csv", "1,2\n3,4\n", ["columns", "without a header"]),
        ("ragged.csv", "lo_kev,hi_kev,count\n1,2\n", ["columns", "data row 1"]),
        ("edges.csv", "lo_kev,hi_kev,count\n" + "\n".join(
            f"{lo * (1.01 if i == 3 else 1.0)!r},{hi!r},{n}" for i, (lo, hi, n) in
            enumerate(zip(edges[:-1], edges[1:], good))), ["lo_kev/hi_kev"]),
        ("edges.json", json.dumps({"counts": [1.0] * b, "edges_kev": [e * (1 + 1e-4) for e in edges]}),
         ["edges_kev", "edge 0", "relative tolerance"]),
        ("edgecount.json", json.dumps({"counts": [1.0] * b, "edges_kev": edges[:-1]}),
         ["edges_kev", f"{b + 1} bin edges", f"got {b} values"]),
        ("experiment.json", json.dumps({"experiment": "ess-xe", "counts": [1.0] * b}),
         ["experiment", "'ess-xe'", "'ess-csi'"]),
        ("keys.json", json.dumps({"counts": [1.0] * b, "count": 3}), ["keys", "unknown", "'count'"]),
        ("nocounts.json", json.dumps({"experiment": "ess-csi"}), ["counts", "required key missing"]),
        ("scalar.json", "3", ["counts", "got int"]),
        ("broken.json", "{", ["not valid JSON"]),
        ("empty.csv", "# nothing\n", ["count", "no data rows"]),
    ]
    for name, text, words in cases:
        path = _bad(tmp_path, name, text)
        with pytest.raises(ValueError) as err:
            observed.load_observed_counts(path, csi)
        msg = str(err.value)
        assert msg.startswith(str(path)), (name, msg)
        for w in words:
            assert w in msg, (name, w, msg)
    with pytest.raises(ValueError, match="data file not found"):
        observed.load_observed_counts(tmp_path / "missing.csv", csi)


def test_non_integer_counts_accepted_silently(tmp_path, csi, asimov_counts):
    """Asimov counts are non-integer: accepted with no warning (warnings are errors in this suite)."""
    assert not np.allclose(asimov_counts, np.round(asimov_counts))
    p = observed.write_counts_json(tmp_path / "x.json", asimov_counts + 0.25, csi)
    np.testing.assert_array_equal(observed.load_observed_counts(p, csi), asimov_counts + 0.25)


def test_best_fit_of_asimov_is_the_sm(csi, asimov_counts):
    m = likelihood.observed_measurement(csi, asimov_counts)
    fit = fit_mod.best_fit((m,), UNIVERSAL, progress=None)
    assert fit["at_sm"] and fit["coupling"] == 0.0 and fit["mass_mev"] is None
    assert abs(fit["delta_chi2_sm"]) < 1e-6 and abs(fit["chi2_best"]) < 1e-6
    json.dumps(fit)                                              # JSON-friendly
    # Referenced to the best fit (= SM), the exclusion is the Asimov sensitivity.
    ms = fit_mod.reference_to_best_fit((m,), fit)
    lim = limits.coupling_limits(ms, UNIVERSAL, [10.0], progress=None)["coupling"]
    ref = limits.coupling_limits((likelihood.asimov_measurement(csi),), UNIVERSAL, [10.0], progress=None)["coupling"]
    np.testing.assert_allclose(lim, ref, rtol=1e-6)


def test_best_fit_recovers_injected_signal(tmp_path, csi):
    """Universal Z' at 10 MeV, g = 2e-5 (~3x the ESS-CsI sensitivity 6.8e-6), Asimov with signal."""
    g_true = 2e-5
    counts = np.asarray(expected_counts(LightZPrime(10.0, g_true), csi, UNIVERSAL) + csi.background)
    path = observed.write_counts_csv(tmp_path / "signal.csv", counts, csi)
    ms, fit = fit_mod.observed_analysis([csi], [str(path)], UNIVERSAL, progress=None)
    assert not fit["at_sm"] and fit["converged"] and not fit["at_boundary"]
    assert abs(fit["coupling"] / g_true - 1.0) < 0.03, fit
    assert abs(np.log10(fit["mass_mev"] / 10.0)) < 0.1, fit        # mass within 25%
    assert fit["chi2_best"] < 1e-4                                  # the injected point fits exactly
    assert fit["delta_chi2_sm"] > 25.0, fit                         # measured: 89.5
    np.testing.assert_allclose(sum(fit["chi2_best_per_experiment"]), fit["chi2_best"])
    # Best-fit reference: Delta chi2 >= 0, ~0 at the truth, = Delta chi2_SM at vanishing coupling.
    dchi2 = jax.jit(likelihood.delta_chi2, static_argnums=2)
    d_true = float(dchi2(LightZPrime(10.0, g_true), ms, UNIVERSAL)[0])
    d_sm = float(dchi2(LightZPrime(10.0, 1e-9), ms, UNIVERSAL)[0])
    assert -1e-6 < d_true < 1e-3
    np.testing.assert_allclose(d_sm, fit["delta_chi2_sm"], rtol=1e-6)


def test_best_fit_of_fluctuated_sm_data(csi, asimov_counts):
    """Poisson-fluctuated SM data: chi2_best <= chi2_SM, Delta chi2 >= 0 on a grid, finite limits."""
    counts = np.random.default_rng(1).poisson(asimov_counts).astype(float)
    m = likelihood.observed_measurement(csi, counts)
    fit = fit_mod.best_fit((m,), UNIVERSAL, progress=None)
    assert fit["chi2_best"] <= fit["chi2_sm"] + 1e-9 and fit["delta_chi2_sm"] >= 0.0
    ms = fit_mod.reference_to_best_fit((m,), fit)
    grid = scan.delta_chi2_grid(ms, UNIVERSAL, [3.0, 10.0, 30.0], np.logspace(-7, -3, 41), progress=None)
    assert grid.delta_chi2.min() > -1e-6
    lim = limits.coupling_limits(ms, UNIVERSAL, [10.0], progress=None)
    assert np.isfinite(lim["coupling"][0]) and 1e-6 < lim["coupling"][0] < 1e-4


def test_observed_data_for_every_form(csi, asimov_counts):
    """Observed data work with every likelihood form: here ESS-CsI read with eq. 22 (a projection)."""
    import dataclasses

    st = dataclasses.replace(csi.statistics, chi2="projection", sigma_stat=0.2, sigma_sys=0.2)
    k = dataclasses.replace(csi, statistics=st)
    m = likelihood.observed_measurement(k, asimov_counts - np.asarray(csi.background), UNIVERSAL)
    assert m.likelihood.form == "projection" and not m.asimov
    fit = fit_mod.best_fit((m,), UNIVERSAL, progress=None)
    # the data are the SM prediction itself: the SM is the best fit, chi^2 = 0 there (closed form)
    assert fit["at_sm"] and abs(fit["chi2_sm"]) < 1e-9
    with pytest.raises(ValueError, match="counts"):
        likelihood.observed_measurement(k, np.ones(k.n_bins + 1), UNIVERSAL)
