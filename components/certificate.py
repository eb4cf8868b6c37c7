"""An ACM certificate validated through Route 53 DNS records, ready to use once `certificate_arn` resolves."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_aws as aws
from pydantic import Field, field_validator, model_validator

from components.base import ComponentArgs, Input, PlatformComponent


class DnsValidatedCertificateArgs(ComponentArgs):
    """Args of `DnsValidatedCertificate`.

    `region` is where the certificate lives: the ALB's Region, or `us-east-1` for CloudFront (CloudFront only
    accepts certificates from us-east-1).
    """

    domain_name: str = Field(..., description="Primary name of the certificate, e.g. `api-us-east-1.example.com`.")
    subject_alternative_names: list[str] = Field(default_factory=list, description="Additional names (SANs).")
    zone_id: Input = Field(..., description="Route 53 hosted zone that holds the validation CNAMEs.")
    key_algorithm: str = Field("RSA_2048", description="ACM key algorithm (RSA_2048 is accepted by every client).")
    validation_ttl: int = Field(60, ge=1, description="TTL of the validation CNAMEs.")
    # ACM's validation CNAME for a name is the same for every certificate of that name in every Region of an
    # account (https://docs.aws.amazon.com/acm/latest/userguide/dns-validation.html: "the CNAME validation token
    # works for any AWS Region"). A name two stacks certify therefore has ONE record with ONE owner; the others
    # validate against it and never write it (a second writer's destroy would delete the record and silently
    # break the owner's renewal).
    external_validations: dict[str, Input] = Field(
        default_factory=dict,
        description="Names whose validation CNAME another stack owns -> that record's FQDN (no record here).",
    )

    @field_validator("subject_alternative_names")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("subject alternative names must be unique")
        return value

    @model_validator(mode="after")
    def _external_are_names(self) -> DnsValidatedCertificateArgs:
        unknown = sorted(set(self.external_validations) - set(self.names))
        if unknown:
            raise ValueError(f"external_validations names {unknown} are not names of this certificate")
        return self

    @property
    def names(self) -> list[str]:
        return [self.domain_name, *[n for n in self.subject_alternative_names if n != self.domain_name]]

    @property
    def owned_names(self) -> list[str]:
        """Names whose validation record this certificate creates."""
        return [n for n in self.names if n not in self.external_validations]


def _option_field(options: Any, domain: str, key: str) -> str:
    """One field of the validation option for `domain` (typed ACM outputs, or plain camelCase dicts)."""
    camel = key.split("_")[0] + "".join(p.title() for p in key.split("_")[1:])
    for option in options or []:
        if hasattr(option, "domain_name"):
            if option.domain_name == domain:
                return getattr(option, key)
        elif option.get("domainName") == domain:
            return option[camel]
    raise ValueError(f"ACM returned no DNS validation option for {domain}")


class DnsValidatedCertificate(PlatformComponent):
    """ACM certificate (DNS validation) + one Route 53 CNAME per name + the validation waiter.

    Outputs: `certificate_arn` (the validated certificate: resolves only after ACM issued it), `domain_name`,
    `validation_fqdns` ({name: FQDN of the validation record this certificate owns}).
    """

    def __init__(self, name: str, args: DnsValidatedCertificateArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("platform:dns:DnsValidatedCertificate", name, opts)
        self.certificate = aws.acm.Certificate(
            self.cname("cert"),
            region=args.region,
            domain_name=args.domain_name,
            subject_alternative_names=args.subject_alternative_names or None,
            validation_method="DNS",
            key_algorithm=args.key_algorithm,
            options=aws.acm.CertificateOptionsArgs(certificate_transparency_logging_preference="ENABLED"),
            tags=self.tagged(args.tags, args.domain_name),
            opts=self.child(),
        )
        options = self.certificate.domain_validation_options
        fqdns = list(args.external_validations.values())
        self.validation_fqdns: dict[str, pulumi.Output[str]] = {}
        # One record per owned name known up front (names are config, not outputs): no resources inside `apply`.
        # Logical names keep each name's index in `names`, so they do not move when a name becomes external.
        for index, domain in enumerate(args.names):
            if domain in args.external_validations:
                continue
            record = aws.route53.Record(
                self.cname(f"validation-{index}"),
                zone_id=args.zone_id,
                name=options.apply(lambda o, d=domain: _option_field(o, d, "resource_record_name")),
                type=options.apply(lambda o, d=domain: _option_field(o, d, "resource_record_type")),
                records=[options.apply(lambda o, d=domain: _option_field(o, d, "resource_record_value"))],
                ttl=args.validation_ttl,
                allow_overwrite=False,  # one owner per record: an existing record is a conflict to see, not adopt
                opts=self.child(),
            )
            fqdns.append(record.fqdn)
            self.validation_fqdns[domain] = record.fqdn
        self.validation = aws.acm.CertificateValidation(
            self.cname("validation"),
            region=args.region,
            certificate_arn=self.certificate.arn,
            validation_record_fqdns=fqdns,
            opts=self.child(),
        )
        self.certificate_arn: pulumi.Output[str] = self.validation.certificate_arn
        self.domain_name = pulumi.Output.from_input(args.domain_name)
        self.register_outputs({"certificate_arn": self.certificate_arn, "domain_name": self.domain_name})
