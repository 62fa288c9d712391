# The watcher in an image without Python (Debian, Ubuntu, Amazon Linux, a Go, Node or GDAL
# image): the builder stage freezes it into one executable, and the worker image gets that
# file alone. This executable needs a glibc at least as new as the builder's (2.36 for the
# Debian 12 builder below); for Alpine or an older glibc build it with --static
# (alpine.Dockerfile).
#
#   docker build -f examples/docker/any-image.Dockerfile -t my-worker .   (in the repository root)

FROM python:3.12-slim-bookworm AS watcher
RUN apt-get update && apt-get install -y --no-install-recommends binutils && rm -rf /var/lib/apt/lists/*
COPY pyproject.toml README.md /src/
COPY watchbot_cfn /src/watchbot_cfn
RUN pip install --no-cache-dir '/src[bundle]' && watchbot-cfn build-watcher --output /usr/local/bin/watchbot

FROM debian:bookworm-slim
COPY --from=watcher /usr/local/bin/watchbot /usr/local/bin/watchbot
# Your worker goes here; the watcher runs this command once per message.
CMD ["watchbot", "listen", "echo \"received $Message\""]
