"""SMTP_CHECK (aiosmtpd and hand-made servers), DNS_CHECK and UDP_CHECK probes on loopback."""

from __future__ import annotations

import asyncio
import struct
import time

import dns.message
import dns.rcode
import pytest

from keepalived_py.check.kinds import dns as dnsk
from keepalived_py.check.kinds import smtp, udp
from keepalived_py.check.kinds.base import Target
from keepalived_py.check.result import Status
from keepalived_py.config.model.checkers import DnsCheck, SmtpCheck, UdpCheck

from .deadlines import HANG, armed, deadlines_are
from .servers import closed_port, reset, tcp_server, udp_server

T = 0.3


def run(coro):
    return asyncio.run(coro)


# --------------------------------------------------------------------------- SMTP
def test_smtp_up_with_aiosmtpd():
    from aiosmtpd.controller import Controller

    class Handler:
        async def handle_HELO(self, server, session, envelope, hostname):
            session.host_name = hostname
            seen.append(hostname)
            return "250 hello"

    seen: list[str] = []
    port = closed_port()
    ctl = Controller(Handler(), hostname="127.0.0.1", port=port)
    ctl.start()
    try:
        r = run(smtp.probe(Target("127.0.0.1", port, 1.0), SmtpCheck(helo_name="probe.example")))
    finally:
        ctl.stop()
    assert r.ok, r
    assert seen == ["probe.example"]


async def scripted_smtp(lines_for):
    """A hand-made SMTP server: `lines_for(stage)` gives what to send at 'banner', after
    'helo' and after 'quit' (None: say nothing; 'reset': RST)."""
    async def handler(r, w):
        try:
            for stage in ("banner", "helo", "quit"):
                if stage != "banner":
                    await r.readline()
                out = lines_for(stage)
                if out == "reset":
                    reset(w)
                    return
                if out is None:
                    await asyncio.sleep(5)
                    return
                w.write(out)
                await w.drain()
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            if not w.is_closing():
                w.close()
    return await tcp_server(handler)


def smtp_case(lines_for, delays=None):
    """(result, wall seconds, port); `delays`: a list to collect the deadlines the probe
    armed (deadlines.armed)."""
    async def main():
        server, port = await scripted_smtp(lines_for)
        async with server:
            with armed() as armed_now:
                t0 = time.monotonic()
                r = await smtp.probe(Target("127.0.0.1", port, T), SmtpCheck())
                took = time.monotonic() - t0
            if delays is not None:
                delays.extend(armed_now)
            return r, took, port
    return run(main())


def test_smtp_keepalived_exchange_quit_answer_is_not_checked():
    r, _, _ = smtp_case(lambda s: {"banner": b"220 hi\r\n", "helo": b"250 ok\r\n", "quit": b"500 whatever\r\n"}[s])
    assert r.ok, r


@pytest.mark.parametrize("script,status,prefix", [
    ({"banner": b"554 go away\r\n"}, Status.FAILED, "Bad greeting banner from server"),
    ({"banner": b"220 hi\r\n", "helo": b"501 no\r\n"}, Status.FAILED, "Bad HELO response from server"),
    ({"banner": None}, Status.TIMEOUT, "Read timeout from server"),
    ({"banner": b"220 hi\r\n", "helo": None}, Status.TIMEOUT, "Read timeout from server"),
    ({"banner": "reset"}, Status.FAILED, None),
    ({"banner": b"\x00\xffgarbage\r\n"}, Status.FAILED, None),
    ({"banner": b"220 " + b"x" * 20000 + b"\r\n"}, Status.FAILED, None),
])
def test_smtp_bad_servers(script, status, prefix):
    delays: list[float] = []
    r, took, port = smtp_case(lambda s: script.get(s, b"250 ok\r\n"), delays)
    assert r.status is status, r
    assert r.reason
    if prefix:
        assert r.reason == f"{prefix} [127.0.0.1]:{port}"
    # each step (connect, banner, HELO) waits connect_timeout: the deadlines armed say so
    # whatever the load; on the wall clock, only a hang is caught (tests/unit/check/deadlines.py)
    assert deadlines_are(delays, T), delays
    assert took < HANG
    if status is Status.TIMEOUT:
        assert took >= T - 1e-3


def test_smtp_slow_but_within_timeout_is_up():
    async def main():
        async def handler(r, w):
            for out in (b"220 hi\r\n", b"250 ok\r\n", b"221 bye\r\n"):
                if out != b"220 hi\r\n":
                    await r.readline()
                await asyncio.sleep(T / 3)
                w.write(out)
                await w.drain()
            w.close()
        server, port = await tcp_server(handler)
        async with server:
            return await smtp.probe(Target("127.0.0.1", port, T), SmtpCheck())
    assert run(main()).ok


def test_smtp_down():
    port = closed_port()
    r = run(smtp.probe(Target("127.0.0.1", port, T), SmtpCheck()))
    assert r.status is Status.FAILED and r.reason == f"Could not connect to server [127.0.0.1]:{port}"


