"""``python -m zprime_jax.cli``."""

import sys

from .main import main

sys.exit(main())
