/* The mixfarm command: one table of subcommands, each in its own file. */
#ifndef MF_CLI_H
#define MF_CLI_H

/* Exit codes (CLI.md). */
enum { MF_EXIT_OK = 0, MF_EXIT_FAILED = 1, MF_EXIT_USAGE = 2, MF_EXIT_UNREACHABLE = 3 };

int mf_cmd_render(int argc, char **argv);

/* Parses a positive integer option value; -1 when it is not one. */
int mf_cli_positive_int(const char *s);

#endif
