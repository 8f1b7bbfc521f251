/* session/mf_limits.h: every limit of a document, just over it (an error
 * naming the key and the limit) and just at it (no such error).
 *
 * Documents are built here, in memory, to the size each limit needs; the
 * audio files are a few short WAVs written at set-up. Task parameters
 * (proto/) are held to the same limits: tested at the end. */
#include <math.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mf_album.h"
#include "mf_limits.h"
#include "mf_msg.h"
#include "mf_params.h"
#include "mf_session.h"
#include "mf_task.h"
#include "session_fixture.h"

/* ---- a growing text buffer, for documents built in code ---------------- */

typedef struct {
    char *p;
    size_t n, cap;
} text_t;

static void put(text_t *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(text_t *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int need = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    assert_true(need >= 0);
    if (t->n + (size_t)need + 1 > t->cap) {
        t->cap = (t->n + (size_t)need + 1) * 2;
        t->p = realloc(t->p, t->cap);
        assert_non_null(t->p);
    }
    va_start(ap, fmt);
    vsnprintf(t->p + t->n, t->cap - t->n, fmt, ap);
    va_end(ap);
    t->n += (size_t)need;
}

/* n copies of c. */
static char *repeat(char c, size_t n)
{
    char *s = malloc(n + 1);
    assert_non_null(s);
    memset(s, c, n);
    s[n] = '\0';
    return s;
}

/* ---- fixtures --------------------------------------------------------- */

static int group_setup(void **state)
{
    (void)state;
    if (sfx_open("mf-limits")) return -1;
    char sub[300];
    snprintf(sub, sizeof sub, "%s/audio", sfx_dir());
    if (mkdir(sub, 0755)) return -1;
    sfx_write_wav("audio/kick.wav", 1, 48000, 48000, 0.0f);         /* 1 s */
    sfx_write_wav("audio/mix.wav", 2, 48000, 4800, 0.0f);           /* a stereo mix for albums */
    sfx_write_wav("audio/ir30.wav", 1, 8000, 30 * 8000, 0.0f);      /* an IR at its limit */
    sfx_write_wav("audio/ir30+.wav", 1, 8000, 30 * 8000 + 1, 0.0f); /* one frame more */
    sfx_write_wav("audio/r7999.wav", 1, 7999, 100, 0.0f);
    sfx_write_wav("audio/r8000.wav", 1, 8000, 100, 0.0f);
    sfx_write_wav("audio/r384000.wav", 1, 384000, 100, 0.0f);
    sfx_write_wav("audio/r384001.wav", 1, 384001, 100, 0.0f);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    return sfx_close();
}

/* ---- loading and checking --------------------------------------------- */

static mf_session_t *load_text_as_file(const char *name, const char *doc, size_t n, mf_diags_t *d)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", sfx_dir(), name);
    sfx_write_file(name, doc, n);
    mf_diags_init(d, path);
    return mf_session_load(path, d);
}

static mf_session_t *load(text_t *doc, mf_diags_t *d)
{
    mf_session_t *s = load_text_as_file("session.json", doc->p, doc->n, d);
    free(doc->p);
    memset(doc, 0, sizeof *doc);
    return s;
}

static int has_error(const mf_diags_t *d, const char *path, const char *text)
{
    for (size_t i = 0; i < d->count; i++)
        if (d->items[i].kind == MF_DIAG_ERROR && strcmp(d->items[i].path, path) == 0 &&
            strstr(d->items[i].message, text))
            return 1;
    return 0;
}

/* The session failed with an error at path whose message holds text. */
static void expect_error(mf_session_t *s, mf_diags_t *d, const char *path, const char *text)
{
    if (!has_error(d, path, text)) {
        fprintf(stderr, "expected an error at \"%s\" containing: %s\n", path, text);
        mf_diags_print(d);
    }
    assert_true(has_error(d, path, text));
    assert_null(s);
    mf_diags_fini(d);
}

/* The session loaded without any error. */
static void expect_ok(mf_session_t *s, mf_diags_t *d)
{
    if (!s || d->errors) mf_diags_print(d);
    assert_non_null(s);
    assert_int_equal(d->errors, 0);
    mf_session_free(&s);
    mf_diags_fini(d);
}

/* {"mixfarm": 1, "tracks": [ — then the caller's tracks, then the tail. */
static void open_doc(text_t *t)
{
    put(t, "{\"mixfarm\": 1, \"tracks\": [");
}

static void kick(text_t *t, size_t i, const char *extra)
{
    put(t, "%s{\"name\": \"T%zu\", \"file\": \"audio/kick.wav\"%s%s}", i ? ", " : "", i,
        extra[0] ? ", " : "", extra);
}

