/* Albums through mixfarm render: a nested session and mix files sequenced
 * with gaps and a cross-fade; the CUE sheet's indexes against the image's
 * audio; track files tagged and named "NN <title>"; Red Book checks for
 * target cd; album mode keeps the songs' balance, track mode levels them;
 * a nested session's convolution reverb with its IR file, and that IR
 * missing; a mono single on a stereo album ("mono"), delivered dual mono. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
#include <ebur128.h>
#include <math.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "deliver_util.h"
#include "test_audio.h"

#define CD_FRAME 588 /* samples per 1/75 s at 44.1 kHz */

static float *s_read(const char *rel, int64_t *frames, int *rate)
{
    char path[1024];
    SF_INFO info = {0};
    SNDFILE *f = sf_open(du_path(path, sizeof path, rel), SFM_READ, &info);
    if (!f) fail_msg("%s: %s", path, sf_strerror(NULL));
    assert_int_equal(info.channels, 2);
    float *x = malloc(sizeof(float) * 2 * (size_t)info.frames);
    assert_non_null(x);
    assert_int_equal(sf_readf_float(f, x, info.frames), info.frames);
    sf_close(f);
    *frames = info.frames;
    if (rate) *rate = info.samplerate;
    return x;
}

static double s_lufs(const char *rel)
{
    int64_t n;
    int rate;
    float *x = s_read(rel, &n, &rate);
    double lufs, tp;
    du_ebur128(x, n, rate, &lufs, &tp);
    free(x);
    return lufs;
}

/* INDEX lines of album.cue: idx[k][0] INDEX 00 (-1 if none), idx[k][1] INDEX 01, in samples. */
static size_t s_cue(const char *rel, int64_t idx[][2], size_t max, char *isrc1, size_t n)
{
    size_t len;
    char *text = (char *)du_read_file(rel, &len), *line, *save = NULL;
    assert_non_null(text);
    text = realloc(text, len + 1);
    text[len] = 0;
    long k = -1;
    isrc1[0] = 0;
    for (line = strtok_r(text, "\r\n", &save); line; line = strtok_r(NULL, "\r\n", &save)) {
        int mm, ss, ff, which;
        if (strstr(line, "TRACK ") && k + 1 < (long)max) idx[++k][0] = -1;
        if (k == 0 && sscanf(line, " ISRC %31s", isrc1) == 1) isrc1[n - 1] = 0;
        if (k >= 0 && sscanf(line, " INDEX %d %d:%d:%d", &which, &mm, &ss, &ff) == 4)
            idx[k][which] = ((int64_t)mm * 60 * 75 + ss * 75 + ff) * CD_FRAME;
    }
    free(text);
    return (size_t)(k + 1);
}

static int64_t s_up(int64_t x)
{
    return (x + CD_FRAME - 1) / CD_FRAME * CD_FRAME;
}

/* The quietest level over [a, b) of interleaved stereo, dBFS. */
static double s_peak_db(const float *x, int64_t a, int64_t b)
{
    double peak = 0;
    for (int64_t i = 2 * a; i < 2 * b; i++) peak = fmax(peak, fabs(x[i]));
    return 20 * log10(peak + 1e-12);
}

/* A session and two mixes: pre-gap 2 s, gap 1.5 s, a 1 s cross-fade; the
 * CUE sheet's indexes are where the tracks are in the image, on CD frames. */
