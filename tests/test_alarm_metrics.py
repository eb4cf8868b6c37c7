"""Issue 13 item 7: every alarm watches a metric AWS publishes, with a dimension set AWS publishes it with."""

from __future__ import annotations

import re

import pytest

from components.alarms import InsightsQuery, Metric
from components.metrics_catalogue import CATALOGUE, UndocumentedMetric, require_documented

ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
_SELECT = re.compile(r'^SELECT (\w+)\((\w+)\) FROM "([\w/]+)"(?: WHERE (.*))?$')


def _watched(inputs):
    """(namespace, metric, dimension names, exact) of everything one alarm reads."""
    if inputs.get("metricName"):
        yield inputs["namespace"], inputs["metricName"], set(inputs.get("dimensions") or {}), True
    for query in inputs.get("metricQueries") or []:
        if query.get("metric"):
            m = query["metric"]
            yield m["namespace"], m["metricName"], set(m.get("dimensions") or {}), True
        elif str(query.get("expression", "")).startswith("SELECT"):
            match = _SELECT.match(query["expression"])
            assert match, f"unparsed Metrics Insights query: {query['expression']}"
            where = match.group(4) or ""
            keys = {clause.split(" = ")[0] for clause in where.split(" AND ") if clause}
            yield match.group(3), match.group(2), keys, False


def test_every_alarm_of_both_plans_matches_a_documented_metric(plans, flipped_plans):
    seen = set()
    for plan in (*plans.values(), *flipped_plans.values()):
        alarms = plan.of_type(ALARM)
        assert alarms
        for alarm in alarms:
            watched = list(_watched(alarm.inputs))
            assert watched, f"{alarm.name} reads no metric"
            for namespace, metric, dims, exact in watched:
                require_documented(namespace, metric, dims, exact=exact)
                seen.add((namespace, metric))
    # the RPO alarm reads the RPO lag, the backup alarms both job counters
    assert {("AWS/RDS", "AuroraGlobalDBRPOLag"), ("AWS/RDS", "AuroraGlobalDBReplicationLag"),
            ("AWS/Backup", "NumberOfBackupJobsFailed"), ("AWS/Backup", "NumberOfCopyJobsFailed")} <= seen  # fmt: skip


def test_an_alarm_on_an_unpublished_dimension_set_cannot_be_configured():
    # what the platform had before: lag by DBClusterIdentifier alone, backup jobs with no dimension at all
    with pytest.raises(UndocumentedMetric, match="SourceRegion"):
        Metric("AWS/RDS", "AuroraGlobalDBReplicationLag", "Maximum", {"DBClusterIdentifier": "c"})
    with pytest.raises(UndocumentedMetric, match="BackupVaultName"):
        Metric("AWS/Backup", "NumberOfBackupJobsFailed", "Sum", {})
    with pytest.raises(UndocumentedMetric, match=r"not in components/metrics_catalogue\.py"):
        InsightsQuery("AWS/RDS", "AuroraGlobalDBLag", "MAX", {"DBClusterIdentifier": "c"})
    with pytest.raises(UndocumentedMetric, match="not published with dimensions"):
        InsightsQuery("AWS/RDS", "AuroraGlobalDBRPOLag", "MAX", {"DBInstanceIdentifier": "i"})
    Metric("AWS/RDS", "AuroraGlobalDBReplicationLag", "Maximum", {"DBClusterIdentifier": "c", "SourceRegion": "r"})


def test_every_catalogue_entry_names_its_source():
    assert all(entry.source and entry.dimension_sets for entry in CATALOGUE.values())
