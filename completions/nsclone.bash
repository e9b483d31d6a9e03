# bash completion for nsclone(1)                           -*- shell-script -*-
#
# Options first, then a command, then that command's own arguments: as
# nsclone reads its command line, options stop at the first word that is not
# one, or after --. tests/install.rs checks the option table below against
# `nsclone --help` and drives this function.
#
# Works alone (`source nsclone.bash`) or loaded by the bash-completion
# package, whose completion of the command's arguments it then borrows.

_nsclone()
{
    # Every option of `nsclone --help`, and what follows it:
    #   (empty)  nothing
    #   value    a word to type, in the next word or after = (nothing to offer)
    #   dir      a directory, in the next word or after =
    #   signal   a signal name, after = only
    #   view     table or tree, after = only
    local -A takes=(
        [-i]= [--ipc]=
        [-m]= [--mount]=
        [-n]= [--net]=
        [-p]= [--pid]=
        [-U]= [--user]=
        [-C]= [--cgroup]=
        [-T]= [--time]=
        [-u]= [--uts]=
        [--mount-proc]=
        [--root]=dir
        [--monotonic]=value
        [--boottime]=value
        [--join]=dir
        [--keep]=dir
        [--unkeep]=dir
        [-H]=value [--hostname]=value
        [--show-ns]=view
        [--trace]=
        [--kill-child]=signal
        [-q]= [--quiet]=
        [--vfork]=
        [-h]= [--help]=
        [-V]= [--version]=
    )
    local cword=$COMP_CWORD cur=${COMP_WORDS[COMP_CWORD]} i=1 word option

    # Walk the words before the cursor as nsclone's parser does, to find
    # the command's word, if it has started. bash splits `--hostname=box`
    # into three words, `--hostname`, `=` and `box` (= is in COMP_WORDBREAKS).
    while ((i < cword)); do
        word=${COMP_WORDS[i]}
        if [[ $word == -- ]]; then
            ((i++))
            break
        elif [[ ${COMP_WORDS[i + 1]} == = && $word == --* ]]; then
            ((i += 3))
        elif [[ $word == -?* ]]; then
            [[ $(_nsclone_takes "$word") == @(value|dir) ]] && ((i++))
            ((i++))
        else
            break
        fi
    done
    if ((i < cword)) || { ((i == cword)) && [[ ${COMP_WORDS[i - 1]} == -- ]]; }; then
        _nsclone_command "$i"
        return
    fi

    # The value of an option: after `--hostname=` (split by bash or not), or
    # in the word after the option.
    local prev=${COMP_WORDS[cword - 1]} prefix=
    if [[ $cur == = && $prev == --* ]]; then
        option=$prev cur=
    elif [[ $prev == = && ${COMP_WORDS[cword - 2]} == --* ]]; then
        option=${COMP_WORDS[cword - 2]}
    elif [[ $cur == --*=* ]]; then
        option=${cur%%=*} prefix=${cur%%=*}= cur=${cur#*=}
    elif [[ $prev == -?* && $(_nsclone_takes "$prev") == @(value|dir) ]]; then
        option=$prev
    elif [[ $cur == -* ]]; then
        _nsclone_options
        return
    else
        _nsclone_command "$cword"
        return
    fi
    case $(_nsclone_takes "$option") in
    signal) _nsclone_signals ;;
    view) mapfile -t COMPREPLY < <(compgen -W "table tree" -- "$cur") ;;
    dir)
        compopt -o filenames
        mapfile -t COMPREPLY < <(compgen -d -- "$cur")
        ;;
    *) COMPREPLY=() ;;
    esac
    COMPREPLY=("${COMPREPLY[@]/#/$prefix}")
}

# The helpers below read _nsclone's locals (takes, cur, cword).

# What follows the option word $1, from the table. Short options may be
# grouped (-qH): a value-taking one takes the rest of its word, or the next
# word if it comes last, so the last letter tells.
_nsclone_takes()
{
    case $1 in
    --*) echo "${takes[$1]}" ;;
    -?*) echo "${takes[-${1: -1}]}" ;;
    esac
}

# The options that start with $cur. An option whose value follows `=` is
# offered both ways; if only `--kill-child=` is left, no space follows it.
_nsclone_options()
{
    local option names=()
    for option in "${!takes[@]}"; do
        names+=("$option")
        [[ ${takes[$option]} == @(signal|view) ]] && names+=("$option=")
    done
    mapfile -t COMPREPLY < <(compgen -W "${names[*]}" -- "$cur")
    [[ ${#COMPREPLY[@]} == 1 && ${COMPREPLY[0]} == *= ]] && compopt -o nospace
}

# The signal names that start with $cur, as `kill -l` gives them (without
# SIG). Signals 1 to 31: above are the real-time signals, which nsclone
# takes by number only.
_nsclone_signals()
{
    mapfile -t COMPREPLY < <(compgen -W "$(kill -l {1..31})" -- "$cur")
}

# The command, whose name is the word at $1, and its arguments.
_nsclone_command()
{
    local first=$1
    if declare -F _command_offset >/dev/null; then
        # bash-completion: the command's own completion, as after sudo.
        _command_offset "$first"
    elif ((first == cword)) && [[ $cur != */* ]]; then
        mapfile -t COMPREPLY < <(compgen -c -- "$cur")
    else
        compopt -o filenames
        mapfile -t COMPREPLY < <(compgen -f -- "$cur")
    fi
}

complete -F _nsclone nsclone
