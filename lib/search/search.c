/* The search object: its options, estimators and metrics, objectives and
 * constraints, callbacks. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "codesign.h"
#include "search_internal.h"

static const hwnas__option_spec search_options[] = {
    [OPT_OBJECTIVES] = {"objectives", HWNAS_OPTION_STRING, "accuracy:max,energy_uj:min", 0, 0,
                        NULL, "metric:max|min,... the objectives, in order"},
    [OPT_CONSTRAINTS] = {"constraints", HWNAS_OPTION_STRING, "", 0, 0, NULL,
                         "metric<=bound or metric>=bound, separated by ',' or ';'"},
    [OPT_BUDGET] = {"budget", HWNAS_OPTION_INT, "100", 1, 1e9, NULL,
                    "candidates to evaluate (cached and failed ones count); see also time_limit"},
    [OPT_TIME_LIMIT] = {"time_limit", HWNAS_OPTION_FLOAT, "0", 0, 1e9, NULL,
                        "budget: seconds of wall time, over resumes too; 0 = none"},
    [OPT_BATCH] = {"batch", HWNAS_OPTION_INT, "0", 0, 1e6, NULL,
                   "candidates asked and evaluated together; 0 = the thread count"},
    [OPT_PARALLEL] = {"parallel", HWNAS_OPTION_INT, "0", 0, 4096, NULL,
                      "candidates estimated at once on the context's worker threads (the "
                      "context's option threads sizes that pool); 0 = as many as the context "
                      "has threads"},
    [OPT_SEED] = {"seed", HWNAS_OPTION_INT, "0", 0, 9223372036854775807.0, NULL,
                  "root of the strategy's and the estimators' randomness; 0 = the context's"},
    [OPT_OUT] = {"out", HWNAS_OPTION_STRING, "", 0, 0, NULL,
                 "output directory: journal, snapshots, results; empty = keep nothing"},
    [OPT_SNAPSHOT_EVERY] = {"snapshot_every", HWNAS_OPTION_INT, "10", 1, 1e9, NULL,
                            "snapshot the strategy every this many evaluations (at batch ends)"},
    [OPT_HV_REFERENCE] = {"hv_reference", HWNAS_OPTION_STRING, "", 0, 0, NULL,
                          "reference point for hypervolume, one value per objective in its "
                          "own direction; empty = from the archive (doc/search.md)"},
    [OPT_SCREEN] = {"screen", HWNAS_OPTION_BOOL, "true", 0, 0, NULL,
                    "a candidate that breaks a constraint on the metrics of the estimators run "
                    "so far skips the later estimators (list cheap estimators first)"},
    [OPT_REFINE] = {"refine", HWNAS_OPTION_INT, "0", 0, 1e6, NULL,
                    "after the budget, estimate this many of the best candidates again with "
                    "refine_estimator and choose the front among them (0: no refinement)"},
    [OPT_REFINE_ESTIMATOR] = {"refine_estimator", HWNAS_OPTION_STRING, "", 0, 0, NULL,
                              "kind:options of that costlier estimator, e.g. "
                              "\"accuracy:epochs=4;train_subset=20000\""},
    [OPT_REFINE_BY] = {"refine_by", HWNAS_OPTION_ENUM, "rank", 0, 0, "rank|first",
                       "which candidates are the best to refine: by non-dominated rank, then "
                       "the first objective (rank), or by the first objective alone (first)"},
    [OPT_SALVAGE] = {"salvage", HWNAS_OPTION_BOOL, "false", 0, 0, NULL,
                     "on resume, keep the valid records of a damaged journal and resume from "
                     "them; the damaged files are moved aside, never deleted (this session only)"},
    [OPT_READ_ONLY] = {"read_only", HWNAS_OPTION_BOOL, "false", 0, 0, NULL,
                       "never write search.conf, the journal or snapshots into out (reports; "
                       "this session only)"},
    [OPT_START_OVER] = {"start_over", HWNAS_OPTION_BOOL, "false", 0, 0, NULL,
                        "a new search into an out directory that holds one moves the old files "
                        "into out/previous.N/ instead of refusing (this session only)"},
    [OPT_CODESIGN] = {"codesign", HWNAS_OPTION_ENUM, "joint", 0, 0, "joint|nested",
                      "with a co-design space (NET+accelerator): one strategy over the whole "
                      "genotype (joint), or the strategy over the network half and, per "
                      "network, an inner search for its accelerator (nested; doc/search.md)"},
    [OPT_CODESIGN_OPTIONS] = {"codesign_options", HWNAS_OPTION_STRING, "", 0, 0, NULL,
                              "the inner search's options with codesign=nested (hwnas describe "
                              "codesign): strategy, budget, objective, max_* limits"},
    [OPT_GUIDE] = {"guide", HWNAS_OPTION_ENUM, "none", 0, 0, "none|mlp|gbrt|gp",
                   "predictor-guided batches: ask guide_pool candidates, estimate only the "
                   "best batch of them by this predictor (doc/predict.md)"},
    [OPT_GUIDE_OPTIONS] = {"guide_options", HWNAS_OPTION_STRING, "", 0, 0, NULL,
                           "the predictor's options (hwnas describe predictor:KIND)"},
    [OPT_GUIDE_POOL] = {"guide_pool", HWNAS_OPTION_INT, "100", 1, 1e6, NULL,
                        "candidates asked of the strategy per guided batch"},
    [OPT_GUIDE_MIN] = {"guide_min", HWNAS_OPTION_INT, "20", 2, 1e9, NULL,
                       "evaluations before guiding starts (plain batches until then)"},
    [OPT_GUIDE_KAPPA] = {"guide_kappa", HWNAS_OPTION_FLOAT, "1", 0, 100, NULL,
                         "weight of the predictor's std in the ranking: mean - kappa * std "
                         "of each minimised objective"},
    [OPT_GUIDE_ENCODING] = {"guide_encoding", HWNAS_OPTION_STRING, "", 0, 0, NULL,
                            "features of a genotype (hwnas_space_encode); empty = the space's "
                            "default"},
    [OPT_GUIDE_REST] = {"guide_rest", HWNAS_OPTION_ENUM, "unevaluated", 0, 0,
                        "unevaluated|predicted",
                        "what the strategy hears of the pool members not estimated: that they "
                        "were not evaluated, or their predicted objectives (never archived "
                        "either way; doc/predict.md)"},
    [OPT_PRUNE] = {"prune", HWNAS_OPTION_ENUM, "none", 0, 0, "none|asha|hyperband|curve",
                   "stop unpromising trainings early: successive halving (asha), Hyperband, "
                   "or learning-curve extrapolation (curve); doc/search.md"},
    [OPT_PRUNE_OPTIONS] = {"prune_options", HWNAS_OPTION_STRING, "", 0, 0, NULL,
                           "the pruner's options (hwnas describe prune): resource, "
                           "min_resource, eta, points, min_points, sigmas, extrapolate"},
    [OPT_SCHEDULE] = {"schedule", HWNAS_OPTION_ENUM, "batch", 0, 0, "batch|async",
                      "batch: ask, estimate and tell a batch at a time (the same archive at any "
                      "thread or rank count); async: keep every worker busy, each finished "
                      "candidate told at once and the next asked (the archive follows the "
                      "completion order; doc/search.md)"},
    /* old names, still read (journals written before the renames say threads= and
     * evaluations=) */
    {"threads", HWNAS__OPTION_ALIAS, "parallel", 0, 0, NULL, "old name of parallel"},
    {"evaluations", HWNAS__OPTION_ALIAS, "budget", 0, 0, NULL, "old name of budget"},
};

