"""The gateway's settings fail closed: the upstream key never travels in clear."""

from __future__ import annotations

import pytest
from ragseal.api._settings import ConfigError, Settings


@pytest.mark.parametrize("values,named", [
    ({"upstream_url": "http://llm.example/v1", "upstream_api_key": "sk-abc"},
     "RAGSEAL_UPSTREAM_API_KEY would be sent in clear"),
    ({"upstream_api_key": "sk-abc"}, "RAGSEAL_UPSTREAM_URL is not"),
    ({"upstream_url": "https://user:pw@llm.example/v1"}, "RAGSEAL_UPSTREAM_URL"),
    ({"upstream_url": "file:///etc/passwd"}, "RAGSEAL_UPSTREAM_URL"),
])
def test_when_the_upstream_is_unsafe_then_refused_without_echo(
    values: dict[str, str], named: str,
) -> None:
    with pytest.raises(ConfigError) as info:
        Settings(**values)
    assert named in str(info.value) and "sk-abc" not in str(info.value)
    assert "pw@" not in str(info.value)


def test_when_the_upstream_is_on_loopback_or_https_then_accepted() -> None:
    assert Settings(upstream_url="http://127.0.0.1:9000/v1", upstream_api_key="k").upstream_url
    s = Settings(upstream_url="https://api.example/v1", upstream_api_key="k")
    assert "k" not in repr(s.upstream_api_key)
