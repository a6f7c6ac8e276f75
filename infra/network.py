"""The network the functions and workers run in, and the optional managed Redis.

- `vpc` context on: a VPC over two zones (public subnets with one NAT gateway, private subnets
  for the functions, the workers and Redis; gateway endpoints for S3 and DynamoDB, which are
  free and keep that traffic off the NAT), and ElastiCache for Valkey 9, whose Search
  (tag, numeric and full-text indexes, not only vectors) and JSON are what the Redis checkpointer
  needs. Only the apps' security group reaches it, over TLS.
- `vpc` off with Fargate workers: the tasks need a VPC all the same; a public-subnet-only one
  (no NAT gateway: each task gets a public address and reaches AWS and Redis directly).
- `vpc` off with the orchestrator Lambda: no VPC at all; Redis is the `RedisUrl` parameter.
"""

from __future__ import annotations

from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_elasticache as elasticache
from constructs import Construct

from infra.config import StackConfig

REDIS_PORT = 6379
VALKEY_VERSION = "9.0"  # Search beyond vectors (tag, numeric, full text) from Valkey 9.0 on


class Network(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, config: StackConfig, *, private: bool
    ) -> None:
        super().__init__(scope, construct_id)
        self.private = private
        public = ec2.SubnetConfiguration(
            name="public", subnet_type=ec2.SubnetType.PUBLIC, cidr_mask=24
        )
        if private:
            self.vpc = ec2.Vpc(
                self,
                "Vpc",
                max_azs=2,
                nat_gateways=1,
                subnet_configuration=[
                    public,
                    ec2.SubnetConfiguration(
                        name="private",
                        subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS,
                        cidr_mask=22,
                    ),
                ],
                gateway_endpoints={
                    "S3": ec2.GatewayVpcEndpointOptions(
                        service=ec2.GatewayVpcEndpointAwsService.S3
                    ),
                    "DynamoDB": ec2.GatewayVpcEndpointOptions(
                        service=ec2.GatewayVpcEndpointAwsService.DYNAMODB
                    ),
                },
            )
            self.subnets = ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS)
        else:
            self.vpc = ec2.Vpc(
                self, "Vpc", max_azs=2, nat_gateways=0, subnet_configuration=[public]
            )
            self.subnets = ec2.SubnetSelection(subnet_type=ec2.SubnetType.PUBLIC)
        self.apps = ec2.SecurityGroup(
            self,
            "Apps",
            vpc=self.vpc,
            description=f"wam {config.env_name}: the functions and workers (outbound only)",
            allow_all_outbound=True,
        )

    @property
    def assign_public_ip(self) -> bool:
        """Tasks in public subnets need their own address to reach anything (no NAT)."""
        return not self.private


class ManagedRedis(Construct):
    """ElastiCache for Valkey (JSON and Search) in the private subnets: one node in dev, a
    primary and a replica in another zone with automatic failover in prod. Encrypted at rest and
    in transit; reachable only from the apps' security group."""

    def __init__(
        self, scope: Construct, construct_id: str, config: StackConfig, network: Network
    ) -> None:
        super().__init__(scope, construct_id)
        self.security_group = ec2.SecurityGroup(
            self,
            "Access",
            vpc=network.vpc,
            description=f"wam {config.env_name}: Redis, from the functions and workers only",
            allow_all_outbound=False,
        )
        self.security_group.add_ingress_rule(
            network.apps, ec2.Port.tcp(REDIS_PORT), "the functions and workers"
        )
        subnets = elasticache.CfnSubnetGroup(
            self,
            "Subnets",
            description=f"wam {config.env_name} Redis",
            subnet_ids=network.vpc.select_subnets(
                subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS
            ).subnet_ids,
        )
        self.group = elasticache.CfnReplicationGroup(
            self,
            "Valkey",
            replication_group_description=f"wam {config.env_name}: sessions, replies, indexes",
            engine="valkey",
            engine_version=VALKEY_VERSION,
            cache_node_type=config.redis_node_type,
            num_cache_clusters=2 if config.prod else 1,
            automatic_failover_enabled=config.prod,
            multi_az_enabled=config.prod,
            transit_encryption_enabled=True,
            at_rest_encryption_enabled=True,
            port=REDIS_PORT,
            cache_subnet_group_name=subnets.ref,
            security_group_ids=[self.security_group.security_group_id],
            snapshot_retention_limit=7 if config.prod else 1,
        )

    @property
    def url(self) -> str:
        address = self.group.attr_primary_end_point_address
        return f"rediss://{address}:{self.group.attr_primary_end_point_port}/0"
