/* Reference, listening, revisions and init, end to end through the mixfarm
 * binary (MF_BIN_DIR) on signals made here:
 *  - compare finds a +6 dB shelf above 2 kHz band by band, with every field
 *    of CLI.md, and writes its HTML report;
 *  - a session with match_reference lands within 1 dB of the reference in
 *    every band and 0.5 LU in loudness, and writes reference.json and the
 *    listen/ files;
 *  - the mono model of a side-only mix is silent and listen.json says so;
 *    a tone out of phase vanishes in its band alone;
 *  - the mono copy is the mix's mid, dithered to 16 bits exactly as
 *    documented, on whichever instruction set;
 *  - diff after one fader change names exactly the changed track, bus,
 *    stem, mix, master and deliverable, the rest bit-identical;
 *  - init groups files onto buses by name, and its session renders. */
#include "ref_util.h"

static void test_compare_shelf(void **state)
{
    (void)state;
    char dir[600], a[700], b[700], html[700];
    ref_dir(dir, sizeof dir, "compare");
    snprintf(a, sizeof a, "%s/flat.wav", dir);
    snprintf(b, sizeof b, "%s/shelf.wav", dir);
    snprintf(html, sizeof html, "%s/report.html", dir);
    ref_noise_wav(a, 6, 0.1, 0, 1);
    ref_noise_wav(b, 6, 0.1, 1, 1);
    test_run_t r = ref_run("compare", b, "--reference", a, "--json", "-o", html, NULL);
    if (r.rc) fail_msg("compare exited %d: %s", r.rc, r.err);
    json_error_t e;
    json_t *d = json_loads(r.out, 0, &e);
    if (!d) fail_msg("not JSON: %s", e.text);
    assert_string_equal(json_string_value(json_object_get(d, "file")), b);
    assert_string_equal(json_string_value(json_object_get(d, "reference")), a);
    static const char *const trios[][4] = {
        {"loudness", "file_lufs", "reference_lufs", "diff_lu"},
        {"lra", "file_lu", "reference_lu", "diff_lu"},
        {"true_peak", "file_dbtp", "reference_dbtp", "diff_db"},
        {"plr", "file_db", "reference_db", "diff_db"},
        {"crest", "file_db", "reference_db", "diff_db"},
        {"width", "file_side_mid_db", "reference_side_mid_db", "diff_db"}};
    for (size_t i = 0; i < sizeof trios / sizeof trios[0]; i++) {
        const double x = ref_num(d, trios[i][0], trios[i][1]);
        const double y = ref_num(d, trios[i][0], trios[i][2]);
        assert_near(ref_num(d, trios[i][0], trios[i][3]), x - y, 0.011);
    }
    assert_true(ref_num(d, "loudness", "diff_lu") > 1.0); /* the shelf adds energy */
    assert_int_equal(json_array_size(json_object_get(json_object_get(d, "width"), "bands")), 5);
    const json_t *bands = json_object_get(d, "bands");
    assert_int_equal(json_array_size(bands), 31);
    assert_near(ref_num(json_array_get(bands, 0), "freq_hz", NULL), 20, 0);
    assert_near(ref_num(json_array_get(bands, 30), "freq_hz", NULL), 20000, 0);
    for (size_t i = 0; i < 31; i++) {
        const json_t *bd = json_array_get(bands, i);
        const double f = ref_num(bd, "freq_hz", NULL), diff = ref_num(bd, "diff_db", NULL);
        assert_near(diff, ref_num(bd, "file_db", NULL) - ref_num(bd, "reference_db", NULL), 0.011);
        if (f <= 1000) assert_near(diff, 0.0, 1.0);
        if (f >= 4000) assert_near(diff, 6.0, 1.0);
    }
    json_decref(d);
    test_run_free(&r);
    char *page = test_read_text(html);
    assert_non_null(strstr(page, "<svg"));
    assert_non_null(strstr(page, "Difference"));
    free(page);
    r = ref_run("compare", b, NULL); /* no --reference: usage */
    assert_int_equal(r.rc, 2);
    test_run_free(&r);
}

/* A mono file against a stereo reference whose left channel it is (the
 * right: other noise of the same spectrum): the width says "mono", the
 * loudness line says how a mono file is measured, and the tonal balance,
 * matched on the mid spectra's levels, finds no difference (matched on the
 * whole level, the reference's uncorrelated channels put 3 dB less in mid
 * and every region read "3 dB more"). */
