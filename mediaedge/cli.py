"""The ``mediaedge`` command line (DESIGN §7).

Flags that map to settings are passed on as ``MEDIAEDGE_*`` environment variables, so server
processes (and uvicorn's worker processes) load exactly the settings the command was given.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import orjson

from mediaedge import __version__
from mediaedge.listen import PortInUse, check_port_free
from mediaedge.settings import Settings, SettingsError, env_name, load_settings

T = TypeVar("T")

ORIGIN_START_TIMEOUT = 60.0  # seconds `up` waits for its origin to answer before giving up


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="mediaedge", description="Self-hosted media delivery: origin, edge, worker.")
    p.add_argument("--version", action="version", version=f"mediaedge {__version__}")
    p.add_argument("--config", help="settings file overriding config/default.toml (or MEDIAEDGE_CONFIG)")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    up = sub.add_parser("up", help="run origin API, a worker and an edge together (single node)")
    up.add_argument("--data-dir")
    up.add_argument("--host")
    up.add_argument("--origin-port", type=int)
    up.add_argument("--edge-port", type=int)

    origin = sub.add_parser("origin", help="run the origin API server")
    edge = sub.add_parser("edge", help="run an edge server, or `edge purge KEY` to purge a key from every edge")
    for server in (origin, edge):
        server.add_argument("--data-dir")
        server.add_argument("--host")
        server.add_argument("--port", type=int)
        server.add_argument("--workers", type=int, help="server worker processes")
    edge_sub = edge.add_subparsers(dest="edge_command", metavar="SUBCOMMAND")
    purge = edge_sub.add_parser(
        "purge", help="purge KEY (or a prefix) from every edge: registered in the metadata DB, and configured"
    )
    purge.add_argument("key")
    purge.add_argument("--prefix", action="store_true", help="treat KEY as a key prefix")

    worker = sub.add_parser("worker", help="run a job worker (transcodes, URL fetches)")
    worker.add_argument("--data-dir")
    worker.add_argument("--concurrency", type=int)

    tenant = sub.add_parser("tenant", help="manage tenants")
    tsub = tenant.add_subparsers(dest="tenant_command", required=True, metavar="SUBCOMMAND")
    create = tsub.add_parser("create", help="create a tenant; prints its API key once")
    create.add_argument("name")
    update = tsub.add_parser("update", help="change a tenant (by id or name)")
    update.add_argument("tenant")
    update.add_argument("--name")
    update.add_argument("--rotate-key", action="store_true", help="issue a new API key (old one stops working)")
    update.add_argument(
        "--rotate-stream-keys",
        action="store_true",
        help="issue a new stream-public-key + stream-secret-key pair (the old pair stops working)",
    )
    update.add_argument(
        "--credit", metavar="AMOUNT|unlimited", help="transcoding credit GET /api/videos/cost checks prices against"
    )
    update.add_argument("--disable", action="store_true")
    update.add_argument("--enable", action="store_true")
    for cmd in (create, update):
        cmd.add_argument("--whitelist", action="append", metavar="DOMAIN", help="whitelisted domain (repeat)")
        cmd.add_argument("--app-id", action="append", metavar="ID", help="whitelisted app id (repeat)")
        cmd.add_argument("--webhook-url")
        cmd.add_argument("--max-file-size", type=int, metavar="BYTES")
    listing = tsub.add_parser("list", help="list tenants")
    api_key = tsub.add_parser("api-key", help="a tenant's API keys: several per tenant, each revocable")
    aksub = api_key.add_subparsers(dest="api_key_command", required=True, metavar="SUBCOMMAND")
    key_create = aksub.add_parser("create", help="a new named key; prints its secret once")
    key_list = aksub.add_parser("list", help="list keys with their last use")
    key_revoke = aksub.add_parser("revoke", help="revoke a key (it stops working at once)")
    for cmd in (key_create, key_list, key_revoke):
        cmd.add_argument("tenant", help="tenant id or name")
    key_create.add_argument("--name", required=True)
    key_create.add_argument("--scope", action="append", metavar="SCOPE", help="a scope the key holds (repeat)")
    key_create.add_argument(
        "--pair", action="store_true", help="also a public key (video API: stream-public-key + stream-secret-key)"
    )
    key_revoke.add_argument("key_id")
    for cmd in (create, update, listing, key_create, key_list, key_revoke):
        cmd.add_argument("--json", action="store_true", help="machine-readable output")

    ai = sub.add_parser("ai", help="AI generation: a tenant's budgets, block list and usage")
    asub = ai.add_subparsers(dest="ai_command", required=True, metavar="SUBCOMMAND")
    budget = asub.add_parser("budget", help="show or set a tenant's monthly budgets (0: unlimited)")
    budget.add_argument("tenant")
    budget.add_argument("--images", type=float, metavar="N")
    budget.add_argument("--audio-seconds", type=float, metavar="N")
    budget.add_argument("--caption-minutes", type=float, metavar="N")
    budget.add_argument("--default", action="store_true", help="drop the tenant's own budgets (settings apply)")
    blocklist = asub.add_parser("blocklist", help="show or change a tenant's prompt block list")
    blocklist.add_argument("tenant")
    blocklist.add_argument("--add", action="append", metavar="TERM", help="block a word or phrase (repeat)")
    blocklist.add_argument("--remove", action="append", metavar="TERM", help="unblock a word or phrase (repeat)")
    ai_usage = asub.add_parser("usage", help="a tenant's usage this month beside its budgets")
    ai_usage.add_argument("tenant")
    for cmd in (budget, blocklist, ai_usage):
        cmd.add_argument("--json", action="store_true", help="machine-readable output")

    plugins = sub.add_parser("plugins", help="list loaded plugins and the hooks each implements")
    plugins.add_argument("--json", action="store_true")

    keys = sub.add_parser("keys", help="manage URL-token signing keys")
    ksub = keys.add_subparsers(dest="keys_command", required=True, metavar="SUBCOMMAND")
    ksub.add_parser("rotate", help="make a new signing key active; old keys verify until their tokens expire")
    ksub.add_parser("list", help="list signing keys")

    editor = sub.add_parser("editor", help="the HTML5 video editor's developer registration")
    esub = editor.add_subparsers(dest="editor_command", required=True, metavar="SUBCOMMAND")
    register = esub.add_parser(
        "register", help="register a tenant (id or name) as an editor developer, or change its profile"
    )
    show = esub.add_parser("show", help="show a tenant's developer profile (never its secrets)")
    for cmd in (register, show):
        cmd.add_argument("tenant")
        cmd.add_argument("--json", action="store_true", help="machine-readable output")
    register.add_argument("--callback-url", help="callBackUrl: where callback events go")
    register.add_argument(
        "--cors-origin", action="append", metavar="ORIGIN", help="origin the editor runs at (repeat; replaces the list)"
    )
    register.add_argument("--fetch-file-url", help="fetchFileUrl you serve (default: mediaedge's own)")
    register.add_argument("--media-tab-url", help="mediaTabContentUrl you serve (default: mediaedge's own)")
    register.add_argument("--thumbnail-url", help="fetchThumbnailUrl you serve (default: mediaedge's own)")
    register.add_argument("--s3-bucket", help="outputS3Bucket.awsBucketName")
    register.add_argument("--s3-endpoint", help="outputS3Bucket.awsEndPoint")
    register.add_argument("--s3-access-key", help="outputS3Bucket.awsAccessKey")
    register.add_argument(
        "--s3-secret-key-stdin",
        action="store_true",
        help="read outputS3Bucket.awsSecreteKey from standard input (never from the command line)",
    )
    register.add_argument("--rotate-key", action="store_true", help="issue a new apiKey (the old one is revoked)")

    db = sub.add_parser("db", help="metadata database")
    dsub = db.add_subparsers(dest="db_command", required=True, metavar="SUBCOMMAND")
    dsub.add_parser("migrate", help="apply pending schema migrations")
    return p


def _flag_env(args: argparse.Namespace) -> dict[str, str]:
    """Settings given as flags, as MEDIAEDGE_* variables."""
    env: dict[str, str] = {}

    def put(path: str, value: Any) -> None:
        if value is not None:
            env[env_name(path)] = str(value)

    put("data_dir", getattr(args, "data_dir", None))
    host = getattr(args, "host", None)
    if args.command == "up":
        put("origin.host", host)
        put("edge.host", host)
        put("origin.port", args.origin_port)
        put("edge.port", args.edge_port)
    elif args.command in ("origin", "edge"):
        put(f"{args.command}.host", host)
        put(f"{args.command}.port", args.port)
        put(f"{args.command}.workers", args.workers)
    elif args.command == "worker":
        put("jobs.concurrency", args.concurrency)
    if args.config:
        env["MEDIAEDGE_CONFIG"] = os.path.abspath(args.config)
    return env


def _run(coro_fn: Callable[[], Awaitable[T]]) -> T:
    return asyncio.run(coro_fn())  # type: ignore[arg-type]


def _print(data: Any, as_json: bool, text: str) -> None:
    print(orjson.dumps(data, option=orjson.OPT_INDENT_2).decode() if as_json else text)


# -- commands ---------------------------------------------------------------------------------------


def _say_database(settings: Settings) -> None:
    """Tell (on stderr) which metadata database a command opens, and whether it is a new one."""
    url = settings.database.url
    path = url.removeprefix("sqlite:///") if url.startswith("sqlite:///") else None
    shown = f"{path} (new: data_dir is {settings.data_dir}; set MEDIAEDGE_DATA_DIR or --config for another)"
    if path is None:
        parts = urlsplit(url)
        shown = parts._replace(netloc=parts.netloc.rpartition("@")[2]).geturl()  # without the credentials
    elif os.path.exists(path):
        shown = path
    print(f"mediaedge: database {shown}", file=sys.stderr)


async def _with_store(settings: Settings, fn: Callable[[Any], Awaitable[T]]) -> T:
    from origin.store import open_store

    _say_database(settings)
    store = await open_store(settings.database.url)
    try:
        return await fn(store)
    finally:
        await store.close()


def _tenant_line(t: Any) -> str:
    domains = ",".join(t.whitelisted_domains) or "*"
    return f"{t.id}  {t.name}  webhook={t.webhook_url or '-'}  domains={domains}"


STREAM_KEY_NAME = "stream"


async def stream_key_pair(store: Any, tenant_id: str, rotate: bool = False) -> dict[str, str]:
    """A new ``stream-public-key`` + ``stream-secret-key`` pair of the tenant (the video objects API);
    ``rotate`` revokes the pairs it had."""
    if rotate:
        for key in await store.api_keys.list(tenant_id):
            if key.public_key and key.revoked_at is None:
                await store.api_keys.revoke(tenant_id, key.id)
    key, secret = await store.api_keys.create(tenant_id, STREAM_KEY_NAME, pair=True)
    return {"stream_public_key": key.public_key, "stream_secret_key": secret}


def _credit(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value >= 0:
        raise SystemExit(f"--credit must be a non-negative amount or 'unlimited', not {text!r}")
    return value


def _key_line(key: dict[str, Any]) -> str:
    used = time.strftime("%Y-%m-%d %H:%M", time.gmtime(key["last_used_at"])) if key["last_used_at"] else "never"
    state = "revoked" if key["revoked"] else "active"
    return f"{key['id']}  {key['name']}  {state}  last used {used}" + (
        f"  public {key['public_key']}" if key["public_key"] else ""
    )


def cmd_tenant(settings: Settings, args: argparse.Namespace) -> int:
    from origin.store import UniqueViolation

    async def name_taken(store: Any, name: str) -> int:
        taken = await store.tenants.find(name)
        print(
            f"tenant name {name!r} is taken (tenant {taken.id if taken else '?'}); names are unique: choose "
            f"another, or change that tenant with `mediaedge tenant update {name}`",
            file=sys.stderr,
        )
        return 1

    async def create(store: Any) -> int:
        try:
            tenant, api_key = await store.tenants.create(
                args.name,
                settings.storage.default,
                webhook_url=args.webhook_url or "",
                whitelisted_domains=args.whitelist or [],
                app_ids=args.app_id or [],
                max_file_size=args.max_file_size,
            )
        except UniqueViolation:
            return await name_taken(store, args.name)
        pair = await stream_key_pair(store, tenant.id)
        data = {**tenant.public_dict(), "api_key": api_key, "webhook_signing_key": tenant.webhook_signing_key, **pair}
        _print(
            data,
            args.json,
            f"tenant {tenant.id} ({tenant.name})\napi_key: {api_key}\n"
            f"webhook_signing_key: {tenant.webhook_signing_key}\n"
            f"stream_public_key: {pair['stream_public_key']}\nstream_secret_key: {pair['stream_secret_key']}",
        )
        return 0

    async def listing(store: Any) -> int:
        tenants = await store.tenants.list_all()
        _print(
            [t.public_dict() for t in tenants], args.json, "\n".join(_tenant_line(t) for t in tenants) or "no tenants"
        )
        return 0

    async def update(store: Any) -> int:
        tenant = await store.tenants.find(args.tenant)
        if tenant is None:
            print(f"no tenant {args.tenant!r}", file=sys.stderr)
            return 1
        try:
            tenant = await store.tenants.update(
                tenant.id,
                name=args.name,
                webhook_url=args.webhook_url,
                whitelisted_domains=args.whitelist,
                app_ids=args.app_id,
                max_file_size=args.max_file_size,
                active=True if args.enable else False if args.disable else None,
            )
        except UniqueViolation:
            return await name_taken(store, args.name)
        data = tenant.public_dict()
        if args.rotate_key:
            data["api_key"] = await store.tenants.rotate_api_key(tenant.id)
        if args.rotate_stream_keys:
            data.update(await stream_key_pair(store, tenant.id, rotate=True))
        if args.credit is not None:
            credit = None if args.credit == "unlimited" else _credit(args.credit)
            await store.credits.set(tenant.id, credit)
            data["credit"] = "unlimited" if credit is None else credit
        _print(data, args.json, "\n".join(f"{k}: {v}" for k, v in data.items()))
        return 0

    async def api_keys(store: Any) -> int:
        tenant = await store.tenants.find(args.tenant)
        if tenant is None:
            print(f"no tenant {args.tenant!r}", file=sys.stderr)
            return 1
        if args.api_key_command == "create":
            key, secret = await store.api_keys.create(tenant.id, args.name, scopes=args.scope, pair=args.pair)
            data = {**key.public_dict(), "secret": secret}
            _print(data, args.json, "\n".join(f"{k}: {v}" for k, v in data.items() if v is not None))
            return 0
        if args.api_key_command == "revoke":
            if not await store.api_keys.revoke(tenant.id, args.key_id):
                print(f"tenant {tenant.name} has no active key {args.key_id!r}", file=sys.stderr)
                return 1
        keys = [key.public_dict() for key in await store.api_keys.list(tenant.id)]
        _print(keys, args.json, "\n".join(_key_line(key) for key in keys))
        return 0

    commands = {"create": create, "list": listing, "update": update, "api-key": api_keys}
    action = commands[args.tenant_command]
    return _run(lambda: _with_store(settings, action))


def cmd_ai(settings: Settings, args: argparse.Namespace) -> int:
    from origin.ai.service import usage_report

    async def run(store: Any) -> int:
        tenant = await store.tenants.find(args.tenant)
        if tenant is None:
            print(f"no tenant {args.tenant!r}", file=sys.stderr)
            return 1
        if args.ai_command == "budget":
            policy = await store.ai.policy(tenant.id)
            budgets = {} if args.default else dict(policy.budgets)
            for unit in ("images", "audio_seconds", "caption_minutes"):
                value = getattr(args, unit)
                if value is not None:
                    if value < 0:
                        print(f"--{unit.replace('_', '-')}: must not be negative", file=sys.stderr)
                        return 2
                    budgets[unit] = value
            if budgets != policy.budgets:
                await store.ai.set_policy(tenant.id, budgets=budgets)
        elif args.ai_command == "blocklist":
            terms = list((await store.ai.policy(tenant.id)).blocklist)
            terms += [t for t in args.add or [] if t.strip() and t not in terms]
            terms = [t for t in terms if t not in set(args.remove or [])]
            policy = await store.ai.set_policy(tenant.id, blocklist=terms)
            _print(policy.blocklist, args.json, "\n".join(policy.blocklist) or "(empty)")
            return 0
        report = await usage_report(store, settings, tenant.id)
        lines = [f"since {report['period']['from']}"] + [
            f"{unit}: {row['used']:g} used of {'unlimited' if row['budget'] is None else format(row['budget'], 'g')}"
            for unit, row in report["units"].items()
        ]
        _print(report, args.json, "\n".join(lines))
        return 0

    return _run(lambda: _with_store(settings, run))


def cmd_plugins(settings: Settings, args: argparse.Namespace) -> int:
    from mediaedge.plugins import get_plugin_manager, plugin_infos

    infos = plugin_infos(get_plugin_manager(block=settings.plugins.block))
    rows = [{"name": i.name, "module": i.module, "version": i.version, "hooks": list(i.hooks)} for i in infos]
    _print(rows, args.json, "\n".join(f"{i.name:<22} {i.module:<32} {', '.join(i.hooks)}" for i in infos))
    return 0


def cmd_keys(settings: Settings, args: argparse.Namespace) -> int:
    from origin.keys import KeyRing

    async def run(store: Any) -> int:
        ring = KeyRing(store, settings)
        if args.keys_command == "rotate":
            key = await ring.rotate()
            print(f"new active key {key.kid} ({key.algorithm}); older keys verify until their last token expires")
        for row in await store.signing_keys.list_all():
            state = "retired" if row["retired_at"] else "active"
            print(f"{row['kid']}  {row['algorithm']}  {state}")
        return 0

    return _run(lambda: _with_store(settings, run))


def cmd_db(settings: Settings, args: argparse.Namespace) -> int:
    from origin.store.db import Database
    from origin.store.migrate import migrate

    async def run() -> int:
        db = Database.open(settings.database.url)
        try:
            print(f"schema at revision {await migrate(db)}")
        finally:
            await db.close()
        return 0

    return _run(run)


def cmd_edge_purge(settings: Settings, args: argparse.Namespace) -> int:
    import httpx

    from mediaedge.cluster import EDGE_SECRET_HEADER, edge_secret
    from origin.purge import purge_targets

    body = {"keys": [] if args.prefix else [args.key], "prefixes": [args.key] if args.prefix else []}
    failed = 0
    for edge in _run(lambda: _with_store(settings, lambda store: purge_targets(settings, store))):
        try:
            r = httpx.post(f"{edge}/_edge/purge", json=body, headers={EDGE_SECRET_HEADER: edge_secret(settings)})
            print(f"{edge}: {r.status_code} {r.text.strip()}")
            failed += r.status_code >= 300
        except httpx.HTTPError as exc:
            print(f"{edge}: unreachable ({exc})")
            failed += 1
    return 1 if failed else 0


def cmd_origin(settings: Settings, args: argparse.Namespace) -> int:
    from origin.server import run_origin

    run_origin(settings)
    return 0


def cmd_edge(settings: Settings, args: argparse.Namespace) -> int:
    if args.edge_command == "purge":
        return cmd_edge_purge(settings, args)
    from edge.server import run_edge

    run_edge(settings)
    return 0


def cmd_worker(settings: Settings, args: argparse.Namespace) -> int:
    from origin.worker import main_worker

    main_worker(settings)
    return 0


def ensure_demo_tenant(settings: Settings) -> dict[str, Any] | None:
    """On first start, create the demo tenant and keep its credentials in ``data_dir`` (mode 0600)."""
    path = Path(settings.data_dir) / "demo-tenant.json"
    if path.exists():
        saved: dict[str, Any] = orjson.loads(path.read_bytes())
        return saved

    async def create(store: Any) -> dict[str, Any] | None:
        if await store.tenants.list_all():
            return None
        tenant, api_key = await store.tenants.create("demo", settings.storage.default)
        return {
            "id": tenant.id,
            "api_key": api_key,
            "webhook_signing_key": tenant.webhook_signing_key,
            **await stream_key_pair(store, tenant.id),
        }

    data = _run(lambda: _with_store(settings, create))
    if data:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_bytes(orjson.dumps(data, option=orjson.OPT_INDENT_2))
    return data


def _local_url(host: str, port: int) -> str:
    """Where a process on this machine reaches a server listening on ``host:port``."""
    host = "127.0.0.1" if host in ("0.0.0.0", "::") else host  # noqa: S104
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def _answers(url: str) -> bool:
    import httpx

    try:
        return httpx.get(f"{url}/healthz", timeout=1.0).status_code == 200
    except httpx.HTTPError:
        return False


def cmd_up(settings: Settings, args: argparse.Namespace, env: dict[str, str]) -> int:
    """Origin, worker and edge as child processes; stops all when one stops or on Ctrl-C.

    Every child gets the command's environment plus one derived setting: the edge pulls from the
    origin started here (``edge.origin_url`` is that origin's address, whatever else it says). The
    worker and the edge start once the origin answers ``/healthz`` (at most
    :data:`ORIGIN_START_TIMEOUT` seconds), so neither logs failures while it boots."""
    check_port_free("origin.port", settings.origin.host, settings.origin.port)
    check_port_free("edge.port", settings.edge.host, settings.edge.port)
    Path(settings.data_dir).mkdir(parents=True, exist_ok=True)
    origin_url = _local_url(settings.origin.host, settings.origin.port)
    child_env = {**os.environ, **env, env_name("edge.origin_url"): origin_url}
    _run(lambda: _with_store(settings, lambda store: asyncio.sleep(0)))  # migrate once, before children race
    demo = ensure_demo_tenant(settings) if settings.demo_tenant else None
    stopping = timed_out = False

    def stop(*_: Any) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    def start(role: str) -> subprocess.Popen[bytes]:
        return subprocess.Popen([sys.executable, "-m", "mediaedge", role], env=child_env)

    children = [start("origin")]
    deadline = time.monotonic() + ORIGIN_START_TIMEOUT
    while not stopping and children[0].poll() is None and not _answers(origin_url):
        if time.monotonic() > deadline:
            print(
                f"mediaedge: the origin did not answer {origin_url}/healthz within {ORIGIN_START_TIMEOUT:g} s",
                file=sys.stderr,
            )
            stopping = timed_out = True
        time.sleep(0.1)
    if not stopping and children[0].poll() is None:
        children += [start("worker"), start("edge")]
        print(
            f"mediaedge {__version__}: origin {settings.origin.url}  edge {settings.edge.url}  data {settings.data_dir}"
        )
        if demo:
            print(
                f"demo tenant {demo['id']}  API-Key: {demo['api_key']}  (saved in {settings.data_dir}/demo-tenant.json)"
            )
    while not stopping and all(c.poll() is None for c in children):
        time.sleep(0.2)
    for c in reversed(children):  # the edge and the worker first: their last reports reach the origin
        if c.poll() is None:
            c.terminate()
        try:
            c.wait(timeout=10)
        except subprocess.TimeoutExpired:
            c.kill()
            c.wait()
    failed = [c.returncode for c in children if c.returncode not in (0, -signal.SIGTERM, None)]
    return 1 if timed_out or (failed and not stopping) else 0


def _editor_body(args: argparse.Namespace) -> dict[str, Any]:
    body: dict[str, Any] = {}
    for flag, name in (
        ("callback_url", "callBackUrl"),
        ("fetch_file_url", "fetchFileUrl"),
        ("media_tab_url", "mediaTabContentUrl"),
        ("thumbnail_url", "fetchThumbnailUrl"),
    ):
        if getattr(args, flag) is not None:
            body[name] = getattr(args, flag)
    if args.cors_origin is not None:
        body["corsOrigins"] = args.cors_origin
    if args.s3_bucket or args.s3_secret_key_stdin:
        body["outputS3Bucket"] = {
            "awsBucketName": args.s3_bucket or "",
            "awsEndPoint": args.s3_endpoint or "",
            "awsAccessKey": args.s3_access_key or "",
            "awsSecreteKey": sys.stdin.readline().strip() if args.s3_secret_key_stdin else "",
        }
    return body


def cmd_editor(settings: Settings, args: argparse.Namespace) -> int:
    from mediaedge.errors import HTTPError
    from origin.editor import developers

    async def run(store: Any) -> int:
        tenant = await store.tenants.find(args.tenant)
        if tenant is None:
            print(f"no tenant {args.tenant!r}", file=sys.stderr)
            return 1
        api_key = None
        if args.editor_command == "register":
            try:
                done = await developers.register(
                    store, settings, tenant.id, _editor_body(args), rotate_key=args.rotate_key
                )
            except HTTPError as exc:
                print(f"mediaedge: {exc.message}", file=sys.stderr)
                return 2
            developer, api_key = done.developer, done.api_key
        else:
            developer = await store.editor.developer(tenant.id)
            if developer is None:
                print(f"tenant {tenant.name!r} is not registered as an editor developer", file=sys.stderr)
                return 1
        view = developers.public_view(settings, developer, developers.own_urls(settings.origin.public_url))
        lines = [f"editor developer: tenant {tenant.id} ({tenant.name})"]
        if api_key is not None:
            view["apiKey"] = api_key
            lines.append(f"apiKey: {api_key}  (shown once)")
        lines += [f"{name}: {value}" for name, value in view.items() if name != "apiKey"]
        _print(view, args.json, "\n".join(lines))
        return 0

    return _run(lambda: _with_store(settings, run))


_COMMANDS: dict[str, Callable[[Settings, argparse.Namespace], int]] = {
    "origin": cmd_origin,
    "edge": cmd_edge,
    "worker": cmd_worker,
    "tenant": cmd_tenant,
    "ai": cmd_ai,
    "plugins": cmd_plugins,
    "keys": cmd_keys,
    "db": cmd_db,
    "editor": cmd_editor,
}


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    env = _flag_env(args)
    try:
        settings = load_settings(environ={**os.environ, **env})
    except SettingsError as exc:
        print(f"mediaedge: invalid setting: {exc}", file=sys.stderr)
        return 2
    os.environ.update(env)  # children and uvicorn workers load the same settings
    try:
        if args.command == "up":
            return cmd_up(settings, args, env)
        return _COMMANDS[args.command](settings, args)
    except PortInUse as exc:
        print(f"mediaedge: {exc}", file=sys.stderr)
        return 1
