#!/usr/bin/env python3
"""report.py SAMPLES — the markdown tables of `make bench`.

SAMPLES holds one line per measurement: CASE <tab> CONTENDER <tab> k=v k=v...
(as printed by benchcli / spawnrun). A line with error=... is a failed run
(a contender that went direct fails: the targets serve only the proxy). Medians over the successful samples; ratios are the contender's
median divided by the best peer's (proxychains4, torsocks, dante) and by the
floor's (a client that speaks SOCKS5 itself)."""

import statistics
import sys

PEERS = ("proxychains4", "torsocks", "dante")
NAMES = {
    "true": "/bin/true",
    "empty-preload": "LD_PRELOAD=empty.so /bin/true",
    "libsocksify-preload": "LD_PRELOAD=libsocksify.so /bin/true",
    "floor": "floor (client speaks SOCKS5)",
    "floor-pipelined": "floor, pipelined",
    "socksify": "**socksify**",
    "socksify-pipeline": "**socksify, SOCKSIFY_PIPELINE=1**",
    "socksify-noguard": "socksify, SOCKSIFY_GUARD=off",
    "socksify-static": "**socksify, static client (seccomp supervisor)**",
    "proxychains4": "proxychains4",
    "torsocks": "torsocks",
    "dante": "Dante socksify",
    "go-socks5": "Go, its own SOCKS5 dialer (x/net/proxy)",
    "go-supervised": "**Go (static) under the supervisor**",
}


def load(path):
    """{case: {contender: [dict of one sample]}}, contender order kept."""
    data = {}
    with open(path) as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) != 3:
                continue
            case, who, rest = parts
            kv = dict(p.split("=", 1) for p in rest.split() if "=" in p)
            data.setdefault(case, {}).setdefault(who, []).append(kv)
    return data


def good(samples):
    """The successful samples, and a reason when there is none."""
    ok = [s for s in samples if "error" not in s]
    if ok:
        return ok, None
    errs = sorted({s.get("error", "?") for s in samples
                   if not s.get("error", "").startswith("exit-")})
    return [], "failed: " + "; ".join(errs or ["exit status"])


def median(samples, fn):
    return statistics.median(fn(s) for s in samples)


def fmt(v, digits):
    return f"{v:.{digits}f}"


def ratio(v, ref):
    if ref is None or v is None or ref == 0:
        return "–"
    return f"{v / ref:.2f}×"


def table(case_data, columns, key, higher_better=False, floor_name="floor"):
    """Markdown rows: one per contender, the given metric columns, then
    the ratios of column `key` to the best peer and to the floor."""
    meds, reasons = {}, {}
    for who, samples in case_data.items():
        ok, why = good(samples)
        if ok:
            meds[who] = {c[0]: median(ok, c[2]) for c in columns}
            meds[who]["n"] = len(ok)
        else:
            reasons[who] = why
    pick = max if higher_better else min
    peer_vals = [meds[p][key] for p in PEERS if p in meds]
    best_peer = pick(peer_vals) if peer_vals else None
    floor = meds.get(floor_name, {}).get(key)
    head = ["contender"] + [c[1] for c in columns] + [
        "runs", "vs best peer", "vs floor"]
    out = ["| " + " | ".join(head) + " |",
           "|" + "---|" * len(head)]
    order = list(NAMES)
    for who in sorted(case_data, key=lambda w: (
            order.index(w) if w in order else len(order), w)):
        name = NAMES.get(who, who)
        if who not in meds:
            cells = ["n/a"] * len(columns) + ["0", "–", "–"]
            out.append(f"| {name} | " + " | ".join(cells) +
                       f" |  ({reasons[who]})")
            continue
        m = meds[who]
        cells = [fmt(m[c[0]], c[3]) for c in columns]
        cells += [str(m["n"]), ratio(m[key], best_peer),
                  ratio(m[key], floor)]
        out.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(out) + "\n"


def f(key):
    return lambda s: float(s[key])


def case1(data):
    cols = [("conn", "connect() ms", f("connect_ms"), 1),
            ("echo", "echo RTT ms", f("echo_ms"), 1),
            ("rt", "round trips", lambda s: float(s["connect_ms"]) /
             float(s["echo_ms"]), 2)]
    out = []
    for case, title in (("1-none", "no authentication"),
                        ("1-user", "username/password (RFC 1929)")):
        if case in data:
            out.append(f"### Case 1: connection set-up, {title}\n")
            out.append(table(data[case], cols, "rt"))
    if "relay" in data:
        ok, _ = good(data["relay"]["check"])
        if ok:
            out.append("Relay check (echo straight through the delay relay, "
                       "no proxy): median RTT "
                       f"{median(ok, f('echo_ms')):.2f} ms.\n")
    return out


