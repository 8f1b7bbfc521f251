/* mixfarm diff OLD_OUTDIR NEW_OUTDIR [--json]: what changed between two
 * renders of a session. Tracks and buses are told apart by their tasks'
 * output hashes and their parameters (render.json: an unpanned strip's
 * output stays the same when its fader moves), files by their SHA-256
 * (manifest.json);
 * what differs is measured (files) or derived from the parameters (a
 * fader move is its level change), and everything else is listed as
 * bit-identical. */
#include "mf_analyze.h"
#include "mf_cli.h"
#include "mf_file_name.h"
#include "mf_compare.h"

#include <getopt.h>
#include <math.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *dir;
    json_t *manifest, *render; /* render NULL for a render without render.json */
} outdir_t;

static json_t *s_load(const char *dir, const char *file)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    json_error_t e;
    return json_load_file(path, 0, &e);
}

static const char *s_str(const json_t *o, const char *key)
{
    const char *v = json_string_value(json_object_get(o, key));
    return v ? v : "";
}

/* ---- parameters ---- */

/* An array whose items are all objects (inserts, sends, bands): compared
 * item by item; other arrays (automation points) as one value. */
static int s_objects(const json_t *j)
{
    int objects = json_is_array(j) && json_array_size(j) > 0;
    for (size_t i = 0; objects && i < json_array_size(j); i++)
        objects = json_is_object(json_array_get(j, i));
    return objects;
}

/* No list, or an empty one: holds no items to compare. */
static int s_no_items(const json_t *j)
{
    return !j || (json_is_array(j) && json_array_size(j) == 0);
}

/* Sets out[key] = [a, b] (null for a side that lacks it) for every leaf
 * that differs, keys as written: "gain_db", "inserts[0].ratio",
 * "automation.pan". An item of a list one side lacks (an insert, send or
 * band added or removed) is one entry holding it, not one per key inside. */
static void s_diff_into(const json_t *a, const json_t *b, const char *prefix, json_t *out)
{
    char key[512];
    if ((json_is_object(a) || !a) && (json_is_object(b) || !b) && (a || b)) {
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)a, k, v)
        {
            snprintf(key, sizeof key, "%s%s%s", prefix, prefix[0] ? "." : "", k);
            s_diff_into(v, json_object_get(b, k), key, out);
        }
        json_object_foreach((json_t *)b, k, v) if (!json_object_get(a, k))
        {
            snprintf(key, sizeof key, "%s%s%s", prefix, prefix[0] ? "." : "", k);
            s_diff_into(NULL, v, key, out);
        }
        return;
    }
    /* Items compared one by one, a side without the list holding none. */
    if ((s_objects(a) || s_objects(b)) && (s_objects(a) || s_no_items(a)) &&
        (s_objects(b) || s_no_items(b))) {
        const size_t n =
            json_array_size(a) > json_array_size(b) ? json_array_size(a) : json_array_size(b);
        for (size_t i = 0; i < n; i++) {
            snprintf(key, sizeof key, "%s[%zu]", prefix, i);
            const json_t *x = json_array_get(a, i), *y = json_array_get(b, i);
            if (x && y)
                s_diff_into(x, y, key, out);
            else /* an insert, send or band added or removed: one entry */
                json_object_set_new(out, key,
                                    json_pack("[O,O]", x ? x : json_null(), y ? y : json_null()));
        }
        return;
    }
    if (a && b && json_equal(a, b)) return;
    json_object_set_new(out, prefix, json_pack("[O,O]", a ? a : json_null(), b ? b : json_null()));
}

/* A channel's object with the defaults of docs/session.md filled in. */
static json_t *s_with_defaults(const json_t *o, int track)
{
    json_t *c = o ? json_deep_copy(o) : json_object();
    static const char *const num[] = {"gain_db", "pan", "start_s"};
    for (int i = 0; i < (track ? 3 : 2); i++)
        if (!json_object_get(c, num[i])) json_object_set_new(c, num[i], json_integer(0));
    static const char *const flags[] = {"invert", "mute", "solo"};
    for (int i = 0; i < (track ? 3 : 1); i++)
        if (!json_object_get(c, flags[i])) json_object_set_new(c, flags[i], json_false());
    if (!json_object_get(c, "output") && o) json_object_set_new(c, "output", json_string("master"));
    return c;
}

/* {"key": [old, new]} for every leaf that differs. */
static json_t *s_params(const json_t *a, const json_t *b)
{
    json_t *d = json_object();
    s_diff_into(a, b, "", d);
    return d;
}

/* A fader move is a level change: when gain_db is the only parameter that
 * changed, the level changes by exactly that. */
