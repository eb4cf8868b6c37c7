"""The CloudWatch Logs resource policy that lets one AWS service write into one log group, and nothing else."""

from __future__ import annotations


def log_write_policy(sid: str, service: str, resource: str, account: str, source_arn: str) -> dict:
    """Allow `service` to create streams and put events in `resource` (the group's streams) for this account only:
    `aws:SourceAccount` and `aws:SourceArn` are the confused-deputy guard AWS documents for service principals."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": sid,
                "Effect": "Allow",
                "Principal": {"Service": service},
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": resource,
                "Condition": {
                    "StringEquals": {"aws:SourceAccount": account},
                    "ArnLike": {"aws:SourceArn": source_arn},
                },
            }
        ],
    }