/* One track with extra keys, then top-level keys. */
static void one_track_doc(text_t *t, const char *extra, const char *top)
{
    open_doc(t);
    kick(t, 0, extra);
    put(t, "]%s%s}", top[0] ? ", " : "", top);
}

/* ---- document size ---------------------------------------------------- */

/* A valid session padded with spaces to exactly n bytes. */
static char *padded_session(size_t n)
{
    static const char head[] =
        "{\"mixfarm\": 1, \"tracks\": [{\"name\": \"K\", \"file\": \"audio/kick.wav\"}]";
    char *doc = repeat(' ', n);
    memcpy(doc, head, sizeof head - 1);
    doc[n - 1] = '}';
    return doc;
}

static void test_doc_size(void **state)
{
    (void)state;
    mf_diags_t d;
    char *doc = padded_session(MF_LIMIT_DOC_BYTES + 1);
    mf_session_t *s = load_text_as_file("big.json", doc, MF_LIMIT_DOC_BYTES + 1, &d);
    assert_non_null(strstr(d.file, "big.json")); /* every line names the file */
    expect_error(s, &d, "", "is 8388609 bytes; a document is at most 8388608 bytes (8 MiB)");

    /* Submitted as text (a coordinator): the same limit. */
    mf_diags_init(&d, "sent.json");
    s = mf_session_load_text("sent.json", doc, NULL, &d);
    expect_error(s, &d, "", "at most 8388608 bytes");
    free(doc);

    doc = padded_session(MF_LIMIT_DOC_BYTES);
    s = load_text_as_file("at-limit.json", doc, MF_LIMIT_DOC_BYTES, &d);
    expect_ok(s, &d);
    free(doc);
}

/* A document that is not a regular file (a pipe here) is read through the
 * counter and refused once it passes the limit, never held whole. */
static void test_doc_size_of_a_pipe(void **state)
{
    (void)state;
    char path[512];
    snprintf(path, sizeof path, "%s/pipe.json", sfx_dir());
    assert_int_equal(mkfifo(path, 0600), 0);
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) { /* writes far more than the limit, until the reader stops */
        signal(SIGPIPE, SIG_IGN);
        FILE *f = fopen(path, "wb");
        char block[65536];
        memset(block, ' ', sizeof block);
        if (!f) _exit(1);
        fputc('[', f);
        for (size_t i = 0; i < 4 * (MF_LIMIT_DOC_BYTES / sizeof block); i++)
            if (fwrite(block, 1, sizeof block, f) != sizeof block) break;
        _exit(0);
    }
    mf_diags_t d;
    mf_diags_init(&d, path);
    mf_session_t *s = mf_session_load(path, &d);
    int status;
    assert_int_equal(waitpid(child, &status, 0), child);
    expect_error(s, &d, "", "holds more than 8388608 bytes; a document is at most");
    unlink(path);
}

/* ---- counts ----------------------------------------------------------- */

static void tracks_doc(text_t *t, size_t n)
{
    open_doc(t);
    for (size_t i = 0; i < n; i++) kick(t, i, "");
    put(t, "]}");
}

static void test_tracks(void **state)
{
    (void)state;
    mf_diags_t d;
    text_t t = {0};
    tracks_doc(&t, MF_LIMIT_TRACKS + 1);
    expect_error(load(&t, &d), &d, "tracks", "1025 tracks, at most 1024");
    tracks_doc(&t, MF_LIMIT_TRACKS);
    expect_ok(load(&t, &d), &d);
}

static void buses_doc(text_t *t, size_t n)
{
    one_track_doc(t, "", "\"buses\": [");
    t->n--; /* reopen the document after "buses": [ */
    for (size_t i = 0; i < n; i++) put(t, "%s{\"name\": \"B%zu\"}", i ? ", " : "", i);
    put(t, "]}");
}

static void test_buses(void **state)
{
    (void)state;
    mf_diags_t d;
    text_t t = {0};
    buses_doc(&t, MF_LIMIT_BUSES + 1);
    expect_error(load(&t, &d), &d, "buses", "257 buses, at most 256");
    buses_doc(&t, MF_LIMIT_BUSES);
    expect_ok(load(&t, &d), &d);
}

/* A track sending to n buses. */
static void sends_doc(text_t *t, size_t n)
{
    open_doc(t);
    put(t, "{\"name\": \"T\", \"file\": \"audio/kick.wav\", \"sends\": [");
    for (size_t i = 0; i < n; i++) put(t, "%s{\"bus\": \"B%zu\"}", i ? ", " : "", i);
    put(t, "]}], \"buses\": [");
    for (size_t i = 0; i < n; i++) put(t, "%s{\"name\": \"B%zu\"}", i ? ", " : "", i);
    put(t, "]}");
}

