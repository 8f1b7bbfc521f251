#include "cluster_util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <math.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <sndfile.h>
#include <sqlite3.h>

#define MAX_PROCS 128

typedef struct {
    pid_t pid; /* 0: free or reaped */
    char log[1024];
    char what[64];
} proc_t;

static proc_t s_procs[MAX_PROCS];
static char s_bin_dir[1024], s_root[900], s_test_dir[1024], s_test_name[120];
static char s_bin_path[1200];
static int s_test_ok = 1, s_any_failed, s_runs;
static pid_t s_main_pid;

/* ---- lifetime ---- */

double cl_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

void cl_sleep(double s)
{
    struct timespec t = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    while (nanosleep(&t, &t) != 0 && errno == EINTR) {
    }
}

void cl_path(char *out, size_t n, const char *dir, const char *name)
{
    int k = snprintf(out, n, "%s/%s", dir, name);
    assert_true(k > 0 && (size_t)k < n);
}

const char *cl_root(void)
{
    return s_root;
}
const char *cl_test_dir(void)
{
    return s_test_dir;
}

const char *cl_bin(const char *prog)
{
    snprintf(s_bin_path, sizeof s_bin_path, "%s/%s", s_bin_dir, prog);
    return s_bin_path;
}

static int s_rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

static void s_remove_tree(const char *dir)
{
    if (dir[0]) nftw(dir, s_rm_one, 32, FTW_DEPTH | FTW_PHYS);
}

/* Async-signal-safe: SIGKILL to every registered child. */
static void s_kill_now(void)
{
    for (int i = 0; i < MAX_PROCS; i++)
        if (s_procs[i].pid > 0) kill(s_procs[i].pid, SIGKILL);
}

void cl_kill_all(void)
{
    s_kill_now();
    for (int i = 0; i < MAX_PROCS; i++) {
        if (s_procs[i].pid <= 0) continue;
        while (waitpid(s_procs[i].pid, NULL, 0) < 0 && errno == EINTR) {
        }
        s_procs[i].pid = 0;
    }
}

static void s_at_exit(void)
{
    if (getpid() != s_main_pid) return;
    cl_kill_all();
    if (!s_any_failed && !getenv("MF_KEEP_TMP"))
        s_remove_tree(s_root);
    else if (s_root[0])
        fprintf(stderr, "cluster tests: logs and outputs kept in %s\n", s_root);
}

static void s_on_signal(int sig)
{
    static const char msg[] = "cluster tests: stopped by a signal (watchdog?); children killed\n";
    s_kill_now();
    if (write(2, msg, sizeof msg - 1) < 0) {
    }
    signal(sig, SIG_DFL);
    _exit(sig == SIGALRM ? 124 : 128 + sig);
}

int cl_init(int watchdog_s)
{
    s_main_pid = getpid();
    const char *bin = getenv("MF_BIN_DIR");
    if (!bin || !bin[0]) {
        fprintf(stderr, "MF_BIN_DIR is not set (the folder of mixfarm, mixfarm-coordinator...)\n");
        return -1;
    }
    snprintf(s_bin_dir, sizeof s_bin_dir, "%s", bin);
    const char *progs[] = {"mixfarm", "mixfarm-coordinator", "mixfarm-worker"};
    for (size_t i = 0; i < 3; i++) {
        if (access(cl_bin(progs[i]), X_OK) != 0) {
            fprintf(stderr, "%s: %s\n", cl_bin(progs[i]), strerror(errno));
            return -1;
        }
    }
    const char *tmp = getenv("TMPDIR");
    snprintf(s_root, sizeof s_root, "%s/mf-cluster-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(s_root)) {
        fprintf(stderr, "%s: %s\n", s_root, strerror(errno));
        s_root[0] = 0;
        return -1;
    }
    setenv("TMPDIR", s_root, 1); /* the clients' temporary stores land here too */
    unsetenv("MIXFARM_COORDINATOR");
    atexit(s_at_exit);
    struct sigaction sa = {0};
    sa.sa_handler = s_on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGALRM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    alarm((unsigned)watchdog_s);
    return 0;
}

void cl_test_begin(const char *name)
{
    snprintf(s_test_name, sizeof s_test_name, "%s", name);
    snprintf(s_test_dir, sizeof s_test_dir, "%s/%s", s_root, name);
    s_remove_tree(s_test_dir);
    if (mkdir(s_test_dir, 0755) != 0) fprintf(stderr, "%s: %s\n", s_test_dir, strerror(errno));
    s_test_ok = 0;
}

void cl_test_pass(void)
{
    s_test_ok = 1;
}

