"""auditor: what workplace monitoring tools keep about public-service agents, read offline."""

__version__ = "0.1.0"
