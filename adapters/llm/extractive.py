"""An answerer that generates nothing: it quotes the source sentences that answer the question.

Offline, deterministic and honest — every sentence it says is in a source, with the
source's number — so the service answers usefully with no API key at all.

A sentence is chosen by what it shares with the question (Snowball-stemmed words weighed by
rarity) and, when the service's embedder is handed in, by the embedding model's cosine with
the question: a handful of candidates, embedded in one batch per answer. A sentence that
defines what the question names (the entry under an option it spells, a term it asks about
introduced in quotation marks) or states the default it asks for counts more. Commands and code
are quoted only when the question asks for them; navigation, tables of contents, bare
headings and cut fragments never are, and no sentence twice; a sentence that goes on with
its paragraph comes after the sentence the paragraph opens with, when that one is about the
question too, and one that introduces what follows it ("To rename a column:") comes with
what follows or not at all. When even the best sentence is weak evidence, or the question
names something (a product or a tool: "GitLab", "macOS", "pg_upgrade") that no source
mentions, the answer is the widget's no-answer message.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from adapters.llm.evidence import (
    joined,
    joined_in,
    overlap,
    overlap_in_context,
    rarity,
    stems,
)
from adapters.llm.sentences import Kind, Sentence, classify, sentences, symbolic
from application.ports.models import Embedder
from domain.abbreviations import ABBREVIATION, spelled_out
from domain.chunking import code_line
from domain.errors import DependencyUnavailableError
from domain.models import SECTION_SEPARATOR, Usage
from domain.prompts import Prompt
from domain.vectors import folded

_WANTS_CODE = re.compile(r"\b(code|function|class|method|snippet|script|implement\w*)\b", re.I)
_WANTS_COMMAND = re.compile(
    r"\b(commands?|syntax|example|run|type|query|statement|how (do|can|would|should) (i|we|you)"
    r"|how to)\b",
    re.I,
)
_PLACEHOLDERS = re.compile(r"[\[\]<>{}|]")
# An option's spellings, which read as code by their dashes: "-a, --annotate".
_ALIASES = re.compile(r"--?[a-z][\w-]*(?:, --?[a-z][\w-]*)+", re.I)
# A term a sentence introduces: a few plain words in quotation marks ('Reference logs, or
# "reflogs", record ...'); what a question asking what something is wants.
_INTRODUCED = re.compile(r"[\"“]([A-Za-z][A-Za-z -]{0,30})[\"”]")
_ASKS_WHAT_IT_IS = re.compile(r"^\s*what\s+(is|are)\b|\bmean(s|ing)?\b|\bdefin", re.I)
# A question asking for a default, and a sentence that states one: "5432 by default", "it
# defaults to 640x480", "The default value is 4MB", "Read Committed is the default isolation
# level". A sentence naming a default it does not state ("The default sampling rate ... may
# be changed by the set samples command.") says nothing of its value.
_DEFAULT = re.compile(r"\bdefault(s|ed)?\b", re.I)
_STATES_DEFAULT = re.compile(
    r"\bby default\b|\bdefault(?:s|ed)? to\b|\b(?:is|are|was) (?:the |its |their )?default\b"
    r"|\bdefault(?: [\w-]+){0,3} (?:is|are|was)\b|\(default\b|\bdefault:",
    re.I,
)
# Asked where, a sentence naming a place answers: a preposition before a name ("Our servers
# are in Frankfurt", "from farms in Colombia", "at our Leeds workshop").
_WHERE = re.compile(r"^\s*where\b", re.I)
_PLACE = re.compile(r"\b(?:in|at|from|near)\s+(?:the\s+|our\s+)?[A-Z][a-z]")
# A term spelled as a reader types it: an option, a setting, a dotted name.
_SPELLED_TERM = re.compile(r"(?<![\w-])(?:--?[a-z][\w-]*|[a-z]\w*(?:[_.][a-z0-9]\w*)+)", re.I)
# What a question names, as it is spelled: a product or a tool ("GitLab", "LFS", "macOS",
# "pg_upgrade"), told from an ordinary word by its capitals past the first letter or an
# underscore. A word that is only capitalised is not enough: "Who pays for return shipping
# if I live in France?" is answered by "international customers pay their own return
# postage", which never says France.
_NAMED = re.compile(r"(?<![\w/.-])[A-Za-z][\w/+.-]*[\w+]")
_GREETINGS = frozenset({"ok", "okay"})
_YES_OR_NO = re.compile(r"(yes|no)\b", re.I)
_OPENS_ON_PRONOUN = re.compile(
    r"(it|its|they|their|them|this|these|those|that|he|she|such)\b", re.I
)
# A sentence that introduces what follows it (an example, a command, a list), or asks
# what the next one answers (an FAQ's question run into its answer's paragraph): it says
# nothing alone, and a question quoted back is no answer.
_INTRODUCES = re.compile(r"[:?][\"')\]]*$")
# Asked how to do something, the action asked for: "add" in "How do I add a column to an
# existing table?" (past an adverb: "How do I quickly remove ...").
_ACTION = re.compile(
    r"^\s*how\s+(?:(?:do|can|could|should|would|will|may)\s+(?:i|we|you|one)|to)\s+"
    r"(?:[a-z]+ly\s+)?([a-z]+)",
    re.I,
)


@dataclass(frozen=True, kw_only=True)
class Tuning:
    # Sentences embedded per answer, the best by shared words, each cut to its first
    # `embedded_words` (the embedding is the cost: the batch stays small and short).
    candidates: int = 8
    embedded_words: int = 32
    # The score: dense cosine and shared-word share (each 0..1), and the question's words
    # found in the sentence's document title and section. The cosine weighs more: where
    # the words tie, the embedder's reading of the sentence decides over a page's
    # statement of what it is for (its bonus below).
    dense_weight: float = 0.7
    lexical_weight: float = 0.3
    title_weight: float = 0.15
    # A question word found only in the term the sentence defines, or only in its
    # paragraph's first sentence, counts this much of one found in the sentence.
    label_weight: float = 1.0
    topic_weight: float = 0.5
    # The same for a word found only in the page's name line, read with the sentence that
    # follows it (the page's statement of what its subject does).
    lead_weight: float = 1.0
    # Added to the sentence that follows a page's name line: what the page is for.
    lead_bonus: float = 0.1
    # Added to a sentence that defines a term the question names: the description of the
    # option or setting it spells ("--soft"), or a sentence introducing it ('"reflogs"').
    defines_bonus: float = 0.15
    # Added to a sentence that states a default when the question asks for one.
    default_bonus: float = 0.15
    # Added to a sentence that names a place when the question asks where.
    place_bonus: float = 0.15
    # Added to the first sentence of a section whose headings say every word asked.
    opening_bonus: float = 0.15
    # Added to a command or code line when the question asks for one.
    asked_kind_bonus: float = 0.2
    # The evidence is too weak to quote when no sentence covers this share of the
    # question's words and none has this cosine with it. The cosine is the relevance
    # floor's closer look (`ChatPolicy.min_sentence_score`): a sentence near enough to let
    # an answer past the floor is near enough to quote, and one below it is not (set from
    # unrelated questions, whose nearest sentence was at 0.41 at most; 0.40 here quoted
    # "Keep your coffee in the resealable bag ..." for "Do you sell coffee machines?").
    weak_lexical: float = 0.34
    weak_dense: float = 0.45
    # Sentences quoted with the best: within this share of its score, at most so many.
    keep_ratio: float = 0.85
    max_sentences: int = 4
    max_chars: int = 600
    # The previous question's words weigh this much when the follow-up leans on it, and,
    # for a prompt without the vector it was searched with, its vector moves the
    # follow-up's this far towards it (as retrieval's `ChatPolicy.follow_up_weight` does).
    context_weight: float = 0.5
    context_dense_weight: float = 0.8


@dataclass(frozen=True)
class _Scored:
    score: float
    sentence: Sentence
    at: int


def quoted(s: Sentence, *, aliases: bool = True) -> str:
    """The sentence as the answer says it: after the term it defines when that is a plain
    term ("--soft", "work_mem (integer)"), a command ("git diff --cached") or an option's
    spellings ("-a, --annotate"); a synopsis, an option with placeholders or a line of
    code ("REFRESH MATERIALIZED VIEW order_summary;") would open the answer with code."""
    kind = classify(s.label)
    command = kind is Kind.COMMAND and not code_line(s.label)
    plain = (kind is Kind.NOISE or command) and not _PLACEHOLDERS.search(s.label)
    shown = plain or (aliases and bool(_ALIASES.fullmatch(s.label)))
    return f"{s.label}: {s.text}" if s.label and shown else s.text


def _in_context(s: Sentence, heading: str) -> str:
    """What the embedder reads of a sentence: its term, its page's name line or else the
    heading it sits under, for meaning."""
    context = s.label or s.lead_of or heading
    return f"{context}: {s.text}" if context else s.text


def _asks(heading: str) -> bool:
    return heading.endswith("?")


def _answering(text: str, heading: str) -> str:
    """An FAQ's "Yes, ..." or "No, ..." answers the question above it, which may not be the
    visitor's ("Do you have a shop in London?" against "Can I collect my order?"): it is
    quoted after that question."""
    return f"{heading} {text}" if _asks(heading) and _YES_OR_NO.match(text) else text


def _leaf(section: str) -> str:
    """The heading a text sits right under: the last step of its section path."""
    return section.rsplit(SECTION_SEPARATOR, 1)[-1].strip()


def _key(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9]+", text.lower()))


def _said(s: Sentence, chosen: Sequence[Sentence]) -> bool:
    """The same statement is quoted already, or said whole within one that is."""
    key = _key(s.text)
    return any(key in _key(c.text) or _key(c.text) in key for c in chosen)


def _continuation(s: Sentence, by_order: Mapping[int, Sentence]) -> Sentence | None:
    """What a sentence introducing something ("For example, to create a Hash index:") goes
    on with: the next sentence of its source, when it may be quoted (a list of terms or
    code the question did not ask for may not)."""
    follows = by_order.get(s.order + 1)
    if follows is None or follows.source != s.source or _INTRODUCES.search(follows.text):
        return None
    return follows


def _introduction(s: Sentence, by_order: Mapping[int, Sentence]) -> Sentence | None:
    """The sentence introducing a command or code line `s`, if one does and may be quoted."""
    if s.kind not in (Kind.COMMAND, Kind.CODE) or not s.introduced:
        return None
    return by_order.get(s.order - 1)


def _opening(
    s: Sentence, found: Mapping[str, Sentence], asked: Mapping[str, float]
) -> Sentence | None:
    """The sentence the paragraph of `s` opens with, when it is a candidate and shares a
    word with the question or `s` points back to it."""
    opening = found.get(_key(s.topic)) if s.topic else None
    if opening is None:
        return None
    # A sentence opening on a pronoun ("It adds single sign-on ...") says nothing without
    # the one it points back to ("Business costs $24 per user per month.").
    points_back = _OPENS_ON_PRONOUN.match(s.text)
    return opening if points_back or asked.keys() & set(stems(opening.text)) else None


def _defines(
    s: Sentence, spelled: frozenset[str], introduced: frozenset[str], own: frozenset[str]
) -> bool:
    """The sentence defines a term the question names: it describes an option or setting
    the question spells (`spelled`: "--soft", "work_mem"), introduces one of the words
    `introduced` in quotation marks ('Reference logs, or "reflogs", record ...'), or is a
    table's row whose first cell says only words the question asks (`own`): asked about the
    Kestrel 9, its row ("Model: Kestrel 9; Price: £89.") defines it, a spare part's that
    fits it ("Part: Lid hinge; Fits: Kestrel 7 and Kestrel 9; ...") does not."""
    if s.label and spelled & {t.lower() for t in _SPELLED_TERM.findall(s.label)}:
        return True
    if s.key and (key := frozenset(stems(s.key))) and key <= own:
        return True
    return bool(introduced) and any(
        introduced & set(stems(term)) for term in _INTRODUCED.findall(s.text)
    )


def _pointers(
    found: Sequence[Sentence], pointing: Sequence[int], asked: frozenset[str]
) -> dict[int, tuple[int, ...]]:
    """For each sentence of `pointing`, the descriptions of the options it spells that the
    question does not: the first sentence under each term that names one."""
    described: dict[str, int] = {}
    for i, s in enumerate(found):
        if s.label and s.kind is Kind.PROSE:
            for term in _SPELLED_TERM.findall(s.label):
                described.setdefault(term.lower(), i)
    pointers = {}
    for i in pointing:
        spelled = {term.lower() for term in _SPELLED_TERM.findall(found[i].text)} - asked
        targets = tuple(sorted({described[x] for x in spelled if x in described} - {i}))
        if targets:
            pointers[i] = targets
    return pointers


def named(question: str) -> list[str]:
    """The names the question spells (see `_NAMED`), as they are written; none in a
    question written in capitals, which spells nothing apart."""
    if question.isupper():
        return []
    return [
        word
        for word in _NAMED.findall(question)
        if word.lower() not in _GREETINGS and (any(c.isupper() for c in word[1:]) or "_" in word)
    ]


def _unmentioned(prompt: Prompt) -> list[str]:
    """The names the question spells that no source says: the sources are about something
    else ("How do I migrate from GitLab?" against pages that never say GitLab)."""
    names = named(prompt.question)
    if not names:  # most questions: the sources need not be read for it
        return []
    said = set()
    texts = [f"{src.heading()} {src.about} {src.text}" for src in prompt.sources]
    for text in texts:
        said.update(stems(text))
    return [
        name
        for name in names
        if not set(stems(name)) <= said
        # an abbreviation a source spells out ("SSO": "single sign-on") is mentioned
        and not (ABBREVIATION.fullmatch(name) and any(spelled_out(name, t) for t in texts))
    ]


def _action(question: str) -> str | None:
    """The stem of the verb a how-to question asks to do, if it asks one."""
    match = _ACTION.match(question)
    found = stems(match.group(1)) if match else []
    return found[0] if found else None


def _with_action(
    weights: dict[str, float], question: str, terms: Sequence[frozenset[str]]
) -> dict[str, float]:
    """The weights a how-to question's sentences are ranked by: its action tells procedures
    on one thing apart ("To add a column ...:", not "To rename an existing column:"),
    however common it is among them, so it weighs as much as the rarest word asked where
    some sentence says it. Only for ranking: "How do I delete my GitHub account?" must not
    pass the weak-evidence line on git's many deletions. `weights` itself when unchanged."""
    action = _action(question)
    if action not in weights or not any(action in ts for ts in terms):
        return weights
    return {**weights, action: max(weights.values())}


