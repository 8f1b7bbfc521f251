/* End to end through the mixfarm binary (render_case.h): manifest.json
 * against the files, bad input and bad usage, and the README's demo. */
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
#include <sys/wait.h>
#include <unistd.h>

#include "render_case.h"

static void sha256_file(const char *path, char hex[65])
{
    size_t n;
    unsigned char *b = test_read_bytes(path, &n);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    assert_int_equal(EVP_Digest(b, n, md, &len, EVP_sha256(), NULL), 1);
    assert_int_equal(len, 32);
    for (unsigned i = 0; i < 32; i++) snprintf(hex + 2 * i, 3, "%02x", md[i]);
    free(b);
}

static void test_manifest(void **state)
{
    (void)state;
    char dir[1024], out[1024], mp[1024];
    make_rich(dir, sizeof dir, "manifest");
    const mode_t mask = umask(022); /* the render inherits it */
    render_ok(dir, "s.json", "out", "2");
    umask(mask);
    path_join(out, sizeof out, dir, "out");
    path_join(mp, sizeof mp, out, "manifest.json");
    json_error_t je;
    json_t *m = json_load_file(mp, 0, &je);
    if (!m) fail_msg("manifest.json: %s (line %d)", je.text, je.line);
    json_t *files = json_object_get(m, "files");
    assert_true(json_is_array(files));
    const size_t want = sizeof render_rich_files / sizeof *render_rich_files;
    /* and qc.json, qc.html; listen/ (6 systems), listen.json and render.json */
    assert_int_equal(json_array_size(files), want + 2 + 8);
    int seen[8] = {0};
    size_t i;
    json_t *e;
    json_array_foreach(files, i, e)
    {
        const char *rel = json_string_value(json_object_get(e, "path"));
        assert_non_null(rel);
        size_t k = 0;
        while (k < want && strcmp(render_rich_files[k], rel)) k++;
        int report = !strcmp(rel, "qc.json") || !strcmp(rel, "qc.html");
        int extra = !strncmp(rel, "listen", 6) || !strcmp(rel, "render.json");
        if (k == want && !report && !extra)
            fail_msg("manifest lists an unexpected file \"%s\"", rel);
        if (!report && !extra) {
            assert_false(seen[k]);
            seen[k] = 1;
        }
        char fp[1024];
        path_join(fp, sizeof fp, out, rel);
        struct stat st;
        assert_int_equal(stat(fp, &st), 0);
        /* Every file a document others may read, whichever way it came
         * (written, copied, or linked from the client's store). */
        if ((st.st_mode & 0777) != 0644) fail_msg("%s has mode %03o", rel, st.st_mode & 0777);
        json_t *size = json_object_get(e, "size");
        assert_true(json_is_integer(size));
        assert_int_equal(json_integer_value(size), st.st_size);
        char hex[65];
        sha256_file(fp, hex);
        const char *sha = json_string_value(json_object_get(e, "sha256"));
        assert_non_null(sha);
        assert_string_equal(sha, hex);
        if (report) {
            assert_string_equal(json_string_value(json_object_get(e, "format")), rel + 3);
            continue;
        }
        if (extra) continue; /* tests/reference checks these */
        wav_t w = read_wav(out, rel);
        assert_int_equal(w.format, SF_FORMAT_WAV | SF_FORMAT_FLOAT);
        assert_int_equal(w.channels, 2);
        assert_near(json_number_value(json_object_get(e, "duration_s")), (double)w.frames / w.rate,
                    1e-9);
        assert_string_equal(json_string_value(json_object_get(e, "format")), "wav");
        wav_free(&w);
    }
    json_decref(m);
    /* Nothing else in OUTDIR: no staging leftovers. */
    /* mix.wav, stems/, qc.json, qc.html, listen/, listen.json, render.json, manifest.json */
    assert_int_equal(count_entries(out), 8);
    char stems[1024];
    path_join(stems, sizeof stems, out, "stems");
    assert_int_equal(count_entries(stems), 4);
}

