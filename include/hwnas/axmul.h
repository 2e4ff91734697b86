/*
 * libhwnas - approximate 8x8-bit multipliers.
 *
 * An hwnas_axmul is one 8x8-bit multiplier held as its product table: the
 * output for every one of the 65,536 operand pairs, together with a name,
 * its signedness, a 64-bit content hash, error metrics computed
 * exhaustively over all pairs, and its power and area relative to the exact
 * multiplier. The families built into the library, the file layouts and the
 * cost model are described in doc/axmul.md and doc/formats/axmul.md.
 *
 * Operands and table layout: entry a*256 + b holds the product of row
 * operand a (the activation) and column operand b (the weight). For an
 * unsigned multiplier a, b are 0..255 and products 0..65535; for a signed
 * one a, b are int8 values (-128..127) indexed by their two's-complement
 * byte (a & 255), and products are -32768..32767.
 *
 * Thread rules: a multiplier is immutable once created except through the
 * hwnas_axmul_set_* calls; a multiplier that nobody modifies may be read
 * from any number of threads at once. A registry is not thread-safe.
 */
#ifndef HWNAS_AXMUL_H
#define HWNAS_AXMUL_H

#include <stddef.h>
#include <stdint.h>

#include "export.h"

HWNAS_BEGIN_DECLS

typedef struct hwnas_axmul hwnas_axmul;
typedef struct hwnas_axmul_registry hwnas_axmul_registry;
struct hwnas_context;

/* Number of entries of a product table (256 x 256). */
#define HWNAS_AXMUL_TABLE_SIZE 65536
/* Size in bytes of a table in the tf-approximate / EvoApproxLib binary layout. */
#define HWNAS_AXMUL_BIN_SIZE 131072

/*
 * Error metrics, with e = approx(a, b) - a*b over all 65,536 pairs.
 * The *_PCT variants are normalised as EvoApproxLib reports them: errors
 * divided by 2^16 (the output range of an 8x8 multiplier), MSE by 2^32,
 * ratios and probabilities times 100 -- all in percent.
 */
enum {
    HWNAS_AXMUL_MAE = 0,       /* mean |e| */
    HWNAS_AXMUL_WCE = 1,       /* max |e| */
    HWNAS_AXMUL_MRE = 2,       /* mean |e| / |a*b| over pairs with a*b != 0 (a ratio) */
    HWNAS_AXMUL_WCRE = 3,      /* max |e| / |a*b| over pairs with a*b != 0 (a ratio) */
    HWNAS_AXMUL_EP = 4,        /* share of pairs with e != 0 (0..1) */
    HWNAS_AXMUL_BIAS = 5,      /* mean e (signed) */
    HWNAS_AXMUL_MSE = 6,       /* mean e^2 */
    HWNAS_AXMUL_MAE_PCT = 7,   /* MAE / 2^16 * 100 */
    HWNAS_AXMUL_WCE_PCT = 8,   /* WCE / 2^16 * 100 */
    HWNAS_AXMUL_MRE_PCT = 9,   /* MRE * 100 */
    HWNAS_AXMUL_WCRE_PCT = 10, /* WCRE * 100 */
    HWNAS_AXMUL_EP_PCT = 11,   /* EP * 100 */
    HWNAS_AXMUL_BIAS_PCT = 12, /* BIAS / 2^16 * 100 */
    HWNAS_AXMUL_MSE_PCT = 13,  /* MSE / 2^32 * 100 */
    HWNAS_AXMUL_METRIC_COUNT = 14
};

/* ---- creating and freeing ------------------------------------------- */

