/* reverb: an 8-line feedback delay network (Jot and Chaigne, 1991; the
 * structure of Schlecht and Habets, "Feedback delay networks: echo density
 * and mixing time", 2017): input -> predelay -> four series allpass
 * diffusers -> 8 delay lines mixed by a normalised Hadamard matrix (lossless)
 * -> per-line gain g_i = 10^(-3 d_i / (fs T60)) so every line loses 60 dB in
 * decay_s whatever its length, with a one-pole lowpass per line for
 * damping (unity at DC, so decay_s holds at low frequencies and highs die
 * sooner). A one-pole highpass at 10 Hz ahead of the diffusers keeps DC
 * and rumble out of the network: its loop gain at DC is large, and a source
 * with a slight offset (-47 dB) came out of a plate with -32 dB of it, which
 * failed the master's DC check. The models differ in line lengths and
 * diffusion. size scales the
 * lines and is, like model, fixed when the instance is made (changing it
 * would move read positions); decay, damping, predelay and mix follow
 * automation.
 *
 * With "ir" (an impulse-response file, an auxiliary input), the reverb is a
 * convolution instead (mf_conv.c, no latency), and model, decay, predelay,
 * damping and size are unused. The impulse response is used as is unless
 * normalize is on, which scales it (one gain for all its channels) to unit
 * energy: sum of h^2 = 1, averaged over its channels, so white noise keeps its
 * level. Channels: a mono IR convolves every channel; a stereo IR convolves
 * left with left and right with right, or, on a mono signal, its mid
 * (L + R) / 2. Only mix follows automation. Tail: the IR's length. */
#include "mf_conv.h"
#include "mf_dsp_util.h"
#include "mf_processor.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { P_MODEL, P_DECAY, P_PRE, P_DAMP, P_SIZE, P_MIX, P_NORM, N_PARAMS };

#define NL 8
#define ND 4
#define MAX_PRE_MS 500.0
#define TAIL_MAX_S 30.0
#define HP_HZ 10.0 /* the network's input highpass */

static const char *const s_models[] = {"room", "hall", "plate", NULL};

static const mf_param_desc_t s_params[] = {
    [P_MODEL] = {"model", "", 1, 0, 2, s_models, "room, hall or plate"},
    [P_DECAY] = {"decay_s", "s", 1.8, 0.1, 20, NULL, "RT60: time to decay by 60 dB"},
    [P_PRE] = {"predelay_ms", "ms", 0, 0, 500, NULL, "delay before the reverb starts"},
    [P_DAMP] = {"damping", "", 0.4, 0, 1, NULL, "high-frequency absorption, 0 none ... 1 dark"},
    [P_SIZE] = {"size", "", 0.5, 0, 1, NULL, "room size (scales the delay lines)"},
    [P_MIX] = {"mix", "", 0.3, 0, 1, NULL, "0 dry ... 1 reverb only"},
    [P_NORM] = {"normalize", "", 0, 0, 1, NULL,
                "with ir: scale the impulse response to unit energy (true) or use it as is"},
};

static const mf_aux_desc_t s_aux = {
    .name = "ir",
    .max_seconds = 30.0,
    .help = "impulse response (a path relative to the session): a convolution reverb",
};

/* Line and diffuser lengths in ms at size 1, mutually prime once rounded. */
static const double s_lines[3][NL] = {
    {11.3, 13.7, 17.1, 19.9, 23.3, 27.1, 29.7, 33.1},
    {37.1, 43.3, 51.7, 59.3, 67.9, 73.1, 83.3, 97.7},
    {7.1, 9.3, 11.9, 14.3, 17.7, 21.1, 24.3, 28.9},
};
static const double s_diff[3][ND] = {
    {4.7, 3.6, 2.3, 1.7}, {9.1, 6.3, 4.1, 2.9}, {3.3, 2.6, 1.9, 1.3}};
static const float s_diff_g[3] = {0.6f, 0.65f, 0.75f};

typedef struct {
    float *buf;
    size_t len, pos;
} line_t;

typedef struct {
    int conv; /* 0: this FDN; 1: verb_ir_t (both structs start with it) */
    int ch, model;
    double rate;
    float g[NL], damp, lp[NL], mix, dg;
    mf_dsp_dc_block_t hp; /* the input's DC blocker */
    size_t pre;
    line_t pred, diff[ND], line[NL];
    float decay_s, pre_ms;
    float *mem;
} verb_t;

typedef struct {
    int conv;
    int ch;
    float mix;
    size_t taps;
    mf_conv_ir_t *ir[2];
    mf_conv_t *cv[2];
    float wet[2 * MF_DSP_CHUNK];
} verb_ir_t;

