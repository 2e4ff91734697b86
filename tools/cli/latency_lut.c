/* hwnas latency-lut build | validate | fit: profile layers into a latency
 * LUT on this host, fit a learned latency model (latency_lut.h) on nets
 * measured here or on a CSV of genotypes and latencies measured anywhere,
 * and check either's predictions against measured end-to-end latencies
 * (Kendall tau, MAPE, share within +-10%, an SVG scatter). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

#define MAX_SPACES 8
#define MAX_NETS 64

typedef struct lut_args {
    const char *spaces[MAX_SPACES]; /* KIND[:OPTS] */
    size_t n_spaces;
    const char *nets[MAX_NETS];     /* .net files */
    size_t n_nets;
    long count;                     /* sampled nets per space */
    long warmup, repeats;
    unsigned long long seed;
    long unseen;                    /* validate: build seed whose nets to skip, -1 none */
    const char *out, *lut, *svg, *device;
    const char *model, *csv, *options; /* validate --model; fit --csv, --options */
    int missing;
    int all_layers;                 /* build --all-layers */
    long holdout, patience;
} lut_args;

enum { MODE_BUILD, MODE_VALIDATE, MODE_FIT };

static void usage(FILE *f)
{
    fprintf(f,
            "usage: hwnas latency-lut build [--space KIND[:OPTS]]... [--net FILE.net]...\n"
            "                         [--nets N] [--seed N] [--warmup N] [--repeats N]\n"
            "                         [--device TEXT] --out LUT\n"
            "       hwnas latency-lut build --space KIND[:OPTS] --all-layers [--holdout N]\n"
            "                         [--patience N] [--nets MAX] ... --out LUT\n"
            "       hwnas latency-lut validate --lut LUT [--space KIND[:OPTS]]...\n"
            "                         [--nets N] [--seed N] [--warmup N] [--repeats N]\n"
            "                         [--missing error|nearest|interpolate|scale] [--svg FILE]\n"
            "                         [--unseen BUILD_SEED]\n"
            "       hwnas latency-lut validate --model MODEL ... (as with --lut)\n"
            "       hwnas latency-lut fit [--lut LUT] [--options MODEL_OPTIONS] --out MODEL\n"
            "                         ([--space KIND[:OPTS]]... [--net FILE.net]... [--nets N]\n"
            "                          [--seed N] [--warmup N] [--repeats N]\n"
            "                         | --space KIND[:OPTS] --csv FILE)\n"
            "defaults: --space cell --nets 30 --warmup 3 --repeats 15; build --seed 1,\n"
            "validate --seed 2 (other genotypes than the build's). --unseen S keeps\n"
            "only nets that differ from every net a build with --seed S and the same\n"
            "--space and --nets profiles, and from each other (spaces decode many\n"
            "genotypes to one net). Timing runs on the context's threads (--threads 1\n"
            "for single-core latency: then the thread's CPU time).\n"
            "--all-layers samples the space's genotypes and profiles every net with a\n"
            "layer the LUT lacks, until the share of --holdout nets (default 200, other\n"
            "genotypes) whose every layer the LUT holds stops growing for --patience\n"
            "sampled nets (default 300) or reaches 100%%, or --nets nets are profiled\n"
            "(default 100000 with --all-layers); it says which and how long it took.\n"
            "fit measures the sampled nets on this host (build's defaults), or reads\n"
            "GENOTYPE,LATENCY_MS lines (a header line allowed; the genotype as the\n"
            "space writes it, quoted or not: its last comma separates the latency)\n"
            "measured on any device, and fits a latency model (MODEL_OPTIONS as\n"
            "'predictor=gbrt|mlp|gp|none;base=linear|none;ridge=X;missing=...';\n"
            "doc/formats/latency-model.md); estimator:latency_model (model=FILE) uses it.\n");
}

