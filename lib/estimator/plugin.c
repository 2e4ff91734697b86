/* Plugins: load a shared object, check its table, register its estimator
 * kinds in the context, and run them through the estimator interface. */
#include <dlfcn.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "estimator_internal.h"
#include "hwnas/plugin.h"
#include "hwnas/version.h"

/* Table sizes of ABI version 1: a plugin's tables are at least this big. */
#define V1_PLUGIN_SIZE (offsetof(hwnas_plugin, n_estimators) + sizeof(size_t))
#define V1_ESTIMATOR_SIZE (offsetof(hwnas_plugin_estimator, estimate) + sizeof(void *))
#define V1_OPTION_SIZE (offsetof(hwnas_plugin_option, help) + sizeof(const char *))

typedef struct plugin_module plugin_module;

static const hwnas__estimator_impl plugin_impl;

/* A registered kind: the hwnas__kind first, so that the registry's
 * pointer leads back here. */
typedef struct plugin_kind {
    hwnas__kind kind;                   /* name "estimator:<name>", impl = plugin impl */
    char *name;                         /* owned copy of kind.name */
    hwnas__option_spec *specs;          /* owned copy of the options */
    const hwnas_plugin_estimator *desc; /* in the shared object */
    plugin_module *mod;
} plugin_kind;

struct plugin_module {
    hwnas_context *ctx;
    void *handle;                 /* dlopen handle */
    char *path;                   /* owned, for messages */
    const hwnas_plugin *table;    /* in the shared object */
    void *data;                   /* from the plugin's init() */
    int initialised;              /* init() succeeded: fini() is due */
    plugin_kind *kinds;           /* n_kinds */
    const hwnas__kind **kind_ptrs; /* n_kinds, what the context registry holds */
    size_t n_kinds;
};

static void module_release(void *p)
{
    plugin_module *m = p;
    if (!m)
        return;
    hwnas_context *ctx = m->ctx;
    if (m->initialised && m->table->fini)
        m->table->fini(m->data);
    for (size_t i = 0; i < m->n_kinds; i++) {
        hwnas__free(ctx, m->kinds[i].name);
        hwnas__free(ctx, m->kinds[i].specs);
    }
    hwnas__free(ctx, m->kinds);
    hwnas__free(ctx, m->kind_ptrs);
    if (m->handle)
        dlclose(m->handle);
    hwnas__free(ctx, m->path);
    hwnas__free(ctx, m);
}

static int valid_name(const char *s)
{
    if (!s || !*s)
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_'))
            return 0;
    return 1;
}

/* Check one estimator description and make its kind. */
static int make_kind(plugin_module *m, plugin_kind *pk, const hwnas_plugin_estimator *d,
                     size_t index)
{
    const char *path = m->path;
    if (!d || d->size < V1_ESTIMATOR_SIZE)
        return hwnas__error(HWNAS_EVERSION, "plugin %s: estimator %zu's table is %zu bytes, "
                            "ABI version 1 needs %zu", path, index, d ? d->size : 0,
                            (size_t)V1_ESTIMATOR_SIZE);
    if (!valid_name(d->name))
        return hwnas__error(HWNAS_EINVAL, "plugin %s: estimator %zu's name \"%s\" is not "
                            "[a-z0-9_]+", path, index, d->name ? d->name : "(null)");
    if (!d->estimate || !d->metrics || !*d->metrics)
        return hwnas__error(HWNAS_EINVAL, "plugin %s: estimator '%s' has no estimate function "
                            "or no metrics", path, d->name);
    if (d->n_options && !d->options)
        return hwnas__error(HWNAS_EINVAL, "plugin %s: estimator '%s' has %zu options but no "
                            "table", path, d->name, d->n_options);
    pk->desc = d;
    pk->mod = m;
    hwnas__strbuf sb;
    hwnas__strbuf_init(&sb, m->ctx);
    hwnas__strbuf_printf(&sb, "estimator:%s", d->name);
    if (sb.failed)
        return HWNAS_ENOMEM;
    pk->name = sb.data;
    pk->specs = hwnas__calloc(m->ctx, d->n_options ? d->n_options : 1, sizeof *pk->specs);
    if (!pk->specs)
        return HWNAS_ENOMEM;
    for (size_t j = 0; j < d->n_options; j++) {
        const hwnas_plugin_option *o = &d->options[j];
        if (o->size < V1_OPTION_SIZE)
            return hwnas__error(HWNAS_EVERSION, "plugin %s: option %zu of '%s' has a %zu-byte "
                                "table, ABI version 1 needs %zu", path, j, d->name, o->size,
                                (size_t)V1_OPTION_SIZE);
        int dup = 0;
        for (size_t k = 0; k < j && valid_name(o->name); k++)
            dup |= strcmp(d->options[k].name, o->name) == 0;
        if (!valid_name(o->name) || dup || o->type < HWNAS_OPTION_INT ||
            o->type > HWNAS_OPTION_STRING || !o->def ||
            (o->type == HWNAS_OPTION_ENUM && !o->choices))
            return hwnas__error(HWNAS_EINVAL, "plugin %s: option %zu (\"%s\") of '%s' is "
                                "malformed: name [a-z0-9_]+ and unique, a known type, a "
                                "default, choices for an enum", path, j,
                                o->name ? o->name : "(null)", d->name);
        pk->specs[j] = (hwnas__option_spec){o->name, o->type, o->def, o->min, o->max,
                                            o->choices, o->help ? o->help : ""};
    }
    pk->kind = (hwnas__kind){pk->name, pk->specs, d->n_options, &plugin_impl};
    /* defaults must parse: check now, with the file named, not at first use */
    hwnas_options *opts;
    int rc = hwnas__options_new_kind(&opts, m->ctx, &pk->kind, NULL);
    if (rc == HWNAS_ENOMEM)
        return rc;
    if (rc != HWNAS_OK)
        return hwnas__error(HWNAS_EINVAL, "plugin %s: %s", path, hwnas_error_last());
    hwnas_options_free(opts);
    return HWNAS_OK;
}

