"""The node's HTTP service: the aiohttp application (:mod:`~node.api.app`), thin handlers over
:mod:`~node.api.service`, the OpenAPI document, authentication, rate limits and the server with its timeouts.

May import :mod:`node.pipeline`, :mod:`node.store`, :mod:`node.verify`, :mod:`node.chains` and the shared leaves.
"""
