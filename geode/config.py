"""Layered configuration with provenance.

Sources, in rising precedence (a later source overrides an earlier one, key by key):

1. site config dir    ``<site_config_dir>/geode/geode.toml`` (platformdirs; ``/etc/xdg/geode`` on Linux)
                      and ``/etc/geode/geode.toml``
2. user config dir    ``<user_config_dir>/geode/geode.toml`` (``~/.config/geode``)
3. ``./gnss_data.cfg`` GeoDE's INI file, still read as it is
4. ``./geode.toml``    the same content in TOML
5. ``$GEODE_CONFIG``   (or ``--config``): an explicit file, INI or TOML; it must exist
6. environment        ``POSTGRES_HOST/PORT/DB/USER/PASSWORD`` as GeoDE reads them, ``CELERY_BROKER_URL``,
                      ``REDIS_URL``, ``CELERY_RESULT_BACKEND``, ``GEODE_DATABASE_URL`` and
                      ``GEODE_<SECTION>_<KEY>`` for any key
7. command-line flags (passed in as ``overrides``)

Every value remembers where it came from (``Settings.source(key)``). Relative paths in a file are resolved
against that file's folder, so a workspace can be moved as a whole.
"""

from __future__ import annotations

import configparser
import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

from .errors import ConfigError

try:  # Python >= 3.11
    import tomllib
except ModuleNotFoundError:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib  # type: ignore[no-redef]

APP_NAME = "geode"
DEFAULT_BROKER_URL = "redis://localhost:6379/0"


# ----------------------------------------------------------------------------------------------------------------
# key types


def _to_bool(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in ("1", "true", "yes", "on", "y", "t"):
        return True
    if text in ("0", "false", "no", "off", "n", "f", ""):
        return False
    raise ValueError("expected a boolean (true/false, yes/no, 1/0)")


def _to_int(raw: Any) -> int:
    if isinstance(raw, bool):
        raise ValueError("expected an integer")
    if isinstance(raw, int):
        return raw
    try:
        return int(str(raw).strip())
    except ValueError:
        raise ValueError("expected an integer") from None


def _to_float(raw: Any) -> float:
    try:
        return float(str(raw).strip())
    except ValueError:
        raise ValueError("expected a number") from None


def _to_positive(raw: Any) -> int:
    value = _to_int(raw)
    if value < 1:
        raise ValueError("expected a positive integer")
    return value


def _to_port(raw: Any) -> int:
    value = _to_int(raw)
    if not 1 <= value <= 65535:
        raise ValueError("expected a port number from 1 to 65535")
    return value


def _to_list(raw: Any) -> list[str]:
    if isinstance(raw, (list, tuple)):
        return [str(x).strip() for x in raw if str(x).strip()]
    return [part.strip() for part in str(raw).split(",") if part.strip()]


def _to_str(raw: Any) -> str:
    if isinstance(raw, (dict, list)):
        raise ValueError("expected a single value")
    return str(raw).strip()


@dataclass(frozen=True)
class KeyType:
    convert: Callable[[Any], Any]
    is_path: bool = False
    secret: bool = False  # mask the whole value
    url: bool = False  # mask the password inside a URL
    doc: str = ""


STR, INT, BOOL, FLOAT, LIST = KeyType(_to_str), KeyType(_to_int), KeyType(_to_bool), KeyType(_to_float), KeyType(_to_list)
PORT = KeyType(_to_port)
POSITIVE = KeyType(_to_positive)
PATH = KeyType(_to_str, is_path=True)
SECRET = KeyType(_to_str, secret=True)
URL = KeyType(lambda raw: check_url(_to_str(raw)), url=True)

# Known keys are validated; unknown keys in any section pass through as strings (as GeoDE's ReadOptions does).
SCHEMA: dict[str, dict[str, KeyType]] = {
    "postgres": {
        "hostname": STR, "port": PORT, "username": STR, "password": SECRET, "database": STR,
        "url": URL, "connect_timeout": INT, "embedded_dir": PATH, "reconnect_timeout": FLOAT,
    },
    "archive": {
        "path": PATH, "repository": PATH, "media": PATH, "format_scripts_path": PATH, "parallel": BOOL,
        "brdc": PATH, "sp3": PATH, "ionex": PATH, "sp3_ac": LIST, "sp3_cs": LIST, "sp3_st": LIST,
        "node_list": STR, "ip_address": STR, "cluster_delay": INT, "cpus": INT, "production": PATH,
        "max_rinex_mb": POSITIVE,
    },
    "otl": {"grdtab": PATH, "otlgrid": PATH, "otlmodel": STR},
    "ppp": {"ppp_path": PATH, "ppp_exe": PATH, "institution": STR, "info": STR, "frames": LIST, "atx": LIST},
    "celery": {
        "broker_url": URL, "result_backend": URL, "visibility_timeout": INT, "allow_pickle": BOOL,
        "result_expires": INT, "redelivery_limit": INT, "restore_interval": INT,
    },
    "jobs": {"parallel": BOOL, "worker_timeout": FLOAT, "lease_timeout": FLOAT, "broker_timeout": FLOAT,
             "worker_grace": FLOAT},
    "gamit": {"gamit_path": PATH, "tables": PATH},
}

# GeoDE's own environment variables, mapped to keys.
LEGACY_ENV: dict[str, str] = {
    "POSTGRES_HOST": "postgres.hostname",
    "POSTGRES_PORT": "postgres.port",
    "POSTGRES_DB": "postgres.database",
    "POSTGRES_USER": "postgres.username",
    "POSTGRES_PASSWORD": "postgres.password",
    "GEODE_DATABASE_URL": "postgres.url",
    "CELERY_RESULT_BACKEND": "celery.result_backend",
}
# broker URL: CELERY_BROKER_URL wins over REDIS_URL (migration plan order)
BROKER_ENV = ("CELERY_BROKER_URL", "REDIS_URL")
# env vars of the CLI's global options: not configuration keys
RESERVED_ENV = {"GEODE_CONFIG", "GEODE_DEBUG", "GEODE_VERBOSE", "GEODE_QUIET", "GEODE_JSON", "GEODE_PARALLEL",
                "GEODE_TEST_DATABASE_URL", "GEODE_TEST_REDIS_URL"}


def key_type(key: str) -> KeyType | None:
    section, _, name = key.partition(".")
    return SCHEMA.get(section, {}).get(name)


MASK = "****"
SECRET_WORDS = ("password", "passwd", "pwd", "pass", "token", "key", "secret", "credential", "auth")
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*)://(.*)$", re.DOTALL)


