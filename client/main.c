/* mixfarm: renders sessions on an embedded farm, or (later) talks to a
 * coordinator. Each subcommand lives in its own cmd_*.c file. */
#include "mf_cli.h"
#include "mf_fdlimit.h"
#include "mf_heap.h"
#include "mf_log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} s_commands[] = {
    {"render", mf_cmd_render, "render a session: mix.wav, stems and manifest.json in OUTDIR"},
    {"submit", mf_cmd_submit, "submit a session to a coordinator; prints the job id"},
    {"status", mf_cmd_status, "show jobs on a coordinator (--json for scripts)"},
    {"watch", mf_cmd_watch, "follow a job until it ends"},
    {"fetch", mf_cmd_fetch, "write a finished job's outputs into OUTDIR"},
    {"cancel", mf_cmd_cancel, "cancel a job"},
    {"qc", mf_cmd_qc, "measure audio files and check them for delivery (loudness, peaks...)"},
    {"compare", mf_cmd_compare, "compare a mix or master with a reference track"},
    {"diff", mf_cmd_diff, "what changed between two renders (OLD_OUTDIR NEW_OUTDIR)"},
    {"init", mf_cmd_init, "write a session.json for a folder of recorded tracks"},
    {"catalogue", mf_cmd_catalogue,
     "submit a list or folder of sessions at low priority, resumable, with a report"},
    {"keygen", mf_cmd_keygen, "make a CURVE key pair for a secured farm: NAME.key, NAME.pub"},
};

/* The options of every command that talks to a coordinator, taken out of
 * argv here, once for all of them: --curve-keys NAME and --server-key FILE
 * (a secured farm), --shared-store DIR (a farm whose store this machine
 * mounts). Returns the new argc, or -1 when one lacks its value. */
static int s_take_farm_options(int argc, char **argv)
{
    static const char *names[] = {"--curve-keys", "--server-key", "--shared-store"};
    const char *value[3] = {NULL, NULL, NULL};
    int out = 0;
    for (int i = 0; i < argc; i++) {
        int k = 0;
        size_t len = 0;
        for (; k < 3; k++) {
            len = strlen(names[k]);
            if (!strncmp(argv[i], names[k], len) && (!argv[i][len] || argv[i][len] == '=')) break;
        }
        if (k == 3) {
            argv[out++] = argv[i];
            continue;
        }
        if (argv[i][len] == '=') {
            value[k] = argv[i] + len + 1;
        } else if (i + 1 < argc) {
            value[k] = argv[++i];
        } else {
            fprintf(stderr, "mixfarm: %s needs a value\n", argv[i]);
            return -1;
        }
    }
    argv[out] = NULL;
    mf_cli_set_curve(value[0], value[1]);
    mf_cli_set_shared_store(value[2]);
    return out;
}

static void s_usage(FILE *out)
{
    fprintf(out, "usage: mixfarm COMMAND [ARGS]   (mixfarm COMMAND --help for more)\n\n"
                 "mixfarm renders multitrack sessions and albums (see docs/session.md) into\n"
                 "a mix, stems, mastered deliverables and QC reports, on a farm of workers.\n\n"
                 "commands:\n");
    for (size_t i = 0; i < sizeof s_commands / sizeof s_commands[0]; i++)
        fprintf(out, "  %-9s %s\n", s_commands[i].name, s_commands[i].summary);
    fprintf(out, "\nOn a secured farm, every command that talks to a coordinator also takes\n"
                 "--curve-keys NAME --server-key FILE (or MIXFARM_KEYS, MIXFARM_SERVER_KEY).\n"
                 "On a machine that mounts the coordinator's blob store (its --state DIR/blobs),\n"
                 "--shared-store DIR (or MIXFARM_SHARED_STORE) puts sources there and reads\n"
                 "outputs from there: no audio crosses the network.\n");
    fprintf(out, "\nexamples:\n  mixfarm render demo/session.json -o demo/out\n"
                 "  mixfarm render song.json -o out --coordinator tcp://render01:5555\n"
                 "  job=$(mixfarm submit song.json --coordinator tcp://render01:5555)\n\n"
                 "exit codes: 0 done, 1 the work failed, 2 bad usage or input,\n"
                 "            3 coordinator unreachable\n");
}

int main(int argc, char **argv)
{
    mf_log_init("mixfarm", MF_LOG_INFO);
    mf_heap_tune();
    mf_fd_limit_raise(); /* an embedded farm is a coordinator too */
    if (argc < 2) {
        s_usage(stderr);
        return MF_EXIT_USAGE;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        s_usage(stdout);
        return MF_EXIT_OK;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("mixfarm %s\n", MF_VERSION);
        return MF_EXIT_OK;
    }
    for (size_t i = 0; i < sizeof s_commands / sizeof s_commands[0]; i++) {
        if (strcmp(argv[1], s_commands[i].name)) continue;
        int n = s_take_farm_options(argc - 1, argv + 1);
        return n < 0 ? MF_EXIT_USAGE : s_commands[i].run(n, argv + 1);
    }
    fprintf(stderr, "mixfarm: unknown command \"%s\"\n", argv[1]);
    s_usage(stderr);
    return MF_EXIT_USAGE;
}
