"""Building blocks the data-store components (Aurora, Redis) share: a security group that admits one port from
one client security group, and a credential kept in Secrets Manager under a CMK.

They create children of `owner` (parent=owner, logical names `owner.cname(suffix)`), so the URNs are those of the
component that calls them.
"""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from components.base import Input, PlatformComponent


def client_only_security_group(
    owner: PlatformComponent,
    *,
    region: str,
    vpc_id: Input,
    port: int,
    client_security_group_id: Input,
    description: str,
    extra_client_security_group_ids: list[Input] | None = None,
    rule_description: str,
    name: str,
    tags: dict[str, str],
) -> aws.ec2.SecurityGroup:
    """A security group admitting TCP `port` only from `client_security_group_id` (and the extra client groups),
    with no egress rules (a data store only answers; it opens no connections)."""
    return aws.ec2.SecurityGroup(
        owner.cname("sg"),
        region=region,
        vpc_id=vpc_id,
        description=description,
        ingress=[
            aws.ec2.SecurityGroupIngressArgs(
                protocol="tcp",
                from_port=port,
                to_port=port,
                security_groups=[client_security_group_id, *(extra_client_security_group_ids or [])],
                description=rule_description,
            )
        ],
        egress=[],
        tags=owner.tagged(tags, name),
        opts=owner.child(),
    )


def kms_secret(
    owner: PlatformComponent,
    suffix: str,
    *,
    region: str,
    name: str,
    description: str,
    kms_key_arn: Input,
    value: pulumi.Output[str],
    tags: dict[str, str],
    rotation_lambda_arn: Input | None = None,
    rotation_days: int = 30,
    replica_regions: list[str] | None = None,
) -> aws.secretsmanager.Secret:
    """Store the secret `value` in Secrets Manager under `kms_key_arn` (30-day recovery window, optional replicas
    in other regions), rotated every `rotation_days` by `rotation_lambda_arn`, and return the secret.

    Pulumi writes only the initial value: once rotation has changed it, a refresh must not put the old one back,
    so the version ignores later changes of `secretString`."""
    secret = aws.secretsmanager.Secret(
        owner.cname(suffix),
        region=region,
        name=name,
        description=description,
        kms_key_id=kms_key_arn,
        recovery_window_in_days=30,
        replicas=[aws.secretsmanager.SecretReplicaArgs(region=r) for r in replica_regions] if replica_regions else None,
        tags=owner.tagged(tags, name.replace("/", "-")),
        opts=owner.child(),
    )
    version = aws.secretsmanager.SecretVersion(
        owner.cname(f"{suffix}-value"),
        region=region,
        secret_id=secret.id,
        secret_string=pulumi.Output.secret(value),
        opts=owner.child(ignore_changes=["secretString"] if rotation_lambda_arn is not None else None),
    )
    if rotation_lambda_arn is not None:
        aws.secretsmanager.SecretRotation(
            owner.cname(f"{suffix}-rotation"),
            region=region,
            secret_id=secret.id,
            rotation_lambda_arn=rotation_lambda_arn,
            rotation_rules=aws.secretsmanager.SecretRotationRotationRulesArgs(automatically_after_days=rotation_days),
            # The first rotation runs at the first window, not during the deploy that creates the secret.
            rotate_immediately=False,
            opts=owner.child(depends_on=[version]),
        )
    return secret
