# bash completion for geode                                  -*- shell-script -*-
# Generated from the geode command tree by scripts/generate_completions.py; do not edit by hand.
# Commands and options are embedded (TAB runs no Python); station and network codes come from
# `geode completion stations|networks`, which never starts the embedded database server.
#
# Install: copy to ~/.local/share/bash-completion/completions/geode (or let pip install it to
# <prefix>/share/bash-completion/completions), or add `source <(geode completion bash)` to ~/.bashrc.

# Sets what the command path $1 accepts: subcommands, options, options taking a value, positional count.
_geode_node() {
    case "$1" in
        '')
            _geode_subs='dra kml doctor example man gamit stack scan download worker db config completion runs station'
            _geode_opts='--config -c --parallel --noparallel --verbose -v --quiet -q --json --debug --version --help -h'
            _geode_vopts='--config -c'
            _geode_nargs=0 _geode_variadic=0 ;;
        'dra')
            _geode_subs=''
            _geode_opts='--dates -d --output -o --plot --limit-mm --save-excluded --parallel --noparallel --json --help -h'
            _geode_vopts='--dates -d --output -o --limit-mm'
            _geode_nargs=2 _geode_variadic=1 ;;
        'kml')
            _geode_subs=''
            _geode_opts='--output -o --availability --no-availability --title --json --help -h'
            _geode_vopts='--output -o --title'
            _geode_nargs=1 _geode_variadic=1 ;;
        'doctor')
            _geode_subs=''
            _geode_opts='--json --help -h'
            _geode_vopts=''
            _geode_nargs=0 _geode_variadic=0 ;;
        'example')
            _geode_subs=''
            _geode_opts='--help -h'
            _geode_vopts=''
            _geode_nargs=1 _geode_variadic=0 ;;
        'man')
            _geode_subs=''
            _geode_opts='--install --dir --path --help -h'
            _geode_vopts='--dir'
            _geode_nargs=1 _geode_variadic=1 ;;
        'gamit')
            _geode_subs='plan run status'
            _geode_opts='--help -h'
            _geode_vopts=''
            _geode_nargs=0 _geode_variadic=0 ;;
        'gamit plan')
            _geode_subs=''
            _geode_opts='--include -i --exclude -e --json --help -h'
            _geode_vopts='--include -i --exclude -e'
            _geode_nargs=2 _geode_variadic=1 ;;
        'gamit run')
            _geode_subs=''
            _geode_opts='--dry-run --purge --parallel --noparallel --include -i --exclude -e --json --help -h'
            _geode_vopts='--include -i --exclude -e'
            _geode_nargs=2 _geode_variadic=1 ;;
        'gamit status')
            _geode_subs=''
            _geode_opts='--json --help -h'
            _geode_vopts=''
            _geode_nargs=2 _geode_variadic=1 ;;
        'stack')
            _geode_subs='run etm show'
            _geode_opts='--help -h'
            _geode_vopts=''
            _geode_nargs=0 _geode_variadic=0 ;;
        'stack run')
            _geode_subs=''
            _geode_opts='--project -p --redo --preserve --exclude -e --end -d --max-iterations --tolerance-mm --common-modes --constraints --summary --noise-model --detect-offsets --plot --parallel --noparallel --json --help -h'
            _geode_vopts='--project -p --exclude -e --end -d --max-iterations --tolerance-mm --constraints --summary --noise-model --plot'
            _geode_nargs=2 _geode_variadic=1 ;;
        'stack etm')
            _geode_subs=''
            _geode_opts='--jump --no-jump --accept-offsets --reject-offsets --noise-model --detect-offsets --plot --parallel --noparallel --json --help -h'
            _geode_vopts='--jump --no-jump --noise-model --plot'
            _geode_nargs=2 _geode_variadic=1 ;;
        'stack show')
            _geode_subs=''
            _geode_opts='--json --help -h'
            _geode_vopts=''
            _geode_nargs=1 _geode_variadic=0 ;;
        'scan')
            _geode_subs='archive qc ingest stninfo check otl ppp'
            _geode_opts='--help -h'
            _geode_vopts=''
            _geode_nargs=0 _geode_variadic=0 ;;
        'scan archive')
            _geode_subs=''
            _geode_opts='--parallel --noparallel --qc --json --help -h'
            _geode_vopts=''
            _geode_nargs=1 _geode_variadic=1 ;;
        'scan qc')
            _geode_subs=''
            _geode_opts='--date-range -d --redo --report --plot --recent --baseline --sigmas --parallel --noparallel --json --help -h'
            _geode_vopts='--date-range -d --plot --recent --baseline --sigmas'
            _geode_nargs=1 _geode_variadic=1 ;;
        'scan ingest')
            _geode_subs=''
            _geode_opts='--parallel --noparallel --json --create --help -h'
            _geode_vopts=''
            _geode_nargs=0 _geode_variadic=0 ;;
        'scan stninfo')
            _geode_subs=''
            _geode_opts='--network -n --export -e --output -o --propose --ignore --json --help -h'
            _geode_vopts='--network -n --export -e --output -o --propose --ignore'
            _geode_nargs=1 _geode_variadic=1 ;;
        'scan check')
            _geode_subs=''
            _geode_opts='--json --help -h'
            _geode_vopts=''
            _geode_nargs=1 _geode_variadic=1 ;;
        'scan otl')
            _geode_subs=''
            _geode_opts='--force --parallel --noparallel --json --help -h'
            _geode_vopts=''
            _geode_nargs=1 _geode_variadic=1 ;;
        'scan ppp')
            _geode_subs=''
            _geode_opts='--date-range -d --force --recheck --parallel --noparallel --json --help -h'
            _geode_vopts='--date-range -d'
            _geode_nargs=1 _geode_variadic=1 ;;
        'download')
            _geode_subs='attempts sources'
            _geode_opts='--help -h'
            _geode_vopts=''
            _geode_nargs=0 _geode_variadic=0 ;;
        'download attempts')
            _geode_subs=''
            _geode_opts='--limit --json --help -h'
            _geode_vopts='--limit'
            _geode_nargs=1 _geode_variadic=1 ;;
        'download sources')
            _geode_subs='list add remove test'
            _geode_opts='--help -h'
            _geode_vopts=''
            _geode_nargs=0 _geode_variadic=0 ;;
        'download sources list')
            _geode_subs=''
            _geode_opts='--json --help -h'
            _geode_vopts=''
            _geode_nargs=1 _geode_variadic=1 ;;
        'download sources add')
            _geode_subs=''
            _geode_opts='--protocol --fqdn --path --username --format --server --try-order --json --help -h'
            _geode_vopts='--protocol --fqdn --path --username --format --server --try-order'
            _geode_nargs=1 _geode_variadic=1 ;;
        'download sources remove')
            _geode_subs=''
            _geode_opts='--server --try-order --help -h'
            _geode_vopts='--server --try-order'
            _geode_nargs=1 _geode_variadic=1 ;;
        'download sources test')
            _geode_subs=''
            _geode_opts='--station --date --timeout --json --help -h'
            _geode_vopts='--station --date --timeout'
            _geode_nargs=1 _geode_variadic=0 ;;
        'worker')
            _geode_subs='start status stop'
            _geode_opts='--help -h'
            _geode_vopts=''
            _geode_nargs=0 _geode_variadic=0 ;;
        'worker start')
            _geode_subs=''
            _geode_opts='--queues -Q --concurrency -c --loglevel -l --hostname -n --max-tasks-per-child --help -h'
            _geode_vopts='--queues -Q --concurrency -c --loglevel -l --hostname -n --max-tasks-per-child'
            _geode_nargs=0 _geode_variadic=0 ;;
        'worker status')
            _geode_subs=''
            _geode_opts='--json --timeout --check --help -h'
            _geode_vopts='--timeout'
            _geode_nargs=0 _geode_variadic=0 ;;
        'worker stop')
            _geode_subs=''
            _geode_opts='--help -h'
            _geode_vopts=''
            _geode_nargs=1 _geode_variadic=1 ;;
        'db')
            _geode_subs='init upgrade status stop'
            _geode_opts='--help -h'
            _geode_vopts=''
            _geode_nargs=0 _geode_variadic=0 ;;
        'db init')
            _geode_subs=''
            _geode_opts='--help -h'
            _geode_vopts=''
            _geode_nargs=0 _geode_variadic=0 ;;
        'db upgrade')
            _geode_subs=''
            _geode_opts='--help -h'
            _geode_vopts=''
            _geode_nargs=0 _geode_variadic=0 ;;
        'db status')
            _geode_subs=''
            _geode_opts='--json --help -h'
            _geode_vopts=''
            _geode_nargs=0 _geode_variadic=0 ;;
        'db stop')
            _geode_subs=''
            _geode_opts='--force --help -h'
            _geode_vopts=''
            _geode_nargs=0 _geode_variadic=0 ;;
        'config')
            _geode_subs='show path'
            _geode_opts='--help -h'
            _geode_vopts=''
            _geode_nargs=0 _geode_variadic=0 ;;
        'config show')
            _geode_subs=''
            _geode_opts='--json --help -h'
            _geode_vopts=''
            _geode_nargs=0 _geode_variadic=0 ;;
        'config path')
            _geode_subs=''
            _geode_opts='--json --help -h'
            _geode_vopts=''
            _geode_nargs=0 _geode_variadic=0 ;;
        'completion')
            _geode_subs='bash zsh fish install'
            _geode_opts='--help -h'
            _geode_vopts=''
            _geode_nargs=0 _geode_variadic=0 ;;
        'completion bash')
            _geode_subs=''
            _geode_opts='--help -h'
            _geode_vopts=''
            _geode_nargs=0 _geode_variadic=0 ;;
        'completion zsh')
            _geode_subs=''
            _geode_opts='--help -h'
            _geode_vopts=''
            _geode_nargs=0 _geode_variadic=0 ;;
        'completion fish')
            _geode_subs=''
            _geode_opts='--help -h'
            _geode_vopts=''
            _geode_nargs=0 _geode_variadic=0 ;;
        'completion install')
            _geode_subs=''
            _geode_opts='--help -h'
            _geode_vopts=''
            _geode_nargs=1 _geode_variadic=0 ;;
        'runs')
            _geode_subs='list show resume cancel'
            _geode_opts='--help -h'
            _geode_vopts=''
            _geode_nargs=0 _geode_variadic=0 ;;
        'runs list')
            _geode_subs=''
            _geode_opts='--state --command --limit -n --json --help -h'
            _geode_vopts='--state --command --limit -n'
            _geode_nargs=0 _geode_variadic=0 ;;
        'runs show')
            _geode_subs=''
            _geode_opts='--json --help -h'
            _geode_vopts=''
            _geode_nargs=1 _geode_variadic=0 ;;
        'runs resume')
            _geode_subs=''
            _geode_opts='--help -h'
            _geode_vopts=''
            _geode_nargs=1 _geode_variadic=0 ;;
        'runs cancel')
            _geode_subs=''
            _geode_opts='--help -h'
            _geode_vopts=''
            _geode_nargs=1 _geode_variadic=0 ;;
        'station')
            _geode_subs='list show add move rename merge delete'
            _geode_opts='--help -h'
            _geode_vopts=''
            _geode_nargs=0 _geode_variadic=0 ;;
        'station list')
            _geode_subs=''
            _geode_opts='--json --help -h'
            _geode_vopts=''
            _geode_nargs=1 _geode_variadic=1 ;;
        'station show')
            _geode_subs=''
            _geode_opts='--json --help -h'
            _geode_vopts=''
            _geode_nargs=1 _geode_variadic=0 ;;
        'station add')
            _geode_subs=''
            _geode_opts='--lat --lon --height --xyz --name --country --max-dist --network-name --json --help -h'
            _geode_vopts='--lat --lon --height --xyz --name --country --max-dist --network-name'
            _geode_nargs=1 _geode_variadic=0 ;;
        'station move')
            _geode_subs=''
            _geode_opts='--dry-run --yes -y --json --help -h'
            _geode_vopts=''
            _geode_nargs=2 _geode_variadic=0 ;;
        'station rename')
            _geode_subs=''
            _geode_opts='--dry-run --yes -y --json --help -h'
            _geode_vopts=''
            _geode_nargs=2 _geode_variadic=0 ;;
        'station merge')
            _geode_subs=''
            _geode_opts='--keep-destination --dry-run --yes -y --json --help -h'
            _geode_vopts=''
            _geode_nargs=2 _geode_variadic=0 ;;
        'station delete')
            _geode_subs=''
            _geode_opts='--purge-files --dry-run --yes -y --json --help -h'
            _geode_vopts=''
            _geode_nargs=1 _geode_variadic=1 ;;
        *) _geode_subs='' _geode_opts='' _geode_vopts='' _geode_nargs=0 _geode_variadic=0 ;;
    esac
}