static void verb_update(void *st, const double *v)
{
    if (*(const int *)st) {
        ((verb_ir_t *)st)->mix = (float)mf_dsp_clamp(v[P_MIX], 0, 1);
        return;
    }
    verb_t *r = st;
    r->decay_s = (float)mf_dsp_clamp(v[P_DECAY], 0.1, 20);
    for (int i = 0; i < NL; i++)
        r->g[i] = (float)pow(10.0, -3.0 * (double)r->line[i].len / (r->rate * r->decay_s));
    r->damp = (float)(0.95 * mf_dsp_clamp(v[P_DAMP], 0, 1));
    r->pre_ms = (float)mf_dsp_clamp(v[P_PRE], 0, MAX_PRE_MS);
    r->pre = mf_dsp_ms_frames(r->pre_ms, r->rate);
    if (r->pre >= r->pred.len) r->pre = r->pred.len - 1;
    r->mix = (float)mf_dsp_clamp(v[P_MIX], 0, 1);
}

static void *verb_create(const double *v, size_t nbands, const mf_proc_env_t *env)
{
    (void)nbands;
    verb_t *r = calloc(1, sizeof *r);
    if (!r) return NULL;
    r->ch = env->channels;
    r->rate = env->sample_rate;
    r->model = (int)mf_dsp_clamp(lround(v[P_MODEL]), 0, 2);
    r->dg = s_diff_g[r->model];
    r->hp = mf_dsp_dc_block_new(HP_HZ, r->rate);
    const double scale = 0.35 + 0.65 * mf_dsp_clamp(v[P_SIZE], 0, 1);
    r->pred.len = mf_dsp_ms_frames(MAX_PRE_MS, r->rate) + 1;
    size_t total = r->pred.len;
    for (int i = 0; i < ND; i++)
        total += r->diff[i].len = mf_dsp_ms_frames(s_diff[r->model][i] * scale, r->rate) | 1;
    for (int i = 0; i < NL; i++)
        total += r->line[i].len = mf_dsp_ms_frames(s_lines[r->model][i] * scale, r->rate) | 1;
    r->mem = calloc(total, sizeof *r->mem);
    if (!r->mem) {
        free(r);
        return NULL;
    }
    float *p = r->mem;
    r->pred.buf = p, p += r->pred.len;
    for (int i = 0; i < ND; i++) r->diff[i].buf = p, p += r->diff[i].len;
    for (int i = 0; i < NL; i++) r->line[i].buf = p, p += r->line[i].len;
    verb_update(r, v);
    return r;
}

static void verb_destroy(void *st)
{
    if (st && *(const int *)st) {
        verb_ir_t *c = st;
        for (int i = 0; i < 2; i++) mf_conv_free(&c->cv[i]); /* they borrow the IRs */
        for (int i = 0; i < 2; i++) mf_conv_ir_free(&c->ir[i]);
        free(c);
        return;
    }
    verb_t *r = st;
    if (r) free(r->mem);
    free(r);
}

/* Unit energy over the IR's channels (1 when it is silent). */
static float s_norm_gain(const mf_proc_aux_t *a)
{
    double e = 0.0;
    for (size_t i = 0; i < a->frames * (size_t)a->channels; i++)
        e += (double)a->data[i] * a->data[i];
    e /= a->channels;
    return e > 0.0 ? (float)(1.0 / sqrt(e)) : 1.0f;
}

static void *verb_create_ir(const double *v, size_t nbands, const mf_proc_env_t *env,
                            const mf_proc_aux_t *aux)
{
    if (!aux || !aux->data || aux->frames == 0 || aux->channels < 1 || aux->channels > 2)
        return verb_create(v, nbands, env);
    verb_ir_t *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->conv = 1;
    c->ch = env->channels;
    c->taps = aux->frames;
    const float g = v[P_NORM] >= 0.5 ? s_norm_gain(aux) : 1.0f;
    const size_t ach = (size_t)aux->channels;
    if (c->ch == 1 && ach == 2) { /* a mono signal takes the IR's mid */
        float *mid = malloc(aux->frames * sizeof *mid);
        if (mid) {
            for (size_t i = 0; i < aux->frames; i++)
                mid[i] = 0.5f * (aux->data[2 * i] + aux->data[2 * i + 1]);
            c->ir[0] = mf_conv_ir_new(mid, aux->frames, 1, g);
        }
        free(mid);
    } else {
        for (size_t i = 0; i < ach && i < (size_t)c->ch; i++)
            c->ir[i] = mf_conv_ir_new(aux->data + i, aux->frames, ach, g);
    }
    int ok = c->ir[0] != NULL && (ach == 1 || c->ch == 1 || c->ir[1]);
    for (int i = 0; ok && i < c->ch; i++)
        ok = (c->cv[i] = mf_conv_new(c->ir[c->ir[1] ? i : 0])) != NULL;
    if (!ok) {
        verb_destroy(c);
        return NULL;
    }
    verb_update(c, v);
    return c;
}

