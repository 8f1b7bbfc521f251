/* Watching a job to its end, and fetching its outputs into OUTDIR through
 * the same writer an embedded render uses. */
#include "client_internal.h"
#include "client_ref.h"
#include "mf_blob_json.h"
#include "mf_log.h"
#include "mf_parallel.h"
#include "mf_prev.h"
#include "mf_recent.h"
#include "mf_outdir.h"
#include "mf_xfer.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define POLL_MS 20
#define WAIT_MS 500  /* a status held at the coordinator until the job changes */
#define MIN_ASK_MS 5 /* status questions at most this often */
#define FETCH_TIMEOUT_MS 30000
#define RETURN_WAIT_MS 120000 /* a restarted coordinator's time to come back */

/* The job's status; with wait_ms, once it differs from seen (tasks done +
 * failed) or ends, or wait_ms later (a coordinator that can wait). */
static mf_err_t s_status(mf_client_t *c, uint64_t job, uint32_t wait_ms, uint32_t seen,
                         Mixfarm__Envelope **rep)
{
    Mixfarm__StatusRequest st = MIXFARM__STATUS_REQUEST__INIT;
    st.job = job;
    st.wait_ms = wait_ms;
    st.seen = seen;
    Mixfarm__Envelope req = MIXFARM__ENVELOPE__INIT;
    req.body_case = MIXFARM__ENVELOPE__BODY_STATUS;
    req.status = &st;
    return mf_client_call(c, &req, MIXFARM__ENVELOPE__BODY_STATUS_REPLY, rep);
}

static void s_draw(const Mixfarm__JobStatus *j)
{
    double frac = j->audio_s_total > 0 ? j->audio_s_done / j->audio_s_total : 0;
    char bar[31];
    int full = (int)(frac * 30.0 + 0.5);
    for (int i = 0; i < 30; i++) bar[i] = i < full ? '#' : '.';
    bar[30] = 0;
    /* Before any task is done there is no rate to tell the end by. */
    char eta[32] = "ETA -  ";
    if (j->tasks_done > 0) snprintf(eta, sizeof eta, "ETA %.0f s", j->eta_s);
    fprintf(stderr, "\r[%s] %u/%u tasks, %.1f/%.1f s of audio, %s ", bar,
            j->tasks_done + j->tasks_failed, j->tasks_total, j->audio_s_done, j->audio_s_total,
            eta);
}

/* The length of "source " followed by this many hex digits: how a task
 * names the blob of a source file whose content is wrong (worker/). */
#define SOURCE_HEX 12

/* A job that failed for want of disk space: where, and what to do. An
 * embedded farm works in a temporary folder (TMPDIR, /tmp by default,
 * often a small tmpfs) that a long session can fill. */
static void s_say_where_full(const mf_client_t *c)
{
    const mf_store_t *s = mf_client__store(c);
    if (mf_client__farm_store(c) && s)
        mf_error("the render works in %s, whose disk is full: point TMPDIR at a disk with room "
                 "(or give --state a folder on one)",
                 mf_store_dir(s));
    else
        mf_error("a disk of the farm is full (the coordinator's --state or a worker's cache): "
                 "their logs say which");
}

/* A job that failed because of a source file this client sent: the error
 * names the file as its document writes it, and it is bad input (exit 2).
 * Any other failure is reported as the coordinator put it. */
static mf_err_t s_report_failure(const mf_client_t *c, uint64_t job, const char *error)
{
    for (const char *at = strstr(error, "source "); at; at = strstr(at + 1, "source ")) {
        const char *hex = at + 7, *doc = NULL;
        if (strspn(hex, "0123456789abcdef") < SOURCE_HEX || strncmp(hex + SOURCE_HEX, ": ", 2))
            continue;
        const char *name = mf_client__source_name(c, hex, SOURCE_HEX, &doc);
        if (!name) continue;
        mf_error("%s: %s: %s", doc, name, hex + SOURCE_HEX + 2);
        return MF_ERR_INVALID;
    }
    mf_error("job %llu failed: %s", (unsigned long long)job, error);
    if (strstr(error, mf_strerror(MF_ERR_NOSPACE))) s_say_where_full(c);
    return MF_ERR_TASK;
}

