"""The AWS deployment as code (AWS CDK, Python): `infra.app.build_app()` and `WhatsAppStack`.

The CDK runs its constructs in Node.js through jsii; the machine's Node.js 20 works, and jsii's
notice that it is past its end of life would be printed on every run, so it is silenced here.
"""

import os

os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")

from infra.app import build_app
from infra.config import StackConfig
from infra.stack import WhatsAppStack

__all__ = ["StackConfig", "WhatsAppStack", "build_app"]
