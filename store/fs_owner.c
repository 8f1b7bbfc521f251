/* Scratch folders a process owns while it lives (mf_fs.h): an embedded
 * farm's temporary store, a render's staging folder in OUTDIR. A process
 * stopped by a signal or a crash cannot remove them; the next one that
 * makes such a folder does, recognising them by their owner's lock, which
 * the kernel drops when the owner ends, however it ends. */
#include "mf_fs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define OWNER_MARK ".owner"
/* A folder without a mark (OWNER_MARK itself: a "-new" one is not yet
 * one) is its maker's between mkdtemp and mf_fs_own; older than this, its
 * maker is long gone. */
#define UNMARKED_STALE_S 3600

int mf_fs_own(const char *dir)
{
    /* Made under another name and locked before it takes its own: a
     * sweeper never finds the mark unlocked while its owner lives. */
    char path[4096], tmp[4096];
    if (snprintf(path, sizeof path, "%s/%s", dir, OWNER_MARK) >= (int)sizeof path ||
        snprintf(tmp, sizeof tmp, "%s/%s-new", dir, OWNER_MARK) >= (int)sizeof tmp) {
        errno = ENAMETOOLONG;
        return -1;
    }
    const int fd = open(tmp, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return -1;
    /* link, not rename: a folder that has an owner keeps it (EEXIST). A
     * file system without hard links (FAT and exFAT, as on the USB drives
     * renders are handed over on; SMB without Unix extensions) refuses
     * link with EPERM: there the rename, which mf_owned_dir's fresh
     * folder, which no one else owns, allows. */
    int ok = flock(fd, LOCK_EX | LOCK_NB) == 0;
    if (ok && link(tmp, path) != 0)
        ok = (errno == EPERM || errno == EOPNOTSUPP || errno == ENOSYS) && rename(tmp, path) == 0;
    const int saved = errno;
    unlink(tmp);
    if (ok) return fd;
    close(fd);
    errno = saved;
    return -1;
}

static _Thread_local int64_t s_bytes; /* nftw passes no context */

static int s_add(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)path, (void)ftw;
    if (type == FTW_F) s_bytes += (int64_t)st->st_blocks * 512;
    return 0;
}

/* 1 when dir's owner is gone: its mark is not locked (taken here and held
 * in *fd while the folder goes, so no second sweeper judges it), or it has
 * no mark and is old. */
static int s_stale(const char *dir, int *fd)
{
    char mark[4096];
    struct stat st;
    *fd = -1;
    if (snprintf(mark, sizeof mark, "%s/%s", dir, OWNER_MARK) >= (int)sizeof mark) return 0;
    const int f = open(mark, O_RDONLY | O_CLOEXEC);
    if (f < 0)
        return errno == ENOENT && stat(dir, &st) == 0 &&
               time(NULL) - st.st_mtime > UNMARKED_STALE_S;
    if (flock(f, LOCK_EX | LOCK_NB) != 0) {
        close(f);
        return 0;
    }
    *fd = f;
    return 1;
}

int mf_fs_sweep_stale(const char *dir, const char *prefix, int64_t *bytes)
{
    DIR *d = opendir(dir);
    if (bytes) *bytes = 0;
    if (!d) return 0;
    int n = 0;
    const size_t plen = strlen(prefix);
    for (struct dirent *e; (e = readdir(d));) {
        if (strncmp(e->d_name, prefix, plen) || (e->d_type != DT_DIR && e->d_type != DT_UNKNOWN))
            continue;
        char path[4096];
        int fd;
        if (snprintf(path, sizeof path, "%s/%s", dir, e->d_name) >= (int)sizeof path ||
            !s_stale(path, &fd))
            continue;
        s_bytes = 0;
        nftw(path, s_add, 16, FTW_PHYS);
        if (mf_fs_remove_tree(path) == 0) {
            n++;
            if (bytes) *bytes += s_bytes;
        }
        if (fd >= 0) close(fd);
    }
    closedir(d);
    return n;
}

int mf_fs_remove_owned(const char *dir, int *owner_fd)
{
    int rc = mf_fs_remove_tree(dir);
    if (*owner_fd >= 0) close(*owner_fd);
    if (rc != 0 && *owner_fd >= 0) rc = mf_fs_remove_tree(dir);
    *owner_fd = -1;
    return rc;
}

int mf_fs_lock_file(const char *path, int wait)
{
    const int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0 || flock(fd, LOCK_EX | (wait ? 0 : LOCK_NB)) == 0) return fd;
    const int saved = errno;
    close(fd);
    errno = saved;
    return -1;
}
