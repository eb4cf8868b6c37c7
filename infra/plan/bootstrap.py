"""Bootstrap targets: the resources a stack needs before its in-VPC runner can deploy the rest.

A new Region's first `up` cannot run on its own runner (it does not exist yet), and a GitHub-hosted runner cannot
reach the private Kubernetes API. So the bootstrap deploys, with `pulumi up --target`, only the deploy runner (and,
on a primary that creates it, the hosted zone whose name servers must be delegated before any certificate
validates), plus everything those depend on: parents, providers and dependencies. Pulumi refuses a targeted update
whose targets depend on an untargeted resource that does not exist yet (pulumi/pulumi#5869, #14531), so the set is
closed under all three. None of it is a Kubernetes object, so no API call goes to the cluster.

URNs are rebuilt from the offline plan's parent links the way the engine builds them: every ancestor's type but
the root stack's, joined by `$` (`urn:pulumi:<stack>::<project>::<grandparent>$<parent>$<type>::<name>`).
"""

from __future__ import annotations

from infra.plan.model import Plan, PlannedResource

ROOT_TYPE = "pulumi:pulumi:Stack"
# Component types whose whole subtree is bootstrapped: the runner, the network it runs in (its NAT routes are no
# dependency of the runner, but it cannot reach GitHub without them) and the primary's hosted zone.
BOOTSTRAP_COMPONENTS = ("platform:deploy:DeployRunner", "platform:network:Network", "platform:dns:HostedZone")


def _provider_urn(ref: str | None) -> str | None:
    # Provider references are `<urn>::<id>`; the id is unknown in a plan ("[unknown]" or a fake one).
    if not ref:
        return None
    parts = ref.split("::")
    return "::".join(parts[:4]) if len(parts) > 4 else ref


def _ancestors(resource: PlannedResource, by_urn: dict[str, PlannedResource]) -> list[PlannedResource]:
    chain = []
    parent = by_urn.get(resource.parent or "")
    while parent is not None and parent.type != ROOT_TYPE:
        chain.append(parent)
        parent = by_urn.get(parent.parent or "")
    return chain


def engine_urn(resource: PlannedResource, plan: Plan) -> str:
    """The URN the Pulumi engine gives `resource`: the type chain of every ancestor but the root stack.

    (The mock runtime builds URNs from the immediate parent only, and keeps the root stack's type.)
    """
    by_urn = plan.by_urn()
    chain = [a.type for a in reversed(_ancestors(resource, by_urn))] + [resource.type]
    return f"urn:pulumi:{plan.stack}::{plan.project}::{'$'.join(chain)}::{resource.name}"


def bootstrap_resources(plan: Plan) -> list[PlannedResource]:
    """The bootstrap components' subtrees and their closure (parents, providers, dependencies), in plan order."""
    by_urn = plan.by_urn()
    wanted = {
        r.urn
        for r in plan.resources
        if r.type in BOOTSTRAP_COMPONENTS or any(a.type in BOOTSTRAP_COMPONENTS for a in _ancestors(r, by_urn))
    }
    pending = list(wanted)
    while pending:
        resource = by_urn.get(pending.pop())
        if resource is None:
            continue
        for urn in (resource.parent, _provider_urn(resource.provider), *resource.dependencies):
            if urn and urn in by_urn and urn not in wanted and by_urn[urn].type != ROOT_TYPE:
                wanted.add(urn)
                pending.append(urn)
    return [r for r in plan.resources if r.urn in wanted]


def bootstrap_targets(plan: Plan) -> list[str]:
    """`pulumi up --target` values for the bootstrap of `plan`'s stack."""
    return [engine_urn(r, plan) for r in bootstrap_resources(plan)]
