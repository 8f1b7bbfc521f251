/* One line per event on stderr: "mixfarm: message". The program name is set
 * once at start; the level filter lets --quiet drop progress and info. */
#ifndef MF_LOG_H
#define MF_LOG_H

typedef enum { MF_LOG_DEBUG, MF_LOG_INFO, MF_LOG_WARN, MF_LOG_ERROR } mf_log_level_t;

void mf_log_init(const char *program, mf_log_level_t min_level);
/* Raises the minimum level for the calling thread only (the embedded farm's
 * threads keep their routine lines to themselves). */
void mf_log_thread_min(mf_log_level_t min_level);
void mf_log(mf_log_level_t level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* No line from here on, whatever its level and thread: for a process
 * about to die of a signal, whose threads would report as failures what
 * the stop does to them. */
void mf_log_silence(void);
/* Whether a line of this level would be written (progress drawn beside the
 * log follows the same --quiet). */
int mf_log_enabled(mf_log_level_t level);

#define mf_info(...) mf_log(MF_LOG_INFO, __VA_ARGS__)
#define mf_warn(...) mf_log(MF_LOG_WARN, __VA_ARGS__)
#define mf_error(...) mf_log(MF_LOG_ERROR, __VA_ARGS__)
#define mf_debug(...) mf_log(MF_LOG_DEBUG, __VA_ARGS__)

#endif
