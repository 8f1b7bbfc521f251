/* What a fetch says about the render itself, for render.json and mixfarm
 * diff: the session document and every task with its key and output hashes
 * (coord_render.c). */
#ifndef MF_COORD_RENDER_H
#define MF_COORD_RENDER_H

#include "coord_internal.h"

/* Memory behind the fields filled in a reply, freed after it is sent. */
typedef struct {
    Mixfarm__TaskRef *refs;
    Mixfarm__TaskRef **ptrs;
    mf_hash_t *hashes; /* keys and outputs */
    char **outs;
} mf_fetch_render_t;

/* Fills r->document, r->tasks and r->tasks_complete for a finished job j,
 * within a size budget well under MF_MSG_MAX. */
void mf_coord_fetch_render(coord_t *c, const job_t *j, Mixfarm__FetchReply *r,
                           mf_fetch_render_t *keep);
void mf_coord_fetch_render_free(mf_fetch_render_t *keep);

#endif
