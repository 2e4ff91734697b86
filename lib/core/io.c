/* Whole-file reads (gzip inflated transparently) and atomic writes. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "core_internal.h"

static int read_fd(const hwnas_context *ctx, int fd, const char *path, size_t max_len,
                   uint8_t **out, size_t *len)
{
    size_t cap = 4096, n = 0;
    struct stat st;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0)
        cap = (size_t)st.st_size + 1;
    if (max_len && cap > max_len + 1)
        cap = max_len + 1;
    uint8_t *buf = hwnas__malloc(ctx, cap);
    if (!buf)
        return hwnas__error(HWNAS_ENOMEM, "%s: out of memory reading it (%zu bytes asked)", path,
                            cap);
    for (;;) {
        if (n + 1 >= cap) {
            if (max_len && n >= max_len) {
                /* Exactly max_len bytes is fine: probe for one more. */
                uint8_t probe;
                ssize_t r = read(fd, &probe, 1);
                if (r == 0)
                    break;
                hwnas__free(ctx, buf);
                return hwnas__error(HWNAS_EFORMAT, "%s: file larger than %zu bytes", path,
                                    max_len);
            }
            size_t ncap = cap * 2;
            uint8_t *nb = hwnas__realloc(ctx, buf, ncap);
            if (!nb) {
                hwnas__free(ctx, buf);
                return hwnas__error(HWNAS_ENOMEM, "%s: out of memory reading it (%zu bytes "
                                                  "asked)",
                                    path, ncap);
            }
            buf = nb;
            cap = ncap;
        }
        ssize_t r = read(fd, buf + n, cap - 1 - n);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            int e = errno;
            hwnas__free(ctx, buf);
            return hwnas__error(HWNAS_EIO, "%s: read failed: %s", path, strerror(e));
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    buf[n] = 0;
    *out = buf;
    *len = n;
    return HWNAS_OK;
}

/* Inflate one or more concatenated gzip members. */
static int gunzip(const hwnas_context *ctx, const char *path, const uint8_t *in, size_t in_len,
                  size_t max_len, uint8_t **out, size_t *out_len)
{
    size_t cap = in_len * 4 + 64, n = 0;
    if (max_len && cap > max_len + 1)
        cap = max_len + 1;
    uint8_t *buf = hwnas__malloc(ctx, cap);
    if (!buf)
        return HWNAS_ENOMEM;
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) {
        hwnas__free(ctx, buf);
        return hwnas__error(HWNAS_ENOMEM, "%s: cannot start zlib", path);
    }
    zs.next_in = (Bytef *)in;
    int rc = HWNAS_OK;
    size_t consumed = 0;
    for (;;) {
        if (n + 1 >= cap) {
            if (max_len && n >= max_len) {
                rc = hwnas__error(HWNAS_EFORMAT, "%s: inflated data larger than %zu bytes",
                                  path, max_len);
                break;
            }
            size_t ncap = cap * 2;
            if (max_len && ncap > max_len + 1)
                ncap = max_len + 1;
            uint8_t *nb = hwnas__realloc(ctx, buf, ncap);
            if (!nb) {
                rc = hwnas__error(HWNAS_ENOMEM, "%s: out of memory inflating it (%zu bytes "
                                                "asked)",
                                  path, ncap);
                break;
            }
            buf = nb;
            cap = ncap;
        }
        /* zlib counts in uInt: feed at most 1 GiB at a time. */
        size_t in_left = in_len - consumed;
        zs.avail_in = (uInt)(in_left > (1u << 30) ? (1u << 30) : in_left);
        zs.next_in = (Bytef *)in + consumed;
        size_t out_room = cap - 1 - n;
        zs.avail_out = (uInt)(out_room > (1u << 30) ? (1u << 30) : out_room);
        zs.next_out = buf + n;
        uInt avail_in_before = zs.avail_in, avail_out_before = zs.avail_out;
        int z = inflate(&zs, Z_NO_FLUSH);
        consumed += avail_in_before - zs.avail_in;
        n += avail_out_before - zs.avail_out;
        if (z == Z_STREAM_END) {
            /* Another member may follow (as gzip -c a b > c makes). */
            if (consumed < in_len && in[consumed] == 0x1f) {
                inflateReset(&zs);
                continue;
            }
            break;
        }
        if (z == Z_BUF_ERROR && consumed == in_len) {
            rc = hwnas__error(HWNAS_EFORMAT, "%s: truncated gzip data (%zu bytes inflated)",
                              path, n);
            break;
        }
        if (z != Z_OK && z != Z_BUF_ERROR) {
            rc = hwnas__error(HWNAS_EFORMAT, "%s: corrupt gzip data: %s", path,
                              zs.msg ? zs.msg : "inflate failed");
            break;
        }
    }
    inflateEnd(&zs);
    if (rc != HWNAS_OK) {
        hwnas__free(ctx, buf);
        return rc;
    }
    buf[n] = 0;
    *out = buf;
    *out_len = n;
    return HWNAS_OK;
}