static int parse_args(lut_args *a, int argc, char **argv, int mode)
{
    int validate = mode == MODE_VALIDATE, fit = mode == MODE_FIT;
    memset(a, 0, sizeof *a);
    a->count = 30;
    a->warmup = 3;
    a->repeats = 15;
    a->seed = validate ? 2 : 1;
    a->unseen = -1;
    a->holdout = 200;
    a->patience = 300;
    int count_given = 0;
    for (int i = 0; i < argc; i++) {
        const char *f = argv[i];
        if (!strcmp(f, "--all-layers") && mode == MODE_BUILD) {
            a->all_layers = 1;
            continue;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "hwnas latency-lut: '%s' needs a value or is unknown\n", f);
            return 0;
        }
        const char *v = argv[++i];
        long long n;
        const char *cmd = validate ? "latency-lut validate"
                          : fit    ? "latency-lut fit"
                                   : "latency-lut build";
        if (!strcmp(f, "--space") && a->n_spaces < MAX_SPACES)
            a->spaces[a->n_spaces++] = v;
        else if (!strcmp(f, "--net") && !validate && a->n_nets < MAX_NETS)
            a->nets[a->n_nets++] = v;
        else if (!strcmp(f, "--nets")) {
            if (!cli_parse_int(cmd, f, v, 1, 100000, &n))
                return 0;
            a->count = (long)n;
            count_given = 1;
        } else if (!strcmp(f, "--holdout") && mode == MODE_BUILD) {
            if (!cli_parse_int(cmd, f, v, 1, 100000, &n))
                return 0;
            a->holdout = (long)n;
        } else if (!strcmp(f, "--patience") && mode == MODE_BUILD) {
            if (!cli_parse_int(cmd, f, v, 1, 10000000, &n))
                return 0;
            a->patience = (long)n;
        } else if (!strcmp(f, "--warmup")) {
            if (!cli_parse_int(cmd, f, v, 0, 100000, &n))
                return 0;
            a->warmup = (long)n;
        } else if (!strcmp(f, "--repeats")) {
            if (!cli_parse_int(cmd, f, v, 1, 100000, &n))
                return 0;
            a->repeats = (long)n;
        } else if (!strcmp(f, "--seed")) {
            if (!cli_parse_int(cmd, f, v, 0, 0x7fffffffL, &n))
                return 0;
            a->seed = (unsigned long long)n;
        }
        else if (!strcmp(f, "--out") && !validate)
            a->out = v;
        else if (!strcmp(f, "--device") && mode == MODE_BUILD)
            a->device = v;
        else if (!strcmp(f, "--lut") && (validate || fit))
            a->lut = v;
        else if (!strcmp(f, "--model") && validate)
            a->model = v;
        else if (!strcmp(f, "--csv") && fit)
            a->csv = v;
        else if (!strcmp(f, "--options") && fit)
            a->options = v;
        else if (!strcmp(f, "--svg") && validate)
            a->svg = v;
        else if (!strcmp(f, "--unseen") && validate) {
            if (!cli_parse_int(cmd, f, v, 0, 0x7fffffffL, &n))
                return 0;
            a->unseen = (long)n;
        }
        else if (!strcmp(f, "--missing") && validate) {
            a->missing = !strcmp(v, "error")         ? HWNAS_LATENCY_LUT_MISSING_ERROR
                         : !strcmp(v, "nearest")     ? HWNAS_LATENCY_LUT_MISSING_NEAREST
                         : !strcmp(v, "interpolate") ? HWNAS_LATENCY_LUT_MISSING_INTERPOLATE
                         : !strcmp(v, "scale")       ? HWNAS_LATENCY_LUT_MISSING_SCALE
                                                     : -1;
            if (a->missing < 0) {
                fprintf(stderr, "hwnas latency-lut: --missing '%s' is not error, nearest, "
                        "interpolate or scale\n", v);
                return 0;
            }
        } else {
            fprintf(stderr, "hwnas latency-lut: bad option or value: %s %s\n", f, v);
            return 0;
        }
    }
    if (a->n_spaces == 0 && a->n_nets == 0)
        a->spaces[a->n_spaces++] = "cell";
    if (a->all_layers && !count_given)
        a->count = 100000;
    if (a->all_layers && (a->n_spaces != 1 || a->n_nets)) {
        fprintf(stderr, "hwnas latency-lut build: --all-layers needs exactly one --space and "
                "no --net\n");
        return 0;
    }
    if ((!validate && !a->out) || (validate && !a->lut == !a->model)) {
        fprintf(stderr, "hwnas latency-lut: %s\n",
                validate ? "one of --lut and --model is required" : "--out is required");
        return 0;
    }
    if (a->csv && a->n_spaces != 1) {
        fprintf(stderr, "hwnas latency-lut fit: --csv needs exactly one --space (the space "
                "whose genotypes it lists)\n");
        return 0;
    }
    return 1;
}

/* Called for each net: the i-th net of a space (or file), its label; a
 * return > 0 stops the sampling without error (the callback has enough). */
typedef int (*net_fn)(hwnas_context *ctx, const hwnas_net *net, const char *label, void *ud);

/* Net hashes already met (--unseen). */
typedef struct seen_set {
    uint64_t *h;
    size_t n, cap;
} seen_set;

static int seen_has(const seen_set *s, uint64_t h)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->h[i] == h)
            return 1;
    return 0;
}

