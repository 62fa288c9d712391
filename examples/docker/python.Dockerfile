# The watcher in an image that has Python 3.9 or later (here Amazon Linux 2023 and its
# Python 3.9), without the template side: watchbot-cfn-runtime needs boto3 and nothing else.
# Stage one builds its wheel from this repository, stage two installs it into a virtual
# environment, and the worker image gets that environment: no pip, no build cache, and the
# image's own python3 stays as it was for your worker.
#
#   docker build -f examples/docker/python.Dockerfile -t my-worker .   (in the repository root)

FROM python:3.12-slim AS wheel
COPY watchbot_cfn /src/watchbot_cfn
COPY runtime-package /src/runtime-package
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels /src/runtime-package

FROM amazonlinux:2023 AS environment
RUN dnf install -y python3-pip && dnf clean all
COPY --from=wheel /wheels /wheels
RUN python3 -m venv /opt/watchbot && /opt/watchbot/bin/pip install --no-cache-dir /wheels/*.whl

FROM amazonlinux:2023
COPY --from=environment /opt/watchbot /opt/watchbot
# Your worker goes here; the watcher runs this command once per message.
CMD ["/opt/watchbot/bin/watchbot", "listen", "echo \"received $Message\""]
