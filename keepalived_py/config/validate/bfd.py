"""Checks of bfd_instance blocks, as keepalived's bfd parser makes them: the name on the block's
first line (bfd_handler), the rest at the block's closing '}' (bfd_end_handler)."""

from __future__ import annotations

from keepalived_py.config.diagnostics import ConfigErr
from keepalived_py.config.model.bfd import BFD_INAME_MAX

GE = ConfigErr.GENERAL_ERROR


def validate(config, env) -> None:
    diags = env.diagnostics
    names: set[str] = set()
    pairs: set[tuple[object, object]] = set()
    for bfd in config.bfd_instance:
        name = bfd.name
        if len(name) > BFD_INAME_MAX:
            diags.add(GE, f"Configuration error: BFD instance {name} name too long (maximum length is "
                      f"{BFD_INAME_MAX} characters) - ignoring", bfd.pos)
            continue
        if name in names:
            diags.add(GE, f"Configuration error: BFD instance {name} already configured - ignoring", bfd.pos)
            continue
        names.add(name)
        end = bfd.end_pos
        if bfd.neighbor_ip is None:
            diags.add(GE, f"Configuration error: BFD instance {name} has no neighbor address set, disabling "
                      "instance", end)
            continue
        if bfd.source_ip is not None and bfd.source_ip.version != bfd.neighbor_ip.version:
            diags.add(GE, f"Configuration error: BFD instance {name} source address {bfd.source_ip} and neighbor "
                      f"address {bfd.neighbor_ip} are not of the same family, disabling instance", end)
            continue
        # keepalived finds a duplicate when the neighbours match and either source is unset or both match
        dup = any(n == bfd.neighbor_ip and (s is None or bfd.source_ip is None or s == bfd.source_ip)
                  for n, s in pairs)
        if dup:
            if bfd.source_ip is not None:
                diags.add(GE, f"Configuration error: BFD instance {name} has duplicate source/neighbor address "
                          f"{bfd.source_ip}/{bfd.neighbor_ip}, ignoring instance", end)
            else:
                diags.add(GE, f"Configuration error: BFD instance {name} has duplicate neighbor address "
                          f"{bfd.neighbor_ip}, ignoring instance", end)
            continue
        pairs.add((bfd.neighbor_ip, bfd.source_ip))
        if bfd.max_hops & 0xFF > bfd.effective_ttl:  # keepalived keeps max_hops in a uint8_t: -1 is 255
            diags.add(GE, f"BFD instance {name}: max_hops exceeds ttl/hoplimit - setting to ttl/hoplimit", end)