# What the value of option $2 (or positional '#N') of command path $1 is:
# "choice WORD...", file, dir, stations, networks or text.
_geode_values() {
    case "$1|$2" in
        '|--config'|'|-c') echo 'file' ;;
        'dra|--dates'|'dra|-d') echo 'text' ;;
        'dra|--output'|'dra|-o') echo 'file' ;;
        'dra|--limit-mm') echo 'text' ;;
        'dra|#0') echo 'text' ;;
        'dra|#1') echo 'stations' ;;
        'kml|--output'|'kml|-o') echo 'file' ;;
        'kml|--title') echo 'text' ;;
        'kml|#0') echo 'stations' ;;
        'example|#0') echo 'file' ;;
        'man|--dir') echo 'file' ;;
        'man|#0') echo 'text' ;;
        'gamit plan|--include'|'gamit plan|-i') echo 'stations' ;;
        'gamit plan|--exclude'|'gamit plan|-e') echo 'stations' ;;
        'gamit plan|#0') echo 'file' ;;
        'gamit plan|#1') echo 'text' ;;
        'gamit run|--include'|'gamit run|-i') echo 'stations' ;;
        'gamit run|--exclude'|'gamit run|-e') echo 'stations' ;;
        'gamit run|#0') echo 'file' ;;
        'gamit run|#1') echo 'text' ;;
        'gamit status|#0') echo 'file' ;;
        'gamit status|#1') echo 'text' ;;
        'stack run|--project'|'stack run|-p') echo 'text' ;;
        'stack run|--exclude'|'stack run|-e') echo 'stations' ;;
        'stack run|--end'|'stack run|-d') echo 'text' ;;
        'stack run|--max-iterations') echo 'text' ;;
        'stack run|--tolerance-mm') echo 'text' ;;
        'stack run|--constraints') echo 'file' ;;
        'stack run|--summary') echo 'file' ;;
        'stack run|--noise-model') echo 'text' ;;
        'stack run|--plot') echo 'file' ;;
        'stack run|#0') echo 'text' ;;
        'stack run|#1') echo 'stations' ;;
        'stack etm|--jump') echo 'text' ;;
        'stack etm|--no-jump') echo 'text' ;;
        'stack etm|--noise-model') echo 'text' ;;
        'stack etm|--plot') echo 'file' ;;
        'stack etm|#0') echo 'text' ;;
        'stack etm|#1') echo 'stations' ;;
        'stack show|#0') echo 'text' ;;
        'scan archive|#0') echo 'stations' ;;
        'scan qc|--date-range'|'scan qc|-d') echo 'text' ;;
        'scan qc|--plot') echo 'file' ;;
        'scan qc|--recent') echo 'text' ;;
        'scan qc|--baseline') echo 'text' ;;
        'scan qc|--sigmas') echo 'text' ;;
        'scan qc|#0') echo 'stations' ;;
        'scan stninfo|--network'|'scan stninfo|-n') echo 'networks' ;;
        'scan stninfo|--export'|'scan stninfo|-e') echo 'stations' ;;
        'scan stninfo|--output'|'scan stninfo|-o') echo 'file' ;;
        'scan stninfo|--propose') echo 'stations' ;;
        'scan stninfo|--ignore') echo 'text' ;;
        'scan stninfo|#0') echo 'text' ;;
        'scan check|#0') echo 'stations' ;;
        'scan otl|#0') echo 'stations' ;;
        'scan ppp|--date-range'|'scan ppp|-d') echo 'text' ;;
        'scan ppp|#0') echo 'stations' ;;
        'download attempts|--limit') echo 'text' ;;
        'download attempts|#0') echo 'stations' ;;
        'download sources list|#0') echo 'stations' ;;
        'download sources add|--protocol') echo 'text' ;;
        'download sources add|--fqdn') echo 'text' ;;
        'download sources add|--path') echo 'text' ;;
        'download sources add|--username') echo 'text' ;;
        'download sources add|--format') echo 'text' ;;
        'download sources add|--server') echo 'text' ;;
        'download sources add|--try-order') echo 'text' ;;
        'download sources add|#0') echo 'stations' ;;
        'download sources remove|--server') echo 'text' ;;
        'download sources remove|--try-order') echo 'text' ;;
        'download sources remove|#0') echo 'stations' ;;
        'download sources test|--station') echo 'stations' ;;
        'download sources test|--date') echo 'text' ;;
        'download sources test|--timeout') echo 'text' ;;
        'download sources test|#0') echo 'text' ;;
        'worker start|--queues'|'worker start|-Q') echo 'text' ;;
        'worker start|--concurrency'|'worker start|-c') echo 'text' ;;
        'worker start|--loglevel'|'worker start|-l') echo 'text' ;;
        'worker start|--hostname'|'worker start|-n') echo 'text' ;;
        'worker start|--max-tasks-per-child') echo 'text' ;;
        'worker status|--timeout') echo 'text' ;;
        'worker stop|#0') echo 'text' ;;
        'completion install|#0') echo 'text' ;;
        'runs list|--state') echo 'text' ;;
        'runs list|--command') echo 'text' ;;
        'runs list|--limit'|'runs list|-n') echo 'text' ;;
        'runs show|#0') echo 'text' ;;
        'runs resume|#0') echo 'text' ;;
        'runs cancel|#0') echo 'text' ;;
        'station list|#0') echo 'stations' ;;
        'station show|#0') echo 'stations' ;;
        'station add|--lat') echo 'text' ;;
        'station add|--lon') echo 'text' ;;
        'station add|--height') echo 'text' ;;
        'station add|--xyz') echo 'text' ;;
        'station add|--name') echo 'text' ;;
        'station add|--country') echo 'text' ;;
        'station add|--max-dist') echo 'text' ;;
        'station add|--network-name') echo 'text' ;;
        'station add|#0') echo 'stations' ;;
        'station move|#0') echo 'stations' ;;
        'station move|#1') echo 'networks' ;;
        'station rename|#0') echo 'stations' ;;
        'station rename|#1') echo 'text' ;;
        'station merge|#0') echo 'stations' ;;
        'station merge|#1') echo 'stations' ;;
        'station delete|#0') echo 'stations' ;;
        *) echo text ;;
    esac
}

