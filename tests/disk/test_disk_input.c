/* Disk: source files that are cut short or corrupt.
 *
 *   source_check_formats        the header check on WAV, RF64, Wave64 and
 *                               AIFF: whole files pass, one cut short says
 *                               "header says 4.000 s, data holds 1.500 s"
 *                               (libsndfile alone would read it as 1.5 s)
 *   source_channel_mask         the speakers a WAV, RF64 or Wave64 file in
 *                               WAVE_FORMAT_EXTENSIBLE names (qc's surround
 *                               weights); 0 for plain PCM, AIFF, no file
 *   decode_task_words           the decode task on a cut WAV, a cut FLAC and
 *                               garbage: "source <hash12>: what is wrong",
 *                               marked the input's fault (not retried); a
 *                               cut WAV whose stored copy was damaged is the
 *                               worker's ("blob <hash12>: ..."), retried
 *   source_reader_bits          what the source reader reads of 16- and 24-bit
 *                               WAVs (raw, converted by a SIMD kernel) is
 *                               libsndfile's sf_readf_float, bit for bit:
 *                               mono and stereo, WAVEX, a trimmed start, odd
 *                               spans; a float WAV goes through libsndfile
 *   source_signal_resampled     a 44.1 kHz file read at 48 kHz, as a strip
 *                               and the decode task read it: the same
 *                               sine at the new rate, trimmed and placed
 *                               (within 1e-6 of 0.5, -114 dB; 3.5e-8
 *                               measured), the length the rates
 *                               give, and the same bits whatever spans are
 *                               read (one frame, growing, a jump ahead)
 *   render_cut_wav              embedded and --coordinator: the client
 *                               refuses before uploading, naming the track
 *                               and the file; exit 2; nothing in OUTDIR
 *   render_cut_flac             FLAC states no byte count: a worker finds
 *                               it, and the client names the file; exit 2
 *   render_broken_flac_frame    garbage inside a FLAC: the same
 *   render_garbage_wav          not audio at all (a .wav name): exit 2,
 *                               named by the session check
 *   render_nan_float_wav        a float WAV with a NaN at 1.5 s (a plugin
 *                               that blew up): exit 2, the track, the file
 *                               and the time named (it rendered, and the
 *                               master missed its target for no said reason) */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sndfile.h>

#include "cluster_util.h"
#include "disk_util.h"
#include "mf_exec.h"
#include "mf_params.h"
#include "mf_source_check.h"
#include "mf_source_reader.h"
#include "mf_source_signal.h"
#include "mf_store.h"

#define TONE_S 4.0
#define CUT_S 1.5

static int group_setup(void **state)
{
    (void)state;
    return cl_init(CL_SANITIZED ? 560 : 280);
}

/* Where a libsndfile-written PCM file's samples start: they come last. */
static int64_t s_data_start(const char *path, double seconds)
{
    return dk_size(path) - (int64_t)lround(seconds * DK_RATE) * 2;
}

/* What mf_source_truncated says of a file (0, or 1 with its words). */
static int s_check(const char *path, char *why, size_t n)
{
    SF_INFO info = {0};
    SNDFILE *f = sf_open(path, SFM_READ, &info);
    if (!f) fail_msg("%s: %s", path, sf_strerror(NULL));
    sf_close(f);
    why[0] = 0;
    return mf_source_truncated(path, &info, why, n);
}

static void s_check_format(const char *name, int format)
{
    char path[1200], why[256];
    cl_path(path, sizeof path, cl_test_dir(), name);
    dk_write_tone(path, format, TONE_S, 220);
    assert_int_equal(s_check(path, why, sizeof why), 0);
    const int64_t start = s_data_start(path, TONE_S);
    /* One byte short: the last frame is incomplete. */
    dk_truncate(path, dk_size(path) - 1);
    assert_int_equal(s_check(path, why, sizeof why), 1);
    assert_string_equal(why, "header says 4.000000 s, data holds 3.999979 s");
    dk_truncate(path, start + (int64_t)lround(CUT_S * DK_RATE) * 2);
    assert_int_equal(s_check(path, why, sizeof why), 1);
    assert_string_equal(why, "header says 4.000 s, data holds 1.500 s");
}

