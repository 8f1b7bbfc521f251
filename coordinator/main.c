/* mixfarm-coordinator: the coordinator daemon (CLI.md "Daemons"). */
#include "http_snap.h"
#include "mf_coord.h"
#include "mf_fdlimit.h"
#include "mf_fs.h"
#include "mf_heap.h"
#include "mf_log.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

static atomic_int s_stop; /* lock-free: a signal handler may set it */

static void s_on_signal(int sig)
{
    (void)sig;
    s_stop = 1;
}

static void s_help(FILE *out)
{
    fprintf(out, "usage: mixfarm-coordinator --bind ENDPOINT --state DIR [--http ADDR:PORT]\n"
                 "                           [--curve-keys NAME --allow DIR] [--verbose]\n\n"
                 "Takes render jobs from mixfarm clients, plans them into task graphs and hands\n"
                 "the tasks to mixfarm-worker processes. Every job and task state change is\n"
                 "journaled in DIR/journal.db (SQLite, WAL) and every signal is a blob in\n"
                 "DIR/blobs/, so a restarted coordinator resumes unfinished jobs without\n"
                 "redoing finished tasks. The store is flushed to disk every 10 s; started\n"
                 "after the machine restarted (a power cut?), the coordinator first checks\n"
                 "the blobs written since the last flush and drops those it cannot trust.\n\n"
                 "options:\n"
                 "  -b, --bind ENDPOINT  where workers and clients connect, e.g. tcp://*:5555\n"
                 "                       (may be given more than once)\n"
                 "  -s, --state DIR      journal and blob store (created if missing)\n"
                 "      --http ADDR:PORT serve a dashboard at /, a JSON API under /api/ and\n"
                 "                       Prometheus metrics at /metrics (e.g. 127.0.0.1:8080;\n"
                 "                       a bare :PORT means 127.0.0.1; read only, no login:\n"
                 "                       expose it only where everyone may see the jobs)\n"
                 "      --curve-keys NAME  secure the farm with CURVE: NAME.key is this\n"
                 "                       coordinator's key pair (mixfarm keygen -o NAME);\n"
                 "                       workers and clients give NAME.pub as --server-key\n"
                 "      --allow DIR      with --curve-keys: admit only peers whose public key\n"
                 "                       is a .pub file in DIR (read at every connection, so\n"
                 "                       adding or removing a file needs no restart)\n"
                 "      --store-budget SIZE  keep DIR/blobs/ under SIZE bytes (with K, M, G or T,\n"
                 "                       e.g. 500G): past it, the least recently used blobs\n"
                 "                       that no unfinished job needs are deleted, and work\n"
                 "                       asked for again is done again (default: no limit)\n"
                 "      --store-grace SECONDS  with --store-budget: a blob used less than this\n"
                 "                       long ago stays whatever the budget (default 600)\n"
                 "      --repin-after SECONDS  a job renders with the arithmetic of the\n"
                 "                       workers it began on (their last bits differ from\n"
                 "                       other CPUs'); when none of those has been connected\n"
                 "                       for this long and other workers are, it starts again\n"
                 "                       with theirs (default 120; 0: at once; \"never\")\n"
                 "      --source-wait SECONDS  a client submits first and uploads the source\n"
                 "                       files the store lacks after, so the first strips run\n"
                 "                       while the last files arrive; a job whose files stop\n"
                 "                       arriving for this long fails, naming the file\n"
                 "                       (default 300)\n"
                 "      --locality-wait SECONDS  a task whose inputs (1 MiB or more) a busy\n"
                 "                       worker holds, such as the listening copies of a\n"
                 "                       master, waits for it rather than move them to a free\n"
                 "                       one, at most this long (default 1; \"never\")\n"
                 "  -v, --verbose        log every task\n"
                 "  -h, --help           this text\n"
                 "      --version        the version\n"
                 "      --bench-noop-tasks N  start with a job of N no-op tasks (to measure\n"
                 "                       dispatch: tests/bench/bench_farm.sh)\n\n"
                 "example:\n"
                 "  mixfarm-coordinator --bind tcp://*:5555 --state /var/lib/mixfarm\n"
                 "  mixfarm-worker --connect tcp://render01:5555\n"
                 "  mixfarm render song.json -o out --coordinator tcp://render01:5555\n\n"
                 "SIGTERM or SIGINT stop it cleanly.\n");
}

/* A number of seconds >= 0 for option opt; 0, or -1 after saying why. */
static int s_seconds(const char *opt, const char *arg, double *out)
{
    char *end;
    *out = strtod(arg, &end);
    if (end != arg && !*end && *out >= 0 && isfinite(*out)) return 0;
    fprintf(stderr, "mixfarm-coordinator: %s: \"%s\" is not a number of seconds\n", opt, arg);
    return -1;
}

/* The same, or "never" (-1); zero becomes zero_as (0 means the default in
 * mf_coord_opts_t). */
static int s_seconds_or_never(const char *opt, const char *arg, double zero_as, double *out)
{
    if (!strcmp(arg, "never")) return *out = -1, 0;
    if (s_seconds(opt, arg, out)) return -1;
    if (*out <= 0) *out = zero_as;
    return 0;
}

/* One coordinator per state folder: two would resume the same jobs, and
 * one's budget would delete blobs the other's tasks read (a unit restarted
 * while the old process was still stopping, a second one started by hand:
 * both used to run). DIR/lock is the lock an embedded render with --state
 * DIR takes too (client/mf_embedded.c); held until the process ends. */
