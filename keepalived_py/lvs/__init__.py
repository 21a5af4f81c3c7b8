"""IPVS for the check child: the table as values (table), keepalived's plan from the config
(plan) and the reconciling diff (diff) are pure; kernel is the port and its pyroute2 adapter,
reconcile the glue that dumps, diffs and applies."""
