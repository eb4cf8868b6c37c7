"""CloudFront, WAFv2, ACM and Route 53 rules (AWS Foundational Security Best Practices + platform invariants)."""

from __future__ import annotations

from collections.abc import Iterator

from .engine import Resource, depends_on, get, is_false, items, of_type, resource_rule, stack_rule

DISTRIBUTION = "aws:cloudfront/distribution:Distribution"
WEB_ACL = "aws:wafv2/webAcl:WebAcl"
WEB_ACL_LOGGING = "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration"
CERTIFICATE = "aws:acm/certificate:Certificate"
ZONE = "aws:route53/zone:Zone"
QUERY_LOG = "aws:route53/queryLog:QueryLog"

# TLS policies CloudFront offers that allow only TLS 1.2 or newer between viewers and the edge.
CLOUDFRONT_MODERN_TLS = ("TLSv1.2_2018", "TLSv1.2_2019", "TLSv1.2_2021", "TLSv1.2_2025", "TLSv1.3_2025")


def _behaviors(props) -> Iterator[tuple[str, dict]]:
    default = get(props, "defaultCacheBehavior")
    if default is not None:
        yield "default cache behavior", default
    for behavior in items(props, "orderedCacheBehaviors"):
        yield f"cache behavior {get(behavior, 'pathPattern', '?')}", behavior


def _custom_origins(props) -> Iterator[tuple[str, dict]]:
    for origin in items(props, "origins"):
        config = get(origin, "customOriginConfig")
        if config is not None:
            yield get(origin, "originId", "?"), config


@resource_rule(
    "cloudfront-viewer-https",
    types=[DISTRIBUTION],
    enforcement="mandatory",
    controls=["CloudFront.3"],
    description="CloudFront requires HTTPS between viewers and the edge (no allow-all viewer protocol policy).",
    reason="Credentials and API tokens travel in the requests; plain HTTP exposes them.",
)
def cloudfront_viewer_https(res: Resource):
    for where, behavior in _behaviors(res.props):
        policy = get(behavior, "viewerProtocolPolicy")
        if policy not in ("redirect-to-https", "https-only"):
            yield f"{where}: viewerProtocolPolicy is '{policy}', use 'redirect-to-https' or 'https-only'"


@resource_rule(
    "cloudfront-origin-failover",
    types=[DISTRIBUTION],
    enforcement="advisory",
    controls=["CloudFront.4"],
    description="CloudFront has an origin group with two origins (failover).",
    reason="Regional failover of the API depends on it; advisory because a single-region fleet has no second origin.",
)
def cloudfront_origin_failover(res: Resource):
    groups = items(res.props, "originGroups")
    if not any(len(items(group, "members")) >= 2 for group in groups):
        yield "no origin group with two members: configure origin failover"


@resource_rule(
    "cloudfront-logging",
    types=[DISTRIBUTION],
    enforcement="advisory",
    controls=["CloudFront.5"],
    description="CloudFront standard logging is enabled.",
    reason="Access logs are needed for incident response; advisory because logging v2 can be configured elsewhere.",
)
def cloudfront_logging(res: Resource):
    if not get(res.props, "loggingConfig.bucket"):
        yield "loggingConfig.bucket is not set: enable standard logging"


@resource_rule(
    "cloudfront-waf",
    types=[DISTRIBUTION],
    enforcement="mandatory",
    controls=["CloudFront.6"],
    description="CloudFront is associated with a WAFv2 web ACL.",
    reason="The public entry point must be behind the managed rule groups and the per-IP rate limit.",
)
def cloudfront_waf(res: Resource):
    if not get(res.props, "webAclId"):
        yield "webAclId is not set: associate a WAFv2 web ACL (scope CLOUDFRONT)"