static int seen_add(seen_set *s, uint64_t h)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 64;
        uint64_t *p = realloc(s->h, cap * sizeof *p);
        if (!p)
            return HWNAS_ENOMEM;
        s->h = p;
        s->cap = cap;
    }
    s->h[s->n++] = h;
    return HWNAS_OK;
}

/* Sample and decode up to count nets of space from (seed, stream); call
 * fn on each (when fn) unless its hash is in skip; add every hash to
 * skip when fn is NULL, and the accepted ones when skip_seen. */
static int sample_nets(hwnas_context *ctx, hwnas_space *space, unsigned long long seed,
                       uint64_t stream, long count, const char *kind, seen_set *skip,
                       int skip_seen, net_fn fn, void *ud)
{
    hwnas_rng *rng = NULL;
    hwnas_net *net = NULL;
    uint32_t *genes = NULL;
    int rc = hwnas_rng_new(&rng, ctx, seed, stream);
    if (rc == HWNAS_OK)
        rc = hwnas_net_new(&net, ctx);
    if (rc == HWNAS_OK) {
        genes = calloc(hwnas_space_gene_count(space) + 1, sizeof *genes);
        if (!genes)
            rc = HWNAS_ENOMEM;
    }
    long done = 0, tries = 0;
    while (rc == HWNAS_OK && done < count && tries < 100 * (count + 1)) {
        tries++;
        rc = hwnas_space_sample(space, rng, genes);
        if (rc != HWNAS_OK)
            break;
        rc = hwnas_space_decode(space, genes, net);
        if (rc == HWNAS_EINVALID) {
            rc = HWNAS_OK;
            continue;
        }
        if (rc != HWNAS_OK)
            break;
        uint64_t h = hwnas_net_hash(net);
        if (!fn) {
            rc = seen_add(skip, h);
            done++;
            continue;
        }
        if (skip_seen && seen_has(skip, h))
            continue;
        if (skip_seen)
            rc = seen_add(skip, h);
        char label[160];
        snprintf(label, sizeof label, "%s#%ld", kind, done);
        if (rc == HWNAS_OK)
            rc = fn(ctx, net, label, ud);
        done++;
    }
    free(genes);
    hwnas_net_free(net);
    hwnas_rng_free(rng);
    return rc;
}

/* Decode a->count sampled nets of each space and call fn on each. */
static int for_each_net(hwnas_context *ctx, const lut_args *a, net_fn fn, void *ud)
{
    int rc = HWNAS_OK;
    for (size_t s = 0; s < a->n_spaces && rc == HWNAS_OK; s++) {
        char kind[128];
        const char *colon = strchr(a->spaces[s], ':');
        size_t klen = colon ? (size_t)(colon - a->spaces[s]) : strlen(a->spaces[s]);
        if (klen >= sizeof kind)
            klen = sizeof kind - 1;
        memcpy(kind, a->spaces[s], klen);
        kind[klen] = '\0';
        /* "space:cell:opts" and "cell:opts" both work */
        if (!strcmp(kind, "space") && colon) {
            const char *c2 = strchr(colon + 1, ':');
            size_t l2 = c2 ? (size_t)(c2 - a->spaces[s]) : strlen(a->spaces[s]);
            if (l2 >= sizeof kind)
                l2 = sizeof kind - 1;
            memcpy(kind, a->spaces[s], l2);
            kind[l2] = '\0';
            colon = c2;
        }
        hwnas_space *space = NULL;
        seen_set skip = {NULL, 0, 0};
        rc = hwnas_space_new(&space, ctx, kind, colon ? colon + 1 : NULL);
        /* the build's nets: the same space, count and stream, its seed */
        if (rc == HWNAS_OK && a->unseen >= 0)
            rc = sample_nets(ctx, space, (unsigned long long)a->unseen, s, a->count, kind, &skip,
                             0, NULL, NULL);
        if (rc == HWNAS_OK)
            rc = sample_nets(ctx, space, a->seed, s, a->count, kind, &skip, a->unseen >= 0, fn,
                             ud);
        free(skip.h);
        hwnas_space_free(space);
        if (rc > 0)
            return HWNAS_OK; /* the callback has all it wants */
        if (rc != HWNAS_OK) {
            cli_fail(a->spaces[s], rc);
            return rc;
        }
    }
    for (size_t f = 0; f < a->n_nets && rc == HWNAS_OK; f++) {
        hwnas_net *net;
        char net_path[4096];
        const char *file = cli_data_file("latency-lut", CLI_DATA_NET, a->nets[f], net_path,
                                         sizeof net_path);
        if (!file)
            return HWNAS_ENOTFOUND;
        rc = hwnas_net_load(&net, ctx, file);
        if (rc != HWNAS_OK) {
            cli_fail(a->nets[f], rc);
            return rc;
        }
        rc = fn(ctx, net, a->nets[f], ud);
        hwnas_net_free(net);
        if (rc != HWNAS_OK)
            cli_fail(a->nets[f], rc);
    }
    return rc;
}