def _asked(own: Sequence[str], before: str | None, weight: float) -> dict[str, float]:
    """The question's own stems with their weights, and those of the question `before` it,
    which it leans on, at `weight`."""
    asked = dict.fromkeys(own, 1.0)
    if before:
        for term in stems(before):
            asked.setdefault(term, weight)
    return asked


@dataclass(frozen=True)
class _Candidates:
    """The sentences an answer may quote: each once, the copy of the best-ranked source."""

    found: list[Sentence]
    unique: dict[str, Sentence]
    by_order: dict[int, Sentence]
    wanted: frozenset[Kind]


def _candidates(prompt: Prompt) -> _Candidates:
    wanted: frozenset[Kind] = frozenset()
    if _WANTS_CODE.search(prompt.question):
        wanted = frozenset({Kind.CODE, Kind.COMMAND})
    elif _WANTS_COMMAND.search(prompt.question):
        wanted = frozenset({Kind.COMMAND})
    allowed = {Kind.PROSE} | wanted
    unique: dict[str, Sentence] = {}
    for s in sentences(prompt.sources):
        # Read with a plain term only: an option's spellings are punctuation enough to
        # make "-q, --quiet: Be quiet." look like code.
        readable = Kind.CODE in wanted or not symbolic(quoted(s, aliases=False))
        if s.kind in allowed and readable:
            # The first copy (the best-ranked source's), unless a later one is said after
            # the term it describes: git-diff's "Changes in the working tree not yet
            # staged" opens its EXAMPLES section, so later chunks carry it in their
            # summary, and only the example's own chunk says it explains "git diff".
            key = _key(s.text)
            first = unique.setdefault(key, s)
            if first is not s and quoted(s) != s.text and quoted(first) == first.text:
                unique[key] = s
    by_order = {s.order: s for s in unique.values()}
    # A sentence introducing what does not follow it, or asking what nothing after it
    # answers, is never quoted: it sets no bar for the others and vouches for nothing.
    found = [
        s for s in unique.values() if not _INTRODUCES.search(s.text) or _continuation(s, by_order)
    ]
    return _Candidates(found, unique, by_order, wanted)


