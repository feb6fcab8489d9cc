"""``zprime-jax fit``: the CEvNS normalisation fitted to a real measurement (COHERENT CsI 2021, LAr 2020)."""

from __future__ import annotations

from ..io import write_json
from .options import UsageError, add_common, experiments, load, out_dir


def register(subparsers) -> None:
    """Add the ``fit`` subcommand."""
    sp = subparsers.add_parser("fit", help="fit the CEvNS normalisation to observed data, nuisances profiled")
    add_common(sp)
    sp.add_argument("--experiment", action="append", required=True,
                    help="an experiment with shipped data (coherent-csi-2021, coherent-lar-2020); repeat to fit "
                         "them together (the SNS flux normalisation is then one nuisance)")
    sp.add_argument("--out", help="folder for fit.json and the data/fit projections (fit_<experiment>.png)")
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
    out = fit_cevns([measurement(k) for k in kernels])
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
