/* The journal's WAL checkpoints, on a thread of their own.
 *
 * In WAL mode with synchronous=NORMAL a commit only appends to the WAL; the
 * fsyncs happen when the WAL is copied back into the database (a
 * checkpoint). SQLite runs checkpoints inside the commit that crosses its
 * threshold, which stalled the coordinator's loop for the length of an
 * fsync every thousand pages (about a fifth of its dispatch rate). Here
 * this thread, on its own connection, runs passive checkpoints (they never
 * block the writer) every few milliseconds.
 *
 * They cannot restart the WAL, though: the writer starts it again from the
 * top only when it begins a transaction with every frame already copied,
 * and a busy loop always has frames of its own in flight. So the journal's
 * connection still checkpoints itself, but only every MF_CKPT_OWN_PAGES
 * pages (PRAGMA wal_autocheckpoint), when this thread has left it a few
 * frames to copy: one short stall per 16 MiB of WAL instead of a long one
 * per 4 MiB. At a restart the WAL file is cut back to 4 MiB
 * (journal_size_limit), so the journal never holds more than about 16 MiB
 * of WAL on a state disk that may be small. That passive checkpoint gives
 * up when this thread's is running, though, and on a slow disk the WAL
 * then grew past 100 MB: at MF_CKPT_MAX_PAGES the journal's connection
 * waits for a checkpoint that truncates the WAL (one longer stall, seen
 * only when the disk falls behind). A checkpoint under way makes another
 * fail at once, so that one retries, up to 5 s, until this thread's has
 * ended (session 20: with the disk flushed under it, CI saw 121 MB). The durability is SQLite's own
 * for synchronous=NORMAL. */
#ifndef MF_JOURNAL_CHECKPOINT_H
#define MF_JOURNAL_CHECKPOINT_H

/* The journal connection's own checkpoint interval, in pages (16 MiB). */
#define MF_CKPT_OWN_PAGES 4096
/* Where the journal's connection waits for the WAL to be emptied (32 MiB). */
#define MF_CKPT_MAX_PAGES (2 * MF_CKPT_OWN_PAGES)

#include <sqlite3.h>

typedef struct mf_ckpt mf_ckpt_t;

/* Starts checkpointing the WAL database at path; NULL (said) on failure. */
mf_ckpt_t *mf_ckpt_start(const char *path);
/* Installs the journal connection's own checkpoints on db (instead of
 * wal_autocheckpoint): passive from MF_CKPT_OWN_PAGES, truncating from
 * MF_CKPT_MAX_PAGES. */
void mf_ckpt_own(sqlite3 *db);
/* Stops the thread (whoever closes the database last checkpoints it);
 * NULL-safe. */
void mf_ckpt_stop(mf_ckpt_t **c);

#endif