static void test_compare_mono(void **state)
{
    (void)state;
    char dir[600], a[700], b[700];
    ref_dir(dir, sizeof dir, "compare_mono");
    snprintf(a, sizeof a, "%s/mono.wav", dir);
    snprintf(b, sizeof b, "%s/stereo.wav", dir);
    const long n = 8 * RATE;
    float *x = malloc(sizeof *x * 3 * (size_t)n), *st = x + n;
    assert_non_null(x);
    uint64_t s1 = 11, s2 = 23;
    for (long i = 0; i < n; i++) {
        x[i] = st[2 * i] = (float)(0.2 * ref_noise(&s1));
        st[2 * i + 1] = (float)(0.2 * ref_noise(&s2));
    }
    ref_write(a, x, n, 1, RATE);
    ref_write(b, st, n, 2, RATE);
    free(x);
    test_run_t r = ref_run("compare", a, "--reference", b, NULL);
    if (r.rc) fail_msg("compare exited %d: %s", r.rc, r.err);
    if (!strstr(r.out, "  width            mono      0.0        - dB side/mid\n") ||
        !strstr(r.out, "(the file is one channel, measured as one loudspeaker") ||
        !strstr(r.out, "within 2 dB of the reference in every region\n"))
        fail_msg("compare of a mono file:\n%s", r.out);
    test_run_free(&r);
    r = ref_run("compare", a, "--reference", b, "--json", NULL);
    json_t *d = json_loads(r.out, 0, NULL);
    assert_non_null(d);
    const double mid = ref_num(d, "loudest_passages", "file_mid_db") -
                       ref_num(d, "loudest_passages", "reference_mid_db");
    assert_near(mid, 3.0, 0.3); /* (L + R) / 2 of uncorrelated halves: -3 dB */
    assert_true(ref_num(d, "width", "file_side_mid_db") == -INFINITY);
    json_decref(d);
    test_run_free(&r);
}

/* qc.json reports each playback system (CLI.md) as listen.json does, and
 * qc.html has a section on them with their files and warnings. */
static void s_expect_in_qc(const char *out, const json_t *listen)
{
    json_t *qc = ref_json(out, "qc.json");
    assert_true(json_equal(json_object_get(qc, "listen"), (json_t *)listen));
    assert_non_null(json_object_get(qc, "files")); /* the QC report is all there */
    json_decref(qc);
    char p[900];
    snprintf(p, sizeof p, "%s/qc.html", out);
    char *page = test_read_text(p);
    assert_non_null(page);
    const char *at = strstr(page, "<h2 id=\"listen\">Playback systems</h2>");
    assert_non_null(at);
    assert_true(strstr(page, "</html>") > at);
    size_t i;
    const json_t *sys;
    json_array_foreach(json_object_get(listen, "systems"), i, sys)
    {
        const char *name = json_string_value(json_object_get(sys, "name"));
        char link[120];
        snprintf(link, sizeof link, "<a href=\"listen/%s.wav\">%s</a>", name, name);
        assert_non_null(strstr(at, link));
        const json_t *w = json_array_get(json_object_get(sys, "warnings"), 0);
        if (!w) continue;
        char item[160]; /* the start of its first warning (nothing to escape in it) */
        snprintf(item, sizeof item, "<li><b>%s</b>: %.60s", name, json_string_value(w));
        if (!strpbrk(json_string_value(w), "<>&\"")) assert_non_null(strstr(at, item));
    }
    free(page);
}

static void test_match_reference(void **state)
{
    (void)state;
    char dir[600], p[1400];
    ref_dir(dir, sizeof dir, "match");
    snprintf(p, sizeof p, "%s/mix.wav", dir);
    ref_noise_wav(p, 8, 0.05, 0, 2); /* flat and quiet */
    snprintf(p, sizeof p, "%s/ref.wav", dir);
    ref_noise_wav(p, 8, 0.08, 1, 3); /* bright and louder */
    snprintf(p, sizeof p, "%s/s.json", dir);
    ref_text(p, "{\"mixfarm\": 1, \"name\": \"Match\", \"tracks\": [{\"name\": \"Mix\", "
                "\"file\": \"mix.wav\"}], \"mastering\": {\"target\": \"none\", "
                "\"reference\": \"ref.wav\", \"match_reference\": true}}");
    char out[700];
    snprintf(out, sizeof out, "%s/out", dir);
    test_run_t r = ref_run("render", p, "-o", out, "--quiet", "--workers", "2", NULL);
    if (r.rc) fail_msg("render exited %d: %s", r.rc, r.err);
    test_run_free(&r);
    json_t *d = ref_json(out, "reference.json");
    assert_string_equal(json_string_value(json_object_get(d, "reference")), "ref.wav");
    assert_near(ref_num(d, "loudness", "diff_lu"), 0.0, 0.5);
    const json_t *bands = json_object_get(d, "bands");
    for (size_t i = 0; i < json_array_size(bands); i++) {
        const json_t *bd = json_array_get(bands, i);
        const double f = ref_num(bd, "freq_hz", NULL);
        if (f >= 25 && f <= 20000) assert_near(ref_num(bd, "diff_db", NULL), 0.0, 1.0);
    }
    const json_t *m = json_object_get(d, "match");
    assert_string_equal(json_string_value(json_object_get(m, "loudness")), "reference");
    json_decref(d);
    /* The master's listening copies, one per playback system. */
    static const char *const systems[] = {"phone", "earbuds", "laptop", "car", "club", "mono"};
    json_t *l = ref_json(out, "listen.json");
    const json_t *sys = json_object_get(l, "systems");
    assert_int_equal(json_array_size(sys), 6);
    for (size_t i = 0; i < 6; i++) {
        snprintf(p, sizeof p, "%s/listen/%s.wav", out, systems[i]);
        struct stat st;
        if (stat(p, &st) != 0) fail_msg("%s is missing", p);
        assert_string_equal(json_string_value(json_object_get(json_array_get(sys, i), "name")),
                            systems[i]);
    }
    /* A phone loses the low end. */
    assert_true(ref_num(json_array_get(sys, 0), "low_end_db", NULL) < -20);
    s_expect_in_qc(out, l);
    json_decref(l);
}

