/* Text into JSON strings and SVG (XML) for the commands that print them:
 * valid UTF-8 whatever bytes the text holds (a path or a name may hold
 * any), so that every JSON parser and every browser reads the output. */
#include <stdio.h>

#include "cli.h"

/* Bytes of the well-formed UTF-8 sequence at p (1 to 4), or 0 for a byte
 * that does not start one: a stray continuation byte, a cut sequence, an
 * overlong form, a surrogate, or beyond U+10FFFF (RFC 3629). */
static size_t utf8_sequence(const unsigned char *p)
{
    unsigned c = p[0];
    if (c < 0x80)
        return 1;
    size_t n;
    unsigned lo = 0x80, hi = 0xbf; /* range of the second byte */
    if (c >= 0xc2 && c <= 0xdf)
        n = 2;
    else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        if (c == 0xe0)
            lo = 0xa0; /* overlong */
        if (c == 0xed)
            hi = 0x9f; /* surrogates */
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        if (c == 0xf0)
            lo = 0x90; /* overlong */
        if (c == 0xf4)
            hi = 0x8f; /* beyond U+10FFFF */
    } else {
        return 0;
    }
    if (p[1] < lo || p[1] > hi)
        return 0; /* also the NUL that ends a cut sequence */
    for (size_t i = 2; i < n; i++)
        if ((p[i] & 0xc0) != 0x80)
            return 0;
    return n;
}

void cli_json_string(FILE *f, const char *s)
{
    fputc('"', f);
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    while (*p) {
        size_t n = utf8_sequence(p);
        if (*p == '"' || *p == '\\')
            fprintf(f, "\\%c", *p);
        else if (*p < 0x20)
            fprintf(f, "\\u%04x", (unsigned)*p);
        else if (n == 0)
            fputs("\\ufffd", f); /* one replacement per byte that is not UTF-8 */
        else
            fwrite(p, 1, n, f);
        p += n ? n : 1;
    }
    fputc('"', f);
}

void cli_xml_text(FILE *f, const char *s, size_t max)
{
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    for (size_t shown = 0; *p; shown++) {
        if (max && shown == max) {
            fputs("...", f);
            return;
        }
        size_t n = utf8_sequence(p);
        switch (*p) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        default:
            if (n == 0)
                fputs("&#xfffd;", f);
            else if (*p >= 0x20 || *p == '\t')
                fwrite(p, 1, n, f);
            /* other control characters are not allowed in XML 1.0 */
        }
        p += n ? n : 1;
    }
}
