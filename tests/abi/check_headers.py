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


def mpi_flags():
    """-I flags for <mpi.h> (hwnas/mpi.h needs it), from mpicc; None without."""
    try:
        out = subprocess.run(["mpicc", "--showme:incdirs"], capture_output=True, text=True,
                             timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    if out.returncode != 0:
        return None
    # -isystem: Open MPI's own C++ bindings warn under -Wextra; ours must not.
    return ["-isystem" + d for d in out.stdout.split()]


def compile_one(compiler, std, lang, incdir, header, workdir, extra=()):
    src = os.path.join(workdir, "alone." + ("cpp" if lang == "c++" else "c"))
    with open(src, "w", encoding="utf-8") as f:
        f.write("#include <hwnas/%s>\n#include <hwnas/%s>\nint hwnas_header_test_anchor;\n"
                % (header, header))
    cmd = compiler + ["-std=" + std, "-x", lang, "-fsyntax-only", "-Wall", "-Wextra",
                      "-Wpedantic", "-Werror", "-I", incdir] + list(extra) + [src]
    r = subprocess.run(cmd, capture_output=True, text=True)
    return r.returncode == 0, r.stderr


def main():
    incdir = sys.argv[1]
    cc = sys.argv[2].split()
    cxx = sys.argv[3].split() if len(sys.argv) > 3 and sys.argv[3] else None
    headers = sorted(h for h in os.listdir(os.path.join(incdir, "hwnas")) if h.endswith(".h"))
    failures = 0
    with tempfile.TemporaryDirectory() as tmp:
        mpi = mpi_flags()
        for h in headers:
            extra = ()
            if h == "mpi.h":  # libhwnas_mpi's header, over <mpi.h>
                if mpi is None:
                    print("%-14s skipped: no mpicc to find <mpi.h>" % h)
                    continue
                extra = mpi
            runs = [(cc, "c11", "c")]
            if cxx:
                runs.append((cxx, "c++11", "c++"))
            for compiler, std, lang in runs:
                ok, err = compile_one(compiler, std, lang, incdir, h, tmp, extra)
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
