"""Access policy of the platform's SNS topics (alert tiers, backup vault events): one shape for all of them."""

from __future__ import annotations

from typing import Any, NamedTuple

OWNER_ACTIONS = [
    "sns:GetTopicAttributes",
    "sns:SetTopicAttributes",
    "sns:AddPermission",
    "sns:RemovePermission",
    "sns:DeleteTopic",
    "sns:Subscribe",
    "sns:ListSubscriptionsByTopic",
    "sns:Publish",
]


class Publisher(NamedTuple):
    """An AWS service allowed to publish: statement id, service principal, optional `aws:SourceArn` pattern."""

    sid: str
    service: str
    source_arn: str | None = None


def topic_policy(topic_arn: str, account: str, publishers: list[Publisher]) -> dict[str, Any]:
    """The account manages the topic; each publisher service may publish only on behalf of this account (confused
    deputy guard: `aws:SourceAccount`, plus `aws:SourceArn` where the service sets it); non-TLS requests are denied."""
    statements: list[dict[str, Any]] = [
        {
            "Sid": "AccountOwnerManage",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
            "Action": OWNER_ACTIONS,
            "Resource": topic_arn,
        }
    ]
    for publisher in publishers:
        condition: dict[str, Any] = {"StringEquals": {"aws:SourceAccount": account}}
        if publisher.source_arn:
            condition["ArnLike"] = {"aws:SourceArn": publisher.source_arn}
        statements.append(
            {
                "Sid": publisher.sid,
                "Effect": "Allow",
                "Principal": {"Service": publisher.service},
                "Action": "sns:Publish",
                "Resource": topic_arn,
                "Condition": condition,
            }
        )
    statements.append(
        {
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": ["sns:Publish", "sns:Subscribe"],
            "Resource": topic_arn,
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        }
    )
    return {"Version": "2012-10-17", "Statement": statements}