/* qc.json is always fetched: the client reads its verdict from the blob. */
static int s_keepable(const char *path)
{
    return strcmp(path, "qc.json") != 0;
}

mf_prev_how_t mf_client__how(const Mixfarm__OutputRef *out, int64_t frames)
{
    return (mf_prev_how_t){out->hash, out->format, (int)out->bits, frames};
}

int mf_client__had(const mf_prev_t *prev, const Mixfarm__OutputRef *o, int64_t frames)
{
    const mf_prev_how_t how = mf_client__how(o, frames);
    return s_keepable(o->path) && mf_prev_had(prev, o->path, &how);
}

/* Starts fetching output o's blob and, for an encoded file, its report. */
static void s_get_output(mf_xfer_t *x, const Mixfarm__OutputRef *o, mf_xfer_fn cb, void *ctx)
{
    const char *hex[2] = {o->hash, o->info};
    for (int k = 0; k < 2 && mf_hash_valid(hex[k]); k++) {
        mf_hash_t h;
        memcpy(h.hex, hex[k], MF_HASH_HEX);
        mf_xfer_get(x, &h, cb, ctx);
    }
}

/* ---- prefetch: outputs fetched while the last tasks run ---- */

static void s_prefetched(void *ctx, const mf_hash_t *hash, mf_err_t err)
{
    (void)ctx;
    if (err != MF_OK) /* the fetch at the end asks again and says why */
        mf_debug("prefetching %.12s: %s", hash->hex, mf_strerror(err));
}

/* Asks for the outputs ready so far and starts fetching them (a blob
 * already here, or already coming, costs nothing; x NULL: an embedded
 * farm's, all here already). A coordinator that cannot answer early just
 * leaves everything to the fetch at the end. */
static void s_prefetch(mf_client_t *c, uint64_t job, mf_xfer_t *x, const mf_prev_t *prev,
                       mf_early_t *early)
{
    Mixfarm__FetchRequest f = MIXFARM__FETCH_REQUEST__INIT;
    f.job = job;
    f.partial = 1;
    Mixfarm__Envelope req = MIXFARM__ENVELOPE__INIT, *rep = NULL;
    req.body_case = MIXFARM__ENVELOPE__BODY_FETCH;
    req.fetch = &f;
    if (mf_client_call(c, &req, MIXFARM__ENVELOPE__BODY_FETCH_REPLY, &rep) != MF_OK) return;
    const Mixfarm__FetchReply *r = rep->fetch_reply;
    for (size_t i = 0; !r->error[0] && i < r->n_outputs; i++) {
        const Mixfarm__OutputRef *o = r->outputs[i];
        /* One OUTDIR's previous render likely holds is checked at the end;
         * a staged one's blob has left the store (client_early.c). */
        if (x && !mf_client__had(prev, o, MF_PREV_ANY_FRAMES) &&
            !mf_early_staged(early, o, mf_client__written_frames(r, o)) &&
            !mf_early_stream(early, x, r, o))
            s_get_output(x, o, s_prefetched, NULL);
    }
    if (early && !r->error[0])
        mf_early_offer(early, rep); /* written into OUTDIR as they arrive */
    else
        mixfarm__envelope__free_unpacked(rep, NULL);
}

/* Waits ms for the next poll, moving the prefetch's chunks meanwhile. */
static void s_pump(mf_xfer_t *x, int ms)
{
    if (x && mf_xfer_pending(x))
        mf_xfer_pump(x, ms);
    else
        nanosleep(&(struct timespec){0, ms * 1000000L}, NULL);
}

/* A coordinator restarted (an upgrade, kill -9, a node moved) resumes its
 * jobs from the journal within seconds; a client watching one waits for it
 * rather than giving up at its first unanswered question: 1 while within
 * RETURN_WAIT_MS of the first, the transfers in flight dropped (the fetch
 * asks again for what they did not bring). */
