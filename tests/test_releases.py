"""The shipped COHERENT data releases: unchanged files, and their internal consistency.

The numbers compared with are the releases' own (LArParametersAnlA.yaml and the
1-D projection tables of the LAr paper's figures; the CsI event counts), each
with its tolerance and reason.
"""

import hashlib
import re

import numpy as np
import pytest

from zprime_jax.errors import SpecError
from zprime_jax.spec import releases


@pytest.mark.parametrize("release", sorted(releases.RELEASES))
def test_shipped_files_are_the_release_byte_for_byte(release):
    """Every file listed in PROVENANCE.md with its SHA-256 is present and unchanged, and nothing else is."""
    text = releases.release_path(release, "PROVENANCE.md").read_text()
    sums = dict((name, digest) for digest, name in re.findall(r"^([0-9a-f]{64})  (\S+)$", text, re.MULTILINE))
    folder = releases.release_path(release, "PROVENANCE.md").parent
    assert set(sums) == {p.name for p in folder.iterdir()} - {"PROVENANCE.md"}
    for name, digest in sums.items():
        assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == digest, name


@pytest.fixture(scope="module")
def lar():
    return releases.lar_2020()


@pytest.fixture(scope="module")
def yaml_values():
    """The LAr release's numbers (LArParametersAnlA.yaml) by key."""
    return {k: e.get("value") for k, e in releases.lar_parameters().items()}


def test_lar_parameters_as_the_yaml_states_them():
    p = releases.lar_parameters()
    assert p["cevnsPredictionNormalization"]["value"] == 128 and p["cevnsPredictionNormalization"]["uncertainty"] == 17
    assert p["cevnsBestfitNormalization"]["value"] == 159 and p["cevnsBestfitNormalization"]["uncertainty_stat"] == 43
    assert p["larQF"]["parameters"]["a"]["value"] == 0.246 and p["larQF"]["parameters"]["b"]["units"] == "(keVnr)^-1"
    assert p["snsPOTTraceTiming"]["parameters"]["a"]["value"] == 440          # ns: the pulse's Gaussian mean
    assert p["distanceToTarget"]["value"] == 27.5 and p["fiducialMass"]["value"] == 24.4


PREDICTED = {"cevns": "cevnsPredictionNormalization", "brn_prompt": "promptBeamRelatedNeutronPredictionNormalization",
             "brn_delayed": "delayedBeamRelatedNeutronPredictionNormalization",
             "steady_state": "ssBackgroundPredictionNormalization"}
BEST_FIT = {"cevns": "cevnsBestfitNormalization", "brn_prompt": "promptBeamRelatedNeutronBestfitNormalization",
            "brn_delayed": "delayedBeamRelatedNeutronBestfitNormalization",
            "steady_state": "ssBackgroundBestfitNormalization"}


def test_lar_grid_and_totals(lar, yaml_values):
    assert lar.observed.shape == (12, 8, 10) and all(p.shape == (12, 8, 10) for p in lar.pdfs.values())
    assert lar.observed.sum() == 3752                                   # whole events
    # the nominal PDFs are normalised to the YAML's predictions (CEvNS 128, prompt BRN 497, delayed BRN
    # 33); the files carry 6-7 significant digits, hence 1e-6
    for name in ("cevns", "brn_prompt", "brn_delayed"):
        assert lar.pdfs[name].sum() == pytest.approx(yaml_values[PREDICTED[name]], rel=1e-6)
    # the steady state sums to 3152 where the YAML predicts 3154 (0.06%)
    assert lar.pdfs["steady_state"].sum() == pytest.approx(yaml_values[PREDICTED["steady_state"]], rel=1e-3)


