from intentkg.ingest.pii import Scrubber

QUERIES = ["gift for john.doe@example.com", "call 555-867-5309 about stroller", "65 inch tv", "lego 75192"]


def test_scrubber_counts_what_it_replaced():
    scrubber = Scrubber()
    cleaned = [scrubber.clean(q) for q in QUERIES]
    assert [c.text for c in cleaned] == ["gift for [EMAIL]", "call [PHONE] about stroller", "65 inch tv", "lego 75192"]
    summary = scrubber.summary()
    assert (summary["queries_changed"], summary["by_kind"]) == (2, {"EMAIL": 1, "PHONE": 1})
    assert summary["scrubber"]["engine"] == "presidio"


def test_disabled_scrubber_only_normalises():
    off = Scrubber(enabled=False)
    cleaned = off.clean("Mail me at  a@b.com")
    assert (cleaned.text, cleaned.key) == ("Mail me at a@b.com", "mail me at a@b.com")
    assert off.summary()["queries_changed"] == 0
