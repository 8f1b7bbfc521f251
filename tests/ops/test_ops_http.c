/* Operations: the coordinator's HTTP side, with a real coordinator and two
 * worker processes on 127.0.0.1.
 *
 *   api_and_metrics   a mastered job renders; /api/jobs, /api/jobs/ID (its
 *                     tasks), /api/workers, /metrics (queue depth, tasks by
 *                     state, the duration histogram, workers, blob store,
 *                     cache hits after a resubmit) and /jobs/ID/qc.html
 *                     say what happened; unknown paths 404, POST 405
 *   awaiting_sources  a job submitted before its file is uploaded says so in
 *                     /api/jobs (running, sources_awaited 1) and on the
 *                     dashboard ("waiting for 1 file", with Chromium)
 *   dashboard         headless Chromium renders / and, once its script ran,
 *                     the DOM lists the job, its tasks and both workers
 *                     (skipped, saying so, when chromium is not installed) */
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
#include <jansson.h>

#include "cluster_raw.h"
#include "ops_util.h"

static cl_coord_t s_coord;
static int s_http;
static uint64_t s_job;
static char s_session[1200];

static int group_setup(void **state)
{
    (void)state;
    return cl_init(CL_SANITIZED ? 300 : 150);
}

static json_t *s_get_json(const char *path, int want_status)
{
    ops_http_t r = ops_http(s_http, "GET", path, 10);
    if (r.status != want_status) fail_msg("GET %s: status %d: %s", path, r.status, r.body);
    assert_non_null(r.type);
    assert_non_null(strstr(r.type, "application/json"));
    json_error_t err;
    json_t *doc = json_loads(r.body, 0, &err);
    if (!doc) fail_msg("GET %s: not JSON (%s): %s", path, err.text, r.body);
    ops_http_free(&r);
    return doc;
}

/* The farm every test here uses: one coordinator with --http, two workers,
 * one mastered job done. */
static void s_farm(void)
{
    const char *dir = cl_test_dir();
    ops_coord_start(&s_coord, dir, NULL, 1, &s_http);
    ops_worker_start(&s_coord, dir, "w1", 2, NULL, NULL, 0);
    ops_worker_start(&s_coord, dir, "w2", 1, NULL, NULL, 0);
    cl_wait_joined(&s_coord, "w1", 15 * CL_SLOW);
    cl_wait_joined(&s_coord, "w2", 15 * CL_SLOW);
    ops_write_mastered(dir, "song.json", "Song", 3, CL_SANITIZED ? 3 : 6);
    cl_path(s_session, sizeof s_session, dir, "song.json");
    s_job = cl_submit(&s_coord, s_session, 0);
    cl_wait_state(&s_coord, s_job, "done", 60 * CL_SLOW, NULL);
    cl_sleep(0.15); /* the snapshot trails the loop by at most 0.1 s (PUBLISH_EVERY_S) */
}

