/* Lists of names in messages (core_internal.h): whole names only, and a
 * count of those that did not fit. */
#include <stdio.h>
#include <string.h>

#include "core_internal.h"

/* Room kept at the end for " ... and N more". */
#define TAIL 32

void hwnas__name_list_init(hwnas__name_list *l, const char *sep)
{
    l->text[0] = '\0';
    l->len = 0;
    l->more = 0;
    l->sep = sep;
}

void hwnas__name_list_add(hwnas__name_list *l, const char *name)
{
    size_t sep = l->len ? strlen(l->sep) : 0, n = strlen(name);
    /* once one name is left out, so are the later ones: the list stays in
     * order, and the count says what is missing */
    if (l->more || l->len + sep + n + TAIL >= sizeof l->text) {
        l->more++;
        return;
    }
    memcpy(l->text + l->len, l->sep, sep);
    memcpy(l->text + l->len + sep, name, n);
    l->len += sep + n;
    l->text[l->len] = '\0';
}

void hwnas__name_list_addf(hwnas__name_list *l, const char *fmt, ...)
{
    char item[sizeof l->text];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(item, sizeof item, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof item)
        l->more++; /* longer than any list could show */
    else
        hwnas__name_list_add(l, item);
}

const char *hwnas__name_list_text(hwnas__name_list *l)
{
    if (l->more)
        snprintf(l->text + l->len, sizeof l->text - l->len, "%s... and %zu more",
                 l->len ? l->sep : "", l->more);
    return l->text;
}
