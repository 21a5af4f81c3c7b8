"""The vrrp child: sockets, the runtime that drives the pure VRRP core (keepalived_py.vrrp),
the mapping from config to instance plans (plan.py), and the role entry (daemon.py)."""