static void api_and_metrics(void **state)
{
    (void)state;
    s_farm();
    json_t *jobs = s_get_json("/api/jobs", 200);
    assert_int_equal(json_array_size(jobs), 1);
    json_t *j = json_array_get(jobs, 0);
    assert_int_equal(json_integer_value(json_object_get(j, "job")), (json_int_t)s_job);
    assert_string_equal(json_string_value(json_object_get(j, "state")), "done");
    json_int_t total = json_integer_value(json_object_get(j, "tasks_total"));
    assert_true(total >= 5);
    assert_int_equal(json_integer_value(json_object_get(j, "tasks_done")), total);
    assert_true(json_real_value(json_object_get(j, "progress")) == 1.0);
    char qc[64];
    snprintf(qc, sizeof qc, "/jobs/%" PRIu64 "/qc.html", s_job);
    assert_string_equal(json_string_value(json_object_get(j, "qc_html")), qc);
    const char *job_numerics = json_string_value(json_object_get(j, "numerics"));
    assert_non_null(job_numerics);
    assert_true(!strncmp(job_numerics, "dsp=", 4));
    char pinned[64];
    snprintf(pinned, sizeof pinned, "%s", job_numerics);
    json_decref(jobs);

    char path[64];
    snprintf(path, sizeof path, "/api/jobs/%" PRIu64, s_job);
    json_t *one = s_get_json(path, 200);
    json_t *tasks = json_object_get(one, "tasks");
    assert_int_equal(json_array_size(tasks), total);
    int masters = 0;
    for (size_t i = 0; i < json_array_size(tasks); i++) {
        json_t *t = json_array_get(tasks, i);
        assert_string_equal(json_string_value(json_object_get(t, "state")), "done");
        masters += !strcmp(json_string_value(json_object_get(t, "kind")), "master");
    }
    assert_int_equal(masters, 1);
    json_decref(one);
    json_decref(s_get_json("/api/jobs/999", 404));
    json_decref(s_get_json("/api/jobs/abc", 404));

    json_t *workers = s_get_json("/api/workers", 200);
    assert_int_equal(json_array_size(workers), 2);
    int slots = 0;
    for (size_t i = 0; i < 2; i++) {
        json_t *w = json_array_get(workers, i);
        assert_string_equal(json_string_value(json_object_get(w, "health")), "ok");
        assert_string_equal(json_string_value(json_object_get(w, "numerics")), pinned);
        slots += (int)json_integer_value(json_object_get(w, "slots"));
    }
    assert_int_equal(slots, 3);
    json_decref(workers);

    ops_http_t r = ops_http(s_http, "GET", qc, 10);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.type, "text/html"));
    assert_non_null(strstr(r.body, "<html"));
    ops_http_free(&r);

    /* The same session again: every task comes from the action cache. */
    uint64_t again = cl_submit(&s_coord, s_session, 0);
    cl_wait_state(&s_coord, again, "done", 30 * CL_SLOW, NULL);
    cl_sleep(0.4);
    r = ops_http(s_http, "GET", "/metrics", 20);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.type, "text/plain"));
    const char *m = r.body;
    assert_true(ops_metric(m, "mixfarm_queue_depth") == 0);
    assert_true(ops_metric(m, "mixfarm_tasks{state=\"done\"}") == 2.0 * (double)total);
    assert_true(ops_metric(m, "mixfarm_tasks{state=\"failed\"}") == 0);
    assert_true(ops_metric(m, "mixfarm_jobs{state=\"done\"}") == 2);
    assert_true(ops_metric(m, "mixfarm_task_duration_seconds_count") == (double)total);
    assert_true(ops_metric(m, "mixfarm_task_duration_seconds_bucket{le=\"+Inf\"}") ==
                (double)total);
    assert_true(ops_metric(m, "mixfarm_task_duration_seconds_sum") > 0);
    assert_true(ops_metric(m, "mixfarm_workers") == 2);
    assert_true(ops_metric(m, "mixfarm_worker_slots") == 3);
    assert_true(ops_metric(m, "mixfarm_cache_hits_total") == (double)total);
    assert_true(ops_metric(m, "mixfarm_cache_hit_ratio") == 0.5);
    assert_true(ops_metric(m, "mixfarm_blob_store_bytes") > 100000);
    assert_non_null(strstr(m, "# TYPE mixfarm_task_duration_seconds histogram"));
    ops_http_free(&r);

    r = ops_http(s_http, "GET", "/nowhere", 10);
    assert_int_equal(r.status, 404);
    ops_http_free(&r);
    r = ops_http(s_http, "POST", "/api/jobs", 10);
    assert_int_equal(r.status, 405);
    ops_http_free(&r);
    r = ops_http(s_http, "GET", "/healthz", 10);
    assert_int_equal(r.status, 200);
    ops_http_free(&r);
    cl_stop_all_clean(20 * CL_SLOW);
    cl_test_pass();
}