/* Renders a session of one track, the stereo file x (n frames) written
 * into dir, into dir/out (its path in out). */
static void s_render_stereo(const char *dir, const char *file, const float *x, long n, char *out,
                            size_t out_n)
{
    char p[1400], doc[256];
    snprintf(p, sizeof p, "%s/%s", dir, file);
    ref_write(p, x, n, 2, RATE);
    snprintf(p, sizeof p, "%s/s.json", dir);
    snprintf(doc, sizeof doc, "{\"mixfarm\": 1, \"tracks\": [{\"name\": \"S\", \"file\": \"%s\"}]}",
             file);
    ref_text(p, doc);
    snprintf(out, out_n, "%s/out", dir);
    test_run_t r = ref_run("render", p, "-o", out, "--quiet", "--workers", "2", NULL);
    if (r.rc) fail_msg("render exited %d: %s", r.rc, r.err);
    test_run_free(&r);
}

static void test_listen_side_only(void **state)
{
    (void)state;
    char dir[600], p[1400], out[700];
    ref_dir(dir, sizeof dir, "side");
    const long n = 3 * RATE;
    float *x = malloc(sizeof *x * 2 * (size_t)n);
    uint64_t st = 5;
    for (long i = 0; i < n; i++) x[2 * i] = (float)(0.1 * ref_noise(&st)), x[2 * i + 1] = -x[2 * i];
    s_render_stereo(dir, "side.wav", x, n, out, sizeof out);
    free(x);
    snprintf(p, sizeof p, "%s/listen/mono.wav", out);
    SF_INFO si = {0};
    SNDFILE *f = sf_open(p, SFM_READ, &si);
    assert_non_null(f);
    assert_int_equal(si.channels, 1);
    float buf[4096];
    double peak = 0;
    sf_count_t got;
    while ((got = sf_readf_float(f, buf, 4096)) > 0)
        for (sf_count_t i = 0; i < got; i++) peak = fmax(peak, fabs(buf[i]));
    sf_close(f);
    assert_true(peak < 1e-4); /* 16-bit dither at most */
    json_t *l = ref_json(out, "listen.json");
    const json_t *mono = json_array_get(json_object_get(l, "systems"), 5);
    assert_string_equal(json_string_value(json_object_get(mono, "name")), "mono");
    assert_true(ref_num(mono, "mono_drop_db", NULL) < -40);
    assert_true(json_array_size(json_object_get(mono, "warnings")) > 0);
    assert_true(json_array_size(json_object_get(mono, "vanishing_in_mono")) == 5);
    s_expect_in_qc(out, l);
    json_decref(l);
}

/* A 440 Hz tone out of phase: in mono it is gone, but only its own band
 * vanishes; the other four hold nothing but the analysis's leakage (they
 * were all said to "cancel completely"), and the whole master cancels
 * (it said "loses inf dB"). */
static void test_listen_side_tone(void **state)
{
    (void)state;
    char dir[600], out[700];
    ref_dir(dir, sizeof dir, "side-tone");
    const long n = 3 * RATE;
    float *x = malloc(sizeof *x * 2 * (size_t)n);
    assert_non_null(x);
    for (long i = 0; i < n; i++)
        x[2 * i] = (float)(0.3 * sin(2 * M_PI * 440.0 * (double)i / RATE)),
              x[2 * i + 1] = -x[2 * i];
    s_render_stereo(dir, "side.wav", x, n, out, sizeof out);
    free(x);
    json_t *l = ref_json(out, "listen.json");
    const json_t *mono = json_array_get(json_object_get(l, "systems"), 5);
    const json_t *van = json_object_get(mono, "vanishing_in_mono");
    assert_int_equal(json_array_size(van), 1);
    assert_true(ref_num(json_array_get(van, 0), "lo_hz", NULL) < 440.0);
    assert_true(ref_num(json_array_get(van, 0), "hi_hz", NULL) > 440.0);
    char *text = json_dumps(json_object_get(mono, "warnings"), 0);
    assert_non_null(text);
    assert_non_null(strstr(text, "summed to mono the master cancels completely"));
    assert_null(strstr(text, "inf dB"));
    free(text);
    json_decref(l);
}

/* The mono copy's 16-bit samples, recomputed here from mix.wav as
 * exec_listen.c documents them: m = (L + R) / 2, then TPDF dither from the
 * murmur3 finaliser of the sample's index, clamped and rounded. Byte for
 * byte, whichever path (x86-64-v4, AVX2, plain C) the machine took. */
