#!/bin/sh
# build-dante-gssapi.sh — build Dante with GSSAPI for the integration tests.
#
# Debian's dante-server and dante-client are built --without-gssapi, so
# t_gssapi.sh needs its own: Debian's source package of Dante (apt-get source,
# with deb-src enabled for Debian's own archive if it is not), configured with
# MIT Kerberos, built at -O0 (only the server and the client library), and
# installed into $SFY_DANTE_GSSAPI_DIR (default
# /var/lib/socksify-tests/dante-gssapi). A stamp file there makes a second
# run a no-op. Run as root on Debian.
#
#   build-dante-gssapi.sh                 build now (in the foreground)
#   build-dante-gssapi.sh --deps          only install what the build needs
#   build-dante-gssapi.sh --background    start the build niced in the
#                                         background and return at once
#   build-dante-gssapi.sh --wait SECONDS  wait for a background build; exit 0
#                                         if the result is installed, 1 if
#                                         the build failed or is still running
#
# The background build logs to $DIR.log and writes its PID to $DIR.pid; its
# exit status goes to $DIR.rc.
set -eu

DIR=${SFY_DANTE_GSSAPI_DIR:-/var/lib/socksify-tests/dante-gssapi}
STAMP=$DIR/.stamp
LOG=$DIR.log
PIDF=$DIR.pid
RCF=$DIR.rc
# Bump when the way Dante is built changes, so old installs are rebuilt.
RECIPE=1

say() {
	printf 'build-dante-gssapi: %s\n' "$*" >&2
}

built() {
	[ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "recipe $RECIPE" ] &&
		[ -x "$DIR/sbin/sockd" ]
}

# running — a background build is alive.
running() {
	[ -f "$PIDF" ] || return 1
	pid=$(cat "$PIDF")
	[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null
}

# enable_deb_src — add deb-src entries for Debian's archive next to the
# existing deb entries, in a file of our own (nothing else is touched).
enable_deb_src() {
	d=/etc/apt/sources.list.d
	if grep -rqs '^deb-src \|^Types:.*deb-src' /etc/apt/sources.list "$d"; then
		return 0
	fi
	if [ -f "$d/debian.sources" ]; then
		# deb822: the same stanzas, as source entries.
		sed -n '/^Types:/{s/.*/Types: deb-src/;p;d}; /^#/d; p' \
			"$d/debian.sources" >"$d/socksify-tests-src.sources"
	elif [ -f /etc/apt/sources.list ]; then
		sed -n 's/^deb \(.*debian.*\)$/deb-src \1/p' /etc/apt/sources.list \
			>"$d/socksify-tests-src.list"
	else
		say "no Debian apt sources found"
		return 1
	fi
	apt-get update -q
}

install_build_deps() {
	export DEBIAN_FRONTEND=noninteractive
	enable_deb_src
	apt-get build-dep -y -q dante
	apt-get install -y -q --no-install-recommends libkrb5-dev dpkg-dev
}

build() {
	if built; then
		say "already built in $DIR"
		return 0
	fi
	[ "$(id -u)" = 0 ] || {
		say "must run as root"
		return 1
	}
	start=$(date +%s)
	install_build_deps
	src=$(mktemp -d /tmp/sfy-dante-src.XXXXXX)
	trap 'rm -rf "$src"' EXIT
	(cd "$src" && apt-get source -q dante)
	top=$(find "$src" -mindepth 1 -maxdepth 1 -type d -name 'dante-*' | head -n 1)
	[ -n "$top" ] || {
		say "apt-get source gave no dante-* directory"
		return 1
	}
	cd "$top"
	rm -rf "$DIR"
	# As Debian's rules do: regenerate the build system (the patches touch
	# it), configure (here with GSSAPI), copy the parser into the two
	# directories that compile it again.
	autoreconf -fi >autoreconf.out 2>&1 || {
		tail -n 30 autoreconf.out >&2
		return 1
	}
	./configure -q --prefix="$DIR" --with-gssapi --without-upnp \
		--without-pam --without-bsdauth --without-sasl --without-ldap \
		--without-libwrap --disable-dependency-tracking \
		>configure.out 2>&1 || {
		tail -n 30 configure.out >&2
		return 1
	}
	grep -q '^#define HAVE_GSSAPI 1' include/autoconf.h || {
		say "configure found no GSSAPI (libkrb5-dev?)"
		return 1
	}
	cp lib/config_parse.c lib/config_scan.c dlib/
	cp lib/config_parse.c lib/config_scan.c sockd/
	jobs=$(nproc 2>/dev/null || echo 1)
	# Only what the tests use: the server and Dante's own client library
	# (libdsocksd, for comparison) with its socksify script. -O0: configure
	# appends -O2 to CFLAGS, so they are given to make instead.
	for d in include lib sockd dlib; do
		make -s -j"$jobs" -C "$d" CFLAGS="-O0 -w" >>make.out 2>&1 || {
			tail -n 30 make.out >&2
			return 1
		}
	done
	for d in sockd dlib bin; do
		make -s -C "$d" install CFLAGS="-O0 -w" >>make.out 2>&1 || {
			tail -n 30 make.out >&2
			return 1
		}
	done
	"$DIR/sbin/sockd" -vv 2>&1 | grep -qi gssapi || {
		say "$DIR/sbin/sockd -vv does not list gssapi"
		return 1
	}
	echo "recipe $RECIPE" >"$STAMP"
	say "built Dante with GSSAPI in $DIR in $(($(date +%s) - start))s"
}

background() {
	if built; then
		say "already built in $DIR"
		return 0
	fi
	if running; then
		say "a build is already running (PID $(cat "$PIDF"))"
		return 0
	fi
	mkdir -p "$(dirname "$DIR")"
	rm -f "$RCF"
	# setsid: the build outlives the caller's session; the shell records
	# its own PID, and the status file is written even when the build fails.
	rm -f "$PIDF"
	setsid nice -n 10 sh -c \
		'echo $$ >"$4"; "$1" >"$2" 2>&1; echo $? >"$3"; rm -f "$4"' \
		build-dante-gssapi "$0" "$LOG" "$RCF" "$PIDF" </dev/null >/dev/null 2>&1 &
	n=0
	while [ ! -s "$PIDF" ] && [ $n -lt 50 ]; do
		sleep 0.1
		n=$((n + 1))
	done
	say "building in the background (PID $(cat "$PIDF" 2>/dev/null), log $LOG)"
}

wait_build() {
	limit=$1
	n=0
	while ! built && running && [ $n -lt "$limit" ]; do
		sleep 1
		n=$((n + 1))
	done
	if built; then
		return 0
	fi
	if running; then
		say "the background build is still running after ${limit}s (log $LOG)"
	elif [ -f "$RCF" ]; then
		say "the background build failed (status $(cat "$RCF"), log $LOG):"
		tail -n 20 "$LOG" >&2
	else
		say "Dante with GSSAPI is not built (run $0)"
	fi
	return 1
}

case ${1:-} in
--deps)
	# Not "built || ...": set -e would not apply inside.
	if ! built; then
		install_build_deps
	fi
	;;
--background) background ;;
--wait) wait_build "${2:-90}" ;;
"") build ;;
*)
	say "usage: $0 [--background | --wait SECONDS]"
	exit 2
	;;
esac
