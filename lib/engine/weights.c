/* Weights files: save and load a model's parameters and batch-norm running
 * statistics (doc/formats/weights.md). All integers and floats are
 * little-endian; the whole is gzip-compressed on disk. */
#include <math.h>
#include <string.h>

#include "hwnas/net.h"
#include "model_internal.h"

#define MAGIC "HWNASWTS"
#define VERSION 1u
#define HEADER_BYTES 48   /* magic 8, version 4, flags 4, hash 8, tensors 8, params 8, state 8 */
#define ENTRY_BYTES 24    /* node 4, kind 4, params 8, state 8 */
#define MAX_FILE ((size_t)1 << 34)

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get32(const uint8_t *p)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++)
        v |= (uint32_t)p[i] << (8 * i);
    return v;
}

static uint64_t get64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static void put_floats(uint8_t *p, const float *f, size_t n)
{
    for (size_t k = 0; k < n; k++) {
        uint32_t u;
        memcpy(&u, &f[k], 4);
        put32(p + 4 * k, u);
    }
}

static size_t tensor_count(const hwnas__engine *e)
{
    size_t t = 0;
    for (size_t i = 0; i < e->n; i++)
        t += e->nodes[i].n_p || e->nodes[i].n_s;
    return t;
}

int hwnas_model_save_buffer(uint8_t **out, size_t *out_len, const hwnas_model *model)
{
    if (!out || !out_len || !model)
        return hwnas__error(HWNAS_EINVAL, "hwnas_model_save_buffer: NULL argument");
    *out = NULL;
    *out_len = 0;
    const hwnas__engine *e = model->eng;
    size_t nt = tensor_count(e);
    size_t len = HEADER_BYTES + nt * ENTRY_BYTES + 4 * (e->n_params + e->n_state) + 8;
    uint8_t *b = hwnas__buffer_alloc(model->ctx, len);
    if (!b)
        return HWNAS_ENOMEM;
    memcpy(b, MAGIC, 8);
    put32(b + 8, VERSION);
    put32(b + 12, 0);
    put64(b + 16, hwnas_net_hash(model->net));
    put64(b + 24, nt);
    put64(b + 32, e->n_params);
    put64(b + 40, e->n_state);
    uint8_t *p = b + HEADER_BYTES;
    for (size_t i = 0; i < e->n; i++) {
        const hwnas__eng_node *nd = &e->nodes[i];
        if (!nd->n_p && !nd->n_s)
            continue;
        put32(p, (uint32_t)i);
        put32(p + 4, (uint32_t)nd->kind);
        put64(p + 8, nd->n_p);
        put64(p + 16, nd->n_s);
        p += ENTRY_BYTES;
    }
    put_floats(p, e->params, e->n_params);
    p += 4 * e->n_params;
    put_floats(p, e->state, e->n_state);
    p += 4 * e->n_state;
    put64(p, hwnas__hash_bytes(b, (size_t)(p - b)));
    *out = b;
    *out_len = len;
    return HWNAS_OK;
}

