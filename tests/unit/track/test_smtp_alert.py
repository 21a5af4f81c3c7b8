"""smtp_alert mail: keepalived's texts, and the dialogue against an SMTP server on loopback
(aiosmtpd on the test's own loop; no root, no sleeps beyond the timeouts under test)."""

from __future__ import annotations

import asyncio
import re

import pytest
from aiosmtpd.smtp import SMTP as SmtpServerProtocol

from keepalived_py.config.loader import load_text
from keepalived_py.track.smtp_alert import (
    MAX_IN_FLIGHT,
    Alert,
    MailSettings,
    SmtpAlerter,
    message_text,
    real_server_alert,
    real_server_shut_alert,
    virtual_server_alert,
    vrrp_group_alert,
    vrrp_instance_alert,
)


def _settings(port: int, **kw) -> MailSettings:
    base = dict(host="127.0.0.1", port=port, helo="lb1.example", sender="kpy@example.org",
                recipients=("ops@example.org", "noc@example.org"), connect_timeout=2.0,
                router_id="LB1")
    base.update(kw)
    return MailSettings(**base)


def test_vrrp_texts_are_keepalived_s():
    a = vrrp_instance_alert("LB1", "VI_1", "MASTER")
    assert a == Alert("[LB1] VRRP Instance VI_1 - Entering MASTER state",
                      "=> VRRP Instance is now owning VRRP VIPs <=")
    assert vrrp_instance_alert("LB1", "VI_1", "FAULT").body == "=> VRRP Instance is no longer owning VRRP VIPs <="
    assert vrrp_instance_alert("LB1", "VI_1", "STOP").subject == "[LB1] VRRP Instance VI_1 - Stopping"
    assert vrrp_instance_alert("LB1", "VI_1", "INIT") is None
    g = vrrp_group_alert("LB1", "G1", "BACKUP")
    assert g == Alert("[LB1] VRRP Group G1 - Entering BACKUP state",
                      "=> All VRRP group instances are now in BACKUP state <=")
    assert vrrp_group_alert(None, "G1", "MASTER").subject == "VRRP Group G1 - Entering MASTER state"


def test_checker_texts_are_keepalived_s():
    rs = real_server_alert("LB1", "[192.0.2.2]:tcp:80", "[192.0.2.10]:tcp:80", False,
                           "=> TCP CHECK failed on service <=")
    assert rs.subject == "[LB1] Realserver [192.0.2.2]:tcp:80 of virtual server [192.0.2.10]:tcp:80 - DOWN"
    shut = real_server_shut_alert("LB1", "[192.0.2.2]:tcp:80", "[192.0.2.10]:tcp:80", stopping=True)
    assert shut.body == "=> Shutting down <=" and shut.subject.endswith(" - DOWN")
    assert virtual_server_alert("LB1", "[192.0.2.10]:tcp:80", True, "x").subject == \
        "[LB1] Virtualserver [192.0.2.10]:tcp:80 - UP"


def test_message_layout_and_truncation():
    s = _settings(25)
    text = message_text(s, Alert("S" * 400, "B" * 900), when=0)
    head, body = text.split("\r\n\r\n", 1)
    lines = head.split("\r\n")
    assert re.fullmatch(r"Date: \w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d [+-]\d{4}", lines[0])
    assert lines[1:] == ["From: kpy@example.org", "Subject: " + "S" * 255, "X-Mailer: Keepalived",
                         "To: ops@example.org, noc@example.org"]
    assert body == "B" * 511 + "\r\n\r\n"


def test_settings_from_global_defs_with_keepalived_defaults():
    conf = load_text("global_defs {\n notification_email {\n  a@example.org\n }\n"
                            " smtp_server 192.0.2.25 2525\n}\n")
    s = MailSettings.from_global(conf.config.global_defs, local_name=lambda: "host.example")
    assert (s.host, s.port, s.helo, s.router_id, s.recipients) == \
        ("192.0.2.25", 2525, "host.example", "host.example", ("a@example.org",))
    assert s.sender.endswith("@host.example") and s.connect_timeout == 30.0
    assert s.server_text == "[192.0.2.25]:2525"
    assert MailSettings.from_global(load_text("global_defs {\n smtp_server 192.0.2.25\n}\n").config.global_defs) is None


class _Handler:
    def __init__(self, rcpt_code: str | None = None) -> None:
        self.rcpt_code = rcpt_code
        self.envelopes: list = []
        self.helo: list[tuple[str, bool]] = []

    async def handle_HELO(self, server, session, envelope, hostname):
        session.host_name = hostname
        self.helo.append((hostname, False))
        return "250 ok"

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        self.helo.append((hostname, True))
        return responses

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.rcpt_code:
            return self.rcpt_code
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 accepted"


