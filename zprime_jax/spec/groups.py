"""Named groups of experiments: one name on the command line stands for several presets."""

from __future__ import annotations

# The six ESS detectors of the light-mediator paper (Table 2).
ESS_DETECTORS = ("ess-csi", "ess-si", "ess-xe", "ess-ge", "ess-ar", "ess-c3f8")
# Sec. 4.3 of the heavy-Z' paper: COHERENT CsI + CONNIE + 51Cr-LXe configuration C (Fig. 6).
COMBINED_CEVNS_NUE = ("coherent-csi", "connie", "cr51-lxe-c")
EXPERIMENT_GROUPS = {"ess-all": ESS_DETECTORS, "combined-cevns-nue": COMBINED_CEVNS_NUE}


def expand_groups(names) -> list[str]:
    """The experiment names with every group name replaced by its members, in order."""
    out: list[str] = []
    for name in names:
        out.extend(EXPERIMENT_GROUPS.get(name, (name,)))
    return out
