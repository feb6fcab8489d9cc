"""Isotopes, materials by stoichiometry, and target counts.

An isotope carries Z, A, its nuclear mass [MeV] and its rms charge radius
[fm]. The radii of the light-mediator paper's Table 1 (from Angeli & Marinova,
At. Data Nucl. Data Tables 99 (2013) 69) are used for the isotopes it lists.
Atomic masses are from AME2016 (in u); the nuclear mass is the atomic mass
minus Z electron masses (electron binding energies, < 0.1 MeV, neglected).

Natural isotopic mixtures (IUPAC 2013 abundances) are an option for Xe and Ge.
For the isotopes the paper does not list, the charge radius is scaled from
the paper's reference isotope as A^(1/3) -- an approximation good to better
than 0.5% for these neighbours (documented in docs/conventions.md).
"""

from __future__ import annotations

from dataclasses import dataclass

from .constants import AMU_MEV, AVOGADRO, M_ELECTRON_MEV


@dataclass(frozen=True)
class Isotope:
    """A nuclear isotope.

    Attributes:
      name: e.g. ``"Cs133"``.
      Z, A: proton and mass number.
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


def _scaled_radius(reference: str, A: int) -> float:
    ref = ISOTOPES[reference]
    return ref.rms_charge_radius_fm * (A / ref.A) ** (1.0 / 3.0)


# Natural isotopic composition (IUPAC 2013 abundances; AME2016 masses).
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
}


def natural_mixture(element: str) -> dict[Isotope, float]:
    """Isotopes of a natural element with their abundances (summing to 1)."""
    if element not in _NATURAL:
        raise ValueError(
            f"natural mixture: unknown element {element!r}; allowed: {sorted(_NATURAL)}")
    reference, Z, rows = _NATURAL[element]
    total = sum(r[2] for r in rows)
    out = {}
    for A, mass_u, abundance in rows:
        name = f"{element}{A}"
        iso = ISOTOPES.get(name) or Isotope(name, Z, A, mass_u, _scaled_radius(reference, A))
        out[iso] = abundance / total
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
}


def material_composition(material: str, isotopes: str = "paper") -> dict[Isotope, float]:
    """Atoms of each isotope per formula unit of ``material``.

    Args:
      material: a key of ``MATERIALS`` (e.g. ``"CsI"``, ``"C3F8"``).
      isotopes: ``"paper"`` (single isotopes of the light-mediator paper:
        132Xe, 72Ge, ...) or ``"natural"`` (natural mixtures where known).
    """
    if material not in MATERIALS:
        raise ValueError(f"detector.material: unknown material {material!r}; "
                         f"allowed: {sorted(MATERIALS)}")
    if isotopes not in ("paper", "natural"):
        raise ValueError(f"detector.isotopes: must be 'paper' or 'natural', got {isotopes!r}")
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
        raise ValueError(f"detector.mass_kg: must be > 0, got {mass_kg}")
    comp = material_composition(material, isotopes)
    formula_units = mass_kg * 1e3 / molar_mass_g(comp) * AVOGADRO
    return {iso: n * formula_units for iso, n in comp.items()}