static void s_tail(const char *path, int lines)
{
    char *t = test_read_text(path);
    size_t n = strlen(t);
    const char *p = t + n;
    int k = 0;
    while (p > t && k <= lines) {
        p--;
        if (*p == '\n') k++;
    }
    if (*p == '\n') p++;
    fprintf(stderr, "----- %s (last %d lines) -----\n%s%s", path, lines, p,
            n && t[n - 1] != '\n' ? "\n" : "");
    free(t);
}

void cl_test_end(void)
{
    if (!s_test_ok) {
        s_any_failed = 1;
        fprintf(stderr, "cluster tests: %s failed; its daemons' logs:\n", s_test_name);
        for (int i = 0; i < MAX_PROCS; i++)
            if (s_procs[i].log[0] && strstr(s_procs[i].log, s_test_dir) == s_procs[i].log)
                s_tail(s_procs[i].log, 25);
    }
    cl_kill_all();
    for (int i = 0; i < MAX_PROCS; i++) s_procs[i].log[0] = 0;
    if (s_test_ok && !getenv("MF_KEEP_TMP")) s_remove_tree(s_test_dir);
}

/* ---- processes ---- */

static int s_open_out(const char *path)
{
    return open(path ? path : "/dev/null", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
}

pid_t cl_spawn(const char *const *argv, const char *out_path, const char *err_path)
{
    int slot = -1;
    for (int i = 0; i < MAX_PROCS && slot < 0; i++)
        if (s_procs[i].pid == 0 && !s_procs[i].log[0]) slot = i;
    if (slot < 0)
        for (int i = 0; i < MAX_PROCS && slot < 0; i++)
            if (s_procs[i].pid == 0) slot = i;
    if (slot < 0) fail_msg("too many child processes");
    int in = open("/dev/null", O_RDONLY | O_CLOEXEC);
    int out = s_open_out(out_path), err = s_open_out(err_path);
    if (in < 0 || out < 0 || err < 0) fail_msg("cannot open the output files of %s", argv[0]);
    pid_t parent = getpid();
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) fail_msg("fork: %s", strerror(errno));
    if (pid == 0) {
        /* The kernel kills the child if the test program dies, whatever way. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent) _exit(127);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        dup2(in, 0);
        dup2(out, 1);
        dup2(err, 2);
        execv(argv[0], (char *const *)argv);
        dprintf(2, "cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    close(in);
    close(out);
    close(err);
    s_procs[slot].pid = pid;
    snprintf(s_procs[slot].log, sizeof s_procs[slot].log, "%s", err_path ? err_path : "");
    const char *base = strrchr(argv[0], '/');
    snprintf(s_procs[slot].what, sizeof s_procs[slot].what, "%s", base ? base + 1 : argv[0]);
    return pid;
}

static proc_t *s_proc(pid_t pid)
{
    for (int i = 0; i < MAX_PROCS; i++)
        if (s_procs[i].pid == pid && pid > 0) return &s_procs[i];
    return NULL;
}

/* Reaps pid within wait_s; returns the status or -1 if it is still running. */
static int s_reap(pid_t pid, double wait_s)
{
    double until = cl_now() + wait_s;
    for (;;) {
        int status;
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid) {
            proc_t *p = s_proc(pid);
            if (p) p->pid = 0;
            return status;
        }
        if (r < 0 && errno != EINTR) return -1;
        if (cl_now() >= until) return -1;
        cl_sleep(0.01);
    }
}

int cl_stop(pid_t pid, int sig, double wait_s)
{
    if (!s_proc(pid)) return -1;
    kill(pid, sig);
    int st = s_reap(pid, wait_s);
    if (st == -1) {
        kill(pid, SIGKILL);
        st = s_reap(pid, 10);
        return -1;
    }
    return st;
}

int cl_alive(pid_t pid)
{
    return s_proc(pid) && s_reap(pid, 0) == -1;
}

void cl_stop_all_clean(double wait_s)
{
    pid_t pids[MAX_PROCS];
    char what[MAX_PROCS][64];
    int n = 0;
    for (int i = 0; i < MAX_PROCS; i++)
        if (s_procs[i].pid > 0) {
            snprintf(what[n], sizeof what[n], "%s", s_procs[i].what);
            pids[n++] = s_procs[i].pid;
            kill(s_procs[i].pid, SIGTERM);
        }
    char bad[4096] = "";
    for (int i = 0; i < n; i++) {
        int st = s_reap(pids[i], wait_s);
        size_t len = strlen(bad);
        if (len > sizeof bad - 200) len = sizeof bad - 200;
        if (st == -1) {
            kill(pids[i], SIGKILL);
            s_reap(pids[i], 10);
            snprintf(bad + len, sizeof bad - len,
                     " %.60s (pid %d) did not stop within %.0f s on SIGTERM;", what[i],
                     (int)pids[i], wait_s);
        } else if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
            snprintf(bad + len, sizeof bad - len, " %.60s (pid %d) stopped with %s %d;", what[i],
                     (int)pids[i], WIFEXITED(st) ? "exit code" : "signal",
                     WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
        }
    }
    if (bad[0]) fail_msg("daemons did not stop cleanly:%s", bad);
}

void cl_run_async(cl_async_t *a, const char *const *argv)
{
    int k = ++s_runs;
    char name[64];
    snprintf(name, sizeof name, "run%03d.out", k);
    cl_path(a->out, sizeof a->out, s_test_dir[0] ? s_test_dir : s_root, name);
    snprintf(name, sizeof name, "run%03d.err", k);
    cl_path(a->err, sizeof a->err, s_test_dir[0] ? s_test_dir : s_root, name);
    a->t0 = cl_now();
    a->pid = cl_spawn(argv, a->out, a->err);
    /* A client's stderr is not a daemon log: do not list it on failure. */
    proc_t *p = s_proc(a->pid);
    if (p) p->log[0] = 0;
}

cl_run_t cl_wait_run(cl_async_t *a, double timeout_s)
{
    cl_run_t r = {0};
    int st = s_reap(a->pid, timeout_s);
    if (st == -1) {
        kill(a->pid, SIGKILL);
        s_reap(a->pid, 10);
        r.rc = -2;
    } else {
        r.rc = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    }
    r.secs = cl_now() - a->t0;
    r.out = test_read_text(a->out);
    r.err = test_read_text(a->err);
    return r;
}

cl_run_t cl_run(const char *const *argv, double timeout_s)
{
    cl_async_t a;
    cl_run_async(&a, argv);
    return cl_wait_run(&a, timeout_s);
}

void cl_run_free(cl_run_t *r)
{
    free(r->out);
    free(r->err);
    r->out = r->err = NULL;
}

/* A port under the kernel's ephemeral range (32768 and up by default),
 * free now: the ports the kernel hands to every outgoing connection (a
 * worker's, a client's, in a test running beside this one) are never
 * these, so a coordinator restarted on its port finds it free (one it got
 * from the kernel could be another connection's local port by then). */
int cl_free_port(void)
{
    static unsigned seed;
    if (!seed) seed = (unsigned)getpid() * 2654435761u ^ (unsigned)time(NULL);
    for (int attempt = 0; attempt < 200; attempt++) {
        seed = seed * 1103515245u + 12345u;
        const int port = 20000 + (int)((seed >> 8) % 12000);
        const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        assert_true(fd >= 0);
        struct sockaddr_in a = {.sin_family = AF_INET,
                                .sin_port = htons((uint16_t)port),
                                .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        const int ok = bind(fd, (struct sockaddr *)&a, sizeof a) == 0;
        close(fd);
        if (ok) return port;
    }
    fail_msg("no free port from 20000 to 31999");
    return -1;
}

/* ---- files ---- */

int cl_file_contains(const char *path, const char *needle)
{
    char *t = test_read_text(path);
    int r = strstr(t, needle) != NULL;
    free(t);
    return r;
}

int cl_count_lines(const char *path, const char *needle)
{
    char *t = test_read_text(path);
    int n = 0;
    for (char *line = t, *nl; line && *line; line = nl ? nl + 1 : NULL) {
        nl = strchr(line, '\n');
        if (nl) *nl = 0;
        if (strstr(line, needle)) n++;
    }
    free(t);
    return n;
}

int cl_wait_log(const char *path, const char *needle, int n, double timeout_s)
{
    double until = cl_now() + timeout_s;
    for (;;) {
        if (cl_count_lines(path, needle) >= n) return 1;
        if (cl_now() >= until) return 0;
        cl_sleep(0.05);
    }
}

void cl_write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f) fail_msg("%s: %s", path, strerror(errno));
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
}

