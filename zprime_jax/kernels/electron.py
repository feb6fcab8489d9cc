"""Neutrino-electron scattering of a radioactive line source (heavy-Z' paper sec. 3.2, eqs. 6, 18-20, 23).

Data flow, as for CEvNS (``rates.py``): the spec is turned once into an
:class:`ElectronKernel` holding everything that does not depend on the Z'
parameters; :func:`expected_counts` is then a pure, jit/vmap/grad-able
contraction with the model's chiral couplings.

Eq. (19) per bin i and line l (energy E_l, neutrinos per decay alpha_l):

    N_i = F sum_l alpha_l int_{T_i}^{T_i + dT} dsigma/dT_e(E_l, T_e) dT_e,
    F   = Phi_avg V n_e dt,   Phi_avg = phi_0 (1 m^2) <1/r^2> <R>     (eqs. 18, 20)

and eq. (6) is quadratic in the couplings, so

    N_i = c_LL,i g_L^2 + c_RR,i g_R^2 - c_LR,i g_L g_R

with the bin integrals of :func:`cross_sections.nue_recoil_integrals` in
closed form: the counts are exact (no quadrature). For an antineutrino
source the roles of g_L and g_R in eq. (6) are exchanged at build time.
The chiral couplings come from the same model objects as CEvNS
(``model.electron_couplings(params)``: eq. 7 for the SM, eq. 10 for
Left-Right, eqs. 14-15 for E6) -- one model, two processes.

Statistics (eq. 23): chi^2 = sum_i (N_SM,i - N_i)^2 / N_SM,i over the bins
with events (bins above the kinematic end point carry none and are left out).
"""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from ..errors import InputError
from ..kernels import detectors
from ..physics.constants import KEV_PER_MEV, M_Z_MEV, MEV2_TO_CM2, MEV_PER_GEV
from ..physics.cross_sections import electron_max_recoil_mev, nue_prefactor_mev2, nue_recoil_integrals
from ..physics.fluxes import line_source_fluence_per_cm2
from ..physics.models import FLAVOURS

TARGET_NAME = "electrons"


@dataclass(frozen=True)
class ElectronKernel:
    """Everything about a nu-e experiment that does not depend on the Z' parameters.

    Array fields (pytree leaves), F flavours, B bins:

      coefficients  (F, 3, B)  events per unit g_L^2, g_R^2 and -g_L g_R in each
                               bin (exposure, electrons, efficiency, cm^2 applied)
      has_events    (B,)       1.0 where the bin lies (partly) below the end
                               point of the highest line, else 0.0
      background    (B,)       expected background per bin (zero: eq. 23 has none)
      edges_kev     (B+1,)     electron-recoil bin edges [keV]

    Static fields: ``name``, ``targets`` (("electrons",)), ``flavours``,
    ``flavour_index`` (positions in ``models.FLAVOURS``), ``statistics`` (the
    spec's ``[statistics]`` table: eq. 23, read by ``likelihood.likelihood_for``).
    """

    coefficients: jax.Array
    has_events: jax.Array
    background: jax.Array
    edges_kev: jax.Array
    name: str = ""
    targets: tuple[str, ...] = (TARGET_NAME,)
    flavours: tuple[str, ...] = ()
    flavour_index: tuple[int, ...] = ()
    statistics: object = None

    @property
    def n_bins(self) -> int:
        return self.background.shape[0]


jax.tree_util.register_dataclass(
    ElectronKernel,
    data_fields=["coefficients", "has_events", "background", "edges_kev"],
    meta_fields=["name", "targets", "flavours", "flavour_index", "statistics"],
)


def exposure_factor_cm2(spec) -> float:
    """Neutrinos per cm^2 (over the exposure) times target electrons: F of eq. (19) in 1/cm^2.

    F = Phi_avg V n_e dt with Phi_avg = phi_0 <1/r^2> <R> (eqs. 18, 20),
    times the flat efficiency.
    """
    src, det = spec.source, spec.detector
    inv_r2 = detectors.cylinder_mean_inverse_square_m2(det.source_distance_m, det.height_m, det.diameter_m)
    fluence = line_source_fluence_per_cm2(src.initial_activity_mci, src.exposure_days, inv_r2,
                                          src.flux_per_mci_at_1m, src.mean_life_days)
    electrons = (detectors.cylinder_volume_m3(det.height_m, det.diameter_m)
                 * detectors.electron_density_per_m3(det.density_g_cm3, det.atomic_number, det.molar_mass_g_mol))
    return float(fluence) * electrons * det.efficiency


