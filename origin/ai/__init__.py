"""AI generation on the catalogue: captions and transcripts from speech, speech from text, images from
prompts, each a job (:mod:`.jobs`) whose result is a catalogue record; requests are moderated, charged
against budgets, rate limited and idempotent (:mod:`.service`); the tenant block list is a
``moderate_prompt`` implementation (:mod:`.moderation`)."""