void cl_assert_same_file(const char *a, const char *b)
{
    size_t na, nb;
    unsigned char *x = test_read_bytes(a, &na), *y = test_read_bytes(b, &nb);
    size_t i = 0, n = na < nb ? na : nb;
    while (i < n && x[i] == y[i]) i++;
    free(x);
    free(y);
    if (na != nb || i != n)
        fail_msg("%s (%zu bytes) and %s (%zu bytes) differ, first at byte %zu", a, na, b, nb, i);
}

int cl_same_file(const char *a, const char *b)
{
    size_t na, nb;
    unsigned char *x = test_read_bytes(a, &na), *y = test_read_bytes(b, &nb);
    int same = na == nb && memcmp(x, y, na) == 0;
    free(x);
    free(y);
    return same;
}

static int s_cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted names in dir (at most 64); returns the count. */
static int s_list(const char *dir, char **names)
{
    DIR *d = opendir(dir);
    if (!d) fail_msg("%s: %s", dir, strerror(errno));
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < 64)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) names[n++] = strdup(e->d_name);
    closedir(d);
    qsort(names, (size_t)n, sizeof *names, s_cmp_str);
    return n;
}

int cl_assert_same_outdir(const char *a, const char *b)
{
    char pa[1200], pb[1200];
    int files = 0;
    const char *top[] = {"mix.wav", "manifest.json"};
    for (size_t i = 0; i < 2; i++) {
        cl_path(pa, sizeof pa, a, top[i]);
        cl_path(pb, sizeof pb, b, top[i]);
        cl_assert_same_file(pa, pb);
        files++;
    }
    char sa[1100], sb[1100];
    cl_path(sa, sizeof sa, a, "stems");
    cl_path(sb, sizeof sb, b, "stems");
    char *na[64], *nb[64];
    int ka = s_list(sa, na), kb = s_list(sb, nb);
    int same = ka == kb && ka > 0;
    for (int i = 0; same && i < ka; i++) same = !strcmp(na[i], nb[i]);
    for (int i = 0; same && i < ka; i++) {
        cl_path(pa, sizeof pa, sa, na[i]);
        cl_path(pb, sizeof pb, sb, nb[i]);
        cl_assert_same_file(pa, pb);
        files++;
    }
    for (int i = 0; i < ka; i++) free(na[i]);
    for (int i = 0; i < kb; i++) free(nb[i]);
    if (!same) fail_msg("%s and %s hold different stems (%d and %d files)", sa, sb, ka, kb);
    return files;
}

