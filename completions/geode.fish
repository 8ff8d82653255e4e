# fish completion for geode
# Generated from the geode command tree by scripts/generate_completions.py; do not edit by hand.
# Commands and options are embedded (TAB runs no Python); station and network codes come from
# `geode completion stations|networks`, which never starts the embedded database server.
#
# Install: pip installs it to <prefix>/share/fish/vendor_completions.d; by hand:
# geode completion fish > ~/.config/fish/completions/geode.fish

function __geode_subs --description 'subcommands of a geode command path'
    switch "$argv[1]"
        case ''
            printf '%s\n' 'example' 'gamit' 'stack' 'dra' 'kml' 'scan' 'download' 'worker' 'doctor' 'db' 'config' 'completion'
        case 'gamit'
            printf '%s\n' 'plan' 'run' 'status'
        case 'db'
            printf '%s\n' 'init' 'upgrade' 'status' 'stop'
        case 'config'
            printf '%s\n' 'show' 'path'
        case 'completion'
            printf '%s\n' 'bash' 'zsh' 'fish'
    end
end

function __geode_vopts --description 'options of a geode command path that take a value'
    switch "$argv[1]"
        case ''
            printf '%s\n' '--config' '-c'
        case 'gamit plan'
            printf '%s\n' '--include' '-i' '--exclude' '-e'
        case 'gamit run'
            printf '%s\n' '--include' '-i' '--exclude' '-e'
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
    printf '%s\n' "$cmdpath"
end

function __geode_at --description 'true when the command line is at the geode command path $argv[1]'
    set -l current (__geode_path)
    test "$current" = "$argv[1]"
end

function __geode_codes --description 'station or network codes from the database, kept for a minute'
    set -l cache __geode_cache_$argv[1]
    set -l stamp __geode_stamp_$argv[1]
    set -l now (date +%s)
    if test (count $$cache) -eq 0; or test (math $now - $$stamp) -gt 60
        set -l prog (commandline -opc)[1]
        if type -q timeout
            set -g $cache (timeout 3 $prog completion $argv[1] 2>/dev/null)
        else
            set -g $cache ($prog completion $argv[1] 2>/dev/null)
        end
        set -g $stamp $now
    end
    printf '%s\n' $$cache
end

