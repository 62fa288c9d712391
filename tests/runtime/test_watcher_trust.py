"""What the watcher trusts in a message, and what it does not (docs/security.md, "What the watcher trusts").

A message body is data: it reaches the worker through the environment and a file, never through the command
line; its id cannot place a file outside the watcher's directory; and an SNS envelope is recognised by its
shape, not by a signature, so who may put messages on the queue is the queue policy's and IAM's business.
"""

from __future__ import annotations

import json
import os

from tests.runtime.helpers import CapturingLogger
from watchbot_cfn.runtime.children import DirectChildren
from watchbot_cfn.runtime.job import Job
from watchbot_cfn.runtime.message import Message, MessageFiles, worker_environment

HOSTILE = "$(touch pwned-subst); `touch pwned-tick`; touch pwned-semicolon && echo ${HOME} | tee pwned-pipe"


def entry(body: str, message_id: str = "m-1") -> dict:
    return {"MessageId": message_id, "ReceiptHandle": "rh", "Body": body,
            "Attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1700000000000"}}


def test_a_body_full_of_shell_syntax_reaches_the_worker_as_data_and_runs_nothing(tmp_path):
    message = Message.from_sqs(entry(HOSTILE))
    paths = MessageFiles(str(tmp_path / "messages")).write(message)
    env, left_out = worker_environment(message, {"PATH": os.environ["PATH"]}, paths)
    assert left_out == []
    command = f'cd {tmp_path} && printf "%s" "$Message" > from-env && cat "$MessageFile" > from-file'
    result = Job(command, env, message.message_id, CapturingLogger(), DirectChildren()).run()
    assert result.exit_code == 0
    assert (tmp_path / "from-env").read_text() == HOSTILE
    assert (tmp_path / "from-file").read_text() == HOSTILE
    assert not list(tmp_path.glob("pwned*"))


def test_a_message_id_cannot_place_its_file_outside_the_watchers_directory(tmp_path):
    files = MessageFiles(str(tmp_path / "messages"))
    paths = files.write(Message.from_sqs(entry("x", message_id="../../etc/passwd")))
    assert os.path.dirname(paths.body) == files.directory
    assert os.path.basename(paths.body).startswith(".._.._etc_passwd-")


def test_an_envelope_is_recognised_by_its_shape_so_the_queue_policy_decides_who_may_send_one():
    # a producer allowed to send to the queue directly can send an envelope of its own making: it is unwrapped
    # like one from the topic (no signature check), which is why the queue policy admits the topic alone
    forged = json.dumps({"Type": "Notification", "Message": "from elsewhere", "Subject": "s",
                         "TopicArn": "arn:aws:sns:us-east-1:999999999999:not-ours"})
    message = Message.from_sqs(entry(forged))
    assert (message.body, message.subject) == ("from elsewhere", "s")
