#!/bin/sh
# check-deb.sh — build the Debian package (make deb: lintian must pass) and
# install it with dpkg into a throw-away root: an overlay of / in private
# mount and network namespaces, so the machine itself is not changed (and
# port 1080 is ours). There, with no configuration file, the installed
# /usr/bin/socksify must fetch a page by a name only the proxy resolves
# through microsocks on 127.0.0.1:1080 (the default proxy), and fail
# (closed) once microsocks is gone; shell mode must work, `man socksify`
# render, the man pages, completions and example be in place; dpkg -r must
# remove it all.
# Needs root, debhelper, dpkg-dev, lintian, microsocks, curl, python3.
# Not part of "make check" (about a minute): run "make check-deb".
set -eu
top=$(cd "$(dirname "$0")/.." && pwd -P)
[ "$(id -u)" = 0 ] || { echo "check-deb: must run as root" >&2; exit 1; }
for tool in dpkg-buildpackage lintian microsocks curl python3 unshare ip; do
	command -v "$tool" >/dev/null 2>&1 ||
		{ echo "check-deb: $tool is missing (tests/install-deps.sh)" >&2; exit 1; }
done
make -s -C "$top" deb
deb=$(ls "$top"/build/deb/socksify_*_*.deb)
tmp=$(mktemp -d)
mkdir "$tmp/ov"
trap 'rm -rf "$tmp"' EXIT

# The test, run inside the throw-away root.
cat >"$tmp/inside.sh" <<'INSIDE'
set -eu
fail() { echo "check-deb: FAIL: $*" >&2; exit 1; }
pids=
trap 'for p in $pids; do kill "$p" 2>/dev/null || :; done' EXIT
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
wait_port() {
	n=0
	until python3 -c 'import socket,sys; socket.create_connection(("127.0.0.1",int(sys.argv[1])),1)' "$1" 2>/dev/null; do
		n=$((n + 1)); [ $n -lt 50 ] || fail "port $1 never opened"; sleep 0.1
	done
}
dpkg -i "$1" >/tmp/dpkg.log 2>&1 || fail "dpkg -i: $(cat /tmp/dpkg.log)"
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || echo x86_64-linux-gnu)
for f in /usr/bin/socksify /usr/lib/$multiarch/socksify/libsocksify.so \
	/usr/lib/$multiarch/socksify/socksify-helper \
	/usr/share/man/man1/socksify.1.gz /usr/share/man/man5/socksify.conf.5.gz \
	/usr/share/doc/socksify/examples/socksify.conf.example \
	/usr/share/bash-completion/completions/socksify \
	/usr/share/zsh/vendor-completions/_socksify; do
	[ -e "$f" ] || fail "the package has no $f"
done
mkdir -p /tmp/www
echo "deb-token-$$" >/tmp/www/index.html
http=$(free_port)
python3 -m http.server -b 127.0.0.1 -d /tmp/www "$http" >/tmp/http.log 2>&1 &
pids="$pids $!"
ms=1080
# microsocks alone sees the test name: its own /etc/hosts, bound in a
# mount namespace of its own (socksify reads /etc/hosts before faking).
{ cat /etc/hosts; echo "127.0.0.1 deb.socksify.test"; } >/tmp/ms-hosts
unshare -m sh -c 'mount --bind /tmp/ms-hosts /etc/hosts && exec microsocks -i 127.0.0.1 -p "$1"' \
	ms "$ms" >/tmp/ms.log 2>&1 &
ms_pid=$!
pids="$pids $ms_pid"
wait_port "$http"
wait_port "$ms"
# No configuration: the default proxy, socks5h://127.0.0.1:1080, resolves
# the name; the client cannot.
rm -f /etc/socksify.conf /root/.config/socksify/socksify.conf
url=http://deb.socksify.test:$http/
out=$(socksify -v curl -sS --max-time 10 "$url" 2>/tmp/err) ||
	fail "installed socksify curl: $(cat /tmp/err)"
[ "$out" = "deb-token-$$" ] || fail "unexpected page: $out"
grep -q "via socks5h://127.0.0.1:1080" /tmp/err || fail "no 'via' log line: $(cat /tmp/err)"
socksify --version | grep -q socksify || fail "--version"
out=$(sh -c 'eval "$(socksify --shell on)" && curl -sS --max-time 10 "$1" &&
	socksify show' sh "$url") || fail "shell mode: $out"
case $out in "deb-token-$$"*"on in this shell"*) ;; *) fail "shell mode: $out" ;; esac
if command -v man >/dev/null 2>&1; then
	man -P cat socksify 2>/dev/null | grep -q 'shell on' || fail "man socksify"
	man -P cat socksify.conf 2>/dev/null | grep -q 'bind_peer' || fail "man socksify.conf"
fi
kill "$ms_pid"; wait "$ms_pid" 2>/dev/null || :
if socksify -q curl -sS --max-time 10 "$url" >/dev/null 2>&1; then
	fail "fetched with the proxy gone: not closed"
fi
dpkg -r socksify >/tmp/dpkg.log 2>&1 || fail "dpkg -r: $(cat /tmp/dpkg.log)"
[ ! -e /usr/bin/socksify ] && [ ! -e "/usr/lib/$multiarch/socksify" ] ||
	fail "dpkg -r left files behind"
echo "check-deb: installed package works"
INSIDE

unshare -m -n sh -c '
	tmp=$1 deb=$2
	ip link set lo up
	mount -t tmpfs tmpfs "$tmp/ov"
	mkdir "$tmp/ov/upper" "$tmp/ov/work" "$tmp/ov/root"
	mount -t overlay overlay \
		-o "lowerdir=/,upperdir=$tmp/ov/upper,workdir=$tmp/ov/work" "$tmp/ov/root"
	mount --rbind /proc "$tmp/ov/root/proc"
	mount --rbind /dev "$tmp/ov/root/dev"
	mount --rbind /sys "$tmp/ov/root/sys"
	mount -t tmpfs tmpfs "$tmp/ov/root/tmp"
	cp "$deb" "$tmp/inside.sh" "$tmp/ov/root/tmp/"
	exec chroot "$tmp/ov/root" sh /tmp/inside.sh "/tmp/${deb##*/}"
' check-deb "$tmp" "$deb" || { echo "check-deb: FAILED" >&2; exit 1; }
