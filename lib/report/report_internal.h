/* libhwnas report - plots drawn from a results directory (what the search
 * wrote: archive.csv, front.csv). Not installed. The report sits above the
 * search (DESIGN.md): it reads what the search exposes; the search never
 * includes it. */
#ifndef HWNAS_REPORT_INTERNAL_H
#define HWNAS_REPORT_INTERNAL_H

#include "core/core_internal.h"

/* The objectives, in order: metric names (columns of archive.csv) and
 * directions. */
typedef struct hwnas__report_objectives {
    size_t n;
    const char *const *names; /* n metric names */
    const double *sign;       /* n: +1 minimised, -1 maximised */
} hwnas__report_objectives;

/* The plots of results directory dir, from its archive.csv and front.csv:
 * front.svg, each pair of objectives with every candidate faded
 * (infeasible ones red) and the front highlighted (joined when there are
 * two objectives); and, when ref is not NULL, hypervolume.svg, the
 * hypervolume of the archive's first evaluations (60 points) by the
 * figures the strategy was told (the proxy figures of refined candidates)
 * against ref (minimised, one value per objective).
 * Errors: HWNAS_EFORMAT (a file that is not a search's table: file and
 * line named), HWNAS_ENOTFOUND, HWNAS_EIO, HWNAS_ENOMEM. */
int hwnas__report_plots(hwnas_context *ctx, const char *dir, const hwnas__report_objectives *o,
                        const double *ref);

#endif
