"""deploy-kit: diagnose, repair and deploy SST + Next.js + DynamoDB applications."""

__version__ = "0.1.0"
