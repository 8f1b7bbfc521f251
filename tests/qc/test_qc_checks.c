/* QC checks, each firing on a signal made to fail it and on nothing else,
 * and silent on a clean one; presets; qc.json fields; qc.html, and the
 * playback systems' section that a later task puts into it. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "mf_qc_report.h"
#include "qc_test_util.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define FS 48000.0
#define LEN 8.0
static const mf_qc_format_t s_fmt = {.rate = 48000, .bits = 24, .lossless = 1};

/* A clean 8 s music-like stereo signal, scaled to about -14 LUFS. */
static float *s_clean(size_t *n)
{
    *n = (size_t)(LEN * FS);
    float *x = malloc(2 * *n * sizeof *x);
    qt_music(x, *n, 2, FS, 5);
    for (size_t i = 0; i < 2 * *n; i++) x[i] *= 2.0f;
    return x;
}

/* The checks that fail for x (a comma-separated list, "" when none). */
static void s_run(const float *x, size_t n, const char *target, const mf_qc_format_t *fmt,
                  char *out, size_t size, mf_qc_problems_t *p)
{
    mf_analysis_t a;
    qt_analyse(x, n, 2, FS, MF_ANALYZE_ALL, &a);
    mf_qc_check(&a, mf_qc_preset(target), fmt, p);
    out[0] = '\0';
    for (size_t i = 0; i < p->count; i++) {
        snprintf(out + strlen(out), size - strlen(out), "%s%s", i ? "," : "", p->items[i].check);
        printf("    %s: %s\n", p->items[i].check, p->items[i].message);
    }
    mf_analysis_fini(&a);
}

static void s_expect(const float *x, size_t n, const char *target, const mf_qc_format_t *fmt,
                     const char *want, const char *what)
{
    char got[256];
    mf_qc_problems_t p;
    printf("%s (target %s): expect [%s]\n", what, target, want);
    s_run(x, n, target, fmt, got, sizeof got, &p);
    assert_string_equal(got, want);
}

static void test_presets(void **state)
{
    (void)state;
    size_t n;
    const mf_qc_target_t *p = mf_qc_presets(&n);
    assert_int_equal(n, 7);
    assert_true(mf_qc_preset("streaming")->lufs == -14.0 && mf_qc_preset("apple")->lufs == -16.0);
    assert_true(mf_qc_preset("ebu-r128")->lufs == -23.0 &&
                mf_qc_preset("atsc-a85")->true_peak_dbtp == -2.0);
    assert_true(mf_qc_preset("cd")->true_peak_dbtp == -0.3 && isnan(mf_qc_preset("none")->lufs));
    assert_null(mf_qc_preset("spotify"));
    for (size_t i = 0; i < n; i++) assert_ptr_equal(mf_qc_preset(p[i].name), &p[i]);
}

static void test_clean_passes(void **state)
{
    (void)state;
    size_t n;
    float *x = s_clean(&n);
    s_expect(x, n, "none", &s_fmt, "", "clean");
    s_expect(x, n, "ebu-r128", &s_fmt, "loudness", "clean, too loud for R 128");
    free(x);
}

