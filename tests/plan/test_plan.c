/* coordinator/mf_plan.h and mf_sched.h: a session becomes a task DAG (fan-in,
 * sends, bus chains, mute and solo, sidechains), a routing cycle is refused
 * at load, and the scheduler with the in-process executors (worker/) reuses
 * the action cache: nothing re-runs that did not change.
 *
 * Sessions are JSON files written here next to small WAVs made with
 * libsndfile, in a mkdtemp folder. */
#include <math.h>
#include <stdatomic.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sndfile.h>
#include <unistd.h>

#include "no_cache.h"
#include "mf_exec.h"
#include "mf_fs.h"
#include "mf_params.h"
#include "mf_master_params.h"
#include "mf_pcm.h"
#include "mf_plan.h"
#include "mf_sched.h"
#include "mf_session.h"
#include "plan_fixture.h"
#include "test_audio.h"

static char s_dir[512];

/* ---- fixtures ----------------------------------------------------------- */

static void write_tone(const char *name, int channels, int rate, int frames, double freq)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", s_dir, name);
    float *buf = calloc((size_t)frames * (size_t)channels, sizeof *buf);
    assert_non_null(buf);
    for (int i = 0; i < frames; i++)
        for (int c = 0; c < channels; c++)
            buf[i * channels + c] = (float)(0.1 * sin(2.0 * M_PI * freq * i / rate));
    test_audio_write(path, channels, rate, SF_FORMAT_WAV | SF_FORMAT_FLOAT, buf, frames);
    free(buf);
}

static int group_setup(void **state)
{
    (void)state;
    const char *tmp = getenv("TMPDIR");
    snprintf(s_dir, sizeof s_dir, "%s/mf-plan-XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
    if (!mkdtemp(s_dir)) return -1;
    write_tone("a.wav", 1, 48000, 4800, 440.0);
    write_tone("b.wav", 1, 48000, 4800, 550.0);
    write_tone("c.wav", 1, 48000, 4800, 660.0);
    write_tone("st.wav", 2, 48000, 2400, 330.0);
    /* At another rate than the sessions': their strips resample them. */
    write_tone("c44.wav", 1, 44100, 4410, 660.0);
    write_tone("st44.wav", 2, 44100, 2205, 330.0);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    mf_fs_remove_tree(s_dir);
    return 0;
}

/* Writes the session text to name and loads it; fails the test on errors. */
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
    if (!s) {
        mf_diags_print(&d);
        mf_diags_fini(&d);
        fail_msg("%s did not load", name);
    }
    mf_diags_fini(&d);
    return s;
}

/* Fake source blobs, one per track: the planner never reads them. */
static mf_plan_t *plan(const mf_session_t *s)
{
    mf_hash_t *src = calloc(s->n_tracks + 1, sizeof *src);
    assert_non_null(src);
    for (size_t i = 0; i < s->n_tracks; i++)
        mf_hash_bytes(s->tracks[i].ch.name, strlen(s->tracks[i].ch.name), &src[i]);
    mf_plan_t *p = mf_plan_session(s, src);
    free(src);
    assert_non_null(p);
    return p;
}

static int find(const mf_plan_t *p, const char *label)
{
    for (size_t i = 0; i < p->n_tasks; i++)
        if (p->tasks[i].label && !strcmp(p->tasks[i].label, label)) return (int)i;
    return -1;
}

static int must_find(const mf_plan_t *p, const char *label)
{
    int i = find(p, label);
    if (i < 0) fail_msg("no task \"%s\" in the plan", label);
    return i;
}

/* Properties every plan has: topological order, ports in range, decode
 * tasks reading a file blob (impulse responses: a track's strip reads its
 * file itself, at any rate), channel params that parse, sum <= inputs, and
 * every strip reading its file itself. */
static void check_plan_shape(const mf_plan_t *p)
{
    int masters = 0;
    for (size_t i = 0; i < p->n_tasks; i++) {
        const mf_plan_task_t *t = &p->tasks[i];
        assert_non_null(t->kind);
        assert_non_null(t->label);
        assert_non_null(t->params);
        assert_true(t->n_out >= 1);
        for (size_t k = 0; k < t->n_in; k++) {
            const mf_port_t *in = &t->in[k];
            if (in->task < 0) {
                assert_true(mf_hash_valid(in->blob.hex));
                continue;
            }
            if ((size_t)in->task >= i)
                fail_msg("%s: input %zu comes from task %d, not before it", t->label, k, in->task);
            assert_true(in->output >= 0 && (size_t)in->output < p->tasks[in->task].n_out);
        }
        if (!strcmp(t->kind, "decode")) {
            assert_int_equal(t->n_in, 1);
            assert_int_equal(t->in[0].task, -1);
            mf_decode_spec_t d;
            const char *why = NULL;
            assert_int_equal(mf_decode_spec_from_json(t->params, &d, &why), MF_OK);
        } else if (!strcmp(t->kind, "strip") || !strcmp(t->kind, "bus") ||
                   !strcmp(t->kind, "master") || !strcmp(t->kind, "sum")) {
            mf_chan_spec_t c;
            const char *why = NULL;
            if (mf_chan_spec_from_json(t->params, &c, &why) != MF_OK)
                fail_msg("%s: params do not parse: %s", t->label, why);
            assert_true(c.sum <= t->n_in);
            assert_int_equal(c.n_outputs, t->n_out);
            const int strip = !strcmp(t->kind, "strip");
            assert_int_equal(c.has_decode, strip);
            if (strip) assert_int_equal(t->in[0].task, -1);
            /* No channel sums more than MF_SUM_FANIN (8) signals itself; a
             * partial sum is a unity channel. */
            if (strcmp(t->kind, "strip")) assert_true(c.sum <= 8);
            if (!strcmp(t->kind, "sum"))
                assert_true(c.n_inserts == 0 && c.gain_db == 0 && c.pan == 0 && c.n_outputs == 1 &&
                            c.outputs[0].level_db == 0 && !c.outputs[0].pre_fader);
            mf_chan_spec_fini(&c);
        }
        if (!strcmp(t->kind, "master")) masters++;
    }
    assert_int_equal(masters, 1);
    /* The mix comes from the master; the qc of what is delivered, then the
     * listening models (plan_listen.c) end the plan. */
    assert_string_equal(p->tasks[p->mix.task].kind, "master");
    assert_string_equal(p->tasks[p->n_tasks - 8].kind, "qc");
    for (size_t i = p->n_tasks - 7; i < p->n_tasks - 1; i++) {
        assert_string_equal(p->tasks[i].kind, "listen");
        /* The mix (these sessions are unmastered) is measured once, by its
         * qc, whose third output is listen.json's source (listen_stats.h). */
        assert_non_null(strstr(p->tasks[i].params, "\"source\":false"));
        assert_int_equal(p->tasks[i].n_out, 3);
    }
    const mf_plan_task_t *report = &p->tasks[p->n_tasks - 1];
    assert_string_equal(report->kind, "listen_report");
    assert_int_equal(p->tasks[p->n_tasks - 8].n_out, 3);
    assert_int_equal(report->in[0].task, (int)p->n_tasks - 8);
    assert_int_equal(report->in[0].output, 2);
    /* It completes the QC report: the qc task's qc.json and qc.html go in,
     * and OUTDIR's come out of it (listen.json, then those two). */
    assert_int_equal(report->n_in, 9);
    assert_int_equal(report->n_out, 3);
    for (int k = 0; k < 2; k++) {
        assert_int_equal(report->in[7 + k].task, (int)p->n_tasks - 8);
        assert_int_equal(report->in[7 + k].output, k);
    }
    for (size_t i = 0; i < p->n_outputs; i++) {
        const char *path = p->outputs[i].path;
        const int k = !strcmp(path, "listen.json") ? 0
                      : !strcmp(path, "qc.json")   ? 1
                      : !strcmp(path, "qc.html")   ? 2
                                                   : -1;
        if (k < 0) continue;
        assert_int_equal(p->outputs[i].port.task, (int)p->n_tasks - 1);
        assert_int_equal(p->outputs[i].port.output, k);
    }
    assert_int_equal(p->mix.output, 0);
}

