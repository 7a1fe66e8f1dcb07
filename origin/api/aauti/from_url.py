"""``POST /upload/from-url`` (seed "URL Upload (Async)") and ``GET /upload/jobs/{id}`` for its status."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.routing import Route

from mediaedge.errors import HTTPError
from mediaedge.net import BlockedAddress, InvalidURL, NetPolicy
from origin.api.aauti.shapes import FromUrlQueued, FromUrlRequest, UploadJob
from origin.auth import require_tenant
from origin.fetch_url import FETCH_URL
from origin.http import JSON, iso_time, json_body, str_field
from origin.ingest import parse_bool
from origin.jobs import enqueue
from origin.openapi import describe
from origin.state import OriginState, get_state
from origin.store import Tenant

QUEUED_MESSAGE = "Upload from URL queued for processing. Webhook will be triggered on completion."


def _check_url(state: OriginState, url: str) -> None:
    """Refuse at once what the job would refuse without trying: bad URLs and literal private addresses."""
    try:
        NetPolicy(state.settings.net.allow).check_url(url)
    except InvalidURL as exc:
        raise HTTPError(400, str(exc), "URL_INVALID") from None
    except BlockedAddress as exc:
        raise HTTPError(400, f"URL not accessible: {exc}", "URL_NOT_ACCESSIBLE") from None


async def _job_payload(state: OriginState, tenant: Tenant, body: dict[str, Any]) -> dict[str, Any]:
    """The validated request, as the ``fetch_url`` job's payload."""
    url = str_field(body, "url", required=True)
    assert url is not None
    _check_url(state, url)
    bucket = str_field(body, "bucket")
    if bucket and await state.store.buckets.get(tenant.id, bucket) is None:
        raise HTTPError(404, f"Bucket not found: {bucket}", "BUCKET_NOT_FOUND")
    meta = body.get("meta")
    if meta is not None and not isinstance(meta, dict):
        raise HTTPError(400, "meta must be an object")
    signed = body.get("requireSignedUrl")
    if signed is not None and not isinstance(signed, bool | str):
        raise HTTPError(400, "requireSignedUrl must be a boolean")
    return {
        "url": url,
        "bucket": bucket,
        "userId": str_field(body, "userId"),
        "destination": str_field(body, "destination"),
        "filename": str_field(body, "filename"),
        "requireSignedUrl": parse_bool(signed),
        "meta": meta,
    }


@describe(request=FromUrlRequest, responses={202: FromUrlQueued})
async def upload_from_url(request: Request) -> JSON:
    """Fetch a file from a URL in the background (a job); a webhook tells when it is stored."""
    state = get_state(request)
    tenant = await require_tenant(request, invalid_status=404)
    payload = await _job_payload(state, tenant, await json_body(request))
    async with state.store.transaction() as tx:
        job_id = await enqueue(tx, FETCH_URL, tenant.id, payload)
    return JSON({"jobId": job_id, "status": "queued", "message": QUEUED_MESSAGE}, status_code=202)


@describe(responses={200: UploadJob})
async def upload_job(request: Request) -> JSON:
    """Where a from-URL job stands: queued, running (``attempts`` so far), succeeded or failed."""
    state = get_state(request)
    tenant = await require_tenant(request, invalid_status=404)
    job = await state.store.jobs.get(request.path_params["job_id"])
    if job is None or job.tenant_id != tenant.id or job.kind != FETCH_URL:
        raise HTTPError(404, "Job not found", "JOB_NOT_FOUND")
    return JSON(
        {
            "jobId": job.id,
            "status": job.status,
            "url": job.payload["url"],
            "attempts": job.attempt,
            "maxAttempts": job.max_attempts,
            "result": job.result,
            "lastError": job.last_error,
            "createdAt": iso_time(job.created_at),
            "updatedAt": iso_time(job.updated_at),
        }
    )


routes = [
    Route("/upload/from-url", upload_from_url, methods=["POST"]),
    Route("/upload/jobs/{job_id}", upload_job, methods=["GET"]),
]