static int16_t s_dithered(float m, uint32_t i)
{
    uint32_t h = i * 0x9E3779B9u;
    h ^= h >> 16, h *= 0x85EBCA6Bu, h ^= h >> 13, h *= 0xC2B2AE35u, h ^= h >> 16;
    const float d = (float)(h & 0xFFFFu) / 65536.0f + (float)(h >> 16) / 65536.0f - 1.0f;
    float y = m * 32768.0f + d;
    y = y < -32768.0f ? -32768.0f : y > 32767.0f ? 32767.0f : y;
    return (int16_t)((int)(y + 32768.5f) - 32768); /* floor(y + 0.5), in float */
}

static void test_listen_dither_exact(void **state)
{
    (void)state;
    char dir[600], p[1400], out[700];
    ref_dir(dir, sizeof dir, "dither");
    const long n = RATE + 4321; /* not a multiple of any block */
    float *x = malloc(sizeof *x * 2 * (size_t)n);
    uint64_t st = 11;
    for (long i = 0; i < 2 * n; i++) x[i] = (float)(0.6 * ref_noise(&st));
    x[0] = 1.0f, x[1] = 1.0f, x[2] = -1.0f, x[3] = -1.0f; /* both clamps */
    s_render_stereo(dir, "st.wav", x, n, out, sizeof out);
    free(x);
    SF_INFO mi = {0}, li = {0};
    snprintf(p, sizeof p, "%s/mix.wav", out);
    SNDFILE *mf = sf_open(p, SFM_READ, &mi);
    snprintf(p, sizeof p, "%s/listen/mono.wav", out);
    SNDFILE *lf = sf_open(p, SFM_READ, &li);
    assert_non_null(mf);
    assert_non_null(lf);
    assert_int_equal(mi.channels, 2);
    assert_int_equal(li.channels, 1);
    assert_int_equal(li.format, SF_FORMAT_WAV | SF_FORMAT_PCM_16);
    assert_int_equal(mi.frames, li.frames);
    float *mix = malloc(sizeof *mix * 2 * (size_t)mi.frames);
    short *mono = malloc(sizeof *mono * (size_t)li.frames);
    assert_int_equal(sf_readf_float(mf, mix, mi.frames), mi.frames);
    assert_int_equal(sf_readf_short(lf, mono, li.frames), li.frames);
    sf_close(mf), sf_close(lf);
    long wrong = 0, first = -1;
    for (sf_count_t i = 0; i < li.frames; i++) {
        const int16_t want = s_dithered(0.5f * (mix[2 * i] + mix[2 * i + 1]), (uint32_t)i);
        if (mono[i] != want && !wrong++) first = (long)i;
    }
    free(mix), free(mono);
    if (wrong)
        fail_msg("%ld of %ld samples differ, the first at %ld", wrong, (long)li.frames, first);
}

/* The kinds and names of diff's "changed" list, as "kind name;" in order. */
static void s_list(const json_t *arr, char *out, size_t n)
{
    out[0] = 0;
    for (size_t i = 0; i < json_array_size(arr); i++) {
        const json_t *c = json_array_get(arr, i);
        size_t k = strlen(out);
        snprintf(out + k, n - k, "%s %s;", json_string_value(json_object_get(c, "kind")),
                 json_string_value(json_object_get(c, "name")));
    }
}

/* text as DIR/TAG.json, rendered into DIR/out-TAG (its path into out). */
static void s_render_doc(const char *dir, const char *tag, const char *text, char *out, size_t n)
{
    char p[800];
    snprintf(p, sizeof p, "%s/%s.json", dir, tag);
    ref_text(p, text);
    snprintf(out, n, "%s/out-%s", dir, tag);
    test_run_t r = ref_run("render", p, "-o", out, "--quiet", "--workers", "2", NULL);
    if (r.rc) fail_msg("render of %s exited %d: %s", p, r.rc, r.err);
    test_run_free(&r);
}

