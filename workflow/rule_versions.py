"""Read models of the rule versions: which there are, what each changes, who follows each."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session

from config.rules import flattened, parent_of, read_rules, versions
from storage import tables


def list_versions(session: Session) -> list[dict[str, Any]]:
    """Each rule version: its description, what it extends, how many agreements follow it."""
    used = dict(
        session.execute(
            select(tables.AGREEMENT.c.rules_version, func.count()).group_by(
                tables.AGREEMENT.c.rules_version
            )
        ).all()
    )
    return [
        {
            "version": version,
            "description": read_rules(version).description,
            "extends": parent_of(version),
            "agreements": int(used.get(version, 0)),
        }
        for version in versions()
    ]


def version_view(version: str) -> dict[str, Any]:
    """What `version` changes in the version it extends (each key with both values), or, for
    a base version, every value it sets."""
    own = flattened(version)
    parent = parent_of(version)
    view: dict[str, Any] = {
        "version": version,
        "description": read_rules(version).description,
        "extends": parent,
    }
    if parent is None:
        view["values"] = [{"key": key, "value": value} for key, value in own.items()]
        return view
    base = flattened(parent)
    view["differences"] = [
        {"key": key, "extended": base.get(key), "value": own.get(key)}
        for key in [*base, *(key for key in own if key not in base)]
        if key not in ("version", "description") and base.get(key) != own.get(key)
    ]
    return view


def versions_in_use(session: Session) -> list[tuple[str, int]]:
    """Each rule version agreements follow, with how many, by version."""
    rows = session.execute(
        select(tables.AGREEMENT.c.rules_version, func.count())
        .group_by(tables.AGREEMENT.c.rules_version)
        .order_by(tables.AGREEMENT.c.rules_version)
    ).all()
    return [(str(version), int(count)) for version, count in rows]
