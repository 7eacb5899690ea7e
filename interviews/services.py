"""Writes for interviews. Keyword-only `<entity>_<action>` functions; each runs in one
transaction and raises a DomainError (nothing written) when a rule is broken.

Locking: services that change an interview's coding lock the Interview row first
(`select_for_update`), so two evaluators marking done at the same moment align the
fragments exactly once, and nothing changes a fragment while it is being aligned.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re

from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from core.audit import audit_record
from core.errors import Conflict, InvalidInput, NotAllowed, NotFound
from core.jobs import job_execute, job_reading, job_upload_start
from core.models import Job, Membership, Project
from core.progress import Progress
from core.selectors import membership_require
from core.text import normalise_label
from core.uploads import check_upload
from interviews import alignment, sheets, tasks
from interviews.models import FinalTag, Fragment, Interview, InterviewCoder, Paragraph, Piece
from interviews.parsers import ParsedTranscript, parse_transcript
from labelling.services import label_get_or_create, label_validate
from taxonomy.models import Leaf, Node

MAX_IMPORTED_TAG = 5000  # imported tags keep their length (history as it was), within reason
MAX_ID = 2**63 - 1  # larger ids overflow SQLite's integers (a 500) in an IN (...) lookup
MAX_NUMBER = 2**31 - 1  # the largest interview number its column holds on every database


def _id_in_range(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_ID


def _now():
    return timezone.now()


def _lock_interview(interview_id: int) -> Interview:
    interview = Interview.objects.select_for_update().select_related("project").filter(id=interview_id).first()
    if interview is None:
        raise NotFound("No such interview.")
    return interview


def _membership(project: Project, user) -> Membership:
    return membership_require(project=project, user=user)


# --- details ------------------------------------------------------------------------------


_DURATION_HMS = re.compile(r"^(?:(?P<h>\d+):)?(?P<m>\d{1,3}):(?P<s>\d{2})$")
_DURATION_WORDS = re.compile(
    r"(?P<n>\d+(?:[.,]\d+)?)\s*(?P<unit>h(?:ours?|rs?)?|m(?:in(?:ute)?s?)?|s(?:ec(?:ond)?s?)?)\b"
)


def duration_parse(value, *, field: str = "duration") -> dt.timedelta | None:
    """`45`, `45 min`, `1h 5m`, `1:05:00`, `65:30` → a timedelta; blank → None."""
    if value in (None, ""):
        return None
    if isinstance(value, dt.timedelta):
        return value
    if isinstance(value, int | float):
        return dt.timedelta(minutes=value)
    text = str(value).strip().lower()
    if not text:
        return None
    if re.fullmatch(r"\d+(?:[.,]\d+)?", text):
        return dt.timedelta(minutes=float(text.replace(",", ".")))
    hms = _DURATION_HMS.match(text)
    if hms:
        return dt.timedelta(hours=int(hms["h"] or 0), minutes=int(hms["m"]), seconds=int(hms["s"]))
    total, found = dt.timedelta(), False
    for match in _DURATION_WORDS.finditer(text):
        n, unit = float(match["n"].replace(",", ".")), match["unit"][0]
        total += dt.timedelta(**{{"h": "hours", "m": "minutes", "s": "seconds"}[unit]: n})
        found = True
    if not found:
        raise InvalidInput(f"Cannot read {value!r} as a duration; write e.g. 45 min or 1:05:00.", field=field)
    return total


def date_parse(value, *, field: str = "date") -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    for fmt in ("%Y-%m-%d", "%d/%m/%Y", "%d.%m.%Y", "%d %B %Y", "%d %b %Y", "%B %d, %Y"):
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise InvalidInput(f"Cannot read {value!r} as a date; write YYYY-MM-DD.", field=field)


def _details(
    *, title=None, interviewee_profile=None, interviewers=None, date=None, duration=None, keep_blank=True
) -> dict:
    """Detail fields to write; with `keep_blank`, values not given (None or "") leave the stored ones alone."""
    values = {
        "title": None if title is None else str(title).strip()[:300],
        "interviewee_profile": None if interviewee_profile is None else str(interviewee_profile).strip(),
        "interviewers": None if interviewers is None else str(interviewers).strip()[:500],
        "date": date_parse(date),
        "duration": duration_parse(duration),
    }
    if keep_blank:
        return {k: v for k, v in values.items() if v not in (None, "")}
    return {k: (v if v is not None else ("" if k in ("title", "interviewee_profile", "interviewers") else None))
            for k, v in values.items()}  # fmt: skip


def _number_from_filename(filename: str) -> int | None:
    digits = re.findall(r"\d+", filename.rsplit(".", 1)[0])
    return int(digits[-1]) if digits else None


def interview_create(
    *,
    project: Project,
    user,
    filename: str | None = None,
    data: bytes | None = None,
    number: int | None = None,
    replace: bool = False,
    **details,
) -> Interview:
    """Add an interview, with a transcript when a file is given.

    The number comes from the argument, else from the file name (interview3.docx → 3),
    else the next free number. An existing record with that number (e.g. created by a
    coding-sheet import) gets the transcript; one that has a transcript already is
    replaced only with `replace` and only before anyone tagged a fragment."""
    membership_require(project=project, user=user, roles=("lead",))
    if data is not None:
        check_upload(data, kind="interview", name=filename or "")  # size and DOCX bomb before parsing
        audit_record(action="import.transcript", project=project, target=filename or "", actor=user)
    parsed = parse_transcript(filename or "", data or b"") if filename is not None or data is not None else None
    if number is None and filename:
        number = _number_from_filename(filename)
    _number_check(number)
    values = _details(**details)
    with transaction.atomic():
        # The project's row serialises interview creation: a double-clicked upload (or two numberless
        # uploads at once) waits here instead of failing on the unique number with an IntegrityError.
        Project.objects.select_for_update(no_key=True).filter(pk=project.pk).first()
        if number is None:
            last = Interview.objects.filter(project=project).order_by("-number").values_list("number", flat=True)
            number = (last.first() or 0) + 1
        interview = Interview.objects.select_for_update().filter(project=project, number=number).first()
        if interview is None:
            interview = Interview(project=project, number=number, created_by=user)
        elif parsed is not None:
            _transcript_replace_check(interview, replace=replace)
        elif parsed is None and interview.pk:
            raise Conflict(f"Interview {number} exists already.", field="number")
        for key, value in values.items():
            setattr(interview, key, value)
        if parsed is not None:
            _store_transcript(interview, parsed, filename or "")
        else:
            interview.save()
        _stage_refresh(interview)
    return interview


def _number_check(number) -> None:
    if number is not None and (not isinstance(number, int) or not 1 <= number <= MAX_NUMBER):
        raise InvalidInput(
            f"The interview number must be a positive whole number (at most {MAX_NUMBER}).", field="number"
        )


def _transcript_replace_check(interview: Interview, *, replace: bool) -> None:
    """An interview's transcript is replaced only when asked to and before anyone tagged a fragment."""
    if not interview.has_transcript:
        return
    if not replace:
        raise Conflict(
            f"Interview {interview.number} has a transcript already ({interview.transcript_filename or 'uploaded'}); "
            "choose replace to upload a new one.",
            field="number",
        )
    if interview.fragments.exists():
        raise Conflict(
            f"Interview {interview.number} has tagged fragments; its transcript can no longer be replaced.",
            field="file",
        )


