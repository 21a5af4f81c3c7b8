"""Plumbing for the tracker tests: configs with sub-second intervals, event collection."""

from __future__ import annotations

import asyncio
import dataclasses
import time

from keepalived_py.config import load_text

INSTANCE = """
vrrp_instance VI_1 {{
    interface lo
    virtual_router_id 51
    priority 100
    virtual_ipaddress {{
        192.0.2.100
    }}
    {body}
}}
"""


def config(top: str, instance_body: str = "", **script_intervals):
    """Load `top` plus one instance; `name=(interval, timeout)` overrides script timings
    with sub-second values the configuration language cannot express."""
    res = load_text(top + INSTANCE.format(body=instance_body))
    assert not res.fatal, [str(d) for d in res.diagnostics]
    cfg = res.config
    if script_intervals:
        scripts = []
        for vs in cfg.vrrp_script:
            if vs.name in script_intervals:
                interval, timeout = script_intervals[vs.name]
                vs = dataclasses.replace(vs, interval=interval, timeout=timeout)
            scripts.append(vs)
        cfg = dataclasses.replace(cfg, vrrp_script=tuple(scripts))
    return cfg


class Events(list):
    def __call__(self, ev):
        self.append(ev)

    def of(self, kind, name):
        return [(e.ok if e.kind != "file" else e.value) for e in self if e.kind == kind and e.name == name]

    async def wait_for(self, pred, timeout=5.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if pred(self):
                return
            await asyncio.sleep(0.02)
        raise AssertionError(f"timed out; events: {list(self)}")
