/* Mastering passes: the post-insert stream (live or cached), the gain and
 * limiter stage, the measurement, and the search for the gain. */
#include "mf_master.h"
#include "mf_analyze.h"
#include "mf_log.h"
#include "mf_tplimit.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define BLOCK 4096 /* processors take up to 4096 frames per call */
#define MAX_INSERTS 32
#define MAX_PASSES 8

typedef struct {
    const mf_master_config_t *cfg;
    const mf_master_source_t *src;
    size_t ch;
    float *buf, *out;
    /* Post-insert stream. */
    void *ins[MAX_INSERTS];
    size_t lat, tail;      /* insert latency and tails, frames */
    size_t to_drop, flush; /* live pass state */
    int src_done, live;
    /* The post-insert signal kept between passes, in the caller's spill
     * (cfg->spill): filled by the first pass, read by the next ones. */
    int cache_state; /* 0 filling on the first pass, 1 complete, -1 off */
} master_t;

typedef struct {
    double I, tp, lra, gr;
    int64_t frames;
} pass_t;

static void s_free_inserts(master_t *m)
{
    for (size_t i = 0; i < m->cfg->n_inserts; i++)
        if (m->ins[i]) m->cfg->inserts[i].cls->destroy(m->ins[i]), m->ins[i] = NULL;
}

static mf_err_t s_make_inserts(master_t *m)
{
    const mf_proc_env_t env = {.sample_rate = m->cfg->rate,
                               .channels = m->cfg->channels,
                               .tempo_bpm = m->cfg->tempo_bpm > 0 ? m->cfg->tempo_bpm : 120.0};
    m->lat = m->tail = 0;
    for (size_t i = 0; i < m->cfg->n_inserts; i++) {
        const mf_master_insert_t *in = &m->cfg->inserts[i];
        if (in->cls) /* the file input's insert is made the same way each pass */
            m->ins[i] = in->aux && in->cls->create_aux
                            ? in->cls->create_aux(in->values, in->nbands, &env, in->aux)
                            : in->cls->create(in->values, in->nbands, &env);
        if (!in->cls || !m->ins[i]) {
            s_free_inserts(m);
            return in->cls ? MF_ERR_NOMEM : MF_ERR_INVALID;
        }
        if (in->cls->latency_frames) m->lat += in->cls->latency_frames(m->ins[i]);
        if (in->cls->tail_frames) m->tail += in->cls->tail_frames(m->ins[i]);
    }
    return MF_OK;
}

static mf_err_t s_open(master_t *m)
{
    if (m->cache_state == 1) return m->cfg->spill->rewind(m->cfg->spill->ctx);
    mf_err_t err = m->src->rewind(m->src->ctx);
    if (err || (err = s_make_inserts(m))) return err;
    m->to_drop = m->lat, m->flush = m->lat + m->tail, m->src_done = 0;
    return MF_OK;
}

/* A spill that fails (a full disk) only costs speed: the inserts run
 * again on every pass. */
static void s_cache_add(master_t *m, const float *x, size_t n)
{
    if (m->cache_state == 0 && m->cfg->spill->append(m->cfg->spill->ctx, x, n * m->ch) != MF_OK)
        m->cache_state = -1;
}

/* The next block of the post-insert signal; *n = 0 at the end. */
static mf_err_t s_next(master_t *m, const float **blk, size_t *n)
{
    if (m->cache_state == 1) {
        size_t got;
        const mf_err_t err = m->cfg->spill->read(m->cfg->spill->ctx, m->buf, BLOCK * m->ch, &got);
        *blk = m->buf, *n = got / m->ch;
        return err;
    }
    for (;;) {
        size_t got = 0;
        if (!m->src_done) {
            const mf_err_t err = m->src->read(m->src->ctx, m->buf, BLOCK, &got);
            if (err) return err;
            if (!got) m->src_done = 1;
        }
        if (m->src_done) {
            got = m->flush < BLOCK ? m->flush : BLOCK;
            m->flush -= got;
            memset(m->buf, 0, got * m->ch * sizeof *m->buf);
        }
        if (!got) {
            *n = 0;
            s_free_inserts(m);
            if (m->cache_state == 0) m->cache_state = 1;
            return MF_OK;
        }
        for (size_t i = 0; i < m->cfg->n_inserts; i++)
            m->cfg->inserts[i].cls->process(m->ins[i], m->buf, got, NULL);
        const size_t skip = m->to_drop < got ? m->to_drop : got;
        m->to_drop -= skip;
        if (skip == got) continue;
        *blk = m->buf + skip * m->ch, *n = got - skip;
        s_cache_add(m, *blk, *n);
        return MF_OK;
    }
}