def interview_upload_start(
    *, project: Project, user, filename: str, data: bytes, number: int | None = None, replace: bool = False, **details
) -> Job:
    """Store an uploaded transcript and parse it in a Celery job (`interview_upload_job_run`), never in the request.

    Checked here, before anything is stored: the lead's role, the file's size and (a DOCX) its unpacked size
    and entries, the number and details, and whether the number's transcript may be replaced. The job checks
    it all again when it runs, parses the file and writes the interview in one transaction."""
    membership_require(project=project, user=user, roles=("lead",))
    check_upload(data, kind="interview", name=filename)  # size and DOCX bomb before anything else
    if number is None:
        number = _number_from_filename(filename)
    _number_check(number)
    _details(**details)  # an unreadable date or duration is a 400 now
    existing = Interview.objects.filter(project=project, number=number).first() if number is not None else None
    if existing is not None:
        _transcript_replace_check(existing, replace=replace)
    given = {key: str(value) for key, value in details.items() if value not in (None, "")}
    return job_upload_start(
        project=project,
        user=user,
        kind=Job.Kind.IMPORT_INTERVIEW,
        params={"number": number, "replace": bool(replace), "details": given},
        filename=filename,
        data=data,
        upload_kind=None,  # checked first of all, above
        task=tasks.import_transcript_task,
    )


def _interview_upload_work(job: Job, progress: Progress | None) -> tuple[dict, None]:
    params = job.params or {}
    with job_reading(job, progress, "Reading the transcript") as (data, user):
        interview = interview_create(
            project=job.project,
            user=user,
            filename=job.input_name,
            data=data,
            number=params.get("number"),
            replace=bool(params.get("replace")),
            **params.get("details", {}),
        )
    report = {
        "interview": interview.number,
        "file": job.input_name,
        "format": interview.transcript_format,
        "paragraphs": interview.paragraphs.count(),
        "speakers": len(interview.speakers),
        "characters": len(interview.text),
    }
    return report, None


def interview_upload_job_run(*, job_id: int, progress: Progress | None = None) -> str:
    return job_execute(job_id=job_id, work=_interview_upload_work, progress=progress)


def _store_transcript(interview: Interview, parsed: ParsedTranscript, filename: str) -> None:
    text, spans = parsed.joined()
    interview.text = text
    interview.transcript_filename = filename[:255]
    interview.transcript_format = parsed.format
    interview.speakers = parsed.speakers
    interview.metadata = {**interview.metadata, **parsed.metadata}
    if not interview.title and parsed.metadata.get("title"):
        interview.title = str(parsed.metadata["title"])[:300]
    for key in ("interviewee_profile", "interviewers"):
        if not getattr(interview, key) and parsed.metadata.get(key):
            setattr(interview, key, str(parsed.metadata[key]))
    if interview.date is None and parsed.metadata.get("date"):
        with contextlib.suppress(InvalidInput):
            interview.date = date_parse(parsed.metadata["date"])
    if interview.duration is None:
        if parsed.metadata.get("duration_seconds"):
            interview.duration = dt.timedelta(seconds=round(parsed.metadata["duration_seconds"]))
        elif parsed.metadata.get("duration"):
            with contextlib.suppress(InvalidInput):
                interview.duration = duration_parse(parsed.metadata["duration"])
    interview.save()
    Paragraph.objects.filter(interview=interview).delete()
    Paragraph.objects.bulk_create(
        [
            Paragraph(
                interview=interview,
                position=i,
                speaker=p.speaker[:200],
                start=start,
                end=end,
                start_time=p.start_time,
                speaker_note=p.speaker_note[:300],
            )
            for i, (p, (start, end)) in enumerate(zip(parsed.paragraphs, spans, strict=True))
        ]
    )


