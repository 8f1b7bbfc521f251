/* Audio analysis for QC and mastering: one streaming pass over interleaved
 * float blocks (1 to 16 channels, any rate from 8 kHz to 768 kHz) computes
 * loudness per ITU-R BS.1770-4 and EBU Tech 3341/3342 (integrated, momentary,
 * short-term, loudness range), true peak (4x oversampled below 88.2 kHz, 2x
 * below 176.4 kHz), sample peak, PLR, crest factor, DC offset, clipped-sample
 * runs, L/R correlation and mono compatibility, silence at head, tail and
 * inside, and a long-term third-octave spectrum.
 *
 * Memory does not grow with the length of the signal apart from a few
 * values per 100 ms hop (the loudness and peak series kept for plots and
 * gating) and one per second (correlation).
 *
 *   mf_analyzer_t *a = mf_analyzer_new(2, 48000, MF_ANALYZE_ALL);
 *   while (more) mf_analyzer_feed(a, block, frames);
 *   mf_analysis_t r;
 *   mf_analyzer_finish(a, &r);   // r owns its arrays: mf_analysis_fini(&r)
 *   mf_analyzer_free(&a);
 *
 * An analyzer is used by one thread at a time; different analyzers may run
 * in parallel. */
#ifndef MF_ANALYZE_H
#define MF_ANALYZE_H

#include "mf_error.h"

#include <stddef.h>
#include <stdint.h>

#define MF_QC_BANDS 31           /* third-octave bands, 20 Hz .. 20 kHz */
#define MF_QC_MAX_CHANNELS 16    /* up to 9.1.6 */
#define MF_QC_SILENCE_DBFS -60.0 /* below this a sample counts as silent */
#define MF_QC_CLIP_LEVEL 0.999f  /* |x| at or above this counts toward a clipped run */
#define MF_QC_CLIP_RUN 3         /* consecutive samples that make a clipped run */
#define MF_QC_GAP_MIN_S 1.0      /* inner silences at least this long are listed */

typedef enum {
    MF_ANALYZE_LOUDNESS = 1,  /* integrated, momentary, short-term, LRA */
    MF_ANALYZE_TRUE_PEAK = 2, /* the oversampled peak detector */
    MF_ANALYZE_SPECTRUM = 4,  /* long-term third-octave spectrum */
    MF_ANALYZE_ALL = 7,
} mf_analyze_flags_t;
/* Peaks, DC, clipping, correlation and silence are always measured (they
 * cost one pass of simple arithmetic). */

typedef struct {
    double start_s, length_s;
} mf_qc_span_t;

typedef struct {
    int channels;
    double rate;
    int64_t frames;
    double duration_s;

    /* Loudness (-INFINITY when nothing passes the gates or the signal is
     * shorter than one block; NAN when not measured). */
    double integrated_lufs;
    double lra_lu;
    double momentary_max_lufs;  /* 400 ms windows */
    double short_term_max_lufs; /* 3 s windows */

    /* Peaks in dB re full scale (-INFINITY for digital silence). */
    double true_peak_dbtp, true_peak_at_s; /* at: start of the 100 ms hop */
    double sample_peak_dbfs, sample_peak_at_s;
    double plr_db;       /* true peak - integrated loudness */
    double crest_db;     /* sample peak - RMS */
    double rms_dbfs;     /* RMS over all samples of all channels */
    double dc_offset_db; /* 20 log10 |mean|, the worse channel */

    int64_t clipped_samples; /* samples in runs of >= MF_QC_CLIP_RUN at >= MF_QC_CLIP_LEVEL */
    int64_t clip_runs;
    double clip_at_s; /* first run, NAN when none */

    /* BS.1770 channel weights the loudness was summed with (1 for every
     * channel of a mono or stereo signal; see mf_qc_channel_weights). */
    float loudness_weight[MF_QC_MAX_CHANNELS];

    /* Stereo: the L/R pair, the first two channels of more (mono files:
     * correlation 1, mono_drop_db 0, identical 0). */
    double correlation;     /* sum(lr) / sqrt(sum(l^2) sum(r^2)) over the file */
    double mono_drop_db;    /* level of (L+R)/2 on both sides vs the stereo signal */
    double side_peak_dbfs;  /* max |L - R| */
    int identical_channels; /* L == R within -80 dBFS, and not silent */
    double worst_correlation, worst_correlation_at_s; /* lowest one-second value */

    /* Silence below MF_QC_SILENCE_DBFS, to the sample. */
    double head_silence_s, tail_silence_s;
    mf_qc_span_t *gaps; /* inner silences >= MF_QC_GAP_MIN_S, in order */
    size_t n_gaps;

    /* Series: one value per hop of hop_s seconds (the last hop may be short).
     * momentary[i] / short_term[i]: the window ending with hop i, NAN while
     * the window is not full, -INFINITY for silence. peak / true_peak / rms:
     * linear, max over channels (true_peak NULL unless measured). */
    double hop_s;
    size_t n_hops;
    float *momentary, *short_term, *peak, *true_peak, *rms;
    /* One value per second (the last may be partial); NAN when a channel is silent. */
    size_t n_seconds;
    float *correlation_s;

    /* Long-term spectrum of (L+R)/2 (of the first two channels of more):
     * mean-square level per third-octave band
     * in dB (a full-scale sine reads -3.01 dB), -INFINITY for bands with no
     * energy or above Nyquist; NAN when not measured. */
    double band_db[MF_QC_BANDS];
} mf_analysis_t;

