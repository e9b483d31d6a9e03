/*
 * The yardstick for nsclone's benchmark: the least a C launcher can do to
 * run a command in a new UTS namespace. mmap a stack, clone(CLONE_NEWUTS)
 * onto it, set the hostname and execvp in the child, waitpid in the parent.
 * Built dynamically linked (cc's default) by `make bench`: the yardstick.
 * Built again with -static -DVFORK (CLONE_VM|CLONE_VFORK, as posix_spawn):
 * what is left is glibc's own start-up, which nolibc_launcher.c, the
 * limit, does without.
 *
 * Usage: clone_launcher COMMAND [ARG...]; exits with the command's status.
 */
#define _GNU_SOURCE
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/wait.h>

#define STACK_SIZE (64 * 1024)

#ifdef VFORK
#define CLONE_STYLE (CLONE_VM | CLONE_VFORK)
#else
#define CLONE_STYLE 0
#endif

static int child(void *arg)
{
	char **argv = arg;

	if (sethostname("newhostname", 11) == -1) {
		perror("sethostname");
		return 125;
	}
	execvp(argv[0], argv);
	perror("execvp");
	return 127;
}

int main(int argc, char **argv)
{
	char *stack;
	pid_t pid;
	int status;

	if (argc < 2) {
		fprintf(stderr, "usage: clone_launcher COMMAND [ARG...]\n");
		return 125;
	}
	stack = mmap(NULL, STACK_SIZE, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
	if (stack == MAP_FAILED) {
		perror("mmap");
		return 125;
	}
	pid = clone(child, stack + STACK_SIZE,
		    CLONE_NEWUTS | CLONE_STYLE | SIGCHLD, argv + 1);
	if (pid == -1) {
		perror("clone");
		return 125;
	}
	if (waitpid(pid, &status, 0) == -1) {
		perror("waitpid");
		return 125;
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