/* Little-endian bytes into b at *at. */
static void s_le(unsigned char *b, size_t *at, uint64_t v, int n)
{
    for (int i = 0; i < n; i++) b[(*at)++] = (unsigned char)(v >> (8 * i));
}

/* WAVE_FORMAT_EXTENSIBLE's 40 bytes: 6 channels of 16-bit PCM at 48 kHz,
 * the given mask, the PCM subformat GUID. */
static void s_fmt_ext(unsigned char *b, size_t *at, uint32_t mask)
{
    static const unsigned char pcm_guid[16] = {1,    0, 0, 0,    0, 0,    0x10, 0,
                                               0x80, 0, 0, 0xAA, 0, 0x38, 0x9B, 0x71};
    s_le(b, at, 0xFFFE, 2), s_le(b, at, 6, 2), s_le(b, at, 48000, 4), s_le(b, at, 48000 * 12, 4);
    s_le(b, at, 12, 2), s_le(b, at, 16, 2), s_le(b, at, 22, 2), s_le(b, at, 16, 2);
    s_le(b, at, mask, 4);
    memcpy(b + *at, pcm_guid, 16), *at += 16;
}

static uint32_t s_mask_of(const char *name, const unsigned char *b, size_t n)
{
    char path[1200];
    cl_path(path, sizeof path, cl_test_dir(), name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(b, 1, n, f), n);
    fclose(f);
    return mf_source_channel_mask(path);
}

static void source_channel_mask(void **state)
{
    (void)state;
    unsigned char b[512] = {0};
    size_t n = 0;
    /* RIFF: a LIST chunk before fmt (the walk goes past it), 7.1 (side). */
    memcpy(b, "RIFF", 4), n = 8, memcpy(b + n, "WAVE", 4), n += 4;
    memcpy(b + n, "LIST", 4), n += 4, s_le(b, &n, 4, 4), memcpy(b + n, "INFO", 4), n += 4;
    memcpy(b + n, "fmt ", 4), n += 4, s_le(b, &n, 40, 4), s_fmt_ext(b, &n, 0x63F);
    memcpy(b + n, "data", 4), n += 4, s_le(b, &n, 12, 4), n += 12;
    assert_int_equal(s_mask_of("ext.wav", b, n), 0x63F);
    /* RF64: ds64 first, then the same fmt. */
    memset(b, 0, sizeof b), n = 0;
    memcpy(b, "RF64", 4), n = 8, memcpy(b + n, "WAVE", 4), n += 4;
    memcpy(b + n, "ds64", 4), n += 4, s_le(b, &n, 28, 4), s_le(b, &n, 12 + 36 + 48 + 8, 8);
    s_le(b, &n, 12, 8), s_le(b, &n, 1, 8), s_le(b, &n, 0, 4);
    memcpy(b + n, "fmt ", 4), n += 4, s_le(b, &n, 40, 4), s_fmt_ext(b, &n, 0x3F);
    memcpy(b + n, "data", 4), n += 4, s_le(b, &n, 0xFFFFFFFF, 4), n += 12;
    assert_int_equal(s_mask_of("ext.rf64", b, n), 0x3F);
    /* Wave64: GUID ids whose first four bytes spell the name, 64-bit sizes
     * that count the 24-byte header, chunks aligned to 8. */
    memset(b, 0, sizeof b), n = 0;
    memcpy(b, "riff", 4), n = 16, s_le(b, &n, 0, 8), memcpy(b + n, "wave", 4), n += 16;
    memcpy(b + n, "fmt ", 4), n += 16, s_le(b, &n, 24 + 40, 8), s_fmt_ext(b, &n, 0xF);
    memcpy(b + n, "data", 4), n += 16, s_le(b, &n, 24 + 12, 8), n += 12;
    assert_int_equal(s_mask_of("ext.w64", b, n), 0xF);
    /* Plain PCM and AIFF name no speakers; nor does a file not there. */
    char path[1200];
    cl_path(path, sizeof path, cl_test_dir(), "plain.wav");
    dk_write_tone(path, SF_FORMAT_WAV, 0.1, 220);
    assert_int_equal(mf_source_channel_mask(path), 0);
    cl_path(path, sizeof path, cl_test_dir(), "plain.aiff");
    dk_write_tone(path, SF_FORMAT_AIFF, 0.1, 220);
    assert_int_equal(mf_source_channel_mask(path), 0);
    assert_int_equal(mf_source_channel_mask("/nonexistent/x.wav"), 0);
    cl_test_pass();
}