def interview_update(*, interview_id: int, user, **details) -> Interview:
    """Edit an interview's details (lead). Blank values clear the field."""
    with transaction.atomic():
        interview = _lock_interview(interview_id)
        membership_require(project=interview.project, user=user, roles=("lead",))
        for key, value in _details(**details, keep_blank=False).items():
            if key in details:
                setattr(interview, key, value)
        interview.save()
    return interview


def paragraph_speaker_set(*, paragraph_id: int, user, speaker: str) -> Paragraph:
    """Correct the speaker of one paragraph (lead); the uncertainty note goes."""
    with transaction.atomic():
        paragraph = Paragraph.objects.select_related("interview__project").filter(id=paragraph_id).first()
        if paragraph is None:
            raise NotFound("No such paragraph.")
        membership_require(project=paragraph.interview.project, user=user, roles=("lead",))
        speaker = (speaker or "").strip()
        if len(speaker) > 200:
            raise InvalidInput("A speaker name has at most 200 characters.", field="speaker")
        paragraph.speaker, paragraph.speaker_note = speaker, ""
        paragraph.save(update_fields=["speaker", "speaker_note"])
    return paragraph


def interview_delete(*, interview_id: int, user) -> None:
    """Delete an interview nobody has coded yet (lead)."""
    with transaction.atomic():
        interview = _lock_interview(interview_id)
        membership_require(project=interview.project, user=user, roles=("lead",))
        if interview.fragments.exists() or interview.pieces.exists():
            raise Conflict(f"{interview} has coding; it cannot be deleted.", field="interview")
        interview.coders.all().delete()
        interview.delete()


# --- coders --------------------------------------------------------------------------------


def _coder_ids_check(ids: dict[str, int]) -> None:
    """Three people chosen, with ids in range, the moderator no evaluator, two different evaluators."""
    for name, value in ids.items():
        if not value:
            raise InvalidInput("Choose a person.", field=name)
        if not _id_in_range(value):
            raise InvalidInput("No such person in this project.", field=name)
    if ids["moderator"] in (ids["evaluator1"], ids["evaluator2"]):
        raise InvalidInput("The moderator cannot also be an evaluator of this interview.", field="moderator")
    if ids["evaluator1"] == ids["evaluator2"]:
        raise InvalidInput("The two evaluators must be different people.", field="evaluator2")


def _coders_open_check(interview) -> None:
    if interview.is_imported:
        raise Conflict(f"{interview} was coded in an imported sheet; it has no coders to name.", field="interview")
    if not interview.has_transcript:
        raise Conflict(f"{interview} has no transcript yet; upload it first.", field="interview")
    if interview.pieces.exists():
        raise Conflict("Both evaluators are done; the coders of this interview are fixed.", field="interview")


def _coder_roles_check(project, ids: dict[str, int]) -> None:
    """The moderator moderates (or leads) the project and both evaluators evaluate in it, all active."""
    members = {
        m.user_id: m for m in Membership.objects.filter(project=project, is_active=True, user_id__in=list(ids.values()))
    }
    moderator = members.get(ids["moderator"])
    if moderator is None or not (moderator.is_moderator or moderator.is_lead):
        raise InvalidInput("The moderator must be an active moderator (or lead) of this project.", field="moderator")
    for name in ("evaluator1", "evaluator2"):
        m = members.get(ids[name])
        if m is None or not m.is_evaluator:
            raise InvalidInput("Choose an active evaluator of this project.", field=name)


def interview_coders_set(
    *, interview_id: int, user, moderator_id: int, evaluator1_id: int, evaluator2_id: int
) -> list[InterviewCoder]:
    """Name the moderator and the two evaluators of an interview (lead).

    The moderator cannot be an evaluator of the same interview, and the evaluators
    differ. An evaluator who already tagged fragments cannot be replaced, and the
    coders are fixed once both evaluators are done."""
    ids = {"moderator": moderator_id, "evaluator1": evaluator1_id, "evaluator2": evaluator2_id}
    _coder_ids_check(ids)
    with transaction.atomic():
        interview = _lock_interview(interview_id)
        project = interview.project
        membership_require(project=project, user=user, roles=("lead",))
        _coders_open_check(interview)
        _coder_roles_check(project, ids)
        wanted = {
            moderator_id: (InterviewCoder.Role.MODERATOR, None),
            evaluator1_id: (InterviewCoder.Role.EVALUATOR, 1),
            evaluator2_id: (InterviewCoder.Role.EVALUATOR, 2),
        }
        existing = list(InterviewCoder.objects.filter(interview=interview).annotate(n_fragments=Count("fragments")))
        keep = {c.user_id for c in existing if wanted.get(c.user_id) == (c.role, c.slot)}
        leaving = [c for c in existing if c.user_id not in keep]
        for coder in leaving:
            if coder.n_fragments:
                raise Conflict(
                    f"{coder.user} has tagged {coder.n_fragments} fragment(s) as evaluator {coder.slot}; "
                    "they cannot be replaced.",
                    field=f"evaluator{coder.slot}",
                )
        InterviewCoder.objects.filter(id__in=[c.id for c in leaving]).delete()
        for user_id, (role, slot) in wanted.items():
            if user_id not in keep:
                InterviewCoder.objects.create(
                    interview=interview, user_id=user_id, role=role, slot=slot, assigned_by=user
                )
        _stage_refresh(interview)
        return list(InterviewCoder.objects.filter(interview=interview).select_related("user"))


