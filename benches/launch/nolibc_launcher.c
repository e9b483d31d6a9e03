/*
 * The limit for nsclone's benchmark: a launcher with no C library at all.
 * The kernel jumps to our own _start; every instruction after that is
 * below, and every system call is a raw `syscall`: one clone with
 * CLONE_NEWUTS|CLONE_VM|CLONE_VFORK onto a static stack, sethostname and
 * execve in the child, wait4 and exit_group in the parent. Nothing starts
 * before it (no glibc start-up, no CPUID), so what it costs is its own exec,
 * one clone and the command's exec: about the least any launcher can cost.
 *
 * Usage: nolibc_launcher /ABSOLUTE/PATH [ARG...]. There is no PATH search:
 * the command is executed as given (the bench passes /bin/true, /bin/cat).
 * Exits with the command's status (128+N if signal N killed it), 125 if the
 * launcher failed, 127 if the exec did.
 *
 * Build: cc -O2 -static -nostdlib -nostartfiles -ffreestanding
 *        -fno-stack-protector -fno-pie -no-pie (see benches/launch/main.rs).
 */
#include <asm/signal.h>  /* SIGCHLD */
#include <asm/unistd.h>  /* __NR_* */
#include <linux/sched.h> /* CLONE_* */

/* A raw system call: number in rax, arguments in rdi, rsi, rdx, r10; the
 * kernel returns -errno on failure and clobbers rcx and r11. */
static long sys4(long nr, long a, long b, long c, long d)
{
	register long r10 __asm__("r10") = d;
	long ret;

	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(nr), "D"(a), "S"(b), "d"(c), "r"(r10)
			 : "rcx", "r11", "memory");
	return ret;
}

static __attribute__((noreturn)) void exit_group(int code)
{
	sys4(__NR_exit_group, code, 0, 0, 0);
	__builtin_unreachable();
}

/* One line on stderr, then exit with `code`. */
#define FAIL(msg, code) fail(msg "\n", sizeof(msg), code)

static __attribute__((noreturn)) void fail(const char *line, long len, int code)
{
	sys4(__NR_write, 2, (long)line, len, 0);
	exit_group(code);
}

/* The child's stack: it runs there while the parent sleeps (CLONE_VFORK). */
static char child_stack[16384] __attribute__((aligned(16)));

/* The child, on child_stack, in the new UTS namespace. Never returns. */
__attribute__((noreturn, used)) void child(char **argv, char **envp)
{
	if (sys4(__NR_sethostname, (long)"newhostname", 11, 0, 0) < 0)
		FAIL("nolibc_launcher: sethostname failed", 125);
	sys4(__NR_execve, (long)argv[0], (long)argv, (long)envp, 0);
	FAIL("nolibc_launcher: execve failed", 127);
}

/* clone(2), in one asm block: the child wakes up after `syscall` on the
 * empty child_stack, so it must not return into compiled C (which would
 * read its locals through the stack pointer); it calls child() right there,
 * with argv and envp kept in r12 and r13, which syscall preserves. */
static long clone_child(char **argv, char **envp)
{
	register long tid __asm__("r10") = 0; /* child_tid: none */
	register long tls __asm__("r8") = 0;
	register char **r12 __asm__("r12") = argv;
	register char **r13 __asm__("r13") = envp;
	long ret;

	__asm__ volatile("syscall\n\t"
			 "test %%rax, %%rax\n\t"
			 "jnz 1f\n\t"           /* parent (pid) or -errno */
			 "xor %%ebp, %%ebp\n\t" /* child: no frame above */
			 "mov %%r12, %%rdi\n\t"
			 "mov %%r13, %%rsi\n\t"
			 "call child\n\t"
			 "hlt\n" /* child() never returns */
			 "1:"
			 : "=a"(ret)
			 : "a"(__NR_clone),
			   "D"(CLONE_NEWUTS | CLONE_VM | CLONE_VFORK | SIGCHLD),
			   "S"(child_stack + sizeof child_stack), "d"(0),
			   "r"(tid), "r"(tls), "r"(r12), "r"(r13)
			 : "rcx", "r11", "memory");
	return ret;
}

/* Called by _start with the stack the kernel built: argc, argv[0..argc],
 * NULL, envp..., NULL, then the auxiliary vector (unused here). */
__attribute__((noreturn, used)) void start(long *sp)
{
	long argc = sp[0];
	char **argv = (char **)(sp + 1);
	char **envp = argv + argc + 1;
	long pid;
	int status;

	if (argc < 2)
		FAIL("usage: nolibc_launcher /ABSOLUTE/PATH [ARG...]", 125);
	pid = clone_child(argv + 1, envp);
	if (pid < 0)
		FAIL("nolibc_launcher: clone failed", 125);
	if (sys4(__NR_wait4, pid, (long)&status, 0, 0) < 0)
		FAIL("nolibc_launcher: wait4 failed", 125);
	if ((status & 0x7f) == 0)
		exit_group((status >> 8) & 0xff); /* exited: its code */
	exit_group(128 + (status & 0x7f));        /* killed by a signal */
}

/* The ELF entry point. The kernel leaves rsp on argc, 16-byte aligned on
 * x86_64; aligning again costs nothing and makes the `call` give start()
 * the alignment the ABI promises a function. */
__asm__(".text\n"
	".globl _start\n"
	"_start:\n"
	"	xor %ebp, %ebp\n" /* outermost frame: unwinders stop */
	"	mov %rsp, %rdi\n" /* start(sp) */
	"	and $-16, %rsp\n"
	"	call start\n"
	"	hlt\n");
