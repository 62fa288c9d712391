"""Scenarios small enough to work out by hand; they pin down the simulator's model of AWS.

Timing conventions the expectations rest on (docs/scaling.md, "The simulator"):
minute m covers seconds [60m, 60m + 60); its SQS datapoint is the queue at the
end of the minute, sampled before that boundary's scaling; an alarm evaluated at
the end of minute m + 1 sees datapoints up to minute m; scaling happens at minute
boundaries; n messages of a minute arrive at 60m + 60 i / n.
"""

from __future__ import annotations

from watchbot_cfn.simulate import Settings, parse_trace, read_setup, simulate
from watchbot_cfn.simulate.policies import Activity

from .builders import alarm, queue_metric, step_policy, target_tracking, template


def activities(result) -> list[tuple[float, int, int]]:
    return [(a.second, a.before, a.after) for a in result.activities]


def test_one_alarm_one_step_policy_and_its_cooldown():
    """visible > 0 adds 2 tasks, cooldown 300 s, at most 10 tasks; 100 one-minute jobs arrive in minute 0.

    By hand: the minute-0 datapoint (100 visible) is seen at 120 s: 0 -> 2. The
    alarm stays in ALARM and invokes the policy every minute, but the cooldown
    holds it to +2 per 300 s: 420 s (4), 720 s (6), 1020 s (8), 1320 s (10;
    the minute-20 datapoint still shows 8 visible). Tasks run jobs 60 s after
    launch, so the 2, 2, 2, 2 tasks ready at 180, 480, 780, 1080 s finish
    20 + 15 + 10 + 5 jobs per task pair by 1380 s = all 100: drained in minute 23.
    Starts are FIFO: messages 92..99 (arrived at 0.6 i s) start at 1320 s, so the
    6th-longest wait, the nearest-rank p95 of 100, is 1320 - 0.6 x 97 = 1261.8 s.
    No scale-in policy: the run stops at its tail (30 minutes after minute 0), with
    2 x (1740 + 1440 + 1140 + 840 + 540) s = 190 task-minutes.
    """
    body = template(0, 10, {
        "Out": step_policy("ChangeInCapacity", [{"MetricIntervalLowerBound": 0, "ScalingAdjustment": 2}],
                           cooldown=300),
        "OutAlarm": alarm("Out", "GreaterThanThreshold", 0),
    })
    result = simulate(read_setup(body), parse_trace("0,100"),
                      Settings(job_seconds=60, start_seconds=60, tail_minutes=30))

    assert activities(result) == [(120, 0, 2), (420, 2, 4), (720, 4, 6), (1020, 6, 8), (1320, 8, 10)]
    assert result.figures() == {"max_tasks": 10, "p95_wait_seconds": 1261.8, "task_minutes": 190.0,
                                "interrupted_jobs": 0, "drained_minute": 23}


def _visible_only_scale_in(**template_options) -> dict:
    """Out: visible > 0 sets 2 tasks (cooldown 60 s). In: visible <= 0 removes one (cooldown 120 s).

    The scale-in counts visible messages only, as CDK's pattern does.
    """
    return template(0, 2, {
        "Out": step_policy("ExactCapacity", [{"MetricIntervalLowerBound": 0, "ScalingAdjustment": 2}], cooldown=60),
        "OutAlarm": alarm("Out", "GreaterThanThreshold", 0),
        "In": step_policy("ChangeInCapacity", [{"MetricIntervalUpperBound": 0, "ScalingAdjustment": -1}],
                          cooldown=120),
        "InAlarm": alarm("In", "LessThanOrEqualToThreshold", 0),
    }, visibility_timeout=30, **template_options)


TWO_LONG_JOBS = "minute,messages,job_seconds\n0,2,600\n"


def test_scale_in_on_visible_messages_stops_a_busy_task_and_its_message_returns():
    """Two 10-minute jobs (arriving at 0 and 30 s); tasks start at once; no protection, no watcher.

    By hand: 120 s: 0 -> 2, both jobs start (until 720 s). The minute-2 datapoint
    (sampled at 180 s) shows nothing visible, so at 240 s the scale-in removes
    one task: ECS stops the newest, which is running message 1 -> interrupted;
    its message reappears after the queue's 30 s visibility timeout (270 s).
    300 s: scale-in blocked by its cooldown. 360 s: the minute-4 datapoint
    (300 s) shows 1 visible -> back to 2 tasks, which ends the scale-in
    cooldown; the new task takes message 1. 480 s: the minute-6 datapoint
    (420 s) shows 0 visible -> 2 -> 1, the newest task is stopped mid-job
    again. The run is cut at 540 s (tail of 8 minutes): 2 interrupted jobs.
    """
    result = simulate(read_setup(_visible_only_scale_in()), parse_trace(TWO_LONG_JOBS),
                      Settings(start_seconds=0, tail_minutes=8))

    assert activities(result) == [(120, 0, 2), (240, 2, 1), (360, 1, 2), (480, 2, 1)]
    assert result.interrupted_jobs == 2
    assert result.drained_minute is None
    assert result.completed == 0


