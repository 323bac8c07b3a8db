from __future__ import annotations

import uuid

from domain.callouts import with_callouts_read
from domain.chunking import chunk_elements, chunk_id, estimate_tokens, subject_of
from domain.models import Element

WIDGET, DOCUMENT = uuid.uuid4(), uuid.uuid4()


def chunks(elements: list[Element], **limits: int) -> list:
    return chunk_elements(
        elements, widget_id=WIDGET, document_id=DOCUMENT, document_title="Doc", **limits
    )


def test_chunks_keep_their_section_heading_and_page() -> None:
    result = chunks(
        [
            Element(text="Intro text."),
            Element(text="Returns", kind="title", page=2),
            Element(text="Thirty days.", page=2),
            Element(text="Shipping", kind="title", page=3),
            Element(text="Two days.", page=3),
        ],
        min_section_tokens=0,
    )
    assert [(c.section, c.page, c.text) for c in result] == [
        (None, None, "Intro text."),
        ("Returns", 2, "Thirty days."),
        ("Shipping", 3, "Two days."),
    ]
    assert [c.index for c in result] == [0, 1, 2]
    assert all(c.title == "Doc" and c.widget_id == WIDGET for c in result)


def test_a_section_too_short_to_stand_alone_opens_the_next() -> None:
    # A manual's NAME line alone is a chunk that ranks for every short question about
    # the page and answers none; with the description it says what the command does.
    description = " ".join(["Incorporates changes from a remote repository."] * 10)
    result = chunks(
        [
            Element(text="NAME", kind="title", level=1),
            Element(text="git-pull - Fetch from and integrate with another repository"),
            Element(text="SYNOPSIS", kind="title", level=1),
            Element(text="git pull [<options>]"),
            Element(text="DESCRIPTION", kind="title", level=1, page=4),
            Element(text=description, page=4),
            Element(text="GIT", kind="title", level=1),
            Element(text="Part of the git suite"),
        ]
    )

    assert [(c.section, c.text) for c in result] == [
        (
            "NAME",  # cited where it begins
            "git-pull - Fetch from and integrate with another repository\n\n"
            f"git pull [<options>]\n\n{description}\n\n"
            # The last section has nothing to open: it closes the one before. Alone, it
            # was a chunk ranking by the page's summary and shown as a source.
            "Part of the git suite",
        ),
    ]


def test_a_navigation_table_is_left_out() -> None:
    # A PostgreSQL manual page ends on its "See Also" line and a table of links to the
    # pages beside it; together they were a chunk of their own, and the neighbours' names
    # (EXECUTE, FETCH) matched questions about them.
    body = " ".join(["ANALYZE collects statistics about the contents of tables."] * 8)
    result = chunks(
        [
            Element(text="Description", kind="title", level=1),
            Element(text=body),
            Element(text="See Also", kind="title", level=1),
            Element(text="VACUUM"),
            Element(text="Prev | Up | Next\nEXECUTE | Home | FETCH"),
        ]
    )

    assert [c.section for c in result] == ["Description"]
    assert result[0].text.endswith(".\n\nVACUUM")


def test_a_footer_after_a_paragraph_too_long_for_one_chunk_closes_its_last_window() -> None:
    long = " ".join(f"word{n}" for n in range(400)) + "."
    result = chunks(
        [
            Element(text="Description", kind="title", level=1),
            Element(text=long),
            Element(text="GIT", kind="title", level=1),
            Element(text="Part of the git suite"),
        ]
    )

    assert len(result) > 1
    assert result[-1].text.endswith("word399.\n\nPart of the git suite")


def test_a_document_that_says_only_a_little_keeps_it() -> None:
    result = chunks([Element(text="Opening hours", kind="title"), Element(text="9 to 5")])

    assert [(c.section, c.text) for c in result] == [("Opening hours", "9 to 5")]


def test_a_short_section_that_states_something_stands_alone() -> None:
    result = chunks(
        [
            Element(text="Warranty", kind="title", level=1),
            Element(text="Every kettle has a two-year warranty."),
            Element(text="Refunds", kind="title", level=1),
            Element(text="Refunds are paid within five days."),
        ]
    )

    assert [c.section for c in result] == ["Warranty", "Refunds"]


