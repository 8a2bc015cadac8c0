from __future__ import annotations
from typing import Any
def enqueue_transition_notices(*args: Any) -> None:
    return None
