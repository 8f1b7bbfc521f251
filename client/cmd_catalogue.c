/* mixfarm catalogue LIST_OR_FOLDER: re-render a catalogue (catalogue.h). */
#include "catalogue.h"
#include "mf_log.h"
#include "mf_seen.h"

#include <dirent.h>
#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char s_help[] =
    "usage: mixfarm catalogue LIST_OR_FOLDER --coordinator ENDPOINT [--priority P]\n"
    "                         [--report FILE] [--state FILE] [-o OUTDIR] [--retry-failed]\n"
    "                         [--no-wait] [--poll SECONDS]\n\n"
    "Submits every session of a catalogue as one batch at a low priority (default -10:\n"
    "interactive work, at priority 0, runs first), follows the jobs to their end and\n"
    "reports what was done and what failed, and why.\n\n"
    "LIST_OR_FOLDER is a text file with one session path per line (relative to the\n"
    "file; blank lines and lines starting with # are skipped), or a folder searched\n"
    "(with its subfolders) for *.json session and album files; a session that an\n"
    "album of the folder names as a song is rendered with the album, not on its own.\n"
    "An album is one job: its songs, album master, tracks and image (SESSION.md).\n\n"
    "The submitted job ids are kept in a state file (default LIST.catalogue-state.json,\n"
    "or FOLDER/.mixfarm-catalogue-state.json), so running the same command again after\n"
    "any interruption or restart resumes: sessions already done are skipped, queued or\n"
    "running ones are followed, failed ones are left alone unless --retry-failed.\n\n"
    "options:\n"
    "  -c, --coordinator EP   the coordinator (or MIXFARM_COORDINATOR)\n"
    "  -p, --priority P       the batch's priority (default -10; higher runs first)\n"
    "  -r, --report FILE      also write the report as JSON to FILE and as a table to\n"
    "                         FILE.txt (the table is printed either way)\n"
    "  -s, --state FILE       where to keep the job ids\n"
    "  -o, --output OUTDIR    fetch each finished session into OUTDIR/<its path\n"
    "                         without .json>/; a master failing QC is reported\n"
    "      --retry-failed     submit again the sessions that failed last time\n"
    "      --no-wait          submit and report, without waiting for the jobs\n"
    "      --poll SECONDS     how often to ask the coordinator (default 1)\n\n"
    "exit codes: 0 every session done, 1 some failed or are unfinished (or, with -o,\n"
    "            a master failed its QC), 2 bad usage, 3 the coordinator could not be\n"
    "            reached (run it again to resume)\n";

typedef struct {
    char **paths;
    size_t n, cap;
} list_t;

static int s_push(list_t *l, const char *path)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        char **p = realloc(l->paths, cap * sizeof *p);
        if (!p) return -1;
        l->paths = p;
        l->cap = cap;
    }
    if (!(l->paths[l->n] = strdup(path))) return -1;
    l->n++;
    return 0;
}

/* A .json file whose top level has "tracks": a session (or an album). */
static int s_is_session(const char *path)
{
    json_t *doc = json_load_file(path, 0, NULL);
    int yes = json_is_array(json_object_get(doc, "tracks"));
    json_decref(doc);
    return yes;
}

/* Sessions under dir; seen: the folders and files met, so that a link back
 * up the tree is not walked again, eight folders deep (a few such links
 * made the walk exponential). */
static void s_scan(list_t *l, const char *dir, int depth, mf_seen_t *seen)
{
    struct dirent **names;
    int n = scandir(dir, &names, NULL, alphasort);
    for (int i = 0; i < n; i++) {
        const char *name = names[i]->d_name;
        char path[PATH_MAX];
        struct stat st;
        size_t len = strlen(name);
        if (name[0] != '.' &&
            (size_t)snprintf(path, sizeof path, "%s/%s", dir, name) < sizeof path &&
            stat(path, &st) == 0 && !mf_seen(seen, &st)) {
            if (S_ISDIR(st.st_mode) && depth < 8)
                s_scan(l, path, depth + 1, seen);
            else if (S_ISREG(st.st_mode) && len > 5 && !strcmp(name + len - 5, ".json") &&
                     s_is_session(path))
                s_push(l, path);
        }
        free(names[i]);
    }
    if (n >= 0) free(names);
}

static int s_read_list(list_t *l, const char *file, const char *base)
{
    FILE *f = fopen(file, "r");
    if (!f) return -1;
    char line[PATH_MAX], path[PATH_MAX * 2];
    while (fgets(line, sizeof line, f)) {
        char *p = line, *end = line + strcspn(line, "\r\n");
        *end = 0;
        while (*p == ' ' || *p == '\t') p++;
        while (end > p && (end[-1] == ' ' || end[-1] == '\t')) *--end = 0;
        if (!*p || *p == '#') continue;
        snprintf(path, sizeof path, "%s%s%s", *p == '/' ? "" : base, *p == '/' ? "" : "/", p);
        s_push(l, path);
    }
    fclose(f);
    return 0;
}

