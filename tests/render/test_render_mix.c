/* End to end through the mixfarm binary: the mix's levels against levels
 * computed by hand (render_case.h) - pan laws, mute and solo, buses and
 * sends, balance, polarity, gain automation, resampling, placement. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <sndfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include "render_case.h"

/* ---- (a) pan laws on a mono source ----------------------------------------------- */

static void pan_case(char *dir, size_t n, const char *name)
{
    case_dir(dir, n, name);
    write_wav(dir, "tone.wav", 1, RATE, FRAMES, gen_tone);
}

/* -3 dB (default): each pan position as a track stem, their sum as the mix. */
static void test_pan_law3_positions(void **state)
{
    (void)state;
    char dir[1024], out[1024];
    pan_case(dir, sizeof dir, "pan3");
    write_text(dir, "s.json",
               "{\"mixfarm\": 1, \"tracks\": ["
               " {\"name\": \"Left\", \"file\": \"tone.wav\", \"pan\": -1},"
               " {\"name\": \"Centre\", \"file\": \"tone.wav\", \"pan\": 0},"
               " {\"name\": \"Half\", \"file\": \"tone.wav\", \"pan\": 0.5}],"
               " \"stems\": [\"Left\", \"Centre\", \"Half\"]}");
    render_ok(dir, "s.json", "out", "2");
    path_join(out, sizeof out, dir, "out");
    const double c = M_SQRT1_2, hl = cos(3 * M_PI / 8), hr = sin(3 * M_PI / 8);
    expect_levels(out, "stems/Left.wav", 0.0, -INFINITY);
    expect_levels(out, "stems/Centre.wav", -3.0103, -3.0103);
    expect_levels(out, "stems/Half.wav", db(hl), db(hr)); /* -8.3432, -0.6877 */
    expect_levels(out, "mix.wav", db(1 + c + hl), db(c + hr));
}

/* Hard right: the left side silent (exactly), the right at 0 dB. */
static void test_pan_law3_hard_right(void **state)
{
    (void)state;
    char dir[1024], out[1024];
    pan_case(dir, sizeof dir, "pan3r");
    write_text(dir, "s.json",
               "{\"mixfarm\": 1, \"tracks\": [{\"name\": \"Right\", \"file\": \"tone.wav\","
               " \"pan\": 1}]}");
    render_ok(dir, "s.json", "out", "2");
    path_join(out, sizeof out, dir, "out");
    expect_levels(out, "mix.wav", -INFINITY, 0.0);
}

/* A single centred track: the mix itself at -3.01 dB each side. */
static void test_pan_centre_mix(void **state)
{
    (void)state;
    char dir[1024], out[1024];
    pan_case(dir, sizeof dir, "panc");
    write_text(dir, "s.json",
               "{\"mixfarm\": 1, \"tracks\": [{\"name\": \"T\", \"file\": \"tone.wav\"}]}");
    render_ok(dir, "s.json", "out", "1");
    path_join(out, sizeof out, dir, "out");
    expect_levels(out, "mix.wav", -3.0103, -3.0103);
}

/* -6 dB: linear, centre 0.5 each side; pan 0.5 is 0.25 / 0.75. */
static void test_pan_law6(void **state)
{
    (void)state;
    char dir[1024], out[1024];
    pan_case(dir, sizeof dir, "pan6");
    write_text(dir, "s.json",
               "{\"mixfarm\": 1, \"pan_law_db\": -6, \"tracks\": ["
               " {\"name\": \"Left\", \"file\": \"tone.wav\", \"pan\": -1},"
               " {\"name\": \"Centre\", \"file\": \"tone.wav\"},"
               " {\"name\": \"Half\", \"file\": \"tone.wav\", \"pan\": 0.5}],"
               " \"stems\": [\"Left\", \"Centre\", \"Half\"]}");
    render_ok(dir, "s.json", "out", "2");
    path_join(out, sizeof out, dir, "out");
    expect_levels(out, "stems/Left.wav", 0.0, -INFINITY);
    expect_levels(out, "stems/Centre.wav", db(0.5), db(0.5)); /* -6.0206 */
    expect_levels(out, "stems/Half.wav", db(0.25), db(0.75));
}

