/* The multiplier registry: imported multipliers by name, built-in specs
 * created on first use, and directory imports with EvoApproxLib figures. */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "axmul_internal.h"

typedef struct axvec {
    hwnas_axmul **v; /* owned multipliers */
    size_t n, cap;
} axvec;

struct hwnas_axmul_registry {
    hwnas_context *ctx; /* allocator owner */
    axvec imported;     /* added by the caller or from directories, in order */
    axvec cache;        /* built-ins created by registry_get, by canonical name */
};

static int axvec_push(const hwnas_context *ctx, axvec *a, hwnas_axmul *m)
{
    if (a->n == a->cap) {
        size_t ncap = a->cap ? a->cap * 2 : 8;
        hwnas_axmul **nv = hwnas__realloc(ctx, a->v, ncap * sizeof *nv);
        if (!nv)
            return HWNAS_ENOMEM;
        a->v = nv;
        a->cap = ncap;
    }
    a->v[a->n++] = m;
    return HWNAS_OK;
}

static hwnas_axmul *axvec_find(const axvec *a, const char *name)
{
    for (size_t i = 0; i < a->n; i++)
        if (strcmp(a->v[i]->name, name) == 0)
            return a->v[i];
    return NULL;
}

int hwnas_axmul_registry_new(hwnas_axmul_registry **out, hwnas_context *ctx)
{
    if (out)
        *out = NULL;
    if (!out || !ctx)
        return hwnas__error(HWNAS_EINVAL, "hwnas_axmul_registry_new: NULL argument");
    hwnas_axmul_registry *reg = hwnas__calloc(ctx, 1, sizeof *reg);
    if (!reg)
        return HWNAS_ENOMEM;
    reg->ctx = ctx;
    *out = reg;
    return HWNAS_OK;
}

void hwnas_axmul_registry_free(hwnas_axmul_registry *reg)
{
    if (!reg)
        return;
    for (size_t i = 0; i < reg->imported.n; i++)
        hwnas_axmul_free(reg->imported.v[i]);
    for (size_t i = 0; i < reg->cache.n; i++)
        hwnas_axmul_free(reg->cache.v[i]);
    hwnas__free(reg->ctx, reg->imported.v);
    hwnas__free(reg->ctx, reg->cache.v);
    hwnas__free(reg->ctx, reg);
}

static int check_addable(const hwnas_axmul_registry *reg, const hwnas_axmul *m,
                         const char *where)
{
    if (hwnas__axmul_is_builtin_name(m->name))
        return hwnas__error(HWNAS_EINVAL,
                            "%s%smultiplier name '%s' is reserved for the built-in family; "
                            "import it under another name",
                            where, *where ? ": " : "", m->name);
    if (axvec_find(&reg->imported, m->name))
        return hwnas__error(HWNAS_EINVAL, "%s%sa multiplier named '%s' is already registered",
                            where, *where ? ": " : "", m->name);
    return HWNAS_OK;
}

int hwnas_axmul_registry_add(hwnas_axmul_registry *reg, hwnas_axmul *m)
{
    if (!reg || !m)
        return hwnas__error(HWNAS_EINVAL, "hwnas_axmul_registry_add: NULL argument");
    int rc = check_addable(reg, m, "");
    if (rc != HWNAS_OK)
        return rc;
    return axvec_push(reg->ctx, &reg->imported, m);
}

size_t hwnas_axmul_registry_count(const hwnas_axmul_registry *reg)
{
    return hwnas_axmul_builtin_count() + reg->imported.n;
}

const char *hwnas_axmul_registry_name(const hwnas_axmul_registry *reg, size_t i)
{
    size_t nb = hwnas_axmul_builtin_count();
    if (i < nb)
        return hwnas_axmul_builtin_name(i);
    i -= nb;
    return i < reg->imported.n ? reg->imported.v[i]->name : NULL;
}

int hwnas_axmul_registry_get(const hwnas_axmul **out, hwnas_axmul_registry *reg,
                             const char *name)
{
    if (out)
        *out = NULL;
    if (!out || !reg || !name)
        return hwnas__error(HWNAS_EINVAL, "hwnas_axmul_registry_get: NULL argument");
    hwnas_axmul *m = axvec_find(&reg->imported, name);
    if (!m)
        m = axvec_find(&reg->cache, name);
    if (m) {
        *out = m;
        return HWNAS_OK;
    }
    if (!hwnas__axmul_is_builtin_name(name))
        return hwnas__error(HWNAS_ENOTFOUND,
                            "no multiplier '%s': neither imported nor a built-in family "
                            "(hwnas axmul list shows both)",
                            name);
    int rc = hwnas_axmul_new(&m, reg->ctx, name);
    if (rc != HWNAS_OK)
        return rc;
    hwnas_axmul *same = axvec_find(&reg->cache, m->name); /* another spelling */
    if (same) {
        hwnas_axmul_free(m);
        *out = same;
        return HWNAS_OK;
    }
    rc = axvec_push(reg->ctx, &reg->cache, m);
    if (rc != HWNAS_OK) {
        hwnas_axmul_free(m);
        return rc;
    }
    *out = m;
    return HWNAS_OK;
}

