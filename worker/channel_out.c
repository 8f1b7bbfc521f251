/* The channel strip's output side: pan (a pan law on mono, balance on
 * stereo), the fader, each output's level, and a writer per output. A mono
 * channel whose pan, fader and output level are fixed writes that output as
 * a panned signal (mf_pcm.h): the mono signal and the gains, in the order
 * the stereo products below would apply them; half the bytes. An unpanned
 * strip (mf_params.h) writes its signal alone, and the channels that sum it
 * apply the same gains as they read it (mf_chan__gains). */
#include "channel_int.h"
#include "mf_gain.h"

int mf_chan__env(mf_envelope_t *e, const mf_curve_t *cv, int rate, mf_env_mode_t mode)
{
    return mf_envelope_init(e, cv->pts, cv->n, rate, mode);
}

typedef struct {
    double law_db;
    int stereo, right;
} pan_map_t;

static double s_pan_map(double pan, void *ctx)
{
    const pan_map_t *m = ctx;
    double l, r;
    if (m->stereo)
        mf_balance_gains(pan, &l, &r);
    else
        mf_pan_gains(pan, m->law_db, &l, &r);
    return m->right ? r : l;
}

static void s_static_pan_of(double pan, double law_db, int stereo, float *gl, float *gr)
{
    pan_map_t lm = {law_db, stereo, 0}, rm = {law_db, stereo, 1};
    *gl = (float)s_pan_map(pan, &lm);
    *gr = (float)s_pan_map(pan, &rm);
}

static void s_static_pan(const chan_t *c, float *gl, float *gr)
{
    s_static_pan_of(c->spec.pan, c->spec.pan_law_db, c->ch == 2, gl, gr);
}

void mf_chan__gains(int stereo, double pan, double pan_law_db, double fader_db, double level_db,
                    float g[2][MF_PCM_GAINS])
{
    float p[2];
    s_static_pan_of(pan, pan_law_db, stereo, &p[0], &p[1]);
    /* 1 where the stereo products skip a step: exact in float either way. */
    const float fader = fader_db != 0.0 ? (float)mf_db_to_gain(fader_db) : 1.0f;
    const float level = level_db != 0.0 ? (float)mf_db_to_gain(level_db) : 1.0f;
    for (int k = 0; k < 2; k++) g[k][0] = p[k], g[k][1] = fader, g[k][2] = level;
}

void mf_chan__pan(chan_t *c, int64_t t, size_t n)
{
    const int stereo = c->ch == 2;
    if (c->spec.pan_curve.n == 0) {
        float gl, gr;
        s_static_pan(c, &gl, &gr);
        for (size_t i = 0; i < n; i++) {
            float l = c->buf[i * (size_t)c->ch], r = c->buf[i * (size_t)c->ch + (size_t)stereo];
            c->pre[2 * i] = l * gl;
            c->pre[2 * i + 1] = r * gr;
        }
        return;
    }
    pan_map_t lm = {c->spec.pan_law_db, stereo, 0}, rm = {c->spec.pan_law_db, stereo, 1};
    mf_envelope_render_map(&c->pan_env, t, n, c->ga, s_pan_map, &lm);
    mf_envelope_render_map(&c->pan_env, t, n, c->gb, s_pan_map, &rm);
    for (size_t i = 0; i < n; i++) {
        float l = c->buf[i * (size_t)c->ch], r = c->buf[i * (size_t)c->ch + (size_t)stereo];
        c->pre[2 * i] = l * c->ga[i];
        c->pre[2 * i + 1] = r * c->gb[i];
    }
}

/* dst = src (stereo) x a static gain or an envelope. */
static void s_apply_level(const float *src, float *dst, size_t n, double db,
                          const mf_envelope_t *env, int64_t t, float *gbuf)
{
    if (env->n == 0) {
        float g = (float)mf_db_to_gain(db);
        for (size_t i = 0; i < 2 * n; i++) dst[i] = src[i] * g;
        return;
    }
    mf_envelope_render(env, t, n, gbuf);
    for (size_t i = 0; i < n; i++) {
        dst[2 * i] = src[2 * i] * gbuf[i];
        dst[2 * i + 1] = src[2 * i + 1] * gbuf[i];
    }
}

