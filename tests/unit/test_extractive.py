"""The offline answerer quotes the sentences that state the fact, once, and only prose
unless a command or code is asked for; weak evidence gets the no-answer message."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import msgspec
import pytest

from adapters.llm.extractive import ExtractiveChatModel, Tuning, named
from adapters.llm.sentences import Kind, classify, sentences
from domain.models import Role
from domain.prompts import PastMessage, Prompt, PromptSource
from testkit.fakes.embedder import HashEmbedder

NO_ANSWER = "Sorry, I don't know."


def prompt(
    question: str, *texts: str, history: tuple[PastMessage, ...] = (), context: str = ""
) -> Prompt:
    return Prompt(
        system="",
        no_answer=NO_ANSWER,
        question=question,
        sources=tuple(
            PromptSource(index=n, title="Manual", text=text) for n, text in enumerate(texts, 1)
        ),
        history=history,
        context=context,
    )


async def answer(model: ExtractiveChatModel, asked: Prompt) -> str:
    return "".join([part async for part in model.stream(asked) if isinstance(part, str)])


class CosineEmbedder:
    """Gives each text holding one of `cosines`' keys that cosine with the question (the
    first text of a batch): the embedding model's judgement, set by the test."""

    def __init__(self, cosines: Mapping[str, float]) -> None:
        self._cosines = cosines

    @property
    def model(self) -> str:
        return "cosine-test"

    @property
    def dimension(self) -> int:
        return 2

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        vectors = []
        for text in texts:
            c = next((v for key, v in self._cosines.items() if key in text), 1.0)
            vectors.append([c, math.sqrt(1.0 - c * c)])
        return vectors


async def test_the_question_is_read_with_the_vector_it_was_searched_with() -> None:
    # Retrieval embedded the question already (a follow-up's moved towards the one before):
    # the answerer ranks the sentences against that vector and embeds only them.
    embedded: list[str] = []

    class Recording(CosineEmbedder):
        async def embed(self, texts: Sequence[str]) -> list[list[float]]:
            embedded.extend(texts)
            return await super().embed(texts)

    embedder = Recording({"filter": 0.9, "tank": 0.2})
    question = "How often do I clean the kettle?"
    asked = prompt(question, "Clean the kettle filter monthly.", "Clean the kettle tank weekly.")
    # CosineEmbedder's vectors are (c, sqrt(1 - c*c)): (1, 0) is near the filter sentence,
    # (0, 1) near the tank one.
    model = ExtractiveChatModel(embedder, Tuning(max_sentences=1))

    near_filter = await answer(model, msgspec.structs.replace(asked, vector=(1.0, 0.0)))
    near_tank = await answer(model, msgspec.structs.replace(asked, vector=(0.0, 1.0)))

    assert near_filter == "Clean the kettle filter monthly. [1]"
    assert near_tank == "Clean the kettle tank weekly. [2]"
    assert embedded and question not in embedded


async def test_a_question_in_one_inflection_finds_the_fact_in_another() -> None:
    # The suffix list made "descaled" "descal" and left "descale": the tank sentence won.
    asked = prompt(
        "How often should the Kestrel 9 be descaled?",
        "The Kestrel 9 is a kettle for offices. The Kestrel 9 water tank holds 1.5 litres. "
        "Refill the Kestrel 9 tank with fresh water every morning. The Kestrel 9 weighs 2 kg.",
        "Descale it every 60 days with citric acid.",
    )

    said = await answer(ExtractiveChatModel(), asked)

    assert said == "Descale it every 60 days with citric acid. [2]"


async def test_a_sentence_in_several_sources_is_quoted_once() -> None:
    fact = "Use declare -A to create an associative array before assigning its keys."
    asked = prompt(
        "How do I create an associative array?",
        f"Arrays. {fact}",
        f"{fact} Indexed arrays need no declaration.",
        f"  {fact.upper()}  ",
    )

    said = await answer(ExtractiveChatModel(HashEmbedder()), asked)

    assert said.lower().count("declare -a") == 1
    assert "[1]" in said


async def test_a_sentence_is_quoted_where_it_is_said_after_its_term() -> None:
    # git-diff's examples: a later chunk carries the section's first sentence in its
    # summary, bare; the example's own chunk says which command it explains.
    explained = "Changes in the working tree not yet staged for the next commit."
    asked = Prompt(
        system="",
        no_answer=NO_ANSWER,
        question="How do I see the changes I have not staged yet?",
        sources=(
            PromptSource(
                index=1, title="git-diff(1)", text="Output diff in reverse.", about=explained
            ),
            PromptSource(index=2, title="git-diff(1)", text=f"git diff\n\n{explained}"),
        ),
    )

    said = await answer(ExtractiveChatModel(HashEmbedder()), asked)

    assert said.startswith(f"git diff: {explained} [2]")
    assert said.count(explained) == 1


async def test_a_command_is_said_before_what_it_does_a_statement_is_not() -> None:
    # An example's callouts become terms (domain/callouts.py): "git diff --cached" is what
    # the visitor types; a statement ending on ";" above a sentence is an example, no term.
    model = ExtractiveChatModel(HashEmbedder())
    command = "git diff --cached\n\nChanges between the index and your last commit."
    statement = "SELECT * FROM changes;\n\nThe changes between the index and the tree are listed."

    said = await answer(model, prompt("How do I see the changes since my last commit?", command))
    listed = await answer(model, prompt("How are the changes listed?", statement))

    assert said.startswith("git diff --cached: Changes between the index and your last commit.")
    assert listed.startswith("The changes between the index and the tree are listed.")