def test_with_task_protection_the_same_scale_in_waits_for_the_jobs():
    """Same template, tasks protected while they run a job (the role may call ecs:UpdateTaskProtection).

    By hand: 240 s: 2 -> 1, but both tasks are busy and protected: none stops.
    300 s: blocked by the cooldown; 360 s: the minute-4 datapoint (300 s) shows
    nothing visible -> 1 -> 0. Both jobs end at 720 s; each task, idle with
    nothing to take, stops then. Drained in minute 12; 2 x 600 s = 20
    task-minutes; waits 120 s and 90 s, so p95 = 120 s.
    """
    body = _visible_only_scale_in(role_actions=["ecs:UpdateTaskProtection"])
    setup = read_setup(body)
    result = simulate(setup, parse_trace(TWO_LONG_JOBS), Settings(start_seconds=0, tail_minutes=60))

    assert setup.protection is True
    assert activities(result) == [(120, 0, 2), (240, 2, 1), (360, 1, 0)]
    assert result.figures() == {"max_tasks": 2, "p95_wait_seconds": 120.0, "task_minutes": 20.0,
                                "interrupted_jobs": 0, "drained_minute": 12}
    assert result.minutes == 13  # minutes 0..12; minute 12 (ending at 780 s) shows it drained and settled


def test_a_watcher_drains_before_it_returns_the_message():
    """The same scale-in on a Watchbot container: jobs get drainTimeout (25 s), then return at once.

    By hand: the task stopped at 240 s has 480 s of its job left (> 25 s), so the
    job is interrupted at 265 s and its message is visible at once; the
    remaining task is busy until 720 s, so the minute-4 datapoint (300 s) shows
    1 visible and 360 s brings a second task again.
    """
    body = _visible_only_scale_in(command=["watchbot", "listen", "./work.sh"], environment={"drainTimeout": "25"})
    setup = read_setup(body)
    result = simulate(setup, parse_trace(TWO_LONG_JOBS), Settings(start_seconds=0, tail_minutes=6))

    assert (setup.watcher, setup.drain_seconds) == (True, 25.0)
    assert activities(result)[:3] == [(120, 0, 2), (240, 2, 1), (360, 1, 2)]
    assert result.visible[4] == 1  # minute 4 ends at 300 s: the message came back at 265 s
    assert result.in_flight[4] == 1


def test_a_short_job_finishes_inside_the_drain_and_is_not_interrupted():
    """Jobs of 150 s started at 120 s have 30 s left at 240 s; a 40 s drain lets them finish."""
    body = _visible_only_scale_in(command=["watchbot", "listen", "x"], environment={"drainTimeout": "40"})
    result = simulate(read_setup(body), parse_trace("minute,messages,job_seconds\n0,2,150\n"),
                      Settings(start_seconds=0, tail_minutes=30))

    assert result.interrupted_jobs == 0
    assert result.drained_minute == 5  # both finish at 270 s


def test_target_tracking_scales_out_on_three_breaching_minutes_and_in_after_fifteen():
    """CPU target tracking at 50 %, 1 to 10 tasks; one 60-s job arrives at the start of minutes 0..9.

    By hand: one task is 100 % busy; the high alarm needs datapoints of minutes
    0, 1, 2 (seen at 240 s): ceil(1 x 100 / 50) = 2. The new task runs from
    300 s; two tasks share one job a minute: 50 %, not above the target, and
    not below 45 % either. From minute 10 nothing runs (0 %); the low alarm
    needs minutes 10..24, seen at 1560 s: ceil(2 x 0 / 50) = 0, kept at
    MinCapacity 1. The run ends with minute 26, the first that shows the
    service settled (1620 s). Task-minutes: 27 + 22 = 49.
    """
    body = template(1, 10, {"Cpu": target_tracking(50)})
    trace = parse_trace("\n".join(f"{minute},1" for minute in range(10)))
    result = simulate(read_setup(body), trace, Settings(job_seconds=60, start_seconds=60))

    assert activities(result) == [(240, 1, 2), (1560, 2, 1)]
    assert result.figures() == {"max_tasks": 2, "p95_wait_seconds": 0.0, "task_minutes": 49.0,
                                "interrupted_jobs": 0, "drained_minute": 10}


