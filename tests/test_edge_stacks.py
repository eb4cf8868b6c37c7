"""Both real stacks planned: DNS, traffic and edge tiers as the engine would receive them."""

from __future__ import annotations

import pytest

from infra.plan.runner import Planner

CF = "aws:cloudfront/distribution:Distribution"
WAF = "aws:wafv2/webAcl:WebAcl"
RECORD = "aws:route53/record:Record"
HEALTH = "aws:route53/healthCheck:HealthCheck"
ZONE = "aws:route53/zone:Zone"


def test_primary_owns_cloudfront_and_waf(primary_plan, secondary_plan):
    assert len(primary_plan.of_type(CF)) == 1 and len(primary_plan.of_type(WAF)) == 1  # regionalAcl off by default
    assert secondary_plan.of_type(CF) == [] and secondary_plan.of_type(WAF) == []
    assert len(primary_plan.of_type(ZONE)) == 1 and secondary_plan.of_type(ZONE) == []


def test_distribution_as_checked(primary_plan):
    dist = primary_plan.one(CF).inputs
    acl = primary_plan.one(WAF)
    assert dist["webAclId"] == primary_plan.outputs["webAclArn"]
    assert dist["loggingConfig"]["bucket"].endswith(".s3.amazonaws.com")
    assert dist["originGroups"] and dist["viewerCertificate"]["minimumProtocolVersion"] == "TLSv1.2_2021"
    assert dist["defaultCacheBehavior"]["viewerProtocolPolicy"] == "redirect-to-https"
    assert dist["aliases"] == ["api.devtools.example.com"]
    origins = {o["domainName"] for o in dist["origins"]}
    # derived from config, never from the secondary's outputs (no stack-reference cycle)
    assert origins == {"api-origin.devtools.example.com", "api-eu-west-1.devtools.example.com"}
    assert acl.inputs["scope"] == "CLOUDFRONT" and acl.inputs["region"] == "us-east-1"
    cert = primary_plan.one("aws:acm/certificate:Certificate", "cdn-cert-cert")
    assert cert.inputs["region"] == "us-east-1" and cert.inputs["domainName"] == "api.devtools.example.com"
    assert dist["viewerCertificate"]["acmCertificateArn"].startswith("arn:aws:acm:us-east-1:")


def test_web_acl_as_checked(primary_plan):
    acl = primary_plan.one(WAF).inputs
    managed = [r for r in acl["rules"] if "managedRuleGroupStatement" in r["statement"]]
    assert len(managed) >= 5
    rate = [r for r in acl["rules"] if "rateBasedStatement" in r["statement"]]
    assert rate and rate[0]["statement"]["rateBasedStatement"]["limit"] == 6000
    assert rate[0]["statement"]["rateBasedStatement"]["evaluationWindowSec"] == 300
    assert all(r["visibilityConfig"]["cloudwatchMetricsEnabled"] for r in acl["rules"])
    assert len({r["priority"] for r in acl["rules"]}) == len(acl["rules"])
    logging = primary_plan.one("aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration").inputs
    assert logging["resourceArn"] == primary_plan.outputs["webAclArn"]
    assert logging["region"] == "us-east-1"


@pytest.mark.parametrize(("stack", "weight"), [("us-east-1", 100), ("eu-west-1", 0)])
def test_each_region_has_health_check_and_records(plans, stack, weight):
    plan = plans[stack]
    hc = plan.one(HEALTH).inputs
    assert hc["fqdn"] == plan.outputs["albDnsName"]
    assert (hc["type"], hc["requestInterval"], hc["failureThreshold"]) == ("HTTPS", 10, 3)
    origin = plan.one(RECORD, "traffic-origin").inputs
    assert origin["weightedRoutingPolicies"] == [{"weight": weight}]  # failover: active 100, every other 0
    assert origin["healthCheckId"] == plan.outputs["healthCheckId"]
    assert origin["aliases"][0]["name"] == plan.outputs["albDnsName"]
    assert origin["zoneId"] == plan.outputs["hostedZoneId"]
    assert plan.outputs["routingPolicy"] == "failover"
    assert plan.outputs["regionalRecordName"] == f"api-{stack}.devtools.example.com"
    assert plan.outputs["healthCheckId"]
    if stack == "us-east-1":  # Route 53 metrics exist only there (route53HealthAlarm: auto)
        alarm = plan.one("aws:cloudwatch/metricAlarm:MetricAlarm", "observability-alarm-route53-health").inputs
        assert alarm["region"] == "us-east-1"
        assert alarm["dimensions"] == {"HealthCheckId": plan.outputs["healthCheckId"]}
        assert plan.outputs["healthCheckAlarmArn"].startswith("arn:aws:cloudwatch:us-east-1:")
    else:
        assert "healthCheckAlarmArn" not in plan.outputs


