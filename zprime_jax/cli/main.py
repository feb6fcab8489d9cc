"""The ``zprime-jax`` command line (contract: shared design.md).

Every command accepts ``--json`` and then prints exactly one JSON object on
stdout; progress and logs go to stderr. Errors exit with status 2 and a
message naming the offending field (with ``--json``: ``{"error": ..., "field": ...}``).
"""

from __future__ import annotations

import os
import sys

from .. import __version__, config
from ..errors import ZPrimeError
from ..io import dumps_json, strict_result
from . import drift, fit, heavy, light, rates, reproduce, schema, shards
from .options import Parser, check_inputs

# the command groups, in the order ``zprime-jax --help`` lists their commands
GROUPS = (rates, light, heavy, fit, reproduce, drift, shards, schema)
DEBUG_ENV = "ZPRIME_JAX_DEBUG"      # set: internal errors show their traceback


def build_parser() -> Parser:
    """The ``zprime-jax`` parser: one subcommand per command, added by each group module's ``register``."""
    p = Parser(prog="zprime-jax", description=__doc__.splitlines()[0])
    p.add_argument("--version", action="version", version=f"zprime-jax {__version__}",
                   help="print the package version and exit")
    sub = p.add_subparsers(dest="command", required=True)
    for group in GROUPS:
        group.register(sub)
    return p


def _emit(text: str, stream) -> None:
    """Write a line; a reader that has gone away (``| head``) is not an error."""
    try:
        print(text, file=stream, flush=True)
    except BrokenPipeError:
        _silence(stream)


def _silence(stream) -> None:
    """The stream's reader is gone: point it at /dev/null, so that the flush at exit stays quiet too."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, stream.fileno())


def _fail(json_wanted: bool, err: ZPrimeError) -> int:
    """Report a user error: the message on stderr (and as one JSON object with ``--json``); status 2."""
    msg = str(err)
    if json_wanted:
        _emit(dumps_json({"error": msg, "field": err.field}), sys.stdout)
    _emit(f"zprime-jax: error: {msg}", sys.stderr)
    return 2


def _start_distributed(args) -> None:
    """Join a multi-process run where asked (options or environment); errors name the option."""
    from .options import UsageError

    try:
        config.start_distributed(args.coordinator, args.num_processes, args.process_id)
    except ZPrimeError as err:
        option = err.field if err.field and err.field.isupper() else "--" + (err.field or "").replace("_", "-")
        raise UsageError(f"{option}: {str(err).partition(': ')[2]}") from None


def main(argv=None) -> int:
    """Run ``zprime-jax`` with ``argv`` (default: ``sys.argv[1:]``); returns the exit status."""
    argv = sys.argv[1:] if argv is None else list(argv)
    json_wanted = "--json" in argv
    try:
        args = build_parser().parse_args(argv)
        json_wanted = args.json
        check_inputs(args)
        # global settings first: the process group and the host device count only take before JAX starts
        if hasattr(args, "coordinator"):
            _start_distributed(args)
        config.set_host_devices()
        config.enable_x64()
        config.enable_compilation_cache()
        from ..likelihood import native_pass

        native_pass.prefetch()      # a machine's first run: compile the native pass while the kernels build
        lead = not hasattr(args, "coordinator") or config.is_lead_process()
        if not lead:                # every process computes; process 0 reports and writes
            args.quiet = True
            sys.stdout = open(os.devnull, "w")
        out = args.func(args)
        if shards.is_part(args):
            out = shards.write_part(args, argv)
        out = strict_result(out)
    except ZPrimeError as err:
        return _fail(json_wanted, err)
    except BrokenPipeError:         # a command's own text output, read by ``| head``: stop quietly
        _silence(sys.stdout)
        return 1
    except KeyboardInterrupt:
        _emit("zprime-jax: interrupted", sys.stderr)
        return 130
    except Exception as err:        # not a user error: a bug. A short message and a hint, status 1.
        if os.environ.get(DEBUG_ENV):
            raise
        msg = (f"internal error ({type(err).__name__}: {err}); this is a bug in zprime_jax, not in your input: "
               f"please report it with the command line (set {DEBUG_ENV}=1 for the traceback)")
        if json_wanted:
            _emit(dumps_json({"error": msg, "field": None, "internal": True}), sys.stdout)
        _emit(f"zprime-jax: {msg}", sys.stderr)
        return 1
    if args.json:
        _emit(dumps_json(out), sys.stdout)
    return 0


def run_again(settings: list[str], out: str, json_wanted: bool, quiet: bool, hepdata: str | None = None):
    """The parsed command line ``settings`` with its own ``--out``, ``--json``, ``--quiet`` and ``--hepdata``
    (a merge runs the command of its parts again), checked as :func:`main` checks a command line."""
    args = build_parser().parse_args([*settings, "--out", out, *(["--hepdata", hepdata] if hepdata else [])])
    args.json, args.quiet = json_wanted, quiet
    check_inputs(args)
    return args


if __name__ == "__main__":
    sys.exit(main())
