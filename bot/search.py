"""Accent-insensitive ranked search over all content.

Built once per content load; a query costs a few dictionary look-ups, so that
free text in a DM is answered as fast as a subcommand.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from bot.content_models import (
    ChannelsTopic,
    ReferentsTopic,
    ResourcesTopic,
    Topic,
)
from bot.text import keywords

TITLE_WEIGHT = 3.0
BODY_WEIGHT = 1.0
PREFIX_MATCH = 0.7
MIN_PREFIX = 4
# A query is read up to here: past it, a long paste costs nothing more.
MAX_QUERY_CHARS = 1_000


@dataclass(frozen=True)
class Document:
    topic_id: str
    title: str
    snippet: str
    url: str


@dataclass(frozen=True)
class Hit:
    document: Document
    score: float


class SearchIndex:
    def __init__(
        self,
        documents: list[Document],
        postings: dict[str, dict[int, float]],
    ) -> None:
        self._documents = documents
        self._postings = postings
        self._prefixes: dict[str, set[str]] = defaultdict(set)
        # No indexed word is longer than this, so no longer beginning of a query word can match.
        self._longest = max(map(len, postings), default=0)
        for token in postings:
            for end in range(MIN_PREFIX, len(token)):
                self._prefixes[token[:end]].add(token)

    @classmethod
    def build(cls, topics: Iterable[Topic]) -> SearchIndex:
        documents: list[Document] = []
        postings: dict[str, dict[int, float]] = defaultdict(dict)

        def add(document: Document, title: str, body: str) -> None:
            number = len(documents)
            documents.append(document)
            for token in keywords(body):
                slot = postings[token]
                slot[number] = slot.get(number, 0.0) + BODY_WEIGHT
            for token in set(keywords(title)):
                slot = postings[token]
                slot[number] = slot.get(number, 0.0) + TITLE_WEIGHT

        for topic in topics:
            for document, title, body in _documents_of(topic):
                add(document, title, body)
        count = max(len(documents), 1)
        weighted = {
            token: {
                doc: math.log(1 + count / len(docs)) * (1 + math.log(weight))
                for doc, weight in docs.items()
            }
            for token, docs in postings.items()
        }
        return cls(documents, weighted)

    def search(self, query: str, limit: int = 3) -> list[Hit]:
        """The best documents for `query`, at most one per topic, best first."""
        scores: dict[int, float] = defaultdict(float)
        for word in set(keywords(query[:MAX_QUERY_CHARS])):
            for token, factor in self._expand(word):
                for doc, weight in self._postings[token].items():
                    scores[doc] += weight * factor
        best_per_topic: dict[str, Hit] = {}
        for doc, score in sorted(scores.items(), key=lambda item: (-item[1], item[0])):
            document = self._documents[doc]
            if document.topic_id not in best_per_topic:
                best_per_topic[document.topic_id] = Hit(document, score)
        return list(best_per_topic.values())[:limit]

    def _expand(self, word: str) -> list[tuple[str, float]]:
        """`word` itself, the longer words it starts, and the shorter words that start it.

        Linear in `len(word)`: only its beginnings up to the longest indexed word are
        looked up (each slice is short), not all of them (quadratic for a long word).
        """
        matches: dict[str, float] = {}
        if word in self._postings:
            matches[word] = 1.0
        if len(word) >= MIN_PREFIX:
            for token in self._prefixes.get(word, ()):
                matches.setdefault(token, PREFIX_MATCH)
            for end in range(MIN_PREFIX + 1, min(len(word), self._longest + 1)):
                if word[:end] in self._postings:
                    matches.setdefault(word[:end], PREFIX_MATCH)
        return list(matches.items())


def _documents_of(topic: Topic) -> Iterable[tuple[Document, str, str]]:
    """(document, title words, body words) for each searchable piece of a topic."""
    home = topic.sources[0]
    names = " ".join([topic.id, topic.title, *topic.aliases])
    # Topic keywords count as body text: a resource or section that names the
    # same word in its own title is the more precise answer and must win.
    body = " ".join([topic.summary, *topic.keywords])
    yield Document(topic.id, topic.title, topic.summary, home), names, body
    for section in topic.sections:
        body = " ".join([section.text, *section.items])
        snippet = section.text or section.items[0]
        yield Document(topic.id, section.title, snippet, home), section.title, body
    for link in topic.links:
        yield Document(topic.id, link.title, link.title, link.url), link.title, ""
    if isinstance(topic, ReferentsTopic):
        for person in topic.referents:
            text = f"{person.name}, {person.role}"
            yield Document(topic.id, person.name, text, home), person.name, person.role
    if isinstance(topic, ChannelsTopic):
        for channel in topic.channels:
            title = f"~{channel.name}"
            body = f"{channel.display_name} {channel.description} {channel.how_to_join}"
            yield Document(topic.id, title, channel.description, channel.url), title, body
    if isinstance(topic, ResourcesTopic):
        for resource in topic.resources:
            title = f"{resource.title} {' '.join(resource.keywords)}"
            body = resource.description
            yield (
                Document(
                    topic.id, resource.title, resource.description or resource.title, resource.url
                ),
                title,
                body,
            )