def test_secondary_reads_the_zone_from_the_primary(primary_plan, secondary_plan):
    assert secondary_plan.outputs["hostedZoneId"] == primary_plan.outputs["hostedZoneId"]
    assert secondary_plan.outputs["hostedZoneName"] == "devtools.example.com"
    cert = secondary_plan.one("aws:acm/certificate:Certificate").inputs
    assert cert["region"] == "eu-west-1" and cert["domainName"] == "api-eu-west-1.devtools.example.com"
    assert cert["subjectAlternativeNames"] == ["api-origin.devtools.example.com"]
    listener = [r for r in secondary_plan.of_type("aws:lb/listener:Listener") if r.inputs.get("certificateArn")]
    assert listener and listener[0].inputs["certificateArn"].startswith("arn:aws:acm:eu-west-1:")


def test_contract_outputs_exported(primary_plan, secondary_plan):
    every = {"hostedZoneId", "hostedZoneName", "healthCheckId", "regionalRecordName", "apiOriginName", "routingPolicy"}
    assert every <= set(primary_plan.outputs) and every <= set(secondary_plan.outputs)
    assert {"cloudfrontDistributionId", "cloudfrontDomainName", "webAclArn"} <= set(primary_plan.outputs)
    assert "webAclArn" not in secondary_plan.outputs


def _plan_with(write_stacks, edit):
    root = write_stacks({"us-east-1": edit, "eu-west-1": edit})
    planner = Planner(root)
    return planner.plan("us-east-1"), planner.plan("eu-west-1")


def test_active_region_knob_flips_failover_and_cloudfront_failover_origin(flipped_plans):
    primary, secondary = flipped_plans["us-east-1"], flipped_plans["eu-west-1"]
    assert primary.one(RECORD, "traffic-origin").inputs["weightedRoutingPolicies"] == [{"weight": 0}]
    assert secondary.one(RECORD, "traffic-origin").inputs["weightedRoutingPolicies"] == [{"weight": 100}]
    group = primary.one(CF).inputs["originGroups"][0]
    origins = {o["originId"]: o["domainName"] for o in primary.one(CF).inputs["origins"]}
    assert origins[group["members"][1]["originId"]] == "api-us-east-1.devtools.example.com"
    # the zone and the edge stay with the primary stack: nothing global moves with the knob
    assert len(primary.of_type(ZONE)) == 1 and len(primary.of_type(CF)) == 1


def test_weighted_policy_from_the_stack_file(write_stacks):
    def edit(config):
        config["platform:traffic"]["routingPolicy"] = "weighted"

    primary, secondary = _plan_with(write_stacks, edit)
    assert primary.one(RECORD, "traffic-origin").inputs["weightedRoutingPolicies"] == [{"weight": 70}]
    assert secondary.one(RECORD, "traffic-origin").inputs["weightedRoutingPolicies"] == [{"weight": 30}]
    assert secondary.outputs["routingPolicy"] == "weighted"


def test_existing_zone_is_adopted(write_stacks):
    def edit(config):
        config["platform:traffic"]["existingZoneId"] = "Z0123456789ABCDEFGHIJ"

    root = write_stacks({"us-east-1": edit})
    plan = Planner(root).plan("us-east-1")
    assert plan.of_type(ZONE) == []
    assert plan.outputs["hostedZoneId"] == "Z0123456789ABCDEFGHIJ"
    assert all(r.inputs["zoneId"] == "Z0123456789ABCDEFGHIJ" for r in plan.of_type(RECORD))


def test_optional_regional_web_acl_on_each_alb(write_stacks):
    def edit(config):
        config["platform:edge"]["waf"]["regionalAcl"] = True

    primary, secondary = _plan_with(write_stacks, edit)
    for plan, region in ((primary, "us-east-1"), (secondary, "eu-west-1")):
        acl = plan.one(WAF, "alb-waf-acl").inputs
        assert acl["scope"] == "REGIONAL" and acl["region"] == region
        association = plan.one("aws:wafv2/webAclAssociation:WebAclAssociation").inputs
        assert association["resourceArn"] == plan.outputs["albArn"]
        assert association["webAclArn"] == plan.outputs["regionalWebAclArn"]
        logging = plan.one("aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration", "alb-waf-logging")
        assert {f["singleHeader"]["name"] for f in logging.inputs["redactedFields"]} == {"authorization", "cookie"}


def test_geolocation_policy_from_the_stack_file(write_stacks):
    def edit(config):
        config["platform:traffic"]["routingPolicy"] = "geolocation"

    primary, secondary = _plan_with(write_stacks, edit)
    geo = {
        plan.stack: {
            r.inputs["setIdentifier"]: r.inputs["geolocationRoutingPolicies"][0]
            for r in plan.of_type(RECORD)
            if r.name.startswith("traffic-origin")
        }
        for plan in (primary, secondary)
    }
    assert geo["us-east-1"] == {
        "us-east-1-NA": {"continent": "NA"},
        "us-east-1-SA": {"continent": "SA"},
        "us-east-1-default": {"country": "*"},  # the active region answers everyone else
    }
    assert geo["eu-west-1"] == {"eu-west-1-EU": {"continent": "EU"}, "eu-west-1-AF": {"continent": "AF"}}