static void test_sequence_and_cue(void **state)
{
    (void)state;
    int64_t len[3], img_n, idx[4][2];
    int rate;
    const char *tracks[3] = {"out-album/tracks/01 Night Drive.wav",
                             "out-album/tracks/02 Second Song.wav",
                             "out-album/tracks/03 Third.wav"};
    float *t[3];
    for (int k = 0; k < 3; k++) t[k] = s_read(tracks[k], &len[k], &rate);
    float *img = s_read("out-album/album.wav", &img_n, &rate);
    assert_int_equal(rate, 44100);
    char isrc[32];
    assert_int_equal(s_cue("out-album/album.cue", idx, 4, isrc, sizeof isrc), 3);
    assert_string_equal(isrc, "XXA0A2600001");
    int64_t i01_1 = s_up(2 * 44100), end1 = i01_1 + len[0];
    int64_t i00_2 = s_up(end1), i01_2 = i00_2 + s_up(66150), end2 = i01_2 + len[1];
    int64_t i01_3 = (end2 - 44100) / CD_FRAME * CD_FRAME;
    print_message("    cue: %lld | %lld %lld | %lld; image %lld frames\n", (long long)idx[0][1],
                  (long long)idx[1][0], (long long)idx[1][1], (long long)idx[2][1],
                  (long long)img_n);
    assert_int_equal(idx[0][0], 0);
    assert_int_equal(idx[0][1], i01_1);
    assert_int_equal(idx[1][0], i00_2);
    assert_int_equal(idx[1][1], i01_2);
    assert_int_equal(idx[2][0], -1); /* cross-faded: no gap */
    assert_int_equal(idx[2][1], i01_3);
    assert_int_equal(img_n, s_up(i01_3 + len[2]));
    /* Silence in the gaps (dither at most), the tracks where the sheet says. */
    assert_true(s_peak_db(img, 0, i01_1) < -80);
    assert_true(s_peak_db(img, end1, i01_2) < -80);
    assert_true(s_peak_db(img, i01_1, i01_1 + 4410) > -40);
    assert_true(s_peak_db(img, i01_2, i01_2 + 4410) > -40);
    /* The same audio where the sheet says (a cross-fade's overs make the
     * image go through the limiter again, so not to the bit): the residual
     * is far below the track at index 01, not a frame off. */
    for (int k = 0; k < 2; k++) {
        int64_t at = k ? i01_2 : i01_1, n = len[k] / 2;
        double res[2] = {0, 0}, sig = 0;
        for (int lag = 0; lag < 2; lag++)
            for (int64_t i = 0; i < 2 * n; i++) {
                double d = img[2 * (at + lag * CD_FRAME) + i] - t[k][i];
                res[lag] += d * d;
                if (!lag) sig += (double)t[k][i] * t[k][i];
            }
        print_message("    track %d at index 01: residual %.1f dB (a CD frame later: %.1f dB)\n",
                      k + 1, 10 * log10(res[0] / sig), 10 * log10(res[1] / sig));
        assert_true(10 * log10(res[0] / sig) < -30);
        assert_true(10 * log10(res[1] / sig) > -10);
    }
    for (int k = 0; k < 3; k++) free(t[k]);
    free(img);
}

/* Track files: tags of the album and the track, the track number. */
static void test_track_tags(void **state)
{
    (void)state;
    if (!du_have_ffmpeg()) skip();
    json_t *p = du_ffprobe("out-album/tracks/02 Second Song.flac");
    assert_non_null(p);
    assert_string_equal(du_tag(p, "title"), "Second Song");
    assert_string_equal(du_tag(p, "album"), "Demo");
    assert_string_equal(du_tag(p, "artist"), "The Examples");
    assert_string_equal(du_tag(p, "ISRC"), "XXA0A2600002");
    assert_string_equal(du_tag(p, "track"), "2");
    assert_string_equal(du_tag(p, "TRACKTOTAL"), "3");
    json_decref(p);
    json_t *qc = du_load_json("out-album/qc.json");
    json_t *img = du_file_entry(qc, "album.wav");
    assert_non_null(img);
    assert_true(json_is_true(json_object_get(img, "pass"))); /* red_book passes */
    json_decref(qc);
}

