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
            printf '%s\n' 'dra' 'kml' 'doctor' 'example' 'gamit' 'stack' 'scan' 'download' 'worker' 'db' 'config' 'completion'
        case 'gamit'
            printf '%s\n' 'plan' 'run' 'status'
        case 'stack'
            printf '%s\n' 'run' 'etm' 'show'
        case 'scan'
            printf '%s\n' 'archive' 'ingest' 'stninfo' 'check' 'otl'
        case 'download'
            printf '%s\n' 'attempts' 'sources'
        case 'download sources'
            printf '%s\n' 'list' 'add' 'remove' 'test'
        case 'worker'
            printf '%s\n' 'start' 'status' 'stop'
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
        case 'dra'
            printf '%s\n' '--dates' '-d' '--output' '-o' '--limit-mm'
        case 'kml'
            printf '%s\n' '--output' '-o' '--title'
        case 'gamit plan'
            printf '%s\n' '--include' '-i' '--exclude' '-e'
        case 'gamit run'
            printf '%s\n' '--include' '-i' '--exclude' '-e'
        case 'stack run'
            printf '%s\n' '--project' '-p' '--exclude' '-e' '--end' '-d' '--max-iterations' '--tolerance-mm' '--constraints' '--summary' '--plot'
        case 'stack etm'
            printf '%s\n' '--jump' '--no-jump' '--plot'
        case 'scan stninfo'
            printf '%s\n' '--network' '-n' '--export' '-e' '--output' '-o'
        case 'download attempts'
            printf '%s\n' '--limit'
        case 'download sources add'
            printf '%s\n' '--protocol' '--fqdn' '--path' '--username' '--format' '--server' '--try-order'
        case 'download sources remove'
            printf '%s\n' '--server' '--try-order'
        case 'download sources test'
            printf '%s\n' '--station' '--date' '--timeout'
        case 'worker start'
            printf '%s\n' '--queues' '-Q' '--concurrency' '-c' '--loglevel' '-l' '--hostname' '-n' '--max-tasks-per-child'
        case 'worker status'
            printf '%s\n' '--timeout'
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
complete -c geode -n '__geode_at \'\'' -a 'dra' -d 'Daily repeatability: chain-align each day to the previous one, difference each station\'s…'
complete -c geode -n '__geode_at \'\'' -a 'kml' -d 'Write a KMZ: a folder per network, a placemark per station styled by status (green: data…'
complete -c geode -n '__geode_at \'\'' -a 'doctor' -d 'Check configuration, database, broker, workers and external programs, in that order'
complete -c geode -n '__geode_at \'\'' -a 'example' -d 'Create an example workspace: config, networks, ~10 stations with station information, and…'
complete -c geode -n '__geode_at \'\'' -a 'gamit' -d 'Plan and run GAMIT/GLOBK processing of a network: daily sessions split into sub-networks,…'
complete -c geode -n '__geode_at \'\'' -a 'stack' -d 'Stack daily GAMIT solutions (gamit_soln) into aligned time series and fit trajectory mode…'
complete -c geode -n '__geode_at \'\'' -a 'scan' -d 'Scan the RINEX archive, ingest new files from the repository, load station information, c…'
complete -c geode -n '__geode_at \'\'' -a 'download' -d 'Download RINEX files from the configured data sources'
complete -c geode -n '__geode_at \'\'' -a 'worker' -d 'Start, inspect and stop Celery workers that run geode\'s units of work'
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
complete -c geode -n '__geode_at \'dra\'' -l dates -s d -x -d 'First [and last] day (give twice)'
complete -c geode -n '__geode_at \'dra\'' -l output -s o -r -F -d 'Folder for PROJECT_dra.json/.csv/.png and plots'
complete -c geode -n '__geode_at \'dra\'' -l plot -d 'Also one PNG of differences per station'
complete -c geode -n '__geode_at \'dra\'' -l limit-mm -x -d 'Flag days whose alignment WRMS exceeds this'
complete -c geode -n '__geode_at \'dra\'' -l save-excluded -d 'Record outlier epochs in gamit_soln_excl (adds rows, never deletes)'
complete -c geode -n '__geode_at \'dra\'' -l parallel -l noparallel -d 'Per-station work on Celery workers'
complete -c geode -n '__geode_at \'dra\'' -l json -d 'Print machine-readable JSON on stdout'
complete -c geode -n '__geode_at \'dra\'' -l help -s h -d 'Show this message and exit'
complete -c geode -n '__geode_at \'dra\'' -a '(__geode_codes stations)'
complete -c geode -n '__geode_at \'kml\'' -l output -s o -r -F -d 'Where to write the KMZ'
complete -c geode -n '__geode_at \'kml\'' -l availability -l no-availability -d 'Embed a year × day-of-year data chart per station'
complete -c geode -n '__geode_at \'kml\'' -l title -x -d 'Document name shown in the viewer'
complete -c geode -n '__geode_at \'kml\'' -l json -d 'Print machine-readable JSON on stdout'
complete -c geode -n '__geode_at \'kml\'' -l help -s h -d 'Show this message and exit'
complete -c geode -n '__geode_at \'kml\'' -a '(__geode_codes stations)'
complete -c geode -n '__geode_at \'doctor\'' -l json -d 'Print machine-readable JSON on stdout'
complete -c geode -n '__geode_at \'doctor\'' -l help -s h -d 'Show this message and exit'
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
complete -c geode -n '__geode_at \'stack\'' -a 'run' -d 'Align each day to the stations\' trajectories, iterate to convergence, store stack rows an…'
complete -c geode -n '__geode_at \'stack\'' -a 'etm' -d 'Fit (or reuse, when data and jumps are unchanged) the stack\'s trajectory models; add/remo…'
complete -c geode -n '__geode_at \'stack\'' -a 'show' -d 'List stacks, or one stack\'s stored trajectory models (velocities, WRMS, jumps)'
complete -c geode -n '__geode_at \'stack\'' -l help -s h -d 'Show this message and exit'
complete -c geode -n '__geode_at \'stack run\'' -l project -s p -x -d 'gamit_soln project to stack'
complete -c geode -n '__geode_at \'stack run\'' -l redo -d 'Rebuild an existing stack from gamit_soln (its old rows are replaced in the same transact…'
complete -c geode -n '__geode_at \'stack run\'' -l preserve -d 'Keep an existing stack\'s days and align only days that are new or changed in gamit_soln'
complete -c geode -n '__geode_at \'stack run\'' -l exclude -s e -x -a '(__geode_codes stations)' -d 'Not used as alignment control (still aligned); repeat'
complete -c geode -n '__geode_at \'stack run\'' -l end -s d -x -d 'Last day to stack'
complete -c geode -n '__geode_at \'stack run\'' -l max-iterations -x -d 'Stop here if not converged'
complete -c geode -n '__geode_at \'stack run\'' -l tolerance-mm -x -d 'Converged when the aligned coordinates move less than this (RMS) between iterations'
complete -c geode -n '__geode_at \'stack run\'' -l common-modes -d 'Remove network-wide annual and semi-annual signals (7-parameter Helmert)'
complete -c geode -n '__geode_at \'stack run\'' -l constraints -r -F -d 'Tie to a frame: lines \'net.stn x y z epoch [vx vy vz]\''
complete -c geode -n '__geode_at \'stack run\'' -l summary -r -F -d 'Alignment summary JSON [default: NAME_alignment.json]'
complete -c geode -n '__geode_at \'stack run\'' -l plot -r -F -d 'Write one PNG time series with its model per station'
complete -c geode -n '__geode_at \'stack run\'' -l parallel -l noparallel -d 'Fit and align on Celery workers (queue \'compute\') or in this process; default: the global…'
complete -c geode -n '__geode_at \'stack run\'' -l json -d 'Print machine-readable JSON on stdout'
complete -c geode -n '__geode_at \'stack run\'' -l help -s h -d 'Show this message and exit'
complete -c geode -n '__geode_at \'stack run\'' -a '(__geode_codes stations)'
complete -c geode -n '__geode_at \'stack etm\'' -l jump -x -d 'Add a jump (KIND mechanical|geophysical|postseismic, default mechanical) for the selected…'
complete -c geode -n '__geode_at \'stack etm\'' -l no-jump -x -d 'Switch off any jump within a day of DATE'
complete -c geode -n '__geode_at \'stack etm\'' -l plot -r -F -d 'Write one PNG time series with its model per station'
complete -c geode -n '__geode_at \'stack etm\'' -l parallel -l noparallel -d 'Fit and align on Celery workers (queue \'compute\') or in this process; default: the global…'
complete -c geode -n '__geode_at \'stack etm\'' -l json -d 'Print machine-readable JSON on stdout'
complete -c geode -n '__geode_at \'stack etm\'' -l help -s h -d 'Show this message and exit'
complete -c geode -n '__geode_at \'stack etm\'' -a '(__geode_codes stations)'
complete -c geode -n '__geode_at \'stack show\'' -l json -d 'Print machine-readable JSON on stdout'
complete -c geode -n '__geode_at \'stack show\'' -l help -s h -d 'Show this message and exit'
complete -c geode -n '__geode_at \'scan\'' -a 'archive' -d 'Read every archive file (or the given stations\' files) and upsert its rinex row'
complete -c geode -n '__geode_at \'scan\'' -a 'ingest' -d 'Move the files in <repository>/data_in into the archive and the database, one transaction…'
complete -c geode -n '__geode_at \'scan\'' -a 'stninfo' -d 'Load GAMIT station.info records into stationinfo (GeoDE\'s overlap rules), or export them'
complete -c geode -n '__geode_at \'scan\'' -a 'check' -d 'Integrity report: station info vs RINEX headers, station-info gaps and overlaps, files mi…'
complete -c geode -n '__geode_at \'scan\'' -a 'otl' -d 'Ocean-loading coefficients (HARPOS) with GAMIT\'s grdtab for stations that lack them'
complete -c geode -n '__geode_at \'scan\'' -l help -s h -d 'Show this message and exit'
complete -c geode -n '__geode_at \'scan archive\'' -l parallel -l noparallel -d 'Run on Celery workers (queue \'io\') or in this process; default: the global option, else t…'
complete -c geode -n '__geode_at \'scan archive\'' -l json -d 'Print machine-readable JSON on stdout'
complete -c geode -n '__geode_at \'scan archive\'' -l help -s h -d 'Show this message and exit'
complete -c geode -n '__geode_at \'scan archive\'' -a '(__geode_codes stations)'
complete -c geode -n '__geode_at \'scan ingest\'' -l parallel -l noparallel -d 'Run on Celery workers (queue \'io\') or in this process; default: the global option, else t…'
complete -c geode -n '__geode_at \'scan ingest\'' -l json -d 'Print machine-readable JSON on stdout'
complete -c geode -n '__geode_at \'scan ingest\'' -l help -s h -d 'Show this message and exit'
complete -c geode -n '__geode_at \'scan stninfo\'' -l network -s n -x -a '(__geode_codes networks)' -d 'Network of the stations in the files, when a code exists in several'
complete -c geode -n '__geode_at \'scan stninfo\'' -l export -s e -x -a '(__geode_codes stations)' -d 'Write station.info for these stations (station-list grammar; repeat) to stdout or --output'
complete -c geode -n '__geode_at \'scan stninfo\'' -l output -s o -r -F -d 'File for --export'
complete -c geode -n '__geode_at \'scan stninfo\'' -l json -d 'Print machine-readable JSON on stdout'
complete -c geode -n '__geode_at \'scan stninfo\'' -l help -s h -d 'Show this message and exit'
complete -c geode -n '__geode_at \'scan check\'' -l json -d 'Print machine-readable JSON on stdout'
complete -c geode -n '__geode_at \'scan check\'' -l help -s h -d 'Show this message and exit'
complete -c geode -n '__geode_at \'scan check\'' -a '(__geode_codes stations)'
complete -c geode -n '__geode_at \'scan otl\'' -l force -d 'Recompute stations that already have coefficients'
complete -c geode -n '__geode_at \'scan otl\'' -l parallel -l noparallel -d 'Run on Celery workers (queue \'io\') or in this process; default: the global option, else t…'
complete -c geode -n '__geode_at \'scan otl\'' -l json -d 'Print machine-readable JSON on stdout'
complete -c geode -n '__geode_at \'scan otl\'' -l help -s h -d 'Show this message and exit'
complete -c geode -n '__geode_at \'scan otl\'' -a '(__geode_codes stations)'
complete -c geode -n '__geode_at \'download\'' -a 'attempts' -d 'What earlier downloads tried: station, day, source URL, outcome (success, not_found, reje…'
complete -c geode -n '__geode_at \'download\'' -a 'sources' -d 'Manage download servers and each station\'s ordered source list'
complete -c geode -n '__geode_at \'download\'' -l help -s h -d 'Show this message and exit'
complete -c geode -n '__geode_at \'download attempts\'' -l limit -x -d 'How many, newest first'
complete -c geode -n '__geode_at \'download attempts\'' -l json -d 'Print machine-readable JSON on stdout'
complete -c geode -n '__geode_at \'download attempts\'' -l help -s h -d 'Show this message and exit'
complete -c geode -n '__geode_at \'download attempts\'' -a '(__geode_codes stations)'
complete -c geode -n '__geode_at \'download sources\'' -a 'list' -d 'Servers (passwords masked) and the stations\' source lists, in try order'
complete -c geode -n '__geode_at \'download sources\'' -a 'add' -d 'Add a server (--protocol --fqdn --path), and/or add a server to STATIONS\' source lists'
complete -c geode -n '__geode_at \'download sources\'' -a 'remove' -d 'Remove STATIONS\' source entries (all, or --try-order N), or a whole server (--server)'
complete -c geode -n '__geode_at \'download sources\'' -a 'test' -d 'Connect and log in to a server (credentials from netrc); with --station, fetch and valida…'
complete -c geode -n '__geode_at \'download sources\'' -l help -s h -d 'Show this message and exit'
complete -c geode -n '__geode_at \'download sources list\'' -l json -d 'Print machine-readable JSON on stdout'
complete -c geode -n '__geode_at \'download sources list\'' -l help -s h -d 'Show this message and exit'
complete -c geode -n '__geode_at \'download sources list\'' -a '(__geode_codes stations)'
complete -c geode -n '__geode_at \'download sources add\'' -l protocol -x -d 'New server: ftp, ftpa (active FTP), ftps, sftp, http or https'
complete -c geode -n '__geode_at \'download sources add\'' -l fqdn -x -d 'New server: host or host:port'
complete -c geode -n '__geode_at \'download sources add\'' -l path -x -d 'Path template, e.g'
complete -c geode -n '__geode_at \'download sources add\'' -l username -x -d 'Login for a new server; the password goes in ~/.netrc (or [sources] netrc), never here'
complete -c geode -n '__geode_at \'download sources add\'' -l format -x -d 'Format script name (in [archive] format_scripts_path) applied after download'
complete -c geode -n '__geode_at \'download sources add\'' -l server -x -d 'Existing server (id or fqdn) to add to the STATIONS\' lists'
complete -c geode -n '__geode_at \'download sources add\'' -l try-order -x -d 'Position in the station\'s list (default: last)'
complete -c geode -n '__geode_at \'download sources add\'' -l json -d 'Print machine-readable JSON on stdout'
complete -c geode -n '__geode_at \'download sources add\'' -l help -s h -d 'Show this message and exit'
complete -c geode -n '__geode_at \'download sources add\'' -a '(__geode_codes stations)'
complete -c geode -n '__geode_at \'download sources remove\'' -l server -x -d 'Without STATIONS: delete this server (it must be in no station\'s list)'
complete -c geode -n '__geode_at \'download sources remove\'' -l try-order -x -d 'With STATIONS: remove only this entry of their lists'
complete -c geode -n '__geode_at \'download sources remove\'' -l help -s h -d 'Show this message and exit'
complete -c geode -n '__geode_at \'download sources remove\'' -a '(__geode_codes stations)'
complete -c geode -n '__geode_at \'download sources test\'' -l station -x -a '(__geode_codes stations)' -d 'Also fetch this station\'s file (net.stn) for --date, to check the path template'
complete -c geode -n '__geode_at \'download sources test\'' -l date -x -d 'Day for --station (default: 2 days ago)'
complete -c geode -n '__geode_at \'download sources test\'' -l timeout -x -d 'Seconds for any network operation'
complete -c geode -n '__geode_at \'download sources test\'' -l json -d 'Print machine-readable JSON on stdout'
complete -c geode -n '__geode_at \'download sources test\'' -l help -s h -d 'Show this message and exit'
complete -c geode -n '__geode_at \'worker\'' -a 'start' -d 'Run a worker in the foreground until Ctrl-C / SIGTERM (running units finish first)'
complete -c geode -n '__geode_at \'worker\'' -a 'status' -d 'Workers that answer: ping, queues, active/reserved units, concurrency, geode version'
complete -c geode -n '__geode_at \'worker\'' -a 'stop' -d 'Graceful shutdown: workers finish their running units and exit'
complete -c geode -n '__geode_at \'worker\'' -l help -s h -d 'Show this message and exit'
complete -c geode -n '__geode_at \'worker start\'' -l queues -s Q -x -d 'Comma-separated queues to consume: gamit, compute, io'
complete -c geode -n '__geode_at \'worker start\'' -l concurrency -s c -x -d 'Worker processes (default: number of CPUs)'
complete -c geode -n '__geode_at \'worker start\'' -l loglevel -s l -x -d 'DEBUG, INFO, WARNING or ERROR'
complete -c geode -n '__geode_at \'worker start\'' -l hostname -s n -x -d 'Node name (default geode-<queues>@<host>); must be unique per worker'
complete -c geode -n '__geode_at \'worker start\'' -l max-tasks-per-child -x -d 'Replace a worker process after this many units (bounds memory of numpy-heavy work)'
complete -c geode -n '__geode_at \'worker start\'' -l help -s h -d 'Show this message and exit'
complete -c geode -n '__geode_at \'worker status\'' -l json -d 'Print machine-readable JSON on stdout'
complete -c geode -n '__geode_at \'worker status\'' -l timeout -x -d 'Seconds to wait for replies'
complete -c geode -n '__geode_at \'worker status\'' -l check -d 'Also run the health check task on each worker (database, programs, paths, drift); a busy…'
complete -c geode -n '__geode_at \'worker status\'' -l help -s h -d 'Show this message and exit'
complete -c geode -n '__geode_at \'worker stop\'' -l help -s h -d 'Show this message and exit'
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
