/* hwnas_supernet: construction, path extraction, batch-norm recalibration
 * and rating. Training is in train.c, the file in file.c. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/model_internal.h"
#include "hwnas/data.h"
#include "supernet_internal.h"

enum { OPT_CHANNELS, OPT_CELLS, OPT_CLASSES, OPT_IN_CHANNELS, OPT_IN_SIZE, OPT_SEED };

static const hwnas__option_spec cell_options[] = {
    [OPT_CHANNELS] = {"channels", HWNAS_OPTION_INT, "16", 1, 4096, NULL,
                      "channels of the first stage (as space:cell)"},
    [OPT_CELLS] = {"cells", HWNAS_OPTION_INT, "5", 1, 64, NULL, "cells per stage (as space:cell)"},
    [OPT_CLASSES] = {"classes", HWNAS_OPTION_INT, "10", 1, 100000, NULL,
                     "outputs of the classifier"},
    [OPT_IN_CHANNELS] = {"input_channels", HWNAS_OPTION_INT, "3", 1, HWNAS__SN_MAX_CHANNELS,
                         NULL, "channels of the input image"},
    [OPT_IN_SIZE] = {"input_size", HWNAS_OPTION_INT, "32", 4, 4096, NULL,
                     "height and width of the input image"},
    [OPT_SEED] = {"seed", HWNAS_OPTION_INT, "1", 0, 9007199254740991.0, NULL,
                  "seed of the shared weights' initialisation"},
};

const hwnas__kind hwnas__supernet_cell_kind = {
    "supernet:nb201", cell_options, HWNAS_ARRAY_SIZE(cell_options), NULL,
};

static int cmp_key(const void *a, const void *b)
{
    uint32_t x = ((const hwnas__sn_key *)a)->key, y = ((const hwnas__sn_key *)b)->key;
    return x < y ? -1 : x > y;
}

int hwnas__sn_build(const hwnas_supernet *sn, hwnas_net *net, const uint32_t *choices,
                    hwnas__sn_key **keys, size_t *n_keys, size_t *cap)
{
    if (sn->space == HWNAS__SN_CGP)
        return hwnas__sn_cgp_build(net, &sn->ccfg, choices, keys, n_keys, cap);
    return sn->space == HWNAS__SN_MACRO
               ? hwnas__sn_macro_build(net, &sn->mcfg, choices, keys, n_keys, cap)
               : hwnas__sn_cell_build(net, &sn->cfg, choices, keys, n_keys, cap);
}

/* A supernet of a space with nothing built yet (NULL: out of memory). */
static hwnas_supernet *sn_alloc(hwnas_context *ctx, int space, uint64_t seed)
{
    hwnas_supernet *sn = hwnas__calloc(ctx, 1, sizeof *sn);
    if (sn)
        sn->ctx = ctx, sn->space = space, sn->seed = seed;
    return sn;
}

/* The rest of a supernet whose space, configuration, choices and options
 * text are set: the full net, its model and the sorted keys. */
static int build_full(hwnas_supernet *sn, size_t in_channels, const char *text)
{
    sn->n_norm = in_channels;
    for (size_t c = 0; c < sn->n_norm; c++)
        sn->mean[c] = 0, sn->std[c] = 1;
    sn->options_text = hwnas__strdup(sn->ctx, text);
    size_t cap = 0;
    int rc = sn->options_text ? hwnas_net_new(&sn->full_net, sn->ctx) : HWNAS_ENOMEM;
    if (rc == HWNAS_OK)
        rc = hwnas__sn_build(sn, sn->full_net, NULL, &sn->keys, &sn->n_keys, &cap);
    if (rc == HWNAS_OK)
        rc = hwnas_model_new(&sn->full, sn->ctx, sn->full_net, sn->seed);
    if (rc == HWNAS_OK && sn->full->eng->n_params >= UINT32_MAX)
        rc = hwnas__error(HWNAS_EINVAL, "supernet: %zu shared parameters; at most %u",
                          sn->full->eng->n_params, UINT32_MAX - 1);
    if (rc == HWNAS_OK)
        qsort(sn->keys, sn->n_keys, sizeof *sn->keys, cmp_key);
    return rc;
}

/* build_full, then hand sn to *out, or free it on failure. */
static int finish_make(hwnas_supernet **out, hwnas_supernet *sn, size_t in_channels,
                       const char *text)
{
    int rc = build_full(sn, in_channels, text);
    if (rc != HWNAS_OK) {
        hwnas_supernet_free(sn);
        return rc;
    }
    *out = sn;
    return HWNAS_OK;
}

