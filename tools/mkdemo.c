/* mixfarm-mkdemo: synthesises the bundled demo song's six tracks (kick, snare, hats, bass,
 * chords, lead) deterministically.
 *
 * 8 bars at 120 bpm (16 s), A minor, Am-F-C-G twice. Each instrument is one small function that
 * adds a note or hit into a float buffer; a fixed-seed xorshift PRNG supplies all the noise, so
 * two runs of the same binary write identical bytes. Every track is normalised to a -6 dBFS
 * peak, gets short fades at both ends, and is written to a temporary name and renamed. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sndfile.h>

#define SONG_S 16.0
#define BPM 120.0
#define BEAT_S (60.0 / BPM)
#define BARS 8
#define PEAK_DBFS -6.0
#define TWO_PI 6.283185307179586

typedef struct {
    float *x; /* interleaved samples */
    long n;   /* frames */
    int sr;   /* sample rate */
    int ch;   /* channels */
} Buf;

typedef struct {
    double beat, len; /* start and length, in beats */
    int midi;
} Note;

/* ---- helpers ---------------------------------------------------------------------------- */

static unsigned long long rng_state = 0x9E3779B97F4A7C15ull;

static double noise(void) /* xorshift64, uniform in [-1, 1) */
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (double)(rng_state >> 11) / 4503599627370496.0 - 1.0;
}

static double mtof(double midi)
{
    return 440.0 * pow(2.0, (midi - 69.0) / 12.0);
}

/* Linear attack, hold, linear release; t and len in seconds. */
static double env_ar(double t, double att, double len, double rel)
{
    if (t < att) return t / att;
    if (t < len) return 1.0;
    return t < len + rel ? 1.0 - (t - len) / rel : 0.0;
}

static double polyblep(double p, double dp) /* p: phase in [0, 1), dp: increment */
{
    if (p < dp) {
        p /= dp;
        return p + p - p * p - 1.0;
    }
    if (p > 1.0 - dp) {
        p = (p - 1.0) / dp;
        return p * p + p + p + 1.0;
    }
    return 0.0;
}

static double saw(double p, double dp)
{
    return 2.0 * p - 1.0 - polyblep(p, dp);
}

static double square(double p, double dp)
{
    double q = fmod(p + 0.5, 1.0);
    return (p < 0.5 ? 1.0 : -1.0) + polyblep(p, dp) - polyblep(q, dp);
}

static double lp_coef(double hz, int sr)
{
    return 1.0 - exp(-TWO_PI * hz / sr);
}

static void add(Buf *b, long i, int c, double v)
{
    if (i >= 0 && i < b->n) b->x[i * b->ch + c] += (float)v;
}

static long at(const Buf *b, double sec)
{
    return lrint(sec * b->sr);
}

/* ---- instruments ------------------------------------------------------------------------ */

static void kick(Buf *b, double t0, double vel, char kind)
{
    (void)kind;
    double ph = 0.0;
    for (long i = 0, s = at(b, t0), len = at(b, 1.3); i < len; i++) {
        double t = (double)i / b->sr;
        double f = 48.0 + 110.0 * exp(-t / 0.035);
        double amp = vel * fmin(1.0, t / 0.001) * exp(-t / 0.18);
        add(b, s + i, 0, amp * sin(ph));
        ph += TWO_PI * f / b->sr;
    }
}

static void snare(Buf *b, double t0, double vel, char kind)
{
    double a = exp(-TWO_PI * 900.0 / b->sr), lp = lp_coef(7000.0, b->sr), x1 = 0, y = 0, z = 0;
    double ph = 0.0;
    (void)kind;
    for (long i = 0, s = at(b, t0), len = at(b, 0.35); i < len; i++) {
        double t = (double)i / b->sr, x = noise();
        y = a * (y + x - x1); /* one-pole high-pass, then low-pass: a crude band of noise */
        x1 = x;
        z += lp * (y - z);
        double tone = sin(ph) * exp(-t / 0.045);
        ph += TWO_PI * (175.0 + 40.0 * exp(-t / 0.01)) / b->sr;
        add(b, s + i, 0, vel * fmin(1.0, t / 0.0005) * (0.8 * z * exp(-t / 0.07) + 0.6 * tone));
    }
}

