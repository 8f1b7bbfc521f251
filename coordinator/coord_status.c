/* What a client reads of a job: its status (and every job's), and the
 * outputs a fetch asks for, whole at the end or as they come while the job
 * runs (a partial reply). Nothing here changes a job. */
#include "coord_internal.h"
#include "coord_render.h"
#include "mf_pcm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void s_fill_status(const job_t *j, Mixfarm__JobStatus *st)
{
    mixfarm__job_status__init(st);
    mf_sched_progress_t p = mf_sched_progress(j->sched);
    st->job = j->id;
    st->name = j->name;
    st->priority = j->priority;
    st->state = (char *)mf_job_state_name(j->state);
    st->tasks_total = (uint32_t)p.total;
    st->tasks_done = (uint32_t)p.done;
    st->tasks_running = (uint32_t)p.running;
    st->tasks_failed = (uint32_t)p.failed;
    st->tasks_cached = (uint32_t)p.cached;
    st->audio_s_done = p.audio_s_done;
    st->audio_s_total = p.audio_s_total;
    double el = (j->finished > 0 ? j->finished : mf_clock_now()) - j->started;
    double frac = p.audio_s_total > 0 ? p.audio_s_done / p.audio_s_total : 1.0;
    st->eta_s = j->state == JOB_RUNNING && frac > 0 ? el * (1 - frac) / frac : 0;
    st->error = j->error ? j->error : "";
    st->numerics = mf_sched_numerics(j->sched) ? (char *)mf_sched_numerics(j->sched) : "";
    st->sources_awaited = j->state == JOB_RUNNING ? (uint32_t)mf_sched_awaited(j->sched, NULL) : 0;
}

void mf_coord_on_status(coord_t *c, const mf_peer_t *peer, const Mixfarm__StatusRequest *m)
{
    if (!mf_coord_status_hold(c, peer, m)) mf_coord_reply_status(c, peer, m->job);
}

void mf_coord_reply_status(coord_t *c, const mf_peer_t *peer, uint64_t job)
{
    size_t n = 0;
    for (job_t *j = c->jobs; j; j = j->next) n += !job || j->id == job;
    Mixfarm__JobStatus *sts = calloc(n + 1, sizeof *sts);
    Mixfarm__JobStatus **ptrs = calloc(n + 1, sizeof *ptrs);
    Mixfarm__StatusReply r = MIXFARM__STATUS_REPLY__INIT;
    r.can_wait = 1;
    if (sts && ptrs) {
        for (job_t *j = c->jobs; j; j = j->next) {
            if (job && j->id != job) continue;
            s_fill_status(j, &sts[r.n_jobs]);
            ptrs[r.n_jobs] = &sts[r.n_jobs];
            r.n_jobs++;
        }
    }
    r.jobs = ptrs;
    if (job && r.n_jobs == 0)
        r.error = "no such job (a job finished long ago is no longer held: resubmit it, its "
                  "tasks are cached)";
    Mixfarm__Envelope env = MIXFARM__ENVELOPE__INIT;
    env.body_case = MIXFARM__ENVELOPE__BODY_STATUS_REPLY;
    env.status_reply = &r;
    mf_coord_send(c, peer, &env);
    free(sts);
    free(ptrs);
}

static void s_fetch_reply(coord_t *c, const mf_peer_t *peer, Mixfarm__FetchReply *r)
{
    Mixfarm__Envelope env = MIXFARM__ENVELOPE__INIT;
    env.body_case = MIXFARM__ENVELOPE__BODY_FETCH_REPLY;
    env.fetch_reply = r;
    mf_coord_send(c, peer, &env);
}

/* A signal output's trailer, for a client that writes the file as the
 * blob arrives (left out when the blob is not here or is no signal). */
static void s_signal_info(const coord_t *c, const mf_hash_t *h, Mixfarm__OutputRef *o)
{
    mf_pcm_info_t info;
    int panned;
    if (strcmp(o->format, "raw") == 0 || mf_pcm_peek(c->store, h, &info, &panned) != MF_OK) return;
    o->channels = (uint32_t)info.channels;
    o->rate = (uint32_t)info.rate;
    o->start = info.start;
    o->signal_frames = (uint64_t)info.frames;
    o->panned = panned;
}

/* The outputs whose task is done, into r (outs and ptrs hold one entry per
 * plan output). */