/* ---- build ----------------------------------------------------------- */

typedef struct build_state {
    hwnas_latency_lut *lut;
    const lut_args *a;
    long nets;
} build_state;

static int build_one(hwnas_context *ctx, const hwnas_net *net, const char *label, void *ud)
{
    (void)ctx;
    build_state *b = ud;
    int rc = hwnas_latency_lut_profile(b->lut, net, (uint32_t)b->a->warmup,
                                       (uint32_t)b->a->repeats);
    if (rc == HWNAS_OK) {
        b->nets++;
        /* one line redrawn on a terminal, one line per net otherwise */
        fprintf(stderr, isatty(2) ? "\rprofiled %ld nets, %zu distinct layers (%s)      "
                                  : "profiled %ld nets, %zu distinct layers (%s)\n",
                b->nets, hwnas_latency_lut_count(b->lut), label);
    }
    return rc;
}

/* ---- build --all-layers ---------------------------------------------- */

typedef struct cover_state {
    hwnas_latency_lut *lut;
    const lut_args *a;
    hwnas_net **holdout;      /* held-out nets (other genotypes) */
    size_t n_holdout, cap_holdout;
    long sampled, profiled;
    double best;              /* best held-out coverage so far */
    long best_at;             /* samples when it was reached */
    int done;                 /* 1: saturated, 2: all covered, 3: --nets reached */
} cover_state;

static int collect_holdout(hwnas_context *ctx, const hwnas_net *net, const char *label,
                           void *ud)
{
    (void)ctx;
    (void)label;
    cover_state *c = ud;
    if (c->n_holdout == c->cap_holdout)
        return HWNAS_OK;
    return hwnas_net_clone(&c->holdout[c->n_holdout++], net);
}

/* Share of held-out nets whose every layer the LUT holds. */
static double coverage(const cover_state *c)
{
    size_t ok = 0;
    for (size_t i = 0; i < c->n_holdout; i++) {
        double ms;
        ok += hwnas_latency_lut_predict(&ms, c->lut, c->holdout[i],
                                        HWNAS_LATENCY_LUT_MISSING_ERROR) == HWNAS_OK;
    }
    return c->n_holdout ? (double)ok / (double)c->n_holdout : 1.0;
}

static int cover_one(hwnas_context *ctx, const hwnas_net *net, const char *label, void *ud)
{
    (void)ctx;
    cover_state *c = ud;
    if (c->done)
        return 1; /* stop sampling */
    c->sampled++;
    double ms;
    int rc = hwnas_latency_lut_predict(&ms, c->lut, net, HWNAS_LATENCY_LUT_MISSING_ERROR);
    if (rc == HWNAS_ENOTFOUND) { /* a layer the LUT lacks: profile the net */
        rc = hwnas_latency_lut_profile(c->lut, net, (uint32_t)c->a->warmup,
                                       (uint32_t)c->a->repeats);
        if (rc != HWNAS_OK)
            return rc;
        c->profiled++;
        double cov = coverage(c);
        if (cov > c->best) {
            c->best = cov;
            c->best_at = c->sampled;
        }
        fprintf(stderr, isatty(2) ? "\rprofiled %ld of %ld sampled nets, %zu layers, held-out "
                                    "coverage %.1f%% (%s)      "
                                  : "profiled %ld of %ld sampled nets, %zu layers, held-out "
                                    "coverage %.1f%% (%s)\n",
                c->profiled, c->sampled, hwnas_latency_lut_count(c->lut), 100 * cov, label);
        if (cov >= 1.0)
            c->done = 2;
        else if (c->profiled >= c->a->count)
            c->done = 3;
    } else if (rc != HWNAS_OK) {
        return rc;
    }
    if (!c->done && c->sampled - c->best_at >= c->a->patience)
        c->done = 1;
    return c->done ? 1 : HWNAS_OK;
}

