/* mixfarm keygen -o NAME: a CURVE key pair for a secured farm (CLI.md). */
#include "mf_cli.h"
#include "mf_curve.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

static const char s_help[] =
    "usage: mixfarm keygen -o NAME\n\n"
    "Makes a CURVE key pair for a secured farm:\n"
    "  NAME.key   the secret key (mode 0600): stays on this machine, never shared\n"
    "  NAME.pub   the public key: copy it where the other side needs it\n"
    "Existing files are never overwritten.\n\n"
    "A secured farm:\n"
    "  mixfarm keygen -o coordinator      # on the coordinator's host\n"
    "  mixfarm keygen -o render01         # one per worker, one per user\n"
    "  cp render01.pub alice.pub /etc/mixfarm/allow/\n"
    "  mixfarm-coordinator ... --curve-keys coordinator --allow /etc/mixfarm/allow\n"
    "  mixfarm-worker ... --curve-keys render01 --server-key coordinator.pub\n"
    "  mixfarm submit ... --curve-keys alice --server-key coordinator.pub\n"
    "      (or MIXFARM_KEYS=alice MIXFARM_SERVER_KEY=coordinator.pub)\n\n"
    "It prints the public key's fingerprint: the coordinator names a refused\n"
    "key by it.\n";

int mf_cmd_keygen(int argc, char **argv)
{
    static const struct option longs[] = {
        {"output", required_argument, 0, 'o'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    const char *name = NULL;
    optind = 1;
    for (int c; (c = getopt_long(argc, argv, "o:h", longs, NULL)) != -1;) {
        if (c == 'h') {
            fputs(s_help, stdout);
            return MF_EXIT_OK;
        }
        if (c != 'o') {
            fprintf(stderr, "usage: mixfarm keygen -o NAME\n");
            return MF_EXIT_USAGE;
        }
        name = optarg;
    }
    if (!name || !*name || optind != argc) {
        fprintf(stderr, "usage: mixfarm keygen -o NAME\n");
        return MF_EXIT_USAGE;
    }
    char fp[MF_CURVE_FP];
    mf_err_t err = mf_curve_keygen(name, fp);
    if (err != MF_OK) return err == MF_ERR_INVALID ? MF_EXIT_USAGE : MF_EXIT_FAILED;
    printf("wrote %s.key (secret, mode 0600) and %s.pub (public, fingerprint %s)\n", name, name,
           fp);
    return MF_EXIT_OK;
}