static void test_diff_fader(void **state)
{
    (void)state;
    char dir[600], p[700], o1[700], o2[700];
    ref_dir(dir, sizeof dir, "diff");
    for (int i = 1; i <= 4; i++) {
        snprintf(p, sizeof p, "%s/t%d.wav", dir, i);
        ref_noise_wav(p, 3, 0.05, i % 2, (uint64_t)(10 + i));
    }
    static const char *const doc =
        "{\"mixfarm\": 1, \"name\": \"Diff\", \"tracks\": ["
        "{\"name\": \"T1\", \"file\": \"t1.wav\", \"gain_db\": %s, \"output\": \"B1\"},"
        "{\"name\": \"T2\", \"file\": \"t2.wav\", \"output\": \"B1\"},"
        "{\"name\": \"T3\", \"file\": \"t3.wav\", \"output\": \"B2\"},"
        "{\"name\": \"T4\", \"file\": \"t4.wav\", \"output\": \"B2\"}],"
        "\"buses\": [{\"name\": \"B1\"}, {\"name\": \"B2\"}],"
        "\"mastering\": {\"target\": \"streaming\"}, \"outputs\": [{\"format\": \"wav\", \"bits\": "
        "24}]}";
    char text[2048];
    const char *gains[2] = {"0", "-4"};
    for (int v = 0; v < 2; v++) {
        snprintf(text, sizeof text, doc, gains[v]);
        snprintf(p, sizeof p, "%s/s%d.json", dir, v);
        ref_text(p, text);
        snprintf(v ? o2 : o1, sizeof o1, "%s/out%d", dir, v);
        test_run_t r = ref_run("render", p, "-o", v ? o2 : o1, "--quiet", "--workers", "2", NULL);
        if (r.rc) fail_msg("render exited %d: %s", r.rc, r.err);
        test_run_free(&r);
    }
    test_run_t r = ref_run("diff", o1, o2, "--json", NULL);
    if (r.rc) fail_msg("diff exited %d: %s", r.rc, r.err);
    json_error_t e;
    json_t *d = json_loads(r.out, 0, &e);
    if (!d) fail_msg("not JSON: %s", e.text);
    char got[2048];
    s_list(json_object_get(d, "changed"), got, sizeof got);
    assert_string_equal(got, "track T1;bus B1;stem B1;mix mix.wav;master master;"
                             "deliverable master/Diff.wav;");
    const json_t *t1 = json_array_get(json_object_get(d, "changed"), 0);
    assert_near(ref_num(t1, "level_db", NULL), -4.0, 1e-9);
    const json_t *g = json_object_get(json_object_get(t1, "params"), "gain_db");
    assert_near(json_number_value(json_array_get(g, 0)), 0, 0);
    assert_near(json_number_value(json_array_get(g, 1)), -4, 0);
    const json_t *stem = json_array_get(json_object_get(d, "changed"), 2);
    assert_true(ref_num(stem, "level_db", NULL) < -0.5);
    assert_int_equal(json_array_size(json_object_get(stem, "bands")), 31);
    s_list(json_object_get(d, "unchanged"), got, sizeof got);
    assert_string_equal(got, "track T2;track T3;track T4;bus B2;stem B2;");
    json_decref(d);
    test_run_free(&r);
    r = ref_run("diff", o1, o1, NULL); /* the same render: nothing changed */
    assert_int_equal(r.rc, 0);
    assert_non_null(strstr(r.out, "0 changed"));
    assert_null(strstr(r.err, "arithmetic"));
    test_run_free(&r);
    r = ref_run("diff", o1, o2, NULL); /* the text: each change once, no separator after it */
    assert_non_null(strstr(r.out, " gain_db 0 -> -4\n"));
    test_run_free(&r);

    /* The same audio named another way ("./t2.wav"): nothing changed. */
    char o4[700];
    snprintf(text, sizeof text, doc, "0");
    char *t2 = strstr(text, "\"t2.wav\"");
    assert_non_null(t2);
    memmove(t2 + 3, t2 + 1, strlen(t2 + 1) + 1), memcpy(t2 + 1, "./", 2);
    s_render_doc(dir, "renamed", text, o4, sizeof o4);
    r = ref_run("diff", o1, o4, NULL);
    if (!strstr(r.out, "0 changed")) fail_msg("diff of t2.wav as ./t2.wav:\n%s", r.out);
    test_run_free(&r);

    /* A track taken out: said as removed, without its every parameter. */
    char o3[700];
    snprintf(text, sizeof text, doc, "0");
    char *t4 = strstr(text, ",{\"name\": \"T4\"");
    assert_non_null(t4);
    memmove(t4, strchr(t4 + 1, '}') + 1, strlen(strchr(t4 + 1, '}') + 1) + 1);
    s_render_doc(dir, "removed", text, o3, sizeof o3);
    r = ref_run("diff", o1, o3, NULL);
    const char *line = strstr(r.out, "  track       T4 ");
    const char *arrow = line ? strstr(line, "->") : NULL;
    if (!line || !strstr(line, "(removed)\n") || (arrow && arrow < strchr(line, '\n')))
        fail_msg("diff of a removed track:\n%s", r.out);
    test_run_free(&r);

    /* A compressor put on B1: one entry holding it, not one per key. */
    char o7[700];
    snprintf(text, sizeof text, doc, "0");
    char *b1 = strstr(text, "{\"name\": \"B1\"}");
    assert_non_null(b1);
    char rest[1024];
    snprintf(rest, sizeof rest, "%s", b1 + strlen("{\"name\": \"B1\"}"));
    snprintf(b1, sizeof text - (size_t)(b1 - text),
             "{\"name\": \"B1\", \"inserts\": [{\"type\": \"compressor\", \"ratio\": 3}]}%s", rest);
    s_render_doc(dir, "insert", text, o7, sizeof o7);
    r = ref_run("diff", o1, o7, "--json", NULL);
    d = json_loads(r.out, 0, &e);
    if (!d) fail_msg("not JSON: %s", r.out);
    const json_t *bus = NULL;
    for (size_t i = 0; i < json_array_size(json_object_get(d, "changed")); i++) {
        const json_t *c = json_array_get(json_object_get(d, "changed"), i);
        if (!strcmp(json_string_value(json_object_get(c, "kind")), "bus")) bus = c;
    }
    assert_non_null(bus);
    const json_t *bp = json_object_get(bus, "params");
    const json_t *added = json_object_get(bp, "inserts[0]");
    if (json_object_size(bp) != 1 || !json_is_null(json_array_get(added, 0)) ||
        json_integer_value(json_object_get(json_array_get(added, 1), "ratio")) != 3)
        fail_msg("diff of an insert put on a bus: %s", r.out);
    json_decref(d);
    test_run_free(&r);

    /* A muted track's pan moved: nothing heard changed, and diff says so,
     * with what moved (a revision on a track left muted or not soloed). */
    char o5[700], o6[700];
    const char *pans[2] = {"0", "0.5"};
    for (int v = 0; v < 2; v++) {
        snprintf(text, sizeof text, doc, "0");
        char *t = strstr(text, "\"t4.wav\", \"output\": \"B2\"}");
        assert_non_null(t);
        char tail[1024];
        snprintf(tail, sizeof tail,
                 "\"t4.wav\", \"output\": \"B2\", \"mute\": true, \"pan\": %s}%s", pans[v],
                 strchr(t, '}') + 1);
        snprintf(t, sizeof text - (size_t)(t - text), "%s", tail);
        s_render_doc(dir, v ? "muted-b" : "muted-a", text, v ? o6 : o5, sizeof o5);
    }
    r = ref_run("diff", o5, o6, "--json", NULL);
    d = json_loads(r.out, 0, &e);
    if (!d) fail_msg("not JSON: %s", r.out);
    assert_int_equal(json_array_size(json_object_get(d, "changed")), 0);
    const json_t *un = json_object_get(d, "unchanged"), *muted = NULL;
    for (size_t i = 0; i < json_array_size(un); i++)
        if (!strcmp(json_string_value(json_object_get(json_array_get(un, i), "name")), "T4"))
            muted = json_array_get(un, i);
    assert_non_null(muted);
    assert_non_null(json_object_get(json_object_get(muted, "params"), "pan"));
    assert_non_null(strstr(json_string_value(json_object_get(muted, "note")), "silent in both"));
    json_decref(d);
    test_run_free(&r);
    r = ref_run("diff", o5, o6, NULL);
    line = strstr(r.out, "  track       T4 ");
    if (!line || !strstr(line, "silent in both") || !strstr(line, "pan 0 -> 0.5"))
        fail_msg("diff of a muted track's pan:\n%s", r.out);
    test_run_free(&r);

    /* render.json says the arithmetic; a render made with another is told. */
    char rp[800];
    snprintf(rp, sizeof rp, "%s/render.json", o2);
    json_t *rj = json_load_file(rp, 0, &e);
    assert_non_null(rj);
    const char *mine = json_string_value(json_object_get(rj, "numerics"));
    assert_non_null(mine);
    assert_true(!strncmp(mine, "dsp=", 4));
    json_object_set_new(rj, "numerics", json_string("dsp=neon qc=c"));
    assert_int_equal(json_dump_file(rj, rp, JSON_INDENT(1)), 0);
    json_decref(rj);
    r = ref_run("diff", o1, o2, NULL);
    assert_int_equal(r.rc, 0);
    print_message("    %s", r.err);
    assert_non_null(strstr(r.err, "arithmetic and"));
    assert_non_null(strstr(r.err, "with dsp=neon qc=c:"));
    test_run_free(&r);
}

