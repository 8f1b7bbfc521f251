/* mixfarm init FOLDER [--force]: a first session.json for a folder of
 * recorded tracks. Every WAV, AIFF and FLAC file (the folder and its
 * subfolders, two levels deep) becomes a track named after its file;
 * tracks are grouped onto buses by name (kick, snare, overheads... ->
 * Drums; bass -> Bass; gtr/guitar -> Guitars; vox/vocal/bv -> Vocals;
 * keys/piano/synth -> Keys; anything else -> Other), each bus is a stem, and
 * what the files are (mono/stereo, rates) is noted in metadata.comment.
 * What a session does not play is muted (a click, a guide or scratch take,
 * a bounce of the mix), and two mono files named as a left and right pair
 * ("OH L", "OH R") are panned hard left and right. */
#include "mf_cli.h"
#include "mf_seen.h"
#include "mf_fs.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#define MAX_FILES 4096

typedef struct {
    char rel[1024]; /* relative to FOLDER */
    char name[256];
    int channels, rate;
    double seconds;
    int bus;
    int muted;      /* a click, a guide, a bounce: kept, not played */
    double pan;     /* -1 or 1 for one side of a left and right pair */
    int stamped;    /* a BWF time reference (bext chunk): where the DAW had it */
    double stamp_s; /* that reference, in seconds since midnight */
    double start_s; /* where it goes on the timeline (s_place) */
} item_t;

typedef struct {
    const char *bus;
    const char *const words[16];
} group_t;

/* Order matters: "bass drum" is a drum, "synth bass" a bass, "lead gtr"
 * a guitar, "lead sax" a horn and "lead" alone a vocal; "contrabass" is a
 * string only because "bass" must start a word. */
static const group_t s_groups[] = {
    {"Drums",
     {"kick", "kik", "snare", "snr", "overhead", "hat", "tom", "drum", "cymbal", "ride", "crash",
      "room", "perc", "shaker", "tamb", "clap"}},
    {"Bass", {"bass", "sub", NULL}},
    {"Guitars", {"gtr", "guitar", NULL}},
    {"Keys", {"key", "piano", "synth", "organ", "rhodes", "wurli", "clav", "pad", NULL}},
    {"Strings", {"string", "violin", "viola", "cello", "vln", "vla", "vlc", "contrabass", NULL}},
    {"Horns",
     {"horn", "brass", "sax", "trumpet", "tpt", "trombone", "tbn", "flugel", "tuba", NULL}},
    {"Vocals",
     {"vox", "vocal", "voc", "voice", "choir", "bv", "bgv", "backing", "harmony", "adlib", "lead",
      NULL}},
    {"Other", {NULL}},
};

/* In a file's name or path: takes a session does not play. */
static const char *const s_unplayed[] = {"click",  "metronome", "guide",     "scratch", "talkback",
                                         "bounce", "mixdown",   "rough mix", "ref mix"};
#define N_GROUPS (sizeof s_groups / sizeof s_groups[0])

/* Whether word starts a word of name: at its start, after what is not a
 * letter, or where a lower-case letter meets a capital ("HiHat"): "tom"
 * is in "Tom 2" and "FloorTom", not in "Bass Bottom". */
static int s_has_word(const char *name, const char *word)
{
    for (const char *p = name; (p = strcasestr(p, word)); p++)
        if (p == name || !isalpha((unsigned char)p[-1]) ||
            (islower((unsigned char)p[-1]) && isupper((unsigned char)p[0])))
            return 1;
    return 0;
}

static int s_group(const char *name)
{
    if (strcasestr(name, "bassdrum") || strcasestr(name, "bass drum")) return 0;
    for (size_t g = 0; g + 1 < N_GROUPS; g++)
        for (size_t w = 0;
             w < sizeof s_groups[g].words / sizeof *s_groups[g].words && s_groups[g].words[w]; w++)
            if (s_has_word(name, s_groups[g].words[w])) return (int)g;
    /* "OH L", "OH R", "HH": overheads and hi-hat, as the two letters alone. */
    if ((!strncasecmp(name, "oh", 2) || !strncasecmp(name, "hh", 2)) &&
        (name[2] == 0 || name[2] == ' ' || name[2] == '_'))
        return 0;
    return (int)N_GROUPS - 1;
}