int hwnas__sn_make(hwnas_supernet **out, hwnas_context *ctx, const hwnas__sn_cell *cfg,
                   uint64_t seed)
{
    *out = NULL;
    hwnas_supernet *sn = sn_alloc(ctx, HWNAS__SN_CELL, seed);
    if (!sn)
        return HWNAS_ENOMEM;
    sn->cfg = *cfg;
    sn->n_choices = HWNAS__SN_EDGES;
    for (size_t e = 0; e < HWNAS__SN_EDGES; e++)
        sn->card[e] = HWNAS__SN_OPS;
    char text[256];
    snprintf(text, sizeof text,
             "channels=%lld;cells=%lld;classes=%lld;input_channels=%lld;input_size=%lld;"
             "seed=%llu",
             (long long)cfg->channels, (long long)cfg->cells, (long long)cfg->classes,
             (long long)cfg->in_channels, (long long)cfg->in_size, (unsigned long long)seed);
    return finish_make(out, sn, (size_t)cfg->in_channels, text);
}

int hwnas__sn_make_macro(hwnas_supernet **out, hwnas_context *ctx, const hwnas__sn_macro *mcfg,
                         uint64_t seed)
{
    *out = NULL;
    hwnas_supernet *sn = sn_alloc(ctx, HWNAS__SN_MACRO, seed);
    if (!sn)
        return HWNAS_ENOMEM;
    sn->mcfg = *mcfg;
    sn->n_choices = hwnas__sn_macro_cards(mcfg, sn->card);
    char text[2048];
    hwnas__sn_macro_text(text, sizeof text, mcfg, seed);
    return finish_make(out, sn, (size_t)mcfg->in_channels, text);
}

int hwnas__sn_make_cgp(hwnas_supernet **out, hwnas_context *ctx, const hwnas__sn_cgp *ccfg,
                       uint64_t seed)
{
    *out = NULL;
    hwnas_supernet *sn = sn_alloc(ctx, HWNAS__SN_CGP, seed);
    if (!sn)
        return HWNAS_ENOMEM;
    sn->ccfg = *ccfg;
    sn->n_choices = hwnas__sn_cgp_cards(ccfg, sn->card);
    char text[512];
    hwnas__sn_cgp_text(text, sizeof text, ccfg, seed);
    return finish_make(out, sn, (size_t)ccfg->in_channels, text);
}

int hwnas_supernet_new(hwnas_supernet **out, hwnas_context *ctx, const char *space,
                       const char *options)
{
    if (!out)
        return hwnas__error(HWNAS_EINVAL, "hwnas_supernet_new: out is NULL");
    *out = NULL;
    if (!ctx || !space)
        return hwnas__error(HWNAS_EINVAL, "hwnas_supernet_new: ctx and space are required");
    if (strcmp(space, "macro") == 0 || strcmp(space, "space:macro") == 0) {
        hwnas__sn_macro m;
        uint64_t seed;
        int rc = hwnas__sn_macro_config(&m, &seed, ctx, options);
        return rc == HWNAS_OK ? hwnas__sn_make_macro(out, ctx, &m, seed) : rc;
    }
    if (strcmp(space, "cgp") == 0 || strcmp(space, "space:cgp") == 0) {
        hwnas__sn_cgp c;
        uint64_t seed;
        int rc = hwnas__sn_cgp_config(&c, &seed, ctx, options);
        return rc == HWNAS_OK ? hwnas__sn_make_cgp(out, ctx, &c, seed) : rc;
    }
    if (strcmp(space, "cell") != 0 && strcmp(space, "space:cell") != 0)
        return hwnas__error(HWNAS_ENOTFOUND, "hwnas_supernet_new: no supernet for space '%s' "
                            "(known: cell, macro, cgp)", space);
    hwnas_options *o = NULL;
    int rc = hwnas__options_new_kind(&o, ctx, &hwnas__supernet_cell_kind, options);
    if (rc != HWNAS_OK)
        return rc;
    hwnas__sn_cell cfg = {
        hwnas__options_int(o, OPT_CHANNELS), hwnas__options_int(o, OPT_CELLS),
        hwnas__options_int(o, OPT_CLASSES), hwnas__options_int(o, OPT_IN_CHANNELS),
        hwnas__options_int(o, OPT_IN_SIZE),
    };
    uint64_t seed = (uint64_t)hwnas__options_int(o, OPT_SEED);
    hwnas_options_free(o);
    return hwnas__sn_make(out, ctx, &cfg, seed);
}

