#!/bin/sh
# Install everything the build and every test need on Debian 12 (run as root),
# and build the GSSAPI-enabled Dante that t_gssapi.sh tests against (see
# tests/build-dante-gssapi.sh; with SFY_DANTE_GSSAPI_BACKGROUND=1 that build
# runs in the background and the test waits for it).
set -eu
# Non-interactive: krb5-config (pulled in by the Kerberos packages) takes its
# defaults instead of asking for a realm; the tests bring their own krb5.conf.
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends \
	build-essential clang clang-format pkg-config check valgrind \
	dante-server microsocks \
	curl wget netcat-openbsd python3 nodejs dnsutils socat iproute2 procps \
	passwd util-linux ca-certificates python3-pyftpdlib \
	golang-go golang-golang-x-net-dev liburing-dev tinyproxy \
	mandoc zsh debhelper dpkg-dev lintian libclang-rt-14-dev \
	krb5-kdc krb5-admin-server krb5-user libgssapi-krb5-2 libkrb5-dev

dante_gssapi=$(dirname "$0")/build-dante-gssapi.sh
"$dante_gssapi" --deps
if [ "${SFY_DANTE_GSSAPI_BACKGROUND:-0}" = 1 ]; then
	"$dante_gssapi" --background
else
	"$dante_gssapi"
fi
