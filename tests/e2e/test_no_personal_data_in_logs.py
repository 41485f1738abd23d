"""No personal data in logs, traces or metrics (issue 16, item 6).

The four services and the gateway run as processes of their own (uvicorn, JSON logs at DEBUG,
spans exported to a file each). A borrower with recognisable personal data is registered through
the gateway, pays, falls behind, is e-mailed by collections' strategy through notify to a real
SMTP server, and a collector records a call whose note quotes a card number; a registration with
a malformed phone is refused. Then every log line, exported span and metric is searched for
each piece of personal data, in the forms it may take: none is found. That the same search
finds them where they belong (the e-mail received, the API's answers) shows it can fail.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from providers import Inbox, smtp_server

from factories import make_registration
from postloan_testing.plugin import NatsUnderTest, PostgresUnderTest, eventually
from postloan_testing.processes import ServiceProcess
from principals import PRINCIPAL_SECRET
from shared.db import asyncpg_dsn
from shared.telemetry import TRACES_FILE_VARIABLE

from .test_collections_chain import D0, FIRST_DUE
from .test_collections_chain import STRATEGY as CHAIN_STRATEGY

NAME = "Zhang Sanfeng-PIIMARK"
PHONE = "+8613800139876"
EMAIL = "Pii-Mark@Example.org"
REFUSED_EMAIL = "pii-refused@example.org"  # a mailbox the SMTP server answers 550
SPACED_PHONE = "+86 138 0013 9876"  # not E.164: the registration is refused (422)
NATIONAL_ID = "11010519491231002X"
CARD = "6222 0212 3456 7890"
#: Each piece of personal data in the forms a leak would show it (searched case-insensitively).
FORMS: dict[str, tuple[str, ...]] = {
    "name": (NAME, "Sanfeng", "PIIMARK"),
    "phone": (PHONE, "8613800139876", "13800139876", "138 0013 9876", "138-0013-9876"),
    "email": (EMAIL, "pii-mark@", REFUSED_EMAIL, "pii-refused@"),
    "national_id": (NATIONAL_ID, "110105194912310"),
    "card": (CARD, "6222021234567890", "6222-0212-3456-7890"),
}

APPS = {
    "monitoring": "monitoring.main:create_app",
    "scoring": "scoring.main:create_app",
    "collections": "e2e.frozen_apps:collections",
    "notify": "e2e.frozen_apps:notify_app",
}
ADMIN_PASSWORD = "pii-admin-password"
TEMPLATE = {
    "channel": "email",
    "variables": ["name", "amount_due", "loan_id"],
    "locales": {
        "zh-CN": {
            "subject": "{{ name }}，还款提醒",
            "body": "{{ name }}，借款{{ loan_id }}应还{{ amount_due }}元。",
        },
        "en": {"subject": "Reminder", "body": "{{ name }}, {{ amount_due }} is due."},
    },
}
_CHAIN: dict[str, Any] = CHAIN_STRATEGY
#: The chain tests' strategy, its day-0 step an e-mail.
STRATEGY = {
    **_CHAIN,
    "segments": [
        {
            **_CHAIN["segments"][0],
            "path": [{"day": 0, "action": "email", "template_id": "reminder-pii"}],
        }
    ],
}


def found(forms: Iterable[str], text: str) -> list[str]:
    """The forms of personal data that occur in ``text``."""
    lowered = text.lower()
    return [form for form in forms if form.lower() in lowered]


def leaks(texts: dict[str, str]) -> dict[str, list[str]]:
    """Per kind of personal data, where it was found (``file:line``) and as what."""
    where: dict[str, list[str]] = {}
    for source, text in texts.items():
        for n, line in enumerate(text.splitlines(), 1):
            for kind, forms in FORMS.items():
                for form in found(forms, line):
                    where.setdefault(kind, []).append(f"{source}:{n} {form!r}: {line[:300]}")
    return where


@dataclass
class Stack:
    gateway: httpx.AsyncClient
    processes: dict[str, ServiceProcess]
    spans: dict[str, Path]
    databases: dict[str, str]


@asynccontextmanager
async def stack(
    postgres: PostgresUnderTest, nats: NatsUnderTest, smtp_url: str, folder: Path
) -> AsyncIterator[Stack]:
    common = {
        "POSTLOAN_NATS_URL": nats.url,
        "POSTLOAN_PRINCIPAL_SECRET": PRINCIPAL_SECRET,
        "POSTLOAN_OUTBOX_POLL_INTERVAL_S": "0.2",
        "POSTLOAN_LOG_LEVEL": "DEBUG",
        "POSTLOAN_LOG_JSON": "true",
        "PYTHONPATH": str(Path(__file__).parents[1]),  # tests/: e2e.frozen_apps
    }
    extra = {"notify": {"POSTLOAN_SMTP_URL": smtp_url, "POSTLOAN_SMTP_FROM": "no-reply@pl.test"}}
    spans = {name: folder / f"{name}.spans.jsonl" for name in [*APPS, "gateway"]}
    databases = {name: await postgres.new_database(name) for name in [*APPS, "gateway"]}
    services = {
        name: ServiceProcess(
            app,
            env=common
            | extra.get(name, {})
            | {
                "POSTLOAN_DATABASE_URL": databases[name],
                TRACES_FILE_VARIABLE: str(spans[name]),
            },
            log_file=folder / f"{name}.log",
        )
        for name, app in APPS.items()
    }
    gateway_env = common | {
        "POSTLOAN_DATABASE_URL": databases["gateway"],
        "POSTLOAN_JWT_SECRET": "pii-signing-key-" + "x" * 40,
        "POSTLOAN_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "POSTLOAN_STATE_DIR": str(folder / "state"),
        TRACES_FILE_VARIABLE: str(spans["gateway"]),
    }
    gateway_env |= {f"POSTLOAN_UPSTREAM_{n.upper()}": p.url for n, p in services.items()}
    processes = services | {
        "gateway": ServiceProcess("gateway.main:create_app", gateway_env, folder / "gateway.log")
    }
    async with AsyncExitStack() as exit_stack:
        for process in processes.values():
            exit_stack.callback(process.stop)
        await asyncio.gather(*(asyncio.to_thread(p.start, timeout=180) for p in processes.values()))
        client = await exit_stack.enter_async_context(
            httpx.AsyncClient(base_url=processes["gateway"].url, timeout=30)
        )
        form = {"username": "admin", "password": ADMIN_PASSWORD}
        token = (await client.post("/api/v1/auth/token", data=form)).json()["access_token"]
        client.headers["Authorization"] = f"Bearer {token}"
        yield Stack(client, processes, spans, databases)


def registration(loan_id: str = "L-PII", **borrower: str) -> dict[str, Any]:
    body = make_registration(
        loan_id=loan_id, borrower_id=f"B{loan_id[1:]}", disbursed_on=D0.isoformat()
    )
    body["first_due_on"] = None
    body["borrower"] |= {"name": NAME, "phone": PHONE, "email": EMAIL, "national_id": NATIONAL_ID}
    body["borrower"] |= borrower
    return body


async def close_day(gateway: httpx.AsyncClient, as_of: date) -> None:
    started = await gateway.post("/api/v1/eod", json={"as_of": as_of.isoformat()})
    assert started.status_code == 202, started.text

    async def completed() -> bool:
        run = await gateway.get(f"/api/v1/eod/{started.json()['run_id']}")
        return bool(run.json()["status"] == "completed")

    await eventually(completed, timeout=30)


async def register(gateway: httpx.AsyncClient) -> str:
    """Two borrowers (the second one's mailbox refuses mail), and three refused attempts that
    quote personal data: a malformed phone, a conflicting registration, a failed login."""
    assert (await gateway.put("/api/v1/templates/reminder-pii", json=TEMPLATE)).status_code == 201
    assert (await gateway.put("/api/v1/strategies/pii", json=STRATEGY)).status_code == 201
    activated = await gateway.post("/api/v1/strategies/pii/versions/1/activate")
    assert activated.status_code == 200, activated.text
    malformed = await gateway.post("/api/v1/loans", json=registration(phone=SPACED_PHONE))
    assert malformed.status_code == 422, malformed.text
    for body in (registration(), registration("L-PII2", email=REFUSED_EMAIL)):
        registered = await gateway.post("/api/v1/loans", json=body)
        assert registered.status_code == 201, registered.text
    conflicting = await gateway.post("/api/v1/loans", json=registration(name=f"{NAME} Jr"))
    assert conflicting.status_code == 409, conflicting.text
    login = await gateway.post("/api/v1/auth/token", data={"username": EMAIL, "password": PHONE})
    assert login.status_code == 401, login.text

    async def known() -> bool:
        recipient = await gateway.get("/api/v1/notify/loans/L-PII2/recipient")
        case_side = await gateway.get("/api/v1/collections/loans/L-PII2")
        return recipient.status_code == case_side.status_code == 200

    await eventually(known, timeout=30)
    return malformed.text


async def fall_behind(gateway: httpx.AsyncClient, inbox: Inbox) -> None:
    """A part payment, then the close of each day to the due date: DPD 1, the day-0 e-mails."""
    payment = {
        "payment_id": "P-PII",
        "loan_id": "L-PII",
        "amount": "100.00",
        "currency": "CNY",
        "paid_at": "2026-02-01T10:00:00+08:00",
        "channel": "bank",
    }
    assert (await gateway.post("/api/v1/payments", json=payment)).status_code == 201
    day = D0
    while day <= FIRST_DUE:
        await close_day(gateway, day)
        day += timedelta(days=1)

    async def mailed_and_refused() -> bool:
        found = (await gateway.get("/api/v1/messages", params={"loan_id": "L-PII2"})).json()
        failed = [m for m in found["items"] if (m["channel"], m["status"]) == ("email", "failed")]
        return len(inbox.received) == 1 and len(failed) == 1

    await eventually(mailed_and_refused, timeout=60)


async def record_call(gateway: httpx.AsyncClient) -> str:
    """A collector's call whose note quotes the card number; a look-up with a query string
    full of personal data (read by no route, it must not be logged either)."""
    [case] = (await gateway.get("/api/v1/cases", params={"loan_id": "L-PII"})).json()["items"]
    call = {
        "channel": "agent_call",
        "outcome": "right_party_contact",
        "contacted_at": "2026-02-16T10:30:00+08:00",
        "direction": "inbound",
        "to": PHONE,
        "note": f"{NAME} read card {CARD} and e-mail {EMAIL} to confirm the payment",
    }
    recorded = await gateway.post(f"/api/v1/cases/{case['case_id']}/outcomes", json=call)
    assert recorded.status_code == 201, recorded.text
    listed = await gateway.get("/api/v1/loans", params={"q": NAME, "phone": PHONE, "to": EMAIL})
    assert listed.status_code == 200, listed.text
    return recorded.text


async def drive_the_flow(gateway: httpx.AsyncClient, inbox: Inbox) -> dict[str, str]:
    """The whole flow; what came back where personal data belongs."""
    malformed = await register(gateway)
    await fall_behind(gateway, inbox)
    recorded = await record_call(gateway)
    [(recipients, mail)] = inbox.received
    body = mail.get_body()
    assert body is not None
    answers = await asyncio.gather(
        gateway.get("/api/v1/loans/L-PII"),
        gateway.get("/api/v1/notify/loans/L-PII/recipient"),
        gateway.get("/api/v1/borrowers/B-PII"),
    )
    return {
        "smtp": f"To: {recipients}\n{body.get_content()}",
        "answers": "\n".join([*(a.text for a in answers), recorded]),
        "malformed": malformed,
    }


async def stored_borrower(database_url: str) -> str:
    """Monitoring's row of the borrower: the one place the national id is kept and shown."""
    conn = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        row = await conn.fetchrow("SELECT * FROM borrower WHERE borrower_id = 'B-PII'")
    finally:
        await conn.close()
    assert row is not None
    return json.dumps(dict(row), default=str)


def exported_spans(path: Path) -> str:
    """Each span as one line: its name, attributes, events and status (the SDK's JSON)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return "\n".join(json.dumps(json.loads(line), ensure_ascii=False) for line in lines)


@pytest.mark.slow
@pytest.mark.timeout(900)
async def test_personal_data_reaches_the_borrower_but_no_log_span_or_metric(
    postgres: PostgresUnderTest, nats_server: NatsUnderTest, tmp_path: Path
) -> None:
    async with smtp_server(refuse=[REFUSED_EMAIL]) as smtp:
        async with stack(postgres, nats_server, smtp.url(), tmp_path) as running:
            delivered = await drive_the_flow(running.gateway, smtp.inbox)
            delivered["stored"] = await stored_borrower(running.databases["monitoring"])
            metrics = {}
            for name, process in running.processes.items():
                metrics[f"{name}.metrics"] = httpx.get(f"{process.url}/metrics").text
                (tmp_path / f"{name}.metrics").write_text(metrics[f"{name}.metrics"])

            # Every process has exported spans of the flow (its batch exporter writes every
            # 5 s): a consumer still catching up would otherwise leave an empty file.
            async def every_process_exported() -> bool:
                return all(p.exists() and p.stat().st_size > 0 for p in running.spans.values())

            await eventually(every_process_exported, timeout=60)
        # Stopped (SIGTERM): each process has flushed its last spans and log lines.

    # The data went through: the search finds every kind where it belongs.
    (tmp_path / "delivered.json").write_text(json.dumps(delivered, ensure_ascii=False))
    assert set(leaks({"smtp": delivered["smtp"]})) == {"name", "email"}
    assert set(leaks({"answers": delivered["answers"]})) == set(FORMS) - {"national_id"}
    assert set(leaks({"stored": delivered["stored"]})) == {"name", "phone", "email", "national_id"}
    logs = {f"{n}.log": (tmp_path / f"{n}.log").read_text() for n in running.processes}
    spans = {f"{n}.spans": exported_spans(path) for n, path in running.spans.items()}
    empty = [name for name, text in (logs | spans).items() if not text.strip()]
    assert empty == []
    assert '"POST /api/v1/loans"' in spans["monitoring.spans"]
    assert '"consume postloan.collections.contact.requested.v1"' in spans["notify.spans"]
    assert '"debug"' in logs["monitoring.log"]  # DEBUG lines were written, SQL included

    assert leaks(logs | spans | metrics) == {}
