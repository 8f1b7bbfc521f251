#include "mf_plan.h"
#include "mf_file_name.h"
#include "mf_gain.h"
#include "mf_params.h"
#include "plan_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Channel nodes: tracks 0..T-1, buses T..T+B-1, the master T+B. */
typedef struct {
    const mf_session_t *s;
    size_t n_nodes;
    int *needed;    /* planned at all */
    int *node_task; /* the channel task of each node, -1 until emitted */
    int *order;     /* topological order of nodes */
    size_t n_order;
    int *mark; /* DFS: 0 new, 1 on the stack, 2 done */
    mf_plan_t *plan;
    int *aux_task; /* the decode task of each auxiliary file, -1 until emitted */
    int *keyed;    /* a channel some compressor's side chain reads */
    int *unpanned; /* a track planned unpanned (mf_plan.h) */
} planner_t;

static size_t s_node(const planner_t *p, mf_ref_t r)
{
    switch (r.kind) {
    case MF_REF_TRACK:
        return (size_t)r.index;
    case MF_REF_BUS:
        return p->s->n_tracks + (size_t)r.index;
    case MF_REF_MASTER:
        return p->s->n_tracks + p->s->n_buses;
    default:
        return (size_t)-1;
    }
}

static const mf_channel_t *s_chan(const planner_t *p, size_t node)
{
    const mf_session_t *s = p->s;
    if (node < s->n_tracks) return &s->tracks[node].ch;
    if (node < s->n_tracks + s->n_buses) return &s->buses[node - s->n_tracks];
    return &s->master;
}

/* Does channel `src` feed channel `dst` (output or a send)? */
static int s_feeds(const planner_t *p, size_t src, size_t dst)
{
    const mf_channel_t *c = s_chan(p, src);
    if (s_node(p, c->output) == dst) return 1;
    for (size_t k = 0; k < c->n_sends; k++)
        if (p->s->n_tracks + (size_t)c->sends[k].bus == dst) return 1;
    return 0;
}

static int s_audible_source(const planner_t *p, size_t node)
{
    return node >= p->s->n_tracks || mf_session_track_audible(p->s, node);
}

static void s_visit(planner_t *p, size_t node)
{
    if (p->mark[node]) return; /* done, or a cycle validation already refused */
    p->mark[node] = 1;
    const mf_channel_t *c = s_chan(p, node);
    for (size_t src = 0; src < p->n_nodes; src++)
        if (p->needed[src] && s_audible_source(p, src) && src != node && s_feeds(p, src, node))
            s_visit(p, src);
    for (size_t i = 0; i < c->n_inserts; i++)
        if (c->inserts[i].sidechain.kind != MF_REF_NONE)
            s_visit(p, s_node(p, c->inserts[i].sidechain));
    p->mark[node] = 2;
    p->order[p->n_order++] = (int)node;
}

static double s_finite_db(double db)
{
    return db < MF_DB_SILENT ? MF_DB_SILENT : db;
}

static mf_curve_t s_curve(const mf_automation_t *a, int is_db)
{
    mf_curve_t c = {.n = a->n, .pts = malloc((a->n ? a->n : 1) * sizeof *c.pts)};
    if (!c.pts) c.n = 0;
    for (size_t i = 0; i < c.n; i++) {
        c.pts[i] = a->pts[i];
        if (is_db || !isfinite(c.pts[i].v)) c.pts[i].v = s_finite_db(c.pts[i].v);
    }
    return c;
}

/* A task labelled "KIND NAME". */
static mf_plan_task_t *s_new_task(planner_t *p, const char *kind, const char *name)
{
    size_t n = strlen(kind) + strlen(name) + 2;
    char *label = malloc(n);
    if (!label) return NULL;
    snprintf(label, n, "%s %s", kind, name);
    mf_plan_task_t *t = mf_plan_append(p->plan, kind, label);
    free(label);
    return t;
}

static int s_add_input(mf_plan_task_t *t, mf_port_t port)
{
    mf_port_t *in = realloc(t->in, (t->n_in + 1) * sizeof *in);
    if (!in) return -1;
    t->in = in;
    t->in[t->n_in++] = port;
    return 0;
}

