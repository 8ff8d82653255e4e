"""The package installs every generated file (pyproject data-files) where shells and man look for them."""

from __future__ import annotations

import fnmatch

try:  # Python >= 3.11
    import tomllib
except ModuleNotFoundError:  # pragma: no cover - 3.10
    import tomli as tomllib  # type: ignore[no-redef]

from .conftest import ROOT

EXPECTED_DIRS = {  # install folder -> what must go there
    "share/man/man1": "man/*.1",
    "share/bash-completion/completions": "completions/geode.bash",  # bash-completion loads <cmd>.bash on demand
    "share/zsh/site-functions": "completions/_geode",
    "share/fish/vendor_completions.d": "completions/geode.fish",
}


def test_data_files_install_every_generated_file():
    data_files = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["data-files"]
    for folder, pattern in EXPECTED_DIRS.items():
        assert pattern in data_files.get(folder, []), (folder, pattern)
    generated = [p.relative_to(ROOT).as_posix() for p in (ROOT / "man").glob("*.1")]
    generated += [p.relative_to(ROOT).as_posix() for p in (ROOT / "completions").iterdir()]
    patterns = [pat for pats in data_files.values() for pat in pats]
    assert all(any(fnmatch.fnmatch(path, pat) for pat in patterns) for path in generated)


def test_geode_completion_finds_scripts_where_pip_puts_them():
    from geode_cli.completion import SCRIPTS

    for name, share in SCRIPTS.values():
        assert f"completions/{name}" in EXPECTED_DIRS[f"share/{share}"]
