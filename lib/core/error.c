/* Error codes and the per-thread last-error message. */
#include <stdio.h>
#include <string.h>

#include "core_internal.h"

/* One message per thread, as libgit2 does: a failing call on one thread
 * never overwrites what another thread is about to read. */
static _Thread_local char last_message[1024];
static _Thread_local int last_code;

const char *hwnas_error_str(int code)
{
    switch (code) {
    case HWNAS_OK: return "success";
    case HWNAS_EINVAL: return "invalid argument";
    case HWNAS_ENOMEM: return "out of memory";
    case HWNAS_EIO: return "input/output error";
    case HWNAS_EFORMAT: return "malformed data";
    case HWNAS_ENOTFOUND: return "not found";
    case HWNAS_EUSER: return "stopped by a callback";
    case HWNAS_ESTATE: return "invalid state for this call";
    case HWNAS_EVERSION: return "unsupported version";
    case HWNAS_EUNSUPPORTED: return "not supported";
    case HWNAS_EINVALID: return "invalid candidate";
    case HWNAS_EINTERNAL: return "internal error";
    default: return "unknown error";
    }
}

const char *hwnas_error_last(void) { return last_message; }

int hwnas_error_last_code(void) { return last_code; }

void hwnas_error_clear(void)
{
    last_message[0] = '\0';
    last_code = HWNAS_OK;
}

int hwnas__verror(int code, const char *fmt, va_list ap)
{
    /* The message may be built from the previous one (prefixing context),
     * so format into a scratch buffer first. */
    char tmp[sizeof last_message];
    vsnprintf(tmp, sizeof tmp, fmt, ap);
    memcpy(last_message, tmp, sizeof tmp);
    last_code = code;
    return code;
}

int hwnas__error(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    hwnas__verror(code, fmt, ap);
    va_end(ap);
    return code;
}

const char *hwnas__where(char *out, size_t size, const char *file, size_t line, size_t col)
{
    char pos[48];
    if (col)
        snprintf(pos, sizeof pos, ":%zu:%zu: ", line, col);
    else
        snprintf(pos, sizeof pos, ":%zu: ", line);
    size_t fl = strlen(file), pl = strlen(pos);
    if (fl + pl < size) {
        memcpy(out, file, fl);
        memcpy(out + fl, pos, pl + 1);
    } else if (size > pl + 3) {
        size_t keep = size - 1 - pl - 3;
        memcpy(out, "...", 3);
        memcpy(out + 3, file + fl - keep, keep);
        memcpy(out + 3 + keep, pos, pl + 1);
    } else if (size) {
        snprintf(out, size, "%s", pos + 1);
    }
    return out;
}

int hwnas__enomem(void)
{
    return hwnas__error(HWNAS_ENOMEM, "out of memory");
}
