"""Text from outside (customers' comments, product systems' segment values) made safe to show.

Cleaned twice, on purpose:

- at input, a comment is stored clean (logic/collect.parse_comment, sms_reply.read_reply), so
  every later reader (reports, the callback task, the data export) gets clean text;
- at output, every value a template prints (rendering.py: pages and emails), every text cell of
  the report's workbook (report_workbook.py) and the callback task's description pass through
  `clean_text` again, so a comment stored before this rule existed, or a value that came in
  another way (a segment value from an event), is cleaned as well.

Removed: the C0 control characters except tab and line breaks (NUL, BEL, ESC, ...), DEL, the C1
controls (U+0080-U+009F; NEL counts as a line break), the bidirectional embeddings, overrides
and isolates (U+202A-U+202E, U+2066-U+2069: "Trojan Source" reordering that makes a text read
differently from what it holds), the interlinear annotation marks and a byte order mark inside
the text. Kept: everything a person writes, emoji sequences (zero-width joiner, variation
selectors, tag characters), and the left-to-right / right-to-left marks (U+200E, U+200F,
U+061C), which do not open a direction scope and which mixed Hebrew or Arabic text needs.

Line breaks (CR LF, CR, NEL, U+2028, U+2029, vertical tab, form feed) become "\\n". Where one
value must stay on one line (the plain-text report, the callback task's lines), `one_line`
replaces them with a visible mark, so a comment cannot forge lines around it.
"""

from __future__ import annotations

import re

# Each code point removed, as a character class.
_REMOVED = (
    "\x00-\x08"  # C0 controls before tab
    "\x0e-\x1f"  # C0 controls after carriage return (shift out ... unit separator)
    "\x7f-\x84\x86-\x9f"  # DEL and the C1 controls (NEL, U+0085, is a line break)
    "\u202a-\u202e"  # LRE, RLE, PDF, LRO, RLO
    "\u2066-\u2069"  # LRI, RLI, FSI, PDI
    "\ufff9-\ufffb"  # interlinear annotation anchor, separator, terminator
    "\ufeff"  # byte order mark / zero-width no-break space inside a text
)
_REMOVE = re.compile(f"[{_REMOVED}]")
# Line breaks, CR LF first so it counts once (the file, group and record separators, which
# str.splitlines also breaks at, are removed as controls instead). A tab stays.
_LINE_BREAK = re.compile("\r\n|[\n\r\x0b\x0c\x85\u2028\u2029]")
# In one_line: a break with the spaces around it, and runs of breaks, become one mark.
_BREAKS_ON_ONE_LINE = re.compile(r"[ \t]*\n(?:[ \t]*\n)*[ \t]*")
LINE_BREAK_MARK = " \u21b5 "  # " ↵ ": where the writer started a new line


def clean_text(text: str) -> str:
    """The text without control and bidi-override characters; line breaks as "\\n"."""
    return _REMOVE.sub("", _LINE_BREAK.sub("\n", text))


def one_line(text: str) -> str:
    """clean_text on one line: each line break (with the blanks around it) shows as " ↵ "."""
    return _BREAKS_ON_ONE_LINE.sub(LINE_BREAK_MARK, clean_text(text).strip())
