#!/usr/bin/env python3
"""Write man/geode.1 and man/geode-<command>[-<subcommand>].1 from the real command tree.

    python3 scripts/generate_manpages.py            # regenerate the committed pages
    python3 scripts/generate_manpages.py --check    # exit 1 and name the stale pages (CI, drift test)

Our own generator because click-man cannot see Typer >= 0.26's vendored Click options. Output is plain
man(7) macros, ASCII only (other characters become \\[uXXXX]), no date, so it is the same on every machine.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import command_tree  # noqa: E402
from command_tree import Node, Option, build_tree, load_root  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
OUTPUT_DIR = ROOT / "man"
MANUAL = "GeoDE manual"

EXIT_MEANINGS = {  # geode.errors.ExitCode member name -> meaning (a test checks every member is here)
    "OK": "success",
    "FAILURE": "the run finished with failed units (listed at the end), or an unexpected error",
    "USAGE": "bad command line: unknown option, malformed date or station list",
    "UNAVAILABLE": "a service is unavailable: PostgreSQL, the Redis broker or the Celery workers",
    "CONFIG": "configuration missing or malformed",
    "INTERRUPTED": "interrupted (Ctrl-C, or geode runs cancel); pending work was revoked, the run can be resumed",
    "TERMINATED": "terminated (SIGTERM, as sent by timeout, systemd and SLURM); pending work was revoked",
}

CONFIG_ENV = {  # variables read by geode.config besides GEODE_<SECTION>_<KEY>
    "GEODE_DATABASE_URL": "PostgreSQL URL (postgresql://user:password@host:port/database); sets [postgres] url.",
    "CELERY_BROKER_URL": "Celery broker URL; wins over REDIS_URL, then [celery] broker_url, "
                         "then redis://localhost:6379/0.",
    "REDIS_URL": "Broker URL when CELERY_BROKER_URL is not set.",
    "CELERY_RESULT_BACKEND": "Celery result backend URL; sets [celery] result_backend.",
    "POSTGRES_HOST": "Database host, as GeoDE's scripts read it; sets [postgres] hostname.",
    "POSTGRES_PORT": "Database port; sets [postgres] port.",
    "POSTGRES_DB": "Database name; sets [postgres] database.",
    "POSTGRES_USER": "Database user; sets [postgres] username.",
    "POSTGRES_PASSWORD": "Database password; sets [postgres] password.",
    "GEODE_<SECTION>_<KEY>": "Any configuration key, e.g. GEODE_ARCHIVE_PATH for [archive] path.",
    "NO_COLOR": "Disable colours in tables and progress bars.",
}

FILES = [
    ("/etc/geode/geode.toml, /etc/xdg/geode/geode.toml", "Site configuration (lowest precedence)."),
    ("~/.config/geode/geode.toml", "User configuration ($XDG_CONFIG_HOME)."),
    ("./gnss_data.cfg", "GeoDE's INI configuration in the current directory, read as the old scripts read it."),
    ("./geode.toml", "The same settings in TOML, in the current directory."),
    ("$GEODE_CONFIG or --config FILE", "An explicit configuration file (highest precedence among files)."),
    ("~/.local/share/geode/postgres", "The embedded PostgreSQL used when no database server is configured "
                                      "($XDG_DATA_HOME); stop it with geode db stop."),
]


def esc(text: str) -> str:
    """Text safe inside a roff line: backslashes, non-ASCII characters."""
    out = []
    for ch in text.replace("\\", "\\e"):
        out.append(ch if ord(ch) < 128 else f"\\[u{ord(ch):04X}]")
    return "".join(out)


def name_esc(text: str) -> str:
    """Command and option names: hyphens are real minus signs (copy-paste safe)."""
    return esc(text).replace("-", "\\-")


def text_lines(text: str) -> list[str]:
    """Filled paragraphs separated by .PP; Click's \\b paragraphs stay line by line (.nf)."""
    lines: list[str] = []
    for index, para in enumerate(p for p in text.split("\n\n") if p.strip()):
        if index:
            lines.append(".PP")
        verbatim = para.lstrip().startswith("\x08")
        body = [ln.strip() for ln in para.replace("\x08", "").strip("\n").splitlines() if ln.strip()]
        if verbatim:
            lines.append(".nf")
        lines.extend(_safe_line(esc(ln)) for ln in body)
        if verbatim:
            lines.append(".fi")
    return lines


def _safe_line(line: str) -> str:
    # a text line starting with . or ' would be read as a request
    return "\\&" + line if line[:1] in (".", "'") else line


def option_lines(opt: Option) -> list[str]:
    names = ", ".join(f"\\fB{name_esc(n)}\\fR" for n in opt.names + opt.negations)
    head = names + (f" \\fI{esc(opt.metavar)}\\fR" if opt.takes_value else "")
    lines = [".TP", head]
    lines += text_lines(opt.help) or ["(no description)"]
    notes = []
    if opt.kind == "choice":
        notes.append("One of: " + ", ".join(esc(c) for c in opt.choices) + ".")
    if opt.required:
        notes.append("Required.")
    if opt.repeatable:
        notes.append("May be repeated.")
    if opt.default is not None:
        notes.append(f"Default: {esc(opt.default)}.")
    if opt.envvars:
        notes.append("Environment: " + ", ".join(f"\\fB{esc(e)}\\fR" for e in opt.envvars) + ".")
    if notes:
        lines += [".br"] + [_safe_line(" ".join(notes))]
    return lines