typedef struct {
    mf_analyzer_t *an;
    const mf_master_sink_t *sink;
    size_t drop;
    int64_t frames;
} emit_t;

static mf_err_t s_emit(emit_t *e, const float *x, size_t n, size_t ch)
{
    const size_t skip = e->drop < n ? e->drop : n;
    e->drop -= skip, x += skip * ch, n -= skip;
    if (!n) return MF_OK;
    e->frames += (int64_t)n;
    mf_err_t err = mf_analyzer_feed(e->an, x, n);
    if (!err && e->sink) err = e->sink->write(e->sink->ctx, x, n);
    return err;
}

/* One pass at gain_db, through the limiter when ceil_dbtp is finite. */
static mf_err_t s_pass(master_t *m, double gain_db, double ceil_dbtp, int tp,
                       const mf_master_sink_t *sink, pass_t *o)
{
    const mf_master_config_t *c = m->cfg;
    emit_t e = {mf_analyzer_new(c->channels, c->rate,
                                MF_ANALYZE_LOUDNESS | (tp ? MF_ANALYZE_TRUE_PEAK : 0)),
                sink, 0, 0};
    mf_tplim_t *lim = isfinite(ceil_dbtp)
                          ? mf_tplim_new(c->channels, c->rate, ceil_dbtp,
                                         c->release_ms > 0 ? c->release_ms : 80.0,
                                         c->lookahead_ms > 0 ? c->lookahead_ms : 5.0)
                          : NULL;
    mf_err_t err = MF_OK;
    if (!e.an || (isfinite(ceil_dbtp) && !lim)) err = MF_ERR_NOMEM;
    if (!err && sink && sink->begin) err = sink->begin(sink->ctx);
    if (!err) err = s_open(m);
    const float g = (float)pow(10.0, gain_db / 20.0);
    e.drop = lim ? mf_tplim_latency(lim) : 0;
    const float *blk;
    size_t n;
    while (!err && !(err = s_next(m, &blk, &n)) && n) {
        if (lim)
            mf_tplim_process(lim, m->out, blk, n, g);
        else
            for (size_t i = 0; i < n * m->ch; i++) m->out[i] = blk[i] * g;
        err = s_emit(&e, m->out, n, m->ch);
    }
    for (size_t left = lim ? mf_tplim_latency(lim) : 0; !err && left;) {
        n = left < BLOCK ? left : BLOCK;
        memset(m->buf, 0, n * m->ch * sizeof *m->buf);
        mf_tplim_process(lim, m->out, m->buf, n, g);
        err = s_emit(&e, m->out, n, m->ch);
        left -= n;
    }
    s_free_inserts(m);
    mf_analysis_t r;
    if (!err && !(err = mf_analyzer_finish(e.an, &r))) {
        *o = (pass_t){r.integrated_lufs, r.true_peak_dbtp, r.lra_lu,
                      lim ? mf_tplim_max_reduction_db(lim) : 0.0, e.frames};
        mf_analysis_fini(&r);
    }
    mf_analyzer_free(&e.an);
    mf_tplim_free(&lim);
    return err;
}

/* The next gain. Limiting starts at gain g_on (where the true peak meets
 * the limiter's ceiling); beyond it the loudness lost to the limiter grows
 * about as the square of the extra gain u = g - g_on (measured on music
 * from 1 to 8 dB of limiting), so I(g) = I0 + g - a u^2 with a fitted to the
 * latest pass, solved for the target. When that model does not apply, the
 * secant through the last two passes (slope clamped to 0.1 .. 1). */
static double s_next_gain(const double *g, const double *I, int n, double target, double g_on,
                          double i0)
{
    const double u = g[n - 1] - g_on, loss = i0 + g[n - 1] - I[n - 1];
    double next;
    if (isfinite(g_on) && u > 0.1 && loss > 0.01) {
        const double a = loss / (u * u), c = target - i0 - g_on, d = 1.0 - 4.0 * a * c;
        next = g_on + (d > 0.0 ? (1.0 - sqrt(d)) / (2.0 * a) : 1.0 / (2.0 * a));
    } else {
        double s = 1.0;
        if (n >= 2 && fabs(g[n - 1] - g[n - 2]) > 1e-6)
            s = (I[n - 1] - I[n - 2]) / (g[n - 1] - g[n - 2]);
        s = s < 0.1 ? 0.1 : s > 1.0 ? 1.0 : s;
        next = g[n - 1] + (target - I[n - 1]) / s;
    }
    const double step = next - g[n - 1];
    return g[n - 1] + (step > 12.0 ? 12.0 : step < -12.0 ? -12.0 : step);
}

