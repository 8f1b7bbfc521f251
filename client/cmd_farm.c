/* The commands that talk to a running coordinator: submit, status, watch,
 * fetch, cancel (CLI.md). Each takes --coordinator ENDPOINT or
 * $MIXFARM_COORDINATOR. */
#include "mf_cli.h"
#include "mf_interrupt.h"
#include "mf_log.h"

#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct {
    const char *coordinator, *outdir, *arg;
    int json, priority, has_priority;
} farm_opts_t;

/* The options every farm command shares; what else a command accepts is in
 * `allowed`. Returns -1 to go on, or an exit code. */
/* What every farm command's --help ends with. */
static const char s_common[] =
    "  -c, --coordinator EP   the coordinator, e.g. tcp://render01:5555; else\n"
    "                         $MIXFARM_COORDINATOR\n"
    "  --curve-keys NAME --server-key FILE   a secured farm (MIXFARM_KEYS,\n"
    "                         MIXFARM_SERVER_KEY)\n"
    "exit codes: 0 done, 1 failed, 2 bad usage or input, 3 the coordinator could\n"
    "not be reached\n";

/* usage: its first line is the synopsis printed with an error, the rest
 * what --help teaches besides. */
static int s_parse(int argc, char **argv, const char *usage, const char *allowed, int need_arg,
                   farm_opts_t *o)
{
    static const struct option longs[] = {{"coordinator", required_argument, 0, 'c'},
                                          {"output", required_argument, 0, 'o'},
                                          {"json", no_argument, 0, 'j'},
                                          {"priority", required_argument, 0, 'p'},
                                          {"help", no_argument, 0, 'h'},
                                          {0, 0, 0, 0}};
    memset(o, 0, sizeof *o);
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "c:o:jp:h", longs, NULL)) != -1) {
        if (c == 'h') {
            printf("usage: %s\n%s", usage, s_common);
            return MF_EXIT_OK;
        }
        if (c == '?' || !strchr(allowed, c)) {
            fprintf(stderr, "usage: %.*s\n", (int)strcspn(usage, "\n"), usage);
            return MF_EXIT_USAGE;
        }
        if (c == 'c') o->coordinator = optarg;
        if (c == 'o') o->outdir = optarg;
        if (c == 'j') o->json = 1;
        if (c == 'p') {
            char *end;
            long p = strtol(optarg, &end, 10);
            if (*end || p < -1000000 || p > 1000000) {
                fprintf(stderr, "mixfarm: --priority: not an integer: %s\n", optarg);
                return MF_EXIT_USAGE;
            }
            o->priority = (int)p;
        }
    }
    if (optind < argc) o->arg = argv[optind++];
    if (optind != argc || (need_arg && !o->arg) || (strchr(allowed, 'o') && !o->outdir)) {
        fprintf(stderr, "usage: %.*s\n", (int)strcspn(usage, "\n"), usage);
        return MF_EXIT_USAGE;
    }
    return -1;
}

static int s_job_id(const char *s, uint64_t *job)
{
    char *end;
    unsigned long long v = s ? strtoull(s, &end, 10) : 0;
    if (!s || *end || v == 0) {
        fprintf(stderr, "mixfarm: not a job id: %s\n", s ? s : "(none)");
        return MF_EXIT_USAGE;
    }
    *job = v;
    return -1;
}

int mf_cmd_submit(int argc, char **argv)
{
    farm_opts_t o;
    int rc = s_parse(
        argc, argv,
        "mixfarm submit FILE.json --coordinator ENDPOINT [--priority P] [--shared-store DIR]\n\n"
        "Validates a session or album and submits it; prints the job id alone as the\n"
        "last line on stdout. Only the sources the farm lacks are uploaded.\n"
        "--priority P: higher runs first (default 0). --shared-store DIR: copy the\n"
        "sources into the coordinator's blob store, mounted here, instead.\n",
        "cp", 1, &o);
    if (rc >= 0) return rc;
    int album = mf_album_is_album(o.arg); /* or a session */
    mf_album_t *al = album ? mf_cli_load_album(o.arg) : NULL;
    mf_session_t *s = album ? NULL : mf_cli_load_session(o.arg);
    if (!s && !al) return MF_EXIT_USAGE;
    mf_interrupt_catch();
    mf_conn_t conn;
    if ((rc = mf_conn_remote(&conn, o.coordinator)) >= 0) {
        mf_session_free(&s);
        mf_album_free(&al);
        return rc;
    }
    uint64_t job = 0;
    mf_err_t err = al ? mf_client_submit_album(conn.client, al, o.priority, &job)
                      : mf_client_submit(conn.client, s, o.priority, &job);
    /* Stopped while its sources were uploading: the job is taken back
     * (client_submit.c), not left waiting for them for --source-wait. */
    if (err != MF_OK && mf_interrupted()) {
        mf_error("%s: interrupted%s", o.arg,
                 job ? "; the job is cancelled" : "; nothing submitted");
        mf_conn_die_interrupted(&conn);
    }
    if (err == MF_ERR_UNREACHABLE)
        mf_error("%s: the coordinator could not be reached", mf_client_endpoint(conn.client));
    if (err == MF_OK) printf("%" PRIu64 "\n", job);
    mf_conn_close(&conn);
    mf_session_free(&s);
    mf_album_free(&al);
    return mf_cli_exit_for(err);
}

