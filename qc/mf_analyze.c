/* The analyzer: input is cut into 100 ms hops (round(rate/10) frames, the
 * BS.1770 sub-block); each hop is split into planar channels once and then
 * everything runs on that cache-sized block: K-weighted energy, the
 * true-peak interpolator, block statistics, the spectrum. Per-hop values go
 * into small growing series; the rest is running totals. Mono and stereo
 * are split by the kernels (mf_qc_kernels.h); more channels (a 5.1, 7.1 or
 * 7.1.4 delivery, `mixfarm qc` only) by a plain loop here. */
#include "mf_analyze.h"
#include "mf_loudness.h"
#include "mf_qc_kernels.h"
#include "mf_spectrum.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define HIST (MF_TP_PRE + MF_TP_POST) /* planar samples kept from the last hop */
#define MAXC MF_QC_MAX_CHANNELS

/* What a hop's frames taught so far, per channel, and of the L/R pair. */
typedef struct {
    float peak[MAXC];
    double sum[MAXC], sumsq[MAXC];
    double sumlr; /* sum of l*r */
    float side;   /* max |l - r| */
} hop_stats_t;

struct mf_analyzer {
    int ch;
    double rate;
    unsigned flags;
    size_t hop;
    int finished;
    const mf_qc_kernels_t *k;
    mf_kw_coef_t kw;
    mf_tp_coef_t tp;
    float kws[MAXC][4];
    float weight[MAXC]; /* BS.1770 channel weights */
    float *pl[MAXC];    /* HIST history + one hop, planar; fill frames of the hop so far */
    size_t fill;
    hop_stats_t hst; /* statistics of those fill frames */
    int64_t pos;     /* frames analysed before the current hop */
    /* Series per hop (n, cap shared); energy only for complete hops. */
    size_t n, cap, n_energy;
    double *energy;
    float *peak, *tpk, *rms;
    /* Per second. */
    size_t n_sec, cap_sec, sec_hops;
    float *corr;
    double sec_lr, sec_ll, sec_rr;
    /* Totals. */
    double sum[MAXC], sumsq[MAXC], sumlr;
    float side, peak_max, tp_max;
    size_t peak_at, tp_at;
    int run[MAXC];
    int64_t clipped, clip_runs, clip_first;
    int64_t first_loud, last_loud;
    mf_qc_span_t *gaps;
    size_t n_gaps, cap_gaps;
    mf_spectrum_t *spec;
};

static const float s_silent = 0.001f; /* -60 dBFS */

int mf_qc_speakers(int channels, int *spk)
{
    static const signed char wav[MAXC + 1][MAXC] = {
        [1] = {2},
        [2] = {0, 1},
        [3] = {0, 1, 2},
        [4] = {0, 1, 4, 5},
        [5] = {0, 1, 2, 4, 5},
        [6] = {0, 1, 2, 3, 4, 5},
        [7] = {0, 1, 2, 3, 8, 9, 10},
        [8] = {0, 1, 2, 3, 4, 5, 9, 10},
        [10] = {0, 1, 2, 3, 4, 5, 12, 14, 15, 17},
        [12] = {0, 1, 2, 3, 4, 5, 9, 10, 12, 14, 15, 17},
    };
    /* Every layout of two channels or more has the front right second. */
    const int named = channels == 1 || (channels >= 2 && channels <= MAXC && wav[channels][1]);
    for (int c = 0; c < channels && c < MAXC; c++) spk[c] = named ? wav[channels][c] : -1;
    return named;
}

float mf_qc_speaker_weight(int spk)
{
    static const uint32_t surrounds =
        0x10u | 0x20u | 0x100u | 0x200u | 0x400u | 0x8000u | 0x10000u | 0x20000u;
    if (spk == MF_SPK_LFE) return 0.0f;
    return spk >= 0 && spk < 32 && (surrounds >> spk & 1u) ? MF_QC_SURROUND_WEIGHT : 1.0f;
}

void mf_qc_channel_weights(int channels, float *weight)
{
    int spk[MAXC];
    mf_qc_speakers(channels, spk);
    for (int c = 0; c < channels && c < MAXC; c++) weight[c] = mf_qc_speaker_weight(spk[c]);
}

