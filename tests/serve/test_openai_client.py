"""The official `openai` Python client against `slm serve` on the bundled
stories260K: chat (whole and streamed, with and without include_usage),
completions, the models list, stream-vs-whole equality at temperature 0,
prefix reuse, and errors raised as the client's own exception types."""
import openai
import pytest

from conftest import API_KEY

MSGS = [{"role": "system", "content": "Tell a story."},
        {"role": "user", "content": "Once upon a time"}]


def test_models_list(client):
    models = client.models.list()
    ids = [m.id for m in models.data]
    assert ids == ["stories260K"]
    assert client.models.retrieve("stories260K").id == "stories260K"


def test_chat_whole(client):
    r = client.chat.completions.create(model="stories260K", messages=MSGS, max_tokens=20,
                                       temperature=0)
    assert r.object == "chat.completion"
    assert r.id.startswith("chatcmpl-")
    assert len(r.choices) == 1
    c = r.choices[0]
    assert c.message.role == "assistant"
    assert isinstance(c.message.content, str) and c.message.content
    assert c.finish_reason in ("stop", "length")
    u = r.usage
    assert u.prompt_tokens > 0 and 0 < u.completion_tokens <= 20
    assert u.total_tokens == u.prompt_tokens + u.completion_tokens


def _stream(client, include_usage, **kw):
    extra = {"stream_options": {"include_usage": True}} if include_usage else {}
    return list(client.chat.completions.create(model="stories260K", messages=MSGS, stream=True,
                                               **extra, **kw))


@pytest.mark.parametrize("include_usage", [False, True])
def test_chat_stream_invariants(client, include_usage):
    chunks = _stream(client, include_usage, max_tokens=24, temperature=0)
    assert len({c.id for c in chunks}) == 1, "every chunk carries the same id"
    assert all(c.object == "chat.completion.chunk" for c in chunks)
    with_choices = [c for c in chunks if c.choices]
    assert with_choices[0].choices[0].delta.role == "assistant"
    finishes = [c.choices[0].finish_reason for c in with_choices]
    assert finishes[-1] in ("stop", "length")
    assert all(f is None for f in finishes[:-1]), "finish_reason only on the last chunk"
    if include_usage:
        last = chunks[-1]
        assert last.choices == [] and last.usage is not None
        assert last.usage.completion_tokens > 0
        assert last.usage.total_tokens == last.usage.prompt_tokens + last.usage.completion_tokens
        assert all(c.usage is None for c in chunks[:-1])
    else:
        assert all(c.choices for c in chunks)
        assert all(getattr(c, "usage", None) is None for c in chunks)


def test_stream_equals_whole(client):
    kw = dict(model="stories260K", messages=MSGS, max_tokens=40, temperature=0.8, seed=1234)
    whole = client.chat.completions.create(**kw)
    streamed = "".join(c.choices[0].delta.content or ""
                       for c in client.chat.completions.create(stream=True, **kw) if c.choices)
    assert streamed == whole.choices[0].message.content
    # greedy too
    kw["temperature"] = 0
    whole = client.chat.completions.create(**kw)
    streamed = "".join(c.choices[0].delta.content or ""
                       for c in client.chat.completions.create(stream=True, **kw) if c.choices)
    assert streamed == whole.choices[0].message.content


def test_completions(client):
    r = client.completions.create(model="stories260K", prompt="Once upon a time", max_tokens=16,
                                  temperature=0)
    assert r.object == "text_completion"
    text = r.choices[0].text
    assert text and r.choices[0].finish_reason in ("stop", "length")
    assert r.usage.completion_tokens <= 16
    streamed = "".join(c.choices[0].text for c in client.completions.create(
        model="stories260K", prompt="Once upon a time", max_tokens=16, temperature=0,
        stream=True))
    assert streamed == text


def test_stop_string(client):
    r = client.completions.create(model="stories260K", prompt="Once upon a time", max_tokens=60,
                                  temperature=0)
    text = r.choices[0].text
    word = text.split()[3]
    r2 = client.completions.create(model="stories260K", prompt="Once upon a time", max_tokens=60,
                                   temperature=0, stop=[word])
    assert r2.choices[0].finish_reason == "stop"
    assert word not in r2.choices[0].text
    assert text.startswith(r2.choices[0].text)


def test_prefix_reuse(client):
    first = client.chat.completions.create(model="stories260K", messages=MSGS, max_tokens=12,
                                           temperature=0)
    convo = MSGS + [{"role": "assistant", "content": first.choices[0].message.content},
                    {"role": "user", "content": "The end."}]
    again = client.chat.completions.create(model="stories260K", messages=convo, max_tokens=8,
                                           temperature=0)
    # usage counts the whole prompt; the part served from the cache is told apart
    assert again.usage.prompt_tokens > first.usage.prompt_tokens
    details = again.usage.prompt_tokens_details
    assert details is not None and details.cached_tokens > 0


def test_errors_are_client_exceptions(client, server):
    with pytest.raises(openai.BadRequestError) as e:
        client.chat.completions.create(model="stories260K", messages=MSGS, n=2)
    assert e.value.status_code == 400
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(model="stories260K", messages=[], max_tokens=3)
    with pytest.raises(openai.BadRequestError) as e:
        client.chat.completions.create(model="stories260K",
                                       messages=[{"role": "user", "content": "time " * 2000}])
    assert e.value.code == "context_length_exceeded"
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("no-such-model")


def test_authentication_error(keyed_server):
    bad = openai.OpenAI(base_url=keyed_server.base + "/v1", api_key="wrong", max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        bad.models.list()
    good = openai.OpenAI(base_url=keyed_server.base + "/v1", api_key=API_KEY, max_retries=0)
    r = good.chat.completions.create(model="x", messages=MSGS, max_tokens=4)
    assert r.choices[0].message.content is not None
    assert API_KEY not in keyed_server.log_text()
