/* The multiplier object: its table, hash, error metrics and metadata. */
#include <math.h>
#include <string.h>

#include "axmul_internal.h"

static const char *const metric_names[HWNAS_AXMUL_METRIC_COUNT] = {
    "mae",     "wce",     "mre",      "wcre",   "ep",       "bias",     "mse",
    "mae_pct", "wce_pct", "mre_pct", "wcre_pct", "ep_pct", "bias_pct", "mse_pct",
};

int hwnas__axmul_name_ok(const char *name)
{
    size_t n = 0;
    for (const char *p = name; *p; p++, n++) {
        char c = *p;
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '_' || c == '.' || c == '+' || c == ':' || c == '=' || c == ',' ||
                 c == '-';
        if (!ok)
            return 0;
    }
    return n >= 1 && n <= HWNAS__AXMUL_NAME_MAX;
}

int hwnas__axmul_source_ok(const char *source)
{
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)source; *p; p++, n++)
        if ((*p < 0x20 && *p != '\t') || *p == 0x7f)
            return 0;
    return n <= HWNAS__AXMUL_SOURCE_MAX;
}

uint64_t hwnas__axmul_hash(const uint16_t *table16, int32_t is_signed)
{
    uint64_t h = 0xcbf29ce484222325u;
    const uint64_t prime = 0x100000001b3u;
    for (size_t i = 0; i < HWNAS_AXMUL_TABLE_SIZE; i++) {
        h = (h ^ (table16[i] & 0xffu)) * prime;
        h = (h ^ (uint64_t)(table16[i] >> 8)) * prime;
    }
    return (h ^ (uint64_t)(is_signed ? 1 : 0)) * prime;
}

/* Neumaier's compensated sum, so that the mean relative error does not
 * depend on rounding in 65,536 additions. */
typedef struct ksum {
    double s, c;
} ksum;

static void ksum_add(ksum *k, double x)
{
    double t = k->s + x;
    if (fabs(k->s) >= fabs(x))
        k->c += (k->s - t) + x;
    else
        k->c += (x - t) + k->s;
    k->s = t;
}

void hwnas__axmul_metrics(double *metrics, const int32_t *table, int32_t is_signed)
{
    int64_t sum_abs = 0, sum_err = 0, max_abs = 0, n_err = 0, n_nonzero = 0;
    uint64_t sum_sq = 0;
    double max_rel = 0;
    ksum rel = {0, 0};
    /* 1/|x| for every possible |operand product| factor would need a table of
     * 2^14..2^16 entries; a division per pair is fast enough (<1 ms). */
    for (int a = 0; a < 256; a++) {
        int va = is_signed ? (int)(int8_t)(uint8_t)a : a;
        const int32_t *row = table + (size_t)a * 256;
        for (int b = 0; b < 256; b++) {
            int vb = is_signed ? (int)(int8_t)(uint8_t)b : b;
            int64_t exact = (int64_t)va * vb;
            int64_t e = (int64_t)row[b] - exact;
            int64_t ae = e < 0 ? -e : e;
            sum_abs += ae;
            sum_err += e;
            sum_sq += (uint64_t)(ae * ae);
            if (ae > max_abs)
                max_abs = ae;
            n_err += e != 0;
            if (exact != 0) {
                n_nonzero++;
                if (ae) {
                    double r = (double)ae / (double)(exact < 0 ? -exact : exact);
                    ksum_add(&rel, r);
                    if (r > max_rel)
                        max_rel = r;
                }
            }
        }
    }
    const double n = HWNAS_AXMUL_TABLE_SIZE, range = 65536.0;
    metrics[HWNAS_AXMUL_MAE] = (double)sum_abs / n;
    metrics[HWNAS_AXMUL_WCE] = (double)max_abs;
    metrics[HWNAS_AXMUL_MRE] = n_nonzero ? (rel.s + rel.c) / (double)n_nonzero : 0.0;
    metrics[HWNAS_AXMUL_WCRE] = max_rel;
    metrics[HWNAS_AXMUL_EP] = (double)n_err / n;
    metrics[HWNAS_AXMUL_BIAS] = (double)sum_err / n;
    metrics[HWNAS_AXMUL_MSE] = (double)sum_sq / n;
    metrics[HWNAS_AXMUL_MAE_PCT] = metrics[HWNAS_AXMUL_MAE] / range * 100.0;
    metrics[HWNAS_AXMUL_WCE_PCT] = metrics[HWNAS_AXMUL_WCE] / range * 100.0;
    metrics[HWNAS_AXMUL_MRE_PCT] = metrics[HWNAS_AXMUL_MRE] * 100.0;
    metrics[HWNAS_AXMUL_WCRE_PCT] = metrics[HWNAS_AXMUL_WCRE] * 100.0;
    metrics[HWNAS_AXMUL_EP_PCT] = metrics[HWNAS_AXMUL_EP] * 100.0;
    metrics[HWNAS_AXMUL_BIAS_PCT] = metrics[HWNAS_AXMUL_BIAS] / range * 100.0;
    metrics[HWNAS_AXMUL_MSE_PCT] = metrics[HWNAS_AXMUL_MSE] / (range * range) * 100.0;
}