int hwnas_model_load_buffer(hwnas_model *model, const void *data, size_t len, const char *name)
{
    if (!model || (!data && len))
        return hwnas__error(HWNAS_EINVAL, "hwnas_model_load_buffer: NULL argument");
    if (!name)
        name = "<memory>";
    const uint8_t *b = data;
    hwnas__engine *e = model->eng;
    if (len < 8 || memcmp(b, MAGIC, 8) != 0)
        return hwnas__error(HWNAS_EFORMAT, "%s: not a libhwnas weights file (bad magic)", name);
    if (len < HEADER_BYTES + 8)
        return hwnas__error(HWNAS_EFORMAT, "%s: truncated: %zu bytes, the header alone needs "
                            "%d", name, len, HEADER_BYTES + 8);
    uint32_t version = get32(b + 8);
    if (version != VERSION)
        return hwnas__error(HWNAS_EVERSION, "%s: weights format version %u; this library "
                            "reads version %u", name, version, VERSION);
    if (get32(b + 12) != 0)
        return hwnas__error(HWNAS_EFORMAT, "%s: unknown flags 0x%x", name, get32(b + 12));
    uint64_t nt = get64(b + 24), np = get64(b + 32), ns = get64(b + 40);
    if (nt > len / ENTRY_BYTES || np > len / 4 || ns > len / 4 ||
        HEADER_BYTES + nt * ENTRY_BYTES + 4 * (np + ns) + 8 != len)
        return hwnas__error(HWNAS_EFORMAT, "%s: %zu bytes do not match the header (%llu "
                            "tensors, %llu parameters, %llu statistics): truncated or "
                            "corrupted", name, len, (unsigned long long)nt,
                            (unsigned long long)np, (unsigned long long)ns);
    if (get64(b + len - 8) != hwnas__hash_bytes(b, len - 8))
        return hwnas__error(HWNAS_EFORMAT, "%s: checksum mismatch: the file is corrupted",
                            name);
    if (get64(b + 16) != hwnas_net_hash(model->net) || nt != tensor_count(e) ||
        np != e->n_params || ns != e->n_state)
        return hwnas__error(HWNAS_EFORMAT, "%s: the weights were saved from another net (%llu "
                            "parameters in %llu tensors; this model has %zu in %zu)", name,
                            (unsigned long long)np, (unsigned long long)nt, e->n_params,
                            tensor_count(e));
    const uint8_t *p = b + HEADER_BYTES;
    for (size_t i = 0; i < e->n; i++) {
        const hwnas__eng_node *nd = &e->nodes[i];
        if (!nd->n_p && !nd->n_s)
            continue;
        if (get32(p) != i || get32(p + 4) != (uint32_t)nd->kind || get64(p + 8) != nd->n_p ||
            get64(p + 16) != nd->n_s)
            return hwnas__error(HWNAS_EFORMAT, "%s: tensor entry of node '%s' does not match "
                                "the net", name, nd->name);
        p += ENTRY_BYTES;
    }
    const uint8_t *vals = p;
    for (size_t k = 0; k < np + ns; k++) {
        uint32_t u = get32(vals + 4 * k);
        float f;
        memcpy(&f, &u, 4);
        if (!isfinite(f))
            return hwnas__error(HWNAS_EFORMAT, "%s: value %zu is not finite", name, k);
    }
    /* batch-norm running variances (the second half of its state) */
    for (size_t i = 0; i < e->n; i++) {
        const hwnas__eng_node *nd = &e->nodes[i];
        if (nd->kind != HWNAS_NET_BATCHNORM || !nd->n_s)
            continue;
        for (size_t c = nd->n_s / 2; c < nd->n_s; c++) {
            uint32_t u = get32(vals + 4 * (np + nd->s_off + c));
            float f;
            memcpy(&f, &u, 4);
            if (f < 0)
                return hwnas__error(HWNAS_EFORMAT,
                                    "%s: batch-norm '%s': running variance of channel %zu is "
                                    "negative (%g)",
                                    name, nd->name, c - nd->n_s / 2, (double)f);
        }
    }
    for (size_t k = 0; k < np; k++) {
        uint32_t u = get32(vals + 4 * k);
        memcpy(&e->params[k], &u, 4);
    }
    for (size_t k = 0; k < ns; k++) {
        uint32_t u = get32(vals + 4 * (np + k));
        memcpy(&e->state[k], &u, 4);
    }
    return HWNAS_OK;
}

int hwnas_model_save(const hwnas_model *model, const char *path)
{
    if (!model || !path)
        return hwnas__error(HWNAS_EINVAL, "hwnas_model_save: model and path are required");
    uint8_t *buf;
    size_t len;
    int rc = hwnas_model_save_buffer(&buf, &len, model);
    if (rc != HWNAS_OK)
        return rc;
    rc = hwnas__file_write_atomic(model->ctx, path, buf, len, 1);
    hwnas_free(buf);
    return rc;
}

int hwnas_model_load(hwnas_model *model, const char *path)
{
    if (!model || !path)
        return hwnas__error(HWNAS_EINVAL, "hwnas_model_load: model and path are required");
    uint8_t *buf;
    size_t len;
    int rc = hwnas__file_read(model->ctx, path, MAX_FILE, &buf, &len);
    if (rc != HWNAS_OK)
        return rc;
    rc = hwnas_model_load_buffer(model, buf, len, path);
    hwnas__free(model->ctx, buf);
    return rc;
}
