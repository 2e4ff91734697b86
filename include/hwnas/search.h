/*
 * libhwnas - the search: space + strategy + estimators, run to a budget.
 *
 * The driver runs  ask -> decode -> cache lookup by phenotype hash ->
 * estimate the rest in parallel -> tell -> callbacks  until its budget is
 * spent, keeping an archive of every candidate. Objectives name metrics of
 * the estimators and a direction ("accuracy:max,energy_uj:min");
 * constraints bound metrics ("latency_ms<=5,params<=100000").
 *
 * With an output directory, nothing is lost: every evaluation is appended
 * to a journal and fsync'd as it is written, the strategy's state is
 * snapshotted atomically every `snapshot_every` evaluations, and
 * hwnas_search_resume() continues a killed search so that it finishes
 * with exactly the archive of an uninterrupted run with the same seed.
 * Results (archive and Pareto front as CSV and JSON, the front's nets as
 * .net files, SVG plots) are written by hwnas_search_write_results().
 *
 * Options (hwnas describe search):
 *   objectives, constraints, evaluations (budget), time_limit (seconds),
 *   batch, threads (0 = the context's), seed (0 = the context's), out
 *   (directory; "" = keep nothing on disk), snapshot_every, hv_reference,
 *   screen, refine, refine_estimator, refine_by, codesign, codesign_options,
 *   guide, guide_options, guide_pool, guide_min, guide_kappa, guide_encoding,
 *   guide_rest; and for one session only (never saved): salvage, read_only,
 *   start_over (see below).
 *
 * One search per directory: with out set, the search holds an exclusive
 * lock on out/hwnas.lock (flock, released by the kernel when the process
 * ends) until it is freed; another search, resume or report on the same
 * directory fails with HWNAS_ESTATE naming the holder's PID. A new search
 * into a directory holding one (journal.tsv or snapshot.bin) fails with
 * HWNAS_ESTATE when it starts, before any evaluation, unless
 * start_over=true, which moves the old files into out/previous.N/.
 *
 * Multi-fidelity (refine=K, refine_estimator="kind:options"): the strategy
 * ranks candidates by cheap proxy figures; once hwnas_search_run has spent
 * the budget, the K best (feasible, one per phenotype, by non-dominated
 * rank of the proxy objectives, then the first objective; or by the first
 * objective alone with refine_by=first) are estimated
 * again with the refine estimator, whose metrics (each one the search
 * knows; at least one objective) replace the proxy figures of those
 * candidates. The front is then chosen among the refined candidates only;
 * hypervolume stays that of the figures the strategy was told. Refinements
 * are journaled, so a search killed while refining resumes to the same
 * front. Hosts that drive the search with ask/tell get no refinement.
 *
 * Predictor-guided batches (guide=mlp|gbrt|gp; doc/predict.md): each batch
 * of hwnas_search_run asks the strategy for guide_pool candidates, fits a
 * surrogate (predict.h) per objective on the archive, and estimates only
 * the batch it ranks best; the strategy is told the rest as never
 * evaluated, and nothing of them is archived, journaled or counted. Every
 * estimator also hears of every archived result through
 * hwnas_estimator_observe (estimator:predictor learns from it). Hosts that
 * drive the search with ask/tell get no guidance.
 *
 * Determinism: candidate k (the k-th evaluation) estimates with random
 * stream k, so results do not depend on the number of threads.
 *
 * Thread rules: one thread drives a search. During hwnas_search_run the
 * estimators run on worker threads; the candidate callback is called on
 * the driving thread, in evaluation order. hwnas_search_stop() may be
 * called from any thread or a signal handler.
 */
#ifndef HWNAS_SEARCH_H
#define HWNAS_SEARCH_H

#include <stddef.h>
#include <stdint.h>

#include "export.h"

HWNAS_BEGIN_DECLS

typedef struct hwnas_search hwnas_search;
struct hwnas_context;
struct hwnas_space;
struct hwnas_strategy;
struct hwnas_estimator;

