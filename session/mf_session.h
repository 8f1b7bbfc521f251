/* The session model: a session.json loaded into typed structures, all of it
 * validated before any audio is read (SESSION.md is the contract).
 *
 * Names of tracks and buses share one namespace ("master" is reserved), so a
 * reference (output, send, sidechain, stem) is resolved once into an mf_ref_t.
 * Every insert is resolved against the processor registry (dsp/mf_processor.h)
 * into a flat value array, defaults filled, so two sessions that mean the same
 * thing produce the same model (and the same task keys).
 *
 * Ownership: mf_session_load returns a session the caller frees with
 * mf_session_free; everything inside belongs to the session. */
#ifndef MF_SESSION_H
#define MF_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "mf_diags.h"
#include "mf_envelope.h"
#include "mf_processor.h"

typedef enum { MF_REF_NONE, MF_REF_TRACK, MF_REF_BUS, MF_REF_MASTER } mf_ref_kind_t;

typedef struct {
    mf_ref_kind_t kind;
    int index; /* into tracks or buses; 0 for master */
} mf_ref_t;

typedef struct {
    const mf_processor_class_t *cls;
    double *values; /* mf_processor_value_count(cls, nbands) values, defaults filled */
    size_t n_values;
    size_t nbands;
    mf_ref_t sidechain; /* MF_REF_NONE when the insert has no external key */
    int aux;            /* index into the session's aux files (an "ir"), or -1 */
} mf_insert_t;

/* A file an insert reads as a signal (the class's mf_aux_desc_t: a
 * convolution reverb's "ir"), checked like a track's file; one entry per
 * distinct path as written, however many inserts name it. */
typedef struct {
    char *file;    /* resolved path */
    char *written; /* as the session writes it: the name its blob is sent under */
    int channels, rate;
    int64_t frames;
} mf_aux_file_t;

typedef struct {
    int bus;         /* index into buses */
    double level_db; /* -INFINITY for "-inf" */
    int pre_fader;
} mf_send_t;

typedef enum {
    MF_AUTO_GAIN,         /* "gain_db" */
    MF_AUTO_PAN,          /* "pan" */
    MF_AUTO_SEND_LEVEL,   /* "sends.<bus>.level_db": index = the send's index */
    MF_AUTO_INSERT_PARAM, /* "inserts.<i>.<p>" or "inserts.<i>.bands.<j>.<p>": index = i,
                             param = position in the insert's flat value array */
} mf_auto_kind_t;

typedef struct {
    char *path; /* as written in the session */
    mf_auto_kind_t kind;
    int index;
    int param;
    mf_point_t *pts; /* sorted by time; "-inf" is -INFINITY */
    size_t n;
} mf_automation_t;

/* What tracks, buses and the master have in common: a channel strip. */
typedef struct {
    char *name;
    int invert;
    double gain_db; /* fader */
    double pan;     /* -1 .. 1; balance on a stereo signal */
    mf_insert_t *inserts;
    size_t n_inserts;
    mf_send_t *sends;
    size_t n_sends;
    mf_ref_t output; /* MF_REF_BUS or MF_REF_MASTER; MF_REF_NONE for the master itself */
    mf_automation_t *autos;
    size_t n_autos;
} mf_channel_t;

typedef struct {
    mf_channel_t ch;
    char *file;           /* resolved path (relative paths against the session's folder) */
    double start_s;       /* where the region starts on the timeline */
    double trim_from_s;   /* where in the source it starts */
    double trim_length_s; /* < 0: to the end of the source */
    int mute, solo;
    /* From the file's header (read at validation; no audio read). */
    int src_channels;
    int src_rate;
    int64_t src_frames;
} mf_track_t;

/* Where the files a session names come from when they are not local files:
 * on the coordinator, the client has sent them as blobs with their headers.
 * audio() fills the header of the file named (as written in the session) and
 * returns 0, or returns -1 with why set. file(), when set, says whether a
 * file that is not audio (the cover image) was sent, the same way; the
 * client checked its content where the file is. */
typedef struct {
    int (*audio)(void *ctx, const char *file, int *channels, int *rate, int64_t *frames, char *why,
                 size_t why_size);
    void *ctx;
    int (*file)(void *ctx, const char *file, char *why, size_t why_size);
} mf_session_source_t;

typedef struct {
    char *path; /* the document, as given */
    char *dir;  /* its folder, for resolving relative paths */
    char *name; /* "name", else the file name without .json */
    int sample_rate;
    double tempo_bpm;
    double pan_law_db; /* -3, -4.5 or -6 */
    mf_track_t *tracks;
    size_t n_tracks;
    mf_channel_t *buses;
    size_t n_buses;
    mf_channel_t master; /* name "master", output MF_REF_NONE */
    mf_ref_t *stems;     /* explicit "stems", else every bus that feeds master */
    size_t n_stems;
    /* Validated but interpreted by later stages; NULL when absent. Borrowed
     * from doc. */
    json_t *mastering;
    json_t *outputs;
    json_t *metadata;
    json_t *doc;        /* the whole document, owned */
    mf_aux_file_t *aux; /* auxiliary inputs, in the order inserts first name them */
    size_t n_aux;
    const mf_session_source_t *source; /* while loading from text; NULL otherwise */
} mf_session_t;

/* Loads and validates path. Every problem goes into diags (errors and
 * warnings, each with its key path). Returns NULL when there was any error
 * (diags->errors > 0) or the file cannot be read; the session otherwise. */
mf_session_t *mf_session_load(const char *path, mf_diags_t *diags);
/* The same from the document's text; name stands for the file in messages
 * and file names resolve through source (never the local file system). */
mf_session_t *mf_session_load_text(const char *name, const char *text,
                                   const mf_session_source_t *source, mf_diags_t *diags);
void mf_session_free(mf_session_t **s);

/* The channel a reference names (track, bus or master); NULL for NONE. */
const mf_channel_t *mf_session_channel(const mf_session_t *s, mf_ref_t ref);
/* Looks a name up among tracks, buses and "master"; kind NONE if unknown. */
mf_ref_t mf_session_find(const mf_session_t *s, const char *name);
/* Whether a track is heard: not muted, and soloed when any track is. */
int mf_session_track_audible(const mf_session_t *s, size_t track);
/* The name a reference stands for ("master" for the master), or NULL for NONE. */
const char *mf_session_ref_name(const mf_session_t *s, mf_ref_t ref);
/* Where a file the session writes is: against the session's folder, in the
 * Unicode form the disk holds it in (docs/session.md). malloc'd. */
char *mf_session_file(const mf_session_t *s, const char *written);

/* Validates one insert object ({"type": ..., params..., "bands": [...],
 * "sidechain": ...}) against the processor registry and fills out: class,
 * flat values with defaults filled, band count. A "sidechain" name is
 * resolved against names (its tracks and buses) when names is not NULL;
 * with NULL it is only checked to be a string and out->sidechain stays NONE.
 * A list parameter is an array of numbers (count, range and order checked);
 * when its class says so it sets the number of bands. An auxiliary input
 * ("ir") is left to the caller, which checks and registers the file
 * (a channel, a session's mastering) or refuses it (an album's mastering).
 * Problems go into d with paths under path (e.g. "tracks[0].inserts[1]").
 * Returns 0 when the insert is valid, -1 otherwise. In both cases out holds
 * what could be read (cls NULL when the type is unknown) and must be
 * released with mf_session_insert_fini. */
int mf_session_parse_insert(const json_t *j, const char *path, const mf_session_t *names,
                            mf_diags_t *d, mf_insert_t *out);
void mf_session_insert_fini(mf_insert_t *ins);

#endif
