/*
 * libhwnas accelerator model - what the files of lib/accel share.
 * Not installed; not part of the ABI.
 *
 * The model follows the one that Timeloop and Accelergy embody: a layer is
 * a 7-deep loop nest (plus groups) over the problem dimensions; a mapping
 * factors every dimension over the levels of a memory hierarchy (temporal
 * loops per level, spatial loops across each level's fan-out); tile
 * footprints and their changes between consecutive iterations give the
 * reads, fills and updates of every level and operand; accesses times the
 * energy per action give energy, and the busiest resource gives cycles.
 */
#ifndef HWNAS_ACCEL_INTERNAL_H
#define HWNAS_ACCEL_INTERNAL_H

#include <stdint.h>

#include "core/core_internal.h"
#include "hwnas/accel.h"
#include "hwnas/axmul.h"
#include "hwnas/net.h"

/* ---- problem: one layer as a loop nest ---------------------------- */

/* Problem dimensions, in the order mappings print them. */
enum {
    HWNAS__D_R, /* filter rows */
    HWNAS__D_S, /* filter columns */
    HWNAS__D_P, /* output rows */
    HWNAS__D_Q, /* output columns */
    HWNAS__D_C, /* input channels per group */
    HWNAS__D_M, /* output channels per group */
    HWNAS__D_N, /* batch */
    HWNAS__D_G, /* groups (depthwise: one channel each) */
    HWNAS__NDIMS
};

/* Operands (data spaces). */
enum { HWNAS__OP_W, HWNAS__OP_I, HWNAS__OP_O, HWNAS__NOPS };
#define HWNAS__KEEP_ALL 7u /* bit o set: the level keeps operand o */

extern const char hwnas__dim_letters[HWNAS__NDIMS + 1]; /* "RSPQCMNG" */
extern const char *const hwnas__operand_names[HWNAS__NOPS];

typedef struct hwnas__problem {
    int64_t dim[HWNAS__NDIMS]; /* bounds, each >= 1 */
    int64_t sh, sw;            /* strides >= 1 */
    int64_t dh, dw;            /* dilations >= 1 */
    int64_t macs;              /* product of dim[] */
    double mul_power;          /* the layer's multiplier's relative power */
} hwnas__problem;

/* 1 if operand o's index depends on dimension d. */
int hwnas__dim_relevant(int o, int d);

/* The problem of net node i (conv2d, dwconv2d, linear) at batch size
 * batch: HWNAS_OK, or HWNAS_EUNSUPPORTED for a node that does not
 * multiply (no error is recorded then). */
int hwnas__problem_from_node(hwnas__problem *out, const hwnas_net *net, size_t i,
                             int64_t batch);

/* The relative power of multiplier mul (a net node's) for a layer on a:
 * the description's own multiplier when mul is NULL or "exact", else the
 * named one from reg. On a chip with layer multipliers, mul must be one of
 * them (NULL and "exact" mean the exact one when the chip has it, else its
 * default): another is HWNAS_EINVALID naming what the chip has. Errors:
 * those of hwnas_axmul_registry_get, and HWNAS_EINVAL for a multiplier
 * without a power figure. reg is not thread-safe: the caller serialises. */
int hwnas__mul_power(double *out, const hwnas_accel *a, struct hwnas_axmul_registry *reg,
                     const char *mul);

/* Number of distinct elements of operand o over all of the problem. */
double hwnas__problem_size(const hwnas__problem *p, int o);

/* ---- architecture ---------------------------------------------------- */

#define HWNAS__MAX_LEVELS 8
#define HWNAS__NAME_MAX 48

/* One storage level. Levels are listed from the outermost (DRAM, index 0)
 * to the innermost (next to the MACs). */