static json_t *s_status_json(const Mixfarm__JobStatus *j)
{
    return json_pack("{s:I,s:s,s:s,s:i,s:i,s:i,s:i,s:i,s:i,s:f,s:f,s:f,s:o,s:o,s:i}", "job",
                     (json_int_t)j->job, "name", j->name, "state", j->state, "priority",
                     j->priority, "tasks_total", j->tasks_total, "tasks_done", j->tasks_done,
                     "tasks_running", j->tasks_running, "tasks_failed", j->tasks_failed,
                     "tasks_cached", j->tasks_cached, "audio_s_done", j->audio_s_done,
                     "audio_s_total", j->audio_s_total, "eta_s", j->eta_s, "error",
                     j->error[0] ? json_string(j->error) : json_null(), "numerics",
                     j->numerics[0] ? json_string(j->numerics) : json_null(), "sources_awaited",
                     j->sources_awaited);
}

int mf_cmd_status(int argc, char **argv)
{
    farm_opts_t o;
    int rc = s_parse(argc, argv,
                     "mixfarm status [JOB] --coordinator ENDPOINT [--json]\n\n"
                     "A job's state, tasks (done, running, cached) and audio seconds rendered;\n"
                     "without JOB, every job the coordinator knows. --json: one object (or a\n"
                     "list) with the fields of CLI.md.\n",
                     "cj", 0, &o);
    if (rc >= 0) return rc;
    uint64_t job = 0;
    if (o.arg && (rc = s_job_id(o.arg, &job)) >= 0) return rc;
    mf_conn_t conn;
    if ((rc = mf_conn_remote(&conn, o.coordinator)) >= 0) return rc;
    Mixfarm__StatusRequest st = MIXFARM__STATUS_REQUEST__INIT;
    st.job = job;
    Mixfarm__Envelope req = MIXFARM__ENVELOPE__INIT, *rep = NULL;
    req.body_case = MIXFARM__ENVELOPE__BODY_STATUS;
    req.status = &st;
    mf_err_t err = mf_client_call(conn.client, &req, MIXFARM__ENVELOPE__BODY_STATUS_REPLY, &rep);
    if (err == MF_ERR_UNREACHABLE)
        mf_error("%s: the coordinator could not be reached", mf_client_endpoint(conn.client));
    if (err == MF_OK && job && rep->status_reply->n_jobs == 0) {
        mf_error("job %" PRIu64 ": %s", job, rep->status_reply->error);
        err = MF_ERR_INVALID;
    } else if (err == MF_OK) {
        const Mixfarm__StatusReply *r = rep->status_reply;
        if (o.json) {
            json_t *out = job ? s_status_json(r->jobs[0]) : json_array();
            for (size_t i = 0; !job && i < r->n_jobs; i++)
                json_array_append_new(out, s_status_json(r->jobs[i]));
            json_dumpf(out, stdout, JSON_INDENT(2));
            putchar('\n');
            json_decref(out);
        } else {
            for (size_t i = 0; i < r->n_jobs; i++) {
                const Mixfarm__JobStatus *j = r->jobs[i];
                printf("job %" PRIu64 "  %-9s %u/%u tasks (%u cached)  %.1f/%.1f s  %s%s\n", j->job,
                       j->state, j->tasks_done, j->tasks_total, j->tasks_cached, j->audio_s_done,
                       j->audio_s_total, j->name, j->error[0] ? "  error: " : "");
                if (j->error[0]) printf("    %s\n", j->error);
                if (j->sources_awaited)
                    printf("    waits for %u file%s its client is still uploading\n",
                           j->sources_awaited, j->sources_awaited == 1 ? "" : "s");
            }
        }
    }
    if (rep) mixfarm__envelope__free_unpacked(rep, NULL);
    mf_conn_close(&conn);
    return mf_cli_exit_for(err);
}

