/* Random sessions through the mixfarm binary (a property test): each made
 * from a fixed seed, with tracks of several rates and lengths, inserts of
 * every type of the registry with random parameters (the ends of their
 * ranges included), tracks into buses, a bus into another, sends, mute,
 * solo and polarity, a side-chain, automation of faders,
 * pans and insert parameters, and mastering with a random target; each
 * rendered with one worker and with three. Both renders end (exit 0, or 1
 * when the master misses its QC, which such parameters may well do), and
 * write the same files, bit for bit (manifest.json equal). Under
 * AddressSanitizer in CI, no memory error along the way. Its first run
 * found a bus failing on a strip it ran itself whose look-ahead was longer
 * than a block (worker/exec_channel.c, s_produce; dsp test_fused_same_bits
 * keeps it covered); with more of SESSION.md in the sessions, an empty
 * master that aborted the Opus encoder. MF_RANDOM_SESSIONS=N and
 * MF_RANDOM_SEED=S render N sessions from seed S instead.
 * And revisions: test_random_revisions (MF_RANDOM_REVISIONS=N). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "random_session.h"
#include "render_case.h"

#define SESSIONS 24
#define REVISIONS 8
#define ALBUMS 6

static void s_render(const char *dir, const char *out, const char *workers)
{
    char sp[1024], op[1024];
    path_join(sp, sizeof sp, dir, "s.json");
    path_join(op, sizeof op, dir, out);
    const char *args[] = {"render", sp, "-o", op, "--quiet", "--workers", workers, NULL};
    test_run_t r = test_run(render_bin, args, render_root);
    char manifest[1200];
    snprintf(manifest, sizeof manifest, "%s/manifest.json", op);
    /* Exit 1 for a master that misses its QC, which writes everything. */
    if ((r.rc != 0 && r.rc != 1) || !exists(manifest)) {
        char *doc = (char *)test_read_bytes(sp, &(size_t){0});
        fail_msg("render %s exited %d: %s\nsession:\n%s", sp, r.rc, r.err, doc);
    }
    test_run_free(&r);
}

/* Renders dir's file into out with --state dir/state, or none (NULL):
 * the exit code (1: QC, files written), after the files are checked. */
static int s_render_file(const char *dir, const char *file, const char *out, const char *state)
{
    char sp[1024], op[1024], st[1024];
    path_join(sp, sizeof sp, dir, file);
    path_join(op, sizeof op, dir, out);
    path_join(st, sizeof st, dir, "state");
    const char *args[] = {
        "render", sp, "-o", op, "--quiet", "--workers", "2", state ? "--state" : NULL, st, NULL};
    test_run_t r = test_run(render_bin, args, render_root);
    const int rc = r.rc;
    if (rc != 0 && rc != 1 && rc != 2) fail_msg("render %s exited %d: %s", sp, rc, r.err);
    test_run_free(&r);
    return rc;
}

/* mixfarm diff v1 v2 --json over dir's two renders ends well, and names a
 * change when the files differ (a number moved on a track a solo silences
 * changes nothing heard: diff then calls it unchanged). */
static void s_diff_names_change(const char *dir, const char *what)
{
    char v1[1100], v2[1100];
    path_join(v1, sizeof v1, dir, "v1");
    path_join(v2, sizeof v2, dir, "v2");
    json_t *h1 = rs_outdir_hashes(v1), *h2 = rs_outdir_hashes(v2);
    const int differ = !json_equal(h1, h2);
    json_decref(h1), json_decref(h2);
    const char *args[] = {"diff", v1, v2, "--json", NULL};
    test_run_t r = test_run(render_bin, args, render_root);
    json_error_t e;
    json_t *d = r.rc == 0 ? json_loads(r.out, 0, &e) : NULL;
    if (!d) fail_msg("%s: diff exited %d: %s%s", dir, r.rc, r.err, r.out);
    if (differ && !json_array_size(json_object_get(d, "changed")))
        fail_msg("%s: after %s, diff names no change: %s", dir, what, r.out);
    json_decref(d);
    test_run_free(&r);
}

/* The action cache, by property: a session rendered with --state, then
 * one number of it moved (any parameter, level, time or breakpoint) and
 * rendered again with that state, must give the files a render from
 * nothing gives. A task key that leaves out what a task reads would take
 * the earlier render's output: the revision would keep the old sound. */
