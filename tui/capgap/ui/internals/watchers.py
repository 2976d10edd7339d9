"""Forget a closed node's watchers on another object: Textual drops them only at the next change.

``node.watch(obj, attribute, callback)`` keeps ``(node, callback)`` in a list on ``obj`` and
prunes closed nodes only when that attribute next changes. A screen that watches the app's chart
window and is then closed stays alive through that list, with all its widgets, until the user
next changes the window (the soak found every visited screen outliving its close).
"""

from __future__ import annotations


def forget_watchers(obj: object, attribute: str, node: object) -> None:
    """Remove ``node``'s watchers of ``obj.attribute`` (Textual keeps them in ``__watchers``)."""
    watchers = getattr(obj, "__watchers", {}).get(attribute)
    if watchers:
        watchers[:] = [(owner, callback) for owner, callback in watchers if owner is not node]