const hwnas__kind hwnas__search_kind = {
    "search", search_options, HWNAS_ARRAY_SIZE(search_options), NULL,
};

void hwnas_search_free(hwnas_search *s)
{
    if (!s)
        return;
    if (s->journal)
        fclose(s->journal);
    hwnas__out_unlock(s);
    hwnas__archive_release(s);
    for (size_t i = 0; i < s->n_pending; i++)
        hwnas__free(s->ctx, s->pending[i].genes);
    for (size_t i = 0; i < s->n_est; i++)
        if (s->est_owned[i])
            hwnas_estimator_free(s->est[i]);
    for (size_t i = 0; i < s->n_metrics; i++)
        hwnas__free(s->ctx, s->metric_names[i]);
    for (size_t i = 0; i < s->n_obj; i++)
        hwnas__free(s->ctx, s->obj[i].name);
    for (size_t i = 0; i < s->n_con; i++)
        hwnas__free(s->ctx, s->con[i].name);
    hwnas__free(s->ctx, s->obj);
    hwnas__free(s->ctx, s->con);
    hwnas__free(s->ctx, s->pending);
    hwnas__async_release(s);
    hwnas__free(s->ctx, s->redo_genes);
    hwnas__free(s->ctx, s->redo_ids);
    hwnas__free(s->ctx, s->est);
    hwnas__free(s->ctx, s->est_owned);
    hwnas__free(s->ctx, s->metric_names);
    hwnas__free(s->ctx, s->metric_est);
    hwnas__free(s->ctx, s->hv_history);
    hwnas__free(s->ctx, s->hv_evals);
    hwnas__refine_release(s);
    hwnas__prune_release(s);
    hwnas__codesign_free(s->codesign);
    hwnas_strategy_free(s->strategy);
    hwnas_space_free(s->space);
    hwnas__free(s->ctx, s->resume_dir);
    hwnas__free(s->ctx, s->space_kind);
    hwnas__free(s->ctx, s->space_options);
    hwnas__free(s->ctx, s->strategy_kind);
    hwnas__free(s->ctx, s->strategy_options);
    hwnas_options_free(s->options);
    hwnas__free(s->ctx, s);
}

