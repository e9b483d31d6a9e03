//! How a process begins: what the kernel leaves on its stack.
//!
//! execve(2) builds the new program's stack and starts it at its ELF entry
//! point, `_start`, with the stack pointer on this (System V ABI, "Process
//! Initialization"; lowest address first):
//!
//! ```text
//! sp ->  argc
//!        argv[0] ... argv[argc - 1]   pointers to the argument strings
//!        NULL
//!        envp[0] ... envp[n - 1]      pointers to "NAME=value" strings
//!        NULL
//!        auxv: (key, value) pairs     what the kernel tells the program
//!        AT_NULL, 0
//!        ... the strings themselves, higher up
//! ```
//!
//! A C program never sees this: the C runtime's `_start` (crt1.o) hands it
//! to `__libc_start_main`, which sets up libc (the thread pointer and its
//! TLS, the stack protector's canary, `environ`, relocations of a static
//! PIE, the functions chosen for this processor; on x86_64 glibc asks the
//! processor about itself with dozens of CPUID instructions, each a trap to
//! the hypervisor on a virtual machine) before it calls `main(argc, argv,
//! envp)`. The nsclone binary has its own `_start` (in [`crate::arch`])
//! and reads the stack here, without a single system call.
//!
//! The auxiliary vector carries, among others, `AT_PAGESZ` (the page size),
//! `AT_UID`, `AT_EUID`, `AT_GID`, `AT_EGID` (who runs the program, and with
//! whose rights) and `AT_SECURE` (set when the program runs with more rights
//! than its caller: set-user-ID, set-group-ID or file capabilities). See
//! getauxval(3).

use core::ffi::c_char;

use crate::exec::RawWords;

/// What the kernel left on the new program's stack.
#[derive(Clone, Copy, Debug)]
pub struct InitialStack {
    /// How many arguments.
    pub argc: usize,
    /// The arguments, then NULL.
    pub argv: *const *const c_char,
    /// The environment, then NULL.
    pub envp: *const *const c_char,
    /// The auxiliary vector: (key, value) pairs, ending with `AT_NULL`.
    auxv: *const [usize; 2],
}

impl InitialStack {
    /// Read the stack whose lowest word is at `sp`: `_start`'s stack
    /// pointer, as the kernel set it.
    ///
    /// # Safety
    /// `sp` must be the initial stack pointer of a program that execve(2)
    /// started, as `_start` receives it.
    pub unsafe fn from_sp(sp: *const usize) -> InitialStack {
        // SAFETY: the caller gives the initial stack: argc, then argv with
        // its NULL, then envp with its NULL, then the auxiliary vector.
        unsafe {
            let argc = *sp;
            let argv = sp.add(1).cast::<*const c_char>();
            let envp = argv.add(argc + 1);
            let mut end = envp;
            while !(*end).is_null() {
                end = end.add(1);
            }
            InitialStack {
                argc,
                argv,
                envp,
                auxv: end.add(1).cast(),
            }
        }
    }

    /// The arguments after the program's name, as bytes.
    pub fn args(&self) -> RawWords<'static> {
        // SAFETY: the kernel's argv is NULL-terminated and lives as long as
        // the process; argv[0] is skipped only if there is one (before
        // Linux 5.18 a program could be started with argc 0; since, the
        // kernel puts an empty argv[0] there).
        unsafe { RawWords::new(self.argv.add(self.argc.min(1))) }
    }

    /// The value the kernel gave for auxiliary vector key `key` (`AT_*`).
    pub fn aux(&self, key: usize) -> Option<usize> {
        let mut entry = self.auxv;
        loop {
            // SAFETY: `from_sp` found the vector; it ends with AT_NULL.
            let [k, v] = unsafe { *entry };
            match k {
                0 => return None,
                k if k == key => return Some(v),
                // SAFETY: not at AT_NULL yet, so another pair follows.
                _ => entry = unsafe { entry.add(1) },
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stack_as_the_kernel_builds_it() {
        let (a, b) = (c"nsclone".as_ptr() as usize, c"-q".as_ptr() as usize);
        let env = c"PATH=/bin".as_ptr() as usize;
        let stack: [usize; 12] = [
            2,
            a,
            b,
            0, // argc, argv, NULL
            env,
            0, // envp, NULL
            libc::AT_PAGESZ as usize,
            4096,
            libc::AT_SECURE as usize,
            0, // auxv
            0,
            0, // AT_NULL
        ];
        // SAFETY: laid out as the kernel would.
        let initial = unsafe { InitialStack::from_sp(stack.as_ptr()) };
        assert_eq!(initial.argc, 2);
        assert_eq!(initial.args().collect::<Vec<_>>(), [b"-q"]);
        assert_eq!(initial.aux(libc::AT_PAGESZ as usize), Some(4096));
        assert_eq!(initial.aux(libc::AT_SECURE as usize), Some(0));
        assert_eq!(initial.aux(libc::AT_UID as usize), None);
        // SAFETY: envp as found: NULL-terminated.
        let env: Vec<_> = unsafe { RawWords::new(initial.envp) }.collect();
        assert_eq!(env, [b"PATH=/bin"]);
    }

    #[test]
    fn the_auxiliary_vector_reads_as_libc_reads_it() {
        // This test's own auxiliary vector, as the kernel shows it, on a
        // stack with no arguments and no environment; glibc's getauxval
        // reads the same vector from the real stack.
        let auxv = std::fs::read("/proc/self/auxv").unwrap();
        let mut stack = vec![0usize, 0, 0];
        stack.extend(
            auxv.chunks_exact(8)
                .map(|w| usize::from_ne_bytes(w.try_into().unwrap())),
        );
        // SAFETY: argc 0, argv's NULL, envp's NULL, then the vector.
        let initial = unsafe { InitialStack::from_sp(stack.as_ptr()) };
        assert_eq!(initial.args().count(), 0);
        for key in [
            libc::AT_PAGESZ,
            libc::AT_UID,
            libc::AT_EUID,
            libc::AT_SECURE,
            libc::AT_RANDOM,
        ] {
            // SAFETY: getauxval only reads.
            let theirs = unsafe { libc::getauxval(key) } as usize;
            assert_eq!(initial.aux(key as usize), Some(theirs), "key {key}");
        }
    }
}