/* A CD image at 24 bits with no pre-gap and a 3 s track fails red_book. */
static void test_red_book(void **state)
{
    (void)state;
    du_write_text("bad-cd.json",
                  "{\"mixfarm\": 1, \"album\": {\"title\": \"Bad\"}, \"sample_rate\": 44100,"
                  " \"mastering\": {\"target\": \"cd\", \"mode\": \"track\"},"
                  " \"tracks\": [{\"mix\": \"short.wav\"}, {\"mix\": \"two.wav\", \"gap_s\": 2}],"
                  " \"outputs\": [{\"format\": \"wav\", \"bits\": 24}], \"cue\": true}");
    assert_int_equal(du_render("bad-cd.json", "out-bad"), 1);
    json_t *qc = du_load_json("out-bad/qc.json");
    json_t *img = du_file_entry(qc, "album.wav");
    assert_non_null(img);
    const json_t *probs = json_object_get(img, "problems");
    int red = 0;
    for (size_t i = 0; i < json_array_size(probs); i++) {
        const json_t *pr = json_array_get(probs, i);
        if (!strcmp(json_string_value(json_object_get(pr, "check")), "red_book")) {
            red++;
            print_message("    red_book: %s\n", json_string_value(json_object_get(pr, "message")));
        }
    }
    assert_int_equal(red, 3); /* 24-bit, no pre-gap, track 1 shorter than 4 s */
    json_decref(qc);
}

/* The pre-gap and the gaps an album asks for are silences on purpose: a
 * 3 s pre-gap and 3 s between two songs fail no silence check of the image
 * (the head's silence is measured, and longer than the 2 s any file may
 * have), while the image's own checks still run (its loudness, true peak). */
static void test_gaps_are_not_silence_problems(void **state)
{
    (void)state;
    du_write_text("gaps.json",
                  "{\"mixfarm\": 1, \"album\": {\"title\": \"Gaps\"}, \"sample_rate\": 44100,"
                  " \"mastering\": {\"target\": \"streaming\", \"mode\": \"album\"},"
                  " \"tracks\": [{\"mix\": \"two.wav\", \"gap_s\": 3},"
                  "  {\"mix\": \"three.wav\", \"gap_s\": 3}],"
                  " \"outputs\": [{\"format\": \"wav\", \"bits\": 16}], \"cue\": true}");
    assert_int_equal(du_render("gaps.json", "out-gaps"), 0);
    json_t *qc = du_load_json("out-gaps/qc.json");
    json_t *img = du_file_entry(qc, "album.wav");
    assert_non_null(img);
    assert_true(json_number_value(json_object_get(img, "head_silence_s")) > 2.9);
    assert_true(json_array_size(json_object_get(img, "silence_gaps")) >= 1);
    assert_int_equal(json_array_size(json_object_get(img, "problems")), 0);
    assert_true(json_is_true(json_object_get(qc, "pass")));
    json_decref(qc);
}

/* A compilation: a stereo album with a mono single in it (a stereo
 * transfer, "mono") and a mono mix file (refused until session 31). The
 * mono songs are mastered as mono and delivered dual mono, and pass their
 * QC; the stereo one stays stereo. */
