/* The pieces under reference matching: the partitioned FFT convolution
 * against direct convolution, the matching FIR (linear phase, the curve's
 * magnitude), the loudest-passage spectrum (quiet passages left out), the
 * playback models (mono sum, band limits), and the listen_report task that
 * puts their statistics into listen.json, qc.json and qc.html. */
#include "exec_internal.h"
#include "mf_exec.h"
#include "mf_ltas.h"
#include "mf_match.h"
#include "mf_playback.h"
#include "mf_pcm.h"
#include "mf_task.h"
#include "mf_qc_report.h"
#include "mf_store.h"
#include "ref_util.h"

static void test_fftconv_matches_direct(void **state)
{
    (void)state;
    static const size_t taps[] = {1, 100, 256, 1000, 4096};
    static const size_t parts[] = {64, 256, 1024};
    const size_t n = 9000;
    float *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y), *h = malloc(4096 * sizeof *h);
    uint64_t st = 3;
    for (size_t i = 0; i < n; i++) x[i] = (float)ref_noise(&st);
    for (size_t t = 0; t < sizeof taps / sizeof taps[0]; t++)
        for (size_t p = 0; p < sizeof parts / sizeof parts[0]; p++) {
            for (size_t i = 0; i < taps[t]; i++)
                h[i] = (float)ref_noise(&st) / sqrtf((float)taps[t]);
            mf_fftconv_t *c = mf_fftconv_new(h, taps[t], parts[p]);
            assert_non_null(c);
            const size_t lat = mf_fftconv_latency(c);
            /* Odd block sizes, and in place for the second half. */
            for (size_t i = 0, k = 1; i < n; i += k, k = k * 7 % 1500 + 1) {
                const size_t m = i + k > n ? n - i : k;
                if (i < n / 2) {
                    mf_fftconv_process(c, y + i, x + i, m);
                } else {
                    memcpy(y + i, x + i, m * sizeof *y);
                    mf_fftconv_process(c, y + i, y + i, m);
                }
            }
            double err = 0;
            for (size_t i = lat; i < n; i++) {
                double want = 0;
                for (size_t k = 0; k < taps[t] && k <= i - lat; k++)
                    want += (double)h[k] * x[i - lat - k];
                err = fmax(err, fabs(want - y[i]));
            }
            if (err > 1e-4) fail_msg("taps %zu, partition %zu: error %g", taps[t], parts[p], err);
            mf_fftconv_free(&c);
        }
    free(x), free(y), free(h);
}

static void test_fir_linear_phase(void **state)
{
    (void)state;
    mf_match_curve_t c = {.n = 100, .side = 1};
    for (size_t i = 0; i < c.n; i++) {
        c.hz[i] = 1000.0 * pow(2.0, ((double)i - 80.0) / 12.0);
        c.mid_db[i] = c.hz[i] > 2000 ? 6.0 : 0.0;
        c.side_db[i] = -3.0;
    }
    const size_t taps = mf_match_taps(RATE);
    assert_int_equal(taps, 16384);
    float *h = malloc(taps * sizeof *h);
    assert_int_equal(mf_match_fir(&c, 0, RATE, h, taps), 0);
    for (size_t j = 1; j < taps / 2; j++) assert_near(h[taps / 2 + j], h[taps / 2 - j], 1e-7);
    /* Magnitude at a few frequencies: the curve, within the window's smoothing. */
    static const double f[] = {100, 500, 8000, 15000};
    static const double want[] = {0, 0, 6, 6};
    for (int k = 0; k < 4; k++) {
        double re = 0, im = 0;
        for (size_t i = 0; i < taps; i++) {
            re += h[i] * cos(2 * M_PI * f[k] * (double)i / RATE);
            im -= h[i] * sin(2 * M_PI * f[k] * (double)i / RATE);
        }
        assert_near(10 * log10(re * re + im * im), want[k], 0.2);
    }
    assert_int_equal(mf_match_fir(&c, 1, RATE, h, taps), 0);
    double dc = 0;
    for (size_t i = 0; i < taps; i++) dc += h[i];
    assert_near(20 * log10(dc), -3.0, 0.05);
    free(h);
}

