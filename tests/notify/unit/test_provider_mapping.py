"""A real provider's request, authentication and answer as configuration: parsed with every
mistake named, filled with the message's five fields and nothing else."""

from __future__ import annotations

import pytest

from notify.domain.provider_mapping import (
    GENERIC_BODY,
    MappingError,
    ProviderMapping,
    parse_mapping,
)

VALUES = {"message_id": "m-1", "to": "+8613800000000", "text": "您好", "subject": None}


def test_without_a_mapping_the_generic_providers_body_and_bearer_token_are_sent() -> None:
    mapping = ProviderMapping()

    assert mapping.request_body(VALUES) == {
        "message_id": "m-1",
        "to": "+8613800000000",
        "text": "您好",
    }
    assert mapping.body == GENERIC_BODY
    assert mapping.auth_headers("tok") == {"Authorization": "Bearer tok"}
    assert mapping.auth_headers(None) == {}


def test_a_nested_body_is_filled_and_other_values_kept() -> None:
    mapping = parse_mapping(
        '{"body": {"messages": [{"dest": "{to}", "content": "[{channel}] {text}"}],'
        ' "ref": "{message_id}", "priority": 1, "title": "{subject}"}}'
    )

    body = mapping.request_body({**VALUES, "channel": "sms"})

    assert body == {
        "messages": [{"dest": "+8613800000000", "content": "[sms] 您好"}],
        "ref": "m-1",
        "priority": 1,
        "title": "",
    }


def test_basic_and_named_header_authentication() -> None:
    basic = parse_mapping({"auth": "basic"})
    header = parse_mapping({"auth": "header:X-Api-Key"})

    assert basic.auth_headers("user:pw") == {"Authorization": "Basic dXNlcjpwdw=="}
    assert header.auth_headers("k") == {"X-Api-Key": "k"}


def test_the_answers_id_and_status_are_read_by_their_paths() -> None:
    mapping = parse_mapping({"id_field": "data.sid", "status_field": "data.status"})

    assert mapping.read_answer({"data": {"sid": 42, "status": "queued"}}) == ("42", "queued")
    assert mapping.read_answer({"data": {}}) == (None, None)
    assert mapping.read_answer(None) == (None, None)
    assert mapping.read_answer({"data": {"sid": {"nested": 1}}}) == (None, None)


def test_a_placeholder_cannot_reach_anything_but_the_messages_fields() -> None:
    with pytest.raises(MappingError) as refused:
        parse_mapping({"body": {"x": "{to.__class__}", "y": "{secret}"}})

    # "{to.__class__}" is no placeholder at all: it is sent as written.
    assert refused.value.problems == ["body names unknown field {secret}"]
    mapping = parse_mapping({"body": {"x": "{to.__class__}"}})
    assert mapping.request_body(VALUES) == {"x": "{to.__class__}"}


def test_every_mistake_of_a_mapping_is_named() -> None:
    with pytest.raises(MappingError) as refused:
        parse_mapping(
            {
                "body": ["{to}"],
                "encoding": "form",
                "auth": "token",
                "id_field": "a..b",
                "refused": ["failed"],
                "retries": 3,
            }
        )

    assert refused.value.problems == [
        "unknown key 'retries'",
        "a form body must be an object of strings",
        "auth must be 'bearer', 'basic' or 'header:<Header-Name>'",
        "id_field must be a dotted path such as 'data.id'",
        "refused needs status_field",
    ]


def test_a_mapping_that_is_not_an_object_is_refused() -> None:
    with pytest.raises(MappingError):
        parse_mapping("[1, 2]")
    with pytest.raises(ValueError, match="Expecting"):
        parse_mapping("{not json")
