/* Training checkpoints (doc/formats/train-checkpoint.md): a run of
 * hwnas_model_train saved after each epoch so that a killed run resumes
 * with the same bits. Every epoch is a function of the recipe's seed and
 * its own number (shuffle, augmentation, dropout streams, learning rate),
 * so the weights, the momentum buffers and the epoch count are the whole
 * state. Little-endian, gzip on disk, a checksum at the end, written
 * atomically. */
#include <errno.h>
#include <math.h>
#include <string.h>
#include <unistd.h>

#include "hwnas/data.h"
#include "hwnas/model.h"
#include "hwnas/net.h"
#include "model_internal.h"

#define MAGIC "HWNASTCK"
#define VERSION 1u
#define MAX_FILE ((size_t)1 << 34)

/* The recipe's fields in file order: integers, then reals. */
#define N_INTS 9
#define N_REALS 7

static void recipe_ints(int64_t v[N_INTS], const hwnas__train_recipe *r, int64_t init)
{
    int64_t a[N_INTS] = {r->epochs,   r->batch,    r->schedule, r->step_epochs, r->augment,
                         r->crop_pad, r->seed,     r->nesterov, init};
    memcpy(v, a, sizeof a);
}

static void recipe_reals(double v[N_REALS], const hwnas__train_recipe *r)
{
    double a[N_REALS] = {r->lr,    r->momentum,  r->weight_decay, r->warmup,
                         r->gamma, r->smoothing, r->flip};
    memcpy(v, a, sizeof a);
}

/* The inverse of the two above, for the reader. */
static void recipe_set(hwnas__train_recipe *r, int64_t *init, const int64_t iv[N_INTS],
                       const double rv[N_REALS])
{
    r->epochs = iv[0], r->batch = iv[1], r->schedule = iv[2], r->step_epochs = iv[3];
    r->augment = iv[4], r->crop_pad = iv[5], r->seed = iv[6], r->nesterov = (int)iv[7];
    *init = iv[8];
    r->lr = rv[0], r->momentum = rv[1], r->weight_decay = rv[2], r->warmup = rv[3];
    r->gamma = rv[4], r->smoothing = rv[5], r->flip = rv[6];
}

static const char *const int_keys[N_INTS] = {"epochs",   "batch", "schedule",
                                             "step_epochs", "augment", "crop_pad",
                                             "seed",     "nesterov", "init"};
static const char *const real_keys[N_REALS] = {"lr",    "momentum",        "weight_decay", "warmup",
                                               "gamma", "label_smoothing", "flip"};

int hwnas__tck_to_bytes(uint8_t **out, size_t *len, const hwnas_context *ctx,
                        const hwnas__tck *t)
{
    *out = NULL;
    *len = 0;
    hwnas__writer w = {ctx, NULL, 0, 0, 0};
    hwnas__writer_put(&w, MAGIC, 8);
    hwnas__writer_u32(&w, VERSION);
    hwnas__writer_u32(&w, 0);
    hwnas__writer_u64(&w, t->net_hash);
    hwnas__writer_u64(&w, t->count);
    hwnas__writer_u64(&w, t->sample_size);
    hwnas__writer_u64(&w, t->data_hash);
    int64_t iv[N_INTS];
    double rv[N_REALS];
    recipe_ints(iv, &t->r, t->init);
    recipe_reals(rv, &t->r);
    for (int k = 0; k < N_INTS; k++)
        hwnas__writer_u64(&w, (uint64_t)iv[k]);
    for (int k = 0; k < N_REALS; k++)
        hwnas__writer_f64(&w, rv[k]);
    hwnas__writer_u64(&w, (uint64_t)t->done);
    hwnas__writer_f64(&w, t->loss);
    hwnas__writer_f64(&w, t->acc);
    hwnas__writer_u64(&w, t->weights_len);
    hwnas__writer_put(&w, t->weights, t->weights_len);
    hwnas__writer_u64(&w, t->n_params);
    for (size_t k = 0; k < t->n_params; k++) {
        uint32_t u;
        memcpy(&u, &t->velocity[k], 4);
        hwnas__writer_u32(&w, u);
    }
    if (!w.failed)
        hwnas__writer_u64(&w, hwnas__hash_bytes(w.data, w.len));
    if (w.failed) {
        hwnas__free(ctx, w.data);
        return HWNAS_ENOMEM;
    }
    *out = w.data;
    *len = w.len;
    return HWNAS_OK;
}