/* ---- audio and sessions ---- */

static double s_noise(uint64_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return (double)(*x >> 11) / 4503599627370496.0 - 1.0; /* -1 .. 1 */
}

void cl_write_audio(const char *path, int kind, int seed, double seconds)
{
    struct stat st;
    if (stat(path, &st) == 0) return;
    const int rate = 48000;
    long frames = (long)(seconds * rate);
    SF_INFO info = {.samplerate = rate, .channels = 1, .format = SF_FORMAT_WAV | SF_FORMAT_PCM_16};
    SNDFILE *f = sf_open(path, SFM_WRITE, &info);
    if (!f) fail_msg("%s: %s", path, sf_strerror(NULL));
    float buf[4800];
    uint64_t rng = 0x9E3779B97F4A7C15ULL ^ ((uint64_t)seed * 0x100000001B3ULL + (uint64_t)kind);
    double phase = 0;
    for (long i0 = 0; i0 < frames; i0 += 4800) {
        long n = frames - i0 < 4800 ? frames - i0 : 4800;
        for (long k = 0; k < n; k++) {
            double t = (double)(i0 + k) / rate, x = 0;
            switch (kind % 4) {
            case 0: { /* a kick every half second */
                double ph = fmod(t, 0.5), env = exp(-ph * 14.0);
                x = 0.7 * env * sin(2 * M_PI * (48.0 + 3 * seed) * ph * (1.0 + 2.0 * env));
                break;
            }
            case 1: { /* noise bursts on the off-beat */
                double ph = fmod(t + 0.25, 0.5);
                x = 0.45 * exp(-ph * 28.0) * s_noise(&rng);
                break;
            }
            case 2: { /* a chord breathing slowly */
                double f0 = 110.0 * (1.0 + 0.01 * seed), am = 0.55 + 0.45 * sin(2 * M_PI * 0.2 * t);
                x = am * 0.14 *
                    (sin(2 * M_PI * f0 * t) + sin(2 * M_PI * f0 * 1.2599 * t) +
                     sin(2 * M_PI * f0 * 1.4983 * t) + 0.3 * sin(2 * M_PI * f0 * 4 * t));
                break;
            }
            default: { /* a melody of sixteenth notes */
                long note = (long)(t * 8.0);
                double f = 220.0 * pow(2.0, (double)((note * 7 + seed) % 12) / 12.0);
                phase += 2 * M_PI * f / rate;
                double ph = fmod(t, 0.125);
                x = 0.35 * exp(-ph * 10.0) * sin(phase);
            }
            }
            buf[k] = (float)(x + 0.001 * s_noise(&rng));
        }
        assert_int_equal(sf_writef_float(f, buf, n), n);
    }
    assert_int_equal(sf_close(f), 0);
}

typedef struct {
    char *s;
    size_t n, cap;
} sbuf_t;

static void s_add(sbuf_t *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    assert_true(k >= 0);
    if (b->n + (size_t)k + 1 > b->cap) {
        b->cap = (b->n + (size_t)k + 1) * 2;
        b->s = realloc(b->s, b->cap);
        assert_non_null(b->s);
    }
    va_start(ap, fmt);
    vsnprintf(b->s + b->n, b->cap - b->n, fmt, ap);
    va_end(ap);
    b->n += (size_t)k;
}