void hwnas_supernet_free(hwnas_supernet *sn)
{
    if (!sn)
        return;
    hwnas_model_free(sn->full);
    hwnas_net_free(sn->full_net);
    hwnas__free(sn->ctx, sn->keys);
    hwnas__free(sn->ctx, sn->velocity);
    hwnas__free(sn->ctx, sn->options_text);
    hwnas__free(sn->ctx, sn);
}

const char *hwnas_supernet_space(const hwnas_supernet *sn)
{
    return !sn                           ? NULL
           : sn->space == HWNAS__SN_MACRO ? "macro"
           : sn->space == HWNAS__SN_CGP   ? "cgp"
                                          : "cell";
}

const char *hwnas_supernet_options(const hwnas_supernet *sn)
{
    return sn ? sn->options_text : NULL;
}

size_t hwnas_supernet_choice_count(const hwnas_supernet *sn)
{
    return sn ? sn->n_choices : 0;
}

uint32_t hwnas_supernet_choice_cardinality(const hwnas_supernet *sn, size_t i)
{
    return sn && i < sn->n_choices ? sn->card[i] : 0;
}

uint64_t hwnas_supernet_steps_done(const hwnas_supernet *sn)
{
    return sn ? sn->step : 0;
}

uint64_t hwnas_supernet_steps_total(const hwnas_supernet *sn)
{
    return sn ? sn->total : 0;
}

size_t hwnas_supernet_param_count(const hwnas_supernet *sn)
{
    return sn ? sn->full->eng->n_params : 0;
}

int hwnas_supernet_normalization(double *out_mean, double *out_std, const hwnas_supernet *sn)
{
    if (!out_mean || !out_std || !sn)
        return hwnas__error(HWNAS_EINVAL, "hwnas_supernet_normalization: NULL argument");
    memcpy(out_mean, sn->mean, sn->n_norm * sizeof *out_mean);
    memcpy(out_std, sn->std, sn->n_norm * sizeof *out_std);
    return HWNAS_OK;
}

int hwnas_supernet_parse_key(uint32_t *out_choices, const hwnas_supernet *sn, const char *key)
{
    if (!out_choices || !sn || !key)
        return hwnas__error(HWNAS_EINVAL, "hwnas_supernet_parse_key: NULL argument");
    if (sn->space == HWNAS__SN_CELL)
        return hwnas__sn_cell_parse(out_choices, key);
    /* space:macro's and space:cgp's genotype text: the genes as
     * comma-separated numbers */
    const char *p = key;
    for (size_t i = 0; i < sn->n_choices; i++) {
        while (*p == ' ')
            p++;
        if (*p < '0' || *p > '9')
            return hwnas__error(HWNAS_EFORMAT, "genotype \"%s\": expected choice %zu at "
                                "position %zu (the space's genes, comma-separated)", key,
                                i, (size_t)(p - key) + 1);
        uint64_t v = 0;
        while (*p >= '0' && *p <= '9' && v <= UINT32_MAX)
            v = v * 10 + (uint64_t)(*p++ - '0');
        if (v >= sn->card[i])
            return hwnas__error(HWNAS_EFORMAT, "genotype \"%s\": choice %zu = %llu is out of "
                                "range [0, %u)", key, i, (unsigned long long)v, sn->card[i]);
        out_choices[i] = (uint32_t)v;
        while (*p == ' ')
            p++;
        if (i + 1 < sn->n_choices && *p++ != ',')
            return hwnas__error(HWNAS_EFORMAT, "genotype \"%s\": expected ',' at position %zu",
                                key, (size_t)(p - key));
    }
    if (*p)
        return hwnas__error(HWNAS_EFORMAT, "genotype \"%s\": unexpected text at position %zu "
                            "(the supernet has %zu choices)", key, (size_t)(p - key) + 1,
                            sn->n_choices);
    return HWNAS_OK;
}

/* The full net's node of key; SIZE_MAX if none (never for a path's key). */
static size_t full_node(const hwnas_supernet *sn, uint32_t key)
{
    hwnas__sn_key probe = {key, 0};
    const hwnas__sn_key *k = bsearch(&probe, sn->keys, sn->n_keys, sizeof probe, cmp_key);
    return k ? k->node : SIZE_MAX;
}

