"""The built-in programming problems: original, each with a reference solution and hidden tests.

A problem is a function signature, a statement (the docstring the agent reads), one worked
example shown in the statement, a reference solution, and 6 to 8 hidden cases as
``(arguments, expected value)`` pairs of JSON data. The example is never one of the hidden cases.
``compare`` says how a returned value is checked against the expected one:

    exact      equal as JSON data (tuples count as lists; True is not 1)
    float      like exact, numbers within a relative 1e-6 (absolute 1e-9)
    unordered  the returned list holds the expected items in any order

Task ids are ``programming-<slug>``; a problem's split is a hash of its statement.
"""

from __future__ import annotations

import ast
import textwrap
from dataclasses import dataclass
from typing import Any, Literal

__all__ = ["PROBLEMS", "Problem"]

Compare = Literal["exact", "float", "unordered"]


@dataclass(frozen=True)
class Problem:
    """One built-in problem (see the module docstring)."""

    slug: str
    """Short name, unique: the task id is ``programming-<slug>``."""
    signature: str
    """The ``def`` line, with argument and return types."""
    doc: str
    """What the function must do, as its docstring says it."""
    example: tuple[list[Any], Any]
    """Arguments and result shown in the statement; never a hidden case."""
    reference: str
    """A correct solution: the complete function definition."""
    cases: tuple[tuple[list[Any], Any], ...]
    """Hidden tests: positional arguments and the expected return value."""
    compare: Compare = "exact"
    """How a returned value is compared with the expected one."""
    difficulty: int = 1
    """1 (a few lines) to 3 (a small algorithm)."""

    @property
    def entry_point(self) -> str:
        """The function's name, read from the signature."""
        node = ast.parse(self.signature + " ...").body[0]
        assert isinstance(node, ast.FunctionDef)
        return node.name

    def statement(self) -> str:
        """The signature and docstring the agent reads, the example included."""
        args, result = self.example
        call = f"{self.entry_point}({', '.join(repr(arg) for arg in args)})"
        body = textwrap.dedent(self.doc).strip()
        body += f"\n\nExample: {call} returns {result!r}."
        return f'{self.signature}\n    """{textwrap.indent(body, "    ").lstrip()}\n    """'