static double s_param_level(const json_t *params)
{
    const json_t *g = json_object_get(params, "gain_db");
    if (!g || json_object_size(params) != 1) return NAN;
    return mf_json_num(json_array_get(g, 1)) - mf_json_num(json_array_get(g, 0));
}

/* The object named name in doc[list] ("tracks", "buses"), or NULL. */
static const json_t *s_named(const json_t *doc, const char *list, const char *name)
{
    const json_t *a = json_object_get(doc, list);
    for (size_t i = 0; i < json_array_size(a); i++)
        if (!strcmp(s_str(json_array_get(a, i), "name"), name)) return json_array_get(a, i);
    return NULL;
}

/* ---- tasks and files ---- */

static const json_t *s_task(const outdir_t *o, const char *label)
{
    const json_t *t = json_object_get(o->render, "tasks");
    for (size_t i = 0; i < json_array_size(t); i++)
        if (!strcmp(s_str(json_array_get(t, i), "label"), label)) return json_array_get(t, i);
    return NULL;
}

static const char *s_sha(const outdir_t *o, const char *path)
{
    const json_t *f = json_object_get(o->manifest, "files");
    for (size_t i = 0; i < json_array_size(f); i++) {
        const json_t *e = json_array_get(f, i);
        if (!strcmp(s_str(e, "path"), path)) return json_string_value(json_object_get(e, "sha256"));
    }
    return NULL;
}

typedef struct {
    int ok;
    double lufs, rms, band[MF_QC_BANDS];
} level_t;

static level_t s_measure(const char *dir, const char *rel)
{
    level_t l = {0};
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    SF_INFO si = {0};
    SNDFILE *sf = sf_open(path, SFM_READ, &si);
    mf_analyzer_t *a =
        sf && si.channels <= 2
            ? mf_analyzer_new(si.channels, si.samplerate, MF_ANALYZE_LOUDNESS | MF_ANALYZE_SPECTRUM)
            : NULL;
    float *buf = malloc(4096 * 2 * sizeof *buf);
    sf_count_t got;
    int bad = !a || !buf;
    while (!bad && (got = sf_readf_float(sf, buf, 4096)) > 0)
        bad = mf_analyzer_feed(a, buf, (size_t)got) != MF_OK;
    mf_analysis_t r;
    if (!bad && mf_analyzer_finish(a, &r) == MF_OK) {
        l.ok = 1, l.lufs = r.integrated_lufs, l.rms = r.rms_dbfs;
        memcpy(l.band, r.band_db, sizeof l.band);
        mf_analysis_fini(&r);
    }
    mf_analyzer_free(&a);
    free(buf);
    if (sf) sf_close(sf);
    return l;
}

/* ---- the report ---- */

typedef struct {
    const outdir_t *a, *b;
    json_t *changed, *unchanged;
} diff_t;

/* A bit-identical item. moved (taken; NULL or empty: none): the
 * parameters of a channel silent in both renders (muted, or another
 * soloed) that moved, said with a note, so that a revision that changed
 * nothing heard is seen as such. */
static void s_unchanged(diff_t *d, const char *kind, const char *name, json_t *moved)
{
    json_t *o = json_pack("{s:s, s:s}", "kind", kind, "name", name);
    if (json_object_size(moved)) {
        json_object_set(o, "params", moved);
        json_object_set_new(o, "note", json_string("silent in both: muted, or another soloed"));
    }
    json_decref(moved);
    json_array_append_new(d->unchanged, o);
}

/* A changed item; level from the files when given (rel in both), else from
 * the parameters. */
static void s_changed(diff_t *d, const char *kind, const char *name, const char *rel,
                      json_t *params, const char *note)
{
    json_t *o = json_pack("{s:s, s:s}", "kind", kind, "name", name);
    double level = params ? s_param_level(params) : NAN;
    if (rel) {
        level_t x = s_measure(d->a->dir, rel), y = s_measure(d->b->dir, rel);
        if (x.ok && y.ok) {
            level = isfinite(x.lufs) && isfinite(y.lufs) ? y.lufs - x.lufs : y.rms - x.rms;
            json_t *bands = json_array();
            for (int k = 0; k < MF_QC_BANDS; k++)
                json_array_append_new(
                    bands, json_pack("{s:f, s:o, s:o, s:o}", "freq_hz", mf_qc_band_hz(k), "old_db",
                                     mf_json_db(x.band[k]), "new_db", mf_json_db(y.band[k]),
                                     "diff_db", mf_json_db(y.band[k] - x.band[k])));
            json_object_set_new(o, "bands", bands);
        }
    }
    json_object_set_new(o, "level_db", mf_json_db(level));
    json_object_set_new(o, "params", params ? params : json_object());
    if (note) json_object_set_new(o, "note", json_string(note));
    json_array_append_new(d->changed, o);
}