int hwnas__sn_check_choices(const hwnas_supernet *sn, const uint32_t *choices)
{
    for (size_t e = 0; e < sn->n_choices; e++)
        if (choices[e] >= sn->card[e]) {
            if (sn->space == HWNAS__SN_CELL)
                return hwnas__error(HWNAS_EINVAL, "supernet: choice %zu is %u; edges take 0 to "
                                    "%d (none, skip_connect, nor_conv_1x1, nor_conv_3x3, "
                                    "avg_pool_3x3)", e, choices[e], HWNAS__SN_OPS - 1);
            return hwnas__error(HWNAS_EINVAL, "supernet: choice %zu is %u; it takes 0 to %u", e,
                                choices[e], sn->card[e] - 1);
        }
    return HWNAS_OK;
}

/* Where path node i's parameters (and running state) sit in full node f:
 * the first output and input channels, the centre of the kernel. 0 if
 * the path's node does not fit in the full one (our bug). */
static int slice(uint32_t *pidx, uint32_t *sidx, const hwnas__engine *pe, size_t i,
                 const hwnas__engine *fe, size_t f)
{
    const hwnas__eng_node *a = &pe->nodes[i], *b = &fe->nodes[f];
    if (a->kind != b->kind || a->c > b->c)
        return 0;
    uint32_t *p = pidx + a->p_off;
    size_t bp = b->p_off;
    switch (a->kind) {
    case HWNAS_NET_CONV2D:
    case HWNAS_NET_DWCONV2D: {
        const hwnas__eng_node *ax = &pe->nodes[a->in[0]], *bx = &fe->nodes[b->in[0]];
        size_t ai = ax->c / (size_t)a->a.groups, bi = bx->c / (size_t)b->a.groups;
        size_t akh = (size_t)a->a.kh, akw = (size_t)a->a.kw;
        size_t bkh = (size_t)b->a.kh, bkw = (size_t)b->a.kw;
        /* a kernel smaller by an odd number (CGP's 2 of 3, 3 of 4) takes
         * the top-left corner: an even kernel has no centre; a path
         * without bias leaves the full node's alone */
        if (ai > bi || akh > bkh || akw > bkw || (a->a.bias && !b->a.bias))
            return 0;
        size_t oh = (bkh - akh) / 2, ow = (bkw - akw) / 2;
        for (size_t o = 0; o < a->c; o++)
            for (size_t c = 0; c < ai; c++)
                for (size_t y = 0; y < akh; y++)
                    for (size_t x = 0; x < akw; x++)
                        *p++ = (uint32_t)(bp + ((o * bi + c) * bkh + y + oh) * bkw + x + ow);
        for (size_t o = 0; a->a.bias && o < a->c; o++)
            *p++ = (uint32_t)(bp + b->c * bi * bkh * bkw + o);
        return 1;
    }
    case HWNAS_NET_LINEAR: {
        size_t ai = pe->nodes[a->in[0]].size, bi = fe->nodes[b->in[0]].size;
        if (ai > bi || a->a.bias != b->a.bias)
            return 0;
        for (size_t o = 0; o < a->c; o++)
            for (size_t c = 0; c < ai; c++)
                *p++ = (uint32_t)(bp + o * bi + c);
        for (size_t o = 0; a->a.bias && o < a->c; o++)
            *p++ = (uint32_t)(bp + b->c * bi + o);
        return 1;
    }
    case HWNAS_NET_BATCHNORM:
        /* weight then bias; running mean then variance */
        for (size_t k = 0; k < a->c; k++) {
            p[k] = (uint32_t)(bp + k), p[a->c + k] = (uint32_t)(bp + b->c + k);
            sidx[a->s_off + k] = (uint32_t)(b->s_off + k);
            sidx[a->s_off + a->c + k] = (uint32_t)(b->s_off + b->c + k);
        }
        return 1;
    default: /* a PReLU: its first channels; others the whole node */
        if (a->n_s || b->n_s || a->n_p > b->n_p ||
            (a->n_p != b->n_p && !(a->kind == HWNAS_NET_ACT && a->n_p == a->c)))
            return 0;
        for (size_t k = 0; k < a->n_p; k++)
            p[k] = (uint32_t)(bp + k);
        return 1;
    }
}

