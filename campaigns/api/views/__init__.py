"""API views, one module per resource; thin: permissions, then a selector or a service."""
