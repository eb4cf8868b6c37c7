"""Edge and traffic components under the mock runtime: WAF rules, CloudFront policies/TLS, Route 53 routing."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from components.cdn import Cdn, CdnArgs
from components.certificate import DnsValidatedCertificate, DnsValidatedCertificateArgs
from components.traffic import RegionalTraffic, RegionalTrafficArgs
from components.waf import WebAcl, WebAclArgs
from infra.plan.runner import synthesize

TAGS = {"team": "devtools-sre"}
COMMON = {"region": "us-east-1", "name_prefix": "devtools-prod-use1", "tags": TAGS}
WAF = "aws:wafv2/webAcl:WebAcl"
CF = "aws:cloudfront/distribution:Distribution"
RECORD = "aws:route53/record:Record"
HEALTH = "aws:route53/healthCheck:HealthCheck"


@pytest.fixture(scope="module")
def waf_plan():
    def program():
        WebAcl(
            "waf",
            WebAclArgs(
                **COMMON,
                rate_limit=2000,
                rate_limit_window_seconds=120,
                bot_control=True,
                count_only=["AWSManagedRulesAnonymousIpList"],
                blocked_countries=["KP", "IR"],
                allow_cidrs=["198.51.100.0/24"],
                deny_cidrs=["203.0.113.0/24"],
            ),
        )

    return synthesize("unit", {}, program=program)


@pytest.fixture(scope="module")
def cdn_plan():
    def program():
        Cdn(
            "cdn",
            CdnArgs(
                **COMMON,
                domain_name="api.example.com",
                certificate_arn="arn:aws:acm:us-east-1:123456789012:certificate/abc",
                origin_domain_name="api-origin.example.com",
                failover_origin_domain_name="api-eu-west-1.example.com",
                web_acl_arn="arn:aws:wafv2:us-east-1:123456789012:global/webacl/x/1",
                account_id="123456789012",
                log_kms_key_arn="arn:aws:kms:us-east-1:123456789012:key/k",
                static_ttl_seconds=31_536_000,
                api_ttl_seconds=300,
                geo_restriction_type="blacklist",
                geo_restriction_locations=["KP"],
                zone_id="Z123",
            ),
        )

    return synthesize("unit", {}, program=program)


def _traffic(policy: str, active: bool, **extra):
    def program():
        RegionalTraffic(
            "traffic",
            RegionalTrafficArgs(
                region="eu-west-1",
                name_prefix="devtools-prod-euw1",
                tags=TAGS,
                zone_id="Z123",
                regional_name="api-eu-west-1.example.com",
                api_origin_name="api-origin.example.com",
                alb_dns_name="alb-1.eu-west-1.elb.amazonaws.com",
                alb_zone_id="Z32O12XQLNTSW2",
                routing_policy=policy,
                is_active=active,
                **extra,
            ),
        )

    return synthesize("unit", {}, program=program)


@pytest.fixture(scope="module")
def failover_standby_plan():
    return _traffic("failover", active=False)


# ---- WAF ---------------------------------------------------------------------------------------------------------


def test_waf_rules_priorities_unique_and_visible(waf_plan):
    rules = waf_plan.one(WAF).inputs["rules"]
    priorities = [r["priority"] for r in rules]
    assert len(priorities) == len(set(priorities))
    assert len({r["name"] for r in rules}) == len(rules)
    for rule in rules:
        vis = rule["visibilityConfig"]
        assert vis["cloudwatchMetricsEnabled"] is True and vis["sampledRequestsEnabled"] is True
        assert vis["metricName"]


def test_waf_managed_groups_and_actions(waf_plan):
    acl = waf_plan.one(WAF).inputs
    assert acl["scope"] == "CLOUDFRONT" and acl["region"] == "us-east-1"
    assert acl["defaultAction"] == {"allow": {}}
    managed = {
        r["statement"]["managedRuleGroupStatement"]["name"]: r
        for r in acl["rules"]
        if "managedRuleGroupStatement" in r["statement"]
    }
    assert set(managed) == {
        "AWSManagedRulesCommonRuleSet",
        "AWSManagedRulesKnownBadInputsRuleSet",
        "AWSManagedRulesSQLiRuleSet",
        "AWSManagedRulesLinuxRuleSet",
        "AWSManagedRulesAmazonIpReputationList",
        "AWSManagedRulesAnonymousIpList",
        "AWSManagedRulesBotControlRuleSet",
    }
    for name, rule in managed.items():
        assert rule["statement"]["managedRuleGroupStatement"]["vendorName"] == "AWS"
        assert "action" not in rule  # managed groups take an override action, never an action
        expected = {"count": {}} if name == "AWSManagedRulesAnonymousIpList" else {"none": {}}
        assert rule["overrideAction"] == expected
    bot = managed["AWSManagedRulesBotControlRuleSet"]["statement"]["managedRuleGroupStatement"]
    assert bot["managedRuleGroupConfigs"][0]["awsManagedRulesBotControlRuleSet"]["inspectionLevel"] == "COMMON"


def test_waf_rate_geo_and_ip_rules(waf_plan):
    rules = {r["name"]: r for r in waf_plan.one(WAF).inputs["rules"]}
    rate = rules["rate-limit-per-ip"]
    assert rate["statement"]["rateBasedStatement"] == {
        "aggregateKeyType": "IP",
        "evaluationWindowSec": 120,
        "limit": 2000,
    }
    assert rate["action"] == {"block": {}}
    assert rules["geo-block"]["statement"]["geoMatchStatement"]["countryCodes"] == ["KP", "IR"]
    assert rules["ip-allow-list"]["action"] == {"allow": {}} and rules["ip-allow-list"]["priority"] == 0
    assert rules["ip-deny-list"]["action"] == {"block": {}}
    ip_sets = {s.inputs["name"]: s.inputs for s in waf_plan.of_type("aws:wafv2/ipSet:IpSet")}
    assert ip_sets["devtools-prod-use1-edge-waf-allow"]["addresses"] == ["198.51.100.0/24"]
    assert all(s["scope"] == "CLOUDFRONT" and s["region"] == "us-east-1" for s in ip_sets.values())
    # the allow list is evaluated before everything that blocks
    assert rules["ip-allow-list"]["priority"] < min(r["priority"] for n, r in rules.items() if n != "ip-allow-list")


def test_waf_logging_redacts_credentials(waf_plan):
    logging = waf_plan.one("aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration").inputs
    redacted = {f["singleHeader"]["name"] for f in logging["redactedFields"]}
    assert redacted == {"authorization", "cookie"}
    group = waf_plan.one("aws:cloudwatch/logGroup:LogGroup").inputs
    assert group["name"].startswith("aws-waf-logs-")
    assert logging["logDestinationConfigs"] == [f"arn:aws:logs:us-east-1:123456789012:log-group:{group['name']}"]


def test_waf_bad_args_rejected():
    with pytest.raises(ValidationError, match="us-east-1"):
        WebAclArgs(region="eu-west-1", name_prefix="p", scope="CLOUDFRONT")
    with pytest.raises(ValidationError):
        WebAclArgs(**COMMON, rate_limit=5)
    with pytest.raises(ValidationError):
        WebAclArgs(**COMMON, rate_limit_window_seconds=900)


# ---- CloudFront --------------------------------------------------------------------------------------------------


def test_cdn_tls_and_viewer_settings(cdn_plan):
    dist = cdn_plan.one(CF).inputs
    cert = dist["viewerCertificate"]
    assert cert["minimumProtocolVersion"] == "TLSv1.2_2021" and cert["sslSupportMethod"] == "sni-only"
    assert cert["acmCertificateArn"].startswith("arn:aws:acm:us-east-1:")
    assert dist["httpVersion"] == "http2and3" and dist["aliases"] == ["api.example.com"]
    assert dist["webAclId"].startswith("arn:aws:wafv2:us-east-1:")
    behaviors = [dist["defaultCacheBehavior"], *dist["orderedCacheBehaviors"]]
    assert all(b["viewerProtocolPolicy"] == "redirect-to-https" for b in behaviors)
    for origin in dist["origins"]:
        custom = origin["customOriginConfig"]
        assert custom["originProtocolPolicy"] == "https-only" and custom["originSslProtocols"] == ["TLSv1.2"]
    assert dist["restrictions"]["geoRestriction"] == {"locations": ["KP"], "restrictionType": "blacklist"}


def test_cdn_origin_group_fails_over_for_read_methods_only(cdn_plan):
    dist = cdn_plan.one(CF).inputs
    group = dist["originGroups"][0]
    domains = {o["originId"]: o["domainName"] for o in dist["origins"]}
    assert [domains[m["originId"]] for m in group["members"]] == [
        "api-origin.example.com",
        "api-eu-west-1.example.com",
    ]
    assert group["failoverCriteria"]["statusCodes"] == [500, 502, 503, 504]
    for behavior in dist["orderedCacheBehaviors"]:
        assert behavior["targetOriginId"] == group["originId"]
        assert set(behavior["allowedMethods"]) <= {"GET", "HEAD", "OPTIONS"}
    # writes go to the Route 53-routed origin directly (origin groups cannot take POST)
    assert dist["defaultCacheBehavior"]["targetOriginId"] == "api-origin"
    assert "POST" in dist["defaultCacheBehavior"]["allowedMethods"]


def test_cdn_cache_ttls_match_the_seed(cdn_plan):
    policies = {p.name: p.inputs for p in cdn_plan.of_type("aws:cloudfront/cachePolicy:CachePolicy")}
    static, api, user = (
        policies["cdn-cache-static-assets"],
        policies["cdn-cache-api-responses"],
        policies["cdn-cache-user-specific"],
    )
    assert (static["defaultTtl"], static["maxTtl"]) == (31_536_000, 31_536_000)
    assert (api["defaultTtl"], api["maxTtl"]) == (300, 300)
    assert (user["defaultTtl"], user["maxTtl"], user["minTtl"]) == (0, 0, 0)
    # a cached API response is keyed by the caller's credentials: never served to another user
    assert "Authorization" in api["parametersInCacheKeyAndForwardedToOrigin"]["headersConfig"]["headers"]["items"]
    dist = cdn_plan.one(CF).inputs
    by_pattern = {b["pathPattern"]: b["cachePolicyId"] for b in dist["orderedCacheBehaviors"]}
    assert by_pattern["/static/*"] == static["name"] and by_pattern["/api/public/*"] == api["name"]
    assert dist["defaultCacheBehavior"]["cachePolicyId"] == user["name"]


def test_cdn_security_headers(cdn_plan):
    sec = cdn_plan.one("aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy").inputs["securityHeadersConfig"]
    assert sec["strictTransportSecurity"]["accessControlMaxAgeSec"] >= 31_536_000
    assert sec["strictTransportSecurity"]["includeSubdomains"] is True
    assert sec["contentTypeOptions"]["override"] is True
    assert sec["frameOptions"]["frameOption"] == "DENY"
    assert sec["referrerPolicy"]["referrerPolicy"] == "strict-origin-when-cross-origin"
    origin_all = cdn_plan.one("aws:cloudfront/originRequestPolicy:OriginRequestPolicy", "cdn-origin-all-viewer")
    assert origin_all.inputs["headersConfig"] == {"headerBehavior": "allExcept", "headers": {"items": ["Host"]}}


def test_cdn_logging_to_encrypted_bucket_with_lifecycle(cdn_plan):
    dist = cdn_plan.one(CF).inputs
    bucket = cdn_plan.one("aws:s3/bucket:Bucket").inputs["bucket"]
    assert dist["loggingConfig"]["bucket"] == f"{bucket}.s3.amazonaws.com"
    assert dist["loggingConfig"]["includeCookies"] is False
    sse = cdn_plan.one("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration")
    rule = sse.inputs["rules"][0]
    assert rule["applyServerSideEncryptionByDefault"]["sseAlgorithm"] == "aws:kms" and rule["bucketKeyEnabled"]
    lifecycle = cdn_plan.one("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration").inputs["rules"][0]
    assert lifecycle["expiration"]["days"] == 365
    pab = cdn_plan.one("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock").inputs
    assert all(pab[k] for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"))
    aliases = {r.inputs["type"]: r.inputs for r in cdn_plan.of_type(RECORD)}
    assert set(aliases) == {"A", "AAAA"}
    assert aliases["A"]["aliases"][0]["zoneId"] == "Z2FDTNDATAQYW2"


def test_cdn_bad_args_rejected():
    base = {
        **COMMON,
        "domain_name": "api.example.com",
        "certificate_arn": "arn",
        "origin_domain_name": "a.example.com",
        "failover_origin_domain_name": "b.example.com",
        "web_acl_arn": "arn",
        "account_id": "1",
        "log_kms_key_arn": "k",
    }
    with pytest.raises(ValidationError, match="us-east-1"):
        CdnArgs(**{**base, "certificate_region": "eu-west-1"})
    with pytest.raises(ValidationError, match="failover origin"):
        CdnArgs(**{**base, "failover_origin_domain_name": "a.example.com"})
    with pytest.raises(ValidationError, match="TLS"):
        CdnArgs(**{**base, "minimum_protocol_version": "TLSv1_2016"})


# ---- Route 53 ----------------------------------------------------------------------------------------------------


def test_health_check_on_the_alb(failover_standby_plan):
    hc = failover_standby_plan.one(HEALTH).inputs
    assert hc["type"] == "HTTPS" and hc["fqdn"] == "alb-1.eu-west-1.elb.amazonaws.com" and hc["port"] == 443
    assert (hc["requestInterval"], hc["failureThreshold"], hc["resourcePath"]) == (10, 3, "/healthz")
    assert len(hc["regions"]) >= 3
    # the alarm on it is the observability tier's (tests/test_observability_stacks.py): no second, silent one here
    assert failover_standby_plan.of_type("aws:cloudwatch/metricAlarm:MetricAlarm") == []


def test_failover_standby_has_weight_zero_and_a_health_check(failover_standby_plan):
    """Failover for any number of Regions: weighted records, the standby's weight 0 (answered only when every
    non-zero record is unhealthy), never Route 53 failover records (one PRIMARY + one SECONDARY per name)."""
    origin = failover_standby_plan.one(RECORD, "traffic-origin").inputs
    assert origin["weightedRoutingPolicies"] == [{"weight": 0}]
    assert "failoverRoutingPolicies" not in origin
    assert origin["setIdentifier"] == "eu-west-1" and origin["name"] == "api-origin.example.com"
    assert origin["healthCheckId"].startswith("traffic-health")  # the health check's (faked) id
    assert origin["aliases"] == [
        {"evaluateTargetHealth": True, "name": "alb-1.eu-west-1.elb.amazonaws.com", "zoneId": "Z32O12XQLNTSW2"}
    ]
    regional = failover_standby_plan.one(RECORD, "traffic-regional").inputs
    assert regional["name"] == "api-eu-west-1.example.com" and "setIdentifier" not in regional


def test_a_region_switch_health_check_gates_the_record_with_the_endpoint_check():
    """Region switch moves traffic only through the health checks it creates, once the records reference them; the
    record keeps the endpoint check too: a CALCULATED check healthy only while both children are."""
    plan = _traffic("failover", active=False, control_health_check_id="1f2e3d4c-0000-4000-8000-00000000abcd")
    checks = {r.name: r.inputs for r in plan.of_type(HEALTH)}
    both = checks["traffic-health-and-plan"]
    assert both["type"] == "CALCULATED" and both["childHealthThreshold"] == 2
    endpoint_id, plan_check = both["childHealthchecks"]
    assert endpoint_id.startswith("traffic-health-") and not endpoint_id.startswith("traffic-health-and-plan")
    assert plan_check == "1f2e3d4c-0000-4000-8000-00000000abcd"
    origin = plan.one(RECORD, "traffic-origin").inputs
    assert origin["healthCheckId"].startswith("traffic-health-and-plan")  # the CALCULATED check's (faked) id
    # without it, the record uses the endpoint check alone (no extra check)
    assert len(_traffic("failover", active=False).of_type(HEALTH)) == 1


@pytest.mark.parametrize(
    ("policy", "active", "extra", "expected"),
    [
        ("failover", True, {}, {"traffic-origin": ("weightedRoutingPolicies", [{"weight": 100}])}),
        ("weighted", True, {}, {"traffic-origin": ("weightedRoutingPolicies", [{"weight": 70}])}),
        ("weighted", False, {}, {"traffic-origin": ("weightedRoutingPolicies", [{"weight": 30}])}),
        ("latency", False, {}, {"traffic-origin": ("latencyRoutingPolicies", [{"region": "eu-west-1"}])}),
        (
            "geolocation",
            True,
            {"geolocations": ["EU", "GB"]},
            {
                "traffic-origin-eu": ("geolocationRoutingPolicies", [{"continent": "EU"}]),
                "traffic-origin-gb": ("geolocationRoutingPolicies", [{"country": "GB"}]),
                "traffic-origin-default": ("geolocationRoutingPolicies", [{"country": "*"}]),
            },
        ),
        (
            "geolocation",
            False,
            {"geolocations": ["EU"]},
            {"traffic-origin-eu": ("geolocationRoutingPolicies", [{"continent": "EU"}])},
        ),
    ],
)
def test_routing_policy_follows_args(policy, active, extra, expected):
    plan = _traffic(policy, active, **extra)
    origins = {r.name: r.inputs for r in plan.of_type(RECORD) if r.name != "traffic-regional"}
    assert set(origins) == set(expected)
    for name, (key, value) in expected.items():
        assert origins[name][key] == value
        assert origins[name]["healthCheckId"]
    assert len({o["setIdentifier"] for o in origins.values()}) == len(origins)


def test_traffic_bad_args_rejected():
    base = {
        "region": "eu-west-1",
        "name_prefix": "p",
        "zone_id": "Z",
        "regional_name": "a.example.com",
        "api_origin_name": "b.example.com",
        "alb_dns_name": "alb",
        "alb_zone_id": "Z",
    }
    with pytest.raises(ValidationError):
        RegionalTrafficArgs(**base, routing_policy="round-robin")
    with pytest.raises(ValidationError, match="no location"):
        RegionalTrafficArgs(**base, routing_policy="geolocation", is_active=False)
    with pytest.raises(ValidationError):
        RegionalTrafficArgs(**base, health_check_regions=["us-east-1", "eu-west-1"])


def test_certificate_validation_records_have_one_owner():
    def program():
        DnsValidatedCertificate(
            "cert",
            DnsValidatedCertificateArgs(
                region="eu-west-1",
                name_prefix="p",
                tags=TAGS,
                domain_name="api-eu-west-1.example.com",
                subject_alternative_names=["api-origin.example.com"],
                zone_id="Z123",
            ),
        )

    plan = synthesize("unit", {}, program=program)
    cert = plan.one("aws:acm/certificate:Certificate").inputs
    assert cert["validationMethod"] == "DNS" and cert["region"] == "eu-west-1"
    records = plan.of_type(RECORD)
    assert len(records) == 2
    assert all(r.inputs["allowOverwrite"] is False and r.inputs["type"] == "CNAME" for r in records)
    assert {r.inputs["name"].split(".", 1)[1] for r in records} == {
        "api-eu-west-1.example.com.",
        "api-origin.example.com.",
    }
    validation = plan.one("aws:acm/certificateValidation:CertificateValidation").inputs
    assert sorted(validation["validationRecordFqdns"]) == sorted(r.inputs["name"].rstrip(".") for r in records)


def test_certificate_validates_a_shared_name_against_the_owners_record():
    owner_fqdn = "_abc.api-origin.example.com"

    def program():
        DnsValidatedCertificate(
            "cert",
            DnsValidatedCertificateArgs(
                region="eu-west-1",
                name_prefix="p",
                tags=TAGS,
                domain_name="api-eu-west-1.example.com",
                subject_alternative_names=["api-origin.example.com"],
                zone_id="Z123",
                external_validations={"api-origin.example.com": owner_fqdn},
            ),
        )

    plan = synthesize("unit", {}, program=program)
    (record,) = plan.of_type(RECORD)
    assert record.inputs["name"].split(".", 1)[1] == "api-eu-west-1.example.com."
    assert record.name == "cert-validation-0"
    validation = plan.one("aws:acm/certificateValidation:CertificateValidation").inputs
    assert sorted(validation["validationRecordFqdns"]) == sorted([owner_fqdn, record.inputs["name"].rstrip(".")])
    with pytest.raises(ValidationError, match="not names of this certificate"):
        DnsValidatedCertificateArgs(
            region="eu-west-1", name_prefix="p", domain_name="a.example.com", zone_id="Z",
            external_validations={"b.example.com": "x"},
        )  # fmt: skip


def test_cdn_log_bucket_denies_plain_http(cdn_plan):
    import json

    policy = json.loads(cdn_plan.one("aws:s3/bucketPolicy:BucketPolicy").inputs["policy"])
    deny = policy["Statement"][0]
    assert deny["Effect"] == "Deny" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
