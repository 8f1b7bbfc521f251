/* The comparison with a reference track inside the QC report, end to end
 * through the mixfarm binary (MF_BIN_DIR), on a signal whose difference
 * from its reference is known exactly: the reference is stereo pink noise,
 * the file the very same noise through an RBJ high shelf of +6 dB at 4 kHz.
 * The expected band differences and loudness difference are computed here
 * from the shelf's response and the BS.1770 K-weighting over a 1/f
 * spectrum, independently of mixfarm's meters:
 *  - a session render with mastering.reference (target none: the master is
 *    the mix) reports the comparison as qc.json's files[0].reference, the
 *    same document as reference.json, and qc.html has its section and plot;
 *  - mixfarm qc FILE --reference REF reports the same in --json, in its
 *    summary and in -o REPORT.html; the comparison fails no check; a
 *    missing reference is exit 2, a failed check still exit 1;
 *  - qc of the rendered deliverable agrees with the render's own report. */
#include "ref_util.h"

#define SHELF_HZ 4000.0
#define SHELF_DB 6.0
#define SECONDS 9.0

typedef struct {
    double b[3], a[3];
} coef_t;

/* RBJ cookbook high shelf, shelf slope S = 1. */
static coef_t s_high_shelf(double f0, double db)
{
    const double A = pow(10.0, db / 40.0), w = 2 * M_PI * f0 / RATE, c = cos(w);
    const double al = sin(w) / 2 * M_SQRT2, sa = 2 * sqrt(A) * al;
    const double a0 = (A + 1) - (A - 1) * c + sa;
    return (coef_t){{A * ((A + 1) + (A - 1) * c + sa) / a0, -2 * A * ((A - 1) + (A + 1) * c) / a0,
                     A * ((A + 1) + (A - 1) * c - sa) / a0},
                    {1.0, 2 * ((A - 1) - (A + 1) * c) / a0, ((A + 1) - (A - 1) * c - sa) / a0}};
}

/* |H(f)|^2 of a biquad at RATE. */
static double s_power(const coef_t *q, double f)
{
    const double w = 2 * M_PI * f / RATE;
    double nr = 0, ni = 0, dr = 0, di = 0;
    for (int k = 0; k < 3; k++) {
        nr += q->b[k] * cos(k * w), ni -= q->b[k] * sin(k * w);
        dr += q->a[k] * cos(k * w), di -= q->a[k] * sin(k * w);
    }
    return (nr * nr + ni * ni) / (dr * dr + di * di);
}

/* BS.1770-4 K-weighting at 48 kHz: the shelving pre-filter and the RLB high-pass. */
static double s_k_power(double f)
{
    static const coef_t pre = {{1.53512485958697, -2.69169618940638, 1.19839281085285},
                               {1.0, -1.69065929318241, 0.73248077421585}};
    static const coef_t rlb = {{1.0, -2.0, 1.0}, {1.0, -1.99004745483398, 0.99007225036621}};
    return s_power(&pre, f) * s_power(&rlb, f);
}

/* 10 log10 of the mean of (shelf power * w(f)) over the mean of w(f) on a
 * 1/f (pink) spectrum from lo to hi: equal weight per log-frequency step. */
static double s_pink_gain_db(double lo, double hi, int k_weighted)
{
    const coef_t sh = s_high_shelf(SHELF_HZ, SHELF_DB);
    double num = 0, den = 0;
    for (int i = 0; i < 2000; i++) {
        const double f = lo * pow(hi / lo, (i + 0.5) / 2000.0);
        const double w = k_weighted ? s_k_power(f) : 1.0;
        num += w * s_power(&sh, f), den += w;
    }
    return 10 * log10(num / den);
}

/* What a third-octave band's difference should be (IEC base-2 edges). */
static double s_band_expect_db(double centre_hz)
{
    return s_pink_gain_db(centre_hz * pow(2, -1.0 / 6), centre_hz * pow(2, 1.0 / 6), 0);
}

/* Paul Kellet's refined pink-noise filter over white noise. */
typedef struct {
    double b[7];
    uint64_t st;
} pink_t;

static double s_pink(pink_t *p)
{
    const double w = ref_noise(&p->st);
    double *b = p->b;
    b[0] = 0.99886 * b[0] + w * 0.0555179, b[1] = 0.99332 * b[1] + w * 0.0750759;
    b[2] = 0.96900 * b[2] + w * 0.1538520, b[3] = 0.86650 * b[3] + w * 0.3104856;
    b[4] = 0.55000 * b[4] + w * 0.5329522, b[5] = -0.7616 * b[5] - w * 0.0168980;
    const double y = b[0] + b[1] + b[2] + b[3] + b[4] + b[5] + b[6] + w * 0.5362;
    b[6] = w * 0.115926;
    return y;
}

/* ref.wav: stereo pink noise (half of it common: correlation about 0.5);
 * file.wav: the same samples through the shelf. */