static int s_unplayed_take(const char *rel)
{
    for (size_t i = 0; i < sizeof s_unplayed / sizeof *s_unplayed; i++)
        if (strcasestr(rel, s_unplayed[i])) return 1;
    return 0;
}

/* The length of name without a left or right marker at its end (" L",
 * "_R", ".Left", "-Rt"...), and which side it names (-1 left, 1 right);
 * 0 when it names none. */
static int s_side(const char *name, size_t *base)
{
    static const struct {
        const char *m;
        int side;
    } marks[] = {{"l", -1}, {"r", 1}, {"left", -1}, {"right", 1}, {"lt", -1}, {"rt", 1}};
    const size_t n = strlen(name);
    for (size_t k = 0; k < sizeof marks / sizeof *marks; k++) {
        const size_t m = strlen(marks[k].m);
        if (n < m + 2 || strcasecmp(name + n - m, marks[k].m)) continue;
        if (!strchr(" _.-", name[n - m - 1])) continue;
        *base = n - m - 1;
        return marks[k].side;
    }
    return 0;
}

/* Mono files whose names differ only by their left and right markers, at
 * one rate, are panned to their sides. */
static void s_pairs(item_t *it, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        size_t bi, bj;
        const int si = s_side(it[i].name, &bi);
        if (si != -1 || it[i].channels != 1) continue;
        for (size_t j = 0; j < n; j++) {
            if (it[j].channels != 1 || it[j].rate != it[i].rate || s_side(it[j].name, &bj) != 1 ||
                bi != bj || strncasecmp(it[i].name, it[j].name, bi))
                continue;
            it[i].pan = -1.0, it[j].pan = 1.0;
            break;
        }
    }
}

static int s_audio_ext(const char *f)
{
    const char *e = strrchr(f, '.');
    static const char *const ok[] = {".wav", ".wave", ".aif", ".aiff", ".flac", ".aifc"};
    for (size_t i = 0; e && i < sizeof ok / sizeof ok[0]; i++)
        if (!strcasecmp(e, ok[i])) return 1;
    return 0;
}

static int s_cmp(const void *a, const void *b)
{
    return strcmp(((const item_t *)a)->rel, ((const item_t *)b)->rel);
}

/* Whether dir holds a mixfarm render (its manifest.json says "mixfarm"):
 * a render into the project's folder (-o out) is not a recording; scanned,
 * its mix, stems and listening copies came back as tracks. */
static int s_is_render(const char *dir)
{
    char path[5300];
    snprintf(path, sizeof path, "%s/manifest.json", dir);
    json_t *m = json_load_file(path, 0, NULL);
    const int yes = json_object_get(m, "mixfarm") && json_object_get(m, "files");
    json_decref(m);
    return yes;
}

typedef struct {
    item_t *it;
    size_t n;
    mf_seen_t seen; /* folders and files met (a link leads back) */
} scan_t;

/* Names in byte order: the same scan, and the same name kept of two
 * links to one file, on every file system. */
