/*
 * libhwnas - plugins: kinds brought by a shared object at run time.
 *
 * A plugin is a shared object (.so) that exports one function,
 *
 *     const hwnas_plugin *hwnas_plugin_entry(void);
 *
 * returning a table that lives as long as the object is loaded. The
 * table's first fields are the ABI version it was written for and its own
 * size; the loader refuses a version it does not know and a table smaller
 * than that version's, naming the file. A table only ever grows at the
 * end, and a newer libhwnas keeps reading version-1 tables.
 *
 * hwnas_context_load_plugin() registers the plugin's kinds in one context;
 * from then on they are used exactly like built-in kinds, by name, in that
 * context: hwnas_estimator_new(&e, ctx, "roofline", "peak_gflops=50"),
 * `hwnas describe estimator:roofline`, a search's estimator list, and
 * `hwnas --plugin FILE ...` on the command line. ABI version 1 brings
 * estimators; spaces and strategies are for a later version.
 *
 * A plugin may call any public libhwnas function (link it against
 * libhwnas): hwnas_net_* to read the net, hwnas_options_get_* to read its
 * options, hwnas_estimator_set_error() to say why an estimate failed.
 * doc/plugins.md is the guide; examples/plugin/ a complete plugin.
 */
#ifndef HWNAS_PLUGIN_H
#define HWNAS_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#include "export.h"

HWNAS_BEGIN_DECLS

struct hwnas_context;
struct hwnas_options;
struct hwnas_net;

/* The plugin ABI this header describes. */
#define HWNAS_PLUGIN_ABI_VERSION 1

/* The name of the entry function the loader looks up. */
#define HWNAS_PLUGIN_ENTRY "hwnas_plugin_entry"

/* Plugins mark their entry function with this so that it is exported even
 * when the plugin is built with hidden visibility. */
#if defined(_WIN32)
#define HWNAS_PLUGIN_EXPORT __declspec(dllexport)
#elif defined(__GNUC__) || defined(__clang__)
#define HWNAS_PLUGIN_EXPORT __attribute__((visibility("default")))
#else
#define HWNAS_PLUGIN_EXPORT
#endif

/* One option of a plugin kind: the same description built-in kinds have
 * (hwnas describe prints it; values are checked before create() runs). */
typedef struct hwnas_plugin_option {
    size_t size;         /* sizeof(hwnas_plugin_option) */
    const char *name;    /* key, [a-z0-9_]+, unique within the kind */
    int32_t type;        /* HWNAS_OPTION_* (options.h) */
    const char *def;     /* default as text; must be a valid value */
    double min, max;     /* inclusive range of int and float options */
    const char *choices; /* enum options: "a|b|c"; NULL otherwise */
    const char *help;    /* one line */
} hwnas_plugin_option;

/*
 * Set up one estimator: read options (hwnas_options_get_*; borrowed for
 * the estimator's life) and put whatever estimate() needs into *out_state.
 * plugin_data is what the plugin's init() produced. Return 0, or non-zero
 * to fail hwnas_estimator_new() with HWNAS_EUSER (say why with
 * hwnas_estimator_set_error()).
 */
typedef int (*hwnas_plugin_create_fn)(void **out_state, struct hwnas_context *ctx,
                                      const struct hwnas_options *options, void *plugin_data);

/* Release what create() made. */
typedef void (*hwnas_plugin_destroy_fn)(void *state, void *plugin_data);

/*
 * Estimate net: write one double per metric, in the order of the metrics
 * string, into values and return 0; or return non-zero when this net
 * cannot be estimated (the estimate fails with HWNAS_EUSER for this net
 * only). key and stream as in hwnas_estimator_estimate(). Called from
 * several threads at once on one state when the search evaluates in
 * parallel: do not modify state without your own locking.
 */
typedef int (*hwnas_plugin_estimate_fn)(void *state, const struct hwnas_net *net,
                                        const char *key, uint64_t stream, double *values);

/* An estimator kind, registered as "estimator:<name>". */
typedef struct hwnas_plugin_estimator {
    size_t size;                        /* sizeof(hwnas_plugin_estimator) */
    const char *name;                   /* [a-z0-9_]+ */
    const char *metrics;                /* "name:unit,name:unit", names [a-z0-9_]+ */
    const hwnas_plugin_option *options; /* n_options rows (may be NULL if 0) */
    size_t n_options;
    hwnas_plugin_create_fn create;      /* may be NULL: state is NULL */
    hwnas_plugin_destroy_fn destroy;    /* may be NULL */
    hwnas_plugin_estimate_fn estimate;  /* required */
} hwnas_plugin_estimator;

/* The table hwnas_plugin_entry() returns (ABI version 1). */
typedef struct hwnas_plugin {
    uint32_t abi_version;  /* HWNAS_PLUGIN_ABI_VERSION the plugin was built for */
    size_t size;           /* sizeof(hwnas_plugin) */
    const char *name;      /* the plugin's name, for messages */
    const char *version;   /* the plugin's own version text, may be NULL */
    /* Called once when loaded into a context; *out_data is passed to every
     * callback. Return 0, or non-zero to refuse loading (HWNAS_EUSER; say
     * why with hwnas_estimator_set_error()). May be NULL. */
    int (*init)(void **out_data, struct hwnas_context *ctx);
    /* Called once when the context is freed. May be NULL. */
    void (*fini)(void *data);
    const hwnas_plugin_estimator *estimators; /* n_estimators kinds */
    size_t n_estimators;
} hwnas_plugin;

/* The entry function's type. */
typedef const hwnas_plugin *(*hwnas_plugin_entry_fn)(void);

/*
 * Load the plugin at path (a file name with a '/' is a path; others go
 * through the dynamic loader's search path) into ctx and register its
 * kinds there. The shared object stays loaded, and the plugin's fini()
 * runs, when ctx is freed (after every object of the context is freed).
 * Loading the same file twice in one context is an error (its kinds are
 * taken).
 *
 * Errors, each message naming the file: HWNAS_EINVAL (NULL argument; a
 * malformed table: bad kind name, metrics or option; a kind name already
 * taken), HWNAS_ENOTFOUND (no such file, or no hwnas_plugin_entry symbol),
 * HWNAS_EFORMAT (not a loadable shared object: the loader's message),
 * HWNAS_EVERSION (an ABI version this libhwnas does not know, or a table
 * smaller than its version's), HWNAS_EUSER (the plugin's init() failed),
 * HWNAS_ENOMEM. On error nothing is registered and the object is closed.
 *
 * Not thread-safe: load plugins while configuring the context, before
 * sharing it.
 */
HWNAS_API int hwnas_context_load_plugin(struct hwnas_context *ctx, const char *path);

HWNAS_END_DECLS

#endif /* HWNAS_PLUGIN_H */
