"""The ``zprime-jax`` command line (contract: shared design.md).

Every command accepts ``--json`` and then prints exactly one JSON object on
stdout; progress and logs go to stderr. Errors exit with status 2 and a
message naming the offending field (with ``--json``: ``{"error": ..., "field": ...}``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from .. import config
from ..errors import ZPrimeError
from . import drift, heavy, light, rates, reproduce

# the command groups, in the order ``zprime-jax --help`` lists their commands
GROUPS = (rates, light, heavy, reproduce, drift)
DEBUG_ENV = "ZPRIME_JAX_DEBUG"      # set: internal errors show their traceback


def build_parser() -> argparse.ArgumentParser:
    """The ``zprime-jax`` parser: one subcommand per command, added by each group module's ``register``."""
    p = argparse.ArgumentParser(prog="zprime-jax", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)
    for group in GROUPS:
        group.register(sub)
    return p


def _fail(args, err: ZPrimeError) -> int:
    """Report a user error: the message on stderr (and as one JSON object with ``--json``); status 2."""
    msg = str(err)
    if args.json:
        print(json.dumps({"error": msg, "field": err.field}))
    print(f"zprime-jax: error: {msg}", file=sys.stderr)
    return 2


def main(argv=None) -> int:
    """Run ``zprime-jax`` with ``argv`` (default: ``sys.argv[1:]``); returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        # global settings first: the host device count only takes before JAX starts its backend
        config.set_host_devices()
        config.enable_x64()
        config.enable_compilation_cache()
        out = args.func(args)
    except ZPrimeError as err:
        return _fail(args, err)
    except Exception as err:        # not a user error: a bug. A short message and a hint, status 1.
        if os.environ.get(DEBUG_ENV):
            raise
        msg = (f"internal error ({type(err).__name__}: {err}); this is a bug in zprime_jax, not in your input: "
               f"please report it with the command line (set {DEBUG_ENV}=1 for the traceback)")
        if args.json:
            print(json.dumps({"error": msg, "field": None, "internal": True}))
        print(f"zprime-jax: {msg}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
