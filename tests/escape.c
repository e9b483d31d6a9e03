/* The classic escape from chroot(2), run by tests/root.rs and docs/life.md:
 * chroot into a subdirectory while the current directory stays above it,
 * climb with ".." (which stops only at the root, never met on the way up),
 * then chroot("."). Prints "escaped" and exits 0 if argv[1], a path of
 * the host, can then be seen; "stayed" and 1 if not. */
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

int main(int argc, char **argv) {
    struct stat st;
    int i;
    if (argc != 2) return 2;
    mkdir("/tmp/escape", 0755);
    if (chroot("/tmp/escape") != 0) { perror("chroot"); return 2; }
    for (i = 0; i < 64; i++) chdir("..");
    if (chroot(".") != 0) { perror("chroot ."); return 2; }
    if (stat(argv[1], &st) == 0) { puts("escaped"); return 0; }
    puts("stayed");
    return 1;
}
