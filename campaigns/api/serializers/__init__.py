"""Serializers: the shape and validation of each resource, one module per resource."""
