"""A local HTTP server on 127.0.0.1 serving a fixture mirror of GEO's HTTPS layout.

Behaviours for the download tests: ``drop`` (path -> number of requests that
are cut after half the body), ``ignore_range`` (answer 200 to Range requests)
and the usual 404 for a file that is not in the mirror.  Every request is
recorded (method, path, Range header, status).
"""

from __future__ import annotations

import contextlib
import os
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


@dataclass
class ServerState:
    drop: dict[str, int] = field(default_factory=dict)
    ignore_range: bool = False
    log: list[tuple[str, str, str | None, int]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def gets(self, suffix: str = "") -> list[tuple[str, str, str | None, int]]:
        return [r for r in self.log if r[0] == "GET" and r[1].endswith(suffix)]


class _Handler(SimpleHTTPRequestHandler):
    state: ServerState

    def log_message(self, format: str, *args) -> None:  # keep test output quiet
        pass

    def _record(self, status: int) -> None:
        with self.state.lock:
            self.state.log.append((self.command, self.path, self.headers.get("Range"), status))

    def send_head(self):  # the whole request handling for files with Range support
        path = Path(self.translate_path(self.path))
        if path.is_dir():
            self._record(200)
            return super().send_head()
        if not path.is_file():
            self._record(404)
            self.send_error(404, "Not Found")
            return None
        data = path.read_bytes()
        start = 0
        match = re.match(r"bytes=(\d+)-$", self.headers.get("Range") or "")
        if match and not self.state.ignore_range:
            start = int(match.group(1))
            if start >= len(data):
                self._record(416)
                self.send_error(416, "Range Not Satisfiable")
                return None
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
            status = 206
        else:
            self.send_response(200)
            status = 200
        body = data[start:]
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self._record(status)
        if self.command == "HEAD":
            return None
        with self.state.lock:
            cut = self.state.drop.get(self.path, 0) > 0
            if cut:
                self.state.drop[self.path] -= 1
        if cut:
            # Send half, then drop the connection without the rest.
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(2)
            return None
        self.wfile.write(body)
        return None

    def do_GET(self) -> None:
        listing = self.send_head()  # a directory index page, or None (file already sent)
        if listing is not None:
            with listing:
                self.copyfile(listing, self.wfile)

    def do_HEAD(self) -> None:
        listing = self.send_head()
        if listing is not None:
            listing.close()


@contextlib.contextmanager
def serve(root: str | os.PathLike[str], state: ServerState) -> Iterator[str]:
    """Serve ``root`` on 127.0.0.1 (a free port) in a thread; yield the base URL."""
    handler = partial(type("H", (_Handler,), {"state": state}), directory=str(root))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/geo"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
