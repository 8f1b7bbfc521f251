/* limiter: look-ahead brickwall, true-peak aware.
 *
 * Detector: each channel is interpolated 4x (mf_os4), local maxima refined
 * by parabolic interpolation; the peak of sample t is the largest value over
 * the intervals around it, so an inter-sample peak is charged to the samples
 * on both sides. The gain sample t
 * needs is g(t) = min(1, ceiling / peak(t)).
 *
 * Gain: h(t) = min of g over [t, t+L] (L look-ahead frames, a monotonic
 * deque), then release: r(t) = h(t) when falling, else it rises towards h
 * with release_ms (so r <= h always), then a moving average of r over L
 * frames. Every one of the L averaged values belongs to a window that
 * contains t, so each is <= g(t) and so is their mean: the output never goes
 * above the ceiling, and the gain ramps down smoothly over the look-ahead.
 * Audio is delayed by L + DETECT_DELAY frames (the reported latency);
 * look-ahead is fixed when the instance is made. */
#include "mf_dsp_util.h"
#include "mf_os4.h"
#include "mf_processor.h"

#include <stdlib.h>

enum { P_CEIL, P_REL, P_LOOK, N_PARAMS };

static const mf_param_desc_t s_params[] = {
    [P_CEIL] = {"ceiling_dbtp", "dBTP", -1, -20, 0, NULL, "true-peak ceiling of the output"},
    [P_REL] = {"release_ms", "ms", 80, 1, 2000, NULL, "recovery time constant"},
    [P_LOOK] = {"lookahead_ms", "ms", 5, 0.5, 20, NULL, "look-ahead and attack ramp; latency"},
};

/* A hair under the ceiling: the 4x estimate can read a true peak a little
 * low for content near Nyquist, and gain changes reshape peaks slightly. */
#define MARGIN_DB 0.05
/* Frames from an input sample to its peak value (see s_step). */
#define DETECT_DELAY (MF_OS4_UP_DELAY + 1)

typedef struct {
    int ch;
    double rate, sum;
    float ceil, rel, r, iv[2];
    size_t L, delay, t; /* look-ahead, audio delay, frame counter */
    mf_os4_filter_t f;
    mf_os4_chan_t os[2];
    float *dq_v; /* deque of (value, frame) over L+1 frames */
    size_t *dq_t, dq_head, dq_len;
    float *box; /* last L values of r */
    size_t box_pos;
    float *audio; /* delay line, delay frames x ch */
    size_t apos;
    float pk[MF_OS4_BLOCK]; /* the block's peaks */
} lim_t;

static void lim_update(void *st, const double *v)
{
    lim_t *l = st;
    l->ceil = (float)pow(10.0, (mf_dsp_clamp(v[P_CEIL], -20, 0) - MARGIN_DB) / 20.0);
    l->rel = (float)mf_dsp_time_coef(v[P_REL], l->rate);
}

static void lim_destroy(void *st)
{
    lim_t *l = st;
    if (!l) return;
    free(l->dq_v), free(l->dq_t), free(l->box), free(l->audio);
    free(l);
}

static void *lim_create(const double *v, size_t nbands, const mf_proc_env_t *env)
{
    (void)nbands;
    lim_t *l = calloc(1, sizeof *l);
    if (!l) return NULL;
    l->ch = env->channels;
    l->rate = env->sample_rate;
    l->L = mf_dsp_ms_frames(mf_dsp_clamp(v[P_LOOK], 0.5, 20), l->rate);
    if (l->L < 1) l->L = 1;
    l->delay = l->L + DETECT_DELAY;
    l->dq_v = malloc((l->L + 1) * sizeof *l->dq_v);
    l->dq_t = malloc((l->L + 1) * sizeof *l->dq_t);
    l->box = malloc(l->L * sizeof *l->box);
    l->audio = calloc(l->delay * (size_t)l->ch, sizeof *l->audio);
    if (!l->dq_v || !l->dq_t || !l->box || !l->audio) goto fail;
    for (size_t i = 0; i < l->L; i++) l->box[i] = 1.0f;
    l->sum = (double)l->L;
    l->r = 1.0f;
    mf_os4_filter_init(&l->f, NULL);
    lim_update(l, v);
    return l;
fail:
    lim_destroy(l);
    return NULL;
}

/* The peak at a 4x sample h1 between h0 and h2, refined by a parabola
 * through the three when h1 is a local maximum of |y| (what plain 4x
 * sampling misses near Nyquist: up to 0.7 dB at 0.45 fs). Branch-free,
 * so that a block of them vectorises. */
static inline float s_vertex(float h0, float h1, float h2)
{
    const float sg = h1 < 0 ? -1.0f : 1.0f;
    const float y0 = sg * h0, y1 = sg * h1, y2 = sg * h2;
    const float den = y0 - 2.0f * y1 + y2, d = y0 - y2;
    const float top = y1 - 0.25f * d * (0.5f * d / den);
    return ((y1 >= y0) & (y1 >= y2) & (den < 0.0f) & (top > y1)) ? top : y1;
}