/*
 * Create a search over a space and strategy of the given kinds and options.
 * Add estimators before running. The search owns the space and strategy it
 * creates (hwnas_search_space / _strategy borrow them).
 * Errors: HWNAS_EINVAL (NULL, bad option: named), HWNAS_ENOTFOUND (unknown
 * kind), HWNAS_EIO (out directory cannot be created or locked),
 * HWNAS_ESTATE (out is held by another search: its PID is named),
 * HWNAS_ENOMEM.
 * The strategy's objective count comes from the objectives option.
 */
HWNAS_API int hwnas_search_new(hwnas_search **out, struct hwnas_context *ctx,
                               const char *space_kind, const char *space_options,
                               const char *strategy_kind, const char *strategy_options,
                               const char *options);

/*
 * Continue the search saved in directory dir: the same kinds and options,
 * the archive of its journal, and the strategy state of its last snapshot.
 * The journal is read when the search starts (first run, ask or tell): an
 * unterminated last record (what a crash leaves) is reported in the log
 * and cut off; any other damage fails with HWNAS_EFORMAT naming the file,
 * line and problem, and leaves every file as it is. With the option
 * salvage=true the valid records are kept instead, the damaged originals
 * stay as journal.tsv.damaged.N / snapshot.bin.damaged.N, and the search
 * replays them. With read_only=true nothing in dir is written (a report).
 * Built-in estimators are re-created; custom ones must be added again with
 * hwnas_search_add_estimator_object under the same name before running.
 * options: NULL, or options to change (e.g. a larger "evaluations").
 * Errors: HWNAS_ENOTFOUND (no search in dir), HWNAS_EFORMAT (a damaged
 * config: the file is named), HWNAS_ESTATE (dir is held by another
 * search: its PID is named), and those of _new.
 */
HWNAS_API int hwnas_search_resume(hwnas_search **out, struct hwnas_context *ctx,
                                  const char *dir, const char *options);

/* Free a search (and its space, strategy and built-in estimators). */
HWNAS_API void hwnas_search_free(hwnas_search *search);

/* Add an estimator of a built-in or plugin kind, owned by the search.
 * Errors: those of hwnas_estimator_new, HWNAS_EINVAL when one of its
 * metric names is already produced by an earlier estimator, HWNAS_ESTATE
 * after the search has started. */
HWNAS_API int hwnas_search_add_estimator(hwnas_search *search, const char *kind,
                                         const char *options);

/* Add an estimator the caller owns (custom callbacks); it must outlive the
 * search. Errors as hwnas_search_add_estimator. */
HWNAS_API int hwnas_search_add_estimator_object(hwnas_search *search,
                                                struct hwnas_estimator *est);

/* The search's space and strategy (borrowed). */
HWNAS_API const struct hwnas_space *hwnas_search_space(const hwnas_search *search);
HWNAS_API struct hwnas_strategy *hwnas_search_strategy(hwnas_search *search);

/* Callbacks; each returns 0 to go on, non-zero to stop the run cleanly
 * (hwnas_search_run returns HWNAS_EUSER; the search can be resumed).
 *   candidate: after candidate `index` (archive index) is in the archive
 *   batch:     after a batch has been told to the strategy
 *   progress:  after each batch, with the fraction of the budget spent */
typedef int (*hwnas_search_candidate_cb)(hwnas_search *search, size_t index,
                                         void *user_data);
typedef int (*hwnas_search_batch_cb)(hwnas_search *search, size_t evaluations,
                                     void *user_data);
typedef int (*hwnas_search_progress_cb)(hwnas_search *search, double fraction,
                                        void *user_data);
HWNAS_API void hwnas_search_on_candidate(hwnas_search *search, hwnas_search_candidate_cb cb,
                                         void *user_data);
HWNAS_API void hwnas_search_on_batch(hwnas_search *search, hwnas_search_batch_cb cb,
                                     void *user_data);
HWNAS_API void hwnas_search_on_progress(hwnas_search *search, hwnas_search_progress_cb cb,
                                        void *user_data);

