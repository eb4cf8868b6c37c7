"""JSON Schemas for the custom resources the stacks declare, which kubernetes-validate cannot know.

kubernetes-validate bundles only the built-in Kubernetes API. The CRDs behind EKS Auto Mode's NodeClass and
TargetGroupBinding (`eks.amazonaws.com/v1`) are installed by AWS into every Auto Mode cluster and not published as
files; Karpenter's NodePool (`karpenter.sh/v1`) is. Rather than vendoring third-party CRD files, these schemas are
written from the documented fields (strict: unknown fields fail, like kubernetes-validate's strict mode):

- NodeClass: EKS user guide, "Create a Node Class for Amazon EKS" (Node Class Specification) and "EBS encryption
  with customer managed keys for EKS Auto Mode" (ephemeralStorage.kmsKeyID formats).
- NodePool: EKS user guide, "Create a Node Pool for EKS Auto Mode"; Karpenter v1 NodePool API (karpenter.sh/docs,
  concepts/nodepools and concepts/disruption).
- TargetGroupBinding: EKS user guide, "Configure multi-cluster target groups" (Auto Mode's API group) and the AWS
  Load Balancer Controller's TargetGroupBinding spec (kubernetes-sigs.github.io/aws-load-balancer-controller).
"""

from __future__ import annotations

from typing import Any

