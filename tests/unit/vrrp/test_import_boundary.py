"""The VRRP core is sans-IO: importing it must pull in nothing that does I/O or reads time.

Checked twice: statically (every import statement in the core modules is on an allow
list) and dynamically (a fresh interpreter that imports the core has none of the I/O
modules loaded).
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

CORE = ("packet", "ah", "checks", "machine", "timers", "tracking", "sync_group", "stats", "events",
        "actions", "params")
PKG = Path(__file__).resolve().parents[3] / "keepalived_py" / "vrrp"
ALLOWED = {"__future__", "dataclasses", "enum", "ipaddress", "struct", "typing", "hmac", "hashlib",
           "keepalived_py.errors"} | {f"keepalived_py.vrrp.{m}" for m in CORE} | {"keepalived_py.vrrp"}
FORBIDDEN = ("socket", "asyncio", "subprocess", "selectors", "select", "threading", "logging",
             "pyroute2", "uvloop", "psutil", "time", "os", "signal", "multiprocessing")


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            names.add(node.module or "")
    return names


def test_core_modules_import_only_pure_modules():
    for mod in CORE:
        extra = _imports(PKG / f"{mod}.py") - ALLOWED
        assert not extra, f"keepalived_py/vrrp/{mod}.py imports {sorted(extra)}"
    assert not (_imports(PKG / "__init__.py") - ALLOWED)


def test_importing_the_core_loads_no_io_module():
    code = (
        "import sys, json\n"
        "before = set(sys.modules)\n"
        + "".join(f"import keepalived_py.vrrp.{m}\n" for m in CORE)
        + "print(json.dumps(sorted(set(sys.modules) - before)))\n"
    )
    out = subprocess.run([sys.executable, "-I", "-c", code], capture_output=True, text=True,
                         cwd=PKG.parents[1], check=True)
    loaded = set(json.loads(out.stdout))
    bad = sorted(m for m in loaded if m.split(".")[0] in FORBIDDEN or m.startswith("_asyncio"))
    assert not bad, f"importing the VRRP core loaded {bad}"