/* A quiet passage does not change the spectrum of the loudest ones. */
static void test_ltas_loudest(void **state)
{
    (void)state;
    const long n = 30 * RATE;
    float *x = malloc(sizeof *x * 2 * (size_t)n);
    uint64_t st = 9;
    ref_bq_t lp = ref_bq(0, 300);
    for (long i = 0; i < n; i++) {
        const int quiet = i < 12 * RATE; /* 12 s of a dull, quiet intro */
        const double v = quiet ? 0.02 * ref_bq_run(&lp, ref_noise(&st)) : 0.2 * ref_noise(&st);
        x[2 * i] = x[2 * i + 1] = (float)v;
    }
    mf_ltas_t *l = mf_ltas_new(2, RATE);
    mf_ltas_feed(l, x, (size_t)n);
    mf_ltas_result_t r;
    mf_ltas_finish(l, &r);
    mf_ltas_free(&l);
    assert_true(r.selected < r.passages);
    /* White noise at 0.2: flat per Hz, so a band's level is 10 log10(0.04/3 * bw / (rate/2)). */
    for (int b = 3; b < 30; b++) {
        const double fc = mf_qc_band_hz(b), bw = fc * (pow(2, 1.0 / 6) - pow(2, -1.0 / 6));
        assert_near(r.mid_db[b], 10 * log10(0.04 / 3 * bw / (RATE / 2.0)), 0.6);
        assert_true(isinf(r.side_db[b]));
    }
    free(x);
}

static void test_playback_models(void **state)
{
    (void)state;
    size_t n;
    const mf_playback_model_t *m = mf_playback_models(&n);
    assert_int_equal(n, 6);
    float in[2 * 4096], out[2 * 4096];
    for (size_t k = 0; k < n; k++) {
        mf_playback_t *p = mf_playback_new(&m[k], RATE, 2);
        assert_non_null(p);
        assert_int_equal(mf_playback_channels(p), m[k].mono ? 1 : 2);
        /* A 50 Hz tone on both sides: phones and laptops barely play it. */
        double e = 0;
        for (int blk = 0; blk < 12; blk++) {
            for (int i = 0; i < 4096; i++)
                in[2 * i] = in[2 * i + 1] =
                    (float)(0.1 * sin(2 * M_PI * 50 * (blk * 4096 + i) / RATE));
            mf_playback_process(p, out, in, 4096);
            if (blk >= 6)
                for (int i = 0; i < 4096 * mf_playback_channels(p); i++) e += out[i] * out[i];
        }
        const double db = 10 * log10(e / (6 * 4096 * mf_playback_channels(p)) / 0.005);
        if (!strcmp(m[k].name, "phone") || !strcmp(m[k].name, "laptop")) assert_true(db < -30);
        if (!strcmp(m[k].name, "mono")) assert_near(db, 0, 0.01);
        mf_playback_free(&p);
        assert_null(p);
    }
}

/* The models' compressor on a model of its own (no filters, mono): its
 * static curve on a tone, and its attack as a per-sample RMS detector's
 * (the smoothed mean square 1 - 1/e of the way to a DC step after
 * attack_ms), read back from the gain it applies. */
