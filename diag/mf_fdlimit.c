#include "mf_fdlimit.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <sys/resource.h>

/* The kernel's ceiling for any process's limit (fs.nr_open). */
static rlim_t s_nr_open(void)
{
    FILE *f = fopen("/proc/sys/fs/nr_open", "r");
    unsigned long long n = 0;
    if (f) {
        if (fscanf(f, "%llu", &n) != 1) n = 0;
        fclose(f);
    }
    return n ? (rlim_t)n : (rlim_t)1 << 20;
}

long mf_fd_limit_raise(void)
{
    struct rlimit r;
    if (getrlimit(RLIMIT_NOFILE, &r) != 0) return -1;
    const rlim_t ceiling = s_nr_open();
    const rlim_t want = r.rlim_max == RLIM_INFINITY || r.rlim_max > ceiling ? ceiling : r.rlim_max;
    if (r.rlim_cur != RLIM_INFINITY && r.rlim_cur < want) {
        struct rlimit raised = {.rlim_cur = want, .rlim_max = r.rlim_max};
        if (setrlimit(RLIMIT_NOFILE, &raised) == 0) r.rlim_cur = want;
    }
    return r.rlim_cur == RLIM_INFINITY ? -1 : (long)r.rlim_cur;
}

long mf_fd_limit(void)
{
    struct rlimit r;
    return getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur != RLIM_INFINITY ? (long)r.rlim_cur : -1;
}

long mf_fd_count(void)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d && (errno == EMFILE || errno == ENFILE)) return mf_fd_limit(); /* counting needs one */
    if (!d) return -1;
    long n = -1; /* the directory's own descriptor is listed too */
    for (struct dirent *e; (e = readdir(d));)
        if (e->d_name[0] != '.') n++;
    closedir(d);
    return n;
}
