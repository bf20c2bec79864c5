"""What people type -> the words the analysis knows: SMS spellings, glued pronouns.

« c koi la certif », « jai deja la certification », « jpeux passer l'oral ? »: the
content is written in standard French, so the question is brought to it before stemming.

Where the table comes from: no maintained lexicon of French SMS spellings is packaged for
Python (none on the package index this project installs from), so the list below is the
short, closed set of the forms French chat writing uses for *function* words and a few
everyday nouns — the same few dozen in every texting guide — not the content's vocabulary,
which `content/synonymes.yaml` holds for the editors. A form is here only if it is not
itself a French word the content could use (« ya », not « la »).

A glued subject pronoun (« jveux », « jcomprend », « jsuis ») is split by rule rather than
listed: no French word starts with « j » and a consonant.
"""

from __future__ import annotations

import re
from functools import lru_cache

# folded SMS form -> its standard words (folded; several words where the form glues them)
SMS_FORMS: dict[str, str] = {
    "c": "c est",
    "koi": "quoi",
    "koa": "quoi",
    "ki": "qui",
    "ke": "que",
    "keske": "qu est ce que",
    "kesako": "qu est ce que",
    "kezako": "qu est ce que",
    "jai": "j ai",
    "jsuis": "je suis",
    "chui": "je suis",
    "chuis": "je suis",
    "jsp": "je sais pas",
    "ya": "il y a",
    "cest": "c est",
    "quest": "qu est",
    "cb": "combien",
    "cmb": "combien",
    "combi1": "combien",
    "tps": "temps",
    "pr": "pour",
    "pk": "pourquoi",
    "pq": "pourquoi",
    "pcq": "parce que",
    "qd": "quand",
    "qq": "quelque",
    "qqn": "quelqu un",
    "qqun": "quelqu un",
    "qqch": "quelque chose",
    "tt": "tout",
    "ts": "tous",
    "bcp": "beaucoup",
    "dc": "donc",
    "ds": "dans",
    "vs": "vous",
    "ns": "nous",
    "mm": "meme",
    "tjr": "toujours",
    "tjrs": "toujours",
    "auj": "aujourd hui",
    "pb": "probleme",
    "pbs": "problemes",
    "pbm": "probleme",
    "rdv": "rendez vous",
    "bjr": "bonjour",
    "slt": "salut",
    "mrc": "merci",
    "mci": "merci",
    "thx": "thanks",
    "dsl": "desole",
    "nn": "non",
    "oue": "oui",
    "ouais": "oui",
    "chai": "je sais",
    "bi1": "bien",
    "ri1": "rien",
    "koment": "comment",
    "komen": "comment",
    "coment": "comment",
    "kan": "quand",
    "kand": "quand",
    "pourkoi": "pourquoi",
    # written as heard (« kes ke sai », « conbien »): the same function words
    "kes": "qu est",
    "kesk": "qu est ce que",
    "sai": "c est",
    "kel": "quel",
    "kelle": "quelle",
    "kels": "quels",
    "kelles": "quelles",
    "conbien": "combien",
    "konbien": "combien",
    "sui": "suis",
    "ele": "elle",
    "eles": "elles",
    "fo": "faut",
    "fau": "faut",
    "oci": "aussi",
    "ossi": "aussi",
    "pourkoa": "pourquoi",
}

# The community's abbreviations, read before folding because their lower-case form is
# another word (« se », the pronoun): « ma SE » is « ma startup d'État ».
_ABBREVIATIONS = ((re.compile(r"\bSEs?\b"), "startup d'État"),)

# « jveux », « jpeux », « jfais »: a glued « je » before a consonant.
_GLUED_JE = re.compile(r"^j([bcdfgklmnpqrstvwxz][a-z]{2,})$")


@lru_cache(maxsize=8192)
def standard(word: str) -> tuple[str, ...]:
    """The standard words for one folded word as typed (itself, most of the time)."""
    sms = SMS_FORMS.get(word)
    if sms is not None:
        return tuple(sms.split())
    glued = _GLUED_JE.match(word)
    if glued:
        return ("je", glued.group(1))
    return (word,)


def spelled_out(text: str) -> str:
    """`text` with the community's abbreviations written out (case-sensitive)."""
    if "SE" not in text:
        return text
    for pattern, words in _ABBREVIATIONS:
        text = pattern.sub(words, text)
    return text
