/* The source files a client sends, checked where they are before any upload:
 * a WAV or AIFF cut short (a copy that stopped, a full disk when it was
 * recorded) would otherwise decode as a shorter file, silently. Each
 * problem names the file as the session writes it and its track. */
#include "client_internal.h"
#include "mf_audio_why.h"
#include "mf_log.h"
#include "mf_source_check.h"

#include <errno.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int mf_client__check_audio(const char *doc, const char *what, const char *resolved)
{
    SF_INFO info = {0};
    SNDFILE *f = sf_open(resolved, SFM_READ, &info);
    char why[256];
    if (!f) { /* validation opened it a moment ago: it changed since */
        if (mf_audio_why(resolved, sf_strerror(NULL), why, sizeof why))
            mf_error("%s: %s: %s", doc, what, why);
        else
            mf_error("%s: %s: not an audio file (%s)", doc, what, why);
        return -1;
    }
    sf_close(f);
    int truncated = mf_source_truncated(resolved, &info, why, sizeof why);
    if (truncated < 0) mf_error("%s: %s: %s", doc, what, strerror(errno));
    if (truncated > 0) mf_error("%s: %s: %s", doc, what, why);
    return truncated == 0 ? 0 : -1;
}

mf_err_t mf_client__check_sources(const mf_session_t *s)
{
    int bad = 0;
    char what[1024];
    const json_t *tracks = json_object_get(s->doc, "tracks");
    for (size_t i = 0; i < s->n_tracks; i++) {
        const char *written = json_string_value(json_object_get(json_array_get(tracks, i), "file"));
        snprintf(what, sizeof what, "tracks[%zu] \"%s\" (%s)", i, s->tracks[i].ch.name,
                 written ? written : s->tracks[i].file);
        bad |= mf_client__check_audio(s->path, what, s->tracks[i].file) != 0;
    }
    for (size_t k = 0; k < s->n_aux; k++) {
        snprintf(what, sizeof what, "impulse response (%s)", s->aux[k].written);
        bad |= mf_client__check_audio(s->path, what, s->aux[k].file) != 0;
    }
    const char *reference = json_string_value(json_object_get(s->mastering, "reference"));
    if (reference) {
        char *path = mf_session_file(s, reference);
        snprintf(what, sizeof what, "mastering.reference (%s)", reference);
        bad |= mf_client__check_audio(s->path, what, path) != 0;
        free(path);
    }
    return bad ? MF_ERR_INVALID : MF_OK;
}