int hwnas__sn_path_slices(hwnas_model **out, const hwnas_supernet *sn, const uint32_t *choices,
                          size_t **out_map, uint32_t **out_p, uint32_t **out_s)
{
    *out = NULL;
    int rc = hwnas__sn_check_choices(sn, choices);
    if (rc != HWNAS_OK)
        return rc;
    hwnas_context *ctx = sn->ctx;
    hwnas_net *net = NULL;
    hwnas__sn_key *keys = NULL;
    size_t n_keys = 0, cap = 0, *map = NULL;
    uint32_t *pidx = NULL, *sidx = NULL;
    hwnas_model *m = NULL;
    rc = hwnas_net_new(&net, ctx);
    if (rc == HWNAS_OK)
        rc = hwnas__sn_build(sn, net, choices, &keys, &n_keys, &cap);
    if (rc == HWNAS_OK)
        rc = hwnas_model_new(&m, ctx, net, sn->seed);
    hwnas__engine *pe = m ? m->eng : NULL;
    size_t n = rc == HWNAS_OK ? pe->n : 0;
    if (rc == HWNAS_OK &&
        (!(map = hwnas__malloc(ctx, (n ? n : 1) * sizeof *map)) ||
         !(pidx = hwnas__malloc(ctx, (pe->n_params ? pe->n_params : 1) * sizeof *pidx)) ||
         !(sidx = hwnas__malloc(ctx, (pe->n_state ? pe->n_state : 1) * sizeof *sidx))))
        rc = HWNAS_ENOMEM;
    for (size_t i = 0; rc == HWNAS_OK && i < n; i++)
        map[i] = SIZE_MAX;
    for (size_t k = 0; rc == HWNAS_OK && k < pe->n_params; k++)
        pidx[k] = UINT32_MAX;
    for (size_t k = 0; rc == HWNAS_OK && k < pe->n_state; k++)
        sidx[k] = UINT32_MAX;
    const hwnas__engine *fe = sn->full->eng;
    for (size_t k = 0; rc == HWNAS_OK && k < n_keys; k++) {
        size_t i = keys[k].node, f = full_node(sn, keys[k].key);
        /* the builders agree by construction; a mismatch is our bug */
        if (f == SIZE_MAX || !slice(pidx, sidx, pe, i, fe, f)) {
            rc = hwnas__error(HWNAS_EINTERNAL, "supernet: node '%s' of the path has no "
                              "weights of its shape in the supernet", pe->nodes[i].name);
            break;
        }
        map[i] = f;
    }
    for (size_t k = 0; rc == HWNAS_OK && k < pe->n_params; k++)
        if (pidx[k] != UINT32_MAX)
            pe->params[k] = fe->params[pidx[k]];
    for (size_t k = 0; rc == HWNAS_OK && k < pe->n_state; k++)
        if (sidx[k] != UINT32_MAX)
            pe->state[k] = fe->state[sidx[k]];
    hwnas__free(ctx, keys);
    hwnas_net_free(net);
    if (rc != HWNAS_OK) {
        hwnas__free(ctx, map);
        hwnas__free(ctx, pidx);
        hwnas__free(ctx, sidx);
        hwnas_model_free(m);
        return rc;
    }
#define GIVE(ptr, v)                                                                              do {                                                                                              if (ptr)                                                                                          *(ptr) = (v);                                                                             else                                                                                              hwnas__free(ctx, (v));                                                                } while (0)
    GIVE(out_map, map);
    GIVE(out_p, pidx);
    GIVE(out_s, sidx);
#undef GIVE
    *out = m;
    return HWNAS_OK;
}

int hwnas__sn_path_model(hwnas_model **out, const hwnas_supernet *sn, const uint32_t *choices,
                         size_t **out_map)
{
    return hwnas__sn_path_slices(out, sn, choices, out_map, NULL, NULL);
}

int hwnas_supernet_subnet(hwnas_model **out, const hwnas_supernet *sn, const uint32_t *choices)
{
    if (!out)
        return hwnas__error(HWNAS_EINVAL, "hwnas_supernet_subnet: out is NULL");
    *out = NULL;
    if (!sn || !choices)
        return hwnas__error(HWNAS_EINVAL, "hwnas_supernet_subnet: sn and choices are required");
    return hwnas__sn_path_model(out, sn, choices, NULL);
}

