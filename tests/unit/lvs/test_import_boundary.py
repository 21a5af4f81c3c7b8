"""The IPVS plan and diff are sans-IO: their modules import no I/O, no clock, no pyroute2.

kernel.py (the netlink adapter) and reconcile.py (async glue over the port) are the only
modules of keepalived_py/lvs/ allowed to; a new module there must be listed as pure or I/O.
"""

from __future__ import annotations

import ast
from pathlib import Path

PKG = Path(__file__).resolve().parents[3] / "keepalived_py" / "lvs"
PURE = {"table", "plan", "diff", "netlink"}
IO = {"kernel", "reconcile"}
FORBIDDEN = ("socket", "asyncio", "subprocess", "selectors", "select", "threading", "logging",
             "pyroute2", "uvloop", "time", "os", "signal")


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            names.add(node.module or "")
    return names


def test_every_module_is_classified():
    found = {p.stem for p in PKG.glob("*.py")} - {"__init__"}
    assert found == PURE | IO, f"classify {sorted(found ^ (PURE | IO))} as pure or I/O in this test"


def test_pure_modules_import_no_io():
    for name in PURE:
        imported = _imports(PKG / f"{name}.py")
        bad = sorted(m for m in imported if m.split(".")[0] in FORBIDDEN
                     or (m.startswith("keepalived_py.") and not m.startswith(("keepalived_py.lvs.",
                                                                               "keepalived_py.config.model."))))
        assert not bad, f"lvs/{name}.py imports {bad}"
        assert not {f"keepalived_py.lvs.{m}" for m in IO} & imported, f"lvs/{name}.py imports an I/O module"
