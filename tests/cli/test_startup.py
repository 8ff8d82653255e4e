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
