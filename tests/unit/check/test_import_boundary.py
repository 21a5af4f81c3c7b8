"""The pure parts of the check child import nothing that does I/O or reads time."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

PKG = Path(__file__).resolve().parents[3] / "keepalived_py" / "check"
PURE = ["result", "hysteresis", "quorum", "spec", "reload"]
ALLOWED = {"__future__", "dataclasses", "enum", "typing", "collections.abc",
           "keepalived_py.check"} | {f"keepalived_py.check.{m}" for m in PURE}
FORBIDDEN = ("socket", "asyncio", "subprocess", "selectors", "select", "threading", "logging",
             "pyroute2", "uvloop", "time", "os", "signal", "aiohttp", "aiosmtplib", "dns", "random")


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            names.add(node.module or "")
    return names


def test_pure_modules_import_only_pure_modules():
    for name in PURE:
        extra = _imports(PKG / f"{name}.py") - ALLOWED
        assert not extra, f"check/{name}.py imports {sorted(extra)}"


def test_importing_the_pure_parts_loads_no_io_module():
    code = ("import sys, json\n"
            + "".join(f"import keepalived_py.check.{m}\n" for m in PURE)
            + f"print(json.dumps(sorted(m for m in {list(FORBIDDEN)!r} if m in sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=PKG.parents[1])
    # the interpreter itself loads a few (os, time?) at start-up; the I/O libraries must stay out
    loaded = set(json.loads(out.stdout)) - {"os", "time", "signal", "enum"}
    assert not loaded, loaded