static void test_mono_song(void **state)
{
    (void)state;
    du_write_music_at("mono-mix.wav", 44100, 1, 3.0, 0.4, 37);
    du_write_text(
        "mono-song.json",
        "{\"mixfarm\": 1, \"album\": {\"title\": \"Hits\"}, \"sample_rate\": 44100,"
        " \"mastering\": {\"target\": \"streaming\", \"mode\": \"album\"},"
        " \"tracks\": [{\"mix\": \"two.wav\", \"metadata\": {\"title\": \"Stereo\"}},"
        "  {\"mix\": \"three.wav\", \"mono\": true, \"gap_s\": 1,"
        "   \"metadata\": {\"title\": \"Single\"}},"
        "  {\"mix\": \"mono-mix.wav\", \"gap_s\": 1, \"metadata\": {\"title\": \"B-side\"}}],"
        " \"outputs\": [{\"format\": \"wav\", \"bits\": 16}], \"cue\": true}");
    assert_int_equal(du_render("mono-song.json", "out-mono-song"), 0);
    du_assert_dual_mono("out-mono-song/tracks/02 Single.wav");
    du_assert_dual_mono("out-mono-song/tracks/03 B-side.wav");
    json_t *qc = du_load_json("out-mono-song/qc.json");
    assert_true(json_is_true(json_object_get(qc, "pass")));
    const json_t *st = du_file_entry(qc, "tracks/01 Stereo.wav");
    assert_non_null(st);
    assert_true(json_number_value(json_object_get(st, "side_peak_dbfs")) > -60.0);
    json_decref(qc);

    /* The revision after feedback: a longer gap before the B-side. Every
     * song's files are as they were; the image and its sheet changed, and
     * diff says by what (it said "0 changed, 1 bit-identical: track " of
     * two renders of an album). */
    du_write_text(
        "mono-song-2.json",
        "{\"mixfarm\": 1, \"album\": {\"title\": \"Hits\"}, \"sample_rate\": 44100,"
        " \"mastering\": {\"target\": \"streaming\", \"mode\": \"album\"},"
        " \"tracks\": [{\"mix\": \"two.wav\", \"metadata\": {\"title\": \"Stereo\"}},"
        "  {\"mix\": \"three.wav\", \"mono\": true, \"gap_s\": 1,"
        "   \"metadata\": {\"title\": \"Single\"}},"
        "  {\"mix\": \"mono-mix.wav\", \"gap_s\": 2.5, \"metadata\": {\"title\": \"B-side\"}}],"
        " \"outputs\": [{\"format\": \"wav\", \"bits\": 16}], \"cue\": true}");
    assert_int_equal(du_render("mono-song-2.json", "out-mono-song-2"), 0);
    json_t *diff = du_diff("out-mono-song", "out-mono-song-2");
    const json_t *changed = json_object_get(diff, "changed");
    assert_int_equal(json_array_size(json_object_get(diff, "unchanged")), 3); /* the songs */
    assert_int_equal(json_array_size(changed), 2);                            /* image, sheet */
    for (size_t i = 0; i < 2; i++) {
        const json_t *c = json_array_get(changed, i);
        assert_string_equal(json_string_value(json_object_get(c, "kind")), "deliverable");
        assert_non_null(json_object_get(json_object_get(c, "params"), "tracks[2].gap_s"));
    }
    json_decref(diff);
}

static void s_mode_album(const char *mode, const char *out)
{
    char doc[1024], rel[256];
    snprintf(doc, sizeof doc,
             "{\"mixfarm\": 1, \"album\": {\"title\": \"Modes\"}, \"sample_rate\": 44100,"
             " \"mastering\": {\"target\": \"streaming\", \"mode\": \"%s\"},"
             " \"tracks\": [{\"mix\": \"two.wav\"}, {\"mix\": \"quiet.wav\", \"gap_s\": 1}],"
             " \"outputs\": [{\"format\": \"wav\", \"bits\": 24}, {\"format\": \"flac\"}]}",
             mode);
    snprintf(rel, sizeof rel, "%s.json", mode);
    du_write_text(rel, doc);
    assert_int_equal(du_render(rel, out), 0);
}

/* qc.json's album summary against libebur128 on the track files: each
 * song once (its first format), the spread, the loudest; and the section
 * in qc.html, after the table of files and before each file's. */
