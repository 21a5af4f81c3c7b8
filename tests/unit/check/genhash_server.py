"""A loopback server answering every request with canned bytes, in a thread of its own so that
genhash (ours, which runs its own event loop, or keepalived's, a subprocess) can be pointed at
it from synchronous test code. It records the requests it received."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import threading
from collections.abc import Iterator


class CannedServer:
    """Serves `response` (bytes, sent in `pieces` writes) then closes; `hang` never answers;
    `eager` sends the response on accept, without waiting for a request, and closes only
    after the client has: closing with the client's unread bytes would reset the connection,
    and whether the client then sees the reset or the bytes first is a race (keepalived
    itself says "Connection failed" or "SSL handshake/communication error" by timing)."""

    def __init__(self, response: bytes = b"", *, pieces: int = 1, hang: bool = False,
                 tls: ssl.SSLContext | None = None, host: str = "127.0.0.1", eager: bool = False) -> None:
        self.eager = eager
        self.response = response
        self.pieces = pieces
        self.hang = hang
        self.tls = tls
        self.host = host
        self.port = 0
        self.requests: list[bytes] = []
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            if not self.eager:
                self.requests.append(await reader.readuntil(b"\r\n\r\n"))
            if self.hang:
                await asyncio.sleep(3600)
            size = max(1, -(-len(self.response) // self.pieces))
            for off in range(0, len(self.response), size):
                writer.write(self.response[off:off + size])
                await writer.drain()
            if self.eager:
                while await reader.read(65536):
                    pass
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    async def _serve(self) -> None:
        self._stop = asyncio.Event()
        server = await asyncio.start_server(self._handle, self.host, 0, ssl=self.tls)
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        async with server:
            await self._stop.wait()
        # end the handlers still running (a hanging one) before the loop closes
        pending = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)

    def _run(self) -> None:
        self._loop.run_until_complete(self._serve())
        self._loop.close()

    def __enter__(self) -> CannedServer:
        self._thread.start()
        self._ready.wait(10)
        return self

    def __exit__(self, *exc) -> None:
        if self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)


@contextlib.contextmanager
def canned(response: bytes = b"", **kw) -> Iterator[CannedServer]:
    with CannedServer(response, **kw) as server:
        yield server


def page(body: bytes, status: str = "200 OK", extra: bytes = b"") -> bytes:
    """An HTTP/1.0 reply with fixed headers (no Date), so that two fetches see equal bytes."""
    return (f"HTTP/1.0 {status}\r\nServer: test\r\nContent-Length: {len(body)}\r\n".encode()
            + extra + b"\r\n" + body)