static void test_sends(void **state)
{
    (void)state;
    mf_diags_t d;
    text_t t = {0};
    sends_doc(&t, MF_LIMIT_SENDS + 1);
    expect_error(load(&t, &d), &d, "tracks[0].sends", "65 sends, at most 64");
    sends_doc(&t, MF_LIMIT_SENDS);
    expect_ok(load(&t, &d), &d);
}

static void gains(text_t *t, size_t n)
{
    put(t, "[");
    for (size_t i = 0; i < n; i++) put(t, "%s{\"type\": \"gain\"}", i ? ", " : "");
    put(t, "]");
}

static void inserts_doc(text_t *t, size_t on_track, size_t on_mastering)
{
    open_doc(t);
    put(t, "{\"name\": \"T\", \"file\": \"audio/kick.wav\", \"inserts\": ");
    gains(t, on_track);
    put(t, "}], \"mastering\": {\"target\": \"streaming\", \"inserts\": ");
    gains(t, on_mastering);
    put(t, "}}");
}

static void test_inserts(void **state)
{
    (void)state;
    mf_diags_t d;
    text_t t = {0};
    inserts_doc(&t, MF_LIMIT_INSERTS + 1, 1);
    expect_error(load(&t, &d), &d, "tracks[0].inserts", "65 inserts, at most 64");
    inserts_doc(&t, 1, MF_LIMIT_INSERTS + 1);
    expect_error(load(&t, &d), &d, "mastering.inserts", "65 inserts, at most 64");
    inserts_doc(&t, MF_LIMIT_INSERTS, MF_LIMIT_INSERTS);
    expect_ok(load(&t, &d), &d);
}

/* Bands are the processor's own limit (dsp/proc_eq.c: 16). */
static void eq_doc(text_t *t, size_t bands)
{
    open_doc(t);
    put(t, "{\"name\": \"T\", \"file\": \"audio/kick.wav\", \"inserts\": [{\"type\": \"eq\", "
           "\"bands\": [");
    for (size_t i = 0; i < bands; i++) put(t, "%s{\"freq_hz\": %zu}", i ? ", " : "", 100 + i);
    put(t, "]}]}]}");
}

static void test_eq_bands(void **state)
{
    (void)state;
    mf_diags_t d;
    text_t t = {0};
    eq_doc(&t, 17);
    expect_error(load(&t, &d), &d, "tracks[0].inserts[0].bands", "eq takes at most 16 bands");
    eq_doc(&t, 16);
    expect_ok(load(&t, &d), &d);
}

static void test_outputs(void **state)
{
    (void)state;
    mf_diags_t d;
    text_t t = {0};
    for (size_t n = MF_LIMIT_OUTPUTS + 1; n >= MF_LIMIT_OUTPUTS; n--) {
        one_track_doc(&t, "", "\"outputs\": [");
        t.n--;
        for (size_t i = 0; i < n; i++)
            put(&t, "%s{\"format\": \"wav\", \"name\": \"o%zu\"}", i ? ", " : "", i);
        put(&t, "]}");
        mf_session_t *s = load(&t, &d);
        if (n > MF_LIMIT_OUTPUTS)
            expect_error(s, &d, "outputs", "33 outputs, at most 32");
        else
            expect_ok(s, &d);
    }
}

static void test_stems(void **state)
{
    (void)state;
    mf_diags_t d;
    text_t t = {0};
    one_track_doc(&t, "", "\"stems\": [");
    t.n--;
    for (size_t i = 0; i < MF_LIMIT_STEMS + 1; i++) put(&t, "%s\"T0\"", i ? ", " : "");
    put(&t, "]}");
    expect_error(load(&t, &d), &d, "stems", "1281 stems, at most 1280");

    /* At the limit: every track and bus there may be, each a stem. */
    open_doc(&t);
    for (size_t i = 0; i < MF_LIMIT_TRACKS; i++) kick(&t, i, "");
    put(&t, "], \"buses\": [");
    for (size_t i = 0; i < MF_LIMIT_BUSES; i++) put(&t, "%s{\"name\": \"B%zu\"}", i ? ", " : "", i);
    put(&t, "], \"stems\": [");
    for (size_t i = 0; i < MF_LIMIT_TRACKS; i++) put(&t, "%s\"T%zu\"", i ? ", " : "", i);
    for (size_t i = 0; i < MF_LIMIT_BUSES; i++) put(&t, ", \"B%zu\"", i);
    put(&t, "]}");
    expect_ok(load(&t, &d), &d);
}

/* ---- automation ------------------------------------------------------- */

