/* hwnas estimate --hardware ... --svg FILE: a stacked bar chart of the
 * energy of each layer by memory level, plus the MACs' energy. Bars are
 * horizontal, one row per layer, so that names stay readable with any
 * number of layers. The file is written atomically (temporary, rename). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

enum { ROW = 18, BAR = 12, PLOT_W = 640, LEGEND_ITEM_W = 150, NAME_CHARS = 40 };

static const char *const palette[] = {
    "#4e79a7", "#f28e2b", "#59a14f", "#76b7b2", "#edc948",
    "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac", "#86bcb6",
};
#define N_PALETTE (sizeof palette / sizeof palette[0])
#define MAC_COLOUR "#e15759"

/* An axis step of 1, 2 or 5 times a power of ten giving about five ticks. */
static double nice_step(double max)
{
    double raw = max / 5, mag = pow(10, floor(log10(raw))), norm = raw / mag;
    return (norm <= 1 ? 1 : norm <= 2 ? 2 : norm <= 5 ? 5 : 10) * mag;
}

/* energy[i * (levels + 1) + l]: layer i's energy at level l, the MACs' last. */
static int collect(double *energy, const hwnas_accel_result *r, size_t n, size_t levels)
{
    for (size_t i = 0; i < n; i++) {
        double *row = energy + i * (levels + 1);
        for (size_t l = 0; l < levels; l++) {
            int rc = hwnas_accel_result_level(&row[l], r, (int64_t)i, l, NULL, "energy");
            if (rc != HWNAS_OK)
                return rc;
        }
        int rc = hwnas_accel_result_metric(&row[levels], r, (int64_t)i, "energy_mac_uj");
        if (rc != HWNAS_OK)
            return rc;
    }
    return HWNAS_OK;
}

static void write_chart(FILE *f, const hwnas_accel *accel, const hwnas_accel_result *r,
                        const double *energy, size_t n, size_t levels, const char *title)
{
    size_t name_len = 4;
    for (size_t i = 0; i < n; i++) {
        size_t l = strlen(hwnas_accel_result_layer_name(r, i));
        name_len = l > name_len ? l : name_len;
    }
    if (name_len > NAME_CHARS)
        name_len = NAME_CHARS + 3;
    double max = 0;
    for (size_t i = 0; i < n; i++) {
        double sum = 0;
        for (size_t l = 0; l <= levels; l++)
            sum += energy[i * (levels + 1) + l];
        max = sum > max ? sum : max;
    }
    double step = max > 0 ? nice_step(max) : 0.2;
    double axis_max = max > 0 ? ceil(max / step - 1e-9) * step : 1;
    double left = 40 + 7.0 * (double)name_len, width = left + PLOT_W + 40;
    size_t per_row = (size_t)((width - 40) / LEGEND_ITEM_W);
    per_row = per_row ? per_row : 1;
    size_t legend_rows = (levels + 1 + per_row - 1) / per_row;
    double top = 40 + 20.0 * (double)legend_rows + 10;
    double plot_h = (double)(n ? n : 1) * ROW;
    double height = top + plot_h + 60;

    fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
               "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
               "viewBox=\"0 0 %.0f %.0f\" font-family=\"sans-serif\" font-size=\"12\">\n",
            width, height, width, height);
    fprintf(f, "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n");
    fprintf(f, "<text x=\"%.0f\" y=\"22\" font-size=\"15\" text-anchor=\"middle\">", width / 2);
    cli_xml_text(f, title, 200);
    fprintf(f, "</text>\n<g class=\"legend\">\n");
    for (size_t l = 0; l <= levels; l++) {
        double x = 20 + (double)(l % per_row) * LEGEND_ITEM_W, y = 36 + 20.0 * (double)(l / per_row);
        const char *colour = l < levels ? palette[l % N_PALETTE] : MAC_COLOUR;
        fprintf(f, "<rect x=\"%.0f\" y=\"%.0f\" width=\"12\" height=\"12\" fill=\"%s\"/>"
                   "<text x=\"%.0f\" y=\"%.0f\">",
                x, y, colour, x + 17, y + 10);
        cli_xml_text(f, l < levels ? hwnas_accel_level_name(accel, l) : "MAC", 18);
        fprintf(f, "</text>\n");
    }
    fprintf(f, "</g>\n");

    /* grid, ticks and the energy axis below the bars */
    double scale = PLOT_W / axis_max, bottom = top + plot_h;
    fprintf(f, "<g class=\"x-axis\" stroke=\"#888\">\n");
    for (double t = 0; t <= axis_max * (1 + 1e-9); t += step) {
        double x = left + t * scale;
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>"
                   "<text x=\"%.1f\" y=\"%.1f\" stroke=\"none\" fill=\"black\" "
                   "text-anchor=\"middle\">%g</text>\n",
                x, top, x, bottom + 4, x, bottom + 18, t);
    }
    fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n", left, bottom,
            left + PLOT_W, bottom);
    fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n</g>\n", left, top, left,
            bottom);
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">energy per layer (uJ)</text>\n",
            left + PLOT_W / 2.0, bottom + 40);
    fprintf(f, "<text transform=\"translate(16 %.1f) rotate(-90)\" text-anchor=\"middle\">"
               "layer (net order)</text>\n",
            top + plot_h / 2);

    for (size_t i = 0; i < n; i++) {
        const char *name = hwnas_accel_result_layer_name(r, i);
        const double *row = energy + i * (levels + 1);
        double y = top + (double)i * ROW, x = left, sum = 0;
        for (size_t l = 0; l <= levels; l++)
            sum += row[l];
        fprintf(f, "<g class=\"bar\"><title>");
        cli_xml_text(f, name, 200);
        fprintf(f, ": %.6g uJ</title>\n<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">", sum,
                left - 6, y + BAR);
        cli_xml_text(f, name, NAME_CHARS);
        fprintf(f, "</text>\n");
        for (size_t l = 0; l <= levels; l++) {
            double w = row[l] * scale;
            const char *colour = l < levels ? palette[l % N_PALETTE] : MAC_COLOUR;
            fprintf(f, "<rect x=\"%.2f\" y=\"%.1f\" width=\"%.2f\" height=\"%d\" fill=\"%s\">"
                       "<title>",
                    x, y + (ROW - BAR) / 2.0, w, BAR, colour);
            cli_xml_text(f, l < levels ? hwnas_accel_level_name(accel, l) : "MAC", 200);
            fprintf(f, ": %.6g uJ</title></rect>\n", row[l]);
            x += w;
        }
        fprintf(f, "</g>\n");
    }
    fprintf(f, "</svg>\n");
}

