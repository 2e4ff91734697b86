/* The dsearch checkpoint (doc/dsearch.md): little-endian, gzip on disk.
 *   magic "HWNASDS\n", u32 version 1,
 *   u64 length + the options text the run must match,
 *   u64 step, u64 total, u32 coefficients (30), f64 alpha, Adam m, Adam v,
 *   u64 parameters, u32 x parameters: the weights' momentum (float bits),
 *   u64 rows, f64 x rows x (30 + 5): the trajectory,
 *   f64 x 4 sums, u64 seen: the epoch under way,
 *   u64 length + a supernet file's bytes (the weights, doc/formats/supernet.md). */
#include <math.h>
#include <string.h>

#include "dsearch_internal.h"

static const char MAGIC[8] = {'H', 'W', 'N', 'A', 'S', 'D', 'S', '\n'};
#define VERSION 1
#define MAX_ROWS 10000000

int hwnas__ds_to_bytes(uint8_t **out, size_t *len, const hwnas__ds_run *r, const char *text)
{
    *out = NULL;
    *len = 0;
    uint8_t *sb = NULL;
    size_t slen = 0;
    int rc = hwnas__sn_to_bytes(&sb, &slen, r->sn);
    if (rc != HWNAS_OK)
        return rc;
    hwnas__writer w = {r->ctx, NULL, 0, 0, 0};
    hwnas__writer_put(&w, MAGIC, 8);
    hwnas__writer_u32(&w, VERSION);
    size_t tl = strlen(text);
    hwnas__writer_u64(&w, tl);
    hwnas__writer_put(&w, text, tl);
    hwnas__writer_u64(&w, r->step);
    hwnas__writer_u64(&w, r->total);
    hwnas__writer_u32(&w, HWNAS__DS_COEF);
    for (size_t k = 0; k < HWNAS__DS_COEF; k++)
        hwnas__writer_f64(&w, r->alpha[k]);
    for (size_t k = 0; k < HWNAS__DS_COEF; k++)
        hwnas__writer_f64(&w, r->am[k]);
    for (size_t k = 0; k < HWNAS__DS_COEF; k++)
        hwnas__writer_f64(&w, r->av[k]);
    hwnas__writer_u64(&w, r->n_params);
    for (size_t k = 0; k < r->n_params; k++) {
        uint32_t u;
        memcpy(&u, &r->velocity[k], 4);
        hwnas__writer_u32(&w, u);
    }
    hwnas__writer_u64(&w, r->n_traj);
    for (size_t k = 0; k < r->n_traj * HWNAS__DS_ROW; k++)
        hwnas__writer_f64(&w, r->traj[k]);
    for (size_t k = 0; k < 4; k++)
        hwnas__writer_f64(&w, r->sums[k]);
    hwnas__writer_u64(&w, r->seen);
    hwnas__writer_u64(&w, slen);
    hwnas__writer_put(&w, sb, slen);
    hwnas__free(r->ctx, sb);
    if (w.failed) {
        hwnas__free(r->ctx, w.data);
        return HWNAS_ENOMEM;
    }
    *out = w.data;
    *len = w.len;
    return HWNAS_OK;
}

static int bad(const char *name, const char *what)
{
    return hwnas__error(HWNAS_EFORMAT, "%s: not a valid dsearch checkpoint (%s)", name, what);
}

