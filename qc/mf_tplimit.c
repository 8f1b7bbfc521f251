#include "mf_tplimit.h"
#include "mf_qc_kernels.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define BLK 1024
#define HIST (MF_TP_PRE + MF_TP_POST)

struct mf_tplim {
    int ch;
    size_t L, delay, mask;
    float ceil, rel, r, prev, min_g;
    double sum;
    const mf_qc_kernels_t *k;
    mf_tp_coef_t tp;
    float *pl[2], *env;
    float *dq_v; /* deque of (value, index), a power-of-two ring */
    size_t *dq_t, dq_head, dq_len, t;
    float *box;
    size_t box_pos;
    float *dline; /* delay frames, interleaved */
    size_t dpos;
};

void mf_tplim_free(mf_tplim_t **lp)
{
    mf_tplim_t *l = lp ? *lp : NULL;
    if (!l) return;
    free(l->pl[0]), free(l->pl[1]), free(l->env), free(l->dq_v), free(l->dq_t), free(l->box);
    free(l->dline);
    free(l);
    *lp = NULL;
}

mf_tplim_t *mf_tplim_new(int channels, double rate, double ceiling_dbtp, double release_ms,
                         double lookahead_ms)
{
    if (channels < 1 || channels > 2) return NULL;
    mf_tplim_t *l = calloc(1, sizeof *l);
    if (!l) return NULL;
    l->ch = channels;
    l->L = (size_t)llround(lookahead_ms * 0.001 * rate);
    if (l->L < 1) l->L = 1;
    l->delay = l->L + MF_TP_POST;
    size_t cap = 1;
    while (cap < l->L + 1) cap *= 2;
    l->mask = cap - 1;
    l->ceil = (float)pow(10.0, ceiling_dbtp / 20.0);
    l->rel = release_ms > 0 ? (float)exp(-1000.0 / (release_ms * rate)) : 0.0f;
    l->r = 1.0f, l->min_g = 1.0f, l->sum = (double)l->L;
    l->k = mf_qc_kernels();
    mf_tp_design(&l->tp, rate);
    for (int c = 0; c < channels; c++) l->pl[c] = calloc(HIST + BLK, sizeof(float));
    l->env = malloc(BLK * sizeof *l->env);
    l->dq_v = malloc(cap * sizeof *l->dq_v);
    l->dq_t = malloc(cap * sizeof *l->dq_t);
    l->box = malloc(l->L * sizeof *l->box);
    l->dline = calloc(l->delay * (size_t)channels, sizeof *l->dline);
    if (!l->pl[0] || (channels == 2 && !l->pl[1]) || !l->env || !l->dq_v || !l->dq_t || !l->box ||
        !l->dline) {
        mf_tplim_free(&l);
        return NULL;
    }
    for (size_t i = 0; i < l->L; i++) l->box[i] = 1.0f;
    return l;
}

size_t mf_tplim_latency(const mf_tplim_t *l)
{
    return l->delay;
}

double mf_tplim_max_reduction_db(const mf_tplim_t *l)
{
    return 20.0 * log10(l->min_g);
}

/* The limiter gain for each frame of env (the detector values, MF_TP_POST
 * frames behind the input), in place, times gain: each is the gain for the
 * frame L before its detector value. The state lives in locals for the
 * loop: through the struct, every store to env would force it back to
 * memory (env may alias it as far as the compiler knows). */