/* Two renders of two revisions into one OUTDIR at once, their commits made
 * to overlap (MIXFARM_TEST_COMMIT_PAUSE_MS and _DELAY_MS, client/
 * mf_outdir.c): the commits take turns, so OUTDIR ends as one of them
 * left it, every file its manifest lists holding the bytes it says (they
 * interleaved before: one's manifest over a mix of both's files). */
static void test_two_renders_one_outdir(void **state)
{
    (void)state;
    char dir[1024], out[1024], s1[1024], s2[1024], e1[1100], e2[1100], mp[1100];
    make_rich(dir, sizeof dir, "two_renders");
    write_rich_revision(dir, "s2.json", "-0.6");
    path_join(out, sizeof out, dir, "out");
    path_join(s1, sizeof s1, dir, "s.json");
    path_join(s2, sizeof s2, dir, "s2.json");
    path_join(e1, sizeof e1, dir, "r1.err");
    path_join(e2, sizeof e2, dir, "r2.err");
    /* One commit moves a file every 80 ms; the other waits 400 ms before it
     * takes the lock, then moves all at once: without the lock, it would
     * land in the middle of the first, whose later files and manifest
     * would then go over its earlier ones. */
    setenv("MIXFARM_TEST_COMMIT_PAUSE_MS", "80", 1);
    const pid_t a = test_spawn_render(render_bin, s1, out, e1);
    unsetenv("MIXFARM_TEST_COMMIT_PAUSE_MS");
    setenv("MIXFARM_TEST_COMMIT_DELAY_MS", "400", 1);
    const pid_t b = test_spawn_render(render_bin, s2, out, e2);
    unsetenv("MIXFARM_TEST_COMMIT_DELAY_MS");
    int sa, sb;
    assert_int_equal(waitpid(a, &sa, 0), a);
    assert_int_equal(waitpid(b, &sb, 0), b);
    assert_true(WIFEXITED(sa) && WEXITSTATUS(sa) == 0 && WIFEXITED(sb) && WEXITSTATUS(sb) == 0);
    path_join(mp, sizeof mp, out, "manifest.json");
    json_error_t je;
    json_t *m = json_load_file(mp, 0, &je);
    if (!m) fail_msg("manifest.json: %s", je.text);
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(m, "files"), i, e)
    {
        const char *rel = json_string_value(json_object_get(e, "path"));
        char fp[1200], hex[65];
        path_join(fp, sizeof fp, out, rel);
        sha256_file(fp, hex);
        if (strcmp(hex, json_string_value(json_object_get(e, "sha256"))))
            fail_msg("%s does not hold what manifest.json says", rel);
    }
    json_decref(m);
    assert_int_equal(count_entries(out), 8); /* no staging folder left */
}

/* ---- (l) bad input and bad usage ------------------------------------------------------- */

/* Renders text as DIR/name into DIR/out; expects exit 2, every needle on
 * stderr, and no OUTDIR. */
static void expect_rejected(const char *dir, const char *name, const char *text,
                            const char *const *needles)
{
    char sp[1024], op[1024];
    write_text(dir, name, text);
    path_join(sp, sizeof sp, dir, name);
    path_join(op, sizeof op, dir, "out");
    const char *args[] = {"render", sp, "-o", op, "--workers", "2", NULL};
    test_run_t r = test_run(render_bin, args, render_root);
    print_message("    %s: exit %d: %s", name, r.rc, r.err);
    assert_int_equal(r.rc, 2);
    assert_non_null(strstr(r.err, name)); /* mixfarm: FILE: ... */
    for (; *needles; needles++)
        if (!strstr(r.err, *needles)) fail_msg("stderr does not name \"%s\": %s", *needles, r.err);
    assert_false(exists(op));
    test_run_free(&r);
}

