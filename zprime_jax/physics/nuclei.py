"""Isotopes, materials by stoichiometry, and target counts.

An isotope carries Z, A, its nuclear mass [MeV] and its rms charge radius
[fm]. The radii of the light-mediator paper's Table 1 (from Angeli & Marinova,
At. Data Nucl. Data Tables 99 (2013) 69) are used for the isotopes it lists.
Atomic masses are from AME2016 (in u); the nuclear mass is the atomic mass
minus Z electron masses (electron binding energies, < 0.1 MeV, neglected).

Natural isotopic mixtures (IUPAC 2013 abundances) are an option for Xe and Ge
and, for the heavy-Z' paper's detectors, for Si, Ar, O, Na, Al, Ca, Zn, I, Cs
and W. For the isotopes the paper does not list, the charge radius is scaled
from the paper's reference isotope of the same element as A^(1/3) -- an
approximation good to better than 0.5% for these neighbours (documented in
docs/conventions.md). Elements with no isotope in the light-mediator paper's
Table 1 (O, Na, Al, Ca, Zn, W) carry no radius (``NO_RADIUS``, NaN): the Helm
form factor needs one and the spec loader rejects it for them with a clear
error; the symmetrized Fermi form factor of the heavy-Z' paper needs only A.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..errors import InputError
from ..physics.constants import AMU_MEV, AVOGADRO, M_ELECTRON_MEV


@dataclass(frozen=True)
class Isotope:
    """A nuclear isotope.

    Attributes:
      name: e.g. ``"Cs133"``.
      Z: proton number.
      A: mass number.
      atomic_mass_u: atomic mass [u] (AME2016).
      rms_charge_radius_fm: <r_p^2>^(1/2) [fm].
    """

    name: str
    Z: int
    A: int
    atomic_mass_u: float
    rms_charge_radius_fm: float

    @property
    def N(self) -> int:
        return self.A - self.Z

    @property
    def mass_mev(self) -> float:
        """Nuclear mass m_T [MeV]."""
        return self.atomic_mass_u * AMU_MEV - self.Z * M_ELECTRON_MEV


def _iso(name, Z, A, mass_u, radius_fm):
    return Isotope(name, Z, A, mass_u, radius_fm)


# Radii: light-mediator paper Table 1 [fm]. Masses: AME2016 [u].
ISOTOPES: dict[str, Isotope] = {
    i.name: i
    for i in [
        _iso("Cs133", 55, 133, 132.905451961, 4.80),
        _iso("I127", 53, 127, 126.904472592, 4.75),
        _iso("Si28", 14, 28, 27.976926535, 3.12),
        _iso("Xe132", 54, 132, 131.904155086, 4.79),
        _iso("Ge72", 32, 72, 71.922075826, 4.06),
        _iso("Ar40", 18, 40, 39.962383124, 3.43),
        _iso("C12", 6, 12, 12.0, 2.47),
        _iso("F19", 9, 19, 18.998403163, 2.90),
        _iso("S32", 16, 32, 31.972071174, 3.26),
    ]
}


# One module-level NaN object for "no charge radius known": every Isotope holding
# it compares and hashes consistently (a fresh float("nan") would not).
NO_RADIUS = math.nan


def has_radius(iso: Isotope) -> bool:
    """True when the isotope has an rms charge radius (needed by the Helm form factor)."""
    return not math.isnan(iso.rms_charge_radius_fm)


def _scaled_radius(reference: str | None, A: int) -> float:
    if reference is None:
        return NO_RADIUS
    ref = ISOTOPES[reference]
    return ref.rms_charge_radius_fm * (A / ref.A) ** (1.0 / 3.0)


# Natural isotopic composition: (reference isotope for the radius scaling or
# None, Z, [(A, AME2016 atomic mass [u], IUPAC 2013 abundance)]).
# Xe and Ge serve the light-mediator paper's "natural" option; the rest were
# added for the heavy-Z' paper's detectors (Table II).
_NATURAL = {
    "Xe": ("Xe132", 54, [
        (124, 123.905892, 0.000952), (126, 125.904298, 0.000890),
        (128, 127.903531, 0.019102), (129, 128.904781, 0.264006),
        (130, 129.903509, 0.040710), (131, 130.905084, 0.212324),
        (132, 131.904155086, 0.269086), (134, 133.905395, 0.104357),
        (136, 135.907214, 0.088573)]),
    "Ge": ("Ge72", 32, [
        (70, 69.924249, 0.2057), (72, 71.922075826, 0.2745),
        (73, 72.923459, 0.0775), (74, 73.921178, 0.3650),
        (76, 75.921403, 0.0773)]),
    "Si": ("Si28", 14, [
        (28, 27.976926535, 0.92223), (29, 28.976494665, 0.04685),
        (30, 29.973770136, 0.03092)]),
    "Ar": ("Ar40", 18, [
        (36, 35.967545105, 0.003336), (38, 37.96273211, 0.000629),
        (40, 39.962383124, 0.996035)]),
    "O": (None, 8, [
        (16, 15.994914620, 0.99757), (17, 16.999131757, 0.00038),
        (18, 17.999159613, 0.00205)]),
    "Na": (None, 11, [(23, 22.989769282, 1.0)]),
    "Al": (None, 13, [(27, 26.981538531, 1.0)]),
    "Ca": (None, 20, [
        (40, 39.962590863, 0.96941), (42, 41.95861783, 0.00647),
        (43, 42.95876644, 0.00135), (44, 43.95548156, 0.02086),
        (46, 45.9536890, 0.00004), (48, 47.95252276, 0.00187)]),
    "Zn": (None, 30, [
        (64, 63.92914201, 0.4917), (66, 65.92603381, 0.2773),
        (67, 66.92712775, 0.0404), (68, 67.92484455, 0.1845),
        (70, 69.9253192, 0.0061)]),
    "I": ("I127", 53, [(127, 126.904472592, 1.0)]),
    "Cs": ("Cs133", 55, [(133, 132.905451961, 1.0)]),
    "W": (None, 74, [
        (180, 179.9467108, 0.0012), (182, 181.94820394, 0.2650),
        (183, 182.95022275, 0.1431), (184, 183.95093092, 0.3064),
        (186, 185.9543628, 0.2843)]),
}

# Register every isotope of the natural mixtures once (same objects on every call:
# they are static arguments of jitted kernel code and dictionary keys).
for _el, (_ref, _Z, _rows) in _NATURAL.items():
    for _A, _mass_u, _ in _rows:
        _name = f"{_el}{_A}"
        if _name not in ISOTOPES:
            ISOTOPES[_name] = Isotope(_name, _Z, _A, _mass_u, _scaled_radius(_ref, _A))
del _el, _ref, _Z, _rows, _A, _mass_u, _name


def natural_mixture(element: str) -> dict[Isotope, float]:
    """Isotopes of a natural element with their abundances (summing to 1)."""
    if element not in _NATURAL:
        raise InputError(
            f"natural mixture: unknown element {element!r}; allowed: {sorted(_NATURAL)}")
    rows = _NATURAL[element][2]
    total = sum(r[2] for r in rows)
    out = {}
    for A, _mass_u, abundance in rows:
        out[ISOTOPES[f"{element}{A}"]] = abundance / total
    return out


# Materials: stoichiometry in the paper's isotopes (formula units).
MATERIALS: dict[str, dict[str, int]] = {
    "CsI": {"Cs133": 1, "I127": 1},
    "Si": {"Si28": 1},
    "Xe": {"Xe132": 1},
    "Ge": {"Ge72": 1},
    "Ar": {"Ar40": 1},
    "C3F8": {"C12": 3, "F19": 8},
    "CS2": {"C12": 1, "S32": 2},
    # heavy-Z' paper Table II (nominal isotope = the most abundant one; use
    # isotopes = "natural" for the natural mixtures)
    "NaI": {"Na23": 1, "I127": 1},
    "Zn": {"Zn64": 1},
    "CaWO4": {"Ca40": 1, "W184": 1, "O16": 4},
    "Al2O3": {"Al27": 2, "O16": 3},
}


def material_composition(material: str, isotopes: str = "paper") -> dict[Isotope, float]:
    """Atoms of each isotope per formula unit of ``material``.

    Args:
      material: a key of ``MATERIALS`` (e.g. ``"CsI"``, ``"C3F8"``).
      isotopes: ``"paper"`` (single isotopes of the light-mediator paper:
        132Xe, 72Ge, ...) or ``"natural"`` (natural mixtures where known).
    """
    if material not in MATERIALS:
        raise InputError(f"detector.material: unknown material {material!r}; "
                         f"allowed: {sorted(MATERIALS)}")
    if isotopes not in ("paper", "natural"):
        raise InputError(f"detector.isotopes: must be 'paper' or 'natural', got {isotopes!r}")
    out: dict[Isotope, float] = {}
    for name, count in MATERIALS[material].items():
        element = name.rstrip("0123456789")
        if isotopes == "natural" and element in _NATURAL:
            for iso, frac in natural_mixture(element).items():
                out[iso] = out.get(iso, 0.0) + count * frac
        else:
            out[ISOTOPES[name]] = out.get(ISOTOPES[name], 0.0) + count
    return out


def molar_mass_g(composition: dict[Isotope, float]) -> float:
    """Molar mass of one formula unit [g/mol]."""
    return sum(iso.atomic_mass_u * n for iso, n in composition.items())


def target_counts(material: str, mass_kg: float, isotopes: str = "paper") -> dict[Isotope, float]:
    """Number of nuclei of each isotope in ``mass_kg`` of ``material``."""
    if not mass_kg > 0:
        raise InputError(f"detector.mass_kg: must be > 0, got {mass_kg}")
    comp = material_composition(material, isotopes)
    formula_units = mass_kg * 1e3 / molar_mass_g(comp) * AVOGADRO
    return {iso: n * formula_units for iso, n in comp.items()}
