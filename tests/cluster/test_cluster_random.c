/* Cluster: random sessions (tests/common/random_session.h) on a farm of a
 * coordinator and two worker processes over TCP render the same files as
 * the embedded farm, which runs strips inside their buses where the farm
 * stores every strip and moves it between processes.
 *
 *   random_distributed_equals_embedded  SESSIONS seeded random sessions,
 *                                       each rendered embedded and on the
 *                                       farm: both end (exit 0, or 1 for a
 *                                       master that misses its QC) and
 *                                       write the same bits (every file of
 *                                       OUTDIR that both have, render.json
 *                                       apart, equal by manifest.json);
 *                                       MF_RANDOM_SESSIONS and MF_RANDOM_SEED
 *                                       explore further; then two random
 *                                       albums the same way (MF_RANDOM_ALBUMS) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>
#include <jansson.h>

#include "cluster_util.h"
#include "random_session.h"

#define SESSIONS 5
#define ALBUMS 2

/* mixfarm render SESSION -o OUT, embedded with two workers or on c. */
static void s_render(const char *session, const char *out, const cl_coord_t *c)
{
    cl_run_t r = cl_render_run(session, out, c);
    char manifest[1300];
    snprintf(manifest, sizeof manifest, "%s/manifest.json", out);
    struct stat st;
    if ((r.rc != 0 && r.rc != 1) || stat(manifest, &st) != 0) {
        char msg[4096];
        snprintf(msg, sizeof msg, "render %s (%s) exited %d: %s", session,
                 c ? "on the farm" : "embedded", r.rc, r.err);
        cl_run_free(&r);
        fail_msg("%s", msg);
    }
    cl_run_free(&r);
}

/* MF_RANDOM_SESSIONS, MF_RANDOM_ALBUMS and MF_RANDOM_SEED explore further
 * than CI does. */
static int s_sessions(void)
{
    return rs_count("MF_RANDOM_SESSIONS", SESSIONS);
}

static int s_albums(void)
{
    return rs_count("MF_RANDOM_ALBUMS", ALBUMS);
}

static void random_distributed_equals_embedded(void **state)
{
    (void)state;
    const char *dir = cl_test_dir();
    cl_coord_t c = {0};
    cl_coord_start(&c, dir, 0);
    cl_worker_start(&c, dir, "w1", 2, NULL, 0);
    cl_worker_start(&c, dir, "w2", 2, NULL, 0);
    cl_wait_joined(&c, "w1", 30 * CL_SLOW);
    cl_wait_joined(&c, "w2", 30 * CL_SLOW);
    rs_seed_env(0, 0x243F6A8885A308D3ull); /* not render_random's sessions */
    /* The sessions, then two albums of such songs. */
    for (int k = 0; k < s_sessions() + s_albums(); k++) {
        const int album = k >= s_sessions();
        char sdir[1200], name[32], session[1300], emb[1300], farm[1300];
        snprintf(name, sizeof name, "%s-%d", album ? "album" : "random", k);
        cl_path(sdir, sizeof sdir, dir, name);
        assert_int_equal(mkdir(sdir, 0755), 0);
        json_t *s = album ? rs_album(sdir) : rs_session(sdir);
        cl_path(session, sizeof session, sdir, "s.json");
        assert_int_equal(json_dump_file(s, session, JSON_INDENT(1)), 0);
        cl_path(emb, sizeof emb, sdir, "embedded");
        cl_path(farm, sizeof farm, sdir, "farm");
        s_render(session, emb, NULL);
        s_render(session, farm, &c);
        json_t *a = rs_outdir_hashes(emb), *b = rs_outdir_hashes(farm);
        if (!json_equal(a, b)) {
            char *doc = json_dumps(s, JSON_INDENT(1));
            fail_msg("%s: the farm's files differ from the embedded render's; document:\n%s", sdir,
                     doc);
        }
        print_message("    %s %d: %zu tracks, %zu buses%s: %zu files the same\n",
                      album ? "album" : "session", k, json_array_size(json_object_get(s, "tracks")),
                      json_array_size(json_object_get(s, "buses")),
                      json_object_get(s, "mastering") ? ", mastered" : "", json_object_size(a));
        json_decref(a), json_decref(b), json_decref(s);
    }
    cl_stop_all_clean(30 * CL_SLOW);
    cl_test_pass();
}

static int group_setup(void **state)
{
    (void)state;
    return cl_init((CL_SANITIZED ? 560 : 280) + 60 * (s_sessions() + s_albums() - SESSIONS));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_prestate_setup_teardown(random_distributed_equals_embedded, cl_setup,
                                                 cl_teardown, "random_distributed_equals_embedded"),
    };
    return cmocka_run_group_tests_name("cluster_random", tests, group_setup, NULL);
}