PROBLEMS: tuple[Problem, ...] = (
    # ------------------------------------------------------------------------------ strings
    Problem(
        slug="run-length-encode",
        signature="def run_length_encode(text: str) -> str:",
        doc="""
            Compress each run of repeated characters into the character followed by the length
            of the run. Every run gets a count, even a run of one; the empty string stays empty.
        """,
        example=(["aaabcc"], "a3b1c2"),
        reference="""
def run_length_encode(text: str) -> str:
    parts = []
    i = 0
    while i < len(text):
        j = i
        while j < len(text) and text[j] == text[i]:
            j += 1
        parts.append(f"{text[i]}{j - i}")
        i = j
    return "".join(parts)
""",
        cases=(
            (["aaab"], "a3b1"),
            ([""], ""),
            (["x"], "x1"),
            (["abab"], "a1b1a1b1"),
            (["zzzzzzzzzzzz"], "z12"),
            (["AAaa"], "A2a2"),
            (["  !!"], " 2!2"),
        ),
    ),
    Problem(
        slug="palindrome-phrase",
        signature="def is_palindrome_phrase(text: str) -> bool:",
        doc="""
            Tell whether the text reads the same forwards and backwards when only its letters
            and digits are kept and case is ignored. Text with no letters or digits counts as a
            palindrome.
        """,
        example=(["Was it a car or a cat I saw?"], True),
        reference="""
def is_palindrome_phrase(text: str) -> bool:
    kept = [ch.lower() for ch in text if ch.isalnum()]
    return kept == kept[::-1]
""",
        cases=(
            (["A man, a plan, a canal: Panama"], True),
            (["race a car"], False),
            ([""], True),
            (["No 'x' in Nixon"], True),
            (["12321"], True),
            (["123 21x"], False),
            ([".,!"], True),
            (["Ab"], False),
        ),
    ),
    Problem(
        slug="caesar-shift",
        signature="def caesar_shift(text: str, shift: int) -> str:",
        doc="""
            Shift every ASCII letter of the text by ``shift`` places in the alphabet, wrapping
            from z to a, and keep its case. Other characters are unchanged. The shift may be
            negative or larger than 26.
        """,
        example=(["Python", 2], "Ravjqp"),
        reference="""
def caesar_shift(text: str, shift: int) -> str:
    out = []
    for ch in text:
        if "a" <= ch <= "z":
            out.append(chr((ord(ch) - 97 + shift) % 26 + 97))
        elif "A" <= ch <= "Z":
            out.append(chr((ord(ch) - 65 + shift) % 26 + 65))
        else:
            out.append(ch)
    return "".join(out)
""",
        cases=(
            (["abc", 1], "bcd"),
            (["xyz", 3], "abc"),
            (["Hello, World!", 13], "Uryyb, Jbeyq!"),
            (["abc", -1], "zab"),
            (["Zebra", 52], "Zebra"),
            (["", 5], ""),
            (["a1-B2", 27], "b1-C2"),
        ),
    ),
    Problem(
        slug="word-counts",
        signature="def word_counts(text: str) -> dict[str, int]:",
        doc="""
            Count the words of the text. A word is a maximal run of ASCII letters (a-z, A-Z);
            everything else separates words. Words are counted in lower case.
        """,
        example=(["One fish two fish"], {"one": 1, "fish": 2, "two": 1}),
        reference="""
import re


def word_counts(text: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for word in re.findall(r"[A-Za-z]+", text):
        word = word.lower()
        counts[word] = counts.get(word, 0) + 1
    return counts
""",
        cases=(
            (["the cat and the hat"], {"the": 2, "cat": 1, "and": 1, "hat": 1}),
            ([""], {}),
            (["Go, go, GO!"], {"go": 3}),
            (["it's 4 o'clock"], {"it": 1, "s": 1, "o": 1, "clock": 1}),
            (["a1b2c3 abc"], {"a": 1, "b": 1, "c": 1, "abc": 1}),
            (["  ...  "], {}),
        ),
    ),
    Problem(
        slug="longest-common-prefix",
        signature="def longest_common_prefix(words: list[str]) -> str:",
        doc="""
            Return the longest string that every word starts with. An empty list of words has
            the empty string as its prefix.
        """,
        example=([["interview", "internet", "interval"]], "inter"),
        reference="""
def longest_common_prefix(words: list[str]) -> str:
    if not words:
        return ""
    prefix = words[0]
    for word in words[1:]:
        while not word.startswith(prefix):
            prefix = prefix[:-1]
    return prefix
""",
        cases=(
            ([["flower", "flow", "flight"]], "fl"),
            ([["dog", "racecar", "car"]], ""),
            ([[]], ""),
            ([["alone"]], "alone"),
            ([["same", "same"]], "same"),
            ([["", "abc"]], ""),
            ([["prefix", "pre", "prelude"]], "pre"),
        ),
    ),
    Problem(
        slug="normalize-spaces",
        signature="def normalize_spaces(text: str) -> str:",
        doc="""
            Remove whitespace (spaces, tabs, newlines) from both ends of the text and replace
            every run of whitespace inside it with a single space.
        """,
        example=(["  too   many spaces "], "too many spaces"),
        reference="""
def normalize_spaces(text: str) -> str:
    return " ".join(text.split())
""",
        cases=(
            (["  hello   world  "], "hello world"),
            (["a\tb\nc"], "a b c"),
            ([""], ""),
            (["   "], ""),
            (["single"], "single"),
            (["x \t\n y"], "x y"),
        ),
    ),
    Problem(
        slug="camel-to-snake",
        signature="def camel_to_snake(name: str) -> str:",
        doc="""
            Convert a camelCase or PascalCase identifier to snake_case. An underscore goes
            before an upper-case letter when the character before it is a lower-case letter or
            a digit, or when it is preceded by an upper-case letter and followed by a lower-case
            one (so an acronym stays one word). Then everything is lower-cased.
        """,
        example=(["myVariableName"], "my_variable_name"),
        reference="""
def camel_to_snake(name: str) -> str:
    out = []
    for i, ch in enumerate(name):
        if ch.isupper() and i > 0:
            before = name[i - 1]
            after = name[i + 1] if i + 1 < len(name) else ""
            if before.islower() or before.isdigit() or (before.isupper() and after.islower()):
                out.append("_")
        out.append(ch.lower())
    return "".join(out)
""",
        cases=(
            (["camelCase"], "camel_case"),
            (["parseHTTPResponse"], "parse_http_response"),
            (["HTTPServer"], "http_server"),
            (["Simple"], "simple"),
            (["version2Update"], "version2_update"),
            (["getX"], "get_x"),
            (["ABC"], "abc"),
            ([""], ""),
        ),
        difficulty=2,
    ),
    Problem(
        slug="snake-to-camel",
        signature="def snake_to_camel(name: str) -> str:",
        doc="""
            Convert a snake_case identifier to camelCase. Split the name on underscores and drop
            empty pieces; the first piece is lower-cased, every later piece is lower-cased with
            its first character upper-cased, and the pieces are joined. No pieces give "".
        """,
        example=(["make_it_camel"], "makeItCamel"),
        reference="""
def snake_to_camel(name: str) -> str:
    parts = [part for part in name.split("_") if part]
    if not parts:
        return ""
    rest = "".join(part[:1].upper() + part[1:].lower() for part in parts[1:])
    return parts[0].lower() + rest
""",
        cases=(
            (["hello_world"], "helloWorld"),
            (["__private__var"], "privateVar"),
            (["ALREADY_UPPER"], "alreadyUpper"),
            (["single"], "single"),
            ([""], ""),
            (["___"], ""),
            (["with_2_numbers"], "with2Numbers"),
        ),
    ),
    Problem(
        slug="anagrams",
        signature="def are_anagrams(first: str, second: str) -> bool:",
        doc="""
            Tell whether the two strings use exactly the same characters the same number of
            times, ignoring upper/lower case and spaces (every other character counts).
        """,
        example=(["The eyes", "They see"], True),
        reference="""
def are_anagrams(first: str, second: str) -> bool:
    def key(text: str) -> list[str]:
        return sorted(text.lower().replace(" ", ""))

    return key(first) == key(second)
""",
        cases=(
            (["Listen", "Silent"], True),
            (["Dormitory", "dirty room"], True),
            (["abc", "abd"], False),
            (["", ""], True),
            (["aab", "abb"], False),
            (["a gentleman", "elegant man"], True),
            (["abc", "abcc"], False),
        ),
    ),
    Problem(
        slug="first-unique-index",
        signature="def first_unique_index(text: str) -> int:",
        doc="""
            Return the index of the first character that occurs exactly once in the text
            (case-sensitive), or -1 if there is none.
        """,
        example=(["swiss"], 1),
        reference="""
from collections import Counter


def first_unique_index(text: str) -> int:
    counts = Counter(text)
    for index, ch in enumerate(text):
        if counts[ch] == 1:
            return index
    return -1
""",
        cases=(
            (["leetcode"], 0),
            (["loveleetcode"], 2),
            (["aabb"], -1),
            ([""], -1),
            (["z"], 0),
            (["aA"], 0),
            (["abcabd"], 2),
        ),
    ),
    Problem(
        slug="balanced-brackets",
        signature="def brackets_balanced(text: str) -> bool:",
        doc="""
            Tell whether the brackets (), [] and {} in the text are balanced and properly
            nested. Every other character is ignored.
        """,
        example=(["f(x[0]) + {y}"], True),
        reference="""
def brackets_balanced(text: str) -> bool:
    pairs = {")": "(", "]": "[", "}": "{"}
    stack = []
    for ch in text:
        if ch in "([{":
            stack.append(ch)
        elif ch in pairs:
            if not stack or stack.pop() != pairs[ch]:
                return False
    return not stack
""",
        cases=(
            (["([]{})"], True),
            (["([)]"], False),
            ([""], True),
            (["((("], False),
            (["a(b)c[d]{e}"], True),
            (["}{"], False),
            (["{[()()]}"], True),
            (["())"], False),
        ),
    ),
    Problem(
        slug="roman-to-int",
        signature="def roman_to_int(numeral: str) -> int:",
        doc="""
            Return the value of a valid Roman numeral between 1 and 3999 (I=1, V=5, X=10, L=50,
            C=100, D=500, M=1000; a smaller symbol before a larger one is subtracted).
        """,
        example=(["XIV"], 14),
        reference="""
def roman_to_int(numeral: str) -> int:
    values = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100, "D": 500, "M": 1000}
    total = 0
    for i, ch in enumerate(numeral):
        value = values[ch]
        if i + 1 < len(numeral) and values[numeral[i + 1]] > value:
            total -= value
        else:
            total += value
    return total
""",
        cases=(
            (["III"], 3),
            (["IV"], 4),
            (["IX"], 9),
            (["LVIII"], 58),
            (["MCMXCIV"], 1994),
            (["MMMCMXCIX"], 3999),
            (["XL"], 40),
            (["CDXLIV"], 444),
        ),
    ),
    Problem(
        slug="int-to-roman",
        signature="def int_to_roman(number: int) -> str:",
        doc="""
            Write a number between 1 and 3999 as a Roman numeral in standard form (4 is IV,
            9 is IX, 40 is XL, 90 is XC, 400 is CD, 900 is CM).
        """,
        example=([27], "XXVII"),
        reference="""
def int_to_roman(number: int) -> str:
    table = [
        (1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"),
        (50, "L"), (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I"),
    ]
    out = []
    for value, symbol in table:
        while number >= value:
            out.append(symbol)
            number -= value
    return "".join(out)
""",
        cases=(
            ([1], "I"),
            ([4], "IV"),
            ([9], "IX"),
            ([58], "LVIII"),
            ([1994], "MCMXCIV"),
            ([3999], "MMMCMXCIX"),
            ([444], "CDXLIV"),
            ([2024], "MMXXIV"),
        ),
    ),
    Problem(
        slug="reverse-words",
        signature="def reverse_words(sentence: str) -> str:",
        doc="""
            Return the words of the sentence (separated by any whitespace) in reverse order,
            joined by single spaces.
        """,
        example=(["first second third"], "third second first"),
        reference="""
def reverse_words(sentence: str) -> str:
    return " ".join(reversed(sentence.split()))
""",
        cases=(
            (["the sky is blue"], "blue is sky the"),
            (["  hello world  "], "world hello"),
            ([""], ""),
            (["one"], "one"),
            (["a  b   c"], "c b a"),
            (["Hi, there!"], "there! Hi,"),
        ),
    ),
    Problem(
        slug="mask-email",
        signature="def mask_email(address: str) -> str:",
        doc="""
            Hide the local part of an e-mail address (everything before the last "@"). When it
            has at least 3 characters, keep its first and last character and replace each
            character between them with "*"; when it is shorter, replace every character with
            "*". The "@" and the domain stay as they are.
        """,
        example=(["alice@example.org"], "a***e@example.org"),
        reference="""
def mask_email(address: str) -> str:
    local, _, domain = address.rpartition("@")
    if len(local) >= 3:
        local = local[0] + "*" * (len(local) - 2) + local[-1]
    else:
        local = "*" * len(local)
    return f"{local}@{domain}"
""",
        cases=(
            (["john.doe@example.com"], "j******e@example.com"),
            (["ab@x.org"], "**@x.org"),
            (["a@b.c"], "*@b.c"),
            (["abc@d.io"], "a*c@d.io"),
            (["first.last+tag@mail.co"], "f************g@mail.co"),
            (["we@ird@host.net"], "w****d@host.net"),
        ),
    ),
    # ------------------------------------------------------------------------------ parsing
    Problem(
        slug="parse-duration",
        signature="def parse_duration(text: str) -> int:",
        doc="""
            Return the number of seconds in a duration such as "1h30m15s": up to three parts,
            hours ("h"), minutes ("m") and seconds ("s"), each a whole number followed by its
            unit, in that order; any part may be left out, but at least one is present.
        """,
        example=(["1m30s"], 90),
        reference="""
import re


def parse_duration(text: str) -> int:
    match = re.fullmatch(r"(?:(\\d+)h)?(?:(\\d+)m)?(?:(\\d+)s)?", text)
    hours, minutes, seconds = (int(part or 0) for part in match.groups())
    return hours * 3600 + minutes * 60 + seconds
""",
        cases=(
            (["1h30m15s"], 5415),
            (["45s"], 45),
            (["2h"], 7200),
            (["1h5s"], 3605),
            (["90m"], 5400),
            (["0s"], 0),
            (["10h0m1s"], 36001),
        ),
    ),
    Problem(
        slug="parse-pairs",
        signature="def parse_pairs(text: str) -> dict[str, str]:",
        doc="""
            Parse settings written as "key=value" segments separated by ";". Segments are
            stripped of surrounding whitespace and empty ones are skipped. A segment is split at
            its first "="; key and value are stripped. A segment without "=" maps its key to "".
            A later segment with the same key overrides an earlier one.
        """,
        example=(["name=Ada; lang = en"], {"name": "Ada", "lang": "en"}),
        reference="""
def parse_pairs(text: str) -> dict[str, str]:
    result = {}
    for segment in text.split(";"):
        segment = segment.strip()
        if not segment:
            continue
        key, _, value = segment.partition("=")
        result[key.strip()] = value.strip()
    return result
""",
        cases=(
            (["a=1; b = two ;c="], {"a": "1", "b": "two", "c": ""}),
            ([""], {}),
            (["x=1;x=2"], {"x": "2"}),
            (["url=http://h/?q=1"], {"url": "http://h/?q=1"}),
            ([";;k=v;;"], {"k": "v"}),
            (["flag; n = 3"], {"flag": "", "n": "3"}),
        ),
    ),
    Problem(
        slug="compare-versions",
        signature="def compare_versions(a: str, b: str) -> int:",
        doc="""
            Compare two version strings made of non-negative integers separated by dots.
            Components are compared as numbers from left to right; a missing component counts
            as 0. Return -1 if a is older, 1 if a is newer, 0 if they are equal.
        """,
        example=(["1.2", "1.10"], -1),
        reference="""
def compare_versions(a: str, b: str) -> int:
    left = [int(part) for part in a.split(".")]
    right = [int(part) for part in b.split(".")]
    size = max(len(left), len(right))
    left += [0] * (size - len(left))
    right += [0] * (size - len(right))
    return (left > right) - (left < right)
""",
        cases=(
            (["1.2.10", "1.2.9"], 1),
            (["1.0", "1"], 0),
            (["0.9", "1.0"], -1),
            (["2.0.0.1", "2"], 1),
            (["1.01", "1.1"], 0),
            (["3.4", "3.40"], -1),
            (["10", "9"], 1),
        ),
    ),
    Problem(
        slug="column-totals",
        signature="def column_totals(csv_text: str) -> dict[str, float]:",
        doc="""
            The text is a small CSV table without quoting: a header line of comma-separated
            column names, then rows of comma-separated fields (blank lines are skipped). Return,
            for each column name, the sum of the fields of that column that parse as numbers
            with float() after stripping spaces; other fields are ignored, and a column without
            numbers sums to 0.0. Names are stripped too.
        """,
        example=(["x,y\n1,2\n10,20"], {"x": 11.0, "y": 22.0}),
        reference="""
def column_totals(csv_text: str) -> dict[str, float]:
    lines = [line for line in csv_text.splitlines() if line.strip()]
    names = [name.strip() for name in lines[0].split(",")]
    totals = {name: 0.0 for name in names}
    for line in lines[1:]:
        for name, field in zip(names, line.split(",")):
            try:
                totals[name] += float(field.strip())
            except ValueError:
                pass
    return totals
""",
        cases=(
            (["a,b\n1,2\n3,4"], {"a": 4.0, "b": 6.0}),
            (["name,score\nann,3.5\nbob,x\ncy,1.25\n"], {"name": 0.0, "score": 4.75}),
            (["x\n"], {"x": 0.0}),
            (["p,q\n-1,1e3\n\n2,0.5"], {"p": 1.0, "q": 1000.5}),
            (["a,b,c\n1,,3"], {"a": 1.0, "b": 0.0, "c": 3.0}),
            (["k\n 7 \n"], {"k": 7.0}),
        ),
        compare="float",
        difficulty=2,
    ),
    Problem(
        slug="wrap-words",
        signature="def wrap_words(text: str, width: int) -> list[str]:",
        doc="""
            Greedy word wrap. The words are the whitespace-separated pieces of the text. Fill
            lines from left to right, words separated by one space: a word joins the current
            line if the line stays at most ``width`` characters long, otherwise it starts a new
            line. A word longer than ``width`` sits alone on its line, unbroken. No words give
            no lines.
        """,
        example=(["hello big world", 9], ["hello big", "world"]),
        reference="""
def wrap_words(text: str, width: int) -> list[str]:
    lines: list[str] = []
    current = ""
    for word in text.split():
        if not current:
            current = word
        elif len(current) + 1 + len(word) <= width:
            current += " " + word
        else:
            lines.append(current)
            current = word
    if current:
        lines.append(current)
    return lines
""",
        cases=(
            (["the quick brown fox", 10], ["the quick", "brown fox"]),
            (["a b c d", 3], ["a b", "c d"]),
            (["", 5], []),
            (["supercalifragilistic is long", 5], ["supercalifragilistic", "is", "long"]),
            (["one two", 7], ["one two"]),
            (["x  y", 1], ["x", "y"]),
            (["ab cd ef", 5], ["ab cd", "ef"]),
        ),
        difficulty=2,
    ),
    Problem(
        slug="count-overlapping",
        signature="def count_overlapping(text: str, sub: str) -> int:",
        doc="""
            Count the occurrences of the non-empty string ``sub`` in ``text``, overlapping
            occurrences included.
        """,
        example=(["banana", "ana"], 2),
        reference="""
def count_overlapping(text: str, sub: str) -> int:
    return sum(1 for i in range(len(text) - len(sub) + 1) if text.startswith(sub, i))
""",
        cases=(
            (["aaaa", "aa"], 3),
            (["abababa", "aba"], 3),
            (["abc", "d"], 0),
            (["", "a"], 0),
            (["abc", "abc"], 1),
            (["ab", "abc"], 0),
            (["mississippi", "issi"], 2),
        ),
    ),
    Problem(
        slug="compress-ranges",
        signature="def compress_ranges(numbers: list[int]) -> str:",
        doc="""
            Describe a set of integers compactly. Ignore duplicates and sort the numbers; write
            each maximal run of consecutive numbers with two or more members as "first-last",
            and each lone number as itself; join the pieces with commas. Negative numbers are
            written with their sign (so -3 to -1 is "-3--1"). No numbers give "".
        """,
        example=([[0, 1, 2, 4, 6, 7]], "0-2,4,6-7"),
        reference="""
def compress_ranges(numbers: list[int]) -> str:
    values = sorted(set(numbers))
    pieces = []
    i = 0
    while i < len(values):
        j = i
        while j + 1 < len(values) and values[j + 1] == values[j] + 1:
            j += 1
        pieces.append(str(values[i]) if i == j else f"{values[i]}-{values[j]}")
        i = j + 1
    return ",".join(pieces)
""",
        cases=(
            ([[1, 2, 3, 5, 7, 8]], "1-3,5,7-8"),
            ([[]], ""),
            ([[4]], "4"),
            ([[3, 1, 2, 2]], "1-3"),
            ([[10, 12, 14]], "10,12,14"),
            ([[-3, -2, -1, 1]], "-3--1,1"),
            ([[5, 6]], "5-6"),
        ),
        difficulty=2,
    ),
    Problem(
        slug="expand-ranges",
        signature="def expand_ranges(spec: str) -> list[int]:",
        doc="""
            Expand a comma-separated list of parts, each either a non-negative integer "n" or a
            range "a-b" with a <= b (both ends included), into the list of numbers, in the order
            written, duplicates kept. Spaces around parts are ignored; an empty or blank spec
            gives [].
        """,
        example=(["1,3-5"], [1, 3, 4, 5]),
        reference="""
def expand_ranges(spec: str) -> list[int]:
    numbers: list[int] = []
    if not spec.strip():
        return numbers
    for part in spec.split(","):
        part = part.strip()
        if "-" in part:
            low, high = part.split("-")
            numbers.extend(range(int(low), int(high) + 1))
        else:
            numbers.append(int(part))
    return numbers
""",
        cases=(
            (["1-3,5"], [1, 2, 3, 5]),
            ([""], []),
            (["7"], [7]),
            (["2-2"], [2]),
            (["0-1, 4 ,2-3"], [0, 1, 4, 2, 3]),
            (["3,3"], [3, 3]),
            (["10-12"], [10, 11, 12]),
        ),
    ),
    # -------------------------------------------------------------------------------- lists
    Problem(
        slug="chunk-list",
        signature="def chunk(items: list, size: int) -> list[list]:",
        doc="""
            Split the list into consecutive chunks of ``size`` items (size >= 1); the last chunk
            may be shorter. An empty list gives no chunks.
        """,
        example=([[1, 2, 3, 4, 5, 6, 7], 3], [[1, 2, 3], [4, 5, 6], [7]]),
        reference="""
def chunk(items: list, size: int) -> list[list]:
    return [items[i : i + size] for i in range(0, len(items), size)]
""",
        cases=(
            ([[1, 2, 3, 4, 5], 2], [[1, 2], [3, 4], [5]]),
            ([[], 3], []),
            ([[1, 2, 3], 3], [[1, 2, 3]]),
            ([[1, 2, 3], 5], [[1, 2, 3]]),
            ([["a", "b", "c", "d"], 1], [["a"], ["b"], ["c"], ["d"]]),
            ([[1, 2, 3, 4], 2], [[1, 2], [3, 4]]),
        ),
    ),
    Problem(
        slug="rotate-right",
        signature="def rotate_right(items: list, k: int) -> list:",
        doc="""
            Return a new list with the items rotated ``k`` places to the right (the last item
            moves to the front when k is 1). A negative k rotates to the left; k may exceed the
            length of the list.
        """,
        example=([[1, 2, 3, 4], 1], [4, 1, 2, 3]),
        reference="""
def rotate_right(items: list, k: int) -> list:
    if not items:
        return []
    k %= len(items)
    return items[-k:] + items[:-k] if k else list(items)
""",
        cases=(
            ([[1, 2, 3, 4, 5], 2], [4, 5, 1, 2, 3]),
            ([[1, 2, 3], 0], [1, 2, 3]),
            ([[1, 2, 3], -1], [2, 3, 1]),
            ([[1, 2, 3], 7], [3, 1, 2]),
            ([[], 4], []),
            ([["a"], 100], ["a"]),
            ([[1, 2], -5], [2, 1]),
        ),
    ),
    Problem(
        slug="flatten-nested",
        signature="def flatten(nested: list) -> list:",
        doc="""
            Flatten lists nested to any depth into one list of the non-list items, in order.
        """,
        example=([[1, [2, 3], [[4]]]], [1, 2, 3, 4]),
        reference="""
def flatten(nested: list) -> list:
    flat = []
    for item in nested:
        if isinstance(item, list):
            flat.extend(flatten(item))
        else:
            flat.append(item)
    return flat
""",
        cases=(
            ([[1, [2, [3, [4]]], 5]], [1, 2, 3, 4, 5]),
            ([[]], []),
            ([[[], [[]]]], []),
            ([["a", ["b", "c"]]], ["a", "b", "c"]),
            ([[[1, 2], [3], 4]], [1, 2, 3, 4]),
            ([[None, [False, [0]]]], [None, False, 0]),
        ),
    ),
    Problem(
        slug="moving-average",
        signature="def moving_average(values: list[float], window: int) -> list[float]:",
        doc="""
            Return the average of every run of ``window`` consecutive values (window >= 1), in
            order: len(values) - window + 1 averages, or none if the window is longer than the
            list.
        """,
        example=([[2, 4, 6, 8], 3], [4.0, 6.0]),
        reference="""
def moving_average(values: list[float], window: int) -> list[float]:
    return [sum(values[i : i + window]) / window for i in range(len(values) - window + 1)]
""",
        cases=(
            ([[1, 2, 3, 4, 5], 2], [1.5, 2.5, 3.5, 4.5]),
            ([[1, 2, 3], 3], [2.0]),
            ([[1, 2], 3], []),
            ([[5], 1], [5.0]),
            ([[0.1, 0.2, 0.3, 0.4], 2], [0.15, 0.25, 0.35]),
            ([[-1, 1, -1, 1], 2], [0.0, 0.0, 0.0]),
        ),
        compare="float",
    ),
    Problem(
        slug="second-largest",
        signature="def second_largest(values: list[int]) -> int | None:",
        doc="""
            Return the second largest distinct value, or None when there are fewer than two
            distinct values.
        """,
        example=([[10, 20, 30]], 20),
        reference="""
def second_largest(values: list[int]) -> int | None:
    distinct = sorted(set(values))
    return distinct[-2] if len(distinct) >= 2 else None
""",
        cases=(
            ([[3, 1, 4, 1, 5]], 4),
            ([[5, 5, 5]], None),
            ([[]], None),
            ([[1, 2]], 1),
            ([[-1, -2, -3]], -2),
            ([[7, 7, 6]], 6),
            ([[10]], None),
        ),
    ),
    Problem(
        slug="pairs-with-sum",
        signature="def pairs_with_sum(values: list[int], target: int) -> list[list[int]]:",
        doc="""
            Return every distinct pair [a, b] with a <= b such that a and b are values at two
            different positions of the list and a + b == target, sorted by a.
        """,
        example=([[0, 1, 2, 3], 3], [[0, 3], [1, 2]]),
        reference="""
from collections import Counter


def pairs_with_sum(values: list[int], target: int) -> list[list[int]]:
    counts = Counter(values)
    pairs = []
    for a in sorted(counts):
        b = target - a
        if (a < b and b in counts) or (a == b and counts[a] >= 2):
            pairs.append([a, b])
    return pairs
""",
        cases=(
            ([[1, 2, 3, 4, 5], 6], [[1, 5], [2, 4]]),
            ([[3, 3, 3], 6], [[3, 3]]),
            ([[3], 6], []),
            ([[], 0], []),
            ([[-1, 0, 1, 2, -2], 0], [[-2, 2], [-1, 1]]),
            ([[2, 2, 4], 4], [[2, 2]]),
            ([[1, 5, 1, 5], 6], [[1, 5]]),
        ),
        difficulty=2,
    ),
    Problem(
        slug="merge-intervals",
        signature="def merge_intervals(intervals: list[list[int]]) -> list[list[int]]:",
        doc="""
            Merge closed intervals [start, end] that overlap or touch (share an end point), and
            return the merged intervals sorted by start. The input may be in any order.
        """,
        example=([[[6, 8], [1, 4], [3, 5]]], [[1, 5], [6, 8]]),
        reference="""
def merge_intervals(intervals: list[list[int]]) -> list[list[int]]:
    merged: list[list[int]] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return merged
""",
        cases=(
            ([[[1, 3], [2, 6], [8, 10], [15, 18]]], [[1, 6], [8, 10], [15, 18]]),
            ([[[1, 4], [4, 5]]], [[1, 5]]),
            ([[]], []),
            ([[[5, 7], [1, 2]]], [[1, 2], [5, 7]]),
            ([[[1, 10], [2, 3], [4, 5]]], [[1, 10]]),
            ([[[1, 2], [3, 4]]], [[1, 2], [3, 4]]),
            ([[[0, 0]]], [[0, 0]]),
        ),
        difficulty=2,
    ),
    Problem(
        slug="longest-increasing-run",
        signature="def longest_increasing_run(values: list[int]) -> int:",
        doc="""
            Return the length of the longest run of consecutive elements that is strictly
            increasing (0 for an empty list).
        """,
        example=([[10, 11, 9, 12, 13, 14]], 4),
        reference="""
def longest_increasing_run(values: list[int]) -> int:
    best = run = 0
    for i, value in enumerate(values):
        run = run + 1 if i and value > values[i - 1] else 1
        best = max(best, run)
    return best
""",
        cases=(
            ([[1, 3, 5, 4, 7]], 3),
            ([[2, 2, 2]], 1),
            ([[]], 0),
            ([[5]], 1),
            ([[1, 2, 3, 4]], 4),
            ([[4, 3, 2, 1]], 1),
            ([[1, 2, 1, 2, 3, 0]], 3),
        ),
    ),
    Problem(
        slug="dedupe-keep-order",
        signature="def dedupe(items: list) -> list:",
        doc="""
            Return the items without repeats, keeping the first occurrence of each, in order.
            Items are strings or numbers; 1 and "1" are different items.
        """,
        example=([["x", "y", "x", "z"]], ["x", "y", "z"]),
        reference="""
def dedupe(items: list) -> list:
    seen = set()
    result = []
    for item in items:
        key = (type(item), item)
        if key not in seen:
            seen.add(key)
            result.append(item)
    return result
""",
        cases=(
            ([[1, 2, 1, 3, 2]], [1, 2, 3]),
            ([[]], []),
            ([["b", "a", "b"]], ["b", "a"]),
            ([[1, 1, 1]], [1]),
            ([[3, 2, 1]], [3, 2, 1]),
            ([[1, "1", 1]], [1, "1"]),
        ),
    ),
    Problem(
        slug="interleave",
        signature="def interleave(first: list, second: list) -> list:",
        doc="""
            Alternate the items of the two lists, starting with the first list; when one list
            runs out, the rest of the other follows.
        """,
        example=([[1, 3, 5], [2, 4]], [1, 2, 3, 4, 5]),
        reference="""
def interleave(first: list, second: list) -> list:
    result = []
    for i in range(max(len(first), len(second))):
        if i < len(first):
            result.append(first[i])
        if i < len(second):
            result.append(second[i])
    return result
""",
        cases=(
            ([[1, 2, 3], ["a", "b", "c"]], [1, "a", 2, "b", 3, "c"]),
            ([[1], [2, 3, 4]], [1, 2, 3, 4]),
            ([[], [1]], [1]),
            ([[], []], []),
            ([[1, 2, 3], []], [1, 2, 3]),
            ([["x", "y"], ["p"]], ["x", "p", "y"]),
        ),
    ),
    Problem(
        slug="leaders",
        signature="def leaders(values: list[int]) -> list[int]:",
        doc="""
            Return, in their original order, the elements that are strictly greater than every
            element to their right (the last element always is one).
        """,
        example=([[4, 8, 2, 6, 1]], [8, 6, 1]),
        reference="""
def leaders(values: list[int]) -> list[int]:
    found = []
    best = None
    for value in reversed(values):
        if best is None or value > best:
            found.append(value)
            best = value
    return found[::-1]
""",
        cases=(
            ([[16, 17, 4, 3, 5, 2]], [17, 5, 2]),
            ([[]], []),
            ([[1, 2, 3]], [3]),
            ([[3, 2, 1]], [3, 2, 1]),
            ([[5, 5]], [5]),
            ([[7]], [7]),
            ([[1, 9, 2, 9]], [9]),
        ),
    ),
    Problem(
        slug="max-subarray-sum",
        signature="def max_subarray_sum(values: list[int]) -> int:",
        doc="""
            Return the largest sum of a non-empty run of consecutive elements of a non-empty
            list.
        """,
        example=([[1, -2, 3, 4]], 7),
        reference="""
def max_subarray_sum(values: list[int]) -> int:
    best = current = values[0]
    for value in values[1:]:
        current = max(value, current + value)
        best = max(best, current)
    return best
""",
        cases=(
            ([[-2, 1, -3, 4, -1, 2, 1, -5, 4]], 6),
            ([[1]], 1),
            ([[-3, -1, -2]], -1),
            ([[5, 4, -1, 7, 8]], 23),
            ([[0, 0]], 0),
            ([[2, -1, 2]], 3),
            ([[-5, 10, -20, 6, 6]], 12),
        ),
        difficulty=2,
    ),
    Problem(
        slug="spiral-order",
        signature="def spiral_order(matrix: list[list[int]]) -> list[int]:",
        doc="""
            Return the elements of a rectangular matrix (a list of rows) in clockwise spiral
            order, starting at the top-left corner and going right first.
        """,
        example=([[[1, 2], [3, 4], [5, 6]]], [1, 2, 4, 6, 5, 3]),
        reference="""
def spiral_order(matrix: list[list[int]]) -> list[int]:
    rows = [list(row) for row in matrix]
    result = []
    while rows:
        result.extend(rows.pop(0))
        rows = [list(row) for row in zip(*rows)][::-1]
    return result
""",
        cases=(
            ([[[1, 2, 3], [4, 5, 6], [7, 8, 9]]], [1, 2, 3, 6, 9, 8, 7, 4, 5]),
            (
                [[[1, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11, 12]]],
                [1, 2, 3, 4, 8, 12, 11, 10, 9, 5, 6, 7],
            ),
            ([[]], []),
            ([[[1]]], [1]),
            ([[[1], [2], [3]]], [1, 2, 3]),
            ([[[1, 2, 3]]], [1, 2, 3]),
            ([[[1, 2], [3, 4]]], [1, 2, 4, 3]),
        ),
        difficulty=2,
    ),
    Problem(
        slug="group-anagrams",
        signature="def group_anagrams(words: list[str]) -> list[list[str]]:",
        doc="""
            Group the words that are anagrams of each other (the same letters, case-sensitive,
            the same number of times). Each group is sorted alphabetically, duplicates kept; the
            groups may come in any order.
        """,
        example=(
            [["listen", "silent", "enlist", "google"]],
            [["enlist", "listen", "silent"], ["google"]],
        ),
        reference="""
def group_anagrams(words: list[str]) -> list[list[str]]:
    groups: dict[str, list[str]] = {}
    for word in words:
        groups.setdefault("".join(sorted(word)), []).append(word)
    return [sorted(group) for group in groups.values()]
""",
        cases=(
            (
                [["eat", "tea", "tan", "ate", "nat", "bat"]],
                [["ate", "eat", "tea"], ["nat", "tan"], ["bat"]],
            ),
            ([[]], []),
            ([["a"]], [["a"]]),
            ([["ab", "ba", "ab"]], [["ab", "ab", "ba"]]),
            ([["abc", "def"]], [["abc"], ["def"]]),
            ([["", ""]], [["", ""]]),
            ([["Tea", "eat", "ate"]], [["Tea"], ["ate", "eat"]]),
        ),
        compare="unordered",
        difficulty=2,
    ),
    Problem(
        slug="top-k-frequent",
        signature="def top_k_frequent(items: list[str], k: int) -> list[str]:",
        doc="""
            Return the k most frequent items, most frequent first; items with equal counts come
            in alphabetical order. Return fewer than k when there are fewer distinct items.
        """,
        example=([["red", "blue", "red", "green", "blue", "red"], 2], ["red", "blue"]),
        reference="""
from collections import Counter


def top_k_frequent(items: list[str], k: int) -> list[str]:
    counts = Counter(items)
    return sorted(counts, key=lambda item: (-counts[item], item))[:k]
""",
        cases=(
            ([["a", "b", "a", "c", "b", "a"], 2], ["a", "b"]),
            ([["x", "y", "z"], 2], ["x", "y"]),
            ([[], 3], []),
            ([["b", "a", "b", "a"], 1], ["a"]),
            ([["p"], 5], ["p"]),
            ([["c", "c", "b", "b", "a"], 3], ["b", "c", "a"]),
        ),
    ),
    Problem(
        slug="insert-position",
        signature="def insert_position(sorted_values: list[int], x: int) -> int:",
        doc="""
            The list is sorted in ascending order. Return the leftmost index at which x could
            be inserted while keeping it sorted.
        """,
        example=([[10, 20, 30], 25], 2),
        reference="""
def insert_position(sorted_values: list[int], x: int) -> int:
    low, high = 0, len(sorted_values)
    while low < high:
        middle = (low + high) // 2
        if sorted_values[middle] < x:
            low = middle + 1
        else:
            high = middle
    return low
""",
        cases=(
            ([[1, 3, 5, 6], 5], 2),
            ([[1, 3, 5, 6], 2], 1),
            ([[1, 3, 5, 6], 7], 4),
            ([[1, 3, 5, 6], 0], 0),
            ([[], 3], 0),
            ([[2, 2, 2], 2], 0),
            ([[1, 2, 2, 3], 3], 3),
        ),
    ),
    # ---------------------------------------------------------------------------- mappings
    Problem(
        slug="invert-mapping",
        signature="def invert_mapping(mapping: dict[str, str]) -> dict[str, list[str]]:",
        doc="""
            Invert a mapping: map each value to the alphabetically sorted list of the keys that
            have it.
        """,
        example=(
            [{"cat": "pet", "dog": "pet", "cow": "farm"}],
            {"pet": ["cat", "dog"], "farm": ["cow"]},
        ),
        reference="""
def invert_mapping(mapping: dict[str, str]) -> dict[str, list[str]]:
    inverted: dict[str, list[str]] = {}
    for key in sorted(mapping):
        inverted.setdefault(mapping[key], []).append(key)
    return inverted
""",
        cases=(
            ([{"a": "x", "b": "y", "c": "x"}], {"x": ["a", "c"], "y": ["b"]}),
            ([{}], {}),
            ([{"k": "v"}], {"v": ["k"]}),
            ([{"b": "1", "a": "1", "c": "1"}], {"1": ["a", "b", "c"]}),
            ([{"one": "uno", "two": "dos"}], {"uno": ["one"], "dos": ["two"]}),
        ),
    ),
    Problem(
        slug="deep-merge",
        signature="def deep_merge(base: dict, override: dict) -> dict:",
        doc="""
            Return a new dict with the keys of both. Where both have a key and both values are
            dicts, the values are merged the same way; otherwise the value from ``override``
            wins. The arguments are left unchanged.
        """,
        example=(
            [{"host": "a", "opts": {"v": 1}}, {"opts": {"q": 2}}],
            {"host": "a", "opts": {"v": 1, "q": 2}},
        ),
        reference="""
def deep_merge(base: dict, override: dict) -> dict:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(merged.get(key), dict) and isinstance(value, dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged
""",
        cases=(
            (
                [{"a": 1, "b": {"c": 2, "d": 3}}, {"b": {"c": 20}, "e": 5}],
                {"a": 1, "b": {"c": 20, "d": 3}, "e": 5},
            ),
            ([{}, {}], {}),
            ([{"a": {"b": 1}}, {"a": 2}], {"a": 2}),
            ([{"a": 1}, {"a": {"b": 1}}], {"a": {"b": 1}}),
            ([{"x": {"y": {"z": 1}}}, {"x": {"y": {"w": 2}}}], {"x": {"y": {"z": 1, "w": 2}}}),
            ([{"k": [1, 2]}, {"k": [3]}], {"k": [3]}),
        ),
        difficulty=2,
    ),
    Problem(
        slug="flatten-keys",
        signature="def flatten_keys(data: dict, sep: str) -> dict:",
        doc="""
            Flatten nested dicts: a value reached through keys k1, k2, ..., kn gets the key
            k1 + sep + k2 + ... + kn. Values that are not dicts (lists included) are kept as
            they are; an empty nested dict contributes nothing.
        """,
        example=([{"db": {"host": "h", "port": 5432}}, "."], {"db.host": "h", "db.port": 5432}),
        reference="""
def flatten_keys(data: dict, sep: str) -> dict:
    flat = {}
    for key, value in data.items():
        if isinstance(value, dict):
            for inner, item in flatten_keys(value, sep).items():
                flat[f"{key}{sep}{inner}"] = item
        else:
            flat[key] = value
    return flat
""",
        cases=(
            ([{"a": {"b": 1, "c": {"d": 2}}, "e": 3}, "."], {"a.b": 1, "a.c.d": 2, "e": 3}),
            ([{}, "."], {}),
            ([{"a": {}}, "."], {}),
            ([{"x": {"y": [1, 2]}}, "/"], {"x/y": [1, 2]}),
            ([{"k": None}, "."], {"k": None}),
            ([{"a": {"b": {"c": {"d": "deep"}}}}, "_"], {"a_b_c_d": "deep"}),
        ),
    ),
    Problem(
        slug="group-totals",
        signature="def group_totals(records: list[dict], key: str, value: str) -> dict:",
        doc="""
            Sum ``record[value]`` over the records, grouped by ``record[key]``; records that
            lack either field are skipped. Return a dict from each group to its total.
        """,
        example=(
            [
                [{"team": "red", "pts": 3}, {"team": "blue", "pts": 1}, {"team": "red", "pts": 2}],
                "team",
                "pts",
            ],
            {"red": 5, "blue": 1},
        ),
        reference="""
def group_totals(records: list[dict], key: str, value: str) -> dict:
    totals: dict = {}
    for record in records:
        if key in record and value in record:
            group = record[key]
            totals[group] = totals.get(group, 0) + record[value]
    return totals
""",
        cases=(
            (
                [[{"k": "a", "v": 1}, {"k": "b", "v": 2}, {"k": "a", "v": 3}], "k", "v"],
                {"a": 4, "b": 2},
            ),
            ([[], "k", "v"], {}),
            ([[{"k": "a"}, {"v": 2}, {"k": "a", "v": 5}], "k", "v"], {"a": 5}),
            (
                [[{"city": "Oslo", "pop": 1}, {"city": "Rome", "pop": 2.5}], "city", "pop"],
                {"Oslo": 1, "Rome": 2.5},
            ),
            ([[{"t": "x", "n": -1}, {"t": "x", "n": 1}], "t", "n"], {"x": 0}),
        ),
    ),
    Problem(
        slug="dict-diff",
        signature="def dict_diff(old: dict, new: dict) -> dict[str, list]:",
        doc="""
            Describe how ``new`` differs from ``old``: return {"added": keys only in new,
            "removed": keys only in old, "changed": keys in both whose values differ}, each
            list sorted.
        """,
        example=(
            [{"v": 1, "w": 2}, {"v": 1, "w": 5, "u": 0}],
            {"added": ["u"], "removed": [], "changed": ["w"]},
        ),
        reference="""
def dict_diff(old: dict, new: dict) -> dict[str, list]:
    return {
        "added": sorted(new.keys() - old.keys()),
        "removed": sorted(old.keys() - new.keys()),
        "changed": sorted(k for k in old.keys() & new.keys() if old[k] != new[k]),
    }
""",
        cases=(
            (
                [{"a": 1, "b": 2}, {"b": 3, "c": 4}],
                {"added": ["c"], "removed": ["a"], "changed": ["b"]},
            ),
            ([{}, {}], {"added": [], "removed": [], "changed": []}),
            ([{"x": 1}, {"x": 1}], {"added": [], "removed": [], "changed": []}),
            ([{"a": [1]}, {"a": [1, 2]}], {"added": [], "removed": [], "changed": ["a"]}),
            ([{"b": 1, "a": 1}, {}], {"added": [], "removed": ["a", "b"], "changed": []}),
            ([{}, {"z": 0, "y": 0}], {"added": ["y", "z"], "removed": [], "changed": []}),
        ),
    ),
    Problem(
        slug="get-path",
        signature="def get_path(data: object, path: str) -> object:",
        doc="""
            Follow a dot-separated path into nested data: each part is a key of a dict, or, for
            a list, a non-negative integer index. Return the value found, or None as soon as a
            part is missing, out of range, or the current value is neither a dict nor a list.
        """,
        example=([{"user": {"name": "Ada"}}, "user.name"], "Ada"),
        reference="""
def get_path(data: object, path: str) -> object:
    current = data
    for part in path.split("."):
        if isinstance(current, dict):
            if part not in current:
                return None
            current = current[part]
        elif isinstance(current, list):
            if not part.isdigit() or int(part) >= len(current):
                return None
            current = current[int(part)]
        else:
            return None
    return current
""",
        cases=(
            ([{"a": {"b": [10, {"c": "x"}]}}, "a.b.1.c"], "x"),
            ([{"a": 1}, "b"], None),
            ([{"a": [1, 2]}, "a.5"], None),
            ([{"a": [1, 2]}, "a.0"], 1),
            ([{"x": {"y": {"z": 0}}}, "x.y"], {"z": 0}),
            ([{"a": "str"}, "a.0"], None),
            ([{"a": [1]}, "a.x"], None),
        ),
        difficulty=2,
    ),
    Problem(
        slug="rank-people",
        signature="def rank_people(people: list[dict]) -> list[str]:",
        doc="""
            Each person is a dict with a "name" (str) and an "age" (int). Return the names
            ordered by age, oldest first; people of the same age in alphabetical order of name.
        """,
        example=([[{"name": "Eve", "age": 41}, {"name": "Dan", "age": 52}]], ["Dan", "Eve"]),
        reference="""
def rank_people(people: list[dict]) -> list[str]:
    ordered = sorted(people, key=lambda person: (-person["age"], person["name"]))
    return [person["name"] for person in ordered]
""",
        cases=(
            (
                [
                    [
                        {"name": "Ann", "age": 30},
                        {"name": "Bob", "age": 25},
                        {"name": "Cy", "age": 30},
                    ]
                ],
                ["Ann", "Cy", "Bob"],
            ),
            ([[]], []),
            ([[{"name": "Z", "age": 1}]], ["Z"]),
            (
                [[{"name": "b", "age": 5}, {"name": "a", "age": 5}, {"name": "c", "age": 5}]],
                ["a", "b", "c"],
            ),
            ([[{"name": "Old", "age": 90}, {"name": "Young", "age": 9}]], ["Old", "Young"]),
            ([[{"name": "x", "age": 0}, {"name": "y", "age": -1}]], ["x", "y"]),
        ),
    ),
    # ---------------------------------------------------------------------------------- math
    Problem(
        slug="gcd-of-list",
        signature="def gcd_of_list(values: list[int]) -> int:",
        doc="""
            Return the greatest common divisor of the absolute values; 0 for an empty list or a
            list of zeros.
        """,
        example=([[20, 30, 50]], 10),
        reference="""
def gcd_of_list(values: list[int]) -> int:
    result = 0
    for value in values:
        a, b = result, abs(value)
        while b:
            a, b = b, a % b
        result = a
    return result
""",
        cases=(
            ([[12, 18, 24]], 6),
            ([[7]], 7),
            ([[]], 0),
            ([[0, 0]], 0),
            ([[0, 5]], 5),
            ([[-4, 6]], 2),
            ([[17, 19]], 1),
        ),
    ),
    Problem(
        slug="is-prime",
        signature="def is_prime(n: int) -> bool:",
        doc="""
            Tell whether n is a prime number (an integer greater than 1 with no divisors other
            than 1 and itself). n may be zero or negative.
        """,
        example=([13], True),
        reference="""
def is_prime(n: int) -> bool:
    if n < 2:
        return False
    divisor = 2
    while divisor * divisor <= n:
        if n % divisor == 0:
            return False
        divisor += 1
    return True
""",
        cases=(
            ([2], True),
            ([1], False),
            ([0], False),
            ([-7], False),
            ([97], True),
            ([91], False),
            ([7919], True),
            ([1000003], True),
        ),
    ),
    Problem(
        slug="prime-factors",
        signature="def prime_factors(n: int) -> list[int]:",
        doc="""
            Return the prime factors of n (n >= 2) in ascending order, each repeated as often
            as it divides n.
        """,
        example=([18], [2, 3, 3]),
        reference="""
def prime_factors(n: int) -> list[int]:
    factors = []
    divisor = 2
    while divisor * divisor <= n:
        while n % divisor == 0:
            factors.append(divisor)
            n //= divisor
        divisor += 1
    if n > 1:
        factors.append(n)
    return factors
""",
        cases=(
            ([12], [2, 2, 3]),
            ([2], [2]),
            ([97], [97]),
            ([360], [2, 2, 2, 3, 3, 5]),
            ([1001], [7, 11, 13]),
            ([1024], [2] * 10),
            ([999983], [999983]),
        ),
    ),
    Problem(
        slug="digital-root",
        signature="def digital_root(n: int) -> int:",
        doc="""
            For n >= 0, replace n by the sum of its decimal digits until a single digit is left,
            and return it.
        """,
        example=([65536], 7),
        reference="""
def digital_root(n: int) -> int:
    while n >= 10:
        n = sum(int(digit) for digit in str(n))
    return n
""",
        cases=(
            ([0], 0),
            ([9], 9),
            ([38], 2),
            ([12345], 6),
            ([999999999], 9),
            ([10], 1),
            ([493193], 2),
        ),
    ),
    Problem(
        slug="collatz-steps",
        signature="def collatz_steps(n: int) -> int:",
        doc="""
            Starting from n >= 1, repeatedly halve the number when it is even and replace it by
            3 * n + 1 when it is odd. Return how many steps it takes to reach 1.
        """,
        example=([5], 5),
        reference="""
def collatz_steps(n: int) -> int:
    steps = 0
    while n != 1:
        n = n // 2 if n % 2 == 0 else 3 * n + 1
        steps += 1
    return steps
""",
        cases=(
            ([1], 0),
            ([2], 1),
            ([3], 7),
            ([6], 8),
            ([7], 16),
            ([27], 111),
            ([97], 118),
        ),
    ),
    Problem(
        slug="fibonacci",
        signature="def fibonacci(n: int) -> int:",
        doc="""
            Return the n-th Fibonacci number for n >= 0, with fibonacci(0) == 0 and
            fibonacci(1) == 1. n can be a few hundred: the result is exact.
        """,
        example=([7], 13),
        reference="""
def fibonacci(n: int) -> int:
    a, b = 0, 1
    for _ in range(n):
        a, b = b, a + b
    return a
""",
        cases=(
            ([2], 1),
            ([3], 2),
            ([10], 55),
            ([20], 6765),
            ([50], 12586269025),
            ([90], 2880067194370816120),
            ([150], 9969216677189303386214405760200),
        ),
    ),
    Problem(
        slug="to-base",
        signature="def to_base(number: int, base: int) -> str:",
        doc="""
            Write the integer in the given base (2 to 36) with the digits 0-9 then a-z, no
            leading zeros, and a leading "-" for negative numbers. Zero is "0".
        """,
        example=([10, 2], "1010"),
        reference="""
def to_base(number: int, base: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    if number == 0:
        return "0"
    sign = "-" if number < 0 else ""
    number = abs(number)
    out = []
    while number:
        number, remainder = divmod(number, base)
        out.append(digits[remainder])
    return sign + "".join(reversed(out))
""",
        cases=(
            ([255, 16], "ff"),
            ([0, 2], "0"),
            ([-10, 2], "-1010"),
            ([35, 36], "z"),
            ([36, 36], "10"),
            ([7, 7], "10"),
            ([12345, 10], "12345"),
        ),
    ),
    Problem(
        slug="polygon-area",
        signature="def polygon_area(points: list[list[float]]) -> float:",
        doc="""
            Return the area of the simple polygon whose vertices [x, y] are listed in order
            (clockwise or counter-clockwise). Fewer than three points enclose no area.
        """,
        example=([[[0, 0], [3, 0], [3, 2], [0, 2]]], 6.0),
        reference="""
def polygon_area(points: list[list[float]]) -> float:
    if len(points) < 3:
        return 0.0
    twice = 0.0
    for (x1, y1), (x2, y2) in zip(points, points[1:] + points[:1]):
        twice += x1 * y2 - x2 * y1
    return abs(twice) / 2
""",
        cases=(
            ([[[0, 0], [4, 0], [4, 3]]], 6.0),
            ([[[0, 0], [0, 2], [2, 2], [2, 0]]], 4.0),
            ([[[0, 0], [1, 1]]], 0.0),
            ([[[1, 1], [3, 1], [3, 3], [1, 3]]], 4.0),
            ([[[0, 0], [2, 0], [1, 1.5]]], 1.5),
            ([[[0, 0], [4, 0], [4, 4], [2, 2], [0, 4]]], 12.0),
        ),
        compare="float",
    ),
    Problem(
        slug="mean-and-median",
        signature="def mean_and_median(values: list[float]) -> list[float]:",
        doc="""
            Return [mean, median] of a non-empty list of numbers. The median of an even number
            of values is the average of the two middle ones.
        """,
        example=([[2, 8, 5]], [5.0, 5.0]),
        reference="""
def mean_and_median(values: list[float]) -> list[float]:
    ordered = sorted(values)
    size = len(ordered)
    middle = size // 2
    median = ordered[middle] if size % 2 else (ordered[middle - 1] + ordered[middle]) / 2
    return [sum(values) / size, float(median)]
""",
        cases=(
            ([[1, 2, 3, 4]], [2.5, 2.5]),
            ([[5]], [5.0, 5.0]),
            ([[3, 1, 2]], [2.0, 2.0]),
            ([[1, 1, 10]], [4.0, 1.0]),
            ([[-2, 0.5]], [-0.75, -0.75]),
            ([[7, 1, 3, 2]], [3.25, 2.5]),
        ),
        compare="float",
    ),
    Problem(
        slug="classify-number",
        signature="def classify_number(n: int) -> str:",
        doc="""
            Compare n (n >= 1) with the sum of its proper divisors (the divisors smaller than
            n): return "perfect" if they are equal, "abundant" if the sum is larger, and
            "deficient" if it is smaller.
        """,
        example=([8], "deficient"),
        reference="""
def classify_number(n: int) -> str:
    total = sum(d for d in range(1, n) if n % d == 0)
    if total == n:
        return "perfect"
    return "abundant" if total > n else "deficient"
""",
        cases=(
            ([6], "perfect"),
            ([28], "perfect"),
            ([12], "abundant"),
            ([1], "deficient"),
            ([7], "deficient"),
            ([945], "abundant"),
            ([496], "perfect"),
            ([16], "deficient"),
        ),
    ),
    Problem(
        slug="lcm-up-to",
        signature="def lcm_up_to(n: int) -> int:",
        doc="""
            Return the least common multiple of all the integers from 1 to n (n >= 1).
        """,
        example=([4], 12),
        reference="""
from math import gcd


def lcm_up_to(n: int) -> int:
    result = 1
    for k in range(2, n + 1):
        result = result * k // gcd(result, k)
    return result
""",
        cases=(
            ([1], 1),
            ([2], 2),
            ([5], 60),
            ([10], 2520),
            ([20], 232792560),
            ([3], 6),
            ([30], 2329089562800),
        ),
    ),
    Problem(
        slug="hamming-distance",
        signature="def hamming_distance(a: int, b: int) -> int:",
        doc="""
            Return the number of bit positions at which the binary forms of two non-negative
            integers differ.
        """,
        example=([3, 1], 1),
        reference="""
def hamming_distance(a: int, b: int) -> int:
    return bin(a ^ b).count("1")
""",
        cases=(
            ([1, 4], 2),
            ([0, 0], 0),
            ([7, 0], 3),
            ([255, 256], 9),
            ([5, 5], 0),
            ([2**40, 0], 1),
            ([10, 5], 4),
        ),
    ),
    Problem(
        slug="pascal-row",
        signature="def pascal_row(n: int) -> list[int]:",
        doc="""
            Return row n (counting from 0) of Pascal's triangle: the binomial coefficients
            C(n, 0), ..., C(n, n).
        """,
        example=([3], [1, 3, 3, 1]),
        reference="""
def pascal_row(n: int) -> list[int]:
    row = [1]
    for _ in range(n):
        row = [a + b for a, b in zip([0] + row, row + [0])]
    return row
""",
        cases=(
            ([0], [1]),
            ([1], [1, 1]),
            ([4], [1, 4, 6, 4, 1]),
            ([6], [1, 6, 15, 20, 15, 6, 1]),
            ([2], [1, 2, 1]),
            ([10], [1, 10, 45, 120, 210, 252, 210, 120, 45, 10, 1]),
        ),
    ),
    Problem(
        slug="quadratic-roots",
        signature="def quadratic_roots(a: float, b: float, c: float) -> list[float]:",
        doc="""
            Return the real roots of a*x**2 + b*x + c = 0 (a != 0) in ascending order: two
            roots, one (a double root is listed once), or none.
        """,
        example=([1, -5, 6], [2.0, 3.0]),
        reference="""
import math


def quadratic_roots(a: float, b: float, c: float) -> list[float]:
    discriminant = b * b - 4 * a * c
    if discriminant < 0:
        return []
    if discriminant == 0:
        return [-b / (2 * a)]
    root = math.sqrt(discriminant)
    return sorted([(-b - root) / (2 * a), (-b + root) / (2 * a)])
""",
        cases=(
            ([1, -3, 2], [1.0, 2.0]),
            ([1, 2, 1], [-1.0]),
            ([1, 0, 1], []),
            ([2, 0, -8], [-2.0, 2.0]),
            ([1, 0, 0], [0.0]),
            ([-1, 0, 4], [-2.0, 2.0]),
            ([1, -1, -1], [-0.6180339887498949, 1.618033988749895]),
        ),
        compare="float",
        difficulty=2,
    ),
    # --------------------------------------------------------------------------- algorithms
    Problem(
        slug="eval-rpn",
        signature="def eval_rpn(tokens: list[str]) -> int:",
        doc="""
            Evaluate an expression in reverse Polish notation. Tokens are integers (possibly
            negative, like "-3") and the operators "+", "-", "*" and "/"; "/" is integer
            division that truncates toward zero. The expression is valid.
        """,
        example=([["3", "4", "+", "2", "*"]], 14),
        reference="""
def eval_rpn(tokens: list[str]) -> int:
    stack: list[int] = []
    for token in tokens:
        if token in ("+", "-", "*", "/"):
            right = stack.pop()
            left = stack.pop()
            if token == "+":
                stack.append(left + right)
            elif token == "-":
                stack.append(left - right)
            elif token == "*":
                stack.append(left * right)
            else:
                quotient = abs(left) // abs(right)
                stack.append(quotient if (left >= 0) == (right >= 0) else -quotient)
        else:
            stack.append(int(token))
    return stack[0]
""",
        cases=(
            ([["2", "1", "+", "3", "*"]], 9),
            ([["4", "13", "5", "/", "+"]], 6),
            ([["10", "6", "9", "3", "+", "-11", "*", "/", "*", "17", "+", "5", "+"]], 22),
            ([["7"]], 7),
            ([["-7", "2", "/"]], -3),
            ([["3", "-4", "*"]], -12),
            ([["1", "2", "-"]], -1),
        ),
        difficulty=2,
    ),
    Problem(
        slug="tokenize",
        signature="def tokenize(expression: str) -> list[str]:",
        doc="""
            Split an expression into tokens: integers (maximal runs of digits), identifiers (a
            letter or underscore followed by letters, digits and underscores), and every other
            non-whitespace character as a token of its own. Whitespace only separates tokens.
        """,
        example=(["rate * (1 + t)"], ["rate", "*", "(", "1", "+", "t", ")"]),
        reference="""
import re


def tokenize(expression: str) -> list[str]:
    return re.findall(r"\\d+|[A-Za-z_]\\w*|\\S", expression)
""",
        cases=(
            (["3+4*(2-1)"], ["3", "+", "4", "*", "(", "2", "-", "1", ")"]),
            ([""], []),
            (["a=b"], ["a", "=", "b"]),
            (["foo_bar*12"], ["foo_bar", "*", "12"]),
            (["12ab"], ["12", "ab"]),
            (["(( ))"], ["(", "(", ")", ")"]),
            (["x1 >= 10"], ["x1", ">", "=", "10"]),
        ),
    ),
    Problem(
        slug="evaluate-expression",
        signature="def evaluate(expression: str) -> int:",
        doc="""
            Evaluate an arithmetic expression of non-negative integers, "+", "-", "*" and
            parentheses, with the usual precedence ("*" before "+" and "-", left to right
            otherwise). Spaces may appear anywhere between tokens; there is no unary minus. Do
            not use eval.
        """,
        example=(["1+2*3"], 7),
        reference="""
def evaluate(expression: str) -> int:
    tokens = []
    i = 0
    while i < len(expression):
        ch = expression[i]
        if ch.isdigit():
            j = i
            while j < len(expression) and expression[j].isdigit():
                j += 1
            tokens.append(expression[i:j])
            i = j
        else:
            if not ch.isspace():
                tokens.append(ch)
            i += 1
    position = 0

    def peek() -> str | None:
        return tokens[position] if position < len(tokens) else None

    def take() -> str:
        nonlocal position
        position += 1
        return tokens[position - 1]

    def atom() -> int:
        token = take()
        if token == "(":
            value = total()
            take()
            return value
        return int(token)

    def product() -> int:
        value = atom()
        while peek() == "*":
            take()
            value *= atom()
        return value

    def total() -> int:
        value = product()
        while peek() in ("+", "-"):
            if take() == "+":
                value += product()
            else:
                value -= product()
        return value

    return total()
""",
        cases=(
            (["2+3*4"], 14),
            (["(2+3)*4"], 20),
            (["10-4-3"], 3),
            (["7"], 7),
            (["2*(3+(4-1))*2"], 24),
            ([" 8 - 2 * 3 "], 2),
            (["1-2*3+4"], -1),
        ),
        difficulty=3,
    ),
    Problem(
        slug="parse-query",
        signature="def parse_query(query: str) -> dict[str, list[str]]:",
        doc="""
            Parse a URL query string such as "a=1&b=2&a=3" into a dict from each key to the list
            of its values, in order. Pairs are separated by "&" and empty pairs are skipped; a
            pair is split at its first "="; a pair without "=" has the value "". In keys and
            values "+" means a space and %XX escapes are decoded as UTF-8.
        """,
        example=(["x=1&y=two"], {"x": ["1"], "y": ["two"]}),
        reference="""
from urllib.parse import unquote_plus


def parse_query(query: str) -> dict[str, list[str]]:
    result: dict[str, list[str]] = {}
    for pair in query.split("&"):
        if not pair:
            continue
        key, _, value = pair.partition("=")
        result.setdefault(unquote_plus(key), []).append(unquote_plus(value))
    return result
""",
        cases=(
            (["a=1&b=2&a=3"], {"a": ["1", "3"], "b": ["2"]}),
            ([""], {}),
            (["q=hello+world"], {"q": ["hello world"]}),
            (["name=J%C3%BCrgen"], {"name": ["J\u00fcrgen"]}),
            (["flag&x="], {"flag": [""], "x": [""]}),
            (["k%20ey=v%26w"], {"k ey": ["v&w"]}),
            (["&&a=1&&"], {"a": ["1"]}),
        ),
        difficulty=2,
    ),
    Problem(
        slug="grid-shortest-path",
        signature="def grid_shortest_path(grid: list[str]) -> int:",
        doc="""
            The grid is a list of equal-length strings: "S" is the start, "E" the end, "#" a
            wall and "." open floor. Moving one cell up, down, left or right is one step; walls
            and the outside cannot be entered. Return the fewest steps from S to E, or -1 if E
            cannot be reached.
        """,
        example=([["S.", "#E"]], 2),
        reference="""
from collections import deque


def grid_shortest_path(grid: list[str]) -> int:
    cells = {(r, c): ch for r, row in enumerate(grid) for c, ch in enumerate(row)}
    start = next(cell for cell, ch in cells.items() if ch == "S")
    steps = {start: 0}
    queue = deque([start])
    while queue:
        r, c = queue.popleft()
        if cells[(r, c)] == "E":
            return steps[(r, c)]
        for nxt in ((r + 1, c), (r - 1, c), (r, c + 1), (r, c - 1)):
            if cells.get(nxt, "#") != "#" and nxt not in steps:
                steps[nxt] = steps[(r, c)] + 1
                queue.append(nxt)
    return -1
""",
        cases=(
            ([["S.E"]], 2),
            ([["S#E"]], -1),
            ([["S..", "##.", "E.."]], 6),
            ([["SE"]], 1),
            ([["S.", ".#", ".E"]], 3),
            ([["S....", "###.#", "E...."]], 8),
            ([["S#.", "#..", "..E"]], -1),
        ),
        difficulty=2,
    ),
    Problem(
        slug="count-islands",
        signature="def count_islands(grid: list[str]) -> int:",
        doc="""
            The grid is a list of equal-length strings of "1" (land) and "0" (water). Land cells
            that touch up, down, left or right belong to the same island. Return the number of
            islands.
        """,
        example=([["110", "001"]], 2),
        reference="""
def count_islands(grid: list[str]) -> int:
    land = {(r, c) for r, row in enumerate(grid) for c, ch in enumerate(row) if ch == "1"}
    islands = 0
    while land:
        islands += 1
        stack = [land.pop()]
        while stack:
            r, c = stack.pop()
            for nxt in ((r + 1, c), (r - 1, c), (r, c + 1), (r, c - 1)):
                if nxt in land:
                    land.remove(nxt)
                    stack.append(nxt)
    return islands
""",
        cases=(
            ([["11000", "11000", "00100", "00011"]], 3),
            ([[]], 0),
            ([["0"]], 0),
            ([["1"]], 1),
            ([["101", "010", "101"]], 5),
            ([["111", "101", "111"]], 1),
            ([["10", "01"]], 2),
        ),
        difficulty=2,
    ),
    Problem(
        slug="topological-order",
        signature="def topological_order(deps: dict[str, list[str]]) -> list[str]:",
        doc="""
            ``deps`` maps a task to the tasks that must be done before it; every name that
            appears (as a key or in a list) is a task. Return all tasks in an order that puts
            each after everything it depends on; whenever several tasks could come next, take
            the alphabetically smallest. If the dependencies contain a cycle, return [].
        """,
        example=(
            [{"deploy": ["build", "test"], "test": ["build"]}],
            ["build", "test", "deploy"],
        ),
        reference="""
import heapq


def topological_order(deps: dict[str, list[str]]) -> list[str]:
    tasks = set(deps)
    for before in deps.values():
        tasks.update(before)
    waiting = {task: set(deps.get(task, ())) for task in tasks}
    ready = [task for task, needs in waiting.items() if not needs]
    heapq.heapify(ready)
    order = []
    while ready:
        task = heapq.heappop(ready)
        order.append(task)
        for other, needs in waiting.items():
            if task in needs:
                needs.remove(task)
                if not needs:
                    heapq.heappush(ready, other)
    return order if len(order) == len(tasks) else []
""",
        cases=(
            ([{"b": ["a"], "c": ["b"]}], ["a", "b", "c"]),
            ([{}], []),
            ([{"a": []}], ["a"]),
            ([{"a": ["b"], "b": ["a"]}], []),
            ([{"d": ["b", "c"], "b": ["a"], "c": ["a"]}], ["a", "b", "c", "d"]),
            ([{"z": [], "y": [], "x": ["z"]}], ["y", "z", "x"]),
            ([{"a": ["a"]}], []),
        ),
        difficulty=3,
    ),
    Problem(
        slug="edit-distance",
        signature="def edit_distance(a: str, b: str) -> int:",
        doc="""
            Return the least number of single-character insertions, deletions and
            substitutions that turn a into b.
        """,
        example=(["horse", "ros"], 3),
        reference="""
def edit_distance(a: str, b: str) -> int:
    previous = list(range(len(b) + 1))
    for i, x in enumerate(a, start=1):
        current = [i]
        for j, y in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (x != y)))
        previous = current
    return previous[-1]
""",
        cases=(
            (["kitten", "sitting"], 3),
            (["", "abc"], 3),
            (["abc", "abc"], 0),
            (["flaw", "lawn"], 2),
            (["intention", "execution"], 5),
            (["a", ""], 1),
            (["ab", "ba"], 2),
        ),
        difficulty=3,
    ),
    Problem(
        slug="lcs-length",
        signature="def lcs_length(a: str, b: str) -> int:",
        doc="""
            Return the length of the longest common subsequence of a and b (characters taken in
            order, not necessarily adjacent).
        """,
        example=(["abcdef", "acf"], 3),
        reference="""
def lcs_length(a: str, b: str) -> int:
    previous = [0] * (len(b) + 1)
    for x in a:
        current = [0]
        for j, y in enumerate(b, start=1):
            current.append(previous[j - 1] + 1 if x == y else max(previous[j], current[j - 1]))
        previous = current
    return previous[-1]
""",
        cases=(
            (["abcde", "ace"], 3),
            (["abc", "def"], 0),
            (["", "a"], 0),
            (["AGGTAB", "GXTXAYB"], 4),
            (["aaaa", "aa"], 2),
            (["abc", "abc"], 3),
            (["xyxy", "yxyx"], 3),
        ),
        difficulty=3,
    ),
    Problem(
        slug="min-coins",
        signature="def min_coins(coins: list[int], amount: int) -> int:",
        doc="""
            With an unlimited supply of coins of the given positive values, return the fewest
            coins that add up to exactly ``amount`` (0 for an amount of 0), or -1 if no
            combination does.
        """,
        example=([[1, 5, 10, 25], 30], 2),
        reference="""
def min_coins(coins: list[int], amount: int) -> int:
    unreachable = amount + 1
    best = [0] + [unreachable] * amount
    for total in range(1, amount + 1):
        for coin in coins:
            if coin <= total and best[total - coin] + 1 < best[total]:
                best[total] = best[total - coin] + 1
    return best[amount] if best[amount] != unreachable else -1
""",
        cases=(
            ([[1, 2, 5], 11], 3),
            ([[2], 3], -1),
            ([[1], 0], 0),
            ([[1, 3, 4], 6], 2),
            ([[5, 10], 1], -1),
            ([[3, 7], 20], 4),
            ([[2, 5, 10, 1], 27], 4),
        ),
        difficulty=3,
    ),
    Problem(
        slug="next-permutation",
        signature="def next_permutation(values: list[int]) -> list[int]:",
        doc="""
            Return the next arrangement of the values in lexicographic order. If the values are
            already in their last arrangement (non-increasing), return the first one (sorted
            ascending).
        """,
        example=([[1, 2, 4, 3]], [1, 3, 2, 4]),
        reference="""
def next_permutation(values: list[int]) -> list[int]:
    items = list(values)
    i = len(items) - 2
    while i >= 0 and items[i] >= items[i + 1]:
        i -= 1
    if i < 0:
        return sorted(items)
    j = len(items) - 1
    while items[j] <= items[i]:
        j -= 1
    items[i], items[j] = items[j], items[i]
    items[i + 1 :] = reversed(items[i + 1 :])
    return items
""",
        cases=(
            ([[1, 2, 3]], [1, 3, 2]),
            ([[3, 2, 1]], [1, 2, 3]),
            ([[1, 1, 5]], [1, 5, 1]),
            ([[1]], [1]),
            ([[]], []),
            ([[1, 3, 2]], [2, 1, 3]),
            ([[2, 3, 1]], [3, 1, 2]),
        ),
        difficulty=2,
    ),
    # -------------------------------------------------------------------- dates and checksums
    Problem(
        slug="add-minutes",
        signature="def add_minutes(clock: str, minutes: int) -> str:",
        doc="""
            ``clock`` is a 24-hour time "HH:MM". Return the time ``minutes`` later (earlier when
            negative) in the same format, wrapping around midnight.
        """,
        example=(["10:15", 50], "11:05"),
        reference="""
def add_minutes(clock: str, minutes: int) -> str:
    hours, mins = map(int, clock.split(":"))
    total = (hours * 60 + mins + minutes) % (24 * 60)
    return f"{total // 60:02d}:{total % 60:02d}"
""",
        cases=(
            (["23:50", 20], "00:10"),
            (["00:00", 0], "00:00"),
            (["12:30", -45], "11:45"),
            (["00:10", -20], "23:50"),
            (["09:05", 1440], "09:05"),
            (["18:00", 3000], "20:00"),
            (["01:01", 59], "02:00"),
        ),
    ),
    Problem(
        slug="day-of-year",
        signature="def day_of_year(date: str) -> int:",
        doc="""
            ``date`` is "YYYY-MM-DD" in the Gregorian calendar. Return its day of the year
            (January 1st is 1). Leap years are those divisible by 4, except centuries not
            divisible by 400.
        """,
        example=(["2021-02-10"], 41),
        reference="""
def day_of_year(date: str) -> int:
    year, month, day = map(int, date.split("-"))
    leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    lengths = [31, 29 if leap else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
    return sum(lengths[: month - 1]) + day
""",
        cases=(
            (["2024-01-01"], 1),
            (["2024-03-01"], 61),
            (["2023-03-01"], 60),
            (["2023-12-31"], 365),
            (["2024-12-31"], 366),
            (["1900-03-01"], 60),
            (["2000-03-01"], 61),
        ),
    ),
    Problem(
        slug="isbn10-valid",
        signature="def isbn10_valid(code: str) -> bool:",
        doc="""
            Tell whether the code is a valid ISBN-10. Hyphens are ignored; what is left must be
            nine digits and a final check character, a digit or "X" (meaning 10). With the ten
            values d1..d10, 10*d1 + 9*d2 + ... + 1*d10 must be divisible by 11.
        """,
        example=(["3-598-21508-8"], True),
        reference="""
def isbn10_valid(code: str) -> bool:
    chars = code.replace("-", "")
    if len(chars) != 10 or not chars[:9].isdigit():
        return False
    last = chars[9]
    if not (last.isdigit() or last == "X"):
        return False
    values = [int(ch) for ch in chars[:9]] + [10 if last == "X" else int(last)]
    return sum((10 - i) * value for i, value in enumerate(values)) % 11 == 0
""",
        cases=(
            (["0-306-40615-2"], True),
            (["0306406152"], True),
            (["0306406153"], False),
            (["080442957X"], True),
            (["12345"], False),
            (["X123456789"], False),
            (["123456789X"], True),
        ),
    ),
    Problem(
        slug="luhn-valid",
        signature="def luhn_valid(number: str) -> bool:",
        doc="""
            Tell whether the number passes the Luhn checksum. Spaces are ignored; any other
            non-digit makes it invalid, and so does having fewer than two digits. From the
            right, double every second digit (subtracting 9 from results above 9); the number
            is valid when the sum of all digits is divisible by 10.
        """,
        example=(["4992 7398 716"], True),
        reference="""
def luhn_valid(number: str) -> bool:
    digits = number.replace(" ", "")
    if len(digits) < 2 or not digits.isdigit():
        return False
    total = 0
    for i, ch in enumerate(reversed(digits)):
        value = int(ch)
        if i % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0
""",
        cases=(
            (["4539 3195 0343 6467"], True),
            (["8273 1232 7352 0569"], False),
            (["0"], False),
            (["00"], True),
            (["059"], True),
            (["59a"], False),
            (["79927398713"], True),
        ),
    ),
)
