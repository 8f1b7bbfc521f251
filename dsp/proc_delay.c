/* delay: a feedback echo. Each channel's line is fed input + feedback x the
 * (optionally low-passed) echo; with ping_pong on a stereo signal the mono
 * sum enters the left line and the lines feed each other, so echoes
 * alternate left, right, left... The time is time_ms, or a note value at
 * the session tempo when note is not "none"; time changes glide (50 ms
 * one-pole on the read position, with linear interpolation) instead of
 * clicking. mix is a linear crossfade, 0 dry ... 1 echoes only. What is
 * fed back first goes through a one-pole highpass at 5 Hz, as in an
 * analog unit's coupling: the loop's gain at DC is 1 / (1 - feedback), so
 * a source's slight offset came out 40 dB louder at 0.99; the first echo
 * is the input itself, to the sample, and bass loses under 0.1 dB a pass
 * at 40 Hz. */
#include "mf_dsp_util.h"
#include "mf_processor.h"

#include <stdlib.h>

enum { P_TIME, P_NOTE, P_FB, P_LP, P_PP, P_MIX, N_PARAMS };

#define MAX_S 10.0 /* longest delay, seconds */
#define TAIL_MAX_S 30.0
#define HP_HZ 5.0 /* the feedback's highpass */

static const char *const s_notes[] = {"none", "1/1",  "1/2",  "1/4",   "1/8",   "1/16",  "1/32",
                                      "1/1.", "1/2.", "1/4.", "1/8.",  "1/16.", "1/32.", "1/1t",
                                      "1/2t", "1/4t", "1/8t", "1/16t", "1/32t", NULL};

static const mf_param_desc_t s_params[] = {
    [P_TIME] = {"time_ms", "ms", 250, 1, 5000, NULL, "delay time when note is none"},
    [P_NOTE] = {"note", "", 0, 0, 18, s_notes,
                "tempo-synced time: 1/4 a beat, \".\" dotted (x1.5), \"t\" triplet (x2/3)"},
    [P_FB] = {"feedback", "", 0.3, 0, 0.99, NULL, "echo level fed back into the line"},
    [P_LP] = {"lowpass_hz", "Hz", 0, 0, 20000, NULL, "one-pole lowpass in the loop; 0 is off"},
    [P_PP] = {"ping_pong", "", 0, 0, 1, NULL, "1 alternates echoes left and right (stereo)"},
    [P_MIX] = {"mix", "", 0.3, 0, 1, NULL, "0 dry ... 1 echoes only"},
};

typedef struct {
    int ch, pp;
    double rate, tempo;
    float d, d_t, glide; /* delay in frames: current, target */
    float fb, lp, mix;   /* lp: one-pole coefficient, 0 = off */
    float lps[2];
    mf_dsp_dc_block_t hp[2]; /* the loop's DC blocker, per channel */
    float *line;             /* size frames per channel, channel-major */
    size_t size, w;
} delay_t;

static double s_note_beats(int note)
{
    if (note <= 0 || note > 18) return 0;
    const int base = (note - 1) % 6, kind = (note - 1) / 6;
    const double beats = 4.0 / (double)(1 << base);
    return kind == 1 ? beats * 1.5 : kind == 2 ? beats * 2.0 / 3.0 : beats;
}

static void delay_update(void *st, const double *v)
{
    delay_t *d = st;
    const int note = (int)lround(v[P_NOTE]);
    const double ms = note ? s_note_beats(note) * 60000.0 / d->tempo : v[P_TIME];
    d->d_t = (float)mf_dsp_clamp(ms * 0.001 * d->rate, 1, (double)d->size - 2);
    d->fb = (float)mf_dsp_clamp(v[P_FB], 0, 0.99);
    d->lp = v[P_LP] > 0 ? (float)exp(-2.0 * M_PI * v[P_LP] / d->rate) : 0.0f;
    d->pp = v[P_PP] >= 0.5 && d->ch == 2;
    d->mix = (float)mf_dsp_clamp(v[P_MIX], 0, 1);
}

static void delay_destroy(void *st)
{
    delay_t *d = st;
    if (d) free(d->line);
    free(d);
}

static void *delay_create(const double *v, size_t nbands, const mf_proc_env_t *env)
{
    (void)nbands;
    delay_t *d = calloc(1, sizeof *d);
    if (!d) return NULL;
    d->ch = env->channels;
    d->rate = env->sample_rate;
    d->tempo = env->tempo_bpm > 0 ? env->tempo_bpm : 120.0;
    d->size = (size_t)(MAX_S * d->rate) + 4;
    d->line = calloc(d->size * (size_t)d->ch, sizeof *d->line);
    if (!d->line) goto fail;
    d->glide = (float)mf_dsp_time_coef(50.0, d->rate);
    d->hp[0] = d->hp[1] = mf_dsp_dc_block_new(HP_HZ, d->rate);
    delay_update(d, v);
    d->d = d->d_t;
    return d;
fail:
    delay_destroy(d);
    return NULL;
}

static float s_read(const delay_t *d, int c, float delay)
{
    const float *line = d->line + (size_t)c * d->size;
    const size_t di = (size_t)delay;
    const float frac = delay - (float)di;
    const size_t a = (d->w + d->size - di) % d->size, b = (a + d->size - 1) % d->size;
    return frac == 0.0f ? line[a] : line[a] + frac * (line[b] - line[a]);
}

static void delay_process(void *st, float *buf, size_t frames, const float *key)
{
    (void)key;
    delay_t *d = st;
    const unsigned fp = mf_dsp_denormals_off();
    for (size_t i = 0; i < frames; i++) {
        float *x = buf + i * (size_t)d->ch, echo[2], fbk[2];
        d->d = d->d_t + d->glide * (d->d - d->d_t);
        if (fabsf(d->d - d->d_t) < 1e-3f) d->d = d->d_t;
        for (int c = 0; c < d->ch; c++) {
            echo[c] = s_read(d, c, d->d);
            const float f =
                d->lp > 0 ? (d->lps[c] = echo[c] + d->lp * (d->lps[c] - echo[c])) : echo[c];
            fbk[c] = mf_dsp_dc_block(&d->hp[c], f);
        }
        for (int c = 0; c < d->ch; c++) {
            float in;
            if (d->pp)
                in = c == 0 ? 0.5f * (x[0] + x[1]) + d->fb * fbk[1] : d->fb * fbk[0];
            else
                in = x[c] + d->fb * fbk[c];
            d->line[(size_t)c * d->size + d->w] = in;
            x[c] = x[c] + d->mix * (echo[c] - x[c]);
        }
        if (++d->w == d->size) d->w = 0;
    }
    mf_dsp_denormals_restore(fp);
}

/* Echo n is fb^(n-1) below the first: the tail lasts until that is 90 dB
 * down, bounded to TAIL_MAX_S. */
static size_t delay_tail(const void *st)
{
    const delay_t *d = st;
    double n = 1;
    if (d->fb > 1e-6f) n = ceil(-90.0 / (20.0 * log10(d->fb))) + 1;
    if (d->pp) n += 1;
    const double frames = n * (double)d->d_t;
    return (size_t)fmin(frames, TAIL_MAX_S * d->rate);
}

const mf_processor_class_t mf_proc_delay = {
    .type = "delay",
    .summary = "feedback delay, tempo sync, lowpass in the loop, ping-pong",
    .params = s_params,
    .n_params = N_PARAMS,
    .create = delay_create,
    .update = delay_update,
    .process = delay_process,
    .tail_frames = delay_tail,
    .destroy = delay_destroy,
};
