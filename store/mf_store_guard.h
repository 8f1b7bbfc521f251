/* A lasting store's guard against power cuts and killed writers. Blobs and action-cache
 * entries are renamed into place without a flush (one per blob would put
 * the disk on the dispatch path), so after a power cut, not a crash (the
 * page cache survives kill -9), a file written in the last seconds may be
 * empty or short. The guard bounds that window and then closes it:
 *
 * - Every few seconds, on a thread of its own, it flushes the store's file
 *   system (syncfs) and records the moment the flush began: the mtime of
 *   the store's file `synced`, on the file system's own clock, beside the
 *   boot it happened in (/proc/sys/kernel/random/boot_id).
 * - Opened in another boot than the one `synced` names (the machine
 *   restarted, perhaps without a clean shutdown), it checks every blob and
 *   action entry changed (ctime) since that moment: a blob whose bytes hash
 *   to its name is kept; any other is dropped (damaged, or named after the
 *   task that made it, which nothing can check), and so is each such action
 *   entry. A task whose outputs went runs again when a job needs it; a
 *   source that went is uploaded again by the next submit that names it.
 *
 * In the same boot nothing is checked. At open and after each flush it also
 * removes the files in tmp/ that nothing has written for an hour: what a
 * writer killed mid-write left (a coordinator's uploads, a worker's output).
 *
 * MIXFARM_BOOT_ID, when set, stands in for the boot id (tests). Only a
 * store's owner guards it (the coordinator's --state, a worker's cache):
 * one guard per store. */
#ifndef MF_STORE_GUARD_H
#define MF_STORE_GUARD_H

#include <stddef.h>
#include <stdint.h>

#include "mf_store.h"

#define MF_STORE_SYNC_EVERY_S 10.0 /* between two flushes of a guarded store */

typedef struct mf_store_guard mf_store_guard_t;

/* What opening found. */
typedef struct {
    int checked;            /* 1: the machine restarted, the store was checked */
    size_t blobs;           /* blobs changed since the last flush, hashed */
    int64_t bytes;          /* their size */
    size_t dropped;         /* of those, the ones that did not match their names */
    size_t actions_dropped; /* action entries changed since the last flush */
} mf_store_check_t;

/* Checks store s when the machine restarted since its last flush, then
 * flushes it every every_s seconds until mf_store_guard_free. The store is
 * borrowed: free the guard first. check, when not NULL, says what was done.
 * NULL when out of memory or when the thread cannot start (logged); a
 * failed flush is logged and tried again at the next turn. */
mf_store_guard_t *mf_store_guard_open(mf_store_t *s, double every_s, mf_store_check_t *check);
/* Stops the flushes (waits for one under way). */
void mf_store_guard_free(mf_store_guard_t **g);

#endif