/*
 * Create a built-in multiplier from its spec: "FAMILY" or
 * "FAMILY:key=value,key=value", e.g. "exact", "trunc:t=2", "pptrunc:k=6",
 * "bam:h=2,v=6", "drum:k=4", "mitchell", "kulkarni", "etm:w=4", "roba".
 * Every family takes signed=0|1 (signed=1: the sign-magnitude wrapping of
 * the unsigned rule, see doc/axmul.md). Omitted parameters take their
 * defaults; the multiplier's name is the canonical spec (all parameters,
 * in the documented order; signed only when 1).
 *
 * Errors: HWNAS_EINVAL (NULL argument; unknown key or value out of range,
 * the message names it and lists the valid keys and ranges),
 * HWNAS_ENOTFOUND (unknown family; the message lists the families),
 * HWNAS_ENOMEM. *out is the caller's (hwnas_axmul_free), NULL on error.
 */
HWNAS_API int hwnas_axmul_new(hwnas_axmul **out, struct hwnas_context *ctx,
                              const char *spec);

/*
 * Create a multiplier from a product table of HWNAS_AXMUL_TABLE_SIZE
 * entries (copied; layout above). name: 1..63 characters of
 * [A-Za-z0-9_.+-]. is_signed: 0 or 1. Power and area are unknown (NaN)
 * until hwnas_axmul_set_cost(); the source is "".
 * Errors: HWNAS_EINVAL (NULL argument, bad name, an entry outside
 * 0..65535 unsigned or -32768..32767 signed: the message names the entry
 * and its operands), HWNAS_ENOMEM.
 */
HWNAS_API int hwnas_axmul_new_table(hwnas_axmul **out, struct hwnas_context *ctx,
                                    const char *name, const int32_t *table,
                                    int32_t is_signed);

/*
 * Read a multiplier from a file (gzip inflated transparently).
 * format: "bin" (tf-approximate / EvoApproxLib: exactly 131,072 bytes,
 * 65,536 little-endian uint16, unsigned), "bin-signed" (the same layout
 * holding int16 products of a signed multiplier), "text" (our layout with
 * metadata, doc/formats/axmul.md), or NULL / "auto" (text when the data
 * starts with the text header, else bin). A binary table is named after
 * the file (its base name without directory and extension, characters
 * outside [A-Za-z0-9_.+-] replaced by '_'; a base name longer than 63
 * characters keeps its first 54 and ends in '-' and 8 hex digits of a
 * hash of the whole, so two long names stay two), its source is the path.
 * Errors: HWNAS_EINVAL (NULL argument, unknown format), HWNAS_ENOTFOUND /
 * HWNAS_EIO (the file), HWNAS_EFORMAT (wrong size, bad header, impossible
 * content: the message names the file and the line and column),
 * HWNAS_EVERSION (text version this library does not know), HWNAS_ENOMEM.
 */
HWNAS_API int hwnas_axmul_load(hwnas_axmul **out, struct hwnas_context *ctx,
                               const char *path, const char *format);

/*
 * Like hwnas_axmul_load() from size bytes in memory (no gzip). origin
 * names the data in error messages and, for binary data, gives the name as
 * a path would (NULL: "memory").
 */
HWNAS_API int hwnas_axmul_read(hwnas_axmul **out, struct hwnas_context *ctx,
                               const void *data, size_t size, const char *format,
                               const char *origin);

/* Free a multiplier. No-op on NULL. */
HWNAS_API void hwnas_axmul_free(hwnas_axmul *m);

/* ---- writing ---------------------------------------------------------- */

/*
 * Serialise m. format: "bin" (unsigned multipliers), "bin-signed" (signed
 * ones), "text", or NULL / "auto" ("text"). A binary table carries no
 * metadata. *out (*out_len bytes; text is also NUL-terminated) is the
 * caller's, released with hwnas_free().
 * Errors: HWNAS_EINVAL (NULL argument, unknown format, "bin" for a signed
 * multiplier or "bin-signed" for an unsigned one), HWNAS_ENOMEM.
 */
HWNAS_API int hwnas_axmul_write(const hwnas_axmul *m, const char *format, void **out,
                                size_t *out_len);