/* -4.5 dB: centre 10^(-4.5/20) = 0.59566 each side; extremes 0 dB. */
static void test_pan_law45(void **state)
{
    (void)state;
    char dir[1024], out[1024];
    pan_case(dir, sizeof dir, "pan45");
    write_text(dir, "s.json",
               "{\"mixfarm\": 1, \"pan_law_db\": -4.5, \"tracks\": ["
               " {\"name\": \"Centre\", \"file\": \"tone.wav\"},"
               " {\"name\": \"Right\", \"file\": \"tone.wav\", \"pan\": 1}],"
               " \"stems\": [\"Centre\", \"Right\"]}");
    render_ok(dir, "s.json", "out", "2");
    path_join(out, sizeof out, dir, "out");
    expect_levels(out, "stems/Centre.wav", -4.5, -4.5);
    expect_levels(out, "stems/Right.wav", -INFINITY, 0.0);
}

/* ---- (b) mute, (c) solo ------------------------------------------------------------- */

static void test_mute(void **state)
{
    (void)state;
    char dir[1024], out[1024];
    case_dir(dir, sizeof dir, "mute");
    write_wav(dir, "tone.wav", 1, RATE, FRAMES, gen_tone);
    /* The muted copy would double the level (+6 dB) and feed FX if heard. */
    write_text(dir, "s.json",
               "{\"mixfarm\": 1, \"tracks\": ["
               " {\"name\": \"On\", \"file\": \"tone.wav\"},"
               " {\"name\": \"Off\", \"file\": \"tone.wav\", \"mute\": true,"
               "  \"sends\": [{\"bus\": \"FX\", \"level_db\": 0, \"pre_fader\": true}]}],"
               " \"buses\": [{\"name\": \"FX\"}]}");
    render_ok(dir, "s.json", "out", "2");
    path_join(out, sizeof out, dir, "out");
    expect_levels(out, "mix.wav", -3.0103, -3.0103);
    expect_levels(out, "stems/FX.wav", -INFINITY, -INFINITY);
}

static void test_solo(void **state)
{
    (void)state;
    char dir[1024], out[1024];
    case_dir(dir, sizeof dir, "solo");
    write_wav(dir, "tone.wav", 1, RATE, FRAMES, gen_tone);
    write_text(dir, "s.json",
               "{\"mixfarm\": 1, \"tracks\": ["
               " {\"name\": \"Other\", \"file\": \"tone.wav\", \"pan\": 1,"
               "  \"sends\": [{\"bus\": \"FX\", \"level_db\": 0}]},"
               " {\"name\": \"Star\", \"file\": \"tone.wav\", \"solo\": true, \"pan\": -1,"
               "  \"gain_db\": -6, \"output\": \"Grp\"},"
               " {\"name\": \"Third\", \"file\": \"tone.wav\", \"output\": \"FX\"}],"
               " \"buses\": [{\"name\": \"FX\"}, {\"name\": \"Grp\"}]}");
    render_ok(dir, "s.json", "out", "2");
    path_join(out, sizeof out, dir, "out");
    /* Only Star (hard left, -6 dB) is heard, through Grp. */
    expect_levels(out, "mix.wav", -6.0, -INFINITY);
    expect_levels(out, "stems/Grp.wav", -6.0, -INFINITY);
    expect_levels(out, "stems/FX.wav", -INFINITY, -INFINITY);
}

/* ---- (d) buses and sends ----------------------------------------------------------- */

