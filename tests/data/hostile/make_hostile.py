"""Write the hostile input files of this folder and ``expected.json``, their expected outcomes.

Run ``python tests/data/hostile/make_hostile.py`` (from anywhere). It rewrites every file it
owns here, byte for byte the same on every run, so a re-run shows no diff. Most of these
files cannot be written by hand: invalid UTF-8, UTF-16 with a byte-order mark, NUL bytes,
escape sequences, lone carriage returns, a PNG, spaCy DocBins. The two 50 MB cases are not
written here: ``tests/test_hostile.py`` streams them into a temporary folder.

Every case says what must happen (see ``README.md`` for the reasons):

* ``imports``: the documents the database must then hold, each with its text (as the
  importer documents it: byte-order mark dropped, CRLF turned into LF, everything else
  kept), its status and its accepted spans ``[start, end, label, text]``; the number of
  ``Warning:`` lines the import prints; words the output must hold.
* ``refused``: where (the file name, with ``:line:`` where a line applies), then words the
  rest of that one ``Error:`` line must hold (the byte offset where one applies, and what
  was wrong).

Span offsets are found here by searching the intended text, never typed, so they cannot be
off by one; the input files then carry them in each format's own convention.
"""

from __future__ import annotations

import json
import struct
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent

#: Files in this folder that are not hostile input.
OWN_FILES = ("make_hostile.py", "expected.json", "README.md")


@dataclass
class Case:
    """One hostile input file (plus companions, e.g. a brat ``.txt``) and what must happen."""

    name: str
    data: bytes
    why: str
    expect: dict[str, Any]
    companions: dict[str, bytes] = field(default_factory=dict)
    args: list[str] = field(default_factory=list)


CASES: list[Case] = []


def at(text: str, needle: str, nth: int = 0) -> tuple[int, int]:
    """Code-point ``(start, end)`` of the ``nth`` occurrence of ``needle`` in ``text``."""
    start = -1
    for _ in range(nth + 1):
        start = text.index(needle, start + 1)
    return start, start + len(needle)


def span(text: str, needle: str, label: str, nth: int = 0) -> list[Any]:
    """An expected span ``[start, end, label, text]``."""
    start, end = at(text, needle, nth)
    return [start, end, label, needle]


def doc(text: str, spans: list[list[Any]] | None = None, status: str | None = None) -> dict[str, Any]:
    """An expected document; an annotated one (with spans) is done unless told (issue 10)."""
    return {"text": text, "status": status or ("done" if spans else "todo"), "spans": spans or []}


def imports(
    name: str, data: bytes, why: str, documents: list[dict[str, Any]], *, warnings: int = 0,
    output: list[str] | None = None, companions: dict[str, bytes] | None = None, args: list[str] | None = None,
) -> None:
    CASES.append(Case(name, data, why, {
        "outcome": "imports", "documents": documents, "warnings": warnings, "output": output or [],
    }, companions or {}, args or []))


def refused(
    name: str, data: bytes, why: str, error: list[str], *, companions: dict[str, bytes] | None = None,
    args: list[str] | None = None,
) -> None:
    CASES.append(Case(name, data, why, {"outcome": "refused", "error": error}, companions or {}, args or []))


def jsonl(*records: Any, ascii_only: bool = False) -> bytes:
    """Records (dicts, or raw ``str`` lines written as they are) as JSON lines."""
    lines = [r if isinstance(r, str) else json.dumps(r, ensure_ascii=ascii_only) for r in records]
    return "".join(line + "\n" for line in lines).encode("utf-8")


def record(text: str, *spans: tuple[str, str], **extra: Any) -> dict[str, Any]:
    """A JSONL record whose spans are given as ``(needle, label)`` found in ``text``."""
    out: dict[str, Any] = {"text": text}
    if spans:
        out["spans"] = [dict(zip(("start", "end"), at(text, n)), label=lab) for n, lab in spans]
    out.update(extra)
    return out