/*
 * Write m to path atomically. format as hwnas_axmul_write(); NULL / "auto"
 * chooses by the path: ".bin" gives "bin" or "bin-signed", anything else
 * "text". A path ending in ".gz" is gzip-compressed (".bin.gz" is binary).
 * Errors: as hwnas_axmul_write(), plus HWNAS_EIO naming the path.
 */
HWNAS_API int hwnas_axmul_save(const hwnas_axmul *m, const char *path,
                               const char *format);

/* ---- properties -------------------------------------------------------- */

/* The name (borrowed, lives as long as m). */
HWNAS_API const char *hwnas_axmul_name(const hwnas_axmul *m);

/* 1 for a signed (int8 x int8) multiplier, 0 for an unsigned one. */
HWNAS_API int32_t hwnas_axmul_is_signed(const hwnas_axmul *m);

/* Where the multiplier came from: "builtin", a file path, or what the
 * text file or hwnas_axmul_set_source() said (borrowed). */
HWNAS_API const char *hwnas_axmul_source(const hwnas_axmul *m);

/*
 * 64-bit content hash: FNV-1a over the 131,072-byte little-endian table
 * (16-bit two's complement for signed products) followed by one byte, the
 * signedness. Equal tables of equal signedness have equal hashes whatever
 * their names.
 */
HWNAS_API uint64_t hwnas_axmul_hash(const hwnas_axmul *m);

/* Power and area relative to the exact multiplier of the same signedness
 * (exact = 1), NaN when unknown. Built-ins carry the estimate of the model
 * in doc/axmul.md. */
HWNAS_API double hwnas_axmul_power(const hwnas_axmul *m);
HWNAS_API double hwnas_axmul_area(const hwnas_axmul *m);

/* The value of metric `metric` (HWNAS_AXMUL_*), NaN when out of range.
 * Metrics are computed once, when the multiplier is created. */
HWNAS_API double hwnas_axmul_metric(const hwnas_axmul *m, int32_t metric);

/* The name of a metric ("mae", "wce", "mre", "wcre", "ep", "bias", "mse",
 * "mae_pct", ...), NULL when out of range. Static storage. */
HWNAS_API const char *hwnas_axmul_metric_name(int32_t metric);

/* The metric called name, or -1 when there is none. */
HWNAS_API int32_t hwnas_axmul_metric_index(const char *name);

/* The product of a and b (0..255 unsigned, -128..127 signed; other values
 * are reduced to their low byte). */
HWNAS_API int32_t hwnas_axmul_product(const hwnas_axmul *m, int32_t a, int32_t b);

/*
 * Fast access to the product table, borrowed (valid as long as m),
 * HWNAS_AXMUL_TABLE_SIZE entries:
 *   table:           int32 products, entry a*256 + b;
 *   table16:         the same products as 16-bit patterns (cast to int16_t
 *                    for a signed multiplier), entry a*256 + b, so one
 *                    activation's row is 512 bytes;
 *   table16_by_weight: the transpose, entry b*256 + a, so one weight's
 *                    column of 256 products is 512 contiguous bytes.
 */
HWNAS_API const int32_t *hwnas_axmul_table(const hwnas_axmul *m);
HWNAS_API const uint16_t *hwnas_axmul_table16(const hwnas_axmul *m);
HWNAS_API const uint16_t *hwnas_axmul_table16_by_weight(const hwnas_axmul *m);

/* ---- metadata ------------------------------------------------------------ */

/* Set relative power and area (finite and >= 0, or NaN for unknown).
 * Errors: HWNAS_EINVAL (NULL m, negative or infinite value). Not
 * thread-safe. */
HWNAS_API int hwnas_axmul_set_cost(hwnas_axmul *m, double power, double area);

/* Rename m (name rules as hwnas_axmul_new_table()). Errors: HWNAS_EINVAL,
 * HWNAS_ENOMEM (m unchanged). Not thread-safe. */
