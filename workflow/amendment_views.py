"""Read models of the versions of an agreement's terms (`agreement show --amendment N`).

Version 0 is the plan as signed; amendment N is version N. A version is `drafting` (opened, not
yet signed by every required party), `in_force` (the latest to come into force), `superseded`
(a later one came into force) or, for version 0 before the plan is signed, `not_signed`.
"""

from __future__ import annotations

from collections import defaultdict
from types import SimpleNamespace
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from states.errors import NotFound
from storage import tables
from storage.records import records

A, S = tables.AMENDMENT, tables.AMENDMENT_SIGNATURE


def _versions(session: Session, agreement_id: int) -> list[Any]:
    query = select(A).where(A.c.agreement_id == agreement_id).order_by(A.c.number)
    return records(session, query)


def _signatures(session: Session, agreement_id: int) -> dict[int, dict[str, str]]:
    query = (
        select(S.c.amendment_id, S.c.party, S.c.signed_on)
        .join(A, A.c.id == S.c.amendment_id)
        .where(A.c.agreement_id == agreement_id)
        .order_by(S.c.id)
    )
    found: dict[int, dict[str, str]] = defaultdict(dict)
    for row in records(session, query):
        found[row.amendment_id][row.party] = row.signed_on.isoformat()
    return found


def _status(version: Any, latest_in_force: int) -> str:
    if version.in_force_on is None:
        return "drafting" if version.number > 0 else "not_signed"
    return "in_force" if version.number == latest_in_force else "superseded"


def amendment_list(session: Session, agreement_id: int) -> list[dict[str, Any]]:
    """The agreement's amendments (not version 0), oldest first, as `agreement show` lists them."""
    versions = _versions(session, agreement_id)
    if not versions:
        return []
    return listed(versions, _signatures(session, agreement_id))


def listed(versions: list[Any], signed: dict[int, dict[str, str]]) -> list[dict[str, Any]]:
    """The amendments among an agreement's `versions` (rows, by number) with their `signed`
    parties (by version id), as `agreement show` lists them."""
    latest = max((v.number for v in versions if v.in_force_on is not None), default=0)
    return [
        {
            "number": v.number,
            "status": _status(v, latest),
            "opened_on": v.opened_on.isoformat(),
            "in_force_on": v.in_force_on.isoformat() if v.in_force_on else None,
            "note": v.note,
            "signatures": signed.get(v.id, {}),
        }
        for v in versions
        if v.number > 0
    ]


def amendment_view(session: Session, agreement_id: int, number: int) -> dict[str, Any]:
    """Version `number` of the agreement's terms: its status and dates, its signatures (and the
    parties still to sign a draft), its consequences, its schools with their benchmarks, and
    what it changes from the version before it."""
    from config.rules import read_rules
    from states.amendment import changes_in_words
    from workflow.views import _agreement, _benchmarks_of, _covered_schools

    agreement = _agreement(session, agreement_id)
    versions = {v.number: v for v in _versions(session, agreement_id)}
    if number not in versions and not (number == 0 and not versions):
        known = ", ".join(str(n) for n in sorted(versions)) or "0"
        raise NotFound(f"agreement {agreement_id} has no amendment {number} (it has {known})")
    district = records(
        session, select(tables.DISTRICT).where(tables.DISTRICT.c.code == agreement.district_code)
    )[0]
    required = list(read_rules(agreement.rules_version).required_parties(bool(district.psa)))
    if versions:
        version = versions[number]
        signed = _signatures(session, agreement_id)
    else:  # never amended: version 0 is the agreement's own terms
        version = SimpleNamespace(
            id=None, number=0, opened_on=agreement.signed_on, opened_by=None, note=None,
            consequences=agreement.consequences, in_force_on=agreement.signed_on,
        )  # fmt: skip
        signed = {}
    if number == 0:  # the plan's own signatures
        signatures = {
            s.party: s.signed_on.isoformat()
            for s in records(session, select(tables.SIGNATURE).where(
                tables.SIGNATURE.c.agreement_id == agreement_id).order_by(tables.SIGNATURE.c.id))
        }  # fmt: skip
    else:
        signatures = signed.get(version.id, {})
    latest = max((v.number for v in versions.values() if v.in_force_on is not None), default=0)
    later = versions.get(number + 1)
    superseded_on = later.in_force_on if later is not None else None
    benchmarks = [_terms(b) for b in _benchmarks_of(session, agreement_id, number)]
    covered = _covered_schools(session, agreement_id, number)
    consequences = [c for c in version.consequences.split(",") if c]
    changes: list[str] = []
    if number > 0:
        before = versions[number - 1]
        changes = changes_in_words(
            tuple(_planned(b) for b in _benchmarks_of(session, agreement_id, number - 1)),
            tuple(_planned(b) for b in benchmarks),
            tuple(c for c in before.consequences.split(",") if c),
            tuple(consequences),
        )
    return {
        "agreement": agreement_id,
        "district": agreement.district_code,
        "district_name": district.name,
        "state": agreement.state,
        "amendment": number,
        "status": _status(version, latest) if versions else
        ("in_force" if agreement.signed_on else "not_signed"),
        "opened_on": version.opened_on.isoformat() if version.opened_on else None,
        "opened_by": version.opened_by,
        "note": version.note,
        "in_force_on": version.in_force_on.isoformat() if version.in_force_on else None,
        "superseded_on": superseded_on.isoformat() if superseded_on else None,
        "required_parties": required,
        "signatures": signatures,
        "missing_signatures": [p for p in required if p not in signatures],
        "consequences": consequences,
        "schools": [
            {
                "code": code,
                "name": name,
                "benchmarks": [b for b in benchmarks if b["school"] == code],
            }
            for code, name in covered.items()
        ],
        "changes": changes,
    }  # fmt: skip


def _terms(benchmark: dict[str, Any]) -> dict[str, Any]:
    """A benchmark's terms, without its measurements (they belong to no one version)."""
    return {k: v for k, v in benchmark.items() if k != "measurements"}


def _planned(b: dict[str, Any]) -> Any:
    return SimpleNamespace(id=b["id"], school=b["school"], kind=b["kind"], label=b["label"],
                           baseline=b["baseline"], target_18=b["target_18"],
                           target_36=b["target_36"])  # fmt: skip
