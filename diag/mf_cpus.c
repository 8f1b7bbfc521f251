#include "mf_cpus.h"

#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

double mf_cpus_parse_max(const char *text)
{
    char quota[32];
    long long period;
    if (!text || sscanf(text, "%31s %lld", quota, &period) != 2 || period <= 0) return 0;
    if (!strcmp(quota, "max")) return 0;
    char *end;
    const long long q = strtoll(quota, &end, 10);
    return *end || q <= 0 ? 0 : (double)q / (double)period;
}

double mf_cpus_parse_v1(const char *quota, const char *period)
{
    if (!quota || !period) return 0;
    const long long q = strtoll(quota, NULL, 10), p = strtoll(period, NULL, 10);
    return q > 0 && p > 0 ? (double)q / (double)p : 0;
}

/* The first line of a small file, or "" (buf). */
static const char *s_read(const char *path, char *buf, size_t n)
{
    buf[0] = 0;
    FILE *f = fopen(path, "r");
    if (!f) return buf;
    if (!fgets(buf, (int)n, f)) buf[0] = 0;
    fclose(f);
    return buf;
}

/* The smallest limit along path's ancestors under root (a quota anywhere
 * above applies). v1: the quota and period files; v2: cpu.max. */
static double s_along(const char *root, const char *path, int v2)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s%s", root, strcmp(path, "/") ? path : "");
    double best = 0;
    for (;;) {
        char f1[4200], f2[4200], a[64], b[64];
        double q;
        if (v2) {
            snprintf(f1, sizeof f1, "%s/cpu.max", dir);
            q = mf_cpus_parse_max(s_read(f1, a, sizeof a));
        } else {
            snprintf(f1, sizeof f1, "%s/cpu.cfs_quota_us", dir);
            snprintf(f2, sizeof f2, "%s/cpu.cfs_period_us", dir);
            q = mf_cpus_parse_v1(s_read(f1, a, sizeof a), s_read(f2, b, sizeof b));
        }
        if (q > 0 && (best == 0 || q < best)) best = q;
        char *slash = strrchr(dir, '/');
        if (!slash || (size_t)(slash - dir) < strlen(root)) break;
        *slash = 0;
    }
    return best;
}

/* The CPUs the process's cgroups allow; 0 for no limit. */
static double s_cgroup_limit(void)
{
    FILE *f = fopen("/proc/self/cgroup", "r");
    if (!f) return 0;
    char line[4096];
    double best = 0;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = 0;
        char *ctl = strchr(line, ':'), *path = ctl ? strchr(ctl + 1, ':') : NULL;
        if (!path) continue;
        *path++ = 0, ctl++;
        double q = 0;
        if (!*ctl && line[0] == '0') { /* v2: "0::/path" */
            q = s_along("/sys/fs/cgroup", path, 1);
        } else { /* v1: the hierarchy whose controllers include cpu */
            char list[256];
            snprintf(list, sizeof list, ",%s,", ctl);
            if (!strstr(list, ",cpu,")) continue;
            static const char *const mounts[] = {"/sys/fs/cgroup/cpu", "/sys/fs/cgroup/cpu,cpuacct",
                                                 "/sys/fs/cgroup/cpuacct,cpu"};
            for (size_t m = 0; m < 3 && q == 0; m++) q = s_along(mounts[m], path, 0);
        }
        if (q > 0 && (best == 0 || q < best)) best = q;
    }
    fclose(f);
    return best;
}

static int s_count;
static pthread_once_t s_once = PTHREAD_ONCE_INIT;

static void s_measure(void)
{
    cpu_set_t set;
    int n = sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : 0;
    if (n <= 0) {
        const long c = sysconf(_SC_NPROCESSORS_ONLN);
        n = c > 0 ? (int)c : 1;
    }
    const double q = s_cgroup_limit();
    if (q > 0 && ceil(q) < n) n = (int)ceil(q);
    s_count = n > 0 ? n : 1;
}

int mf_cpu_count(void)
{
    pthread_once(&s_once, s_measure);
    return s_count;
}