def test_a_short_section_holding_a_table_stands_alone() -> None:
    # A price list's spare parts were cited under the kettles' heading above them.
    result = chunks(
        [
            Element(text="Kettles", kind="title", level=2),
            Element(text="Model | Price\nKestrel 5 | £39\nKestrel 9 | £89"),
            Element(text="Spare parts", kind="title", level=2),
            Element(text="Part | Price\nLimescale filter | £6"),
        ]
    )

    assert [(c.section, c.text.splitlines()[0]) for c in result] == [
        ("Kettles", "Model | Price"),
        ("Spare parts", "Part | Price"),
    ]


def test_the_next_sections_later_chunks_keep_its_heading() -> None:
    long = [Element(text=f"Paragraph {n} of the description, long enough.") for n in range(40)]
    result = chunks(
        [
            Element(text="NAME", kind="title", level=1),
            Element(text="tool - does things"),
            Element(text="DESCRIPTION", kind="title", level=1),
            *long,
        ],
        max_tokens=100,
        overlap_tokens=0,
    )

    assert result[0].section == "NAME" and result[0].text.startswith("tool - does things")
    assert len(result) > 2 and {c.section for c in result[1:]} == {"DESCRIPTION"}


def test_a_pages_name_line_is_every_chunks_summary() -> None:
    long = [Element(text=f"Paragraph {n} of the options, long enough.") for n in range(40)]
    result = chunks(
        [
            Element(text="VACUUM\nPrev | Up | SQL Commands | Home | Next"),
            Element(text="VACUUM", kind="title", level=2),
            Element(text="VACUUM — garbage-collect and optionally analyze a database"),
            Element(text="Synopsis", kind="title", level=2),
            Element(text="VACUUM [ ( option [, ...] ) ] [ table_and_columns [, ...] ]"),
            Element(text="Description", kind="title", level=2),
            Element(text="VACUUM reclaims storage occupied by dead tuples. In normal use..."),
            Element(text="Options", kind="title", level=2),
            *long,
        ],
        max_tokens=100,
        overlap_tokens=0,
    )

    assert len(result) > 2
    # The name line and the sentence the description opens with (the synopsis is syntax);
    # a section's later chunks also with the sentence the section opens with.
    page = (
        "VACUUM — garbage-collect and optionally analyze a database\n"
        "VACUUM reclaims storage occupied by dead tuples."
    )
    options = [c for c in result if (c.section or "").endswith("Options")]
    assert all(c.summary == page for c in result if c not in options[1:])
    assert all(
        c.summary == f"{page}\nParagraph 0 of the options, long enough." for c in options[1:]
    )
    # What the page is, without what it does: the line every chunk's vector leans towards.
    assert {subject_of(c) for c in result} == {
        "VACUUM — garbage-collect and optionally analyze a database"
    }


def test_a_document_without_a_name_line_has_no_summary() -> None:
    result = chunks(
        [
            Element(text="Kettle manual", kind="title", level=1),
            Element(text="Descale it every 60 days - or sooner - with citric acid."),
            Element(text="Warranty", kind="title", level=1),
            Element(text="Every kettle has a two-year warranty."),
        ]
    )

    assert [c.summary for c in result] == [None, None]


def test_a_long_sections_later_chunks_are_read_with_its_opening_sentence() -> None:
    opening = "A foreign key constraint says a column's values must appear in another table."
    rest = [
        Element(text=f"Paragraph {n} about referential actions, long enough.") for n in range(40)
    ]
    result = chunks(
        [Element(text="Foreign Keys", kind="title", level=2), Element(text=opening), *rest],
        max_tokens=100,
        overlap_tokens=0,
    )

    assert len(result) > 2 and result[0].text.startswith(opening)
    assert result[0].summary is None  # it says so itself
    assert all(c.summary == opening and c.about() == opening for c in result[1:])
    assert all(subject_of(c) is None for c in result)  # a sentence is no name line


def test_chunks_stay_within_the_token_budget_and_overlap() -> None:
    words = [f"w{n}" for n in range(1000)]
    result = chunks([Element(text=" ".join(words))], max_tokens=130, overlap_tokens=26)

    assert all(estimate_tokens(c.text) <= 130 for c in result)
    first, second = result[0].text.split(), result[1].text.split()
    assert first[-20:] == second[:20]  # 26 tokens ≈ 20 words carried over
    covered = {w for c in result for w in c.text.split()}
    assert covered == set(words)