static void test_bus_and_sends(void **state)
{
    (void)state;
    char dir[1024], out[1024];
    case_dir(dir, sizeof dir, "bus");
    write_wav(dir, "tone.wav", 1, RATE, FRAMES, gen_tone);
    write_text(dir, "s.json",
               "{\"mixfarm\": 1, \"tracks\": ["
               " {\"name\": \"T1\", \"file\": \"tone.wav\", \"gain_db\": -4, \"output\": \"Grp\","
               "  \"sends\": [{\"bus\": \"Post\", \"level_db\": -10, \"pre_fader\": false}]},"
               " {\"name\": \"T2\", \"file\": \"tone.wav\", \"gain_db\": -12,"
               "  \"sends\": [{\"bus\": \"Pre\", \"level_db\": -10, \"pre_fader\": true}]}],"
               " \"buses\": [{\"name\": \"Grp\", \"gain_db\": -6},"
               "             {\"name\": \"Post\"}, {\"name\": \"Pre\"}],"
               " \"stems\": [\"Grp\", \"Post\", \"Pre\", \"T2\"]}");
    render_ok(dir, "s.json", "out", "2");
    path_join(out, sizeof out, dir, "out");
    const double pan = -3.0103;
    expect_levels(out, "stems/Grp.wav", pan - 4 - 6, pan - 4 - 6);    /* -13.0103 */
    expect_levels(out, "stems/Post.wav", pan - 4 - 10, pan - 4 - 10); /* -17.0103 */
    expect_levels(out, "stems/Pre.wav", pan - 10, pan - 10); /* the -12 fader is after it */
    expect_levels(out, "stems/T2.wav", pan - 12, pan - 12);
    /* Everything is the same tone in phase: the mix is the sum of amplitudes. */
    double sum = pow(10, (pan - 10) / 20) + pow(10, (pan - 14) / 20) + pow(10, (pan - 10) / 20) +
                 pow(10, (pan - 12) / 20);
    expect_levels(out, "mix.wav", db(sum), db(sum));
}

/* ---- (e) a stereo source: pan is balance ----------------------------------------------- */

/* Nine tracks into one bus go through partial sums (coordinator/
 * plan_sums.c): the bus is still the sum of their amplitudes, each fader
 * and pan its own. */
/* An unpanned strip (its pan, fader and send levels applied by the buses
 * that sum it, mf_plan.h) gives the bits of the same strip panning itself:
 * a pan lane holding the track's own pan keeps it on the strip's path.
 * A mono and a stereo track, post- and pre-fader sends, a pan law. */
static void render_sends_case(const char *dir, const char *name, int lanes)
{
    char json[2048];
    snprintf(json, sizeof json,
             "{\"mixfarm\": 1, \"pan_law_db\": -4.5, \"tracks\": ["
             " {\"name\": \"M\", \"file\": \"tone.wav\", \"gain_db\": -4.3, \"pan\": 0.37,"
             "  \"output\": \"Grp\", \"automation\": {%s},"
             "  \"sends\": [{\"bus\": \"Post\", \"level_db\": -7.1, \"pre_fader\": false},"
             "             {\"bus\": \"Pre\", \"level_db\": -2.2, \"pre_fader\": true}]},"
             " {\"name\": \"S\", \"file\": \"lr.wav\", \"gain_db\": 1.7, \"pan\": -0.61,"
             "  \"automation\": {%s},"
             "  \"sends\": [{\"bus\": \"Pre\", \"level_db\": -3.3, \"pre_fader\": true}]}],"
             " \"buses\": [{\"name\": \"Grp\"}, {\"name\": \"Post\"}, {\"name\": \"Pre\"}]}",
             lanes ? "\"pan\": [[0, 0.37], [100, 0.37]]" : "",
             lanes ? "\"pan\": [[0, -0.61], [100, -0.61]]" : "");
    char file[64];
    snprintf(file, sizeof file, "%s.json", name);
    write_text(dir, file, json);
    render_ok(dir, file, name, "2");
}

static void test_unpanned_same_bits(void **state)
{
    (void)state;
    char dir[1024];
    case_dir(dir, sizeof dir, "unpanned");
    write_wav(dir, "tone.wav", 1, RATE, FRAMES, gen_noise);
    write_wav(dir, "lr.wav", 2, RATE, FRAMES, gen_noise);
    render_sends_case(dir, "plain", 0);
    render_sends_case(dir, "lanes", 1);
    const char *files[] = {"mix.wav", "stems/Grp.wav", "stems/Post.wav", "stems/Pre.wav"};
    for (size_t f = 0; f < sizeof files / sizeof *files; f++) {
        char p[2048], q[2048];
        snprintf(p, sizeof p, "%s/plain/%s", dir, files[f]);
        snprintf(q, sizeof q, "%s/lanes/%s", dir, files[f]);
        size_t n1, n2;
        unsigned char *a = test_read_bytes(p, &n1), *b = test_read_bytes(q, &n2);
        assert_true(n1 > 44 + 4 * 1000);
        if (n1 != n2 || memcmp(a, b, n1) != 0)
            fail_msg("%s: the unpanned strips differ from the strips panning themselves", files[f]);
        free(a), free(b);
    }
    /* The plain strips were planned unpanned (one output each), the
     * others panned themselves (one per send too). */
    const char *cases[] = {"plain", "lanes"};
    for (int k = 0; k < 2; k++) {
        char rj[2048];
        snprintf(rj, sizeof rj, "%s/%s/render.json", dir, cases[k]);
        json_error_t e;
        json_t *r = json_load_file(rj, 0, &e), *t;
        size_t i, outs[2] = {0};
        json_array_foreach(json_object_get(r, "tasks"), i, t)
        {
            const char *label = json_string_value(json_object_get(t, "label"));
            const size_t n = json_array_size(json_object_get(t, "outputs"));
            if (label && !strcmp(label, "strip M")) outs[0] = n;
            if (label && !strcmp(label, "strip S")) outs[1] = n;
        }
        json_decref(r);
        assert_int_equal(outs[0], k ? 3 : 1);
        assert_int_equal(outs[1], k ? 2 : 1);
    }
}