mf_err_t mf_chan__outputs_write(chan_t *c, int64_t t, size_t n, size_t skip)
{
    /* A fader at 0 dB with no automation multiplies by exactly 1: skipped. */
    const float *post = c->pre;
    if (!c->all_panned && (c->spec.gain_db != 0.0 || c->gain_env.n)) {
        s_apply_level(c->pre, c->post, n, c->spec.gain_db, &c->gain_env, t, c->ga);
        post = c->post;
    }
    if (c->spec.unpanned) /* one output: the signal as it is */
        return n > skip ? mf_pcm_writer_write(c->outs[0], c->buf + skip * (size_t)c->ch, n - skip)
                        : MF_OK;
    for (size_t o = 0; o < c->spec.n_outputs; o++) {
        const mf_chan_out_t *out = &c->spec.outputs[o];
        if (c->panned[o]) { /* the mono signal; its reader applies the gains */
            mf_err_t err =
                n > skip ? mf_pcm_writer_write(c->outs[o], c->buf + skip, n - skip) : MF_OK;
            if (err != MF_OK) return err;
            continue;
        }
        const float *src = out->pre_fader ? c->pre : post;
        /* An output at unity with no automation is its tap as is. */
        if (out->level_db != 0.0 || out->curve.n) {
            s_apply_level(src, c->tmp, n, out->level_db, &c->out_envs[o], t, c->gc);
            src = c->tmp;
        }
        if (n > skip) {
            mf_err_t err = mf_pcm_writer_write(c->outs[o], src + 2 * skip, n - skip);
            if (err != MF_OK) return err;
        }
    }
    return MF_OK;
}

/* Whether output out of a mono channel has fixed gains all the way (then
 * g holds them, as mf_chan__pan and mf_chan__outputs_write would apply
 * them: pan, then the fader on a post-fader output, then the level). */
static int s_panned_gains(const chan_t *c, const mf_chan_out_t *out, float g[2][MF_PCM_GAINS])
{
    if (c->ch != 1 || c->spec.pan_curve.n || c->spec.gain_curve.n || out->curve.n) return 0;
    mf_chan__gains(0, c->spec.pan, c->spec.pan_law_db, out->pre_fader ? 0.0 : c->spec.gain_db,
                   out->level_db, g);
    return 1;
}

/* Output o's writer: into the store under its name, or into the pipe of a
 * strip run inside its reader; panned (gains) or a plain signal. */
static mf_pcm_writer_t *s_writer(chan_t *c, mf_store_t *s, const mf_task_t *t, size_t o,
                                 int channels, float (*gains)[MF_PCM_GAINS], int64_t start)
{
    if (c->pipe) return mf_pcm_writer_new_pipe(c->pipe, channels, gains, c->spec.rate, start);
    mf_hash_t name;
    mf_exec_output_name(t, o, &name);
    return gains ? mf_pcm_writer_new_panned(s, &name, gains, c->spec.rate, start)
                 : mf_pcm_writer_new_named(s, &name, channels, c->spec.rate, start);
}

mf_err_t mf_chan__outputs_open(chan_t *c, mf_store_t *s, const mf_task_t *t, int64_t start)
{
    if (mf_chan__env(&c->gain_env, &c->spec.gain_curve, c->spec.rate, MF_ENV_DB) ||
        mf_chan__env(&c->pan_env, &c->spec.pan_curve, c->spec.rate, MF_ENV_VALUE))
        return MF_ERR_NOMEM;
    if (c->pipe && c->spec.n_outputs != 1) return MF_ERR_INVALID;
    for (size_t o = 0; o < c->spec.n_outputs; o++) {
        if (mf_chan__env(&c->out_envs[o], &c->spec.outputs[o].curve, c->spec.rate, MF_ENV_DB))
            return MF_ERR_NOMEM;
        if (c->spec.unpanned) { /* its consumers pan it */
            c->all_panned = 1;
            if (!(c->outs[o] = s_writer(c, s, t, o, c->ch, NULL, start))) return MF_ERR_IO;
            continue;
        }
        float g[2][MF_PCM_GAINS];
        c->panned[o] = s_panned_gains(c, &c->spec.outputs[o], g);
        c->outs[o] = s_writer(c, s, t, o, 2, c->panned[o] ? g : NULL, start);
        c->all_panned = (o == 0 || c->all_panned) && c->panned[o];
        if (!c->outs[o]) return MF_ERR_IO;
    }
    return MF_OK;
}