static void test_each_check_fires(void **state)
{
    (void)state;
    size_t n;
    float *x = s_clean(&n), *y = malloc(2 * n * sizeof *y);
    const size_t sz = 2 * n * sizeof *y;
    /* true_peak: up to 0 dBFS sample peaks. */
    float pk = 0;
    for (size_t i = 0; i < 2 * n; i++) pk = fmaxf(pk, fabsf(x[i]));
    for (size_t i = 0; i < 2 * n; i++) y[i] = x[i] / pk * 0.99f;
    s_expect(y, n, "none", &s_fmt, "true_peak", "peaks at -0.1 dBFS");
    /* clipping: a run of 5 full-scale samples at 3 s (also over the ceiling). */
    memcpy(y, x, sz);
    for (size_t i = 0; i < 5; i++) y[2 * ((size_t)(3 * FS) + i)] = 1.0f;
    s_expect(y, n, "none", &s_fmt, "true_peak,clipping", "clipped run");
    /* dc_offset: -34 dB of DC. */
    for (size_t i = 0; i < 2 * n; i++) y[i] = x[i] + 0.02f;
    s_expect(y, n, "none", &s_fmt, "dc_offset", "DC offset");
    /* silence: 3 s at the head, then 3 s inside. */
    memcpy(y, x, sz);
    memset(y, 0, 2 * (size_t)(3 * FS) * sizeof *y);
    s_expect(y, n, "none", &s_fmt, "silence", "3 s of silence at the head");
    memcpy(y, x, sz);
    memset(y + 2 * (size_t)(3 * FS), 0, 2 * (size_t)(3 * FS) * sizeof *y);
    s_expect(y, n, "none", &s_fmt, "silence", "3 s of silence inside");
    /* ... which a pause made on purpose there (an album's gap) allows,
     * and one elsewhere does not. */
    const mf_qc_span_t here = {3.5, 2.0}, there = {0.0, 2.0};
    mf_qc_format_t paused = s_fmt;
    paused.pauses = &here, paused.n_pauses = 1;
    s_expect(y, n, "none", &paused, "", "3 s inside, a 2 s pause there");
    paused.pauses = &there;
    s_expect(y, n, "none", &paused, "silence", "3 s inside, a pause at the head");
    memcpy(y, x, sz);
    memset(y, 0, 2 * (size_t)(3 * FS) * sizeof *y);
    s_expect(y, n, "none", &paused, "", "3 s at the head after a 2 s pre-gap");
    /* phase: right is the left inverted (plus a little of itself). */
    for (size_t i = 0; i < n; i++)
        y[2 * i] = x[2 * i], y[2 * i + 1] = -x[2 * i] + 0.1f * x[2 * i + 1];
    s_expect(y, n, "none", &s_fmt, "phase", "out of phase");
    /* Unrelated channels (a correlation a little below 0) are a wide mix,
     * not a phase problem; a third of the left inverted in the right is. */
    for (size_t i = 0; i < n; i++)
        y[2 * i] = x[2 * i], y[2 * i + 1] = x[2 * ((i * 7919) % n) + 1] - 0.05f * x[2 * i];
    s_expect(y, n, "none", &s_fmt, "", "unrelated channels");
    mf_analysis_t a;
    qt_analyse(y, n, 2, FS, MF_ANALYZE_ALL, &a);
    printf("    their correlation: %.3f\n", a.correlation);
    const double corr = a.correlation;
    mf_analysis_fini(&a);
    assert_true(corr < 0.0 && corr > MF_QC_PHASE_MIN);
    for (size_t i = 0; i < n; i++)
        y[2 * i] = x[2 * i], y[2 * i + 1] = x[2 * ((i * 7919) % n) + 1] - 0.35f * x[2 * i];
    s_expect(y, n, "none", &s_fmt, "phase", "a third of the left inverted in the right");
    /* mono_as_stereo. */
    for (size_t i = 0; i < n; i++) y[2 * i] = y[2 * i + 1] = x[2 * i];
    s_expect(y, n, "none", &s_fmt, "mono_as_stereo", "L == R");
    /* length: half a second. */
    s_expect(x, (size_t)(0.5 * FS), "none", &s_fmt, "length", "0.5 s long");
    /* format: 16-bit / 22.05 kHz lossless fails, a lossy file is not judged. */
    const mf_qc_format_t low = {.rate = 22050, .bits = 16, .lossless = 1}, lossy = {.rate = 22050};
    s_expect(x, n, "none", &low, "format", "22.05 kHz lossless");
    s_expect(x, n, "none", &lossy, "", "22.05 kHz lossy");
    free(x), free(y);
}

static void test_positions(void **state)
{
    (void)state;
    size_t n;
    float *x = s_clean(&n);
    for (size_t i = 0; i < 4; i++) x[2 * ((size_t)(5.5 * FS) + i) + 1] = -1.0f;
    mf_analysis_t a;
    qt_analyse(x, n, 2, FS, MF_ANALYZE_ALL, &a);
    printf("clip at %.4f s, %lld samples; true peak at %.1f s\n", a.clip_at_s,
           (long long)a.clipped_samples, a.true_peak_at_s);
    assert_true(fabs(a.clip_at_s - 5.5) < 1e-4 && a.clipped_samples == 4 && a.clip_runs == 1);
    assert_true(fabs(a.true_peak_at_s - 5.5) <= 0.1);
    mf_analysis_fini(&a);
    free(x);
}

