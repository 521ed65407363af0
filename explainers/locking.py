"""The one lock guarding every use of a loaded model's shared float64 reference module.

zennit registers hooks on the module while it runs, MC dropout switches dropout layers to training mode
and feature extraction adds a forward hook: none of these may interleave with another evaluation.
Re-entrant, so helpers holding it may call each other.
"""

from __future__ import annotations

import threading

MODULE_LOCK = threading.RLock()