async def test_code_is_not_quoted_unless_the_question_asks_for_it() -> None:
    sources = (
        'def create(self, env_dir): """Create a virtual environment in a directory."""',
        "You create a virtual environment by running the venv module with the target "
        "directory as its argument.",
    )

    how = await answer(
        ExtractiveChatModel(HashEmbedder()),
        prompt("How do I create a virtual environment?", *sources),
    )
    code = await answer(
        ExtractiveChatModel(HashEmbedder()),
        prompt("Show me the code of the function that creates a virtual environment", *sources),
    )

    assert how.startswith("You create a virtual environment by running the venv module")
    assert "def create" not in how
    assert "def create(self, env_dir)" in code


async def test_navigation_headings_and_tables_of_contents_are_never_quoted() -> None:
    asked = prompt(
        "What does the vacuum command reclaim?",
        "Prev | Up | Next\n\nVACUUM\n\n5.3. Vacuum Basics 5.4. Vacuum Options 5.5. Vacuum Costs",
        "VACUUM reclaims storage occupied by dead tuples.",
    )

    said = await answer(ExtractiveChatModel(HashEmbedder()), asked)

    assert said == "VACUUM reclaims storage occupied by dead tuples. [2]"


async def test_weak_evidence_gets_the_no_answer_message() -> None:
    asked = prompt(
        "What is the refund policy for damaged parcels?",
        "The Kestrel 9 water tank holds 1.5 litres.",
        "Descale it every 60 days with citric acid.",
    )

    assert await answer(ExtractiveChatModel(HashEmbedder()), asked) == NO_ANSWER
    assert await answer(ExtractiveChatModel(), asked) == NO_ANSWER


async def test_a_sentence_sharing_only_a_topic_word_is_too_far_to_quote() -> None:
    # "Do you sell coffee machines?" quoted how to store coffee: a cosine of 0.43 on the
    # one word "coffee". Below the closer look's floor (0.45) is too far to quote; at it, near
    # enough, with no word in common ("Every box fits through a standard letterbox").
    storage = "Keep your beans in the resealable bag they arrive in, in a dark cupboard."
    asked = prompt("Do you sell coffee machines?", storage)
    assert await answer(ExtractiveChatModel(CosineEmbedder({"beans": 0.43})), asked) == NO_ANSWER
    near = await answer(ExtractiveChatModel(CosineEmbedder({"beans": 0.46})), asked)
    assert near == f"{storage} [1]"


async def test_a_name_the_question_spells_that_no_source_mentions_gets_the_no_answer_message() -> (
    None
):
    sources = (
        "Use git clone to copy a repository from a server.",
        "A repository can be cloned over SSH or HTTPS.",
    )
    beyond = ExtractiveChatModel(CosineEmbedder({"clone": 0.8}))

    # Every other word of the question is in the sources, and the cosine is strong.
    for question in (
        "How do I clone a repository from GitLab?",
        "How do I clone a repository on macOS?",
        "How do I clone a repository with git_lfs?",
        "How do I clone a repository over FTP?",
    ):
        assert await answer(beyond, prompt(question, *sources)) == NO_ANSWER, question
    for question in ("How do I clone a repository over SSH?", "Clone a repository?"):
        assert "clone" in await answer(beyond, prompt(question, *sources)), question
    postage = prompt(
        "Who pays for return postage if I live in France?",
        "Return postage is free in the UK; international customers pay their own return postage.",
    )
    assert "international customers" in await answer(beyond, postage)


def test_names_are_told_from_ordinary_words_by_how_they_are_spelled() -> None:
    assert named("How do I store large files with Git LFS on macOS?") == ["LFS", "macOS"]
    assert named("What is work_mem, and can I set it in PL/pgSQL?") == ["work_mem", "PL/pgSQL"]
    assert named("Which index method does CREATE INDEX use?") == ["CREATE", "INDEX"]
    assert named("What does git reset --soft do? I want user.name set.") == []
    # Only capitalised, a word may be a place a source names by its kind ("international
    # customers"); neither "OK" nor a question in capitals spells a name.
    assert named("OK, thanks. Do you ship to France?") == []
    assert named("HOW DO I RETURN AN ITEM?") == []


async def test_sentences_stay_whole_and_in_reading_order() -> None:
    asked = prompt(
        "How long is the kettle warranty and what does the kettle warranty cover?",
        "The kettle warranty covers the heating element, e.g. a burnt coil. Toasters differ.",
        "The kettle warranty lasts two years.",
    )

    said = await answer(ExtractiveChatModel(HashEmbedder(), Tuning(keep_ratio=0.5)), asked)

    assert said == (
        "The kettle warranty covers the heating element, e.g. a burnt coil. [1] "
        "The kettle warranty lasts two years. [2]"
    )


def test_a_sentence_keeps_the_bracket_or_quote_it_closes() -> None:
    # git's tutorial: "(Without --cached, git diff will show you ... index.) You can also
    # ..." was quoted with its opening bracket and without the one that closes it.
    text = (
        "(Without --cached, git diff shows the changes not yet added to the index.) You can "
        'also get a summary. The manual says "run it twice." Then it stops, etc.) Done.'
    )

    found = [s.text for s in sentences((PromptSource(index=1, title="Manual", text=text),))]

    assert found == [
        "(Without --cached, git diff shows the changes not yet added to the index.)",
        "You can also get a summary.",
        'The manual says "run it twice."',
        "Then it stops, etc.)",
        "Done.",
    ]


async def test_the_candidate_sentences_are_embedded_in_one_bounded_batch() -> None:
    embedder = HashEmbedder()
    many = " ".join(f"Kettle model {n} boils water in {n} minutes." for n in range(100))

    await answer(ExtractiveChatModel(embedder), prompt("How fast does a kettle boil?", many))

    assert len(embedder.calls) == 1
    assert 2 <= len(embedder.calls[0]) <= 9  # the question and at most 8 sentences


