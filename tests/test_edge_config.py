"""Traffic and edge config: every bad input names the stack file, the key path and what is allowed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from infra.config.errors import ConfigError
from infra.config.fleet import load_fleet
from infra.config.loader import parse_stack_config, platform_keys, read_stack_file
from infra.plan.runner import REPO_ROOT
from tests.config_cases import PRIMARY, SECONDARY, assert_config_issue


def _set(section: str, path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def edit(config: dict[str, Any]) -> None:
        node = config.setdefault(f"platform:{section}", {})
        *parents, last = path.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = value

    return edit


BAD = [
    ("us-east-1", _set("traffic", "routingPolicy", "round-robin"), PRIMARY, "platform:traffic.routingPolicy",
     "failover"),
    ("us-east-1", _set("traffic", "weights.active", 20), PRIMARY, "platform:traffic.weights",
     "at least as much traffic"),
    ("us-east-1", _set("traffic", "weights", {"active": 0, "standby": 0}), PRIMARY, "platform:traffic.weights",
     "both 0"),
    ("us-east-1", _set("traffic", "weights.active", 300), PRIMARY, "platform:traffic.weights.active", "255"),
    ("us-east-1", _set("traffic", "zoneName", "Not A Domain"), PRIMARY, "platform:traffic.zoneName",
     "DNS domain name"),
    ("us-east-1", _set("traffic", "healthCheck.regions", ["us-east-1", "eu-west-1"]), PRIMARY,
     "platform:traffic.healthCheck.regions", "at least 3"),
    ("us-east-1", _set("traffic", "healthCheck.regions", ["us-east-1", "eu-west-1", "mars-1"]), PRIMARY,
     "platform:traffic.healthCheck.regions", "health-checker Regions"),
    ("us-east-1", _set("traffic", "healthCheck.requestInterval", 15), PRIMARY,
     "platform:traffic.healthCheck.requestInterval", "10"),
    ("us-east-1", _set("traffic", "geolocation", {"us-east-1": ["NA"], "eu-west-1": ["NA"]}), PRIMARY,
     "platform:traffic.geolocation", "mapped to both"),
    ("us-east-1", _set("traffic", "geolocation", {"us-east-1": ["Europe"]}), PRIMARY,
     "platform:traffic.geolocation", "continent code"),
    ("eu-west-1", _set("traffic", "zoneName", "other.example.com"), SECONDARY, "platform:traffic.zoneName",
     "same value in every file"),
    ("eu-west-1", _set("traffic", "routingPolicy", "latency"), SECONDARY, "platform:traffic.routingPolicy",
     "same value in every file"),
    ("eu-west-1", _set("traffic", "existingZoneId", "Z0123456789ABC"), SECONDARY,
     "platform:traffic.existingZoneId", "primary only"),
    ("us-east-1", _set("edge", "waf.rateLimit", 5), PRIMARY, "platform:edge.waf.rateLimit", "10.."),
    ("us-east-1", _set("edge", "waf.rateLimitWindowSeconds", 900), PRIMARY,
     "platform:edge.waf.rateLimitWindowSeconds", "use one of 60, 120, 300, 600 (seconds)"),
    ("us-east-1", _set("edge", "certificateRegion", "eu-west-1"), PRIMARY, "platform:edge.certificateRegion",
     "only uses ACM certificates from us-east-1"),
    ("us-east-1", _set("edge", "waf.logDestinationArn", "arn:aws:firehose:us-east-1:123456789012:deliverystream/siem"),
     PRIMARY, "platform:edge.waf.logDestinationArn", "aws-waf-logs-"),
    ("us-east-1", _set("edge", "waf.countOnly", ["AWSManagedRulesFancy"]), PRIMARY, "platform:edge.waf.countOnly",
     "not managed rule groups"),
    ("us-east-1", _set("edge", "waf.allowCidrs", ["10.0.0.1/8"]), PRIMARY, "platform:edge.waf.allowCidrs",
     "not a CIDR"),
    ("us-east-1", _set("edge", "waf.blockedCountries", ["North Korea"]), PRIMARY,
     "platform:edge.waf.blockedCountries", "ISO 3166-1"),
    ("us-east-1", _set("edge", "geoRestriction", {"type": "whitelist", "locations": []}), PRIMARY,
     "platform:edge.geoRestriction", "at least one country"),
    ("us-east-1", _set("edge", "cache.apiTtlSeconds", 0), PRIMARY, "platform:edge.cache.apiTtlSeconds", "1"),
    ("us-east-1", _set("edge", "cache.apiPathPatterns", ["/static/*"]), PRIMARY, "platform:edge.cache",
     "both static and API"),
    ("us-east-1", _set("edge", "hstsMaxAgeSeconds", 3600), PRIMARY, "platform:edge.hstsMaxAgeSeconds", "31536000"),
]  # fmt: skip


@pytest.mark.parametrize(("stack", "edit", "file", "key", "words"), BAD, ids=[f"{b[3]}:{b[4]}" for b in BAD])
def test_bad_edge_config_names_file_and_key(write_stacks, stack, edit, file, key, words):
    assert_config_issue(write_stacks({stack: edit}), file, key, words)


def test_failover_allows_any_number_of_regions():
    """Route 53 failover records allow one PRIMARY and one SECONDARY; our `failover` is weighted 100/0 records,
    so a third (fourth, ...) Region is no fleet error."""
    from infra.config.fleet import fleet_issues

    fleet = load_fleet(REPO_ROOT)
    third = fleet.stacks["eu-west-1"].model_copy(update={"region": "ap-southeast-1"})
    stacks = {**fleet.stacks, "ap-southeast-1": third}
    assert stacks["us-east-1"].traffic.routing_policy == "failover"
    assert [i for i in fleet_issues(stacks) if i.key.startswith("platform:traffic")] == []


def test_geolocation_needs_every_region_mapped(write_stacks):
    def edit(config):
        config["platform:traffic"]["routingPolicy"] = "geolocation"
        config["platform:traffic"]["geolocation"] = {"us-east-1": ["NA"]}

    root = write_stacks({"us-east-1": edit, "eu-west-1": edit})
    with pytest.raises(ConfigError) as caught:
        load_fleet(root)
    assert any(i.key == "platform:traffic.geolocation" and "eu-west-1" in i.message for i in caught.value.issues)


def test_error_text_names_file_and_fix():
    raw = platform_keys(read_stack_file(REPO_ROOT / PRIMARY))
    raw["edge"] = {**raw.get("edge", {}), "waf": {"rateLimit": 1}}
    with pytest.raises(ConfigError) as caught:
        parse_stack_config(raw, "Pulumi.x.yaml")
    text = str(caught.value)
    assert "Pulumi.x.yaml" in text and "platform:edge.waf.rateLimit" in text and "Fix:" in text


def test_stack_files_carry_the_seed_numbers():
    for cfg in load_fleet(REPO_ROOT).stacks.values():
        assert cfg.edge.cache.static_ttl_seconds == 365 * 24 * 3600
        assert cfg.edge.cache.api_ttl_seconds == 300
        assert (cfg.traffic.weights.active, cfg.traffic.weights.standby) == (70, 30)
        hc = cfg.traffic.health_check
        assert (hc.request_interval, hc.failure_threshold) == (10, 3)
        assert hc.detection_seconds <= 30  # seed: failover under 30 s (detection part)
        assert cfg.edge.waf.rate_limit_window_seconds == 300 and cfg.edge.waf.rate_limit == 1000 * 5 * 6 // 5
