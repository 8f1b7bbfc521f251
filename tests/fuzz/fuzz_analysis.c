/* libFuzzer: an analysis blob (qc/mf_analysis_blob.h) from any bytes, as
 * the qc task reads one an encode task made: refused or read, never read
 * past its end nor trusted for a count it cannot hold; one that is read
 * packs back to the very same bytes. */
#include "mf_analysis_blob.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mf_analysis_t a;
    if (mf_analysis_unpack(data, size, &a) != MF_OK) return 0;
    unsigned char *b = NULL;
    size_t n = 0;
    if (mf_analysis_pack(&a, &b, &n) != MF_OK) abort();
    if (n != size || memcmp(b, data, n)) abort();
    free(b);
    mf_analysis_fini(&a);
    return 0;
}
