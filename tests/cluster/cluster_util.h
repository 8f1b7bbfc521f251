/* Cluster tests: real mixfarm-coordinator, mixfarm-worker and mixfarm
 * processes (MF_BIN_DIR) on 127.0.0.1, each test in its own folders, on
 * ports picked free at run time.
 *
 * Every child is registered and killed when its test ends, when the test
 * program exits (atexit), on SIGTERM/SIGINT/SIGALRM (a watchdog alarm bounds
 * the whole program), and by the kernel when the test program dies
 * (PR_SET_PDEATHSIG). Every wait is bounded. */
#ifndef CLUSTER_UTIL_H
#define CLUSTER_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "test_proc.h"

/* Sanitized builds (ASan/UBSan, Debug in CI) run the DSP 5-15x slower:
 * their sessions skip the costliest insert and their deadlines stretch. */
#if defined(__SANITIZE_ADDRESS__)
#define CL_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CL_SANITIZED 1
#endif
#endif
#ifndef CL_SANITIZED
#define CL_SANITIZED 0
#endif
#define CL_SLOW (CL_SANITIZED ? 3.0 : 1.0)

/* ---- the program's lifetime ---- */

/* Reads MF_BIN_DIR, makes the program's temporary root (TMPDIR for every
 * child too), installs the cleanup handlers and a watchdog of
 * watchdog_s seconds. Returns -1 (said on stderr) when it cannot. */
int cl_init(int watchdog_s);
const char *cl_root(void);
/* MF_BIN_DIR/prog. */
const char *cl_bin(const char *prog);
double cl_now(void);
void cl_sleep(double s);

/* Per test: call cl_test_begin() in setup, cl_test_pass() as the test's last
 * statement, cl_test_end() in teardown: it kills what the test started and,
 * when the test did not pass, prints the tail of each daemon's log and keeps
 * the test's folder. */
void cl_test_begin(const char *name);
void cl_test_pass(void);
void cl_test_end(void);
/* The cmocka fixtures that do just that, for a test whose prestate is its
 * name (cmocka_unit_test_prestate_setup_teardown(t, cl_setup, cl_teardown,
 * "t")). */
int cl_setup(void **state);
int cl_teardown(void **state);
/* A fresh folder for the current test (under the program's root). */
const char *cl_test_dir(void);
/* dir/name into out (asserts it fits). */
void cl_path(char *out, size_t n, const char *dir, const char *name);

/* ---- processes ---- */

/* Starts argv (argv[0] a path) with stdout and stderr to the given files
 * (NULL: /dev/null), stdin from /dev/null. Registered for cleanup; its log
 * (err_path) is shown if the test fails. */
pid_t cl_spawn(const char *const *argv, const char *out_path, const char *err_path);
/* Sends sig to a registered child and reaps it (waiting at most wait_s,
 * then SIGKILL). Returns its wait status, or -1. */
int cl_stop(pid_t pid, int sig, double wait_s);
/* Whether a registered child is still running (reaps it if not). */
int cl_alive(pid_t pid);
/* SIGTERM to every live child, then asserts each stopped cleanly (exit 0)
 * within wait_s: the daemons' contract, and under ASan their leak check. */
void cl_stop_all_clean(double wait_s);
void cl_kill_all(void);

typedef struct {
    int rc; /* exit code; -1 killed by a signal; -2 timed out (then killed) */
    double secs;
    char *out, *err;
} cl_run_t;

/* Runs argv to its end (at most timeout_s), capturing stdout and stderr. */
cl_run_t cl_run(const char *const *argv, double timeout_s);
void cl_run_free(cl_run_t *r);
/* Starts argv without waiting (for clients run side by side); finish with
 * cl_wait_run. */
typedef struct {
    pid_t pid;
    double t0;
    char out[1024], err[1024];
} cl_async_t;
void cl_run_async(cl_async_t *a, const char *const *argv);
cl_run_t cl_wait_run(cl_async_t *a, double timeout_s);

/* A TCP port on 127.0.0.1 nobody listened on a moment ago. */
int cl_free_port(void);

/* ---- files ---- */

int cl_file_contains(const char *path, const char *needle);
int cl_count_lines(const char *path, const char *needle); /* lines containing needle */
/* Waits (at most timeout_s) until path has at least n lines containing needle. */
int cl_wait_log(const char *path, const char *needle, int n, double timeout_s);
void cl_write_text(const char *path, const char *text);
/* Whether two files hold the same bytes. */
int cl_same_file(const char *a, const char *b);
/* Asserts two files hold the same bytes (says where they differ). */
void cl_assert_same_file(const char *a, const char *b);
/* Asserts two render outputs agree: mix.wav, the same stems/ names with the
 * same bytes, manifest.json. Returns how many files were compared. */
