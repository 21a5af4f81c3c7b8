"""The check child runs on uvloop: every network probe works there too (up and down)."""

from __future__ import annotations

import dns.message
import pytest

from keepalived_py.check.kinds import dns as dnsk
from keepalived_py.check.kinds import http, smtp, tcp, udp
from keepalived_py.check.kinds.base import Target
from keepalived_py.check.result import Status
from keepalived_py.config.model.checkers import DnsCheck, HttpGet, SmtpCheck, UdpCheck, Url

from .servers import closed_port, tcp_server, udp_server

uvloop = pytest.importorskip("uvloop")
T = 0.3


async def _all():
    results = {}

    async def web(r, w):
        await r.readuntil(b"\r\n\r\n")
        w.write(b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok")
        await w.drain()
        w.close()

    async def mail(r, w):
        w.write(b"220 hi\r\n")
        await r.readline()
        w.write(b"250 ok\r\n")
        await r.readline()
        w.write(b"221 bye\r\n")
        await w.drain()
        w.close()

    web_srv, web_port = await tcp_server(web)
    mail_srv, mail_port = await tcp_server(mail)
    dns_t, dns_port = await udp_server(lambda d: [dns.message.make_response(dns.message.from_wire(d)).to_wire()])
    echo_t, echo_port = await udp_server(lambda d: [d])
    dead = closed_port()
    try:
        results["tcp"] = await tcp.probe(Target("127.0.0.1", web_port, T))
        results["tcp_down"] = await tcp.probe(Target("127.0.0.1", dead, T))
        results["http"] = await http.probe(Target("127.0.0.1", web_port, T), HttpGet(url=(Url(path="/"),)))
        results["http_down"] = await http.probe(Target("127.0.0.1", dead, T), HttpGet(url=(Url(path="/"),)))
        results["smtp"] = await smtp.probe(Target("127.0.0.1", mail_port, T), SmtpCheck())
        results["dns"] = await dnsk.probe(Target("127.0.0.1", dns_port, T), DnsCheck(name="example.org"))
        results["dns_down"] = await dnsk.probe(Target("127.0.0.1", dead, T), DnsCheck(name="example.org"))
        results["udp"] = await udp.probe(Target("127.0.0.1", echo_port, T), UdpCheck(require_reply=""))
        results["udp_down"] = await udp.probe(Target("127.0.0.1", dead, T), UdpCheck())
    finally:
        web_srv.close()
        mail_srv.close()
        dns_t.close()
        echo_t.close()
    return results


def test_probes_on_uvloop():
    results = uvloop.run(_all())
    for name, r in results.items():
        if name.endswith("_down"):
            assert r.status is not Status.OK and r.reason, (name, r)
        else:
            assert r.ok, (name, r)
