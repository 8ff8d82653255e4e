"""The GAMIT session configuration: GeoDE's session ``.cfg`` (INI) or the same keys in TOML.

Every key is validated up front and reported as one ConfigError line naming the file, section and key, so
a typo is found before a multi-hour run rather than inside it. Relative paths are resolved against the
file's folder. Keys GeoDE parsed but never used (``max_cores``, ``expt_type``, ``should_iterate``,
``gamit_remote_local``, ``atx``, ``[network] algorithm``, ``[Archive] gnss_data``) are accepted and ignored.
"""

from __future__ import annotations

import configparser
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from ..errors import ConfigError

try:  # Python >= 3.11
    import tomllib
except ModuleNotFoundError:  # pragma: no cover
    import tomli as tomllib  # type: ignore[no-redef]

SYSTEMS = ("G", "R", "E", "C")
OVERCONST_ACTIONS = {"relax": "relax", "inflate": "relax", "delete": "delete", "remove": "delete"}
EOP_TYPES = ("usno", "bull_b", "iers")
NETWORK_TYPES = ("regional", "global")
IGNORED_KEYS = {
    "gamit": {"max_cores", "expt_type", "should_iterate", "gamit_remote_local", "atx"},
    "network": {"algorithm"},
    "archive": {"gnss_data"},
}


@dataclass(frozen=True)
class SessionConfig:
    """One validated session configuration; plain data so it travels to workers as is."""

    source: str  # the file it came from (messages)
    network_id: str
    stn_list: list[str]
    network_type: str
    cluster_size: int
    ties: int
    process_defaults: Path
    sestbl: Path
    solutions_dir: Path
    expt: str = "expt"
    org: str = "IGN"
    eop_type: str = "usno"
    noftp: bool = True
    systems: list[str] = field(default_factory=lambda: ["G"])
    overconst_action: str = "relax"  # relax (drop the site's sittbl. line) or delete (drop its RINEX)
    sigma_floor_h: float = 0.10
    sigma_floor_v: float = 0.15

    @property
    def project(self) -> str:
        """The "Project" column and directory name (GeoDE lower-cases network_id)."""
        return self.network_id.lower()


def _split_list(raw: Any) -> list[str]:
    """Comma list, but commas inside [...] belong to a filter (e.g. LAT[-35,-40]); TOML lists pass through."""
    if isinstance(raw, (list, tuple)):
        return [str(x).strip() for x in raw if str(x).strip()]
    parts, depth, current = [], 0, []
    for ch in str(raw):
        if ch == "[":
            depth += 1
        elif ch == "]":
            depth = max(0, depth - 1)
        if ch == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    return [p.strip() for p in parts if p.strip()]


def _bool(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in ("yes", "true", "1", "y", "on"):
        return True
    if text in ("no", "false", "0", "n", "off"):
        return False
    raise ValueError("expected yes or no")


def _int_at_least(minimum: int) -> Callable[[Any], int]:
    def convert(raw: Any) -> int:
        if isinstance(raw, bool):
            raise ValueError("expected an integer")
        try:
            value = int(str(raw).strip())
        except ValueError:
            raise ValueError("expected an integer") from None
        if value < minimum:
            raise ValueError(f"must be at least {minimum}")
        return value

    return convert


def _positive_float(raw: Any) -> float:
    try:
        value = float(str(raw).strip())
    except ValueError:
        raise ValueError("expected a number in metres") from None
    if not value > 0 or value > 100:
        raise ValueError("must be a positive number of metres (at most 100)")
    return value


def _choice(options) -> Callable[[Any], str]:
    def convert(raw: Any) -> str:
        value = str(raw).strip().lower()
        if value not in options:
            raise ValueError(f"expected one of {', '.join(options)}")
        return value

    return convert


def _expt(raw: Any) -> str:
    value = str(raw).strip()
    if not re.fullmatch(r"[a-z0-9]{4}", value):
        raise ValueError("must be exactly 4 lower-case letters or digits (GAMIT's experiment name)")
    return value


def _org(raw: Any) -> str:
    value = str(raw).strip()
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9]{2}", value):
        raise ValueError("must be 3 characters starting with a letter (it starts the SINEX file names)")
    return value