# --- fragments ------------------------------------------------------------------------------


def _evaluator_for_edit(interview: Interview, user) -> InterviewCoder:
    coder = (
        InterviewCoder.objects.select_for_update()
        .filter(interview=interview, user=user, role=InterviewCoder.Role.EVALUATOR)
        .first()
    )
    if coder is None:
        _membership(interview.project, user)  # non-members: 404
        raise NotAllowed("Only the two evaluators of this interview tag its fragments.")
    if coder.done_at is not None:
        raise Conflict("You marked this interview done; reopen it to change your fragments.", field="done")
    return coder


def _span(interview: Interview, start, end) -> tuple[int, int]:
    """A valid [start, end) in the transcript, trimmed of surrounding whitespace."""
    length = len(interview.text)
    for name, value in (("start", start), ("end", end)):
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidInput(f"{name} must be a whole number of characters.", field=name)
    if not length:
        raise Conflict(f"{interview} has no transcript to tag.", field="interview")
    if start < 0 or end > length or start >= end:
        raise InvalidInput(
            f"The fragment [{start}, {end}) is outside the transcript, which has characters 0 to {length}.",
            field="end" if 0 <= start < length else "start",
            code="outside_text",
        )
    text = interview.text
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if start >= end:
        raise InvalidInput("The selection holds only whitespace; select some words.", field="end")
    return start, end


def _check_same_tag_overlap(coder: InterviewCoder, start: int, end: int, normalised: str, exclude: int | None):
    clash = (
        Fragment.objects.filter(coder=coder, normalised=normalised, start__lt=end, end__gt=start)
        .exclude(id=exclude)
        .first()
    )
    if clash is not None:
        quote = clash.quote if len(clash.quote) <= 60 else clash.quote[:57] + "…"
        raise InvalidInput(
            f"This overlaps your fragment #{clash.id} (“{quote}”, characters {clash.start}–{clash.end}) "
            f"with the same tag “{clash.tag}”; change that fragment instead.",
            field="tag",
            code="overlap_same_tag",
        )


def fragment_create(*, interview_id: int, user, start: int, end: int, tag: str, note: str = "") -> Fragment:
    """Tag [start, end) of the transcript (an evaluator of the interview, before marking it done)."""
    name = label_validate(tag, field="tag")
    with transaction.atomic():
        interview = _lock_interview(interview_id)
        coder = _evaluator_for_edit(interview, user)
        start, end = _span(interview, start, end)
        normalised = normalise_label(name)
        _check_same_tag_overlap(coder, start, end, normalised, exclude=None)
        return Fragment.objects.create(
            interview=interview,
            coder=coder,
            start=start,
            end=end,
            quote=interview.text[start:end],
            tag=name,
            normalised=normalised,
            note=(note or "").strip(),
        )


def _own_fragment(fragment_id: int, user) -> tuple[Fragment, Interview, InterviewCoder]:
    row = Fragment.objects.filter(id=fragment_id).values_list("interview_id", flat=True).first()
    if row is None:
        raise NotFound("No such fragment.")
    interview = _lock_interview(row)
    fragment = Fragment.objects.select_related("coder").get(id=fragment_id)
    if fragment.coder.user_id != user.id:
        _membership(interview.project, user)
        raise NotAllowed("This fragment belongs to another evaluator.")
    coder = _evaluator_for_edit(interview, user)
    return fragment, interview, coder


def fragment_update(
    *, fragment_id: int, user, tag: str | None = None, note: str | None = None, start=None, end=None
) -> Fragment:
    """Change the tag, note or span of one's own fragment (before marking the interview done)."""
    name = label_validate(tag, field="tag") if tag is not None else None
    with transaction.atomic():
        fragment, interview, coder = _own_fragment(fragment_id, user)
        new_start, new_end = fragment.start, fragment.end
        if start is not None or end is not None:
            new_start, new_end = _span(
                interview, fragment.start if start is None else start, fragment.end if end is None else end
            )
        new_tag = name if name is not None else fragment.tag
        normalised = normalise_label(new_tag)
        _check_same_tag_overlap(coder, new_start, new_end, normalised, exclude=fragment.id)
        if (new_tag, new_start, new_end) != (fragment.tag, fragment.start, fragment.end):
            fragment.history = [
                *fragment.history,
                {"tag": fragment.tag, "start": fragment.start, "end": fragment.end, "at": _now().isoformat()},
            ]
        fragment.tag, fragment.normalised = new_tag, normalised
        fragment.start, fragment.end = new_start, new_end
        fragment.quote = interview.text[new_start:new_end]
        if note is not None:
            fragment.note = note.strip()
        fragment.save()
        return fragment


def fragment_delete(*, fragment_id: int, user) -> None:
    with transaction.atomic():
        fragment, _, _ = _own_fragment(fragment_id, user)
        fragment.delete()


# --- done, alignment ------------------------------------------------------------------------