def _bonuses(
    prompt: Prompt,
    found: Sequence[Sentence],
    spelled: frozenset[str],
    own: frozenset[str],
    t: Tuning,
) -> list[float]:
    """What each sentence scores for saying what the question asks for besides its words:
    a definition of what it names, a default, a place, a titled section's opening."""
    # Asked what something is, a sentence introducing one of the question's own words.
    introduced = own if _ASKS_WHAT_IT_IS.search(prompt.question) else frozenset()
    defines = [t.defines_bonus if _defines(s, spelled, introduced, own) else 0.0 for s in found]
    # Asked for a default, a sentence saying what the default is answers; one about the
    # setting's meaning does not ("The name of the index method to be used."). Asked
    # where, a sentence naming a place does.
    for asks, says, bonus in (
        (_DEFAULT, _STATES_DEFAULT, t.default_bonus),
        (_WHERE, _PLACE, t.place_bonus),
    ):
        if asks.search(prompt.question):
            defines = [
                d + (bonus if says.search(s.text) else 0.0)
                for d, s in zip(defines, found, strict=True)
            ]
    # A section whose headings say every word asked ("API", "Rate limits" for "What is the
    # API rate limit?") opens with what the question wants ("Each token may make 100
    # requests per minute.", which says none of those words).
    titled = {src.index for src in prompt.sources if own and own <= set(stems(src.section))}
    opening: dict[int, int] = {}
    for s in found:
        if s.source in titled and s.kind is Kind.PROSE:
            opening.setdefault(s.source, s.order)
    defines = [
        d + (t.opening_bonus if opening.get(s.source) == s.order else 0.0)
        for d, s in zip(defines, found, strict=True)
    ]
    return defines


