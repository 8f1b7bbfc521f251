/* What the two halves of the channel executor share: exec_channel.c (its
 * inputs, inserts and main loop) and channel_out.c (pan, fader, output
 * levels and the writers, panned signals included). */
#ifndef MF_CHANNEL_INT_H
#define MF_CHANNEL_INT_H

#include "exec_internal.h"
#include "mf_envelope.h"
#include "mf_params.h"
#include "mf_pcm.h"
#include "mf_pipe.h"
#include "mf_source_signal.h"

typedef struct {
    void *st;
    const mf_insert_spec_t *spec;
    mf_envelope_t *envs; /* one per automated parameter */
    double *values;      /* current values, updated from envs */
} insert_rt_t;

/* One input: a signal blob, or (a strip's input 0) a source file, or the
 * signal of a strip this channel runs itself (inl, read through pcm). */
typedef struct chan_run chan_run_t;
typedef struct {
    mf_pcm_reader_t *pcm;
    mf_source_signal_t *src;
    chan_run_t *inl;
} chan_in_t;

typedef struct {
    mf_chan_spec_t spec;
    int ch; /* channels through the inserts: 1 if every summed input is mono */
    chan_in_t *in;
    size_t n_in;
    mf_task_result_t *r; /* for a source's error in words */
    insert_rt_t *ins;
    mf_envelope_t gain_env, pan_env;
    mf_envelope_t *out_envs;
    mf_pcm_writer_t **outs;
    mf_pipe_t *pipe; /* a strip run inside its reader: its one output goes here */
    int *panned;     /* per output: written as a panned signal */
    int all_panned;  /* then no stereo product is needed */
    float *buf, *tmp, *key, *pre, *post, *ga, *gb, *gc;
} chan_t;

int mf_chan__env(mf_envelope_t *e, const mf_curve_t *cv, int rate, mf_env_mode_t mode);
/* The pan, fader and output envelopes, and a writer per output (panned
 * when its gains are fixed on a mono channel), from frame start. */
mf_err_t mf_chan__outputs_open(chan_t *c, mf_store_t *s, const mf_task_t *t, int64_t start);
/* The fixed gains of one output, as mf_pcm.h's panned signals take them:
 * pan (a pan law on mono, balance on stereo), fader, level; the same
 * floats a strip's stereo products would use. */
void mf_chan__gains(int stereo, double pan, double pan_law_db, double fader_db, double level_db,
                    float g[2][MF_PCM_GAINS]);
/* c->pre = c->buf panned to stereo, for frames [t, t + n). */
void mf_chan__pan(chan_t *c, int64_t t, size_t n);
/* Writes every output's frames [t, t + n), the first skip of them dropped. */
mf_err_t mf_chan__outputs_write(chan_t *c, int64_t t, size_t n, size_t skip);

#endif