/* Tracks ("strip") or buses ("bus"), by name over both sessions. */
static void s_channels(diff_t *d, const char *list, const char *kind, const char *task)
{
    const json_t *sa = json_object_get(d->a->render, "session");
    const json_t *sb = json_object_get(d->b->render, "session");
    json_t *names = json_array();
    for (int side = 0; side < 2; side++) {
        const json_t *arr = json_object_get(side ? sb : sa, list);
        for (size_t i = 0; i < json_array_size(arr); i++) {
            const char *n = s_str(json_array_get(arr, i), "name");
            int seen = 0;
            for (size_t k = 0; k < json_array_size(names); k++)
                seen |= !strcmp(json_string_value(json_array_get(names, k)), n);
            if (!seen) json_array_append_new(names, json_string(n));
        }
    }
    for (size_t i = 0; i < json_array_size(names); i++) {
        const char *n = json_string_value(json_array_get(names, i));
        char label[512], stem[600];
        snprintf(label, sizeof label, "%s %s", task, n);
        char clean[512];
        snprintf(clean, sizeof clean, "%s", n);
        mf_file_name_clean(clean); /* as the plan names the stem's file */
        snprintf(stem, sizeof stem, "stems/%s.wav", clean);
        const json_t *ta = s_task(d->a, label), *tb = s_task(d->b, label);
        const json_t *oa = s_named(sa, list, n), *ob = s_named(sb, list, n);
        json_t *ca = oa ? s_with_defaults(oa, *list == 't') : NULL;
        json_t *cb = ob ? s_with_defaults(ob, *list == 't') : NULL;
        json_t *params = s_params(ca, cb);
        json_decref(ca), json_decref(cb);
        /* The same output and the same parameters: an unpanned strip's
         * output stays the same when only its fader or pan moves (its bus
         * applies them), so the parameters tell that move apart. */
        const int same_out =
            ta && tb && json_equal(json_object_get(ta, "outputs"), json_object_get(tb, "outputs"));
        /* A file named another way ("./kick.wav", a folder moved) whose
         * audio is the same gives the same output: no change. */
        if (same_out) json_object_del(params, "file");
        if ((same_out && json_object_size(params) == 0) ||
            (!ta && !tb && oa && ob)) { /* or silent in both: muted, or not soloed */
            s_unchanged(d, kind, n, params);
            continue;
        }
        const char *note = !oa   ? "added"
                           : !ob ? "removed"
                           : !ta ? "was silent"
                           : !tb ? "is silent"
                                 : NULL;
        const int has_stem = s_sha(d->a, stem) && s_sha(d->b, stem);
        s_changed(d, kind, n, has_stem && !note ? stem : NULL, params, note);
    }
    json_decref(names);
}

/* What changed in the parameters behind file path, given ctx; NULL: none. */
typedef json_t *(*params_fn)(const diff_t *d, const char *path, const void *ctx);

/* Files of OUTDIR under any of prefixes (NULL-terminated; "stems/",
 * "master/", or exactly "mix.wav"), in manifest order, the prefix taken off
 * their names when strip; params says what changed behind a changed one. */
static void s_files(diff_t *d, const char *const *prefixes, const char *kind, int strip,
                    params_fn params, const void *ctx)
{
    json_t *seen = json_object();
    for (int side = 0; side < 2; side++) {
        const json_t *f = json_object_get((side ? d->b : d->a)->manifest, "files");
        for (size_t i = 0; i < json_array_size(f); i++) {
            const char *p = s_str(json_array_get(f, i), "path");
            size_t k = 0;
            while (prefixes[k] && strncmp(p, prefixes[k], strlen(prefixes[k]))) k++;
            if (!prefixes[k] || json_object_get(seen, p)) continue;
            json_object_set_new(seen, p, json_true());
            char name[512];
            snprintf(name, sizeof name, "%s", strip ? p + strlen(prefixes[k]) : p);
            if (strip && strrchr(name, '.')) *strrchr(name, '.') = 0;
            const char *x = s_sha(d->a, p), *y = s_sha(d->b, p);
            if (x && y && !strcmp(x, y))
                s_unchanged(d, kind, name, NULL);
            else
                s_changed(d, kind, name, x && y ? p : NULL, params ? params(d, p, ctx) : NULL,
                          !x   ? "added"
                          : !y ? "removed"
                               : NULL);
        }
    }
    json_decref(seen);
}

