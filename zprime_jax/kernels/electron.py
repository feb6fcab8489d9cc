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

A light vector mediator (:class:`models.VectorMediator`) adds delta g_L = delta g_R
that depends on the recoil through the propagator at |q|^2 = 2 m_e T_e
(``model.electron_shift``; the charged-lepton loop and the dark photon's Z
mixing included). The counts are then the closed form above at the SM
couplings plus the integral of the terms linear and quadratic in delta,
by Gauss-Legendre quadrature in t = ln(T_e + c), c = m_Z'^2 / (2 m_e): the
propagator pole sits at T_e = -c, and in t the integrand is a sum of a few
exponentials over a span ln((b + c)/(a + c)) for every mass -- peaked at
T_e -> 0 for m_Z' << sqrt(2 m_e T_e), flat for a heavy one -- with no
cancellation (:func:`shift_integrals`; tested against SciPy quad).

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
from ..physics.constants import KEV_PER_MEV, M_ELECTRON_MEV, M_Z_MEV, MEV2_TO_CM2, MEV_PER_GEV
from ..physics.cross_sections import electron_max_recoil_mev, nue_prefactor_mev2, nue_recoil_integrals
from ..physics.fluxes import line_source_fluence_per_cm2
from ..physics.models import FLAVOURS

TARGET_NAME = "electrons"