static int s_wait_for_return(mf_client_t *c, uint64_t job, mf_xfer_t *x, long long *since)
{
    const long long now = mf_client__now_ms();
    if (!*since) {
        *since = now - mf_client__timeout_ms(c); /* the question that went unanswered */
        mf_warn("%s does not answer; waiting up to %d s for it to come back (job %llu)",
                mf_client_endpoint(c), RETURN_WAIT_MS / 1000, (unsigned long long)job);
        if (x) mf_xfer_reset(x);
    }
    return now - *since < RETURN_WAIT_MS;
}

mf_err_t mf_client_watch(mf_client_t *c, uint64_t job, int show, const char *prefetch_for,
                         mf_job_tally_t *tally)
{
    int drawn = 0;
    uint32_t seen = 0; /* tasks done at the last prefetch */
    /* An embedded farm's outputs are in the store already: staged, not fetched. */
    const int own_store = !mf_client__farm_store(c);
    mf_xfer_t *x =
        prefetch_for && own_store ? mf_xfer_new(mf_client__socket(c), mf_client__store(c)) : NULL;
    mf_prev_t *prev = prefetch_for ? mf_prev_load(prefetch_for, mf_client__reuse(c)) : NULL;
    mf_early_t *early =
        prefetch_for ? mf_early_new(prefetch_for, own_store, mf_client__store(c)) : NULL;
    mf_client__set_xfer(c, x);
    mf_err_t err;
    uint32_t wait_ms = 0, finished = 0; /* the first answer at once */
    int can_wait = 0;
    long long lost_since = 0; /* when the coordinator stopped answering, or 0 */
    for (;;) {
        Mixfarm__Envelope *rep; /* a caught Ctrl-C ends the call: MF_ERR_CANCELLED */
        const long long asked = mf_client__now_ms();
        err = s_status(c, job, lost_since ? 0 : wait_ms, finished, &rep);
        if (err == MF_ERR_UNREACHABLE && s_wait_for_return(c, job, x, &lost_since)) continue;
        if (err == MF_OK && lost_since) {
            mf_info("%s answers again; job %llu goes on", mf_client_endpoint(c),
                    (unsigned long long)job);
            lost_since = 0;
        }
        if (err != MF_OK) break;
        const Mixfarm__StatusReply *r = rep->status_reply;
        if (r->n_jobs != 1) {
            mf_error("job %llu: %s", (unsigned long long)job, r->error[0] ? r->error : "unknown");
            mixfarm__envelope__free_unpacked(rep, NULL);
            err = MF_ERR_INVALID;
            break;
        }
        const Mixfarm__JobStatus *j = r->jobs[0];
        if (show) s_draw(j), drawn = 1;
        if (tally) *tally = (mf_job_tally_t){.total = j->tasks_total, .cached = j->tasks_cached};
        err = !strcmp(j->state, "done")        ? MF_OK
              : !strcmp(j->state, "failed")    ? MF_ERR_TASK
              : !strcmp(j->state, "cancelled") ? MF_ERR_CANCELLED
                                               : MF_ERR__COUNT;
        if (err == MF_ERR_TASK) err = s_report_failure(c, job, j->error);
        if (err == MF_ERR_CANCELLED) mf_error("job %llu was cancelled", (unsigned long long)job);
        const int running = err == MF_ERR__COUNT, more = j->tasks_done != seen;
        seen = j->tasks_done;
        finished = j->tasks_done + j->tasks_failed;
        can_wait = r->can_wait;
        mixfarm__envelope__free_unpacked(rep, NULL);
        if (!running) { /* done, failed or cancelled */
            if (drawn) fputc('\n', stderr);
            break;
        }
        if ((x || early) && more) s_prefetch(c, job, x, prev, early);
        /* One file at a time, so that the job's end is seen soon after. */
        const int wrote = early && mf_early_step(early, mf_client__store(c), prev);
        /* Next: at once after writing a file; else the coordinator answers
         * when a task finishes (while chunks arrive, within POLL_MS, to
         * write what came); an older one is asked every POLL_MS. At most
         * one question every MIN_ASK_MS, however fast tasks finish. */
        wait_ms = wrote || !can_wait ? 0 : x && mf_xfer_pending(x) ? POLL_MS : WAIT_MS;
        if ((int)wait_ms > mf_client__timeout_ms(c) / 2) /* well inside the call's own */
            wait_ms = (uint32_t)(mf_client__timeout_ms(c) / 2);
        if (!wrote && !can_wait) s_pump(x, POLL_MS);
        const long long since = mf_client__now_ms() - asked;
        if (can_wait && since < MIN_ASK_MS) s_pump(x, (int)(MIN_ASK_MS - since));
    }
    /* What is still coming is left to finish (the fetch would ask for it
     * again); a failure here is the fetch's to report. */
    if (x && err == MF_OK && mf_xfer_pending(x)) mf_xfer_wait(x, FETCH_TIMEOUT_MS);
    if (x && mf_xfer_pending(x)) mf_xfer_reset(x);
    mf_client__set_xfer(c, NULL);
    mf_xfer_free(&x);
    mf_early_drain(early, err == MF_OK);
    mf_prev_free(&prev);
    if (err == MF_OK) /* the fetch takes it over */
        mf_client__set_early(c, early);
    else
        mf_early_free(&early);
    return err;
}

