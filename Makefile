# keepalived-py: `make install` sets everything up (idempotent), `make test` runs the suite.
PY      ?= python3
VENV    := .venv
VPY     := $(VENV)/bin/python
STAMP   := $(VENV)/.installed
APT_STAMP := $(VENV)/.apt-installed
# Debian packages the tests need: the reference keepalived, ipvsadm, packet capture,
# and the qemu guest (kernel with IPVS) for the LVS tests.
APT_PKGS := keepalived ipvsadm tcpdump iproute2 kmod qemu-system-x86 linux-image-amd64 busybox-static nftables frr haproxy

.PHONY: install test unit integration lint conformance bench clean apt demo

install: $(STAMP) $(APT_STAMP)

$(STAMP): pyproject.toml
	test -x $(VPY) || $(PY) -m venv $(VENV)
	$(VPY) -m pip install -q --upgrade pip
	$(VPY) -m pip install -q -e '.[test]'
	touch $@

# apt is only run when a package is missing, so a second `make install` is quick.
$(APT_STAMP): Makefile
	@missing=""; for p in $(APT_PKGS); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	  else echo "not root: cannot install Debian packages:$$missing (tests needing them will skip)"; fi; \
	fi
	@mkdir -p $(VENV) && touch $@

apt:
	rm -f $(APT_STAMP); $(MAKE) $(APT_STAMP)

# Tests run in parallel with pytest-xdist, one file per worker (--dist loadfile: a file's
# module fixtures, such as one real-keepalived run shared by its tests, run once). Every
# integration test makes its own namespaces, links and directories under unique names, so
# files do not collide. Most integration time is spent waiting on protocol timers, not CPU:
# JOBS=2 suits a 2-core machine; `make test JOBS=0` runs everything in one process.
JOBS ?= 2
PYTEST = $(VPY) -m pytest -q $(if $(filter-out 0,$(JOBS)),-n $(JOBS) --dist loadfile)
# $(call pytest_in,PATHS,OPTIONS): pytest exits 5 when it collected nothing; say so
# rather than fail without a word.
define pytest_in
	@echo "$(PYTEST) $(2) $(1)"; $(PYTEST) $(2) $(1); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make: pytest collected no tests from $(or $(strip $(1)),testpaths) - failing" >&2; fi; \
	exit $$rc
endef

# everything: lint, then tests/unit, tests/property and tests/integration in one run
test: install
	$(VENV)/bin/ruff check .
	$(call pytest_in,,--durations=15)

# no root, no network, no sleeps: under a minute
unit: install
	$(call pytest_in,tests/unit tests/property)

# root, network namespaces, real keepalived, the qemu guest (skips without them, fails in CI)
integration: install
	$(call pytest_in,tests/integration,--durations=15)

lint: install
	$(VENV)/bin/ruff check .

conformance: install
	$(VPY) -m conformance

# as root, ~15-17 min: every case beside keepalived 2.2.7 (and HAProxy, the qemu guest), one
# judged table in bench-results/bench-*.md; `make bench BENCH_ARGS="--only failover,bfd"`
bench: install
	$(VPY) -m conformance.bench $(BENCH_ARGS)

# as root: a narrated netns lab (two keepalived-py routers sharing a VIP and balancing HTTP
# over three web servers; the MASTER killed, a web server stopped and back), torn down at
# the end or on Ctrl-C. `make demo DEMO_ARGS=--keep-logs` keeps the daemons' logs.
demo: install
	$(VPY) -m keepalived_py.demo $(DEMO_ARGS)

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
