"""SMS text as the domain knows it: GSM 03.38 / UCS-2 encoding and segmentation.

Pure (no Django, no sockets). It decides previews, segment counts and cost, and the parts
a batch is cut into, so it belongs to the domain; ``smpp_transport`` decodes inbound
payloads with it too.
"""