/* Drops entry i (its strings freed), keeping the others in order. */
static void s_drop(catalogue_t *cat, size_t i)
{
    free(cat->e[i].path);
    free(cat->e[i].rel);
    memmove(&cat->e[i], &cat->e[i + 1], (cat->n - i - 1) * sizeof *cat->e);
    cat->n--;
}

/* Keeps the first of entries with the same path (a list may name a
 * session twice, or through a link). */
static int s_dedupe(catalogue_t *cat)
{
    if (mf_cat_index(cat) != 0) return -1;
    char *dup = calloc(cat->n + 1, 1);
    if (!dup) return -1;
    for (size_t k = 1; k < cat->n; k++) /* equal paths are neighbours, the first first */
        dup[cat->by_path[k]] =
            !strcmp(cat->e[cat->by_path[k]].path, cat->e[cat->by_path[k - 1]].path);
    for (size_t i = cat->n; i-- > 0;)
        if (dup[i]) s_drop(cat, i);
    free(dup);
    return mf_cat_index(cat);
}

/* In a folder, a session that an album of the catalogue names as a song
 * is rendered as part of that album's job: not on its own as well, which
 * would render it twice and deliver it as a single. */
static int s_drop_album_songs(catalogue_t *cat)
{
    char *song = calloc(cat->n + 1, 1);
    if (!song) return -1;
    for (size_t i = 0; i < cat->n; i++) {
        if (!mf_album_is_album(cat->e[i].path)) continue;
        json_t *doc = json_load_file(cat->e[i].path, 0, NULL);
        json_t *tracks = json_object_get(doc, "tracks");
        char dir[PATH_MAX], path[PATH_MAX * 2], full[PATH_MAX];
        snprintf(dir, sizeof dir, "%s", cat->e[i].path);
        *strrchr(dir, '/') = 0; /* paths are absolute */
        for (size_t k = 0; k < json_array_size(tracks); k++) {
            const char *f =
                json_string_value(json_object_get(json_array_get(tracks, k), "session"));
            if (!f) continue;
            snprintf(path, sizeof path, "%s%s%s", *f == '/' ? "" : dir, *f == '/' ? "" : "/", f);
            cat_entry_t *e = realpath(path, full) ? mf_cat_find(cat, full) : NULL;
            if (!e || song[e - cat->e]) continue;
            song[e - cat->e] = 1;
            mf_info("catalogue: %s: a song of %s, rendered with it", e->rel, cat->e[i].rel);
        }
        json_decref(doc);
    }
    for (size_t i = cat->n; i-- > 0;)
        if (song[i]) s_drop(cat, i);
    free(song);
    return mf_cat_index(cat);
}

/* The catalogue's sessions, with absolute and relative names. */
static int s_collect(catalogue_t *cat, const char *arg, int is_dir, char *root, size_t rn)
{
    list_t l = {0};
    char abs[PATH_MAX];
    if (!realpath(arg, abs)) return -1;
    if (is_dir) {
        snprintf(root, rn, "%s", abs);
        mf_seen_t seen = {0};
        struct stat st;
        if (stat(abs, &st) == 0) mf_seen(&seen, &st);
        s_scan(&l, abs, 0, &seen);
        mf_seen_fini(&seen);
    } else {
        snprintf(root, rn, "%s", abs);
        char *slash = strrchr(root, '/');
        if (slash) *slash = 0;
        if (s_read_list(&l, abs, root) != 0) return -1;
    }
    cat->e = calloc(l.n + 1, sizeof *cat->e);
    for (size_t i = 0; cat->e && i < l.n; i++) {
        cat_entry_t *e = &cat->e[cat->n++];
        char full[PATH_MAX];
        e->path = strdup(realpath(l.paths[i], full) ? full : l.paths[i]);
        size_t rl = strlen(root);
        const char *rel = !strncmp(e->path, root, rl) && e->path[rl] == '/'
                              ? e->path + rl + 1
                              : strrchr(e->path, '/') + 1;
        e->rel = strdup(rel);
        snprintf(e->state, sizeof e->state, "pending");
    }
    for (size_t i = 0; i < l.n; i++) free(l.paths[i]);
    free(l.paths);
    if (!cat->e || s_dedupe(cat) != 0) return -1;
    return is_dir ? s_drop_album_songs(cat) : 0;
}

