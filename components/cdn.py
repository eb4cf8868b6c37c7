"""CloudFront in front of the regional ALBs: seed TTLs, origin failover, security headers, TLS 1.2+, logging."""

from __future__ import annotations

import json

import pulumi
import pulumi_aws as aws
from pydantic import Field, model_validator

from components.base import ComponentArgs, Input, PlatformComponent
from components.storage import bucket_policy, secure_bucket_settings

# How long CloudFront tries an origin before the origin group's failover origin (attempts x timeout = 15 s); the DR
# report's modeled read-path failover uses the same figures (infra/dr/rto.py).
ORIGIN_CONNECTION_ATTEMPTS = 3
ORIGIN_CONNECTION_TIMEOUT_SECONDS = 5

ORIGIN_ID, FAILOVER_ORIGIN_ID, GROUP_ID = "api-origin", "api-failover", "api-origin-group"
# CloudFront sends these (besides the cache-key ones) to the origin for never-cached requests. Not `Host`: the
# origin's certificate names the origin domain, and CloudFront must connect with that name.
ALL_METHODS = ["GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"]
READ_METHODS = ["GET", "HEAD", "OPTIONS"]  # the only methods an origin-group behavior may allow
CACHED_METHODS = ["GET", "HEAD"]
# Headers that make an API response depend on the caller or the request format: part of the API cache key.
API_CACHE_KEY_HEADERS = ["Authorization", "Accept", "Accept-Language"]
ONE_YEAR = 31_536_000


class CdnArgs(ComponentArgs):
    """Args of `Cdn`. `region` hosts the log bucket; CloudFront itself is global."""

    domain_name: str = Field(..., description="Public name (alias), e.g. `api.devtools.example.com`.")
    certificate_arn: Input = Field(..., description="Validated ACM certificate for `domain_name` in us-east-1.")
    certificate_region: str = Field("us-east-1", description="Region of that certificate (must be us-east-1).")
    origin_domain_name: str = Field(..., description="Route 53-routed origin, e.g. `api-origin.example.com`.")
    failover_origin_domain_name: str = Field(..., description="The standby region's name, e.g. `api-eu-west-1...`.")
    web_acl_arn: Input = Field(..., description="CLOUDFRONT-scope WAFv2 web ACL ARN.")
    account_id: Input = Field(..., description="AWS account id (log bucket name).")
    log_kms_key_arn: Input = Field(..., description="CMK of the access-log bucket (SSE-KMS).")
    log_retention_days: int = Field(365, ge=1, description="Days access logs are kept.")
    static_ttl_seconds: int = Field(ONE_YEAR, ge=1, description="Static assets TTL (seed: 1 year).")
    api_ttl_seconds: int = Field(300, ge=1, description="Cacheable API responses TTL (seed: 5 minutes).")
    static_path_patterns: list[str] = Field(default_factory=lambda: ["/static/*", "/assets/*"], description="Static.")
    api_path_patterns: list[str] = Field(default_factory=lambda: ["/api/public/*"], description="Cacheable API.")
    geo_restriction_type: str = Field("none", description="none | blacklist | whitelist.")
    geo_restriction_locations: list[str] = Field(default_factory=list, description="ISO country codes.")
    price_class: str = Field("PriceClass_All", description="CloudFront price class.")
    hsts_max_age_seconds: int = Field(2 * ONE_YEAR, ge=ONE_YEAR, description="HSTS max-age.")
    origin_read_timeout_seconds: int = Field(60, ge=1, le=180, description="Origin read timeout.")
    failover_status_codes: list[int] = Field(default_factory=lambda: [500, 502, 503, 504], description="Failover on.")
    minimum_protocol_version: str = Field("TLSv1.2_2021", description="Viewer TLS policy.")
    zone_id: Input = Field(None, description="Hosted zone for the `domain_name` alias records (A and AAAA).")
    origin_header_name: str | None = Field(None, description="Secret header added to every origin request.")
    origin_header_value: Input = Field(None, description="Its value (secret; the ALBs accept it).")

    @model_validator(mode="after")
    def _rules(self) -> CdnArgs:
        if self.certificate_region != "us-east-1":
            raise ValueError(f"CloudFront needs its ACM certificate in us-east-1, not {self.certificate_region}")
        if self.origin_domain_name == self.failover_origin_domain_name:
            raise ValueError("the failover origin must differ from the primary origin")
        if not self.minimum_protocol_version.startswith("TLSv1.2"):
            raise ValueError("viewer TLS below 1.2 is not allowed")
        if (self.origin_header_name is None) != (self.origin_header_value is None):
            raise ValueError("origin_header_name and origin_header_value go together")
        return self