def test_short_paragraphs_are_packed_together() -> None:
    result = chunks([Element(text=f"Paragraph {n}.") for n in range(5)])
    assert len(result) == 1 and result[0].text.count("Paragraph") == 5


def test_chunk_ids_are_deterministic_per_document_and_index() -> None:
    assert chunk_id(DOCUMENT, 3) == chunk_id(DOCUMENT, 3)
    assert chunk_id(DOCUMENT, 3) != chunk_id(DOCUMENT, 4)
    assert chunk_id(DOCUMENT, 3) != chunk_id(uuid.uuid4(), 3)
    assert [c.id for c in chunks([Element(text="a")])] == [chunk_id(DOCUMENT, 0)]


def test_titles_without_text_make_no_chunk() -> None:
    assert chunks([Element(text="Lonely", kind="title"), Element(text="  ")]) == []


def section_paths(*sections: tuple[str, int | None, str]) -> list[str | None]:
    """The section path of each chunk of (heading, its depth, one sentence under it)."""
    elements = []
    for heading, level, text in sections:
        elements += [Element(text=heading, kind="title", level=level), Element(text=text)]
    return [c.section for c in chunks(elements, max_tokens=8, overlap_tokens=0)]


def test_sections_name_their_heading_path() -> None:
    assert section_paths(
        ("Install", 1, "Unpack it."),
        ("Linux", 2, "Use the tarball."),
        ("Proxy", 3, "Set HTTPS_PROXY."),
        ("Windows", 2, "Run the installer."),
        ("FAQ", None, "Ask us."),  # depth unknown: a new path
    ) == ["Install", "Install › Linux", "Install › Linux › Proxy", "Install › Windows", "FAQ"]


def test_headings_that_start_below_the_top_depth_close_their_siblings() -> None:
    # A manual's page: its title at h2, its sections and its notes' titles at h3.
    assert section_paths(
        ("8.1. Numeric Types", 2, "Numeric types hold numbers."),
        ("8.1.1. Integer Types", 3, "Integers are whole."),
        ("Note", 3, "Overflow is an error."),
        ("8.1.3. Floating-Point Types", 3, "Floats are inexact."),
    ) == [
        "8.1. Numeric Types",
        "8.1. Numeric Types › 8.1.1. Integer Types",
        "8.1. Numeric Types › Note",
        "8.1. Numeric Types › 8.1.3. Floating-Point Types",
    ]


def test_a_new_revision_gets_new_ids_and_a_rerun_the_same_ones() -> None:
    again = chunk_elements(
        [Element(text="a")], widget_id=WIDGET, document_id=DOCUMENT, document_title="D"
    )
    revised = chunk_elements(
        [Element(text="a")], widget_id=WIDGET, document_id=DOCUMENT, document_title="D", revision=2
    )
    assert again[0].id == chunk_id(DOCUMENT, 0)
    assert revised[0].id == chunk_id(DOCUMENT, 0, revision=2) != again[0].id


def test_nul_characters_extracted_from_a_file_are_dropped() -> None:
    """PostgreSQL keeps no NUL, and a chunk's text is kept there as an answer's source."""
    result = chunks(
        [Element(text="Re\x00turns", kind="title"), Element(text="Thirty\x00 days.\x00")]
    )
    assert [(c.section, c.text) for c in result] == [("Returns", "Thirty days.")]


def test_a_table_too_long_for_one_chunk_is_cut_between_rows_under_its_header() -> None:
    header = "city | manager | phone"
    rows = [f"City{n} | Manager Name{n} | 0113 496 {n:04d}" for n in range(60)]

    result = chunks([Element(text="\n".join([header, *rows]))], max_tokens=130)

    assert len(result) > 1 and all(estimate_tokens(c.text) <= 130 for c in result)
    assert all(c.text.splitlines()[0] == header for c in result)
    assert [line for c in result for line in c.text.splitlines()[1:]] == rows


