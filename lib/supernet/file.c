/* Supernet files (doc/formats/supernet.md): the construction options, the
 * input normalisation, the training state and the shared weights as an
 * embedded weights file (doc/formats/weights.md). Little-endian, gzip on
 * disk, a checksum at the end, written atomically. */
#include <math.h>
#include <string.h>

#include "engine/model_internal.h"
#include "supernet_internal.h"

#define MAGIC "HWNASSNT"
/* 2: the macro space, and the sandwich and distill options (version 1
 * files, cell supernets trained with SPOS, still read) */
#define VERSION 2u
#define SPACE_CELL 1u
#define SPACE_MACRO 2u
#define SPACE_CGP 3u /* in version 2 files: older readers refuse the space by name */
#define MAX_FILE ((size_t)1 << 34)

int hwnas__sn_to_bytes(uint8_t **out, size_t *len, const hwnas_supernet *sn)
{
    *out = NULL;
    *len = 0;
    uint8_t *wb = NULL;
    size_t wlen = 0;
    int rc = hwnas_model_save_buffer(&wb, &wlen, sn->full);
    if (rc != HWNAS_OK)
        return rc;
    hwnas__writer w = {sn->ctx, NULL, 0, 0, 0};
    hwnas__writer_put(&w, MAGIC, 8);
    hwnas__writer_u32(&w, VERSION);
    hwnas__writer_u32(&w, 0);
    if (sn->space == HWNAS__SN_MACRO || sn->space == HWNAS__SN_CGP) {
        /* the canonical options text, seed included */
        size_t tl = strlen(sn->options_text);
        hwnas__writer_u32(&w, sn->space == HWNAS__SN_CGP ? SPACE_CGP : SPACE_MACRO);
        hwnas__writer_u64(&w, tl);
        hwnas__writer_put(&w, sn->options_text, tl);
    } else {
        hwnas__writer_u32(&w, SPACE_CELL);
        const hwnas__sn_cell *c = &sn->cfg;
        hwnas__writer_u64(&w, (uint64_t)c->channels);
        hwnas__writer_u64(&w, (uint64_t)c->cells);
        hwnas__writer_u64(&w, (uint64_t)c->classes);
        hwnas__writer_u64(&w, (uint64_t)c->in_channels);
        hwnas__writer_u64(&w, (uint64_t)c->in_size);
        hwnas__writer_u64(&w, sn->seed);
    }
    hwnas__writer_u32(&w, (uint32_t)sn->n_norm);
    for (size_t k = 0; k < sn->n_norm; k++) {
        hwnas__writer_f64(&w, sn->mean[k]);
        hwnas__writer_f64(&w, sn->std[k]);
    }
    hwnas__writer_u32(&w, (uint32_t)sn->trained);
    if (sn->trained) {
        const hwnas__sn_recipe *r = &sn->recipe;
        hwnas__writer_u64(&w, (uint64_t)r->epochs);
        hwnas__writer_u64(&w, (uint64_t)r->batch);
        hwnas__writer_u64(&w, (uint64_t)r->nesterov);
        hwnas__writer_u64(&w, (uint64_t)r->seed);
        hwnas__writer_u64(&w, (uint64_t)r->checkpoint_every);
        hwnas__writer_u64(&w, (uint64_t)r->sandwich);
        hwnas__writer_u64(&w, (uint64_t)r->distill);
        hwnas__writer_f64(&w, r->lr);
        hwnas__writer_f64(&w, r->momentum);
        hwnas__writer_f64(&w, r->weight_decay);
        hwnas__writer_u64(&w, sn->n_samples);
        hwnas__writer_u64(&w, sn->step);
        hwnas__writer_u64(&w, sn->total);
    }
    hwnas__writer_u64(&w, wlen);
    hwnas__writer_put(&w, wb, wlen);
    hwnas_free(wb);
    if (sn->trained) {
        size_t np = sn->full->eng->n_params;
        hwnas__writer_u64(&w, np);
        for (size_t k = 0; k < np; k++) {
            uint32_t u;
            memcpy(&u, &sn->velocity[k], 4);
            hwnas__writer_u32(&w, u);
        }
    }
    if (!w.failed)
        hwnas__writer_u64(&w, hwnas__hash_bytes(w.data, w.len));
    if (w.failed) {
        hwnas__free(sn->ctx, w.data);
        return HWNAS_ENOMEM;
    }
    *out = w.data;
    *len = w.len;
    return HWNAS_OK;
}