typedef struct hwnas__level {
    char name[HWNAS__NAME_MAX];
    int64_t instances;   /* copies of the level in the chip, >= 1 */
    int64_t mesh_x;      /* of them along X (instances / mesh_x along Y) */
    double words;        /* capacity per instance in words; 0 = unbounded */
    int word_bits;       /* bits per word, 1..64 */
    int block;           /* words moved per access (energies are per access) */
    unsigned keeps;      /* bit o: holds operand o, else it bypasses */
    double read_pj;      /* energy of one read access (block words) */
    double write_pj;     /* of one write (a fill from the parent) */
    double update_pj;    /* of one read-modify-write of partial sums */
    double leak_pj;      /* leakage per cycle per instance in use */
    double area_um2;     /* per instance */
    double read_bw;      /* words per cycle per instance read; 0 = unlimited */
    double write_bw;     /* words per cycle written (fills + updates) */
    int multicast;       /* its network can send one read to many children */
    /* dataflow constraints: bit d set = dimension d may have a factor > 1 */
    unsigned temporal_dims; /* temporal loops at this level */
    unsigned spatial_x;     /* spatial loops across the fan-out below, X */
    unsigned spatial_y;     /* ... Y */
    /* Loop order fixed by the dataflow, outermost first: order_len dims;
     * empty = the mapper chooses. */
    int order[HWNAS__NDIMS];
    int order_len;
} hwnas__level;

#define HWNAS__LAYER_MULS_MAX 16
/* The largest energy per action (pJ) and area (um2) a description may
 * hold: the parser's bounds, which a template's scaled points keep too. */
#define HWNAS__MAX_PJ 1e9
#define HWNAS__MAX_AREA_UM2 1e12

struct hwnas_accel {
    hwnas_context *ctx;
    char name[HWNAS__NAME_MAX];
    char *path;          /* where it was loaded from, for messages; may be NULL */
    char *axmul_dir;     /* where its multipliers were looked up; may be NULL */
    size_t multiplier_line; /* the line that names the multiplier, for messages */
    double clock_mhz;    /* > 0 */
    int n_levels;        /* 1..HWNAS__MAX_LEVELS storage levels */
    hwnas__level level[HWNAS__MAX_LEVELS];
    /* the arithmetic units */
    int64_t mac_instances; /* >= instances of the innermost level */
    int64_t mac_mesh_x;
    int mul_bits, add_bits;
    double mul_pj, add_pj; /* energy per MAC: multiply and accumulate parts */
    double mac_area_um2;   /* one MAC unit (multiplier and adder) */
    double mul_area_share; /* fraction of mac_area_um2 that is the multiplier */
    char multiplier[64];   /* the multiplier every PE has ("exact"); with layer
                            * multipliers, the one of layers that name none */
    double mul_power;      /* its power relative to the exact one */
    double mul_area;       /* its area relative to the exact one */
    /* A multiplier per layer (layer_multipliers): each PE has every one of
     * these and a layer computes with its net node's; 0 = every layer with
     * `multiplier`. */
    size_t n_layer_muls;
    size_t layer_muls_line; /* where they are listed, for messages */
    char layer_muls[HWNAS__LAYER_MULS_MAX][64];
    double layer_mul_power[HWNAS__LAYER_MULS_MAX], layer_mul_area[HWNAS__LAYER_MULS_MAX];
    double dram_gbps;      /* DRAM bandwidth; 0 = the outermost level's write_bw/read_bw */
    uint64_t hash;         /* of the canonical text (hwnas_accel_format), set by finish */
};

/* The index of multiplier name among a's layer multipliers, or -1. */
int64_t hwnas__accel_layer_mul(const struct hwnas_accel *a, const char *name);

/* Complete and check a filled description: defaults that depend on other
 * keys, the consistency of the hierarchy (HWNAS_EFORMAT naming file and
 * levels), the multipliers' relative power and area (looked up in the
 * built-in names and axmul_dir when lookup_multiplier, else the caller has
 * set mul_power, mul_area and the layer multipliers' figures), and the
 * content hash. */
int hwnas__accel_finish(struct hwnas_accel *a, const char *file, const char *axmul_dir,
                        int lookup_multiplier);

/* Fan-out below level l: the instances of the next level (or the MACs)
 * per instance of l, along X and Y. */
void hwnas__accel_fanout(const hwnas_accel *a, int l, int64_t *x, int64_t *y);

/* ---- version 1 descriptions (the quick formula's parameters) ------- */

/* Defaults: Horowitz (ISSCC 2014, 45 nm) and Eyeriss's normalised access
 * costs (Chen et al., ISCA 2016). */