@resource_rule(
    "cloudfront-custom-certificate",
    types=[DISTRIBUTION],
    enforcement="advisory",
    controls=["CloudFront.7", "CloudFront.8"],
    description="CloudFront uses a custom ACM certificate, served with SNI, and a TLS 1.2+ security policy.",
    reason="Users reach the API by our domain name; the default *.cloudfront.net certificate allows TLS 1.0.",
)
def cloudfront_custom_certificate(res: Resource):
    cert = get(res.props, "viewerCertificate", {})
    if get(cert, "cloudfrontDefaultCertificate") is True or not get(cert, "acmCertificateArn"):
        yield "viewerCertificate uses the default CloudFront certificate: set acmCertificateArn"
        return
    if get(cert, "sslSupportMethod") != "sni-only":
        yield f"viewerCertificate.sslSupportMethod is '{get(cert, 'sslSupportMethod')}', use 'sni-only'"
    if get(cert, "minimumProtocolVersion") not in CLOUDFRONT_MODERN_TLS:
        yield (
            f"viewerCertificate.minimumProtocolVersion is '{get(cert, 'minimumProtocolVersion')}', "
            "use TLSv1.2_2021 or newer"
        )


@resource_rule(
    "cloudfront-origin-https",
    types=[DISTRIBUTION],
    enforcement="mandatory",
    controls=["CloudFront.9", "CloudFront.10"],
    description="CloudFront talks to custom origins over HTTPS only, without SSLv3/TLSv1/TLSv1.1.",
    reason="The edge-to-origin leg crosses the internet.",
)
def cloudfront_origin_https(res: Resource):
    for origin_id, config in _custom_origins(res.props):
        policy = get(config, "originProtocolPolicy")
        if policy != "https-only":
            yield f"origin {origin_id}: originProtocolPolicy is '{policy}', use 'https-only'"
        weak = sorted({p for p in items(config, "originSslProtocols")} & {"SSLv3", "TLSv1", "TLSv1.1"})
        if weak:
            yield f"origin {origin_id}: originSslProtocols allows deprecated {', '.join(weak)}"


def _rules_of(res: Resource):
    return items(res.props, "rules")


@resource_rule(
    "waf-has-rules",
    types=[WEB_ACL],
    enforcement="mandatory",
    controls=["WAF.10"],
    description="A WAFv2 web ACL has at least one rule or rule group.",
    reason="An empty web ACL with default allow inspects nothing.",
)
def waf_has_rules(res: Resource):
    if not _rules_of(res):
        yield "web ACL has no rules"


@resource_rule(
    "waf-metrics",
    types=[WEB_ACL],
    enforcement="advisory",
    controls=["WAF.12"],
    description="Every WAFv2 rule (and the web ACL) has CloudWatch metrics enabled.",
    reason="Alarms on blocked requests and rate limits need the metrics.",
)
def waf_metrics(res: Resource):
    if is_false(get(res.props, "visibilityConfig.cloudwatchMetricsEnabled")):
        yield "web ACL visibilityConfig.cloudwatchMetricsEnabled is false"
    for rule in _rules_of(res):
        if get(rule, "visibilityConfig.cloudwatchMetricsEnabled") is not True:
            yield f"rule {get(rule, 'name', '?')}: visibilityConfig.cloudwatchMetricsEnabled is not true"


@stack_rule(
    "waf-logging",
    types=[WEB_ACL],
    enforcement="mandatory",
    controls=["WAF.11"],
    description="Every WAFv2 web ACL has a logging configuration.",
    reason="Blocked and allowed requests must be reviewable after an incident.",
)
def waf_logging(resources: list[Resource]):
    loggings = list(of_type(resources, WEB_ACL_LOGGING))
    for acl in of_type(resources, WEB_ACL):
        if not any(depends_on(log, acl) for log in loggings):
            yield acl, "no WebAclLoggingConfiguration references this web ACL"


@resource_rule(
    "acm-key-strength",
    types=[CERTIFICATE],
    enforcement="mandatory",
    controls=["ACM.2"],
    description="ACM certificates use RSA keys of at least 2048 bits (or ECDSA).",
    reason="Short RSA keys are breakable.",
)
def acm_key_strength(res: Resource):
    algorithm = get(res.props, "keyAlgorithm", "RSA_2048")
    if algorithm == "RSA_1024":
        yield "keyAlgorithm RSA_1024 is too weak: use RSA_2048 or EC_prime256v1"