static void test_init(void **state)
{
    (void)state;
    char dir[600], p[800], out[700];
    ref_dir(dir, sizeof dir, "init");
    snprintf(p, sizeof p, "%s/audio", dir);
    mkdir(p, 0755);
    /* file, bus, and what else it gets: "L"/"R" panned, "M" muted */
    static const char *const files[][3] = {
        {"Kick In.wav", "Drums", ""},      {"snare_top.wav", "Drums", ""},
        {"OH L.wav", "Drums", "L"},        {"OH R.wav", "Drums", "R"},
        {"HiHat.wav", "Drums", ""},        {"Tom 1.wav", "Drums", ""},
        {"Bass DI.wav", "Bass", ""},       {"Bass Bottom.wav", "Bass", ""},
        {"gtr_rhythm.wav", "Guitars", ""}, {"Lead Vox.wav", "Vocals", ""},
        {"BV 2.wav", "Vocals", ""},        {"Guide Vox.wav", "Vocals", "M"},
        {"piano.wav", "Keys", ""},         {"Synth.wav", "Keys", ""},
        {"tambourine.wav", "Drums", ""},   {"Click.wav", "Other", "M"},
        {"Harmonica.wav", "Other", ""},    {"Vox L.wav", "Vocals", ""},
        {"HH.wav", "Drums", ""},           {"Lead Sax.wav", "Horns", ""},
        {"Violins 1.wav", "Strings", ""},  {"Contrabass.wav", "Strings", ""}};
    const size_t n = sizeof files / sizeof files[0];
    for (size_t i = 0; i < n; i++) {
        snprintf(p, sizeof p, "%s/audio/%s", dir, files[i][0]);
        if (!strstr(files[i][0], " L.") && !strstr(files[i][0], " R.")) {
            ref_noise_wav(p, 1.5, 0.05, 0, 20 + i);
            continue;
        }
        /* One side of a pair: mono. */
        const long frames = (long)(1.5 * RATE);
        float *x = malloc(sizeof *x * (size_t)frames);
        assert_non_null(x);
        uint64_t st = 20 + i;
        for (long k = 0; k < frames; k++) x[k] = (float)(0.05 * ref_noise(&st));
        ref_write(p, x, frames, 1, RATE);
        free(x);
    }
    /* Links: a folder linked back to the project (a loop), and a second
     * name of one recording. Each recording is one track all the same. */
    char target[900];
    snprintf(p, sizeof p, "%s/audio/again", dir);
    assert_int_equal(symlink("..", p), 0);
    snprintf(target, sizeof target, "%s/audio/Kick In.wav", dir);
    snprintf(p, sizeof p, "%s/audio/kick-copy.wav", dir);
    assert_int_equal(link(target, p), 0);
    test_run_t r = ref_run("init", dir, NULL);
    if (r.rc) fail_msg("init exited %d: %s", r.rc, r.err);
    if (!strstr(r.err, "met before under another name")) fail_msg("links not said: %s", r.err);
    test_run_free(&r);
    json_t *s = ref_json(dir, "session.json");
    const json_t *tracks = json_object_get(s, "tracks");
    if (json_array_size(tracks) != n) {
        char *t = json_dumps(tracks, 0);
        fail_msg("%zu tracks, not %zu: %s", json_array_size(tracks), n, t);
    }
    for (size_t i = 0; i < n; i++) {
        const json_t *t = NULL;
        char want[300];
        snprintf(want, sizeof want, "audio/%s", files[i][0]);
        for (size_t k = 0; k < n; k++)
            if (!strcmp(json_string_value(json_object_get(json_array_get(tracks, k), "file")),
                        want))
                t = json_array_get(tracks, k);
        if (!t) fail_msg("no track for %s", want);
        if (strcmp(json_string_value(json_object_get(t, "output")), files[i][1]))
            fail_msg("%s went to %s, not %s", want, json_string_value(json_object_get(t, "output")),
                     files[i][1]);
        const double pan = json_number_value(json_object_get(t, "pan"));
        const int muted = json_is_true(json_object_get(t, "mute"));
        const char *got = pan < 0 ? "L" : pan > 0 ? "R" : muted ? "M" : "";
        if (strcmp(got, files[i][2]) || (pan != 0 && fabs(pan) != 1.0))
            fail_msg("%s: pan %g, mute %d (want \"%s\")", want, pan, muted, files[i][2]);
    }
    assert_int_equal(json_array_size(json_object_get(s, "stems")), 8); /* every bus */
    json_decref(s);
    r = ref_run("init", dir, NULL); /* never overwrites without --force */
    assert_int_equal(r.rc, 2);
    test_run_free(&r);
    r = ref_run("init", dir, "--force", NULL);
    assert_int_equal(r.rc, 0);
    test_run_free(&r);
    snprintf(p, sizeof p, "%s/session.json", dir);
    snprintf(out, sizeof out, "%s/out", dir);
    r = ref_run("render", p, "-o", out, "--quiet", "--workers", "2", NULL);
    if (r.rc) fail_msg("the session init wrote does not render (exit %d): %s", r.rc, r.err);
    test_run_free(&r);
    snprintf(p, sizeof p, "%s/stems/Drums.wav", out);
    struct stat st;
    assert_int_equal(stat(p, &st), 0);
    /* Written again with that render in the folder: its mix, stems and
     * listening copies are not recordings, and stay out (they came back as
     * 14 more tracks). */
    r = ref_run("init", dir, "--force", NULL);
    assert_int_equal(r.rc, 0);
    assert_non_null(strstr(r.err, "out: a mixfarm render's output, left out"));
    test_run_free(&r);
    s = ref_json(dir, "session.json");
    assert_int_equal(json_array_size(json_object_get(s, "tracks")), n);
    json_decref(s);
}

