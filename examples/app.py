"""The Python API: build a system with troposphere objects and wire your own resources to it.

Render with ``watchbot-cfn render examples/app.py``; the loader reads the
module-level ``template``.
"""

from __future__ import annotations

import awacs.s3
import awacs.sns
from awacs.aws import Allow, PolicyDocument, Statement
from troposphere import Output, Parameter, Ref, Sub, Template
from troposphere.iam import ManagedPolicy
from troposphere.s3 import (
    Bucket,
    BucketEncryption,
    PublicAccessBlockConfiguration,
    ServerSideEncryptionByDefault,
    ServerSideEncryptionRule,
    VersioningConfiguration,
)

import watchbot_cfn


def build() -> Template:
    results = Bucket(
        "Results",
        VersioningConfiguration=VersioningConfiguration(Status="Enabled"),
        PublicAccessBlockConfiguration=PublicAccessBlockConfiguration(
            BlockPublicAcls=True, BlockPublicPolicy=True, IgnorePublicAcls=True, RestrictPublicBuckets=True),
        BucketEncryption=BucketEncryption(ServerSideEncryptionConfiguration=[
            ServerSideEncryptionRule(ServerSideEncryptionByDefault=ServerSideEncryptionByDefault(
                SSEAlgorithm="AES256"))]),
        # Access logs need a bucket of their own; the security scanner is told why there is none here.
        Metadata={"checkov": {"skip": [{"id": "CKV_AWS_18", "comment": "Access logging needs a log bucket of "
                                        "its own; left out to keep the example about the worker"}]}},
    )
    system = watchbot_cfn.template(
        prefix="Render",
        cluster="processing",
        service="renderer",
        service_version=Ref("GitSha"),
        command="render-frame",
        notification_email="ops@example.com",
        max_size=12,
        env={"RESULTS_BUCKET": Ref(results)},
        permissions=[
            Statement(Effect=Allow, Action=[awacs.s3.PutObject],
                      Resource=[Sub(f"${{{results.title}.Arn}}/*")]),
        ],
    )
    system.add_parameter(Parameter("GitSha", Type="String", Description="Image tag to deploy (the git sha)"))
    system.add_resource(results)
    # ``.ref`` gives intrinsics for the system's resources, e.g. the topic producers publish to.
    producers = system.add_resource(ManagedPolicy(
        "RenderProducers",
        Description="Attach to roles that submit frames to render",
        PolicyDocument=PolicyDocument(Version="2012-10-17", Statement=[
            Statement(Effect=Allow, Action=[awacs.sns.Publish], Resource=[system.ref.topic]),
        ]),
    ))
    system.add_output(Output("RenderProducersPolicy", Description="Managed policy for producers",
                             Value=Ref(producers)))
    system.add_output(Output("RenderResultsBucket", Description="Where rendered frames go",
                             Value=Ref(results)))
    return system


template = build()