/* Count the objectives in "a:max,b:min" (validated at start). */
static size_t count_objectives(const char *text)
{
    size_t n = 0;
    for (const char *p = text; *p; p++)
        n += *p == ':';
    return n;
}

static int make_dir(const char *dir)
{
    if (mkdir(dir, 0777) == 0 || errno == EEXIST)
        return HWNAS_OK;
    return hwnas__error(HWNAS_EIO, "cannot create the output directory '%s': %s", dir,
                        strerror(errno));
}

/* The strategy's options with the search's seed filled in, unless the
 * strategy options already set one. */
static int strategy_options_with_seed(hwnas_search *s, char **out)
{
    uint64_t seed = (uint64_t)hwnas__options_int(s->options, OPT_SEED);
    if (seed == 0)
        seed = hwnas_context_seed(s->ctx);
    hwnas__strbuf sb;
    hwnas__strbuf_init(&sb, s->ctx);
    hwnas__strbuf_printf(&sb, "seed=%llu", (unsigned long long)(seed ? seed : 1));
    if (s->strategy_options && *s->strategy_options)
        hwnas__strbuf_printf(&sb, ";%s", s->strategy_options);
    if (sb.failed)
        return HWNAS_ENOMEM;
    *out = sb.data;
    return HWNAS_OK;
}

