"""Precise point positioning with NRCan's PPP (GPSPACE), optional: ``geode scan ppp`` fills ``ppp_soln``.

* ``setup``     the configured engine, support files and reference frames ([ppp]), or what is missing
* ``rundir``    the run folder: RINEX 2 copy, orbits/clocks/ERP, gpsppp.def, commands.cmd, input.inp
* ``summary``   the engine's ``.sum`` report: coordinates, sigmas, epochs, the checks GeoDE makes
* ``engine``    one station-day: stage, run (with GeoDE's retries), parse
* ``solutions`` the database side: days to do, hashes, the spatial check, idempotent storage

The dispatch unit (one station-day, queue ``compute``) is ``geode.archive.tasks.ppp_day``.
"""
