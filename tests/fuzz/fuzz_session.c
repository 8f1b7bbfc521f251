/* libFuzzer: the session loader and validator on any bytes, as the
 * coordinator loads a submitted document (no file system: sources come from
 * a fake manifest where every file exists as a short stereo file). */
#include "mf_session.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static int s_audio(void *ctx, const char *file, int *channels, int *rate, int64_t *frames,
                   char *why, size_t n)
{
    (void)ctx, (void)why, (void)n;
    /* A name decides the header, so the fuzzer can reach the checks. */
    size_t len = strlen(file);
    *channels = len % 3 ? 2 : 1;
    *rate = len % 2 ? 44100 : 48000;
    *frames = (int64_t)(len * 1000);
    return file[0] == 'x' ? -1 : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text) return 0;
    memcpy(text, data, size);
    text[size] = 0;
    mf_diags_t d;
    mf_diags_init(&d, "fuzz.json");
    mf_session_source_t src = {.audio = s_audio};
    mf_session_t *s = mf_session_load_text("fuzz.json", text, &src, &d);
    mf_session_free(&s);
    mf_diags_fini(&d);
    free(text);
    return 0;
}