static void s_check_summary(const char *out, const char *mode, double l1, double l2)
{
    char rel[256];
    snprintf(rel, sizeof rel, "%s/qc.json", out);
    json_t *qc = du_load_json(rel);
    const json_t *al = json_object_get(qc, "album"), *songs = json_object_get(al, "songs");
    assert_string_equal(json_string_value(json_object_get(al, "mode")), mode);
    assert_int_equal(json_array_size(songs), 2);
    static const char *const paths[] = {"tracks/01 two.wav", "tracks/02 quiet.wav"};
    const double want[] = {l1, l2}, top = fmax(l1, l2);
    for (size_t i = 0; i < 2; i++) {
        const json_t *s = json_array_get(songs, i);
        assert_int_equal(json_integer_value(json_object_get(s, "song")), (json_int_t)i + 1);
        assert_string_equal(json_string_value(json_object_get(s, "path")), paths[i]);
        assert_true(fabs(json_number_value(json_object_get(s, "integrated_lufs")) - want[i]) <=
                    0.1);
        assert_true(fabs(json_number_value(json_object_get(s, "from_loudest_lu")) -
                         (want[i] - top)) <= 0.1);
    }
    assert_true(
        fabs(json_number_value(json_object_get(al, "loudness_spread_lu")) - fabs(l1 - l2)) <= 0.1);
    assert_string_equal(json_string_value(json_object_get(al, "loudest")), paths[l1 >= l2 ? 0 : 1]);
    json_decref(qc);
    snprintf(rel, sizeof rel, "%s/qc.html", out);
    size_t len;
    char *page = (char *)du_read_file(rel, &len);
    assert_non_null(page = realloc(page, len + 1)); /* a string: NUL after it */
    page[len] = 0;
    const char *sec = strstr(page, "<h2 id=\"album\">"), *first = strstr(page, "<h2 id=\"f0\">");
    assert_true(sec && first && sec < first);
    free(page);
}

/* Album mode: one gain, the loudest song at the target and the quiet one
 * as much quieter as it was; track mode: both at the target. */
static void test_album_vs_track_mode(void **state)
{
    (void)state;
    double raw = s_lufs("two.wav") - s_lufs("quiet.wav");
    s_mode_album("album", "out-am");
    s_mode_album("track", "out-tm");
    double a1 = s_lufs("out-am/tracks/01 two.wav"), a2 = s_lufs("out-am/tracks/02 quiet.wav");
    double t1 = s_lufs("out-tm/tracks/01 two.wav"), t2 = s_lufs("out-tm/tracks/02 quiet.wav");
    print_message("    raw difference %.2f LU; album mode %.2f / %.2f; track mode %.2f / %.2f\n",
                  raw, a1, a2, t1, t2);
    assert_true(raw > 8);
    assert_true(fabs(a1 - -14) <= 0.5);
    assert_true(fabs((a1 - a2) - raw) <= 1.0);
    assert_true(fabs(t1 - -14) <= 0.5 && fabs(t2 - -14) <= 0.5);
    s_check_summary("out-am", "album", a1, a2);
    s_check_summary("out-tm", "track", t1, t2);
}

/* An album with problems is refused as a session is: exit 2, nothing written. */
static void test_invalid_album(void **state)
{
    (void)state;
    du_write_music_at("mono.wav", 44100, 1, 4.0, 0.4, 23);
    du_write_text("bad.json", "{\"mixfarm\": 1, \"album\": {\"title\": \"Bad\", \"upc\": \"123\"},"
                              " \"mastering\": {\"target\": \"streaming\", \"mode\": \"loud\"},"
                              " \"tracks\": [{\"mix\": \"two.wav\", \"crossfade_s\": 1},"
                              "  {\"mix\": \"mono.wav\", \"gap_s\": 1, \"crossfade_s\": 1},"
                              "  {\"session\": \"nowhere/session.json\"}, {\"mix\": \"two.wav\","
                              "   \"session\": \"song/session.json\"}]}");
    assert_int_equal(du_render("bad.json", "out-invalid"), 2);
    char path[1024];
    FILE *f = fopen(du_path(path, sizeof path, "out-invalid/manifest.json"), "r");
    assert_null(f);
}

#define IR_DELAY 1234 /* samples at 48 kHz */
#define IR_GAIN 0.5

/* A nested session of one mono track (panned: QC refuses mono delivered as
 * stereo), dry or through a convolution reverb (mix 1) with the impulse
 * response ir. */
