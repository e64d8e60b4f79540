"""The dry run of an import profile on an export (`bridgehead profile check`): nothing is written.

What intake would make of the file through the profile: how many rows would load, how many would be
quarantined and why (the commonest reasons, each with a count and a sample line of the source), and
a few rows as converted. Communities are checked against the register only when the file is taken in.
"""

from __future__ import annotations

import tempfile
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from bridgehead.import_profile import ImportProfile
from models.common import ZONE, local_text
from models.signal import CallIn
from tasks.intake.checks import check_file
from tasks.intake.profiles import apply_profile

SHOWN = ("call_id", "received_at", "community_code", "address", "category", "priority", "summary")


@dataclass
class Reason:
    reason: str
    rows: int
    sample_line: int  # a line of the source (its header is line 1)


@dataclass
class DryRun:
    file: str
    rows: int  # the rows the profile keeps (after its `drop` rules)
    would_load: int
    dropped: int = 0
    reasons: list[Reason] = field(default_factory=list)
    sample: list[dict[str, Any]] = field(default_factory=list)
    zone_note: str | None = None  # the profile's zone is not the jurisdiction's: what to set

    @property
    def would_quarantine(self) -> int:
        return self.rows - self.would_load


def dry_run(source: Path, profile: ImportProfile, top: int = 10, rows: int = 5) -> DryRun:
    """Convert and validate `source` in a scratch folder; the top reasons and the first good rows."""
    frame = apply_profile(source, profile)
    with tempfile.TemporaryDirectory(prefix="bridgehead-profile-") as tmp:
        converted = Path(tmp) / "calls.csv"
        frame.to_csv(converted, index=False, encoding="utf-8", lineterminator="\n")
        checked = check_file(converted, CallIn, "call_id")
    source_rows = frame.attrs["source_rows"]
    by_reason = Counter(r.reason for r in checked.rejects)
    first_line: dict[str, int] = {}
    for r in checked.rejects:  # the converted file's line back to the export's (header: line 1)
        first_line.setdefault(r.reason, int(source_rows[r.line - 2]) + 2)
    zone_note = None
    if profile.timezone != ZONE:
        zone_note = (
            f"times are shown in the jurisdiction's zone ({ZONE}); the profile reads them in "
            f"{profile.timezone}: for this city, set BRIDGEHEAD_TIMEZONE={profile.timezone} before intake"
        )
    return DryRun(
        file=source.name,
        zone_note=zone_note,
        dropped=frame.attrs["dropped"],
        rows=checked.total,
        would_load=len(checked.rows),
        reasons=[Reason(why, n, first_line[why]) for why, n in by_reason.most_common(top)],
        sample=[{k: _shown(getattr(model, k)) for k in SHOWN} for _line, model in checked.rows[:rows]],
    )


def _shown(value: Any) -> Any:
    return local_text(value) if isinstance(value, datetime) else value
