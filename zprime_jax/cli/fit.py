"""``zprime-jax fit``: the CEvNS normalisation fitted to a real measurement (COHERENT CsI 2021, LAr 2020)."""

from __future__ import annotations

from ..io import write_json
from .options import UsageError, add_common, add_hepdata, experiments, load, out_dir
from .shards import writes


def register(subparsers) -> None:
    """Add the ``fit`` subcommand."""
    sp = subparsers.add_parser("fit", help="fit the CEvNS normalisation to observed data, nuisances profiled")
    add_common(sp)
    sp.add_argument("--experiment", action="append", required=True,
                    help="an experiment with shipped data (coherent-csi-2021, coherent-lar-2020); repeat to fit "
                         "them together (the SNS flux normalisation is then one nuisance)")
    sp.add_argument("--out", help="folder for fit.json and the data/fit projections (fit_<experiment>.png)")
    add_hepdata(sp)
    sp.set_defaults(func=cmd_fit)


def cmd_fit(args):
    from ..inference.cevns_fit import fit_cevns
    from ..kernels.rates import build_kernel
    from ..likelihood.measurement import measurement

    names = experiments(args.experiment)
    specs = [load(n) for n in names]
    for n, s in zip(names, specs):
        if s.data is None:
            raise UsageError(f"--experiment: {n} ships no observed data (a [data] table); the fit needs a real "
                             "measurement: coherent-csi-2021 or coherent-lar-2020")
    kernels = [build_kernel(s) for s in specs]
    measurements = [measurement(k) for k in kernels]
    out = fit_cevns(measurements)
    if writes(args, "hepdata"):
        out.setdefault("files", {})["hepdata"] = _fit_hepdata(args, out, {n: m.likelihood.form for n, m in
                                                                           zip(out["experiments"], measurements)})
    if args.out:
        from ..plotting.fit import fit_projection_figure

        folder = out_dir(args.out)
        out["plots"] = [str(fit_projection_figure(folder / f"fit_{k.name}.png", k, out)) for k in kernels]
        write_json(folder / "fit.json", out)
    if not args.json:
        for n in out["experiments"]:
            print(f"{n}: CEvNS events SM {out['sm_cevns'][n]:.1f}, fitted {out['best_fit_cevns'][n]:.1f} "
                  f"+- {out['best_fit_cevns_error'][n]:.1f}")
        print(f"no-CEvNS hypothesis rejected at {out['null_significance_sigma']:.2f} sigma"
              + ("" if out["converged"] else " (the profile did not converge)"))
    return out


def _fit_hepdata(args, out: dict, forms: dict) -> str:
    """``fit --hepdata``: one table, the fitted CEvNS event number of each experiment with its 1 sigma error
    beside the SM prediction (the SM-shaped normalisation: fitted / SM)."""
    from .. import __version__
    from ..io.hepdata import Column, HepTable, qualifiers, write_submission

    names = out["experiments"]
    q = qualifiers(experiments=names, likelihoods=forms, null_significance_sigma=out["null_significance_sigma"])
    table = HepTable(
        name="CEvNS normalisation",
        description=("CEvNS event number fitted to the observed data of each experiment (SM-shaped signal, its "
                     "normalisation free, every nuisance profiled" + (", the SNS flux normalisation shared"
                                                                      if len(names) > 1 else "")
                     + f"), with its 1 sigma error, beside the SM prediction; the no-CEvNS hypothesis is rejected "
                     f"at {out['null_significance_sigma']:.4g} sigma"
                     + ("." if out["converged"] else " (the profile did not converge).")),
        independent=(Column("experiment", "", names),),
        dependent=(Column("CEvNS events (fit)", "", [out["best_fit_cevns"][n] for n in names], qualifiers=q,
                          errors=[out["best_fit_cevns_error"][n] for n in names], error_label="fit 1 sigma"),
                   Column("CEvNS events (SM)", "", [out["sm_cevns"][n] for n in names], qualifiers=q),
                   Column("normalisation (fit / SM)", "",
                          [out["best_fit_cevns"][n] / out["sm_cevns"][n] for n in names], qualifiers=q,
                          errors=[out["best_fit_cevns_error"][n] / out["sm_cevns"][n] for n in names],
                          error_label="fit 1 sigma")),
        location="zprime-jax fit", keywords={"phrases": ["CEvNS", "Cross section normalisation"]})
    comment = (f"zprime_jax {__version__}: zprime-jax fit --experiment {' --experiment '.join(names)}; the CEvNS "
               "normalisation fitted to a real measurement.")
    return write_submission(args.hepdata, [table], comment)
