"""Notify's tables."""

from __future__ import annotations

import uuid
from datetime import datetime, time

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlmodel import Field, SQLModel

from shared.db import new_registry


class Base(SQLModel, registry=new_registry()):
    """Notify's tables share this metadata (migrated by Alembic)."""


class RecipientRow(Base, table=True):
    """How a borrower can be reached: channels, language and local time zone."""

    __tablename__ = "recipient"

    borrower_id: str = Field(primary_key=True, max_length=64)
    name: str
    phone: str | None = None
    email: str | None = None
    phone_valid: bool = True
    email_valid: bool = True
    locale: str
    time_zone: str
    push_token: str | None = Field(default=None, max_length=4096)
    # The postal address (``shared.events.PostalAddress`` as JSON): printed on letters.
    address: dict[str, object] | None = Field(
        default=None, sa_column=sa.Column(JSONB(), nullable=True)
    )
    # The borrower's other contacts (``shared.events.Contact`` as JSON), whole, as last given.
    contacts: list[dict[str, object]] = Field(
        default_factory=list,
        sa_column=sa.Column(JSONB(), nullable=False, server_default=sa.text("'[]'::jsonb")),
    )
    # The ``updated_at`` of the last contact.updated applied: an older one changes nothing.
    contact_updated_at: datetime | None = Field(
        default=None, sa_column=sa.Column(sa.DateTime(timezone=True), nullable=True)
    )


class LoanRecipientRow(Base, table=True):
    """Whom messages about a loan go to."""

    __tablename__ = "loan_recipient"

    loan_id: str = Field(primary_key=True, max_length=64)
    borrower_id: str = Field(foreign_key="recipient.borrower_id", index=True)
    # The loan's compliance pack (its product's jurisdiction, BRIEF decision 8): what a
    # message posted for the loan is checked and rendered under.
    pack: str = Field(
        default="cn", sa_column=sa.Column(sa.String(20), nullable=False, server_default="cn")
    )
    received_at: datetime = Field(
        sa_column=sa.Column(
            sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        )
    )


def _now_column() -> sa.Column[datetime]:
    return sa.Column(sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now())


class TemplateRow(Base, table=True):
    """A template's head: its id and the number of its latest version (versions serialise on
    this row, so two uploads at once get consecutive numbers)."""

    __tablename__ = "template"

    template_id: str = Field(primary_key=True, max_length=64)
    latest_version: int
    created_at: datetime = Field(sa_column=_now_column())
    updated_at: datetime = Field(sa_column=_now_column())


class TemplateVersionRow(Base, table=True):
    """One uploaded version of a template; never updated (every upload is a new version)."""

    __tablename__ = "template_version"

    template_id: str = Field(primary_key=True, max_length=64, foreign_key="template.template_id")
    version: int = Field(primary_key=True)
    channel: str = Field(max_length=16)
    purpose: str = Field(max_length=32)
    # The checked document: channel, purpose, variables and the text of each locale.
    document: dict[str, object] = Field(sa_column=sa.Column(JSONB(), nullable=False))
    created_by: str | None = Field(default=None, max_length=200)
    created_at: datetime = Field(sa_column=_now_column())


def _at_column(nullable: bool = True) -> sa.Column[datetime]:
    return sa.Column(sa.DateTime(timezone=True), nullable=nullable)


class MessageRow(Base, table=True):
    """One message: one idempotency key, one row, ever (BRIEF section 5).

    ``due_at`` is when the send worker may take it next: its creation, its ``deferred_until``,
    or, while it is ``sending``, the end of the lease after which a crashed send is resumed.
    ``fingerprint`` is the hash of the request that created it (same key, other body: 409).
    ``address``, ``subject`` and ``text`` are fixed when it is first sent, so that a resumed
    send hands the provider exactly what the interrupted one did.
    """

    __tablename__ = "message"
    __table_args__ = (
        sa.Index(
            "ix_message_due",
            "due_at",
            postgresql_where=sa.text("status IN ('queued', 'deferred', 'sending')"),
        ),
        sa.Index("ix_message_created", "created_at", "message_id"),
        # Rate limits count the hand-overs of a channel's provider and of a borrower.
        sa.Index(
            "ix_message_channel_handed",
            "channel",
            "handed_at",
            postgresql_where=sa.text("handed_at IS NOT NULL"),
        ),
        sa.Index(
            "ix_message_borrower_handed",
            "borrower_id",
            "handed_at",
            postgresql_where=sa.text("handed_at IS NOT NULL"),
        ),
    )

    message_id: uuid.UUID = Field(primary_key=True)
    idempotency_key: str = Field(max_length=200, unique=True)
    fingerprint: str = Field(max_length=64)
    request_id: uuid.UUID | None = Field(default=None, unique=True)
    case_id: uuid.UUID | None = None
    borrower_id: str = Field(max_length=64, index=True)
    loan_id: str | None = Field(default=None, max_length=64, index=True)
    recipient: str = Field(max_length=20)
    channel: str = Field(max_length=16)
    template_id: str = Field(max_length=100)
    template_version: int | None = None
    locale: str | None = Field(default=None, max_length=16)
    pack: str = Field(max_length=20)
    variables: dict[str, object] = Field(sa_column=sa.Column(JSONB(), nullable=False))
    fallback: list[str] = Field(sa_column=sa.Column(JSONB(), nullable=False))
    fallback_of: uuid.UUID | None = Field(default=None, foreign_key="message.message_id")
    status: str = Field(max_length=16)
    reason: str | None = None
    deferred_until: datetime | None = Field(default=None, sa_column=_at_column())
    due_at: datetime | None = Field(default=None, sa_column=_at_column())
    provider: str | None = Field(default=None, max_length=32)
    # The provider's own id of the message, where its mapping reads one from the answer.
    provider_message_id: str | None = Field(default=None, max_length=200, index=True)
    attempts: int = 0
    # Where it went: a number, an e-mail address, a push token, or a letter's addressee block.
    address: str | None = Field(default=None, max_length=1000)
    subject: str | None = None
    text: str | None = None
    created_at: datetime = Field(sa_column=_at_column(nullable=False))
    updated_at: datetime = Field(sa_column=_at_column(nullable=False))
    # When it was first marked ``sending``: the hand-over rate limits count.
    handed_at: datetime | None = Field(default=None, sa_column=_at_column())
    sent_at: datetime | None = Field(default=None, sa_column=_at_column())
    delivered_at: datetime | None = Field(default=None, sa_column=_at_column())