int hwnas__file_read(const hwnas_context *ctx, const char *path, size_t max_len,
                     uint8_t **out, size_t *len)
{
    *out = NULL;
    *len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        return hwnas__error(e == ENOENT ? HWNAS_ENOTFOUND : HWNAS_EIO, "cannot open '%s': %s",
                            path, strerror(e));
    }
    uint8_t *raw = NULL;
    size_t raw_len = 0;
    /* A compressed file may be much smaller than its content: bound the raw
     * read by max_len too, then the inflated size separately. */
    int rc = read_fd(ctx, fd, path, max_len, &raw, &raw_len);
    close(fd);
    if (rc != HWNAS_OK)
        return rc;
    if (raw_len >= 2 && raw[0] == 0x1f && raw[1] == 0x8b) {
        rc = gunzip(ctx, path, raw, raw_len, max_len, out, len);
        hwnas__free(ctx, raw);
        return rc;
    }
    *out = raw;
    *len = raw_len;
    return HWNAS_OK;
}

int hwnas__write_all(int fd, const void *data, size_t n)
{
    const uint8_t *p = data;
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (w == 0) {
            errno = EIO;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int write_all(int fd, const uint8_t *p, size_t n) { return hwnas__write_all(fd, p, n); }

size_t hwnas__remove_stale_temps(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    size_t removed = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t l = strlen(e->d_name);
        /* NAME.tmp.XXXXXX, as mkstemp fills it in below */
        if (l <= 11 || memcmp(e->d_name + l - 11, ".tmp.", 5) != 0)
            continue;
        char path[PATH_MAX];
        if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, e->d_name) >= sizeof path)
            continue;
        struct stat st;
        if (lstat(path, &st) == 0 && S_ISREG(st.st_mode) && unlink(path) == 0)
            removed++;
    }
    closedir(d);
    return removed;
}

/* The descriptor a path names (/dev/stdout, /dev/fd/N, /proc/self/fd/N),
 * or -1: writing there must go to the descriptor itself, at its offset and
 * in its mode (a shell's >>), not replace the file behind it. */
static int fd_alias(const char *path)
{
    if (strcmp(path, "/dev/stdout") == 0)
        return 1;
    if (strcmp(path, "/dev/stderr") == 0)
        return 2;
    const char *n = strncmp(path, "/dev/fd/", 8) == 0           ? path + 8
                    : strncmp(path, "/proc/self/fd/", 14) == 0 ? path + 14
                                                               : NULL;
    if (!n || *n < '0' || *n > '9')
        return -1;
    char *end;
    long fd = strtol(n, &end, 10);
    return *end || fd > INT_MAX ? -1 : (int)fd;
}

/* Write to an existing non-regular file (FIFO, terminal, device) in place:
 * renaming over it would replace it by a regular file. */
static int write_in_place(const char *path, const void *data, size_t len)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        int e = errno;
        return hwnas__error(HWNAS_EIO, "cannot open '%s' for writing: %s", path, strerror(e));
    }
    if (write_all(fd, data, len) != 0) {
        int e = errno;
        close(fd);
        return hwnas__error(HWNAS_EIO, "cannot write '%s': %s", path, strerror(e));
    }
    if (close(fd) != 0) {
        int e = errno;
        return hwnas__error(HWNAS_EIO, "cannot write '%s': %s", path, strerror(e));
    }
    return HWNAS_OK;
}

