"""How a French word sounds, roughly: the key shared by a word and its phonetic spellings.

People who write as they hear (« sertificassion », « dossié », « téléfone », « réferan »)
are more than one letter away from the word they mean, so the typo search misses them;
their spelling still sounds like it. The key keeps the consonants as heard and merges the
vowels French writes several ways (« eau », « au », « o »; « ai », « é », « er » at the
end; « an », « en », « em »), then drops the letters French does not say at a word's end.
It is for words the content has not and the dictionary does not know: two real words
that sound alike (« cour », « cours ») are already found by their stems.
"""

from __future__ import annotations

import re
from functools import lru_cache

# Applied in order, on a folded (no accents, lower case) word.
_RULES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), replacement)
    for pattern, replacement in (
        (r"(.)\1+", r"\1"),  # doubled letters sound once: « reconnu » is no nasal
        (r"ph", "f"),
        (r"th", "t"),
        (r"(?<!c)h", ""),  # silent, but « ch » is a sound of its own
        (r"ch", "§"),
        (r"qu|q|ck|k", "k"),
        (r"c(?=[eiy])", "s"),
        (r"c", "k"),
        (r"g(?=[eiy])", "j"),
        (r"gu(?=[eiy])", "g"),
        (r"x", "ks"),
        (r"z", "s"),
        (r"w", "v"),
        (r"y", "i"),
        (r"t(?=ion)", "s"),
        (r"eau|au", "o"),
        (r"ai|ei|et$|er$|ez$", "e"),
        (r"[ae][nm](?![aeiou@10])", "@"),  # « an », « en », « em »: one nasal
        (r"[aeiu]i?[nm](?![aeiou@10])", "1"),  # « in », « ain », « un »
        (r"o[nm](?![aeiou@10])", "0"),  # « on », « om »
        (r"[sxtdp]+$", ""),  # unsaid at the end: « résultat », « temps »
        (r"e+$", ""),
        (r"(.)\1+", r"\1"),  # and once more for what the rules made double (« cc » -> « kk »)
    )
)


@lru_cache(maxsize=8192)
def sound(word: str) -> str:
    """The phonetic key of a folded word (« sertificassion » and « certification » share it)."""
    key = word
    for pattern, replacement in _RULES:
        key = pattern.sub(replacement, key)
    return key