static void source_check_formats(void **state)
{
    (void)state;
    s_check_format("tone.wav", SF_FORMAT_WAV);
    s_check_format("tone.rf64", SF_FORMAT_RF64);
    s_check_format("tone.w64", SF_FORMAT_W64);
    s_check_format("tone.aiff", SF_FORMAT_AIFF);
    char path[1200], why[256];
    /* A WAV written while streaming promises no length (data size
     * 0xFFFFFFFF): nothing to hold it to. */
    cl_path(path, sizeof path, cl_test_dir(), "stream.wav");
    dk_write_tone(path, SF_FORMAT_WAV, TONE_S, 220);
    FILE *f = fopen(path, "r+b");
    assert_non_null(f);
    assert_int_equal(fseek(f, 40, SEEK_SET), 0); /* the data chunk's size */
    assert_int_equal(fwrite("\xff\xff\xff\xff", 1, 4, f), 4);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(s_check(path, why, sizeof why), 0);
    /* FLAC states no byte count: the decoder is what finds a cut one. */
    cl_path(path, sizeof path, cl_test_dir(), "tone.flac");
    dk_write_tone(path, SF_FORMAT_FLAC, TONE_S, 220);
    dk_truncate(path, dk_size(path) / 2);
    assert_int_equal(s_check(path, why, sizeof why), 0);
    cl_test_pass();
}

/* Runs a decode task on blob; returns its error and whether it is marked
 * the input's fault. */
static char *s_decode_blob(mf_store_t *store, mf_hash_t *blob, int *input_fault)
{
    mf_decode_spec_t spec = {.from_s = 0, .length_s = -1, .start_s = 0, .rate = DK_RATE};
    mf_task_t t = {.id = 1, .kind = "decode", .inputs = blob, .n_inputs = 1};
    t.params = mf_decode_spec_to_json(&spec);
    mf_task_result_t r;
    mf_err_t err = mf_exec_run(store, &t, &r);
    free(t.params);
    char *error = r.error ? strdup(r.error) : NULL;
    *input_fault = r.input_fault;
    mf_task_result_fini(&r);
    assert_int_not_equal(err, MF_OK);
    assert_non_null(error);
    return error;
}

/* The same on the file's bytes as a blob; the file's fault, always. */
static char *s_decode(mf_store_t *store, const char *path, mf_hash_t *blob)
{
    assert_int_equal(mf_store_put_file(store, path, blob), MF_OK);
    int input_fault = 0;
    char *error = s_decode_blob(store, blob, &input_fault);
    if (!input_fault) fail_msg("%s: \"%s\" is not marked the input's fault", path, error);
    return error;
}