_NAME = {"type": "string", "pattern": r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", "maxLength": 63}
_QTY = {"type": "string", "pattern": r"^[0-9]+(\.[0-9]+)?(m|Ki|Mi|Gi|Ti|k|M|G|T)?$"}
_DURATION = {"type": "string", "pattern": r"^([0-9]+(s|m|h))+$|^Never$"}
_META = {
    "type": "object",
    "required": ["name"],
    "additionalProperties": False,
    "properties": {
        "name": _NAME,
        "namespace": _NAME,
        "labels": {"type": "object", "additionalProperties": {"type": "string"}},
        "annotations": {"type": "object", "additionalProperties": {"type": "string"}},
    },
}


def _obj(props: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    return {"type": "object", "additionalProperties": False, "properties": props, "required": required or []}


def _selector_terms(id_pattern: str) -> dict[str, Any]:
    term = {
        "type": "object",
        "additionalProperties": False,
        "minProperties": 1,
        "properties": {
            "id": {"type": "string", "pattern": id_pattern},
            "name": {"type": "string"},
            "tags": {"type": "object", "additionalProperties": {"type": "string"}},
        },
    }
    return {"type": "array", "minItems": 1, "items": term}


NODE_CLASS = _obj(
    {
        "apiVersion": {"const": "eks.amazonaws.com/v1"},
        "kind": {"const": "NodeClass"},
        "metadata": {**_META, "properties": {**_META["properties"], "name": {**_NAME, "not": {"const": "default"}}}},
        "spec": _obj(
            {
                "role": {"type": "string", "minLength": 1},
                "subnetSelectorTerms": _selector_terms(r"^subnet-[0-9a-z]+$"),
                "securityGroupSelectorTerms": _selector_terms(r"^sg-[0-9a-z]+$"),
                "podSubnetSelectorTerms": _selector_terms(r"^subnet-[0-9a-z]+$"),
                "podSecurityGroupSelectorTerms": _selector_terms(r"^sg-[0-9a-z]+$"),
                "snatPolicy": {"enum": ["Random", "Disabled"]},
                "networkPolicy": {"enum": ["DefaultAllow", "DefaultDeny"]},
                "networkPolicyEventLogs": {"enum": ["Enabled", "Disabled"]},
                "ephemeralStorage": _obj(
                    {
                        "size": {"type": "string", "pattern": r"^[0-9]+(Gi|G|Ti|T)$"},
                        "iops": {"type": "integer", "minimum": 3000, "maximum": 16000},
                        "throughput": {"type": "integer", "minimum": 125, "maximum": 1000},
                        "kmsKeyID": {"type": "string", "pattern": r"^(arn:aws[a-z-]*:kms:|alias/|[0-9a-f-]{36}$)"},
                    },
                    ["size"],
                ),
                "tags": {
                    "type": "object",
                    "additionalProperties": {"type": "string"},
                    "propertyNames": {
                        "not": {"pattern": r"^(kubernetes\.io/cluster/|karpenter\.sh/|eks\.amazonaws\.com/nodeclass)"}
                    },
                },
                "advancedNetworking": {"type": "object"},
                "certificateBundles": {"type": "array"},
            },
            ["role", "subnetSelectorTerms", "securityGroupSelectorTerms"],
        ),
    },
    ["apiVersion", "kind", "metadata", "spec"],
)

_REQUIREMENT = _obj(
    {
        "key": {"type": "string"},
        "operator": {"enum": ["In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt"]},
        "values": {"type": "array", "items": {"type": "string"}},
        "minValues": {"type": "integer", "minimum": 1},
    },
    ["key", "operator"],
)
_TAINT = _obj(
    {
        "key": {"type": "string"},
        "value": {"type": "string"},
        "effect": {"enum": ["NoSchedule", "PreferNoSchedule", "NoExecute"]},
    },
    ["key", "effect"],
)
NODE_POOL = _obj(
    {
        "apiVersion": {"const": "karpenter.sh/v1"},
        "kind": {"const": "NodePool"},
        "metadata": _META,
        "spec": _obj(
            {
                "template": _obj(
                    {
                        "metadata": _obj(
                            {
                                "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                                "annotations": {"type": "object", "additionalProperties": {"type": "string"}},
                            }
                        ),
                        "spec": _obj(
                            {
                                "nodeClassRef": _obj(
                                    {"group": {"type": "string"}, "kind": {"type": "string"}, "name": _NAME},
                                    ["group", "kind", "name"],
                                ),
                                "requirements": {"type": "array", "items": _REQUIREMENT},
                                "taints": {"type": "array", "items": _TAINT},
                                "startupTaints": {"type": "array", "items": _TAINT},
                                "expireAfter": _DURATION,
                                "terminationGracePeriod": _DURATION,
                            },
                            ["nodeClassRef", "requirements"],
                        ),
                    },
                    ["spec"],
                ),
                "disruption": _obj(
                    {
                        "consolidationPolicy": {"enum": ["WhenEmpty", "WhenEmptyOrUnderutilized"]},
                        "consolidateAfter": _DURATION,
                        "budgets": {
                            "type": "array",
                            "items": _obj(
                                {
                                    "nodes": {"type": "string", "pattern": r"^((100|[0-9]{1,2})%|[0-9]+)$"},
                                    "schedule": {"type": "string"},
                                    "duration": _DURATION,
                                    "reasons": {
                                        "type": "array",
                                        "items": {"enum": ["Underutilized", "Empty", "Drifted"]},
                                    },
                                },
                                ["nodes"],
                            ),
                        },
                    },
                    ["consolidateAfter"],
                ),
                "limits": {"type": "object", "additionalProperties": _QTY},
                "weight": {"type": "integer", "minimum": 1, "maximum": 100},
            },
            ["template"],
        ),
    },
    ["apiVersion", "kind", "metadata", "spec"],
)

TARGET_GROUP_BINDING = _obj(
    {
        "apiVersion": {"const": "eks.amazonaws.com/v1"},
        "kind": {"const": "TargetGroupBinding"},
        "metadata": {**_META, "required": ["name", "namespace"]},
        "spec": _obj(
            {
                "targetGroupARN": {
                    "type": "string",
                    "pattern": r"^arn:aws[a-z-]*:elasticloadbalancing:[a-z0-9-]+:"
                    r"[0-9]{12}:targetgroup/[A-Za-z0-9-]{1,32}/[0-9a-f]{16}$",
                },
                "targetGroupName": {"type": "string"},
                "targetType": {"enum": ["instance", "ip"]},
                "serviceRef": _obj({"name": _NAME, "port": {"type": ["integer", "string"]}}, ["name", "port"]),
                "ipAddressType": {"enum": ["ipv4", "ipv6"]},
                "vpcID": {"type": "string"},
                "multiClusterTargetGroup": {"type": "boolean"},
                "nodeSelector": {"type": "object"},
                "networking": {"type": "object"},
            },
            ["serviceRef"],
        ),
    },
    ["apiVersion", "kind", "metadata", "spec"],
)

SCHEMAS = {
    "kubernetes:eks.amazonaws.com/v1:NodeClass": NODE_CLASS,
    "kubernetes:karpenter.sh/v1:NodePool": NODE_POOL,
    "kubernetes:eks.amazonaws.com/v1:TargetGroupBinding": TARGET_GROUP_BINDING,
}
