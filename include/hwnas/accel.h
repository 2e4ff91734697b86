/*
 * libhwnas - the accelerator model: a network mapped layer by layer onto a
 * spatial array, with energy, cycles and area per memory level.
 *
 * A hardware description (doc/formats/hardware.md, version 2) lists a
 * memory hierarchy from DRAM down to the multiply-accumulate units: for
 * each level its instances and mesh, capacity, word and block width, the
 * operands it keeps, the energy of a read, a fill and an update, its area
 * and bandwidth, and the dataflow constraints on the loops it may hold;
 * then the MAC (bit widths, energy, area, the multiplier every PE has) and
 * the clock. Version 1 files (estimator:energy's quick formula) load too,
 * as a three-level row-stationary array with their parameters.
 *
 * Every multiplying layer (conv2d, dwconv2d, linear) is the loop nest over
 * N, G, C, M, R, S, P, Q; a mapping factors each dimension over the levels
 * (temporal loops and their order per level, spatial loops across the
 * fan-out). The model counts, per level and operand, the reads, fills and
 * updates that the mapping implies, the way Timeloop counts them; energy is
 * accesses times energy per action plus MACs times MAC energy; cycles are
 * the larger of the compute cycles at the mapping's utilisation and each
 * level's bandwidth-bound cycles. The mapper searches the legal mappings of
 * each layer for the lowest energy, cycles or energy-delay product
 * (doc/accel.md says how, and what the model does not capture).
 *
 * The estimator kind estimator:accelerator wraps all of this for a search
 * (hwnas describe estimator:accelerator).
 *
 * Thread rules: a description is read-only once loaded and may be shared
 * by any number of threads; hwnas_accel_run() may be called concurrently
 * on one description. A result is independent of its description (it may
 * outlive it) and may be read from many threads at once.
 */
#ifndef HWNAS_ACCEL_H
#define HWNAS_ACCEL_H

#include <stddef.h>
#include <stdint.h>

#include "export.h"

HWNAS_BEGIN_DECLS

typedef struct hwnas_accel hwnas_accel;
typedef struct hwnas_accel_result hwnas_accel_result;
struct hwnas_context;
struct hwnas_net;

/*
 * Read a hardware description file (gzip read transparently), or parse
 * NUL-terminated text (name_for_errors prefixes messages; NULL =
 * "<string>"). A multiplier named in the file that is not built in is
 * looked up in axmul_dir (a directory of imported tables, see axmul.h;
 * NULL or "" = built-in names only).
 * Errors: HWNAS_EINVAL (NULL argument), HWNAS_ENOTFOUND / HWNAS_EIO (the
 * file or the multiplier, named), HWNAS_EVERSION (a newer format version),
 * HWNAS_EFORMAT (file, line and key, and what is wrong: an unknown key, a
 * value out of range, an inconsistent hierarchy), HWNAS_ENOMEM.
 * *out is the caller's (hwnas_accel_free), NULL on error.
 */
HWNAS_API int hwnas_accel_load(hwnas_accel **out, struct hwnas_context *ctx,
                               const char *path, const char *axmul_dir);
HWNAS_API int hwnas_accel_parse(hwnas_accel **out, struct hwnas_context *ctx,
                                const char *text, const char *name_for_errors,
                                const char *axmul_dir);

/* Free a description. No-op on NULL. */
HWNAS_API void hwnas_accel_free(hwnas_accel *accel);

/* The description as version-2 text; parsing it gives the same model.
 * *out is the caller's (hwnas_free). Errors: HWNAS_EINVAL, HWNAS_ENOMEM. */
HWNAS_API int hwnas_accel_format(const hwnas_accel *accel, char **out);

/* Its name (borrowed), number of storage levels and level i's name
 * (outermost first; NULL out of range), clock in MHz, number of MACs,
 * and chip area in mm^2 (every level's instances and the MACs, with the
 * multiplier's relative area). */
HWNAS_API const char *hwnas_accel_name(const hwnas_accel *accel);
HWNAS_API size_t hwnas_accel_level_count(const hwnas_accel *accel);
HWNAS_API const char *hwnas_accel_level_name(const hwnas_accel *accel, size_t i);
HWNAS_API double hwnas_accel_clock_mhz(const hwnas_accel *accel);
HWNAS_API int64_t hwnas_accel_mac_count(const hwnas_accel *accel);
HWNAS_API double hwnas_accel_area_mm2(const hwnas_accel *accel);

