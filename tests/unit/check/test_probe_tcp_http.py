"""TCP_CHECK, HTTP_GET and SSL_GET probes against servers made here on loopback."""

from __future__ import annotations

import asyncio
import hashlib
import ssl
import time

import pytest

from keepalived_py.check.kinds import http, tcp
from keepalived_py.check.kinds.base import Resources, Target
from keepalived_py.check.result import Status
from keepalived_py.config.model.checkers import HttpGet, SslGet, Url

from .deadlines import HANG, armed, deadlines_are
from .servers import black_hole, closed_port, reset, self_signed, tcp_server

T = 0.3
BODY = b"<html>hello keepalived</html>"


def run(coro):
    return asyncio.run(coro)


# --------------------------------------------------------------------------- TCP
def test_tcp_up_down_timeout():
    async def main():
        async def handler(r, w):
            w.close()
        server, port = await tcp_server(handler)
        async with server:
            up = await tcp.probe(Target("127.0.0.1", port, T))
        down = await tcp.probe(Target("127.0.0.1", closed_port(), T))
        with black_hole() as hole, armed() as delays:
            t0 = time.monotonic()
            slow = await tcp.probe(Target("127.0.0.1", hole, T))
            took = time.monotonic() - t0
        return up, down, slow, took, delays
    up, down, slow, took, delays = run(main())
    assert up.status is Status.OK and up.latency >= 0
    assert down.status is Status.FAILED and "refused" in down.reason.lower()
    # the timeout path, after the probe's own deadline (connect_timeout, once) and not
    # before it; the wall-clock bound is one only a hang breaks (tests/unit/check/deadlines.py)
    assert slow.status is Status.TIMEOUT and slow.reason == "connect timeout"
    assert deadlines_are(delays, T), delays
    assert T - 1e-3 <= took < HANG


def test_tcp_bad_bind_if_is_a_failure_not_a_crash():
    r = run(tcp.probe(Target("127.0.0.1", 1, T, bind_if="no-such-if0")))
    assert r.status is Status.FAILED and r.reason


# --------------------------------------------------------------------------- HTTP
def http_get(*urls, cls=HttpGet, **kw):
    return cls(url=tuple(urls), **kw)


