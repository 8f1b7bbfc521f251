/* gain: a plain level change, in dB. */
#include "mf_processor.h"
#include "mf_gain.h"

#include <stdlib.h>

typedef struct {
    int channels;
    float gain;
} gain_t;

static const mf_param_desc_t s_params[] = {
    {"gain_db", "dB", 0.0, -120.0, 48.0, NULL, "level change"},
};

static void gain_update(void *st, const double *v)
{
    ((gain_t *)st)->gain = (float)mf_db_to_gain(v[0]);
}

static void *gain_create(const double *v, size_t nbands, const mf_proc_env_t *env)
{
    (void)nbands;
    gain_t *g = calloc(1, sizeof *g);
    if (!g) return NULL;
    g->channels = env->channels;
    gain_update(g, v);
    return g;
}

static void gain_process(void *st, float *buf, size_t frames, const float *key)
{
    (void)key;
    gain_t *g = st;
    mf_gain_apply(buf, frames * (size_t)g->channels, g->gain);
}

const mf_processor_class_t mf_proc_gain = {
    .type = "gain",
    .summary = "a level change in dB",
    .params = s_params,
    .n_params = sizeof s_params / sizeof s_params[0],
    .create = gain_create,
    .update = gain_update,
    .process = gain_process,
    .destroy = free,
};