static int s_by_name(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

static void s_scan(const char *root, const char *sub, int depth, scan_t *sc)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s%s%s", root, sub[0] ? "/" : "", sub);
    struct dirent **list = NULL;
    const int count = scandir(dir, &list, NULL, s_by_name);
    for (int k = 0; k < count; free(list[k++])) {
        const struct dirent *e = list[k];
        if (e->d_name[0] == '.' || sc->n >= MAX_FILES) continue;
        char rel[1024], full[5200];
        snprintf(rel, sizeof rel, "%s%s%s", sub, sub[0] ? "/" : "", e->d_name);
        snprintf(full, sizeof full, "%s/%s", root, rel);
        struct stat st;
        if (stat(full, &st) != 0) continue;
        if ((S_ISDIR(st.st_mode) || S_ISREG(st.st_mode)) && mf_seen(&sc->seen, &st)) {
            fprintf(stderr, "mixfarm: %s: met before under another name (a link), left out\n",
                    full);
            continue;
        }
        if (S_ISDIR(st.st_mode)) {
            if (depth < 2 && s_is_render(full))
                fprintf(stderr, "mixfarm: %s: a mixfarm render's output, left out\n", full);
            else if (depth < 2)
                s_scan(root, rel, depth + 1, sc);
            continue;
        }
        if (!S_ISREG(st.st_mode) || !s_audio_ext(e->d_name)) continue;
        SF_INFO si = {0};
        SNDFILE *sf = sf_open(full, SFM_READ, &si);
        if (!sf) {
            fprintf(stderr, "mixfarm: %s: warning: not read (%s), left out\n", full,
                    st.st_size == 0 ? "an empty file" : sf_strerror(NULL));
            continue;
        }
        SF_BROADCAST_INFO bi;
        memset(&bi, 0, sizeof bi);
        const int stamped =
            si.samplerate > 0 && sf_command(sf, SFC_GET_BROADCAST_INFO, &bi, sizeof bi) == SF_TRUE;
        sf_close(sf);
        if (si.channels < 1 || si.channels > 2 || si.samplerate <= 0) {
            fprintf(stderr,
                    "mixfarm: %s: warning: %d channels, left out (tracks are mono or "
                    "stereo)\n",
                    full, si.channels);
            continue;
        }
        item_t *t = &sc->it[sc->n++];
        snprintf(t->rel, sizeof t->rel, "%s", rel);
        t->muted = s_unplayed_take(rel);
        t->channels = si.channels, t->rate = si.samplerate;
        t->seconds = (double)si.frames / si.samplerate;
        /* The sample count since midnight at which the file starts, at its
         * own rate (EBU Tech 3285). */
        t->stamped = stamped;
        t->stamp_s =
            stamped ? (double)(((uint64_t)bi.time_reference_high << 32) | bi.time_reference_low) /
                          si.samplerate
                    : 0;
    }
    free(list);
}

/* Files a DAW exported as regions carry where each began (BWF): they go on
 * the timeline as they were, the earliest at 0. Files without a stamp, or
 * all stamped alike (exports from the session's start), start at 0. Returns
 * how many were placed later than 0. */
static size_t s_place(item_t *it, size_t n)
{
    double first = INFINITY;
    for (size_t i = 0; i < n; i++)
        if (it[i].stamped) first = fmin(first, it[i].stamp_s);
    size_t moved = 0;
    for (size_t i = 0; i < n; i++) {
        /* To the microsecond: a sample at 192 kHz is 5.2 us. */
        it[i].start_s = it[i].stamped ? round((it[i].stamp_s - first) * 1e6) / 1e6 : 0;
        moved += it[i].start_s > 0;
    }
    return moved;
}

/* Track names from file names, unique, "master" avoided (it is reserved). */
static void s_names(item_t *it, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const char *base = strrchr(it[i].rel, '/') ? strrchr(it[i].rel, '/') + 1 : it[i].rel;
        /* A file name longer than a track name is cut (the name is only a label). */
        size_t len = strnlen(base, sizeof it[i].name - 1);
        memcpy(it[i].name, base, len);
        it[i].name[len] = 0;
        char *dot = strrchr(it[i].name, '.');
        if (dot && dot != it[i].name) *dot = 0;
        for (size_t g = 0; g < N_GROUPS; g++) /* a track may not take a bus's name */
            if (!strcasecmp(it[i].name, s_groups[g].bus) || !strcasecmp(it[i].name, "master"))
                snprintf(it[i].name + strlen(it[i].name), sizeof it[i].name - strlen(it[i].name),
                         " track");
        char want[256];
        snprintf(want, sizeof want, "%s", it[i].name);
        for (int k = 2;; k++) {
            int clash = 0;
            for (size_t j = 0; j < i; j++) clash |= !strcmp(it[j].name, it[i].name);
            if (!clash) break;
            snprintf(it[i].name, sizeof it[i].name, "%.240s %d", want, k);
        }
        it[i].bus = s_group(it[i].name);
    }
}

/* The session's rate (files at others are resampled): the most common of
 * the studio rates (44.1 kHz and up) among the files, the higher on a tie;
 * a lower rate only when every file is below 44.1 kHz. Two phone memos at
 * 8 kHz must not bring a session's 96 kHz overheads down to a 4 kHz band. */
