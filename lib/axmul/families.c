/* The built-in multiplier families: their rules, parameters, cost model and
 * the spec syntax "family:key=value,key=value". doc/axmul.md is the
 * reference for every rule and for the cost model. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "axmul_internal.h"

#define MAX_PARAMS 2

typedef int32_t (*mul_fn)(int a, int b, const int *p);
typedef double (*cost_fn)(const int *p);

typedef struct family {
    const char *name;                 /* spec prefix */
    const char *help;                 /* one line: rule and parameters */
    int n_params;                     /* 0..MAX_PARAMS */
    const char *keys[MAX_PARAMS];     /* parameter names, canonical order */
    int lo[MAX_PARAMS], hi[MAX_PARAMS], def[MAX_PARAMS]; /* inclusive range, default */
    mul_fn mul;                       /* unsigned rule, a and b in 0..255 */
    cost_fn cost;                     /* cost in partial-product-bit units (exact = 64) */
} family;

static int msb(unsigned x) /* x > 0 */
{
    int p = 0;
    while (x >>= 1)
        p++;
    return p;
}

/* ---- rules ----------------------------------------------------------- */

static int32_t mul_exact(int a, int b, const int *p)
{
    (void)p;
    return a * b;
}

static int32_t mul_trunc(int a, int b, const int *p)
{
    int mask = ~((1 << p[0]) - 1);
    return (a & mask) * (b & mask);
}

/* Sum of the partial-product bits a_i b_j 2^(i+j) with j >= h and i+j >= v. */
static int32_t pp_keep(int a, int b, int h, int v)
{
    int32_t s = 0;
    for (int j = h; j < 8; j++) {
        if (!((b >> j) & 1))
            continue;
        for (int i = 0; i < 8; i++)
            if (i + j >= v && ((a >> i) & 1))
                s += (int32_t)1 << (i + j);
    }
    return s;
}

static int pp_count(int h, int v)
{
    int n = 0;
    for (int j = h; j < 8; j++)
        for (int i = 0; i < 8; i++)
            n += i + j >= v;
    return n;
}

static int32_t mul_pptrunc(int a, int b, const int *p) { return pp_keep(a, b, 0, p[0]); }
static int32_t mul_bam(int a, int b, const int *p) { return pp_keep(a, b, p[0], p[1]); }

static int drum_operand(int x, int k)
{
    if (x < (1 << k))
        return x;
    int s = msb((unsigned)x) - k + 1;
    return ((x >> s) | 1) << s;
}

static int32_t mul_drum(int a, int b, const int *p)
{
    return drum_operand(a, p[0]) * drum_operand(b, p[0]);
}

static int32_t mul_mitchell(int a, int b, const int *p)
{
    (void)p;
    if (a == 0 || b == 0)
        return 0;
    int ka = msb((unsigned)a), kb = msb((unsigned)b);
    /* Mantissas below the leading one as 7-bit fractions. */
    int32_t fa = (int32_t)(a - (1 << ka)) << (7 - ka);
    int32_t fb = (int32_t)(b - (1 << kb)) << (7 - kb);
    int32_t s = fa + fb;
    if (s < 128)
        return ((128 + s) << (ka + kb)) >> 7;
    return (s << (ka + kb + 1)) >> 7;
}

static int32_t mul_kulkarni(int a, int b, const int *p)
{
    (void)p;
    int32_t s = 0;
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++) {
            int x = (a >> (2 * i)) & 3, y = (b >> (2 * j)) & 3;
            int q = (x == 3 && y == 3) ? 7 : x * y;
            s += (int32_t)q << (2 * (i + j));
        }
    return s;
}

static int32_t mul_etm(int a, int b, const int *p)
{
    int w = p[0], mask = (1 << w) - 1;
    int ah = a >> w, bh = b >> w, al = a & mask, bl = b & mask;
    if (ah == 0 && bh == 0)
        return al * bl;
    int32_t r = (int32_t)(ah * bh) << (2 * w);
    int o = al | bl;
    if (o)
        r |= ((int32_t)1 << (w + msb((unsigned)o) + 1)) - 1;
    return r;
}