/* Remembers the first failure, including one reported before the call returned. */
static void s_fetched(void *ctx, const mf_hash_t *hash, mf_err_t err)
{
    mf_err_t *first = ctx;
    if (err == MF_OK) return;
    mf_error("fetching %.12s: %s", hash->hex, mf_strerror(err));
    if (*first == MF_OK) *first = err;
}

/* A relative path that stays inside OUTDIR: not absolute, no ".." part. */
static int s_safe_path(const char *p)
{
    if (!p[0] || p[0] == '/' || strlen(p) > 1024) return 0;
    for (const char *c = p; c; c = strchr(c, '/') ? strchr(c, '/') + 1 : NULL)
        if (!strncmp(c, "..", 2) && (c[2] == '/' || c[2] == 0)) return 0;
    return 1;
}

/* What qc.json says of the render: its "pass", and the problems printed.
 * Each problem is a failed check (CLI.md), so it is printed as an error,
 * never as a warning beside the verdict that the render failed QC. */
static int s_qc_verdict(mf_store_t *s, const mf_hash_t *h)
{
    json_t *qc = mf_blob_json(s, h);
    int pass = json_is_true(json_object_get(qc, "pass"));
    const json_t *files = json_object_get(qc, "files");
    for (size_t i = 0; i < json_array_size(files); i++) {
        const json_t *f = json_array_get(files, i), *probs = json_object_get(f, "problems");
        for (size_t k = 0; k < json_array_size(probs); k++)
            mf_error("qc failed: %s: %s: %s", json_string_value(json_object_get(f, "path")),
                     json_string_value(json_object_get(json_array_get(probs, k), "check")),
                     json_string_value(json_object_get(json_array_get(probs, k), "message")));
    }
    json_decref(qc);
    return pass;
}

/* An encoded deliverable: its bytes, and its report's "manifest" fields. */
static mf_err_t s_write_encoded(mf_outdir_t *o, const Mixfarm__OutputRef *out, mf_store_t *s)
{
    mf_hash_t h, info;
    memcpy(h.hex, out->hash, MF_HASH_HEX);
    memcpy(info.hex, out->info, MF_HASH_HEX);
    json_t *rep = mf_blob_json(s, &info);
    mf_err_t err = mf_outdir_write_file(o, out->path, s, &h, json_object_get(rep, "manifest"));
    json_decref(rep);
    return err;
}

