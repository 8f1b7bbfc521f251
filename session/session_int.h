/* Private to session/: the helpers the validators share.
 *
 * Key paths in diagnostics read like the document they point into:
 *   tracks[3].inserts[0].ratio          an object key, an array element
 *   tracks[0].automation["pan"][2][1]   an automation target (its key holds
 *                                       dots, so it is quoted), point 2, value
 * Every validator reports each problem it finds and carries on with the
 * next key, so one run lists them all. Validators return 0 when they found
 * nothing wrong and -1 otherwise; callers need not count, diags does. */
#ifndef MF_SESSION_INT_H
#define MF_SESSION_INT_H

#include "mf_limits.h"
#include "mf_session.h"

#include <stddef.h>

#define MF_SESS_PATH_MAX 512

/* Paths. out gets base.key (key alone when base is empty), base[i], or
 * base["key"]. Truncated silently at MF_SESS_PATH_MAX. */
void mf_sess__path_key(char *out, const char *base, const char *key);
void mf_sess__path_index(char *out, const char *base, size_t i);
void mf_sess__path_quoted(char *out, const char *base, const char *key);

/* "string", "number", "boolean", "null", "array", "object". */
const char *mf_sess__type_name(const json_t *v);

/* Value checks. Each reports its own problem at path and returns -1, or
 * stores the value and returns 0. A NULL v (key absent) is the caller's to
 * handle; these expect a value. */
int mf_sess__number(const json_t *v, const char *path, mf_diags_t *d, double min, double max,
                    int allow_neg_inf, double *out);
int mf_sess__int(const json_t *v, const char *path, mf_diags_t *d, long long min, long long max,
                 long long *out);
int mf_sess__bool(const json_t *v, const char *path, mf_diags_t *d, int *out);
/* A non-empty string of at most MF_LIMIT_STRING_BYTES. */
int mf_sess__string(const json_t *v, const char *path, mf_diags_t *d, const char **out);
/* The same, at most max bytes; what says what the string is for, in the
 * error ("names become file names"). */
int mf_sess__string_max(const json_t *v, const char *path, mf_diags_t *d, size_t max,
                        const char *what, const char **out);
/* An array of at most max items: reports "1025 tracks, at most 1024" (items
 * names what is counted) and returns -1 when longer. */
int mf_sess__count(const json_t *array, const char *path, mf_diags_t *d, size_t max,
                   const char *items);

/* A document read from a file, refused unread beyond MF_LIMIT_DOC_BYTES and
 * checked for size while it is read (a file may grow, or be a pipe). NULL
 * after reporting why. */
json_t *mf_sess__read_document(const char *path, mf_diags_t *d);
/* The same for a document's text given whole: its size checked, then
 * parsed (duplicate keys refused). NULL after reporting why. */
json_t *mf_sess__parse_text(const char *text, mf_diags_t *d);
/* text past a UTF-8 byte order mark, if it begins with one (both readers
 * above skip it). */
const char *mf_sess__skip_bom(const char *text);
int mf_sess__expect(const json_t *v, const char *path, mf_diags_t *d, int type, const char *what);

/* Warns about every key of obj not in known (NULL-terminated), suggesting
 * the nearest known key. */
void mf_sess__check_keys(const json_t *obj, const char *path, mf_diags_t *d,
                         const char *const *known);

/* Suggestions. Edit distance (optimal string alignment: insertions,
 * deletions, substitutions and swaps of neighbours cost 1; letter case is
 * ignored). The best candidate close enough to word to be a likely typo, or
 * NULL. */
size_t mf_sess__distance(const char *a, const char *b);
const char *mf_sess__suggest(const char *word, const char *const *cands, size_t n);
/* " (did you mean \"x\"?)" into buf when there is a suggestion, else "". */
const char *mf_sess__did_you_mean(char *buf, size_t size, const char *word,
                                  const char *const *cands, size_t n);

/* One processor parameter's value: a number within [min, max] ("-inf" too for
 * a level in dB whose range reaches down to silence), or, for a choice, one of
 * its names, stored as the name's index. A JSON boolean is taken for a choice
 * between "false" and "true" and for a number ranging exactly 0..1 (switches
 * such as ping_pong). */
int mf_sess__param_value(const mf_param_desc_t *p, const json_t *v, const char *path, mf_diags_t *d,
                         double *out);
int mf_sess__param_allows_neg_inf(const mf_param_desc_t *p);

/* mf_session_parse_insert with the class given rather than looked up from
 * "type" (which, if present, is then not checked): for objects whose class
 * is implied, such as mastering.limiter, and for tests with classes of their
 * own. */
