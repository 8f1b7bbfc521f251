/* listen: the master (or the mix) through one playback model of
 * dsp/mf_playback.h, in one streaming pass; one task per system, so the six
 * run in parallel on a farm, and listen_report (listen_report.c) makes
 * listen.json of their statistics.
 *
 * params {"system": "phone", "source": false}. input 0: the signal.
 * output 0: the file as 16-bit WAV bytes (half the size of a float signal,
 * written to OUTDIR as they are), named after the task; output 1: what manifest.json says of it
 * ({"manifest": {...}}); output 2: statistics of the output ({"channels",
 * "integrated_lufs", "correlation", "mono_drop_db", "band_db": [31]});
 * with "source": true (one of the six: the cheapest, mono), output 3: the
 * same of the source plus its loudest passages' "mid_db" and "side_db", so
 * that the report reads no audio and adds nothing to the critical path. */
#include "exec_internal.h"
#include "listen_stats.h"
#include "mf_le.h"
#include "mf_pcm.h"
#include "mf_playback.h"

#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A 16-bit PCM WAV file streamed into a blob: the length is known before
 * the first sample (the source's), so the header is written first and the
 * file never needs a seek. */
typedef struct {
    mf_blob_writer_t *w;
    int ch;
    uint64_t rng; /* samples written: the dither's counter */
    int16_t buf[2 * MF_BLOCK];
} wav16_t;

static mf_err_t s_wav_begin(wav16_t *w, mf_store_t *st, const mf_task_t *t, int ch, int rate,
                            int64_t frames)
{
    const uint64_t data = (uint64_t)frames * (uint64_t)ch * 2;
    if (data > 0xFFFFFFFFull - 36) return MF_ERR_LIMIT; /* a plain WAV says its size in 32 bits */
    uint8_t h[44];
    memcpy(h, "RIFF", 4), mf_le_put(h + 4, (uint32_t)(36 + data), 4), memcpy(h + 8, "WAVEfmt ", 8);
    mf_le_put(h + 16, 16, 4), mf_le_put(h + 20, 1, 2), mf_le_put(h + 22, (uint32_t)ch, 2);
    mf_le_put(h + 24, (uint32_t)rate, 4), mf_le_put(h + 28, (uint32_t)(rate * ch * 2), 4);
    mf_le_put(h + 32, (uint32_t)(ch * 2), 2), mf_le_put(h + 34, 16, 2), memcpy(h + 36, "data", 4);
    mf_le_put(h + 40, (uint32_t)data, 4);
    w->ch = ch, w->rng = 0;
    /* Named after the task, as signals are, and it goes up as it is
     * written (mf_writes.h); the client hashes it for manifest.json. Where
     * the client links it into OUTDIR as it is (as_file), it goes to disk
     * around the page cache, and the store hashes it on the way. */
    mf_hash_t name;
    mf_exec_output_name(t, 0, &name);
    w->w =
        t->as_file & 1 ? mf_blob_writer_new_direct(st, &name) : mf_blob_writer_new_named(st, &name);
    return w->w ? mf_blob_writer_write(w->w, h, sizeof h) : MF_ERR_IO;
}

/* TPDF dither from a counter-based hash (the murmur3 finaliser of the
 * sample's index): each sample's two uniform variables are the halves of
 * one 32-bit hash, so the loop has no serial dependency and vectorises, and
 * the same source always gives the same bytes. In LSBs: u1 + u2 - 1 in
 * [-1, 1). */
static inline float s_tpdf(uint32_t i)
{
    uint32_t h = i * 0x9E3779B9u;
    h ^= h >> 16, h *= 0x85EBCA6Bu, h ^= h >> 13, h *= 0xC2B2AE35u, h ^= h >> 16;
    return (float)(h & 0xFFFFu) * (1.0f / 65536.0f) + (float)(h >> 16) * (1.0f / 65536.0f) - 1.0f;
}

/* AVX2 has the 32-bit multiply the dither's hash wants (SSE2 emulates it),
 * x86-64-v4 (AVX-512 BW) twice the lanes and the narrowing to 16 bits (0.61 -> 0.24
 * ns/sample here). Integer and element-wise float work, each product exact
 * (by powers of two), so the same bytes on every path, fused or not. */
#if defined(__x86_64__) && defined(__GNUC__)
__attribute__((target_clones("arch=x86-64-v4", "avx2", "default")))
#endif
static mf_err_t
s_wav_write(wav16_t *w, const float *x, size_t frames)
{
    const size_t n = frames * (size_t)w->ch; /* at most 2 * MF_BLOCK */
    const uint32_t base = (uint32_t)w->rng;
    int16_t *restrict out = w->buf;
    /* A 32-bit index: a size_t one is widened and narrowed in every vector. */
    for (uint32_t i = 0; i < (uint32_t)n; i++) {
        float y = x[i] * 32768.0f + s_tpdf(base + i);
        y = y > -32768.0f ? y : -32768.0f; /* max and min: no branches (CMakeLists.txt) */
        y = y < 32767.0f ? y : 32767.0f;
        out[i] = (int16_t)((int)(y + 32768.5f) - 32768); /* rounded: floor(y + 0.5) */
    }
    w->rng += n;
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__ /* WAV is little-endian */
    for (size_t i = 0; i < n; i++) out[i] = (int16_t)__builtin_bswap16((uint16_t)out[i]);
#endif
    return mf_blob_writer_write(w->w, out, n * 2);
}

mf_err_t mf_exec_listen(mf_store_t *st, const mf_task_t *t, mf_task_result_t *r)
{
    size_t n;
    const mf_playback_model_t *models = mf_playback_models(&n), *model = NULL;
    json_error_t jerr;
    json_t *params = json_loads(t->params, 0, &jerr);
    const char *name = json_string_value(json_object_get(params, "system"));
    const int source = json_is_true(json_object_get(params, "source"));
    for (size_t i = 0; name && i < n; i++)
        if (!strcmp(models[i].name, name)) model = &models[i];
    json_decref(params);
    if (!model || t->n_inputs != 1)
        return mf_exec_fail(r, MF_ERR_INVALID, "listen: bad parameters");
    mf_pcm_reader_t *rd = NULL;
    mf_playback_t *pb = NULL;
    mf_analyzer_t *an = NULL;
    mf_analysis_t res = {0}, sres = {0};
    mf_analyzer_t *san = NULL; /* the source's, when asked */
    mf_ltas_t *sl = NULL;
    wav16_t *wav = calloc(1, sizeof *wav);
    float *buf = malloc(sizeof(float) * 2 * MF_BLOCK), *out = malloc(sizeof(float) * 2 * MF_BLOCK);
    mf_err_t err = wav && buf && out ? mf_pcm_reader_open(st, &t->inputs[0], &rd) : MF_ERR_NOMEM;
    const mf_pcm_info_t *info = err == MF_OK ? mf_pcm_reader_info(rd) : NULL;
    const int64_t end = info ? info->start + info->frames : 0;
    if (info) {
        pb = mf_playback_new(model, info->rate, info->channels);
        an = pb ? mf_analyzer_new(mf_playback_channels(pb), info->rate,
                                  MF_ANALYZE_LOUDNESS | MF_ANALYZE_SPECTRUM)
                : NULL;
        err = pb && an ? s_wav_begin(wav, st, t, mf_playback_channels(pb), info->rate, end)
                       : MF_ERR_NOMEM;
        if (source) {
            san = mf_analyzer_new(info->channels, info->rate,
                                  MF_ANALYZE_LOUDNESS | MF_ANALYZE_SPECTRUM);
            sl = mf_ltas_new(info->channels, info->rate);
            if (!san || !sl) err = MF_ERR_NOMEM;
        }
    }
    for (int64_t f = 0; err == MF_OK && f < end; f += MF_BLOCK) {
        const size_t m = end - f < MF_BLOCK ? (size_t)(end - f) : MF_BLOCK;
        const float *x = mf_pcm_reader_span(rd, f, m, buf, &err);
        if (err == MF_OK) mf_playback_process(pb, out, x, m);
        if (err == MF_OK) err = s_wav_write(wav, out, m);
        if (err == MF_OK) err = mf_analyzer_feed(an, out, m);
        if (err == MF_OK && san) err = mf_analyzer_feed(san, x, m);
        if (err == MF_OK && sl) mf_ltas_feed(sl, x, m);
        mf_exec_progress(r, (double)(f + (int64_t)m) / (double)end);
    }
    mf_hash_t h;
    if (err == MF_OK) err = mf_analyzer_finish(an, &res);
    if (err == MF_OK) { /* the writer is gone after it, whatever it returns */
        err = mf_blob_writer_commit(wav->w, &h);
        wav->w = NULL;
    }
    if (err == MF_OK) err = mf_exec_add_output(r, &h);
    if (err == MF_OK)
        err =
            mf_exec_put_json(st,
                             json_pack("{s:{s:s, s:i, s:i, s:s, s:f}}", "manifest", "format", "wav",
                                       "sample_rate", (int)info->rate, "channels", wav->ch,
                                       "encoding", "pcm16", "duration_s", (double)end / info->rate),
                             r);
    if (err == MF_OK) err = mf_exec_put_json(st, mf_listen_copy_stats(&res, wav->ch), r);
    if (err == MF_OK && san) {
        err = mf_analyzer_finish(san, &sres);
        if (err == MF_OK) err = mf_listen_put_source_stats(st, &sres, sl, r);
    }
    if (err == MF_OK) r->audio_seconds = (double)end / info->rate;
    if (err != MF_OK && !r->error)
        mf_exec_fail(r, err, "listen %s: %s", model->name, mf_strerror(err));
    if (wav) mf_blob_writer_abort(wav->w);
    mf_analysis_fini(&res), mf_analysis_fini(&sres);
    mf_analyzer_free(&an), mf_analyzer_free(&san);
    mf_ltas_free(&sl);
    mf_playback_free(&pb);
    mf_pcm_reader_free(&rd);
    free(wav), free(buf), free(out);
    return err;
}
