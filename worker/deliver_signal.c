/* The signal a deliverable is encoded from, and word-length reduction.
 *
 * Three stages pulled block by block: the blob (with its gain), the
 * optional true-peak limiter of a re-encode (its look-ahead latency dropped
 * at the start and flushed with zeros at the end, so the output stays
 * aligned with the input), and soxr to the file's rate. The frame count is
 * fixed in advance, round(frames * out_rate / rate), so a lossless
 * deliverable's length is known to the sample whatever the resampler's
 * rounding. */
#include "deliver_int.h"
#include "mf_exec.h"
#include "mf_pcm.h"
#include "mf_tplimit.h"

#include <math.h>
#include <soxr.h>
#include <stdlib.h>
#include <string.h>

struct mf_deliver_src {
    mf_pcm_reader_t *r;
    int ch, rate, out_rate;
    float gain;
    int64_t in_frames, in_pos, mid_pos; /* blob frames: total, read, produced by stage 2 */
    int64_t out_frames, out_pos;
    mf_tplim_t *lim;
    size_t to_drop;
    soxr_t soxr;
    float *ibuf, *obuf;
    size_t ocap, i_have, i_off, o_have, o_off;
    int in_done, eof;
    mf_task_result_t *report; /* whose progress reading says, or NULL */
    double share;
};

mf_deliver_src_t *mf_deliver_src_new(const mf_store_t *s, const mf_hash_t *signal, int out_rate,
                                     double gain_db, double limit_dbtp, double release_ms,
                                     double lookahead_ms, mf_err_t *err)
{
    mf_deliver_src_t *d = calloc(1, sizeof *d);
    if (!d) {
        *err = MF_ERR_NOMEM;
        return NULL;
    }
    *err = mf_pcm_reader_open(s, signal, &d->r);
    if (*err != MF_OK) goto fail;
    const mf_pcm_info_t *info = mf_pcm_reader_info(d->r);
    d->ch = info->channels, d->rate = info->rate, d->out_rate = out_rate;
    d->in_frames = info->start + info->frames;
    d->out_frames = d->rate == out_rate
                        ? d->in_frames
                        : llround((double)d->in_frames * out_rate / (double)d->rate);
    d->gain = (float)pow(10.0, gain_db / 20.0);
    *err = MF_ERR_NOMEM;
    if (!isnan(limit_dbtp)) {
        d->lim = mf_tplim_new(d->ch, d->rate, limit_dbtp, release_ms, lookahead_ms);
        if (!d->lim) goto fail;
        d->to_drop = mf_tplim_latency(d->lim);
    }
    d->ocap = (size_t)((double)MF_BLOCK * out_rate / d->rate) + 64;
    d->ibuf = malloc(sizeof(float) * MF_BLOCK * (size_t)d->ch);
    d->obuf = malloc(sizeof(float) * d->ocap * (size_t)d->ch);
    if (!d->ibuf || !d->obuf) goto fail;
    if (d->rate != out_rate) {
        soxr_error_t se = NULL;
        soxr_io_spec_t io = soxr_io_spec(SOXR_FLOAT32_I, SOXR_FLOAT32_I);
        soxr_quality_spec_t q = soxr_quality_spec(SOXR_VHQ, 0);
        soxr_runtime_spec_t rt = soxr_runtime_spec(1); /* one thread: the same bits everywhere */
        d->soxr = soxr_create(d->rate, out_rate, (unsigned)d->ch, &se, &io, &q, &rt);
        if (se) {
            *err = MF_ERR_INVALID;
            goto fail;
        }
    }
    *err = MF_OK;
    return d;
fail:
    mf_deliver_src_free(&d);
    return NULL;
}

int mf_deliver_src_channels(const mf_deliver_src_t *d)
{
    return d->ch;
}

int64_t mf_deliver_src_frames(const mf_deliver_src_t *d)
{
    return d->out_frames;
}

/* Stage 1 and 2: up to max frames of the blob with gain and limiter;
 * exactly in_frames in all. */
static mf_err_t s_master(mf_deliver_src_t *d, float *out, size_t max, size_t *got)
{
    *got = 0;
    const size_t ch = (size_t)d->ch;
    while (*got < max && d->mid_pos < d->in_frames) {
        float *blk = out + *got * ch;
        size_t n = max - *got < MF_BLOCK ? max - *got : MF_BLOCK;
        if (d->in_pos < d->in_frames) {
            if ((int64_t)n > d->in_frames - d->in_pos) n = (size_t)(d->in_frames - d->in_pos);
            mf_err_t err = mf_pcm_reader_read_span(d->r, d->in_pos, n, blk);
            if (err != MF_OK) return err;
            d->in_pos += (int64_t)n;
        } else {
            memset(blk, 0, n * ch * sizeof *blk); /* flushing the limiter */
        }
        if (d->lim) {
            mf_tplim_process(d->lim, blk, blk, n, d->gain);
            size_t drop = d->to_drop < n ? d->to_drop : n;
            memmove(blk, blk + drop * ch, (n - drop) * ch * sizeof *blk);
            n -= drop, d->to_drop -= drop;
        } else if (d->gain != 1.0f) {
            for (size_t i = 0; i < n * ch; i++) blk[i] *= d->gain;
        }
        if ((int64_t)n > d->in_frames - d->mid_pos) n = (size_t)(d->in_frames - d->mid_pos);
        d->mid_pos += (int64_t)n;
        *got += n;
    }
    return MF_OK;
}