static void decode_task_words(void **state)
{
    (void)state;
    char dir[1200], path[1200], want[256];
    cl_path(dir, sizeof dir, cl_test_dir(), "store");
    mf_store_t *store = mf_store_open(dir);
    assert_non_null(store);
    mf_hash_t h;

    cl_path(path, sizeof path, cl_test_dir(), "cut.wav");
    dk_write_tone(path, SF_FORMAT_WAV, TONE_S, 330);
    dk_truncate(path, s_data_start(path, TONE_S) + (int64_t)lround(CUT_S * DK_RATE) * 2);
    char *e = s_decode(store, path, &h);
    snprintf(want, sizeof want, "source %.12s: header says 4.000 s, data holds 1.500 s", h.hex);
    assert_string_equal(e, want);
    free(e);

    cl_path(path, sizeof path, cl_test_dir(), "cut.flac");
    dk_write_tone(path, SF_FORMAT_FLAC, TONE_S, 330);
    dk_truncate(path, dk_size(path) / 2);
    e = s_decode(store, path, &h);
    snprintf(want, sizeof want, "source %.12s: header says 4.000 s, data holds ", h.hex);
    if (strncmp(e, want, strlen(want)) != 0) fail_msg("\"%s\" does not start \"%s\"", e, want);
    free(e);

    cl_path(path, sizeof path, cl_test_dir(), "noise.wav");
    dk_write_garbage(path, 20000);
    e = s_decode(store, path, &h);
    snprintf(want, sizeof want, "source %.12s: not an audio file (", h.hex);
    if (strncmp(e, want, strlen(want)) != 0) fail_msg("\"%s\" does not start \"%s\"", e, want);
    free(e);

    /* A cut file whose copy on this worker's disk was damaged since: not
     * the file's fault (another worker's copy may be whole), the copy's. */
    cl_path(path, sizeof path, cl_test_dir(), "cut-damaged.wav");
    dk_write_tone(path, SF_FORMAT_WAV, TONE_S, 440);
    dk_truncate(path, s_data_start(path, TONE_S) + (int64_t)lround(CUT_S * DK_RATE) * 2);
    assert_int_equal(mf_store_put_file(store, path, &h), MF_OK);
    char *copy = mf_store_path(store, &h);
    assert_non_null(copy);
    assert_int_equal(chmod(copy, 0644), 0);
    FILE *f = fopen(copy, "r+b");
    assert_non_null(f);
    assert_int_equal(fseek(f, -1, SEEK_END), 0);
    const int last = fgetc(f); /* a sample's byte, flipped: still a cut WAV */
    assert_int_equal(fseek(f, -1, SEEK_END), 0);
    assert_int_equal(fputc(last ^ 0xff, f), last ^ 0xff);
    assert_int_equal(fclose(f), 0);
    free(copy);
    int input_fault = 1;
    e = s_decode_blob(store, &h, &input_fault);
    snprintf(want, sizeof want, "blob %.12s: this worker's copy differs from the file sent", h.hex);
    assert_string_equal(e, want);
    assert_int_equal(input_fault, 0);
    free(e);
    mf_store_free(&store);
    cl_test_pass();
}

/* A file of random samples (full scale, every bit pattern) at 44.1 kHz. */
static void s_write_random(const char *path, int format, int channels, sf_count_t frames)
{
    SF_INFO info = {.samplerate = 44100, .channels = channels, .format = format};
    SNDFILE *f = sf_open(path, SFM_WRITE, &info);
    if (!f) fail_msg("%s: %s", path, sf_strerror(NULL));
    int *buf = malloc((size_t)frames * (size_t)channels * sizeof *buf);
    assert_non_null(buf);
    uint32_t x = 0x9e3779b9u;
    for (sf_count_t i = 0; i < frames * channels; i++) {
        x ^= x << 13, x ^= x >> 17, x ^= x << 5;
        buf[i] = (int)x;
    }
    buf[0] = INT32_MIN, buf[1] = INT32_MAX; /* the extremes */
    assert_int_equal(sf_writef_int(f, buf, frames), frames);
    free(buf);
    sf_close(f);
}

/* Reads [from, from + frames) of the file's own timeline with the source
 * reader in spans of odd lengths, and the same with sf_readf_float. */
