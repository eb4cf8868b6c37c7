"""Plausible provider outputs for the offline plan.

The mock runtime echoes a resource's inputs back as its state; the program, however, also reads outputs that
only AWS computes (ids, ARNs, endpoints). This module fakes those deterministically (same input, same value) so
that plans are stable and snapshot-diffable. Add a type here when a component reads a computed output of it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from infra.naming import region_code

ACCOUNT_ID = "123456789012"

# Id prefixes AWS uses, so plans read like real ones.
_ID_PREFIX = {
    "aws:ec2/vpc:Vpc": "vpc-",
    "aws:ec2/subnet:Subnet": "subnet-",
    "aws:ec2/securityGroup:SecurityGroup": "sg-",
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": "sg-",
    "aws:ec2/internetGateway:InternetGateway": "igw-",
    "aws:ec2/natGateway:NatGateway": "nat-",
    "aws:ec2/routeTable:RouteTable": "rtb-",
    "aws:ec2/eip:Eip": "eipalloc-",
    "aws:ec2/flowLog:FlowLog": "fl-",
    "aws:ec2/vpcEndpoint:VpcEndpoint": "vpce-",
    "aws:ec2/launchTemplate:LaunchTemplate": "lt-",
    "aws:cloudfront/distribution:Distribution": "E",
}
# Types whose physical id AWS makes a UUID (AWS Backup plan ids).
_UUID_ID_TYPES = ("aws:backup/plan:Plan",)


def digest(*parts: str, length: int = 12) -> str:
    """A short stable hex digest of `parts`."""
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:length]


def fake_id(typ: str, name: str, inputs: dict[str, Any], region: str) -> str:
    """A deterministic physical id for a resource (distinct per region)."""
    if typ in _ID_PREFIX:
        return _ID_PREFIX[typ] + digest(typ, name, region, length=17)
    if typ in _UUID_ID_TYPES:
        return _uuid(typ, name, region)
    for key in ("name", "identifier", "clusterIdentifier", "replicationGroupId", "globalClusterIdentifier",
                "clusterName"):  # fmt: skip
        value = inputs.get(key)
        if isinstance(value, str) and value:
            return value
    return f"{name}-{digest(typ, name, region, length=8)}"


def fake_arn(typ: str, region: str, physical: str) -> str:
    """An ARN of the right service and region for the resource."""
    service = typ.split(":")[1].split("/")[0]
    kind = typ.split(":")[2].lower()
    if service == "iam":
        return f"arn:aws:iam::{ACCOUNT_ID}:{kind}/{physical}"
    return f"arn:aws:{service}:{region}:{ACCOUNT_ID}:{kind}/{physical}"


Synth = Callable[[str, str, dict[str, Any], str], dict[str, Any]]
# typ -> f(name, physical id, inputs, region) -> computed outputs
COMPUTED: dict[str, Synth] = {
    "aws:kms/key:Key": lambda name, pid, inputs, region: {"keyId": digest("key", name, length=32)},
    "aws:ec2/eip:Eip": lambda name, pid, inputs, region: {
        "allocationId": pid,
        "publicIp": f"203.0.113.{int(digest(name, length=2), 16) % 250 + 1}",
    },
    "aws:iam/role:Role": lambda name, pid, inputs, region: {"uniqueId": "AROA" + digest(name, length=16).upper()},
    "aws:cloudwatch/logGroup:LogGroup": lambda name, pid, inputs, region: {
        "arn": f"arn:aws:logs:{region}:{ACCOUNT_ID}:log-group:{pid}"
    },
    # Compute tier (EKS, ALB, target groups).
    "aws:eks/cluster:Cluster": lambda name, pid, inputs, region: _eks_cluster(name, pid, inputs, region),
    "aws:eks/nodeGroup:NodeGroup": lambda name, pid, inputs, region: {
        "arn": f"arn:aws:eks:{region}:{ACCOUNT_ID}:nodegroup/{inputs.get('clusterName')}/{pid}/{digest(name)}",
        "status": "ACTIVE",
        "resources": [
            {
                "autoscalingGroups": [{"name": f"eks-{pid}-{digest(name, region, length=8)}"}],
                "remoteAccessSecurityGroupId": "",
            }
        ],
    },
    "aws:ec2/launchTemplate:LaunchTemplate": lambda name, pid, inputs, region: {
        "latestVersion": 1,
        "defaultVersion": 1,
    },
    "aws:lb/loadBalancer:LoadBalancer": lambda name, pid, inputs, region: {
        "arn": f"arn:aws:elasticloadbalancing:{region}:{ACCOUNT_ID}:loadbalancer/{_lb_suffix(name, pid, region)}",
        "arnSuffix": _lb_suffix(name, pid, region),
        "dnsName": f"{pid}-{int(digest(name, region, length=8), 16) % 10**9}.{region}.elb.amazonaws.com",
        "zoneId": _ALB_ZONE_IDS.get(region, "Z35SXDOTRQ7X7K"),
    },
    "aws:lb/targetGroup:TargetGroup": lambda name, pid, inputs, region: {
        "arn": f"arn:aws:elasticloadbalancing:{region}:{ACCOUNT_ID}:{_tg_suffix(name, pid, region)}",
        "arnSuffix": _tg_suffix(name, pid, region),
    },
    # DNS / traffic / edge tiers (Route 53, ACM, CloudFront, WAFv2).
    "aws:route53/zone:Zone": lambda name, pid, inputs, region: {
        "zoneId": "Z" + digest("zone", str(inputs.get("name")), length=20).upper(),
        "nameServers": [f"ns-{n}.awsdns-{n:02d}.{tld}" for n, tld in ((101, "com"), (202, "net"), (303, "org"))],
    },
    "aws:route53/record:Record": lambda name, pid, inputs, region: {
        "fqdn": str(inputs.get("name", "")).rstrip("."),
    },
    "aws:acm/certificate:Certificate": lambda name, pid, inputs, region: {
        "arn": f"arn:aws:acm:{region}:{ACCOUNT_ID}:certificate/{_uuid(name, region)}",
        "domainValidationOptions": _acm_validation(inputs),
        "status": "PENDING_VALIDATION",
    },
    "aws:cloudfront/distribution:Distribution": lambda name, pid, inputs, region: {
        "arn": f"arn:aws:cloudfront::{ACCOUNT_ID}:distribution/{pid}",
        "domainName": f"d{digest('cf-domain', name, length=13)}.cloudfront.net",
        "hostedZoneId": "Z2FDTNDATAQYW2",
        "status": "Deployed",
    },
    "aws:wafv2/webAcl:WebAcl": lambda name, pid, inputs, region: {
        "arn": _waf_arn(region, inputs, "webacl", pid, name),
        "capacity": 1000,
    },
    "aws:s3/bucket:Bucket": lambda name, pid, inputs, region: {
        "bucketDomainName": f"{inputs.get('bucket') or pid}.s3.amazonaws.com",
        "bucketRegionalDomainName": f"{inputs.get('bucket') or pid}.s3.{region}.amazonaws.com",
        "arn": f"arn:aws:s3:::{inputs.get('bucket') or pid}",
    },
    # Data tier (Aurora, ElastiCache, generated credentials).
    "aws:rds/cluster:Cluster": lambda name, pid, inputs, region: {
        "arn": f"arn:aws:rds:{region}:{ACCOUNT_ID}:cluster:{pid}",
        "endpoint": f"{pid}.cluster-{_rds_host(region)}",
        "readerEndpoint": f"{pid}.cluster-ro-{_rds_host(region)}",
        "clusterResourceId": "cluster-" + digest("rds", name, region, length=26).upper(),
        "port": 5432,
    },
    "aws:rds/clusterInstance:ClusterInstance": lambda name, pid, inputs, region: {
        "arn": f"arn:aws:rds:{region}:{ACCOUNT_ID}:db:{pid}",
        "endpoint": f"{pid}.{_rds_host(region)}",
        "writer": str(pid).endswith("-0"),
    },
    "aws:rds/globalCluster:GlobalCluster": lambda name, pid, inputs, region: {
        "arn": f"arn:aws:rds::{ACCOUNT_ID}:global-cluster:{pid}",
        "globalClusterResourceId": "cluster-" + digest("global", name, length=26).upper(),
        # The global writer endpoint: `<global cluster id>.global-<random>.global.rds.amazonaws.com` (AWS docs,
        # aurora-global-database-connecting.html).
        "endpoint": f"{pid}.global-{digest('global-endpoint', name, length=10)}.global.rds.amazonaws.com",
    },
    "aws:rds/clusterParameterGroup:ClusterParameterGroup": lambda name, pid, inputs, region: {
        "arn": f"arn:aws:rds:{region}:{ACCOUNT_ID}:cluster-pg:{pid}"
    },
    "aws:rds/subnetGroup:SubnetGroup": lambda name, pid, inputs, region: {
        "arn": f"arn:aws:rds:{region}:{ACCOUNT_ID}:subgrp:{pid}"
    },
    "aws:elasticache/replicationGroup:ReplicationGroup": lambda name, pid, inputs, region: {
        "arn": f"arn:aws:elasticache:{region}:{ACCOUNT_ID}:replicationgroup:{pid}",
        "configurationEndpointAddress": f"clustercfg.{pid}.{digest('ec', name, region, length=6)}"
        f".{region_code(region)}.cache.amazonaws.com",
        "memberClusters": [],
    },
    "aws:elasticache/globalReplicationGroup:GlobalReplicationGroup": lambda name, pid, inputs, region: {
        # AWS prefixes the suffix with a fixed id per account (here a stable fake).
        "globalReplicationGroupId": f"ldgnf-{inputs.get('globalReplicationGroupIdSuffix')}",
        "arn": f"arn:aws:elasticache::{ACCOUNT_ID}:globalreplicationgroup:ldgnf-"
        f"{inputs.get('globalReplicationGroupIdSuffix')}",
    },
    "aws:elasticache/user:User": lambda name, pid, inputs, region: {
        "arn": f"arn:aws:elasticache:{region}:{ACCOUNT_ID}:user:{inputs.get('userId') or pid}"
    },
    "aws:elasticache/userGroup:UserGroup": lambda name, pid, inputs, region: {
        "arn": f"arn:aws:elasticache:{region}:{ACCOUNT_ID}:usergroup:{inputs.get('userGroupId') or pid}"
    },
    # The SAR application's stack output (the rotation function the template creates).
    "aws:serverlessrepository/cloudFormationStack:CloudFormationStack": lambda name, pid, inputs, region: {
        "outputs": {
            "RotationLambdaARN": f"arn:aws:lambda:{region}:{ACCOUNT_ID}:function:"
            f"{(inputs.get('parameters') or {}).get('functionName', pid)}"
        }
    },
    "aws:secretsmanager/secret:Secret": lambda name, pid, inputs, region: {
        "arn": f"arn:aws:secretsmanager:{region}:{ACCOUNT_ID}:secret:{pid}-{digest('sm', name, length=6)}"
    },
    "random:index/randomPassword:RandomPassword": lambda name, pid, inputs, region: {
        "result": "offline-" + digest("password", name, length=int(inputs.get("length", 32)) - 8),
        "bcryptHash": "$2a$10$" + digest("bcrypt", name, length=53),
    },
    "aws:wafv2/ipSet:IpSet": lambda name, pid, inputs, region: {"arn": _waf_arn(region, inputs, "ipset", pid, name)},
    # Observability tier: alarm ARNs (the dashboard's alarm widget lists them).
    "aws:cloudwatch/metricAlarm:MetricAlarm": lambda name, pid, inputs, region: {
        "arn": f"arn:aws:cloudwatch:{region}:{ACCOUNT_ID}:alarm:{pid}"
    },
    # Backup tier (AWS Backup vaults and plans; the vault-events SNS topic).
    "aws:backup/vault:Vault": lambda name, pid, inputs, region: {
        "arn": f"arn:aws:backup:{region}:{ACCOUNT_ID}:backup-vault:{pid}",
        "recoveryPoints": 0,
    },
    "aws:backup/plan:Plan": lambda name, pid, inputs, region: {
        "arn": f"arn:aws:backup:{region}:{ACCOUNT_ID}:backup-plan:{pid}",
        "version": digest("backup-plan-version", name, region, length=32),
    },
    "aws:backup/restoreTestingPlan:RestoreTestingPlan": lambda name, pid, inputs, region: {
        "arn": f"arn:aws:backup:{region}:{ACCOUNT_ID}:restore-testing-plan:{pid}-{digest(name, length=6)}",
    },
    "aws:backup/reportPlan:ReportPlan": lambda name, pid, inputs, region: {
        "arn": f"arn:aws:backup:{region}:{ACCOUNT_ID}:report-plan:{pid}-{_uuid('report', name, region)}",
    },
    "aws:sns/topic:Topic": lambda name, pid, inputs, region: {"arn": f"arn:aws:sns:{region}:{ACCOUNT_ID}:{pid}"},
}


def _rds_host(region: str) -> str:
    return f"c{digest('rds-host', region, length=11)}.{region}.rds.amazonaws.com"


def _uuid(*parts: str) -> str:
    h = digest(*parts, length=32)
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _acm_validation(inputs: dict[str, Any]) -> list[dict[str, str]]:
    """ACM's DNS validation CNAMEs: the same for a name in every Region of an account (so: no region here)."""
    names = [inputs.get("domainName"), *(inputs.get("subjectAlternativeNames") or [])]
    return [
        {
            "domainName": n,
            "resourceRecordName": f"_{digest('acm', n, length=32)}.{n}.",
            "resourceRecordType": "CNAME",
            "resourceRecordValue": f"_{digest('acm-value', n, length=32)}.acm-validations.aws.",
        }
        for n in dict.fromkeys(n for n in names if n)
    ]


