/* The engine's memory plan (engine.c, "Memory plan" in doc/engine.md):
 * with buffers shared by liveness (share = 1, as hwnas_model runs) the
 * logits, losses, gradients, running statistics and input gradients of
 * every pass are bit-identical to every node keeping its own buffers, at 1
 * and 2 threads and with each backend built in; the arena is smaller; the
 * passes a plan cannot serve fail with a clear error. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine_internal.h"
#include "engine_tests.h"
#include "fixtures.h"

/* What the zoo has little of, for the plan: relus applied twice to the
 * same input (aliased), relu6 twins, a sigmoid-gated product (mul keeps
 * both inputs), elu and leaky_relu (keep input or output), a concat, an
 * add of three, a zero node, dropout (its mask), a dead-end branch, a
 * conv + batch-norm + relu (fused), max and average pooling, a softmax
 * output (logits before it). */
static const char *const plan_net =
    "hwnas-net 1\nx = input(shape=3x12x12)\n"
    "c0 = conv(x, out=8, k=3, pad=1, bias=0)\nb0 = bn(c0)\nr0 = relu(b0)\n"
    "ra = relu(r0)\nrb = relu(r0)\nca = conv(ra, out=8, k=3, pad=1, bias=0)\nba = bn(ca)\n"
    "cb = conv(rb, out=8, k=1, bias=1)\nbb = bn(cb)\npa = avgpool(r0, k=3, s=1, pad=1)\n"
    "z = zero(r0)\ns1 = add(ba, bb, pa)\ns1b = add(s1, z)\n"
    "u6 = relu6(s1b)\nv6 = relu6(s1b)\ncu = conv(u6, out=8, k=3, pad=1, bias=0)\n"
    "cv = dwconv(v6, k=3, pad=1)\ndead = elu(cv)\n"
    "g = gap(cu)\ngl = conv(g, out=8, k=1, bias=1)\ngs = sigmoid(gl)\nse = mul(cu, gs)\n"
    "el = elu(se)\nlk = leaky_relu(cv)\ncat = concat(el, lk)\nmp = maxpool(cat, k=2, s=2)\n"
    "dr = dropout(mp, p=0.25)\nf = flatten(dr)\nfc = linear(f, out=5)\nsm = softmax(fc)\n";

typedef struct pass_out {
    float *logits0, *logits1;   /* inference before and after training */
    float *grads, *params, *state, *dx;
    double loss[4];
    size_t n_logits, n_params, n_state, n_dx;
    size_t arena;
} pass_out;

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    assert_non_null(p);
    return p;
}

static float *dup(const float *src, size_t n)
{
    float *p = xmalloc(n * sizeof *p);
    memcpy(p, src, n * sizeof *p);
    return p;
}

/* An inference forward, four SGD steps (the last on a partial batch, the
 * input gradient asked for), an inference forward again; share as given. */
static void passes(pass_out *o, const hwnas_net *net, const char *engine, int threads, size_t n,
                   int share)
{
    hwnas_context *ctx = NULL;
    char opts[64];
    snprintf(opts, sizeof opts, "threads=%d;engine=%s", threads, engine);
    assert_int_equal(hwnas_context_new(&ctx, opts), HWNAS_OK);
    hwnas__engine *e = NULL;
    assert_int_equal(hwnas__engine_new(&e, ctx, net, 11), HWNAS_OK);
    e->share = share;
    e->seed = 5;
    e->need_input_grad = 1;
    assert_int_equal(hwnas__engine_reserve(e, n), HWNAS_OK);
    o->arena = e->arena_size;
    size_t in = e->nodes[e->input].size, k = e->nodes[e->logits].size;
    size_t ko = e->nodes[e->output].size;
    float *x = xmalloc(n * in * sizeof *x), *dz = xmalloc(n * k * sizeof *dz);
    float *v = calloc(e->n_params, sizeof *v);
    int32_t *y = xmalloc(n * sizeof *y);
    assert_non_null(v);
    fx_seed(17);
    for (size_t i = 0; i < n * in; i++)
        x[i] = (float)((double)(fx_rnd() % 2000) / 1000.0 - 1.0);
    for (size_t s = 0; s < n; s++)
        y[s] = (int32_t)(s % k);
    assert_int_equal(hwnas__engine_forward(e, x, n, 0, 0), HWNAS_OK);
    o->n_logits = n * ko;
    o->logits0 = dup(e->act[e->output], n * ko);
    for (int t = 0; t < 4; t++) {
        size_t nb = t == 3 ? n - 3 : n, correct;
        assert_int_equal(hwnas__engine_forward(e, x, nb, 1, (uint64_t)t), HWNAS_OK);
        hwnas__engine_loss(&o->loss[t], &correct, dz, e, y, 0.0);
        assert_int_equal(hwnas__engine_backward(e, dz), HWNAS_OK);
        hwnas__sgd_step(e->params, v, e->grads, e->n_params, 0.05, 0.9, 1e-4, 0);
        o->n_dx = nb * in;
    }
    o->n_params = e->n_params, o->n_state = e->n_state;
    o->grads = dup(e->grads, e->n_params);
    o->params = dup(e->params, e->n_params);
    o->state = dup(e->state, e->n_state);
    o->dx = dup(e->dact[e->input], o->n_dx);
    assert_int_equal(hwnas__engine_forward(e, x, n, 0, 0), HWNAS_OK);
    o->logits1 = dup(e->act[e->output], n * ko);
    free(x);
    free(dz);
    free(v);
    free(y);
    hwnas__engine_free(e);
    hwnas_context_free(ctx);
}