static void s_same_bits(mf_store_t *store, const char *path, double from_s)
{
    mf_hash_t h;
    assert_int_equal(mf_store_put_file(store, path, &h), MF_OK);
    SF_INFO info = {0};
    SNDFILE *f = sf_open(path, SFM_READ, &info);
    assert_non_null(f);
    const sf_count_t from = (sf_count_t)llround(from_s * info.samplerate);
    const size_t frames = (size_t)(info.frames - from), ch = (size_t)info.channels;
    float *want = calloc(frames * ch + 1, sizeof *want),
          *got = calloc(frames * ch + 1, sizeof *got);
    assert_non_null(want), assert_non_null(got);
    assert_int_equal(sf_seek(f, from, SEEK_SET), from);
    assert_int_equal(sf_readf_float(f, want, (sf_count_t)frames), (sf_count_t)frames);
    sf_close(f);
    mf_decode_spec_t spec = {
        .from_s = from_s, .length_s = -1, .start_s = 0, .rate = info.samplerate};
    mf_source_reader_t *r = NULL;
    char why[300];
    if (mf_source_reader_open(store, &h, &spec, &r, why, sizeof why) != MF_OK)
        fail_msg("%s: %s", path, why);
    for (size_t t = 0, n = 1; t < frames; t += n, n = n * 3 + 7) {
        if (n > frames - t) n = frames - t;
        if (mf_source_reader_read_span(r, (int64_t)t, n, got + t * ch, why, sizeof why) != MF_OK)
            fail_msg("%s: %s", path, why);
    }
    mf_source_reader_free(&r);
    if (memcmp(got, want, frames * ch * sizeof *got)) {
        size_t i = 0;
        while (got[i] == want[i]) i++;
        fail_msg("%s: sample %zu is %.9g, libsndfile reads %.9g", path, i, got[i], want[i]);
    }
    free(want), free(got);
}