void mf_analyzer_set_weights(mf_analyzer_t *a, const float *weight)
{
    for (int c = 0; c < a->ch; c++) a->weight[c] = weight[c];
}

mf_analyzer_t *mf_analyzer_new(int channels, double rate, unsigned flags)
{
    if (channels < 1 || channels > MAXC || !(rate >= 8000.0 && rate <= 768000.0)) return NULL;
    mf_analyzer_t *a = calloc(1, sizeof *a);
    if (!a) return NULL;
    a->ch = channels, a->rate = rate, a->flags = flags;
    a->hop = (size_t)llround(rate / 10.0);
    a->k = mf_qc_kernels();
    mf_kw_design(&a->kw, rate);
    mf_tp_design(&a->tp, rate);
    mf_qc_channel_weights(channels, a->weight);
    for (int c = 0; c < channels; c++)
        if (!(a->pl[c] = calloc(HIST + (a->hop > 2 * MF_TP_POST ? a->hop : 2 * MF_TP_POST),
                                sizeof(float))))
            goto fail;
    if ((flags & MF_ANALYZE_SPECTRUM) && !(a->spec = mf_spectrum_new(rate, channels >= 2)))
        goto fail;
    a->clip_first = a->first_loud = a->last_loud = -1;
    return a;
fail:
    mf_analyzer_free(&a);
    return NULL;
}

void mf_analyzer_free(mf_analyzer_t **ap)
{
    mf_analyzer_t *a = ap ? *ap : NULL;
    if (!a) return;
    for (int c = 0; c < MAXC; c++) free(a->pl[c]);
    free(a->energy), free(a->peak), free(a->tpk), free(a->rms), free(a->corr), free(a->gaps);
    mf_spectrum_free(&a->spec);
    free(a);
    *ap = NULL;
}

static int s_grow(void **p, size_t elem, size_t cap)
{
    void *q = realloc(*p, cap * elem);
    if (!q) return -1;
    *p = q;
    return 0;
}

static int s_reserve(mf_analyzer_t *a)
{
    if (a->n < a->cap) return 0;
    const size_t cap = a->cap ? 2 * a->cap : 1024;
    if (s_grow((void **)&a->energy, sizeof(double), cap) ||
        s_grow((void **)&a->peak, sizeof(float), cap) ||
        s_grow((void **)&a->tpk, sizeof(float), cap) ||
        s_grow((void **)&a->rms, sizeof(float), cap))
        return -1;
    a->cap = cap;
    return 0;
}

static int s_loud(const mf_analyzer_t *a, size_t i)
{
    int loud = 0;
    for (int c = 0; c < a->ch; c++) loud |= fabsf(a->pl[c][HIST + i]) >= s_silent;
    return loud;
}

/* Sample-accurate head/tail silence and inner gaps from the first and last
 * loud sample of each hop that has one. */
static int s_silence(mf_analyzer_t *a, size_t m)
{
    size_t first = 0, last = m - 1;
    while (!s_loud(a, first)) first++;
    while (!s_loud(a, last)) last--;
    const int64_t f = a->pos + (int64_t)first;
    if (a->first_loud < 0)
        a->first_loud = f;
    else if ((double)(f - a->last_loud - 1) >= MF_QC_GAP_MIN_S * a->rate) {
        if (a->n_gaps == a->cap_gaps) {
            const size_t cap = a->cap_gaps ? 2 * a->cap_gaps : 16;
            if (s_grow((void **)&a->gaps, sizeof *a->gaps, cap)) return -1;
            a->cap_gaps = cap;
        }
        a->gaps[a->n_gaps++] = (mf_qc_span_t){(double)(a->last_loud + 1) / a->rate,
                                              (double)(f - a->last_loud - 1) / a->rate};
    }
    a->last_loud = a->pos + (int64_t)last;
    return 0;
}

static void s_clip_scan(mf_analyzer_t *a, int c, size_t m)
{
    const float *x = a->pl[c] + HIST;
    int run = a->run[c];
    for (size_t i = 0; i < m; i++) {
        if (fabsf(x[i]) < MF_QC_CLIP_LEVEL) {
            run = 0;
            continue;
        }
        if (++run == MF_QC_CLIP_RUN) {
            a->clipped += MF_QC_CLIP_RUN, a->clip_runs++;
            const int64_t at = a->pos + (int64_t)i - (MF_QC_CLIP_RUN - 1);
            if (a->clip_first < 0 || at < a->clip_first) a->clip_first = at;
        } else if (run > MF_QC_CLIP_RUN)
            a->clipped++;
    }
    a->run[c] = run;
}