static void s_make_pair(const char *ref, const char *file)
{
    const long n = (long)(SECONDS * RATE);
    float *x = malloc(sizeof *x * 2 * (size_t)n), *y = malloc(sizeof *y * 2 * (size_t)n);
    assert_true(x && y);
    pink_t common = {.st = 99}, own[2] = {{.st = 7}, {.st = 8}};
    const coef_t sh = s_high_shelf(SHELF_HZ, SHELF_DB);
    double z[2][2] = {{0}}, zx[2][2] = {{0}};
    for (long i = 0; i < n; i++) {
        const double c = s_pink(&common);
        for (int ch = 0; ch < 2; ch++) {
            const double v = 0.02 * M_SQRT1_2 * (c + s_pink(&own[ch]));
            const double o = sh.b[0] * v + sh.b[1] * zx[ch][0] + sh.b[2] * zx[ch][1] -
                             sh.a[1] * z[ch][0] - sh.a[2] * z[ch][1];
            zx[ch][1] = zx[ch][0], zx[ch][0] = v, z[ch][1] = z[ch][0], z[ch][0] = o;
            x[2 * i + ch] = (float)v, y[2 * i + ch] = (float)o;
        }
    }
    ref_write(ref, x, n, 2, RATE);
    ref_write(file, y, n, 2, RATE);
    free(x), free(y);
}

/* Every value of a comparison document against the shelf: bands, loudness,
 * width per band (the shelf is the same on both channels: no change). */
static void s_check_comparison(const json_t *d)
{
    const json_t *bands = json_object_get(d, "bands");
    assert_int_equal(json_array_size(bands), 31);
    double worst = 0;
    for (size_t i = 0; i < 31; i++) {
        const json_t *bd = json_array_get(bands, i);
        const double f = ref_num(bd, "freq_hz", NULL), diff = ref_num(bd, "diff_db", NULL);
        const double want = s_band_expect_db(f);
        assert_near(diff, ref_num(bd, "file_db", NULL) - ref_num(bd, "reference_db", NULL), 0.011);
        if (fabs(diff - want) > 0.15) fail_msg("%.0f Hz: %+.2f dB, expected %+.2f", f, diff, want);
        if (f >= 8000) assert_near(diff, 6.0, 0.8);
        if (f <= 1000) assert_near(diff, 0.0, 0.3);
        worst = fmax(worst, fabs(diff - want));
    }
    const double lu = ref_num(d, "loudness", "diff_lu"), lu_want = s_pink_gain_db(10, 23900, 1);
    printf("bands: worst %.3f dB from the shelf; 1 kHz %+.2f, 10 kHz %+.2f dB; loudness %+.2f LU "
           "(expected %+.2f)\n",
           worst, ref_num(json_array_get(bands, 17), "diff_db", NULL),
           ref_num(json_array_get(bands, 27), "diff_db", NULL), lu, lu_want);
    assert_near(lu, lu_want, 0.1);
    assert_near(lu, ref_num(d, "loudness", "file_lufs") - ref_num(d, "loudness", "reference_lufs"),
                0.011);
    const json_t *wb = json_object_get(json_object_get(d, "width"), "bands");
    assert_int_equal(json_array_size(wb), 5);
    for (size_t i = 0; i < 5; i++)
        assert_near(ref_num(json_array_get(wb, i), "diff_db", NULL), 0, 0.3);
    assert_near(ref_num(d, "lra", "diff_lu"), 0.0, 1.0);
    static const char *const trios[][3] = {{"true_peak", "file_dbtp", "reference_dbtp"},
                                           {"plr", "file_db", "reference_db"},
                                           {"crest", "file_db", "reference_db"}};
    for (size_t i = 0; i < 3; i++)
        assert_near(ref_num(d, trios[i][0], "diff_db"),
                    ref_num(d, trios[i][0], trios[i][1]) - ref_num(d, trios[i][0], trios[i][2]),
                    0.011);
}

/* The reference section of a qc.html page: its heading and both plots. */
static void s_check_html(const char *path)
{
    char *page = test_read_text(path);
    const char *sec = strstr(page, "Compared with the reference");
    if (!sec) fail_msg("%s has no reference section", path);
    const char *spec = strstr(sec, "Spectrum of the loudest passages");
    const char *diff = spec ? strstr(spec, "Difference, file minus reference") : NULL;
    assert_non_null(diff);
    int lines = 0; /* both spectra, then the raw and the level-matched difference */
    for (const char *p = spec; (p = strstr(p, "<polyline")); p++) lines++;
    assert_true(lines >= 4);
    assert_non_null(strstr(spec, "stroke=\"#c0392b\"")); /* the reference's line */
    free(page);
}

static const json_t *s_file0(const json_t *qc)
{
    return json_array_get(json_object_get(qc, "files"), 0);
}

static char s_ref[700], s_file[700], s_dir[600];

