"""Reduce mode's progress records: one DynamoDB item per multi-part job.

The item layout is the one ``@mapbox/watchbot-progress`` writes, so JavaScript
and Python workers can share a table while a system moves over:

=============  ==========  ===================================================
attribute      type        meaning
=============  ==========  ===================================================
``id``         S           the job id (the table's key)
``parts``      NS          parts still to do; set-total writes 1..total and
                           each completion removes one. DynamoDB drops an
                           empty set, so a finished job has no ``parts``
``total``      N           how many parts the job has
``metadata``   M (any)     whatever JSON the job stored with set-metadata
``error``      S           why the job failed (fail-job)
``reduceSent`` BOOL        the reduce message has been sent
=============  ==========  ===================================================

Completing a part is one conditional update: it removes the part only if the
set still holds it, so of all completions of a job exactly one empties the set
and learns that the job is done, however many run at once and however often
a part is completed again (messages are delivered at least once). This client
also writes ``lastCompletion`` (a token of the latest successful completion) so
that a caller who retries with the same token (after a lost response or a
crash before the reduce message went out) learns "done" again until
``reduceSent`` is recorded; the JavaScript client ignores the attribute.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import boto3
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.config import Config
from botocore.exceptions import ClientError

from watchbot_cfn import contract

__all__ = [
    "Progress",
    "ProgressError",
    "TableRef",
    "parse_table",
    "progress_of",
    "to_dynamodb",
    "from_dynamodb",
]

#: The original client's variable for a local DynamoDB endpoint; AWS_ENDPOINT_URL works too.
ENV_DYNAMODB_ENDPOINT = "DynamoDbEndpoint"

PARTS = "parts"
TOTAL = "total"
METADATA = "metadata"
ERROR = "error"
REDUCE_SENT = "reduceSent"
LAST_COMPLETION = "lastCompletion"

_TABLE_ARN = re.compile(r"^arn:aws[a-z-]*:dynamodb:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):table/(?P<name>[^/]+)$")
_TABLE_NAME = re.compile(r"^[A-Za-z0-9_.-]{3,255}$")


class ProgressError(ValueError):
    """A request the table's state or the arguments do not allow; the message says which."""


class TableRef:
    """A progress table given as an ARN (as ``$ProgressTable`` holds it) or a plain name."""

    def __init__(self, name: str, region: str | None = None) -> None:
        self.name = name
        self.region = region

    def __repr__(self) -> str:
        return f"TableRef({self.name!r}, region={self.region!r})"


def parse_table(value: str) -> TableRef:
    """``arn:aws:dynamodb:<region>:<account>:table/<name>`` or ``<name>``."""
    text = value.strip()
    match = _TABLE_ARN.match(text)
    if match:
        return TableRef(match["name"], match["region"])
    if _TABLE_NAME.match(text):
        return TableRef(text)
    raise ProgressError(
        f"{contract.ENV_PROGRESS_TABLE} must be a DynamoDB table ARN (arn:aws:dynamodb:REGION:ACCOUNT:table/NAME) "
        f"or a table name, got {value!r}")


# --- values -----------------------------------------------------------------------

_SERIALIZER = TypeSerializer()
_DESERIALIZER = TypeDeserializer()


def _decimals(value: Any) -> Any:
    """DynamoDB numbers are decimals; JSON floats become Decimal through their text, exactly."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, Mapping):
        return {str(key): _decimals(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_decimals(item) for item in value]
    return value


def _plain(value: Any) -> Any:
    """Decimal back to int or float, sets to sorted lists: what JSON can carry."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if isinstance(value, (set, frozenset)):
        return sorted(_plain(item) for item in value)
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("utf-8", "replace")
    return value


def to_dynamodb(value: Any) -> dict[str, Any]:
    """A JSON value as a DynamoDB attribute value: objects become maps, arrays lists (as dyno wrote them)."""
    return _SERIALIZER.serialize(_decimals(value))


def from_dynamodb(attribute: Mapping[str, Any]) -> Any:
    value = _DESERIALIZER.deserialize(dict(attribute))
    binary = getattr(value, "value", None)  # boto3's Binary wrapper
    return _plain(binary if isinstance(binary, bytes) else value)


def _parts_of(item: Mapping[str, Any]) -> set[int]:
    attribute = item.get(PARTS)
    if not attribute or "NS" not in attribute:
        return set()
    return {int(Decimal(number)) for number in attribute["NS"]}


def _number(item: Mapping[str, Any], name: str) -> int | None:
    attribute = item.get(name)
    if not attribute or "N" not in attribute:
        return None
    return int(Decimal(attribute["N"]))


def progress_of(total: int | None, remaining: int) -> float:
    """Share of parts done, rounded down to hundredths so a job reads 1 only when every part is done."""
    if not total or total <= 0:
        return 0
    done = max(total - remaining, 0)
    hundredths = done * 100 // total
    return 1 if hundredths >= 100 else hundredths / 100