static int build_all_layers(hwnas_context *ctx, const lut_args *a, hwnas_latency_lut *lut)
{
    cover_state c = {lut, a, NULL, 0, (size_t)a->holdout, 0, 0, -1, 0, 0};
    c.holdout = calloc(c.cap_holdout, sizeof *c.holdout);
    if (!c.holdout)
        return HWNAS_ENOMEM;
    /* held-out nets: another seed, distinct nets */
    lut_args h = *a;
    h.seed = a->seed + 1000003;
    h.count = a->holdout;
    h.unseen = -1;
    double t0 = (double)clock() / CLOCKS_PER_SEC;
    struct timespec w0, w1;
    clock_gettime(CLOCK_MONOTONIC, &w0);
    int rc = for_each_net(ctx, &h, collect_holdout, &c);
    /* sampling draws genotypes until done (the sampler's own cap: 100 tries
     * per net asked for) */
    lut_args s = *a;
    s.count = 10000000;
    if (rc == HWNAS_OK)
        rc = for_each_net(ctx, &s, cover_one, &c);
    clock_gettime(CLOCK_MONOTONIC, &w1);
    if (isatty(2))
        fputc('\n', stderr);
    if (rc == HWNAS_OK) {
        double cov = coverage(&c);
        static const char *const why[] = {
            "the space ran out of new genotypes to sample",
            "held-out coverage stopped growing",
            "every held-out net is covered",
            "--nets nets were profiled"};
        printf("%s: all layers: profiled %ld of %ld sampled nets, %zu distinct layers, in "
               "%.1f s (%.1f s CPU); held-out coverage %.1f%% of %zu nets; stopped: %s%s\n",
               a->spaces[0], c.profiled, c.sampled, hwnas_latency_lut_count(lut),
               (double)(w1.tv_sec - w0.tv_sec) + 1e-9 * (double)(w1.tv_nsec - w0.tv_nsec),
               (double)clock() / CLOCKS_PER_SEC - t0, 100 * cov, c.n_holdout, why[c.done],
               c.done == 1 ? " (sampling, not enumeration: the space may hold layers no "
                             "sampled net had)" : "");
    }
    for (size_t i = 0; i < c.n_holdout; i++)
        hwnas_net_free(c.holdout[i]);
    free(c.holdout);
    return rc;
}

static int cmd_build(hwnas_context *ctx, int argc, char **argv)
{
    lut_args a;
    if (!parse_args(&a, argc, argv, MODE_BUILD)) {
        usage(stderr);
        return CLI_USAGE;
    }
    build_state b = {NULL, &a, 0};
    int rc = hwnas_latency_lut_new(&b.lut, ctx);
    if (rc != HWNAS_OK)
        return cli_fail("latency-lut build", rc);
    char device[256];
    snprintf(device, sizeof device, "%s", a.device ? a.device : "");
    if (!a.device)
        snprintf(device, sizeof device,
                 "this host, libhwnas %s engine (fp32; int8 for low-bit nets), batch 1, "
                 "%zu thread(s)", hwnas_version_string(), hwnas_context_threads(ctx));
    rc = hwnas_latency_lut_set_device(b.lut, device);
    if (rc == HWNAS_OK && a.all_layers) {
        rc = build_all_layers(ctx, &a, b.lut);
        b.nets = -1;
    } else if (rc == HWNAS_OK)
        rc = for_each_net(ctx, &a, build_one, &b);
    if (isatty(2))
        fputc('\n', stderr); /* end the redrawn line */
    if (rc == HWNAS_OK) {
        rc = hwnas_latency_lut_save(b.lut, a.out);
        if (rc != HWNAS_OK)
            cli_fail(a.out, rc);
    }
    if (rc == HWNAS_OK && b.nets >= 0)
        printf("%s: %zu layers from %ld nets, overhead %.4f ms\n", a.out,
               hwnas_latency_lut_count(b.lut), b.nets, hwnas_latency_lut_overhead(b.lut));
    else if (rc == HWNAS_OK)
        printf("%s: %zu layers, overhead %.4f ms\n", a.out, hwnas_latency_lut_count(b.lut),
               hwnas_latency_lut_overhead(b.lut));
    hwnas_latency_lut_free(b.lut);
    return rc == HWNAS_OK ? CLI_OK : CLI_FAIL;
}

/* ---- validate -------------------------------------------------------- */

typedef struct validate_state {
    hwnas_latency_lut *lut;
    hwnas_latency_model *model; /* --model instead of --lut */
    const lut_args *a;
    double *pred, *meas;
    size_t n, cap;
    size_t skipped; /* nets with a layer the LUT lacks (missing=error) */
} validate_state;

