#!/usr/bin/env python3
"""Write completions/geode.bash, completions/_geode and completions/geode.fish from the real command tree.

    python3 scripts/generate_completions.py            # regenerate the committed files
    python3 scripts/generate_completions.py --check    # exit 1 and name the stale files (CI, drift test)

The scripts are static: every command, option and choice is embedded, so pressing TAB runs no Python at
all (a Python round trip through Click's completion protocol costs the whole `geode` import on every key
press). Only station and network codes are fetched at TAB time, from `geode completion stations|networks`,
under a short timeout.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import command_tree  # noqa: E402
from command_tree import Node, build_tree, first_sentence, load_root  # noqa: E402
from geode_cli.completion import SCRIPTS  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
OUTPUT_DIR = ROOT / "completions"
FILES = {shell: name for shell, (name, _share) in SCRIPTS.items()}  # the names `geode completion` looks for
CODE_TIMEOUT = 3  # seconds a TAB may wait for station/network codes from the database
CACHE_SECONDS = 60  # how long a shell keeps those codes (a new station shows up within a minute)

HEADER = """\
Generated from the geode command tree by scripts/generate_completions.py; do not edit by hand.
Commands and options are embedded (TAB runs no Python); station and network codes come from
`geode completion stations|networks`, which never starts the embedded database server."""


def sh_quote(text: str) -> str:
    """Single-quoted word for bash and zsh."""
    return "'" + text.replace("'", "'\\''") + "'"


def fish_quote(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _comment(prefix: str = "# ") -> str:
    return "\n".join(prefix + line for line in HEADER.splitlines())


def value_kinds(node: Node) -> list[tuple[list[str], str]]:
    """(keys, kind line) per option value and positional argument: keys are option names or '#<index>'."""
    out = []
    for opt in node.options:
        if opt.takes_value:
            out.append((list(opt.names), _kind_line(opt.kind, opt.choices)))
    for index, arg in enumerate(node.arguments):
        out.append(([f"#{index}"], _kind_line(arg.kind, arg.choices)))
    return out


def _kind_line(kind: str, choices: tuple[str, ...]) -> str:
    return "choice " + " ".join(choices) if kind == "choice" else kind


def _nargs(node: Node) -> tuple[int, int]:
    return len(node.arguments), int(bool(node.arguments and node.arguments[-1].variadic))


# ------------------------------------------------------------------------------------------------------------
# bash


def render_bash(tree: Node) -> str:
    nodes, values = [], []
    for node in tree.walk():
        key = sh_quote(" ".join(node.path))
        nargs, variadic = _nargs(node)
        nodes.append(
            f"        {key})\n"
            f"            _geode_subs={sh_quote(' '.join(c.path[-1] for c in node.children))}\n"
            f"            _geode_opts={sh_quote(' '.join(node.option_names))}\n"
            f"            _geode_vopts={sh_quote(' '.join(node.value_options))}\n"
            f"            _geode_nargs={nargs} _geode_variadic={variadic} ;;")
        for keys, kind in value_kinds(node):
            pattern = "|".join(sh_quote(f"{' '.join(node.path)}|{k}") for k in keys)
            values.append(f"        {pattern}) echo {sh_quote(kind)} ;;")
    return f"""\
# bash completion for geode                                  -*- shell-script -*-
{_comment()}
#
# Install: copy to ~/.local/share/bash-completion/completions/geode (or let pip install it to
# <prefix>/share/bash-completion/completions), or add `source <(geode completion bash)` to ~/.bashrc.

# Sets what the command path $1 accepts: subcommands, options, options taking a value, positional count.
_geode_node() {{
    case "$1" in
{chr(10).join(nodes)}
        *) _geode_subs='' _geode_opts='' _geode_vopts='' _geode_nargs=0 _geode_variadic=0 ;;
    esac
}}

# What the value of option $2 (or positional '#N') of command path $1 is:
# "choice WORD...", file, dir, stations, networks or text.
_geode_values() {{
    case "$1|$2" in
{chr(10).join(values)}
        *) echo text ;;
    esac
}}