HWNAS_API int hwnas_axmul_set_name(hwnas_axmul *m, const char *name);

/* Set the source text (one line, at most 1023 bytes, no control
 * characters). Errors: HWNAS_EINVAL, HWNAS_ENOMEM. Not thread-safe. */
HWNAS_API int hwnas_axmul_set_source(hwnas_axmul *m, const char *source);

/* ---- built-in families ------------------------------------------------ */

/* Number of built-in families, and family i's name ("drum") and one-line
 * description with its parameters and their ranges; NULL out of range.
 * Static storage. */
HWNAS_API size_t hwnas_axmul_family_count(void);
HWNAS_API const char *hwnas_axmul_family_name(size_t i);
HWNAS_API const char *hwnas_axmul_family_help(size_t i);

/* A fixed list of representative built-in instances (canonical specs such
 * as "drum:k=4"), for listings and sweeps; NULL out of range. Static. */
HWNAS_API size_t hwnas_axmul_builtin_count(void);
HWNAS_API const char *hwnas_axmul_builtin_name(size_t i);

/* ---- registry ------------------------------------------------------------ */

/*
 * A registry resolves multiplier names: the imported multipliers added to
 * it, then any built-in spec. It lists the built-in instances
 * (hwnas_axmul_builtin_name) followed by the imported ones.
 * Errors: HWNAS_EINVAL (NULL argument), HWNAS_ENOMEM. *out is the caller's
 * (hwnas_axmul_registry_free).
 */
HWNAS_API int hwnas_axmul_registry_new(hwnas_axmul_registry **out,
                                       struct hwnas_context *ctx);

/* Free a registry and every multiplier it holds. No-op on NULL. */
HWNAS_API void hwnas_axmul_registry_free(hwnas_axmul_registry *reg);

/*
 * Add an imported multiplier; on success the registry owns m. Errors:
 * HWNAS_EINVAL (NULL argument; a name containing ':' is reserved for
 * built-ins; a multiplier of that name already registered),
 * HWNAS_ENOMEM. On error m stays the caller's.
 */
HWNAS_API int hwnas_axmul_registry_add(hwnas_axmul_registry *reg, hwnas_axmul *m);

/*
 * Import every "*.axmul", "*.axmul.gz", "*.bin" and "*.bin.gz" file of a
 * directory (in name order) with format "auto". If the directory holds a
 * params.csv with columns name, power_mw and area_um2 (EvoApproxLib's
 * figures), binary tables named there get power and area relative to the
 * row whose table is the exact multiplier. Returns the number imported in
 * *count (may be NULL). All or nothing: on error nothing is added.
 * Errors: HWNAS_EINVAL, HWNAS_ENOTFOUND / HWNAS_EIO (the directory), those
 * of hwnas_axmul_load() naming the file, HWNAS_EFORMAT (params.csv, naming
 * the line), HWNAS_ENOMEM.
 */
HWNAS_API int hwnas_axmul_registry_load_dir(hwnas_axmul_registry *reg, const char *dir,
                                            size_t *count);

/* Number of names listed: built-in instances then imported multipliers. */
HWNAS_API size_t hwnas_axmul_registry_count(const hwnas_axmul_registry *reg);

/* Name i of the listing (borrowed), NULL out of range. */
HWNAS_API const char *hwnas_axmul_registry_name(const hwnas_axmul_registry *reg,
                                                size_t i);

/*
 * The multiplier called name: an imported one, else a built-in spec
 * (created on first use and kept). *out is borrowed from the registry and
 * lives as long as it. Errors: HWNAS_EINVAL, HWNAS_ENOTFOUND (neither
 * imported nor a built-in family), those of hwnas_axmul_new().
 */
HWNAS_API int hwnas_axmul_registry_get(const hwnas_axmul **out,
                                       hwnas_axmul_registry *reg, const char *name);

HWNAS_END_DECLS

#endif /* HWNAS_AXMUL_H */
