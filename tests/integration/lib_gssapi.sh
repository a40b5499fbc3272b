# lib_gssapi.sh — a throw-away MIT Kerberos realm and a GSSAPI-enabled Dante
# for the GSSAPI tests (sourced after lib.sh and sfy_init).
#
# start_kdc makes a realm in the test's temp dir: its own krb5.conf and
# kdc.conf (KRB5_CONFIG, KRB5_KDC_PROFILE), a database with a random master
# password, and krb5kdc on a free loopback port, in the foreground (-n) and
# killed by its recorded PID. Principals: rcmd/HOST for the proxy (in a
# keytab danted reads), alice (allowed by danted's rules) and mallory
# (refused by them), each with a keytab of their own so kinit needs no
# password. krb_login USER gives a ticket in a temp KRB5CCNAME.
#
# Dante: Debian's danted has no GSSAPI, so the tests use the one that
# tests/build-dante-gssapi.sh builds (DANTE_GSSAPI_DIR). Its build may still
# be running in the background (CI): need_dante_gssapi waits for it, and a
# failed or missing build fails the test.

KRB_REALM=SOCKSIFY.TEST
# The proxy's host as written in the proxy URL; its service principal is
# rcmd/$KRB_HOST (Dante's default service name is rcmd).
KRB_HOST=${KRB_HOST:-127.0.0.1}
DANTE_GSSAPI_DIR=${SFY_DANTE_GSSAPI_DIR:-/var/lib/socksify-tests/dante-gssapi}
DANTE_GSSAPI_BUILD=$SFY_TOP/tests/build-dante-gssapi.sh

# need_dante_gssapi [SECONDS] — the GSSAPI-enabled Dante must be there;
# wait up to SECONDS (default 90) for a build still running. Skips only off
# Debian (where the build cannot apply); anything else missing is a failure.
need_dante_gssapi() {
	[ -f /etc/debian_version ] || skip "not Debian: no Debian source of Dante to build"
	"$DANTE_GSSAPI_BUILD" --wait "${1:-90}" ||
		fail "no GSSAPI-enabled Dante in $DANTE_GSSAPI_DIR (tests/build-dante-gssapi.sh failed or never ran)"
	DANTE_SOCKD=$DANTE_GSSAPI_DIR/sbin/sockd
	DANTE_LIBDSOCKS=$DANTE_GSSAPI_DIR/lib/libdsocksd.so.0
	[ -x "$DANTE_SOCKD" ] || fail "no $DANTE_SOCKD"
}

# start_kdc — the realm and its KDC. Sets KRB_DIR, KRB_PORT, KRB5_CONFIG,
# KRB5_KDC_PROFILE (exported), KRB_KEYTAB (the proxy's keytab).
start_kdc() {
	need kdb5_util kadmin.local krb5kdc kinit klist kdestroy
	KRB_DIR=$SFY_TMP/krb
	mkdir -p "$KRB_DIR/db"
	chmod 755 "$KRB_DIR"
	chmod 700 "$KRB_DIR/db"
	KRB_PORT=$(free_port)
	KRB5_CONFIG=$KRB_DIR/krb5.conf
	KRB5_KDC_PROFILE=$KRB_DIR/kdc.conf
	export KRB5_CONFIG KRB5_KDC_PROFILE
	# The client library, the KDC and danted (whose children run as
	# nobody) all read this one, so it must be readable by everyone. No DNS:
	# the principal's host is the URL's, uncanonicalised; the acceptor
	# takes any rcmd/* key in its keytab.
	cat >"$KRB5_CONFIG" <<EOF
[libdefaults]
	default_realm = $KRB_REALM
	dns_lookup_kdc = false
	dns_lookup_realm = false
	dns_canonicalize_hostname = false
	rdns = false
	ignore_acceptor_hostname = true
	udp_preference_limit = 1
[realms]
	$KRB_REALM = {
		kdc = 127.0.0.1:$KRB_PORT
	}
[domain_realm]
	$KRB_HOST = $KRB_REALM
	localhost = $KRB_REALM
EOF
	chmod 644 "$KRB5_CONFIG"
	cat >"$KRB5_KDC_PROFILE" <<EOF
[kdcdefaults]
	kdc_listen = 127.0.0.1:$KRB_PORT
	kdc_tcp_listen = 127.0.0.1:$KRB_PORT
[realms]
	$KRB_REALM = {
		database_name = $KRB_DIR/db/principal
		key_stash_file = $KRB_DIR/db/stash
		acl_file = $KRB_DIR/db/kadm5.acl
		kdc_listen = 127.0.0.1:$KRB_PORT
		kdc_tcp_listen = 127.0.0.1:$KRB_PORT
		max_life = 1h
	}
[logging]
	kdc = FILE:$SFY_TMP/kdc.log
	default = FILE:$SFY_TMP/kdc.log
EOF
	: >"$KRB_DIR/db/kadm5.acl"
	master=$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')
	kdb5_util create -s -r "$KRB_REALM" -P "$master" \
		>"$SFY_TMP/kdb5_util.out" 2>&1 ||
		fail "kdb5_util create: $(cat "$SFY_TMP/kdb5_util.out")"
	krb5kdc -n -r "$KRB_REALM" >"$SFY_TMP/krb5kdc.out" 2>&1 &
	track $!
	KRB_KEYTAB=$KRB_DIR/proxy.keytab
	# One kadmin.local for every principal (each run opens the database).
	# rcmd/localhost too: Dante's own client names the proxy by the reverse
	# lookup of its address.
	{
		for p in "rcmd/$KRB_HOST" rcmd/localhost; do
			printf 'addprinc -randkey %s\nktadd -k %s %s\n' \
				"$p" "$KRB_KEYTAB" "$p"
		done
		for u in alice mallory; do
			printf 'addprinc -randkey %s\nktadd -k %s %s\n' \
				"$u" "$KRB_DIR/$u.keytab" "$u"
		done
	} | kadmin.local -r "$KRB_REALM" >"$SFY_TMP/kadmin.out" 2>&1 ||
		fail "kadmin.local: $(cat "$SFY_TMP/kadmin.out")"
	for f in "$KRB_KEYTAB" "$KRB_DIR/alice.keytab" "$KRB_DIR/mallory.keytab"; do
		[ -s "$f" ] || fail "kadmin.local made no $f: $(cat "$SFY_TMP/kadmin.out")"
	done
	wait_port 127.0.0.1 "$KRB_PORT"
}