# Sets _geode_codes_reply to the station or network codes ($1), kept for a minute so repeated TABs are instant.
_geode_codes() {{
    local cache="_geode_cache_$1" stamp="_geode_stamp_$1"
    if [ -z "${{!cache}}" ] || [ $((SECONDS - ${{!stamp:-0}})) -gt {CACHE_SECONDS} ]; then
        if command -v timeout >/dev/null 2>&1; then
            printf -v "$cache" '%s' "$(timeout {CODE_TIMEOUT} "$_geode_prog" completion "$1" 2>/dev/null)"
        else
            printf -v "$cache" '%s' "$("$_geode_prog" completion "$1" 2>/dev/null)"
        fi
        printf -v "$stamp" '%s' "$SECONDS"
    fi
    _geode_codes_reply="${{!cache}}"
}}

_geode_complete_kind() {{
    local IFS=$' \\t\\n'
    case "${{1%% *}}" in
        choice) COMPREPLY=($(compgen -W "${{1#choice }}" -- "$2")) ;;
        file) compopt -o filenames 2>/dev/null; IFS=$'\\n'; COMPREPLY=($(compgen -f -- "$2")) ;;
        dir) compopt -o filenames 2>/dev/null; IFS=$'\\n'; COMPREPLY=($(compgen -d -- "$2")) ;;
        stations | networks)
            _geode_codes "${{1%% *}}"
            COMPREPLY=($(compgen -W "$_geode_codes_reply" -- "$2")) ;;
        *) COMPREPLY=() ;;
    esac
}}

_geode() {{
    local cur="${{COMP_WORDS[COMP_CWORD]}}" path="" word="" key="" i=1 pos=0
    local _geode_subs _geode_opts _geode_vopts _geode_nargs _geode_variadic
    local _geode_prog="${{COMP_WORDS[0]}}"
    COMPREPLY=()
    _geode_node ""
    while [ "$i" -lt "$COMP_CWORD" ]; do
        word="${{COMP_WORDS[i]}}"
        if [[ " $_geode_vopts " == *" $word "* ]]; then
            # the option's value follows, possibly after a separate '=' word (COMP_WORDBREAKS)
            [ "${{COMP_WORDS[i + 1]}}" = "=" ] && i=$((i + 1))
            if [ $((i + 1)) -eq "$COMP_CWORD" ]; then key="$word"; break; fi
            i=$((i + 2)); continue
        fi
        if [[ "$word" != -* ]]; then
            if [ "$pos" -eq 0 ] && [[ " $_geode_subs " == *" $word "* ]]; then
                path="${{path:+$path }}$word"
                _geode_node "$path"
            else
                pos=$((pos + 1))
            fi
        fi
        i=$((i + 1))
    done
    [ "$cur" = "=" ] && cur=""
    if [ -n "$key" ]; then
        _geode_complete_kind "$(_geode_values "$path" "$key")" "$cur"
    elif [[ "$cur" == -* ]]; then
        COMPREPLY=($(compgen -W "$_geode_opts" -- "$cur"))
    elif [ -n "$_geode_subs" ]; then
        COMPREPLY=($(compgen -W "$_geode_subs" -- "$cur"))
    elif [ "$_geode_nargs" -gt 0 ]; then
        if [ "$pos" -ge "$_geode_nargs" ]; then
            [ "$_geode_variadic" = 1 ] || return 0
            pos=$((_geode_nargs - 1))
        fi
        _geode_complete_kind "$(_geode_values "$path" "#$pos")" "$cur"
    fi
    return 0
}}

complete -F _geode geode
"""


# ------------------------------------------------------------------------------------------------------------
# zsh


def render_zsh(tree: Node) -> str:
    nodes, values = [], []
    for node in tree.walk():
        key = sh_quote(" ".join(node.path))
        nargs, variadic = _nargs(node)
        subs = " ".join(sh_quote(f"{c.path[-1]}:{c.short_help}") for c in node.children)
        opts = " ".join(sh_quote(f"{n}:{first_sentence(o.help)}") for o in node.options for n in o.all_names)
        nodes.append(
            f"        {key})\n"
            f"            _geode_subs=({subs})\n"
            f"            _geode_opts=({opts})\n"
            f"            _geode_vopts=({' '.join(sh_quote(n) for n in node.value_options)})\n"
            f"            _geode_nargs={nargs} _geode_variadic={variadic} ;;")
        for keys, kind in value_kinds(node):
            pattern = "|".join(sh_quote(f"{' '.join(node.path)}|{k}") for k in keys)
            values.append(f"        {pattern}) print -r -- {sh_quote(kind)} ;;")
    return f"""\
