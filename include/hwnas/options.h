/*
 * libhwnas - named options.
 *
 * Every kind of object (the context, each space, strategy and estimator,
 * and the kinds plugins bring) has a table of options: name, type, default,
 * range and a help line. Options are set at creation as
 * "key=value;key=value" or one at a time, and can be listed at run time, so
 * C, Python and the command line share one spelling.
 *
 * Syntax: pairs separated by ';'; key and value separated by the first '=';
 * spaces around keys and values are ignored; empty pairs are skipped. A
 * value containing ';' or leading/trailing spaces is quoted with "..." or
 * '...', inside which a backslash escapes the next character.
 *
 * Values: int (decimal, optional sign), float (strtod syntax, finite), bool
 * (1/0, true/false, yes/no, on/off), enum (one of the listed names),
 * string (any text).
 *
 * An hwnas_options object is not thread-safe; a const one may be read from
 * several threads.
 */
#ifndef HWNAS_OPTIONS_H
#define HWNAS_OPTIONS_H

#include <stddef.h>
#include <stdint.h>

#include "export.h"

HWNAS_BEGIN_DECLS

typedef struct hwnas_options hwnas_options;
struct hwnas_context;

/* Option types, as returned by hwnas_options_type(). */
enum {
    HWNAS_OPTION_INT = 0,
    HWNAS_OPTION_FLOAT = 1,
    HWNAS_OPTION_BOOL = 2,
    HWNAS_OPTION_ENUM = 3,
    HWNAS_OPTION_STRING = 4
};

/*
 * Number of kinds registered in ctx (built-in and from plugins), and the
 * name of kind i as "family:name" ("context", "space:cgp", ...); NULL if i is
 * out of range. Borrowed, valid while ctx lives. Thread-safe.
 */
HWNAS_API size_t hwnas_kind_count(const struct hwnas_context *ctx);
HWNAS_API const char *hwnas_kind_name(const struct hwnas_context *ctx, size_t i);

/*
 * A fresh option set for a kind, every option at its default: to describe a
 * kind's options or to validate a string before creating an object.
 * kind: "family:name" as listed by hwnas_kind_name(), or the bare name when
 * it is unique ("nsga2").
 * Errors: HWNAS_EINVAL (NULL argument), HWNAS_ENOTFOUND (unknown kind; the
 * message lists the kinds), HWNAS_ENOMEM. The result is the caller's, freed
 * with hwnas_options_free().
 */
HWNAS_API int hwnas_options_new(hwnas_options **out, struct hwnas_context *ctx,
                                const char *kind);

/* Free an option set. No-op on NULL. */
HWNAS_API void hwnas_options_free(hwnas_options *opts);

/* The kind this option set belongs to ("context"). Borrowed. */
HWNAS_API const char *hwnas_options_kind(const hwnas_options *opts);

/* Number of options of the kind. */
HWNAS_API size_t hwnas_options_count(const hwnas_options *opts);

/* Index of option key, or -1 if the kind has no such option. */
HWNAS_API int64_t hwnas_options_index(const hwnas_options *opts, const char *key);

/* Facts about option i (0 <= i < count); NULL / -1 when i is out of range.
 * Strings are borrowed and live as long as opts.
 *   name:    the key
 *   type:    HWNAS_OPTION_*
 *   default: the default value as text
 *   range:   "[min, max]" for numbers, "a|b|c" for enums, "" otherwise
 *   help:    one line
 *   value:   the current value as text, canonical (parses back to itself) */
HWNAS_API const char *hwnas_options_name(const hwnas_options *opts, size_t i);
HWNAS_API int hwnas_options_type(const hwnas_options *opts, size_t i);
HWNAS_API const char *hwnas_options_default(const hwnas_options *opts, size_t i);
HWNAS_API const char *hwnas_options_range(const hwnas_options *opts, size_t i);
HWNAS_API const char *hwnas_options_help(const hwnas_options *opts, size_t i);
HWNAS_API const char *hwnas_options_value(const hwnas_options *opts, size_t i);

/*
 * Set one option. Errors (opts unchanged): HWNAS_EINVAL for an unknown key
 * (the message lists the valid keys), a value of the wrong type (the message
 * names key, value and expected type) or out of range (the message gives the
 * range or the enum's names); HWNAS_ENOMEM.
 */
HWNAS_API int hwnas_options_set(hwnas_options *opts, const char *key,
                                const char *value);

/*
 * Set every pair of "key=value;key=value" (NULL or "" sets nothing). All or
 * nothing: on error no option changes. Errors as hwnas_options_set(), plus
 * HWNAS_EINVAL for a syntax error (a pair without '=', an empty key, an
 * unterminated quote), with the offending text and its position.
 */
HWNAS_API int hwnas_options_parse(hwnas_options *opts, const char *text);

/* Reset every option to its default. */
HWNAS_API void hwnas_options_reset(hwnas_options *opts);

/*
 * Typed getters. Errors: HWNAS_EINVAL when key is unknown or of another type
 * (the message says which); *out is untouched then. get_int also reads bool
 * and enum options (the enum's index); get_float also reads int options;
 * get_string reads any option as its canonical text (borrowed, valid until
 * the option changes or opts is freed).
 */
HWNAS_API int hwnas_options_get_int(const hwnas_options *opts, const char *key,
                                    int64_t *out);
HWNAS_API int hwnas_options_get_float(const hwnas_options *opts, const char *key,
                                      double *out);
HWNAS_API int hwnas_options_get_bool(const hwnas_options *opts, const char *key,
                                     int *out);
HWNAS_API int hwnas_options_get_string(const hwnas_options *opts, const char *key,
                                       const char **out);

/*
 * All options as "key=value;key=value" in table order, values quoted where
 * needed, so that hwnas_options_parse() of the result restores them.
 * only_changed != 0 leaves out options at their default. *out is the
 * caller's, released with hwnas_free(). Errors: HWNAS_EINVAL, HWNAS_ENOMEM.
 */
HWNAS_API int hwnas_options_format(const hwnas_options *opts, int only_changed,
                                   char **out);

HWNAS_END_DECLS

#endif /* HWNAS_OPTIONS_H */
