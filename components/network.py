"""Regional VPC over several AZs: public / private / isolated database subnets, NAT, flow logs, endpoints."""

from __future__ import annotations

import ipaddress
import json
from typing import Literal

import pulumi
import pulumi_aws as aws
from pydantic import Field, model_validator

from components.base import ComponentArgs, Input, PlatformComponent
from components.kms import KmsKey, KmsKeyArgs

TIERS = ("private", "public", "database")


class NetworkArgs(ComponentArgs):
    """Args of `Network`. Defaults are the secure, highly available choice."""

    cidr: str = Field(..., description="VPC IPv4 CIDR.")
    availability_zones: list[str] = Field(..., min_length=2, description="AZ names, one subnet per tier each.")
    public_prefix: int = Field(22, description="Prefix length of each public subnet.")
    private_prefix: int = Field(19, description="Prefix length of each private subnet.")
    database_prefix: int = Field(22, description="Prefix length of each isolated database subnet.")
    nat_gateways: Literal["perAz", "single"] = Field("perAz", description="One NAT per AZ (HA) or one in total.")
    flow_log_retention_days: int = Field(365, description="Flow-log retention in CloudWatch Logs.")
    flow_log_traffic_type: Literal["ALL", "ACCEPT", "REJECT"] = Field("ALL", description="Traffic to log.")
    interface_endpoints: list[str] = Field(default_factory=list, description="Interface endpoint suffixes.")
    gateway_endpoints: list[str] = Field(default_factory=lambda: ["s3"], description="Gateway endpoints.")
    account_id: Input = Field(..., description="AWS account id, for the flow-log key policy.")
    cluster_tag: str | None = Field(
        None, description="EKS cluster name for `kubernetes.io/cluster/<name>` subnet discovery tags."
    )

    @model_validator(mode="after")
    def _fits(self) -> NetworkArgs:
        carve_subnets(self)  # raises ValueError when the tiers do not fit the VPC
        return self


