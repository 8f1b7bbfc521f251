/* mixfarm render SESSION -o OUTDIR: submit, watch and fetch, on an embedded
 * farm (a coordinator and N workers as threads, over inproc://) or, with
 * --coordinator, on a remote one. The same protocol either way. */
#include "mf_cli.h"
#include "mf_interrupt.h"
#include "mf_clock.h"
#include "mf_cpus.h"
#include "mf_fs.h"
#include "mf_log.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef struct {
    const char *session, *outdir, *coordinator, *state;
    int workers, quiet;
    int64_t store_budget;
} render_opts_t;

static void s_help(FILE *out)
{
    fprintf(out, "usage: mixfarm render SESSION.json -o OUTDIR [--workers N] [--state DIR]\n"
                 "                      [--coordinator ENDPOINT [--shared-store DIR]] [--quiet]\n\n"
                 "Renders a session (or an album) and writes into OUTDIR:\n"
                 "  mix.wav            the stereo mix (32-bit float)\n"
                 "  stems/<name>.wav   one per stem (32-bit float), aligned with the mix\n"
                 "  master/<title>.<ext>  each deliverable in \"outputs\" (mastered sessions)\n"
                 "  qc.json, qc.html   the QC report, for scripts and for people\n"
                 "  listen/<system>.wav the master through phone, earbuds, laptop, car, club\n"
                 "                     and mono models; listen.json (and qc.json, qc.html)\n"
                 "                     say what changes on each\n"
                 "  render.json        what was computed, for mixfarm diff\n"
                 "  manifest.json      every file with its size, SHA-256, format and duration\n"
                 "Each file appears whole or not at all. Ctrl-C (or SIGTERM) stops the render:\n"
                 "its job is cancelled on a coordinator and OUTDIR is left as it was.\n"
                 "The session is validated first; every problem is reported (FILE: key: what\n"
                 "is wrong) and nothing is written. Nor is anything when OUTDIR holds a file\n"
                 "the session reads, or a file of yours no earlier render wrote (its\n"
                 "manifest.json does not list it), at a path the render writes (exit 2).\n"
                 "Rendering again on the same coordinator reuses every task whose inputs did\n"
                 "not change (the action cache): after a fader, pan or send-level move, only\n"
                 "the buses that track feeds and what follows run again (a strip leaves its\n"
                 "fixed pan, fader and sends to the bus that sums it, so it is not re-run).\n"
                 "Rendering into the folder of a previous render keeps its files that would\n"
                 "come out the same (checked against its manifest), so an unchanged stem is\n"
                 "neither fetched nor written again. Rendering on a farm across a network\n"
                 "into a new folder copies such files from your last 8 renders' folders\n"
                 "(checked the same way) instead of fetching them, while the job runs; on\n"
                 "Btrfs or XFS a copy is a clone, sharing the blocks, and from a coordinator\n"
                 "on this machine only clones are taken. MIXFARM_REUSE=0 fetches them all,\n"
                 "MIXFARM_REUSE=1 copies from a coordinator on this machine too.\n\n"
                 "Without --coordinator, an embedded farm runs in this process: a coordinator and\n"
                 "N workers as threads, speaking the same protocol as the distributed farm.\n"
                 "Its journal and blobs are temporary, unless --state keeps them: then the next\n"
                 "render with the same --state reuses every task already run, as a coordinator\n"
                 "does (revisions on one machine). DIR grows with every render unless\n"
                 "--store-budget bounds it; delete it when you like. One render at a time uses\n"
                 "a DIR (another waits). Without --state, a bus runs the tracks only it reads\n"
                 "itself, when that keeps the workers as busy: their signals never touch the\n"
                 "disk, and the bits are the same.\n\n");
    fprintf(out, "options:\n"
                 "  -o, --output DIR         where to write (created if missing)\n"
                 "  -w, --workers N          embedded workers (default: the CPUs this process\n"
                 "                           may use: its affinity, a container's CPU limit)\n"
                 "  -s, --state DIR          keep the embedded farm's journal and blobs in DIR\n"
                 "                           (created if missing) for later renders to reuse\n"
                 "      --store-budget SIZE  with --state: before rendering, delete the least\n"
                 "                           recently used blobs of DIR past SIZE (K, M, G or T:\n"
                 "                           20G); work they held is redone if asked for again\n"
                 "  -c, --coordinator EP     render on a farm, e.g. tcp://render01:5555\n"
                 "                           (submit + watch + fetch)\n"
                 "      --shared-store DIR   with --coordinator, on a machine that mounts the\n"
                 "                           coordinator's blob store (its --state DIR/blobs):\n"
                 "                           sources are copied into it and outputs read from\n"
                 "                           it, no audio crosses the network (checked first:\n"
                 "                           another store is refused); MIXFARM_SHARED_STORE\n"
                 "  -q, --quiet              no progress and no summary\n"
                 "  -h, --help               this text\n\n"
                 "exit codes: 0 done, 1 the render failed (or a master failed its QC),\n"
                 "            2 bad usage or input, 3 the coordinator could not be reached\n"
                 "MIXFARM_LOG=debug logs every task of every thread, with timestamps.\n"
                 "MIXFARM_CACHE_DIR (else $XDG_CACHE_HOME/mixfarm, ~/.cache/mixfarm) holds the\n"
                 "hashes of sources and outputs and the list of recent renders.\n");
}

