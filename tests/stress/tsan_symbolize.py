#!/usr/bin/env python3
"""tsan_symbolize.py — put function, file and line into the frames of
ThreadSanitizer reports written with symbolize=0 (TSan's own symbolizer
would run with the TSan library in LD_PRELOAD, where it cannot load).

usage: tsan_symbolize.py DIR REPORT...   (DIR holds the TSan build: the
library, progs/, stress/, tests/). Each REPORT is rewritten in place."""
import os
import re
import subprocess
import sys

FRAME = re.compile(r"^(\s*#\d+ )(?:<null> <null> |0x[0-9a-f]+ )?\((\S+?)\+(0x[0-9a-f]+)\)")


def module_path(top, name):
    base = os.path.basename(name)
    for cand in (os.path.join(top, base), os.path.join(top, "progs", base),
                 os.path.join(top, "stress", base),
                 os.path.join(top, "tests", base)):
        if os.path.isfile(cand):
            return cand
    return name if os.path.isabs(name) and os.path.isfile(name) else None


def symbolizer():
    for d in ("/usr/bin",):
        for f in sorted(os.listdir(d)):
            if f == "llvm-symbolizer" or f.startswith("llvm-symbolizer-"):
                return os.path.join(d, f)
    return None


def main():
    top, reports = sys.argv[1], sys.argv[2:]
    tool = symbolizer()
    if not tool:
        return 0
    env = dict(os.environ)
    env.pop("LD_PRELOAD", None)
    cache = {}
    for rep in reports:
        lines = open(rep, errors="replace").read().split("\n")
        out = []
        for line in lines:
            m = FRAME.match(line)
            path = module_path(top, m.group(2)) if m else None
            if not path:
                out.append(line)
                continue
            key = (path, m.group(3))
            if key not in cache:
                r = subprocess.run([tool, "--obj=" + path, "--inlining=false",
                                    m.group(3)], capture_output=True,
                                   text=True, env=env, timeout=60)
                parts = r.stdout.strip().split("\n")
                cache[key] = " ".join(parts[:2]) if len(parts) >= 2 else "?"
            out.append("%s%s (%s+%s)" % (m.group(1), cache[key],
                                         os.path.basename(path), m.group(3)))
        with open(rep, "w") as f:
            f.write("\n".join(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