static int s_lock_state(const char *dir)
{
    char lock[4200];
    snprintf(lock, sizeof lock, "%s/lock", dir);
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
        mf_error("%s: cannot create the state folder: %s", dir, strerror(errno));
        return -1;
    }
    const int fd = mf_fs_lock_file(lock, 0);
    if (fd >= 0) return fd;
    if (errno == EWOULDBLOCK)
        mf_error("%s: another coordinator (or a render with --state) is using this state "
                 "folder; one coordinator per folder",
                 dir);
    else
        mf_error("%s: %s", lock, strerror(errno));
    return -1;
}

int main(int argc, char **argv)
{
    static const struct option longs[] = {{"bind", required_argument, 0, 'b'},
                                          {"state", required_argument, 0, 's'},
                                          {"verbose", no_argument, 0, 'v'},
                                          {"help", no_argument, 0, 'h'},
                                          {"version", no_argument, 0, 'V'},
                                          {"bench-noop-tasks", required_argument, 0, 'N'},
                                          {"http", required_argument, 0, 'H'},
                                          {"curve-keys", required_argument, 0, 'K'},
                                          {"allow", required_argument, 0, 'A'},
                                          {"store-budget", required_argument, 0, 'S'},
                                          {"store-grace", required_argument, 0, 'G'},
                                          {"repin-after", required_argument, 0, 'R'},
                                          {"source-wait", required_argument, 0, 'W'},
                                          {"locality-wait", required_argument, 0, 'L'},
                                          {0, 0, 0, 0}};
    mf_heap_tune();
    const char *binds[16];
    size_t n_binds = 0;
    const char *state = NULL;
    mf_log_level_t level = MF_LOG_INFO;
    size_t noop = 0;
    const char *http = NULL, *keys = NULL, *allow = NULL;
    int64_t budget = 0;
    double grace = 600.0, repin = 0, source_wait = 0, locality_wait = 0;
    int c;
    while ((c = getopt_long(argc, argv, "b:s:vh", longs, NULL)) != -1) {
        switch (c) {
        case 'b':
            if (n_binds < 16) binds[n_binds++] = optarg;
            break;
        case 's':
            state = optarg;
            break;
        case 'v':
            level = MF_LOG_DEBUG;
            break;
        case 'h':
            s_help(stdout);
            return 0;
        case 'V':
            printf("mixfarm-coordinator %s\n", MF_VERSION);
            return 0;
        case 'N':
            noop = strtoul(optarg, NULL, 10);
            break;
        case 'H':
            http = optarg;
            break;
        case 'K':
            keys = optarg;
            break;
        case 'A':
            allow = optarg;
            break;
        case 'G':
            if (s_seconds("--store-grace", optarg, &grace)) return 2;
            break;
        case 'R': /* 0: at once */
            if (s_seconds_or_never("--repin-after", optarg, 1e-3, &repin)) return 2;
            break;
        case 'W':
            if (s_seconds("--source-wait", optarg, &source_wait)) return 2;
            if (source_wait <= 0) source_wait = 1e-3; /* 0 would mean the default */
            break;
        case 'L': /* 0: no wait at all */
            if (s_seconds_or_never("--locality-wait", optarg, -1, &locality_wait)) return 2;
            break;
        case 'S':
            if ((budget = mf_parse_size(optarg)) <= 0) {
                fprintf(stderr,
                        "mixfarm-coordinator: --store-budget: \"%s\" is not a size (such as "
                        "500G or 2T)\n",
                        optarg);
                return 2;
            }
            break;
        default:
            s_help(stderr);
            return 2;
        }
    }
    if (optind != argc || !n_binds || !state || !keys != !allow) {
        fprintf(stderr, "mixfarm-coordinator: %s\n",
                optind != argc ? "unexpected argument"
                : !n_binds     ? "where to listen? (--bind)"
                : !state       ? "where to keep state? (--state)"
                : keys         ? "--curve-keys needs --allow DIR (the allowed public keys)"
                               : "--allow needs --curve-keys NAME (this coordinator's keys)");
        return 2;
    }
    mf_log_init("mixfarm-coordinator", level);
    mf_heap_pretouch(MF_HEAP_COORDINATOR);
    const long files = mf_fd_limit_raise();
    if (files > 0)
        mf_info("up to %ld open files: one for each worker and client connected, a few for the "
                "journal and the store",
                files);
    const int lock_fd = s_lock_state(state);
    if (lock_fd < 0) return 1;
    struct sigaction sa = {.sa_handler = s_on_signal};
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    void *zctx = zmq_ctx_new();
    mf_coord_opts_t o = {.zctx = zctx,
                         .binds = binds,
                         .n_binds = n_binds,
                         .state_dir = state,
                         .guard_store = 1,
                         .bench_noop_tasks = noop,
                         .http = http,
                         .http_server = &mf_http_server,
                         .curve_keys = keys,
                         .curve_allow = allow,
                         .store_budget = budget,
                         .store_grace_s = grace,
                         .repin_after_s = repin,
                         .source_wait_s = source_wait,
                         .locality_wait_s = locality_wait};
    int rc = mf_coord_run(&o, &s_stop);
    zmq_ctx_term(zctx);
    close(lock_fd);
    return rc;
}