static void test_session_qc_reference(void **state)
{
    (void)state;
    char p[800], out[700];
    snprintf(p, sizeof p, "%s/s.json", s_dir);
    ref_text(p, "{\"mixfarm\": 1, \"name\": \"Shelf\", \"tracks\": [{\"name\": \"Mix\", "
                "\"file\": \"file.wav\"}], \"mastering\": {\"target\": \"none\", "
                "\"reference\": \"ref.wav\"}, \"outputs\": [{\"format\": \"wav\", \"bits\": 24}]}");
    snprintf(out, sizeof out, "%s/out", s_dir);
    test_run_t r = ref_run("render", p, "-o", out, "--quiet", "--workers", "2", NULL);
    if (r.rc) fail_msg("render exited %d: %s", r.rc, r.err);
    test_run_free(&r);
    json_t *qc = ref_json(out, "qc.json"), *alone = ref_json(out, "reference.json");
    const json_t *f0 = s_file0(qc), *d = json_object_get(f0, "reference");
    if (!json_is_object(d)) fail_msg("qc.json: files[0] has no reference object");
    assert_string_equal(json_string_value(json_object_get(f0, "path")), "master/Shelf.wav");
    assert_string_equal(json_string_value(json_object_get(d, "file")), "master/Shelf.wav");
    assert_string_equal(json_string_value(json_object_get(d, "reference")), "ref.wav");
    s_check_comparison(d);
    assert_true(json_equal(json_object_get(d, "bands"), json_object_get(alone, "bands")));
    assert_true(json_equal(json_object_get(d, "loudness"), json_object_get(alone, "loudness")));
    assert_true(json_is_true(json_object_get(qc, "pass")));
    snprintf(p, sizeof p, "%s/qc.html", out);
    s_check_html(p);
    /* qc of the delivered file, here, says what the farm said. */
    snprintf(p, sizeof p, "%s/master/Shelf.wav", out);
    r = ref_run("qc", p, "--reference", s_ref, "--json", NULL);
    if (r.rc) fail_msg("qc exited %d: %s", r.rc, r.err);
    json_error_t e;
    json_t *local = json_loads(r.out, 0, &e);
    if (!local) fail_msg("not JSON: %s", e.text);
    const json_t *lb = json_object_get(json_object_get(s_file0(local), "reference"), "bands");
    const json_t *fb = json_object_get(d, "bands");
    assert_int_equal(json_array_size(lb), 31);
    for (size_t i = 0; i < 31; i++)
        assert_near(ref_num(json_array_get(lb, i), "diff_db", NULL),
                    ref_num(json_array_get(fb, i), "diff_db", NULL), 0.05);
    json_decref(local), json_decref(qc), json_decref(alone);
    test_run_free(&r);
}

static void test_qc_cli_reference(void **state)
{
    (void)state;
    char html[700];
    snprintf(html, sizeof html, "%s/report.html", s_dir);
    test_run_t r = ref_run("qc", s_file, "--reference", s_ref, "--json", "-o", html, NULL);
    if (r.rc) fail_msg("qc exited %d: %s", r.rc, r.err);
    json_error_t e;
    json_t *qc = json_loads(r.out, 0, &e);
    if (!qc) fail_msg("not JSON: %s", e.text);
    const json_t *d = json_object_get(s_file0(qc), "reference");
    if (!json_is_object(d)) fail_msg("qc --json: files[0] has no reference object");
    assert_string_equal(json_string_value(json_object_get(d, "file")), s_file);
    assert_string_equal(json_string_value(json_object_get(d, "reference")), s_ref);
    s_check_comparison(d);
    json_decref(qc);
    test_run_free(&r);
    s_check_html(html);
    /* The summary, for people: the comparison's table and the bright top. */
    r = ref_run("qc", s_file, "--reference", s_ref, NULL);
    assert_int_equal(r.rc, 0);
    assert_non_null(strstr(r.out, "compared with"));
    assert_non_null(strstr(r.out, "air (8-20 kHz)"));
    test_run_free(&r);
    /* A failed check is still exit 1, and the comparison is still there. */
    r = ref_run("qc", s_file, "--reference", s_ref, "--target", "streaming", "--json", NULL);
    assert_int_equal(r.rc, 1);
    qc = json_loads(r.out, 0, &e);
    assert_non_null(qc);
    assert_true(json_is_object(json_object_get(s_file0(qc), "reference")));
    json_decref(qc);
    test_run_free(&r);
    /* A reference that is not there: usage, naming it. */
    char missing[700];
    snprintf(missing, sizeof missing, "%s/missing.wav", s_dir);
    r = ref_run("qc", s_file, "--reference", missing, NULL);
    assert_int_equal(r.rc, 2);
    assert_non_null(strstr(r.err, "missing.wav"));
    test_run_free(&r);
}

int main(void)
{
    ref_setup();
    ref_dir(s_dir, sizeof s_dir, "qcref");
    snprintf(s_ref, sizeof s_ref, "%s/ref.wav", s_dir);
    snprintf(s_file, sizeof s_file, "%s/file.wav", s_dir);
    s_make_pair(s_ref, s_file);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_session_qc_reference),
        cmocka_unit_test(test_qc_cli_reference),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    ref_teardown();
    return rc;
}