#compdef geode
# zsh completion for geode
{_comment()}
#
# Install: save as _geode in a directory of $fpath before compinit runs (pip installs it to
# <prefix>/share/zsh/site-functions), e.g. `geode completion zsh > ~/.zfunc/_geode` with
# `fpath=(~/.zfunc $fpath)` above `compinit` in ~/.zshrc.

_geode_node() {{
    case "$1" in
{chr(10).join(nodes)}
        *) _geode_subs=() _geode_opts=() _geode_vopts=() _geode_nargs=0 _geode_variadic=0 ;;
    esac
}}

_geode_values() {{
    case "$1|$2" in
{chr(10).join(values)}
        *) print -r -- text ;;
    esac
}}

# Sets _geode_codes_reply to the station or network codes ($1), kept for a minute so repeated TABs are instant.
typeset -gA _geode_cache _geode_stamp
_geode_codes() {{
    if [[ -z "${{_geode_cache[$1]}}" ]] || (( SECONDS - ${{_geode_stamp[$1]:-0}} > {CACHE_SECONDS} )); then
        if (( $+commands[timeout] )); then
            _geode_cache[$1]="$(timeout {CODE_TIMEOUT} "$_geode_prog" completion "$1" 2>/dev/null)"
        else
            _geode_cache[$1]="$("$_geode_prog" completion "$1" 2>/dev/null)"
        fi
        _geode_stamp[$1]=$SECONDS
    fi
    _geode_codes_reply="${{_geode_cache[$1]}}"
}}

