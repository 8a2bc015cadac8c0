"""Amounts of money: exact decimals of dollars and cents, never floats.

An amount is written in dollars with at most two decimal places (`125000`, `125000.5`,
`125000.00`); it is kept as a whole number of cents and shown as `$125,000.00`.
"""

from __future__ import annotations

import re
from decimal import Decimal

from states.errors import BadInput

CENT = Decimal("0.01")
# No single amount of a state program comes near it: anything larger is a typing mistake.
LARGEST = Decimal("100000000.00")
# Digits, or digits grouped by thousands as the amounts are shown (`125,000.00`), a dollar sign
# allowed.
_AMOUNT = re.compile(r"-?\$?(\d{1,3}(,\d{3})+|\d+)(\.\d*)?", re.ASCII)


def parse_dollars(raw: object, name: str = "amount") -> Decimal:
    """An amount in dollars as typed: refused in words when not a plain number of dollars and
    cents from 0 to $100,000,000.00."""
    text = str(raw).strip()
    if not _AMOUNT.fullmatch(text):
        raise BadInput(f"{name} must be dollars and cents like 125000.00, not {raw!r}")
    amount = Decimal(text.replace(",", "").replace("$", ""))
    if amount < 0:
        raise BadInput(f"{name} cannot be negative ({raw})")
    if amount != amount.quantize(CENT):
        raise BadInput(f"{name} has more than two decimal places ({raw}): give dollars and cents")
    if amount > LARGEST:
        raise BadInput(f"{name} {dollars(amount)} is more than {dollars(LARGEST)}")
    return amount.quantize(CENT)


def to_cents(amount: Decimal) -> int:
    return int(amount.quantize(CENT) * 100)


def from_cents(cents: int) -> Decimal:
    return (Decimal(cents) / 100).quantize(CENT)


def dollars(amount: Decimal) -> str:
    """In words people read: `$125,000.00` (`-$5.00` below zero)."""
    sign = "-" if amount < 0 else ""
    return f"{sign}${abs(amount).quantize(CENT):,.2f}"
