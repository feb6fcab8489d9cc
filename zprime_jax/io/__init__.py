"""Result writers: JSON (strict: never a NaN or Infinity token), CSV and HEPData, the one place each is written."""

from .hepdata import Column, HepTable, write_submission
from .results import dumps_json, strict_json, strict_result, write_csv, write_json

__all__ = ["Column", "HepTable", "dumps_json", "strict_json", "strict_result", "write_csv", "write_json",
           "write_submission"]
