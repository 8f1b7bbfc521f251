/* Auxiliary inputs in the planner and the executors: a convolution reverb's
 * impulse response becomes a decode task (session rate, from 0) and one more
 * input of the channel that uses it, once per file; channels without one
 * plan as before. Then, end to end in process (session -> plan -> the
 * worker's executors -> the mix blob): the mix equals a direct convolution
 * of the source with the IR computed here (relative error < 1e-5), and a
 * multiband's band automation takes effect. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sndfile.h>

#include "mf_exec.h"
#include "mf_fs.h"
#include "mf_gain.h"
#include "mf_params.h"
#include "mf_pcm.h"
#include "mf_plan.h"
#include "mf_sched.h"
#include "mf_session.h"
#include "test_audio.h"

#define RATE 48000
#define NX 24000 /* the dry source: 0.5 s */
#define NH 9000  /* the IR: 0.1875 s, stereo */

static char s_dir[512];
static float s_x[NX], s_h[2 * NH];

static uint32_t s_rng = 99;
static float rnd(void)
{
    s_rng = s_rng * 1664525u + 1013904223u;
    return (float)((double)s_rng / 4294967296.0 - 0.5);
}

static void write_float_wav(const char *name, int channels, const float *x, int frames)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", s_dir, name);
    test_audio_write(path, channels, RATE, SF_FORMAT_WAV | SF_FORMAT_FLOAT, x, frames);
}

static int group_setup(void **state)
{
    (void)state;
    const char *tmp = getenv("TMPDIR");
    snprintf(s_dir, sizeof s_dir, "%s/mf-plan-ir-XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
    if (!mkdtemp(s_dir)) return -1;
    for (int i = 0; i < NX; i++) s_x[i] = 0.5f * rnd();
    for (int i = 0; i < NH; i++) {
        const float env = (float)exp(-5.0 * i / NH);
        s_h[2 * i] = env * rnd(), s_h[2 * i + 1] = env * rnd();
    }
    write_float_wav("dry.wav", 1, s_x, NX);
    write_float_wav("ir.wav", 2, s_h, NH);
    float tone[2 * RATE];
    for (int i = 0; i < 2 * RATE; i++) tone[i] = (float)(0.5 * sin(2 * M_PI * 1000.0 * i / RATE));
    write_float_wav("tone.wav", 1, tone, 2 * RATE);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    mf_fs_remove_tree(s_dir);
    return 0;
}

static mf_session_t *load(const char *name, const char *json)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", s_dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(json, f);
    fclose(f);
    mf_diags_t d;
    mf_diags_init(&d, path);
    mf_session_t *s = mf_session_load(path, &d);
    if (!s) mf_diags_print(&d);
    mf_diags_fini(&d);
    assert_non_null(s);
    return s;
}

/* Every source into the store (tracks' files, no cover or reference, then
 * the auxiliary files: the slots of mf_plan_session_sources), then planned. */
static mf_plan_t *plan_real(const mf_session_t *s, mf_store_t *store)
{
    const size_t n = MF_PLAN_AUX_SOURCE(s, s->n_aux);
    mf_hash_t *src = calloc(n + 1, sizeof *src);
    assert_non_null(src);
    for (size_t i = 0; i < s->n_tracks; i++)
        assert_int_equal(mf_store_put_file(store, s->tracks[i].file, &src[i]), MF_OK);
    for (size_t k = 0; k < s->n_aux; k++)
        assert_int_equal(mf_store_put_file(store, s->aux[k].file, &src[MF_PLAN_AUX_SOURCE(s, k)]),
                         MF_OK);
    if (s->n_aux) assert_null(mf_plan_session(s, src)); /* tracks only: refused */
    mf_plan_t *p = mf_plan_session_sources(s, src, n);
    assert_null(mf_plan_session_sources(s, src, n + 1)); /* a wrong count is refused */
    free(src);
    assert_non_null(p);
    return p;
}

static int find(const mf_plan_t *p, const char *label)
{
    for (size_t i = 0; i < p->n_tasks; i++)
        if (!strcmp(p->tasks[i].label, label)) return (int)i;
    fail_msg("no task \"%s\"", label);
    return -1;
}

