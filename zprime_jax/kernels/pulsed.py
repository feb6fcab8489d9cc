"""The kernel of a scintillator at a pulsed source: energy x time (x F90) bins, templates, shipped data.

:func:`build_scintillator_kernel` builds a :class:`rates.RateKernel` whose bins
are the cells of an energy x [F90 x] time grid, flattened with the energy
slowest and time fastest (the LAr release's order). The CEvNS counts in cell
(e, j) are

    N_ej = sum_f P_f[e, j] sum_{t,k} R[t, e, k] w[f, t, k] Q^2[f, t, k]

with R the energy response (:func:`response.energy_response`: quenching,
resolution, efficiency), P_f the fraction of flavour f's events in the other
axes of cell j (the arrival-time fraction of its component, prompt or
delayed, times -- for LAr -- the F90 distribution of energy bin e, read from
the release's CEvNS PDF), w the parameter-free flux-folded weights, Q the
coherent charge. The signal's shape systematics (``[[detector.variants]]``)
are the same sum with the response or the fractions at +1 sigma and at
-1 sigma of one setting: :func:`rates.expected_counts` returns the nominal
counts and every variant, (1 + 2V, B), each still exactly quadratic in g^2 or
gamma. The background templates and the observed data are read here from the
files the spec names and binned on the same grid.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from ..errors import SpecError
from ..physics.constants import KEV_PER_MEV
from ..physics.cross_sections import max_recoil_mev, momentum_transfer_mev
from ..physics.models import FLAVOURS
from ..physics.nuclei import target_counts
from . import response
from .nodes import (
    _folded_weights,
    _form_factors,
    _gauss_legendre_nodes,
    _NucleusNumbers,
    _recoil_breaks,
    _spectral_recoil_breaks,
    _subdivide,
    source_components,
)

# widest recoil-quadrature segment [MeV] (the response varies on the resolution scale, a few keVnr)
RECOIL_SEGMENT_MEV = 1.0e-3


@jax.tree_util.register_dataclass
@dataclass(frozen=True)
class Templates:
    """Background templates on a kernel's bins (a pytree).

    ``nominal`` (C, B) expected counts of each background; ``sigma`` (C,) the fractional
    uncertainty of each normalisation; ``plus`` / ``minus`` (S, B) the 1-sigma variants of the shape
    systematics. Static: ``names`` (C,), ``shape_names`` (S,), ``shape_of`` (S,) the template each
    shape systematic varies.
    """

    nominal: jax.Array
    sigma: jax.Array
    plus: jax.Array
    minus: jax.Array
    names: tuple[str, ...] = dataclasses.field(default=(), metadata={"static": True})
    shape_names: tuple[str, ...] = dataclasses.field(default=(), metadata={"static": True})
    shape_of: tuple[int, ...] = dataclasses.field(default=(), metadata={"static": True})


def grid_shape(det) -> tuple[int, ...]:
    """(Be, [Bf,] Bt): the analysis grid of a scintillator detector."""
    shape = [len(det.energy_edges) - 1]
    if det.f90_edges is not None:
        shape.append(len(det.f90_edges) - 1)
    shape.append(len(det.time_edges_us) - 1)
    return tuple(shape)


def grid_axes(det) -> tuple[tuple[str, str, tuple[float, ...]], ...]:
    """((name, unit, edges), ...) of the analysis grid, energy first, time last."""
    unit = "PE" if det.reconstructed == "pe" else "keVee"
    axes = [("energy", unit, tuple(det.energy_edges))]
    if det.f90_edges is not None:
        axes.append(("f90", "", tuple(det.f90_edges)))
    axes.append(("time", "us", tuple(det.time_edges_us)))
    return tuple(axes)


def _edges_of(det) -> list[np.ndarray]:
    return [np.asarray(e, dtype=float) for _, _, e in grid_axes(det)]


def table_on_grid(path: str, det, field: str) -> np.ndarray:
    """A 3-D table (rows: energy, F90, time centres, value) summed onto the analysis grid, (B,)."""
    from ..spec.releases import _grid, read_table

    if det.f90_edges is None:
        raise SpecError(f"{field}: a 3-D table (energy, F90, time) needs the detector's F90 axis")
    axes, values = _grid(read_table(path, 4), path)
    idx = [response.bin_index(a, e, field, path) for a, e in zip(axes, _edges_of(det))]
    out = np.zeros(grid_shape(det))
    np.add.at(out, np.ix_(*idx), values)
    return out.reshape(-1)


def events_on_grid(path: str, det, field: str) -> np.ndarray:
    """An event list (rows: reconstructed energy, arrival time [µs]) histogrammed on the grid, (B,).

    Events outside the analysis window are not part of the analysis (the window is the selection).
    """
    from ..spec.releases import read_table

    if det.f90_edges is not None:
        raise SpecError(f"{field}: an event list has energy and time columns; this detector also bins F90")
    rows = read_table(path, 2)
    counts, _, _ = np.histogram2d(rows[:, 0], rows[:, 1], bins=_edges_of(det))
    return counts.reshape(-1)


def _pdf_1d(path: str, field: str) -> tuple[np.ndarray, np.ndarray]:
    from ..spec.releases import read_table

    rows = read_table(path, 2)
    if not np.all(np.diff(rows[:, 0]) > 0) or np.any(rows[:, 1] < 0):
        raise SpecError(f"{field}: {path}: bin centres must increase and values be >= 0")
    return rows[:, 0], rows[:, 1]


def separable_template(energy_pdf: str, time_pdf: str, det, field: str) -> np.ndarray:
    """energy PDF (shape, all energies) x time PDF (counts, all energies) x time efficiency, on the grid.

    The release's neutron PDFs: the energy PDF includes the energy efficiency and gives the fraction of
    the events in each energy bin (of all tabulated energies: the window selects), the time PDF gives
    the expected counts per time row before the time efficiency (applied here at each row's centre).
    """
    if det.f90_edges is not None:
        raise SpecError(f"{field}: energy_pdf x time_pdf templates are 2-D; this detector also bins F90")
    edges = _edges_of(det)
    x, p = _pdf_1d(energy_pdf, f"{field}.energy_pdf")
    inside = (x >= edges[0][0]) & (x < edges[0][-1])
    frac_e = np.zeros(edges[0].size - 1)
    np.add.at(frac_e, np.searchsorted(edges[0], x[inside], side="right") - 1, p[inside])
    frac_e = frac_e / p.sum()
    t, c = _pdf_1d(time_pdf, f"{field}.time_pdf")
    c = c * np.asarray(response.time_efficiency_at(jnp.asarray(t), det.time_efficiency))
    inside = (t >= edges[-1][0]) & (t < edges[-1][-1])
    counts_t = np.zeros(edges[-1].size - 1)
    np.add.at(counts_t, np.searchsorted(edges[-1], t[inside], side="right") - 1, c[inside])
    return np.outer(frac_e, counts_t).reshape(-1)


def uniform_in_time(counts: np.ndarray, det) -> np.ndarray:
    """Cell counts (B,) redistributed in arrival time as a beam-unrelated background is: each energy bin
    keeps its total, spread over the time bins as the integral of the time efficiency (the expected
    shape of a steady-state background, free of the event sample's per-cell fluctuations)."""
    shape = grid_shape(det)
    per_energy = counts.reshape(shape).sum(axis=-1, keepdims=True)
    w = response.time_efficiency_integral(det.time_edges_us, det.time_efficiency)
    return (per_energy * (w / w.sum())).reshape(-1)


def _template(t, det, field: str) -> np.ndarray:
    if t.events is not None:
        counts = events_on_grid(t.events, det, f"{field}.events")
        return uniform_in_time(counts, det) if t.time_shape == "uniform" else counts
    if t.pdf is not None:
        return table_on_grid(t.pdf, det, f"{field}.pdf")
    return separable_template(t.energy_pdf, t.time_pdf, det, field)


def build_templates(spec) -> Templates:
    """The spec's ``[[templates]]`` on its grid, with their shape variants (mirrored where one-sided)."""
    det = spec.detector
    nominal, plus, minus, shape_names, shape_of = [], [], [], [], []
    for i, t in enumerate(spec.templates):
        field = f"templates[{i}]"
        nom = _template(t, det, field)
        nominal.append(nom)
        for j, v in enumerate(t.variants):
            p = table_on_grid(v.plus, det, f"{field}.variants[{j}].plus")
            m = (table_on_grid(v.minus, det, f"{field}.variants[{j}].minus") if v.minus is not None
                 else np.maximum(2.0 * nom - p, 0.0))        # mirrored; a negative cell would be unphysical
            plus.append(p)
            minus.append(m)
            shape_names.append(v.name)
            shape_of.append(i)
    n_bins = int(np.prod(grid_shape(det)))
    def stack(rows):
        return jnp.asarray(np.stack(rows)) if rows else jnp.zeros((0, n_bins))

    return Templates(stack(nominal), jnp.asarray([t.sigma for t in spec.templates]), stack(plus), stack(minus),
                     tuple(t.name for t in spec.templates), tuple(shape_names), tuple(shape_of))


def observed_counts(spec) -> np.ndarray | None:
    """The spec's ``[data]`` binned on its grid, or None."""
    if spec.data is None:
        return None
    if spec.data.events is not None:
        return events_on_grid(spec.data.events, spec.detector, "data.events")
    return table_on_grid(spec.data.counts, spec.detector, "data.counts")


def f90_conditional(path: str, det, field: str) -> np.ndarray:
    """(Be, Bf): the F90 distribution in each energy bin, from a 3-D CEvNS PDF (summed over time).

    An energy bin where the PDF is empty gets a uniform F90 distribution (no CEvNS is predicted there
    by the release; documented in docs/conventions.md).
    """
    grid = table_on_grid(path, det, field).reshape(grid_shape(det))
    per_ef = grid.sum(axis=2)
    total = per_ef.sum(axis=1, keepdims=True)
    return np.where(total > 0, per_ef / np.where(total > 0, total, 1.0), 1.0 / per_ef.shape[1])


def _fractions(flavours, det, source, pulse_mean_ns=None, f90_pdf=None):
    """(F, Be, Bj): P_f[e, j] (time fraction x F90 fraction)."""
    time = response.time_fractions(flavours, det.time_edges_us,
                                   source.pulse_mean_ns if pulse_mean_ns is None else pulse_mean_ns,
                                   source.pulse_sigma_ns, det.time_efficiency)           # (F, Bt)
    n_e = len(det.energy_edges) - 1
    if det.f90_edges is None:
        return jnp.broadcast_to(time[:, None, :], (len(flavours), n_e, time.shape[1]))
    cond = jnp.asarray(f90_conditional(f90_pdf or det.f90_pdf, det, "detector.f90_pdf"))  # (Be, Bf)
    return (cond[None, :, :, None] * time[:, None, None, :]).reshape(len(flavours), n_e, -1)


def build_scintillator_kernel(spec, nodes_per_segment: int):
    """:func:`rates.build_kernel` for ``detector.kind = "scintillator"`` (module docstring)."""
    from .rates import RateKernel

    det = spec.detector
    comps = source_components(spec)
    flavours = tuple(dict.fromkeys(c.flavour for c in comps))
    isotopes = target_counts(det.material, det.mass_kg, det.isotopes)
    e_lo = det.recoil_min_kev / KEV_PER_MEV
    per_target = []
    for iso, n in isotopes.items():
        ends = [float(max_recoil_mev(c.max_energy_mev, iso.mass_mev)) for c in comps]
        if max(ends) <= e_lo:
            raise SpecError(f"detector.recoil_min_kev: {det.recoil_min_kev} keV is above the kinematic end point "
                            f"of {iso.name} ({max(ends) * KEV_PER_MEV:.4g} keV)")
        breaks = _recoil_breaks(e_lo, max(ends), ends + _spectral_recoil_breaks(comps, iso.mass_mev))
        nodes, qw = _gauss_legendre_nodes(_subdivide(breaks, lambda e: RECOIL_SEGMENT_MEV), nodes_per_segment)
        per_target.append((iso, n, nodes, qw))
    k_max = max(t[2].size for t in per_target)
    mask = np.arange(k_max)[None, :] < np.asarray([t[2].size for t in per_target])[:, None]
    e_r = jnp.asarray(np.stack([np.pad(t[2], (0, k_max - t[2].size), mode="edge") for t in per_target]))
    quad_w = jnp.asarray(np.stack([np.pad(t[3], (0, k_max - t[3].size)) for t in per_target]))
    m_t = jnp.asarray([t[0].mass_mev for t in per_target])
    weight = _folded_weights(e_r, quad_w, m_t, jnp.asarray([t[1] for t in per_target]), comps, flavours)
    q = momentum_transfer_mev(e_r, m_t[:, None])
    isos = [t[0] for t in per_target]
    nuclei = _NucleusNumbers(*(jnp.asarray([float(getattr(i, a)) for i in isos])
                               for a in ("Z", "A", "N", "rms_charge_radius_fm")))
    ff = jnp.where(jnp.asarray(mask), _form_factors(q, nuclei, det.form_factor), 0.0)

    e_nr_kev = e_r * KEV_PER_MEV
    resp = response.energy_response(e_nr_kev, mask, det)
    fractions = _fractions(flavours, det, spec.source)
    v_resp, v_frac, v_names = [], [], []
    for v in det.variants:
        for sign in ("plus", "minus"):
            r, f = resp, fractions
            if getattr(v, f"quenching_{sign}") is not None:
                r = response.energy_response(e_nr_kev, mask, det, quenching=getattr(v, f"quenching_{sign}"))
            elif getattr(v, f"efficiency_{sign}") is not None:
                r = response.energy_response(e_nr_kev, mask, det, efficiency=getattr(v, f"efficiency_{sign}"))
            elif getattr(v, f"pulse_mean_ns_{sign}") is not None:
                f = _fractions(flavours, det, spec.source, pulse_mean_ns=getattr(v, f"pulse_mean_ns_{sign}"))
            else:
                f = _fractions(flavours, det, spec.source, f90_pdf=getattr(v, f"f90_pdf_{sign}"))
            v_resp.append(r)
            v_frac.append(f)
        v_names.append(v.name)
    templates = build_templates(spec)
    observed = observed_counts(spec)
    return RateKernel(
        e_r_mev=e_r, q_mev=q, form_factor=ff,
        Z=jnp.asarray([float(i.Z) for i in isos]), N=jnp.asarray([float(i.N) for i in isos]),
        weight=weight, response=resp,
        background=jnp.sum(templates.nominal, axis=0),
        edges_kev=jnp.asarray(det.energy_edges, dtype=float) / (det.light_yield_pe_per_kevee or 1.0),
        name=spec.name, targets=tuple(i.name for i in isos), flavours=flavours,
        flavour_index=tuple(FLAVOURS.index(f) for f in flavours), statistics=spec.statistics,
        fractions=fractions,
        variant_response=jnp.stack(v_resp) if v_resp else None,
        variant_fractions=jnp.stack(v_frac) if v_frac else None,
        templates=templates,
        observed=None if observed is None else jnp.asarray(observed),
        axes=grid_axes(det), variant_names=tuple(v_names))