static void test_random_revisions(void **state)
{
    (void)state;
    const int sessions = rs_count("MF_RANDOM_REVISIONS", REVISIONS);
    rs_seed_env(1, 0x13198A2E03707344ull);
    for (int k = 0; k < sessions; k++) {
        char dir[1024], name[32], what[600] = "";
        snprintf(name, sizeof name, "revised-%d", k);
        case_dir(dir, sizeof dir, name);
        json_t *s = rs_session(dir);
        char *text = json_dumps(s, JSON_INDENT(1));
        write_text(dir, "s.json", text);
        free(text);
        s_render_file(dir, "s.json", "v1", "state");
        int rc = 2;
        for (int tries = 0; rc == 2 && tries < 10; tries++) { /* one that validates */
            json_t *r = json_deep_copy(s);
            rs_revise(r, what, sizeof what);
            text = json_dumps(r, JSON_INDENT(1));
            write_text(dir, "s2.json", text);
            json_decref(r);
            rc = s_render_file(dir, "s2.json", "v2", "state");
            if (rc == 2) free(text);
        }
        if (rc == 2) fail_msg("%s: no revision of it validates", dir);
        s_render_file(dir, "s2.json", "fresh", NULL);
        char v2[1100], fresh[1100];
        path_join(v2, sizeof v2, dir, "v2");
        path_join(fresh, sizeof fresh, dir, "fresh");
        json_t *a = rs_outdir_hashes(v2), *b = rs_outdir_hashes(fresh);
        if (!json_equal(a, b))
            fail_msg("%s: after %s, the revision's files differ from a render from nothing; "
                     "session:\n%s",
                     dir, what, text);
        s_diff_names_change(dir, what);
        print_message("    session %d, %s: %zu files as from nothing\n", k, what,
                      json_object_size(a));
        json_decref(a), json_decref(b), json_decref(s);
        free(text);
    }
}

/* Writes doc into dir as s.json, renders it with 1 and with 3 workers,
 * and fails unless both wrote the same files; the manifest's size. */
static size_t s_one_and_three(const char *dir, const json_t *doc)
{
    char *text = json_dumps(doc, JSON_INDENT(1));
    write_text(dir, "s.json", text);
    s_render(dir, "w1", "1");
    s_render(dir, "w3", "3");
    char p[1100], q[1100];
    snprintf(p, sizeof p, "%s/w1/manifest.json", dir);
    snprintf(q, sizeof q, "%s/w3/manifest.json", dir);
    size_t n1, n2;
    unsigned char *a = test_read_bytes(p, &n1), *b = test_read_bytes(q, &n2);
    if (n1 != n2 || memcmp(a, b, n1))
        fail_msg("%s: 1 and 3 workers differ; document:\n%s", dir, text);
    free(a), free(b), free(text);
    return n1;
}

/* Albums the same way: random songs (sessions and mix files), gaps,
 * cross-fades and mastering modes, with 1 and 3 workers, the same files
 * (MF_RANDOM_ALBUMS=N explores further). */
static void test_random_albums(void **state)
{
    (void)state;
    const int albums = rs_count("MF_RANDOM_ALBUMS", ALBUMS);
    rs_seed_env(2, 0xA4093822299F31D0ull);
    for (int k = 0; k < albums; k++) {
        char dir[1024], name[32];
        snprintf(name, sizeof name, "album-%d", k);
        case_dir(dir, sizeof dir, name);
        json_t *a = rs_album(dir);
        const size_t n = s_one_and_three(dir, a);
        print_message("    album %d: %zu songs: the same %zu-byte manifest\n", k,
                      json_array_size(json_object_get(a, "tracks")), n);
        json_decref(a);
    }
}

/* MF_RANDOM_SESSIONS and MF_RANDOM_SEED explore further than CI does. */
static void test_random_sessions(void **state)
{
    (void)state;
    const int sessions = rs_count("MF_RANDOM_SESSIONS", SESSIONS);
    rs_seed_env(0, 0);
    for (int k = 0; k < sessions; k++) {
        char dir[1024], name[32];
        snprintf(name, sizeof name, "random-%d", k);
        case_dir(dir, sizeof dir, name);
        json_t *s = rs_session(dir);
        const size_t n = s_one_and_three(dir, s);
        print_message("    session %d: %zu tracks, %zu buses%s: the same %zu-byte manifest\n", k,
                      json_array_size(json_object_get(s, "tracks")),
                      json_array_size(json_object_get(s, "buses")),
                      json_object_get(s, "mastering") ? ", mastered" : "", n);
        json_decref(s);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_random_sessions),
                                       cmocka_unit_test(test_random_revisions),
                                       cmocka_unit_test(test_random_albums)};
    return cmocka_run_group_tests(tests, render_setup, render_teardown);
}