typedef struct hwnas__hw_v1 {
    double mul_int8_pj, add_int8_pj, add_int32_pj, mul_fp32_pj, add_fp32_pj;
    double access_unit_pj; /* one 32-bit word at normalised cost 1 */
    double norm_rf, norm_array, norm_gb, norm_dram;
    double pe_rows, pe_cols, gb_kib, rf_words;
} hwnas__hw_v1;

extern const hwnas__hw_v1 hwnas__hw_v1_defaults;

/* Parse "hwnas-hw 1" then "key = value" lines into *out (defaults for
 * keys not given). Errors: HWNAS_EFORMAT / HWNAS_EVERSION naming name and
 * the line. */
int hwnas__hw_v1_parse(const char *text, const char *name, hwnas__hw_v1 *out);

/* Fill a from text of either version (the caller zeroes a and sets ctx);
 * hwnas__accel_finish checks it. */
int hwnas__accel_parse_text(struct hwnas_accel *a, const char *text, const char *name);
/* Defaults of a new [level] section. */
void hwnas__level_defaults(hwnas__level *lv);

/* One "key = value" of a version-2 section into base: section 0 the top
 * (base: the hwnas_accel), 1 a [level] (base: the hwnas__level), 2 [mac]
 * (base: the hwnas_accel). Errors: HWNAS_EFORMAT "file:line: key: why"
 * (an unknown key lists the valid ones). */
int hwnas__accel_set_key(int section, void *base, const char *file, size_t line,
                         const char *key, const char *value);

/* The text of a description built into the library ("eyeriss-45nm-int8"),
 * or of a template ("eyeriss-45nm-int8-space"), or NULL. */
const char *hwnas__accel_builtin(const char *name);

/* ---- hardware templates (template.c, doc/formats/hardware-template.md) */

/* What a template parameter sets. */
enum {
    HWNAS__TP_CLOCK,      /* clock_mhz */
    HWNAS__TP_PE_ROWS,    /* rows of the PE array */
    HWNAS__TP_PE_COLS,    /* its columns */
    HWNAS__TP_DATA_BITS,  /* width of weights and inputs: 8 or 16 */
    HWNAS__TP_DATAFLOW,   /* one of the [dataflow NAME] sections */
    HWNAS__TP_WORDS,      /* a level's capacity */
    HWNAS__TP_MULTIPLIER  /* the multiplier every PE has */
};

#define HWNAS__TP_MAX_VALUES 64
#define HWNAS__TP_MAX_PARAMS (6 + HWNAS__MAX_LEVELS)
#define HWNAS__TP_MAX_DATAFLOWS 16

/* A parameter with a list of legal values: one gene. */
typedef struct hwnas__tparam {
    int what;          /* HWNAS__TP_* */
    int level;         /* the level of HWNAS__TP_WORDS, else -1 */
    char name[HWNAS__NAME_MAX + 8]; /* the gene's name: "pe_rows", "LEVEL.words" */
    size_t line;       /* where the list is, for messages */
    size_t n;          /* values, 2..HWNAS__TP_MAX_VALUES */
    double value[HWNAS__TP_MAX_VALUES]; /* numbers strictly ascending; index for names */
} hwnas__tparam;

/* A named dataflow: constraint keys that override levels' own. */
enum { HWNAS__DF_KEEPS = 1, HWNAS__DF_TEMPORAL = 2, HWNAS__DF_SPATIAL_X = 4,
       HWNAS__DF_SPATIAL_Y = 8, HWNAS__DF_ORDER = 16, HWNAS__DF_MULTICAST = 32 };
typedef struct hwnas__dataflow {
    char name[HWNAS__NAME_MAX];
    size_t line;
    unsigned set[HWNAS__MAX_LEVELS];       /* HWNAS__DF_* bits given per level */
    hwnas__level over[HWNAS__MAX_LEVELS];  /* the values of the keys given */
} hwnas__dataflow;

/* How a level's width follows the data width. */
enum { HWNAS__WB_FIXED, HWNAS__WB_DATA, HWNAS__WB_PSUM };

