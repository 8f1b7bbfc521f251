#include "mf_log.h"
#include "mf_clock.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *s_program = "mixfarm";
static mf_log_level_t s_min = MF_LOG_INFO;
static pthread_mutex_t s_lock = PTHREAD_MUTEX_INITIALIZER;
static _Thread_local int s_thread_min = MF_LOG_DEBUG;
static int s_forced; /* MIXFARM_LOG=debug: every thread says everything, timed */
static double s_t0;
static _Atomic int s_silent;

void mf_log_init(const char *program, mf_log_level_t min_level)
{
    s_program = program;
    s_min = min_level;
    const char *env = getenv("MIXFARM_LOG");
    if (env && strcmp(env, "debug") == 0) s_min = MF_LOG_DEBUG, s_forced = 1, s_t0 = mf_clock_now();
}

void mf_log_thread_min(mf_log_level_t min_level)
{
    if (!s_forced) s_thread_min = (int)min_level;
}

void mf_log_silence(void)
{
    s_silent = 1;
}

int mf_log_enabled(mf_log_level_t level)
{
    return level >= s_min && (int)level >= s_thread_min && !s_silent;
}

void mf_log(mf_log_level_t level, const char *fmt, ...)
{
    if (!mf_log_enabled(level)) return;
    char line[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    /* One write per line so lines from threads never interleave. */
    pthread_mutex_lock(&s_lock);
    if (s_forced) fprintf(stderr, "[%8.3f] ", mf_clock_now() - s_t0);
    fprintf(stderr, "%s: %s%s\n", s_program, level == MF_LOG_WARN ? "warning: " : "", line);
    pthread_mutex_unlock(&s_lock);
}
