"""The AWS commercial Regions a stack may target (validated, so a typo fails before any API call)."""

from infra.config.strict import did_you_mean

AWS_REGIONS: frozenset[str] = frozenset(
    {
        "us-east-1", "us-east-2", "us-west-1", "us-west-2",
        "ca-central-1", "ca-west-1", "mx-central-1", "sa-east-1",
        "eu-west-1", "eu-west-2", "eu-west-3", "eu-central-1", "eu-central-2",
        "eu-north-1", "eu-south-1", "eu-south-2",
        "ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-south-1", "ap-south-2",
        "ap-southeast-1", "ap-southeast-2", "ap-southeast-3", "ap-southeast-4", "ap-southeast-5",
        "ap-southeast-7", "ap-east-1", "af-south-1", "me-south-1", "me-central-1", "il-central-1",
    }
)  # fmt: skip


def region_fix(value: str) -> str:
    """The fix for a Region code that is not one: the closest code, then every code."""
    return f"{did_you_mean(value, tuple(sorted(AWS_REGIONS)))}use an AWS Region code: {', '.join(sorted(AWS_REGIONS))}"
