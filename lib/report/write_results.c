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

static int plots(const hwnas_search *s, const char *dir)
{
    const char **names = hwnas__malloc(s->ctx, (s->n_obj + 1) * sizeof *names);
    double *sign = hwnas__malloc(s->ctx, (s->n_obj + 1) * sizeof *sign);
    double *ref = hwnas__malloc(s->ctx, (s->n_obj + 1) * sizeof *ref);
    int rc = names && sign && ref ? HWNAS_OK : HWNAS_ENOMEM;
    for (size_t k = 0; rc == HWNAS_OK && k < s->n_obj; k++) {
        names[k] = s->obj[k].name;
        sign[k] = s->obj[k].sign;
    }
    hwnas__report_objectives o = {s->n_obj, names, sign};
    /* A bad hv_reference is an error, but front.svg is drawn first. */
    int ref_rc = rc == HWNAS_OK ? hwnas__search_reference(s, ref) : rc;
    if (rc == HWNAS_OK)
        rc = hwnas__report_plots(s->ctx, dir, &o, ref_rc == HWNAS_OK ? ref : NULL);
    if (rc == HWNAS_OK && ref_rc != HWNAS_OK && ref_rc != HWNAS_ESTATE)
        rc = ref_rc; /* HWNAS_ESTATE: nothing feasible, no hypervolume plot */
    hwnas__free(s->ctx, names);
    hwnas__free(s->ctx, sign);
    hwnas__free(s->ctx, ref);
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
    return rc == HWNAS_OK ? plots(s, dir) : rc;
}
