/*
 * The results directory's tables: archive.csv/.json (every candidate),
 * front.csv/.json and front/NNN.net (the front's networks). The report
 * part (lib/report) draws its plots from these files.
 */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hwnas/accel.h"
#include "search_internal.h"

static int usable(const hwnas__record *r) { return !r->failed && r->obj && r->violation <= 0; }

static void csv_text(hwnas__strbuf *sb, const char *t)
{
    hwnas__strbuf_puts(sb, "\"");
    for (; t && *t; t++) {
        if (*t == '"')
            hwnas__strbuf_puts(sb, "\"");
        hwnas__strbuf_append(sb, t, 1);
    }
    hwnas__strbuf_puts(sb, "\"");
}

static void json_number(hwnas__strbuf *sb, double v)
{
    if (isfinite(v))
        hwnas__strbuf_printf(sb, "%.17g", v);
    else
        hwnas__strbuf_puts(sb, "null");
}

/* Under co-design, each record's network and hardware genotype strings
 * (the halves of its key): two columns after the others, so that a reader
 * of the earlier layout finds its columns where they were. */
static void put_halves(const hwnas_search *s, hwnas__strbuf *sb, const hwnas__record *r,
                       int json)
{
    char *net = NULL, *hw = NULL;
    if (hwnas__candidate_halves(s, r->genes, &net, &hw) != HWNAS_OK) {
        sb->failed = 1;
        return;
    }
    if (json) {
        hwnas__strbuf_puts(sb, ", \"network\": ");
        if (net)
            hwnas__strbuf_json(sb, net);
        else
            hwnas__strbuf_puts(sb, "null");
        hwnas__strbuf_puts(sb, ", \"hardware\": ");
        hwnas__strbuf_json(sb, hw ? hw : "");
    } else {
        hwnas__strbuf_puts(sb, ",");
        csv_text(sb, net ? net : "");
        hwnas__strbuf_puts(sb, ",");
        csv_text(sb, hw ? hw : "");
    }
    hwnas_free(net);
    hwnas_free(hw);
}

static void csv_rows(const hwnas_search *s, hwnas__strbuf *sb, const size_t *idx, size_t n)
{
    int halves = hwnas_space_has_accel(s->space);
    hwnas__strbuf_puts(sb, "eval,id,genotype,hash");
    for (size_t m = 0; m < s->n_metrics; m++)
        hwnas__strbuf_printf(sb, ",%s", s->metric_names[m]);
    hwnas__strbuf_puts(sb, ",violation,feasible,failed,error,seconds,cached");
    /* With refinement: the flag, and the proxy figures it replaced. */
    size_t n_ref = s->refine_est ? hwnas_estimator_metric_count(s->refine_est) : 0;
    if (s->refine_est)
        hwnas__strbuf_puts(sb, ",refined,refine_error,refine_seconds");
    for (size_t j = 0; j < n_ref; j++)
        hwnas__strbuf_printf(sb, ",proxy_%s", s->metric_names[s->refine_map[j]]);
    if (halves)
        hwnas__strbuf_puts(sb, ",network,hardware");
    /* With pruning, last: the mark, and the curve as "epoch:value;..." */
    if (s->pruner)
        hwnas__strbuf_puts(sb, ",pruned,curve");
    hwnas__strbuf_puts(sb, "\n");
    for (size_t t = 0; t < n; t++) {
        const hwnas__record *r = &s->rec[idx ? idx[t] : t];
        hwnas__strbuf_printf(sb, "%llu,%llu,", (unsigned long long)r->eval,
                             (unsigned long long)r->id);
        csv_text(sb, r->key);
        hwnas__strbuf_printf(sb, ",%016llx", (unsigned long long)r->hash);
        for (size_t m = 0; m < s->n_metrics; m++)
            if (isnan(r->metrics[m]))
                hwnas__strbuf_puts(sb, ",");
            else
                hwnas__strbuf_printf(sb, ",%.17g", r->metrics[m]);
        hwnas__strbuf_printf(sb, ",%.17g,%d,%d,", r->violation, usable(r), r->failed);
        csv_text(sb, r->error);
        hwnas__strbuf_printf(sb, ",%.6f,%d", r->seconds, r->cached);
        if (s->refine_est) {
            hwnas__strbuf_printf(sb, ",%d,", r->refined);
            csv_text(sb, r->refine_error);
            hwnas__strbuf_printf(sb, ",%.6f", r->refine_seconds);
        }
        for (size_t j = 0; j < n_ref; j++)
            if (r->proxy)
                hwnas__strbuf_printf(sb, ",%.17g", r->proxy[s->refine_map[j]]);
            else
                hwnas__strbuf_puts(sb, ",");
        if (halves)
            put_halves(s, sb, r, 0);
        if (s->pruner) {
            hwnas__strbuf_printf(sb, ",%d,", r->pruned);
            for (size_t k = 0; k < r->n_curve; k++)
                hwnas__strbuf_printf(sb, "%s%.17g:%.17g", k ? ";" : "", r->curve[2 * k],
                                     r->curve[2 * k + 1]);
        }
        hwnas__strbuf_puts(sb, "\n");
    }
}