def carve_subnets(args: NetworkArgs) -> dict[str, list[str]]:
    """Subnet CIDRs per tier, largest tier first so every block stays aligned: `{tier: [cidr per AZ]}`."""
    vpc = ipaddress.IPv4Network(args.cidr)
    prefixes = {"private": args.private_prefix, "public": args.public_prefix, "database": args.database_prefix}
    cursor = int(vpc.network_address)
    out: dict[str, list[str]] = {}
    for tier in sorted(TIERS, key=lambda t: prefixes[t]):
        size = 2 ** (32 - prefixes[tier])
        blocks = []
        for _ in args.availability_zones:
            cursor = -(-cursor // size) * size  # align up to the block size
            block = ipaddress.IPv4Network((cursor, prefixes[tier]))
            if not block.subnet_of(vpc):
                raise ValueError(f"{tier} subnets /{prefixes[tier]} do not fit in {args.cidr}")
            blocks.append(str(block))
            cursor += size
        out[tier] = blocks
    return out


class Network(PlatformComponent):
    """A VPC with three subnet tiers per AZ, NAT egress, encrypted flow logs and private AWS endpoints.

    Outputs: `vpc_id`, `vpc_cidr`, `public_subnet_ids`, `private_subnet_ids`, `database_subnet_ids`,
    `private_route_table_ids`, `endpoint_security_group_id`, `flow_log_group_name`.
    """

    def __init__(self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("platform:network:Network", name, opts)
        region, base, tags = args.region, args.name_prefix, args.tags
        cidrs = carve_subnets(args)

        self.vpc = aws.ec2.Vpc(
            self.cname("vpc"),
            region=region,
            cidr_block=args.cidr,
            enable_dns_hostnames=True,
            enable_dns_support=True,
            tags=self.tagged(tags, f"{base}-vpc"),
            opts=self.child(),
        )
        # Adopting the default SG with no rules removes AWS's allow-all-within-SG default (FSBP EC2.2).
        aws.ec2.DefaultSecurityGroup(
            self.cname("default-sg"),
            region=region,
            vpc_id=self.vpc.id,
            tags=self.tagged(tags, f"{base}-default-sg-closed"),
            opts=self.child(),
        )
        igw = aws.ec2.InternetGateway(
            self.cname("igw"),
            region=region,
            vpc_id=self.vpc.id,
            tags=self.tagged(tags, f"{base}-igw"),
            opts=self.child(),
        )

        subnets: dict[str, list[aws.ec2.Subnet]] = {tier: [] for tier in TIERS}
        for tier in TIERS:
            for index, zone in enumerate(args.availability_zones):
                extra = _discovery_tags(tier, args.cluster_tag)
                subnets[tier].append(
                    aws.ec2.Subnet(
                        self.cname(f"{tier}-{zone[-1]}"),
                        region=region,
                        vpc_id=self.vpc.id,
                        cidr_block=cidrs[tier][index],
                        availability_zone=zone,
                        map_public_ip_on_launch=False,  # nothing gets a public IP by accident (FSBP EC2.15)
                        tags=self.tagged(tags, f"{base}-{tier}-{zone[-1]}", tier=tier, **extra),
                        opts=self.child(),
                    )
                )

        public_rt = aws.ec2.RouteTable(
            self.cname("public-rt"),
            region=region,
            vpc_id=self.vpc.id,
            tags=self.tagged(tags, f"{base}-public-rt"),
            opts=self.child(),
        )
        aws.ec2.Route(
            self.cname("public-default"),
            region=region,
            route_table_id=public_rt.id,
            destination_cidr_block="0.0.0.0/0",
            gateway_id=igw.id,
            opts=self.child(),
        )
        for subnet, zone in zip(subnets["public"], args.availability_zones, strict=True):
            aws.ec2.RouteTableAssociation(
                self.cname(f"public-{zone[-1]}-rta"),
                region=region,
                subnet_id=subnet.id,
                route_table_id=public_rt.id,
                opts=self.child(),
            )

        nat_zones = args.availability_zones if args.nat_gateways == "perAz" else args.availability_zones[:1]
        nats = []
        for subnet, zone in zip(subnets["public"], nat_zones, strict=False):
            eip = aws.ec2.Eip(
                self.cname(f"nat-{zone[-1]}-eip"),
                region=region,
                domain="vpc",
                tags=self.tagged(tags, f"{base}-nat-{zone[-1]}"),
                opts=self.child(),
            )
            nats.append(
                aws.ec2.NatGateway(
                    self.cname(f"nat-{zone[-1]}"),
                    region=region,
                    allocation_id=eip.allocation_id,
                    subnet_id=subnet.id,
                    tags=self.tagged(tags, f"{base}-nat-{zone[-1]}"),
                    opts=self.child(depends_on=[igw]),
                )
            )

        private_rts = []
        for index, (subnet, zone) in enumerate(zip(subnets["private"], args.availability_zones, strict=True)):
            rt = aws.ec2.RouteTable(
                self.cname(f"private-{zone[-1]}-rt"),
                region=region,
                vpc_id=self.vpc.id,
                tags=self.tagged(tags, f"{base}-private-{zone[-1]}-rt"),
                opts=self.child(),
            )
            aws.ec2.Route(
                self.cname(f"private-{zone[-1]}-default"),
                region=region,
                route_table_id=rt.id,
                destination_cidr_block="0.0.0.0/0",
                nat_gateway_id=nats[min(index, len(nats) - 1)].id,
                opts=self.child(),
            )
            aws.ec2.RouteTableAssociation(
                self.cname(f"private-{zone[-1]}-rta"),
                region=region,
                subnet_id=subnet.id,
                route_table_id=rt.id,
                opts=self.child(),
            )
            private_rts.append(rt)

        # Database subnets are isolated: their route table has only the local route (and gateway endpoints).
        database_rt = aws.ec2.RouteTable(
            self.cname("database-rt"),
            region=region,
            vpc_id=self.vpc.id,
            tags=self.tagged(tags, f"{base}-database-rt"),
            opts=self.child(),
        )
        for subnet, zone in zip(subnets["database"], args.availability_zones, strict=True):
            aws.ec2.RouteTableAssociation(
                self.cname(f"database-{zone[-1]}-rta"),
                region=region,
                subnet_id=subnet.id,
                route_table_id=database_rt.id,
                opts=self.child(),
            )

        self._flow_logs(args)
        self.endpoint_security_group = self._endpoints(args, [*private_rts, database_rt], subnets["private"])

        self.vpc_id = self.vpc.id
        self.vpc_cidr = self.vpc.cidr_block
        self.availability_zones = list(args.availability_zones)
        self.public_subnet_ids = pulumi.Output.all(*[s.id for s in subnets["public"]])
        self.private_subnet_ids = pulumi.Output.all(*[s.id for s in subnets["private"]])
        self.database_subnet_ids = pulumi.Output.all(*[s.id for s in subnets["database"]])
        self.private_route_table_ids = pulumi.Output.all(*[rt.id for rt in private_rts])
        self.endpoint_security_group_id = self.endpoint_security_group.id
        self.register_outputs(
            {
                "vpcId": self.vpc_id,
                "vpcCidr": self.vpc_cidr,
                "publicSubnetIds": self.public_subnet_ids,
                "privateSubnetIds": self.private_subnet_ids,
                "databaseSubnetIds": self.database_subnet_ids,
                "flowLogGroupName": self.flow_log_group.name,
            }
        )

    def _flow_logs(self, args: NetworkArgs) -> None:
        region, base = args.region, args.name_prefix
        key = KmsKey(
            self.cname("flow-logs-key"),
            KmsKeyArgs(
                region=region,
                name_prefix=base,
                tags=args.tags,
                purpose="flow-logs",
                account_id=args.account_id,
                service_principals=[f"logs.{region}.amazonaws.com"],
            ),
            opts=self.child(),
        )
        self.flow_log_group = aws.cloudwatch.LogGroup(
            self.cname("flow-logs"),
            region=region,
            name=f"/platform/{base}/vpc-flow-logs",
            retention_in_days=args.flow_log_retention_days,
            kms_key_id=key.arn,
            tags=self.tagged(args.tags, f"{base}-vpc-flow-logs"),
            opts=self.child(),
        )
        role = aws.iam.Role(
            self.cname("flow-logs-role"),
            assume_role_policy=pulumi.Output.from_input(args.account_id).apply(_flow_logs_trust),
            tags=self.tagged(args.tags, f"{base}-flow-logs-role"),
            opts=self.child(),
        )
        aws.iam.RolePolicy(
            self.cname("flow-logs-policy"),
            role=role.id,
            policy=self.flow_log_group.arn.apply(
                lambda arn: json.dumps(
                    {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Action": [
                                    "logs:CreateLogStream",
                                    "logs:PutLogEvents",
                                    "logs:DescribeLogGroups",
                                    "logs:DescribeLogStreams",
                                ],
                                "Resource": [arn, f"{arn}:*"],
                            }
                        ],
                    }
                )
            ),
            opts=self.child(),
        )
        aws.ec2.FlowLog(
            self.cname("flow-log"),
            region=region,
            vpc_id=self.vpc.id,
            traffic_type=args.flow_log_traffic_type,
            log_destination_type="cloud-watch-logs",
            log_destination=self.flow_log_group.arn,
            iam_role_arn=role.arn,
            max_aggregation_interval=60,
            tags=self.tagged(args.tags, f"{base}-flow-log"),
            opts=self.child(),
        )

    def _endpoints(self, args: NetworkArgs, route_tables: list, private_subnets: list) -> aws.ec2.SecurityGroup:
        region, base = args.region, args.name_prefix
        sg = aws.ec2.SecurityGroup(
            self.cname("endpoints-sg"),
            region=region,
            vpc_id=self.vpc.id,
            description="HTTPS from inside the VPC to interface endpoints",
            ingress=[
                aws.ec2.SecurityGroupIngressArgs(
                    protocol="tcp", from_port=443, to_port=443, cidr_blocks=[args.cidr], description="VPC to endpoints"
                )
            ],
            tags=self.tagged(args.tags, f"{base}-endpoints-sg"),
            opts=self.child(),
        )
        for service in args.gateway_endpoints:
            aws.ec2.VpcEndpoint(
                self.cname(f"{service}-gateway-endpoint"),
                region=region,
                vpc_id=self.vpc.id,
                service_name=f"com.amazonaws.{region}.{service}",
                vpc_endpoint_type="Gateway",
                route_table_ids=[rt.id for rt in route_tables],
                tags=self.tagged(args.tags, f"{base}-{service}-endpoint"),
                opts=self.child(),
            )
        for service in args.interface_endpoints:
            aws.ec2.VpcEndpoint(
                self.cname(f"{service.replace('.', '-')}-endpoint"),
                region=region,
                vpc_id=self.vpc.id,
                service_name=f"com.amazonaws.{region}.{service}",
                vpc_endpoint_type="Interface",
                private_dns_enabled=True,
                subnet_ids=[s.id for s in private_subnets],
                security_group_ids=[sg.id],
                tags=self.tagged(args.tags, f"{base}-{service}-endpoint"),
                opts=self.child(),
            )
        return sg


def _discovery_tags(tier: str, cluster: str | None) -> dict[str, str]:
    """Tags the AWS Load Balancer Controller and EKS use to find subnets."""
    tags: dict[str, str] = {}
    if tier == "public":
        tags["kubernetes.io/role/elb"] = "1"
    elif tier == "private":
        tags["kubernetes.io/role/internal-elb"] = "1"
    if cluster and tier in ("public", "private"):
        tags[f"kubernetes.io/cluster/{cluster}"] = "shared"
    return tags


def _flow_logs_trust(account: str) -> str:
    """Trust policy for the flow-log role, scoped to this account (confused-deputy guard)."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "vpc-flow-logs.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                    "Condition": {"StringEquals": {"aws:SourceAccount": account}},
                }
            ],
        }
    )
