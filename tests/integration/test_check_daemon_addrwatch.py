"""ha_suspend's address watch on a real kernel: in a fresh network namespace, the dump at
start and the add / delete events of an address arrive."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

import pytest

from tests.envcheck import need_netns

pytestmark = [pytest.mark.root]

SCRIPT = r"""
import asyncio, subprocess, sys
from keepalived_py.check.addrwatch import AddressWatch
async def main():
    seen = []
    changed = asyncio.Event()
    def on_change(addrs):
        seen.append(sorted(addrs)); changed.set()
    w = AddressWatch(on_change)
    first = await w.start()
    print("start", sorted(first), flush=True)
    for cmd in (["ip", "addr", "add", "192.0.2.1/24", "dev", "lo"], ["ip", "addr", "del", "192.0.2.1/24", "dev", "lo"]):
        changed.clear()
        subprocess.run(cmd, check=True)
        await asyncio.wait_for(changed.wait(), 5)
        print("now", seen[-1], flush=True)
    w.close()
asyncio.run(main())
"""


def test_address_watch_in_a_namespace():
    need_netns()
    ns = f"kpyaw{uuid.uuid4().hex[:6]}"
    subprocess.run(["ip", "netns", "add", ns], check=True)
    try:
        subprocess.run(["ip", "-n", ns, "link", "set", "lo", "up"], check=True)
        r = subprocess.run(["ip", "netns", "exec", ns, sys.executable, "-c", SCRIPT], capture_output=True,
                           text=True, timeout=60, cwd=os.path.dirname(os.path.dirname(os.path.dirname(__file__))))
        assert r.returncode == 0, r.stderr
        lines = r.stdout.splitlines()
        assert lines[0] == "start ['127.0.0.1', '::1']", lines
        assert lines[1] == "now ['127.0.0.1', '192.0.2.1', '::1']", lines
        assert lines[2] == "now ['127.0.0.1', '::1']", lines
    finally:
        subprocess.run(["ip", "netns", "del", ns], check=False)