static json_t *s_section_params(const diff_t *d, const char *key)
{
    return s_params(json_object_get(json_object_get(d->a->render, "session"), key),
                    json_object_get(json_object_get(d->b->render, "session"), key));
}

/* params_fn: the changes of the session's section ctx ("master"). */
static json_t *s_section_of(const diff_t *d, const char *path, const void *ctx)
{
    (void)path;
    return s_section_params(d, ctx);
}

/* The mastered signal: the mastering task's output, measured through the
 * first deliverable. */
static void s_master(diff_t *d)
{
    const json_t *ta = s_task(d->a, "mastering"), *tb = s_task(d->b, "mastering");
    if (!ta && !tb) return;
    const json_t *oa = json_array_get(json_object_get(ta, "outputs"), 0);
    const json_t *ob = json_array_get(json_object_get(tb, "outputs"), 0);
    if (oa && ob && json_equal(oa, ob)) {
        s_unchanged(d, "master", "master", NULL);
        return;
    }
    const char *rel = NULL;
    const json_t *f = json_object_get(d->b->manifest, "files");
    for (size_t i = 0; !rel && i < json_array_size(f); i++) {
        const char *p = s_str(json_array_get(f, i), "path");
        if (!strncmp(p, "master/", 7) && s_sha(d->a, p)) rel = p;
    }
    s_changed(d, "master", "master", rel, s_section_params(d, "mastering"),
              !ta   ? "added"
              : !tb ? "removed"
                    : NULL);
}

/* params_fn for an album's files: the mastering's changes, and a song's own
 * entry's (tracks/NN ...) or, for the image, every song's in sequence. */
static json_t *s_album_params(const diff_t *d, const char *p, const void *ctx)
{
    (void)ctx;
    const json_t *ta = json_object_get(json_object_get(d->a->render, "session"), "tracks");
    const json_t *tb = json_object_get(json_object_get(d->b->render, "session"), "tracks");
    json_t *params = s_section_params(d, "mastering");
    const long k = !strncmp(p, "tracks/", 7) ? strtol(p + 7, NULL, 10) - 1 : -1;
    json_t *wa =
        k >= 0 ? json_incref(json_array_get(ta, (size_t)k)) : json_pack("{s:O?}", "tracks", ta);
    json_t *wb =
        k >= 0 ? json_incref(json_array_get(tb, (size_t)k)) : json_pack("{s:O?}", "tracks", tb);
    json_t *own = s_params(wa, wb);
    json_object_update(params, own);
    json_decref(own), json_decref(wa), json_decref(wb);
    return params;
}

/* An album's files (its render.json holds no tracks or buses of its own):
 * each song's under tracks/ ("NN title.ext") and the image's, with
 * s_album_params. It said "0 changed, 1 bit-identical: track " of two
 * different albums. */
static void s_album(diff_t *d)
{
    static const char *const files[] = {"tracks/", "album.", NULL};
    s_files(d, files, "deliverable", 0, s_album_params, NULL);
}

/* " key old -> new; key old -> new" of a params object. */
static void s_print_params(const json_t *params)
{
    const char *k;
    json_t *v;
    const char *sep = " ";
    const size_t fl = JSON_ENCODE_ANY | JSON_COMPACT | JSON_REAL_PRECISION(10);
    json_object_foreach((json_t *)params, k, v)
    {
        char *x = json_dumps(json_array_get(v, 0), fl), *y = json_dumps(json_array_get(v, 1), fl);
        printf("%s%s %s -> %s", sep, k, x ? x : "?", y ? y : "?");
        sep = "; ";
        free(x), free(y);
    }
}

static void s_print(const json_t *r)
{
    const json_t *ch = json_object_get(r, "changed"), *un = json_object_get(r, "unchanged");
    printf("%zu changed, %zu bit-identical\n", json_array_size(ch), json_array_size(un));
    for (size_t i = 0; i < json_array_size(ch); i++) {
        const json_t *c = json_array_get(ch, i);
        const json_t *lv = json_object_get(c, "level_db");
        char level[32] = "";
        if (json_is_number(lv))
            snprintf(level, sizeof level, "level %+.1f dB", json_number_value(lv));
        printf("  %-11s %-24s %-16s", s_str(c, "kind"), s_str(c, "name"), level);
        const char *note = json_string_value(json_object_get(c, "note"));
        if (note) printf(" (%s)", note);
        /* An added or removed one's parameters are all of it (--json has them). */
        const int whole = note && (!strcmp(note, "added") || !strcmp(note, "removed"));
        s_print_params(whole ? NULL : json_object_get(c, "params"));
        putchar('\n');
    }
    for (size_t i = 0; i < json_array_size(un); i++) { /* moved, and not heard */
        const json_t *u = json_array_get(un, i);
        const char *note = json_string_value(json_object_get(u, "note"));
        if (!note) continue;
        printf("  %-11s %-24s %-16s (%s)", s_str(u, "kind"), s_str(u, "name"), "no change", note);
        s_print_params(json_object_get(u, "params"));
        putchar('\n');
    }
    if (json_array_size(un)) printf("bit-identical:");
    for (size_t i = 0; i < json_array_size(un); i++)
        printf("%s %s %s", i ? "," : "", s_str(json_array_get(un, i), "kind"),
               s_str(json_array_get(un, i), "name"));
    if (json_array_size(un)) putchar('\n');
}

