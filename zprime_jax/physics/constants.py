"""Physical constants and unit conversions.

Natural units inside the library: energies, masses and momenta in MeV,
cross sections in MeV^-2 until converted at the edge. Every name carries its
unit. Values: CODATA 2018 / PDG 2020 unless noted.
"""

from __future__ import annotations

import math

# --- conversion factors -----------------------------------------------------
HBARC_MEV_FM = 197.3269804          # hbar*c [MeV fm] (CODATA 2018)
HBARC_MEV_CM = HBARC_MEV_FM * 1e-13  # hbar*c [MeV cm]
MEV2_TO_CM2 = HBARC_MEV_CM**2       # 1 MeV^-2 expressed in cm^2 (3.8938e-22)
KEV_PER_MEV = 1e3
MEV_PER_GEV = 1e3
AMU_MEV = 931.49410242              # atomic mass unit [MeV] (CODATA 2018)
AVOGADRO = 6.02214076e23            # [1/mol] (exact, SI 2019)
SECONDS_PER_DAY = 86400.0
DAYS_PER_YEAR = 365.25              # Julian year; see docs/conventions.md
CM_PER_M = 100.0

# --- couplings --------------------------------------------------------------
G_FERMI_MEV2 = 1.1663787e-11        # G_F [MeV^-2] (PDG 2020)
ALPHA_EM = 1.0 / 137.035999084      # fine-structure constant at q -> 0 (CODATA 2018)
SIN2_THETA_W_LOW_ENERGY = 0.23857   # MS-bar sin^2(theta_W) at q -> 0 (PDG 2020, Erler-Ferro-Luque);
#                                     the light-mediator paper states none (paper-notes 3)

# --- masses [MeV] (PDG 2020) ------------------------------------------------
M_ELECTRON_MEV = 0.51099895
M_MUON_MEV = 105.6583755
M_TAU_MEV = 1776.86
M_PION_CHARGED_MEV = 139.57039
M_Z_MEV = 91187.6

# --- lifetimes [ns] (PDG 2020) -----------------------------------------------
TAU_PION_CHARGED_NS = 26.033        # pi+ mean life
TAU_MUON_NS = 2196.9811             # mu+ mean life

SQRT2 = math.sqrt(2.0)
