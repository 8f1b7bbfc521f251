/* Presets and checks. */
#include "mf_qc.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* AUDIO-FACTS.md / SESSION.md: the delivery targets. */
static const mf_qc_target_t s_presets[] = {
    {"streaming", -14.0, -1.0}, {"apple", -16.0, -1.0},    {"youtube", -14.0, -1.0},
    {"ebu-r128", -23.0, -1.0},  {"atsc-a85", -24.0, -2.0}, {"cd", -9.0, -0.3},
    {"none", NAN, -1.0},
};

const mf_qc_target_t *mf_qc_presets(size_t *count)
{
    *count = sizeof s_presets / sizeof s_presets[0];
    return s_presets;
}

const mf_qc_target_t *mf_qc_preset(const char *name)
{
    for (size_t i = 0; name && i < sizeof s_presets / sizeof s_presets[0]; i++)
        if (strcmp(s_presets[i].name, name) == 0) return &s_presets[i];
    return NULL;
}

const char *mf_qc_time(double s, char *buf, size_t size)
{
    if (!isfinite(s))
        snprintf(buf, size, "-");
    else if (s < 60.0)
        snprintf(buf, size, "%.1f s", s);
    else {
        const int m = (int)(s / 60.0);
        snprintf(buf, size, "%d:%04.1f", m, s - 60.0 * m);
    }
    return buf;
}

static void s_vadd(mf_qc_problems_t *p, const char *check, double at, const char *fmt, va_list ap)
{
    if (p->count == MF_QC_MAX_PROBLEMS) return;
    mf_qc_problem_t *q = &p->items[p->count++];
    q->check = check, q->at_s = at;
    vsnprintf(q->message, sizeof q->message, fmt, ap);
}

__attribute__((format(printf, 4, 5))) static void s_add(mf_qc_problems_t *p, const char *check,
                                                        double at, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    s_vadd(p, check, at, fmt, ap);
    va_end(ap);
}

void mf_qc_add(mf_qc_problems_t *p, const char *check, double at_s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    s_vadd(p, check, at_s, fmt, ap);
    va_end(ap);
}

/* How much longer than MF_QC_SILENCE_MAX_S the silence [s, s + len) may
 * be: the pauses it meets, made on purpose. */
static double s_pauses_in(const mf_qc_format_t *fmt, double s, double len)
{
    double allowed = 0.0;
    for (size_t i = 0; fmt && i < fmt->n_pauses; i++) {
        const mf_qc_span_t *q = &fmt->pauses[i];
        if (q->start_s < s + len && s < q->start_s + q->length_s) allowed += q->length_s;
    }
    return allowed;
}

static void s_silence(const mf_analysis_t *a, const mf_qc_format_t *fmt, mf_qc_problems_t *p)
{
    char t[32];
    if (a->head_silence_s >= a->duration_s && a->frames > 0) {
        s_add(p, "silence", 0.0, "the file is silent (below %.0f dBFS throughout)",
              MF_QC_SILENCE_DBFS);
        return;
    }
    const double head_max = MF_QC_SILENCE_MAX_S + s_pauses_in(fmt, 0.0, a->head_silence_s);
    if (a->head_silence_s > head_max)
        s_add(p, "silence", 0.0, "%.2f s of silence at the head (more than %.1f s)",
              a->head_silence_s, head_max);
    if (a->tail_silence_s > MF_QC_SILENCE_MAX_S)
        s_add(p, "silence", a->duration_s - a->tail_silence_s,
              "%.2f s of silence at the tail (more than %.0f s)", a->tail_silence_s,
              MF_QC_SILENCE_MAX_S);
    for (size_t i = 0; i < a->n_gaps; i++)
        if (a->gaps[i].length_s >
            MF_QC_SILENCE_MAX_S + s_pauses_in(fmt, a->gaps[i].start_s, a->gaps[i].length_s))
            s_add(p, "silence", a->gaps[i].start_s, "%.2f s of silence inside the file at %s",
                  a->gaps[i].length_s, mf_qc_time(a->gaps[i].start_s, t, sizeof t));
}

size_t mf_qc_check(const mf_analysis_t *a, const mf_qc_target_t *tg, const mf_qc_format_t *fmt,
                   mf_qc_problems_t *p)
{
    char t[32];
    memset(p, 0, sizeof *p);
    if (a->true_peak_dbtp > tg->true_peak_dbtp)
        s_add(p, "true_peak", a->true_peak_at_s,
              "true peak %.2f dBTP is above the %.1f dBTP ceiling (at %s)", a->true_peak_dbtp,
              tg->true_peak_dbtp, mf_qc_time(a->true_peak_at_s, t, sizeof t));
    if (isfinite(tg->lufs)) {
        if (!isfinite(a->integrated_lufs))
            s_add(p, "loudness", NAN,
                  "no integrated loudness (nothing above the -70 LUFS gate); target %.1f LUFS",
                  tg->lufs);
        else if (fabs(a->integrated_lufs - tg->lufs) > MF_QC_LOUDNESS_TOL_LU)
            s_add(p, "loudness", NAN,
                  "integrated loudness %.2f LUFS is %+.2f LU off the %.1f LUFS target (tolerance "
                  "%.1f LU)",
                  a->integrated_lufs, a->integrated_lufs - tg->lufs, tg->lufs,
                  MF_QC_LOUDNESS_TOL_LU);
    }
    if (a->clipped_samples > 0)
        s_add(p, "clipping", a->clip_at_s,
              "%lld clipped samples in %lld run%s of %d or more at full scale, the first at %s",
              (long long)a->clipped_samples, (long long)a->clip_runs, a->clip_runs == 1 ? "" : "s",
              MF_QC_CLIP_RUN, mf_qc_time(a->clip_at_s, t, sizeof t));
    if (a->dc_offset_db > MF_QC_DC_MAX_DB)
        s_add(p, "dc_offset", NAN, "DC offset %.1f dB (above %.0f dB)", a->dc_offset_db,
              MF_QC_DC_MAX_DB);
    s_silence(a, fmt, p);
    if (a->channels >= 2 && a->correlation < MF_QC_PHASE_MIN) /* of more, the front pair */
        s_add(p, "phase", a->worst_correlation_at_s,
              "L/R correlation %.2f: the channels are %s out of phase; summed to mono they "
              "lose %.1f dB, where unrelated channels lose 3 (worst second %.2f at %s)",
              a->correlation, a->correlation < -0.5 ? "mostly" : "partly", -a->mono_drop_db,
              a->worst_correlation, mf_qc_time(a->worst_correlation_at_s, t, sizeof t));
    if (a->channels == 2 && a->identical_channels && !(fmt && fmt->mono))
        s_add(p, "mono_as_stereo", NAN, "left and right are identical (mono delivered as stereo)");
    if (a->duration_s < MF_QC_MIN_LENGTH_S || a->duration_s > MF_QC_MAX_LENGTH_S)
        s_add(p, "length", NAN, "length %s is outside %.0f s .. %.0f min",
              mf_qc_time(a->duration_s, t, sizeof t), MF_QC_MIN_LENGTH_S,
              MF_QC_MAX_LENGTH_S / 60.0);
    if (fmt && fmt->lossless &&
        ((fmt->bits > 0 && fmt->bits < MF_QC_MIN_BITS) || fmt->rate < MF_QC_MIN_RATE))
        s_add(p, "format", NAN,
              "%d-bit / %d Hz is below the %d-bit / %d Hz minimum for lossless delivery", fmt->bits,
              fmt->rate, MF_QC_MIN_BITS, MF_QC_MIN_RATE);
    return p->count;
}