static int roba_round(int x)
{
    if (x == 0)
        return 0;
    int p = msb((unsigned)x);
    return (p > 0 && ((x >> (p - 1)) & 1)) ? 1 << (p + 1) : 1 << p;
}

static int32_t mul_roba(int a, int b, const int *p)
{
    (void)p;
    int ar = roba_round(a), br = roba_round(b);
    return ar * b + br * a - ar * br;
}

/* ---- cost model (units: one partial-product bit; exact = 64) ---------- */

static double cost_exact(const int *p)
{
    (void)p;
    return 64;
}
static double cost_trunc(const int *p) { return (8 - p[0]) * (8 - p[0]); }
static double cost_pptrunc(const int *p) { return pp_count(0, p[0]); }
static double cost_bam(const int *p) { return pp_count(p[0], p[1]); }
static double cost_drum(const int *p) { return p[0] * p[0] + 8 + 2 * p[0]; }
static double cost_mitchell(const int *p)
{
    (void)p;
    return 31;
}
static double cost_kulkarni(const int *p)
{
    (void)p;
    return 48;
}
static double cost_etm(const int *p)
{
    int m = 8 - p[0];
    return m * m + 2 * m + p[0];
}
static double cost_roba(const int *p)
{
    (void)p;
    return 52;
}

static const family families[] = {
    {"exact", "the exact product a*b", 0, {NULL, NULL}, {0, 0}, {0, 0}, {0, 0},
     mul_exact, cost_exact},
    {"trunc", "operand truncation: the t low bits of both operands set to 0; t=0..8 (2)",
     1, {"t", NULL}, {0, 0}, {8, 0}, {2, 0}, mul_trunc, cost_trunc},
    {"pptrunc", "partial-product truncation: bits of columns below k dropped; k=0..15 (6)",
     1, {"k", NULL}, {0, 0}, {15, 0}, {6, 0}, mul_pptrunc, cost_pptrunc},
    {"bam", "broken-array multiplier: rows below h and columns below v dropped; "
            "h=0..8 (0), v=0..15 (6)",
     2, {"h", "v"}, {0, 0}, {8, 15}, {0, 6}, mul_bam, cost_bam},
    {"drum", "DRUM: k bits from each operand's leading one, lowest kept bit set; k=1..8 (4)",
     1, {"k", NULL}, {1, 0}, {8, 0}, {4, 0}, mul_drum, cost_drum},
    {"mitchell", "Mitchell's logarithmic multiplier (7-bit fractions, truncated)", 0,
     {NULL, NULL}, {0, 0}, {0, 0}, {0, 0}, mul_mitchell, cost_mitchell},
    {"kulkarni", "Kulkarni's recursive multiplier of 2x2 blocks with 3*3 = 7", 0,
     {NULL, NULL}, {0, 0}, {0, 0}, {0, 0}, mul_kulkarni, cost_kulkarni},
    {"etm", "error-tolerant multiplier: exact on the 8-w high bits, w low bits "
            "approximated (exact when both high parts are 0); w=1..7 (4)",
     1, {"w", NULL}, {1, 0}, {7, 0}, {4, 0}, mul_etm, cost_etm},
    {"roba", "RoBA: operands rounded to the nearest power of two, ar*b + br*a - ar*br", 0,
     {NULL, NULL}, {0, 0}, {0, 0}, {0, 0}, mul_roba, cost_roba},
};

static const char *const builtins[] = {
    "exact", "exact:signed=1",
    "trunc:t=1", "trunc:t=2", "trunc:t=3", "trunc:t=4",
    "pptrunc:k=4", "pptrunc:k=6", "pptrunc:k=8",
    "bam:h=0,v=6", "bam:h=1,v=6", "bam:h=2,v=6", "bam:h=2,v=8",
    "drum:k=3", "drum:k=4", "drum:k=5", "drum:k=6",
    "mitchell", "kulkarni",
    "etm:w=2", "etm:w=3", "etm:w=4",
    "roba",
    "trunc:t=2,signed=1", "drum:k=4,signed=1", "mitchell:signed=1", "roba:signed=1",
};

