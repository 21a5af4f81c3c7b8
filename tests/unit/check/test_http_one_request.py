"""HTTP_GET / SSL_GET send exactly one request per attempt: a server that closes the
connection after reading the request, without an answer, sees one connection and one
request (aiohttp alone would resend the GET on a new connection), and the check fails
with keepalived's "no data received" reason."""

from __future__ import annotations

import asyncio

import pytest
import uvloop

from keepalived_py.check.kinds import http
from keepalived_py.check.kinds.base import Target
from keepalived_py.check.result import Status
from keepalived_py.config.model.checkers import HttpGet, Url


async def _probe_against_early_close() -> tuple[object, list[bytes]]:
    requests: list[bytes] = []

    async def handler(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        try:
            requests.append(await r.readuntil(b"\r\n\r\n"))
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        w.close()  # no answer at all

    server = await asyncio.start_server(handler, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        result = await http.probe(Target("127.0.0.1", port, 2.0), HttpGet(url=(Url(path="/"),)))
        await asyncio.sleep(0)  # let a (wrong) second connection's handler run
        return result, requests


@pytest.mark.parametrize("loop", ["asyncio", "uvloop"])
def test_one_request_per_attempt_after_an_early_close(loop: str) -> None:
    runner = uvloop.run if loop == "uvloop" else asyncio.run
    result, requests = runner(_probe_against_early_close())
    assert len(requests) == 1, requests
    assert requests[0].startswith(b"GET / HTTP/1.0\r\n")
    assert result.status is Status.FAILED and result.reason.startswith("Read, no data received"), result
