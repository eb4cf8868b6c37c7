"""The standard tags, defined in one place and applied to every taggable AWS resource."""

from __future__ import annotations

from infra.config.stack import StackConfig

# Cost-allocation tag keys (activate these as cost allocation tags in AWS Billing).
COST_ALLOCATION_KEYS = ("cost-center", "business-unit", "team", "owner")
# Keys every taggable resource must carry; the policy pack and tests check for these.
REQUIRED_TAG_KEYS = ("environment", "region", "role", "managed-by", *COST_ALLOCATION_KEYS)
# Resources that AWS Backup should protect carry this key; its value selects the backup plan tier.
BACKUP_TIER_KEY = "backup-tier"


def standard_tags(cfg: StackConfig) -> dict[str, str]:
    """The tags every taggable resource of a region stack carries."""
    tags = {
        "environment": cfg.environment,
        "region": cfg.region,
        "role": cfg.role,
        "managed-by": "pulumi",
        "project": "platform",
        "cost-center": cfg.tags.cost_center,
        "business-unit": cfg.tags.business_unit,
        "team": cfg.tags.team,
        "owner": cfg.tags.owner,
    }
    tags.update(cfg.tags.extra)
    return tags