void hwnas__tck_release(const hwnas_context *ctx, hwnas__tck *t)
{
    hwnas__free(ctx, t->velocity);
    t->velocity = NULL;
}

static int bad(const char *name, const char *what)
{
    return hwnas__error(HWNAS_EFORMAT, "%s: %s", name, what);
}

int hwnas__tck_from_bytes(hwnas__tck *t, const hwnas_context *ctx, const uint8_t *b,
                          size_t len, const char *name)
{
    memset(t, 0, sizeof *t);
    hwnas__reader r;
    int err = hwnas__reader_framed(&r, b, len, MAGIC, 16, "training checkpoint", name);
    if (err != HWNAS_OK)
        return err;
    uint32_t version = hwnas__reader_u32(&r);
    if (version != VERSION)
        return hwnas__error(HWNAS_EVERSION, "%s: training checkpoint version %u; this library "
                            "reads version %u", name, version, VERSION);
    if (hwnas__reader_u32(&r) != 0)
        return bad(name, "unknown flags");
    t->net_hash = hwnas__reader_u64(&r);
    t->count = hwnas__reader_u64(&r);
    t->sample_size = hwnas__reader_u64(&r);
    t->data_hash = hwnas__reader_u64(&r);
    int64_t iv[N_INTS];
    double rv[N_REALS];
    for (int k = 0; k < N_INTS; k++)
        iv[k] = (int64_t)hwnas__reader_u64(&r);
    for (int k = 0; k < N_REALS; k++)
        rv[k] = hwnas__reader_f64(&r);
    recipe_set(&t->r, &t->init, iv, rv);
    t->done = (int64_t)hwnas__reader_u64(&r);
    t->loss = hwnas__reader_f64(&r);
    t->acc = hwnas__reader_f64(&r);
    if (r.failed)
        return bad(name, "truncated header");
    /* what the writer cannot have written: every field reads back as it is */
    if (iv[7] != 0 && iv[7] != 1)
        return bad(name, "nesterov is neither 0 nor 1");
    if (t->r.epochs < 1 || t->done < 1 || t->done > t->r.epochs)
        return bad(name, "the epochs done are not between 1 and the run's epochs");
    if (t->count == 0 || t->sample_size == 0)
        return bad(name, "an empty dataset");
    if (!isfinite(t->loss) || !(t->acc >= 0 && t->acc <= 1))
        return bad(name, "the last epoch's loss or accuracy is not finite and in range");
    t->weights_len = hwnas__reader_count(&r, 1);
    t->weights = hwnas__reader_take(&r, t->weights_len);
    t->n_params = hwnas__reader_count(&r, 4);
    if (r.failed)
        return bad(name, "truncated weights or momentum buffers");
    t->velocity = hwnas__malloc(ctx, (t->n_params ? t->n_params : 1) * sizeof *t->velocity);
    if (!t->velocity)
        return HWNAS_ENOMEM;
    for (size_t k = 0; k < t->n_params; k++) {
        uint32_t u = hwnas__reader_u32(&r);
        memcpy(&t->velocity[k], &u, 4);
        if (!isfinite(t->velocity[k])) {
            hwnas__tck_release(ctx, t);
            return hwnas__error(HWNAS_EFORMAT, "%s: momentum buffer %zu is not finite", name,
                                k);
        }
    }
    if (r.failed || r.pos != r.len) {
        hwnas__tck_release(ctx, t);
        return bad(name, r.failed ? "truncated momentum buffers" : "trailing bytes");
    }
    return HWNAS_OK;
}

/* A fingerprint of a dataset: its labels and the (normalised) images of up
 * to 64 evenly spaced samples. */
