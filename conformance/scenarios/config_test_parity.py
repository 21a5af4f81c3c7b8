"""`-t` on every example, parity case and Debian sample: the exit status per file."""

from __future__ import annotations

from conformance import config_parity
from conformance.lab import Implementation, Lab
from conformance.scenarios import Context, scenario


def _summary(result: dict) -> str:
    statuses = result.get("exit", {})
    bad = sum(1 for s in statuses.values() if s != 0)
    return f"{len(statuses)} configs, {bad} non-zero"


@scenario("config_test_parity", features=("config",), needs=("netns",), summary=_summary)
def run(impl: Implementation, ctx: Context) -> dict:
    """keepalived -t exit status for every config in examples/, conformance/configs/, samples."""
    cases = config_parity.collect()
    with Lab(config_parity.TOPOLOGY, workdir=ctx.workdir / "lab") as lab:
        config_parity.prepare(lab)
        outcomes = config_parity.run_all(lab, impl, cases)
    return {
        "exit": {name: o.status for name, o in outcomes.items()},
        "_diagnostics": {name: list(o.diagnostics) for name, o in outcomes.items()},
    }
