"""A small iCalendar writer (RFC 5545) for visits: one .ics per visit and a feed of a user's visits.

Pure: no Django, no I/O. Content lines end in CRLF and are folded at 75 octets (UTF-8, never inside a character);
TEXT values escape backslash, semicolon, comma and newlines; times are written in UTC (the form `19970714T173000Z`),
so no VTIMEZONE is needed and every calendar shows the visit at the right local time.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

PRODID = "-//rmdesk//Customer visits//EN"
LINE_OCTETS = 75
CRLF = "\r\n"


@dataclass(frozen=True)
class Event:
    """One VEVENT: the times must be timezone-aware."""

    uid: str
    start: datetime
    end: datetime
    stamp: datetime  # when this information was last revised (DTSTAMP)
    summary: str
    location: str = ""
    description: str = ""
    url: str = ""
    status: str = "CONFIRMED"  # CONFIRMED, TENTATIVE or CANCELLED
    sequence: int = 0  # the revision: calendar apps replace an event only with a higher one


def escape_text(value: str) -> str:
    """A TEXT value (RFC 5545 §3.3.11): `\\`, `;` and `,` escaped, every line break as `\\n`."""
    text = value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\\n")


def utc(moment: datetime) -> str:
    """A DATE-TIME in UTC, e.g. 20260302T020000Z."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("iCalendar times must be timezone-aware")
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def fold(line: str) -> str:
    """One content line, folded (§3.1): at most 75 octets a line, continuation lines start with a space; a UTF-8
    character is never split (a Chinese character is three octets)."""
    data = line.encode("utf-8")
    if len(data) <= LINE_OCTETS:
        return line
    parts: list[str] = []
    start, limit = 0, LINE_OCTETS
    while len(data) - start > limit:
        end = start + limit
        while data[end] & 0xC0 == 0x80:  # a continuation byte: the cut would fall inside a character
            end -= 1
        parts.append(data[start:end].decode("utf-8"))
        start, limit = end, LINE_OCTETS - 1  # the leading space of a continuation line counts
    parts.append(data[start:].decode("utf-8"))
    return (CRLF + " ").join(parts)


def _property(name: str, value: str) -> str:
    return fold(f"{name}:{value}") + CRLF


def _event(event: Event) -> str:
    lines = [
        "BEGIN:VEVENT" + CRLF,
        _property("UID", escape_text(event.uid)),
        _property("DTSTAMP", utc(event.stamp)),
        _property("DTSTART", utc(event.start)),
        _property("DTEND", utc(event.end)),
        _property("SEQUENCE", str(event.sequence)),
        _property("STATUS", event.status),
        _property("SUMMARY", escape_text(event.summary)),
    ]
    if event.location:
        lines.append(_property("LOCATION", escape_text(event.location)))
    if event.description:
        lines.append(_property("DESCRIPTION", escape_text(event.description)))
    if event.url:
        # A URI value, not TEXT: written as it is.
        lines.append(_property("URL", event.url))
    lines.append("END:VEVENT" + CRLF)
    return "".join(lines)


def calendar(events: Iterable[Event], *, name: str = "") -> str:
    """A VCALENDAR holding `events`; `name` is the title calendar apps give a subscribed feed."""
    head = ["BEGIN:VCALENDAR" + CRLF, _property("VERSION", "2.0"), _property("PRODID", PRODID)]
    head.append(_property("CALSCALE", "GREGORIAN"))
    if name:
        head.append(_property("X-WR-CALNAME", escape_text(name)))
    body = [_event(event) for event in events]
    return "".join([*head, *body, "END:VCALENDAR" + CRLF])