static void test_bad_inputs(void **state)
{
    (void)state;
    char dir[1024];
    case_dir(dir, sizeof dir, "bad");
    write_wav(dir, "tone.wav", 1, RATE, RATE / 10, gen_tone);
    expect_rejected(dir, "missing.json",
                    "{\"mixfarm\": 1, \"tracks\": [{\"name\": \"T\", \"file\": \"tone.wav\"},"
                    " {\"name\": \"G\", \"file\": \"audio/gtr.wav\"}]}",
                    (const char *const[]){"tracks[1].file", "audio/gtr.wav", NULL});
    expect_rejected(dir, "loud.json",
                    "{\"mixfarm\": 1, \"tracks\": [{\"name\": \"T\", \"file\": \"tone.wav\","
                    " \"gain_db\": \"loud\"}]}",
                    (const char *const[]){"tracks[0].gain_db", NULL});
    expect_rejected(dir, "unknown.json",
                    "{\"mixfarm\": 1, \"tracks\": [{\"name\": \"T\", \"file\": \"tone.wav\","
                    " \"output\": \"Nowhere\"}], \"buses\": [{\"name\": \"Drums\"}]}",
                    (const char *const[]){"tracks[0].output", "Nowhere", NULL});
    expect_rejected(dir, "cycle.json",
                    "{\"mixfarm\": 1, \"tracks\": [{\"name\": \"T\", \"file\": \"tone.wav\","
                    " \"output\": \"Ping\"}], \"buses\": [{\"name\": \"Ping\", \"output\": "
                    "\"Pong\"}, {\"name\": \"Pong\", \"output\": \"Ping\"}]}",
                    (const char *const[]){"Ping", "Pong", "cycle", NULL});
    expect_rejected(dir, "broken.json", "{\"mixfarm\": 1, \"tracks\": [",
                    (const char *const[]){"JSON", NULL});

    /* A warning (an unknown key) does not stop the render, and is said
     * once: the coordinator's copy of it is only logged. */
    write_text(dir, "typo.json",
               "{\"mixfarm\": 1, \"tracks\": [{\"name\": \"T\", \"file\": \"tone.wav\","
               " \"gain_bd\": -3}]}");
    char tp[1024], to[1024];
    path_join(tp, sizeof tp, dir, "typo.json");
    path_join(to, sizeof to, dir, "typo-out");
    const char *a0[] = {"render", tp, "-o", to, "--quiet", NULL};
    test_run_t r0 = test_run(render_bin, a0, render_root);
    assert_int_equal(r0.rc, 0);
    const char *first = strstr(r0.err, "tracks[0].gain_bd: unknown key");
    if (!first || strstr(first + 1, "tracks[0].gain_bd"))
        fail_msg("the warning is not said exactly once: %s", r0.err);
    test_run_free(&r0);

    /* A session that is not there at all. */
    char sp[1024], op[1024];
    path_join(sp, sizeof sp, dir, "absent.json");
    path_join(op, sizeof op, dir, "out");
    const char *a1[] = {"render", sp, "-o", op, NULL};
    test_run_t r = test_run(render_bin, a1, render_root);
    assert_int_equal(r.rc, 2);
    assert_non_null(strstr(r.err, "absent.json"));
    assert_false(exists(op));
    test_run_free(&r);

    /* An OUTDIR that exists: nothing new appears in it. */
    assert_int_equal(mkdir(op, 0755), 0);
    write_text(op, "keep.txt", "mine");
    path_join(sp, sizeof sp, dir, "loud.json");
    const char *a2[] = {"render", sp, "-o", op, NULL};
    r = test_run(render_bin, a2, render_root);
    assert_int_equal(r.rc, 2);
    assert_int_equal(count_entries(op), 1);
    test_run_free(&r);
}

/* A render never writes over a file it reads: a track named mix.wav, a
 * reference under stems/, rendered into their own folder, are refused
 * before any work and stay as they were (the mix replaced the track with
 * exit 0). Into another folder it renders; and a revision there may read
 * that render's mix as its reference and replace it (manifest.json lists
 * it: mixfarm's own output). */