async def http_server(mode: str, seen: list | None = None, tls: ssl.SSLContext | None = None):
    async def handler(r, w):
        try:
            head = await r.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            w.close()
            return
        if seen is not None:
            seen.append(head)
        try:
            if mode == "ok":
                w.write(b"HTTP/1.0 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(BODY), BODY))
            elif mode == "short":
                w.write(b"HTTP/1.0 200 OK\r\nContent-Length: 100\r\n\r\n%s" % BODY)
            elif mode == "500":
                w.write(b"HTTP/1.0 500 Oops\r\nContent-Length: 2\r\n\r\nno")
            elif mode == "slow":
                await asyncio.sleep(T * 3)
                w.write(b"HTTP/1.0 200 OK\r\n\r\nlate")
            elif mode == "silent":
                await asyncio.sleep(10)
            elif mode == "reset":
                reset(w)
                return
            elif mode == "garbage":
                w.write(b"\x00\xff garbage that is not http \r\n\r\n" * 3)
            elif mode == "endless":
                w.write(b"HTTP/1.0 200 OK\r\n\r\n")
                while True:
                    w.write(b"x" * 65536)
                    await w.drain()
            elif mode == "huge":
                size = 8 << 20
                w.write(b"HTTP/1.0 200 OK\r\nContent-Length: %d\r\n\r\n" % size)
                chunk = b"y" * 65536
                for _ in range(size // len(chunk)):
                    w.write(chunk)
                    await w.drain()
            elif mode == "endless_header":
                w.write(b"HTTP/1.0 200 OK\r\nX-Long: ")
                while True:
                    w.write(b"z" * 65536)
                    await w.drain()
            await w.drain()
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            if not w.is_closing():
                w.close()
    server = await asyncio.start_server(handler, "127.0.0.1", 0, ssl=tls)
    return server, server.sockets[0].getsockname()[1]


def probe_mode(mode, *urls, cls=HttpGet, resources=Resources(), vhost=None, delays=None, **kw):
    """(result, wall seconds, requests seen); `delays`: a list to collect the deadlines the
    probe armed (deadlines.armed)."""
    async def main():
        seen: list = []
        server, port = await http_server(mode, seen)
        async with server:
            with armed() as armed_now:
                t0 = time.monotonic()
                r = await http.probe(Target("127.0.0.1", port, T, virtualhost=vhost, resources=resources),
                                     http_get(*(urls or (Url(path="/"),)), cls=cls, **kw))
                took = time.monotonic() - t0
            if delays is not None:
                delays.extend(armed_now)
            return r, took, seen
    return run(main())


def test_http_up_and_request_is_keepalived_s():
    r, _, seen = probe_mode("ok", Url(path="/health"))
    assert r.status is Status.OK and r.reason == "HTTP status code"
    head = seen[0].decode()
    assert head.startswith("GET /health HTTP/1.0\r\n")
    assert "User-Agent: KeepAliveClient" in head and "Host: 127.0.0.1:" in head
    assert "Accept" not in head


def test_http_virtualhost_and_http11():
    r, _, seen = probe_mode("ok", Url(path="/"), vhost="www.example.org", http_protocol="1.1")
    head = seen[0].decode()
    assert r.ok and "Host: www.example.org\r\n" in head and head.startswith("GET / HTTP/1.1")
    assert "Connection: close" in head


def test_http_down():
    r = run(http.probe(Target("127.0.0.1", closed_port(), T), http_get(Url(path="/"))))
    assert r.status is Status.FAILED and r.reason == "Connection failed"


def test_http_body_shorter_than_content_length_is_judged_on_what_came():
    r, _, _ = probe_mode("short", Url(path="/", digest=hashlib.md5(BODY).hexdigest()))
    assert r.ok and "shorter" in r.detail, r
    assert r.length_mismatch == (100, len(BODY))


def test_http_wrong_status_and_status_ranges():
    r, _, _ = probe_mode("500", Url(path="/"))
    assert r.status is Status.FAILED and r.reason == "HTTP status code error to"
    r, _, _ = probe_mode("500", Url(path="/", status_code=((500, 599),)))
    assert r.ok


def test_http_digest():
    good = hashlib.md5(BODY).hexdigest()
    r, _, _ = probe_mode("ok", Url(path="/", digest=good))
    assert r.ok and r.reason == "MD5 digest"
    r, _, _ = probe_mode("ok", Url(path="/", digest="0" * 32))
    assert r.status is Status.FAILED and r.reason == "MD5 digest error to"


def test_http_regex_and_options():
    assert probe_mode("ok", Url(path="/", regex="hello [a-z]+"))[0].reason == "Regex match"
    bad = probe_mode("ok", Url(path="/", regex="goodbye"))[0]
    assert bad.status is Status.FAILED and bad.reason == "Regex match failed"
    assert probe_mode("ok", Url(path="/", regex="goodbye", regex_no_match=True))[0].ok
    assert not probe_mode("ok", Url(path="/", regex="HELLO"))[0].ok
    assert probe_mode("ok", Url(path="/", regex="HELLO", regex_options=("caseless",)))[0].ok
    assert not probe_mode("ok", Url(path="/", regex="hello", regex_min_offset=20))[0].ok


@pytest.mark.parametrize("mode,status,reason", [
    ("slow", Status.TIMEOUT, "Timeout HTTP read"),
    ("silent", Status.TIMEOUT, "Timeout HTTP read"),
    ("reset", Status.FAILED, None),
    ("garbage", Status.FAILED, None),
])
def test_http_bad_servers(mode, status, reason):
    delays: list[float] = []
    r, took, _ = probe_mode(mode, Url(path="/"), delays=delays)
    assert r.status is status, r
    if reason:
        assert r.reason == reason
    assert r.reason
    # connect and each read get connect_timeout, the whole request http_total_factor times
    # it: the deadlines armed, whatever the load; on the wall clock, only a hang is caught
    assert deadlines_are(delays, T, T * Resources().http_total_factor), delays
    assert took < HANG
    if status is Status.TIMEOUT:
        assert took >= T - 1e-3


@pytest.mark.parametrize("mode", ["endless", "huge", "endless_header"])
def test_http_endless_or_huge_response_is_bounded(mode):
    res = Resources(max_response_bytes=256 * 1024)
    delays: list[float] = []
    r, took, _ = probe_mode(mode, Url(path="/"), resources=res, delays=delays)
    assert r.status in (Status.FAILED, Status.TIMEOUT) and r.reason
    # bounded by the total deadline (armed, whatever the load) or the size cap before it
    assert deadlines_are(delays, T, T * res.http_total_factor), delays
    assert took < HANG


# --------------------------------------------------------------------------- SSL_GET
@pytest.fixture(scope="module")
def tls_ctx(tmp_path_factory):
    cert, key = self_signed(tmp_path_factory.mktemp("tls"))
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    return ctx


def tls_probe(ctx, mode, url, **kw):
    async def main():
        server, port = await http_server(mode, tls=ctx)
        async with server:
            return await http.probe(Target("127.0.0.1", port, T, virtualhost=kw.pop("vhost", None)),
                                    http_get(url, cls=SslGet, **kw))
    return run(main())


def test_ssl_get_up_with_digest(tls_ctx):
    r = tls_probe(tls_ctx, "ok", Url(path="/", digest=hashlib.md5(BODY).hexdigest()))
    assert r.ok, r


def test_ssl_get_sni(tls_ctx):
    assert tls_probe(tls_ctx, "ok", Url(path="/"), vhost="localhost", enable_sni=True).ok


def test_ssl_get_wrong_status(tls_ctx):
    assert tls_probe(tls_ctx, "500", Url(path="/")).reason == "HTTP status code error to"


def test_ssl_get_against_plain_garbage_fails_with_ssl_reason():
    async def main():
        async def handler(r, w):
            w.write(b"this is not TLS at all\r\n" * 10)
            await w.drain()
            w.close()
        server, port = await tcp_server(handler)
        async with server:
            t0 = time.monotonic()
            r = await http.probe(Target("127.0.0.1", port, T), http_get(Url(path="/"), cls=SslGet))
            return r, time.monotonic() - t0
    r, took = run(main())
    assert r.status is Status.FAILED and r.reason.startswith("SSL handshake"), r
    # a failed handshake, not a timeout (the reason says so); only a hang breaks this bound
    assert took < HANG


def test_ssl_get_silent_server_times_out():
    async def main():
        async def handler(r, w):
            await asyncio.sleep(5)
        server, port = await tcp_server(handler)
        async with server:
            return await http.probe(Target("127.0.0.1", port, T), http_get(Url(path="/"), cls=SslGet))
    r = run(main())
    assert r.status in (Status.TIMEOUT, Status.FAILED) and r.reason


def test_ssl_get_client_certificate_from_the_ssl_block(tmp_path):
    from keepalived_py.config.model.static import SslDefs

    cert, key = self_signed(tmp_path)
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(cert, key)
    server_ctx.verify_mode = ssl.CERT_REQUIRED
    server_ctx.load_verify_locations(cert)

    async def main(client_ctx):
        server, port = await http_server("ok", tls=server_ctx)
        async with server:
            return await http.probe(Target("127.0.0.1", port, T, resources=Resources(ssl_context=client_ctx)),
                                    http_get(Url(path="/"), cls=SslGet))
    with_cert = run(main(http.tls_context(SslDefs(certificate=str(cert), key=str(key), ca=str(cert)))))
    without = run(main(http.tls_context(None)))
    assert with_cert.ok, with_cert
    assert without.status is not Status.OK and without.reason
