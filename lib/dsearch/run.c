/* hwnas_dsearch_run: the lambda sweep, one resumable run per value, and
 * the results directory (include/hwnas/dsearch.h). */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "dsearch_internal.h"
#include "engine/model_internal.h"
#include "hwnas/data.h"
#include "hwnas/dsearch.h"

#define MAX_CKPT ((size_t)1 << 31)

/* A text file built in memory, written atomically. */
typedef struct text {
    hwnas__writer w;
} text;

static void tput(text *t, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n > 0)
        hwnas__writer_put(&t->w, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
}

static int tsave(text *t, const hwnas_context *ctx, const char *path)
{
    int rc = t->w.failed ? HWNAS_ENOMEM
                         : hwnas__file_write_atomic(ctx, path, t->w.data, t->w.len, 0);
    hwnas__free(ctx, t->w.data);
    t->w.data = NULL;
    t->w.len = t->w.cap = 0;
    return rc;
}

static int make_dir(const char *path)
{
    if (mkdir(path, 0777) == 0 || errno == EEXIST)
        return HWNAS_OK;
    return hwnas__error(HWNAS_EIO, "dsearch: cannot create directory %s: %s", path,
                        strerror(errno));
}

/* One derived net's figures (a row of front.csv). */
typedef struct result {
    double lambda;
    char arch[160];
    double accuracy, retrain_accuracy; /* retrain: NaN when not retrained */
    uint64_t macs, params;
    double cost; /* in the cost source's unit (macs for cost=none) */
} result;

typedef struct data {
    const hwnas_dataset *wset, *aset, *eval, *train;
    size_t bs, batches, ss, classes;
    size_t *wo, *ao;
    float *wi, *ai, *dlogits;
    int32_t *wl, *al;
    double cost[HWNAS__DS_COEF]; /* the source's table, built by the first run */
    int have_cost;
    const char *out_dir;
} data;

static int write_trajectory(const hwnas__ds_run *r, const char *dir)
{
    char path[4200];
    text t = {{r->ctx, NULL, 0, 0, 0}};
    tput(&t, "epoch,edge,op,alpha,prob\n");
    for (size_t ep = 0; ep < r->n_traj; ep++) {
        const double *a = r->traj + ep * HWNAS__DS_ROW;
        double p[HWNAS__DS_COEF];
        hwnas__ds_probs(p, a);
        for (size_t k = 0; k < HWNAS__DS_COEF; k++)
            tput(&t, "%zu,%zu,%s,%.9g,%.9g\n", ep + 1, k / HWNAS__SN_OPS,
                 hwnas__sn_op_name((uint32_t)(k % HWNAS__SN_OPS)), a[k], p[k]);
    }
    snprintf(path, sizeof path, "%s/alpha.csv", dir);
    int rc = tsave(&t, r->ctx, path);
    if (rc != HWNAS_OK)
        return rc;
    tput(&t, "epoch,w_loss,w_accuracy,a_loss,a_accuracy,expected_cost\n");
    for (size_t ep = 0; ep < r->n_traj; ep++) {
        const double *s = r->traj + ep * HWNAS__DS_ROW + HWNAS__DS_COEF;
        tput(&t, "%zu,%.6f,%.6f,%.6f,%.6f,%.9g\n", ep + 1, s[0], s[1], s[2], s[3], s[4]);
    }
    snprintf(path, sizeof path, "%s/epochs.csv", dir);
    return tsave(&t, r->ctx, path);
}

static int checkpoint(const hwnas__ds_run *r, const char *path, const char *opts)
{
    uint8_t *b = NULL;
    size_t len = 0;
    int rc = hwnas__ds_to_bytes(&b, &len, r, opts);
    if (rc == HWNAS_OK)
        rc = hwnas__file_write_atomic(r->ctx, path, b, len, 1);
    hwnas__free(r->ctx, b);
    return rc;
}

