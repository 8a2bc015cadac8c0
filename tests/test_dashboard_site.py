"""`pal dashboard --out DIR`: built from the demo's database, its numbers are those of the CLI's
`--json`; every page is well formed, accessible and self-contained; a folder pal did not write
is refused untouched."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from decimal import Decimal
from itertools import pairwise
from pathlib import Path

import pytest
from dashboard_pages import Page, parse
from demo_cli import pal_json, run_pal

from states.context import DEFAULT_ZONE
from states.labels import BENCHMARK_KIND_LABELS
from states.registry import PROCESSES, process
from workflow.dashboard.words import capital


@pytest.fixture(scope="module")
def built(demo: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The demo's dashboard, and what `pal dashboard` printed."""
    out = tmp_path_factory.mktemp("dashboard") / "site"
    done = run_pal(demo, "dashboard", "--out", str(out))
    assert done.returncode == 0, done.stderr
    return out, done.stdout


@pytest.fixture(scope="module")
def site(built: tuple[Path, str]) -> Path:
    return built[0]


@pytest.fixture(scope="module")
def overview(site: Path) -> Page:
    return parse(site / "index.html")


def _stage(state: str) -> str:
    return process("agreement").state_labels[state]


@pytest.mark.slow
def test_the_command_says_where_the_site_is_and_how_many_pages_it_has(
    demo: Path, built: tuple[Path, str]
) -> None:
    """One line names the folder, the page count (overview, list, agreements, processes) and
    the page to open."""
    out, said = built
    pages = 2 + len(pal_json(demo, "agreement", "list")) + len(PROCESSES)
    assert said == f"Dashboard written to {out}: {pages} pages. Open {out / 'index.html'}.\n"
    assert len(list(out.rglob("*.html"))) == pages


@pytest.mark.slow
def test_agreements_by_cohort_and_stage_are_those_of_agreement_list(
    demo: Path, overview: Page
) -> None:
    """Each cell of the overview's table counts the agreements `agreement list --json` has of
    that cohort in that stage, and the totals add up."""
    listed = pal_json(demo, "agreement", "list")
    expected = Counter((a["cohort"] or "no cohort", _stage(a["state"])) for a in listed)
    _, rows = next(t for t in overview.tables if t[0] == "Agreements by cohort and stage")
    stages = rows[0][1][1:-1]
    shown = {(cells[0], stage): int(n) for cells in overview.rows("cohort")
             for stage, n in zip(stages, cells[1:-1], strict=True) if n != "0"}  # fmt: skip
    assert shown == dict(expected)
    assert overview.by_id["total-agreements"] == str(len(listed))


@pytest.mark.slow
def test_deadlines_of_the_next_90_days_and_overdue_are_those_of_pal_deadlines(
    demo: Path, overview: Page
) -> None:
    """The overview lists `pal deadlines --within 90 --json`'s open rows as coming and its
    overdue rows as past due, each with its date and agreement."""
    rows = pal_json(demo, "deadlines", "--within", "90")
    coming = [(d["due"], f"Agreement {d['agreement']}") for d in rows if d["status"] == "open"]
    late = [(d["due"], f"Agreement {d['agreement']}") for d in rows if d["status"] == "overdue"]
    assert [(c[0], c[3]) for c in overview.rows("deadline")] == coming
    assert [(c[0], c[3]) for c in overview.rows("overdue-deadline")] == late
    assert late, "the demo leaves deadlines overdue"


@pytest.mark.slow
def test_overdue_action_items_are_those_of_action_list_overdue(demo: Path, overview: Page) -> None:
    """Every action item `pal action list --overdue --json` reports is on the overview."""
    items = pal_json(demo, "action", "list", "--overdue")
    assert [(c[0], c[1]) for c in overview.rows("overdue-action")] == [
        (i["due_on"], i["text"]) for i in items
    ]


@pytest.mark.slow
def test_mail_health_is_that_of_pal_status(demo: Path, overview: Page) -> None:
    """Messages waiting, failed, held and sent, and the service's instances, are `pal status
    --json`'s."""
    status = pal_json(demo, "status")
    outbox = status["outbox"]
    assert overview.by_id["mail-waiting"] == str(outbox["pending"] + outbox["retrying"])
    assert overview.by_id["mail-failed"] == str(outbox["failed"])
    assert overview.by_id["mail-held"] == str(outbox["unaddressed"])
    assert overview.by_id["mail-sent"] == str(outbox["sent"])
    assert [(c[0], c[1]) for c in overview.rows("instance")] == [
        (i["name"], i["state"]) for i in status["instances"]
    ]