void cl_write_track1_revision(const char *song, const char *dir, const char *file, char *out,
                              size_t n)
{
    size_t len;
    char *text = (char *)test_read_bytes(song, &len);
    text[len] = 0; /* test_read_bytes leaves room for it */
    char *at = strstr(text, "\"gain_db\": -2.50");
    assert_non_null(at);
    memcpy(at, "\"gain_db\": -6.50", 16);
    cl_path(out, n, dir, file);
    cl_write_text(out, text);
    free(text);
}

void cl_write_session(const char *dir, const char *file, const char *name, const cl_session_t *s,
                      double first_len_s, double step_s)
{
    assert_true(s->n_tracks >= 1 && s->n_tracks <= 16);
    sbuf_t b = {0};
    s_add(&b,
          "{\n  \"mixfarm\": 1,\n  \"name\": \"%s\",\n  \"sample_rate\": 48000,\n"
          "  \"tempo_bpm\": 120,\n  \"tracks\": [\n",
          name);
    for (int i = 0; i < s->n_tracks; i++) {
        char audio[1200], fname[256];
        snprintf(fname, sizeof fname, "%s%d.wav", s->prefix, i);
        cl_path(audio, sizeof audio, dir, fname);
        cl_write_audio(audio, i % 4, i + (int)strlen(s->prefix), first_len_s + step_s * i);
        const char *out = (i % 4 <= 1) ? "Drums" : (i % 4 == 2) ? "Music" : "master";
        double gain = i == 0 ? s->track0_gain_db : -2.0 - 0.5 * i;
        s_add(&b,
              "    {\"name\": \"Tk%d\", \"file\": \"%s\", \"start_s\": %.2f, \"gain_db\": %.2f,"
              " \"pan\": %.2f,\n     \"inserts\": [\n"
              "       {\"type\": \"eq\", \"bands\": [{\"kind\": \"highpass\", \"freq_hz\": %d,"
              " \"slope_db_oct\": 24}, {\"kind\": \"peak\", \"freq_hz\": %d, \"gain_db\": 2.5,"
              " \"q\": 1.2}, {\"kind\": \"highshelf\", \"freq_hz\": 7000, \"gain_db\": -1.5}]},\n"
              "       {\"type\": \"compressor\", \"threshold_db\": %d, \"ratio\": 3,"
              " \"attack_ms\": 5, \"release_ms\": 90, \"knee_db\": 6, \"makeup_db\": 2}%s],\n",
              i, fname, 0.25 * (i % 3), gain, -0.7 + 0.2 * (i % 8), 30 + 5 * i, 300 + 170 * i,
              -26 + i,
              s->heavy ? ",\n       {\"type\": \"saturation\", \"drive_db\": 6, \"mix\": 0.5}"
                       : "");
        if (i == 0) s_add(&b, "     \"sends\": [{\"bus\": \"Music\", \"level_db\": -12}],\n");
        if (i == 3)
            s_add(&b, "     \"sends\": [{\"bus\": \"Music\", \"level_db\": -10, \"pre_fader\": "
                      "true}],\n");
        if (i == 2) s_add(&b, "     \"automation\": {\"pan\": [[0, -0.5], [10, 0.5]]},\n");
        s_add(&b, "     \"output\": \"%s\"}%s\n", out, i + 1 < s->n_tracks ? "," : "");
    }
    s_add(
        &b,
        "  ],\n  \"buses\": [\n"
        "    {\"name\": \"Drums\", \"inserts\": [{\"type\": \"compressor\", \"threshold_db\": -16,"
        " \"ratio\": 2.5, \"attack_ms\": 8, \"release_ms\": 120, \"knee_db\": 4}],"
        " \"gain_db\": -1, \"output\": \"master\"},\n"
        "    {\"name\": \"Music\", \"inserts\": [{\"type\": \"eq\", \"bands\": [{\"kind\":"
        " \"lowshelf\", \"freq_hz\": 150, \"gain_db\": 2}, {\"kind\": \"peak\", \"freq_hz\":"
        " 2500, \"gain_db\": -2, \"q\": 0.9}]}, {\"type\": \"compressor\", \"threshold_db\":"
        " -20, \"ratio\": 2}], \"pan\": 0.1, \"output\": \"master\"}\n"
        "  ],\n"
        "  \"master\": {\"inserts\": [{\"type\": \"eq\", \"bands\": [{\"kind\": \"highpass\","
        " \"freq_hz\": 25}]}], \"gain_db\": -2}\n}\n");
    char path[1200];
    cl_path(path, sizeof path, dir, file);
    cl_write_text(path, b.s);
    free(b.s);
}