/* Create a temporary file beside path, readable as the umask allows. */
static FILE *open_temp(const char *path, char **tmp)
{
    size_t len = strlen(path);
    *tmp = malloc(len + 8);
    if (!*tmp)
        return NULL;
    memcpy(*tmp, path, len);
    memcpy(*tmp + len, ".XXXXXX", 8);
    int fd = mkstemp(*tmp);
    if (fd < 0) {
        int e = errno;
        free(*tmp);
        *tmp = NULL;
        errno = e;
        return NULL;
    }
    mode_t mask = umask(0);
    umask(mask);
    FILE *f = fchmod(fd, 0666 & ~mask) == 0 ? fdopen(fd, "w") : NULL;
    if (!f) {
        int e = errno;
        close(fd);
        unlink(*tmp);
        free(*tmp);
        *tmp = NULL;
        errno = e;
    }
    return f;
}

int cli_accel_svg(const char *path, const hwnas_accel *accel, const hwnas_accel_result *result,
                  const char *title)
{
    size_t n = hwnas_accel_result_layer_count(result), levels = hwnas_accel_level_count(accel);
    double *energy = calloc((n ? n : 1) * (levels + 1), sizeof *energy);
    if (!energy) {
        fprintf(stderr, "hwnas estimate: out of memory\n");
        return CLI_FAIL;
    }
    int rc = collect(energy, result, n, levels);
    if (rc != HWNAS_OK) {
        free(energy);
        return cli_fail("estimate", rc);
    }
    char *tmp = NULL;
    FILE *f = open_temp(path, &tmp);
    if (!f) {
        fprintf(stderr, "hwnas estimate: cannot write %s: %s\n", path, strerror(errno));
        free(energy);
        return CLI_FAIL;
    }
    write_chart(f, accel, result, energy, n, levels, title);
    free(energy);
    int err = ferror(f) ? (errno ? errno : EIO) : 0;
    if (fflush(f) != 0 && !err)
        err = errno;
    if (fclose(f) != 0 && !err)
        err = errno;
    if (!err && rename(tmp, path) != 0)
        err = errno;
    if (err) {
        unlink(tmp);
        fprintf(stderr, "hwnas estimate: cannot write %s: %s\n", path, strerror(err));
    }
    free(tmp);
    return err ? CLI_FAIL : CLI_OK;
}