class Cdn(PlatformComponent):
    """CloudFront distribution + cache / origin-request / response-headers policies + encrypted log bucket.

    Outputs: `distribution_id`, `distribution_arn`, `domain_name`, `hosted_zone_id`, `log_bucket`.
    """

    def __init__(self, name: str, args: CdnArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("platform:edge:Cdn", name, opts)
        base, tags = args.name_prefix, args.tags
        self.log_bucket = self._log_bucket(args)

        def cache_policy(key: str, ttl: int, comment: str, headers: list[str] | None) -> aws.cloudfront.CachePolicy:
            return aws.cloudfront.CachePolicy(
                self.cname(f"cache-{key}"),
                name=f"{base}-{key}",
                comment=comment,
                min_ttl=0,  # origin `Cache-Control: no-store/private` still wins
                default_ttl=ttl,
                max_ttl=ttl,
                parameters_in_cache_key_and_forwarded_to_origin=aws.cloudfront.CachePolicyParametersInCacheKeyAndForwardedToOriginArgs(
                    cookies_config=aws.cloudfront.CachePolicyParametersInCacheKeyAndForwardedToOriginCookiesConfigArgs(
                        cookie_behavior="none"
                    ),
                    headers_config=aws.cloudfront.CachePolicyParametersInCacheKeyAndForwardedToOriginHeadersConfigArgs(
                        header_behavior="whitelist" if headers else "none",
                        headers=aws.cloudfront.CachePolicyParametersInCacheKeyAndForwardedToOriginHeadersConfigHeadersArgs(
                            items=headers
                        )
                        if headers
                        else None,
                    ),
                    query_strings_config=aws.cloudfront.CachePolicyParametersInCacheKeyAndForwardedToOriginQueryStringsConfigArgs(
                        query_string_behavior="all"
                    ),
                    enable_accept_encoding_gzip=True,
                    enable_accept_encoding_brotli=True,
                ),
                opts=self.child(),
            )

        self.static_policy = cache_policy(
            "static-assets", args.static_ttl_seconds, "Static assets (seed: 1 year)", None
        )
        self.api_policy = cache_policy(
            "api-responses", args.api_ttl_seconds, "Cacheable API responses (seed: 5 minutes)", API_CACHE_KEY_HEADERS
        )
        # User-specific content: caching disabled (all TTLs 0; AWS then forbids cache-key settings).
        self.no_cache_policy = aws.cloudfront.CachePolicy(
            self.cname("cache-user-specific"),
            name=f"{base}-user-specific-no-cache",
            comment="User-specific content: never cached (seed)",
            min_ttl=0,
            default_ttl=0,
            max_ttl=0,
            parameters_in_cache_key_and_forwarded_to_origin=aws.cloudfront.CachePolicyParametersInCacheKeyAndForwardedToOriginArgs(
                cookies_config=aws.cloudfront.CachePolicyParametersInCacheKeyAndForwardedToOriginCookiesConfigArgs(
                    cookie_behavior="none"
                ),
                headers_config=aws.cloudfront.CachePolicyParametersInCacheKeyAndForwardedToOriginHeadersConfigArgs(
                    header_behavior="none"
                ),
                query_strings_config=aws.cloudfront.CachePolicyParametersInCacheKeyAndForwardedToOriginQueryStringsConfigArgs(
                    query_string_behavior="none"
                ),
            ),
            opts=self.child(),
        )
        self.forward_all_policy = aws.cloudfront.OriginRequestPolicy(
            self.cname("origin-all-viewer"),
            name=f"{base}-all-viewer-except-host",
            comment="Everything the viewer sent except Host (the origin certificate names the origin)",
            cookies_config=aws.cloudfront.OriginRequestPolicyCookiesConfigArgs(cookie_behavior="all"),
            headers_config=aws.cloudfront.OriginRequestPolicyHeadersConfigArgs(
                header_behavior="allExcept",
                headers=aws.cloudfront.OriginRequestPolicyHeadersConfigHeadersArgs(items=["Host"]),
            ),
            query_strings_config=aws.cloudfront.OriginRequestPolicyQueryStringsConfigArgs(query_string_behavior="all"),
            opts=self.child(),
        )
        self.cached_origin_policy = aws.cloudfront.OriginRequestPolicy(
            self.cname("origin-cached"),
            name=f"{base}-cached-cors",
            comment="Cached paths: cache key + CORS request headers; no cookies",
            cookies_config=aws.cloudfront.OriginRequestPolicyCookiesConfigArgs(cookie_behavior="none"),
            headers_config=aws.cloudfront.OriginRequestPolicyHeadersConfigArgs(
                header_behavior="whitelist",
                headers=aws.cloudfront.OriginRequestPolicyHeadersConfigHeadersArgs(
                    items=["Origin", "Access-Control-Request-Method", "Access-Control-Request-Headers"]
                ),
            ),
            query_strings_config=aws.cloudfront.OriginRequestPolicyQueryStringsConfigArgs(query_string_behavior="all"),
            opts=self.child(),
        )
        self.headers_policy = aws.cloudfront.ResponseHeadersPolicy(
            self.cname("security-headers"),
            name=f"{base}-security-headers",
            comment="HSTS, nosniff, DENY framing, strict referrer",
            security_headers_config=aws.cloudfront.ResponseHeadersPolicySecurityHeadersConfigArgs(
                strict_transport_security=aws.cloudfront.ResponseHeadersPolicySecurityHeadersConfigStrictTransportSecurityArgs(
                    access_control_max_age_sec=args.hsts_max_age_seconds,
                    include_subdomains=True,
                    preload=True,
                    override=True,
                ),
                content_type_options=aws.cloudfront.ResponseHeadersPolicySecurityHeadersConfigContentTypeOptionsArgs(
                    override=True
                ),
                frame_options=aws.cloudfront.ResponseHeadersPolicySecurityHeadersConfigFrameOptionsArgs(
                    frame_option="DENY", override=True
                ),
                referrer_policy=aws.cloudfront.ResponseHeadersPolicySecurityHeadersConfigReferrerPolicyArgs(
                    referrer_policy="strict-origin-when-cross-origin", override=True
                ),
                xss_protection=aws.cloudfront.ResponseHeadersPolicySecurityHeadersConfigXssProtectionArgs(
                    protection=True, mode_block=True, override=True
                ),
            ),
            opts=self.child(),
        )

        def origin(origin_id: str, domain: str) -> aws.cloudfront.DistributionOriginArgs:
            return aws.cloudfront.DistributionOriginArgs(
                origin_id=origin_id,
                domain_name=domain,
                connection_attempts=ORIGIN_CONNECTION_ATTEMPTS,
                connection_timeout=ORIGIN_CONNECTION_TIMEOUT_SECONDS,
                custom_headers=[
                    aws.cloudfront.DistributionOriginCustomHeaderArgs(
                        name=args.origin_header_name, value=args.origin_header_value
                    )
                ]
                if args.origin_header_name
                else None,
                custom_origin_config=aws.cloudfront.DistributionOriginCustomOriginConfigArgs(
                    http_port=80,
                    https_port=443,
                    origin_protocol_policy="https-only",
                    origin_ssl_protocols=["TLSv1.2"],
                    origin_read_timeout=args.origin_read_timeout_seconds,
                    origin_keepalive_timeout=5,
                ),
            )

        def cached_behavior(
            pattern: str, policy: aws.cloudfront.CachePolicy
        ) -> aws.cloudfront.DistributionOrderedCacheBehaviorArgs:
            return aws.cloudfront.DistributionOrderedCacheBehaviorArgs(
                path_pattern=pattern,
                target_origin_id=GROUP_ID,  # read-only methods: may fail over to the other region
                allowed_methods=READ_METHODS,
                cached_methods=CACHED_METHODS,
                viewer_protocol_policy="redirect-to-https",
                compress=True,
                cache_policy_id=policy.id,
                origin_request_policy_id=self.cached_origin_policy.id,
                response_headers_policy_id=self.headers_policy.id,
            )

        behaviors = [cached_behavior(p, self.static_policy) for p in args.static_path_patterns]
        behaviors += [cached_behavior(p, self.api_policy) for p in args.api_path_patterns]
        self.distribution = aws.cloudfront.Distribution(
            self.cname("distribution"),
            enabled=True,
            comment=f"{base}: {args.domain_name}",
            aliases=[args.domain_name],
            http_version="http2and3",
            is_ipv6_enabled=True,
            price_class=args.price_class,
            web_acl_id=args.web_acl_arn,
            origins=[
                origin(ORIGIN_ID, args.origin_domain_name),
                origin(FAILOVER_ORIGIN_ID, args.failover_origin_domain_name),
            ],
            origin_groups=[
                aws.cloudfront.DistributionOriginGroupArgs(
                    origin_id=GROUP_ID,
                    failover_criteria=aws.cloudfront.DistributionOriginGroupFailoverCriteriaArgs(
                        status_codes=args.failover_status_codes
                    ),
                    members=[
                        aws.cloudfront.DistributionOriginGroupMemberArgs(origin_id=ORIGIN_ID),
                        aws.cloudfront.DistributionOriginGroupMemberArgs(origin_id=FAILOVER_ORIGIN_ID),
                    ],
                )
            ],
            # Everything else is user-specific / writes: never cached, all methods, straight to the routed origin
            # (Route 53 moves it between regions; origin groups only allow GET/HEAD/OPTIONS).
            default_cache_behavior=aws.cloudfront.DistributionDefaultCacheBehaviorArgs(
                target_origin_id=ORIGIN_ID,
                allowed_methods=ALL_METHODS,
                cached_methods=CACHED_METHODS,
                viewer_protocol_policy="redirect-to-https",
                compress=True,
                cache_policy_id=self.no_cache_policy.id,
                origin_request_policy_id=self.forward_all_policy.id,
                response_headers_policy_id=self.headers_policy.id,
            ),
            ordered_cache_behaviors=behaviors,
            restrictions=aws.cloudfront.DistributionRestrictionsArgs(
                geo_restriction=aws.cloudfront.DistributionRestrictionsGeoRestrictionArgs(
                    restriction_type=args.geo_restriction_type,
                    locations=args.geo_restriction_locations,
                )
            ),
            viewer_certificate=aws.cloudfront.DistributionViewerCertificateArgs(
                acm_certificate_arn=args.certificate_arn,
                ssl_support_method="sni-only",
                minimum_protocol_version=args.minimum_protocol_version,
            ),
            logging_config=aws.cloudfront.DistributionLoggingConfigArgs(
                bucket=self.log_bucket.bucket_domain_name,
                include_cookies=False,
                prefix="cloudfront/",
            ),
            tags=self.tagged(tags, f"{base}-cdn"),
            opts=self.child(depends_on=[self._ownership]),
        )
        self.alias_records = []
        if args.zone_id is not None:
            for record_type in ("A", "AAAA"):
                self.alias_records.append(
                    aws.route53.Record(
                        self.cname(f"alias-{record_type.lower()}"),
                        zone_id=args.zone_id,
                        name=args.domain_name,
                        type=record_type,
                        aliases=[
                            aws.route53.RecordAliasArgs(
                                name=self.distribution.domain_name,
                                zone_id=self.distribution.hosted_zone_id,
                                evaluate_target_health=False,
                            )
                        ],
                        opts=self.child(),
                    )
                )
        self.distribution_id: pulumi.Output[str] = self.distribution.id
        self.distribution_arn: pulumi.Output[str] = self.distribution.arn
        self.domain_name: pulumi.Output[str] = self.distribution.domain_name
        self.hosted_zone_id: pulumi.Output[str] = self.distribution.hosted_zone_id
        self.register_outputs(
            {
                "distribution_id": self.distribution_id,
                "distribution_arn": self.distribution_arn,
                "domain_name": self.domain_name,
                "hosted_zone_id": self.hosted_zone_id,
                "log_bucket": self.log_bucket.id,
            }
        )

    def _log_bucket(self, args: CdnArgs) -> aws.s3.Bucket:
        """SSE-KMS bucket for CloudFront standard logs (legacy logging needs ACLs: BucketOwnerPreferred)."""
        region = args.region
        bucket = aws.s3.Bucket(
            self.cname("logs"),
            region=region,
            bucket=pulumi.Output.concat(args.name_prefix, "-cdn-logs-", args.account_id),
            tags=self.tagged(args.tags, f"{args.name_prefix}-cdn-logs"),
            opts=self.child(),
        )
        # CloudFront (legacy standard logging) writes through the awslogsdelivery ACL grant it adds itself.
        self._ownership = secure_bucket_settings(
            self,
            "logs",
            region=region,
            bucket=bucket.id,
            expiration_days=args.log_retention_days,
            lifecycle_id="expire-cdn-logs",
            kms_key_arn=args.log_kms_key_arn,
            object_ownership="BucketOwnerPreferred",
            infrequent_access_after_days=30,
        )
        aws.s3.BucketPolicy(
            self.cname("logs-policy"),
            region=region,
            bucket=bucket.id,
            policy=bucket.arn.apply(lambda arn: json.dumps(bucket_policy(arn))),
            opts=self.child(depends_on=[self._ownership]),
        )
        return bucket
