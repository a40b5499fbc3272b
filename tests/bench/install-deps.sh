#!/bin/sh
# install-deps.sh — the peers `make bench` compares socksify with (Debian 12,
# as root). All optional: `make bench` skips any that is missing. The servers
# and compilers come from tests/install-deps.sh.
set -eu
apt-get update
apt-get install -y --no-install-recommends proxychains4 torsocks dante-client