def coding_done(*, interview_id: int, user) -> Interview:
    """An evaluator marks the interview done. When the second one does, the fragments of
    both are aligned into pieces for the moderator (exactly once, under the interview's lock)."""
    with transaction.atomic():
        interview = _lock_interview(interview_id)
        coder = _evaluator_for_edit(interview, user)
        coder.done_at = _now()
        coder.save(update_fields=["done_at"])
        evaluators = list(InterviewCoder.objects.filter(interview=interview, role=InterviewCoder.Role.EVALUATOR))
        if len(evaluators) == 2 and all(c.done_at for c in evaluators) and not interview.pieces.exists():
            _align(interview, evaluators)
        _stage_refresh(interview)
    return interview


def coding_reopen(*, interview_id: int, user) -> Interview:
    """Take back one's "done" while the other evaluator is not done yet (nothing was shown to anyone)."""
    with transaction.atomic():
        interview = _lock_interview(interview_id)
        coder = InterviewCoder.objects.filter(
            interview=interview, user=user, role=InterviewCoder.Role.EVALUATOR
        ).first()
        if coder is None:
            _membership(interview.project, user)
            raise NotAllowed("Only the evaluators of this interview mark it done or reopen it.")
        if interview.pieces.exists():
            raise Conflict("Both evaluators are done and moderation has begun; the coding is closed.", field="done")
        coder.done_at = None
        coder.save(update_fields=["done_at"])
        _stage_refresh(interview)
    return interview


def _tags_of(fragments) -> str:
    seen: dict[str, str] = {}
    for f in sorted(fragments, key=lambda f: (f.start, f.end)):
        seen.setdefault(f.normalised, f.tag)
    return "; ".join(seen.values())


def _align(interview: Interview, evaluators: list[InterviewCoder]) -> list[Piece]:
    by_slot = {c.slot: c for c in evaluators}
    fragments = list(Fragment.objects.filter(interview=interview).order_by("start", "end", "id"))
    first = [f for f in fragments if f.coder_id == by_slot[1].id]
    second = [f for f in fragments if f.coder_id == by_slot[2].id]
    groups = alignment.align(first, second)
    pieces = Piece.objects.bulk_create(
        [
            Piece(
                interview=interview,
                position=i + 1,
                kind=group.kind,
                evaluator1_tag=_tags_of(group.first),
                evaluator2_tag=_tags_of(group.second),
                start=group.start,
                end=group.end,
            )
            for i, group in enumerate(groups)
        ]
    )
    for piece, group in zip(pieces, groups, strict=True):
        for fragment in group.fragments:
            fragment.piece = piece
    Fragment.objects.bulk_update(fragments, ["piece"])
    return pieces


# --- moderation ----------------------------------------------------------------------------------


def _piece_for_moderation(piece_id: int, user) -> tuple[Piece, Interview]:
    interview_id = Piece.objects.filter(id=piece_id).values_list("interview_id", flat=True).first()
    if interview_id is None:
        raise NotFound("No such piece.")
    interview = _lock_interview(interview_id)
    membership = _membership(interview.project, user)
    is_moderator = InterviewCoder.objects.filter(
        interview=interview, user=user, role=InterviewCoder.Role.MODERATOR
    ).exists()
    if not (is_moderator or membership.is_lead):
        raise NotAllowed("Only the moderator of this interview (or a lead) decides its pieces.")
    piece = Piece.objects.select_related("final_tag").get(id=piece_id)
    return piece, interview


def _log(obj, **entry) -> None:
    obj.history = [*obj.history, {**entry, "at": _now().isoformat()}]


def piece_keep(
    *, piece_id: int, user, moderator_tag: str, final_tag: str | None = None, note: str | None = None
) -> Piece:
    """Keep a piece with a moderator tag; its final tag starts as the moderator tag (or `final_tag`)."""
    tag = label_validate(moderator_tag, field="moderator_tag")
    final_text = label_validate(final_tag, field="final_tag") if final_tag else None
    with transaction.atomic():
        piece, interview = _piece_for_moderation(piece_id, user)
        previous_tag = piece.moderator_tag
        if piece.decision != Piece.Decision.PENDING:
            _log(piece, decision=piece.decision, moderator_tag=previous_tag, by=user.username)
        piece.decision = Piece.Decision.KEPT
        piece.moderator_tag = tag
        if note is not None:
            piece.moderator_note = note.strip()
        piece.decided_by, piece.decided_at = user, _now()
        piece.save()
        existing = getattr(piece, "final_tag", None)
        if existing is None:
            FinalTag.objects.create(piece=piece, interview=interview, text=final_text or tag, edited_by=user)
        else:
            follows = normalise_label(existing.text) == normalise_label(previous_tag)
            new_text = final_text or (tag if follows else existing.text)
            if new_text != existing.text:
                _log(existing, text=existing.text, status=existing.status, by=user.username)
                existing.text, existing.edited_by = new_text, user
                existing.save()
        _stage_refresh(interview)
    return piece


def piece_discard(*, piece_id: int, user, note: str | None = None) -> Piece:
    """Do not keep a piece (the sheet's `-`); a final tag it had is withdrawn, with its text kept in history."""
    with transaction.atomic():
        piece, interview = _piece_for_moderation(piece_id, user)
        existing = getattr(piece, "final_tag", None)
        if piece.decision != Piece.Decision.PENDING or existing is not None:
            _log(
                piece,
                decision=piece.decision,
                moderator_tag=piece.moderator_tag,
                final_tag=existing.text if existing else None,
                final_status=existing.status if existing else None,
                by=user.username,
            )
        if existing is not None:
            existing.delete()
        piece.decision = Piece.Decision.NOT_KEPT
        if note is not None:
            piece.moderator_note = note.strip()
        piece.decided_by, piece.decided_at = user, _now()
        piece.save()
        _stage_refresh(interview)
    return piece