static void s_verb_session(const char *name, const char *title, const char *ir)
{
    char doc[1024], insert[256] = "";
    if (ir)
        snprintf(insert, sizeof insert,
                 ", \"inserts\": [{\"type\": \"reverb\", \"ir\": \"%s\", \"mix\": 1}]", ir);
    snprintf(doc, sizeof doc,
             "{\"mixfarm\": 1, \"name\": \"%s\", \"sample_rate\": 48000,"
             " \"tracks\": [{\"name\": \"Beat\", \"file\": \"beat.wav\", \"pan\": -0.3%s}],"
             " \"metadata\": {\"title\": \"%s\"}}",
             title, insert, title);
    du_write_text(name, doc);
}

/* A nested session whose track runs a convolution reverb with an IR file
 * next to it (uploaded keyed "verb/irs/impulse.wav"): the IR is a single
 * impulse of IR_GAIN at IR_DELAY, so with mix 1 the track is the same
 * session's dry track delayed by IR_DELAY at IR_GAIN, to float rounding.
 * No mastering: each track goes through the limiter alone, well under
 * its ceiling, so both stay as mixed. */
static void test_nested_session_ir(void **state)
{
    (void)state;
    char dir[1024];
    mkdir(du_path(dir, sizeof dir, "verb"), 0755);
    mkdir(du_path(dir, sizeof dir, "verb/irs"), 0755);
    du_write_music("verb/beat.wav", 1, 3.0, 0.2, 29);
    static float h[9600]; /* 0.2 s */
    h[IR_DELAY] = (float)IR_GAIN;
    test_audio_write(du_path(dir, sizeof dir, "verb/irs/impulse.wav"), 1, 48000,
                     SF_FORMAT_WAV | SF_FORMAT_FLOAT, h, 9600);
    s_verb_session("verb/dry.json", "Dry", NULL);
    s_verb_session("verb/wet.json", "Wet", "irs/impulse.wav");
    du_write_text("verb-album.json",
                  "{\"mixfarm\": 1, \"album\": {\"title\": \"Verb\"}, \"sample_rate\": 48000,"
                  " \"tracks\": [{\"session\": \"verb/dry.json\"},"
                  "  {\"session\": \"verb/wet.json\", \"gap_s\": 1}],"
                  " \"outputs\": [{\"format\": \"wav\", \"bits\": 32}]}");
    int rc = du_render_err("verb-album.json", "out-verb", "verb.err");
    if (rc != 0) {
        size_t n;
        char *err = (char *)du_read_file("verb.err", &n);
        fail_msg("render: exit %d: %.*s", rc, err ? (int)n : 0, err ? err : "");
    }
    int64_t nd, nw;
    float *dry = s_read("out-verb/tracks/01 Dry.wav", &nd, NULL);
    float *wet = s_read("out-verb/tracks/02 Wet.wav", &nw, NULL);
    double peak = 0, err = 0, early = 0;
    for (int64_t i = 0; i < 2 * nd; i++) peak = fmax(peak, fabs(dry[i]));
    for (int64_t i = 0; i < 2 * IR_DELAY; i++) early = fmax(early, fabs(wet[i]));
    int64_t n = nd < nw - IR_DELAY ? nd : nw - IR_DELAY;
    for (int64_t i = 0; i < 2 * n; i++)
        err = fmax(err, fabs(wet[2 * IR_DELAY + i] - IR_GAIN * dry[i]));
    print_message("    dry %lld frames, peak %.3f; wet %lld frames: before the impulse %.3g, "
                  "then against the dry track delayed: relative error %.3g\n",
                  (long long)nd, peak, (long long)nw, early, err / peak);
    assert_true(peak > 0.05);
    assert_int_equal(nw, nd + 9600); /* the tail: the IR's length */
    assert_true(early < 1e-6);
    assert_true(err / peak < 1e-5);
    free(dry);
    free(wet);
}

/* A nested session's IR missing: refused like any missing file (exit 2),
 * the message naming the album, the session, the key and the file. */
