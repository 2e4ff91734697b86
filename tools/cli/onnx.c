/* hwnas import MODEL.onnx -o NET.net [--weights W.bin] and hwnas export
 * NET.net [--weights W.bin] -o MODEL.onnx: ONNX in and out
 * (doc/formats/onnx.md). cli_load_net lets the commands that read a .net
 * read a .onnx too. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

int cli_load_net(hwnas_net **out, hwnas_context *ctx, const char *path)
{
    if (ends_with(path, ".onnx"))
        return hwnas_onnx_load(out, NULL, ctx, path);
    return hwnas_net_load(out, ctx, path);
}

typedef struct onnx_args {
    const char *in, *out, *weights;
} onnx_args;

static void usage(FILE *f, int import)
{
    if (import)
        fprintf(f,
                "usage: hwnas import MODEL.onnx -o NET.net [--weights W.bin]\n\n"
                "Read an ONNX model (e.g. from torch.onnx.export) into the library's net text\n"
                "(doc/formats/net.md) and, with --weights, its weights into a weights file\n"
                "(doc/formats/weights.md). doc/formats/onnx.md lists the operators read; any\n"
                "other is an error naming the node.\n\n"
                "  -o, --output NET.net   the net to write\n"
                "  --weights W.bin        also write the model's weights (default: none)\n");
    else
        fprintf(f,
                "usage: hwnas export NET.net [--weights W.bin] -o MODEL.onnx\n\n"
                "Write a net (and, with --weights, its trained weights as initialisers) as an\n"
                "ONNX model (opset 14). Without weights the file describes the architecture:\n"
                "every weight is a graph input.\n\n"
                "  -o, --output MODEL.onnx  the ONNX file to write\n"
                "  --weights W.bin          a weights file of the net (hwnas train --save)\n");
}

void cli_import_usage(FILE *f)
{
    usage(f, 1);
}

void cli_export_usage(FILE *f)
{
    usage(f, 0);
}

static int parse(const char *cmd, int import, int argc, char **argv, onnx_args *a)
{
    for (int i = 0; i < argc; i++) {
        const char *s = argv[i];
        if (strcmp(s, "--help") == 0 || strcmp(s, "-h") == 0) {
            usage(stdout, import);
            return CLI_OK + 100;
        }
        const char **value = strcmp(s, "-o") == 0 || strcmp(s, "--output") == 0 ? &a->out
                             : strcmp(s, "--weights") == 0                      ? &a->weights
                                                                                : NULL;
        if (value) {
            if (i + 1 >= argc) {
                fprintf(stderr, "hwnas %s: option '%s' needs a value\n", cmd, s);
                return CLI_USAGE;
            }
            *value = argv[++i];
        } else if (s[0] == '-' && s[1]) {
            fprintf(stderr, "hwnas %s: unknown option '%s'\n", cmd, s);
            return CLI_USAGE;
        } else if (a->in) {
            fprintf(stderr, "hwnas %s: unexpected '%s' (one file at a time)\n", cmd, s);
            return CLI_USAGE;
        } else {
            a->in = s;
        }
    }
    if (!a->in || !a->out) {
        fprintf(stderr, "hwnas %s: %s\n", cmd, !a->in ? "which file?" : "-o is required");
        return CLI_USAGE;
    }
    if (!hwnas_onnx_available()) {
        fprintf(stderr, "hwnas %s: this libhwnas was built without ONNX support "
                        "(meson -Donnx=disabled)\n", cmd);
        return CLI_FAIL;
    }
    return CLI_OK;
}

int cli_import(hwnas_context *ctx, int argc, char **argv)
{
    onnx_args a = {0};
    int st = parse("import", 1, argc, argv, &a);
    if (st != CLI_OK) {
        if (st == CLI_USAGE)
            usage(stderr, 1);
        return st == CLI_OK + 100 ? CLI_OK : st;
    }
    hwnas_net *net = NULL;
    hwnas_model *model = NULL;
    int rc = hwnas_onnx_load(&net, a.weights ? &model : NULL, ctx, a.in);
    if (rc != HWNAS_OK)
        return cli_fail("import", rc);
    if (a.weights && !model) {
        fprintf(stderr, "hwnas import: %s carries no weights (an architecture only); "
                        "nothing written\n", a.in);
        hwnas_net_free(net);
        return CLI_FAIL;
    }
    char *text = NULL;
    rc = hwnas_net_format(net, &text);
    /* a temporary beside the .net, renamed over it: never half a file */
    char tmp[4096];
    FILE *f = NULL;
    if (rc != HWNAS_OK) {
        cli_fail("import", rc);
    } else if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp", a.out) >= sizeof tmp ||
               !(f = fopen(tmp, "w"))) {
        fprintf(stderr, "hwnas import: cannot write '%s'\n", a.out);
        rc = HWNAS_EIO;
    } else {
        fprintf(f, "# imported from %s by hwnas import\n%s", a.in, text);
        if (fclose(f) != 0 || rename(tmp, a.out) != 0) {
            fprintf(stderr, "hwnas import: cannot write '%s'\n", a.out);
            remove(tmp);
            rc = HWNAS_EIO;
        }
    }
    hwnas_free(text);
    if (rc == HWNAS_OK && model && (rc = hwnas_model_save(model, a.weights)) != HWNAS_OK)
        cli_fail("import", rc);
    if (rc == HWNAS_OK)
        printf("%s: %zu nodes, %llu parameters -> %s%s%s\n", a.in, hwnas_net_node_count(net),
               (unsigned long long)hwnas_net_params(net), a.out, model ? " and " : "",
               model ? a.weights : "");
    hwnas_model_free(model);
    hwnas_net_free(net);
    return rc == HWNAS_OK ? CLI_OK : CLI_FAIL;
}

int cli_export(hwnas_context *ctx, int argc, char **argv)
{
    onnx_args a = {0};
    int st = parse("export", 0, argc, argv, &a);
    if (st != CLI_OK) {
        if (st == CLI_USAGE)
            usage(stderr, 0);
        return st == CLI_OK + 100 ? CLI_OK : st;
    }
    hwnas_net *net = NULL;
    hwnas_model *model = NULL;
    int rc = hwnas_net_load(&net, ctx, a.in);
    if (rc != HWNAS_OK)
        return cli_fail("export", rc);
    if (a.weights) {
        rc = hwnas_model_new(&model, ctx, net, 1);
        if (rc == HWNAS_OK)
            rc = hwnas_model_load(model, a.weights);
    }
    if (rc == HWNAS_OK)
        rc = hwnas_onnx_save(net, model, a.out);
    if (rc == HWNAS_OK)
        printf("%s -> %s (%s)\n", a.in, a.out, model ? "with weights" : "architecture only");
    else
        cli_fail("export", rc);
    hwnas_model_free(model);
    hwnas_net_free(net);
    return rc == HWNAS_OK ? CLI_OK : CLI_FAIL;
}
