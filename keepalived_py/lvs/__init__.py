"""IPVS for the check child. Pure: the table as values (table), keepalived's plan from the
config (plan), the reconciling diff (diff) and the IPVS netlink codec (netlink). I/O: the
port and its netlink adapter (kernel), and the glue that dumps, diffs and applies (reconcile)."""