static void test_nested_session_ir_missing(void **state)
{
    (void)state;
    char dir[1024];
    mkdir(du_path(dir, sizeof dir, "lost"), 0755);
    du_write_music("lost/beat.wav", 1, 1.0, 0.2, 31);
    s_verb_session("lost/wet.json", "Lost", "irs/gone.wav");
    du_write_text("lost-album.json",
                  "{\"mixfarm\": 1, \"album\": {\"title\": \"Lost\"}, \"sample_rate\": 48000,"
                  " \"tracks\": [{\"session\": \"lost/wet.json\"}]}");
    assert_int_equal(du_render_err("lost-album.json", "out-lost", "lost.err"), 2);
    size_t n;
    char *err = (char *)du_read_file("lost.err", &n);
    assert_non_null(err);
    err = realloc(err, n + 1);
    err[n] = 0;
    print_message("    %s", err);
    assert_non_null(strstr(err, "lost-album.json"));
    assert_non_null(strstr(err, "lost/wet.json"));
    assert_non_null(strstr(err, "tracks[0].inserts[0].ir"));
    assert_non_null(strstr(err, "irs/gone.wav"));
    free(err);
    char path[1024];
    FILE *f = fopen(du_path(path, sizeof path, "out-lost/manifest.json"), "r");
    assert_null(f);
}

static int setup(void **state)
{
    (void)state;
    if (du_setup()) return -1;
    char dir[1024];
    mkdir(du_path(dir, sizeof dir, "song"), 0755);
    du_write_music("song/beat.wav", 1, 5.0, 0.5, 1); /* 48 kHz: resampled to the album's */
    du_write_music("song/pad.wav", 2, 5.0, 0.3, 7);
    du_write_music_at("two.wav", 44100, 2, 5.0, 0.4, 11);
    du_write_music_at("three.wav", 44100, 2, 6.0, 0.35, 13);
    du_write_music_at("short.wav", 44100, 2, 3.0, 0.4, 17);
    du_write_music_at("quiet.wav", 44100, 2, 4.0, 0.1, 19);
    du_write_png("cover.png");
    du_write_text("song/session.json",
                  "{\"mixfarm\": 1, \"name\": \"song\","
                  " \"tracks\": [{\"name\": \"Beat\", \"file\": \"beat.wav\", \"pan\": -0.3},"
                  "  {\"name\": \"Pad\", \"file\": \"pad.wav\", \"gain_db\": -6}],"
                  " \"mastering\": {\"target\": \"apple\"},"
                  " \"metadata\": {\"title\": \"Night Drive\", \"isrc\": \"XXA0A2600001\"}}");
    du_write_text(
        "album.json",
        "{\"mixfarm\": 1,"
        " \"album\": {\"title\": \"Demo\", \"artist\": \"The Examples\", \"year\": 2026,"
        "  \"upc\": \"012345678905\", \"cover\": \"cover.png\"},"
        " \"sample_rate\": 44100,"
        " \"mastering\": {\"target\": \"cd\", \"mode\": \"album\"},"
        " \"tracks\": [{\"session\": \"song/session.json\", \"gap_s\": 2.0},"
        "  {\"mix\": \"two.wav\", \"gap_s\": 1.5,"
        "   \"metadata\": {\"title\": \"Second Song\", \"isrc\": \"XXA0A2600002\"}},"
        "  {\"mix\": \"three.wav\", \"crossfade_s\": 1.0, \"metadata\": {\"title\": \"Third\"}}],"
        " \"outputs\": [{\"format\": \"wav\", \"bits\": 16}, {\"format\": \"flac\", \"bits\": 16}],"
        " \"cue\": true}");
    return du_render("album.json", "out-album") == 0 ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    return du_teardown();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sequence_and_cue),
        cmocka_unit_test(test_track_tags),
        cmocka_unit_test(test_red_book),
        cmocka_unit_test(test_gaps_are_not_silence_problems),
        cmocka_unit_test(test_mono_song),
        cmocka_unit_test(test_album_vs_track_mode),
        cmocka_unit_test(test_invalid_album),
        cmocka_unit_test(test_nested_session_ir),
        cmocka_unit_test(test_nested_session_ir_missing),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
