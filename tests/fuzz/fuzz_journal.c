/*
 * Fuzz target: the search journal reader (evaluation and refinement
 * records), through hwnas_search_resume on a private directory holding a
 * fixed search.conf and the input as journal.tsv. Any input must load (a
 * torn last line is dropped), fail with a message naming the line (any
 * other damage), or, with salvage, load its valid records; never crash or
 * leak. Salvage is tried on every input the plain resume refuses.
 * Records may carry the pruning fields (pruned mark, learning curve).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/core_internal.h"
#include "hwnas/search.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A cell search of cost figures, with a refinement stage by cost. */
static const char config[] =
    "hwnas-search 1\n"
    "space\tcell\n"
    "space_options\tchannels=4;cells=1\n"
    "strategy\trandom\n"
    "strategy_options\t\n"
    "options\tobjectives=macs:min,params:min;evaluations=4;batch=2;refine=2;refine_estimator=cost\n"
    "estimator\testimator:cost\t\n";

static void write_file(const char *path, const void *data, size_t size)
{
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, size, f) != size)
        abort();
    fclose(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char dir[64], path[128];
    snprintf(dir, sizeof dir, "/tmp/hwnas-fuzz-journal-%ld", (long)getpid());
    if (access(dir, F_OK) != 0 && mkdir(dir, 0700) != 0)
        abort();
    snprintf(path, sizeof path, "%s/search.conf", dir);
    write_file(path, config, sizeof config - 1);
    snprintf(path, sizeof path, "%s/journal.tsv", dir);
    write_file(path, data, size);
    hwnas_context *ctx;
    if (hwnas_context_new(&ctx, "threads=1;log_level=error") != HWNAS_OK)
        abort();
    hwnas_search *s = NULL;
    int rc = hwnas_search_resume(&s, ctx, dir, "out=\"\"");
    if (rc == HWNAS_OK) {
        rc = hwnas_search_run(s);
        hwnas_search_free(s);
        s = NULL;
    }
    if (rc == HWNAS_EFORMAT) /* damaged: salvage reads what is whole */
        rc = hwnas_search_resume(&s, ctx, dir, "out=\"\";salvage=true;read_only=true");
    if (rc == HWNAS_OK && s) {
        /* Loads the journal, replays what matches, refines by cost. */
        rc = hwnas_search_run(s);
        size_t front[16];
        if (rc == HWNAS_OK)
            hwnas_search_front(s, front, 16);
        double ep[4], val[4];
        for (size_t i = 0; i < hwnas_search_count(s); i++) {
            (void)hwnas_search_refined(s, i);
            (void)hwnas_search_pruned(s, i); /* fields 12-13: the pruned mark, the curve */
            if (hwnas_search_curve(s, i, ep, val, 4) > 0 && !(ep[0] > 0))
                abort();
        }
        hwnas_search_free(s);
    }
    if (rc != HWNAS_OK && hwnas_error_last()[0] == '\0')
        abort();
    hwnas_context_free(ctx);
    snprintf(path, sizeof path, "%s/journal.tsv", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/search.conf", dir);
    unlink(path);
    rmdir(dir);
    return 0;
}