static mf_port_t s_port(int task, int output)
{
    return (mf_port_t){.task = task, .output = output};
}

static double s_track_length_s(const mf_track_t *t)
{
    double avail = (double)t->src_frames / (t->src_rate > 0 ? t->src_rate : 1) - t->trim_from_s;
    if (t->trim_length_s >= 0 && t->trim_length_s < avail) avail = t->trim_length_s;
    return avail > 0 ? avail : 0;
}

/* The decode of auxiliary file a, once, at the session rate from its start. */
static int s_emit_aux_file(planner_t *p, int a, const mf_hash_t *sources)
{
    const mf_session_t *s = p->s;
    if (a < 0 || p->aux_task[a] >= 0) return 0;
    const mf_aux_file_t *af = &s->aux[a];
    mf_plan_task_t *t = s_new_task(p, "decode", af->written);
    if (!t) return -1;
    mf_decode_spec_t d = {.from_s = 0, .length_s = -1, .start_s = 0, .rate = s->sample_rate};
    t->params = mf_decode_spec_to_json(&d);
    t->n_out = 1;
    t->audio_s = (double)af->frames / (af->rate > 0 ? af->rate : 1);
    mf_port_t src = {.task = -1, .output = 0, .blob = sources[MF_PLAN_AUX_SOURCE(s, (size_t)a)]};
    if (!t->params || !t->label || s_add_input(t, src)) return -1;
    p->aux_task[a] = (int)p->plan->n_tasks - 1;
    return 0;
}

/* The decode of every auxiliary file a planned channel or the mastering
 * uses, before any channel. */
static int s_emit_aux(planner_t *p, const mf_hash_t *sources)
{
    const mf_session_t *s = p->s;
    for (size_t k = 0; k < p->n_order; k++) {
        const mf_channel_t *c = s_chan(p, (size_t)p->order[k]);
        for (size_t i = 0; i < c->n_inserts; i++)
            if (s_emit_aux_file(p, c->inserts[i].aux, sources)) return -1;
    }
    const json_t *ins = json_object_get(s->mastering, "inserts");
    for (size_t i = 0; i < json_array_size(ins); i++)
        if (s_emit_aux_file(p, mf_plan_mastering_aux(s, json_array_get(ins, i)), sources))
            return -1;
    return 0;
}

/* A strip's input 0: the track's file, which the strip reads itself at the
 * session rate (mf_source_signal.h, resampling it when it is at another):
 * a decoded copy would cost a write, a read and, on a farm, two transfers,
 * and keep an embedded bus from running the strip inside it. */
typedef struct {
    mf_port_t port;
    mf_decode_spec_t decode;
} strip_in_t;

static void s_emit_source(planner_t *p, size_t i, const mf_hash_t *source, strip_in_t *in)
{
    const mf_track_t *tr = &p->s->tracks[i];
    in->decode = (mf_decode_spec_t){.from_s = tr->trim_from_s,
                                    .length_s = tr->trim_length_s,
                                    .start_s = tr->start_s,
                                    .rate = p->s->sample_rate};
    in->port = (mf_port_t){.task = -1, .output = 0, .blob = *source};
}

/* The canonical spec of one channel; curves are owned by the spec, insert
 * values borrowed from the session. */