static size_t spec_sum(const mf_plan_task_t *t)
{
    mf_chan_spec_t c;
    const char *why = NULL;
    assert_int_equal(mf_chan_spec_from_json(t->params, &c, &why), MF_OK);
    size_t sum = c.sum;
    mf_chan_spec_fini(&c);
    return sum;
}

static void expect_input(const mf_plan_t *p, const char *task, size_t k, const char *from,
                         int output)
{
    const mf_plan_task_t *t = &p->tasks[must_find(p, task)];
    if (k >= t->n_in) fail_msg("%s has %zu inputs, not %zu", task, t->n_in, k + 1);
    int src = must_find(p, from);
    if (t->in[k].task != src || t->in[k].output != output)
        fail_msg("%s input %zu: task %d output %d, want %s (task %d) output %d", task, k,
                 t->in[k].task, t->in[k].output, from, src, output);
}

/* Does any input of task come from producer? */
static int feeds(const mf_plan_t *p, int producer, int task)
{
    for (size_t k = 0; k < p->tasks[task].n_in; k++)
        if (p->tasks[task].in[k].task == producer) return 1;
    return 0;
}

/* ---- the graph ---------------------------------------------------------------- */

static void test_fan_in(void **state)
{
    (void)state;
    mf_session_t *s =
        load("fanin.json", "{\"mixfarm\": 1, \"tracks\": ["
                           " {\"name\": \"T1\", \"file\": \"a.wav\", \"output\": \"Drums\"},"
                           " {\"name\": \"T2\", \"file\": \"b.wav\", \"output\": \"Drums\"},"
                           " {\"name\": \"T3\", \"file\": \"c44.wav\", \"output\": \"Drums\"}],"
                           " \"buses\": [{\"name\": \"Drums\"}]}");
    mf_plan_t *p = plan(s);
    check_plan_shape(p);
    /* a strip per track (T3, at 44.1 kHz, too: it resamples its file
     * itself), bus, master, qc, listen (6 systems and the report) */
    assert_int_equal(p->n_tasks, 3 + 1 + 1 + 1 + 7);
    assert_int_equal(find(p, "decode T1"), -1);
    assert_int_equal(find(p, "decode T3"), -1);
    const mf_plan_task_t *bus = &p->tasks[must_find(p, "bus Drums")];
    assert_int_equal(bus->n_in, 3);
    assert_int_equal(spec_sum(bus), 3);
    expect_input(p, "bus Drums", 0, "strip T1", 0);
    expect_input(p, "bus Drums", 1, "strip T2", 0);
    expect_input(p, "bus Drums", 2, "strip T3", 0);
    const mf_plan_task_t *m = &p->tasks[p->mix.task];
    assert_int_equal(m->n_in, 1);
    expect_input(p, "master master", 0, "bus Drums", 0);
    /* Every strip reads its track's source blob, at the session rate. */
    mf_hash_t want;
    mf_hash_bytes("T2", 2, &want);
    assert_string_equal(p->tasks[must_find(p, "strip T2")].in[0].blob.hex, want.hex);
    mf_hash_bytes("T3", 2, &want);
    const mf_plan_task_t *t3 = &p->tasks[must_find(p, "strip T3")];
    assert_string_equal(t3->in[0].blob.hex, want.hex);
    mf_chan_spec_t c3;
    const char *why = NULL;
    assert_int_equal(mf_chan_spec_from_json(t3->params, &c3, &why), MF_OK);
    assert_true(c3.has_decode && c3.decode.rate == 48000);
    mf_chan_spec_fini(&c3);
    /* Default stems: every bus feeding master. */
    assert_int_equal(p->n_stems, 1);
    assert_string_equal(p->stems[0].name, "Drums");
    assert_int_equal(p->stems[0].port.task, must_find(p, "bus Drums"));
    mf_plan_free(&p);
    assert_null(p);
    mf_session_free(&s);
}

/* Eighteen tracks into one bus: partial sums of four consecutive inputs,
 * then of four partial sums, so the bus sums two signals; labels say which
 * of the bus's inputs each covers. */