/* Stage 3: soxr output into obuf; eof when drained. */
static mf_err_t s_refill(mf_deliver_src_t *d)
{
    const size_t ch = (size_t)d->ch;
    size_t idone = 0, odone = 0;
    d->o_off = 0, d->o_have = 0;
    if (d->i_off < d->i_have) {
        if (soxr_process(d->soxr, d->ibuf + d->i_off * ch, d->i_have - d->i_off, &idone, d->obuf,
                         d->ocap, &odone))
            return MF_ERR_INVALID;
        d->i_off += idone, d->o_have = odone;
    } else if (!d->in_done) {
        mf_err_t err = s_master(d, d->ibuf, MF_BLOCK, &d->i_have);
        d->i_off = 0;
        if (err != MF_OK) return err;
        d->in_done = d->i_have == 0;
    } else {
        if (soxr_process(d->soxr, NULL, 0, NULL, d->obuf, d->ocap, &odone)) return MF_ERR_INVALID;
        d->o_have = odone;
        d->eof = odone == 0;
    }
    return MF_OK;
}

static void s_progress(mf_deliver_src_t *d)
{
    if (d->report && d->out_frames > 0)
        mf_exec_progress(d->report, d->share * (double)d->out_pos / (double)d->out_frames);
}

mf_err_t mf_deliver_src_read(mf_deliver_src_t *d, float *buf, size_t max, size_t *got)
{
    const size_t ch = (size_t)d->ch;
    int64_t left = d->out_frames - d->out_pos;
    if ((int64_t)max > left) max = (size_t)left;
    *got = 0;
    if (!d->soxr) {
        mf_err_t err = s_master(d, buf, max, got);
        d->out_pos += (int64_t)*got;
        s_progress(d);
        return err;
    }
    while (*got < max) {
        size_t n = max - *got;
        if (d->o_off < d->o_have) {
            if (n > d->o_have - d->o_off) n = d->o_have - d->o_off;
            memcpy(buf + *got * ch, d->obuf + d->o_off * ch, n * ch * sizeof *buf);
            d->o_off += n;
        } else if (d->eof) {
            memset(buf + *got * ch, 0, n * ch * sizeof *buf); /* the rounding's last frame */
        } else {
            mf_err_t err = s_refill(d);
            if (err != MF_OK) return err;
            continue;
        }
        *got += n;
    }
    d->out_pos += (int64_t)*got;
    s_progress(d);
    return MF_OK;
}

void mf_deliver_src_report(mf_deliver_src_t *d, mf_task_result_t *r, double share)
{
    d->report = r, d->share = share;
}

void mf_deliver_src_free(mf_deliver_src_t **dp)
{
    if (!dp || !*dp) return;
    mf_deliver_src_t *d = *dp;
    mf_pcm_reader_free(&d->r);
    mf_tplim_free(&d->lim);
    if (d->soxr) soxr_delete(d->soxr);
    free(d->ibuf);
    free(d->obuf);
    free(d);
    *dp = NULL;
}

/* ---- dither ---- */

void mf_dither_init(mf_dither_t *d, int channels, int bits, int shaped)
{
    memset(d, 0, sizeof *d);
    d->state = 0x9E3779B97F4A7C15ull; /* the seed of mf_outdir's writer */
    d->channels = channels, d->bits = bits, d->shaped = shaped;
}

static double s_uniform(mf_dither_t *d)
{
    d->state ^= d->state << 13, d->state ^= d->state >> 7, d->state ^= d->state << 17;
    return (double)(d->state >> 11) * (1.0 / 9007199254740992.0) - 0.5;
}

/* One sample: its TPDF value tpdf (in LSBs), its shaping state e. */
static int32_t s_quantise(const mf_dither_t *d, double x, double tpdf, double *e)
{
    static const double h[3] = {1.623, -0.982, 0.109};
    const double scale = (double)(1u << (d->bits - 1)), lo = -scale, hi = scale - 1;
    double v = x * scale;
    if (d->shaped) v -= h[0] * e[0] + h[1] * e[1] + h[2] * e[2];
    double y = floor(v + tpdf + 0.5);
    y = y < lo ? lo : y > hi ? hi : y;
    if (d->shaped) {
        double q = y - v; /* bounded, so a clipped sample cannot set the loop ringing */
        e[2] = e[1], e[1] = e[0], e[0] = q < -2 ? -2 : q > 2 ? 2 : q;
    }
    return (int32_t)y;
}

void mf_dither_run(mf_dither_t *d, const float *in, int32_t *out, size_t frames)
{
    const size_t ch = (size_t)d->channels;
    for (size_t f = 0; f < frames; f++) {
        const float *x = in + f * ch;
        int32_t *y = out + f * ch;
        /* Left and right alike, in the same state (a mono record, a centred
         * passage): the same dither, so they stay the same bits and a mono
         * master stays mono at any word length. Unshaped, the states are
         * never touched, so only the samples are compared. */
        const int twin = ch >= 2 && x[1] == x[0] &&
                         (!d->shaped || !memcmp(d->err[0], d->err[1], sizeof d->err[0]));
        double first = 0.0;
        for (size_t c = 0; c < ch; c++) {
            const double t = s_uniform(d) + s_uniform(d); /* drawn alike whatever follows */
            if (c == 0) first = t;
            y[c] = s_quantise(d, x[c], twin && c == 1 ? first : t, d->err[c < 2 ? c : 1]);
        }
    }
}
