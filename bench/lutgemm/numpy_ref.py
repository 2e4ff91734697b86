#!/usr/bin/env python3
"""The lookup GEMM in numpy by fancy indexing, for comparison with
bench_lutgemm: C[m, n] = sum_k T[W[m, k], A[k, n]] with T a 256 x 256
product table (here the exact one; the cost does not depend on the
values). Prints "key value" lines. usage: numpy_ref.py [M K N [seconds]]"""
import sys
import time

import numpy as np


def main():
    M, K, N = (int(v) for v in sys.argv[1:4]) if len(sys.argv) >= 4 else (64, 576, 3136)
    min_seconds = float(sys.argv[4]) if len(sys.argv) >= 5 else 0.5
    rng = np.random.default_rng(1)
    W = rng.integers(0, 256, size=(M, K), dtype=np.uint8)
    A = rng.integers(0, 256, size=(K, N), dtype=np.uint8)
    a = np.arange(256, dtype=np.int32)
    T = (a[:, None] * a[None, :]).astype(np.uint16)  # T[w, a]

    def lut_gemm():
        C = np.zeros((M, N), dtype=np.int32)
        for k in range(K):
            C += T[W[:, k][:, None], A[k][None, :]]
        return C

    C = lut_gemm()
    assert np.array_equal(C, W.astype(np.int64) @ A.astype(np.int64))
    best, total = 0.0, 0.0
    while total < min_seconds:
        t0 = time.perf_counter()
        lut_gemm()
        dt = time.perf_counter() - t0
        total += dt
        best = max(best, M * K * N / dt)
    print(f"numpy_fancy_t1 {best:.4g}")


if __name__ == "__main__":
    main()
