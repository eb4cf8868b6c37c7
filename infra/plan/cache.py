"""A content-addressed cache of offline plans, so one command (and the next) plans each stack once.

The key of a plan is a SHA-256 over everything the plan is a function of:
- the stack name and every stack file of the project (`Pulumi.yaml`, `Pulumi.*.yaml`: a secondary reads its
  primary's outputs, and fleet rules read all files), by content, not by path;
- the program's code: every `.py` / `.json` / `.yaml` file of `infra/`, `components/`, `stacks/` and `__main__.py`;
- the Python version and the installed versions of the SDKs the program imports;
- the environment the program could read (`PULUMI_*`, `INFRA_*`; e.g. `PULUMI_CONFIG`).
Change any of them and the key changes; nothing is ever invalidated by time. Entries are the plan JSON
(`--json`'s shape; secrets are already `[secret]` markers in a plan, so the cache holds no secret values), written
atomically (temp file + rename), read defensively (an unreadable or mismatched entry is ignored and replaced), and
pruned to the newest `KEEP` entries.

Location: `INFRA_PLAN_CACHE=<dir>`, default `<repo>/.plan-cache/` (git-ignored); `INFRA_PLAN_CACHE=off` or
`--no-cache` disables it. Deleting the directory is always safe.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sys
import tempfile
from importlib import metadata
from pathlib import Path

from infra.plan.model import Plan

REPO_ROOT = Path(__file__).resolve().parents[2]
CODE_DIRS = ("infra", "components", "stacks")
CODE_SUFFIXES = (".py", ".json", ".yaml")
SDKS = ("pulumi", "pulumi_aws", "pulumi_kubernetes", "pulumi_random", "pydantic")
ENV_PREFIXES = ("PULUMI_", "INFRA_")
KEEP = 64
FORMAT = 1  # bump when the cached document's meaning changes


def _hash_files(digest, base: Path, files) -> None:
    for path in sorted(files):
        digest.update(str(path.relative_to(base)).encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())


def code_digest(code_root: Path = REPO_ROOT) -> str:
    """The program's code and the runtime it runs on."""
    digest = hashlib.sha256(f"format {FORMAT}\0python {sys.version}\0".encode())
    for name in SDKS:
        try:
            version = metadata.version(name.replace("_", "-"))
        except metadata.PackageNotFoundError:
            version = "absent"
        digest.update(f"{name} {version}\0".encode())
    files = [code_root / "__main__.py"] if (code_root / "__main__.py").is_file() else []
    for directory in CODE_DIRS:
        files += [
            p for p in (code_root / directory).rglob("*") if p.suffix in CODE_SUFFIXES and "__pycache__" not in p.parts
        ]
    _hash_files(digest, code_root, files)
    return digest.hexdigest()


def stack_files_digest(root: Path) -> str:
    digest = hashlib.sha256()
    _hash_files(digest, root, [p for p in root.glob("Pulumi*.yaml") if p.is_file()])
    return digest.hexdigest()


def environment_digest() -> str:
    env = sorted((k, v) for k, v in os.environ.items() if k.startswith(ENV_PREFIXES) and k != "INFRA_PLAN_CACHE")
    return hashlib.sha256(json.dumps(env).encode()).hexdigest()


def plan_key(stack: str, root: Path, code_root: Path = REPO_ROOT, code: str | None = None) -> str:
    parts = [stack, stack_files_digest(root), code or code_digest(code_root), environment_digest()]
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def default_dir() -> Path | None:
    setting = os.environ.get("INFRA_PLAN_CACHE", "")
    if setting.lower() in ("off", "0", "false", "no"):
        return None
    return Path(setting) if setting else REPO_ROOT / ".plan-cache"


class PlanCache:
    """Plans by key in one directory."""

    def __init__(self, directory: Path):
        self.dir = directory
        self._code: str | None = None

    @classmethod
    def default(cls) -> PlanCache | None:
        directory = default_dir()
        return cls(directory) if directory is not None else None

    def key(self, stack: str, root: Path) -> str:
        if self._code is None:  # the code cannot change during one command
            self._code = code_digest()
        return plan_key(stack, root, code=self._code)

    def get(self, key: str, stack: str) -> Plan | None:
        path = self.dir / f"{key}.json"
        try:
            data = json.loads(path.read_text())
            plan = Plan.from_dict(data)
        except (OSError, ValueError, KeyError, TypeError):
            return None
        if plan.stack != stack:
            return None
        with contextlib.suppress(OSError):
            os.utime(path)  # most recently used survives pruning
        return plan

    def put(self, key: str, plan: Plan) -> None:
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.dir, prefix=".tmp-", suffix=".json")
            with os.fdopen(fd, "w") as handle:
                json.dump(plan.to_dict(), handle, sort_keys=True)
            os.replace(tmp, self.dir / f"{key}.json")
            self._prune()
        except OSError:
            return  # a cache that cannot be written is no cache, not an error

    def _prune(self) -> None:
        entries = [p for p in self.dir.glob("*.json") if not p.name.startswith(".tmp-")]
        entries.sort(key=lambda p: p.stat().st_mtime, reverse=True)
        for old in entries[KEEP:]:
            with contextlib.suppress(OSError):
                old.unlink()
