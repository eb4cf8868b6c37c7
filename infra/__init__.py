"""Platform tooling: config models, naming and tags, offline plan, DR programs and the CLI."""