/* The epoch that just ended: its row of the trajectory. */
static int end_epoch(hwnas__ds_run *r, double *out_row)
{
    double *t = hwnas__realloc(r->ctx, r->traj, (r->n_traj + 1) * HWNAS__DS_ROW * sizeof *t);
    if (!t)
        return HWNAS_ENOMEM;
    r->traj = t;
    double *row = t + r->n_traj * HWNAS__DS_ROW;
    memcpy(row, r->alpha, sizeof r->alpha);
    double n = r->seen ? (double)r->seen : 1;
    row[HWNAS__DS_COEF + 0] = r->sums[0] / n;
    row[HWNAS__DS_COEF + 1] = r->sums[1] / n;
    row[HWNAS__DS_COEF + 2] = r->sums[2] / n;
    row[HWNAS__DS_COEF + 3] = r->sums[3] / n;
    row[HWNAS__DS_COEF + 4] = hwnas__ds_cost_grad(NULL, r->alpha, r->cost, 1);
    memcpy(out_row, row, HWNAS__DS_ROW * sizeof *row);
    r->n_traj++;
    memset(r->sums, 0, sizeof r->sums);
    r->seen = 0;
    return HWNAS_OK;
}

static int train_run(hwnas__ds_run *r, const hwnas__ds_config *c, data *d, const char *dir,
                     const char *ckpt, const char *opts, hwnas_model_progress_cb cb, void *ud)
{
    hwnas__engine *e = r->sn->full->eng;
    int rc = hwnas__engine_reserve(e, d->bs);
    int64_t shuffled = -1;
    size_t nw = hwnas_dataset_count(d->wset), na = hwnas_dataset_count(d->aset);
    while (rc == HWNAS_OK && r->step < r->total) {
        uint64_t ep = r->step / d->batches, b = r->step % d->batches;
        if ((int64_t)ep != shuffled) {
            rc = hwnas_dataset_shuffle(d->wo, d->wset, (uint64_t)c->seed, ep);
            if (rc == HWNAS_OK)
                rc = hwnas_dataset_shuffle(d->ao, d->aset, (uint64_t)c->seed ^ 0xA5A5u, ep);
            shuffled = (int64_t)ep;
        }
        size_t lo = b * d->bs;
        size_t wn = nw - lo < d->bs ? nw - lo : d->bs, an = na - lo < d->bs ? na - lo : d->bs;
        if (rc == HWNAS_OK)
            rc = hwnas_dataset_batch(d->wi, d->wl, d->wset, d->wo + lo, wn);
        if (rc == HWNAS_OK)
            rc = hwnas_dataset_batch(d->ai, d->al, d->aset, d->ao + lo, an);
        double f[4] = {0, 0, 0, 0};
        if (rc == HWNAS_OK) {
            hwnas__ds_batch wb = {d->wi, d->wl, wn}, ab = {d->ai, d->al, an};
            rc = hwnas__ds_step(r, c, &wb, &ab, d->dlogits, d->batches, f);
        }
        if (rc != HWNAS_OK)
            break;
        r->sums[0] += f[0] * (double)wn;
        r->sums[1] += f[1];
        r->sums[2] += f[2] * (double)wn; /* weighted as the weight batch: one mean per epoch */
        r->sums[3] += f[3] * (double)wn / (double)an;
        r->seen += wn;
        double lr = hwnas__lr_at(c->w_lr, 1, r->step - 1, r->total, 0, 0, 0);
        int stop = cb && cb(HWNAS_MODEL_EVENT_BATCH, (int64_t)ep, c->epochs, (int64_t)b,
                            (int64_t)d->batches, f[0], f[1] / (double)wn, lr, ud) != 0;
        int epoch_end = b + 1 == d->batches;
        if (epoch_end) {
            double row[HWNAS__DS_ROW];
            rc = end_epoch(r, row);
            if (rc == HWNAS_OK)
                rc = write_trajectory(r, dir);
            if (rc == HWNAS_OK && cb && !stop)
                stop = cb(HWNAS_MODEL_EVENT_EPOCH, (int64_t)ep, c->epochs, (int64_t)d->batches,
                          (int64_t)d->batches, row[HWNAS__DS_COEF], row[HWNAS__DS_COEF + 1], lr,
                          ud) != 0;
        }
        if (rc == HWNAS_OK && (stop || epoch_end || r->step % (uint64_t)c->every == 0 ||
                               r->step == r->total))
            rc = checkpoint(r, ckpt, opts);
        if (rc == HWNAS_OK && stop)
            rc = hwnas__error(HWNAS_EUSER, "dsearch: the progress callback stopped at step %llu "
                              "(lambda=%g); the checkpoint %s resumes it",
                              (unsigned long long)r->step, r->lambda, ckpt);
    }
    return rc;
}

/* Derive, write the net, rate it with the supernet's weights and (retrain)
 * from scratch. */