/* A lane of n points: two at each time (steps), times going up. */
static void lane(text_t *t, const char *target, size_t n)
{
    put(t, "\"%s\": [", target);
    for (size_t k = 0; k < n; k++) put(t, "%s[%zu, 0]", k ? ", " : "", k / 2);
    put(t, "]");
}

static void test_points_per_lane(void **state)
{
    (void)state;
    mf_diags_t d;
    text_t t = {0}, extra = {0};
    put(&extra, "\"automation\": {");
    lane(&extra, "gain_db", MF_LIMIT_AUTO_POINTS + 1);
    put(&extra, "}");
    one_track_doc(&t, extra.p, "");
    expect_error(load(&t, &d), &d, "tracks[0].automation[\"gain_db\"]",
                 "16385 points, at most 16384");
    extra.n = 0;
    put(&extra, "\"automation\": {");
    lane(&extra, "gain_db", MF_LIMIT_AUTO_POINTS);
    put(&extra, "}");
    one_track_doc(&t, extra.p, "");
    expect_ok(load(&t, &d), &d);
    free(extra.p);
}

static void test_points_per_channel(void **state)
{
    (void)state;
    mf_diags_t d;
    text_t t = {0}, extra = {0};
    static const size_t overs[] = {1, 0}; /* one point over, then exactly at */
    for (size_t i = 0; i < 2; i++) {
        const size_t over = overs[i];
        extra.n = 0;
        put(&extra, "\"automation\": {");
        lane(&extra, "gain_db", 10000);
        put(&extra, ", ");
        lane(&extra, "pan", MF_LIMIT_AUTO_POINTS - 10000 + over);
        put(&extra, "}");
        one_track_doc(&t, extra.p, "");
        mf_session_t *s = load(&t, &d);
        if (over)
            expect_error(s, &d, "tracks[0].automation",
                         "16385 points in all, at most 16384 on one channel");
        else
            expect_ok(s, &d);
    }
    free(extra.p);
}

/* n tracks, each with a full lane of points. */
static void dense_doc(text_t *t, size_t n, size_t last_lane)
{
    open_doc(t);
    for (size_t i = 0; i < n; i++) {
        put(t, "%s{\"name\": \"T%zu\", \"file\": \"audio/kick.wav\", \"automation\": {",
            i ? ", " : "", i);
        lane(t, "gain_db", i + 1 == n ? last_lane : MF_LIMIT_AUTO_POINTS);
        put(t, "}}");
    }
    put(t, "]}");
}

static void test_points_total(void **state)
{
    (void)state;
    const size_t full = MF_LIMIT_AUTO_POINTS_TOTAL / MF_LIMIT_AUTO_POINTS; /* 16 channels */
    mf_diags_t d;
    text_t t = {0};
    dense_doc(&t, full + 1, 1);
    expect_error(load(&t, &d), &d, "", "262145 automation points in all, at most 262144");
    dense_doc(&t, full, MF_LIMIT_AUTO_POINTS);
    expect_ok(load(&t, &d), &d);
}

/* 4 eqs of 16 bands, each band's 4 numeric parameters: 256 targets. */
static void lanes_doc(text_t *t, int extra_lane)
{
    open_doc(t);
    put(t, "{\"name\": \"T\", \"file\": \"audio/kick.wav\", \"inserts\": [");
    for (int e = 0; e < 4; e++) {
        put(t, "%s{\"type\": \"eq\", \"bands\": [", e ? ", " : "");
        for (int b = 0; b < 16; b++) put(t, "%s{}", b ? ", " : "");
        put(t, "]}");
    }
    put(t, "], \"automation\": {");
    static const char *const params[] = {"freq_hz", "gain_db", "q", "slope_db_oct"};
    int first = 1;
    for (int e = 0; e < 4; e++)
        for (int b = 0; b < 16; b++)
            for (int p = 0; p < 4; p++, first = 0)
                put(t, "%s\"inserts.%d.bands.%d.%s\": [[0, %s]]", first ? "" : ", ", e, b,
                    params[p],
                    p == 0   ? "1000"
                    : p == 2 ? "1"
                    : p == 3 ? "12"
                             : "0");
    if (extra_lane) put(t, ", \"gain_db\": [[0, 0]]");
    put(t, "}}]}");
}

static void test_lanes(void **state)
{
    (void)state;
    mf_diags_t d;
    text_t t = {0};
    lanes_doc(&t, 1);
    expect_error(load(&t, &d), &d, "tracks[0].automation", "257 automated parameters, at most 256");
    lanes_doc(&t, 0);
    expect_ok(load(&t, &d), &d);
}

/* ---- time and rates --------------------------------------------------- */