/* ---- directories ----------------------------------------------------- */

static int wanted_file(const char *name)
{
    static const char *const exts[] = {".axmul", ".axmul.gz", ".bin", ".bin.gz"};
    size_t n = strlen(name);
    if (name[0] == '.')
        return 0;
    for (size_t i = 0; i < HWNAS_ARRAY_SIZE(exts); i++) {
        size_t k = strlen(exts[i]);
        if (n > k && strcmp(name + n - k, exts[i]) == 0)
            return 1;
    }
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Split one CSV line (no quoting: EvoApproxLib's params.csv has none) into
 * at most max fields, in place. */
static size_t csv_split(char *line, char **fields, size_t max)
{
    size_t n = 0;
    char *p = line;
    for (;;) {
        if (n < max)
            fields[n] = p;
        n++;
        char *c = strchr(p, ',');
        if (!c)
            break;
        *c = 0;
        p = c + 1;
    }
    return n;
}

static int csv_number(const char *s, double *out)
{
    char *end;
    double d = strtod(s, &end);
    if (end == s || *end || !isfinite(d) || d < 0)
        return 0;
    *out = d;
    return 1;
}

/* Apply power and area of params.csv (EvoApproxLib figures) to the binary
 * tables in loaded, relative to the row whose table is exact. */
static int apply_params(const hwnas_context *ctx, const char *path, hwnas_axmul **loaded,
                        const int *is_bin, size_t n)
{
    uint8_t *data = NULL;
    size_t len = 0;
    int rc = hwnas__file_read(ctx, path, 16u << 20, &data, &len);
    if (rc != HWNAS_OK)
        return rc;
    double *pw = hwnas__malloc(ctx, (2 * n + 1) * sizeof *pw);
    long *row_line = hwnas__malloc(ctx, (n + 1) * sizeof *row_line); /* for messages */
    if (!pw || !row_line) {
        hwnas__free(ctx, pw);
        hwnas__free(ctx, row_line);
        hwnas__free(ctx, data);
        return HWNAS_ENOMEM;
    }
    double *ar = pw + n;
    for (size_t i = 0; i < n; i++)
        pw[i] = ar[i] = NAN;
    char *p = (char *)data;
    long lineno = 0;
    int col_name = -1, col_power = -1, col_area = -1;
    size_t ncols = 0;
    double ref_power = NAN, ref_area = NAN;
    while (p && *p && rc == HWNAS_OK) {
        char *line = p;
        char *nl = strchr(p, '\n');
        p = nl ? nl + 1 : NULL;
        if (nl)
            *nl = 0;
        lineno++;
        size_t l = strlen(line);
        if (l && line[l - 1] == '\r')
            line[--l] = 0;
        if (l == 0)
            continue;
        char *f[64];
        size_t nf = csv_split(line, f, 64);
        if (col_name < 0) {
            ncols = nf;
            for (size_t i = 0; i < nf && i < 64; i++) {
                if (strcmp(f[i], "name") == 0)
                    col_name = (int)i;
                else if (strcmp(f[i], "power_mw") == 0)
                    col_power = (int)i;
                else if (strcmp(f[i], "area_um2") == 0)
                    col_area = (int)i;
            }
            if (col_name < 0 || col_power < 0 || col_area < 0 || nf > 64)
                rc = hwnas__error(HWNAS_EFORMAT,
                                  "%s:1: header needs the columns name, power_mw and area_um2 "
                                  "(at most 64 columns)",
                                  path);
            continue;
        }
        if (nf != ncols) {
            rc = hwnas__error(HWNAS_EFORMAT, "%s:%ld: %zu fields, the header has %zu", path,
                              lineno, nf, ncols);
            break;
        }
        double pv, av;
        if (!csv_number(f[col_power], &pv) || !csv_number(f[col_area], &av)) {
            rc = hwnas__error(HWNAS_EFORMAT,
                              "%s:%ld: power_mw '%.32s' and area_um2 '%.32s' must be numbers >= 0",
                              path, lineno, f[col_power], f[col_area]);
            break;
        }
        for (size_t i = 0; i < n; i++)
            if (is_bin[i] && strcmp(loaded[i]->name, f[col_name]) == 0) {
                pw[i] = pv;
                ar[i] = av;
                row_line[i] = lineno;
                if (!loaded[i]->is_signed && loaded[i]->metrics[HWNAS_AXMUL_EP] == 0) {
                    ref_power = pv;
                    ref_area = av;
                }
            }
    }
    if (rc == HWNAS_OK && col_name < 0)
        rc = hwnas__error(HWNAS_EFORMAT, "%s: empty; expected a header line", path);
    if (rc == HWNAS_OK && ref_power > 0 && ref_area > 0)
        for (size_t i = 0; i < n && rc == HWNAS_OK; i++)
            if (!isnan(pw[i])) {
                /* relative figures must be finite: 1 mW over a reference
                 * of 1e-310 mW is not */
                double rp = pw[i] / ref_power, ra = ar[i] / ref_area;
                if (!isfinite(rp) || !isfinite(ra))
                    rc = hwnas__error(HWNAS_EFORMAT,
                                      "%s:%ld: power_mw %g and area_um2 %g of '%s' relative to "
                                      "the exact multiplier's %g and %g are not finite",
                                      path, row_line[i], pw[i], ar[i], loaded[i]->name,
                                      ref_power, ref_area);
                else
                    loaded[i]->power = rp, loaded[i]->area = ra;
            }
    hwnas__free(ctx, row_line);
    hwnas__free(ctx, pw);
    hwnas__free(ctx, data);
    return rc;
}

int hwnas_axmul_registry_load_dir(hwnas_axmul_registry *reg, const char *dir, size_t *count)
{
    if (count)
        *count = 0;
    if (!reg || !dir)
        return hwnas__error(HWNAS_EINVAL, "hwnas_axmul_registry_load_dir: NULL argument");
    const hwnas_context *ctx = reg->ctx;
    DIR *d = opendir(dir);
    if (!d)
        return hwnas__error(errno == ENOENT ? HWNAS_ENOTFOUND : HWNAS_EIO,
                            "cannot open directory '%s': %s", dir, strerror(errno));
    char **names = NULL;
    size_t n = 0, cap = 0;
    int rc = HWNAS_OK, has_params = 0;
    struct dirent *e;
    while (rc == HWNAS_OK && (e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, "params.csv") == 0)
            has_params = 1;
        if (!wanted_file(e->d_name))
            continue;
        /* A FIFO or device would block or never end: regular files only. */
        char full[4096];
        struct stat st;
        if ((size_t)snprintf(full, sizeof full, "%s/%s", dir, e->d_name) >= sizeof full ||
            stat(full, &st) != 0 || !S_ISREG(st.st_mode))
            continue;
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            char **nn = hwnas__realloc(ctx, names, ncap * sizeof *nn);
            if (!nn) {
                rc = HWNAS_ENOMEM;
                break;
            }
            names = nn;
            cap = ncap;
        }
        if (!(names[n] = hwnas__strdup(ctx, e->d_name)))
            rc = HWNAS_ENOMEM;
        else
            n++;
    }
    closedir(d);
    if (n)
        qsort(names, n, sizeof *names, cmp_str);
    hwnas_axmul **loaded = NULL;
    int *is_bin = NULL;
    size_t plen = strlen(dir) + 1 + 256 + 16;
    char *path = hwnas__malloc(ctx, plen);
    if (rc == HWNAS_OK && n) {
        loaded = hwnas__calloc(ctx, n, sizeof *loaded);
        is_bin = hwnas__calloc(ctx, n, sizeof *is_bin);
        if (!loaded || !is_bin)
            rc = HWNAS_ENOMEM;
    }
    if (!path)
        rc = HWNAS_ENOMEM;
    for (size_t i = 0; i < n && rc == HWNAS_OK; i++) {
        snprintf(path, plen, "%s/%s", dir, names[i]);
        rc = hwnas_axmul_load(&loaded[i], reg->ctx, path, "auto");
        if (rc != HWNAS_OK)
            break;
        size_t l = strlen(names[i]);
        is_bin[i] = (l > 4 && strcmp(names[i] + l - 4, ".bin") == 0) ||
                    (l > 7 && strcmp(names[i] + l - 7, ".bin.gz") == 0);
        rc = check_addable(reg, loaded[i], path);
        for (size_t j = 0; j < i && rc == HWNAS_OK; j++)
            if (strcmp(loaded[j]->name, loaded[i]->name) == 0)
                rc = hwnas__error(HWNAS_EINVAL, "%s: multiplier name '%s' also comes from '%s'",
                                  path, loaded[i]->name, names[j]);
    }
    if (rc == HWNAS_OK && has_params && n) {
        snprintf(path, plen, "%s/params.csv", dir);
        rc = apply_params(ctx, path, loaded, is_bin, n);
    }
    if (rc == HWNAS_OK && n && reg->imported.cap < reg->imported.n + n) {
        hwnas_axmul **nv = hwnas__realloc(ctx, reg->imported.v,
                                          (reg->imported.n + n) * sizeof *nv);
        if (!nv)
            rc = HWNAS_ENOMEM;
        else {
            reg->imported.v = nv;
            reg->imported.cap = reg->imported.n + n;
        }
    }
    if (rc == HWNAS_OK) {
        for (size_t i = 0; i < n; i++)
            reg->imported.v[reg->imported.n++] = loaded[i];
        if (count)
            *count = n;
    } else {
        for (size_t i = 0; i < n && loaded; i++)
            hwnas_axmul_free(loaded[i]);
    }
    for (size_t i = 0; i < n; i++)
        hwnas__free(ctx, names[i]);
    hwnas__free(ctx, names);
    hwnas__free(ctx, loaded);
    hwnas__free(ctx, is_bin);
    hwnas__free(ctx, path);
    return rc;
}