static int s_chan_spec(planner_t *p, const mf_channel_t *c, mf_chan_spec_t *spec)
{
    memset(spec, 0, sizeof *spec);
    spec->rate = p->s->sample_rate;
    spec->tempo_bpm = p->s->tempo_bpm;
    spec->pan_law_db = p->s->pan_law_db;
    spec->invert = c->invert;
    spec->gain_db = s_finite_db(c->gain_db);
    spec->pan = c->pan;
    spec->n_inserts = c->n_inserts;
    spec->inserts = calloc(c->n_inserts + 1, sizeof *spec->inserts);
    spec->n_outputs = 1 + c->n_sends;
    spec->outputs = calloc(spec->n_outputs, sizeof *spec->outputs);
    if (!spec->inserts || !spec->outputs) return -1;
    for (size_t i = 0; i < c->n_inserts; i++) {
        mf_insert_spec_t *in = &spec->inserts[i];
        in->cls = c->inserts[i].cls;
        in->values = c->inserts[i].values;
        in->n_values = c->inserts[i].n_values;
        in->nbands = c->inserts[i].nbands;
        in->key = -1;
        in->aux = -1;
        in->autos = calloc(c->n_autos + 1, sizeof *in->autos);
        if (!in->autos) return -1;
    }
    for (size_t k = 0; k < c->n_sends; k++) {
        spec->outputs[1 + k].pre_fader = c->sends[k].pre_fader;
        spec->outputs[1 + k].level_db = s_finite_db(c->sends[k].level_db);
    }
    for (size_t a = 0; a < c->n_autos; a++) {
        const mf_automation_t *au = &c->autos[a];
        switch (au->kind) {
        case MF_AUTO_GAIN:
            spec->gain_curve = s_curve(au, 1);
            break;
        case MF_AUTO_PAN:
            spec->pan_curve = s_curve(au, 0);
            break;
        case MF_AUTO_SEND_LEVEL:
            spec->outputs[1 + au->index].curve = s_curve(au, 1);
            break;
        case MF_AUTO_INSERT_PARAM: {
            mf_insert_spec_t *in = &spec->inserts[au->index];
            in->autos[in->n_autos].param = au->param;
            in->autos[in->n_autos++].curve = s_curve(au, 0);
            break;
        }
        }
    }
    return 0;
}

static void s_chan_spec_release(mf_chan_spec_t *spec)
{
    /* Values are the session's: detach them before the spec frees itself. */
    for (size_t i = 0; spec->inserts && i < spec->n_inserts; i++) spec->inserts[i].values = NULL;
    mf_chan_spec_fini(spec);
}

/* Whether a track can leave its pan, fader and send levels to the channels
 * that sum it: all fixed, and nothing else reads its output (a stem is
 * written as it is; a side-chain key reads the post-fader signal). */
static int s_can_unpan(const planner_t *p, size_t node)
{
    const mf_session_t *s = p->s;
    if (node >= s->n_tracks || p->keyed[node]) return 0;
    const mf_channel_t *c = s_chan(p, node);
    for (size_t a = 0; a < c->n_autos; a++)
        if (c->autos[a].kind != MF_AUTO_INSERT_PARAM) return 0;
    for (size_t i = 0; i < s->n_stems; i++)
        if (s_node(p, s->stems[i]) == node) return 0;
    return 1;
}

/* Port `output` of channel src's task: for an unpanned track, its one
 * output with the gains that output would have had. */
static mf_port_t s_chan_port(const planner_t *p, size_t src, int output)
{
    mf_port_t port = s_port(p->node_task[src], output);
    if (!p->unpanned[src]) return port;
    const mf_channel_t *c = s_chan(p, src);
    const int send = output - 1;
    port.output = 0;
    port.gain = (mf_in_gain_t){
        .set = 1,
        .pan = c->pan,
        .pan_law_db = p->s->pan_law_db,
        .fader_db = send >= 0 && c->sends[send].pre_fader ? 0.0 : s_finite_db(c->gain_db),
        .level_db = send >= 0 ? s_finite_db(c->sends[send].level_db) : 0.0};
    return port;
}

/* What a bus or the master sums, in the fixed order of the nodes: each
 * channel's output or send that reaches it. */
static int s_summed(planner_t *p, size_t node, mf_port_list_t *ports)
{
    const mf_session_t *s = p->s;
    for (size_t src = 0; src < p->n_nodes - 1; src++) {
        if (!p->needed[src] || !s_audible_source(p, src) || src == node) continue;
        const mf_channel_t *sc = s_chan(p, src);
        if (s_node(p, sc->output) == node && mf_port_list_add(ports, s_chan_port(p, src, 0)) < 0)
            return -1;
        for (size_t k = 0; k < sc->n_sends; k++)
            if (s->n_tracks + (size_t)sc->sends[k].bus == node &&
                mf_port_list_add(ports, s_chan_port(p, src, 1 + (int)k)) < 0)
                return -1;
    }
    return 0;
}

/* The inputs a channel sums: a strip's source (in), or what reaches a bus or
 * the master, through partial sums when there are many (plan_sums.c). */
