"""`make demo` (`python -m keepalived_py.demo`): a narrated lab of two keepalived-py routers
sharing a virtual IP and balancing HTTP over three web servers, in network namespaces.

It lives in the package, not in conformance/, so that `pip install keepalived-py` followed
by `python -m keepalived_py.demo` (as root) works without a checkout: it needs only iproute2
and the package itself (the web servers and the client are modules here too).
"""
