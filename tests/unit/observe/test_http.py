"""The metrics endpoint's HTTP front on loopback: /metrics parses with prometheus_client,
every bad request gets its error and the connection closes, and none of them holds the
event loop (a timer keeps firing while a slow client dawdles). Timeouts are shrunk so
nothing waits long; no root needed."""

from __future__ import annotations

import asyncio

import pytest
from prometheus_client.parser import text_string_to_metric_families

from conformance.lab.poll import wait_until_async
from keepalived_py.observe import http
from keepalived_py.observe.http import MetricsServer, parse_listen, route


async def _view():
    return {"vrrp": {"instances": []}, "parent": {}}


async def _start() -> MetricsServer:
    srv = MetricsServer(_view)
    await srv.start("127.0.0.1", 0)
    return srv


async def _exchange(port: int, data: bytes, read: bool = True) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(data)
    await writer.drain()
    out = await asyncio.wait_for(reader.read(), 5) if read else b""
    writer.close()
    return out


def test_metrics_parse_and_errors_for_bad_requests():
    async def go():
        srv = await _start()
        try:
            ok = await _exchange(srv.port, b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
            head, body = ok.split(b"\r\n\r\n", 1)
            assert head.startswith(b"HTTP/1.1 200 OK") and b"text/plain; version=0.0.4" in head
            names = [f.name for f in text_string_to_metric_families(body.decode())]
            assert "keepalived_up" in names
            assert (await _exchange(srv.port, b"GET /nope HTTP/1.1\r\n\r\n")).startswith(b"HTTP/1.1 404")
            assert (await _exchange(srv.port, b"POST /metrics HTTP/1.1\r\n\r\n")).startswith(b"HTTP/1.1 405")
            assert (await _exchange(srv.port, b"garbage\r\n\r\n")).startswith(b"HTTP/1.1 400")
            huge = b"GET /metrics HTTP/1.1\r\nX-Big: " + b"a" * (http.MAX_HEAD * 2) + b"\r\n\r\n"
            assert (await _exchange(srv.port, huge)).startswith(b"HTTP/1.1 431")
            head_only = await _exchange(srv.port, b"HEAD /metrics HTTP/1.1\r\n\r\n")
            assert head_only.startswith(b"HTTP/1.1 200") and head_only.endswith(b"\r\n\r\n")
            assert srv.served == 2
        finally:
            await srv.close()
    asyncio.run(go())


def test_slow_client_times_out(monkeypatch):
    monkeypatch.setattr(http, "HEAD_TIMEOUT", 0.2)

    async def go():
        srv = await _start()
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", srv.port)
            writer.write(b"GET /metr")  # and then nothing
            await writer.drain()
            answer = await asyncio.wait_for(reader.read(), 5)
            assert answer.startswith(b"HTTP/1.1 408")
            writer.close()
            # and the endpoint still serves
            ok = await _exchange(srv.port, b"GET /metrics HTTP/1.1\r\n\r\n")
            assert ok.startswith(b"HTTP/1.1 200")
        finally:
            await srv.close()
    asyncio.run(go())


def test_slow_client_does_not_hold_the_loop(monkeypatch):
    """While a client dawdles over its head, the loop keeps running: a timer fires and
    another client is served in full before the dawdler hears anything. Judged on order, not
    on a count of ticks within real time, so a loaded machine cannot break it (the head
    timeout is far longer than a loopback exchange)."""
    monkeypatch.setattr(http, "HEAD_TIMEOUT", 30.0)

    async def go():
        srv = await _start()
        fired = asyncio.Event()
        asyncio.get_running_loop().call_later(0.01, fired.set)
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", srv.port)
            writer.write(b"GET /metr")  # and then nothing
            await writer.drain()
            slow = asyncio.ensure_future(reader.read())
            await asyncio.wait_for(fired.wait(), 5)
            ok = await _exchange(srv.port, b"GET /metrics HTTP/1.1\r\n\r\n")
            assert ok.startswith(b"HTTP/1.1 200")
            assert not slow.done()  # the dawdler is still waiting, not answered or dropped
            writer.close()
            slow.cancel()
        finally:
            await srv.close()
    asyncio.run(go())


def test_too_many_clients_get_503(monkeypatch):
    monkeypatch.setattr(http, "MAX_CLIENTS", 2)
    monkeypatch.setattr(http, "HEAD_TIMEOUT", 2.0)

    async def go():
        srv = await _start()
        try:
            idle = [await asyncio.open_connection("127.0.0.1", srv.port) for _ in range(2)]
            await wait_until_async(lambda: srv.active == 2, 10, step=0.01)
            assert (await _exchange(srv.port, b"GET /metrics HTTP/1.1\r\n\r\n")).startswith(b"HTTP/1.1 503")
            for _, w in idle:
                w.close()
        finally:
            await srv.close()
    asyncio.run(go())


@pytest.mark.parametrize("text,want", [("127.0.0.1:9650", ("127.0.0.1", 9650)),
                                       ("[::1]:9650", ("::1", 9650)), ("0.0.0.0:1", ("0.0.0.0", 1))])
def test_parse_listen(text, want):
    assert parse_listen(text) == want


@pytest.mark.parametrize("text", ["9650", "localhost:9650", "127.0.0.1:0", "127.0.0.1:x", ":9650"])
def test_parse_listen_refuses(text):
    with pytest.raises(ValueError):
        parse_listen(text)


def test_route():
    assert route(b"GET /metrics?x=1 HTTP/1.0\r\n\r\n") == (200, False)
    assert route(b"DELETE /metrics HTTP/1.1\r\n\r\n") == (405, False)
    assert route(b"GET / HTTP/1.1\r\n\r\n") == (404, False)
    assert route(b"GET /metrics SPDY\r\n\r\n") == (400, False)