def case2(data):
    cols = [("wall", "wall ms (20 connects + echo)", f("wall_ms"), 0),
            ("stall", "longest stall ms", f("stall_ms"), 1),
            ("call", "longest call ms", f("call_ms"), 1)]
    return ["### Case 2: 20 concurrent non-blocking connects, one "
            "process, delayed proxy\n", table(data["2"], cols, "wall")]


def case3(data):
    cols = [("wall", "start-up ms", f("wall_ms"), 2),
            ("rss", "peak RSS KiB", f("maxrss_kb"), 0)]
    return ["### Case 3: process start-up (`/bin/true`; the floor here is "
            "the empty preloaded object)\n",
            table(data["3"], cols, "wall", floor_name="empty-preload")]


def case3_loaded(data):
    cols = [("wall", "start-up ms", f("wall_ms"), 2),
            ("rss", "peak RSS KiB", f("maxrss_kb"), 0)]
    return ["### Case 3, loaded: process start-up beside a CPU hog "
            "(a spinning shell)\n",
            table(data["3-loaded"], cols, "wall",
                  floor_name="empty-preload")]


def case4(data):
    def per(key):
        return lambda s: float(s[key]) * 1e3 / float(s["conns"])

    def cpu(s):
        return ((float(s["user_ms"]) + float(s["sys_ms"])) * 1e3 /
                float(s["conns"]))
    cols = [("wall", "µs per connection", per("wall_ms"), 0),
            ("cpu", "client CPU µs per connection", cpu, 0)]
    return ["### Case 4: sequential connect/echo/close through danted, "
            "no delay\n", table(data["4"], cols, "cpu")]


def case5(data):
    cols = [("mib", "MiB/s", f("mib_s"), 0)]
    return ["### Case 5: bulk TCP download (1 GiB) through danted "
            "(ratios > 1 are faster)\n",
            table(data["5"], cols, "mib", higher_better=True)]


def case6(data):
    cols = [("rate", "datagrams/s", f("dgram_s"), 0),
            ("loss", "loss %", lambda s: float(s["loss"]) * 100, 2)]
    return ["### Case 6: UDP request/response through danted "
            "(ratios > 1 are faster)\n",
            table(data["6"], cols, "rate", higher_better=True)]


def case7(data):
    def per(s):
        return float(s["wall_ms"]) * 1e3 / float(s["conns"])
    out = []
    if "7-conn" in data:
        cols = [("wall", "µs per connect/echo/close", per, 0)]
        out += ["### Case 7a: a Go client, sequential connect/echo/close "
                "through danted, no delay (the floor: Go's own SOCKS5 "
                "dialer)\n",
                table(data["7-conn"], cols, "wall", floor_name="go-socks5")]
    if "7-par" in data:
        cols = [("wall", "wall ms (20 connects + echo)", f("wall_ms"), 0)]
        out += ["### Case 7b: a Go client, 20 concurrent connects, delayed "
                "proxy\n",
                table(data["7-par"], cols, "wall", floor_name="go-socks5")]
    return out


def case8(data):
    out = ["### Case 8: race group, black-holed first member, vs the live "
           "proxy alone (delayed proxy)\n"]
    conn = [("conn", "connect() ms", f("connect_ms"), 1)]
    for case, title in (("8-first", "first of 20 sequential connects"),
                        ("8-rest", "the other 19 (median)")):
        if case in data:
            out += [f"{title}:\n", table(data[case], conn, "conn")]
    if "8-par" in data:
        cols = [("wall", "wall ms (20 connects + echo)", f("wall_ms"), 0)]
        out += ["20 concurrent non-blocking connects:\n",
                table(data["8-par"], cols, "wall")]
    if "8-rules" in data:
        cols = [("cpu", "client CPU µs per connection",
                 lambda s: (float(s["user_ms"]) + float(s["sys_ms"])) *
                 1e3 / float(s["conns"]), 0)]
        out += ["64 rules that do not match vs none (case 4's loop):\n",
                table(data["8-rules"], cols, "cpu")]
    return out


def case9(data):
    def mb_s(s):
        return float(s["bytes"]) / 1e6 / float(s["secs"])
    cols = [("mb", "MB/s", mb_s, 0),
            ("mib", "MiB received", lambda s: float(s["bytes"]) / 1048576, 0)]
    return ["### Case 9: bulk TCP download through danted, one connection: "
            "the library (dynamic client, guard on) and the supervisor "
            "(static client) (ratios > 1 are faster)\n",
            table(data["9"], cols, "mb", higher_better=True)]


def main():
    data = load(sys.argv[1])
    parts = []
    for case, fn in (("1-none", case1), ("2", case2), ("3", case3),
                     ("3-loaded", case3_loaded), ("4", case4), ("5", case5), ("6", case6),
                     ("7-conn", case7), ("8-first", case8), ("9", case9)):
        if case in data:
            parts += fn(data)
    print("\n".join(parts))


if __name__ == "__main__":
    main()
