/* How many CPUs this process may use: what "the number of cores" means for
 * a worker's default slots, an embedded farm's workers and the client's
 * threads. Not the machine's count: a container given 2 CPUs on a 64-core
 * host (docker --cpus, a Kubernetes limit, taskset, --cpuset-cpus) would
 * otherwise run 64 tasks at once, each with its buffers, throttled. */
#ifndef MF_CPUS_H
#define MF_CPUS_H

/* The CPUs of the affinity mask, capped by a cgroup CPU quota (v2 cpu.max
 * or v1 cpu.cfs_quota_us over cpu.cfs_period_us, the smallest along the
 * cgroup's path), rounded up; at least 1. Read once, then remembered. */
int mf_cpu_count(void);

/* The parsing, for tests: CPUs a cgroup v2 cpu.max text allows ("200000
 * 100000" -> 2.0), or a v1 quota and period ("-1": none); 0 for no limit
 * or text that is not one. */
double mf_cpus_parse_max(const char *text);
double mf_cpus_parse_v1(const char *quota, const char *period);

#endif
