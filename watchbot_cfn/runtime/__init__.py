"""The watcher that runs inside users' containers: ``watchbot listen <command>``.

Only boto3 and the standard library are imported here (plus
``watchbot_cfn.contract`` and the ``records`` it is made of), so the container image pays for nothing the
template side needs. Modules: ``config`` (environment), ``message`` (unwrapping,
worker environment, body files), ``job`` (one subprocess and its process
group), ``children`` (waiting and reaping as PID 1), ``queue`` (SQS calls and
fault retries), ``visibility`` (heartbeat), ``settle`` (batched deletes and
returns), ``volumes``, ``logger``, ``stats``, ``watcher`` (the loop) and ``cli``.

Reduce mode's worker side lives here too, for the same reason: ``progress``
(the progress table client), ``progresscli`` (``watchbot-progress``) and
``mapreduce`` (fan-out, part outcomes and the one reduce message).
"""
