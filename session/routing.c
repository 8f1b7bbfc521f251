/* Routing: the channels and their signal edges form a graph that must have no
 * cycle, or no channel could be rendered first.
 *
 * Nodes are the tracks, the buses and the master. Edges go where a signal
 * goes: a channel's output, its sends, and the sidechain source of an insert
 * into the channel that holds the insert (a compressor on the Drums bus keyed
 * from the Kick needs the Kick first). A track has no input but its file, so
 * tracks alone cannot close a loop, but a sidechain into a track can: a bus
 * keying an insert of a track that feeds the bus. Every cycle found by one
 * depth-first search is reported, naming its channels in signal order. */
#include "session_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Edges in compressed rows: the targets of node i are to[first[i] ..
 * first[i + 1]), sorted and without repeats (an output and a send to the same
 * bus are one edge here). */
typedef struct {
    size_t from, to;
} edge_t;

typedef struct {
    edge_t *edges;
    size_t n_edges, cap;
    size_t *first; /* nodes + 1 offsets into to */
    size_t *to;
    size_t nodes;
} graph_t;

static size_t s_node(const mf_session_t *s, mf_ref_t r)
{
    switch (r.kind) {
    case MF_REF_TRACK:
        return (size_t)r.index;
    case MF_REF_BUS:
        return s->n_tracks + (size_t)r.index;
    default:
        return s->n_tracks + s->n_buses;
    }
}

static mf_ref_t s_ref(const mf_session_t *s, size_t node)
{
    mf_ref_t r = {MF_REF_MASTER, 0};
    if (node < s->n_tracks) {
        r.kind = MF_REF_TRACK;
        r.index = (int)node;
    } else if (node < s->n_tracks + s->n_buses) {
        r.kind = MF_REF_BUS;
        r.index = (int)(node - s->n_tracks);
    }
    return r;
}

static void s_add(graph_t *g, size_t from, size_t to)
{
    if (g->n_edges == g->cap) {
        g->cap = g->cap ? g->cap * 2 : 64;
        g->edges = realloc(g->edges, g->cap * sizeof *g->edges);
        if (!g->edges) abort();
    }
    g->edges[g->n_edges].from = from;
    g->edges[g->n_edges].to = to;
    g->n_edges++;
}

static int s_cmp_edge(const void *pa, const void *pb)
{
    const edge_t *a = pa, *b = pb;
    if (a->from != b->from) return a->from < b->from ? -1 : 1;
    if (a->to != b->to) return a->to < b->to ? -1 : 1;
    return 0;
}

static void s_build_rows(graph_t *g)
{
    if (g->n_edges) qsort(g->edges, g->n_edges, sizeof *g->edges, s_cmp_edge);
    g->first = calloc(g->nodes + 1, sizeof *g->first);
    g->to = calloc(g->n_edges ? g->n_edges : 1, sizeof *g->to);
    if (!g->first || !g->to) abort();
    size_t n = 0;
    for (size_t i = 0; i < g->n_edges; i++) {
        if (i > 0 && s_cmp_edge(&g->edges[i], &g->edges[i - 1]) == 0) continue;
        g->to[n++] = g->edges[i].to;
        g->first[g->edges[i].from + 1] = n;
    }
    /* Nodes without edges start where the previous one ended. */
    for (size_t i = 1; i <= g->nodes; i++)
        if (g->first[i] < g->first[i - 1]) g->first[i] = g->first[i - 1];
}

static void s_add_channel(graph_t *g, const mf_session_t *s, const mf_channel_t *ch, size_t self)
{
    if (ch->output.kind == MF_REF_BUS || ch->output.kind == MF_REF_MASTER)
        s_add(g, self, s_node(s, ch->output));
    for (size_t i = 0; i < ch->n_sends; i++) {
        if (ch->sends[i].bus < 0) continue;
        mf_ref_t r = {MF_REF_BUS, ch->sends[i].bus};
        s_add(g, self, s_node(s, r));
    }
    for (size_t i = 0; i < ch->n_inserts; i++) {
        mf_ref_t src = ch->inserts[i].sidechain;
        if (src.kind == MF_REF_TRACK || src.kind == MF_REF_BUS) s_add(g, s_node(s, src), self);
    }
}

enum { WHITE, GREY, BLACK };

typedef struct {
    const mf_session_t *s;
    const graph_t *g;
    unsigned char *color;
    size_t *stack; /* the current path */
    size_t depth;
    mf_diags_t *d;
    int found;
} dfs_t;

static void s_report(dfs_t *x, size_t back_to)
{
    size_t from = 0;
    while (x->stack[from] != back_to) from++;
    char msg[2048];
    size_t len = 0;
    for (size_t i = from; i <= x->depth && len < sizeof msg; i++) {
        size_t node = i < x->depth ? x->stack[i] : back_to;
        const char *name = mf_session_ref_name(x->s, s_ref(x->s, node));
        int n = snprintf(msg + len, sizeof msg - len, "%s%s", i > from ? " -> " : "",
                         name ? name : "?");
        if (n < 0) break;
        len += (size_t)n;
    }
    mf_diags_error(x->d, "buses", "routing cycle: %s", msg);
    x->found = 1;
}

static void s_visit(dfs_t *x, size_t node)
{
    x->color[node] = GREY;
    x->stack[x->depth++] = node;
    for (size_t i = x->g->first[node]; i < x->g->first[node + 1]; i++) {
        size_t next = x->g->to[i];
        if (x->color[next] == GREY)
            s_report(x, next);
        else if (x->color[next] == WHITE)
            s_visit(x, next);
    }
    x->depth--;
    x->color[node] = BLACK;
}

int mf_sess__check_routing(const mf_session_t *s, mf_diags_t *d)
{
    graph_t g = {.nodes = s->n_tracks + s->n_buses + 1};
    dfs_t x = {.s = s, .g = &g, .d = d};
    x.color = calloc(g.nodes, 1);
    x.stack = calloc(g.nodes + 1, sizeof *x.stack);
    if (!x.color || !x.stack) abort();

    for (size_t i = 0; i < s->n_tracks; i++) s_add_channel(&g, s, &s->tracks[i].ch, i);
    for (size_t i = 0; i < s->n_buses; i++) s_add_channel(&g, s, &s->buses[i], s->n_tracks + i);
    s_add_channel(&g, s, &s->master, s->n_tracks + s->n_buses);
    s_build_rows(&g);

    for (size_t i = 0; i < g.nodes; i++)
        if (x.color[i] == WHITE) s_visit(&x, i);

    free(g.edges);
    free(g.first);
    free(g.to);
    free(x.color);
    free(x.stack);
    return x.found ? -1 : 0;
}
