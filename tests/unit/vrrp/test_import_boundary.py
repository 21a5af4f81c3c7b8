"""The VRRP core is sans-IO: importing it must pull in nothing that does I/O or reads time.

Every module in keepalived_py/vrrp/ is core (the vrrp child's I/O lives in vrrpd/), so the
folder is walked: a new module there is checked without editing this test. Checked twice:
statically (every import statement is on an allow list) and dynamically (a fresh
interpreter that imports the core has none of the I/O modules loaded).
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

PKG = Path(__file__).resolve().parents[3] / "keepalived_py" / "vrrp"
CORE = sorted(p.stem for p in PKG.glob("*.py") if p.stem != "__init__")
# Pure modules outside the folder that the core may use (they are checked here too).
PURE_OUTSIDE = {"keepalived_py.errors": PKG.parent / "errors.py",
                "keepalived_py.track.events": PKG.parent / "track" / "events.py"}
ALLOWED = ({"__future__", "dataclasses", "enum", "ipaddress", "struct", "typing", "hmac", "hashlib",
            "keepalived_py.vrrp"} | set(PURE_OUTSIDE) | {f"keepalived_py.vrrp.{m}" for m in CORE})
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


def test_the_folder_is_walked():
    assert {"packet", "machine", "sync_group", "checks"} <= set(CORE)
    assert "runtime" not in CORE and "sockets" not in CORE


def test_core_modules_import_only_pure_modules():
    paths = [PKG / f"{m}.py" for m in CORE] + [PKG / "__init__.py", *PURE_OUTSIDE.values()]
    for path in paths:
        extra = _imports(path) - ALLOWED
        assert not extra, f"{path.relative_to(PKG.parents[1])} imports {sorted(extra)}"


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
