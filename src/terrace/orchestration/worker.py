"""A worker process: registers itself and heartbeats until stopped."""

from __future__ import annotations

import os
import socket
import threading
import uuid

from terrace.db.pool import connect
from terrace.db.queries import queries

HEARTBEAT_SECONDS = 10.0


class Worker:
    def __init__(self, database_url: str, concurrency: int) -> None:
        self.database_url = database_url
        self.concurrency = concurrency
        self.worker_id = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self.stopping = threading.Event()

    def stop(self) -> None:
        self.stopping.set()

    def run(self) -> None:
        """Run until `stop()` is called."""
        q = queries("workers")
        params = {"worker_id": self.worker_id}
        with connect(self.database_url, autocommit=True) as conn:
            conn.execute(
                q["register"],
                {
                    **params,
                    "hostname": socket.gethostname(),
                    "pid": os.getpid(),
                    "concurrency": self.concurrency,
                },
            )
            while not self.stopping.wait(HEARTBEAT_SECONDS):
                conn.execute(q["heartbeat"], params)
            conn.execute(q["stopped"], params)