static void test_reports(void **state)
{
    (void)state;
    size_t n;
    float *x = s_clean(&n), *z = calloc(2 * (size_t)FS, sizeof *z);
    mf_analysis_t a[2];
    mf_qc_problems_t p[2];
    qt_analyse(x, n, 2, FS, MF_ANALYZE_ALL, &a[0]);
    qt_analyse(z, (size_t)FS, 2, FS, MF_ANALYZE_ALL, &a[1]); /* 1 s of digital silence */
    const mf_qc_target_t *t = mf_qc_preset("streaming");
    mf_qc_check(&a[0], t, &s_fmt, &p[0]);
    mf_qc_check(&a[1], t, &s_fmt, &p[1]);
    const mf_qc_file_t files[2] = {{"master/a.wav", &a[0], &p[0], NULL, NULL},
                                   {"master/<b>.wav", &a[1], &p[1], NULL, NULL}};
    json_t *doc = mf_qc_report_json(t, files, 2);
    char *s = json_dumps(doc, JSON_INDENT(2) | JSON_REAL_PRECISION(10));
    printf("%.600s...\n", s);
    free(s);
    json_t *tg = json_object_get(doc, "target"),
           *f0 = json_array_get(json_object_get(doc, "files"), 0);
    assert_string_equal(json_string_value(json_object_get(tg, "name")), "streaming");
    assert_true(json_real_value(json_object_get(tg, "lufs")) == -14.0);
    assert_true(json_real_value(json_object_get(tg, "true_peak_dbtp")) == -1.0);
    assert_true(json_is_false(json_object_get(doc, "pass")));
    static const char *const fields[] = {"path",
                                         "integrated_lufs",
                                         "lra_lu",
                                         "true_peak_dbtp",
                                         "sample_peak_dbfs",
                                         "plr_db",
                                         "clipped_samples",
                                         "dc_offset_db",
                                         "correlation",
                                         "head_silence_s",
                                         "tail_silence_s",
                                         "pass",
                                         "problems"};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        assert_non_null(json_object_get(f0, fields[i]));
    assert_true(fabs(json_real_value(json_object_get(f0, "integrated_lufs")) -
                     a[0].integrated_lufs) < 0.006);
    assert_true(json_is_integer(json_object_get(f0, "clipped_samples")));
    /* The silent file: -inf as a string, its problems as objects. */
    json_t *f1 = json_array_get(json_object_get(doc, "files"), 1);
    assert_string_equal(json_string_value(json_object_get(f1, "integrated_lufs")), "-inf");
    json_t *pr = json_array_get(json_object_get(f1, "problems"), 0);
    assert_non_null(json_object_get(pr, "check"));
    assert_true(json_is_string(json_object_get(pr, "message")));
    assert_non_null(json_object_get(pr, "at_s"));
    json_decref(doc);

    char dir[] = "/tmp/mf-qc-XXXXXX", path[128];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/qc.html", dir);
    assert_int_equal(mf_qc_report_write_html(path, t, files, 2), MF_OK);
    snprintf(path, sizeof path, "%s/qc.json", dir);
    assert_int_equal(mf_qc_report_write_json(path, t, files, 2), MF_OK);
    json_error_t je;
    json_t *back = json_load_file(path, 0, &je);
    assert_non_null(back);
    json_decref(back);
    snprintf(path, sizeof path, "%s/qc.html", dir);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    static char html[1 << 20];
    const size_t len = fread(html, 1, sizeof html - 1, f);
    html[len] = '\0';
    fclose(f);
    assert_non_null(strstr(html, "<svg"));
    assert_non_null(strstr(html, "&lt;b&gt;.wav")); /* escaped */
    assert_non_null(strstr(html, "</html>"));
    assert_null(strstr(html, "<script"));
    assert_null(strstr(html, " src="));
    assert_null(strstr(html, "href=\"http"));
    printf("qc.html: %zu bytes\n", len);
    unlink(path);
    snprintf(path, sizeof path, "%s/qc.json", dir);
    unlink(path);
    rmdir(dir);
    mf_analysis_fini(&a[0]), mf_analysis_fini(&a[1]);
    free(x), free(z);
}

/* listen.json's document as a section of qc.html, put where qc.html keeps
 * room for it (else before </body>, else at the end). */
