#include "test_audio.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <sndfile.h>

void test_audio_write(const char *path, int channels, int rate, int format, const float *x,
                      long frames)
{
    SF_INFO info = {.samplerate = rate, .channels = channels, .format = format};
    SNDFILE *f = sf_open(path, SFM_WRITE, &info);
    if (!f) fail_msg("%s: %s", path, sf_strerror(NULL));
    if (sf_writef_float(f, x, frames) != frames) fail_msg("%s: %s", path, sf_strerror(f));
    if (sf_close(f) != 0) fail_msg("%s: cannot close", path);
}
