/* mixfarm render SESSION -o OUTDIR: validate, plan, run on the embedded
 * farm, write OUTDIR. */
#include "mf_cli.h"
#include "mf_farm.h"
#include "mf_fs.h"
#include "mf_log.h"
#include "mf_outdir.h"
#include "mf_pcm.h"
#include "mf_plan.h"
#include "mf_sched.h"
#include "mf_session.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef struct {
    const char *session, *outdir;
    int workers, quiet;
} render_opts_t;

static void s_help(FILE *out)
{
    fprintf(out,
            "usage: mixfarm render SESSION.json -o OUTDIR [--workers N] [--quiet]\n\n"
            "Renders a session on an embedded farm (a scheduler and N worker threads in\n"
            "this process) and writes into OUTDIR:\n"
            "  mix.wav            the stereo mix (32-bit float)\n"
            "  stems/<name>.wav   one per stem (32-bit float), aligned with the mix\n"
            "  manifest.json      every file with its size, SHA-256, format and duration\n"
            "Each file appears whole or not at all. The session is validated first; every\n"
            "problem is reported (FILE: key: what is wrong) and nothing is written.\n\n"
            "options:\n"
            "  -o, --output DIR   where to write (created if missing)\n"
            "  -w, --workers N    worker threads (default: the number of cores)\n"
            "  -q, --quiet        no progress and no summary\n"
            "  -h, --help         this text\n");
}

static int s_parse(int argc, char **argv, render_opts_t *o)
{
    static const struct option longs[] = {{"output", required_argument, 0, 'o'},
                                           {"workers", required_argument, 0, 'w'},
                                           {"quiet", no_argument, 0, 'q'},
                                           {"coordinator", required_argument, 0, 'c'},
                                           {"help", no_argument, 0, 'h'},
                                           {0, 0, 0, 0}};
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    *o = (render_opts_t){.workers = cores > 0 ? (int)cores : 1};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:w:qh", longs, NULL)) != -1) {
        switch (c) {
        case 'o': o->outdir = optarg; break;
        case 'w':
            if ((o->workers = mf_cli_positive_int(optarg)) < 0) {
                fprintf(stderr, "mixfarm: render: --workers: not a count from 1 to 4096: %s\n",
                        optarg);
                return MF_EXIT_USAGE;
            }
            break;
        case 'q': o->quiet = 1; break;
        case 'c':
            fprintf(stderr, "mixfarm: render: --coordinator: the distributed farm is not in this "
                            "version yet; render without it to use the embedded farm\n");
            return MF_EXIT_USAGE;
        case 'h': s_help(stdout); return MF_EXIT_OK;
        default: s_help(stderr); return MF_EXIT_USAGE;
        }
    }
    if (optind != argc - 1 || !o->outdir) {
        fprintf(stderr, "mixfarm: render: %s\n",
                optind >= argc ? "which session? (mixfarm render SESSION.json -o OUTDIR)"
                : !o->outdir   ? "where to? (-o OUTDIR)"
                               : "one session at a time");
        return MF_EXIT_USAGE;
    }
    o->session = argv[optind];
    return -1; /* go on */
}

typedef struct {
    int show;
    struct timespec t0;
} progress_t;

static double s_since(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) + 1e-9 * (double)(t.tv_nsec - t0->tv_nsec);
}

static void s_progress(const mf_sched_progress_t *p, void *ctx)
{
    progress_t *pr = ctx;
    if (!pr->show) return;
    double frac = p->audio_s_total > 0 ? p->audio_s_done / p->audio_s_total : 1.0;
    double el = s_since(&pr->t0);
    double eta = frac > 0.01 ? el * (1.0 - frac) / frac : 0.0;
    char bar[31];
    int full = (int)(frac * 30.0 + 0.5);
    for (int i = 0; i < 30; i++) bar[i] = i < full ? '#' : '.';
    bar[30] = 0;
    fprintf(stderr, "\r[%s] %zu/%zu tasks, %.1f/%.1f s of audio, ETA %.0f s ", bar,
            p->done + p->failed, p->total, p->audio_s_done, p->audio_s_total, eta);
    if (p->done + p->failed == p->total) fputc('\n', stderr);
}

/* The session's sources become blobs: what the farm reads instead of paths. */
static mf_hash_t *s_ingest(const mf_session_t *s, mf_store_t *store)
{
    mf_hash_t *h = calloc(s->n_tracks + 1, sizeof *h);
    for (size_t i = 0; h && i < s->n_tracks; i++) {
        if (mf_store_put_file(store, s->tracks[i].file, &h[i]) != MF_OK) {
            free(h);
            return NULL;
        }
    }
    return h;
}