int mf_cmd_diff(int argc, char **argv)
{
    static const struct option longs[] = {
        {"json", no_argument, 0, 'j'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    int json = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", longs, NULL)) != -1) {
        if (c == 'j') {
            json = 1;
        } else {
            FILE *out = c == 'h' ? stdout : stderr;
            fprintf(out, "usage: mixfarm diff OLD_OUTDIR NEW_OUTDIR [--json]\n\n"
                         "Says what changed between two renders of a session: every track, bus,\n"
                         "stem, the mix, the master and each deliverable whose audio differs,\n"
                         "with its level, spectral and parameter differences, and what stayed\n"
                         "bit-identical; of an album, each song's files and the image's.\n"
                         "Reads each OUTDIR's manifest.json and render.json.\n\n"
                         "exit codes: 0 done (changed or not), 2 bad usage or not a render\n");
            return c == 'h' ? MF_EXIT_OK : MF_EXIT_USAGE;
        }
    }
    if (argc - optind != 2) {
        fprintf(stderr, "mixfarm: diff: which two renders? (mixfarm diff OLD_OUTDIR NEW_OUTDIR)\n");
        return MF_EXIT_USAGE;
    }
    outdir_t o[2];
    for (int i = 0; i < 2; i++) {
        o[i] = (outdir_t){argv[optind + i], s_load(argv[optind + i], "manifest.json"),
                          s_load(argv[optind + i], "render.json")};
        if (!o[i].manifest)
            fprintf(stderr, "mixfarm: %s: not a render (no readable manifest.json)\n", o[i].dir);
        else if (!o[i].render)
            fprintf(stderr,
                    "mixfarm: %s: warning: no render.json (rendered by an older mixfarm): "
                    "tracks and buses cannot be compared\n",
                    o[i].dir);
    }
    int rc = o[0].manifest && o[1].manifest ? MF_EXIT_OK : MF_EXIT_USAGE;
    /* Renders computed with other arithmetic (docs/farm.md, Determinism)
     * differ in the last bits of every task: said, since then every track
     * looks changed. */
    const char *na = s_str(o[0].render, "numerics"), *nb = s_str(o[1].render, "numerics");
    if (rc == MF_EXIT_OK && na[0] && nb[0] && strcmp(na, nb))
        fprintf(stderr,
                "mixfarm: warning: %s was rendered with %s arithmetic and %s with %s: every "
                "task differs in its last bits, so even unchanged tracks and files differ\n",
                o[0].dir, na, o[1].dir, nb);
    diff_t d = {&o[0], &o[1], json_array(), json_array()};
    const int album = json_object_get(json_object_get(o[0].render, "session"), "album") ||
                      json_object_get(json_object_get(o[1].render, "session"), "album");
    if (rc == MF_EXIT_OK) {
        if (album) {
            s_album(&d);
        } else {
            s_channels(&d, "tracks", "track", "strip");
            s_channels(&d, "buses", "bus", "bus");
            s_files(&d, (const char *const[]){"stems/", NULL}, "stem", 1, NULL, NULL);
            s_files(&d, (const char *const[]){"mix.wav", NULL}, "mix", 0, s_section_of, "master");
            s_master(&d);
            s_files(&d, (const char *const[]){"master/", NULL}, "deliverable", 0, NULL, NULL);
        }
        json_t *r = json_pack("{s:O, s:O}", "changed", d.changed, "unchanged", d.unchanged);
        if (json) {
            json_dumpf(r, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(10));
            putchar('\n');
        } else {
            s_print(r);
        }
        json_decref(r);
    }
    json_decref(d.changed), json_decref(d.unchanged);
    for (int i = 0; i < 2; i++) json_decref(o[i].manifest), json_decref(o[i].render);
    return rc;
}