class MessageStatusRow(Base, table=True):
    """One change of a message's status, in order (each one also went out as an event)."""

    __tablename__ = "message_status"

    id: int | None = Field(default=None, primary_key=True)
    message_id: uuid.UUID = Field(foreign_key="message.message_id", index=True)
    status: str = Field(max_length=16)
    reason: str | None = None
    deferred_until: datetime | None = Field(default=None, sa_column=_at_column())
    at: datetime = Field(sa_column=_at_column(nullable=False))


class SuppressionRow(Base, table=True):
    """An address no message on its channel may go to (opt-out, bounce, complaint ...)."""

    __tablename__ = "suppression"
    __table_args__ = (sa.UniqueConstraint("channel", "address"),)

    suppression_id: uuid.UUID = Field(primary_key=True)
    channel: str = Field(max_length=16)
    address: str = Field(max_length=254)  # normalised: see domain/addresses.py
    reason: str = Field(max_length=20)
    message_id: uuid.UUID | None = None  # the message whose receipt added it, if one did
    created_by: str | None = Field(default=None, max_length=200)
    created_at: datetime = Field(sa_column=_at_column(nullable=False))


class SinkRow(Base, table=True):
    """What the local sink received: the channel used when no provider is configured."""

    __tablename__ = "sink_message"

    sink_id: int | None = Field(default=None, primary_key=True)
    # Unique as a provider's idempotency key is: a resumed send is not received twice.
    message_id: uuid.UUID = Field(unique=True)
    channel: str = Field(max_length=16, index=True)
    address: str = Field(max_length=254)
    subject: str | None = None
    text: str
    received_at: datetime = Field(sa_column=_at_column(nullable=False))


class ReceiptRow(Base, table=True):
    """A provider's receipt that was applied (one per message and status: a replay is 409)."""

    __tablename__ = "receipt"

    message_id: uuid.UUID = Field(primary_key=True, foreign_key="message.message_id")
    status: str = Field(primary_key=True, max_length=16)
    reason: str | None = Field(default=None, max_length=20)
    at: datetime = Field(sa_column=_at_column(nullable=False))
    received_at: datetime = Field(sa_column=_at_column(nullable=False))


class MirroredPreferenceRow(Base, table=True):
    """A borrower's contact preferences as collections announced them (re-checked at send)."""

    __tablename__ = "mirrored_preference"

    borrower_id: str = Field(primary_key=True, max_length=64)
    stopped_channels: list[str] = Field(
        default_factory=list,
        sa_column=sa.Column(ARRAY(sa.Text), nullable=False, server_default="{}"),
    )
    preferred_from: time | None = None
    preferred_to: time | None = None
    consent: bool = False


class MirroredDisputeRow(Base, table=True):
    """A dispute as collections announced it: an open one freezes sends about its loan."""

    __tablename__ = "mirrored_dispute"

    dispute_id: uuid.UUID = Field(primary_key=True)
    loan_id: str = Field(index=True, max_length=64)
    borrower_id: str = Field(index=True, max_length=64)
    status: str = Field(max_length=10)


class LetterDocumentRow(Base, table=True):
    """A letter rendered to PDF, as it is printed and posted (one per message, never changed)."""

    __tablename__ = "letter_document"

    message_id: uuid.UUID = Field(primary_key=True, foreign_key="message.message_id")
    pdf: bytes = Field(sa_column=sa.Column(sa.LargeBinary(), nullable=False))
    created_at: datetime = Field(sa_column=_at_column(nullable=False))
