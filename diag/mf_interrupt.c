#include "mf_interrupt.h"

#include <signal.h>
#include <string.h>

static volatile sig_atomic_t s_caught;

static void s_on_signal(int sig)
{
    s_caught = sig;
}

void mf_interrupt_catch(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = s_on_signal;
    sigemptyset(&sa.sa_mask);
    /* Once: the next signal has its default action, for a user who does
     * not want to wait for the tidying. SA_RESTART spares the file I/O of
     * other threads; a poll is interrupted all the same. */
    sa.sa_flags = SA_RESETHAND | SA_RESTART;
    static const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) sigaction(sigs[i], &sa, NULL);
}

int mf_interrupted(void)
{
    return s_caught;
}

void mf_interrupt_exit(void)
{
    const int sig = s_caught;
    if (!sig) return;
    signal(sig, SIG_DFL);
    raise(sig);
}
