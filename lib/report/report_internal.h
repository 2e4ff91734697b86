/* libhwnas report - plots and the HTML report drawn from a results
 * directory (what the search wrote: archive.csv, front.csv). Not
 * installed. The report sits above the search (DESIGN.md): it reads what
 * the search exposes; the search never includes it. */
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

/* What the plots of one search draw, and how. */
typedef struct hwnas__report_setup {
    hwnas__report_objectives obj;
    const char *title; /* names the search (raw text, escaped when drawn); NULL: none */
    const double *ref; /* hv_reference (minimised, obj.n values); NULL: the default,
                        * recomputed at each point as the progress line does */
    size_t step;       /* evaluations between two points of the hypervolume plot; 0 = 1 */
    int inline_svg;    /* for HTML: no XML namespace (the file names no URL) */
} hwnas__report_setup;

/* ticks.c */
/* Round ticks for an axis over [*lo, *hi]: 1-2-5 steps aiming at about
 * target intervals, or decades when log_axis (and *lo > 0); the range is
 * widened to the outer ticks. Writes at most cap values to out, returns
 * their number; *step (may be NULL) gets the step (decades when log). */
size_t hwnas__report_ticks(double *lo, double *hi, int log_axis, size_t target, double *out,
                           size_t cap, double *step);
/* A tick's text: as many decimals as the step needs, decades as 0.01,
 * 1, 1000 or 1e6. */
void hwnas__report_tick_label(double v, double step, int log_axis, char *buf, size_t size);
/* What a metric measures and its unit ("energy [energy_uj] (uJ)"), for
 * axis labels; other names as they are (escaped). */
void hwnas__report_axis_label(hwnas__strbuf *sb, const char *metric);
/* The unit of a known metric (UTF-8), NULL when unknown or unitless. */
const char *hwnas__report_unit(const char *metric);
/* text with & < > " ' escaped and control bytes replaced: safe in HTML
 * and XML text and attribute values. */
void hwnas__report_escape(hwnas__strbuf *sb, const char *text);

/* plots.c */
/* front.svg and, when hv, hypervolume.svg into dir, from its archive.csv
 * and front.csv: each pair of objectives with every candidate (proxy-only,
 * refined and infeasible ones drawn apart) and the front (joined when
 * there are two objectives); the hypervolume after every setup->step
 * evaluations (at most 400 points) by the figures the strategy was told,
 * against setup->ref or the reference of that moment - what the progress
 * line printed after each batch. No point while nothing is feasible.
 * Errors: HWNAS_EFORMAT (a file that is not a search's table: file and
 * line named), HWNAS_ENOTFOUND, HWNAS_EIO, HWNAS_ENOMEM. */
int hwnas__report_plots(hwnas_context *ctx, const char *dir, const hwnas__report_setup *setup,
                        int hv);
/* The same drawings appended to out (errors as above; *drawn (hv) is 0
 * when nothing was feasible, and nothing is appended then). */
int hwnas__report_front_svg(hwnas_context *ctx, const char *dir,
                            const hwnas__report_setup *setup, hwnas__strbuf *out);
int hwnas__report_hv_svg(hwnas_context *ctx, const char *dir, const hwnas__report_setup *setup,
                         hwnas__strbuf *out, int *drawn);
/* The hypervolume series of that plot: *n points, after at[i] evaluations
 * hv[i] (both hwnas__free). */
int hwnas__report_hv_series(hwnas_context *ctx, const char *dir,
                            const hwnas__report_setup *setup, size_t **at, double **hv,
                            size_t *n);
/* The title of the search whose files are in dir: "DIR: space S,
 * strategy T, N evaluations" (raw text), space and strategy from its
 * search.conf when they are NULL (left out when there is none). */
void hwnas__report_title(hwnas_context *ctx, const char *dir, const char *space,
                         const char *strategy, size_t evaluations, hwnas__strbuf *sb);

/* accel_default.c */
struct hwnas_accel;
/* The built-in eyeriss-45nm-int8, estimator:accelerator's default
 * (hwnas_accel_parse's errors; *out: hwnas_accel_free). */
int hwnas__report_default_accel(struct hwnas_accel **out, hwnas_context *ctx,
                                const char *axmul_dir);

/* write_results.c */
struct hwnas_search;
/* The setup of search s's plots in dir (names, signs and a fixed
 * reference allocated: hwnas__report_setup_release; title's text is
 * st->title). Errors: HWNAS_ENOMEM, and a bad hv_reference (st usable,
 * without a reference). */
int hwnas__report_setup_of(const struct hwnas_search *s, const char *dir,
                           hwnas__report_setup *st, hwnas__strbuf *title);
void hwnas__report_setup_release(const struct hwnas_search *s, hwnas__report_setup *st);

/* front/NNN.onnx (architecture only) beside every front/NNN.net in dir,
 * and no .onnx without its .net; nothing in a build without ONNX.
 * front_onnx.c. Errors: HWNAS_EIO (naming the file), those of reading the
 * .net and writing the .onnx. */
int hwnas__report_front_onnx(hwnas_context *ctx, const char *dir);

#endif