static int bad(const char *name, const char *what)
{
    return hwnas__error(HWNAS_EFORMAT, "%s: %s", name, what);
}

/* A stored integer option within its table's range. */
static int in_range(int64_t *out, uint64_t v, int64_t lo, int64_t hi, const char *name,
                    const char *key)
{
    if (v > (uint64_t)hi || (int64_t)v < lo)
        return hwnas__error(HWNAS_EFORMAT, "%s: %s = %llu is out of range [%lld, %lld]", name,
                            key, (unsigned long long)v, (long long)lo, (long long)hi);
    *out = (int64_t)v;
    return HWNAS_OK;
}

int hwnas__sn_from_bytes(hwnas_supernet **out, hwnas_context *ctx, const uint8_t *b,
                         size_t len, const char *name)
{
    *out = NULL;
    hwnas__reader r;
    int rc = hwnas__reader_framed(&r, b, len, MAGIC, 28, "supernet file", name);
    if (rc != HWNAS_OK)
        return rc;
    uint32_t version = hwnas__reader_u32(&r);
    if (version != 1 && version != VERSION)
        return hwnas__error(HWNAS_EVERSION, "%s: supernet format version %u; this library "
                            "reads versions 1 to %u", name, version, VERSION);
    if (hwnas__reader_u32(&r) != 0)
        return bad(name, "unknown flags");
    uint32_t space = hwnas__reader_u32(&r);
    if (space != SPACE_CELL && ((space != SPACE_MACRO && space != SPACE_CGP) || version < 2))
        return bad(name, "unknown space (this library has supernets of: cell, macro, cgp)");
    hwnas__sn_cell c;
    hwnas__sn_macro mc;
    hwnas__sn_cgp cc;
    int64_t seed = 0;
    size_t in_channels;
    if (space == SPACE_MACRO || space == SPACE_CGP) {
        const char *what = space == SPACE_CGP ? "cgp" : "macro";
        uint64_t tl = hwnas__reader_count(&r, 1);
        const uint8_t *tb = hwnas__reader_take(&r, tl);
        char text[4096];
        if (r.failed || tl >= sizeof text || memchr(tb, 0, tl))
            return hwnas__error(HWNAS_EFORMAT, "%s: truncated, overlong or binary %s options",
                                name, what);
        memcpy(text, tb, tl);
        text[tl] = '\0';
        uint64_t s64 = 0;
        rc = space == SPACE_CGP ? hwnas__sn_cgp_config(&cc, &s64, ctx, text)
                                : hwnas__sn_macro_config(&mc, &s64, ctx, text);
        if (rc == HWNAS_ENOMEM)
            return rc;
        if (rc != HWNAS_OK)
            return hwnas__error(HWNAS_EFORMAT, "%s: bad %s options: %s", name, what,
                                hwnas_error_last());
        /* only the canonical text: a file that reads writes back the same */
        char canon[4096];
        if (space == SPACE_CGP)
            hwnas__sn_cgp_text(canon, sizeof canon, &cc, s64);
        else
            hwnas__sn_macro_text(canon, sizeof canon, &mc, s64);
        if (strcmp(canon, text) != 0)
            return hwnas__error(HWNAS_EFORMAT, "%s: %s options \"%.200s\" are not in "
                                "canonical form (\"%.200s\")", name, what, text, canon);
        seed = (int64_t)s64;
        in_channels = (size_t)(space == SPACE_CGP ? cc.in_channels : mc.in_channels);
    } else {
        uint64_t v[6];
        for (int k = 0; k < 6; k++)
            v[k] = hwnas__reader_u64(&r);
        rc = in_range(&c.channels, v[0], 1, 4096, name, "channels");
        if (rc == HWNAS_OK)
            rc = in_range(&c.cells, v[1], 1, 64, name, "cells");
        if (rc == HWNAS_OK)
            rc = in_range(&c.classes, v[2], 1, 100000, name, "classes");
        if (rc == HWNAS_OK)
            rc = in_range(&c.in_channels, v[3], 1, HWNAS__SN_MAX_CHANNELS, name,
                          "input_channels");
        if (rc == HWNAS_OK)
            rc = in_range(&c.in_size, v[4], 4, 4096, name, "input_size");
        if (rc == HWNAS_OK)
            rc = in_range(&seed, v[5], 0, INT64_C(9007199254740991), name, "seed");
        if (rc != HWNAS_OK)
            return rc;
        in_channels = (size_t)c.in_channels;
    }
    uint32_t n_norm = hwnas__reader_u32(&r);
    if (n_norm != (uint32_t)in_channels)
        return bad(name, "the normalisation does not have one entry per input channel");
    double mean[HWNAS__SN_MAX_CHANNELS], std[HWNAS__SN_MAX_CHANNELS];
    for (uint32_t k = 0; k < n_norm; k++) {
        mean[k] = hwnas__reader_f64(&r);
        std[k] = hwnas__reader_f64(&r);
        if (!r.failed && (!isfinite(mean[k]) || !isfinite(std[k]) || !(std[k] > 0)))
            return hwnas__error(HWNAS_EFORMAT, "%s: normalisation of channel %u is not finite "
                                "with a positive std", name, k);
    }
    uint32_t trained = hwnas__reader_u32(&r);
    hwnas__sn_recipe rec = {0};
    uint64_t n_samples = 0, step = 0, total = 0;
    if (trained > 1)
        return bad(name, "bad training flag");
    if (trained) {
        uint64_t u[7] = {0, 0, 0, 0, 0, 0, 0};
        for (int k = 0; k < 5; k++)
            u[k] = hwnas__reader_u64(&r);
        for (int k = 5; version >= 2 && k < 7; k++)
            u[k] = hwnas__reader_u64(&r);
        rec.lr = hwnas__reader_f64(&r);
        rec.momentum = hwnas__reader_f64(&r);
        rec.weight_decay = hwnas__reader_f64(&r);
        n_samples = hwnas__reader_u64(&r);
        step = hwnas__reader_u64(&r);
        total = hwnas__reader_u64(&r);
        rc = in_range(&rec.epochs, u[0], 1, 100000, name, "epochs");
        if (rc == HWNAS_OK)
            rc = in_range(&rec.batch, u[1], 1, 65536, name, "batch");
        if (rc == HWNAS_OK)
            rc = in_range(&rec.nesterov, u[2], 0, 1, name, "nesterov");
        if (rc == HWNAS_OK)
            rc = in_range(&rec.seed, u[3], 0, INT64_C(9007199254740991), name, "training seed");
        if (rc == HWNAS_OK)
            rc = in_range(&rec.checkpoint_every, u[4], 1, INT64_C(1000000000000), name,
                          "checkpoint_every");
        if (rc == HWNAS_OK)
            rc = in_range(&rec.sandwich, u[5], 0, space == SPACE_CGP ? 0 : 64, name,
                          "sandwich");
        if (rc == HWNAS_OK)
            rc = in_range(&rec.distill, u[6], 0, rec.sandwich ? 1 : 0, name, "distill");
        if (rc != HWNAS_OK)
            return rc;
        if (!r.failed && (!(rec.lr >= 0 && rec.lr <= 1000) ||
                          !(rec.momentum >= 0 && rec.momentum <= 1) ||
                          !(rec.weight_decay >= 0 && rec.weight_decay <= 1)))
            return bad(name, "learning rate, momentum or weight decay out of range");
        uint64_t bs = (uint64_t)rec.batch < n_samples ? (uint64_t)rec.batch : n_samples;
        if (!r.failed && (n_samples == 0 || step > total ||
                          total != (uint64_t)rec.epochs * ((n_samples + bs - 1) / bs)))
            return bad(name, "inconsistent training progress (samples, steps done and planned)");
    }
    uint64_t wlen = hwnas__reader_count(&r, 1);
    const uint8_t *wb = hwnas__reader_take(&r, wlen);
    if (r.failed)
        return bad(name, "truncated");
    /* The embedded weights' parameter count bounds what the options may
     * allocate before the weights are checked. */
    if (wlen < 48)
        return bad(name, "the embedded weights are truncated");
    uint64_t np = 0;
    for (int k = 0; k < 8; k++)
        np |= (uint64_t)wb[32 + k] << (8 * k);
    hwnas_net *net = NULL;
    hwnas__sn_key *keys = NULL;
    size_t n_keys = 0, cap = 0;
    rc = hwnas_net_new(&net, ctx);
    if (rc == HWNAS_OK && space == SPACE_MACRO)
        rc = hwnas__sn_macro_build(net, &mc, NULL, &keys, &n_keys, &cap);
    else if (rc == HWNAS_OK && space == SPACE_CGP)
        rc = hwnas__sn_cgp_build(net, &cc, NULL, &keys, &n_keys, &cap);
    else if (rc == HWNAS_OK)
        rc = hwnas__sn_cell_build(net, &c, NULL, &keys, &n_keys, &cap);
    uint64_t need = rc == HWNAS_OK ? hwnas_net_params(net) : 0;
    hwnas__free(ctx, keys);
    hwnas_net_free(net);
    if (rc == HWNAS_EINVAL || rc == HWNAS_EFORMAT)
        return hwnas__error(HWNAS_EFORMAT, "%s: its options make no network: %s", name,
                            hwnas_error_last());
    if (rc != HWNAS_OK)
        return rc;
    if (np > wlen / 4 || need > np)
        return hwnas__error(HWNAS_EFORMAT, "%s: the embedded weights hold %llu parameters; its "
                            "options make a supernet of %llu", name, (unsigned long long)np,
                            (unsigned long long)need);
    hwnas_supernet *sn = NULL;
    rc = space == SPACE_MACRO ? hwnas__sn_make_macro(&sn, ctx, &mc, (uint64_t)seed)
         : space == SPACE_CGP ? hwnas__sn_make_cgp(&sn, ctx, &cc, (uint64_t)seed)
                              : hwnas__sn_make(&sn, ctx, &c, (uint64_t)seed);
    if (rc == HWNAS_OK)
        rc = hwnas_model_load_buffer(sn->full, wb, wlen, name);
    size_t np_full = rc == HWNAS_OK ? sn->full->eng->n_params : 0;
    if (rc == HWNAS_OK && trained) {
        uint64_t nv = hwnas__reader_u64(&r);
        const uint8_t *vb = r.failed || nv != np_full ? NULL : hwnas__reader_take(&r, 4 * nv);
        if (!vb)
            rc = bad(name, "the momentum does not match the weights (truncated or corrupted)");
        else if (!(sn->velocity = hwnas__calloc(ctx, np_full ? np_full : 1, sizeof(float))))
            rc = HWNAS_ENOMEM;
        for (size_t k = 0; rc == HWNAS_OK && k < np_full; k++) {
            uint32_t u = (uint32_t)vb[4 * k] | (uint32_t)vb[4 * k + 1] << 8 |
                         (uint32_t)vb[4 * k + 2] << 16 | (uint32_t)vb[4 * k + 3] << 24;
            memcpy(&sn->velocity[k], &u, 4);
            if (!isfinite(sn->velocity[k]))
                rc = hwnas__error(HWNAS_EFORMAT, "%s: momentum %zu is not finite", name, k);
        }
    }
    if (rc == HWNAS_OK && r.pos != r.len)
        rc = bad(name, "unexpected bytes after the end");
    if (rc != HWNAS_OK) {
        hwnas_supernet_free(sn);
        return rc;
    }
    for (uint32_t k = 0; k < n_norm; k++)
        sn->mean[k] = mean[k], sn->std[k] = std[k];
    sn->trained = (int)trained;
    sn->recipe = rec;
    sn->n_samples = n_samples;
    sn->step = step;
    sn->total = total;
    *out = sn;
    return HWNAS_OK;
}

int hwnas_supernet_save(const hwnas_supernet *sn, const char *path)
{
    if (!sn || !path)
        return hwnas__error(HWNAS_EINVAL, "hwnas_supernet_save: sn and path are required");
    uint8_t *b;
    size_t len;
    int rc = hwnas__sn_to_bytes(&b, &len, sn);
    if (rc == HWNAS_OK)
        rc = hwnas__file_write_atomic(sn->ctx, path, b, len, 1);
    hwnas__free(sn->ctx, b);
    return rc;
}

int hwnas_supernet_load(hwnas_supernet **out, hwnas_context *ctx, const char *path)
{
    if (!out)
        return hwnas__error(HWNAS_EINVAL, "hwnas_supernet_load: out is NULL");
    *out = NULL;
    if (!ctx || !path)
        return hwnas__error(HWNAS_EINVAL, "hwnas_supernet_load: ctx and path are required");
    uint8_t *b;
    size_t len;
    int rc = hwnas__file_read(ctx, path, MAX_FILE, &b, &len);
    if (rc != HWNAS_OK)
        return rc;
    rc = hwnas__sn_from_bytes(out, ctx, b, len, path);
    hwnas__free(ctx, b);
    return rc;
}