static int s_rate(const item_t *it, size_t n)
{
    int best = it[0].rate, best_n = 0, best_studio = 0;
    for (size_t i = 0; i < n; i++) {
        int c = 0;
        for (size_t j = 0; j < n; j++) c += it[j].rate == it[i].rate;
        const int studio = it[i].rate >= 44100;
        if (studio > best_studio ||
            (studio == best_studio && (c > best_n || (c == best_n && it[i].rate > best))))
            best = it[i].rate, best_n = c, best_studio = studio;
    }
    return best;
}

static json_t *s_session(const char *name, const item_t *it, size_t n, int rate)
{
    json_t *tracks = json_array(), *buses = json_array(), *stems = json_array();
    size_t mono = 0, other_rate = 0;
    size_t muted = 0, paired = 0;
    for (size_t i = 0; i < n; i++) {
        mono += it[i].channels == 1, other_rate += it[i].rate != rate;
        muted += it[i].muted != 0, paired += it[i].pan != 0;
        json_t *t = json_pack("{s:s, s:s, s:s}", "name", it[i].name, "file", it[i].rel, "output",
                              s_groups[it[i].bus].bus);
        if (it[i].start_s > 0) json_object_set_new(t, "start_s", json_real(it[i].start_s));
        if (it[i].pan != 0) json_object_set_new(t, "pan", json_real(it[i].pan));
        if (it[i].muted) json_object_set_new(t, "mute", json_true());
        json_array_append_new(tracks, t);
    }
    for (size_t g = 0; g < N_GROUPS; g++) {
        int used = 0;
        for (size_t i = 0; i < n; i++) used |= it[i].bus == (int)g;
        if (!used) continue;
        json_array_append_new(buses,
                              json_pack("{s:s, s:s}", "name", s_groups[g].bus, "output", "master"));
        json_array_append_new(stems, json_string(s_groups[g].bus));
    }
    char note[1024];
    int k =
        snprintf(note, sizeof note,
                 "made by mixfarm init from %zu files: %zu mono, %zu stereo; session rate %d Hz", n,
                 mono, n - mono, rate);
    if (other_rate) {
        k += snprintf(note + k, sizeof note - (size_t)k, "; resampled from another rate:");
        for (size_t i = 0; i < n && k < (int)sizeof note - 80; i++)
            if (it[i].rate != rate)
                k += snprintf(note + k, sizeof note - (size_t)k, " %s (%d Hz)", it[i].name,
                              it[i].rate);
    }
    if (muted) {
        k += snprintf(note + k, sizeof note - (size_t)k,
                      "; muted (a click, a guide or a bounce; unmute to play):");
        for (size_t i = 0; i < n && k < (int)sizeof note - 80; i++)
            if (it[i].muted)
                k += snprintf(note + k, sizeof note - (size_t)k, "%s \"%s\"",
                              k && note[k - 1] == ':' ? "" : ",", it[i].name);
    }
    if (paired)
        k += snprintf(note + k, sizeof note - (size_t)k,
                      "; %zu mono files panned as left and right pairs", paired);
    size_t placed = 0;
    for (size_t i = 0; i < n; i++) placed += it[i].start_s > 0;
    if (placed)
        k += snprintf(note + k, sizeof note - (size_t)k,
                      "; %zu files placed later by their BWF time stamps, as the DAW had them",
                      placed);
    return json_pack("{s:i, s:s, s:i, s:o, s:o, s:{s:[]}, s:o, s:{s:s}}", "mixfarm", 1, "name",
                     name, "sample_rate", rate, "tracks", tracks, "buses", buses, "master",
                     "inserts", "stems", stems, "metadata", "comment", note);
}