static void test_playback_compressor(void **state)
{
    (void)state;
    const mf_playback_model_t m = {.name = "test",
                                   .what = "",
                                   .mono = 1,
                                   .width = 1,
                                   .comp_threshold_db = -20,
                                   .comp_ratio = 4,
                                   .comp_attack_ms = 4,
                                   .comp_release_ms = 100};
    static float in[4096], out[4096];
    mf_playback_t *p = mf_playback_new(&m, RATE, 1);
    /* A 1.5 kHz tone at 0.5 (one period per 32-frame block, so every block
     * has the same mean square): RMS -9.03 dB, 11 dB over; cut by 3/4 of it. */
    double e = 0;
    for (int blk = 0; blk < 24; blk++) {
        for (int i = 0; i < 4096; i++)
            in[i] = (float)(0.5 * sin(2 * M_PI * 1500 * (blk * 4096 + i) / RATE));
        mf_playback_process(p, out, in, 4096);
        if (blk >= 12)
            for (int i = 0; i < 4096; i++) e += out[i] * out[i];
    }
    const double lvl = 10 * log10(0.125), want = lvl + (1.0 / 4 - 1) * (lvl + 20);
    assert_near(10 * log10(e / (12 * 4096)), want, 0.1);
    mf_playback_free(&p);

    /* DC at 0.001 (far under), then at 0.5: after 4 ms (192 frames, six
     * blocks) the gain says what the detector holds. */
    p = mf_playback_new(&m, RATE, 1);
    for (int i = 0; i < 4096; i++) in[i] = 0.001f;
    for (int blk = 0; blk < 12; blk++) mf_playback_process(p, out, in, 4096);
    for (int i = 0; i < 4096; i++) in[i] = 0.5f;
    mf_playback_process(p, out, in, 4096);
    const double gain_db = 20 * log10(out[191] / 0.5);
    const double env = pow(10, (gain_db / (1.0 / 4 - 1) - 20) / 10);
    const double lo = 1e-6, hi = 0.25, expect = hi + (lo - hi) * exp(-1.0);
    assert_near(env / expect, 1.0, 0.01);
    mf_playback_free(&p);
}

/* Statistics as the listen tasks and the qc write them (listen_stats.c):
 * a flat spectrum at db, its mid and side for the source. */
static mf_hash_t s_stats(mf_store_t *st, int channels, double lufs, int source)
{
    json_t *bands = json_array(), *side = json_array();
    for (int b = 0; b < 31; b++) {
        json_array_append_new(bands, json_real(lufs - 10));
        json_array_append_new(side, json_real(lufs - 30));
    }
    json_t *j = json_pack("{s:i, s:f, s:f, s:f, s:o}", "channels", channels, "integrated_lufs",
                          lufs, "correlation", 0.9, "mono_drop_db", -0.5, "band_db", bands);
    if (source)
        json_object_set(j, "mid_db", bands), json_object_set_new(j, "side_db", side);
    else
        json_decref(side);
    char *text = json_dumps(j, JSON_COMPACT);
    mf_hash_t h;
    assert_int_equal(mf_store_put_bytes(st, text, strlen(text), &h), MF_OK);
    free(text);
    json_decref(j);
    return h;
}

static json_t *s_blob(mf_store_t *st, const mf_hash_t *h)
{
    char *text = mf_store_read_text(st, h, 1 << 20, NULL);
    assert_non_null(text);
    json_error_t je;
    json_t *j = json_loads(text, 0, &je);
    free(text);
    assert_non_null(j);
    return j;
}

