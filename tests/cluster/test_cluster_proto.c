/* Cluster: the edges of the protocol.
 *
 *   other_protocol_version_refused  a fake worker (ZeroMQ + the generated
 *                                   protobuf) says hello with version 99: it
 *                                   gets a Refuse, the coordinator logs why,
 *                                   never lists it, and keeps serving
 *   unreachable_coordinator         status against a closed port exits 3
 *                                   within the client's call timeout */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <zmq.h>

#include "cluster_util.h"
#include "farm.pb-c.h"

/* client/mf_client.c: how long a client waits for any reply. */
#define CALL_TIMEOUT_S 5.0 /* client/mf_client.c CALL_TIMEOUT_MS */

static int group_setup(void **state)
{
    (void)state;
    return cl_init(CL_SANITIZED ? 300 : 150);
}

static int setup(void **state)
{
    cl_test_begin((const char *)*state);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    cl_test_end();
    return 0;
}

/* Sends one envelope as is (its version included: mf_msg_send would
 * overwrite it). */
static void s_send_raw(void *sock, Mixfarm__Envelope *env)
{
    size_t len = mixfarm__envelope__get_packed_size(env);
    uint8_t *buf = malloc(len ? len : 1);
    assert_non_null(buf);
    mixfarm__envelope__pack(env, buf);
    int rc = zmq_send(sock, buf, len, 0);
    free(buf);
    assert_int_equal(rc, (int)len);
}

static void other_protocol_version_refused(void **state)
{
    (void)state;
    const char *dir = cl_test_dir();
    cl_coord_t c = {0};
    cl_coord_start(&c, dir, 0);

    void *ctx = zmq_ctx_new();
    void *sock = zmq_socket(ctx, ZMQ_DEALER);
    int zero = 0;
    zmq_setsockopt(sock, ZMQ_LINGER, &zero, sizeof zero);
    assert_int_equal(zmq_connect(sock, c.ep), 0);
    Mixfarm__Hello h = MIXFARM__HELLO__INIT;
    h.name = "fake-v99";
    h.slots = 4;
    Mixfarm__Envelope env = MIXFARM__ENVELOPE__INIT;
    env.version = 99;
    env.body_case = MIXFARM__ENVELOPE__BODY_HELLO;
    env.hello = &h;
    s_send_raw(sock, &env);

    zmq_pollitem_t it = {.socket = sock, .events = ZMQ_POLLIN};
    int n = zmq_poll(&it, 1, (long)(10000 * CL_SLOW));
    Mixfarm__Envelope *rep = NULL;
    char reason[256] = "";
    int body = -1;
    if (n == 1) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, sock, 0) >= 0)
            rep = mixfarm__envelope__unpack(NULL, zmq_msg_size(&m), zmq_msg_data(&m));
        zmq_msg_close(&m);
    }
    if (rep) {
        body = (int)rep->body_case;
        if (rep->body_case == MIXFARM__ENVELOPE__BODY_REFUSE)
            snprintf(reason, sizeof reason, "%s", rep->refuse->reason);
        mixfarm__envelope__free_unpacked(rep, NULL);
    }
    zmq_close(sock);
    zmq_ctx_term(ctx);
    if (n != 1) fail_msg("no answer to a version-99 hello within %.0f s", 10 * CL_SLOW);
    if (body != MIXFARM__ENVELOPE__BODY_REFUSE)
        fail_msg("a version-99 hello got an envelope of kind %d, not a Refuse", body);
    print_message("    Refuse: \"%s\"\n", reason);
    assert_non_null(strstr(reason, "version"));

    /* One log line says it was refused, and why. */
    assert_true(cl_wait_log(c.log, "refused", 1, 5));
    char *log = cl_read_text(c.log);
    char *line = strstr(log, "refused");
    char *eol = line ? strchr(line, '\n') : NULL;
    if (eol) *eol = 0;
    int says_version = line && strstr(line, "version") && strstr(line, "99");
    char copy[512];
    snprintf(copy, sizeof copy, "%s", line ? line : "");
    free(log);
    if (!says_version) fail_msg("the refusal log line does not name the version: %s", copy);
    assert_false(cl_file_contains(c.log, "fake-v99 joined"));

    /* The coordinator goes on serving. */
    char prog[1200];
    snprintf(prog, sizeof prog, "%s", cl_bin("mixfarm"));
    const char *argv[] = {prog, "status", "--coordinator", c.ep, "--json", NULL};
    cl_run_t r = cl_run(argv, 30 * CL_SLOW);
    int rc = r.rc;
    cl_run_free(&r);
    assert_int_equal(rc, 0);
    cl_stop_all_clean(30 * CL_SLOW);
    cl_test_pass();
}

static void unreachable_coordinator(void **state)
{
    (void)state;
    char ep[64], prog[1200];
    snprintf(ep, sizeof ep, "tcp://127.0.0.1:%d", cl_free_port()); /* nobody listens */
    snprintf(prog, sizeof prog, "%s", cl_bin("mixfarm"));
    const char *argv[] = {prog, "status", "--coordinator", ep, NULL};
    cl_run_t r = cl_run(argv, CALL_TIMEOUT_S + 15 * CL_SLOW);
    int rc = r.rc;
    double secs = r.secs;
    char err[512];
    snprintf(err, sizeof err, "%s", r.err);
    cl_run_free(&r);
    print_message("    status on %s: exit %d after %.1f s: %.*s\n", ep, rc, secs,
                  (int)strcspn(err, "\n"), err);
    if (rc == -2) fail_msg("status against a closed port still waits after %.0f s", secs);
    assert_int_equal(rc, 3);
    assert_non_null(strstr(err, "could not be reached"));
    assert_true(secs <= CALL_TIMEOUT_S + 5 * CL_SLOW);
    cl_test_pass();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_prestate_setup_teardown(other_protocol_version_refused, setup, teardown,
                                                 "other_protocol_version_refused"),
        cmocka_unit_test_prestate_setup_teardown(unreachable_coordinator, setup, teardown,
                                                 "unreachable_coordinator"),
    };
    return cmocka_run_group_tests_name("cluster_proto", tests, group_setup, NULL);
}
