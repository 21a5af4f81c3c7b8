"""Import pyroute2's modules without running its package `__init__` first.

`pyroute2/__init__.py` imports every part of the library (IPDB, NDB, conntrack, ethtool,
nl80211, WireGuard, plan9 ...) to export their names: about 160 modules, ~0.2 s of CPU. The
vrrp child needs only the rtnetlink socket (`pyroute2.iproute.linux`) and the netlink message
classes, and it imports them between its fork and its first state, so that whole
`__init__` was on the path to "Entering BACKUP STATE".

`lean()` registers the package as `pyroute2` with its `__init__` not yet run: `import
pyroute2.iproute.linux` then loads that module and what it imports, nothing else. The
package is complete as soon as someone asks it for a name that is not a submodule (`from
pyroute2 import IPRoute`, `pyroute2.IPVS`): its `__init__` runs then, once, in the same
module object, so such code sees the library as if it had been imported whole.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from types import ModuleType
from typing import Any

PACKAGE = "pyroute2"


def lean() -> None:
    """Put the not-yet-initialised package in sys.modules (nothing when pyroute2 is already
    imported, or cannot be found: the caller's import then behaves as it always did)."""
    if PACKAGE in sys.modules:
        return
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or spec.loader is None or spec.submodule_search_locations is None:
        return
    module = importlib.util.module_from_spec(spec)
    module.__getattr__ = _completer(module, spec)  # type: ignore[attr-defined]
    sys.modules[PACKAGE] = module


def _completer(module: ModuleType, spec: Any) -> Any:
    done = False

    def __getattr__(name: str) -> Any:  # noqa: N807 - PEP 562's module __getattr__
        nonlocal done
        # `from pyroute2 import netns` inside pyroute2: a submodule, imported as such
        if not name.startswith("__") and importlib.util.find_spec(f"{PACKAGE}.{name}") is not None:
            return importlib.import_module(f"{PACKAGE}.{name}")
        if not done:
            done = True
            spec.loader.exec_module(module)  # the real __init__, in this module object
            if name in module.__dict__:
                return module.__dict__[name]
        raise AttributeError(f"module {PACKAGE!r} has no attribute {name!r}")

    return __getattr__


def complete() -> bool:
    """True when pyroute2's `__init__` has run (the whole library is loaded)."""
    module = sys.modules.get(PACKAGE)
    return module is not None and "IPRoute" in module.__dict__