async def _serve(handler) -> tuple[asyncio.AbstractServer, int]:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SmtpServerProtocol(handler), "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


def test_mail_is_sent_as_keepalived_sends_it():
    async def main():
        handler = _Handler()
        server, port = await _serve(handler)
        logs: list[str] = []
        detail: list[str] = []
        try:
            alerter = SmtpAlerter(_settings(port), logs.append, detail.append)
            alerter.send(vrrp_instance_alert("LB1", "VI_1", "MASTER"))
            alerter.send(None)
            await alerter.drain(5)
        finally:
            server.close()
        return handler, logs, detail, alerter

    handler, logs, detail, alerter = asyncio.run(main())
    assert logs == [] and detail == ["SMTP alert successfully sent."] and alerter.sent == 1
    assert handler.helo == [("lb1.example", False)]  # HELO, never EHLO
    (env,) = handler.envelopes
    assert env.mail_from == "kpy@example.org"
    assert env.rcpt_tos == ["ops@example.org", "noc@example.org"]
    content = env.original_content.decode()
    assert "Subject: [LB1] VRRP Instance VI_1 - Entering MASTER state\r\n" in content
    assert content.endswith("\r\n\r\n=> VRRP Instance is now owning VRRP VIPs <=\r\n\r\n")


def test_refused_recipient_is_one_log_line():
    async def main():
        server, port = await _serve(_Handler(rcpt_code="550 no such user"))
        logs: list[str] = []
        try:
            alerter = SmtpAlerter(_settings(port), logs.append)
            alerter.send(vrrp_instance_alert("LB1", "VI_1", "BACKUP"))
            await alerter.drain(5)
        finally:
            server.close()
        return logs, port, alerter

    logs, port, alerter = asyncio.run(main())
    assert logs == [f"Error processing RCPT cmd on SMTP server [127.0.0.1]:{port}. SMTP status code = 550"]
    assert alerter.failed == 1


def test_unreachable_server_is_one_log_line():
    async def main():
        server, port = await _serve(_Handler())
        server.close()
        await server.wait_closed()
        logs: list[str] = []
        alerter = SmtpAlerter(_settings(port), logs.append)
        alerter.send(vrrp_instance_alert("LB1", "VI_1", "FAULT"))
        await alerter.drain(5)
        return logs, port

    logs, port = asyncio.run(main())
    assert logs == [f"SMTP connection ERROR to [127.0.0.1]:{port}."]


def test_silent_server_times_out_without_blocking_the_loop():
    """The mail waits for the greeting on the loop, not in a blocking call: once the server
    has the connection, the loop still runs other work while the mail is pending. Judged on
    order (a blocking send would have finished, or not yet connected, by the time this
    coroutine runs again), not on a count of ticks in real time, which load can break."""
    async def main():
        accepted = asyncio.Event()

        async def silent(reader, writer):
            accepted.set()
            await reader.read(1)  # never greets
            writer.close()

        server = await asyncio.start_server(silent, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        logs: list[str] = []
        try:
            alerter = SmtpAlerter(_settings(port, connect_timeout=1.0), logs.append)
            alerter.send(vrrp_instance_alert("LB1", "VI_1", "MASTER"))
            await asyncio.wait_for(accepted.wait(), 5)
            for _ in range(3):
                await asyncio.sleep(0)
            pending = bool(alerter._tasks) and not logs  # the loop runs while the mail waits
            await alerter.drain(10)
        finally:
            server.close()
        return logs, port, pending

    logs, port, pending = asyncio.run(main())
    assert pending
    assert logs == [f"Timeout reading data to remote SMTP server [127.0.0.1]:{port}."]


def test_alerts_beyond_the_in_flight_bound_are_dropped_and_logged():
    async def main():
        async def silent(reader, writer):
            await reader.read(1)
            writer.close()

        server = await asyncio.start_server(silent, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        logs: list[str] = []
        try:
            alerter = SmtpAlerter(_settings(port, connect_timeout=5), logs.append)
            for _ in range(MAX_IN_FLIGHT + 3):
                alerter.send(vrrp_instance_alert("LB1", "VI_1", "MASTER"))
            dropped = list(logs)
            await alerter.close()
        finally:
            server.close()
        return dropped

    dropped = asyncio.run(main())
    assert len(dropped) == 3 and all("SMTP alert dropped" in line for line in dropped)


@pytest.mark.parametrize("state", ["MASTER", "BACKUP", "FAULT", "STOP"])
def test_every_instance_state_keepalived_mails_has_a_text(state):
    assert vrrp_instance_alert(None, "VI", state) is not None
    assert vrrp_group_alert(None, "G", state) is not None