def _final_tag_locked(final_tag_id: int) -> tuple[FinalTag, Interview]:
    interview_id = FinalTag.objects.filter(id=final_tag_id).values_list("interview_id", flat=True).first()
    if interview_id is None:
        raise NotFound("No such final tag.")
    interview = _lock_interview(interview_id)
    return FinalTag.objects.select_related("piece").get(id=final_tag_id), interview


def _may_moderate(interview: Interview, user, membership: Membership) -> bool:
    return (
        membership.is_lead
        or membership.is_moderator
        or InterviewCoder.objects.filter(interview=interview, user=user, role=InterviewCoder.Role.MODERATOR).exists()
    )


def final_tag_edit(*, final_tag_id: int, user, text: str) -> FinalTag:
    """The moderator (of the interview or of the project) or a lead edits any final tag; history is kept."""
    new_text = label_validate(text, field="text")
    with transaction.atomic():
        final, interview = _final_tag_locked(final_tag_id)
        membership = _membership(interview.project, user)
        if not _may_moderate(interview, user, membership):
            raise NotAllowed("Editing final tags needs the moderator or lead role.")
        if new_text != final.text:
            _log(final, text=final.text, status=final.status, by=user.username)
            final.text, final.edited_by = new_text, user
            final.save()
    return final


def final_tag_review(*, final_tag_id: int, user, status: str) -> FinalTag:
    """The final review: mark a final tag accepted or removed (or back to awaiting review)."""
    if status not in FinalTag.Status.values:
        raise InvalidInput(
            f"Unknown status {status!r}; choose one of {', '.join(FinalTag.Status.values)}.", field="status"
        )
    with transaction.atomic():
        final, interview = _final_tag_locked(final_tag_id)
        membership = _membership(interview.project, user)
        if not _may_moderate(interview, user, membership):
            raise NotAllowed("The final review needs the moderator or lead role.")
        if final.status != status:
            if final.status != FinalTag.Status.PENDING:
                _log(final, text=final.text, status=final.status, by=user.username)
            final.status = status
            final.reviewed_by = user if status != FinalTag.Status.PENDING else None
            final.reviewed_at = _now() if status != FinalTag.Status.PENDING else None
            final.save()
        _stage_refresh(interview)
    return final


def final_tags_place(
    *, project: Project, final_tag_ids: list[int], user, leaf_id: int | None = None, node_id: int | None = None
) -> list[FinalTag]:
    """Place final tags in the taxonomy (lead or moderator): under an existing leaf, or as a new
    leaf (the first tag's text as its label) under an inner node. Neither clears the placement,
    so the tags join the leaf with their normalised text again, if there is one."""

    if leaf_id and node_id:
        raise InvalidInput("Choose an existing leaf or a category for a new leaf, not both.", field="leaf")
    if not final_tag_ids:
        raise InvalidInput("Choose at least one final tag.", field="ids")
    out_of_range = [i for i in final_tag_ids if not _id_in_range(i)]
    if out_of_range:
        raise InvalidInput(f"No such final tags in this project: {out_of_range[:20]}.", field="ids")
    for name, value in (("leaf", leaf_id), ("node", node_id)):
        if value and not _id_in_range(value):
            raise InvalidInput(
                f"No such {'leaf' if name == 'leaf' else 'category'} in this project's taxonomy.", field=name
            )
    with transaction.atomic():
        membership_require(project=project, user=user, roles=("lead", "moderator"))
        finals = list(
            FinalTag.objects.select_for_update().filter(id__in=final_tag_ids, interview__project=project).order_by("id")
        )
        missing = set(final_tag_ids) - {f.id for f in finals}
        if missing:
            raise InvalidInput(f"No such final tags in this project: {sorted(missing)}.", field="ids")
        if leaf_id:
            leaf = Leaf.objects.filter(id=leaf_id, node__project=project).first()
            if leaf is None:
                raise InvalidInput("No such leaf in this project's taxonomy.", field="leaf")
        elif node_id:
            node = Node.objects.filter(id=node_id, project=project).first()
            if node is None:
                raise InvalidInput("No such category in this project's taxonomy.", field="node")
            label = label_get_or_create(project=project, name=finals[0].text, user=user, field="text")
            leaf, _ = Leaf.objects.get_or_create(node=node, label=label)
        else:
            leaf = None
        FinalTag.objects.filter(id__in=[f.id for f in finals]).update(leaf=leaf, updated_at=_now())
        for final in finals:
            final.leaf = leaf
    return finals


# --- stage -----------------------------------------------------------------------------------------


