"""``python -m zprime_jax.cli``."""

import sys

from .. import main

sys.exit(main())