/* ---- the farm ---- */

void cl_coord_start(cl_coord_t *c, const char *dir, int port)
{
    snprintf(c->state, sizeof c->state, "%s/state", dir);
    for (int attempt = 0; attempt < 5; attempt++) {
        c->port = port ? port : cl_free_port();
        snprintf(c->ep, sizeof c->ep, "tcp://%s:%d", c->ipv6 ? "[::1]" : "127.0.0.1", c->port);
        char name[64], listen_ep[64];
        snprintf(name, sizeof name, "coordinator.%d.log", ++c->starts);
        snprintf(listen_ep, sizeof listen_ep, "tcp://[::1]:%d", c->port); /* loopback: IPv6 alone */
        cl_path(c->log, sizeof c->log, dir, name);
        const char *argv[24] = {cl_bin("mixfarm-coordinator"),
                                "--bind",
                                c->ipv6 ? listen_ep : c->ep,
                                "--state",
                                c->state,
                                NULL};
        for (int i = 0, n = 5; c->extra && c->extra[i] && n < 23; i++) argv[n++] = c->extra[i];
        char prog[1200];
        snprintf(prog, sizeof prog, "%s", argv[0]);
        argv[0] = prog;
        c->pid = cl_spawn(argv, NULL, c->log);
        double until = cl_now() + 15 * CL_SLOW;
        while (cl_now() < until && cl_alive(c->pid) && !cl_file_contains(c->log, "listening on"))
            cl_sleep(0.02);
        if (cl_file_contains(c->log, "listening on")) return;
        int dead = !cl_alive(c->pid);
        if (!dead) {
            cl_stop(c->pid, SIGKILL, 5);
            fail_msg("the coordinator on %s did not say it listens within %.0f s", c->ep,
                     15 * CL_SLOW);
        }
        if (port || !cl_file_contains(c->log, "cannot bind")) {
            char *t = test_read_text(c->log);
            fail_msg("the coordinator on %s exited at start: %s", c->ep, t);
        }
    }
    fail_msg("no free port for the coordinator after 5 tries");
}

pid_t cl_worker_start(const cl_coord_t *c, const char *dir, const char *name, int slots,
                      char *log_out, size_t log_n)
{
    return cl_worker_start_with(c, dir, name, slots, NULL, log_out, log_n);
}

pid_t cl_worker_start_with(const cl_coord_t *c, const char *dir, const char *name, int slots,
                           const char *const *extra, char *log_out, size_t log_n)
{
    char cache[1200], log[1200], slots_s[16], file[128];
    snprintf(file, sizeof file, "cache-%s", name);
    cl_path(cache, sizeof cache, dir, file);
    snprintf(file, sizeof file, "worker-%s.log", name);
    cl_path(log, sizeof log, dir, file);
    snprintf(slots_s, sizeof slots_s, "%d", slots);
    char prog[1200];
    snprintf(prog, sizeof prog, "%s", cl_bin("mixfarm-worker"));
    const char *argv[24] = {prog,  "--connect", c->ep, "--slots", slots_s, "--cache",
                            cache, "--name",    name,  "-v",      NULL};
    for (int i = 0, n = 10; extra && extra[i] && n < 23; i++) argv[n++] = extra[i];
    if (log_out) snprintf(log_out, log_n, "%s", log);
    return cl_spawn(argv, NULL, log);
}

void cl_wait_joined(const cl_coord_t *c, const char *name, double timeout_s)
{
    char needle[128];
    snprintf(needle, sizeof needle, "worker %s joined", name);
    if (!cl_wait_log(c->log, needle, 1, timeout_s))
        fail_msg("%s: no \"%s\" within %.0f s", c->log, needle, timeout_s);
}

uint64_t cl_submit(const cl_coord_t *c, const char *session, int priority)
{
    char prog[1200], prio[16];
    snprintf(prog, sizeof prog, "%s", cl_bin("mixfarm"));
    snprintf(prio, sizeof prio, "%d", priority);
    const char *argv[] = {prog,  "submit",     session, "--coordinator",
                          c->ep, "--priority", prio,    NULL};
    cl_run_t r = cl_run(argv, 60 * CL_SLOW);
    if (r.rc != 0) {
        char msg[2048];
        snprintf(msg, sizeof msg, "mixfarm submit %s exited %d: %s", session, r.rc, r.err);
        cl_run_free(&r);
        fail_msg("%s", msg);
    }
    /* The job id alone on the last line. */
    size_t n = strlen(r.out);
    while (n && (r.out[n - 1] == '\n' || r.out[n - 1] == ' ')) r.out[--n] = 0;
    char *last = strrchr(r.out, '\n');
    last = last ? last + 1 : r.out;
    char *end;
    unsigned long long id = strtoull(last, &end, 10);
    int ok = *last && !*end && id > 0;
    char copy[256];
    snprintf(copy, sizeof copy, "%s", r.out);
    cl_run_free(&r);
    if (!ok) fail_msg("mixfarm submit: the last stdout line is not a job id: \"%s\"", copy);
    return (uint64_t)id;
}