/*
 * Run until the budget is spent (or a callback or hwnas_search_stop stops
 * it). A candidate whose estimation fails is archived with its error and
 * told to the strategy as failed; the search goes on.
 * Errors: HWNAS_EUSER (stopped: resumable), HWNAS_ESTATE (no estimator, or
 * an objective or constraint names a metric no estimator produces: the
 * message lists the metrics; out holds another search and start_over is
 * not set), HWNAS_EFORMAT (a resumed journal or snapshot is damaged: the
 * file and line are named, nothing is changed), HWNAS_EIO (journal or
 * snapshot cannot be written: the search stops, and a resume continues
 * from what was written), HWNAS_ENOMEM.
 */
HWNAS_API int hwnas_search_run(hwnas_search *search);

/* Ask the running search to stop after the current batch. Thread-safe and
 * async-signal-safe. */
HWNAS_API void hwnas_search_stop(hwnas_search *search);

/*
 * Ask/tell from outside, for hosts that evaluate elsewhere: ask for up to
 * max candidates (genes[count * gene_count], ids[count]); evaluate them;
 * tell each result by id with its metrics by name (every metric an
 * objective or constraint needs), or with an error text when it failed.
 * The archive, journal and snapshots work as in hwnas_search_run.
 * Errors: HWNAS_EINVAL (unknown id, a missing metric: named), HWNAS_EIO.
 */
HWNAS_API int hwnas_search_ask(hwnas_search *search, size_t max, uint32_t *genes,
                               uint64_t *ids, size_t *count);
HWNAS_API int hwnas_search_tell(hwnas_search *search, uint64_t id, size_t n_metrics,
                                const char *const *names, const double *values,
                                const char *error);

/* ---- results ------------------------------------------------------- */

/* Number of candidates in the archive (evaluation order). */
HWNAS_API size_t hwnas_search_count(const hwnas_search *search);

/* Metrics the search knows (the union of its estimators', in order). */
HWNAS_API size_t hwnas_search_metric_count(const hwnas_search *search);
HWNAS_API const char *hwnas_search_metric_name(const hwnas_search *search, size_t i);

/* Candidate i: its genes (gene_count; borrowed), genotype string
 * (borrowed), phenotype hash, metric by name (HWNAS_ENOTFOUND for an
 * unknown name, NaN when it failed), error text (NULL when it succeeded),
 * seconds spent estimating, and whether it came from the cache. Out of
 * range: NULL / 0 / HWNAS_EINVAL. */
HWNAS_API const uint32_t *hwnas_search_genes(const hwnas_search *search, size_t i);
HWNAS_API const char *hwnas_search_key(const hwnas_search *search, size_t i);
HWNAS_API uint64_t hwnas_search_hash(const hwnas_search *search, size_t i);
HWNAS_API int hwnas_search_metric(const hwnas_search *search, size_t i, const char *name,
                                  double *out);
HWNAS_API const char *hwnas_search_error(const hwnas_search *search, size_t i);
HWNAS_API double hwnas_search_seconds(const hwnas_search *search, size_t i);
HWNAS_API int hwnas_search_cached(const hwnas_search *search, size_t i);

/* Refinement of candidate i (see refine above): 1 when it was re-estimated
 * (hwnas_search_metric then gives the refined figures), -1 when that
 * failed (hwnas_search_error still describes the proxy estimation; the
 * reason is in archive.csv), 0 otherwise and for a NULL search or i out of
 * range. */
HWNAS_API int hwnas_search_refined(const hwnas_search *search, size_t i);

/* Pruning (search option prune, doc/search.md): 1 when candidate i's
 * training was stopped early by the pruner - its metrics are those of the
 * partly trained net, it is never a front member and never refined - 0
 * otherwise and for a NULL search or i out of range. A cached copy of a
 * pruned candidate is pruned too. */
HWNAS_API int hwnas_search_pruned(const hwnas_search *search, size_t i);

/* Candidate i's learning curve under pruning: its validation accuracy (%)
 * after each reported training position (epochs, fractions allowed, in
 * increasing order). Copies the first min(cap, n) points into epochs[] and
 * values[] (either may be NULL to skip it; cap 0 asks the count) and
 * returns n, the number of points; 0 without a curve (no pruning, a
 * candidate that never trained), a NULL search or i out of range. Reads
 * the archive: not while hwnas_search_run runs on another thread. */
HWNAS_API size_t hwnas_search_curve(const hwnas_search *search, size_t i, double *epochs,
                                    double *values, size_t cap);