# krb_login USER — a fresh ticket cache holding USER's ticket; sets and
# exports KRB5CCNAME.
krb_login() {
	KRB5CCNAME=FILE:$SFY_TMP/ccache.$1
	export KRB5CCNAME
	kinit -k -t "$KRB_DIR/$1.keytab" "$1@$KRB_REALM" \
		>"$SFY_TMP/kinit.out" 2>&1 ||
		fail "kinit $1: $(cat "$SFY_TMP/kinit.out")"
}

# krb_logout — an empty ticket cache (no ticket at all).
krb_logout() {
	KRB5CCNAME=FILE:$SFY_TMP/ccache.none
	export KRB5CCNAME
	rm -f "$SFY_TMP/ccache.none"
}

# start_danted_gssapi [ENCTYPE] — the GSSAPI-enabled danted on 127.0.0.1
# with socksmethod gssapi and gssapi.enctype ENCTYPE (default clear),
# passing alice@REALM (CONNECT to loopback, BIND, UDP ASSOCIATE) and
# refusing mallory@REALM (and everyone else). Runs
# like start_danted (private mount namespace with the test names). Sets
# DANTED_PORT, DANTED_LOG (so lib.sh's danted_* helpers apply).
start_danted_gssapi() {
	enctype=${1:-clear}
	DANTED_PORT=$(free_port)
	DANTED_LOG=$SFY_TMP/danted.log
	conf=$SFY_TMP/danted.conf
	hosts=$(proxy_hosts_file)
	# Replies to a BIND or UDP association carry no user: their rule comes
	# before the one that refuses mallory, which would match them too.
	cat >"$conf" <<EOF
logoutput: $DANTED_LOG
debug: ${DANTED_DEBUG:-0}
internal: 127.0.0.1 port = $DANTED_PORT
external: 127.0.0.1
clientmethod: none
socksmethod: gssapi
user.privileged: root
user.unprivileged: nobody
timeout.negotiate: 15
timeout.io: 60
client pass {
  from: 127.0.0.0/8 to: 0.0.0.0/0
  gssapi.keytab: FILE:$KRB_KEYTAB
  gssapi.enctype: $enctype
  log: error
}
socks pass {
  from: 0.0.0.0/0 to: 0.0.0.0/0
  command: bindreply udpreply
  log: connect disconnect error iooperation
}
socks block {
  from: 0.0.0.0/0 to: 0.0.0.0/0
  user: mallory@$KRB_REALM
  log: connect error
}
socks pass {
  from: 0.0.0.0/0 to: 127.0.0.0/8
  command: connect
  user: alice@$KRB_REALM
  gssapi.enctype: $enctype
  log: connect disconnect error
}
socks pass {
  from: 0.0.0.0/0 to: 0.0.0.0/0
  command: bind udpassociate
  user: alice@$KRB_REALM
  gssapi.enctype: $enctype
  log: connect disconnect error iooperation
}
socks block {
  from: 0.0.0.0/0 to: 0.0.0.0/0
  log: connect error
}
EOF
	: >"$DANTED_LOG"
	KRB5_KTNAME=FILE:$KRB_KEYTAB \
		unshare -m sh -c 'mount --bind "$1" /etc/hosts && exec "$2" -f "$3" -p "$4"' \
		danted "$hosts" "$DANTE_SOCKD" "$conf" "$SFY_TMP/danted.pid" \
		>"$SFY_TMP/danted.out" 2>&1 &
	track $!
	wait_port 127.0.0.1 "$DANTED_PORT"
}

# dante_client CMD... — run CMD under Dante's own GSSAPI client library,
# through the danted above (a reference client, to check the realm).
dante_client() {
	cat >"$SFY_TMP/dante-client.conf" <<EOF
logoutput: $SFY_TMP/dante-client.log
debug: ${DANTE_CLIENT_DEBUG:-0}
resolveprotocol: fake
route {
  from: 0.0.0.0/0 to: 0.0.0.0/0 via: 127.0.0.1 port = $DANTED_PORT
  protocol: tcp
  proxyprotocol: socks_v5
  method: gssapi
  gssapi.servicename: rcmd
  gssapi.enctype: clear
}
EOF
	SOCKS_CONF=$SFY_TMP/dante-client.conf LD_PRELOAD=$DANTE_LIBDSOCKS "$@"
}