static mf_err_t s_search(master_t *m, const mf_master_sink_t *sink, mf_master_result_t *res)
{
    const mf_master_config_t *c = m->cfg;
    const double T = c->target.lufs;
    const double C = isnan(c->ceiling_dbtp) ? c->target.true_peak_dbtp : c->ceiling_dbtp;
    double cint = C - (isnan(c->margin_db) ? MF_MASTER_MARGIN_DB : c->margin_db);
    const int restart = sink && sink->begin;
    double g[MAX_PASSES + 1], I[MAX_PASSES + 1], gain = 0.0, tp0 = -INFINITY, i0 = NAN;
    int n = 0, written = 0;
    pass_t p = {0};
    mf_err_t err;
    if (!isnan(T)) { /* measure the inserts' output as it is */
        if ((err = s_pass(m, 0.0, INFINITY, 1, NULL, &p))) return err;
        res->passes++;
        tp0 = p.tp, i0 = p.I;
        gain = isfinite(p.I) ? T - p.I : 0.0;
    }
    for (int k = 0; k < MAX_PASSES; k++) {
        /* A pass writes when it is likely the last: no limiting ahead (the
         * loudness is then exact), or a second try at the gain; a sink that
         * cannot start over only gets a pass already known to be on target. */
        const int exact = isnan(T) || !isfinite(tp0 + gain) || tp0 + gain <= cint;
        const int write =
            sink && (exact || (restart ? n >= 1 : n && fabs(I[n - 1] - T) <= MF_MASTER_TOL_LU));
        if ((err = s_pass(m, gain, cint, write, write ? sink : NULL, &p))) return err;
        res->passes++;
        mf_debug("master: pass %d: gain %+.2f dB, limiter %.2f dBTP: I %.2f LUFS, TP %.2f dBTP, "
                 "limiting %.1f dB%s",
                 res->passes, gain, cint, p.I, p.tp, p.gr, write ? ", written" : "");
        g[n] = gain, I[n] = p.I, n++;
        const int on_target = isnan(T) || !isfinite(p.I) || fabs(p.I - T) <= MF_MASTER_TOL_LU;
        if (write && isfinite(p.tp) && p.tp > cint + 0.1) {
            /* Gain changes reshaped a peak past the limiter's detector: lower its ceiling. */
            cint -= p.tp - cint;
            if (restart || !on_target) continue;
        }
        written = write;
        if (on_target && (write || !sink)) break;
        if (!on_target) {
            const double next = s_next_gain(g, I, n, T, cint - tp0, i0);
            /* Settled short of the target: the model puts the next gain where
             * this one is, as more gain adds no loudness (dense transients
             * keep the limiter working between every peak). Another pass
             * would write the same master again. */
            if (fabs(next - gain) < MF_MASTER_SETTLED_DB) break;
            gain = next;
        }
    }
    if (sink &&
        !written) { /* out of tries (or a sink that cannot start over): write the last gain */
        if ((err = s_pass(m, gain, cint, 1, sink, &p))) return err;
        res->passes++;
    }
    res->gain_db = gain, res->integrated_lufs = p.I, res->true_peak_dbtp = p.tp;
    res->lra_lu = p.lra, res->max_reduction_db = p.gr, res->frames = p.frames;
    res->within_target = (isnan(T) || fabs(p.I - T) <= MF_QC_LOUDNESS_TOL_LU) && !(p.tp > C);
    return MF_OK;
}

mf_err_t mf_master_run(const mf_master_config_t *cfg, const mf_master_source_t *src,
                       const mf_master_sink_t *sink, mf_master_result_t *res)
{
    memset(res, 0, sizeof *res);
    if ((cfg->channels != 1 && cfg->channels != 2) || !(cfg->rate >= 8000 && cfg->rate <= 768000) ||
        cfg->n_inserts > MAX_INSERTS || !src || !src->read || !src->rewind)
        return MF_ERR_INVALID;
    master_t m = {
        .cfg = cfg, .src = src, .ch = (size_t)cfg->channels, .cache_state = cfg->spill ? 0 : -1};
    m.buf = malloc(BLOCK * m.ch * sizeof *m.buf);
    m.out = malloc(BLOCK * m.ch * sizeof *m.out);
    mf_err_t err = m.buf && m.out ? s_make_inserts(&m) : MF_ERR_NOMEM; /* validates them */
    s_free_inserts(&m);
    if (!err) err = s_search(&m, sink, res);
    free(m.buf), free(m.out);
    return err;
}