int mf_cmd_catalogue(int argc, char **argv)
{
    enum { O_RETRY = 256, O_NOWAIT, O_POLL };
    static const struct option longs[] = {{"coordinator", required_argument, 0, 'c'},
                                          {"priority", required_argument, 0, 'p'},
                                          {"report", required_argument, 0, 'r'},
                                          {"state", required_argument, 0, 's'},
                                          {"output", required_argument, 0, 'o'},
                                          {"retry-failed", no_argument, 0, O_RETRY},
                                          {"no-wait", no_argument, 0, O_NOWAIT},
                                          {"poll", required_argument, 0, O_POLL},
                                          {"help", no_argument, 0, 'h'},
                                          {0, 0, 0, 0}};
    catalogue_t cat = {.priority = -10, .wait = 1, .poll_s = 1.0, .log_fd = -1, .lock_fd = -1};
    optind = 1;
    for (int c; (c = getopt_long(argc, argv, "c:p:r:s:o:h", longs, NULL)) != -1;) {
        char *end = NULL;
        switch (c) {
        case 'c':
            cat.coordinator = optarg;
            break;
        case 'r':
            cat.report = optarg;
            break;
        case 's':
            cat.state_path = optarg;
            break;
        case 'o':
            cat.outdir = optarg;
            break;
        case O_RETRY:
            cat.retry_failed = 1;
            break;
        case O_NOWAIT:
            cat.wait = 0;
            break;
        case 'h':
            fputs(s_help, stdout);
            return MF_EXIT_OK;
        case 'p': {
            long p = strtol(optarg, &end, 10);
            if (*end || p < -1000000 || p > 1000000) {
                fprintf(stderr, "mixfarm: --priority: not an integer: %s\n", optarg);
                return MF_EXIT_USAGE;
            }
            cat.priority = (int)p;
            break;
        }
        case O_POLL:
            cat.poll_s = strtod(optarg, &end);
            if (*end || !(cat.poll_s >= 0.05 && cat.poll_s <= 3600)) {
                fprintf(stderr, "mixfarm: --poll: not a number of seconds: %s\n", optarg);
                return MF_EXIT_USAGE;
            }
            break;
        default:
            fprintf(stderr, "usage: see mixfarm catalogue --help\n");
            return MF_EXIT_USAGE;
        }
    }
    if (optind + 1 != argc) {
        fprintf(stderr, "usage: mixfarm catalogue LIST_OR_FOLDER --coordinator ENDPOINT "
                        "[--priority P] [--report FILE]\n");
        return MF_EXIT_USAGE;
    }
    const char *arg = argv[optind];
    /* The report is written at the end, after hours of work. */
    if (cat.report && mf_cli_cannot_make(cat.report)) {
        fprintf(stderr, "mixfarm: --report %s: its folder does not exist or cannot be written\n",
                cat.report);
        return MF_EXIT_USAGE;
    }
    if (!cat.coordinator) cat.coordinator = getenv("MIXFARM_COORDINATOR");
    struct stat st;
    if (stat(arg, &st) != 0) {
        fprintf(stderr, "mixfarm: %s: no such file or folder\n", arg);
        return MF_EXIT_USAGE;
    }
    char root[PATH_MAX], state[PATH_MAX + 64];
    int rc = MF_EXIT_USAGE;
    if (s_collect(&cat, arg, S_ISDIR(st.st_mode), root, sizeof root) != 0 || cat.n == 0) {
        fprintf(stderr, "mixfarm: %s: no sessions found\n", arg);
        goto done;
    }
    if (!cat.state_path) {
        if (S_ISDIR(st.st_mode))
            snprintf(state, sizeof state, "%s/.mixfarm-catalogue-state.json", root);
        else
            snprintf(state, sizeof state, "%s.catalogue-state.json", arg);
        cat.state_path = state;
    }
    if (mf_cat_lock(&cat) != 0 || mf_cat_load_state(&cat) != 0) goto done;
    /* Written before anything is submitted: job ids that could not be
     * kept would be submitted again by the next run, every one. */
    if (mf_cat_save_state(&cat) != 0) {
        fprintf(stderr,
                "mixfarm: %s: the catalogue's job ids cannot be kept there; give "
                "--state FILE in a folder you may write to\n",
                cat.state_path);
        goto done;
    }
    mf_conn_t conn;
    if ((rc = mf_conn_remote(&conn, cat.coordinator)) >= 0) goto done;
    mf_info("catalogue: %zu sessions, priority %d, state in %s", cat.n, cat.priority,
            cat.state_path);
    rc = mf_cat_run(&cat, &conn);
    if (rc == MF_EXIT_UNREACHABLE)
        mf_error("%s: the coordinator could not be reached; run the same command again to "
                 "resume",
                 cat.coordinator);
    mf_conn_close(&conn);
    int rep = mf_cat_report(&cat, cat.report);
    if (rc == MF_EXIT_OK) rc = cat.wait ? rep : MF_EXIT_OK;
done:
    mf_cat_free(&cat);
    return rc;
}
