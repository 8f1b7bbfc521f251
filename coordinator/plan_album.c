/* An album's plan (plan_album.h). A nested session is planned as a session
 * is, and its tasks up to the mix move into the album's plan (their ports
 * shifted, their labels prefixed with the track number); its own mastering,
 * outputs and QC are left out: the album masters and delivers. Metadata of
 * a track: the album's (album title, artist, year, UPC...), then its
 * session's, then its own "metadata", then its number and the track count. */
#include "mf_album_params.h"
#include "mf_params.h"
#include "plan_album.h"
#include "plan_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Moves tasks 0..sp->mix.task of a session's plan into p. */
static int s_merge(mf_plan_t *p, mf_plan_t *sp, size_t k, mf_port_t *mix)
{
    size_t off = p->n_tasks, n = (size_t)sp->mix.task + 1;
    mf_plan_task_t *ts = realloc(p->tasks, (p->n_tasks + n) * sizeof *ts);
    if (!ts) return -1;
    p->tasks = ts;
    p->cap_tasks = p->n_tasks + n;
    for (size_t i = 0; i < n; i++) {
        mf_plan_task_t *t = &p->tasks[p->n_tasks++];
        *t = sp->tasks[i];
        memset(&sp->tasks[i], 0, sizeof sp->tasks[i]); /* now p's */
        for (size_t j = 0; j < t->n_in; j++)
            if (t->in[j].task >= 0) t->in[j].task += (int)off;
        size_t len = strlen(t->label) + 8;
        char *label = malloc(len);
        if (!label) return -1;
        snprintf(label, len, "%02zu %s", k + 1, t->label);
        free(t->label);
        t->label = label;
    }
    *mix = (mf_port_t){.task = (int)off + sp->mix.task, .output = 0};
    return 0;
}

/* Track k's signal: its session's mix, or its mix file decoded at the
 * album's rate. */
static int s_track_signal(mf_plan_t *p, const mf_album_t *a, size_t k,
                          const mf_album_sources_t *src, mf_port_t *sig, int *rate)
{
    const mf_album_track_t *t = &a->tracks[k];
    if (t->s) {
        mf_plan_t *sp =
            mf_plan_session_sources(t->s, src->session[k], MF_PLAN_AUX_SOURCE(t->s, t->s->n_aux));
        int rc = sp ? s_merge(p, sp, k, sig) : -1;
        mf_plan_free(&sp);
        *rate = t->s->sample_rate;
        return rc;
    }
    char label[64];
    snprintf(label, sizeof label, "%02zu decode mix", k + 1);
    mf_plan_task_t *d = mf_plan_append(p, "decode", label);
    if (!d) return -1;
    mf_decode_spec_t spec = {.from_s = 0,
                             .length_s = -1,
                             .start_s = 0,
                             .rate = a->sample_rate,
                             .stereo = t->mix_channels == 1};
    d->params = mf_decode_spec_to_json(&spec);
    d->in = calloc(1, sizeof *d->in);
    d->n_out = 1;
    d->audio_s = t->mix_rate > 0 ? (double)t->mix_frames / t->mix_rate : 0;
    if (!d->params || !d->in) return -1;
    d->in[d->n_in++] = (mf_port_t){.task = -1, .blob = src->mix[k]};
    *sig = (mf_port_t){.task = (int)p->n_tasks - 1, .output = 0};
    *rate = a->sample_rate;
    return 0;
}

/* The album's metadata as a session's: album.title is the album. */
static json_t *s_album_meta(const mf_album_t *a)
{
    json_t *m = json_deep_copy(a->album);
    if (!m) return NULL;
    json_object_del(m, "cover");
    json_t *title = json_object_get(m, "title");
    if (title) json_object_set(m, "album", title);
    json_object_del(m, "title");
    json_t *artist = json_object_get(m, "artist");
    if (artist && !json_object_get(m, "album_artist")) json_object_set(m, "album_artist", artist);
    return m;
}

