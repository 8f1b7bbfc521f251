/* End to end through the real `mixfarm render` binary (MF_BIN_DIR): what the
 * render tests share. Each case gets a fresh folder under the group's root
 * (render_setup, render_teardown), writes its sources and session there,
 * runs the binary and reads its files back with libsndfile.
 *
 * Sources are 32-bit float WAVs of 1 kHz sines at -20 dBFS peak (RMS
 * -23.0103 dBFS), 4 s long; levels are measured over [0.5 s, 3.5 s), a whole
 * number of periods, and compared as gains relative to the source. */
#ifndef MF_RENDER_CASE_H
#define MF_RENDER_CASE_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "test_proc.h"

#define RATE 48000
#define SECONDS 4
#define FRAMES (RATE * SECONDS)
#define AMP 0.1 /* -20 dBFS */
#define FREQ 1000.0
#define WIN_FROM (RATE / 2)   /* 0.5 s */
#define WIN_TO (RATE * 7 / 2) /* 3.5 s */
#define TOL_DB 0.01

/* |a - b| <= tol, in double, saying the values when it fails. */
#define assert_near(a, b, tol)                                                                     \
    do {                                                                                           \
        double a_ = (a), b_ = (b);                                                                 \
        if (!(fabs(a_ - b_) <= (tol)))                                                             \
            fail_msg("%s = %.6f, expected %.6f (within %g)", #a, a_, b_, (double)(tol));           \
    } while (0)

extern char render_root[512];    /* the group's folder */
extern char render_bin[1024];    /* MF_BIN_DIR/mixfarm */
extern char render_mkdemo[1024]; /* MF_BIN_DIR/mixfarm-mkdemo */

/* cmocka group setup and teardown: the root folder, made and removed. */
int render_setup(void **state);
int render_teardown(void **state);

/* ---- files ---- */

void path_join(char *out, size_t n, const char *a, const char *b);
/* A fresh folder under the group's root for one case. */
void case_dir(char *out, size_t n, const char *name);

typedef double (*gen_fn)(long frame, int channel, int rate);
void write_wav(const char *dir, const char *name, int channels, int rate, long frames, gen_fn gen);
double gen_tone(long i, int c, int rate);
/* Stereo: left at -20 dBFS, right at -26.02 dBFS (half). */
double gen_tone_lr(long i, int c, int rate);
/* A ramp with no zero: sample k is 0.5 (k + 1) / 2^17, exact in float. */
double gen_ramp(long i, int c, int rate);
/* White noise at 0.2 from a xorshift state (reset it for the same noise). */
extern uint64_t render_noise;
double gen_noise(long i, int c, int rate);

void write_text(const char *dir, const char *name, const char *text);
int exists(const char *path);
/* Entries of a folder (not . and ..), or -1 if it is not there. */
int count_entries(const char *dir);

/* ---- running the binary ---- */

/* mixfarm render DIR/session.json -o DIR/outname --workers W; must succeed. */
void render_ok(const char *dir, const char *session, const char *outname, const char *workers);

/* ---- reading and measuring ---- */

typedef struct {
    float *x;
    long frames;
    int channels, rate, format;
} wav_t;

wav_t read_wav(const char *dir, const char *rel);
void wav_free(wav_t *w);
double rms_db(const wav_t *w, int c, long from, long to);
/* Level of channel c relative to the source tone, in dB, over the window. */
double rel_db(const wav_t *w, int c);
double peak(const wav_t *w, int c);
double db(double g);
/* Checks both channels of a stereo file against expected gains in dB
 * (-INFINITY: exactly silent). */
void expect_levels(const char *dir, const char *rel, double l_db, double r_db);

/* ---- the rich session: every kind of routing, automation and placement ---- */

#define RENDER_RICH_FILES 5
extern const char *render_rich;
/* mix.wav and the four stems it writes. */
extern const char *const render_rich_files[RENDER_RICH_FILES];
/* Its sources, into dir: tone.wav, tone44.wav (44.1 kHz), noise.wav (3 s)
 * and st.wav (stereo). */
void render_rich_sources(const char *dir);
/* A case folder with the sources and the session as s.json. */
void make_rich(char *dir, size_t n, const char *name);
/* DIR/name: the rich session with Wide's pan (0.1) moved to pan. */
void write_rich_revision(const char *dir, const char *name, const char *pan);

#endif
