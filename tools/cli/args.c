/* Numbers from the command line: whole text, in range, or a message that
 * names the option, the value and what it takes. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"

static int blank(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

int cli_parse_int(const char *cmd, const char *opt, const char *s, long long lo, long long hi,
                  long long *out)
{
    char *end = NULL;
    long long v = 0;
    int ok = s && *s && !blank(*s); /* strtoll skips blanks: " 5" is not a number given */
    if (ok) {
        errno = 0;
        v = strtoll(s, &end, 10);
        ok = end != s && *end == '\0' && errno != ERANGE && v >= lo && v <= hi;
    }
    if (!ok) {
        fprintf(stderr, "hwnas %s: %s needs a whole number from %lld to %lld, not '%s'\n", cmd,
                opt, lo, hi, s ? s : "");
        return 0;
    }
    *out = v;
    return 1;
}

int cli_parse_real(const char *cmd, const char *opt, const char *s, double lo, double hi,
                   int open_low, int open_high, double *out)
{
    char *end = NULL;
    double v = 0;
    int ok = s && *s && !blank(*s);
    if (ok) {
        v = strtod(s, &end);
        ok = end != s && *end == '\0' && isfinite(v) && (open_low ? v > lo : v >= lo) &&
             (open_high ? v < hi : v <= hi);
    }
    if (!ok) {
        fprintf(stderr, "hwnas %s: %s needs a finite number in %c%g, %g%c, not '%s'\n", cmd,
                opt, open_low ? '(' : '[', lo, hi, open_high ? ')' : ']', s ? s : "");
        return 0;
    }
    *out = v == 0 ? 0.0 : v;
    return 1;
}

int cli_options_put(char *buf, size_t size, size_t *used, const char *key, const char *value)
{
    size_t n = *used;
    int k = snprintf(buf + n, size - n, "%s%s=\"", n ? ";" : "", key);
    if (k < 0 || (size_t)k >= size - n) {
        buf[*used] = '\0';
        return -1;
    }
    n += (size_t)k;
    for (; *value; value++) {
        if (n + 3 >= size) {
            buf[*used] = '\0';
            return -1;
        }
        if (*value == '"' || *value == '\\')
            buf[n++] = '\\';
        buf[n++] = *value;
    }
    if (n + 2 >= size) {
        buf[*used] = '\0';
        return -1;
    }
    buf[n++] = '"';
    buf[n] = '\0';
    *used = n;
    return 0;
}
