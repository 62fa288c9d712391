"""Word count over many documents: a worker for a reduce-mode Watchbot system.

One command handles all three kinds of message (see docs/reduce-mode.md):

- a start message, published by you to the work topic::

      aws sns publish --topic-arn "$WORK_TOPIC" --subject start \\
          --message '{"job": "books-2024", "documents": ["the text of one", "the text of another"]}'

  becomes one part per document (the job id is the message's ``job``, or its
  message id when there is none);
- each part counts the words of one document and stores the counts in the
  bucket named by ``$RESULTS_BUCKET``, at ``<job>/part-<n>.json``;
- the reduce message, sent once by the worker that completes the last part,
  adds the parts up into ``<job>/result.json``.

Documents are plain text inside the message to keep the example short; real
ones would be locations to fetch.
"""

from __future__ import annotations

import collections
import json
import os

import boto3

from watchbot_cfn.runtime import mapreduce

BUCKET = os.environ.get("RESULTS_BUCKET", "")
s3 = boto3.client("s3")


def split(message: mapreduce.Incoming) -> mapreduce.Plan:
    try:
        request = json.loads(message.body)
        documents = list(request["documents"])
    except (ValueError, KeyError, TypeError):
        # Retrying cannot fix a malformed request: reject it (exit 3).
        raise mapreduce.PartFailed("a start message is a JSON object with a list of documents") from None
    return mapreduce.Plan(job_id=request.get("job") or message.message_id or "", parts=documents,
                          metadata={"documents": len(documents)})


def count_words(part: mapreduce.Part) -> None:
    if not isinstance(part.data, str):
        # Retrying cannot fix this document either: fail the whole job with the reason.
        raise mapreduce.PartFailed(f"document {part.number} is not text")
    counts = collections.Counter(part.data.lower().split())
    # Any other error (S3 unavailable, say) is raised as it is, and the watcher retries the part.
    s3.put_object(Bucket=BUCKET, Key=f"{part.job_id}/part-{part.number}.json", Body=json.dumps(counts).encode())


def add_up(job: mapreduce.Job) -> None:
    totals: collections.Counter[str] = collections.Counter()
    for number in range(1, job.total + 1):
        stored = s3.get_object(Bucket=BUCKET, Key=f"{job.job_id}/part-{number}.json")["Body"].read()
        totals.update(json.loads(stored))
    result = json.dumps(dict(totals.most_common())).encode()
    s3.put_object(Bucket=BUCKET, Key=f"{job.job_id}/result.json", Body=result)
    print(f"job {job.job_id}: {sum(totals.values())} words in {job.total} documents")


if __name__ == "__main__":
    mapreduce.run(split=split, map=count_words, reduce=add_up)
