"""Bootstrap of a stack whose in-VPC runner does not exist yet (docs/ci.md, "Bootstrap of a new Region").

    python .github/scripts/bootstrap_targets.py STACK [ROOT]   one `--target` URN per line: the network, the deploy
                                                                runner, the primary's hosted zone and what they
                                                                depend on (infra/plan/bootstrap.py); no Kubernetes
                                                                object is among them
    pulumi stack export | python .github/scripts/bootstrap_targets.py --name-servers
                                                                the hosted zone's name servers from the state (a
                                                                targeted update does not refresh stack outputs)
Exit 2 with a message on stderr for an unknown stack or an invalid stack file.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository's `infra` and `stacks` packages

ZONE = "aws:route53/zone:Zone"


def name_servers(export: dict) -> list[str]:
    resources = export.get("deployment", {}).get("resources", []) or []
    return [ns for r in resources if r.get("type") == ZONE for ns in (r.get("outputs", {}).get("nameServers") or [])]


def main(argv: list[str]) -> int:
    if argv[:1] == ["--name-servers"]:
        servers = name_servers(json.load(sys.stdin))
        print("\n".join(servers))
        return 0 if servers else 1
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    from infra.config.errors import ConfigError
    from infra.plan.bootstrap import bootstrap_resources, bootstrap_targets
    from infra.plan.runner import Planner

    stack, root = argv[0], Path(argv[1] if len(argv) > 1 else ".").resolve()
    try:
        planner = Planner(root)
    except ConfigError as exc:
        print(f"error: invalid stack configuration\n{exc}", file=sys.stderr)
        return 2
    if stack not in planner.fleet.stacks:
        print(f"error: no stack '{stack}'. Fix: use one of {sorted(planner.fleet.stacks)}.", file=sys.stderr)
        return 2
    plan = planner.plan(stack)
    kubernetes = [
        r.urn for r in bootstrap_resources(plan) if r.type.startswith(("kubernetes:", "pulumi:providers:kubernetes"))
    ]
    if kubernetes:  # the bootstrap runs where the cluster API is unreachable
        print(f"error: bootstrap targets include Kubernetes objects {kubernetes}", file=sys.stderr)
        return 1
    print("\n".join(bootstrap_targets(plan)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
