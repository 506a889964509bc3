"""`python -m tests.demo_worker`: `terrace worker` that also runs the demonstration job types."""

from __future__ import annotations

from terrace.cli.serve import run_worker
from terrace.orchestration.demo import with_demos
from terrace.pipelines import default_registry

if __name__ == "__main__":
    run_worker(with_demos(default_registry()))
