"""A private thread per bid: messages between the lab that posted the job and the vendor that bid, and their files."""

from datetime import datetime

from sqlalchemy import Text
from sqlmodel import Field, SQLModel

from marketplace.db_types import UTCDateTime, utcnow


class BidMessage(SQLModel, table=True):
    id: int = Field(default=None, primary_key=True)
    bid_id: int = Field(foreign_key="bid.id", index=True)
    author_id: int = Field(foreign_key="user_account.id")
    # Which side wrote it: the other side reads only "the lab" (or the job's codename) or the vendor's name, never a
    # person's name or address (a vendor's staff emails go to no buyer; a confidential buyer stays unnamed).
    from_buyer: bool
    body: str = Field(default="", sa_type=Text)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class MessageAttachment(SQLModel, table=True):
    id: int = Field(default=None, primary_key=True)
    message_id: int = Field(foreign_key="bidmessage.id", index=True)
    filename: str = Field(max_length=255)
    stored_name: str = Field(max_length=64)
    content_type: str = Field(max_length=100)
    size_bytes: int
    # On a confidential job: what identifying metadata was removed ("" when the file was kept as sent).
    metadata_note: str = Field(default="", max_length=500)
