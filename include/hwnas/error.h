/*
 * libhwnas - error codes and the per-thread last-error message.
 *
 * Every call that can fail returns int: HWNAS_OK (0) on success or one of
 * the negative codes below. The numbers are part of the ABI and never
 * change; new codes are only ever appended.
 *
 * After a failure, hwnas_error_last() on the same thread returns a message
 * naming what was wrong (the file, line, key or value at fault). The library
 * never prints, aborts or exits because of what a caller passed.
 */
#ifndef HWNAS_ERROR_H
#define HWNAS_ERROR_H

#include "export.h"

HWNAS_BEGIN_DECLS

enum {
    HWNAS_OK = 0,           /* success */
    HWNAS_EINVAL = -1,      /* invalid argument, option key or value */
    HWNAS_ENOMEM = -2,      /* an allocation failed */
    HWNAS_EIO = -3,         /* the operating system failed a file operation */
    HWNAS_EFORMAT = -4,     /* malformed or corrupted input data */
    HWNAS_ENOTFOUND = -5,   /* a named thing (kind, key, file) does not exist */
    HWNAS_EUSER = -6,       /* a callback returned non-zero and stopped the call */
    HWNAS_ESTATE = -7,      /* the call is not valid in the object's state */
    HWNAS_EVERSION = -8,    /* unsupported version (file format, plugin ABI) */
    HWNAS_EUNSUPPORTED = -9,/* valid request this build or kind cannot do */
    HWNAS_EINVALID = -10,   /* a candidate is invalid (e.g. genotype decodes to no net) */
    HWNAS_EINTERNAL = -11   /* a bug in libhwnas: please report it */
};

/* A fixed description of an error code ("invalid argument"); for unknown
 * codes "unknown error". Static storage; thread-safe; never NULL. */
HWNAS_API const char *hwnas_error_str(int code);

/* The message of the last failure on the calling thread, naming the input at
 * fault (e.g. "unknown option 'thread' for context; valid keys: ...").
 * "" when no call on this thread has failed since the last clear. The
 * pointer is owned by the library and valid until the next libhwnas call on
 * this thread. Never NULL. */
HWNAS_API const char *hwnas_error_last(void);

/* The code that went with hwnas_error_last(), or HWNAS_OK. */
HWNAS_API int hwnas_error_last_code(void);

/* Forget the calling thread's last error. */
HWNAS_API void hwnas_error_clear(void);

HWNAS_END_DECLS

#endif /* HWNAS_ERROR_H */
