/* The one list of insert types. Adding a processor is one file and one line. */
#include "mf_processor.h"

#include <string.h>

extern const mf_processor_class_t mf_proc_gain;

static const mf_processor_class_t *const s_classes[] = {
    &mf_proc_gain,
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
    return cls->n_params + nbands * cls->n_band_params;
}