def _stage_refresh(interview: Interview) -> str:
    """Recompute the interview's stage from its coders, pieces and final tags (two small queries)."""
    pieces = Piece.objects.filter(interview=interview).aggregate(
        total=Count("id"),
        pending=Count("id", filter=Q(decision=Piece.Decision.PENDING)),
        review=Count("id", filter=Q(final_tag__status=FinalTag.Status.PENDING)),
    )
    coders = InterviewCoder.objects.filter(interview=interview).aggregate(
        total=Count("id"),
        evaluators=Count("id", filter=Q(role=InterviewCoder.Role.EVALUATOR)),
        done=Count("id", filter=Q(role=InterviewCoder.Role.EVALUATOR, done_at__isnull=False)),
    )
    S = Interview.Stage
    both_done = coders["evaluators"] == 2 and coders["done"] == 2
    if pieces["total"] or both_done or interview.is_imported:
        stage = S.MODERATION if pieces["pending"] else S.REVIEW if pieces["review"] else S.DONE
    elif coders["total"] == 3:
        stage = S.CODING
    else:
        stage = S.NEW
    if interview.stage != stage:
        interview.stage = stage
        Interview.objects.filter(id=interview.id).update(stage=stage, updated_at=_now())
    return stage


# --- coding sheets -----------------------------------------------------------------------------------


def _imported_values(row) -> dict:
    """What one sheet row says about its piece and final tag."""
    final_text, final_history = row.tag, list(row.tag_history)
    decision, final_status = Piece.Decision.PENDING, None
    if row.status == "not_kept":
        decision = Piece.Decision.NOT_KEPT
    elif row.status in ("accepted", "removed") or final_text or row.moderator_tag:
        decision = Piece.Decision.KEPT
        final_text = final_text or row.moderator_tag
        final_status = {"accepted": FinalTag.Status.ACCEPTED, "removed": FinalTag.Status.REMOVED}.get(
            row.status, FinalTag.Status.PENDING
        )
    return {
        "kind": Piece.Kind.IMPORTED,
        "evaluator1_tag": row.evaluator1,
        "evaluator2_tag": row.evaluator2,
        "moderator_tag": row.moderator_tag,
        "decision": decision,
        "final_text": final_text if decision == Piece.Decision.KEPT else "",
        "final_status": final_status,
        "final_history": final_history if decision == Piece.Decision.KEPT else [],
        "moderator_history": list(row.moderator_history),
    }


def _piece_values(piece: Piece) -> dict:
    final = getattr(piece, "final_tag", None)
    return {
        "kind": piece.kind,
        "evaluator1_tag": piece.evaluator1_tag,
        "evaluator2_tag": piece.evaluator2_tag,
        "moderator_tag": piece.moderator_tag,
        "decision": piece.decision,
        "final_text": final.text if final else "",
        "final_status": final.status if final else None,
        "final_history": [h["text"] for h in final.history if "text" in h] if final else [],
        "moderator_history": [h["moderator_tag"] for h in piece.history if h.get("moderator_tag")],
    }


def _write_imported_piece(piece: Piece, values: dict, *, row_number: int) -> None:
    piece.kind = values["kind"]
    piece.evaluator1_tag = values["evaluator1_tag"]
    piece.evaluator2_tag = values["evaluator2_tag"]
    piece.moderator_tag = values["moderator_tag"]
    piece.decision = values["decision"]
    piece.source_row = row_number
    piece.history = [{"moderator_tag": t, "source": "import"} for t in values["moderator_history"]]
    piece.save()
    final = getattr(piece, "final_tag", None) if piece.pk else None
    if values["decision"] != Piece.Decision.KEPT:
        if final is not None:
            final.delete()
        return
    if final is None:
        final = FinalTag(piece=piece, interview_id=piece.interview_id)
    elif normalise_label(final.text) != normalise_label(values["final_text"]):
        final.leaf = None  # a placement made for another text no longer applies
    final.text = values["final_text"]
    final.status = values["final_status"]
    final.history = [{"text": t, "source": "import"} for t in values["final_history"]]
    final.save()


def _sheet_rows_check(sheet) -> None:
    """Rows with an over-long tag, or a final status but no tag, join the skipped rows."""
    for row in sheet.rows:
        for name in ("evaluator1", "evaluator2", "moderator_tag", "tag"):
            if len(getattr(row, name)) > MAX_IMPORTED_TAG:
                sheet.skipped.append(
                    {"row": row.number, "reason": f"{name} has more than {MAX_IMPORTED_TAG} characters"}
                )
                break
        else:
            if row.status in ("accepted", "removed") and not (row.tag or row.moderator_tag):
                sheet.skipped.append(
                    {"row": row.number, "reason": f"status {row.raw_status!r} but no final tag or moderator tag"}
                )


def _sheet_report(filename: str, sheet, interviews: int) -> dict:
    counters = ("interviews_created", "pieces_created", "pieces_updated", "pieces_unchanged", "pieces_deleted")
    counters += ("tagged_pieces", "final_tags", "accepted", "removed", "not_kept")
    return {
        "file": filename,
        "sheet": sheet.sheet_name,
        "columns": sheet.columns,
        "rows": len(sheet.rows),
        "interviews": interviews,
        **dict.fromkeys(counters, 0),
        "attached_to_transcripts": [],
        "skipped": [],
        "notes": list(sheet.notes),
    }


