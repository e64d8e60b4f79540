"""CSV for spreadsheets: no cell that a spreadsheet would run as a formula (CSV injection).

OWASP's rule (https://owasp.org/www-community/attacks/CSV_Injection): a cell that starts with
`=`, `+`, `-`, `@`, a tab or a carriage return is prefixed with a single quote, so Excel, LibreOffice
and WPS show it as text instead of evaluating it. Summaries, addresses and names come from citizens'
calls and tips, so any of them may start with `=HYPERLINK(...)`.

Only text is neutralised: a number written as a number (a negative change, -12.5) is data that
no spreadsheet runs, and must stay a number for whoever sums the column. A number that arrives as
text ("-12.5" in a str) is text and gets the quote, as the rule says. Every CSV Bridgehead writes for
people goes through `safe_cell` / `safe_row` / `safe_frame`; input files converted for intake
(tasks/intake/profiles.py) are not exports and are written as they are.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """`'=1+1` for `=1+1`; anything that is not text, or does not start like a formula, unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def safe_values(values: Iterable[Any]) -> list[Any]:
    """One CSV row as a list (for `csv.writer`)."""
    return [safe_cell(v) for v in values]


def safe_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """One CSV row as a dict (for `csv.DictWriter`: the keys are the program's column names)."""
    return {k: safe_cell(v) for k, v in row.items()}


def safe_frame(frame: Any) -> Any:
    """A copy of a pandas DataFrame whose text cells are neutralised (numeric columns untouched)."""
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object or str(out[column].dtype) in ("string", "str"):
            out[column] = out[column].map(safe_cell)
    out.columns = [safe_cell(c) for c in out.columns]
    return out
