/* Auxiliary inputs: files an insert reads as a signal (a convolution
 * reverb's "ir"), checked like a track's file, through the same probe (so on
 * a coordinator they resolve through the sources the client sent). */
#include "session_int.h"

#include <stdlib.h>
#include <string.h>

int mf_sess__parse_aux(mf_session_t *s, mf_insert_t *ins, const json_t *j, const char *path,
                       mf_diags_t *d)
{
    const mf_aux_desc_t *desc = ins->cls ? ins->cls->aux : NULL;
    const json_t *v = desc && json_is_object(j) ? json_object_get(j, desc->name) : NULL;
    if (!v) return 0;
    char p[MF_SESS_PATH_MAX];
    mf_sess__path_key(p, path, desc->name);
    const char *written;
    if (mf_sess__string(v, p, d, &written)) return -1;
    for (size_t i = 0; i < s->n_aux; i++)
        if (strcmp(s->aux[i].written, written) == 0) {
            ins->aux = (int)i; /* checked when first named */
            return 0;
        }
    mf_aux_file_t a = {.file = mf_sess__resolve(s, written)};
    if (mf_sess__probe_audio(s, a.file, written, p, d, &a.channels, &a.rate, &a.frames)) {
        free(a.file);
        return -1;
    }
    int rc = 0;
    const double seconds = (double)a.frames / a.rate;
    if (a.channels < 1 || a.channels > 2) {
        mf_diags_error(d, p, "%s: has %d channels; only mono or stereo", written, a.channels);
        rc = -1;
    } else if (a.frames <= 0) {
        mf_diags_error(d, p, "%s: is empty", written);
        rc = -1;
    } else if (seconds > desc->max_seconds) {
        mf_diags_error(d, p, "%s: is %.10g s long; %s takes at most %g s", written, seconds,
                       desc->name, desc->max_seconds);
        rc = -1;
    }
    if (rc) {
        free(a.file);
        return -1;
    }
    a.written = strdup(written);
    mf_aux_file_t *grown = realloc(s->aux, (s->n_aux + 1) * sizeof *grown);
    if (!a.written || !grown) abort();
    s->aux = grown;
    s->aux[s->n_aux] = a;
    ins->aux = (int)s->n_aux++;
    return 0;
}

void mf_sess__aux_fini(mf_session_t *s)
{
    for (size_t i = 0; i < s->n_aux; i++) free(s->aux[i].file), free(s->aux[i].written);
    free(s->aux);
    s->aux = NULL;
    s->n_aux = 0;
}