static int validate_one(hwnas_context *ctx, const hwnas_net *net, const char *label, void *ud)
{
    validate_state *v = ud;
    double p, m;
    int rc = v->model ? hwnas_latency_model_predict(&p, v->model, net)
                      : hwnas_latency_lut_predict(&p, v->lut, net, v->a->missing);
    if (rc == HWNAS_ENOTFOUND) {
        if (v->skipped++ == 0)
            fprintf(stderr, "%shwnas latency-lut: %s skipped: %s\n", isatty(2) ? "\n" : "",
                    label, hwnas_error_last());
        return HWNAS_OK;
    }
    if (rc != HWNAS_OK)
        return rc;
    rc = hwnas_latency_lut_measure(&m, ctx, net, (uint32_t)v->a->warmup, (uint32_t)v->a->repeats);
    if (rc != HWNAS_OK)
        return rc;
    if (v->n == v->cap) {
        size_t cap = v->cap ? 2 * v->cap : 64;
        double *np = realloc(v->pred, cap * sizeof *np);
        if (!np)
            return HWNAS_ENOMEM;
        v->pred = np;
        double *nm = realloc(v->meas, cap * sizeof *nm);
        if (!nm)
            return HWNAS_ENOMEM;
        v->meas = nm;
        v->cap = cap;
    }
    v->pred[v->n] = p;
    v->meas[v->n] = m;
    v->n++;
    fprintf(stderr,
            isatty(2) ? "\rmeasured %zu nets (%s: predicted %.4g ms, measured %.4g ms)      "
                      : "measured %zu nets (%s: predicted %.4g ms, measured %.4g ms)\n",
            v->n, label, p, m);
    return HWNAS_OK;
}

/* Kendall's tau-b of two series. */
static double kendall_tau(const double *x, const double *y, size_t n)
{
    double conc = 0, disc = 0, tx = 0, ty = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++) {
            double dx = x[i] - x[j], dy = y[i] - y[j];
            if (dx == 0 && dy == 0)
                continue;
            if (dx == 0)
                tx++;
            else if (dy == 0)
                ty++;
            else if ((dx > 0) == (dy > 0))
                conc++;
            else
                disc++;
        }
    double den = sqrt((conc + disc + tx) * (conc + disc + ty));
    return den > 0 ? (conc - disc) / den : 0;
}

static int write_svg(const char *path, const double *pred, const double *meas, size_t n,
                     double tau, double mape, double within)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return 0;
    double lo = INFINITY, hi = 0;
    for (size_t i = 0; i < n; i++) {
        lo = fmin(lo, fmin(pred[i], meas[i]));
        hi = fmax(hi, fmax(pred[i], meas[i]));
    }
    if (!(lo > 0))
        lo = 1e-3;
    if (!(hi > lo))
        hi = lo * 10;
    double l0 = log10(lo) - 0.05, l1 = log10(hi) + 0.05;
    const double W = 480, M = 60;
#define SX(v) (M + (log10(v) - l0) / (l1 - l0) * (W - 2 * M))
#define SY(v) (W - M - (log10(v) - l0) / (l1 - l0) * (W - 2 * M))
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%g\" height=\"%g\" "
               "font-family=\"sans-serif\" font-size=\"12\">\n", W, W);
    fprintf(f, "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n");
    fprintf(f, "<rect x=\"%g\" y=\"%g\" width=\"%g\" height=\"%g\" fill=\"none\" "
               "stroke=\"black\"/>\n", M, M, W - 2 * M, W - 2 * M);
    double a = pow(10, l0), b = pow(10, l1);
    /* y = x and the +-10% band */
    fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"gray\"/>\n",
            SX(a), SY(a), SX(b), SY(b));
    fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"gray\" "
               "stroke-dasharray=\"4\"/>\n", SX(a), SY(a * 1.1), SX(b / 1.1), SY(b));
    fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"gray\" "
               "stroke-dasharray=\"4\"/>\n", SX(a / 0.9), SY(a), SX(b), SY(b * 0.9));
    for (size_t i = 0; i < n; i++)
        fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"steelblue\" "
                   "fill-opacity=\"0.7\"/>\n", SX(meas[i]), SY(pred[i]));
    fprintf(f, "<text x=\"%g\" y=\"%g\" text-anchor=\"middle\">measured latency (ms, log)"
               "</text>\n", W / 2, W - 20);
    fprintf(f, "<text x=\"18\" y=\"%g\" text-anchor=\"middle\" transform=\"rotate(-90 18 %g)\">"
               "predicted latency (ms, log)</text>\n", W / 2, W / 2);
    fprintf(f, "<text x=\"%g\" y=\"30\">n=%zu  tau=%.3f  MAPE=%.1f%%  within 10%%: %.1f%%"
               "</text>\n", M, n, tau, 100 * mape, 100 * within);
    fprintf(f, "<text x=\"%g\" y=\"%g\">%.3g</text><text x=\"%g\" y=\"%g\" "
               "text-anchor=\"end\">%.3g</text>\n", M, W - M + 15, a, W - M, W - M + 15, b);
    fprintf(f, "</svg>\n");