static json_t *s_track_meta(const mf_album_t *a, size_t k, char *title, size_t n)
{
    const mf_album_track_t *t = &a->tracks[k];
    json_t *m = s_album_meta(a);
    if (!m) return NULL;
    if (t->s && json_is_object(t->s->metadata)) json_object_update(m, t->s->metadata);
    if (json_is_object(t->metadata)) json_object_update(m, (json_t *)t->metadata);
    json_object_del(m, "cover");
    json_object_set_new(m, "track", json_integer((json_int_t)k + 1));
    json_object_set_new(m, "track_total", json_integer((json_int_t)a->n_tracks));
    const char *tt = json_string_value(json_object_get(m, "title"));
    if (tt) {
        snprintf(title, n, "%s", tt);
    } else if (t->s) {
        snprintf(title, n, "%s", t->s->name);
    } else { /* the mix file's name without its folder and extension */
        const char *b = strrchr(t->mix, '/') ? strrchr(t->mix, '/') + 1 : t->mix;
        const char *dot = strrchr(b, '.');
        snprintf(title, n, "%.*s", dot && dot > b ? (int)(dot - b) : (int)strlen(b), b);
    }
    return m;
}

typedef struct {
    const mf_album_t *a;
    const mf_album_sources_t *src;
    mf_plan_t *p;
    mf_qc_spec_t qc;
    mf_port_list_t in;
    mf_port_t *sig, *mst, levels;
    int *rate;
    double ceiling, release_ms, lookahead_ms;
} album_plan_t;

/* song: 1 + the album track d delivers, 0 for the image. */
static int s_encodes(album_plan_t *ap, mf_deliver_set_t *d, json_t *meta, const char *title,
                     int lufs_from, int levels_entry, int song)
{
    char *tags[MF_TAG__COUNT];
    size_t first = ap->qc.n_files;
    int rc = mf_plan_tags(meta, title, tags);
    d->tags = tags;
    if (rc == 0) rc = mf_plan_encodes(ap->p, d, &ap->qc, &ap->in);
    mf_plan_tags_free(tags);
    long lv = lufs_from == 2 ? mf_port_list_add(&ap->in, ap->levels) : -1;
    if (lufs_from == 2 && lv < 0) rc = -1;
    for (size_t i = first; rc == 0 && i < ap->qc.n_files; i++) {
        ap->qc.files[i].lufs_from = lufs_from;
        ap->qc.files[i].levels = lv;
        ap->qc.files[i].levels_entry = levels_entry;
        ap->qc.files[i].song = song;
    }
    return rc;
}

/* Whether song k is a mono record: the album's mastering says so of every
 * song, the song's "mono" of itself. */
static int s_mono(const mf_album_t *a, size_t k)
{
    return json_is_true(json_object_get(a->mastering, "mono")) || a->tracks[k].mono;
}

static int s_track(album_plan_t *ap, size_t k)
{
    const mf_album_t *a = ap->a;
    char title[256], base[300];
    json_t *meta = s_track_meta(a, k, title, sizeof title);
    if (!meta) return -1;
    snprintf(base, sizeof base, "%02zu %s", k + 1, title);
    mf_file_name_clean(base);
    mf_deliver_set_t d = {.outputs = a->outputs,
                          .dir = "tracks/",
                          .base = base,
                          .rate = a->sample_rate,
                          .signal = ap->mst[k],
                          .report = {.task = ap->mst[k].task, .output = 1},
                          .cover = ap->src->cover,
                          .ceiling_dbtp = ap->ceiling,
                          .release_ms = ap->release_ms,
                          .lookahead_ms = ap->lookahead_ms};
    int album_mode = a->mastering && a->mode_album && ap->levels.task >= 0;
    const size_t first = ap->qc.n_files;
    int rc =
        s_encodes(ap, &d, meta, title, album_mode ? 2 : 0, album_mode ? (int)k + 1 : 0, (int)k + 1);
    for (size_t i = first; rc == 0 && i < ap->qc.n_files; i++) ap->qc.files[i].mono = s_mono(a, k);
    json_decref(meta);
    return rc;
}

/* The image: sequence over the mastered tracks, one encode per output
 * ("album.<ext>"), album.cue, and the red_book check for target cd. */
