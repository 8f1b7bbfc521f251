/* Helpers shared by the dsp tests: building parameter arrays from the class
 * tables by name, running a processor in blocks, measuring tones. */
#ifndef DSP_TEST_UTIL_H
#define DSP_TEST_UTIL_H

#include "mf_processor.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define TP_MAXV 256

typedef struct {
    const mf_processor_class_t *cls;
    double v[TP_MAXV];
    size_t nbands;
    mf_proc_env_t env;
    void *st;
} tp_t;

/* Sets list parameter name to the n values in x. */
static inline void tp_list(tp_t *p, const char *name, const double *x, size_t n)
{
    const int l = mf_processor_list_index(p->cls, name);
    if (l < 0 || n > p->cls->lists[l].max_count) abort();
    double *v = p->v + mf_processor_list_offset(p->cls, p->nbands, (size_t)l);
    memset(v, 0, (1 + p->cls->lists[l].max_count) * sizeof *v);
    v[0] = (double)n;
    for (size_t i = 0; i < n; i++) v[1 + i] = x[i];
}

/* Defaults from the class table for nbands bands. A list that sets the
 * band count gets nbands - 1 items, its defaults first, then more spread
 * above them. */
static inline void tp_init(tp_t *p, const char *type, size_t nbands, double rate, int channels)
{
    memset(p, 0, sizeof *p);
    p->cls = mf_processor_find(type);
    if (!p->cls) abort();
    p->nbands = nbands;
    p->env = (mf_proc_env_t){.sample_rate = rate, .channels = channels, .tempo_bpm = 120.0};
    for (size_t i = 0; i < p->cls->n_params; i++) p->v[i] = p->cls->params[i].def;
    for (size_t b = 0; b < nbands; b++)
        for (size_t i = 0; i < p->cls->n_band_params; i++)
            p->v[p->cls->n_params + b * p->cls->n_band_params + i] = p->cls->band_params[i].def;
    for (size_t l = 0; l < p->cls->n_lists; l++) {
        const mf_list_param_t *lp = &p->cls->lists[l];
        double x[64];
        size_t n = lp->sets_bands ? (nbands ? nbands - 1 : 0) : lp->n_defaults;
        for (size_t i = 0; i < n && i < 64; i++)
            x[i] = i < lp->n_defaults ? lp->defaults[i] : x[i - 1] * 2.0;
        tp_list(p, lp->item.name, x, n);
    }
}

static inline void *tp_create_aux(tp_t *p, const float *aux, size_t frames, int channels)
{
    const mf_proc_aux_t a = {aux, frames, channels};
    p->st = p->cls->create_aux(p->v, p->nbands, &p->env, &a);
    return p->st;
}

static inline double tp_choice(const mf_param_desc_t *d, const char *s)
{
    for (int i = 0; d->choices[i]; i++)
        if (strcmp(d->choices[i], s) == 0) return i;
    abort();
}

/* Sets a top-level (band < 0) or band parameter; sval for choices. */
static inline void tp_setx(tp_t *p, int band, const char *name, double val, const char *sval)
{
    const int i = mf_processor_param_index(p->cls, band >= 0, name);
    if (i < 0) abort();
    const mf_param_desc_t *d = band >= 0 ? &p->cls->band_params[i] : &p->cls->params[i];
    const size_t at =
        band >= 0 ? p->cls->n_params + (size_t)band * p->cls->n_band_params + (size_t)i : (size_t)i;
    p->v[at] = sval ? tp_choice(d, sval) : val;
}
#define tp_set(p, name, val) tp_setx(p, -1, name, val, NULL)
#define tp_sets(p, name, s) tp_setx(p, -1, name, 0, s)
#define tp_band(p, b, name, val) tp_setx(p, b, name, val, NULL)
#define tp_bands(p, b, name, s) tp_setx(p, b, name, 0, s)

static inline void *tp_create(tp_t *p)
{
    p->st = p->cls->create(p->v, p->nbands, &p->env);
    return p->st;
}

static inline void tp_free(tp_t *p)
{
    if (p->st) p->cls->destroy(p->st);
    p->st = NULL;
}

/* Runs frames frames in blocks of at most blk (key may be NULL). */
static inline void tp_run(tp_t *p, float *buf, size_t frames, const float *key, size_t blk)
{
    const size_t ch = (size_t)p->env.channels;
    for (size_t i = 0; i < frames; i += blk) {
        const size_t n = frames - i < blk ? frames - i : blk;
        p->cls->process(p->st, buf + i * ch, n, key ? key + i * ch : NULL);
    }
}

/* Amplitude of the component at f in x[0], x[stride], ... (n samples): 2/n |DFT|.
 * Exact for a sine with an integer number of cycles in n. */
static inline double tone_amp(const float *x, size_t n, size_t stride, double f, double fs)
{
    double re = 0, im = 0;
    const double w = 2 * M_PI * f / fs;
    for (size_t i = 0; i < n; i++) {
        re += x[i * stride] * cos(w * (double)i);
        im -= x[i * stride] * sin(w * (double)i);
    }
    return 2.0 * sqrt(re * re + im * im) / (double)n;
}

static inline void fill_sine(float *x, size_t frames, int ch, double f, double fs, double amp)
{
    for (size_t i = 0; i < frames; i++)
        for (int c = 0; c < ch; c++)
            x[i * (size_t)ch + (size_t)c] = (float)(amp * sin(2 * M_PI * f * (double)i / fs));
}

static inline double db(double g)
{
    return 20.0 * log10(g);
}

#endif