int cl_status(const cl_coord_t *c, uint64_t job, cl_status_t *st)
{
    char prog[1200], id[32];
    snprintf(prog, sizeof prog, "%s", cl_bin("mixfarm"));
    snprintf(id, sizeof id, "%llu", (unsigned long long)job);
    const char *argv[] = {prog, "status", id, "--coordinator", c->ep, "--json", NULL};
    cl_run_t r = cl_run(argv, 40 * CL_SLOW);
    memset(st, 0, sizeof *st);
    int rc = r.rc;
    if (rc == 0) {
        json_error_t e;
        json_t *o = json_loads(r.out, 0, &e);
        const char *s = json_string_value(json_object_get(o, "state"));
        if (!json_is_object(o) || !s) {
            json_decref(o);
            char msg[1024];
            snprintf(msg, sizeof msg, "status %s --json printed no job object: %s", id, r.out);
            cl_run_free(&r);
            fail_msg("%s", msg);
        }
        snprintf(st->state, sizeof st->state, "%s", s);
        st->total = (int)json_integer_value(json_object_get(o, "tasks_total"));
        st->done = (int)json_integer_value(json_object_get(o, "tasks_done"));
        st->running = (int)json_integer_value(json_object_get(o, "tasks_running"));
        st->failed = (int)json_integer_value(json_object_get(o, "tasks_failed"));
        st->cached = (int)json_integer_value(json_object_get(o, "tasks_cached"));
        st->awaited = (int)json_integer_value(json_object_get(o, "sources_awaited"));
        st->audio_done = json_number_value(json_object_get(o, "audio_s_done"));
        const char *n = json_string_value(json_object_get(o, "numerics"));
        snprintf(st->numerics, sizeof st->numerics, "%s", n ? n : "");
        st->found = json_integer_value(json_object_get(o, "job")) == (json_int_t)job;
        json_decref(o);
    }
    cl_run_free(&r);
    return rc;
}

static int s_final(const char *state)
{
    return !strcmp(state, "done") || !strcmp(state, "failed") || !strcmp(state, "cancelled");
}

void cl_wait_state(const cl_coord_t *c, uint64_t job, const char *want, double timeout_s,
                   cl_status_t *last)
{
    cl_status_t st = {0};
    double until = cl_now() + timeout_s;
    for (;;) {
        int rc = cl_status(c, job, &st);
        if (rc != 0) fail_msg("status %llu exited %d", (unsigned long long)job, rc);
        if (!strcmp(st.state, want)) break;
        if (s_final(st.state))
            fail_msg("job %llu ended %s, expected %s (%d/%d tasks done, %d failed)",
                     (unsigned long long)job, st.state, want, st.done, st.total, st.failed);
        if (cl_now() >= until)
            fail_msg("job %llu still %s after %.0f s (%d/%d done, %d running), expected %s",
                     (unsigned long long)job, st.state, timeout_s, st.done, st.total, st.running,
                     want);
        cl_sleep(0.1);
    }
    if (last) *last = st;
}

cl_run_t cl_fetch(const cl_coord_t *c, uint64_t job, const char *out)
{
    char prog[1200], id[32];
    snprintf(prog, sizeof prog, "%s", cl_bin("mixfarm"));
    snprintf(id, sizeof id, "%llu", (unsigned long long)job);
    const char *argv[] = {prog, "fetch", id, "-o", out, "--coordinator", c->ep, NULL};
    return cl_run(argv, 60 * CL_SLOW);
}

int cl_fetch_ok(const cl_coord_t *c, uint64_t job, const char *out, const char *ref)
{
    cl_run_t f = cl_fetch(c, job, out);
    int rc = f.rc;
    char err[1024];
    snprintf(err, sizeof err, "%s", f.err);
    cl_run_free(&f);
    if (rc != 0) fail_msg("fetch %llu exited %d: %s", (unsigned long long)job, rc, err);
    return ref ? cl_assert_same_outdir(ref, out) : 0;
}

void cl_render(const char *session, const char *out, int workers, const cl_coord_t *c)
{
    char prog[1200], w[16];
    snprintf(prog, sizeof prog, "%s", cl_bin("mixfarm"));
    snprintf(w, sizeof w, "%d", workers);
    const char *argv[] = {
        prog,          "render", session, "-o", out, "--quiet", c ? "--coordinator" : "--workers",
        c ? c->ep : w, NULL};
    cl_run_t r = cl_run(argv, 120 * CL_SLOW);
    if (r.rc != 0) {
        char msg[2048];
        snprintf(msg, sizeof msg, "mixfarm render %s %s %s exited %d after %.1f s: %s", session,
                 c ? "--coordinator" : "--workers", c ? c->ep : w, r.rc, r.secs, r.err);
        cl_run_free(&r);
        fail_msg("%s", msg);
    }
    cl_run_free(&r);
}

