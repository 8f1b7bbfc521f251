/* Processes a test starts and watches, and the files it reads back
 * (CMakeLists.txt: mf_test_proc). */
#ifndef MF_TEST_PROC_H
#define MF_TEST_PROC_H

#include <stddef.h>
#include <sys/types.h>

/* A program's exit and output. */
typedef struct {
    int rc; /* exit status, or -1 when killed by a signal */
    char *out, *err;
} test_run_t;

/* Runs prog with args (NULL-terminated, without argv[0]; at most 30),
 * stdin from /dev/null, its stdout and stderr captured through two files
 * in scratch (a folder of the test's); the test fails when it cannot be
 * started. */
test_run_t test_run(const char *prog, const char *const *args, const char *scratch);
void test_run_free(test_run_t *r);

/* A file's text (malloc'd; read to its end, so a log still growing is
 * fine), "" when it is missing. */
char *test_read_text(const char *path);
/* A file's bytes (malloc'd, *n of them); the test fails when it cannot be
 * read. */
unsigned char *test_read_bytes(const char *path, size_t *n);

/* Starts `BIN render SESSION -o OUT --workers 2 --quiet` with its stderr in
 * ERR; the test fails when it cannot be started. */
pid_t test_spawn_render(const char *bin, const char *session, const char *out, const char *err);
/* A "kB" field of /proc/PID/status (VmRSS, VmHWM...), or -1 once the
 * process is gone. */
long test_proc_kb(pid_t pid, const char *field);

#endif