static void test_region_end(void **state)
{
    (void)state;
    mf_diags_t d;
    text_t t = {0};
    one_track_doc(&t, "\"start_s\": 86399.5", ""); /* a 1 s file */
    expect_error(load(&t, &d), &d, "tracks[0]", "the region ends at 86400.5 s");
    one_track_doc(&t, "\"start_s\": 86401", "");
    expect_error(load(&t, &d), &d, "tracks[0].start_s", "must be <= 86400");
    one_track_doc(&t, "\"start_s\": 86399", "");
    expect_ok(load(&t, &d), &d);
}

/* A coordinator learns a file's header from the client: held to the same
 * limits. */
typedef struct {
    int rate;
    int64_t frames;
} fake_header_t;

static int s_fake_audio(void *ctx, const char *file, int *channels, int *rate, int64_t *frames,
                        char *why, size_t why_size)
{
    (void)file, (void)why, (void)why_size;
    const fake_header_t *h = ctx;
    *channels = 1;
    *rate = h->rate;
    *frames = h->frames;
    return 0;
}

static mf_session_t *load_sent(fake_header_t *h, mf_diags_t *d)
{
    mf_session_source_t src = {.audio = s_fake_audio, .ctx = h};
    mf_diags_init(d, "sent.json");
    return mf_session_load_text(
        "sent.json", "{\"mixfarm\": 1, \"tracks\": [{\"name\": \"K\", \"file\": \"k.wav\"}]}", &src,
        d);
}

static void test_file_length_sent(void **state)
{
    (void)state;
    mf_diags_t d;
    fake_header_t h = {48000, 86400LL * 48000 + 1};
    expect_error(load_sent(&h, &d), &d, "tracks[0].file", "k.wav: 86400.00002 s long, at most");
    h.frames = 86400LL * 48000;
    expect_ok(load_sent(&h, &d), &d);
    h = (fake_header_t){0, 100};
    expect_error(load_sent(&h, &d), &d, "tracks[0].file", "k.wav: 0 Hz");
    h = (fake_header_t){48000, -1};
    expect_error(load_sent(&h, &d), &d, "tracks[0].file", "gives no length");
}

static void test_sample_rates(void **state)
{
    (void)state;
    mf_diags_t d;
    text_t t = {0};
    one_track_doc(&t, "", "\"sample_rate\": 384001");
    expect_error(load(&t, &d), &d, "sample_rate", "must be <= 384000");
    one_track_doc(&t, "", "\"sample_rate\": 7999");
    expect_error(load(&t, &d), &d, "sample_rate", "must be >= 8000");
    one_track_doc(&t, "", "\"sample_rate\": 384000");
    expect_ok(load(&t, &d), &d);

    static const struct {
        const char *file;
        int ok;
    } files[] = {{"r7999", 0}, {"r8000", 1}, {"r384000", 1}, {"r384001", 0}};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        put(&t, "{\"mixfarm\": 1, \"tracks\": [{\"name\": \"T\", \"file\": \"audio/%s.wav\"}]}",
            files[i].file);
        mf_session_t *s = load(&t, &d);
        if (files[i].ok)
            expect_ok(s, &d);
        else
            expect_error(s, &d, "tracks[0].file",
                         "Hz; sample rates from 8000 to 384000 Hz are supported");
    }
}

/* The impulse response: the reverb's own limit (dsp/proc_reverb.c: 30 s),
 * checked where the file is read, naming it. */
static void test_ir_length(void **state)
{
    (void)state;
    mf_diags_t d;
    text_t t = {0};
    one_track_doc(&t, "\"inserts\": [{\"type\": \"reverb\", \"ir\": \"audio/ir30+.wav\"}]", "");
    expect_error(load(&t, &d), &d, "tracks[0].inserts[0].ir",
                 "audio/ir30+.wav: is 30.000125 s long; ir takes at most 30 s");
    one_track_doc(&t, "\"inserts\": [{\"type\": \"reverb\", \"ir\": \"audio/ir30.wav\"}]", "");
    expect_ok(load(&t, &d), &d);
}

/* ---- strings ---------------------------------------------------------- */

static void named_doc(text_t *t, const char *name, const char *comment)
{
    open_doc(t);
    put(t,
        "{\"name\": \"%s\", \"file\": \"audio/kick.wav\"}], \"name\": \"%s\", "
        "\"outputs\": [{\"format\": \"wav\", \"name\": \"%s\"}], "
        "\"metadata\": {\"title\": \"%s\", \"comment\": \"%s\"}}",
        name, name, name, name, comment);
}

