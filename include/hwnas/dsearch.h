/*
 * libhwnas - differentiable architecture search (DARTS, GDAS) with a
 * hardware cost in the loss.
 *
 * The search trains the "full" cell supernet (include/hwnas/supernet.h:
 * every operation on every edge) with each cell node's sum weighted by
 * per-(edge, operation) architecture parameters alpha, shared by every
 * cell: DARTS weights the operations by softmax(alpha) and updates alpha
 * by gradient (first order, or second order: darts2); GDAS samples one
 * operation per edge with the Gumbel-softmax (hard one-hot forward,
 * straight-through gradient, a temperature falling linearly from tau_max
 * to tau_min) and computes only the sampled operations; FBNet weights
 * them by the Gumbel-softmax; ProxylessNAS runs one sampled path and
 * updates alpha through a second one's gate gradient. Weights (SGD) and alpha (Adam) are updated
 * alternately on the two halves of the training set. The loss is
 *   cross-entropy + lambda * E[cost](alpha) / cost_max,
 * E[cost] = sum over edges and operations of softmax(alpha) times the
 * operation's cost on that edge summed over the cells (macs, params,
 * latency-table entries or accelerator energy/cycles of the nodes that
 * operation alone runs), cost_max the cost of the dearest operation on
 * every edge (so the term lies in [0, 1] whatever the unit); form=mul
 * (FBNet) and form=target are the other losses.
 *
 * Results (out_dir, created if needed), one run per lambda value i:
 *   cost.csv              edge, op, macs, params, cost (the table, built once)
 *   lambda-<i>/alpha.csv  epoch, edge, op, alpha, prob: the trajectory
 *   lambda-<i>/epochs.csv epoch, w_loss, w_acc, a_loss, a_acc, cost
 *   lambda-<i>/derived.net  the derived cell network (net spec)
 *   lambda-<i>/checkpoint.dsn  the state a killed run resumes from
 *   lambda-<i>/result.csv the run's row of front.csv (written last)
 *   front.csv             lambda, arch, accuracy, retrain_accuracy, macs,
 *                         params, cost, pareto (1: on the accuracy-cost
 *                         front), net
 * The derived cell takes the most probable operation of each edge; with
 * skip_cap >= 0, skip connections beyond the cap (the least probable
 * first) give way to their edge's best other operation (P-DARTS' remedy
 * for DARTS' collapse to skip connections).
 *
 * Determinism: the same options and datasets give the same bytes at any
 * thread count, and a run killed (even by SIGKILL) and started again with
 * the same arguments resumes from its last checkpoint and ends with the
 * uninterrupted run's results.
 */
#ifndef HWNAS_DSEARCH_H
#define HWNAS_DSEARCH_H

#include <stddef.h>
#include <stdint.h>

#include "export.h"
#include "model.h"

HWNAS_BEGIN_DECLS

struct hwnas_context;
struct hwnas_dataset;

/*
 * Run a differentiable search with options "key=value;..." of the kind
 * "dsearch" (hwnas describe dsearch): method (darts | darts2 | gdas |
 * fbnet | proxyless), cost (none | macs | params | latency | energy |
 * cycles), form (add | mul | target: how the cost enters the loss; gamma
 * 0.6, target), lambda (comma-separated values, "0"), lut (cost=latency:
 * a latency table file; empty: this host profiled once into
 * out_dir/latency.lut), hardware and accel_options (cost=energy|cycles:
 * a .hw description and hwnas_accel_run's options), epochs (10), batch
 * (64), channels (8), cells (1) and seed (1) of the supernet, w_lr (0.025,
 * cosine to 0), w_momentum (0.9), w_wd (3e-4), w_clip (5: gradient norm
 * clip), a_lr (3e-4), a_wd (1e-3), a_beta1 (0.5), a_beta2 (0.999), xi
 * (darts2's virtual step, -1: w_lr), tau_max (10), tau_min (0.1),
 * skip_cap (-1: none), calibration (512) and evaluation (1000) images for
 * rating the derived net with the supernet's weights, retrain (0: epochs
 * to train each derived net from scratch on train and evaluate it on
 * eval), checkpoint_every (50 steps). doc/dsearch.md describes each
 * method and form.
 *
 * train (normalised by the caller) is split in halves (stratified, by
 * seed): weights train on one, alpha on the other. eval (may be NULL: the
 * alpha half) rates the derived nets. cb (may be NULL) gets progress as
 * hwnas_model_train's (the epoch and step of the current lambda's run); a
 * non-zero return stops the search after a checkpoint (HWNAS_EUSER).
 *
 * Errors: HWNAS_EINVAL (NULL argument, bad option naming the key, a
 * dataset of another shape, the loss not finite: the message gives lambda,
 * the epoch and step; the last checkpoint stays; a cost source pricing a
 * convolution at 0), HWNAS_ENOTFOUND (a latency table lacking an
 * operation's layer: the message names the operation, edge and key; a
 * missing file), HWNAS_EFORMAT (a checkpoint that is not one, or written
 * with other options: the message names the file; a bad table or .hw),
 * HWNAS_EIO (out_dir), HWNAS_EUSER, HWNAS_ENOMEM.
 * Thread-safety: datasets and ctx are only read; do not run two searches
 * into one out_dir.
 */
HWNAS_API int hwnas_dsearch_run(struct hwnas_context *ctx, const struct hwnas_dataset *train,
                                const struct hwnas_dataset *eval, const char *options,
                                const char *out_dir, hwnas_model_progress_cb cb,
                                void *user_data);

/*
 * Check options of the kind "dsearch" without running anything: every key,
 * type and range, the lambda list and the combinations (form=target needs
 * target, form=mul or target a cost source). Errors: HWNAS_EINVAL naming
 * the key and value. Thread-safe.
 */
HWNAS_API int hwnas_dsearch_check_options(struct hwnas_context *ctx, const char *options);

/*
 * Draw the plots of the directory dir that hwnas_dsearch_run wrote:
 * dir/front.svg, each lambda's derived net by its hardware cost (x) and
 * accuracy (y: retrain_accuracy when every row has one, else the
 * inherited-weight accuracy), the accuracy-cost front red and joined; and
 * dir/lambda-<i>/alpha.svg for every run i with an alpha.csv: one panel
 * per edge, each operation's probability over the epochs. Each file is
 * written atomically. Errors: HWNAS_EINVAL (NULL argument),
 * HWNAS_ENOTFOUND (no dir/front.csv), HWNAS_EFORMAT (a table without the
 * columns it needs, or a figure that is not a number: file, line and
 * column named), HWNAS_EIO, HWNAS_ENOMEM. Reads and writes files only;
 * calls on different directories may run at once. (Implemented by the
 * report part, lib/report, which draws every results directory.)
 */
HWNAS_API int hwnas_dsearch_write_plots(struct hwnas_context *ctx, const char *dir);

HWNAS_END_DECLS

#endif /* HWNAS_DSEARCH_H */