typedef struct hwnas__template {
    hwnas_context *ctx;
    char *path;                /* for messages: the file, or a label; owned */
    char *axmul_dir;           /* imported multipliers; owned, may be NULL */
    struct hwnas_accel base;   /* every fixed key; list keys at their reference */
    size_t n_params;
    hwnas__tparam param[HWNAS__TP_MAX_PARAMS];
    /* fixed choices when a parameter is not a list */
    double pe_rows, pe_cols;   /* 0 = no PE array (no level says pe_array) */
    double data_bits, data_bits_ref;
    double clock_ref;
    int dataflow;              /* the fixed dataflow, -1 = none */
    /* per level */
    int lv_pe[HWNAS__MAX_LEVELS];         /* instances = pe_array */
    int lv_width[HWNAS__MAX_LEVELS];      /* HWNAS__WB_* */
    double lv_words_ref[HWNAS__MAX_LEVELS];
    double lv_energy_exp[HWNAS__MAX_LEVELS], lv_area_exp[HWNAS__MAX_LEVELS];
    int mac_pe, mac_mul_width, mac_add_width; /* pe_array; HWNAS__WB_* */
    size_t n_dataflows;
    hwnas__dataflow dataflow_def[HWNAS__TP_MAX_DATAFLOWS];
    int mul_per_layer;         /* multiplier_per = layer: no multiplier gene, the
                                * chip has every listed one (layer_multipliers) */
    size_t mul_per_line;
    hwnas__tparam mul_param;   /* the multiplier's gene while per layer */
    int have_mul_param;
    size_t n_muls;             /* the listed multipliers (1 when fixed) */
    char muls[HWNAS__TP_MAX_VALUES][64];
    double mul_power[HWNAS__TP_MAX_VALUES], mul_area[HWNAS__TP_MAX_VALUES];
} hwnas__template;

/* Parse a template (text, NUL-terminated; name labels messages) and check
 * every listed value against the others' first values. Errors:
 * HWNAS_EFORMAT naming name, line, key and value; HWNAS_EVERSION;
 * HWNAS_ENOTFOUND (a multiplier); HWNAS_ENOMEM. *out: hwnas__template_free. */
int hwnas__template_parse(hwnas__template **out, hwnas_context *ctx, const char *text,
                          const char *name, const char *axmul_dir);
/* The same from a file (gzip read transparently). */
int hwnas__template_load(hwnas__template **out, hwnas_context *ctx, const char *path,
                         const char *axmul_dir);
void hwnas__template_free(hwnas__template *t);

/* The description at value indices idx[n_params] (each < its n): a new
 * hwnas_accel (the caller's). Errors: HWNAS_EINVALID (the combination is
 * not a consistent accelerator: the message says why), HWNAS_ENOMEM. */
int hwnas__template_instance(hwnas_accel **out, const hwnas__template *t,
                             const uint32_t *idx);
/* The text of value k of parameter i ("200", "row_stationary", "exact"). */
void hwnas__template_value_text(const hwnas__template *t, size_t i, size_t k, char *buf,
                                size_t size);
/* Switch a parsed template to a multiplier per layer (no multiplier gene:
 * every PE has each listed one) or back to one for the chip (its gene,
 * the last, returns). Points made before are of the old setting.
 * Errors: HWNAS_EINVAL (more than HWNAS__LAYER_MULS_MAX listed). */
int hwnas__template_set_multiplier_per(hwnas__template *t, int per_layer);
/* The multiplier a point has ("exact" at 16 bits whatever is listed); with
 * multiplier_per = layer, the one of layers that name none. */
const char *hwnas__template_multiplier(const hwnas__template *t, const uint32_t *idx);
/* With multiplier_per = layer: the multipliers a point's layers choose
 * from into names (room for HWNAS__LAYER_MULS_MAX; borrowed from t), and
 * their count ("exact" alone at 16 bits); 0 when the chip has one
 * multiplier for every layer. */
size_t hwnas__template_layer_multipliers(const hwnas__template *t, const uint32_t *idx,
                                         const char **names);

/* ---- mapping -------------------------------------------------------- */

enum { HWNAS__TEMPORAL = 0, HWNAS__SPATIAL_X = 1, HWNAS__SPATIAL_Y = 2 };