static void s_ready_outputs(const coord_t *c, const job_t *j, Mixfarm__FetchReply *r,
                            Mixfarm__OutputRef *outs, Mixfarm__OutputRef **ptrs)
{
    const mf_plan_t *p = j->plan;
    for (size_t i = 0; i < p->n_outputs; i++) {
        const mf_plan_output_t *o = &p->outputs[i];
        const mf_hash_t *h = mf_sched_port(j->sched, o->port);
        if (!h) continue;
        mixfarm__output_ref__init(&outs[i]);
        outs[i].path = o->path;
        outs[i].hash = (char *)h->hex;
        outs[i].format = o->format;
        outs[i].bits = (uint32_t)o->bits;
        outs[i].aligned = o->aligned;
        const mf_hash_t *info = o->has_info ? mf_sched_port(j->sched, o->info) : NULL;
        if (info) outs[i].info = (char *)info->hex;
        s_signal_info(c, h, &outs[i]);
        ptrs[r->n_outputs++] = &outs[i];
    }
    r->outputs = ptrs;
}

/* Whether every file of a done job is still in the store; each one found is
 * marked used, so that the fetch that follows finds it too. */
static int s_outputs_stored(coord_t *c, const job_t *j)
{
    const mf_plan_t *p = j->plan;
    for (size_t i = 0; i < p->n_outputs; i++) {
        const mf_plan_output_t *o = &p->outputs[i];
        const mf_hash_t *h = mf_sched_port(j->sched, o->port);
        const mf_hash_t *info = o->has_info ? mf_sched_port(j->sched, o->info) : NULL;
        if (!h || !mf_store_has(c->store, h) || (info && !mf_store_has(c->store, info))) return 0;
        mf_coord_budget_use(c, h);
        if (info) mf_coord_budget_use(c, info);
    }
    return 1;
}

void mf_coord_on_fetch(coord_t *c, const mf_peer_t *peer, const Mixfarm__FetchRequest *m)
{
    Mixfarm__FetchReply r = MIXFARM__FETCH_REPLY__INIT;
    r.job = m->job;
    job_t *j = mf_coord_job(c, m->job);
    char err[160];
    const int early = m->partial && j && (j->state == JOB_RUNNING || j->state == JOB_QUEUED);
    if (!j || (j->state != JOB_DONE && !early) || (!j->session && !j->album) || !j->plan ||
        !j->sched) {
        snprintf(err, sizeof err, !j ? "no such job" : "the job is %s, not done",
                 j ? mf_job_state_name(j->state) : "");
        r.error = err;
        s_fetch_reply(c, peer, &r);
        return;
    }
    if (j->state == JOB_DONE) j->fetched = 1; /* it may be let go (coord_jobs.c) */
    const mf_plan_t *p = j->plan;
    mf_fetch_render_t render = {0};
    Mixfarm__OutputRef *outs = calloc(p->n_outputs + 1, sizeof *outs);
    Mixfarm__OutputRef **ptrs = calloc(p->n_outputs + 1, sizeof *ptrs);
    /* The mix's length, once the master is done: while the job runs too,
     * so that a client can write the mix and the stems before the end. */
    mf_pcm_info_t info = {0};
    const mf_hash_t *mix = mf_sched_port(j->sched, p->mix);
    const int mixed = mix && mf_pcm_info(c->store, mix, &info) == MF_OK;
    r.session_name = j->session ? j->session->name : j->album->name;
    if (!outs || !ptrs) {
        r.error = "out of memory";
    } else if (!early && (!mixed || !s_outputs_stored(c, j))) {
        r.error = c->budget ? "the job's outputs are gone from the store (deleted to stay within "
                              "--store-budget): render it again"
                            : "the job's outputs are gone from the store";
    } else {
        if (mixed) r.frames = (uint64_t)(info.start + info.frames);
        s_ready_outputs(c, j, &r, outs, ptrs);
        if (!early) mf_coord_fetch_render(c, j, &r, &render); /* render.json (coord_render.c) */
        if (mf_sched_numerics(j->sched)) r.numerics = (char *)mf_sched_numerics(j->sched);
    }
    s_fetch_reply(c, peer, &r);
    mf_coord_fetch_render_free(&render);
    free(outs);
    free(ptrs);
}
