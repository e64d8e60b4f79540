"""The validated rows of a file, kept on disk between intake's validate and load stages.

A file of a million rows would otherwise sit in memory twice over, as rows and as records; spooled, a
stage holds one part at a time, whatever the file's size. The spool is an unnamed temporary file in
`var_dir`: nothing is left behind when the process ends, however it ends, and nothing on it is in
clear that the database would hold sealed (validate seals phones and contacts before spooling).
"""

from __future__ import annotations

import pickle
import tempfile
from collections.abc import Iterator
from typing import IO, Any

import pandas as pd

from bridgehead.settings import get_settings


class Spool:
    """Parts of rows as frames, written once and read from the start as often as needed (a retried load
    reads it again). A frame, not the rows: pickling a row's datetimes one by one cost more than
    building the frame load needs anyway (2.2 s against 0.5 s for 200,000 calls)."""

    def __init__(self) -> None:
        folder = get_settings().var_dir
        folder.mkdir(parents=True, exist_ok=True)
        # open as long as the spool lives: load reads it after validate returns
        self._file: IO[bytes] = tempfile.TemporaryFile(dir=folder, prefix="spool-")  # noqa: SIM115
        self.rows = 0

    def write(self, records: list[dict[str, Any]]) -> None:
        """Keep one part; every record of a part has the same fields."""
        if not records:
            return
        columns = list(records[0])
        frame = pd.DataFrame([tuple(r[c] for c in columns) for r in records], columns=columns)
        pickle.dump(frame, self._file, protocol=pickle.HIGHEST_PROTOCOL)
        self.rows += len(records)

    def parts(self) -> Iterator[pd.DataFrame]:
        """The parts in the order written."""
        self._file.seek(0)
        while True:
            try:
                yield pickle.load(self._file)  # our own file, written by this process
            except EOFError:
                return

    def close(self) -> None:
        self._file.close()

    def __getstate__(self) -> dict[str, Any]:
        raise TypeError("a spool is the process's own temporary file: it cannot be pickled or sent on")