int hwnas_search_new(hwnas_search **out, hwnas_context *ctx, const char *space_kind,
                     const char *space_options, const char *strategy_kind,
                     const char *strategy_options, const char *options)
{
    if (!out)
        return hwnas__error(HWNAS_EINVAL, "hwnas_search_new: out is NULL");
    *out = NULL;
    if (!ctx || !space_kind || !strategy_kind)
        return hwnas__error(HWNAS_EINVAL,
                            "hwnas_search_new: ctx, space kind and strategy kind are required");
    hwnas_search *s = hwnas__calloc(ctx, 1, sizeof *s);
    if (!s)
        return HWNAS_ENOMEM;
    s->ctx = ctx;
    s->lock_fd = -1;
    int rc = hwnas__options_new_kind(&s->options, ctx, &hwnas__search_kind, options);
    if (rc == HWNAS_OK) {
        s->space_kind = hwnas__strdup(ctx, space_kind);
        s->space_options = hwnas__strdup(ctx, space_options ? space_options : "");
        s->strategy_kind = hwnas__strdup(ctx, strategy_kind);
        s->strategy_options = hwnas__strdup(ctx, strategy_options ? strategy_options : "");
        if (!s->space_kind || !s->space_options || !s->strategy_kind || !s->strategy_options)
            rc = HWNAS_ENOMEM;
    }
    size_t n_obj = rc == HWNAS_OK ? count_objectives(hwnas__options_str(s->options,
                                                                         OPT_OBJECTIVES))
                                  : 0;
    if (rc == HWNAS_OK && n_obj == 0)
        rc = hwnas__error(HWNAS_EINVAL,
                          "search: objectives \"%s\" lists none (write metric:max or metric:min)",
                          hwnas__options_str(s->options, OPT_OBJECTIVES));
    if (rc == HWNAS_OK)
        rc = hwnas_space_new(&s->space, ctx, space_kind, space_options);
    const hwnas_space *asked = s->space;
    if (rc == HWNAS_OK && hwnas__options_int(s->options, OPT_CODESIGN) == 1) {
        asked = hwnas_space_net_half(s->space);
        s->nested = 1;
        if (!hwnas_space_has_accel(s->space) || !asked)
            rc = hwnas__error(HWNAS_EINVAL, "search: codesign=nested needs a co-design space "
                              "with a network and a hardware half (e.g. cgp+accelerator), not "
                              "%s",
                              hwnas_space_kind(s->space));
    }
    const char *inner = rc == HWNAS_OK ? hwnas__options_str(s->options, OPT_CODESIGN_OPTIONS)
                                       : "";
    if (rc == HWNAS_OK && *inner && !s->nested)
        rc = hwnas__error(HWNAS_EINVAL, "search: codesign_options \"%s\" are the inner "
                          "search's: set codesign=nested too",
                          inner);
    if (rc == HWNAS_OK && s->nested) { /* a bad inner option fails here, not at run */
        hwnas_options *check = NULL;
        rc = hwnas__options_new_kind(&check, ctx, &hwnas__codesign_kind, inner);
        hwnas_options_free(check);
    }
    if (rc == HWNAS_OK) /* a bad prune option fails here, not at run */
        rc = hwnas__prune_check(s);
    char *sopts = NULL;
    if (rc == HWNAS_OK)
        rc = strategy_options_with_seed(s, &sopts);
    if (rc == HWNAS_OK)
        rc = hwnas_strategy_new(&s->strategy, ctx, strategy_kind, sopts, asked, n_obj);
    hwnas__free(ctx, sopts);
    if (rc == HWNAS_OK) {
        s->n_genes = hwnas_space_gene_count(s->space);
        s->n_ask = hwnas_space_gene_count(asked);
        rc = hwnas__cache_init(s);
    }
    if (rc == HWNAS_OK && *hwnas__search_out(s))
        rc = make_dir(hwnas__search_out(s));
    if (rc == HWNAS_OK && *hwnas__search_out(s))
        rc = hwnas__out_lock(s);
    if (rc != HWNAS_OK) {
        hwnas_search_free(s);
        return rc;
    }
    *out = s;
    return HWNAS_OK;
}

/* ---- estimators and metrics ----------------------------------------- */

