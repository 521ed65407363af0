"""The zkxai node (aiohttp service, pipeline, persistence, chain adapters) and the ``zkxai`` CLI.

Importing ``node`` must stay light: the verifier CLI runs without torch, so heavy modules are
imported only by the commands that need them.
"""