int mf_cmd_init(int argc, char **argv)
{
    static const struct option longs[] = {
        {"force", no_argument, 0, 'f'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    int force = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "fh", longs, NULL)) != -1) {
        if (c == 'f') {
            force = 1;
            continue;
        }
        FILE *out = c == 'h' ? stdout : stderr;
        fprintf(out,
                "usage: mixfarm init FOLDER [--force]\n\n"
                "Writes FOLDER/session.json for the recorded tracks in FOLDER (WAV, AIFF,\n"
                "FLAC; subfolders two levels deep): one track per file, named after it,\n"
                "on buses by name (kick, snare, overheads, hat, tom, perc -> Drums; bass ->\n"
                "Bass; gtr, guitar -> Guitars; keys, piano, synth -> Keys; vox, vocal, bv ->\n"
                "Vocals; anything else -> Other), one stem per bus. A click, a guide or\n"
                "scratch take and a bounce of the mix are muted; two mono files named as a\n"
                "pair (\"OH L\", \"OH R\") are panned left and right. Files a DAW exported\n"
                "with BWF time stamps start where they were in it (the earliest at 0).\n"
                "A subfolder holding a mixfarm render (FOLDER/out) is left out.\n"
                "It renders as it is:\n"
                "  mixfarm render FOLDER/session.json -o FOLDER/out\n\n"
                "options:\n"
                "  -f, --force   replace an existing session.json\n"
                "  -h, --help    this text\n\n"
                "exit codes: 0 written, 2 bad usage, no audio files, or session.json exists\n");
        return c == 'h' ? MF_EXIT_OK : MF_EXIT_USAGE;
    }
    if (argc - optind != 1) {
        fprintf(stderr, "mixfarm: init: which folder? (mixfarm init FOLDER)\n");
        return MF_EXIT_USAGE;
    }
    const char *dir = argv[optind];
    char path[4096];
    snprintf(path, sizeof path, "%s/session.json", dir);
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        fprintf(stderr, "mixfarm: %s: not a folder\n", dir);
        return MF_EXIT_USAGE;
    }
    if (!force && stat(path, &st) == 0) {
        fprintf(stderr, "mixfarm: %s: exists; not replaced (--force replaces it)\n", path);
        return MF_EXIT_USAGE;
    }
    item_t *it = calloc(MAX_FILES, sizeof *it);
    scan_t sc = {.it = it};
    if (!it || stat(dir, &st) != 0) {
        free(it);
        return MF_EXIT_FAILED;
    }
    mf_seen(&sc.seen, &st); /* the folder itself: a link back to it is not scanned again */
    s_scan(dir, "", 0, &sc);
    mf_seen_fini(&sc.seen);
    size_t n = sc.n;
    if (!n) {
        fprintf(stderr, "mixfarm: %s: no WAV, AIFF or FLAC files\n", dir);
        free(it);
        return MF_EXIT_USAGE;
    }
    qsort(it, n, sizeof *it, s_cmp);
    s_names(it, n);
    s_pairs(it, n);
    const size_t placed = s_place(it, n);
    char real[4096];
    const char *base = realpath(dir, real) ? real : dir;
    base = strrchr(base, '/') && strrchr(base, '/')[1] ? strrchr(base, '/') + 1 : base;
    const int rate = s_rate(it, n);
    json_t *doc = s_session(base, it, n, rate);
    char *text = doc ? json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
    json_decref(doc);
    size_t len = text ? strlen(text) : 0;
    char *t2 = text ? realloc(text, len + 2) : NULL;
    if (t2) text = t2, text[len] = '\n', text[len + 1] = 0;
    int rc = MF_EXIT_OK;
    if (!t2 || mf_fs_write_atomic(path, text, len + 1) != MF_OK) {
        fprintf(stderr, "mixfarm: %s: cannot write: %s\n", path, strerror(errno));
        rc = MF_EXIT_USAGE;
    } else {
        printf("mixfarm: wrote %s: %zu tracks at %d Hz", path, n, rate);
        if (placed) printf(", %zu placed by their BWF time stamps", placed);
        printf("\n");
        for (size_t i = 0; i < n; i++)
            printf("  %-24s %-8s %-6s %6d Hz %8.1f s  at %7.2f s  %-6s %s\n", it[i].name,
                   s_groups[it[i].bus].bus, it[i].channels == 1 ? "mono" : "stereo", it[i].rate,
                   it[i].seconds, it[i].start_s,
                   it[i].muted     ? "muted"
                   : it[i].pan < 0 ? "left"
                   : it[i].pan > 0 ? "right"
                                   : "",
                   it[i].rel);
    }
    free(text);
    free(it);
    return rc;
}
