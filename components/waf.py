"""AWS WAFv2 web ACL: managed rule groups, per-IP rate limit, geo block, IP allow/deny sets, redacted logging."""

from __future__ import annotations

from typing import Literal

import pulumi
import pulumi_aws as aws
from pydantic import Field, field_validator, model_validator

from components.base import ComponentArgs, Input, PlatformComponent

# (priority, managed rule group) in evaluation order: cheap reputation lists first, then the OWASP-style sets.
MANAGED_GROUPS: tuple[tuple[int, str], ...] = (
    (10, "AWSManagedRulesAmazonIpReputationList"),
    (11, "AWSManagedRulesAnonymousIpList"),
    (30, "AWSManagedRulesCommonRuleSet"),  # OWASP top 10 core (XSS, LFI, RFI, size limits, ...)
    (31, "AWSManagedRulesKnownBadInputsRuleSet"),  # Log4j / Log4Shell, Java deserialization, ...
    (32, "AWSManagedRulesSQLiRuleSet"),
    (33, "AWSManagedRulesLinuxRuleSet"),
)
BOT_CONTROL = (40, "AWSManagedRulesBotControlRuleSet")
ALLOW_PRIORITY, DENY_PRIORITY, GEO_PRIORITY, RATE_PRIORITY = 0, 1, 2, 20
# Headers that carry credentials: never written to WAF logs.
REDACTED_HEADERS = ("authorization", "cookie")


class WebAclArgs(ComponentArgs):
    """Args of `WebAcl`. For `scope="CLOUDFRONT"` the `region` must be us-east-1 (AWS requirement)."""

    scope: Literal["CLOUDFRONT", "REGIONAL"] = Field("CLOUDFRONT", description="CLOUDFRONT (global) or REGIONAL.")
    rate_limit: int = Field(6000, ge=10, le=2_000_000_000, description="Requests per IP per window before block.")
    rate_limit_window_seconds: Literal[60, 120, 300, 600] = Field(300, description="Rate evaluation window.")
    bot_control: bool = Field(False, description="Add the Bot Control managed rule group.")
    bot_control_level: Literal["COMMON", "TARGETED"] = Field("COMMON", description="Bot Control inspection level.")
    count_only: list[str] = Field(default_factory=list, description="Managed groups run in count mode.")
    blocked_countries: list[str] = Field(default_factory=list, description="Country codes blocked by geo match.")
    allow_cidrs: list[str] = Field(default_factory=list, description="IPv4 CIDRs always allowed.")
    deny_cidrs: list[str] = Field(default_factory=list, description="IPv4 CIDRs always blocked.")
    log_destination_arn: str | None = Field(
        None, description="Firehose / S3 / log-group ARN (`aws-waf-logs-*`); default: a new log group."
    )
    log_retention_days: int = Field(365, description="Retention of the created log group.")
    log_kms_key_arn: Input = Field(None, description="CMK for the created log group (None: AWS-owned key).")
    associate_arns: list[Input] = Field(
        default_factory=list, description="REGIONAL scope: resources (ALB ARNs) to attach the web ACL to."
    )

    @model_validator(mode="after")
    def _cloudfront_region(self) -> WebAclArgs:
        if self.scope == "CLOUDFRONT" and self.region != "us-east-1":
            raise ValueError(f"a CLOUDFRONT web ACL must be created in us-east-1, not {self.region}")
        return self

    @model_validator(mode="after")
    def _associations(self) -> WebAclArgs:
        if self.scope == "CLOUDFRONT" and self.associate_arns:
            raise ValueError("a CLOUDFRONT web ACL is attached through the distribution's web_acl_id, not associations")
        return self

    @field_validator("count_only")
    @classmethod
    def _known(cls, value: list[str]) -> list[str]:
        known = {g for _, g in (*MANAGED_GROUPS, BOT_CONTROL)}
        bad = [g for g in value if g not in known]
        if bad:
            raise ValueError(f"{bad} are not managed rule groups of this web ACL")
        return value


def _visibility(metric: str) -> aws.wafv2.WebAclRuleVisibilityConfigArgs:
    return aws.wafv2.WebAclRuleVisibilityConfigArgs(
        cloudwatch_metrics_enabled=True, metric_name=metric, sampled_requests_enabled=True
    )