#undef SX
#undef SY
    return fclose(f) == 0;
}

static int cmd_validate(hwnas_context *ctx, int argc, char **argv)
{
    lut_args a;
    if (!parse_args(&a, argc, argv, MODE_VALIDATE)) {
        usage(stderr);
        return CLI_USAGE;
    }
    validate_state v = {NULL, NULL, &a, NULL, NULL, 0, 0, 0};
    int rc = a.model ? hwnas_latency_model_load(&v.model, ctx, a.model)
                     : hwnas_latency_lut_load(&v.lut, ctx, a.lut);
    if (rc != HWNAS_OK)
        return cli_fail(a.model ? a.model : a.lut, rc);
    if (v.model && hwnas_latency_model_count(v.model) < 2) {
        fprintf(stderr, "hwnas latency-lut: %s holds %zu measured nets; a model needs 2 or "
                "more\n", a.model, hwnas_latency_model_count(v.model));
        hwnas_latency_model_free(v.model);
        return CLI_FAIL;
    }
    rc = for_each_net(ctx, &a, validate_one, &v);
    if (isatty(2))
        fputc('\n', stderr);
    int status = rc == HWNAS_OK ? CLI_OK : CLI_FAIL;
    if (rc == HWNAS_OK && v.n > 0) {
        double mape = 0, within = 0;
        for (size_t i = 0; i < v.n; i++) {
            double e = fabs(v.pred[i] - v.meas[i]) / v.meas[i];
            mape += e;
            within += e <= 0.10;
        }
        mape /= (double)v.n;
        within /= (double)v.n;
        double tau = kendall_tau(v.pred, v.meas, v.n);
        if (v.skipped)
            printf("skipped %zu nets with layers the LUT lacks (--missing nearest or "
                   "interpolate estimates them)\n", v.skipped);
        printf("nets %zu\nkendall_tau %.4f\nmape %.4f\nwithin_10pct %.4f\n", v.n, tau, mape,
               within);
        if (a.svg) {
            if (write_svg(a.svg, v.pred, v.meas, v.n, tau, mape, within))
                printf("scatter %s\n", a.svg);
            else {
                fprintf(stderr, "hwnas latency-lut: cannot write %s\n", a.svg);
                status = CLI_FAIL;
            }
        }
    }
    free(v.pred);
    free(v.meas);
    hwnas_latency_lut_free(v.lut);
    hwnas_latency_model_free(v.model);
    return status;
}

/* ---- fit ------------------------------------------------------------- */

typedef struct fit_state {
    hwnas_latency_model *model;
    const lut_args *a;
} fit_state;

static int fit_one(hwnas_context *ctx, const hwnas_net *net, const char *label, void *ud)
{
    fit_state *f = ud;
    double ms;
    int rc = hwnas_latency_lut_measure(&ms, ctx, net, (uint32_t)f->a->warmup,
                                       (uint32_t)f->a->repeats);
    if (rc == HWNAS_OK)
        rc = hwnas_latency_model_add(f->model, net, ms);
    if (rc == HWNAS_OK)
        fprintf(stderr, isatty(2) ? "\rmeasured %zu nets (%s: %.4g ms)      "
                                  : "measured %zu nets (%s: %.4g ms)\n",
                hwnas_latency_model_count(f->model), label, ms);
    return rc;
}

/* GENOTYPE,LATENCY_MS lines of path: decode each genotype in the space and
 * add the net with its latency. */