def _waf_arn(region: str, inputs: dict[str, Any], kind: str, pid: str, name: str) -> str:
    scope = "global" if inputs.get("scope") == "CLOUDFRONT" else "regional"
    return f"arn:aws:wafv2:{region}:{ACCOUNT_ID}:{scope}/{kind}/{pid}/{_uuid(kind, name, region)}"


# Canonical hosted zone ids of ALBs per Region (Elastic Load Balancing endpoints and quotas).
_ALB_ZONE_IDS = {
    "us-east-1": "Z35SXDOTRQ7X7K",
    "us-east-2": "Z3AADJGX6KTTL2",
    "us-west-2": "Z1H1FL5HABSF5",
    "eu-west-1": "Z32O12XQLNTSW2",
    "eu-central-1": "Z215JYRZR1TBD5",
}


def _lb_suffix(name: str, pid: str, region: str) -> str:
    return f"app/{pid}/{digest(name, region, length=16)}"


def _tg_suffix(name: str, pid: str, region: str) -> str:
    return f"targetgroup/{pid}/{digest(name, region, length=16)}"


def _eks_cluster(name: str, pid: str, inputs: dict[str, Any], region: str) -> dict[str, Any]:
    oidc = digest("oidc", name, region, length=32).upper()
    return {
        "arn": f"arn:aws:eks:{region}:{ACCOUNT_ID}:cluster/{pid}",
        "endpoint": f"https://{oidc}.gr7.{region}.eks.amazonaws.com",
        "certificateAuthority": {"data": "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCm9mZmxpbmUtcGxhbgo="},
        "identities": [{"oidcs": [{"issuer": f"https://oidc.eks.{region}.amazonaws.com/id/{oidc}"}]}],
        "platformVersion": "eks.1",
        "status": "ACTIVE",
        "clusterId": digest("cluster-id", name, region, length=32),
    }


