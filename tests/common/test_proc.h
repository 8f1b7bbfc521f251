/* Processes a test starts and watches (CMakeLists.txt: mf_test_proc). */
#ifndef MF_TEST_PROC_H
#define MF_TEST_PROC_H

#include <sys/types.h>

/* Starts `BIN render SESSION -o OUT --workers 2 --quiet` with its stderr in
 * ERR; the test fails when it cannot be started. */
pid_t test_spawn_render(const char *bin, const char *session, const char *out, const char *err);
/* A "kB" field of /proc/PID/status (VmRSS, VmHWM...), or -1 once the
 * process is gone. */
long test_proc_kb(pid_t pid, const char *field);

#endif