/* Runs every task in order with the in-process executors; the mix's hash. */
static mf_hash_t run(const mf_plan_t *p, mf_store_t *store)
{
    mf_action_cache_t cache = mf_sched_store_cache(store);
    mf_sched_t *sc = mf_sched_new(p, &cache);
    assert_non_null(sc);
    for (int guard = 0; !mf_sched_finished(sc); guard++) {
        mf_task_t t;
        assert_true(guard < 1000);
        while (mf_sched_next(sc, &t)) {
            mf_task_result_t r;
            if (mf_exec_run(store, &t, &r) != MF_OK)
                fail_msg("%s failed: %s", p->tasks[t.id].label, r.error);
            mf_sched_complete(sc, &r);
            mf_task_result_fini(&r);
            mf_task_fini(&t);
        }
    }
    assert_null(mf_sched_error(sc));
    const mf_hash_t mix = *mf_sched_port(sc, p->mix);
    mf_sched_free(&sc);
    return mix;
}

static float *read_mix(mf_store_t *store, const mf_hash_t *h, mf_pcm_info_t *info)
{
    mf_pcm_reader_t *r;
    assert_int_equal(mf_pcm_reader_open(store, h, &r), MF_OK);
    *info = *mf_pcm_reader_info(r);
    float *y = malloc((size_t)info->frames * 2 * sizeof *y + 1);
    assert_int_equal(mf_pcm_reader_read_span(r, 0, (size_t)info->frames, y), MF_OK);
    mf_pcm_reader_free(&r);
    return y;
}

static const char *s_verb =
    "{\"mixfarm\": 1, \"sample_rate\": 48000, \"tracks\": ["
    " {\"name\": \"Dry\", \"file\": \"dry.wav\", \"output\": \"Verb\"},"
    " {\"name\": \"Off\", \"file\": \"dry.wav\", \"mute\": true, \"inserts\": "
    "  [{\"type\": \"reverb\", \"ir\": \"tone.wav\"}]}],"
    " \"buses\": [{\"name\": \"Verb\", \"inserts\": [{\"type\": \"reverb\", \"ir\": \"ir.wav\","
    "  \"mix\": 1}, {\"type\": \"gain\"}, {\"type\": \"reverb\", \"ir\": \"ir.wav\", \"mix\": "
    "0}]}]}";

static void test_plan_shape(void **state)
{
    (void)state;
    char sdir[1024];
    snprintf(sdir, sizeof sdir, "%s/store1", s_dir);
    mf_store_t *store = mf_store_open(sdir);
    mf_session_t *s = load("verb.json", s_verb);
    assert_int_equal(s->n_aux, 2);
    mf_plan_t *p = plan_real(s, store);
    /* ir.wav decoded once, first; tone.wav not at all (its track is muted). */
    const int dec = find(p, "decode ir.wav");
    assert_int_equal(dec, 0);
    for (size_t i = 0; i < p->n_tasks; i++) assert_null(strstr(p->tasks[i].label, "tone.wav"));
    mf_decode_spec_t ds;
    const char *why = NULL;
    assert_int_equal(mf_decode_spec_from_json(p->tasks[dec].params, &ds, &why), MF_OK);
    assert_true(ds.from_s == 0 && ds.start_s == 0 && ds.length_s < 0 && ds.rate == RATE);
    /* The bus: its one summed input, then the IR once per insert using it. */
    const mf_plan_task_t *bus = &p->tasks[find(p, "bus Verb")];
    mf_chan_spec_t c;
    assert_int_equal(mf_chan_spec_from_json(bus->params, &c, &why), MF_OK);
    assert_int_equal(c.sum, 1);
    assert_int_equal(bus->n_in, 3);
    assert_int_equal(c.inserts[0].aux, 1);
    assert_int_equal(c.inserts[1].aux, -1);
    assert_int_equal(c.inserts[2].aux, 2);
    assert_int_equal(bus->in[1].task, dec);
    assert_int_equal(bus->in[2].task, dec);
    mf_chan_spec_fini(&c);
    /* Only channels with an IR carry "aux" in their parameters. */
    assert_non_null(strstr(bus->params, "\"aux\":1"));
    assert_null(strstr(p->tasks[find(p, "strip Dry")].params, "\"aux\""));
    mf_plan_free(&p);
    mf_session_free(&s);
    mf_store_free(&store);
}