static int finish_run(result *res, hwnas__ds_run *r, const hwnas__ds_config *c, const data *d,
                      const char *dir)
{
    uint32_t g[HWNAS__SN_EDGES];
    hwnas__ds_derive(g, r->alpha, c->skip_cap);
    hwnas__sn_cell_format(res->arch, sizeof res->arch, g);
    res->lambda = r->lambda;
    res->retrain_accuracy = NAN;
    hwnas_model *m = NULL;
    char *spec = NULL, path[4200];
    int rc = hwnas_supernet_subnet(&m, r->sn, g);
    if (rc == HWNAS_OK)
        rc = hwnas_net_format(hwnas_model_net(m), &spec);
    if (rc == HWNAS_OK) {
        res->macs = hwnas_net_macs(hwnas_model_net(m));
        res->params = hwnas_net_params(hwnas_model_net(m));
        rc = hwnas__ds_net_cost(&res->cost, hwnas_model_net(m), c, r->ctx, d->out_dir);
    }
    if (rc == HWNAS_OK) {
        snprintf(path, sizeof path, "%s/derived.net", dir);
        rc = hwnas__file_write_atomic(r->ctx, path, spec, strlen(spec), 0);
    }
    hwnas_free(spec);
    if (rc == HWNAS_OK)
        rc = hwnas_supernet_rate(&res->accuracy, r->sn, g, d->wset, (size_t)c->calibration,
                                 d->eval, (size_t)c->evaluation);
    if (rc == HWNAS_OK && c->retrain > 0) {
        hwnas_model *fresh = NULL;
        char topts[256];
        snprintf(topts, sizeof topts, "epochs=%lld;batch=%lld;lr=0.05;weight_decay=5e-4;seed=%lld",
                 (long long)c->retrain, (long long)c->batch, (long long)c->seed);
        rc = hwnas_model_new(&fresh, r->ctx, hwnas_model_net(m), (uint64_t)c->seed);
        if (rc == HWNAS_OK)
            rc = hwnas_model_train(fresh, d->train, topts, NULL, NULL);
        if (rc == HWNAS_OK)
            rc = hwnas_model_evaluate(&res->retrain_accuracy, NULL, NULL, fresh, d->eval, 0);
        hwnas_model_free(fresh);
    }
    hwnas_model_free(m);
    return rc;
}

static const char *const unit_names[] = {"macs", "macs", "params", "latency_ms", "energy_uj",
                                         "cycles"};

static int write_cost_table(const hwnas__ds_run *r, const hwnas__ds_config *c, const double *cost,
                            const char *out_dir)
{
    double macs[HWNAS__DS_COEF], params[HWNAS__DS_COEF];
    hwnas__ds_cost_table(macs, r, HWNAS__DS_COST_MACS);
    hwnas__ds_cost_table(params, r, HWNAS__DS_COST_PARAMS);
    text t = {{r->ctx, NULL, 0, 0, 0}};
    tput(&t, "edge,op,macs,params,cost\n");
    for (size_t k = 0; k < HWNAS__DS_COEF; k++) {
        tput(&t, "%zu,%s,%.0f,%.0f,%.9g\n", k / HWNAS__SN_OPS,
             hwnas__sn_op_name((uint32_t)(k % HWNAS__SN_OPS)), macs[k], params[k], cost[k]);
        HWNAS_LOG(r->ctx, HWNAS_LOG_INFO, "dsearch: cost of edge %zu op %s: %.9g %s (over all "
                  "cells)", k / HWNAS__SN_OPS, hwnas__sn_op_name((uint32_t)(k % HWNAS__SN_OPS)),
                  cost[k], unit_names[c->cost]);
    }
    char path[4200];
    snprintf(path, sizeof path, "%s/cost.csv", out_dir);
    return tsave(&t, r->ctx, path);
}

