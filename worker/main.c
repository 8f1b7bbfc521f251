/* mixfarm-worker: the worker daemon. Parses the command line, then hands
 * over to mf_worker_run until SIGTERM or SIGINT. */
#include "lib_versions.h"
#include "mf_exec.h"
#include "mf_fdlimit.h"
#include "mf_heap.h"
#include "mf_fs.h"
#include "mf_kernels.h"
#include "mf_cpus.h"
#include "mf_log.h"
#include "mf_qc_kernels.h"
#include "mf_worker.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

static const char s_help[] =
    "usage: mixfarm-worker --connect tcp://HOST:5555 [options]\n"
    "\n"
    "Runs mixfarm tasks for a coordinator. The worker connects to the\n"
    "coordinator, says how many tasks it can run at once, and then fetches\n"
    "each task's input audio by hash, renders it, uploads the result and\n"
    "reports. It keeps nothing the farm needs: stop or kill it at any time and\n"
    "its tasks run elsewhere. If the coordinator goes away, the worker waits\n"
    "(1 s, then 2, 4 ... up to 32 s) and connects again.\n"
    "\n"
    "options:\n"
    "  --connect ENDPOINT  the coordinator, as given to its --bind\n"
    "                      (tcp://render1.studio:5555); required\n"
    "  --slots N           tasks to run at once (default: the CPUs this process\n"
    "                      may use: its CPU affinity, and a container's CPU limit)\n"
    "  --cache DIR         where fetched and rendered audio is kept between tasks\n"
    "                      (default: $XDG_CACHE_HOME/mixfarm-worker, else\n"
    "                      ~/.cache/mixfarm-worker, else, for a user with no\n"
    "                      home, $TMPDIR/mixfarm-worker-UID); one worker per\n"
    "                      folder; it can be wiped whenever the worker is stopped\n"
    "  --cache-size SIZE   the cache's budget in bytes, or with K, M, G or T\n"
    "                      (default: 4G, less on a disk with less room); least\n"
    "                      recently used audio goes first\n"
    "  --shared-store DIR  read inputs from and write outputs to the coordinator's\n"
    "                      blob store directly (its --state DIR/blobs, mounted\n"
    "                      here): no audio crosses the network; no --cache\n"
    "  --name NAME         how the coordinator lists this worker (default:\n"
    "                      HOST-PID)\n"
    "  --kernels c         compute with the plain C kernels instead of the CPU's\n"
    "                      SIMD ones (slower; for telling a SIMD kernel's fault\n"
    "                      from the processor's). The worker's arithmetic, which\n"
    "                      the coordinator matches to each job, says which it uses\n"
    "  --task-limit S      a task still running after S seconds, plus one per\n"
    "                      second of its audio, is stuck (a loop that never\n"
    "                      ends): the worker says which and exits, for its\n"
    "                      supervisor to start it again, and its tasks run\n"
    "                      elsewhere; a task that does so on eight workers\n"
    "                      fails its job (default: 3600; 0: no limit)\n"
    "  --curve-keys NAME   on a secured farm: this worker's key pair NAME.key\n"
    "                      (mixfarm keygen -o NAME; NAME.pub goes into the\n"
    "                      coordinator's --allow folder)\n"
    "  --server-key FILE   with --curve-keys: the coordinator's public key\n"
    "  -v, --verbose       also log each task as it starts and ends\n"
    "  -h, --help          show this help\n"
    "  --version           show the version\n"
    "\n"
    "example:\n"
    "  mixfarm-worker --connect tcp://render1.studio:5555 --slots 8 --cache-size 20G\n"
    "\n"
    "exit status: 0 stopped by SIGTERM or SIGINT, 1 refused by the coordinator\n"
    "or a fatal error, 2 bad usage, 3 a task over --task-limit.\n";

static atomic_int s_stop; /* lock-free: a signal handler may set it */

static void s_on_signal(int sig)
{
    (void)sig;
    if (s_stop) _exit(1); /* a second signal: stop now, the farm copes */
    s_stop = 1;
}

static int s_usage(const char *fmt, const char *arg)
{
    fprintf(stderr, "mixfarm-worker: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\nTry 'mixfarm-worker --help'.\n");
    return 2;
}

/* $XDG_CACHE_HOME/mixfarm-worker or ~/.cache/mixfarm-worker, creating the
 * parent folder. A container's user often has no home (HOME unset, or
 * /nonexistent): then $TMPDIR/mixfarm-worker-UID, said, since a worker's
 * cache is scratch it may lose (NULL only when that fails too). */
static char *s_default_cache(void)
{
    const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    char parent[4096] = "";
    if (xdg && *xdg)
        snprintf(parent, sizeof parent, "%s", xdg);
    else if (home && *home)
        snprintf(parent, sizeof parent, "%s/.cache", home);
    struct stat st;
    const int usable = parent[0] && (mkdir(parent, 0755) == 0 || errno == EEXIST) &&
                       stat(parent, &st) == 0 && S_ISDIR(st.st_mode) &&
                       access(parent, W_OK | X_OK) == 0;
    char dir[4200];
    if (usable) {
        snprintf(dir, sizeof dir, "%s/mixfarm-worker", parent);
    } else {
        const char *tmp = getenv("TMPDIR");
        snprintf(dir, sizeof dir, "%s/mixfarm-worker-%ld", tmp && *tmp ? tmp : "/tmp",
                 (long)getuid());
        mf_warn("%s: no cache folder there (%s); caching in %s (--cache chooses one)",
                parent[0] ? parent : "$XDG_CACHE_HOME and $HOME",
                parent[0] ? strerror(errno) : "not set", dir);
    }
    return strdup(dir);
}