static void test_listen_report_task(void **state)
{
    (void)state;
    char dir[600];
    ref_dir(dir, sizeof dir, "report");
    mf_store_t *st = mf_store_open(dir);
    assert_non_null(st);
    mf_hash_t in[9];
    in[0] = s_stats(st, 2, -14, 1);
    for (int i = 1; i <= 6; i++) in[i] = s_stats(st, i == 1 || i >= 5 ? 1 : 2, -14 - i, 0);
    static const char qc[] = "{\"files\": [{\"path\": \"mix.wav\", \"pass\": true}], "
                             "\"pass\": true, \"target\": {\"name\": \"none\"}}";
    static const char page[] =
        "<html><body><h1>QC report</h1>\n" MF_QC_HTML_MORE "<p>note</p>\n</body></html>\n";
    assert_int_equal(mf_store_put_bytes(st, qc, strlen(qc), &in[7]), MF_OK);
    assert_int_equal(mf_store_put_bytes(st, page, strlen(page), &in[8]), MF_OK);
    mf_task_t t = {.id = 1,
                   .kind = "listen_report",
                   .params = "{\"source\": \"mix.wav\"}",
                   .inputs = in,
                   .n_inputs = 9};
    mf_task_result_t r = {0};
    assert_int_equal(mf_exec_run(st, &t, &r), MF_OK);
    assert_int_equal(r.n_outputs, 3);
    json_t *listen = s_blob(st, &r.outputs[0]), *q = s_blob(st, &r.outputs[1]);
    assert_int_equal(json_array_size(json_object_get(listen, "systems")), 6);
    /* qc.json: the qc task's document, and listen.json's as "listen". */
    assert_true(json_equal(json_object_get(q, "listen"), listen));
    assert_true(json_is_true(json_object_get(q, "pass")));
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(json_object_get(q, "files"), 0), "path")),
        "mix.wav");
    char *html = mf_store_read_text(st, &r.outputs[2], 1 << 20, NULL);
    assert_non_null(html);
    const char *sec = strstr(html, "<h2 id=\"listen\">Playback systems</h2>");
    assert_non_null(sec);
    assert_true(strstr(html, "<h1>QC report</h1>") < sec && sec < strstr(html, "<p>note</p>"));
    assert_non_null(strstr(sec, "<a href=\"listen/club.wav\">club</a>"));
    free(html);
    json_decref(listen), json_decref(q);
    mf_task_result_fini(&r);

    /* A coordinator of before session 23 gives no qc documents: listen.json alone. */
    t.n_inputs = 7;
    r = (mf_task_result_t){0};
    assert_int_equal(mf_exec_run(st, &t, &r), MF_OK);
    assert_int_equal(r.n_outputs, 1);
    mf_task_result_fini(&r);
    /* One of them only is not a report's inputs. */
    t.n_inputs = 8;
    r = (mf_task_result_t){0};
    assert_int_not_equal(mf_exec_run(st, &t, &r), MF_OK);
    assert_non_null(r.error);
    mf_task_result_fini(&r);
    mf_store_free(&st);
}

/* A listening copy whose blob cannot be stored (its folder in the store is
 * a file): the task fails with the reason, and the writer, which the
 * store's commit frees whatever it returns, is not freed a second time
 * (it was, once: "free(): invalid pointer" in a render interrupted while
 * its temporary store went). */
static void test_listen_commit_fails(void **state)
{
    (void)state;
    char dir[600], fan[800];
    ref_dir(dir, sizeof dir, "listen_fail");
    mf_store_t *st = mf_store_open(dir);
    assert_non_null(st);
    mf_pcm_writer_t *w = mf_pcm_writer_new(st, 2, RATE, 0);
    assert_non_null(w);
    float x[2 * 4800];
    uint64_t seed = 5;
    for (size_t i = 0; i < 2 * 4800; i++) x[i] = (float)(0.25 * ref_noise(&seed));
    assert_int_equal(mf_pcm_writer_write(w, x, 4800), MF_OK);
    mf_hash_t in;
    assert_int_equal(mf_pcm_writer_commit(w, &in), MF_OK);
    mf_task_t t = {.id = 7,
                   .kind = "listen",
                   .params = "{\"system\": \"mono\"}",
                   .inputs = &in,
                   .n_inputs = 1};
    mf_task_key(&t, &t.key); /* as the scheduler sets it: the output's name comes from it */
    mf_hash_t name;
    mf_exec_output_name(&t, 0, &name);
    assert_false(!strncmp(name.hex, in.hex, 2)); /* its folder is not the input's */
    snprintf(fan, sizeof fan, "%s/objects/%.2s", dir, name.hex);
    FILE *f = fopen(fan, "w"); /* where the folder would be made */
    assert_non_null(f);
    fclose(f);
    mf_task_result_t r = {0};
    assert_int_not_equal(mf_exec_run(st, &t, &r), MF_OK);
    assert_non_null(r.error);
    mf_task_result_fini(&r);
    mf_store_free(&st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fftconv_matches_direct), cmocka_unit_test(test_fir_linear_phase),
        cmocka_unit_test(test_ltas_loudest),           cmocka_unit_test(test_playback_models),
        cmocka_unit_test(test_playback_compressor),    cmocka_unit_test(test_listen_report_task),
        cmocka_unit_test(test_listen_commit_fails),
    };
    ref_setup();
    const int rc = cmocka_run_group_tests(tests, NULL, NULL);
    ref_teardown();
    return rc;
}
