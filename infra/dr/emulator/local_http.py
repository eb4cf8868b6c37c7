"""One way to run the emulator's HTTP side servers (Kubernetes API, ARC Region switch) on 127.0.0.1."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def serve(handler: type[BaseHTTPRequestHandler], name: str) -> ThreadingHTTPServer:
    """Start a threaded server on a free port of 127.0.0.1 (daemon thread); `server_port` says which."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, name=name, daemon=True).start()
    return server


def shutdown(server: ThreadingHTTPServer | None) -> None:
    """Stop a server from `serve` (None: nothing to stop)."""
    if server is not None:
        server.shutdown()
        server.server_close()
