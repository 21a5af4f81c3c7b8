# keepalived-py: `make install` sets everything up (idempotent), `make test` runs the suite.
PY      ?= python3
VENV    := .venv
VPY     := $(VENV)/bin/python
STAMP   := $(VENV)/.installed
APT_STAMP := $(VENV)/.apt-installed
# Debian packages the tests need: the reference keepalived, ipvsadm, packet capture,
# and the qemu guest (kernel with IPVS) for the LVS tests.
APT_PKGS := keepalived ipvsadm tcpdump iproute2 kmod qemu-system-x86 linux-image-amd64 busybox-static nftables

.PHONY: install test unit lint conformance bench clean apt

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

test: install
	$(VENV)/bin/ruff check .
	$(VPY) -m pytest -q

unit: install
	$(VPY) -m pytest -q tests/unit tests/property

lint: install
	$(VENV)/bin/ruff check .

conformance: install
	$(VPY) -m conformance

bench: install
	$(VPY) -m conformance.bench

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
