"""The COHERENT data releases shipped with the package (``zprime_jax/data/coherent_*``): strict readers.

The files are the collaborations' releases byte for byte (provenance and
citations: each folder's ``PROVENANCE.md``). These readers turn them into
arrays and check their structure (columns, numbers, complete 3-D grids in
one order) with errors that name the file and the line; the detector
response, templates and likelihoods built on them are issue 15's next steps.

- CsI[Na] 2021 (PRL 129 (2022) 081801): :func:`csi_2021`.
- CENNS-10 LAr 2020, analysis A (PRL 126 (2021) 012002; arXiv:2006.12659): :func:`lar_2020`.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from ..errors import SpecError

RELEASES = {"coherent-csi-2021": "coherent_csi_2021", "coherent-lar-2020": "coherent_lar_2020"}


def release_path(release: str, filename: str) -> Path:
    """The path of a shipped release file (``release``: a key of :data:`RELEASES`)."""
    if release not in RELEASES:
        raise SpecError(f"release: unknown data release {release!r}; shipped: {sorted(RELEASES)}")
    path = Path(str(resources.files("zprime_jax") / "data" / RELEASES[release] / filename))
    if not path.is_file():
        raise SpecError(f"release: {release} has no file {filename!r}")
    return path


def read_table(path: str | Path, n_columns: int, header: bool = False) -> np.ndarray:
    """A whitespace-separated numeric table (rows, ``n_columns``): ``#`` comments and blank lines skipped.

    ``header``: the first non-comment line names the columns (skipped). Raises SpecError naming the
    file and the line for a row of another width or a value that is not a finite number.
    """
    rows = []
    seen_header = not header
    for i, line in enumerate(Path(path).read_text().splitlines(), start=1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        if not seen_header:
            seen_header = True
            continue
        parts = text.split()
        if len(parts) != n_columns:
            raise SpecError(f"{path}: line {i}: expected {n_columns} columns, got {len(parts)}")
        try:
            values = [float(p) for p in parts]
        except ValueError:
            raise SpecError(f"{path}: line {i}: not a number in {text!r}") from None
        if not all(np.isfinite(values)):
            raise SpecError(f"{path}: line {i}: not a finite number in {text!r}")
        rows.append(values)
    if not rows:
        raise SpecError(f"{path}: no data rows")
    return np.asarray(rows)


@dataclass(frozen=True)
class CsI2021:
    """The CsI[Na] 2021 release as arrays.

    ``events_c`` / ``events_ac`` (N, 2): reconstructed energy [PE] and arrival time [µs] of the
    coincidence and anti-coincidence (steady-state) samples. ``brn_pe``, ``nin_pe`` (K, 2) and
    ``brn_t``, ``nin_t`` (L, 2): (bin centre, PDF value) of the beam-related and neutrino-induced
    neutron energy [PE] and time [µs] PDFs. ``efficiency`` {"nominal", "plus", "minus"}: (a, b, c, d)
    of a/(1 + exp(-b (x - c))) + d, x in PE. ``quenching`` {"nominal", "syst0_plus", "syst0_minus",
    "syst1_plus", "syst1_minus"}: (a, b, c, d) of E_ee = a x + b x^2 + c x^3 + d x^4, x = E_nr [MeV].
    """

    events_c: np.ndarray
    events_ac: np.ndarray
    brn_pe: np.ndarray
    brn_t: np.ndarray
    nin_pe: np.ndarray
    nin_t: np.ndarray
    efficiency: dict
    quenching: dict


def csi_2021() -> CsI2021:
    """Read the CsI[Na] 2021 release (file formats: the folder's PROVENANCE.md)."""
    def table(name, n):
        return read_table(release_path("coherent-csi-2021", name), n)

    eff = table("effCoefficients.txt", 4)
    qf = table("scintRespCoefficients.txt", 4)
    if eff.shape[0] != 3 or qf.shape[0] != 5:
        raise SpecError(f"release: coherent-csi-2021: expected 3 efficiency and 5 quenching models, got "
                        f"{eff.shape[0]} and {qf.shape[0]}")
    return CsI2021(
        events_c=table("dataBeamOnC.txt", 2), events_ac=table("dataBeamOnAC.txt", 2),
        brn_pe=table("brnPE.txt", 2), brn_t=table("brnTrec.txt", 2),
        nin_pe=table("ninPE.txt", 2), nin_t=table("ninTrec.txt", 2),
        efficiency=dict(zip(("nominal", "plus", "minus"), eff)),
        quenching=dict(zip(("nominal", "syst0_plus", "syst0_minus", "syst1_plus", "syst1_minus"), qf)))


# the LAr PDFs: name -> file (nominal templates, then the shape-systematic variants)
LAR_PDFS = {
    "cevns": "cevnspdf.txt", "brn_prompt": "brnpdf.txt", "brn_delayed": "delbrnpdf.txt",
    "steady_state": "bkgpdf.txt",
    "cevns_f90_plus": "cevnspdf+1sigF90.txt", "cevns_f90_minus": "cevnspdf-1sigF90.txt",
    "cevns_timing_mean": "cevnspdfCEvNSTimingMeanSyst.txt",
    "brn_energy_plus": "brnpdf+1sigEnergy.txt", "brn_energy_minus": "brnpdf-1sigEnergy.txt",
    "brn_timing_mean_plus": "brnpdf+1sigBRNTimingMean.txt", "brn_timing_mean_minus": "brnpdf-1sigBRNTimingMean.txt",
    "brn_timing_width": "brnpdfBRNTimingWidthSyst.txt",
}


@dataclass(frozen=True)
class LAr2020:
    """The CENNS-10 LAr 2020 (analysis A) release as arrays on its 3-D grid.

    ``energy_kevee`` (E,), ``f90`` (F,), ``time_us`` (T,): the bin centres. ``observed`` (E, F, T):
    counts without background subtraction. ``pdfs``: name (:data:`LAR_PDFS`) -> (E, F, T) expected
    counts. ``efficiency`` (K, 3): keVee, keVnr, acceptance. ``projections``: "energy", "f90",
    "time" -> (B, 8) the 1-D tables of the paper's figures (bin centre, SS-subtracted data, its
    statistical error, CEvNS, BRN, CEvNS + BRN, systematic band low, high).
    """

    energy_kevee: np.ndarray
    f90: np.ndarray
    time_us: np.ndarray
    observed: np.ndarray
    pdfs: dict
    efficiency: np.ndarray
    projections: dict


def lar_parameters() -> dict:
    """``LArParametersAnlA.yaml``: every number of the LAr analysis, as the release states it.

    Returns {key: entry} with each entry's ``value``, ``uncertainty`` (or ``uncertainty_stat``),
    ``units``, ``comment`` and, for the multi-parameter entries (``larQF``, ``energyResolution``,
    ``snsPOTTraceTiming``), ``parameters`` {name: {"value", "uncertainty", "units"}}.
    """
    import yaml

    path = release_path("coherent-lar-2020", "LArParametersAnlA.yaml")
    try:
        doc = yaml.safe_load(path.read_text())
    except yaml.YAMLError as err:
        raise SpecError(f"{path}: not valid YAML ({err})") from None
    if not isinstance(doc, dict):
        raise SpecError(f"{path}: expected a mapping of parameters")
    out = {}
    for key, entry in doc.items():
        entry = dict(entry)
        if "parameters" in entry:
            entry["parameters"] = {p["name"]: {k: v for k, v in p.items() if k != "name"}
                                   for p in entry["parameters"]}
        out[key] = entry
    return out


def _grid(table: np.ndarray, path) -> tuple[tuple[np.ndarray, ...], np.ndarray]:
    """Axes and values of a (rows, 4) table that enumerates a full 3-D grid, last axis fastest."""
    axes = tuple(np.unique(table[:, k]) for k in range(3))
    shape = tuple(a.size for a in axes)
    mesh = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, 3)
    if table.shape[0] != mesh.shape[0] or not np.array_equal(table[:, :3], mesh):
        raise SpecError(f"{path}: rows are not the full {shape[0]} x {shape[1]} x {shape[2]} grid in order "
                        "(energy, F90, time; time fastest)")
    return axes, table[:, 3].reshape(shape)


def lar_2020() -> LAr2020:
    """Read the LAr 2020 release; every PDF must share the data's grid."""
    def path(name):
        return release_path("coherent-lar-2020", name)

    axes, observed = _grid(read_table(path("datanobkgsub.txt"), 4), path("datanobkgsub.txt"))
    pdfs = {}
    for name, filename in LAR_PDFS.items():
        pdf_axes, values = _grid(read_table(path(filename), 4), path(filename))
        if not all(np.array_equal(a, b) for a, b in zip(axes, pdf_axes)):
            raise SpecError(f"{path(filename)}: its grid differs from datanobkgsub.txt's")
        pdfs[name] = values
    projections = {axis: read_table(path(f"{stem}data1d.txt"), 8, header=True)
                   for axis, stem in (("energy", "energy"), ("f90", "f90"), ("time", "timing"))}
    return LAr2020(energy_kevee=axes[0], f90=axes[1], time_us=axes[2], observed=observed, pdfs=pdfs,
                   efficiency=read_table(path("CENNS10AnlAEfficiency.txt"), 3), projections=projections)