def _sheet_interview(*, project, number: int, rows, user, filename: str, sheet, report: dict):
    """The interview the sheet's rows of `number` go to (created when missing), or None when it is
    being coded in Concord (its coding rows are then skipped)."""
    interview = Interview.objects.select_for_update().filter(project=project, number=number).first()
    if interview is None:
        report["interviews_created"] += 1
        return Interview.objects.create(
            project=project,
            number=number,
            coding_source=Interview.Source.IMPORT,
            created_by=user,
            metadata={"imported_from": filename},
        )
    if interview.is_imported:
        return interview
    coded = (
        interview.coders.exists()
        or interview.fragments.exists()
        or interview.pieces.exclude(kind=Piece.Kind.IMPORTED).exists()
    )
    if coded:
        for row in rows:
            if row.has_coding:
                sheet.skipped.append({"row": row.number, "reason": f"interview {number} is being coded in Concord"})
        return None
    interview.coding_source = Interview.Source.IMPORT
    interview.metadata = {**interview.metadata, "imported_from": filename}
    interview.save(update_fields=["coding_source", "metadata", "updated_at"])
    if interview.has_transcript:
        report["attached_to_transcripts"].append(number)
    return interview


def _sheet_pieces_write(interview, coding_rows, report: dict) -> None:
    """The interview's imported pieces in the rows' order: unchanged, updated, created, stale ones deleted."""
    existing = list(Piece.objects.filter(interview=interview).select_related("final_tag").order_by("position"))
    for position, row in enumerate(coding_rows, start=1):
        values = _imported_values(row)
        piece = existing[position - 1] if position <= len(existing) else None
        if piece is not None and _piece_values(piece) == values:
            report["pieces_unchanged"] += 1
            continue
        if piece is None:
            piece = Piece(interview=interview, position=position)
            report["pieces_created"] += 1
        else:
            report["pieces_updated"] += 1
        _write_imported_piece(piece, values, row_number=row.number)
    stale = existing[len(coding_rows) :]
    if stale:
        Piece.objects.filter(id__in=[p.id for p in stale]).delete()
        report["pieces_deleted"] += len(stale)


def _sheet_decisions_count(coding_rows, report: dict) -> None:
    for row in coding_rows:
        values = _imported_values(row)
        report["tagged_pieces"] += 1
        if values["decision"] == Piece.Decision.KEPT:
            report["final_tags"] += 1
            report["accepted"] += values["final_status"] == FinalTag.Status.ACCEPTED
            report["removed"] += values["final_status"] == FinalTag.Status.REMOVED
        elif values["decision"] == Piece.Decision.NOT_KEPT:
            report["not_kept"] += 1


def coding_sheet_import(
    *, project: Project, user=None, filename: str, data: bytes, progress: Progress | None = None
) -> dict:
    """Import the study's coding sheet into `project` (lead): one tagged piece per non-empty row.

    Interviews are created as records without text when missing, and attach to uploaded
    transcripts when the numbers match. Importing the same sheet again changes nothing;
    an edited sheet updates the pieces of the interviews it lists, row by row. Rows that
    cannot be read are skipped and listed with their row number and reason; an unreadable
    or empty file, or one without an Interview Num column, changes nothing (InvalidInput).
    `user` is the lead importing in the browser or API; None is the operator (management command)."""
    check_upload(data, kind="interview_sheet", name=filename)
    audit_record(
        action="import.coding_sheet", project=project, target=filename, actor=user, details={"bytes": len(data)}
    )
    if user is not None:
        membership_require(project=project, user=user, roles=("lead",))
    sheet = sheets.read_sheet(filename, data)
    _sheet_rows_check(sheet)
    skipped_rows = {s["row"] for s in sheet.skipped}
    by_interview: dict[int, list] = {}
    for row in sheet.rows:
        if row.number not in skipped_rows:
            by_interview.setdefault(row.interview, []).append(row)

    report = _sheet_report(filename, sheet, len(by_interview))
    with transaction.atomic():
        Project.objects.select_for_update(no_key=True).filter(pk=project.pk).first()  # as interview_create
        for done, (number, rows) in enumerate(sorted(by_interview.items())):
            if progress:
                progress(done, len(by_interview), f"Interview {number}")
            interview = _sheet_interview(
                project=project, number=number, rows=rows, user=user, filename=filename, sheet=sheet, report=report
            )
            if interview is None:
                continue
            coding_rows = [r for r in rows if r.has_coding]
            _sheet_pieces_write(interview, coding_rows, report)
            _sheet_decisions_count(coding_rows, report)
            if len(coding_rows) < len(rows):
                report["notes"].append(f"interview {number}: {len(rows) - len(coding_rows)} row(s) without tags")
            _stage_refresh(interview)
    report["skipped"] = sorted(sheet.skipped, key=lambda s: s["row"])
    return report


def coding_sheet_import_start(*, project: Project, user, filename: str, data: bytes) -> Job:
    """Store an uploaded coding sheet and import it in a Celery job (`coding_sheet_import_job_run`).

    Checked here, before anything is stored: the lead's role, the file's size and (an XLSX) its unpacked
    size and entries, (a CSV) its columns and cells. The job reads the sheet and writes it in one transaction."""
    return job_upload_start(
        project=project,
        user=user,
        kind=Job.Kind.IMPORT_INTERVIEW_SHEET,
        filename=filename,
        data=data,
        upload_kind="interview_sheet",
        task=tasks.import_coding_sheet_task,
    )


def _coding_sheet_work(job: Job, progress: Progress | None) -> tuple[dict, None]:
    with job_reading(job) as (data, user):
        report = coding_sheet_import(
            project=job.project, user=user, filename=job.input_name, data=data, progress=progress
        )
    return report, None


def coding_sheet_import_job_run(*, job_id: int, progress: Progress | None = None) -> str:
    return job_execute(job_id=job_id, work=_coding_sheet_work, progress=progress)
