"""The offline plan: run the real stack program under Pulumi's mock runtime and record what it registers."""
