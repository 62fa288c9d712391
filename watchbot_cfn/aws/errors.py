"""One way to tell what went wrong in an AWS call: botocore's exceptions as one line that says what was being
done, and the error code and message of a ``ClientError`` without parsing its response by hand."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

from watchbot_cfn.errors import WatchbotError

__all__ = ["AwsError", "aws_errors", "client_error_line", "error_code", "error_message"]


class AwsError(WatchbotError):
    """An AWS call failed in a way the user can act on; the message is one line."""


def error_code(error: BaseException) -> str:
    response = getattr(error, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))


def error_message(error: BaseException, default: str | None = None) -> str:
    """The error's message on one line; ``default`` (else the exception's text) when the answer has none."""
    response = getattr(error, "response", None) or {}
    message = response.get("Error", {}).get("Message") or (str(error) if default is None else default)
    return " ".join(str(message).split())


@contextmanager
def aws_errors(action: str, where: str = "") -> Iterator[None]:
    """Turn botocore's exceptions into one :class:`AwsError` line that says what was being done."""
    import botocore.exceptions as be
    from botocore.parsers import ResponseParserError

    suffix = f" ({where})" if where else ""
    try:
        yield
    except ResponseParserError as error:  # an HTML error page instead of an AWS answer (e.g. HTTP 500)
        status = re.search(r"<title>([^<]+)</title>", str(error))
        raise AwsError(f"{action}: the endpoint failed with {status.group(1) if status else 'an unreadable answer'}"
                       f"{suffix}") from None
    except be.NoCredentialsError:
        raise AwsError(f"{action}: no AWS credentials found (configure them with `aws configure`, AWS_PROFILE "
                       f"or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY){suffix}") from None
    except be.EndpointConnectionError as error:
        raise AwsError(f"{action}: cannot reach {error.kwargs.get('endpoint_url', 'the endpoint')}{suffix}; "
                       "is it running?") from None
    except (be.ConnectionClosedError, be.ReadTimeoutError, be.ConnectTimeoutError) as error:
        raise AwsError(f"{action}: connection failed: {error}{suffix}") from None
    except be.ClientError as error:
        raise AwsError(f"{action}: {error_code(error)}: {error_message(error)}{suffix}") from None
    except be.ParamValidationError as error:
        raise AwsError(f"{action}: {' '.join(str(error).split())}") from None
    except be.BotoCoreError as error:
        raise AwsError(f"{action}: {error}{suffix}") from None


def client_error_line(error: BaseException) -> str:
    """``Operation: Code: message`` for a ``ClientError``, as the tools print it."""
    operation = getattr(error, "operation_name", None) or "AWS"
    return f"{operation}: {error_code(error) or 'error'}: {error_message(error)}"
