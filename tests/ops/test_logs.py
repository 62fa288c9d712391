"""A message's recent log lines: filtered by its id, the newest kept, failures said in a note."""

from __future__ import annotations

from botocore.exceptions import ClientError

from watchbot_cfn.ops.logs import MAX_LINE, recent_lines

SENT_MS = 1_700_000_000_000


class FakeLogs:
    def __init__(self, pages: list[list[str]] | None = None, error: str | None = None) -> None:
        self.pages = pages or []
        self.error = error
        self.requests: list[dict] = []

    def filter_log_events(self, **request) -> dict:
        self.requests.append(request)
        if self.error:
            raise ClientError({"Error": {"Code": self.error, "Message": "no"}}, "FilterLogEvents")
        index = int(request.get("nextToken", "0"))
        answer: dict = {"events": [{"message": line + "\n"} for line in self.pages[index]]}
        if index + 1 < len(self.pages):
            answer["nextToken"] = str(index + 1)
        return answer


def test_the_newest_lines_are_kept_across_pages():
    logs = FakeLogs([[f"line {n}" for n in range(0, 30)], [f"line {n}" for n in range(30, 60)]])
    found = recent_lines(logs, "group", "abc-123", SENT_MS, limit=50, clock=lambda: SENT_MS / 1000 + 60)
    assert found.lines == [f"line {n}" for n in range(10, 60)]
    assert found.note == ""
    first = logs.requests[0]
    assert first["filterPattern"] == '"abc-123"', "quoted: a message id's dashes are not operators"
    assert first["logGroupName"] == "group"
    assert first["startTime"] == SENT_MS - 60_000


def test_long_lines_are_cut():
    found = recent_lines(FakeLogs([["x" * (MAX_LINE + 10)]]), "group", "id", SENT_MS)
    assert found.lines == ["x" * MAX_LINE + " [...]"]


def test_a_missing_log_group_is_a_note_not_an_error():
    found = recent_lines(FakeLogs(error="ResourceNotFoundException"), "gone", "id", SENT_MS)
    assert (found.lines, found.note) == ([], "log group gone not found")


def test_without_a_send_time_the_search_goes_back_fourteen_days():
    logs = FakeLogs([[]])
    recent_lines(logs, "group", "id", None, clock=lambda: 2_000_000_000)
    assert logs.requests[0]["startTime"] == 2_000_000_000_000 - 14 * 24 * 3600 * 1000
