"""Rendering a notice once for all its recipients gives what rendering it per recipient gives.

`Renderer.render_once(notice, values).to(person)` must equal
`Renderer.render(notice, {**values, "recipient": person})` for any template: same subject, text
and HTML, or the same exception. The property test writes random templates into a `DictLoader`
(expressions, filters, conditionals, loops and includes over the recipient, standalone or
through `extends`) and compares the two for random recipients.
"""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from jinja2 import DictLoader

from notifications.render import Renderer, notice_names, render, render_once

# --- the property ------------------------------------------------------------------------------

# Expressions over the recipient: a start and up to three transformations of it.
STARTS = [
    "recipient.name",
    "recipient.email",
    "recipient['name']",
    "recipient|attr('name')",
    "recipient.name ~ ' & ' ~ district",
    "(recipient.name or 'friend')",
    "recipient",
]
TRANSFORMS = [
    "|title",
    "|upper",
    "|lower",
    "|capitalize",
    "|trim",
    "|e",
    "|safe",
    "|string",
    "|length",
    "|wordcount",
    "|string|reverse",
    "|replace(' ', '_')",
    "|replace('e', '<&>')",
    "|truncate(6, True, '…', 0)",
    "|center(11)",
    "|default('nobody')",
    "|list|join('.')",
    "|urlencode",
    "|striptags",
    ".split()[0]",
    ".split()|first",
    ".split()|last",
    ".strip()",
    "[:3]",
    "[1:]",
    "[::-1]",
    "[0]",
]


def _apply(start: str, transforms: list[str]) -> str:
    for transform in transforms:
        start = f"({start}){transform}"
    return start


expressions = st.builds(
    _apply, st.sampled_from(STARTS), st.lists(st.sampled_from(TRANSFORMS), max_size=3)
)
conditions = expressions | st.sampled_from(
    [
        "recipient.name|length > 5",
        "'a' in recipient.name",
        "recipient.name.startswith('D')",
        "recipient.email is defined",
        "recipient.name == district",
    ]
)
shared_conditions = st.sampled_from(["flag", "not flag", "district|length > 3", "true"])
texts = st.sampled_from(["", "Dear ", ",\n", "  x  ", "<p>", "a & b", "\t", "\n\n", "=", "é"])

# Constructs after which the template is rendered per recipient (the fast path gives up).
UNSPLITTABLE = [
    "{% set n = recipient.name %}{{ n|title }}",
    "{% macro hi(p) %}Hi {{ p.name }}{% endmacro %}{{ hi(recipient) }}",
    "{% autoescape false %}{{ recipient.name }}{% endautoescape %}",
]


def _statements(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.tuples(shared_conditions, children, children).map(
            # Looked into: only the holes inside are rendered per recipient.
            lambda t: f"{{% if {t[0]} %}}{t[1]}{{% else %}}{t[2]}{{% endif %}}"
        ),
        st.lists(children, min_size=2, max_size=3).map("".join),
    )


leaves = st.one_of(
    texts,
    expressions.map(lambda e: f"{{{{ {e} }}}}"),
    st.tuples(conditions, texts, expressions).map(
        lambda t: (
            f"{{% if {t[0]} %}}{t[1]}{{% elif flag %}}F{{% else %}}{{{{ {t[2]} }}}}{{% endif %}}"
        )
    ),
    st.tuples(shared_conditions, conditions).map(
        lambda t: f"{{% if {t[0]} %}}s{{% elif {t[1]} %}}r{{% endif %}}"
    ),
    expressions.map(lambda e: f"{{{{ 'yes' if {e} else district }}}}"),
    expressions.map(lambda e: f"{{% for w in ({e})|string|list %}}[{{{{ w }}}}]{{% endfor %}}"),
    st.just("{% for w in recipient.name.split() %}{{ loop.index }}={{ w|upper }} {% endfor %}"),
    st.just("{% with n = recipient.name %}{{ n|title }}{% endwith %}"),
    st.just("{% filter upper %}{{ recipient.name }} of {{ district }}{% endfilter %}"),
    st.just("{% include 'part.txt' %}"),
    st.just("Dear {{ recipient.name }},"),
    st.just("<{{ recipient.email }}>"),
    st.just("{{ district }}"),
    st.just("{% if flag %}{{ district|upper }}{% endif %}"),
)
bodies = st.recursive(leaves, _statements, max_leaves=6)

