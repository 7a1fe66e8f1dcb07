"""The built-in block list: a ``moderate_prompt`` implementation refusing prompts and texts that hold
a listed word or phrase — the tenant's own list (``mediaedge ai blocklist``) and ``plugins.ai.blocklist``,
which every tenant shares. Matching is on whole words, case- and width-insensitive (NFKC, casefold)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

import pluggy

from mediaedge import hookimpl
from mediaedge.ai import AIConfig, Refusal
from mediaedge.settings import Settings
from origin.store import Store

PLUGIN_NAME = "ai-blocklist"


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def blocked_term(text: str, terms: Iterable[str]) -> str | None:
    """The first of ``terms`` that ``text`` holds as whole words, or ``None``."""
    folded = _fold(text)
    for term in terms:
        words = _fold(term).split()
        if not words:
            continue
        pattern = r"(?<!\w)" + r"\s+".join(re.escape(w) for w in words) + r"(?!\w)"
        if re.search(pattern, folded):
            return term
    return None


class TenantBlocklist:
    """Registered on the origin's plugin manager by :func:`install`; reads each tenant's policy."""

    def __init__(self, store: Store) -> None:
        self.store = store

    @hookimpl
    async def moderate_prompt(
        self, prompt: str, kind: str, tenant_id: str | None, settings: Settings
    ) -> Refusal | None:
        terms = list(settings.plugin("ai", AIConfig).blocklist)
        if tenant_id:
            terms += (await self.store.ai.policy(tenant_id)).blocklist
        term = blocked_term(prompt, terms)
        if term is None:
            return None
        return Refusal(f"the {'text' if kind == 'speech' else 'prompt'} holds a blocked term", source="blocklist")


def install(pm: pluggy.PluginManager, store: Store) -> None:
    """Register the block list on ``pm`` once."""
    if pm.get_plugin(PLUGIN_NAME) is None:
        pm.register(TenantBlocklist(store), name=PLUGIN_NAME)