static int add_estimator(hwnas_search *s, hwnas_estimator *e, int owned)
{
    if (s->started)
        return hwnas__error(HWNAS_ESTATE, "search: estimators must be added before it starts");
    size_t m = hwnas_estimator_metric_count(e);
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < s->n_metrics; j++)
            if (strcmp(hwnas_estimator_metric_name(e, i), s->metric_names[j]) == 0)
                return hwnas__error(HWNAS_EINVAL,
                                    "search: metric '%s' of %s is already produced by %s",
                                    s->metric_names[j], hwnas_estimator_kind(e),
                                    hwnas_estimator_kind(s->est[s->metric_est[j]]));
    hwnas_estimator **est = hwnas__realloc(s->ctx, s->est, (s->n_est + 1) * sizeof *est);
    if (!est)
        return HWNAS_ENOMEM;
    s->est = est;
    int *owned_flags = hwnas__realloc(s->ctx, s->est_owned, (s->n_est + 1) * sizeof *owned_flags);
    if (!owned_flags)
        return HWNAS_ENOMEM;
    s->est_owned = owned_flags;
    char **names = hwnas__realloc(s->ctx, s->metric_names, (s->n_metrics + m) * sizeof *names);
    if (!names)
        return HWNAS_ENOMEM;
    s->metric_names = names;
    size_t *which = hwnas__realloc(s->ctx, s->metric_est, (s->n_metrics + m) * sizeof *which);
    if (!which)
        return HWNAS_ENOMEM;
    s->metric_est = which;
    for (size_t i = 0; i < m; i++) {
        names[s->n_metrics + i] = hwnas__strdup(s->ctx, hwnas_estimator_metric_name(e, i));
        if (!names[s->n_metrics + i]) {
            while (i-- > 0)
                hwnas__free(s->ctx, names[s->n_metrics + i]);
            return HWNAS_ENOMEM;
        }
        which[s->n_metrics + i] = s->n_est;
    }
    s->n_metrics += m;
    s->est[s->n_est] = e;
    s->est_owned[s->n_est] = owned;
    s->n_est++;
    return HWNAS_OK;
}

int hwnas_search_add_estimator(hwnas_search *s, const char *kind, const char *options)
{
    if (!s || !kind)
        return hwnas__error(HWNAS_EINVAL, "hwnas_search_add_estimator: search and kind are "
                                          "required");
    hwnas_estimator *e;
    int rc = hwnas_estimator_new(&e, s->ctx, kind, options);
    if (rc != HWNAS_OK)
        return rc;
    rc = add_estimator(s, e, 1);
    if (rc != HWNAS_OK)
        hwnas_estimator_free(e);
    return rc;
}

int hwnas_search_add_estimator_object(hwnas_search *s, hwnas_estimator *e)
{
    if (!s || !e)
        return hwnas__error(HWNAS_EINVAL,
                            "hwnas_search_add_estimator_object: search and estimator are "
                            "required");
    return add_estimator(s, e, 0);
}

const hwnas_space *hwnas_search_space(const hwnas_search *s) { return s ? s->space : NULL; }

hwnas_strategy *hwnas_search_strategy(hwnas_search *s) { return s ? s->strategy : NULL; }

size_t hwnas_search_metric_count(const hwnas_search *s) { return s ? s->n_metrics : 0; }

const char *hwnas_search_metric_name(const hwnas_search *s, size_t i)
{
    return s && i < s->n_metrics ? s->metric_names[i] : NULL;
}

static int unknown_metric(const hwnas_search *s, const char *what, const char *name,
                          size_t len)
{
    /* A message is bounded: a long list ends in "... and N more". */
    hwnas__name_list list;
    hwnas__name_list_init(&list, ", ");
    for (size_t i = 0; i < s->n_metrics; i++)
        hwnas__name_list_add(&list, s->metric_names[i]);
    return hwnas__error(HWNAS_ESTATE, "search: %s names metric '%.*s', which no estimator "
                                      "produces; metrics: %s",
                        what, (int)len, name,
                        s->n_metrics ? hwnas__name_list_text(&list) : "(no estimator added)");
}