static void test_names_and_text(void **state)
{
    (void)state;
    mf_diags_t d;
    text_t t = {0};
    char *name = repeat('n', MF_LIMIT_NAME_BYTES + 1), *text = repeat('c', MF_LIMIT_TEXT_BYTES + 1);
    named_doc(&t, name, text);
    mf_session_t *s = load(&t, &d);
    static const char *const paths[] = {"tracks[0].name", "name", "outputs[0].name",
                                        "metadata.title"};
    for (size_t i = 0; i < 4; i++)
        assert_true(has_error(&d, paths[i], "201 bytes long, at most 200"));
    expect_error(s, &d, "metadata.comment", "1025 bytes long, at most 1024");

    name[MF_LIMIT_NAME_BYTES] = text[MF_LIMIT_TEXT_BYTES] = '\0';
    named_doc(&t, name, text);
    expect_ok(load(&t, &d), &d);
    free(name);
    free(text);
}

static void test_path_length(void **state)
{
    (void)state;
    mf_diags_t d;
    text_t t = {0};
    char *file = repeat('p', MF_LIMIT_STRING_BYTES + 1);
    put(&t, "{\"mixfarm\": 1, \"tracks\": [{\"name\": \"T\", \"file\": \"%s\"}]}", file);
    expect_error(load(&t, &d), &d, "tracks[0].file", "4097 bytes long, at most 4096");
    /* At the limit the path is looked at (and no such file is found). */
    file[MF_LIMIT_STRING_BYTES] = '\0';
    put(&t, "{\"mixfarm\": 1, \"tracks\": [{\"name\": \"T\", \"file\": \"%s\"}]}", file);
    mf_session_t *s = load(&t, &d);
    assert_false(has_error(&d, "tracks[0].file", "bytes long"));
    expect_error(s, &d, "tracks[0].file", "pppp");
    free(file);
}

/* ---- albums ----------------------------------------------------------- */

/* An album of 0.1 s mixes, each after gap_s of silence. */
static mf_album_t *load_album(size_t tracks, double gap_s, mf_diags_t *d)
{
    text_t t = {0};
    put(&t, "{\"mixfarm\": 1, \"album\": {\"title\": \"A\"}, \"tracks\": [");
    for (size_t i = 0; i < tracks; i++)
        put(&t, "%s{\"mix\": \"audio/mix.wav\", \"gap_s\": %g}", i ? ", " : "", gap_s);
    put(&t, "]}");
    char path[512];
    snprintf(path, sizeof path, "%s/album.json", sfx_dir());
    sfx_write_file("album.json", t.p, t.n);
    free(t.p);
    mf_diags_init(d, path);
    return mf_album_load(path, d);
}

static void test_album_tracks(void **state)
{
    (void)state;
    mf_diags_t d;
    mf_album_t *a = load_album(MF_LIMIT_ALBUM_TRACKS + 1, 0, &d);
    assert_null(a);
    assert_true(has_error(&d, "tracks", "must hold 1 to 999 tracks (got 1000)"));
    mf_diags_fini(&d);
    a = load_album(MF_LIMIT_ALBUM_TRACKS, 0, &d);
    if (!a) mf_diags_print(&d);
    assert_non_null(a);
    assert_int_equal(a->n_tracks, MF_LIMIT_ALBUM_TRACKS);
    mf_album_free(&a);
    mf_diags_fini(&d);
}

/* 600.1 s a track: 144 run past a day, 143 do not. */
static void test_album_length(void **state)
{
    (void)state;
    mf_diags_t d;
    mf_album_t *a = load_album(144, 600, &d);
    assert_null(a);
    if (!has_error(&d, "tracks", "the album runs 86414.4 s with its gaps, at most 86400 s"))
        mf_diags_print(&d);
    assert_true(has_error(&d, "tracks", "the album runs 86414.4 s with its gaps, at most 86400 s"));
    mf_diags_fini(&d);
    a = load_album(143, 600, &d);
    if (!a) mf_diags_print(&d);
    assert_non_null(a);
    mf_album_free(&a);
    mf_diags_fini(&d);
}

/* Two 0.1 s mixes cross-faded: up to half of each is taken as given; more
 * is said, with what the sequencer makes of it (worker/exec_album.c). */
