/*
 * libhwnas - version of the library.
 *
 * The macros give the version of the headers a program was compiled with;
 * hwnas_version_number() and hwnas_version_string() give the version of the
 * library it runs with. Bindings compare the two at load time.
 *
 * The shared library's SONAME carries HWNAS_VERSION_MAJOR: the ABI major.
 */
#ifndef HWNAS_VERSION_H
#define HWNAS_VERSION_H

#include "export.h"

#define HWNAS_VERSION_MAJOR 0
#define HWNAS_VERSION_MINOR 1
#define HWNAS_VERSION_PATCH 0
#define HWNAS_VERSION_STRING "0.1.0"
/* MAJOR * 10000 + MINOR * 100 + PATCH, so versions compare as integers. */
#define HWNAS_VERSION_NUMBER \
    (HWNAS_VERSION_MAJOR * 10000 + HWNAS_VERSION_MINOR * 100 + HWNAS_VERSION_PATCH)

HWNAS_BEGIN_DECLS

/* The run-time library's HWNAS_VERSION_NUMBER. Thread-safe; cannot fail. */
HWNAS_API unsigned hwnas_version_number(void);

/* The run-time library's HWNAS_VERSION_STRING, static storage ("0.1.0").
 * Thread-safe; cannot fail; never NULL. */
HWNAS_API const char *hwnas_version_string(void);

/* The run-time library's ABI major: N in its SONAME libhwnas.so.N. A
 * program built against another major cannot run with this library.
 * Thread-safe; cannot fail. */
HWNAS_API unsigned hwnas_abi_version(void);

/* The optional features this build of the library has, as option text in
 * a fixed order, every feature this version knows named with yes or no:
 * "onednn=yes;mpi=no;onnx=no". onednn: the engine's oneDNN backend
 * (engine=onednn); mpi: libhwnas_mpi (distributed search) was built with
 * this library; onnx: ONNX import and export. Static storage, never NULL;
 * later versions may append features, never remove or reorder them.
 * Thread-safe; cannot fail. */
HWNAS_API const char *hwnas_build_features(void);

HWNAS_END_DECLS

#endif /* HWNAS_VERSION_H */