static void test_inputs_not_replaced(void **state)
{
    (void)state;
    char dir[1024], sp[1100], out[1100], mix[1100], ref[1100];
    case_dir(dir, sizeof dir, "self");
    write_wav(dir, "mix.wav", 2, RATE, 2 * RATE, gen_tone_lr);
    path_join(ref, sizeof ref, dir, "stems");
    assert_int_equal(mkdir(ref, 0755), 0);
    write_wav(ref, "Bounce.wav", 2, RATE, RATE / 10, gen_tone_lr);
    write_text(dir, "s.json",
               "{\"mixfarm\": 1, \"tracks\": [{\"name\": \"Bounce\", \"file\": \"mix.wav\"}],"
               " \"stems\": [\"Bounce\"], \"mastering\": {\"target\": \"none\", \"reference\":"
               " \"stems/Bounce.wav\"}}");
    path_join(sp, sizeof sp, dir, "s.json");
    path_join(mix, sizeof mix, dir, "mix.wav");
    size_t n0, n1;
    unsigned char *before = test_read_bytes(mix, &n0);
    const char *a[] = {"render", sp, "-o", dir, "--quiet", NULL};
    test_run_t r = test_run(render_bin, a, render_root);
    assert_int_equal(r.rc, 2);
    if (!strstr(r.err, "tracks[0] \"Bounce\": ") || !strstr(r.err, "mix.wav: rendering into ") ||
        !strstr(r.err, "mastering.reference: "))
        fail_msg("not said: %s", r.err);
    test_run_free(&r);
    unsigned char *after = test_read_bytes(mix, &n1);
    assert_true(n0 == n1 && !memcmp(before, after, n0));
    free(before), free(after);
    assert_int_equal(count_entries(dir), 3); /* mix.wav, stems/, s.json */

    /* Elsewhere, then a revision there reading that render's mix. */
    path_join(out, sizeof out, dir, "out");
    const char *b[] = {"render", sp, "-o", out, "--quiet", NULL};
    r = test_run(render_bin, b, render_root);
    assert_int_equal(r.rc, 0);
    test_run_free(&r);
    write_text(dir, "s2.json",
               "{\"mixfarm\": 1, \"tracks\": [{\"name\": \"Bounce\", \"file\": \"mix.wav\","
               " \"gain_db\": -3}], \"mastering\": {\"target\": \"none\", \"reference\":"
               " \"out/mix.wav\"}}");
    path_join(sp, sizeof sp, dir, "s2.json");
    const char *c[] = {"render", sp, "-o", out, "--quiet", NULL};
    r = test_run(render_bin, c, render_root);
    if (r.rc != 0) fail_msg("the revision exited %d: %s", r.rc, r.err);
    test_run_free(&r);

    /* A folder holding a DAW's bounce named mix.wav, which the session does
     * not read: rendering there replaced it too, exit 0. Refused; once it
     * has moved, the render writes there, and renders again over itself. */
    char daw[1100], bounce[1100];
    path_join(daw, sizeof daw, dir, "daw");
    assert_int_equal(mkdir(daw, 0755), 0);
    write_wav(daw, "mix.wav", 2, RATE, RATE / 10, gen_tone_lr);
    path_join(bounce, sizeof bounce, daw, "mix.wav");
    before = test_read_bytes(bounce, &n0);
    const char *d[] = {"render", sp, "-o", daw, "--quiet", NULL};
    r = test_run(render_bin, d, render_root);
    if (r.rc != 2 || !strstr(r.err, "mix.wav: no earlier render wrote it"))
        fail_msg("a bounce in OUTDIR: exit %d: %s", r.rc, r.err);
    test_run_free(&r);
    after = test_read_bytes(bounce, &n1);
    assert_true(n0 == n1 && !memcmp(before, after, n0));
    free(before), free(after);
    assert_int_equal(unlink(bounce), 0);
    for (int k = 0; k < 2; k++) {
        r = test_run(render_bin, d, render_root);
        if (r.rc != 0) fail_msg("render %d into daw/ exited %d: %s", k, r.rc, r.err);
        test_run_free(&r);
    }
}

/* The same for every file a render writes: a stem and a master are named
 * from the session, and a studio's own file at such a name (a stem bounced
 * from the DAW, a master from another house) was replaced, exit 0. */
