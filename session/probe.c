/* Files a session names: resolved against its folder, and audio files opened
 * with libsndfile for their header only (channels, rate, length); no audio is
 * read while validating. */
#include "session_int.h"
#include "mf_audio_why.h"

#include <errno.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

char *mf_sess__resolve(const mf_session_t *s, const char *file)
{
    const int absolute = file[0] == '/';
    const char *dir = absolute || !s->dir || !s->dir[0] || !strcmp(s->dir, ".") ? NULL : s->dir;
    const char *sep = dir ? "/" : "";
    char *r = NULL;
    if (asprintf(&r, "%s%s%s", dir ? dir : "", sep, file) < 0) abort();
    /* Named in another Unicode form than the file on disk (unicode_name.c):
     * the file on disk, when one name matches. Never on a coordinator: it
     * has no files, and its sources are keyed by the names as written. */
    struct stat st;
    if (s->source || stat(r, &st) == 0 || errno != ENOENT) return r;
    char fixed[4096];
    const char *base = absolute ? "" : dir ? dir : ".";
    if (!mf_sess__fix_path(base, file + absolute, fixed, sizeof fixed, mf_sess__same_text))
        return r;
    free(r);
    if (asprintf(&r, "%s%s%s", absolute ? "/" : dir ? dir : "", sep, fixed) < 0) abort();
    return r;
}

char *mf_session_file(const mf_session_t *s, const char *written)
{
    return mf_sess__resolve(s, written);
}

/* A file that is there and can be opened; reports why not. */
static int s_check_file(const char *resolved, const char *shown, const char *path, mf_diags_t *d)
{
    struct stat st;
    if (stat(resolved, &st) != 0) {
        if (errno == ENOENT || errno == ENOTDIR) {
            char hint[512];
            mf_sess__missing_hint(resolved, shown, hint, sizeof hint);
            mf_diags_error(d, path, "%s: no such file%s", shown, hint);
        } else
            mf_diags_error(d, path, "%s: %s", shown, strerror(errno));
        return -1;
    }
    if (S_ISDIR(st.st_mode)) {
        mf_diags_error(d, path, "%s: is a folder, not a file", shown);
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        mf_diags_error(d, path, "%s: not a regular file", shown);
        return -1;
    }
    if (access(resolved, R_OK) != 0) {
        mf_diags_error(d, path, "%s: cannot be read (%s)", shown, strerror(errno));
        return -1;
    }
    return 0;
}

/* A header's rate and length within the limits, wherever it was read (here,
 * or by the client that sent the file to a coordinator). */
static int s_check_header(const char *shown, const char *path, mf_diags_t *d, int rate,
                          int64_t frames)
{
    if (rate < MF_LIMIT_RATE_MIN || rate > MF_LIMIT_RATE_MAX) {
        mf_diags_error(d, path, "%s: %d Hz; sample rates from %d to %d Hz are supported", shown,
                       rate, MF_LIMIT_RATE_MIN, MF_LIMIT_RATE_MAX);
        return -1;
    }
    if (frames < 0) {
        mf_diags_error(d, path, "%s: its header gives no length", shown);
        return -1;
    }
    if ((double)frames / rate > MF_LIMIT_TIME_S) {
        mf_diags_error(d, path, "%s: %.10g s long, at most %g s (a day)", shown,
                       (double)frames / rate, MF_LIMIT_TIME_S);
        return -1;
    }
    return 0;
}

static int s_probe_sent(const mf_session_t *s, const char *shown, const char *path, mf_diags_t *d,
                        int *channels, int *rate, int64_t *frames)
{
    char why[256] = "not among the files sent";
    if (s->source->audio(s->source->ctx, shown, channels, rate, frames, why, sizeof why) == 0)
        return s_check_header(shown, path, d, *rate, *frames);
    mf_diags_error(d, path, "%s: %s", shown, why);
    return -1;
}

int mf_sess__probe_audio(const mf_session_t *s, const char *resolved, const char *shown,
                         const char *path, mf_diags_t *d, int *channels, int *rate, int64_t *frames)
{
    if (s->source) return s_probe_sent(s, shown, path, d, channels, rate, frames);
    if (s_check_file(resolved, shown, path, d)) return -1;
    SF_INFO info;
    memset(&info, 0, sizeof info);
    SNDFILE *f = sf_open(resolved, SFM_READ, &info);
    if (!f) {
        char why[256];
        if (mf_audio_why(resolved, sf_strerror(NULL), why, sizeof why))
            mf_diags_error(d, path, "%s: %s", shown, why);
        else
            mf_diags_error(d, path, "%s: not an audio file (%s)", shown, why);
        return -1;
    }
    sf_close(f);
    if (info.samplerate <= 0) {
        mf_diags_error(d, path, "%s: has no sample rate", shown);
        return -1;
    }
    *channels = info.channels;
    *rate = info.samplerate;
    *frames = (int64_t)info.frames;
    return s_check_header(shown, path, d, *rate, *frames);
}

int mf_sess__probe_image(const mf_session_t *s, const char *resolved, const char *shown,
                         const char *path, mf_diags_t *d)
{
    if (s->source) { /* the client checked it where the file is; was it sent? */
        char why[256] = "not among the files sent";
        if (!s->source->file || s->source->file(s->source->ctx, shown, why, sizeof why) == 0)
            return 0;
        mf_diags_error(d, path, "%s: %s", shown, why);
        return -1;
    }
    if (s_check_file(resolved, shown, path, d)) return -1;
    static const unsigned char png[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    static const unsigned char jpeg[3] = {0xff, 0xd8, 0xff};
    unsigned char head[8] = {0};
    FILE *f = fopen(resolved, "rb");
    if (!f) {
        mf_diags_error(d, path, "%s: cannot be read (%s)", shown, strerror(errno));
        return -1;
    }
    size_t n = fread(head, 1, sizeof head, f);
    fclose(f);
    if ((n >= sizeof png && memcmp(head, png, sizeof png) == 0) ||
        (n >= sizeof jpeg && memcmp(head, jpeg, sizeof jpeg) == 0))
        return 0;
    mf_diags_error(d, path, "%s: not a JPEG or PNG image", shown);
    return -1;
}