static void test_album_crossfade(void **state)
{
    (void)state;
    static const double xf[] = {0.05, 0.08};
    for (int i = 0; i < 2; i++) {
        char doc[512], path[512];
        snprintf(doc, sizeof doc,
                 "{\"mixfarm\": 1, \"album\": {\"title\": \"X\"}, \"tracks\": [{\"mix\": "
                 "\"audio/mix.wav\"}, {\"mix\": \"audio/mix.wav\", \"crossfade_s\": %g}]}",
                 xf[i]);
        snprintf(path, sizeof path, "%s/xf.json", sfx_dir());
        sfx_write_file("xf.json", doc, strlen(doc));
        mf_diags_t d;
        mf_diags_init(&d, path);
        mf_album_t *a = mf_album_load(path, &d);
        assert_non_null(a);
        int said = 0;
        for (size_t k = 0; k < d.count; k++)
            said |=
                d.items[k].kind == MF_DIAG_WARNING &&
                !strcmp(d.items[k].path, "tracks[1].crossfade_s") &&
                strstr(d.items[k].message, "0.08 s is more than half of each song it joins (0.1 s "
                                           "long): the cross-fade is 0.05 s");
        assert_int_equal(said, i == 1);
        mf_album_free(&a);
        mf_diags_fini(&d);
    }
}

/* A mono mix (a back catalogue's mono record) is a mono song; a stereo one
 * is one when it says so; more channels are refused. */
static void test_album_mono_mix(void **state)
{
    (void)state;
    sfx_write_wav("audio/mono.wav", 1, 44100, 4410, 0.25f);
    sfx_write_wav("audio/quad.wav", 4, 44100, 4410, 0.25f);
    static const char doc[] = "{\"mixfarm\": 1, \"album\": {\"title\": \"M\"}, \"tracks\": "
                              "[{\"mix\": \"audio/mono.wav\"}, {\"mix\": \"audio/mix.wav\"}, "
                              "{\"mix\": \"audio/mix.wav\", \"mono\": true}]}";
    char path[512];
    snprintf(path, sizeof path, "%s/mono.json", sfx_dir());
    sfx_write_file("mono.json", doc, strlen(doc));
    mf_diags_t d;
    mf_diags_init(&d, path);
    mf_album_t *a = mf_album_load(path, &d);
    if (!a) mf_diags_print(&d);
    assert_non_null(a);
    assert_int_equal(a->tracks[0].mono, 1);
    assert_int_equal(a->tracks[1].mono, 0);
    assert_int_equal(a->tracks[2].mono, 1);
    mf_album_free(&a);
    mf_diags_fini(&d);
    static const char quad[] = "{\"mixfarm\": 1, \"album\": {\"title\": \"Q\"}, \"tracks\": "
                               "[{\"mix\": \"audio/quad.wav\"}]}";
    snprintf(path, sizeof path, "%s/quad.json", sfx_dir());
    sfx_write_file("quad.json", quad, strlen(quad));
    mf_diags_init(&d, path);
    assert_null(mf_album_load(path, &d));
    assert_true(has_error(&d, "tracks[0].mix", "a mix is mono or stereo (this has 4 channels)"));
    mf_diags_fini(&d);
}

/* ---- task parameters (proto/): the same numbers ------------------------ */

static char *chan_spec_json(size_t gain_points, size_t pan_points)
{
    mf_chan_spec_t c = {.rate = 48000, .tempo_bpm = 120, .pan_law_db = -3, .sum = 1};
    mf_chan_out_t out = {0};
    c.outputs = &out;
    c.n_outputs = 1;
    mf_point_t *pts = calloc(gain_points + pan_points + 1, sizeof *pts);
    assert_non_null(pts);
    for (size_t k = 0; k < gain_points + pan_points; k++) pts[k].t = (double)(k / 2);
    c.gain_curve = (mf_curve_t){pts, gain_points};
    c.pan_curve = (mf_curve_t){pts + gain_points, pan_points};
    char *text = mf_chan_spec_to_json(&c);
    assert_non_null(text);
    free(pts);
    return text;
}

static mf_err_t parse_chan(char *text)
{
    mf_chan_spec_t c;
    const char *why = NULL;
    mf_err_t err = mf_chan_spec_from_json(text, &c, &why);
    if (err == MF_OK) mf_chan_spec_fini(&c);
    free(text);
    return err;
}