static void test_outputs_not_replaced(void **state)
{
    (void)state;
    char dir[1024], sp[1100], out[1100], sub[1200], file[1300];
    case_dir(dir, sizeof dir, "names");
    write_wav(dir, "kick.wav", 1, RATE, 3 * RATE / 2, gen_tone);
    write_text(dir, "s.json",
               "{\"mixfarm\": 1, \"name\": \"Song\", \"tracks\": [{\"name\": \"Kick\", \"pan\": "
               "0.5, \"file\":"
               " \"kick.wav\"}], \"stems\": [\"Kick\"], \"mastering\": {\"target\": \"none\"},"
               " \"outputs\": [{\"format\": \"wav\", \"bits\": 24}]}");
    path_join(sp, sizeof sp, dir, "s.json");
    path_join(out, sizeof out, dir, "out");
    /* Refused before any work: the farm's state folder is not even made. */
    char stdir[1100];
    path_join(stdir, sizeof stdir, dir, "state");
    const char *a[] = {"render", sp, "-o", out, "--quiet", "--state", stdir, NULL};
    const char *const theirs[][2] = {{"stems", "Kick.wav"}, {"master", "Song.wav"}};
    for (size_t k = 0; k < 2; k++) {
        path_join(sub, sizeof sub, out, theirs[k][0]);
        assert_int_equal(mkdir(out, 0755) == 0 || errno == EEXIST, 1);
        assert_int_equal(mkdir(sub, 0755), 0);
        write_wav(sub, theirs[k][1], 2, RATE, RATE / 10, gen_tone_lr);
        path_join(file, sizeof file, sub, theirs[k][1]);
        size_t n0, n1;
        unsigned char *before = test_read_bytes(file, &n0);
        test_run_t r = test_run(render_bin, a, render_root);
        char said[64];
        snprintf(said, sizeof said, "%s/%s: no earlier render wrote it", theirs[k][0],
                 theirs[k][1]);
        if (r.rc != 2 || !strstr(r.err, said))
            fail_msg("%s/%s in OUTDIR: exit %d: %s", theirs[k][0], theirs[k][1], r.rc, r.err);
        test_run_free(&r);
        unsigned char *after = test_read_bytes(file, &n1);
        assert_true(n0 == n1 && !memcmp(before, after, n0));
        free(before), free(after);
        struct stat st;
        assert_int_not_equal(stat(stdir, &st), 0);
        assert_int_equal(unlink(file), 0);
        assert_int_equal(rmdir(sub), 0);
    }
    for (int k = 0; k < 2; k++) { /* then it renders there, and over itself */
        test_run_t r = test_run(render_bin, a, render_root);
        if (r.rc != 0) fail_msg("render %d into out/ exited %d: %s", k, r.rc, r.err);
        test_run_free(&r);
    }
    path_join(file, sizeof file, out, "master/Song.wav");
    struct stat st;
    assert_int_equal(stat(file, &st), 0);
}

/* A render killed in its commit has placed some of its files, which only
 * its staging folder's manifest.json lists (OUTDIR's is the render
 * before's): the next render takes them for its own, not the user's, and
 * its fetch does not call them foreign once its watch has swept that
 * folder away. Made by hand: a render's mix.wav dropped from OUTDIR's
 * manifest, listed by a staging folder's whose owner is gone. */
