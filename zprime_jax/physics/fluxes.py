"""Neutrino sources: spectra normalised to one neutrino, and their fluence.

A source is a tuple of :class:`FluxComponent` (one per flavour and shape;
defined with its kinematic folding, :func:`folded_kinematic_weight`, in
:mod:`zprime_jax.physics.flux_component`). This module owns the accelerator
sources: pion decay at rest (the ESS of the light-mediator paper, the SNS of
the heavy-Z' paper) and the LBNF beam dump (its packaged flux table). It is
also the one place the kernels import sources from: the reactor spectra
(:mod:`zprime_jax.physics.reactor`) and the 51Cr line source
(:mod:`zprime_jax.physics.radioactive`) are re-exported here.
"""

from __future__ import annotations

import math

import jax.numpy as jnp
import numpy as np

from ..errors import InputError
from ..physics.constants import CM_PER_M, M_MUON_MEV, M_PION_CHARGED_MEV
from ..physics.flux_component import (  # re-exported: the kernels import them from here
    _GL_W,  # noqa: F401
    _GL_X,  # noqa: F401
    FluxComponent,
    folded_kinematic_weight,  # noqa: F401
)
from ..physics.radioactive import (  # noqa: F401  (re-exported)
    CR51_FLUX_PER_MCI_AT_1M,
    CR51_LINE_FRACTIONS,
    CR51_LINES_KEV,
    CR51_MEAN_LIFE_DAYS,
    line_source_fluence_per_cm2,
    time_averaged_activity,
)
from ..physics.reactor import (  # noqa: F401  (re-exported)
    _GL64_W,
    _GL64_X,
    _KOP_E,
    _KOP_V,
    HUBER_MUELLER_COEFFICIENTS,
    JOULE_PER_MEV,
    KOPEIKIN_TABLE,
    REACTOR_E_MAX_MEV,
    REACTOR_ENERGY_PER_FISSION_MEV,
    REACTOR_FISSION_FRACTIONS,
    REACTOR_ISOTOPES,
    REACTOR_JOIN_MEV,
    REACTOR_MAX_ENERGY_MEV,
    _fractions_key,
    _normalised_reactor_spectrum,
    huber_mueller_neutrinos_per_fission,
    huber_mueller_spectrum,
    kopeikin_neutrinos_per_fission,
    kopeikin_spectrum,
    mean_energy_per_fission_mev,
    neutrinos_per_fission,
    reactor_breakpoints_mev,
    reactor_fissions_per_second,
    reactor_source,
    reactor_spectrum_per_fission,
)

# --- pion decay at rest (light-mediator paper eq. 3.6, corrected) ----------

PROMPT_NU_MU_ENERGY_MEV = (M_PION_CHARGED_MEV**2 - M_MUON_MEV**2) / (2.0 * M_PION_CHARGED_MEV)
MICHEL_END_POINT_MEV = M_MUON_MEV / 2.0


def michel_numubar(e_mev):
    """nubar_mu spectrum from mu+ decay at rest [1/MeV], normalised to 1.

    (64/m_mu) (E/m_mu)^2 (3/4 - E/m_mu) for 0 <= E <= m_mu/2. Eq. 3.6 as
    printed has E/m_pi and a reversed step (paper-notes 1); this is the
    physically correct form.
    """
    x = jnp.asarray(e_mev) / M_MUON_MEV
    inside = (x >= 0.0) & (x <= 0.5)
    return jnp.where(inside, 64.0 / M_MUON_MEV * x**2 * (0.75 - x), 0.0)


def michel_nue(e_mev):
    """nu_e spectrum from mu+ decay at rest [1/MeV], normalised to 1.

    (192/m_mu) (E/m_mu)^2 (1/2 - E/m_mu) for 0 <= E <= m_mu/2 (corrected eq. 3.6).
    """
    x = jnp.asarray(e_mev) / M_MUON_MEV
    inside = (x >= 0.0) & (x <= 0.5)
    return jnp.where(inside, 192.0 / M_MUON_MEV * x**2 * (0.5 - x), 0.0)


def pion_dar_fluence_per_cm2(nu_per_proton: float, protons: float, distance_m: float) -> float:
    """eta = phi_{nu/POT} N_POT / (4 pi L^2) [1/cm^2] per flavour (eq. 3.7)."""
    distance_cm = distance_m * CM_PER_M
    return nu_per_proton * protons / (4.0 * math.pi * distance_cm**2)


def pion_dar_source(nu_per_proton: float, protons: float, distance_m: float) -> tuple[FluxComponent, ...]:
    """The three pi-DAR components: prompt nu_mu line, delayed nubar_mu and nu_e."""
    eta = pion_dar_fluence_per_cm2(nu_per_proton, protons, distance_m)
    support = (0.0, MICHEL_END_POINT_MEV)
    return (
        FluxComponent("nu_mu", eta, line_energy_mev=PROMPT_NU_MU_ENERGY_MEV, label="prompt"),
        FluxComponent("nubar_mu", eta, spectrum=michel_numubar, breakpoints_mev=support, label="delayed"),
        FluxComponent("nu_e", eta, spectrum=michel_nue, breakpoints_mev=support, label="delayed"),
    )