int mf_sess__parse_insert_as(const mf_processor_class_t *cls, const json_t *j, const char *path,
                             const mf_session_t *names, mf_diags_t *d, mf_insert_t *out);

/* Audio file probe: checks that shown (as written, for messages), found at
 * resolved, exists and libsndfile reads it, and fills info. */
int mf_sess__probe_audio(const mf_session_t *s, const char *resolved, const char *shown,
                         const char *path, mf_diags_t *d, int *channels, int *rate,
                         int64_t *frames);
/* The same for a cover image: a JPEG or PNG file. */
int mf_sess__probe_image(const mf_session_t *s, const char *resolved, const char *shown,
                         const char *path, mf_diags_t *d);
/* What a file that is not there may be instead (missing.c): a hint that
 * begins with a space and is said in parentheses, or "". */
void mf_sess__missing_hint(const char *resolved, const char *shown, char *out, size_t n);
/* A path from the document resolved against the session's folder (malloc).
 * Loading from the local file system, a name that is not there but is in
 * another Unicode form (unicode_name.c) resolves to the one on disk. */
char *mf_sess__resolve(const mf_session_t *s, const char *file);
/* rel (components separated by /) under base, each component that is not
 * there replaced by the one entry of its folder that same() matches with
 * it; 1 and the corrected rel in out when every component was found
 * (missing.c). */
int mf_sess__fix_path(const char *base, const char *rel, char *out, size_t n,
                      int (*same)(const char *a, const char *b));
/* Whether two file names are the same text: equal once both are in Unicode
 * normalization form C (unicode_name.c). */
int mf_sess__same_text(const char *a, const char *b);

/* The auxiliary input an insert object j names (its class's aux key), if
 * any: checked like a track's file (audio, mono or stereo, at most the
 * class's max_seconds) and registered in s->aux; ins->aux gets its index. */
int mf_sess__parse_aux(mf_session_t *s, mf_insert_t *ins, const json_t *j, const char *path,
                       mf_diags_t *d);
void mf_sess__aux_fini(mf_session_t *s);

/* Names first: every track's and bus's name (NULL where invalid), with
 * duplicates and the reserved "master" reported, so that any reference can be
 * resolved whatever its position in the document. */
int mf_sess__parse_names(mf_session_t *s, const json_t *jtracks, const json_t *jbuses,
                         mf_diags_t *d);
/* Channels. names must already hold every track and bus name (NULL where
 * invalid) so references resolve. what is "track", "bus" or "master". */
int mf_sess__parse_track(mf_session_t *s, const json_t *j, size_t i, mf_diags_t *d);
int mf_sess__parse_bus(mf_session_t *s, const json_t *j, size_t i, mf_diags_t *d);
int mf_sess__parse_master(mf_session_t *s, const json_t *j, mf_diags_t *d);
void mf_sess__channel_fini(mf_channel_t *ch);
/* Where a track's region ends on the timeline: start_s plus what it plays of
 * its file (trim.length_s, or to the file's end). */
double mf_sess__region_end(const mf_track_t *t);
/* A reference to a name: looks it up and reports "unknown bus" and friends.
 * want_* say which kinds are acceptable. */
mf_ref_t mf_sess__ref(const mf_session_t *s, const json_t *v, const char *path, mf_diags_t *d,
                      int want_track, int want_bus, int want_master, const char *role);

/* Automation of one channel (its inserts and sends already parsed). jsends is
 * the channel's "sends" array as written (NULL when absent). */
int mf_sess__parse_automation(const mf_session_t *s, mf_channel_t *ch, const json_t *j,
                              const json_t *jsends, const char *path, const char *what,
                              mf_diags_t *d);
void mf_sess__automation_fini(mf_automation_t *a);

/* Warns of each frequency of ins (path: where it is written) at or above
 * half of rate, where the processor cannot act as written. */
void mf_sess__check_insert_rate(const mf_insert_t *ins, const char *path, double rate,
                                mf_diags_t *d);

/* Routing: reports every cycle among outputs, sends and sidechains. */
int mf_sess__check_routing(const mf_session_t *s, mf_diags_t *d);

/* Stems, mastering, outputs and metadata. */
int mf_sess__parse_stems(mf_session_t *s, const json_t *j, mf_diags_t *d);
/* A session's mastering may name files (a reverb's "ir", registered in
 * s->aux); an album's (album 1) may not: its inserts run on every song. */
int mf_sess__check_mastering(mf_session_t *s, const json_t *j, mf_diags_t *d, int album);
/* rate: the master's, which an output without its own sample_rate takes. */
int mf_sess__check_outputs(const json_t *j, int rate, mf_diags_t *d);
int mf_sess__check_metadata(const mf_session_t *s, const json_t *j, mf_diags_t *d);

#endif
