"""Talking to AWS for the command-line tools: one client factory, one error formatter, stacks and deploys.

boto3 is imported inside functions, so importing this package costs nothing until a command calls AWS.
"""
