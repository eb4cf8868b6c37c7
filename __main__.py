"""Pulumi entry point (`pulumi up --stack <region>`): hands over to the stack composition in stacks/."""

from stacks import main

main()
