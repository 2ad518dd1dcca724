"""Every default of `wsrelay cost`, in one place: `wsrelay.tools.cost.inputs.Inputs` takes its
field defaults from here, and the Terraform module's defaults are checked against
`TERRAFORM_SHARED` (the names of those constants are stable: a test reads them).

Plain constants only (standard library, and the traffic shared with `wsrelay simulate` from
`wsrelay.tools.traffic`), so anything can read them without loading the cost model.
docs/cost.md gives each one's source; docs/aws-facts.md the AWS facts behind them.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

# Compiler Explorer's traffic (MEAN_JOBS_PER_S, MEAN_JOBS_SOURCE, PEAK_FACTOR), shared with
# `wsrelay simulate`: `wsrelay.tools.traffic` holds them and their sources. The peak factor only
# sizes LMI environments and the doubling check; at 2.9 jobs/s every function stays at its
# default minimum of 3 environments up to a factor of about 100, so the answer does not depend on it.
from wsrelay.tools.traffic import MEAN_JOBS_PER_S as MEAN_JOBS_PER_S
from wsrelay.tools.traffic import MEAN_JOBS_SOURCE as MEAN_JOBS_SOURCE
from wsrelay.tools.traffic import PEAK_FACTOR as PEAK_FACTOR

# -- shared with the Terraform module (terraform/modules/wsrelay/variables.tf) ------------------

# LMI function size. The measured handler process is 49 MiB resident (measured.json, rss_mib):
# 16 processes (Python's default per vCPU, below) need about 0.8 GiB, which 2048 MB at 2 GiB per
# vCPU holds 2.6 times over. AWS's advice of 4 or 8 GiB per vCPU for Python is for processes
# that are heavy at init; ours are not. 4096 MB at 4 GiB per vCPU (the Terraform module's
# earlier default) buys memory the processes never use and halves the environments a c8g.large
# holds (one 4 GiB environment instead of two 2 GiB ones), so the same minimum environments need
# twice the instances. 2048 MB is also LMI's smallest function size.
LMI_MEMORY_MB = 2048
LMI_MEMORY_GIB_PER_VCPU = 2
# per_execution_environment_max_concurrency: Python processes per environment, AWS's default
# for Python (16 per vCPU; a 2048 MB environment at 2 GiB per vCPU has one vCPU).
LMI_PER_ENVIRONMENT_CONCURRENCY = 16
# MinExecutionEnvironments per function: AWS's default (the API accepts 0 and up).
LMI_MIN_ENVIRONMENTS = 3
# The smallest eligible Graviton4 compute type (LMI runs .large and up): the plan's family.
LMI_INSTANCE_TYPE = "c8g.large"
# The legacy deployment's provisioned concurrency (compiler-explorer/infra at 40ba62d7).
LEGACY_SENDMESSAGE_PROVISIONED = 5
LEGACY_OTHER_PROVISIONED = 1

# -- the cost model's own ----------------------------------------------------------------------

REGION = "us-east-1"
PROFILE: tuple[tuple[float, float], ...] = ()  # empty: the mean rising to the peak over an hour
# Assumption, not measured: results over 31 KiB travel via S3 as a ~200-byte reference.
RESULT_SIZES: tuple[tuple[int, float], ...] = ((200, 0.10), (1024, 0.40), (4096, 0.30), (16384, 0.20))
INVOCATIONS_PER_JOB = 4.0  # subscribe, publish, ack, unsubscribe (docs/protocol.md)
RESEND_FRACTION = 0.01  # assumption: 1% of results resent by the worker
CONNECTIONS = 120  # assumption: routers' and workers' connections open at once
CONNECTION_LIFETIME_S = 7200.0  # API Gateway closes every connection after 2 h
LEGACY_SENDMESSAGE_MEMORY_MB = 512
LEGACY_OTHER_MEMORY_MB = 128
INSTANCES = 0  # price at least this many LMI instances (0: as sized)
# AWS launches 3 instances by default for AZ resiliency: the baseline, one per AZ.
MIN_INSTANCES = 3
RESERVED_VCPU = 0.0  # AWS does not publish what LMI holds back on an instance
RESERVED_MEMORY_MIB = 0
HEADROOM = 0.3  # CPU and processes kept free at the peak
CPU_FACTOR = 1.0  # handler CPU on the target / on the measuring machine
IO_WAIT_MS = 25.0  # assumption: one UpdateItem and one post in-region per invocation
CPU_MS_PER_INVOCATION: float | None = None  # None: measured.json
RSS_MIB_PER_PROCESS: float | None = None  # None: measured.json
LOG_BYTES_PER_INVOCATION: float | None = None  # None: measured.json
PLATFORM_LOG_BYTES = 300  # assumption: Lambda's start/report lines per invocation
CUSTOM_METRICS = 12  # EMF metric names of the handlers, one dimension set each
SAVINGS_PLAN = 0.0
LAMBDA_SAVINGS_PLAN = 0.0
# Compiler Explorer's VPC has public subnets (public IPs on launch, a route to an internet
# gateway) and no NAT gateway. Whether LMI instances get a public IP there is not stated by AWS:
# the notes say so, and `--egress nat` prices the other way out.
EGRESS = "public"
NAT_GATEWAYS = 3  # with --egress nat: one per AZ, for AZ resiliency
EGRESS_GB_MONTH: float | None = None  # None: computed from the traffic
POST_OVERHEAD_BYTES = 1500  # assumption: SigV4 headers, HTTP and TLS around a post and its answer
DYNAMODB_GATEWAY_ENDPOINT = True  # the Terraform module can add one (free)
ITEM_OVERHEAD_BYTES = 200  # a DynamoDB item besides the result (key, sets, ttl)

# What the Terraform module must default to alike, by constant name (its variable in comments):
TERRAFORM_SHARED: Mapping[str, object] = MappingProxyType(
    {
        "LMI_MEMORY_MB": LMI_MEMORY_MB,  # functions[*].memory_mb
        "LMI_MEMORY_GIB_PER_VCPU": LMI_MEMORY_GIB_PER_VCPU,  # functions[*].memory_gib_per_vcpu
        "LMI_PER_ENVIRONMENT_CONCURRENCY": LMI_PER_ENVIRONMENT_CONCURRENCY,  # functions[*] processes
        "LMI_MIN_ENVIRONMENTS": LMI_MIN_ENVIRONMENTS,  # functions[*].min_environments
        "LMI_INSTANCE_TYPE": LMI_INSTANCE_TYPE,  # allowed_instance_types[0]
        "LEGACY_SENDMESSAGE_PROVISIONED": LEGACY_SENDMESSAGE_PROVISIONED,  # provisioned_concurrency
        "LEGACY_OTHER_PROVISIONED": LEGACY_OTHER_PROVISIONED,  # provisioned_concurrency
        "MEAN_JOBS_PER_S": MEAN_JOBS_PER_S,  # the traffic the module is sized for
        "PEAK_FACTOR": PEAK_FACTOR,
    }
)