def test_a_question_set_as_a_paragraph_heads_its_answer() -> None:
    # A PDF's FAQ gives its questions as text: each answer is cited under its question,
    # beside the question before it, within the open heading.
    result = chunks(
        [
            Element(text="Orders", kind="title", level=2),
            Element(text="How long does delivery take?"),
            Element(text="Bikes are delivered within 5 to 7 working days."),
            Element(text="Can I collect my order?"),
            Element(text="Yes, from our Leeds workshop on weekdays."),
            Element(text="Returns", kind="title", level=2),
            Element(text="You have 30 days to return an unridden bike."),
        ],
        min_section_tokens=0,
    )

    assert [(c.section, c.text) for c in result] == [
        (
            "Orders › How long does delivery take?",
            "Bikes are delivered within 5 to 7 working days.",
        ),
        ("Orders › Can I collect my order?", "Yes, from our Leeds workshop on weekdays."),
        ("Returns", "You have 30 days to return an unridden bike."),
    ]


def test_a_question_with_no_answer_after_it_stays_text() -> None:
    # Questions in a row (a checklist), one closing its section, or a placeholder ending in
    # a question mark ("%G?" above its meaning in git's pretty formats) head nothing.
    result = chunks(
        [
            Element(text="Before you buy", kind="title"),
            Element(text="Do you ride on roads?"),
            Element(text="Do you ride off road?"),
            Element(text="Our staff will help you choose."),
            Element(text="What is your height?"),
            Element(text="Formats", kind="title"),
            Element(text="%G?"),
            Element(text="Shows whether the signature is good."),
            Element(text="Sizes", kind="title"),
            Element(text="Frames come in three sizes."),
        ],
        min_section_tokens=0,
    )

    assert [c.section for c in result] == [
        "Before you buy",
        "Before you buy › Do you ride off road?",
        "Formats",
        "Sizes",
    ]
    assert result[0].text == "Do you ride on roads?"
    assert result[1].text == "Our staff will help you choose.\n\nWhat is your height?"


def test_a_headings_short_introduction_is_cited_by_its_first_subsection() -> None:
    # "Orders" alone says nothing; merged into its first subsection, the chunk is cited
    # by the path that names both.
    result = chunks(
        [
            Element(text="Orders", kind="title", level=1),
            Element(text="Frequently asked"),
            Element(text="Delivery", kind="title", level=2),
            Element(text="Bikes are delivered within 5 to 7 working days."),
        ],
    )

    assert [c.section for c in result] == ["Orders › Delivery"]


def test_terms_a_chunk_would_end_on_open_the_next_with_their_description() -> None:
    # "--squash" and "--no-squash" name one description: cut between them, the next chunk
    # opened on "--no-squash" alone and the answer said "--no-squash" squashes.
    before = Element(text=" ".join(["Earlier options are described here."] * 5))
    terms = [Element(text="--squash"), Element(text="--no-squash")]
    description = Element(text="Produce the working tree as if a real merge happened.")
    result = chunks([before, *terms, description], max_tokens=40, overlap_tokens=10)

    assert [c.text.split("\n\n") for c in result] == [
        [before.text],
        ["--squash", "--no-squash", description.text],
    ]


def test_a_list_a_chunk_would_end_on_stays_with_its_introduction() -> None:
    items = [Element(text=name) for name in ("Linux", "macOS", "Windows", "FreeBSD")]
    intro = Element(text="It runs on these systems, each tested before a release:")
    after = Element(text=" ".join(["Installing takes a minute on each of them."] * 3))
    result = chunks([intro, *items, after], max_tokens=40, overlap_tokens=0)

    assert result[0].text.split("\n\n") == [intro.text, *(i.text for i in items)]
    assert result[1].text == after.text


def test_terms_before_a_paragraph_too_long_for_one_chunk_open_its_first_window() -> None:
    before = Element(text="Options are described below.")
    long = Element(text=" ".join(f"w{n}" for n in range(100)))
    result = chunks([before, Element(text="-v, --verbose"), long], max_tokens=40)

    assert result[0].text == before.text
    assert result[1].text.startswith("-v, --verbose\n\nw0 w1")
    assert all(estimate_tokens(c.text) <= 40 for c in result)


def test_a_chunk_opening_inside_a_description_opens_with_its_term() -> None:
    # Cut inside hash_mem_multiplier's description, the next chunk said "The default value
    # is 2.0" of no setting, and was quoted for "What is the default value of work_mem?".
    term = Element(text="hash_mem_multiplier (floating point)")
    described = [Element(text=" ".join(["Used to compute a limit."] * 6)) for _ in range(3)]
    default = Element(text="The default value is 2.0.")
    result = chunks([term, *described, default], max_tokens=60, overlap_tokens=10)

    assert len(result) > 1
    assert all(c.text.startswith(f"{term.text}\n\n") for c in result)
    assert result[-1].text.endswith(default.text)