typedef struct mf_analyzer mf_analyzer_t;

/* channels 1 .. MF_QC_MAX_CHANNELS, rate 8000 .. 768000, flags from
 * mf_analyze_flags_t. NULL when out of memory or the arguments are out of
 * range. Loudness sums the channels with mf_qc_channel_weights' weights. */
mf_analyzer_t *mf_analyzer_new(int channels, double rate, unsigned flags);
/* Other weights for the loudness sum (one per channel: 0 leaves a channel
 * out, as an LFE), before the first mf_analyzer_feed. */
void mf_analyzer_set_weights(mf_analyzer_t *a, const float *weight);

/* Loudspeakers are named by their WAVE_FORMAT_EXTENSIBLE speaker bits: 0
 * front left, 1 front right, 2 centre, 3 LFE, 4-5 back, 6-7 front wide, 8
 * back centre, 9-10 side, 11-17 top; -1 for a channel nothing names. */
enum { MF_SPK_LFE = 3, MF_SPK_TOP_FIRST = 11, MF_SPK_TOP_LAST = 17 };
/* The speakers of a layout given by its channel count, in the WAV (SMPTE)
 * order: 1 C; 2 L R; 3 L R C; 4 L R Ls Rs; 5 L R C Ls Rs; 6 (5.1) L R C
 * LFE Ls Rs; 7 (6.1) L R C LFE Cs Ls Rs; 8 (7.1) L R C LFE Lrs Rrs Lss
 * Rss; 10 (5.1.4) L R C LFE Ls Rs Ltf Rtf Ltb Rtb; 12 (7.1.4) L R C LFE
 * Lrs Rrs Lss Rss Ltf Rtf Ltb Rtb. 1 for those counts; 0 for any other,
 * with every speaker -1. */
int mf_qc_speakers(int channels, int *spk);
/* ITU-R BS.1770-4's weight of a speaker: surround (side, rear and top
 * rear) 1.41 (+1.5 dB), the LFE 0 (left out), any other 1.0, as ffmpeg's
 * ebur128 filter weighs them (and libebur128 the middle layer). */
float mf_qc_speaker_weight(int spk);
#define MF_QC_SURROUND_WEIGHT 1.41f
/* The weights of mf_qc_speakers' layout for the channel count (1.0 each
 * for a count without one). */
void mf_qc_channel_weights(int channels, float *weight);
/* Adds frames interleaved frames. MF_ERR_NOMEM when a series cannot grow
 * (the analyzer is then unusable), MF_ERR_INVALID after finish. */
mf_err_t mf_analyzer_feed(mf_analyzer_t *a, const float *buf, size_t frames);
/* Ends the signal and fills *out (which then owns its arrays). Call once. */
mf_err_t mf_analyzer_finish(mf_analyzer_t *a, mf_analysis_t *out);
void mf_analyzer_free(mf_analyzer_t **a);

/* Frees the arrays of a finished analysis and zeroes it. */
void mf_analysis_fini(mf_analysis_t *r);

/* Nominal centre frequency of band i (20, 25, 31.5 ... 20000 Hz). */
double mf_qc_band_hz(int i);

#endif