static void s_gains(mf_tplim_t *l, float *env, size_t m, float ceil, float gain)
{
    const size_t mask = l->mask, L = l->L;
    float *restrict dv = l->dq_v, *restrict box = l->box;
    size_t *restrict dt = l->dq_t;
    size_t head = l->dq_head, len = l->dq_len, t = l->t, bp = l->box_pos;
    float prev = l->prev, r = l->r, min_g = l->min_g;
    const float rel = l->rel;
    double sum = l->sum;
    const double inv = 1.0 / (double)L;
    for (size_t i = 0; i < m; i++) {
        const float iv = env[i], p = iv > prev ? iv : prev;
        prev = iv;
        const float g = p > ceil ? ceil / p : 1.0f;
        /* The oldest leaves first: pushed before, L+1 rising values made
         * L+2, which a ring of exactly L+1 (L+1 a power of two) wrapped. */
        if (len && dt[head] + L < t) head = (head + 1) & mask, len--;
        while (len && dv[(head + len - 1) & mask] >= g) len--;
        dv[(head + len) & mask] = g, dt[(head + len) & mask] = t, len++;
        t++;
        const float h = dv[head], rr = h + rel * (r - h);
        r = rr < h ? rr : h;
        sum += (double)r - (double)box[bp];
        box[bp] = r;
        if (++bp == L) bp = 0;
        const float out = (float)(sum * inv);
        min_g = out < min_g ? out : min_g;
        env[i] = out * gain;
    }
    l->dq_head = head, l->dq_len = len, l->t = t, l->box_pos = bp;
    l->prev = prev, l->r = r, l->min_g = min_g, l->sum = sum;
}

/* No gain reduction in the block and none pending: the state stays all
 * ones, so only the deque's newest index moves. */
static int s_idle(mf_tplim_t *l, size_t m, float ceil)
{
    if (l->r != 1.0f || l->sum != (double)l->L || l->prev > ceil ||
        (l->dq_len && l->dq_v[l->dq_head] != 1.0f))
        return 0;
    float mx = 0.0f;
    for (size_t i = 0; i < m; i++) mx = l->env[i] > mx ? l->env[i] : mx;
    if (mx > ceil) return 0;
    l->t += m;
    l->dq_head = 0, l->dq_len = 1, l->dq_v[0] = 1.0f, l->dq_t[0] = l->t - 1;
    l->prev = l->env[m - 1];
    return 1;
}

void mf_tplim_process(mf_tplim_t *l, float *out, const float *in, size_t frames, float gain)
{
    const size_t ch = (size_t)l->ch;
    /* The detector sees the unscaled input; the ceiling moves instead. */
    const float ceil = l->ceil / gain;
    mf_blk_stats_t st;
    while (frames) {
        const size_t m = frames < BLK ? frames : BLK;
        l->k->deint(in, m, l->ch, l->pl[0] + HIST, ch == 2 ? l->pl[1] + HIST : NULL, &st);
        memset(l->env, 0, m * sizeof *l->env);
        for (size_t c = 0; c < ch; c++) l->k->tp_env(&l->tp, l->pl[c] + MF_TP_PRE, m, l->env);
        for (size_t c = 0; c < ch; c++) memmove(l->pl[c], l->pl[c] + m, HIST * sizeof(float));
        /* env becomes the gain per frame (times the input gain). */
        if (s_idle(l, m, ceil))
            for (size_t i = 0; i < m; i++) l->env[i] = gain;
        else
            s_gains(l, l->env, m, ceil, gain);
        /* Through the delay line, in runs between its wrap-arounds. */
        for (size_t i = 0; i < m;) {
            const size_t run = m - i < l->delay - l->dpos ? m - i : l->delay - l->dpos;
            float *restrict d = l->dline + l->dpos * ch;
            const float *g = l->env + i;
            if (ch == 2)
                for (size_t j = 0; j < run; j++) {
                    const float x0 = in[2 * (i + j)], x1 = in[2 * (i + j) + 1];
                    out[2 * (i + j)] = d[2 * j] * g[j], out[2 * (i + j) + 1] = d[2 * j + 1] * g[j];
                    d[2 * j] = x0, d[2 * j + 1] = x1;
                }
            else
                for (size_t j = 0; j < run; j++) {
                    const float x = in[i + j];
                    out[i + j] = d[j] * g[j];
                    d[j] = x;
                }
            i += run, l->dpos += run;
            if (l->dpos == l->delay) l->dpos = 0;
        }
        in += m * ch, out += m * ch, frames -= m;
    }
}