static void test_render_equals_direct_convolution(void **state)
{
    (void)state;
    char sdir[1024];
    snprintf(sdir, sizeof sdir, "%s/store2", s_dir);
    mf_store_t *store = mf_store_open(sdir);
    mf_session_t *s = load("verb2.json", s_verb);
    mf_plan_t *p = plan_real(s, store);
    const mf_hash_t mix = run(p, store);
    mf_pcm_info_t info;
    float *y = read_mix(store, &mix, &info);
    assert_int_equal(info.channels, 2);
    assert_int_equal(info.start, 0);
    /* The source, then the tails of the chain summed: two reverbs of NH. */
    assert_int_equal(info.frames, NX + 2 * NH);
    /* The track: mono, centred (-3 dB law); the bus: the IR, then gain, then
     * a second reverb with mix 0 (dry: the signal as is). */
    double gl, gr;
    mf_pan_gains(0.0, -3.0, &gl, &gr);
    double err = 0, ref = 0;
    for (int c = 0; c < 2; c++)
        for (int t = 0; t < NX + 2 * NH; t++) {
            double acc = 0;
            for (int k = 0; k < NH && k <= t; k++)
                if (t - k < NX) acc += (double)s_h[2 * k + c] * (float)(s_x[t - k] * (float)gl);
            err = fmax(err, fabs(y[2 * t + c] - acc));
            ref = fmax(ref, fabs(acc));
        }
    printf("mix vs direct convolution: relative error %.3g\n", err / ref);
    assert_true(err / ref < 1e-5);
    free(y);
    mf_plan_free(&p);
    mf_session_free(&s);
    mf_store_free(&store);
}

static double rms_db(const float *y, int from, int to)
{
    double e = 0;
    for (int i = from; i < to; i++) e += (double)y[2 * i] * y[2 * i];
    return 10 * log10(e / (to - from));
}

static void test_multiband_automation(void **state)
{
    (void)state;
    char sdir[1024];
    snprintf(sdir, sizeof sdir, "%s/store3", s_dir);
    mf_store_t *store = mf_store_open(sdir);
    /* A 1 kHz tone in band 1 of 3: uncompressed for 1 s, then the band's
     * threshold drops to -50 dB at ratio 10. */
    mf_session_t *s =
        load("mb.json",
             "{\"mixfarm\": 1, \"sample_rate\": 48000, \"tracks\": [{\"name\": \"T\","
             " \"file\": \"tone.wav\", \"inserts\": [{\"type\": \"multiband\", "
             "\"crossovers_hz\": [200, 5000], \"bands\": [{}, {\"ratio\": 10, "
             "\"threshold_db\": 0}, {}]}],"
             " \"automation\": {\"inserts.0.bands.1.threshold_db\": [[1.0, 0], [1.01, -50]]}}]}");
    mf_plan_t *p = plan_real(s, store);
    const mf_hash_t mix = run(p, store);
    mf_pcm_info_t info;
    float *y = read_mix(store, &mix, &info);
    const double tone = 10 * log10(0.125) + 20 * log10(M_SQRT1_2); /* rms, panned centre */
    const double before = rms_db(y, RATE / 4, RATE - 480), after = rms_db(y, RATE + 4800, 2 * RATE);
    printf("1 kHz in band 1: %.3f dB before, %.3f dB after (tone %.3f dB)\n", before, after, tone);
    assert_true(fabs(before - tone) < 0.01);
    assert_true(after < tone - 20);
    free(y);
    mf_plan_free(&p);
    mf_session_free(&s);
    mf_store_free(&store);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plan_shape),
        cmocka_unit_test(test_render_equals_direct_convolution),
        cmocka_unit_test(test_multiband_automation),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
