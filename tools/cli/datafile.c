/* Zoo names where a command takes a .net or .hw file: `hwnas estimate
 * resnet50 --hardware eyeriss` finds examples/nets/resnet50.net and
 * examples/hardware/eyeriss.hw wherever they were installed. One lookup
 * for every command, so they all search the same places in one order. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

#ifndef HWNAS_DATADIR /* set by tools/meson.build: PREFIX/share/hwnas */
#define HWNAS_DATADIR "/usr/local/share/hwnas"
#endif
#ifndef HWNAS_DATADIR_FROM_BINDIR /* the same, relative to the hwnas binary */
#define HWNAS_DATADIR_FROM_BINDIR "../share/hwnas"
#endif

static int is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* The list of places looked at, for the message when nothing is found. */
typedef struct tried {
    char text[2048];
    size_t used;
} tried;

/* DIR/SUB/NAME then DIR/SUB/NAME.EXT (when name lacks .EXT); 1 and out
 * when one is a file. */
static int look(tried *t, const char *dir, const char *sub, const char *name, const char *ext,
                int has_ext, char *out, size_t size)
{
    for (int with_ext = 0; with_ext <= !has_ext; with_ext++) {
        int n = snprintf(out, size, "%s%s%s%s%s%s", dir, *dir ? "/" : "", sub, *sub ? "/" : "",
                         name, with_ext ? ext : "");
        if (n < 0 || (size_t)n >= size)
            continue; /* a cut path would name another file */
        if (is_file(out))
            return 1;
        if (t->used < sizeof t->text) {
            int w = snprintf(t->text + t->used, sizeof t->text - t->used, "\n  %s", out);
            t->used = w < 0 ? sizeof t->text : t->used + (size_t)w;
        }
    }
    return 0;
}

/* The installed share/hwnas next to this binary (a relocated install, an
 * unpacked package) into dir[size]; 0 when /proc/self/exe cannot say. */
static int beside_binary(char *dir, size_t size)
{
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return 0;
    exe[n] = 0;
    char *slash = strrchr(exe, '/');
    if (!slash)
        return 0;
    *slash = 0;
    n = snprintf(dir, size, "%s/%s", exe, HWNAS_DATADIR_FROM_BINDIR);
    return n > 0 && (size_t)n < size;
}

const char *cli_data_file(const char *cmd, cli_data_kind kind, const char *arg, char *buf,
                          size_t size)
{
    const char *sub = kind == CLI_DATA_NET ? "nets" : "hardware";
    const char *ext = kind == CLI_DATA_NET ? ".net" : ".hw";
    size_t la = strlen(arg), le = strlen(ext);
    int has_ext = la > le && strcmp(arg + la - le, ext) == 0;
    /* A path (or a file here) is what the user means: the library names it
     * when it cannot be read. */
    if (strchr(arg, '/') || is_file(arg) || !*arg)
        return arg;
    tried t = {"", 0};
    if (look(&t, ".", "", arg, ext, has_ext, buf, size))
        return buf;
    const char *path = getenv("HWNAS_DATA_PATH");
    if (path && *path) {
        char *copy = strdup(path);
        if (!copy) {
            fprintf(stderr, "hwnas %s: out of memory\n", cmd);
            return NULL;
        }
        char *save = NULL;
        for (char *d = strtok_r(copy, ":", &save); d; d = strtok_r(NULL, ":", &save))
            if (look(&t, d, sub, arg, ext, has_ext, buf, size)) {
                free(copy);
                return buf;
            }
        free(copy);
    } else {
        int w = snprintf(t.text + t.used, sizeof t.text - t.used, "\n  (HWNAS_DATA_PATH is not set)");
        t.used = w < 0 ? sizeof t.text : t.used + (size_t)w;
    }
    char rel[4096], real_rel[4096], real_installed[4096];
    int beside = beside_binary(rel, sizeof rel);
    if (beside && look(&t, rel, sub, arg, ext, has_ext, buf, size))
        return buf;
    int same = beside && realpath(rel, real_rel) && realpath(HWNAS_DATADIR, real_installed) &&
               strcmp(real_rel, real_installed) == 0;
    if (!same && look(&t, HWNAS_DATADIR, sub, arg, ext, has_ext, buf, size))
        return buf;
    fprintf(stderr, "hwnas %s: no file or %s zoo name '%s'; looked for:%s%s\n", cmd,
            kind == CLI_DATA_NET ? "network" : "hardware", arg, t.text,
            t.used >= sizeof t.text ? "\n  ..." : "");
    return NULL;
}