static void hat(Buf *b, double t0, double vel, char kind)
{
    double a = exp(-TWO_PI * 7000.0 / b->sr), x1 = 0, y1 = 0, y2 = 0, y3 = 0;
    double decay = kind == 'o' ? 0.16 : 0.025;
    for (long i = 0, s = at(b, t0), len = at(b, decay * 7.0); i < len; i++) {
        double t = (double)i / b->sr, x = noise();
        y1 = a * (y1 + x - x1); /* two cascaded one-pole high-passes at 7 kHz */
        y3 = a * (y3 + y1 - y2);
        x1 = x;
        y2 = y1;
        add(b, s + i, 0, vel * fmin(1.0, t / 0.0003) * exp(-t / decay) * y3);
    }
}

static void bass(Buf *b, const Note *n)
{
    double f = mtof(n->midi), dp = f / b->sr, p = 0.0, y = 0.0, len = n->len * BEAT_S;
    for (long i = 0, s = at(b, n->beat * BEAT_S), cnt = at(b, len + 0.02); i < cnt; i++) {
        double t = (double)i / b->sr;
        double x = 0.7 * saw(p, dp) + 0.3 * square(p, dp);
        y += lp_coef(250.0 + 1400.0 * exp(-t / 0.06), b->sr) * (x - y);
        add(b, s + i, 0, env_ar(t, 0.003, len, 0.02) * y);
        p = fmod(p + dp, 1.0);
    }
}

static void chord_voice(Buf *b, const Note *n, double phase0)
{
    const double cents[2] = {-7.0, 7.0}, gl[2] = {0.85, 0.3}, len = n->len * BEAT_S;
    for (int v = 0; v < 2; v++) { /* two detuned saws, one leaning left and one right */
        double dp = mtof(n->midi + cents[v] / 100.0) / b->sr, p = fmod(phase0 + 0.37 * v, 1.0);
        for (long i = 0, s = at(b, n->beat * BEAT_S), cnt = at(b, len + 0.3); i < cnt; i++) {
            double x = env_ar((double)i / b->sr, 0.08, len, 0.3) * saw(p, dp);
            add(b, s + i, 0, gl[v] * x);
            add(b, s + i, 1, gl[1 - v] * x);
            p = fmod(p + dp, 1.0);
        }
    }
}

static void lead(Buf *b, const Note *n)
{
    double p = 0.0, len = n->len * BEAT_S;
    for (long i = 0, s = at(b, n->beat * BEAT_S), cnt = at(b, len + 0.08); i < cnt; i++) {
        double t = (double)i / b->sr;
        double depth = 0.25 * fmin(1.0, fmax(0.0, (t - 0.15) / 0.3)); /* delayed vibrato */
        double f = mtof(n->midi + depth * sin(TWO_PI * 5.5 * t));
        double x = sin(p) + 0.3 * sin(2.0 * p) + 0.12 * sin(3.0 * p);
        add(b, s + i, 0, env_ar(t, 0.01, len, 0.08) * x);
        p = fmod(p + TWO_PI * f / b->sr, TWO_PI);
    }
}

/* ---- the song --------------------------------------------------------------------------- */

/* 16 steps per bar: 'X' accent, 'x' normal, 'o' open (hats), '.' rest. The fill is the last bar. */
typedef void (*HitFn)(Buf *b, double t0, double vel, char kind);

static void drums(Buf *b, HitFn fn, const char *pat, const char *fill)
{
    for (int bar = 0; bar < BARS; bar++) {
        const char *p = bar == BARS - 1 && fill ? fill : pat;
        for (int st = 0; st < 16; st++) {
            if (p[st] == '.') continue;
            fn(b, (bar * 4 + st * 0.25) * BEAT_S, p[st] == 'x' ? 0.6 : 1.0, p[st]);
        }
    }
}

