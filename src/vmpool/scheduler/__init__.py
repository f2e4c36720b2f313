"""APScheduler jobs. Each only triggers a service, which opens its own unit of work."""