static int s_push_second(mf_analyzer_t *a)
{
    if (a->n_sec == a->cap_sec) {
        const size_t cap = a->cap_sec ? 2 * a->cap_sec : 256;
        if (s_grow((void **)&a->corr, sizeof(float), cap)) return -1;
        a->cap_sec = cap;
    }
    const double quiet = 1e-7 * (double)(a->sec_hops * a->hop); /* -70 dBFS RMS */
    a->corr[a->n_sec++] = a->sec_ll > quiet && a->sec_rr > quiet
                              ? (float)(a->sec_lr / sqrt(a->sec_ll * a->sec_rr))
                              : NAN;
    a->sec_lr = a->sec_ll = a->sec_rr = 0.0;
    a->sec_hops = 0;
    return 0;
}

/* One hop of m frames, already in the planar buffers (m < hop only for the
 * last one). */
static mf_err_t s_hop(mf_analyzer_t *a, size_t m)
{
    const int ch = a->ch;
    const hop_stats_t st = a->hst;
    a->hst = (hop_stats_t){0};
    a->fill = 0;
    if (s_reserve(a)) return MF_ERR_NOMEM;
    float pk = 0.0f;
    for (int c = 0; c < ch; c++) pk = fmaxf(pk, st.peak[c]);
    if ((a->flags & MF_ANALYZE_LOUDNESS) && m == a->hop) {
        double e = 0.0;
        for (int c = 0; c < ch; c++)
            if (a->weight[c] != 0.0f) /* an LFE is not filtered at all */
                e += (double)a->weight[c] * a->k->kweight(&a->kw, a->kws[c], a->pl[c] + HIST, m);
        a->energy[a->n_energy++] = e;
    }
    float tp = pk;
    if (a->flags & MF_ANALYZE_TRUE_PEAK)
        for (int c = 0; c < ch; c++) tp = fmaxf(tp, a->k->tp_max(&a->tp, a->pl[c] + MF_TP_PRE, m));
    if (pk > a->peak_max) a->peak_max = pk, a->peak_at = a->n;
    if (tp > a->tp_max) a->tp_max = tp, a->tp_at = a->n;
    double sq = 0.0;
    for (int c = 0; c < ch; c++) {
        a->sum[c] += st.sum[c], a->sumsq[c] += st.sumsq[c], sq += st.sumsq[c];
        if (st.peak[c] >= MF_QC_CLIP_LEVEL)
            s_clip_scan(a, c, m);
        else
            a->run[c] = 0;
    }
    a->peak[a->n] = pk, a->tpk[a->n] = tp;
    a->rms[a->n] = (float)sqrt(sq / (double)(m * (size_t)ch));
    a->n++;
    if (ch >= 2) {
        a->sumlr += st.sumlr, a->side = fmaxf(a->side, st.side);
        a->sec_lr += st.sumlr, a->sec_ll += st.sumsq[0], a->sec_rr += st.sumsq[1];
        if (++a->sec_hops == 10 && s_push_second(a)) return MF_ERR_NOMEM;
    }
    if (pk >= s_silent && s_silence(a, m)) return MF_ERR_NOMEM;
    if (a->spec) mf_spectrum_feed(a->spec, a->pl[0] + HIST, ch >= 2 ? a->pl[1] + HIST : NULL, m);
    for (int c = 0; c < ch; c++) memmove(a->pl[c], a->pl[c] + m, HIST * sizeof(float));
    a->pos += (int64_t)m;
    return MF_OK;
}

/* More than two channels: split and measured by a plain loop (a kernel
 * for a surround file read once by `mixfarm qc` would not pay for itself). */
static void s_deint_many(const float *in, size_t n, int ch, float *const *pl, hop_stats_t *t)
{
    *t = (hop_stats_t){0};
    for (size_t i = 0; i < n; i++) {
        const float *f = in + i * (size_t)ch;
        for (int c = 0; c < ch; c++) {
            pl[c][i] = f[c];
            t->peak[c] = fmaxf(t->peak[c], fabsf(f[c]));
            t->sum[c] += f[c], t->sumsq[c] += (double)f[c] * f[c];
        }
        t->sumlr += (double)f[0] * f[1];
        t->side = fmaxf(t->side, fabsf(f[0] - f[1]));
    }
}

