"""KMS, IAM, SNS and CloudWatch (Logs, alarms) rules."""

from __future__ import annotations

import json

from .engine import Resource, get, is_false, items, resource_rule

KMS_KEY = "aws:kms/key:Key"
IAM_POLICY_TYPES = ("aws:iam/rolePolicy:RolePolicy", "aws:iam/policy:Policy", "aws:iam/userPolicy:UserPolicy")
SNS_TOPIC = "aws:sns/topic:Topic"
SNS_TOPIC_POLICY = "aws:sns/topicPolicy:TopicPolicy"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
METRIC_ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
COMPOSITE_ALARM = "aws:cloudwatch/compositeAlarm:CompositeAlarm"

# CloudWatch.16 default parameter: one year.
MIN_LOG_RETENTION_DAYS = 365
MIN_KMS_DELETION_WINDOW_DAYS = 30


@resource_rule(
    "kms-key-rotation",
    types=[KMS_KEY],
    enforcement="mandatory",
    controls=["KMS.4"],
    description="Symmetric customer-managed KMS keys rotate automatically.",
    reason="Limits the blast radius of a leaked key version.",
)
def kms_key_rotation(res: Resource):
    spec = get(res.props, "customerMasterKeySpec") or get(res.props, "keySpec") or "SYMMETRIC_DEFAULT"
    if spec == "SYMMETRIC_DEFAULT" and get(res.props, "enableKeyRotation") is not True:
        yield "enableKeyRotation is not true"


@resource_rule(
    "kms-deletion-window",
    types=[KMS_KEY],
    enforcement="advisory",
    controls=["KMS.3"],
    description=f"KMS keys have a {MIN_KMS_DELETION_WINDOW_DAYS}-day deletion window.",
    reason="Deleting a key destroys every backup and replica encrypted with it; the window is the undo.",
)
def kms_deletion_window(res: Resource):
    days = get(res.props, "deletionWindowInDays", 30)
    if days < MIN_KMS_DELETION_WINDOW_DAYS:
        yield f"deletionWindowInDays is {days} (use {MIN_KMS_DELETION_WINDOW_DAYS})"


def _statements(document) -> list[dict]:
    if isinstance(document, str):
        try:
            document = json.loads(document)
        except ValueError:
            return []
    if not isinstance(document, dict):
        return []
    statements = document.get("Statement", [])
    return [s for s in (statements if isinstance(statements, list) else [statements]) if isinstance(s, dict)]


def _as_list(value) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


@resource_rule(
    "iam-no-admin",
    types=IAM_POLICY_TYPES,
    enforcement="mandatory",
    controls=["IAM.1"],
    description="IAM policies do not grant '*' actions on '*' resources.",
    reason="Least privilege: every role of the platform has a scoped policy.",
)
def iam_no_admin(res: Resource):
    for statement in _statements(get(res.props, "policy")):
        if statement.get("Effect") != "Allow":
            continue
        if "*" in _as_list(statement.get("Action")) and "*" in _as_list(statement.get("Resource")):
            yield f"statement {statement.get('Sid', '?')} allows Action '*' on Resource '*'"


@resource_rule(
    "iam-no-wildcard-kms-decrypt",
    types=IAM_POLICY_TYPES,
    enforcement="advisory",
    controls=["KMS.1", "KMS.2"],
    description="IAM policies do not allow kms:Decrypt / kms:ReEncryptFrom on all keys.",
    reason="Decrypt rights should name the keys; advisory because AWS-managed service roles need some wildcards.",
)
def iam_no_wildcard_kms_decrypt(res: Resource):
    for statement in _statements(get(res.props, "policy")):
        if statement.get("Effect") != "Allow" or "*" not in _as_list(statement.get("Resource")):
            continue
        actions = {str(a).lower() for a in _as_list(statement.get("Action"))}
        if actions & {"kms:*", "kms:decrypt", "kms:reencryptfrom", "kms:decrypt*", "kms:reencrypt*"}:
            yield f"statement {statement.get('Sid', '?')} allows KMS decryption on Resource '*'"


@resource_rule(
    "sns-encrypted",
    types=[SNS_TOPIC],
    enforcement="mandatory",
    controls=["SNS.1"],
    description="SNS topics are encrypted with a KMS key.",
    reason="Alert payloads name resources and can contain error details.",
)
def sns_encrypted(res: Resource):
    if not get(res.props, "kmsMasterKeyId"):
        yield "kmsMasterKeyId is not set"


@resource_rule(
    "sns-no-public-policy",
    types=[SNS_TOPIC, SNS_TOPIC_POLICY],
    enforcement="mandatory",
    controls=["SNS.4"],
    description="SNS topic policies grant nothing to Principal '*' without a condition.",
    reason="A public topic lets anyone page the on-call or read alerts.",
)
def sns_no_public_policy(res: Resource):
    for statement in _statements(get(res.props, "policy")):
        principal = statement.get("Principal")
        public = principal == "*" or (isinstance(principal, dict) and principal.get("AWS") == "*")
        if statement.get("Effect") == "Allow" and public and not statement.get("Condition"):
            yield f"statement {statement.get('Sid', '?')} allows Principal '*' without a condition"


@resource_rule(
    "logs-retention",
    types=[LOG_GROUP],
    enforcement="advisory",
    controls=["CloudWatch.16"],
    description=f"Log groups keep logs at least {MIN_LOG_RETENTION_DAYS} days (and not forever).",
    reason="Audit evidence for a year; advisory because high-volume debug logs may keep less.",
)
def logs_retention(res: Resource):
    days = get(res.props, "retentionInDays", 0)
    if days == 0:
        yield "retentionInDays is not set (logs never expire)"
    elif days < MIN_LOG_RETENTION_DAYS:
        yield f"retentionInDays is {days} (minimum {MIN_LOG_RETENTION_DAYS})"


@resource_rule(
    "logs-kms",
    types=[LOG_GROUP],
    enforcement="mandatory",
    controls=[],
    description="Log groups are encrypted with a customer-managed KMS key.",
    reason="Platform invariant: audit, flow and WAF logs contain client IPs and identities.",
)
def logs_kms(res: Resource):
    if not get(res.props, "kmsKeyId"):
        yield "kmsKeyId is not set"


@resource_rule(
    "alarm-actions",
    types=[METRIC_ALARM, COMPOSITE_ALARM],
    enforcement="advisory",
    controls=["CloudWatch.15", "CloudWatch.17"],
    description="Alarms have actions (an SNS topic) and their actions are enabled.",
    reason="An alarm nobody receives is not monitoring; advisory for alarms used only by Route 53 or dashboards.",
)
def alarm_actions(res: Resource):
    if is_false(get(res.props, "actionsEnabled")):
        yield "actionsEnabled is false"
    if not items(res.props, "alarmActions"):
        yield "alarmActions is empty: notify an SNS topic"
