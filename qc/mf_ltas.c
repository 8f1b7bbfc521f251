#include "mf_ltas.h"
#include "mf_fft.h"

#include <fftw3.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    double count;                               /* passages */
    double power;                               /* sum of their mean-square powers */
    double frames;                              /* FFT frames in them */
    double mid[MF_QC_BANDS], side[MF_QC_BANDS]; /* band powers summed over frames */
    double gmid[MF_LTAS_MAX_GRID], gside[MF_LTAS_MAX_GRID];
} level_class_t;

struct mf_ltas {
    int ch;
    double rate, scale; /* scale: bin power -> share of the mean square, per frame */
    size_t n, fill, per_passage, pframes;
    float *win, *mid, *side, *in;
    fftwf_complex *out;
    fftwf_plan plan;
    double *pm, *ps; /* bin powers of the current passage */
    size_t transforms, n_grid;
    double grid_hz[MF_LTAS_MAX_GRID];
    level_class_t *cls;
};

mf_ltas_t *mf_ltas_new(int channels, double rate)
{
    if (channels < 1 || channels > MF_QC_MAX_CHANNELS || !(rate >= 8000.0 && rate <= 768000.0))
        return NULL;
    mf_ltas_t *l = calloc(1, sizeof *l);
    if (!l) return NULL;
    l->ch = channels, l->rate = rate, l->n = 256;
    while ((double)l->n < rate / 6.0) l->n *= 2;
    l->per_passage = (size_t)fmax(1.0, round(MF_LTAS_PASSAGE_S * rate / (double)l->n));
    /* Parseval with a periodic Hann window (sum w^2 = 3n/8), one-sided. */
    l->scale = 16.0 / (3.0 * (double)l->n * (double)l->n);
    l->win = malloc(l->n * sizeof *l->win);
    l->mid = calloc(l->n, sizeof *l->mid);
    l->side = calloc(l->n, sizeof *l->side);
    l->in = fftwf_alloc_real(l->n);
    l->out = fftwf_alloc_complex(l->n / 2 + 1);
    l->pm = calloc(l->n / 2 + 1, sizeof *l->pm);
    l->ps = calloc(l->n / 2 + 1, sizeof *l->ps);
    l->cls = calloc(MF_LTAS_CLASSES, sizeof *l->cls);
    if (!l->win || !l->mid || !l->side || !l->in || !l->out || !l->pm || !l->ps || !l->cls)
        goto fail;
    l->plan = mf_fft_plan_r2c((int)l->n, l->in, l->out);
    if (!l->plan) goto fail;
    for (size_t i = 0; i < l->n; i++)
        l->win[i] = (float)(0.5 - 0.5 * cos(2.0 * M_PI * (double)i / (double)l->n));
    const double nyq = rate / 2.0;
    for (int k = (int)ceil(MF_LTAS_PER_OCT * log2(MF_LTAS_GRID_LO_HZ / 1000.0));
         l->n_grid < MF_LTAS_MAX_GRID; k++) {
        const double fc = 1000.0 * pow(2.0, (double)k / MF_LTAS_PER_OCT);
        if (fc * pow(2.0, 0.5 / MF_LTAS_PER_OCT) > nyq) break;
        l->grid_hz[l->n_grid++] = fc;
    }
    return l;
fail:
    mf_ltas_free(&l);
    return NULL;
}

/* Power of the bins inside [lo, hi): each bin k covers [k - 1/2, k + 1/2) df. */
static double s_band(const mf_ltas_t *l, const double *p, double lo, double hi)
{
    const double df = l->rate / (double)l->n;
    hi = fmin(hi, l->rate / 2.0);
    if (lo >= hi) return 0.0;
    double sum = 0.0;
    const size_t k0 = (size_t)floor(lo / df + 0.5), k1 = (size_t)floor(hi / df + 0.5);
    for (size_t k = k0 ? k0 : 1; k <= k1 && k <= l->n / 2; k++) {
        const double a = fmax(lo, ((double)k - 0.5) * df), z = fmin(hi, ((double)k + 0.5) * df);
        if (z > a) sum += p[k] * (z - a) / df;
    }
    return sum * l->scale;
}

static void s_close_passage(mf_ltas_t *l)
{
    if (!l->pframes) return;
    double total = 0.0;
    for (size_t k = 1; k <= l->n / 2; k++) total += l->pm[k] + l->ps[k];
    const double power = total * l->scale / (double)l->pframes;
    int c = power > 0.0 ? (int)floor(10.0 * log10(power)) + MF_LTAS_CLASSES - 2 : 0;
    c = c < 0 ? 0 : c >= MF_LTAS_CLASSES ? MF_LTAS_CLASSES - 1 : c;
    level_class_t *cl = &l->cls[c];
    cl->count += 1.0, cl->power += power, cl->frames += (double)l->pframes;
    for (int b = 0; b < MF_QC_BANDS; b++) {
        const double fc = 1000.0 * pow(2.0, (b - 17) / 3.0);
        const double lo = fc * pow(2.0, -1.0 / 6.0), hi = fc * pow(2.0, 1.0 / 6.0);
        cl->mid[b] += s_band(l, l->pm, lo, hi);
        cl->side[b] += s_band(l, l->ps, lo, hi);
    }
    const double half = pow(2.0, 0.5 / MF_LTAS_PER_OCT);
    for (size_t g = 0; g < l->n_grid; g++) {
        cl->gmid[g] += s_band(l, l->pm, l->grid_hz[g] / half, l->grid_hz[g] * half);
        cl->gside[g] += s_band(l, l->ps, l->grid_hz[g] / half, l->grid_hz[g] * half);
    }
    memset(l->pm, 0, (l->n / 2 + 1) * sizeof *l->pm);
    memset(l->ps, 0, (l->n / 2 + 1) * sizeof *l->ps);
    l->pframes = 0;
}