complete -c geode -f
complete -c geode -n '__geode_at \'\'' -a 'example' -d 'Create an example workspace: config, networks, ~10 stations with station information, and…'
complete -c geode -n '__geode_at \'\'' -a 'gamit' -d 'Plan and run GAMIT/GLOBK processing of a network: daily sessions split into sub-networks,…'
complete -c geode -n '__geode_at \'\'' -a 'stack' -d 'Stack daily solutions into aligned time series and fit trajectory models'
complete -c geode -n '__geode_at \'\'' -a 'dra' -d 'Daily repeatability analysis of GAMIT solutions'
complete -c geode -n '__geode_at \'\'' -a 'kml' -d 'Write a KMZ map of the network'
complete -c geode -n '__geode_at \'\'' -a 'scan' -d 'Scan the RINEX archive, ingest new files, load station information, check integrity'
complete -c geode -n '__geode_at \'\'' -a 'download' -d 'Download RINEX files from the configured data sources'
complete -c geode -n '__geode_at \'\'' -a 'worker' -d 'Start, inspect and stop Celery workers'
complete -c geode -n '__geode_at \'\'' -a 'doctor' -d 'Check configuration, database, broker, workers and external programs'
complete -c geode -n '__geode_at \'\'' -a 'db' -d 'Create, upgrade and inspect the GeoDE database'
complete -c geode -n '__geode_at \'\'' -a 'config' -d 'Show the effective configuration and the files consulted'
complete -c geode -n '__geode_at \'\'' -a 'completion' -d 'Print shell completion scripts (bash, zsh, fish) as plain text'
complete -c geode -n '__geode_at \'\'' -l config -s c -r -F -d 'Configuration file (TOML or GeoDE INI), read after ./gnss_data.cfg and ./geode.toml'
complete -c geode -n '__geode_at \'\'' -l parallel -l noparallel -d 'Run units on Celery workers (--parallel) or in this process (--noparallel)'
complete -c geode -n '__geode_at \'\'' -l verbose -s v -d 'More detail on stderr (repeat for more)'
complete -c geode -n '__geode_at \'\'' -l quiet -s q -d 'Only warnings and errors on stderr; no progress bars'
complete -c geode -n '__geode_at \'\'' -l json -d 'Machine-readable JSON on stdout where a command supports it'
complete -c geode -n '__geode_at \'\'' -l debug -d 'Show tracebacks for errors'
complete -c geode -n '__geode_at \'\'' -l version -d 'Print the versions of geode, Python, the PostgreSQL server (if reachable) and Celery'
complete -c geode -n '__geode_at \'\'' -l help -s h -d 'Show this message and exit'
complete -c geode -n '__geode_at \'example\'' -l help -s h -d 'Show this message and exit'
complete -c geode -n '__geode_at \'example\'' -F
complete -c geode -n '__geode_at \'gamit\'' -a 'plan' -d 'Show, per day, the active stations, the sub-networks and what is already processed (no GA…'
complete -c geode -n '__geode_at \'gamit\'' -a 'run' -d 'Process the sessions not yet done: task directories, sh_gamit per system, GLOBK, stored r…'
complete -c geode -n '__geode_at \'gamit\'' -a 'status' -d 'Per day and sub-network: planned, running, done or failed, with NRMS and ambiguity resolu…'
complete -c geode -n '__geode_at \'gamit\'' -l help -s h -d 'Show this message and exit'
complete -c geode -n '__geode_at \'gamit plan\'' -l include -s i -x -a '(__geode_codes stations)' -d 'Add stations to the config\'s stn_list (station-list grammar); repeat'
complete -c geode -n '__geode_at \'gamit plan\'' -l exclude -s e -x -a '(__geode_codes stations)' -d 'Leave stations out (net.stn or stn); repeat'
complete -c geode -n '__geode_at \'gamit plan\'' -l json -d 'Print machine-readable JSON on stdout'
complete -c geode -n '__geode_at \'gamit plan\'' -l help -s h -d 'Show this message and exit'
complete -c geode -n '__geode_at \'gamit run\'' -l dry-run -d 'Build every task directory, then stop before GAMIT (nothing is stored but the partition)'
complete -c geode -n '__geode_at \'gamit run\'' -l purge -d 'First delete the days\' directories and rows (gamit_soln, gamit_stats, gamit_subnets, gami…'
complete -c geode -n '__geode_at \'gamit run\'' -l parallel -l noparallel -d 'Run sessions on Celery workers (queue \'gamit\') or in this process; default: the global op…'
complete -c geode -n '__geode_at \'gamit run\'' -l include -s i -x -a '(__geode_codes stations)' -d 'Add stations to the config\'s stn_list (station-list grammar); repeat'
complete -c geode -n '__geode_at \'gamit run\'' -l exclude -s e -x -a '(__geode_codes stations)' -d 'Leave stations out (net.stn or stn); repeat'
complete -c geode -n '__geode_at \'gamit run\'' -l json -d 'Print machine-readable JSON on stdout'
complete -c geode -n '__geode_at \'gamit run\'' -l help -s h -d 'Show this message and exit'
complete -c geode -n '__geode_at \'gamit status\'' -l json -d 'Print machine-readable JSON on stdout'
complete -c geode -n '__geode_at \'gamit status\'' -l help -s h -d 'Show this message and exit'
complete -c geode -n '__geode_at \'stack\'' -l help -s h -d 'Show this message and exit'
complete -c geode -n '__geode_at \'dra\'' -l help -s h -d 'Show this message and exit'
complete -c geode -n '__geode_at \'kml\'' -l help -s h -d 'Show this message and exit'
complete -c geode -n '__geode_at \'scan\'' -l help -s h -d 'Show this message and exit'
complete -c geode -n '__geode_at \'download\'' -l help -s h -d 'Show this message and exit'
complete -c geode -n '__geode_at \'worker\'' -l help -s h -d 'Show this message and exit'
complete -c geode -n '__geode_at \'doctor\'' -l help -s h -d 'Show this message and exit'
complete -c geode -n '__geode_at \'db\'' -a 'init' -d 'Create GeoDE\'s tables (safe on an existing GeoDE database, and safe to run twice)'
complete -c geode -n '__geode_at \'db\'' -a 'upgrade' -d 'Apply pending schema migrations (safe from several processes at once)'
complete -c geode -n '__geode_at \'db\'' -a 'status' -d 'Server, schema version and row counts'
complete -c geode -n '__geode_at \'db\'' -a 'stop' -d 'Stop the embedded PostgreSQL server (a configured server is never touched)'
complete -c geode -n '__geode_at \'db\'' -l help -s h -d 'Show this message and exit'
complete -c geode -n '__geode_at \'db init\'' -l help -s h -d 'Show this message and exit'
complete -c geode -n '__geode_at \'db upgrade\'' -l help -s h -d 'Show this message and exit'
complete -c geode -n '__geode_at \'db status\'' -l json -d 'Print machine-readable JSON on stdout'
complete -c geode -n '__geode_at \'db status\'' -l help -s h -d 'Show this message and exit'
complete -c geode -n '__geode_at \'db stop\'' -l help -s h -d 'Show this message and exit'
complete -c geode -n '__geode_at \'config\'' -a 'show' -d 'Print every effective value (secrets masked) with its source'
complete -c geode -n '__geode_at \'config\'' -a 'path' -d 'List the configuration files consulted, in rising precedence'
complete -c geode -n '__geode_at \'config\'' -l help -s h -d 'Show this message and exit'
complete -c geode -n '__geode_at \'config show\'' -l json -d 'Print machine-readable JSON on stdout'
complete -c geode -n '__geode_at \'config show\'' -l help -s h -d 'Show this message and exit'
complete -c geode -n '__geode_at \'config path\'' -l json -d 'Print machine-readable JSON on stdout'
complete -c geode -n '__geode_at \'config path\'' -l help -s h -d 'Show this message and exit'
complete -c geode -n '__geode_at \'completion\'' -a 'bash' -d 'Print the bash completion script'
complete -c geode -n '__geode_at \'completion\'' -a 'zsh' -d 'Print the zsh completion script'
complete -c geode -n '__geode_at \'completion\'' -a 'fish' -d 'Print the fish completion script'
complete -c geode -n '__geode_at \'completion\'' -l help -s h -d 'Show this message and exit'
complete -c geode -n '__geode_at \'completion bash\'' -l help -s h -d 'Show this message and exit'
complete -c geode -n '__geode_at \'completion zsh\'' -l help -s h -d 'Show this message and exit'
complete -c geode -n '__geode_at \'completion fish\'' -l help -s h -d 'Show this message and exit'
