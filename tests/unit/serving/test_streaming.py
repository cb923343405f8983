"""Streamed text is released by whole lines, redacted, and key blocks are held until they end."""

import json

from openai.types import Completion, CompletionUsage

from serving.guard import clean_completion
from serving.streaming import ChunkWriter, releasable, stop_at


def test_whole_lines_are_released_and_the_rest_held() -> None:
    assert releasable("x = 1\ny = ") == ("x = 1\n", "y = ")
    assert releasable("partial") == ("", "partial")
    assert releasable("a\nb\n") == ("a\nb\n", "")


def test_an_open_private_key_block_is_held_until_it_ends() -> None:
    text = "key = '''\n-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n"
    assert releasable(text) == ("key = '''\n", "-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n")
    whole = text + "-----END RSA PRIVATE KEY-----\n"
    assert releasable(whole) == (whole, "")


def test_stop_strings_cut_at_the_first() -> None:
    assert stop_at("abc\n\ndef", ("\n\n", "d")) == 3
    assert stop_at("abc", ("x",)) == -1
    assert stop_at("abc", ()) == -1


def test_chunks_are_openai_events_and_secrets_are_redacted() -> None:
    writer = ChunkWriter.new("cmpl-1", "0.2.0")
    event = writer.text(clean_completion('key = "AKIAQ3EGRT7YV5NLK2ZD"\n')[0])
    assert event.startswith("data: ") and event.endswith("\n\n")
    body = json.loads(event[len("data: ") :])
    assert body["object"] == "text_completion" and body["model"] == "0.2.0"
    assert "AKIA" not in body["choices"][0]["text"] and "<SECRET:" in body["choices"][0]["text"]
    last = json.loads(writer.text("", "stop", latency_ms=3.0)[6:])
    assert last["choices"][0]["finish_reason"] == "stop" and last["latency_ms"] == 3.0
    assert writer.done() == "data: [DONE]\n\n"


def test_the_usage_chunk_is_openais_last_chunk() -> None:
    """``stream_options.include_usage``: no choices, the usage; the openai client parses it."""
    writer = ChunkWriter.new("cmpl-1", "0.2.0")
    chunk = Completion.model_validate(json.loads(writer.usage(7, 3)[len("data: ") :]))
    assert chunk.choices == [] and chunk.id == "cmpl-1"
    assert chunk.usage == CompletionUsage(prompt_tokens=7, completion_tokens=3, total_tokens=10)
