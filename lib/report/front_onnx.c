/* front/NNN.onnx beside every front/NNN.net the search wrote: the member's
 * architecture as ONNX (doc/formats/onnx.md). The search keeps no trained
 * weights, so the files carry none (every weight is a graph input). The
 * report, not the search, writes them: the search knows nothing of ONNX
 * (DESIGN.md: report -> search, report -> onnx). */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hwnas/net.h"
#include "hwnas/onnx.h"
#include "report_internal.h"

/* "NNN.ext" with at least three digits: ext, else NULL. */
static const char *member_ext(const char *name)
{
    char *end;
    strtoul(name, &end, 10);
    if (end - name < 3 || name[0] == '-' || name[0] == '+' || *end != '.')
        return NULL;
    return end;
}

int hwnas__report_front_onnx(hwnas_context *ctx, const char *dir)
{
    if (!hwnas_onnx_available())
        return HWNAS_OK; /* a build without ONNX writes none */
    char path[4096];
    if ((size_t)snprintf(path, sizeof path, "%s/front", dir) >= sizeof path)
        return hwnas__error(HWNAS_EINVAL, "report: path too long in '%s'", dir);
    DIR *d = opendir(path);
    if (!d)
        return HWNAS_OK; /* no front written (no member decodes to a net) */
    int rc = HWNAS_OK;
    for (struct dirent *e; rc == HWNAS_OK && (e = readdir(d)) != NULL;) {
        const char *ext = member_ext(e->d_name);
        if (!ext)
            continue;
        char file[4400], other[4400];
        size_t stem = (size_t)(ext - e->d_name);
        snprintf(file, sizeof file, "%s/%s", path, e->d_name);
        if (strcmp(ext, ".onnx") == 0) { /* a member no longer on the front */
            snprintf(other, sizeof other, "%s/%.*s.net", path, (int)stem, e->d_name);
            if (access(other, F_OK) != 0 && unlink(file) != 0 && errno != ENOENT)
                rc = hwnas__error(HWNAS_EIO, "cannot remove '%s', no longer on the front: %s",
                                  file, strerror(errno));
            continue;
        }
        if (strcmp(ext, ".net") != 0)
            continue;
        snprintf(other, sizeof other, "%s/%.*s.onnx", path, (int)stem, e->d_name);
        hwnas_net *net = NULL;
        rc = hwnas_net_load(&net, ctx, file);
        if (rc == HWNAS_OK)
            rc = hwnas_onnx_save(net, NULL, other);
        hwnas_net_free(net);
    }
    closedir(d);
    return rc;
}
