"""One of the demo's web servers: answers every GET with its own name, so the client can
tell which server the balancer picked. Run as `python -m keepalived_py.demo.web NAME PORT`
inside a backend namespace; stopped by SIGTERM."""

from __future__ import annotations

import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def serve(name: str, port: int) -> None:
    body = f"{name}\n".encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass  # the demo narrates; a line per request would drown it

    ThreadingHTTPServer.allow_reuse_address = True
    with ThreadingHTTPServer(("0.0.0.0", port), Handler) as httpd:
        print(f"{name} listening on port {port}", flush=True)
        httpd.serve_forever()


if __name__ == "__main__":
    serve(sys.argv[1], int(sys.argv[2]))
