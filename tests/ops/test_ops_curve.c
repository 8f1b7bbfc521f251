/* Operations: a farm secured with CURVE (real processes on 127.0.0.1).
 *
 *   keygen            NAME.key is 0600 and NAME.pub public; nothing is ever
 *                     overwritten
 *   secured_farm      an allowed worker and client render a job; a client
 *                     with an unknown key is refused (exit 3, a clear
 *                     message) and the coordinator logs the refusal by
 *                     fingerprint, never the key; a client and a worker
 *                     without CURVE cannot talk to it; adding the unknown
 *                     key's .pub to --allow admits it (a client at once, a
 *                     refused worker on its next try) with no restart; no
 *                     log holds a secret key */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "ops_util.h"

static int group_setup(void **state)
{
    (void)state;
    return cl_init(CL_SANITIZED ? 300 : 150);
}

/* mixfarm keygen -o dir/name; returns the exit code. */
static int s_keygen(const char *dir, const char *name)
{
    char out[1200], prog[1200];
    cl_path(out, sizeof out, dir, name);
    snprintf(prog, sizeof prog, "%s", cl_bin("mixfarm"));
    const char *argv[] = {prog, "keygen", "-o", out, NULL};
    cl_run_t r = cl_run(argv, 20);
    int rc = r.rc;
    cl_run_free(&r);
    return rc;
}

/* The key line (not a comment) of a key file. */
static void s_key_of(const char *path, char key[41])
{
    char *t = test_read_text(path);
    char *p = t;
    while (*p == '#') p = strchr(p, '\n') + 1;
    assert_true(strlen(p) >= 40);
    memcpy(key, p, 40);
    key[40] = 0;
    free(t);
}