int hwnas__axmul_create(hwnas_axmul **out, const hwnas_context *ctx, const char *name,
                        const int32_t *table, int32_t is_signed, const char *source)
{
    *out = NULL;
    hwnas_axmul *m = hwnas__calloc(ctx, 1, sizeof *m);
    if (!m)
        return HWNAS_ENOMEM;
    m->ctx = ctx;
    m->name = hwnas__strdup(ctx, name);
    m->source = hwnas__strdup(ctx, source ? source : "");
    /* One block for the three tables: 256 KiB + 2 x 128 KiB. */
    m->table = hwnas__malloc(ctx, HWNAS_AXMUL_TABLE_SIZE * (sizeof(int32_t) + 2 * sizeof(uint16_t)));
    if (!m->name || !m->source || !m->table) {
        hwnas_axmul_free(m);
        return HWNAS_ENOMEM;
    }
    m->table16 = (uint16_t *)(m->table + HWNAS_AXMUL_TABLE_SIZE);
    m->table16_t = m->table16 + HWNAS_AXMUL_TABLE_SIZE;
    memcpy(m->table, table, HWNAS_AXMUL_TABLE_SIZE * sizeof(int32_t));
    for (size_t a = 0; a < 256; a++)
        for (size_t b = 0; b < 256; b++) {
            uint16_t v = (uint16_t)(table[a * 256 + b] & 0xffff);
            m->table16[a * 256 + b] = v;
            m->table16_t[b * 256 + a] = v;
        }
    m->is_signed = is_signed ? 1 : 0;
    m->hash = hwnas__axmul_hash(m->table16, m->is_signed);
    m->power = NAN;
    m->area = NAN;
    hwnas__axmul_metrics(m->metrics, m->table, m->is_signed);
    *out = m;
    return HWNAS_OK;
}

int hwnas_axmul_new_table(hwnas_axmul **out, hwnas_context *ctx, const char *name,
                          const int32_t *table, int32_t is_signed)
{
    if (out)
        *out = NULL;
    if (!out || !ctx || !name || !table)
        return hwnas__error(HWNAS_EINVAL, "hwnas_axmul_new_table: NULL argument");
    if (is_signed != 0 && is_signed != 1)
        return hwnas__error(HWNAS_EINVAL, "hwnas_axmul_new_table: is_signed must be 0 or 1, not %d",
                            (int)is_signed);
    if (!hwnas__axmul_name_ok(name))
        return hwnas__error(HWNAS_EINVAL,
                            "bad multiplier name '%s': 1 to %d characters of A-Z a-z 0-9 _ . + : = , -",
                            name, HWNAS__AXMUL_NAME_MAX);
    int32_t lo = is_signed ? -32768 : 0, hi = is_signed ? 32767 : 65535;
    for (size_t i = 0; i < HWNAS_AXMUL_TABLE_SIZE; i++)
        if (table[i] < lo || table[i] > hi) {
            int a = (int)(i / 256), b = (int)(i % 256);
            if (is_signed) {
                a = (int8_t)(uint8_t)a;
                b = (int8_t)(uint8_t)b;
            }
            return hwnas__error(HWNAS_EINVAL,
                                "multiplier '%s': entry %zu (a=%d, b=%d) is %ld, outside %ld..%ld "
                                "for a%s multiplier",
                                name, i, a, b, (long)table[i], (long)lo, (long)hi,
                                is_signed ? " signed" : "n unsigned");
        }
    return hwnas__axmul_create(out, ctx, name, table, is_signed, NULL);
}