/* A content hash of the description: equal for descriptions whose
 * version-2 text (hwnas_accel_format) is equal, so they model alike;
 * stable across runs and platforms. 0 for NULL. */
HWNAS_API uint64_t hwnas_accel_hash(const hwnas_accel *accel);

/*
 * Map every multiplying layer of net onto the accelerator and evaluate it.
 * options ("key=value;...", NULL = defaults; hwnas describe accel lists
 * them): objective=energy|cycles|edp, budget (mappings tried per layer),
 * seed, batch (images per run: weights are fetched once per batch),
 * mappings (a file of explicit mappings by layer name,
 * doc/formats/mapping.md: listed layers are evaluated as given, the others
 * are mapped), fuse (a layer's output that the next layer reads stays in
 * the outermost on-chip level when both tensors fit there), axmul_dir
 * (imported multiplier tables; empty = the directory the description was
 * loaded with).
 * A layer's multiplier is the node's (hwnas_net_node_multiplier) unless
 * that is "exact", then the description's.
 * Errors: HWNAS_EINVAL (NULL argument, bad option, a given mapping that is
 * illegal, a layer that fits no mapping: the message names the layer and
 * the level), HWNAS_ENOTFOUND (a multiplier or the mappings file),
 * HWNAS_EFORMAT (the mappings file: file, line), HWNAS_ENOMEM.
 * *out is the caller's (hwnas_accel_result_free), NULL on error.
 */
HWNAS_API int hwnas_accel_run(hwnas_accel_result **out, const hwnas_accel *accel,
                              const struct hwnas_net *net, const char *options);

/* Free a result. No-op on NULL. */
HWNAS_API void hwnas_accel_result_free(hwnas_accel_result *result);

/* Number of layers mapped (the net's multiplying nodes, in net order),
 * and layer i's node index in the net (-1 out of range), name and mapping
 * in the text of doc/formats/mapping.md (borrowed; NULL out of range). */
HWNAS_API size_t hwnas_accel_result_layer_count(const hwnas_accel_result *result);
HWNAS_API int64_t hwnas_accel_result_layer_node(const hwnas_accel_result *result, size_t i);
HWNAS_API const char *hwnas_accel_result_layer_name(const hwnas_accel_result *result,
                                                    size_t i);
HWNAS_API const char *hwnas_accel_result_layer_mapping(const hwnas_accel_result *result,
                                                       size_t i);

/*
 * A figure of layer i, or of the whole net when layer is -1:
 *   energy_uj, energy_mac_uj, energy_mul_uj, latency_ms, cycles, edp
 *   (uJ x ms), utilisation (MACs busy / MACs, cycle-weighted over the
 *   net), dram_accesses (words), macs, mac_energy_share (MAC energy /
 *   energy), area_mm2 (the chip's, same for every layer).
 * Errors: HWNAS_EINVAL (NULL, layer out of range), HWNAS_ENOTFOUND (an
 * unknown figure: the message lists them).
 */
HWNAS_API int hwnas_accel_result_metric(double *out, const hwnas_accel_result *result,
                                        int64_t layer, const char *metric);

/* Number of storage levels of the result's accelerator, and level i's
 * name (outermost first; NULL out of range; borrowed from the result). */
HWNAS_API size_t hwnas_accel_result_level_count(const hwnas_accel_result *result);
HWNAS_API const char *hwnas_accel_result_level_name(const hwnas_accel_result *result,
                                                    size_t i);

/*
 * Per level (0 = outermost) of layer i (-1 = the whole net): energy in uJ
 * (action "energy"; operand is then ignored and may be NULL), or a count
 * of scalar accesses over all instances for one operand ("weights",
 * "inputs", "outputs") and action "reads", "fills" or "updates".
 * Errors: HWNAS_EINVAL (NULL, out of range, unknown operand or action).
 */
HWNAS_API int hwnas_accel_result_level(double *out, const hwnas_accel_result *result,
                                       int64_t layer, size_t level, const char *operand,
                                       const char *action);

/* All of it as JSON (doc/accel.md shows the layout). *out is the caller's
 * (hwnas_free). Errors: HWNAS_EINVAL, HWNAS_ENOMEM. */
HWNAS_API int hwnas_accel_result_json(const hwnas_accel_result *result, char **out);

HWNAS_END_DECLS

#endif /* HWNAS_ACCEL_H */