static int s_channel_inputs(planner_t *p, size_t node, double session_s, const strip_in_t *in,
                            mf_port_list_t *ports)
{
    if (node < p->s->n_tracks) return mf_port_list_add(ports, in->port) < 0 ? -1 : 0;
    if (s_summed(p, node, ports) != 0) return -1;
    return mf_plan_sum_tree(p->plan, s_chan(p, node)->name, p->s->sample_rate, session_s, ports);
}

/* in: a strip's input 0 (NULL for a bus or the master). */
static int s_emit_channel(planner_t *p, size_t node, double session_s, const strip_in_t *in)
{
    const mf_session_t *s = p->s;
    const mf_channel_t *c = s_chan(p, node);
    const char *kind = node < s->n_tracks ? "strip" : node == p->n_nodes - 1 ? "master" : "bus";
    mf_port_list_t ports = {0};
    mf_plan_task_t *t =
        s_channel_inputs(p, node, session_s, in, &ports) == 0 ? s_new_task(p, kind, c->name) : NULL;
    if (!t) {
        free(ports.v);
        return -1;
    }
    t->in = ports.v, t->n_in = ports.n;
    t->audio_s = node < s->n_tracks ? s_track_length_s(&s->tracks[node]) : session_s;
    mf_chan_spec_t spec;
    int rc = s_chan_spec(p, c, &spec);
    spec.sum = t->n_in;
    if (rc == 0) rc = mf_plan_in_gains(&spec, t->in);
    if (rc == 0 && (p->unpanned[node] = s_can_unpan(p, node))) {
        /* What its consumers apply, out of its key (s_chan_port). */
        spec.unpanned = 1;
        spec.gain_db = spec.pan = spec.pan_law_db = 0.0;
        for (size_t k = 1; k < spec.n_outputs; k++) spec.outputs[k] = (mf_chan_out_t){0};
        spec.n_outputs = 1;
    }
    if (in) spec.has_decode = 1, spec.decode = in->decode;
    for (size_t i = 0; rc == 0 && i < c->n_inserts; i++) {
        if (c->inserts[i].sidechain.kind == MF_REF_NONE) continue;
        spec.inserts[i].key = (int)t->n_in;
        rc = s_add_input(t, s_port(p->node_task[s_node(p, c->inserts[i].sidechain)], 0));
    }
    for (size_t i = 0; rc == 0 && i < c->n_inserts; i++) {
        if (c->inserts[i].aux < 0) continue;
        spec.inserts[i].aux = (int)t->n_in;
        rc = s_add_input(t, s_port(p->aux_task[c->inserts[i].aux], 0));
    }
    if (node == p->n_nodes - 1) spec.n_outputs = 1; /* the master has no sends */
    t->n_out = spec.n_outputs;
    if (rc == 0) t->params = mf_chan_spec_to_json(&spec);
    s_chan_spec_release(&spec);
    p->node_task[node] = (int)p->plan->n_tasks - 1;
    return rc == 0 && t->params ? 0 : -1;
}

static void s_mark_needed(planner_t *p)
{
    const mf_session_t *s = p->s;
    for (size_t n = 0; n < p->n_nodes; n++)
        p->needed[n] = n >= s->n_tracks || mf_session_track_audible(s, n);
    /* A track keying a compressor is rendered even when it is not heard. */
    for (size_t n = 0; n < p->n_nodes; n++) {
        const mf_channel_t *c = s_chan(p, n);
        for (size_t i = 0; i < c->n_inserts; i++)
            if (c->inserts[i].sidechain.kind != MF_REF_NONE) {
                const size_t key = s_node(p, c->inserts[i].sidechain);
                p->needed[key] = p->keyed[key] = 1;
            }
    }
}

static int s_plan_stems(planner_t *p)
{
    mf_plan_t *pl = p->plan;
    pl->stems = calloc(p->s->n_stems + 1, sizeof *pl->stems);
    if (!pl->stems) return -1;
    for (size_t i = 0; i < p->s->n_stems; i++) {
        size_t node = s_node(p, p->s->stems[i]);
        if (node >= p->n_nodes || p->node_task[node] < 0) continue; /* a silent track */
        mf_plan_stem_t *st = &pl->stems[pl->n_stems++];
        st->name = strdup(s_chan(p, node)->name);
        st->port = s_port(p->node_task[node], 0);
        if (!st->name) return -1;
    }
    return 0;
}

