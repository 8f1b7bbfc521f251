/* The one list of insert types. Adding a processor is one file and one line. */
#include "mf_processor.h"

#include <string.h>

extern const mf_processor_class_t mf_proc_gain;
extern const mf_processor_class_t mf_proc_eq;
extern const mf_processor_class_t mf_proc_compressor;
extern const mf_processor_class_t mf_proc_saturation;
extern const mf_processor_class_t mf_proc_gate;
extern const mf_processor_class_t mf_proc_width;
extern const mf_processor_class_t mf_proc_limiter;
extern const mf_processor_class_t mf_proc_delay;
extern const mf_processor_class_t mf_proc_reverb;
extern const mf_processor_class_t mf_proc_multiband;

static const mf_processor_class_t *const s_classes[] = {
    &mf_proc_gain,  &mf_proc_eq,      &mf_proc_compressor, &mf_proc_saturation, &mf_proc_gate,
    &mf_proc_width, &mf_proc_limiter, &mf_proc_delay,      &mf_proc_reverb,     &mf_proc_multiband,
};

const mf_processor_class_t *const *mf_processors(size_t *count)
{
    *count = sizeof s_classes / sizeof s_classes[0];
    return s_classes;
}

const mf_processor_class_t *mf_processor_find(const char *type)
{
    for (size_t i = 0; i < sizeof s_classes / sizeof s_classes[0]; i++)
        if (strcmp(s_classes[i]->type, type) == 0) return s_classes[i];
    return NULL;
}

int mf_processor_param_index(const mf_processor_class_t *cls, int band, const char *name)
{
    const mf_param_desc_t *p = band ? cls->band_params : cls->params;
    size_t n = band ? cls->n_band_params : cls->n_params;
    for (size_t i = 0; i < n; i++)
        if (strcmp(p[i].name, name) == 0) return (int)i;
    return -1;
}

size_t mf_processor_value_count(const mf_processor_class_t *cls, size_t nbands)
{
    return mf_processor_list_offset(cls, nbands, cls->n_lists);
}

int mf_processor_list_index(const mf_processor_class_t *cls, const char *name)
{
    for (size_t i = 0; i < cls->n_lists; i++)
        if (strcmp(cls->lists[i].item.name, name) == 0) return (int)i;
    return -1;
}

size_t mf_processor_list_offset(const mf_processor_class_t *cls, size_t nbands, size_t list)
{
    size_t at = cls->n_params + nbands * cls->n_band_params;
    for (size_t i = 0; i < list && i < cls->n_lists; i++) at += 1 + cls->lists[i].max_count;
    return at;
}
