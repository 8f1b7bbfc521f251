#include "mf_seen.h"

#include <stdlib.h>

int mf_seen(mf_seen_t *s, const struct stat *st)
{
    for (size_t i = 0; i < s->n; i++) /* a walk meets thousands at most */
        if (s->ids[i].dev == st->st_dev && s->ids[i].ino == st->st_ino) return 1;
    if (s->n == s->cap) {
        const size_t cap = s->cap ? 2 * s->cap : 64;
        void *p = realloc(s->ids, cap * sizeof *s->ids);
        if (!p) return 0;
        s->ids = p, s->cap = cap;
    }
    s->ids[s->n].dev = st->st_dev, s->ids[s->n].ino = st->st_ino;
    s->n++;
    return 0;
}

void mf_seen_fini(mf_seen_t *s)
{
    free(s->ids);
    *s = (mf_seen_t){0};
}
