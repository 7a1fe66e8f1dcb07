"""AI test fixtures: the local fake of the OpenAI API on a free loopback port, and ``openai`` settings for it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from mediaedge_ai_openai import OpenAISettings

from tests.ai.fake_openai import API_KEY, FakeOpenAI
from tests.fixtures.loopback import serve_asgi


@dataclass
class RunningFake:
    fake: FakeOpenAI
    base_url: str

    def options(self, **changes: object) -> OpenAISettings:
        return OpenAISettings(**{"base_url": self.base_url, "api_key": API_KEY, "retries": 2, **changes})


@pytest.fixture
async def openai_fake() -> AsyncIterator[RunningFake]:
    fake = FakeOpenAI()
    async with serve_asgi(fake.app) as url:
        yield RunningFake(fake, f"{url}/v1")