static int s_image(album_plan_t *ap)
{
    const mf_album_t *a = ap->a;
    json_t *meta = s_album_meta(a);
    const char *album = json_string_value(json_object_get(a->album, "title"));
    mf_deliver_set_t d = {.outputs = a->outputs,
                          .dir = "",
                          .base = "album",
                          .rate = a->sample_rate,
                          .cover = ap->src->cover,
                          .ceiling_dbtp = ap->ceiling,
                          .release_ms = ap->release_ms,
                          .lookahead_ms = ap->lookahead_ms};
    /* The CUE sheet names the first lossless image, else the first. */
    size_t n_out = json_array_size(a->outputs) ? json_array_size(a->outputs) : 1, pick = 0;
    char file[400], fmt[8];
    for (size_t i = n_out; i-- > 0;) {
        mf_plan_deliverable_name(&d, i, file, sizeof file, fmt);
        if (!mf_encode_lossy(fmt) || i == 0) pick = i;
    }
    mf_plan_deliverable_name(&d, pick, file, sizeof file, fmt);
    mf_sequence_spec_t q = {.rate = a->sample_rate,
                            .file = file,
                            .type = !strcmp(fmt, "mp3")    ? "MP3"
                                    : !strcmp(fmt, "aiff") ? "AIFF"
                                                           : "WAVE",
                            .title = (char *)(album ? album : ""),
                            .performer = (char *)json_string_value(json_object_get(meta, "artist")),
                            .catalog = (char *)json_string_value(json_object_get(meta, "upc")),
                            .genre = (char *)json_string_value(json_object_get(meta, "genre")),
                            .n_tracks = a->n_tracks};
    json_t *year = json_object_get(meta, "year");
    char date[16] = "";
    if (json_is_integer(year))
        snprintf(date, sizeof date, "%lld", (long long)json_integer_value(year));
    q.date = date;
    q.tracks = calloc(a->n_tracks, sizeof *q.tracks);
    json_t **metas = calloc(a->n_tracks, sizeof *metas);
    char(*tt)[256] = calloc(a->n_tracks, sizeof *tt);
    int rc = meta && q.tracks && metas && tt ? 0 : -1;
    for (size_t k = 0; rc == 0 && k < a->n_tracks; k++) {
        if (!(metas[k] = s_track_meta(a, k, tt[k], sizeof tt[k]))) rc = -1;
        q.tracks[k] = (mf_seq_track_t){
            .gap_s = a->tracks[k].gap_s,
            .crossfade_s = a->tracks[k].crossfade_s,
            .title = tt[k],
            .performer = (char *)json_string_value(json_object_get(metas[k], "artist")),
            .isrc = (char *)json_string_value(json_object_get(metas[k], "isrc"))};
    }
    mf_plan_task_t *t = rc == 0 ? mf_plan_append(ap->p, "sequence", "sequence") : NULL;
    if (t) {
        t->params = mf_sequence_spec_to_json(&q);
        t->in = calloc(a->n_tracks, sizeof *t->in);
        t->n_out = 4;
        for (size_t k = 0; t->in && k < a->n_tracks; k++) {
            t->in[t->n_in++] = ap->mst[k];
            t->audio_s += ap->p->tasks[ap->mst[k].task].audio_s;
        }
    }
    rc = t && t->params && t->in ? 0 : -1;
    int seq = (int)ap->p->n_tasks - 1;
    d.signal = (mf_port_t){.task = seq, .output = 0};
    d.report = (mf_port_t){.task = seq, .output = 2};
    size_t first = ap->qc.n_files;
    if (rc == 0) rc = s_encodes(ap, &d, meta, album ? album : "album", 1, 0, 0);
    if (rc == 0)
        rc = mf_plan_add_output(ap->p, strdup("album.cue"), (mf_port_t){.task = seq, .output = 3},
                                "raw", 0, 0, NULL);
    long tm = rc == 0 ? mf_port_list_add(&ap->in, (mf_port_t){.task = seq, .output = 1}) : -1;
    if (tm < 0) rc = -1;
    mf_target_spec_t tg = mf_plan_target(a->mastering);
    int mono = 1; /* an image of mono songs alone is a mono record */
    for (size_t k = 0; k < a->n_tracks; k++) mono &= s_mono(a, k);
    for (size_t i = first; rc == 0 && i < ap->qc.n_files; i++) {
        ap->qc.files[i].timings = tm; /* its gaps are silences on purpose */
        if (!strcmp(tg.name, "cd")) ap->qc.files[i].red_book = tm;
        ap->qc.files[i].mono = mono;
    }
    if (rc == 0) ap->p->mix = d.signal; /* the fetch's reference length */
    for (size_t k = 0; metas && k < a->n_tracks; k++) json_decref(metas[k]);
    free(metas);
    free(tt);
    free(q.tracks);
    json_decref(meta);
    return rc;
}