async def test_a_follow_up_is_read_with_the_question_it_was_searched_with() -> None:
    texts = (
        "The Aurora toaster needs cleaning every week.",
        "Descale the Kestrel 9 every 60 days.",
    )
    history = (
        PastMessage(Role.USER, "How do I descale the Kestrel 9?"),
        PastMessage(Role.ASSISTANT, "Use citric acid. [1]"),
    )
    model = ExtractiveChatModel(HashEmbedder())

    said = await answer(
        model,
        prompt("How often?", *texts, history=history, context="How do I descale the Kestrel 9?"),
    )
    # The history alone does not make it a follow-up: retrieval decides, and says so.
    unread = await answer(model, prompt("How often?", *texts, history=history))

    assert said == "Descale the Kestrel 9 every 60 days. [2]"
    assert unread != said


async def test_a_follow_up_is_embedded_with_the_question_before_it() -> None:
    # "How do I take it away again?" alone is far from the REVOKE page's sentence (0.3, and
    # no word shared); moved towards "How do I grant read access?", as retrieval searched
    # it, it is near (0.83), and the page retrieval found is quoted, not refused.
    embedder = CosineEmbedder(
        {"grant read access": 0.0, "withdraws privileges": 0.3, "Sequences": -0.5}
    )
    history = (
        PastMessage(Role.USER, "How do I grant read access on a table?"),
        PastMessage(Role.ASSISTANT, "Use GRANT SELECT. [1]"),
    )
    texts = ("The REVOKE command withdraws privileges from roles.", "Sequences count upwards.")
    model = ExtractiveChatModel(embedder)

    in_conversation = await answer(
        model,
        prompt(
            "How do I take it away again?",
            *texts,
            history=history,
            context="How do I grant read access on a table?",
        ),
    )
    alone = await answer(model, prompt("How do I take it away again?", *texts))

    assert in_conversation == "The REVOKE command withdraws privileges from roles. [1]"
    assert alone == NO_ANSWER


async def test_a_sentence_is_read_with_the_term_it_defines() -> None:
    # A reference page states each setting's default under the setting's name alone: the
    # sentence "The default value is ..." only says which setting through its term.
    asked = prompt(
        "What is the default value of descale_interval?",
        "descale_interval (integer)\n\nSets how often the kettle asks to be descaled. "
        "The default value is sixty days.\n\n"
        "boil_limit (integer)\n\nSets the highest temperature the kettle reaches. "
        "The default value is 100 degrees.\n\n"
        "1.2.3. Settings 1.2.4. Cleaning\n\nThe default value of each setting is listed.",
    )

    said = await answer(ExtractiveChatModel(), asked)

    assert said == "descale_interval (integer): The default value is sixty days. [1]"


async def test_a_chunk_opening_on_its_term_then_mid_sentence_quotes_no_fragment() -> None:
    # The chunker opens a chunk cut inside a description with its term, then the overlap
    # with the chunk before: the overlap's first words are the tail of a sentence, and its
    # whole sentences are the term's.
    asked = prompt(
        "What is the default value of boil_limit?",
        "boil_limit (integer)\n\nreset to the default value of boil_limit when cleaned. "
        "The default value is 100 degrees.\n\nRaise it only at sea level.",
    )

    said = await answer(ExtractiveChatModel(), asked)

    assert said == "boil_limit (integer): The default value is 100 degrees. [1]"


async def test_an_option_is_quoted_with_its_description() -> None:
    page = (
        "kettlectl boil [<mode>] [<litres>]\n\nThis form heats the tank to the set point.\n\n"
        "--gentle\n\nKeeps the water below the boil and never trips the cut-out.\n\n"
        "--rapid\n\nHeats the tank at full power."
    )
    asked = Prompt(
        system="",
        no_answer=NO_ANSWER,
        question="What does kettlectl boil --gentle do?",
        sources=(PromptSource(index=1, title="kettlectl-boil(1) Manual Page", text=page),),
    )

    said = await answer(ExtractiveChatModel(), asked)

    assert said.startswith("--gentle: Keeps the water below the boil")


async def test_a_description_that_ends_on_no_stop_is_read_as_one_not_as_another_term() -> None:
    # git's option lists: "-a", "--annotate", "Make an unsigned, annotated tag object". Read
    # as a third term, the description was never quoted, and the next option's ("-s") was
    # read as describing "-a" too.
    asked = prompt(
        "What does the --annotate option make?",
        "-a\n\n--annotate\n\nMake an unsigned, annotated tag object\n\n"
        "-s\n\n--sign\n\nMake a GPG-signed tag, using the default key.",
    )

    said = await answer(ExtractiveChatModel(), asked)

    assert said == "-a, --annotate: Make an unsigned, annotated tag object [1]"


OPTIONS = (
    "-a\n\n--annotate\n\nMake an unsigned, annotated tag object\n\n"
    "-f\n\n--force\n\nReplace an existing tag with the given name.\n\n"
    "-l\n\n--list\n\nList the tags and their annotations."
)
# The embedder's reading, as it was for git-tag's page: the option's description is about
# as near the question as the sentence pointing to it, but not within reach of it alone.
TAG_COSINES = {
    "For more information": 0.75,
    "Make an unsigned": 0.75,
    "Annotated tags are meant": 0.3,
    "Replace an existing": 0.3,
    "List the tags": 0.3,
}


async def test_the_description_of_an_option_a_quoted_sentence_points_to_is_quoted_too() -> None:
    # "For more information about creating annotated tags see the -a and -s options": the
    # visitor asked how to create one, and the -a option's description says it.
    model = ExtractiveChatModel(CosineEmbedder(TAG_COSINES))
    pointing = (
        "Annotated tags are meant for release.\n\n"
        "For more information about creating annotated tags see the -a option of kettle-tag."
    )

    said = await answer(model, prompt("How do I create an annotated tag?", pointing, OPTIONS))

    assert "-a, --annotate: Make an unsigned, annotated tag object [2]" in said
    assert "Replace an existing tag" not in said  # pointed to by nothing quoted