static void test_killed_commit(void **state)
{
    (void)state;
    char dir[1024], sp[1100], out[1100], path[1200], stage[1200];
    case_dir(dir, sizeof dir, "killed");
    write_wav(dir, "t.wav", 1, RATE, RATE, gen_tone);
    write_text(dir, "s.json",
               "{\"mixfarm\": 1, \"tracks\": [{\"name\": \"T\", \"file\": \"t.wav\", "
               "\"pan\": 0.3}]}");
    path_join(sp, sizeof sp, dir, "s.json");
    path_join(out, sizeof out, dir, "out");
    const char *a[] = {"render", sp, "-o", out, "--quiet", NULL};
    test_run_t r = test_run(render_bin, a, render_root);
    assert_int_equal(r.rc, 0);
    test_run_free(&r);
    path_join(path, sizeof path, out, "manifest.json");
    json_t *m = json_load_file(path, 0, NULL), *files = json_object_get(m, "files");
    assert_non_null(m);
    path_join(stage, sizeof stage, out, ".mixfarm-partial-Killed");
    assert_int_equal(mkdir(stage, 0700), 0);
    char staged[1300];
    path_join(staged, sizeof staged, stage, "manifest.json");
    assert_int_equal(json_dump_file(m, staged, 0), 0); /* the commit's own */
    char mark[1300]; /* its owner's mark, which no process holds: the next render sweeps it */
    path_join(mark, sizeof mark, stage, ".owner");
    write_text(stage, ".owner", "");
    for (size_t i = 0; i < json_array_size(files); i++)
        if (!strcmp(json_string_value(json_object_get(json_array_get(files, i), "path")),
                    "mix.wav"))
            json_array_remove(files, i--);
    assert_int_equal(json_dump_file(m, path, 0), 0); /* the render before's */
    json_decref(m);
    r = test_run(render_bin, a, render_root);
    if (r.rc != 0) fail_msg("after a commit cut short: exit %d: %s", r.rc, r.err);
    test_run_free(&r);
    /* Without the staging folder's manifest, mix.wav is nobody's. */
    m = json_load_file(path, 0, NULL), files = json_object_get(m, "files");
    for (size_t i = 0; i < json_array_size(files); i++)
        if (!strcmp(json_string_value(json_object_get(json_array_get(files, i), "path")),
                    "mix.wav"))
            json_array_remove(files, i--);
    assert_int_equal(json_dump_file(m, path, 0), 0);
    json_decref(m);
    unlink(staged), unlink(mark), rmdir(stage); /* (the sweep has taken it) */
    r = test_run(render_bin, a, render_root);
    if (r.rc != 2 || !strstr(r.err, "mix.wav: no earlier render wrote it"))
        fail_msg("mix.wav listed nowhere: exit %d: %s", r.rc, r.err);
    test_run_free(&r);
}

