/*
 * hwnas_search_write_results (search.h): the search writes its tables,
 * then the report draws the plots from them. It lives here, above the
 * search, so that the search never knows how its results are drawn.
 */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "report_internal.h"
#include "search/search_internal.h"

int hwnas__report_setup_of(const hwnas_search *s, const char *dir, hwnas__report_setup *st,
                           hwnas__strbuf *title)
{
    memset(st, 0, sizeof *st);
    const char **names = hwnas__malloc(s->ctx, (s->n_obj + 1) * sizeof *names);
    double *sign = hwnas__malloc(s->ctx, (s->n_obj + 1) * sizeof *sign);
    double *ref = hwnas__malloc(s->ctx, (s->n_obj + 1) * sizeof *ref);
    st->obj = (hwnas__report_objectives){s->n_obj, names, sign};
    st->ref = ref;
    if (!names || !sign || !ref)
        return HWNAS_ENOMEM;
    for (size_t k = 0; k < s->n_obj; k++) {
        names[k] = s->obj[k].name;
        sign[k] = s->obj[k].sign;
    }
    /* Every evaluation: a batch ends where the strategy's asks end too,
     * so the progress lines' counts are not multiples of the batch. */
    st->step = 1;
    hwnas__report_title(s->ctx, dir, s->space_kind, s->strategy_kind, s->n_rec, title);
    st->title = title->failed ? NULL : title->data;
    /* The default reference moves with the archive, as the progress
     * line's does; an hv_reference is one point for the whole plot. */
    if (!*hwnas__options_str(s->options, OPT_HV_REFERENCE)) {
        st->ref = NULL;
        hwnas__free(s->ctx, ref);
        return HWNAS_OK;
    }
    return hwnas__search_reference(s, ref);
}

void hwnas__report_setup_release(const hwnas_search *s, hwnas__report_setup *st)
{
    hwnas__free(s->ctx, (void *)st->obj.names);
    hwnas__free(s->ctx, (void *)st->obj.sign);
    hwnas__free(s->ctx, (void *)st->ref);
}

static int plots(const hwnas_search *s, const char *dir)
{
    hwnas__report_setup st;
    hwnas__strbuf title;
    hwnas__strbuf_init(&title, s->ctx);
    int rc = hwnas__report_setup_of(s, dir, &st, &title);
    /* A bad hv_reference is an error, but front.svg is drawn first. */
    int ref_rc = rc;
    if (rc != HWNAS_ENOMEM)
        rc = hwnas__report_plots(s->ctx, dir, &st, ref_rc == HWNAS_OK);
    if (rc == HWNAS_OK)
        rc = ref_rc;
    hwnas__report_setup_release(s, &st);
    hwnas__strbuf_release(&title);
    return rc;
}

int hwnas_search_write_results(const hwnas_search *s, const char *dir)
{
    if (!s)
        return hwnas__error(HWNAS_EINVAL, "hwnas_search_write_results: search is NULL");
    if (!dir || !*dir)
        dir = hwnas__search_out(s);
    if (!*dir)
        return hwnas__error(HWNAS_EINVAL, "hwnas_search_write_results: no directory (set the "
                                          "out option or pass one)");
    if (mkdir(dir, 0777) != 0 && errno != EEXIST)
        return hwnas__error(HWNAS_EIO, "cannot create '%s': %s", dir, strerror(errno));
    if (!s->started)
        return hwnas__error(HWNAS_ESTATE, "search: not started, no results");
    int rc = hwnas__results_write(s, dir);
    if (rc == HWNAS_OK)
        rc = hwnas__report_front_onnx(s->ctx, dir);
    return rc == HWNAS_OK ? plots(s, dir) : rc;
}
