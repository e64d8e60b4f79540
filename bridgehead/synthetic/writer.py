"""Writing the files: CSV in the brief's exact column order, and the manifest.

Output must be byte-identical for the same inputs, so everything is turned into text here
with fixed rules: ``true``/``false`` for booleans, six decimals for coordinates, ``\\n`` line
ends, UTF-8 without a byte-order mark, and a JSON manifest with sorted keys.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from models.contracts import FILE_COLUMNS

COLUMNS = FILE_COLUMNS
COORDINATES = ("lat", "lon")


def _text(series: pd.Series, name: str) -> list[str]:
    values = series.to_numpy()
    if values.dtype == bool:
        return np.where(values, "true", "false").tolist()
    if name in COORDINATES:
        return np.char.mod("%.6f", values.astype(float)).tolist()
    if np.issubdtype(values.dtype, np.integer):
        return values.astype(str).tolist()
    return values.astype(str).tolist() if values.dtype != object else values.tolist()


def write_csv(frame: pd.DataFrame, path: Path, layout: str | None = None) -> int:
    """Write ``frame`` with the columns the brief lists for ``layout`` (default ``path.name``)."""
    columns = COLUMNS[layout or path.name]
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise KeyError(f"{path.name}: missing columns {missing}")
    data = [_text(frame[c], c) for c in columns]
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows(zip(*data, strict=True))
    return len(frame)


def write_manifest(manifest: dict[str, Any], path: Path) -> None:
    text = json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True)
    path.write_text(text + "\n", encoding="utf-8")
