/*
 * Mappings: their one-line text (doc/formats/mapping.md) and the check that
 * a mapping fits a problem and an architecture.
 *
 *   DRAM: M4 C2 | shared_glb{I,O}: Q7 M4@x C2@y | weights_spad: R3 C4
 *
 * Levels in order from the outermost, each "name[{keeps}]: loops" with the
 * loops outermost first, "<dim><bound>" temporal or "@x"/"@y" spatial over
 * the fan-out below the level. A level not listed has no loops and keeps
 * what the description says.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "accel_internal.h"

static int level_index(const hwnas_accel *a, const char *s, size_t n)
{
    for (int l = 0; l < a->n_levels; l++)
        if (strlen(a->level[l].name) == n && strncmp(a->level[l].name, s, n) == 0)
            return l;
    return -1;
}

int hwnas__mapping_parse(hwnas__mapping *out, const hwnas_accel *a, const char *text,
                         const char *where)
{
    hwnas__mapping m;
    memset(&m, 0, sizeof m);
    for (int l = 0; l < a->n_levels; l++)
        m.keeps[l] = a->level[l].keeps;
    const char *p = text;
    int last = -1;
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == '|' || *p == '\r' || *p == '\n')
            p++;
        if (!*p)
            break;
        size_t n = 0;
        while (isalnum((unsigned char)p[n]) || p[n] == '_' || p[n] == '-')
            n++;
        int l = level_index(a, p, n);
        if (l < 0)
            return hwnas__error(HWNAS_EINVAL, "%s: '%.*s' is not a level of %s", where,
                                (int)(n > 48 ? 48 : n), p, a->name);
        if (l <= last)
            return hwnas__error(HWNAS_EINVAL,
                                "%s: level %s comes after a level inside it (outermost first)",
                                where, a->level[l].name);
        last = l;
        p += n;
        if (*p == '{') {
            unsigned keeps = 0;
            p++;
            while (*p && *p != '}') {
                const char *letters = "WIO";
                const char *c = strchr(letters, *p);
                if (*p == ',' || *p == ' ') {
                    p++;
                    continue;
                }
                if (!c || !*p)
                    return hwnas__error(HWNAS_EINVAL,
                                        "%s: level %s: keeps are letters W, I, O in {}", where,
                                        a->level[l].name);
                keeps |= 1u << (c - letters);
                p++;
            }
            if (*p != '}')
                return hwnas__error(HWNAS_EINVAL, "%s: level %s: missing '}'", where,
                                    a->level[l].name);
            p++;
            m.keeps[l] = keeps;
        }
        while (*p == ' ')
            p++;
        if (*p != ':')
            return hwnas__error(HWNAS_EINVAL, "%s: expected ':' after level %s", where,
                                a->level[l].name);
        p++;
        for (;;) {
            while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
                p++;
            if (!*p || *p == '|')
                break;
            const char *dl = strchr(hwnas__dim_letters, *p);
            if (!dl || !isdigit((unsigned char)p[1]))
                return hwnas__error(HWNAS_EINVAL,
                                    "%s: level %s: '%.12s' is not a loop like M4 or C2@x", where,
                                    a->level[l].name, p);
            char *end;
            long long b = strtoll(p + 1, &end, 10);
            if (b < 1 || b > 1000000000LL)
                return hwnas__error(HWNAS_EINVAL, "%s: level %s: bound %.12s out of range", where,
                                    a->level[l].name, p + 1);
            int kind = HWNAS__TEMPORAL;
            if (*end == '@') {
                if (end[1] == 'x')
                    kind = HWNAS__SPATIAL_X;
                else if (end[1] == 'y')
                    kind = HWNAS__SPATIAL_Y;
                else
                    return hwnas__error(HWNAS_EINVAL, "%s: level %s: spatial loops are @x or @y",
                                        where, a->level[l].name);
                end += 2;
            }
            if (*end && !strchr(" \t\r\n|", *end))
                return hwnas__error(HWNAS_EINVAL, "%s: level %s: unexpected '%c' after a loop",
                                    where, a->level[l].name, *end);
            if (kind == HWNAS__TEMPORAL && m.n > 0 && m.loop[m.n - 1].level == l &&
                m.loop[m.n - 1].kind != HWNAS__TEMPORAL)
                return hwnas__error(HWNAS_EINVAL,
                                    "%s: level %s: temporal loops come before spatial ones", where,
                                    a->level[l].name);
            p = end;
            if (b == 1)
                continue;
            if (m.n == HWNAS__MAX_LOOPS)
                return hwnas__error(HWNAS_EINVAL, "%s: more than %d loops", where,
                                    HWNAS__MAX_LOOPS);
            m.loop[m.n++] = (hwnas__loop){(int8_t)(dl - hwnas__dim_letters), (int8_t)kind,
                                          (int8_t)l, (int64_t)b};
        }
    }
    *out = m;
    return HWNAS_OK;
}

void hwnas__mapping_format(const hwnas_accel *a, const hwnas__mapping *m, hwnas__strbuf *sb)
{
    int k = 0;
    for (int l = 0; l < a->n_levels; l++) {
        hwnas__strbuf_printf(sb, "%s%s", l ? " | " : "", a->level[l].name);
        if (m->keeps[l] != a->level[l].keeps) {
            hwnas__strbuf_puts(sb, "{");
            for (int o = 0; o < HWNAS__NOPS; o++)
                if (m->keeps[l] & (1u << o))
                    hwnas__strbuf_printf(sb, "%c", "WIO"[o]);
            hwnas__strbuf_puts(sb, "}");
        }
        hwnas__strbuf_puts(sb, ":");
        for (; k < m->n && m->loop[k].level == l; k++) {
            const hwnas__loop *lp = &m->loop[k];
            hwnas__strbuf_printf(sb, " %c%lld%s", hwnas__dim_letters[lp->dim],
                                 (long long)lp->bound,
                                 lp->kind == HWNAS__SPATIAL_X   ? "@x"
                                 : lp->kind == HWNAS__SPATIAL_Y ? "@y"
                                                                : "");
        }
    }
}

int hwnas__mapping_check(const hwnas_accel *a, const hwnas__problem *p, const hwnas__mapping *m)
{
    if (m->keeps[0] != HWNAS__KEEP_ALL)
        return hwnas__error(HWNAS_EINVAL, "mapping: level %s is the backing store and keeps "
                                          "every operand",
                            a->level[0].name);
    double prod[HWNAS__NDIMS];
    for (int d = 0; d < HWNAS__NDIMS; d++)
        prod[d] = 1;
    double sx[HWNAS__MAX_LEVELS] = {0}, sy[HWNAS__MAX_LEVELS] = {0};
    for (int l = 0; l < a->n_levels; l++)
        sx[l] = sy[l] = 1;
    for (int k = 0; k < m->n; k++) {
        const hwnas__loop *lp = &m->loop[k];
        if (k > 0 && lp->level < m->loop[k - 1].level)
            return hwnas__error(HWNAS_EINVAL, "mapping: loops are not in level order");
        prod[lp->dim] *= (double)lp->bound;
        if (lp->kind == HWNAS__SPATIAL_X)
            sx[lp->level] *= (double)lp->bound;
        else if (lp->kind == HWNAS__SPATIAL_Y)
            sy[lp->level] *= (double)lp->bound;
    }
    for (int d = 0; d < HWNAS__NDIMS; d++)
        if (prod[d] != (double)p->dim[d])
            return hwnas__error(HWNAS_EINVAL,
                                "mapping: the factors of %c multiply to %.0f, the layer's %c is "
                                "%lld",
                                hwnas__dim_letters[d], prod[d], hwnas__dim_letters[d],
                                (long long)p->dim[d]);
    for (int l = 0; l < a->n_levels; l++) {
        int64_t fx, fy;
        hwnas__accel_fanout(a, l, &fx, &fy);
        if (sx[l] > (double)fx || sy[l] > (double)fy)
            return hwnas__error(HWNAS_EINVAL,
                                "mapping: level %s spreads %.0f x %.0f over a fan-out of %lld x "
                                "%lld",
                                a->level[l].name, sx[l], sy[l], (long long)fx, (long long)fy);
    }
    /* Capacity: the tiles an instance keeps must fit its words. Tiles
     * grow outwards: walk the loops from the inside. */
    hwnas__problem tile = *p;
    for (int d = 0; d < HWNAS__NDIMS; d++)
        tile.dim[d] = 1;
    int k = m->n - 1;
    for (int l = a->n_levels - 1; l >= 1; l--) {
        const hwnas__level *lv = &a->level[l];
        for (; k >= 0 && m->loop[k].level >= l; k--)
            tile.dim[m->loop[k].dim] *= m->loop[k].bound;
        if (lv->words <= 0)
            continue;
        double need = 0;
        for (int o = 0; o < HWNAS__NOPS; o++)
            if (m->keeps[l] & (1u << o))
                need += hwnas__problem_size(&tile, o);
        if (need > lv->words)
            return hwnas__error(HWNAS_EINVAL,
                                "mapping: level %s needs %.0f words for its tiles, it has %.0f",
                                lv->name, need, lv->words);
    }
    return HWNAS_OK;
}