static mf_err_t s_fetch_reply(mf_client_t *c, uint64_t job, Mixfarm__Envelope **rep)
{
    Mixfarm__FetchRequest f = MIXFARM__FETCH_REQUEST__INIT;
    f.job = job;
    Mixfarm__Envelope req = MIXFARM__ENVELOPE__INIT;
    req.body_case = MIXFARM__ENVELOPE__BODY_FETCH;
    req.fetch = &f;
    mf_err_t err = mf_client_call(c, &req, MIXFARM__ENVELOPE__BODY_FETCH_REPLY, rep);
    if (err == MF_OK && (*rep)->fetch_reply->error[0]) {
        mf_error("job %llu: %s", (unsigned long long)job, (*rep)->fetch_reply->error);
        mixfarm__envelope__free_unpacked(*rep, NULL);
        *rep = NULL;
        err = MF_ERR_INVALID;
    }
    return err;
}

typedef struct {
    mf_outdir_t *o;
    mf_store_t *store;
    const Mixfarm__FetchReply *r;
    int *qc_pass;
    mf_prev_t *prev;
    unsigned char *kept;     /* per output: 1 OUTDIR's file kept, 2 another render's copied */
    const mf_early_t *early; /* what the watch staged already, or NULL */
} writing_t;

/* A coordinator on this machine: tcp to a loopback address, ipc, inproc. */
static int s_local(const char *ep)
{
    static const char *const near[] = {"tcp://127.", "tcp://localhost:", "tcp://[::1]:", "ipc://",
                                       "inproc://"};
    for (size_t i = 0; ep && i < sizeof near / sizeof *near; i++)
        if (!strncmp(ep, near[i], strlen(near[i]))) return 1;
    return 0;
}

int mf_client__reuse(mf_client_t *c)
{
    const char *env = getenv("MIXFARM_REUSE");
    if ((env && !strcmp(env, "0")) || mf_client__farm_store(c)) return MF_PREV_HERE_ONLY;
    return (env && !strcmp(env, "1")) || !s_local(mf_client_endpoint(c)) ? MF_PREV_COPIES
                                                                         : MF_PREV_CLONES;
}

int mf_client__keep_as(mf_outdir_t *o, const mf_prev_t *prev, const char *path,
                       const mf_prev_how_t *how)
{
    mf_prev_file_t f;
    if (!s_safe_path(path) || !s_keepable(path) || !mf_prev_find(prev, path, how, &f)) return 0;
    const unsigned take = (f.here ? MF_KEEP_LINK : 0) | (f.known ? MF_KEEP_KNOWN : 0) |
                          (f.clone_only ? MF_KEEP_CLONE_ONLY : 0);
    const mf_err_t err = mf_outdir_keep(o, path, f.path, take, f.entry);
    if (err != MF_OK)
        mf_debug("%s not taken from %s (%s): fetched", path, f.path, mf_strerror(err));
    const int kept = err != MF_OK ? 0 : f.here ? MF_KEPT_HERE : MF_KEPT_COPIED;
    mf_prev_file_fini(&f);
    return kept;
}

/* Output i taken from an earlier render, unless the watch staged it (on
 * one of several threads: checking or copying reads the file). */
static mf_err_t s_keep(void *ctx, size_t i)
{
    writing_t *wr = ctx;
    const Mixfarm__OutputRef *o = wr->r->outputs[i];
    const int64_t frames = mf_client__written_frames(wr->r, o);
    const mf_prev_how_t how = mf_client__how(o, frames);
    if (!mf_early_staged(wr->early, o, frames))
        wr->kept[i] = (unsigned char)mf_client__keep_as(wr->o, wr->prev, o->path, &how);
    return MF_OK;
}

mf_err_t mf_client__write_output(mf_outdir_t *o, mf_store_t *s, const Mixfarm__FetchReply *r,
                                 const Mixfarm__OutputRef *out, int *qc_pass)
{
    mf_hash_t h;
    memcpy(h.hex, out->hash, MF_HASH_HEX);
    if (!s_safe_path(out->path)) {
        mf_error("the coordinator named an unsafe output path: %s", out->path);
        return MF_ERR_PROTOCOL;
    }
    if (!strcmp(out->format, "raw") && mf_hash_valid(out->info)) return s_write_encoded(o, out, s);
    if (!strcmp(out->format, "raw")) {
        if (qc_pass && !strcmp(out->path, "qc.json")) *qc_pass = s_qc_verdict(s, &h);
        const char *ext = strrchr(out->path, '.');
        return mf_outdir_write_raw(o, out->path, s, &h, ext ? ext + 1 : "");
    }
    return mf_outdir_write_signal(o, out->path, s, &h, mf_client__written_frames(r, out),
                                  out->format, (int)out->bits);
}

