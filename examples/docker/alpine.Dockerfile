# The watcher in a musl image (Alpine), or any Linux image whatever its C library: --static
# adds the C library and loader to the executable (staticx), so it needs nothing from the image
# but /tmp to unpack into and /bin/sh to run your command.
#
#   docker build -f examples/docker/alpine.Dockerfile -t my-worker .   (in the repository root)

FROM python:3.12-slim-bookworm AS watcher
RUN apt-get update && apt-get install -y --no-install-recommends binutils && rm -rf /var/lib/apt/lists/*
COPY pyproject.toml README.md /src/
COPY watchbot_cfn /src/watchbot_cfn
RUN pip install --no-cache-dir '/src[bundle]' && watchbot-cfn build-watcher --static --output /usr/local/bin/watchbot

FROM alpine:3.20
COPY --from=watcher /usr/local/bin/watchbot /usr/local/bin/watchbot
# Your worker goes here; the watcher runs this command once per message.
CMD ["watchbot", "listen", "echo \"received $Message\""]