static int fit_csv(hwnas_context *ctx, hwnas_latency_model *model, const char *space_arg,
                   const char *path)
{
    char kind[128];
    const char *colon = strchr(space_arg, ':');
    if (colon && !strncmp(space_arg, "space:", 6))
        colon = strchr(colon + 1, ':');
    size_t klen = colon ? (size_t)(colon - space_arg) : strlen(space_arg);
    snprintf(kind, sizeof kind, "%.*s", (int)(klen < sizeof kind ? klen : sizeof kind - 1),
             space_arg);
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "hwnas latency-lut fit: cannot open %s\n", path);
        return HWNAS_EIO;
    }
    hwnas_space *space = NULL;
    hwnas_net *net = NULL;
    uint32_t *genes = NULL;
    int rc = hwnas_space_new(&space, ctx, kind, colon ? colon + 1 : NULL);
    if (rc == HWNAS_OK)
        rc = hwnas_net_new(&net, ctx);
    if (rc == HWNAS_OK && !(genes = calloc(hwnas_space_gene_count(space) + 1, sizeof *genes)))
        rc = HWNAS_ENOMEM;
    if (rc != HWNAS_OK) {
        cli_fail(space_arg, rc);
        goto done;
    }
    char line[65536];
    for (size_t line_no = 1; fgets(line, sizeof line, f); line_no++) {
        size_t n = strlen(line);
        if (n == sizeof line - 1 && line[n - 1] != '\n') {
            fprintf(stderr, "hwnas latency-lut fit: %s:%zu: line longer than %zu bytes\n",
                    path, line_no, sizeof line - 2);
            rc = HWNAS_EFORMAT;
            break;
        }
        while (n && (line[n - 1] == '\n' || line[n - 1] == '\r' || line[n - 1] == ' '))
            line[--n] = '\0';
        if (n == 0 || line[0] == '#')
            continue;
        char *comma = strrchr(line, ',');
        char *end = NULL;
        double ms = comma ? strtod(comma + 1, &end) : NAN;
        if (!comma || end == comma + 1 || *end != '\0') {
            if (line_no == 1)
                continue; /* a header */
            fprintf(stderr, "hwnas latency-lut fit: %s:%zu: expected GENOTYPE,LATENCY_MS, "
                    "got \"%.60s\"\n", path, line_no, line);
            rc = HWNAS_EFORMAT;
            break;
        }
        *comma = '\0';
        char *g = line;
        size_t gl = strlen(g);
        if (gl >= 2 && g[0] == '"' && g[gl - 1] == '"') {
            g[gl - 1] = '\0';
            g++;
        }
        rc = hwnas_space_parse(space, g, genes);
        if (rc == HWNAS_OK)
            rc = hwnas_space_decode(space, genes, net);
        if (rc == HWNAS_OK)
            rc = hwnas_latency_model_add(model, net, ms);
        if (rc != HWNAS_OK) {
            fprintf(stderr, "hwnas latency-lut fit: %s:%zu: %s\n", path, line_no,
                    hwnas_error_last());
            break;
        }
    }
done:
    free(genes);
    hwnas_net_free(net);
    hwnas_space_free(space);
    fclose(f);
    return rc;
}

static int cmd_fit(hwnas_context *ctx, int argc, char **argv)
{
    lut_args a;
    if (!parse_args(&a, argc, argv, MODE_FIT)) {
        usage(stderr);
        return CLI_USAGE;
    }
    hwnas_latency_lut *lut = NULL;
    fit_state fs = {NULL, &a};
    int rc = a.lut ? hwnas_latency_lut_load(&lut, ctx, a.lut) : HWNAS_OK;
    if (rc != HWNAS_OK)
        return cli_fail(a.lut, rc);
    rc = hwnas_latency_model_new(&fs.model, ctx, lut, a.options);
    hwnas_latency_lut_free(lut);
    if (rc != HWNAS_OK)
        return cli_fail("latency-lut fit --options", rc);
    if (a.csv)
        rc = fit_csv(ctx, fs.model, a.spaces[0], a.csv);
    else {
        rc = for_each_net(ctx, &a, fit_one, &fs);
        if (isatty(2))
            fputc('\n', stderr);
    }
    if (rc == HWNAS_OK && (rc = hwnas_latency_model_fit(fs.model)) != HWNAS_OK)
        cli_fail("latency-lut fit", rc);
    if (rc == HWNAS_OK && (rc = hwnas_latency_model_save(fs.model, a.out)) != HWNAS_OK)
        cli_fail(a.out, rc);
    if (rc == HWNAS_OK)
        printf("%s: a latency model fitted on %zu nets%s\n", a.out,
               hwnas_latency_model_count(fs.model), a.lut ? " (with the LUT's sums)" : "");
    hwnas_latency_model_free(fs.model);
    return rc == HWNAS_OK ? CLI_OK : CLI_FAIL;
}

int cli_latency_lut(hwnas_context *ctx, int argc, char **argv)
{
    if (argc >= 1 && !strcmp(argv[0], "build"))
        return cmd_build(ctx, argc - 1, argv + 1);
    if (argc >= 1 && !strcmp(argv[0], "validate"))
        return cmd_validate(ctx, argc - 1, argv + 1);
    if (argc >= 1 && !strcmp(argv[0], "fit"))
        return cmd_fit(ctx, argc - 1, argv + 1);
    usage(stderr);
    return CLI_USAGE;
}

void cli_latency_lut_usage(FILE *f) { usage(f); }