typedef struct hwnas__loop {
    int8_t dim;     /* HWNAS__D_* */
    int8_t kind;    /* HWNAS__TEMPORAL or HWNAS__SPATIAL_* */
    int8_t level;   /* the storage level that owns the loop */
    int64_t bound;  /* > 1 (loops of bound 1 are not stored) */
} hwnas__loop;

#define HWNAS__MAX_LOOPS 64

/* A mapping: loops in nest order, outermost first. Loops of level l come
 * before those of level l+1; within a level, temporal loops come before
 * its spatial ones (which spread over the fan-out below l). */
typedef struct hwnas__mapping {
    int n;
    hwnas__loop loop[HWNAS__MAX_LOOPS];
    unsigned keeps[HWNAS__MAX_LEVELS]; /* bypass choice per level */
} hwnas__mapping;

/* Check a mapping against a problem and an architecture: the factors of
 * every dimension multiply to its bound, spatial loops fit the fan-out,
 * tiles fit each level's capacity, dataflow constraints hold. Returns
 * HWNAS_OK or HWNAS_EINVAL with the reason as the last error. */
int hwnas__mapping_check(const hwnas_accel *a, const hwnas__problem *p,
                         const hwnas__mapping *m);

/* Parse / format the text form (doc/formats/mapping.md). */
int hwnas__mapping_parse(hwnas__mapping *out, const hwnas_accel *a, const char *text,
                         const char *name_for_errors);
void hwnas__mapping_format(const hwnas_accel *a, const hwnas__mapping *m, hwnas__strbuf *sb);

/* ---- the model: counts, energy, cycles ----------------------------- */

typedef struct hwnas__level_stats {
    double reads[HWNAS__NOPS];   /* scalar reads, all instances */
    double fills[HWNAS__NOPS];   /* scalar writes of data from the parent */
    double updates[HWNAS__NOPS]; /* partial sums written back by the child */
    double tile[HWNAS__NOPS];    /* words held per instance */
    double instances;            /* instances used */
    double energy_pj;            /* all accesses of this level */
    double cycles;               /* cycles its bandwidth needs */
} hwnas__level_stats;

typedef struct hwnas__eval {
    hwnas__level_stats level[HWNAS__MAX_LEVELS];
    double macs;          /* computes */
    double mac_units;     /* MACs used in parallel */
    double compute_cycles;
    double cycles;        /* max of compute and every level's bandwidth cycles */
    double mac_energy_pj; /* multiplies and adds */
    double mul_energy_pj; /* of which multiplies */
    double energy_pj;     /* total */
    double utilisation;   /* mac_units / mac_instances */
} hwnas__eval;

/* Counts and energy of mapping m of problem p on a. The mapping must have
 * passed hwnas__mapping_check. Cannot fail. */
void hwnas__evaluate(const hwnas_accel *a, const hwnas__problem *p,
                     const hwnas__mapping *m, hwnas__eval *out);

/* Price the multiplies of ev with p's multiplier (p->mul_power): the
 * mapper maps every layer at the exact multiplier's power, since the
 * multiplier changes no count, only the MAC energy. */
void hwnas__eval_reprice(hwnas__eval *ev, const hwnas_accel *a, const hwnas__problem *p);

/* Add layer e into the net's total t: counts, energies and cycles add up
 * (layers run one after another); mac_units of t accumulates MAC-cycles. */
void hwnas__eval_add(hwnas__eval *t, const hwnas__eval *e, int n_levels);

/* The figures of an evaluation, by index into hwnas__figure_names. whole:
 * e is a net's total (hwnas__eval_add), else one layer's. */
enum {
    HWNAS__FIG_ENERGY, HWNAS__FIG_ENERGY_MAC, HWNAS__FIG_ENERGY_MUL, HWNAS__FIG_LATENCY,
    HWNAS__FIG_CYCLES, HWNAS__FIG_EDP, HWNAS__FIG_UTIL, HWNAS__FIG_DRAM, HWNAS__FIG_MACS,
    HWNAS__FIG_MAC_SHARE, HWNAS__FIG_AREA, HWNAS__N_FIGURES
};
extern const char *const hwnas__figure_names[HWNAS__N_FIGURES];
extern const char *const hwnas__figure_units[HWNAS__N_FIGURES];
double hwnas__eval_figure(const hwnas__eval *e, int whole, int k, double clock_mhz,
                          int64_t mac_instances, double area_mm2);

