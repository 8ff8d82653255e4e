"""The installed console script, and lazy imports: --help must not load heavy modules."""

import json
import subprocess
import sys

HEAVY = ("numpy", "scipy", "matplotlib", "celery", "psycopg2")


def test_help_imports_nothing_heavy():
    code = ("import sys\nfrom geode_cli.main import app\nfrom typer.testing import CliRunner\n"
            "r = CliRunner().invoke(app, ['--help'])\nassert r.exit_code == 0, r.output\n"
            "import json; print(json.dumps(sorted(m for m in sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    loaded = set(json.loads(out.strip().splitlines()[-1]))
    assert not [m for m in HEAVY if m in loaded]


def test_installed_script_runs():
    result = subprocess.run(["geode", "--version"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0
    lines = dict(line.split(" ", 1) for line in result.stdout.strip().splitlines())
    assert set(lines) >= {"geode", "python", "postgresql", "celery"}
    help_ = subprocess.run(["geode", "--help"], capture_output=True, text=True, timeout=60)
    for group in ("gamit", "stack", "dra", "kml", "scan", "download", "worker", "doctor", "db", "config"):
        assert group in help_.stdout


def _help(args: list[str], named: list[str] | None) -> str:
    code = ("import sys, json\nfrom geode_cli.main import app\nfrom geode_cli.entry import only_named_groups\n"
            "from typer.testing import CliRunner\nargs = json.loads(sys.argv[1])\nnamed = json.loads(sys.argv[2])\n"
            "if named is not None:\n    app = only_named_groups(app, named)\n"
            "r = CliRunner().invoke(app, args, prog_name='geode')\nprint(json.dumps([r.exit_code, r.output]))")
    out = subprocess.run([sys.executable, "-c", code, json.dumps(args), json.dumps(named)], capture_output=True,
                         text=True, check=True).stdout
    code_, text = json.loads(out.strip().splitlines()[-1])
    assert code_ == 0, text
    return text


def test_console_script_builds_only_the_named_group_and_helps_the_same():
    # the console script leaves the groups a command line does not name hollow (name and help only)
    assert _help(["--help"], ["--help"]) == _help(["--help"], None)
    assert _help(["stack", "run", "--help"], ["stack", "run", "--help"]) == _help(["stack", "run", "--help"], None)
    assert "--max-iterations" in _help(["-v", "stack", "run", "--help"], ["-v", "stack", "run", "--help"])
    # the app itself stays whole (geode runs resume runs another command line in the same process)
    code = ("from geode_cli.main import app\nfrom geode_cli.entry import only_named_groups\n"
            "only_named_groups(app, ['--help'])\nprint(sum(len(g.typer_instance.registered_commands) for g in "
            "app.registered_groups if g.name == 'stack'))")
    assert int(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout) > 0