static const char *s_chromium(void)
{
    static const char *const names[] = {"/usr/bin/chromium", "/usr/bin/chromium-browser",
                                        "/usr/bin/google-chrome"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (access(names[i], X_OK) == 0) return names[i];
    return NULL;
}

/* The dashboard's DOM once its script ran, as headless Chromium renders it
 * (free it); NULL when chromium is not installed. */
static char *s_dashboard_dom(const char *fragment);

static void awaiting_sources(void **state)
{
    (void)state;
    ops_coord_start(&s_coord, cl_test_dir(), NULL, 1, &s_http);
    /* The raw protocol, as a client that submits first and uploads after
     * (client_submit.c) would: the blob named is never uploaded. */
    static const char *doc = "{\"mixfarm\": 1, \"name\": \"late\", \"sample_rate\": 48000,"
                             " \"tracks\": [{\"name\": \"A\", \"file\": \"a.wav\"}]}";
    char hash[65];
    memset(hash, 'a', 64), hash[64] = 0;
    Mixfarm__SourceRef ref = MIXFARM__SOURCE_REF__INIT, *refs[1] = {&ref};
    ref.path = "a.wav", ref.hash = hash;
    ref.channels = 1, ref.sample_rate = 48000, ref.frames = 48000;
    Mixfarm__Envelope *rep = cl_submit_raw(s_coord.ep, "late.json", doc, refs, 1, 1);
    const json_int_t job = (json_int_t)rep->submit_reply->job;
    assert_true(job > 0);
    mixfarm__envelope__free_unpacked(rep, NULL);
    json_int_t awaited = -1;
    for (int i = 0; i < 50 && awaited != 1; i++) { /* the snapshot trails the loop */
        cl_sleep(0.1);
        json_t *jobs = s_get_json("/api/jobs", 200), *j = json_array_get(jobs, 0);
        assert_int_equal(json_integer_value(json_object_get(j, "job")), job);
        assert_string_equal(json_string_value(json_object_get(j, "state")), "running");
        awaited = json_integer_value(json_object_get(j, "sources_awaited"));
        json_decref(jobs);
    }
    assert_int_equal(awaited, 1);
    /* The dashboard says it too (when Chromium is there to run it). */
    char *dom = s_dashboard_dom("");
    if (dom && !strstr(dom, "class=\"awaited\"> waiting for 1 file<"))
        fail_msg("the dashboard does not say the job waits for a file:\n%s", dom);
    free(dom);
    cl_stop_all_clean(20 * CL_SLOW);
    cl_test_pass();
}

/* The dashboard's DOM once its script ran, as headless Chromium renders it
 * (free it); NULL, said, when chromium is not installed. */
static char *s_dashboard_dom(const char *fragment)
{
    const char *chromium = s_chromium();
    if (!chromium) return NULL;
    char profile[1200], url[160], budget[32];
    cl_path(profile, sizeof profile, cl_test_dir(), "chromium-profile");
    mkdir(profile, 0700);
    char profile_arg[1300];
    snprintf(profile_arg, sizeof profile_arg, "--user-data-dir=%s", profile);
    snprintf(url, sizeof url, "http://127.0.0.1:%d/%s", s_http, fragment);
    snprintf(budget, sizeof budget, "--virtual-time-budget=%d", CL_SANITIZED ? 8000 : 4000);
    const char *argv[] = {chromium,
                          "--headless",
                          "--no-sandbox",
                          "--disable-gpu",
                          "--disable-background-networking",
                          "--disable-component-update",
                          "--disable-sync",
                          "--no-first-run",
                          profile_arg,
                          budget,
                          "--dump-dom",
                          url,
                          NULL};
    cl_run_t run = cl_run(argv, 60);
    if (run.rc != 0) fail_msg("chromium exited %d: %s", run.rc, run.err);
    char *dom = strdup(run.out);
    cl_run_free(&run);
    return dom;
}

static void dashboard(void **state)
{
    (void)state;
    if (!s_chromium()) {
        printf("SKIP dashboard: chromium is not installed (deploy/install-deps.sh installs it)\n");
        cl_test_pass();
        skip();
    }
    s_farm();
    char fragment[64];
    snprintf(fragment, sizeof fragment, "#job=%" PRIu64, s_job);
    char *dom = s_dashboard_dom(fragment);
    char needle[128];
    snprintf(needle, sizeof needle, "data-job=\"%" PRIu64 "\"", s_job);
    if (!strstr(dom, needle)) fail_msg("the dashboard shows no job %" PRIu64 ":\n%s", s_job, dom);
    assert_non_null(strstr(dom, "song.json"));
    assert_non_null(strstr(dom, "class=\"state s-done\">done<"));
    assert_non_null(strstr(dom, "data-worker=\"w1\""));
    assert_non_null(strstr(dom, "data-worker=\"w2\""));
    assert_non_null(strstr(dom, "class=\"label\">master"));
    assert_non_null(strstr(dom, "qc.html"));
    assert_non_null(strstr(dom, ">live, updated"));
    assert_null(strstr(dom, "class=\"awaited\""));
    free(dom);
    cl_stop_all_clean(20 * CL_SLOW);
    cl_test_pass();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_prestate_setup_teardown(api_and_metrics, cl_setup, cl_teardown,
                                                 (void *)"api_and_metrics"),
        cmocka_unit_test_prestate_setup_teardown(awaiting_sources, cl_setup, cl_teardown,
                                                 (void *)"awaiting_sources"),
        cmocka_unit_test_prestate_setup_teardown(dashboard, cl_setup, cl_teardown,
                                                 (void *)"dashboard"),
    };
    return cmocka_run_group_tests(tests, group_setup, NULL);
}