static void keygen(void **state)
{
    (void)state;
    const char *dir = cl_test_dir();
    assert_int_equal(s_keygen(dir, "alice"), 0);
    char key[1200], pub[1200];
    cl_path(key, sizeof key, dir, "alice.key");
    cl_path(pub, sizeof pub, dir, "alice.pub");
    struct stat st;
    assert_int_equal(stat(key, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(stat(pub, &st), 0);
    char k1[41], k2[41];
    s_key_of(key, k1);
    s_key_of(pub, k2);
    assert_string_not_equal(k1, k2);
    assert_int_equal(s_keygen(dir, "alice"), 2); /* never overwritten */
    char again[41];
    s_key_of(key, again);
    assert_string_equal(k1, again);
    cl_test_pass();
}

/* mixfarm status --coordinator EP with the given MIXFARM_KEYS (NULL: unset). */
static cl_run_t s_status_as(const cl_coord_t *c, const char *keys, const char *server)
{
    if (keys)
        setenv("MIXFARM_KEYS", keys, 1);
    else
        unsetenv("MIXFARM_KEYS");
    if (server)
        setenv("MIXFARM_SERVER_KEY", server, 1);
    else
        unsetenv("MIXFARM_SERVER_KEY");
    char prog[1200];
    snprintf(prog, sizeof prog, "%s", cl_bin("mixfarm"));
    const char *argv[] = {prog, "status", "--coordinator", c->ep, NULL};
    return cl_run(argv, 30 * CL_SLOW);
}

static void s_assert_no_secret(const char *log, const char *key_file)
{
    char secret[41];
    s_key_of(key_file, secret);
    if (cl_file_contains(log, secret)) fail_msg("%s holds a secret key", log);
}

static void secured_farm(void **state)
{
    (void)state;
    const char *dir = cl_test_dir();
    char allow[1200], coord_keys[1200], coord_pub[1200], w1[1200], alice[1200], mallory[1200];
    cl_path(allow, sizeof allow, dir, "allow");
    assert_int_equal(mkdir(allow, 0755), 0);
    assert_int_equal(s_keygen(dir, "coordinator"), 0);
    assert_int_equal(s_keygen(allow, "w1"), 0); /* the .key stays beside: a test shortcut */
    assert_int_equal(s_keygen(allow, "alice"), 0);
    assert_int_equal(s_keygen(dir, "mallory"), 0);
    cl_path(coord_keys, sizeof coord_keys, dir, "coordinator");
    cl_path(coord_pub, sizeof coord_pub, dir, "coordinator.pub");
    cl_path(w1, sizeof w1, allow, "w1");
    cl_path(alice, sizeof alice, allow, "alice");
    cl_path(mallory, sizeof mallory, dir, "mallory");

    cl_coord_t c = {0};
    const char *extra[] = {"--curve-keys", coord_keys, "--allow", allow, NULL};
    int http = 0;
    ops_coord_start(&c, dir, extra, 0, &http);
    assert_true(cl_file_contains(c.log, "CURVE: on"));
    const char *wextra[] = {"--curve-keys", w1, "--server-key", coord_pub, NULL};
    char wlog[1200], plain_log[1200];
    ops_worker_start(&c, dir, "w1", 2, wextra, wlog, sizeof wlog);
    cl_wait_joined(&c, "w1", 15 * CL_SLOW);

    /* An allowed client renders. */
    setenv("MIXFARM_KEYS", alice, 1);
    setenv("MIXFARM_SERVER_KEY", coord_pub, 1);
    cl_session_t small = {.n_tracks = 2, .prefix = "s", .track0_gain_db = -2};
    cl_write_session(dir, "small.json", "Small", &small, 3, 1);
    char session[1200];
    cl_path(session, sizeof session, dir, "small.json");
    uint64_t job = cl_submit(&c, session, 0);
    cl_wait_state(&c, job, "done", 60 * CL_SLOW, NULL);

    /* An unknown key: refused at once, and said so. */
    double t0 = cl_now();
    cl_run_t r = s_status_as(&c, mallory, coord_pub);
    assert_int_equal(r.rc, 3);
    assert_true(cl_now() - t0 < 4.5); /* the refusal, not the 5 s timeout */
    if (!strstr(r.err, "refused this key")) fail_msg("no clear refusal: %s", r.err);
    cl_run_free(&r);
    assert_true(cl_wait_log(c.log, "refused a peer from 127.0.0.1", 1, 5));
    char mallory_pub[1200], mkey[41];
    cl_path(mallory_pub, sizeof mallory_pub, dir, "mallory.pub");
    s_key_of(mallory_pub, mkey);
    assert_false(cl_file_contains(c.log, mkey)); /* the fingerprint only */

    /* A worker with that key: refused, said in its log, and retrying. */
    char mlog[1200];
    const char *mextra[] = {"--curve-keys", mallory, "--server-key", coord_pub, NULL};
    ops_worker_start(&c, dir, "m1", 1, mextra, mlog, sizeof mlog);
    assert_true(cl_wait_log(mlog, "the coordinator refused this key", 1, 10 * CL_SLOW));

    /* No CURVE at all: a client gets a clear error, a worker never joins. */
    r = s_status_as(&c, NULL, NULL);
    assert_int_equal(r.rc, 3);
    if (!strstr(r.err, "CURVE")) fail_msg("no clear error without CURVE: %s", r.err);
    cl_run_free(&r);
    ops_worker_start(&c, dir, "plain", 1, NULL, plain_log, sizeof plain_log);
    assert_true(cl_wait_log(plain_log, "CURVE on one side only", 1, 10 * CL_SLOW));
    assert_int_equal(cl_count_lines(c.log, "worker plain joined"), 0);

    /* Rotation: the new key's .pub in --allow, and it is let in; no restart. */
    char copy[1300];
    cl_path(copy, sizeof copy, allow, "mallory.pub");
    char *text = test_read_text(mallory_pub);
    cl_write_text(copy, text);
    free(text);
    r = s_status_as(&c, mallory, coord_pub);
    if (r.rc != 0) fail_msg("an added key is still refused: %s", r.err);
    cl_run_free(&r);
    cl_wait_joined(&c, "m1", 20 * CL_SLOW); /* the refused worker, on its next try */

    char coord_key_file[1300], w1_key[1300], alice_key[1300], mallory_key[1300];
    snprintf(coord_key_file, sizeof coord_key_file, "%s.key", coord_keys);
    snprintf(w1_key, sizeof w1_key, "%s.key", w1);
    snprintf(alice_key, sizeof alice_key, "%s.key", alice);
    snprintf(mallory_key, sizeof mallory_key, "%s.key", mallory);
    const char *logs[] = {c.log, wlog, plain_log, mlog};
    for (size_t i = 0; i < 4; i++) {
        s_assert_no_secret(logs[i], coord_key_file);
        s_assert_no_secret(logs[i], w1_key);
        s_assert_no_secret(logs[i], alice_key);
        s_assert_no_secret(logs[i], mallory_key);
    }
    unsetenv("MIXFARM_KEYS");
    unsetenv("MIXFARM_SERVER_KEY");
    cl_stop_all_clean(20 * CL_SLOW);
    cl_test_pass();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_prestate_setup_teardown(keygen, cl_setup, cl_teardown, (void *)"keygen"),
        cmocka_unit_test_prestate_setup_teardown(secured_farm, cl_setup, cl_teardown,
                                                 (void *)"secured_farm"),
    };
    return cmocka_run_group_tests(tests, group_setup, NULL);
}