size_t hwnas_axmul_family_count(void) { return HWNAS_ARRAY_SIZE(families); }

const char *hwnas_axmul_family_name(size_t i)
{
    return i < HWNAS_ARRAY_SIZE(families) ? families[i].name : NULL;
}

const char *hwnas_axmul_family_help(size_t i)
{
    return i < HWNAS_ARRAY_SIZE(families) ? families[i].help : NULL;
}

size_t hwnas_axmul_builtin_count(void) { return HWNAS_ARRAY_SIZE(builtins); }

const char *hwnas_axmul_builtin_name(size_t i)
{
    return i < HWNAS_ARRAY_SIZE(builtins) ? builtins[i] : NULL;
}

static const family *find_family(const char *name, size_t len)
{
    for (size_t i = 0; i < HWNAS_ARRAY_SIZE(families); i++)
        if (strlen(families[i].name) == len && memcmp(families[i].name, name, len) == 0)
            return &families[i];
    return NULL;
}

int hwnas__axmul_is_builtin_name(const char *name)
{
    const char *colon = strchr(name, ':');
    return find_family(name, colon ? (size_t)(colon - name) : strlen(name)) != NULL;
}

static int family_list_error(const char *spec, size_t len)
{
    hwnas__name_list list;
    hwnas__name_list_init(&list, ", ");
    for (size_t i = 0; i < HWNAS_ARRAY_SIZE(families); i++)
        hwnas__name_list_add(&list, families[i].name);
    return hwnas__error(HWNAS_ENOTFOUND, "unknown multiplier family '%.*s' in '%s'; families: %s",
                        (int)(len > 64 ? 64 : len), spec, spec, hwnas__name_list_text(&list));
}

static int keys_error(const family *f, const char *spec, const char *what, const char *text,
                      size_t len)
{
    hwnas__name_list list;
    hwnas__name_list_init(&list, ", ");
    for (int i = 0; i < f->n_params; i++)
        hwnas__name_list_addf(&list, "%s=%d..%d (default %d)", f->keys[i], f->lo[i], f->hi[i],
                              f->def[i]);
    hwnas__name_list_add(&list, "signed=0..1 (default 0)");
    return hwnas__error(HWNAS_EINVAL, "multiplier '%s': %s '%.*s'; %s takes %s", spec, what,
                        (int)(len > 64 ? 64 : len), text, f->name, hwnas__name_list_text(&list));
}

/* Parse spec into family, parameters and signedness. */
static int parse_spec(const char *spec, const family **fam, int *params, int *is_signed)
{
    size_t flen = strcspn(spec, ":");
    const family *f = find_family(spec, flen);
    if (!f)
        return family_list_error(spec, flen);
    for (int i = 0; i < f->n_params; i++)
        params[i] = f->def[i];
    *is_signed = 0;
    int seen = 0; /* bit i: parameter i given; bit MAX_PARAMS: signed */
    const char *p = spec + flen;
    if (*p == ':')
        p++;
    else if (*p)
        return keys_error(f, spec, "bad text", p, strlen(p));
    while (*p) {
        size_t len = strcspn(p, ",");
        const char *eq = memchr(p, '=', len);
        if (!eq || eq == p)
            return keys_error(f, spec, "expected key=value, not", p, len);
        size_t klen = (size_t)(eq - p);
        int idx = -1;
        for (int i = 0; i < f->n_params; i++)
            if (strlen(f->keys[i]) == klen && memcmp(f->keys[i], p, klen) == 0)
                idx = i;
        if (klen == 6 && memcmp(p, "signed", 6) == 0)
            idx = MAX_PARAMS;
        if (idx < 0)
            return keys_error(f, spec, "unknown key", p, klen);
        if (seen & (1 << idx))
            return keys_error(f, spec, "key given twice:", p, klen);
        seen |= 1 << idx;
        const char *v = eq + 1, *vend = p + len;
        long val = 0;
        int ok = v < vend && vend - v <= 3;
        for (const char *q = v; ok && q < vend; q++) {
            if (*q < '0' || *q > '9')
                ok = 0;
            else
                val = val * 10 + (*q - '0');
        }
        int lo = idx == MAX_PARAMS ? 0 : f->lo[idx], hi = idx == MAX_PARAMS ? 1 : f->hi[idx];
        if (!ok || val < lo || val > hi)
            return hwnas__error(HWNAS_EINVAL, "multiplier '%s': %.*s=%.*s must be an integer in %d..%d",
                                spec, (int)klen, p, (int)(vend - v > 32 ? 32 : vend - v), v, lo,
                                hi);
        if (idx == MAX_PARAMS)
            *is_signed = (int)val;
        else
            params[idx] = (int)val;
        p = vend;
        if (*p == ',') {
            p++;
            if (!*p)
                return keys_error(f, spec, "expected key=value, not", p, 0);
        }
    }
    *fam = f;
    return HWNAS_OK;
}

