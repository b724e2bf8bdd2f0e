from intentkg.pii import scrub

# Realistic dirty search-log queries: what must go, and what must stay.
DIRTY = {
    "gift for john.doe@example.com": ("EMAIL", "gift for [EMAIL]"),
    "call 555-867-5309 about stroller": ("PHONE", "call [PHONE] about stroller"),
    "(212) 555-0199 return label": ("PHONE", "[PHONE] return label"),
    "+44 20 7946 0958 umbrella": ("PHONE", "[PHONE] umbrella"),
    "ship to 42 Elm Street tent": ("ADDRESS", "ship to [ADDRESS] tent"),
    "12 Oak Rd, Springfield crib": ("ADDRESS", "[ADDRESS], Springfield crib"),
    "card 4111 1111 1111 1111 refund": ("CARD", "card [CARD] refund"),
    "visa 4111-1111-1111-1111": ("CARD", "visa [CARD]"),
    "order 1234567890 status": ("NUMBER", "order [NUMBER] status"),
    "ssn 123-45-6789 form": ("SSN", "ssn [SSN] form"),
    "MARY.SMITH+shop@mail.co.uk baby monitor": ("EMAIL", "[EMAIL] baby monitor"),
}

CLEAN = [
    "iphone 15 pro max case", "65 inch tv", "2x4 lumber 8 ft", "usb c cable 6ft 2 pack",
    "size 10 running shoes", "samsung 980 pro 2tb", "a4 paper 500 sheets", "rtx 4090", "lego 75192",
    "2 pack st patricks day decor", "4 way stretch pants", "3 piece court shoes", "1080p webcam",
    "vitamin d3 5000 iu", "router ax6000", "k cups 72 count",
]


def test_dirty_queries_are_scrubbed_by_kind():
    for query, (kind, expected) in DIRTY.items():
        result = scrub(query)
        assert result.text == expected, query
        assert result.found[kind] >= 1, query


def test_product_queries_are_left_alone():
    for query in CLEAN:
        assert scrub(query).text == query


def test_card_number_needs_a_valid_checksum():
    # 16 digits that fail the Luhn check are still a long digit run, never a card
    assert "[CARD]" not in scrub("4111 1111 1111 1112").text
