/*
 * I/O fault injection in the SQLite manner: the Nth write, fsync or rename
 * of a small search fails (ENOSPC or EIO, sometimes after writing half its
 * bytes, as a full disk does), for every N up to the number the search
 * makes. The search must report it (HWNAS_EIO, the message naming the
 * reason), and a resume must then end with the archive of an uninterrupted
 * run. The library's calls are redirected here with the linker's --wrap.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "test_tmpdir.h"

#include "hwnas/hwnas.h"

ssize_t __real_write(int fd, const void *buf, size_t n);
int __real_fsync(int fd);
int __real_rename(const char *from, const char *to);
ssize_t __wrap_write(int fd, const void *buf, size_t n);
int __wrap_fsync(int fd);
int __wrap_rename(const char *from, const char *to);

static struct {
    int on;        /* count operations */
    long ops;      /* operations so far */
    long fail_at;  /* the operation that fails (1-based; 0: none) */
    int err;       /* its errno */
    int torn;      /* a failing write first writes half its bytes */
    int fail_next; /* the write after a torn one fails */
} fault;

static int hit(void)
{
    if (!fault.on)
        return 0;
    fault.ops++;
    return fault.fail_at && fault.ops == fault.fail_at;
}

ssize_t __wrap_write(int fd, const void *buf, size_t n)
{
    if (fd > 2 && fault.fail_next) {
        fault.fail_next = 0;
        errno = fault.err;
        return -1;
    }
    if (fd > 2 && hit()) {
        if (fault.torn && n > 1) {
            fault.fail_next = 1;
            return __real_write(fd, buf, n / 2);
        }
        errno = fault.err;
        return -1;
    }
    return __real_write(fd, buf, n);
}

int __wrap_fsync(int fd)
{
    if (hit()) {
        errno = fault.err;
        return -1;
    }
    return __real_fsync(fd);
}

int __wrap_rename(const char *from, const char *to)
{
    if (hit()) {
        errno = fault.err;
        return -1;
    }
    return __real_rename(from, to);
}

static int setup(void **state)
{
    (void)state;
    return test_tmpdir_make("hwnas-faults");
}

static int teardown(void **state)
{
    (void)state;
    return test_tmpdir_remove();
}

static int score_cb(const hwnas_net *net, const char *key, uint64_t stream, double *values,
                    void *user_data)
{
    (void)key;
    (void)stream;
    (void)user_data;
    uint64_t h = hwnas_net_hash(net);
    if (h % 7 == 0) {
        hwnas_estimator_set_error("simulated training failure");
        return 1;
    }
    values[0] = 50.0 + 40.0 * (1.0 - exp(-(double)hwnas_net_macs(net) / 5e7)) +
                (double)(h % 100) / 50.0;
    return 0;
}

#define OPTS "objectives=score:max,macs:min;evaluations=12;batch=3;snapshot_every=4"

/* Run (or resume, when resume) the search in dir; the archive as text in
 * *text (NULL on error); returns the status of the run. */
static int run(const char *dir, int resume, char **text)
{
    hwnas_context *ctx;
    assert_int_equal(hwnas_context_new(&ctx, "threads=1;seed=5;log_level=error"), HWNAS_OK);
    hwnas_search *s = NULL;
    hwnas_estimator *custom = NULL;
    char opts[256];
    snprintf(opts, sizeof opts, OPTS "%s%s", dir ? ";out=" : "", dir ? dir : "");
    int rc = resume ? hwnas_search_resume(&s, ctx, dir, NULL)
                    : hwnas_search_new(&s, ctx, "cell", "channels=4;cells=1", "ea",
                                       "mode=regularized;population=6;sample=3", opts);
    if (rc == HWNAS_OK && !resume)
        rc = hwnas_search_add_estimator(s, "cost", NULL);
    if (rc == HWNAS_OK)
        rc = hwnas_estimator_new_custom(&custom, ctx, "score", "score:%", score_cb, NULL);
    if (rc == HWNAS_OK)
        rc = hwnas_search_add_estimator_object(s, custom);
    if (rc == HWNAS_OK)
        rc = hwnas_search_run(s);
    *text = NULL;
    if (rc == HWNAS_OK) {
        size_t cap = 1 << 16, len = 0;
        char *out = malloc(cap);
        assert_non_null(out);
        out[0] = 0;
        for (size_t i = 0; i < hwnas_search_count(s); i++) {
            double sc = NAN, m = NAN;
            hwnas_search_metric(s, i, "score", &sc);
            hwnas_search_metric(s, i, "macs", &m);
            const char *err = hwnas_search_error(s, i);
            len += (size_t)snprintf(out + len, cap - len, "%zu %s %.17g %.17g %d %s\n", i,
                                    hwnas_search_key(s, i), sc, m, hwnas_search_cached(s, i),
                                    err ? err : "-");
            assert_true(len < cap);
        }
        *text = out;
    }
    hwnas_search_free(s);
    hwnas_estimator_free(custom);
    hwnas_context_free(ctx);
    return rc;
}

static void test_every_write_may_fail(void **state)
{
    (void)state;
    char *want;
    assert_int_equal(run(NULL, 0, &want), HWNAS_OK);
    /* Count the operations of an undisturbed run into a directory. */
    char dir[128];
    snprintf(dir, sizeof dir, "%s/count", test_tmpdir);
    char *got;
    memset(&fault, 0, sizeof fault);
    fault.on = 1;
    assert_int_equal(run(dir, 0, &got), HWNAS_OK);
    fault.on = 0;
    long total = fault.ops;
    assert_string_equal(got, want);
    free(got);
    assert_true(total > 20); /* config, journal header, 12 records, snapshots */
    print_message("%ld operations, each failed three ways\n", total);
    size_t failures = 0;
    for (long n = 1; n <= total; n++) {
        for (int variant = 0; variant < 3; variant++) {
            snprintf(dir, sizeof dir, "%s/fault-%ld-%d", test_tmpdir, n, variant);
            memset(&fault, 0, sizeof fault);
            fault.on = 1;
            fault.fail_at = n;
            fault.err = variant == 1 ? EIO : ENOSPC;
            fault.torn = variant == 2;
            int rc = run(dir, 0, &got);
            fault.on = 0;
            /* The failure is reported, with its reason. */
            if (rc != HWNAS_EIO)
                fail_msg("operation %ld (variant %d) failed unreported: run returned %d (%s)",
                         n, variant, rc, hwnas_error_last());
            if (!strstr(hwnas_error_last(), strerror(fault.err)))
                fail_msg("operation %ld: the message does not say '%s': %s", n,
                         strerror(fault.err), hwnas_error_last());
            failures++;
            /* Resume ends with the archive of an uninterrupted run; before
             * search.conf exists there is nothing to resume, and a new
             * search into the directory is then allowed. */
            rc = run(dir, 1, &got);
            if (rc == HWNAS_ENOTFOUND)
                rc = run(dir, 0, &got);
            if (rc != HWNAS_OK)
                fail_msg("operation %ld (variant %d): resume failed: %s", n, variant,
                         hwnas_error_last());
            if (strcmp(got, want) != 0)
                fail_msg("operation %ld (variant %d): the resumed archive differs", n, variant);
            free(got);
        }
    }
    assert_int_equal(failures, 3 * (size_t)total);
    free(want);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_every_write_may_fail)};
    return cmocka_run_group_tests_name("search/faults", tests, setup, teardown);
}