# Sets _geode_codes_reply to the station or network codes ($1), kept for a minute so repeated TABs are instant.
_geode_codes() {
    local cache="_geode_cache_$1" stamp="_geode_stamp_$1"
    if [ -z "${!cache}" ] || [ $((SECONDS - ${!stamp:-0})) -gt 60 ]; then
        if command -v timeout >/dev/null 2>&1; then
            printf -v "$cache" '%s' "$(timeout 3 "$_geode_prog" completion "$1" 2>/dev/null)"
        else
            printf -v "$cache" '%s' "$("$_geode_prog" completion "$1" 2>/dev/null)"
        fi
        printf -v "$stamp" '%s' "$SECONDS"
    fi
    _geode_codes_reply="${!cache}"
}

_geode_complete_kind() {
    local IFS=$' \t\n'
    case "${1%% *}" in
        choice) COMPREPLY=($(compgen -W "${1#choice }" -- "$2")) ;;
        file) compopt -o filenames 2>/dev/null; IFS=$'\n'; COMPREPLY=($(compgen -f -- "$2")) ;;
        dir) compopt -o filenames 2>/dev/null; IFS=$'\n'; COMPREPLY=($(compgen -d -- "$2")) ;;
        stations | networks)
            _geode_codes "${1%% *}"
            COMPREPLY=($(compgen -W "$_geode_codes_reply" -- "$2")) ;;
        *) COMPREPLY=() ;;
    esac
}

_geode() {
    local cur="${COMP_WORDS[COMP_CWORD]}" path="" word="" key="" i=1 pos=0
    local _geode_subs _geode_opts _geode_vopts _geode_nargs _geode_variadic
    local _geode_prog="${COMP_WORDS[0]}"
    COMPREPLY=()
    _geode_node ""
    while [ "$i" -lt "$COMP_CWORD" ]; do
        word="${COMP_WORDS[i]}"
        if [[ " $_geode_vopts " == *" $word "* ]]; then
            # the option's value follows, possibly after a separate '=' word (COMP_WORDBREAKS)
            [ "${COMP_WORDS[i + 1]}" = "=" ] && i=$((i + 1))
            if [ $((i + 1)) -eq "$COMP_CWORD" ]; then key="$word"; break; fi
            i=$((i + 2)); continue
        fi
        if [[ "$word" != -* ]]; then
            if [ "$pos" -eq 0 ] && [[ " $_geode_subs " == *" $word "* ]]; then
                path="${path:+$path }$word"
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
}

complete -F _geode geode