@stack_rule(
    "route53-query-logging",
    types=[ZONE],
    enforcement="advisory",
    controls=["Route53.2"],
    description="Public hosted zones log DNS queries.",
    reason="Query logs help investigate DNS abuse; advisory because query logging needs a us-east-1 log group.",
)
def route53_query_logging(resources: list[Resource]):
    logs = list(of_type(resources, QUERY_LOG))
    for zone in of_type(resources, ZONE):
        if items(zone.props, "vpcs"):
            continue  # private zone
        if not any(depends_on(log, zone) for log in logs):
            yield zone, "public hosted zone has no QueryLog"


# --- origin locked to CloudFront ------------------------------------------------------------------------------------
LOAD_BALANCERS = ("aws:lb/loadBalancer:LoadBalancer", "aws:alb/loadBalancer:LoadBalancer")
LISTENERS = ("aws:lb/listener:Listener", "aws:alb/listener:Listener")
LISTENER_RULES = ("aws:lb/listenerRule:ListenerRule", "aws:alb/listenerRule:ListenerRule")
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
INGRESS_RULES = (
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
    "aws:ec2/securityGroupRule:SecurityGroupRule",
)
# The tag the platform's RegionalAlb carries when it is a CloudFront origin (secondaries have no distribution).
ORIGIN_TAG = ("edge-origin", "cloudfront")
_PUBLIC = ("0.0.0.0/0", "::/0")


def _public_sources(rule: Resource) -> list[str]:
    cidrs = [get(rule.props, "cidrIpv4"), get(rule.props, "cidrIpv6"), *items(rule.props, "cidrBlocks")]
    cidrs += items(rule.props, "ipv6CidrBlocks")
    return [c for c in cidrs if c in _PUBLIC]


@stack_rule(
    "alb-cloudfront-only",
    types=list(LOAD_BALANCERS),
    enforcement="mandatory",
    controls=[],
    description=(
        "An ALB behind CloudFront admits only CloudFront's origin-facing prefix list (no 0.0.0.0/0), and its HTTPS "
        "listener forwards only requests with the secret origin header (default action: deny)."
    ),
    reason="Otherwise clients skip CloudFront and its WAF rules and rate limits by calling the ALB directly.",
)
def alb_cloudfront_only(resources: list[Resource]):
    behind_cloudfront = any(r.type == DISTRIBUTION for r in resources)
    for lb in of_type(resources, *LOAD_BALANCERS):
        tagged = get(lb.props, f"tags.{ORIGIN_TAG[0]}") == ORIGIN_TAG[1]
        if get(lb.props, "internal") is True or not (tagged or behind_cloudfront):
            continue
        groups = [sg for sg in of_type(resources, SECURITY_GROUP) if depends_on(lb, sg)]
        ingress = [
            rule
            for rule in of_type(resources, *INGRESS_RULES)
            if any(depends_on(rule, sg) for sg in groups) and get(rule.props, "type", "ingress") == "ingress"
        ]
        inline = [rule for sg in groups for rule in items(sg.props, "ingress")]
        public = [c for rule in ingress for c in _public_sources(rule)]
        public += [
            c for rule in inline for c in [*items(rule, "cidrBlocks"), *items(rule, "ipv6CidrBlocks")] if c in _PUBLIC
        ]
        if public:
            yield (
                lb,
                f"a security group of this ALB admits {', '.join(sorted(set(public)))}: behind CloudFront it "
                "admits only the com.amazonaws.global.cloudfront.origin-facing prefix list",
            )
        if not any(get(rule.props, "prefixListId") or items(rule.props, "prefixListIds") for rule in ingress):
            yield lb, "no ingress from the CloudFront origin-facing managed prefix list"
        for listener in of_type(resources, *LISTENERS):
            if not depends_on(listener, lb) or get(listener.props, "protocol") != "HTTPS":
                continue
            if any(get(action, "type") == "forward" for action in items(listener.props, "defaultActions")):
                yield lb, "the HTTPS listener forwards by default: make the default action deny (403)"
            rules = [r for r in of_type(resources, *LISTENER_RULES) if depends_on(r, listener)]
            if not any(get(c, "httpHeader") for r in rules for c in items(r.props, "conditions")):
                yield lb, "no listener rule checks the CloudFront origin header"