/* Resolve objectives and constraints against the estimators' metrics. */
static int parse_objectives(hwnas_search *s)
{
    const char *text = hwnas__options_str(s->options, OPT_OBJECTIVES);
    size_t n = count_objectives(text);
    s->obj = hwnas__calloc(s->ctx, n, sizeof *s->obj);
    if (!s->obj)
        return HWNAS_ENOMEM;
    const char *p = text;
    for (size_t k = 0; k < n; k++) {
        while (*p == ' ' || *p == ',')
            p++;
        const char *colon = strchr(p, ':');
        const char *dir = colon + 1;
        size_t dlen = strcspn(dir, ", ");
        double sign;
        if (dlen == 3 && strncmp(dir, "max", 3) == 0)
            sign = -1.0;
        else if (dlen == 3 && strncmp(dir, "min", 3) == 0)
            sign = 1.0;
        else
            return hwnas__error(HWNAS_EINVAL,
                                "search: objective '%.*s' in \"%s\": direction must be max or "
                                "min",
                                (int)(dir + dlen - p), p, text);
        int64_t m = hwnas__metric_index(s, p, (size_t)(colon - p));
        if (m < 0)
            return unknown_metric(s, "an objective", p, (size_t)(colon - p));
        s->obj[k].metric = (size_t)m;
        s->obj[k].sign = sign;
        s->obj[k].name = hwnas__strndup(s->ctx, p, (size_t)(colon - p));
        if (!s->obj[k].name)
            return HWNAS_ENOMEM;
        s->n_obj = k + 1;
        p = dir + dlen;
    }
    while (*p == ' ' || *p == ',')
        p++;
    if (*p)
        return hwnas__error(HWNAS_EINVAL, "search: unexpected \"%s\" in objectives \"%s\"", p,
                            text);
    return HWNAS_OK;
}

static int parse_constraints(hwnas_search *s)
{
    const char *text = hwnas__options_str(s->options, OPT_CONSTRAINTS);
    const char *p = text;
    while (*p) {
        while (*p == ' ' || *p == ',' || *p == ';')
            p++;
        if (!*p)
            break;
        size_t len = strcspn(p, ",;");
        const char *op = NULL;
        for (const char *q = p; q < p + len - 1; q++)
            if ((q[0] == '<' || q[0] == '>') && q[1] == '=') {
                op = q;
                break;
            }
        if (!op)
            return hwnas__error(HWNAS_EINVAL,
                                "search: constraint '%.*s' in \"%s\": expected metric<=bound or "
                                "metric>=bound",
                                (int)len, p, text);
        const char *name_end = op;
        while (name_end > p && name_end[-1] == ' ')
            name_end--;
        char *end;
        double bound = strtod(op + 2, &end);
        while (*end == ' ')
            end++;
        if (end == op + 2 || end != p + len || !isfinite(bound))
            return hwnas__error(HWNAS_EINVAL,
                                "search: constraint '%.*s': the bound is not a finite number",
                                (int)len, p);
        int64_t m = hwnas__metric_index(s, p, (size_t)(name_end - p));
        if (m < 0)
            return unknown_metric(s, "a constraint", p, (size_t)(name_end - p));
        hwnas__constraint *c = hwnas__realloc(s->ctx, s->con, (s->n_con + 1) * sizeof *c);
        if (!c)
            return HWNAS_ENOMEM;
        s->con = c;
        c[s->n_con].metric = (size_t)m;
        c[s->n_con].upper = op[0] == '<';
        c[s->n_con].bound = bound;
        c[s->n_con].name = hwnas__strndup(s->ctx, p, len);
        if (!c[s->n_con].name)
            return HWNAS_ENOMEM;
        s->n_con++;
        p += len;
    }
    return HWNAS_OK;
}

/* Objectives and constraints against the estimators' metrics, at start. */
int hwnas__search_resolve(hwnas_search *s)
{
    int rc = parse_objectives(s);
    return rc == HWNAS_OK ? parse_constraints(s) : rc;
}

/* ---- callbacks -------------------------------------------------------- */

void hwnas_search_on_candidate(hwnas_search *s, hwnas_search_candidate_cb cb, void *user_data)
{
    if (s) {
        s->on_candidate = cb;
        s->on_candidate_data = user_data;
    }
}

void hwnas_search_on_batch(hwnas_search *s, hwnas_search_batch_cb cb, void *user_data)
{
    if (s) {
        s->on_batch = cb;
        s->on_batch_data = user_data;
    }
}

void hwnas_search_on_progress(hwnas_search *s, hwnas_search_progress_cb cb, void *user_data)
{
    if (s) {
        s->on_progress = cb;
        s->on_progress_data = user_data;
    }
}

void hwnas_search_stop(hwnas_search *s)
{
    if (s)
        s->stop = 1;
}