# Gauss-Legendre nodes on [0, 1] for the light-mediator terms, in t = ln(T_e + c): the integrand is a sum
# of exp(k t), |k| <= 2, over a span up to ~ln(T/c) ~ 20 (m_Z' = 1e-5 MeV); 32 nodes give < 1e-12 there
# (tests/test_electron.py against SciPy quad).
_GL_X, _GL_W = np.polynomial.legendre.leggauss(32)
SHIFT_NODES = 0.5 * (_GL_X + 1.0)
SHIFT_WEIGHTS = 0.5 * _GL_W


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
      segment_lo    (L, B)     lower end of each bin cut to [0, T_e^max] of line l [MeV]
      segment_width (L, B)     its width (0 above the line's end point) [MeV]
      line_energy   (L,)       E_nu of each line [MeV]
      line_scale    (L,)       alpha_l times the exposure factor and prefactor of ``coefficients``

    Static fields: ``name``, ``targets`` (("electrons",)), ``flavours``,
    ``flavour_index`` (positions in ``models.FLAVOURS``), ``statistics`` (the
    spec's ``[statistics]`` table: eq. 23, read by ``likelihood.likelihood_for``),
    ``antineutrino`` (the source emits antineutrinos: g_L and g_R exchange roles in eq. 6).
    """

    coefficients: jax.Array
    has_events: jax.Array
    background: jax.Array
    edges_kev: jax.Array
    segment_lo: jax.Array
    segment_width: jax.Array
    line_energy: jax.Array
    line_scale: jax.Array
    name: str = ""
    targets: tuple[str, ...] = (TARGET_NAME,)
    flavours: tuple[str, ...] = ()
    flavour_index: tuple[int, ...] = ()
    statistics: object = None
    antineutrino: bool = False

    @property
    def n_bins(self) -> int:
        return self.background.shape[0]


jax.tree_util.register_dataclass(
    ElectronKernel,
    data_fields=["coefficients", "has_events", "background", "edges_kev", "segment_lo", "segment_width",
                 "line_energy", "line_scale"],
    meta_fields=["name", "targets", "flavours", "flavour_index", "statistics", "antineutrino"],
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
    antineutrino = src.flavour.startswith("nubar")
    if antineutrino:                                                       # eq. (6) with g_L <-> g_R
        coefficients = coefficients[[1, 0, 2]]
    energies = np.asarray(src.line_energies_kev, dtype=float) / KEV_PER_MEV
    t_max = np.asarray(electron_max_recoil_mev(energies))[:, None]         # (L, 1)
    seg_hi = np.clip(hi[None], 0.0, t_max)
    seg_lo = np.minimum(np.clip(lo[None], 0.0, None), seg_hi)
    has_events = (edges_kev[:-1] < float(t_max.max()) * KEV_PER_MEV).astype(float)
    return ElectronKernel(
        coefficients=jnp.asarray(coefficients[None]), has_events=jnp.asarray(has_events),
        background=jnp.zeros(n_bins), edges_kev=jnp.asarray(edges_kev), segment_lo=jnp.asarray(seg_lo),
        segment_width=jnp.asarray(seg_hi - seg_lo), line_energy=jnp.asarray(energies),
        line_scale=jnp.asarray(scale * np.asarray(src.line_fractions, dtype=float)), name=spec.name,
        flavours=(src.flavour,), flavour_index=(FLAVOURS.index(src.flavour),), statistics=spec.statistics,
        antineutrino=antineutrino)


def _chiral(model, params):
    if not hasattr(model, "electron_couplings"):
        raise InputError(f"model: {model.name!r} has no neutrino-electron couplings; nu-e scattering is "
                         "implemented for the SM and the heavy Z' models (lr, e6-*)")
    return model.electron_couplings(params)


def _counts_from_couplings(coefficients, g_l, g_r):
    """(F, B) counts from (F, 3, B) coefficients and per-source-flavour couplings (F,)."""
    return (coefficients[:, 0] * (g_l * g_l)[:, None] + coefficients[:, 1] * (g_r * g_r)[:, None]
            - coefficients[:, 2] * (g_l * g_r)[:, None])


def _recoil_nodes(kernel: ElectronKernel, mass_mev):
    """Recoils T_e [MeV] and quadrature weights [MeV] of every (line, bin, node), shape (L, B, K) each:
    Gauss-Legendre in t = ln(T_e + c), c = m^2 / (2 m_e) (module docstring), T_e = a + (a + c) expm1(t')."""
    c = mass_mev**2 / (2.0 * M_ELECTRON_MEV)
    a = kernel.segment_lo[..., None]                                    # (L, B, 1)
    span = jnp.log1p(kernel.segment_width[..., None] / (a + c))         # ln((b + c)/(a + c))
    t = span * SHIFT_NODES.reshape(1, 1, -1)                              # (L, B, K)
    recoil = a + (a + c) * jnp.expm1(t)
    weight = (a + c) * jnp.exp(t) * span * SHIFT_WEIGHTS.reshape(1, 1, -1)
    return recoil, weight


def shift_integrals(params, kernel: ElectronKernel, model):
    """The light mediator's terms of eq. (19): the counts linear and quadratic in delta g (F, B) each.

    With delta g_L = delta g_R = delta(T_e) (``model.electron_shift`` at |q| = sqrt(2 m_e T_e)),
    eq. (6) gains w_LL (2 g_L d + d^2) + w_RR(T) (2 g_R d + d^2) - w_LR(T) ((g_L + g_R) d + d^2),
    w_LL = 1, w_RR = (1 - T/E)^2, w_LR = m_e T / E^2 (g_L <-> g_R for antineutrinos), integrated over
    each bin with :func:`_recoil_nodes`. Exactly linear and quadratic in g^2: the quadratic one is
    also the x^2 term of :func:`counts_polynomial`.
    """
    recoil, weight = _recoil_nodes(kernel, params.mass_mev)
    idx = jnp.asarray(kernel.flavour_index)
    g_l, g_r = (jnp.asarray(g)[idx] for g in model.electron_couplings(params))        # (F,)
    if kernel.antineutrino:
        g_l, g_r = g_r, g_l
    d = model.electron_shift(params, jnp.sqrt(2.0 * M_ELECTRON_MEV * recoil))[idx]     # (F, L, B, K)
    e = kernel.line_energy[:, None, None]
    w_rr = ((1.0 - recoil / e) ** 2)[None]                              # (1, L, B, K)
    w_lr = (M_ELECTRON_MEV * recoil / (e * e))[None]
    sl, sr = g_l[:, None, None, None], g_r[:, None, None, None]
    linear = d * (2.0 * sl + 2.0 * sr * w_rr - (sl + sr) * w_lr)
    quadratic = d * d * (1.0 + w_rr - w_lr)
    scale = (kernel.line_scale[:, None, None] * weight)[None]           # (1, L, B, K)
    return (jnp.sum(scale * linear, axis=(1, 3)), jnp.sum(scale * quadratic, axis=(1, 3)))


def _light(model) -> bool:
    from .rates import model_family

    return model_family(model) == "light"


def _closed_form_counts(params, kernel: ElectronKernel, model):
    """(F, B): eq. (19) at the model's constant chiral couplings, the closed-form bin integrals."""
    g_l, g_r = _chiral(model, params)
    idx = jnp.asarray(kernel.flavour_index)
    return _counts_from_couplings(kernel.coefficients, jnp.asarray(g_l)[idx], jnp.asarray(g_r)[idx])


def expected_counts(params, kernel: ElectronKernel, model, breakdown: bool = False):
    """Expected nu-e events per bin (eq. 19): shape (B,), or (F, 1, B) with ``breakdown``.

    ``model.electron_couplings(params)`` gives the per-flavour (g_L, g_R) of
    eq. 7 (SM), 10 (Left-Right) or 14-15 (E6); a light mediator adds its
    recoil-dependent terms (:func:`shift_integrals`). The breakdown's middle
    axis is the single target, the electrons, as in :func:`rates.expected_counts`.
    """
    per = _closed_form_counts(params, kernel, model)
    if _light(model):
        linear, quadratic = shift_integrals(params, kernel, model)
        per = per + linear + quadratic
    return per[:, None, :] if breakdown else jnp.sum(per, axis=0)


def counts_polynomial(kernel: ElectronKernel, model, fixed):
    """(3, B): N_i(x) = c0 + c1 x + c2 x^2 at fixed cos beta (heavy, x = gamma = (M_Z/M_Z')^2) or fixed
    mass (light, x = g^2); :func:`rates.counts_polynomial` for nu-e.

    Exact for both families. Left-Right and E6 couplings are affine in gamma (eqs. 9-10, 15), so
    f = a + gamma c and eq. (6) is quadratic in gamma; a light mediator's delta g is proportional to
    g^2, so its linear and quadratic terms (:func:`shift_integrals` at g = 1) are c1 and c2. Tested
    against :func:`expected_counts`.
    """
    from ..physics.models import HeavyZPrime, LightZPrime

    if _light(model):
        c0 = jnp.sum(_closed_form_counts(LightZPrime(fixed, 0.0), kernel, model), axis=0)     # the SM: g = 0
        linear, quadratic = shift_integrals(LightZPrime(fixed, 1.0), kernel, model)
        return jnp.stack([c0, jnp.sum(linear, axis=0), jnp.sum(quadratic, axis=0)])
    idx = jnp.asarray(kernel.flavour_index)

    def couplings(mass_gev):
        g_l, g_r = _chiral(model, HeavyZPrime(mass_gev, fixed))
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