static inline float s_max(float a, float b)
{
    return a > b ? a : b;
}

/* Each frame's peak over the channels of the block mf_os4_up interpolated:
 * the largest refined value at its 4x samples (the one a quarter before
 * the frame to the one half a frame after it: with the interpolator's
 * history, frame 0's first neighbour is the last block's). */
static void s_peaks(lim_t *l, size_t n, float *pk)
{
    for (size_t i = 0; i < n; i++) pk[i] = 0.0f;
    for (int c = 0; c < l->ch; c++) {
        mf_os4_chan_t *os = &l->os[c];
        const float *y0 = mf_os4_phase(os, 0), *y1 = mf_os4_phase(os, 1);
        const float *y2 = mf_os4_phase(os, 2), *y3 = mf_os4_phase(os, 3);
        for (size_t i = 0; i < n; i++) {
            float v =
                s_max(s_vertex(y2[i - 1], y3[i - 1], y0[i]), s_vertex(y3[i - 1], y0[i], y1[i]));
            v = s_max(v, s_max(s_vertex(y0[i], y1[i], y2[i]), s_vertex(y1[i], y2[i], y3[i])));
            pk[i] = s_max(pk[i], v);
        }
    }
}

/* i mod cap for i < 2 cap, without a division. */
static inline size_t s_wrap(size_t i, size_t cap)
{
    return i >= cap ? i - cap : i;
}

/* The gain for the frame DETECT_DELAY + L frames before the newest, whose
 * refined peak is iv. */
static float s_step(lim_t *l, float iv)
{
    /* iv covers about [n-16-1/4, n-15-1/4); charge it to the samples on
     * either side and one more for the quarter-sample slack. */
    const float peak = s_max(iv, s_max(l->iv[0], l->iv[1]));
    l->iv[1] = l->iv[0], l->iv[0] = iv;
    const float g = peak > l->ceil ? l->ceil / peak : 1.0f;
    /* Sliding minimum over the last L+1 values (ring deque, increasing).
     * The oldest leaves before the newest comes in: the other way round,
     * L+1 rising values (a 40 Hz tone's fall from its crest, lookahead
     * 0.5 ms) made L+2 in a ring of L+1, written past its end. */
    const size_t cap = l->L + 1, t = l->t++;
    if (l->dq_len && l->dq_t[l->dq_head] + cap <= t) {
        if (++l->dq_head == cap) l->dq_head = 0;
        l->dq_len--;
    }
    while (l->dq_len && l->dq_v[s_wrap(l->dq_head + l->dq_len - 1, cap)] >= g) l->dq_len--;
    const size_t back = s_wrap(l->dq_head + l->dq_len, cap);
    l->dq_v[back] = g, l->dq_t[back] = t;
    l->dq_len++;
    const float h = l->dq_v[l->dq_head];
    l->r = h < l->r ? h : h + l->rel * (l->r - h);
    l->sum += (double)l->r - (double)l->box[l->box_pos];
    l->box[l->box_pos] = l->r;
    if (++l->box_pos == l->L) l->box_pos = 0;
    return (float)(l->sum / (double)l->L);
}

/* Up to MF_OS4_BLOCK frames: interpolated first, then a gain per frame. */
static void lim_block(void *st, float *blk, size_t n, const float *key)
{
    (void)key;
    lim_t *l = st;
    const size_t ch = (size_t)l->ch;
    for (size_t c = 0; c < ch; c++) mf_os4_up(&l->f, &l->os[c], blk + c, ch, n);
    s_peaks(l, n, l->pk);
    for (size_t i = 0; i < n; i++) {
        float *x = blk + i * ch, *a = l->audio + l->apos * ch;
        const float g = s_step(l, l->pk[i]);
        for (size_t c = 0; c < ch; c++) {
            const float d = a[c];
            a[c] = x[c];
            x[c] = d * g;
        }
        if (++l->apos == l->delay) l->apos = 0;
    }
}

static void lim_process(void *st, float *buf, size_t frames, const float *key)
{
    mf_dsp_in_chunks(st, ((lim_t *)st)->ch, buf, frames, key, MF_OS4_BLOCK, lim_block);
}

static size_t lim_latency(const void *st)
{
    return ((const lim_t *)st)->delay;
}

const mf_processor_class_t mf_proc_limiter = {
    .type = "limiter",
    .summary = "look-ahead brickwall limiter with a 4x true-peak detector",
    .params = s_params,
    .n_params = N_PARAMS,
    .create = lim_create,
    .update = lim_update,
    .process = lim_process,
    .latency_frames = lim_latency,
    .destroy = lim_destroy,
};