/* Layer fusion (fuse.c): layers node[0..n) of net in net order, their
 * evaluations ev[0..n) at batch size batch; what the next layer reads from
 * the outermost on-chip level is taken out of both layers' DRAM traffic. */
void hwnas__fuse_layers(const hwnas_accel *a, const hwnas_net *net, const int64_t *node,
                        hwnas__eval *ev, size_t n, int64_t batch);

/* Options the mapper and the net-level run share: hwnas_accel_run's kind
 * ("accel") and estimator:accelerator list these rows, in this order. */
#define HWNAS__ACCEL_OPTION_ROWS                                                               \
    {"objective", HWNAS_OPTION_ENUM, "edp", 0, 0, "energy|cycles|edp",                         \
     "what the mapper minimises per layer: energy, cycles (energy breaks ties) or their "     \
     "product"},                                                                               \
        {"budget", HWNAS_OPTION_INT, "600", 1, 10000000, NULL,                                 \
         "mappings the mapper evaluates per distinct layer"},                                  \
        {"seed", HWNAS_OPTION_INT, "1", 0, 9007199254740991.0, NULL,                           \
         "seed of the mapper's search (with the layer's shape)"},                              \
        {"batch", HWNAS_OPTION_INT, "1", 1, 1000000, NULL,                                     \
         "images per run: weights are fetched once per batch; figures are per batch"},         \
        {"axmul_dir", HWNAS_OPTION_STRING, "", 0, 0, NULL,                                     \
         "directory of imported multiplier tables (names not built in); empty = the one "     \
         "the description was loaded with"},                                                   \
        {"fuse", HWNAS_OPTION_BOOL, "false", 0, 0, NULL,                                       \
         "a layer's output that the next layer reads stays on chip when both fit in the "     \
         "outermost on-chip level (doc/accel.md)"}
enum {
    HWNAS__ACCEL_OPT_OBJECTIVE,
    HWNAS__ACCEL_OPT_BUDGET,
    HWNAS__ACCEL_OPT_SEED,
    HWNAS__ACCEL_OPT_BATCH,
    HWNAS__ACCEL_OPT_AXMUL_DIR,
    HWNAS__ACCEL_OPT_FUSE,
    HWNAS__ACCEL_N_OPTIONS
};

/* ---- the mapper ------------------------------------------------------ */

enum { HWNAS__OBJ_ENERGY, HWNAS__OBJ_CYCLES, HWNAS__OBJ_EDP };

typedef struct hwnas__mapper_opts {
    int objective;     /* HWNAS__OBJ_* */
    int64_t budget;    /* mappings evaluated per layer, >= 1 */
    uint64_t seed;
} hwnas__mapper_opts;

/* The best legal mapping found for p on a; its evaluation in *ev.
 * Deterministic for a seed. Errors: HWNAS_EINVAL (no legal mapping: the
 * message says which level the layer does not fit). */
int hwnas__map(const hwnas_accel *a, const hwnas__problem *p, const hwnas__mapper_opts *o,
               hwnas__mapping *best, hwnas__eval *ev);

/* Objective value of an evaluation. */
double hwnas__objective(const hwnas__eval *ev, int objective);

/* A cache of mapped layers, keyed by the description's content hash and
 * the problem's shape and strides, for one mapper setting (a search meets
 * the same layers again and again, and under co-design many descriptions);
 * each layer is mapped at the exact multiplier's power and priced with its
 * own. Bounded (emptied when full). Thread-safe. */
typedef struct hwnas__map_cache hwnas__map_cache;
int hwnas__map_cache_new(hwnas__map_cache **out, hwnas_context *ctx);
void hwnas__map_cache_free(hwnas__map_cache *c);
/* hwnas__map through the cache (NULL cache: no caching). */
int hwnas__map_cached(hwnas__map_cache *c, const hwnas_accel *a, const hwnas__problem *p,
                      const hwnas__mapper_opts *o, hwnas__eval *ev);

#endif /* HWNAS_ACCEL_INTERNAL_H */
