/* Open files: a coordinator holds one per connected worker and client, and
 * the default soft limit of a service (1,024) would stop a farm of a
 * thousand workers at its door with nothing said. Each program raises its
 * soft limit to the hard one when it starts, and the coordinator watches
 * how many it uses. */
#ifndef MF_FDLIMIT_H
#define MF_FDLIMIT_H

/* Raises the soft RLIMIT_NOFILE as far as the hard one (or the kernel's
 * nr_open) allows; returns the soft limit now in force, -1 if unknown. */
long mf_fd_limit_raise(void);
/* The soft limit in force, -1 if unknown or none. */
long mf_fd_limit(void);
/* Files this process has open now (/proc/self/fd), -1 if unknown; at
 * the limit, where the count itself cannot open the folder, the limit. */
long mf_fd_count(void);

#endif