static int s_parse(int argc, char **argv, render_opts_t *o)
{
    static const struct option longs[] = {{"output", required_argument, 0, 'o'},
                                          {"workers", required_argument, 0, 'w'},
                                          {"quiet", no_argument, 0, 'q'},
                                          {"coordinator", required_argument, 0, 'c'},
                                          {"help", no_argument, 0, 'h'},
                                          {"state", required_argument, 0, 's'},
                                          {"store-budget", required_argument, 0, 'B'},
                                          {0, 0, 0, 0}};
    *o = (render_opts_t){.workers = mf_cpu_count()};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:w:c:s:qh", longs, NULL)) != -1) {
        switch (c) {
        case 'o':
            o->outdir = optarg;
            break;
        case 'w':
            if ((o->workers = mf_cli_positive_int(optarg)) < 0) {
                fprintf(stderr, "mixfarm: render: --workers: not a count from 1 to 4096: %s\n",
                        optarg);
                return MF_EXIT_USAGE;
            }
            break;
        case 'c':
            o->coordinator = optarg;
            break;
        case 's':
            o->state = optarg;
            break;
        case 'B':
            if ((o->store_budget = mf_parse_size(optarg)) <= 0) {
                fprintf(stderr, "mixfarm: render: --store-budget: not a size (such as 20G): %s\n",
                        optarg);
                return MF_EXIT_USAGE;
            }
            break;
        case 'q':
            o->quiet = 1;
            break;
        case 'h':
            s_help(stdout);
            return MF_EXIT_OK;
        default:
            s_help(stderr);
            return MF_EXIT_USAGE;
        }
    }
    if (optind != argc - 1 || !o->outdir || (o->state && o->coordinator) ||
        (o->store_budget && !o->state)) {
        fprintf(stderr, "mixfarm: render: %s\n",
                optind >= argc       ? "which session? (mixfarm render SESSION.json -o OUTDIR)"
                : !o->outdir         ? "where to? (-o OUTDIR)"
                : optind != argc - 1 ? "one session at a time"
                : o->state
                    ? "--state is the embedded farm's; a coordinator keeps its own (its --state)"
                    : "--store-budget bounds a kept --state DIR (a coordinator has its own)");
        return MF_EXIT_USAGE;
    }
    o->session = argv[optind];
    return -1; /* go on */
}

/* After Ctrl-C (or SIGTERM): the job goes on a coordinator (an embedded
 * farm goes with this process), OUTDIR is as it was (its staging folder
 * went with the watch or the fetch that the signal broke), and this
 * process dies of the signal. */
static void s_interrupted(const render_opts_t *o, mf_conn_t *conn, uint64_t job)
{
    char why[256] = "";
    if (job && o->coordinator && mf_client_cancel(conn->client, job, why, sizeof why) == MF_OK)
        mf_error("%s: interrupted; job %llu cancelled on %s, %s left as it was", o->session,
                 (unsigned long long)job, o->coordinator, o->outdir);
    else
        mf_error("%s: interrupted; %s left as it was%s%s", o->session, o->outdir,
                 why[0] ? "; " : "", why);
    mf_conn_die_interrupted(conn); /* an embedded farm's tasks are not waited for */
}