async def test_an_option_nothing_points_to_is_no_better_than_its_neighbours() -> None:
    model = ExtractiveChatModel(CosineEmbedder(TAG_COSINES))
    pointing = (
        "Annotated tags are meant for release.\n\n"
        "For more information about creating annotated tags see the options of kettle-tag."
    )

    said = await answer(model, prompt("How do I create an annotated tag?", pointing, OPTIONS))

    assert "Make an unsigned" not in said


async def test_a_quoted_sentence_is_read_with_the_option_it_builds_on() -> None:
    # git-commit's "-o, --only" entry answered "change the message of my last commit" by
    # its "... together with --amend, ... amend the last commit ...", and never said what
    # --amend does: its description shares no word the question asks but "commit".
    model = ExtractiveChatModel(
        CosineEmbedder({"If this option": 0.6, "Replace the tip": 0.3, "Make a commit": 0.3})
    )
    entries = (
        "--amend\n\nReplace the tip of the current branch by creating a new commit.\n\n"
        "-o\n\n--only\n\nMake a commit of the paths given only.\n\n"
        "If this option is specified together with --amend, no paths need to be given, which "
        "can be used to amend the last commit and change its message."
    )

    said = await answer(model, prompt("How do I change the message of my last commit?", entries))

    assert "If this option is specified together with --amend" in said
    assert "--amend: Replace the tip of the current branch" in said
    assert said.index("--amend: Replace") < said.index("If this option")  # reading order


async def test_a_synopsis_term_is_read_but_not_quoted() -> None:
    asked = prompt(
        "What does git pull do?",
        "git pull [<options>] [<repository>]\n\n"
        "Incorporates changes from a remote repository into the current branch.",
    )

    said = await answer(ExtractiveChatModel(), asked)

    assert said == "Incorporates changes from a remote repository into the current branch. [1]"


async def test_a_synopsis_first_line_above_its_options_is_no_term() -> None:
    # A PDF manual's "set terminal png" line, above its options, was quoted as the term of
    # every sentence after them: "set terminal png: To save the current plot to a file, ...".
    asked = prompt(
        "How do I save the current plot to a file?",
        "set terminal png\n\n{{no}enhanced} {{no}transparent} {{no}interlace} {{no}truecolor} "
        "{rounded|butt} {linewidth <lw>} {size <x>,<y>}\n\n"
        "To save the current plot to a file, left click in the display window.",
    )

    said = await answer(ExtractiveChatModel(), asked)

    assert said == "To save the current plot to a file, left click in the display window. [1]"


async def test_a_pages_name_line_is_no_term() -> None:
    asked = prompt(
        "How do I throw away uncommitted changes?",
        "git-revert - Revert some commits\n\n"
        "To throw away uncommitted changes, see git-reset(1) and its --hard option.",
    )

    said = await answer(ExtractiveChatModel(), asked)

    assert said.startswith("To throw away uncommitted changes")


async def test_the_sentence_after_a_pages_name_line_says_what_its_subject_does() -> None:
    # The page's own statement of what git pull does names neither "git" nor "pull"; a
    # sentence deep in the options names both and says something else.
    asked = prompt(
        "What does git pull do?",
        "git-pull - Fetch from and integrate with another repository\n\n"
        "Incorporates changes from a remote repository into the current branch.",
        "Options given to git pull are passed to git fetch, which git pull runs first.",
    )

    said = await answer(ExtractiveChatModel(), asked)
    plain = await answer(ExtractiveChatModel(tuning=Tuning(lead_weight=0.0, lead_bonus=0.0)), asked)

    assert said.startswith("Incorporates changes from a remote repository")
    assert not plain.startswith("Incorporates")


async def test_an_option_that_reads_as_code_with_its_term_is_not_quoted() -> None:
    # Alone the description is prose; after its term it has more symbols than words.
    asked = prompt(
        "How do I squash commits?",
        "--no-autosquash\n\nTo squash commits use the --fixup=amend: or --fixup=reword: or "
        "--squash options.",
        "You can squash commits by marking them squash in the todo list.",
    )

    said = await answer(ExtractiveChatModel(), asked)

    assert said == "You can squash commits by marking them squash in the todo list. [2]"


async def test_what_a_sources_document_is_for_is_read_before_its_text() -> None:
    # The lead may open in lower case ("pg_dump is ..."); the chunk's own opening in lower
    # case is the tail of a sentence cut by the chunker.
    asked = Prompt(
        system="",
        no_answer=NO_ANSWER,
        question="Which tool do I use to back up a database?",
        sources=(
            PromptSource(
                index=1,
                title="pg_dump",
                about="pg_dump — extract a database into a file\n"
                "pg_dump is a utility for backing up a database.",
                text="database to back up, then the tool to use writes it out.",
            ),
        ),
    )

    said = await answer(ExtractiveChatModel(), asked)

    assert said == "pg_dump is a utility for backing up a database. [1]"


async def test_a_text_opening_with_a_name_line_opens_whole() -> None:
    asked = prompt(
        "Which tool do I use to back up a database?",
        "pg_dump — extract a database into a file\n\n"
        "pg_dump is a utility for backing up a database.",
    )

    said = await answer(ExtractiveChatModel(), asked)

    assert said == "pg_dump is a utility for backing up a database. [1]"


async def test_a_sentence_is_quoted_after_the_sentence_its_paragraph_opens_with() -> None:
    # The definition opens the paragraph; the sentence after it shares more of the
    # question's words, and alone it would not say what reflogs are.
    asked = prompt(
        "What are reflogs good for?",
        "This command manages the information recorded in the reflogs.",
        'Reference logs, or "reflogs", record when the tips of branches were updated. '
        "Reflogs are good for finding the old value of a reference.",
    )

    said = await answer(ExtractiveChatModel(), asked)

    assert said == (
        'Reference logs, or "reflogs", record when the tips of branches were updated. [2] '
        "Reflogs are good for finding the old value of a reference. [2]"
    )