static void canonical_name(char *out, size_t size, const family *f, const int *params,
                           int is_signed)
{
    size_t n = (size_t)snprintf(out, size, "%s", f->name);
    for (int i = 0; i < f->n_params; i++)
        n += (size_t)snprintf(out + n, size - n, "%c%s=%d", i ? ',' : ':', f->keys[i], params[i]);
    if (is_signed)
        snprintf(out + n, size - n, "%csigned=1", f->n_params ? ',' : ':');
}

int hwnas_axmul_new(hwnas_axmul **out, hwnas_context *ctx, const char *spec)
{
    if (out)
        *out = NULL;
    if (!out || !ctx || !spec)
        return hwnas__error(HWNAS_EINVAL, "hwnas_axmul_new: NULL argument");
    if (strlen(spec) > 256)
        return hwnas__error(HWNAS_EINVAL, "multiplier spec longer than 256 bytes: '%.40s...'",
                            spec);
    const family *f = NULL;
    int params[MAX_PARAMS] = {0, 0}, is_signed = 0;
    int rc = parse_spec(spec, &f, params, &is_signed);
    if (rc != HWNAS_OK)
        return rc;
    char name[HWNAS__AXMUL_NAME_MAX + 1];
    canonical_name(name, sizeof name, f, params, is_signed);
    int32_t *table = hwnas__malloc(ctx, HWNAS_AXMUL_TABLE_SIZE * sizeof *table);
    if (!table)
        return HWNAS_ENOMEM;
    for (int a = 0; a < 256; a++)
        for (int b = 0; b < 256; b++) {
            int32_t v;
            if (is_signed) {
                int sa = (int8_t)(uint8_t)a, sb = (int8_t)(uint8_t)b;
                v = f->mul(abs(sa), abs(sb), params);
                if ((sa < 0) != (sb < 0))
                    v = -v;
            } else {
                v = f->mul(a, b, params);
            }
            table[a * 256 + b] = v;
        }
    /* Every rule keeps products in range; a check costs little. */
    for (size_t i = 0; i < HWNAS_AXMUL_TABLE_SIZE; i++)
        if (table[i] < (is_signed ? -32768 : 0) || table[i] > (is_signed ? 32767 : 65535)) {
            hwnas__free(ctx, table);
            return hwnas__error(HWNAS_EINTERNAL, "multiplier '%s': entry %zu out of range (%ld)",
                                name, i, (long)table[i]);
        }
    rc = hwnas__axmul_create(out, ctx, name, table, is_signed, "builtin");
    hwnas__free(ctx, table);
    if (rc != HWNAS_OK)
        return rc;
    double cost = f->cost(params) / 64.0;
    (*out)->power = cost;
    (*out)->area = cost;
    return HWNAS_OK;
}
