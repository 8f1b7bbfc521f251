/* Parameters of an album's own tasks, as canonical JSON (coordinator/
 * plan_album.c writes them, worker/exec_album.c reads them).
 *
 *  album_levels {"target_lufs" (null: none)}
 *          inputs: every track's signal, in album order. output 0: JSON
 *          {"lufs": [integrated loudness of each], "targets": [the loudness
 *          each is mastered to: target + (its loudness - the loudest's)]}.
 *  sequence {"rate", "tracks": [{"gap_s", "crossfade_s", "title",
 *          "performer", "isrc"}], "cue": {"file", "type", "title",
 *          "performer", "catalog", "genre", "date"}}
 *          inputs: every mastered track, in album order. output 0: the
 *          album image (a signal at rate); output 1: JSON timings {"rate",
 *          "frame", "frames", "tracks": [{"index00", "index01", "end"}]}
 *          (samples); output 2: its loudness report (as mastering's);
 *          output 3: the CUE sheet (text). */
#ifndef MF_ALBUM_PARAMS_H
#define MF_ALBUM_PARAMS_H

#include <stddef.h>

#include "mf_error.h"

typedef struct {
    double gap_s, crossfade_s;
    char *title, *performer, *isrc; /* "" when absent */
} mf_seq_track_t;

typedef struct {
    int rate;
    mf_seq_track_t *tracks;
    size_t n_tracks;
    /* CUE sheet: the image's file name and type (WAVE, MP3...), the disc's
     * title, performer, catalog (EAN-13), genre and date; "" when absent. */
    char *file, *type, *title, *performer, *catalog, *genre, *date;
} mf_sequence_spec_t;

char *mf_sequence_spec_to_json(const mf_sequence_spec_t *q);
mf_err_t mf_sequence_spec_from_json(const char *text, mf_sequence_spec_t *q, const char **why);
void mf_sequence_spec_fini(mf_sequence_spec_t *q);

/* album_levels: target NAN for none. */
char *mf_levels_spec_to_json(double target_lufs);
mf_err_t mf_levels_spec_from_json(const char *text, double *target_lufs, const char **why);

#endif
