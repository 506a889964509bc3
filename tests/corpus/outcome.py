"""What the corpus run says about one file, and the table `scripts/corpus-report` prints."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

Status = Literal["faithful", "refused", "mismatch", "internal_error"]


@dataclass(frozen=True)
class Outcome:
    """One corpus file through the real job.

    faithful: loaded, and equal to what GDAL reads (after the documented mapping and repairs);
    refused: an input error with a precise message (expected for files the manifest marks so);
    mismatch: loaded, but different from GDAL's reading in a way nothing explains;
    internal_error: the job failed with anything but an input error.
    """

    entry_id: str
    kind: Literal["vector", "raster"]
    status: Status
    detail: str
    seconds: float


# The outcomes this test process recorded; each process writes its own file of the report folder.
RECORDED: list[Outcome] = []


def report_folder(root: Path) -> Path:
    return root / "test-artifacts" / "corpus-report"


def write(outcomes: list[Outcome], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps([asdict(o) for o in outcomes], indent=1))


def gather(folder: Path) -> list[Outcome]:
    """Every outcome the test processes wrote into `folder`."""
    return [Outcome(**row) for path in sorted(folder.glob("*.json")) for row in json.loads(path.read_text())]


def table(outcomes: list[Outcome]) -> str:
    """A fixed-width table of every file, then the totals by status."""
    width = max((len(o.entry_id) for o in outcomes), default=4)
    lines = [f"{'file':<{width}}  kind    status          seconds  detail"]
    for o in sorted(outcomes, key=lambda o: (o.kind, o.entry_id)):
        lines.append(f"{o.entry_id:<{width}}  {o.kind:<6}  {o.status:<14}  {o.seconds:7.1f}  {o.detail}")
    totals: dict[str, int] = {}
    for o in outcomes:
        totals[o.status] = totals.get(o.status, 0) + 1
    counts = ", ".join(f"{status}={n}" for status, n in sorted(totals.items()))
    lines.append(f"totals: {counts}, files={len(outcomes)}")
    return "\n".join(lines)