def _quoted(
    scored: Sequence[_Scored],
    bar: float,
    candidates: _Candidates,
    asked: Mapping[str, float],
    described: Mapping[int, tuple[Sentence, ...]],
    t: Tuning,
) -> list[Sentence]:
    """The best sentences down to the bar, each with what it cannot be read without, within
    the answer's bounds, in reading order."""
    unique, by_order = candidates.unique, candidates.by_order
    chosen: list[Sentence] = []
    for best in scored:
        if len(chosen) >= t.max_sentences or best.score < bar:
            break
        said = (best.sentence,)
        if _INTRODUCES.search(best.sentence.text):
            # "To rename an existing column:" means nothing without the command after
            # it, nor "Can I pay by invoice?" without its answer: quoted with what
            # follows, or not at all (nor when that is said already, within another).
            follows = _continuation(best.sentence, by_order)
            if follows is None or _said(follows, chosen):
                continue
            said = (best.sentence, follows)
        elif (introduced := _introduction(best.sentence, by_order)) is not None:
            # A line to type says what it does through the sentence introducing it ("To
            # enable scaling log base 2 of the y axis:"): quoted after it.
            said = (introduced, best.sentence)
        # A sentence spelling an option the question does not ("If this option is
        # specified together with --amend, ...") is read with what that option does.
        options = described.get(best.at, ())
        opening = _opening(best.sentence, unique, asked)
        # A sentence that goes on with its paragraph is read after the sentence the
        # paragraph opens with ("Reference logs, or "reflogs", record when..." before
        # "Reflogs are useful in..."), when that one is about the question too.
        lead = (opening,) if opening else ()
        for group in dict.fromkeys(
            ((*lead, *said, *options), (*lead, *said), (*said, *options), said)
        ):
            new = [x for x in group if not _said(x, chosen)]
            size = sum(len(x.text) for x in (*chosen, *new))
            if len(chosen) + len(new) <= t.max_sentences and (not chosen or size <= t.max_chars):
                chosen.extend(new)
                break
    return sorted(chosen, key=lambda s: s.order)