unicode_names = st.text(
    st.characters(codec="utf-8", exclude_categories=["Cs"]) | st.sampled_from("<>&\"' \t\n\x1f"),
    max_size=20,
)
names = unicode_names | st.sampled_from(
    [
        "",
        " ",
        "\t\n",
        "Dana Director",
        "dana  o'brien-smith",
        "\x1fRECIPIENT\x1f",
        "\x1fRecipient\x1f",
        "RECIPIENT",
        "\x02pal-hole-\x03",
        '<b>"Lake" & Co</b>',
        "Ǆemal Ünal",
        "ß",
    ]
)
emails = st.sampled_from(["dana@lake.example", "", "<x@y>", None])


@st.composite
def people(draw: st.DrawFn) -> Any:
    name = draw(names)
    email = draw(emails)
    kind = draw(st.sampled_from(["namespace", "dict"]))
    fields = {"name": name} if email is None else {"name": name, "email": email}
    return SimpleNamespace(**fields) if kind == "namespace" else fields


@st.composite
def notices(draw: st.DrawFn) -> tuple[dict[str, str], bool]:
    """The templates of notice `n` (and what it uses), and whether it should be split."""
    subject, text, html, greeting = draw(bodies), draw(bodies), draw(bodies), draw(bodies)
    unsplittable = draw(st.sampled_from([None, *UNSPLITTABLE]))
    if unsplittable is not None:
        text += unsplittable
    # What `{% include 'part.txt' %}` renders (which includes nothing itself).
    templates = {"part.txt": draw(bodies).replace("{% include 'part.txt' %}", "")}
    if draw(st.booleans()):
        inherited = draw(bodies)
        if draw(st.booleans()):
            text = "{{ super() }}" + text
            unsplittable = "super()"
        templates["_base.txt"] = (
            "{% block subject %}{% endblock %}"
            f"{greeting}{{% block body %}}{inherited}{{% endblock %}}\n"
        )
        templates["_base.html"] = f"<p>{greeting}</p>{{% block body %}}{inherited}{{% endblock %}}"
        blocks = f"{{% block subject %}}{subject}{{% endblock %}}"
        blocks += f"{{% block body %}}{text}{{% endblock %}}"
        templates["n.txt"] = "{% extends '_base.txt' %}" + blocks
        # The HTML body is the base's own block, or the notice's.
        html_blocks = f"{{% block body %}}{html}{{% endblock %}}" if draw(st.booleans()) else ""
        templates["n.html"] = "{% extends '_base.html' %}" + html_blocks
    else:
        templates["n.txt"] = f"{{% block subject %}}{subject}{{% endblock %}}{greeting}{text}"
        templates["n.html"] = greeting + html
    return templates, unsplittable is None


def outcome(render: Any) -> tuple[str, Any]:
    try:
        return "rendered", render()
    except Exception as error:  # the same exception, or the same result
        return "raised", (type(error), str(error))


@settings(max_examples=400, deadline=None)
@given(
    notice=notices(),
    recipients=st.lists(people(), min_size=1, max_size=3),
    district=names,
    flag=st.booleans(),
)
@example(
    notice=(
        {"n.txt": "{% block subject %}{{ recipient.name|title }}{% endblock %}", "n.html": ""},
        True,
    ),
    recipients=[SimpleNamespace(name="dana director", email="d@x")],
    district="",
    flag=False,
)
@example(
    notice=(
        {
            "n.txt": "{% block subject %}x{% endblock %}Dear {{ recipient.name.split()[0] }},",
            "n.html": "<p>Dear {{ recipient.name.split()[0] }},</p>",
        },
        True,
    ),
    recipients=[SimpleNamespace(name="Dana Director"), SimpleNamespace(name="")],
    district="",
    flag=False,
)
def test_rendering_once_equals_rendering_per_recipient(
    notice: tuple[dict[str, str], bool], recipients: list[Any], district: str, flag: bool
) -> None:
    templates, splittable = notice
    renderer = Renderer(DictLoader(templates))
    values = {"district": district, "flag": flag}

    addressable = renderer.render_once("n", values)

    if splittable:
        assert addressable.shared is not None, "the fast path was not taken"
    for person in recipients:
        plain = outcome(lambda p=person: renderer.render("n", {**values, "recipient": p}))
        assert outcome(lambda p=person: addressable.to(p)) == plain


# --- the defects of replacing a marker, one by one ------------------------------------------------


def _renderer(text: str, html: str = "") -> Renderer:
    subject = "{% if false %}{% block subject %}S{% endblock %}{% endif %}"
    return Renderer(DictLoader({"n.txt": subject + text, "n.html": html}))


