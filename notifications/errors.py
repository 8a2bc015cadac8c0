"""Delivery errors: the dispatcher retries a transient one later and gives up on a permanent one."""

from __future__ import annotations

from states.errors import PalError


class DeliveryError(PalError):
    """A message could not be handed to the mail system; the text is safe to store and show."""


class TransientDeliveryError(DeliveryError):
    """Try again later: a 4xx reply, a refused or dropped connection, a timeout."""


class DeliveryUnavailable(TransientDeliveryError):
    """The mail system itself is out of reach (connect, TLS or AUTH failed), not this message.

    The dispatcher stops trying further messages in the same pass: they would fail the same way.
    """


class PermanentDeliveryError(DeliveryError):
    """The server refused this message for good: a 5xx reply, an unknown recipient."""