static int data_hash(uint64_t *out, const hwnas_context *ctx, const hwnas_dataset *ds)
{
    size_t n = hwnas_dataset_count(ds), ss = hwnas_dataset_sample_size(ds);
    size_t m = n < 64 ? n : 64;
    int32_t *labels = hwnas__malloc(ctx, n * sizeof *labels);
    float *images = hwnas__malloc(ctx, m * ss * sizeof *images);
    size_t *idx = hwnas__malloc(ctx, m * sizeof *idx);
    int rc = HWNAS_OK;
    if (!labels || !images || !idx) {
        rc = HWNAS_ENOMEM;
        goto done;
    }
    for (size_t i = 0; i < n; i++)
        labels[i] = hwnas_dataset_label(ds, i);
    uint64_t h = hwnas__hash_bytes(labels, n * sizeof *labels);
    for (size_t i = 0; i < m; i++)
        idx[i] = i * n / m;
    rc = hwnas_dataset_batch(images, labels, ds, idx, m);
    if (rc == HWNAS_OK) /* the labels of the sample overwrite the first m: hashed already */
        *out = h ^ hwnas__hash_bytes(images, m * ss * sizeof *images) *
                       UINT64_C(0x9e3779b97f4a7c15);
done:
    hwnas__free(ctx, labels);
    hwnas__free(ctx, images);
    hwnas__free(ctx, idx);
    return rc;
}

/* ---- hwnas_model_train_checkpoint ------------------------------------ */

typedef struct ck_run {
    hwnas_model *model;
    const char *path;
    hwnas__tck t;             /* this run's identity; velocity owned when resumed */
} ck_run;

/* The run described by the options and dataset against the file's. */
static int same_run(const hwnas__tck *file, const hwnas__tck *now, const char *path)
{
    if (file->net_hash != now->net_hash)
        return hwnas__error(HWNAS_EINVAL, "%s: the checkpoint is of another net", path);
    if (file->count != now->count || file->sample_size != now->sample_size)
        return hwnas__error(HWNAS_EINVAL, "%s: the checkpoint's dataset has %llu samples of "
                            "%llu values, this one %llu of %llu", path,
                            (unsigned long long)file->count,
                            (unsigned long long)file->sample_size,
                            (unsigned long long)now->count,
                            (unsigned long long)now->sample_size);
    if (file->data_hash != now->data_hash)
        return hwnas__error(HWNAS_EINVAL, "%s: the checkpoint's dataset has other labels or "
                            "images (or another normalisation)", path);
    int64_t a[N_INTS], b[N_INTS];
    double x[N_REALS], y[N_REALS];
    recipe_ints(a, &file->r, file->init);
    recipe_ints(b, &now->r, now->init);
    recipe_reals(x, &file->r);
    recipe_reals(y, &now->r);
    for (int k = 0; k < N_INTS; k++)
        if (a[k] != b[k])
            return hwnas__error(HWNAS_EINVAL, "%s: the checkpoint's run has %s=%lld, this one "
                                "%lld", path, int_keys[k], (long long)a[k], (long long)b[k]);
    for (int k = 0; k < N_REALS; k++)
        if (memcmp(&x[k], &y[k], sizeof x[k]) != 0)
            return hwnas__error(HWNAS_EINVAL, "%s: the checkpoint's run has %s=%.17g, this one "
                                "%.17g", path, real_keys[k], x[k], y[k]);
    return HWNAS_OK;
}

/* The directory the checkpoint goes to exists and takes new files. */
static int writable_dir(const char *path)
{
    char dir[4096];
    const char *slash = strrchr(path, '/');
    size_t n = slash ? (size_t)(slash - path) : 1;
    if (n >= sizeof dir)
        return hwnas__error(HWNAS_EIO, "%s: the path is too long", path);
    memcpy(dir, slash ? path : ".", n);
    dir[n ? n : 1] = '\0';
    if (slash == path) /* "/file" */
        dir[0] = '/';
    if (access(dir, W_OK | X_OK) != 0)
        return hwnas__error(HWNAS_EIO, "cannot write the checkpoint '%s': %s: %s", path, dir,
                            strerror(errno));
    return HWNAS_OK;
}

