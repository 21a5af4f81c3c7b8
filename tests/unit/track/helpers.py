"""Plumbing for the tracker tests: configs (with sub-second intervals for the tests with
real scripts), event collection."""

from __future__ import annotations

import dataclasses

from conformance.lab.poll import wait_until_async
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
        """For real scripts, files and processes: until pred(events) holds."""
        await wait_until_async(lambda: pred(self), timeout, what=lambda: f"events {list(self)}")
