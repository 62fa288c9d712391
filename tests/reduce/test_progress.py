"""The progress client: the original's item layout, and exactly one completer per job."""

from __future__ import annotations

import pytest

from watchbot_cfn.runtime.progress import Progress, ProgressError, parse_table, progress_of


@pytest.fixture
def progress(arn) -> Progress:
    return Progress(arn)


@pytest.fixture
def raw(dynamodb, table_name):
    """The item of a job as DynamoDB stores it."""
    return lambda job: dynamodb.get_item(TableName=table_name, Key={"id": {"S": job}}).get("Item", {})


# --- the table's address -------------------------------------------------------------

def test_an_arn_gives_the_table_name_and_its_region():
    table = parse_table("arn:aws:dynamodb:eu-west-1:123456789012:table/my-stack-Watchbot-progress")
    assert (table.name, table.region) == ("my-stack-Watchbot-progress", "eu-west-1")


def test_a_plain_table_name_is_accepted_without_a_region():
    table = parse_table("my-stack-Watchbot-progress")
    assert (table.name, table.region) == ("my-stack-Watchbot-progress", None)


@pytest.mark.parametrize("value", ["arn:aws:sqs:us-east-1:123456789012:queue", "no spaces allowed", "ab"])
def test_anything_else_is_refused_naming_the_variable(value):
    with pytest.raises(ProgressError, match=r"ProgressTable must be a DynamoDB table ARN .* got"):
        parse_table(value)


def test_without_a_table_the_error_names_the_variable(monkeypatch, mocked_aws):
    monkeypatch.delenv("ProgressTable", raising=False)
    with pytest.raises(ProgressError, match="set ProgressTable"):
        Progress()


def test_the_table_comes_from_the_environment_by_default(monkeypatch, arn, dynamodb, raw):
    monkeypatch.setenv("ProgressTable", arn)
    Progress().set_total("from-env", 2)
    assert raw("from-env")["total"] == {"N": "2"}


# --- layout: what the original client writes and reads ---------------------------------

def test_set_total_writes_the_number_set_and_the_total(progress, dynamodb, raw):
    progress.set_total("job", 4)
    item = raw("job")
    assert sorted(item["parts"]["NS"], key=int) == ["1", "2", "3", "4"]
    assert item["total"] == {"N": "4"}


def test_other_writes_use_the_original_attribute_names_and_types(progress, dynamodb, raw):
    progress.set_total("job", 2)
    progress.set_metadata("job", {"name": "tiles", "zooms": [1, 2.5, None, True], "nested": {"k": ""}})
    progress.fail_job("job", "the source vanished")
    progress.reduce_sent("job")
    item = raw("job")
    assert item["metadata"] == {"M": {
        "name": {"S": "tiles"},
        "zooms": {"L": [{"N": "1"}, {"N": "2.5"}, {"NULL": True}, {"BOOL": True}]},
        "nested": {"M": {"k": {"S": ""}}},
    }}
    assert item["error"] == {"S": "the source vanished"}
    assert item["reduceSent"] == {"BOOL": True}


def test_an_item_written_by_the_original_client_reads_as_it_would_there(progress, dynamodb, table_name):
    # given an item as @mapbox/watchbot-progress leaves it: 4 parts, parts 2 and 4 done, failed, reduce sent
    dynamodb.put_item(TableName=table_name, Item={
        "id": {"S": "js-job"},
        "parts": {"NS": ["1", "3"]},
        "total": {"N": "4"},
        "metadata": {"M": {"a": {"L": [{"N": "1"}, {"M": {"b": {"NULL": True}}}]}, "f": {"N": "1.5"}}},
        "error": {"S": "it broke"},
        "reduceSent": {"BOOL": True},
    })
    # then status answers what the original's status answers
    assert progress.status("js-job", 2) == {
        "progress": 0.5, "failed": "it broke", "metadata": {"a": [1, {"b": None}], "f": 1.5},
        "partComplete": True, "reduceSent": True}
    assert progress.status("js-job", 3)["partComplete"] is False
    # and its remaining parts complete here, the last one finishing the job
    assert [progress.complete_part("js-job", n) for n in (1, 1, 3)] == [False, False, True]


def test_a_finished_item_of_the_original_has_no_parts_and_reads_as_done(progress, dynamodb, table_name):
    dynamodb.put_item(TableName=table_name, Item={"id": {"S": "done"}, "total": {"N": "3"}})
    assert progress.status("done", 3) == {"progress": 1, "partComplete": True}