/* Writes output i into OUTDIR's staging folder (on one of several threads:
 * each output is its own file), unless it is kept or staged already. */
static mf_err_t s_write_output(void *ctx, size_t i)
{
    writing_t *wr = ctx;
    const Mixfarm__OutputRef *out = wr->r->outputs[i];
    if (wr->kept[i]) return MF_OK;
    if (mf_early_staged(wr->early, out, mf_client__written_frames(wr->r, out))) return MF_OK;
    return mf_client__write_output(wr->o, wr->store, wr->r, out, wr->qc_pass);
}

/* What render and fetch print of OUTDIR: its files by kind. */
static char *s_summary(const Mixfarm__FetchReply *r, const char *outdir)
{
    size_t stems = 0, masters = 0, tracks = 0, copies = 0;
    for (size_t i = 0; i < r->n_outputs; i++) {
        stems += !strncmp(r->outputs[i]->path, "stems/", 6);
        masters += !strncmp(r->outputs[i]->path, "master/", 7);
        tracks += !strncmp(r->outputs[i]->path, "tracks/", 7);
        copies += !strncmp(r->outputs[i]->path, "listen/", 7);
    }
    const size_t n = strlen(outdir) + 200;
    char *summary = malloc(n);
    if (summary && tracks) /* an album */
        snprintf(summary, n, "%s/ (%zu track file%s, qc.json, manifest.json)", outdir, tracks,
                 tracks == 1 ? "" : "s");
    else if (summary)
        snprintf(summary, n,
                 "%s/ (mix.wav, %zu stem%s, %zu master%s, %zu listening cop%s in listen/, "
                 "qc.json, manifest.json)",
                 outdir, stems, stems == 1 ? "" : "s", masters, masters == 1 ? "" : "s", copies,
                 copies == 1 ? "y" : "ies");
    return summary;
}

/* Fetches into the client's store every output neither kept nor staged
 * already; says what was taken from earlier renders. */
static mf_err_t s_fetch_rest(mf_client_t *c, uint64_t job, const char *outdir, const writing_t *wr)
{
    const Mixfarm__FetchReply *r = wr->r;
    size_t kept[3] = {0}, staged = 0;
    mf_xfer_t *x = mf_xfer_new(mf_client__socket(c), mf_client__store(c));
    mf_err_t failed = MF_OK;
    for (size_t i = 0; x && i < r->n_outputs; i++) {
        const Mixfarm__OutputRef *out = r->outputs[i];
        if (wr->kept[i])
            kept[wr->kept[i]]++;
        else if (mf_early_staged(wr->early, out, mf_client__written_frames(r, out)))
            staged++;
        else
            s_get_output(x, out, s_fetched, &failed);
    }
    const size_t fetched = r->n_outputs - kept[MF_KEPT_HERE] - kept[MF_KEPT_COPIED] - staged;
    mf_early_kept(wr->early, kept); /* the watch's are among those staged */
    mf_err_t err = !x                   ? MF_ERR_NOMEM
                   : mf_xfer_pending(x) ? mf_xfer_wait(x, FETCH_TIMEOUT_MS)
                                        : MF_OK;
    if (err == MF_OK) err = failed;
    mf_xfer_free(&x);
    mf_debug("job %llu: %zu outputs fetched at the end, %zu staged while it ran",
             (unsigned long long)job, fetched, staged);
    if (kept[MF_KEPT_HERE])
        mf_info("%s: kept %zu unchanged file%s of the previous render", outdir, kept[MF_KEPT_HERE],
                kept[MF_KEPT_HERE] == 1 ? "" : "s");
    if (kept[MF_KEPT_COPIED])
        mf_info("%s: copied %zu unchanged file%s from a recent render instead of fetching %s",
                outdir, kept[MF_KEPT_COPIED], kept[MF_KEPT_COPIED] == 1 ? "" : "s",
                kept[MF_KEPT_COPIED] == 1 ? "it" : "them");
    return err;
}

