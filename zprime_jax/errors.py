"""The package's one error hierarchy: every error a user can cause is a :class:`ZPrimeError`.

Messages start with the name of the offending field (``"mass_mev: must be > 0,
got -1"``), so the command line can report them as they are; the CLI turns a
:class:`ZPrimeError` into exit status 2 and lets nothing else through as a
user error. Both subclasses are also ``ValueError`` s, so ``except ValueError``
written against earlier versions keeps working.
"""

from __future__ import annotations


class ZPrimeError(Exception):
    """Base class: bad input to the package (a spec, an argument, a data file)."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field if field is not None else _leading_field(message)


def _leading_field(message: str) -> str | None:
    """The field named before the first ': ' of a message (``"spec.detector.mass_kg: ..."``), if any.

    A command-line option may carry its value (``"--overlay FILE: ..."``): the field is the option.
    """
    head, sep, _ = message.partition(": ")
    head = head.strip()
    if sep and head.startswith("--"):           # a command-line option, maybe with its value or file after it
        return head.split()[0].rstrip(",")
    if sep and head and " " not in head:
        return head
    return None


class SpecError(ZPrimeError, ValueError):
    """An experiment or model specification is malformed; the message names the field."""


class InputError(ZPrimeError, ValueError):
    """A bad argument or data file (negative mass, unknown model, data not matching the binning, ...)."""
