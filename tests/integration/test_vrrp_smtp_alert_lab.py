"""smtp_alert mails of keepalived-py against keepalived 2.2.7's, through the real daemons.

Router r1 runs each implementation in turn with the same configuration: an instance with
smtp_alert and a sync group with smtp_alert, an SMTP server (aiosmtpd) on the namespace's
loopback records each mail. The instance goes BACKUP, then MASTER, then is stopped: the
set of mails (HELO name, envelope, headers but Date, body) must be the same. (keepalived
delivers no "Stopping" mail: it exits before sending what notify_shutdown queued.)
"""

from __future__ import annotations

import json
import signal
import sys
import time
from pathlib import Path

import pytest

from tests.integration.test_vrrp_runtime_support import VIP, master_down, wait_until

pytestmark = [pytest.mark.root, pytest.mark.keepalived, pytest.mark.slow]

TOPOLOGY = """
bridge lan 192.0.2.0/24
router r1 lan
"""
PORT = 2525
SERVER = r"""
import asyncio, json, sys
from aiosmtpd.smtp import SMTP

class Handler:
    async def handle_DATA(self, server, session, envelope):
        with open(sys.argv[2], "a") as f:
            f.write(json.dumps({"helo": session.host_name, "from": envelope.mail_from,
                                "to": envelope.rcpt_tos,
                                "data": envelope.original_content.decode()}) + "\n")
        return "250 OK"

async def main():
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SMTP(Handler()), "127.0.0.1", int(sys.argv[1]))
    print("ready", flush=True)
    await server.serve_forever()

asyncio.run(main())
"""
CONF = f"""
global_defs {{
    router_id LB-r1
    notification_email {{
        ops@example.org
        noc@example.org
    }}
    notification_email_from kpy@example.org
    smtp_server 127.0.0.1 {PORT}
    smtp_helo_name lb1.example.org
    smtp_connect_timeout 5
}}
vrrp_sync_group G1 {{
    group {{
        VI_2
    }}
    smtp_alert
}}
vrrp_instance VI_1 {{
    state BACKUP
    interface eth0
    virtual_router_id 51
    priority 150
    advert_int 1
    smtp_alert
    virtual_ipaddress {{
        {VIP}/24
    }}
}}
vrrp_instance VI_2 {{
    state BACKUP
    interface eth0
    virtual_router_id 52
    priority 150
    advert_int 1
    virtual_ipaddress {{
        192.0.2.102/24
    }}
}}
"""


def mails(path: Path) -> list[dict]:
    out = []
    if not path.exists():
        return out
    for line in path.read_text().splitlines():
        m = json.loads(line)
        headers, _, body = m["data"].partition("\r\n\r\n")
        m["headers"] = sorted(h for h in headers.split("\r\n") if not h.startswith("Date: "))
        m["body"] = body
        m["date"] = next((h for h in headers.split("\r\n") if h.startswith("Date: ")), None)
        del m["data"]
        out.append(m)
    return out


def run(la, impl, out: Path) -> list[dict]:
    server = la.spawn("r1", [sys.executable, "-c", SERVER, str(PORT), str(out)], what="smtpd")
    wait_until(lambda: "ready" in server.output(), 10, what=server.output)
    vips = la.watch_addresses(["r1"])
    d = la.start_daemon("r1", impl, CONF)
    assert vips.wait_for(VIP, node="r1", timeout=master_down(150) + 10) is not None, d.output()[-3000:]
    wait_until(lambda: len(mails(out)) >= 4, 10, what=lambda: f"{mails(out)} {d.output()[-2000:]}")
    d.signal(signal.SIGTERM)
    assert d.wait(15) == 0, d.output()[-3000:]
    time.sleep(1.0)
    return mails(out)


def test_failover_mails_match_keepalived(lab, implementation, keepalived_impl, tmp_path):
    py = implementation("keepalived-py", features=("vrrp",))
    ka = run(lab(TOPOLOGY), keepalived_impl, tmp_path / "ka.jsonl")
    ours = run(lab(TOPOLOGY), py, tmp_path / "py.jsonl")
    for name, got in (("keepalived", ka), ("keepalived-py", ours)):
        print(name)
        for m in got:
            print("  ", m["helo"], m["from"], m["to"], m["headers"], repr(m["body"]), m["date"])

    def key(m: dict) -> str:
        return json.dumps({k: m[k] for k in ("helo", "from", "to", "headers", "body")}, sort_keys=True)
    subjects = [h for m in ka for h in m["headers"] if h.startswith("Subject:")]
    assert "Subject: [LB-r1] VRRP Instance VI_1 - Entering MASTER state" in subjects, subjects
    assert "Subject: [LB-r1] VRRP Group G1 - Entering MASTER state" in subjects, subjects
    assert all(m["date"] for m in ours)
    assert sorted(map(key, ours)) == sorted(map(key, ka))
