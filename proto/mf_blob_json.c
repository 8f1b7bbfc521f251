#include "mf_blob_json.h"

#include <stdlib.h>

json_t *mf_blob_json(const mf_store_t *s, const mf_hash_t *h)
{
    char *path = mf_store_path(s, h);
    json_error_t jerr;
    json_t *j = path ? json_load_file(path, 0, &jerr) : NULL;
    free(path);
    return j;
}
