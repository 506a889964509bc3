"""The systemd units of `deploy/systemd`, read as a deployment would run them: the environment
(`EnvironmentFile=`, then `Environment=`) and the command of `ExecStart=`."""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from pathlib import Path

UNITS = Path(__file__).resolve().parents[2] / "deploy" / "systemd"
INSTALLED_VENV = "/opt/terrace/.venv/bin/"  # where the units expect Terrace


@dataclass(frozen=True)
class Unit:
    environment_files: tuple[str, ...]
    environment: dict[str, str]
    command: tuple[str, ...]

    def process(self, env_file: dict[str, str], venv_bin: Path) -> tuple[list[str], dict[str, str]]:
        """The command and environment systemd would give the service, with `env_file` as the
        content of its EnvironmentFile and Terrace installed in `venv_bin`."""
        command = [part.replace(INSTALLED_VENV, f"{venv_bin}/", 1) for part in self.command]
        return command, {**env_file, **self.environment}


def read_env_file(text: str) -> dict[str, str]:
    """KEY=value lines; # comments and blank lines skipped (systemd's EnvironmentFile syntax)."""
    pairs = {}
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith(("#", ";")):
            key, _, value = line.partition("=")
            pairs[key.strip()] = value.strip().strip('"')
    return pairs


def unit(name: str) -> Unit:
    files: list[str] = []
    environment: dict[str, str] = {}
    command: tuple[str, ...] = ()
    section = ""
    for raw in (UNITS / name).read_text().splitlines():
        line = raw.strip()
        if line.startswith("["):
            section = line
            continue
        if section != "[Service]" or "=" not in line or line.startswith("#"):
            continue
        key, _, value = line.partition("=")
        if key == "EnvironmentFile":
            files.append(value.lstrip("-"))
        elif key == "Environment":
            environment |= dict(item.split("=", 1) for item in shlex.split(value))
        elif key == "ExecStart":
            command = tuple(shlex.split(value))
    return Unit(tuple(files), environment, command)