def is_secret_key(key: str) -> bool:
    """A key whose value is a secret: a SECRET type, or a name holding password, token, key, secret ..."""
    kt = key_type(key)
    name = key.rsplit(".", 1)[-1].lower()
    return bool(kt and kt.secret) or any(word in name for word in SECRET_WORDS)


def mask(key: str, value: Any) -> Any:
    """The value as it may be shown, for any key: secret-like keys starred whole, credentials and secret
    query parameters inside URLs starred (in every value that looks like a URL, in lists too)."""
    if value is None:
        return None
    if is_secret_key(key):
        return MASK
    if isinstance(value, (list, tuple)):
        return [mask(key + ".item", v) for v in value]
    if isinstance(value, str) and ("://" in value or "@" in value):
        return mask_url(value)
    return value


def mask_url(url: str) -> str:
    """A URL with its password (or whole user info when it is not ``user[:password]``) and its secret-like
    query parameters replaced by ****. Works on anything: a value that does not parse as a URL keeps only
    its scheme; text without a scheme but with user info (``user:pw@host``) loses the user info."""
    text = str(url)
    m = _SCHEME.match(text)
    if m is None:
        return _mask_authority(text) if "@" in text else text
    scheme, rest = m.group(1), m.group(2)
    try:
        if any(ch in rest for ch in "\r\n\t "):
            raise ValueError("whitespace")
        return f"{scheme}://{_mask_authority(rest)}"
    except Exception:  # whatever it is, show nothing of it
        return f"{scheme}://{MASK}"


