"""Example part: a GAMIT session config for the example network (``gamit/example.cfg``) and the
sestbl./process.defaults templates it points at, so ``geode gamit plan gamit/example.cfg 2024_100 2024_104``
and ``geode gamit run ... --dry-run`` work in the example workspace.

The network is split on purpose (cluster_size 6 for 10 stations), so the plan shows a backbone, two
clusters and their tie stations.
"""

from __future__ import annotations

SESSION_CFG = """\
# GeoDE session config for the example network (GeoDE's INI format; a .toml with the same keys works too).
# Relative paths are relative to this file.
[gamit]
process_defaults = tables/process.defaults
sestbl           = tables/sestbl.
solutions_dir    = ../solutions
expt             = expl
org              = EXA
eop_type         = usno
noftp            = yes
systems          = G
overconst_action = relax
sigma_floor_h    = 0.10
sigma_floor_v    = 0.15

[network]
network_id   = example
type         = regional
cluster_size = 6
ties         = 2
stn_list     = igs.all, arg.all
"""

SESTBL = """\
Session Table

Processing Agency = EXA

Station Number = 99
Type of Analysis = 1-ITER       ; 0-ITER/1-ITER/BASELINE
Choice of Observable = LC_AUTCLN
Choice of Experiment = RELAX.   ; BASELINE/RELAX./ORBIT
Decimation Factor = 4           ; 30 s data processed at 2 min
Elevation Cutoff = 10
Scratch directory = /tmp
Use otl.list = N
Use otl.grid = Y
Update T/L files = L_ONLY
Ion model = NONE
"""

PROCESS_DEFAULTS = """\
# process.defaults for the example workspace (sh_gamit reads it from tables/)
set procdir = `pwd`
set rnxfnd = "$procdir/rinex"
set rawpth = "$procdir/raw"
set rxfpth = "$procdir/rinex"
set gnfpth = "$procdir/igs"
set glbpth = "$procdir/gsoln"
set glfpth = "$procdir/glbf"
set brdc = 'brdc'
set stinf_unique = "-u"
set stinf_nosort = "-nosort"
set mailto = ''
"""


def build(ws) -> list[str]:
    folder = ws.root / "gamit"
    (folder / "tables").mkdir(parents=True, exist_ok=True)
    (folder / "example.cfg").write_text(SESSION_CFG, encoding="utf-8")
    (folder / "tables" / "sestbl.").write_text(SESTBL, encoding="utf-8")
    (folder / "tables" / "process.defaults").write_text(PROCESS_DEFAULTS, encoding="utf-8")
    (ws.root / "solutions").mkdir(exist_ok=True)
    return ["gamit: session config gamit/example.cfg "
            "(try: geode gamit plan gamit/example.cfg 2024_100 2024_104)"]
