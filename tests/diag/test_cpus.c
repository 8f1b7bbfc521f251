/* The CPUs a process may use (diag/mf_cpus.h): cgroup texts parsed; the
 * affinity mask honoured (taskset, --cpuset-cpus); and a cgroup v1 or v2
 * CPU quota (docker --cpus, a Kubernetes limit) honoured, in a cgroup made
 * here when the machine lets root make one, else that part is skipped.
 * Each count is taken in a child process: mf_cpu_count remembers its
 * first answer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "mf_cpus.h"

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static void test_parse(void **state)
{
    (void)state;
    assert_true(mf_cpus_parse_max("200000 100000\n") == 2.0);
    assert_true(mf_cpus_parse_max("150000 100000") == 1.5);
    assert_true(mf_cpus_parse_max("max 100000\n") == 0.0);
    assert_true(mf_cpus_parse_max("") == 0.0);
    assert_true(mf_cpus_parse_max("12abc 100000") == 0.0);
    assert_true(mf_cpus_parse_v1("50000\n", "100000\n") == 0.5);
    assert_true(mf_cpus_parse_v1("-1\n", "100000\n") == 0.0);
    assert_true(mf_cpus_parse_v1(NULL, "100000") == 0.0);
}

/* mf_cpu_count in a child, after prepare(arg) there; -1 when prepare
 * failed (the child exits 255). */
static int s_count_in_child(int (*prepare)(const void *), const void *arg)
{
    const pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) _exit(prepare && prepare(arg) != 0 ? 255 : mf_cpu_count());
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    return WEXITSTATUS(st) == 255 ? -1 : WEXITSTATUS(st);
}

static int s_one_cpu(const void *arg)
{
    (void)arg;
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) != 0) return -1;
    int first = -1;
    for (int c = 0; c < CPU_SETSIZE && first < 0; c++)
        if (CPU_ISSET(c, &set)) first = c;
    CPU_ZERO(&set);
    CPU_SET(first, &set);
    return sched_setaffinity(0, sizeof set, &set);
}

static void test_affinity(void **state)
{
    (void)state;
    const int all = s_count_in_child(NULL, NULL);
    assert_true(all >= 1);
    assert_int_equal(s_count_in_child(s_one_cpu, NULL), 1);
}

static int s_write(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f) return -1;
    const int ok = fputs(text, f) >= 0;
    return fclose(f) == 0 && ok ? 0 : -1;
}

/* The child joins the cgroup folder arg (its cgroup.procs). */
static int s_join(const void *arg)
{
    char procs[600], pid[32];
    snprintf(procs, sizeof procs, "%s/cgroup.procs", (const char *)arg);
    snprintf(pid, sizeof pid, "%d\n", (int)getpid());
    return s_write(procs, pid);
}

static void test_quota(void **state)
{
    (void)state;
    if (s_count_in_child(NULL, NULL) < 2) skip(); /* a quota of 1 CPU shows on 2 or more */
    char v1[256], v2[256], f[600];
    snprintf(v1, sizeof v1, "/sys/fs/cgroup/cpu/mf-test-cpus-%d", (int)getpid());
    snprintf(v2, sizeof v2, "/sys/fs/cgroup/mf-test-cpus-%d", (int)getpid());
    int tried = 0;
    if (mkdir(v1, 0755) == 0) { /* v1: 0.5 CPU is one */
        snprintf(f, sizeof f, "%s/cpu.cfs_period_us", v1);
        int ok = s_write(f, "100000") == 0;
        snprintf(f, sizeof f, "%s/cpu.cfs_quota_us", v1);
        ok = ok && s_write(f, "50000") == 0;
        const int n = ok ? s_count_in_child(s_join, v1) : -1;
        rmdir(v1);
        if (n >= 0) assert_int_equal(n, 1), tried = 1;
    }
    snprintf(f, sizeof f, "/sys/fs/cgroup/cgroup.controllers");
    struct stat st;
    if (stat(f, &st) == 0 && mkdir(v2, 0755) == 0) { /* v2 */
        snprintf(f, sizeof f, "%s/cpu.max", v2);
        const int n = s_write(f, "100000 100000") == 0 ? s_count_in_child(s_join, v2) : -1;
        rmdir(v2);
        if (n >= 0) assert_int_equal(n, 1), tried = 1;
    }
    if (!tried) skip(); /* not root, or no cgroup this process may make */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_affinity),
        cmocka_unit_test(test_quota),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