static void verb_process_ir(verb_ir_t *c, float *buf, size_t frames)
{
    const size_t ch = (size_t)c->ch;
    for (size_t i = 0; i < frames; i += MF_DSP_CHUNK) {
        const size_t n = frames - i < MF_DSP_CHUNK ? frames - i : MF_DSP_CHUNK;
        float *x = buf + i * ch;
        for (size_t k = 0; k < ch; k++) mf_conv_process(c->cv[k], x + k, c->wet + k, n, ch);
        for (size_t j = 0; j < n * ch; j++) x[j] += c->mix * (c->wet[j] - x[j]);
    }
}

/* Schroeder allpass: y = -g x + w_delayed; w = x + g y. */
static float s_allpass(line_t *l, float x, float g)
{
    const float d = l->buf[l->pos], w = x + g * d;
    l->buf[l->pos] = w;
    if (++l->pos == l->len) l->pos = 0;
    return d - g * w;
}

/* In-place 8-point Hadamard transform scaled by 1/sqrt(8): orthogonal. */
static void s_hadamard(float *x)
{
    for (int h = 1; h < NL; h *= 2)
        for (int i = 0; i < NL; i += 2 * h)
            for (int j = i; j < i + h; j++) {
                const float a = x[j], b = x[j + h];
                x[j] = a + b, x[j + h] = a - b;
            }
    for (int i = 0; i < NL; i++) x[i] *= 0.35355339f;
}

static void verb_process(void *st, float *buf, size_t frames, const float *key)
{
    (void)key;
    const unsigned fp = mf_dsp_denormals_off();
    if (*(const int *)st) {
        verb_process_ir(st, buf, frames);
        mf_dsp_denormals_restore(fp);
        return;
    }
    verb_t *r = st;
    for (size_t i = 0; i < frames; i++) {
        float *x = buf + i * (size_t)r->ch;
        const float in = r->ch == 2 ? 0.5f * (x[0] + x[1]) : x[0];
        line_t *pl = &r->pred;
        pl->buf[pl->pos] = in;
        float s = pl->buf[(pl->pos + pl->len - r->pre) % pl->len];
        if (++pl->pos == pl->len) pl->pos = 0;
        s = mf_dsp_dc_block(&r->hp, s);
        for (int k = 0; k < ND; k++) s = s_allpass(&r->diff[k], s, r->dg);
        float o[NL];
        for (int k = 0; k < NL; k++) {
            const line_t *l = &r->line[k];
            const float y = l->buf[l->pos] * r->g[k];
            o[k] = r->lp[k] = y + r->damp * (r->lp[k] - y);
        }
        /* Two decorrelated outputs from the line outputs with different signs. */
        const float wl = 0.5f * (o[0] - o[1] + o[2] - o[3] + o[4] - o[5] + o[6] - o[7]);
        const float wr = 0.5f * (o[0] + o[1] - o[2] - o[3] + o[4] + o[5] - o[6] - o[7]);
        s_hadamard(o);
        for (int k = 0; k < NL; k++) {
            line_t *l = &r->line[k];
            l->buf[l->pos] = o[k] + s;
            if (++l->pos == l->len) l->pos = 0;
        }
        if (r->ch == 2) {
            x[0] += r->mix * (wl - x[0]);
            x[1] += r->mix * (wr - x[1]);
        } else {
            x[0] += r->mix * (0.7071f * (wl + wr) - x[0]);
        }
    }
    mf_dsp_denormals_restore(fp);
}

/* -90 dB takes 1.5 RT60; plus the predelay and the longest line. */
static size_t verb_tail(const void *st)
{
    if (*(const int *)st) return ((const verb_ir_t *)st)->taps;
    const verb_t *r = st;
    const double s = fmin(1.5 * r->decay_s + r->pre_ms * 0.001, TAIL_MAX_S);
    return (size_t)(s * r->rate) + r->line[NL - 1].len;
}

const mf_processor_class_t mf_proc_reverb = {
    .type = "reverb",
    .summary = "reverb: algorithmic (8-line FDN, room/hall/plate) or convolution with an impulse "
               "response (ir)",
    .params = s_params,
    .n_params = N_PARAMS,
    .create = verb_create,
    .update = verb_update,
    .process = verb_process,
    .tail_frames = verb_tail,
    .destroy = verb_destroy,
    .aux = &s_aux,
    .create_aux = verb_create_ir,
};