static void json_rows(const hwnas_search *s, hwnas__strbuf *sb, const size_t *idx, size_t n)
{
    hwnas__strbuf_puts(sb, "[\n");
    for (size_t t = 0; t < n; t++) {
        const hwnas__record *r = &s->rec[idx ? idx[t] : t];
        hwnas__strbuf_printf(sb, "  {\"eval\": %llu, \"id\": %llu, \"genotype\": ",
                             (unsigned long long)r->eval, (unsigned long long)r->id);
        hwnas__strbuf_json(sb, r->key);
        hwnas__strbuf_puts(sb, ", \"genes\": [");
        for (size_t g = 0; g < s->n_genes; g++)
            hwnas__strbuf_printf(sb, "%s%u", g ? ", " : "", (unsigned)r->genes[g]);
        hwnas__strbuf_printf(sb, "], \"hash\": \"%016llx\", \"metrics\": {",
                             (unsigned long long)r->hash);
        for (size_t m = 0; m < s->n_metrics; m++) {
            hwnas__strbuf_printf(sb, "%s\"%s\": ", m ? ", " : "", s->metric_names[m]);
            json_number(sb, r->metrics[m]);
        }
        hwnas__strbuf_puts(sb, "}, \"violation\": ");
        json_number(sb, r->violation);
        hwnas__strbuf_printf(sb, ", \"feasible\": %s, \"error\": ", usable(r) ? "true" : "false");
        if (r->error)
            hwnas__strbuf_json(sb, r->error);
        else
            hwnas__strbuf_puts(sb, "null");
        hwnas__strbuf_printf(sb, ", \"seconds\": %.6f, \"cached\": %s", r->seconds,
                             r->cached ? "true" : "false");
        if (s->refine_est) {
            hwnas__strbuf_printf(sb, ", \"refined\": %d, \"refine_error\": ", r->refined);
            if (r->refine_error)
                hwnas__strbuf_json(sb, r->refine_error);
            else
                hwnas__strbuf_puts(sb, "null");
            hwnas__strbuf_printf(sb, ", \"refine_seconds\": %.6f, \"proxy\": {",
                                 r->refine_seconds);
            size_t n_ref = hwnas_estimator_metric_count(s->refine_est);
            for (size_t j = 0; r->proxy && j < n_ref; j++) {
                size_t m = s->refine_map[j];
                hwnas__strbuf_printf(sb, "%s\"%s\": ", j ? ", " : "", s->metric_names[m]);
                json_number(sb, r->proxy[m]);
            }
            hwnas__strbuf_puts(sb, "}");
        }
        if (hwnas_space_has_accel(s->space))
            put_halves(s, sb, r, 1);
        if (s->pruner) {
            hwnas__strbuf_printf(sb, ", \"pruned\": %s, \"curve\": [",
                                 r->pruned ? "true" : "false");
            for (size_t k = 0; k < r->n_curve; k++)
                hwnas__strbuf_printf(sb, "%s[%.17g, %.17g]", k ? ", " : "", r->curve[2 * k],
                                     r->curve[2 * k + 1]);
            hwnas__strbuf_puts(sb, "]");
        }
        hwnas__strbuf_printf(sb, "}%s\n", t + 1 < n ? "," : "");
    }
    hwnas__strbuf_puts(sb, "]\n");
}

static int write_text(const hwnas_search *s, const char *dir, const char *name,
                      hwnas__strbuf *sb)
{
    char path[4096];
    if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, name) >= sizeof path) {
        hwnas__strbuf_release(sb);
        return hwnas__error(HWNAS_EINVAL, "search: path too long in '%s'", dir);
    }
    int rc = sb->failed ? HWNAS_ENOMEM
                        : hwnas__file_write_atomic(s->ctx, path, sb->data ? sb->data : "",
                                                   sb->len, 0);
    hwnas__strbuf_release(sb);
    return rc;
}

/* A front member that decodes to no net has no file. */
static int front_skipped(const hwnas_search *s, const size_t *front, size_t k)
{
    hwnas_net *net;
    if (hwnas_net_new(&net, s->ctx) != HWNAS_OK)
        return 0;
    int skipped = hwnas_space_decode(s->space, s->rec[front[k]].genes, net) != HWNAS_OK;
    hwnas_net_free(net);
    return skipped;
}

/* Under co-design, member i's accelerator as front/NNN.hw (the version-2
 * hardware description, doc/formats/hardware.md), which hwnas estimate
 * and estimator:accelerator's hardware= read. */