def test_an_unknown_job_reads_as_not_started(progress):
    assert progress.status("nobody") == {"progress": 0}


@pytest.mark.parametrize(("total", "remaining", "expected"), [
    (3, 2, 0.33), (3, 1, 0.66), (100, 71, 0.29), (4, 0, 1), (1000, 1, 0.99), (5, 5, 0), (None, 0, 0)])
def test_progress_rounds_down_to_hundredths(total, remaining, expected):
    assert progress_of(total, remaining) == expected


# --- completing parts -------------------------------------------------------------------

def test_only_the_completion_of_the_last_part_learns_done(progress):
    progress.set_total("job", 3)
    answers = [progress.complete_part("job", n) for n in (2, 1, 3)]
    assert answers == [False, False, True]
    assert progress.status("job") == {"progress": 1}


def test_completing_a_part_twice_never_finishes_a_job_twice(progress):
    progress.set_total("job", 2)
    assert progress.complete_part("job", 1) is False
    assert progress.complete_part("job", 1) is False  # a duplicate before the end
    assert progress.complete_part("job", 2) is True
    assert progress.complete_part("job", 2) is False  # a duplicate of the finishing part
    assert progress.complete_part("job", 1) is False


def test_a_retry_with_the_same_token_learns_done_again_until_reduce_is_sent(progress):
    progress.set_total("job", 2)
    progress.complete_part("job", 1, token="message-1")
    assert progress.complete_part("job", 2, token="message-2") is True
    # the worker crashed before sending the reduce message; its message comes back
    assert progress.complete_part("job", 2, token="message-2") is True
    assert progress.complete_part("job", 2, token="another-copy") is False
    assert progress.complete_part("job", 1, token="message-1") is False  # part 1 did not finish the job
    progress.reduce_sent("job")
    assert progress.complete_part("job", 2, token="message-2") is False


def test_parts_cannot_complete_before_the_total_is_set(progress, dynamodb, raw):
    with pytest.raises(ProgressError, match="has no total: run set-total"):
        progress.complete_part("early", 1)
    assert raw("early") == {}, "a refused completion writes nothing"


def test_a_part_outside_the_job_is_refused(progress):
    progress.set_total("job", 3)
    with pytest.raises(ProgressError, match="part 4 is outside job 'job', which has parts 1 to 3"):
        progress.complete_part("job", 4)


@pytest.mark.parametrize("part", [0, -1, True, 1.5])
def test_part_numbers_start_at_one(progress, part):
    with pytest.raises(ProgressError, match="part must be a whole number, 1 or more"):
        progress.complete_part("job", part)


# --- set-total ---------------------------------------------------------------------------

def test_setting_the_same_total_again_keeps_completed_parts(progress):
    progress.set_total("job", 3)
    progress.complete_part("job", 1)
    progress.set_total("job", 3)  # the start message was delivered twice
    assert progress.status("job", 1)["partComplete"] is True
    assert progress.status("job")["progress"] == 0.33


def test_a_different_total_is_refused(progress):
    progress.set_total("job", 3)
    with pytest.raises(ProgressError, match="already has a total of 3 parts; refusing to change it to 5"):
        progress.set_total("job", 5)


def test_metadata_and_failure_before_the_total_leave_room_for_it(progress):
    progress.set_metadata("job", {"owner": "tiles"})
    progress.set_total("job", 2)
    assert progress.status("job") == {"progress": 0, "metadata": {"owner": "tiles"}}


@pytest.mark.parametrize("total", [0, -3, "5", 2.0])
def test_a_total_must_be_a_positive_whole_number(progress, total):
    with pytest.raises(ProgressError, match="total must be a whole number of parts"):
        progress.set_total("job", total)


def test_fail_job_needs_a_reason(progress):
    with pytest.raises(ProgressError, match="reason must be a non-empty text"):
        progress.fail_job("job", " ")


def test_a_missing_table_is_one_readable_error(dynamodb):
    progress = Progress("arn:aws:dynamodb:us-east-1:123456789012:table/not-there")
    with pytest.raises(ProgressError, match="progress table not found"):
        progress.status("job")


def test_a_job_too_large_for_one_item_says_so(progress):
    with pytest.raises(ProgressError, match=r"job 'huge' does not fit one DynamoDB item \(400 KB\)"):
        progress.set_total("huge", 200_000)
    assert progress.status("huge") == {"progress": 0}