async def test_a_paragraph_opening_about_something_else_is_not_brought_along() -> None:
    asked = prompt(
        "What is a descale alarm?",
        "More about cleaning is in chapter 6. A descale alarm beeps when the tank needs "
        "citric acid.",
    )

    said = await answer(ExtractiveChatModel(), asked)

    assert said == "A descale alarm beeps when the tank needs citric acid. [1]"


async def test_where_the_words_tie_the_embedders_reading_outranks_the_pages_statement() -> None:
    # Both sentences share the same question words; the page's statement of what it is
    # for has its bonus, the other is read 0.15 closer to the question by the embedder.
    asked = Prompt(
        system="",
        no_answer=NO_ANSWER,
        question="How do I list the paired kettles?",
        sources=(
            PromptSource(
                index=1,
                title="Manual",
                about="kettlectl-pair - Manage paired kettles\n"
                "Manage the kettles paired with this phone.",
                text="",
            ),
            PromptSource(index=2, title="Manual", text="Shows the paired kettles, one per line."),
        ),
    )
    embedder = CosineEmbedder({"Manage the kettles": 0.5, "Shows the paired": 0.65})

    said = await answer(ExtractiveChatModel(embedder, Tuning(max_sentences=1)), asked)

    assert said == "Shows the paired kettles, one per line. [2]"


def test_lines_are_told_apart() -> None:
    assert classify("$ git config --global user.name 'Your Name'") is Kind.COMMAND
    assert classify("CREATE INDEX ON films (title);") is Kind.COMMAND
    assert classify("def create(self, env_dir):") is Kind.CODE
    assert classify("Getting Started") is Kind.NOISE
    assert classify("Use git stash when you want a clean working directory.") is Kind.PROSE


def test_a_prototype_is_no_term_its_next_lines_describe() -> None:
    # "int fwrite_matrix(file,m,nrl,nrl,ncl,nch,row_title,column_title): will plot rows of
    # the matrix, ..." opened an answer: a C prototype read as a definition-list term.
    text = (
        "int fwrite_matrix(file,m,nrl,ncl)\n\nWrites the matrix to the file.\n\n"
        "work_mem (integer)\n\nSets the base maximum amount of memory."
    )
    read = {s.text: s for s in sentences((PromptSource(index=1, title="Manual", text=text),))}

    assert read["int fwrite_matrix(file,m,nrl,ncl)"].kind in (Kind.CODE, Kind.NOISE)
    assert read["Writes the matrix to the file."].label == ""
    assert read["Sets the base maximum amount of memory."].label == "work_mem (integer)"


def test_commented_lines_run_together_are_code_not_a_command() -> None:
    # A PDF's flattened example: two comments, quoted as if a root prompt's command.
    comments = "# plot all values in row with index N # plot columns 3 to 7 for all rows"
    assert classify(comments) is Kind.CODE
    assert classify("# apt-get install gnuplot") is Kind.COMMAND
    assert classify("$ git add . # stage everything") is Kind.COMMAND
    assert classify("$ git add file.txt $ git commit") is Kind.CODE


async def with_and_without(asked: Prompt, embedder: CosineEmbedder, bonus: str) -> tuple[str, str]:
    """The one-sentence answer, and the same with the named bonus of `Tuning` at 0."""
    said = await answer(ExtractiveChatModel(embedder, Tuning(max_sentences=1)), asked)
    off = Tuning(max_sentences=1, **{bonus: 0.0})
    return said, await answer(ExtractiveChatModel(embedder, off), asked)


async def test_a_question_naming_an_option_prefers_the_entry_that_defines_it() -> None:
    # The example names "--gentle" in its own words and reads closer to the question; the
    # entry under the term "--gentle" is what the option does.
    asked = prompt(
        "What does kettlectl boil --gentle do?",
        "kettlectl boil <mode>\n\nFor example, kettlectl boil --gentle after a rapid boil "
        "leaves the tank at the temperature the table shows.\n\n"
        "--gentle\n\nKeeps the water below the boil: kettlectl never trips the cut-out.",
    )
    embedder = CosineEmbedder({"For example": 0.6, "Keeps the water": 0.5})

    said, plain = await with_and_without(asked, embedder, "defines_bonus")

    assert said.startswith("--gentle: Keeps the water below the boil")
    assert plain.startswith("For example")


async def test_asked_what_something_is_the_sentence_introducing_the_term_is_quoted() -> None:
    # Every sentence says "descalers": the words tell none apart, and the one the page
    # defines them in comes after more than the embedded few.
    uses = " ".join(f"The descalers of model {n} are sold separately." for n in range(10))
    asked = prompt(
        "What are descalers?",
        uses,
        'Descaling tablets, or "descalers", dissolve the chalk left by hard water.',
    )
    embedder = CosineEmbedder({"sold separately": 0.6, "dissolve the chalk": 0.55})

    said, plain = await with_and_without(asked, embedder, "defines_bonus")

    assert said == 'Descaling tablets, or "descalers", dissolve the chalk left by hard water. [2]'
    assert "sold separately" in plain


async def test_a_quoted_term_is_no_definition_unless_asked_what_it_is() -> None:
    asked = prompt(
        "How do I list the paired kettles?",
        'Pairing adds a kettle to the list of "paired kettles" this phone controls.',
        "The list command shows the paired kettles, one per line.",
    )
    embedder = CosineEmbedder({"Pairing adds": 0.55, "one per line": 0.6})

    said = await answer(ExtractiveChatModel(embedder, Tuning(max_sentences=1)), asked)

    assert said == "The list command shows the paired kettles, one per line. [2]"