def test_a_larger_step_during_the_cooldown_adds_only_the_difference():
    """Steps on visible: >= 1 adds 1, >= 50 adds 4; cooldown 600 s. 10 messages, then 100 more.

    By hand: 120 s sees 10 visible: 0 -> 1. 180 s sees minute 1 (100 more arrived,
    110 visible): the +4 step from the capacity before the cooldown began (0)
    is 4 > 1, so 1 -> 4, not 1 -> 5; the cooldown restarts (until 780 s) from
    the same base. 240..720 s: 0 + 4 = 4 adds nothing. 780 s sees minute 11
    (720 s): 9 + 3 x 8 jobs done, 4 running, 73 visible: 4 -> 8.
    """
    body = template(0, 10, {
        "Out": step_policy("ChangeInCapacity", [
            {"MetricIntervalLowerBound": 0, "MetricIntervalUpperBound": 49, "ScalingAdjustment": 1},
            {"MetricIntervalLowerBound": 49, "ScalingAdjustment": 4}], cooldown=600),
        "OutAlarm": alarm("Out", "GreaterThanOrEqualToThreshold", 1),
    })
    result = simulate(read_setup(body), parse_trace("0,10\n1,100\n"), Settings(tail_minutes=13))

    assert activities(result) == [(120, 0, 1), (180, 1, 4), (780, 4, 8)]


def test_metric_math_scale_in_waits_for_ten_idle_minutes():
    """visible + in flight < 1 for 10 of 10 minutes sets 0 tasks (this project's idle scale-in).

    By hand: a message in minute 0 brings one task at 120 s through the out
    alarm; it runs the 60 s job from 180 s to 240 s (a job that ends exactly at
    a boundary still counts in flight in that minute's sample). Minutes 4..13
    are idle; the alarm sees minute 13 at 900 s and sets 0: the task ran
    from 120 s to 900 s, 13 task-minutes.
    """
    idle = [{"Id": "v", "MetricStat": {"Metric": {"Namespace": "AWS/SQS",
                                                  "MetricName": "ApproximateNumberOfMessagesVisible"},
                                       "Period": 60, "Stat": "Maximum"}, "ReturnData": False},
            {"Id": "f", "MetricStat": {"Metric": {"Namespace": "AWS/SQS",
                                                  "MetricName": "ApproximateNumberOfMessagesNotVisible"},
                                       "Period": 60, "Stat": "Maximum"}, "ReturnData": False},
            {"Id": "idle", "Expression": "v + f", "ReturnData": True}]
    body = template(0, 5, {
        "Out": step_policy("ChangeInCapacity", [{"MetricIntervalLowerBound": 0, "ScalingAdjustment": 1}]),
        "OutAlarm": alarm("Out", "GreaterThanThreshold", 0),
        "In": step_policy("ExactCapacity", [{"MetricIntervalUpperBound": 0, "ScalingAdjustment": 0}]),
        "InAlarm": alarm("In", "LessThanThreshold", 1, evaluation=10, datapoints=10, metrics=idle,
                         treat_missing="notBreaching"),
    })
    result = simulate(read_setup(body), parse_trace("0,1"), Settings())

    assert activities(result) == [(120, 0, 1), (900, 1, 0)]
    assert result.task_minutes == 13.0
    assert result.drained_minute == 4


def test_activity_records_are_plain_values():
    assert Activity(60.0, "p", 0, 1) == Activity(60.0, "p", 0, 1)


def test_sample_count_of_service_cpu_counts_running_tasks():
    """Without Container Insights, SampleCount of AWS/ECS CPUUtilization counts the tasks that report.

    2 tasks from the start (MinCapacity 2), tasks start at once, 100 ten-minute
    jobs in minute 0; the alarm fires while visible - 40 x tasks > 0 and adds
    one task (cooldown 60 s). By hand: 120 s sees minute 0 (98 visible, 2 tasks
    report): 2 -> 3. 180 s sees minute 1 (98 visible, still 2 tasks): 3 -> 4.
    240 s sees minute 2 (97 visible, 3 tasks): 97 - 120 < 0, and from then on
    every minute has at least 3 reporting tasks.
    """
    ecs_cpu = {"Namespace": "AWS/ECS", "MetricName": "CPUUtilization",
               "Dimensions": [{"Name": "ClusterName", "Value": "c"}, {"Name": "ServiceName", "Value": "s"}]}
    metrics = [{"Id": "visible", "MetricStat": {"Metric": queue_metric(), "Period": 60, "Stat": "Maximum"},
                "ReturnData": False},
               {"Id": "tasks", "MetricStat": {"Metric": ecs_cpu, "Period": 60, "Stat": "SampleCount"},
                "ReturnData": False},
               {"Id": "excess", "Expression": "visible - 40 * FILL(tasks, 0)", "ReturnData": True}]
    body = template(2, 5, {
        "Out": step_policy("ChangeInCapacity", [{"MetricIntervalLowerBound": 0, "ScalingAdjustment": 1}], cooldown=60),
        "OutAlarm": alarm("Out", "GreaterThanThreshold", 0, metrics=metrics),
    })
    result = simulate(read_setup(body), parse_trace("minute,messages,job_seconds\n0,100,600\n"),
                      Settings(start_seconds=0, tail_minutes=5))

    assert activities(result) == [(120, 2, 3), (180, 3, 4)]
