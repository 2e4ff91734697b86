/*
 * libhwnas - export and linkage macros shared by every public header.
 *
 * HWNAS_API marks a symbol of the stable ABI. The library is built with
 * -fvisibility=hidden, so anything without HWNAS_API stays private.
 */
#ifndef HWNAS_EXPORT_H
#define HWNAS_EXPORT_H

#if defined(_WIN32) && defined(HWNAS_BUILDING)
#define HWNAS_API __declspec(dllexport)
#elif defined(__GNUC__) || defined(__clang__)
#define HWNAS_API __attribute__((visibility("default")))
#else
#define HWNAS_API
#endif

#ifdef __cplusplus
#define HWNAS_BEGIN_DECLS extern "C" {
#define HWNAS_END_DECLS }
#else
#define HWNAS_BEGIN_DECLS
#define HWNAS_END_DECLS
#endif

#endif /* HWNAS_EXPORT_H */