static int run_one(result *res, hwnas_context *ctx, const hwnas__ds_config *c, size_t li,
                   const hwnas__ds_shape *shape, data *d, const char *out_dir,
                   hwnas_model_progress_cb cb, void *ud)
{
    char dir[4096], ckpt[4200], opts[4096];
    snprintf(dir, sizeof dir, "%s/lambda-%zu", out_dir, li);
    snprintf(ckpt, sizeof ckpt, "%s/checkpoint.dsn", dir);
    hwnas__ds_config_text(opts, sizeof opts, c, c->lambda[li]);
    int rc = make_dir(dir);
    if (rc != HWNAS_OK)
        return rc;
    hwnas__ds_run *r = NULL;
    struct stat st;
    if (stat(ckpt, &st) == 0) {
        uint8_t *b = NULL;
        size_t len = 0;
        rc = hwnas__file_read(ctx, ckpt, MAX_CKPT, &b, &len);
        if (rc == HWNAS_OK)
            rc = hwnas__ds_from_bytes(&r, ctx, c, b, len, opts, ckpt);
        hwnas__free(ctx, b);
        if (rc == HWNAS_OK && r->total != (uint64_t)c->epochs * d->batches)
            rc = hwnas__error(HWNAS_EFORMAT, "%s: written for %llu steps; this dataset gives "
                              "%llu: use the same dataset or remove the file", ckpt,
                              (unsigned long long)r->total,
                              (unsigned long long)((uint64_t)c->epochs * d->batches));
        if (rc == HWNAS_OK)
            HWNAS_LOG(ctx, HWNAS_LOG_INFO, "dsearch: resuming %s at step %llu of %llu", ckpt,
                      (unsigned long long)r->step, (unsigned long long)r->total);
    } else {
        rc = hwnas__ds_run_new(&r, ctx, c, c->lambda[li], shape, NULL);
        if (rc == HWNAS_OK)
            r->total = (uint64_t)c->epochs * d->batches;
    }
    if (rc != HWNAS_OK) {
        hwnas__ds_run_free(r);
        return rc;
    }
    r->lambda = c->lambda[li];
    if (!d->have_cost) {
        rc = hwnas__ds_cost_source(d->cost, r, c, out_dir);
        if (rc == HWNAS_OK)
            rc = write_cost_table(r, c, d->cost, out_dir);
        d->have_cost = rc == HWNAS_OK;
    }
    memcpy(r->cost, d->cost, sizeof r->cost);
    r->cost_max = 0;
    for (int e = 0; e < HWNAS__SN_EDGES; e++) {
        double m = 0;
        for (int k = 0; k < HWNAS__SN_OPS; k++)
            m = r->cost[e * HWNAS__SN_OPS + k] > m ? r->cost[e * HWNAS__SN_OPS + k] : m;
        r->cost_max += m;
    }
    if (rc == HWNAS_OK)
        rc = train_run(r, c, d, dir, ckpt, opts, cb, ud);
    if (rc == HWNAS_OK)
        rc = finish_run(res, r, c, d, dir);
    hwnas__ds_run_free(r);
    return rc;
}

static int write_front(const result *res, size_t n, const hwnas__ds_config *c,
                       const hwnas_context *ctx, const char *out_dir)
{
    text t = {{ctx, NULL, 0, 0, 0}};
    tput(&t, "lambda,arch,accuracy,retrain_accuracy,macs,params,cost,pareto,net\n");
    for (size_t i = 0; i < n; i++) {
        /* on the front: no other run at least as accurate and as cheap,
         * better in one */
        int dominated = 0;
        for (size_t j = 0; j < n && !dominated; j++) {
            double ai = c->retrain ? res[i].retrain_accuracy : res[i].accuracy;
            double aj = c->retrain ? res[j].retrain_accuracy : res[j].accuracy;
            double ci = res[i].cost, cj = res[j].cost;
            dominated = aj >= ai && cj <= ci && (aj > ai || cj < ci);
        }
        char rt[32] = "";
        if (!isnan(res[i].retrain_accuracy))
            snprintf(rt, sizeof rt, "%.4f", res[i].retrain_accuracy);
        tput(&t, "%.9g,%s,%.4f,%s,%llu,%llu,%.9g,%d,lambda-%zu/derived.net\n", res[i].lambda,
             res[i].arch, res[i].accuracy, rt, (unsigned long long)res[i].macs,
             (unsigned long long)res[i].params, res[i].cost, !dominated, i);
    }
    char path[4200];
    snprintf(path, sizeof path, "%s/front.csv", out_dir);
    return tsave(&t, ctx, path);
}

