"""Heavy-Z' paper (arXiv:2002.01482), Table III: our 90% CL mass limits beside the published ones.

Ours: ``heavy.mass_limit`` of each experiment's preset measurement (eq. 21 for COHERENT CsI,
eq. 22 for the other CEvNS experiments, eq. 23 for 51Cr-LXe A, B, C); the paper's: the data
file (:func:`published.table_iii`). Written as CSV and as a Markdown table.
"""

from __future__ import annotations

from . import published
from .context import Context, cell, num
from .heavy import CR51, REACTORS, SNS, limit_gev

TABLE_MODELS = ("e6-chi", "e6-eta", "e6-psi", "lr")        # the printed rows chi, eta, psi, LR
TABLE_EXPERIMENTS = SNS + REACTORS + CR51                    # the printed columns
MODEL_HEADS = {"e6-chi": "χ", "e6-eta": "η", "e6-psi": "ψ", "lr": "LR"}


def _markdown(rows: list[dict], names: list[str], worst: dict | None) -> str:
    """Table III in Markdown: one line per experiment, each cell 'ours / paper (deviation)'."""
    lines = [f"# Heavy-Z' paper ({published.citation('heavy')}), Table III: 90% CL sensitivity on M_Z' [GeV]", "",
             "Each cell: ours / paper (relative deviation). Ours: `heavy.mass_limit` (Delta chi^2 = 2.7055; eq. 21 "
             "for COHERENT CsI, eq. 22 with sigma_stat = sigma_sys = 0.2 for the other CEvNS experiments, eq. 23 "
             "for 51Cr-LXe A, B, C). '–': no sensitivity.", "",
             "| experiment | " + " | ".join(MODEL_HEADS[m] for m in TABLE_MODELS) + " |",
             "|---|" + "---|" * len(TABLE_MODELS)]

    def fmt(r):
        ours = "–" if r["ours_gev"] is None else f"{r['ours_gev']:.1f}"
        paper = "–" if r["paper_gev"] is None else f"{r['paper_gev']}"
        dev = "" if r["relative_deviation"] is None else f" ({100 * r['relative_deviation']:+.1f}%)"
        return f"{ours} / {paper}{dev}"

    by_key = {(r["experiment"], r["model"]): r for r in rows}
    for n in names:
        lines.append(f"| {n} | " + " | ".join(fmt(by_key[(n, m)]) for m in TABLE_MODELS) + " |")
    if worst is not None:
        lines += ["", f"Largest deviation: {100 * worst['relative_deviation']:+.1f}% ({worst['experiment']}, "
                  f"{MODEL_HEADS[worst['model']]})."]
    return "\n".join(lines) + "\n"


def heavy_table3(ctx: Context) -> dict:
    """Table III: 90% CL sensitivity on M_Z' per experiment and model, ours beside the paper's (CSV and Markdown)."""
    names = ctx.pick(TABLE_EXPERIMENTS)
    paper_table = published.table_iii()
    rows, worst = [], None
    for n in names:
        for model_name in TABLE_MODELS:
            ctx.progress.step(f"{model_name}, {n}")
            ours = limit_gev(ctx, (n,), model_name)
            paper = paper_table[(n, model_name)]
            dev = None if ours is None or paper is None else ours / paper - 1.0
            rows.append({"experiment": n, "model": model_name, "ours_gev": ours, "paper_gev": paper,
                         "relative_deviation": num(dev, 4)})
            if dev is not None and (worst is None or abs(dev) > abs(worst["relative_deviation"])):
                worst = rows[-1]
    csv_path = ctx.write_csv("table_iii.csv", ["experiment", "model", "ours_gev", "paper_gev", "relative_deviation"],
                             [[r["experiment"], r["model"], cell(r["ours_gev"]),
                               "" if r["paper_gev"] is None else r["paper_gev"], cell(r["relative_deviation"])]
                              for r in rows])
    md_path = ctx.out / "table_iii.md"
    md_path.write_text(_markdown(rows, names, worst))
    mismatched = [f"{r['experiment']}:{r['model']}" for r in rows
                  if (r["ours_gev"] is None) != (r["paper_gev"] is None)]
    return {"files": [csv_path, str(md_path)], "rows": rows,
            "largest_deviation": None if worst is None else
            {"experiment": worst["experiment"], "model": worst["model"],
             "relative_deviation": worst["relative_deviation"]},
            "sensitivity_mismatch": mismatched}