# --- LBNF beam dump (light-mediator paper sec. 3.1) -------------------------

LBNF_TABLE = "lbnf_nd_flux.csv"
LBNF_COLUMNS = ("nu_mu", "nubar_mu", "nu_e", "nubar_e")
M2_PER_CM2 = 1e-4


def load_flux_table(name: str = LBNF_TABLE):
    """A packaged flux table: (bin centres [GeV], {flavour: values [nu/m^2/GeV/POT]}).

    The file's header comments give its source and units.
    """
    from importlib import resources

    text = (resources.files("zprime_jax") / "data" / name).read_text()
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]
    header = [h.strip() for h in lines[0].split(",")]
    if header[1:] != list(LBNF_COLUMNS):
        raise InputError(f"flux table {name}: columns {header}, expected e_centre_gev + {LBNF_COLUMNS}")
    data = np.array([[float(x) for x in ln.split(",")] for ln in lines[1:]])
    centres = data[:, 0]
    return centres, {f: data[:, i + 1] for i, f in enumerate(LBNF_COLUMNS)}


def histogram_spectrum(edges_mev: np.ndarray, values: np.ndarray):
    """A piecewise-constant spectrum normalised to 1 [1/MeV] (bin-averaged table values)."""
    widths = np.diff(edges_mev)
    density = np.asarray(values, dtype=float) / np.sum(values * widths)
    lo, width = float(edges_mev[0]), float(widths[0])
    if not np.allclose(widths, width):
        raise InputError("flux table: bins must be of equal width")
    density_j = jnp.asarray(density)
    n = density.size

    def spectrum(e_mev):
        idx = jnp.clip(jnp.floor((jnp.asarray(e_mev) - lo) / width).astype(int), 0, n - 1)
        inside = (e_mev >= lo) & (e_mev <= float(edges_mev[-1]))
        return jnp.where(inside, density_j[idx], 0.0)

    return spectrum


def lbnf_source(protons_on_target: float, flavours: tuple[str, ...] = ("nu_mu",),
                max_energy_gev: float = 5.0, table: str = LBNF_TABLE) -> tuple[FluxComponent, ...]:
    """LBNF beam-dump flux at the near detector, as a histogram of bin-averaged values.

    Args:
      protons_on_target: total POT over the exposure.
      flavours: columns of the table to use (default: the paper's pure nu_mu beam).
      max_energy_gev: upper end of the spectrum [GeV]; must be a bin edge
        (the paper uses 5 GeV).
    The fluence of each flavour is its integral up to ``max_energy_gev``
    [nu/m^2/POT] x POT, converted to cm^-2.
    """
    centres, columns = load_flux_table(table)
    width = float(centres[1] - centres[0])
    edges = np.concatenate([centres - width / 2, [centres[-1] + width / 2]])
    n_bins = int(round((max_energy_gev - edges[0]) / width))
    if n_bins < 1 or n_bins > centres.size or abs(edges[n_bins] - max_energy_gev) > 1e-9:
        raise InputError(f"source.max_energy_gev: must be a bin edge of the table between "
                         f"{edges[1]} and {edges[-1]} GeV, got {max_energy_gev}")
    edges_mev = edges[: n_bins + 1] * 1e3
    out = []
    for f in flavours:
        if f not in columns:
            raise InputError(f"source.flavours: unknown flavour {f!r}; allowed: {list(LBNF_COLUMNS)}")
        values = columns[f][:n_bins]
        per_pot_per_m2 = float(np.sum(values * width))      # [nu/m^2/POT]
        out.append(FluxComponent(f, per_pot_per_m2 * protons_on_target * M2_PER_CM2,
                                 spectrum=histogram_spectrum(edges_mev, values),
                                 breakpoints_mev=tuple(edges_mev.tolist()), label="beam dump"))
    return tuple(out)


# --- heavy-Z' paper (Miranda et al. 2020, sec. 3.1) sources -----------------

# COHERENT's pi-DAR yield, r = 0.08 nu per flavour per proton (Akimov et al.,
# Science 357 (2017) 1123); the same Michel spectra and prompt line as above
# (heavy-Z' paper eq. 17).
SNS_NU_PER_PROTON_PER_FLAVOUR = 0.08


def sns_source(protons_on_target: float, distance_m: float,
               nu_per_proton: float = SNS_NU_PER_PROTON_PER_FLAVOUR) -> tuple[FluxComponent, ...]:
    """SNS pi-DAR source: prompt nu_mu line, delayed nubar_mu and nu_e (eq. 17).

    Args:
      protons_on_target: total protons over the exposure.
      distance_m: baseline [m].
      nu_per_proton: neutrinos per flavour per proton (default 0.08).
    """
    return pion_dar_source(nu_per_proton, protons_on_target, distance_m)
