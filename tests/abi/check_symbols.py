#!/usr/bin/env python3
"""The exported ABI is exactly what the headers declare.

Compares three lists: HWNAS_API functions in include/hwnas/*.h, the
symbols in lib/hwnas.map, and the dynamic symbols libhwnas.so defines.
Usage: check_symbols.py SOURCE_ROOT LIBHWNAS_SO
"""
import importlib.machinery
import importlib.util
import os
import re
import subprocess
import sys


def load_update_symbols(root):
    path = os.path.join(root, "tools", "update-symbols")
    loader = importlib.machinery.SourceFileLoader("update_symbols", path)
    spec = importlib.util.spec_from_loader("update_symbols", loader)
    mod = importlib.util.module_from_spec(spec)
    loader.exec_module(mod)
    return mod


def map_symbols(root):
    with open(os.path.join(root, "lib", "hwnas.map"), encoding="utf-8") as f:
        text = re.sub(r"/\*.*?\*/", "", f.read(), flags=re.S)
    syms = set(re.findall(r"^\s*(hwnas_[a-z0-9_]+);", text, flags=re.M))
    return syms


def exported(lib):
    out = subprocess.run(["nm", "-D", "--defined-only", lib], check=True,
                         capture_output=True, text=True).stdout
    syms, foreign = set(), set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) < 3 or parts[1] == "A":  # version nodes are absolute
            continue
        name = parts[2].split("@")[0]
        (syms if name.startswith("hwnas_") else foreign).add(name)
    return syms, foreign


def main():
    root, lib = sys.argv[1], sys.argv[2]
    headers = load_update_symbols(root).header_symbols(root)
    mapped = map_symbols(root)
    dyn, foreign = exported(lib)
    ok = True

    def report(title, names):
        nonlocal ok
        if names:
            ok = False
            print("%s:\n  %s" % (title, "\n  ".join(sorted(names))))

    report("exported symbols without the hwnas_ prefix", foreign)
    report("declared HWNAS_API but missing from lib/hwnas.map (run tools/update-symbols)",
           headers - mapped)
    report("in lib/hwnas.map but declared in no header", mapped - headers)
    report("declared but not exported by %s (defined?)" % lib, headers - dyn)
    report("exported but declared in no header", dyn - headers)
    print("%d public functions; headers, version script and %s agree: %s"
          % (len(headers), os.path.basename(lib), "yes" if ok else "NO"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