@pytest.mark.parametrize(
    ("question", "text", "cosines", "stated", "unstated"),
    [
        # The setting's meaning reads closer to the question; only the other says the
        # default.
        (
            "Which mode does the kettle use by default?",
            "mode (string)\n\nThe name of the heating mode the kettle uses. "
            "The default mode is gentle.",
            {"The name of": 0.6, "The default mode": 0.45},
            "mode (string): The default mode is gentle. [1]",
            "mode (string): The name of the heating mode",
        ),
        # Both say "default"; only the second says what it is. With the bonus on every
        # sentence saying the word, the first kept the lead the embedder gave it.
        (
            "What is the default number of samples?",
            "The default sampling rate may be changed by the samples command. "
            "By default, sampling is set to 100 points.",
            {"The default sampling": 0.6, "By default, sampling": 0.5},
            "By default, sampling is set to 100 points. [1]",
            "The default sampling rate",
        ),
    ],
)
async def test_asked_for_a_default_the_sentence_stating_it_is_quoted(
    question: str, text: str, cosines: dict[str, float], stated: str, unstated: str
) -> None:
    said, plain = await with_and_without(
        prompt(question, text), CosineEmbedder(cosines), "default_bonus"
    )

    assert said == stated
    assert plain.startswith(unstated)


async def test_asked_where_the_sentence_naming_a_place_is_quoted() -> None:
    # "Where is my data stored?" shares "data" with the sentences on encryption and export,
    # and nothing with the one that says where.
    asked = prompt(
        "Where is my data stored?",
        "All data is encrypted at rest. Our servers are in Frankfurt, Germany. "
        "You can export all your data at any time.",
    )
    embedder = CosineEmbedder({"All data": 0.5, "Our servers": 0.45, "You can export": 0.4})

    said, plain = await with_and_without(asked, embedder, "place_bonus")

    assert said == "Our servers are in Frankfurt, Germany. [1]"
    assert plain == "All data is encrypted at rest. [1]"


async def test_a_place_counts_only_when_the_question_asks_where() -> None:
    asked = prompt(
        "How is my data stored?",
        "All data is encrypted at rest. Our servers are in Frankfurt, Germany.",
    )
    embedder = CosineEmbedder({"All data": 0.5, "Our servers": 0.45})

    said, plain = await with_and_without(asked, embedder, "place_bonus")

    assert said == plain == "All data is encrypted at rest. [1]"


async def test_a_sentence_is_read_under_the_heading_that_names_what_is_asked() -> None:
    # "Each token may make 100 requests per minute." says nothing of rate limits; its
    # heading does. The embedder is told so only when it is read with the heading.
    embedder = CosineEmbedder({"Rate limits": 0.9, "Each token": 0.2, "Over the limit": 0.6})
    asked = Prompt(
        system="",
        no_answer=NO_ANSWER,
        question="What is the API rate limit?",
        sources=(
            PromptSource(
                index=1,
                title="api.md",
                section="API › Rate limits",
                text="Each token may make 100 requests per minute.",
            ),
            PromptSource(
                index=2,
                title="api.md",
                section="API › Errors",
                text="Over the limit, the API answers 429 Too Many Requests.",
            ),
        ),
    )

    said = await answer(ExtractiveChatModel(embedder, Tuning(keep_ratio=0.95)), asked)

    assert said == "Each token may make 100 requests per minute. [1]"


async def test_a_word_written_as_two_the_question_asks_counts_as_both() -> None:
    # gnuplot's manual: "How do I set the range of the x axis?" is "set xrange", whose
    # section never says "axis"; its siblings say "y axis" and "x2 (top) axis" and won.
    embedder = CosineEmbedder({"xrange": 0.61, "yrange": 0.68, "x2range": 0.68})
    sections = {
        "Xrange": "The set xrange command sets the horizontal range that will be displayed.",
        "Yrange": "The set yrange command sets the vertical range displayed on the y axis.",
        "X2range": "The set x2range command sets the range displayed on the x2 (top) axis.",
    }
    asked = Prompt(
        system="",
        no_answer=NO_ANSWER,
        question="How do I set the range of the x axis?",
        sources=tuple(
            PromptSource(index=n, title="gnuplot.pdf", section=f"Set-show › {name}", text=text)
            for n, (name, text) in enumerate(sections.items(), 1)
        ),
    )

    said = await answer(ExtractiveChatModel(embedder), asked)

    assert said.startswith("The set xrange command sets the horizontal range")


async def test_a_sentence_opening_on_a_pronoun_is_quoted_after_the_one_it_points_back_to() -> None:
    asked = prompt(
        "Which plan has audit logs?",
        "Business costs $24 per user per month. It adds single sign-on, audit logs and "
        "priority support.",
    )

    said = await answer(ExtractiveChatModel(HashEmbedder()), asked)

    assert said.startswith("Business costs $24 per user per month. [1] It adds")


async def test_an_abbreviation_a_source_spells_out_counts_as_mentioned() -> None:
    page = "Business adds single sign-on (SAML), audit logs and priority support."
    model = ExtractiveChatModel(HashEmbedder())

    assert await answer(model, prompt("Do you support SSO?", page)) != NO_ANSWER
    assert await answer(model, prompt("Do you support LDAP?", page)) == NO_ANSWER


def faq(question: str, *entries: tuple[str, str]) -> Prompt:
    """A prompt whose sources are an FAQ's answers, each under its question as heading."""
    return Prompt(
        system="",
        no_answer=NO_ANSWER,
        question=question,
        sources=tuple(
            PromptSource(index=n, title="faq.html", section=f"FAQ › {heading}", text=text)
            for n, (heading, text) in enumerate(entries, 1)
        ),
    )


async def test_an_faq_answer_is_read_with_the_question_above_it() -> None:
    # "pick up" is "collect" in the page's words: only its question heading tells the
    # embedder what "Yes, you can collect from our workshop." answers.
    embedder = CosineEmbedder(
        {"Can I collect my order?": 0.9, "Yes, you can": 0.2, "Your bike arrives": 0.5}
    )
    asked = faq(
        "Can I pick up my bike myself?",
        ("Do bikes arrive assembled?", "Your bike arrives assembled."),
        ("Can I collect my order?", "Yes, you can collect from our workshop."),
    )

    said = await answer(ExtractiveChatModel(embedder, Tuning(keep_ratio=0.95)), asked)

    assert "you can collect from our workshop" in said and "assembled" not in said