@pytest.mark.slow
@pytest.mark.parametrize("agreement", [1, 2, 12, 13, 39])
def test_an_agreements_page_shows_what_agreement_show_does(
    demo: Path, site: Path, agreement: int
) -> None:
    """Stage, cohort, dates, schools, baselines, measurements, open action items and every
    audit row (recorded in the configured zone) are `pal agreement show ID --json`'s, and its
    fund requests those of `pal funds list --agreement ID --json`."""
    shown = pal_json(demo, "agreement", "show", str(agreement))
    page = parse(site / "agreements" / f"{agreement}.html")
    assert page.by_id["stage"] == _stage(shown["state"])
    assert page.by_id["cohort"] == (shown["cohort"] or "none")
    assert page.by_id["identified-on"] == shown["identified_on"]
    assert page.by_id["signed-on"] == (shown["signed_on"] or "not signed")
    schools = [s["name"] for s in shown["schools"]]
    assert [h for level, h in page.headings if level == 3][: len(schools)] == [
        f"{s['name']} ({s['code']})" for s in shown["schools"]
    ]
    benchmarks = [b for s in shown["schools"] for b in s["benchmarks"]]
    assert [(c[0], c[1]) for c in page.rows("benchmark")] == [
        (capital(b["label"] or BENCHMARK_KIND_LABELS[b["kind"]]), str(b["baseline"]))
        for b in benchmarks
    ]
    for cells, b in zip(page.rows("benchmark"), benchmarks, strict=True):
        assert all(str(m["value"]) in cells[5] for m in b["measurements"])
    assert [c[4] for c in page.rows("audit")] == [
        datetime.fromisoformat(h["recorded_at"])
        .astimezone(DEFAULT_ZONE)
        .strftime("%Y-%m-%d %H:%M %Z")
        for h in shown["history"]
    ]
    assert [c[1] for c in page.rows("action")] == [i["text"] for i in shown["open_action_items"]]
    requests = pal_json(demo, "funds", "list", "--agreement", str(agreement))
    assert [(c[0], c[1], c[3]) for c in page.rows("fund-request")] == [
        (str(r["id"]), r["year"], f"${Decimal(r['total']):,.2f}") for r in requests
    ]


@pytest.mark.slow
def test_every_page_is_well_formed_and_accessible(site: Path) -> None:
    """Each page has lang, a title, one h1, headings that skip no level, a scope on every th,
    a caption on every table, and no script."""
    for path in site.rglob("*.html"):
        page = parse(path)
        assert page.lang == "en", path
        assert len(page.titles) == 1 and page.titles[0], path
        levels = [level for level, _ in page.headings]
        assert levels.count(1) == 1 and levels[0] == 1, path
        assert all(b <= a + 1 for a, b in pairwise(levels)), path
        assert page.th_without_scope == 0, path
        assert page.tables_without_caption == 0, path
        assert page.scripts == 0, path


@pytest.mark.slow
def test_every_link_resolves_to_a_page_written_and_nothing_is_fetched(site: Path) -> None:
    """Every href and src is relative and names a file of the site (and an id on it, when it
    has a fragment): the site opens from disk, with nothing from the internet."""
    for path in site.rglob("*.html"):
        for link in parse(path).links:
            assert not link.startswith(("http:", "https:", "//")), (path, link)
            target, _, fragment = link.partition("#")
            found = (path.parent / target).resolve() if target else path
            assert found.is_file() and site.resolve() in found.parents, (path, link)
            if fragment and found.suffix == ".html":
                assert fragment in parse(found).ids, (path, link)


@pytest.mark.slow
def test_every_process_has_its_page_with_each_step_in_words(site: Path) -> None:
    """A process's page lists each of its steps by its label, between stages in words."""
    for name, definition in PROCESSES.items():
        page = parse(site / "processes" / f"{name}.html")
        steps = {cells[1].lower() for cells in page.rows("transition")}
        assert steps == {e.label.lower() for e in definition.events}
        stages = {cells[2] for cells in page.rows("transition")}
        assert stages <= set(definition.state_labels.values())


@pytest.mark.slow
def test_agreement_views_of_all_are_each_agreements_own_view(demo: Path) -> None:
    """Read in bulk, every agreement of the demo is what `agreement_view` of its id gives."""
    from config.settings import Settings
    from workflow.agreement_views import agreement_views
    from workflow.app import open_app
    from workflow.views import agreement_view

    with open_app(Settings(database_url=f"sqlite:///{demo / 'pal.db'}")) as app, app.read() as s:
        bulk = agreement_views(s)
        assert bulk == [agreement_view(s, view["id"]) for view in bulk]
        assert agreement_views(s, [2, 1, 9999], history=False) == [
            agreement_view(s, 1, history=False),
            agreement_view(s, 2, history=False),
        ]
        assert any(v["amendments"] for v in bulk) and any(v["review"] for v in bulk)
