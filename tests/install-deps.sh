#!/bin/sh
# Install everything the build and every test need on Debian 12 (run as root).
set -eu
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends \
	build-essential clang clang-format pkg-config check valgrind \
	dante-server microsocks \
	curl wget netcat-openbsd python3 nodejs dnsutils socat iproute2 procps \
	passwd util-linux ca-certificates python3-pyftpdlib \
	golang-go golang-golang-x-net-dev liburing-dev tinyproxy \
	mandoc zsh debhelper dpkg-dev lintian
