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
 * of WAL on a state disk that may be small. The durability is SQLite's own
 * for synchronous=NORMAL. */
#ifndef MF_JOURNAL_CHECKPOINT_H
#define MF_JOURNAL_CHECKPOINT_H

/* The journal connection's own checkpoint interval, in pages (16 MiB). */
#define MF_CKPT_OWN_PAGES 4096

typedef struct mf_ckpt mf_ckpt_t;

/* Starts checkpointing the WAL database at path; NULL (said) on failure. */
mf_ckpt_t *mf_ckpt_start(const char *path);
/* Stops the thread (whoever closes the database last checkpoints it);
 * NULL-safe. */
void mf_ckpt_stop(mf_ckpt_t **c);

#endif