cl_run_t cl_render_run(const char *session, const char *out, const cl_coord_t *c)
{
    char prog[1200];
    snprintf(prog, sizeof prog, "%s", cl_bin("mixfarm"));
    const char *argv[] = {prog,
                          "render",
                          session,
                          "-o",
                          out,
                          "--quiet",
                          c ? "--coordinator" : "--workers",
                          c ? c->ep : "2",
                          NULL};
    return cl_run(argv, 120 * CL_SLOW);
}

/* ---- the journal ---- */

static void s_copy_file(const char *from, const char *to)
{
    FILE *in = fopen(from, "rb");
    if (!in) return; /* no WAL: nothing to copy */
    FILE *out = fopen(to, "wb");
    if (!out) fail_msg("%s: %s", to, strerror(errno));
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0) assert_int_equal(fwrite(buf, 1, n, out), n);
    fclose(in);
    assert_int_equal(fclose(out), 0);
}

int cl_journal_tasks(const char *state_dir, uint64_t job, cl_jrow_t *rows, int max, int snapshot)
{
    char db[1200];
    cl_path(db, sizeof db, state_dir, "journal.db");
    if (snapshot) {
        static int copies;
        char dir[1200], name[64], from[1300], to[1300];
        snprintf(name, sizeof name, "journal-copy-%d", ++copies);
        cl_path(dir, sizeof dir, s_test_dir, name);
        assert_int_equal(mkdir(dir, 0755), 0);
        const char *files[] = {"journal.db", "journal.db-wal"};
        for (size_t i = 0; i < 2; i++) {
            cl_path(from, sizeof from, state_dir, files[i]);
            cl_path(to, sizeof to, dir, files[i]);
            s_copy_file(from, to);
        }
        cl_path(db, sizeof db, dir, "journal.db");
    }
    sqlite3 *h = NULL;
    int flags = snapshot ? SQLITE_OPEN_READWRITE : SQLITE_OPEN_READONLY;
    if (sqlite3_open_v2(db, &h, flags, NULL) != SQLITE_OK) {
        char msg[1400];
        snprintf(msg, sizeof msg, "%s: %s", db, h ? sqlite3_errmsg(h) : "cannot open");
        sqlite3_close(h);
        fail_msg("%s", msg);
    }
    sqlite3_busy_timeout(h, 5000);
    /* Two layouts have existed: an append-only task_events log (a task's
     * state is its latest event, its attempts its "running" events), and
     * one upserted row per task with an attempts column. */
    static const char *const queries[] = {
        "SELECT task, MAX(label), (SELECT e2.state FROM task_events e2 WHERE e2.job = e.job AND"
        " e2.task = e.task ORDER BY e2.rowid DESC LIMIT 1), SUM(state = 'running')"
        " FROM task_events e WHERE job = ?1 GROUP BY task ORDER BY task",
        "SELECT task, label, state, attempts FROM tasks WHERE job = ?1 ORDER BY task"};
    sqlite3_stmt *st = NULL;
    for (size_t q = 0; q < 2 && !st; q++)
        if (sqlite3_prepare_v2(h, queries[q], -1, &st, NULL) != SQLITE_OK) st = NULL;
    if (!st) {
        char msg[1400];
        snprintf(msg, sizeof msg, "%s: neither task_events nor tasks: %s", db, sqlite3_errmsg(h));
        sqlite3_close(h);
        fail_msg("%s", msg);
    }
    sqlite3_bind_int64(st, 1, (sqlite3_int64)job);
    int n = 0;
    while (n < max && sqlite3_step(st) == SQLITE_ROW) {
        rows[n].task = sqlite3_column_int(st, 0);
        const unsigned char *l = sqlite3_column_text(st, 1), *s = sqlite3_column_text(st, 2);
        snprintf(rows[n].label, sizeof rows[n].label, "%s", l ? (const char *)l : "");
        snprintf(rows[n].state, sizeof rows[n].state, "%s", s ? (const char *)s : "");
        rows[n].attempts = sqlite3_column_int(st, 3);
        n++;
    }
    sqlite3_finalize(st);
    sqlite3_close(h);
    return n;
}

int cl_setup(void **state)
{
    cl_test_begin((const char *)*state);
    return 0;
}

int cl_teardown(void **state)
{
    (void)state;
    cl_test_end();
    return 0;
}
