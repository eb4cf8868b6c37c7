"""Config errors that name the stack file, the key path and the fix, in one paragraph each."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ConfigIssue:
    """One problem in one stack file: where (file, key) and what to do (message, fix)."""

    file: str
    key: str
    message: str
    fix: str = ""

    def render(self) -> str:
        # key "-": the problem is the file itself (missing, empty, not YAML)
        text = f"{self.file}: {self.message}" if self.key == "-" else f"{self.file}: key '{self.key}': {self.message}"
        if self.fix:
            text += ("" if text.endswith("\n") else " ") + f"Fix: {self.fix}"
        return text


class ConfigError(Exception):
    """Raised when one or more stack files are invalid. `str()` is the user-facing message."""

    def __init__(self, issues: list[ConfigIssue]):
        self.issues = list(issues)
        super().__init__("\n".join(issue.render() for issue in self.issues))


class ConfigFix(ValueError):
    """What a config model's own validator raises: `str()` says what is wrong, `fix` what to write instead (the
    allowed values or range, or which keys to change and how). The loader prints `fix` as the issue's "Fix:"; a
    plain ValueError would get only a generic hint there."""

    def __init__(self, message: str, fix: str):
        super().__init__(message)
        self.fix = fix