static void source_reader_bits(void **state)
{
    (void)state;
    char dir[1200], path[1200];
    cl_path(dir, sizeof dir, cl_test_dir(), "store");
    mf_store_t *store = mf_store_open(dir);
    assert_non_null(store);
    const struct {
        const char *name;
        int format, channels;
    } files[] = {
        {"pcm24.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_24, 1},
        {"pcm24-stereo.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_24, 2},
        {"pcm16-stereo.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_16, 2},
        {"pcm24-wavex.wav", SF_FORMAT_WAVEX | SF_FORMAT_PCM_24, 2},
        {"pcm16-wavex.wav", SF_FORMAT_WAVEX | SF_FORMAT_PCM_16, 1},
        {"float.wav", SF_FORMAT_WAV | SF_FORMAT_FLOAT, 2},
        {"pcm24.aiff", SF_FORMAT_AIFF | SF_FORMAT_PCM_24, 2},
        {"pcm24-rifx.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_24 | SF_ENDIAN_BIG, 2}, /* big-endian */
    };
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        cl_path(path, sizeof path, cl_test_dir(), files[i].name);
        s_write_random(path, files[i].format, files[i].channels, 44100 + 17);
        s_same_bits(store, path, 0.0);
        s_same_bits(store, path, 0.25); /* a trimmed start: the reader seeks */
    }
    mf_store_free(&store);
    cl_test_pass();
}

#define RS_IN 44100
#define RS_OUT 48000
#define RS_HZ 997.0

/* Reads the whole timeline [0, total) in spans from next(); returns it. */
static float *s_read_signal(mf_store_t *store, const mf_hash_t *h, const mf_decode_spec_t *spec,
                            size_t total, size_t (*next)(size_t t, size_t n))
{
    mf_source_signal_t *g = NULL;
    char why[300];
    if (mf_source_signal_open(store, h, spec, &g, why, sizeof why) != MF_OK) fail_msg("%s", why);
    float *out = calloc(total * 2 + 1, sizeof *out);
    assert_non_null(out);
    for (size_t t = 0, n = 0; t < total; t += n) {
        n = next(t, n);
        if (n > total - t) n = total - t;
        if (mf_source_signal_read_span(g, (int64_t)t, n, out + 2 * t, why, sizeof why) != MF_OK)
            fail_msg("%s", why);
    }
    mf_source_signal_free(&g);
    return out;
}
static size_t s_whole(size_t t, size_t n)
{
    (void)t, (void)n;
    return SIZE_MAX;
}
static size_t s_blocks(size_t t, size_t n)
{
    (void)t, (void)n;
    return MF_BLOCK;
}
static size_t s_growing(size_t t, size_t n)
{
    (void)t;
    return n * 3 + 1;
}
static size_t s_ones_then_big(size_t t, size_t n)
{
    (void)n;
    return t < 50 ? 1 : t < 60000 ? 7777 : 1;
}

static void source_signal_resampled(void **state)
{
    (void)state;
    char dir[1200], path[1200];
    cl_path(dir, sizeof dir, cl_test_dir(), "store");
    mf_store_t *store = mf_store_open(dir);
    assert_non_null(store);
    /* Two seconds of a sine, its cosine on the right. */
    cl_path(path, sizeof path, cl_test_dir(), "sine44.wav");
    SF_INFO info = {.samplerate = RS_IN, .channels = 2, .format = SF_FORMAT_WAV | SF_FORMAT_FLOAT};
    SNDFILE *f = sf_open(path, SFM_WRITE, &info);
    assert_non_null(f);
    for (int i = 0; i < 2 * RS_IN; i++) {
        const double ph = 2 * M_PI * RS_HZ * i / RS_IN;
        const float fr[2] = {(float)(0.5 * sin(ph)), (float)(0.5 * cos(ph))};
        assert_int_equal(sf_writef_float(f, fr, 1), 1);
    }
    sf_close(f);
    mf_hash_t h;
    assert_int_equal(mf_store_put_file(store, path, &h), MF_OK);
    /* Trimmed to [0.3, 1.8) s of the file, placed at 0.25 s. */
    const mf_decode_spec_t spec = {.from_s = 0.3, .length_s = 1.5, .start_s = 0.25, .rate = RS_OUT};
    mf_source_signal_t *g = NULL;
    char why[300];
    assert_int_equal(mf_source_signal_open(store, &h, &spec, &g, why, sizeof why), MF_OK);
    const mf_pcm_info_t in = *mf_source_signal_info(g);
    mf_source_signal_free(&g);
    assert_int_equal(in.rate, RS_OUT);
    assert_int_equal(in.channels, 2);
    assert_int_equal(in.start, llround(0.25 * RS_OUT));
    assert_int_equal(in.frames, llround(llround(1.5 * RS_IN) * (double)RS_OUT / RS_IN));
    const size_t total = (size_t)(in.start + in.frames) + 500;
    float *ref = s_read_signal(store, &h, &spec, total, s_whole);
    double worst = 0;
    for (size_t t = 0; t < total; t++) {
        const double sig = (double)((int64_t)t - in.start) / RS_OUT;
        if (sig < 0 || sig >= 1.5) { /* outside: silence */
            if (ref[2 * t] != 0 || ref[2 * t + 1] != 0) fail_msg("frame %zu: not silence", t);
            continue;
        }
        if (sig < 0.05 || sig > 1.45) continue; /* the resampler's edges */
        const double ph = 2 * M_PI * RS_HZ * (sig + 0.3);
        worst = fmax(worst, fabs(ref[2 * t] - 0.5 * sin(ph)));
        worst = fmax(worst, fabs(ref[2 * t + 1] - 0.5 * cos(ph)));
    }
    print_message("    a 997 Hz sine 44.1 -> 48 kHz: within %.2g of 0.5\n", worst);
    assert_true(worst < 1e-6); /* -114 dB; VHQ measured 3.5e-8 */
    size_t (*const patterns[])(size_t, size_t) = {s_blocks, s_growing, s_ones_then_big};
    for (size_t k = 0; k < sizeof patterns / sizeof *patterns; k++) {
        float *got = s_read_signal(store, &h, &spec, total, patterns[k]);
        if (memcmp(got, ref, total * 2 * sizeof *got))
            fail_msg("read pattern %zu: not the bits of one read", k);
        free(got);
    }
    free(ref);
    mf_store_free(&store);
    cl_test_pass();
}

/* ---- whole renders ---- */

/* A session of three tracks in the test's folder, the second being `bad`
 * (as written, under audio/), made by make_bad; returns its path. */
static void s_session(char *session, size_t n, const char *bad_name, const char *bad_file)
{
    char audio[1200], path[1300];
    cl_path(audio, sizeof audio, cl_test_dir(), "audio");
    assert_int_equal(mkdir(audio, 0755), 0);
    cl_path(path, sizeof path, audio, "bass.wav");
    dk_write_tone(path, SF_FORMAT_WAV, TONE_S, 55);
    cl_path(path, sizeof path, audio, "keys.wav");
    dk_write_tone(path, SF_FORMAT_WAV, TONE_S, 440);
    const char *names[] = {"Bass", bad_name, "Keys"};
    const char *files[] = {"audio/bass.wav", bad_file, "audio/keys.wav"};
    dk_write_session(cl_test_dir(), "song.json", "Song", 3, names, files, -2);
    cl_path(session, n, cl_test_dir(), "song.json");
}

/* Renders (embedded, or on a farm of one coordinator and one worker) and
 * asserts the bad-input contract: exit 2, the one named error, nothing
 * written to OUTDIR. */
static void s_render_fails_on(const char *session, int on_farm, const char *expect)
{
    cl_coord_t c = {0};
    if (on_farm) {
        char dir[1200];
        cl_path(dir, sizeof dir, cl_test_dir(), "farm");
        assert_int_equal(mkdir(dir, 0755), 0);
        cl_coord_start(&c, dir, 0);
        cl_worker_start(&c, dir, "w1", 2, NULL, 0);
        cl_wait_joined(&c, "w1", 30 * CL_SLOW);
    }
    char out[1200];
    cl_path(out, sizeof out, cl_test_dir(), on_farm ? "out-farm" : "out-embedded");
    cl_run_t r = cl_render_run(session, out, on_farm ? &c : NULL);
    /* The file's fault is no worker's: the task runs once, and no worker
     * is set aside (an embedded render said so, and ran it three times). */
    const int ok = r.rc == 2 && strstr(r.err, expect) && !strstr(r.err, "warning");
    char msg[8192];
    snprintf(msg, sizeof msg, "mixfarm render (%s) exited %d, expected 2 and\n  %s\nstderr:\n%s",
             on_farm ? "farm" : "embedded", r.rc, expect, r.err);
    cl_run_free(&r); /* before a failed assertion, which does not return */
    if (!ok) fail_msg("%s", msg);
    dk_assert_tree(out, "");
    struct stat st;
    assert_int_not_equal(stat(out, &st), 0); /* not even created */
    if (on_farm) {
        assert_true(cl_count_lines(c.log, " failed on w1") <= 1);
        assert_false(cl_file_contains(c.log, "no work for it"));
        cl_stop_all_clean(20 * CL_SLOW);
    }
}

/* The same failure embedded and on the farm. */
static void s_render_fails(const char *session, const char *expect)
{
    s_render_fails_on(session, 0, expect);
    s_render_fails_on(session, 1, expect);
}

static void render_cut_wav(void **state)
{
    (void)state;
    char session[1200], path[1300], expect[1600];
    s_session(session, sizeof session, "Kick", "audio/kick.wav");
    cl_path(path, sizeof path, cl_test_dir(), "audio/kick.wav");
    dk_write_tone(path, SF_FORMAT_WAV, TONE_S, 60);
    dk_truncate(path, s_data_start(path, TONE_S) + (int64_t)lround(CUT_S * DK_RATE) * 2);
    snprintf(expect, sizeof expect,
             "mixfarm: %s: tracks[1] \"Kick\" (audio/kick.wav): header says 4.000 s, data holds "
             "1.500 s\n",
             session);
    s_render_fails(session, expect);
    cl_test_pass();
}

static void render_cut_flac(void **state)
{
    (void)state;
    char session[1200], path[1300], expect[1600];
    s_session(session, sizeof session, "Hats", "audio/hats.flac");
    cl_path(path, sizeof path, cl_test_dir(), "audio/hats.flac");
    dk_write_tone(path, SF_FORMAT_FLAC, TONE_S, 6000);
    dk_truncate(path, dk_size(path) / 2);
    snprintf(expect, sizeof expect,
             "mixfarm: %s: tracks[1] \"Hats\" (audio/hats.flac): header says 4.000 s, data holds ",
             session);
    s_render_fails(session, expect);
    cl_test_pass();
}

static void render_broken_flac_frame(void **state)
{
    (void)state;
    char session[1200], path[1300], expect[1600];
    s_session(session, sizeof session, "Hats", "audio/hats.flac");
    cl_path(path, sizeof path, cl_test_dir(), "audio/hats.flac");
    dk_write_tone(path, SF_FORMAT_FLAC, TONE_S, 6000);
    dk_scramble(path, dk_size(path) / 2, 2000);
    snprintf(expect, sizeof expect,
             "mixfarm: %s: tracks[1] \"Hats\" (audio/hats.flac): header says 4.000 s, data holds ",
             session);
    s_render_fails(session, expect);
    cl_test_pass();
}

static void render_garbage_wav(void **state)
{
    (void)state;
    char session[1200], path[1300], expect[1600];
    s_session(session, sizeof session, "Noise", "audio/noise.wav");
    cl_path(path, sizeof path, cl_test_dir(), "audio/noise.wav");
    dk_write_garbage(path, 50000);
    snprintf(expect, sizeof expect,
             "mixfarm: %s: tracks[1].file: audio/noise.wav: not an audio file", session);
    s_render_fails(session, expect);
    cl_test_pass();
}

static void render_nan_float_wav(void **state)
{
    (void)state;
    char session[1200], path[1300], expect[1600];
    s_session(session, sizeof session, "Synth", "audio/synth.wav");
    cl_path(path, sizeof path, cl_test_dir(), "audio/synth.wav");
    const sf_count_t frames = (sf_count_t)(TONE_S * DK_RATE);
    float *x = malloc(sizeof *x * (size_t)frames);
    assert_non_null(x);
    for (sf_count_t i = 0; i < frames; i++) x[i] = (float)(0.3 * sin(0.05 * (double)i));
    x[(sf_count_t)(1.5 * DK_RATE)] = NAN;
    SF_INFO si = {.samplerate = DK_RATE, .channels = 1, .format = SF_FORMAT_WAV | SF_FORMAT_FLOAT};
    SNDFILE *f = sf_open(path, SFM_WRITE, &si);
    assert_non_null(f);
    assert_int_equal(sf_writef_float(f, x, frames), frames);
    sf_close(f);
    free(x);
    snprintf(expect, sizeof expect,
             "mixfarm: %s: tracks[1] \"Synth\" (audio/synth.wav): its sample at 1.500 s is not a "
             "number (NaN): the file is damaged; export it again\n",
             session);
    s_render_fails(session, expect);
    cl_test_pass();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_prestate_setup_teardown(source_check_formats, cl_setup, cl_teardown,
                                                 "source_check_formats"),
        cmocka_unit_test_prestate_setup_teardown(source_channel_mask, cl_setup, cl_teardown,
                                                 "source_channel_mask"),
        cmocka_unit_test_prestate_setup_teardown(source_reader_bits, cl_setup, cl_teardown,
                                                 "source_reader_bits"),
        cmocka_unit_test_prestate_setup_teardown(source_signal_resampled, cl_setup, cl_teardown,
                                                 "source_signal_resampled"),
        cmocka_unit_test_prestate_setup_teardown(decode_task_words, cl_setup, cl_teardown,
                                                 "decode_task_words"),
        cmocka_unit_test_prestate_setup_teardown(render_cut_wav, cl_setup, cl_teardown,
                                                 "render_cut_wav"),
        cmocka_unit_test_prestate_setup_teardown(render_cut_flac, cl_setup, cl_teardown,
                                                 "render_cut_flac"),
        cmocka_unit_test_prestate_setup_teardown(render_broken_flac_frame, cl_setup, cl_teardown,
                                                 "render_broken_flac_frame"),
        cmocka_unit_test_prestate_setup_teardown(render_garbage_wav, cl_setup, cl_teardown,
                                                 "render_garbage_wav"),
        cmocka_unit_test_prestate_setup_teardown(render_nan_float_wav, cl_setup, cl_teardown,
                                                 "render_nan_float_wav"),
    };
    return cmocka_run_group_tests(tests, group_setup, NULL);
}