static void s_accumulate(mf_ltas_t *l, const float *x, double *p)
{
    for (size_t i = 0; i < l->n; i++) l->in[i] = x[i] * l->win[i];
    fftwf_execute(l->plan);
    for (size_t k = 0; k <= l->n / 2; k++)
        p[k] += (double)l->out[k][0] * l->out[k][0] + (double)l->out[k][1] * l->out[k][1];
}

static void s_transform(mf_ltas_t *l)
{
    s_accumulate(l, l->mid, l->pm);
    if (l->ch >= 2) s_accumulate(l, l->side, l->ps);
    l->transforms++;
    if (++l->pframes == l->per_passage) s_close_passage(l);
    l->fill = 0; /* frames do not overlap */
}

/* Mid and side of the first two of ch interleaved channels. */
static inline void s_mid_side(float *restrict md, float *restrict sd, const float *buf, size_t ch,
                              size_t m)
{
    for (size_t i = 0; i < m; i++) {
        md[i] = 0.5f * (buf[ch * i] + buf[ch * i + 1]);
        sd[i] = 0.5f * (buf[ch * i] - buf[ch * i + 1]);
    }
}

void mf_ltas_feed(mf_ltas_t *l, const float *buf, size_t frames)
{
    while (frames) {
        size_t m = l->n - l->fill < frames ? l->n - l->fill : frames;
        float *restrict md = l->mid + l->fill, *restrict sd = l->side + l->fill;
        if (l->ch == 2) /* a constant stride: the loop vectorises */
            s_mid_side(md, sd, buf, 2, m);
        else if (l->ch > 2) /* surround: the front pair */
            s_mid_side(md, sd, buf, (size_t)l->ch, m);
        else
            memcpy(md, buf, m * sizeof *md);
        l->fill += m, buf += m * (size_t)l->ch, frames -= m;
        if (l->fill == l->n) s_transform(l);
    }
}

static double s_db(double p)
{
    return p > 0.0 ? 10.0 * log10(p) : -INFINITY;
}

void mf_ltas_finish(mf_ltas_t *l, mf_ltas_result_t *out)
{
    if (!l->transforms && l->fill) { /* shorter than one frame: zero-padded */
        memset(l->mid + l->fill, 0, (l->n - l->fill) * sizeof *l->mid);
        memset(l->side + l->fill, 0, (l->n - l->fill) * sizeof *l->side);
        s_transform(l);
    }
    s_close_passage(l);
    memset(out, 0, sizeof *out);
    out->channels = l->ch, out->rate = l->rate, out->n_grid = l->n_grid;
    memcpy(out->grid_hz, l->grid_hz, l->n_grid * sizeof *l->grid_hz);
    double count = 0.0, power = 0.0;
    for (int c = 0; c < MF_LTAS_CLASSES; c++) count += l->cls[c].count, power += l->cls[c].power;
    out->passages = (size_t)count;
    const double mean = count > 0.0 ? power / count : 0.0;
    level_class_t sel = {0};
    for (int c = MF_LTAS_CLASSES - 1; c >= 0; c--) {
        const level_class_t *cl = &l->cls[c];
        if (!cl->count) continue;
        /* The quadratic-mean rule; the loudest class always counts. */
        if (sel.count && cl->power / cl->count < mean * (1.0 - 1e-9)) break;
        sel.count += cl->count, sel.power += cl->power, sel.frames += cl->frames;
        for (int b = 0; b < MF_QC_BANDS; b++) sel.mid[b] += cl->mid[b], sel.side[b] += cl->side[b];
        for (size_t g = 0; g < l->n_grid; g++)
            sel.gmid[g] += cl->gmid[g], sel.gside[g] += cl->gside[g];
    }
    out->selected = (size_t)sel.count;
    out->level_db = sel.count ? s_db(sel.power / sel.count) : -INFINITY;
    const double f = sel.frames > 0.0 ? 1.0 / sel.frames : 0.0;
    for (int b = 0; b < MF_QC_BANDS; b++) {
        const int above = 1000.0 * pow(2.0, (b - 17) / 3.0) * pow(2.0, -1.0 / 6.0) >= l->rate / 2;
        out->mid_db[b] = above ? -INFINITY : s_db(sel.mid[b] * f);
        out->side_db[b] = above ? -INFINITY : s_db(sel.side[b] * f);
    }
    for (size_t g = 0; g < l->n_grid; g++) {
        out->grid_mid_db[g] = s_db(sel.gmid[g] * f);
        out->grid_side_db[g] = s_db(sel.gside[g] * f);
    }
}

void mf_ltas_free(mf_ltas_t **lp)
{
    mf_ltas_t *l = lp ? *lp : NULL;
    if (!l) return;
    mf_fft_destroy(l->plan);
    free(l->win), free(l->mid), free(l->side), free(l->pm), free(l->ps), free(l->cls);
    fftwf_free(l->in), fftwf_free(l->out);
    free(l);
    *lp = NULL;
}