static void test_partial_sums(void **state)
{
    (void)state;
    char json[8192];
    size_t n = (size_t)snprintf(json, sizeof json, "{\"mixfarm\": 1, \"tracks\": [");
    for (int i = 0; i < 66; i++)
        n += (size_t)snprintf(json + n, sizeof json - n,
                              "%s{\"name\": \"T%d\", \"file\": \"a.wav\", \"output\": \"Bus\"}",
                              i ? ", " : "", i + 1);
    snprintf(json + n, sizeof json - n, "], \"buses\": [{\"name\": \"Bus\"}]}");
    mf_session_t *s = load("sums.json", json);
    mf_plan_t *p = plan(s);
    check_plan_shape(p);
    /* Sums of 8 consecutive inputs, then of 8 of those sums. */
    expect_input(p, "sum Bus 1-8", 0, "strip T1", 0);
    expect_input(p, "sum Bus 1-8", 7, "strip T8", 0);
    expect_input(p, "sum Bus 57-64", 0, "strip T57", 0);
    expect_input(p, "sum Bus 65-66", 1, "strip T66", 0);
    expect_input(p, "sum Bus 1-64", 0, "sum Bus 1-8", 0);
    expect_input(p, "sum Bus 1-64", 7, "sum Bus 57-64", 0);
    const mf_plan_task_t *bus = &p->tasks[must_find(p, "bus Bus")];
    assert_int_equal(bus->n_in, 2);
    expect_input(p, "bus Bus", 0, "sum Bus 1-64", 0);
    expect_input(p, "bus Bus", 1, "sum Bus 65-66", 0);
    /* Eight channels or fewer sum themselves (the master: one bus). */
    assert_int_equal(find(p, "sum master 1-1"), -1);
    expect_input(p, "master master", 0, "bus Bus", 0);
    mf_plan_free(&p);
    mf_session_free(&s);
}

static void test_sends(void **state)
{
    (void)state;
    mf_session_t *s = load(
        "sends.json", "{\"mixfarm\": 1, \"tracks\": ["
                      " {\"name\": \"Vox\", \"file\": \"a.wav\", \"gain_db\": -2, \"sends\": ["
                      "   {\"bus\": \"Verb\", \"level_db\": -10, \"pre_fader\": false},"
                      "   {\"bus\": \"Cue\", \"level_db\": -6, \"pre_fader\": true}],"
                      "  \"automation\": {\"pan\": [[0, 0], [1, 0.5]]}},"
                      " {\"name\": \"Gtr\", \"file\": \"b.wav\", \"output\": \"Verb\","
                      "  \"gain_db\": -3, \"pan\": 0.25,"
                      "  \"sends\": [{\"bus\": \"Cue\", \"level_db\": \"-inf\"},"
                      "             {\"bus\": \"Verb\", \"level_db\": -4, \"pre_fader\": true}]}],"
                      " \"buses\": [{\"name\": \"Verb\"}, {\"name\": \"Cue\"}]}");
    mf_plan_t *p = plan(s);
    check_plan_shape(p);
    /* Vox's pan is automated: it pans itself, one output per send. */
    const mf_plan_task_t *vox = &p->tasks[must_find(p, "strip Vox")];
    assert_int_equal(vox->n_out, 3); /* post-fader, send 0, send 1 */
    mf_chan_spec_t c;
    const char *why = NULL;
    assert_int_equal(mf_chan_spec_from_json(vox->params, &c, &why), MF_OK);
    assert_int_equal(c.n_outputs, 3);
    assert_int_equal(c.outputs[0].pre_fader, 0);
    assert_true(c.outputs[0].level_db == 0.0);
    assert_int_equal(c.outputs[1].pre_fader, 0);
    assert_true(c.outputs[1].level_db == -10.0);
    assert_int_equal(c.outputs[2].pre_fader, 1);
    assert_true(c.outputs[2].level_db == -6.0);
    assert_true(c.gain_db == -2.0);
    mf_chan_spec_fini(&c);
    /* Verb sums tracks in session order, each one's output before its sends:
     * Vox send 0 (output 1), then Gtr's output and its pre-fader send. */
    expect_input(p, "bus Verb", 0, "strip Vox", 1);
    expect_input(p, "bus Verb", 1, "strip Gtr", 0);
    expect_input(p, "bus Verb", 2, "strip Gtr", 0);
    assert_int_equal(p->tasks[must_find(p, "bus Verb")].n_in, 3);
    /* Cue: Vox send 1 (output 2), Gtr send 0 at "-inf". */
    expect_input(p, "bus Cue", 0, "strip Vox", 2);
    expect_input(p, "bus Cue", 1, "strip Gtr", 0);
    assert_int_equal(p->tasks[must_find(p, "bus Cue")].n_in, 2);
    /* Gtr's pan, fader and levels are fixed: its strip is unpanned, with
     * one output and none of them in its key; the buses apply them. */
    const mf_plan_task_t *gtr = &p->tasks[must_find(p, "strip Gtr")];
    assert_int_equal(gtr->n_out, 1);
    assert_int_equal(mf_chan_spec_from_json(gtr->params, &c, &why), MF_OK);
    assert_true(c.unpanned && c.n_outputs == 1 && c.gain_db == 0.0 && c.pan == 0.0);
    assert_null(c.in_gains);
    mf_chan_spec_fini(&c);
    assert_int_equal(mf_chan_spec_from_json(p->tasks[must_find(p, "bus Verb")].params, &c, &why),
                     MF_OK);
    assert_non_null(c.in_gains);
    assert_false(c.in_gains[0].set); /* Vox pans itself */
    assert_true(c.in_gains[1].set && c.in_gains[1].pan == 0.25 && c.in_gains[1].fader_db == -3.0 &&
                c.in_gains[1].level_db == 0.0);
    assert_true(c.in_gains[2].set && c.in_gains[2].fader_db == 0.0 && /* pre-fader */
                c.in_gains[2].level_db == -4.0);
    mf_chan_spec_fini(&c);
    assert_int_equal(mf_chan_spec_from_json(p->tasks[must_find(p, "bus Cue")].params, &c, &why),
                     MF_OK);
    assert_true(c.in_gains[1].set && c.in_gains[1].level_db <= -144.0); /* silence, finite */
    assert_true(isfinite(c.in_gains[1].level_db));
    mf_chan_spec_fini(&c);
    /* Master: Vox output, then the buses in session order. */
    expect_input(p, "master master", 0, "strip Vox", 0);
    expect_input(p, "master master", 1, "bus Verb", 0);
    expect_input(p, "master master", 2, "bus Cue", 0);
    assert_int_equal(p->tasks[p->mix.task].n_in, 3);
    mf_plan_free(&p);
    mf_session_free(&s);
}

static void test_bus_chain_order(void **state)
{
    (void)state;
    /* B is listed before A, but A feeds B: A must be planned first. */
    mf_session_t *s =
        load("chain.json", "{\"mixfarm\": 1, \"tracks\": ["
                           " {\"name\": \"T1\", \"file\": \"a.wav\", \"output\": \"A\"},"
                           " {\"name\": \"T2\", \"file\": \"b.wav\", \"output\": \"B\"}],"
                           " \"buses\": [{\"name\": \"B\", \"gain_db\": -3},"
                           "             {\"name\": \"A\", \"output\": \"B\"}]}");
    mf_plan_t *p = plan(s);
    check_plan_shape(p);
    int t1 = must_find(p, "strip T1"), a = must_find(p, "bus A"), b = must_find(p, "bus B");
    int m = p->mix.task;
    assert_true(t1 < a && a < b && b < m);
    assert_true(feeds(p, t1, a) && feeds(p, a, b) && feeds(p, b, m));
    assert_false(feeds(p, a, m));
    /* B sums T2 (a track) before A (a bus). */
    expect_input(p, "bus B", 0, "strip T2", 0);
    expect_input(p, "bus B", 1, "bus A", 0);
    assert_int_equal(p->tasks[m].n_in, 1);
    /* Default stems: only buses that feed master. */
    assert_int_equal(p->n_stems, 1);
    assert_string_equal(p->stems[0].name, "B");
    mf_plan_free(&p);
    mf_session_free(&s);
}