static const int chord_tab[4][3] = {{57, 60, 64}, {53, 57, 60}, {55, 60, 64}, {55, 59, 62}};
static const int bass_root[4] = {45, 41, 48, 43};           /* A2 F2 C3 G2 */
static const int bass_step[8] = {0, 0, 12, 0, 0, 7, 12, 0}; /* eighth-note figure per bar */

static const Note melody[] = {
    {0, 1, 76},     {1, 0.5, 74},   {1.5, 0.5, 72}, {2, 1, 74},  {3, 1, 76},   {4, 1.5, 77},
    {5.5, 0.5, 76}, {6, 1, 74},     {7, 1, 72},     {8, 1, 72},  {9, 0.5, 67}, {9.5, 0.5, 72},
    {10, 1.5, 76},  {11.5, .5, 74}, {12, 1, 74},    {13, 1, 71}, {14, 2, 67},  {16, 1, 81},
    {17, 0.5, 79},  {17.5, .5, 76}, {18, 1, 79},    {19, 1, 76}, {20, 1, 77},  {21, 1, 81},
    {22, 0.5, 79},  {22.5, .5, 77}, {23, 1, 76},    {24, 1, 76}, {25, 1, 79},  {26, 1.5, 84},
    {27.5, .5, 83}, {28, 1, 83},    {29, 1, 81},    {30, 2, 79},
};

static void one_pole_lp(Buf *b, double hz)
{
    double a = lp_coef(hz, b->sr);
    for (int c = 0; c < b->ch; c++) {
        double y = 0.0;
        for (long i = 0; i < b->n; i++)
            b->x[i * b->ch + c] = (float)(y += a * (b->x[i * b->ch + c] - y));
    }
}

static void part_kick(Buf *b)
{
    drums(b, kick, "X.....x.X.....x.", "X.....x.X.X.X.X.");
}

static void part_snare(Buf *b)
{
    drums(b, snare, "....X.......X...", "....X.......X.xX");
}

static void part_hats(Buf *b)
{
    drums(b, hat, "x.X.x.X.x.X.x.Xo", "xxXxxxXxxxXxxxXo");
}

static void part_bass(Buf *b)
{
    for (int bar = 0; bar < BARS; bar++)
        for (int e = 0; e < 8; e++) {
            Note n = {bar * 4 + e * 0.5, 0.42, bass_root[bar % 4] + bass_step[e]};
            bass(b, &n);
        }
}

static void part_chords(Buf *b)
{
    for (int bar = 0; bar < BARS; bar++)
        for (int v = 0; v < 3; v++) {
            Note n = {bar * 4, 4, chord_tab[bar % 4][v]};
            chord_voice(b, &n, (noise() + 1.0) * 0.5);
        }
    one_pole_lp(b, 2500.0); /* twice: 12 dB/octave */
    one_pole_lp(b, 2500.0);
}

static void part_lead(Buf *b)
{
    for (size_t i = 0; i < sizeof melody / sizeof melody[0]; i++) lead(b, &melody[i]);
}

/* ---- output ----------------------------------------------------------------------------- */

typedef struct {
    const char *file, *desc;
    int format, sr, ch;
    void (*synth)(Buf *b);
} Track;

static const Track tracks[] = {
    {"kick.wav", "WAV 24-bit", SF_FORMAT_WAV | SF_FORMAT_PCM_24, 48000, 1, part_kick},
    {"snare.wav", "WAV 16-bit", SF_FORMAT_WAV | SF_FORMAT_PCM_16, 48000, 1, part_snare},
    {"hats.flac", "FLAC 16-bit", SF_FORMAT_FLAC | SF_FORMAT_PCM_16, 48000, 1, part_hats},
    {"bass.wav", "WAV 24-bit", SF_FORMAT_WAV | SF_FORMAT_PCM_24, 44100, 1, part_bass},
    {"chords.wav", "WAV 32-bit float", SF_FORMAT_WAV | SF_FORMAT_FLOAT, 48000, 2, part_chords},
    {"lead.aiff", "AIFF 24-bit", SF_FORMAT_AIFF | SF_FORMAT_PCM_24, 48000, 1, part_lead},
};

