/* Inline SVG charts for qc.html: an axis frame with ticks and labels, lines,
 * filled envelopes and bars, written straight to a FILE. Internal to qc/. */
#ifndef MF_QC_SVG_H
#define MF_QC_SVG_H

#include <stddef.h>
#include <stdio.h>

typedef struct {
    FILE *f;
    double x0, x1, y0, y1; /* data ranges */
    int w, h;              /* plot area in px; margins are fixed */
    int log_x;             /* log10 x axis */
} mf_svg_t;

/* Opens an <svg> with a title, the frame, grid lines and labels every
 * ystep (y) and at "nice" times (x in seconds, or log frequencies). */
void mf_svg_begin(mf_svg_t *s, FILE *f, const char *title, int w, int h, double x0, double x1,
                  double y0, double y1, double ystep, const char *yunit, int log_x);
void mf_svg_end(mf_svg_t *s);
/* A line through (x0 + i * dx, y[i]); NAN values break it, -inf sits on
 * the bottom edge, values are clamped to the y range. Long series are
 * reduced to one point per pixel (the mean of each column). */
void mf_svg_series(mf_svg_t *s, const float *y, size_t n, double x0, double dx, const char *color,
                   double width);
/* The band between -y[i] and +y[i] (a waveform overview), one column per pixel. */
void mf_svg_envelope(mf_svg_t *s, const float *y, size_t n, double dx, const char *fill);
/* A horizontal line across the plot with a label at its right end. */
void mf_svg_hline(mf_svg_t *s, double y, const char *color, const char *dash, const char *label);
/* A bar from the bottom of the plot to y, centred on x, width in px. */
void mf_svg_bar(mf_svg_t *s, double x, double y, double width, const char *fill);

#endif
