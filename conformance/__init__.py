"""Conformance harness: the same scenarios against real keepalived and keepalived-py.

- `conformance.lab`: network-namespace topologies, implementations, VIP observation,
  packet capture, fault injection, guaranteed teardown.
- `conformance.guest`: a qemu guest with a real Debian kernel (IPVS) sharing the host's
  root read-only; `run_in_guest(commands)`.
- `conformance.scenarios`: the scenario registry; `conformance.report`: run and compare.

`python -m conformance` runs every scenario; see docs/conformance.md.
"""