static int s_qc(album_plan_t *ap)
{
    mf_plan_task_t *t = mf_plan_append(ap->p, "qc", "qc");
    if (!t) return -1;
    t->params = mf_qc_spec_to_json(&ap->qc);
    t->in = ap->in.v;
    t->n_in = ap->in.n;
    ap->in.v = NULL;
    t->n_out = 2;
    int qc = (int)ap->p->n_tasks - 1;
    if (!t->params) return -1;
    return mf_plan_add_output(ap->p, strdup("qc.json"), (mf_port_t){.task = qc}, "raw", 0, 0,
                              NULL) ||
                   mf_plan_add_output(ap->p, strdup("qc.html"),
                                      (mf_port_t){.task = qc, .output = 1}, "raw", 0, 0, NULL)
               ? -1
               : 0;
}

static int s_plan(album_plan_t *ap)
{
    const mf_album_t *a = ap->a;
    const json_t *lim = json_object_get(a->mastering, "limiter");
    mf_target_spec_t tg = mf_plan_target(a->mastering);
    ap->ceiling = fmin(mf_plan_num_or(lim, "ceiling_dbtp", tg.true_peak_dbtp), tg.true_peak_dbtp);
    ap->release_ms = mf_plan_num_or(lim, "release_ms", 80.0);
    ap->lookahead_ms = mf_plan_num_or(lim, "lookahead_ms", 5.0);
    ap->qc.target = tg;
    ap->qc.album = !a->mastering ? 3 : a->mode_album ? 1 : 2;
    ap->levels = (mf_port_t){.task = -1};
    int rc = 0;
    for (size_t k = 0; rc == 0 && k < a->n_tracks; k++)
        rc = s_track_signal(ap->p, a, k, ap->src, &ap->sig[k], &ap->rate[k]);
    if (rc == 0 && a->mastering && a->mode_album && !isnan(tg.lufs)) {
        mf_plan_task_t *t = mf_plan_append(ap->p, "album_levels", "album levels");
        if (!t || !(t->params = mf_levels_spec_to_json(tg.lufs)) ||
            !(t->in = calloc(a->n_tracks, sizeof *t->in)))
            return -1;
        for (size_t k = 0; k < a->n_tracks; k++) t->in[t->n_in++] = ap->sig[k];
        t->n_out = 1;
        ap->levels = (mf_port_t){.task = (int)ap->p->n_tasks - 1};
    }
    for (size_t k = 0; rc == 0 && k < a->n_tracks; k++) {
        char label[32];
        snprintf(label, sizeof label, "%02zu mastering", k + 1);
        double audio_s = ap->sig[k].task >= 0 ? ap->p->tasks[ap->sig[k].task].audio_s : 0;
        /* A mono song of a stereo album: its mastering says so. */
        const int own = s_mono(a, k) && !json_is_true(json_object_get(a->mastering, "mono"));
        json_t *m = !own           ? json_incref(a->mastering)
                    : a->mastering ? json_copy(a->mastering)
                                   : json_object();
        if (own && (!m || json_object_set_new(m, "mono", json_true()))) rc = -1;
        if (rc == 0 && (m || !a->mastering))
            rc = mf_plan_add_mastering(ap->p, m, a->path, ap->rate[k], 120.0, ap->sig[k], audio_s,
                                       label, ap->levels.task >= 0 ? (int)k + 1 : 0, ap->levels);
        else
            rc = -1;
        json_decref(m);
        ap->mst[k] = (mf_port_t){.task = (int)ap->p->n_tasks - 1};
    }
    ap->p->mix = ap->mst[0];
    ap->p->mastered = 1;
    for (size_t k = 0; rc == 0 && k < a->n_tracks; k++) rc = s_track(ap, k);
    if (rc == 0 && a->cue) rc = s_image(ap);
    if (rc == 0) rc = s_qc(ap);
    return rc;
}

mf_plan_t *mf_plan_album(const mf_album_t *a, const mf_album_sources_t *src)
{
    album_plan_t ap = {.a = a, .src = src};
    ap.p = calloc(1, sizeof *ap.p);
    ap.sig = calloc(a->n_tracks + 1, sizeof *ap.sig);
    ap.mst = calloc(a->n_tracks + 1, sizeof *ap.mst);
    ap.rate = calloc(a->n_tracks + 1, sizeof *ap.rate);
    int rc = ap.p && ap.sig && ap.mst && ap.rate && a->n_tracks ? s_plan(&ap) : -1;
    free(ap.sig);
    free(ap.mst);
    free(ap.rate);
    free(ap.in.v);
    mf_qc_spec_fini(&ap.qc);
    if (rc != 0) mf_plan_free(&ap.p);
    return ap.p;
}
