"""The settings every platform-owned S3 bucket gets (log and report buckets of the ALB, CloudFront and AWS Backup).

One place for: public access blocked, object ownership, default encryption, versioning and a retention lifecycle.
Children are parented to `owner` and named `<owner>-<prefix>-<setting>`, so URNs are those of the calling
component. Bucket policies differ per writer (ELB, CloudFront, Backup Audit Manager) and stay with the caller.
"""

from __future__ import annotations

from typing import Any, Literal

import pulumi_aws as aws

from components.base import Input, PlatformComponent

S3 = aws.s3


def secure_bucket_settings(
    owner: PlatformComponent,
    prefix: str,
    *,
    region: str,
    bucket: Input,
    expiration_days: int,
    lifecycle_id: str,
    encryption: Literal["AES256", "aws:kms"] = "aws:kms",
    kms_key_arn: Input = None,
    object_ownership: Literal["BucketOwnerEnforced", "BucketOwnerPreferred"] = "BucketOwnerEnforced",
    infrequent_access_after_days: int | None = None,
) -> S3.BucketOwnershipControls:
    """Block public access, set object ownership (ACLs disabled unless a legacy writer needs them), default
    encryption (`aws:kms` with `kms_key_arn`, or the AWS managed key when it is None; `AES256` where the writer
    supports only SSE-S3), versioning, and expire objects after `expiration_days` (older versions after 30 days,
    incomplete uploads after 7). Returns the ownership controls (a bucket policy or ACL grant may depend on it)."""
    S3.BucketPublicAccessBlock(
        owner.cname(f"{prefix}-pab"),
        region=region,
        bucket=bucket,
        block_public_acls=True,
        block_public_policy=True,
        ignore_public_acls=True,
        restrict_public_buckets=True,
        opts=owner.child(),
    )
    ownership = S3.BucketOwnershipControls(
        owner.cname(f"{prefix}-ownership"),
        region=region,
        bucket=bucket,
        rule=S3.BucketOwnershipControlsRuleArgs(object_ownership=object_ownership),
        opts=owner.child(),
    )
    by_default = S3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
        sse_algorithm=encryption, kms_master_key_id=kms_key_arn if encryption == "aws:kms" else None
    )
    S3.BucketServerSideEncryptionConfiguration(
        owner.cname(f"{prefix}-sse"),
        region=region,
        bucket=bucket,
        rules=[
            S3.BucketServerSideEncryptionConfigurationRuleArgs(
                apply_server_side_encryption_by_default=by_default,
                bucket_key_enabled=True if encryption == "aws:kms" else None,
            )
        ],
        opts=owner.child(),
    )
    S3.BucketVersioning(
        owner.cname(f"{prefix}-versioning"),
        region=region,
        bucket=bucket,
        versioning_configuration=S3.BucketVersioningVersioningConfigurationArgs(status="Enabled"),
        opts=owner.child(),
    )
    transitions = None
    if infrequent_access_after_days is not None and expiration_days > infrequent_access_after_days:
        transitions = [
            S3.BucketLifecycleConfigurationRuleTransitionArgs(
                days=infrequent_access_after_days, storage_class="STANDARD_IA"
            )
        ]
    S3.BucketLifecycleConfiguration(
        owner.cname(f"{prefix}-lifecycle"),
        region=region,
        bucket=bucket,
        rules=[
            S3.BucketLifecycleConfigurationRuleArgs(
                id=lifecycle_id,
                status="Enabled",
                filter=S3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
                transitions=transitions,
                expiration=S3.BucketLifecycleConfigurationRuleExpirationArgs(days=expiration_days),
                noncurrent_version_expiration=S3.BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgs(
                    noncurrent_days=30
                ),
                abort_incomplete_multipart_upload=S3.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
                    days_after_initiation=7
                ),
            )
        ],
        opts=owner.child(),
    )
    return ownership


def bucket_policy(bucket_arn: str, *allow: dict[str, Any]) -> dict[str, Any]:
    """A bucket policy: the writer's `allow` statements plus a deny of every request not made over TLS."""
    deny_insecure = {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [bucket_arn, f"{bucket_arn}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }
    return {"Version": "2012-10-17", "Statement": [*allow, deny_insecure]}