/* A stem's file name: its channel name with path separators replaced. */
static char *s_stem_path(const char *name)
{
    size_t n = strlen(name) + 16;
    char *p = malloc(n);
    if (!p) return NULL;
    snprintf(p, n, "stems/%s.wav", name);
    for (char *c = p + 6; *c; c++)
        if (*c == '/' || *c == '\\' || (unsigned char)*c < 32) *c = '_';
    return p;
}

static mf_err_t s_write_outputs(const mf_session_t *s, const mf_plan_t *plan,
                                const mf_sched_t *sched, mf_store_t *store, const char *outdir)
{
    const mf_hash_t *mix = mf_sched_port(sched, plan->mix);
    mf_pcm_info_t info;
    if (!mix || mf_pcm_info(store, mix, &info) != MF_OK) return MF_ERR_TASK;
    int64_t frames = info.start + info.frames; /* the mix starts at 0 on the timeline */
    mf_outdir_t *o = mf_outdir_open(outdir);
    if (!o) return MF_ERR_IO;
    mf_err_t err = mf_outdir_write_signal(o, "mix.wav", store, mix, frames);
    for (size_t i = 0; err == MF_OK && i < plan->n_stems; i++) {
        char *rel = s_stem_path(plan->stems[i].name);
        const mf_hash_t *h = mf_sched_port(sched, plan->stems[i].port);
        err = rel && h ? mf_outdir_write_signal(o, rel, store, h, frames) : MF_ERR_TASK;
        free(rel);
    }
    if (err == MF_OK) err = mf_outdir_commit(o, s->name);
    mf_outdir_free(&o);
    return err;
}

static int s_render(const render_opts_t *o, const mf_session_t *s, mf_store_t *store)
{
    progress_t pr = {.show = !o->quiet && isatty(2)};
    clock_gettime(CLOCK_MONOTONIC, &pr.t0);
    mf_hash_t *sources = s_ingest(s, store);
    mf_plan_t *plan = sources ? mf_plan_session(s, sources) : NULL;
    mf_sched_t *sched = plan ? mf_sched_new(plan, store) : NULL;
    int rc = MF_EXIT_FAILED;
    if (!sched) {
        mf_error("%s: cannot prepare the render", o->session);
        goto done;
    }
    mf_err_t err = mf_farm_run_embedded(sched, store, o->workers, s_progress, &pr);
    if (err != MF_OK) {
        const char *why = mf_sched_error(sched);
        mf_error("%s: render failed: %s", o->session, why ? why : mf_strerror(err));
        goto done;
    }
    if ((err = s_write_outputs(s, plan, sched, store, o->outdir)) != MF_OK) {
        mf_error("%s: writing the outputs failed: %s", o->outdir, mf_strerror(err));
        goto done;
    }
    mf_sched_progress_t p = mf_sched_progress(sched);
    if (!o->quiet)
        printf("mixfarm: rendered \"%s\" into %s/ (mix.wav, %zu stem%s, manifest.json): "
               "%zu tasks (%zu cached) on %d worker%s in %.2f s\n",
               s->name, o->outdir, plan->n_stems, plan->n_stems == 1 ? "" : "s", p.total,
               p.cached, o->workers, o->workers == 1 ? "" : "s", s_since(&pr.t0));
    rc = MF_EXIT_OK;
done:
    mf_sched_free(&sched);
    mf_plan_free(&plan);
    free(sources);
    return rc;
}

int mf_cmd_render(int argc, char **argv)
{
    render_opts_t o;
    int rc = s_parse(argc, argv, &o);
    if (rc >= 0) return rc;
    if (o.quiet) mf_log_init("mixfarm", MF_LOG_WARN);
    mf_diags_t diags;
    mf_diags_init(&diags, o.session);
    mf_session_t *s = mf_session_load(o.session, &diags);
    mf_diags_print(&diags);
    mf_diags_fini(&diags);
    if (!s) return MF_EXIT_USAGE;
    if (s->mastering || s->outputs)
        mf_warn("%s: mastering and deliverables are not in this version yet; writing the mix "
                "and stems only",
                o.session);
    /* An embedded render's blobs live in a private temporary store. */
    const char *tmp = getenv("TMPDIR");
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/mixfarm-render-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    mf_store_t *store = mkdtemp(dir) ? mf_store_open(dir) : NULL;
    if (!store) {
        mf_error("%s: cannot create a temporary blob store", dir);
        rc = MF_EXIT_FAILED;
    } else {
        rc = s_render(&o, s, store);
    }
    mf_store_free(&store);
    mf_fs_remove_tree(dir);
    mf_session_free(&s);
    return rc;
}