static void out_free(pass_out *o)
{
    free(o->logits0);
    free(o->logits1);
    free(o->grads);
    free(o->params);
    free(o->state);
    free(o->dx);
}

static void assert_same(const pass_out *a, const pass_out *b)
{
    assert_memory_equal(a->logits0, b->logits0, a->n_logits * sizeof(float));
    assert_memory_equal(a->loss, b->loss, sizeof a->loss);
    assert_memory_equal(a->grads, b->grads, a->n_params * sizeof(float));
    assert_memory_equal(a->params, b->params, a->n_params * sizeof(float));
    assert_memory_equal(a->state, b->state, a->n_state * sizeof(float));
    assert_int_equal(a->n_dx, b->n_dx);
    assert_memory_equal(a->dx, b->dx, a->n_dx * sizeof(float));
    assert_memory_equal(a->logits1, b->logits1, a->n_logits * sizeof(float));
}

/* share = 1 gives share = 0's bits with engine at 1 and 2 threads (and the
 * same bits at both); returns arena(shared) / arena(own buffers). */
static double same_bits(const hwnas_net *net, const char *engine, size_t n, const char *what)
{
    pass_out own, sh1, sh2;
    passes(&own, net, engine, 1, n, 0);
    passes(&sh1, net, engine, 1, n, 1);
    passes(&sh2, net, engine, 2, n, 1);
    assert_same(&own, &sh1);
    assert_same(&own, &sh2);
    double r = (double)sh1.arena / (double)own.arena;
    printf("# %-12s %-8s batch %zu: arena %.2f MiB shared, %.2f MiB own (%.2f)\n", what, engine,
           n, (double)sh1.arena * 4 / 1048576.0, (double)own.arena * 4 / 1048576.0, r);
    out_free(&own);
    out_free(&sh1);
    out_free(&sh2);
    return r;
}

static const char *const engines[] = {"openblas", "onednn"};

static size_t n_engines(void)
{
    return hwnas__backend_onednn() ? 2 : 1;
}

static void test_plan_net_bits(void **state)
{
    (void)state;
    hwnas_context *ctx = NULL;
    assert_int_equal(hwnas_context_new(&ctx, "threads=1"), HWNAS_OK);
    hwnas_net *net = NULL;
    assert_int_equal(hwnas_net_parse(&net, ctx, plan_net, "plan"), HWNAS_OK);
    for (size_t b = 0; b < n_engines(); b++)
        assert_true(same_bits(net, engines[b], 12, "plan_net") < 0.75);
    hwnas_net_free(net);
    hwnas_context_free(ctx);
}

static void test_reference_cnn_bits(void **state)
{
    (void)state;
    hwnas_context *ctx = NULL;
    assert_int_equal(hwnas_context_new(&ctx, "threads=1"), HWNAS_OK);
    hwnas_net *net = fx_reference_cnn(ctx);
    for (size_t b = 0; b < n_engines(); b++)
        assert_true(same_bits(net, engines[b], 10, "fmnist_ref") < 0.75);
    hwnas_net_free(net);
    hwnas_context_free(ctx);
}

/* A random NB201 cell net (3 stages of 1 cell, 8 channels): relu-conv-bn
 * edges whose relus of the same node are aliased. */
static hwnas_net *nb201_net(hwnas_context *ctx, uint64_t seed)
{
    hwnas_space *sp = NULL;
    hwnas_rng *rng = NULL;
    hwnas_net *net = NULL;
    assert_int_equal(hwnas_space_new(&sp, ctx, "cell",
                                     "input_channels=1;input_size=12;channels=8;cells=1"),
                     HWNAS_OK);
    assert_int_equal(hwnas_rng_new(&rng, ctx, seed, 0), HWNAS_OK);
    assert_int_equal(hwnas_net_new(&net, ctx), HWNAS_OK);
    uint32_t genes[256];
    assert_true(hwnas_space_gene_count(sp) <= 256);
    for (;;) {
        assert_int_equal(hwnas_space_sample(sp, rng, genes), HWNAS_OK);
        if (hwnas_space_decode(sp, genes, net) == HWNAS_OK)
            break;
    }
    hwnas_rng_free(rng);
    hwnas_space_free(sp);
    return net;
}

static void test_nb201_bits(void **state)
{
    (void)state;
    hwnas_context *ctx = NULL;
    assert_int_equal(hwnas_context_new(&ctx, "threads=1"), HWNAS_OK);
    for (uint64_t seed = 1; seed <= 3; seed++) {
        hwnas_net *net = nb201_net(ctx, seed);
        for (size_t b = 0; b < n_engines(); b++)
            assert_true(same_bits(net, engines[b], 9, "nb201") < 0.6);
        hwnas_net_free(net);
    }
    hwnas_context_free(ctx);
}

