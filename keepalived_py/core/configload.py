"""The daemon's view of the configuration: load it with the command-line options, and read
the few global settings the core needs (namespace, instance, pid dir, child wait time).

The config package is imported lazily so the CLI's --help/--version/--signum never pay for
the parser, and so the core can be tested before the config package is complete.
"""

from __future__ import annotations

import socket
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from keepalived_py.config.model.root import KeepalivedConfig

ROLES = ("vrrp", "check", "bfd")


def default_config_id() -> str:
    """keepalived: the host name up to the first dot."""
    return socket.gethostname().split(".", 1)[0]


def load(opts: Any, path: str | None = None, *, check_interfaces: bool = True) -> Any:
    """load_config() with -f/-i/-e applied; returns the LoadResult."""
    from keepalived_py.config import load_config

    return load_config(
        path or opts.conf_file,
        config_id=opts.config_id or default_config_id(),
        include_missing_fatal=bool(opts.include_check),
        check_interfaces=check_interfaces,
    )


def global_setting(config: KeepalivedConfig | None, name: str, default: Any = None) -> Any:
    """A global keyword, wherever the model keeps it (top level or in global_defs)."""
    if config is None:
        return default
    value = getattr(config, name, None)
    if value is None:
        value = getattr(getattr(config, "global_defs", None), name, None)
    return default if value is None else value


def instance_name(config: KeepalivedConfig) -> str | None:
    return global_setting(config, "instance") or global_setting(config, "instance_name")


def network_namespace(config: KeepalivedConfig, opts: Any = None) -> str | None:
    """-s overrides the config's net_namespace."""
    if opts is not None and getattr(opts, "namespace", None):
        return opts.namespace
    return global_setting(config, "net_namespace")


def child_wait_time(config: KeepalivedConfig) -> float:
    return float(global_setting(config, "child_wait_time", 5))


def roles_to_run(config: KeepalivedConfig, opts: Any) -> list[str]:
    """keepalived's running_vrrp()/running_checker()/running_bfd(): the role is enabled on
    the command line (-P/-C/-B) and the config has work for it, or --all."""
    enabled = {"vrrp": opts.run_vrrp, "check": opts.run_check, "bfd": opts.run_bfd}
    wanted = []
    for role in ROLES:
        if not enabled[role]:
            continue
        has_work = bool(getattr(config, f"needs_{role}", lambda: False)())
        if has_work or opts.run_all:
            wanted.append(role)
    return wanted


# Diagnostic classes that make a new configuration unfit to replace a running one:
# keepalived's config_err_t from FILE_NOT_FOUND (1) up to GENERAL_ERROR (13). Warnings,
# deprecations and script-security notes do not block a reload.
_REJECT_RANGE = range(1, 14)


def blocking_diagnostics(result: Any) -> list[Any]:
    """The diagnostics that make a reload refuse the new file."""
    return [d for d in result.diagnostics if int(getattr(d, "code", 0)) in _REJECT_RANGE]