def test_lar_projections_are_the_best_fit_of_the_yaml(lar, yaml_values):
    """The paper's energy projection = the 3-D data and PDFs summed over F90 and time, with the YAML's
    best-fit normalisations (CEvNS 159, prompt BRN 553, delayed BRN 10, steady state 3131). The YAML
    rounds them to whole events (159 for a fitted 159.5), hence 0.5% on the templates and 0.3 events
    on the SS-subtracted data."""
    fit = {k: yaml_values[BEST_FIT[k]] / lar.pdfs[k].sum() for k in BEST_FIT}
    proj = lar.projections["energy"]
    np.testing.assert_array_equal(proj[:, 0], lar.energy_kevee)
    summed = {k: (lar.pdfs[k] * s).sum(axis=(1, 2)) for k, s in fit.items()}
    ss_subtracted = lar.observed.sum(axis=(1, 2)) - summed["steady_state"]
    np.testing.assert_allclose(ss_subtracted, proj[:, 1], rtol=0, atol=0.3)
    np.testing.assert_allclose(summed["cevns"], proj[:, 3], rtol=5e-3, atol=1e-3)
    np.testing.assert_allclose(summed["brn_prompt"] + summed["brn_delayed"], proj[:, 4], rtol=5e-3, atol=1e-3)
    # the same along time and F90
    for axis, sum_over in (("time", (0, 1)), ("f90", (0, 2))):
        p = lar.projections[axis]
        np.testing.assert_allclose((lar.pdfs["cevns"] * fit["cevns"]).sum(axis=sum_over), p[:, 3],
                                   rtol=5e-3, atol=1e-3)


def test_csi_release():
    csi = releases.csi_2021()
    assert csi.events_c.shape == (5142, 2) and csi.events_ac.shape == (4890, 2)
    for pdf in (csi.brn_pe, csi.nin_pe, csi.brn_t, csi.nin_t):
        assert pdf.ndim == 2 and pdf.shape[1] == 2 and np.all(pdf[:, 1] >= 0) and pdf[:, 1].sum() > 0
    # the efficiency a/(1 + exp(-b (x - c))) + d rises through 0 (d < 0: it is negative below ~7 PE, so a
    # response built on it must clip at 0) to a + d = 0.987; the +1 sigma variant lies above the nominal
    # one and the -1 sigma variant below
    x = np.linspace(5.0, 60.0, 56)

    def eff(p):
        a, b, c, d = p
        return a / (1.0 + np.exp(-b * (x - c))) + d

    nominal = eff(csi.efficiency["nominal"])
    a, b, c, d = csi.efficiency["nominal"]
    assert np.all(np.diff(nominal) > 0) and a + d < 1.0
    assert nominal[-1] == pytest.approx(a + d, abs=1e-5)                   # a exp(-b (60 - c)) ~ 1e-6
    zero = c - np.log(-a / d - 1.0) / b                                     # eff(zero) = 0
    assert 6.0 < zero < 8.0
    assert np.all(eff(csi.efficiency["plus"]) > nominal) and np.all(eff(csi.efficiency["minus"]) < nominal)
    # quenching E_ee/E_nr = a + b E + c E^2 + d E^3 over 5-50 keVnr: 7-11% for the nominal quartic, and each
    # systematic variant within 5% of it (they are +-1 sigma shape variations of a few per cent); a
    # coefficient read into the wrong place would miss both by far
    e = np.linspace(0.005, 0.050, 10)

    def qf(p):
        a, b, c, d = p
        return a + b * e + c * e**2 + d * e**3

    nominal_qf = qf(csi.quenching["nominal"])
    assert np.all((nominal_qf > 0.07) & (nominal_qf < 0.11))
    for name, p in csi.quenching.items():
        np.testing.assert_allclose(qf(p), nominal_qf, rtol=0.05, err_msg=name)


def test_reader_errors_name_the_file_and_line(tmp_path):
    bad = tmp_path / "t.txt"
    bad.write_text("# comment\n1 2\n3 x\n")
    with pytest.raises(SpecError, match=r"t.txt: line 3: not a number"):
        releases.read_table(bad, 2)
    bad.write_text("1 2 3\n")
    with pytest.raises(SpecError, match=r"line 1: expected 2 columns"):
        releases.read_table(bad, 2)
    bad.write_text("1 nan\n")
    with pytest.raises(SpecError, match=r"not a finite number"):
        releases.read_table(bad, 2)
    grid = tmp_path / "g.txt"
    grid.write_text("1 1 1 5\n1 1 2 5\n1 2 2 5\n1 2 1 5\n")          # time not fastest
    with pytest.raises(SpecError, match="not the full"):
        releases._grid(releases.read_table(grid, 4), grid)
    with pytest.raises(SpecError, match="unknown data release"):
        releases.release_path("coherent-nai-2030", "x")