static void test_listen_section(void **state)
{
    (void)state;
    json_error_t je;
    json_t *doc = json_loads(
        "{\"source\": \"master/<A&B>.wav\", \"master\": {\"integrated_lufs\": -14.0, "
        "\"correlation\": 0.5, \"mono_drop_db\": -1.5, \"low_end_share_pct\": 30},"
        " \"systems\": [{\"name\": \"phone\", \"path\": \"listen/phone.wav\", \"model\": "
        "\"a phone\", \"channels\": 1, \"integrated_lufs\": -20.5, \"loudness_diff_lu\": -6.5,"
        " \"low_end_db\": \"-inf\", \"correlation\": null, \"mono_drop_db\": -1.5, "
        "\"warnings\": [\"kick & bass vanish\"]}, {\"name\": \"car\", \"path\": "
        "\"listen/car.wav\", \"model\": \"a car\", \"channels\": 2, \"integrated_lufs\": "
        "-13.0, \"loudness_diff_lu\": 1.0, \"low_end_db\": 4.2, \"correlation\": 0.61, "
        "\"mono_drop_db\": -1.2, \"warnings\": []}]}",
        0, &je);
    assert_non_null(doc);
    char *part = NULL;
    size_t part_len = 0;
    FILE *f = open_memstream(&part, &part_len);
    assert_int_equal(mf_listen_html(f, doc), MF_OK);
    fclose(f);
    assert_non_null(strstr(part, "<h2 id=\"listen\">Playback systems</h2>"));
    assert_non_null(strstr(part, "master/&lt;A&amp;B&gt;.wav")); /* escaped */
    assert_non_null(strstr(part, "<a href=\"listen/phone.wav\">phone</a>"));
    assert_non_null(strstr(part, "<td>-20.5 LUFS</td><td>-6.5 LU</td><td>&minus;&infin;</td>"));
    assert_non_null(strstr(part, "<td>&ndash;</td>")); /* a mono system's correlation */
    assert_non_null(strstr(part, "<ul>\n<li><b>phone</b>: kick &amp; bass vanish</li>\n</ul>"));
    assert_null(strstr(part, "Nothing to warn"));
    assert_non_null(strstr(part, "<td>0.61</td><td>-1.2 dB</td>"));
    /* Without warnings, it says so. */
    json_t *calm = json_deep_copy(doc);
    json_array_clear(
        json_object_get(json_array_get(json_object_get(calm, "systems"), 0), "warnings"));
    char *quiet = NULL;
    size_t quiet_len = 0;
    f = open_memstream(&quiet, &quiet_len);
    assert_int_equal(mf_listen_html(f, calm), MF_OK);
    fclose(f);
    assert_non_null(strstr(quiet, "<p>Nothing to warn about on these systems.</p>"));
    assert_null(strstr(quiet, "<ul>"));
    free(quiet);
    json_decref(calm);
    json_t *bad = json_pack("{s:s}", "source", "x");
    f = fopen("/dev/null", "w");
    assert_int_equal(mf_listen_html(f, bad), MF_ERR_INVALID);
    fclose(f);
    json_decref(bad);

    static const char *const pages[] = {
        "<body><p>a</p>\n" MF_QC_HTML_MORE "<p>note</p>\n</body></html>\n",
        "<body><p>a</p><p>note</p>\n</body></html>\n", "<p>a</p><p>note</p>"};
    static const char *const before[] = {"<p>a</p>\n", "<p>note</p>\n", "<p>note</p>"};
    for (size_t i = 0; i < 3; i++) {
        size_t n = 0;
        char *out = mf_qc_html_insert(pages[i], strlen(pages[i]), part, part_len, &n);
        assert_non_null(out);
        assert_int_equal(n, strlen(pages[i]) + part_len);
        assert_int_equal(strlen(out), n);
        const char *at = strstr(out, part);
        assert_non_null(at);
        /* Everything of the page is still there, the section where it goes. */
        const char *prev = strstr(out, before[i]);
        assert_non_null(prev);
        assert_true(prev + strlen(before[i]) == at);
        assert_memory_equal(out, pages[i], (size_t)(at - out));
        assert_string_equal(at + part_len, pages[i] + (at - out));
        free(out);
    }
    free(part);
    json_decref(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_presets),          cmocka_unit_test(test_clean_passes),
        cmocka_unit_test(test_each_check_fires), cmocka_unit_test(test_positions),
        cmocka_unit_test(test_reports),          cmocka_unit_test(test_listen_section),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