static void test_task_parameters(void **state)
{
    (void)state;
    assert_int_equal(MF_DOC_MAX, MF_LIMIT_DOC_BYTES);
    assert_int_equal(parse_chan(chan_spec_json(MF_LIMIT_AUTO_POINTS + 1, 0)), MF_ERR_INVALID);
    assert_int_equal(parse_chan(chan_spec_json(10000, MF_LIMIT_AUTO_POINTS - 10000 + 1)),
                     MF_ERR_INVALID);
    assert_int_equal(parse_chan(chan_spec_json(10000, MF_LIMIT_AUTO_POINTS - 10000)), MF_OK);

    mf_decode_spec_t dec;
    const char *why = NULL;
    static const char *const bad[] = {
        "{\"from_s\": 0, \"length_s\": -1, \"start_s\": 86401, \"rate\": 48000}",
        "{\"from_s\": 86401, \"length_s\": -1, \"start_s\": 0, \"rate\": 48000}",
        "{\"from_s\": 0, \"length_s\": 86401, \"start_s\": 0, \"rate\": 48000}",
        "{\"from_s\": 0, \"length_s\": -1, \"start_s\": 0, \"rate\": 384001}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(mf_decode_spec_from_json(bad[i], &dec, &why), MF_ERR_INVALID);
    assert_int_equal(mf_decode_spec_from_json(
                         "{\"from_s\": 86400, \"length_s\": 86400, \"start_s\": 86400, \"rate\": "
                         "384000}",
                         &dec, &why),
                     MF_OK);
}

/* The per-channel point limit exists so that a channel's task fits one
 * frame: the worst channel there can be (every point and value at full
 * precision, every insert an eq of 16 bands, every input a channel may
 * have) must. */
static void test_worst_channel_task_fits_a_frame(void **state)
{
    (void)state;
    const mf_processor_class_t *eq = mf_processor_find("eq");
    assert_non_null(eq);
    mf_chan_spec_t c = {.rate = 384000, .tempo_bpm = 120, .pan_law_db = -4.5, .sum = 1};
    mf_insert_spec_t ins[MF_LIMIT_INSERTS];
    const size_t n_values = mf_processor_value_count(eq, eq->max_bands);
    double *values = calloc(n_values, sizeof *values);
    mf_point_t *pts = calloc(MF_LIMIT_AUTO_POINTS, sizeof *pts);
    assert_non_null(values);
    assert_non_null(pts);
    for (size_t i = 0; i < n_values; i++) values[i] = -0.12345678901234567 * (double)(i + 1);
    for (size_t k = 0; k < MF_LIMIT_AUTO_POINTS; k++)
        pts[k] = (mf_point_t){86399.0 + (double)k / 16411.0, -1.2345678901234567e-5 * (double)k};
    for (size_t i = 0; i < MF_LIMIT_INSERTS; i++)
        ins[i] = (mf_insert_spec_t){.cls = eq,
                                    .values = values,
                                    .n_values = n_values,
                                    .nbands = eq->max_bands,
                                    .key = MF_TASK_MAX_INPUTS - 1,
                                    .aux = -1};
    mf_chan_out_t outs[1 + MF_LIMIT_SENDS] = {0};
    for (size_t i = 0; i < 1 + MF_LIMIT_SENDS; i++) outs[i].level_db = -12.345678901234567;
    c.inserts = ins, c.n_inserts = MF_LIMIT_INSERTS;
    c.outputs = outs, c.n_outputs = 1 + MF_LIMIT_SENDS;
    c.gain_curve = (mf_curve_t){pts, MF_LIMIT_AUTO_POINTS}; /* the channel's whole budget */
    char *text = mf_chan_spec_to_json(&c);
    assert_non_null(text);
    /* Inputs: every track and bus may output and send to one bus, and each
     * insert may add a key; a hash is 64 hex digits and its field header. */
    const size_t inputs = 2 * (MF_LIMIT_TRACKS + MF_LIMIT_BUSES) + MF_LIMIT_INSERTS;
    const size_t task = strlen(text) + inputs * (MF_HASH_HEX + 3) + 4096;
    if (task > MF_MSG_MAX) fprintf(stderr, "a channel task of %zu bytes\n", task);
    assert_true(task <= MF_MSG_MAX);
    free(text);
    free(values);
    free(pts);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_doc_size),
        cmocka_unit_test(test_doc_size_of_a_pipe),
        cmocka_unit_test(test_tracks),
        cmocka_unit_test(test_buses),
        cmocka_unit_test(test_sends),
        cmocka_unit_test(test_inserts),
        cmocka_unit_test(test_eq_bands),
        cmocka_unit_test(test_outputs),
        cmocka_unit_test(test_stems),
        cmocka_unit_test(test_points_per_lane),
        cmocka_unit_test(test_points_per_channel),
        cmocka_unit_test(test_points_total),
        cmocka_unit_test(test_lanes),
        cmocka_unit_test(test_region_end),
        cmocka_unit_test(test_file_length_sent),
        cmocka_unit_test(test_sample_rates),
        cmocka_unit_test(test_ir_length),
        cmocka_unit_test(test_names_and_text),
        cmocka_unit_test(test_path_length),
        cmocka_unit_test(test_album_tracks),
        cmocka_unit_test(test_album_length),
        cmocka_unit_test(test_album_crossfade),
        cmocka_unit_test(test_album_mono_mix),
        cmocka_unit_test(test_task_parameters),
        cmocka_unit_test(test_worst_channel_task_fits_a_frame),
    };
    return cmocka_run_group_tests_name("session_limits", tests, group_setup, group_teardown);
}