# --- the client -------------------------------------------------------------------

class Progress:
    """Reads and updates progress records in one table.

    ``table`` is an ARN or a name (default: ``$ProgressTable``). The region
    comes from the ARN, else from the standard AWS configuration. Pass
    ``client`` to reuse a boto3 DynamoDB client.
    """

    def __init__(self, table: str | None = None, client: Any = None, region: str | None = None,
                 endpoint_url: str | None = None, profile: str | None = None) -> None:
        raw = table if table is not None else os.environ.get(contract.ENV_PROGRESS_TABLE, "")
        if not raw.strip():
            raise ProgressError(f"no progress table: set {contract.ENV_PROGRESS_TABLE} to the table's ARN "
                                "(reduce mode sets it in the container)")
        self.table = parse_table(raw)
        self.client = (client if client is not None
                       else make_client(region or self.table.region, endpoint_url=endpoint_url, profile=profile))

    # -- writes
    def set_total(self, job_id: str, total: int) -> None:
        """Record the number of parts (1..total still to do).

        Idempotent for a repeated start message: setting the same total again
        changes nothing (it never brings back completed parts); a different
        total for a job that has one is refused.
        """
        _check_job(job_id)
        if isinstance(total, bool) or not isinstance(total, int) or total < 1:
            raise ProgressError(f"total must be a whole number of parts, 1 or more, got {total!r}")
        try:
            self._update(job_id, f"SET #{PARTS} = :parts, #{TOTAL} = :total", {
                ":parts": {"NS": [str(number) for number in range(1, total + 1)]},
                ":total": {"N": str(total)},
            }, condition=f"attribute_not_exists(#{TOTAL})", names=(PARTS, TOTAL))
        except ClientError as error:
            if _code(error) == "ConditionalCheckFailedException":
                existing = _number(_old_item(error) or self._get(job_id) or {}, TOTAL)
                if existing == total:
                    return
                raise ProgressError(f"job {job_id!r} already has a total of {existing} parts; "
                                    f"refusing to change it to {total} (use a new job id)") from None
            raise _explain(error, job_id) from error

    def complete_part(self, job_id: str, part: int, token: str | None = None) -> bool:
        """Mark ``part`` (1-based) done; True for exactly one caller: the one that finished the job.

        Completing a part that is already done returns False. A caller that
        repeats a completion with the same ``token`` (for example the SQS
        message id, after its first attempt crashed before the reduce step was
        sent) gets True again as long as its first attempt finished the job and
        reduce-sent has not been recorded.
        """
        _check_job(job_id)
        if isinstance(part, bool) or not isinstance(part, int) or part < 1:
            raise ProgressError(f"part must be a whole number, 1 or more, got {part!r}")
        token = token or uuid.uuid4().hex
        try:
            answer = self._update(
                job_id, f"DELETE #{PARTS} :part SET #{LAST_COMPLETION} = :token",
                {":part": {"NS": [str(part)]}, ":number": {"N": str(part)}, ":token": {"S": token}},
                condition=f"contains(#{PARTS}, :number)", names=(PARTS, LAST_COMPLETION), returns="ALL_NEW")
        except ClientError as error:
            if _code(error) != "ConditionalCheckFailedException":
                raise _explain(error, job_id) from error
            old = _old_item(error)
            if old is None:
                old = self._get(job_id)
            return self._repeated_completion(job_id, part, token, old)
        return not _parts_of(answer.get("Attributes", {}))

    def _repeated_completion(self, job_id: str, part: int, token: str, item: Mapping[str, Any] | None) -> bool:
        total = _number(item or {}, TOTAL)
        if item is None or total is None:
            raise ProgressError(f"job {job_id!r} has no total: run set-total before completing parts")
        if part > total:
            raise ProgressError(f"part {part} is outside job {job_id!r}, which has parts 1 to {total}")
        finished_by_this_token = item.get(LAST_COMPLETION, {}).get("S") == token
        reduce_sent = item.get(REDUCE_SENT, {}).get("BOOL") is True
        return finished_by_this_token and not _parts_of(item) and not reduce_sent

    def fail_job(self, job_id: str, reason: str) -> None:
        _check_job(job_id)
        if not isinstance(reason, str) or not reason.strip():
            raise ProgressError("reason must be a non-empty text saying why the job failed")
        self._set(job_id, ERROR, {"S": reason})

    def set_metadata(self, job_id: str, metadata: Any) -> None:
        _check_job(job_id)
        self._set(job_id, METADATA, to_dynamodb(metadata))

    def reduce_sent(self, job_id: str) -> None:
        _check_job(job_id)
        self._set(job_id, REDUCE_SENT, {"BOOL": True})

    # -- reads
    def status(self, job_id: str, part: int | None = None) -> dict[str, Any]:
        """The original's status object: ``progress`` and, when known, ``failed``, ``metadata``,
        ``partComplete`` (with ``part``) and ``reduceSent``."""
        _check_job(job_id)
        item = self._get(job_id)
        if item is None:
            return {"progress": 0}
        remaining = _parts_of(item)
        answer: dict[str, Any] = {"progress": progress_of(_number(item, TOTAL), len(remaining))}
        error = item.get(ERROR)
        if error and error.get("S"):
            answer["failed"] = error["S"]
        if METADATA in item:
            metadata = from_dynamodb(item[METADATA])
            if metadata not in (None, "", 0, False):  # the original leaves out falsy metadata
                answer["metadata"] = metadata
        if part is not None:
            answer["partComplete"] = part not in remaining
        if REDUCE_SENT in item:
            answer["reduceSent"] = from_dynamodb(item[REDUCE_SENT])
        return answer

    def total(self, job_id: str) -> int | None:
        item = self._get(job_id)
        return None if item is None else _number(item, TOTAL)

    # -- plumbing
    def _get(self, job_id: str) -> dict[str, Any] | None:
        try:
            answer = self.client.get_item(TableName=self.table.name, Key={"id": {"S": job_id}}, ConsistentRead=True)
        except ClientError as error:
            raise _explain(error, job_id) from error
        return answer.get("Item")

    def _set(self, job_id: str, name: str, value: dict[str, Any]) -> None:
        try:
            self._update(job_id, f"SET #{name} = :value", {":value": value}, names=(name,))
        except ClientError as error:
            raise _explain(error, job_id) from error

    def _update(self, job_id: str, expression: str, values: dict[str, Any], *, names: tuple[str, ...],
                condition: str | None = None, returns: str = "NONE") -> dict[str, Any]:
        request: dict[str, Any] = {
            "TableName": self.table.name,
            "Key": {"id": {"S": job_id}},
            "UpdateExpression": expression,
            "ExpressionAttributeNames": {f"#{name}": name for name in names},
            "ExpressionAttributeValues": values,
            "ReturnValues": returns,
        }
        if condition:
            request["ConditionExpression"] = condition
            # One round trip: a refused completion brings the item it was refused on.
            request["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
        return self.client.update_item(**request)


#: Region assumed for a loopback endpoint when none is configured (what ``watchbot-cfn local`` uses).
LOCAL_REGION = "us-east-1"


def make_client(region: str | None, endpoint_url: str | None = None, profile: str | None = None) -> Any:
    """A DynamoDB client that retries throttling patiently (progress traffic comes in bursts).

    Settings are read as AWS's own CLI reads them: ``region`` (the command line's, or the table ARN's), else
    ``AWS_REGION``, else ``AWS_DEFAULT_REGION``, else the profile's; ``endpoint_url``, else ``DynamoDbEndpoint``
    (the original client's variable), else ``AWS_ENDPOINT_URL``; ``profile``, else ``AWS_PROFILE``. A loopback
    endpoint needs no region or credentials.
    """
    config = Config(retries={"mode": "standard", "max_attempts": 8}, connect_timeout=5, read_timeout=20)
    endpoint = (endpoint_url or os.environ.get(ENV_DYNAMODB_ENDPOINT) or os.environ.get("AWS_ENDPOINT_URL")
                or None)
    session = boto3.session.Session(profile_name=profile or None,
                                    region_name=region or os.environ.get("AWS_REGION") or None)
    resolved = session.region_name
    if endpoint and _loopback(endpoint):
        resolved = resolved or LOCAL_REGION
        if session.get_credentials() is None:
            session = boto3.session.Session(region_name=resolved, aws_access_key_id="local",
                                            aws_secret_access_key="local")
    return session.client("dynamodb", region_name=resolved, endpoint_url=endpoint, config=config)


def _loopback(url: str) -> bool:
    from urllib.parse import urlparse

    host = (urlparse(url).hostname or "").lower()
    return host in ("localhost", "::1") or host.startswith("127.")


def _check_job(job_id: str) -> None:
    if not isinstance(job_id, str) or not job_id:
        raise ProgressError(f"job id must be a non-empty text, got {job_id!r}")
    if len(job_id.encode("utf-8")) > 2048:
        raise ProgressError("job id must be at most 2048 bytes (the DynamoDB key limit)")


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _old_item(error: ClientError) -> dict[str, Any] | None:
    item = error.response.get("Item")
    return item if isinstance(item, dict) and item else None


def _explain(error: ClientError, job_id: str) -> Exception:
    """DynamoDB's answers that a worker can act on, as one readable line; the rest as they are."""
    code = _code(error)
    message = str(error.response.get("Error", {}).get("Message", ""))
    if code == "ResourceNotFoundException":
        return ProgressError(f"progress table not found: {message or code}")
    if code == "ValidationException" and "size" in message.lower():
        return ProgressError(f"job {job_id!r} does not fit one DynamoDB item (400 KB): {message}; "
                             "use fewer parts or smaller metadata")
    return error
