# fish completion for nsclone(1).
#
# Options first, then a command, then that command's own completion: as
# nsclone reads its command line, options stop at the first word that is not
# one, or after --. tests/install.rs checks the options below against
# `nsclone --help` and drives these completions.

# The command nsclone will run and its words up to the cursor, as typed,
# the word being completed last; nothing, and a failure, while the cursor is
# still among nsclone's options and their values.
function __nsclone_command_line
    set -l words (commandline -opc)
    set -l current (commandline -ct)
    set -l dashes
    set -e words[1]
    while set -q words[1]
        switch $words[1]
            case --
                set -e words[1]
                set dashes --
                break
            case '-*H' --hostname --monotonic --boottime --root --join --keep --unkeep
                # Their value may be the next word (also: -qH, grouped).
                set -q words[2]; or return 1
                set -e words[1..2]
            case '-*'
                set -e words[1]
            case '*'
                break
        end
    end
    if not set -q words[1]; and not set -q dashes[1]; and string match -q -- '-*' $current
        return 1
    end
    # The earlier words quoted again as fish reads them; the current one as
    # typed. (string escape with no word would read standard input.)
    set -q words[1]; and set words (string escape -- $words)
    string join ' ' -- $words $current
    return 0
end

# What fish would offer if the command's line were typed alone: the
# command's names first, then its own completion of its arguments. (With =,
# a line that is empty or starts with a dash is not taken for an option.)
function __nsclone_complete_command
    set -l command_line (__nsclone_command_line); or return
    complete --do-complete="$command_line"
end

# No file names where nsclone reads options and values; the command's own
# completion where it begins.
complete -c nsclone -f -a '(__nsclone_complete_command)'

# Every option of `nsclone --help`, offered while the options last. -x: a
# value follows, in the next word or after =, with nothing to offer (a new
# option whose value may be the next word goes into the list in
# __nsclone_command_line too); -xa '(__fish_complete_directories)': a
# directory follows; -a without -r or -x: a value after = only.
function __nsclone_options_last
    not __nsclone_command_line >/dev/null
end

complete -c nsclone -n __nsclone_options_last -s i -l ipc -d 'New IPC namespace: System V IPC, POSIX message queues'
complete -c nsclone -n __nsclone_options_last -s m -l mount -d 'New mount namespace; / made recursively private first'
complete -c nsclone -n __nsclone_options_last -s n -l net -d 'New network namespace; lo brought up inside'
complete -c nsclone -n __nsclone_options_last -s p -l pid -d 'New PID namespace; the command is PID 1'
complete -c nsclone -n __nsclone_options_last -s U -l user -d 'New user namespace; your uid and gid are 0 inside'
complete -c nsclone -n __nsclone_options_last -s C -l cgroup -d 'New cgroup namespace: the cgroup root'
complete -c nsclone -n __nsclone_options_last -s T -l time -d 'New time namespace: monotonic and boot-time clocks'
complete -c nsclone -n __nsclone_options_last -s u -l uts -d 'New UTS namespace: the hostname (always on)'
complete -c nsclone -n __nsclone_options_last -l mount-proc -d 'Mount a fresh /proc (implies --mount --pid)'
complete -c nsclone -n __nsclone_options_last -l root -xa '(__fish_complete_directories)' -d 'Make DIR the root with pivot_root (implies --mount)'
complete -c nsclone -n __nsclone_options_last -l monotonic -x -d 'Add SECS to CLOCK_MONOTONIC inside (implies --time)'
complete -c nsclone -n __nsclone_options_last -l boottime -x -d 'Add SECS to CLOCK_BOOTTIME and uptime (implies --time)'
complete -c nsclone -n __nsclone_options_last -l join -xa '(__fish_complete_directories)' -d 'Run in the namespaces of PID, or kept in DIR'
complete -c nsclone -n __nsclone_options_last -l keep -xa '(__fish_complete_directories)' -d 'Keep the new namespaces in DIR after the command'
complete -c nsclone -n __nsclone_options_last -l unkeep -xa '(__fish_complete_directories)' -d 'Release the namespaces kept in DIR, and exit'
complete -c nsclone -n __nsclone_options_last -s H -l hostname -x -d 'Hostname in the new namespace, 1 to 64 bytes'
complete -c nsclone -n __nsclone_options_last -l show-ns -d 'Print both sides\' namespaces and their owners' \
    -a 'table tree'
complete -c nsclone -n __nsclone_options_last -l trace -d 'Print every system call of the launch as it is made'
# The names nsclone takes: kill -l's for signals 1 to 31 (the real-time
# signals it takes by number only).
complete -c nsclone -n __nsclone_options_last -l kill-child -d 'When nsclone dies, the kernel sends SIG to the command' \
    -a 'HUP INT QUIT ILL TRAP ABRT BUS FPE KILL USR1 SEGV USR2 PIPE ALRM TERM STKFLT
        CHLD CONT STOP TSTP TTIN TTOU URG XCPU XFSZ VTALRM PROF WINCH IO PWR SYS'
complete -c nsclone -n __nsclone_options_last -s q -l quiet -d 'Print nothing but errors'
complete -c nsclone -n __nsclone_options_last -l vfork -d 'Share memory with the child until it execs'
complete -c nsclone -n __nsclone_options_last -s h -l help -d 'Print the help and exit'
complete -c nsclone -n __nsclone_options_last -s V -l version -d 'Print the version and exit'