/* The session's rate: the most common studio rate, not that of a few
 * phone memos; the higher of two as common; a low rate only when every
 * file has it. An empty file is said to be empty. */
static void test_init_rates(void **state)
{
    (void)state;
    static const struct {
        int rates[4];
        int want;
    } c[] = {{{8000, 8000, 96000, 0}, 96000},
             {{44100, 44100, 96000, 8000}, 44100},
             {{48000, 96000, 0, 0}, 96000},
             {{8000, 8000, 11025, 0}, 8000}};
    float x[800] = {0};
    for (size_t k = 0; k < 800; k++) x[k] = 0.1f * sinf(0.05f * (float)k);
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        char dir[600], p[800];
        char name[32];
        snprintf(name, sizeof name, "init_rates%zu", i);
        ref_dir(dir, sizeof dir, name);
        for (int f = 0; f < 4 && c[i].rates[f]; f++) {
            snprintf(p, sizeof p, "%s/take%d.wav", dir, f);
            ref_write(p, x, 800, 1, c[i].rates[f]);
        }
        snprintf(p, sizeof p, "%s/Empty.wav", dir);
        fclose(fopen(p, "w"));
        test_run_t r = ref_run("init", dir, NULL);
        if (r.rc) fail_msg("init exited %d: %s", r.rc, r.err);
        if (!strstr(r.err, "Empty.wav: warning: not read (an empty file)"))
            fail_msg("the empty file: %s", r.err);
        test_run_free(&r);
        json_t *s = ref_json(dir, "session.json");
        const int got = (int)json_integer_value(json_object_get(s, "sample_rate"));
        if (got != c[i].want) fail_msg("case %zu: session rate %d, not %d", i, got, c[i].want);
        json_decref(s);
    }
}