int hwnas_dsearch_run(hwnas_context *ctx, const hwnas_dataset *train, const hwnas_dataset *eval,
                      const char *options, const char *out_dir, hwnas_model_progress_cb cb,
                      void *user_data)
{
    if (!ctx || !train || !out_dir)
        return hwnas__error(HWNAS_EINVAL, "hwnas_dsearch_run: ctx, train and out_dir are "
                            "required");
    hwnas__ds_config c;
    int rc = hwnas__ds_read_config(&c, ctx, options);
    if (rc != HWNAS_OK)
        return rc;
    hwnas__ds_shape shape = {hwnas_dataset_channels(train), hwnas_dataset_height(train),
                             hwnas_dataset_classes(train)};
    if (hwnas_dataset_width(train) != shape.size || shape.channels > HWNAS__SN_MAX_CHANNELS ||
        shape.size < 4)
        return hwnas__error(HWNAS_EINVAL, "hwnas_dsearch_run: the training images are %zux%zux%zu;"
                            " the cell space takes square images of at least 4x4",
                            shape.channels, shape.size, hwnas_dataset_width(train));
    if (hwnas_dataset_count(train) < 4)
        return hwnas__error(HWNAS_EINVAL, "hwnas_dsearch_run: %zu training images; at least 4 "
                            "(two halves of two)", hwnas_dataset_count(train));
    if (eval && (hwnas_dataset_channels(eval) != shape.channels ||
                 hwnas_dataset_height(eval) != shape.size ||
                 hwnas_dataset_width(eval) != shape.size ||
                 hwnas_dataset_classes(eval) > shape.classes))
        return hwnas__error(HWNAS_EINVAL, "hwnas_dsearch_run: the eval images are not of the "
                            "training images' shape and classes");
    rc = make_dir(out_dir);
    if (rc != HWNAS_OK)
        return rc;
    data d;
    memset(&d, 0, sizeof d);
    hwnas_dataset *wset = NULL, *aset = NULL;
    rc = hwnas_dataset_split(&wset, &aset, train, 0.5, HWNAS_DATASET_STRATIFIED,
                             (uint64_t)c.seed);
    result *res = hwnas__calloc(ctx, c.n_lambda, sizeof *res);
    if (rc == HWNAS_OK && !res)
        rc = HWNAS_ENOMEM;
    if (rc == HWNAS_OK) {
        d.wset = wset, d.aset = aset, d.train = train, d.eval = eval ? eval : aset;
        d.out_dir = out_dir;
        size_t nw = hwnas_dataset_count(wset), na = hwnas_dataset_count(aset);
        size_t nmin = nw < na ? nw : na;
        d.bs = (size_t)c.batch < nmin ? (size_t)c.batch : nmin;
        d.batches = (nmin + d.bs - 1) / d.bs;
        d.ss = hwnas_dataset_sample_size(train);
        d.classes = shape.classes;
        d.wo = hwnas__malloc(ctx, nw * sizeof *d.wo);
        d.ao = hwnas__malloc(ctx, na * sizeof *d.ao);
        d.wi = hwnas__malloc(ctx, d.bs * d.ss * sizeof *d.wi);
        d.ai = hwnas__malloc(ctx, d.bs * d.ss * sizeof *d.ai);
        d.wl = hwnas__malloc(ctx, d.bs * sizeof *d.wl);
        d.al = hwnas__malloc(ctx, d.bs * sizeof *d.al);
        d.dlogits = hwnas__malloc(ctx, d.bs * d.classes * sizeof *d.dlogits);
        if (!d.wo || !d.ao || !d.wi || !d.ai || !d.wl || !d.al || !d.dlogits)
            rc = HWNAS_ENOMEM;
    }
    for (size_t li = 0; rc == HWNAS_OK && li < c.n_lambda; li++)
        rc = run_one(&res[li], ctx, &c, li, &shape, &d, out_dir, cb, user_data);
    if (rc == HWNAS_OK)
        rc = write_front(res, c.n_lambda, &c, ctx, out_dir);
    hwnas__free(ctx, d.wo);
    hwnas__free(ctx, d.ao);
    hwnas__free(ctx, d.wi);
    hwnas__free(ctx, d.ai);
    hwnas__free(ctx, d.wl);
    hwnas__free(ctx, d.al);
    hwnas__free(ctx, d.dlogits);
    hwnas__free(ctx, res);
    hwnas_dataset_free(wset);
    hwnas_dataset_free(aset);
    return rc;
}

int hwnas_dsearch_check_options(hwnas_context *ctx, const char *options)
{
    if (!ctx)
        return hwnas__error(HWNAS_EINVAL, "hwnas_dsearch_check_options: ctx is required");
    hwnas__ds_config c;
    return hwnas__ds_read_config(&c, ctx, options);
}