async def test_an_faq_yes_or_no_is_quoted_after_the_question_it_answers() -> None:
    asked = faq(
        "Do you have a shop in London?",
        ("Can I collect my order?", "Yes, you can collect from our Leeds shop on weekdays."),
    )

    said = await answer(ExtractiveChatModel(HashEmbedder()), asked)

    assert said == (
        "Can I collect my order? Yes, you can collect from our Leeds shop on weekdays. [1]"
    )


async def test_a_section_titled_with_every_word_asked_is_answered_by_its_opening() -> None:
    asked = Prompt(
        system="",
        no_answer=NO_ANSWER,
        question="What is the API rate limit?",
        sources=(
            PromptSource(
                index=1,
                title="api.md",
                section="API › Rate limits",
                text="Each token may make 100 requests per minute.\n\n"
                "Over the limit, the API answers 429 Too Many Requests.",
            ),
        ),
    )

    # The embedder reads the opening as a little nearer; the other sentence says two of the
    # words asked, which would win it the answer.
    embedder = CosineEmbedder({"Each token": 0.7, "Over the limit": 0.6})

    said = await answer(ExtractiveChatModel(embedder, Tuning(keep_ratio=0.99)), asked)

    assert said == "Each token may make 100 requests per minute. [1]"


async def test_a_word_the_follow_up_leans_on_but_no_source_says_does_not_weaken_it() -> None:
    # "much" is in no source: weighed, it would dilute the follow-up's own "Business" below
    # the weak-evidence line.
    history = (
        PastMessage(Role.USER, "How much is the Team plan?"),
        PastMessage(Role.ASSISTANT, "Team costs $12 per user per month. [1]"),
    )
    asked = prompt(
        "And the Business one?",
        "Team costs $12 per user per month.",
        "Business costs $24 per user per month.",
        history=history,
    )
    embedder = CosineEmbedder({"Team costs": 0.3, "Business costs": 0.35})

    said = await answer(ExtractiveChatModel(embedder), asked)

    assert "Business costs $24 per user per month. [2]" in said


async def test_a_data_table_answers_by_a_row_read_with_its_header() -> None:
    # A CSV of stores, as the parsers write a table: one line a row, cells split by " | ".
    asked = Prompt(
        system="",
        no_answer=NO_ANSWER,
        question="Who manages the Ghent store?",
        sources=(
            PromptSource(
                index=1,
                title="stores.csv",
                text="city | manager\nPorto | Ana Sousa\nGhent | Pieter Claes",
            ),
        ),
    )

    said = await answer(ExtractiveChatModel(HashEmbedder()), asked)

    assert said == "city: Ghent; manager: Pieter Claes. [1]"


async def test_a_row_is_about_what_its_first_cell_names() -> None:
    # "How much is the Kestrel 9?" opened on a spare part's £12 from the parts table, which
    # names the Kestrel 9 among the kettles it fits, before the kettle's own £89.
    parts = "Part | Fits | Price\nLid hinge | Kestrel 7 and Kestrel 9 | £12"
    kettles = "Model | Capacity | Price\nKestrel 7 | 1.5 litres | £59\nKestrel 9 | 1.7 litres | £89"
    # The embedder finds both rows equally near: the row's key is what tells them apart.
    embedder = CosineEmbedder({"Lid hinge": 0.6, "Kestrel 9; Capacity": 0.6, "£59": 0.3})

    said = await answer(
        ExtractiveChatModel(embedder), prompt("How much is the Kestrel 9?", parts, kettles)
    )

    assert said == "Model: Kestrel 9; Capacity: 1.7 litres; Price: £89. [2]"


async def test_a_sentence_introducing_what_follows_is_quoted_with_it_or_not_at_all() -> None:
    # "To rename an existing column:" was quoted without the command it introduces.
    embedder = CosineEmbedder({"ALTER": 0.1, "To rename": 0.9, "Renaming a column keeps": 0.8})
    how = prompt(
        "How do I rename a column?",
        "To rename an existing column:\n\nALTER TABLE films RENAME COLUMN kind TO genre;",
    )
    said = await answer(ExtractiveChatModel(embedder), how)
    assert (
        said
        == "To rename an existing column: [1] ALTER TABLE films RENAME COLUMN kind TO genre; [1]"
    )
    # What follows is a command the question does not ask for: the introduction goes too.
    what = prompt(
        "What does renaming a column do?",
        "Renaming a column keeps its data.\n\n"
        "To rename an existing column:\n\nALTER TABLE films RENAME COLUMN kind TO genre;",
    )
    assert (
        await answer(ExtractiveChatModel(embedder), what) == "Renaming a column keeps its data. [1]"
    )


def test_a_line_a_sentence_introduces_is_a_command_and_no_term() -> None:
    # gnuplot's "set logscale y 2" has no prompt, option or semicolon: it read as a bare
    # heading (never quoted) and as the term the next sentence describes.
    text = (
        "To enable scaling log base 2 of the y axis:\n\nset logscale y 2\n\n"
        "To enable z and color log axes for a pm3d plot:\n\nset logscale zcb\n\n"
        "This plots both with linespoints, in two point types:\n\n"
        "plot sin(x) with linesp lt 1 pt 3, cos(x) with linesp lt 1 pt 4"
    )
    found = {s.text: s for s in sentences((PromptSource(index=1, title="M", text=text),))}

    assert found["set logscale y 2"].kind is Kind.COMMAND
    assert found["plot sin(x) with linesp lt 1 pt 3, cos(x) with linesp lt 1 pt 4"].kind is (
        Kind.COMMAND
    )
    assert found["To enable z and color log axes for a pm3d plot:"].label == ""
    # Nor does it carry the term above its introduction: its introduction says what it is.
    under = "-f\n\nForce it. To force the kettle on at night:\n\nkettlectl boil -f at 23:00 now"
    typed = sentences((PromptSource(index=1, title="M", text=under),))[-1]
    assert (typed.kind, typed.label) == (Kind.COMMAND, "")
    # Not introduced, the same line is still no sentence.
    alone = sentences((PromptSource(index=1, title="M", text="Scales.\n\nset logscale y 2"),))
    assert [s.kind for s in alone if s.text == "set logscale y 2"] == [Kind.NOISE]


