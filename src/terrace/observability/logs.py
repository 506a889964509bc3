"""JSON log lines from every process: one configuration, used by `terrace api` and `terrace worker`.

structlog renders each line as one JSON object. Records of the standard `logging` module (ours,
uvicorn's, the libraries') go through the same renderer, so a line from any of them carries the
context bound in `structlog.contextvars`: the request id in the API, the job and task in a worker.
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Any, TextIO

import structlog

_SHARED: list[structlog.types.Processor] = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
]


def configure_logging(level: int = logging.INFO, stream: TextIO = sys.stdout) -> None:
    """Route structlog and standard-library records to `stream` as JSON lines."""
    structlog.configure(
        processors=[*_SHARED, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*_SHARED, structlog.stdlib.ExtraAdder()],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(default=str),
        ],
    )
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.captureWarnings(True)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True


def job_lines(folder: Path, job_id: str) -> list[dict[str, Any]]:
    """The JSON log lines of `folder`'s *.log files logged while working on job `job_id`, in time order."""
    lines: list[dict[str, Any]] = []
    for path in sorted(folder.glob("*.log")):
        with path.open(encoding="utf-8", errors="replace") as log:
            for text in log:
                if job_id not in text:
                    continue
                try:
                    line = json.loads(text)
                except json.JSONDecodeError:
                    continue
                if isinstance(line, dict) and line.get("job_id") == job_id:
                    lines.append({**line, "file": path.name})
    return sorted(lines, key=lambda line: str(line.get("timestamp", "")))