/* Candidate i's metric as the strategy was told it: the proxy figure of a
 * refined candidate, else the same as hwnas_search_metric.
 * Errors: HWNAS_EINVAL (NULL argument, i out of range), HWNAS_ENOTFOUND. */
HWNAS_API int hwnas_search_proxy_metric(const hwnas_search *search, size_t i,
                                        const char *name, double *out);

/*
 * The Pareto front: indices of the feasible, non-dominated, successfully
 * evaluated candidates (one per phenotype; only refined ones once any
 * candidate is refined), sorted by the first objective, into
 * indices[0..cap); returns the front's size (a smaller cap writes a
 * prefix). Errors are returned as 0 with the last error set.
 */
HWNAS_API size_t hwnas_search_front(const hwnas_search *search, size_t *indices, size_t cap);

/* Hypervolume of the front in objective space (maximised objectives
 * negated) against the hv_reference option, or the default reference
 * (documented in doc/search.md), by the figures the strategy was told
 * (proxy figures, before any refinement). Errors: HWNAS_ESTATE (no
 * feasible candidate), HWNAS_ENOMEM. */
HWNAS_API int hwnas_search_hypervolume(const hwnas_search *search, double *out);

/* Write archive.csv, archive.json, front.csv, front.json, front/NNN.net,
 * front.svg and hypervolume.svg into dir (NULL = the out option). Under
 * co-design (a space with hardware) also front/NNN.hw, each member's
 * accelerator (doc/formats/hardware.md), and the network and hardware
 * genotype strings as the tables' last columns (doc/search.md). Beside
 * every front/NNN.net, front/NNN.onnx: the member's architecture as ONNX
 * (no weights; none when hwnas_onnx_available() is 0).
 * Errors: HWNAS_EINVAL (no directory), HWNAS_EIO naming the file. */
HWNAS_API int hwnas_search_write_results(const hwnas_search *search, const char *dir);

/*
 * Write one self-contained HTML page about the search: a summary, the
 * front as a table, the front and hypervolume plots (inline SVG, as
 * hwnas_search_write_results draws them), each front member's layers
 * (op, output shape, multiplier and bit width, MACs, parameters) and, when
 * the search prices energy with estimator:accelerator, each layer's energy
 * and latency and the net's energy by memory level (hwnas_accel_run with
 * that estimator's options, on the member's own accelerator under
 * co-design), and the search's settings (space, strategy, options,
 * estimators). The page fetches nothing: no URL, styles inline, and a
 * Content-Security-Policy that allows no other source; every name from a
 * file or option is escaped.
 * dir is the results directory hwnas_search_write_results wrote (its
 * archive.csv and front.csv are drawn; NULL or "" = the out option); path
 * is the page (NULL or "" = dir/report.html), written atomically.
 * Errors: HWNAS_EINVAL (no search or directory, a bad hv_reference),
 * HWNAS_ESTATE (not started), HWNAS_ENOTFOUND / HWNAS_EFORMAT (the
 * directory's tables, named), HWNAS_EIO (naming the file), HWNAS_ENOMEM.
 * Reads the search only: not concurrently with a call that changes it.
 */
HWNAS_API int hwnas_search_write_report(const hwnas_search *search, const char *dir,
                                        const char *path);

/*
 * Draw dir/front.svg again, from the results directory dir (what
 * hwnas_search_write_results wrote there: archive.csv and front.csv), as
 * one panel of metric y over metric x: any two metric columns, objectives
 * or not (accuracy over edp, area_mm2 over latency_ms). Every candidate is
 * drawn faded (infeasible ones red), the front's members highlighted.
 * Errors: HWNAS_EINVAL (NULL argument), HWNAS_ENOTFOUND (no such table),
 * HWNAS_EFORMAT (a table that is not a search's, or that has no column x
 * or y: the message names it), HWNAS_EIO, HWNAS_ENOMEM.
 */
HWNAS_API int hwnas_search_plot_front(struct hwnas_context *ctx, const char *dir,
                                      const char *x, const char *y);

HWNAS_END_DECLS

#endif /* HWNAS_SEARCH_H */