/* Whether OUTDIR holds, at a path the job writes, a file no earlier
 * render wrote (each said): `fetch -o .` in a project folder would replace
 * a bounce at mix.wav or a master the studio made elsewhere. */
static int s_foreign(const Mixfarm__FetchReply *r, const char *outdir)
{
    const char **rels = calloc(r->n_outputs + 1, sizeof *rels);
    if (!rels) return 0; /* the writes fail the same way */
    for (size_t i = 0; i < r->n_outputs; i++) rels[i] = r->outputs[i]->path;
    rels[r->n_outputs] = "render.json";
    const size_t n = mf_outdir_check_foreign(outdir, rels, r->n_outputs + 1);
    free(rels);
    return n > 0;
}

mf_err_t mf_client_fetch(mf_client_t *c, uint64_t job, const char *outdir, char **summary,
                         int *qc_pass)
{
    if (qc_pass) *qc_pass = 1;
    Mixfarm__Envelope *rep;
    mf_err_t err = s_fetch_reply(c, job, &rep);
    if (err != MF_OK) return err;
    const Mixfarm__FetchReply *r = rep->fetch_reply;
    /* The files the watch staged while the job ran stay staged, and their
     * blobs are not fetched again. */
    mf_early_t *early = mf_client__take_early(c);
    if (early && strcmp(mf_early_outdir(early), outdir)) mf_early_free(&early);
    /* A file of the user's in the way: nothing is written. A render whose
     * watch staged files has opened OUTDIR (sweeping what a render killed
     * in its commit left, whose manifest the check reads) and checked
     * these paths before any work (outdir_guard.c). */
    if (!early && s_foreign(r, outdir)) {
        mixfarm__envelope__free_unpacked(rep, NULL);
        return MF_ERR_INVALID;
    }
    /* A revision keeps the files it would write as OUTDIR's previous
     * render or a recent one elsewhere wrote them; the others are fetched. */
    writing_t wr = {.store = mf_client__store(c),
                    .r = r,
                    .qc_pass = qc_pass,
                    .prev = mf_prev_load(outdir, mf_client__reuse(c)),
                    .kept = calloc(r->n_outputs + 1, 1)};
    if (!wr.kept) err = MF_ERR_NOMEM;
    mf_early_settle(early, r);
    wr.early = early;
    /* OUTDIR is made before the fetch only when there are files to keep. */
    mf_outdir_t *o = early ? mf_early_take_outdir(early) : NULL;
    if (err == MF_OK && !o && wr.prev && !(o = mf_outdir_open(outdir))) err = MF_ERR_IO;
    wr.o = o;
    if (err == MF_OK && wr.prev) mf_parallel_for(r->n_outputs, s_keep, &wr);
    if (err == MF_OK) err = s_fetch_rest(c, job, outdir, &wr);
    if (err == MF_OK && !o && !(o = mf_outdir_open(outdir))) err = MF_ERR_IO;
    wr.o = o;
    if (err == MF_OK) err = mf_parallel_for(r->n_outputs, s_write_output, &wr);
    if (err == MF_OK) err = mf_client__write_render(o, mf_client__store(c), r); /* diff */
    if (err == MF_OK) err = mf_outdir_commit(o, r->session_name);
    if (err == MF_OK) mf_recent_add(outdir); /* where the next revision may copy from */
    mf_outdir_free(&o);
    if (err == MF_OK && summary) *summary = s_summary(r, outdir);
    mf_prev_free(&wr.prev);
    mf_early_free(&early);
    free(wr.kept);
    mixfarm__envelope__free_unpacked(rep, NULL);
    return err;
}