def _mask_authority(rest: str) -> str:
    """``[user[:password]@]host[/path][?query][#fragment]`` with the secrets starred. The user info ends at the
    LAST '@' (passwords hold '@', '#', '/', '?' unencoded more often than paths hold '@')."""
    at = rest.rfind("@")
    if at >= 0:
        userinfo, rest = rest[:at], rest[at + 1:]
        user, sep, _password = userinfo.partition(":")
        userinfo = f"{user}:{MASK}" if sep and re.fullmatch(r"[A-Za-z0-9._~%+-]*", user) else (
            MASK if sep or not re.fullmatch(r"[A-Za-z0-9._~%+-]*", user) else user)
        prefix = f"{userinfo}@"
    else:
        prefix = ""
    head, q, query = rest.partition("?")
    if q:
        parts = []
        for item in re.split(r"([&;])", query):
            name, eq, _value = item.partition("=")
            parts.append(f"{name}={MASK}" if eq and is_secret_key(name.split("#")[0]) else item)
        rest = head + "?" + "".join(parts)
    return prefix + rest


def check_url(value: str) -> str:
    """ValueError (with a reason, never the value) unless ``value`` is a URL with a scheme, a host part that
    parses and a valid port; returns it unchanged."""
    from urllib.parse import urlsplit

    m = _SCHEME.match(value)
    if not m:
        raise ValueError("expected a URL (scheme://...)")
    rest = m.group(2)
    if any(ch.isspace() for ch in value):
        raise ValueError("a URL holds no spaces or line breaks")
    before = rest.split("@", 1)[0] if "@" in rest else ""
    authority = re.split(r"[/?#]", rest, maxsplit=1)[0]
    if before and "@" not in authority and ("#" in before or re.match(r"^[^/?#]*:", before)):
        raise ValueError("'#', '/', '?' or '@' in a user name or password must be URL-encoded (%23, %2F, %3F, %40)")
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a port out of range or not a number
        parts.hostname  # noqa: B018
    except ValueError as exc:
        reason = str(exc).lower()
        if "port" in reason:
            raise ValueError("the port is not a number from 0 to 65535") from None
        if "ipv6" in reason or "[" in reason or "]" in reason:
            raise ValueError("malformed host (unbalanced '[' or ']')") from None
        raise ValueError("malformed URL") from None
    return value


# ----------------------------------------------------------------------------------------------------------------
# values and files


@dataclass(frozen=True)
class ConfigValue:
    value: Any
    source: str  # "default", "env POSTGRES_HOST", "flag --parallel", "/path/geode.toml:12"


@dataclass(frozen=True)
class ConsultedFile:
    path: Path
    kind: str  # site, user, cwd-ini, cwd-toml, explicit
    exists: bool


def site_config_files() -> list[Path]:
    import platformdirs

    site = Path(platformdirs.site_config_dir(APP_NAME, appauthor=False)) / "geode.toml"
    return [Path("/etc/geode/geode.toml"), site] if os.name != "nt" else [site]


def user_config_file() -> Path:
    import platformdirs

    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)) / "geode.toml"


def user_data_dir() -> Path:
    import platformdirs

    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def _line_of(lines: list[str], section: str, key: str, toml: bool) -> int | None:
    """Line number (1-based) of `key` inside `[section]`; both parsers we use forget it."""
    current = None
    pattern = re.compile(r"^\s*" + re.escape(key) + r"\s*[=:]", re.IGNORECASE)
    for number, line in enumerate(lines, 1):
        stripped = line.strip()
        header = re.match(r"^\[([^\]]+)\]", stripped)
        if header:
            current = header.group(1).strip().strip('"').lower()
            continue
        if current == section.lower() and pattern.match(line):
            return number
    return None


