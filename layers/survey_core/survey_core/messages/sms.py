"""How many SMS segments a text costs: GSM-7 (3GPP TS 23.038) when every character is in its
alphabet, UCS-2 otherwise. Carriers bill per segment, so the survey texts are chosen to fit one.
"""

from __future__ import annotations

import math

from msgspec import Struct

# The GSM 03.38 basic character set: one septet each. Finnish and Swedish letters (ä ö å Ä Ö
# Å) are in it; é and ü are too.
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# The extension table: an escape septet plus one, so two septets each.
GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")

GSM7_SINGLE, GSM7_PART = 160, 153  # septets; a multi-part message loses 7 to its header
UCS2_SINGLE, UCS2_PART = 70, 67  # UTF-16 code units


class SmsSize(Struct, frozen=True):
    encoding: str  # GSM-7 | UCS-2
    units: int  # septets (GSM-7) or UTF-16 code units (UCS-2)
    segments: int

    @property
    def single_gsm7(self) -> bool:
        return self.encoding == "GSM-7" and self.segments == 1


def sms_size(text: str) -> SmsSize:
    if all(c in GSM7_BASIC or c in GSM7_EXTENSION for c in text):
        units = len(text) + sum(c in GSM7_EXTENSION for c in text)
        return SmsSize("GSM-7", units, _segments(units, GSM7_SINGLE, GSM7_PART))
    units = len(text.encode("utf-16-le")) // 2  # characters outside the BMP take two units
    return SmsSize("UCS-2", units, _segments(units, UCS2_SINGLE, UCS2_PART))


def _segments(units: int, single: int, part: int) -> int:
    return 1 if units <= single else math.ceil(units / part)
