#include "mf_mp3_rates.h"

static const int s_rates[] = {8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000};
static const int s_mpeg1[] = {32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320};
static const int s_mpeg2[] = {8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160};
/* LAME keeps MPEG 2.5 (8 to 12 kHz) at 64 kbps and under. */
static const int s_mpeg25[] = {8, 16, 24, 32, 40, 48, 56, 64};
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

int mf_mp3_rate(int rate)
{
    for (size_t i = 0; i < COUNT(s_rates); i++)
        if (s_rates[i] == rate) return rate;
    return rate % 11025 == 0 ? 44100 : 48000;
}

const int *mf_mp3_kbps(int rate, size_t *n, const char **version)
{
    if (rate >= 32000) {
        *n = COUNT(s_mpeg1), *version = "MPEG 1";
        return s_mpeg1;
    }
    if (rate >= 16000) {
        *n = COUNT(s_mpeg2), *version = "MPEG 2";
        return s_mpeg2;
    }
    *n = COUNT(s_mpeg25), *version = "MPEG 2.5";
    return s_mpeg25;
}

int mf_mp3_max_kbps(int rate)
{
    size_t n;
    const char *v;
    const int *k = mf_mp3_kbps(rate, &n, &v);
    return k[n - 1];
}