def synopsis(node: Node) -> list[str]:
    parts = ["[\\fIOPTIONS\\fR]"]
    for arg in node.arguments:
        word = f"\\fI{esc(arg.metavar)}\\fR" + ("..." if arg.variadic else "")
        parts.append(word if arg.required else f"[{word}]")
    if node.children:
        parts.append("\\fICOMMAND\\fR [\\fIARGS\\fR]...")
    return [f".SY \"{name_esc(node.name)}\"", " ".join(parts), ".YS"]


def render_page(node: Node, version: str) -> str:
    from geode.errors import ExitCode

    title = name_esc(node.page.upper())
    lines = [
        ".\\\" Generated from the geode command tree by scripts/generate_manpages.py; do not edit by hand.",
        f'.TH {title} 1 "" "geode {esc(version)}" "{MANUAL}"',
        ".SH NAME",
        f"{name_esc(node.page)} \\- {esc(node.summary or node.name)}",
        ".SH SYNOPSIS",
        *synopsis(node),
        ".SH DESCRIPTION",
        *(text_lines(node.help) or [_safe_line(esc(node.summary))]),
    ]
    if not node.path:
        lines += [".PP", "Run \\fBgeode \\fICOMMAND\\fB \\-\\-help\\fR, or read \\fBgeode\\-\\fICOMMAND\\fR(1), "
                         "for each command. Global options go before the command name."]
    if node.children:
        lines.append(".SH COMMANDS")
        for child in node.children:
            lines += [".TP", f"\\fB{name_esc(child.page)}\\fR(1)", _safe_line(esc(child.summary))]
    if node.arguments:
        lines.append(".SH ARGUMENTS")
        for arg in node.arguments:
            lines += [".TP", f"\\fI{esc(arg.metavar)}\\fR" + ("..." if arg.variadic else "")]
            lines += text_lines(arg.help) or ["(no description)"]
    lines.append(".SH OPTIONS" if node.path else ".SH GLOBAL OPTIONS")
    for opt in node.options:
        lines += option_lines(opt)
    if node.path:
        lines += [".PP", "The global options (\\fB\\-\\-config\\fR, \\fB\\-\\-parallel\\fR, \\fB\\-\\-json\\fR, "
                         "\\fB\\-\\-verbose\\fR, ...) go before the command name; see \\fBgeode\\fR(1)."]
    lines.append(".SH EXIT STATUS")
    for code in ExitCode:
        lines += [".TP", f"\\fB{int(code)}\\fR", _safe_line(esc(EXIT_MEANINGS[code.name]))]
    lines.append(".SH ENVIRONMENT")
    if node.path:
        own = sorted({e for o in node.options for e in o.envvars})
        for name in own:
            helps = [o.help for o in node.options if name in o.envvars]
            lines += [".TP", f"\\fB{esc(name)}\\fR", _safe_line(esc(" ".join(helps[0].split())))]
        if own:
            lines.append(".PP")
        lines.append("The configuration variables (database, broker, GEODE_<SECTION>_<KEY>) "
                     "are listed in \\fBgeode\\fR(1).")
    else:
        options_env = {e: o.help for o in node.options for e in o.envvars}
        for name, meaning in list(options_env.items()) + list(CONFIG_ENV.items()):
            lines += [".TP", f"\\fB{esc(name)}\\fR", _safe_line(esc(" ".join(meaning.split())))]
        lines.append(".SH FILES")
        for path, meaning in FILES:
            lines += [".TP", f"\\fI{esc(path)}\\fR", _safe_line(esc(meaning))]
    lines.append(".SH SEE ALSO")
    related = ([] if not node.path else ["geode"]) + (["-".join(("geode",) + node.path[:-1])]
                                                      if len(node.path) > 1 else []) + [c.page for c in node.children]
    lines.append(", ".join(f"\\fB{name_esc(page)}\\fR(1)" for page in related) or
                 "The README of the geode-gnss package.")
    return "\n".join(lines) + "\n"


def render_all(command=None) -> dict[str, str]:
    """{file name: page} for every command and subcommand of a Click command tree (the real one by default)."""
    from geode import __version__

    tree = build_tree(command if command is not None else load_root())
    return {f"{node.page}.1": render_page(node, __version__) for node in tree.walk()}


def stale_files(rendered: dict[str, str], directory: Path = OUTPUT_DIR) -> list[str]:
    """Pages that differ from a fresh generation, are missing, or no longer belong to any command."""
    return command_tree.stale_files(rendered, directory, orphans="*.1")


def main(argv: list[str]) -> int:
    rendered = render_all()
    return command_tree.write_or_check(argv, rendered, OUTPUT_DIR, "scripts/generate_manpages.py", orphans="*.1",
                                       removable="geode*.1", summary=f"wrote {len(rendered)} pages to man/")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