/* The plan itself on plan_net: the twin relus share one buffer and the
 * forward pass computes it once; training keeps a relu's output, not its
 * input; gradients of nodes far apart share. */
static void test_plan_layout(void **state)
{
    (void)state;
    hwnas_context *ctx = NULL;
    assert_int_equal(hwnas_context_new(&ctx, "threads=1;engine=openblas"), HWNAS_OK);
    hwnas_net *net = NULL;
    assert_int_equal(hwnas_net_parse(&net, ctx, plan_net, "plan"), HWNAS_OK);
    hwnas__engine *e = NULL;
    assert_int_equal(hwnas__engine_new(&e, ctx, net, 1), HWNAS_OK);
    e->share = 1;
    assert_int_equal(hwnas__engine_reserve(e, 4), HWNAS_OK);
    size_t ra = SIZE_MAX, rb = SIZE_MAX, u6 = SIZE_MAX, v6 = SIZE_MAX;
    for (size_t i = 0; i < e->n; i++) {
        const char *nm = e->nodes[i].name;
        if (strcmp(nm, "ra") == 0)
            ra = i;
        else if (strcmp(nm, "rb") == 0)
            rb = i;
        else if (strcmp(nm, "u6") == 0)
            u6 = i;
        else if (strcmp(nm, "v6") == 0)
            v6 = i;
    }
    assert_true(ra < e->n && rb < e->n && u6 < e->n && v6 < e->n);
    assert_int_equal(e->alias[rb], ra);
    assert_int_equal(e->alias[v6], u6);
    assert_int_equal(e->alias[ra], ra);
    assert_ptr_equal(e->act_train[rb], e->act_train[ra]);
    assert_ptr_equal(e->act_infer[v6], e->act_infer[u6]);
    /* gradients: some two share a buffer */
    int shared = 0;
    for (size_t i = 1; i < e->n && !shared; i++)
        for (size_t j = i + 1; j < e->n && !shared; j++)
            shared = e->dact[i] == e->dact[j];
    assert_true(shared);
    hwnas__engine_free(e);
    hwnas_net_free(net);
    hwnas_context_free(ctx);
}

/* A backward pass after an inference forward cannot run on the inference
 * plan, and a mix attached after the plan is refused until reserve plans
 * again. */
static void test_plan_errors(void **state)
{
    (void)state;
    hwnas_context *ctx = NULL;
    assert_int_equal(hwnas_context_new(&ctx, "threads=1"), HWNAS_OK);
    hwnas_net *net = NULL;
    assert_int_equal(hwnas_net_parse(&net, ctx, plan_net, "plan"), HWNAS_OK);
    hwnas__engine *e = NULL;
    assert_int_equal(hwnas__engine_new(&e, ctx, net, 1), HWNAS_OK);
    e->share = 1;
    assert_int_equal(hwnas__engine_reserve(e, 4), HWNAS_OK);
    size_t in = e->nodes[e->input].size, k = e->nodes[e->logits].size;
    float *x = calloc(4 * in, sizeof *x), *dz = calloc(4 * k, sizeof *dz);
    assert_non_null(x);
    assert_non_null(dz);
    assert_int_equal(hwnas__engine_forward(e, x, 4, 0, 0), HWNAS_OK);
    assert_int_equal(hwnas__engine_backward_walk(e, dz, NULL, NULL), HWNAS_ESTATE);
    assert_non_null(strstr(hwnas_error_last(), "training forward pass"));
    hwnas__eng_mix *mix = NULL;
    assert_int_equal(hwnas__mix_new(&mix, e, 1), HWNAS_OK);
    assert_int_equal(hwnas__mix_seal(mix), HWNAS_OK);
    e->mix = mix;
    assert_int_equal(hwnas__engine_forward(e, x, 4, 1, 0), HWNAS_ESTATE);
    assert_non_null(strstr(hwnas_error_last(), "hwnas__engine_reserve"));
    assert_int_equal(hwnas__engine_reserve(e, 4), HWNAS_OK);
    for (size_t i = 0; i < e->n; i++) /* no aliases with mixed edges */
        assert_int_equal(e->alias[i], i);
    assert_int_equal(hwnas__engine_forward(e, x, 4, 1, 0), HWNAS_OK);
    assert_int_equal(hwnas__engine_backward(e, dz), HWNAS_OK);
    e->mix = NULL;
    hwnas__mix_free(mix);
    free(x);
    free(dz);
    hwnas__engine_free(e);
    hwnas_net_free(net);
    hwnas_context_free(ctx);
}

int run_memplan_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plan_layout),
        cmocka_unit_test(test_plan_errors),
        cmocka_unit_test(test_plan_net_bits),
        cmocka_unit_test(test_reference_cnn_bits),
        cmocka_unit_test(test_nb201_bits),
    };
    return cmocka_run_group_tests_name("engine-memplan", tests, NULL, NULL);
}