void hwnas_axmul_free(hwnas_axmul *m)
{
    if (!m)
        return;
    hwnas__free(m->ctx, m->name);
    hwnas__free(m->ctx, m->source);
    hwnas__free(m->ctx, m->table);
    hwnas__free(m->ctx, m);
}

const char *hwnas_axmul_name(const hwnas_axmul *m) { return m->name; }
int32_t hwnas_axmul_is_signed(const hwnas_axmul *m) { return m->is_signed; }
const char *hwnas_axmul_source(const hwnas_axmul *m) { return m->source; }
uint64_t hwnas_axmul_hash(const hwnas_axmul *m) { return m->hash; }
double hwnas_axmul_power(const hwnas_axmul *m) { return m->power; }
double hwnas_axmul_area(const hwnas_axmul *m) { return m->area; }
const int32_t *hwnas_axmul_table(const hwnas_axmul *m) { return m->table; }
const uint16_t *hwnas_axmul_table16(const hwnas_axmul *m) { return m->table16; }
const uint16_t *hwnas_axmul_table16_by_weight(const hwnas_axmul *m) { return m->table16_t; }

double hwnas_axmul_metric(const hwnas_axmul *m, int32_t metric)
{
    if (metric < 0 || metric >= HWNAS_AXMUL_METRIC_COUNT)
        return NAN;
    return m->metrics[metric];
}

const char *hwnas_axmul_metric_name(int32_t metric)
{
    if (metric < 0 || metric >= HWNAS_AXMUL_METRIC_COUNT)
        return NULL;
    return metric_names[metric];
}

int32_t hwnas_axmul_metric_index(const char *name)
{
    if (!name)
        return -1;
    for (int32_t i = 0; i < HWNAS_AXMUL_METRIC_COUNT; i++)
        if (strcmp(metric_names[i], name) == 0)
            return i;
    return -1;
}

int32_t hwnas_axmul_product(const hwnas_axmul *m, int32_t a, int32_t b)
{
    return m->table[((size_t)(a & 255) << 8) | (size_t)(b & 255)];
}

static int cost_ok(double v) { return isnan(v) || (isfinite(v) && v >= 0); }

int hwnas_axmul_set_cost(hwnas_axmul *m, double power, double area)
{
    if (!m)
        return hwnas__error(HWNAS_EINVAL, "hwnas_axmul_set_cost: NULL multiplier");
    if (!cost_ok(power) || !cost_ok(area))
        return hwnas__error(HWNAS_EINVAL,
                            "multiplier '%s': power %g and area %g must be >= 0 and finite, or NaN",
                            m->name, power, area);
    m->power = power;
    m->area = area;
    return HWNAS_OK;
}

int hwnas_axmul_set_name(hwnas_axmul *m, const char *name)
{
    if (!m || !name)
        return hwnas__error(HWNAS_EINVAL, "hwnas_axmul_set_name: NULL argument");
    if (!hwnas__axmul_name_ok(name))
        return hwnas__error(HWNAS_EINVAL,
                            "bad multiplier name '%s': 1 to %d characters of A-Z a-z 0-9 _ . + : = , -",
                            name, HWNAS__AXMUL_NAME_MAX);
    char *copy = hwnas__strdup(m->ctx, name);
    if (!copy)
        return HWNAS_ENOMEM;
    hwnas__free(m->ctx, m->name);
    m->name = copy;
    return HWNAS_OK;
}

int hwnas_axmul_set_source(hwnas_axmul *m, const char *source)
{
    if (!m || !source)
        return hwnas__error(HWNAS_EINVAL, "hwnas_axmul_set_source: NULL argument");
    if (!hwnas__axmul_source_ok(source))
        return hwnas__error(HWNAS_EINVAL,
                            "multiplier '%s': source must be one line of at most %d bytes "
                            "without control characters",
                            m->name, HWNAS__AXMUL_SOURCE_MAX);
    char *copy = hwnas__strdup(m->ctx, source);
    if (!copy)
        return HWNAS_ENOMEM;
    hwnas__free(m->ctx, m->source);
    m->source = copy;
    return HWNAS_OK;
}