static void test_mute_and_solo(void **state)
{
    (void)state;
    mf_session_t *s =
        load("mute.json", "{\"mixfarm\": 1, \"tracks\": ["
                          " {\"name\": \"On\", \"file\": \"a.wav\", \"output\": \"G\"},"
                          " {\"name\": \"Off\", \"file\": \"b.wav\", \"mute\": true,"
                          "  \"output\": \"G\", \"sends\": [{\"bus\": \"FX\"}]},"
                          " {\"name\": \"Also\", \"file\": \"c.wav\"}],"
                          " \"buses\": [{\"name\": \"G\"}, {\"name\": \"FX\"}]}");
    mf_plan_t *p = plan(s);
    check_plan_shape(p);
    assert_int_equal(find(p, "strip Off"), -1);
    assert_int_equal(find(p, "decode Off"), -1);
    assert_int_equal(p->tasks[must_find(p, "bus G")].n_in, 1);
    expect_input(p, "bus G", 0, "strip On", 0);
    assert_int_equal(p->tasks[must_find(p, "bus FX")].n_in, 0); /* its only send is muted */
    assert_int_equal(p->n_tasks, 1 + 1 + 2 + 1 + 1 + 7);        /* ..., listen */
    mf_plan_free(&p);
    mf_session_free(&s);

    s = load("solo.json",
             "{\"mixfarm\": 1, \"tracks\": ["
             " {\"name\": \"S1\", \"file\": \"a.wav\", \"solo\": true},"
             " {\"name\": \"N\", \"file\": \"b.wav\", \"sends\": [{\"bus\": \"FX\"}]},"
             " {\"name\": \"S2\", \"file\": \"c.wav\", \"solo\": true,"
             "  \"output\": \"FX\"},"
             " {\"name\": \"SM\", \"file\": \"c.wav\", \"solo\": true, \"mute\": true}],"
             " \"buses\": [{\"name\": \"FX\"}]}");
    p = plan(s);
    check_plan_shape(p);
    assert_int_equal(find(p, "strip N"), -1);
    assert_int_equal(find(p, "strip SM"), -1); /* muted wins over solo */
    assert_true(find(p, "strip S1") >= 0 && find(p, "strip S2") >= 0);
    assert_int_equal(p->tasks[must_find(p, "bus FX")].n_in, 1);
    expect_input(p, "bus FX", 0, "strip S2", 0);
    expect_input(p, "master master", 0, "strip S1", 0);
    expect_input(p, "master master", 1, "bus FX", 0);
    assert_int_equal(p->tasks[p->mix.task].n_in, 2);
    mf_plan_free(&p);
    mf_session_free(&s);
}

static void test_sidechain_from_muted_track(void **state)
{
    (void)state;
    /* No registered processor takes a sidechain yet, so the reference is set
     * in the model after loading, as the loader would resolve it. */
    mf_session_t *s =
        load("side.json", "{\"mixfarm\": 1, \"tracks\": ["
                          " {\"name\": \"Bass\", \"file\": \"a.wav\", \"output\": \"Music\"},"
                          " {\"name\": \"Kick\", \"file\": \"b.wav\", \"mute\": true},"
                          " {\"name\": \"Keys\", \"file\": \"c.wav\", \"output\": \"Music\"}],"
                          " \"buses\": [{\"name\": \"Music\", \"inserts\": ["
                          "   {\"type\": \"gain\", \"gain_db\": -1}, {\"type\": \"gain\"}]}]}");
    mf_ref_t music = mf_session_find(s, "Music");
    assert_int_equal(music.kind, MF_REF_BUS);
    mf_channel_t *bus = &s->buses[music.index];
    assert_int_equal(bus->n_inserts, 2);
    bus->inserts[1].sidechain = mf_session_find(s, "Kick");
    assert_int_equal(bus->inserts[1].sidechain.kind, MF_REF_TRACK);

    mf_plan_t *p = plan(s);
    check_plan_shape(p);
    int kick = must_find(p, "strip Kick");           /* planned although muted */
    assert_int_equal(p->tasks[kick].in[0].task, -1); /* reads its file */
    int b = must_find(p, "bus Music");
    assert_true(kick < b);
    const mf_plan_task_t *t = &p->tasks[b];
    /* Summed: Bass and Keys; then the key input, not summed. */
    assert_int_equal(t->n_in, 3);
    assert_int_equal(spec_sum(t), 2);
    expect_input(p, "bus Music", 0, "strip Bass", 0);
    expect_input(p, "bus Music", 1, "strip Keys", 0);
    expect_input(p, "bus Music", 2, "strip Kick", 0);
    mf_chan_spec_t c;
    const char *why = NULL;
    assert_int_equal(mf_chan_spec_from_json(t->params, &c, &why), MF_OK);
    assert_int_equal(c.n_inserts, 2);
    assert_int_equal(c.inserts[0].key, -1);
    assert_int_equal(c.inserts[1].key, 2);
    mf_chan_spec_fini(&c);
    /* Kick's own output (master) does not hear it. */
    assert_false(feeds(p, kick, p->mix.task));
    assert_int_equal(p->tasks[p->mix.task].n_in, 1);
    expect_input(p, "master master", 0, "bus Music", 0);
    mf_plan_free(&p);
    mf_session_free(&s);
}

