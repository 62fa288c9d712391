"""boto3 clients for the commands that talk to AWS, and one-line errors for what goes wrong.

The standard credential chain and region settings apply (environment,
``AWS_PROFILE``, config files, instance roles); ``--endpoint-url`` or
``AWS_ENDPOINT_URL`` point every client at another endpoint, such as the one
``watchbot-cfn local`` starts. A loopback endpoint needs no real account, so
when no credentials are configured placeholder ones are used, and the region
defaults to :data:`LOCAL_REGION`, the one ``local`` deploys to.

boto3 is imported inside the functions: ``render`` never loads it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

from watchbot_cfn.aws.errors import AwsError, aws_errors, error_code, error_message

__all__ = ["LOCAL_REGION", "Aws", "AwsError", "aws_errors", "connect", "error_code", "error_message", "is_loopback"]

#: Region of stacks that ``watchbot-cfn local`` deploys when none is configured.
LOCAL_REGION = "us-east-1"
#: Tries of one call (botocore's standard retry mode) unless a caller asks for another budget.
ATTEMPTS = 5
#: Credentials sent to a loopback endpoint when none are configured (it does not check them).
PLACEHOLDER_CREDENTIALS = {"aws_access_key_id": "local", "aws_secret_access_key": "local"}
_LOOPBACK_HOSTS = {"localhost", "127.0.0.1", "::1", "[::1]"}


def is_loopback(endpoint_url: str | None) -> bool:
    """Whether the endpoint is on this machine (such as ``watchbot-cfn local``)."""
    if not endpoint_url:
        return False
    host = (urlparse(endpoint_url).hostname or "").lower()
    return host in _LOOPBACK_HOSTS or host.startswith("127.")


@dataclass
class Aws:
    """A boto3 session with the endpoint and region every client of one command shares."""

    session: Any
    region: str
    endpoint_url: str | None
    _clients: dict[str, Any] = field(default_factory=dict)

    def client(self, service: str, attempts: int = ATTEMPTS) -> Any:
        """One client per service and retry budget (``attempts=1`` for calls whose failure is itself an answer)."""
        key = service if attempts == ATTEMPTS else f"{service}/{attempts}"
        if key not in self._clients:
            from botocore.config import Config

            self._clients[key] = self.session.client(
                service, region_name=self.region, endpoint_url=self.endpoint_url,
                config=Config(retries={"mode": "standard", "max_attempts": attempts}, connect_timeout=10))
        return self._clients[key]

    def where(self) -> str:
        """Region and endpoint, for messages."""
        return f"region {self.region}" + (f" at {self.endpoint_url}" if self.endpoint_url else "")


def connect(region: str | None = None, endpoint_url: str | None = None, profile: str | None = None,
            placeholder_credentials: bool = False) -> Aws:
    """A session as AWS's own CLI would make it, for every tool of this project.

    Region: ``region`` (``--region``), else ``AWS_REGION``, else ``AWS_DEFAULT_REGION``, else the profile's
    region in the AWS config file; a loopback endpoint needs none (:data:`LOCAL_REGION`). Endpoint:
    ``endpoint_url`` (``--endpoint-url``), else ``AWS_ENDPOINT_URL``. Profile: ``profile`` (``--profile``),
    else ``AWS_PROFILE``. A loopback endpoint needs no credentials either. ``placeholder_credentials`` never
    sends the user's own credentials (for an endpoint this tool started).
    """
    import boto3
    import botocore.exceptions

    endpoint = endpoint_url or os.environ.get("AWS_ENDPOINT_URL") or None
    if endpoint and urlparse(endpoint).scheme not in ("http", "https"):
        raise AwsError(f"--endpoint-url: got {endpoint!r}; expected an http:// or https:// URL")
    wanted_region = region or os.environ.get("AWS_REGION") or None
    try:
        session = boto3.Session(profile_name=profile or None, region_name=wanted_region)
    except botocore.exceptions.ProfileNotFound as error:
        name = profile or os.environ.get("AWS_PROFILE", "")
        raise AwsError(f"--profile: no profile {name!r} in the AWS config and credentials files "
                       f"({error})") from None
    resolved = session.region_name or (LOCAL_REGION if is_loopback(endpoint) else None)
    if not resolved:
        raise AwsError("no AWS region: pass --region, or set AWS_REGION or AWS_DEFAULT_REGION, or a region in "
                       "your AWS config")
    if is_loopback(endpoint) and (placeholder_credentials or session.get_credentials() is None):
        session = boto3.Session(region_name=resolved, **PLACEHOLDER_CREDENTIALS)
    return Aws(session=session, region=resolved, endpoint_url=endpoint)
