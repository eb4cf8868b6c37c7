"""AWS cron expressions (EventBridge / AWS Backup syntax) for the schedule fields of `platform:backup`."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator

from infra.config.errors import ConfigFix

_MONTHS = "JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC"
_DAYS = "SUN|MON|TUE|WED|THU|FRI|SAT"


def _field_re(number: str, names: str = "", extra: str = "") -> re.Pattern[str]:
    value = f"(?:{number}{'|' + names if names else ''})"
    item = rf"(?:\*|{value}(?:-{value})?)(?:/\d+)?"
    return re.compile(rf"^(?:{item}(?:,{item})*{'|' + extra if extra else ''})$")


# The six fields of an AWS cron expression (EventBridge / AWS Backup syntax).
_CRON_FIELDS = (
    ("minutes", re.compile(r"^(?:[0-5]?\d)$")),  # AWS Backup runs at most hourly: one fixed minute
    ("hours", _field_re(r"(?:[01]?\d|2[0-3])")),
    ("day-of-month", _field_re(r"(?:[1-9]|[12]\d|3[01])", extra=r"\?|L|(?:[1-9]|[12]\d|3[01])W")),
    ("month", _field_re(r"(?:[1-9]|1[0-2])", _MONTHS)),
    ("day-of-week", _field_re(r"[1-7]", _DAYS, extra=r"\?|L|[1-7]L|[1-7]#[1-5]")),
    ("year", _field_re(r"(?:19[7-9]\d|2[01]\d\d)")),
)
# What each field takes, for the fix of a field that does not parse.
_CRON_ALLOWED = {
    "minutes": "a single minute 0-59 (AWS Backup runs at most hourly)",
    "hours": "0-23, a range (1-5), a list (1,13), * or a step (0/6)",
    "day-of-month": "1-31, L, <day>W, ? or *, ranges, lists or steps",
    "month": "1-12 or JAN-DEC, *, ranges, lists or steps",
    "day-of-week": "1-7 or SUN-SAT, ?, L, <day>L, <day>#<1-5> or *, ranges or lists",
    "year": "1970-2199, *, ranges, lists or steps",
}
_CRON_FORM = "cron(minutes hours day-of-month month day-of-week year)"


def cron_fields(expression: str) -> list[str]:
    """The six fields of `cron(m h dom mon dow y)`, or ConfigFix saying what AWS accepts."""
    match = re.fullmatch(r"cron\((.*)\)", expression.strip())
    if not match:
        raise ConfigFix(
            f"'{expression}' is not an AWS cron expression",
            f"write {_CRON_FORM} in UTC, e.g. cron(0 0/6 * * ? *) for every 6 hours",
        )
    fields = match.group(1).split()
    if len(fields) != 6:
        raise ConfigFix(
            f"'{expression}' has {len(fields)} fields; AWS cron has 6",
            f"write all six fields, {_CRON_FORM}, e.g. cron(0 2 * * ? *) for 02:00 UTC daily",
        )
    for (name, pattern), value in zip(_CRON_FIELDS, fields, strict=True):
        if not pattern.match(value.upper()):
            raise ConfigFix(
                f"'{expression}': {name} field '{value}' is not valid", f"make the {name} field {_CRON_ALLOWED[name]}"
            )
    if (fields[2] == "?") == (fields[4] == "?"):
        both = "both are" if fields[2] == "?" else "neither is"
        raise ConfigFix(
            f"'{expression}': day-of-month and day-of-week: {both} '?'",
            "set exactly one of day-of-month and day-of-week (the 3rd and 5th fields) to '?', "
            "e.g. cron(0 2 * * ? *) or cron(0 5 ? * SAT *)",
        )
    return fields


def _cron(value: str) -> str:
    cron_fields(value)
    return value.strip()


# A schedule field: a valid AWS cron expression (stored without surrounding spaces).
CronExpression = Annotated[str, AfterValidator(_cron)]
