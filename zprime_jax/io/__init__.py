"""Result writers: JSON (strict: never a NaN or Infinity token) and CSV, the one place each is written."""

from .results import dumps_json, strict_json, strict_result, write_csv, write_json

__all__ = ["dumps_json", "strict_json", "strict_result", "write_csv", "write_json"]
