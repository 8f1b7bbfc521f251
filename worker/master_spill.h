/* The spill the mastering tasks (mastering, match) give mf_master_run: a
 * file without a name in the store's tmp/ folder (store/mf_spill.h), so the
 * post-insert signal read again by each pass takes disk and page cache, not
 * the worker's memory. */
#ifndef MASTER_SPILL_H
#define MASTER_SPILL_H

#include "mf_master.h"
#include "mf_spill.h"
#include "mf_store.h"

typedef struct {
    mf_spill_t *file;
    mf_master_spill_t iface;
} mf_master_spill_file_t;

/* The spill for mf_master_config_t.spill, or NULL when no file can be made
 * (said at debug level: the passes then run the inserts again, slower). */
const mf_master_spill_t *mf_master_spill_open(const mf_store_t *s, mf_master_spill_file_t *out);
/* The same in folder dir. */
const mf_master_spill_t *mf_master_spill_open_in(const char *dir, mf_master_spill_file_t *out);
void mf_master_spill_close(mf_master_spill_file_t *m);

#endif
