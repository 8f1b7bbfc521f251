/* Files and folders a walk has met, by identity (device and inode): a link
 * back up the tree, or a second name of one file, is met again under
 * another path. `init` made each recording under such a link a second
 * track; a catalogue walked a loop eight folders deep (its entries were
 * kept unique by path all along). A hash set: a catalogue's walk meets
 * every file of thousands of albums. */
#ifndef MF_SEEN_H
#define MF_SEEN_H

#include <stddef.h>
#include <sys/stat.h>

typedef struct {
    struct {
        dev_t dev;
        ino_t ino;
        int used;
    } * slot;
    size_t n, cap; /* cap: a power of two, at least twice n */
} mf_seen_t;

/* 1 when st's file was met before; else notes it and returns 0 (also when
 * out of memory: the walk goes on, unguarded). */
int mf_seen(mf_seen_t *s, const struct stat *st);
void mf_seen_fini(mf_seen_t *s);

#endif