_geode_complete_kind() {{
    local -a items
    case "${{1%% *}}" in
        choice) items=(${{=${{1#choice }}}}); compadd -a items ;;
        file) _files ;;
        dir) _files -/ ;;
        stations | networks)
            _geode_codes "${{1%% *}}"
            items=(${{(f)_geode_codes_reply}})
            compadd -a items ;;
    esac
}}

_geode() {{
    local -a _geode_subs _geode_opts _geode_vopts names
    local _geode_nargs _geode_variadic cmdpath="" word="" key="" cur="${{words[CURRENT]}}"
    local _geode_prog="${{words[1]}}"
    integer i=2 pos=0
    _geode_node ""
    while (( i < CURRENT )); do
        word="${{words[i]}}"
        if (( ${{_geode_vopts[(Ie)$word]}} )); then
            if (( i + 1 == CURRENT )); then key="$word"; break; fi
            (( i += 2 )); continue
        fi
        if [[ "$word" != -* ]]; then
            names=(${{_geode_subs%%:*}})  # an array of its own: (( )) would join a nested expansion
            if (( pos == 0 && ${{names[(Ie)$word]}} )); then
                cmdpath="${{cmdpath:+$cmdpath }}$word"
                _geode_node "$cmdpath"
            else
                (( pos++ ))
            fi
        fi
        (( i++ ))
    done
    if [[ -n "$key" ]]; then
        _geode_complete_kind "$(_geode_values "$cmdpath" "$key")"
    elif [[ "$cur" == -* ]]; then
        _describe -t options option _geode_opts
    elif (( $#_geode_subs )); then
        _describe -t commands command _geode_subs
    elif (( _geode_nargs > 0 )); then
        if (( pos >= _geode_nargs )); then
            (( _geode_variadic )) || return 0
            pos=$(( _geode_nargs - 1 ))
        fi
        _geode_complete_kind "$(_geode_values "$cmdpath" "#$pos")"
    fi
}}

if [[ "${{zsh_eval_context[-1]}}" == loadautofunc ]]; then
    _geode "$@"
else
    compdef _geode geode
fi
"""


# ------------------------------------------------------------------------------------------------------------
# fish


def render_fish(tree: Node) -> str:
    subs, vopts, lines = [], [], []
    for node in tree.walk():
        key = fish_quote(" ".join(node.path))
        if node.children:
            subs.append(f"        case {key}\n            printf '%s\\n' "
                        + " ".join(fish_quote(c.path[-1]) for c in node.children))
        if node.value_options:
            vopts.append(f"        case {key}\n            printf '%s\\n' "
                         + " ".join(fish_quote(n) for n in node.value_options))
        at = fish_quote(f"__geode_at {sh_quote(' '.join(node.path))}")
        for child in node.children:
            lines.append(f"complete -c geode -n {at} -a {fish_quote(child.path[-1])} -d {fish_quote(child.short_help)}")
        for opt in node.options:
            flags = []
            for name in opt.all_names:
                flags.append(f"-l {name[2:]}" if name.startswith("--") else
                             f"-s {name[1:]}" if len(name) == 2 else f"-o {name[1:]}")
            spec = " ".join(flags) + _fish_value(opt.kind, opt.choices, opt.takes_value)
            lines.append(f"complete -c geode -n {at} {spec} -d {fish_quote(first_sentence(opt.help))}")
        if not node.children and node.arguments:
            # fish has no positional index: offer what the last (usually the variadic) argument takes
            last = node.arguments[-1]
            value = _fish_value(last.kind, last.choices, True).replace(" -x", "").replace(" -r", "")
            if value:
                lines.append(f"complete -c geode -n {at}{value}")
    return f"""\
# fish completion for geode
{_comment()}
#
# Install: pip installs it to <prefix>/share/fish/vendor_completions.d; by hand:
# geode completion fish > ~/.config/fish/completions/geode.fish

function __geode_subs --description 'subcommands of a geode command path'
    switch "$argv[1]"
{chr(10).join(subs)}
    end
end

function __geode_vopts --description 'options of a geode command path that take a value'
    switch "$argv[1]"
{chr(10).join(vopts)}
    end
end

function __geode_path --description 'the geode command path on the command line being completed'
    set -l tokens (commandline -opc)
    set -e tokens[1]
    set -l cmdpath ''
    set -l skip 0
    set -l positional 0
    for tok in $tokens
        if test $skip = 1
            set skip 0
            continue
        end
        if contains -- $tok (__geode_vopts "$cmdpath")
            set skip 1
        else if string match -q -- '-*' $tok
            continue
        else if test $positional = 0; and contains -- $tok (__geode_subs "$cmdpath")
            set cmdpath (string trim -- "$cmdpath $tok")
        else
            set positional 1
        end
    end
    printf '%s\\n' "$cmdpath"
end

function __geode_at --description 'true when the command line is at the geode command path $argv[1]'
    set -l current (__geode_path)
    test "$current" = "$argv[1]"
end

function __geode_codes --description 'station or network codes from the database, kept for a minute'
    set -l cache __geode_cache_$argv[1]
    set -l stamp __geode_stamp_$argv[1]
    set -l now (date +%s)
    if test (count $$cache) -eq 0; or test (math $now - $$stamp) -gt {CACHE_SECONDS}
        set -l prog (commandline -opc)[1]
        if type -q timeout
            set -g $cache (timeout {CODE_TIMEOUT} $prog completion $argv[1] 2>/dev/null)
        else
            set -g $cache ($prog completion $argv[1] 2>/dev/null)
        end
        set -g $stamp $now
    end
    printf '%s\\n' $$cache
end

complete -c geode -f
{chr(10).join(lines)}
"""


def _fish_value(kind: str, choices: tuple[str, ...], takes_value: bool) -> str:
    if not takes_value:
        return ""
    if kind == "choice":
        return " -x -a " + fish_quote(" ".join(choices))
    if kind in ("file", "dir"):
        return " -r -F"
    if kind in ("stations", "networks"):
        return f" -x -a '(__geode_codes {kind})'"
    return " -x"


# ------------------------------------------------------------------------------------------------------------

RENDERERS = {"bash": render_bash, "zsh": render_zsh, "fish": render_fish}


def render_all(command=None) -> dict[str, str]:
    """{file name: content} for a Click command tree (the real one by default)."""
    tree = build_tree(command if command is not None else load_root())
    return {FILES[shell]: render(tree) for shell, render in RENDERERS.items()}


def stale_files(rendered: dict[str, str], directory: Path = OUTPUT_DIR) -> list[str]:
    """Names whose committed content differs from a fresh generation (missing files count as stale)."""
    return command_tree.stale_files(rendered, directory)


def main(argv: list[str]) -> int:
    return command_tree.write_or_check(argv, render_all(), OUTPUT_DIR, "scripts/generate_completions.py")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