/* Scale to the target peak and fade 5 ms in, 50 ms out. */
static void finish(Buf *b)
{
    double peak = 0.0;
    for (long i = 0; i < b->n * b->ch; i++) peak = fmax(peak, fabs(b->x[i]));
    double g = peak > 0.0 ? pow(10.0, PEAK_DBFS / 20.0) / peak : 0.0;
    long fin = at(b, 0.005), fout = at(b, 0.05);
    for (long i = 0; i < b->n; i++) {
        double f = fmin(1.0, fmin((double)i / fin, (double)(b->n - 1 - i) / fout));
        for (int c = 0; c < b->ch; c++) b->x[i * b->ch + c] *= (float)(g * f);
    }
}

static int write_track(const char *dir, const Track *t, const Buf *b)
{
    char path[4096], tmp[4096];
    snprintf(path, sizeof path, "%s/audio/%s", dir, t->file);
    if (snprintf(tmp, sizeof tmp, "%s/audio/.%s.tmp", dir, t->file) >= (int)sizeof tmp) {
        fprintf(stderr, "mixfarm-mkdemo: path too long: %s\n", dir);
        return -1;
    }
    SF_INFO info = {.samplerate = t->sr, .channels = t->ch, .format = t->format};
    SNDFILE *sf = sf_open(tmp, SFM_WRITE, &info);
    if (!sf) {
        fprintf(stderr, "mixfarm-mkdemo: %s: %s\n", tmp, sf_strerror(NULL));
        return -1;
    }
    sf_command(sf, SFC_SET_ADD_PEAK_CHUNK, NULL, SF_FALSE); /* its timestamp breaks determinism */
    sf_count_t w = sf_writef_float(sf, b->x, b->n);
    sf_write_sync(sf);
    int err = sf_close(sf);
    if (w != b->n || err || rename(tmp, path) != 0) {
        fprintf(stderr, "mixfarm-mkdemo: cannot write %s: %s\n", path, strerror(errno));
        remove(tmp);
        return -1;
    }
    printf("wrote %s  (%s, %d Hz, %s, %.2f s)\n", path, t->desc, t->sr,
           t->ch == 2 ? "stereo" : "mono", (double)b->n / t->sr);
    return 0;
}

static int make_dir(const char *path)
{
    if (mkdir(path, 0777) == 0 || errno == EEXIST) return 0;
    fprintf(stderr, "mixfarm-mkdemo: cannot create %s: %s\n", path, strerror(errno));
    return -1;
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: mixfarm-mkdemo DIR\n\n"
            "Synthesises the demo song's multitrack audio into DIR/audio/: kick.wav, snare.wav,\n"
            "hats.flac, bass.wav (44.1 kHz), chords.wav (stereo, float) and lead.aiff.\n"
            "16 s at 120 bpm; the output is deterministic (same bytes on every run).\n"
            "Render it with: mixfarm render DIR/session.json -o DIR/out\n");
}

int main(int argc, char **argv)
{
    if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        usage(stdout);
        return 0;
    }
    if (argc != 2 || argv[1][0] == '-') {
        usage(stderr);
        return 2;
    }
    char audio[4096];
    snprintf(audio, sizeof audio, "%s/audio", argv[1]);
    if (make_dir(argv[1]) || make_dir(audio)) return 1;
    for (size_t k = 0; k < sizeof tracks / sizeof tracks[0]; k++) {
        const Track *t = &tracks[k];
        Buf b = {NULL, lrint(SONG_S * t->sr), t->sr, t->ch};
        b.x = calloc((size_t)b.n * (size_t)b.ch, sizeof *b.x);
        if (!b.x) {
            fprintf(stderr, "mixfarm-mkdemo: out of memory\n");
            return 1;
        }
        t->synth(&b);
        finish(&b);
        int rc = write_track(argv[1], t, &b);
        free(b.x);
        if (rc) return 1;
    }
    return 0;
}