static int open_module(plugin_module *m, const char *path)
{
    if (strchr(path, '/') && access(path, F_OK) != 0)
        return hwnas__error(HWNAS_ENOTFOUND, "plugin %s: no such file", path);
    dlerror();
    m->handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!m->handle) {
        const char *why = dlerror();
        return hwnas__error(HWNAS_EFORMAT, "plugin %s: cannot load it: %s", path,
                            why ? why : "unknown reason");
    }
    dlerror();
    void *sym = dlsym(m->handle, HWNAS_PLUGIN_ENTRY);
    if (!sym)
        return hwnas__error(HWNAS_ENOTFOUND, "plugin %s: no symbol %s: not a libhwnas plugin",
                            path, HWNAS_PLUGIN_ENTRY);
    hwnas_plugin_entry_fn entry;
    memcpy(&entry, &sym, sizeof entry); /* object to function pointer, as POSIX allows */
    const hwnas_plugin *t = entry();
    if (!t)
        return hwnas__error(HWNAS_EINVAL, "plugin %s: %s() returned NULL", path,
                            HWNAS_PLUGIN_ENTRY);
    if (t->abi_version != HWNAS_PLUGIN_ABI_VERSION)
        return hwnas__error(HWNAS_EVERSION, "plugin %s: built for plugin ABI version %u; this "
                            "libhwnas (%s) knows version %d", path, (unsigned)t->abi_version,
                            hwnas_version_string(), HWNAS_PLUGIN_ABI_VERSION);
    if (t->size < V1_PLUGIN_SIZE)
        return hwnas__error(HWNAS_EVERSION, "plugin %s: its table is %zu bytes, ABI version %d "
                            "needs %zu", path, t->size, HWNAS_PLUGIN_ABI_VERSION,
                            (size_t)V1_PLUGIN_SIZE);
    if (t->n_estimators && !t->estimators)
        return hwnas__error(HWNAS_EINVAL, "plugin %s: %zu estimators but no table", path,
                            t->n_estimators);
    m->table = t;
    return HWNAS_OK;
}

int hwnas_context_load_plugin(hwnas_context *ctx, const char *path)
{
    if (!ctx || !path)
        return hwnas__error(HWNAS_EINVAL, "hwnas_context_load_plugin: ctx and path are required");
    plugin_module *m = hwnas__calloc(ctx, 1, sizeof *m);
    if (!m)
        return HWNAS_ENOMEM;
    m->ctx = ctx;
    m->path = hwnas__strdup(ctx, path);
    int rc = m->path ? open_module(m, path) : HWNAS_ENOMEM;
    if (rc == HWNAS_OK) {
        size_t n = m->table->n_estimators;
        m->kinds = hwnas__calloc(ctx, n ? n : 1, sizeof *m->kinds);
        m->kind_ptrs = hwnas__calloc(ctx, n ? n : 1, sizeof *m->kind_ptrs);
        if (!m->kinds || !m->kind_ptrs)
            rc = HWNAS_ENOMEM;
        for (size_t i = 0; i < n && rc == HWNAS_OK; i++) {
            m->n_kinds = i + 1;
            rc = make_kind(m, &m->kinds[i], &m->table->estimators[i], i);
            m->kind_ptrs[i] = &m->kinds[i].kind;
        }
    }
    if (rc == HWNAS_OK && m->table->init) {
        hwnas_error_clear();
        int r = m->table->init(&m->data, ctx);
        if (r != 0) {
            const char *why = hwnas_error_last();
            rc = hwnas__error(HWNAS_EUSER, "plugin %s: its init failed (returned %d)%s%s", path,
                              r, *why ? ": " : "", why);
        } else {
            m->initialised = 1;
        }
    }
    if (rc == HWNAS_OK) {
        rc = hwnas__context_add_kinds(ctx, m->kind_ptrs, m->n_kinds, module_release, m);
        if (rc == HWNAS_EINVAL)
            rc = hwnas__error(HWNAS_EINVAL, "plugin %s: %s", path, hwnas_error_last());
    }
    if (rc != HWNAS_OK) {
        module_release(m);
        return rc;
    }
    return HWNAS_OK;
}

