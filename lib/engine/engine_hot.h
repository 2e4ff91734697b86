/*
 * libhwnas engine - the hot-loop settings of the kernel files. Include it
 * first in a file of hot loops: from there on the file is optimised as at
 * -O3 (GCC vectorises little at -O2), and functions marked HOT are cloned
 * for AVX-512, AVX2 and the baseline, picked at load time. Not installed.
 */
#ifndef HWNAS_ENGINE_HOT_H
#define HWNAS_ENGINE_HOT_H

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("O3")
#endif
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define HOT __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define HOT
#endif

#endif /* HWNAS_ENGINE_HOT_H */