def build_electron_kernel(spec) -> ElectronKernel:
    """Build the kernel of a nu-e experiment (source kind "radioactive", detector "electron-scattering")."""
    src, det = spec.source, spec.detector
    if det.kind != "electron-scattering" or src.kind != "radioactive":
        raise InputError(f"experiment {spec.name!r}: not a nu-e experiment "
                         "(needs detector.kind = 'electron-scattering' and source.kind = 'radioactive')")
    n_bins = int(det.n_bins)
    edges_kev = det.threshold_kev + det.bin_width_kev * np.arange(n_bins + 1)
    lo, hi = edges_kev[:-1] / KEV_PER_MEV, edges_kev[1:] / KEV_PER_MEV
    integrals = np.zeros((3, n_bins))
    for e_kev, alpha in zip(src.line_energies_kev, src.line_fractions):
        integrals += alpha * np.stack([np.asarray(i) for i in nue_recoil_integrals(e_kev / KEV_PER_MEV, lo, hi)])
    scale = exposure_factor_cm2(spec) * float(nue_prefactor_mev2()) * MEV2_TO_CM2
    coefficients = scale * integrals                                       # (3, B): LL, RR, LR
    if src.flavour.startswith("nubar"):                                    # eq. (6) with g_L <-> g_R
        coefficients = coefficients[[1, 0, 2]]
    t_end = float(electron_max_recoil_mev(max(src.line_energies_kev) / KEV_PER_MEV)) * KEV_PER_MEV
    has_events = (edges_kev[:-1] < t_end).astype(float)
    return ElectronKernel(
        coefficients=jnp.asarray(coefficients[None]), has_events=jnp.asarray(has_events),
        background=jnp.zeros(n_bins), edges_kev=jnp.asarray(edges_kev), name=spec.name,
        flavours=(src.flavour,), flavour_index=(FLAVOURS.index(src.flavour),), statistics=spec.statistics)


def _chiral(model, params):
    if not hasattr(model, "electron_couplings"):
        raise InputError(f"model: {model.name!r} has no neutrino-electron couplings; nu-e scattering is "
                         "implemented for the SM and the heavy Z' models (lr, e6-*)")
    return model.electron_couplings(params)


def _counts_from_couplings(coefficients, g_l, g_r):
    """(F, B) counts from (F, 3, B) coefficients and per-source-flavour couplings (F,)."""
    return (coefficients[:, 0] * (g_l * g_l)[:, None] + coefficients[:, 1] * (g_r * g_r)[:, None]
            - coefficients[:, 2] * (g_l * g_r)[:, None])


def expected_counts(params, kernel: ElectronKernel, model, breakdown: bool = False):
    """Expected nu-e events per bin (eq. 19): shape (B,), or (F, 1, B) with ``breakdown``.

    ``model.electron_couplings(params)`` gives the per-flavour (g_L, g_R) of
    eq. 7 (SM), 10 (Left-Right) or 14-15 (E6). The breakdown's middle axis
    is the single target, the electrons, as in :func:`rates.expected_counts`.
    """
    g_l, g_r = _chiral(model, params)
    idx = jnp.asarray(kernel.flavour_index)
    per = _counts_from_couplings(kernel.coefficients, jnp.asarray(g_l)[idx], jnp.asarray(g_r)[idx])
    return per[:, None, :] if breakdown else jnp.sum(per, axis=0)


def counts_gamma_polynomial(kernel: ElectronKernel, model, cos_beta=0.0):
    """(3, B): N_i(gamma) = c0 + c1 gamma + c2 gamma^2 at fixed beta, gamma = (M_Z/M_Z')^2.

    Exact for Left-Right and E6: their couplings are affine in gamma (eqs. 9-10,
    15), so f = a + gamma c and eq. (6) is quadratic in gamma. Tested against
    :func:`expected_counts`.
    """
    from ..physics.models import HeavyZPrime

    idx = jnp.asarray(kernel.flavour_index)

    def couplings(mass_gev):
        g_l, g_r = _chiral(model, HeavyZPrime(mass_gev, cos_beta))
        return jnp.asarray(g_l)[idx], jnp.asarray(g_r)[idx]

    al, ar = couplings(jnp.inf)                       # gamma = 0: the SM
    bl, br = couplings(M_Z_MEV / MEV_PER_GEV)                # gamma = 1
    cl, cr = bl - al, br - ar
    k = kernel.coefficients                           # (F, 3, B)

    def contract(x_l, x_r, y_l, y_r):                 # symmetric bilinear form of eq. (6)
        return jnp.sum(k[:, 0] * (x_l * y_l)[:, None] + k[:, 1] * (x_r * y_r)[:, None]
                       - 0.5 * k[:, 2] * (x_l * y_r + x_r * y_l)[:, None], axis=0)

    return jnp.stack([contract(al, ar, al, ar), 2.0 * contract(al, ar, cl, cr), contract(cl, cr, cl, cr)])


def chi2_gaussian_sm(n_theory, n_sm, has_events, luminosity=1.0):
    """Eq. (23): sum_i (N_SM,i - N_th,i)^2 / N_SM,i over the bins with events.

    ``luminosity`` (F'/F) scales both counts. Bins without events are masked
    with a safe denominator so that gradients stay finite.
    """
    ok = has_events > 0
    n_sm = luminosity * n_sm
    r = n_sm - luminosity * n_theory
    safe = jnp.where(ok, n_sm, 1.0)
    return jnp.sum(jnp.where(ok, r * r / safe, 0.0))