int mf_cmd_render(int argc, char **argv)
{
    render_opts_t o;
    int rc = s_parse(argc, argv, &o);
    if (rc >= 0) return rc;
    if (o.quiet) mf_log_init("mixfarm", MF_LOG_WARN);
    double t0 = mf_clock_now();
    /* An album (SESSION.md) or a session. */
    int album = mf_album_is_album(o.session);
    mf_album_t *al = album ? mf_cli_load_album(o.session) : NULL;
    mf_session_t *s = album ? NULL : mf_cli_load_session(o.session);
    if (!s && !al) return MF_EXIT_USAGE;
    if ((rc = mf_cli_check_outdir(o.outdir)) >= 0 ||
        (rc = mf_cli_check_inputs(o.outdir, s, al)) >= 0) {
        mf_session_free(&s);
        mf_album_free(&al);
        return rc;
    }
    mf_interrupt_catch();
    mf_conn_t conn;
    rc = o.coordinator ? mf_conn_remote(&conn, o.coordinator)
                       : mf_conn_embedded(&conn, o.workers, o.state, o.store_budget);
    if (rc >= 0) {
        mf_session_free(&s);
        mf_album_free(&al);
        return rc;
    }
    uint64_t job = 0;
    char *summary = NULL;
    int qc_pass = 1;
    mf_err_t err = al ? mf_client_submit_album(conn.client, al, 0, &job)
                      : mf_client_submit(conn.client, s, 0, &job);
    if (err == MF_OK) mf_debug("job %llu submitted", (unsigned long long)job);
    /* Outputs go into OUTDIR's staging folder as they are ready, while the
     * last tasks run (over TCP they travel meanwhile; an embedded farm
     * shares its store with this client). */
    mf_job_tally_t tally = {0};
    if (err == MF_OK)
        err = mf_client_watch(conn.client, job, !o.quiet && isatty(2), o.outdir, &tally);
    if (err == MF_OK) mf_debug("job %llu done; fetching", (unsigned long long)job);
    if (err == MF_OK) err = mf_client_fetch(conn.client, job, o.outdir, &summary, &qc_pass);
    if (err != MF_OK && mf_interrupted()) s_interrupted(&o, &conn, job);
    if (err == MF_ERR_UNREACHABLE && job)
        mf_error("%s: the coordinator could not be reached; job %llu may go on there: "
                 "mixfarm fetch %llu -o %s, once it answers",
                 mf_client_endpoint(conn.client), (unsigned long long)job, (unsigned long long)job,
                 o.outdir);
    else if (err == MF_ERR_UNREACHABLE)
        mf_error("%s: the coordinator could not be reached", mf_client_endpoint(conn.client));
    else if (err != MF_OK && err != MF_ERR_INVALID && err != MF_ERR_TASK)
        mf_error("%s: render failed: %s", o.session, mf_strerror(err));
    if (err == MF_OK && !o.quiet) {
        printf("mixfarm: rendered \"%s\" into %s on %s in %.2f s", al ? al->name : s->name, summary,
               o.coordinator ? o.coordinator : "the embedded farm", mf_clock_now() - t0);
        /* What a revision owes to the action cache; an album with one song
         * twice owes it too, within the render. */
        if (tally.cached)
            printf("; %u of %u tasks reused (already computed)", tally.cached, tally.total);
        printf("\n");
    }
    /* A master that fails its QC is work that failed (CLI.md exit 1); an
     * unmastered mix only reports what it found. */
    int failed_qc = err == MF_OK && (al || s->mastering) && !qc_pass;
    if (failed_qc) mf_error("%s: the master failed QC (see %s/qc.json)", o.session, o.outdir);
    free(summary);
    mf_conn_close(&conn);
    mf_session_free(&s);
    mf_album_free(&al);
    return failed_qc ? MF_EXIT_FAILED : mf_cli_exit_for(err);
}