static int front_hw(const hwnas_search *s, const char *dir, const hwnas__record *r, size_t i)
{
    if (!hwnas_space_has_accel(s->space))
        return HWNAS_OK;
    hwnas_accel *a = NULL;
    if (hwnas_space_decode_accel(&a, s->space, r->genes) != HWNAS_OK)
        return HWNAS_OK; /* no file, as for a net that does not decode */
    char *text = NULL;
    int rc = hwnas_accel_format(a, &text);
    hwnas_accel_free(a);
    if (rc != HWNAS_OK)
        return rc;
    hwnas__strbuf sb;
    hwnas__strbuf_init(&sb, s->ctx);
    hwnas__strbuf_printf(&sb, "# front member %zu of the search (evaluation %llu): %s\n", i,
                         (unsigned long long)r->eval, r->key);
    hwnas__strbuf_puts(&sb, text);
    hwnas_free(text);
    char name[64];
    snprintf(name, sizeof name, "front/%03zu.hw", i);
    return write_text(s, dir, name, &sb);
}

static int front_nets(const hwnas_search *s, const char *dir, const size_t *front, size_t nf)
{
    char path[4096];
    if ((size_t)snprintf(path, sizeof path, "%s/front", dir) >= sizeof path)
        return hwnas__error(HWNAS_EINVAL, "search: path too long in '%s'", dir);
    if (mkdir(path, 0777) != 0 && errno != EEXIST)
        return hwnas__error(HWNAS_EIO, "cannot create '%s': %s", path, strerror(errno));
    hwnas_net *net;
    int rc = hwnas_net_new(&net, s->ctx);
    for (size_t i = 0; rc == HWNAS_OK && i < nf; i++) {
        const hwnas__record *r = &s->rec[front[i]];
        rc = front_hw(s, dir, r, i);
        if (rc != HWNAS_OK || hwnas_space_decode(s->space, r->genes, net) != HWNAS_OK)
            continue; /* e.g. a space whose candidates are not networks */
        char *spec = NULL;
        rc = hwnas_net_format(net, &spec);
        if (rc != HWNAS_OK)
            break;
        hwnas__strbuf sb;
        hwnas__strbuf_init(&sb, s->ctx);
        hwnas__strbuf_puts(&sb, "# front member ");
        hwnas__strbuf_printf(&sb, "%zu of the search (evaluation %llu): %s\n", i,
                             (unsigned long long)r->eval, r->key);
        hwnas__strbuf_puts(&sb, spec);
        hwnas_free(spec);
        char name[64];
        snprintf(name, sizeof name, "front/%03zu.net", i);
        rc = write_text(s, dir, name, &sb);
    }
    hwnas_net_free(net);
    /* Members of an earlier, larger front are not members of this one. */
    DIR *d = rc == HWNAS_OK ? opendir(path) : NULL;
    for (struct dirent *e; d && (e = readdir(d)) != NULL;) {
        char *end;
        unsigned long k = strtoul(e->d_name, &end, 10);
        int is_net = strcmp(end, ".net") == 0, is_hw = strcmp(end, ".hw") == 0;
        if (end - e->d_name >= 3 && (is_net || is_hw) && e->d_name[0] != '-' &&
            (k >= nf || (is_net ? front_skipped(s, front, k) : !hwnas_space_has_accel(s->space)))) {
            char old[4400];
            snprintf(old, sizeof old, "%s/%s", path, e->d_name);
            if (unlink(old) != 0 && errno != ENOENT)
                rc = hwnas__error(HWNAS_EIO, "cannot remove '%s', no longer on the front: %s",
                                  old, strerror(errno));
        }
    }
    if (d)
        closedir(d);
    return rc;
}

int hwnas__results_write(const hwnas_search *s, const char *dir)
{
    size_t *front = NULL, nf = 0;
    int rc = hwnas__search_front_all(s, &front, &nf);
    hwnas__strbuf sb;
    if (rc == HWNAS_OK) {
        hwnas__strbuf_init(&sb, s->ctx);
        csv_rows(s, &sb, NULL, s->n_rec);
        rc = write_text(s, dir, "archive.csv", &sb);
    }
    if (rc == HWNAS_OK) {
        hwnas__strbuf_init(&sb, s->ctx);
        json_rows(s, &sb, NULL, s->n_rec);
        rc = write_text(s, dir, "archive.json", &sb);
    }
    if (rc == HWNAS_OK) {
        hwnas__strbuf_init(&sb, s->ctx);
        csv_rows(s, &sb, front, nf);
        rc = write_text(s, dir, "front.csv", &sb);
    }
    if (rc == HWNAS_OK) {
        hwnas__strbuf_init(&sb, s->ctx);
        json_rows(s, &sb, front, nf);
        rc = write_text(s, dir, "front.json", &sb);
    }
    if (rc == HWNAS_OK)
        rc = front_nets(s, dir, front, nf);
    hwnas__free(s->ctx, front);
    return rc;
}