int mf_cmd_watch(int argc, char **argv)
{
    farm_opts_t o;
    int rc = s_parse(argc, argv,
                     "mixfarm watch JOB --coordinator ENDPOINT\n\n"
                     "Shows a job's progress until it ends (tasks, audio seconds, ETA on a\n"
                     "terminal); exit 0 when it is done, 1 when it failed or was cancelled.\n",
                     "c", 1, &o);
    uint64_t job;
    if (rc >= 0 || (rc = s_job_id(o.arg, &job)) >= 0) return rc;
    mf_conn_t conn;
    if ((rc = mf_conn_remote(&conn, o.coordinator)) >= 0) return rc;
    mf_err_t err = mf_client_watch(conn.client, job, isatty(2), NULL, NULL);
    if (err == MF_ERR_UNREACHABLE)
        mf_error("%s: the coordinator could not be reached", mf_client_endpoint(conn.client));
    if (err == MF_OK) printf("job %" PRIu64 ": done\n", job);
    mf_conn_close(&conn);
    return mf_cli_exit_for(err);
}

int mf_cmd_fetch(int argc, char **argv)
{
    farm_opts_t o;
    int rc = s_parse(argc, argv,
                     "mixfarm fetch JOB -o OUTDIR --coordinator ENDPOINT [--shared-store DIR]\n\n"
                     "Writes a done job's outputs into OUTDIR exactly as render does (each\n"
                     "file whole or not at all, manifest.json last). A file an earlier render\n"
                     "wrote the same way is kept from OUTDIR, or, from a coordinator across a\n"
                     "network, copied from your last 8 renders' folders, instead of fetched\n"
                     "(each checked against its manifest); MIXFARM_REUSE=0 fetches them all,\n"
                     "=1 copies from a coordinator here too. A file of yours at a path the\n"
                     "job writes, which OUTDIR's manifest does not list, stops it first\n"
                     "(exit 2). --shared-store DIR: read the outputs from the coordinator's\n"
                     "blob store, mounted here.\n",
                     "co", 1, &o);
    uint64_t job;
    if (rc >= 0 || (rc = s_job_id(o.arg, &job)) >= 0) return rc;
    if ((rc = mf_cli_check_outdir(o.outdir)) >= 0) return rc;
    mf_interrupt_catch();
    mf_conn_t conn;
    if ((rc = mf_conn_remote(&conn, o.coordinator)) >= 0) return rc;
    char *summary = NULL;
    mf_err_t err = mf_client_fetch(conn.client, job, o.outdir, &summary, NULL);
    if (err != MF_OK && mf_interrupted()) { /* OUTDIR's staging folder went with the fetch */
        mf_error("%s: interrupted; left as it was", o.outdir);
        mf_conn_die_interrupted(&conn);
    }
    if (err == MF_ERR_UNREACHABLE)
        mf_error("%s: the coordinator could not be reached", mf_client_endpoint(conn.client));
    if (err == MF_OK) printf("mixfarm: fetched job %" PRIu64 " into %s\n", job, summary);
    free(summary);
    mf_conn_close(&conn);
    return mf_cli_exit_for(err);
}

int mf_cmd_cancel(int argc, char **argv)
{
    farm_opts_t o;
    int rc = s_parse(argc, argv,
                     "mixfarm cancel JOB --coordinator ENDPOINT\n\n"
                     "Stops a job: no task of it starts any more; those running finish, and\n"
                     "their outputs stay in the action cache for a later job.\n",
                     "c", 1, &o);
    uint64_t job;
    if (rc >= 0 || (rc = s_job_id(o.arg, &job)) >= 0) return rc;
    mf_conn_t conn;
    if ((rc = mf_conn_remote(&conn, o.coordinator)) >= 0) return rc;
    char why[256];
    mf_err_t err = mf_client_cancel(conn.client, job, why, sizeof why);
    if (err == MF_ERR_UNREACHABLE)
        mf_error("%s: the coordinator could not be reached", mf_client_endpoint(conn.client));
    else if (err == MF_ERR_INVALID)
        mf_error("job %" PRIu64 ": %s", job, why);
    else if (err == MF_OK)
        printf("job %" PRIu64 ": cancelled\n", job);
    mf_conn_close(&conn);
    return mf_cli_exit_for(err);
}