class ExtractiveChatModel:
    name = "extractive"

    def __init__(self, embedder: Embedder | None = None, tuning: Tuning | None = None) -> None:
        self._embedder = embedder
        self._tuning = tuning or Tuning()

    async def stream(self, prompt: Prompt) -> AsyncIterator[str | Usage]:
        picked = await self.choose(prompt)
        leaves = {src.index: _leaf(src.section) for src in prompt.sources}
        text = (
            " ".join(f"{_answering(quoted(s), leaves[s.source])} [{s.source}]" for s in picked)
            if picked
            else prompt.no_answer
        )
        words = text.split(" ")
        for n, word in enumerate(words):
            yield word if n == len(words) - 1 else word + " "
        yield Usage()

    async def choose(self, prompt: Prompt) -> list[Sentence]:
        """The sentences to quote, in reading order; none when the evidence is weak."""
        t = self._tuning
        candidates = _candidates(prompt)
        found, wanted = candidates.found, candidates.wanted
        # The question a follow-up was searched with, read with it as retrieval read it.
        before = prompt.context or None
        asked = _asked(stems(prompt.question), before, t.context_weight)
        if not found or not asked or _unmentioned(prompt):
            return []
        parts = joined(prompt.question)
        terms = [frozenset(stems(s.text) + joined_in(s.text, parts)) for s in found]
        labels = [frozenset(stems(s.label) + joined_in(s.label, parts)) for s in found]
        titles = {src.index: frozenset(stems(src.heading())) for src in prompt.sources}
        # The heading a sentence sits under, read with it when it names what is asked ("Rate
        # limits" tells what "Each token may make 100 requests per minute." is about, where a
        # manual's "DESCRIPTION" tells nothing) or asks a question: an FAQ's answer is about
        # the question above it ("Can I collect my order?": "Yes, you can collect from our
        # Leeds workshop ...", asked as "Can I pick up my bike myself?").
        leaves = {
            src.index: leaf if _asks(leaf) or asked.keys() & set(stems(leaf)) else ""
            for src in prompt.sources
            for leaf in (_leaf(src.section),)
        }
        # The previous question's words weigh only where a source says them: "How much is the
        # Team plan?" lends "much", which no sentence says, and would dilute "And the Business
        # one?" below the weak-evidence line.
        said = set().union(*terms, *labels, *titles.values())
        asked = {term: w for term, w in asked.items() if w >= 1.0 or term in said}
        # A word is rare when few sentences are about it, by their own words, the term they
        # define or their page's title: "reset" on the git-reset page tells none apart.
        weights = rarity(
            [ts | ls | titles[s.source] for s, ts, ls in zip(found, terms, labels, strict=True)],
            asked,
        )
        contexts = [
            (
                (ls, t.label_weight),
                (frozenset(stems(s.topic)), t.topic_weight),
                (frozenset(stems(s.lead_of)), t.lead_weight),
            )
            for s, ls in zip(found, labels, strict=True)
        ]

        def shares(by: Mapping[str, float]) -> list[float]:
            pairs = zip(terms, contexts, strict=True)
            return [overlap_in_context(asked, by, ts, c) for ts, c in pairs]

        # How much of the question each sentence says decides whether the evidence is too
        # weak to quote, by the words' own weights; the ranking weighs the action asked for.
        said_share = shares(weights)
        ranking = _with_action(weights, prompt.question, terms)
        lexical = shares(ranking) if ranking is not weights else said_share
        # Read with the words run together, unlike the rarity above: every sentence under an
        # "Xrange" heading would make "x" common.
        headings = {
            src.index: titles[src.index] | frozenset(joined_in(src.heading(), parts))
            for src in prompt.sources
        }
        heading = [overlap(asked, ranking, headings[s.source]) for s in found]
        spelled = frozenset(x.lower() for x in _SPELLED_TERM.findall(prompt.question))
        own = frozenset(term for term, w in asked.items() if w >= 1.0)
        defines = _bonuses(prompt, found, spelled, own, t)
        # The cheap score picks the few worth embedding; source rank breaks its ties.
        shortlist = sorted(
            range(len(found)),
            key=lambda i: (-(lexical[i] + t.title_weight * heading[i] + defines[i]), i),
        )[: t.candidates]
        # What the likeliest sentences point to ("see the -a and -s options", "git commit
        # --amend --no-edit amends a commit ..."): the description of each option they spell
        # is read in the same batch, and counts as a definition if they are quoted.
        pointers = _pointers(found, shortlist, spelled)
        extra = sorted({i for targets in pointers.values() for i in targets} - set(shortlist))
        read = shortlist + extra[: t.candidates]
        dense = await self._cosines(
            prompt,
            before,
            [
                " ".join(_in_context(found[i], leaves[found[i].source]).split()[: t.embedded_words])
                for i in read
            ],
        )
        score = {
            i: t.lexical_weight * lexical[i]
            + t.title_weight * heading[i]
            + (t.dense_weight * dense[n] if dense else 0.0)
            + (t.asked_kind_bonus if found[i].kind in wanted else 0.0)
            + (t.lead_bonus if found[i].lead_of else 0.0)
            + defines[i]
            for n, i in enumerate(read)
        }
        # Quoted: the sentences within `keep_ratio` of the best before what it points to
        # counts, which lifts the descriptions pointed to without raising the bar.
        bar = t.keep_ratio * max(score[i] for i in shortlist)
        pointed = {
            target
            for i in shortlist
            if score[i] >= bar
            for target in pointers.get(i, ())
            if target in score
        }
        scored = sorted(
            (
                _Scored(score[i] + (t.defines_bonus if i in pointed else 0.0), found[i], i)
                for i in read
                if i in shortlist or i in pointed
            ),
            key=lambda s: (-s.score, s.sentence.order),
        )
        strong_words = max(said_share[i] for i in shortlist) >= t.weak_lexical
        if not strong_words and max(dense[: len(shortlist)], default=0.0) < t.weak_dense:
            return []
        described = {
            i: tuple(found[x] for x in pointers.get(i, ()) if x in score)[:1] for i in read
        }
        return _quoted(scored, bar, candidates, asked, described, t)

    async def _cosines(
        self, prompt: Prompt, before: str | None, texts: Sequence[str]
    ) -> list[float]:
        """Each text's cosine with the question, in one batch; none without an embedder or
        when it fails (the shared words still choose). The question is read as the search
        read it: with the vector it was searched with, when the prompt carries it (embedded
        already, by the same model), and a follow-up leaning on the question `before` it
        moved towards that one: "How do I take it away again?" alone is near no sentence of
        the REVOKE page it found."""
        if self._embedder is None or not texts:
            return []
        searched = prompt.vector
        asked: list[str] = []
        if not searched:
            asked = [prompt.question] if before is None else [prompt.question, before]
        try:
            vectors = await self._embedder.embed([*asked, *texts])
        except DependencyUnavailableError:
            return []
        units = _units(np.asarray(vectors, dtype=np.float32))
        if searched:
            toward = _units(np.asarray([searched], dtype=np.float32))[0]
        elif before is None:
            toward = units[0]
        else:
            # As lists: `folded` walks the floats in Python, three times faster than numpy's.
            weight = self._tuning.context_dense_weight
            toward = np.asarray(folded(units[0].tolist(), units[1].tolist(), weight))
        return [float(x) for x in units[len(asked) :] @ toward]


def _units(rows: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    norms = np.linalg.norm(rows, axis=1)
    norms[norms == 0.0] = 1.0
    return rows / norms[:, None]