def test_a_list_introduced_by_a_colon_lends_no_term_to_the_chunks_after_it() -> None:
    intro = Element(text="For example:")
    prose = [Element(text=" ".join(["The example shows a merge."] * 6)) for _ in range(3)]
    result = chunks([intro, *prose], max_tokens=60, overlap_tokens=0)

    assert len(result) > 1
    assert not any(c.text.startswith(intro.text) for c in result[1:])


def test_terms_too_long_to_repeat_in_every_window_stay_where_they_were() -> None:
    terms = Element(text="-a, --all, --everything-at-once")
    long = Element(text=" ".join(f"w{n}" for n in range(60)))
    result = chunks([Element(text="Intro here."), terms, long], max_tokens=8, overlap_tokens=2)

    assert result[0].text == f"Intro here.\n\n{terms.text}"
    assert not any(terms.text in c.text for c in result[1:])
    assert {w for c in result for w in c.text.split()} >= set(long.text.split())


def test_a_line_of_code_is_no_term_the_chunks_after_it_open_with() -> None:
    # transaction-iso's "SELECT SUM(value) FROM mytab WHERE class = 2;" was read as a term
    # and opened the next ten chunks of its section, each a source quoting it for nothing.
    prose = [Element(text=" ".join(["Serializable transactions may fail."] * 6)) for _ in range(3)]
    for code in ("SELECT SUM(value) FROM mytab WHERE class = 2;", "$ git bisect run test.sh"):
        result = chunks([Element(text=code), *prose], max_tokens=60, overlap_tokens=0)

        assert len(result) > 1
        assert not any(code in c.text for c in result[1:])
    # A history graph cut from its example, likewise.
    result = chunks([Element(text="I---X"), *prose], max_tokens=60, overlap_tokens=0)
    assert not any("I---X" in c.text for c in result[1:])


def test_a_synopsis_term_is_counted_without_its_brackets() -> None:
    # "ADD [ COLUMN ] [ IF NOT EXISTS ]" says five words in nine tokens: a term a chunk would
    # end on opens the next with its description, as "-q, --quiet" does.
    before = Element(text=" ".join(["Earlier forms are described here."] * 4))
    term = Element(text="ADD [ COLUMN ] [ IF NOT EXISTS ]")
    description = Element(text="This form adds a new column to the table.")
    result = chunks([before, term, description], max_tokens=40, overlap_tokens=10)

    assert [c.text.split("\n\n") for c in result] == [[before.text], [term.text, description.text]]


def test_an_examples_callouts_are_read_as_terms_of_their_explanations() -> None:
    # git-diff's examples: the list under the example says which line does what only by
    # number; parsed, "Changes in the working tree not yet staged" stood alone.
    result = chunks(
        [
            Element(text="EXAMPLES", kind="title", level=2),
            Element(text="$ git diff <1> $ git diff --cached <2> $ git commit $ git diff HEAD <3>"),
            Element(text="Changes in the working tree not yet staged for the next commit."),
            Element(text="Changes between the index and your last commit."),
            Element(text="Changes in the working tree since your last commit."),
            Element(text="Numbered <1> and <3> are not callouts in order."),
            Element(text="It stays as written."),
        ],
        min_section_tokens=0,
    )

    [chunk] = result
    assert chunk.text.split("\n\n") == [
        "$ git diff <1> $ git diff --cached <2> $ git commit $ git diff HEAD <3>",
        "git diff",
        "Changes in the working tree not yet staged for the next commit.",
        "git diff --cached",
        "Changes between the index and your last commit.",
        "git diff HEAD",
        "Changes in the working tree since your last commit.",
        "Numbered <1> and <3> are not callouts in order.",
        "It stays as written.",
    ]


def test_callouts_without_their_explanations_stay_as_written() -> None:
    elements = [
        Element(text="$ git init <1> $ git add . <2>"),
        Element(text="Create the repository."),
        Element(text="Next steps", kind="title", level=2),
    ]

    assert with_callouts_read(elements) == elements