int hwnas__ds_from_bytes(hwnas__ds_run **out, hwnas_context *ctx, const hwnas__ds_config *c,
                         const uint8_t *b, size_t len, const char *expect, const char *name)
{
    *out = NULL;
    hwnas__reader rd = {b, len, 0, 0};
    const uint8_t *m = hwnas__reader_take(&rd, 8);
    if (!m || memcmp(m, MAGIC, 8) != 0)
        return bad(name, "bad magic");
    uint32_t version = hwnas__reader_u32(&rd);
    if (rd.failed)
        return bad(name, "truncated header");
    if (version != VERSION)
        return hwnas__error(HWNAS_EVERSION, "%s: dsearch checkpoint version %u; this library "
                            "reads version %d", name, version, VERSION);
    size_t tl = hwnas__reader_count(&rd, 1);
    const uint8_t *text = hwnas__reader_take(&rd, tl);
    if (!text)
        return bad(name, "truncated options");
    if (expect && (strlen(expect) != tl || memcmp(expect, text, tl) != 0))
        return hwnas__error(HWNAS_EFORMAT, "%s: written by a search with other options (%.*s); "
                            "this one has %s: remove the file or use the same options", name,
                            (int)(tl > 2000 ? 2000 : tl), (const char *)text, expect);
    uint64_t step = hwnas__reader_u64(&rd), total = hwnas__reader_u64(&rd);
    uint32_t n_coef = hwnas__reader_u32(&rd);
    if (rd.failed || n_coef != HWNAS__DS_COEF || step > total)
        return bad(name, "bad step counts or coefficient count");
    double st[3][HWNAS__DS_COEF];
    for (size_t a = 0; a < 3; a++)
        for (size_t k = 0; k < HWNAS__DS_COEF; k++) {
            st[a][k] = hwnas__reader_f64(&rd);
            if (!isfinite(st[a][k]))
                hwnas__reader_fail(&rd);
        }
    size_t n_params = hwnas__reader_count(&rd, 4);
    const uint8_t *vel = hwnas__reader_take(&rd, n_params * 4);
    size_t rows = hwnas__reader_count(&rd, 8 * HWNAS__DS_ROW);
    if (rd.failed || rows > MAX_ROWS)
        return bad(name, "truncated state");
    const uint8_t *traj = hwnas__reader_take(&rd, rows * 8 * HWNAS__DS_ROW);
    double sums[4];
    for (size_t k = 0; k < 4; k++)
        sums[k] = hwnas__reader_f64(&rd);
    uint64_t seen = hwnas__reader_u64(&rd);
    size_t slen = hwnas__reader_count(&rd, 1);
    const uint8_t *sb = hwnas__reader_take(&rd, slen);
    if (rd.failed || !traj || !sb)
        return bad(name, "truncated state");
    if (rd.pos != len)
        return bad(name, "trailing bytes");
    hwnas_supernet *sn = NULL;
    int rc = hwnas__sn_from_bytes(&sn, ctx, sb, slen, name);
    if (rc != HWNAS_OK)
        return rc;
    hwnas__ds_shape shape = {0, 0, 0};
    hwnas__ds_run *r = NULL;
    rc = hwnas__ds_run_new(&r, ctx, c, 0, &shape, sn);
    if (rc != HWNAS_OK)
        return rc;
    if (r->n_params != n_params) {
        hwnas__ds_run_free(r);
        return bad(name, "the momentum does not match the weights");
    }
    r->traj = hwnas__malloc(ctx, (rows ? rows : 1) * HWNAS__DS_ROW * sizeof *r->traj);
    if (!r->traj) {
        hwnas__ds_run_free(r);
        return HWNAS_ENOMEM;
    }
    hwnas__reader tr = {traj, rows * 8 * HWNAS__DS_ROW, 0, 0};
    for (size_t k = 0; k < rows * HWNAS__DS_ROW; k++)
        r->traj[k] = hwnas__reader_f64(&tr);
    if (tr.failed) {
        hwnas__ds_run_free(r);
        return bad(name, "a NaN in the trajectory");
    }
    r->n_traj = rows;
    for (size_t k = 0; k < n_params; k++)
        memcpy(&r->velocity[k], vel + 4 * k, 4); /* little-endian hosts (as the weights file) */
    memcpy(r->alpha, st[0], sizeof r->alpha);
    memcpy(r->am, st[1], sizeof r->am);
    memcpy(r->av, st[2], sizeof r->av);
    memcpy(r->sums, sums, sizeof sums);
    r->seen = seen;
    r->step = step;
    r->total = total;
    *out = r;
    return HWNAS_OK;
}
