"""`python -m infra [OUTDIR]`: the CloudFormation templates in `OUTDIR` (default `cdk.out`)."""

from infra.app import main

main()