async def test_a_command_is_quoted_after_the_sentence_introducing_it() -> None:
    # The command says the asked words; what it does is said only by its introduction.
    embedder = CosineEmbedder({"To enable": 0.3, "set logscale": 0.7, "Log scales": 0.2})
    asked = prompt(
        "How do I use a log scale on the y axis?",
        "Log scales suit data spanning decades.\n\n"
        "To enable scaling log base 2 of the y axis:\n\nset logscale y 2",
    )

    said = await answer(ExtractiveChatModel(embedder, Tuning(max_sentences=2)), asked)

    assert said == "To enable scaling log base 2 of the y axis: [1] set logscale y 2 [1]"


async def test_an_introduction_is_not_quoted_when_what_it_introduces_is_said_already() -> None:
    # The command is said within a longer line already quoted; its introduction alone
    # would end on a colon introducing nothing.
    embedder = CosineEmbedder({"# Input": 0.9, "For instance": 0.8, "set datafile": 0.1})
    asked = prompt(
        "How do I read a file with semicolons as separators?",
        "# Input file with semicolons as separators set datafile separator semicolon",
        'For instance to read a file using semicolons as separators:\n\nset datafile separator ";"',
    )

    said = await answer(ExtractiveChatModel(embedder), asked)

    assert said.startswith("# Input file with semicolons")
    assert "For instance" not in said


async def test_a_question_in_the_text_is_quoted_with_its_answer_never_alone() -> None:
    # A PDF's FAQ ran its questions into the text: "How long does delivery take?" was the
    # whole answer to "How long does delivery take?".
    embedder = CosineEmbedder({"How long does": 0.95, "Bikes are": 0.6, "Accessories": 0.3})
    faq = prompt(
        "How long does delivery take?",
        "How long does delivery take? Bikes are delivered within 5 to 7 working days. "
        "Accessories arrive in 2 days.",
    )
    assert await answer(ExtractiveChatModel(embedder), faq) == (
        "How long does delivery take? [1] Bikes are delivered within 5 to 7 working days. [1]"
    )
    # A question followed by nothing of its source, or by another question, answers nothing.
    alone = prompt(
        "How long does delivery take?",
        "Bikes are delivered within 5 to 7 working days.",
        "How long does delivery take? How long do returns take?",
    )
    assert await answer(ExtractiveChatModel(embedder), alone) == (
        "Bikes are delivered within 5 to 7 working days. [1]"
    )


async def test_asked_how_to_do_something_the_action_tells_procedures_apart() -> None:
    # "How do I add a column to an existing table?" quoted "To rename an existing column:":
    # among ALTER TABLE's examples "add" is common and "existing" rare, so the qualifier
    # outweighed the action the visitor asked for.
    examples = "\n\n".join(
        [
            "To add a column of type varchar to a table:",
            "ALTER TABLE distributors ADD COLUMN address varchar(30);",
            "To add a check constraint to a table:",
            "ALTER TABLE distributors ADD CONSTRAINT zipchk CHECK (char_length(zipcode) = 5);",
            "To add a foreign key constraint to a table:",
            "ALTER TABLE distributors ADD CONSTRAINT distfk FOREIGN KEY (address) REFERENCES a;",
            "To rename an existing column:",
            "ALTER TABLE distributors RENAME COLUMN address TO city;",
        ]
    )
    embedder = CosineEmbedder({"ALTER": 0.5, "To ": 0.6})

    said = await answer(
        ExtractiveChatModel(embedder),
        prompt("How do I add a column to an existing table?", examples),
    )

    assert said.startswith(
        "To add a column of type varchar to a table: [1] "
        "ALTER TABLE distributors ADD COLUMN address varchar(30); [1]"
    )
    assert "RENAME" not in said


def test_a_synopsis_term_is_counted_without_its_brackets() -> None:
    # ALTER TABLE's "ADD [ COLUMN ] [ IF NOT EXISTS ]" is nine tokens and five words: counted
    # by its tokens it was no term, and "This form adds a new column to the table" was read
    # as said of nothing (the held-out "add a column" question missed it).
    text = (
        "ADD [ COLUMN ] [ IF NOT EXISTS ]\n\nThis form adds a new column to the table.\n\n"
        'GIT_AUTHOR_NAME\n\n(nb "<", ">" and "\\n"s are stripped)\n\nThe name is the author\'s.'
    )
    found = {s.text: s.label for s in sentences((PromptSource(index=1, title="M", text=text),))}

    assert found["This form adds a new column to the table."] == "ADD [ COLUMN ] [ IF NOT EXISTS ]"
    # A remark in brackets of as many words is still no term.
    assert found["The name is the author's."] == ""


async def test_the_action_asked_for_does_not_make_weak_evidence_strong() -> None:
    # "How do I delete my GitHub account?" was answered from git's pages once "delete"
    # weighed as much as the rarest word: a weight for ranking, not evidence of an answer.
    pages = "\n\n".join(
        [
            "Deleting a branch of the repository needs -d.",
            "Deleted files leave the repository at the next commit.",
            "A repository keeps deleted objects until they are pruned.",
            "Tags are deleted from a repository with -d.",
        ]
    )
    said = await answer(
        ExtractiveChatModel(CosineEmbedder(dict.fromkeys(["Delet", "A repo", "Tags"], 0.1))),
        prompt("How do I delete a repository hosted in the cloud?", pages),
    )

    assert said == NO_ANSWER
