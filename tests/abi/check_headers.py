#!/usr/bin/env python3
"""Every public header compiles alone, as C11 and as C++.

Usage: check_headers.py INCLUDE_DIR CC [CXX]
Each header is included first and alone in a translation unit compiled
with -Wall -Wextra -Wpedantic -Werror, so a header that forgets one of its
own includes, or is not valid C++, fails.
"""
import os
import subprocess
import sys
import tempfile


def compile_one(compiler, std, lang, incdir, header, workdir):
    src = os.path.join(workdir, "alone." + ("cpp" if lang == "c++" else "c"))
    with open(src, "w", encoding="utf-8") as f:
        f.write("#include <hwnas/%s>\n#include <hwnas/%s>\nint hwnas_header_test_anchor;\n"
                % (header, header))
    cmd = compiler + ["-std=" + std, "-x", lang, "-fsyntax-only", "-Wall", "-Wextra",
                      "-Wpedantic", "-Werror", "-I", incdir, src]
    r = subprocess.run(cmd, capture_output=True, text=True)
    return r.returncode == 0, r.stderr


def main():
    incdir = sys.argv[1]
    cc = sys.argv[2].split()
    cxx = sys.argv[3].split() if len(sys.argv) > 3 and sys.argv[3] else None
    headers = sorted(h for h in os.listdir(os.path.join(incdir, "hwnas")) if h.endswith(".h"))
    failures = 0
    with tempfile.TemporaryDirectory() as tmp:
        for h in headers:
            runs = [(cc, "c11", "c")]
            if cxx:
                runs.append((cxx, "c++11", "c++"))
            for compiler, std, lang in runs:
                ok, err = compile_one(compiler, std, lang, incdir, h, tmp)
                print("%-14s %-6s %s" % (h, std, "ok" if ok else "FAILED"))
                if not ok:
                    failures += 1
                    print(err)
    if not cxx:
        print("no C++ compiler: C++ checks skipped")
    print("%d header(s), %d failure(s)" % (len(headers), failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
