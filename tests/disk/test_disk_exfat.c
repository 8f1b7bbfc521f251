/* Disk: renders onto an exFAT drive, the format of the USB drives studios
 * hand renders over on. exFAT (like FAT, and SMB shares without Unix
 * extensions) has no hard links: a render's staging folder took its owner
 * mark with link(2), so every render onto such a drive failed ("cannot
 * write in the output folder: Operation not permitted"), and the FUSE
 * driver keeps an open file's folder from going, so the staging folder
 * stayed. An exFAT image is made in a file (mkfs.exfat from exfatprogs)
 * and mounted through FUSE (mount.exfat-fuse from exfat-fuse) on a loop
 * device in a private mount namespace (root); where any of that is not
 * there or not allowed, the program exits 77 (ctest: skipped).
 *
 *   render_onto_exfat   an embedded render into a folder of the drive
 *                       writes what the same render writes on the local
 *                       disk (mix, stems and manifest the same bytes) and
 *                       leaves no staging folder; a revision rendered into
 *                       the same folder replaces what changed, and leaves
 *                       none either */
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sndfile.h>

#include "cluster_util.h"
#include "disk_util.h"

static char s_mnt[1200], s_image[1200], s_loop[64];

static int s_run_quiet(const char *cmd)
{
    char line[2600];
    snprintf(line, sizeof line, "%s >/dev/null 2>&1", cmd);
    return system(line);
}

/* The exFAT image under TMPDIR, mounted at s_mnt; a reason when it cannot be. */
static const char *s_mount_exfat(void)
{
    if (unshare(CLONE_NEWNS) != 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
        return "no private mount namespace (needs root or CAP_SYS_ADMIN)";
    if (s_run_quiet("command -v mkfs.exfat") != 0) return "no mkfs.exfat (exfatprogs)";
    if (s_run_quiet("command -v mount.exfat-fuse") != 0) return "no mount.exfat-fuse (exfat-fuse)";
    const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    snprintf(s_image, sizeof s_image, "%s/mf-exfat-%d.img", tmp, (int)getpid());
    snprintf(s_mnt, sizeof s_mnt, "%s/mf-exfat-%d", tmp, (int)getpid());
    char cmd[2600];
    snprintf(cmd, sizeof cmd, "truncate -s 200M '%s' && mkfs.exfat '%s'", s_image, s_image);
    if (s_run_quiet(cmd) != 0) return "mkfs.exfat failed";
    if (mkdir(s_mnt, 0755) != 0) return "cannot make the mount point";
    snprintf(cmd, sizeof cmd, "losetup -f --show '%s'", s_image);
    FILE *p = popen(cmd, "r");
    if (!p || !fgets(s_loop, sizeof s_loop, p)) {
        if (p) pclose(p);
        return "no loop device (losetup)";
    }
    pclose(p);
    s_loop[strcspn(s_loop, "\n")] = 0;
    snprintf(cmd, sizeof cmd, "mount.exfat-fuse '%s' '%s'", s_loop, s_mnt);
    if (s_run_quiet(cmd) != 0) return "no FUSE mount of the exFAT (/dev/fuse)";
    return NULL;
}

static void s_unmount_exfat(void)
{
    umount2(s_mnt, MNT_DETACH);
    if (s_loop[0]) {
        char cmd[128];
        snprintf(cmd, sizeof cmd, "losetup -d '%s'", s_loop);
        s_run_quiet(cmd);
    }
    rmdir(s_mnt);
    unlink(s_image);
}

static void s_assert_no_staging(const char *dir)
{
    char *tree = dk_list_tree(dir);
    if (strstr(tree, ".mixfarm-partial-")) fail_msg("%s keeps a staging folder:\n%s", dir, tree);
    free(tree);
}

static void s_render_ok(const char *session, const char *out)
{
    cl_run_t r = cl_render_run(session, out, NULL);
    if (r.rc != 0) fail_msg("render into %s exited %d: %s", out, r.rc, r.err);
    cl_run_free(&r);
}

static void test_render_onto_exfat(void **state)
{
    (void)state;
    const char *dir = cl_test_dir();
    const char *names[] = {"Kick", "Bass"}, *files[] = {"kick.wav", "bass.wav"};
    char path[1300], local[1300], drive[1300], a[1400], b[1400];
    snprintf(path, sizeof path, "%s/kick.wav", dir);
    dk_write_tone(path, SF_FORMAT_WAV, 2.0, 60);
    snprintf(path, sizeof path, "%s/bass.wav", dir);
    dk_write_tone(path, SF_FORMAT_WAV, 2.0, 110);
    dk_write_session(dir, "song.json", "Song", 2, names, files, -3);
    snprintf(path, sizeof path, "%s/song.json", dir);
    snprintf(local, sizeof local, "%s/local", dir);
    snprintf(drive, sizeof drive, "%s/Song %d", s_mnt, (int)getpid());
    s_render_ok(path, local);
    s_render_ok(path, drive);
    s_assert_no_staging(drive);
    const char *same[] = {"mix.wav", "manifest.json", "qc.json"};
    for (size_t k = 0; k < sizeof same / sizeof *same; k++) {
        snprintf(a, sizeof a, "%s/%s", local, same[k]);
        snprintf(b, sizeof b, "%s/%s", drive, same[k]);
        cl_assert_same_file(a, b);
    }
    /* A revision into the same folder: the fader moved. */
    dk_write_session(dir, "song.json", "Song", 2, names, files, -9);
    s_render_ok(path, drive);
    s_assert_no_staging(drive);
    snprintf(b, sizeof b, "%s/mix.wav", drive);
    snprintf(a, sizeof a, "%s/mix.wav", local);
    if (cl_same_file(a, b)) fail_msg("the revision's mix is the first render's");
    cl_test_pass();
}

static int group_setup(void **state)
{
    (void)state;
    return cl_init(CL_SANITIZED ? 300 : 150);
}

int main(void)
{
    const char *why = s_mount_exfat();
    if (why) {
        fprintf(stderr, "disk_exfat: skipped: %s\n", why);
        s_unmount_exfat();
        return 77;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_prestate_setup_teardown(test_render_onto_exfat, cl_setup, cl_teardown,
                                                 "render_onto_exfat"),
    };
    const int failed = cmocka_run_group_tests(tests, group_setup, NULL);
    s_unmount_exfat();
    return failed;
}