/* ---- estimators of plugin kinds -------------------------------------- */

typedef struct plugin_est {
    const plugin_kind *pk;
    void *state;  /* from create() */
    int created;  /* destroy() is due */
} plugin_est;

static void pe_fini(hwnas_estimator *e)
{
    plugin_est *pe = e->state;
    if (!pe)
        return;
    if (pe->created && pe->pk->desc->destroy)
        pe->pk->desc->destroy(pe->state, pe->pk->mod->data);
    hwnas__free(e->ctx, pe);
    e->state = NULL;
}

static int add_metrics(hwnas_estimator *e, const char *metrics, const char *path)
{
    const char *p = metrics;
    while (*p) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        const char *colon = memchr(p, ':', len);
        size_t nlen = colon ? (size_t)(colon - p) : len;
        char *name = hwnas__strndup(e->ctx, p, nlen);
        char *unit = colon ? hwnas__strndup(e->ctx, colon + 1, len - nlen - 1)
                           : hwnas__strdup(e->ctx, "");
        int rc = name && unit ? HWNAS_OK : HWNAS_ENOMEM;
        if (rc == HWNAS_OK && !valid_name(name))
            rc = hwnas__error(HWNAS_EINVAL, "plugin %s: %s: metric \"%.*s\" in \"%s\" is not "
                              "name:unit with a name of [a-z0-9_]", path, e->kind_name,
                              (int)len, p, metrics);
        if (rc == HWNAS_OK)
            rc = hwnas__estimator_add_metric(e, name, unit);
        hwnas__free(e->ctx, name);
        hwnas__free(e->ctx, unit);
        if (rc != HWNAS_OK)
            return rc;
        p = end ? end + 1 : p + len;
    }
    return e->n_metrics ? HWNAS_OK
                        : hwnas__error(HWNAS_EINVAL, "plugin %s: %s lists no metrics", path,
                                       e->kind_name);
}

static int pe_init(hwnas_estimator *e)
{
    const hwnas__kind *k = hwnas__kind_find(e->ctx, e->kind_name);
    if (!k || k->impl != &plugin_impl)
        return hwnas__error(HWNAS_EINTERNAL, "%s is not a plugin kind", e->kind_name);
    const plugin_kind *pk = (const plugin_kind *)k;
    plugin_est *pe = hwnas__calloc(e->ctx, 1, sizeof *pe);
    if (!pe)
        return HWNAS_ENOMEM;
    pe->pk = pk;
    e->state = pe;
    int rc = add_metrics(e, pk->desc->metrics, pk->mod->path);
    if (rc != HWNAS_OK || !pk->desc->create)
        return rc;
    hwnas_error_clear();
    int r = pk->desc->create(&pe->state, e->ctx, e->options, pk->mod->data);
    if (r != 0) {
        const char *why = hwnas_error_last();
        return hwnas__error(HWNAS_EUSER, "%s (plugin %s) could not be created%s%s",
                            e->kind_name, pk->mod->path, *why ? ": " : "", why);
    }
    pe->created = 1;
    return HWNAS_OK;
}

static int pe_estimate(hwnas_estimator *e, const hwnas_net *net, const char *key,
                       uint64_t stream, double *values)
{
    const plugin_est *pe = e->state;
    hwnas_error_clear();
    int r = pe->pk->desc->estimate(pe->state, net, key, stream, values);
    if (r != 0) {
        const char *why = hwnas_error_last();
        return hwnas__error(HWNAS_EUSER, "%s (plugin %s) failed for %s%s%s", e->kind_name,
                            pe->pk->mod->path, key ? key : "this net",
                            *why ? ": " : " (it returned non-zero)", why);
    }
    for (size_t i = 0; i < e->n_metrics; i++)
        if (isnan(values[i]))
            return hwnas__error(HWNAS_EUSER, "%s (plugin %s) returned NaN for metric %s",
                                e->kind_name, pe->pk->mod->path, e->metric_names[i]);
    return HWNAS_OK;
}

static const hwnas__estimator_impl plugin_impl = {
    .init = pe_init,
    .fini = pe_fini,
    .estimate = pe_estimate,
};