static int gzip_buffer(const hwnas_context *ctx, const char *path, const void *data,
                       size_t len, uint8_t **out, size_t *out_len)
{
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (deflateInit2(&zs, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return hwnas__error(HWNAS_ENOMEM, "%s: cannot start zlib", path);
    size_t cap = deflateBound(&zs, (uLong)len) + 64;
    uint8_t *buf = hwnas__malloc(ctx, cap);
    if (!buf) {
        deflateEnd(&zs);
        return HWNAS_ENOMEM;
    }
    zs.next_in = (Bytef *)data;
    zs.avail_in = (uInt)len;
    zs.next_out = buf;
    zs.avail_out = (uInt)cap;
    int z = deflate(&zs, Z_FINISH);
    size_t n = cap - zs.avail_out;
    deflateEnd(&zs);
    if (z != Z_STREAM_END) {
        hwnas__free(ctx, buf);
        return hwnas__error(HWNAS_EINTERNAL, "%s: zlib deflate failed (%d)", path, z);
    }
    *out = buf;
    *out_len = n;
    return HWNAS_OK;
}

int hwnas__file_write_atomic(const hwnas_context *ctx, const char *path, const void *data,
                             size_t len, int gzip)
{
    if (gzip && len > (1u << 30))
        return hwnas__error(HWNAS_EUNSUPPORTED, "%s: gzip output limited to 1 GiB", path);
    uint8_t *packed = NULL;
    size_t packed_len = 0;
    if (gzip) {
        int rc = gzip_buffer(ctx, path, data, len, &packed, &packed_len);
        if (rc != HWNAS_OK)
            return rc;
        data = packed;
        len = packed_len;
    }
    /* What is there is kept: a device, FIFO or terminal (/dev/stdout) is
     * written in place, and a symbolic link is written through, so that
     * the file it points to is replaced and the link stays a link. */
    struct stat st;
    char *real = NULL;
    int alias = fd_alias(path);
    if (alias >= 0) {
        int rc = HWNAS_OK;
        if (write_all(alias, data, len) != 0) {
            int e = errno;
            rc = hwnas__error(HWNAS_EIO, "cannot write '%s': %s", path, strerror(e));
        }
        hwnas__free(ctx, packed);
        return rc;
    }
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
        int rc = S_ISDIR(st.st_mode)
                     ? hwnas__error(HWNAS_EIO, "cannot write '%s': it is a directory", path)
                     : write_in_place(path, data, len);
        hwnas__free(ctx, packed);
        return rc;
    }
    struct stat lst;
    if (lstat(path, &lst) == 0 && S_ISLNK(lst.st_mode)) {
        char *r = realpath(path, NULL);
        if (r) {
            real = hwnas__strdup(ctx, r);
            free(r);
        } else { /* a dangling link: create the file it names (one level) */
            char target[PATH_MAX];
            ssize_t tl = readlink(path, target, sizeof target - 1);
            if (tl <= 0) {
                hwnas__free(ctx, packed);
                return hwnas__error(HWNAS_EIO, "cannot follow the link '%s'", path);
            }
            target[tl] = 0;
            const char *slash = strrchr(path, '/');
            size_t dl = target[0] == '/' || !slash ? 0 : (size_t)(slash - path) + 1;
            real = hwnas__malloc(ctx, dl + (size_t)tl + 1);
            if (real) {
                memcpy(real, path, dl);
                memcpy(real + dl, target, (size_t)tl + 1);
            }
        }
        if (!real) {
            hwnas__free(ctx, packed);
            return HWNAS_ENOMEM;
        }
        path = real;
        if (stat(path, &st) != 0)
            st.st_mode = 0;
    } else if (lstat(path, &lst) != 0) {
        st.st_mode = 0;
    }
    size_t plen = strlen(path);
    char *tmp = hwnas__malloc(ctx, plen + 16);
    char *dir = hwnas__strdup(ctx, path);
    if (!tmp || !dir) {
        hwnas__free(ctx, tmp);
        hwnas__free(ctx, dir);
        hwnas__free(ctx, packed);
        hwnas__free(ctx, real);
        return HWNAS_ENOMEM;
    }
    memcpy(tmp, path, plen);
    memcpy(tmp + plen, ".tmp.XXXXXX", 12);
    int rc = HWNAS_OK;
    int fd = mkstemp(tmp);
    if (fd < 0) {
        int e = errno;
        rc = hwnas__error(HWNAS_EIO, "cannot create a temporary file for '%s': %s", path,
                          strerror(e));
        goto out;
    }
    if (write_all(fd, data, len) != 0 || fsync(fd) != 0) {
        int e = errno;
        close(fd);
        unlink(tmp);
        rc = hwnas__error(HWNAS_EIO, "cannot write '%s': %s", path, strerror(e));
        goto out;
    }
    /* mkstemp makes 0600; results are ordinary files others may read.
     * (umask() would be the way to honour the mask, but it is process-wide
     * and not thread-safe.) */
    fchmod(fd, S_ISREG(st.st_mode) ? (st.st_mode & 07777) : 0644); /* keep a file's mode */
    if (close(fd) != 0 || rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        rc = hwnas__error(HWNAS_EIO, "cannot replace '%s': %s", path, strerror(e));
        goto out;
    }
    /* Make the rename itself durable. */
    int dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        /* Some file systems cannot sync a directory (EINVAL): nothing to do. */
        if (fsync(dfd) != 0 && errno != EINVAL && errno != EROFS) {
            int e = errno;
            rc = hwnas__error(HWNAS_EIO, "cannot make the new '%s' durable: %s", path,
                              strerror(e));
        }
        close(dfd);
    }
out:
    hwnas__free(ctx, tmp);
    hwnas__free(ctx, dir);
    hwnas__free(ctx, packed);
    hwnas__free(ctx, real);
    return rc;
}