def test_a_filter_over_the_name_sees_the_name_not_a_marker() -> None:
    renderer = _renderer(
        "Dear {{ recipient.name | title }},", "<p>{{ recipient.name | title }}</p>"
    )

    rendered = renderer.render_once("n", {}).to(SimpleNamespace(name="dana o'brien"))

    assert rendered.text == "Dear Dana O'brien,"
    assert rendered.html == "<p>Dana O&#39;brien</p>"


def test_a_method_over_the_name_sees_the_name_not_a_marker() -> None:
    renderer = _renderer("Dear {{ recipient.name.split()[0] }},")
    addressable = renderer.render_once("n", {})

    assert addressable.to(SimpleNamespace(name="Dana Director")).text == "Dear Dana,"
    assert addressable.to(SimpleNamespace(name="Lee Liaison")).text == "Dear Lee,"


def test_a_value_holding_the_old_marker_is_left_alone() -> None:
    renderer = _renderer("{{ district }} / {{ recipient.name }}")

    rendered = renderer.render_once("n", {"district": "\x1fRECIPIENT\x1f"}).to({"name": "Jo"})

    assert rendered.text == "\x1fRECIPIENT\x1f / Jo"


def test_a_recipient_without_the_attribute_raises_as_the_plain_render_does() -> None:
    renderer = _renderer("{{ recipient.email }}")

    with pytest.raises(Exception, match="email") as fast:
        renderer.render_once("n", {}).to(SimpleNamespace(name="Jo"))
    with pytest.raises(Exception, match="email") as plain:
        renderer.render("n", {"recipient": SimpleNamespace(name="Jo")})
    assert type(fast.value) is type(plain.value)


def test_a_notice_that_never_mentions_the_recipient_is_rendered_once() -> None:
    renderer = _renderer("Plan for {{ district }}", "<p>{{ district }}</p>")

    addressable = renderer.render_once("n", {"district": "Lake"})

    assert addressable.shared is not None
    assert all(holes == () for _, holes in addressable.shared)
    assert addressable.to(None) == renderer.render("n", {"district": "Lake", "recipient": None})


# --- the packaged notices ------------------------------------------------------------------------

DISTRICT = SimpleNamespace(code="82010", name="Lake & <Co>", psa=True, authorizer="Bay 'U'")
AGREEMENT = SimpleNamespace(
    id=12,
    cohort="2018-03",
    state="needs_assessment",
    escalation_option="isd_intervention",
    identified_on=date(2018, 3, 1),
    signed_on=date(2018, 5, 3),
)
DEADLINE = SimpleNamespace(kind="plan_due", label="the plan", due_on=date(2020, 3, 2), days_left=3)
LIAISON = SimpleNamespace(
    name="Lee Liaison", email="lee@mde.example", phone="517-555-0101", role="liaison"
)
PEOPLE = [
    SimpleNamespace(name="Pat  O'Brien", email="pat@lake.example", role="superintendent"),
    SimpleNamespace(name='<b>"Board"</b> & Co', email="board@lake.example", role="board_president"),
    SimpleNamespace(name="\x1fRECIPIENT\x1f", email="x@lake.example", role="director"),
    LIAISON,
]
OFFICE = SimpleNamespace(phone="517-555-0100", web="https://www.mde.example/partnership")
CASE = SimpleNamespace(
    about="the request of $125,000.00 for fiscal year 2025-26", year="2025-26",
    total="$125,000.00", activities=[SimpleNamespace(label="Teacher mentors", amount="$5.00")],
)  # fmt: skip
MEETING = SimpleNamespace(
    label="high-need district meeting", when="Tuesday, March 10, 2020 at 10:00 (Detroit time)",
    day=date(2020, 3, 10), place="Room <3>", agenda="Attendance & reading", reason="ill",
)  # fmt: skip


@pytest.mark.parametrize("notice", notice_names())
def test_every_packaged_notice_is_split_and_renders_as_per_recipient(notice: str) -> None:
    values = {
        "agreement": AGREEMENT,
        "district": DISTRICT,
        "liaison": LIAISON,
        "deadline": DEADLINE,
        "missing_parties": ["Board of Education"],
        "office": OFFICE,
        "action": "open_rga",
        "action_label": "open the RGA",
        "reason": "not signed",
        "case": CASE,  # what a fund request's notices tell of it
        "meeting": MEETING,  # what a meeting's notices tell of it
    }

    addressable = render_once(notice, values)

    assert addressable.shared is not None
    for person in PEOPLE:
        assert addressable.to(person) == render(notice, {**values, "recipient": person})
