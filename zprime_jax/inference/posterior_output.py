"""Writers of a posterior result: samples (NPZ, NetCDF via ArviZ), the JSON summary and the figure."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from ..io import strict_result, write_json


def summary_dict(result: dict) -> dict:
    """The JSON summary of a posterior result (no samples; strict JSON: NaN -> null beside a warning)."""
    keys = ("experiments", "model", "plane", "likelihoods", "settings", "diagnostics", "max_r_hat", "min_n_eff",
            "divergences", "mean_steps", "credible_limits", "frequentist", "best_fit", "init", "timing", "warnings")
    return strict_result({k: result[k] for k in keys if result.get(k) is not None})


def write_outputs(result: dict, out_dir, mcmc=None) -> dict:
    """Write the samples (NPZ, and ArviZ InferenceData as NetCDF), the JSON summary and the plot to ``out_dir``.

    A failure to write the NetCDF file (ArviZ or its NetCDF backend missing or
    failing) is reported in ``result["warnings"]`` and the summary, not swallowed.
    """
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    files = {"samples_npz": str(folder / "posterior_samples.npz"),
             "summary_json": str(folder / "posterior_summary.json"),
             "plot": str(folder / "posterior.png")}
    np.savez(files["samples_npz"], **result["samples"], experiments=np.asarray(result["experiments"]))
    if mcmc is not None:
        try:
            with warnings.catch_warnings():      # ArviZ 0.2x announces its 1.0 refactor at import
                warnings.simplefilter("ignore", FutureWarning)
                import arviz
            arviz.from_numpyro(mcmc).to_netcdf(str(folder / "posterior.nc"))
            files["samples_netcdf"] = str(folder / "posterior.nc")
        except Exception as err:        # reported: the NPZ file holds the same samples
            result.setdefault("warnings", []).append(
                f"posterior.nc: ArviZ InferenceData not written ({type(err).__name__}: {err})")
    posterior_figure(files["plot"], result)
    summary = summary_dict(result)
    summary["files"] = files
    write_json(files["summary_json"], summary)
    return files


def _light_axes(ax, result):
    s = result["settings"]
    m = result["samples"]["mass_mev"].ravel()
    g = result["samples"]["coupling"].ravel()
    x_edges = np.logspace(*np.log10(s["mass_range_mev"]), 41)
    y_edges = np.logspace(*np.log10(s["coupling_range"]), 51)
    h, _, _ = np.histogram2d(m, g, bins=(x_edges, y_edges))
    mesh = ax.pcolormesh(x_edges, y_edges, np.ma.masked_equal(h.T, 0), cmap="Blues", shading="flat")
    cl = result["credible_limits"]
    ax.hlines(cl["coupling_upper"], cl["mass_lo_mev"], cl["mass_hi_mev"], colors="tab:red", lw=2.0,
              label=f"{100 * s['cred']:.0f}% credible upper limit (per slice)")
    freq = result.get("frequentist")
    if freq is not None:
        ax.plot(freq["mass_mev"], freq["coupling"], color="black", lw=1.6,
                label=f"{100 * s['cred']:.0f}% CL frequentist (first crossing)")
        for i, line in enumerate(freq.get("contour", [])):
            ax.plot(line[:, 0], line[:, 1], color="black", lw=0.9, ls="--",
                    label=rf"$\Delta\chi^2 = {freq['delta_chi2']:.2f}$ contour" if i == 0 else None)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(*s["mass_range_mev"])
    ax.set_ylim(*s["coupling_range"])
    ax.set_xlabel(r"$m_{Z'}$ [MeV]")
    ax.set_ylabel(r"$g_{Z'}$")
    return mesh


def _heavy_axes(ax, result):
    s = result["settings"]
    mass = result["samples"]["mass_gev"].ravel()
    cl = result["credible_limits"]
    freq = result.get("frequentist")
    m_edges = np.logspace(*np.log10(s["mass_range_gev"]), 51)
    if "cos_beta" in result["samples"]:
        cb = result["samples"]["cos_beta"].ravel()
        h, _, _ = np.histogram2d(cb, mass, bins=(np.linspace(-1, 1, 41), m_edges))
        mesh = ax.pcolormesh(np.linspace(-1, 1, 41), m_edges, np.ma.masked_equal(h.T, 0), cmap="Blues")
        ax.hlines(cl["mass_lower_gev"], cl["cos_beta_lo"], cl["cos_beta_hi"], colors="tab:red", lw=2.0,
                  label=f"{100 * s['cred']:.0f}% credible lower limit (per slice)")
        if freq is not None:
            ax.plot(freq["cos_beta"], freq["mass_limit_gev"], "k.-", lw=1.2,
                    label=f"{100 * s['cred']:.0f}% CL frequentist")
        ax.set_xlabel(r"$\cos\beta$")
        ax.set_ylabel(r"$M_{Z'}$ [GeV]")
        ax.set_yscale("log")
        return mesh
    ax.hist(mass, bins=m_edges, color="tab:blue", alpha=0.6, label="posterior samples")
    ax.axvline(cl["mass_lower_gev"][0], color="tab:red", lw=2.0,
               label=f"{100 * s['cred']:.0f}% credible lower limit")
    if freq is not None and np.isfinite(freq["mass_limit_gev"][0]):
        ax.axvline(freq["mass_limit_gev"][0], color="black", lw=1.4, label=f"{100 * s['cred']:.0f}% CL frequentist")
    ax.set_xscale("log")
    ax.set_xlabel(r"$M_{Z'}$ [GeV]")
    ax.set_ylabel("samples")
    return None


def posterior_figure(path, result: dict):
    """Posterior samples in the model's plane with the credible and frequentist limits."""
    from ..plotting import _figure, _save

    plt = _figure()
    fig, ax = plt.subplots(figsize=(6.4, 4.8), dpi=120)
    mesh = _heavy_axes(ax, result) if result.get("heavy") else _light_axes(ax, result)
    if mesh is not None:
        fig.colorbar(mesh, ax=ax, label="posterior samples")
    ax.set_title(f"{result['model']}: {', '.join(result['experiments'])}", fontsize=10)
    ax.legend(loc="upper left", fontsize=8)
    return _save(fig, path)