static void test_partial_sums(void **state)
{
    (void)state;
    char dir[1024], out[1024], json[4096];
    case_dir(dir, sizeof dir, "sums");
    write_wav(dir, "tone.wav", 1, RATE, FRAMES, gen_tone);
    size_t n = (size_t)snprintf(json, sizeof json, "{\"mixfarm\": 1, \"tracks\": [");
    double want = 0;
    for (int i = 0; i < 9; i++) {
        n += (size_t)snprintf(json + n, sizeof json - n,
                              "%s{\"name\": \"T%d\", \"file\": \"tone.wav\", \"gain_db\": %d,"
                              " \"output\": \"Grp\"}",
                              i ? ", " : "", i, -i);
        want += pow(10, (-3.0103 - i) / 20);
    }
    snprintf(json + n, sizeof json - n,
             "], \"buses\": [{\"name\": \"Grp\", \"gain_db\": -12}], \"stems\": [\"Grp\"]}");
    write_text(dir, "s.json", json);
    render_ok(dir, "s.json", "out", "2");
    path_join(out, sizeof out, dir, "out");
    expect_levels(out, "stems/Grp.wav", db(want) - 12, db(want) - 12);
}

static void test_stereo_balance(void **state)
{
    (void)state;
    char dir[1024], out[1024];
    case_dir(dir, sizeof dir, "balance");
    write_wav(dir, "st.wav", 2, RATE, FRAMES, gen_tone_lr);
    write_text(dir, "s.json",
               "{\"mixfarm\": 1, \"tracks\": ["
               " {\"name\": \"Mid\", \"file\": \"st.wav\"},"
               " {\"name\": \"Right\", \"file\": \"st.wav\", \"pan\": 0.5},"
               " {\"name\": \"Left\", \"file\": \"st.wav\", \"pan\": -0.25}],"
               " \"stems\": [\"Mid\", \"Right\", \"Left\"]}");
    render_ok(dir, "s.json", "out", "2");
    path_join(out, sizeof out, dir, "out");
    const double r0 = db(0.5);                    /* the source's right channel, -6.0206 dB */
    expect_levels(out, "stems/Mid.wav", 0.0, r0); /* no pan law on stereo */
    expect_levels(out, "stems/Right.wav", db(0.5), r0);
    expect_levels(out, "stems/Left.wav", 0.0, r0 + db(0.75));
}

/* ---- (f) polarity ---------------------------------------------------------------------- */

static void test_invert_cancels(void **state)
{
    (void)state;
    char dir[1024], out[1024];
    case_dir(dir, sizeof dir, "invert");
    write_wav(dir, "tone.wav", 1, RATE, FRAMES, gen_tone);
    write_text(dir, "s.json",
               "{\"mixfarm\": 1, \"tracks\": ["
               " {\"name\": \"A\", \"file\": \"tone.wav\", \"pan\": 0.2},"
               " {\"name\": \"B\", \"file\": \"tone.wav\", \"pan\": 0.2, \"invert\": true}],"
               " \"stems\": [\"A\", \"B\"]}");
    render_ok(dir, "s.json", "out", "2");
    path_join(out, sizeof out, dir, "out");
    wav_t m = read_wav(out, "mix.wav"), a = read_wav(out, "stems/A.wav"),
          b = read_wav(out, "stems/B.wav");
    assert_int_equal(m.frames, FRAMES);
    assert_true(peak(&m, 0) == 0.0 && peak(&m, 1) == 0.0);
    assert_true(peak(&a, 0) > 0.05);
    for (long i = 0; i < 2 * a.frames; i++)
        if (b.x[i] != -a.x[i]) fail_msg("sample %ld: B %g is not -A %g", i, b.x[i], a.x[i]);
    wav_free(&m);
    wav_free(&a);
    wav_free(&b);
}