static void test_routing_cycle_rejected(void **state)
{
    (void)state;
    char path[1024];
    snprintf(path, sizeof path, "%s/cycle.json", s_dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("{\"mixfarm\": 1, \"tracks\": [{\"name\": \"T\", \"file\": \"a.wav\","
          " \"output\": \"Alpha\"}],"
          " \"buses\": [{\"name\": \"Alpha\", \"output\": \"Beta\"},"
          "             {\"name\": \"Beta\", \"output\": \"Gamma\"},"
          "             {\"name\": \"Gamma\", \"output\": \"Alpha\"},"
          "             {\"name\": \"Fine\"}]}",
          f);
    fclose(f);
    mf_diags_t d;
    mf_diags_init(&d, path);
    mf_session_t *s = mf_session_load(path, &d);
    assert_null(s);
    assert_true(d.errors >= 1);
    const mf_diag_t *e = NULL;
    for (size_t i = 0; i < d.count; i++)
        if (d.items[i].kind == MF_DIAG_ERROR && strstr(d.items[i].message, "cycle"))
            e = &d.items[i];
    if (!e) fail_msg("no error mentions the cycle");
    assert_non_null(strstr(e->message, "Alpha"));
    assert_non_null(strstr(e->message, "Beta"));
    assert_non_null(strstr(e->message, "Gamma"));
    assert_null(strstr(e->message, "Fine"));
    mf_diags_fini(&d);
}

/* ---- scheduling with the action cache ------------------------------------------- */

typedef struct {
    size_t ran;
    char labels[64][64];
    mf_hash_t mix;
} run_t;

/* Runs a plan to the end with the in-process executors, its job pinned to
 * numerics (NULL: not pinned); records what ran. */
static void run_plan_pinned(const mf_plan_t *p, mf_store_t *store, const char *numerics, run_t *out)
{
    memset(out, 0, sizeof *out);
    mf_action_cache_t cache = mf_sched_store_cache(store);
    mf_sched_t *sc = mf_sched_new(p, &cache);
    assert_non_null(sc);
    if (numerics) assert_int_equal(mf_sched_set_numerics(sc, numerics), 0);
    int guard = 0;
    while (!mf_sched_finished(sc)) {
        mf_task_t t;
        int any = 0;
        while (mf_sched_next(sc, &t)) {
            any = 1;
            if (numerics)
                assert_string_equal(t.numerics, numerics);
            else
                assert_null(t.numerics);
            mf_task_result_t r;
            _Atomic uint32_t progress = 0;
            mf_err_t err = mf_exec_run_progress(store, &t, &r, &progress);
            if (err != MF_OK) fail_msg("%s failed: %s", p->tasks[t.id].label, r.error);
            assert_null(r.progress);
            /* A channel (strip, sum, bus, master) with frames to run says
             * how far it is (worker/exec_channel.c), to the end. */
            const char *kind = p->tasks[t.id].kind;
            if (p->tasks[t.id].audio_s > 0 && (!strcmp(kind, "strip") || !strcmp(kind, "bus") ||
                                               !strcmp(kind, "sum") || !strcmp(kind, "master")))
                assert_int_equal(atomic_load(&progress), 1000000);
            if (out->ran < 64) snprintf(out->labels[out->ran], 64, "%s", p->tasks[t.id].label);
            out->ran++;
            mf_sched_complete(sc, &r);
            mf_task_result_fini(&r);
            mf_task_fini(&t);
        }
        if (!any && !mf_sched_finished(sc)) fail_msg("scheduler stalled");
        assert_true(++guard < 1000);
    }
    assert_null(mf_sched_error(sc));
    mf_sched_progress_t pr = mf_sched_progress(sc);
    assert_int_equal(pr.total, p->n_tasks);
    assert_int_equal(pr.done, p->n_tasks);
    assert_int_equal(pr.failed, 0);
    assert_int_equal(pr.running, 0);
    assert_int_equal(pr.cached + out->ran, p->n_tasks);
    const mf_hash_t *mix = mf_sched_port(sc, p->mix);
    assert_non_null(mix);
    out->mix = *mix;
    for (size_t i = 0; i < p->n_stems; i++) assert_non_null(mf_sched_port(sc, p->stems[i].port));
    mf_sched_free(&sc);
}

static void run_plan(const mf_plan_t *p, mf_store_t *store, run_t *out)
{
    run_plan_pinned(p, store, NULL, out);
}

static int ran(const run_t *r, const char *label)
{
    for (size_t i = 0; i < r->ran && i < 64; i++)
        if (!strcmp(r->labels[i], label)) return 1;
    return 0;
}

static const char *s_cache_session =
    "{\"mixfarm\": 1, \"sample_rate\": 48000, \"tracks\": ["
    " {\"name\": \"A\", \"file\": \"a.wav\", \"gain_db\": %s, \"output\": \"Grp\"},"
    " {\"name\": \"B\", \"file\": \"b.wav\", \"output\": \"Grp\", \"pan\": 0.3,"
    "  \"sends\": [{\"bus\": \"FX\", \"level_db\": -12}]},"
    " {\"name\": \"C\", \"file\": \"st44.wav\", \"start_s\": 0.01}],"
    " \"buses\": [{\"name\": \"Grp\", \"gain_db\": -2},"
    "             {\"name\": \"FX\", \"inserts\": [{\"type\": \"gain\", \"gain_db\": -3}]}]}";

static mf_plan_t *plan_real(const char *name, const char *gain, mf_store_t *store,
                            mf_session_t **sp)
{
    char json[2048];
    snprintf(json, sizeof json, s_cache_session, gain);
    mf_session_t *s = load(name, json);
    mf_hash_t src[3];
    for (size_t i = 0; i < s->n_tracks; i++)
        assert_int_equal(mf_store_put_file(store, s->tracks[i].file, &src[i]), MF_OK);
    mf_plan_t *p = mf_plan_session(s, src);
    assert_non_null(p);
    check_plan_shape(p);
    *sp = s;
    return p;
}

/* ---- placement: the feeders of one bus go to one worker ------------------- */

/* fits(): a worker is busy when its bit is set in *ctx (owner 1 is bit 1). */
static int s_fits(void *ctx, uint32_t owner)
{
    return owner == 0 || !(*(unsigned *)ctx & (1u << owner));
}

static const char *s_next_label(const mf_plan_t *p, mf_sched_t *sc, unsigned busy)
{
    mf_task_t t;
    if (!mf_sched_next_fitting(sc, s_fits, &busy, &t)) fail_msg("nothing ready");
    const size_t id = t.id;
    mf_task_fini(&t);
    return p->tasks[id].label;
}

static void test_sched_groups(void **state)
{
    (void)state;
    mf_session_t *s =
        load("groups.json", "{\"mixfarm\": 1, \"tracks\": ["
                            " {\"name\": \"A1\", \"file\": \"a.wav\", \"output\": \"BusA\"},"
                            " {\"name\": \"A2\", \"file\": \"b.wav\", \"output\": \"BusA\"},"
                            " {\"name\": \"A3\", \"file\": \"c44.wav\", \"output\": \"BusA\"},"
                            " {\"name\": \"B1\", \"file\": \"a.wav\", \"output\": \"BusB\"},"
                            " {\"name\": \"B2\", \"file\": \"b.wav\", \"output\": \"BusB\"}],"
                            " \"buses\": [{\"name\": \"BusA\"}, {\"name\": \"BusB\"}]}");
    mf_plan_t *p = plan(s);
    const mf_action_cache_t none = no_cache();
    mf_sched_t *sc = mf_sched_new(p, &none);
    assert_non_null(sc);
    /* One group per bus; A3's strip (at 44.1 kHz: it resamples its file
     * itself) is in BusA's like the others. */
    const int a1 = must_find(p, "strip A1"), b1 = must_find(p, "strip B1");
    mf_sched_set_owner(sc, (uint64_t)a1, 1);
    assert_int_equal(mf_sched_owner(sc, (uint64_t)must_find(p, "strip A2")), 1);
    assert_int_equal(mf_sched_owner(sc, (uint64_t)must_find(p, "strip A3")), 1);
    assert_int_equal(mf_sched_owner(sc, (uint64_t)b1), 0);
    /* Only leaf tasks have a group: a bus, none. */
    assert_int_equal(mf_sched_owner(sc, (uint64_t)must_find(p, "bus BusA")), 0);
    /* Worker 1 busy: BusB's strips go first, in plan order, and BusA's
     * wait; worker 2 owning BusB and busy too, BusA's go anyway (no free
     * slot idles while a task is ready). */
    assert_string_equal(s_next_label(p, sc, 1u << 1), "strip B1");
    mf_sched_set_owner(sc, (uint64_t)b1, 2);
    assert_string_equal(s_next_label(p, sc, 1u << 1), "strip B2");
    assert_string_equal(s_next_label(p, sc, (1u << 1) | (1u << 2)), "strip A1");
    /* Worker 1 free again: the rest of BusA, in plan order. */
    assert_string_equal(s_next_label(p, sc, 1u << 2), "strip A2");
    assert_string_equal(s_next_label(p, sc, 1u << 2), "strip A3");
    mf_sched_free(&sc);
    mf_plan_free(&p);
    mf_session_free(&s);
}

/* A job pinned to an arithmetic hands out tasks that carry it, and its
 * keys cover it: the cache of the job run unpinned (or, on a farm, pinned
 * to another arithmetic) serves it nothing, while its own serves it all.
 * Run with this process's arithmetic, both give the same bits. */
static void test_sched_arithmetic(void **state)
{
    (void)state;
    char sdir[1024];
    snprintf(sdir, sizeof sdir, "%s/store-arith", s_dir);
    mf_store_t *store = mf_store_open(sdir);
    assert_non_null(store);
    mf_session_t *s;
    mf_plan_t *p = plan_real("arith.json", "0", store, &s);
    run_t bare, pinned, again;
    run_plan(p, store, &bare);
    assert_int_equal(bare.ran, p->n_tasks);
    run_plan_pinned(p, store, mf_exec_numerics(), &pinned);
    assert_int_equal(pinned.ran, p->n_tasks);
    assert_string_not_equal(pinned.mix.hex, bare.mix.hex);
    run_plan_pinned(p, store, mf_exec_numerics(), &again);
    assert_int_equal(again.ran, 0);
    assert_string_equal(again.mix.hex, pinned.mix.hex);
    char *a = mf_store_path(store, &bare.mix), *b = mf_store_path(store, &pinned.mix);
    FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
    assert_non_null(fa);
    assert_non_null(fb);
    int ca, cb;
    size_t n = 0;
    do {
        ca = fgetc(fa), cb = fgetc(fb), n++;
        if (ca != cb) fail_msg("the mixes differ at byte %zu", n - 1);
    } while (ca != EOF);
    assert_true(n > 4800 * 2 * sizeof(float));
    fclose(fa), fclose(fb);
    free(a), free(b);
    mf_plan_free(&p);
    mf_session_free(&s);
    mf_store_free(&store);
}

static void test_sched_action_cache(void **state)
{
    (void)state;
    char sdir[1024];
    snprintf(sdir, sizeof sdir, "%s/store", s_dir);
    mf_store_t *store = mf_store_open(sdir);
    assert_non_null(store);
    mf_session_t *s1;
    mf_plan_t *p1 = plan_real("cache1.json", "0", store, &s1);
    assert_int_equal(p1->n_tasks, 3 + 2 + 1 + 1 + 7); /* C at 44.1 kHz: no decode task */

    /* First run: everything runs. */
    run_t r1;
    run_plan(p1, store, &r1);
    assert_int_equal(r1.ran, p1->n_tasks);
    mf_pcm_info_t info;
    assert_int_equal(mf_pcm_info(store, &r1.mix, &info), MF_OK);
    assert_int_equal(info.channels, 2);
    assert_int_equal(info.rate, 48000);
    assert_int_equal(info.start, 0);
    assert_int_equal(info.frames, 4800); /* A and B; C ends earlier, at 480 + 2400 */

    /* A second scheduler over the same plan and store runs nothing. */
    run_t r2;
    run_plan(p1, store, &r2);
    assert_int_equal(r2.ran, 0);
    assert_string_equal(r2.mix.hex, r1.mix.hex);

    /* The same session planned again from a fresh load: still nothing. */
    mf_session_t *s1b;
    mf_plan_t *p1b = plan_real("cache1b.json", "0.0", store, &s1b);
    run_t r3;
    run_plan(p1b, store, &r3);
    assert_int_equal(r3.ran, 0);
    assert_string_equal(r3.mix.hex, r1.mix.hex);

    /* One fader moves: its bus (which applies it to the unpanned strip), the
     * master and the qc of the mix re-run, nothing else (every strip, C's
     * resampled one too, and the FX bus come from the cache). */
    mf_session_t *s2;
    mf_plan_t *p2 = plan_real("cache2.json", "-6", store, &s2);
    run_t r4;
    run_plan(p2, store, &r4);
    if (r4.ran != 10 || ran(&r4, "strip A") || !ran(&r4, "bus Grp") || !ran(&r4, "master master") ||
        !ran(&r4, "qc") || !ran(&r4, "listen phone") || !ran(&r4, "listen report")) {
        for (size_t i = 0; i < r4.ran; i++) print_message("re-ran: %s\n", r4.labels[i]);
        fail_msg("expected exactly bus Grp, master, qc and the 7 listen tasks to re-run, "
                 "got %zu tasks",
                 r4.ran);
    }
    assert_string_not_equal(r4.mix.hex, r1.mix.hex);
    /* And back: all cached again, the first mix's bits. */
    run_t r5;
    run_plan(p1, store, &r5);
    assert_int_equal(r5.ran, 0);
    assert_string_equal(r5.mix.hex, r1.mix.hex);

    /* A result whose blob was evicted is recomputed, with the same bits. */
    const mf_hash_t *grp_port = NULL;
    mf_action_cache_t cache = mf_sched_store_cache(store);
    mf_sched_t *sc = mf_sched_new(p1, &cache);
    mf_task_t t;
    while (mf_sched_next(sc, &t)) mf_task_fini(&t); /* all cached: resolves every port */
    mf_port_t gp = {.task = must_find(p1, "bus Grp"), .output = 0};
    grp_port = mf_sched_port(sc, gp);
    assert_non_null(grp_port);
    char *path = mf_store_path(store, grp_port);
    assert_int_equal(unlink(path), 0);
    free(path);
    mf_sched_free(&sc);
    run_t r6;
    run_plan(p1, store, &r6);
    assert_int_equal(r6.ran, 1);
    assert_true(ran(&r6, "bus Grp"));
    assert_string_equal(r6.mix.hex, r1.mix.hex);

    mf_plan_free(&p1);
    mf_plan_free(&p1b);
    mf_plan_free(&p2);
    mf_session_free(&s1);
    mf_session_free(&s1b);
    mf_session_free(&s2);
    mf_store_free(&store);
}

/* A session of one track "/a.wav" (the blob of "a") from doc, and its
 * plan; both asserted, both the caller's to free. */
static mf_plan_t *s_plan_doc(const char *doc, mf_session_t **out)
{
    mf_diags_t d;
    mf_diags_init(&d, "doc.json");
    mf_session_source_t src = {.audio = pf_mono_second};
    mf_session_t *s = mf_session_load_text("doc.json", doc, &src, &d);
    if (!s) mf_diags_print(&d);
    mf_diags_fini(&d);
    assert_non_null(s);
    mf_hash_t blob;
    mf_hash_bytes("a", 1, &blob);
    mf_plan_t *p = mf_plan_session(s, &blob);
    assert_non_null(p);
    *out = s;
    return p;
}

/* A mastered session's deliverables: each encode task's third output is
 * the analysis of the file it wrote and checked, and the qc task reads
 * that (decode "an") beside the file's report, never the file itself. */
static void test_qc_reads_encode_analyses(void **state)
{
    (void)state;
    mf_session_t *s;
    mf_plan_t *p =
        s_plan_doc("{\"mixfarm\": 1, \"tracks\": [{\"name\": \"A\", \"file\": \"/a.wav\"}],"
                   " \"mastering\": {\"target\": \"streaming\"},"
                   " \"outputs\": [{\"format\": \"wav\"}, {\"format\": \"mp3\"}]}",
                   &s);
    const mf_plan_task_t *qc = NULL;
    int encodes = 0;
    for (size_t i = 0; i < p->n_tasks; i++) {
        if (!strcmp(p->tasks[i].kind, "encode")) assert_int_equal(p->tasks[i].n_out, 3), encodes++;
        if (!strcmp(p->tasks[i].kind, "qc")) qc = &p->tasks[i];
    }
    assert_int_equal(encodes, 2);
    assert_non_null(qc);
    mf_qc_spec_t q;
    const char *why = "";
    assert_int_equal(mf_qc_spec_from_json(qc->params, qc->n_in, &q, &why), MF_OK);
    assert_int_equal(q.n_files, 2);
    for (size_t i = 0; i < q.n_files; i++) {
        const mf_qc_file_spec_t *f = &q.files[i];
        assert_string_equal(f->decode, MF_QC_ANALYSIS);
        const mf_port_t an = qc->in[f->input], rep = qc->in[f->report];
        assert_string_equal(p->tasks[an.task].kind, "encode");
        assert_int_equal(an.output, 2);
        assert_int_equal(rep.task, an.task);
        assert_int_equal(rep.output, 1);
    }
    mf_qc_spec_fini(&q);
    mf_plan_free(&p);
    mf_session_free(&s);
}

/* Of the tasks that become ready together when the mastering is done,
 * the encodings go longest first (MP3, Opus, FLAC, WAV: their plan's
 * costs), whatever order the session lists the outputs in, and the rest
 * in plan order after them; a listening copy's cost is its siblings'. The
 * tasks run as fakes: the order is the scheduler's alone. */
static void test_sched_longest_first(void **state)
{
    (void)state;
    mf_session_t *s =
        load("longest.json", "{\"mixfarm\": 1, \"name\": \"Doc\", \"tracks\": [{\"name\": \"A\","
                             " \"file\": \"a.wav\"}], \"mastering\": {\"target\": \"streaming\"},"
                             " \"outputs\": [{\"format\": \"wav\"}, {\"format\": \"flac\"},"
                             " {\"format\": \"mp3\"}, {\"format\": \"opus\"}]}");
    mf_plan_t *p = plan(s);
    const mf_action_cache_t none = no_cache();
    mf_sched_t *sc = mf_sched_new(p, &none);
    assert_non_null(sc);
    const char *order[16];
    size_t n = 0;
    int after_mastering = 0;
    mf_task_t t;
    while (mf_sched_next(sc, &t)) {
        const mf_plan_task_t *pt = &p->tasks[t.id];
        if (after_mastering && n < 16) order[n++] = pt->label;
        after_mastering |= !strcmp(pt->kind, "mastering");
        mf_hash_t outs[8];
        assert_true(pt->n_out <= 8);
        for (size_t k = 0; k < pt->n_out; k++) {
            char text[64];
            snprintf(text, sizeof text, "%zu/%zu", (size_t)t.id, k);
            mf_hash_bytes(text, strlen(text), &outs[k]);
        }
        mf_task_result_t r = {.id = t.id, .outputs = outs, .n_outputs = pt->n_out};
        mf_sched_complete(sc, &r);
        mf_task_fini(&t);
    }
    assert_true(mf_sched_finished(sc));
    assert_true(n >= 5);
    assert_string_equal(order[0], "encode master/Doc.mp3");
    assert_string_equal(order[1], "encode master/Doc.opus");
    assert_string_equal(order[2], "encode master/Doc.flac");
    assert_string_equal(order[3], "encode master/Doc.wav");
    assert_true(p->tasks[must_find(p, "encode master/Doc.mp3")].cost > 0);
    mf_sched_free(&sc);
    mf_plan_free(&p);
    mf_session_free(&s);
}

/* A running task's share done counts in the job's audio seconds; a
 * share for a task not running, or out of range, does not; a task handed
 * out again starts from nothing. */
static void test_sched_progress_of_running(void **state)
{
    (void)state;
    mf_session_t *s = load("progress.json",
                           "{\"mixfarm\": 1, \"tracks\": [{\"name\": \"A\", \"file\": \"a.wav\"},"
                           " {\"name\": \"B\", \"file\": \"b.wav\"}]}");
    mf_plan_t *p = plan(s);
    const mf_action_cache_t none = no_cache();
    mf_sched_t *sc = mf_sched_new(p, &none);
    assert_non_null(sc);
    mf_task_t t;
    assert_true(mf_sched_next(sc, &t));
    const uint64_t id = t.id;
    const double audio = p->tasks[id].audio_s;
    assert_true(audio > 0);
    assert_true(mf_sched_progress(sc).audio_s_done == 0.0);
    mf_sched_set_progress(sc, id, 0.25f);
    assert_true(fabs(mf_sched_progress(sc).audio_s_done - 0.25 * audio) < 1e-9);
    mf_sched_set_progress(sc, id, 1.5f); /* out of range: kept as it was */
    mf_sched_set_progress(sc, id, NAN);
    assert_true(fabs(mf_sched_progress(sc).audio_s_done - 0.25 * audio) < 1e-9);
    /* A task still waiting: nothing. */
    const int mix = p->mix.task; /* the master: it waits for both strips */
    assert_true(mix >= 0 && (uint64_t)mix != id);
    mf_sched_set_progress(sc, (uint64_t)mix, 0.5f);
    assert_true(fabs(mf_sched_progress(sc).audio_s_done - 0.25 * audio) < 1e-9);
    /* Requeued (its worker lost) and handed out again: from nothing. */
    mf_sched_requeue(sc, id);
    assert_true(mf_sched_progress(sc).audio_s_done == 0.0);
    mf_task_fini(&t);
    int again = 0;
    while (mf_sched_next(sc, &t)) {
        again |= t.id == id;
        mf_task_fini(&t);
    }
    assert_true(again);
    assert_true(mf_sched_progress(sc).audio_s_done == 0.0);
    mf_sched_free(&sc);
    mf_plan_free(&p);
    mf_session_free(&s);
}

/* Fails unless the plan writes every path of want. */
static void s_assert_outputs(const mf_plan_t *p, const char *const *want, size_t n)
{
    for (size_t k = 0; k < n; k++) {
        int found = 0;
        for (size_t i = 0; i < p->n_outputs; i++) found |= !strcmp(p->outputs[i].path, want[k]);
        if (!found) fail_msg("no output %s", want[k]);
    }
}

/* Deliverables that would be one file: "Final" and "final" (one file on
 * macOS, Windows and exFAT drives, so the second replaced the first
 * there), and two named "X": each gets a file of its own. */
static void test_deliverable_names_unique(void **state)
{
    (void)state;
    mf_session_t *s;
    mf_plan_t *p = s_plan_doc(
        "{\"mixfarm\": 1, \"tracks\": [{\"name\": \"A\", \"file\": \"/a.wav\"}],"
        " \"mastering\": {\"target\": \"none\"}, \"outputs\": ["
        "{\"format\": \"wav\", \"name\": \"Final\"}, {\"format\": \"wav\", \"bits\": 16, \"name\": "
        "\"final\"}, {\"format\": \"flac\", \"name\": \"X\"}, {\"format\": \"flac\", \"bits\": 24, "
        "\"name\": \"X\"}, {\"format\": \"wav\", \"bits\": 24, \"name\": \"Caf\xc3\xa9\"}, "
        "{\"format\": \"wav\", \"bits\": 16, \"name\": \"CAFE\xcc\x81\"}]}",
        &s);
    const char *want[] = {"master/Final.wav",       "master/final 2.wav",
                          "master/X.flac",          "master/X 2.flac",
                          "master/Caf\xc3\xa9.wav", "master/CAFE\xcc\x81 2.wav"};
    s_assert_outputs(p, want, sizeof want / sizeof *want);
    mf_plan_free(&p);
    mf_session_free(&s);
}

/* An MP3 without a bitrate gets the best its rate allows: 320 kbps, 160 at
 * 16 to 24 kHz, 64 at 8 to 12 (it asked LAME for 320, which gave those,
 * and manifest.json and the name said 320). */
static void test_mp3_default_bitrate(void **state)
{
    (void)state;
    mf_session_t *s;
    mf_plan_t *p = s_plan_doc(
        "{\"mixfarm\": 1, \"sample_rate\": 22050, \"tracks\": [{\"name\": \"A\", \"file\": "
        "\"/a.wav\"}], \"mastering\": {\"target\": \"none\"}, \"outputs\": ["
        "{\"format\": \"mp3\"}, {\"format\": \"mp3\", \"sample_rate\": 11025},"
        " {\"format\": \"mp3\", \"sample_rate\": 44100}]}",
        &s);
    const char *want[] = {"master/doc 160k-22050.mp3", "master/doc 64k-11025.mp3",
                          "master/doc 320k-44100.mp3"};
    s_assert_outputs(p, want, sizeof want / sizeof *want);
    int encodes = 0;
    for (size_t i = 0; i < p->n_tasks; i++) {
        if (strcmp(p->tasks[i].kind, "encode")) continue;
        encodes++;
        if (!strstr(p->tasks[i].params, "\"bitrate_kbps\":160") &&
            !strstr(p->tasks[i].params, "\"bitrate_kbps\":64") &&
            !strstr(p->tasks[i].params, "\"bitrate_kbps\":320"))
            fail_msg("encode params: %s", p->tasks[i].params);
    }
    assert_int_equal(encodes, 3);
    mf_plan_free(&p);
    mf_session_free(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mp3_default_bitrate),
        cmocka_unit_test(test_fan_in),
        cmocka_unit_test(test_partial_sums),
        cmocka_unit_test(test_sends),
        cmocka_unit_test(test_bus_chain_order),
        cmocka_unit_test(test_mute_and_solo),
        cmocka_unit_test(test_sidechain_from_muted_track),
        cmocka_unit_test(test_routing_cycle_rejected),
        cmocka_unit_test(test_sched_groups),
        cmocka_unit_test(test_sched_action_cache),
        cmocka_unit_test(test_sched_arithmetic),
        cmocka_unit_test(test_qc_reads_encode_analyses),
        cmocka_unit_test(test_sched_longest_first),
        cmocka_unit_test(test_sched_progress_of_running),
        cmocka_unit_test(test_deliverable_names_unique),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