def computed_outputs(typ: str, name: str, physical: str, inputs: dict[str, Any], region: str) -> dict[str, Any]:
    """Generic outputs (`id`, `arn`) plus the type's own computed ones."""
    out: dict[str, Any] = {"id": physical, "arn": fake_arn(typ, region, physical)}
    synth = COMPUTED.get(typ)
    if synth is not None:
        out.update(synth(name, physical, inputs, region))
    return out


# Invokes (data sources) the program may call, answered offline.
def _caller_identity(args: dict[str, Any]) -> dict[str, Any]:
    return {
        "accountId": ACCOUNT_ID,
        "arn": f"arn:aws:iam::{ACCOUNT_ID}:user/offline-plan",
        "userId": "AIDAOFFLINEPLAN",
        "id": ACCOUNT_ID,
    }


# AWS-managed prefix lists the program looks up, with their documented weights (max entries): VPC User Guide,
# "AWS-managed prefix lists", https://docs.aws.amazon.com/vpc/latest/userguide/working-with-aws-managed-prefix-lists.html
MANAGED_PREFIX_LIST_WEIGHTS = {"cloudfront.origin-facing": 55, "route53-healthchecks": 25}


def _managed_prefix_list(args: dict[str, Any]) -> dict[str, Any]:
    name = str(args.get("name", ""))
    weight = next((w for suffix, w in MANAGED_PREFIX_LIST_WEIGHTS.items() if name.endswith(suffix)), None)
    if weight is None:
        raise ValueError(f"the offline plan knows no AWS-managed prefix list named '{name}'")
    pid = "pl-" + digest("prefix-list", name, length=8)
    return {"id": pid, "name": name, "maxEntries": weight, "addressFamily": "IPv4", "ownerId": "AWS", "entries": []}


INVOKES: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "aws:ec2/getManagedPrefixList:getManagedPrefixList": _managed_prefix_list,
    "aws:index/getCallerIdentity:getCallerIdentity": _caller_identity,
    "aws:index/getPartition:getPartition": lambda args: {
        "partition": "aws",
        "dnsSuffix": "amazonaws.com",
        "id": "aws",
        "reverseDnsPrefix": "com.amazonaws",
    },
    "aws:iam/getPolicyDocument:getPolicyDocument": lambda args: {
        "json": json.dumps({"Version": "2012-10-17", "Statement": args.get("statements", [])}, sort_keys=True),
        "id": digest(json.dumps(args, sort_keys=True, default=str)),
    },
}
