"""The REST API (/api/v1/): thin DRF views over the domain's services and selectors.

Serializers shape and validate input; views check permissions and call
``campaigns.services`` (writes) or ``campaigns.selectors`` (reads). Every error leaves as
the one JSON envelope of :mod:`campaigns.api.errors`.
"""