mf_plan_t *mf_plan_session(const mf_session_t *s, const mf_hash_t *sources)
{
    return s->n_aux ? NULL : mf_plan_session_sources(s, sources, MF_PLAN_AUX_SOURCE(s, 0));
}

mf_plan_t *mf_plan_session_sources(const mf_session_t *s, const mf_hash_t *sources,
                                   size_t n_sources)
{
    if (n_sources != MF_PLAN_AUX_SOURCE(s, s->n_aux)) return NULL;
    planner_t p = {.s = s, .n_nodes = s->n_tracks + s->n_buses + 1};
    p.needed = calloc(p.n_nodes, sizeof *p.needed);
    p.node_task = malloc(p.n_nodes * sizeof *p.node_task);
    p.order = calloc(p.n_nodes, sizeof *p.order);
    p.mark = calloc(p.n_nodes, sizeof *p.mark);
    p.plan = calloc(1, sizeof *p.plan);
    p.aux_task = malloc((s->n_aux + 1) * sizeof *p.aux_task);
    p.keyed = calloc(p.n_nodes, sizeof *p.keyed);
    p.unpanned = calloc(p.n_nodes, sizeof *p.unpanned);
    int rc = p.needed && p.node_task && p.order && p.mark && p.plan && p.aux_task && p.keyed &&
                     p.unpanned
                 ? 0
                 : -1;
    for (size_t a = 0; rc == 0 && a < s->n_aux; a++) p.aux_task[a] = -1;
    if (rc == 0) {
        for (size_t n = 0; n < p.n_nodes; n++) p.node_task[n] = -1;
        s_mark_needed(&p);
        for (size_t n = 0; n < p.n_nodes; n++)
            if (p.needed[n]) s_visit(&p, n);
    }
    double session_s = 0;
    for (size_t i = 0; i < s->n_tracks; i++)
        if (p.needed[i] && s->tracks[i].start_s + s_track_length_s(&s->tracks[i]) > session_s)
            session_s = s->tracks[i].start_s + s_track_length_s(&s->tracks[i]);
    if (rc == 0) rc = s_emit_aux(&p, sources);
    for (size_t k = 0; rc == 0 && k < p.n_order; k++) {
        size_t node = (size_t)p.order[k];
        strip_in_t in;
        const int strip = node < s->n_tracks;
        if (strip) s_emit_source(&p, node, &sources[node], &in);
        if (rc == 0) rc = s_emit_channel(&p, node, session_s, strip ? &in : NULL);
    }
    if (rc == 0) {
        p.plan->mix = s_port(p.node_task[p.n_nodes - 1], 0);
        rc = s_plan_stems(&p);
    }
    if (rc == 0) rc = mf_plan_outputs(p.plan, s, sources, p.aux_task);
    free(p.needed);
    free(p.node_task);
    free(p.order);
    free(p.mark);
    free(p.aux_task);
    free(p.keyed);
    free(p.unpanned);
    if (rc != 0) mf_plan_free(&p.plan);
    return p.plan;
}

void mf_plan_free(mf_plan_t **pp)
{
    if (!pp || !*pp) return;
    mf_plan_t *p = *pp;
    for (size_t i = 0; i < p->n_tasks; i++) {
        free(p->tasks[i].kind);
        free(p->tasks[i].label);
        free(p->tasks[i].params);
        free(p->tasks[i].in);
    }
    for (size_t i = 0; i < p->n_stems; i++) free(p->stems[i].name);
    for (size_t i = 0; i < p->n_outputs; i++) {
        free(p->outputs[i].path);
        free(p->outputs[i].format);
    }
    free(p->outputs);
    free(p->tasks);
    free(p->stems);
    free(p);
    *pp = NULL;
}

char *mf_plan_stem_path(const char *name)
{
    size_t n = strlen(name) + 16;
    char *p = malloc(n);
    if (!p) return NULL;
    snprintf(p, n, "stems/%s", name);
    mf_file_name_clean(p + 6);
    strcat(p, ".wav");
    return p;
}