int cl_assert_same_outdir(const char *a, const char *b);

/* ---- audio and sessions ---- */

/* A deterministic mono 16-bit 48 kHz WAV of `seconds`; `kind` picks the
 * material (0 kick-like, 1 noise bursts, 2 chord, 3 melody), seed varies it. */
void cl_write_audio(const char *path, int kind, int seed, double seconds);

typedef struct {
    int n_tracks;          /* up to 16 */
    const char *prefix;    /* audio files are <prefix><i>.wav next to the session */
    double track0_gain_db; /* the fader of track 0 (what a revision changes) */
    int heavy;             /* add a saturation insert to each track (slow) */
} cl_session_t;
/* Writes the audio (if missing) and the session: tracks with an eq and a
 * compressor each, buses "Drums" and "Music" (a compressor, an eq) with
 * sends, pans and start offsets. Track 0 goes to Drums and sends to Music,
 * so its fader feeds: strip, both buses and the master. */
void cl_write_session(const char *dir, const char *file, const char *name, const cl_session_t *s,
                      double first_len_s, double step_s);
/* The revision of session song (cl_write_session's) that moves track 1's
 * fader from -2.5 to -6.5 dB: it feeds Drums only, so Music's stem stays
 * as it was. Written as dir/file, its path into out. */
void cl_write_track1_revision(const char *song, const char *dir, const char *file, char *out,
                              size_t n);

/* ---- the farm ---- */

typedef struct {
    pid_t pid;
    int port;
    char ep[64];
    char state[1024];
    char log[1024];
    int starts;
    const char *const *extra; /* more arguments (NULL-terminated), or NULL */
    int ipv6;                 /* listen on [::] (both IPv4 and IPv6); ep is tcp://[::1]:port */
} cl_coord_t;

/* Starts a coordinator on state dir (DIR/state) and a fresh free port (port
 * 0) or the given one, waiting until it listens. Retries another port if
 * the one picked was taken meanwhile. */
void cl_coord_start(cl_coord_t *c, const char *dir, int port);
/* Starts a worker named name with its own cache under dir. */
pid_t cl_worker_start(const cl_coord_t *c, const char *dir, const char *name, int slots,
                      char *log_out, size_t log_n);
/* The same with more arguments (NULL-terminated; such as --kernels c). */
pid_t cl_worker_start_with(const cl_coord_t *c, const char *dir, const char *name, int slots,
                           const char *const *extra, char *log_out, size_t log_n);
/* Waits until the coordinator's current log says the worker joined. */
void cl_wait_joined(const cl_coord_t *c, const char *name, double timeout_s);

typedef struct {
    char state[16];
    int total, done, running, failed, cached;
    int found;
    char numerics[64]; /* "" while not pinned */
    int awaited;       /* files its client is still uploading */
    double audio_done; /* audio_s_done: running tasks' shares included */
} cl_status_t;

/* mixfarm submit; returns the job id (asserts success). */
uint64_t cl_submit(const cl_coord_t *c, const char *session, int priority);
/* mixfarm status JOB --json; returns the exit code (st filled on 0). */
int cl_status(const cl_coord_t *c, uint64_t job, cl_status_t *st);
/* Polls until the job is in state `want` (fails the test if it ends in
 * another final state or the deadline passes). */
void cl_wait_state(const cl_coord_t *c, uint64_t job, const char *want, double timeout_s,
                   cl_status_t *last);
/* mixfarm fetch JOB -o OUT; returns the run (free it). */
cl_run_t cl_fetch(const cl_coord_t *c, uint64_t job, const char *out);
/* The same, failing the test (with its exit code and stderr) unless it
 * succeeds; with ref, also unless OUT holds ref's files (returns how many). */
int cl_fetch_ok(const cl_coord_t *c, uint64_t job, const char *out, const char *ref);
/* mixfarm render SESSION -o OUT, embedded with `workers` workers, or with
 * --coordinator when c is given. Asserts exit 0. */
void cl_render(const char *session, const char *out, int workers, const cl_coord_t *c);
/* mixfarm render SESSION -o OUT --quiet, embedded with two workers (c NULL)
 * or on c: the run, whatever its exit code. */
cl_run_t cl_render_run(const char *session, const char *out, const cl_coord_t *c);

/* ---- the coordinator's journal (STATE/journal.db, read only) ---- */

typedef struct {
    int task;
    char label[96];
    char state[16];
    int attempts;
} cl_jrow_t;

/* The task rows of a job, by task index. With snapshot set, the journal
 * (journal.db and its WAL) is first copied aside and the copy read: for a
 * coordinator killed with -9, whose state must stay as it left it. Returns
 * the row count. */
int cl_journal_tasks(const char *state_dir, uint64_t job, cl_jrow_t *rows, int max, int snapshot);

#endif
