"""analyze_sms against DOMAIN.md section 1 and against an independent, simpler counter."""

from __future__ import annotations

import regex
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.messages import analyze_sms

# ------------------------------------------------------------- an independent re-implementation
BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿"
    "abcdefghijklmnopqrstuvwxyzäöñüà"
)
EXT = set("\f^{}\\[~]|€")


def reference(text: str) -> tuple[str, int, list[str]]:
    """Encoding, units and parts: bits per grapheme, greedy into 1120-bit (or 1072 with a header) parts."""
    gsm = all(c in BASIC or c in EXT for c in text)
    clusters = regex.findall(r"\X", text)

    def bits(cluster: str) -> int:
        if gsm:
            return sum(14 if c in EXT else 7 for c in cluster)
        return 16 * sum(2 if ord(c) > 0xFFFF else 1 for c in cluster)

    total = sum(bits(c) for c in clusters)
    units = total // 7 if gsm else total // 16
    if not text:
        return ("GSM-7", 0, [])
    if total <= 1120:
        return ("GSM-7" if gsm else "UCS-2", units, [text])
    parts, cur, used = [], "", 0
    for c in clusters:
        if used + bits(c) > 1072:
            parts.append(cur)
            cur, used = "", 0
        cur += c
        used += bits(c)
    parts.append(cur)
    return ("GSM-7" if gsm else "UCS-2", units, parts)


# ------------------------------------------------------------- DOMAIN.md examples


def test_emoji_after_69_letters_is_ucs2_71_units_2_segments():
    a = analyze_sms("a" * 69 + "😀")
    assert (a.encoding, a.units, a.segments) == ("UCS-2", 71, 2)
    assert a.non_gsm == ("😀",)
    assert "".join(a.parts) == "a" * 69 + "😀"
    assert not a.parts[0].endswith("\ud83d")  # the surrogate pair is not split


def test_35_emoji_fit_one_segment_36_need_two():
    assert analyze_sms("😀" * 35).segments == 1
    assert analyze_sms("😀" * 35).units == 70
    two = analyze_sms("😀" * 36)
    assert two.segments == 2
    assert [len(p) for p in two.parts] == [33, 3]  # 66 units then 6: never half an emoji


def test_81_euro_signs_split_76_plus_5_never_inside_an_escape():
    a = analyze_sms("€" * 81)
    assert (a.encoding, a.units, a.segments) == ("GSM-7", 162, 2)
    assert [len(p) for p in a.parts] == [76, 5]
    assert a.part_units == (152, 10)


def test_curly_quote_forces_ucs2_and_suggests_replacement():
    a = analyze_sms("Don’t miss your cart, it’s saved")
    assert a.encoding == "UCS-2"
    assert a.non_gsm == ("’",)
    assert a.replacements == {"’": "'"}
    assert a.suggested == "Don't miss your cart, it's saved"
    assert analyze_sms(a.suggested).encoding == "GSM-7"


@given(st.text(max_size=400))
@settings(max_examples=150, deadline=None)
def test_a_copy_is_the_same_analysis_with_replacements_of_its_own(text):
    a = analyze_sms(text)
    b = a.copy()
    assert b == a  # every field, compared
    b.replacements["x"] = "y"
    assert "x" not in a.replacements


def test_other_lookalikes_and_gsm_edge_characters():
    a = analyze_sms("“Sale” – ends soon…")
    assert a.replacements == {"“": '"', "”": '"', "–": "-", "…": "..."}
    assert analyze_sms("Ç").encoding == "GSM-7"
    assert analyze_sms("ç").encoding == "UCS-2"
    assert analyze_sms("a\tb").non_gsm == ("\t",)
    assert analyze_sms("a\x1bb").encoding == "UCS-2"  # a raw ESC is not text


def test_gsm_boundaries_160_153():
    assert analyze_sms("a" * 160).segments == 1
    a = analyze_sms("a" * 161)
    assert a.segments == 2 and [len(p) for p in a.parts] == [153, 8]
    assert analyze_sms("a" * 306).segments == 2
    assert analyze_sms("a" * 307).segments == 3
    assert analyze_sms("€" * 80).segments == 1  # 160 septets
    assert analyze_sms("").segments == 0


def test_extension_character_costs_one_unit_in_ucs2():
    a = analyze_sms("€😀")
    assert (a.encoding, a.units) == ("UCS-2", 3)


def test_grapheme_clusters_are_never_split():
    family = "👨\u200d👩\u200d👧\u200d👦"  # 11 UTF-16 units, one grapheme
    flag = "🇫🇷"
    text = "a" * 60 + family + flag * 3
    a = analyze_sms(text)
    assert a.encoding == "UCS-2"
    assert family in a.parts[0] or family in a.parts[1]
    for part in a.parts:
        assert regex.findall(r"\X", part) == [c for c in regex.findall(r"\X", part)]
    assert "".join(a.parts) == text
    accented = "e\u0301" * 40  # combining accent: 80 units, 40 graphemes
    b = analyze_sms(accented)
    assert b.segments == 2 and all(not p.startswith("\u0301") for p in b.parts)


def test_crlf_is_gsm_and_kept_together():
    a = analyze_sms("ab\r\n" * 50)
    assert a.encoding == "GSM-7" and a.units == 200 and a.segments == 2
    assert not a.parts[1].startswith("\n")


# ------------------------------------------------------------- property: agrees with the reference

alphabet = st.sampled_from(
    list("abcXYZ 0123.,!?@£$Ç\n\r")
    + list("€^{}[]~|\\")
    + ["’", "“", "é", "ç", "ñ", "李", "Ж"]
    + ["😀", "👍🏽", "🇫🇷", "e\u0301", "👨\u200d👩\u200d👧"]
)


@settings(max_examples=400, deadline=None)
@given(st.lists(alphabet, max_size=240).map("".join))
def test_agrees_with_reference(text):
    encoding, units, parts = reference(text)
    a = analyze_sms(text)
    assert a.encoding == encoding
    assert a.units == units
    assert list(a.parts) == parts
    assert a.segments == len(parts)
    assert "".join(a.parts) == text


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=400))
def test_any_text_round_trips_and_respects_limits(text):
    a = analyze_sms(text)
    assert "".join(a.parts) == text
    single, part = (160, 153) if a.encoding == "GSM-7" else (70, 67)
    if a.segments > 1:
        assert all(u <= part for u in a.part_units)
    elif a.segments == 1:
        assert a.units <= single
    assert set(a.non_gsm) <= set(text)
