/* The reference and listening half of a plan (plan_listen.c):
 *
 *   reference blob -> decode --------------------------+
 *   mix -> match (match_reference) -> mastering ...    +-> compare -> reference.json, .html
 *   master ---------------------------------------------+        \-> qc (its "reference")
 *   master (or mix) -> listen <system> (x6) -> listen/<system>.wav
 *   master (or mix) + their statistics -> listen report -> listen.json
 *   (an unmastered mix's statistics from its qc task, which measures it)
 *
 * mf_plan_reference() runs after the deliverables and before the qc task,
 * which takes the comparison document as an input (the same plan for an
 * embedded farm and a distributed one). With match_reference the mastering
 * task's input becomes the match task's output; when the session sets no
 * loudness target, the match task also takes over the mastering inserts and
 * aims at the reference's loudness (the mastering task is then left its
 * limiter alone). Tasks are appended, so the list is no longer strictly in
 * topological order; the scheduler does not need it to be. */
#ifndef MF_PLAN_LISTEN_H
#define MF_PLAN_LISTEN_H

#include "mf_plan.h"
#include "plan_int.h"

/* The decode, match and compare tasks of mastering.reference, when the
 * session is mastered and names one; sources as for mf_plan_session(),
 * sources[n_tracks + 1] being the reference's blob. The comparison is added
 * to qc_in and named as the "compare" input of the qc file it is about (the
 * first deliverable). 0, or -1 when out of memory. */
int mf_plan_reference(mf_plan_t *p, const mf_session_t *s, const mf_hash_t *sources,
                      mf_qc_spec_t *qc, mf_port_list_t *qc_in);

/* One listen task per playback system and the listen report, over the
 * master (or the mix). 0, or -1 when out of memory. */
int mf_plan_listen(mf_plan_t *p, const mf_session_t *s);

#endif