class WebAcl(PlatformComponent):
    """A web ACL with AWS managed rules, a per-IP rate-based rule, geo and IP rules, and redacted logging.

    Outputs: `arn`, `id`, `name`, `log_destination_arn`.
    """

    def __init__(self, name: str, args: WebAclArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("platform:edge:WebAcl", name, opts)
        region, tags = args.region, args.tags
        acl_name = f"{args.name_prefix}-{'edge' if args.scope == 'CLOUDFRONT' else 'regional'}-waf"
        metric = acl_name.replace("-", "")
        block = aws.wafv2.WebAclRuleActionArgs(block=aws.wafv2.WebAclRuleActionBlockArgs())
        rules: list[aws.wafv2.WebAclRuleArgs] = []
        self.rule_names: list[str] = []

        def add(rule_name: str, priority: int, statement: aws.wafv2.WebAclRuleStatementArgs, **action: object) -> None:
            self.rule_names.append(rule_name)
            rules.append(
                aws.wafv2.WebAclRuleArgs(
                    name=rule_name,
                    priority=priority,
                    statement=statement,
                    visibility_config=_visibility(f"{metric}-{rule_name}"),
                    **action,  # type: ignore[arg-type]
                )
            )

        allow = aws.wafv2.WebAclRuleActionArgs(allow=aws.wafv2.WebAclRuleActionAllowArgs())
        for key, cidrs, priority, action in (
            ("allow", args.allow_cidrs, ALLOW_PRIORITY, allow),
            ("deny", args.deny_cidrs, DENY_PRIORITY, block),
        ):
            if not cidrs:
                continue
            ip_set = aws.wafv2.IpSet(
                self.cname(f"{key}-ips"),
                region=region,
                name=f"{acl_name}-{key}",
                scope=args.scope,
                ip_address_version="IPV4",
                addresses=cidrs,
                description=f"CIDRs the web ACL always {'allows' if key == 'allow' else 'blocks'} (from config).",
                tags=self.tagged(tags, f"{acl_name}-{key}"),
                opts=self.child(),
            )
            statement = aws.wafv2.WebAclRuleStatementArgs(
                ip_set_reference_statement=aws.wafv2.WebAclRuleStatementIpSetReferenceStatementArgs(arn=ip_set.arn)
            )
            add(f"ip-{key}-list", priority, statement, action=action)
        if args.blocked_countries:
            statement = aws.wafv2.WebAclRuleStatementArgs(
                geo_match_statement=aws.wafv2.WebAclRuleStatementGeoMatchStatementArgs(
                    country_codes=args.blocked_countries
                )
            )
            add("geo-block", GEO_PRIORITY, statement, action=block)
        rate = aws.wafv2.WebAclRuleStatementArgs(
            rate_based_statement=aws.wafv2.WebAclRuleStatementRateBasedStatementArgs(
                limit=args.rate_limit,
                evaluation_window_sec=args.rate_limit_window_seconds,
                aggregate_key_type="IP",
            )
        )
        add("rate-limit-per-ip", RATE_PRIORITY, rate, action=block)
        groups = list(MANAGED_GROUPS) + ([BOT_CONTROL] if args.bot_control else [])
        for priority, group in groups:
            configs = None
            if group == BOT_CONTROL[1]:
                configs = [
                    aws.wafv2.WebAclRuleStatementManagedRuleGroupStatementManagedRuleGroupConfigArgs(
                        aws_managed_rules_bot_control_rule_set=aws.wafv2.WebAclRuleStatementManagedRuleGroupStatementManagedRuleGroupConfigAwsManagedRulesBotControlRuleSetArgs(
                            inspection_level=args.bot_control_level
                        )
                    )
                ]
            override = (
                aws.wafv2.WebAclRuleOverrideActionArgs(count=aws.wafv2.WebAclRuleOverrideActionCountArgs())
                if group in args.count_only
                else aws.wafv2.WebAclRuleOverrideActionArgs(none=aws.wafv2.WebAclRuleOverrideActionNoneArgs())
            )
            statement = aws.wafv2.WebAclRuleStatementArgs(
                managed_rule_group_statement=aws.wafv2.WebAclRuleStatementManagedRuleGroupStatementArgs(
                    name=group, vendor_name="AWS", managed_rule_group_configs=configs
                )
            )
            add(group, priority, statement, override_action=override)

        self.web_acl = aws.wafv2.WebAcl(
            self.cname("acl"),
            region=region,
            name=acl_name,
            scope=args.scope,
            description=f"{acl_name}: managed rules, per-IP rate limit, geo/IP rules",
            default_action=aws.wafv2.WebAclDefaultActionArgs(allow=aws.wafv2.WebAclDefaultActionAllowArgs()),
            rules=rules,
            visibility_config=aws.wafv2.WebAclVisibilityConfigArgs(
                cloudwatch_metrics_enabled=True, metric_name=metric, sampled_requests_enabled=True
            ),
            tags=self.tagged(tags, acl_name),
            opts=self.child(),
        )
        if args.log_destination_arn:
            destination: pulumi.Input[str] = args.log_destination_arn
        else:
            # WAF requires the `aws-waf-logs-` prefix; the log group lives in the web ACL's Region.
            log_group = aws.cloudwatch.LogGroup(
                self.cname("logs"),
                region=region,
                name=f"aws-waf-logs-{acl_name}",
                retention_in_days=args.log_retention_days,
                kms_key_id=args.log_kms_key_arn,
                tags=self.tagged(tags, f"aws-waf-logs-{acl_name}"),
                opts=self.child(),
            )
            destination = log_group.arn
        self.logging = aws.wafv2.WebAclLoggingConfiguration(
            self.cname("logging"),
            region=region,
            resource_arn=self.web_acl.arn,
            log_destination_configs=[destination],
            redacted_fields=[
                aws.wafv2.WebAclLoggingConfigurationRedactedFieldArgs(
                    single_header=aws.wafv2.WebAclLoggingConfigurationRedactedFieldSingleHeaderArgs(name=header)
                )
                for header in REDACTED_HEADERS
            ],
            opts=self.child(),
        )
        self.associations = [
            aws.wafv2.WebAclAssociation(
                self.cname(f"association-{index}"),
                region=region,
                resource_arn=arn,
                web_acl_arn=self.web_acl.arn,
                opts=self.child(),
            )
            for index, arn in enumerate(args.associate_arns)
        ]
        self.arn: pulumi.Output[str] = self.web_acl.arn
        self.id: pulumi.Output[str] = self.web_acl.id
        self.name = pulumi.Output.from_input(acl_name)
        self.log_destination_arn = pulumi.Output.from_input(destination)
        self.register_outputs(
            {"arn": self.arn, "id": self.id, "name": self.name, "log_destination_arn": self.log_destination_arn}
        )