def png() -> bytes:
    """A real 1x1 PNG image (signature, IHDR, IDAT, IEND with their CRCs)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00"))
            + chunk(b"IEND", b""))


KY = "Садыр Жапаров Бишкекке келди."
RU = "Владимир Путин прилетел в Москву."

# Text full of things a terminal or a markup parser would act on, if it were ever given the chance.
MARKUP = (
    "[bold]Садыр Жапаров[/bold] [/] [link=https://x]Бишкек[/link]\n"
    "[red on blue]Ош[/] :smile: \\[not] [#ff0000]red[/#ff0000] [@click=app.quit]quit[/] [b][i]Нарын"
)
ANSI = (
    "\x1b[31mКызыл\x1b[0m \x1b[1;5mБишкек\x1b[m \x1b[2J\x1b[H экран\n"
    "\x1b]52;c;SGVsbG8gd29ybGQ=\x07 алмашуу буфери \x1b]0;title\x07\n"
    "\x1b]8;;https://evil.example/\x1b\\Ош\x1b]8;;\x1b\\ шилтеме, \x9b31mC1 CSI\x9b0m, \x9d8;;u\x9c, DEL\x7f, BEL\x07"
)
BIDI = (
    "Садыр \u202eвораПаЖ\u202c Жапаров; \u2066Ош\u2069 \u2067Нарын\u2069 \u200fТалас\u200e "
    "\u202dБаткен\u202c \u202aЖалал-Абад\u202c \u202bЫссык-Көл\u202c \u061cЧүй"
)
EMOJI = (
    "👩\u200d💻 программист Айгүл, 👨\u200d👩\u200d👧 үй-бүлө, 👍🏽 👋🏿 🧑🏻\u200d🚀 "
    "🇰🇬 Кыргызстан 🏳️\u200d🌈, zero\u200bwidth, Ош\u200dшаары, ❤️"
)
MIXED = (
    "Правительствосунун жыйыны Госдумадагы депутаттар менен өттү. Путиндин Москвадагы сөзү, "
    "Кыргызstan жана Бишкeк (латын e менен), ЖогоркуКеңештин токтому."
)


def txt_cases() -> None:
    bad = KY.encode() + b"\n\xc3\x28 "
    refused("txt_invalid_utf8.txt", bad + "Ош шаары.\n".encode(), "A byte that cannot start a UTF-8 character.",
            ["txt_invalid_utf8.txt", f"invalid UTF-8 at byte {len(KY.encode()) + 1}", "invalid continuation byte"])
    cut = "Жапаров".encode()[:-1]
    refused("txt_truncated_utf8.txt", KY.encode() + b" " + cut,
            "The file ends in the middle of a two-byte character.",
            ["txt_truncated_utf8.txt", f"invalid UTF-8 at byte {len(KY.encode()) + len(cut)}",
             "unexpected end of data"])
    utf16 = KY + "\r\n" + RU + "\r\n"
    refused("txt_utf16le_bom.txt", "\ufeff".encode("utf-16-le") + utf16.encode("utf-16-le"),
            "UTF-16 (Windows 'Unicode') text is refused with a hint to convert it, not guessed at.",
            ["txt_utf16le_bom.txt", "not UTF-8", "UTF-16 (little-endian) byte-order mark at byte 0", "iconv"])
    refused("txt_utf16be_bom.txt", "\ufeff".encode("utf-16-be") + utf16.encode("utf-16-be"),
            "Big-endian UTF-16 with its byte-order mark.",
            ["txt_utf16be_bom.txt", "not UTF-8", "UTF-16 (big-endian) byte-order mark at byte 0"])
    refused("txt_utf32le_bom.txt", "\ufeff".encode("utf-32-le") + utf16.encode("utf-32-le"),
            "UTF-32 starts with the bytes of a UTF-16 mark; it must be named as UTF-32.",
            ["txt_utf32le_bom.txt", "not UTF-8", "UTF-32 (little-endian) byte-order mark"])
    refused("txt_binary_png.txt", png(), "A PNG image named .txt.",
            ["txt_binary_png.txt", "invalid UTF-8 at byte 0", "binary"])
    imports("txt_empty.txt", b"", "An empty file adds nothing and says so; it is not an error.", [],
            output=["Skipped txt_empty.txt: empty text"])
    imports("txt_whitespace_only.txt", "\r\n  \t\r\n\n\u00a0\u3000\n".encode(),
            "Only whitespace (CRLF, tabs, no-break and ideographic spaces): skipped as empty.", [],
            output=["Skipped txt_whitespace_only.txt: empty text"])
    text = KY + "\r\n" + RU + "\r\n"
    norm = text.replace("\r\n", "\n")
    imports("txt_bom_crlf.txt", b"\xef\xbb\xbf" + text.encode(),
            "A UTF-8 byte-order mark is dropped and CRLF becomes LF (documented in annotations/text.py).",
            [doc(norm)])
    text = "Бишкек\rОш\rНарын\rТалас\r"
    imports("txt_lone_cr.txt", text.encode(),
            "Lone CR (old Mac line ends) is data: kept, counted as one code point, shown inert by the TUI.",
            [doc(text)])
    text = "Бир\r\nЭки\rҮч\nТөрт\r\r\nБеш\n\rАлты"
    imports("txt_mixed_newlines.txt", text.encode(), "CRLF, LF and lone CR mixed: only CRLF pairs change.",
            [doc(text.replace("\r\n", "\n"))])
    text = "Садыр\x00Жапаров \x00\x00Бишкекке келди.\x00"
    imports("txt_nul_bytes.txt", text.encode(),
            "NUL is kept as data (one code point; SQLite, spaCy and every export carry it), shown as ␀.",
            [doc(text)])
    imports("txt_rich_markup.txt", MARKUP.encode(), "Rich and Textual markup is text, never interpreted.",
            [doc(MARKUP)])
    imports("txt_ansi_osc.txt", ANSI.encode(),
            "ANSI colours, screen clears, OSC 52 (clipboard), OSC 8 (links), OSC 0 (title), C1 controls: data.",
            [doc(ANSI)])
    imports("txt_bidi_overrides.txt", BIDI.encode(), "Bidi overrides, embeddings and isolates are data.",
            [doc(BIDI)])
    imports("txt_emoji_zwj.txt", EMOJI.encode(), "ZWJ sequences, skin tones, flags, zero-width characters.",
            [doc(EMOJI)])
    imports("txt_ky_ru_mixed.txt", MIXED.encode(),
            "Russian stems with Kyrgyz suffixes, a Latin tail and a Latin homoglyph inside Cyrillic words.",
            [doc(MIXED)])
    refused("unknown_type.csv", "text,label\nОш,LOC\n".encode(), "A suffix no reader knows.",
            ["unknown_type.csv", "unknown file type .csv"])


def jsonl_cases() -> None:
    good = jsonl(record(KY))
    head = '{"text": "Ош '.encode()
    refused("jsonl_invalid_utf8.jsonl", good + head + b'\xff"}\n',
            "Bad UTF-8 on line 2: the good line 1 is not written either (one transaction per file).",
            ["jsonl_invalid_utf8.jsonl:2:", f"invalid UTF-8 at byte {len(good) + len(head)}"])
    refused("jsonl_utf16_bom.jsonl", "\ufeff".encode("utf-16-le") + jsonl(record(KY)).decode().encode("utf-16-le"),
            "UTF-16 JSON lines.", ["jsonl_utf16_bom.jsonl:1:", "not UTF-8", "UTF-16 (little-endian)"])
    refused("jsonl_binary_png.jsonl", png(), "A PNG image named .jsonl.",
            ["jsonl_binary_png.jsonl:1:", "invalid UTF-8 at byte 0"])
    imports("jsonl_empty.jsonl", b"", "An empty file adds nothing and says so.", [],
            output=["Notice: jsonl_empty.jsonl: empty file, nothing to import"])
    imports("jsonl_blank_lines.jsonl", b"\n\r\n   \n\t\n", "Only blank lines: nothing to import.", [],
            output=["Notice: jsonl_blank_lines.jsonl: empty file, nothing to import"])
    refused("jsonl_not_json.jsonl", good + '{"text": "Ош шаары", "spans": [\n'.encode(), "Line 2 is cut short.",
            ["jsonl_not_json.jsonl:2:", "not valid JSON"])
    refused("jsonl_deep_nesting.jsonl", good + b"[" * 100_000 + b"\n",
            "100,000 nested arrays: Python's JSON parser gives up with RecursionError, which must not escape.",
            ["jsonl_deep_nesting.jsonl:2:", "not valid JSON", "nested too deeply"])
    refused("jsonl_not_object.jsonl", good + jsonl(record(RU)) + jsonl(["Садыр", "Жапаров"]),
            "A JSON array where a record should be.", ["jsonl_not_object.jsonl:3:", "expected a JSON object"])
    refused("jsonl_no_text.jsonl", good + jsonl({"title": "Жаңылыктар", "body": KY}), "A record without text.",
            ["jsonl_no_text.jsonl:2:", 'record has no "text"'])
    refused("jsonl_text_not_string.jsonl", jsonl({"text": 42}), '"text" is a number.',
            ["jsonl_text_not_string.jsonl:1:", '"text" is int, not a string'])
    n = len(KY)
    refused("jsonl_span_out_of_range.jsonl", good + jsonl({"text": KY, "spans": [
        {"start": n - 3, "end": n + 5, "label": "LOC"}]}), "A span that ends past the text.",
        ["jsonl_span_out_of_range.jsonl:2:", f"{n - 3}-{n + 5} is out of range (text has {n} characters)"])
    refused("jsonl_span_negative.jsonl", jsonl({"text": KY, "spans": [{"start": -4, "end": 5, "label": "PER"}]}),
            "A negative start.", ["jsonl_span_negative.jsonl:1:", "-4-5 is out of range"])
    refused("jsonl_span_reversed.jsonl", jsonl({"text": KY, "spans": [{"start": 13, "end": 6, "label": "PER"}]}),
            "start after end.", ["jsonl_span_reversed.jsonl:1:", "empty or reversed: start 13, end 6"])
    refused("jsonl_span_overlap.jsonl", jsonl(record(KY, ("Садыр Жапаров", "PER"), ("Жапаров Бишкекке", "LOC"))),
            "Two accepted spans of one annotator overlap.",
            ["jsonl_span_overlap.jsonl:1:", "spans overlap: PER 0-13 and LOC 6-22"])
    refused("jsonl_span_bad_types.jsonl", jsonl({"text": KY, "spans": [{"start": "0", "end": 5, "label": "PER"}]}),
            "Offsets as strings.", ["jsonl_span_bad_types.jsonl:1:", 'needs integer "start" and "end"'])
    text = "Садыр 😀 Жапаров 👍🏽 Бишкекке"
    imports("jsonl_surrogate_pairs.jsonl", jsonl(record(text, ("Садыр", "PER"), ("😀", "EMOJI"), ("Бишкекке", "LOC")),
                                                 ascii_only=True),
            "Emoji written as JSON surrogate-pair escapes (\\ud83d\\ude00) become one code point each;"
            " offsets count code points.",
            [doc(text, [span(text, "Садыр", "PER"), span(text, "😀", "EMOJI"), span(text, "Бишкекке", "LOC")])],
            output=["New labels added: EMOJI"])
    refused("jsonl_lone_surrogate.jsonl", good + b'{"text": "\\u0421\\u0430\\u0434\\u044b\\u0440 \\ud83d b"}\n',
            "A lone high surrogate escape cannot be stored as UTF-8.",
            ["jsonl_lone_surrogate.jsonl:2:", "lone surrogate (U+D83D) at offset 6"])
    refused("jsonl_reversed_surrogates.jsonl", b'{"text": "ab \\ude00\\ud83d"}\n',
            "A low surrogate before a high one is two lone surrogates.",
            ["jsonl_reversed_surrogates.jsonl:1:", "lone surrogate (U+DE00) at offset 3"])
    text = "😀 " + KY
    s, e = at(text, "келди")
    refused("jsonl_utf16_offsets.jsonl", jsonl({"text": text, "spans": [
        {"start": s + 1, "end": e + 2, "label": "X", "text": "келди."}]}),
        "Offsets counted in UTF-16 units (as JavaScript tools count) run past the end here.",
        ["jsonl_utf16_offsets.jsonl:1:", f"{s + 1}-{e + 2} is out of range"])
    text = "Е\u0308лка жана Ма\u0301рия"
    refused("jsonl_span_in_combining.jsonl", jsonl({"text": text, "spans": [{"start": 0, "end": 1, "label": "X"}]}),
            "A span ending between a letter and its combining diaeresis.",
            ["jsonl_span_in_combining.jsonl:1:", "cuts through a character sequence at offset 1"])
    text = "Айгүл 👩\u200d💻 программист"
    s, _ = at(text, "👩")
    refused("jsonl_span_in_zwj.jsonl", jsonl({"text": text, "spans": [{"start": s, "end": s + 2, "label": "X"}]}),
            "A span ending right after the ZWJ of an emoji sequence.",
            ["jsonl_span_in_zwj.jsonl:1:", f"cuts through a character sequence at offset {s + 2}"])
    text = "Жакшы 👍🏽 деди"
    s, _ = at(text, "👍")
    refused("jsonl_span_in_skin_tone.jsonl", jsonl({"text": text, "spans": [{"start": s, "end": s + 1, "label": "X"}]}),
            "A span that separates an emoji from its skin-tone modifier.",
            ["jsonl_span_in_skin_tone.jsonl:1:", f"at offset {s + 1}"])
    text = "🇰🇬 Кыргызстан"
    refused("jsonl_span_in_flag.jsonl", jsonl({"text": text, "spans": [{"start": 0, "end": 1, "label": "LOC"}]}),
            "A span holding half a flag.", ["jsonl_span_in_flag.jsonl:1:", "at offset 1"])
    text = "Ма\u0301рия 👩\u200d💻 Ёлкада, Е\u0308лка 🇰🇬"
    imports("jsonl_whole_graphemes.jsonl", jsonl(record(text, ("Ма\u0301рия", "PER"), ("Е\u0308лка", "LOC"))),
            "Spans that keep combining sequences whole import with their offsets.",
            [doc(text, [span(text, "Ма\u0301рия", "PER"), span(text, "Е\u0308лка", "LOC")])])
    text = "Кыргызстандагы шайлоо 2024-жылы өттү, Бишкекте."
    imports("jsonl_unknown_labels.jsonl", jsonl(record(text, ("2024-жылы", "ДАТА"), ("шайлоо", "[bold]EVENT[/]"),
                                                        ("Бишкекте", "LOC"))),
            "Labels not in the database are added (a label may look like markup: it is shown literally).",
            [doc(text, [span(text, "шайлоо", "[bold]EVENT[/]"), span(text, "2024-жылы", "ДАТА"),
                        span(text, "Бишкекте", "LOC")])],
            output=["New labels added: ДАТА, [bold]EVENT[/]"])
    refused("jsonl_label_with_escape.jsonl", jsonl({"text": KY, "spans": [{"start": 0, "end": 5,
                                                                          "label": "PER\x1b[31m"}]}),
            "A label holding an escape sequence is refused, and the message shows it inert.",
            ["jsonl_label_with_escape.jsonl:1:", "invalid label 'PER\\x1b[31m'"])
    rows = [
        {"text": KY, "_input_hash": 1, "_task_hash": 2, "answer": "accept"},
        {"text": RU, "spans": None, "answer": "accept", "_view_id": "ner_manual"},
        {"text": "Ош шаарында жамгыр жаады.", "answer": "reject"},
        {"text": "Нарында кар жаады.", "answer": "ignore", "meta": {"source": "akipress"}},
        record("Талас облусунда.", ("Талас", "LOC"), answer="accept"),
    ]
    imports("jsonl_prodigy_no_spans.jsonl", jsonl(*rows),
            "Prodigy rows: accept is done with or without spans (a negative example); reject and"
            " ignore become skipped.",
            [doc(KY, status="done"), doc(RU, status="done"), doc("Ош шаарында жамгыр жаады.", status="skipped"),
             doc("Нарында кар жаады.", status="skipped"),
             doc("Талас облусунда.", [span("Талас облусунда.", "Талас", "LOC")], status="done")])
    text = "Садыр Жапаров Бишкекте Мишустин менен жолукту."
    spans = [dict(zip(("start", "end"), at(text, w)), label=lab, text=t) for w, lab, t in (
        ("Садыр Жапаров", "PER", "Садыр Жапаров"), ("Бишкекте", "LOC", "Москвада"),
        ("Мишустин", "PER", "Mishustin"))]
    imports("jsonl_span_text_mismatch.jsonl", jsonl({"text": text, "spans": spans, "answer": "accept"}),
            "A span's text disagrees with text[start:end]: the offsets win, and the mismatches are counted.",
            [doc(text, [span(text, "Садыр Жапаров", "PER"), span(text, "Бишкекте", "LOC"),
                        span(text, "Мишустин", "PER")], status="done")],
            warnings=1, output=['Warning: 2 span(s) carry a "text" that differs'])
    raw = "Садыр Жапаров\r\nБишкекке келди.\r\nОш шаары"
    norm = raw.replace("\r\n", "\n")
    rec = {"text": raw, "spans": [dict(zip(("start", "end"), at(raw, w)), label=lab, text=w)
                                  for w, lab in (("Бишкекке", "LOC"), ("Ош", "LOC"))]}
    imports("jsonl_crlf.jsonl", (json.dumps(rec, ensure_ascii=False) + "\r\n" + json.dumps(record(RU)) + "\r\n").encode(),
            "CRLF line ends, and CRLF inside a text whose span offsets count the CRs: the spans follow"
            " the words when CRLF becomes LF.",
            [doc(norm, [span(norm, "Бишкекке", "LOC"), span(norm, "Ош", "LOC")]), doc(RU)])
    text = "Садыр\x00Жапаров Бишкекке\x00 келди"
    imports("jsonl_nul.jsonl", jsonl(record(text, ("Бишкекке", "LOC"))),
            "NUL (\\u0000) inside a text is data (spaCy does not split at it: the span is counted as"
            " misaligned and kept).",
            [doc(text, [span(text, "Бишкекке", "LOC")])], warnings=1,
            output=["Warning: 1 span(s) do not fall on token boundaries"])
    text = ("[bold]Садыр[/bold] \x1b[31mБишкек\x1b[0m \x1b]8;;https://evil.example/\x1b\\Ош\x1b]8;;\x1b\\ "
            "\u202eНарын\u202c \x1b]52;c;SGVsbG8=\x07 [link=https://x]Талас[/link]")
    imports("jsonl_markup_escapes.jsonl", jsonl(record(text, ("Садыр", "PER"), ("Бишкек", "LOC"), ("Ош", "LOC"),
                                                        ("Нарын", "LOC"), ("Талас", "LOC"))),
            "Spans among markup, ANSI, OSC 8/52 and bidi overrides keep their offsets (they are not on"
            " spaCy token boundaries: counted as misaligned, kept as given).",
            [doc(text, [span(text, w, "PER" if w == "Садыр" else "LOC")
                        for w in ("Садыр", "Бишкек", "Ош", "Нарын", "Талас")])],
            warnings=1, output=["Warning: 5 span(s) do not fall on token boundaries"])
    text = "Жапаровдун Москвага сапары: Путиндин кабыл алуусу Кремлдеги залда."
    imports("jsonl_ky_ru_word.jsonl", jsonl(record(text, ("Жапаровдун", "PER"), ("Москва", "LOC"),
                                                    ("Путиндин", "PER"))),
            "A span on the Russian stem inside a Kyrgyz word (Москва|га) is kept, counted as misaligned.",
            [doc(text, [span(text, "Жапаровдун", "PER"), span(text, "Москва", "LOC"), span(text, "Путиндин", "PER")])],
            warnings=1, output=["Warning: 1 span(s) do not fall on token boundaries"])
    imports("jsonl_duplicate_text.jsonl", jsonl(record(KY, ("Садыр", "PER")), record(KY, ("Садыр Жапаров", "PER"))),
            "The same text twice, annotated differently: one document, the first version kept and the"
            " conflict reported with both lines (issue 10).",
            [doc(KY, [span(KY, "Садыр", "PER")])], warnings=1,
            output=["duplicate(s)", "jsonl_duplicate_text.jsonl:2: annotated differently from jsonl_duplicate_text.jsonl:1"])
    text = "Бишкек\u2028Ош\u2029Нарын\x85Талас\x0bБаткен\x0cЧүй"
    imports("jsonl_line_separators.jsonl", jsonl(record(text, *((w, "LOC") for w in ("Ош", "Нарын", "Талас",
                                                                                   "Баткен", "Чүй")))),
            "U+2028, U+2029, NEL, VT and FF are line breaks to str.splitlines but not to JSON lines:"
            " a reader that split on them would shift every later offset.",
            [doc(text, [span(text, w, "LOC") for w in ("Ош", "Нарын", "Талас", "Баткен", "Чүй")])])
    refused("jsonl_tokens_bad.jsonl", jsonl({"text": KY, "tokens": [{"start": 6, "end": 13}, {"start": 0, "end": 5}]}),
            "Tokens out of order.", ["jsonl_tokens_bad.jsonl:1:", "token 2 (0-5) is out of order or out of range"])
    refused("hf_length_mismatch.jsonl", jsonl({"tokens": ["Садыр", "Жапаров", "келди"], "ner_tags": ["B-PER", "I-PER"]}),
            "Hugging Face layout (found by content) with fewer tags than tokens.",
            ["hf_length_mismatch.jsonl:1:", '"ner_tags" must be a list as long as "tokens"'])


def conll_cases() -> None:
    lines = ["-DOCSTART-\tO", "", "Садыр\tI-PER", "Жапаров\tI-PER", "Бишкекке\tI-LOC", "келди\tO", ".\tO", ""]
    text = "Садыр Жапаров Бишкекке келди ."
    imports("conll_i_start.conll", "\n".join(lines).encode(),
            "Entities starting with I- (IOB1) are read as B-, one warning each with its line.",
            [doc(text, [span(text, "Садыр Жапаров", "PER"), span(text, "Бишкекке", "LOC")])],
            warnings=2, output=["conll_i_start.conll: line 3: entity starts with I-PER",
                                "conll_i_start.conll: line 5: entity starts with I-LOC"])
    lines = ["-DOCSTART-\tO", "", "Кара Суу\tB-LOC", "жана\tO", "Жалал - Абад\tB-LOC", "шаарлары\tO", "",
             "Улуттук банк\tB-ORG", "билдирди\tO", ""]
    text = "Кара Суу жана Жалал - Абад шаарлары\nУлуттук банк билдирди"
    imports("conll_token_spaces.conll", "\n".join(lines).encode(),
            "Tab-separated tokens holding spaces (multi-word tokens) stay whole; sentences without final"
            " punctuation are fine.",
            [doc(text, [span(text, "Кара Суу", "LOC"), span(text, "Жалал - Абад", "LOC"),
                        span(text, "Улуттук банк", "ORG")])])
    lines = ["-DOCSTART- O", "", "Садыр B-PER", "Жапаров I-PER", "Бишкек", "келди O", ""]
    refused("conll_malformed_line.conll", "\n".join(lines).encode(), "A token line without a tag (line 5).",
            ["conll_malformed_line.conll:5:", "expected a token and a tag"])
    lines = ["-DOCSTART-\tO", "", "Садыр\tB-PER", "Ош\tX-LOC", ""]
    refused("conll_bad_tag.conll", "\n".join(lines).encode(), "A tag that is not IOB.",
            ["conll_bad_tag.conll:4:", "tag 'X-LOC' is not O or B-/I-/E-/S-/L-/U- followed by a label"])
    data = "-DOCSTART-\tO\n\nОш".encode() + b"\xc0\tB-LOC\n"
    refused("conll_invalid_utf8.conll", data, "Bad UTF-8 in a token (line 3).",
            ["conll_invalid_utf8.conll:3:", "invalid UTF-8"])
    refused("conll_utf16_bom.conll", "\ufeff-DOCSTART-\tO\r\n\r\nОш\tB-LOC\r\n".encode("utf-16-le"),
            "UTF-16 CoNLL.", ["conll_utf16_bom.conll:1:", "not UTF-8", "UTF-16 (little-endian)"])
    lines = ["\ufeff-DOCSTART-\tO", "", "Садыр\tB-PER", "Жапаров\tI-PER", "келди\tO", ""]
    text = "Садыр Жапаров келди"
    imports("conll_bom_crlf.conll", "\r\n".join(lines).encode(), "A byte-order mark and CRLF line ends.",
            [doc(text, [span(text, "Садыр Жапаров", "PER")])])
    toks = [("[bold]Садыр[/bold]", "B-PER"), ("\x1b[31mОш\x1b[0m", "B-LOC"), ("\u202eНарын\u202c", "B-LOC"),
            ("\x1b]52;c;SGVsbG8=\x07", "O"), ("[link=https://x]", "B-ORG"), ("\x1b]8;;u\x1b\\Талас", "I-ORG")]
    text = " ".join(t for t, _ in toks)
    imports("conll_escape_tokens.conll", ("-DOCSTART-\tO\n\n" + "".join(f"{t}\t{g}\n" for t, g in toks)).encode(),
            "Tokens made of markup, escape sequences and bidi overrides are kept exactly.",
            [doc(text, [span(text, "[bold]Садыр[/bold]", "PER"), span(text, "\x1b[31mОш\x1b[0m", "LOC"),
                        span(text, "\u202eНарын\u202c", "LOC"),
                        span(text, "[link=https://x] \x1b]8;;u\x1b\\Талас", "ORG")])])


def brat_cases() -> None:
    txt = KY + "\n"
    ann = f"T1\tPER 0 13\tСадыр Жапаров\nT2\tLOC 14 {len(txt) + 4}\tБишкекке келди.\n"
    refused("brat_past_end.ann", ann.encode(), "A .ann whose second entity ends past the .txt.",
            ["brat_past_end.ann:2:", f"T2: offsets 14-{len(txt) + 4} are empty or outside the text ({len(txt)}"
             " characters)"], companions={"brat_past_end.txt": txt.encode()})
    refused("brat_bad_syntax.ann", "T1 PER 0 13 Садыр Жапаров\n".encode(), "Spaces where brat needs tabs.",
            ["brat_bad_syntax.ann:1:", "not a brat annotation line"], companions={"brat_bad_syntax.txt": txt.encode()})
    refused("brat_bad_offsets.ann", "T1\tPER zero 13\tСадыр Жапаров\n".encode(), "Offsets that are not numbers.",
            ["brat_bad_offsets.ann:1:", "T1: expected \"start end\" offsets, got 'zero 13'"],
            companions={"brat_bad_offsets.txt": txt.encode()})
    refused("brat_missing_txt.ann", "T1\tPER 0 5\tСадыр\n".encode(), "A .ann without its .txt.",
            ["brat_missing_txt.txt", "no .txt file beside the .ann"])
    raw = "\ufeff" + KY + "\r\n" + RU + "\r\n"
    norm = (KY + "\n" + RU + "\n")
    lines = [f"T{i}\t{lab} {at(raw, w)[0]} {at(raw, w)[1]}\t{w}" for i, (w, lab) in enumerate(
        (("Садыр Жапаров", "PER"), ("Бишкекке", "LOC"), ("Владимир Путин", "PER"), ("Москву", "LOC")), 1)]
    imports("brat_bom_crlf.ann", ("\n".join(lines) + "\n").encode(),
            "brat offsets count the .txt's BOM and CRs; the spans follow their words when both are dropped.",
            [doc(norm, [span(norm, "Садыр Жапаров", "PER"), span(norm, "Бишкекке", "LOC"),
                        span(norm, "Владимир Путин", "PER"), span(norm, "Москву", "LOC")])],
            companions={"brat_bom_crlf.txt": raw.encode()})
    s1, s2 = at(txt, "Садыр"), at(txt, "Бишкекке")
    lines = [f"T1\tPER {s1[0]} {s1[1]};{at(txt, 'Жапаров')[0]} {at(txt, 'Жапаров')[1]}\tСадыр Жапаров",
             f"T2\tLOC {s2[0]} {s2[1]}\tМосквага", "R1\tLocated Arg1:T1 Arg2:T2", "#1\tAnnotatorNotes T1\tэскертүү",
             "A1\tNegated T2"]
    imports("brat_discontinuous.ann", ("\n".join(lines) + "\n").encode(),
            "A discontinuous entity becomes one span per fragment; relations, notes and attributes are"
            " skipped; a third column that disagrees with the offsets is counted. One warning line each.",
            [doc(txt, [span(txt, "Садыр", "PER"), span(txt, "Жапаров", "PER"), span(txt, "Бишкекке", "LOC")])],
            warnings=3, output=["discontinuous entity T1 imported as 2 spans", "skipped 3 relation",
                                'Warning: 1 span(s) carry a "text" that differs'],
            companions={"brat_discontinuous.txt": txt.encode()})


def docbin(docs: list[tuple[str, list[tuple[str, str]]]], lang: str = "ky") -> bytes:
    """A spaCy DocBin of ``(text, [(needle, label)])`` docs, byte for byte the same on every run."""
    import spacy
    import srsly
    from spacy.tokens import DocBin

    nlp = spacy.blank(lang)
    out = DocBin(attrs=["ENT_IOB", "ENT_TYPE"], store_user_data=False)
    for text, ents in docs:
        d = nlp.make_doc(text)
        d.ents = [d.char_span(*at(text, n), label=lab, alignment_mode="strict") for n, lab in ents]
        out.add(d)
    msg = srsly.msgpack_loads(zlib.decompress(out.to_bytes()))
    msg["strings"] = sorted(msg["strings"])  # a set in DocBin: its order changes from run to run
    return zlib.compress(srsly.msgpack_dumps(msg), 9)


SPACY_DOCS = [
    ("Садыр Жапаров \x1b[31mБишкекке\x1b[0m келди. [bold]Ош[/bold]",
     [("Садыр Жапаров", "PER"), ("\x1b[31mБишкекке\x1b[0", "LOC")]),
    ("\u202eНарын\u202c облусу 👩\u200d💻 Талас", [("\u202eНарын\u202c", "LOC"), ("Талас", "LOC")]),
]


def spacy_cases() -> None:
    refused("spacy_not_docbin.spacy", "Бул DocBin эмес, жөн эле текст.\n".encode(), "Plain text named .spacy.",
            ["spacy_not_docbin.spacy", "not a spaCy DocBin (.spacy) file"])
    refused("spacy_png.spacy", png(), "A PNG named .spacy.", ["spacy_png.spacy", "not a spaCy DocBin (.spacy) file"])
    import srsly

    refused("spacy_wrong_msgpack.spacy", zlib.compress(srsly.msgpack_dumps({"hello": "world"}), 9),
            "zlib-compressed msgpack of the wrong shape: the message says which field is missing.",
            ["spacy_wrong_msgpack.spacy", "not a spaCy DocBin (.spacy) file", "missing field 'attrs'"])
    whole = docbin(SPACY_DOCS)
    refused("spacy_truncated.spacy", whole[: len(whole) // 2], "A real DocBin cut in half.",
            ["spacy_truncated.spacy", "not a spaCy DocBin (.spacy) file"])
    imports("spacy_hostile_text.spacy", whole, "A real DocBin whose texts hold escapes, markup and bidi controls.",
            [doc(t, [span(t, n, lab) for n, lab in ents]) for t, ents in SPACY_DOCS])


def limit_cases() -> None:
    """Issue 16 items 5, 7, 8, 13 and 2: numbers, nesting, NaN, long and markup labels."""
    good = jsonl(record(KY, ("Садыр Жапаров", "PER")))
    for name, value, word in (("jsonl_nan_meta.jsonl", "NaN", "NaN is not a JSON number"),
                              ("jsonl_infinity_meta.jsonl", "-Infinity", "-Infinity is not a JSON number")):
        refused(name, good + f'{{"text": "{RU}", "meta": {{"v": {value}}}}}\n'.encode(),
                f"{value} in meta: Python's JSON reader takes it, strict readers (and our export's consumers) do not.",
                [f"{name}:2:", "not valid JSON", word, "strict JSON readers refuse NaN and Infinity"])
    refused("jsonl_float_overflow.jsonl", good + f'{{"text": "{RU}", "meta": {{"v": 1e400}}}}\n'.encode(),
            "1e400 parses as Infinity, which no strict JSON writer can write back.",
            ["jsonl_float_overflow.jsonl:2:", "meta holds inf, which strict JSON readers refuse"])
    refused("jsonl_huge_int_meta.jsonl", good + f'{{"text": "{RU}", "meta": {{"v": {"7" * 5000}}}}}\n'.encode(),
            "A 5,000-digit integer: past Python's 4,300-digit conversion limit (a ValueError traceback before).",
            ["jsonl_huge_int_meta.jsonl:2:", "not valid JSON: an integer of 5,000 digits (at most 4,300 are read)"])
    refused("jsonl_huge_int_offset.jsonl",
            f'{{"text": "{KY}", "spans": [{{"start": 0, "end": {"9" * 5000}, "label": "PER"}}]}}\n'.encode(),
            "A 5,000-digit span offset.", ["jsonl_huge_int_offset.jsonl:1:", "an integer of 5,000 digits"])
    refused("jsonl_int_65_bits.jsonl", good + jsonl(record(RU, meta={"id": 1 << 64})),
            "2**64 in meta: valid JSON, but spaCy's DocBin (msgpack) cannot write it.",
            ["jsonl_int_65_bits.jsonl:2:", "meta holds an integer that does not fit in 64 bits"])
    imports("jsonl_int_64_bits.jsonl", jsonl(record(KY, ("Садыр Жапаров", "PER"), meta={"lo": -(1 << 63), "hi": (1 << 64) - 1})),
            "The 64-bit extremes are kept.", [doc(KY, [span(KY, "Садыр Жапаров", "PER")])])

    def nested(depth: int) -> Any:
        value: Any = 1  # inside ``depth`` objects
        for _ in range(depth):
            value = {"a": value}
        return value

    imports("jsonl_meta_depth_100.jsonl", jsonl(record(KY, ("Бишкекке", "LOC"), meta=nested(100))),
            "Meta 100 levels deep: at the limit, which every export format (spaCy's DocBin too) can write.",
            [doc(KY, [span(KY, "Бишкекке", "LOC")])])
    for depth in (101, 600):
        name = f"jsonl_meta_depth_{depth}.jsonl"
        refused(name, good + jsonl(record(RU, meta=nested(depth))),
                f"Meta {depth} levels deep: JSON holds it, spaCy's DocBin does not (msgpack stops at 511).",
                [f"{name}:2:", "meta is nested more than 100 levels deep"])
    refused("jsonl_nan_score.jsonl", f'{{"text": "{KY}", "spans": [{{"start": 0, "end": 13, "label": "PER",'
            ' "score": NaN}]}\n'.encode(), "A suggestion score of NaN.",
            ["jsonl_nan_score.jsonl:1:", "NaN is not a JSON number"], args=["--as", "suggestions"])
    refused("jsonl_meta_lone_surrogate.jsonl", good + f'{{"text": "{RU}", "meta": {{"\\ud800": "x"}}}}\n'.encode(),
            "A lone surrogate as a meta key: it cannot be stored as UTF-8.",
            ["jsonl_meta_lone_surrogate.jsonl:2:", "meta holds a lone surrogate"])
    long_label = "X" * 9_999 + " "
    refused("jsonl_long_invalid_label.jsonl", jsonl({"text": KY, "spans": [{"start": 0, "end": 5, "label": long_label}]}),
            "A 10,000-character label: the error quotes 40 characters and says how long it was.",
            ["jsonl_long_invalid_label.jsonl:1:", "span 1 has an invalid label 'XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX'…"
             " (10,000 characters)"])
    text = "Садыр Жапаров Бишкекке келди, Ош шаарына барды."
    imports("jsonl_markup_labels.jsonl",
            jsonl(record(text, ("Садыр Жапаров", "[reverse]INJ"), ("Бишкекке", "[link=file:///etc/passwd]X"),
                         ("Ош", "[@click=app.quit]Q"))),
            "Labels that are Textual markup are names like any other (the app shows them as typed).",
            [doc(text, [span(text, "Садыр Жапаров", "[reverse]INJ"), span(text, "Бишкекке", "[link=file:///etc/passwd]X"),
                        span(text, "Ош", "[@click=app.quit]Q")])],
            output=["New labels added: [reverse]INJ, [link=file:///etc/passwd]X, [@click=app.quit]Q"])
    refused("hf_huge_int.jsonl", f'{{"tokens": ["Садыр"], "ner_tags": [{"1" * 5000}]}}\n'.encode(),
            "A 5,000-digit tag id in Hugging Face layout: the content sniffer must not crash on it.",
            ["hf_huge_int.jsonl:1:", "an integer of 5,000 digits"])
    txt = KY + "\n"
    refused("brat_superscript_offset.ann", "T1\tPER 0 1³\tС\n".encode(),
            "A superscript digit: str.isdigit() says yes, int() says no (a traceback before).",
            ["brat_superscript_offset.ann:1:", "T1", "0 1³"], companions={"brat_superscript_offset.txt": txt.encode()})
    refused("brat_huge_offset.ann", f"T1\tPER 0 {'9' * 5000}\tС\n".encode(), "A 5,000-digit brat offset.",
            ["brat_huge_offset.ann:1:", "T1"], companions={"brat_huge_offset.txt": txt.encode()})


def write_all() -> None:
    txt_cases()
    jsonl_cases()
    conll_cases()
    brat_cases()
    spacy_cases()
    limit_cases()
    names = [c.name for c in CASES] + [n for c in CASES for n in c.companions]
    assert len(names) == len(set(names)), "two cases share a file name"
    for old in HERE.iterdir():
        if old.is_file() and old.name not in OWN_FILES:
            old.unlink()
    expected: dict[str, Any] = {
        "_about": "Expected outcome of every file in this folder; written by make_hostile.py, read by"
                  " tests/test_hostile.py. See README.md for the decisions.",
    }
    for case in CASES:
        (HERE / case.name).write_bytes(case.data)
        for name, data in case.companions.items():
            (HERE / name).write_bytes(data)
        expected[case.name] = {
            "why": case.why, **({"args": case.args} if case.args else {}),
            **({"companions": sorted(case.companions)} if case.companions else {}), **case.expect,
        }
    (HERE / "expected.json").write_text(json.dumps(expected, ensure_ascii=True, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {len(CASES)} cases ({len(names)} files) and expected.json to {HERE}")


if __name__ == "__main__":
    write_all()