/* ---- (g) gain automation ------------------------------------------------------------- */

static void test_gain_automation(void **state)
{
    (void)state;
    char dir[1024], out[1024];
    case_dir(dir, sizeof dir, "auto");
    write_wav(dir, "tone.wav", 1, RATE, FRAMES, gen_tone);
    write_text(dir, "s.json",
               "{\"mixfarm\": 1, \"tracks\": [{\"name\": \"T\", \"file\": \"tone.wav\","
               " \"automation\": {\"gain_db\": [[0, \"-inf\"], [1, 0]]}}]}");
    render_ok(dir, "s.json", "out", "2");
    path_join(out, sizeof out, dir, "out");
    wav_t w = read_wav(out, "mix.wav");
    /* Held at 0 dB after 1 s: the level at 2 s is the centred tone's. */
    double at2 = rms_db(&w, 0, RATE * 3 / 2, RATE * 5 / 2) - db(AMP / M_SQRT2);
    print_message("    level at 2 s: %+.4f dB (want -3.0103)\n", at2);
    assert_near(at2, -3.0103, TOL_DB);
    assert_near(rms_db(&w, 1, RATE * 3 / 2, RATE * 5 / 2) - db(AMP / M_SQRT2), -3.0103, TOL_DB);
    /* Silent at the start, -72 dB halfway (linear in dB from the -144 dB
     * floor), rising all along. */
    assert_true(w.x[0] == 0.0f && w.x[1] == 0.0f);
    double at05 = rms_db(&w, 0, RATE / 2 - 480, RATE / 2 + 480) - db(AMP / M_SQRT2);
    print_message("    level at 0.5 s: %+.4f dB (want about -75.0)\n", at05);
    assert_near(at05, -72.0 - 3.0103 + 0.08, 0.3);
    double prev = -INFINITY;
    for (int k = 0; k < 20; k++) { /* 50 ms windows across the fade */
        double l = rms_db(&w, 0, k * 2400 + 1, (k + 1) * 2400);
        assert_true(l > prev);
        prev = l;
    }
    wav_free(&w);
}

/* ---- (h) resampling ------------------------------------------------------------------- */

static void test_resampled_track(void **state)
{
    (void)state;
    char dir[1024], out[1024];
    case_dir(dir, sizeof dir, "resample");
    write_wav(dir, "tone44.wav", 1, 44100, 44100L * SECONDS, gen_tone);
    write_text(dir, "s.json",
               "{\"mixfarm\": 1, \"sample_rate\": 48000, \"tracks\": ["
               " {\"name\": \"T\", \"file\": \"tone44.wav\", \"pan\": -1}]}");
    render_ok(dir, "s.json", "out", "2");
    path_join(out, sizeof out, dir, "out");
    wav_t w = read_wav(out, "mix.wav");
    assert_int_equal(w.rate, 48000);
    print_message("    resampled: %ld frames (want %d)\n", w.frames, FRAMES);
    assert_true(labs(w.frames - FRAMES) <= 1);
    double l = rel_db(&w, 0);
    print_message("    resampled level: %+.4f dB (want 0)\n", l);
    assert_near(l, 0.0, 0.05);
    assert_true(peak(&w, 1) == 0.0);
    /* 1 kHz: 2 zero crossings per ms, 6000 over the 3 s window. */
    long crossings = 0;
    for (long i = WIN_FROM + 1; i < WIN_TO; i++)
        if ((w.x[2 * i] >= 0) != (w.x[2 * (i - 1)] >= 0)) crossings++;
    print_message("    zero crossings in 3 s: %ld (want 6000)\n", crossings);
    assert_true(labs(crossings - 6000) <= 1);
    wav_free(&w);
}