# --------------------------------------------------------------------------- DNS
def dns_answer(mode: str):
    def respond(data: bytes) -> list[bytes]:
        if mode == "silent":
            return []
        q = dns.message.from_wire(data)
        if mode == "short":
            return [b"\x00\x01"]
        if mode == "wrong_id":
            return [struct.pack("!HH", (q.id + 1) & 0xFFFF, 0x8180) + b"\0" * 8]
        if mode == "query":
            return [data]  # echoes the query: QR bit clear
        if mode == "garbage_body":
            return [struct.pack("!HH", q.id, 0x8180) + b"\xff" * 40]
        resp = dns.message.make_response(q)
        if mode == "servfail":
            resp.set_rcode(dns.rcode.SERVFAIL)
        assert q.flags & dns.flags.RD and q.question[0].name.to_text() == "example.org."
        return [resp.to_wire()]
    return respond


def dns_case(mode, delays=None, **params):
    """(result, wall seconds); `delays`: a list to collect the deadlines the probe armed."""
    async def main():
        transport, port = await udp_server(dns_answer(mode))
        try:
            with armed() as armed_now:
                t0 = time.monotonic()
                r = await dnsk.probe(Target("127.0.0.1", port, T), DnsCheck(name="example.org", type="A", **params))
                took = time.monotonic() - t0
            if delays is not None:
                delays.extend(armed_now)
            return r, took
        finally:
            transport.close()
    return run(main())


def test_dns_up():
    r, _ = dns_case("ok")
    assert r.ok, r


def test_dns_slow_answer_within_timeout():
    async def main():
        loop = asyncio.get_running_loop()
        holder = {}

        def respond(data):
            q = dns.message.from_wire(data)
            wire = dns.message.make_response(q).to_wire()
            loop.call_later(T / 2, lambda: holder["t"].sendto(wire, holder["addr"]))
            return []
        transport, port = await udp_server(respond)
        holder["t"] = transport
        orig = transport._protocol.datagram_received

        def capture(data, addr):
            holder["addr"] = addr
            orig(data, addr)
        transport._protocol.datagram_received = capture
        try:
            return await dnsk.probe(Target("127.0.0.1", port, T), DnsCheck(name="example.org"))
        finally:
            transport.close()
    assert run(main()).ok


def test_dns_rcode_error():
    r, _ = dns_case("servfail")
    assert r.status is Status.FAILED and r.reason == "read error occurred. (rcode = 2)"


@pytest.mark.parametrize("mode", ["silent", "short", "wrong_id", "query"])
def test_dns_malformed_or_no_reply_times_out(mode):
    delays: list[float] = []
    r, took = dns_case(mode, delays)
    assert r.status is Status.TIMEOUT and r.reason == "read timeout from socket"
    # one deadline, connect_timeout, ended it (not a later reply, not the load): the
    # wall-clock bound is one only a hang breaks (tests/unit/check/deadlines.py)
    assert deadlines_are(delays, T), delays
    assert T - 1e-3 <= took < HANG


def test_dns_answer_section_is_not_examined():
    r, _ = dns_case("garbage_body")
    assert r.ok


def test_dns_down():
    r = run(dnsk.probe(Target("127.0.0.1", closed_port(), T), DnsCheck(name="example.org")))
    assert r.status is Status.FAILED and r.reason.startswith("failed to read socket; errno 111")


# --------------------------------------------------------------------------- UDP
def udp_case(respond, **params):
    async def main():
        got: list[bytes] = []

        def recorder(data):
            got.append(data)
            return respond(data)
        transport, port = await udp_server(recorder)
        try:
            r = await udp.probe(Target("127.0.0.1", port, T), UdpCheck(**params))
            return r, got
        finally:
            transport.close()
    return run(main())


def test_udp_echo_with_payload_and_required_reply():
    r, got = udp_case(lambda d: [d], payload="dead beef", require_reply="dead beef")
    assert r.ok and got == [b"\xde\xad\xbe\xef"]


def test_udp_default_payload_and_silence_is_success():
    r, got = udp_case(lambda d: [])
    assert r.ok and got == [udp.DEFAULT_PAYLOAD] and len(got[0]) == 32


def test_udp_require_reply_silence_times_out():
    r, _ = udp_case(lambda d: [], require_reply="")
    assert r.status is Status.TIMEOUT


def test_udp_reply_mismatch_and_mask():
    r, _ = udp_case(lambda d: [b"\xde\xaf"], payload="00", require_reply="dead")
    assert r.status is Status.FAILED and r.detail == "mismatch"
    r, _ = udp_case(lambda d: [b"\xde\xaf"], payload="00", require_reply="dexx")
    assert r.ok


def test_udp_reply_too_long_or_huge():
    r, _ = udp_case(lambda d: [b"\xde\xad" + b"\0" * 60000], payload="00", require_reply="dead")
    assert r.status is Status.FAILED
    r, _ = udp_case(lambda d: [b"\xde\xad" + b"\0" * 10], payload="00", require_reply="dead", max_reply_length=4)
    assert r.status is Status.FAILED


def test_udp_down_port_unreachable():
    r = run(udp.probe(Target("127.0.0.1", closed_port(), T), UdpCheck()))
    assert r.status is Status.FAILED