/* A mono WAV of seconds of noise, stamped (BWF bext) at stamp_s after
 * midnight unless stamp_s < 0. */
static void s_stamped_wav(const char *path, double seconds, double stamp_s, uint64_t seed)
{
    const long n = (long)(seconds * RATE);
    float *x = malloc(sizeof *x * (size_t)n);
    assert_non_null(x);
    for (long k = 0; k < n; k++) x[k] = (float)(0.05 * ref_noise(&seed));
    SF_INFO si = {.samplerate = RATE, .channels = 1, .format = SF_FORMAT_WAV | SF_FORMAT_PCM_24};
    SNDFILE *f = sf_open(path, SFM_WRITE, &si);
    assert_non_null(f);
    if (stamp_s >= 0) {
        SF_BROADCAST_INFO bi;
        memset(&bi, 0, sizeof bi);
        const uint64_t tr = (uint64_t)llround(stamp_s * RATE);
        bi.time_reference_low = (uint32_t)tr, bi.time_reference_high = (uint32_t)(tr >> 32);
        snprintf(bi.originator, sizeof bi.originator, "test");
        assert_int_equal(sf_command(f, SFC_SET_BROADCAST_INFO, &bi, sizeof bi), SF_TRUE);
    }
    assert_int_equal(sf_writef_float(f, x, n), n);
    sf_close(f);
    free(x);
}

/* Region exports from a DAW: each file stamped where it began (01:00:00,
 * then 12.5 s and 30.25 s later) goes there on the timeline, the earliest
 * at 0; a file without a stamp starts at 0; all stamped alike, none moves. */
static void test_init_bwf(void **state)
{
    (void)state;
    char dir[600], p[800];
    ref_dir(dir, sizeof dir, "init_bwf");
    static const struct {
        const char *file;
        double stamp_s, want_s;
    } f[] = {{"Verse Vox.wav", 3600 + 12.5, 12.5},
             {"Intro Gtr.wav", 3600, 0},
             {"Outro Keys.wav", 3600 + 30.25, 30.25},
             {"Room.wav", -1, 0}};
    for (size_t i = 0; i < 4; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, f[i].file);
        s_stamped_wav(p, 1.0, f[i].stamp_s, 40 + i);
    }
    test_run_t r = ref_run("init", dir, NULL);
    if (r.rc) fail_msg("init exited %d: %s", r.rc, r.err);
    assert_non_null(strstr(r.out, "2 placed by their BWF time stamps"));
    test_run_free(&r);
    json_t *s = ref_json(dir, "session.json");
    const json_t *tracks = json_object_get(s, "tracks");
    for (size_t i = 0; i < 4; i++)
        for (size_t k = 0; k < json_array_size(tracks); k++) {
            const json_t *t = json_array_get(tracks, k);
            if (strcmp(json_string_value(json_object_get(t, "file")), f[i].file)) continue;
            const json_t *st = json_object_get(t, "start_s");
            assert_near(st ? json_number_value(st) : 0.0, f[i].want_s, 1e-6);
        }
    json_decref(s);
    snprintf(p, sizeof p, "%s/out", dir);
    char session[800];
    snprintf(session, sizeof session, "%s/session.json", dir);
    r = ref_run("render", session, "-o", p, "--quiet", NULL);
    if (r.rc) fail_msg("the placed session does not render (exit %d): %s", r.rc, r.err);
    test_run_free(&r);
    snprintf(p, sizeof p, "%s/out/mix.wav", dir);
    SF_INFO si = {0};
    SNDFILE *mix = sf_open(p, SFM_READ, &si);
    assert_non_null(mix);
    sf_close(mix);
    assert_true(si.frames >= (sf_count_t)(31.25 * RATE)); /* the last region's end */

    /* All stamped alike (exported from the session's start): nobody moves. */
    for (size_t i = 0; i < 4; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, f[i].file);
        s_stamped_wav(p, 1.0, 3600, 40 + i);
    }
    r = ref_run("init", dir, "--force", NULL);
    assert_int_equal(r.rc, 0);
    assert_null(strstr(r.out, "placed by"));
    test_run_free(&r);
    s = ref_json(dir, "session.json");
    tracks = json_object_get(s, "tracks");
    for (size_t k = 0; k < json_array_size(tracks); k++)
        assert_null(json_object_get(json_array_get(tracks, k), "start_s"));
    json_decref(s);
}

int main(void)
{
    ref_setup();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_compare_shelf),    cmocka_unit_test(test_compare_mono),
        cmocka_unit_test(test_match_reference),  cmocka_unit_test(test_listen_side_only),
        cmocka_unit_test(test_listen_side_tone), cmocka_unit_test(test_listen_dither_exact),
        cmocka_unit_test(test_diff_fader),       cmocka_unit_test(test_init),
        cmocka_unit_test(test_init_rates),       cmocka_unit_test(test_init_bwf),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    ref_teardown();
    return rc;
}
