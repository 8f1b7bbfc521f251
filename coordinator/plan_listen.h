/* The reference and listening half of a plan (plan_listen.c), called once
 * at the end of mf_plan_outputs():
 *
 *   master (or mix) -> listen <system> (x6) -> listen/<system>.wav
 *   master (or mix) + their statistics -> listen report -> listen.json
 *   reference blob -> decode --------------------------+
 *   mix -> match (match_reference) -> mastering ...    +-> compare -> reference.json, .html
 *   master ---------------------------------------------+
 *
 * With match_reference the mastering task's input becomes the match task's
 * output; when the session sets no loudness target, the match task also
 * takes over the mastering inserts and aims at the reference's loudness
 * (the mastering task is then left its limiter alone). Tasks are appended,
 * so the list is no longer strictly in topological order; the scheduler
 * does not need it to be. */
#ifndef MF_PLAN_LISTEN_H
#define MF_PLAN_LISTEN_H

#include "mf_plan.h"

/* sources as for mf_plan_session(); sources[n_tracks + 1] is the blob of
 * mastering.reference when the session names one. 0, or -1 when out of
 * memory. */
int mf_plan_listen(mf_plan_t *p, const mf_session_t *s, const mf_hash_t *sources);

#endif
