"""The metrics endpoint's HTTP front: GET /metrics, nothing else, never waiting on a client.

It runs on the parent's event loop, away from the VRRP timers (those live in the vrrp
child, which only answers a snapshot request over ipc). Still, a scraper must not be able
to hold the parent up or eat its memory, so every request is bounded:

- the request head (line + headers) must arrive within HEAD_TIMEOUT and fit in MAX_HEAD
  bytes: otherwise 408 / 431 and the connection closes;
- only GET/HEAD of /metrics (query ignored): 404 for another path, 405 for another
  method, 400 for a malformed request line; a body is never read;
- at most MAX_CLIENTS connections at once (503 beyond), each answer written within
  WRITE_TIMEOUT (a client that does not read is dropped), one request per connection.

The exposition itself is prometheus_client's (observe/metrics.py).
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from keepalived_py.observe.metrics import CONTENT_TYPE, exposition

MAX_HEAD = 8192
HEAD_TIMEOUT = 5.0
WRITE_TIMEOUT = 5.0
MAX_CLIENTS = 8
PATH = "/metrics"

_REASONS = {200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed",
            408: "Request Timeout", 431: "Request Header Fields Too Large",
            500: "Internal Server Error", 503: "Service Unavailable"}


def parse_listen(text: str) -> tuple[str, int]:
    """ADDR:PORT (IPv6 as [ADDR]:PORT) -> (host, port); ValueError with the reason."""
    host, sep, port_text = text.rpartition(":")
    if not sep or not host:
        raise ValueError(f"--metrics-listen {text!r}: expected ADDR:PORT")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    try:
        ipaddress.ip_address(host)
    except ValueError:
        raise ValueError(f"--metrics-listen {text!r}: {host!r} is not an IP address") from None
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise ValueError(f"--metrics-listen {text!r}: bad port {port_text!r}")
    return host, int(port_text)


def _response(code: int, body: bytes = b"", content_type: str = "text/plain; charset=utf-8",
              head_only: bool = False) -> bytes:
    if not body and code != 200:
        body = f"{code} {_REASONS.get(code, '')}\n".encode()
    head = (f"HTTP/1.1 {code} {_REASONS.get(code, '')}\r\nContent-Type: {content_type}\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n")
    if code == 405:
        head += "Allow: GET, HEAD\r\n"
    return head.encode() + b"\r\n" + (b"" if head_only else body)


def route(head: bytes) -> tuple[int, bool]:
    """(status, head_only) for a request head; 200 means: serve the metrics."""
    line = head.split(b"\r\n", 1)[0].decode("latin-1")
    parts = line.split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
        return 400, False
    method, target, _ = parts
    path = target.split("?", 1)[0]
    if method not in ("GET", "HEAD"):
        return 405, False
    if path != PATH:
        return 404, method == "HEAD"
    return 200, method == "HEAD"


class MetricsServer:
    """Serves GET /metrics from `get_view` (an async callable returning the state view)."""

    def __init__(self, get_view: Callable[[], Awaitable[dict[str, Any]]],
                 log: logging.Logger | Any | None = None) -> None:
        self.get_view = get_view
        self.log = log or logging.getLogger("keepalived_py.metrics")
        self.server: Any = None  # asyncio.Server
        self.active = 0
        self.served = 0
        self.refused = 0

    async def start(self, host: str, port: int) -> None:
        self.server = await asyncio.start_server(self._client, host, port, limit=MAX_HEAD,
                                                 reuse_address=True)

    @property
    def port(self) -> int:
        assert self.server is not None
        return int(self.server.sockets[0].getsockname()[1])

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()
            self.server = None

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.active >= MAX_CLIENTS:
            self.refused += 1
            await self._send(writer, _response(503))
            return
        self.active += 1
        try:
            await self._serve(reader, writer)
        except Exception as exc:  # noqa: BLE001 - one scraper's trouble is never ours
            self.log.info(f"metrics endpoint: {exc!r}")
            await self._send(writer, _response(500))
        finally:
            self.active -= 1

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), HEAD_TIMEOUT)
        except TimeoutError:
            await self._send(writer, _response(408))
            return
        except asyncio.LimitOverrunError:
            await self._send(writer, _response(431), reader)
            return
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()
            return
        code, head_only = route(head)
        if code != 200:
            await self._send(writer, _response(code, head_only=head_only))
            return
        view = await self.get_view()
        # a large check view (thousands of real servers and IPVS destinations) takes
        # prometheus_client seconds to write: off the parent's loop, which supervises
        body = await asyncio.get_running_loop().run_in_executor(None, exposition, view)
        self.served += 1
        await self._send(writer, _response(200, body, CONTENT_TYPE, head_only))

    async def _send(self, writer: asyncio.StreamWriter, data: bytes,
                    unread: asyncio.StreamReader | None = None) -> None:
        """Answer and close. With `unread` (a request we stopped reading), first take in
        what the client is still sending, a bounded amount for a bounded time, so closing
        does not reset the connection before the client has read our answer."""
        try:
            writer.write(data)
            await asyncio.wait_for(writer.drain(), WRITE_TIMEOUT)
            if unread is not None:
                writer.write_eof()
                for _ in range(16):
                    if not await asyncio.wait_for(unread.read(MAX_HEAD), 1.0):
                        break
        except (TimeoutError, ConnectionError, OSError):
            pass
        finally:
            writer.close()
