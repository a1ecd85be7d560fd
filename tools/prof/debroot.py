#!/usr/bin/python3
"""debroot.py: a Debian package and everything it depends on, unpacked into a private folder.

    debroot.py OUTDIR PKG=VERSION INDEX.xz [INDEX.xz ...]

Resolves PKG's Pre-Depends and Depends recursively against Debian Packages.xz indexes (searched in
order; the first alternative of "a | b"; a virtual package by its first provider), downloads the .debs
from deb.debian.org into OUTDIR/debs and unpacks each with `dpkg -x` into OUTDIR/root; the chosen
versions go to OUTDIR/packages.txt. Nothing is installed. tools/prof/mesa-private.sh uses it to run
vkclr under a newer lavapipe than the system's (README there). A developer tool, not part of vkclr.
"""
import functools, lzma, os, re, subprocess, sys, urllib.request

MIRROR = "http://deb.debian.org/debian/"
# Essential packages whose files the private root does not need (the host's dpkg tools run them).
SKIP = {"debconf", "debconf-2.0", "dpkg", "perl-base", "install-info", "libc-bin", "base-files"}


def parse(path):
    pk = {}
    for stanza in lzma.open(path, "rt", encoding="utf-8").read().split("\n\n"):
        f, last = {}, None
        for line in stanza.splitlines():
            if line[:1] in (" ", "\t"):
                if last:
                    f[last] += "\n" + line
                continue
            k, _, v = line.partition(":")
            f[k], last = v.strip(), k
        if "Package" in f:
            pk.setdefault(f["Package"], []).append(f)
    return pk


def vcmp(a, op, b):
    op = {"<<": "lt", "<=": "le", "=": "eq", ">=": "ge", ">>": "gt"}[op]
    return subprocess.call(["dpkg", "--compare-versions", a, op, b]) == 0


def newest_first(fs):
    order = lambda x, y: 0 if x["Version"] == y["Version"] else (1 if vcmp(x["Version"], ">>", y["Version"]) else -1)
    return sorted(fs, key=functools.cmp_to_key(order), reverse=True)


def deps(f):
    out = []
    for key in ("Pre-Depends", "Depends"):
        for clause in filter(None, (c.strip() for c in f.get(key, "").split(","))):
            m = re.match(r"([^\s(:]+)(?::\S+)?\s*(?:\((\S+)\s*([^)]+)\))?", clause.split("|")[0].strip())
            out.append((m.group(1), m.group(2), m.group(3) and m.group(3).strip()))
    return out


def main():
    if len(sys.argv) < 4 or "=" not in sys.argv[2]:
        sys.exit(__doc__)
    outdir, (rname, rver) = sys.argv[1], sys.argv[2].split("=", 1)
    idx = [parse(p) for p in sys.argv[3:]]
    provides = {}
    for pk in idx:
        for name, fs in pk.items():
            for f in fs:
                for p in filter(None, (x.strip() for x in f.get("Provides", "").split(","))):
                    provides.setdefault(p.split()[0], []).append(name)

    def pick(name, op, ver):
        for pk in idx:
            for f in newest_first(pk.get(name, [])):
                if op is None or vcmp(f["Version"], op, ver):
                    return f
        return None

    want, chosen = [(rname, "=", rver)], {}
    while want:
        name, op, ver = want.pop()
        if name in SKIP:
            continue
        if name in chosen:
            if op and not vcmp(chosen[name]["Version"], op, ver):
                sys.exit(f"{name} {chosen[name]['Version']} does not satisfy {op} {ver}")
            continue
        f = pick(name, op, ver)
        if f is None and name in provides:
            want.append((provides[name][0], None, None))
            continue
        if f is None:
            sys.exit(f"cannot resolve {name} {op or ''} {ver or ''}")
        chosen[name] = f
        want.extend(deps(f))

    debs, root = os.path.join(outdir, "debs"), os.path.join(outdir, "root")
    os.makedirs(debs, exist_ok=True)
    os.makedirs(root, exist_ok=True)
    with open(os.path.join(outdir, "packages.txt"), "w") as lst:
        for name in sorted(chosen):
            f = chosen[name]
            lst.write(f"{name} {f['Version']}\n")
            dst = os.path.join(debs, os.path.basename(f["Filename"]))
            if not os.path.exists(dst):
                urllib.request.urlretrieve(MIRROR + f["Filename"], dst + ".part")
                os.rename(dst + ".part", dst)
            subprocess.check_call(["dpkg", "-x", dst, root])
    print(f"{len(chosen)} packages unpacked into {root}")


main()
