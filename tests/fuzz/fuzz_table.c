/*
 * Fuzz target: the CSV reader of estimator:table, through the public
 * constructor (file written to a private temporary path). Any input must
 * load or fail with a message, never crash or leak.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/core_internal.h"
#include "hwnas/estimator.h"
#include "hwnas/net.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[64];
    snprintf(path, sizeof path, "/tmp/hwnas-fuzz-table-%ld.csv", (long)getpid());
    FILE *f = fopen(path, "wb");
    if (!f)
        abort();
    fwrite(data, 1, size, f);
    fclose(f);
    hwnas_context *ctx;
    if (hwnas_context_new(&ctx, "threads=1") != HWNAS_OK)
        abort();
    char opts[256];
    /* First line decides the mode, so the fuzzer reaches both. */
    snprintf(opts, sizeof opts, "file=%s;%s", path, size && data[0] == 'k' ? "key=k" : "");
    hwnas_estimator *e = NULL;
    int rc = hwnas_estimator_new(&e, ctx, "table", opts);
    if (rc == HWNAS_OK) {
        double v[64];
        hwnas_net *net = NULL;
        if (hwnas_estimator_metric_count(e) <= 64 && hwnas_net_new(&net, ctx) == HWNAS_OK) {
            hwnas_estimator_estimate(e, net, "0", 0, v);
            hwnas_estimator_estimate(e, net, "a", 0, v);
        }
        hwnas_net_free(net);
        hwnas_estimator_free(e);
    } else if (hwnas_error_last()[0] == '\0') {
        abort();
    }
    hwnas_context_free(ctx);
    unlink(path);
    return 0;
}
