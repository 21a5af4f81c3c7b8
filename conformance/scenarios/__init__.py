"""The scenario registry.

A scenario is a function that drives one implementation (or, for guest scenarios, all of
them in one boot) and returns a dict of *observable facts*: who became master, whether a
takeover happened, what the IPVS table looks like.  Facts must be comparable between
implementations: no raw timings, pids or MAC addresses at the top level.  Keys that start
with "_" are informational (timings, logs): shown with -v, never compared.

    @scenario("vrrp_two_router_failover", features=("vrrp",), needs=("netns",))
    def run(impl: Implementation, ctx: Context) -> dict: ...

    @scenario("ipvs_virtual_server_table", features=("ipvs",), needs=("guest",), batch=True)
    def run(impls: list[Implementation], ctx: Context) -> dict[str, dict]: ...

`features` names what the scenario needs from an implementation; unsupported.toml says
which of them keepalived-py does not provide yet, and such runs are reported as
"n/a (not implemented yet: ...)".  A later issue adds its scenarios as new modules here
(they are found automatically) and removes the features it implements from
unsupported.toml.
"""

from __future__ import annotations

import importlib
import pkgutil
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
UNSUPPORTED_FILE = HERE / "unsupported.toml"


@dataclass
class Context:
    """What the runner hands a scenario besides the implementation."""

    workdir: Path
    verbose: bool = False
    log: Callable[[str], None] = field(default=lambda msg: None)


@dataclass(frozen=True)
class Scenario:
    name: str
    func: Callable
    features: tuple[str, ...]
    needs: tuple[str, ...]
    batch: bool = False
    check: Callable[[dict], list[str]] | None = None
    summary: Callable[[dict], str] | None = None
    doc: str = ""
    module: str = ""

    def problems(self, result: dict) -> list[str]:
        return list(self.check(result)) if self.check else []

    def describe(self, result: dict) -> str:
        if self.summary:
            return self.summary(result)
        items = [f"{k}={v}" for k, v in result.items() if not k.startswith("_")]
        return ", ".join(items)[:60]


SCENARIOS: dict[str, Scenario] = {}


def scenario(name: str, *, features: tuple[str, ...], needs: tuple[str, ...] = ("netns",),
             batch: bool = False, check=None, summary=None):
    """Register a scenario (see the module docstring)."""
    def deco(func):
        if name in SCENARIOS and SCENARIOS[name].func is not func:
            raise ValueError(f"scenario {name!r} registered twice")
        doc = (func.__doc__ or "").strip().splitlines()
        SCENARIOS[name] = Scenario(name, func, tuple(features), tuple(needs), batch, check,
                                   summary, doc[0] if doc else "", func.__module__)
        return func
    return deco


def load_all() -> dict[str, Scenario]:
    for mod in pkgutil.iter_modules([str(HERE)]):
        if not mod.name.startswith("_"):
            importlib.import_module(f"{__name__}.{mod.name}")
    return dict(sorted(SCENARIOS.items()))


def unsupported_features(impl_name: str, path: Path = UNSUPPORTED_FILE) -> dict[str, str]:
    """feature -> reason, for features `impl_name` does not provide yet."""
    data = tomllib.loads(path.read_text())
    return {k: str(v) for k, v in data.get(impl_name, {}).items()}


def not_supported(sc: Scenario, impl_name: str, path: Path = UNSUPPORTED_FILE) -> str | None:
    """Why `impl_name` cannot run `sc` yet (from the registry), or None."""
    missing = unsupported_features(impl_name, path)
    reasons = [f"{f}: {missing[f]}" for f in sc.features if f in missing]
    return "; ".join(reasons) or None
