/*
 * Programs that do nothing, to see what starting a program costs before
 * main, and where that time goes. Built three ways by `make bench`:
 *
 *   cc -O2 -static startup.c
 *       int main(void) { return 0; } with static glibc: glibc's start-up
 *       runs first (TLS, IRELATIVE relocations, tunables, and the CPU
 *       feature and cache-size probing that picks memcpy's variant);
 *   cc -O2 -static -nostdlib -nostartfiles -ffreestanding
 *      -fno-stack-protector -fno-pie -no-pie -DNOLIBC startup.c
 *       no libc: _start makes exit_group(0), its only system call;
 *   the same with -DCPUIDS=60
 *       no libc, 60 CPUID instructions before exit_group(0). On a virtual
 *       machine every CPUID traps to the hypervisor, which answers it in
 *       its place (a VM exit and entry, microseconds each); glibc's
 *       start-up executes dozens of them.
 */
#ifndef NOLIBC

int main(void)
{
	return 0;
}

#else

#include <asm/unistd.h> /* __NR_exit_group */

#ifndef CPUIDS
#define CPUIDS 0
#endif

__attribute__((noreturn, used)) void start(void)
{
	for (int i = 0; i < CPUIDS; i++) {
		/* Leaf 0 (vendor string); volatile: the answer is unused. */
		unsigned int eax = 0, ebx, ecx = 0, edx;

		__asm__ volatile("cpuid"
				 : "+a"(eax), "=b"(ebx), "+c"(ecx), "=d"(edx));
	}
	__asm__ volatile("syscall" : : "a"(__NR_exit_group), "D"(0));
	__builtin_unreachable();
}

/* The ELF entry point: the kernel leaves rsp 16-byte aligned on argc. */
__asm__(".text\n"
	".globl _start\n"
	"_start:\n"
	"	xor %ebp, %ebp\n" /* outermost frame: unwinders stop */
	"	call start\n"
	"	hlt\n");

#endif
