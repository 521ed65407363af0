"""The node's HTTP service: the aiohttp application (:mod:`~node.api.app`), thin handlers over
:mod:`~node.api.service`, the OpenAPI document, authentication, rate limits and the server with its timeouts.

May import :mod:`node.pipeline`, :mod:`node.store`, :mod:`node.verify`, :mod:`node.chains` and the shared leaves; of
:mod:`node.chains` only the adapter contract, except :mod:`~node.api.chain_targets`, the one factory that builds the
concrete adapters (Ethereum, Aleo, ICP) from the configuration.
"""
