"""Session config (.cfg INI and TOML): defaults, validation of every key, relative paths."""

from __future__ import annotations

from pathlib import Path

import pytest

from geode.errors import ConfigError
from geode.gamit.session_config import load_session_config

CFG = """\
[gamit]
process_defaults = tables/process.defaults
sestbl           = tables/sestbl.
solutions_dir    = solutions
expt       = rmsc
org        = IGN
eop_type   = usno
noftp      = yes
overconst_action = inflate
systems    = G,E
sigma_floor_h = 0.10
sigma_floor_v = 0.15
max_cores = 4

[network]
network_id   = IGS-SIRGAS
type         = regional
cluster_size = 25
ties         = 4
stn_list     = igs.all,sir.all,-igs.pwro,ARG:LAT[-35,-40]
algorithm    = qmeans

[Archive]
gnss_data = gnss_data.cfg
"""


@pytest.fixture
def folder(tmp_path) -> Path:
    (tmp_path / "tables").mkdir()
    (tmp_path / "tables" / "process.defaults").write_text("set brdc = 'brdc'\n")
    (tmp_path / "tables" / "sestbl.").write_text("Scratch directory = /tmp\n")
    return tmp_path


def write(folder: Path, text: str, name: str = "session.cfg") -> Path:
    path = folder / name
    path.write_text(text)
    return path


def test_ini_session(folder):
    cfg = load_session_config(write(folder, CFG))
    assert cfg.project == "igs-sirgas"
    assert cfg.stn_list == ["igs.all", "sir.all", "-igs.pwro", "ARG:LAT[-35,-40]"]
    assert cfg.systems == ["G", "E"] and cfg.overconst_action == "relax" and cfg.noftp is True
    assert cfg.process_defaults == folder / "tables" / "process.defaults"
    assert cfg.solutions_dir == folder / "solutions"
    assert (cfg.cluster_size, cfg.ties, cfg.network_type) == (25, 4, "regional")


def test_toml_session_and_defaults(folder):
    text = """
[gamit]
process_defaults = "tables/process.defaults"
sestbl = "tables/sestbl."
solutions_dir = "/data/solutions"
systems = ["G", "R"]

[network]
network_id = "arg"
type = "global"
stn_list = ["arg.all", "igs.lpgs"]
"""
    cfg = load_session_config(write(folder, text, "session.toml"))
    assert cfg.systems == ["G", "R"] and cfg.stn_list == ["arg.all", "igs.lpgs"]
    assert cfg.solutions_dir == Path("/data/solutions")
    assert (cfg.expt, cfg.org, cfg.eop_type, cfg.cluster_size, cfg.ties) == ("expt", "IGN", "usno", 25, 4)
    assert (cfg.sigma_floor_h, cfg.sigma_floor_v, cfg.overconst_action) == (0.10, 0.15, "relax")


@pytest.mark.parametrize("old,new,fragment", [
    ("expt       = rmsc", "expt = rmscx", "[gamit] expt"),
    ("org        = IGN", "org = 1GN", "[gamit] org"),
    ("systems    = G,E", "systems = G,X", "[gamit] systems"),
    ("overconst_action = inflate", "overconst_action = ignore", "overconst_action"),
    ("sigma_floor_h = 0.10", "sigma_floor_h = -1", "sigma_floor_h"),
    ("eop_type   = usno", "eop_type = nasa", "eop_type"),
    ("noftp      = yes", "noftp = perhaps", "noftp"),
    ("cluster_size = 25", "cluster_size = many", "cluster_size"),
    ("ties         = 4", "ties = -1", "ties"),
    ("type         = regional", "type = local", "[network] type"),
    ("network_id   = IGS-SIRGAS", "network_id = a/b", "network_id"),
    ("network_id   = IGS-SIRGAS", "", "[network] network_id is required"),
    ("stn_list     = igs.all,sir.all,-igs.pwro,ARG:LAT[-35,-40]", "stn_list = ,", "stn_list"),
    ("sestbl           = tables/sestbl.", "sestbl = tables/nothere", "does not exist"),
    ("solutions_dir    = solutions", "", "solutions_dir is required"),
    ("noftp      = yes", "nofpt = yes", "unknown key"),
    ("[Archive]", "[Archiv]", "unknown section"),
])
def test_each_bad_key_is_one_config_error(folder, old, new, fragment):
    assert old in CFG
    with pytest.raises(ConfigError, match=fragment.replace("[", r"\[").replace("]", r"\]")) as info:
        load_session_config(write(folder, CFG.replace(old, new)))
    assert "\n" not in str(info.value) and "session.cfg" in str(info.value)


def test_missing_file_and_broken_syntax(folder):
    with pytest.raises(ConfigError, match="does not exist"):
        load_session_config(folder / "nope.cfg")
    with pytest.raises(ConfigError, match="not a valid session file"):
        load_session_config(write(folder, "gamit]\nx"))
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_session_config(write(folder, "[gamit\n", "s.toml"))
    with pytest.raises(ConfigError, match=r"missing section \[network\]"):
        load_session_config(write(folder, CFG[:CFG.index("[network]")]))
