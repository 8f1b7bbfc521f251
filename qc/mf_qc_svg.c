#include "mf_qc_svg.h"

#include <math.h>

enum { ML = 56, MR = 70, MT = 24, MB = 28 }; /* margins, px */

static double s_px(const mf_svg_t *s, double x)
{
    const double t = s->log_x ? (log10(x) - log10(s->x0)) / (log10(s->x1) - log10(s->x0))
                              : (x - s->x0) / (s->x1 - s->x0);
    return ML + t * s->w;
}

static double s_py(const mf_svg_t *s, double y)
{
    y = y < s->y0 ? s->y0 : y > s->y1 ? s->y1 : y;
    return MT + (s->y1 - y) / (s->y1 - s->y0) * s->h;
}

static void s_time(char *buf, size_t n, double t)
{
    if (t >= 60.0)
        snprintf(buf, n, "%d:%02d", (int)(t / 60.0), (int)fmod(t, 60.0));
    else
        snprintf(buf, n, "%gs", t);
}

void mf_svg_begin(mf_svg_t *s, FILE *f, const char *title, int w, int h, double x0, double x1,
                  double y0, double y1, double ystep, const char *yunit, int log_x)
{
    *s = (mf_svg_t){f, x0, x1 > x0 ? x1 : x0 + 1.0, y0, y1, w, h, log_x};
    fprintf(f,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d "
            "%d\">\n",
            w + ML + MR, h + MT + MB, w + ML + MR, h + MT + MB);
    fprintf(f, "<text x=\"%d\" y=\"15\" class=\"t\">%s</text>\n", ML, title);
    fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" class=\"frame\"/>\n", ML, MT, w,
            h);
    for (double y = ceil(y0 / ystep) * ystep; y <= y1 + 1e-9; y += ystep) {
        fprintf(f, "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" class=\"grid\"/>", ML, ML + w,
                s_py(s, y), s_py(s, y));
        fprintf(f, "<text x=\"%d\" y=\"%.1f\" class=\"yl\">%g%s</text>\n", ML - 4, s_py(s, y) + 4,
                fabs(y) < 1e-9 ? 0.0 : y, yunit);
    }
    char lab[32];
    if (log_x) {
        static const double fx[] = {20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000};
        for (size_t i = 0; i < sizeof fx / sizeof fx[0]; i++) {
            if (fx[i] < x0 || fx[i] > x1) continue;
            snprintf(lab, sizeof lab, fx[i] >= 1000 ? "%gk" : "%g",
                     fx[i] >= 1000 ? fx[i] / 1000 : fx[i]);
            fprintf(f, "<text x=\"%.1f\" y=\"%d\" class=\"xl\">%s</text>\n", s_px(s, fx[i]),
                    MT + h + 16, lab);
        }
    } else {
        static const double steps[] = {1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600};
        double st = steps[0];
        for (size_t i = 0; i < sizeof steps / sizeof steps[0] && (s->x1 - x0) / steps[i] > 8; i++)
            st = steps[i + 1 < sizeof steps / sizeof steps[0] ? i + 1 : i];
        for (double t = ceil(x0 / st) * st; t <= s->x1 + 1e-9; t += st) {
            s_time(lab, sizeof lab, t);
            fprintf(f, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" y2=\"%d\" class=\"grid\"/>",
                    s_px(s, t), s_px(s, t), MT, MT + h);
            fprintf(f, "<text x=\"%.1f\" y=\"%d\" class=\"xl\">%s</text>\n", s_px(s, t),
                    MT + h + 16, lab);
        }
    }
}

void mf_svg_end(mf_svg_t *s)
{
    fprintf(s->f, "</svg>\n");
}

void mf_svg_series(mf_svg_t *s, const float *y, size_t n, double x0, double dx, const char *color,
                   double width)
{
    if (!y || !n) return;
    const double per = (double)n / s->w > 1.0 ? (double)n / s->w : 1.0; /* samples per point */
    int open = 0;
    for (double c = 0.0; c < (double)n; c += per) {
        const size_t a = (size_t)c, b = (size_t)(c + per) < n ? (size_t)(c + per) : n;
        double sum = 0.0;
        size_t cnt = 0;
        for (size_t i = a; i < (b > a ? b : a + 1); i++)
            if (isfinite(y[i]) || (isinf(y[i]) && y[i] < 0))
                sum += isinf(y[i]) ? s->y0 : y[i], cnt++;
        if (!cnt) {
            if (open) fprintf(s->f, "\"/>\n");
            open = 0;
            continue;
        }
        const double xv = x0 + ((double)a + (double)(b - a) / 2.0) * dx;
        if (!open)
            fprintf(s->f, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"%g\" points=\"",
                    color, width);
        fprintf(s->f, "%.1f,%.1f ", s_px(s, xv), s_py(s, sum / (double)cnt));
        open = 1;
    }
    if (open) fprintf(s->f, "\"/>\n");
}

void mf_svg_envelope(mf_svg_t *s, const float *y, size_t n, double dx, const char *fill)
{
    if (!y || !n) return;
    const size_t cols = n < (size_t)s->w ? n : (size_t)s->w;
    fprintf(s->f, "<polygon fill=\"%s\" points=\"", fill);
    for (int side = 0; side < 2; side++)
        for (size_t k = 0; k < cols; k++) {
            const size_t c = side ? cols - 1 - k : k;
            const size_t a = c * n / cols, b = (c + 1) * n / cols;
            double m = 0.0;
            for (size_t i = a; i < b; i++) m = y[i] > m ? y[i] : m;
            const double xv = ((double)a + (double)(b - a) / 2.0) * dx;
            fprintf(s->f, "%.1f,%.1f ", s_px(s, xv), s_py(s, side ? -m : m));
        }
    fprintf(s->f, "\"/>\n");
}

void mf_svg_hline(mf_svg_t *s, double y, const char *color, const char *dash, const char *label)
{
    fprintf(
        s->f,
        "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-dasharray=\"%s\"/>",
        ML, ML + s->w, s_py(s, y), s_py(s, y), color, dash);
    if (label)
        fprintf(s->f, "<text x=\"%d\" y=\"%.1f\" class=\"hl\" fill=\"%s\">%s</text>\n",
                ML + s->w + 4, s_py(s, y) + 4, color, label);
}

void mf_svg_bar(mf_svg_t *s, double x, double y, double width, const char *fill)
{
    const double top = s_py(s, y);
    fprintf(s->f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"/>\n",
            s_px(s, x) - width / 2.0, top, width, MT + s->h - top, fill);
}
