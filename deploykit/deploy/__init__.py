"""`deploy STAGE`: pre-deploy checks, deploy, health checks, cache invalidation, summary."""