/* Splits the caller's frames straight into the planar hop buffers (one
 * pass over the input), merging the block statistics. */
static void s_take(mf_analyzer_t *a, const float *buf, size_t m)
{
    hop_stats_t t = {0}, *h = &a->hst;
    const size_t at = HIST + a->fill;
    if (a->ch <= 2) {
        mf_blk_stats_t k;
        a->k->deint(buf, m, a->ch, a->pl[0] + at, a->ch == 2 ? a->pl[1] + at : NULL, &k);
        for (int c = 0; c < 2; c++)
            t.peak[c] = k.peak[c], t.sum[c] = k.sum[c], t.sumsq[c] = k.sumsq[c];
        t.sumlr = k.sumlr, t.side = k.side;
    } else {
        float *pl[MAXC];
        for (int c = 0; c < a->ch; c++) pl[c] = a->pl[c] + at;
        s_deint_many(buf, m, a->ch, pl, &t);
    }
    for (int c = 0; c < a->ch; c++) {
        h->peak[c] = fmaxf(h->peak[c], t.peak[c]);
        h->sum[c] += t.sum[c], h->sumsq[c] += t.sumsq[c];
    }
    h->sumlr += t.sumlr, h->side = fmaxf(h->side, t.side);
    a->fill += m;
}

mf_err_t mf_analyzer_feed(mf_analyzer_t *a, const float *buf, size_t frames)
{
    if (a->finished) return MF_ERR_INVALID;
    while (frames) {
        const size_t m = frames < a->hop - a->fill ? frames : a->hop - a->fill;
        s_take(a, buf, m);
        buf += m * (size_t)a->ch, frames -= m;
        if (a->fill == a->hop) {
            const mf_err_t err = s_hop(a, a->hop);
            if (err) return err;
        }
    }
    return MF_OK;
}

static double s_db(double lin)
{
    return lin > 0.0 ? 20.0 * log10(lin) : -INFINITY;
}

static mf_err_t s_flush(mf_analyzer_t *a)
{
    mf_err_t err;
    if (a->fill && (err = s_hop(a, a->fill))) return err;
    if (a->ch >= 2 && a->sec_hops && s_push_second(a)) return MF_ERR_NOMEM;
    if ((a->flags & MF_ANALYZE_TRUE_PEAK) && a->n) {
        /* The intervals of the last MF_TP_POST samples against the silence
         * after the end, and those of the silence itself: the band-limited
         * signal rings on after an abrupt end (as it does before the start,
         * which the zero history covers). */
        float tp = 0.0f;
        for (int c = 0; c < a->ch; c++) {
            memset(a->pl[c] + HIST, 0, 2 * MF_TP_POST * sizeof(float));
            tp = fmaxf(tp, a->k->tp_max(&a->tp, a->pl[c] + MF_TP_PRE, 2 * MF_TP_POST));
        }
        a->tpk[a->n - 1] = fmaxf(a->tpk[a->n - 1], tp);
        if (tp > a->tp_max) a->tp_max = tp, a->tp_at = a->n - 1;
    }
    return MF_OK;
}

static void s_stereo(const mf_analyzer_t *a, mf_analysis_t *r)
{
    r->correlation = 1.0, r->mono_drop_db = 0.0, r->side_peak_dbfs = -INFINITY;
    r->worst_correlation = 1.0, r->worst_correlation_at_s = NAN;
    if (a->ch < 2) return;
    const double ll = a->sumsq[0], rr = a->sumsq[1];
    r->correlation = ll > 0.0 && rr > 0.0   ? a->sumlr / sqrt(ll * rr)
                     : ll > 0.0 || rr > 0.0 ? 0.0
                                            : 1.0;
    const double mono = ll + rr + 2.0 * a->sumlr;
    r->mono_drop_db =
        ll + rr > 0.0 ? (mono > 0.0 ? 10.0 * log10(mono / (2.0 * (ll + rr))) : -INFINITY) : 0.0;
    r->side_peak_dbfs = s_db(a->side);
    r->identical_channels = a->peak_max >= s_silent && r->side_peak_dbfs <= -80.0;
    for (size_t i = 0; i < a->n_sec; i++)
        if (a->corr[i] < r->worst_correlation)
            r->worst_correlation = a->corr[i], r->worst_correlation_at_s = (double)i;
}