int hwnas_supernet_calibrate(hwnas_model *model, const hwnas_dataset *ds, size_t n, size_t batch)
{
    if (!model || !ds)
        return hwnas__error(HWNAS_EINVAL, "hwnas_supernet_calibrate: model and ds are required");
    hwnas__engine *e = model->eng;
    const hwnas__eng_node *in = &e->nodes[e->input];
    if (hwnas_dataset_channels(ds) != in->c || hwnas_dataset_height(ds) != in->h ||
        hwnas_dataset_width(ds) != in->w)
        return hwnas__error(HWNAS_EINVAL, "hwnas_supernet_calibrate: the dataset's samples are "
                            "%zux%zux%zu but the net's input is %zux%zux%zu",
                            hwnas_dataset_channels(ds), hwnas_dataset_height(ds),
                            hwnas_dataset_width(ds), in->c, in->h, in->w);
    size_t count = hwnas_dataset_count(ds);
    if (n == 0 || n > count)
        n = count;
    if (batch == 0)
        batch = 128;
    size_t bs = batch < n ? batch : n, ss = hwnas_dataset_sample_size(ds);
    float *images = hwnas__malloc(model->ctx, (bs ? bs : 1) * ss * sizeof *images);
    size_t *pos = hwnas__malloc(model->ctx, (bs ? bs : 1) * sizeof *pos);
    int rc = images && pos ? hwnas__engine_reserve(e, bs ? bs : 1) : HWNAS_ENOMEM;
    float momentum = e->bn_momentum;
    for (size_t k = 0, lo = 0; rc == HWNAS_OK && lo < n; k++, lo += bs) {
        size_t nb = n - lo < bs ? n - lo : bs;
        for (size_t j = 0; j < nb; j++)
            pos[j] = lo + j;
        rc = hwnas_dataset_batch(images, NULL, ds, pos, nb);
        /* momentum 1/(k+1): the running value is the mean of the batches' */
        e->bn_momentum = (float)(1.0 / (double)(k + 1));
        if (rc == HWNAS_OK)
            rc = hwnas__engine_forward(e, images, nb, 1, k);
    }
    e->bn_momentum = momentum;
    hwnas__free(model->ctx, images);
    hwnas__free(model->ctx, pos);
    return rc;
}

int hwnas_supernet_rate(double *out_accuracy, const hwnas_supernet *sn, const uint32_t *choices,
                        const hwnas_dataset *calib, size_t n_calib, const hwnas_dataset *eval,
                        size_t n_eval)
{
    if (!out_accuracy || !sn || !choices || !calib || !eval)
        return hwnas__error(HWNAS_EINVAL, "hwnas_supernet_rate: NULL argument");
    *out_accuracy = NAN;
    hwnas_model *m = NULL;
    hwnas_dataset *sub = NULL;
    int rc = hwnas_supernet_subnet(&m, sn, choices);
    if (rc == HWNAS_OK)
        rc = hwnas_supernet_calibrate(m, calib, n_calib, 128);
    const hwnas_dataset *ev = eval;
    if (rc == HWNAS_OK && n_eval && n_eval < hwnas_dataset_count(eval)) {
        size_t *pos = hwnas__malloc(sn->ctx, n_eval * sizeof *pos);
        if (!pos)
            rc = HWNAS_ENOMEM;
        for (size_t j = 0; rc == HWNAS_OK && j < n_eval; j++)
            pos[j] = j;
        if (rc == HWNAS_OK)
            rc = hwnas_dataset_select(&sub, eval, pos, n_eval);
        hwnas__free(sn->ctx, pos);
        ev = sub;
    }
    if (rc == HWNAS_OK)
        rc = hwnas_model_evaluate(out_accuracy, NULL, NULL, m, ev, 256);
    hwnas_dataset_free(sub);
    hwnas_model_free(m);
    return rc;
}

int hwnas__sn_key_push(hwnas_context *ctx, hwnas__sn_key **keys, size_t *n, size_t *cap,
                       uint32_t key, int64_t node)
{
    if (*n == *cap) {
        size_t c = *cap ? 2 * *cap : 256;
        hwnas__sn_key *k = hwnas__realloc(ctx, *keys, c * sizeof *k);
        if (!k)
            return HWNAS_ENOMEM;
        *keys = k;
        *cap = c;
    }
    (*keys)[(*n)++] = (hwnas__sn_key){key, (uint32_t)node};
    return HWNAS_OK;
}
