/*
 * Resuming: a search re-created from its directory (search.conf), the
 * journal's records put back in the archive as far as the snapshot covers
 * them, the strategy loaded, and the rest left for the run loop to replay
 * instead of estimating again (doc/search.md, "Nothing lost").
 */
#include <string.h>

#include "search_internal.h"

/* At start, once the objectives are known: read the journal and snapshot. */
int hwnas__resume_load(hwnas_search *s)
{
    char path[4096];
    size_t covered = 0;
    int rc = hwnas__path_in(s->resume_dir, "journal.tsv", path, sizeof path);
    if (rc == HWNAS_OK)
        rc = hwnas__journal_read(s, path);
    if (rc == HWNAS_OK)
        rc = hwnas__path_in(s->resume_dir, "snapshot.bin", path, sizeof path);
    if (rc == HWNAS_OK)
        rc = hwnas__snapshot_read(s, path, &covered);
    /* What the snapshot covers is the archive; the strategy will ask the
     * rest again, and those answers come from the journal. */
    for (size_t i = 0; rc == HWNAS_OK && i < covered; i++) {
        hwnas__record *r = &s->replay[i];
        rc = hwnas__search_score(s, r);
        if (rc == HWNAS_OK && !r->failed && !r->cached && hwnas__cache_find(s, r->hash) < 0)
            rc = hwnas__cache_put(s, r->hash, (int64_t)s->n_rec);
        if (rc == HWNAS_OK)
            rc = hwnas__search_archive(s, r);
    }
    if (rc == HWNAS_OK) {
        if (covered) /* replay is NULL when the journal held no record */
            memmove(s->replay, s->replay + covered,
                    (s->n_replay - covered) * sizeof *s->replay);
        s->n_replay -= covered;
        hwnas__free(s->ctx, s->resume_dir);
        s->resume_dir = NULL;
    }
    /* Refinement follows the final snapshot: when the snapshot covers the
     * whole journal, the journaled refinements are those of this archive. */
    if (rc == HWNAS_OK && s->n_replay == 0 && s->n_refine_log)
        rc = hwnas__search_refine(s, 0);
    return rc;
}

int hwnas_search_resume(hwnas_search **out, hwnas_context *ctx, const char *dir,
                        const char *options)
{
    if (!out)
        return hwnas__error(HWNAS_EINVAL, "hwnas_search_resume: out is NULL");
    *out = NULL;
    if (!ctx || !dir)
        return hwnas__error(HWNAS_EINVAL, "hwnas_search_resume: ctx and dir are required");
    char path[4096];
    if (hwnas__path_in(dir, "search.conf", path, sizeof path) != HWNAS_OK)
        return HWNAS_EINVAL;
    hwnas__config c;
    int rc = hwnas__config_read(ctx, path, &c);
    if (rc == HWNAS_ENOTFOUND)
        return hwnas__error(HWNAS_ENOTFOUND, "no search to resume in '%s' (no search.conf)", dir);
    if (rc != HWNAS_OK)
        return rc;
    hwnas__strbuf opts;
    hwnas__strbuf_init(&opts, ctx);
    hwnas__strbuf_printf(&opts, "%s;out=\"", c.options);
    for (const char *d = dir; *d; d++) {
        if (*d == '"' || *d == '\\')
            hwnas__strbuf_puts(&opts, "\\");
        hwnas__strbuf_append(&opts, d, 1);
    }
    hwnas__strbuf_printf(&opts, "\";%s", options ? options : "");
    hwnas_search *s = NULL;
    rc = opts.failed ? HWNAS_ENOMEM
                     : hwnas_search_new(&s, ctx, c.space, c.space_options, c.strategy,
                                        c.strategy_options, opts.data);
    hwnas__strbuf_release(&opts);
    for (size_t e = 0; rc == HWNAS_OK && e < c.n_est; e++)
        if (strncmp(c.est_kind[e], "custom:", 7) != 0)
            rc = hwnas_search_add_estimator(s, c.est_kind[e], c.est_options[e]);
    hwnas__config_free(ctx, &c);
    if (rc == HWNAS_OK) {
        s->resume_dir = hwnas__strdup(ctx, dir);
        if (!s->resume_dir)
            rc = HWNAS_ENOMEM;
    }
    if (rc != HWNAS_OK) {
        hwnas_search_free(s);
        return rc;
    }
    *out = s;
    return HWNAS_OK;
}