mf_err_t mf_analyzer_finish(mf_analyzer_t *a, mf_analysis_t *r)
{
    memset(r, 0, sizeof *r);
    if (a->finished) return MF_ERR_INVALID;
    a->finished = 1;
    mf_err_t err = s_flush(a);
    if (err) return err;
    const double fs = a->rate, hop_s = (double)a->hop / fs, n = (double)a->pos;
    r->channels = a->ch, r->rate = fs, r->frames = a->pos, r->duration_s = n / fs;
    for (int c = 0; c < a->ch; c++) r->loudness_weight[c] = a->weight[c];
    r->hop_s = hop_s, r->n_hops = a->n;
    r->integrated_lufs = r->lra_lu = r->momentary_max_lufs = r->short_term_max_lufs = NAN;
    if (a->flags & MF_ANALYZE_LOUDNESS) {
        mf_loudness_t l;
        r->momentary = malloc((a->n + 1) * sizeof(float));
        r->short_term = malloc((a->n + 1) * sizeof(float));
        if (!r->momentary || !r->short_term ||
            mf_loudness_compute(a->energy, a->n_energy, a->hop, r->momentary, r->short_term, &l))
            goto nomem;
        for (size_t i = a->n_energy; i < a->n; i++) r->momentary[i] = r->short_term[i] = NAN;
        r->integrated_lufs = l.integrated, r->lra_lu = l.lra;
        r->momentary_max_lufs = l.momentary_max, r->short_term_max_lufs = l.short_term_max;
    }
    r->sample_peak_dbfs = s_db(a->peak_max), r->sample_peak_at_s = (double)a->peak_at * hop_s;
    r->true_peak_dbtp = r->true_peak_at_s = NAN;
    if (a->flags & MF_ANALYZE_TRUE_PEAK)
        r->true_peak_dbtp = s_db(a->tp_max), r->true_peak_at_s = (double)a->tp_at * hop_s;
    double sq = 0.0, dc = 0.0;
    for (int c = 0; c < a->ch; c++)
        sq += a->sumsq[c], dc = fmax(dc, fabs(a->sum[c]) / fmax(n, 1.0));
    r->rms_dbfs = n > 0 ? s_db(sqrt(sq / (n * a->ch))) : -INFINITY;
    r->crest_db = isfinite(r->rms_dbfs) ? r->sample_peak_dbfs - r->rms_dbfs : NAN;
    r->plr_db = isfinite(r->true_peak_dbtp) && isfinite(r->integrated_lufs)
                    ? r->true_peak_dbtp - r->integrated_lufs
                    : NAN;
    r->dc_offset_db = s_db(dc);
    r->clipped_samples = a->clipped, r->clip_runs = a->clip_runs;
    r->clip_at_s = a->clip_first >= 0 ? (double)a->clip_first / fs : NAN;
    s_stereo(a, r);
    r->head_silence_s = a->first_loud >= 0 ? (double)a->first_loud / fs : r->duration_s;
    r->tail_silence_s = a->last_loud >= 0 ? (n - (double)a->last_loud - 1.0) / fs : r->duration_s;
    r->gaps = a->gaps, r->n_gaps = a->n_gaps, a->gaps = NULL;
    r->peak = a->peak, r->rms = a->rms, a->peak = a->rms = NULL;
    if (a->flags & MF_ANALYZE_TRUE_PEAK) r->true_peak = a->tpk, a->tpk = NULL;
    r->n_seconds = a->n_sec, r->correlation_s = a->corr, a->corr = NULL;
    for (int b = 0; b < MF_QC_BANDS; b++) r->band_db[b] = NAN;
    if (a->spec) mf_spectrum_bands(a->spec, r->band_db);
    return MF_OK;
nomem:
    mf_analysis_fini(r);
    return MF_ERR_NOMEM;
}

void mf_analysis_fini(mf_analysis_t *r)
{
    free(r->gaps), free(r->momentary), free(r->short_term), free(r->peak), free(r->true_peak);
    free(r->rms), free(r->correlation_s);
    memset(r, 0, sizeof *r);
}
