#include "test_proc.h"

#include <fcntl.h>
#include <setjmp.h>
#include <spawn.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <errno.h>
#include <stdlib.h>
#include <sys/wait.h>

extern char **environ;

test_run_t test_run(const char *prog, const char *const *args, const char *scratch)
{
    const char *argv[32];
    size_t n = 0;
    argv[n++] = prog;
    while (*args && n < 31) argv[n++] = *args++;
    argv[n] = NULL;
    char out[1024], err[1024];
    snprintf(out, sizeof out, "%s/.stdout", scratch);
    snprintf(err, sizeof err, "%s/.stderr", scratch);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&fa, 2, err, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    pid_t pid;
    const int rc = posix_spawn(&pid, prog, &fa, NULL, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc) fail_msg("cannot run %s: %s", prog, strerror(rc));
    int status;
    while (waitpid(pid, &status, 0) < 0) assert_int_equal(errno, EINTR);
    if (!WIFEXITED(status)) print_message("%s died of signal %d\n", prog, WTERMSIG(status));
    return (test_run_t){.rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1,
                        .out = test_read_text(out),
                        .err = test_read_text(err)};
}

void test_run_free(test_run_t *r)
{
    free(r->out), free(r->err);
    r->out = r->err = NULL;
}

char *test_read_text(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return strdup("");
    size_t cap = 4096, n = 0, k;
    char *s = malloc(cap);
    assert_non_null(s);
    while ((k = fread(s + n, 1, cap - n - 1, f)) > 0) {
        n += k;
        if (n + 1 == cap) {
            s = realloc(s, cap *= 2);
            assert_non_null(s);
        }
    }
    s[n] = 0;
    fclose(f);
    return s;
}

unsigned char *test_read_bytes(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f) fail_msg("%s: %s", path, strerror(errno));
    fseek(f, 0, SEEK_END);
    const long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc((size_t)len + 1);
    assert_non_null(b);
    const size_t got = fread(b, 1, (size_t)len, f);
    fclose(f);
    if (got != (size_t)len) {
        free(b);
        fail_msg("%s: short read", path);
    }
    *n = (size_t)len;
    return b;
}

pid_t test_spawn_render(const char *bin, const char *session, const char *out, const char *err)
{
    const char *argv[] = {bin, "render", session, "-o", out, "--workers", "2", "--quiet", NULL};
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 2, err, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    pid_t pid;
    const int rc = posix_spawn(&pid, bin, &fa, NULL, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc) fail_msg("cannot run %s: %s", bin, strerror(rc));
    return pid;
}

long test_proc_kb(pid_t pid, const char *field)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    const size_t n = strlen(field);
    long kb = -1;
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, field, n) && line[n] == ':' && sscanf(line + n + 1, "%ld", &kb) == 1)
            break;
    if (f) fclose(f);
    return kb;
}
