"""Small HTTP servers on 127.0.0.1 for the registry's tests: fixed answers, MapServer as CGI, pygeoapi."""

from __future__ import annotations

import os
import subprocess
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit


@dataclass
class Reply:
    body: bytes = b""
    status: int = 200
    headers: dict[str, str] = field(default_factory=lambda: {"Content-Type": "application/json"})


Route = Callable[[BaseHTTPRequestHandler], None] | Reply


class Loopback:
    """A threaded HTTP server on 127.0.0.1; `routes` maps a path (without query) to a Reply or a
    function that answers the request itself. It records every request it got (path, Host)."""

    def __init__(self, routes: dict[str, Route]) -> None:
        self.routes = routes
        self.requests: list[tuple[str, str]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.requests.append((self.path, self.headers.get("Host", "")))
                route = server.routes.get(urlsplit(self.path).path)
                if route is None:
                    route = Reply(b'{"error": "not found"}', 404)
                if isinstance(route, Reply):
                    self.send_response(route.status)
                    for name, value in route.headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(route.body)))
                    self.end_headers()
                    self.wfile.write(route.body)
                else:
                    route(self)

            def log_message(self, *_: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> Loopback:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def cgi(program: str, env: dict[str, str]) -> Callable[[BaseHTTPRequestHandler], None]:
    """A route running `program` as a CGI script (as MapServer's `mapserv` is deployed)."""

    def answer(handler: BaseHTTPRequestHandler) -> None:
        query = urlsplit(handler.path).query
        run_env = {**os.environ, **env, "REQUEST_METHOD": "GET", "QUERY_STRING": query}
        output = subprocess.run([program], env=run_env, capture_output=True, timeout=30, check=True).stdout
        head, _, body = output.partition(b"\r\n\r\n")
        handler.send_response(200)
        for line in head.decode().splitlines():
            name, _, value = line.partition(":")
            if name.lower() != "status":
                handler.send_header(name, value.strip())
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    return answer
