"""smtp_alert on VRRP state changes (vrrpd/mail.py): keepalived's rules (instance, sync
group, global smtp_alert_vrrp / smtp_alert defaults, no_email_faults, last_email_state),
and a failover through the runtime delivering real mail to aiosmtpd on loopback."""

from __future__ import annotations

import asyncio
import logging

from aiosmtpd.smtp import SMTP as SmtpServerProtocol

from keepalived_py.config import load_text
from keepalived_py.track.events import RunNotify
from keepalived_py.track.smtp_alert import MailSettings
from keepalived_py.vrrp.machine import State
from keepalived_py.vrrpd.mail import VrrpMail
from keepalived_py.vrrpd.runtime import VrrpRuntime
from tests.fakes.clock import FakeClock
from tests.fakes.net import FakeNet, FakeOpener, FakeScheduler, FakeSender, FakeSysctls

LOG = logging.getLogger("test.vrrp_mail")

CONF = """
global_defs {{
    router_id LB1
    notification_email {{
        ops@example.org
    }}
    notification_email_from kpy@example.org
    smtp_server 127.0.0.1 {port}
    smtp_helo_name lb1.example
    smtp_connect_timeout 3
{glob}
}}
vrrp_instance VI_1 {{
    interface eth0
    virtual_router_id 51
    priority 100
    advert_int 1
{i1}
    virtual_ipaddress {{
        192.0.2.100/24
    }}
}}
vrrp_instance VI_2 {{
    interface eth0
    virtual_router_id 52
    priority 100
    advert_int 1
{i2}
    virtual_ipaddress {{
        192.0.2.101/24
    }}
}}
vrrp_sync_group G1 {{
    group {{
        VI_2
    }}
{g}
}}
"""


def conf(port: int = 25, glob: str = "", i1: str = "", i2: str = "", g: str = ""):
    return load_text(CONF.format(port=port, glob=glob, i1=i1, i2=i2, g=g)).config


class FakeAlerter:
    def __init__(self, settings: MailSettings) -> None:
        self.settings = settings
        self.subjects: list[str] = []

    def send(self, alert) -> None:
        if alert is not None:
            self.subjects.append(alert.subject)


def mailer(config) -> VrrpMail:
    m = VrrpMail(lambda _s: None, make_alerter=FakeAlerter)
    m.configure(config)
    return m


def notify(m: VrrpMail, *events: tuple[str, str, str]) -> list[str]:
    for kind, name, state in events:
        m.notify(RunNotify(kind, name, state, 100))
    return m.alerter.subjects if m.alerter is not None else []


def test_instance_keyword_beats_smtp_alert_vrrp_beats_smtp_alert():
    m = mailer(conf(glob="    smtp_alert\n    smtp_alert_vrrp off", i1="    smtp_alert"))
    assert m.enabled == {("INSTANCE", "VI_1"): True, ("INSTANCE", "VI_2"): False, ("GROUP", "G1"): False}
    m = mailer(conf(glob="    smtp_alert"))
    assert set(m.enabled.values()) == {True}
    m = mailer(conf())
    assert set(m.enabled.values()) == {False} and m.alerter is None


def test_states_mailed_once_each_and_events_never():
    m = mailer(conf(glob="    smtp_alert"))
    subjects = notify(m, ("INSTANCE", "VI_1", "BACKUP"), ("INSTANCE", "VI_1", "BACKUP"),
                      ("INSTANCE", "VI_1", "PRIORITY"), ("INSTANCE", "VI_1", "MASTER_RX_LOWER_PRI"),
                      ("INSTANCE", "VI_1", "MASTER"), ("GROUP", "G1", "MASTER"), ("GROUP", "G1", "MASTER"),
                      ("INSTANCE", "VI_1", "STOP"), ("GROUP", "G1", "STOP"))
    assert subjects == ["[LB1] VRRP Instance VI_1 - Entering BACKUP state",
                        "[LB1] VRRP Instance VI_1 - Entering MASTER state",
                        "[LB1] VRRP Group G1 - Entering MASTER state",
                        "[LB1] VRRP Instance VI_1 - Stopping",
                        "[LB1] VRRP Group G1 - Stopping"]


def test_no_email_faults_skips_fault_but_a_later_state_still_mails():
    m = mailer(conf(glob="    smtp_alert\n    no_email_faults"))
    subjects = notify(m, ("INSTANCE", "VI_1", "MASTER"), ("INSTANCE", "VI_1", "FAULT"),
                      ("INSTANCE", "VI_1", "MASTER"), ("INSTANCE", "VI_1", "FAULT"), ("INSTANCE", "VI_1", "BACKUP"))
    # FAULT is not mailed and not remembered: MASTER again is the same state, no mail
    assert subjects == ["[LB1] VRRP Instance VI_1 - Entering MASTER state",
                        "[LB1] VRRP Instance VI_1 - Entering BACKUP state"]


def test_reload_keeps_last_mailed_state_of_kept_names():
    m = mailer(conf(glob="    smtp_alert"))
    notify(m, ("INSTANCE", "VI_1", "MASTER"))
    alerter = m.alerter
    m.configure(conf(glob="    smtp_alert"))
    assert m.alerter is alerter  # same settings: same sender
    assert notify(m, ("INSTANCE", "VI_1", "MASTER")) == ["[LB1] VRRP Instance VI_1 - Entering MASTER state"]


class _Handler:
    def __init__(self) -> None:
        self.envelopes: list = []

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 accepted"


def test_failover_mails_through_the_runtime_to_an_smtp_server():
    async def go():
        loop = asyncio.get_running_loop()
        handler = _Handler()
        server = await loop.create_server(lambda: SmtpServerProtocol(handler), "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        clock = FakeClock()
        net = FakeNet()
        net.add_link("eth0", addrs=("192.0.2.1/24",))
        sched = FakeScheduler(clock)
        mail = VrrpMail(LOG.info)
        rt = VrrpRuntime(net, clock, LOG, sender=FakeSender(), socket_opener=FakeOpener(), scheduler=sched,
                         vmac_sysctls=FakeSysctls(), mail=mail)
        try:
            await rt.start(conf(port, i1="    smtp_alert"))
            sched.advance(3.7)
            for _ in range(10):
                await asyncio.sleep(0)
            assert rt.state_of("VI_1") == State.MASTER
            await mail.alerter.drain(5)
            mail.shutdown()  # as the daemon does: keepalived delivers no "Stopping" mail
            await rt.stop()
            await mail.close()
        finally:
            server.close()
        return handler.envelopes

    envelopes = asyncio.run(go())
    subjects = [next(line for line in e.original_content.decode().split("\r\n") if line.startswith("Subject:"))
                for e in envelopes]
    # mails go in parallel: their arrival order is the server's
    assert sorted(subjects) == sorted(["Subject: [LB1] VRRP Instance VI_1 - Entering BACKUP state",
                                       "Subject: [LB1] VRRP Instance VI_1 - Entering MASTER state"])
    assert all(e.mail_from == "kpy@example.org" and e.rcpt_tos == ["ops@example.org"] for e in envelopes)
