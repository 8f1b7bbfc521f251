/* The plan of an album: the union of its sessions' mixes and the album's
 * own tasks.
 *
 *   session -> decode/strip/bus/master (its plan, up to the mix) -+
 *   mix file -> decode (at the album's rate) ---------------------+-> track k
 *   tracks -> album_levels (album mode) -> mastering per track -> encode -> tracks/NN <title>.<ext>
 *   mastered tracks -> sequence -> encode -> album.<ext>; album.cue   (with "cue")
 *   every file -> qc -> qc.json, qc.html (red_book on the image for target cd)
 */
#ifndef MF_PLAN_ALBUM_H
#define MF_PLAN_ALBUM_H

#include "mf_album.h"
#include "mf_plan.h"

typedef struct {
    /* Per album track: the sources of its session as
     * mf_plan_session_sources takes them (MF_PLAN_AUX_SOURCE(s, s->n_aux)
     * entries: tracks, cover and reference unused, impulse responses), or
     * NULL for a mix. */
    mf_hash_t **session;
    mf_hash_t *mix;         /* per album track: the mix file's blob */
    const mf_hash_t *cover; /* album.cover, NULL when none */
} mf_album_sources_t;

/* NULL only when out of memory. */
mf_plan_t *mf_plan_album(const mf_album_t *a, const mf_album_sources_t *src);

#endif
