/*
 * A search killed mid-way (header-only): test_killed_run builds a search
 * in a child process with the caller's maker and runs it until it has
 * evaluated kill_at candidates, when the child SIGKILLs itself - as a
 * user's kill -9 or the OOM killer would. The parent asserts that the
 * child died so, and goes on to resume from what the search left.
 * Include <cmocka.h> (with its prerequisites) before this header.
 */
#ifndef HWNAS_TEST_SIGKILL_H
#define HWNAS_TEST_SIGKILL_H

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hwnas/hwnas.h"

/* Make the search the child runs (its out directory set), or NULL. */
typedef hwnas_search *(*test_search_maker)(hwnas_context *ctx, void *arg);

static int test_kill_candidate(hwnas_search *s, size_t i, void *ud)
{
    (void)s;
    if (i + 1 == *(size_t *)ud)
        raise(SIGKILL);
    return 0;
}

/* ctx_options: the child's context (e.g. "threads=2;seed=5"). */
static inline void test_killed_run(const char *ctx_options, test_search_maker make, void *arg,
                                   size_t kill_at)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        hwnas_context *ctx;
        if (hwnas_context_new(&ctx, ctx_options) != HWNAS_OK)
            _exit(3);
        hwnas_search *s = make(ctx, arg);
        if (!s)
            _exit(5);
        hwnas_search_on_candidate(s, test_kill_candidate, &kill_at);
        hwnas_search_run(s);
        _exit(4); /* not reached when the kill happens */
    }
    int status;
    assert_true(waitpid(pid, &status, 0) == pid);
    if (!(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL))
        fail_msg("the killed search's child ended otherwise (status %d)", status);
}

#endif
