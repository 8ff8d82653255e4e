"""GAMIT/GLOBK processing of a network: session config, daily plans, sub-networks, task directories,
running the engine with GeoDE's retry rules, parsing its outputs and storing the results.

Modules, in the order data flows through them:

* ``session_config`` the session ``.cfg`` (GeoDE INI) or TOML file, validated
* ``planning``       active stations per day, a-priori coordinates, sub-networks, what is already done
* ``clustering``     backbone + balanced clusters with tie stations (deterministic)
* ``taskdir``        the files of one GAMIT task directory (tables/, rinex/, igs/, brdc/)
* ``engine``         sh_gamit per system with retries, htoglb, glbtosnx, GLOBK combinations
* ``parsers``        sh_gamit summary and stdout, SINEX, ATM_ZEN (ZTD) lines
* ``store``          idempotent writes of gamit_subnets/gamit_stats/gamit_soln/gamit_ztd and session leases
* ``tasks``          the dispatch tasks ``geode.gamit.run_session`` and ``geode.gamit.combine_day``
"""