static void test_usage_errors(void **state)
{
    (void)state;
    char dir[1024], sp[1024], op[1024];
    case_dir(dir, sizeof dir, "usage");
    write_wav(dir, "tone.wav", 1, RATE, RATE / 10, gen_tone);
    write_text(dir, "s.json",
               "{\"mixfarm\": 1, \"tracks\": [{\"name\": \"T\", \"file\": \"tone.wav\"}]}");
    path_join(sp, sizeof sp, dir, "s.json");
    path_join(op, sizeof op, dir, "out");
    const char *const cases[][10] = {
        {"render", sp, NULL},                             /* no -o */
        {"render", sp, "-o", op, "--workers", "0", NULL}, /* not a count */
        {"render", sp, "-o", op, "--workers", "many", NULL},
        {"render", sp, "-o", op, "--workers", "-2", NULL},
        {"render", "-o", op, NULL},         /* no session */
        {"render", sp, sp, "-o", op, NULL}, /* two */
        {"render", sp, "-o", op, "--frobnicate", NULL},
        {"render", sp, "-o", op, "--state", op, "--coordinator", "tcp://127.0.0.1:9", NULL},
        {"paint", sp, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        test_run_t r = test_run(render_bin, cases[i], render_root);
        if (r.rc != 2) fail_msg("case %zu exited %d, not 2: %s", i, r.rc, r.err);
        assert_true(strlen(r.err) > 0);
        assert_non_null(strstr(r.err, "mixfarm"));
        assert_false(exists(op));
        test_run_free(&r);
    }
    /* An OUTDIR that cannot be written: said once, at once, exit 2. */
    char file[1100], deep[1100];
    path_join(file, sizeof file, dir, "s.json");
    path_join(deep, sizeof deep, dir, "no/such/out");
    const char *const outs[][2] = {{file, "exists and is not a folder"},
                                   {deep, "its folder does not exist"}};
    for (size_t i = 0; i < 2; i++) {
        const char *args[] = {"render", sp, "-o", outs[i][0], NULL};
        test_run_t r = test_run(render_bin, args, render_root);
        char want[1200];
        snprintf(want, sizeof want, "mixfarm: %s: %s\n", outs[i][0], outs[i][1]);
        if (r.rc != 2 || strcmp(r.err, want))
            fail_msg("-o %s: exit %d: %s", outs[i][0], r.rc, r.err);
        test_run_free(&r);
    }
    /* A folder where nothing can be made, whatever access() says (root
     * passes it): it rendered, then failed three times to write, exit 1. */
    const char *proc[] = {"render", sp, "-o", "/proc/mixfarm-out", NULL};
    test_run_t rp = test_run(render_bin, proc, render_root);
    if (rp.rc != 2 || !strstr(rp.err, "mixfarm: /proc/mixfarm-out: cannot be made there (") ||
        strchr(rp.err, '\n') != rp.err + strlen(rp.err) - 1)
        fail_msg("-o /proc/mixfarm-out: exit %d: %s", rp.rc, rp.err);
    test_run_free(&rp);
    /* And the same session with good arguments works. */
    const char *ok[] = {"render", sp, "-o", op, "--workers", "3", "--quiet", NULL};
    test_run_t r = test_run(render_bin, ok, render_root);
    assert_int_equal(r.rc, 0);
    assert_string_equal(r.out, ""); /* --quiet */
    test_run_free(&r);
    char mix[1024];
    path_join(mix, sizeof mix, op, "mix.wav");
    assert_true(exists(mix));
}

/* ---- the README demo ---------------------------------------------------------------- */

static void test_demo(void **state)
{
    (void)state;
    const char *src = getenv("MF_SOURCE_DIR");
    assert_non_null(src);
    char dir[1024], from[1024], out[1024];
    case_dir(dir, sizeof dir, "demo");
    const char *a1[] = {dir, NULL};
    test_run_t r = test_run(render_mkdemo, a1, render_root);
    if (r.rc != 0) fail_msg("mixfarm-mkdemo exited %d: %s", r.rc, r.err);
    test_run_free(&r);
    snprintf(from, sizeof from, "%s/demo/session.json", src);
    char *text = test_read_text(from);
    assert_true(strlen(text) > 0);
    write_text(dir, "session.json", text);
    free(text);
    char sp[1024];
    path_join(sp, sizeof sp, dir, "session.json");
    path_join(out, sizeof out, dir, "out");
    const char *a2[] = {"render", sp, "-o", out, NULL};
    r = test_run(render_bin, a2, render_root);
    if (r.rc != 0) fail_msg("render exited %d: %s", r.rc, r.err);
    test_run_free(&r);
    const char *files[] = {"mix.wav", "stems/Drums.wav", "stems/Music.wav", "stems/Room.wav"};
    for (size_t i = 0; i < 4; i++) {
        wav_t w = read_wav(out, files[i]);
        assert_int_equal(w.channels, 2);
        assert_int_equal(w.rate, 48000);
        /* A 16 s song, and the tails of its delay and reverb. */
        assert_true(w.frames >= 16L * 48000 && w.frames <= 30L * 48000);
        assert_true(peak(&w, 0) > 0.001 && peak(&w, 1) > 0.001);
        wav_free(&w);
    }
    char stems[1024], mp[1024];
    path_join(stems, sizeof stems, out, "stems");
    assert_int_equal(count_entries(stems), 3);
    path_join(mp, sizeof mp, out, "manifest.json");
    assert_true(exists(mp));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_manifest),
        cmocka_unit_test(test_two_renders_one_outdir),
        cmocka_unit_test(test_bad_inputs),
        cmocka_unit_test(test_inputs_not_replaced),
        cmocka_unit_test(test_outputs_not_replaced),
        cmocka_unit_test(test_killed_commit),
        cmocka_unit_test(test_usage_errors),
        cmocka_unit_test(test_demo),
    };
    return cmocka_run_group_tests(tests, render_setup, render_teardown);
}