/* SESSION.md: a file at another rate is resampled "and the render says so". */
static void test_resample_is_reported(void **state)
{
    (void)state;
    char dir[1024], sp[1024], op[1024];
    case_dir(dir, sizeof dir, "resample-said");
    write_wav(dir, "tone44.wav", 1, 44100, 44100L, gen_tone);
    write_wav(dir, "tone48.wav", 1, 48000, 48000L, gen_tone);
    write_text(dir, "s.json",
               "{\"mixfarm\": 1, \"tracks\": [{\"name\": \"A\", \"file\": \"tone48.wav\"},"
               " {\"name\": \"B\", \"file\": \"tone44.wav\"}]}");
    path_join(sp, sizeof sp, dir, "s.json");
    path_join(op, sizeof op, dir, "out");
    const char *args[] = {"render", sp, "-o", op, NULL};
    test_run_t r = test_run(render_bin, args, render_root);
    assert_int_equal(r.rc, 0);
    int said = strstr(r.err, "44100") || strstr(r.out, "44100") || strstr(r.err, "44.1") ||
               strstr(r.out, "44.1");
    char both[4096];
    snprintf(both, sizeof both, "stdout: %s\nstderr: %s", r.out, r.err);
    test_run_free(&r);
    if (!said) fail_msg("nothing says tone44.wav was resampled from 44100 Hz:\n%s", both);
}

/* ---- (i) placement: start_s and trim ------------------------------------------------------ */

static void test_start_and_trim(void **state)
{
    (void)state;
    char dir[1024], out[1024];
    case_dir(dir, sizeof dir, "place");
    write_wav(dir, "ramp.wav", 1, RATE, 2L * RATE, gen_ramp);
    /* start 1.2345 s = frame 59256; trim from 0.0625 s = frame 3000, 0.5 s long. */
    write_text(dir, "s.json",
               "{\"mixfarm\": 1, \"tracks\": [{\"name\": \"R\", \"file\": \"ramp.wav\","
               " \"start_s\": 1.2345, \"trim\": {\"from_s\": 0.0625, \"length_s\": 0.5},"
               " \"pan\": -1}]}");
    render_ok(dir, "s.json", "out", "2");
    path_join(out, sizeof out, dir, "out");
    wav_t w = read_wav(out, "mix.wav");
    const long start = 59256, from = 3000, len = 24000;
    long first = -1, last = -1;
    for (long i = 0; i < w.frames; i++)
        if (w.x[2 * i] != 0.0f) {
            if (first < 0) first = i;
            last = i;
        }
    print_message("    first non-zero frame %ld (want %ld), last %ld (want %ld), length %ld\n",
                  first, start, last, start + len - 1, w.frames);
    assert_int_equal(first, start);
    assert_int_equal(last, start + len - 1);
    assert_int_equal(w.frames, start + len);
    /* And it is the right part of the source, sample for sample. */
    for (long j = 0; j < len; j++) {
        float want = (float)gen_ramp(from + j, 0, RATE);
        if (w.x[2 * (start + j)] != want)
            fail_msg("frame %ld: %.9g, want source frame %ld = %.9g", start + j,
                     (double)w.x[2 * (start + j)], from + j, (double)want);
    }
    assert_true(peak(&w, 1) == 0.0);
    wav_free(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pan_law3_positions),
        cmocka_unit_test(test_pan_law3_hard_right),
        cmocka_unit_test(test_pan_centre_mix),
        cmocka_unit_test(test_pan_law6),
        cmocka_unit_test(test_pan_law45),
        cmocka_unit_test(test_mute),
        cmocka_unit_test(test_solo),
        cmocka_unit_test(test_bus_and_sends),
        cmocka_unit_test(test_unpanned_same_bits),
        cmocka_unit_test(test_partial_sums),
        cmocka_unit_test(test_stereo_balance),
        cmocka_unit_test(test_invert_cancels),
        cmocka_unit_test(test_gain_automation),
        cmocka_unit_test(test_resampled_track),
        cmocka_unit_test(test_resample_is_reported),
        cmocka_unit_test(test_start_and_trim),
    };
    return cmocka_run_group_tests(tests, render_setup, render_teardown);
}