def _read_file(path: Path) -> dict[str, dict[str, tuple[Any, str]]]:
    """{section: {key: (raw value, "file:line")}} from an INI or TOML file."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the configuration file ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not a text file (expected UTF-8 INI or TOML)") from None
    lines = text.splitlines()
    is_toml = path.suffix.lower() == ".toml"
    data: dict[str, dict[str, Any]]
    if is_toml:
        try:
            parsed = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: malformed TOML: {exc}") from None
        data = {}
        for section, body in parsed.items():
            if not isinstance(body, dict):
                line = _line_of(lines, "", section, True)
                raise ConfigError(f"{path}:{line or '?'}: key '{section}' must be inside a [section] table")
            data[section.lower()] = body
    else:
        parser = configparser.ConfigParser(interpolation=None, strict=False)
        parser.optionxform = str.lower  # type: ignore[assignment,method-assign]
        try:
            parser.read_string(text, source=str(path))
        except configparser.Error as exc:
            first = str(exc).splitlines()[0]
            raise ConfigError(f"{path}: malformed INI: {first}") from None
        data = {s.lower(): dict(parser.items(s)) for s in parser.sections()}
    out: dict[str, dict[str, tuple[Any, str]]] = {}
    for section, body in data.items():
        for key, raw in body.items():
            line = _line_of(lines, section, key, is_toml)
            out.setdefault(section, {})[key.lower()] = (raw, f"{path}:{line}" if line else str(path))
    return out


# ----------------------------------------------------------------------------------------------------------------
# the settings object


@dataclass
class Settings:
    values: dict[str, ConfigValue] = field(default_factory=dict)
    files: list[ConsultedFile] = field(default_factory=list)

    def get(self, key: str, default: Any = None) -> Any:
        cv = self.values.get(key)
        return default if cv is None or cv.value is None else cv.value

    def source(self, key: str) -> str:
        cv = self.values.get(key)
        return cv.source if cv else "default"

    def __contains__(self, key: str) -> bool:
        return key in self.values

    def section(self, name: str) -> dict[str, Any]:
        prefix = name + "."
        return {k[len(prefix):]: v.value for k, v in self.values.items() if k.startswith(prefix)}

    def items(self) -> list[tuple[str, ConfigValue]]:
        return sorted(self.values.items())

    def shown(self) -> dict[str, dict[str, Any]]:
        """{key: {value (masked), source}} for display."""
        out = {k: {"value": mask(k, v.value), "source": v.source} for k, v in self.items()}
        for key, cv in (("celery.broker_url", self.broker_url), ("celery.result_backend", self.result_backend),
                        ("jobs.parallel", self.parallel_value)):
            out[key] = {"value": mask(key, cv.value), "source": cv.source}
        return dict(sorted(out.items()))

    def fingerprint(self) -> str:
        """A short hash of the effective configuration (worker drift check); secrets included, never shown."""
        blob = json.dumps({k: str(v.value) for k, v in self.items()}, sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()[:12]

    # -- derived values --------------------------------------------------------------------------------------

    def path(self, key: str) -> Path | None:
        value = self.get(key)
        return Path(value) if value else None

    @property
    def archive_path(self) -> Path | None:
        return self.path("archive.path")

    @property
    def repository(self) -> Path | None:
        return self.path("archive.repository")

    def folder(self, key: str, *, create: bool = False, hint: str = "") -> Path:
        """A configured folder that must exist: ConfigError (exit 78) naming the key and where it was set when it
        is not set, or does not exist (no silent creation: a typo must not start a new, empty archive);
        ``create`` makes it instead (an explicit --create)."""
        label = f"[{key.replace('.', '] ')}"
        path = self.path(key)
        if path is None:
            raise ConfigError(f"{label} is not configured (set it in geode.toml or "
                              f"GEODE_{key.replace('.', '_').upper()})")
        if path.is_dir():
            return path
        if create:
            try:
                path.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise ConfigError(f"{label} = {path} (from {self.source(key)}): cannot create it: "
                                  f"{exc.strerror or exc}") from None
            return path
        what = "is not a folder" if path.exists() else "does not exist"
        raise ConfigError(f"{label} = {path} (from {self.source(key)}) {what}: fix the setting, or create the "
                          f"folder{hint}")

    def repository_dir(self, name: str) -> Path:
        """data_in, data_in_retry or data_rejected under the (existing) repository; created there if missing."""
        folder = self.folder("archive.repository") / name
        folder.mkdir(exist_ok=True)
        return folder

    @property
    def production_dir(self) -> Path:
        """Node-local scratch space (GeoDE's ./production)."""
        return self.path("archive.production") or (user_data_dir() / "production")

    @property
    def parallel_value(self) -> ConfigValue:
        """Whether to dispatch on Celery: [jobs] parallel, else GeoDE's [archive] parallel, else False."""
        for key in ("jobs.parallel", "archive.parallel"):
            if key in self.values:
                return self.values[key]
        return ConfigValue(False, "default")

    @property
    def parallel(self) -> bool:
        return bool(self.parallel_value.value)

    @property
    def broker_url(self) -> ConfigValue:
        env = self._environ
        for name in BROKER_ENV:
            if env.get(name):
                return ConfigValue(env[name], f"env {name}")
        if "celery.broker_url" in self.values:
            return self.values["celery.broker_url"]
        return ConfigValue(DEFAULT_BROKER_URL, "default")

    @property
    def result_backend(self) -> ConfigValue:
        if "celery.result_backend" in self.values:
            return self.values["celery.result_backend"]
        broker = self.broker_url
        return ConfigValue(broker.value, f"same as broker ({broker.source})")

    _environ: Mapping[str, str] = field(default_factory=dict, repr=False)


def _convert(key: str, raw: Any, origin: str, base_dir: Path | None) -> Any:
    kt = key_type(key)
    if kt is None:
        return raw if not isinstance(raw, str) else raw.strip()
    try:
        value = kt.convert(raw)
    except ValueError as exc:
        raise ConfigError(f"{origin}: {key} = {_shown_raw(mask(key, raw))}: {exc}") from None
    if kt.is_path and value:
        value = os.path.expandvars(os.path.expanduser(value))
        if base_dir is not None and not os.path.isabs(value):
            value = str((base_dir / value).resolve())
    return value


def _shown_raw(raw: Any) -> Any:
    return repr(raw) if not isinstance(raw, str) else f"'{raw}'"


def load_settings(
    config_file: str | os.PathLike[str] | None = None,
    overrides: Mapping[str, Any] | None = None,
    *,
    cwd: Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Read every source and return the effective settings.

    ``config_file`` is the ``--config`` flag; when None, ``$GEODE_CONFIG`` is used if set.
    ``overrides`` are command-line values: {"jobs.parallel": True, ...}, recorded as "flag".
    """
    env = dict(os.environ if environ is None else environ)
    cwd = cwd or Path.cwd()
    settings = Settings(_environ=env)

    def put(key: str, raw: Any, origin: str, base_dir: Path | None = None) -> None:
        settings.values[key] = ConfigValue(_convert(key, raw, origin, base_dir), origin)

    candidates: list[tuple[Path, str, bool]] = [(p, "site", False) for p in site_config_files()]
    candidates.append((user_config_file(), "user", False))
    candidates.append((cwd / "gnss_data.cfg", "cwd-ini", False))
    candidates.append((cwd / "geode.toml", "cwd-toml", False))
    explicit = config_file if config_file is not None else env.get("GEODE_CONFIG") or None
    if explicit is not None:
        candidates.append((Path(explicit).expanduser(), "explicit", True))

    for path, kind, required in candidates:
        exists = path.is_file()
        settings.files.append(ConsultedFile(path, kind, exists))
        if not exists:
            if required:
                raise ConfigError(f"{path}: configuration file not found (from --config or GEODE_CONFIG)")
            continue
        for section, body in _read_file(path).items():
            for key, (raw, origin) in body.items():
                put(f"{section}.{key}", raw, origin, path.parent.resolve())

    for name, key in LEGACY_ENV.items():
        if env.get(name):  # empty values are ignored, as GeoDE does
            put(key, env[name], f"env {name}")
    for name, raw in env.items():
        if not name.startswith("GEODE_") or name in RESERVED_ENV or name in LEGACY_ENV or not raw:
            continue
        section, _, key = name[len("GEODE_"):].lower().partition("_")
        if section and key:
            put(f"{section}.{key}", raw, f"env {name}")

    for key, raw in (overrides or {}).items():
        if raw is not None:
            put(key, raw, f"flag {key}")
    broker = settings.broker_url
    if broker.source.startswith("env "):
        _convert("celery.broker_url", broker.value, broker.source, None)  # a malformed URL is exit 78 here too
    return settings