def _systems(raw: Any) -> list[str]:
    values = [s.upper() for s in _split_list(raw)]
    bad = [s for s in values if s not in SYSTEMS]
    if bad or not values:
        raise ValueError(f"expected a comma list of {', '.join(SYSTEMS)} (got {raw!r})")
    return list(dict.fromkeys(values))


def _network_id(raw: Any) -> str:
    value = str(raw).strip()
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_\-]{0,19}", value):
        raise ValueError("must be 1-20 letters, digits, '-' or '_' (it names directories and the Project column)")
    return value


def _stations(raw: Any) -> list[str]:
    values = _split_list(raw)
    if not values:
        raise ValueError("lists no stations")
    return values


def _text(raw: Any) -> str:
    return str(raw).strip()


# key -> (attribute, converter, required)
GAMIT_KEYS: dict[str, tuple[str, Callable[[Any], Any], bool]] = {
    "process_defaults": ("process_defaults", _text, True),
    "sestbl": ("sestbl", _text, True),
    "solutions_dir": ("solutions_dir", _text, True),
    "expt": ("expt", _expt, False),
    "org": ("org", _org, False),
    "eop_type": ("eop_type", _choice(EOP_TYPES), False),
    "noftp": ("noftp", _bool, False),
    "systems": ("systems", _systems, False),
    "overconst_action": ("overconst_action", lambda r: OVERCONST_ACTIONS[_choice(tuple(OVERCONST_ACTIONS))(r)],
                         False),
    "sigma_floor_h": ("sigma_floor_h", _positive_float, False),
    "sigma_floor_v": ("sigma_floor_v", _positive_float, False),
}
NETWORK_KEYS: dict[str, tuple[str, Callable[[Any], Any], bool]] = {
    "network_id": ("network_id", _network_id, True),
    "stn_list": ("stn_list", _stations, True),
    "type": ("network_type", _choice(NETWORK_TYPES), True),
    "cluster_size": ("cluster_size", _int_at_least(2), False),
    "ties": ("ties", _int_at_least(0), False),
}


def _read_sections(path: Path) -> dict[str, dict[str, Any]]:
    text = path.read_text(encoding="utf-8", errors="replace")
    if path.suffix.lower() == ".toml":
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: not valid TOML: {exc}") from None
        return {str(k).lower(): {str(kk).lower(): vv for kk, vv in v.items()}
                for k, v in data.items() if isinstance(v, dict)}
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read_string(text, source=str(path))
    except configparser.Error as exc:
        raise ConfigError(f"{path}: not a valid session file: {str(exc).splitlines()[0]}") from None
    return {s.lower(): dict(parser.items(s)) for s in parser.sections()}


def load_session_config(path: str | Path) -> SessionConfig:
    """Read and validate a session file; any problem is one ConfigError (exit 78)."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise ConfigError(f"session config {path} does not exist")
    path = path.resolve()
    sections = _read_sections(path)
    values: dict[str, Any] = {}
    for section, keys in (("gamit", GAMIT_KEYS), ("network", NETWORK_KEYS)):
        found = sections.get(section)
        if found is None:
            raise ConfigError(f"{path}: missing section [{section}]")
        for key, raw in found.items():
            if key in IGNORED_KEYS.get(section, ()):
                continue
            if key not in keys:
                known = ", ".join(sorted(keys))
                raise ConfigError(f"{path}: [{section}] {key}: unknown key (known: {known})")
            attr, convert, _ = keys[key]
            try:
                values[attr] = convert(raw)
            except (ValueError, KeyError) as exc:
                raise ConfigError(f"{path}: [{section}] {key} = {raw!r}: {exc}") from None
        for key, (attr, _, required) in keys.items():
            if required and attr not in values:
                raise ConfigError(f"{path}: [{section}] {key} is required")
    for section in sections:
        if section not in ("gamit", "network", "archive"):
            raise ConfigError(f"{path}: unknown section [{section}] (expected [gamit] and [network])")

    base = path.parent
    for attr in ("process_defaults", "sestbl", "solutions_dir"):
        p = Path(values[attr]).expanduser()
        values[attr] = Path(os.path.normpath(p if p.is_absolute() else base / p))
    for attr in ("process_defaults", "sestbl"):
        if not values[attr].is_file():
            raise ConfigError(f"{path}: [gamit] {attr}: {values[attr]} does not exist")
    values.setdefault("cluster_size", 25)
    values.setdefault("ties", 4)
    return SessionConfig(source=str(path), **values)