static int ck_save(void *ud, int64_t epochs_done, const float *velocity)
{
    ck_run *k = ud;
    hwnas_model *m = k->model;
    hwnas__tck t = k->t;
    t.done = epochs_done;
    t.loss = m->train_loss;
    t.acc = m->train_acc;
    t.velocity = (float *)(uintptr_t)velocity; /* only read */
    t.n_params = m->eng->n_params;
    uint8_t *wb = NULL, *b = NULL;
    size_t wlen = 0, len = 0;
    int rc = hwnas_model_save_buffer(&wb, &wlen, m);
    if (rc == HWNAS_OK) {
        t.weights = wb, t.weights_len = wlen;
        rc = hwnas__tck_to_bytes(&b, &len, m->ctx, &t);
    }
    if (rc == HWNAS_OK)
        rc = hwnas__file_write_atomic(m->ctx, k->path, b, len, 1);
    hwnas_free(wb);
    hwnas__free(m->ctx, b);
    return rc;
}

static int ck_begin(void *ud, hwnas__train_resume *resume, int *over,
                    const hwnas__train_recipe *r, int64_t init, const hwnas_dataset *ds)
{
    ck_run *k = ud;
    hwnas_model *m = k->model;
    k->t.net_hash = hwnas_net_hash(m->net);
    k->t.count = hwnas_dataset_count(ds);
    k->t.sample_size = hwnas_dataset_sample_size(ds);
    k->t.r = *r;
    k->t.init = init;
    resume->save = ck_save;
    resume->ud = k;
    int rc = data_hash(&k->t.data_hash, m->ctx, ds);
    if (rc != HWNAS_OK)
        return rc;
    uint8_t *b = NULL;
    size_t len = 0;
    rc = hwnas__file_read(m->ctx, k->path, MAX_FILE, &b, &len);
    if (rc == HWNAS_ENOTFOUND) { /* a fresh run: fail now, not after an epoch */
        hwnas_error_clear();
        return writable_dir(k->path);
    }
    if (rc != HWNAS_OK)
        return rc;
    hwnas__tck f;
    rc = hwnas__tck_from_bytes(&f, m->ctx, b, len, k->path);
    if (rc == HWNAS_OK) {
        rc = same_run(&f, &k->t, k->path);
        if (rc == HWNAS_OK && f.n_params != m->eng->n_params)
            rc = hwnas__error(HWNAS_EFORMAT, "%s: %zu momentum buffers for a net of %zu "
                              "parameters", k->path, f.n_params, m->eng->n_params);
        if (rc == HWNAS_OK) {
            rc = hwnas_model_load_buffer(m, f.weights, f.weights_len, k->path);
        }
        if (rc == HWNAS_OK) {
            m->train_loss = f.loss;
            m->train_acc = f.acc;
            *over = f.done == r->epochs;
            resume->start = f.done;
            k->t.velocity = f.velocity; /* kept until the run ends */
            k->t.n_params = f.n_params;
            resume->velocity = f.velocity;
            f.velocity = NULL;
        }
        hwnas__tck_release(m->ctx, &f);
    }
    hwnas__free(m->ctx, b);
    return rc;
}

int hwnas_model_train_checkpoint(hwnas_model *model, const hwnas_dataset *ds,
                                 const char *options, const char *checkpoint,
                                 hwnas_model_progress_cb cb, void *user_data)
{
    if (!model || !ds || !checkpoint)
        return hwnas__error(HWNAS_EINVAL, "hwnas_model_train_checkpoint: model, ds and "
                            "checkpoint are required");
    ck_run k = {model, checkpoint, {0}};
    hwnas__train_start start = {ck_begin, &k};
    int rc = hwnas__model_train_from(model, ds, options, &start, cb, user_data);
    hwnas__tck_release(model->ctx, &k.t);
    return rc;
}
