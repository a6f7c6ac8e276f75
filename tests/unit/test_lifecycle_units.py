"""Pure parts of the data lifecycle: numbers, pseudonyms, key layouts, retention rules, SQL."""

from __future__ import annotations

from datetime import date

import pytest

from server.gdpr import InvalidNumberError, _holds, normalize_wa_id
from stores.analytics import STATEMENTS, athena_statements, metrics_key
from stores.export import EXPORT_COLUMNS, arrow_schema, export_key
from stores.media_index import index_key, subject_of
from stores.retention import lifecycle_rules


@pytest.mark.parametrize("given", ["+15550001", "15550001", "whatsapp:+15550001", " +1555 0001 "])
def test_numbers_are_normalized(given: str) -> None:
    assert normalize_wa_id(given) == "15550001"


@pytest.mark.parametrize("given", ["", "+", "abc", "12345", "+1234567890123456", "1555-0001"])
def test_what_is_not_a_number_is_refused(given: str) -> None:
    with pytest.raises(InvalidNumberError):
        normalize_wa_id(given)


def test_a_key_names_a_number_only_as_a_whole() -> None:
    assert _holds("wam:optin:100000000000001:15550001", "15550001")
    assert _holds("checkpoint:100000000000001:15550001:__empty__:1", "15550001")
    assert not _holds("wam:optin:100000000000001:155500012", "15550001")
    assert not _holds("wam:optin:100000000000001:915550001", "15550001")


def test_the_pseudonym_is_stable_and_hides_the_number() -> None:
    assert subject_of("+15550001") == subject_of("whatsapp:+15550001") == subject_of("15550001")
    assert subject_of("15550001") != subject_of("15550002")
    key = index_key("15550001", "media/images/2024/01/15/wamid.x.png")
    assert key.startswith(f"media-index/{subject_of('15550001')}/")
    assert "15550001" not in key


def test_key_layouts_follow_the_document() -> None:
    day = date(2024, 1, 5)
    assert export_key(day) == "conversations/year=2024/month=01/day=05/conversations.parquet"
    assert export_key(day, "123").startswith("conversations/account=123/year=2024/month=01/")
    assert metrics_key(day) == "analytics/daily_metrics/2024-01-05.json"
    assert metrics_key(day, "123") == "analytics/daily_metrics/account=123/2024-01-05.json"
    assert arrow_schema().names == [name for name, _ in EXPORT_COLUMNS]


def test_retention_follows_the_document() -> None:
    rules = {rule["ID"]: rule for rule in lifecycle_rules()}
    steps = {
        rule_id: [(t["Days"], t["StorageClass"]) for t in rules[rule_id].get("Transitions", [])]
        for rule_id in rules
    }
    assert steps["media"] == [(30, "STANDARD_IA"), (90, "GLACIER"), (365, "DEEP_ARCHIVE")]
    assert steps["conversations"] == [(7, "STANDARD_IA"), (30, "GLACIER")]
    assert rules["media"]["Expiration"] == {"Days": 7 * 365}
    assert rules["conversations"]["Expiration"] == {"Days": 5 * 365}


def test_athena_gets_the_same_statements_with_a_partition_filter() -> None:
    statements = athena_statements(date(2024, 1, 15), None, "db")
    assert set(statements) == set(STATEMENTS)
    for sql in statements.values():
        assert "year = '2024' AND month = '01' AND day = '15'" in sql
        assert '"db"."conversations"' in sql and "{" not in sql
    with pytest.raises(ValueError):
        athena_statements(date(2024, 1, 15), "1' OR '1'='1", "db")