int main(int argc, char **argv)
{
    enum {
        O_CONNECT = 256,
        O_SLOTS,
        O_CACHE,
        O_CACHE_SIZE,
        O_NAME,
        O_VERSION,
        O_KEYS,
        O_SERVER,
        O_SHARED,
        O_KERNELS,
        O_TASK_LIMIT
    };
    mf_heap_tune();
    mf_fd_limit_raise(); /* a slot's inputs, its outputs, the cache */
    static const struct option longs[] = {
        {"connect", required_argument, NULL, O_CONNECT},
        {"slots", required_argument, NULL, O_SLOTS},
        {"cache", required_argument, NULL, O_CACHE},
        {"cache-size", required_argument, NULL, O_CACHE_SIZE},
        {"name", required_argument, NULL, O_NAME},
        {"shared-store", required_argument, NULL, O_SHARED},
        {"kernels", required_argument, NULL, O_KERNELS},
        {"task-limit", required_argument, NULL, O_TASK_LIMIT},
        {"curve-keys", required_argument, NULL, O_KEYS},
        {"server-key", required_argument, NULL, O_SERVER},
        {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, O_VERSION},
        {NULL, 0, NULL, 0},
    };
    mf_worker_opts_t o = {0};
    const char *shared = NULL;
    int verbose = 0;
    const char *keys = NULL, *server_key = NULL;
    o.slots = mf_cpu_count(); /* a container's CPU limit, not the host's cores */
    o.task_limit_s = 3600;
    opterr = 0;
    for (int c; (c = getopt_long(argc, argv, ":vh", longs, NULL)) != -1;) {
        char *end;
        switch (c) {
        case O_CONNECT:
            o.endpoint = optarg;
            break;
        case O_SLOTS:
            o.slots = (int)strtol(optarg, &end, 10);
            if (*end || o.slots < 1 || o.slots > 1024)
                return s_usage("--slots: \"%s\" is not a number from 1 to 1024", optarg);
            break;
        case O_CACHE:
            o.cache_dir = optarg;
            break;
        case O_CACHE_SIZE:
            if ((o.cache_bytes = mf_parse_size(optarg)) <= 0)
                return s_usage("--cache-size: \"%s\" is not a size (such as 4G or 500M)", optarg);
            break;
        case O_NAME:
            o.name = optarg;
            break;
        case O_SHARED:
            shared = optarg;
            break;
        case O_KERNELS:
            if (strcmp(optarg, "c") != 0)
                return s_usage("--kernels: \"%s\" is not a choice (only c)", optarg);
            mf_dsp_kernels_plain(); /* before any thread runs a task */
            mf_qc_kernels_plain();
            break;
        case O_TASK_LIMIT:
            o.task_limit_s = strtod(optarg, &end);
            if (*end || end == optarg || !(o.task_limit_s >= 0) || o.task_limit_s > 1e7)
                return s_usage("--task-limit: \"%s\" is not a number of seconds", optarg);
            break;
        case O_KEYS:
            keys = optarg;
            break;
        case O_SERVER:
            server_key = optarg;
            break;
        case 'v':
            verbose = 1;
            break;
        case 'h':
            fputs(s_help, stdout);
            return 0;
        case O_VERSION:
            printf("mixfarm-worker %s\n", MF_VERSION);
            return 0;
        case ':':
            return s_usage("%s needs a value", argv[optind - 1]);
        default:
            return s_usage("unknown option %s", argv[optind - 1]);
        }
    }
    if (optind < argc) return s_usage("unexpected argument \"%s\"", argv[optind]);
    if (!o.endpoint) return s_usage("%s", "--connect is required (such as tcp://HOST:5555)");
    if (!strstr(o.endpoint, "://"))
        return s_usage("--connect: \"%s\" is not an endpoint (such as tcp://HOST:5555)",
                       o.endpoint);
    if (!keys != !server_key)
        return s_usage("%s", keys ? "--curve-keys needs --server-key FILE (the coordinator's key)"
                                  : "--server-key needs --curve-keys NAME (this worker's keys)");
    mf_log_init("mixfarm-worker", verbose ? MF_LOG_DEBUG : MF_LOG_INFO);
    mf_info("computes with %s (%s)", mf_exec_numerics(), mf_lib_versions());
    mf_heap_pretouch(MF_HEAP_WORKER + MF_HEAP_WORKER_SLOT * (size_t)o.slots);
    mf_curve_keys_t curve = {0};
    if (keys) {
        if (mf_curve_load(keys, &curve) != MF_OK ||
            mf_curve_load_public(server_key, curve.server_key) != MF_OK)
            return 1;
        o.curve = &curve;
    }

    char host[256] = "worker", name[300];
    gethostname(host, sizeof host - 1);
    host[sizeof host - 1] = 0;
    snprintf(name, sizeof name, "%s-%ld", host, (long)getpid());
    if (!o.name) o.name = name;
    if (shared && !(o.shared_store = mf_store_open(shared))) return 1;
    char *cache = o.cache_dir || shared ? NULL : s_default_cache();
    if (!shared && !o.cache_dir && !(o.cache_dir = cache)) {
        mf_error("no --cache given and no folder for one");
        return 1;
    }

    struct sigaction sa = {0};
    sa.sa_handler = s_on_signal; /* no SA_RESTART: the loop's poll wakes up */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    o.zctx = zmq_ctx_new();
    if (!o.zctx) {
        mf_error("cannot start ZeroMQ: %s", zmq_strerror(errno));
        mf_store_free(&o.shared_store);
        free(cache);
        return 1;
    }
    int rc = mf_worker_run(&o, &s_stop);
    if (rc == 0) mf_info("stopped");
    zmq_ctx_term(o.zctx);
    mf_store_free(&o.shared_store);
    free(cache);
    memset(&curve, 0, sizeof curve);
    return rc;
}
