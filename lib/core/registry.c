/* Looking up kinds: the built-in ones, then those plugins added to the
 * context. */
#include <stdio.h>
#include <string.h>

#include "core_internal.h"

size_t hwnas_kind_count(const hwnas_context *ctx)
{
    return hwnas__builtin_kind_count + hwnas__context_extra_count(ctx);
}

static const hwnas__kind *kind_at(const hwnas_context *ctx, size_t i)
{
    return i < hwnas__builtin_kind_count
               ? hwnas__builtin_kinds[i]
               : hwnas__context_extra_kind(ctx, i - hwnas__builtin_kind_count);
}

const char *hwnas_kind_name(const hwnas_context *ctx, size_t i)
{
    return i < hwnas_kind_count(ctx) ? kind_at(ctx, i)->name : NULL;
}

const hwnas__kind *hwnas__kind_find(const hwnas_context *ctx, const char *name)
{
    size_t n = hwnas_kind_count(ctx);
    const hwnas__kind *bare = NULL;
    size_t bare_matches = 0;
    for (size_t i = 0; i < n; i++) {
        const hwnas__kind *k = kind_at(ctx, i);
        if (strcmp(k->name, name) == 0)
            return k;
        const char *colon = strchr(k->name, ':');
        if (colon && strcmp(colon + 1, name) == 0) {
            bare = k;
            bare_matches++;
        }
    }
    if (bare_matches == 1)
        return bare;
    /* with plugins the kinds outgrow a message: `hwnas describe` lists them all */
    hwnas__name_list list;
    hwnas__name_list_init(&list, ", ");
    for (size_t i = 0; i < n; i++)
        hwnas__name_list_add(&list, kind_at(ctx, i)->name);
    const char *all = list.more ? " (hwnas describe lists them all)" : "";
    if (bare_matches > 1)
        hwnas__error(HWNAS_ENOTFOUND, "kind '%s' is ambiguous: say family:%s; kinds: %s%s",
                     name, name, hwnas__name_list_text(&list), all);
    else
        hwnas__error(HWNAS_ENOTFOUND, "unknown kind '%s'; kinds: %s%s", name,
                     hwnas__name_list_text(&list), all);
    return NULL;
}

const hwnas__kind *hwnas__kind_find_in(const hwnas_context *ctx, const char *family,
                                       const char *name)
{
    /* "accelerator" is both a space and an estimator: a constructor of
     * one family means its own */
    if (!strchr(name, ':')) {
        size_t n = hwnas_kind_count(ctx), fl = strlen(family);
        for (size_t i = 0; i < n; i++) {
            const hwnas__kind *k = kind_at(ctx, i);
            if (strncmp(k->name, family, fl) == 0 && k->name[fl] == ':' &&
                strcmp(k->name + fl + 1, name) == 0)
                return k;
        }
    }
    return hwnas__kind_find(ctx, name);
}
