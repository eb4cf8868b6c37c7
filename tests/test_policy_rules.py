"""Every policy rule: one compliant and one violating input, asserting the violation message.

Resource rules get (type, compliant props, violating props, expected message); stack rules get two resource lists.
`test_every_rule_has_a_case` makes a new rule without cases fail.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from policy.rules import RULES, UNKNOWN, Resource, UnknownValue, evaluate, normalize
from policy.rules.engine import get

TAGS = {
    "environment": "prod",
    "region": "us-east-1",
    "role": "primary",
    "managed-by": "pulumi",
    "cost-center": "CC-1",
    "business-unit": "eng",
    "team": "sre",
    "owner": "sre@example.com",
}


def with_(base: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """A deep copy of `base` with dotted-path changes (`with_(p, **{"a.b": 1})`); value None deletes the key."""
    out = copy.deepcopy(base)
    for path, value in changes.items():
        parts = path.split(".")
        node = out
        for part in parts[:-1]:
            node = node[int(part)] if isinstance(node, list) else node.setdefault(part, {})
        if value is None:
            node.pop(parts[-1], None)
        elif isinstance(node, list):
            node[int(parts[-1])] = value
        else:
            node[parts[-1]] = value
    return out


def urn(typ: str, name: str, parents: tuple[str, ...] = ()) -> str:
    return f"urn:pulumi:test::platform::{'$'.join([*parents, typ])}::{name}"


DISTRIBUTION = {
    "defaultCacheBehavior": {"viewerProtocolPolicy": "redirect-to-https", "targetOriginId": "api"},
    "orderedCacheBehaviors": [{"pathPattern": "/static/*", "viewerProtocolPolicy": "https-only"}],
    "origins": [
        {
            "originId": "api",
            "customOriginConfig": {"originProtocolPolicy": "https-only", "originSslProtocols": ["TLSv1.2"]},
        },
        {
            "originId": "failover",
            "customOriginConfig": {"originProtocolPolicy": "https-only", "originSslProtocols": ["TLSv1.2"]},
        },
    ],
    "originGroups": [{"originId": "group", "members": [{"originId": "api"}, {"originId": "failover"}]}],
    "loggingConfig": {"bucket": "logs.s3.amazonaws.com"},
    "webAclId": "arn:aws:wafv2:us-east-1:1:global/webacl/x/1",
    "viewerCertificate": {
        "acmCertificateArn": "arn:aws:acm:us-east-1:1:certificate/1",
        "sslSupportMethod": "sni-only",
        "minimumProtocolVersion": "TLSv1.2_2021",
    },
}
WEB_ACL = {
    "defaultAction": {"allow": {}},
    "visibilityConfig": {"cloudwatchMetricsEnabled": True},
    "rules": [{"name": "common", "visibilityConfig": {"cloudwatchMetricsEnabled": True}}],
}
EKS = {
    "version": "1.33",
    "vpcConfig": {"endpointPublicAccess": False, "endpointPrivateAccess": True},
    "encryptionConfig": {"resources": ["secrets"], "provider": {"keyArn": "arn:aws:kms:us-east-1:1:key/1"}},
    "enabledClusterLogTypes": ["api", "audit"],
}
ALB = {
    "loadBalancerType": "application",
    "dropInvalidHeaderFields": True,
    "accessLogs": {"enabled": True, "bucket": "logs"},
    "enableDeletionProtection": True,
    "desyncMitigationMode": "strictest",
    "subnets": ["subnet-a", "subnet-b", "subnet-c"],
}
LAUNCH_TEMPLATE = {
    "metadataOptions": {"httpTokens": "required"},
    "blockDeviceMappings": [{"deviceName": "/dev/xvda", "ebs": {"encrypted": "true"}}],
}
AURORA = {
    "engine": "aurora-postgresql",
    "storageEncrypted": True,
    "kmsKeyId": "arn:aws:kms:us-east-1:1:key/1",
    "deletionProtection": True,
    "backupRetentionPeriod": 14,
    "enabledCloudwatchLogsExports": ["postgresql"],
    "iamDatabaseAuthenticationEnabled": True,
    "copyTagsToSnapshot": True,
    "port": 5433,
    "masterUsername": "platform_admin",
}
AURORA_INSTANCE = {"publiclyAccessible": False, "monitoringInterval": 30, "autoMinorVersionUpgrade": True}
REDIS = {
    "snapshotRetentionLimit": 7,
    "autoMinorVersionUpgrade": True,
    "automaticFailoverEnabled": True,
    "atRestEncryptionEnabled": True,
    "transitEncryptionEnabled": True,
    "authToken": "[secret]",
    "subnetGroupName": "platform-redis",
}
POD_SPEC = {
    "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
    "containers": [
        {
            "name": "api",
            "image": "123.dkr.ecr.us-east-1.amazonaws.com/api:1.2.3",
            "resources": {"requests": {"cpu": "1", "memory": "1Gi"}, "limits": {"memory": "1Gi"}},
            "securityContext": {
                "allowPrivilegeEscalation": False,
                "capabilities": {"drop": ["ALL"]},
                "readOnlyRootFilesystem": True,
            },
        }
    ],
}
DEPLOYMENT = {"kind": "Deployment", "spec": {"template": {"spec": POD_SPEC}}}
DENY_HTTP = (
    '{"Statement": [{"Effect": "Deny", "Principal": "*", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]}'
)


def c0(path: str) -> str:
    return f"spec.template.spec.containers.0.{path}"


# rule id -> (type, compliant props, violating props, expected message fragment)
RESOURCE_CASES: dict[str, tuple[str, dict, dict, str]] = {
    "data-connect-least-privilege": (
        "aws:iam/rolePolicy:RolePolicy",
        {
            "policy": json.dumps(
                {
                    "Statement": [
                        {
                            "Sid": "Db",
                            "Effect": "Allow",
                            "Action": "rds-db:connect",
                            "Resource": "arn:aws:rds-db:us-east-1:1:dbuser:cluster-ABC/claude_api",
                        },
                        {
                            "Sid": "Cache",
                            "Effect": "Allow",
                            "Action": "elasticache:Connect",
                            "Resource": [
                                "arn:aws:elasticache:us-east-1:1:replicationgroup:g",
                                "arn:aws:elasticache:us-east-1:1:user:u",
                            ],
                        },
                    ]
                }
            )
        },
        {
            "policy": json.dumps(
                {
                    "Statement": [
                        {
                            "Sid": "Db",
                            "Effect": "Allow",
                            "Action": "rds-db:connect",
                            "Resource": "arn:aws:rds-db:us-east-1:1:dbuser:cluster-ABC/*",
                        }
                    ]
                }
            )
        },
        "rds-db:connect on 'arn:aws:rds-db:us-east-1:1:dbuser:cluster-ABC/*' is not one DB user",
    ),
    "redis-default-user-disabled": (
        "aws:elasticache/user:User",
        {"userName": "default", "accessString": "off -@all"},
        {"userName": "default", "accessString": "on ~* +@all"},
        "user 'default' is not disabled",
    ),
    "rds-audit-logging": (
        "aws:rds/clusterParameterGroup:ClusterParameterGroup",
        {
            "family": "aurora-postgresql16",
            "parameters": [
                {"name": "shared_preload_libraries", "value": "pg_stat_statements,pgaudit"},
                {"name": "pgaudit.log", "value": "ddl,role"},
            ],
        },
        {"family": "aurora-postgresql16", "parameters": [{"name": "rds.force_ssl", "value": "1"}]},
        "neither pgaudit",
    ),
    "cloudfront-viewer-https": (
        "aws:cloudfront/distribution:Distribution",
        DISTRIBUTION,
        with_(DISTRIBUTION, **{"orderedCacheBehaviors.0.viewerProtocolPolicy": "allow-all"}),
        "cache behavior /static/*: viewerProtocolPolicy is 'allow-all'",
    ),
    "cloudfront-origin-failover": (
        "aws:cloudfront/distribution:Distribution",
        DISTRIBUTION,
        with_(DISTRIBUTION, originGroups=[]),
        "no origin group with two members",
    ),
    "cloudfront-logging": (
        "aws:cloudfront/distribution:Distribution",
        DISTRIBUTION,
        with_(DISTRIBUTION, loggingConfig=None),
        "loggingConfig.bucket is not set",
    ),
    "cloudfront-waf": (
        "aws:cloudfront/distribution:Distribution",
        DISTRIBUTION,
        with_(DISTRIBUTION, webAclId=None),
        "webAclId is not set",
    ),
    "cloudfront-custom-certificate": (
        "aws:cloudfront/distribution:Distribution",
        DISTRIBUTION,
        with_(DISTRIBUTION, **{"viewerCertificate.minimumProtocolVersion": "TLSv1"}),
        "minimumProtocolVersion is 'TLSv1'",
    ),
    "cloudfront-origin-https": (
        "aws:cloudfront/distribution:Distribution",
        DISTRIBUTION,
        with_(DISTRIBUTION, **{"origins.1.customOriginConfig.originSslProtocols": ["TLSv1", "TLSv1.2"]}),
        "origin failover: originSslProtocols allows deprecated TLSv1",
    ),
    "waf-has-rules": ("aws:wafv2/webAcl:WebAcl", WEB_ACL, with_(WEB_ACL, rules=[]), "web ACL has no rules"),
    "waf-metrics": (
        "aws:wafv2/webAcl:WebAcl",
        WEB_ACL,
        with_(WEB_ACL, **{"rules.0.visibilityConfig.cloudwatchMetricsEnabled": False}),
        "rule common: visibilityConfig.cloudwatchMetricsEnabled is not true",
    ),
    "acm-key-strength": (
        "aws:acm/certificate:Certificate",
        {"keyAlgorithm": "RSA_2048"},
        {"keyAlgorithm": "RSA_1024"},
        "keyAlgorithm RSA_1024 is too weak",
    ),
    "eks-private-endpoint": (
        "aws:eks/cluster:Cluster",
        EKS,
        with_(EKS, **{"vpcConfig.endpointPublicAccess": True}),
        "vpcConfig.endpointPublicAccess is not false",
    ),
    "eks-no-open-endpoint": (
        "aws:eks/cluster:Cluster",
        with_(EKS, **{"vpcConfig.endpointPublicAccess": True, "vpcConfig.publicAccessCidrs": ["203.0.113.0/24"]}),
        with_(EKS, **{"vpcConfig.endpointPublicAccess": True}),
        "the public API endpoint is open to 0.0.0.0/0",
    ),
    "eks-supported-version": (
        "aws:eks/cluster:Cluster",
        EKS,
        with_(EKS, version="1.27"),
        "Kubernetes version 1.27 is out of standard support",
    ),
    "eks-secrets-encryption": (
        "aws:eks/cluster:Cluster",
        EKS,
        with_(EKS, encryptionConfig=None),
        "encryptionConfig does not encrypt 'secrets'",
    ),
    "eks-audit-logging": (
        "aws:eks/cluster:Cluster",
        EKS,
        with_(EKS, enabledClusterLogTypes=["api"]),
        "enabledClusterLogTypes does not include 'audit'",
    ),
    "alb-drop-invalid-headers": (
        "aws:lb/loadBalancer:LoadBalancer",
        ALB,
        with_(ALB, dropInvalidHeaderFields=False),
        "dropInvalidHeaderFields is not true",
    ),
    "alb-access-logs": (
        "aws:lb/loadBalancer:LoadBalancer",
        ALB,
        with_(ALB, **{"accessLogs.enabled": False}),
        "accessLogs is not enabled",
    ),
    "alb-deletion-protection": (
        "aws:lb/loadBalancer:LoadBalancer",
        ALB,
        with_(ALB, enableDeletionProtection=None),
        "enableDeletionProtection is not true",
    ),
    "alb-desync-mitigation": (
        "aws:lb/loadBalancer:LoadBalancer",
        ALB,
        with_(ALB, desyncMitigationMode="monitor"),
        "desyncMitigationMode is 'monitor'",
    ),
    "alb-multi-az": (
        "aws:lb/loadBalancer:LoadBalancer",
        ALB,
        with_(ALB, subnets=["subnet-a"]),
        "load balancer is in 1 subnet(s)",
    ),
    "alb-listener-tls": (
        "aws:lb/listener:Listener",
        {"protocol": "HTTPS", "port": 443, "sslPolicy": "ELBSecurityPolicy-TLS13-1-2-2021-06"},
        {"protocol": "HTTPS", "port": 443, "sslPolicy": "ELBSecurityPolicy-2016-08"},
        "sslPolicy 'ELBSecurityPolicy-2016-08' is not a recommended TLS 1.2+ policy",
    ),
    "vpc-default-sg-closed": (
        "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup",
        {"vpcId": "vpc-1"},
        {"vpcId": "vpc-1", "ingress": [{"protocol": "-1", "self": True, "fromPort": 0, "toPort": 0}]},
        "default security group has ingress rules",
    ),
    "subnet-no-auto-public-ip": (
        "aws:ec2/subnet:Subnet",
        {"mapPublicIpOnLaunch": False},
        {"mapPublicIpOnLaunch": True},
        "mapPublicIpOnLaunch is true",
    ),
    "eks-node-class-hardened": (
        "kubernetes:eks.amazonaws.com/v1:NodeClass",
        {
            "spec": {
                "role": "r",
                "ephemeralStorage": {"size": "100Gi", "kmsKeyID": "arn:aws:kms:us-east-1:1:key/k"},
                "securityGroupSelectorTerms": [{"id": "sg-1"}],
                "subnetSelectorTerms": [{"id": "subnet-1"}],
            }
        },
        {
            "spec": {
                "role": "r",
                "ephemeralStorage": {"size": "100Gi", "kmsKeyID": "arn:aws:kms:us-east-1:1:key/k"},
                "securityGroupSelectorTerms": [{"tags": {"Name": "eks-cluster-sg"}}],
                "subnetSelectorTerms": [{"id": "subnet-1"}],
            }
        },
        "spec.securityGroupSelectorTerms does not select by id",
    ),
    "ec2-launch-template-hardened": (
        "aws:ec2/launchTemplate:LaunchTemplate",
        LAUNCH_TEMPLATE,
        with_(LAUNCH_TEMPLATE, **{"metadataOptions.httpTokens": "optional"}),
        "metadataOptions.httpTokens is not 'required' (IMDSv2)",
    ),
    "ec2-instance-hardened": (
        "aws:ec2/instance:Instance",
        {"metadataOptions": {"httpTokens": "required"}, "rootBlockDevice": {"encrypted": True}},
        {"metadataOptions": {"httpTokens": "required"}, "associatePublicIpAddress": True},
        "associatePublicIpAddress is true",
    ),
    "nacl-no-public-admin-ports": (
        "aws:ec2/networkAclRule:NetworkAclRule",
        {
            "egress": False,
            "ruleAction": "allow",
            "cidrBlock": "0.0.0.0/0",
            "protocol": "6",
            "fromPort": 443,
            "toPort": 443,
        },
        {
            "egress": False,
            "ruleAction": "allow",
            "cidrBlock": "0.0.0.0/0",
            "protocol": "6",
            "fromPort": 0,
            "toPort": 1024,
        },
        "network ACL entry allows 0.0.0.0/0 to ports 0-1024",
    ),
    "rds-storage-encrypted": (
        "aws:rds/cluster:Cluster",
        AURORA,
        with_(AURORA, storageEncrypted=False),
        "storageEncrypted is not true",
    ),
    "rds-cmk": ("aws:rds/cluster:Cluster", AURORA, with_(AURORA, kmsKeyId=None), "kmsKeyId is not set"),
    "rds-deletion-protection": (
        "aws:rds/cluster:Cluster",
        AURORA,
        with_(AURORA, deletionProtection=False),
        "deletionProtection is not true",
    ),
    "rds-public-access": (
        "aws:rds/clusterInstance:ClusterInstance",
        AURORA_INSTANCE,
        with_(AURORA_INSTANCE, publiclyAccessible=True),
        "publiclyAccessible is true",
    ),
    "rds-backup-retention": (
        "aws:rds/cluster:Cluster",
        AURORA,
        with_(AURORA, backupRetentionPeriod=1),
        "backupRetentionPeriod is 1 days (minimum 7)",
    ),
    "rds-enhanced-monitoring": (
        "aws:rds/clusterInstance:ClusterInstance",
        AURORA_INSTANCE,
        with_(AURORA_INSTANCE, monitoringInterval=0),
        "monitoringInterval is 0",
    ),
    "rds-log-exports": (
        "aws:rds/cluster:Cluster",
        AURORA,
        with_(AURORA, enabledCloudwatchLogsExports=[]),
        "enabledCloudwatchLogsExports does not include 'postgresql'",
    ),
    "rds-iam-auth": (
        "aws:rds/cluster:Cluster",
        AURORA,
        with_(AURORA, iamDatabaseAuthenticationEnabled=None),
        "iamDatabaseAuthenticationEnabled is not true",
    ),
    "rds-auto-minor-upgrade": (
        "aws:rds/clusterInstance:ClusterInstance",
        AURORA_INSTANCE,
        with_(AURORA_INSTANCE, autoMinorVersionUpgrade=False),
        "autoMinorVersionUpgrade is false",
    ),
    "rds-copy-tags-to-snapshot": (
        "aws:rds/cluster:Cluster",
        AURORA,
        with_(AURORA, copyTagsToSnapshot=None),
        "copyTagsToSnapshot is not true",
    ),
    "rds-non-default-port": (
        "aws:rds/cluster:Cluster",
        AURORA,
        with_(AURORA, port=5432),
        "port is the aurora-postgresql default 5432",
    ),
    "rds-custom-admin-username": (
        "aws:rds/cluster:Cluster",
        AURORA,
        with_(AURORA, masterUsername="postgres"),
        "masterUsername 'postgres' is a default administrator name",
    ),
    "rds-final-snapshot": (
        "aws:rds/cluster:Cluster",
        AURORA,
        with_(AURORA, skipFinalSnapshot=True),
        "skipFinalSnapshot is true",
    ),
    "elasticache-backups": (
        "aws:elasticache/replicationGroup:ReplicationGroup",
        REDIS,
        with_(REDIS, snapshotRetentionLimit=0),
        "snapshotRetentionLimit is 0",
    ),
    "elasticache-auto-minor-upgrade": (
        "aws:elasticache/replicationGroup:ReplicationGroup",
        REDIS,
        with_(REDIS, autoMinorVersionUpgrade=False),
        "autoMinorVersionUpgrade is false",
    ),
    "elasticache-automatic-failover": (
        "aws:elasticache/replicationGroup:ReplicationGroup",
        REDIS,
        with_(REDIS, automaticFailoverEnabled=False),
        "automaticFailoverEnabled is not true",
    ),
    "elasticache-encryption-at-rest": (
        "aws:elasticache/replicationGroup:ReplicationGroup",
        REDIS,
        with_(REDIS, atRestEncryptionEnabled=False),
        "atRestEncryptionEnabled is not true",
    ),
    "elasticache-encryption-in-transit": (
        "aws:elasticache/replicationGroup:ReplicationGroup",
        REDIS,
        with_(REDIS, transitEncryptionEnabled=None),
        "transitEncryptionEnabled is not true",
    ),
    "elasticache-auth": (
        "aws:elasticache/replicationGroup:ReplicationGroup",
        REDIS,
        with_(REDIS, authToken=None),
        "no authToken or userGroupIds",
    ),
    "elasticache-subnet-group": (
        "aws:elasticache/replicationGroup:ReplicationGroup",
        REDIS,
        with_(REDIS, subnetGroupName="default"),
        "subnetGroupName is not set (default subnet group)",
    ),
    "dynamodb-pitr": (
        "aws:dynamodb/table:Table",
        {"pointInTimeRecovery": {"enabled": True}},
        {"pointInTimeRecovery": {"enabled": False}},
        "pointInTimeRecovery.enabled is not true",
    ),
    "dynamodb-deletion-protection": (
        "aws:dynamodb/table:Table",
        {"deletionProtectionEnabled": True},
        {},
        "deletionProtectionEnabled is not true",
    ),
    "dynamodb-encryption": (
        "aws:dynamodb/table:Table",
        {"serverSideEncryption": {"enabled": True, "kmsKeyArn": "arn:k"}},
        {},
        "serverSideEncryption.enabled is not true",
    ),
    "backup-vault-encrypted": (
        "aws:backup/vault:Vault",
        {"name": "v", "kmsKeyArn": "arn:aws:kms:us-east-1:1:key/1"},
        {"name": "v"},
        "kmsKeyArn is not set",
    ),
    "backup-plan-lifecycle": (
        "aws:backup/plan:Plan",
        {"rules": [{"ruleName": "daily", "lifecycle": {"deleteAfter": 35}}]},
        {"rules": [{"ruleName": "daily"}]},
        "rule daily has no lifecycle.deleteAfter",
    ),
    "s3-public-access-block": (
        "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
        {"blockPublicAcls": True, "blockPublicPolicy": True, "ignorePublicAcls": True, "restrictPublicBuckets": True},
        {"blockPublicAcls": True, "blockPublicPolicy": False, "ignorePublicAcls": True, "restrictPublicBuckets": True},
        "blockPublicPolicy is not true",
    ),
    "s3-kms-encryption": (
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        {"rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms"}}]},
        {"rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}}]},
        "sseAlgorithm is 'AES256', not aws:kms",
    ),
    "s3-no-public-policy": (
        "aws:s3/bucketPolicy:BucketPolicy",
        {"policy": DENY_HTTP},
        {"policy": '{"Statement": [{"Sid": "Open", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject"}]}'},
        "statement Open allows Principal '*' without a condition",
    ),
    "k8s-restricted-pods": (
        "kubernetes:apps/v1:Deployment",
        DEPLOYMENT,
        with_(DEPLOYMENT, **{c0("securityContext.allowPrivilegeEscalation"): True}),
        "container api: allowPrivilegeEscalation is not false",
    ),
    "k8s-pinned-images": (
        "kubernetes:apps/v1:Deployment",
        DEPLOYMENT,
        with_(DEPLOYMENT, **{c0("image"): "nginx:latest"}),
        "container api: image 'nginx:latest' uses the 'latest' tag",
    ),
    "k8s-resources-and-readonly-root": (
        "kubernetes:apps/v1:Deployment",
        DEPLOYMENT,
        with_(DEPLOYMENT, **{c0("resources"): {}}),
        "container api: resources.requests.cpu is not set",
    ),
    "k8s-namespace-pss": (
        "kubernetes:core/v1:Namespace",
        {"metadata": {"name": "api", "labels": {"pod-security.kubernetes.io/enforce": "restricted"}}},
        {"metadata": {"name": "api", "labels": {"pod-security.kubernetes.io/enforce": "baseline"}}},
        "label pod-security.kubernetes.io/enforce is 'baseline'",
    ),
    "required-tags": (
        "aws:ec2/vpc:Vpc",
        {"cidrBlock": "10.0.0.0/16", "tags": TAGS},
        {"cidrBlock": "10.0.0.0/16", "tags": with_(TAGS, owner=None, team="")},
        "missing required tags: team, owner",
    ),
    "data-deletion-protection": (
        "aws:s3/bucket:Bucket",
        {"bucket": "logs", "forceDestroy": False},
        {"bucket": "logs", "forceDestroy": True},
        "forceDestroy is true",
    ),
    "no-public-ingress": (
        "aws:ec2/securityGroup:SecurityGroup",
        {"ingress": [{"cidrBlocks": ["10.0.0.0/16"], "protocol": "tcp", "fromPort": 443, "toPort": 443}]},
        {"ingress": [{"cidrBlocks": ["0.0.0.0/0"], "protocol": "tcp", "fromPort": 22, "toPort": 22}]},
        "ingress[0] allows 0.0.0.0/0 on tcp 22-22: only the ALB may be public, on TCP 443",
    ),
    "kms-key-rotation": (
        "aws:kms/key:Key",
        {"enableKeyRotation": True},
        {"enableKeyRotation": False},
        "enableKeyRotation is not true",
    ),
    "kms-deletion-window": (
        "aws:kms/key:Key",
        {"deletionWindowInDays": 30},
        {"deletionWindowInDays": 7},
        "deletionWindowInDays is 7 (use 30)",
    ),
    "iam-no-admin": (
        "aws:iam/rolePolicy:RolePolicy",
        {"policy": '{"Statement": [{"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": "arn:aws:s3:::b/*"}]}'},
        {"policy": '{"Statement": [{"Sid": "All", "Effect": "Allow", "Action": "*", "Resource": "*"}]}'},
        "statement All allows Action '*' on Resource '*'",
    ),
    "iam-no-wildcard-kms-decrypt": (
        "aws:iam/rolePolicy:RolePolicy",
        {"policy": '{"Statement": [{"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "arn:k"}]}'},
        {"policy": '{"Statement": [{"Sid": "Dec", "Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*"}]}'},
        "statement Dec allows KMS decryption on Resource '*'",
    ),
    "sns-encrypted": (
        "aws:sns/topic:Topic",
        {"kmsMasterKeyId": "alias/alerts"},
        {"name": "alerts"},
        "kmsMasterKeyId is not set",
    ),
    "sns-no-public-policy": (
        "aws:sns/topicPolicy:TopicPolicy",
        {"policy": '{"Statement": [{"Effect": "Allow", "Principal": {"Service": "cloudwatch.amazonaws.com"}}]}'},
        {"policy": '{"Statement": [{"Sid": "Pub", "Effect": "Allow", "Principal": {"AWS": "*"}}]}'},
        "statement Pub allows Principal '*' without a condition",
    ),
    "logs-retention": (
        "aws:cloudwatch/logGroup:LogGroup",
        {"retentionInDays": 365},
        {"retentionInDays": 30},
        "retentionInDays is 30 (minimum 365)",
    ),
    "logs-kms": (
        "aws:cloudwatch/logGroup:LogGroup",
        {"kmsKeyId": "arn:aws:kms:us-east-1:1:key/1"},
        {"retentionInDays": 365},
        "kmsKeyId is not set",
    ),
    "alarm-actions": (
        "aws:cloudwatch/metricAlarm:MetricAlarm",
        {"alarmActions": ["arn:aws:sns:us-east-1:1:critical"]},
        {"alarmActions": []},
        "alarmActions is empty",
    ),
}


def res(typ: str, name: str, props: dict, deps: tuple[str, ...] = (), parents: tuple[str, ...] = ()) -> Resource:
    return Resource(typ, props, urn(typ, name, parents), name, deps)


VPC_T, FLOW_T, EP_T = "aws:ec2/vpc:Vpc", "aws:ec2/flowLog:FlowLog", "aws:ec2/vpcEndpoint:VpcEndpoint"
BUCKET_T = "aws:s3/bucket:Bucket"
vpc = res(VPC_T, "vpc", {"cidrBlock": "10.0.0.0/16"})
bucket = res(BUCKET_T, "logs", {"bucket": "logs-1"})
acl = res("aws:wafv2/webAcl:WebAcl", "acl", WEB_ACL)
alb = res("aws:lb/loadBalancer:LoadBalancer", "alb", ALB)
vault = res("aws:backup/vault:Vault", "vault", {"name": "vault-1"})
zone = res("aws:route53/zone:Zone", "zone", {"name": "example.com"})


secret = res("aws:secretsmanager/secret:Secret", "secret", {"name": "x/aurora/master"})
master_cluster = res("aws:rds/cluster:Cluster", "db", {"masterUsername": "platform_admin"})
CM_T, K8S_SECRET_T, DEPLOY_T = (
    "kubernetes:core/v1:ConfigMap",
    "kubernetes:core/v1:Secret",
    "kubernetes:apps/v1:Deployment",
)


def pod_env(env: list | None = None, env_from: list | None = None) -> dict:
    container = {"name": "app", "image": "r/app@sha256:" + "a" * 64, "env": env or [], "envFrom": env_from or []}
    return {"spec": {"template": {"spec": {"containers": [container]}}}}


def cloudfront_origin(ingress: dict, default_action: dict, header_rule: bool) -> list[Resource]:
    """An ALB tagged as CloudFront origin with its security group, 443 ingress, HTTPS listener and rules."""
    sg = res("aws:ec2/securityGroup:SecurityGroup", "alb-sg", {"name": "alb"})
    lb = res("aws:lb/loadBalancer:LoadBalancer", "origin-alb", {**ALB, "tags": {"edge-origin": "cloudfront"}},
             deps=(sg.urn,))  # fmt: skip
    rule = res(
        "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
        "https",
        {"ipProtocol": "tcp", "fromPort": 443, "toPort": 443, **ingress},
        deps=(sg.urn,),
    )
    listener = res("aws:lb/listener:Listener", "https", {"protocol": "HTTPS", "defaultActions": [default_action]},
                   deps=(lb.urn,))  # fmt: skip
    conditions = [{"httpHeader": {"httpHeaderName": "X-Origin-Verify", "values": ["v"]}}] if header_rule else []
    lrule = res("aws:lb/listenerRule:ListenerRule", "rule", {"conditions": conditions}, deps=(listener.urn,))
    return [sg, lb, rule, listener, lrule]


DENY_403 = {"type": "fixed-response", "fixedResponse": {"statusCode": "403"}}


def endpoints(*suffixes: str) -> list[Resource]:
    return [res(EP_T, f"ep-{s}", {"serviceName": f"com.amazonaws.us-east-1.{s}"}, deps=(vpc.urn,)) for s in suffixes]


def bucket_companions(policy: str = DENY_HTTP, versioning: str = "Enabled") -> list[Resource]:
    return [
        res("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "pab", {"bucket": "logs-1"}),
        res(
            "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
            "sse",
            {"bucket": "logs-1"},
        ),
        res("aws:s3/bucketPolicy:BucketPolicy", "policy", {"bucket": "logs-1", "policy": policy}),
        res(
            "aws:s3/bucketVersioning:BucketVersioning",
            "versioning",
            {"bucket": "logs-1", "versioningConfiguration": {"status": versioning}},
        ),
        res("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", "lifecycle", {"bucket": "logs-1"}),
    ]


ALLOW_ONLY = '{"Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::1:root"}}]}'


def private_cluster_with(runner_in_subnets: bool = True, port: int = 443) -> list[Resource]:
    """A private EKS cluster, a CodeBuild runner (in the cluster's subnets or not) and the 443 door between them."""
    subnet = res("aws:ec2/subnet:Subnet", "private-a", {"cidrBlock": "10.0.0.0/19"})
    other = res("aws:ec2/subnet:Subnet", "elsewhere", {"cidrBlock": "10.99.0.0/19"})
    cp_sg = res("aws:ec2/securityGroup:SecurityGroup", "cp-sg", {})
    runner_sg = res("aws:ec2/securityGroup:SecurityGroup", "runner-sg", {})
    cluster = res(
        "aws:eks/cluster:Cluster",
        "cluster",
        {"vpcConfig": {"endpointPublicAccess": False, "endpointPrivateAccess": True}},
        deps=(subnet.urn, cp_sg.urn),
    )
    project = res(
        "aws:codebuild/project:Project",
        "runner",
        {"vpcConfig": {"vpcId": "vpc-1"}},
        deps=((subnet if runner_in_subnets else other).urn, runner_sg.urn),
    )
    door = res(
        "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
        "door",
        {"ipProtocol": "tcp", "fromPort": port, "toPort": port},
        deps=(cp_sg.urn, runner_sg.urn),
    )
    return [subnet, other, cp_sg, runner_sg, cluster, project, door]


# rule id -> (compliant resources, violating resources, expected message fragment)
STACK_CASES: dict[str, tuple[list[Resource], list[Resource], str]] = {
    "eks-api-reachable-by-deploy": (
        private_cluster_with(),
        private_cluster_with(runner_in_subnets=False),
        "the API endpoint is private but no deploy runner in the cluster's subnets is admitted on 443",
    ),
    "waf-logging": (
        [acl, res("aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration", "log", {}, deps=(acl.urn,))],
        [acl],
        "no WebAclLoggingConfiguration references this web ACL",
    ),
    "route53-query-logging": (
        [zone, res("aws:route53/queryLog:QueryLog", "ql", {}, deps=(zone.urn,))],
        [zone],
        "public hosted zone has no QueryLog",
    ),
    "alb-waf": (
        [alb, res("aws:wafv2/webAclAssociation:WebAclAssociation", "assoc", {}, deps=(alb.urn,))],
        [alb],
        "internet-facing ALB has no WebAclAssociation",
    ),
    "vpc-flow-logs": ([vpc, res(FLOW_T, "flow", {}, deps=(vpc.urn,))], [vpc], "VPC has no FlowLog"),
    # today's bypass: 443 open to the world and a listener that forwards everything
    "alb-cloudfront-only": (
        cloudfront_origin({"prefixListId": "pl-3b927c52"}, DENY_403, header_rule=True),
        cloudfront_origin({"cidrIpv4": "0.0.0.0/0"}, {"type": "forward", "targetGroupArn": "tg"}, header_rule=False),
        "admits 0.0.0.0/0",
    ),
    "vpc-private-endpoints": (
        [vpc, *endpoints("ec2", "ecr.api", "ecr.dkr")],
        [vpc, *endpoints("ec2", "ecr.api")],
        "no VPC endpoint for ecr.dkr (EC2.56)",
    ),
    "backup-vault-lock": (
        [
            vault,
            res("aws:backup/vaultLockConfiguration:VaultLockConfiguration", "lock", {"backupVaultName": "vault-1"}),
        ],
        [vault],
        "backup vault has no VaultLockConfiguration",
    ),
    "s3-bucket-baseline": (
        [bucket, *bucket_companions()],
        [bucket, *bucket_companions(policy=ALLOW_ONLY)],
        "no bucket policy denies aws:SecureTransport=false (S3.5)",
    ),
    "s3-versioning-lifecycle": (
        [bucket, *bucket_companions()],
        [bucket, *bucket_companions(versioning="Suspended")],
        "bucket versioning is not Enabled (S3.14)",
    ),
    "secrets-rotation": (
        [secret, res("aws:secretsmanager/secretRotation:SecretRotation", "rot", {}, deps=(secret.urn,))],
        [secret],
        "secret has no SecretRotation",
    ),
    # The failing example is what the platform deployed before issue 17: the master credentials as env vars.
    "workload-no-master-credentials": (
        [
            master_cluster,
            res(CM_T, "cm", {"data": {"DB_USERNAME": "claude_api", "DB_AUTH": "iam"}}),
            res(DEPLOY_T, "dep", pod_env(env=[{"name": "AWS_REGION", "value": "us-east-1"}])),
        ],
        [
            master_cluster,
            res(K8S_SECRET_T, "creds", {"stringData": {"DB_USERNAME": "platform_admin", "DB_PASSWORD": "x"}}),
            res(DEPLOY_T, "dep", pod_env(env_from=[{"secretRef": {"name": "creds"}}])),
        ],
        "is the database master username 'platform_admin'",
    ),
}


def test_every_rule_has_a_case():
    missing = set(RULES) - set(RESOURCE_CASES) - set(STACK_CASES)
    assert not missing, f"rules without compliant/violating test inputs: {sorted(missing)}"
    assert not (set(RESOURCE_CASES) | set(STACK_CASES)) - set(RULES)


@pytest.mark.parametrize("rule_id", sorted(RESOURCE_CASES))
def test_resource_rule(rule_id: str):
    typ, good, bad, expected = RESOURCE_CASES[rule_id]
    rule = RULES[rule_id]
    assert rule.applies_to(typ)
    assert rule.check_resource(Resource(typ, good, urn(typ, "good"), "good")) == []
    messages = rule.check_resource(Resource(typ, bad, urn(typ, "bad"), "bad"))
    assert any(expected in m for m in messages), messages


@pytest.mark.parametrize("rule_id", sorted(STACK_CASES))
def test_stack_rule(rule_id: str):
    good, bad, expected = STACK_CASES[rule_id]
    rule = RULES[rule_id]
    assert rule.check_stack(good) == []
    found = rule.check_stack(bad)
    assert any(expected in message for _, message in found), found


def test_every_rule_declares_enforcement_and_reason():
    for rule in RULES.values():
        assert rule.enforcement in ("mandatory", "advisory"), rule.id
        assert rule.reason and rule.description, rule.id
        assert rule.types, f"{rule.id} must name the resource types it checks"


# --- rule-specific edge cases -----------------------------------------------------------------------------------


def test_private_eks_api_needs_the_runner_door_on_443():
    rule = RULES["eks-api-reachable-by-deploy"]
    assert rule.enforcement == "mandatory"
    assert rule.check_stack(private_cluster_with(port=22)), "a door on another port does not reach the API"
    no_door = [r for r in private_cluster_with() if r.name != "door"]
    assert rule.check_stack(no_door)
    public = [
        with_props(r, {"vpcConfig": {"endpointPublicAccess": True, "publicAccessCidrs": ["203.0.113.0/24"]}})
        if r.name == "cluster"
        else r
        for r in no_door
    ]
    assert rule.check_stack(public) == [], "public endpoints are judged by infra check (runnerCidrs)"


def with_props(resource: Resource, props: dict[str, Any]) -> Resource:
    return Resource(resource.type, props, resource.urn, resource.name, resource.dependencies)


def test_alb_may_accept_public_https_only():
    rule = RULES["no-public-ingress"]
    typ = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
    https = {"cidrIpv4": "0.0.0.0/0", "ipProtocol": "tcp", "fromPort": 443, "toPort": 443}
    in_alb = Resource(typ, https, urn(typ, "alb-https", ("platform:compute:RegionalAlb",)), "alb-https")
    elsewhere = Resource(typ, https, urn(typ, "eks-https", ("platform:compute:EksCluster",)), "eks-https")
    alb_http = Resource(
        typ, with_(https, fromPort=80, toPort=80), urn(typ, "alb-http", ("platform:compute:RegionalAlb",)), "x"
    )
    assert rule.check_resource(in_alb) == []
    assert rule.check_resource(elsewhere) == [
        "ingress rule allows 0.0.0.0/0 on tcp 443-443: only the ALB may be public, on TCP 443"
    ]
    assert rule.check_resource(alb_http), "the ALB may not open port 80 to the world"
    ipv6 = Resource(typ, {"cidrIpv6": "::/0", "ipProtocol": "-1"}, urn(typ, "v6"), "v6")
    assert "::/0" in rule.check_resource(ipv6)[0]


def test_global_datastore_secondary_inherits_encryption():
    rule = RULES["elasticache-encryption-at-rest"]
    typ = "aws:elasticache/replicationGroup:ReplicationGroup"
    secondary = {"globalReplicationGroupId": "ldgnf-platform", "subnetGroupName": "x"}
    assert rule.check_resource(Resource(typ, secondary)) == []
    assert rule.check_resource(Resource(typ, {"subnetGroupName": "x"})) == ["atRestEncryptionEnabled is not true"]


def test_untaggable_types_are_not_checked_for_tags():
    rule = RULES["required-tags"]
    assert not rule.applies_to("aws:kms/alias:Alias")
    assert not rule.applies_to("aws:route53/record:Record")
    assert rule.applies_to("aws:rds/cluster:Cluster")


def test_images_without_tag_or_with_digest():
    rule = RULES["k8s-pinned-images"]
    typ = "kubernetes:apps/v1:Deployment"
    untagged = with_(DEPLOYMENT, **{c0("image"): "registry.local:5000/api"})
    digest = with_(DEPLOYMENT, **{c0("image"): "api@sha256:" + "a" * 64})
    assert rule.check_resource(Resource(typ, untagged)) == [
        "container api: image 'registry.local:5000/api' has no tag (implies latest)"
    ]
    assert rule.check_resource(Resource(typ, digest)) == []


def test_restricted_pods_covers_host_namespaces_and_seccomp():
    rule = RULES["k8s-restricted-pods"]
    typ = "kubernetes:apps/v1:Deployment"
    bad = with_(DEPLOYMENT, **{"spec.template.spec.hostNetwork": True, "spec.template.spec.securityContext": {}})
    messages = rule.check_resource(Resource(typ, bad))
    assert "hostNetwork is true" in messages
    assert "container api: runAsNonRoot is not true (pod or container)" in messages
    assert "container api: seccompProfile is not RuntimeDefault (pod or container)" in messages


# --- unknown values ---------------------------------------------------------------------------------------------


def test_unknown_values_are_not_guessed():
    props = normalize({"storageEncrypted": "[unknown]", "deletionProtection": True})
    assert props["storageEncrypted"] is UNKNOWN
    with pytest.raises(UnknownValue):
        get(props, "storageEncrypted")
    findings = evaluate([Resource("aws:rds/cluster:Cluster", props, "u", "db")], [RULES["rds-storage-encrypted"]])
    assert [(f.evaluated, f.rule.id) for f in findings] == [(False, "rds-storage-encrypted")]


def test_normalize_reads_pulumi_policy_proxies():
    from pulumi_policy.proxy import UNKNOWN_BOOLEAN_VALUE, unknown_checking_proxy

    proxied = unknown_checking_proxy({"vpcConfig": {"endpointPublicAccess": UNKNOWN_BOOLEAN_VALUE}, "x": [1, {"a": 2}]})
    plain = normalize(proxied)
    assert plain == {"vpcConfig": {"endpointPublicAccess": UNKNOWN}, "x": [1, {"a": 2}]}
    assert isinstance(plain["x"][1], dict)


def test_alb_cloudfront_only_reports_each_hole():
    bad = cloudfront_origin({"cidrIpv4": "0.0.0.0/0"}, {"type": "forward", "targetGroupArn": "tg"}, header_rule=False)
    messages = [m for _, m in RULES["alb-cloudfront-only"].check_stack(bad)]
    for words in ("admits 0.0.0.0/0", "no ingress from the CloudFront", "forwards by default", "origin header"):
        assert any(words in m for m in messages), (words, messages)
    # a stack with a CloudFront distribution covers its ALBs even without the tag
    untagged = [r if r.name != "origin-alb" else Resource(r.type, ALB, r.urn, r.name, r.dependencies) for r in bad]
    distribution = res("aws:cloudfront/distribution:Distribution", "cdn", DISTRIBUTION)
    assert RULES["alb-cloudfront-only"].check_stack(untagged) == []
    assert RULES["alb-cloudfront-only"].check_stack([*untagged, distribution])
