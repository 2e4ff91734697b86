/*
 * One search per directory: the lock that keeps a second search, resume or
 * report out, the temporary files a killed writer left, an earlier search
 * moved aside by start_over, and damaged files kept under another name
 * (damage never deletes: doc/reliability.md).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "search_internal.h"

#define LOCK_NAME "hwnas.lock"

int hwnas__path_in(const char *dir, const char *name, char *buf, size_t size)
{
    if ((size_t)snprintf(buf, size, "%s/%s", dir, name) >= size)
        return hwnas__error(HWNAS_EINVAL, "search: path '%s/%s' is too long", dir, name);
    return HWNAS_OK;
}

/* An exclusive flock on out/hwnas.lock for the search's life: the kernel
 * releases it when the process ends, however it ends. The file holds the
 * holder's PID for the message of the next one who tries. */
int hwnas__out_lock(hwnas_search *s)
{
    char path[4096];
    int rc = hwnas__path_in(hwnas__search_out(s), LOCK_NAME, path, sizeof path);
    if (rc != HWNAS_OK)
        return rc;
    int read_only = (int)hwnas__options_int(s->options, OPT_READ_ONLY);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0 && read_only && (errno == EACCES || errno == EROFS || errno == EPERM))
        return HWNAS_OK; /* a report from a directory it may not write */
    if (fd < 0)
        return hwnas__error(HWNAS_EIO, "cannot open the lock file '%s': %s", path,
                            strerror(errno));
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        char pid[32] = "";
        ssize_t n = pread(fd, pid, sizeof pid - 1, 0);
        pid[n > 0 ? n : 0] = 0;
        pid[strcspn(pid, "\n")] = 0;
        close(fd);
        if (e == EWOULDBLOCK)
            return hwnas__error(HWNAS_ESTATE, "search: '%s' is in use by another search "
                                              "(process %s holds %s); wait for it to end or "
                                              "choose another directory",
                                hwnas__search_out(s), *pid ? pid : "unknown", path);
        return hwnas__error(HWNAS_EIO, "cannot lock '%s': %s", path, strerror(e));
    }
    char pid[32];
    int n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t)n, 0) != n) {
        if (!read_only) {
            int e = errno;
            close(fd);
            return hwnas__error(HWNAS_EIO, "cannot write the lock file '%s': %s", path,
                                strerror(e));
        }
    }
    s->lock_fd = fd;
    return HWNAS_OK;
}

void hwnas__out_unlock(hwnas_search *s)
{
    if (s->lock_fd >= 0)
        close(s->lock_fd); /* releases the flock; the file stays for the next one */
    s->lock_fd = -1;
}

/* The files of a search in its directory, in the order they are moved. */
static const char *const search_files[] = {
    "search.conf", "journal.tsv",  "snapshot.bin", "archive.csv",     "archive.json",
    "front.csv",   "front.json",   "front.svg",    "hypervolume.svg", "report.html", "front",
};

/* Move the files of an earlier search into out/previous.N/. */
static int move_previous(hwnas_search *s, const char *out)
{
    char dir[4096], from[4096], to[4096];
    unsigned n = 1;
    for (;; n++) {
        if ((size_t)snprintf(dir, sizeof dir, "%s/previous.%u", out, n) >= sizeof dir)
            return hwnas__error(HWNAS_EINVAL, "search: path '%s' is too long", out);
        if (mkdir(dir, 0777) == 0)
            break;
        if (errno != EEXIST || n == 100000)
            return hwnas__error(HWNAS_EIO, "cannot create '%s': %s", dir, strerror(errno));
    }
    for (size_t i = 0; i < sizeof search_files / sizeof *search_files; i++) {
        int rc = hwnas__path_in(out, search_files[i], from, sizeof from);
        if (rc == HWNAS_OK)
            rc = hwnas__path_in(dir, search_files[i], to, sizeof to);
        if (rc != HWNAS_OK)
            return rc;
        if (rename(from, to) != 0 && errno != ENOENT)
            return hwnas__error(HWNAS_EIO, "cannot move '%s' to '%s': %s", from, to,
                                strerror(errno));
    }
    hwnas_context_log(s->ctx, HWNAS_LOG_INFO, "the earlier search in '%s' is now in '%s'", out,
                      dir);
    return HWNAS_OK;
}

/* Under the lock, before anything is written: temporary files a killed
 * writer left are removed, and a new search refuses a directory that holds
 * one (unless start_over moves it aside). */
int hwnas__out_prepare(hwnas_search *s)
{
    const char *out = hwnas__search_out(s);
    char path[4096];
    hwnas__remove_stale_temps(out);
    int rc = hwnas__path_in(out, "front", path, sizeof path);
    if (rc != HWNAS_OK)
        return rc;
    hwnas__remove_stale_temps(path);
    if (s->resume_dir)
        return HWNAS_OK;
    int held = 0;
    const char *which = "";
    for (size_t i = 1; i < 3 && !held; i++) { /* journal.tsv, snapshot.bin */
        struct stat st;
        if (hwnas__path_in(out, search_files[i], path, sizeof path) != HWNAS_OK)
            return HWNAS_EINVAL;
        held = lstat(path, &st) == 0 && st.st_size > 0;
        which = search_files[i];
    }
    if (!held)
        return HWNAS_OK;
    if (hwnas__options_int(s->options, OPT_START_OVER))
        return move_previous(s, out);
    return hwnas__error(HWNAS_ESTATE, "search: '%s' already holds a search (%s); resume it "
                                      "(hwnas search --resume %s), or start over with "
                                      "start_over=true (--start-over), which moves its files "
                                      "into %s/previous.N/",
                        out, which, out, out);
}

/* The first free NAME.damaged.N next to path, hard-linked to path's file:
 * the original keeps a name whatever happens next. */
int hwnas__out_keep_aside(const char *path, char *kept, size_t size)
{
    for (unsigned n = 1; n < 1000; n++) {
        if ((size_t)snprintf(kept, size, "%s.damaged.%u", path, n) >= size)
            return hwnas__error(HWNAS_EINVAL, "search: path '%s' is too long", path);
        if (link(path, kept) == 0)
            return HWNAS_OK;
        if (errno != EEXIST)
            return hwnas__error(HWNAS_EIO, "cannot keep '%s' as '%s': %s", path, kept,
                                strerror(errno));
    }
    return hwnas__error(HWNAS_EIO, "cannot keep '%s': %s.damaged.1 to .999 all exist", path,
                        path);
}
